"""nn.data (Dataset, TensorDataset, DataLoader, default_collate) and nn.datasets (digits, IDX, MNIST)."""

import gzip
import struct
from collections import OrderedDict, namedtuple

import numpy as np
import pytest

import autograd
from nn.data import DataLoader, Dataset, TensorDataset, default_collate
from nn.datasets import Digits, load_digits, load_mnist, read_idx


def _dataset(n=10):
    x = autograd.tensor(np.arange(n * 3, dtype=np.float32).reshape(n, 3))
    y = autograd.tensor(np.arange(n))
    return TensorDataset(x, y)


class Squares(Dataset):
    """A generic (non-TensorDataset) dataset: sample i is (array [i, i*i], label i)."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return np.array([i, i * i], dtype=np.float32), i

    def __len__(self):
        return self.n


def _labels(loader):
    return [b[1]._data.tolist() for b in loader]


# ------------------------------------------------------------------------------- TensorDataset
def test_tensor_dataset_items_are_tuples_of_tensors():
    ds = _dataset(4)
    assert len(ds) == 4
    x, y = ds[2]
    assert isinstance(x, autograd.Tensor) and isinstance(y, autograd.Tensor)
    np.testing.assert_array_equal(x._data, [6, 7, 8])
    assert y.shape == () and y.item() == 2 and y.dtype == np.int64
    assert ds[-1][1].item() == 3
    x._data[0] = -1  # items are copies
    assert ds.tensors[0]._data[2, 0] == 6
    (only,) = TensorDataset(autograd.arange(3))[1]  # one tensor: still a 1-tuple
    assert only.item() == 1
    with pytest.raises(IndexError):
        ds[4]


def test_tensor_dataset_accepts_numpy_and_checks_shapes():
    ds = TensorDataset(np.zeros((5, 2)), np.arange(5))
    assert isinstance(ds.tensors[0], autograd.Tensor) and len(ds) == 5
    with pytest.raises(ValueError, match=r"same size in dim 0.*\(5, 2\), \(4,\)"):
        TensorDataset(np.zeros((5, 2)), np.arange(4))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(ValueError, match="0-dimensional"):
        TensorDataset(autograd.tensor(1.0))
    with pytest.raises(TypeError, match="argument 1"):
        TensorDataset(np.zeros(3), [1, 2, 3])


def test_base_dataset_is_abstract():
    with pytest.raises(NotImplementedError):
        Dataset()[0]
    with pytest.raises(NotImplementedError):
        len(Dataset())


# ---------------------------------------------------------------------------------- DataLoader
@pytest.mark.parametrize("n,bs,drop_last,sizes", [(10, 3, False, [3, 3, 3, 1]), (10, 3, True, [3, 3, 3]),
                                                  (9, 3, True, [3, 3, 3]), (2, 5, False, [2]), (2, 5, True, []),
                                                  (0, 4, False, [])])  # fmt: skip
def test_batch_shapes_len_and_drop_last(n, bs, drop_last, sizes):
    loader = DataLoader(_dataset(n), batch_size=bs, drop_last=drop_last)
    assert len(loader) == len(sizes)
    batches = list(loader)
    assert [len(b[1]) for b in batches] == sizes
    for x, y in batches:
        assert x.shape == (len(y), 3) and x.dtype == np.float32 and y.dtype == np.int64
        assert not x.requires_grad


def test_unshuffled_order_and_values():
    ds = _dataset(7)
    x, y = next(iter(DataLoader(ds, batch_size=4)))
    np.testing.assert_array_equal(y._data, [0, 1, 2, 3])
    np.testing.assert_array_equal(x._data, ds.tensors[0]._data[:4])
    x._data[:] = 0  # batches are copies
    assert ds.tensors[0]._data[1, 0] == 3


@pytest.mark.parametrize("dataset", [_dataset(23), Squares(23)], ids=["tensor_dataset", "generic"])
def test_each_epoch_visits_every_sample_once(dataset):
    loader = DataLoader(dataset, batch_size=5, shuffle=True, seed=3)
    for _ in range(3):
        seen = np.concatenate([np.asarray(b[1]._data) for b in loader])
        assert sorted(seen.tolist()) == list(range(23))
    dropped = np.concatenate([np.asarray(b[1]._data) for b in DataLoader(dataset, 5, shuffle=True, drop_last=True)])
    assert len(dropped) == 20 and len(set(dropped.tolist())) == 20


def test_seeded_shuffle_is_reproducible_and_changes_per_epoch():
    a = DataLoader(_dataset(50), batch_size=8, shuffle=True, seed=7)
    b = DataLoader(_dataset(50), batch_size=8, shuffle=True, seed=7)
    a0, a1 = _labels(a), _labels(a)
    assert a0 == _labels(b) and a1 == _labels(b)  # same seed, same epochs -> same batches
    assert a0 != a1  # consecutive epochs differ
    assert a0 != list(range(50))
    assert _labels(DataLoader(_dataset(50), batch_size=8, shuffle=True, seed=8)) != a0
    a.set_epoch(1)
    assert _labels(a) == a1  # resume at an epoch
    with pytest.raises(ValueError):
        a.set_epoch(-1)


def test_seeded_shuffle_same_for_generic_and_tensor_datasets():
    fast = DataLoader(_dataset(20), batch_size=6, shuffle=True, seed=1)
    slow = DataLoader(Squares(20), batch_size=6, shuffle=True, seed=1)
    assert _labels(fast) == _labels(slow)


def test_unseeded_shuffle_follows_manual_seed():
    loader = DataLoader(_dataset(40), batch_size=8, shuffle=True)
    autograd.manual_seed(123)
    first = _labels(loader) + _labels(loader)
    autograd.manual_seed(123)
    again = _labels(loader) + _labels(loader)
    assert first == again
    assert first[:5] != first[5:]  # the generator advances between epochs


def test_order_is_fixed_when_iteration_starts():
    loader = DataLoader(_dataset(12), batch_size=4, shuffle=True, seed=0)
    it0, it1 = iter(loader), iter(loader)  # two epochs started before either is consumed
    e0, e1 = [b[1]._data.tolist() for b in it0], [b[1]._data.tolist() for b in it1]
    ref = DataLoader(_dataset(12), batch_size=4, shuffle=True, seed=0)
    assert e0 == _labels(ref) and e1 == _labels(ref)


def test_generic_dataset_collates_tuples():
    x, y = next(iter(DataLoader(Squares(5), batch_size=3)))
    assert isinstance(x, autograd.Tensor) and x.shape == (3, 2) and x.dtype == np.float32
    np.testing.assert_array_equal(x._data, [[0, 0], [1, 1], [2, 4]])
    assert y.dtype == np.int64 and y._data.tolist() == [0, 1, 2]


def test_default_collate_containers_and_numbers():
    Pair = namedtuple("Pair", "a b")
    samples = [
        {"x": autograd.tensor([i, i]), "p": Pair(float(i), True), "s": f"n{i}", "l": [i, np.float64(i)]}
        for i in range(3)
    ]
    batch = default_collate(samples)
    assert batch["x"].shape == (3, 2) and batch["x"].dtype == np.int64
    assert isinstance(batch["p"], Pair)
    assert batch["p"].a.dtype == np.float32 and batch["p"].b.dtype == np.bool_
    assert batch["s"] == ["n0", "n1", "n2"]
    assert isinstance(batch["l"], list) and batch["l"][0].dtype == np.int64 and batch["l"][1].dtype == np.float64
    od = default_collate([OrderedDict(a=1), OrderedDict(a=2)])
    assert type(od) is OrderedDict and od["a"]._data.tolist() == [1, 2]


def test_default_collate_errors():
    with pytest.raises(ValueError, match="sample 1 has shape"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(ValueError, match="no samples"):
        default_collate([])
    with pytest.raises(ValueError, match="length 2"):
        default_collate([(1, 2), (1,)])
    with pytest.raises(ValueError, match="keys"):
        default_collate([{"a": 1}, {"b": 1}])
    with pytest.raises(TypeError, match="object"):
        default_collate([object(), object()])


def test_custom_collate_fn_gets_the_samples():
    loader = DataLoader(_dataset(5), batch_size=2, collate_fn=lambda samples: len(samples))
    assert list(loader) == [2, 2, 1]


def test_dataloader_argument_errors():
    ds = _dataset(4)
    with pytest.raises(ValueError, match="batch_size must be at least 1, got 0"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="at least 1"):
        DataLoader(ds, batch_size=-2)
    with pytest.raises(TypeError, match="batch_size must be an int"):
        DataLoader(ds, batch_size=2.0)
    with pytest.raises(TypeError, match="batch_size"):
        DataLoader(ds, batch_size=True)
    with pytest.raises(TypeError, match="shuffle"):
        DataLoader(ds, shuffle="yes")
    with pytest.raises(TypeError, match="drop_last"):
        DataLoader(ds, drop_last=None)
    with pytest.raises(ValueError, match="seed"):
        DataLoader(ds, seed=-1)
    with pytest.raises(TypeError, match="seed"):
        DataLoader(ds, seed=1.5)
    with pytest.raises(TypeError, match="__getitem__ and __len__"):
        DataLoader([1, 2, 3].__iter__())
    with pytest.raises(TypeError, match="collate_fn"):
        DataLoader(ds, collate_fn=3)


# ------------------------------------------------------------------------------------- digits
@pytest.fixture(scope="module")
def digits():
    pytest.importorskip("sklearn")
    return load_digits()


def test_load_digits_shapes_dtypes_and_split(digits):
    assert isinstance(digits, Digits)
    train, test = digits
    assert len(train) == 1437 and len(test) == 360
    for ds in (train, test):
        x, y = ds.tensors
        assert x.shape == (len(ds), 1, 8, 8) and x.dtype == np.float32
        assert y.shape == (len(ds),) and y.dtype == np.int64
        assert x._data.min() == 0.0 and x._data.max() == 1.0
        assert set(np.unique(x._data * 16).tolist()) <= set(range(17))  # pixel / 16
        assert sorted(np.unique(y._data).tolist()) == list(range(10))


def test_load_digits_split_is_fixed_and_disjoint(digits):
    again = load_digits()
    for a, b in zip(digits, again):
        for ta, tb in zip(a.tensors, b.tensors):
            np.testing.assert_array_equal(ta._data, tb._data)
    again.train.tensors[0]._data[0] = 5.0  # fresh tensors per call: editing one leaves others intact
    assert load_digits().train.tensors[0]._data[0].max() <= 1.0
    from sklearn.datasets import load_digits as sk_load

    x_all = sk_load().data.astype(np.float32)
    split = np.concatenate([d.tensors[0]._data.reshape(-1, 64) * 16 for d in digits])
    y_split = np.concatenate([d.tensors[1]._data for d in digits])

    def rows_sorted(x, y):
        table = np.column_stack([x, y])
        return table[np.lexsort(table.T[::-1])]

    # train + test is exactly the original data (as a multiset of (image, label) rows): nothing lost or repeated
    np.testing.assert_array_equal(rows_sorted(split, y_split), rows_sorted(x_all, sk_load().target))


# ---------------------------------------------------------------------------------------- IDX
_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E}


def _idx_bytes(a):
    """IDX bytes written independently of the reader: magic, big-endian dims, big-endian data."""
    a = np.asarray(a)
    header = bytes([0, 0, _CODES[a.dtype.type], a.ndim]) + struct.pack(f">{a.ndim}i", *a.shape)
    return header + a.astype(a.dtype.newbyteorder(">")).tobytes()


def _write(path, a, gz=False):
    data = _idx_bytes(a)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_read_idx_dtypes_round_trip(tmp_path, dtype):
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((4, 3, 2)) * 50).astype(dtype)
    out = read_idx(_write(tmp_path / "a.idx", a))
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, a)
    assert out.flags.writeable


def test_read_idx_images_labels_and_gzip(tmp_path):
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    labels = np.array([7, 3], dtype=np.uint8)
    np.testing.assert_array_equal(read_idx(_write(tmp_path / "img", images)), images)
    np.testing.assert_array_equal(read_idx(_write(tmp_path / "img.gz", images, gz=True)), images)
    np.testing.assert_array_equal(read_idx(str(_write(tmp_path / "lab.gz", labels, gz=True))), labels)
    assert read_idx(_write(tmp_path / "empty", np.zeros((0, 5), np.float32))).shape == (0, 5)


def test_read_idx_errors(tmp_path):
    good = _idx_bytes(np.arange(12, dtype=np.uint8).reshape(3, 4))
    bad_magic = tmp_path / "bad_magic"
    bad_magic.write_bytes(b"\x01\x02" + good[2:])
    with pytest.raises(ValueError, match=r"bad_magic.*two zero bytes.*found 01 02 08 02"):
        read_idx(bad_magic)
    bad_code = tmp_path / "bad_code"
    bad_code.write_bytes(b"\x00\x00\x07" + good[3:])
    with pytest.raises(ValueError, match="unknown IDX type code 0x07"):
        read_idx(bad_code)
    truncated = tmp_path / "truncated"
    truncated.write_bytes(good[:-3])
    with pytest.raises(ValueError, match=r"truncated.*expected 12 data bytes for shape \(3, 4\).*found 9"):
        read_idx(truncated)
    truncated.write_bytes(good[:6])
    with pytest.raises(ValueError, match="truncated IDX header"):
        read_idx(truncated)
    truncated.write_bytes(good[:2])
    with pytest.raises(ValueError, match="at least a 4-byte"):
        read_idx(truncated)
    trailing = tmp_path / "trailing"
    trailing.write_bytes(good + b"\x00")
    with pytest.raises(ValueError, match="1 trailing bytes"):
        read_idx(trailing)
    bad_gz = tmp_path / "bad.gz"
    bad_gz.write_bytes(gzip.compress(good)[:-6])
    with pytest.raises(ValueError, match="gzip"):
        read_idx(bad_gz)
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "missing")


# -------------------------------------------------------------------------------------- MNIST
def _tiny_mnist(root, prefix, n, gz):
    images = np.random.default_rng(n).integers(0, 256, (n, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255
    labels = np.arange(n, dtype=np.uint8) % 10
    suffix = ".gz" if gz else ""
    _write(root / f"{prefix}-images-idx3-ubyte{suffix}", images, gz)
    _write(root / f"{prefix}-labels-idx1-ubyte{suffix}", labels, gz)
    return images, labels


def test_load_mnist_from_tiny_files(tmp_path):
    train_images, train_labels = _tiny_mnist(tmp_path, "train", 6, gz=False)
    test_images, test_labels = _tiny_mnist(tmp_path, "t10k", 4, gz=True)
    for train, images, labels in ((True, train_images, train_labels), (False, test_images, test_labels)):
        ds = load_mnist(tmp_path, train=train)
        x, y = ds.tensors
        assert x.shape == (len(labels), 1, 28, 28) and x.dtype == np.float32
        assert y.dtype == np.int64 and y._data.tolist() == labels.tolist()
        np.testing.assert_allclose(x._data[:, 0], images / 255.0, rtol=1e-6)
        assert x._data.min() == 0.0 and x._data.max() == 1.0


def test_load_mnist_torchvision_layout(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    _tiny_mnist(raw, "t10k", 3, gz=False)
    assert len(load_mnist(str(tmp_path), train=False)) == 3


def test_load_mnist_missing_and_mismatched(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"train-images-idx3-ubyte.*train-labels-idx1-ubyte"):
        load_mnist(tmp_path)
    _tiny_mnist(tmp_path, "train", 5, gz=False)
    with pytest.raises(FileNotFoundError, match=r"missing t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte"):
        load_mnist(tmp_path, train=False)
    _write(tmp_path / "train-labels-idx1-ubyte", np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match="5 images.*4 labels"):
        load_mnist(tmp_path)


def test_collate_bools_mixed_with_numbers_are_numbers():
    assert default_collate([True, 2]).tolist() == [1, 2] and default_collate([2, True]).tolist() == [2, 1]
    assert default_collate([True, False]).dtype == np.bool_
