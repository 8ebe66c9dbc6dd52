"""Load a student's submitted PyTorch weights safely: tensors only, structure checked before any value is used.

The file is the student's: it is read once through a descriptor that follows no link, capped
in size, must be torch's zip format, and is unpickled with ``weights_only=True`` (nothing in
it can run code or rebuild any object but tensors and plain containers). Names, types, dtypes,
shapes and the parameter count are checked before a value is touched. Every refusal is a
``WeightsError``, an ``AssertionError`` the engine grades as the test failing, with a message
for the student. torch is imported inside the functions: this module sits beside ``checks``
in the lean grading child.
"""

from __future__ import annotations

import errno
import io
import os
import re
import stat
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

MAX_WEIGHTS_BYTES = 50 * 2**20
MAX_LISTED = 10  # problems named in one message
WRAPPER_KEYS = ("state_dict", "model_state_dict")  # checkpoints that wrap the state_dict
_GLOBAL = re.compile(r"GLOBAL ([\w.]{1,80})")

Shape = tuple[int | None, ...]


class WeightsError(AssertionError):
    """A submitted weights file cannot be used; the message tells the student why and what to do."""


def _save_hint(name: str) -> str:
    return f'Save them with `torch.save(model.state_dict(), "{name}")` and resubmit.'


def _show(key: Any) -> str:
    """Return a key from the student's file as safe, short text: `fc1.weight`."""
    text = key if isinstance(key, str) else repr(key)
    if len(text) > 60 or not text.isprintable():
        text = ascii(text[:60])
    return f"`{text}`"


def _shape(shape: Sequence[int | None]) -> str:
    items = ["any" if s is None else str(int(s)) for s in shape]
    return f"({items[0]},)" if len(items) == 1 else "(" + ", ".join(items) + ")"


def _listed(items: list[str]) -> str:
    more = len(items) - MAX_LISTED
    return ", ".join(items[:MAX_LISTED]) + (f" and {more} more" if more > 0 else "")


# ---------------------------------------------------------------- reading the file


def _open(path: Path, max_bytes: int) -> int:
    """Open the file without following a link or blocking on a pipe; refuse what is not a regular file."""
    name = path.name
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise WeightsError(f"You did not submit `{name}` (or it was over {max_bytes / 2**20:.3g} MiB and left out): the test loads "
                           "your trained weights from it. " + _save_hint(name) + " Put it beside your modules.") from None
    except OSError as exc:
        why = "it is a link" if exc.errno == errno.ELOOP else exc.strerror or type(exc).__name__
        raise WeightsError(f"`{name}` could not be read ({why}). Submit the file itself, saved with torch.save.") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise WeightsError(f"`{name}` is not a regular file. Submit the file that torch.save wrote.")
    return fd


def _read_capped(path: Path, max_bytes: int) -> bytes:
    """Return the file's bytes, refusing a file over `max_bytes` (read once: the size cannot change in between)."""
    fd = _open(path, max_bytes)
    try:
        size = os.fstat(fd).st_size
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(max_bytes + 1)
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise WeightsError(
            f"`{path.name}` is {max(size, len(data)) / 2**20:.1f} MiB; at most {max_bytes / 2**20:.3g} MiB is accepted. "
            "Save only the model's state_dict (not the optimizer's or the training data), and resubmit."
        )
    return data


def _check_archive(name: str, data: bytes, max_bytes: int) -> None:
    """Refuse anything but torch's zip format, and an archive that would unpack to more than `max_bytes`."""
    damaged = f"`{name}` is not a file written by torch.save, or it is damaged or cut short. " + _save_hint(name)
    if not data.startswith(b"PK\x03\x04"):
        if data[:1] == b"\x80":  # a bare pickle, or torch's format from before 1.6
            damaged = f"`{name}` is a plain pickle or in PyTorch's old format, which the grader does not read. " + _save_hint(name)
        raise WeightsError(damaged)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            unpacked = sum(m.file_size for m in zf.infolist())
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise WeightsError(damaged) from None
    if unpacked > max_bytes:
        raise WeightsError(f"`{name}` unpacks to {unpacked / 2**20:.1f} MiB; at most {max_bytes / 2**20:.3g} MiB is accepted. " + _save_hint(name))


def _unpickle(name: str, data: bytes) -> Any:
    """Load with `weights_only=True`: tensors and plain containers only, no code run, no other object built."""
    import pickle

    import torch

    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        found = _GLOBAL.search(str(exc))
        what = f" (`{found.group(1)}`)" if found else ""
        raise WeightsError(
            f"`{name}` holds something other than tensors{what}. The grader loads weights with weights_only=True: "
            "it never runs code or rebuilds objects from your file. " + _save_hint(name)
        ) from None
    except (RuntimeError, ValueError, EOFError, KeyError, IndexError, TypeError, AttributeError, OSError) as exc:
        raise WeightsError(f"`{name}` could not be loaded ({type(exc).__name__}): it is damaged or not a state_dict. " + _save_hint(name)) from None


