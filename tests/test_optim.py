"""Optimizers and schedulers: trajectories, state and checkpoints against PyTorch, plus error messages."""

import copy

import numpy as np
import pytest

import autograd
import nn
from nn import optim
from nn.optim import lr_scheduler

# Trajectories of up to 100 steps. float32 rounds each of a step's ~10 operations by up to 2^-24
# (6e-8) relative, in an order that differs between CPUs and libraries; the errors add up over
# the steps and are amplified where the update divides by a small difference (RMSprop's centered
# variance sqrt(E[g^2] - E[g]^2), Adam's sqrt(v) + eps early on). 1e-4 relative is ~1700 roundings:
# 8 steps x 10 ops x a 20x amplification. float64 has the same structure with 2^-53 (1e-16).
TOL = {np.float32: {"rtol": 1e-4, "atol": 1e-5}, np.float64: {"rtol": 1e-12, "atol": 1e-12}}
DTYPES = [np.float32, np.float64]


# ---------------------------------------------------------------------- the shared problem
def _arrays(dtype, seed=0):
    """W (3x4), b (3,), inputs X (4x5) and targets Y (3x5) for a least-squares fit."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for shape in [(3, 4), (3,), (4, 5), (3, 5)]]


def _tensors(lib, arrays):
    """The parameters W, b (leaves that require grad) and the data X, Y in ``lib``."""
    W0, b0, X, Y = arrays
    return lib.tensor(W0, requires_grad=True), lib.tensor(b0, requires_grad=True), lib.tensor(X), lib.tensor(Y)


def _loss(W, b, X, Y):
    """sum((W X + b - Y)^2) + sum(b^2): written once, evaluated by either library."""
    return ((W @ X + b.reshape(3, 1) - Y) ** 2).sum() + (b**2).sum()


def _value(t):
    return t.detach().numpy().copy()


def _train(opt, W, b, X, Y, steps):
    """Run ``steps`` optimizer steps; return the (W, b) values after each one."""
    out = []
    for _ in range(steps):
        opt.zero_grad()
        _loss(W, b, X, Y).backward()
        opt.step()
        out.append((_value(W), _value(b)))
    return out


def _run(lib, module, name, kwargs, arrays, steps, groups=None):
    """Train the shared problem with ``module``'s optimizer ``name``; the parameters after each step."""
    W, b, X, Y = _tensors(lib, arrays)
    params = [W, b] if groups is None else groups(W, b)
    return _train(getattr(module, name)(params, **kwargs), W, b, X, Y, steps)


def _compare(name, kwargs, dtype, oracle, steps=8, groups=None):
    """Train the same problem with our optimizer and PyTorch's; compare parameters after every step."""
    arrays = _arrays(dtype)
    ours = _run(autograd, optim, name, kwargs, arrays, steps, groups)
    theirs = oracle(lambda torch, *a: _run(torch, torch.optim, *a, groups), name, kwargs, arrays, steps)
    start = arrays[0]
    assert np.max(np.abs(theirs[-1][0] - start)) > 0.05, "the parameters should move visibly"
    for step, (mine, ref) in enumerate(zip(ours, theirs)):
        for got, want in zip(mine, ref):
            assert got.dtype == dtype
            np.testing.assert_allclose(got, want, **TOL[dtype], err_msg=f"{name}{kwargs} after step {step + 1}")


