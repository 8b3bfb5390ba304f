"""autograd.random against PyTorch's CPU generator: the same numbers, bit for bit, and the same state.

Every comparison runs one program with ``lib = autograd`` and ``lib = torch`` (through the oracle)
and requires identical bytes: values, dtypes, and the generator state (``get_state()``) after the
calls. The exact-arithmetic helpers and the vectorized shuffle are also checked on their own.
"""

import math
import platform
from fractions import Fraction

import numpy as np
import pytest

import autograd
import nn
import torch_oracle
from autograd import random as R

# PyTorch's float32 randn uses its AVX2 kernel on x86 CPUs and its dropout mask comes from MKL on
# Intel CPUs: a live PyTorch elsewhere computes other numbers than the frozen (x86, AMD) ones.
_LIVE = torch_oracle._torch is not None
if _LIVE and platform.machine().lower() not in ("x86_64", "amd64"):
    pytest.skip("PyTorch's random kernels differ on this CPU architecture", allow_module_level=True)


def _intel_mkl_bernoulli() -> bool:
    if not _LIVE or not torch_oracle._torch.backends.mkl.is_available():
        return False
    try:
        with open("/proc/cpuinfo") as f:
            return "GenuineIntel" in f.read(4096)
    except OSError:
        return False


def plain(value):
    """Our results as the oracle gives PyTorch's: tensors as numpy arrays, containers kept."""
    if isinstance(value, autograd.Tensor):
        return np.array(value.detach().numpy())
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def assert_same(ours, theirs, where="result"):
    """Identical bytes and dtypes (so -0.0 and 0.0 differ, as do float32 and float64)."""
    if isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray), where
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape, (where, ours.dtype, theirs.dtype)
        if ours.tobytes() != theirs.tobytes():
            differ = np.nonzero(ours.reshape(-1).view(np.uint8) != theirs.reshape(-1).view(np.uint8))[0]
            raise AssertionError(f"{where}: {len(differ)} bytes differ, ours {ours!r} theirs {theirs!r}")
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(theirs, dict):
        assert list(ours) == list(theirs), where
        for k in theirs:
            assert_same(ours[k], theirs[k], f"{where}[{k!r}]")
    else:
        assert ours == theirs, where


def compare(oracle, program, *args):
    """Run ``program(lib, *args)`` with both libraries; the results must be identical."""
    ours = plain(program(autograd, *args))
    theirs = oracle(program, *args)
    assert_same(ours, theirs)


# ---------------------------------------------------------------- call sequences
def _mixed_calls(lib, g):
    """One of every sampler, on generator ``g`` (None: the default generator), with the state after each.

    (The state's first 24 bytes hold the seed and the position in the stream; the whole state,
    the Mersenne Twister's words and the cached normal, is compared at the end.)"""
    f64 = lib.float64
    calls = [
        lambda: lib.rand(5, generator=g),
        lambda: lib.randn(3, generator=g),  # scalar path: leaves a cached normal
        lambda: lib.randn(2, 9, generator=g),  # 18 >= 16: the vectorized path (the cache survives it)
        lambda: lib.randn(1, generator=g, dtype=f64),  # takes the cached value
        lambda: lib.rand(7, generator=g, dtype=f64),
        lambda: lib.randn(33, generator=g, dtype=f64),
        lambda: lib.randint(-3, 1000, (13,), generator=g),
        lambda: lib.randint(9, (4, 2), generator=g),
        lambda: lib.randperm(11, generator=g),
        lambda: lib.zeros(20).uniform_(-0.37, 2.1, generator=g),
        lambda: lib.zeros(20, dtype=f64).normal_(0.3, 2.5, generator=g),
        lambda: lib.zeros(5).normal_(-1.0, 0.5, generator=g),
        lambda: lib.multinomial(lib.tensor([0.1, 0.3, 0.2, 0.4]), 2, generator=g),
        lambda: lib.multinomial(lib.tensor([0.1, 0.3, 0.2, 0.4]), 6, replacement=True, generator=g),
        lambda: lib.normal(2.0, 3.0, (4,), generator=g),
        lambda: lib.rand_like(lib.zeros(3, 2, dtype=f64), generator=g),
        lambda: lib.randn_like(lib.zeros(4, 5), generator=g),
    ]
    state = (lambda: lib.get_rng_state()) if g is None else g.get_state
    out = []
    for call in calls:  # each call's numbers and the state's position (its first 24 bytes) after it
        out += [call(), state()[:24]]
    return out + [state()]


