"""The nn surface teaching code uses (issue 14): Embedding, LayerNorm, more activations, losses,
containers and inference_mode, each against PyTorch (values, gradients, initial weights, reprs)."""

import math

import numpy as np
import pytest

import autograd
import nn
from autograd.grad_mode import inference_mode
from autograd.ops.special import erf, erf_array
from nn import functional as F

TOL64 = {"rtol": 1e-12, "atol": 1e-12}


def _grad_of(lib, fn, x):
    """fn(x) and d(sum(fn(x) * weights))/dx for one float64 input, in ``lib`` (autograd or torch)."""
    t = lib.tensor(x, requires_grad=True)
    y = fn(lib, t)
    weights = lib.tensor(np.linspace(-1.0, 2.0, y.numel()).reshape(tuple(y.shape)))
    (y * weights).sum().backward()
    return y.detach().numpy().copy(), t.grad.numpy().copy()


# ---------------------------------------------------------------- erf


def test_erf_is_within_two_units_in_the_last_place_of_math_erf():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-7, 7, 40000), np.linspace(-6.5, 6.5, 26001), 10.0 ** rng.uniform(-300, 0, 2000)])
    ref = np.array([math.erf(v) for v in x.tolist()])
    ulps = np.abs(erf_array(x) - ref) / np.spacing(np.abs(ref))
    assert ulps.max() <= 2, f"max error {ulps.max()} units in the last place at x = {x[ulps.argmax()]!r}"
    assert ulps.mean() < 0.3
    assert erf_array(np.array([np.inf, -np.inf, 0.0, -0.0])).tolist() == [1.0, -1.0, 0.0, -0.0]
    assert np.isnan(erf_array(np.array([np.nan]))).all()


def test_erf_gradient_and_float32(oracle):
    x = np.linspace(-3, 3, 13)
    ours = _grad_of(autograd, lambda lib, t: erf(t) if lib is autograd else lib.erf(t), x)
    theirs = oracle(lambda torch, x: _grad_of(torch, lambda lib, t: lib.erf(t), x), x)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, **TOL64)
    x32 = autograd.tensor(x.astype(np.float32), requires_grad=True)
    assert erf(x32).dtype == np.float32
    assert autograd.gradgradcheck(erf, (autograd.tensor([0.3, -1.2], dtype=autograd.float64, requires_grad=True),))


# ---------------------------------------------------------------- Embedding, one_hot, LayerNorm


def _embedding_run(lib, ids, padding_idx):
    lib.manual_seed(0)
    emb = lib.nn.Embedding(6, 3, padding_idx=padding_idx)
    start = emb.weight.detach().numpy().copy()
    out = emb(lib.tensor(ids))
    (out * lib.arange(out.numel()).reshape(out.shape).to(out.dtype)).sum().backward()
    return start, out.detach().numpy().copy(), emb.weight.grad.numpy().copy(), repr(emb), list(emb.state_dict())


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_init_forward_backward(oracle, padding_idx):
    ids = np.array([[0, 2, 5], [2, 1, 5]], dtype=np.int64)
    ours = _embedding_run(autograd, ids, padding_idx)
    theirs = oracle(_embedding_run, ids, padding_idx)
    for a, b in zip(ours[:3], theirs[:3]):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)  # the draws, the lookup and the scatter-added gradient, exactly
    assert ours[3:] == tuple(theirs[3:])
    if padding_idx is not None:
        assert not ours[2][padding_idx].any() and not ours[0][padding_idx].any()


def test_embedding_weight_argument_state_dict_round_trip_and_errors(oracle):
    table = np.arange(12, dtype=np.float32).reshape(4, 3)
    emb = nn.Embedding.from_pretrained(autograd.tensor(table))
    assert not emb.weight.requires_grad
    state = oracle(
        lambda torch, t: {k: v for k, v in torch.nn.Embedding(4, 3, _weight=torch.tensor(t) * 2).state_dict().items()},
        table,
    )
    emb.load_state_dict(state)
    np.testing.assert_array_equal(emb.weight.numpy(), table * 2)
    with pytest.raises(IndexError, match="index out of range"):
        emb(autograd.tensor([4]))
    with pytest.raises(TypeError, match="integer"):
        emb(autograd.tensor([1.0]))
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(4, 3, padding_idx=4)
    with pytest.raises(ValueError, match="does not match"):
        nn.Embedding(4, 2, _weight=autograd.tensor(table))


