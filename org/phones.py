"""Phone numbers, one set of rules for the whole product: E.164 in the database, validated with
`phonenumbers`, read and dialled the way people of the organisation's region do."""

from __future__ import annotations

from typing import Any

import phonenumbers

WITHHELD = {
    "",
    "anonymous",
    "restricted",
    "unknown",
    "private",
    "unavailable",
    "+266696687",
    "+2562533",
    "+86282452253",
    "+8656696",
}  # what Twilio puts in From for a hidden caller ID


def parse_phone(value: Any, region: str = "FR") -> str:
    """E.164 from what people write ("06 12 34 56 78"); ValueError when it is not a valid number."""
    try:
        number = phonenumbers.parse(str(value), region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{value!r} is not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{value!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def readable_phone(number: str | None, region: str) -> str | None:
    """A number as a person of `region` reads and dials it: national form at home ("06 11 22 33 44"),
    international form abroad ("+32 470 12 34 56"); None when it is not a valid number."""
    if not number:
        return None
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    national = phonenumbers.region_code_for_number(parsed) == region
    form = (
        phonenumbers.PhoneNumberFormat.NATIONAL if national else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, form)


def parse_number(raw: str | None, region: str) -> phonenumbers.PhoneNumber | None:
    """A valid phone number from what a caller keyed or what Twilio sent, or None."""
    if not raw or raw.strip().lower() in WITHHELD:
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


# Numbers a technician must never be made to call back (key 3 of the page call dials the callback
# number from the support number): premium-rate and shared-cost numbers bill the caller, satellite
# and international-network numbers cost several euros a minute.
_NOT_CALLED_BACK = {phonenumbers.PhoneNumberType.PREMIUM_RATE, phonenumbers.PhoneNumberType.SHARED_COST}
_SATELLITE_CODES = {870, 881, 882, 883}  # Inmarsat, global satellite systems, international networks


def is_callable(number: phonenumbers.PhoneNumber) -> bool:
    """Whether `number` may be a callback number (not premium-rate, shared-cost or satellite)."""
    if number.country_code in _SATELLITE_CODES:
        return False
    return phonenumbers.number_type(number) not in _NOT_CALLED_BACK


def e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_mobile(raw: str | None, region: str) -> bool:
    number = parse_number(raw, region)
    return number is not None and phonenumbers.number_type(number) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


def mobile_number(*candidates: str | None, region: str) -> str | None:
    """The first candidate that is a mobile number, in E.164: where a caller can be texted."""
    for raw in candidates:
        if is_mobile(raw, region):
            number = parse_number(raw, region)
            assert number is not None
            return e164(number)
    return None
