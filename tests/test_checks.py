"""Tests for autograder.checks: every message path, gradients, forbidden imports."""
import sys
import textwrap

import numpy as np
import pytest

from autograder import checks
from autograder.checks import (
    allow_only_imports,
    assert_array,
    assert_close,
    assert_defined,
    assert_dtype,
    assert_keys,
    assert_sequence,
    assert_shape,
    assert_tuple,
    assert_within,
    block_imports,
    find_forbidden_imports,
    forbid_calls,
    forbid_imports,
    grad_check,
    install_import_blocker,
    numeric_gradient,
    rel_error,
)

# ---------------------------------------------------------------- rel_error

def test_rel_error_of_equal_arrays_is_zero():
    assert rel_error(np.ones(3), np.ones(3)) == 0.0


def test_rel_error_takes_the_worst_element():
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([1.0, 2.0, 3.3])
    assert rel_error(a, b) == pytest.approx(0.3 / 6.3)


def test_rel_error_floors_the_denominator_at_1e_8():
    assert rel_error(np.zeros(2), np.array([0.0, 1e-10])) == pytest.approx(1e-2)


def test_rel_error_of_empty_arrays_is_zero():
    assert rel_error(np.zeros((0, 3)), np.zeros((0, 3))) == 0.0


# ---------------------------------------------------------------- assert_defined / type / shape

def test_assert_defined_names_the_missing_value():
    with pytest.raises(AssertionError, match=r"^`dx` is None: you did not set it"):
        assert_defined("dx", None)


def test_assert_defined_accepts_zero():
    assert_defined("loss", 0.0)


def test_assert_shape_rejects_a_list_naming_its_type():
    with pytest.raises(AssertionError, match=r"`out` has the wrong type: got a list of 1 item, expected a NumPy array"):
        assert_shape("out", [[1.0, 2.0]], (1, 2))


def test_assert_shape_rejects_a_tuple_naming_its_type():
    with pytest.raises(AssertionError, match=r"got a tuple"):
        assert_shape("out", (np.zeros(2), None), (2,))


def test_assert_shape_reports_got_and_expected():
    with pytest.raises(AssertionError) as info:
        assert_shape("dw", np.zeros((3, 4)), (4, 3), hint="Did you forget a transpose?")
    assert str(info.value) == ("`dw` has the wrong shape: got (3, 4), expected (4, 3). "
                               "Did you forget a transpose?")


def test_assert_shape_uses_a_default_next_step_without_hint():
    with pytest.raises(AssertionError, match=re_escape(checks.SHAPE_HINT)):
        assert_shape("db", np.zeros(3), (4,))


def test_assert_shape_accepts_python_float_as_scalar():
    assert_shape("loss", 1.5, ())


def test_assert_shape_checks_none_first():
    with pytest.raises(AssertionError, match="is None"):
        assert_shape("dx", None, (2,))


# ---------------------------------------------------------------- assert_dtype

def test_assert_dtype_accepts_matching_kind():
    assert_dtype("x", np.zeros(2, dtype=np.float32), "f")


def test_assert_dtype_rejects_wrong_kind_in_words():
    with pytest.raises(AssertionError, match=r"got int64, expected a floating-point dtype"):
        assert_dtype("x", np.zeros(2, dtype=np.int64), "f")


def test_assert_dtype_rejects_wrong_exact_dtype():
    with pytest.raises(AssertionError, match=r"`W1` has the wrong dtype: got float32, expected float64\. Use"):
        assert_dtype("W1", np.zeros(2, dtype=np.float32), np.float64, hint="Use the model's dtype.")


def test_assert_dtype_checks_type_first():
    with pytest.raises(AssertionError, match="wrong type: got a str"):
        assert_dtype("x", "abc", "f")


# ---------------------------------------------------------------- assert_close

def test_assert_close_passes_within_tolerance():
    assert_close("dx", np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-9]))