def test_embedding_max_norm_and_scale_grad_by_freq(oracle):
    ids = np.array([1, 1, 3, 0], dtype=np.int64)

    def run(lib, ids):
        lib.manual_seed(1)
        emb = lib.nn.Embedding(5, 4, max_norm=1.0, scale_grad_by_freq=True)
        out = emb(lib.tensor(ids))
        (out * out).sum().backward()
        return out.detach().numpy().copy(), emb.weight.detach().numpy().copy(), emb.weight.grad.numpy().copy()

    for a, b in zip(run(autograd, ids), oracle(run, ids)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_one_hot(oracle):
    ids = np.array([[0, 3], [2, 1]], dtype=np.int64)
    for classes in (-1, 6):
        ours = F.one_hot(autograd.tensor(ids), classes)
        theirs = oracle(lambda torch, ids, c: torch.nn.functional.one_hot(torch.tensor(ids), c), ids, classes)
        assert ours.dtype == theirs.dtype == np.int64
        np.testing.assert_array_equal(ours.numpy(), theirs)
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(autograd.tensor(ids), 3)


def _layer_norm_run(lib, x, affine, bias):
    ln = lib.nn.LayerNorm((3, 4), eps=1e-5, elementwise_affine=affine, bias=bias).double()
    if affine:
        with lib.no_grad():
            ln.weight.copy_(lib.tensor(np.linspace(0.5, 2, 12).reshape(3, 4)))
            if bias:
                ln.bias.copy_(lib.tensor(np.linspace(-1, 1, 12).reshape(3, 4)))
    t = lib.tensor(x, requires_grad=True)
    y = ln(t)
    (y * lib.tensor(np.cos(np.arange(y.numel())).reshape(y.shape))).sum().backward()
    grads = [t.grad] + [p.grad for p in ln.parameters()]
    return y.detach().numpy().copy(), [g.numpy().copy() for g in grads], repr(ln), list(ln.state_dict())


@pytest.mark.parametrize("affine,bias", [(True, True), (True, False), (False, False)])
def test_layer_norm_against_pytorch(oracle, affine, bias):
    x = np.random.default_rng(2).standard_normal((2, 3, 4)) * 3 + 1
    ours = _layer_norm_run(autograd, x, affine, bias)
    theirs = oracle(_layer_norm_run, x, affine, bias)
    np.testing.assert_allclose(ours[0], theirs[0], **TOL64)
    assert len(ours[1]) == len(theirs[1])
    for a, b in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(a, b, **TOL64)
    assert ours[2:] == tuple(theirs[2:])
    with pytest.raises(ValueError, match="expected input with shape"):
        F.layer_norm(autograd.ones(2, 5), (4,))


# ---------------------------------------------------------------- activations

ACTIVATIONS = {
    "gelu": lambda F, x: F.gelu(x),
    "gelu_tanh": lambda F, x: F.gelu(x, approximate="tanh"),
    "silu": lambda F, x: F.silu(x),
    "softplus": lambda F, x: F.softplus(x),
    "softplus_beta": lambda F, x: F.softplus(x, beta=2.0, threshold=3.0),
    "elu": lambda F, x: F.elu(x, alpha=0.7),
    "hardtanh": lambda F, x: F.hardtanh(x, -2.0, 1.5),
    "relu6": lambda F, x: F.relu6(x * 3),
    "normalize": lambda F, x: F.normalize(x.reshape(5, 4), dim=1),
    "normalize_p1": lambda F, x: F.normalize(x.reshape(5, 4), p=1.0, dim=0),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_values_and_gradients(oracle, name):
    x = np.concatenate([np.linspace(-25, 25, 11), [-1.5, 0.0, 1.5, 2.0, 6.0, 1e-9, -1e-9, 0.3, -0.3]])
    fn = ACTIVATIONS[name]
    ours = _grad_of(autograd, lambda lib, t: fn(F, t), x)
    theirs = oracle(lambda torch, x, name: _grad_of(torch, lambda lib, t: ACTIVATIONS[name](lib.nn.functional, t), x),
                    x, name)  # fmt: skip
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_normalize_zero_row_and_inplace_activations():
    x = autograd.tensor([[0.0, 0.0], [3.0, 4.0]], requires_grad=True)
    y = F.normalize(x)
    y.sum().backward()
    assert y.tolist()[0] == [0.0, 0.0] and np.isfinite(x.grad.numpy()).all()
    base = autograd.tensor([-1.0, 0.5, 3.0], requires_grad=True)
    h = base * 1
    out = F.elu(h, inplace=True)
    assert out is h
    out.sum().backward()
    np.testing.assert_allclose(base.grad.numpy(), [math.exp(-1.0), 1, 1])


def _module_reprs(lib):
    nn_ = lib.nn
    mods = [nn_.GELU(), nn_.GELU("tanh"), nn_.SiLU(), nn_.SiLU(inplace=True), nn_.Softplus(beta=2.0), nn_.ELU(),
            nn_.ELU(0.5, inplace=True), nn_.Hardtanh(-2.0, 2.0), nn_.ReLU6(), nn_.Dropout2d(0.2), nn_.LayerNorm(4),
            nn_.LayerNorm([2, 3], elementwise_affine=False), nn_.Unflatten(1, (2, 5)), nn_.Embedding(10, 3),
            nn_.Embedding(10, 3, padding_idx=0, max_norm=1.0, scale_grad_by_freq=True),
            nn_.ModuleDict({"a": nn_.ReLU(), "b": nn_.Linear(2, 3)})]  # fmt: skip
    return [repr(m) for m in mods]


def test_reprs_match_pytorch(oracle):
    assert _module_reprs(autograd) == oracle(_module_reprs)


# ---------------------------------------------------------------- losses

LOSSES = {
    "l1": lambda F, x, y: F.l1_loss(x, y),
    "l1_none": lambda F, x, y: F.l1_loss(x, y, reduction="none"),
    "smooth_l1": lambda F, x, y: F.smooth_l1_loss(x, y, beta=0.5),
    "smooth_l1_sum": lambda F, x, y: F.smooth_l1_loss(x, y, reduction="sum"),
    "smooth_l1_beta0": lambda F, x, y: F.smooth_l1_loss(x, y, beta=0.0),
    "bce": lambda F, x, y: F.binary_cross_entropy(x.sigmoid(), (y > 0).to(x.dtype)),
    "bce_weight_none": lambda F, x, y: F.binary_cross_entropy(
        x.sigmoid(), y.sigmoid(), weight=y.abs(), reduction="none"
    ),
    "kl_batchmean": lambda F, x, y: F.kl_div(x.log_softmax(1), y.softmax(1), reduction="batchmean"),
    "kl_log_target_sum": lambda F, x, y: F.kl_div(
        x.log_softmax(1), y.log_softmax(1), reduction="sum", log_target=True
    ),  # fmt: skip
    "kl_none_zero_target": lambda F, x, y: F.kl_div(x.log_softmax(1), (y > 0).to(x.dtype), reduction="none"),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_values_and_gradients(oracle, name):
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    y[0, 0] = x[0, 0]  # |x - y| = 0: the gradient there is 0 in both

    def run(lib, x, y, name):
        fn = LOSSES[name]
        return _grad_of(lib, lambda lib_, t: fn(lib_.nn.functional, t, lib_.tensor(y)), x)

    ours = run(autograd, x, y, name)
    theirs = oracle(run, x, y, name)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-14)


def test_bce_clamps_the_log_and_loss_modules(oracle):
    p, t = np.array([0.0, 1.0, 0.5, 1.0]), np.array([1.0, 0.0, 1.0, 1.0])

    def run(lib, p, t):
        x = lib.tensor(p, requires_grad=True)
        losses = [lib.nn.BCELoss()(x, lib.tensor(t)), lib.nn.L1Loss(reduction="sum")(x, lib.tensor(t)),
                  lib.nn.SmoothL1Loss(beta=0.3)(x, lib.tensor(t)),
                  lib.nn.KLDivLoss(reduction="batchmean")(x, lib.tensor(t))]  # fmt: skip
        sum(losses).backward()
        return [v.detach().numpy().copy() for v in losses], x.grad.numpy().copy()

    ours, theirs = run(autograd, p, t), oracle(run, p, t)
    np.testing.assert_allclose(ours[0], theirs[0], **TOL64)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)
    assert ours[0][0] == pytest.approx((200 + math.log(2)) / 4)  # the logs of 0 are clamped at -100
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(autograd.tensor([1.5]), autograd.tensor([1.0]))
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(autograd.tensor([-1.0]), autograd.tensor([0.5]))


# ---------------------------------------------------------------- containers and Module API


def _containers(lib):
    lib.manual_seed(0)
    nn_ = lib.nn

    class Net(nn_.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn_.ModuleDict({"enc": nn_.Linear(4, 3), "dec": nn_.Sequential(nn_.Linear(3, 2))})
            self.extra = nn_.ParameterList([nn_.Parameter(lib.ones(2)), nn_.Parameter(lib.zeros(3, 1))])
            self.register_buffer("count", lib.zeros(1))
            self.register_buffer("scratch", lib.ones(2), persistent=False)
            self.unflat = nn_.Unflatten(1, (2, 3))

    net = Net()
    net.blocks["dec"].add_module("act", nn_.GELU())
    state = net.state_dict()
    x = lib.tensor(np.arange(12.0, dtype=np.float32).reshape(2, 6))
    return (list(state), [v.numpy().copy() for v in state.values()], [n for n, _ in net.named_buffers()],
            repr(net.get_submodule("blocks.dec.0")), list(net.blocks), tuple(net.unflat(x).shape),
            repr(net.extra))  # fmt: skip


def test_containers_state_dict_and_submodules(oracle):
    ours, theirs = _containers(autograd), oracle(_containers)
    assert ours[0] == theirs[0]
    for a, b in zip(ours[1], theirs[1]):
        np.testing.assert_array_equal(a, b)  # the Linear draws after manual_seed, in registration order
    assert ours[2:6] == tuple(theirs[2:6])
    assert ours[6] == theirs[6].replace("torch.", "autograd.")
    net = nn.Sequential(nn.Linear(2, 2))
    with pytest.raises(AttributeError, match="has no attribute `x`"):
        net.get_submodule("0.x")
    assert net.get_submodule("") is net


def test_dropout2d_drops_whole_channels():
    autograd.manual_seed(0)
    x = autograd.ones(8, 16, 3, 3, requires_grad=True)
    y = F.dropout2d(x, 0.5)
    per_channel = y.detach().numpy().reshape(8, 16, 9)
    assert set(np.unique(per_channel)) <= {0.0, 2.0}
    assert (per_channel.min(2) == per_channel.max(2)).all() and 0 < (per_channel == 0).mean() < 1
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), per_channel.reshape(x.shape))
    layer = nn.Dropout2d(0.5).eval()
    assert layer(x) is x


def test_inference_mode():
    x = autograd.ones(2, requires_grad=True)
    with inference_mode():
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad

    @inference_mode
    def bare():
        return x * 2

    @inference_mode()
    def called():
        return x * 2

    assert not bare().requires_grad and not called().requires_grad
    with inference_mode(False):
        assert (x * 2).requires_grad
