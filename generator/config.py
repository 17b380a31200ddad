"""Site settings for the `report` plugin and CLI: one typed schema shared by both adapters."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from generator import safefs
from generator.errors import Problem
from generator.i18n import N_

SOURCE_KINDS: dict[str, str] = {
    "peer-reviewed": N_("Peer-reviewed study"),
    "review": N_("Review"),
    "preprint": N_("Preprint"),
    "trial-registry": N_("Trial registry"),
    "official": N_("Official statement"),
    "state-media": N_("State-affiliated media"),
    "news": N_("News"),
    "fact-check": N_("Fact-check"),
    "reference": N_("Reference work"),
    "other": N_("Other"),
}


class Rating(BaseModel):
    """One step of the site's rating scale, best first."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    label: str
    description: str = ""


DEFAULT_RATINGS = [
    Rating(id="accurate", label=N_("Accurate"), description=N_("Supported by the evidence.")),
    Rating(id="mostly-accurate", label=N_("Mostly accurate"), description=N_("Supported, with minor caveats.")),
    Rating(id="unproven", label=N_("Unproven"), description=N_("No reliable evidence either way yet.")),
    Rating(id="misleading", label=N_("Misleading"), description=N_("Contains a fact, framed to give a false impression.")),
    Rating(id="false", label=N_("False"), description=N_("Contradicted by the evidence.")),
]


def rating_hue(rating_id: str, scale: list[Rating]) -> int:
    """The hue of a rating's badge: 120 (green) for the best of the scale down to 0 (red) for the worst; the page's
    badges, the share card and the PDF all paint with it (`hsl(hue, 55%, 30%)`)."""
    ids = [r.id for r in scale]
    position = ids.index(rating_id) if rating_id in ids else 0
    return int(round(120 * (1 - position / ((len(ids) - 1) or 1))))


class ServiceSettings(BaseModel):
    """Where `report sources` and `report links` send requests, and how politely (`services:` under the plugin).

    Endpoints are settings so that a desk can use a mirror and tests can use local servers; builds never use them."""

    model_config = ConfigDict(extra="forbid")
    contact: str = Field(default="", pattern=r"^[^\s<>\"'`;()]*$")  # an e-mail address: in the User-Agent and NCBI's `email`
    doi: str = "https://doi.org"  # content negotiation; redirects to Crossref, DataCite or mEDRA
    ncbi: str = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
    arxiv: str = "https://export.arxiv.org/api/query"
    openlibrary: str = "https://openlibrary.org"
    wayback: str = "https://web.archive.org"  # Save Page Now and the snapshots themselves
    wayback_availability: str = "https://archive.org/wayback/available"
    requests_per_second: float = Field(default=1.0, gt=0, le=100)  # per host
    per_host_concurrency: int = Field(default=2, ge=1, le=16)
    concurrency: int = Field(default=32, ge=1, le=256)  # connections in all
    timeout: float = Field(default=20.0, gt=0, le=300)
    retries: int = Field(default=3, ge=0, le=10)
    backoff: float = Field(default=1.0, ge=0, le=60)  # seconds before the first retry; doubled each time
    max_bytes: int = Field(default=5 * 2**20, ge=1024)
    max_redirects: int = Field(default=10, ge=0, le=30)
    archive_poll: float = Field(default=5.0, gt=0, le=60)  # seconds between asking Save Page Now how a capture goes
    # Addresses on this machine or its private network (loopback, RFC 1918, link-local such as a cloud's metadata
    # service at 169.254.169.254) are refused: cited addresses are chosen by whoever wrote the content. On only for
    # a mirror inside the desk's own network, and for tests.
    allow_private_addresses: bool = False

    @field_validator("doi", "ncbi", "arxiv", "openlibrary", "wayback", "wayback_availability")
    @classmethod
    def _web_address(cls, value: str) -> str:
        if not re.fullmatch(r"https?://[^\s\"'<>`]+", value):
            raise ValueError("must be an http(s) address")
        return value.rstrip("/")


