"""The class report's numbers: scores, questions, tests, failure messages, problems, lateness, written answers."""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from autograder.outcomes import CRASHED, GRADER_ERROR, PASSED, TIMED_OUT
from autograder.results import SubmissionResult
from autograder.results.lateness import late_from_metadata

BINS = 10  # histogram bins of 10 percentage points; 100 % falls in the last
_NUMBER = re.compile(r"(?<![A-Za-z_0-9.])(?:(0x)[0-9a-fA-F]+\b|[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)")
_SPACE = re.compile(r"\s+")
KEY_CHARS = 240
PROBLEM_OUTCOMES = (TIMED_OUT, CRASHED, GRADER_ERROR)
LATE_KEYS = ("late", "lateness")  # a bool, a number of seconds, or a dict of details
LATE_DETAIL_KEYS = ("submitted_at", "due_at", "due", "late_penalty", "penalty", "lateness_s", "late_by_s")
SECONDS_KEYS = ("lateness", "lateness_s", "late_by_s", "seconds", "seconds_late", "late_by")
ANSWER_KEYS = ("written_answers", "answers")


@dataclass(frozen=True)
class ScoreSummary:
    """Percent scores of the class: summary numbers and histogram counts."""

    percents: list[float]
    histogram: list[int]

    @property
    def n(self) -> int:
        return len(self.percents)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.percents) if self.percents else 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.percents) if self.percents else 0.0

    @property
    def stdev(self) -> float:
        return statistics.pstdev(self.percents) if self.percents else 0.0


@dataclass(frozen=True)
class QuestionStats:
    """One question across the class."""

    id: str
    title: str
    max_score: float
    scores: list[float]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.scores) if self.scores else 0.0

    @property
    def best(self) -> float:
        return max(self.scores, default=0.0)

    @property
    def full(self) -> int:
        return sum(s >= self.max_score for s in self.scores) if self.max_score else 0


@dataclass
class TestStats:
    """One test across the submissions whose tests ran."""

    __test__ = False  # not a pytest test class

    name: str
    question: str
    max_score: float = 0.0
    outcomes: Counter[str] = field(default_factory=Counter)
    durations: list[tuple[float, str]] = field(default_factory=list)

    @property
    def n(self) -> int:
        return sum(self.outcomes.values())

    @property
    def pass_rate(self) -> float:
        return self.outcomes[PASSED] / self.n if self.n else 0.0

    @property
    def median_s(self) -> float:
        return statistics.median(d for d, _ in self.durations) if self.durations else 0.0

    @property
    def slowest(self) -> tuple[float, str]:
        return max(self.durations, default=(0.0, ""))


@dataclass
class FailureGroup:
    """Failure messages that are the same once numbers are collapsed."""

    key: str
    outcome: str
    example: str
    count: int = 0
    submissions: set[str] = field(default_factory=set)
    tests: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Problem:
    """A submission, or one of its tests, that did not run to the end."""

    submission: str
    what: str
    where: str
    reason: str


@dataclass(frozen=True)
class LateRow:
    """Lateness facts a result carries."""

    submission: str
    late: bool | None
    late_by_s: float | None
    penalty: str
    details: dict[str, Any]
    percent: float


