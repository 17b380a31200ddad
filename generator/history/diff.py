"""What changed between two versions of a report: one structured comparison, shown as a page and as PR Markdown."""

from __future__ import annotations

import datetime as dt
import difflib
import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Literal

from markupsafe import Markup, escape

from generator.config import Rating, SiteConfig
from generator.errors import inert
from generator.i18n import N_, labels
from generator.render.report import PageOutput, RenderedClaim, RenderedReport, Renderer, permalink_macro, toc_tokens
from generator.reports.model import Claim, Report, Revision

Op = Literal["equal", "delete", "insert"]
PARAGRAPH = "¶"
_CITATION = r"\[[^\[\]\n]*@[^\[\]\n]*\]"
_WORD = r"\w+(?:['’.,:/-]\w+)*"
_PRINTED_CITATION = r"\[\d[\d–, ]*\]"  # a citation as a numeric style prints it: `[3]`, `[2–4]`, `[1, 5]`
_TOKEN = re.compile(rf"{_CITATION}|{_PRINTED_CITATION}|{_WORD}|\S")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n|\n(?=[ \t]*(?:[-*+]|\d+[.)])[ \t])")
PAGE_CONTEXT = 12
MARKDOWN_CONTEXT = 6
MARKDOWN_RUN_LIMIT = 80
MARKDOWN_HUNK_LIMIT = 6
MARKDOWN_LIMIT = 60_000  # GitHub refuses comments over 65,536 characters


# -- word-level text diff --------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    """A word, citation or punctuation mark, and whether a space came before it."""

    text: str
    space: bool = True


def tokenize(text: str) -> list[Token]:
    """Words, citations (`[@a; @b]` as one token) and punctuation; paragraph and list breaks become ¶."""
    tokens: list[Token] = []
    for index, paragraph in enumerate(p for p in _PARAGRAPH_BREAK.split(text.strip()) if p.strip()):
        if index:
            tokens.append(Token(PARAGRAPH))
        paragraph = " ".join(paragraph.split())
        end = 0
        for match in _TOKEN.finditer(paragraph):
            tokens.append(Token(match.group(), match.start() > end or (not tokens or tokens[-1].text == PARAGRAPH)))
            end = match.end()
    if tokens:
        tokens[0] = Token(tokens[0].text, False)
    return tokens


def _is_word(token: Token) -> bool:
    return token.text != PARAGRAPH and any(ch.isalnum() for ch in token.text)


@dataclass(frozen=True)
class Piece:
    """A run of tokens with one operation, ready to print: `lead` is the space before the marked `body`."""

    op: Op
    lead: str
    body: str


@dataclass(frozen=True)
class Hunk:
    """Changed runs with a little unchanged context; `before`/`after` say whether text was left out."""

    pieces: tuple[Piece, ...]
    before: bool
    after: bool


@dataclass(frozen=True)
class _Group:
    """Either unchanged tokens (`same`, spaced as in the new text; `same_old` as in the old) or a change."""

    same: tuple[Token, ...] = ()
    same_old: tuple[Token, ...] = ()
    deleted: tuple[Token, ...] = ()
    inserted: tuple[Token, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.deleted or self.inserted)


def _weak(tokens: Sequence[Token]) -> bool:
    """An unchanged run too slight to anchor a reader (`of the`, a comma) between two changes."""
    return len(tokens) <= 2 and all(not _is_word(t) or (t.text.isalpha() and len(t.text) <= 3) for t in tokens)


def _groups(old: list[Token], new: list[Token]) -> list[_Group]:
    matcher = difflib.SequenceMatcher(None, [t.text for t in old], [t.text for t in new], autojunk=False)
    groups: list[_Group] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            groups.append(_Group(same=tuple(new[j1:j2]), same_old=tuple(old[i1:i2])))
        else:
            groups.append(_Group(deleted=tuple(old[i1:i2]), inserted=tuple(new[j1:j2])))
    merged: list[_Group] = []
    for group in groups:  # fold slight unchanged runs into the changes around them
        if (group.changed and len(merged) >= 2 and merged[-2].changed and not merged[-1].changed
                and _weak(merged[-1].same)):
            equal = merged.pop()
            before = merged.pop()
            group = _Group(deleted=before.deleted + equal.same_old + group.deleted,
                           inserted=before.inserted + equal.same + group.inserted)
        if group.changed and merged and merged[-1].changed:
            before = merged.pop()
            group = _Group(deleted=before.deleted + group.deleted, inserted=before.inserted + group.inserted)
        merged.append(group)
    return merged


def _text(tokens: Sequence[Token]) -> tuple[str, str]:
    """(leading space, body) of a token run."""
    if not tokens:
        return "", ""
    body = tokens[0].text + "".join((" " if t.space else "") + t.text for t in tokens[1:])
    return (" " if tokens[0].space else ""), body


