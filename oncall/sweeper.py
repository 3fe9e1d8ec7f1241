"""The sweeper: finds overdue work in the database and runs it again."""

from __future__ import annotations


def run_due_steps(callout_id: int) -> None:
    """Run the policy steps of one callout that are due now (the paging engine fills this in)."""


def sweep() -> int:
    """Run every callout step whose `next_action_at` has passed. Returns how many ran."""
    return 0
