"""Labels in the reader's language: every string the product prints on pages, in the PDF and in the feed goes
through gettext, with Babel's catalogues (`generator/locales/<language>/LC_MESSAGES/report.po`).

Catalogues are compiled to `.mo` when a wheel is built (setup.py); a source checkout compiles the `.po` in memory
the first time a language is asked for. A language tag such as `de-AT` falls back to `de`; a language without a
catalogue gets the English text (its dates and CSL terms are still localised by Babel and the style).

Translations are text, never markup: a translated label is HTML-escaped before the values it names are put in
(which are escaped too, unless they are already safe markup such as a `<time>` element)."""

from __future__ import annotations

import gettext as _gettext
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

LOCALES_DIR = Path(__file__).with_name("locales")
DOMAIN = "report"
SOURCE_LANGUAGE = "en"
# The catalogues shipped with the package; `tests/test_i18n.py` keeps each complete.
SHIPPED = ("en", "de", "fr", "es", "ru", "uk", "ar")
RTL_LANGUAGES = frozenset({"ar", "arc", "ckb", "dv", "fa", "ha", "he", "khw", "ks", "ku", "ps", "sd", "ur", "yi"})
_TAG = re.compile(r"^[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8})*$")


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for a string marked now, translated later
    """Marks a string for extraction without translating it (module-level labels, translated where shown)."""
    return message


@lru_cache(maxsize=256)
def locale_name(language: str) -> str:
    """A BCP 47 tag as Babel and gettext spell a locale (`pt-BR` → `pt_BR`), the nearest one Babel knows (`de-XX` →
    `de`); `en` for anything else."""
    from babel import Locale, UnknownLocaleError

    language = (language or "").strip()
    if not _TAG.match(language):
        return SOURCE_LANGUAGE
    parts = language.replace("-", "_").split("_")
    for n in range(len(parts), 0, -1):
        name = "_".join(parts[:n])
        try:
            Locale.parse(name)
        except (UnknownLocaleError, ValueError):
            continue
        return name
    return SOURCE_LANGUAGE


def _candidates(language: str) -> list[str]:
    parts = locale_name(language).split("_")
    return list(dict.fromkeys(["_".join(parts[:n]) for n in range(len(parts), 0, -1)]))


def _compile_po(path: Path) -> _gettext.GNUTranslations:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        catalog = read_po(handle, ignore_obsolete=True)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


@lru_cache(maxsize=64)
def catalogue(language: str) -> _gettext.NullTranslations:
    """The shipped translations for a language (the nearest one by tag), or none (English)."""
    for name in _candidates(language):
        folder = LOCALES_DIR / name / "LC_MESSAGES"
        mo, po = folder / f"{DOMAIN}.mo", folder / f"{DOMAIN}.po"
        if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
            with mo.open("rb") as handle:
                return _gettext.GNUTranslations(handle)
        if po.is_file():
            return _compile_po(po)
    return _gettext.NullTranslations()


def has_catalogue(language: str) -> bool:
    return type(catalogue(language)) is not _gettext.NullTranslations


def direction(language: str) -> str:
    """`rtl` for a right-to-left script's language, else `ltr`."""
    return "rtl" if locale_name(language).split("_")[0].lower() in RTL_LANGUAGES else "ltr"


@dataclass(frozen=True)
class Labels:
    """One language's translations, as plain text (`text`, `plural`) for Python and as escaped markup (`_`,
    `ngettext`) for templates."""

    language: str

    @property
    def _catalogue(self) -> _gettext.NullTranslations:
        return catalogue(self.language)

    def text(self, message: str, **values: Any) -> str:
        translated = self._catalogue.gettext(message)
        return translated % values if values else translated

    def plural(self, singular: str, plural: str, n: int, **values: Any) -> str:
        return self._catalogue.ngettext(singular, plural, n) % {"n": n, **values}

    def markup(self, message: str, **values: Any) -> Markup:
        translated = escape(self._catalogue.gettext(message))
        return translated % values if values else translated

    def markup_plural(self, singular: str, plural: str, n: int, **values: Any) -> Markup:
        return escape(self._catalogue.ngettext(singular, plural, n)) % {"n": n, **values}

    def context(self) -> dict[str, Callable[..., Any]]:
        """What templates call: `_("…", name=value)` and `ngettext("… %(n)s …", "…", n)`."""
        return {"_": self.markup, "gettext": self.markup, "ngettext": self.markup_plural}


@lru_cache(maxsize=64)
def labels(language: str) -> Labels:
    return Labels(language or SOURCE_LANGUAGE)
