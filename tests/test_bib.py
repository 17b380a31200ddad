"""Sources stage: bibtexparser v2 loading, macro resolution, LaTeX decoding, line-numbered failures, caching."""

from __future__ import annotations

import os
from pathlib import Path

from generator.sources.bib import BibliographyLoader, decode_latex, load_bibliography
from generator.sources.references import to_csl

from .conftest import MINIMAL_BIB, write_tree


def test_string_macros_concatenation_and_latex(tmp_path: Path) -> None:
    write_tree(tmp_path, {"bib/a.bib": MINIMAL_BIB})
    bib = load_bibliography(tmp_path / "bib", tmp_path)
    assert not bib.problems
    alpha = bib["alpha2025"]
    assert alpha.text("organization") == "Example Agency Newsroom"
    assert alpha.url == "https://example.org/alpha?x=1&y=2"  # `&` untouched: URLs are never LaTeX-decoded
    beta = bib["beta2024"]
    assert beta.text("title") == "A DNA study of élève outcomes"
    assert beta.persons() == [{"family": "Smith", "given": "Jane"}, {"family": "Müller", "given": "Hans"}]
    assert beta.text("pages") == "10–20"
    assert bib["gamma2025"].text("title") == "Гамма: первая фаза"
    assert bib["gamma2025"].kind == "state-media"


def test_biblatex_fields_reach_csl_json(tmp_path: Path) -> None:
    write_tree(tmp_path, {"bib/a.bib": MINIMAL_BIB})
    bib = load_bibliography(tmp_path / "bib", tmp_path)
    item = to_csl(bib["gamma2025"])
    assert item["type"] == "webpage"
    assert item["issued"] == {"date-parts": [[2025, 12, 25]]}
    assert item["accessed"] == {"date-parts": [[2026, 1, 27]]}
    assert item["language"] == "russian"
    assert item["container-title"] == "Пример"
    beta = to_csl(bib["beta2024"])
    assert beta["DOI"] == "10.1234/example.5678" and beta["container-title"] == "Journal of Examples"


def test_percent_and_ampersand_survive_in_doi_and_url(tmp_path: Path) -> None:
    write_tree(tmp_path, {"bib/a.bib": """\
@online{odd, title = {Odd}, url = {https://example.org/a%20b?c=1&d=2}, doi = {10.1000/a%b}, date = {2020}, kind = {news}}
"""})
    source = load_bibliography(tmp_path / "bib", tmp_path)["odd"]
    assert source.url == "https://example.org/a%20b?c=1&d=2"
    assert source.doi == "10.1000/a%b"


def test_failed_blocks_are_reported_with_file_and_line(tmp_path: Path) -> None:
    write_tree(tmp_path, {"bib/a.bib": """\
@online{good, title = {Good}, url = {https://example.org}, date = {2020}, kind = {news}}

@online{broken title = {No comma after key}}
"""})
    bib = load_bibliography(tmp_path / "bib", tmp_path)
    assert "good" in bib
    [problem] = bib.problems.errors
    assert (problem.path, problem.line) == ("bib/a.bib", 3)
    assert problem.message.startswith("malformed BibTeX")


def test_duplicate_keys_across_files(tmp_path: Path) -> None:
    entry = "@online{same, title = {T}, url = {https://example.org}, date = {2020}, kind = {news}}\n"
    write_tree(tmp_path, {"bib/a.bib": entry, "bib/b.bib": "\n" + entry})
    bib = load_bibliography(tmp_path / "bib", tmp_path)
    [problem] = bib.problems.errors
    assert problem.format() == (
        "bib/b.bib:2: error: duplicate key `same` (already defined in a.bib, line 1)\n"
        "  hint: keys must be unique across all files in bib/"
    )


def test_unknown_kind_suggests_the_closest(tmp_path: Path) -> None:
    write_tree(tmp_path, {"bib/a.bib": "@online{k, title = {T}, url = {https://x.org}, date = {2020}, kind = {fact-chek}}\n"})
    [problem] = load_bibliography(tmp_path / "bib", tmp_path).problems.errors
    assert problem.message == "`k`: unknown source kind `fact-chek`"
    assert problem.hint == "did you mean `fact-check`?"


def test_loader_reparses_only_changed_files(tmp_path: Path, monkeypatch) -> None:
    other = "@online{z, title={Z}, url={https://z.org}, date={2020}, kind={news}}\n"
    write_tree(tmp_path, {"bib/a.bib": MINIMAL_BIB, "bib/b.bib": other})
    import generator.sources.bib as bibmod

    calls: list[str] = []
    real = bibmod.parse_bib_file
    monkeypatch.setattr(bibmod, "parse_bib_file", lambda path, root=None: calls.append(path.name) or real(path, root))
    loader = BibliographyLoader()
    loader.load(tmp_path / "bib", tmp_path)
    assert sorted(calls) == ["a.bib", "b.bib"]
    calls.clear()
    loader.load(tmp_path / "bib", tmp_path)
    assert calls == []
    path = tmp_path / "bib" / "b.bib"
    path.write_text(path.read_text() + "\n", encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert "z" in loader.load(tmp_path / "bib", tmp_path)
    assert calls == ["b.bib"]


def test_decode_latex_leaves_plain_text_alone() -> None:
    assert decode_latex("Plain title") == "Plain title"
    assert decode_latex(r"Caf\'e {\"U}ber 60--80\%") == "Café Über 60–80%"


def test_braced_accent_at_both_ends_is_still_a_person(tmp_path: Path) -> None:
    write_tree(tmp_path, {"bib/a.bib": """\
@article{s, author = {{\\c{S}}ahin, Jos{\\'e} and {World Health Organization}}, title = {T},
  url = {https://example.org}, date = {2020}, kind = {review}}
"""})
    source = load_bibliography(tmp_path / "bib", tmp_path)["s"]
    assert source.persons() == [{"family": "Şahin", "given": "José"}, {"literal": "World Health Organization"}]


def test_a_value_nesting_braces_thousands_deep_is_refused_at_load(tmp_path) -> None:
    """Pandoc's BibTeX reader takes quadratic time on deeply nested braces (a minute for one such entry): a value
    nesting more than MAX_BRACE_DEPTH is an error on its own line, and the entry is not used."""
    from pathlib import Path

    from generator.sources.bib import MAX_BRACE_DEPTH, parse_bib_text

    deep = "{" * 5000 + "x" + "}" * 5000
    text = f"@misc{{ok, title = {{{{DNA}} repair}}}}\n\n@misc{{bad,\n  title = {{A}},\n  note = {deep}\n}}\n"
    sources, problems = parse_bib_text(text, Path("refs.bib"))
    by_key = {s.key: s for s in sources}
    assert not by_key["ok"].broken and by_key["bad"].broken
    [error] = problems.errors
    assert error.line == 5 and "`note` nests braces more than" in error.message and str(MAX_BRACE_DEPTH) in error.message