def test_assert_close_reports_worst_index_error_values_tolerance_and_hint():
    expected = np.arange(12, dtype=np.float64).reshape(3, 4) + 1
    got = expected.copy()
    got[0, 1] *= 1.001
    got[2, 3] *= 1.5
    with pytest.raises(AssertionError) as info:
        assert_close("dx", got, expected, hint="Check the gradient through the max-pool mask.")
    message = str(info.value)
    assert message.startswith("`dx` differs from the reference: max relative error 2.0e-01 at index (2, 3)")
    assert "got 18, expected 12" in message
    assert message.endswith("tolerance 1e-07. Check the gradient through the max-pool mask.")


def test_assert_close_checks_shape_before_values():
    with pytest.raises(AssertionError, match="wrong shape: got \\(2,\\), expected \\(3,\\)"):
        assert_close("db", np.zeros(2), np.zeros(3))


def test_assert_close_reports_the_first_nan_index():
    got = np.zeros((2, 3))
    got[1, 2] = np.nan
    got[1, 0] = np.inf
    with pytest.raises(AssertionError) as info:
        assert_close("scores", got, np.zeros((2, 3)))
    assert str(info.value).startswith("`scores` is not finite: got inf at index (1, 0) (2 of 6 values")


def test_assert_close_reports_nan_by_name():
    with pytest.raises(AssertionError, match=r"got NaN at index 1 "):
        assert_close("b", np.array([0.0, np.nan]), np.zeros(2))


def test_assert_close_reports_a_non_finite_scalar():
    with pytest.raises(AssertionError, match="got inf at the scalar value"):
        assert_close("loss", float("inf"), 1.0)


def test_assert_close_rejects_object_arrays():
    with pytest.raises(AssertionError, match="wrong dtype: got object, expected numbers"):
        assert_close("x", np.array([None, 1.0]), np.zeros(2))


def test_assert_close_atol_ignores_tiny_absolute_differences():
    assert_close("g", np.array([1e-12, 1.0]), np.array([3e-12, 1.0]), atol=1e-10)


def test_assert_close_on_scalars_names_the_scalar():
    with pytest.raises(AssertionError, match="at the scalar value"):
        assert_close("loss", 2.0, 1.0)


# ---------------------------------------------------------------- assert_keys

def test_assert_keys_accepts_a_superset():
    assert_keys("grads", {"W1": 1, "b1": 2, "extra": 3}, ["W1", "b1"])


def test_assert_keys_lists_missing_and_present_keys():
    with pytest.raises(AssertionError) as info:
        assert_keys("grads", {"W1": 1}, ["W1", "b1", "W2"])
    assert str(info.value) == ("`grads` is missing keys: 'b1', 'W2'; it has 'W1'. "
                               "Use the key names given in the docstring.")


def test_assert_keys_rejects_a_non_dict():
    with pytest.raises(AssertionError, match="`history` has the wrong type: got a list of 2 items, expected a dict"):
        assert_keys("history", [1, 2], ["loss_history"])


# ---------------------------------------------------------------- assert_within

def test_assert_within_accepts_a_value_inside_the_band():
    assert_within("fraction dropped", 0.305, 0.3, atol=0.01)


def test_assert_within_reports_got_expected_and_band():
    with pytest.raises(AssertionError) as info:
        assert_within("fraction dropped", 0.5, 0.3, atol=0.01, hint="Drop with probability p.")
    assert str(info.value) == ("`fraction dropped` is out of range: got 0.5, expected 0.3 +/- 0.01. "
                               "Drop with probability p.")


def test_assert_within_rejects_nan():
    with pytest.raises(AssertionError, match="got nan"):
        assert_within("mean", float("nan"), 0.0, atol=1.0)


def test_assert_within_checks_shape_first():
    with pytest.raises(AssertionError, match="wrong shape: got \\(2,\\), expected \\(\\)"):
        assert_within("mean", np.zeros(2), 0.0, atol=1.0)


# ---------------------------------------------------------------- numeric_gradient / grad_check

def test_numeric_gradient_of_a_scalar_function():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    grad = numeric_gradient(lambda v: np.sum(v ** 3), x)
    np.testing.assert_allclose(grad, 3 * x ** 2, rtol=1e-8)


