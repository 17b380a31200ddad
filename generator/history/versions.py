"""Earlier versions of each report, read from git: archive pages, `report check --base` and `report diff`."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, cast

import yaml
from pydantic import ValidationError

from generator import safefs
from generator.build import BuildResult, Project, build_project
from generator.config import SiteConfig, load_site_config
from generator.history.diff import ReportDiff, changes_page, compare_reports
from generator.render.report import Corrections, PageOutput, RatingChange, RenderedReport, Renderer
from generator.reports.model import REPORT_FILE, load_yaml_data

GIT_TIMEOUT = 120
MKDOCS_YML = "mkdocs.yml"


class GitError(RuntimeError):
    """A git command failed (no repository, unknown ref, git missing); the message says which."""


def _git(cwd: Path, *args: str, stdin: bytes | None = None) -> bytes:
    """Run git with fixed arguments (never through a shell); raise GitError with git's own message."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"}
    try:
        done = subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, timeout=GIT_TIMEOUT,
                              env=env, check=False)
    except FileNotFoundError as exc:
        raise GitError("git is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise GitError(f"`git {args[0]}` took longer than {GIT_TIMEOUT} s") from exc
    if done.returncode:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(message[-1] if message else f"`git {args[0]}` failed")
    return done.stdout


@dataclass(frozen=True)
class Git:
    """The repository that holds a project; paths given to it are relative to the project root."""

    top: Path
    prefix: str  # the project root relative to the repository top, '' or 'sub/dir/'

    @classmethod
    def open(cls, root: Path) -> Git:
        """The repository holding `root`; GitError when there is none (a tarball) or git is missing."""
        if not root.is_dir():
            raise GitError(f"{root} is not a folder")
        out = _git(root, "rev-parse", "--show-toplevel", "--show-prefix").decode("utf-8").split("\n")
        return cls(Path(out[0]), out[1] if len(out) > 1 else "")

    def run(self, *args: str, stdin: bytes | None = None) -> bytes:
        return _git(self.top, *args, stdin=stdin)

    def path(self, relative: str) -> str:
        return str(PurePosixPath(self.prefix + relative)) if relative else self.prefix.rstrip("/") or "."

    def resolve(self, ref: str) -> str:
        """The commit a ref names; refuses option-like refs so user input never becomes a git option."""
        if not ref or ref.startswith("-") or any(c in ref for c in "\n\0"):
            raise GitError(f"`{ref}` is not a valid git ref")
        try:
            return self.run("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}").decode().strip()
        except GitError as exc:
            raise GitError(f"`{ref}` does not name a commit in {self.top}") from exc

    def is_shallow(self) -> bool:
        with contextlib.suppress(GitError):
            return self.run("rev-parse", "--is-shallow-repository").decode().strip() == "true"
        return False

    def log(self, paths: list[str], rev: str = "HEAD") -> list[str]:
        """Commits that changed any of `paths`, newest first (children always before parents)."""
        out = self.run("log", "--topo-order", "--format=%H", rev, "--", *[self.path(p) for p in paths])
        return out.decode().split()

    def read(self, objects: list[str]) -> list[tuple[str, bytes] | None]:
        """Many blobs in one `git cat-file --batch`: (blob id, bytes), or None where missing, not a blob, or larger
        than safefs.MAX_READ_BYTES (sizes are asked first: a pull request may commit a huge file to an old
        version)."""
        if not objects:
            return []
        checked = self.run("cat-file", "--batch-check", stdin="".join(f"{o}\n" for o in objects).encode("utf-8"))
        wanted: list[str | None] = []
        for line in checked.decode("utf-8", "replace").splitlines():
            header = line.split(" ")
            ok = len(header) == 3 and header[1] == "blob" and int(header[2]) <= safefs.MAX_READ_BYTES
            wanted.append(header[0] if ok else None)
        ids = [o for o in wanted if o is not None]
        out = self.run("cat-file", "--batch", stdin="".join(f"{o}\n" for o in ids).encode("utf-8")) if ids else b""
        blobs: dict[str, bytes] = {}
        pos = 0
        for _ in ids:
            end = out.index(b"\n", pos)
            blob, _kind, size = out[pos:end].decode("utf-8", "replace").split(" ")
            pos = end + 1
            blobs[blob] = out[pos:pos + int(size)]
            pos += int(size) + 1
        return [(o, blobs[o]) if o is not None else None for o in wanted]

    def files(self, commit: str, paths: list[str]) -> dict[str, str]:
        """Regular files under `paths` at `commit`: project-relative path → blob id."""
        return {path: blob for path, (blob, _size) in self.sized_files(commit, paths).items()}

    def sized_files(self, commit: str, paths: list[str]) -> dict[str, tuple[str, int]]:
        """Regular files under `paths` at `commit`: project-relative path → (blob id, size in bytes)."""
        out = self.run("ls-tree", "-r", "-z", "-l", "--full-tree", commit, "--", *[self.path(p) for p in paths])
        files = {}
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, _, name = record.partition(b"\t")
            mode, kind, blob, size = meta.decode().split()
            if kind != "blob" or mode not in ("100644", "100755"):
                continue  # symlinks and submodules are not content
            path = name.decode("utf-8", "surrogateescape")
            if path.startswith(self.prefix):
                files[path[len(self.prefix):]] = (blob, int(size))
        return files

    def materialise(self, commit: str, paths: list[str], dest: Path) -> list[str]:
        """Write the files under `paths` as they were at `commit` into `dest`; returns their relative paths.
        GitError when one is larger than safefs.MAX_READ_BYTES (it is never read)."""
        files = self.sized_files(commit, paths)
        large = sorted(path for path, (_blob, size) in files.items() if size > safefs.MAX_READ_BYTES)
        if large:
            raise GitError(f"`{large[0]}` at commit {commit[:12]} {safefs.too_large(files[large[0]][1])}")
        blobs = self.read([blob for blob, _size in files.values()])
        root = dest.resolve()
        for relative, blob in zip(files, blobs, strict=True):
            target = (dest / relative).resolve()
            if blob is None or root not in target.parents:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob[1])
        return sorted(files)


