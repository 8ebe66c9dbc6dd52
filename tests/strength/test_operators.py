"""Mutation operators: each produces the mistake it names, and only where it applies."""

import libcst as cst
import pytest

from autograder.strength import operators as ops


def _changes(code: str, operator, function_code: str | None = None) -> list[tuple[str, str | None]]:
    """Apply an operator to every node of `code`; return (mutated code, mistake) pairs."""
    module = cst.parse_module(code)
    function = None
    if function_code:
        function = cst.parse_module(function_code).body[0]
    out = []

    class Visitor(cst.CSTVisitor):
        def on_visit(self, node):
            changes = operator(node, function) if operator in ops.CONTEXT_OPERATORS else operator(node)
            for change in changes:
                out.append((module.deep_replace(node, change.node).code.strip(), change.mistake))
            return True

    module.visit(Visitor())
    return out


def _codes(code, operator, function_code=None):
    return [c for c, _ in _changes(code, operator, function_code)]


def test_binary_swaps_operator_and_drops_operands():
    got = _codes("y = a * mask\n", ops.binary)
    assert got == ["y = a / mask", "y = a", "y = mask"]


def test_dropping_the_max_shift_is_named():
    got = _changes("s = x - x.max(axis=1, keepdims=True)\n", ops.binary)
    assert ("s = x", "no max-shift in softmax (overflow on large logits)") in got


def test_dropping_bias_correction_and_division_by_n_are_named():
    assert ("m_hat = m", "no bias correction") in _changes("m_hat = m / (1 - b1**t)\n", ops.binary)
    assert ("d = g", "gradient or loss not divided by N") in _changes("d = g / N\n", ops.binary)


def test_comparison_flips():
    assert _codes("k = x > 0\n", ops.compare) == ["k = x >= 0", "k = x < 0"]
    assert _codes("k = a is None\n", ops.compare) == ["k = a is not None"]


def test_constants_move_by_one():
    assert _codes("a = 0.9 * b + 2\n", ops.number) == ["a = 1.9 * b + 2", "a = 0.9 * b + 3"]


def test_reductions_change_axis_keepdims_and_method():
    got = _changes("m = x.mean(axis=0, keepdims=True)\n", ops.reduction)
    codes = [c for c, _ in got]
    assert "m = x.sum(axis=0, keepdims=True)" in codes
    assert "m = x.mean(keepdims=True)" in codes
    assert "m = x.mean(axis=1, keepdims=True)" in codes
    assert "m = x.mean(axis=0)" in codes
    assert ("m = x.sum(axis=0, keepdims=True)", "loss summed instead of averaged") in got


def test_reductions_in_torchs_spelling_change_dim_and_keepdim():
    codes = _codes("m = x.mean(dim=0, keepdim=True)\n", ops.reduction)
    assert {"m = x.mean(keepdim=True)", "m = x.mean(dim=1, keepdim=True)", "m = x.mean(dim=0)"} <= set(codes)


def test_transpose_dropped_is_named():
    assert _changes("dx = dout @ w.T\n", ops.reduction) == [("dx = dout @ w", "transposed weights")]


def test_swapped_arguments_and_dropped_copy():
    assert "y = f(b, a)" in _codes("y = f(a, b)\n", ops.arguments)
    assert _codes("y = f(a, a)\n", ops.arguments) == []  # swapping equal arguments changes nothing
    assert _codes("best = v.copy()\n", ops.arguments) == ["best = v"]


def test_range_off_by_one():
    assert _codes("for i in range(1, L):\n    pass\n", ops.ranges) == [
        "for i in range((1) + 1, L):\n    pass", "for i in range(1, (L) - 1):\n    pass"]


def test_hard_coded_default_from_setdefault_and_get():
    fn = 'def f(config):\n    config.setdefault("learning_rate", 1e-2)\n    return config["learning_rate"]\n'
    assert "y = 1e-2" in _codes('y = config["learning_rate"]\n', ops.hard_coded, fn)
    assert _codes('y = p.get("eps", 1e-5)\n', ops.hard_coded, "def f(p):\n    pass\n") == ["y = 1e-5"]


@pytest.mark.parametrize(("line", "droppable"), [
    ("config['velocity'] = v", True),   # state stored back
    ("v = mu * v - lr * dw", True),      # a re-assignment
    ("dx /= n", True),
    ("cache.append(x)", True),
    ("fresh = x + 1", False),            # a first assignment: dropping it is a certain NameError
])  # fmt: skip
def test_dropped_statements_only_where_a_student_could_forget_them(line, droppable):
    fn = f"def f(config, v, mu, lr, dw, dx, n, cache, x):\n    {line}\n"
    got = _codes(line + "\n", ops.statements, fn)
    assert ("pass" in got) == droppable


def test_in_place_update_only_of_the_functions_inputs():
    fn = "def sgd(w, dw, lr):\n    next_w = w - lr * dw\n"
    assert _changes("next_w = w - lr * dw\n", ops.statements, fn)[-1] == (
        "w -= lr * dw; next_w = w", "in-place update of an input array")
    local = "def f(a):\n    std = 2.0\n    w = std * a\n"
    assert not any("*=" in c for c in _codes("w = std * a\n", ops.statements, local))


def test_no_mutant_that_cannot_change_a_value():
    assert _codes("y = np.maximum(0, x)\n", ops.arguments) == []  # commutative
    from autograder.strength.mutants import _Collector

    module = cst.parse_module("m = a.astype(float, copy=False)\n")
    collector = _Collector()
    cst.MetadataWrapper(module).visit(collector)
    assert not any(isinstance(n, cst.Name) and n.value == "False" for n, _ in collector.found)
