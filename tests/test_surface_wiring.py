"""The names a renamed PyTorch program reaches first: devices, module imports, factories' device=,
next_functions, default dtypes in division and sampling, save/load and erf from ``autograd``."""

import numpy as np
import pytest

import autograd


def test_device_objects_and_factories_on_the_cpu():
    device = autograd.device("cuda" if autograd.cuda.is_available() else "cpu")
    assert str(device) == "cpu" and autograd.ones(2).device == device and not autograd.ones(2).is_cuda
    for make in (lambda: autograd.zeros(2, device=device), lambda: autograd.tensor([1.0], device="cpu"),
                 lambda: autograd.randn(2, device=device), lambda: autograd.arange(3, device=device)):  # fmt: skip
        assert make().device == device
    x = autograd.ones(2)
    assert x.to(device) is x and x.to(device, autograd.float64).dtype == np.float64
    with pytest.raises(RuntimeError, match="numpy on the CPU only: there is no 'cuda' device. Remove device="):
        autograd.ones(2, device="cuda")
    with pytest.raises(RuntimeError, match="there is no 'cuda:1' device"):
        x.to(autograd.device("cuda:1"))
    assert not autograd.backends.mps.is_available()


def test_modules_import_as_in_pytorch():
    import autograd.nn as nn
    import autograd.nn.functional as F
    import autograd.optim as optim
    from autograd.optim.lr_scheduler import StepLR

    import nn as dagrad_nn
    from autograd.utils.data import DataLoader, TensorDataset

    assert nn is dagrad_nn and F.relu is dagrad_nn.functional.relu and optim.SGD is dagrad_nn.optim.SGD
    assert StepLR is dagrad_nn.optim.lr_scheduler.StepLR and DataLoader is dagrad_nn.data.DataLoader
    assert TensorDataset is dagrad_nn.data.TensorDataset


def test_next_functions_as_pytorch():
    x = autograd.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2 + x.exp()
    (mul, _), (exp, _) = y.grad_fn.next_functions
    assert mul.name() == "MulBackward" and exp.name() == "ExpBackward"
    (leaf, zero), (none, _) = mul.next_functions
    assert leaf.name() == "torch::autograd::AccumulateGrad" and leaf.variable is x and zero == 0 and none is None


def test_the_default_dtype_reaches_division_and_sampling():
    autograd.set_default_dtype(autograd.float64)
    try:
        assert (autograd.tensor([3]) / autograd.tensor([2])).dtype == np.float64
        assert autograd.rand(2).dtype == np.float64 and autograd.randn(2).dtype == np.float64
    finally:
        autograd.set_default_dtype(autograd.float32)
    assert (autograd.tensor([3]) / autograd.tensor([2])).dtype == np.float32 and autograd.rand(2).dtype == np.float32


def test_save_load_erf_and_inference_mode_from_autograd(tmp_path):
    state = {"w": autograd.arange(4.0), "step": 3}
    autograd.save(state, tmp_path / "state.pt")
    loaded = autograd.load(tmp_path / "state.pt")
    assert loaded["step"] == 3 and loaded["w"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert autograd.erf(autograd.tensor([0.0])).item() == 0.0
    with autograd.inference_mode():
        assert not (autograd.ones(2, requires_grad=True) * 2).requires_grad


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "max", "min", "argmax", "argmin", "all", "any", "prod"])
def test_numpy_style_axis_and_keepdims(name):
    x = autograd.tensor(np.arange(1.0, 7.0).reshape(2, 3))
    by_alias = getattr(x, name)(axis=1, keepdims=True)
    by_name = getattr(x, name)(dim=1, keepdim=True)

    def values(result):
        return result.values if hasattr(result, "values") else result  # (max/min along a dim: a pair)

    assert values(by_alias).shape == (2, 1) and values(by_alias).tolist() == values(by_name).tolist()
    with pytest.raises(TypeError, match="does not support out="):
        getattr(x, name)(dim=0, out=None)