@pytest.mark.parametrize("seed", [0, 42, 2**32 + 7, -5, 2**64 - 1])
def test_mixed_calls_on_the_default_generator(oracle, seed):
    def program(lib, seed):
        lib.manual_seed(seed)
        return [lib.initial_seed(), lib.get_rng_state()] + _mixed_calls(lib, None)

    compare(oracle, program, seed)


def test_separate_generators_interleaved_with_the_default_one(oracle):
    def program(lib):
        lib.manual_seed(1)
        a, b = lib.Generator().manual_seed(2), lib.Generator().manual_seed(2)
        out = [lib.randn(3, generator=a), lib.randn(5), lib.randn(3, generator=b), lib.rand(2, generator=a)]
        out += [lib.randn(4, generator=b), a.get_state(), b.get_state(), lib.get_rng_state()]
        return out + _mixed_calls(lib, a) + [lib.get_rng_state(), b.initial_seed()]

    compare(oracle, program)


def test_a_new_generator_has_pytorchs_default_seed(oracle):
    def program(lib):
        g = lib.Generator()
        return [g.initial_seed(), g.get_state(), lib.rand(4, generator=g)]

    compare(oracle, program)


@pytest.mark.parametrize("n", [1, 2, 15, 16, 17, 31, 32, 33, 100, 1037])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_randn_and_rand_sizes_around_the_16_element_blocks(oracle, n, dtype):
    def program(lib, n, dtype):
        g = lib.Generator().manual_seed(n)
        dt = getattr(lib, dtype)
        out = [lib.randn(n, generator=g, dtype=dt), g.get_state(), lib.randn(n, generator=g, dtype=dt)]
        out += [lib.rand(n, generator=g, dtype=dt), lib.zeros(n, dtype=dt).normal_(1.5, 0.25, generator=g)]
        return out + [lib.zeros(n, dtype=dt).uniform_(-3.0, 0.7, generator=g), g.get_state()]

    compare(oracle, program, n, dtype)


def test_fills_of_transposed_tensors_follow_memory_order(oracle):
    def program(lib):
        g = lib.Generator().manual_seed(3)
        a, b, c = lib.zeros(6, 5), lib.zeros(4, 8), lib.zeros(4, 5, dtype=lib.float64)
        a.T.uniform_(generator=g)  # not contiguous: filled along memory
        b.T.normal_(2.0, 0.5, generator=g)  # not contiguous: the one-by-one normal sampler even for 32 elements
        c.T.normal_(generator=g)
        return [a, b, c, g.get_state()]

    compare(oracle, program)


def test_state_save_and_restore(oracle):
    def program(lib):
        lib.manual_seed(7)
        lib.randn(5)  # an odd count: the cached normal is part of the state
        saved = lib.get_rng_state()
        first = [lib.randn(3), lib.rand(700), lib.randn(20, dtype=lib.float64)]
        lib.set_rng_state(saved)
        again = [lib.randn(3), lib.rand(700), lib.randn(20, dtype=lib.float64)]
        g = lib.Generator()
        g.set_state(saved)
        return [saved, first, again, lib.randn(3, generator=g), g.initial_seed(), lib.get_rng_state()]

    compare(oracle, program)


