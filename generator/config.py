"""Site settings for the `report` plugin and CLI: one typed schema shared by both adapters."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

SOURCE_KINDS: dict[str, str] = {
    "peer-reviewed": "Peer-reviewed study",
    "review": "Review",
    "preprint": "Preprint",
    "trial-registry": "Trial registry",
    "official": "Official statement",
    "state-media": "State-affiliated media",
    "news": "News",
    "fact-check": "Fact-check",
    "reference": "Reference work",
    "other": "Other",
}


class Rating(BaseModel):
    """One step of the site's rating scale, best first."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    label: str
    description: str = ""


DEFAULT_RATINGS = [
    Rating(id="accurate", label="Accurate", description="Supported by the evidence."),
    Rating(id="mostly-accurate", label="Mostly accurate", description="Supported, with minor caveats."),
    Rating(id="unproven", label="Unproven", description="No reliable evidence either way yet."),
    Rating(id="misleading", label="Misleading", description="Contains a fact, framed to give a false impression."),
    Rating(id="false", label="False", description="Contradicted by the evidence."),
]


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
    site_name: str = ""
    site_url: str = ""

    @field_validator("ratings")
    @classmethod
    def _unique_ratings(cls, value: list[Rating]) -> list[Rating]:
        ids = [r.id for r in value]
        if len(ids) != len(set(ids)) or not ids:
            raise ValueError("rating ids must be unique and the scale must not be empty")
        return value

    def rating(self, rating_id: str) -> Rating | None:
        return next((r for r in self.ratings if r.id == rating_id), None)


class _LenientLoader(yaml.SafeLoader):
    """Reads mkdocs.yml without MkDocs: unknown tags such as !!python/name become None."""


def _ignore_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> None:
    return None


_LenientLoader.add_multi_constructor("tag:yaml.org,2002:python/", _ignore_tag)
_LenientLoader.add_multi_constructor("!", _ignore_tag)


def read_mkdocs_yml(path: Path) -> dict[str, Any]:
    """The raw mkdocs.yml mapping, read without importing MkDocs."""
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=_LenientLoader)  # noqa: S506 - SafeLoader subclass
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
