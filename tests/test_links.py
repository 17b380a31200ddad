"""`report links`' checker and archiver against a local web (tests/fake_web.py): what counts as dead, moved,
changed or unreachable; HEAD with a GET fallback; retries; the Internet Archive's availability API and Save Page
Now; and the four output formats, inert whatever the servers answer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

from generator.config import ServiceSettings
from generator.net.http import PoliteClient, content_hash
from generator.net.links import (
    ArchiveFailure,
    LinkResult,
    LinkTarget,
    Snapshot,
    archive,
    check_links,
    format_results,
    trivial_move,
)

from .fake_web import FakeWeb, article, closed_port


@pytest.fixture(scope="module")
def web() -> Iterator[FakeWeb]:
    server = FakeWeb().start()
    yield server
    server.stop()


def _settings(web: FakeWeb, **overrides: object) -> ServiceSettings:
    values: dict[str, object] = {"requests_per_second": 100, "backoff": 0.05, "timeout": 1, "retries": 1,
                                 "allow_private_addresses": True,
                                 "wayback": f"{web.base}/ia", "wayback_availability": f"{web.base}/wayback/available"}
    return ServiceSettings(**{**values, **overrides})


def _check(web: FakeWeb, targets: list[LinkTarget], **overrides: object) -> list[LinkResult]:
    async def run() -> list[LinkResult]:
        async with PoliteClient(_settings(web, **overrides)) as client:
            return await check_links(targets, client)
    return asyncio.run(run())


def _one(web: FakeWeb, path: str, expected_hash: str = "") -> LinkResult:
    return _check(web, [LinkTarget(f"{web.base}{path}", ["k"], expected_hash)])[0]


@pytest.mark.parametrize(("path", "state", "reason", "method"), [
    ("/page/ok", "ok", "HTTP 200", "HEAD"),
    ("/nohead/x", "ok", "HTTP 200", "GET"),  # HEAD 405: the GET decides
    ("/status/404/x", "dead", "HTTP 404", "HEAD"),
    ("/status/410/x", "dead", "HTTP 410", "HEAD"),
    ("/status/500/x", "dead", "HTTP 500", "GET"),  # after the retries
    ("/status/403/x", "unreachable", "HTTP 403 (the site refuses automated checks)", "GET"),
    ("/status/401/x", "unreachable", "HTTP 401 (the site requires a login)", "GET"),
    ("/flaky/1/a", "ok", "HTTP 200", "GET"),  # one 503, then the retry answers
    ("/limited/1/a", "ok", "HTTP 200", "GET"),  # a 429 with Retry-After
    ("/moved/old", "moved", "moved permanently to {base}/page/new-old", "HEAD"),
    ("/slash/dir", "ok", "HTTP 200", "HEAD"),  # a trailing slash is no move to record
    ("/found/temp", "ok", "HTTP 200", "HEAD"),  # 302: the address stays
    ("/loop/a", "dead", "too many redirects", "GET"),
    ("/jsredirect", "dead", "redirect to an invalid address", "GET"),
    ("/badredirect", "dead", "redirect to an invalid address", "GET"),  # a Location httpx cannot read
    ("/slow/x", "unreachable", "timeout", "GET"),
])
def test_what_each_answer_means(web: FakeWeb, path: str, state: str, reason: str, method: str) -> None:
    result = _one(web, path)
    assert (result.state, result.reason, result.method) == (state, reason.format(base=web.base), method)


def test_a_closed_port_is_dead(web: FakeWeb) -> None:
    result = _check(web, [LinkTarget(f"http://127.0.0.1:{closed_port()}/x", ["k"])])[0]
    assert result.state == "dead" and result.status is None


def test_changed_means_what_a_reader_sees_changed(web: FakeWeb) -> None:
    web.articles["a"] = article("The trial enrolled 48 patients.", script="ad-1")
    first = _one(web, "/article/a", expected_hash="sha256:0")
    assert first.state == "changed" and first.method == "GET"
    recorded = first.content_hash
    web.articles["a"] = article("The trial enrolled 48 patients.", script="ad-2")  # only a script differs
    assert _one(web, "/article/a", expected_hash=recorded).state == "ok"
    web.articles["a"] = article("The trial enrolled 12 patients.", script="ad-2")
    changed = _one(web, "/article/a", expected_hash=recorded)
    assert (changed.state, changed.reason) == ("changed", "content changed since it was recorded")


def test_trivial_moves() -> None:
    assert trivial_move("http://example.org/a", "https://example.org/a")
    assert trivial_move("https://example.org/a", "https://example.org/a/")
    assert not trivial_move("https://example.org/a", "https://example.org/b")
    assert not trivial_move("https://example.org/a", "https://example.com/a")
    assert not trivial_move("https://example.org/a", "http://example.org/a")  # a downgrade is worth a look


def test_many_links_over_several_hosts_all_come_back_in_order(web: FakeWeb) -> None:
    hosts = [FakeWeb(host=f"127.0.0.{n}").start() for n in (2, 3, 4)]
    try:
        servers = [web, *hosts]
        targets = [LinkTarget(f"{servers[i % 4].base}/page/{i}", [f"k{i}"]) for i in range(200)]
        results = _check(web, targets, per_host_concurrency=4)
        assert [r.url for r in results] == [t.url for t in targets]
        assert {r.state for r in results} == {"ok"}
    finally:
        for host in hosts:
            host.stop()


def test_the_user_agent_names_the_desk(web: FakeWeb) -> None:
    _check(web, [LinkTarget(f"{web.base}/page/agent", ["k"])], contact="desk@example.org")
    agents = [headers.get("User-Agent", "") for method, path, headers, _ in web.requests if path == "/page/agent"]
    assert agents and all("mailto:desk@example.org" in agent for agent in agents)


# -- the Internet Archive ---------------------------------------------------------------------------------------


def _archive(web: FakeWeb, urls: list[str], keys: str = "") -> dict[str, Snapshot | ArchiveFailure]:
    async def run() -> dict[str, Snapshot | ArchiveFailure]:
        settings = _settings(web)
        async with PoliteClient(settings) as client:
            return await archive(urls, client, settings, keys, poll_interval=0.01)
    return asyncio.run(run())


def test_an_existing_snapshot_is_found_and_a_missing_one_made(web: FakeWeb) -> None:
    old, new, bad = f"{web.base}/page/archived-1", f"{web.base}/page/fresh-1", f"{web.base}/page/snap404-1"
    found = _archive(web, [old, new, bad])
    assert found[old] == Snapshot(f"{web.base}/ia/web/20250102030405/{old}", "2025-01-02", False)
    assert found[new] == Snapshot(f"{web.base}/ia/web/20260102030405/{new}", "2026-01-02", True)
    assert found[bad].created  # a snapshot of an error page is no copy: a new one is made


@pytest.mark.parametrize(("tail", "keys", "reason"), [
    ("ratelimit", "", "Save Page Now is rate limiting captures (HTTP 429)"),
    ("needkeys", "", "Save Page Now refused the capture (HTTP 401)"),
    ("htmlpage", "", "Save Page Now answered with a web page, not a capture job"),
    ("joberror", "", "Save Page Now could not capture the page: Live page is not available: 404\\n::error::injected "
                     "(error:not-found)"),
    ("fine", "not keys", "the Internet Archive keys are not in the form ACCESS:SECRET"),
])
def test_save_page_now_failures_are_readable_and_inert(web: FakeWeb, tail: str, keys: str, reason: str) -> None:
    url = f"{web.base}/page/{tail}-x"
    failure = _archive(web, [url], keys)[url]
    assert isinstance(failure, ArchiveFailure) and failure.reason == reason
    assert "\n" not in failure.reason


def test_keys_are_sent_when_given(web: FakeWeb) -> None:
    url = f"{web.base}/page/needkeys-y"
    assert isinstance(_archive(web, [url], "access:secret")[url], Snapshot)
    posts = [headers for method, path, headers, body in web.requests if method == "POST" and "needkeys-y" in body]
    assert posts and posts[-1].get("Authorization") == "LOW access:secret"


def test_once_save_page_now_refuses_the_rest_is_not_attempted(web: FakeWeb) -> None:
    urls = [f"{web.base}/page/ratelimit-{n}" for n in range(5)]
    found = _archive(web, urls)
    reasons = [f.reason for f in found.values() if isinstance(f, ArchiveFailure)]
    assert len(reasons) == 5 and sum(r.startswith("not attempted") for r in reasons) >= 2


# -- formats ------------------------------------------------------------------------------------------------------


HOSTILE = LinkResult("https://example.org/a|b`c\n::error::x", 404, "dead", "HTTP 404\n::error file=x::owned \u202e",
                     "https://example.org/a", [], "GET", keys=["alpha|`x`"])
FINE = LinkResult("https://example.org/ok", 200, "ok", "HTTP 200", "https://example.org/ok", [], "HEAD", keys=["beta"])
WHERE = {"alpha|`x`": ["rep"], "beta": ["rep"]}
LOCATIONS = {"alpha|`x`": ("bib/a,b:c.bib", 3), "beta": ("bib/s.bib", 9)}


def test_text_format() -> None:
    text = format_results([HOSTILE, FINE], WHERE, LOCATIONS, "text")
    assert text.splitlines()[:2] == [
        "rep: 1 problem(s), 1 ok",
        "  dead        alpha|`x`  https://example.org/a|b`c\\n::error::x  HTTP 404\\n::error file=x::owned \\u202e"]


def test_github_format_is_one_escaped_annotation_per_problem() -> None:
    text = format_results([HOSTILE, FINE], WHERE, LOCATIONS, "github")
    assert text == ("::error file=bib/a%2Cb%3Ac.bib,line=3::alpha|`x`: https://example.org/a|b`c\\n::error::x is dead: "
                    "HTTP 404\\n::error file=x::owned \\u202e (cited in rep)\n")


def test_markdown_format_shows_addresses_as_code_and_breaks_no_table() -> None:
    text = format_results([HOSTILE, FINE], WHERE, LOCATIONS, "markdown")
    row = next(line for line in text.splitlines() if line.startswith("| ``"))
    assert row.count(" | ") == 2 and "\\|" in row  # pipes escaped inside the code spans
    assert "\n::" not in text and "\u202e" not in text and "<" not in text
    assert "](" not in text  # never a live link


def test_json_format_round_trips() -> None:
    data = json.loads(format_results([HOSTILE, FINE], WHERE, LOCATIONS, "json"))
    assert [d["state"] for d in data] == ["dead", "ok"]
    assert data[0]["locations"] == [{"key": "alpha|`x`", "file": "bib/a,b:c.bib", "line": 3}]
    assert data[0]["reason"] == HOSTILE.reason  # JSON escapes keep the value; the text stays inert


def test_the_hash_is_of_visible_text() -> None:
    from generator.net.http import Fetched

    def page(script: str, text: str) -> Fetched:
        import httpx

        return Fetched("https://x", 200, httpx.Headers({"content-type": "text/html"}), article(text, script).encode())

    assert content_hash(page("a", "same")) == content_hash(page("b", "same")) != content_hash(page("a", "other"))


@pytest.mark.parametrize("host", ["127.0.0.1", "10.0.0.8", "169.254.169.254", "[::1]", "localhost", "192.168.1.1"])
def test_private_and_local_addresses_are_refused_by_default(web: FakeWeb, host: str) -> None:
    """Cited addresses are chosen by whoever wrote the content: the weekly check on a runner must not probe the
    runner's own network (a cloud's metadata service, an intranet). Nothing is sent."""
    before = len(web.requests)
    port = web.port if host == "127.0.0.1" else 80
    result = _check(web, [LinkTarget(f"http://{host}:{port}/page/private", ["k"])], allow_private_addresses=False)[0]
    assert result.state == "unreachable" and result.reason.startswith("a private or local address (")
    assert len(web.requests) == before


def test_a_host_that_does_not_exist_is_dead(web: FakeWeb) -> None:
    """`.invalid` never resolves (RFC 2606): the lookup fails at once, also where DNS cannot be reached at all."""
    result = _check(web, [LinkTarget("https://source.invalid/page", ["k"])], allow_private_addresses=False)[0]
    assert (result.state, result.reason) == ("dead", "DNS lookup failed")


def test_credentials_never_follow_a_redirect_to_another_host() -> None:
    """A Save Page Now key (or any Authorization) sent to one host is dropped when a redirect leads to another;
    a redirect within the host keeps it."""
    import httpx

    seen: list[tuple[str, str | None]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append((str(request.url), request.headers.get("authorization")))
        if request.url.path == "/start":
            return httpx.Response(302, headers={"Location": "/next"})
        if request.url.path == "/next":
            return httpx.Response(302, headers={"Location": "https://elsewhere.example/landing"})
        return httpx.Response(200, text="ok")

    async def run() -> None:
        settings = ServiceSettings(allow_private_addresses=True, requests_per_second=100)
        async with PoliteClient(settings, transport=httpx.MockTransport(answer)) as client:
            await client.request("GET", "https://archive.example/start", headers={"Authorization": "LOW a:b"})

    asyncio.run(run())
    assert seen == [("https://archive.example/start", "LOW a:b"), ("https://archive.example/next", "LOW a:b"),
                    ("https://elsewhere.example/landing", None)]