@dataclass
class TextDiff:
    """A word-level comparison of one text (a section, the verdict, a claim's explanation, …)."""

    label: str
    status: Literal["changed", "added", "removed"]
    groups: list[_Group]
    anchor: str = ""
    old_label: str = ""

    @property
    def inserted_words(self) -> int:
        return sum(1 for g in self.groups for t in g.inserted if _is_word(t))

    @property
    def deleted_words(self) -> int:
        return sum(1 for g in self.groups for t in g.deleted if _is_word(t))

    def hunks(self, context: int = PAGE_CONTEXT) -> list[Hunk]:
        """The changes with up to `context` unchanged tokens either side; long unchanged runs split hunks."""
        if not any(g.changed for g in self.groups):
            return []
        hunks: list[Hunk] = []
        pieces: list[Piece] = []
        before = False
        last = len(self.groups) - 1
        for index, group in enumerate(self.groups):
            if group.changed:
                lead_del, body_del = _text(group.deleted)
                lead_ins, body_ins = _text(group.inserted)
                if group.deleted:
                    pieces.append(Piece("delete", lead_del if pieces or before else "", body_del))
                if group.inserted:
                    lead = " " if group.deleted else lead_ins
                    pieces.append(Piece("insert", lead if pieces or before else "", body_ins))
                continue
            same = group.same
            if index == 0:
                before = len(same) > context
                pieces.append(Piece("equal", "", _text(same[-context:] if context else ())[1]))
            elif index == last:
                head = same[:context]
                pieces.append(Piece("equal", *_text(head)))
                hunks.append(Hunk(tuple(p for p in pieces if p.body), before, len(same) > context))
                pieces = []
            elif len(same) > 2 * context + 4:
                pieces.append(Piece("equal", *_text(same[:context])))
                hunks.append(Hunk(tuple(p for p in pieces if p.body), before, True))
                pieces = [Piece("equal", "", _text(same[-context:])[1])]
                before = True
            else:
                pieces.append(Piece("equal", *_text(same)))
        if pieces:
            hunks.append(Hunk(tuple(p for p in pieces if p.body), before, False))
        return hunks


def text_diff(label: str, old: str | None, new: str | None, anchor: str = "", old_label: str = "") -> TextDiff | None:
    """The word-level diff of two texts, or None when they read the same (whitespace aside)."""
    old_tokens = tokenize(old) if old else []
    new_tokens = tokenize(new) if new else []
    if [t.text for t in old_tokens] == [t.text for t in new_tokens] and (old_label in ("", label)):
        return None
    if not old_tokens and not new_tokens:
        return None
    status: Literal["changed", "added", "removed"] = (
        "added" if old is None else "removed" if new is None else "changed")
    return TextDiff(label, status, _groups(old_tokens, new_tokens), anchor, old_label if old_label != label else "")


# -- rendered text, block by block (the page's "what changed") -----------------------------------
# A rendered text (HTML with its citations as printed) read into blocks — paragraphs, list items, table rows — and
# two versions compared block by block, then word by word inside the blocks that changed. `report diff` (for
# editors) keeps comparing the Markdown source.

BlockKind = Literal["p", "li", "row"]
_BLOCKS = {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "dt", "dd", "blockquote", "pre", "div", "tr", "caption",
           "figcaption", "ul", "ol", "table", "dl", "article", "section"}
_HIDDEN = {"rg-cite-between", "headerlink", "rg-visually-hidden"}  # read out or shown on focus, not printed


@dataclass(frozen=True)
class Block:
    """A paragraph, a list item or a table row (its cells), as text."""

    kind: BlockKind
    cells: tuple[str, ...]
    header: bool = False  # a table row of <th> cells

    @property
    def text(self) -> str:
        return " ".join(self.cells)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.text: list[str] = []
        self.cells: list[str] | None = None
        self.header = False
        self.hidden = 0  # depth inside an element whose text is not printed
        self.stack: list[tuple[str, bool]] = []
        self.marker = ""  # set inside a list item

    def _flush(self) -> None:
        text = " ".join("".join(self.text).split())
        self.text = []
        if self.cells is not None:
            return
        if text:
            self.blocks.append(Block("li" if self.marker else "p", (text,)))
        self.marker = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = set((dict(attrs).get("class") or "").split())
        hidden = bool(classes & _HIDDEN) or dict(attrs).get("aria-hidden") == "true" and tag != "span"
        if tag in ("br", "img", "hr", "input", "meta", "link"):
            if tag == "br":
                self.text.append(" ")
            return
        self.stack.append((tag, hidden))
        if hidden:
            self.hidden += 1
            return
        if tag in ("ul", "ol"):
            self._flush()
        elif tag == "li":
            self._flush()
            self.marker = "•"
        elif tag == "tr":
            self._flush()
            self.cells, self.header = [], True
        elif tag in ("td", "th") and self.cells is not None:
            self.text = []
            self.header = self.header and tag == "th"
        elif tag in _BLOCKS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in ("br", "img", "hr", "input", "meta", "link"):
            return
        while self.stack:
            open_tag, hidden = self.stack.pop()
            if hidden:
                self.hidden -= 1
            if open_tag == tag:
                break
        if self.hidden:
            return
        if tag in ("td", "th") and self.cells is not None:
            self.cells.append(" ".join("".join(self.text).split()))
            self.text = []
        elif tag == "tr" and self.cells is not None:
            cells, self.cells = self.cells, None
            if any(cells):
                self.blocks.append(Block("row", tuple(cells), self.header))
        elif tag in ("ul", "ol") or tag in _BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.text.append(data)


