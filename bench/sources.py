"""How long resolving identifiers takes: `python -m bench.sources [N]` (default 100).

Against the local stand-ins of the services (tests/fake_services.py, on 127.0.0.1), N identifiers — DOIs, PubMed
ids, arXiv ids and web pages, a quarter each, spread over four hosts as the real services are — resolved by
`report sources resolve` into a fresh project, at 100 requests per second per host (the tool's own cost). The local
services share one host, so every request queues behind that limit; at the default of one request per second per
host the pace is the politeness, not the tool (`--polite` runs that too: about two minutes for 100)."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from generator.cli import main
from tests.conftest import minimal_files, write_tree
from tests.fake_services import CSL, FIXTURES, FakeServices, Route


def _routes(fake: FakeServices, n: int) -> list[str]:
    """N fictitious records, each a copy of a fixture with its own identifier; their citation keys."""
    article = json.loads((FIXTURES / "crossref-article.json").read_text(encoding="utf-8"))
    pubmed = json.loads((FIXTURES / "pubmed-article.json").read_text(encoding="utf-8"))
    arxiv = (FIXTURES / "arxiv-entry.xml").read_text(encoding="utf-8")
    news = (FIXTURES / "news.html").read_text(encoding="utf-8")
    keys = []
    for i in range(n):
        kind = i % 4
        if kind == 0:
            doi = f"10.5555/bench.{i}"
            record = {**article, "DOI": doi, "title": f"{article['title']} ({i})"}
            path = f"/crossref/v1/works/{doi}/transform/{CSL}"
            fake.routes[f"/doi/{doi}"] = Route(status=302, headers={"Location": path}, content_type="text/plain", body=b"")
            fake.routes[path] = Route(body=json.dumps(record).encode(), content_type=CSL)
            keys.append(f"doi:{doi}")
        elif kind == 1:
            uid = str(90000000 + i)
            record = json.loads(json.dumps(pubmed).replace("99999901", uid))
            record["result"][uid]["articleids"] = [a for a in record["result"][uid].get("articleids", [])
                                                   if a.get("idtype") != "doi"]
            fake.routes[f"/ncbi/esummary.fcgi?db=pubmed&id={uid}"] = Route(body=json.dumps(record).encode())
            keys.append(f"pmid:{uid}")
        elif kind == 2:
            arxiv_id = f"2402.{10000 + i}"
            fake.routes[f"/arxiv/query?id_list={arxiv_id}"] = Route(
                body=arxiv.replace("2401.99991", arxiv_id).replace("10.5555/evd.2024.991", f"10.5555/arxiv.{i}").encode(),
                content_type="application/atom+xml; charset=utf-8")
            keys.append(f"arxiv:{arxiv_id}")
        else:
            fake.routes[f"/web/bench-{i}"] = Route(body=news.replace("Vaccine trial", f"Vaccine trial {i}").encode(),
                                                   content_type="text/html; charset=utf-8")
            keys.append("{url:" + fake.url(f"/web/bench-{i}") + "}")
    return keys


def run(n: int, requests_per_second: float) -> tuple[float, int]:
    with FakeServices() as fake, tempfile.TemporaryDirectory() as tmp:
        keys = _routes(fake, n)
        settings = fake.settings(requests_per_second=requests_per_second, per_host_concurrency=4)
        files = minimal_files()
        files["mkdocs.yml"] = files["mkdocs.yml"].replace("      pdf: false\n", "      pdf: false\n      services:\n" + "".join(
            f"        {k}: {json.dumps(v)}\n" for k, v in settings.model_dump().items()))
        files["content/example/evidence.md"] = "Sources " + "; ".join(f"[@{k}]" for k in keys) + ".\n"
        root = write_tree(Path(tmp) / "desk", files)
        start = time.perf_counter()
        status = main(["sources", "resolve", "--path", str(root)])
        elapsed = time.perf_counter() - start
        text = (root / "bib" / "resolved.bib").read_text(encoding="utf-8")
        assert status == 0 and text.count("\n@") == n, (status, text.count("\n@"))
        return elapsed, len(fake.requests)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 100
    fast, requests = run(n, 100)
    print(f"resolving {n} identifiers (DOI, PubMed, arXiv, web page; {requests} requests to one local host):")
    print(f"  100 requests/s per host:      {fast:6.2f} s  ({fast / n * 1000:.1f} ms an identifier; the limit alone "
          f"needs {requests / 100:.2f} s)")
    if "--polite" in sys.argv:
        polite, _ = run(n, 1)
        print(f"  1 request/s per host (default): {polite:6.2f} s")
