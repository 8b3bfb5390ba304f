"""Random numbers that are PyTorch's, bit for bit: ``Generator``, ``manual_seed``, ``rand``, ``randn``, ...

After ``autograd.manual_seed(42)`` every sampler here returns exactly the numbers
``torch.manual_seed(42)`` and the same call in PyTorch 2.13 return on the CPU, and leaves the
generator in the same state, so a model ported from PyTorch starts from PyTorch's weights and
sees PyTorch's batches::

    autograd.manual_seed(42)
    autograd.rand(3)                        # tensor([0.8823, 0.9150, 0.3829]), as torch.rand(3)
    g = autograd.Generator().manual_seed(0)
    autograd.randperm(5, generator=g)       # torch.randperm(5, generator=torch.Generator().manual_seed(0))

**The stream.** PyTorch's CPU generator is a Mersenne Twister (mt19937): 624 words of state
that yield one 32-bit word per step. ``manual_seed(s)`` fills the state from the low 32 bits of
``s`` with the twister's standard recurrence (the one numpy's legacy ``RandomState(s)`` uses),
so numpy's ``MT19937`` bit generator produces the same words; dagrad draws them in bulk with its
``random_raw``, never one at a time in Python. A "64-bit draw" is two words, the first one high.

**From words to numbers** (PyTorch's CPU kernels; every sampler draws in the tensor's element order):

- ``rand``, ``uniform_(a, b)``: float32 takes one word per number and keeps its low 24 bits,
  ``x = bits / 2**24``; float64 takes a 64-bit draw and keeps the low 53 bits, ``x = bits / 2**53``.
  The result is ``x * (b - a) + a`` with a single rounding (the compiled kernel fuses it).
- ``randn``, ``normal_(mean, std)``: Box-Muller, in one of two ways.

  * A contiguous tensor of 16 or more elements is filled with uniforms (as ``rand``), then each
    block of 16 becomes 16 normals: ``u1`` from the first 8, ``u2`` from the last 8,
    ``r = sqrt(-2 log(1 - u1))``, ``cos`` values in the first half, ``sin`` values in the
    second. When the size is not a multiple of 16, 16 more uniforms are drawn and the last 16
    elements are recomputed from them. float32 computes ``log``, ``sin`` and ``cos`` with the
    float32 polynomials of PyTorch's AVX2 kernel (x86 CPUs), reproduced here operation by
    operation; float64 uses the C library's ``log``, ``sin``, ``cos``.
  * Anything smaller (or not contiguous) takes two 64-bit uniforms ``u1, u2`` per *pair* of
    normals: ``r = sqrt(-2 log(1 - u2))``, ``theta = 2 pi u1``, returns ``r cos(theta)`` and keeps
    ``r sin(theta)`` in the generator for the next such call (``get_state`` saves it too).
- ``randint(low, high)``: ``low + word % (high - low)``, with 64-bit draws when
  ``high - low >= 2**28``.
- ``randperm(n)``: the Fisher-Yates shuffle ``swap(p[i], p[i + word_i % (n - i)])`` for
  ``i = 0 .. n-2``, one word per step, computed here without a Python loop.
- ``multinomial``: without replacement (or for one sample), ``argmax``/``topk`` of
  ``p / q`` with exponential ``q = -log(1 - u)`` (a 64-bit uniform per category); with
  replacement, a 64-bit uniform per sample looked up in the normalized cumulative sums.
- ``bernoulli_(p)`` (dropout's mask): ``u < p`` with a 64-bit uniform per element.

**Where PyTorch itself differs between machines**, dagrad follows the x86 CPU without Intel's MKL
bernoulli (an AMD CPU, where PyTorch 2.13's fixtures here were made): on Intel CPUs PyTorch's
dropout draws its mask from an MKL stream seeded by one word, on ARM CPUs its float32 ``randn``
uses the C library's float32 functions; those numbers are not reproduced.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autograd.ops import inplace as ops_inplace
from autograd.tensor import Tensor, _on_cpu, as_dtype, get_default_dtype

__all__ = [
    "Generator",
    "bernoulli_",
    "default_generator",
    "get_rng_state",
    "initial_seed",
    "manual_seed",
    "multinomial",
    "normal",
    "normal_",
    "rand",
    "rand_like",
    "randint",
    "randn",
    "randn_like",
    "randperm",
    "seed",
    "set_rng_state",
    "uniform_",
]

_MT_N = 624  # words of Mersenne Twister state
_DEFAULT_SEED = 67280421310721  # the seed of a new torch.Generator()

# get_state()'s bytes: PyTorch's CPUGeneratorImplState struct, field by field (5,056 bytes).
# ``left`` counts down to the next regeneration of the state; ``next`` is the index of the next word.
_STATE_LAYOUT = np.dtype(
    {
        "names": [
            "initial_seed", "left", "seeded", "next", "words",
            "normal_x", "normal_y", "normal_rho", "normal_is_valid",
            "float_normal", "float_normal_is_valid",
        ],
        "formats": ["<u8", "<i4", "<i4", "<u8", ("<u8", _MT_N), "<f8", "<f8", "<f8", "<i4", "<f4", "u1"],
        "offsets": [0, 8, 12, 16, 24, 5016, 5024, 5032, 5040, 5048, 5052],
        "itemsize": 5056,
    }
)  # fmt: skip


def _mt_key(seed32: int) -> np.ndarray:
    """The Mersenne Twister's state for a 32-bit seed (the standard ``init_genrand`` recurrence)."""
    key = [seed32]
    for i in range(1, _MT_N):
        prev = key[-1]
        key.append((1812433253 * (prev ^ (prev >> 30)) + i) & 0xFFFFFFFF)
    return np.array(key, dtype=np.uint32)


