import datetime as dt

import pytest

from autograder.results.lateness import Late, assess, final_score, late_from_metadata, penalty_for
from autograder.spec import AssignmentSpec, SpecError, load_spec

BASE = {
    "id": "a0_late", "title": "t", "version": "1", "framework": "numpy", "student_files": ["a.py"],
    "questions": [{"id": "q", "title": "q", "points": 10, "tests": ["*"]}],
}  # fmt: skip
DUE = "2026-03-01T23:59:00-05:00"


def _spec(**fields) -> AssignmentSpec:
    return AssignmentSpec.model_validate({**BASE, **fields})


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


POLICY = _spec(due=DUE, grace_minutes=15, late_penalty={"per_day": 0.1, "max_days": 5})


@pytest.mark.parametrize(
    ("submitted", "days", "penalty"),
    [
        ("2026-03-01T20:00:00-05:00", 0, 0.0),  # early
        ("2026-03-02T00:10:00-05:00", 0, 0.0),  # 11 minutes late: within the grace period
        ("2026-03-02T00:20:00-05:00", 1, 0.1),  # 21 minutes late: one day
        ("2026-03-02T06:00:00Z", 1, 0.1),  # another zone: 01:00 in -05:00, 61 minutes late
        ("2026-03-03T23:59:00-05:00", 2, 0.2),  # exactly 2 days
        ("2026-03-06T23:59:00-05:00", 5, 0.5),
        ("2026-03-07T00:30:00-05:00", 6, 1.0),  # over max_days: earns 0
    ],
)
def test_days_are_counted_up_after_the_grace_period_and_the_penalty_follows(submitted, days, penalty):
    late = assess(POLICY, _at(submitted), "test")
    assert (late.days, late.penalty) == (days, penalty)


def test_describe_gives_a_short_reason_per_case():
    assert assess(POLICY, _at("2026-03-03T23:59:00-05:00"), "x").describe(POLICY) == "late 2 days: -20%"
    assert assess(POLICY, _at("2026-03-02T00:10:00-05:00"), "x").describe(POLICY).endswith("within the 15-min grace period")
    assert "over the 5-day limit, scored 0" in assess(POLICY, _at("2026-03-09T00:00:00-05:00"), "x").describe(POLICY)
    assert assess(POLICY, _at("2026-03-01T00:00:00-05:00"), "x").describe(POLICY) == ""
    unknown = assess(POLICY, None, "none", marked_late=True)
    assert unknown.is_late and unknown.penalty == 0 and "no penalty applied" in unknown.describe(POLICY)
    no_rule = _spec(due=DUE)
    assert assess(no_rule, _at("2026-03-03T12:00:00-05:00"), "x").describe(no_rule) == "late 2 days (no late penalty set)"


def test_no_due_date_means_no_lateness_and_the_raw_score():
    assert assess(_spec(), _at("2030-01-01T00:00:00Z"), "x") is None
    assert final_score(7.5, None) == 7.5


def test_the_final_score_applies_the_penalty_and_the_record_round_trips():
    late = assess(POLICY, _at("2026-03-04T10:00:00-05:00"), "Gradescope :created_at:")
    assert final_score(8.0, late) == pytest.approx(5.6)
    back = late_from_metadata({"late": late.as_metadata()})
    assert back == late and late_from_metadata({}) is None and late_from_metadata({"late": {"days": "x"}}) is None


def test_a_penalty_without_a_cap_stops_at_everything():
    spec = _spec(due=DUE, late_penalty={"per_day": 0.3})
    assert [penalty_for(spec, d) for d in (0, 1, 3, 4)] == [0.0, 0.3, 0.9, 1.0]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"due": "2026-03-01T23:59:00"}, "needs a time zone"),
        ({"late_penalty": {"per_day": 0.1}}, "count from `due`"),
        ({"grace_minutes": 10}, "count from `due`"),
        ({"due": DUE, "late_penalty": {"per_day": 0}}, "per_day"),
        ({"due": DUE, "late_penalty": {"per_day": 1.5}}, "per_day"),
        ({"due": DUE, "late_penalty": {"per_day": 0.1, "max_days": -1}}, "max_days"),
        ({"due": DUE, "grace_minutes": -5}, "grace_minutes"),
    ],
)
def test_a_bad_late_policy_is_refused_with_the_field_named(tmp_path, fields, message):
    import yaml

    path = tmp_path / "assignment.yaml"
    path.write_text(yaml.safe_dump({**BASE, **fields}))
    with pytest.raises(SpecError, match=message):
        load_spec(path)


def test_an_unquoted_yaml_timestamp_with_an_offset_is_accepted(tmp_path):
    import yaml

    path = tmp_path / "assignment.yaml"
    path.write_text(yaml.safe_dump(BASE) + "due: 2026-03-01T23:59:00-05:00\nlate_penalty: {per_day: 0.1, max_days: 5}\n")
    spec = load_spec(path)
    assert spec.due.utcoffset() == dt.timedelta(hours=-5) and spec.late_penalty.max_days == 5


def test_late_repr_is_readable():
    assert repr(Late(2, 2000.0, 0.2, "x")) == "Late(days=2, minutes=2000.0, penalty=0.2, source='x')"