def html_blocks(markup: str) -> list[Block]:
    """Rendered HTML as the blocks a reader sees: text only, citations as printed (`[2–4]`, not the numbers read
    out in between), list items with their marker, table rows by cell."""
    reader = _Reader()
    reader.feed(markup)
    reader.close()
    reader._flush()
    return reader.blocks


@dataclass
class BlockChange:
    """One block of the comparison: unchanged (context), added, removed, or changed (a word diff per cell)."""

    kind: BlockKind
    op: Literal["equal", "insert", "delete", "changed", "gap"]
    cells: tuple[str, ...] = ()
    diffs: tuple[TextDiff | None, ...] = ()  # "changed": per cell, None where the cell reads the same
    header: bool = False

    def hunks(self, index: int) -> list[Hunk]:
        diff = self.diffs[index]
        return diff.hunks(PAGE_CONTEXT if self.kind == "p" else 10_000) if diff else []


@dataclass
class BlockRun:
    """Consecutive blocks the page shows in one container: a list, a table, or paragraphs."""

    kind: BlockKind | Literal["gap"]
    blocks: list[BlockChange] = field(default_factory=list)


def _cell_diff(old: str, new: str) -> TextDiff | None:
    if old == new:
        return None
    return TextDiff("", "changed", _groups(tokenize(old), tokenize(new)))


def _pair(old: Block, new: Block) -> BlockChange | None:
    """Two blocks shown as one changed block (a word diff), when they are the same kind and shape."""
    if old.kind != new.kind or len(old.cells) != len(new.cells):
        return None
    return BlockChange(new.kind, "changed", new.cells, tuple(_cell_diff(a, b) for a, b in zip(old.cells, new.cells,
                                                                                            strict=True)), new.header)


@dataclass
class BlockDiff(TextDiff):
    """A text compared as rendered, block by block (the page's "what changed"); `groups` stays empty."""

    changes: list[BlockChange] = field(default_factory=list)

    @property
    def inserted_words(self) -> int:
        return sum(_block_words(c, inserted=True) for c in self.changes)

    @property
    def deleted_words(self) -> int:
        return sum(_block_words(c, inserted=False) for c in self.changes)

    @property
    def runs(self) -> list[BlockRun]:
        """The changes grouped for the page: a table's rows in one table, a list's items in one list, unchanged
        stretches as one gap."""
        runs: list[BlockRun] = []
        for change in self.changes:
            kind = "gap" if change.op == "gap" else change.kind
            if runs and runs[-1].kind == kind and kind in ("li", "row"):
                runs[-1].blocks.append(change)
            else:
                runs.append(BlockRun(kind, [change]))
        return runs

    def hunks(self, context: int = PAGE_CONTEXT) -> list[Hunk]:
        return [h for c in self.changes if c.op == "changed" for i in range(len(c.cells)) for h in c.hunks(i)]


def _block_words(change: BlockChange, inserted: bool) -> int:
    if change.op in ("insert", "delete"):
        if (change.op == "insert") != inserted:
            return 0
        return sum(1 for cell in change.cells for t in tokenize(cell) if _is_word(t))
    return sum((d.inserted_words if inserted else d.deleted_words) for d in change.diffs if d)


def block_diff(label: str, old: str | None, new: str | None, anchor: str = "", old_label: str = "",
               context: int = 1) -> BlockDiff | None:
    """Two rendered texts (HTML) compared as a reader reads them; None when they read the same. Unchanged blocks
    next to a change are kept as context (`context` on each side), longer unchanged stretches become one gap."""
    old_blocks = html_blocks(old) if old else []
    new_blocks = html_blocks(new) if new else []
    if old_blocks == new_blocks and old_label in ("", label):
        return None
    if not old_blocks and not new_blocks:
        return None
    status: Literal["changed", "added", "removed"] = "added" if old is None else "removed" if new is None else "changed"
    matcher = difflib.SequenceMatcher(None, [(b.kind, b.cells) for b in old_blocks],
                                      [(b.kind, b.cells) for b in new_blocks], autojunk=False)
    changes: list[BlockChange] = []
    opcodes = matcher.get_opcodes()
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            same = new_blocks[j1:j2]
            head = same[:context] if index > 0 else []
            tail = same[-context:] if index < len(opcodes) - 1 and len(same) > len(head) else []
            if len(same) > len(head) + len(tail):
                changes += [BlockChange(b.kind, "equal", b.cells, header=b.header) for b in head]
                changes.append(BlockChange("p", "gap"))
                changes += [BlockChange(b.kind, "equal", b.cells, header=b.header) for b in tail]
            else:
                changes += [BlockChange(b.kind, "equal", b.cells, header=b.header) for b in same]
            continue
        olds, news = old_blocks[i1:i2], new_blocks[j1:j2]
        paired = 0
        while paired < min(len(olds), len(news)):
            pair = _pair(olds[paired], news[paired])
            if pair is None:
                break
            similarity = difflib.SequenceMatcher(None, olds[paired].text, news[paired].text, autojunk=False).ratio()
            if similarity < 0.3:  # a different block in the same place: shown as removed and added
                break
            changes.append(pair)
            paired += 1
        changes += [BlockChange(b.kind, "delete", b.cells, header=b.header) for b in olds[paired:]]
        changes += [BlockChange(b.kind, "insert", b.cells, header=b.header) for b in news[paired:]]
    if changes and changes[0].op == "gap":
        changes.pop(0)
    if changes and changes[-1].op == "gap":
        changes.pop()
    return BlockDiff(label, status, [], anchor, old_label if old_label != label else "", changes=changes)