def test_numeric_gradient_with_upstream_dout():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    dout = rng.standard_normal((3, 2))
    grad = numeric_gradient(lambda v: v @ w, x, dout)
    np.testing.assert_allclose(grad, dout @ w.T, rtol=1e-8)


def test_numeric_gradient_restores_x():
    x = np.linspace(-1, 1, 6).reshape(2, 3)
    before = x.copy()
    numeric_gradient(lambda v: np.tanh(v), x, np.ones_like(x))
    np.testing.assert_array_equal(x, before)


def test_numeric_gradient_restores_x_when_f_raises():
    x = np.ones(2)

    def broken(v):
        raise ValueError("boom")

    with pytest.raises(ValueError):
        numeric_gradient(broken, x)
    np.testing.assert_array_equal(x, np.ones(2))


def test_numeric_gradient_refuses_float32():
    with pytest.raises(TypeError, match="float64"):
        numeric_gradient(lambda v: v.sum(), np.ones(2, dtype=np.float32))


def test_grad_check_passes_a_correct_gradient():
    x = np.array([0.3, -1.2, 2.0])
    grad_check("dx", np.cos(x), lambda v: np.sin(v), x, np.ones(3))


def test_grad_check_names_the_wrong_index():
    x = np.array([[0.3, -1.2], [2.0, 0.7]])
    analytic = 2 * x
    analytic[1, 0] += 0.5
    with pytest.raises(AssertionError) as info:
        grad_check("dw", analytic, lambda v: np.sum(v ** 2), x, hint="Check the power rule.")
    message = str(info.value)
    assert message.startswith("`dw` differs from the numeric gradient: max relative error")
    assert "at index (1, 0)" in message
    assert message.endswith("tolerance 1e-06. Check the power rule.")


def test_grad_check_ignores_rounding_noise_around_a_zero_gradient():
    x = np.array([0.5, -0.25])
    grad_check("db", np.array([1e-12, -5e-17]), lambda v: 3.0 + 0 * v.sum(), x)


def test_grad_check_atol_zero_is_strict():
    x = np.array([0.5])
    with pytest.raises(AssertionError, match="max relative error"):
        grad_check("dx", np.array([1e-12]), lambda v: 0 * v.sum(), x, atol=0.0)


# ---------------------------------------------------------------- forbid_imports

def write(folder, name, source):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return path


def re_escape(text):
    import re
    return re.escape(text)


def test_forbid_imports_catches_import_torch(tmp_path):
    write(tmp_path, "layers.py", "import numpy as np\n\nimport torch\n")
    with pytest.raises(AssertionError) as info:
        forbid_imports(tmp_path)
    assert str(info.value) == ("layers.py:3 imports `torch`; this assignment is NumPy only. "
                               "Remove the import and write it with NumPy.")


def test_forbid_imports_catches_submodule_import(tmp_path):
    write(tmp_path, "a.py", "import torch.nn.functional as F\n")
    assert [h.module for h in find_forbidden_imports(tmp_path)] == ["torch.nn.functional"]


def test_forbid_imports_catches_from_sklearn_import(tmp_path):
    write(tmp_path, "mlp.py", "from sklearn import neural_network\n")
    with pytest.raises(AssertionError, match=r"^mlp.py:1 imports `sklearn`;"):
        forbid_imports(tmp_path)


def test_forbid_imports_catches_dunder_import(tmp_path):
    write(tmp_path, "optim.py", "x = 1\nt = __import__('torch')\n")
    with pytest.raises(AssertionError, match=r"^optim.py:2 imports `torch`;"):
        forbid_imports(tmp_path)


def test_forbid_imports_catches_importlib_import_module(tmp_path):
    write(tmp_path, "train.py", """\
        import importlib

        def go():
            return importlib.import_module("jax")
        """)
    with pytest.raises(AssertionError, match=r"^train.py:4 imports `jax`;"):
        forbid_imports(tmp_path)


