"""nn against PyTorch: every layer and loss (values and gradients), initialization, the Module
API, and a small model that learns.

Weights travel through ``state_dict`` and numpy in both directions (dagrad -> torch and
torch -> dagrad), so these tests also prove that checkpoints move between the two libraries.
"""

import math
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import autograd
import nn
from nn import functional as F

DTYPES = [np.float64, np.float32]
DIRECTIONS = ["dagrad->torch", "torch->dagrad"]


def tol(dtype):
    return {"rtol": 1e-9, "atol": 1e-11} if dtype == np.float64 else {"rtol": 2e-4, "atol": 3e-5}


def tdtype(torch, dtype):
    return torch.float64 if dtype == np.float64 else torch.float32


def randn(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def to_numpy(t):
    """A dagrad or torch tensor as a numpy array (a copy)."""
    return np.array(t.detach().numpy())


def copy_weights(torch, dmodel, tmodel, direction):
    """Make both models hold the same weights, through state_dict and numpy."""
    if direction == "dagrad->torch":
        tmodel.load_state_dict({k: torch.from_numpy(to_numpy(v)) for k, v in dmodel.state_dict().items()})
    else:
        result = dmodel.load_state_dict({k: to_numpy(v) for k, v in tmodel.state_dict().items()})
        assert result.missing_keys == [] and result.unexpected_keys == []


def pair(torch, factory, dtype, direction="dagrad->torch"):
    """The same layer in both libraries (``factory(nn)`` / ``factory(torch.nn)``), same weights and dtype."""
    autograd.manual_seed(0)
    torch.manual_seed(1)
    dmodel, tmodel = factory(nn).to(dtype), factory(torch.nn).to(tdtype(torch, dtype))
    copy_weights(torch, dmodel, tmodel, direction)
    return dmodel, tmodel


def assert_close(actual, expected, dtype):
    np.testing.assert_allclose(to_numpy(actual), to_numpy(expected), **tol(dtype))


def run_both(torch, dmodel, tmodel, x, dtype, seed=1):
    """Forward x through both models, backward a random upstream gradient; compare everything.

    Returns the two outputs.
    """
    xd, xt = autograd.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yd, yt = dmodel(xd), tmodel(xt)
    assert yd.dtype == dtype and tuple(yd.shape) == tuple(yt.shape)
    assert_close(yd, yt, dtype)
    g = randn(yd.shape, seed, dtype)
    (yd * autograd.tensor(g)).sum().backward()
    (yt * torch.from_numpy(g)).sum().backward()
    assert_close(xd.grad, xt.grad, dtype)
    assert_grads_match(dmodel, tmodel, dtype)
    return yd, yt


def assert_grads_match(dmodel, tmodel, dtype):
    tparams = dict(tmodel.named_parameters())
    dparams = dict(dmodel.named_parameters())
    assert list(dparams) == list(tparams)
    for name, p in dparams.items():
        assert p.grad is not None and p.grad.dtype == dtype, name
        assert_close(p.grad, tparams[name].grad, dtype)


def assert_state_match(dmodel, tmodel, dtype):
    tstate = tmodel.state_dict()
    dstate = dmodel.state_dict()
    assert list(dstate) == list(tstate)
    for key, value in dstate.items():
        if key.endswith("num_batches_tracked"):
            assert int(value.item()) == int(tstate[key].item()), key
        else:
            assert_close(value, tstate[key], dtype)


# ---------------------------------------------------------------- every layer against PyTorch

LAYERS = {
    "linear-1d": (lambda m: m.Linear(5, 3), (5,)),
    "linear-2d": (lambda m: m.Linear(5, 3), (4, 5)),
    "linear-3d-nobias": (lambda m: m.Linear(5, 3, bias=False), (2, 4, 5)),
    "conv": (lambda m: m.Conv2d(3, 4, 3), (2, 3, 7, 6)),
    "conv-stride-pad-dilation": (
        lambda m: m.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(2, 1)),
        (2, 4, 9, 8),
    ),
    "conv-groups": (lambda m: m.Conv2d(4, 6, 3, padding=1, groups=2), (2, 4, 6, 6)),
    "conv-depthwise-nobias": (lambda m: m.Conv2d(4, 8, 3, stride=2, groups=4, bias=False), (2, 4, 7, 7)),
    "conv-same-even-kernel": (lambda m: m.Conv2d(3, 4, (2, 4), padding="same", dilation=(1, 2)), (2, 3, 6, 7)),
    "conv-reflect": (lambda m: m.Conv2d(3, 4, 3, padding=1, padding_mode="reflect"), (2, 3, 6, 5)),
    "conv-replicate": (lambda m: m.Conv2d(3, 4, 3, stride=2, padding=(2, 1), padding_mode="replicate"), (2, 3, 6, 5)),
    "conv-circular": (lambda m: m.Conv2d(2, 4, 3, padding=1, groups=2, padding_mode="circular"), (2, 2, 5, 5)),
    "conv-same-circular": (lambda m: m.Conv2d(3, 2, (3, 2), padding="same", padding_mode="circular"), (1, 3, 5, 6)),
    "conv-same-reflect": (
        lambda m: m.Conv2d(3, 2, 3, padding="same", dilation=2, padding_mode="reflect"), (1, 3, 6, 6)
    ),
    "convT": (lambda m: m.ConvTranspose2d(4, 3, 3), (2, 4, 5, 5)),
    "convT-stride-outpad": (lambda m: m.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1), (2, 4, 4, 5)),
    "convT-groups-nobias": (
        lambda m: m.ConvTranspose2d(4, 6, (3, 2), stride=(1, 2), groups=2, bias=False), (2, 4, 4, 4)
    ),
    "convT-dilation": (
        lambda m: m.ConvTranspose2d(2, 3, 3, stride=2, padding=2, dilation=2, output_padding=1), (2, 2, 4, 3)
    ),
    "maxpool": (lambda m: m.MaxPool2d(2), (2, 3, 6, 7)),
    "maxpool-stride-pad": (lambda m: m.MaxPool2d(3, stride=2, padding=1), (2, 3, 7, 6)),
    "maxpool-dilation-ceil": (lambda m: m.MaxPool2d(2, stride=2, dilation=2, ceil_mode=True), (1, 2, 8, 7)),
    "avgpool": (lambda m: m.AvgPool2d(2), (2, 3, 6, 7)),
    "avgpool-pad": (lambda m: m.AvgPool2d(3, stride=2, padding=1), (2, 3, 7, 6)),
    "avgpool-exclude-pad-ceil": (
        lambda m: m.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
        (1, 2, 6, 7),
    ),
    "adaptive-avgpool": (lambda m: m.AdaptiveAvgPool2d((3, 2)), (2, 3, 7, 5)),
    "adaptive-avgpool-global": (lambda m: m.AdaptiveAvgPool2d(1), (2, 3, 5, 4)),
    "relu": (lambda m: m.ReLU(), (3, 4, 5)),
    "leaky-relu": (lambda m: m.LeakyReLU(0.2), (3, 4, 5)),
    "leaky-relu-default": (lambda m: m.LeakyReLU(), (3, 4)),
    "sigmoid": (lambda m: m.Sigmoid(), (3, 4, 5)),
    "tanh": (lambda m: m.Tanh(), (3, 4, 5)),
    "softmax": (lambda m: m.Softmax(dim=1), (3, 4, 5)),
    "softmax-last": (lambda m: m.Softmax(dim=-1), (3, 4)),
    "log-softmax": (lambda m: m.LogSoftmax(dim=1), (3, 4, 5)),
    "flatten": (lambda m: m.Flatten(), (2, 3, 4, 5)),
    "flatten-dims": (lambda m: m.Flatten(0, 2), (2, 3, 4, 5)),
    "identity": (lambda m: m.Identity(), (2, 3)),
    "dropout-eval": (lambda m: m.Dropout(0.5).eval(), (4, 6)),
    "batchnorm-eval": (lambda m: m.BatchNorm1d(5).eval(), (4, 5)),
}  # fmt: skip


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # PyTorch's performance note
@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_torch(torch, name, dtype, direction):
    factory, shape = LAYERS[name]
    dmodel, tmodel = pair(torch, factory, dtype, direction)
    if direction == "dagrad->torch":  # dagrad's own initial weights are what is compared
        for key, value in dmodel.state_dict().items():
            assert_close(value, tmodel.state_dict()[key], dtype)
    run_both(torch, dmodel, tmodel, randn(shape, 3, dtype), dtype)


