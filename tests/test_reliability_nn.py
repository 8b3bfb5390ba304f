"""Reliability of nn (issue 17): losses at infinite logits and ignored samples, hostile IDX files,
and calls that fail without changing any state (BatchNorm, optimizers, optimizer checkpoints).

PyTorch's values come through the ``oracle`` fixture (frozen in ``tests/frozen/test_reliability_nn.npz``);
where PyTorch itself changes state before it raises (BatchNorm counts a batch it then refuses),
dagrad is stricter and the test says so.
"""

import gzip
import re
import struct
import tracemalloc
import warnings
import zlib

import numpy as np
import pytest

import autograd
import nn
from nn import functional as F
from nn import optim
from nn.datasets import read_idx

INF = np.inf
DTYPES = [np.float64, np.float32]


def tol(dtype):
    return {"rtol": 1e-9, "atol": 1e-11} if dtype == np.float64 else {"rtol": 2e-5, "atol": 1e-6}


def functional(lib):
    return F if lib is autograd else lib.nn.functional


def modules(lib):
    return nn if lib is autograd else lib.nn


def to_numpy(t):
    return np.array(t.detach().numpy())


def quiet(fn, *args):
    """``fn(*args)`` without numpy's warnings about the infinities these tests feed in on purpose."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return fn(*args)


def assert_matches(ours, theirs, dtype):
    """Values and gradients alike, NaN where PyTorch has NaN (and only there)."""
    assert len(ours) == len(theirs)
    for mine, ref in zip(ours, theirs):
        assert mine.dtype == ref.dtype and mine.shape == ref.shape
        np.testing.assert_allclose(mine, ref, **tol(dtype))


# ---------------------------------------------------------------------- 1. ignored samples


def loss_program(lib, fn, logits, target, upstream, options):
    """The loss ``F.<fn>(logits, target, **options)`` and the gradient of the logits, with
    ``upstream`` as the incoming gradient of reduction='none' (a scalar loss gets 1)."""
    x = lib.tensor(logits, requires_grad=True)
    kwargs = {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    loss = getattr(functional(lib), fn)(x, lib.tensor(target), **kwargs)
    loss.backward(lib.tensor(np.asarray(upstream if loss.ndim else 1.0, logits.dtype)))
    return [to_numpy(loss), to_numpy(x.grad)]


def test_an_ignored_sample_with_infinite_logits_does_not_poison_the_mean(oracle):
    """The issue's example: an ignored row of -inf logits; PyTorch's loss is 0.4644."""
    logits = np.array([[2.0, 1.0, 0.5], [-INF, -INF, -INF]])
    target = np.array([0, -100])
    for reduction in ("mean", "sum", "none"):
        ours = quiet(loss_program, autograd, "cross_entropy", logits, target, np.ones(2), {"reduction": reduction})
        theirs = oracle(loss_program, "cross_entropy", logits, target, np.ones(2), {"reduction": reduction})
        assert_matches(ours, theirs, np.float64)
        assert np.isfinite(ours[0]).all()
    np.testing.assert_allclose(ours[0], [0.46436878, 0.0], rtol=1e-7)  # the ignored row: 0, not NaN


# (N, C) rows: finite; ignored with all logits -inf; a real sample with -inf at another class;
# ignored with finite logits (its upstream gradient is infinite below); finite.
LOGITS = np.array([[2.0, 1.0, 0.5], [-INF, -INF, -INF], [0.3, -INF, 1.0], [0.1, 0.2, -0.3], [-1.0, 0.5, 0.0]])
TARGET = np.array([0, -100, 2, -100, 1])
UPSTREAM = np.array([1.0, INF, 2.0, INF, -1.0])  # (reduction='none': an infinite gradient reaches the ignored rows)
CASES = {
    "plain": {},
    "weight": {"weight": np.array([0.5, 2.0, 1.5])},
    "zero-weight": {"weight": np.array([0.0, 2.0, 1.5])},  # a zero class weight multiplies, as in PyTorch
    "smoothing": {"label_smoothing": 0.2},
    "weight-smoothing": {"weight": np.array([0.5, 2.0, 1.5]), "label_smoothing": 0.2},
    "ignore-1": {"ignore_index": 1},
}
LOSS_CASES = [("cross_entropy", c) for c in CASES] + [("nll_loss", c) for c in CASES if "smoothing" not in c]


def case_arguments(case, dtype, layout):
    """Logits, targets and the upstream gradient for ``case``, (N, C) or (N, C, d) (layout '3d')."""
    target = TARGET.copy()
    if case == "ignore-1":
        target[target == -100] = 1
    logits, upstream = LOGITS.astype(dtype), UPSTREAM.astype(dtype)
    if layout == "3d":  # (N, C) -> (1, C, N): the same samples along a spatial dimension
        logits, target, upstream = logits.T[None].copy(), target[None], upstream[None]
    return logits, target, upstream


@pytest.mark.parametrize("layout", ["2d", "3d"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(("fn", "case"), LOSS_CASES)
def test_ignored_samples_are_masked_not_multiplied(oracle, fn, case, reduction, dtype, layout):
    """Ignored samples contribute exact zeros to the loss and to the gradient, whatever their
    logits (even -inf) and whatever gradient reaches them (even inf); the rest is PyTorch's."""
    options = {**CASES[case], "reduction": reduction}
    if "weight" in options:
        options["weight"] = options["weight"].astype(dtype)
    logits, target, upstream = case_arguments(case, dtype, layout)
    ours = quiet(loss_program, autograd, fn, logits, target, upstream, options)
    theirs = oracle(loss_program, fn, logits, target, upstream, options)
    assert_matches(ours, theirs, dtype)
    ignored = target.reshape(-1) == options.get("ignore_index", -100)
    grad = np.moveaxis(ours[1], 1, -1).reshape(-1, 3)
    assert (grad[ignored & np.isfinite(LOGITS).all(1)] == 0).all()  # (an all -inf row is NaN in log_softmax)
    if reduction == "none":
        assert (ours[0].reshape(-1)[ignored] == 0).all()


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_a_batch_of_only_ignored_samples(oracle, fn):
    logits = np.array([[-INF, -INF, -INF], [0.1, 0.2, -0.3]])
    target = np.array([-100, -100])
    for reduction in ("mean", "sum", "none"):
        options = {"reduction": reduction, "weight": np.array([1.0, 2.0, 3.0])}
        ours = quiet(loss_program, autograd, fn, logits, target, np.array([INF, INF]), options)
        theirs = oracle(loss_program, fn, logits, target, np.array([INF, INF]), options)
        assert_matches(ours, theirs, np.float64)


