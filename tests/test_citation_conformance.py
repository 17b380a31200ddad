"""Citation syntax conformance: Pandoc's documented forms (its manual's citation section and the forms of its
`test/command` files), each read by our scanner and by Pandoc itself (the pandoc binary is a dependency), and the
same citations rendered in a numeric and an author-date style."""

from __future__ import annotations

import json
import random
import re
import subprocess

import pytest

from generator.citations import AUTHOR_IN_TEXT, NORMAL, SUPPRESS_AUTHOR, find_citations
from generator.sources.references import pandoc_binary

# Forms Pandoc reads as citations, and forms it leaves as text; we must read every one as Pandoc does.
AGREED = [
    "Blah blah [see @doe99, pp. 33-35; also @smith04, chap. 1].",
    "Blah blah [@doe99, pp. 33-35, 38-39 and *passim*].",
    "Blah blah [@smith04; @doe99].",
    "[@smith{ii, A, D-Z}, with a suffix]",
    "[@smith, {pp. iv, vi-xi, (xv)-(xvii)} with suffix here]",
    "[@smith{}, 99 years later]",
    "Smith says blah [-@smith04].",
    "@smith04 says blah.",
    "@smith04 [p. 33] says blah.",
    "@{https://example.com/bib?name=foobar&date=2000}, p. 33",
    "[see @item1 p. 34-35]",
    "[-@item2 p. 44]",
    "[see @item1 chap. 3; also @item2]",
    "@item1 [chap. 3] and more",
    "[@item1, pp. 33, 35-37, and nowhere else]",
    "[@item1 and nowhere else]",
    "[*see* @item1 p. **32**]",
    "[@item1;\n@item2]",
    "[see\n@item1,\np. 4]",
    "@item1\n[p. 4] says",
    "[@doi:10.1000/182]",
    "[@Doe_2004-a]",
    "@foo.bar. End",
    "@item1's view",
    "Written (@item1) here.",
    "Text -@item1 says.",
    "[@a:b/c, p. 1]",
    "[see [the review] @doe99]",
    "[see @item1, §4]",
    "[@item1, fig. 2; @item2, vol. 3, line 4]",
    "@_private2020 says",
    "[@item1, chapter 2]",
    "[@item1, sec. 2]",
    "[@item1, para. 4]",
    "[@item1]text",
    "Before [@item1] after [@item2, p. 3].",
    "Mail me@example.org now.",
    "x.@y is not one",
    "\\@doe99 is a handle",
    "[\\@doe99] is text",
    "`[@code]` and `@span`",
    "```\n[@fenced]\n```",
    "Para.\n\n    [@indented] code",
    "[a link](https://example.org/@user)",
    "[@item1, {p. 4}]",
    "@Смирнов2020 говорит",
    "[@item1, p. 4 and *passim*; see also @item2, pp. 1-2]",
    "Two @item1 and @item2 here.",
    "@item1 [p. 3; @item2]",
    "[@item1, p. 3] [@item2]",
    "List:\n\n- item [@item1]\n\n    [@item2] continues the item",
    "[@item1, p. 4].",
    "See @item1, p. 33.",
    "[@item1, pp. 4\u20135]",
    "[@item1 pp. 4-5]",
    "[e.g., @item1; cf. @item2]",
    "(see @item1)",
    "[@item1; @item2; @item3]",
    "**[@item1]** and *@item2 says*",
    "[@item1, ch. 2, n. 3]",
]

# Forms where Pandoc's reading is garbage: an error here, with its message.
STRICTER = {
    "[@a @b]": "malformed citation `[@a @b]`: separate several keys with `;`",
    "[see @a, p. 4 and @b]": "malformed citation `[see @a, p. 4 and @b]`: separate several keys with `;`",
    "[see @a and more": "unclosed citation `[see @a and more`",
    "[@a; and then]": "malformed citation item `and then`: expected `@key`",
    "[@a;; @b]": "malformed citation `[@a;; @b]`: empty item between `;`",
    "[see [@a] and @b]": "malformed citation `[see [@a] and @b]`: a citation inside another",
}
# Forms we read differently on purpose: a link's text is never a citation (a linked handle `[@user](…)` is common in
# fact-checks); `[@a][@b]` is two citations, not a reference link.
DIFFERENT = {
    "[@user](https://example.org/user)": [],
    "[@a][@b]": [[(NORMAL, "", "a", "")], [(NORMAL, "", "b", "")]],
    # Pandoc reads `[-@b]` as a citation inside `a`'s suffix: here it is a citation of its own
    "@a [-@b] twice": [[(AUTHOR_IN_TEXT, "", "a", "")], [(SUPPRESS_AUTHOR, "", "b", "")]],
}