SGD_CASES = [
    {},
    {"momentum": 0.9},
    {"momentum": 0.9, "dampening": 0.5},
    {"momentum": 0.9, "nesterov": True},
    {"weight_decay": 0.1},
    {"maximize": True},
    {"momentum": 0.8, "dampening": 0.2, "weight_decay": 0.05, "maximize": True},
    {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1, "maximize": True},
]
ADAM_CASES = [
    {},
    {"amsgrad": True},
    {"weight_decay": 0.1},
    {"maximize": True},
    {"betas": (0.3, 0.6)},  # 1 - beta1 >= 0.5: the other branch of PyTorch's lerp
    {"eps": 1e-2},
    {"amsgrad": True, "weight_decay": 0.1, "maximize": True},
    {"decoupled_weight_decay": True, "weight_decay": 0.1},
]
ADAMW_CASES = [
    {},
    {"weight_decay": 0.2},
    {"amsgrad": True},
    {"maximize": True},
    {"amsgrad": True, "maximize": True, "betas": (0.5, 0.9), "weight_decay": 0.05},
]
RMSPROP_CASES = [
    {},
    {"centered": True},
    {"momentum": 0.9},
    {"centered": True, "momentum": 0.5},
    {"weight_decay": 0.1},
    {"maximize": True},
    {"alpha": 0.7},
    {"centered": True, "alpha": 0.4},  # 1 - alpha >= 0.5 in the grad_avg lerp
    {"centered": True, "momentum": 0.3, "weight_decay": 0.1, "maximize": True, "eps": 1e-3},
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("kwargs", SGD_CASES, ids=str)
def test_sgd_matches_torch(kwargs, dtype, oracle):
    _compare("SGD", {"lr": 0.01, **kwargs}, dtype, oracle)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("kwargs", ADAM_CASES, ids=str)
def test_adam_matches_torch(kwargs, dtype, oracle):
    _compare("Adam", {"lr": 0.05, **kwargs}, dtype, oracle)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("kwargs", ADAMW_CASES, ids=str)
def test_adamw_matches_torch(kwargs, dtype, oracle):
    _compare("AdamW", {"lr": 0.05, **kwargs}, dtype, oracle)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("kwargs", RMSPROP_CASES, ids=str)
def test_rmsprop_matches_torch(kwargs, dtype, oracle):
    _compare("RMSprop", {"lr": 0.01, **kwargs}, dtype, oracle)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop"])
def test_default_hyperparameters_match_torch(name, oracle):
    W = autograd.tensor(np.ones(3), requires_grad=True)
    ours = getattr(optim, name)([W]).param_groups[0]

    def defaults(torch, name):
        group = getattr(torch.optim, name)([torch.ones(3, requires_grad=True)]).param_groups[0]
        return {key: value for key, value in group.items() if key != "params"}

    theirs = oracle(defaults, name)
    for key, value in ours.items():  # PyTorch has more (foreach, capturable, ...): ours must agree on ours
        if key != "params":
            assert theirs[key] == value, key
    _compare(name, {}, np.float64, oracle, steps={"SGD": 40, "RMSprop": 10}.get(name, 100))


def test_param_groups_with_different_hyperparameters(oracle):
    def groups(W, b):
        return [{"params": [W], "lr": 0.05, "momentum": 0.9}, {"params": b, "weight_decay": 0.3}]

    _compare("SGD", {"lr": 0.01}, np.float64, oracle, groups=groups)
    _compare(
        "Adam",
        {"lr": 0.02, "amsgrad": True},
        np.float32,
        oracle,
        groups=lambda W, b: [{"params": [b]}, {"params": [W], "lr": 0.1}],
    )
    _compare(
        "RMSprop",
        {"lr": 0.01},
        np.float64,
        oracle,
        groups=lambda W, b: [{"params": [W], "centered": True}, {"params": [b], "lr": 0.003, "momentum": 0.5}],
    )


def test_named_parameters_are_accepted():
    W = autograd.tensor(np.ones(3), requires_grad=True)
    opt = optim.SGD([("weight", W)], lr=0.1)
    assert opt.param_groups[0]["params"][0] is W
    assert opt.param_groups[0]["param_names"] == ["weight"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight"]


def test_add_param_group_and_changing_lr_midway(oracle):
    def run(lib, module, arrays):
        W, b, X, Y = _tensors(lib, arrays)
        opt = module.Adam([W], lr=0.05)
        out = _train(opt, W, b, X, Y, 3)
        opt.add_param_group({"params": [b], "lr": 0.01, "betas": (0.8, 0.99)})
        out += _train(opt, W, b, X, Y, 3)
        opt.param_groups[0]["lr"] = 0.2
        out += _train(opt, W, b, X, Y, 3)
        return out

    arrays = _arrays(np.float64)
    runs = [run(autograd, optim, arrays), oracle(lambda torch, a: run(torch, torch.optim, a), arrays)]
    for mine, ref in zip(*runs):
        for got, want in zip(mine, ref):
            np.testing.assert_allclose(got, want, **TOL[np.float64])


# ---------------------------------------------------------------------- step and zero_grad semantics
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop"])
def test_step_updates_the_same_leaf_in_place(name):
    W, b, X, Y = _tensors(autograd, _arrays(np.float32))
    data, version = W._data, W._version
    opt = getattr(optim, name)([W, b], lr=0.1)
    _loss(W, b, X, Y).backward()
    before = W._data.copy()
    assert opt.step() is None
    assert W._data is data and W.is_leaf and W.grad_fn is None and W.requires_grad
    assert W._version > version
    assert not np.array_equal(W._data, before)
    assert W.grad is not None  # step leaves the gradient alone


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop"])
def test_params_without_grad_are_skipped(name):
    W, b, X, Y = _tensors(autograd, _arrays(np.float32))
    unused = autograd.tensor(np.ones(4, np.float32), requires_grad=True)
    extra = {"momentum": 0.9} if name in ("SGD", "RMSprop") else {}
    opt = getattr(optim, name)([W, unused, b], lr=0.1, **extra)
    for _ in range(2):
        opt.zero_grad()
        _loss(W, b, X, Y).backward()
        opt.step()
    np.testing.assert_array_equal(unused._data, np.ones(4))
    assert unused not in opt.state and W in opt.state
    assert sorted(opt.state_dict()["state"]) == [0, 2]


def test_sgd_without_momentum_keeps_no_state():
    W, b, X, Y = _tensors(autograd, _arrays(np.float32))
    opt = optim.SGD([W, b], lr=0.1)
    _loss(W, b, X, Y).backward()
    opt.step()
    assert opt.state_dict()["state"] == {}


def test_closure_is_evaluated_with_grad_enabled_and_returned():
    W, b, X, Y = _tensors(autograd, _arrays(np.float64))
    opt = optim.SGD([W, b], lr=0.01)

    def closure():
        opt.zero_grad()
        loss = _loss(W, b, X, Y)
        loss.backward()
        return loss

    expected = _loss(W, b, X, Y).item()
    with autograd.no_grad():
        loss = opt.step(closure)
    assert loss.requires_grad and loss.item() == expected  # the closure recorded a graph, then the step ran
    assert _loss(W, b, X, Y).item() < expected


def test_zero_grad_set_to_none_and_to_zero():
    W, b, X, Y = _tensors(autograd, _arrays(np.float64))
    opt = optim.SGD([W, b], lr=0.1)
    opt.zero_grad()  # no gradients yet: nothing to do
    _loss(W, b, X, Y).backward()
    first = W.grad._data.copy()
    opt.zero_grad()
    assert W.grad is None and b.grad is None

    _loss(W, b, X, Y).backward()
    grad = W.grad
    opt.zero_grad(set_to_none=False)
    assert W.grad is grad and not W.grad._data.any() and not b.grad._data.any()
    _loss(W, b, X, Y).backward()  # accumulates onto the zeros
    np.testing.assert_allclose(W.grad._data, first)


def test_zero_grad_detaches_a_grad_built_with_create_graph():
    x = autograd.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([x], lr=0.1)
    (x**3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    opt.zero_grad(set_to_none=False)
    assert not x.grad.requires_grad and x.grad.grad_fn is None
    np.testing.assert_array_equal(x.grad._data, [0.0, 0.0])


# ---------------------------------------------------------------------- state_dict
FULL_STATE = [
    ("SGD", {"lr": 0.01, "momentum": 0.9, "nesterov": True}),
    ("Adam", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.05, "amsgrad": True}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}),
]


@pytest.mark.parametrize(("name", "kwargs"), FULL_STATE, ids=[c[0] for c in FULL_STATE])
def test_state_dict_layout_and_values_match_torch(name, kwargs, oracle):
    def trained_state(lib, module, name, kwargs, arrays):
        W, b, X, Y = _tensors(lib, arrays)
        opt = getattr(module, name)([{"params": [W]}, {"params": [b], "lr": 0.003}], **kwargs)
        _train(opt, W, b, X, Y, 3)
        return opt.state_dict()

    arrays = _arrays(np.float64)
    ours = trained_state(autograd, optim, name, kwargs, arrays)
    theirs = oracle(lambda torch, *a: trained_state(torch, torch.optim, *a), name, kwargs, arrays)
    assert list(ours) == ["state", "param_groups"]
    assert ours["state"].keys() == theirs["state"].keys() == {0, 1}
    for index, state in ours["state"].items():
        assert list(state) == list(theirs["state"][index])
        for key, value in state.items():
            assert isinstance(value, autograd.Tensor)
            np.testing.assert_allclose(value._data, theirs["state"][index][key], rtol=1e-12, atol=1e-12)
    if "step" in ours["state"][0]:
        assert ours["state"][0]["step"].dtype == np.float32 and ours["state"][0]["step"].shape == ()
    for mine, ref in zip(ours["param_groups"], theirs["param_groups"]):
        assert mine["params"] == ref["params"]
        for key, value in mine.items():
            assert ref[key] == value, key


@pytest.mark.parametrize(("name", "kwargs"), FULL_STATE, ids=[c[0] for c in FULL_STATE])
def test_state_dict_round_trip_continues_the_same_run(name, kwargs):
    arrays = _arrays(np.float32)
    W, b, X, Y = _tensors(autograd, arrays)
    whole = getattr(optim, name)([{"params": [W]}, {"params": [b], "lr": 0.02}], **kwargs)
    expected = _train(whole, W, b, X, Y, 7)

    W, b, X, Y = _tensors(autograd, arrays)
    first = getattr(optim, name)([{"params": [W]}, {"params": [b], "lr": 0.02}], **kwargs)
    _train(first, W, b, X, Y, 3)
    saved = first.state_dict()
    kept = copy.deepcopy(saved)
    _train(first, W, b, X, Y, 1)  # the saved dict holds copies: later steps leave it alone
    _assert_state_dicts_equal(saved, kept)

    W2 = autograd.tensor(expected[2][0], requires_grad=True)
    b2 = autograd.tensor(expected[2][1], requires_grad=True)
    resumed = getattr(optim, name)([{"params": [W2]}, {"params": [b2]}], lr=0.5)  # lr comes from the checkpoint
    resumed.load_state_dict(saved)
    assert resumed.param_groups[1]["lr"] == 0.02 and resumed.param_groups[0]["params"][0] is W2
    for key, value in saved["state"][0].items():  # loading copies: the checkpoint and the optimizer do not share
        value._data[...] = 123.0
        assert not np.any(resumed.state[W2][key]._data == 123.0)
    rest = _train(resumed, W2, b2, X, Y, 4)
    for got, want in zip(rest, expected[3:]):
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])


