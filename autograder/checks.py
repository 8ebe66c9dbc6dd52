"""Checks that tests use to compare a student's answer with the expected one.

Every failing check raises a plain ``AssertionError`` whose message names the
object, says what is wrong, gives got vs expected and where, and ends with a
next step. Structure comes before values: ``assert_array``, ``assert_tuple`` and
``assert_sequence`` look only at a student's value's type, length, shape, size
and dtype, so a test calls them before any arithmetic on that value (a shape the
student chose must never decide how much the grader computes). This module
imports only NumPy and the standard library: it runs inside the lean grading child.
"""
from __future__ import annotations

import ast
import importlib.abc
import importlib.machinery
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_FORBIDDEN = ("torch", "jax", "tensorflow", "sklearn")
NUMPY_ONLY_HINT = "this assignment is NumPy only. Remove the import and write it with NumPy."
SHAPE_HINT = "Check the shapes in the docstring and which axes you sum, reshape or transpose."
LAZY_HINT = "Return a list, not a lazy `map`, `filter` or generator: wrap it in list(...)."
MAX_SIZE = 10_000_000  # values a checked array may hold unless a test allows more
LAZY_TYPES = ("map", "filter", "generator", "zip", "reversed", "enumerate", "itertools", "dict_values", "dict_keys")
VALUES_HINT = "Check your computation against the formula in the docstring."
_KIND_NAMES = {
    "b": "boolean", "i": "signed integer", "u": "unsigned integer",
    "f": "floating-point", "c": "complex",
}


# ---------------------------------------------------------------- comparing arrays

def rel_error(a: Any, b: Any) -> float:
    """Return max(|a - b| / max(1e-8, |a| + |b|)) over all elements."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.size == 0 and b.size == 0:
        return 0.0
    return float(np.max(_elementwise_rel_error(a, b)))


def _elementwise_rel_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return |a - b| / max(1e-8, |a| + |b|) for each element."""
    return np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))


def _where(index: tuple[int, ...]) -> str:
    """Format an index as the student would type it: (0, 4), or 'the scalar'."""
    if not index:
        return "the scalar value"
    if len(index) == 1:
        return f"index {int(index[0])}"
    return "index " + str(tuple(int(i) for i in index))


def _next(hint: str, default: str) -> str:
    """Return the next-step sentence, the caller's hint if it gave one."""
    return hint or default


def _shape_str(shape: Sequence[int]) -> str:
    """Format a shape like NumPy prints it."""
    return str(tuple(int(s) for s in shape))


def _type_name(value: Any) -> str:
    """Return the type name of a value, or of the object a proxy stands for in the submission's process."""
    remote = getattr(type(value), "remote_type_name", None)
    if remote is not None:  # an object living in the submission's process
        return str(value.remote_type_name)
    return type(value).__name__


def _describe_type(value: Any) -> str:
    """Name a value's type in words a student recognises."""
    if getattr(type(value), "remote_type_name", None) is not None:
        return f"a `{_type_name(value)}` object"
    kind = type(value)
    if kind in (list, tuple):
        return f"a {kind.__name__} of {len(value)} item{'' if len(value) == 1 else 's'}"
    if kind.__module__ == "builtins":
        return f"a {kind.__name__}"
    return f"a {kind.__module__}.{kind.__qualname__}"


def _is_lazy(value: Any) -> bool:
    """Return whether ``value`` is an iterator a student may have returned instead of a list."""
    return _type_name(value) in LAZY_TYPES or type(value).__module__ == "itertools"


def _as_array(name: str, got: Any, hint: str) -> np.ndarray:
    """Return ``got`` as an ndarray, or fail if it is not array-like."""
    if isinstance(got, (np.ndarray, np.generic)):
        return np.asarray(got)
    if isinstance(got, (int, float)) and not isinstance(got, bool):
        return np.asarray(got)
    raise AssertionError(
        f"`{name}` has the wrong type: got {_describe_type(got)}, expected a NumPy array. "
        + _next(hint, "Return the result as an np.ndarray, not a list or tuple.")
    )


# ---------------------------------------------------------------- public asserts