def test_layers_keep_their_parameters_in_pytorch_layout(torch):
    for name, (factory, _) in LAYERS.items():
        dmodel, tmodel = factory(nn), factory(torch.nn)
        dshapes = {k: tuple(v.shape) for k, v in dmodel.state_dict().items()}
        assert dshapes == {k: tuple(v.shape) for k, v in tmodel.state_dict().items()}, name
        assert all(p.dtype == np.float32 for p in dmodel.parameters()), name  # PyTorch's default dtype


@pytest.mark.parametrize("momentum", [0.1, None, 0.7])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize(
    "kind, shape",
    [("BatchNorm1d", (6, 4)), ("BatchNorm1d", (5, 4, 3)), ("BatchNorm2d", (3, 4, 3, 2))],
    ids=["bn1d-2d", "bn1d-3d", "bn2d"],
)
def test_batchnorm_train_steps_then_eval_match_torch(torch, kind, shape, dtype, momentum):
    def factory(m):
        return getattr(m, kind)(4, momentum=momentum)

    dmodel, tmodel = pair(torch, factory, dtype)
    with torch.no_grad():  # non-trivial affine weights, loaded into dagrad
        tmodel.weight.uniform_(0.5, 2.0)
        tmodel.bias.uniform_(-1.0, 1.0)
    copy_weights(torch, dmodel, tmodel, "torch->dagrad")
    for step in range(3):
        x = randn(shape, step, dtype) * (step + 1) + step  # statistics that change every step
        dmodel.zero_grad()
        tmodel.zero_grad()
        run_both(torch, dmodel, tmodel, x, dtype, seed=10 + step)
        assert int(dmodel.num_batches_tracked.item()) == step + 1
        assert_state_match(dmodel, tmodel, dtype)
    dmodel.eval()
    tmodel.eval()
    dmodel.zero_grad()
    tmodel.zero_grad()
    run_both(torch, dmodel, tmodel, randn(shape, 9, dtype), dtype)
    assert_state_match(dmodel, tmodel, dtype)  # eval leaves the running statistics alone


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize(
    "options",
    [
        {"affine": False},
        {"track_running_stats": False},
        {"affine": False, "track_running_stats": False},
        {"bias": False},
    ],
    ids=["no-affine", "no-running-stats", "neither", "no-bias"],
)
def test_batchnorm_options_match_torch(torch, options, training):
    def factory(m):
        return m.BatchNorm2d(3, **options)

    dmodel, tmodel = pair(torch, factory, np.float64)
    dmodel.train(training)
    tmodel.train(training)
    assert list(dmodel.state_dict()) == list(tmodel.state_dict())
    for step in range(2):
        run_both(torch, dmodel, tmodel, randn((4, 3, 2, 3), step) + step, np.float64)
        assert_state_match(dmodel, tmodel, np.float64)


@pytest.mark.parametrize(
    "kwargs",
    [{"padding": "full"}, {"stride": 2, "padding": "same"}, {"groups": 3}, {"padding_mode": "mirror"}],
    ids=["padding-string", "same-strided", "groups", "padding-mode"],
)
def test_conv_rejects_bad_arguments_like_torch(torch, kwargs):
    with pytest.raises(ValueError):
        torch.nn.Conv2d(6, 4, 3, **kwargs)
    with pytest.raises(ValueError):
        nn.Conv2d(6, 4, 3, **kwargs)


def test_conv_transpose_rejects_what_it_cannot_do():
    with pytest.raises(ValueError, match="padding"):
        nn.ConvTranspose2d(2, 2, 3, padding="same")
    with pytest.raises(ValueError, match="padding_mode"):
        nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")


def test_conv_transpose_output_size_picks_the_output_padding(torch):
    layer, tlayer = nn.ConvTranspose2d(3, 2, 3, stride=(2, 3), padding=1), torch.nn.ConvTranspose2d(3, 2, 3, (2, 3), 1)
    layer.load_state_dict({k: v.detach().numpy() for k, v in tlayer.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((1, 3, 4, 5)).astype(np.float32)
    for size in [(7, 13), (8, 15), [1, 2, 8, 14]]:
        ours, theirs = layer(autograd.tensor(x), output_size=size), tlayer(torch.tensor(x), output_size=size)
        assert ours.shape == tuple(theirs.shape) and ours.shape[-2:] == tuple(size[-2:])
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"output size of \(9, 13\).*from \(7, 13\) to \(8, 15\)"):
        layer(autograd.tensor(x), output_size=(9, 13))


def test_batchnorm_rejects_wrong_shapes():
    with pytest.raises(ValueError, match="BatchNorm2d"):
        nn.BatchNorm2d(3)(autograd.randn(2, 3, 4))
    with pytest.raises(ValueError, match="3 channels"):
        nn.BatchNorm1d(3)(autograd.randn(2, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(autograd.randn(1, 3))
    nn.BatchNorm1d(3).eval()(autograd.randn(1, 3))  # a single sample is fine in eval mode


# ---------------------------------------------------------------- dropout


def test_dropout_eval_and_trivial_probabilities_are_exact():
    x = autograd.tensor(randn((20, 30)), requires_grad=True)
    d = nn.Dropout(0.5).eval()
    y = d(x)
    np.testing.assert_array_equal(y.detach().numpy(), x.detach().numpy())
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((20, 30)))
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).detach().numpy(), x.detach().numpy())
    x.grad = None
    y = nn.Dropout(1.0)(x)
    np.testing.assert_array_equal(y.detach().numpy(), np.zeros((20, 30)))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((20, 30)))
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match="between 0 and 1"):
            nn.Dropout(p)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_dropout_training_scales_kept_elements(p, dtype):
    autograd.manual_seed(0)
    x = autograd.tensor(np.abs(randn((200, 500), dtype=dtype)) + 1, requires_grad=True)  # never zero
    y = nn.Dropout(p)(x)
    assert y.dtype == dtype
    out, xs = y.detach().numpy(), x.detach().numpy()
    kept = out != 0
    assert abs(kept.mean() - (1 - p)) < 0.01
    np.testing.assert_allclose(out[kept], xs[kept] / (1 - p), rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / (1 - p), rtol=1e-6)


def test_dropout_mask_is_reproducible_with_manual_seed():
    x = autograd.ones(50, 50)
    autograd.manual_seed(3)
    a = nn.Dropout(0.5)(x).numpy()
    autograd.manual_seed(3)
    b = nn.Dropout(0.5)(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, nn.Dropout(0.5)(x).numpy())


# ---------------------------------------------------------------- a whole CNN