def _as_seed(seed: Any) -> int:
    """A seed as PyTorch stores it: an int in [-2**63, 2**64), negative ones taken modulo 2**64."""
    if isinstance(seed, (bool, np.bool_)):
        raise RuntimeError("manual_seed expected a long, but got bool")
    if isinstance(seed, float) and seed.is_integer():
        seed = int(seed)
    if not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed expected an int, got {type(seed).__name__}")
    seed = int(seed)
    if not -(2**63) <= seed < 2**64:
        raise ValueError(f"Overflow when unpacking long long: a seed must lie in [-2**63, 2**64), got {seed}")
    return seed % 2**64


class Generator:
    """A PyTorch CPU generator: a Mersenne Twister and PyTorch's cached normal sample.

    ``Generator().manual_seed(s)`` gives the numbers ``torch.Generator().manual_seed(s)`` gives;
    pass it as ``generator=`` to any sampler. ``get_state()``/``set_state()`` exchange the state
    as PyTorch's 5,056 bytes (a uint8 tensor), so a state saved here restores a torch generator.
    """

    def __init__(self, device: str = "cpu") -> None:
        if str(device) != "cpu":
            raise ValueError(f"Generator: dagrad computes on the CPU, so device must be 'cpu', got {device!r}")
        self._bits = np.random.MT19937(0)  # numpy's twister; manual_seed replaces its state
        self.manual_seed(_DEFAULT_SEED)

    @property
    def device(self) -> str:
        """Always ``'cpu'``."""
        return "cpu"

    def manual_seed(self, seed: int) -> Generator:
        """Seed the generator (any int in [-2**63, 2**64); the twister uses its low 32 bits); returns self."""
        self._initial_seed = _as_seed(seed)
        self._bits.state = {
            "bit_generator": "MT19937",
            "state": {"key": _mt_key(self._initial_seed & 0xFFFFFFFF), "pos": _MT_N},
        }
        self._fresh = True  # seeded and nothing drawn since: PyTorch's state says next = 0 here
        self._cached_normal: float | None = None  # the second value of the last scalar Box-Muller pair
        self._cached_float_normal: float | None = None  # (PyTorch's float32 twin of it, unused on the CPU)
        return self

    def initial_seed(self) -> int:
        """The seed given to the last ``manual_seed`` (or ``seed``)."""
        return self._initial_seed

    def seed(self) -> int:
        """Seed from the operating system's randomness and return that (64-bit) seed."""
        new_seed = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(new_seed)
        return new_seed

    def get_state(self) -> Tensor:
        """The whole state as PyTorch's bytes: a uint8 tensor of 5,056 elements."""
        mt = self._bits.state["state"]
        record = np.zeros((), _STATE_LAYOUT)
        record["initial_seed"] = self._initial_seed
        record["seeded"] = 1
        position = int(mt["pos"])  # words of the current state block already used
        record["left"] = 1 if self._fresh else _MT_N + 1 - position
        record["next"] = 0 if self._fresh else position
        record["words"] = mt["key"]
        if self._cached_normal is not None:
            record["normal_is_valid"], record["normal_y"] = 1, self._cached_normal
        if self._cached_float_normal is not None:
            record["float_normal_is_valid"], record["float_normal"] = 1, self._cached_float_normal
        return Tensor._make(np.frombuffer(record.tobytes(), np.uint8).copy())

    def set_state(self, new_state: Tensor) -> Generator:
        """Restore a state from ``get_state()`` (this one's or PyTorch's bytes); returns self."""
        if not isinstance(new_state, Tensor) or new_state.dtype != np.uint8:
            raise TypeError("RNG state must be a uint8 tensor (torch.ByteTensor), such as get_state() returns")
        data = np.ascontiguousarray(new_state._data).reshape(-1)
        if data.size != _STATE_LAYOUT.itemsize:
            raise RuntimeError(
                f"Expected a CPUGeneratorImplState of size {_STATE_LAYOUT.itemsize} but found the input RNG "
                f"state size to be {data.size}"
            )
        record = np.frombuffer(data.tobytes(), _STATE_LAYOUT)[0]
        left, next_word = int(record["left"]), int(record["next"])
        if not (record["seeded"] and 1 <= left <= _MT_N and next_word <= _MT_N):
            raise RuntimeError("Invalid mt19937 state")
        fresh = left == 1 and next_word == 0
        if not fresh and left + next_word != _MT_N + 1:
            raise RuntimeError(
                f"set_state: a state with left={left} and next={next_word} (left + next != {_MT_N + 1}) "
                "is not one a generator produces, and dagrad cannot continue from it"
            )
        self._bits.state = {
            "bit_generator": "MT19937",
            "state": {"key": record["words"].astype(np.uint32), "pos": _MT_N if fresh else next_word},
        }
        self._initial_seed = int(record["initial_seed"])
        self._fresh = fresh
        self._cached_normal = float(record["normal_y"]) if record["normal_is_valid"] else None
        self._cached_float_normal = float(record["float_normal"]) if record["float_normal_is_valid"] else None
        return self

    # ------------------------------------------------------------ the raw stream
    def _words(self, n: int) -> np.ndarray:
        """The next ``n`` 32-bit words (as uint64, so shifts and sums need no casts)."""
        if n == 0:
            return np.zeros(0, np.uint64)
        self._fresh = False
        return self._bits.random_raw(n)

    def _words64(self, n: int) -> np.ndarray:
        """The next ``n`` 64-bit draws: two words each, the first one the high half."""
        words = self._words(2 * n)
        return (words[0::2] << np.uint64(32)) | words[1::2]

    def _doubles(self, n: int) -> np.ndarray:
        """``n`` float64 uniforms in [0, 1): the low 53 bits of a 64-bit draw, over 2**53."""
        return (self._words64(n) & np.uint64(2**53 - 1)).astype(np.float64) * 2.0**-53

    def _floats(self, n: int) -> np.ndarray:
        """``n`` float32 uniforms in [0, 1): the low 24 bits of a word, over 2**24."""
        return (self._words(n) & np.uint64(2**24 - 1)).astype(np.float32) * np.float32(2.0**-24)