def assert_defined(name: str, value: Any) -> None:
    """Fail if ``value`` is None, the usual sign of a missing return or assignment."""
    if value is None:
        raise AssertionError(
            f"`{name}` is None: you did not set it, expected a value. "
            f"Make sure your code assigns `{name}` and returns it."
        )


def assert_shape(name: str, got: Any, expected_shape: Sequence[int], hint: str = "") -> None:
    """Fail unless ``got`` is an array of shape ``expected_shape``."""
    assert_defined(name, got)
    arr = _as_array(name, got, hint)
    if tuple(arr.shape) != tuple(expected_shape):
        raise AssertionError(
            f"`{name}` has the wrong shape: got {_shape_str(arr.shape)}, "
            f"expected {_shape_str(expected_shape)}. " + _next(hint, SHAPE_HINT)
        )


def _shape_fits(shape: Sequence[int], expected: Sequence[int | None]) -> bool:
    return len(shape) == len(expected) and all(e is None or int(e) == s for s, e in zip(shape, expected, strict=True))


def _expected_shape_str(shape: Sequence[int | None]) -> str:
    """Format an expected shape; None, any length on that axis, shows as 'any'."""
    items = ["any" if s is None else str(int(s)) for s in shape]
    return f"({items[0]},)" if len(items) == 1 else "(" + ", ".join(items) + ")"


def _kinds_in_words(kinds: str) -> str:
    """Name a set of dtype kinds: 'biuf' is numeric, 'iu' integer, 'f' floating-point."""
    if set("iuf") <= set(kinds):
        return "numeric"
    if set(kinds) == set("iu"):
        return "integer"
    return " or ".join(_KIND_NAMES.get(k, repr(k)) for k in kinds)


def assert_array(name: str, value: Any, shape: Sequence[int | None] | None = None, dtype_kind: str = "biuf",
                 max_size: int = MAX_SIZE, hint: str = "") -> np.ndarray:
    """Fail unless ``value`` is an array (or a number) of the expected structure; return it as an ndarray.

    Checks, in order and before any arithmetic: defined, type, shape (None in ``shape``
    accepts any length on that axis), size (at most ``max_size`` values), and dtype kind
    (a string of NumPy kinds: 'f' floats, 'iu' integers, 'biuf' any number).
    """
    assert_defined(name, value)
    arr = _as_array(name, value, hint)
    if shape is not None and not _shape_fits(arr.shape, shape):
        raise AssertionError(
            f"`{name}` has the wrong shape: got {_shape_str(arr.shape)}, "
            f"expected {_expected_shape_str(shape)}. " + _next(hint, SHAPE_HINT)
        )
    if arr.size > max_size:
        raise AssertionError(
            f"`{name}` is too large: got {arr.size} values (shape {_shape_str(arr.shape)}), "
            f"expected at most {max_size}. " + _next(hint, SHAPE_HINT)
        )
    if arr.dtype.kind not in dtype_kind:
        raise AssertionError(
            f"`{name}` has the wrong dtype: got {arr.dtype}, expected a {_kinds_in_words(dtype_kind)} dtype. "
            + _next(hint, "Check the dtype your arrays are created with and any astype calls.")
        )
    return arr


def assert_tuple(name: str, value: Any, parts: Sequence[str], hint: str = "") -> tuple[Any, ...]:
    """Fail unless ``value`` holds exactly the values ``parts`` names, e.g. ``("out", "cache")``; return them.

    A list is accepted as a tuple. Use it on what a student's function returned, before unpacking.
    """
    expected = f"a tuple ({', '.join(parts)})" if len(parts) > 1 else f"a tuple ({parts[0]},)"
    step = _next(hint, "Return every value the docstring lists, in that order.")
    if value is None:
        raise AssertionError(f"`{name}` returned None, expected {expected}. {step}")
    if not isinstance(value, tuple | list):
        lazy = f" {LAZY_HINT}" if _is_lazy(value) else ""
        raise AssertionError(f"`{name}` returned {_describe_type(value)}, expected {expected}.{lazy} {step}")
    if len(value) != len(parts):
        raise AssertionError(f"`{name}` returned {len(value)} values, expected {len(parts)}: {expected}. {step}")
    return tuple(value)


