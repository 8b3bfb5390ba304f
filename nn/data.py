"""Datasets, samplers and mini-batches, named as ``torch.utils.data``.

::

    from nn.data import DataLoader, TensorDataset, random_split
    ds = TensorDataset(images, labels)              # items are (image, label) tuples
    train, val = random_split(ds, [0.8, 0.2], generator=autograd.Generator().manual_seed(0))
    for x, y in DataLoader(train, batch_size=64, shuffle=True):
        ...                                          # x: (64, ...) Tensor, y: (64,) Tensor

``autograd.utils.data`` holds the same objects, so ``from torch.utils.data import DataLoader``
ports as ``from autograd.utils.data import DataLoader``.

The pieces, as in PyTorch: a **dataset** maps an index to a sample (``Dataset``,
``TensorDataset``, ``Subset``, ``ConcatDataset``); a **sampler** says in which order to visit
the indices (``SequentialSampler``, ``RandomSampler``, ``SubsetRandomSampler``,
``WeightedRandomSampler``); a ``BatchSampler`` cuts that order into lists of indices; the
``DataLoader`` fetches each list's samples and merges them with ``collate_fn``
(``default_collate`` stacks them into one Tensor per field).

Random numbers are drawn as PyTorch draws them (the same calls, in the same order, on the same
generators), so ``shuffle=True``, ``random_split`` and the samplers give PyTorch's indices for
the same seed, and everything drawn afterwards matches too. dagrad's own ``seed`` option of
``DataLoader`` instead derives epoch ``k``'s order from ``(seed, k)`` alone (numpy's generator;
not PyTorch's numbers): two loaders with the same seed give the same batches, each epoch a new
order, whatever else draws random numbers.

Batches are new leaf tensors (no graph): loading data is not part of what is differentiated.
Built-in samplers hand out their indices as numpy arrays, and a ``TensorDataset`` (or a
``Subset`` of one) with the default collate is batched with one numpy gather per tensor, with no
Python loop over samples.
"""

from __future__ import annotations

import bisect
import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from autograd import random
from autograd.random import Generator
from autograd.tensor import Tensor, as_array, values_of

__all__ = [
    "BatchSampler",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "random_split",
]


class Dataset:
    """A map-style dataset: subclasses define ``__getitem__(i)`` (one sample) and ``__len__()``.

    ``a + b`` concatenates two datasets (a ``ConcatDataset``), as in PyTorch.
    """

    def __getitem__(self, index: int) -> Any:
        """The sample at ``index`` (0 <= index < len(self))."""
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        """The number of samples."""
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        """The samples of ``self`` followed by those of ``other``."""
        return ConcatDataset([self, other])


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
            arrays.append(as_array(s))
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


def _index_array(indices: Any) -> np.ndarray:
    """Indices (a list, range, numpy array or Tensor of ints) as an int64 numpy array."""
    a = as_array(indices)
    if a.size == 0:
        return np.zeros(0, dtype=np.int64)
    if a.ndim != 1 or a.dtype.kind not in "iu":
        raise TypeError(f"indices must be a 1-d sequence of ints, got {type(indices).__name__} of {a.dtype} {a.shape}")
    return a.astype(np.int64, copy=False)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``: item ``i`` is ``dataset[indices[i]]``.

    ``random_split`` returns these. The indices are read when batches are made; if you change
    them, assign a new sequence to ``subset.indices`` rather than editing the list in place.
    """

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices
        self._indices_seen: Any = None  # (the sequence _indices_array was made from)
        self._indices_array = np.zeros(0, dtype=np.int64)

    def __getitem__(self, index: int | list[int]) -> Any:
        """``dataset[indices[index]]``; a list of positions gives a list of samples."""
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices: list[int]) -> list[Any]:
        """The samples at several positions (the DataLoader calls this with each batch's positions)."""
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        """The number of indices."""
        return len(self.indices)

    def _positions(self, idx: np.ndarray) -> np.ndarray:
        """The dataset's indices at positions ``idx`` (one numpy gather)."""
        if self._indices_seen is not self.indices:
            self._indices_array, self._indices_seen = _index_array(self.indices), self.indices
        return self._indices_array[idx]

    def __repr__(self) -> str:
        return f"Subset({type(self.dataset).__name__}, {len(self)} of {len(self.dataset)} samples)"


class ConcatDataset(Dataset):
    """Several datasets one after the other: indices ``0 .. len(a)-1`` are ``a``'s, then ``b``'s, ...

    ``cumulative_sizes[k]`` is the number of samples in the first ``k + 1`` datasets.
    """

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets: list[Dataset] = list(datasets)
        if len(self.datasets) == 0:
            raise AssertionError("datasets should not be an empty iterable")
        self.cumulative_sizes: list[int] = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        """The total number of samples."""
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        """Sample ``index`` of the concatenation (negative indices count from the end)."""
        n = len(self)
        if index < 0:
            if -index > n:
                raise ValueError("absolute value of index should not exceed dataset length")
            index = n + index
        if index >= n:
            raise IndexError(f"index {index} is out of range for a ConcatDataset of {n} samples")
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][index - start]


