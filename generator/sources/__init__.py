"""Sources: .bib files to `Source` objects (bibtexparser v2, macros, a diagnostic scanner, the parsed-file
cache) and their formatting with a CSL style (Pandoc's citeproc)."""
