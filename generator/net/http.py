"""One polite HTTP client for every service the commands talk to.

Polite as reference managers and link checkers are expected to be: a User-Agent naming the tool and the desk's
contact, a minimum interval and a concurrency cap per host, retries with exponential backoff that honour
`Retry-After` on 429 and 503, timeouts on every request, and bodies read up to a size cap (a hostile server cannot
fill memory). Everything is asynchronous so that hundreds of links to different hosts are checked side by side
while each host sees at most a few requests at a time.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import ipaddress
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx

from generator import __version__
from generator.config import ServiceSettings

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 60.0  # seconds: a server asking for longer gets a failure, not a stalled command


class FetchError(Exception):
    """A request that failed for good (after retries): `reason` is short and readable (`timeout`, `DNS lookup
    failed`, `connection refused`, `HTTP 503`)."""

    def __init__(self, url: str, reason: str, status: int | None = None):
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status


@dataclass
class Fetched:
    """A response as far as the caller needs it: the final URL, the status, headers, up to `max_bytes` of body,
    and the redirects that led there, as (status, from URL, to URL)."""

    url: str
    status: int
    headers: httpx.Headers
    body: bytes
    redirects: list[tuple[int, str, str]] = field(default_factory=list)
    truncated: bool = False

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def text(self) -> str:
        """The body as text: the charset from the headers, else from a `<meta charset>` in the first 2 KB, else
        UTF-8; undecodable bytes are replaced (a page in Windows-1251 that lies about its charset still reads)."""
        return decode_body(self.body, self.headers.get("content-type", ""))


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_:.-]+)", re.I)


def decode_body(body: bytes, content_type: str = "") -> str:
    for pattern, where in ((_HEADER_CHARSET, content_type), (_META_CHARSET, body[:2048])):
        match = pattern.search(where)  # type: ignore[arg-type]
        if match:
            name = match.group(1)
            charset = name.decode("ascii", "replace") if isinstance(name, bytes) else name
            try:
                return body.decode(charset, "replace")
            except LookupError:
                continue  # an unknown charset name: fall through to the next guess
    if body.startswith(b"\xef\xbb\xbf"):
        return body[3:].decode("utf-8", "replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", "replace")


def user_agent(settings: ServiceSettings) -> str:
    contact = f"; mailto:{settings.contact}" if settings.contact else ""
    return f"evidence-desk/{__version__} (report-generator; +https://pypi.org/project/evidence-desk/{contact})"


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


class _Host:
    """Per-host politeness: at most `concurrency` requests at once, `interval` seconds between their starts."""

    def __init__(self, concurrency: int, interval: float):
        self.slots = asyncio.Semaphore(concurrency)
        self.interval = interval
        self.next_start = 0.0
        self.lock = asyncio.Lock()

    async def wait_turn(self) -> None:
        async with self.lock:
            now = time.monotonic()
            delay = self.next_start - now
            self.next_start = max(now, self.next_start) + self.interval
        if delay > 0:
            await asyncio.sleep(delay)

    def pause(self, seconds: float) -> None:
        """A server said to slow down (429, Retry-After): every request to it waits."""
        self.next_start = max(self.next_start, time.monotonic() + seconds)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _reason(exc: Exception) -> str:
    chain = _causes(exc)
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return "connection refused"
    if any(isinstance(e, socket.gaierror) for e in chain):
        return "DNS lookup failed"
    text = " ".join(str(e) for e in chain).lower()
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        if "name or service" in text or "nodename" in text or "getaddrinfo" in text or "name resolution" in text:
            return "DNS lookup failed"
        if "refused" in text:
            return "connection refused"
        if "ssl" in text or "certificate" in text:
            return "TLS error"
        return "cannot connect"
    if isinstance(exc, httpx.RemoteProtocolError):
        # httpx reads a redirect's Location as the response arrives, even when it does not follow it
        return "redirect to an invalid address" if "location header" in text else "broken response"
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects"
    return type(exc).__name__


class PoliteClient:
    """`async with PoliteClient(settings) as client: await client.get(url)`.

    `progress`, when given, is called with one short line per request that had to wait or retry (the commands print
    it to standard error)."""

    def __init__(self, settings: ServiceSettings, progress: Callable[[str], None] | None = None,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.settings = settings
        self.progress = progress
        self._hosts: dict[str, _Host] = {}
        self._vetted: dict[str, str] = {}  # host → why it is refused ("" when it is not)
        self._client = httpx.AsyncClient(
            headers={"User-Agent": user_agent(settings)},
            timeout=httpx.Timeout(settings.timeout, connect=min(settings.timeout, 10.0)),
            follow_redirects=False, transport=transport, trust_env=False,
            limits=httpx.Limits(max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency))

    async def __aenter__(self) -> PoliteClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()

    async def _vet(self, url: str) -> None:
        """Refuse an address whose host is, or resolves to, this machine or a private network (each host looked up
        once per command). A DNS failure is left to the request itself, which reports it as such."""
        if self.settings.allow_private_addresses:
            return
        host = host_of(url).strip("[]")
        verdict = self._vetted.get(host)
        if verdict is None:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
                addresses = {str(info[4][0]) for info in infos}
            except (OSError, UnicodeError):
                addresses = set()
            private = sorted(a for a in addresses if not ipaddress.ip_address(a.split("%")[0]).is_global)
            verdict = self._vetted[host] = f"a private or local address ({private[0]})" if private else ""
        if verdict:
            raise FetchError(url, verdict)

    def _host(self, url: str) -> _Host:
        host = host_of(url)
        found = self._hosts.get(host)
        if found is None:
            found = self._hosts[host] = _Host(self.settings.per_host_concurrency, 1.0 / self.settings.requests_per_second)
        return found

    async def request(self, method: str, url: str, *, headers: dict[str, str] | None = None,
                      params: dict[str, str] | None = None, data: dict[str, str] | None = None,
                      follow_redirects: bool = True, max_bytes: int | None = None,
                      retry: bool = True) -> Fetched:
        """One request (and the redirects it leads to, each recorded), retried on timeouts, connection errors,
        429 and 5xx; raises FetchError once the retries are spent. A final 4xx or 5xx is returned, not raised:
        the caller decides what a 404 means."""
        max_bytes = max_bytes or self.settings.max_bytes
        redirects: list[tuple[int, str, str]] = []
        current = url
        while True:
            fetched = await self._one(method, current, headers, params, data, max_bytes, retry)
            location = fetched.headers.get("location")
            if not follow_redirects or fetched.status not in (301, 302, 303, 307, 308) or not location:
                fetched.redirects = redirects
                return fetched
            try:
                target = str(httpx.URL(current).join(location))
            except httpx.InvalidURL:
                raise FetchError(url, "redirect to an invalid address") from None
            if urlsplit(target).scheme not in ("http", "https"):
                raise FetchError(url, f"redirect to a non-web address ({urlsplit(target).scheme}:)")
            if headers and host_of(target) != host_of(current):  # credentials stay with the host they were for
                headers = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "cookie")}
            redirects.append((fetched.status, current, target))
            if len(redirects) > self.settings.max_redirects:
                raise FetchError(url, "too many redirects")
            if fetched.status == 303 or (fetched.status in (301, 302) and method == "POST"):
                method, data = "GET", None
            params = None  # the Location carries the query from here on
            current = target

    async def get(self, url: str, **kwargs: object) -> Fetched:
        return await self.request("GET", url, **kwargs)  # type: ignore[arg-type]

    async def _one(self, method: str, url: str, headers: dict[str, str] | None, params: dict[str, str] | None,
                   data: dict[str, str] | None, max_bytes: int, retry: bool) -> Fetched:
        await self._vet(url)
        host = self._host(url)
        attempts = self.settings.retries + 1 if retry else 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            async with host.slots:
                await host.wait_turn()
                try:
                    fetched = await self._send(method, url, headers, params, data, max_bytes)
                except httpx.InvalidURL:  # e.g. a `Location: javascript:…` httpx refuses to parse: never retried
                    raise FetchError(url, "redirect to an invalid address") from None
                except httpx.HTTPError as exc:
                    if last:
                        raise FetchError(url, _reason(exc)) from None
                    wait = self.settings.backoff * 2 ** attempt
                    self._say(f"{host_of(url)}: {_reason(exc)}, retrying in {wait:.1f} s")
                    await asyncio.sleep(wait)
                    continue
            if fetched.status not in RETRY_STATUSES or last:
                return fetched
            asked = _retry_after(fetched.headers.get("retry-after"))
            if asked is not None and asked > MAX_RETRY_AFTER:
                return fetched
            wait = asked if asked is not None else self.settings.backoff * 2 ** attempt
            if fetched.status == 429 or asked is not None:
                host.pause(wait)
            self._say(f"{host_of(url)}: HTTP {fetched.status}, retrying in {wait:.1f} s")
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(self, method: str, url: str, headers: dict[str, str] | None, params: dict[str, str] | None,
                    data: dict[str, str] | None, max_bytes: int) -> Fetched:
        request = self._client.build_request(method, url, headers=headers, params=params, data=data)
        response = await self._client.send(request, stream=True)
        try:
            chunks, size, truncated = [], 0, False
            # Read to the end even for HEAD (no body): a response closed unread closes its connection too, and
            # every request would then open a new one.
            async for chunk in response.aiter_bytes():  # decoded: the cap counts what is kept
                chunks.append(chunk)
                size += len(chunk)
                if size >= max_bytes:
                    truncated = True
                    break
            body = b"".join(chunks)[:max_bytes]
        finally:
            await response.aclose()
        return Fetched(str(response.url), response.status_code, response.headers, body, truncated=truncated)

    def _say(self, line: str) -> None:
        if self.progress is not None:
            self.progress(line)


class _VisibleText(HTMLParser):
    """The text a reader sees on a page: no scripts, styles or tags; whitespace collapsed."""

    SKIP = frozenset({"script", "style", "noscript", "template", "svg", "head"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.depth:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return re.sub(r"\s+", " ", " ".join(parser.parts)).strip()


def content_hash(fetched: Fetched) -> str:
    """A fingerprint of what a reader sees on the page (`sha256:…`): for HTML the visible text, so a rotated ad or
    a new script does not count as a change; other types byte for byte."""
    if fetched.content_type in ("text/html", "application/xhtml+xml"):
        data = visible_text(fetched.text()).encode("utf-8")
    else:
        data = fetched.body
    return "sha256:" + hashlib.sha256(data).hexdigest()