# ---------------------------------------------------------------- checking what it holds


def _state_dict(name: str, loaded: Any) -> Mapping[Any, Any]:
    """Return the state_dict: the loaded dict itself, or the one a checkpoint wraps under `state_dict`."""
    if not isinstance(loaded, dict):
        raise WeightsError(f"`{name}` holds a {type(loaded).__name__}, expected a state_dict (a dict of tensors). " + _save_hint(name))
    for key in WRAPPER_KEYS:
        if isinstance(loaded.get(key), dict):
            return loaded[key]
    return loaded


def _tensor_problem(value: Any) -> str | None:
    """Say what keeps `value` from being a plain floating-point CPU tensor, or return None."""
    import torch

    if type(value) not in (torch.Tensor, torch.nn.Parameter):
        return f"a {type(value).__name__}, not a tensor"
    if value.layout != torch.strided or value.is_nested or value.is_quantized or value.device.type != "cpu":
        return f"a {value.layout} tensor on {value.device.type}, not a dense tensor"
    if not value.is_floating_point():
        return f"a tensor of {value.dtype}, not of floating-point numbers"
    if value.numel() * value.element_size() > value.untyped_storage().nbytes():
        return "a tensor that holds fewer values than its shape (expanded or shared data)"
    return None


def _check_types(name: str, state: Mapping[Any, Any]) -> None:
    problems = []
    for key, value in state.items():
        why = _tensor_problem(value) if isinstance(key, str) else "named by a non-string key"
        if why:
            problems.append(f"{_show(key)} is {why}")
    if problems:
        raise WeightsError(f"`{name}` is not a state_dict of floating-point tensors: {_listed(problems)}. " + _save_hint(name))


def _fits(shape: Sequence[int], expected: Shape) -> bool:
    return len(shape) == len(expected) and all(e is None or int(e) == s for s, e in zip(shape, expected, strict=True))


def _check_structure(name: str, state: Mapping[str, Any], expected: Mapping[str, Shape]) -> None:
    """Refuse missing and unexpected entries and wrong shapes, each named with the shape expected."""
    problems = []
    missing = [f"{_show(k)} {_shape(s)}" for k, s in expected.items() if k not in state]
    unexpected = [f"{_show(k)} {_shape(v.shape)}" for k, v in state.items() if k not in expected]
    wrong = [f"{_show(k)} is {_shape(state[k].shape)}, expected {_shape(s)}" for k, s in expected.items() if k in state and not _fits(state[k].shape, s)]
    if missing:
        problems.append(f"missing {_listed(missing)}")
    if unexpected:
        problems.append(f"unexpected {_listed(unexpected)}")
    if wrong:
        problems.append(f"wrong shape: {_listed(wrong)}")
    if problems:
        raise WeightsError(
            f"`{name}` does not match the model the test expects: " + "; ".join(problems) + ". "
            "Save the state_dict of the handout's model, with the layer names and sizes it gives, and resubmit."
        )


def count_params(state: Mapping[str, Any]) -> int:
    """Return how many values a state_dict holds."""
    return sum(int(t.numel()) for t in state.values())


def _check_budget(name: str, state: Mapping[str, Any], max_params: int | None) -> None:
    count = count_params(state)
    if max_params is not None and count > max_params:
        raise WeightsError(f"`{name}` holds {count:,} parameters; at most {max_params:,} are allowed. Use a smaller model and resubmit.")


def _check_finite(name: str, state: Mapping[str, Any]) -> None:
    import torch

    bad = [_show(k) for k, t in state.items() if not bool(torch.isfinite(t).all())]
    if bad:
        raise WeightsError(f"`{name}` holds NaN or infinite values in {_listed(bad)}. Check your training (a smaller learning rate), save again and resubmit.")


def load_weights(
    path: str | Path, expected: Mapping[str, Shape], max_params: int | None = None, max_bytes: int = MAX_WEIGHTS_BYTES
) -> dict[str, Any]:
    """Load a submitted state_dict from `path`, checked against `expected` names and shapes, as detached CPU tensors.

    Args:
        expected: every entry the state_dict must hold and its shape; `None` in a shape allows any size on that axis.
        max_params: the most values the state_dict may hold in all.
        max_bytes: the largest file accepted.
    """
    import torch

    path = Path(path)
    data = _read_capped(path, max_bytes)
    _check_archive(path.name, data, max_bytes)
    state = _state_dict(path.name, _unpickle(path.name, data))
    _check_types(path.name, state)
    _check_structure(path.name, state, expected)
    _check_budget(path.name, state, max_params)
    _check_finite(path.name, state)
    return {k: state[k].detach().clone(memory_format=torch.contiguous_format) for k in expected}