def _assert_state_dicts_equal(a, b):
    assert a["param_groups"] == b["param_groups"]
    assert a["state"].keys() == b["state"].keys()
    for index in a["state"]:
        assert a["state"][index].keys() == b["state"][index].keys()
        for key, value in a["state"][index].items():
            other = b["state"][index][key]
            if isinstance(value, autograd.Tensor):
                assert value.dtype == other.dtype
                np.testing.assert_array_equal(value._data, other._data)
            else:
                assert value == other


def test_state_dict_can_be_loaded_into_torch(oracle):
    arrays = _arrays(np.float64)
    W, b, X, Y = _tensors(autograd, arrays)
    ours = optim.Adam([W, b], lr=0.05)
    _train(ours, W, b, X, Y, 3)
    saved = ours.state_dict()
    state = {i: {k: v._data.copy() for k, v in s.items()} for i, s in saved["state"].items()}
    params = [W._data.copy(), b._data.copy()]

    def resume_in_torch(torch, state, param_groups, params, X, Y):
        converted = {
            "state": {i: {k: torch.tensor(v) for k, v in s.items()} for i, s in state.items()},
            "param_groups": param_groups,
        }
        Wt, bt = (torch.tensor(p, requires_grad=True) for p in params)
        theirs = torch.optim.Adam([Wt, bt])
        theirs.load_state_dict(converted)
        return _train(theirs, Wt, bt, torch.tensor(X), torch.tensor(Y), 3)

    t = oracle(resume_in_torch, state, saved["param_groups"], params, X._data, Y._data)
    a = _train(ours, W, b, X, Y, 3)
    for got, want in zip(a, t):
        np.testing.assert_allclose(got[0], want[0], **TOL[np.float64])


