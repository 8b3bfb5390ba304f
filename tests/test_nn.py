"""nn against PyTorch: every layer and loss (values and gradients), initialization, the Module
API, and a small model that learns.

Weights travel through ``state_dict`` and numpy in both directions (dagrad -> torch and
torch -> dagrad), so these tests also prove that checkpoints move between the two libraries.

PyTorch's half of each comparison runs through the ``oracle`` fixture (live where torch is
installed, frozen in ``tests/frozen/test_nn.npz`` otherwise): it is a function of numpy inputs
(the layer's key, its weights as a dict of numpy arrays, the input, the upstream gradient's seed)
that returns numpy outputs, gradients and state. Most programs are written once and run by both
libraries (``lib`` is ``autograd`` or ``torch``).
"""

import math
import re
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


def dtype_name(dtype):
    """A numpy dtype as the string the oracle hashes ("float32")."""
    return np.dtype(dtype).name


def randn(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def to_numpy(t):
    """A dagrad or torch tensor (or a numpy array) as a numpy array (a copy)."""
    return np.array(t.detach().numpy()) if hasattr(t, "detach") else np.array(t)


def modules(lib):
    """``nn`` for dagrad, ``torch.nn`` for PyTorch."""
    return nn if lib is autograd else lib.nn


def functional(lib):
    return F if lib is autograd else lib.nn.functional


def numpy_state(model):
    """A model's state_dict as numpy arrays (the checkpoint format both libraries load)."""
    return {k: to_numpy(v) for k, v in model.state_dict().items()}


def load_numpy_state(lib, model, state):
    """Load a dict of numpy arrays into a model of ``lib``; every key must match."""
    result = model.load_state_dict(state if lib is autograd else {k: lib.from_numpy(v) for k, v in state.items()})
    assert result.missing_keys == [] and result.unexpected_keys == []


def build(lib, key, dtype, seed):
    """The model ``key`` names, made by ``lib`` after seeding its generator, in ``dtype``.

    A key is a name in LAYERS or MODELS, or ``(class name, args, kwargs)`` of an nn class.
    """
    lib.manual_seed(seed)
    if isinstance(key, str):
        model = MODELS[key](modules(lib)) if key in MODELS else LAYERS[key][0](modules(lib))
    else:
        name, args, kwargs = key
        model = getattr(modules(lib), name)(*args, **kwargs)
    return model.to(dtype if lib is autograd else getattr(lib, dtype_name(dtype)))


def torch_model(torch, key, dtype, state):
    """PyTorch's model ``key`` (seed 1) holding ``state`` (dagrad's weights), or its own initial ones."""
    model = build(torch, key, dtype, seed=1)
    if state is not None:
        load_numpy_state(torch, model, state)
    return model


def run_steps(lib, model, steps, dtype):
    """Forward and backward through ``model``, one step at a time; numpy results per step.

    A step is a dict: ``x`` (the input), and optionally ``train`` (set the mode first),
    ``zero_grad`` (clear the gradients first), ``seed`` (of the upstream gradient
    ``g = randn(y.shape, seed)``, backpropagated as ``sum(y * g)``; 1 by default) and ``state``
    (also return the state_dict after the step).
    """
    results = []
    for step in steps:
        if step.get("train") is not None:
            model.train(step["train"])
        if step.get("zero_grad"):
            model.zero_grad()
        x = lib.tensor(step["x"], requires_grad=True)
        y = model(x)
        g = randn(tuple(y.shape), step.get("seed", 1), dtype)
        (y * lib.tensor(g)).sum().backward()
        result = {
            "y": to_numpy(y),
            "x_grad": to_numpy(x.grad),
            "grads": {n: None if p.grad is None else to_numpy(p.grad) for n, p in model.named_parameters()},
        }
        if step.get("state"):
            result["state"] = numpy_state(model)
        results.append(result)
    return results


def torch_steps(torch, key, dtype, state, steps):
    """PyTorch's half of ``compare_steps``: its initial state_dict and its results of ``run_steps``."""
    model = torch_model(torch, key, dtype, state)
    return {"initial": numpy_state(model), "steps": run_steps(torch, model, steps, dtype)}


def compare_steps(oracle, key, dtype, direction, steps):
    """The same model in both libraries, the same weights, the same steps: compare everything.

    "dagrad->torch": PyTorch loads dagrad's initial weights (seed 0); "torch->dagrad": dagrad
    loads PyTorch's own (seed 1), which the oracle returns. Returns the dagrad model.
    """
    dmodel = build(autograd, key, dtype, seed=0)
    ours_initial = numpy_state(dmodel)
    given = ours_initial if direction == "dagrad->torch" else None
    theirs = oracle(torch_steps, key, dtype_name(dtype), given, steps)
    if direction == "dagrad->torch":  # dagrad's own initial weights are what PyTorch ran with
        assert_state_match(ours_initial, theirs["initial"], dtype)
    else:
        load_numpy_state(autograd, dmodel, theirs["initial"])
    ours = run_steps(autograd, dmodel, steps, dtype)
    assert len(ours) == len(theirs["steps"])
    for mine, ref in zip(ours, theirs["steps"]):
        assert_step_match(mine, ref, dtype)
    return dmodel


def assert_close(actual, expected, dtype):
    np.testing.assert_allclose(to_numpy(actual), to_numpy(expected), **tol(dtype))


def assert_step_match(mine, ref, dtype):
    """One step of ``run_steps``: output (dtype, shape, values), input and parameter gradients, state."""
    assert mine["y"].dtype == dtype and mine["y"].shape == ref["y"].shape
    assert_close(mine["y"], ref["y"], dtype)
    assert_close(mine["x_grad"], ref["x_grad"], dtype)
    assert list(mine["grads"]) == list(ref["grads"])
    for name, grad in mine["grads"].items():
        assert grad is not None and grad.dtype == dtype, name
        assert_close(grad, ref["grads"][name], dtype)
    if "state" in mine:
        assert_state_match(mine["state"], ref["state"], dtype)


def assert_state_match(dstate, tstate, dtype):
    """Two state_dicts as numpy arrays: the same keys in the same order, the same values."""
    assert list(dstate) == list(tstate)
    for key, value in dstate.items():
        if key.endswith("num_batches_tracked"):
            assert int(value) == int(tstate[key]), key
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
def test_layer_matches_torch(oracle, name, dtype, direction):
    shape = LAYERS[name][1]
    compare_steps(oracle, name, dtype, direction, [{"x": randn(shape, 3, dtype)}])


def test_layers_keep_their_parameters_in_pytorch_layout(oracle):
    def shapes(lib, names):
        layers = {name: LAYERS[name][0](modules(lib)) for name in names}
        return {name: {k: tuple(v.shape) for k, v in layer.state_dict().items()} for name, layer in layers.items()}

    theirs = oracle(shapes, list(LAYERS))
    assert list(theirs) == list(LAYERS)
    for name, (factory, _) in LAYERS.items():
        dmodel = factory(nn)
        dshapes = {k: tuple(v.shape) for k, v in dmodel.state_dict().items()}
        assert dshapes == theirs[name], name
        assert all(p.dtype == np.float32 for p in dmodel.parameters()), name  # PyTorch's default dtype


@pytest.mark.parametrize("momentum", [0.1, None, 0.7])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize(
    "kind, shape",
    [("BatchNorm1d", (6, 4)), ("BatchNorm1d", (5, 4, 3)), ("BatchNorm2d", (3, 4, 3, 2))],
    ids=["bn1d-2d", "bn1d-3d", "bn2d"],
)
def test_batchnorm_train_steps_then_eval_match_torch(oracle, kind, shape, dtype, momentum):
    key = (kind, (4,), {"momentum": momentum})
    steps = [  # statistics that change every step
        {"x": randn(shape, step, dtype) * (step + 1) + step, "seed": 10 + step, "zero_grad": True, "state": True}
        for step in range(3)
    ]
    steps.append({"x": randn(shape, 9, dtype), "train": False, "zero_grad": True, "state": True})

    def torch_side(torch, key, dtype, state, steps):
        model = torch_model(torch, key, dtype, state)  # dagrad's initial weights ...
        with torch.no_grad():  # ... then non-trivial affine weights, loaded into dagrad
            model.weight.uniform_(0.5, 2.0)
            model.bias.uniform_(-1.0, 1.0)
        return {"initial": numpy_state(model), "steps": run_steps(torch, model, steps, dtype)}

    dmodel = build(autograd, key, dtype, seed=0)
    theirs = oracle(torch_side, key, dtype_name(dtype), numpy_state(dmodel), steps)
    load_numpy_state(autograd, dmodel, theirs["initial"])
    ours = run_steps(autograd, dmodel, steps, dtype)
    assert len(ours) == len(theirs["steps"]) == 4
    for step, (mine, ref) in enumerate(zip(ours, theirs["steps"])):
        assert_step_match(mine, ref, dtype)  # the last step, in eval mode, leaves the running statistics alone
        assert int(mine["state"]["num_batches_tracked"]) == min(step + 1, 3)


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
def test_batchnorm_options_match_torch(oracle, options, training):
    steps = [{"x": randn((4, 3, 2, 3), step) + step, "train": training, "state": True} for step in range(2)]
    compare_steps(oracle, ("BatchNorm2d", (3,), options), np.float64, "dagrad->torch", steps)


@pytest.mark.parametrize(
    "kwargs",
    [{"padding": "full"}, {"stride": 2, "padding": "same"}, {"groups": 3}, {"padding_mode": "mirror"}],
    ids=["padding-string", "same-strided", "groups", "padding-mode"],
)
def test_conv_rejects_bad_arguments_like_torch(oracle, kwargs):
    def error(torch, kwargs):
        try:
            torch.nn.Conv2d(6, 4, 3, **kwargs)
        except Exception as e:  # noqa: BLE001 - which one is what is compared
            return type(e).__name__
        return None

    assert oracle(error, kwargs) == "ValueError"
    with pytest.raises(ValueError):
        nn.Conv2d(6, 4, 3, **kwargs)


def test_conv_transpose_rejects_what_it_cannot_do():
    with pytest.raises(ValueError, match="padding"):
        nn.ConvTranspose2d(2, 2, 3, padding="same")
    with pytest.raises(ValueError, match="padding_mode"):
        nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")


def test_conv_transpose_output_size_picks_the_output_padding(oracle):
    x = np.random.default_rng(0).standard_normal((1, 3, 4, 5)).astype(np.float32)
    sizes = [(7, 13), (8, 15), [1, 2, 8, 14]]

    def torch_side(torch, x, sizes):
        torch.manual_seed(0)
        tlayer = torch.nn.ConvTranspose2d(3, 2, 3, (2, 3), 1)
        return numpy_state(tlayer), [tlayer(torch.tensor(x), output_size=size) for size in sizes]

    state, outputs = oracle(torch_side, x, sizes)
    layer = nn.ConvTranspose2d(3, 2, 3, stride=(2, 3), padding=1)
    layer.load_state_dict(state)
    for size, theirs in zip(sizes, outputs):
        ours = layer(autograd.tensor(x), output_size=size)
        assert ours.shape == theirs.shape and ours.shape[-2:] == tuple(size[-2:])
        np.testing.assert_allclose(ours.detach().numpy(), theirs, rtol=1e-5, atol=1e-6)
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
    # x * (1 / (1 - p)) against x / (1 - p): two roundings apart (float32: 2 x 6e-8 relative)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out[kept], xs[kept] / (1 - p), rtol=rtol)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / (1 - p), rtol=rtol)


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


def classify(lib, model, x, target):
    """Cross-entropy of ``model``'s logits, backward; then the logits again in eval mode (numpy)."""
    xt = lib.tensor(x, requires_grad=True)
    logits = model(xt)
    loss = functional(lib).cross_entropy(logits, lib.tensor(target))
    loss.backward()
    result = {
        "logits": to_numpy(logits),
        "loss": to_numpy(loss),
        "x_grad": to_numpy(xt.grad),
        "grads": {n: to_numpy(p.grad) for n, p in model.named_parameters()},
        "state": numpy_state(model),  # the running statistics moved the same way
    }
    model.eval()
    result["eval"] = to_numpy(model(lib.tensor(x)))
    return result


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_small_cnn_end_to_end_matches_torch(oracle, dtype, direction):
    x = randn((4, 3, 8, 8), 0, dtype)
    target = np.array([0, 4, 2, 2])

    def torch_side(torch, dtype, state, x, target):
        model = torch_model(torch, "small_cnn", dtype, state)
        return numpy_state(model), classify(torch, model, x, target)

    dmodel = build(autograd, "small_cnn", dtype, seed=0)
    given = numpy_state(dmodel) if direction == "dagrad->torch" else None
    initial, theirs = oracle(torch_side, dtype_name(dtype), given, x, target)
    if direction == "torch->dagrad":
        load_numpy_state(autograd, dmodel, initial)
    ours = classify(autograd, dmodel, x, target)
    assert ours["logits"].shape == (4, 5)
    assert list(ours["grads"]) == list(theirs["grads"])
    for name in ("logits", "loss", "x_grad", "eval"):
        assert_close(ours[name], theirs[name], dtype)
    for name, grad in ours["grads"].items():
        assert grad.dtype == dtype, name
        assert_close(grad, theirs["grads"][name], dtype)
    assert_state_match(ours["state"], theirs["state"], dtype)


# ---------------------------------------------------------------- losses against PyTorch


def make_loss(lib, name, kwargs, dtype):
    """The loss ``name`` of ``lib``: a module class of nn ("CrossEntropyLoss") or a function of
    functional ("F.cross_entropy", whose ``kwargs`` are bound). Weights come as lists."""
    kwargs = {k: lib.tensor(np.array(v, dtype)) if k in ("weight", "pos_weight") else v for k, v in kwargs.items()}
    if name.startswith("F."):
        fn = getattr(functional(lib), name[2:])
        return lambda x, t: fn(x, t, **kwargs)
    return getattr(modules(lib), name)(**kwargs)


def loss_values(lib, loss, inputs, target, dtype, seed=5):
    """The loss of ``inputs`` (a numpy array of logits) and their gradient for the upstream
    gradient ``randn(loss.shape, seed)``, as numpy."""
    x = lib.tensor(inputs, requires_grad=True)
    value = loss(x, lib.tensor(np.array(target)))
    g = randn(tuple(value.shape), seed, dtype)
    (value * lib.tensor(g)).sum().backward()
    return to_numpy(value), to_numpy(x.grad)


def torch_loss(torch, name, kwargs, inputs, target, dtype):
    return loss_values(torch, make_loss(torch, name, kwargs, dtype), inputs, target, dtype)


def compare_loss(oracle, name, kwargs, inputs, target, dtype, ours=None):
    """Loss values and input gradients of dagrad's loss (``ours``, else ``make_loss``) and PyTorch's."""
    loss = make_loss(autograd, name, kwargs, dtype) if ours is None else ours
    value, grad = loss_values(autograd, loss, inputs, target, dtype)
    tvalue, tgrad = oracle(torch_loss, name, kwargs, inputs, target, dtype_name(dtype))
    assert value.dtype == dtype and value.shape == tvalue.shape
    assert_close(value, tvalue, dtype)
    assert_close(grad, tgrad, dtype)


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


def ce_arguments(shape, options, dtype, seed=0):
    """Logits, class targets and the loss's options (weights as lists) for a CE_CASES case."""
    rng = np.random.default_rng(seed)
    logits = (rng.standard_normal(shape) * 2).astype(dtype)
    classes = shape[1] if len(shape) > 1 else shape[0]
    target_shape = (shape[0], *shape[2:]) if len(shape) > 1 else ()
    target = rng.integers(0, classes, target_shape)
    options = dict(options)
    if options.pop("ignore_default", False):
        target.flat[::3] = -100
    return logits, target, options


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", list(CE_CASES))
def test_cross_entropy_matches_torch(oracle, case, reduction, dtype):
    logits, target, options = ce_arguments(*CE_CASES[case], dtype)
    compare_loss(oracle, "CrossEntropyLoss", {"reduction": reduction, **options}, logits, target, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", ["plain", "weights", "ignore-index", "weights-ignore", "4d", "3d", "unbatched"])
def test_nll_loss_matches_torch(oracle, case, reduction, dtype):
    logits, target, options = ce_arguments(*CE_CASES[case], dtype)
    # PyTorch's log-probabilities are the input of both
    logp = oracle(lambda torch, x: torch.log_softmax(torch.from_numpy(x), dim=1 if x.ndim > 1 else 0), logits)
    compare_loss(oracle, "NLLLoss", {"reduction": reduction, **options}, logp, target, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_matches_torch(oracle, reduction, dtype):
    compare_loss(
        oracle,
        "MSELoss",
        {"reduction": reduction},
        randn((4, 3, 2), 0, dtype),
        randn((4, 3, 2), 1, dtype),
        dtype,
        ours=nn.MSELoss(reduction),  # reduction may come first here (PyTorch's first is size_average)
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighting", ["none", "weight", "pos_weight", "both"])
def test_bce_with_logits_matches_torch(oracle, weighting, reduction, dtype):
    rng = np.random.default_rng(0)
    logits = (rng.standard_normal((5, 3)) * 3).astype(dtype)
    target = rng.random((5, 3)).astype(dtype)  # soft targets in [0, 1]
    target[0] = [0, 1, 1]
    options = {"reduction": reduction}
    if weighting in ("weight", "both"):
        options["weight"] = [0.5, 2.0, 1.0]
    if weighting in ("pos_weight", "both"):
        options["pos_weight"] = [3.0, 0.2, 1.0]
    compare_loss(oracle, "BCEWithLogitsLoss", options, logits, target, dtype)


def bce_at(lib, logits, target, pos_weight):
    """Elementwise BCE-with-logits and the gradient of its sum, without and with ``pos_weight``."""
    results = []
    for extra in ({}, {"pos_weight": lib.tensor(pos_weight)}):
        x = lib.tensor(logits, requires_grad=True)
        loss = functional(lib).binary_cross_entropy_with_logits(x, lib.tensor(target), reduction="none", **extra)
        loss.sum().backward()
        results += [to_numpy(loss), to_numpy(x.grad)]
    return results


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_bce_with_logits_is_stable_at_huge_logits(oracle, dtype):
    logits = np.array([[1e3, -1e3, 1e3, -1e3, 0.0, 50.0]], dtype)
    target = np.array([[1.0, 0.0, 0.0, 1.0, 1.0, 0.3]], dtype)
    pos_weight = np.array([2.0, 2.0, 2.0, 2.0, 2.0, 2.0], dtype)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        ours = bce_at(autograd, logits, target, pos_weight)
    for t in ours:
        assert np.isfinite(t).all()
    np.testing.assert_allclose(ours[0][0, :4], [0.0, 0.0, 1e3, 1e3], atol=1e-6)
    theirs = oracle(bce_at, logits, target, pos_weight)
    assert len(theirs) == len(ours) == 4
    for mine, ref in zip(ours, theirs):
        assert_close(mine, ref, dtype)


def test_cross_entropy_is_stable_at_huge_logits(oracle):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0]])
    target = np.array([1, 1])

    def torch_side(torch, *args):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return torch_loss(torch, *args)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = loss_values(autograd, F.cross_entropy, logits, target, np.float64)
    tvalue, tgrad = oracle(torch_side, "F.cross_entropy", {}, logits, target, "float64")
    assert value.dtype == np.float64 and value.shape == tvalue.shape
    assert_close(value, tvalue, np.float64)
    assert_close(grad, tgrad, np.float64)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(
    "options", [{}, {"weight": [1.0, 2.0, 0.5]}, {"weight": [1.0, 2.0, 0.5], "label_smoothing": 0.2}]
)
@pytest.mark.parametrize("shape", [(4, 3), (3,), (2, 3, 4, 2)])
def test_cross_entropy_with_class_probabilities_matches_torch(oracle, shape, options, reduction):
    """Float targets of the input's shape are class distributions (mixup, distillation); the
    gradient reaches the target too."""
    rng = np.random.default_rng(5)
    logits, target = rng.standard_normal(shape), np.abs(rng.standard_normal(shape))
    target /= target.sum(axis=1 if len(shape) > 1 else 0, keepdims=True)
    x, t = autograd.tensor(logits, requires_grad=True), autograd.tensor(target, requires_grad=True)
    ours = F.cross_entropy(x, t, reduction=reduction, **{k: autograd.tensor(v) if k == "weight" else v
                                                          for k, v in options.items()})  # fmt: skip
    ours.sum().backward()

    def torch_side(torch, logits, target, options, reduction):
        tx, tt = torch.tensor(logits, requires_grad=True), torch.tensor(target, requires_grad=True)
        theirs = torch.nn.functional.cross_entropy(tx, tt, reduction=reduction, **{
            k: torch.tensor(v, dtype=torch.float64) if k == "weight" else v for k, v in options.items()})  # fmt: skip
        theirs.sum().backward()
        return theirs, tx.grad, tt.grad

    theirs, x_grad, t_grad = oracle(torch_side, logits, target, options, reduction)
    np.testing.assert_allclose(ours.detach().numpy(), theirs, rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), x_grad, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(t.grad.numpy(), t_grad, rtol=1e-10, atol=1e-14)


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
def test_a_batch_with_every_target_ignored_gives_nan_loss_and_zero_gradient(oracle, loss):
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

    def torch_side(torch, x):
        tx = torch.tensor(x, requires_grad=True)
        torch.nn.functional.cross_entropy(tx, torch.tensor([-1, -1]), ignore_index=-1).backward()
        return tx.grad

    tgrad = oracle(torch_side, randn((2, 4), 0, np.float32))
    assert not tgrad.any()  # (PyTorch's own behaviour, which the above follows)


def loss_modules(lib, w):
    n = modules(lib)
    return [
        n.CrossEntropyLoss(weight=lib.tensor(w)),
        n.NLLLoss(weight=lib.tensor(w)),
        n.BCEWithLogitsLoss(weight=lib.tensor(w), pos_weight=lib.tensor(w)),
        n.CrossEntropyLoss(),
    ]


def test_loss_weights_are_buffers_as_in_torch(oracle):
    w = np.array([1.0, 2.0, 0.5])

    def describe_losses(lib, w):
        return [(list(loss.state_dict()), repr(loss)) for loss in loss_modules(lib, w)]

    assert describe_losses(autograd, w) == oracle(describe_losses, w)
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


INIT_LAYERS = {
    "linear": lambda m: m.Linear(1000, 500),
    "conv": lambda m: m.Conv2d(16, 64, 5),
    "conv-groups": lambda m: m.Conv2d(16, 64, 5, groups=4),
    "convT": lambda m: m.ConvTranspose2d(64, 32, 3),
    "convT-groups": lambda m: m.ConvTranspose2d(64, 32, 3, groups=4),
}


@pytest.mark.parametrize(
    "key, fan_in",
    [
        ("linear", 1000),
        ("conv", 16 * 25),
        ("conv-groups", 4 * 25),
        ("convT", 32 * 9),  # weight (in, out, kH, kW): fan_in is dim 1
        ("convT-groups", 8 * 9),
    ],
    ids=["linear", "conv", "conv-groups", "convT", "convT-groups"],
)
def test_default_init_matches_torch_distribution(oracle, key, fan_in):
    def stats(lib, key):
        lib.manual_seed(0)
        layer = INIT_LAYERS[key](modules(lib))
        return [[float(s) for s in weight_stats(p)[:2]] for p in (layer.weight, layer.bias)]

    autograd.manual_seed(0)
    dlayer = INIT_LAYERS[key](nn)
    theirs = oracle(stats, key)
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) and the bias rule both give this
    for dparam, (tmax, tstd) in zip((dlayer.weight, dlayer.bias), theirs, strict=True):
        dmax, dstd, dmean = weight_stats(dparam)
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
def test_init_functions_match_torch_statistics(oracle, fn, kwargs, std):
    def torch_side(torch, fn, kwargs):
        torch.manual_seed(0)
        tw = torch.empty(64, 32, 3, 3)
        getattr(torch.nn.init, fn)(tw, **kwargs)
        return [float(s) for s in weight_stats(tw)[:2]]

    autograd.manual_seed(0)
    w = nn.Parameter(np.empty((64, 32, 3, 3), np.float32))
    assert getattr(nn.init, fn)(w, **kwargs) is w
    tmax, tstd = oracle(torch_side, fn, kwargs)
    assert w.requires_grad and w.grad_fn is None and w.dtype == np.float32
    dmax, dstd, dmean = weight_stats(w)
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
def test_calculate_gain_matches_torch(oracle, nonlinearity, param):
    theirs = oracle(lambda torch, *args: float(torch.nn.init.calculate_gain(*args)), nonlinearity, param)
    assert nn.init.calculate_gain(nonlinearity, param) == pytest.approx(theirs, rel=1e-12)


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