@pytest.mark.parametrize("options", [{}, {"weight": np.array([0.5, 2.0, 1.5])}, {"label_smoothing": 0.2}])
def test_probability_targets_multiply_as_pytorch_does(oracle, options):
    """Class-probability targets have no ignored samples: 0 * -inf is NaN there in PyTorch too."""
    logits = np.array([[2.0, 1.0, 0.5], [-INF, 0.0, 1.0], [0.3, -INF, 1.0], [0.1, 0.2, -0.3]])
    probabilities = np.array([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5], [0.5, 0.0, 0.5], [0.2, 0.3, 0.5]])
    upstream = np.array([1.0, 2.0, 3.0, 4.0])
    for reduction in ("mean", "none"):
        args = ("cross_entropy", logits, probabilities, upstream, {**options, "reduction": reduction})
        ours = quiet(loss_program, autograd, *args)
        assert_matches(ours, oracle(loss_program, *args), np.float64)


def test_probability_targets_accept_a_negative_ignore_index(oracle):
    """PyTorch refuses ignore_index >= 0 with class probabilities, and lets a negative one pass."""
    logits, probabilities = np.array([[2.0, 1.0, 0.5]]), np.array([[0.2, 0.3, 0.5]])
    args = ("cross_entropy", logits, probabilities, np.ones(1), {"ignore_index": -1})
    assert_matches(loss_program(autograd, *args), oracle(loss_program, *args), np.float64)
    with pytest.raises(ValueError, match="ignore_index is not supported for floating point target"):
        F.cross_entropy(autograd.tensor(logits), autograd.tensor(probabilities), ignore_index=0)