def _seed_from_os() -> int:
    return int.from_bytes(os.urandom(8), "little")


default_generator = Generator().manual_seed(_seed_from_os())  # PyTorch's starts from the OS's randomness too


def manual_seed(seed: int) -> Generator:
    """Seed the default generator so every random number after it repeats PyTorch's; returns it."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator from the operating system's randomness; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The default generator's seed."""
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The default generator's state (PyTorch's 5,056 bytes, a uint8 tensor)."""
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    """Restore the default generator's state from ``get_rng_state()``."""
    default_generator.set_state(new_state)


def _generator(generator: Generator | None) -> Generator:
    if generator is None:
        return default_generator
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be an autograd.Generator, got {type(generator).__name__}")
    return generator


# ---------------------------------------------------------------- C arithmetic, exactly, in numpy
# PyTorch's kernels are compiled with fused multiply-adds (a * b + c rounded once) and call the C
# library's log; numpy has neither, so these helpers produce the same bits with numpy operations.


def _two_sum(a: np.ndarray, b: Any) -> tuple[np.ndarray, np.ndarray]:
    """``s = a + b`` rounded, and the exact error ``a + b - s`` (Knuth's TwoSum)."""
    s = a + b
    b_part = s - a
    return s, (a - (s - b_part)) + (b - b_part)