def test_load_state_dict_casts_to_the_parameter_dtype_and_accepts_a_plain_step():
    W = autograd.tensor(np.zeros(3), requires_grad=True)  # float64
    opt = optim.Adam([W])
    saved = {
        "state": {0: {"step": 2, "exp_avg": autograd.tensor([1.0, 2.0, 3.0]), "exp_avg_sq": np.ones(3)}},
        "param_groups": [{**opt.state_dict()["param_groups"][0]}],
    }
    opt.load_state_dict(saved)
    state = opt.state[W]
    assert state["step"].dtype == np.float32 and float(state["step"]._data) == 2.0
    assert state["exp_avg"].dtype == np.float64 and state["exp_avg_sq"].dtype == np.float64
    W.grad = autograd.tensor(np.ones(3))
    opt.step()
    assert float(opt.state[W]["step"]._data) == 3.0


@pytest.mark.parametrize(
    ("make_other", "match"),
    [
        (
            lambda W, b: [{"params": [W]}, {"params": [b]}],
            "different number of parameter groups: 2, but the optimizer has 1",
        ),
        (lambda W, b: [W], "group 0 has 1 parameters in the state dict and 2 in the optimizer"),
        (lambda W, b: [b, W], "'exp_avg' has shape \\(3,\\), but the parameter has shape \\(3, 4\\)"),
    ],
    ids=["groups", "sizes", "shapes"],
)
def test_load_state_dict_mismatch_raises_and_changes_nothing(make_other, match):
    arrays = _arrays(np.float32)
    W, b, X, Y = _tensors(autograd, arrays)
    opt = optim.Adam([W, b], lr=0.05)
    _train(opt, W, b, X, Y, 3)
    before, groups, state = opt.state_dict(), opt.param_groups, dict(opt.state)

    W2, b2, X2, Y2 = _tensors(autograd, arrays)
    other = optim.Adam(make_other(W2, b2), lr=0.5)
    _train(other, W2, b2, X2, Y2, 2)
    with pytest.raises(ValueError, match=match):
        opt.load_state_dict(other.state_dict())
    assert opt.param_groups is groups and dict(opt.state) == state
    _assert_state_dicts_equal(opt.state_dict(), before)