def assert_sequence(name: str, value: Any, length: int | None = None, max_length: int = MAX_SIZE,
                    hint: str = "") -> list[Any]:
    """Fail unless ``value`` is a list (a tuple or 1-D array will do) of ``length`` items; return it as a list."""
    assert_defined(name, value)
    if isinstance(value, np.ndarray) and value.ndim == 1:
        n = int(value.shape[0])
    elif isinstance(value, list | tuple):
        n = len(value)
    else:
        step = LAZY_HINT if _is_lazy(value) else _next(hint, "Return a list as the docstring says.")
        raise AssertionError(f"`{name}` has the wrong type: got {_describe_type(value)}, expected a list. {step}")
    if (length is not None and n != length) or n > max_length:
        want = length if length is not None else f"at most {max_length}"
        raise AssertionError(f"`{name}` has the wrong length: got {n}, expected {want}. " + _next(hint, "Check how many items the docstring says to return."))
    return list(value)


def _dtype_matches(dtype: np.dtype, expected: Any) -> tuple[bool, str]:
    """Return whether ``dtype`` matches ``expected`` and how to name ``expected``."""
    if isinstance(expected, str) and len(expected) == 1:
        name = _KIND_NAMES.get(expected, f"kind {expected!r}")
        return dtype.kind == expected, f"a {name} dtype"
    want = np.dtype(expected)
    return dtype == want, str(want)


def assert_dtype(name: str, got: Any, expected_kind_or_dtype: Any, hint: str = "") -> None:
    """Fail unless ``got`` has the dtype, or dtype kind ('f', 'i', ...), expected."""
    assert_defined(name, got)
    arr = _as_array(name, got, hint)
    ok, expected_name = _dtype_matches(arr.dtype, expected_kind_or_dtype)
    if not ok:
        raise AssertionError(
            f"`{name}` has the wrong dtype: got {arr.dtype}, expected {expected_name}. "
            + _next(hint, "Check the dtype your arrays are created with and any astype calls.")
        )


def _assert_numeric(name: str, arr: np.ndarray, hint: str) -> None:
    """Fail unless ``arr`` holds numbers (bool, int, float)."""
    if arr.dtype.kind not in "biuf":
        raise AssertionError(
            f"`{name}` has the wrong dtype: got {arr.dtype}, expected numbers. "
            + _next(hint, "Build the result from NumPy arithmetic, not Python objects.")
        )


def _assert_finite(name: str, arr: np.ndarray, hint: str) -> None:
    """Fail if ``arr`` holds NaN or inf, naming the first bad index."""
    bad = ~np.isfinite(arr)
    if not bad.any():
        return
    index = tuple(np.argwhere(bad)[0]) if arr.ndim else ()
    what = "NaN" if np.isnan(arr[index]) else "inf"
    raise AssertionError(
        f"`{name}` is not finite: got {what} at {_where(index)} "
        f"({int(bad.sum())} of {arr.size} values are NaN or inf), expected finite values. "
        + _next(hint, "Look for overflow in exp, division by zero or log of zero.")
    )


def _assert_values(name: str, got: np.ndarray, expected: np.ndarray, tol: float,
                   atol: float, hint: str, against: str) -> None:
    """Fail if the worst elementwise relative error exceeds ``tol``."""
    if got.size == 0:
        return
    got64, exp64 = got.astype(np.float64), expected.astype(np.float64)
    err = np.where(np.abs(got64 - exp64) <= atol, 0.0, _elementwise_rel_error(got64, exp64))
    flat = int(np.argmax(err))
    if err.flat[flat] <= tol:
        return
    index = np.unravel_index(flat, err.shape) if err.ndim else ()
    raise AssertionError(
        f"`{name}` differs from {against}: max relative error {err.flat[flat]:.1e} at "
        f"{_where(index)} (got {got64.flat[flat]:.6g}, expected {exp64.flat[flat]:.6g}); "
        f"tolerance {tol:.0e}. " + _next(hint, VALUES_HINT)
    )