def small_cnn(m):
    return m.Sequential(
        m.Conv2d(3, 8, 3, padding=1),
        m.BatchNorm2d(8),
        m.ReLU(),
        m.MaxPool2d(2),
        m.Conv2d(8, 8, 3, stride=2, padding=1, groups=2, bias=False),
        m.BatchNorm2d(8),
        m.LeakyReLU(0.1),
        m.AvgPool2d(2),
        m.Flatten(),
        m.Linear(8, 5),
    )


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_small_cnn_end_to_end_matches_torch(torch, dtype, direction):
    dmodel, tmodel = pair(torch, small_cnn, dtype, direction)
    x = randn((4, 3, 8, 8), 0, dtype)
    target = np.array([0, 4, 2, 2])
    xd, xt = autograd.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    logits_d, logits_t = dmodel(xd), tmodel(xt)
    assert logits_d.shape == (4, 5)
    assert_close(logits_d, logits_t, dtype)
    loss_d = F.cross_entropy(logits_d, autograd.tensor(target))
    loss_t = torch.nn.functional.cross_entropy(logits_t, torch.from_numpy(target))
    assert_close(loss_d, loss_t, dtype)
    loss_d.backward()
    loss_t.backward()
    assert_close(xd.grad, xt.grad, dtype)
    assert_grads_match(dmodel, tmodel, dtype)
    assert_state_match(dmodel, tmodel, dtype)  # the running statistics moved the same way
    dmodel.eval()
    tmodel.eval()
    assert_close(dmodel(autograd.tensor(x)), tmodel(torch.from_numpy(x)), dtype)


# ---------------------------------------------------------------- losses against PyTorch


def loss_pair(torch, dfn, tfn, inputs, target, dtype, seed=5):
    """Compare loss values and input gradients; ``inputs`` is a numpy array of logits."""
    xd, xt = autograd.tensor(inputs, requires_grad=True), torch.tensor(inputs, requires_grad=True)
    td = autograd.tensor(target)
    tt = torch.from_numpy(np.array(target))
    ld, lt = dfn(xd, td), tfn(xt, tt)
    assert ld.dtype == dtype and tuple(ld.shape) == tuple(lt.shape)
    assert_close(ld, lt, dtype)
    g = randn(ld.shape, seed, dtype)
    (ld * autograd.tensor(g)).sum().backward()
    (lt * torch.from_numpy(g)).sum().backward()
    assert_close(xd.grad, xt.grad, dtype)


CE_CASES = {
    "plain": ((6, 4), {}),
    "weights": ((6, 4), {"weight": [0.2, 1.0, 3.0, 0.5]}),
    "ignore-index": ((6, 4), {"ignore_index": 1}),
    "ignore-default": ((6, 4), {"ignore_default": True}),
    "weights-ignore": ((6, 4), {"weight": [0.2, 1.0, 3.0, 0.5], "ignore_index": 2}),
    "smoothing": ((6, 4), {"label_smoothing": 0.1}),
    "smoothing-weights": ((6, 4), {"label_smoothing": 0.25, "weight": [0.2, 1.0, 3.0, 0.5]}),
    "smoothing-weights-ignore": ((6, 4), {"label_smoothing": 0.3, "weight": [0.2, 1.0, 3.0, 0.5], "ignore_index": 0}),
    "4d": ((2, 4, 3, 5), {}),
    "4d-weights-smoothing-ignore": (
        (2, 4, 3, 5), {"weight": [1.0, 2.0, 0.5, 1.5], "label_smoothing": 0.2, "ignore_index": 3}
    ),
    "3d": ((3, 4, 5), {"weight": [1.0, 2.0, 0.5, 1.5]}),
    "unbatched": ((4,), {}),
    "unbatched-smoothing": ((4,), {"label_smoothing": 0.1}),
}  # fmt: skip