# ---------------------------------------------------------------------- 3. BCE at infinite logits


def bce_program(lib, logits, target, upstream, options):
    x = lib.tensor(logits, requires_grad=True)
    kwargs = {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    loss = functional(lib).binary_cross_entropy_with_logits(x, lib.tensor(target), **kwargs)
    loss.backward(lib.tensor(upstream if loss.ndim else upstream.sum()))
    return [to_numpy(loss), to_numpy(x.grad)]


BCE_WEIGHTS = {
    "none": {},
    "pos_weight": {"pos_weight": np.array([2.0, 0.5, 3.0, 1.5, 2.0, 1.0, 0.0])},
    "weight": {"weight": np.array([[1.0], [0.5], [2.0]])},
    "both": {"pos_weight": np.array([2.0, 0.5, 3.0, 1.5, 2.0, 1.0, 0.0]), "weight": np.array([[1.0], [0.5], [2.0]])},
}


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("weighting", list(BCE_WEIGHTS))
def test_bce_with_logits_at_infinite_logits(oracle, weighting, reduction, dtype):
    """Values as PyTorch's (inf, or NaN where it has NaN); the gradient, (1 + (pw - 1) y) sigmoid(x)
    - pw y (times weight), finite at +-inf, and exact at 0."""
    logits = np.array([[INF, -INF, INF, -INF, 0.0, 3.0, -40.0]] * 3, dtype)
    target = np.array([[1, 0, 0, 1, 0, 0.3, 1], [0.5] * 7, [0, 1, 1, 0, 1, 1, 0]], dtype)
    upstream = np.arange(1, 22, dtype=dtype).reshape(3, 7)
    options = {k: v.astype(dtype) for k, v in BCE_WEIGHTS[weighting].items()}
    options["reduction"] = reduction
    ours = quiet(bce_program, autograd, logits, target, upstream, options)
    theirs = oracle(bce_program, logits, target, upstream, options)
    assert_matches(ours, theirs, dtype)
    assert np.isfinite(ours[1]).all()


def test_bce_with_logits_second_derivative():
    rng = np.random.default_rng(0)
    x = autograd.tensor(rng.standard_normal((3, 4)) * 3, requires_grad=True)
    y = autograd.tensor(rng.random((3, 4)))
    pos_weight = autograd.tensor(np.array([0.5, 1.0, 2.0, 3.0]))
    assert autograd.gradcheck(lambda x: F.binary_cross_entropy_with_logits(x, y, pos_weight=pos_weight), (x,))
    assert autograd.gradgradcheck(lambda x: F.binary_cross_entropy_with_logits(x, y, pos_weight=pos_weight), (x,))


# ---------------------------------------------------------------------- 2. hostile IDX files


def idx_header(code, *shape):
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}i", *shape)


def gzip_of(*parts):
    """A gzip stream of the concatenated ``parts``, compressed a part at a time (no big buffer)."""
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    return b"".join([*(c.compress(p) for p in parts), c.flush()])