def test_forbid_imports_catches_bare_import_module(tmp_path):
    write(tmp_path, "t.py", "from importlib import import_module\nm = import_module(name='tensorflow')\n")
    assert [(h.line, h.module) for h in find_forbidden_imports(tmp_path)] == [(2, "tensorflow")]


def test_forbid_imports_lists_every_hit_in_nested_files(tmp_path):
    write(tmp_path, "a.py", "import torch\n")
    write(tmp_path, "pkg/b.py", "import jax.numpy as jnp\n")
    hits = find_forbidden_imports(tmp_path)
    assert [(h.file, h.module) for h in hits] == [("a.py", "torch"), ("pkg/b.py", "jax.numpy")]


def test_forbid_imports_allows_numpy_and_lookalikes(tmp_path):
    write(tmp_path, "ok.py", """\
        import numpy as np
        import torchvision_like_name_is_not_torch
        from . import layers
        from mylib import torch
        getattr(np, "import_module", None)
        """)
    forbid_imports(tmp_path)


def test_allow_only_imports_accepts_the_allowed_packages_and_their_submodules(tmp_path):
    write(tmp_path, "conv.py", """\
        from __future__ import annotations
        import numpy as np
        from numpy.lib.stride_tricks import sliding_window_view
        import math
        """)
    allow_only_imports(tmp_path, ("numpy", "math", "__future__"), hint="NumPy only.")


@pytest.mark.parametrize("source, module", [
    ("import sys\n", "sys"),
    ("import importlib\n", "importlib"),
    ("import model\n", "model"),
    ("from . import model\n", ".model"),
    ("from ..pkg import x\n", "..pkg"),
    ("import numpyx\n", "numpyx"),
    ("x = __import__('torch')\n", "torch"),
])
def test_allow_only_imports_names_every_other_import(tmp_path, source, module):
    write(tmp_path, "conv.py", source)
    with pytest.raises(AssertionError, match=re_escape(f"conv.py:1 imports `{module}`; only numpy, math may be imported here; NumPy only.")):
        allow_only_imports(tmp_path, ("numpy", "math"), hint="NumPy only.")


def test_forbid_calls_passes_nothing_and_names_what_was_called():
    forbid_calls("your code", [], hint="h")
    with pytest.raises(AssertionError, match=re_escape("your code called `conv2d`, `numpy`; NumPy only.")):
        forbid_calls("your code", ["numpy", "conv2d", "numpy"], hint="NumPy only.")
    with pytest.raises(AssertionError, match="and 2 more"):
        forbid_calls("your code", [f"f{i}" for i in range(10)], hint="h")


def test_forbid_imports_uses_the_callers_forbidden_list_and_hint(tmp_path):
    write(tmp_path, "a.py", "import scipy.optimize\n")
    with pytest.raises(AssertionError, match=r"^a.py:1 imports `scipy.optimize`; use your own optimizer\.$"):
        forbid_imports(tmp_path, forbidden=["scipy"], hint="use your own optimizer.")


def test_forbid_imports_skips_files_that_do_not_parse(tmp_path):
    write(tmp_path, "broken.py", "def (:\n")
    forbid_imports(tmp_path)


# ---------------------------------------------------------------- block_imports

def test_block_imports_raises_import_error_with_a_message(tmp_path, monkeypatch):
    write(tmp_path, "student_mod_ag.py", "import numpy\nimport fake_forbidden_pkg_ag\n")
    write(tmp_path, "fake_forbidden_pkg_ag.py", "")
    monkeypatch.syspath_prepend(str(tmp_path))
    with block_imports(["fake_forbidden_pkg_ag"]), pytest.raises(ImportError) as info:
        import student_mod_ag  # noqa: F401
    assert str(info.value) == ("student_mod_ag.py:2 imports `fake_forbidden_pkg_ag`; this assignment "
                               "is NumPy only. Remove the import and write it with NumPy.")
    assert info.value.name == "fake_forbidden_pkg_ag"
    sys.modules.pop("student_mod_ag", None)


