"""What left astreinte, seen from the other side: every message a carrier took (the local outbox's
included), read back from the outbox. `astreinte call`, `astreinte demo` and the tests name what they
expect to have gone out (`expect`), then `nothing_else()` fails on anything they did not expect: a page
sent twice, an SMS to the wrong person, an e-mail nobody asked for."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from models import Channel, MessageState, OutgoingMessage, session


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