# -- the structured comparison ------------------------------------------------------------------


@dataclass(frozen=True)
class RatingRef:
    """A rating as the version that used it labelled it."""

    id: str
    label: str
    rating: Rating | None = None


@dataclass(frozen=True)
class ClaimRef:
    id: str
    text: str
    rating: RatingRef


@dataclass
class ClaimChange:
    """A claim in both versions: its rating change (if any) and the diff of every field that changed."""

    id: str
    text: str
    old_rating: RatingRef
    new_rating: RatingRef
    fields: list[TextDiff] = field(default_factory=list)

    @property
    def rerated(self) -> bool:
        return self.old_rating.id != self.new_rating.id


@dataclass(frozen=True)
class SourceRef:
    key: str
    text: str
    html: Markup
    kind: str
    kind_label: str


@dataclass
class ReportDiff:
    """Everything a reader or reviewer asks about a new version: verdict, claims, sources, text, dates."""

    slug: str
    title: str
    status: Literal["changed", "added", "removed", "unchanged"]
    old_version: int | None = None
    new_version: int | None = None
    old_checked_on: dt.date | None = None
    new_checked_on: dt.date | None = None
    revisions: list[Revision] = field(default_factory=list)
    old_rating: RatingRef | None = None
    new_rating: RatingRef | None = None
    verdict_text: TextDiff | None = None
    claims_added: list[ClaimRef] = field(default_factory=list)
    claims_removed: list[ClaimRef] = field(default_factory=list)
    claims_changed: list[ClaimChange] = field(default_factory=list)
    sources_added: list[SourceRef] = field(default_factory=list)
    sources_removed: list[SourceRef] = field(default_factory=list)
    sources_updated: list[SourceRef] = field(default_factory=list)
    texts: list[TextDiff] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    scale: list[Rating] = field(default_factory=list)

    @property
    def verdict_rerated(self) -> bool:
        return bool(self.old_rating and self.new_rating and self.old_rating.id != self.new_rating.id)

    @property
    def claims_rerated(self) -> list[ClaimChange]:
        return [c for c in self.claims_changed if c.rerated]

    @property
    def claims_edited(self) -> list[ClaimChange]:
        return [c for c in self.claims_changed if not c.rerated]

    @property
    def inserted_words(self) -> int:
        return sum(t.inserted_words for t in self._all_texts())

    @property
    def deleted_words(self) -> int:
        return sum(t.deleted_words for t in self._all_texts())

    def _all_texts(self) -> Iterable[TextDiff]:
        if self.verdict_text:
            yield self.verdict_text
        yield from self.texts
        for claim in self.claims_changed:
            yield from claim.fields

    @property
    def has_changes(self) -> bool:
        return self.status != "unchanged"

    @property
    def content_changed(self) -> bool:
        """Anything a reader would see differently (files may differ only in comments or whitespace)."""
        return bool(self.verdict_rerated or self.verdict_text or self.claims_added or self.claims_removed
                    or self.claims_changed or self.sources_added or self.sources_removed or self.sources_updated
                    or self.texts or self.revisions)


def _rating(config: SiteConfig, rating_id: str) -> RatingRef:
    rating = config.rating(rating_id)
    return RatingRef(rating_id, rating.label if rating else rating_id, rating)


def _claim_fields(claim: Claim) -> list[tuple[str, str]]:
    appeared = claim.first_appeared
    where = ", ".join(filter(None, [appeared.date.isoformat() if appeared and appeared.date else "",
                                    appeared.where if appeared else "",
                                    f"[@{appeared.source}]" if appeared and appeared.source else ""]))
    return [(N_("Claim"), claim.claim), (N_("Claimed by"), claim.claimant), (N_("First appeared"), where),
            (N_("Sources"), ", ".join(f"[@{k}]" for k in claim.sources)), (N_("Explanation"), claim.explanation)]