def test_repr_is_pytorchs(oracle):
    def printouts(lib):
        m = modules(lib)
        return {
            "nested": str(nested(m)),
            "layers": [repr(factory(m)) for factory in REPR_MODEL],
            "all": str(m.Sequential(*(f(m) for f in REPR_MODEL))),
        }

    ours, theirs = printouts(autograd), oracle(printouts)
    assert ours["nested"] == theirs["nested"]
    assert len(ours["layers"]) == len(theirs["layers"]) == len(REPR_MODEL)
    for mine, ref in zip(ours["layers"], theirs["layers"]):
        assert mine == ref
    assert ours["all"] == theirs["all"]


def describe(model):
    """A model's names, types, shapes and printout (nn or torch.nn), as plain Python."""
    return {
        "state": list(model.state_dict()),
        "parameters": [n for n, _ in model.named_parameters()],
        "buffers": [n for n, _ in model.named_buffers()],
        "modules": [n for n, _ in model.named_modules()],
        "children": [n for n, _ in model.named_children()],
        "children types": [type(c).__name__ for c in model.children()],
        "module types": [type(c).__name__ for c in model.modules()],
        "prefixed": [n for n, _ in model.named_parameters(prefix="model")],
        "parameter count": len(list(model.parameters())),
        "shapes": {k: tuple(v.shape) for k, v in model.state_dict().items()},
        "str": str(model),
    }


