"""Mistakes a learner porting PyTorch code makes get an error that says the fix.

The exception types are PyTorch's for the same call (RuntimeError for a device or a called
Function instance, ValueError for unpacking saved tensors that were never saved); the texts add
what to write instead.
"""

import numpy as np
import pytest

import autograd
import nn
from autograd import Function


class Mul(Function):
    """A multiply gate that forgets to save its inputs."""

    @staticmethod
    def forward(ctx, x, y):
        return x * y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return grad * y, grad * x


def test_to_cpu_is_accepted_and_keeps_the_tensor():
    x = autograd.ones(2, 3)
    assert x.to("cpu") is x and x.cpu() is x and x.to(device="cpu") is x
    assert x.to("cpu", autograd.float64).dtype == np.float64
    assert x.to("cpu:0", dtype=autograd.float64).dtype == np.float64
    assert x.to(autograd.zeros(1, dtype=autograd.float64)).dtype == np.float64
    copy = x.to("cpu", copy=True)
    assert copy is not x and np.array_equal(copy.numpy(), x.numpy())


def test_to_keeps_gradients_flowing():
    x = autograd.tensor([1.0, 2.0], requires_grad=True)
    (x.to("cpu", autograd.float64) * 3).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [3.0, 3.0]


@pytest.mark.parametrize("call", [lambda x: x.to("cuda"), lambda x: x.to("cuda:0"), lambda x: x.to(device="mps"),
                                  lambda x: x.cuda()], ids=["to-cuda", "to-cuda0", "to-mps", "cuda"])  # fmt: skip
def test_a_gpu_device_says_dagrad_runs_on_the_cpu(call):
    with pytest.raises(RuntimeError, match=r"numpy on the CPU only: there is no '(cuda|cuda:0|mps)' device\. Remove"):
        call(autograd.ones(2))


def test_an_unknown_device_string_gets_pytorchs_words():
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda, .* device type at start of device string: gpu"):
        autograd.ones(2).to("gpu")


def test_modules_move_to_the_cpu_and_refuse_a_gpu():
    model = nn.Linear(3, 2)
    weight = model.weight
    assert model.to("cpu") is model and model.cpu() is model and model.weight is weight
    assert model.to("cpu", autograd.float64).weight.dtype == np.float64
    with pytest.raises(RuntimeError, match=r"no 'cuda' device\. Remove \.cuda\(\)"):
        model.cuda()
    with pytest.raises(RuntimeError, match="no 'cuda:1' device"):
        model.to("cuda:1")
    assert model.weight.dtype == np.float64  # a refused move changes nothing


def test_calling_a_function_instance_says_use_apply():
    x = autograd.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Mul\(\) is not called directly: use Mul\.apply\(\.\.\.\)"):
        Mul()(x, x)


def test_unpacking_saved_tensors_that_were_never_saved_says_save_for_backward():
    x = autograd.ones(2, requires_grad=True)
    y = Mul.apply(x, x).sum()
    with pytest.raises(
        ValueError, match=r"not enough values to unpack .*call ctx\.save_for_backward\(\.\.\.\) in forward"
    ):
        y.backward()


def test_other_unpacking_errors_in_backward_pass_through_unchanged():
    class Saves(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved_tensors  # one saved, two unpacked: the user's own bug, Python's words
            return grad

    with pytest.raises(ValueError, match=r"^not enough values to unpack \(expected 2, got 1\)$"):
        Saves.apply(autograd.ones(2, requires_grad=True)).sum().backward()