def _rendered_claim_fields(claim: RenderedClaim) -> list[tuple[str, str]]:
    """A claim's fields as its page shows them (HTML, citations as printed), in `_claim_fields`' order."""
    appeared = claim.claim.first_appeared
    where = ", ".join(filter(None, [appeared.date.isoformat() if appeared and appeared.date else "",
                                    str(escape(appeared.where)) if appeared and appeared.where else "",
                                    str(claim.appeared_source)]))
    return [(N_("Claim"), str(claim.text)), (N_("Claimed by"), str(escape(claim.claim.claimant))),
            (N_("First appeared"), where), (N_("Sources"), str(claim.sources)),
            (N_("Explanation"), str(claim.explanation))]


def _rendered_texts(rendered: RenderedReport) -> list[tuple[str, str, str]]:
    """(key, label, HTML) of every prose part as the page shows it, keyed as `_texts` keys the source."""
    meta = rendered.report.meta
    sections = iter(rendered.sections)
    bottom = iter(rendered.bottom_line.prose)
    parts = []
    summary_done = False
    for section in meta.sections:
        if section.kind == "summary" and not summary_done and rendered.summary is not None:
            html_text = str(rendered.summary.html)
            summary_done = True
        elif section.kind == "bottom-line":
            html_text = str(next(bottom, ""))
        else:
            html_text = str(next(sections).html)
        parts.append((f"section:{section.file}", section.title, html_text))
    parts.append(("bottom-line", N_("Bottom line"), str(rendered.bottom_line.conclusion)))
    parts.append(("would-change", N_("What would change the assessment"), str(rendered.bottom_line.would_change)))
    for narrative in rendered.narratives:
        by = narrative.narrative.promoted_by
        text = (f"<p>{escape(by)}</p>" if by else "") + str(narrative.summary)
        label = labels(rendered.language).text(N_("Narrative: %(title)s"), title=narrative.narrative.title)
        parts.append((f"narrative:{narrative.narrative.title}", label, text))
    if rendered.follow_up:
        parts.append(("follow-up", N_("Follow-up questions"), "".join(f"<p>{q}</p>" for q in rendered.follow_up)))
    if rendered.disclaimer:
        parts.append(("disclaimer", N_("Disclaimer"), str(rendered.disclaimer)))
    return parts


def _texts(report: Report) -> list[tuple[str, str, str]]:
    """(key, label, text) of every prose part of a report, in reading order."""
    meta = report.meta
    parts = [(f"section:{s.file}", s.title, report.prose.get(s.file, "")) for s in meta.sections]
    parts.append(("bottom-line", N_("Bottom line"), meta.bottom_line.conclusion))
    parts.append(("would-change", N_("What would change the assessment"), meta.bottom_line.would_change))
    for narrative in meta.narratives:
        text = (f"Promoted by {narrative.promoted_by}.\n\n" if narrative.promoted_by else "") + narrative.summary
        parts.append((f"narrative:{narrative.title}", f"Narrative: {narrative.title}", text))
    if meta.follow_up:
        parts.append(("follow-up", N_("Follow-up questions"), "\n\n".join(meta.follow_up)))
    if meta.disclaimer:
        parts.append(("disclaimer", N_("Disclaimer"), meta.disclaimer))
    return parts


def _match_sections(old: list[tuple[str, str, str]], new: list[tuple[str, str, str]]) -> dict[str, str]:
    """New key → old key: sections match by file, then by title (a renamed file keeps its history)."""
    old_keys = {k for k, _, _ in old}
    matched = {k: k for k, _, _ in new if k in old_keys}
    spare = {label: k for k, label, _ in old if k not in matched.values()}
    for key, label, _ in new:
        if key not in matched and label in spare:
            matched[key] = spare.pop(label)
    return matched


