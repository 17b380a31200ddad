"""Citing by identifier from end to end, against local stand-ins of the services: the build names what is not
resolved and the command that fixes it; `report sources resolve` fills bib/resolved.bib; the writer confirms the
proposed kinds; the build is then offline (any connection attempt fails the test) and reproducible."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from generator.cli import main

from .conftest import minimal_files, write_tree
from .fake_services import FakeServices


def _desk(root: Path, fake: FakeServices, evidence: str) -> Path:
    files = minimal_files()
    services = "".join(f"        {k}: {v}\n" for k, v in fake.settings().model_dump().items())
    files["mkdocs.yml"] = files["mkdocs.yml"].replace("      pdf: false\n", f"      pdf: false\n      services:\n{services}")
    files["content/example/evidence.md"] = evidence
    return write_tree(root, files)


def _no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("the build tried to connect to the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


def test_cite_resolve_confirm_and_build_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeServices() as fake:
        news = fake.url("/web/news")
        root = _desk(tmp_path / "desk", fake, f"The trial [@doi:10.5555/EVD.2025.001, p. 212] and the wire story "
                     f"@{{url:{news}}} [para. 2]; the PubMed record [@pmid:99999901] is the same paper.\n")
        assert main(["check", str(root)]) == 1
        out = capsys.readouterr().out
        assert out.count("is not resolved yet") == 3 and "run `report sources resolve`" in out

        assert main(["sources", "resolve", "--path", str(root)]) == 0
        printed = capsys.readouterr().out
        assert "doi:10.5555/evd.2025.001 → @example2025safety (Crossref; kind proposed: peer-reviewed)" in printed
        assert "pmid:99999901 → @example2025safety (the same DOI: added to its ids)" in printed
        assert f"url:{news} → @reporter2025vaccine (web page; kind proposed: news)" in printed
        agents = {headers.get("user-agent", "") for _, _, headers in fake.requests}
        assert agents and all("mailto:desk@example.org" in agent for agent in agents)
        asked = len(fake.requests)
        assert main(["sources", "resolve", "--path", str(root)]) == 0  # nothing left: nothing fetched
        assert len(fake.requests) == asked, (fake.requests[asked:], capsys.readouterr())

    resolved = root / "bib" / "resolved.bib"
    text = resolved.read_text(encoding="utf-8")
    assert "ids          = {doi:10.5555/evd.2025.001, pmid:99999901}," in text
    assert main(["check", str(root)]) == 1
    out = capsys.readouterr().out
    assert out.count("was proposed") == 2 and "then delete the `kindstatus` line" in out

    resolved.write_text(re.sub(r"\n  kindstatus +=[^\n]*", "", text), encoding="utf-8")  # the writer confirms
    attempts = _no_network(monkeypatch)
    assert main(["check", str(root)]) == 0
    assert main(["build", str(root), "--no-pdf"]) == 0
    first = (root / "site" / "example" / "index.html").read_bytes()
    assert main(["build", str(root), "--no-pdf"]) == 0
    assert (root / "site" / "example" / "index.html").read_bytes() == first
    pytest.importorskip("zensical")
    assert main(["build", str(root), "--no-pdf", "--engine", "zensical"]) == 0  # the same core under the other engine
    same = (root / "site" / "example" / "index.html").read_text(encoding="utf-8")
    assert "Vaccine trial begins in Example City" in same and same.count('class="rg-ref"') == 5
    assert (root / "site" / "search.json").is_file()  # Zensical's own search index: it was Zensical that built
    assert attempts == []
    html = first.decode("utf-8")
    assert "Vaccine trial begins in Example City" in html and "Safety of an oncolytic Enterovirus vaccine" in html
    assert html.count('class="rg-ref"') == 5  # three sources of the fixture and two resolved (PMID = DOI)
    assert "doi:10.5555" not in re.sub(r"<[^>]+>", "", html.split('class="rg-references')[0])  # cited by number


def test_an_identifier_is_resolved_once_and_failures_are_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeServices() as fake:
        root = _desk(tmp_path / "desk", fake, "See [@beta2024].\n")
        status = main(["sources", "add", "--path", str(root), "10.5555/evd.2025.001", "https://doi.org/10.5555/EVD.2025.001",
                       "doi:10.5555/evd.missing", "not an identifier"])
    assert status == 1
    captured = capsys.readouterr()
    assert captured.out.count("→ @example2025safety") == 1
    assert "error: doi:10.5555/evd.missing: no such DOI" in captured.err
    assert "error: `not an identifier` is not a DOI" in captured.err
    assert (root / "bib" / "resolved.bib").read_text(encoding="utf-8").count("\n@") == 1


def test_a_resolved_file_with_errors_is_left_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeServices() as fake:
        root = _desk(tmp_path / "desk", fake, "See [@beta2024] and [@doi:10.5555/evd.2025.002].\n")
        broken = "@online{x,\n  title = {Unclosed,\n"
        (root / "bib" / "resolved.bib").write_text(broken, encoding="utf-8")
        assert main(["sources", "resolve", "--path", str(root)]) == 1
        assert fake.requests == []
    assert (root / "bib" / "resolved.bib").read_text(encoding="utf-8") == broken
    assert "resolved.bib has errors: fix them first" in capsys.readouterr().err


def test_links_report_record_and_archive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`report links --archive` on a desk with a dead, a moved, an archived and a healthy source: the report per
    report, the exit status, dead status and snapshots recorded in bib/resolved.bib, the lines to add printed for
    a hand-written file, and the page then marks the dead source beside its archived copy."""
    from .conftest import MINIMAL_BIB
    from .fake_web import FakeWeb

    web = FakeWeb().start()
    try:
        base = web.base
        bib = (MINIMAL_BIB.replace("https://example.org/alpha?x=1&y=2", f"{base}/status/404/alpha")
               .replace("https://example.org/beta", f"{base}/moved/beta")
               .replace("https://example.org/gamma", f"{base}/page/archived-gamma"))
        resolved = (f"@online{{delta2025,\n  ids = {{url:{base}/status/410/delta}},\n  title = {{{{Delta}}}},\n"
                    f"  date = {{2025}},\n  url = {{{base}/status/410/delta}},\n  urldate = {{2026-01-01}},\n"
                    "  kind = {news},\n}\n"
                    f"@online{{eps2025,\n  title = {{Eps}},\n  date = {{2025}},\n  url = {{{base}/page/eps}},\n"
                    "  urldate = {2026-01-01},\n  kind = {news},\n}\n")
        files = minimal_files(**{"bib/sources.bib": bib, "bib/resolved.bib": resolved,
                                 "content/example/evidence.md": "See [@beta2024, p. 12] and [@alpha2025; @gamma2025; "
                                                                "@delta2025; @eps2025].\n"})
        files["mkdocs.yml"] = files["mkdocs.yml"].replace("      pdf: false\n", (
            f"      pdf: false\n      services:\n        wayback: {base}/ia\n        wayback_availability: "
            f"{base}/wayback/available\n        requests_per_second: 50\n        timeout: 2\n        retries: 1\n"
            "        backoff: 0.05\n        archive_poll: 0.05\n        allow_private_addresses: true\n"))
        root = write_tree(tmp_path / "desk", files)

        assert main(["links", str(root)]) == 1  # a dead link fails the run
        out = capsys.readouterr().out
        assert f"dead        alpha2025  {base}/status/404/alpha  HTTP 404" in out
        assert f"moved permanently to {base}/page/new-beta" in out

        assert main(["links", str(root), "--format", "markdown", "--archive"]) == 1
        captured = capsys.readouterr()
        assert captured.out.startswith("Cited sources whose address did not work") and "\n### example\n" in captured.out
        assert "| `alpha2025` |" in captured.out and "**dead**" in captured.out
        err = captured.err
        assert "bib/sources.bib:3: `alpha2025`: add\n  urlstatus = {dead},\n  urlchecked = {" in err
        assert f"`gamma2025`: add\n  archiveurl = {{{base}/ia/web/20250102030405/{base}/page/archived-gamma}}," in err
    finally:
        web.stop()
    written = (root / "bib" / "resolved.bib").read_text(encoding="utf-8")
    delta, eps = written.split("@online{delta2025,")[1].split("@online{eps2025,")
    assert re.search(r"urlstatus +=\ {dead\}", delta) and "archiveurl" not in delta  # dead, and never archived before
    assert re.search(rf"archiveurl +=\ {{{re.escape(base)}/ia/web/20260102030405/{re.escape(base)}/page/eps}}", eps)
    assert "urlstatus" not in eps

    assert main(["build", str(root), "--no-pdf"]) == 0
    html = (root / "site" / "example" / "index.html").read_text(encoding="utf-8")
    assert html.count('<strong class="rg-link-dead">Link dead when checked') == 1
    assert f'<a href="{base}/ia/web/20260102030405/{base}/page/eps">Archived copy</a>' in html
