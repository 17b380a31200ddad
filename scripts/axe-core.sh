#!/usr/bin/env bash
# axe-core (Deque's accessibility rules engine) from the npm registry, kept in .cache/tools: the browser tests
# (tests/test_accessibility.py) inject its axe.min.js into every kind of page and fail on serious violations.
# Usage: scripts/axe-core.sh   install it if it is not there yet (scripts/test.sh does this)
set -euo pipefail
cd "$(dirname "$0")/.."
package="axe-core@4.11.4"
tools=.cache/tools/axe  # its own prefix: an npm install --no-save prunes what another one put in the same folder
script="$tools/node_modules/axe-core/axe.min.js"
installed=$(node -p "require('./$tools/node_modules/axe-core/package.json').version" 2>/dev/null || true)
if [[ ! -f "$script" || "axe-core@$installed" != "$package" ]]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "report-generator: the accessibility tests need axe-core, installed with npm (Node.js)" >&2
    exit 1
  fi
  echo "report-generator: installing $package into $tools" >&2
  npm install --silent --no-save --no-audit --no-fund --prefix "$tools" "$package" >/dev/null
fi
