"""The Atom feed of report revisions (`feed.xml`): dates come from content only, so builds are reproducible."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from generator.urls import report_url

if TYPE_CHECKING:
    from generator.build import BuildResult
    from generator.history.versions import SiteHistory

FEED_PATH = "feed.xml"
EPOCH = dt.date(1970, 1, 1)


def tag_uri(authority: str, specific: str) -> str:
    """A tag URI (RFC 4151): `tag:example.org,2026:enteromix/v2`. Feed and entry ids are tags rather than addresses
    so that they never change: a feed reader shows an entry whose id changed as a new one, and addresses change
    when `site_url` is set, a site moves or a report is published under another name."""
    return f"tag:{authority}:{specific}"


def atom_time(date: dt.date) -> str:
    """An Atom date-time for a content date (midnight UTC; content has no time of day)."""
    return f"{date.isoformat()}T00:00:00Z"


def atom_feed(result: BuildResult, history: SiteHistory) -> str:
    """Every revision of every report, newest first, each linking to its version page."""
    assert result.renderer is not None
    config = result.config
    entries: list[dict[str, Any]] = []
    for rendered in result.rendered:
        report = rendered.report
        versions = history.reports.get(report.slug)
        for revision in report.meta.revisions:
            available = versions is not None and revision.version in versions.versions
            url = (report_url(config.site_url, report.slug, revision.version) if available
                   else report_url(config.site_url, report.slug, part=f"#v{revision.version}"))
            changes = (report_url(config.site_url, report.slug, revision.version, "changes/")
                       if versions is not None and versions.has_changes(revision.version) else "")
            entries.append({
                "title": f"{report.short_title} — version {revision.version}: {revision.kind}",
                "id": tag_uri(config.tag_authority, f"{report.slug}/v{revision.version}"),
                "url": url,
                "changes": changes,
                "updated": atom_time(revision.date),
                "date": revision.date,
                "version": revision.version,
                "slug": report.slug,
                "kind": revision.kind,
                "note": " ".join(revision.note.split()),
                "question": report.meta.question,
                "authors": [a.name for a in report.meta.authors],
            })
    entries.sort(key=lambda e: (e["date"], e["slug"], e["version"]), reverse=True)
    updated = max((e["date"] for e in entries), default=EPOCH)
    base = config.site_url.rstrip("/") + "/" if config.site_url else ""  # the site's own address (feed, home)
    return result.renderer.env.get_template("feed.xml").render(
        title=config.site_name or "Evidence reports",
        feed_id=tag_uri(config.tag_authority, FEED_PATH),
        self_url=base + "feed.xml" if base else "",
        home_url=base or "./",
        updated=atom_time(updated),
        language=config.language,
        entries=entries,
        **result.renderer.locale_context(),
    )
