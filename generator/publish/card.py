"""The share card of a report (`<slug>/card.png`): the picture a link preview shows, drawn at build time.

1200 × 630 pixels (Open Graph's and Twitter's large card): the site's name, the report's question, the verdict as
a coloured badge on the page's hue scale (`config.rating_hue`) and the "Checked on" stamp, in the report's language.
Drawn with Pillow (already installed as a dependency of WeasyPrint) in a font that fontconfig says covers every
character of the text (Latin, Cyrillic, Arabic…), with right-to-left text laid out by Pillow's Raqm layout. Nothing
is fetched, and the bytes depend only on the text, the fonts and Pillow: the same input gives the same file.
"""

from __future__ import annotations

import base64
import binascii
import colorsys
import dataclasses
import io
import json
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.cache import Store
from generator.config import rating_hue
from generator.i18n import N_, direction, labels, locale_name

if TYPE_CHECKING:
    from PIL import ImageFont

    from generator.render.report import RenderedReport

WIDTH, HEIGHT = 1200, 630
MARGIN = 72
FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
QUESTION_SIZES = (64, 58, 52, 46, 42)  # the largest at which the question fits in MAX_LINES
MAX_LINES = 5
ELLIPSIS = "…"
INK, MUTED, PAPER = (26, 26, 35), (92, 92, 105), (255, 255, 255)
FC_TIMEOUT = 30


class NoFont(RuntimeError):
    """fontconfig found no font file Pillow can open."""


@dataclass(frozen=True)
class CardText:
    """Everything a card shows, as plain text."""

    site: str
    question: str
    rating: str  # the verdict's label, translated
    hue: int
    stamp: str  # "Checked on 3 February 2026", translated
    language: str

    @property
    def rtl(self) -> bool:
        return direction(self.language) == "rtl"


def card_text(rendered: RenderedReport, site_name: str) -> CardText:
    """The card of a report, in the report's language."""
    from babel.dates import format_date

    words = labels(rendered.language)
    meta = rendered.report.meta
    rating = rendered.verdict_rating
    label = words.text(rating.label) if rating else meta.verdict.rating
    date = format_date(meta.checked_on, "long", locale=locale_name(rendered.language))
    stamp = words.text(N_("Corrected on %(date)s") if rendered.corrected else N_("Checked on %(date)s"), date=date)
    return CardText(site_name, " ".join(meta.question.split()), label,
                    rating_hue(meta.verdict.rating, rendered.config.ratings), stamp, rendered.language)


def card_alt(text: CardText) -> str:
    """The card's text alternative (`og:image:alt`): what it shows, in the order it shows it."""
    return f"{text.question} — {text.rating}. {text.stamp}."


def _charset(text: str) -> str:
    """The characters of `text` as a fontconfig charset (hex code points, ranges joined)."""
    points = sorted({ord(c) for c in text if not c.isspace()})
    ranges: list[list[int]] = []
    for point in points:
        if ranges and point == ranges[-1][1] + 1:
            ranges[-1][1] = point
        else:
            ranges.append([point, point])
    return " ".join(f"{a:x}" if a == b else f"{a:x}-{b:x}" for a, b in ranges)


def _fc(*args: str) -> list[str]:
    """The output lines of `fc-match`, `fc-list` or `fc-query` (fixed arguments, no shell); none if it fails."""
    try:
        done = subprocess.run([f"fc-{args[0]}", *args[1:]], capture_output=True,
                              timeout=FC_TIMEOUT, check=False, text=True)
    except (OSError, subprocess.SubprocessError):
        return []
    return [line for line in done.stdout.splitlines() if line.strip()] if done.returncode == 0 else []


@lru_cache(maxsize=64)
def _ranked(bold: bool, lang: str) -> tuple[tuple[str, int], ...]:
    """The font files fontconfig prefers for sans-serif text in `lang`, best first (those Pillow can open)."""
    weight = ":weight=bold" if bold else ""
    ranked: list[tuple[str, int]] = []
    for line in _fc("match", "-s", f"sans-serif{weight}{f':lang={lang}' if lang else ''}", "--format",
                    "%{file}|%{index}\n"):
        file, _, face = line.partition("|")
        if file.lower().endswith(FONT_SUFFIXES) and Path(file).is_file():
            ranked.append((file, int(face) if face.isdigit() else 0))
    return tuple(ranked)


