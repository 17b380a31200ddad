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
        (CitationItem("c", locator="p. 4"),),
        (CitationItem("d", prefix="see", locator="ch. 2"), CitationItem("e")),
    ]
    assert text[citations[1].start:citations[1].end] == "[@a; @b]"


def test_keys_with_internal_punctuation() -> None:
    assert parse_citation_body("@doi:10.1/x-y_z") == (CitationItem("doi:10.1/x-y_z"),)


def test_not_citations() -> None:
    text = "Mail me@example.org, see [a link](https://x.org/@user), `[@code]`\n\n```\n[@fenced]\n```\n[@x](https://l)"
    citations, errors = find_citations(text)
    assert citations == [] and errors == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[@]", "malformed citation `[@]`: `@` is not followed by a key"),
        ("[@a @b]", "malformed citation `[@a @b]`: separate several keys with `;`"),
        ("[@a;]", "malformed citation `[@a;]`: empty item between `;`"),
        ("[@a p. 4]", "malformed citation item `@a p. 4`: put a comma before the locator (`@a, p. 4`)"),
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
