"""`report links`: is every cited address still there, and is there an archived copy of it?

A link is asked with HEAD first, and with GET when HEAD's answer cannot be trusted (many servers refuse or break
on HEAD) or when the page's content hash was recorded and must be compared. Each answer becomes one of five
states: `ok`; `dead` (404, 410, other refusals of the page, 5xx after retries, an unknown host, a refused
connection, a redirect loop); `moved` (a permanent redirect somewhere new: the source's `url` should be
updated); `changed` (what a reader sees differs from the recorded `urlhash`); `unreachable` (a timeout, or a
site that refuses automated checks: 401, 403, 429; may work for a person or later).

Snapshots come from the Internet Archive: its availability API finds an existing one, Save Page Now (SPN2) makes
a new one. Text from remote answers is made inert where it enters a reason, and every output format of
`format_results` is inert again (no control or bidi character from the network reaches a terminal, a log, a
workflow command or an issue).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, urlsplit

import httpx

from generator.config import ServiceSettings
from generator.errors import github_property, github_text, inert, inert_json
from generator.net.http import Fetched, FetchError, PoliteClient, content_hash, host_of

OK, DEAD, MOVED, CHANGED, UNREACHABLE = "ok", "dead", "moved", "changed", "unreachable"
STATES = (OK, DEAD, MOVED, CHANGED, UNREACHABLE)
FORMATS = ("text", "json", "github", "markdown")

PERMANENT = frozenset({301, 308})
HEAD_TRUSTED_ERRORS = frozenset({404, 410})  # a HEAD answer that a GET would only repeat
REFUSED = {401: "the site requires a login", 403: "the site refuses automated checks",
           429: "the site is rate limiting requests"}
DEAD_REASONS = frozenset({"DNS lookup failed", "connection refused", "too many redirects"})

POLL_INTERVAL = 5.0  # seconds between Save Page Now status polls
POLL_LIMIT = 180.0  # seconds a capture may take before it is reported as not finished
SAVES_AT_ONCE = 2  # SPN2 limits the captures one user runs at once
KEYS_HINT = ("set the Internet Archive keys (ACCESS:SECRET from https://archive.org/account/s3.php) so that Save Page "
             "Now accepts the capture")
_TIMESTAMP = re.compile(r"\d{14}")
_JOB_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
_REMOTE_TEXT_LIMIT = 200


@dataclass
class LinkTarget:
    url: str
    keys: list[str]  # source keys that carry this URL (one URL may serve several sources)
    expected_hash: str = ""  # the recorded `urlhash`, if any


@dataclass
class LinkResult:
    url: str
    status: int | None  # final HTTP status; None when no answer
    state: str  # one of STATES
    reason: str  # readable: "HTTP 404", "DNS lookup failed", "timeout", "moved permanently to https://…"
    final_url: str
    redirects: list[tuple[int, str, str]]
    method: str  # "HEAD" or "GET": what gave the answer
    content_hash: str = ""  # when a GET body was read (2xx)
    elapsed: float = 0.0
    keys: list[str] = field(default_factory=list)  # the target's keys, for the report formats

    @property
    def moved_to(self) -> str:
        """The address the source's `url` should become when the state is `moved` (else "")."""
        return new_address(self.redirects)


@dataclass
class Snapshot:
    url: str  # {settings.wayback}/web/<timestamp>/<url>
    date: str  # ISO YYYY-MM-DD from the timestamp
    created: bool  # True when Save Page Now made it now; False when an existing one was found


@dataclass
class ArchiveFailure:
    url: str
    reason: str
    hint: str = ""


class ArchiveError(Exception):
    """A snapshot that could not be found or made; `stop_all` when no further capture can succeed in this run
    (rate limited, keys refused)."""

    def __init__(self, failure: ArchiveFailure, stop_all: bool = False):
        super().__init__(f"{failure.url}: {failure.reason}")
        self.failure = failure
        self.stop_all = stop_all


# ---------------------------------------------------------------------------------------------------- checking


def _port(parts: SplitResult) -> int | None:
    try:
        return parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return None


def trivial_move(source: str, target: str) -> bool:
    """A permanent redirect that changes nothing a writer must record: http to https on the same host and path
    (the port goes with the scheme), or a trailing slash added or removed."""
    a, b = urlsplit(source), urlsplit(target)
    if (a.hostname or "").lower() != (b.hostname or "").lower() or a.query != b.query:
        return False
    if a.scheme == b.scheme:
        if _port(a) != _port(b):
            return False
    elif (a.scheme, b.scheme) != ("http", "https"):
        return False
    return (a.path.rstrip("/") or "/") == (b.path.rstrip("/") or "/")