def test_load_state_dict_rejects_malformed_dicts():
    W = autograd.tensor(np.zeros(3), requires_grad=True)
    opt = optim.SGD([W], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="needs 'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})
    groups = opt.state_dict()["param_groups"]
    with pytest.raises(ValueError, match="state for parameter 5, which none of its parameter groups lists"):
        opt.load_state_dict({"state": {5: {"momentum_buffer": autograd.zeros(3)}}, "param_groups": groups})
    assert opt.state == {}


# ---------------------------------------------------------------------- errors
def _w():
    return autograd.tensor(np.ones((2, 2), np.float32), requires_grad=True)


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda: optim.SGD([], lr=0.1), ValueError, "optimizer got an empty parameter list"),
        (lambda: optim.SGD(_w(), lr=0.1), TypeError, "iterable of Tensors or dicts, but got a single Tensor"),
        (lambda: optim.SGD({_w()}, lr=0.1), TypeError, "ordered collections"),
        (lambda: optim.SGD([_w() * 2], lr=0.1), ValueError, "can't optimize a non-leaf Tensor: parameter 0"),
        (lambda: optim.SGD([autograd.tensor([1, 2])], lr=0.1), TypeError, "floating-point Tensors.*dtype int64"),
        (lambda: optim.SGD([[1.0, 2.0]], lr=0.1), TypeError, "can only optimize Tensors.*is a list"),
        (lambda: optim.SGD([_w()], lr=-0.1), ValueError, "Invalid learning rate: -0.1"),
        (lambda: optim.SGD([_w()], momentum=-0.5), ValueError, "Invalid momentum value: -0.5"),
        (lambda: optim.SGD([_w()], weight_decay=-1), ValueError, "Invalid weight_decay value: -1"),
        (
            lambda: optim.SGD([_w()], nesterov=True),
            ValueError,
            "Nesterov momentum requires.*momentum=0 and dampening=0",
        ),
        (lambda: optim.SGD([_w()], momentum=0.9, dampening=0.1, nesterov=True), ValueError, "dampening=0.1"),
        (lambda: optim.Adam([_w()], lr=-1e-3), ValueError, "Invalid learning rate: -0.001"),
        (lambda: optim.Adam([_w()], eps=-1e-8), ValueError, "Invalid epsilon value: -1e-08"),
        (lambda: optim.Adam([_w()], betas=(1.0, 0.999)), ValueError, "Invalid beta parameter at index 0: 1.0"),
        (lambda: optim.AdamW([_w()], betas=(0.9, -0.1)), ValueError, "Invalid beta parameter at index 1: -0.1"),
        (lambda: optim.Adam([_w()], betas=(0.9,)), ValueError, "betas must be a pair"),
        (lambda: optim.AdamW([_w()], weight_decay=-0.01), ValueError, "Invalid weight_decay value: -0.01"),
        (lambda: optim.RMSprop([_w()], alpha=-0.9), ValueError, "Invalid alpha value: -0.9"),
        (lambda: optim.RMSprop([_w()], momentum=-1), ValueError, "Invalid momentum value: -1"),
        (lambda: optim.RMSprop([_w()], eps=-1), ValueError, "Invalid epsilon value: -1"),
        (
            lambda: optim.SGD([{"params": [_w()]}, {"params": [_w()], "lr": -2}], lr=0.1),
            ValueError,
            "parameter group 1: Invalid learning rate: -2",
        ),
        (lambda: optim.SGD([{"params": [_w()]}, _w()], lr=0.1), TypeError, "param_group must be a dict"),
        (lambda: optim.SGD([{"lr": 0.1}], lr=0.1), ValueError, "needs a 'params' entry"),
    ],
)
def test_constructor_errors(build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_parameter_in_two_groups_and_duplicates():
    w = _w()
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1)
    opt = optim.SGD([w], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [w]})
    assert len(opt.param_groups) == 1
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([w, w], lr=0.1)


