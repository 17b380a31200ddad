"""Benchmark of `report build` against plain MkDocs and mkdocs-bibtex (see bench/run.py)."""
