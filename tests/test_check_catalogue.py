"""`report check` on the catalogue of bad input (SPEC §8): each case prints exactly its `file:line` problem and
exits 1; the text, JSON and GitHub formats; `--strict`; the same checks in `report build` and the MkDocs plugin."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest

from generator.cli import main

from .conftest import MINIMAL_BIB, MINIMAL_REPORT, REPO

ZETA = "@online{zeta2025,\n  title = {Zeta},\n  url = {https://example.org/z},\n  date = {2025},\n  kind = {news},\n}\n"
GAMMA = MINIMAL_BIB[MINIMAL_BIB.index("@online{gamma2025"):]
YML = "content/example/report.yml"
EVIDENCE = "content/example/evidence.md"
EVIDENCE_TEXT = "The study [@beta2024, p. 12] and the agency [@alpha2025; @gamma2025].\n"
FIRST_REVISION = '  - {version: 1, date: 2026-01-27, kind: update, note: "First published."}'


def bib(old: str, new: str) -> dict[str, str | None]:
    assert old in MINIMAL_BIB
    return {"bib/sources.bib": MINIMAL_BIB.replace(old, new)}


def report(*pairs: tuple[str, str]) -> dict[str, str | None]:
    text = MINIMAL_REPORT
    for old, new in pairs:
        assert old in text
        text = text.replace(old, new)
    return {YML: text}


def evidence(old: str, new: str) -> dict[str, str | None]:
    return {EVIDENCE: EVIDENCE_TEXT.replace(old, new)}


class Case(NamedTuple):
    files: dict[str, str | None]
    expected: str  # every line `report check` prints on stdout
    exit_code: int = 1
    argv: tuple[str, ...] = ()


CATALOGUE: dict[str, Case] = {
    # -- malformed BibTeX -------------------------------------------------------------------------
    "bib-unclosed-brace": Case({"bib/extra.bib": ZETA.replace("{Zeta}", "{Zeta")}, """\
bib/extra.bib:2: error: malformed BibTeX: unclosed `{` in field `title` of `zeta2025`
  hint: add the missing `}`: the value runs on into the fields after it"""),
    "bib-unclosed-brace-at-end-of-file": Case({"bib/extra.bib": "@online{zeta2025,\n  title = {Zeta,\n"}, """\
bib/extra.bib:2: error: malformed BibTeX: unclosed `{` in field `title` of `zeta2025`
  hint: add the missing `}`: every `{` in a value needs a matching `}`"""),
    "bib-missing-comma-between-fields": Case({"bib/extra.bib": ZETA.replace("{Zeta},", "{Zeta}")}, """\
bib/extra.bib:2: error: malformed BibTeX: missing comma after field `title` of `zeta2025`
  hint: separate fields with commas: `title = {...},`"""),
    "bib-missing-comma-after-key": Case({"bib/extra.bib": ZETA.replace("zeta2025,", "zeta2025")}, """\
bib/extra.bib:1: error: malformed BibTeX: missing comma after the key `zeta2025`
  hint: write `@online{zeta2025, title = {...}, ...}`"""),
    "bib-entry-without-key": Case({"bib/extra.bib": ZETA.replace("zeta2025,", "")}, """\
bib/extra.bib:2: error: malformed BibTeX: `@online` entry has no key
  hint: start the entry with a unique key: `@online{smith2025, title = ...}`"""),
    "bib-entry-not-closed": Case({"bib/extra.bib": ZETA.removesuffix("}\n") + "\n" + GAMMA.replace("gamma2025", "eta")}, """\
bib/extra.bib:1: error: malformed BibTeX: entry `zeta2025` is not closed
  hint: add `}` after its last field
bib/extra.bib:7: warning: source `eta` is not cited by any report
  hint: cite it or remove it from the bibliography"""),
    "bib-bad-string-without-equals": Case(bib("@string{agency = {Example Agency}}", "@string{agency {Example Agency}}"), """\
bib/sources.bib:1: error: malformed BibTeX: `@string{agency ...}` has no `=` between name and value
  hint: write `@string{agency = {value}}`"""),
    "bib-bad-string-without-name": Case(bib("@string{agency = {Example Agency}}", "@string{= {Example Agency}}"), """\
bib/sources.bib:1: error: malformed BibTeX: `@string` has no name
  hint: write `@string{name = {value}}`