def read_with_peak(path):
    """``read_idx(path)`` (or the ValueError it raised) and the peak of Python memory it took."""
    tracemalloc.start()
    try:
        try:
            result = read_idx(path)
        except ValueError as e:
            result = e
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_gzip_bomb_is_refused_without_inflating_it(tmp_path):
    """4 data bytes announced, 256 MiB of zeros behind them (a 260 KB file): refused after
    inflating at most the header's promise and a small margin."""
    bomb = tmp_path / "bomb.gz"
    bomb.write_bytes(gzip_of(idx_header(0x08, 4), b"abcd", *[bytes(1 << 20)] * 256))
    assert bomb.stat().st_size < 1 << 20
    error, peak = read_with_peak(bomb)
    assert isinstance(error, ValueError)
    assert re.search(r"expected 4 data bytes for shape \(4,\) of ubyte, found at least \d+ trailing bytes", str(error))
    assert peak < 2 << 20, f"read_idx took {peak} bytes of memory for a 4-byte array"  # (all of it: 256 MiB)


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_a_header_claiming_a_huge_array_is_refused_without_allocating_it(tmp_path, gz):
    huge = 2**31 - 1
    data = idx_header(0x0D, huge, huge, huge) + bytes(1000)
    path = tmp_path / "huge"
    path.write_bytes(gzip.compress(data) if gz else data)
    error, peak = read_with_peak(path)
    assert isinstance(error, ValueError)
    assert re.search(r"truncated IDX file: expected \d+ data bytes for shape \(2147483647, 2147483647, "
                     r"2147483647\) of float, found 1000", str(error))  # fmt: skip
    assert peak < 4 << 20


def test_truncated_and_corrupt_gzip_files_give_clear_errors(tmp_path):
    good = gzip.compress(idx_header(0x08, 3, 4) + bytes(range(12)))
    crc_at = len(good) - 8
    cases = {
        "deflate-cut": good[: len(good) // 2],
        "trailer-cut": good[:-3],
        "bad-crc": good[:crc_at] + bytes(4) + good[crc_at + 4 :],
        "gzip-magic-only": b"\x1f\x8b",
        "garbage-after": good + b"junk",
    }
    for name, data in cases.items():
        path = tmp_path / f"{name}.gz"
        path.write_bytes(data)
        with pytest.raises(ValueError, match=rf"{name}\.gz: corrupt or truncated gzip file"):
            read_idx(path)
    lying = tmp_path / "lying.gz"
    lying.write_bytes(gzip.compress(idx_header(0x08, 3, 4) + bytes(range(10))))  # 10 of 12 bytes
    with pytest.raises(ValueError, match=r"truncated IDX file: expected 12 data bytes for shape \(3, 4\).*found 10"):
        read_idx(lying)
    longer = tmp_path / "longer.gz"
    longer.write_bytes(gzip.compress(idx_header(0x08, 3, 4) + bytes(range(14))))
    with pytest.raises(ValueError, match="found 2 trailing bytes"):
        read_idx(longer)
    short_header = tmp_path / "short_header.gz"
    short_header.write_bytes(gzip.compress(idx_header(0x08, 3, 4)[:9]))
    with pytest.raises(ValueError, match="truncated IDX header: expected 12 bytes for 2 dimensions, found 9"):
        read_idx(short_header)


def test_idx_files_larger_than_a_read_chunk_and_multi_member_gzip(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3000, 28, 28), dtype=np.uint8)  # 2.2 MiB: read in several chunks
    values = rng.standard_normal((700, 1000)).astype(np.float32)
    raw_images = idx_header(0x08, *images.shape) + images.tobytes()
    (tmp_path / "images.gz").write_bytes(gzip.compress(raw_images[:1000], 1) + gzip.compress(raw_images[1000:], 1))
    (tmp_path / "values").write_bytes(idx_header(0x0D, *values.shape) + values.astype(">f4").tobytes())
    got = read_idx(tmp_path / "images.gz")
    np.testing.assert_array_equal(got, images)
    assert got.flags.writeable and got.dtype == np.uint8
    got = read_idx(tmp_path / "values")
    np.testing.assert_array_equal(got, values)
    assert got.flags.writeable and got.dtype == np.float32 and got.dtype.isnative