def new_address(redirects: list[tuple[int, str, str]]) -> str:
    """Where a chain of redirects moved an address for good: the target of its last permanent (301/308) redirect,
    when at least one permanent redirect is more than a trivial move; else ""."""
    permanent = [(source, target) for status, source, target in redirects if status in PERMANENT]
    if all(trivial_move(source, target) for source, target in permanent):
        return ""
    return permanent[-1][1]


def _from_answer(target: LinkTarget, fetched: Fetched, method: str, started: float) -> LinkResult:
    status = fetched.status
    digest = content_hash(fetched) if method == "GET" and 200 <= status < 300 else ""
    result = LinkResult(target.url, status, OK, f"HTTP {status}", fetched.url, fetched.redirects, method, digest,
                        keys=list(target.keys))
    moved = new_address(fetched.redirects)
    if status in REFUSED:
        result.state, result.reason = UNREACHABLE, f"HTTP {status} ({REFUSED[status]})"
    elif status >= 400:
        result.state = DEAD
    elif target.expected_hash and digest != target.expected_hash.strip().lower():
        result.state, result.reason = CHANGED, "content changed since it was recorded"
        if moved:
            result.reason += f"; moved permanently to {inert(moved)}"
    elif moved:
        result.state, result.reason = MOVED, f"moved permanently to {inert(moved)}"
    result.elapsed = time.monotonic() - started
    return result


def _from_failure(target: LinkTarget, reason: str, method: str, started: float) -> LinkResult:
    dead = reason in DEAD_REASONS or reason.startswith(("redirect to a non-web address", "redirect to an invalid address"))
    return LinkResult(target.url, None, DEAD if dead else UNREACHABLE, reason, target.url, [], method,
                      elapsed=time.monotonic() - started, keys=list(target.keys))


async def _ask(client: PoliteClient, method: str, url: str, retry: bool) -> Fetched | str:
    """The answer, or the reason there is none."""
    try:
        return await client.request(method, url, retry=retry)
    except FetchError as exc:
        return exc.reason
    except httpx.InvalidURL:  # the address, or a Location header on the way, is not a valid URL
        return "invalid address"


async def check_link(target: LinkTarget, client: PoliteClient) -> LinkResult:
    """One link: HEAD (one attempt), then GET (with the client's retries) when HEAD's answer is not conclusive or
    the content hash must be compared."""
    started = time.monotonic()
    if not target.expected_hash:
        head = await _ask(client, "HEAD", target.url, retry=False)
        if isinstance(head, Fetched) and (head.status < 400 or head.status in HEAD_TRUSTED_ERRORS):
            return _from_answer(target, head, "HEAD", started)
    got = await _ask(client, "GET", target.url, retry=True)
    if isinstance(got, str):
        return _from_failure(target, got, "GET", started)
    return _from_answer(target, got, "GET", started)


def _interleaved(targets: list[LinkTarget]) -> list[int]:
    """Target indices taking hosts in turn, so that the requests in flight are spread over the hosts."""
    by_host: dict[str, list[int]] = {}
    for index, target in enumerate(targets):
        by_host.setdefault(host_of(target.url), []).append(index)
    queues = list(by_host.values())
    order: list[int] = []
    for depth in range(max((len(q) for q in queues), default=0)):
        order += [q[depth] for q in queues if depth < len(q)]
    return order


async def check_links(targets: list[LinkTarget], client: PoliteClient,
                      progress: Callable[[int, int], None] | None = None) -> list[LinkResult]:
    """Every target, side by side (the client keeps each host polite; at most `concurrency` checks run at once, so
    none waits in the connection pool past its timeout); results in the order of `targets`."""
    results: list[LinkResult | None] = [None] * len(targets)
    slots = asyncio.Semaphore(client.settings.concurrency)
    done = 0

    async def one(index: int) -> None:
        nonlocal done
        async with slots:
            results[index] = await check_link(targets[index], client)
        done += 1
        if progress is not None:
            progress(done, len(targets))

    await asyncio.gather(*(one(index) for index in _interleaved(targets)))
    return [result for result in results if result is not None]


# --------------------------------------------------------------------------------------------------- archiving


def _remote(text: object) -> str:
    """Text from a remote answer, inert and short."""
    value = inert(str(text))
    return value if len(value) <= _REMOTE_TEXT_LIMIT else value[:_REMOTE_TEXT_LIMIT] + "…"


