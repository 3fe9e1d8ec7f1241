"""What the organisation file says of paging, checked: the `priorities` (their targets and clocks) and
the `astreinte` policy (its steps, its repeat, the evening self test).

A step names a position or a role somebody holds (see `escalation`), steps come in time order, and a
policy without a step is refused: nobody would be paged.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from org.orgtypes import (
    CHANNELS,
    CLOCKS,
    PAGE_CHANNELS,
    POSITIONS,
    ROLES,
    PolicyStep,
    Priority,
    Repeat,
    SelfTest,
)
from org.values import Checker, parse_duration, parse_hhmm


def read_priorities(c: Checker, value: dict[str, Any]) -> dict[str, Priority]:
    """`priorities: {high: {label, takeover, resolution, clock, astreinte, escalate_after_breach}}`."""
    priorities: dict[str, Priority] = {}
    for key, p in value.items():
        where = f"priorities.{key}"
        if not isinstance(p, dict):
            c.fail(where, "expected a mapping")
            continue
        clock_kind = p.get("clock", "24/7")
        if clock_kind not in CLOCKS:
            c.fail(f"{where}.clock", f"{clock_kind!r} is not a clock ({', '.join(CLOCKS)})")
        steps = tuple(
            d
            for i, v in enumerate(p.get("escalate_after_breach") or [])
            if (d := c.run(f"{where}.escalate_after_breach[{i}]", parse_duration, v)) is not None
        )
        priorities[str(key)] = Priority(
            key=str(key),
            label=str(p.get("label", key)),
            takeover=c.run(f"{where}.takeover", parse_duration, p["takeover"]) if p.get("takeover") else None,
            resolution=c.run(f"{where}.resolution", parse_duration, p["resolution"])
            if p.get("resolution")
            else None,
            clock=clock_kind,
            astreinte=bool(p.get("astreinte", False)),
            escalate_after_breach=steps,
            page_on_open=_flag(c, f"{where}.page_on_open", p.get("page_on_open", False)),
            inactivity=c.run(f"{where}.inactivity", parse_duration, p["inactivity"])
            if p.get("inactivity")
            else None,
        )
    return priorities


def _flag(c: Checker, where: str, value: Any) -> bool:
    if not isinstance(value, bool):
        c.fail(where, f"{value!r}: expected true or false")
        return False
    return value


def read_policy(c: Checker, value: Any, escalation: dict[str, str]) -> tuple[PolicyStep, ...]:
    """`astreinte.policy`: the steps, each `{after: 0m, notify: primary, by: [sms, voice]}`."""
    policy: list[PolicyStep] = []
    for i, step in enumerate(value or []):
        where = f"astreinte.policy[{i}]"
        if not isinstance(step, dict):
            c.fail(where, "expected a mapping like {after: 0m, notify: primary, by: [sms, voice]}")
            continue
        after = c.run(f"{where}.after", parse_duration, step.get("after"))
        target = step.get("notify")
        if target not in POSITIONS + ROLES:
            c.fail(
                f"{where}.notify", f"{target!r} is not a position or a role ({', '.join(POSITIONS + ROLES)})"
            )
        elif target in ROLES and target not in escalation:
            c.fail(f"{where}.notify", f"nobody holds the role {target!r} (see escalation)")
        by = _among(c, f"{where}.by", step.get("by") or [], PAGE_CHANNELS, "channels")
        if policy and after is not None and after < policy[-1].after:
            c.fail(f"{where}.after", "steps must be in time order")
        policy.append(PolicyStep(after or timedelta(0), str(target), tuple(by)))
    if not policy:
        c.fail("astreinte.policy", "at least one step is needed, or nobody would be paged")
    return tuple(policy)


def _among(c: Checker, key: str, value: Any, allowed: tuple[str, ...], what: str) -> list[Any]:
    """A non-empty list of values among `allowed`; else a problem noted and an empty list."""
    if isinstance(value, list) and value and all(v in allowed for v in value):
        return value
    c.fail(key, f"expected a list of {what} among {', '.join(allowed)}, got {value!r}")
    return []


def read_repeat(c: Checker, value: Any) -> Repeat | None:
    """`repeat: {every: 10m, notify: [primary, backup], by: [sms, voice]}`, or none."""
    if value is None:
        return None
    where = "astreinte.repeat"
    if not isinstance(value, dict):
        c.fail(where, "expected a mapping like {every: 10m, notify: [primary, backup], by: [sms, voice]}")
        return None
    every = c.run(f"{where}.every", parse_duration, value.get("every"))
    if every is not None and every < timedelta(minutes=1):
        c.fail(f"{where}.every", "at least 1m: carriers block a number paged more often")
    notify = _among(c, f"{where}.notify", value.get("notify") or [], POSITIONS, "positions")
    by = _among(c, f"{where}.by", value.get("by") or [], PAGE_CHANNELS, "channels")
    if every is None or every < timedelta(minutes=1) or not notify or not by:
        return None
    return Repeat(every, tuple(str(n) for n in notify), tuple(str(ch) for ch in by))


def read_self_test(c: Checker, value: Any) -> SelfTest | None:
    """`self_test: {at: "18:05", notify: [primary, backup], by: [sms]}`, or none (no evening test)."""
    if value is None:
        return None
    where = "astreinte.self_test"
    if not isinstance(value, dict):
        c.fail(where, 'expected a mapping like {at: "18:05", notify: [primary, backup], by: [sms]}')
        return None
    at = c.run(f"{where}.at", parse_hhmm, str(value.get("at", "")))
    notify = _among(c, f"{where}.notify", value.get("notify", list(POSITIONS)), POSITIONS, "positions")
    by = _among(c, f"{where}.by", value.get("by", ["sms"]), CHANNELS, "channels")
    if at is None or not notify or not by:
        return None
    return SelfTest(at, tuple(str(n) for n in notify), tuple(str(ch) for ch in by))
