"""Degenerate answers of the right shape: the solution with its student functions' results replaced.

A probe submission is the solution with a wrapper appended to each student module. The
wrapper calls the solution's function on copies of its arguments, so every value has the
shape, dtype and structure a student's would and nothing it was given changes (no training,
no running statistics, no optimizer state), then replaces what it returns (zeros, ones,
random values, a constant loss with zero gradients), or, for `inert`, returns it as it is
(a `train` that reports a plausible history without training the model).
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

from autograder.spec import Probe
from autograder.strength.regions import FileRegions

WRAPPER = '''

# ---- degenerate-answer probe: {kind} ----
def _probe_wrap(fn, kind={kind!r}):
    import copy
    import functools
    import sys

    import numpy as np

    rng = np.random.default_rng(12345)
    scalars = {{"zeros": 0.0, "ones": 1.0, "constant": 2.302585092994046}}

    def fake(v):
        if isinstance(v, bool | str) or v is None:
            return v
        if isinstance(v, int | np.integer):
            return {{"zeros": 0, "ones": 1}}.get(kind, int(rng.integers(0, 10)))
        if isinstance(v, np.ndarray):
            if v.dtype.kind not in "fc":
                return v
            if kind == "ones":
                return np.ones_like(v)
            if kind == "random":
                return rng.standard_normal(v.shape).astype(v.dtype)
            return np.zeros_like(v)
        torch = sys.modules.get("torch")
        if torch is not None and isinstance(v, torch.Tensor):
            if not (v.is_floating_point() or v.is_complex()):
                return v
            with torch.no_grad():  # like an array; a 0-d tensor (a loss) like a float
                if kind == "random":
                    return torch.from_numpy(rng.standard_normal(tuple(v.shape))).to(dtype=v.dtype, device=v.device)
                value = scalars["constant"] if kind == "constant" and v.ndim == 0 else float(kind == "ones")
                return torch.full_like(v, value)
        if isinstance(v, float | np.floating):
            return scalars.get(kind, float(rng.standard_normal()))
        if isinstance(v, dict):
            return {{k: fake(x) for k, x in v.items()}}
        if isinstance(v, list | tuple):
            return type(v)(fake(x) for x in v)
        return v

    @functools.wraps(fn)
    def probe(*args, **kwargs):
        if fn.__name__ == "__init__" and args:  # build the object, then degrade what it holds
            fn(*args, **kwargs)
            if kind != "inert":
                for key, value in list(vars(args[0]).items()):
                    setattr(args[0], key, fake(value))
            return None
        # on copies: a stub changes nothing it is given (no training, no running statistics, no state)
        out = fn(*copy.deepcopy(args), **copy.deepcopy(kwargs))
        return out if kind == "inert" else fake(out)

    return probe


def _probe_set(path):
    """Degrade `Class.method` (a static or class method or a property too); a function nested in a function is left alone."""
    import inspect

    *owners, attr = path.split(".")
    owner = globals()[owners[0]]
    for name in owners[1:]:
        owner = getattr(owner, name)
    if not isinstance(owner, type):
        return
    if attr.startswith("__") and not attr.endswith("__"):
        attr = "_" + owner.__name__.lstrip("_") + attr  # a private name as Python stores it
    raw = inspect.getattr_static(owner, attr)
    if isinstance(raw, staticmethod | classmethod):
        setattr(owner, attr, type(raw)(_probe_wrap(raw.__func__)))
    elif isinstance(raw, property):
        setattr(owner, attr, property(_probe_wrap(raw.fget), raw.fset, raw.fdel))
    else:
        setattr(owner, attr, _probe_wrap(raw))

'''


def _targets(regions: FileRegions, probe: Probe) -> list[str]:
    return [f for f in sorted(regions.lines) if any(fnmatch.fnmatchcase(f"{regions.file}::{f}", p) for p in probe.functions)]


def probe_source(regions: FileRegions, probe: Probe) -> str | None:
    """Return a student file with the probe's wrapper applied to its targeted functions, or None if it targets none."""
    names = _targets(regions, probe)
    if not names:
        return None
    lines = [WRAPPER.format(kind=probe.kind)]
    for name in names:
        if "." in name:
            lines.append(f"_probe_set({name!r})\n")
        else:
            lines.append(f"{name} = _probe_wrap({name})\n")
    return regions.source + "".join(lines)


def write_probe(solution: Path, regions: dict[str, FileRegions], files: list[str], probe: Probe, folder: Path) -> list[str]:
    """Write a probe submission into `folder`; return the `file::function` names it degrades."""
    folder.mkdir(parents=True, exist_ok=True)
    targeted = []
    for file in files:
        source = (solution / file).read_text(encoding="utf-8")
        if file in regions and (probed := probe_source(regions[file], probe)) is not None:
            source = probed
            targeted += [f"{file}::{name}" for name in _targets(regions[file], probe)]
        (folder / file).write_text(source, encoding="utf-8")
    return targeted