def _json(fetched: Fetched) -> dict[str, Any] | None:
    try:
        data = json.loads(fetched.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _snapshot(url: str, timestamp: object, settings: ServiceSettings, created: bool) -> Snapshot | None:
    """The snapshot's address in the configured Wayback form. Its tail is the address asked for, never one from
    the answer, so nothing remote ends up in a .bib field."""
    if not isinstance(timestamp, str) or not _TIMESTAMP.fullmatch(timestamp):
        return None
    try:
        day = dt.datetime.strptime(timestamp, "%Y%m%d%H%M%S").date()
    except ValueError:
        return None
    return Snapshot(f"{settings.wayback}/web/{timestamp}/{url}", day.isoformat(), created)


async def find_snapshot(url: str, client: PoliteClient, settings: ServiceSettings, *,
                        newer_than: dt.date | None = None) -> Snapshot | None:
    """The newest existing snapshot of `url` with status 200 (on `newer_than` or later, when given), from the
    availability API; None when there is none. Raises ArchiveError when the API cannot be asked."""
    try:
        got = await client.get(settings.wayback_availability, params={"url": url},
                               headers={"Accept": "application/json"})
    except (FetchError, httpx.InvalidURL) as exc:
        reason = exc.reason if isinstance(exc, FetchError) else "invalid address"
        raise ArchiveError(ArchiveFailure(url, f"the availability API did not answer ({reason})")) from None
    data = _json(got) if got.status == 200 else None
    if data is None:
        what = f"HTTP {got.status}" if got.status != 200 else "not JSON"
        raise ArchiveError(ArchiveFailure(url, f"the availability API gave an unexpected answer ({what})"))
    snapshots = data.get("archived_snapshots")
    closest = snapshots.get("closest") if isinstance(snapshots, dict) else None
    if not isinstance(closest, dict) or closest.get("available") is not True or str(closest.get("status")) != "200":
        return None
    found = _snapshot(url, closest.get("timestamp"), settings, created=False)
    if found is None or (newer_than is not None and found.date < newer_than.isoformat()):
        return None
    return found


async def _spn(client: PoliteClient, method: str, address: str, url: str, headers: dict[str, str],
               data: dict[str, str] | None = None) -> dict[str, Any]:
    """One Save Page Now request; its JSON answer, or ArchiveError. Redirects are not followed: the client would
    send the Authorization header along to wherever they lead."""
    try:
        got = await client.request(method, address, headers=headers, data=data, follow_redirects=False)
    except (FetchError, httpx.InvalidURL) as exc:
        reason = exc.reason if isinstance(exc, FetchError) else "invalid address"
        raise ArchiveError(ArchiveFailure(url, f"Save Page Now did not answer ({reason})")) from None
    if got.status in (401, 403):
        hint = "check the Internet Archive keys" if "Authorization" in headers else KEYS_HINT
        raise ArchiveError(ArchiveFailure(url, f"Save Page Now refused the capture (HTTP {got.status})", hint),
                           stop_all=True)
    if got.status == 429:
        raise ArchiveError(ArchiveFailure(url, "Save Page Now is rate limiting captures (HTTP 429)",
                                          "wait a while and run the command again; captures with keys are limited "
                                          "less"), stop_all=True)
    if got.status >= 300:
        raise ArchiveError(ArchiveFailure(url, f"Save Page Now answered HTTP {got.status}"))
    answer = _json(got)
    if answer is None:
        html = got.content_type in ("text/html", "application/xhtml+xml")
        raise ArchiveError(ArchiveFailure(url, "Save Page Now answered with a web page, not a capture job" if html
                                          else "Save Page Now gave an answer that is not JSON",
                                          KEYS_HINT if html and "Authorization" not in headers else ""),
                           stop_all=html)
    return answer


def _spn_error(answer: dict[str, Any]) -> str:
    message = answer.get("message") or answer.get("status_ext") or "no reason given"
    ext = answer.get("status_ext")
    detail = _remote(message) + (f" ({_remote(ext)})" if ext and ext != message else "")
    return f"Save Page Now could not capture the page: {detail}"


async def save_snapshot(url: str, client: PoliteClient, settings: ServiceSettings, keys: str = "", *,
                        poll_interval: float = POLL_INTERVAL, time_limit: float = POLL_LIMIT) -> Snapshot:
    """A new snapshot from Save Page Now (SPN2): the capture is started, then its status polled every
    `poll_interval` seconds for up to `time_limit`. `keys` is ACCESS:SECRET; without it the anonymous form is
    used. Raises ArchiveError."""
    headers = {"Accept": "application/json"}
    if keys:
        if not re.fullmatch(r"[^\s:]+:[^\s:]+", keys):
            raise ArchiveError(ArchiveFailure(url, "the Internet Archive keys are not in the form ACCESS:SECRET",
                                              KEYS_HINT), stop_all=True)
        headers["Authorization"] = f"LOW {keys}"
    started = await _spn(client, "POST", f"{settings.wayback}/save", url, headers,
                         {"url": url, "skip_first_archive": "1"})
    job = started.get("job_id")
    if not isinstance(job, str) or not _JOB_ID.fullmatch(job):
        if started.get("status") == "error" or started.get("message"):
            raise ArchiveError(ArchiveFailure(url, _spn_error(started)))
        raise ArchiveError(ArchiveFailure(url, "Save Page Now started no capture job"))
    deadline = time.monotonic() + time_limit
    while True:
        await asyncio.sleep(poll_interval)
        answer = await _spn(client, "GET", f"{settings.wayback}/save/status/{job}", url, headers)
        status = answer.get("status")
        if status == "success":
            made = _snapshot(url, answer.get("timestamp"), settings, created=True)
            if made is None:
                raise ArchiveError(ArchiveFailure(url, "Save Page Now reported success without a valid timestamp"))
            return made
        if status == "error":
            raise ArchiveError(ArchiveFailure(url, _spn_error(answer)))
        if time.monotonic() >= deadline:
            raise ArchiveError(ArchiveFailure(url, f"Save Page Now did not finish within {time_limit:g} s",
                                              "the capture may still finish: run the command again later"))


async def archive(urls: list[str], client: PoliteClient, settings: ServiceSettings, keys: str = "",
                  progress: Callable[[int, int], None] | None = None, *, newer_than: dt.date | None = None,
                  poll_interval: float = POLL_INTERVAL, time_limit: float = POLL_LIMIT
                  ) -> dict[str, Snapshot | ArchiveFailure]:
    """A snapshot of every address: an existing one when there is one (on `newer_than` or later, when given), else
    a new capture. Once Save Page Now refuses for good (rate limit, keys), the captures not yet started are not
    attempted and carry that failure."""
    found: dict[str, Snapshot | ArchiveFailure] = {}
    saves = asyncio.Semaphore(SAVES_AT_ONCE)
    stopped: ArchiveFailure | None = None
    done = 0

    async def one(url: str) -> None:
        nonlocal done, stopped
        try:
            snapshot = await find_snapshot(url, client, settings, newer_than=newer_than)
        except ArchiveError:
            snapshot = None  # the availability API did not answer: a capture is still worth trying
        if snapshot is not None:
            found[url] = snapshot
        else:
            async with saves:
                if stopped is not None:
                    found[url] = ArchiveFailure(url, f"not attempted: {stopped.reason}", stopped.hint)
                else:
                    try:
                        found[url] = await save_snapshot(url, client, settings, keys, poll_interval=poll_interval,
                                                         time_limit=time_limit)
                    except ArchiveError as exc:
                        found[url] = exc.failure
                        if exc.stop_all:
                            stopped = exc.failure
        done += 1
        if progress is not None:
            progress(done, len(unique))

    unique = list(dict.fromkeys(urls))
    await asyncio.gather(*(one(url) for url in unique))
    return {url: found[url] for url in unique}


# ----------------------------------------------------------------------------------------------------- reports


def _by_report(results: list[LinkResult], where: dict[str, list[str]]
               ) -> tuple[dict[str, list[tuple[str, LinkResult]]], dict[str, int]]:
    """Per report slug ("" for sources no report cites): its problem sources, and how many of its sources are ok."""
    problems: dict[str, list[tuple[str, LinkResult]]] = {}
    ok: dict[str, int] = {}
    for result in results:
        for key in dict.fromkeys(result.keys):
            for slug in dict.fromkeys(where.get(key) or [""]):
                problems.setdefault(slug, [])
                ok.setdefault(slug, 0)
                if result.state == OK:
                    ok[slug] += 1
                else:
                    problems[slug].append((key, result))
    order = sorted(problems, key=lambda slug: (slug == "", slug))
    return {slug: sorted(problems[slug], key=lambda item: (item[0], item[1].url)) for slug in order}, ok


def _counts(results: list[LinkResult]) -> str:
    counts = {state: 0 for state in STATES}
    for result in results:
        counts[result.state] = counts.get(result.state, 0) + 1
    return ", ".join(f"{counts[state]} {state}" for state in STATES)


def _title(slug: str) -> str:
    return slug if slug else "(cited by no report)"


_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def _md_plain(text: str) -> str:
    """Markdown text that renders as written: every ASCII punctuation mark escaped (no emphasis, link, HTML,
    entity, mention, reference or table cell boundary can start)."""
    return _PUNCTUATION.sub(r"\\\1", inert(text))


def _md_code(text: str) -> str:
    """A code span showing `text` (inside a table: pipes escaped as GFM requires there)."""
    text = inert(text).replace("|", "\\|")
    if not text:
        return ""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text[0] in "` " or text[-1] in "` " else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _md_words(text: str) -> str:
    """Readable text whose address-like words (with `:`, `/`, `@` or `www.`) are code spans, so that nothing
    becomes a live link or a mention."""
    words = []
    for word in inert(text).split(" "):
        addressy = any(mark in word for mark in ":/@") or "www." in word.lower()
        words.append(_md_code(word) if addressy else _md_plain(word))
    return " ".join(words)


def _json_result(result: LinkResult, where: dict[str, list[str]], locations: dict[str, tuple[str, int]]
                 ) -> dict[str, Any]:
    keys = list(dict.fromkeys(result.keys))
    return {
        "url": result.url, "state": result.state, "status": result.status, "reason": result.reason,
        "moved_to": result.moved_to if result.state in (MOVED, CHANGED) else "",
        "final_url": result.final_url,
        "redirects": [{"status": status, "from": source, "to": target} for status, source, target in result.redirects],
        "method": result.method, "content_hash": result.content_hash, "elapsed": round(result.elapsed, 3),
        "keys": keys, "reports": sorted({slug for key in keys for slug in where.get(key, [])}),
        "locations": [{"key": key, "file": locations[key][0], "line": locations[key][1]}
                      for key in keys if key in locations],
    }


def format_results(results: list[LinkResult], where: dict[str, list[str]], locations: dict[str, tuple[str, int]],
                   fmt: str) -> str:
    """The results for a person (`text`), a program (`json`), a workflow log (`github`: one annotation per
    problem source, nothing else) or a GitHub issue (`markdown`). `where[key]` are the slugs of the reports that
    cite a source; `locations[key]` its (bib file relative to the project, line). Every format is inert."""
    if fmt == "json":
        return inert_json(json.dumps([_json_result(r, where, locations) for r in results], indent=2,
                                     ensure_ascii=False)) + "\n"
    if fmt == "github":
        annotations = []
        for result in results:
            for key in dict.fromkeys(result.keys):
                if result.state == OK:
                    continue
                level = "error" if result.state == DEAD else "warning"
                file, line = locations.get(key, ("", 0))
                place = f" file={github_property(file)}" + (f",line={line}" if line else "") if file else ""
                cited = ", ".join(where.get(key) or []) or "no report"
                message = f"{key}: {result.url} is {result.state}: {result.reason} (cited in {cited})"
                annotations.append((file, line, key, f"::{level}{place}::{github_text(message)}"))
        return "".join(f"{text}\n" for *_, text in sorted(annotations))
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    problems, ok = _by_report(results, where)
    summary = f"{len(results)} link(s) checked on {dt.date.today().isoformat()}: {_counts(results)}"
    if fmt == "markdown":
        parts = ["Cited sources whose address did not work as recorded when `report links` checked them, by report."]
        for slug, items in problems.items():
            if not items:
                continue
            rows = [f"| {_md_code(key)} | {_md_code(result.url)} | **{result.state}**: {_md_words(result.reason)} |"
                    for key, result in items]
            parts.append("\n".join([f"### {_md_plain(_title(slug))}", "",
                                    f"{len(items)} problem source(s), {ok[slug]} ok.", "",
                                    "| Source | Address | Problem |", "| --- | --- | --- |", *rows]))
        parts.append(summary + ".")  # our own words and numbers
        return "\n\n".join(parts) + "\n"
    lines = []
    for slug, items in problems.items():
        lines.append(f"{inert(_title(slug))}: {len(items)} problem(s), {ok[slug]} ok")
        lines += [f"  {result.state:<11} {inert(key)}  {inert(result.url)}  {inert(result.reason)}"
                  for key, result in items]
    lines.append(summary)
    return "\n".join(lines) + "\n"