def ce_arguments(torch, shape, options, dtype, seed=0):
    rng = np.random.default_rng(seed)
    logits = (rng.standard_normal(shape) * 2).astype(dtype)
    classes = shape[1] if len(shape) > 1 else shape[0]
    target_shape = (shape[0], *shape[2:]) if len(shape) > 1 else ()
    target = rng.integers(0, classes, target_shape)
    options = dict(options)
    if options.pop("ignore_default", False):
        target.flat[::3] = -100
    dopts, topts = dict(options), dict(options)
    if "weight" in options:
        dopts["weight"] = autograd.tensor(np.array(options["weight"], dtype))
        topts["weight"] = torch.tensor(options["weight"], dtype=tdtype(torch, dtype))
    return logits, target, dopts, topts


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", list(CE_CASES))
def test_cross_entropy_matches_torch(torch, case, reduction, dtype):
    logits, target, dopts, topts = ce_arguments(torch, *CE_CASES[case], dtype)
    loss_pair(
        torch,
        nn.CrossEntropyLoss(reduction=reduction, **dopts),
        torch.nn.CrossEntropyLoss(reduction=reduction, **topts),
        logits,
        target,
        dtype,
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", ["plain", "weights", "ignore-index", "weights-ignore", "4d", "3d", "unbatched"])
def test_nll_loss_matches_torch(torch, case, reduction, dtype):
    logits, target, dopts, topts = ce_arguments(torch, *CE_CASES[case], dtype)
    logp = torch.log_softmax(torch.from_numpy(logits), dim=1 if logits.ndim > 1 else 0).numpy()
    loss_pair(
        torch,
        nn.NLLLoss(reduction=reduction, **dopts),
        torch.nn.NLLLoss(reduction=reduction, **topts),
        logp,
        target,
        dtype,
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_matches_torch(torch, reduction, dtype):
    loss_pair(
        torch,
        nn.MSELoss(reduction),
        torch.nn.MSELoss(reduction=reduction),
        randn((4, 3, 2), 0, dtype),
        randn((4, 3, 2), 1, dtype),
        dtype,
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighting", ["none", "weight", "pos_weight", "both"])
def test_bce_with_logits_matches_torch(torch, weighting, reduction, dtype):
    rng = np.random.default_rng(0)
    logits = (rng.standard_normal((5, 3)) * 3).astype(dtype)
    target = rng.random((5, 3)).astype(dtype)  # soft targets in [0, 1]
    target[0] = [0, 1, 1]
    dopts, topts = {}, {}
    if weighting in ("weight", "both"):
        dopts["weight"], topts["weight"] = (
            autograd.tensor(np.array([0.5, 2.0, 1.0], dtype)),
            torch.tensor([0.5, 2.0, 1.0], dtype=tdtype(torch, dtype)),
        )
    if weighting in ("pos_weight", "both"):
        dopts["pos_weight"], topts["pos_weight"] = (
            autograd.tensor(np.array([3.0, 0.2, 1.0], dtype)),
            torch.tensor([3.0, 0.2, 1.0], dtype=tdtype(torch, dtype)),
        )
    loss_pair(
        torch,
        nn.BCEWithLogitsLoss(reduction=reduction, **dopts),
        torch.nn.BCEWithLogitsLoss(reduction=reduction, **topts),
        logits,
        target,
        dtype,
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_bce_with_logits_is_stable_at_huge_logits(torch, dtype):
    logits = np.array([[1e3, -1e3, 1e3, -1e3, 0.0, 50.0]], dtype)
    target = np.array([[1.0, 0.0, 0.0, 1.0, 1.0, 0.3]], dtype)
    pos_weight = np.array([2.0, 2.0, 2.0, 2.0, 2.0, 2.0], dtype)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        x = autograd.tensor(logits, requires_grad=True)
        loss = F.binary_cross_entropy_with_logits(x, autograd.tensor(target), reduction="none")
        loss.sum().backward()
        xp = autograd.tensor(logits, requires_grad=True)
        lossp = F.binary_cross_entropy_with_logits(
            xp, autograd.tensor(target), pos_weight=autograd.tensor(pos_weight), reduction="none"
        )
        lossp.sum().backward()
    for t in (loss, x.grad, lossp, xp.grad):
        assert np.isfinite(t.detach().numpy()).all()
    np.testing.assert_allclose(loss.detach().numpy()[0, :4], [0.0, 0.0, 1e3, 1e3], atol=1e-6)
    xt = torch.tensor(logits, requires_grad=True)
    lt = torch.nn.functional.binary_cross_entropy_with_logits(xt, torch.from_numpy(target), reduction="none")
    lt.sum().backward()
    assert_close(loss, lt, dtype)
    assert_close(x.grad, xt.grad, dtype)
    xt.grad = None
    lt = torch.nn.functional.binary_cross_entropy_with_logits(
        xt, torch.from_numpy(target), pos_weight=torch.from_numpy(pos_weight), reduction="none"
    )
    lt.sum().backward()
    assert_close(lossp, lt, dtype)
    assert_close(xp.grad, xt.grad, dtype)


def test_cross_entropy_is_stable_at_huge_logits(torch):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0]])
    target = np.array([1, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss_pair(torch, F.cross_entropy, torch.nn.functional.cross_entropy, logits, target, np.float64)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(
    "options", [{}, {"weight": [1.0, 2.0, 0.5]}, {"weight": [1.0, 2.0, 0.5], "label_smoothing": 0.2}]
)
@pytest.mark.parametrize("shape", [(4, 3), (3,), (2, 3, 4, 2)])
def test_cross_entropy_with_class_probabilities_matches_torch(torch, shape, options, reduction):
    """Float targets of the input's shape are class distributions (mixup, distillation); the
    gradient reaches the target too."""
    rng = np.random.default_rng(5)
    logits, target = rng.standard_normal(shape), np.abs(rng.standard_normal(shape))
    target /= target.sum(axis=1 if len(shape) > 1 else 0, keepdims=True)
    x, t = autograd.tensor(logits, requires_grad=True), autograd.tensor(target, requires_grad=True)
    tx, tt = torch.tensor(logits, requires_grad=True), torch.tensor(target, requires_grad=True)
    ours = F.cross_entropy(x, t, reduction=reduction, **{k: autograd.tensor(v) if k == "weight" else v
                                                          for k, v in options.items()})  # fmt: skip
    theirs = torch.nn.functional.cross_entropy(tx, tt, reduction=reduction, **{
        k: torch.tensor(v, dtype=torch.float64) if k == "weight" else v for k, v in options.items()})  # fmt: skip
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_cross_entropy_with_class_probabilities_errors():
    with pytest.raises(ValueError, match=r"input's shape \(4, 3\), got \(4, 2\)"):
        F.cross_entropy(autograd.zeros(4, 3), autograd.ones(4, 2) / 2)
    with pytest.raises(ValueError, match="ignore_index is not supported"):
        F.cross_entropy(autograd.zeros(4, 3), autograd.ones(4, 3) / 3, ignore_index=0)


@pytest.mark.parametrize(
    "loss",
    [
        lambda x, t: F.cross_entropy(x, t, ignore_index=-1),
        lambda x, t: F.cross_entropy(x, t, autograd.tensor([1.0, 2.0, 3.0, 4.0]), ignore_index=-1),
        lambda x, t: F.cross_entropy(x, t, ignore_index=-1, label_smoothing=0.2),
        lambda x, t: F.nll_loss(x.log_softmax(1), t, ignore_index=-1),
    ],
    ids=["ce", "ce-weights", "ce-smoothing", "nll"],
)
def test_a_batch_with_every_target_ignored_gives_nan_loss_and_zero_gradient(torch, loss):
    """As in PyTorch: the mean over no samples is NaN, but the gradient is 0, so an optimizer
    step after such a batch leaves the weights as they were."""
    model = nn.Linear(3, 4)
    before = model.weight.detach().numpy().copy()
    value = loss(model(autograd.randn(2, 3)), autograd.tensor(np.array([-1, -1])))
    value.backward()
    nn.optim.SGD(model.parameters(), lr=0.1).step()
    assert np.isnan(value.item())
    assert not model.weight.grad.numpy().any() and not model.bias.grad.numpy().any()
    np.testing.assert_array_equal(model.weight.detach().numpy(), before)
    tx = torch.randn(2, 4, requires_grad=True)
    torch.nn.functional.cross_entropy(tx, torch.tensor([-1, -1]), ignore_index=-1).backward()
    assert not tx.grad.any()  # (PyTorch's own behaviour, which the above follows)


def test_loss_weights_are_buffers_as_in_torch(torch):
    w = np.array([1.0, 2.0, 0.5])
    pairs = [
        (nn.CrossEntropyLoss(weight=autograd.tensor(w)), torch.nn.CrossEntropyLoss(weight=torch.tensor(w))),
        (nn.NLLLoss(weight=autograd.tensor(w)), torch.nn.NLLLoss(weight=torch.tensor(w))),
        (
            nn.BCEWithLogitsLoss(weight=autograd.tensor(w), pos_weight=autograd.tensor(w)),
            torch.nn.BCEWithLogitsLoss(weight=torch.tensor(w), pos_weight=torch.tensor(w)),
        ),
        (nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()),
    ]
    for loss, tloss in pairs:
        assert list(loss.state_dict()) == list(tloss.state_dict())
        assert repr(loss) == repr(tloss)
    model = nn.Sequential(nn.Linear(3, 3), nn.CrossEntropyLoss(weight=autograd.tensor(w, dtype=np.float32)))
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight"]
    assert model.double()[1].weight.dtype == np.float64  # moved with the model


def test_loss_errors():
    logits = autograd.randn(4, 3)
    with pytest.raises(IndexError, match=r"target 3 .*3 classes"):
        F.cross_entropy(logits, autograd.tensor([0, 1, 3, 2]))
    with pytest.raises(IndexError, match=r"target -1 .*3 classes"):
        F.cross_entropy(logits, autograd.tensor([0, -1, 1, 2]))
    with pytest.raises(IndexError, match=r"target 5 .*3 classes"):
        F.nll_loss(autograd.randn(2, 3, 2), autograd.tensor([[0, 1], [5, 2]]))
    with pytest.raises(IndexError, match=r"target 4 .*4 classes"):
        F.cross_entropy(autograd.randn(4), autograd.tensor(4))
    with pytest.raises(ValueError, match="target of shape"):
        F.cross_entropy(logits, autograd.tensor([[0], [1], [2], [0]]))
    with pytest.raises(ValueError, match="target of shape"):
        F.cross_entropy(logits, autograd.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="for class indices pass integers"):  # floats: probabilities
        F.cross_entropy(logits, autograd.tensor([0.0, 1.0, 2.0, 0.0]))
    with pytest.raises(TypeError, match="integers"):
        F.nll_loss(logits, autograd.tensor([0.0, 1.0, 2.0, 0.0]))
    with pytest.raises(ValueError, match="differ"):
        F.mse_loss(autograd.randn(4, 1), autograd.randn(4))
    with pytest.raises(ValueError, match="differ"):
        F.binary_cross_entropy_with_logits(autograd.randn(4, 1), autograd.randn(4))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(logits, autograd.tensor([0, 1, 2, 0]), reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(logits, autograd.tensor([0, 1, 2, 0]), label_smoothing=1.5)
    # an ignored target may lie outside the class range
    F.cross_entropy(logits, autograd.tensor([0, 1, -100, 2]))


# ---------------------------------------------------------------- initialization


def weight_stats(w):
    a = np.asarray(w.detach().numpy(), np.float64)
    return np.abs(a).max(), a.std(), a.mean()


@pytest.mark.parametrize(
    "factory, fan_in",
    [
        (lambda m: m.Linear(1000, 500), 1000),
        (lambda m: m.Conv2d(16, 64, 5), 16 * 25),
        (lambda m: m.Conv2d(16, 64, 5, groups=4), 4 * 25),
        (lambda m: m.ConvTranspose2d(64, 32, 3), 32 * 9),  # weight (in, out, kH, kW): fan_in is dim 1
        (lambda m: m.ConvTranspose2d(64, 32, 3, groups=4), 8 * 9),
    ],
    ids=["linear", "conv", "conv-groups", "convT", "convT-groups"],
)
def test_default_init_matches_torch_distribution(torch, factory, fan_in):
    autograd.manual_seed(0)
    torch.manual_seed(0)
    dlayer, tlayer = factory(nn), factory(torch.nn)
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) and the bias rule both give this
    for dparam, tparam in ((dlayer.weight, tlayer.weight), (dlayer.bias, tlayer.bias)):
        dmax, dstd, dmean = weight_stats(dparam)
        tmax, tstd, _ = weight_stats(tparam)
        assert dmax <= bound and tmax <= bound
        if dparam.numel() >= 1000:  # enough samples for tight statistics
            assert dmax > 0.98 * bound
            assert dstd == pytest.approx(bound / math.sqrt(3), rel=0.03)
            assert dstd == pytest.approx(tstd, rel=0.04)
            assert abs(dmean) < 0.05 * bound


def test_default_init_of_linear_1000_to_500():
    autograd.manual_seed(0)
    w = nn.Linear(1000, 500).weight.detach().numpy()
    assert np.abs(w).max() <= 1 / math.sqrt(1000)
    assert w.std() == pytest.approx(1 / math.sqrt(3 * 1000), rel=0.01)


def test_default_init_of_batchnorm():
    bn = nn.BatchNorm2d(3)
    for name, value in [("weight", 1), ("bias", 0), ("running_mean", 0), ("running_var", 1)]:
        np.testing.assert_array_equal(getattr(bn, name).detach().numpy(), np.full(3, value, np.float32))
    assert bn.num_batches_tracked.item() == 0 and bn.num_batches_tracked.dtype == np.int64


@pytest.mark.parametrize(
    "fn, kwargs, std",
    [
        ("xavier_uniform_", {}, math.sqrt(2 / (32 * 9 + 64 * 9))),
        ("xavier_uniform_", {"gain": 2.0}, 2 * math.sqrt(2 / (32 * 9 + 64 * 9))),
        ("xavier_normal_", {}, math.sqrt(2 / (32 * 9 + 64 * 9))),
        ("xavier_normal_", {"gain": 0.5}, 0.5 * math.sqrt(2 / (32 * 9 + 64 * 9))),
        ("kaiming_uniform_", {}, math.sqrt(2 / (32 * 9))),
        ("kaiming_uniform_", {"a": 0.2}, math.sqrt(2 / (1 + 0.04) / (32 * 9))),
        ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2 / (64 * 9))),
        ("kaiming_normal_", {}, math.sqrt(2 / (32 * 9))),
        ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "tanh"}, 5 / 3 / math.sqrt(64 * 9)),
        ("kaiming_normal_", {"nonlinearity": "linear"}, 1 / math.sqrt(32 * 9)),
    ],
)
def test_init_functions_match_torch_statistics(torch, fn, kwargs, std):
    autograd.manual_seed(0)
    torch.manual_seed(0)
    w = nn.Parameter(np.empty((64, 32, 3, 3), np.float32))
    tw = torch.empty(64, 32, 3, 3)
    assert getattr(nn.init, fn)(w, **kwargs) is w
    getattr(torch.nn.init, fn)(tw, **kwargs)
    assert w.requires_grad and w.grad_fn is None and w.dtype == np.float32
    dmax, dstd, dmean = weight_stats(w)
    tmax, tstd, _ = weight_stats(tw)
    assert dstd == pytest.approx(std, rel=0.03)
    assert dstd == pytest.approx(tstd, rel=0.03)
    assert abs(dmean) < 0.03 * std
    if "uniform" in fn:  # U(-b, b) with b = sqrt(3) * std
        assert 0.99 * math.sqrt(3) * std < dmax <= math.sqrt(3) * std
        assert tmax <= math.sqrt(3) * std * (1 + 1e-6)


