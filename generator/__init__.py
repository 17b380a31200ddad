"""report-generator: cited, versioned evidence reports from BibTeX and structured content."""

from __future__ import annotations

__version__ = "0.1.0"
