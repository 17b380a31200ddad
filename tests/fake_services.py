"""Local stand-ins for the services `report sources` and `report links` talk to, so no test touches the network.

    with FakeServices() as fake:
        settings = fake.settings()          # every endpoint points at the fake server
        ... resolve(parse_identifier("doi:10.5555/evd.2025.001"), client, settings) ...
        fake.requests                       # [(method, path with query, {lower-case header: value}), ...]

One ThreadingHTTPServer on 127.0.0.1 (a free port) in a daemon thread answers from `tests/fixtures/services/`
(fictitious records in the real formats; see its README), dispatching on the path as the real services do: `/doi/…`
redirects like doi.org to `/crossref/…` or `/datacite/…`, `/ncbi/esummary.fcgi` answers by `db` and `id`,
`/arxiv/query` by `id_list`, `/openlibrary/isbn/….json` redirects to the edition, `/web/…` serves pages. Routes can
play a 429 with `Retry-After: 1` on the first request, a slow answer, a connection closed mid-body, broken JSON,
redirect chains, pages in Windows-1251 and Latin-1, and hostile metadata. Add or replace routes in `fake.routes`.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from generator.config import ServiceSettings

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "services"
CONTACT = "desk@example.org"
CSL = "application/vnd.citationstyles.csl+json"
HUGE_TITLE_BYTES = 5 * 1000 * 1000


@dataclass
class Route:
    """One answer. `body` is bytes or a function of the request count for this path (1 for the first).
    `play`: "" (answer), "rate-limit-once" (429 with Retry-After: 1 first, then the answer), "slow" (sleep `delay`
    seconds first), "cut" (announce the whole body, send a tenth, close the connection)."""

    status: int = 200
    body: bytes | Callable[[int], bytes] = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    play: str = ""
    delay: float = 1.5


def fixture(name: str, content_type: str = "application/json", **kwargs: Any) -> Route:
    return Route(body=(FIXTURES / name).read_bytes(), content_type=content_type, **kwargs)


def redirect(location: str, status: int = 302) -> Route:
    return Route(status=status, headers={"Location": location}, content_type="text/plain", body=b"Moved")


def _huge_title(_: int) -> bytes:
    return b"<html><head><title>" + b"Vaccine " * (HUGE_TITLE_BYTES // 8) + b"</title></head><body>x</body></html>"


def _routes() -> dict[str, Route]:
    routes: dict[str, Route] = {}
    crossref = "/crossref/v1/works/{doi}/transform/" + CSL
    datacite = "/datacite/application/" + CSL + "/{doi}"
    for doi, name in (("10.5555/evd.2025.001", "crossref-article.json"), ("10.5555/evd.2025.002", "crossref-preprint.json"),
                      ("10.5555/evd.2025.003", "crossref-chapter.json"), ("10.5555/evd.2025.005", "crossref-hostile.json")):
        routes[f"/doi/{doi}"] = redirect(crossref.format(doi=doi))
        routes[crossref.format(doi=doi)] = fixture(name, CSL)
    routes["/doi/10.5555/evd.2025.004"] = redirect("/datacite-redirect/10.5555/evd.2025.004", 302)
    routes["/datacite-redirect/10.5555/evd.2025.004"] = redirect(datacite.format(doi="10.5555/evd.2025.004"), 303)
    routes[datacite.format(doi="10.5555/evd.2025.004")] = fixture("datacite-dataset.json", CSL)
    routes["/doi/10.5555/evd.ratelimited"] = fixture("crossref-article.json", CSL, play="rate-limit-once")
    routes["/doi/10.5555/evd.broken"] = fixture("broken.json", CSL)
    routes["/doi/10.5555/evd.cut"] = fixture("crossref-article.json", CSL, play="cut")
    routes["/doi/10.5555/evd.slow"] = fixture("crossref-article.json", CSL, play="slow")
    routes["/doi/10.5555/evd.failing"] = Route(status=503, body=b"Service Unavailable", content_type="text/plain")
    routes["/doi/10.5555/evd.landing"] = fixture("landing.html", "text/html; charset=utf-8")
    routes["/doi/10.5555/evd.loop"] = redirect("/doi/10.5555/evd.loop", 302)
    routes["/doi/10.5555/evd.javascript"] = redirect("javascript:alert(1)", 302)

    esummary = "/ncbi/esummary.fcgi?db={db}&id={id}"
    for db, uid, name in (("pubmed", "99999901", "pubmed-article.json"), ("pubmed", "99999902", "pubmed-preprint.json"),
                          ("pubmed", "99999903", "pubmed-review.json"), ("pubmed", "99999904", "pubmed-missing.json"),
                          ("pmc", "99999911", "pmc-article.json")):
        routes[esummary.format(db=db, id=uid)] = fixture(name)

    for arxiv_id, name in (("2401.99991", "arxiv-entry.xml"), ("2401.99992", "arxiv-empty.xml"),
                           ("2401.99993", "arxiv-error.xml"), ("2401.99994", "arxiv-entities.xml")):
        routes[f"/arxiv/query?id_list={arxiv_id}"] = fixture(name, "application/atom+xml; charset=utf-8")

    routes["/openlibrary/isbn/9780000000019.json"] = redirect("/openlibrary/books/OL99999001M.json")
    routes["/openlibrary/books/OL99999001M.json"] = fixture("openlibrary-edition.json")
    routes["/openlibrary/isbn/9780000000026.json"] = redirect("/openlibrary/books/OL99999002M.json")
    routes["/openlibrary/books/OL99999002M.json"] = fixture("openlibrary-edition-work.json")
    routes["/openlibrary/works/OL99999002W.json"] = fixture("openlibrary-work.json")
    for number in (1, 2, 3):
        routes[f"/openlibrary/authors/OL9999900{number}A.json"] = fixture(f"openlibrary-author-{number}.json")

    for page in ("news", "journal", "dc", "og", "title-only", "factcheck", "hostile"):
        routes[f"/web/{page}"] = fixture(f"{page}.html", "text/html; charset=utf-8")
    routes["/web/cp1251"] = fixture("news-cp1251.html", "text/html")  # the charset only in <meta charset>
    routes["/web/latin1"] = fixture("news-latin1.html", "text/html; charset=ISO-8859-1")  # only in the header
    routes["/web/report.pdf"] = fixture("report.pdf", "application/pdf")
    routes["/web/huge-title"] = Route(body=_huge_title, content_type="text/html; charset=utf-8")
    routes["/web/gone"] = Route(status=410, body=b"Gone", content_type="text/plain")
    routes["/web/moved"] = redirect("/web/moved-again", 301)
    routes["/web/moved-again"] = redirect("/web/news", 308)
    routes["/web/temporary"] = redirect("/web/moved-again", 302)
    routes["/web/ratelimited"] = fixture("news.html", "text/html; charset=utf-8", play="rate-limit-once")
    routes["/web/slow"] = fixture("news.html", "text/html; charset=utf-8", play="slow")
    return routes


def _key(target: str) -> str:
    """The route a request target names: the path, plus the query parameters the service dispatches on."""
    parts = urlsplit(target)
    query = parse_qs(parts.query)
    if parts.path.endswith("/esummary.fcgi"):
        return f"{parts.path}?db={query.get('db', [''])[0]}&id={query.get('id', [''])[0]}"
    if parts.path == "/arxiv/query":
        return f"{parts.path}?id_list={query.get('id_list', [''])[0]}"
    return parts.path


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeServices

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (timeouts are tested) is not an error of the fake


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def do_GET(self) -> None:
        self._answer(head=False)

    def _answer(self, head: bool) -> None:
        fake = self.server.fake
        key = _key(self.path)
        with fake.lock:
            fake.requests.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
            fake.hits[key] += 1
            count = fake.hits[key]
        route = fake.routes.get(key)
        if route is None:
            route = Route(status=404, body=b'{"status": "error", "message": "Not found"}')
        if route.play == "rate-limit-once" and count == 1:
            route = Route(status=429, body=b"Too Many Requests", content_type="text/plain", headers={"Retry-After": "1"})
        elif route.play == "slow":
            time.sleep(route.delay)
        body = route.body(count) if callable(route.body) else route.body
        self.send_response(route.status)
        self.send_header("Content-Type", route.content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in route.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if head:
            return
        if route.play == "cut":
            self.wfile.write(body[:max(1, len(body) // 10)])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


class FakeServices:
    """The fake server as a context manager; see the module's docstring."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = _routes()
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        self._server: _Server | None = None

    def __enter__(self) -> FakeServices:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base(self) -> str:
        assert self._server is not None, "use FakeServices() as a context manager"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def settings(self, **overrides: Any) -> ServiceSettings:
        """Settings with every endpoint on the fake server, polite but fast: 50 requests a second, 0.05 s backoff,
        2 s timeout, 2 retries; `overrides` change any of them."""
        values: dict[str, Any] = {
            "contact": CONTACT, "doi": self.url("/doi"), "ncbi": self.url("/ncbi"), "arxiv": self.url("/arxiv/query"),
            "openlibrary": self.url("/openlibrary"), "wayback": self.url("/wayback"),
            "wayback_availability": self.url("/wayback/available"),
            "requests_per_second": 50, "backoff": 0.05, "timeout": 2, "retries": 2,
            "allow_private_addresses": True}  # the fake server is on 127.0.0.1
        values.update(overrides)
        return ServiceSettings(**values)

    def count(self, key: str) -> int:
        """Requests seen for one route (its path, plus `?db=…&id=…` or `?id_list=…` where the service uses them)."""
        with self.lock:
            return self.hits[key]
