#!/usr/bin/env bash
# The gettext catalogues of every label report-generator prints (generator/locales/), with Babel's `pybabel`.
# Usage: scripts/i18n.sh extract        strings from generator/**.py and the templates → generator/locales/report.pot
#        scripts/i18n.sh update         extract, then merge the template into every language's report.po
#        scripts/i18n.sh init LANG      start a catalogue for a new language (a BCP 47 tag such as pt-BR)
#        scripts/i18n.sh compile        report.po → report.mo for every language (packaging does this for wheels)
set -euo pipefail
cd "$(dirname "$0")/.."
locales=generator/locales
extract() {
  pybabel -q extract -F babel.cfg -k N_ --no-location --sort-output --width 120 --omit-header \
    --project report-generator -o "$locales/report.pot" . >/dev/null
}
case "${1:-}" in
  extract) extract ;;
  update) extract; pybabel update -D report -i "$locales/report.pot" -d "$locales" --no-location --width 120 \
            --ignore-obsolete --no-fuzzy-matching ;;
  init) [[ -n "${2:-}" ]] || { echo "usage: scripts/i18n.sh init LANG" >&2; exit 2; }
        extract; pybabel init -D report -i "$locales/report.pot" -d "$locales" -l "${2//-/_}" --no-wrap ;;
  compile) pybabel compile -D report -d "$locales" --statistics ;;
  *) sed -n '2,7p' "$0" >&2; exit 2 ;;
esac
