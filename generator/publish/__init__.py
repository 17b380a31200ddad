"""Publishing: the whole site sequence into a typed `SiteOutput` (pages, files, feed, PDFs)."""
