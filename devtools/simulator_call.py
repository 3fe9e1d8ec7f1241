"""One simulated call: what the caller heard, what is pending, and what they do (keys, silence,
a message, hanging up), walking TwiML verb by verb as Twilio does. Made by `devtools.simulator.Phone`.
"""

from __future__ import annotations

import io
import urllib.parse
import uuid
import wave
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from devtools.simulator_twiml import problems


class Phone(Protocol):
    """What a call needs of the phone that placed it (`devtools.simulator.Phone`)."""

    public_base_url: str

    def send(
        self, url: str, params: dict[str, str], method: str = "POST", signature: str | None = None
    ) -> tuple[int, str]: ...

    def path_of(self, url: str) -> str: ...

    def recordings_dir(self) -> Path | None: ...


ACCOUNT_SID = "AC" + "0" * 32
API_VERSION = "2010-04-01"
STATUS_PATH = "/voice/status"  # the status callback set on the support number


def new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


@dataclass
class Sent:
    """One request the phone made, kept so that a test can send it again (Twilio retries)."""

    url: str
    method: str
    params: dict[str, str]
    status: int = 0
    body: str = ""


class Call:
    """One simulated call: what was said, what is pending, and the caller's actions."""

    def __init__(
        self, phone: Phone, sid: str, from_: str, to: str, direction: str, status_callback: str | None
    ) -> None:
        self.phone = phone
        self.sid = sid
        self.from_ = from_
        self.to = to
        self.base: dict[str, str] = {
            "CallSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": from_,
            "To": to,
            "Caller": from_,
            "Called": to,
            "Direction": direction,
            "ApiVersion": API_VERSION,
        }
        self.status_callback = status_callback
        self.said: list[str] = []
        self.heard: list[str] = []  # said since the last input
        self.ended = False
        self.pending: str | None = None
        self.last_twiml = ""
        self.requests: list[Sent] = []
        self.dialed: list[str] = []
        self.recording_sids: list[str] = []
        self.elapsed = 0.0
        self.rings_at: list[float] = []  # `elapsed` when each <Dial> started ringing
        self.legs: list[Call] = []  # the called parties that picked up a <Dial><Number url>
        self.cancelled: list[str] = []  # numbers whose leg the network cancelled (the caller hung up)
        self.answered_by = "human"  # on a called party's leg: who picked up (human, machine_start…)
        self.parent: Call | None = None  # on a called party's leg: the call that dialled it
        self.bridged = False  # a leg whose whisper ended without a hang-up: the two talk
        self._url = ""
        self._verb: ET.Element | None = None
        self._rest: list[ET.Element] = []
        self._status_sent = False

    # --- what the caller hears ------------------------------------------------------------------

    @property
    def transcript(self) -> str:
        return "\n".join(f"  > {line}" for line in self.said) or "  (nothing said)"

    def fail(self, message: str) -> AssertionError:
        return AssertionError(
            f"{message}\n--- transcript ({self.sid}):\n{self.transcript}\n--- last TwiML:\n{self.last_twiml}"
        )

    def expect(self, text: str) -> Call:
        """Assert that what was said since the last input contains `text` (case-insensitive)."""
        heard = " ".join(self.heard)
        if text.casefold() not in heard.casefold():
            raise self.fail(f"expected to hear {text!r}, heard: {heard!r}")
        return self

    def expect_not(self, text: str) -> Call:
        heard = " ".join(self.heard)
        if text.casefold() in heard.casefold():
            raise self.fail(f"did not expect to hear {text!r}, heard: {heard!r}")
        return self

    # --- what the caller does -------------------------------------------------------------------

    def press(self, keys: str) -> Call:
        """Answer the pending <Gather> with keys (digits up to finishOnKey; numDigits honoured)."""
        gather = self._need("gather")
        finish = gather.get("finishOnKey", "#")
        num = int(gather.get("numDigits") or 0)
        digits, finished_on, used = "", None, 0
        while used < len(keys):
            key = keys[used]
            used += 1
            if finish and key in finish:
                finished_on = key
                break
            digits += key
            if num and len(digits) >= num:
                break
        if keys[used:]:
            raise self.fail(f"keys {keys[used:]!r} left over: the <Gather> ended before them")
        self.elapsed += len(keys) * 0.5
        if not digits:
            return self._gather_empty(gather, finished_on)
        params = {"Digits": digits}
        if finished_on:
            params["FinishedOnKey"] = finished_on
        return self._action(gather, params)

    def silence(self) -> Call:
        """The caller says nothing: a <Gather> times out, a <Record> gets no audio."""
        if self.pending == "record":
            record = self._need("record")
            self.elapsed += int(record.get("timeout") or 5)
            self._continue()  # no audio: Twilio skips the action
            return self
        gather = self._need("gather")
        self.elapsed += int(gather.get("timeout") or 5)
        return self._gather_empty(gather, None)

    def record(
        self, seconds: int = 20, hangup: bool = False, status_first: bool = False, status: str = "completed"
    ) -> Call:
        """Speak for `seconds` after the beep, then press the finish key (or hang up)."""
        record = self._need("record")
        max_length = int(record.get("maxLength") or 3600)
        duration = min(seconds, max_length)
        self.elapsed += duration
        sid = new_sid("RE")
        self.recording_sids.append(sid)
        folder = self.phone.recordings_dir()
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{sid}.wav").write_bytes(_silent_wav(duration))  # as long as the message
        url = f"https://api.twilio.com/{API_VERSION}/Accounts/{ACCOUNT_SID}/Recordings/{sid}"
        params = {"RecordingUrl": url, "RecordingSid": sid, "RecordingDuration": str(duration)}
        finish = record.get("finishOnKey", "1234567890*#")
        if hangup:
            params["Digits"] = "hangup"
        elif seconds < max_length and finish:
            params["Digits"] = "#" if "#" in finish else finish[0]
        callback = record.get("recordingStatusCallback")
        cb_params = {
            "RecordingSid": sid,
            "RecordingUrl": url,
            "RecordingStatus": status,
            "RecordingDuration": str(duration),
            "RecordingChannels": "1",
            "RecordingSource": "RecordVerb",
            "ErrorCode": "0",
        }
        cb_method = record.get("recordingStatusCallbackMethod", "POST")
        if callback and status_first:
            self._post(self._resolve(callback), cb_method, cb_params)
        if hangup:
            if record.get("action"):  # requested, its TwiML not executed
                self._post(self._resolve(record.get("action", "")), record.get("method", "POST"), params)
            else:
                self._post(self._url, record.get("method", "POST"), params)
            self._set_ended()
        else:
            self._action(record, params)
        if callback and not status_first:
            self._post(self._resolve(callback), cb_method, cb_params)
        if hangup:
            self._send_status("completed")
        return self

    def dial_answered(self, by: str = "human", seconds: int = 60) -> Call:
        """The desk answers the pending <Dial> and talks for `seconds`."""
        dial = self._need("dial")
        self.elapsed += seconds
        params = {
            "DialCallStatus": "completed",
            "DialCallSid": new_sid("CA"),
            "DialCallDuration": str(seconds),
            "AnsweredBy": by,
        }
        return self._dial_done(dial, params)

    def dial_unanswered(self, status: str = "no-answer") -> Call:
        """Nobody answers the pending <Dial> (no-answer, busy, failed, canceled)."""
        dial = self._need("dial")
        self.elapsed += int(dial.get("timeout") or 30)
        return self._dial_done(
            dial, {"DialCallStatus": status, "DialCallSid": new_sid("CA"), "DialCallDuration": "0"}
        )

    def hangup(self) -> Call:
        """The caller hangs up: Twilio posts the status callback. During a <Dial>, the network cancels
        the called legs first and requests the <Dial> action (its TwiML is not executed)."""
        if self.ended:
            raise self.fail("the call has already ended")
        dial = self._verb if self.pending == "dial" else None
        self._set_ended()
        if dial is not None:
            talking = any(leg.bridged and not leg.ended for leg in self.legs)
            picked = {leg.to for leg in self.legs}
            self.cancelled += [n for n in self.dialed if n not in picked]
            for leg in self.legs:
                if not leg.ended:
                    if not leg.bridged:
                        self.cancelled.append(leg.to)
                    leg._set_ended()
            if dial.get("action"):
                status = "completed" if talking else "canceled"
                params = {"CallStatus": "completed", "DialCallStatus": status, "DialCallSid": new_sid("CA")}
                self._post(self._resolve(dial.get("action", "")), dial.get("method", "POST"), params)
        self._send_status("completed")
        return self

    # --- a <Dial><Number url=…>: the called party's leg ---------------------------------------

    @property
    def screened(self) -> bool:
        """Is the pending <Dial> one whose called party hears a whisper first (<Number url>)?"""
        return self.pending == "dial" and self._verb is not None and any(n.get("url") for n in self._verb)

    def pick_up(self, number: str | None = None, answered_by: str = "human") -> Call:
        """The called party picks up the pending <Dial>: Twilio runs the <Number url> on their leg (a
        whisper) before putting the two through. Returns that leg: the test hears and presses on it
        (a voicemail answering presses nothing: `.silence()`)."""
        dial = self._need("dial")
        numbers = [n for n in dial if n.tag == "Number"]
        chosen = next((n for n in numbers if number is None or (n.text or "").strip() == number), None)
        if chosen is None:
            raise self.fail(f"{number} is not dialled: {self.dialed}")
        self.elapsed += 5  # a few rings
        leg = Call(
            self.phone,
            new_sid("CA"),
            dial.get("callerId", self.to),
            (chosen.text or "").strip(),
            "outbound-dial",
            None,
        )
        leg.parent = self
        leg.base["ParentCallSid"] = self.sid
        leg.answered_by = answered_by
        self.legs.append(leg)
        if chosen.get("url"):
            leg._fetch(chosen.get("url", ""), chosen.get("method", "POST"), {"CallStatus": "in-progress"})
        else:
            leg.bridged = True
        return leg

    def talk(self, seconds: int = 60) -> Call:
        """The caller and the called party talk, then the called party hangs up: the <Dial> action."""
        dial = self._need("dial")
        leg = next((leg for leg in self.legs if leg.bridged and not leg.ended), None)
        if leg is None:
            raise self.fail("nobody was put through: no one to talk to")
        self.elapsed += seconds
        leg.elapsed += seconds
        leg._set_ended()
        params = {"DialCallStatus": "completed", "DialCallSid": leg.sid, "DialCallDuration": str(seconds)}
        return self._dial_done(dial, params)

    def _leg_gone(self) -> None:
        """A called party's leg hung up before being put through: the caller's <Dial> ends (nobody
        was connected) and its action says what comes next."""
        parent = self.parent
        if parent is None or self.bridged or parent.ended or parent.pending != "dial" or parent._verb is None:
            return
        dial = parent._verb
        parent.heard = []
        parent.elapsed += self.elapsed
        parent._dial_done(
            dial, {"DialCallStatus": "no-answer", "DialCallSid": self.sid, "DialCallDuration": "0"}
        )

    def replay(self, index: int = -1) -> tuple[int, str]:
        """Send one of the earlier requests again, unchanged (Twilio retries)."""
        sent = self.requests[index]
        return self.phone.send(sent.url, dict(sent.params), sent.method)

    # --- walking TwiML --------------------------------------------------------------------------

    def _need(self, kind: str) -> ET.Element:
        """The pending verb of `kind`; the caller acts, so what they hear next starts afresh."""
        if self.ended:
            raise self.fail(f"the call has ended; no <{kind.capitalize()}> is pending")
        if self.pending != kind or self._verb is None:
            raise self.fail(f"expected a pending <{kind.capitalize()}>, the call is at {self.pending!r}")
        self.heard = []
        return self._verb

    def _resolve(self, url: str) -> str:
        return urllib.parse.urljoin(self.phone.public_base_url + self.phone.path_of(self._url or "/"), url)

    def _post(self, url: str, method: str, params: dict[str, str]) -> str:
        full = {**self.base, "CallStatus": "in-progress", **params}
        sent = Sent(url, method.upper(), full)
        sent.status, sent.body = self.phone.send(url, full, method)
        self.requests.append(sent)
        if not 200 <= sent.status < 300:
            raise self.fail(f"{method} {url} answered HTTP {sent.status}: {sent.body[:500]}")
        return sent.body

    def _fetch(self, url: str, method: str, params: dict[str, str]) -> None:
        """Request a TwiML document and walk it."""
        url = self._resolve(url) if self._url else url
        body = self._post(url, method, params)
        self._url = url
        self.last_twiml = body
        try:
            root = ET.fromstring(body)
        except ET.ParseError as exc:
            raise self.fail(f"{url} answered invalid TwiML: {exc}") from None
        if root.tag != "Response":
            raise self.fail(f"{url} answered <{root.tag}>, not a TwiML <Response>")
        self._walk(list(root))

    def _walk(self, verbs: list[ET.Element]) -> None:
        self.pending, self._verb = None, None
        while verbs:
            verb = verbs.pop(0)
            tag = verb.tag
            if refused := [*problems(verb), *(p for child in verb for p in problems(child))]:
                raise self.fail("Twilio would refuse this TwiML: " + "; ".join(refused))
            if tag in ("Say", "Play", "Pause"):
                self._speak(verb)
            elif tag == "Gather":
                for child in verb:
                    self._speak(child)
                self._wait("gather", verb, verbs)
                return
            elif tag == "Record":
                self._wait("record", verb, verbs)
                return
            elif tag == "Dial":
                self.dialed = [(n.text or "").strip() for n in verb if n.tag == "Number"] or (
                    [verb.text.strip()] if verb.text and verb.text.strip() else []
                )
                self.rings_at.append(self.elapsed)
                self._wait("dial", verb, verbs)
                return
            elif tag == "Redirect":
                self._fetch((verb.text or "").strip(), verb.get("method", "POST"), {})
                return
            elif tag in ("Hangup", "Reject"):
                self._set_ended()
                self._send_status("busy" if tag == "Reject" else "completed")
                self._leg_gone()
                return
            else:
                raise self.fail(f"the phone does not know the verb <{tag}>")
        if self.parent is not None:  # a whisper that ends without hanging up: the two are put through
            self.bridged = True
            return
        self._set_ended()  # end of the document: Twilio hangs up
        self._send_status("completed")

    def _speak(self, verb: ET.Element) -> None:
        if verb.tag == "Say":
            text = " ".join((verb.text or "").split())
            self.elapsed += max(1.0, len(text.split()) * 0.4)
        elif verb.tag == "Play":
            text = f"[play {(verb.text or '').strip()}]"
            self.elapsed += 5
        elif verb.tag == "Pause":
            self.elapsed += int(verb.get("length") or 1)
            return
        else:
            raise self.fail(f"the phone does not know <{verb.tag}> inside a verb")
        self.said.append(text)
        self.heard.append(text)

    def _wait(self, kind: str, verb: ET.Element, rest: list[ET.Element]) -> None:
        self.pending, self._verb, self._rest = kind, verb, rest

    def _continue(self) -> None:
        """Go on with the verbs after the pending one (what Twilio does when it has no action)."""
        self._walk(self._rest)

    def _action(self, verb: ET.Element, params: dict[str, str]) -> Call:
        action = verb.get("action") or self._url  # Twilio's default: the current document
        self._fetch(action, verb.get("method", "POST"), params)
        return self

    def _gather_empty(self, gather: ET.Element, finished_on: str | None) -> Call:
        if gather.get("actionOnEmptyResult", "false").lower() == "true":
            params = {"Digits": ""}
            if finished_on:
                params["FinishedOnKey"] = finished_on
            return self._action(gather, params)
        self._continue()
        return self

    def _dial_done(self, dial: ET.Element, params: dict[str, str]) -> Call:
        if dial.get("action"):
            return self._action(dial, params)
        self._continue()
        return self

    def _set_ended(self) -> None:
        self.ended, self.pending, self._verb = True, None, None

    def _send_status(self, status: str) -> None:
        if self._status_sent or not self.status_callback:
            return
        self._status_sent = True
        params = {"CallStatus": status, "CallDuration": str(int(self.elapsed) or 1)}
        full = {**self.base, **params}
        sent = Sent(self.status_callback, "POST", full)
        sent.status, sent.body = self.phone.send(self.status_callback, full, "POST")
        self.requests.append(sent)
        if not 200 <= sent.status < 300:
            raise self.fail(f"status callback answered HTTP {sent.status}: {sent.body[:500]}")

    def __repr__(self) -> str:
        return f"<Call {self.sid} {self.from_}→{self.to} pending={self.pending} ended={self.ended}>"


def _silent_wav(seconds: float) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)  # 8-bit, 8 kHz: 8 kB a second, like a phone line
        w.setframerate(8000)
        w.writeframes(b"\x80" * int(8000 * max(seconds, 0.2)))  # silence (8-bit samples are unsigned)
    return buf.getvalue()