bib/sources.bib:3: error: `alpha2025`: field `organization` uses undefined @string macro `agency`
  hint: define it with `@string{name = {value}}` above the entry, or put the value in braces"""),
    "bib-undefined-string-macro": Case(bib("organization = agency #", "organization = agencyy #"), """\
bib/sources.bib:3: error: `alpha2025`: field `organization` uses undefined @string macro `agencyy`
  hint: define it with `@string{name = {value}}` above the entry, or put the value in braces"""),
    "bib-field-twice": Case(bib("  kind = {news},\n", "  kind = {news},\n  title = {Again},\n"), """\
bib/sources.bib:10: error: malformed BibTeX: `alpha2025` has the field `title` twice (first on line 4)
  hint: keep one of them"""),
    "bib-citation-of-broken-entry": Case(bib("@online{gamma2025,\n  title = {Гамма: первая фаза},",
                                             "@online{gamma2025,\n  title = {Гамма: первая фаза"), """\
bib/sources.bib:26: error: malformed BibTeX: unclosed `{` in field `title` of `gamma2025`
  hint: add the missing `}`: the value runs on into the fields after it
content/example/evidence.md:1: error: unknown citation key `gamma2025`
  hint: the entry `gamma2025` (bib/sources.bib:25) could not be read: fix the BibTeX error reported there
content/example/report.yml:18: error: unknown source key `gamma2025`
  hint: the entry `gamma2025` (bib/sources.bib:25) could not be read: fix the BibTeX error reported there
content/example/summary.md:1: error: unknown citation key `gamma2025`
  hint: the entry `gamma2025` (bib/sources.bib:25) could not be read: fix the BibTeX error reported there"""),
    # -- duplicate keys ----------------------------------------------------------------------------
    "bib-duplicate-key-in-file": Case({"bib/sources.bib": MINIMAL_BIB + "\n" + GAMMA}, """\
bib/sources.bib:35: error: duplicate key `gamma2025` (first defined on line 25)
  hint: give each entry its own key; if both are the same source, delete one"""),
    "bib-duplicate-key-across-files": Case({"bib/extra.bib": GAMMA}, """\
bib/sources.bib:25: error: duplicate key `gamma2025` (already defined in extra.bib, line 1)
  hint: keys must be unique across all files in bib/"""),
    "bib-keys-differ-by-case": Case({"bib/extra.bib": ZETA.replace("zeta2025", "Alpha2025")}, """\
bib/extra.bib:1: warning: source `Alpha2025` is not cited by any report
  hint: cite it or remove it from the bibliography
bib/sources.bib:3: warning: key `alpha2025` differs from `Alpha2025` (bib/extra.bib:1) only by case
  hint: BibTeX treats them as one key: rename one""", exit_code=0),
    # -- required fields, kinds, dates, URLs ---------------------------------------------------------
    "bib-missing-title": Case(bib("  title = {Гамма: первая фаза},\n", ""), """\
bib/sources.bib:25: error: `gamma2025` has no title
  hint: add `title = {...}`"""),
    "bib-missing-url-and-doi": Case(bib("  url = {https://example.org/gamma},\n", ""), """\
bib/sources.bib:25: error: `gamma2025` has neither url nor doi
  hint: add `url = {https://...}` or `doi = {10....}` so readers can find it"""),
    "bib-missing-date": Case(bib("  date = {2024-03-05},\n", ""), """\
bib/sources.bib:12: error: `beta2024` has no date or year
  hint: add `date = {YYYY-MM-DD}` or `year = {YYYY}`"""),
    "bib-impossible-date": Case(bib("date = {2025-12-25}", "date = {2025-02-30}"), """\
bib/sources.bib:28: error: `gamma2025`: date `2025-02-30` is not a valid date (day is out of range for month)
  hint: write dates as YYYY-MM-DD, YYYY-MM or YYYY"""),
    "bib-unknown-kind": Case(bib("kind = {state-media}", "kind = {state-medai}"), """\
bib/sources.bib:32: error: `gamma2025`: unknown source kind `state-medai`
  hint: did you mean `state-media`?"""),
    "bib-javascript-url": Case(bib("url = {https://example.org/gamma}", "url = {javascript:alert(1)}"), """\
bib/sources.bib:29: error: `gamma2025`: url must start with http:// or https://, not `javascript:alert(1)`
  hint: only web links are allowed in references"""),
    "bib-url-with-quote": Case(bib("url = {https://example.org/gamma}", 'url = {https://example.org/"onmouseover=x}'), """\
