"""report-generator (distributed as `evidence-desk`): cited, versioned evidence reports from BibTeX and structured
content."""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"  # the package version (pyproject.toml reads it from here)
PACKAGE_DIR = Path(__file__).parent  # templates/, assets/ and theme/ live here, whichever module reads them