def test_names_match_torch(oracle):
    d = nested(nn)
    ours, theirs = describe(d), oracle(lambda torch: describe(nested(torch.nn)))
    for key in ("state", "parameters", "buffers", "modules", "children", "children types", "module types"):
        assert ours[key] == theirs[key], key
    assert ours["prefixed"] == theirs["prefixed"]
    assert [n for n, _ in d.named_parameters(recurse=False)] == []
    assert ours["parameter count"] == theirs["parameter count"] == 12
    assert len(list(d.buffers())) == 9
    assert ours["shapes"] == theirs["shapes"]


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_nested_model_matches_torch(oracle, direction):
    compare_steps(oracle, "nested", np.float64, direction, [{"x": randn((2, 3, 6, 6)), "train": False}])


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


MODELS = {"small_cnn": small_cnn, "nested": nested, "shared": shared}  # more keys of build()


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_shared_parameters_and_modules_are_counted_once(oracle, direction):
    # the same weights in both directions (the state_dict holds the shared weight under both names);
    # gradients of both uses add up
    dmodel = compare_steps(oracle, "shared", np.float64, direction, [{"x": randn((4, 3))}])
    ours, theirs = describe(dmodel), oracle(lambda torch: describe(build(torch, "shared", np.float64, seed=1)))
    assert ours["state"] == theirs["state"]  # every name, as PyTorch
    for key in ("parameters", "modules", "children"):
        assert ours[key] == theirs[key], key
    assert len(list(dmodel.parameters())) == 4  # encoder.weight/bias, first.1.weight/bias
    assert dmodel.decoder.weight is dmodel.encoder.weight
    assert ours["str"] == theirs["str"]