# `domain,date` or `mailbox@domain,date`, as RFC 4151 writes a tag's authority (lowercase, date YYYY[-MM[-DD]]).
FEED_AUTHORITY = r"^((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9-]*[a-z0-9]|[a-z0-9._%+-]+@(?:[a-z0-9-]+\.)+[a-z0-9-]+)" \
    r",\d{4}(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01]))?)?$|^$"
DEFAULT_TAG_YEAR = 2026  # the date of the default tag authority: fixed, so ids never change with the calendar


class SiteConfig(BaseModel):
    """Settings under `plugins: - report:` in mkdocs.yml."""

    model_config = ConfigDict(extra="forbid")
    content_dir: str = "content"
    bib_dir: str = "bib"
    docs_dir: str = "docs"  # MkDocs' own setting, copied here so reports can be checked against the user's pages
    csl_style: str = "ieee"
    language: str = "en"
    ratings: list[Rating] = Field(default_factory=lambda: list(DEFAULT_RATINGS))
    sanitize_html: bool = True
    pdf: bool = True
    page_size: Literal["A4", "Letter"] = "A4"
    cache_dir: str = ".cache/report"
    engine: Literal["mkdocs", "zensical"] = "mkdocs"  # what `report build` and `report serve` run
    # Fields the sources.bib download may carry beyond the bibliographic ones (private fields never: they are
    # taken out of every entry as it is read).
    published_fields: list[str] = Field(default_factory=list)
    site_name: str = ""
    site_url: str = Field(default="", pattern=r"^(https?://[^\s\"'<>`]+)?$")  # links in pages, PDFs and the feed
    # The tag URI authority (RFC 4151) of the feed's ids: a domain or e-mail address the desk owns and a date it owned
    # it on (`example.org,2026`). Ids never come from site_url, so setting or moving the site keeps them.
    feed_authority: str = Field(default="", pattern=FEED_AUTHORITY)
    services: ServiceSettings = Field(default_factory=ServiceSettings)

    @field_validator("ratings")
    @classmethod
    def _unique_ratings(cls, value: list[Rating]) -> list[Rating]:
        ids = [r.id for r in value]
        if len(ids) != len(set(ids)) or not ids:
            raise ValueError("rating ids must be unique and the scale must not be empty")
        return value

    def rating(self, rating_id: str) -> Rating | None:
        return next((r for r in self.ratings if r.id == rating_id), None)

    @property
    def tag_authority(self) -> str:
        """`feed_authority`, or a default that depends only on the site's name: `<name>.evidence-desk.invalid,2026`
        (`.invalid` is reserved: no one else can mint tags under it). Set `feed_authority` once to keep the ids
        when the site is renamed."""
        if self.feed_authority:
            return self.feed_authority
        name = re.sub(r"[^a-z0-9]+", "-", (self.site_name or "reports").lower()).strip("-")[:63].strip("-")
        return f"{name or 'reports'}.evidence-desk.invalid,{DEFAULT_TAG_YEAR}"


class _LenientLoader(yaml.SafeLoader):
    """Reads mkdocs.yml without MkDocs: unknown tags such as !!python/name become None."""


def _ignore_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> None:
    return None


_LenientLoader.add_multi_constructor("tag:yaml.org,2002:python/", _ignore_tag)
_LenientLoader.add_multi_constructor("!", _ignore_tag)


# Tags of mkdocs.yml that only name or hold data; every other `!!python/…` tag constructs or calls an object when
# MkDocs loads the file (`!!python/object/apply:os.system`), so it is refused before MkDocs reads it.
_PYTHON_TAG = "tag:yaml.org,2002:python/"
_PYTHON_DATA = ("none", "bool", "str", "unicode", "bytes", "int", "long", "float", "complex", "list", "tuple", "dict")


def _forbidden(tag: str) -> bool:
    if not tag.startswith(_PYTHON_TAG):
        return False
    rest = tag[len(_PYTHON_TAG):]
    return not (rest.startswith("name:") or rest in _PYTHON_DATA)


