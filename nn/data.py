"""Datasets and mini-batches: ``Dataset``, ``TensorDataset``, ``DataLoader`` and ``default_collate``.

Names follow ``torch.utils._data``::

    from nn.data import DataLoader, TensorDataset
    ds = TensorDataset(images, labels)              # items are (image, label) tuples
    for x, y in DataLoader(ds, batch_size=64, shuffle=True, seed=0):
        ...                                          # x: (64, ...) Tensor, y: (64,) Tensor

Shuffling follows PyTorch's: each epoch draws ``randperm(len(dataset))`` from ``generator`` (an
``autograd.Generator``), so ``DataLoader(ds, shuffle=True, generator=g)`` yields PyTorch's batches
for a ``torch.Generator`` seeded alike; without one, the order comes from the default generator,
so ``autograd.manual_seed(n)`` makes a run repeat (and match PyTorch's). dagrad's own ``seed``
option instead derives epoch ``k``'s order from ``(seed, k)`` alone (numpy's generator; not
PyTorch's numbers): two loaders with the same seed give the same batches, each epoch a new order.

Batches are new leaf tensors (no graph): loading data is not part of what is differentiated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from autograd import random
from autograd.random import Generator
from autograd.tensor import Tensor

__all__ = ["DataLoader", "Dataset", "TensorDataset", "default_collate"]


class Dataset:
    """A map-style dataset: subclasses define ``__getitem__(i)`` (one sample) and ``__len__()``."""

    def __getitem__(self, index: int) -> Any:
        """The sample at ``index`` (0 <= index < len(self))."""
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        """The number of samples."""
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


def _as_tensor(x: Any, position: int) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return Tensor(x)
    raise TypeError(f"TensorDataset: argument {position} is a {type(x).__name__}, expected a Tensor or numpy array")


class TensorDataset(Dataset):
    """Samples are slices of tensors along dim 0: item ``i`` is ``(t[i] for t in tensors)``.

    All tensors must have the same size in dim 0. Items are tuples of Tensors, also for a
    single tensor (a 1-tuple, as in PyTorch). Numpy arrays are accepted and copied into Tensors.
    """

    def __init__(self, *tensors: Tensor | np.ndarray) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        ts = tuple(_as_tensor(t, i) for i, t in enumerate(tensors))
        for i, t in enumerate(ts):
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: tensor {i} is 0-dimensional; every tensor needs a dim 0 to index")
        if len({t.shape[0] for t in ts}) > 1:
            shapes = ", ".join(str(tuple(t.shape)) for t in ts)
            raise ValueError(f"TensorDataset: all tensors need the same size in dim 0, got shapes {shapes}")
        self.tensors: tuple[Tensor, ...] = ts

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        """A tuple with each tensor's row ``index`` (copied, so editing it leaves the dataset intact)."""
        return tuple(Tensor._make(np.array(t._data[index])) for t in self.tensors)

    def __len__(self) -> int:
        """The size of dim 0."""
        return self.tensors[0].shape[0]

    def _batch(self, indices: np.ndarray) -> tuple[Tensor, ...]:
        """Rows ``indices`` of every tensor in one fancy-indexing gather (no per-sample loop)."""
        return tuple(Tensor._make(t._data[indices]) for t in self.tensors)

    def __repr__(self) -> str:
        shapes = ", ".join(str(tuple(t.shape)) for t in self.tensors)
        return f"TensorDataset({len(self)} samples; shapes {shapes})"


def _stack(arrays: Sequence[np.ndarray]) -> Tensor:
    shape0 = arrays[0].shape
    for i, a in enumerate(arrays):
        if a.shape != shape0:
            raise ValueError(
                f"default_collate: cannot stack samples of different shapes: "
                f"sample {i} has shape {a.shape} but sample 0 has shape {shape0}"
            )
    return Tensor._make(np.stack(arrays))