def test_apply_visits_children_first_as_torch(oracle):
    def visit_order(model):
        names = {id(m): n for n, m in model.named_modules()}
        order = []
        model.apply(lambda mod: order.append(names[id(mod)]))
        return order

    def orders(lib):
        return [visit_order(nested(modules(lib))), visit_order(shared(modules(lib)))]

    (nested_order, shared_order), theirs = orders(autograd), oracle(orders)
    assert nested_order == theirs[0]
    assert shared_order == theirs[1]  # a shared module: once per parent
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


def test_load_state_dict_reports_every_problem_and_changes_nothing(oracle):
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
    def torch_error(torch, bad):
        try:
            nested(torch.nn).load_state_dict({k: torch.from_numpy(v) for k, v in bad.items()})
        except Exception as e:  # noqa: BLE001 - which one is what is compared
            return type(e).__name__, str(e)
        return None

    kind, text = oracle(torch_error, bad)
    assert kind == "RuntimeError" and re.search("size mismatch", text)


def test_load_state_dict_not_strict_returns_the_keys_like_torch(oracle):
    model = nested(nn)
    params = list(model.parameters())
    partial = {k: np.full(v.shape, 2.0, np.float64) for k, v in snapshot(model).items() if k.startswith("head")}
    partial["stem.0.bias"] = np.full(4, 3.0)
    partial["unknown"] = np.zeros(1)
    partial["head.extra.bias"] = np.zeros(1)
    result = model.load_state_dict(partial, strict=False)

    def torch_keys(torch, partial):
        tresult = nested(torch.nn).load_state_dict({k: torch.from_numpy(v) for k, v in partial.items()}, strict=False)
        return tresult.missing_keys, tresult.unexpected_keys

    missing_keys, unexpected_keys = oracle(torch_keys, partial)
    # a missing num_batches_tracked is not reported (old checkpoints lack it), as in PyTorch
    assert result.missing_keys == missing_keys
    assert result.unexpected_keys == unexpected_keys == ["unknown", "head.extra.bias"]
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


