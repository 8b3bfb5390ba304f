"""Small real datasets, ready as ``TensorDataset``s: 8x8 digits (offline) and MNIST from IDX files.

``load_digits()`` needs no download: the 1,797 8x8 handwritten digits ship inside
scikit-learn. ``load_mnist(root)`` reads the four standard MNIST IDX files that you put in
``root`` yourself (nothing is downloaded); ``read_idx(path)`` reads any IDX file.

Images come as NCHW float32 in [0, 1], labels as int64, so they feed ``nn.Conv2d`` and
``cross_entropy`` directly::

    from nn.data import DataLoader
    from nn.datasets import load_digits
    train, test = load_digits()
    for x, y in DataLoader(train, batch_size=64, shuffle=True, seed=0):
        ...   # x: (64, 1, 8, 8) float32, y: (64,) int64
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, NamedTuple

import numpy as np

from autograd.tensor import Tensor
from nn.data import TensorDataset

__all__ = ["DIGITS_TEST_SIZE", "Digits", "load_digits", "load_mnist", "read_idx"]

DIGITS_TEST_SIZE = 360
"""How many of the 1,797 digits ``load_digits`` holds out as its test split (the rest, 1,437, train)."""


class Digits(NamedTuple):
    """The split returned by ``load_digits``: ``train`` (1,437 samples) and ``test`` (360).

    Each is a ``TensorDataset`` of ``(image, label)``: images float32 ``(1, 8, 8)`` in [0, 1],
    labels int64 in 0..9. Unpacks as ``train, test = load_digits()``.
    """

    train: TensorDataset
    test: TensorDataset


def _fixed_permutation(n: int, key: int = 0x5EED) -> np.ndarray:
    """A pseudo-random permutation of ``range(n)`` that never changes.

    It sorts the indices by a splitmix64 hash of ``(index + key)``, plain integer arithmetic,
    so unlike numpy's generators it cannot differ between numpy versions or platforms.
    """
    with np.errstate(over="ignore"):
        z = np.arange(n, dtype=np.uint64) + np.uint64(key) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return np.argsort(z, kind="stable")


@lru_cache(maxsize=1)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn.datasets import load_digits as sk_load_digits
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "nn.datasets.load_digits reads the digits that ship with scikit-learn; install it: pip install scikit-learn"
        ) from e
    x, y = sk_load_digits(return_X_y=True)
    images = (np.asarray(x, dtype=np.float32) / np.float32(16.0)).reshape(-1, 1, 8, 8)
    labels = np.asarray(y, dtype=np.int64)
    images.flags.writeable = labels.flags.writeable = False  # the cache is shared; callers get copies
    return images, labels


def load_digits() -> Digits:
    """The 1,797 8x8 handwritten digits bundled with scikit-learn, split into train and test.

    Returns ``Digits(train, test)``, two ``TensorDataset``s of ``(image, label)`` pairs:
    images float32 of shape ``(N, 1, 8, 8)`` scaled to [0, 1] (pixel / 16), labels int64 in
    0..9. The split is fixed: 1,437 training and 360 test samples chosen by a permutation that
    depends on nothing (no seed, no numpy version), so every call returns the same split.
    Within each split the samples keep scikit-learn's order. Each call returns fresh tensors.
    """
    images, labels = _digits_arrays()
    perm = _fixed_permutation(len(labels))
    test_idx = np.sort(perm[:DIGITS_TEST_SIZE])
    train_idx = np.sort(perm[DIGITS_TEST_SIZE:])
    return Digits(
        train=TensorDataset(Tensor._make(images[train_idx]), Tensor._make(labels[train_idx])),
        test=TensorDataset(Tensor._make(images[test_idx]), Tensor._make(labels[test_idx])),
    )


# IDX type codes (the third magic byte) -> big-endian numpy dtypes.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_IDX_NAMES = {0x08: "ubyte", 0x09: "byte", 0x0B: "short", 0x0C: "int", 0x0D: "float", 0x0E: "double"}


_CHUNK = 1 << 20  # data is read (and inflated) a MiB at a time: never much past what is there
_MARGIN = 1 << 16  # how far past the announced data a gzip stream is inflated, to see that it ends
_GZIP_ERRORS = (OSError, EOFError, zlib.error)  # (gzip.BadGzipFile is an OSError)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzipped or not, into a numpy array.

    The format: two zero bytes, a type code (0x08 ubyte, 0x09 byte, 0x0B short, 0x0C int,
    0x0D float, 0x0E double), the number of dimensions, then each dimension as a big-endian
    int32, then the data, big-endian, row-major. Gzip is recognised by content. The result
    has that dtype in native byte order (uint8, int8, int16, int32, float32, float64).

    The header is read first, and a gzipped file is inflated only as far as the header says
    (plus a small margin, to see that nothing follows): a small hostile file cannot make it
    inflate gigabytes, nor a lying header allocate them. Raises ``ValueError`` naming the
    file, what was expected and what was found, for a bad magic number, an unknown type
    code, a truncated or corrupt file (gzip included) or trailing bytes.
    """
    path = Path(path)
    with path.open("rb") as f:
        if f.read(2) != b"\x1f\x8b":  # not gzip (by content, whatever the file name says)
            f.seek(0)
            return _read_idx_stream(path, f, os.fstat(f.fileno()).st_size)
        f.seek(0)
        try:
            with gzip.GzipFile(fileobj=f) as inflated:
                return _read_idx_stream(path, inflated, None)
        except _GZIP_ERRORS as e:
            raise ValueError(f"{path}: corrupt or truncated gzip file ({e})") from e


