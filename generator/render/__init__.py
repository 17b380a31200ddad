"""Rendering: a report to finished HTML (Jinja2 + Python-Markdown) and the cache of rendered reports."""
