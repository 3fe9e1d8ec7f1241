"""What Twilio accepts in the verbs the fake phone walks: a document Twilio would refuse (error 12200
and friends: the caller hears "an application error has occurred") fails the walk, with the reason.

Only the attributes we use are checked, with the values of Twilio's TwiML reference.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

KEYS = set("0123456789#*")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
LANGUAGE = re.compile(r"^[a-z]{2,3}-[A-Z]{2}$")
BOOLEAN = {"true", "false"}
METHODS = {"GET", "POST"}
RECORDING_EVENTS = {"in-progress", "completed", "absent"}
NESTED = {"Gather": {"Say", "Play", "Pause"}, "Dial": {"Number", "Client", "Sip", "Conference", "Queue"}}


def problems(verb: ET.Element) -> list[str]:
    """What Twilio would refuse in `verb` (empty when it would run it)."""
    found: list[str] = []
    attrs = verb.attrib

    def check(name: str, ok: bool, expected: str) -> None:
        if name in attrs and not ok:
            found.append(f'<{verb.tag} {name}="{attrs[name]}">: expected {expected}')

    def integer(name: str, low: int, high: int) -> None:
        value = attrs.get(name, "")
        check(name, value.isdigit() and low <= int(value) <= high, f"an integer from {low} to {high}")

    for name in ("method", "recordingStatusCallbackMethod"):
        check(name, attrs.get(name, "").upper() in METHODS, "GET or POST")
    if verb.tag in NESTED:
        found += [
            f"<{child.tag}> cannot be nested in <{verb.tag}>"
            for child in verb
            if child.tag not in NESTED[verb.tag]
        ]
    if verb.tag == "Say":
        check("language", bool(LANGUAGE.match(attrs.get("language", ""))), "a language like fr-FR")
        if not (verb.text or "").strip():
            found.append("<Say> with nothing to say")
    elif verb.tag == "Gather":
        check("input", set(attrs.get("input", "").split()) <= {"dtmf", "speech"}, "dtmf and/or speech")
        check(
            "finishOnKey",
            len(attrs.get("finishOnKey", "")) <= 1 and set(attrs.get("finishOnKey", "")) <= KEYS,
            "one key",
        )
        check("actionOnEmptyResult", attrs.get("actionOnEmptyResult") in BOOLEAN, "true or false")
        integer("timeout", 1, 600)
        integer("numDigits", 1, 255)
    elif verb.tag == "Record":
        check("finishOnKey", set(attrs.get("finishOnKey", "")) <= KEYS, "keys among 0-9, # and *")
        check("playBeep", attrs.get("playBeep") in BOOLEAN, "true or false")
        check("trim", attrs.get("trim") in {"trim-silence", "do-not-trim"}, "trim-silence or do-not-trim")
        events = set(attrs.get("recordingStatusCallbackEvent", "").split())
        check(
            "recordingStatusCallbackEvent",
            bool(events) and events <= RECORDING_EVENTS,
            "in-progress, completed, absent",
        )
        integer("maxLength", 1, 14400)
        integer("timeout", 0, 600)
    elif verb.tag == "Dial":
        check("callerId", bool(E164.match(attrs.get("callerId", ""))), "an E.164 number")
        integer("timeout", 5, 600)
        found += [
            f"<Number>{n.text}</Number>: expected an E.164 number"
            for n in verb
            if n.tag == "Number" and not E164.match((n.text or "").strip())
        ]
    elif verb.tag == "Pause":
        integer("length", 1, 600)
    return found