def assert_close(name: str, got: Any, expected: Any, tol: float = 1e-7, hint: str = "",
                 *, atol: float = 0.0, against: str = "the reference") -> None:
    """Fail unless ``got`` matches ``expected``: defined, type, shape, finite, then values.

    Args:
        tol: largest allowed relative error (see ``rel_error``).
        atol: elements whose absolute difference is at most ``atol`` count as equal;
            use it where values near zero make the relative error meaningless.
        against: how the message names ``expected``.
    """
    expected = np.asarray(expected)
    assert_shape(name, got, expected.shape)
    arr = np.asarray(got)
    _assert_numeric(name, arr, "")
    _assert_finite(name, arr, "")
    _assert_values(name, arr, expected, tol, atol, hint, against)


def assert_keys(name: str, got: Any, expected_keys: Iterable[str], hint: str = "") -> None:
    """Fail unless ``got`` is a dict holding every key in ``expected_keys``."""
    assert_defined(name, got)
    if not isinstance(got, Mapping):
        raise AssertionError(  # noqa: TRY004 - a wrong answer: the engine reads AssertionError as "failed"
            f"`{name}` has the wrong type: got {_describe_type(got)}, expected a dict. "
            + _next(hint, "Return a dict as the docstring says.")
        )
    missing = [k for k in expected_keys if k not in got]
    if missing:
        listed = ", ".join(f"'{k}'" for k in missing)
        keys = list(dict.keys(got) if isinstance(got, dict) else got)
        have = ", ".join(f"'{str(k)[:40]}'" for k in keys[:20]) + (f" and {len(keys) - 20} more" if len(keys) > 20 else "")
        have = have or "none"
        raise AssertionError(f"`{name}` is missing keys: {listed}; it has {have}. "
                             + _next(hint, "Use the key names given in the docstring."))


def assert_within(name: str, got: Any, expected: float, atol: float, hint: str = "") -> None:
    """Fail unless the scalar ``got`` lies within ``atol`` of ``expected``; for statistics."""
    assert_shape(name, got, ())
    value = float(np.asarray(got))
    if not abs(value - expected) <= atol:
        raise AssertionError(
            f"`{name}` is out of range: got {value:.4g}, expected {expected:.4g} +/- {atol:.2g}. "
            + _next(hint, VALUES_HINT)
        )


# ---------------------------------------------------------------- gradients

def _evaluate(f: Callable[[np.ndarray], Any], x: np.ndarray, shape: tuple[int, ...] | None) -> np.ndarray:
    """Return ``f(x)`` as float64 after checking its structure: ``shape``, or a single number when None."""
    value = f(x)
    if shape is None:
        out = assert_array("f(x), the function being differentiated,", value, max_size=1,
                           hint="Return the loss as a single number.")
    else:
        out = assert_array("f(x), the function being differentiated,", value, shape=shape)
    return out.astype(np.float64)


