"""The `device`, `threshold` and `budget` fixtures for torch assignments, and torch objects across the seam, end to end."""

import pytest
from typer.testing import CliRunner

from autograder.cli import app
from autograder.course import find_assignment
from autograder.grade import RunOptions, grade_one
from autograder.referee import plugin
from autograder.spec import PerDevice, SpecError, load_spec
from tests.conftest import FIXTURE_COURSE

TORCH_SPEC = {"id": "a9_x", "framework": "torch", "devices": ["cpu", "gpu"]}


@pytest.fixture(scope="module")
def a0_torch():
    pytest.importorskip("torch")
    return find_assignment("a0_torch", FIXTURE_COURSE)


@pytest.mark.parametrize(
    ("spec", "asked", "cuda", "expected"),
    [
        ({"framework": "numpy"}, "auto", True, "cpu"),
        ({"framework": "torch"}, "auto", True, "cpu"),  # the spec allows no gpu
        (TORCH_SPEC, "auto", True, "cuda"),
        (TORCH_SPEC, "auto", False, "cpu"),
        (TORCH_SPEC, "cpu", True, "cpu"),
        (TORCH_SPEC, "cuda", True, "cuda"),
    ],
)
def test_the_device_is_cuda_only_where_the_spec_allows_it_and_the_machine_has_one(monkeypatch, spec, asked, cuda, expected):
    monkeypatch.setattr(plugin, "_cuda_available", lambda: cuda)
    assert plugin.choose_device(spec, asked) == expected


@pytest.mark.parametrize(("spec", "cuda", "says"), [({"id": "a9_x", "framework": "torch"}, True, "does not allow a GPU"), (TORCH_SPEC, False, "no usable GPU")])
def test_asking_for_cuda_where_it_cannot_be_had_is_a_usage_error(monkeypatch, spec, cuda, says):
    monkeypatch.setattr(plugin, "_cuda_available", lambda: cuda)
    with pytest.raises(pytest.UsageError, match=says):
        plugin.choose_device(spec, "cuda")


def test_budgets_and_thresholds_are_read_per_device():
    assert plugin._per_device({"cpu": 5, "gpu": 2}, "cuda") == 2 and plugin._per_device({"cpu": 5, "gpu": 2}, "cpu") == 5
    assert plugin._per_device({"cpu": 5, "gpu": None}, "cuda") == 5 and plugin._per_device(0.9, "cuda") == 0.9
    spec = load_spec(FIXTURE_COURSE / "assignments" / "a0_torch")
    assert spec.budget_s("cpu") == 5 and spec.budget_s("gpu") == 2
    assert spec.threshold("xor", "cpu") == 0.75 and spec.threshold("xor", "gpu") == 0.9 and spec.threshold("cifar10") is None
    assert PerDevice(cpu=0.5).on("gpu") == 0.5


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"devices": ["cpu", "gpu"], "framework": "numpy"}, "only a torch assignment can run on a GPU"),
        ({"devices": ["gpu"]}, "`devices` must list cpu"),
        ({"thresholds": {"xor": {"cpu": 0.5, "gpu": 75}}}, "between 0 and 1"),
        ({"training_budget_s": {"cpu": 0, "gpu": 2}}, "positive number of seconds"),
        ({"training_budget_s": {"cpu": 5, "tpu": 2}}, "training_budget_s"),
    ],
)
def test_a_malformed_device_field_is_a_spec_error_naming_it(tmp_path, change, says):
    import yaml

    raw = yaml.safe_load((FIXTURE_COURSE / "assignments" / "a0_torch" / "assignment.yaml").read_text()) | change
    (tmp_path / "assignment.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(SpecError, match=says):
        load_spec(tmp_path)


def test_a_torch_solution_scores_full_marks_and_the_result_names_device_threshold_and_budget(a0_torch, tmp_path):
    result = grade_one(a0_torch, a0_torch.solution, tmp_path / "out", force=True, options=RunOptions(device="cpu"))
    assert (result.status, result.score, result.max_score) == ("graded", 5, 5), [(t.name, t.output) for t in result.tests]
    meta = result.metadata
    assert meta["device"] == {"type": "cpu"}
    assert meta["threshold"] == {"source": "xor", "device": "cpu", "min_accuracy": 0.75}
    assert meta["budget"]["raw_s"] == 5 and meta["budget"]["clock"] == "CPU time"


DETACHED = '''
import torch
from torch import nn


class TinyNet(nn.Module):
    def __init__(self, hidden=8):
        super().__init__()
        self.fc1 = nn.Linear(2, hidden)
        self.fc2 = nn.Linear(hidden, 2)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)).detach())


def train(model, X, y, epochs=200, device="cpu"):
    return 0.0
'''


def test_a_model_whose_gradients_stop_short_loses_exactly_those_points(a0_torch, tmp_path):
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "net.py").write_text(DETACHED)
    result = grade_one(a0_torch, folder, tmp_path / "out", force=True)
    failing = {t.name.split("::")[-1]: t.output for t in result.tests if t.outcome != "passed"}
    assert set(failing) == {"test_model_gradients_reach_every_parameter", "test_train_reaches_the_threshold"}
    assert "fc1.weight" in failing["test_model_gradients_reach_every_parameter"]
    assert result.score == 2


