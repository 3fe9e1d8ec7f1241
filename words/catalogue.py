"""The prompt catalogue: every sentence a caller or a technician hears or reads, in French and English.

Each module of `words/` registers its entries (`caller.py`, `pages.py`, `ui.py`); a key must exist in
every language, so French and English stay in step (a test checks it). Speaking them is `voice/`'s.
"""

from __future__ import annotations

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


def text(key: str, lang: str, **values: Any) -> str:
    lang = lang if lang in LANGUAGES else LANGUAGES[0]
    return CATALOGUE[key][lang].format(**values)


def digits(number: str, lang: str) -> str:
    """A number read digit by digit: "1 0 4 2 3 3" (a <Say> of "104233" reads a hundred thousand…)."""
    return " ".join(ch for ch in number if ch.isdigit())
