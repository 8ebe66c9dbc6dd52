"""Import a folder of student (or reference) modules without leaking them into `sys.modules`."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

NOT_DEFINED = (
    "Your `{file}` does not define `{name}`. Keep the names and signatures from the handout; "
    "defined here: {defined}."
)
MISSING_FILE = "Your submission has no `{file}`. Submit every file of the handout: {files}."


class SubmissionImportError(Exception):
    """A student module could not be imported; the original error is the `__cause__`."""


class SubmissionRejected(Exception):
    """The submission breaks an assignment rule (a forbidden import); every test using it fails."""


class MissingDefinition(AssertionError):
    """A student module lacks a function or class that the tests need."""


class ModuleProxy:
    """A loaded module whose missing attributes raise a message a student understands."""

    def __init__(self, module: ModuleType, file: str) -> None:
        self._module = module
        self._file = file

    def __getattr__(self, name: str) -> Any:
        try:
            return getattr(self._module, name)
        except AttributeError:
            public = sorted(n for n in vars(self._module) if not n.startswith("_"))
            defined = ", ".join(f"`{n}`" for n in public[:12]) or "nothing"
            raise MissingDefinition(NOT_DEFINED.format(file=self._file, name=name, defined=defined)) from None

    def __repr__(self) -> str:
        return f"ModuleProxy({self._file!r})"


class BrokenModule:
    """Stands in for a module whose import failed; any use re-raises the import error."""

    def __init__(self, file: str, error: BaseException) -> None:
        self._file = file
        self._error = error

    def reraise(self) -> None:
        """Raise the import error as a `SubmissionImportError`."""
        if isinstance(self._error, FileNotFoundError):
            raise SubmissionImportError(str(self._error))
        raise SubmissionImportError(f"Importing your `{self._file}` failed") from self._error

    def __getattr__(self, name: str) -> Any:
        self.reraise()

    def __repr__(self) -> str:
        return f"BrokenModule({self._file!r}, {type(self._error).__name__})"


def seed_everything(seed: int) -> None:
    """Seed Python's `random`, NumPy's global generator and, where it is loaded, torch's (every device).

    The referee calls it before each test, in the submission process and (with another seed) in its own,
    and the submission process before it imports the student's modules, so code that draws from a global
    generator gives the same numbers whatever ran before: in a regrade of one test, in any order.
    """
    import random

    random.seed(seed)
    if (numpy := sys.modules.get("numpy")) is not None:
        numpy.random.seed(seed % 2**32)
    if (torch := sys.modules.get("torch")) is not None:  # never imported here for a NumPy assignment
        torch.manual_seed(seed)


class ModuleSet:
    """The modules of one folder, as attributes: `submission.layers.affine_forward`."""

    def __init__(self, path: Path, modules: dict[str, ModuleProxy | BrokenModule]) -> None:
        self.path = path
        self._modules = modules

    def __getattr__(self, name: str) -> ModuleProxy | BrokenModule:
        try:
            return self._modules[name]
        except KeyError:
            known = ", ".join(sorted(self._modules))
            raise AttributeError(f"no module `{name}` in this assignment; modules: {known}") from None

    def define(self, obj: Any) -> Any:
        """Return a grader-side helper as is (in-process; see `RemoteSubmission.define`)."""
        return obj

    def __repr__(self) -> str:
        return f"ModuleSet({str(self.path)!r}, modules={sorted(self._modules)})"


def _import_one(name: str, folder: Path, files: list[str]) -> ModuleProxy | BrokenModule:
    file = f"{name}.py"
    if not (folder / file).is_file():
        listed = ", ".join(f"`{f}`" for f in files)
        return BrokenModule(file, FileNotFoundError(MISSING_FILE.format(file=file, files=listed)))
    try:
        return ModuleProxy(importlib.import_module(name), file)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        return BrokenModule(file, exc)


def _forget(folder: Path, names: list[str]) -> None:
    root = str(folder.resolve())
    for mod_name, mod in list(sys.modules.items()):
        file = getattr(mod, "__file__", None) or ""
        if mod_name in names or file.startswith(root):
            del sys.modules[mod_name]


def load_modules(folder: str | Path, names: list[str]) -> ModuleSet:
    """Import the named top-level modules from `folder`, then hide them from `sys.modules`.

    Modules keep references to each other through their globals, so a student's
    `from layers import affine_forward` keeps working, while a second folder with
    the same module names (the reference) can be loaded side by side.
    """
    folder = Path(folder).resolve()
    saved_path = sys.path[:]
    shadowed = {n: sys.modules.pop(n) for n in names if n in sys.modules}
    sys.path.insert(0, str(folder))
    importlib.invalidate_caches()
    try:
        files = [f"{n}.py" for n in names]
        modules = {n: _import_one(n, folder, files) for n in names}
    finally:
        _forget(folder, names)
        sys.path[:] = saved_path
        sys.modules.update(shadowed)
    return ModuleSet(folder, modules)