def test_block_imports_is_removed_after_the_block(tmp_path, monkeypatch):
    write(tmp_path, "fake_allowed_later_ag.py", "VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with block_imports(["fake_allowed_later_ag"]) as finder:
        assert sys.meta_path[0] is finder
    import fake_allowed_later_ag
    assert fake_allowed_later_ag.VALUE == 1
    assert finder not in sys.meta_path
    sys.modules.pop("fake_allowed_later_ag", None)


def test_block_imports_blocks_submodules(tmp_path, monkeypatch):
    write(tmp_path, "fake_blocked_pkg_ag/__init__.py", "")
    write(tmp_path, "fake_blocked_pkg_ag/sub.py", "")
    monkeypatch.syspath_prepend(str(tmp_path))
    with block_imports(["fake_blocked_pkg_ag"]), pytest.raises(ImportError, match="imports `fake_blocked_pkg_ag`;"):
        __import__("fake_blocked_pkg_ag.sub")
    assert "fake_blocked_pkg_ag" not in sys.modules


def test_asking_whether_a_blocked_module_exists_does_not_break_the_asker(tmp_path, monkeypatch):
    import importlib.util

    write(tmp_path, "fake_probed_pkg_ag/__init__.py", "")
    monkeypatch.syspath_prepend(str(tmp_path))
    with block_imports(["fake_probed_pkg_ag", "fake_absent_pkg_ag"]):
        spec = importlib.util.find_spec("fake_probed_pkg_ag")  # as torch asks about sklearn or tensorflow
        assert spec is not None and spec.origin is None
        assert importlib.util.find_spec("fake_absent_pkg_ag") is None  # not installed: it says so
        with pytest.raises(ImportError, match="imports `fake_probed_pkg_ag`"):
            import fake_probed_pkg_ag  # noqa: F401


def test_a_torch_optimizer_steps_where_sklearn_and_tensorflow_are_forbidden():
    torch = pytest.importorskip("torch")
    param = torch.nn.Parameter(torch.ones(2))
    param.grad = torch.ones(2)
    with block_imports(["sklearn", "tensorflow", "jax"]):
        torch.optim.SGD([param], lr=0.5).step()
    assert torch.equal(param.detach(), torch.full((2,), 0.5))


def test_a_blocker_with_roots_refuses_the_submissions_imports_only(tmp_path, monkeypatch):
    sub, lib = tmp_path / "submission", tmp_path / "lib"
    write(sub, "student_ag_roots.py", "def sneak():\n    exec('import fake_rooted_pkg_ag')\n")
    write(lib, "fake_rooted_pkg_ag.py", "VALUE = 2\n")
    write(lib, "grader_ag_roots.py", "def load():\n    import fake_rooted_pkg_ag\n    return fake_rooted_pkg_ag.VALUE\n")
    monkeypatch.syspath_prepend(str(sub))
    monkeypatch.syspath_prepend(str(lib))
    finder = install_import_blocker(["fake_rooted_pkg_ag"], roots=[str(sub)])
    try:
        import student_ag_roots

        with pytest.raises(ImportError, match="imports `fake_rooted_pkg_ag`"):
            student_ag_roots.sneak()  # exec'd by the submission: its frame is on the stack
        import grader_ag_roots

        assert grader_ag_roots.load() == 2  # the tests' own import goes through
    finally:
        sys.meta_path.remove(finder)
        for name in ("student_ag_roots", "grader_ag_roots", "fake_rooted_pkg_ag"):
            sys.modules.pop(name, None)


def test_block_imports_lets_other_modules_through():
    with block_imports():
        import json  # noqa: F401


# ---------------------------------------------------------------- structure before values


class Remote:
    """Stands in for a proxy of an object in the submission's process (see RemoteObject)."""

    remote_type_name = property(lambda self: "map")

    def __len__(self):
        raise AssertionError("a structural check must not ask a proxy for anything")

    __iter__ = __array__ = __eq__ = __len__


def test_assert_array_returns_the_value_as_an_array():
    out = assert_array("out", np.ones((2, 3)), shape=(2, None), dtype_kind="f")
    assert isinstance(out, np.ndarray) and out.shape == (2, 3)
    assert assert_array("loss", 1.5, shape=()).shape == ()


@pytest.mark.parametrize("value, message", [
    (None, "`y_pred` is None: you did not set it"),
    (Remote(), "`y_pred` has the wrong type: got a `map` object, expected a NumPy array"),
    ([1, 2], "`y_pred` has the wrong type: got a list of 2 items, expected a NumPy array"),
    (np.zeros((3_400_000, 1)), "`y_pred` has the wrong shape: got (3400000, 1), expected (1000,)"),
    (np.array(["a"] * 1000), "`y_pred` has the wrong dtype: got <U1, expected a numeric dtype"),
])
def test_assert_array_reports_the_first_structural_problem(value, message):
    with pytest.raises(AssertionError, match=re_escape(message)):
        assert_array("y_pred", value, shape=(1000,))


def test_assert_array_names_any_length_axes_and_caps_the_size():
    with pytest.raises(AssertionError, match=re_escape("got (2,), expected (any, 3)")):
        assert_array("x", np.zeros(2), shape=(None, 3))
    with pytest.raises(AssertionError, match=re_escape("`x` is too large: got 11 values (shape (11,)), expected at most 10")):
        assert_array("x", np.zeros(11), max_size=10)


def test_assert_tuple_returns_the_parts():
    out, cache = assert_tuple("affine_forward", [1, 2], ("out", "cache"))
    assert (out, cache) == (1, 2)


@pytest.mark.parametrize("value, message", [
    (None, "`affine_forward` returned None, expected a tuple (out, cache). Return every value"),
    ((1, 2, 3), "`affine_forward` returned 3 values, expected 2: a tuple (out, cache)."),
    (Remote(), "`affine_forward` returned a `map` object, expected a tuple (out, cache). Return a list, not a lazy `map`"),
    (np.zeros(2), "`affine_forward` returned a numpy.ndarray, expected a tuple (out, cache)."),
])
def test_assert_tuple_says_what_came_back_and_what_was_expected(value, message):
    with pytest.raises(AssertionError, match=re_escape(message)):
        assert_tuple("affine_forward", value, ("out", "cache"))


def test_assert_sequence_accepts_lists_tuples_and_vectors():
    assert assert_sequence("h", [1, 2], length=2) == [1, 2]
    assert assert_sequence("h", np.arange(3), length=3) == [0, 1, 2]


@pytest.mark.parametrize("value, message", [
    (map(str, range(3)), "`history` has the wrong type: got a map, expected a list. Return a list, not a lazy `map`"),
    (Remote(), "`history` has the wrong type: got a `map` object, expected a list. Return a list, not a lazy `map`"),
    ([1, 2], "`history` has the wrong length: got 2, expected 3."),
    (np.zeros((3, 1)), "`history` has the wrong type: got a numpy.ndarray, expected a list."),
])
def test_assert_sequence_reports_type_then_length(value, message):
    with pytest.raises(AssertionError, match=re_escape(message)):
        assert_sequence("history", value, length=3)


def test_assert_keys_lists_at_most_twenty_keys():
    with pytest.raises(AssertionError) as info:
        assert_keys("params", {f"k{i}": i for i in range(1000)}, ["W1"])
    assert "'k19' and 980 more" in str(info.value) and "'k20'" not in str(info.value)


def test_numeric_gradient_checks_the_functions_output_before_arithmetic():
    x = np.zeros(3)
    with pytest.raises(AssertionError, match=re_escape("has the wrong shape: got (3400000, 1), expected (3,)")):
        numeric_gradient(lambda v: np.zeros((3_400_000, 1)), x, dout=np.ones(3))
    with pytest.raises(AssertionError, match="expected at most 1. Return the loss as a single number."):
        numeric_gradient(lambda v: np.zeros(2), x)


def test_grad_check_checks_the_analytic_gradient_before_evaluating_f():
    calls = []
    with pytest.raises(AssertionError, match=re_escape("`dx` has the wrong shape: got (3, 1), expected (3,)")):
        grad_check("dx", np.zeros((3, 1)), lambda v: calls.append(v) or 0.0, np.zeros(3))
    assert calls == []