def default_collate(samples: Sequence[Any]) -> Any:
    """Merge a list of samples into one batch by stacking along a new dim 0.

    Tensors and numpy arrays become one Tensor of shape ``(len(samples), *shape)``; Python
    numbers become a 1-d Tensor (bool -> bool, int -> int64, float -> float32); numpy scalars
    keep their dtype; strings stay a list. Tuples (named tuples included), lists and dicts are
    collated position by position / key by key and keep their container type.
    """
    if len(samples) == 0:
        raise ValueError("default_collate: got no samples")
    first = samples[0]
    if isinstance(first, (Tensor, np.ndarray)):
        arrays = []
        for i, s in enumerate(samples):
            if not isinstance(s, (Tensor, np.ndarray)):
                raise TypeError(f"default_collate: sample {i} is a {type(s).__name__} but sample 0 is an array")
            arrays.append(s._data if isinstance(s, Tensor) else np.asarray(s))
        return _stack(arrays)
    if isinstance(first, (str, bytes)):
        return list(samples)
    if isinstance(first, (bool, np.bool_)) and all(isinstance(s, (bool, np.bool_)) for s in samples):
        return Tensor._make(np.array(samples, dtype=np.bool_))  # (bools mixed with numbers: numbers)
    if isinstance(first, (int, float, np.number, np.bool_)):
        data = np.array(samples)
        if not isinstance(first, np.number) and data.dtype == np.float64:
            data = data.astype(np.float32)  # Python floats: float32, autograd's default dtype
        if data.dtype.kind not in "biufc":
            raise TypeError(f"default_collate: cannot batch numbers of mixed types ({data.dtype})")
        return Tensor._make(data)
    if isinstance(first, Mapping):
        keys = list(first.keys())
        for i, s in enumerate(samples):
            if not isinstance(s, Mapping) or set(s.keys()) != set(keys):
                raise ValueError(f"default_collate: sample {i} does not have the keys {keys} of sample 0")
        batch = {k: default_collate([s[k] for s in samples]) for k in keys}
        if type(first) is not dict:
            try:  # keep e.g. an OrderedDict; fall back to a dict for types that can't be rebuilt
                return type(first)(batch)
            except Exception:
                pass
        return batch
    if isinstance(first, (tuple, list)):
        n = len(first)
        for i, s in enumerate(samples):
            if not isinstance(s, (tuple, list)) or len(s) != n:
                raise ValueError(f"default_collate: sample {i} is not a sequence of length {n} like sample 0")
        fields = [default_collate([s[j] for s in samples]) for j in range(n)]
        if isinstance(first, tuple):
            return type(first)(*fields) if hasattr(first, "_fields") else tuple(fields)
        return fields
    raise TypeError(f"default_collate: cannot batch samples of type {type(first).__name__}")


def _check_flag(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"DataLoader: {name} must be True or False, got {value!r}")
    return bool(value)


