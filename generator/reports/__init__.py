"""Reports: report.yml and section files to `Report` (pydantic schema, YAML line map, the report's shape)."""