bib/sources.bib:29: error: `gamma2025`: url contains a space or a character that is not allowed in a URL
  hint: percent-encode it (a space is `%20`)"""),
    "bib-not-a-doi": Case(bib("doi = {10.1234/example.5678}", "doi = {example.5678}"), """\
bib/sources.bib:20: error: `beta2024`: doi `example.5678` is not a DOI
  hint: a DOI looks like `10.1234/abcd`; put web addresses in `url`"""),
    "bib-author-list-with-commas": Case(bib("Smith, Jane and M", "Smith, Jane, M"), """\
bib/sources.bib:13: error: `beta2024`: cannot read the author list (too many commas)
  hint: separate people with ` and `, write each as `Last, First`, and put an organisation in braces: \
`{World Health Organization}`"""),
    # -- citations ---------------------------------------------------------------------------------
    "unknown-citation-key": Case(evidence("@gamma2025]", "@gama2025]"), """\
content/example/evidence.md:1: error: unknown citation key `gama2025`
  hint: did you mean `gamma2025`?"""),
    "unknown-citation-key-case": Case(evidence("@gamma2025]", "@Gamma2025]"), """\
content/example/evidence.md:1: error: unknown citation key `Gamma2025`
  hint: keys are case-sensitive: did you mean `gamma2025`?"""),
    "unknown-source-key-in-report-yml": Case(report(("sources: [alpha2025, gamma2025]",
                                                     "sources: [alpha2025, gamma2025, bet2024]")), """\
content/example/report.yml:18: error: unknown source key `bet2024`
  hint: did you mean `beta2024`?"""),
    "source-key-written-with-at": Case(report(("sources: [alpha2025, gamma2025]", 'sources: [alpha2025, "@gamma2025"]')), """\
content/example/report.yml:18: error: unknown source key `@gamma2025`
  hint: write the key without `@`: `gamma2025`"""),
    "handle-is-not-a-source": Case(evidence("The study", "As @WHO_Europe posted, the study"), """\
content/example/evidence.md:1: error: `@WHO_Europe` is not a source key
  hint: to write a handle or an address, escape it: `\\@WHO_Europe`"""),
    "citation-keys-without-semicolon": Case(evidence("@alpha2025; @gamma2025", "@alpha2025 @gamma2025"), """\
content/example/evidence.md:1: error: malformed citation `[@alpha2025 @gamma2025]`: separate several keys with `;`
  hint: write citations as `[@key]`, `[@a; @b]`, `[see @key, p. 4]` or `@key [p. 4]`"""),
    "citation-at-without-key": Case({EVIDENCE: EVIDENCE_TEXT + "\nAnd [@] too.\n"}, """\
content/example/evidence.md:3: error: malformed citation `[@]`: `@` is not followed by a key
  hint: write citations as `[@key]`, `[@a; @b]`, `[see @key, p. 4]` or `@key [p. 4]`"""),
    "citation-unclosed": Case(evidence("@gamma2025].", "@gamma2025."), """\
content/example/evidence.md:1: error: unclosed citation `[@alpha2025; @gamma2025.`
  hint: close the citation with `]`"""),
    "unused-source-is-a-warning": Case({"bib/extra.bib": ZETA}, """\
bib/extra.bib:1: warning: source `zeta2025` is not cited by any report
  hint: cite it or remove it from the bibliography""", exit_code=0),
    "unused-source-strict": Case({"bib/extra.bib": ZETA}, """\
bib/extra.bib:1: warning: source `zeta2025` is not cited by any report
  hint: cite it or remove it from the bibliography""", argv=("--strict",)),
    # -- report.yml: YAML and schema -------------------------------------------------------------------
    "yaml-unclosed-quote": Case(report(('short_title: "Example"', 'short_title: "Example')), """\
content/example/report.yml:2: error: invalid YAML: the `"` opened on this line is never closed
  hint: close it at the end of the value (YAML gave up on line 4); write a `"` inside a value as `\\"`"""),
    "yaml-bad-indentation": Case(report(("  rating: unproven\n", "  rating: unproven\n rating: x\n")), """\
content/example/report.yml:8: error: invalid YAML: expected <block end>, but found '<block mapping start>'
  hint: check the indentation, and quote values that contain `: `, ` #` or start with a quote"""),
    "yaml-tab": Case(report(("  rating: unproven\n", "\trating: unproven\n")), """\
