"""Scalar: every op's value and gradient, against math and against the Tensor engine."""

import gc
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd
from autograd import Scalar

finite = st.floats(-3, 3, allow_nan=False)
positive = st.floats(0.1, 3)


def numeric(f, x, eps=1e-6):
    return (f(x + eps) - f(x - eps)) / (2 * eps)


UNARY = {
    "exp": (lambda s: s.exp(), math.exp, finite),
    "log": (lambda s: s.log(), math.log, positive),
    "tanh": (lambda s: s.tanh(), math.tanh, finite),
    "sigmoid": (lambda s: s.sigmoid(), lambda v: 1 / (1 + math.exp(-v)), finite),
    "relu": (lambda s: s.relu(), lambda v: max(v, 0.0), finite.filter(lambda v: abs(v) > 1e-3)),
    "pow3": (lambda s: s**3, lambda v: v**3, finite),
    "pow-0.5": (lambda s: s**-0.5, lambda v: v**-0.5, positive),
    "neg": (lambda s: -s, lambda v: -v, finite),
    "rsub": (lambda s: 2 - s, lambda v: 2 - v, finite),
    "rdiv": (lambda s: 2 / s, lambda v: 2 / v, positive),
    "scale": (lambda s: s * 3 / 4 + 1 - 0.5, lambda v: v * 3 / 4 + 1 - 0.5, finite),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary_value_and_gradient(name, data):
    op, ref, values = UNARY[name]
    v = data.draw(values)
    x = Scalar(v)
    y = op(x)
    y.backward()
    assert y.data == pytest.approx(ref(v), rel=1e-12, abs=1e-12)
    assert x.grad == pytest.approx(numeric(ref, v), rel=1e-5, abs=1e-6)


@given(finite, finite.filter(lambda v: abs(v) > 0.1))
def test_binary_gradients(a, b):
    for op in (lambda x, y: x + y, lambda x, y: x - y, lambda x, y: x * y, lambda x, y: x / y):
        x, y = Scalar(a), Scalar(b)
        op(x, y).backward()
        assert x.grad == pytest.approx(numeric(lambda t, op=op: op(t, b), a), rel=1e-5, abs=1e-6)
        assert y.grad == pytest.approx(numeric(lambda t, op=op: op(a, t), b), rel=1e-5, abs=1e-6)


@given(st.lists(finite, min_size=3, max_size=3))
def test_scalar_matches_tensor_engine(vals):
    def f(a, b, c):
        return ((a * b + c).tanh() * a - b / 3).sigmoid() + (c * c).exp() * 0.1

    s = [Scalar(v) for v in vals]
    f(*s).backward()
    t = [autograd.tensor(v, dtype=autograd.float64, requires_grad=True) for v in vals]
    out = f(*t)
    out.backward()
    assert f(*s).data == pytest.approx(out.item(), rel=1e-12)
    np.testing.assert_allclose([x.grad for x in s], [x.grad.item() for x in t], rtol=1e-10, atol=1e-12)


def test_input_used_twice_and_intermediate_grads():
    a = Scalar(3.0)
    b = a * a + a  # db/da = 2a + 1
    b.backward()
    assert a.grad == 7.0
    assert b.grad == 1.0


def test_sigmoid_is_stable():
    for v in (-1e3, 1e3):
        x = Scalar(v)
        y = x.sigmoid()
        y.backward()
        assert math.isfinite(y.data) and x.grad == 0.0


def test_zero_grad_and_accumulation():
    a = Scalar(2.0)
    (a * 3).backward()
    (a * 3).backward()
    assert a.grad == 6.0
    b = a * 3
    b.zero_grad()
    assert a.grad == 0.0


def test_op_names_and_repr():
    a, b = Scalar(1.0, label="a"), Scalar(2.0)
    assert (a * b).op == "*" and (a + b).op == "+" and a.sigmoid().op == "sigmoid" and a.op == ""
    assert a.is_leaf and not (a + 1).is_leaf
    assert repr(a) == "Scalar(a=1, grad=0)"


def test_scalar_exponent_is_rejected():
    with pytest.raises(TypeError, match="exp"):
        Scalar(2.0) ** Scalar(3.0)


IEEE_CASES = {  # name: (program for a Scalar or a torch tensor, input)
    "sqrt at 0": (lambda v: v**0.5, 0.0),  # gradient inf
    "log at 0": (lambda v: v.log(), 0.0),  # -inf
    "log at -1": (lambda v: v.log(), -1.0),  # nan
    "exp at 1000": (lambda v: v.exp(), 1000.0),  # overflow: inf
    "sqrt at -4": (lambda v: v**0.5, -4.0),  # nan, not a complex number
    "1/v at 0": (lambda v: 1 / v, 0.0),
    "v/0": (lambda v: v / 0.0, 2.0),
    "v**-1 at 0": (lambda v: v**-1, 0.0),
    "cube at -1e200": (lambda v: v**3, -1e200),  # -inf
    "2**v": (lambda v: 2**v, 3.0),  # c ** x
    "0.5**v": (lambda v: 0.5**v, -2.0),
}


@pytest.mark.parametrize("case", list(IEEE_CASES))
def test_floats_follow_ieee_like_torch(oracle, case):
    """Where Python's float raises (ZeroDivisionError, OverflowError, math domain error, a
    complex result), a Scalar gives inf or nan as PyTorch does, in values and gradients."""
    fn, x = IEEE_CASES[case]
    s = Scalar(x)
    y = fn(s)
    y.backward()

    def value_and_gradient(torch, case, x):
        t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        u = IEEE_CASES[case][0](t)
        u.backward()
        return np.array([u.item(), t.grad.item()])  # an array: inf and nan compare as such when live

    theirs = oracle(value_and_gradient, case, x)
    np.testing.assert_allclose([y.data, s.grad], theirs, rtol=1e-12)


def test_reflected_subtraction_and_power_are_their_own_gates():
    a = Scalar(2.0)
    b = 3 - a
    c = 2**b
    c.backward()
    assert (b.op, b.data, c.op, c.data) == ("-", 1.0, "**", 2.0)
    assert a.grad == pytest.approx(-2.0 * math.log(2.0))  # d/da 2^(3 - a)


def test_nan_and_zero_base_edges_match_torch(oracle):
    bases = (1.5, 0.0)

    def gradients(torch, bases):
        r = torch.tensor(float("nan"), dtype=torch.float64, requires_grad=True)
        torch.relu(r).backward()
        zero_base = []
        for x in bases:
            t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
            (0**t).backward()
            zero_base.append(t.grad.item())
        return r.grad.item(), zero_base

    r = Scalar(float("nan"))
    out = r.relu()
    out.backward()
    their_relu_grad, their_zero_base_grads = oracle(gradients, bases)
    assert math.isnan(out.data) and r.grad == their_relu_grad == 1.0
    for x, their_grad in zip(bases, their_zero_base_grads, strict=True):
        s = Scalar(x)
        (0**s).backward()
        assert s.grad == their_grad == 0.0


# ---------------------------------------------------------------- what a graph costs the collector


def test_an_operation_adds_one_object_and_no_reference_cycle():
    """A gate allocates only its output node (no tuple of parents, no closure), so Python's cyclic
    collector has one new object per operation to look at; backward keeps nothing new; and the
    graph has no reference cycle: dropping it frees everything, leaving the collector nothing."""
    was_enabled = gc.isenabled()
    gc.disable()  # (the test counts allocations; the setting is restored below)
    try:
        gc.collect()
        w = Scalar(0.5)
        before = gc.get_count()[0]  # new container objects minus those freed since the last collection
        y = Scalar(1.0)
        for k in range(1000):
            y = (y * w + k).tanh()
        made = gc.get_count()[0] - before
        assert 3001 <= made <= 3001 + 5  # 3 gates a step, and the leaf
        y.backward()
        assert gc.get_count()[0] - before - made < 100  # (a few, whatever the graph's size: freelists)
        del y
        assert gc.collect() == 0
    finally:
        if was_enabled:
            gc.enable()


def test_a_gate_sets_every_field_a_leaf_has():
    x = Scalar(1.5, label="x")
    made = [x + x, x + 1, x - x, x - 1, 2 - x, -x, x * x, x * 2, x / x, x / 2, 2 / x, x**2, 2**x]
    made += [x.exp(), x.log(), x.tanh(), x.sigmoid(), x.relu()]
    for node in [x, *made]:
        fields = {name: getattr(node, name) for name in Scalar.__slots__}  # none left unset
        assert type(fields["data"]) is float and fields["grad"] == 0.0 and fields["_released"] is False
        assert (fields["_seq"] > 0) == (fields["_a"] is not None) == (node is not x)


def test_a_number_operand_of_any_type_gives_a_float_value():
    x = Scalar(1.5)
    made = [x + np.float32(1), x - np.int64(2), x * np.float32(3), x / np.float64(4), x ** np.int64(2)]
    made += [x.__rsub__(np.float32(2)), x.__rtruediv__(np.float32(3)), x.__rpow__(np.float32(2))]
    assert all(type(node.data) is float for node in made)
    assert [node.data for node in made] == [2.5, -0.5, 4.5, 0.375, 2.25, 0.5, 2.0, float(np.float32(2) ** 1.5)]
