#!/usr/bin/env bash
# Debian packages report-generator needs beyond Python: fonts for the PDF (Cyrillic and other scripts),
# and, for the test suite, Chromium (browser tests) and poppler-utils (PDF inspection).
# Usage: scripts/system-deps.sh [--test]
set -euo pipefail
packages=(fontconfig fonts-noto-core fonts-dejavu-core)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(chromium poppler-utils git)
fi
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "report-generator: please install: ${missing[*]} (no apt-get on this machine)" >&2
  exit 0
fi
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "report-generator: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