def _anchor(key: str) -> str:
    return "text-" + (re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-") or "part")


def _sources(rendered: RenderedReport) -> dict[str, SourceRef]:
    return {e.source.key: SourceRef(e.source.key, e.formatted.text, Markup(e.formatted.html),  # noqa: S704 - nh3-cleaned
                                    e.source.kind, e.source.kind_label)
            for e in rendered.references}


def compare_reports(old: RenderedReport | None, new: RenderedReport | None, files: Sequence[str] = (),
                    rendered: bool = False) -> ReportDiff:
    """The structured comparison of two rendered versions of one report (either may be missing): of their
    Markdown source for editors (`report diff`), or, with `rendered`, of the text as each version's page showed
    it, block by block (the "what changed" page)."""
    differ = block_diff if rendered else text_diff
    either = new or old
    assert either is not None
    slug = either.report.slug
    title = either.report.short_title
    scale = list(either.config.ratings)
    if old is None or new is None:
        status: Literal["changed", "added", "removed", "unchanged"] = "added" if old is None else "removed"
        diff = ReportDiff(slug, title, status, files=list(files), scale=scale)
        if new is not None:
            diff.new_version, diff.new_checked_on = new.report.version, new.report.meta.checked_on
            diff.new_rating = _rating(new.config, new.report.meta.verdict.rating)
            diff.revisions = sorted(new.report.meta.revisions, key=lambda r: r.version)
            diff.claims_added = [ClaimRef(c.id, c.claim, _rating(new.config, c.rating)) for c in new.report.meta.claims]
            diff.sources_added = list(_sources(new).values())
        if old is not None:
            diff.old_version, diff.old_checked_on = old.report.version, old.report.meta.checked_on
            diff.old_rating = _rating(old.config, old.report.meta.verdict.rating)
        return diff

    o, n = old.report.meta, new.report.meta
    diff = ReportDiff(slug, title, "changed", old.report.version, new.report.version, o.checked_on, n.checked_on,
                      files=list(files), scale=scale)
    old_versions = {r.version: r for r in o.revisions}
    diff.revisions = sorted((r for r in n.revisions if old_versions.get(r.version) != r), key=lambda r: r.version)
    diff.old_rating = _rating(old.config, o.verdict.rating)
    diff.new_rating = _rating(new.config, n.verdict.rating)
    if rendered:
        diff.verdict_text = block_diff(N_("Verdict"), str(old.verdict), str(new.verdict), "text-verdict")
    else:
        diff.verdict_text = text_diff(N_("Verdict"), o.verdict.text, n.verdict.text, "text-verdict")
    old_shown = {c.claim.id: c for c in old.claims}
    new_shown = {c.claim.id: c for c in new.claims}

    old_claims = {c.id: c for c in o.claims}
    new_claims = {c.id: c for c in n.claims}
    diff.claims_added = [ClaimRef(c.id, c.claim, _rating(new.config, c.rating)) for c in n.claims if c.id not in old_claims]
    diff.claims_removed = [ClaimRef(c.id, c.claim, _rating(old.config, c.rating)) for c in o.claims
                           if c.id not in new_claims]
    for claim in n.claims:
        before = old_claims.get(claim.id)
        if before is None:
            continue
        if rendered and claim.id in old_shown and claim.id in new_shown:
            pairs = zip(_rendered_claim_fields(old_shown[claim.id]), _rendered_claim_fields(new_shown[claim.id]),
                        strict=True)
        else:
            pairs = zip(_claim_fields(before), _claim_fields(claim), strict=True)
        fields = [d for (label, a), (_, b) in pairs
                  if (d := differ(label, a or None, b or None, f"claim-{claim.id}-{_anchor(label)[5:]}")) is not None]
        claim_change = ClaimChange(claim.id, claim.claim, _rating(old.config, before.rating),
                                   _rating(new.config, claim.rating), fields)
        if claim_change.rerated or claim_change.fields:
            diff.claims_changed.append(claim_change)

    old_sources, new_sources = _sources(old), _sources(new)
    diff.sources_added = [s for k, s in new_sources.items() if k not in old_sources]
    diff.sources_removed = [s for k, s in old_sources.items() if k not in new_sources]
    old_fields = {e.source.key: e.source.fields for e in old.references}
    new_fields = {e.source.key: e.source.fields for e in new.references}
    diff.sources_updated = [s for k, s in new_sources.items() if k in old_fields and old_fields[k] != new_fields[k]]

    old_parts, new_parts = (_rendered_texts(old), _rendered_texts(new)) if rendered else \
        (_texts(old.report), _texts(new.report))
    matched = _match_sections(old_parts, new_parts)
    old_by_key = {k: (label, text) for k, label, text in old_parts}
    for key, label, text in new_parts:
        if key in matched:
            old_label, old_text = old_by_key[matched[key]]
            change = differ(label, old_text, text, _anchor(key), old_label)
        else:
            change = differ(label, None, text, _anchor(key))
        if change is not None:
            diff.texts.append(change)
    for key, label, text in old_parts:
        if key not in matched.values():
            removed = differ(label, text, None, _anchor(key))
            if removed is not None:
                diff.texts.append(removed)
    if not diff.content_changed and not files:
        diff.status = "unchanged"
    return diff


# -- the changes page (HTML in Markdown, through a Jinja template) ------------------------------


def changes_page(renderer: Renderer, diff: ReportDiff, links: dict[str, str], is_latest: bool,
                 permalink: str | None = None, language: str = "") -> PageOutput:
    """The `<slug>/v<N>/changes/` page: what changed from version N-1 to N, for readers."""
    words = labels(language or renderer.config.language)
    meta = {"title": words.text(N_("What changed in version %(version)s: %(title)s"), version=diff.new_version,
                                title=diff.title),
            "description": words.text(N_("Changes from version %(old)s to version %(new)s of %(title)s"),
                                      old=diff.old_version, new=diff.new_version, title=diff.title),
            "search": {"exclude": True}}
    body = renderer.env.get_template("changes_page.html").render(
        d=diff, links=links, is_latest=is_latest, context=PAGE_CONTEXT, permalink=permalink_macro(permalink),
        **renderer.locale_context(language))
    return PageOutput(meta, body, toc_tokens(body, depth=3))


# -- PR Markdown ----------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|<>~&$])")
# Kept whole in a code span: citations, and any word GitHub would turn into a mention (`@name`, `a@b.c`), an
# issue reference (`#12`) or a link (`https://…`, `www.…`); a code span is never mentioned nor linked. Side by side
# (`[@a]@b`) they make one span: two would touch, and their backticks would run together.
_VERBATIM = re.compile(rf"((?:{_CITATION}|\S*(?:@|://|www\.|#\d)\S*)+)", re.IGNORECASE)
_LINE_START = re.compile(r"^([-=]|\d+(?=[.)]))")  # a list item or heading underline: escape its marker
_BACKTICKS = re.compile(r"`+")
_FOLD = re.compile(r"[\t\n\v\f\r\x1c-\x1e\x85\u2028\u2029]+")  # line breaks, as str.splitlines() sees them


def code_span(text: str) -> str:
    """`text` as one CommonMark code span, whatever it holds: newlines and control characters made visible, a
    fence longer than any run of backticks inside, and a space of padding when the text starts or ends with a
    backtick or a space (the parser takes one off each side). Nothing inside is emphasis, a link or a mention."""
    text = inert(text)
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(text)), default=0) + 1)
    if text.strip(" ") and (text[0] in "` " or text[-1] in "` "):
        text = f" {text} "
    return f"{fence}{text or ' '}{fence}"


