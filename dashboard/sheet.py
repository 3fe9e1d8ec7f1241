"""CSV for a French spreadsheet: semicolons, UTF-8 with a BOM, decimal commas, phone numbers as they are
dialled (a leading + would turn them into numbers), and no cell a spreadsheet would run as a formula."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

BOM = "\ufeff"
DELIMITER = ";"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> object:
    """A text cell that cannot start a formula ('=HYPERLINK(…)' is kept as text); numbers pass."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def decimal(value: float | None, places: int = 1) -> str:
    """1.5 → "1,5": the French spreadsheet reads it as a number (empty when there is none)."""
    return "" if value is None else f"{value:.{places}f}".replace(".", ",")


@lru_cache(maxsize=4096)  # a long export repeats the same callers: parse each once
def dialled(number: str | None, region: str = "FR") -> str:
    """+33699887766 → "06 99 88 77 66", +442079460000 → "00 44 20 7946 0000" (from France)."""
    if not number:
        return ""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return str(cell(number))
    if not phonenumbers.is_valid_number(parsed):
        return str(cell(number))
    return phonenumbers.format_out_of_country_calling_number(parsed, region)
