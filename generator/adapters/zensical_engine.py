"""The Zensical adapter: the core's `SiteOutput`, staged as a docs folder that Zensical builds as it is.

Zensical reads mkdocs.yml but runs no third-party plugin, so nothing of ours can run inside it except a
Python-Markdown extension (`zensical_markdown`). The adapter therefore builds the site first, then stages:

    <stage>/zensical.yml     INHERIT: the project's mkdocs.yml, plus docs_dir, site_dir, nav, stylesheets, the
                             theme override with the feed link, and the extension
    <stage>/docs/            the desk's own docs/ files (front matter escaped), each generated page as front
                             matter + one marker line, and every generated file (PDFs, downloads, feed, redirects)
    <stage>/pages/ID.json    the finished body and table of contents of each generated page
    <stage>/overrides/       the desk's custom_dir, if any, and our main.html (the feed link)

and calls `zensical.build` in this process. The site is built inside the stage and swapped into the project's
site_dir only when the build succeeds. This is the only module that imports zensical.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from generator import PACKAGE_DIR, safefs
from generator.adapters.zensical_markdown import marker
from generator.build import PLAIN_KEY, RESERVED_META, Project, docs_front_matter
from generator.cache import machine_folder, machine_secret
from generator.config import load_site_config, read_mkdocs_yml
from generator.errors import Problems
from generator.publish.site import (
    Page,
    SiteOutput,
    build_site,
    navigation,
    new_site_folder,
    replace_site,
    write_index_files,
)
from generator.render.report import MetaTooLarge, escape_meta, front_matter, html_text, permalink_symbol

THEME_DIR = PACKAGE_DIR / "theme"
EXTENSION = "generator.adapters.zensical_markdown"
BUILD_STAGE = "zensical-build"  # the build's stage: a machine folder (cache.machine_folder), see _stage_folder
SERVE_STAGE = "zensical-serve"  # the preview's
_ATX_HEADING = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.M)


def available() -> bool:
    try:
        import zensical  # noqa: F401
    except ImportError:
        return False
    return True


def _permalink(mkdocs: dict[str, Any]) -> str | None:
    for item in mkdocs.get("markdown_extensions") or []:
        if isinstance(item, dict) and isinstance(item.get("toc"), dict):
            return permalink_symbol(item["toc"].get("permalink"))
    return None


def _docs_page(text: str, path: Path, problems: Problems) -> str:
    """A desk's own page as Zensical should read it: its front matter re-written with every text escaped (the
    theme prints title and description as they are) and a title taken from the first heading when none is set.
    `template` is dropped (project.check_docs makes it an error)."""
    meta, text = docs_front_matter(text, path, problems)
    if "title" not in meta:
        heading = _ATX_HEADING.search(text)
        meta["title"] = re.sub(r"[*_`]", "", heading.group(1)) if heading else path.stem.replace("-", " ").title()
    try:
        meta = {k: escape_meta(v) for k, v in meta.items() if isinstance(k, str) and PLAIN_KEY.fullmatch(k)
                and k not in RESERVED_META}
    except MetaTooLarge:  # an error in `report check` (project.check_docs)
        meta = {"title": html_text(path.stem)}
    return front_matter(meta) + text


def _page_id(page: Page, html: str) -> str:
    """Changes whenever the page (`html`: its body) does, so Zensical's own cache of converted pages never serves an
    old body."""
    digest = hashlib.sha256()
    digest.update(page.path.encode())
    digest.update(html.encode())
    digest.update(json.dumps([t.token() for t in page.toc]).encode())
    return digest.hexdigest()


def _nav(site: SiteOutput, own_pages: list[str]) -> list[Any]:
    """Home, the topics (or a small site's reports), then the desk's own pages (as the MkDocs plugin does)."""
    return navigation(site, own_pages, html_text)


def page_url(relative: str, directory_urls: bool = True) -> str:
    """The address (relative to the site's root) at which Zensical, like MkDocs, publishes a docs page."""
    stem = relative.rsplit(".", 1)[0]
    if stem == "index" or stem.endswith("/index"):
        return stem[:-len("index")]
    return f"{stem}/" if directory_urls else f"{stem}.html"


def own_page_urls(root: Path, site: SiteOutput) -> list[str]:
    """The addresses of the desk's own pages in docs/ (the sitemap lists them beside the generated ones)."""
    mkdocs = read_mkdocs_yml(root / "mkdocs.yml")
    source_docs = root / site.result.config.docs_dir
    if not source_docs.is_dir():
        return []
    files, _ = safefs.walk_files(source_docs, "", root)
    pages = [p.relative_to(source_docs).as_posix() for p in files if p.suffix.lower() in (".md", ".markdown")]
    return [page_url(p, mkdocs.get("use_directory_urls", True) is not False)
            for p in pages if p not in site.pages or p == "index.md"]


def stage(root: Path, site: SiteOutput, folder: Path, nonce: str) -> Path:
    """Write everything Zensical needs into `folder`; returns the staged configuration file."""
    mkdocs = read_mkdocs_yml(root / "mkdocs.yml")
    config = site.result.config
    docs, pages_dir, overrides = folder / "docs", folder / "pages", folder / "overrides"
    for sub in (docs, pages_dir, overrides):
        shutil.rmtree(sub, ignore_errors=True)
        sub.mkdir(parents=True)
    own: list[str] = []
    source_docs = root / config.docs_dir
    if source_docs.is_dir():  # already checked: no links out, no special or active files (project.check_docs)
        files, _ = safefs.walk_files(source_docs, "", root)
        for path in files:
            relative = path.relative_to(source_docs).as_posix()
            target = docs / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.suffix.lower() in (".md", ".markdown"):
                text = safefs.read_text(path, source_docs, root)
                target.write_text(_docs_page(text, path, site.problems), encoding="utf-8")
                if relative not in site.pages:
                    own.append(relative)
            else:
                shutil.copyfile(path, target)
    for uri, data in site.files.items():
        target = docs / uri
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, Path):  # spooled in the stage folder: moved, not copied
            os.replace(data, target)
        else:
            target.write_bytes(data)
    for uri, source in site.stylesheets.items():
        target = docs / uri
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    for uri, page in site.pages.items():
        if uri == "index.md" and (source_docs / "index.md").is_file():
            continue  # the desk's own home page wins, as with MkDocs
        html = page.body()
        page_id = _page_id(page, html)
        (pages_dir / f"{page_id}.json").write_text(
            json.dumps({"html": html, "toc": [t.token() for t in page.toc]}, ensure_ascii=False), encoding="utf-8")
        meta = escape_meta(page.meta())  # Zensical prints titles and descriptions as they are
        target = docs / uri
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(front_matter(meta) + "\n" + marker(nonce, page_id) + "\n", encoding="utf-8")
    theme = mkdocs.get("theme") if isinstance(mkdocs.get("theme"), dict) else {}
    custom = theme.get("custom_dir") if isinstance(theme, dict) else None
    if isinstance(custom, str) and safefs.is_inside(root / custom, root) and (root / custom).is_dir():
        shutil.copytree(root / custom, overrides, dirs_exist_ok=True, symlinks=True)
    if not (overrides / "main.html").exists():
        shutil.copyfile(THEME_DIR / "main.html", overrides / "main.html")
    staged: dict[str, Any] = {
        "INHERIT": os.path.relpath(root / "mkdocs.yml", folder),
        "docs_dir": "docs",
        "site_dir": "site",
        "theme": {"custom_dir": "overrides"},
        "extra_css": [uri for uri in site.stylesheets if uri not in (mkdocs.get("extra_css") or [])],
        "markdown_extensions": [{EXTENSION: {"nonce": nonce, "pages_dir": str(pages_dir.resolve()),
                                             "sanitize": config.sanitize_html}}],
    }
    if not mkdocs.get("nav"):
        staged["nav"] = _nav(site, sorted(own))
    path = folder / "zensical.yml"
    path.write_text(yaml.safe_dump(staged, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _zensical_build(config_file: Path) -> None:
    import zensical

    zensical.build(str(config_file), {"clean": False, "strict": False})


@contextmanager
def _stage_folder(root: Path, cached: bool, purpose: str = BUILD_STAGE) -> Iterator[tuple[Path, str]]:
    """Where to stage, and the marker nonce. With caches on: a folder of this machine's user outside the project,
    one per `purpose` (the build's, the preview's), kept from run to run with its nonce, so Zensical's own cache of
    converted pages stays warm; it is locked while in use, and a second run at the same time stages in a temporary
    folder. Zensical's cache lives there and never in the project: a pull request can commit files into the
    project's cache folder, but not into that one. Without caches, or when no such folder can be made: a temporary
    folder and a fresh nonce."""
    folder = machine_folder(purpose, root) if cached else None
    if folder is not None:
        with (folder / ".lock").open("a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                folder = None
            if folder is not None:
                shutil.rmtree(folder / "site", ignore_errors=True)  # a build that stopped half-way
                yield folder, machine_secret(purpose, root)
                return
    with tempfile.TemporaryDirectory(prefix=f"report-{purpose}-") as tmp:
        yield Path(tmp), secrets.token_hex(16)


def build(root: Path, site_dir: Path, pdf: bool = True) -> tuple[SiteOutput, bool]:
    """Build the project's site with Zensical into `site_dir`; (the site output, whether a site was written).
    On errors in content or sources nothing is written and the old site stays."""
    project = Project(root=root)
    mkdocs = read_mkdocs_yml(root / "mkdocs.yml")
    if not pdf:
        project.config = load_site_config(root).model_copy(update={"pdf": False})
    cached = bool((project.config or load_site_config(root)).cache_dir)  # checked by project.preflight
    with _stage_folder(root, cached) as (folder, nonce):
        spool = folder / "spool"  # generated files are written here as they are made, then moved into docs/
        shutil.rmtree(spool, ignore_errors=True)
        spool.mkdir()
        site = build_site(project, permalink=_permalink(mkdocs), spool=spool)
        if not site.ok:
            return site, False
        config_file = stage(root, site, folder, nonce)
        shutil.rmtree(spool, ignore_errors=True)
        if not site.ok:  # the desk's own pages
            return site, False
        _zensical_build(config_file)
        built = folder / "site"
        if not (built / "index.html").is_file():
            raise RuntimeError("Zensical finished without writing the home page")
        write_index_files(site, built, own_page_urls(root, site))
        staging = new_site_folder(site_dir)
        staging.rmdir()
        shutil.move(str(built), staging)  # the stage is in /tmp: moved beside site_dir, then swapped in
    replace_site(staging, site_dir)
    return site, True


def _snapshot(root: Path, folders: list[str]) -> dict[str, int]:
    stamps = {}
    for name in folders:
        for dirpath, _dirs, files in os.walk(root / name):
            for file in files:
                with_path = os.path.join(dirpath, file)
                try:
                    stamps[with_path] = os.stat(with_path).st_mtime_ns
                except OSError:
                    continue
    mkdocs = root / "mkdocs.yml"
    stamps[str(mkdocs)] = mkdocs.stat().st_mtime_ns if mkdocs.exists() else 0
    return stamps


def serve(root: Path, dev_addr: str | None, report: Any) -> None:
    """Preview with Zensical. The stage is kept in this machine's folder for the project (cache.machine_folder,
    outside the project, so Zensical's own cache stays warm between previews and no pull request can plant one;
    a temporary folder when caches are off); content/, bib/
    and docs/ are watched here (polled twice a second) and re-staged on every change, and Zensical reloads the
    pages it sees change. A report with errors still shows, as with MkDocs."""
    import zensical

    project = Project(root=root)
    mkdocs = read_mkdocs_yml(root / "mkdocs.yml")
    cache_dir = load_site_config(root).cache_dir  # checked by project.preflight: inside the project, no links
    with _stage_folder(root, bool(cache_dir), SERVE_STAGE) as (folder, nonce):
        def restage() -> Path:
            site = build_site(project, permalink=_permalink(mkdocs), partial=True)
            report(site.problems)
            return stage(root, site, folder, nonce)

        config_file = restage()
        config = project.config
        watched = [config.content_dir, config.bib_dir, config.docs_dir] if config else ["content", "bib", "docs"]
        stop = threading.Event()

        def watch() -> None:
            seen = _snapshot(root, watched)
            while not stop.wait(0.5):
                now = _snapshot(root, watched)
                if now != seen:
                    seen = now
                    project.config = None  # mkdocs.yml may have changed
                    restage()

        thread = threading.Thread(target=watch, name="report-watch", daemon=True)
        thread.start()
        options: dict[str, Any] = {"dev_addr": dev_addr, "open": False, "strict": False}
        try:
            zensical.serve(str(config_file), options)
        finally:
            stop.set()