def test_batchnorm_loads_a_state_dict_without_its_batch_counter(oracle):
    def torch_side(torch):
        tbn = torch.nn.BatchNorm2d(3)
        state = {k: v.numpy() + 1 for k, v in tbn.state_dict().items() if k != "num_batches_tracked"}
        return state, repr(tbn.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}))

    state, tresult = oracle(torch_side)  # PyTorch's initial statistics, plus one
    bn = nn.BatchNorm2d(3)
    bn(autograd.randn(4, 3, 2, 2))  # counter at 1
    result = bn.load_state_dict(state)
    assert result == ([], []) and repr(result) == tresult == "<All keys matched successfully>"
    assert bn.num_batches_tracked.item() == 1  # kept, as PyTorch keeps its own
    np.testing.assert_array_equal(bn.running_var.numpy(), np.full(3, 2.0))
    with pytest.raises(RuntimeError, match='Missing key.*"running_mean"'):  # only the counter is optional
        bn.load_state_dict({k: v for k, v in state.items() if k != "running_mean"})
    assert "missing_keys=['num_batches_tracked']" not in repr(bn.load_state_dict({}, strict=False))


def test_train_and_eval_go_through_each_childs_own_train(oracle):
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

    def modes(lib, switches):
        net = frozen(modules(lib))
        seen = []
        for mode in switches:
            net.train(mode)
            seen.append([m.training for m in net.modules()])
        return seen

    ours, theirs = modes(autograd, [True, False, True]), oracle(modes, [True, False, True])
    assert len(ours) == len(theirs) == 3
    for mine, ref in zip(ours, theirs):
        assert mine == ref
    assert ours[-1] == [True, True, False, True]