def test_base_optimizer_step_is_abstract():
    w = _w()
    base = optim.Optimizer([w], {"lr": 0.1})
    assert base.param_groups[0]["lr"] == 0.1 and base.param_groups[0]["params"][0] is w
    with pytest.raises(TypeError, match="Optimizer does not implement step"):
        base.step()

    class Lazy(optim.Optimizer):
        pass

    with pytest.raises(TypeError, match="Lazy does not implement step"):
        Lazy([w], {}).step()


def test_repr_lists_groups():
    text = repr(optim.SGD([_w()], lr=0.5, momentum=0.9))
    assert text.startswith("SGD (\nParameter Group 0\n") and "    lr: 0.5\n" in text and "params" not in text


def test_add_param_group_does_not_modify_the_given_dict():
    group = {"params": [_w()]}
    opt = optim.Adam([_w()], lr=0.1)
    opt.add_param_group(group)
    assert list(group) == ["params"] and opt.param_groups[1]["lr"] == 0.1


# ---------------------------------------------------------------------- no torch needed
@pytest.mark.parametrize(
    "make",
    [
        lambda p: optim.SGD(p, lr=0.05),
        lambda p: optim.SGD(p, lr=0.02, momentum=0.9),
        lambda p: optim.SGD(p, lr=0.02, momentum=0.9, nesterov=True),
    ],
    ids=["plain", "momentum", "nesterov"],
)
def test_sgd_converges_to_the_minimum_of_a_convex_quadratic(make):
    # f(w) = 1/2 w^T A w - c^T w, A symmetric positive definite: the minimum is A^{-1} c
    rng = np.random.default_rng(3)
    M = rng.standard_normal((5, 5))
    A_np = M @ M.T / 5 + np.eye(5)
    c_np = rng.standard_normal(5)
    A, c = autograd.tensor(A_np), autograd.tensor(c_np.reshape(5, 1))
    w = autograd.tensor(np.zeros((5, 1)), requires_grad=True)
    opt = make([w])
    for _ in range(2000):
        opt.zero_grad()
        loss = 0.5 * (w.T @ A @ w).sum() - (c * w).sum()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(w._data.ravel(), np.linalg.solve(A_np, c_np), atol=1e-8)


def test_adam_and_rmsprop_reach_the_minimum_too():
    for make in (lambda p: optim.Adam(p, lr=0.05), lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5)):
        w = autograd.tensor(np.array([3.0, -2.0]), requires_grad=True)
        opt = make([w])
        sched = lr_scheduler.StepLR(opt, step_size=200, gamma=0.3)
        for _ in range(1200):
            opt.zero_grad()
            ((w - autograd.tensor(np.array([1.0, 0.5]))) ** 2).sum().backward()
            opt.step()
            sched.step()
        np.testing.assert_allclose(w._data, [1.0, 0.5], atol=1e-3)