@lru_cache(maxsize=64)
def _coverage(file: str, index: int) -> tuple[tuple[int, int], ...]:
    """The code point ranges a font file has glyphs for, as fontconfig reads them."""
    found: list[tuple[int, int]] = []
    for line in _fc("query", "-i", str(index), "-f", "%{charset}\n", file)[:1]:
        for item in line.split():
            first, _, last = item.partition("-")
            try:
                found.append((int(first, 16), int(last or first, 16)))
            except ValueError:
                continue
    return tuple(found)


def _covers(ranges: tuple[tuple[int, int], ...], text: str) -> bool:
    return all(any(a <= ord(c) <= b for a, b in ranges) for c in set(text) if not c.isspace())


@lru_cache(maxsize=256)
def _covering(charset: str) -> frozenset[str]:
    return frozenset(line.split("|")[0] for line in _fc("list", f":charset={charset}", "--format", "%{file}|\n"))


def find_font(text: str, bold: bool = False, language: str = "") -> tuple[str, int, bool]:
    """(file, face index, whether it has every character of `text`): the font fontconfig prefers for sans-serif
    text in `language` when it has them all (the usual case, checked against its character map without another
    query), else the best-ranked one that does, else the first choice (missing characters then show as boxes).
    NoFont when fontconfig finds nothing Pillow can open."""
    ranked = _ranked(bold, locale_name(language).split("_")[0] if language else "")
    if not ranked:
        raise NoFont("fontconfig found no font (install fonts-dejavu-core or fonts-noto-core: scripts/system-deps.sh)")
    if _covers(_coverage(*ranked[0]), text):
        return ranked[0][0], ranked[0][1], True
    covering = _covering(_charset(text))
    for file, index in ranked:
        if file in covering:
            return file, index, True
    return ranked[0][0], ranked[0][1], False


def _font(text: str, size: int, bold: bool, language: str) -> ImageFont.FreeTypeFont:
    from PIL import ImageFont, features

    file, index, _ = find_font(text, bold, language)
    layout = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
    return ImageFont.truetype(file, size, index=index, layout_engine=layout)


def _options(text: CardText) -> dict[str, Any]:
    return {"direction": "rtl" if text.rtl else "ltr", "language": text.language or None}


def _width(font: ImageFont.FreeTypeFont, line: str, options: dict[str, Any]) -> float:
    return font.getlength(line, **options)


def wrap(words: str, font: ImageFont.FreeTypeFont, width: float, options: dict[str, Any]) -> list[str]:
    """`words` broken into lines no wider than `width` (a word longer than a line is broken between characters)."""
    lines: list[str] = []
    line = ""
    for word in words.split(" "):
        candidate = f"{line} {word}" if line else word
        if _width(font, candidate, options) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        for char in word:  # a word wider than the card (a URL, a script without spaces)
            if line and _width(font, line + char, options) > width:
                lines.append(line)
                line = ""
            line += char
    if line:
        lines.append(line)
    return lines


def fit_question(text: CardText, width: float) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """The question at the largest size that fits MAX_LINES lines; at the smallest, cut after the last whole word
    that fits, with an ellipsis."""
    options = _options(text)
    for size in QUESTION_SIZES:
        font = _font(text.question, size, True, text.language)
        lines = wrap(text.question, font, width, options)
        if len(lines) <= MAX_LINES:
            return font, lines
    kept = lines[:MAX_LINES]
    last = kept[-1]
    while last and _width(font, last + ELLIPSIS, options) > width:
        last = last.rsplit(" ", 1)[0] if " " in last else last[:-1]
    kept[-1] = last.rstrip(" ,;:") + ELLIPSIS
    return font, kept


