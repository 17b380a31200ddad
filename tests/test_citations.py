"""Citation syntax stage: Pandoc forms, malformed groups, code and e-mail addresses left alone."""

from __future__ import annotations

import pytest

from generator.citations import CitationItem, compress_numbers, find_citations, parse_citation_body


def test_pandoc_forms() -> None:
    text = "One [@a]. Two [@a; @b]. Locator [@c, p. 4]. Prefix [see @d, ch. 2; @e]."
    citations, errors = find_citations(text)
    assert errors == []
    assert [c.items for c in citations] == [
        (CitationItem("a"),),
        (CitationItem("a"), CitationItem("b")),
        (CitationItem("c", suffix=", p. 4"),),
        (CitationItem("d", prefix="see", suffix=", ch. 2"), CitationItem("e")),
    ]
    assert text[citations[1].start:citations[1].end] == "[@a; @b]"


def test_keys_with_internal_punctuation() -> None:
    assert parse_citation_body("@doi:10.1/x-y_z") == (CitationItem("doi:10.1/x-y_z"),)


def test_not_citations() -> None:
    text = ("Mail me@example.org, see [a link](https://x.org/@user), `[@code]`\n\n```\n[@fenced]\n```\n[@x](https://l)"
            "\n\n    [@indented]\n\nA \\@handle, [\\@escaped]")
    citations, errors = find_citations(text)
    assert citations == [] and errors == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[@]", "malformed citation `[@]`: `@` is not followed by a key"),
        ("[@a @b]", "malformed citation `[@a @b]`: separate several keys with `;`"),
        ("[@a;]", "malformed citation `[@a;]`: empty item between `;`"),
        ("text\nmore [@unclosed and on", "unclosed citation `[@unclosed and on`"),
    ],
)
def test_malformed(text: str, message: str) -> None:
    citations, errors = find_citations(text)
    assert citations == []
    assert [e.message for e in errors] == [message]
    assert errors[0].line == text.count("\n", 0, text.index("[")) + 1


def test_compress_numbers() -> None:
    assert compress_numbers([3, 1]) == [(1, 1), (3, 3)]
    assert compress_numbers([2, 3, 4]) == [(2, 4)]
    assert compress_numbers([1, 2]) == [(1, 1), (2, 2)]
    assert compress_numbers([5, 1, 2, 3, 5]) == [(1, 3), (5, 5)]


def test_escaped_at_signs_are_reported_for_the_renderer() -> None:
    from generator.citations import scan

    found = scan("A \\@handle and `\\@code` and [\\@x]")
    assert found.citations == [] and found.errors == []
    assert found.escapes == [2, 29]  # not the one in code


def test_narrative_citations_and_their_suffix() -> None:
    from generator.citations import AUTHOR_IN_TEXT, SUPPRESS_AUTHOR

    citations, errors = find_citations("@doe99 says, @roe [p. 3] adds, and -@poe agrees; [-@doe99, p. 1]")
    assert errors == []
    assert [c.items for c in citations] == [
        (CitationItem("doe99", mode=AUTHOR_IN_TEXT),),
        (CitationItem("roe", suffix="p. 3", mode=AUTHOR_IN_TEXT),),
        (CitationItem("poe", mode=SUPPRESS_AUTHOR),),
        (CitationItem("doe99", suffix=", p. 1", mode=SUPPRESS_AUTHOR),),
    ]
    assert not citations[0].plain and find_citations("[@a; @b]")[0][0].plain


def test_an_at_sign_inside_an_autolink_cites_nothing() -> None:
    """`<https://example.org/@alpha2025>` is a link (CommonMark autolink), as Pandoc reads it: a citation there would
    put a link inside a link."""
    from generator.citations import scan

    for text in ("see <https://example.org/@alpha2025> and [@beta]", "write to <desk@alpha2025.org> [@beta]",
                 "`<https://x/@alpha2025>` [@beta]"):
        assert [c.items[0].key for c in scan(text).citations] == ["beta"], text
    assert [c.items[0].key for c in scan("x < @alpha > y").citations] == ["alpha"]  # no autolink: spaces