def _md(text: str, cell: bool = False) -> str:
    """Plain text safe in Markdown, on one line: whitespace folded, control characters made visible, punctuation
    escaped; citations, mentions, issue references and links in code spans, so no one is mentioned and nothing
    links. In a table `cell`, a `|` is never inside a code span: GFM splits cells before it reads code spans."""
    out = []
    for index, part in enumerate(_VERBATIM.split(inert(_FOLD.sub(" ", text)))):
        if index % 2:  # what _VERBATIM matched
            pieces = part.split("|") if cell else [part]
            out.append("\\|".join(code_span(piece) if piece else "" for piece in pieces))
        else:
            out.append(_MD_SPECIAL.sub(r"\\\1", part))
    return "".join(out)


def _html(text: str) -> str:
    """Plain text safe in an HTML block of the comment (the <summary>), on one line: escaped, and what `_md` puts
    in a code span in <code> (GitHub mentions and links in HTML text too, never in <code>)."""
    parts = _VERBATIM.split(inert(_FOLD.sub(" ", text)))
    return "".join(f"<code>{html.escape(p)}</code>" if i % 2 else html.escape(p) for i, p in enumerate(parts))


def _md_piece(piece: Piece, lead: str, limit: int) -> str:
    body = piece.body
    words = body.split(" ")
    if piece.op != "equal" and len(words) > limit:
        body = " ".join(words[: limit - 10]) + f" … ({len(words) - limit + 10} more words)"
    text = _md(body)
    if piece.op == "delete":
        text = f"~~{text}~~"
    elif piece.op == "insert":
        text = f"**{text}**"
    return lead + text


def markdown_text(diff: TextDiff, context: int = MARKDOWN_CONTEXT, max_hunks: int = MARKDOWN_HUNK_LIMIT) -> list[str]:
    """A text diff as quoted Markdown lines: ~~deleted~~ and **inserted**, with a little context."""
    hunks = diff.hunks(context)
    lines = []
    for hunk in hunks[:max_hunks]:
        parts = ["… "] if hunk.before else []
        previous: Piece | None = None
        for piece in hunk.pieces:
            lead = piece.lead
            if not lead and (parts or previous) and (piece.op != "equal" or (previous and previous.op != "equal")):
                lead = " "  # a marker next to a word would not be read as emphasis
            parts.append(_md_piece(piece, lead, MARKDOWN_RUN_LIMIT))
            previous = piece
        if hunk.after:
            parts.append(" …")
        lines.append("> " + _LINE_START.sub(lambda m: f"\\{m[1]}" if m[1] in "-=" else f"{m[1]}\\", "".join(parts)))
    if len(hunks) > max_hunks:
        lines.append(f"> *… and {len(hunks) - max_hunks} more changes*")
    return lines


def _cell(text: str) -> str:
    return _md(text, cell=True)


def _words(diff: TextDiff | ReportDiff) -> str:
    return f"+{diff.inserted_words} / −{diff.deleted_words} words"


def _iso(date: dt.date | None) -> str:
    return date.isoformat() if date else "—"