@pytest.mark.parametrize(
    "nonlinearity, param",
    [
        ("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None), ("conv_transpose1d", None),
        ("conv_transpose2d", None), ("conv_transpose3d", None), ("sigmoid", None), ("tanh", None),
        ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 0), ("selu", None),
    ],
)  # fmt: skip
def test_calculate_gain_matches_torch(torch, nonlinearity, param):
    assert nn.init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-12
    )


def test_init_errors_and_fills():
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.init.calculate_gain("swish")
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        nn.init.xavier_uniform_(nn.Parameter(np.zeros(5, np.float32)))
    with pytest.raises(ValueError, match="mode"):
        nn.init.kaiming_normal_(nn.Parameter(np.zeros((3, 3), np.float32)), mode="fan_avg")
    w = nn.Linear(4, 3).weight
    assert nn.init.zeros_(w) is w
    np.testing.assert_array_equal(w.detach().numpy(), np.zeros((3, 4)))
    nn.init.ones_(w)
    np.testing.assert_array_equal(w.detach().numpy(), np.ones((3, 4)))
    nn.init.constant_(w, 0.25)
    np.testing.assert_array_equal(w.detach().numpy(), np.full((3, 4), 0.25))
    assert w.dtype == np.float32 and w.is_leaf and w.requires_grad
    nn.init.uniform_(w, -2, -1)
    assert ((w.detach().numpy() >= -2) & (w.detach().numpy() < -1)).all()
    nn.init.normal_(w, 10, 0.01)
    assert np.abs(w.detach().numpy() - 10).max() < 0.1


def test_init_is_reproducible_with_manual_seed():
    def weights(seed):
        autograd.manual_seed(seed)
        return [p.detach().numpy().copy() for p in small_cnn(nn).parameters()]

    a, b, c = weights(0), weights(0), weights(1)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], c[0])


# ---------------------------------------------------------------- the Module API


def nested(m):
    """A nested custom model built from ``m`` (nn or torch.nn): same class names in both."""

    class Block(m.Module):
        def __init__(self, channels):
            super().__init__()
            self.conv = m.Conv2d(channels, channels, 3, padding=1, bias=False)
            self.bn = m.BatchNorm2d(channels)
            self.act = m.ReLU()

        def forward(self, x):
            return self.act(self.bn(self.conv(x))) + x

    class Net(m.Module):
        def __init__(self):
            super().__init__()
            self.stem = m.Sequential(m.Conv2d(3, 4, 3, stride=2, padding=1), m.BatchNorm2d(4), m.LeakyReLU(0.2))
            self.blocks = m.ModuleList([Block(4), Block(4)])
            self.pool = m.AdaptiveAvgPool2d((1, 1))
            self.head = m.Sequential(
                OrderedDict(
                    [
                        ("flatten", m.Flatten()),
                        ("drop", m.Dropout(0.25)),
                        ("fc", m.Linear(4, 3)),
                        ("out", m.LogSoftmax(dim=1)),
                    ]
                )
            )

        def forward(self, x):
            x = self.stem(x)
            for block in self.blocks:
                x = block(x)
            return self.head(self.pool(x))

    return Net()


