#!/usr/bin/env bash
# Install report-generator and build the example site (HTML + PDF) into site/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
python3 -m pip install -q -e .
NO_MKDOCS_2_WARNING=1 report build
echo "Open site/index.html, or run: report serve"