def test_the_students_torch_generator_is_seeded_per_test_where_torch_itself_seeds_each_process_at_random(a0_torch, tmp_path):
    """torch draws a fresh initial seed in every process: unseeded, an untrained model's accuracy varied between runs."""
    import torch

    from autograder.referee.plugin import seed_of_test

    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "net.py").write_text("import torch\n\nclass TinyNet:\n    def __init__(self, hidden=8):\n"
                                   "        raise ValueError(f'drew {torch.rand(1).item()!r}')\n")
    outputs = []
    for k in range(2):
        result = grade_one(a0_torch, folder, tmp_path / f"out{k}", force=True)
        outputs.append(next(t.output for t in result.tests if t.name.endswith("::test_model_output_shape")))
    torch.manual_seed(seed_of_test(0, "student", "public/test_public.py::test_model_output_shape"))
    expected = f"drew {torch.rand(1).item()!r}"
    assert all(expected in out for out in outputs), outputs


def test_a_tests_own_draws_are_seeded_from_its_id_too(a0_torch, tmp_path):
    """test_model_gradients_reach_every_parameter sends the student's model `torch.randn(6, 2)` drawn in the grader's process."""
    import torch

    from autograder.referee.plugin import seed_of_test

    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "net.py").write_text(DETACHED.replace("return self.fc2(", "raise ValueError(f'got {x.sum().item()!r}')\n        return self.fc2("))
    result = grade_one(a0_torch, folder, tmp_path / "out", force=True)
    output = next(t.output for t in result.tests if t.name.endswith("::test_model_gradients_reach_every_parameter"))
    torch.manual_seed(seed_of_test(0, "grader", "hidden/test_hidden.py::test_model_gradients_reach_every_parameter"))
    assert f"got {torch.randn(6, 2).sum().item()!r}" in output, output


def test_grade_refuses_cuda_before_grading_where_there_is_none(a0_torch, monkeypatch, tmp_path):
    import torch

    monkeypatch.setenv("AUTOGRADER_COURSE", str(FIXTURE_COURSE))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    out = tmp_path / "out"
    got = CliRunner().invoke(app, ["grade", "a0_torch", str(a0_torch.solution), "--out", str(out), "--device", "cuda"])
    assert got.exit_code != 0 and "no usable GPU" in got.output and not out.exists()
    got = CliRunner().invoke(app, ["grade", "a0_trivial", str(a0_torch.solution), "--out", str(out), "--device", "cuda"])
    assert got.exit_code != 0 and "does not allow a GPU" in got.output



def test_the_fork_server_preloads_torch_for_torch_assignments_only(a0_torch, trivial, tmp_path):
    import multiprocessing.forkserver

    from autograder.runners import local

    servers = []
    for assignment in (trivial, a0_torch, a0_torch, trivial):
        result = grade_one(assignment, assignment.solution, tmp_path / assignment.id, force=True)
        assert result.score == result.max_score
        servers.append((("torch" in local._PRELOADED), multiprocessing.forkserver._forkserver._forkserver_pid))
    assert [torch for torch, _ in servers] == [False, True, True, False]
    assert servers[1][1] == servers[2][1] and len({pid for _, pid in servers}) == 3  # restarted on each change only