def _split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``a`` as a high and a low half of 26 bits each, so products of halves are exact (Veltkamp)."""
    t = a * 134217729.0  # 2**27 + 1
    high = t - (t - a)
    return high, a - high


def _two_product(a: np.ndarray, b: Any) -> tuple[np.ndarray, np.ndarray]:
    """``p = a * b`` rounded, and the exact error ``a * b - p`` (Dekker's product)."""
    p = a * b
    a_high, a_low = _split(a)
    b_high, b_low = _split(np.asarray(b, np.float64))
    return p, ((a_high * b_high - p) + a_high * b_low + a_low * b_high) + a_low * b_low


def _round_odd_sum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a + b`` rounded to odd: exact when representable, else the neighbour whose last bit is 1."""
    s, error = _two_sum(a, b)
    even = (s.view(np.int64) & 1) == 0
    return np.where((error != 0) & even, np.nextafter(s, np.where(error > 0, np.inf, -np.inf)), s)


def _fma64(a: np.ndarray, b: Any, c: Any) -> np.ndarray:
    """float64 ``a * b + c`` rounded once (Boldo and Melquiond's emulation through rounding to odd)."""
    product, product_error = _two_product(np.asarray(a, np.float64), b)
    high, low = _two_sum(product, np.asarray(c, np.float64))
    return high + _round_odd_sum(low, product_error)


def _fma32(a: np.ndarray, b: Any, c: Any) -> np.ndarray:
    """float32 ``a * b + c`` rounded once.

    The float32 product is exact in float64, so the float64 sum is off by at most half a
    float64 step; rounding it to float32 then gives the single rounding unless the float64 sum
    landed exactly halfway between two float32 numbers. Those rare elements are redone by
    nudging the sum one float64 step towards its exact value (rounding to odd).
    """
    product = np.multiply(a, b, dtype=np.float64)
    total = product + np.asarray(c, np.float64)
    result = total.astype(np.float32)
    halfway = (total.view(np.int64) & 0x1FFFFFFF) == 0x10000000
    if halfway.any():
        where = np.nonzero(halfway)
        c_there = np.broadcast_to(np.asarray(c, np.float64), total.shape)[where]
        _, error = _two_sum(product[where], c_there)
        nudged = np.where(error != 0, np.nextafter(total[where], np.where(error > 0, np.inf, -np.inf)), total[where])
        result[where] = nudged.astype(np.float32)
    return result


_WIDE = np.longdouble if np.finfo(np.longdouble).nmant >= 63 else None  # x86's 80-bit long double


def _c_each(fn: Callable[[float], float], x: np.ndarray) -> np.ndarray:
    """``fn`` (a ``math`` function: the C library's) of each element."""
    return np.fromiter(map(fn, x.ravel().tolist()), np.float64, count=x.size).reshape(x.shape)


def _c_log(x: np.ndarray) -> np.ndarray:
    """The C library's ``log`` of each element, as PyTorch's C++ gets it (numpy's own log can
    differ in the last bit).

    In long double (64-bit mantissa) the log rounds to the correctly rounded double; the C
    library's log is within 0.52 units of the last place, so it can differ only where the exact
    value lies within 0.02 units of halfway between two doubles. The elements near halfway
    (with a wide margin, a few in a hundred) are asked of the C library itself.
    """
    if _WIDE is None:
        return _c_each(math.log, x)
    wide = np.log(x.astype(_WIDE))
    result = wide.astype(np.float64)
    off = np.abs((wide - result).astype(np.float64))  # how far the exact log lies from its rounding
    unsure = off > 0.47 * np.abs(np.spacing(result))
    unsure |= (result.view(np.int64) & (2**52 - 1)) == 0  # (powers of two: the step below them is half as big)
    result[unsure] = _c_each(math.log, x[unsure])
    return result


# ---------------------------------------------------------------- uniform numbers
def _uniform(gen: Generator, n: int, dtype: np.dtype, low: float, high: float) -> np.ndarray:
    """``n`` samples of U(low, high) in ``dtype``, as PyTorch's ``uniform_`` kernel."""
    if dtype == np.float32:
        low32, high32 = np.float32(low), np.float32(high)
        x = gen._floats(n)
        return x if (low32, high32) == (0, 1) else _fma32(x, high32 - low32, low32)
    x = gen._doubles(n)
    return x if (low, high) == (0, 1) else _fma64(x, float(high) - float(low), float(low))


# ---------------------------------------------------------------- normal numbers
# float32 log, sin and cos of PyTorch's AVX2 normal kernel: Cephes' polynomials (via avx_mathfun.h),
# where the compiler fused most multiply-adds; _fma32 marks each fused step.
_LOG_POLY = [np.float32(c) for c in (
    7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
    -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
)]  # fmt: skip
_LOG_Q1, _LOG_Q2 = np.float32(-2.12194440e-4), np.float32(0.693359375)  # ln 2 = Q2 - Q1, in two parts
_SQRT_HALF = np.float32(0.707106781186547524)
_PI_PARTS = [np.float32(c) for c in (-0.78515625, -2.4187564849853515625e-4, -3.77489497744594108e-8)]  # -pi/4
_SIN_POLY = [np.float32(c) for c in (-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1)]
_COS_POLY = [np.float32(c) for c in (2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2)]
_FOUR_OVER_PI = np.float32(1.27323954473516)
_TWO_PI_32 = np.float32(2 * math.pi)


def _avx_log(x: np.ndarray) -> np.ndarray:
    """float32 log of x in (0, 1]: x = m * 2**e with m in [sqrt(1/2), sqrt(2)), log = e ln 2 + P(m - 1)."""
    bits = x.view(np.int32)
    e = ((bits >> 23) - 126).astype(np.float32)  # x = m * 2**e with m in [0.5, 1)
    m = ((bits & 0x007FFFFF) | 0x3F000000).view(np.float32)
    small = m < _SQRT_HALF  # then use 2m in [sqrt(1/2), 1) and e - 1
    e -= small
    t = (m - np.float32(1)) + np.where(small, m, np.float32(0))  # m - 1 (or 2m - 1): exact
    z = t * t
    y = np.full_like(t, _LOG_POLY[0])
    for c in _LOG_POLY[1:]:
        y = _fma32(y, t, c)
    y = _fma32(y * t, z, e * _LOG_Q1)
    y = y - z * np.float32(0.5)  # (z / 2 is exact, so the fused form rounds the same)
    return (t + y) + e * _LOG_Q2  # (e * Q2 is exact)


def _avx_sincos(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float32 sin and cos of x >= 0: reduce by the nearest multiple j of pi/4, then polynomials."""
    j = (x * _FOUR_OVER_PI).astype(np.int32)
    j = (j + 1) & ~1  # an even octant number
    y = j.astype(np.float32)
    x = (x + y * _PI_PARTS[0]) + y * _PI_PARTS[1]  # x - j pi/4 in three parts (these two products are exact)
    x = _fma32(y, _PI_PARTS[2], x)
    z = x * x
    cos_poly = _fma32(np.full_like(z, _COS_POLY[0]), z, _COS_POLY[1])
    cos_poly = _fma32(cos_poly, z, _COS_POLY[2]) * z
    cos_poly = _fma32(cos_poly, z, -(z * np.float32(0.5))) + np.float32(1)
    sin_poly = _fma32(np.full_like(z, _SIN_POLY[0]), z, _SIN_POLY[1])
    sin_poly = _fma32(sin_poly, z, _SIN_POLY[2]) * z
    sin_poly = _fma32(sin_poly, x, x)
    swap = (j & 2) != 0  # octants where sin takes the cos polynomial and the other way round
    sin = np.where(swap, cos_poly, sin_poly)
    cos = np.where(swap, sin_poly, cos_poly)
    return np.where((j & 4) != 0, -sin, sin), np.where(((j - 2) & 4) == 0, -cos, cos)


_CHUNK_ROWS = 4096  # rows of 16 transformed at a time: small enough for the temporaries to stay in the CPU cache


def _box_muller_blocks(u: np.ndarray, mean: float, std: float) -> np.ndarray:
    """Blocks of 16 uniforms (rows of ``u``) to 16 normals each: cos values first, sin values last."""
    if len(u) <= _CHUNK_ROWS:
        return _box_muller_chunk(u, mean, std)
    return np.concatenate([_box_muller_chunk(u[i : i + _CHUNK_ROWS], mean, std) for i in range(0, len(u), _CHUNK_ROWS)])


def _box_muller_chunk(u: np.ndarray, mean: float, std: float) -> np.ndarray:
    if u.dtype == np.float32:
        radius = np.sqrt(np.float32(-2) * _avx_log(np.float32(1) - u[:, :8]))
        sin, cos = _avx_sincos(_TWO_PI_32 * u[:, 8:])
        normals = np.concatenate([radius * cos, radius * sin], axis=1)
        mean32, std32 = np.float32(mean), np.float32(std)
        return normals + np.float32(0) if (mean32, std32) == (0, 1) else _fma32(normals, std32, mean32)
    radius = np.sqrt(-2.0 * _c_log(1.0 - u[:, :8]))
    theta = 2.0 * math.pi * u[:, 8:]
    normals = np.concatenate([radius * np.cos(theta), radius * np.sin(theta)], axis=1)
    return normals + 0.0 if (mean, std) == (0, 1) else _fma64(normals, float(std), float(mean))


def _normal_in_blocks(gen: Generator, n: int, dtype: np.dtype, mean: float, std: float) -> np.ndarray:
    """PyTorch's vectorized normal fill of a contiguous tensor of n >= 16 elements."""
    uniform = gen._floats if dtype == np.float32 else gen._doubles
    whole = n // 16 * 16
    values = np.empty(n, dtype)
    values[:whole] = _box_muller_blocks(uniform(n)[:whole].reshape(-1, 16), mean, std).reshape(-1)
    if n != whole:  # 16 fresh uniforms for the last 16 elements (the tail of the first draw is unused)
        values[n - 16 :] = _box_muller_blocks(uniform(16).reshape(1, 16), mean, std).reshape(-1)
    return values


def _normal_one_by_one(gen: Generator, n: int, dtype: np.dtype, mean: float, std: float) -> np.ndarray:
    """PyTorch's scalar normal sampler, n times: pairs from two 64-bit uniforms, the second value kept."""
    values = []
    if n and gen._cached_normal is not None:
        values.append(gen._cached_normal)
        gen._cached_normal = None
    pairs = (n - len(values) + 1) // 2
    u = gen._doubles(2 * pairs)
    radius = np.sqrt(-2.0 * _c_each(math.log1p, -u[1::2]))
    theta = 2.0 * math.pi * u[0::2]
    both = np.stack([radius * np.cos(theta), radius * np.sin(theta)], axis=1).reshape(-1)  # cos0, sin0, cos1, ...
    needed = n - len(values)
    if needed % 2:
        gen._cached_normal = float(both[-1])
    normals = np.concatenate([np.array(values, np.float64), both[:needed]])
    normals = normals + 0.0 if (mean, std) == (0, 1) else _fma64(normals, float(std), float(mean))
    return normals.astype(dtype)


def _normal(gen: Generator, n: int, dtype: np.dtype, mean: float, std: float, contiguous: bool) -> np.ndarray:
    """``n`` samples of N(mean, std**2) in ``dtype``, as PyTorch's ``normal_`` kernel."""
    if n >= 16 and contiguous:
        return _normal_in_blocks(gen, n, dtype, mean, std)
    return _normal_one_by_one(gen, n, dtype, mean, std)


# ---------------------------------------------------------------- permutations
def _fisher_yates(words: np.ndarray, n: int) -> np.ndarray:
    """The permutation PyTorch's loop ``for i < n-1: swap(p[i], p[i + words[i] % (n - i)])`` makes.

    Without the loop: step i swaps positions i and ``target[i] >= i``. Position i is final
    after step i and receives what position target[i] held just before it: the value some
    earlier step k put there (the last k < i with the same target), or its own index if no
    step wrote there. What step k put there is what position k held before step k, found the
    same way. These "what position k held" links form chains, which pointer jumping resolves
    in log2(n) vectorized rounds.
    """
    if n <= 1:
        return np.arange(n)
    steps = np.arange(n)
    target = steps.copy()  # (a last, empty step n-1 targets itself)
    target[: n - 1] += (words[: n - 1] % (n - steps[: n - 1]).astype(np.uint64)).astype(np.int64)
    keys = np.sort(target * n + steps)  # steps grouped by target, in step order (unique keys: a plain sort)
    grouped, by_target = np.divmod(keys, n)
    same = grouped[1:] == grouped[:-1]
    before = np.full(n, -1)  # the previous step with the same target
    before[by_target[1:][same]] = by_target[:-1][same]
    last = np.full(n, -1)  # the last step targeting each position
    ends = np.append(~same, True)
    last[grouped[ends]] = by_target[ends]
    # writer[p]: the last step before step p that wrote into position p (or -1)
    writer = np.where(target == steps, before, last)
    # held[p], the value position p holds just before step p, is held[writer[p]] (what the writer
    # moved there), or p if nothing was written there. Start from the links p -> writer[p] (p -> p
    # at a chain's end) and double them until every link reaches its chain's end.
    held = np.where(writer >= 0, writer, steps)
    while True:
        jumped = held[held]
        if np.array_equal(jumped, held):
            break
        held = jumped
    # step i moves into position i what target[i] holds then: what the previous step with the same
    # target moved there, or target[i] itself
    return np.where(before >= 0, held[np.maximum(before, 0)], target)


# ---------------------------------------------------------------- tensors
_FLOAT_DTYPES = (np.float32, np.float64)


def _float_dtype(dtype: Any, fn: str) -> np.dtype:
    """The float dtype a sampler makes (the default dtype: float32 unless set_default_dtype changed
    it); PyTorch's error for the others."""
    result = get_default_dtype() if dtype is None else as_dtype(dtype)
    if result.kind != "f":
        raise TypeError(f"{fn}() draws floats: dtype must be a floating-point type, got {result}")
    if result not in _FLOAT_DTYPES:
        raise TypeError(f"{fn}(): dagrad reproduces PyTorch's float32 and float64 random numbers, not {result}")
    return result


def _shape(size: tuple) -> tuple[int, ...]:
    """``f(2, 3)`` and ``f((2, 3))`` both mean shape (2, 3)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    if any(isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 0 for n in size):
        raise ValueError(f"sizes must be non-negative ints, got {size}")
    return tuple(int(n) for n in size)


def _new(values: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._make(values)
    if requires_grad:
        if values.dtype.kind != "f":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        t.requires_grad_(True)
    return t


def _in_memory_order(values: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``values`` (in the order drawn) laid into an array shaped as ``like``, the way PyTorch's
    kernels fill a tensor: along its memory, so a transposed tensor gets them column by column."""
    if like.flags.c_contiguous:
        return values.reshape(like.shape)
    axes = sorted(range(like.ndim), key=lambda d: -abs(like.strides[d]))  # outermost (largest stride) first
    result = np.empty(like.shape, values.dtype)
    result.transpose(axes)[...] = values.reshape([like.shape[d] for d in axes])
    return result


def _fill(tensor: Tensor, draw: Callable[[], np.ndarray]) -> Tensor:
    """Write ``draw()``'s numbers into ``tensor`` in place, under the in-place rules.

    Recorded (grad mode on a tensor that requires grad), the write is a ``copy_`` of constants,
    so the old values get no gradient, as with PyTorch's ``uniform_``/``normal_``. The numbers
    are drawn once, after ``_inplace`` has checked the write is allowed (as PyTorch, which
    refuses before it draws).
    """
    drawn: list[np.ndarray] = []

    def values() -> np.ndarray:
        if not drawn:
            drawn.append(_in_memory_order(draw(), tensor._data))
        return drawn[0]

    return tensor._inplace(values, lambda old: ops_inplace.copy(old, Tensor._make(values())))


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    """Fill ``tensor`` in place with U(a, b) samples: ``Tensor.uniform_``, PyTorch's numbers."""
    if tensor.dtype.kind != "f":
        raise NotImplementedError(f'"check_uniform_bounds" not implemented for {tensor.dtype}: uniform_ needs floats')
    _float_dtype(tensor.dtype, "uniform_")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} > to={b}")
    gen = _generator(generator)
    return _fill(tensor, lambda: _uniform(gen, tensor.numel(), tensor.dtype, a, b))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    """Fill ``tensor`` in place with N(mean, std**2) samples: ``Tensor.normal_``, PyTorch's numbers."""
    if tensor.dtype.kind != "f":
        raise NotImplementedError(f'"normal_kernel_cpu" not implemented for {tensor.dtype}: normal_ needs floats')
    _float_dtype(tensor.dtype, "normal_")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    gen = _generator(generator)
    contiguous = tensor._data.flags.c_contiguous
    return _fill(tensor, lambda: _normal(gen, tensor.numel(), tensor.dtype, mean, std, contiguous))


def rand(
    *size: int, generator: Generator | None = None, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """Samples of U(0, 1) (float32 unless ``dtype``), PyTorch's numbers for the same seed."""
    _on_cpu(device)
    dtype = _float_dtype(dtype, "rand")
    shape = _shape(size)
    return _new(_uniform(_generator(generator), math.prod(shape), dtype, 0.0, 1.0).reshape(shape), requires_grad)


def randn(
    *size: int, generator: Generator | None = None, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """Samples of N(0, 1) (float32 unless ``dtype``), PyTorch's numbers for the same seed."""
    _on_cpu(device)
    dtype = _float_dtype(dtype, "randn")
    shape = _shape(size)
    values = _normal(_generator(generator), math.prod(shape), dtype, 0.0, 1.0, contiguous=True)
    return _new(values.reshape(shape), requires_grad)


def rand_like(
    t: Tensor, *, generator: Generator | None = None, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """``rand`` with ``t``'s shape and dtype."""
    _on_cpu(device)
    return rand(t.shape, generator=generator, dtype=t.dtype if dtype is None else dtype, requires_grad=requires_grad)


def randn_like(
    t: Tensor, *, generator: Generator | None = None, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """``randn`` with ``t``'s shape and dtype."""
    _on_cpu(device)
    return randn(t.shape, generator=generator, dtype=t.dtype if dtype is None else dtype, requires_grad=requires_grad)


def randint(
    low: int = 0,
    high: int | Sequence[int] | None = None,
    size: Sequence[int] | None = None,
    *,
    generator: Generator | None = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Integers uniform in [low, high) (int64 unless ``dtype``): ``randint(low, high, size)`` or
    ``randint(high, size)``, PyTorch's numbers for the same seed."""
    _on_cpu(device)
    if high is None:  # randint(high, size=...)
        low, high = 0, low
    elif size is None and isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high
    if size is None or not isinstance(size, (tuple, list)):
        raise TypeError("randint needs a size: randint(high, size) or randint(low, high, size), size a tuple of ints")
    low, high = int(low), int(high)
    dtype = np.dtype(np.int64) if dtype is None else as_dtype(dtype)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    if dtype.kind in "iu":
        limits = np.iinfo(dtype)
        for name, value in (("from", low), ("to - 1", high - 1)):
            if not limits.min <= value <= limits.max:
                raise RuntimeError(f"{name} is out of bounds for {dtype}")
    elif dtype.kind != "f":
        raise TypeError(f"randint makes numbers, not {dtype}")
    if dtype.kind == "f":  # bounds beyond the float's integers move inwards to representable ones (PyTorch's rule)
        low, high = _float_bounds(low, high, np.finfo(dtype).nmant + 1)
    shape = _shape((size,))
    n, span = math.prod(shape), high - low
    gen = _generator(generator)
    wide = span >= 2**28  # 64-bit draws for wide ranges (PyTorch 2.13's rule)
    draws = gen._words64(n) if wide else gen._words(n)
    values = ((draws % np.uint64(span)) + np.uint64(low % 2**64)).view(np.int64)  # (wraps like C's uint64)
    return _new(values.astype(dtype).reshape(shape), requires_grad)


def _nearest_with_bits(x: int, bits: int) -> int:
    """The integer nearest ``x`` (ties to even) that a float with a ``bits``-bit significand holds."""
    shift = abs(x).bit_length() - bits
    if shift <= 0:
        return x
    q, r = divmod(abs(x), 1 << shift)
    if r > 1 << (shift - 1) or (r == 1 << (shift - 1) and q & 1):
        q += 1
    return (q << shift) * (1 if x >= 0 else -1)


def _float_bounds(low: int, high: int, bits: int) -> tuple[int, int]:
    """randint's [low, high) for a float dtype: where ``low + 1`` (or ``high - 1``) rounds outwards
    as a float, PyTorch moves the bound inwards by one float step."""
    rounded = _nearest_with_bits(low + 1, bits)
    if rounded < low:
        low = rounded + (1 << (abs(low + 1).bit_length() - 1 - bits + 1))
    rounded = _nearest_with_bits(high - 1, bits)
    if rounded >= high:
        high = rounded - (1 << (abs(high - 1).bit_length() - 1 - bits + 1))
    return low, high


def randperm(
    n: int, *, generator: Generator | None = None, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """A random permutation of ``0 .. n-1`` (int64 unless ``dtype``), PyTorch's for the same seed."""
    _on_cpu(device)
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"randperm(): n must be an int, got {type(n).__name__}")
    n = int(n)
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    if n >= 2**32 // 20:  # (PyTorch switches to another algorithm here)
        raise ValueError(f"randperm: n = {n} is too large; dagrad reproduces PyTorch's randperm for n < {2**32 // 20}")
    dtype = np.dtype(np.int64) if dtype is None else as_dtype(dtype)
    if dtype.kind in "iu" and n > 0 and n - 1 > np.iinfo(dtype).max:
        raise RuntimeError(f"randperm: n = {n} does not fit in {dtype}")
    words = _generator(generator)._words(max(n - 1, 0))
    return _new(_fisher_yates(words, n).astype(dtype), requires_grad)


def multinomial(
    input: Tensor, num_samples: int, replacement: bool = False, *, generator: Generator | None = None
) -> Tensor:
    """Indices drawn by the weights in each row of ``input`` (1-d or 2-d, not necessarily summing to 1),
    PyTorch's for the same seed.

    Without replacement (or for one sample) each row is ``topk`` of ``weights / q`` with ``q``
    exponential noise (a 64-bit uniform per category); with replacement each sample is a 64-bit
    uniform looked up in the row's normalized cumulative sums.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"multinomial(): input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {input.dtype}")
    _float_dtype(input.dtype, "multinomial")
    if input.ndim not in (1, 2):
        raise RuntimeError(f"prob_dist must be 1 or 2 dim, got shape {input.shape}")
    categories = input.shape[-1]
    if not replacement and num_samples > categories:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if categories > 2**24:
        raise RuntimeError("number of categories cannot exceed 2^24")
    weights = input._data.reshape(-1, categories)
    gen = _generator(generator)
    if not replacement or num_samples == 1:
        if not (np.all(weights < np.inf) and np.all(weights >= 0)):
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if np.any(weights.sum(axis=1) == 0):
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        noise = -_c_each(math.log1p, -gen._doubles(weights.size)).astype(input.dtype)  # Exp(1)
        ratio = weights / noise.reshape(weights.shape)
        if num_samples == 1:
            picked = np.argmax(ratio, axis=1)[:, None]
        else:
            picked = np.argsort(-ratio, axis=1, kind="stable")[:, :num_samples]  # topk, largest first
    else:
        if not np.all(weights >= 0):  # (NaN fails this test too, as in PyTorch's loop)
            raise RuntimeError("invalid multinomial distribution (encountering probability entry < 0)")
        if not np.all(np.isfinite(weights)):
            raise RuntimeError("invalid multinomial distribution (encountering probability entry = infinity or NaN)")
        cumulative = np.cumsum(weights, axis=1)  # (sequential, in the input's dtype, as PyTorch's loop)
        if np.any(cumulative[:, -1] <= 0):
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        cumulative = cumulative / cumulative[:, -1:]
        cumulative[:, -1] = 1
        u = gen._doubles(weights.shape[0] * num_samples).reshape(-1, num_samples)
        picked = np.stack([np.searchsorted(row, draws, side="left") for row, draws in zip(cumulative, u)])
    return Tensor._make(picked.astype(np.int64).reshape(input.shape[:-1] + (num_samples,)))


def normal(
    mean: Tensor | float = 0.0,
    std: Tensor | float = 1.0,
    size: Sequence[int] | None = None,
    *,
    generator: Generator | None = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Samples of N(mean, std**2), PyTorch's ``torch.normal`` and its numbers.

    ``normal(mean, std, size)`` with two numbers; or ``mean`` and/or ``std`` tensors, one sample
    per element of their broadcast shape (in the tensor's dtype). As PyTorch, tensor arguments
    draw N(0, 1) (or N(0, std) for a tensor mean and a number std), then scale and shift.
    """
    _on_cpu(device)
    gen = _generator(generator)
    mean_is_tensor, std_is_tensor = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not (mean_is_tensor or std_is_tensor):
        if size is None:
            raise TypeError("normal(mean, std, size) with numbers needs a size (or pass mean or std as a tensor)")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        dtype = _float_dtype(dtype, "normal")
        shape = _shape((size,))
        values = _normal(gen, math.prod(shape), dtype, float(mean), float(std), contiguous=True)
        return _new(values.reshape(shape), requires_grad)
    if size is not None:
        raise TypeError("normal(): size is only for numbers mean and std; with a tensor the shape is its shape")
    if std_is_tensor and np.any(std._data < 0):
        raise RuntimeError("normal expects all elements of std >= 0.0")
    if not std_is_tensor and std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    like = mean if mean_is_tensor else std
    out_dtype = _float_dtype(like.dtype if dtype is None else dtype, "normal")
    shape = np.broadcast_shapes(mean.shape if mean_is_tensor else (), std.shape if std_is_tensor else ())
    n = math.prod(shape)
    if std_is_tensor:  # N(0, 1), times std, plus mean: each step rounded to the output dtype
        out = _normal(gen, n, out_dtype, 0.0, 1.0, contiguous=True).reshape(shape)
        out = (out * std._data).astype(out_dtype)
    else:
        out = _normal(gen, n, out_dtype, 0.0, float(std), contiguous=True).reshape(shape)
    out = (out + (mean._data if mean_is_tensor else out_dtype.type(mean))).astype(out_dtype)
    return _new(out, requires_grad)


def bernoulli_(tensor: Tensor, p: float = 0.5, *, generator: Generator | None = None) -> Tensor:
    """Fill ``tensor`` in place with 1 (probability ``p``) or 0: ``Tensor.bernoulli_``, as dropout
    draws its mask. PyTorch's CPU kernel without MKL: a 64-bit uniform ``u`` per element, 1 where
    ``u < p``. (On Intel CPUs PyTorch's MKL build draws from an MKL stream instead: other masks.)"""
    if isinstance(p, Tensor):
        raise TypeError("bernoulli_: dagrad takes p as a number (PyTorch also accepts a tensor of probabilities)")
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    gen = _generator(generator)
    return _fill(tensor, lambda: (gen._doubles(tensor.numel()) < p).astype(tensor.dtype))


def int64_seed(generator: Generator | None = None) -> int:
    """One non-negative int64, drawn as PyTorch's ``torch.empty((), dtype=torch.int64).random_()``
    (a 64-bit draw modulo 2**63): how PyTorch's DataLoader and RandomSampler draw their seeds."""
    return int(_generator(generator)._words64(1)[0] % np.uint64(2**63))