def mkdocs_yml_problems(root: Path, name: str = "mkdocs.yml", seen: frozenset[Path] = frozenset()) -> list[Problem]:
    """What makes a project's mkdocs.yml (and any file it INHERITs) unsafe to hand to MkDocs, which loads it with
    PyYAML's unsafe loader: tags that construct or call objects, and files outside the project."""
    path = root / name
    where = problems_path(root, path)
    try:
        text = safefs.read_text(path, root, root)
    except FileNotFoundError:
        return [] if name == "mkdocs.yml" else [Problem(where, None, "INHERIT names a file that does not exist")]
    except safefs.UnsafePath as exc:
        return [Problem(where, None, exc.message, exc.hint, code="unsafe-path")]
    except (OSError, UnicodeDecodeError) as exc:
        return [Problem(where, None, f"cannot be read ({exc})", code="config")]
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
        return []  # MkDocs reports its own syntax errors; nothing is constructed from a file that does not parse
    found: list[Problem] = []
    stack, visited = ([node] if node is not None else []), set()
    while stack:
        current = stack.pop()
        if id(current) in visited:
            continue
        visited.add(id(current))
        if _forbidden(current.tag):
            tag = current.tag.replace("tag:yaml.org,2002:", "!!")
            found.append(Problem(where, current.start_mark.line + 1, f"the YAML tag `{tag}` is not allowed: it would run "
                                 "code when MkDocs reads this file", "remove it; only `!!python/name:` (as used by "
                                 "Material's settings), `!ENV` and `!relative` are allowed", code="yaml-tag"))
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                stack += (value, key)
                if isinstance(key, yaml.ScalarNode) and key.value == "INHERIT" and isinstance(value, yaml.ScalarNode):
                    parent = (path.parent / value.value)
                    if parent.resolve() not in seen:
                        relative = Path(os.path.relpath(parent, root)).as_posix()
                        found += mkdocs_yml_problems(root, relative, seen | {path.resolve()})
        elif isinstance(current, yaml.SequenceNode):
            stack += current.value
    return found


def problems_path(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def trusted_docs_files(root: Path) -> set[str]:
    """The docs/ files mkdocs.yml lists as the site's own scripts, stylesheets and hooks (reviewed as code), as
    paths relative to docs/."""
    try:
        data = read_mkdocs_yml(root / "mkdocs.yml")
    except (yaml.YAMLError, OSError, UnicodeDecodeError, RecursionError):
        return set()
    listed: set[str] = set()
    for key in ("extra_javascript", "extra_css"):
        for item in data.get(key) or []:
            value = item.get("path") if isinstance(item, dict) else item
            if isinstance(value, str):
                listed.add(value.lstrip("/"))
    docs_dir = str(data.get("docs_dir") or "docs").strip("/")
    for item in data.get("hooks") or []:  # relative to mkdocs.yml, not to docs/
        if isinstance(item, str) and item.startswith(f"{docs_dir}/"):
            listed.add(item[len(docs_dir) + 1:])
    return listed


def site_dir(root: Path) -> Path:
    """Where the site is published: mkdocs.yml's `site_dir`, relative to the project (MkDocs' default `site`)."""
    return root / (read_mkdocs_yml(root / "mkdocs.yml").get("site_dir") or "site")


def read_mkdocs_yml(path: Path) -> dict[str, Any]:
    """The raw mkdocs.yml mapping, read without importing MkDocs."""
    if not path.exists():
        return {}
    try:
        text = safefs.read_text(path, path.parent)
    except safefs.UnsafePath:
        return {}  # reported by mkdocs_yml_problems
    data = yaml.load(text, Loader=_LenientLoader)  # noqa: S506 - SafeLoader subclass
    return data if isinstance(data, dict) else {}


def load_site_config(root: Path) -> SiteConfig:
    """The `report` plugin settings of the project at `root` (defaults where absent)."""
    data = read_mkdocs_yml(root / "mkdocs.yml")
    options: dict[str, Any] = {}
    for plugin in data.get("plugins") or []:
        if isinstance(plugin, dict) and "report" in plugin:
            options = dict(plugin["report"] or {})
    options.setdefault("site_name", data.get("site_name") or "")
    options.setdefault("docs_dir", data.get("docs_dir") or "docs")
    options.setdefault("site_url", data.get("site_url") or "")
    language = (data.get("theme") or {}).get("language") if isinstance(data.get("theme"), dict) else None
    if language:
        options.setdefault("language", language)
    return SiteConfig(**options)