REPR_MODEL = [
    lambda m: m.Conv2d(3, 8, 3, stride=2, padding=1, bias=False),
    lambda m: m.Conv2d(8, 8, (3, 5), padding="same", dilation=2, groups=4, padding_mode="reflect"),
    lambda m: m.Conv2d(8, 8, 1, padding="valid"),
    lambda m: m.Conv2d(8, 8, 3, padding=(1, 2), padding_mode="circular"),
    lambda m: m.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1, groups=2, dilation=2),
    lambda m: m.BatchNorm2d(4, eps=1e-3, momentum=None),
    lambda m: m.BatchNorm1d(4, affine=False, track_running_stats=False),
    lambda m: m.BatchNorm2d(4, bias=False),
    lambda m: m.MaxPool2d(2),
    lambda m: m.MaxPool2d((3, 2), stride=1, padding=1, dilation=2, ceil_mode=True),
    lambda m: m.AvgPool2d(3, stride=2, padding=1),
    lambda m: m.AdaptiveAvgPool2d((2, 3)),
    lambda m: m.ReLU(),
    lambda m: m.ReLU(inplace=True),
    lambda m: m.LeakyReLU(),
    lambda m: m.LeakyReLU(0.3, inplace=True),
    lambda m: m.Sigmoid(),
    lambda m: m.Tanh(),
    lambda m: m.Softmax(dim=-1),
    lambda m: m.LogSoftmax(dim=1),
    lambda m: m.Flatten(),
    lambda m: m.Dropout(),
    lambda m: m.Dropout(0.1, inplace=True),
    lambda m: m.Identity(),
    lambda m: m.Linear(8, 2, bias=False),
    lambda m: m.ModuleList([m.Linear(2, 2), m.Linear(2, 2), m.Linear(2, 2), m.Tanh(), m.Linear(2, 2)]),
    lambda m: m.ModuleList(),
]


def test_repr_is_pytorchs(torch):
    assert str(nested(nn)) == str(nested(torch.nn))
    for factory in REPR_MODEL:
        assert repr(factory(nn)) == repr(factory(torch.nn))
    model = nn.Sequential(*(f(nn) for f in REPR_MODEL))
    assert str(model) == str(torch.nn.Sequential(*(f(torch.nn) for f in REPR_MODEL)))


def test_names_match_torch(torch):
    d, t = nested(nn), nested(torch.nn)
    assert list(d.state_dict()) == list(t.state_dict())
    assert [n for n, _ in d.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in d.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in d.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in d.named_children()] == [n for n, _ in t.named_children()]
    assert [type(c).__name__ for c in d.children()] == [type(c).__name__ for c in t.children()]
    assert [type(c).__name__ for c in d.modules()] == [type(c).__name__ for c in t.modules()]
    assert [n for n, _ in d.named_parameters(prefix="model")] == [n for n, _ in t.named_parameters(prefix="model")]
    assert [n for n, _ in d.named_parameters(recurse=False)] == []
    assert len(list(d.parameters())) == len(list(t.parameters())) == 12
    assert len(list(d.buffers())) == 9
    assert {k: tuple(v.shape) for k, v in d.state_dict().items()} == {
        k: tuple(v.shape) for k, v in t.state_dict().items()
    }


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_nested_model_matches_torch(torch, direction):
    dmodel, tmodel = pair(torch, nested, np.float64, direction)
    run_both(torch, dmodel.eval(), tmodel.eval(), randn((2, 3, 6, 6)), np.float64)


def shared(m):
    class Tied(m.Module):
        def __init__(self):
            super().__init__()
            self.encoder = m.Linear(3, 3)
            self.decoder = m.Linear(3, 3, bias=False)
            self.decoder.weight = self.encoder.weight  # a shared parameter
            self.first = m.Sequential(m.Tanh(), m.Linear(3, 3))
            self.again = self.first  # a shared module

        def forward(self, x):
            return self.again(self.first(self.decoder(self.encoder(x))))

    return Tied()


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_shared_parameters_and_modules_are_counted_once(torch, direction):
    dmodel, tmodel = pair(torch, shared, np.float64, direction)
    assert list(dmodel.state_dict()) == list(tmodel.state_dict())  # every name, as PyTorch
    assert [n for n, _ in dmodel.named_parameters()] == [n for n, _ in tmodel.named_parameters()]
    assert [n for n, _ in dmodel.named_modules()] == [n for n, _ in tmodel.named_modules()]
    assert [n for n, _ in dmodel.named_children()] == [n for n, _ in tmodel.named_children()]
    assert len(list(dmodel.parameters())) == 4  # encoder.weight/bias, first.1.weight/bias
    assert dmodel.decoder.weight is dmodel.encoder.weight
    run_both(torch, dmodel, tmodel, randn((4, 3)), np.float64)  # gradients of both uses add up
    assert str(dmodel) == str(tmodel)


def test_apply_visits_children_first_as_torch(torch):
    def visit_order(model):
        names = {id(m): n for n, m in model.named_modules()}
        order = []
        model.apply(lambda mod: order.append(names[id(mod)]))
        return order

    assert visit_order(nested(nn)) == visit_order(nested(torch.nn))
    assert visit_order(shared(nn)) == visit_order(shared(torch.nn))  # a shared module: once per parent
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 2)))

    def fill(module):
        if isinstance(module, nn.Linear):
            nn.init.constant_(module.weight, 0.5)

    assert model.apply(fill) is model
    assert all((p.detach().numpy() == 0.5).all() for n, p in model.named_parameters() if n.endswith("weight"))


def test_zero_grad_train_eval_requires_grad():
    model = nested(nn)
    model(autograd.randn(2, 3, 6, 6)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=False)
    for p in model.parameters():
        assert p.grad is not None and p.grad.shape == p.shape and not p.grad.numpy().any()
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    assert model.training and all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.blocks.train()
    assert model.blocks[1].bn.training and not model.stem[1].training
    assert model.train() is model and all(m.training for m in model.modules())
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    model.head.requires_grad_()
    assert [n for n, p in model.named_parameters() if p.requires_grad] == ["head.fc.weight", "head.fc.bias"]
    model(autograd.randn(2, 3, 6, 6)).sum().backward()  # only the unfrozen layer gets gradients
    assert [n for n, p in model.named_parameters() if p.grad is not None] == ["head.fc.weight", "head.fc.bias"]


def test_attribute_errors():
    lin = nn.Linear(3, 2)
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'wieght'"):
        lin.wieght
    with pytest.raises(TypeError, match="weight"):
        lin.weight = autograd.randn(2, 3)
    with pytest.raises(TypeError, match="nn.Parameter"):
        lin.register_parameter("extra", autograd.randn(2))
    with pytest.raises(TypeError):
        nn.Sequential(nn.Linear(2, 2)).add_module("x", lambda x: x)
    lin.weight = nn.Parameter(np.zeros((2, 3), np.float32))  # a Parameter is fine
    assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]
    lin.bias = None
    assert [n for n, _ in lin.named_parameters()] == ["weight"] and lin.bias is None
    lin.note = "plain attributes are fine"
    assert lin.note == "plain attributes are fine" and "note" not in lin.state_dict()
    with pytest.raises(TypeError, match="floating-point"):
        nn.Parameter(np.arange(3))

    class Forgot(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match="super"):
        Forgot()
    with pytest.raises(TypeError, match="forward"):
        nn.Module()(autograd.randn(2))