content/example/report.yml:7: error: invalid YAML: found character '\\t' that cannot start any token
  hint: indent with spaces, not tabs"""),
    "yaml-field-twice": Case(report(('short_title: "Example"', 'short_title: "Example"\nshort_title: "Other"')), """\
content/example/report.yml:3: error: field `short_title` is given twice (first on line 2)
  hint: YAML keeps only the last one: remove or merge the other"""),
    "schema-unknown-field": Case(report(("short_title:", "shorttitle:")), """\
content/example/report.yml:2: error: unknown field `shorttitle`
  hint: did you mean `short_title`?"""),
    "schema-unknown-nested-field": Case(report(("  rating: unproven\n", "  rating: unproven\n  colour: red\n")), """\
content/example/report.yml:8: error: unknown field `verdict.colour`
  hint: allowed here: rating, text"""),
    "schema-wrong-type-list": Case(report(('follow_up:\n  - "When will data appear?"',
                                           'follow_up: "When will data appear?"')), """\
content/example/report.yml:23: error: `follow_up` must be a list, not `When will data appear?`
  hint: write one item per line, each starting with `- `"""),
    "schema-wrong-type-boolean": Case(report(("rating: misleading", "rating: false")), """\
content/example/report.yml:17: error: `claims.0.rating` must be text, not the boolean `false`
  hint: YAML read this as the boolean `false`: put it in quotes, e.g. `rating: "false"`"""),
    "schema-unknown-section-kind": Case(report(("kind: evidence", "kind: evidense")), """\
content/example/report.yml:11: error: unknown section kind `evidense` in `sections.1.kind`
  hint: did you mean `evidence`?"""),
    "schema-unknown-rating": Case(report(("rating: misleading", "rating: misleadng")), """\
content/example/report.yml:17: error: unknown rating `misleadng`
  hint: did you mean `misleading`?"""),
    "schema-missing-question": Case(report(('question: "Does the example hold up?"\n', "")), """\
content/example/report.yml:1: error: missing required field `question`
  hint: add `question:` to report.yml"""),
    "schema-bad-claim-id": Case(report(("id: first-claim", "id: First claim")), """\
content/example/report.yml:13: error: `claims.0.id`: `First claim` is not a valid id
  hint: use lowercase letters, digits and hyphens, e.g. `efficacy-100`"""),
    # -- dates and revisions -----------------------------------------------------------------------
    "date-impossible": Case(report(("{date: 2025-06-01", "{date: 2025-06-31")), """\
content/example/report.yml:16: error: `claims.0.first_appeared.date`: `2025-06-31` is not a valid date \
(day value is outside expected range)
  hint: write dates as YYYY-MM-DD"""),
    "date-as-number": Case(report(("checked_on: 2026-01-27", "checked_on: 20260127")), """\
content/example/report.yml:5: error: `checked_on`: `20260127` is not a date
  hint: write dates as YYYY-MM-DD, e.g. 2026-01-27"""),
    "checked-on-in-the-future": Case(report(("checked_on: 2026-01-27", "checked_on: 2999-01-27"),
                                            ("{version: 1, date: 2026-01-27", "{version: 1, date: 2999-01-27")), """\
content/example/report.yml:5: error: checked_on 2999-01-27 is in the future
  hint: a report can only be checked on or before today
content/example/report.yml:27: error: revision 1 is dated in the future
  hint: check the year"""),
    "revisions-out-of-order": Case(report((FIRST_REVISION, FIRST_REVISION + "\n  - {version: 2, date: 2026-01-20, "
                                                           'kind: correction, note: "Fixed."}'),
                                          ("checked_on: 2026-01-27", "checked_on: 2026-01-20")), """\
content/example/report.yml:28: error: revision 2 is dated 2026-01-20, before revision 1 (2026-01-27)
  hint: revision dates must not go back in time"""),
    "revision-versions-not-counting": Case(report(("{version: 1,", "{version: 2,")), """\
content/example/report.yml:27: error: revision 1 has version 2; versions must count 1, 2, 3, … in order
  hint: list revisions oldest first, numbered from 1"""),
    "newest-revision-is-not-checked-on": Case(report(("checked_on: 2026-01-27", "checked_on: 2026-01-28")), """\