# -- reading a report's version from report.yml --------------------------------------------------


@dataclass(frozen=True)
class Stamp:
    """What `report.yml` says about its own version: the newest revision number and checked_on."""

    version: int
    checked_on: dt.date | None


def read_stamp(text: bytes | str) -> Stamp | None:
    """The version and checked_on of a report.yml, leniently (an old or broken file gives None)."""
    try:
        data = load_yaml_data(text)[1]  # data only: an old commit's tags are refused like today's
    except (yaml.YAMLError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    versions = []
    for revision in data.get("revisions") or []:
        if isinstance(revision, dict):
            with contextlib.suppress(TypeError, ValueError):
                versions.append(int(revision["version"]))
    checked = data.get("checked_on")
    if isinstance(checked, str):
        with contextlib.suppress(ValueError):
            checked = dt.date.fromisoformat(checked)
    return Stamp(max(versions), checked if isinstance(checked, dt.date) else None) if versions else None


# -- every version of every report ----------------------------------------------------------------


@dataclass
class Version:
    """One version of a report as it was published; `commit` is None for the working tree."""

    number: int
    rendered: RenderedReport
    renderer: Renderer
    commit: str | None = None

    @property
    def checked_on(self) -> dt.date:
        return self.rendered.report.meta.checked_on


@dataclass
class ReportHistory:
    """The versions of one report that can be shown, keyed by number; the latest is the working tree's."""

    slug: str
    latest: int
    versions: dict[int, Version] = field(default_factory=dict)
    diffs: dict[int, ReportDiff] = field(default_factory=dict)  # version N → what changed from N-1, once

    def has_changes(self, number: int) -> bool:
        return number in self.versions and number - 1 in self.versions

    def release(self) -> None:
        """Keep each version's summary only, once every page of the report is out (a one-off build)."""
        for version in self.versions.values():
            version.rendered = version.rendered.summary_only()
        self.diffs.clear()

    def links(self, prefix: str) -> dict[int, dict[str, str]]:
        """Relative links to every version page (and its changes page) from a page `prefix` away."""
        return {n: {"page": f"{prefix}v{n}/", "changes": f"{prefix}v{n}/changes/" if self.has_changes(n) else ""}
                for n in sorted(self.versions)}


@dataclass
class SiteHistory:
    """Every report's versions; `git` says whether history was read at all."""

    reports: dict[str, ReportHistory] = field(default_factory=dict)
    git: bool = False

    @classmethod
    def current(cls, result: BuildResult) -> SiteHistory:
        """Only the latest version of each report (no git needed): its page is also at `<slug>/v<M>/`."""
        assert result.renderer is not None
        history = cls()
        for rendered in result.rendered:
            number = rendered.report.version
            history.reports[rendered.report.slug] = ReportHistory(
                rendered.report.slug, number, {number: Version(number, rendered, result.renderer)})
        return history


def _report_paths(config: SiteConfig, slug: str) -> list[str]:
    return [f"{config.content_dir}/{slug}", config.bib_dir, MKDOCS_YML]


def _version_commits(project: Project, git: Git, config: SiteConfig, slug: str, latest: int) -> dict[int, str]:
    """For each version N < latest, the newest commit in which report.yml's highest revision was N."""
    commits = git.log(_report_paths(config, slug))
    yml = git.path(f"{config.content_dir}/{slug}/{REPORT_FILE}")
    found: dict[int, str] = {}
    for commit, blob in zip(commits, git.read([f"{c}:{yml}" for c in commits]), strict=True):
        if blob is None:
            continue
        key = ("stamp", blob[0])
        if key not in project.archives:
            project.archives[key] = read_stamp(blob[1])
        stamp = cast("Stamp | None", project.archives[key])
        if stamp is not None and stamp.version < latest and stamp.version not in found:
            found[stamp.version] = commit
    return found


# Settings an old commit may not choose: its mkdocs.yml is as untrusted as its content (a pull request's
# intermediate commits land in history unreviewed), so whatever decides what is trusted, where files go and what
# is read comes from today's reviewed configuration.
_TODAYS = ("content_dir", "bib_dir", "cache_dir", "site_name", "site_url", "sanitize_html", "engine")


def _archive_config(tmp: Path, current: SiteConfig) -> SiteConfig:
    """The site settings of an old commit that shape how it read (rating scale, language, a named CSL style), with
    everything else from today: paths, URLs, `sanitize_html`. A style file from history is never used."""
    old = current
    if (tmp / MKDOCS_YML).exists():
        with contextlib.suppress(ValidationError, yaml.YAMLError, TypeError):
            old = load_site_config(tmp)
    update: dict[str, object] = {name: getattr(current, name) for name in _TODAYS}
    update["pdf"] = False
    style = old.csl_style
    if style != current.csl_style and (style.endswith(".csl") or "/" in style or "\\" in style):
        update["csl_style"] = current.csl_style
    return old.model_copy(update=update)


def render_commit(project: Project, git: Git, commit: str, slug: str) -> Version | str:
    """Version of `slug` at `commit`, rendered from that commit's files (cached by commit); a string says why not."""
    key = ("render", commit, slug)
    if key in project.archives:
        return cast("Version | str", project.archives[key])
    current = project.config or load_site_config(project.root)
    with tempfile.TemporaryDirectory(prefix="report-archive-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            git.materialise(commit, _report_paths(current, slug), tmp)
        except GitError as exc:
            project.archives[key] = f"could not be read ({exc})"
            return cast(str, project.archives[key])
        config = _archive_config(tmp, current)
        formatter = project.formatter if config.csl_style == current.csl_style else None
        archived = Project(root=tmp, config=config, formatter=formatter)
        result = build_project(archived)
    rendered = next((r for r in result.rendered if r.report.slug == slug), None)
    value: Version | str
    if rendered is None or result.renderer is None:
        first = result.problems.errors[0].format() if result.problems.errors else "the report did not load"
        value = f"could not be rendered ({first})"
    else:
        value = Version(rendered.report.version, rendered, result.renderer, commit)
    project.archives[key] = value
    return value


def collect_history(project: Project, result: BuildResult) -> SiteHistory:
    """Every earlier version of every report, from git; warnings go to `result.problems`, never errors."""
    history = SiteHistory.current(result)
    wanted = {slug: h.latest for slug, h in history.reports.items() if h.latest > 1}
    if not wanted:
        return history
    config = result.config
    try:
        git = Git.open(project.root)
        git.resolve("HEAD")
    except GitError as exc:
        result.problems.warning(project.root / MKDOCS_YML, None,
                                "earlier versions of the reports were not published: " + (
                                    "the project is not in a git repository" if "not a git repository" in str(exc)
                                    else f"its git history could not be read ({exc})"),
                                "build from a git clone to publish every version at <slug>/v<N>/",
                                code="archive-skipped")
        return history
    history.git = True
    shallow = git.is_shallow()
    for slug, latest in wanted.items():
        report_history = history.reports[slug]
        path = project.root / config.content_dir / slug / REPORT_FILE
        try:
            commits = _version_commits(project, git, config, slug, latest)
        except GitError as exc:
            result.problems.warning(path, None, f"archives of `{slug}` were skipped: {exc}", code="archive-skipped")
            continue
        missing = []
        for number in range(1, latest):
            commit = commits.get(number)
            version = render_commit(project, git, commit, slug) if commit else None
            if isinstance(version, Version) and version.number == number:
                report_history.versions[number] = version
            elif isinstance(version, str):
                result.problems.warning(path, None, f"version {number} of `{slug}` (commit {commit[:12] if commit else ''}) "
                                        f"{version}; its archive page was skipped", code="archive-skipped")
            else:
                missing.append(number)
        if missing:
            hint = ("this is a shallow clone: fetch the full history (`git fetch --unshallow`, or "
                    "`fetch-depth: 0` in actions/checkout)" if shallow else
                    "commit each version before recording the next revision")
            listed = ", ".join(str(n) for n in missing)
            result.problems.warning(path, None, f"version{'s' if len(missing) > 1 else ''} {listed} of `{slug}` "
                                    "not found in git history; archive pages skipped", hint, code="archive-skipped")
    return history


# -- pages -------------------------------------------------------------------------------------------


def version_context(history: ReportHistory | None, prefix: str) -> dict[str, Any]:
    """Template context that links the revision history to the version pages."""
    return {"version_links": history.links(prefix) if history else {}}


def version_page(history: ReportHistory, number: int, permalink: str | None = None) -> PageOutput:
    """`<slug>/v<N>/` for an earlier version: version N rendered as it was, under a banner pointing to the latest."""
    version = history.versions[number]
    latest = history.versions[history.latest]
    later = [r for r in latest.rendered.report.meta.revisions if r.version > number and r.kind == "correction"]
    archive = {
        "version": number,
        "latest": history.latest,
        "checked_on": version.checked_on,
        "corrected": version.rendered.corrected,
        "latest_href": "../",
        "changes_href": "changes/" if history.has_changes(number) else "",
        "corrections": [{"revision": r, "changes_href": f"../v{r.version}/changes/" if history.has_changes(r.version)
                         else ""} for r in sorted(later, key=lambda r: r.version)],
    }
    return version.renderer.page(version.rendered, {"archive": archive, **version_context(history, "../")}, permalink)


def latest_version_page(history: ReportHistory) -> str:
    """`<slug>/v<M>/` for the latest version M: a permanent address that sends readers to the report's main page
    (which shows version M) until version M+1 replaces it with an archive page. A static HTML redirect, not a
    second copy of the report: readers and search engines find one page, and the site builds no page twice."""
    latest = history.versions[history.latest]
    meta = latest.rendered.report.meta
    env = latest.renderer.env
    return env.get_template("latest_redirect.html").render(
        version=history.latest, question=meta.question, checked_on=meta.checked_on,
        changes="changes/" if history.has_changes(history.latest) else "",
        **latest.renderer.locale_context(latest.rendered.language))


def version_diff(history: ReportHistory, number: int) -> ReportDiff:
    """What changed from version N-1 to N as readers saw it (compared once per build)."""
    if number not in history.diffs:
        history.diffs[number] = compare_reports(history.versions[number - 1].rendered,
                                                history.versions[number].rendered, rendered=True)
    return history.diffs[number]


def corrections(history: ReportHistory | None, prefix: str = "") -> Corrections:
    """Every re-rating of the report's verdict and claims, oldest first, from the comparison of each version with
    the one before (the same comparison as its "what changed" page); links are relative to a page `prefix` away
    from the report's page. Versions missing from history (no git, a shallow clone) add nothing."""
    found = Corrections()
    if history is None:
        return found
    for number in sorted(history.versions):
        if not history.has_changes(number):
            continue
        href = f"{prefix}v{number}/changes/"
        found.changes_hrefs[number] = href
        diff = version_diff(history, number)
        date = history.versions[number].rendered.report.latest_revision.date
        rerated = [(claim.id, claim.old_rating, claim.new_rating) for claim in diff.claims_rerated]
        if diff.verdict_rerated and diff.old_rating and diff.new_rating:
            rerated.append(("", diff.old_rating, diff.new_rating))  # "": the verdict
        for claim_id, old, new in rerated:
            change = RatingChange(number, date, old.id, old.label, new.id, new.label, href)
            (found.claims.setdefault(claim_id, []) if claim_id else found.verdict).append(change)
    return found


def changes_page_output(history: ReportHistory, number: int, renderer: Renderer,
                        permalink: str | None = None) -> PageOutput:
    """`<slug>/v<N>/changes/`: the reader's view of what changed from version N-1 to N."""
    links = {"old": f"../../v{number - 1}/", "new": "../", "report": "../../"}
    return changes_page(renderer, version_diff(history, number), links, number == history.latest, permalink,
                        history.versions[number].rendered.language)


# -- `report check --base` and `report diff` ---------------------------------------------------------


@contextlib.contextmanager
def checkout(git: Git, commit: str, paths: list[str]) -> Iterator[Path]:
    """A temporary folder with `paths` as they were at `commit` (read with git, nothing else touched)."""
    with tempfile.TemporaryDirectory(prefix="report-checkout-") as tmp:
        git.materialise(commit, paths, Path(tmp))
        yield Path(tmp)


def _tree_files(folder: Path) -> dict[str, bytes]:
    """The readable files of a report folder; links out of it and special files are left out (the build reports
    them) and never read."""
    files, _ = safefs.walk_files(folder, "")
    contents = {}
    for path in files:
        if not any(part.startswith(".") for part in path.relative_to(folder).parts):
            with contextlib.suppress(safefs.UnsafePath):  # too large: the build reports it
                contents[path.relative_to(folder).as_posix()] = safefs.read_bytes(path, folder)
    return contents


def changed_files(old: Path, new: Path) -> list[str]:
    """Files that differ between two copies of a report folder (added, removed or edited), sorted."""
    a, b = _tree_files(old), _tree_files(new)
    return sorted(name for name in set(a) | set(b) if a.get(name) != b.get(name))


def check_base(project: Project, result: BuildResult, ref: str) -> None:
    """Errors for every report whose content changed since `ref` without a new revision (or newer checked_on)."""
    config = result.config
    try:
        git = Git.open(project.root)
        commit = git.resolve(ref)
    except GitError as exc:
        result.problems.error(project.root / MKDOCS_YML, None, f"cannot compare with `{ref}`: {exc}",
                              "run inside a git clone with the base commit fetched (fetch-depth: 0)", code="git")
        return
    try:
        with checkout(git, commit, [config.content_dir]) as base:
            for report in result.reports:
                old_folder = base / config.content_dir / report.slug
                files = changed_files(old_folder, report.folder)
                if not files or not (old_folder / REPORT_FILE).exists():
                    continue  # unchanged, or a new report (its first revision is enough)
                old = read_stamp((old_folder / REPORT_FILE).read_bytes())
                if old is None:
                    continue
                where = f"content changed since {ref} ({', '.join(files)})"
                line = report.line_of("revisions")
                if report.version <= old.version:
                    result.problems.error(
                        report.path, line, f"report `{report.slug}`: {where} but no new revision was recorded "
                        f"(the newest is still version {report.version})",
                        f"add `- {{version: {old.version + 1}, date: YYYY-MM-DD, kind: update|correction|editorial, "
                        "note: \"what changed and why\"}` to revisions", code="missing-revision")
                    continue
                kinds = {r.kind for r in report.meta.revisions if r.version > old.version}
                if "update" in kinds and old.checked_on and report.meta.checked_on <= old.checked_on:
                    result.problems.error(
                        report.path, report.line_of("checked_on"),
                        f"report `{report.slug}`: an `update` revision needs a newer checked_on than {old.checked_on} "
                        f"(it is {report.meta.checked_on})",
                        "set checked_on (and the revision's date) to the day you re-checked the sources",
                        code="missing-revision")
    except GitError as exc:  # a file of the base commit too large to read
        result.problems.error(project.root / MKDOCS_YML, None, f"cannot compare with `{ref}`: {exc}",
                              code="git")


@dataclass
class ProjectDiff:
    """`report diff`: the reports that changed between two trees, and anything that stopped a comparison."""

    base: str
    head: str
    reports: list[ReportDiff]
    notes: list[str] = field(default_factory=list)


def _loaded(result: BuildResult) -> dict[str, RenderedReport]:
    return {r.report.slug: r for r in result.rendered}


def _folders(root: Path, config: SiteConfig) -> set[str]:
    content = root / config.content_dir
    if not content.is_dir():
        return set()
    return {p.name for p in content.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))}