def snapshot(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def test_load_state_dict_reports_every_problem_and_changes_nothing(torch):
    model = nested(nn)
    before = snapshot(model)
    good = {k: np.ones_like(v) for k, v in before.items()}
    bad = dict(good)
    del bad["stem.0.bias"], bad["blocks.1.bn.running_var"]
    bad["head.fc.weight"] = np.ones((3, 5), np.float32)
    bad["stem.1.weight"] = np.ones(7, np.float32)
    bad["extra.weight"] = np.ones(2, np.float32)
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(bad)
    message = str(info.value)
    for key in ("stem.0.bias", "blocks.1.bn.running_var", "head.fc.weight", "stem.1.weight", "extra.weight"):
        assert key in message
    assert "Missing key(s)" in message and "Unexpected key(s)" in message and "size mismatch" in message
    assert message.count("\n") == 4  # one error, listing all four problems, one per line
    after = snapshot(model)
    assert all(np.array_equal(before[k], after[k]) for k in before)
    # a shape mismatch is an error even when not strict (as in PyTorch)
    with pytest.raises(RuntimeError, match="size mismatch for head.fc.weight"):
        model.load_state_dict({"head.fc.weight": np.ones((3, 5))}, strict=False)
    assert all(np.array_equal(before[k], v) for k, v in snapshot(model).items())
    # torch raises for the same dict, too
    tmodel = nested(torch.nn)
    with pytest.raises(RuntimeError, match="size mismatch"):
        tmodel.load_state_dict({k: torch.from_numpy(v) for k, v in bad.items()})


def test_load_state_dict_not_strict_returns_the_keys_like_torch(torch):
    model, tmodel = nested(nn), nested(torch.nn)
    params = list(model.parameters())
    partial = {k: np.full(v.shape, 2.0, np.float64) for k, v in snapshot(model).items() if k.startswith("head")}
    partial["stem.0.bias"] = np.full(4, 3.0)
    partial["unknown"] = np.zeros(1)
    partial["head.extra.bias"] = np.zeros(1)
    result = model.load_state_dict(partial, strict=False)
    tresult = tmodel.load_state_dict({k: torch.from_numpy(v) for k, v in partial.items()}, strict=False)
    # a missing num_batches_tracked is not reported (old checkpoints lack it), as in PyTorch
    assert result.missing_keys == tresult.missing_keys
    assert result.unexpected_keys == tresult.unexpected_keys == ["unknown", "head.extra.bias"]
    missing, unexpected = result
    assert missing == result.missing_keys and unexpected == result.unexpected_keys
    np.testing.assert_array_equal(model.head.fc.weight.detach().numpy(), np.full((3, 4), 2.0))
    np.testing.assert_array_equal(model.stem[0].bias.detach().numpy(), np.full(4, 3.0))
    assert model.head.fc.weight.dtype == np.float32  # values are cast to the model's dtype
    assert list(model.parameters()) == params and all(a is b for a, b in zip(model.parameters(), params))
    # loading a state_dict of dagrad Tensors: an exact round trip
    other = nested(nn)
    assert other.load_state_dict(model.state_dict()) == ([], [])
    assert all(np.array_equal(v, snapshot(model)[k]) for k, v in snapshot(other).items())


def test_batchnorm_loads_a_state_dict_without_its_batch_counter(torch):
    bn, tbn = nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    bn(autograd.randn(4, 3, 2, 2))  # counter at 1
    state = {k: v.numpy() + 1 for k, v in tbn.state_dict().items() if k != "num_batches_tracked"}
    result = bn.load_state_dict(state)
    tresult = tbn.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    assert result == ([], []) and repr(result) == repr(tresult) == "<All keys matched successfully>"
    assert bn.num_batches_tracked.item() == 1  # kept, as PyTorch keeps its own
    np.testing.assert_array_equal(bn.running_var.numpy(), np.full(3, 2.0))
    with pytest.raises(RuntimeError, match='Missing key.*"running_mean"'):  # only the counter is optional
        bn.load_state_dict({k: v for k, v in state.items() if k != "running_mean"})
    assert "missing_keys=['num_batches_tracked']" not in repr(bn.load_state_dict({}, strict=False))


def test_train_and_eval_go_through_each_childs_own_train(torch):
    """A child overriding train() (to keep BatchNorm frozen while fine-tuning) is respected."""

    def frozen(lib):
        class Frozen(lib.Module):
            def __init__(self):
                super().__init__()
                self.bn = lib.BatchNorm1d(2)

            def train(self, mode=True):
                super().train(mode)
                self.bn.eval()
                return self

        return lib.Sequential(Frozen(), lib.Linear(2, 2))

    net, tnet = frozen(nn), frozen(torch.nn)
    for mode in (True, False, True):
        net.train(mode), tnet.train(mode)
        assert [m.training for m in net.modules()] == [m.training for m in tnet.modules()]
    assert [m.training for m in net.modules()] == [True, True, False, True]


def test_state_dict_shares_memory_and_keep_vars():
    lin = nn.Linear(3, 2)
    state = lin.state_dict()
    assert not state["weight"].requires_grad
    with autograd.no_grad():
        lin.weight.mul_(0)
    assert not state["weight"].numpy().any()
    assert lin.state_dict(keep_vars=True)["weight"] is lin.weight
    assert list(lin.state_dict(prefix="fc.")) == ["fc.weight", "fc.bias"]


def test_sequential_indexing_slicing_and_iteration(torch):
    layers = [lambda m: m.Linear(2, 3), lambda m: m.ReLU(), lambda m: m.Linear(3, 4), lambda m: m.Tanh()]
    d, t = nn.Sequential(*(f(nn) for f in layers)), torch.nn.Sequential(*(f(torch.nn) for f in layers))
    assert len(d) == 4
    assert isinstance(d[0], nn.Linear) and isinstance(d[-1], nn.Tanh) and d[2].out_features == 4
    assert list(d) == [d[i] for i in range(4)]
    part = d[1:3]
    assert isinstance(part, nn.Sequential) and len(part) == 2 and part[1] is d[2]
    assert list(part.state_dict()) == list(t[1:3].state_dict()) == ["2.weight", "2.bias"]
    assert str(part) == str(t[1:3])
    with pytest.raises(IndexError):
        d[4]
    x = autograd.randn(5, 2)
    np.testing.assert_allclose(to_numpy(d(x)), to_numpy(d[3](d[2](d[1](d[0](x))))))
    d.append(nn.Linear(4, 1))
    t.append(torch.nn.Linear(4, 1))
    assert list(d.state_dict()) == list(t.state_dict()) and d(x).shape == (5, 1)
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"] and named.fc is named[0]


def test_module_list(torch):
    d = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
    t = torch.nn.ModuleList([torch.nn.Linear(2, 2), torch.nn.ReLU()])
    d.append(nn.Linear(2, 3))
    t.append(torch.nn.Linear(2, 3))
    d.extend([nn.Tanh(), nn.Linear(3, 1)])
    t.extend([torch.nn.Tanh(), torch.nn.Linear(3, 1)])
    assert len(d) == 5 and list(d.state_dict()) == list(t.state_dict())
    assert [type(m).__name__ for m in d] == [type(m).__name__ for m in t]
    assert isinstance(d[1:3], nn.ModuleList) and list(d[1:3].state_dict()) == list(t[1:3].state_dict())
    assert d[-1] is d[4] and str(d) == str(t)
    d[0] = nn.Linear(2, 2, bias=False)
    t[0] = torch.nn.Linear(2, 2, bias=False)
    assert list(d.state_dict()) == list(t.state_dict()) and str(d) == str(t)
    assert len(list(d.parameters())) == 5


def test_forward_hooks():
    lin = nn.Linear(3, 2)
    seen = []
    handle = lin.register_forward_hook(lambda module, inputs, output: seen.append((module, inputs, output)))
    x = autograd.randn(4, 3)
    y = lin(x)
    assert len(seen) == 1 and seen[0][0] is lin and seen[0][1][0] is x and seen[0][2] is y
    handle.remove()
    lin(x)
    assert len(seen) == 1
    handle = lin.register_forward_hook(lambda module, inputs, output: output * 0)  # replaces the output
    assert not to_numpy(lin(x)).any()
    handle.remove()
    pre = lin.register_forward_pre_hook(lambda module, inputs: (inputs[0] * 0,))
    np.testing.assert_allclose(lin(x).detach().numpy(), np.broadcast_to(lin.bias.detach().numpy(), (4, 2)))
    pre.remove()
    assert lin(x).detach().numpy().any()
    # a hook on an inner module sees the activations of a whole model
    model = small_cnn(nn)
    shapes = []
    model[3].register_forward_hook(lambda m, i, o: shapes.append(o.shape))
    model(autograd.randn(2, 3, 8, 8))
    assert shapes == [(2, 8, 4, 4)]


def test_double_and_float_convert_parameters_and_buffers():
    model = small_cnn(nn)
    params = list(model.parameters())
    assert model.double() is model
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model[1].running_mean.dtype == np.float64 and model[1].num_batches_tracked.dtype == np.int64
    assert all(a is b for a, b in zip(model.parameters(), params))  # same objects: an optimizer still holds them
    assert model(autograd.randn(2, 3, 8, 8, dtype=autograd.float64)).dtype == np.float64
    model.float()
    assert all(p.dtype == np.float32 for p in model.parameters())


def test_gradcheck_through_a_small_model():
    autograd.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(2, 3, 3, padding=1),
        nn.BatchNorm2d(3),
        nn.Tanh(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(3 * 2 * 2, 4),
    ).double()
    x = autograd.tensor(randn((3, 2, 4, 4)), requires_grad=True)
    target = autograd.tensor([0, 3, 1])

    def loss(x, *params):  # params are perturbed in place by gradcheck: the model sees them
        return F.cross_entropy(model(x), target)

    assert autograd.gradcheck(loss, (x, *model.parameters()))


# ---------------------------------------------------------------- a model that learns


def test_sgd_training_reaches_low_loss():
    rng = np.random.default_rng(0)
    centers = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    labels = np.repeat(np.arange(3), 40)
    points = centers[labels] + 0.5 * rng.standard_normal((120, 2))
    x, y = autograd.tensor(points, dtype=autograd.float32), autograd.tensor(labels)

    autograd.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 3))
    lr, losses = 0.5, []
    for _ in range(150):
        loss = F.cross_entropy(model(x), y)
        model.zero_grad()
        loss.backward()
        with autograd.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
        losses.append(loss.item())
    assert losses[0] > 0.8
    assert losses[-1] < 0.1
    accuracy = (model(x).argmax(1).numpy() == labels).mean()
    assert accuracy > 0.97


