"""The prompt catalogue: every sentence a caller or a technician hears or reads, in French and English.

Each module of `words/` registers its entries (`caller.py`, `pages.py`, `ui.py`); a key must exist in
every language, so French and English stay in step (a test checks it). Speaking them is `voice/`'s.
"""

from __future__ import annotations

import re
from typing import Any

LANGUAGES = ("fr", "en")

CATALOGUE: dict[str, dict[str, str]] = {}


def register(prompts: dict[str, dict[str, str]]) -> None:
    """Add prompts: {key: {"fr": "...", "en": "..."}}."""
    for key, by_lang in prompts.items():
        missing = [lang for lang in LANGUAGES if lang not in by_lang]
        if missing:
            raise ValueError(f"prompt {key!r} lacks {', '.join(missing)}")
        if key in CATALOGUE and CATALOGUE[key] != by_lang:
            raise ValueError(f"prompt {key!r} registered twice")
        CATALOGUE[key] = by_lang


# French elides "de" and "que" before a vowel: « d'Alice », « à la place d'Émile », « qu'Yves ».
_ELISION = re.compile(r"\b([Dd]e|[Qq]ue) (?=[AEIOUYÉÈÊËÀÂÎÏÔÛaeiouyéèêëàâîïôû])")


def elide(sentence: str) -> str:
    """A French sentence with its elisions made (« de Alice » → « d'Alice »); meant for sentences
    whose blanks were just filled, where the catalogue could not write them in advance."""
    return _ELISION.sub(lambda m: m.group(1)[:-1] + "'", sentence)


def de(name: str, lang: str = "fr") -> str:
    """« de Bruno », « d'Alice » (French); the name alone in English."""
    return elide(f"de {name}") if lang == "fr" else name


def fill(sentence: str, lang: str, **values: Any) -> str:
    """`sentence` with its blanks filled, elided in French."""
    filled = sentence.format(**values)
    return elide(filled) if lang == "fr" and values else filled


def text(key: str, lang: str, **values: Any) -> str:
    lang = lang if lang in LANGUAGES else LANGUAGES[0]
    return fill(CATALOGUE[key][lang], lang, **values)


def digits(number: str, lang: str) -> str:
    """A number read digit by digit: "1 0 4 2 3 3" (a <Say> of "104233" reads a hundred thousand…)."""
    return " ".join(ch for ch in number if ch.isdigit())