# ---------------------------------------------------------------------- schedulers
def _scheduled_lrs(lib, module, make_scheduler, steps, lrs=(0.1, 0.02)):
    params = [lib.tensor(np.ones(2), requires_grad=True) for _ in lrs]
    opt = module.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)])
    sched = make_scheduler(module.lr_scheduler, opt)
    out = [sched.get_last_lr()]
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append(sched.get_last_lr())
        assert out[-1] == [g["lr"] for g in opt.param_groups]
    return out, opt


SCHEDULERS = {
    "step": lambda m, opt: m.StepLR(opt, step_size=3, gamma=0.5),
    "step_default_gamma": lambda m, opt: m.StepLR(opt, 4),
    "cosine": lambda m, opt: m.CosineAnnealingLR(opt, T_max=10, eta_min=1e-3),
    "cosine_eta0": lambda m, opt: m.CosineAnnealingLR(opt, T_max=7),
}


@pytest.mark.parametrize("kind", list(SCHEDULERS))
def test_scheduler_values_match_torch(kind, oracle):
    ours, opt = _scheduled_lrs(autograd, optim, SCHEDULERS[kind], 25)
    theirs = oracle(lambda torch, kind: _scheduled_lrs(torch, torch.optim, SCHEDULERS[kind], 25)[0], kind)
    np.testing.assert_allclose(np.array(ours), np.array(theirs), rtol=1e-14, atol=1e-17)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.02]


def test_cosine_closed_form_matches_recursion():
    lrs, _ = _scheduled_lrs(autograd, optim, SCHEDULERS["cosine"], 25)
    t = np.arange(26)
    closed = 1e-3 + (np.array([0.1, 0.02])[None, :] - 1e-3) * (1 + np.cos(np.pi * t / 10))[:, None] / 2
    np.testing.assert_allclose(np.array(lrs), closed, rtol=1e-10)


def test_scheduler_resumed_with_last_epoch_matches_torch(oracle):
    def resumed(lib, module):
        p = lib.tensor(np.ones(2), requires_grad=True)
        opt = module.SGD([{"params": [p], "lr": 0.05, "initial_lr": 0.1}])
        sched = module.lr_scheduler.CosineAnnealingLR(opt, T_max=10, last_epoch=4)
        out = [sched.get_last_lr()]
        for _ in range(8):
            opt.step()
            sched.step()
            out.append(sched.get_last_lr())
        return out

    theirs = oracle(lambda torch: resumed(torch, torch.optim))
    np.testing.assert_allclose(resumed(autograd, optim), theirs, rtol=1e-14)


def test_scheduler_epoch_argument_uses_closed_form(oracle):
    def jump(lib, module):
        opt = module.SGD([lib.tensor(np.ones(2), requires_grad=True)], lr=0.1)
        out = []
        for sched in (module.lr_scheduler.StepLR(opt, 3, 0.5), module.lr_scheduler.CosineAnnealingLR(opt, 10)):
            opt.step()
            with pytest.warns(UserWarning):
                sched.step(7)
            out.append(sched.get_last_lr())
        return out

    np.testing.assert_allclose(jump(autograd, optim), oracle(lambda torch: jump(torch, torch.optim)), rtol=1e-14)


def test_scheduler_state_dict_round_trip():
    full, _ = _scheduled_lrs(autograd, optim, SCHEDULERS["cosine"], 12)

    p = autograd.tensor(np.ones(2), requires_grad=True)
    q = autograd.tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([{"params": [p], "lr": 0.1}, {"params": [q], "lr": 0.02}])
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=1e-3)
    for _ in range(5):
        opt.step()
        sched.step()
    saved_opt, saved_sched = opt.state_dict(), sched.state_dict()
    assert "optimizer" not in saved_sched and saved_sched["last_epoch"] == 5

    opt2 = optim.SGD([{"params": [p], "lr": 0.7}, {"params": [q], "lr": 0.7}])
    sched2 = lr_scheduler.CosineAnnealingLR(opt2, T_max=10, eta_min=1e-3)
    opt2.load_state_dict(saved_opt)  # after making the scheduler, which rewrites 'initial_lr' otherwise
    sched2.load_state_dict(saved_sched)
    assert sched2.get_last_lr() == full[5]
    for i in range(6, 13):
        opt2.step()
        sched2.step()
        assert sched2.get_last_lr() == pytest.approx(full[i], rel=1e-14)


