"""A local web for the link checker's tests and benchmark: news sites and the Internet Archive, played by a
ThreadingHTTPServer on a loopback address in a daemon thread. Nothing leaves the machine.

Paths (each counter is per path, so a test gets a fresh one by choosing a new tail):

    /page/…                  200, a small HTML page naming its path
    /nohead/…                HEAD 405, GET 200
    /status/<code>/…         always <code> (404, 410, 500, 401, 403, 400, 429 with Retry-After: 0, …)
    /flaky/<n>/…             503 for the first n requests, then 200
    /limited/<n>/…           429 with Retry-After: 1 for the first n requests, then 200
    /moved/…                 301 to /page/new-…                     (a permanent move: the source must change)
    /slash/…                 301 to the same path with a trailing slash, which is 200
    /upgrade/…               301 to https://<same host>:<tls port>/upgrade/… when an HTTPS twin is running
                             (the http→https move; the port changes only because both run on free ports)
    /found/…                 302 to /page/…
    /loop/a, /loop/b         302 to each other
    /badredirect             302 to a Location that is not a URL
    /jsredirect              302 to javascript:
    /slow/…                  answers after SLOW seconds
    /article/<name>          the HTML in FakeWeb.articles[name]
    /wayback/available       the availability API: a 200 snapshot for addresses containing `archived`, one with
                             status 404 for `snap404`, none otherwise
    /ia/save                 Save Page Now: 429 for `ratelimit`, 401 without Authorization for `needkeys`, an
                             HTML page for `htmlpage`, a job that fails for `joberror`, else a job that is
                             pending at the first poll and done at the second
    /ia/save/status/<job>    the job's status
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

SLOW = 1.4  # seconds: beyond the tests' one-second timeout
SNAPSHOT_TIME = "20250102030405"
SAVED_TIME = "20260102030405"


def article(text: str, script: str = "") -> str:
    return (f"<!doctype html><html><head><title>Article</title><script>{script}</script></head>"
            f"<body><h1>Article</h1><p>{text}</p><script>var ad = '{script}';</script></body></html>")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
        self._answer("HEAD")

    def do_GET(self) -> None:  # noqa: N802
        self._answer("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._answer("POST")

    def _send(self, method: str, status: int, body: str | bytes = b"", content_type: str = "text/html; charset=utf-8",
              headers: dict[str, str] | None = None) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(data)

    def _json(self, method: str, data: object, status: int = 200) -> None:
        self._send(method, status, json.dumps(data), "application/json")

    def _answer(self, method: str) -> None:
        web = self.server.web
        parts = urlsplit(self.path)
        path = parts.path
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        count = web.count(path)
        web.log(method, self.path, dict(self.headers.items()), body)
        segments = path.strip("/").split("/")
        head = segments[0]
        if head == "page":
            self._send(method, 200, f"<html><body><p>Page {path}</p></body></html>")
        elif head == "nohead":
            self._send(method, 405 if method == "HEAD" else 200, "<p>no HEAD here</p>")
        elif head == "status":
            code = int(segments[1])
            self._send(method, code, f"<p>{code}</p>", headers={"Retry-After": "0"} if code == 429 else None)
        elif head == "flaky":
            self._send(method, 503 if count <= int(segments[1]) else 200, "<p>flaky</p>")
        elif head == "limited":
            limited = count <= int(segments[1])
            self._send(method, 429 if limited else 200, "<p>limited</p>", headers={"Retry-After": "1"} if limited else None)
        elif head == "moved":
            self._send(method, 301, "", headers={"Location": "/page/new-" + "/".join(segments[1:])})
        elif head == "slash":
            if path.endswith("/"):
                self._send(method, 200, "<p>slash</p>")
            else:
                self._send(method, 301, "", headers={"Location": path + "/"})
        elif head == "upgrade":
            if web.tls or web.upgrade_port is None:
                self._send(method, 200, "<p>secure</p>")
            else:
                self._send(method, 301, "", headers={"Location": f"https://{web.host}:{web.upgrade_port}{path}"})
        elif head == "found":
            self._send(method, 302, "", headers={"Location": "/page/" + "/".join(segments[1:])})
        elif head == "loop":
            self._send(method, 302, "", headers={"Location": "/loop/b" if path.endswith("/a") else "/loop/a"})
        elif head == "badredirect":
            self._send(method, 302, "", headers={"Location": "http://[::1"})
        elif head == "jsredirect":
            self._send(method, 302, "", headers={"Location": "javascript:alert(1)"})
        elif head == "slow":
            time.sleep(SLOW)
            self._send(method, 200, "<p>slow</p>")
        elif head == "article":
            text = web.articles.get(segments[1])
            self._send(method, 404 if text is None else 200, text or "")
        elif head == "wayback":
            self._availability(method, parse_qs(parts.query).get("url", [""])[0])
        elif head == "ia" and path == "/ia/save" and method == "POST":
            self._save(method, parse_qs(body).get("url", [""])[0])
        elif head == "ia" and len(segments) == 4 and segments[1:3] == ["save", "status"]:
            self._status(method, segments[3])
        else:
            self._send(method, 404, "<p>not found</p>")

    def _availability(self, method: str, url: str) -> None:
        if "archived" in url or "snap404" in url:
            closest = {"available": True, "url": f"http://web.archive.org/web/{SNAPSHOT_TIME}/{url}",
                       "timestamp": SNAPSHOT_TIME, "status": "404" if "snap404" in url else "200"}
            self._json(method, {"url": url, "archived_snapshots": {"closest": closest}})
        else:
            self._json(method, {"url": url, "archived_snapshots": {}})

    def _save(self, method: str, url: str) -> None:
        web = self.server.web
        if "ratelimit" in url:
            self._send(method, 429, "<html>Too many requests</html>", headers={"Retry-After": "0"})
        elif "needkeys" in url and "Authorization" not in self.headers:
            self._send(method, 401, "<html>Log in</html>")
        elif "htmlpage" in url:
            self._send(method, 200, "<html><body>Saving page…</body></html>")
        else:
            with web.lock:
                job = f"spn2-{'e' if 'joberror' in url else 'a'}{len(web.jobs):06x}"
                web.jobs[job] = {"url": url, "polls": 0}
            self._json(method, {"url": url, "job_id": job})

    def _status(self, method: str, job: str) -> None:
        web = self.server.web
        with web.lock:
            state = web.jobs.get(job)
            if state is not None:
                state["polls"] += 1
        if state is None:
            self._json(method, {"status": "error", "message": "no such job"}, 404)
        elif job.startswith("spn2-e"):
            self._json(method, {"status": "error", "status_ext": "error:not-found",
                                "message": "Live page is not available: 404\n::error::injected"})
        elif state["polls"] < 2:
            self._json(method, {"status": "pending", "job_id": job})
        else:
            self._json(method, {"status": "success", "job_id": job, "timestamp": SAVED_TIME,
                                "original_url": state["url"]})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    web: FakeWeb

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (timeouts) leaves a broken pipe behind: expected here


class FakeWeb:
    """One fake site on `host` (a loopback address), plain or TLS; `base` is its address."""

    def __init__(self, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None):
        self.host = host
        self.tls = tls is not None
        self.upgrade_port: int | None = None
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self.requests: list[tuple[str, str, dict[str, str], str]] = []
        self.jobs: dict[str, dict[str, Any]] = {}
        self.articles: dict[str, str] = {}
        self._server = _Server((host, 0), _Handler)
        self._server.web = self
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self.base = f"{'https' if self.tls else 'http'}://{host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self) -> FakeWeb:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def count(self, path: str) -> int:
        with self.lock:
            self.counts[path] = self.counts.get(path, 0) + 1
            return self.counts[path]

    def log(self, method: str, path: str, headers: dict[str, str], body: str) -> None:
        with self.lock:
            self.requests.append((method, path, headers, body))


def closed_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on (bound, then closed): connecting is refused."""
    import socket

    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def tls_contexts(host: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a fresh self-signed certificate for the IP address `host`, and a client context that
    trusts exactly that certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "cert.pem").write_bytes(cert_pem)
        (Path(folder) / "key.pem").write_bytes(key_pem)
        server.load_cert_chain(Path(folder) / "cert.pem", Path(folder) / "key.pem")
    client = ssl.create_default_context(cadata=cert_pem.decode("ascii"))
    return server, client