def test_states_cross_between_the_libraries(oracle):
    """A state PyTorch saved restores a dagrad generator (and continues PyTorch's numbers)."""

    def saved(torch):
        g = torch.Generator().manual_seed(123)
        torch.rand(1000, generator=g)
        torch.randn(7, generator=g, dtype=torch.float64)
        return [g.get_state(), torch.randn(9, generator=g), torch.rand(3, generator=g), g.get_state()]

    state, their_randn, their_rand, their_after = oracle(saved)
    g = autograd.Generator().set_state(autograd.tensor(state))
    assert_same(plain(g.get_state()), state)
    assert_same(plain([autograd.randn(9, generator=g), autograd.rand(3, generator=g)]), [their_randn, their_rand])
    assert_same(plain(g.get_state()), their_after)


@pytest.mark.parametrize(
    "low, high, dtype",
    [
        (0, 2, "int64"),
        (-7, 3, "int64"),
        (0, 2**28 - 1, "int64"),
        (0, 2**28, "int64"),  # from here: 64-bit draws
        (0, 2**32 - 1, "int64"),
        (0, 2**32, "int64"),
        (-(2**40), 2**50, "int64"),
        (-(2**63), 2**63 - 1, "int64"),
        (0, 100, "int32"),
        (0, 2**31 - 1, "int32"),
        (3, 200, "uint8"),
        (-5, 5, "float32"),
        (0, 2**33, "float32"),  # bounds a float32 cannot hold move inwards
        (-(2**60), 2**60, "float64"),
    ],
)
@pytest.mark.filterwarnings("ignore:.*is out of bounds")  # PyTorch's note on ranges beyond 2**24 or 2**53
def test_randint_ranges(oracle, low, high, dtype):
    def program(lib, low, high, dtype):
        g = lib.Generator().manual_seed(11)
        out = [lib.randint(low, high, (37,), generator=g, dtype=getattr(lib, dtype)), g.get_state()]
        return out + [lib.randint(low, high, (2, 3), generator=g, dtype=getattr(lib, dtype)), g.get_state()]

    compare(oracle, program, low, high, dtype)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 10, 100, 2000])
def test_randperm_sizes(oracle, n):
    def program(lib, n):
        g = lib.Generator().manual_seed(n + 1)
        return [lib.randperm(n, generator=g), lib.randperm(n, generator=g, dtype=lib.float32), g.get_state()]

    compare(oracle, program, n)


def test_multinomial(oracle):
    def program(lib):
        g = lib.Generator().manual_seed(5)
        w = lib.tensor([0.1, 0.3, 0.0, 0.2, 0.4, 2.0])
        rows = lib.tensor([[0.1, 0.3, 0.2, 0.0], [1.0, 0.0, 2.0, 3.0], [5.0, 1.0, 1.0, 1.0]])
        out = [
            lib.multinomial(w, 1, generator=g),
            lib.multinomial(w, 5, generator=g),  # without replacement: the zero weight comes last
            lib.multinomial(w, 6, generator=g),
            lib.multinomial(w, 1, replacement=True, generator=g),  # one sample: the no-replacement path
            lib.multinomial(w, 40, replacement=True, generator=g),
            lib.multinomial(rows, 3, generator=g),
            lib.multinomial(rows, 50, replacement=True, generator=g),
            lib.multinomial(rows.to(lib.float64), 2, generator=g),
            lib.multinomial(lib.arange(1.0, 301.0, dtype=lib.float64), 60, replacement=True, generator=g),
            lib.multinomial(lib.arange(1.0, 301.0), 30, generator=g),
        ]
        return out + [g.get_state()]

    compare(oracle, program)


