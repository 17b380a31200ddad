"""How long checking links takes: `python -m bench.links [N]` (default 500).

N cited addresses spread over five local sites (tests/fake_web.py on 127.0.0.1–127.0.0.5), one in ten dead, one in
twenty moved, checked by `generator.net.links.check_links` at 100 requests per second per host (the tool's own
cost; at the default of one per second per host, N links on five hosts take about N/5 seconds however fast the
tool is)."""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter

from generator.config import ServiceSettings
from generator.net.http import PoliteClient
from generator.net.links import LinkTarget, check_links
from tests.fake_web import FakeWeb


def main(n: int) -> None:
    sites = [FakeWeb(host=f"127.0.0.{i}").start() for i in range(1, 6)]
    try:
        targets = []
        for i in range(n):
            base = sites[i % len(sites)].base
            path = f"/status/404/{i}" if i % 10 == 3 else f"/moved/{i}" if i % 20 == 7 else f"/page/{i}"
            targets.append(LinkTarget(base + path, [f"source{i}"]))
        settings = ServiceSettings(requests_per_second=100, per_host_concurrency=4, timeout=5, retries=1, backoff=0.05,
                                   allow_private_addresses=True)

        async def run() -> list:  # type: ignore[type-arg]
            async with PoliteClient(settings) as client:
                return await check_links(targets, client)

        start = time.perf_counter()
        results = asyncio.run(run())
        elapsed = time.perf_counter() - start
        states = Counter(r.state for r in results)
        requests = sum(len(site.requests) for site in sites)
    finally:
        for site in sites:
            site.stop()
    print(f"checking {n} links on 5 local sites ({requests} requests): {elapsed:.2f} s, "
          f"{elapsed / n * 1000:.1f} ms a link; " + ", ".join(f"{count} {state}" for state, count in sorted(states.items())))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
