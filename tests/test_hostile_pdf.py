"""The PDF fetches nothing the content chose: only files inside the report's own folder (and `data:` URLs) are
embedded; `file:` paths elsewhere, links out of the folder and every network address are refused; a local HTTP
server on 127.0.0.1 logs no request during a build; relative links resolve to the published site, never to
`file://` paths of the build machine. Tested with `sanitize_html: false`, so nh3 does not hide a weak fetcher."""

from __future__ import annotations

import http.server
import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from generator.build import Project, build_project
from generator.publish.pdf import export_pdfs

from .conftest import MINIMAL_MKDOCS

MARKER = "MARKEROUTSIDE"
INSIDE = "INSIDEFIGURE"


def _svg(text: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="300" height="40"><text x="0" y="30" font-size="20">{text}'
            "</text></svg>\n")


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the standard library's name
        type(self).requests.append(self.path)
        body = _svg(MARKER).encode()
        self.send_response(200)
        self.send_header("Content-Type", "image/svg+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    """A web server on 127.0.0.1 that serves the marker to anyone who asks, and remembers who asked."""
    _Recorder.requests = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _project(make_project, tmp_path: Path, server: str, site_url: str = "") -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.svg").write_text(_svg(MARKER), encoding="utf-8")
    prose = (f"Figures [@alpha2025].\n\n![inside](figure.svg)\n\n![web]({server}/pixel.svg)\n\n"
             f'<img src="{(outside / "secret.svg").as_uri()}" alt="file">\n\n'
             "![up](../../outside/secret.svg)\n\n![linked](linked.svg)\n\n"
             f'<img src="//127.0.0.1:{server.rsplit(":", 1)[1]}/protocol-relative.svg" alt="pr">\n\n'
             "[another report](../other/) and [a page of this report](#references).\n")
    mkdocs = MINIMAL_MKDOCS.replace("      pdf: false\n", "      pdf: true\n      sanitize_html: false\n")
    if site_url:
        mkdocs = f"site_url: {site_url}\n" + mkdocs
    root = make_project(**{"content/example/summary.md": prose, "mkdocs.yml": mkdocs})
    (root / "content/example/figure.svg").write_text(_svg(INSIDE), encoding="utf-8")
    return root


def _pdf(root: Path) -> tuple[bytes, tuple[str, ...]]:
    """The PDF of the project's report. The link out of the report folder is made after the build has checked the
    project (`report check` refuses it): the fetcher must refuse it on its own too."""
    result = build_project(Project(root=root))
    assert result.ok, [p.format() for p in result.problems.errors]
    assert result.renderer is not None
    (root / "content/example/linked.svg").symlink_to(root.parent / "outside" / "secret.svg")
    output = export_pdfs(result.rendered, result.renderer, workers=1)["example"]
    return output.data, output.refused


def _text_and_links(data: bytes) -> tuple[str, list[str]]:
    reader = PdfReader(io.BytesIO(data))
    text = "".join(page.extract_text() for page in reader.pages)
    links = []
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A")
            if action is not None and "/URI" in action:
                links.append(str(action["/URI"]))
    return text, links


def test_only_files_of_the_report_folder_are_embedded_and_nothing_is_fetched(make_project, tmp_path, server) -> None:
    root = _project(make_project, tmp_path, server, site_url="https://example.org/reports/")
    data, refused = _pdf(root)
    text, links = _text_and_links(data)
    assert INSIDE in text  # the figure beside report.yml is embedded: the fetcher does serve the report's files
    assert MARKER not in text and MARKER.encode() not in data
    assert _Recorder.requests == []
    assert len(refused) == 5, refused  # web, file:, ../.., the link out of the folder, protocol-relative
    assert not any(link.startswith("file:") for link in links), links
    assert "https://example.org/reports/other/" in links


def test_without_site_url_relative_links_stay_relative_and_never_point_at_the_build_machine(make_project, tmp_path,
                                                                                           server) -> None:
    root = _project(make_project, tmp_path, server)
    data, _ = _pdf(root)
    text, links = _text_and_links(data)
    assert INSIDE in text and MARKER not in text
    assert _Recorder.requests == []
    assert "../other/" in links
    assert not any(link.startswith("file:") or "report.invalid" in link or str(tmp_path) in link for link in links)
    assert str(tmp_path).encode() not in data


def test_a_full_build_asks_the_network_for_nothing(make_project, tmp_path, server, monkeypatch) -> None:
    from generator.cli import main

    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    root = _project(make_project, tmp_path, server, site_url="https://example.org/reports/")
    assert main(["build", str(root)]) == 0
    assert _Recorder.requests == []
    for path in (root / "site").rglob("*"):
        if path.is_file():
            assert MARKER.encode() not in path.read_bytes(), path


def test_an_svg_that_declares_entities_is_not_embedded(make_project, tmp_path, server) -> None:
    """A "billion laughs" SVG in the report's own folder would take WeasyPrint minutes and gigabytes to expand."""
    root = _project(make_project, tmp_path, server)
    entities = "".join(f'<!ENTITY {a} "{"&" + b + ";" if b else "x"}{("&" + b + ";") * 9 if b else "x" * 59}">\n'
                       for a, b in zip("abcdefg", ["", *"abcdef"], strict=True))
    (root / "content/example/figure.svg").write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE svg [\n{entities}]>\n<svg xmlns="http://www.w3.org/2000/svg" width="9" '
        f'height="9"><text x="1" y="5">{INSIDE}&g;</text></svg>\n', encoding="utf-8")
    data, refused = _pdf(root)
    assert INSIDE not in _text_and_links(data)[0]
    assert any(url.endswith("/figure.svg") for url in refused)