def score_summary(results: list[SubmissionResult]) -> ScoreSummary:
    """Return the class's percent scores and their histogram."""
    percents = [r.percent for r in results]
    histogram = [0] * BINS
    for p in percents:
        histogram[min(BINS - 1, max(0, int(p // (100 / BINS))))] += 1
    return ScoreSummary(percents, histogram)


def question_stats(results: list[SubmissionResult]) -> list[QuestionStats]:
    """Return per-question scores, questions in the order of the result that lists the most."""
    order = max((r.questions for r in results), key=len, default=[])
    ids = [q.id for q in order] + sorted({q.id for r in results for q in r.questions} - {q.id for q in order})
    titles, maxima, scores = {}, defaultdict(float), defaultdict(list)
    for r in results:
        for q in r.questions:
            titles.setdefault(q.id, q.title)
            maxima[q.id] = max(maxima[q.id], q.max_score)
            scores[q.id].append(q.score)
    return [QuestionStats(i, titles[i], maxima[i], scores[i]) for i in ids]


def per_test(results: list[SubmissionResult]) -> list[TestStats]:
    """Return per-test outcomes and durations, the lowest pass rate first."""
    by_name: dict[str, TestStats] = {}
    for r in results:
        for t in r.tests:
            s = by_name.setdefault(t.name, TestStats(t.name, t.question or ""))
            s.max_score = max(s.max_score, t.max_score)
            s.outcomes[t.outcome] += 1
            s.durations.append((t.duration_s, r.submission))
    return sorted(by_name.values(), key=lambda s: (s.pass_rate, -s.max_score, s.name))


def failure_key(message: str) -> str:
    """Return `message` reduced to what identifies it: a traceback's exception line, numbers as N, one line."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return "(no message)"
    if len(lines) > 1 and any(line.startswith('File "') for line in lines):
        head = "" if lines[0].startswith("Traceback") else f"{lines[0]} "
        text = head + lines[-1]
    else:
        text = " ".join(lines)
    text = _NUMBER.sub(lambda m: f"{m.group(1) or ''}N", text)
    text = _SPACE.sub(" ", text)
    return text if len(text) <= KEY_CHARS else text[: KEY_CHARS - 3] + "..."


def failure_groups(results: list[SubmissionResult], top: int = 20) -> list[FailureGroup]:
    """Return the `top` most common failure messages (all outcomes but passed), the most frequent first."""
    groups: dict[tuple[str, str], FailureGroup] = {}
    for r in results:
        for t in r.tests:
            if t.outcome == PASSED:
                continue
            key = failure_key(t.output)
            g = groups.setdefault((t.outcome, key), FailureGroup(key, t.outcome, t.output))
            g.count += 1
            g.submissions.add(r.submission)
            g.tests[t.name] += 1
    return sorted(groups.values(), key=lambda g: (-len(g.submissions), -g.count, g.key))[:top]


def problems(results: list[SubmissionResult]) -> list[Problem]:
    """Return submissions that were not graded to the end, and tests that timed out, crashed or hit a grader error."""
    found = []
    for r in results:
        if r.status != "graded":
            found.append(Problem(r.submission, r.status, "whole submission", r.output))
        found += [Problem(r.submission, t.outcome, t.name, t.output) for t in r.tests if t.outcome in PROBLEM_OUTCOMES]
    return found


def late_details(metadata: dict[str, Any]) -> dict[str, Any] | None:
    """Return the lateness facts in a result's metadata (any of the shapes a layout may write), or None."""
    info: dict[str, Any] = {}
    for key in LATE_KEYS:
        value = metadata.get(key)
        if isinstance(value, dict):
            info.update(value)
        elif value is not None:
            info[key] = value
    info.update({k: metadata[k] for k in LATE_DETAIL_KEYS if k in metadata and k not in info})
    return info or None


def _seconds(info: dict[str, Any]) -> float | None:
    for key in SECONDS_KEYS:
        value = info.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def _engine_late_row(r: SubmissionResult) -> LateRow | None:
    """Return the row for a `metadata.late` record written by the engine's late rules, or None for another shape."""
    late = late_from_metadata(r.metadata)
    if late is None:
        return None
    seconds = None if late.minutes is None else max(0.0, late.minutes * 60)
    details = {"days late": late.days, "time from": late.source_of_time}
    if late.marked_late:
        details["marked late by the LMS"] = "yes"
    return LateRow(r.submission, late.is_late, seconds, f"{late.penalty:.0%}" if late.penalty else "", details, r.percent)


def _other_late_row(r: SubmissionResult) -> LateRow | None:
    """Return a row for lateness facts in any other shape (a flag, seconds, a dict of details), or None."""
    info = late_details(r.metadata)
    if info is None:
        return None
    seconds = _seconds(info)
    flag = info.get("late")
    late = flag if isinstance(flag, bool) else (seconds > 0 if seconds is not None else None)
    penalty = info.get("late_penalty", info.get("penalty", ""))
    return LateRow(r.submission, late, seconds, "" if penalty in (None, "") else str(penalty), info, r.percent)


def late_rows(results: list[SubmissionResult]) -> list[LateRow]:
    """Return one row per result that carries lateness facts, late ones first, the latest first."""
    rows = [row for r in results if (row := _engine_late_row(r) or _other_late_row(r))]
    return sorted(rows, key=lambda row: (row.late is not True, -(row.late_by_s or 0.0), row.submission.casefold()))


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=1)


def _answers(value: Any) -> list[tuple[str, str]]:
    """Return (question, answer) pairs from a dict, a list of dicts or strings, or one string."""
    if isinstance(value, dict):
        return [(str(k), _as_text(v)) for k, v in value.items()]
    if isinstance(value, str):
        return [("answer", value)]
    if not isinstance(value, list):
        return []
    pairs = []
    for i, item in enumerate(value, 1):
        if isinstance(item, dict):
            question = item.get("question", item.get("id", item.get("prompt", f"answer {i}")))
            pairs.append((_as_text(question), _as_text(item.get("answer", item.get("text", "")))))
        else:
            pairs.append((f"answer {i}", _as_text(item)))
    return pairs


def written_answers(results: list[SubmissionResult]) -> dict[str, list[tuple[str, str]]]:
    """Return, per question, each submission's written answer, from `metadata.written_answers` where present."""
    by_question: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for r in results:
        value = next((r.metadata[k] for k in ANSWER_KEYS if k in r.metadata), None)
        for question, answer in _answers(value):
            by_question[question].append((r.submission, answer))
    return dict(by_question)