def test_scheduler_errors():
    opt = optim.SGD([_w()], lr=0.1)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(opt, 3, last_epoch=5)
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        lr_scheduler.StepLR([], 3)
    with pytest.raises(ValueError, match="step_size must be a positive int, got 0"):
        lr_scheduler.StepLR(opt, 0)
    with pytest.raises(ValueError, match="T_max must be a positive number of steps, got -5"):
        lr_scheduler.CosineAnnealingLR(opt, -5)
    with pytest.raises(TypeError, match="LRScheduler does not implement get_lr"):
        lr_scheduler.LRScheduler(opt)


def test_training_with_a_scheduler_matches_torch(oracle):
    def run(lib, module, arrays):
        W, b, X, Y = _tensors(lib, arrays)
        opt = module.SGD([W, b], lr=0.02, momentum=0.9)
        sched = module.lr_scheduler.StepLR(opt, step_size=2, gamma=0.7)
        out = []
        for _ in range(8):
            out += _train(opt, W, b, X, Y, 1)
            sched.step()
        return out

    arrays = _arrays(np.float64)
    runs = [run(autograd, optim, arrays), oracle(lambda torch, a: run(torch, torch.optim, a), arrays)]
    for mine, ref in zip(*runs):
        for got, want in zip(mine, ref):
            np.testing.assert_allclose(got, want, **TOL[np.float64])


def test_a_wrong_gradient_shape_stops_the_step_before_anything_moves():
    for make in (lambda ps: nn.optim.SGD(ps, lr=0.1, momentum=0.9), lambda ps: nn.optim.Adam(ps, lr=0.1),
                 lambda ps: nn.optim.AdamW(ps, lr=0.1), lambda ps: nn.optim.RMSprop(ps, lr=0.1)):  # fmt: skip
        w = autograd.tensor([0.0, 1.0, 2.0], requires_grad=True)
        v = autograd.tensor([1.0, 1.0], requires_grad=True)
        opt = make([w, v])
        with pytest.raises(RuntimeError, match="attempting to assign a gradient of size"):
            v.grad = autograd.ones(4)  # refused where it is assigned, as in PyTorch
        w.grad, v._grad = autograd.ones(3), autograd.ones(4)  # (as if something wrote it anyway)
        with pytest.raises(
            RuntimeError, match=r"parameter 1 of group 0 has shape \(2,\) but its .grad has shape \(4,\)"
        ):
            opt.step()
        assert w.tolist() == [0.0, 1.0, 2.0] and not opt.state  # nothing moved, no state
        v._grad = autograd.ones(1)  # would broadcast silently
        with pytest.raises(RuntimeError, match="shape"):
            opt.step()


def test_loading_bad_optimizer_state_changes_nothing():
    w = autograd.tensor([0.0, 1.0, 2.0], requires_grad=True)
    opt = nn.optim.Adam([w], lr=0.1)
    w.grad = autograd.ones(3)
    opt.step()
    good = opt.state_dict()
    bad_lr = {**good, "param_groups": [{**good["param_groups"][0], "lr": -5}]}
    bad_betas = {**good, "param_groups": [{**good["param_groups"][0], "betas": "xy"}]}
    zero_d = {**good, "state": {0: {**good["state"][0], "exp_avg": autograd.tensor(1.0)}}}
    as_list = {**good, "state": {0: {**good["state"][0], "exp_avg": [1.0, 2.0, 3.0]}}}
    vector_step = {**good, "state": {0: {**good["state"][0], "step": autograd.ones(2)}}}
    for bad, message in [(bad_lr, "learning rate"), (bad_betas, "wrong type"), (zero_d, "shape"),
                         (as_list, "must be a tensor"), (vector_step, "one number")]:  # fmt: skip
        with pytest.raises(ValueError, match=message):
            opt.load_state_dict(bad)
        assert opt.state_dict()["param_groups"] == good["param_groups"]
        assert opt.state[w]["step"].item() == 1.0
    with pytest.raises(ValueError, match=r"SGD\(\): a hyperparameter has the wrong type"):
        nn.optim.SGD([w], lr="0.1")
    with pytest.raises(ValueError, match="wrong type"):
        nn.optim.Adam([w], betas=0.9)
