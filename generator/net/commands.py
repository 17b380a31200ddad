"""`report sources add|resolve` and `report links`: the only commands that go online.

They read the project as the build does (the same safe readers), ask the services, and write only
bib/resolved.bib; every line they print passes through `inert`, since what a service answers is as untrusted as
what a pull request writes."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from generator import safefs
from generator.build import check_paths, cited_keys
from generator.config import SiteConfig, load_site_config
from generator.errors import Problems, inert, print_problems
from generator.identifiers import Identifier, IdentifierError, guess_identifier, parse_identifier, scheme_of
from generator.net.http import PoliteClient
from generator.net.links import (
    ArchiveFailure,
    LinkResult,
    LinkTarget,
    Snapshot,
    check_links,
    find_snapshot,
    format_results,
)
from generator.net.links import archive as archive_urls
from generator.net.metadata import Metadata, ResolveError, resolve
from generator.reports.model import load_reports
from generator.sources.bib import Bibliography, Source, load_bibliography
from generator.sources.resolved import RESOLVED_FILE, ResolvedFile

WAYBACK_KEYS_ENV = "REPORT_WAYBACK_KEYS"  # `ACCESS:SECRET` of an archive.org account, for Save Page Now


def _say(line: str) -> None:
    print(inert(line), file=sys.stderr, flush=True)


@dataclass
class Desk:
    """A project as the network commands see it: settings, sources, reports and what each report cites."""

    root: Path
    config: SiteConfig
    bib: Bibliography
    resolved: ResolvedFile
    problems: Problems
    cited: dict[str, dict[str, None]] = field(default_factory=dict)  # slug → keys as written, first mention first

    @classmethod
    def load(cls, root: Path) -> Desk:
        problems = Problems(root=root)
        config = load_site_config(root)
        if not check_paths(root, config, problems):
            return cls(root, config, Bibliography(problems=problems), ResolvedFile(root / RESOLVED_FILE), problems)
        bib = load_bibliography(root / config.bib_dir, root)
        resolved = ResolvedFile.load(root / config.bib_dir, root)
        reports = load_reports(root / config.content_dir, Problems(root=root))  # the build reports their problems
        return cls(root, config, bib, resolved, problems, {r.slug: cited_keys(r) for r in reports})

    def unresolved(self) -> tuple[list[Identifier], Problems]:
        """Identifiers cited anywhere in content/ that no entry holds, first mention first; malformed ones as
        problems."""
        found: dict[Identifier, None] = {}
        problems = Problems(root=self.root)
        for slug, keys in self.cited.items():
            for key in keys:
                if not scheme_of(key) or self.bib.key_of(key) is not None:
                    continue
                try:
                    found.setdefault(parse_identifier(key), None)
                except IdentifierError as exc:
                    problems.error(self.root / self.config.content_dir / slug, None, exc.message, exc.hint,
                                   code="bad-identifier")
        return list(found), problems

    def in_resolved(self, source: Source) -> bool:
        return source.path.resolve() == self.resolved.path.resolve() and source.key in self.resolved.entries


# -- report sources ---------------------------------------------------------------------------------------------


def _resolve_all(identifiers: list[Identifier], config: SiteConfig) -> list[Metadata | ResolveError]:
    async def run() -> list[Metadata | ResolveError]:
        done = 0

        async def one(identifier: Identifier, client: PoliteClient) -> Metadata | ResolveError:
            nonlocal done
            try:
                result: Metadata | ResolveError = await resolve(identifier, client, config.services)
            except ResolveError as exc:
                result = exc
            done += 1
            _say(f"[{done}/{len(identifiers)}] {identifier.key}: "
                 + (result.service if isinstance(result, Metadata) else f"failed ({result.reason})"))
            return result

        async with PoliteClient(config.services, progress=_say) as client:
            return list(await asyncio.gather(*(one(i, client) for i in identifiers)))

    return asyncio.run(run())


def sources_add(root: Path, texts: list[str], today: dt.date | None = None) -> int:
    """Resolve what the writer pasted (DOIs, PubMed ids, addresses…) into bib/resolved.bib."""
    identifiers: list[Identifier] = []
    failed = 0
    for text in texts:
        try:
            identifiers.append(guess_identifier(text))
        except IdentifierError as exc:
            _say(f"error: {exc.message}")
            _say(f"  hint: {exc.hint}")
            failed += 1
    return _resolve_into(Desk.load(root), list(dict.fromkeys(identifiers)), today) or (1 if failed else 0)


def sources_resolve(root: Path, dry_run: bool = False, today: dt.date | None = None) -> int:
    """Resolve every identifier cited in content/ that bib/ does not hold yet."""
    desk = Desk.load(root)
    identifiers, problems = desk.unresolved()
    print_problems(problems)
    if dry_run or not identifiers:
        for identifier in identifiers:
            print(inert(identifier.key))
        _say(f"{len(identifiers)} identifier(s) to resolve" if identifiers else "every cited identifier is resolved")
        return 1 if problems.errors else 0
    return _resolve_into(desk, identifiers, today) or (1 if problems.errors else 0)


def _resolve_into(desk: Desk, identifiers: list[Identifier], today: dt.date | None) -> int:
    if desk.problems.errors or not desk.resolved.readable:
        print_problems(desk.problems, desk.resolved.problems)
        _say(f"{desk.resolved.path.name} has errors: fix them first (it is rewritten when sources are added)")
        return 1
    todo = []
    for identifier in identifiers:
        key = desk.bib.key_of(identifier.key)
        if key is not None:
            _say(f"{identifier.key}: already in bib/ as `{key}`")
        else:
            todo.append(identifier)
    if not todo:
        return 0
    results = _resolve_all(todo, desk.config)
    today = today or dt.date.today()
    taken = set(desk.bib.sources) | set(desk.bib.aliases)
    added, merged, failed = [], [], 0
    by_doi = {source.doi.lower(): key for key, source in desk.bib.sources.items() if source.doi}
    by_doi.update((alias.removeprefix("doi:"), key) for alias, key in desk.bib.aliases.items() if alias.startswith("doi:"))
    for identifier, result in zip(todo, results, strict=True):
        if isinstance(result, ResolveError):
            failed += 1
            _say(f"error: {identifier.key}: {result.reason}")
            if result.hint:
                _say(f"  hint: {result.hint}")
            continue
        doi = result.fields.get("doi", "").strip().lower()
        same = by_doi.get(doi) if doi else None
        if same is not None:  # one work, cited by two identifiers (its PubMed id and its DOI): one entry
            if same in desk.resolved.entries:
                desk.resolved.add_id(same, identifier)
                merged.append((identifier, same))
            else:
                source = desk.bib.sources[same]
                _say(f"{identifier.key} is `{same}` ({desk.problems.relative(source.path)}:{source.line}), which has "
                     f"the same DOI: add `{identifier.key}` to its `ids`")
            continue
        entry = desk.resolved.add(result, today, taken)
        taken.add(entry.key)
        if doi:
            by_doi[doi] = entry.key
        added.append((identifier, entry.key, result))
    if added or merged:
        try:
            desk.resolved.save()
        except (safefs.UnsafePath, OSError) as exc:
            _say(f"error: {desk.resolved.path.name} cannot be written ({getattr(exc, 'message', exc)})")
            return 1
    where = desk.problems.relative(desk.resolved.path)
    for identifier, key, meta in added:
        print(inert(f"{identifier.key} → @{key} ({meta.service}; kind proposed: {meta.kind})"))
    for identifier, key in merged:
        print(inert(f"{identifier.key} → @{key} (the same DOI: added to its ids)"))
    if added:
        _say(f"{len(added)} source(s) added to {where}. Check each against its source and confirm its `kind` "
             "(then delete its `kindstatus` line); `report check` lists the ones left.")
    return 1 if failed else 0


# -- report links -----------------------------------------------------------------------------------------------


def link_targets(desk: Desk) -> tuple[list[LinkTarget], dict[str, list[str]], dict[str, tuple[str, int]], dict[str, Source]]:
    """What to check: each cited source's address (its `url`, else its DOI's), grouped by address; which reports
    cite each source; where each source is written."""
    where: dict[str, list[str]] = {}
    for slug, keys in desk.cited.items():
        for written in keys:
            key = desk.bib.key_of(written)
            if key is not None and slug not in where.setdefault(key, []):
                where[key].append(slug)
    targets: dict[str, LinkTarget] = {}
    sources: dict[str, Source] = {}
    locations: dict[str, tuple[str, int]] = {}
    for key in where:
        source = desk.bib.sources[key]
        sources[key] = source
        locations[key] = (desk.problems.relative(source.path), source.line)
        url = source.url or (f"https://doi.org/{source.doi}" if source.doi else "")
        if not url.lower().startswith(("http://", "https://")):
            continue
        target = targets.setdefault(url, LinkTarget(url, []))
        target.keys.append(key)
        if url == source.url and source.fields.get("urlhash"):
            target.expected_hash = source.fields["urlhash"].strip()
    return list(targets.values()), where, locations, sources


def links(root: Path, fmt: str = "text", archive: bool = False, strict: bool = False, output: str | None = None,
          today: dt.date | None = None) -> int:
    desk = Desk.load(root)
    if desk.problems.errors:
        print_problems(desk.problems)
        return 1
    today = today or dt.date.today()
    targets, where, locations, sources = link_targets(desk)
    _say(f"checking {len(targets)} address(es) of {len(sources)} cited source(s)")

    def progress(done: int, total: int) -> None:
        if done == total or done % 25 == 0:
            _say(f"[{done}/{total}] checked")

    keys = os.environ.get(WAYBACK_KEYS_ENV, "")

    async def run() -> tuple[list[LinkResult], dict[str, Snapshot | ArchiveFailure | None]]:
        async with PoliteClient(desk.config.services, progress=_say) as client:
            results = await check_links(targets, client, progress)
            snapshots: dict[str, Snapshot | ArchiveFailure | None] = {}
            if archive:
                dead = {r.url for r in results if r.state == "dead"}
                wanted = [t.url for t in targets if not all(sources[k].archive_url for k in t.keys)]
                live = [u for u in wanted if u not in dead]
                _say(f"looking for (or making) an archived copy of {len(wanted)} address(es)")
                snapshots.update(await archive_urls(live, client, desk.config.services, keys,
                                                    poll_interval=desk.config.services.archive_poll))
                for url in (u for u in wanted if u in dead):  # a dead page cannot be saved: an old copy may exist
                    snapshots[url] = await find_snapshot(url, client, desk.config.services)
            return results, snapshots

    results, snapshots = asyncio.run(run())
    text = format_results(results, where, locations, fmt)
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        print(text, end="" if text.endswith("\n") else "\n")
    by_url = {r.url: r for r in results}
    to_add: list[str] = []
    changed = False
    for target in targets:
        result = by_url.get(target.url)
        snapshot = snapshots.get(target.url)
        for key in target.keys:
            source = sources[key]
            fields: dict[str, str | None] = {}
            if result is not None and result.state in ("dead", "ok"):
                fields["urlstatus"] = "dead" if result.state == "dead" else None
                fields["urlchecked"] = today.isoformat()
            if isinstance(snapshot, Snapshot) and not source.archive_url:
                fields["archiveurl"], fields["archivedate"] = snapshot.url, snapshot.date
            if desk.in_resolved(source):
                before = dict(desk.resolved.entries[key].values)
                desk.resolved.set(key, **fields)
                changed |= before != desk.resolved.entries[key].values
            else:
                shown = {k: v for k, v in fields.items() if v and (k != "urlchecked" or fields.get("urlstatus"))
                         and source.fields.get(k, "").strip() != v}
                if shown:
                    to_add.append(f"{desk.problems.relative(source.path)}:{source.line}: `{key}`: add")
                    to_add += [f"  {k} = {{{v}}}," for k, v in shown.items()]
    if changed:
        if desk.resolved.readable:
            desk.resolved.save()
            _say(f"recorded in {desk.problems.relative(desk.resolved.path)}")
        else:
            _say(f"{desk.resolved.path.name} has errors: nothing recorded in it")
    for text in to_add:
        _say(text)
    for url, failure in snapshots.items():
        if failure is None:
            _say(f"no archived copy of {url}: the page is dead and the Internet Archive has no snapshot of it")
        elif isinstance(failure, ArchiveFailure):
            _say(f"no archived copy of {url}: {failure.reason}")
            if failure.hint:
                _say(f"  hint: {failure.hint}")
    dead = sum(1 for r in results if r.state == "dead")
    other = sum(1 for r in results if r.state not in ("ok", "dead"))
    _say(f"{len(results)} address(es): {dead} dead, {other} to look at")
    return 1 if dead or (strict and other) else 0