def test_normal_overloads(oracle):
    def program(lib):
        g = lib.Generator().manual_seed(9)
        mean, std = lib.arange(20.0), lib.arange(20.0) / 7
        return [
            lib.normal(0.5, 2.0, (3, 7), generator=g),
            lib.normal(mean, 0.5, generator=g),
            lib.normal(1.5, std, generator=g),
            lib.normal(mean, std, generator=g),
            lib.normal(mean[:6].to(lib.float64), std[:6].to(lib.float64), generator=g),
            lib.normal(mean[:3], 2.0, generator=g),
            g.get_state(),
        ]

    compare(oracle, program)


# ---------------------------------------------------------------- nn: initialization, data, dropout
def _modules(lib):
    return (lib.nn, lib.nn.init) if lib is not autograd else (nn, nn.init)


@pytest.mark.parametrize("seed", [0, 42])
def test_linear_initialization(oracle, seed):
    def program(lib, seed):
        lib.manual_seed(seed)
        modules, _ = _modules(lib)
        layers = [modules.Linear(3, 4), modules.Linear(20, 30), modules.Linear(5, 2, bias=False)]
        layers.append(modules.Linear(6, 7, dtype=lib.float64))
        out = [[layer.weight, layer.bias] if layer.bias is not None else [layer.weight] for layer in layers]
        return out + [lib.get_rng_state()]

    compare(oracle, program, seed)


@pytest.mark.parametrize(
    "fn, kwargs",
    [
        ("uniform_", {"a": -2.0, "b": 3.0}),
        ("normal_", {"mean": 1.0, "std": 0.1}),
        ("xavier_uniform_", {"gain": 1.3}),
        ("xavier_normal_", {}),
        ("kaiming_uniform_", {"a": 0.1}),
        ("kaiming_uniform_", {"nonlinearity": "tanh", "mode": "fan_out"}),
        ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}),
    ],
)
def test_init_functions(oracle, fn, kwargs):
    def program(lib, fn, kwargs):
        _, init = _modules(lib)
        g = lib.Generator().manual_seed(4)
        lib.manual_seed(5)
        out = []
        for shape in [(4, 3), (16, 8, 3, 3), (7, 9)]:
            w, v = lib.zeros(shape, requires_grad=True), lib.zeros(shape, requires_grad=True)
            getattr(init, fn)(w, generator=g, **kwargs)
            getattr(init, fn)(v, **kwargs)
            out += [w, v]
        return out + [g.get_state(), lib.get_rng_state()]

    compare(oracle, program, fn, kwargs)


def _loader(lib, n, generator, **kwargs):
    if lib is autograd:
        from nn.data import DataLoader, TensorDataset
    else:
        DataLoader, TensorDataset = lib.utils.data.DataLoader, lib.utils.data.TensorDataset
    return DataLoader(TensorDataset(lib.arange(n)), generator=generator, **kwargs)


@pytest.mark.parametrize(
    "n, batch_size, drop_last", [(10, 3, False), (10, 3, True), (12, 4, False), (12, 4, True), (200, 64, False)]
)
def test_dataloader_batch_order(oracle, n, batch_size, drop_last):
    def program(lib, n, batch_size, drop_last):
        g = lib.Generator().manual_seed(5)
        lib.manual_seed(6)
        loader = _loader(lib, n, g, batch_size=batch_size, shuffle=True, drop_last=drop_last)
        epochs = [[batch[0] for batch in loader] for _ in range(2)]
        out = [epochs, g.get_state()[:24], lib.get_rng_state()[:24]]  # (the states' positions in the stream)
        unseeded = _loader(lib, n, None, batch_size=batch_size, shuffle=True, drop_last=drop_last)
        out += [[batch[0] for batch in unseeded], lib.get_rng_state()[:24]]
        ordered = _loader(lib, n, None, batch_size=batch_size)  # no shuffling still draws a base seed per epoch
        out += [[batch[0] for batch in ordered], lib.get_rng_state()]
        part = iter(_loader(lib, n, g, batch_size=batch_size, shuffle=True, drop_last=drop_last))
        return out + [next(part)[0], g.get_state(), lib.rand(3, generator=g)]  # an epoch left unfinished

    compare(oracle, program, n, batch_size, drop_last)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dropout_masks(oracle, dtype):
    if _intel_mkl_bernoulli():
        pytest.skip("PyTorch draws dropout masks from MKL's stream on Intel CPUs (autograd.random's docstring)")

    def program(lib, dtype, x):
        modules, _ = _modules(lib)
        lib.manual_seed(1)
        t = lib.tensor(x.astype(dtype))
        out = [modules.functional.dropout(t, p) for p in (0.1, 0.5, 0.123)]
        return out + [modules.Dropout(0.3)(t), lib.get_rng_state()]

    x = np.random.default_rng(0).standard_normal((30, 40))
    compare(oracle, program, dtype, x)


