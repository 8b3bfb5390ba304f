"""Reusable memory for large arrays: a small caching allocator, as PyTorch has.

numpy hands every large array back to the operating system when it is freed, and the next
training step asks for the same amount again: the kernel then zeroes each fresh page
(about 1 ms per 10 MB), and a CNN step makes and frees a hundred MB of such arrays (im2col
buffers, activations, gradients). ``empty``/``zeros`` keep large buffers instead and hand one
out again once nothing refers to it any more: every numpy view holds a reference to the
buffer it looks into, so a buffer whose reference count shows only the cache is free.

The cache is per thread, keeps at most ``LIMIT`` bytes of free buffers, and ``empty_cache``
returns them to the system (like ``torch.cuda.empty_cache``). Arrays from here are ordinary
numpy arrays; callers must not keep raw pointers to them.
"""

from __future__ import annotations

import math
import sys
import threading

import numpy as np

# smaller arrays come from numpy directly: malloc serves them from its heap, whose pages it keeps
# (from 128 KiB, glibc's default threshold, it maps fresh pages for each one; caching arrays of
# 128 KiB - 1 MiB too took the CNN step at batch 16 from 10.5 to 9.5 ms: 600 -> 135 page faults)
MIN_BYTES = 1 << 17
LIMIT = 256 << 20  # bytes of free buffers kept per thread

_local = threading.local()


def _refs(buf: np.ndarray) -> int:
    return sys.getrefcount(buf)


def _refs_when_free() -> int:
    """References a buffer held by the cache alone shows inside the scan loops below (the
    list, the loop variable, the calls): measured once, as interpreters count differently."""
    for buf in [np.empty(1)]:
        return _refs(buf)
    raise AssertionError


_FREE = _refs_when_free()


def _buffers() -> list[np.ndarray]:
    if not hasattr(_local, "buffers"):
        _local.buffers = []
    return _local.buffers


def empty(shape: tuple[int, ...], dtype: np.dtype | type = np.float32) -> np.ndarray:
    """An uninitialised C-contiguous array, from a free cached buffer when one fits (at most
    1/8 larger than needed), else from a new buffer that the cache keeps."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < MIN_BYTES:
        return np.empty(shape, dtype)
    buffers = _buffers()
    best = None  # the smallest free buffer that fits with at most 1/8 to spare
    for buf in buffers:
        if nbytes <= buf.nbytes <= nbytes + nbytes // 8 and _refs(buf) == _FREE:
            if best is None or buf.nbytes < best.nbytes:
                best = buf
    if best is None:
        _trim(buffers, LIMIT - nbytes)
        best = np.empty(nbytes, np.uint8)
        buffers.append(best)
    return best[:nbytes].view(dtype).reshape(shape)


def empty_like(a: np.ndarray) -> np.ndarray:
    """``empty`` with the shape and dtype of ``a``."""
    return empty(a.shape, a.dtype)


def contiguous(a: np.ndarray) -> np.ndarray:
    """A C-contiguous copy of ``a`` (a strided view, say) in a cached buffer."""
    out = empty(a.shape, a.dtype)
    np.copyto(out, a)
    return out


def zeros(shape: tuple[int, ...], dtype: np.dtype | type = np.float32) -> np.ndarray:
    """``empty`` filled with zeros (a memset of warm pages, no page faults)."""
    out = empty(shape, dtype)
    out.fill(0)
    return out


def _trim(buffers: list[np.ndarray], keep: int) -> None:
    """Drop free buffers, oldest first, until the free ones total at most ``keep`` bytes."""
    free = set()  # (a plain loop, as _refs_when_free measured it)
    for buf in buffers:
        if _refs(buf) == _FREE:
            free.add(id(buf))
    total = sum(buf.nbytes for buf in buffers if id(buf) in free)
    drop = set()
    for buf in buffers:
        if total <= keep:
            break
        if id(buf) in free:
            drop.add(id(buf))
            total -= buf.nbytes
    buffers[:] = [buf for buf in buffers if id(buf) not in drop]


def empty_cache() -> None:
    """Return every free cached buffer to the system (buffers still in use stay)."""
    _trim(_buffers(), 0)


def cached_bytes() -> tuple[int, int]:
    """(bytes in use, bytes free) of this thread's cache."""
    used = free = 0
    for buf in _buffers():
        if _refs(buf) == _FREE:
            free += buf.nbytes
        else:
            used += buf.nbytes
    return used, free