def numeric_gradient(f: Callable[[np.ndarray], Any], x: np.ndarray,
                     dout: np.ndarray | None = None, h: float = 1e-5) -> np.ndarray:
    """Return the centered-difference gradient of ``sum(f(x) * dout)`` (or scalar ``f``).

    ``x`` must be a float64 array; it is perturbed in place and restored.
    With ``dout=None``, ``f`` must return a single number; otherwise an array of ``dout``'s
    shape (checked before any arithmetic on it).
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError(f"numeric_gradient needs a float64 ndarray x, got {type(x).__name__} "
                        f"of dtype {getattr(x, 'dtype', None)}; pass x.astype(np.float64).")
    weight = None if dout is None else np.asarray(dout, dtype=np.float64)
    shape = None if weight is None else weight.shape
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        try:
            x[index] = old + h
            plus = _evaluate(f, x, shape)
            x[index] = old - h
            minus = _evaluate(f, x, shape)
        finally:
            x[index] = old
        diff = plus - minus if weight is None else (plus - minus) * weight
        grad[index] = np.sum(diff) / (2 * h)
    return grad


def grad_check(name: str, analytic: Any, f: Callable[[np.ndarray], Any], x: np.ndarray,
               dout: np.ndarray | None = None, tol: float = 1e-6, hint: str = "",
               *, atol: float = 1e-8, h: float = 1e-5) -> None:
    """Fail unless ``analytic`` matches the numeric gradient of ``f`` at ``x``.

    ``analytic`` must have the shape of ``x``, checked before ``f`` is evaluated.
    Differences below ``atol`` are ignored: a true gradient of zero comes out of
    centered differences as rounding noise near 1e-11, a huge relative error.
    """
    assert_array(name, analytic, shape=x.shape, hint=hint if hint else "")
    numeric = numeric_gradient(f, x, dout, h=h)
    assert_close(name, analytic, numeric, tol=tol, hint=hint, atol=atol,
                 against="the numeric gradient")


# ---------------------------------------------------------------- forbidden imports

@dataclass(frozen=True)
class ImportHit:
    """One forbidden import found in a source file."""

    file: str
    line: int
    module: str

    def message(self, hint: str = NUMPY_ONLY_HINT) -> str:
        """Return the student-facing sentence for this import."""
        return f"{self.file}:{self.line} imports `{self.module}`; {hint}"


def _is_forbidden(module: str, forbidden: Iterable[str]) -> bool:
    """Return whether ``module`` is, or is inside, a forbidden package."""
    return any(module == f or module.startswith(f + ".") for f in forbidden)


def _dynamic_import_name(node: ast.Call) -> str | None:
    """Return the literal module name of __import__/import_module calls, else None."""
    func = node.func
    called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    if called not in ("__import__", "import_module"):
        return None
    arg = node.args[0] if node.args else next(
        (k.value for k in node.keywords if k.arg == "name"), None)
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    return None


def _imported_modules(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Yield (line, module) for every absolute import in ``tree``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
        elif isinstance(node, ast.ImportFrom):  # relative: never a forbidden package, never an allowed one
            for name in [node.module] if node.module else [alias.name for alias in node.names]:
                yield node.lineno, "." * node.level + name
        elif isinstance(node, ast.Call):
            name = _dynamic_import_name(node)
            if name:
                yield node.lineno, name


MAX_SCANNED_BYTES = 2 * 2**20


def _scan_imports(folder: str | Path, flagged: Callable[[str], bool]) -> list[ImportHit]:
    """Return the imports ``flagged`` picks in the .py files under ``folder``, by AST scan.

    Files that do not parse are skipped: importing them fails on its own.
    """
    root = Path(folder)
    hits = []
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        if path.stat().st_size > MAX_SCANNED_BYTES:
            continue  # too large to parse safely here; the import blocker still applies at run time
        try:
            tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"), str(path))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        rel = path.relative_to(root).as_posix()
        hits += [ImportHit(rel, line, module) for line, module in _imported_modules(tree) if flagged(module)]
    return hits


def find_forbidden_imports(folder: str | Path,
                           forbidden: Iterable[str] = DEFAULT_FORBIDDEN) -> list[ImportHit]:
    """Return every forbidden import in the .py files under ``folder``, by AST scan."""
    forbidden = tuple(forbidden)
    return _scan_imports(folder, lambda module: _is_forbidden(module, forbidden))


def forbid_imports(folder: str | Path, forbidden: Iterable[str] = DEFAULT_FORBIDDEN,
                   hint: str = NUMPY_ONLY_HINT) -> None:
    """Fail if any .py file under ``folder`` imports a forbidden module."""
    hits = find_forbidden_imports(folder, forbidden)
    if hits:
        raise AssertionError("\n".join(hit.message(hint) for hit in hits))


def allow_only_imports(folder: str | Path, allowed: Iterable[str], hint: str = NUMPY_ONLY_HINT) -> None:
    """Fail if any .py file under ``folder`` imports a module outside ``allowed`` (packages and their submodules).

    Stricter than `forbid_imports` where a file must compute with a few libraries only: an import of
    `sys`, `importlib` or a sibling module would reach a library some other way.
    """
    allowed = tuple(allowed)
    hits = _scan_imports(folder, lambda module: not _is_forbidden(module, allowed))
    if hits:
        raise AssertionError("\n".join(hit.message(f"only {', '.join(allowed)} may be imported here; {hint}")
                                        for hit in hits))


def forbid_calls(what: str, calls: Iterable[str], hint: str) -> None:
    """Fail if ``calls`` (what a watch recorded while ``what`` ran) is not empty."""
    calls = sorted(set(calls))
    if calls:
        shown = ", ".join(f"`{c}`" for c in calls[:8]) + (f" and {len(calls) - 8} more" if len(calls) > 8 else "")
        raise AssertionError(f"{what} called {shown}; {hint}")


def _importing_frame() -> str:
    """Return 'file:line' of the innermost frame outside importlib and this module."""
    for frame in reversed(traceback.extract_stack()):
        if frame.filename.startswith("<frozen") or frame.filename == __file__ or "importlib" in Path(frame.filename).parts:
            continue
        return f"{Path(frame.filename).name}:{frame.lineno}"
    return "<unknown>"


def _called_from(roots: tuple[str, ...]) -> bool:
    """Return whether any frame on the stack runs a file under one of `roots`."""
    return any(frame.filename.startswith(roots) for frame in traceback.extract_stack())


class _Refusal(importlib.abc.Loader):
    """The loader of a forbidden module: importing it raises ImportError with the finder's message."""

    def __init__(self, message: str, name: str) -> None:
        self.message, self.name = message, name

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None

    def exec_module(self, module: Any) -> None:
        raise ImportError(self.message, name=self.name)