content/example/report.yml:5: error: checked_on is 2026-01-28 but the newest revision (version 1) is dated 2026-01-27
  hint: set `checked_on: 2026-01-27`"""),
    "correction-moves-checked-on-past-the-access-date": Case(report(
        (FIRST_REVISION, FIRST_REVISION + '\n  - {version: 2, date: 2026-02-03, kind: correction, note: "Fixed."}'),
        ("checked_on: 2026-01-27", "checked_on: 2026-02-03")), """\
content/example/report.yml:28: warning: checked_on 2026-02-03 is after the day this report's sources were last \
accessed (2026-01-27), and revision 2 (correction) does not say whether they were read again
  hint: if you read them again, set their `urldate` to that day; if not, add `sources_reaccessed: false` to revision \
2 (the stamp shows both dates either way)""", exit_code=0),
    "update-says-sources-reaccessed-but-urldate-is-older": Case(report(
        (FIRST_REVISION, FIRST_REVISION + '\n  - {version: 2, date: 2026-02-03, kind: update, note: "Re-checked.", '
                                          "sources_reaccessed: true}"),
        ("checked_on: 2026-01-27", "checked_on: 2026-02-03")), """\
content/example/report.yml:28: warning: revision 2 says the sources were accessed again, but the newest access date \
(`urldate`) of the sources this report cites is 2026-01-27, before checked_on 2026-02-03
  hint: set the `urldate` of each source you read again to the day you read it""", exit_code=0),
    # -- slugs and files ---------------------------------------------------------------------------
    "duplicate-slug-with-a-page": Case({"docs/example.md": "# Example\n"}, """\
docs/example.md:1: error: duplicate slug `example`: this page and the report in content/example/ would both be \
published at `example/`
  hint: rename the page or the report folder"""),
    "duplicate-slug-by-case": Case({"content/Example/report.yml": MINIMAL_REPORT}, """\
content/Example/report.yml:1: error: duplicate slug: report folders `Example` and `example` would both be published \
at `example/`
  hint: each report needs its own URL: rename or merge one of the folders"""),
    "folder-name-not-a-slug": Case({"content/My Report/report.yml": MINIMAL_REPORT}, """\
content/My Report: error: report folder name `My Report` is not a valid slug (its URL)
  hint: rename the folder to `my-report`: lowercase letters, digits and hyphens"""),
    # -- sources by identifier ---------------------------------------------------------------------
    "identifier-not-resolved": Case(evidence("[@beta2024, p. 12]", "[@beta2024; @doi:10.5555/Not.Yet]"), """\
content/example/evidence.md:1: error: `doi:10.5555/Not.Yet` is not resolved yet: no entry in bib/ has it in `ids`
  hint: run `report sources resolve` to fetch its metadata into bib/resolved.bib (builds never go online), or add the \
identifier to the `ids` of the entry it names"""),
    "identifier-malformed": Case(evidence("[@beta2024, p. 12]", "[@beta2024; @isbn:978-0-262-03384-9]"), """\
content/example/evidence.md:1: error: `isbn:978-0-262-03384-9`: the check digit is wrong
  hint: copy the ISBN again from the book"""),
    "identifier-malformed-in-ids": Case(bib("  kind = {peer-reviewed},", "  kind = {peer-reviewed},\n  ids = {pmid:12ab},"), """\
bib/sources.bib:23: error: `beta2024`: ids: `pmid:12ab` is not a PubMed id
  hint: a PubMed id is a number: `pmid:31537788`"""),
    "identifier-on-two-entries": Case(
        bib("  url = {https://example.org/gamma},", "  url = {https://example.org/gamma},\n  ids = {url:https://example.org/beta},")
        | {"bib/extra.bib": "@online{delta,\n  title = {Delta},\n  url = {https://example.org/beta},\n  date = {2025},\n"
           "  kind = {news},\n  ids = {URL:https://EXAMPLE.org/beta#top},\n}\n"}, """\
bib/extra.bib:1: warning: source `delta` is not cited by any report
  hint: cite it or remove it from the bibliography
bib/sources.bib:30: error: `gamma2025`: `url:https://example.org/beta` also names `delta` (bib/extra.bib:1)
  hint: a key or identifier must name one source: keep it on one entry"""),
    "kind-proposed-not-confirmed": Case(bib("  kind = {peer-reviewed},", "  kind = {peer-reviewed},\n  kindstatus = {proposed: "
                                            "Crossref type journal-article},"), """\
bib/sources.bib:23: error: `beta2024`: the kind `peer-reviewed` was proposed (Crossref type journal-article), not confirmed
  hint: read the source, keep or correct `kind` (a journal article is not necessarily peer-reviewed), then delete the \