def test_state_dict_shares_memory_and_keep_vars():
    lin = nn.Linear(3, 2)
    state = lin.state_dict()
    assert not state["weight"].requires_grad
    with autograd.no_grad():
        lin.weight.mul_(0)
    assert not state["weight"].numpy().any()
    assert lin.state_dict(keep_vars=True)["weight"] is lin.weight
    assert list(lin.state_dict(prefix="fc.")) == ["fc.weight", "fc.bias"]


def test_sequential_indexing_slicing_and_iteration(oracle):
    layers = [lambda m: m.Linear(2, 3), lambda m: m.ReLU(), lambda m: m.Linear(3, 4), lambda m: m.Tanh()]

    def torch_side(torch):
        t = torch.nn.Sequential(*(f(torch.nn) for f in layers))
        part = {"keys": list(t[1:3].state_dict()), "str": str(t[1:3])}
        t.append(torch.nn.Linear(4, 1))
        return part, list(t.state_dict())

    tpart, tkeys = oracle(torch_side)
    d = nn.Sequential(*(f(nn) for f in layers))
    assert len(d) == 4
    assert isinstance(d[0], nn.Linear) and isinstance(d[-1], nn.Tanh) and d[2].out_features == 4
    assert list(d) == [d[i] for i in range(4)]
    part = d[1:3]
    assert isinstance(part, nn.Sequential) and len(part) == 2 and part[1] is d[2]
    assert list(part.state_dict()) == tpart["keys"] == ["2.weight", "2.bias"]
    assert str(part) == tpart["str"]
    with pytest.raises(IndexError):
        d[4]
    x = autograd.randn(5, 2)
    np.testing.assert_allclose(to_numpy(d(x)), to_numpy(d[3](d[2](d[1](d[0](x))))))
    d.append(nn.Linear(4, 1))
    assert list(d.state_dict()) == tkeys and d(x).shape == (5, 1)
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"] and named.fc is named[0]