def test_cnn_learns_bars():
    """Horizontal against vertical bars: conv-bn-relu-pool-flatten-linear, plain SGD."""
    rng = np.random.default_rng(1)
    images = 0.1 * rng.standard_normal((32, 1, 8, 8))
    labels = np.arange(32) % 2
    for i, (label, pos) in enumerate(zip(labels, rng.integers(1, 7, 32))):
        if label:
            images[i, 0, :, pos] += 1
        else:
            images[i, 0, pos, :] += 1
    x, y = autograd.tensor(images, dtype=autograd.float32), autograd.tensor(labels)
    autograd.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 2),
    )
    for _ in range(30):
        loss = F.cross_entropy(model(x), y)
        model.zero_grad()
        loss.backward()
        with autograd.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
    model.eval()
    final = F.cross_entropy(model(x), y).item()
    assert final < 0.1


def test_batchnorm_rejects_a_single_value_per_channel_without_changing_state():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(autograd.ones(1, 3))
    assert bn.num_batches_tracked.item() == 0


def test_module_state_changes_all_or_nothing():
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    bad = {k: np.ones(v.shape) for k, v in before.items()}
    bad["1.bias"] = np.array(["x"])  # the last key is bad: nothing may be copied before it is checked
    with pytest.raises(RuntimeError, match="1.bias: a value of dtype <U1 cannot be loaded"):
        model.load_state_dict(bad)
    assert all(np.array_equal(v.numpy(), before[k]) for k, v in model.state_dict().items())
    with pytest.raises(RuntimeError, match="dtype object"):
        model.load_state_dict({**bad, "1.bias": np.array([None])})
    with pytest.raises(TypeError, match="floating-point"):
        model.to(np.int64)
    model.requires_grad_(False)
    model.register_parameter("count", nn.Parameter(np.ones(1, np.float32)))
    model.count.data = model.count.data.astype(np.int64)  # an integer parameter
    with pytest.raises(TypeError, match="count has dtype int64"):
        model.requires_grad_(True)
    assert not any(p.requires_grad for n, p in model.named_parameters() if n != "count")


def test_register_names_are_checked_like_torch():
    layer = nn.Linear(2, 3)
    with pytest.raises(KeyError, match="'weight' already exists"):
        layer.register_buffer("weight", autograd.zeros(7))
    with pytest.raises(KeyError, match="no '.'"):
        layer.register_buffer("a.b", autograd.zeros(1))
    with pytest.raises(KeyError, match="non-empty"):
        layer.add_module("", nn.ReLU())
    with pytest.raises(TypeError, match="must be a str"):
        layer.register_parameter(3, None)
    layer.register_buffer("scale", autograd.ones(1))
    layer.register_buffer("scale", autograd.zeros(1))  # replacing one's own buffer is fine
    assert list(layer.state_dict()) == ["weight", "bias", "scale"]


def test_batchnorm_checks_before_it_counts():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(TypeError, match="floating-point"):
        bn(autograd.ones(4, 3, dtype=autograd.int64))
    assert bn.num_batches_tracked.item() == 0
    running = autograd.ones(5)
    with pytest.raises(ValueError, match=r"running_mean must have shape \(3,\)"):
        F.batch_norm(autograd.randn(4, 3), running, autograd.ones(3), training=True)
    assert running.tolist() == [1.0] * 5


def test_loss_weights_must_fit_the_classes_or_the_input():
    logits, target = autograd.randn(4, 3), autograd.tensor(np.array([0, 1, 2, 0]))
    for weight in (autograd.ones(5), autograd.ones(3, 1), autograd.ones(2)):
        with pytest.raises(ValueError, match=r"one value per class, shape \(3,\)"):
            F.cross_entropy(logits, target, weight)
        with pytest.raises(ValueError, match=r"one value per class"):
            F.nll_loss(logits.log_softmax(1), target, weight)
    with pytest.raises(ValueError, match="must broadcast to the input's shape"):
        F.binary_cross_entropy_with_logits(autograd.zeros(4), autograd.zeros(4), autograd.ones(2, 4))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: nn.Conv2d(3, 4, 3, stride=0), "stride"),
        (lambda: nn.Conv2d(3, 4, (3, 3, 3)), "kernel_size"),
        (lambda: nn.Conv2d(3, 4, 0), "kernel_size"),
        (lambda: nn.Conv2d(3, 4, 3, padding=-1), "padding"),
        (lambda: nn.Conv2d(-3, 4, 3), "in_channels"),
        (lambda: nn.Conv2d(3, 4, 3, groups=0), "groups"),
        (lambda: nn.ConvTranspose2d(2, 2, 3, stride=2, output_padding=2), "output_padding"),
        (lambda: nn.MaxPool2d(0), "kernel_size"),
        (lambda: nn.AvgPool2d(2, stride=0), "stride"),
        (lambda: nn.AdaptiveAvgPool2d(0), "output_size"),
        (lambda: nn.CrossEntropyLoss(reduction="avg"), "reduction"),
        (lambda: nn.CrossEntropyLoss(label_smoothing=5), "label_smoothing"),
        (lambda: nn.MSELoss(reduction="avg"), "reduction"),
    ],
)
def test_layers_check_their_arguments_when_built(make, message):
    """A bad geometry is reported where the layer is made, not at its first forward."""
    with pytest.raises(ValueError, match=message):
        make()


def test_pool_sizes_may_be_numpy_ints_but_not_bools():
    assert nn.MaxPool2d(np.int64(2))(autograd.ones(1, 1, 4, 4)).shape == (1, 1, 2, 2)
    with pytest.raises(ValueError, match="kernel_size"):
        nn.MaxPool2d(True)
