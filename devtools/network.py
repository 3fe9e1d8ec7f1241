"""What left astreinte, seen from the other side: every message a carrier took (the local outbox's
included), read back from the outbox. `astreinte call`, `astreinte demo` and the tests name what they
expect to have gone out (`expect`), then `nothing_else()` fails on anything they did not expect: a page
sent twice, an SMS to the wrong person, an e-mail nobody asked for. `by_person()` is what the commands
print at the end: who got what, on which channel, through which carrier."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from models import Channel, MessageState, OutgoingMessage, Person, session


class Network:
    """The messages that left since `since` (all of them without it), each to be expected once."""

    def __init__(self, since: datetime | None = None) -> None:
        self.since = since
        self.expected: set[int] = set()

    def sent(self) -> list[OutgoingMessage]:
        query = select(OutgoingMessage).where(
            OutgoingMessage.carrier_id.is_not(None), OutgoingMessage.state != MessageState.BUNDLED
        )
        if self.since is not None:
            query = query.where(OutgoingMessage.created_at >= self.since)
        return list(session.scalars(query.order_by(OutgoingMessage.id)))

    def to(self, address: str, channel: Channel | None = None) -> list[OutgoingMessage]:
        return [m for m in self.sent() if m.to_address == address and channel in (None, m.channel)]

    def expect(self, address: str, channel: Channel, containing: str = "") -> OutgoingMessage:
        """The first message to `address` on `channel` (its text containing `containing`) not yet
        expected; AssertionError listing what did leave otherwise."""
        for message in self.to(address, channel):
            said = f"{message.subject or ''} {message.body}"
            if message.id not in self.expected and containing in said:
                self.expected.add(message.id)
                return message
        raise AssertionError(
            f"no {channel.value} to {address} containing {containing!r}; sent: {self._listed(self.sent())}"
        )

    def nothing_else(self) -> None:
        """Everything that left was expected: AssertionError naming the others."""
        others = [m for m in self.sent() if m.id not in self.expected]
        if others:
            raise AssertionError(f"and nothing else was sent, but: {self._listed(others)}")

    @staticmethod
    def _listed(messages: list[OutgoingMessage]) -> str:
        return (
            "; ".join(
                f"{m.channel.value} to {m.to_address} by {m.carrier} ({m.kind}): {(m.subject or m.body)[:60]!r}"
                for m in messages
            )
            or "nothing"
        )

    def by_person(self) -> list[str]:
        """What left, person by person (a number or address nobody in the organisation holds: as is),
        each message on its line: channel, carrier, text."""
        people = list(session.scalars(select(Person)))
        names = {p.id: p.name for p in people}
        holders = {a: p.name for p in people for a in (p.phone, p.email) if a}
        lines: list[str] = []
        grouped: dict[str, list[OutgoingMessage]] = {}
        for message in self.sent():
            name = names.get(message.person_id or "") or holders.get(message.to_address)
            who = f"{name} ({message.to_address})" if name else message.to_address
            grouped.setdefault(who, []).append(message)
        for who, messages in grouped.items():
            lines.append(who)
            for m in messages:
                said = (m.subject or m.body) if m.channel is not Channel.VOICE else "(call)"
                lines.append(f"  {m.channel.value:<5} {m.carrier or '-':<8} {said[:100]}")
        return lines or ["nothing left"]
