"""Submitted weights: `load_weights` (weights_only, structure before values), the spec field, staging, and grading end to end."""

import os
import pickle
import shutil
import subprocess
import sys
import zipfile

import pytest
import yaml

from autograder.course import find_assignment
from autograder.grade import grade_one
from autograder.intake.staging import stage
from autograder.spec import SpecError, load_spec
from autograder.weights import MAX_LISTED, WeightsError, load_weights
from tests.conftest import FIXTURE_COURSE

torch = pytest.importorskip("torch")

SHAPES = {"fc1.weight": (8, 2), "fc1.bias": (8,), "fc2.weight": (2, 8), "fc2.bias": (2,)}
SAVE_HINT = 'torch.save(model.state_dict(), "model.pt")'
WEIGHTS_TEST = "test_weights_classify_xor"


class Evil:
    """A pickle that would leave a marker file behind if anything ever unpickled it with code execution."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture(scope="module")
def a0_weights():
    return find_assignment("a0_weights", FIXTURE_COURSE)


def state(**changes):
    torch.manual_seed(0)
    good = {k: torch.randn(s) for k, s in SHAPES.items()}
    return {k: v for k, v in (good | changes).items() if v is not None}


def saved(tmp_path, obj, name="model.pt"):
    path = tmp_path / name
    torch.save(obj, path)
    return path


# ---------------------------------------------------------------- load_weights


def test_a_good_state_dict_loads_as_detached_contiguous_cpu_tensors_in_the_expected_order(tmp_path):
    original = state()
    original["fc2.weight"] = original["fc2.weight"].t().contiguous().t()  # a transposed view: not contiguous
    loaded = load_weights(saved(tmp_path, {k: original[k] for k in reversed(list(original))}), SHAPES)
    assert list(loaded) == list(SHAPES)
    for key, value in loaded.items():
        assert torch.equal(value, original[key]) and value.is_contiguous() and value.device.type == "cpu"
        assert not value.requires_grad and value.grad_fn is None


def test_the_solution_weights_load_into_the_solution_model(a0_weights):
    sys.path.insert(0, str(a0_weights.solution))
    try:
        from net import TinyNet
    finally:
        sys.path.remove(str(a0_weights.solution))
    model = TinyNet()
    model.load_state_dict(load_weights(a0_weights.solution / "model.pt", SHAPES, max_params=42))
    X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    assert model(X).argmax(1).tolist() == [0, 1, 1, 0]


def test_parameters_and_a_module_state_dict_are_accepted(tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(2, 3))
    path = saved(tmp_path, {k: torch.nn.Parameter(v) for k, v in model.state_dict().items()})
    loaded = load_weights(path, {"0.weight": (3, 2), "0.bias": (3,)})
    assert type(loaded["0.weight"]) is torch.Tensor and not loaded["0.weight"].requires_grad


@pytest.mark.parametrize("wrapper", ["state_dict", "model_state_dict"])
def test_a_checkpoint_wrapping_the_state_dict_is_accepted(tmp_path, wrapper):
    original = state()
    loaded = load_weights(saved(tmp_path, {wrapper: original, "epoch": 12, "lr": 0.1}), SHAPES)
    assert all(torch.equal(loaded[k], original[k]) for k in SHAPES)


def test_a_file_you_did_not_submit_is_named_with_how_to_save_it(tmp_path):
    with pytest.raises(WeightsError, match="You did not submit `model.pt`") as got:
        load_weights(tmp_path / "model.pt", SHAPES)
    assert SAVE_HINT in str(got.value) and "beside your modules" in str(got.value)


def test_a_malicious_pickle_is_refused_and_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    path = saved(tmp_path, {"fc1.weight": Evil(marker)})
    with pytest.raises(WeightsError, match=r"holds something other than tensors \(`posix.system`\)") as got:
        load_weights(path, SHAPES)
    assert "weights_only=True" in str(got.value) and SAVE_HINT in str(got.value)
    assert not marker.exists()


def test_a_bare_malicious_pickle_is_refused_before_it_is_unpickled(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.pt"
    path.write_bytes(pickle.dumps(Evil(marker)))
    with pytest.raises(WeightsError, match="plain pickle or in PyTorch's old format"):
        load_weights(path, SHAPES)
    assert not marker.exists()


def test_an_object_of_another_library_is_refused_by_its_name(tmp_path):
    import numpy as np

    with pytest.raises(WeightsError, match=r"other than tensors \(`numpy\..*`\)"):
        load_weights(saved(tmp_path, state(**{"fc1.bias": np.zeros(8)})), SHAPES)


@pytest.mark.filterwarnings("ignore:Validating sparse tensor invariants")
@pytest.mark.parametrize(
    ("obj", "says"),
    [
        (state(**{"fc1.bias": 3}), "`fc1.bias` is a int, not a tensor"),
        (state(**{"fc1.bias": [0.0] * 8}), "`fc1.bias` is a list, not a tensor"),
        (state(**{"fc1.bias": torch.zeros(8, dtype=torch.long)}), "`fc1.bias` is a tensor of torch.int64, not of floating-point numbers"),
        (state(**{"fc1.bias": torch.zeros(8).to_sparse()}), "`fc1.bias` is a torch.sparse_coo tensor"),
        (state(**{"fc1.bias": torch.zeros(1).expand(8)}), "`fc1.bias` is a tensor that holds fewer values than its shape"),
        (state() | {3: torch.zeros(1)}, "`3` is named by a non-string key"),
        (torch.zeros(3), "holds a Tensor, expected a state_dict"),
        ([state()], "holds a list, expected a state_dict"),
    ],
)
def test_anything_but_a_dict_of_floating_point_tensors_is_refused_naming_the_entry(tmp_path, obj, says):
    with pytest.raises(WeightsError, match="`model.pt`") as got:
        load_weights(saved(tmp_path, obj), SHAPES)
    assert says in str(got.value) and SAVE_HINT in str(got.value)


def test_missing_unexpected_and_misshapen_entries_are_each_listed_with_the_expected_shape(tmp_path):
    obj = state(**{"fc2.bias": None, "fc1.weight": torch.zeros(16, 2), "fc1.bias": torch.zeros(8, 1), "layer3.weight": torch.zeros(2, 2)})
    with pytest.raises(WeightsError) as got:
        load_weights(saved(tmp_path, obj), SHAPES)
    message = str(got.value)
    assert "`model.pt` does not match the model the test expects" in message
    assert "missing `fc2.bias` (2,)" in message and "unexpected `layer3.weight` (2, 2)" in message
    assert "`fc1.weight` is (16, 2), expected (8, 2)" in message and "`fc1.bias` is (8, 1), expected (8,)" in message
    assert "layer names and sizes" in message


def test_long_lists_of_problems_are_cut_short(tmp_path):
    obj = state() | {f"extra{i}": torch.zeros(1) for i in range(MAX_LISTED + 5)}
    with pytest.raises(WeightsError, match="and 5 more"):
        load_weights(saved(tmp_path, obj), SHAPES)


def test_any_size_axes_are_bounded_by_the_parameter_budget(tmp_path):
    flexible = {"fc1.weight": (None, 2), "fc1.bias": (None,), "fc2.weight": (2, None), "fc2.bias": (2,)}
    wide = {"fc1.weight": torch.zeros(64, 2), "fc1.bias": torch.zeros(64), "fc2.weight": torch.zeros(2, 64), "fc2.bias": torch.zeros(2)}
    assert len(load_weights(saved(tmp_path, wide), flexible, max_params=322)) == 4
    with pytest.raises(WeightsError, match="holds 322 parameters; at most 100 are allowed. Use a smaller model"):
        load_weights(saved(tmp_path, wide), flexible, max_params=100)


def test_non_finite_values_are_named(tmp_path):
    with pytest.raises(WeightsError, match="NaN or infinite values in `fc2.bias`"):
        load_weights(saved(tmp_path, state(**{"fc2.bias": torch.tensor([0.0, float("nan")])})), SHAPES)


def test_a_truncated_or_corrupt_file_is_refused_as_damaged(tmp_path):
    data = saved(tmp_path, state()).read_bytes()
    for name, content in {"cut.pt": data[: len(data) // 2], "noise.pt": b"\x00\xff not a model" * 40, "empty.pt": b""}.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(WeightsError, match=f"`{name}` is not a file written by torch.save, or it is damaged or cut short"):
            load_weights(tmp_path / name, SHAPES)
    broken = tmp_path / "broken.pt"
    with zipfile.ZipFile(broken, "w") as zf:
        zf.writestr("archive/data.pkl", b"\x80\x02garbage")
    with pytest.raises(WeightsError, match="`broken.pt` could not be loaded"):
        load_weights(broken, SHAPES)


def test_the_old_torch_format_is_refused_with_how_to_save(tmp_path):
    path = tmp_path / "model.pt"
    torch.save(state(), path, _use_new_zipfile_serialization=False)
    with pytest.raises(WeightsError, match="old format"):
        load_weights(path, SHAPES)


def test_a_file_over_the_cap_is_refused_before_it_is_read(tmp_path):
    path = saved(tmp_path, {"w": torch.zeros(100_000)})
    with pytest.raises(WeightsError, match=r"`model.pt` is 0.4 MiB; at most 0.125 MiB is accepted"):
        load_weights(path, {"w": (100_000,)}, max_bytes=2**17)


def test_an_archive_that_unpacks_past_the_cap_is_refused(tmp_path):
    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/data/0", b"\0" * 2**20)
    assert path.stat().st_size < 2**14
    with pytest.raises(WeightsError, match="unpacks to 1.0 MiB"):
        load_weights(path, SHAPES, max_bytes=2**16)


def test_a_link_or_a_pipe_is_refused_without_following_or_blocking(tmp_path):
    secret = saved(tmp_path, state(), name="elsewhere.pt")
    (tmp_path / "model.pt").symlink_to(secret)
    with pytest.raises(WeightsError, match="it is a link"):
        load_weights(tmp_path / "model.pt", SHAPES)
    os.mkfifo(tmp_path / "pipe.pt")
    with pytest.raises(WeightsError, match="not a regular file"):
        load_weights(tmp_path / "pipe.pt", SHAPES)


def test_importing_the_module_does_not_import_torch():
    code = "import sys, autograder.weights; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


# ---------------------------------------------------------------- the spec


def _spec_with(tmp_path, **change):
    raw = yaml.safe_load((FIXTURE_COURSE / "assignments" / "a0_weights" / "assignment.yaml").read_text()) | change
    (tmp_path / "assignment.yaml").write_text(yaml.safe_dump(raw))
    return load_spec(tmp_path)


def test_the_spec_declares_weight_files_and_their_cap(a0_weights, tmp_path):
    assert a0_weights.spec.weight_files == ["model.pt"] and a0_weights.spec.max_weights_mb == 1
    assert _spec_with(tmp_path, weight_files=["a.pth", "b-2.pt"]).weight_files == ["a.pth", "b-2.pt"]
    assert load_spec(FIXTURE_COURSE / "assignments" / "a0_torch").weight_files == []


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"weight_files": ["weights/model.pt"]}, "plain file names ending in .pt or .pth"),
        ({"weight_files": ["model.pkl"]}, "plain file names ending in .pt or .pth"),
        ({"weight_files": [".pt"]}, "plain file names ending in .pt or .pth"),
        ({"weight_files": ["../model.pt"]}, "plain file names ending in .pt or .pth"),
        ({"weight_files": ["model.pt", "model.pt"]}, "unique"),
        ({"framework": "numpy"}, "`weight_files` are loaded with torch"),
        ({"max_weights_mb": 51}, "max_weights_mb"),
        ({"max_weights_mb": 0}, "max_weights_mb"),
    ],
)
def test_a_malformed_weights_field_is_a_spec_error_naming_it(tmp_path, change, says):
    with pytest.raises(SpecError, match=says):
        _spec_with(tmp_path, **change)


# ---------------------------------------------------------------- staging


def _submission(tmp_path, weights=b"", name="model.pt", where=""):
    folder = tmp_path / "sub"
    (folder / where).mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURE_COURSE / "solutions" / "a0_weights" / "net.py", folder / "net.py")
    if weights:
        (folder / where / name).write_bytes(weights)
    return folder


def test_a_declared_weights_file_is_staged_beside_the_modules(a0_weights, tmp_path):
    data = (a0_weights.solution / "model.pt").read_bytes()
    staged = stage(_submission(tmp_path, data), a0_weights.spec, tmp_path / "staged")
    assert (staged.path / "model.pt").read_bytes() == data and (staged.path / "net.py").is_file() and staged.notes == []
    archive = tmp_path / "alice.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(a0_weights.solution / "net.py", "handout/net.py")
        zf.writestr("handout/model.pt", data)
    assert (stage(archive, a0_weights.spec, tmp_path / "from-zip").path / "model.pt").read_bytes() == data


def test_an_undeclared_weights_file_is_left_as_any_other_file(a0_weights, tmp_path):
    big = b"\0" * (2 * 2**20)  # over a0_weights' 1 MiB cap, which applies to declared files only
    staged = stage(_submission(tmp_path, big, name="other.pt"), a0_weights.spec, tmp_path / "staged")
    assert staged.notes == [] and not (staged.path / "model.pt").exists()


def test_an_oversize_weights_file_is_left_out_with_a_note_and_the_modules_are_staged(a0_weights, tmp_path):
    staged = stage(_submission(tmp_path, b"\0" * (3 * 2**19)), a0_weights.spec, tmp_path / "staged")
    assert (staged.path / "net.py").is_file() and not (staged.path / "model.pt").exists()
    assert staged.notes == ["`model.pt` was left out: it is 1.5 MiB, over the 1 MiB allowed for weights; the tests that load it fail, the others are graded"]


def test_a_weights_file_in_another_folder_is_noted(a0_weights, tmp_path):
    staged = stage(_submission(tmp_path, b"x", where="checkpoints"), a0_weights.spec, tmp_path / "staged")
    assert not (staged.path / "model.pt").exists()
    assert staged.notes == ["`checkpoints/model.pt` is not beside your modules, so the tests will not find it; put `model.pt` next to net.py"]


# ---------------------------------------------------------------- grading end to end


def _failing(result):
    return {t.name.split("::")[-1]: t.output for t in result.tests if t.outcome != "passed"}


def test_the_solution_and_its_weights_score_full_marks(a0_weights, tmp_path):
    result = grade_one(a0_weights, a0_weights.solution, tmp_path / "out", force=True)
    assert (result.status, result.score, result.max_score) == ("graded", 3, 3), _failing(result)
    assert result.metadata["weights"] == {"file": "model.pt", "params": 42} and result.metadata["accuracy"] == 1.0


def test_a_submission_without_weights_loses_only_the_weights_test(a0_weights, tmp_path):
    result = grade_one(a0_weights, _submission(tmp_path), tmp_path / "out", force=True)
    failing = _failing(result)
    assert set(failing) == {WEIGHTS_TEST} and result.score == 1
    assert failing[WEIGHTS_TEST].startswith("You did not submit `model.pt`") and SAVE_HINT in failing[WEIGHTS_TEST]


def test_a_malicious_weights_file_loses_only_its_test_and_never_runs(a0_weights, tmp_path):
    marker = tmp_path / "pwned"
    folder = _submission(tmp_path)
    torch.save({"fc1.weight": Evil(marker)}, folder / "model.pt")
    result = grade_one(a0_weights, folder, tmp_path / "out", force=True)
    failing = _failing(result)
    assert set(failing) == {WEIGHTS_TEST} and result.score == 1 and not marker.exists()
    assert [t.outcome for t in result.tests if t.name.endswith(WEIGHTS_TEST)] == ["failed"]
    assert "holds something other than tensors (`posix.system`)" in failing[WEIGHTS_TEST] and SAVE_HINT in failing[WEIGHTS_TEST]


def test_an_oversize_weights_file_is_noted_and_the_rest_is_graded(a0_weights, tmp_path):
    result = grade_one(a0_weights, _submission(tmp_path, b"\0" * (3 * 2**19)), tmp_path / "out", force=True)
    assert set(_failing(result)) == {WEIGHTS_TEST} and result.score == 1
    assert "over 1 MiB and left out" in _failing(result)[WEIGHTS_TEST]
    assert any("`model.pt` was left out" in note for note in result.metadata["notes"])


UNDECLARED_TEST = '''
def test_weights_of_an_undeclared_file(weights):
    weights("other.pt", {"w": (1,)})
'''


def test_loading_a_file_the_spec_does_not_declare_is_a_grader_error(a0_weights, tmp_path):
    tests = tmp_path / "tests" / "hidden"
    tests.mkdir(parents=True)
    (tests / "test_undeclared.py").write_text(UNDECLARED_TEST)
    result = grade_one(a0_weights, a0_weights.solution, tmp_path / "out", tests=[tests], force=True)
    assert [t.outcome for t in result.tests] == ["grader error"]
    log = "".join(p.read_text() for p in (tmp_path / "out" / "logs").glob("*.stderr.txt"))
    assert "does not declare (weight_files: ['model.pt'])" in log
