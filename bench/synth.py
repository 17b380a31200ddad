"""A deterministic synthetic corpus, written three ways from one page model.

* ``report/``: a report-generator project (content/<slug>/report.yml + section files, bib/*.bib);
* ``plain/``: the same pages as plain Markdown with citations already replaced by numbers and the
  reference list as plain text — the MkDocs + Material floor;
* ``bibtex/``: the same Markdown with Pandoc citations for the mkdocs-bibtex plugin.

Everything comes from ``random.Random(seed)``, so the same size always gives the same bytes.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path

WORDS = """the a of and to in is that for on with as was by at from this be are or an which it were their has
have its not but they more than been also after into other some these only when between may would about study
data trial patients results evidence report researchers vaccine cancer dose phase safety efficacy officials
agency published journal review analysis group cohort sample effect risk outcome response immune treatment
clinical preclinical animal human volunteers registry protocol peer reviewed claim claims statement press
interview figure percent number early late independent public record source sources media news television
minister ministry institute centre center hospital university laboratory team product approval regulator
licence license year month week day first second third new old high low large small strong weak clear unclear
reported described announced said stated wrote found showed suggested measured tested observed confirmed
denied questioned repeated quoted cited translated summarised""".split()  # noqa: SIM905

# LaTeX family names with their Unicode reading: accents, cedillas, a slashed O and plain ASCII.
FAMILIES = [
    (r"M{\"u}ller", "Müller"), (r"Garc{\'i}a", "García"), (r"Fran{\c{c}}ois", "François"), (r"{\O}stergaard", "Østergaard"),
    (r"Nov{\'a}k", "Novák"), ("Smith", "Smith"), ("Ivanova", "Ivanova"), (r"Sch{\"o}n", "Schön"), ("Okafor", "Okafor"),
    (r"Dvo{\v{r}}{\'a}k", "Dvořák"), ("Chen", "Chen"), (r"L{\'o}pez", "López"), ("Kowalski", "Kowalski"),
    (r"Br{\aa}ten", "Bråten"), ("Nguyen", "Nguyen"), (r"{\c{S}}ahin", "Şahin"),
]
GIVEN = [("Jane", "J."), ("Hans", "H."), (r"Jos{\'e}", "J."), (r"Zo{\"e}", "Z."), ("Anna", "A."), ("Pavel", "P."),
         ("Li", "L."), ("Maria", "M."), ("Olu", "O."), (r"Ren{\'e}e", "R."), ("Tomasz", "T."), ("Ingrid", "I.")]
ORGANISATIONS = ["World Health Organization", "European Medicines Agency", "National Cancer Institute",
                 "Federal Medical-Biological Agency"]
JOURNALS = {"jexm": "Journal of Examples in Medicine", "onco": "Oncology Letters of Nowhere",
            "virol": "Virology and Virotherapy", "pharm": "Pharmacy & Pharmacology"}
AGENCIES = {"agency": "Example Agency", "wire": "Wire Service", "ministry": "Ministry of Health"}
TITLE_EXTRAS = [("{DNA}", "DNA"), ("{COVID-19}", "COVID-19"), (r"\& outcomes", "& outcomes"), ("1990--2024", "1990–2024"),
                (r"{\'e}l{\`e}ve", "élève"), ("{mRNA}", "mRNA")]
SECTIONS = [("summary", "Executive summary", "summary.md", 0.10), ("evidence", "What the evidence shows", "evidence.md", 0.40),
            ("assessment", "How independent sources judge it", "assessment.md", 0.30),
            ("gaps", "Where the record falls short", "gaps.md", 0.20)]
EDIT_WORD, EDITED_WORD = "Initially", "Originally"


@dataclass(frozen=True)
class Size:
    name: str
    reports: int
    entries: int
    citations: int = 30
    words: int = 1500


SIZES = {
    "tiny": Size("tiny", reports=4, entries=80),  # the benchmark's own tests
    "small": Size("small", reports=20, entries=400),
    "medium": Size("medium", reports=100, entries=2000),
    "large": Size("large", reports=500, entries=10_000),
    "xlarge": Size("xlarge", reports=2000, entries=40_000),  # the scale check: 4× large (one run by default)
}


@dataclass
class BibEntry:
    key: str
    bibtex: str
    plain: str  # the reference as the floor shows it (Markdown, Unicode)
    classic: str  # the same entry as classic BibTeX (journal/year, @misc/@techreport) for pybtex


@dataclass
class Group:
    """One citation group: keys, plus a locator on the first key (or '')."""

    keys: list[str]
    locator: str = ""


@dataclass
class Page:
    slug: str
    question: str
    short_title: str
    verdict: tuple[str, Group]
    sections: list[tuple[str, str, str, list[tuple[str, Group | None]]]]  # kind, title, file, [(sentence, group)]
    claims: list[dict[str, object]] = field(default_factory=list)
    conclusion: tuple[str, Group] | None = None


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _sentence(rng: random.Random, n: int) -> str:
    text = _words(rng, n)
    return text[0].upper() + text[1:]


def make_entry(index: int, rng: random.Random) -> BibEntry:
    key = f"src{index:05d}"
    kind_of_entry = rng.choices(["article", "online", "report", "book"], weights=[40, 35, 15, 10])[0]
    title_words = _words(rng, rng.randint(4, 9))
    title_tex, title_txt = title_words[0].upper() + title_words[1:], title_words[0].upper() + title_words[1:]
    if index % 3 == 0:
        extra_tex, extra_txt = TITLE_EXTRAS[index % len(TITLE_EXTRAS)]
        title_tex, title_txt = f"{title_tex} {extra_tex}", f"{title_txt} {extra_txt}"
    year = 2015 + index % 11
    date = f"{year}-{1 + index % 12:02d}-{1 + index % 28:02d}"
    url = f"https://example.org/a/{index}?id={index}&lang=en&q=x%20{index % 7}"
    doi = f"10.5555/bench.{index}" if index % 10 else f"10.5555/b%2F{index}"
    fields: list[tuple[str, str]] = []
    people_txt = ""
    if kind_of_entry in ("article", "book") or index % 4 == 0:
        if index % 17 == 0:
            org = ORGANISATIONS[index % len(ORGANISATIONS)]
            fields.append(("author", f"{{{{{org}}}}}"))
            people_txt = org
        else:
            people = [(rng.choice(FAMILIES), rng.choice(GIVEN)) for _ in range(rng.randint(1, 4))]
            fields.append(("author", "{" + " and ".join(f"{fam[0]}, {giv[0]}" for fam, giv in people) + "}"))
            people_txt = ", ".join(f"{giv[1]} {fam[1]}" for fam, giv in people)
    fields.append(("title", f"{{{title_tex}}}"))
    container_txt = ""
    if kind_of_entry == "article":
        macro = list(JOURNALS)[index % len(JOURNALS)]
        fields += [("journaltitle", macro), ("volume", f"{{{1 + index % 40}}}"), ("number", f"{{{1 + index % 6}}}"),
                   ("pages", f"{{{index % 90 + 1}--{index % 90 + 12}}}"), ("doi", f"{{{doi}}}")]
        container_txt = JOURNALS[macro]
        kind = ["peer-reviewed", "review", "preprint"][index % 3]
    elif kind_of_entry == "online":
        macro = list(AGENCIES)[index % len(AGENCIES)]
        fields += [("organization", f"{macro} # {{ Newsroom}}"), ("urldate", "{2025-01-15}")]
        container_txt = f"{AGENCIES[macro]} Newsroom"
        kind = ["news", "official", "fact-check", "state-media"][index % 4]
    elif kind_of_entry == "report":
        fields += [("institution", f"{{{ORGANISATIONS[index % len(ORGANISATIONS)]}}}")]
        container_txt = ORGANISATIONS[index % len(ORGANISATIONS)]
        kind = "official"
    else:
        fields += [("publisher", "{Example Press}"), ("doi", f"{{{doi}}}")]
        container_txt = "Example Press"
        kind = "reference"
    fields += [("date", f"{{{date}}}"), ("url", f"{{{url}}}"), ("kind", f"{{{kind}}}")]
    if index % 9 == 0:
        fields.append(("note", r"{Retrieved via the {\"U}bersicht index; see also p.~4.}"))
    bibtex = _entry_text(kind_of_entry, key, fields)
    # Classic BibTeX for pybtex (mkdocs-bibtex): `journal`, `year`, and types its plain style knows.
    classic = [("journal", v) if n == "journaltitle" else (n, v) for n, v in fields]
    classic.append(("year", f"{{{year}}}"))
    classic_type = {"online": "misc", "report": "techreport"}.get(kind_of_entry, kind_of_entry)
    if classic_type in ("book", "techreport") and not people_txt:
        classic.append(("author", f"{{{{{ORGANISATIONS[index % len(ORGANISATIONS)]}}}}}"))
    pieces = [people_txt] if people_txt else []
    pieces.append(f"“{title_txt}”")
    if container_txt:
        pieces.append(f"*{container_txt}*")
    pieces.append(str(year))
    plain = ", ".join(pieces) + "."
    if kind_of_entry in ("article", "book"):
        plain += f" doi: [{doi}](https://doi.org/{doi})."
    else:
        plain += f" [Online]. Available: <{url}>"
    return BibEntry(key, bibtex, plain, _entry_text(classic_type, key, classic))


def _entry_text(entry_type: str, key: str, fields: list[tuple[str, str]]) -> str:
    width = max(len(name) for name, _ in fields)
    body = ",\n".join(f"  {name.ljust(width)} = {value}" for name, value in fields)
    return f"@{entry_type}{{{key},\n{body},\n}}\n"


def make_bib(size: Size, seed: int) -> list[BibEntry]:
    rng = random.Random(f"{seed}-bib")
    return [make_entry(i, rng) for i in range(1, size.entries + 1)]


def _pick_keys(rng: random.Random, size: Size, popular: int) -> list[str]:
    """M distinct keys: a third from a small popular set (cited by many reports), the rest uniform."""
    chosen: list[int] = []
    seen: set[int] = set()
    while len(chosen) < min(size.citations, size.entries):
        index = rng.randint(1, popular) if rng.random() < 0.33 else rng.randint(1, size.entries)
        if index not in seen:
            seen.add(index)
            chosen.append(index)
    return [f"src{i:05d}" for i in chosen]


def make_page(number: int, size: Size, seed: int) -> Page:
    rng = random.Random(f"{seed}-page-{number}")
    keys = _pick_keys(rng, size, popular=max(10, size.entries // 50))
    slug = f"r{number:04d}"
    # Spread the M keys over the prose in first-appearance order; every 5th group adds an earlier key,
    # every 7th carries a locator.
    groups: list[Group] = []
    for i, key in enumerate(keys):
        group = Group([key])
        if i % 5 == 4:
            group.keys.append(keys[rng.randrange(i)])
        if i % 7 == 3:
            group.locator = f"p. {rng.randint(2, 300)}"
        groups.append(group)
    sentences_total = size.words // 15
    sections = []
    group_iter = iter(groups)
    spacing = max(1, sentences_total // max(1, len(groups)))
    sentence_index = 0
    for kind, title, file, share in SECTIONS:
        items: list[tuple[str, Group | None]] = []
        for _ in range(max(3, round(sentences_total * share))):
            text = _sentence(rng, rng.randint(10, 20))
            if not items and kind == "evidence":
                text = f"{EDIT_WORD} {text[0].lower()}{text[1:]}"
            group = next(group_iter, None) if sentence_index % spacing == spacing - 1 else None
            items.append((text, group))
            sentence_index += 1
        sections.append((kind, title, file, items))
    for group in group_iter:  # leftovers go at the end of the last section
        sections[-1][3].append((_sentence(rng, 12), group))
    claims = [{"id": f"claim-{j + 1}", "claim": _sentence(rng, 10) + ".", "claimant": "A synthetic claimant",
               "rating": ["misleading", "false", "unproven"][(number + j) % 3],
               "sources": [keys[rng.randrange(len(keys))], keys[rng.randrange(len(keys))]],
               "explanation": (_sentence(rng, 14), Group([keys[rng.randrange(len(keys))]]))} for j in range(2)]
    for claim in claims:
        claim["sources"] = list(dict.fromkeys(claim["sources"]))  # type: ignore[arg-type]
    return Page(
        slug=slug,
        question=f"Synthetic question {number}: does the {_words(rng, 3)} claim hold up?",
        short_title=f"Report {number:04d}",
        verdict=(_sentence(rng, 16), Group([keys[0]])),
        sections=sections,
        claims=claims,
        conclusion=(_sentence(rng, 12), Group([keys[-1]])),
    )


# -- writers -------------------------------------------------------------------------------------------------------

def _pandoc(group: Group, locators: bool = True) -> str:
    items = [f"@{k}" for k in group.keys]
    if group.locator and locators:
        items[0] += f", {group.locator}"
    return "[" + "; ".join(items) + "]"


def _prose(items: list[tuple[str, Group | None]], cite) -> str:  # noqa: ANN001 - a small local callback
    paragraphs, current = [], []
    for i, (text, group) in enumerate(items):
        current.append(f"{text} {cite(group)}." if group else f"{text}.")
        if i % 5 == 4:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return "\n\n".join(paragraphs) + "\n"


def _yaml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_report_project(root: Path, pages: list[Page], bib: list[BibEntry]) -> None:
    (root / "docs").mkdir(parents=True, exist_ok=True)
    (root / "docs" / "about.md").write_text("# About\n\nA synthetic benchmark project.\n", encoding="utf-8")
    (root / "mkdocs.yml").write_text(
        "site_name: Bench reports\ndocs_dir: docs\ntheme:\n  name: material\n  language: en\n"
        "plugins:\n  - search\n  - report:\n      csl_style: ieee\n      pdf: false\n", encoding="utf-8")
    _write_bib(root / "bib", bib)
    for page in pages:
        folder = root / "content" / page.slug
        folder.mkdir(parents=True, exist_ok=True)
        lines = [f"question: {_yaml_str(page.question)}", f"short_title: {_yaml_str(page.short_title)}",
                 "authors:", '  - name: "Bench desk"', "    organization: true", "checked_on: 2025-06-01",
                 "verdict:", "  rating: unproven", f"  text: {_yaml_str(page.verdict[0] + ' ' + _pandoc(page.verdict[1]) + '.')}",
                 "sections:"]
        lines += [f"  - {{kind: {kind}, title: {_yaml_str(title)}, file: {file}}}" for kind, title, file, _ in page.sections]
        lines.append("claims:")
        for claim in page.claims:
            text, group = claim["explanation"]  # type: ignore[misc]
            lines += [f"  - id: {claim['id']}", f"    claim: {_yaml_str(str(claim['claim']))}",
                      f"    claimant: {_yaml_str(str(claim['claimant']))}", f"    rating: {_yaml_str(str(claim['rating']))}",
                      f"    sources: [{', '.join(claim['sources'])}]",  # type: ignore[arg-type]
                      f"    explanation: {_yaml_str(text + ' ' + _pandoc(group) + '.')}"]
        assert page.conclusion is not None
        lines += ["bottom_line:", f"  conclusion: {_yaml_str(page.conclusion[0] + ' ' + _pandoc(page.conclusion[1]) + '.')}",
                  '  would_change: "A registered trial with published results."',
                  "revisions:", '  - {version: 1, date: 2025-06-01, kind: update, note: "First published."}']
        (folder / "report.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        for _, _, file, items in page.sections:
            (folder / file).write_text(_prose(items, _pandoc), encoding="utf-8")


def _write_bib(folder: Path, bib: list[BibEntry], classic: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    head = "".join(f"@string{{{k} = {{{v}}}}}\n" for k, v in {**JOURNALS, **AGENCIES}.items())
    head = head.replace("Pharmacy & Pharmacology", r"Pharmacy \& Pharmacology")
    (folder / "sources.bib").write_text("% Synthetic sources for the benchmark.\n" + head + "\n" +
                                        "\n".join(e.classic if classic else e.bibtex for e in bib), encoding="utf-8")


def _nav(pages: list[Page]) -> str:
    return "nav:\n  - Home: index.md\n  - Reports:\n" + "".join(
        f"      - {_yaml_str(p.short_title)}: {p.slug}/index.md\n" for p in pages) + "  - about.md\n"


def _markdown_page(page: Page, cite, references: str) -> str:  # noqa: ANN001
    out = [f"---\ntitle: {_yaml_str(page.short_title)}\n---\n", f"# {page.question}\n",
           "Checked on 1 June 2025 · Version 1\n", f"**Verdict: Unproven.** {page.verdict[0]} {cite(page.verdict[1])}.\n"]
    for number, (_, title, _, items) in enumerate(page.sections):
        out.append(f"## {number}. {title}\n" if number else f"## {title}\n")
        out.append(_prose(items, cite))
        if number == 1:
            for claim in page.claims:
                text, group = claim["explanation"]  # type: ignore[misc]
                sources = cite(Group(list(claim["sources"])))  # type: ignore[arg-type]
                out.append(f"**Claim ({claim['rating']}):** {claim['claim']} Sources: {sources}. {text} {cite(group)}.\n")
    assert page.conclusion is not None
    out.append(f"## Bottom line\n\n{page.conclusion[0]} {cite(page.conclusion[1])}.\n")
    out.append(references)
    return "\n".join(out)


def write_plain_project(root: Path, pages: list[Page], bib: list[BibEntry]) -> None:
    """The floor: the same text with numbers instead of citations and a plain-text reference list."""
    by_key = {e.key: e for e in bib}
    docs = root / "docs"
    (docs).mkdir(parents=True, exist_ok=True)
    (docs / "about.md").write_text("# About\n\nA synthetic benchmark project.\n", encoding="utf-8")
    (root / "mkdocs.yml").write_text("site_name: Bench reports\ndocs_dir: docs\ntheme:\n  name: material\n  language: en\n"
                                     "markdown_extensions:\n  - attr_list\n  - toc\nplugins:\n  - search\n" + _nav(pages),
                                     encoding="utf-8")
    home = ["# Bench reports\n"]
    for page in pages:
        numbers: dict[str, int] = {}

        def cite(group: Group, numbers: dict[str, int] = numbers) -> str:
            nums = [numbers.setdefault(k, len(numbers) + 1) for k in group.keys]
            text = ", ".join(str(n) for n in nums)
            return f"[{text}, {group.locator}]" if group.locator else f"[{text}]"

        body = _markdown_page(page, cite, "")
        refs = "## References\n\n" + "".join(f"{n}. {by_key[k].plain}\n" for k, n in numbers.items())
        (docs / page.slug).mkdir(exist_ok=True)
        (docs / page.slug / "index.md").write_text(body + "\n" + refs, encoding="utf-8")
        home.append(f"- [{page.question}]({page.slug}/index.md) — Unproven · {len(numbers)} sources")
    (docs / "index.md").write_text("\n".join(home) + "\n", encoding="utf-8")


def write_bibtex_project(root: Path, pages: list[Page], bib: list[BibEntry]) -> None:
    """mkdocs-bibtex: Pandoc citations (no locators: its simple mode warns on affixes), pybtex formatting, no pandoc."""
    docs = root / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "about.md").write_text("# About\n\nA synthetic benchmark project.\n", encoding="utf-8")
    _write_bib(root / "bib", bib, classic=True)
    (root / "mkdocs.yml").write_text(
        "site_name: Bench reports\ndocs_dir: docs\ntheme:\n  name: material\n  language: en\n"
        "markdown_extensions:\n  - attr_list\n  - toc\n  - footnotes\n"
        "plugins:\n  - search\n  - bibtex:\n      bib_file: bib/sources.bib\n      enable_inline_citations: false\n"
        + _nav(pages),
        encoding="utf-8")
    home = ["# Bench reports\n"]
    for page in pages:
        body = _markdown_page(page, lambda g: _pandoc(g, locators=False), "## References\n\n\\bibliography\n")
        (docs / page.slug).mkdir(exist_ok=True)
        (docs / page.slug / "index.md").write_text(body, encoding="utf-8")
        home.append(f"- [{page.question}]({page.slug}/index.md) — Unproven")
    (docs / "index.md").write_text("\n".join(home) + "\n", encoding="utf-8")


def generate(size: Size, out: Path, seed: int = 1) -> dict[str, Path]:
    """Write the three projects under `out/<size>/` (replacing any old copy); returns their roots."""
    base = out / size.name
    if base.exists():
        shutil.rmtree(base)
    bib = make_bib(size, seed)
    pages = [make_page(n, size, seed) for n in range(1, size.reports + 1)]
    roots = {"report": base / "report", "plain": base / "plain", "bibtex": base / "bibtex"}
    write_report_project(roots["report"], pages, bib)
    write_plain_project(roots["plain"], pages, bib)
    write_bibtex_project(roots["bibtex"], pages, bib)
    return roots


def edit_targets(roots: dict[str, Path]) -> dict[str, Path]:
    """The file a one-word edit touches in each project (same page, same word)."""
    return {"report": roots["report"] / "content" / "r0001" / "evidence.md",
            "plain": roots["plain"] / "docs" / "r0001" / "index.md",
            "bibtex": roots["bibtex"] / "docs" / "r0001" / "index.md"}