# ---------------------------------------------------------------------- 4. BatchNorm: check, then change


def bn_state(bn):
    return [to_numpy(bn.running_mean), to_numpy(bn.running_var), int(bn.num_batches_tracked.item())]


def x34(seed=0):
    return autograd.tensor(np.random.default_rng(seed).standard_normal((4, 3)).astype(np.float32))


def test_batchnorm_that_refuses_a_call_changes_no_state():
    """Each refused call leaves the running statistics and the batch counter as they were
    (PyTorch counts the batch before its check raises; dagrad checks everything first)."""

    def wrong_weight(bn):
        bn.weight = nn.Parameter(np.ones(4, np.float32))  # one value per channel too many

    def integer_running_var(bn):  # the running mean would move, then the variance fail
        bn.running_var = autograd.tensor(np.ones(3, np.int64))

    cases = [
        (wrong_weight, x34(1), ValueError, r"weight must have shape \(3,\)"),
        (integer_running_var, x34(1), TypeError, "running_var must be floating-point, got int64"),
        (lambda bn: None, autograd.tensor(np.ones((1, 3), np.float32)), ValueError, "more than 1 value per channel"),
        (lambda bn: None, autograd.tensor(np.ones((4, 3), np.int64)), TypeError, "floating-point input"),
    ]
    for momentum in (0.1, None):
        for spoil, x, error, message in cases:
            bn = nn.BatchNorm1d(3, momentum=momentum)
            bn(x34(0))
            spoil(bn)
            mean, var, count = bn_state(bn)
            with pytest.raises(error, match=message):
                bn(x)
            assert np.array_equal(bn_state(bn)[0], mean) and np.array_equal(bn_state(bn)[1], var)
            assert bn_state(bn)[2] == count == 1


def test_functional_batch_norm_checks_every_buffer_before_updating_any():
    mean, var = autograd.zeros(3), autograd.tensor(np.ones(3, np.int32))
    with pytest.raises(TypeError, match="running_var must be floating-point"):
        F.batch_norm(x34(), mean, var, training=True)
    assert mean.tolist() == [0.0, 0.0, 0.0]


def bn_program(lib, batches, momentum):
    """Running statistics and counter of a BatchNorm1d after training on ``batches``."""
    bn = modules(lib).BatchNorm1d(3, momentum=momentum, dtype=lib.float64)
    for x in batches:
        bn(lib.tensor(x))
    return [to_numpy(bn.running_mean), to_numpy(bn.running_var), int(bn.num_batches_tracked.item())]


@pytest.mark.parametrize("momentum", [0.1, None])
def test_a_refused_batch_does_not_shift_the_running_average(oracle, momentum):
    """After a refused batch, training goes on as if it had never been offered (PyTorch without it)."""
    batches = [np.random.default_rng(seed).standard_normal((4, 3)) for seed in range(3)]
    bn = nn.BatchNorm1d(3, momentum=momentum, dtype=np.float64)
    bn(autograd.tensor(batches[0]))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(autograd.tensor(batches[1][:1]))
    for x in batches[1:]:
        bn(autograd.tensor(x))
    ours = [to_numpy(bn.running_mean), to_numpy(bn.running_var), int(bn.num_batches_tracked.item())]
    theirs = oracle(lambda torch, b, m: bn_program(torch, b, m), batches, momentum)
    np.testing.assert_allclose(ours[0], theirs[0].astype(np.float64), rtol=1e-6)
    np.testing.assert_allclose(ours[1], theirs[1].astype(np.float64), rtol=1e-6)
    assert ours[2] == theirs[2] == 3


# ---------------------------------------------------------------------- 4. optimizers: check, then move

