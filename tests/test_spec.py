from pathlib import Path

import pytest
import yaml

from autograder.spec import AssignmentSpec, SpecError, load_spec
from tests.conftest import FIXTURE_COURSE, REPO

A0 = FIXTURE_COURSE / "assignments" / "a0_trivial" / "assignment.yaml"


def _write(tmp_path: Path, raw: dict) -> Path:
    path = tmp_path / "assignment.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def _raw() -> dict:
    return yaml.safe_load(A0.read_text())


def test_every_field_has_a_description():
    missing = [n for n, f in AssignmentSpec.model_fields.items() if not f.description]
    assert not missing


def test_a1_spec_loads_with_questions_and_thresholds():
    spec = load_spec(REPO / "assignments" / "a1_mlp_numpy")
    assert spec.framework == "numpy"
    assert "torch" in spec.forbidden_imports
    assert spec.thresholds["mnist-offline"] > 0.5
    assert spec.max_points == sum(q.points for q in spec.questions)


def test_question_for_matches_first_pattern():
    spec = load_spec(A0)
    assert spec.question_for("hidden/test_hidden.py::test_mul").id == "q2_mul"
    assert spec.question_for("hidden/test_hidden.py::test_other") is None


def test_bad_framework_names_file_field_and_choices(tmp_path):
    raw = _raw() | {"framework": "jax"}
    with pytest.raises(SpecError) as err:
        load_spec(_write(tmp_path, raw))
    text = str(err.value)
    assert str(tmp_path / "assignment.yaml") in text
    assert "`framework`" in text and "'numpy'" in text and "'torch'" in text


def test_missing_field_is_named(tmp_path):
    raw = _raw()
    del raw["questions"]
    with pytest.raises(SpecError, match="field `questions`: Field required"):
        load_spec(_write(tmp_path, raw))


def test_unknown_field_is_rejected_with_allowed_fields(tmp_path):
    with pytest.raises(SpecError, match=r"field `pionts`.*\n.*Allowed top-level fields: id, title"):
        load_spec(_write(tmp_path, _raw() | {"pionts": 3}))


def test_duplicate_question_ids_rejected(tmp_path):
    raw = _raw()
    raw["questions"][1]["id"] = raw["questions"][0]["id"]
    with pytest.raises(SpecError, match="question ids must be unique"):
        load_spec(_write(tmp_path, raw))


def test_threshold_out_of_range_rejected(tmp_path):
    with pytest.raises(SpecError, match="field `thresholds`"):
        load_spec(_write(tmp_path, _raw() | {"thresholds": {"mnist-offline": 93}}))


def test_invalid_yaml_and_missing_file(tmp_path):
    (tmp_path / "assignment.yaml").write_text("id: [unclosed\n")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_spec(tmp_path)
    with pytest.raises(SpecError, match="no assignment spec here"):
        load_spec(tmp_path / "nowhere")