def random_split(dataset: Dataset, lengths: Sequence[int | float], generator: Generator | None = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random ``Subset``s of the given lengths.

    ``lengths`` are sizes that add up to ``len(dataset)``, or fractions that add up to 1: each
    fraction gets ``floor(len * fraction)`` samples and the samples left over go one each to
    the first splits, round-robin. The order is ``randperm(len(dataset), generator=generator)``
    (the default generator when None), so a generator seeded as PyTorch's gives PyTorch's split.
    """
    lengths = list(lengths)
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        sizes = []
        for i, fraction in enumerate(lengths):
            if fraction < 0 or fraction > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            sizes.append(int(math.floor(n * fraction)))
        for i in range(n - sum(sizes)):  # (at most one per split)
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(
                    f"Length of split at index {i} is 0. This might result in an empty dataset.", stacklevel=2
                )
        lengths = sizes
    if sum(lengths) != n:
        raise ValueError(
            f"Sum of input lengths does not equal the length of the input dataset! "
            f"(lengths {lengths} add up to {sum(lengths)}, the dataset has {n} samples)"
        )
    order = random.randperm(n, generator=generator)._data.tolist()
    ends = np.cumsum(lengths).tolist()
    return [Subset(dataset, order[end - length : end]) for end, length in zip(ends, lengths)]


def _gather(dataset: Any, idx: np.ndarray) -> tuple[Tensor, ...] | None:
    """The default-collated batch at ``idx`` in one numpy gather, or None where that is not possible."""
    if isinstance(dataset, TensorDataset) and type(dataset).__getitem__ is TensorDataset.__getitem__:
        return dataset._batch(idx)
    if (
        isinstance(dataset, Subset)
        and type(dataset).__getitem__ is Subset.__getitem__
        and type(dataset).__getitems__ is Subset.__getitems__
    ):
        return _gather(dataset.dataset, dataset._positions(idx))
    return None


def default_convert(data: Any) -> Any:
    """Turn numpy arrays (and numpy numbers) into Tensors, inside tuples, lists and dicts too;
    everything else is returned as it is. The ``collate_fn`` of a ``DataLoader(batch_size=None)``."""
    if isinstance(data, np.ndarray) and data.dtype.kind in "biuf":
        return Tensor(data)
    if isinstance(data, np.number):
        return Tensor(np.asarray(data))
    if isinstance(data, Mapping):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple):
        fields = [default_convert(v) for v in data]
        return type(data)(*fields) if hasattr(data, "_fields") else tuple(fields)
    if isinstance(data, list):
        return [default_convert(v) for v in data]
    return data


# ------------------------------------------------------------------------------------- samplers
class Sampler:
    """The order in which a ``DataLoader`` visits a dataset: iterating yields indices.

    Subclasses define ``__iter__`` (and ``__len__`` where the number of indices is known).
    dagrad's built-in samplers also hand their indices out as numpy arrays (``_index_chunks``),
    which lets the ``DataLoader`` make batches without a Python loop over samples.
    """

    def __init__(self, data_source: Any = None) -> None:
        pass

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def _index_chunks(self) -> Iterator[np.ndarray]:
        """The indices in order, as int64 arrays; drawn lazily, as PyTorch's ``__iter__`` draws them."""
        raise NotImplementedError(f"{type(self).__name__} yields its indices through __iter__ only")

    def _iter_from_chunks(self) -> Iterator[int]:
        for chunk in self._index_chunks():
            yield from chunk.tolist()


def _has_chunks(sampler: Any) -> bool:
    return isinstance(sampler, Sampler) and type(sampler)._index_chunks is not Sampler._index_chunks


class SequentialSampler(Sampler):
    """``0, 1, ..., len(data_source) - 1``, in order."""

    def __init__(self, data_source: Any) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def _index_chunks(self) -> Iterator[np.ndarray]:
        yield np.arange(len(self.data_source))

    def __len__(self) -> int:
        return len(self.data_source)


def _check_bool(value: Any, name: str, error: type = TypeError) -> None:
    if not isinstance(value, bool):
        raise error(f"{name} should be a boolean value, but got {name}={value}")


def _check_positive(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} should be a positive integer value, but got {name}={value}")


class RandomSampler(Sampler):
    """The indices of ``data_source`` in a random order, PyTorch's for the same seed.

    Without replacement, each pass over the data is ``randperm(n, generator=...)`` (and
    ``num_samples`` larger than ``n`` takes several passes); with ``replacement=True``, the
    indices are ``randint(n)`` draws, 32 at a time. Without a ``generator``, each ``iter()``
    seeds a new generator with a 64-bit number drawn from the default one (as PyTorch does), so
    ``autograd.manual_seed(s)`` makes the orders repeat.
    """

    def __init__(
        self,
        data_source: Any,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: Generator | None = None,
    ) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        if generator is not None and not isinstance(generator, Generator):
            raise TypeError(f"RandomSampler: generator must be an autograd.Generator, got {type(generator).__name__}")
        self.generator = generator
        _check_bool(replacement, "replacement")
        _check_positive(self.num_samples, "num_samples")

    @property
    def num_samples(self) -> int:
        """How many indices one ``iter()`` yields (default: the dataset's length, read each time)."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        return self._iter_from_chunks()

    def _index_chunks(self) -> Iterator[np.ndarray]:
        n, count = len(self.data_source), self.num_samples
        generator = self.generator
        if generator is None:
            generator = Generator().manual_seed(random.int64_seed())
        if self.replacement:
            for _ in range(count // 32):
                yield random.randint(0, n, (32,), generator=generator)._data
            yield random.randint(0, n, (count % 32,), generator=generator)._data
        else:
            for _ in range(count // n):
                yield random.randperm(n, generator=generator)._data
            # (PyTorch draws this last permutation even when it keeps none of it)
            yield random.randperm(n, generator=generator)._data[: count % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order: ``indices[randperm(len(indices))]``, each ``iter()``.

    Draws from ``generator`` (the default generator when None), as PyTorch's.
    """

    def __init__(self, indices: Sequence[int], generator: Generator | None = None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        return self._iter_from_chunks()

    def _index_chunks(self) -> Iterator[np.ndarray]:
        order = random.randperm(len(self.indices), generator=self.generator)._data
        yield _index_array(self.indices)[order]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``.

    One ``multinomial(weights, num_samples, replacement, generator=...)`` per ``iter()`` (the
    weights as float64), PyTorch's indices for the same seed. Handy for unbalanced classes:
    give each sample the weight ``1 / count(its class)``.
    """

    def __init__(
        self,
        weights: Sequence[float],
        num_samples: int,
        replacement: bool = True,
        generator: Generator | None = None,
    ) -> None:
        _check_positive(num_samples, "num_samples")
        _check_bool(replacement, "replacement", ValueError)
        w = np.asarray(values_of(weights), dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {w.shape}")
        self.weights = Tensor._make(w)
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        return self._iter_from_chunks()

    def _index_chunks(self) -> Iterator[np.ndarray]:
        yield random.multinomial(self.weights, self.num_samples, self.replacement, generator=self.generator)._data

    def __len__(self) -> int:
        return self.num_samples


def _batches_of(chunks: Iterator[np.ndarray], batch_size: int, drop_last: bool) -> Iterator[np.ndarray]:
    """Cut a stream of index arrays into arrays of ``batch_size`` indices.

    The next chunk is asked for only when a batch needs more indices than are at hand, which is
    when PyTorch's ``BatchSampler``, asking its sampler for one index at a time, would ask:
    random draws happen at the same moments as in PyTorch.
    """
    pending: list[np.ndarray] = []
    have = 0
    while True:
        while have < batch_size:
            chunk = next(chunks, None)
            if chunk is None:
                if have and not drop_last:
                    yield np.concatenate(pending)
                return
            if len(chunk):
                pending.append(chunk)
                have += len(chunk)
        joined = pending[0] if len(pending) == 1 else np.concatenate(pending)
        batch, rest = joined[:batch_size], joined[batch_size:]
        pending, have = ([rest] if len(rest) else []), len(rest)
        yield batch


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter unless
    ``drop_last``). ``list(BatchSampler(SequentialSampler(range(5)), 2, False))`` is
    ``[[0, 1], [2, 3], [4]]``."""

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int, drop_last: bool) -> None:
        _check_positive(batch_size, "batch_size")
        _check_bool(drop_last, "drop_last", ValueError)
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[Any]]:
        if _has_chunks(self.sampler):
            for batch in self._index_batches():
                yield batch.tolist()
            return
        batch: list[Any] = []
        for index in self.sampler:  # any sampler: one index at a time
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def _index_batches(self, chunks: Iterator[np.ndarray] | None = None) -> Iterator[np.ndarray]:
        """The batches as int64 arrays (the sampler must be one of dagrad's)."""
        chunks = self.sampler._index_chunks() if chunks is None else chunks
        return _batches_of(chunks, self.batch_size, self.drop_last)

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