OPTIMIZERS = {
    "SGD": ("SGD", {"lr": 0.1, "momentum": 0.9}),
    "SGD-nesterov": ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    "Adam": ("Adam", {"lr": 0.1}),
    "Adam-amsgrad": ("Adam", {"lr": 0.1, "amsgrad": True, "weight_decay": 0.1}),
    "AdamW": ("AdamW", {"lr": 0.1}),
    "RMSprop": ("RMSprop", {"lr": 0.1, "momentum": 0.9, "centered": True}),
}


def two_steps(lib, module, name, kwargs, w0, v0, g1, g2):
    """Two steps of ``name`` on parameters w, v with gradients g1 then g2; the values after each."""
    w, v = lib.tensor(w0, requires_grad=True), lib.tensor(v0, requires_grad=True)
    opt = getattr(module, name)([{"params": [w]}, {"params": [v]}], **kwargs)
    out = []
    for gw, gv in (g1, g2):
        w.grad, v.grad = lib.tensor(gw), lib.tensor(gv)
        opt.step()
        out.append([to_numpy(w), to_numpy(v)])
    return out


def step_arrays():
    rng = np.random.default_rng(0)
    w0, v0 = rng.standard_normal(3), rng.standard_normal(2)
    g1 = (rng.standard_normal(3), rng.standard_normal(2))
    g2 = (rng.standard_normal(3), rng.standard_normal(2))
    return w0, v0, g1, g2


@pytest.mark.parametrize("which", list(OPTIMIZERS))
def test_a_step_refused_for_a_bad_gradient_moves_nothing(oracle, which):
    """A complex (or other-dtype) .grad on the second parameter: the step raises before the
    first parameter moves or gets state; fixed, training goes on exactly as PyTorch's."""
    name, kwargs = OPTIMIZERS[which]
    w0, v0, g1, g2 = step_arrays()
    w, v = autograd.tensor(w0, requires_grad=True), autograd.tensor(v0, requires_grad=True)
    opt = getattr(optim, name)([{"params": [w]}, {"params": [v]}], **kwargs)
    for bad in (g1[1].astype(np.complex128), g1[1].astype(np.float32), g1[1].astype(np.int64)):
        w.grad, v._grad = autograd.tensor(g1[0]), autograd.Tensor(bad)  # (.grad = would refuse it)
        with pytest.raises(RuntimeError, match=rf"parameter 0 of group 1 has dtype float64 but its .grad has dtype "
                           rf"{bad.dtype}.*nothing was updated"):  # fmt: skip
            opt.step()
        assert w.tolist() == w0.tolist() and v.tolist() == v0.tolist() and not opt.state
    opt.param_groups[1]["lr"] = None  # (as if a scheduler or a user wrote it)
    w.grad, v.grad = autograd.tensor(g1[0]), autograd.tensor(g1[1])
    with pytest.raises(TypeError, match="parameter group 1: hyperparameters .* must all be numbers"):
        opt.step()
    assert w.tolist() == w0.tolist() and not opt.state
    opt.param_groups[1]["lr"] = kwargs["lr"]
    ours = []
    for gw, gv in (g1, g2):
        w.grad, v.grad = autograd.tensor(gw), autograd.tensor(gv)
        opt.step()
        ours.append([to_numpy(w), to_numpy(v)])
    theirs = oracle(lambda torch, *a: two_steps(torch, torch.optim, *a), name, kwargs, w0, v0, g1, g2)
    for mine, ref in zip(ours, theirs):
        for got, want in zip(mine, ref):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------- 5. malformed optimizer state dicts


def stepped(name="SGD", **kwargs):
    w = autograd.tensor(np.zeros(3, np.float32), requires_grad=True)
    v = autograd.tensor(np.zeros(2, np.float32), requires_grad=True)
    opt = getattr(optim, name)([w, v], lr=0.1, **({"momentum": 0.9} if name == "SGD" else {}), **kwargs)
    w.grad, v.grad = autograd.ones(3), autograd.ones(2)
    opt.step()
    return opt