# ---------------------------------------------------------------- without PyTorch
def test_manual_seed_returns_the_generator_and_repeats():
    assert autograd.manual_seed(3) is autograd.default_generator
    a = [autograd.randn(5), autograd.rand(30), autograd.randperm(7)]
    autograd.manual_seed(3)
    b = [autograd.randn(5), autograd.rand(30), autograd.randperm(7)]
    assert_same(plain(a), plain(b))
    g = autograd.Generator()
    assert g.manual_seed(2**64 - 1) is g and g.initial_seed() == 2**64 - 1
    assert autograd.Generator().manual_seed(-1).initial_seed() == 2**64 - 1  # negatives wrap, as PyTorch
    assert_same(plain(g.get_state()), plain(autograd.Generator().manual_seed(-1).get_state()))
    new = g.seed()
    assert g.initial_seed() == new and 0 <= new < 2**64


def test_generator_errors():
    g = autograd.Generator()
    with pytest.raises(RuntimeError, match="bool"):
        g.manual_seed(True)
    with pytest.raises(ValueError, match="Overflow"):
        g.manual_seed(2**64)
    with pytest.raises(TypeError, match="uint8"):
        g.set_state(autograd.zeros(5056))
    with pytest.raises(RuntimeError, match="size 5056"):
        g.set_state(autograd.tensor(np.zeros(10, np.uint8)))
    with pytest.raises(RuntimeError, match="Invalid mt19937 state"):
        g.set_state(autograd.tensor(np.zeros(5056, np.uint8)))
    with pytest.raises(TypeError, match="Generator"):
        autograd.rand(3, generator=np.random.default_rng(0))
    with pytest.raises(TypeError, match="floating-point"):
        autograd.rand(3, dtype=autograd.int64)
    with pytest.raises(TypeError, match="float32 and float64"):
        autograd.randn(3, dtype=autograd.float16)
    with pytest.raises(RuntimeError, match="from=5 >= to=5"):
        autograd.randint(5, 5, (3,))
    with pytest.raises(RuntimeError, match="out of bounds"):
        autograd.randint(0, 300, (3,), dtype=autograd.uint8)
    with pytest.raises(RuntimeError, match="std >= 0.0"):
        autograd.zeros(3).normal_(0, -1)
    with pytest.raises(RuntimeError, match=r"\[from, to\)"):
        autograd.zeros(3).uniform_(1, 0)
    with pytest.raises(RuntimeError, match="without replacement"):
        autograd.multinomial(autograd.tensor([0.5, 0.5]), 3)
    with pytest.raises(RuntimeError, match="sum of probabilities"):
        autograd.multinomial(autograd.tensor([0.0, 0.0]), 1)
    with pytest.raises(RuntimeError, match="element < 0"):
        autograd.multinomial(autograd.tensor([0.5, -0.5]), 1)
    with pytest.raises(RuntimeError, match="negative dimension"):
        autograd.randperm(-1)