def _report_markdown(d: ReportDiff, details: bool) -> list[str]:
    out: list[str] = []
    kinds = sorted({r.kind for r in d.revisions if d.old_version is None or r.version > d.old_version})
    heading = f"### {_md(d.title)} ({code_span(d.slug)})"
    if d.status == "added":
        out += [heading, "", f"**New report**, version {d.new_version}, checked on {_iso(d.new_checked_on)}: "
                f"verdict *{_md(d.new_rating.label if d.new_rating else '')}*, {len(d.claims_added)} claims, "
                f"{len(d.sources_added)} sources."]
        return out
    if d.status == "removed":
        return [heading, "", f"**Report removed** (was version {d.old_version}, checked on {_iso(d.old_checked_on)})."]
    bump = f"version {d.old_version} → {d.new_version}" if d.old_version != d.new_version else f"version {d.new_version}"
    out += [f"{heading} — {bump}" + (f" ({', '.join(kinds)})" if kinds else ""), ""]
    out += ["| | Before | After |", "| --- | --- | --- |",
            f"| Version | {d.old_version} | {d.new_version} |",
            f"| Checked on | {_iso(d.old_checked_on)} | {_iso(d.new_checked_on)} |",
            f"| Verdict | {_cell(d.old_rating.label if d.old_rating else '')} | "
            f"{_cell(d.new_rating.label if d.new_rating else '')} |", ""]
    if d.files:
        out += ["Files: " + ", ".join(code_span(f) for f in d.files), ""]
    if d.old_version == d.new_version:
        out += [f"**Warning:** the content changed but the version is still {d.new_version}; add a revision "
                "(`report check --base` fails without one).", ""]
    elif d.new_checked_on == d.old_checked_on and any(r.kind == "update" for r in d.revisions):
        out += ["**Warning:** an `update` revision without a newer `checked_on`.", ""]
    if d.revisions:
        out.append("**Revisions**")
        out += [f"- Version {r.version}, {r.date.isoformat()}, **{r.kind}**: {_md(' '.join(r.note.split()))}"
                for r in d.revisions]
        out.append("")
    if d.verdict_rerated or d.verdict_text:
        rating = (f"*{_md(d.old_rating.label)}* → *{_md(d.new_rating.label)}*"  # type: ignore[union-attr]
                  if d.verdict_rerated else f"*{_md(d.new_rating.label)}* (rating unchanged)")  # type: ignore[union-attr]
        out.append(f"**Verdict:** {rating}" + ("; text changed:" if d.verdict_text else ""))
        if d.verdict_text:
            out += markdown_text(d.verdict_text)
        out.append("")
    if d.claims_added or d.claims_removed or d.claims_changed:
        out.append("**Claims**")
        out += [f"- Added {code_span(c.id)}: “{_md(c.text)}” — *{_md(c.rating.label)}*" for c in d.claims_added]
        out += [f"- Removed {code_span(c.id)}: “{_md(c.text)}” — was *{_md(c.rating.label)}*" for c in d.claims_removed]
        out += [f"- Re-rated {code_span(c.id)}: “{_md(c.text)}” — *{_md(c.old_rating.label)}* → *{_md(c.new_rating.label)}*"
                + (f"; also changed: {', '.join(f.label.lower() for f in c.fields)}" if c.fields else "")
                for c in d.claims_rerated]
        out += [f"- Changed {code_span(c.id)}: {', '.join(f.label.lower() for f in c.fields)}" for c in d.claims_edited]
        out.append("")
    if d.sources_added or d.sources_removed or d.sources_updated:
        out.append("**Sources**")
        out += [f"- Added {code_span(s.key)} ({_md(s.kind_label)}): {_md(s.text)}" for s in d.sources_added]
        out += [f"- Removed {code_span(s.key)} ({_md(s.kind_label)}): {_md(s.text)}" for s in d.sources_removed]
        out += [f"- Updated {code_span(s.key)}: {_md(s.text)}" for s in d.sources_updated]
        out.append("")
    texts = list(d.texts) + [f for c in d.claims_changed for f in c.fields if f.label in ("Explanation", "Claim")]
    if texts:
        names = ", ".join(t.label for t in d.texts[:4]) + (", …" if len(d.texts) > 4 else "")
        summary = f"Text changes ({_words(d)})" + (f": {names}" if names else "")
        out += [f"<details><summary>{_html(summary)}</summary>", ""]
        if details:
            for t in texts:
                label = next((f"Claim {code_span(c.id)}, {_md(t.label.lower())}" for c in d.claims_changed if t in c.fields),
                             _md(t.label))
                renamed = f" (was “{_md(t.old_label)}”)" if t.old_label else ""
                state = {"added": "new", "removed": "removed", "changed": _words(t)}[t.status]
                out += [f"**{label}**{renamed} — {state}", ""]
                out += markdown_text(t)
                out.append("")
        else:
            out += ["*Left out to keep this comment short; see the changes page of the built site.*", ""]
        out += ["</details>", ""]
    return out


def markdown_summary(diffs: Sequence[ReportDiff], base: str, head: str, notes: Sequence[str] = ()) -> str:
    """The PR comment: every changed report, with version and date bump, claims, sources and a short text diff."""
    changed = [d for d in diffs if d.has_changes]
    lines = [f"## Report changes: {code_span(base)} → {code_span(head)}", ""]
    if not changed:
        lines += ["No report changed.", ""]
    else:
        lines += [f"{len(changed)} report{'s' if len(changed) != 1 else ''} changed.", ""]
    lines += [f"**Note:** {_md(n)}" for n in notes] + ([""] if notes else [])
    body: list[list[str]] = [_report_markdown(d, details=True) for d in changed]
    text = "\n".join(lines + [line for part in body for line in part])
    if len(text) > MARKDOWN_LIMIT:
        body = [_report_markdown(d, details=False) for d in changed]
        text = "\n".join(lines + [line for part in body for line in part])
    return text.rstrip() + "\n"