def test_malformed_optimizer_state_dicts_give_clear_errors_and_change_nothing():
    opt = stepped()
    good = opt.state_dict()
    group = good["param_groups"][0]
    no_params = {k: v for k, v in group.items() if k != "params"}
    cases = [
        ({"state": good["state"]}, r"needs 'state' and 'param_groups' entries, got \['state'\]"),
        ({"param_groups": good["param_groups"]}, r"needs 'state' and 'param_groups' entries, got \['param_groups'\]"),
        ([good], "needs 'state' and 'param_groups' entries, got list"),
        ({**good, "param_groups": [no_params]}, r"parameter group 0 of the loaded state dict needs a 'params' entry"),
        ({**good, "param_groups": ["params"]}, "parameter group 0 of the loaded state dict needs a 'params' entry"),
        ({**good, "param_groups": group}, "'param_groups' of an optimizer state dict must be a list of dicts"),
        ({**good, "param_groups": [{**group, "params": 0}]}, "'params' must be a list of parameter indices"),
        ({**good, "param_groups": [{**group, "params": [0, "1"]}]}, "must hold parameter indices"),
        ({**good, "state": [1, 2]}, "the 'state' of an optimizer state dict must be a dict"),
        ({**good, "param_groups": []}, "different number of parameter groups: 0, but the optimizer has 1"),
        ({**good, "param_groups": [group, group]}, "different number of parameter groups: 2"),
        ({**good, "param_groups": [{**group, "params": [0]}]}, "group 0 has 1 parameters in the state dict and 2"),
    ]
    for bad, message in cases:
        with pytest.raises(ValueError, match=message):
            opt.load_state_dict(bad)
        after = opt.state_dict()
        assert after["param_groups"] == good["param_groups"]
        assert {k: list(s) for k, s in after["state"].items()} == {0: ["momentum_buffer"], 1: ["momentum_buffer"]}


def test_pytorch_raises_a_bare_key_error_for_a_group_without_params(oracle):
    """(what the clear message replaces)"""

    def load(torch):
        w = torch.zeros(3, requires_grad=True)
        opt = torch.optim.SGD([w], lr=0.1)
        try:
            opt.load_state_dict({"state": {}, "param_groups": [{"lr": 0.1}]})
        except Exception as e:  # noqa: BLE001
            return type(e).__name__
        return "loaded"

    assert oracle(load) == "KeyError"
    opt = stepped()
    with pytest.raises(ValueError, match=r"needs a 'params' entry \(the indices of its parameters"):
        opt.load_state_dict({"state": {}, "param_groups": [{"lr": 0.1}]})


@pytest.mark.parametrize("name", ["Adam", "AdamW", "RMSprop"])
def test_state_from_another_optimizer_is_refused_when_loaded(name):
    """SGD's momentum buffers loaded into Adam would fail at its next step, after the first
    parameters moved; the load refuses them instead."""
    sgd_state = stepped("SGD").state_dict()
    opt = stepped(name)
    before = opt.state_dict()
    with pytest.raises(ValueError, match=rf"loaded state for parameter 0 lacks .* {name} keeps"):
        opt.load_state_dict(sgd_state)
    assert opt.state_dict()["param_groups"] == before["param_groups"]
    assert sorted(opt.state_dict()["state"][0]) == sorted(before["state"][0])
    empty = {**sgd_state, "state": {}}  # no state at all is fine: a fresh start
    opt.load_state_dict(empty)
    assert not opt.state


def test_a_loaded_none_buffer_is_recreated_by_the_step():
    opt = stepped("RMSprop", momentum=0.9, centered=True)
    saved = opt.state_dict()
    saved["state"][0]["momentum_buffer"] = None
    saved["state"][1]["grad_avg"] = None
    opt.load_state_dict(saved)
    for p in opt.param_groups[0]["params"]:
        p.grad = autograd.ones(p.shape)
    opt.step()
    assert all(isinstance(s["momentum_buffer"], autograd.Tensor) for s in opt.state.values())