`kindstatus` line"""),
    "section-file-empty": Case({EVIDENCE: "\n  \n"}, """\
content/example/evidence.md:1: error: section file `evidence.md` is empty
  hint: write the section or remove it from `sections`"""),
    "section-file-missing": Case({EVIDENCE: None}, """\
content/example/report.yml:11: error: section file `evidence.md` does not exist
  hint: create content/example/evidence.md or fix the file name"""),
}


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_catalogue(name: str, make_project: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    case = CATALOGUE[name]
    root = make_project(**case.files)
    assert main(["check", str(root), *case.argv]) == case.exit_code
    captured = capsys.readouterr()
    assert captured.out.rstrip("\n") == case.expected
    errors = case.expected.count(": error: ")
    warnings = case.expected.count(": warning: ")
    assert captured.err.strip().endswith(f"{errors} error(s), {warnings} warning(s)")


def test_every_problem_is_reported_not_just_the_first(make_project, capsys) -> None:
    files = {**CATALOGUE["bib-unclosed-brace"].files, **CATALOGUE["schema-unknown-rating"].files,
             **CATALOGUE["section-file-empty"].files, **CATALOGUE["bib-javascript-url"].files}
    root = make_project(**files)
    assert main(["check", str(root)]) == 1
    out = capsys.readouterr().out
    assert [line.split(": error: ")[0] for line in out.splitlines() if ": error: " in line] == [
        "bib/extra.bib:2", "bib/sources.bib:29", "content/example/evidence.md:1", "content/example/report.yml:17"]


def test_check_is_clean_on_the_example(capsys) -> None:
    assert main(["check", str(REPO), "--strict"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().endswith("0 error(s), 0 warning(s)")


def test_json_format_for_tools(make_project, capsys) -> None:
    root = make_project(**{**CATALOGUE["unknown-citation-key"].files, "bib/extra.bib": ZETA})
    assert main(["check", str(root), "--format", "json"]) == 1
    problems = json.loads(capsys.readouterr().out)
    assert problems == [
        {"path": "bib/extra.bib", "line": 1, "severity": "warning", "message": "source `zeta2025` is not cited by any report",
         "hint": "cite it or remove it from the bibliography", "code": "unused-source"},
        {"path": "content/example/evidence.md", "line": 1, "severity": "error",
         "message": "unknown citation key `gama2025`", "hint": "did you mean `gamma2025`?", "code": "unknown-key"},
    ]


def test_github_format_annotates_files(make_project, capsys) -> None:
    root = make_project(**{**CATALOGUE["unknown-citation-key"].files, "bib/extra.bib": ZETA})
    assert main(["check", str(root), "--format", "github"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "::warning file=bib/extra.bib,line=1::source `zeta2025` is not cited by any report "
        "(cite it or remove it from the bibliography)",
        "::error file=content/example/evidence.md,line=1::unknown citation key `gama2025` (did you mean `gamma2025`?)",
    ]
    assert main(["check", str(root), "--format", "github", "--strict"]) == 1
    assert capsys.readouterr().out.startswith("::error file=bib/extra.bib,line=1::")


@pytest.fixture
def _quiet_mkdocs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")


@pytest.mark.usefixtures("_quiet_mkdocs")
def test_build_runs_the_same_checks(make_project, capsys, caplog) -> None:
    """Errors stop `report build`; warnings reach MkDocs' log, so `--strict` (MkDocs' own) fails on them."""
    root = make_project(**CATALOGUE["unknown-citation-key"].files)
    with caplog.at_level(logging.WARNING, logger="mkdocs.plugins.report"):
        assert main(["build", str(root)]) == 1
    assert "content/example/evidence.md:1: error: unknown citation key `gama2025`" in caplog.text
    assert not (root / "site").exists()

    root = make_project(**{EVIDENCE: EVIDENCE_TEXT, "bib/extra.bib": ZETA})
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="mkdocs.plugins.report"):
        assert main(["build", str(root)]) == 0
    assert "bib/extra.bib:1: warning: source `zeta2025` is not cited by any report" in caplog.text
    assert [r.levelname for r in caplog.records if "zeta2025" in r.getMessage()] == ["WARNING"]
    before = _tree(root / "site")
    assert main(["build", str(root), "--strict"]) == 1
    assert _tree(root / "site") == before


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
