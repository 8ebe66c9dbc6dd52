"""Mutation operators on libcst nodes: generic ones, and the deep-learning mistakes students really make.

Each operator takes a node and yields `Change`s: a replacement node, the operator's name and,
for a known deep-learning mistake, what the student got wrong. libcst keeps every byte of
the source that is not replaced, so a mutant's diff is the mistake and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import libcst as cst
from libcst import MaybeSentinel


@dataclass(frozen=True)
class Change:
    """One way to mutate a node."""

    operator: str
    node: cst.CSTNode
    mistake: str | None = None  # a deep-learning mistake from the catalogue, or None for a generic mutation


BINARY_SWAPS: dict[type, type] = {
    cst.Add: cst.Subtract, cst.Subtract: cst.Add, cst.Multiply: cst.Divide, cst.Divide: cst.Multiply,
    cst.FloorDivide: cst.Divide, cst.Power: cst.Multiply, cst.MatrixMultiply: cst.Multiply,
}  # fmt: skip
AUG_SWAPS: dict[type, type] = {
    cst.AddAssign: cst.SubtractAssign, cst.SubtractAssign: cst.AddAssign,
    cst.MultiplyAssign: cst.DivideAssign, cst.DivideAssign: cst.MultiplyAssign,
}  # fmt: skip
COMPARE_SWAPS: dict[type, tuple[type, ...]] = {
    cst.GreaterThan: (cst.GreaterThanEqual, cst.LessThan), cst.GreaterThanEqual: (cst.GreaterThan, cst.LessThan),
    cst.LessThan: (cst.LessThanEqual, cst.GreaterThan), cst.LessThanEqual: (cst.LessThan, cst.GreaterThan),
    cst.Equal: (cst.NotEqual,), cst.NotEqual: (cst.Equal,), cst.Is: (cst.IsNot,), cst.IsNot: (cst.Is,),
    cst.In: (cst.NotIn,), cst.NotIn: (cst.In,),
}  # fmt: skip
METHOD_SWAPS = {
    "mean": "sum", "sum": "mean", "max": "min", "min": "max", "maximum": "minimum", "minimum": "maximum",
    "argmax": "argmin", "argmin": "argmax", "zeros_like": "ones_like", "ones_like": "zeros_like",
    "zeros": "ones", "ones": "zeros", "var": "std", "std": "var", "exp": "log", "log": "exp",
}  # fmt: skip
AXIS_SWAPS = {"0": "1", "1": "0", "-1": "0"}
COMMUTATIVE = {"maximum", "minimum", "add", "multiply", "logical_and", "logical_or", "hypot"}  # swapping their arguments changes nothing
NO_EFFECT_KEYWORDS = {"copy", "dtype", "out", "casting", "order", "strict"}  # flipping `copy=False` does not change a value


def _same_op(new: type, old: cst.CSTNode) -> cst.CSTNode:
    return new(whitespace_before=old.whitespace_before, whitespace_after=old.whitespace_after)


def _text(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def _call_name(node: cst.CSTNode) -> str | None:
    """Return the called name: `np.mean(...)` and `x.mean(...)` both give `mean`."""
    if isinstance(node, cst.Call):
        func = node.func
        if isinstance(func, cst.Attribute):
            return func.attr.value
        if isinstance(func, cst.Name):
            return func.value
    return None


def _binary_mistake(node: cst.BinaryOperation, kept: cst.BaseExpression) -> str | None:
    """Name the deep-learning mistake that dropping one operand of `node` makes, if it is one."""
    op, right = node.operator, _text(node.right)
    if isinstance(op, cst.Subtract) and _call_name(node.right) in {"max", "amax"}:
        return "no max-shift in softmax (overflow on large logits)"
    if isinstance(op, cst.Divide) and "**" in right:
        return "no bias correction"
    if isinstance(op, cst.Divide) and right in {"N", "n", "batch_size", "len(x)", "x.shape[0]"}:
        return "gradient or loss not divided by N"
    if isinstance(op, cst.Multiply) and "mask" in right + _text(node.left) and kept is not node.right:
        return "mask not applied in backward"
    if isinstance(op, cst.Divide) and ("std" in right or "sqrt" in right):
        return "not normalised by the standard deviation"
    if isinstance(op, cst.Add | cst.Subtract) and ("eps" in right or "epsilon" in right):
        return "no epsilon in the denominator"
    if isinstance(op, cst.Multiply | cst.Add) and "reg" in right + _text(node.left):
        return "L2 term missing"
    return None


def binary(node: cst.CSTNode) -> Iterator[Change]:
    """Swap an arithmetic operator; drop one operand (a mask, a divisor, a stabilising shift)."""
    if not isinstance(node, cst.BinaryOperation):
        return
    swap = BINARY_SWAPS.get(type(node.operator))
    if swap:
        yield Change("swap-operator", node.with_changes(operator=_same_op(swap, node.operator)))
    if isinstance(node.operator, cst.MatrixMultiply | cst.Power):
        return
    yield Change("drop-operand", node.left.with_changes(lpar=node.lpar, rpar=node.rpar), _binary_mistake(node, node.left))
    if isinstance(node.operator, cst.Multiply | cst.Add):
        yield Change("drop-operand", node.right.with_changes(lpar=node.lpar, rpar=node.rpar), _binary_mistake(node, node.right))


def compare(node: cst.CSTNode) -> Iterator[Change]:
    """Flip a comparison: `>` to `>=` or `<`, `==` to `!=`, `is` to `is not`."""
    if not isinstance(node, cst.Comparison):
        return
    for i, target in enumerate(node.comparisons):
        for new in COMPARE_SWAPS.get(type(target.operator), ()):
            op = target.operator
            if isinstance(op, cst.NotIn | cst.IsNot) or new in (cst.NotIn, cst.IsNot):
                replaced = new()  # these carry inner whitespace of their own
            else:
                replaced = _same_op(new, op)
            targets = [*node.comparisons[:i], target.with_changes(operator=replaced), *node.comparisons[i + 1 :]]
            yield Change("flip-comparison", node.with_changes(comparisons=targets))


def number(node: cst.CSTNode) -> Iterator[Change]:
    """Change a constant: n to n + 1 (0 to 1, 0.9 to 1.9, 1e-5 to 1.00001)."""
    if isinstance(node, cst.Integer):
        yield Change("constant", node.with_changes(value=str(int(node.value, 0) + 1)))
    elif isinstance(node, cst.Float):
        yield Change("constant", node.with_changes(value=repr(float(node.value) + 1.0)))


def unary(node: cst.CSTNode) -> Iterator[Change]:
    """Drop a unary minus or a `not`."""
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus | cst.Not):
        mistake = "train/eval mode mix-up" if isinstance(node.operator, cst.Not) and "train" in _text(node) else None
        yield Change("drop-unary", node.expression.with_changes(lpar=node.lpar, rpar=node.rpar), mistake)


def branches(node: cst.CSTNode) -> Iterator[Change]:
    """Swap the branches of `a if cond else b`; turn `True` into `False` and back."""
    if isinstance(node, cst.IfExp):
        mistake = "train/eval mode mix-up" if "train" in _text(node) else None
        yield Change("swap-branches", node.with_changes(body=node.orelse, orelse=node.body), mistake)
    elif isinstance(node, cst.Name) and node.value in {"True", "False"}:
        yield Change("flip-boolean", node.with_changes(value="False" if node.value == "True" else "True"))


def _without_arg(call: cst.Call, index: int) -> cst.Call:
    args = [a for i, a in enumerate(call.args) if i != index]
    if args:
        args[-1] = args[-1].with_changes(comma=MaybeSentinel.DEFAULT)
    return call.with_changes(args=args)


def reduction(node: cst.CSTNode) -> Iterator[Change]:
    """Change a reduction: `axis`/`dim`, `keepdims`/`keepdim`, mean for sum (a summed loss), max for min, `.T` dropped."""
    if isinstance(node, cst.Attribute) and node.attr.value == "T":
        yield Change("drop-transpose", node.value.with_changes(lpar=node.lpar, rpar=node.rpar), "transposed weights")
    if not isinstance(node, cst.Call):
        return
    name = _call_name(node)
    if name in METHOD_SWAPS and isinstance(node.func, cst.Attribute):
        mistake = "loss summed instead of averaged" if name == "mean" else None
        yield Change("swap-method", node.with_changes(func=node.func.with_changes(attr=cst.Name(METHOD_SWAPS[name]))), mistake)
    for i, arg in enumerate(node.args):
        key = arg.keyword.value if arg.keyword else None
        if key in ("axis", "dim"):  # NumPy's and torch's spelling
            yield Change("drop-axis", _without_arg(node, i), "reduced over the wrong axis")
            value = _text(arg.value)
            if value in AXIS_SWAPS:
                new = arg.with_changes(value=cst.parse_expression(AXIS_SWAPS[value]))
                yield Change("change-axis", node.with_changes(args=[*node.args[:i], new, *node.args[i + 1 :]]), "reduced over the wrong axis")
        elif key in ("keepdims", "keepdim"):
            yield Change("drop-keepdims", _without_arg(node, i), "keepdims missing (broadcasts the wrong way)")


def arguments(node: cst.CSTNode) -> Iterator[Change]:
    """Swap the first two positional arguments of a call; drop a `.copy()` or `deepcopy` (aliasing)."""
    if not isinstance(node, cst.Call):
        return
    name = _call_name(node)
    if name == "copy" and isinstance(node.func, cst.Attribute) and not node.args:
        yield Change("drop-copy", node.func.value, "arrays aliased instead of copied")
    if name == "deepcopy" and len(node.args) == 1:
        yield Change("drop-copy", node.args[0].value, "state aliased instead of copied")
    positional = [i for i, a in enumerate(node.args) if a.keyword is None and not a.star]
    if len(positional) >= 2 and name not in COMMUTATIVE:
        i, j = positional[:2]
        a, b = node.args[i], node.args[j]
        if _text(a.value) != _text(b.value):
            args = list(node.args)
            args[i], args[j] = a.with_changes(value=b.value), b.with_changes(value=a.value)
            yield Change("swap-arguments", node.with_changes(args=args))


def ranges(node: cst.CSTNode) -> Iterator[Change]:
    """Off by one in a `range`: one step fewer at either end."""
    if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "range"):
        return
    args = node.args
    if len(args) == 1:
        stop = args[0].value
        yield Change("off-by-one", node.with_changes(args=[args[0].with_changes(value=cst.parse_expression(f"({_text(stop)}) - 1"))]))
        yield Change("off-by-one", node.with_changes(args=[cst.Arg(cst.Integer("1"), comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))), args[0]]))
    elif len(args) >= 2 and not any(a.keyword for a in args):
        start, stop = args[0].value, args[1].value
        yield Change("off-by-one", node.with_changes(args=[args[0].with_changes(value=cst.parse_expression(f"({_text(start)}) + 1")), *args[1:]]))
        yield Change("off-by-one", node.with_changes(args=[args[0], args[1].with_changes(value=cst.parse_expression(f"({_text(stop)}) - 1")), *args[2:]]))


def _defaults(function: cst.FunctionDef | None) -> dict[str, cst.BaseExpression]:
    """Return `{key: default}` from `config.setdefault("key", default)` calls in a function."""
    out: dict[str, cst.BaseExpression] = {}
    if function is None:
        return out

    class Visitor(cst.CSTVisitor):
        def visit_Call(self, call: cst.Call) -> None:
            if _call_name(call) == "setdefault" and len(call.args) == 2 and isinstance(call.args[0].value, cst.SimpleString):
                out[call.args[0].value.evaluated_value] = call.args[1].value

    function.visit(Visitor())
    return out


def hard_coded(node: cst.CSTNode, function: cst.FunctionDef | None) -> Iterator[Change]:
    """Replace a hyperparameter read from the config by its default value: right on defaults, wrong otherwise."""
    if isinstance(node, cst.Call) and _call_name(node) == "get" and len(node.args) == 2:
        default = node.args[1].value
        if not (isinstance(default, cst.Call) or _text(default) == "None"):
            yield Change("hard-code-default", default, "hyperparameter hard-coded to its default")
    if isinstance(node, cst.Subscript) and len(node.slice) == 1:
        index = node.slice[0].slice
        if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString):
            default = _defaults(function).get(index.value.evaluated_value)
            if default is not None:
                yield Change("hard-code-default", default, "hyperparameter hard-coded to its default")


def _bound_names(function: cst.FunctionDef | None) -> list[str]:
    """Return the parameters of a function and every plain name it assigns, once per assignment."""
    if function is None:
        return []
    names = [p.name.value for p in function.params.params]

    class Visitor(cst.CSTVisitor):
        def visit_AssignTarget(self, target: cst.AssignTarget) -> None:
            names.extend(n.value for n in _target_names(target.target))

    function.visit(Visitor())
    return names


def _target_names(target: cst.BaseExpression) -> list[cst.Name]:
    if isinstance(target, cst.Name):
        return [target]
    if isinstance(target, cst.Tuple | cst.List):
        return [n for el in target.elements for n in _target_names(el.value)]
    return []


def _droppable(stmt: cst.BaseSmallStatement, function: cst.FunctionDef | None) -> bool:
    """Return whether dropping a statement is a plausible mistake, not a certain NameError.

    A first assignment of a name is left alone (the next use would fail with an error no test
    needs to catch); a re-assignment (`v = mu * v - lr * dw`), a store into a dict or an
    attribute, an augmented assignment and a call all can be forgotten silently.
    """
    if isinstance(stmt, cst.AugAssign | cst.Expr):
        return True
    if not isinstance(stmt, cst.Assign):
        return False
    bound = _bound_names(function)
    names = [n.value for t in stmt.targets for n in _target_names(t.target)]
    plain = all(isinstance(t.target, cst.Name | cst.Tuple | cst.List) for t in stmt.targets)
    return not plain or any(bound.count(n) > 1 or n in [p.name.value for p in function.params.params] for n in names)


def statements(node: cst.CSTNode, function: cst.FunctionDef | None = None) -> Iterator[Change]:
    """Drop a statement (state not stored back, a term not added); update an array in place instead of anew."""
    if not isinstance(node, cst.SimpleStatementLine) or len(node.body) != 1:
        return
    stmt = node.body[0]
    if _droppable(stmt, function):
        stored = isinstance(stmt, cst.Assign) and any(isinstance(t.target, cst.Subscript) for t in stmt.targets)
        mistake = "state not stored back" if stored else None
        yield Change("drop-statement", node.with_changes(body=[cst.Pass()]), mistake)
    if isinstance(stmt, cst.AugAssign) and type(stmt.operator) in AUG_SWAPS:
        op = stmt.operator
        new = AUG_SWAPS[type(op)](whitespace_before=op.whitespace_before, whitespace_after=op.whitespace_after)
        yield Change("swap-operator", node.with_changes(body=[stmt.with_changes(operator=new)]))
    yield from _in_place(node, stmt, function)


IN_PLACE = {cst.Add: "+=", cst.Subtract: "-=", cst.Multiply: "*=", cst.Divide: "/="}


def _in_place(node: cst.SimpleStatementLine, stmt: cst.BaseSmallStatement, function: cst.FunctionDef | None) -> Iterator[Change]:
    """`out = w - lr * dw` becomes `w -= lr * dw; out = w`: the caller's array (a parameter) is modified."""
    params = {p.name.value for p in function.params.params} if function else set()
    if not (isinstance(stmt, cst.Assign) and len(stmt.targets) == 1 and isinstance(stmt.value, cst.BinaryOperation)):
        return
    value = stmt.value
    if isinstance(value.left, cst.Name) and value.left.value in params and type(value.operator) in IN_PLACE and not value.lpar:
        left, target = value.left.value, _text(stmt.targets[0].target)
        if left != target:
            code = f"{left} {IN_PLACE[type(value.operator)]} {_text(value.right)}; {target} = {left}\n"
            yield Change("in-place", cst.parse_statement(code), "in-place update of an input array")


Operator = Callable[[cst.CSTNode], Iterator[Change]]
OPERATORS: tuple[Operator, ...] = (binary, compare, number, unary, branches, reduction, arguments, ranges)
CONTEXT_OPERATORS = (statements, hard_coded)  # these also look at the function around the node