def _read_idx_stream(path: Path, f: BinaryIO, size: int | None) -> np.ndarray:
    """The IDX array in ``f``: the header, then exactly the data it announces.

    ``size``, the file's size, is known for a plain file, so the data's length is checked
    before it is read; a gzip stream (None) is read a chunk at a time until the announced
    length, then one more chunk must find its end.
    """
    magic = f.read(4)
    if len(magic) < 4:
        raise ValueError(
            f"{path}: truncated IDX file: expected at least a 4-byte magic number, found {len(magic)} bytes"
        )
    if magic[:2] != b"\x00\x00":
        raise ValueError(
            f"{path}: not an IDX file: expected a magic number starting with two zero bytes "
            f"(00 00 <type code> <ndim>), found {magic.hex(' ')}"
        )
    code, ndim = magic[2], magic[3]
    if code not in _IDX_DTYPES:
        known = ", ".join(f"0x{c:02X} ({name})" for c, name in _IDX_NAMES.items())
        raise ValueError(f"{path}: unknown IDX type code 0x{code:02X}; expected one of {known}")
    header = 4 + 4 * ndim
    dims = f.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise ValueError(
            f"{path}: truncated IDX header: expected {header} bytes for {ndim} dimensions, found {4 + len(dims)}"
        )
    shape = tuple(int(d) for d in np.frombuffer(dims, dtype=">i4"))
    if any(d < 0 for d in shape):
        raise ValueError(f"{path}: corrupt IDX header: negative dimension in {shape}")
    dtype = _IDX_DTYPES[code]
    count = math.prod(shape)
    expected = count * dtype.itemsize
    what = f"{expected} data bytes for shape {shape} of {_IDX_NAMES[code]}"
    if size is not None and size - header < expected:
        raise ValueError(f"{path}: truncated IDX file: expected {what}, found {size - header}")
    if size is not None and size - header > expected:
        found = size - header
        raise ValueError(
            f"{path}: corrupt IDX file: expected {what}, found {found} ({found - expected} trailing bytes)"
        )
    data = bytearray()
    while len(data) < expected:
        chunk = f.read(min(_CHUNK, expected - len(data)))
        if not chunk:
            raise ValueError(f"{path}: truncated IDX file: expected {what}, found {len(data)}")
        data += chunk
    extra = len(f.read(_MARGIN))  # (for gzip this also reaches the end, where the checksum is checked)
    if extra:
        more = f"at least {extra}" if extra == _MARGIN else f"{extra}"
        raise ValueError(f"{path}: corrupt IDX file: expected {what}, found {more} trailing bytes after them")
    array = np.frombuffer(data, dtype=dtype, count=count).reshape(shape)  # (writable: data is a bytearray)
    return array if dtype.itemsize == 1 else array.astype(dtype.newbyteorder("="))  # native byte order


_MNIST_FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _find(dirs: list[Path], name: str) -> Path | None:
    for d in dirs:
        for candidate in (d / name, d / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def load_mnist(root: str | os.PathLike, train: bool = True) -> TensorDataset:
    """MNIST (or any dataset in its file layout, e.g. Fashion-MNIST) from IDX files in ``root``.

    Reads ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte`` (``train=True``) or
    ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` (``train=False``), each
    optionally gzipped (``.gz``), from ``root`` or ``root/MNIST/raw`` (torchvision's layout).
    Nothing is downloaded: a missing file raises ``FileNotFoundError`` listing the names.

    Returns a ``TensorDataset`` of ``(image, label)``: images float32 of shape
    ``(N, 1, 28, 28)`` scaled to [0, 1] (pixel / 255), labels int64.
    """
    root = Path(root)
    dirs = [root, root / "MNIST" / "raw"]
    names = _MNIST_FILES[bool(train)]
    found = [_find(dirs, name) for name in names]
    if any(f is None for f in found):
        missing = [n for n, f in zip(names, found) if f is None]
        wanted = ", ".join(f"{n}[.gz]" for n in names)
        where = " or ".join(str(d) for d in dirs)
        raise FileNotFoundError(
            f"load_mnist: missing {', '.join(missing)} in {where}. The {'train' if train else 'test'} split "
            f"needs {wanted} (all four MNIST files: train-images-idx3-ubyte, train-labels-idx1-ubyte, "
            f"t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte); nothing is downloaded, put them there yourself"
        )
    images_path, labels_path = found
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(
            f"{images_path}: expected uint8 images of shape (N, rows, cols), found {images.dtype} {images.shape}"
        )
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise ValueError(f"{labels_path}: expected uint8 labels of shape (N,), found {labels.dtype} {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(f"load_mnist: {len(images)} images in {images_path} but {len(labels)} labels in {labels_path}")
    x = (images.astype(np.float32) / np.float32(255.0))[:, None]
    return TensorDataset(Tensor._make(x), Tensor._make(labels.astype(np.int64)))