def badge_colour(hue: int) -> tuple[int, int, int]:
    """The badge's background, as the page's stylesheet paints it: hsl(hue, 55%, 30%)."""
    red, green, blue = colorsys.hls_to_rgb(hue / 360, 0.30, 0.55)
    return round(red * 255), round(green * 255), round(blue * 255)


def render_card(text: CardText) -> bytes:
    """The card as PNG bytes."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    options = _options(text)
    colour = badge_colour(text.hue)
    inner = WIDTH - 2 * MARGIN

    def place(line: str, font: ImageFont.FreeTypeFont, y: float, fill: tuple[int, int, int]) -> None:
        x = WIDTH - MARGIN - _width(font, line, options) if text.rtl else MARGIN
        draw.text((x, y), line, font=font, fill=fill, **options)

    draw.rectangle((0, 0, WIDTH, 14), fill=colour)  # the verdict's hue, edge to edge
    site_font = _font(text.site, 30, True, text.language)
    site = wrap(text.site, site_font, inner, options)[:1] or [""]
    place(site[0], site_font, 52, MUTED)

    font, lines = fit_question(text, inner)
    line_height = round(font.size * 1.2)
    top = 120 + max(0, (330 - line_height * len(lines)) // 2)  # centred in the space between name and badge
    for i, line in enumerate(lines):
        place(line, font, top + i * line_height, INK)

    badge_font = _font(text.rating, 34, True, text.language)
    label_width = _width(badge_font, text.rating, options)
    badge_width, badge_height, y = label_width + 56, 64, HEIGHT - MARGIN - 64
    left = WIDTH - MARGIN - badge_width if text.rtl else MARGIN
    draw.rounded_rectangle((left, y, left + badge_width, y + badge_height), radius=badge_height // 2, fill=colour)
    draw.text((left + 28, y + badge_height / 2), text.rating, font=badge_font, fill=PAPER, anchor="lm", **options)

    stamp_font = _font(text.stamp, 30, False, text.language)
    stamp_width = _width(stamp_font, text.stamp, options)
    gap = 28
    x = left - gap - stamp_width if text.rtl else left + badge_width + gap
    draw.text((x, y + badge_height / 2), text.stamp, font=stamp_font, fill=MUTED, anchor="lm", **options)

    out = io.BytesIO()
    # No time or text chunks: the bytes depend on the pixels only. Level 1: a card is flat colour and text, which
    # deflate's fastest level packs within 15 % of level 6, in two thirds of the time.
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def missing_glyphs(text: CardText) -> str:
    """The card's texts whose characters no installed font covers ("" when every one is covered)."""
    parts = [(text.site, True), (text.question, True), (text.rating, True), (text.stamp, False)]
    return " ".join(part for part, bold in parts if part and not find_font(part, bold, text.language)[2])


@dataclass(frozen=True)
class Card:
    """A report's card: where it is published, its PNG bytes and its text alternative."""

    path: str  # relative to the site's root: `<slug>/card.png`
    data: bytes
    alt: str
    missing: str = ""  # texts with characters no installed font has (shown as boxes)


def report_card(rendered: RenderedReport, site_name: str, store: Store | None = None) -> Card:
    """The card of a report, from the disk cache when the same text was drawn with the same fonts and Pillow."""
    from PIL import __version__ as pillow
    from PIL import features

    text = card_text(rendered, site_name)
    parts = [(text.site, True), (text.question, True), (text.rating, True), (text.stamp, False)]
    fonts = [find_font(part, bold, text.language)[:2] for part, bold in parts]
    key = Store.key("cards", json.dumps(dataclasses.asdict(text), ensure_ascii=False, sort_keys=True),
                    json.dumps(fonts), pillow, str(features.version("raqm")), str(features.version("freetype2")))
    slug = rendered.report.slug
    cached = store.read("cards", slug, key) if store else None
    data = b""
    if isinstance(cached, str):
        try:
            data = base64.b64decode(cached.encode("ascii"), validate=True)
        except (binascii.Error, ValueError):
            data = b""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        data = render_card(text)
        if store:
            store.write("cards", slug, key, base64.b64encode(data).decode("ascii"))
    return Card(f"{slug}/card.png", data, card_alt(text), missing_glyphs(text))
