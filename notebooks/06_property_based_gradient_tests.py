# %% [markdown]
# # Property-based gradient tests
#
# A test with one hand-picked input checks one point. A **property-based test** states
# something that must hold for *every* input, such as "the analytic gradient matches finite
# differences". The [hypothesis](https://hypothesis.readthedocs.io) library then generates
# many inputs to look for a counterexample. When it finds one, it *shrinks* it to the
# simplest input that still fails, which is usually enough to see the bug.
#
# `autograd.testing` provides hypothesis strategies for tensors and for the shapes that
# gradient tests need:
#
# | strategy | draws |
# |---|---|
# | `tensors(shape=None, low=-3, high=3)` | a float64 tensor with `requires_grad=True` |
# | `shapes(min_dims, max_dims, ...)` | array shapes, `()` included |
# | `broadcastable_pair()` | two shapes that broadcast together |
# | `tensor_pair(shapes_strategy)` | two tensors, shapes from the strategy (default: broadcastable) |
# | `matmul_shapes()` | two shapes valid for `matmul` (vectors, matrices, batches) |
# | `conv_cases()` | a valid conv2d geometry: channels, groups, kernel, stride, padding, dilation, size |
#
# In a test file you decorate a test function with `@given(...)` and pytest runs it. Here
# we call the decorated functions directly. The settings make every run draw the same
# examples: `derandomize=True`, no example database, and no deadline.

# %%
import numpy as np
from hypothesis import HealthCheck, Phase, given, settings

import autograd
from autograd import Function, gradcheck, gradgradcheck
from autograd.testing import broadcastable_pair, conv_cases, matmul_shapes, shapes, tensor_pair, tensors

# deterministic runs; the "explain" phase is left out because it prints file paths
SAME_EVERY_RUN = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=30,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow],  # slow machines must not fail the notebook
)

# %% [markdown]
# ## 1. What the strategies draw
#
# Here are the first few examples of three strategies. Small shapes, size-1 dimensions
# and 0-d tensors come up early, because those are the cases where shape bugs show.


# %%
def first_examples(strategy, n=6):
    seen = []

    @settings(SAME_EVERY_RUN, max_examples=n)
    @given(strategy)
    def collect(value):
        seen.append(value)

    collect()
    return seen


print("shapes():            ", first_examples(shapes()))
print("broadcastable_pair():", first_examples(broadcastable_pair()))
print("matmul_shapes():     ", first_examples(matmul_shapes()))
for case in first_examples(conv_cases(), 3):
    print("conv_cases():         input", case.input_shape, "weight", case.weight_shape, case.kwargs)

# %% [markdown]
# ## 2. A custom op and its property tests
#
# Softplus, log(1 + e^x), is a smooth version of ReLU. Its derivative is sigmoid(x). The
# forward uses `np.logaddexp(0, x)`, which computes log(e^0 + e^x) without overflowing
# for large x. (A `forward` may return a numpy array.)


# %%
class Softplus(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0.0, x.detach().numpy())

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.sigmoid()  # d/dx log(1 + e^x) = sigmoid(x), stable for any x


softplus = Softplus.apply

# %% [markdown]
# The property is "gradcheck passes" for any tensor. We use a wide range of values, from
# -1000 to 1000, because extreme values are where numerical code breaks. A second property
# checks second derivatives, and a third checks maths the op must satisfy whatever its
# implementation: softplus(x) - softplus(-x) = x, and softplus(x) >= relu(x).


# %%
@SAME_EVERY_RUN
@given(tensors(low=-1000, high=1000))
def test_softplus_gradient(x):
    assert gradcheck(softplus, (x,))


@SAME_EVERY_RUN
@given(tensors(shape=shapes(max_dims=2)))
def test_softplus_second_derivative(x):
    assert gradgradcheck(softplus, (x,))


@SAME_EVERY_RUN
@given(tensors(low=-1000, high=1000))
def test_softplus_identities(x):
    y = softplus(x)
    np.testing.assert_allclose((y - softplus(-x)).detach().numpy(), x.detach().numpy(), atol=1e-9)
    assert (y >= x.relu()).all()


test_softplus_gradient()
test_softplus_second_derivative()
test_softplus_identities()
print("Softplus: all three properties hold on every example")

