"""Late work: how late a submission was by the spec's due date and grace period, and what the late penalty takes off."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass
from typing import Any

from autograder.spec import AssignmentSpec

MINUTES_PER_DAY = 24 * 60
NO_TIME = "none"


@dataclass(frozen=True)
class Late:
    """How late one submission was, and the fraction of its earned score it loses (0: on time, 1: earns 0)."""

    days: int  # whole days after the due date, counted up; 0 when on time or within the grace period
    minutes: float | None  # minutes after the due date (negative: early); None when the time is unknown
    penalty: float
    source_of_time: str  # where the submission time came from, e.g. "Gradescope :created_at:"
    marked_late: bool = False  # the LMS says late (Canvas's `LATE`), whatever the time says

    @property
    def is_late(self) -> bool:
        return self.days > 0 or (self.minutes is None and self.marked_late)

    def as_metadata(self) -> dict[str, Any]:
        """Return the record kept under a result's `metadata.late`."""
        return asdict(self)

    def describe(self, spec: AssignmentSpec) -> str:
        """Return a short phrase for a gradebook: `late 2 days: -20%`; empty when on time."""
        if self.minutes is None:
            return "marked late by the LMS but no submission time is known: no penalty applied" if self.marked_late else ""
        if self.days == 0:
            return f"{self.minutes:.0f} min after the due date, within the {spec.grace_minutes:g}-min grace period" if self.minutes > 0 else ""
        days = f"late {self.days} day{'s' if self.days != 1 else ''}"
        rule = spec.late_penalty
        if rule and rule.max_days is not None and self.days > rule.max_days:
            return f"{days}: over the {rule.max_days}-day limit, scored 0"
        return f"{days}: -{self.penalty:.0%}" if self.penalty else f"{days} (no late penalty set)"

    def __repr__(self) -> str:
        return f"Late(days={self.days}, minutes={self.minutes}, penalty={self.penalty:g}, source={self.source_of_time!r})"


def penalty_for(spec: AssignmentSpec, days: int) -> float:
    """Return the fraction of the earned score a submission `days` late loses under the spec's `late_penalty`."""
    rule = spec.late_penalty
    if days <= 0 or rule is None:
        return 0.0
    if rule.max_days is not None and days > rule.max_days:
        return 1.0
    return round(min(1.0, rule.per_day * days), 6)


def assess(spec: AssignmentSpec, submitted_at: dt.datetime | None, source_of_time: str, marked_late: bool = False) -> Late | None:
    """Return how late a submission was, or None when the spec has no due date."""
    if spec.due is None:
        return None
    if submitted_at is None:
        return Late(days=0, minutes=None, penalty=0.0, source_of_time=source_of_time or NO_TIME, marked_late=marked_late)
    minutes = (submitted_at - spec.due).total_seconds() / 60
    days = math.ceil(minutes / MINUTES_PER_DAY) if minutes > spec.grace_minutes else 0
    return Late(days=days, minutes=round(minutes, 1), penalty=penalty_for(spec, days), source_of_time=source_of_time, marked_late=marked_late)


def late_from_metadata(metadata: dict[str, Any]) -> Late | None:
    """Return the `Late` record a result's metadata holds, or None (no due date, or a result from before late rules)."""
    record = metadata.get("late")
    if not isinstance(record, dict):
        return None
    try:
        return Late(
            days=int(record["days"]), minutes=None if record.get("minutes") is None else float(record["minutes"]),
            penalty=min(1.0, max(0.0, float(record["penalty"]))), source_of_time=str(record.get("source_of_time", "")),
            marked_late=bool(record.get("marked_late", False)),
        )  # fmt: skip
    except (KeyError, TypeError, ValueError):
        return None


def final_score(score: float, late: Late | None) -> float:
    """Return the score after the late penalty (the raw score when on time or without a due date)."""
    return round(score * (1.0 - late.penalty), 4) if late else score