def test_module_list(oracle):
    def build_up(torch):
        """A ModuleList grown by append, extend and item assignment; what it looks like on the way."""
        m = torch.nn
        d = m.ModuleList([m.Linear(2, 2), m.ReLU()])
        d.append(m.Linear(2, 3))
        d.extend([m.Tanh(), m.Linear(3, 1)])
        seen = {
            "keys": list(d.state_dict()),
            "types": [type(layer).__name__ for layer in d],
            "slice keys": list(d[1:3].state_dict()),
            "str": str(d),
        }
        d[0] = m.Linear(2, 2, bias=False)
        seen.update({"keys after": list(d.state_dict()), "str after": str(d)})
        return seen

    theirs = oracle(build_up)
    d = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
    d.append(nn.Linear(2, 3))
    d.extend([nn.Tanh(), nn.Linear(3, 1)])
    assert len(d) == 5 and list(d.state_dict()) == theirs["keys"]
    assert [type(m).__name__ for m in d] == theirs["types"]
    assert isinstance(d[1:3], nn.ModuleList) and list(d[1:3].state_dict()) == theirs["slice keys"]
    assert d[-1] is d[4] and str(d) == theirs["str"]
    d[0] = nn.Linear(2, 2, bias=False)
    assert list(d.state_dict()) == theirs["keys after"] and str(d) == theirs["str after"]
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
    model.count._data = model.count._data.astype(np.int64)  # an integer parameter
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
    with pytest.raises(TypeError, match="kernel_size"):  # PyTorch's type for a bool size
        nn.MaxPool2d(True)