class DataLoader:
    """Iterate over a dataset in mini-batches.

    Args:
        dataset: a ``Dataset`` (anything with ``__getitem__`` and ``__len__``).
        batch_size: samples per batch (>= 1); the last batch may be smaller unless ``drop_last``.
        shuffle: visit the samples in a new random order every epoch.
        drop_last: skip the last batch when it has fewer than ``batch_size`` samples.
        seed: with shuffling, epoch ``k`` (the ``k``-th ``iter()``, counting from 0) uses a
            permutation derived from ``(seed, k)`` (dagrad's option; give it or ``generator``).
        collate_fn: merges a list of samples into a batch (default: ``default_collate``).
        generator: the ``autograd.Generator`` to shuffle with (default: the default generator).

    Each ``iter(loader)`` is one epoch and visits every sample exactly once (bar a dropped last
    batch). A ``TensorDataset`` with the default collate is batched with one numpy gather per
    tensor, with no Python loop over samples. ``len(loader)`` is the number of batches.

    The random numbers are drawn as PyTorch's ``DataLoader`` draws them, so that everything drawn
    after matches too: ``iter()`` draws a 64-bit base seed from ``generator`` (or the default
    generator), even without shuffling (PyTorch hands it to worker processes; dagrad has none and
    drops it); the first batch then draws the epoch's order: ``randperm(n, generator=generator)``,
    or, without a generator, a 64-bit seed from the default generator for a new generator that
    draws the ``randperm``.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | None = None,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        generator: Generator | None = None,
    ) -> None:
        if not (hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")):
            raise TypeError(f"DataLoader: the dataset ({type(dataset).__name__}) needs __getitem__ and __len__")
        if isinstance(batch_size, (bool, np.bool_)) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(f"DataLoader: batch_size must be an int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be at least 1, got {batch_size}")
        if seed is not None:
            if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
                raise TypeError(f"DataLoader: seed must be an int or None, got {seed!r}")
            if seed < 0:
                raise ValueError(f"DataLoader: seed must be non-negative, got {seed}")
        if generator is not None:
            if not isinstance(generator, Generator):
                raise TypeError(f"DataLoader: generator must be an autograd.Generator, got {type(generator).__name__}")
            if seed is not None:
                raise ValueError("DataLoader: give seed or generator, not both")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn must be callable, got {collate_fn!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = _check_flag("shuffle", shuffle)
        self.drop_last = _check_flag("drop_last", drop_last)
        self.seed = None if seed is None else int(seed)
        self.collate_fn = collate_fn
        self.generator = generator
        self.epoch = 0  # the epoch number the next iter() uses

    def set_epoch(self, epoch: int) -> None:
        """Make the next ``iter()`` epoch number ``epoch`` (e.g. to resume a seeded run)."""
        if isinstance(epoch, (bool, np.bool_)) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
            raise ValueError(f"DataLoader.set_epoch: epoch must be a non-negative int, got {epoch!r}")
        self.epoch = int(epoch)

    def __len__(self) -> int:
        """The number of batches in one epoch."""
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self, epoch: int) -> tuple[np.ndarray, Generator | None]:
        """The epoch's order of samples, and the generator that shuffled it (if PyTorch's way)."""
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n), None
        if self.seed is not None:
            return np.random.default_rng([self.seed, epoch]).permutation(n), None
        generator = self.generator
        if generator is None:  # PyTorch's RandomSampler: a fresh generator seeded from the default one
            generator = Generator().manual_seed(random.int64_seed())
        return random.randperm(n, generator=generator)._data, generator

    def __iter__(self) -> Iterator[Any]:
        """Start an epoch: draw the base seed (as PyTorch) and advance the epoch counter; the order
        is drawn with the first batch, and batches come lazily."""
        random.int64_seed(self.generator)  # PyTorch's per-epoch base seed (for worker processes; unused here)
        self.epoch += 1
        return self._batches(self.epoch - 1)

    def _batches(self, epoch: int) -> Iterator[Any]:
        order, shuffler = self._order(epoch)
        bs, n = self.batch_size, len(order)
        stop = n - n % bs if self.drop_last else n
        ds = self.dataset
        fast = (
            self.collate_fn is None
            and isinstance(ds, TensorDataset)
            and type(ds).__getitem__ is TensorDataset.__getitem__
        )
        collate = self.collate_fn or default_collate
        for start in range(0, stop, bs):
            idx = order[start : start + bs]
            if shuffler is not None and start + bs > n:  # the short last batch: PyTorch's sampler runs out here
                random.randperm(n, generator=shuffler)
                shuffler = None
            if fast:
                yield ds._batch(idx)
            else:
                yield collate([ds[int(i)] for i in idx])
        if shuffler is not None:
            # PyTorch's RandomSampler, asked for an index after its n, draws one more randperm(n) (and
            # yields none of it): this keeps a shared generator in step with PyTorch's.
            random.randperm(n, generator=shuffler)

    def __repr__(self) -> str:
        return (
            f"DataLoader({type(self.dataset).__name__}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"drop_last={self.drop_last}, seed={self.seed})"
        )