class ForbiddenImportFinder(importlib.abc.MetaPathFinder):
    """A sys.meta_path finder that refuses to import forbidden top-level packages.

    A forbidden module that is installed gets a spec without an origin whose loader refuses:
    `import sklearn` raises ImportError with the hint, while a library that only asks whether
    it exists (`importlib.util.find_spec`, as torch does for sklearn or tensorflow) is not
    broken. With `roots` (the submission's folder, where its code shares a process with the
    tests), only imports with a frame of that code on the stack are refused: the tests' own
    torch may keep importing parts of itself.
    """

    def __init__(self, forbidden: Iterable[str], hint: str = NUMPY_ONLY_HINT, roots: Iterable[str] | None = None) -> None:
        self.forbidden = tuple(forbidden)
        self.hint = hint
        self.roots = tuple(str(Path(r).resolve()) + "/" for r in roots) if roots is not None else None

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        """Return a refusing spec for a forbidden module; defer to other finders otherwise."""
        if not _is_forbidden(fullname, self.forbidden) or (self.roots is not None and not _called_from(self.roots)):
            return None
        if "." not in fullname and importlib.machinery.PathFinder.find_spec(fullname, path) is None:
            return None  # not installed: the import fails as usual, and asking whether it exists says no
        message = f"{_importing_frame()} imports `{fullname}`; {self.hint}"
        return importlib.machinery.ModuleSpec(fullname, _Refusal(message, fullname), origin=None)

    def __repr__(self) -> str:
        return f"ForbiddenImportFinder(forbidden={self.forbidden!r})"


def install_import_blocker(forbidden: Iterable[str] = DEFAULT_FORBIDDEN,
                           hint: str = NUMPY_ONLY_HINT, roots: Iterable[str] | None = None) -> ForbiddenImportFinder:
    """Put a ForbiddenImportFinder first on sys.meta_path and return it (`roots`: see the finder)."""
    finder = ForbiddenImportFinder(forbidden, hint, roots)
    sys.meta_path.insert(0, finder)
    return finder


@contextmanager
def block_imports(forbidden: Iterable[str] = DEFAULT_FORBIDDEN,
                  hint: str = NUMPY_ONLY_HINT) -> Iterator[ForbiddenImportFinder]:
    """Make importing a forbidden module raise ImportError inside the block.

    Modules already in ``sys.modules`` cannot be blocked: ``import`` finds them
    without asking any finder. The grading child has not imported them.
    """
    finder = install_import_blocker(forbidden, hint)
    try:
        yield finder
    finally:
        if finder in sys.meta_path:
            sys.meta_path.remove(finder)