def test_random_fills_follow_the_inplace_rules():
    w = autograd.zeros(3, requires_grad=True)
    before = autograd.get_rng_state()
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w.uniform_()
    assert_same(plain(autograd.get_rng_state()), plain(before))  # refused before drawing, as PyTorch
    with autograd.no_grad():
        assert w.normal_() is w and w.grad_fn is None
    x = autograd.ones(4, requires_grad=True)
    y = x * 2
    y.uniform_(-1, 1)  # recorded: the old values get no gradient
    (y * 3).sum().backward()
    assert_same(plain(x.grad), np.zeros(4, np.float32))


def test_dataloader_takes_seed_or_generator():
    from nn.data import DataLoader, TensorDataset

    data = TensorDataset(autograd.arange(5))
    with pytest.raises(ValueError, match="not both"):
        DataLoader(data, shuffle=True, seed=1, generator=autograd.Generator())
    with pytest.raises(TypeError, match="autograd.Generator"):
        DataLoader(data, shuffle=True, generator=np.random.default_rng(0))


def _fisher_yates_loop(words, n):
    """PyTorch's randperm loop, as written in its C++: the specification of the vectorized version."""
    p = list(range(n))
    for i in range(n - 1):
        z = int(words[i]) % (n - i)
        p[i], p[i + z] = p[i + z], p[i]
    return np.array(p)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 8, 17, 100, 1000, 4099])
def test_vectorized_shuffle_equals_the_loop(n):
    rng = np.random.default_rng(n)
    for words in (rng.integers(0, 2**32, max(n - 1, 0), dtype=np.uint64), np.zeros(max(n - 1, 0), np.uint64)):
        np.testing.assert_array_equal(R._fisher_yates(words, n), _fisher_yates_loop(words, n))
    small = rng.integers(0, 3, max(n - 1, 0)).astype(np.uint64)  # short swaps: long chains of writes
    np.testing.assert_array_equal(R._fisher_yates(small, n), _fisher_yates_loop(small, n))


def _exact_fma(a, b, c, dtype):
    exact = Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c))
    return dtype.type(float(exact)) if dtype == np.float64 else _round_fraction32(exact)


def _round_fraction32(x):
    """The float32 nearest to the rational x (ties to even), by bisection over float32 neighbours."""
    guess = np.float32(float(x))  # within one float32 step
    below, above = np.nextafter(guess, np.float32(-np.inf)), np.nextafter(guess, np.float32(np.inf))
    candidates = [below, guess, above]
    best = min(candidates, key=lambda v: (abs(Fraction(float(v)) - x), int(np.array(v).view(np.int32)) & 1))
    return best


def test_fused_multiply_add_emulation_is_exact():
    rng = np.random.default_rng(0)
    a64, b64, c64 = rng.standard_normal((3, 2000)) * np.array([[1.0], [1e-9], [1e5]])
    got64 = R._fma64(a64, b64, c64)
    assert all(got64[i] == _exact_fma(a64[i], b64[i], c64[i], np.dtype(np.float64)) for i in range(2000))
    a32, b32 = rng.standard_normal((2, 2000)).astype(np.float32)
    c32 = (rng.standard_normal(2000) * 1e-3).astype(np.float32)
    # inputs where the float64 sum lands exactly halfway between two float32s but the exact one does not
    a32[:2], b32[:2] = np.float32(3.0), np.float32(1 + 2.0**-23)  # 3 + 2**-22 + 2**-23: a float32 midpoint
    c32[:2] = np.float32(2.0**-60), np.float32(-(2.0**-60))  # lost in the float64 sum; the FMA rounds by them
    got32 = R._fma32(a32, b32, c32)
    assert all(got32[i] == _exact_fma(a32[i], b32[i], c32[i], np.dtype(np.float32)) for i in range(2000))


def test_c_log_equals_the_c_librarys():
    x = 1 - np.random.default_rng(1).integers(0, 2**53, 100_000) * 2.0**-53
    x[:3] = 1.0, 0.5, 2.0**-53
    np.testing.assert_array_equal(R._c_log(x), [math.log(v) for v in x])
