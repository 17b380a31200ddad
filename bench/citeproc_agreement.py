"""How references come out against Pandoc's citeproc, entry by entry and style by style.

For each style, Pandoc reads the .bib file itself (`--bibliography`), as a Quarto or Manubot user's document would,
and formats every entry; this tool formats the same entries its own way (its loader, its CSL items, its
post-processing). Texts are compared with white space normalised.

    python -m bench.citeproc_agreement [tests/fixtures/citeproc/corpus.bib]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from generator.sources.bib import load_bibliography
from generator.sources.references import (
    ReferenceFormatter,
    _bibliography,
    render_inlines,
    resolve_style_path,
    run_pandoc,
    style_info,
    without_label,
)

STYLES = ("ieee", "apa", "chicago-author-date", "vancouver", "mla", "harvard")
CORPUS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "citeproc" / "corpus.bib"


def pandoc_texts(bib: Path, style: str, keys: list[str]) -> dict[str, str]:
    """Every entry as Pandoc formats it from the .bib file, cited in `keys` order."""
    info = style_info(resolve_style_path(style))
    args = ["-f", "markdown", "-t", "json", "--citeproc", f"--csl={info.path}", f"--bibliography={bib.resolve()}",
            "-M", f"lang={info.locale or 'en'}"]
    document = run_pandoc(args, "[" + "; ".join(f"@{k}" for k in keys) + "]\n")
    texts = {}
    for number, (key, inlines) in enumerate(_bibliography(document), 1):
        text = render_inlines(inlines, drop_classes=frozenset({"csl-left-margin"}))[1]
        texts[key] = without_label(text, number) if info.numeric else text
    return texts


def our_texts(bib: Path, style: str, keys: list[str]) -> dict[str, str]:
    loaded = load_bibliography(bib.parent, bib.parent)
    sources = [loaded.sources[k] for k in keys]
    formatter = ReferenceFormatter(style)
    result = formatter.format_report(["[" + "; ".join(f"@{k}" for k in keys) + "]"], sources)
    return {key: formatter.reference(key, inlines, number, loaded.sources[key]).text
            for number, (key, inlines) in enumerate(result.bibliography, 1)}


def agreement(bib: Path = CORPUS, styles: tuple[str, ...] = STYLES) -> dict[str, tuple[int, int, list[str]]]:
    """Per style: entries identical to Pandoc's, entries compared, and the keys that differ."""
    loaded = load_bibliography(bib.parent, bib.parent)
    keys = list(loaded.sources)
    results = {}
    for style in styles:
        theirs, ours = pandoc_texts(bib, style, keys), our_texts(bib, style, keys)
        differ = [k for k in keys if " ".join(theirs.get(k, "").split()) != " ".join(ours.get(k, "").split())]
        results[style] = (len(keys) - len(differ), len(keys), differ)
    return results


def cost_per_reference(bib: Path = CORPUS, style: str = "ieee") -> tuple[float, float]:
    """Milliseconds per reference for one report citing every entry: cold (CSL items, access dates and the report's
    Pandoc call) and the report's call alone (what each further report costs once its sources are known)."""
    loaded = load_bibliography(bib.parent, bib.parent)
    sources = list(loaded.sources.values())
    citations = [f"[@{s.key}]" for s in sources]  # a report citing each source once, in its own citation
    formatter = ReferenceFormatter(style)
    started = time.perf_counter()
    formatter.prefetch(sources)
    formatter.format_report(citations, sources)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    formatter.format_report([*citations, citations[0]], sources)  # another report's text: not answered from memory
    report = time.perf_counter() - started
    return 1000 * cold / len(sources), 1000 * report / len(sources)


def main(argv: list[str]) -> int:
    bib = Path(argv[0]) if argv else CORPUS
    total = same = 0
    for style, (agreeing, compared, differ) in agreement(bib).items():
        total, same = total + compared, same + agreeing
        print(f"{style:22} {agreeing:3}/{compared} identical to Pandoc" + (f"  differ: {', '.join(differ)}" if differ else ""))
    print(f"{'all':22} {same:3}/{total} ({100 * same / total:.1f} %)")
    for style in STYLES:
        cold, report = cost_per_reference(bib, style)
        print(f"{style:22} {cold:5.1f} ms per reference cold, {report:5.1f} ms per reference per report")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