_MODES = {"NormalCitation": NORMAL, "SuppressAuthor": SUPPRESS_AUTHOR, "AuthorInText": AUTHOR_IN_TEXT}


def _markdown(inlines: list) -> str:
    """Pandoc inlines back to the Markdown they were read from (enough for prefixes and suffixes)."""
    out = []
    for node in inlines:
        kind, content = node["t"], node.get("c")
        if kind == "Str":
            out.append(content.replace("\u00a0", " "))
        elif kind in ("Space", "SoftBreak"):
            out.append(" ")
        elif kind == "Emph":
            out.append(f"*{_markdown(content)}*")
        elif kind == "Strong":
            out.append(f"**{_markdown(content)}**")
        elif kind == "Code":
            out.append(f"`{content[1]}`")
        elif kind == "Quoted":
            out.append(f"'{_markdown(content[1])}'" if content[0]["t"] == "SingleQuote" else f'"{_markdown(content[1])}"')
        else:
            out.append(f"<{kind}>")
    return "".join(out)


def _pandoc_citations(blocks: list) -> list[list[tuple[str, str, str, str]]]:
    found = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            if value.get("t") == "Cite":
                found.append([(_MODES[c["citationMode"]["t"]], _markdown(c["citationPrefix"]), c["citationId"],
                               _markdown(c["citationSuffix"])) for c in value["c"][0]])
                return
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(blocks)
    return found


def _ours(text: str) -> list[list[tuple[str, str, str, str]]]:
    citations, errors = find_citations(text)
    assert errors == []
    return [[(item.mode, item.prefix, item.key, item.suffix) for item in citation.items] for citation in citations]


@pytest.fixture(scope="module")
def pandoc_reading() -> dict[str, list]:
    """Each form as Pandoc reads it (one process per form: a form may hold an unclosed fence)."""
    readings = {}
    for text in AGREED:
        done = subprocess.run([pandoc_binary(), "--sandbox", "-f", "markdown", "-t", "json"], input=text.encode(),
                              capture_output=True, check=True, timeout=60)
        readings[text] = _pandoc_citations(json.loads(done.stdout)["blocks"])
    return readings


@pytest.mark.parametrize("text", AGREED)
def test_reads_each_form_as_pandoc_does(text: str, pandoc_reading: dict[str, list]) -> None:
    assert _ours(text) == pandoc_reading[text]


@pytest.mark.parametrize(("text", "message"), STRICTER.items())
def test_garbage_forms_are_errors(text: str, message: str) -> None:
    citations, errors = find_citations(text)
    assert citations == []
    assert [e.message for e in errors] == [message]


@pytest.mark.parametrize(("text", "expected"), DIFFERENT.items())
def test_deliberate_differences(text: str, expected: list) -> None:
    assert _ours(text) == expected


def test_the_suite_covers_the_forms_the_issue_names() -> None:
    """Count of forms: what the closing note reports."""
    assert len(AGREED) + len(STRICTER) + len(DIFFERENT) >= 60


# Realistic pieces of prose around citations: texts built from them are read by Pandoc and by us, and must agree.
PIECES = ["[", "]", " @k1", " @k2", " -@k3", "; ", ", ", " ", " see ", " p. 4", " word", "\n", ".", " me@mail.org",
          " *e*", " [p. 5]", " pp. 3-4", " chap. 2", "`@code`", " @{https://x.org/a?b=c}"]
# Pandoc-only readings left out: an example-list label (`@k1.` starting a line, which Python-Markdown shows as text)
# and a bracketed citation right after a narrative one (`@a [@b]`: two citations here, one with two items there).
_PANDOC_ONLY = re.compile(r"(?m)^[ \t]*@[\w{][^\s]*?\.(?:\s|$)|@[\w{}./:?=-]+\s*\[[^\]]*@")


def test_random_prose_is_read_as_pandoc_reads_it() -> None:
    generator = random.Random(12)
    compared = 0
    for _ in range(400):
        text = "".join(generator.choice(PIECES) for _ in range(generator.randint(1, 14)))
        if _PANDOC_ONLY.search(text) or find_citations(text)[1]:
            continue  # our stricter errors are tested above
        done = subprocess.run([pandoc_binary(), "--sandbox", "-f", "markdown", "-t", "json"], input=text.encode(),
                              capture_output=True, check=True, timeout=60)
        assert _ours(text) == _pandoc_citations(json.loads(done.stdout)["blocks"]), text
        compared += 1
    assert compared > 150
