"""A source's language as a BCP 47 tag (for `lang` on its reference): from biblatex's `langid` or `language`, which
hold babel/polyglossia names (`russian`, `ngerman`) or, from reference managers such as Zotero, tags (`ru`, `en-US`)
or English names (`Russian`)."""

from __future__ import annotations

import re
from functools import lru_cache

# babel and polyglossia language names (biblatex's `langid`), and the English names reference managers write.
NAMES = {
    "english": "en", "american": "en-US", "usenglish": "en-US", "british": "en-GB", "ukenglish": "en-GB",
    "canadian": "en-CA", "australian": "en-AU", "newzealand": "en-NZ",
    "german": "de", "ngerman": "de", "austrian": "de-AT", "naustrian": "de-AT", "swissgerman": "de-CH",
    "nswissgerman": "de-CH", "french": "fr", "francais": "fr", "acadian": "fr-CA", "canadien": "fr-CA",
    "russian": "ru", "ukrainian": "uk", "belarusian": "be", "bulgarian": "bg", "serbian": "sr", "serbianc": "sr-Cyrl",
    "croatian": "hr", "bosnian": "bs", "slovene": "sl", "slovenian": "sl", "macedonian": "mk", "polish": "pl",
    "czech": "cs", "slovak": "sk", "spanish": "es", "mexican": "es-MX", "catalan": "ca", "galician": "gl",
    "basque": "eu", "portuguese": "pt", "portuges": "pt", "brazil": "pt-BR", "brazilian": "pt-BR", "italian": "it",
    "romanian": "ro", "dutch": "nl", "flemish": "nl-BE", "danish": "da", "swedish": "sv", "norwegian": "no",
    "norsk": "nb", "bokmal": "nb", "nynorsk": "nn", "icelandic": "is", "finnish": "fi", "estonian": "et",
    "latvian": "lv", "lithuanian": "lt", "hungarian": "hu", "magyar": "hu", "greek": "el", "turkish": "tr",
    "arabic": "ar", "hebrew": "he", "persian": "fa", "farsi": "fa", "urdu": "ur", "hindi": "hi", "bengali": "bn",
    "chinese": "zh", "japanese": "ja", "korean": "ko", "vietnamese": "vi", "thai": "th", "indonesian": "id",
    "bahasa": "id", "malay": "ms", "armenian": "hy", "georgian": "ka", "kazakh": "kk", "uzbek": "uz",
    "mongolian": "mn", "albanian": "sq", "irish": "ga", "welsh": "cy", "scottish": "gd", "breton": "br",
    "latin": "la", "afrikaans": "af", "esperanto": "eo", "swahili": "sw", "amharic": "am", "tamil": "ta",
}

_TAG = re.compile(r"^([A-Za-z]{2,3})((?:-[A-Za-z0-9]{1,8})*)$")


@lru_cache(maxsize=512)
def language_tag(value: str) -> str:
    """`russian` → `ru`, `en_US` → `en-US`, `Russian` → `ru`; "" for anything unknown (a tag whose language Babel
    does not know, a free-form note). A list (`russian and english`) gives its first language."""
    first = re.split(r"\s+and\s+|[,;/]", value.strip(), maxsplit=1)[0].strip().strip("{}").strip()
    if not first:
        return ""
    name = NAMES.get(first.lower())
    if name:
        return name
    match = _TAG.match(first.replace("_", "-"))
    if not match:
        return ""
    from babel import Locale, UnknownLocaleError

    primary = match.group(1).lower()
    try:
        Locale.parse(primary)
    except (UnknownLocaleError, ValueError):
        return ""
    subtags = []
    for subtag in match.group(2).split("-")[1:]:
        if len(subtag) == 4 and subtag.isalpha():
            subtags.append(subtag.title())  # script: Cyrl
        elif len(subtag) == 2 and subtag.isalpha() or len(subtag) == 3 and subtag.isdigit():
            subtags.append(subtag.upper())  # region: US, 419
        else:
            subtags.append(subtag.lower())
    return "-".join([primary, *subtags])