def diff_project(root: Path, base: str, head: str | None = None) -> ProjectDiff:
    """Compare every report at git ref `base` with `head` (a ref, or the working tree when None)."""
    git = Git.open(root)
    base_commit = git.resolve(base)
    head_commit = git.resolve(head) if head else None
    config = load_site_config(root)
    paths = [config.content_dir, config.bib_dir, MKDOCS_YML]
    with contextlib.ExitStack() as stack:
        old_root = stack.enter_context(checkout(git, base_commit, paths))
        new_root = stack.enter_context(checkout(git, head_commit, paths)) if head_commit else root
        new = build_project(Project(root=new_root))
        try:
            old_style = load_site_config(old_root).csl_style
        except (ValidationError, yaml.YAMLError, TypeError):
            old_style = None
        shared = new.renderer.formatter if new.renderer and old_style == new.config.csl_style else None
        old = build_project(Project(root=old_root, formatter=shared))
        old_reports, new_reports = _loaded(old), _loaded(new)
        old_folders, new_folders = _folders(old_root, config), _folders(new_root, config)
        notes = []
        for label, folders, loaded in (("base", old_folders, old_reports), ("head", new_folders, new_reports)):
            broken = sorted(folders - set(loaded))
            if broken:
                notes.append(f"{', '.join(broken)} could not be loaded at the {label} (run `report check` there); "
                             "left out of the comparison")
        unloadable = (old_folders - set(old_reports)) | (new_folders - set(new_reports))
        diffs = []
        for slug in sorted((set(old_reports) | set(new_reports)) - unloadable):
            folder = f"{config.content_dir}/{slug}"
            files = [f"{folder}/{name}" for name in changed_files(old_root / folder, new_root / folder)]
            diff = compare_reports(old_reports.get(slug), new_reports.get(slug), files)
            if diff.has_changes:
                diffs.append(diff)
    return ProjectDiff(base, head or "working tree", diffs, notes)