class _SeededRandomSampler(Sampler):
    """dagrad's ``DataLoader(seed=...)``: epoch ``k``'s order is numpy's permutation for ``(seed, k)``."""

    def __init__(self, data_source: Any, seed: int) -> None:
        self.data_source = data_source
        self.seed = seed
        self.epoch = 0  # the epoch number the next iter() uses

    def __iter__(self) -> Iterator[int]:
        return self._iter_from_chunks()

    def _index_chunks(self, epoch: int | None = None) -> Iterator[np.ndarray]:
        if epoch is None:
            epoch, self.epoch = self.epoch, self.epoch + 1
        return iter([np.random.default_rng([self.seed, epoch]).permutation(len(self.data_source))])

    def __len__(self) -> int:
        return len(self.data_source)


def get_worker_info() -> None:
    """None: dagrad loads every batch in the main process (there are no worker processes)."""
    return None


def _check_flag(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"DataLoader: {name} must be True or False, got {value!r}")
    return bool(value)


class DataLoader:
    """Iterate over a dataset in mini-batches, with PyTorch's arguments and random numbers.

    Args:
        dataset: a ``Dataset`` (anything with ``__getitem__`` and ``__len__``).
        batch_size: samples per batch (>= 1); the last batch may be smaller unless ``drop_last``.
            ``None`` turns batching off: each item is one sample, passed through ``collate_fn``
            (default ``default_convert``).
        shuffle: visit the samples in a new random order every epoch (a ``RandomSampler``).
        sampler: the order of the indices (a ``Sampler`` or any iterable of indices); not with
            ``shuffle``.
        batch_sampler: yields whole lists of indices; not with ``batch_size``, ``shuffle``,
            ``sampler`` or ``drop_last``.
        num_workers: accepted for PyTorch code, but dagrad loads every batch in the main
            process, in order, whatever the number: there are no worker processes, so
            ``worker_init_fn`` is never called and ``get_worker_info()`` is None. The batches
            are the ones PyTorch's workers would make.
        collate_fn: merges a list of samples into a batch (default: ``default_collate``).
        pin_memory: accepted and ignored (there is no GPU to copy to).
        drop_last: skip the last batch when it has fewer than ``batch_size`` samples.
        timeout, worker_init_fn, multiprocessing_context, prefetch_factor, persistent_workers,
            pin_memory_device, in_order: settings of worker processes; checked as PyTorch checks
            them, otherwise unused.
        generator: the ``autograd.Generator`` to shuffle with (default: the default generator).
        seed: dagrad's option, instead of ``generator``: with shuffling, epoch ``k`` (the
            ``k``-th ``iter()``, counting from 0) uses a permutation derived from ``(seed, k)``.

    Each ``iter(loader)`` is one epoch and visits every sample exactly once (bar a dropped last
    batch). ``len(loader)`` is the number of batches.

    The random numbers are drawn as PyTorch's ``DataLoader`` draws them, so that everything drawn
    after matches too: ``iter()`` draws a 64-bit base seed from ``generator`` (or the default
    generator), even without shuffling (PyTorch hands it to worker processes; dagrad drops it);
    the sampler then draws the epoch's order with the first batch (``RandomSampler``).
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable[Any] | None = None,
        batch_sampler: Sampler | Iterable[list[Any]] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: Any = None,
        generator: Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
        seed: int | None = None,
    ) -> None:
        if not (hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")):
            raise TypeError(f"DataLoader: the dataset ({type(dataset).__name__}) needs __getitem__ and __len__")
        if batch_size is not None:
            if isinstance(batch_size, (bool, np.bool_)) or not isinstance(batch_size, (int, np.integer)):
                raise TypeError(f"DataLoader: batch_size must be an int or None, got {batch_size!r}")
            if batch_size < 1:
                raise ValueError(f"DataLoader: batch_size must be at least 1, got {batch_size}")
        if shuffle is not None:
            _check_flag("shuffle", shuffle)
        drop_last = _check_flag("drop_last", drop_last)
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
        # PyTorch's checks, in PyTorch's words
        if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)):
            raise TypeError(f"DataLoader: num_workers must be an int, got {num_workers!r}")
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing."
                "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None."
            )
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"
                )
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        if seed is not None and sampler is not None:
            raise ValueError("DataLoader: seed shuffles the data; give seed or sampler, not both")

        if sampler is None:
            if shuffle and seed is not None:
                sampler = _SeededRandomSampler(dataset, int(seed))
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, int(batch_size), drop_last)

        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = int(num_workers)
        self.collate_fn = collate_fn or (default_collate if batch_sampler is not None else default_convert)
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.pin_memory_device = pin_memory_device
        self.in_order = in_order
        self.generator = generator
        self.seed = None if seed is None else int(seed)
        self.epoch = 0  # the epoch number the next iter() uses

    def set_epoch(self, epoch: int) -> None:
        """Make the next ``iter()`` epoch number ``epoch`` (e.g. to resume a ``seed``-ed run)."""
        if isinstance(epoch, (bool, np.bool_)) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
            raise ValueError(f"DataLoader.set_epoch: epoch must be a non-negative int, got {epoch!r}")
        self.epoch = int(epoch)

    def __len__(self) -> int:
        """The number of batches in one epoch (of samples, with ``batch_size=None``)."""
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def __iter__(self) -> Iterator[Any]:
        """Start an epoch: draw the base seed (as PyTorch) and advance the epoch counter; the
        order is drawn with the first batch, and batches come lazily."""
        indices = self._index_batches(self.epoch)  # (lazy: nothing is drawn yet)
        random.int64_seed(self.generator)  # PyTorch's per-epoch base seed (for worker processes; unused here)
        self.epoch += 1
        return self._batches(indices)

    def _index_batches(self, epoch: int) -> Iterator[Any]:
        """The epoch's batches of indices: int64 arrays from dagrad's samplers, else what the
        (batch) sampler yields."""
        if self.batch_sampler is None:
            return iter(self.sampler)
        bs = self.batch_sampler
        if type(bs) is BatchSampler and _has_chunks(bs.sampler):
            if isinstance(bs.sampler, _SeededRandomSampler):
                return bs._index_batches(bs.sampler._index_chunks(epoch))
            return bs._index_batches()
        return iter(bs)

    def _batches(self, indices: Iterator[Any]) -> Iterator[Any]:
        ds, collate = self.dataset, self.collate_fn
        if self.batch_sampler is None:  # no batching: one sample at a time
            for index in indices:
                yield collate(ds[index])
            return
        fast = collate is default_collate
        getitems = getattr(ds, "__getitems__", None)
        for batch in indices:
            if fast and isinstance(batch, np.ndarray):
                gathered = _gather(ds, batch)
                if gathered is not None:
                    yield gathered
                    continue
            if isinstance(batch, np.ndarray):
                batch = batch.tolist()
            samples = getitems(batch) if callable(getitems) else [ds[i] for i in batch]
            yield collate(samples)

    def __repr__(self) -> str:
        return (
            f"DataLoader({type(self.dataset).__name__}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"drop_last={self.drop_last}, seed={self.seed})"
        )