# %% [markdown]
# The other strategies are used the same way. Any op that broadcasts must sum its gradient
# back to each input's shape (`autograd.unbroadcast` does that). Here `broadcastable_pair`
# shapes, through `tensor_pair`, check that for a custom product op. `matmul_shapes` and
# `conv_cases` check the built-in `matmul` and `conv2d` the same way.


# %%
class Mul(Function):
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return autograd.unbroadcast(grad * y, x.shape, x.dtype), autograd.unbroadcast(grad * x, y.shape, y.dtype)


@SAME_EVERY_RUN
@given(tensor_pair())  # shapes from broadcastable_pair()
def test_mul_broadcasting(pair):
    assert gradcheck(Mul.apply, pair)


@SAME_EVERY_RUN
@given(tensor_pair(matmul_shapes()))
def test_matmul(pair):
    assert gradcheck(autograd.matmul, pair)


@settings(SAME_EVERY_RUN, max_examples=10)
@given(conv_cases())
def test_conv2d(case):
    rng = np.random.default_rng(0)
    x = autograd.tensor(rng.standard_normal(case.input_shape), requires_grad=True)
    w = autograd.tensor(rng.standard_normal(case.weight_shape), requires_grad=True)
    assert gradcheck(lambda x, w: autograd.conv2d(x, w, **case.kwargs), (x, w), fast_mode=True)


test_mul_broadcasting()
test_matmul()
test_conv2d()
print("Mul, matmul and conv2d pass on every drawn shape")

# %% [markdown]
# ## 3. A wrong backward, found and shrunk
#
# Here is a backward that looks right: sigmoid(x) written out as e^x / (1 + e^x). It is
# the same function on paper. On a computer, e^x overflows to infinity for x above about
# 709.78, and inf / inf is NaN. A test at x = 1 or x = 5 would pass.


# %%
class NaiveSoftplus(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0.0, x.detach().numpy())

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        e = x.exp()
        return grad * e / (1 + e)  # sigmoid on paper, NaN for x > 709.78


assert gradcheck(NaiveSoftplus.apply, (autograd.tensor([1.0, 5.0], dtype=autograd.float64, requires_grad=True),))
print("the hand-picked test passes")

# %% [markdown]
# Now the same property test as for `Softplus`. We record every input it tries, because
# hypothesis runs the minimal failing example once more at the end, so the last input
# tried is the shrunk one.

# %%
tried = []


@settings(SAME_EVERY_RUN, max_examples=100)
@given(tensors(low=-1000, high=1000))
def test_naive_softplus_gradient(x):
    tried.append(x)
    with np.errstate(over="ignore", invalid="ignore"):  # numpy would warn about the overflow
        assert gradcheck(NaiveSoftplus.apply, (x,))


try:
    test_naive_softplus_gradient()
    raise AssertionError("hypothesis should have found the overflow")
except autograd.GradcheckError as e:
    error = e

print(error)
print()
print(*[note for note in getattr(error, "__notes__", []) if "test_naive_softplus_gradient(" in note], sep="\n")

# %% [markdown]
# Hypothesis first found some failing tensor, possibly large and full of random values.
# It then shrank it: fewer dimensions, fewer elements, simpler numbers, keeping only the
# changes after which the test still failed. The result is a single 0-d tensor just past
# the overflow threshold. The message names the bug: the numerical gradient is 1 (for
# large x softplus is x) and the analytic one is NaN.

# %%
minimal = tried[-1]
print(f"{len(tried)} examples tried; the minimal one: {minimal!r}")
assert minimal.numel() == 1 and 709.78 < minimal.item() <= 710
assert "analytic:  nan" in str(error)

# %% [markdown]
# ## In your own test suite
#
# Put the same code in a test file and pytest runs it; a `conftest.py` can set the
# hypothesis settings for the whole suite (this repository's `tests/conftest.py` registers
# a derandomized "ci" profile):
#
# ```python
# # tests/test_my_ops.py
# from hypothesis import given
#
# import autograd
# from autograd.testing import tensors
# from my_ops import Softplus
#
#
# @given(tensors(low=-1000, high=1000))
# def test_softplus_gradient(x):
#     assert autograd.gradcheck(Softplus.apply, (x,))
# ```
#
# **To remember:** state the property (the gradient matches finite differences, an
# identity holds), let hypothesis look for counterexamples over shapes and values, and
# read the shrunk example it reports.
