"""viz.monitor (training health while training) and nn.summary (the layer table).

The monitor's numbers are checked against statistics computed by hand with numpy on a tiny
Linear-Tanh-Linear-Sigmoid model with fixed weights; nn.summary's against parameter and
multiply-add counts worked out by hand for Linear, Conv2d, pooling and nested models.
"""

import importlib
import io
import re

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

import autograd
import nn
from nn.summary import ModelSummary
from viz.monitor import Monitor, distribution, monitor

# (the module itself: once viz exports the function `monitor`, the attribute viz.monitor is that function)
monitor_module = importlib.import_module("viz.monitor")

# ---------------------------------------------------------------------------------------------
# A tiny model with fixed weights, and every statistic the monitor reports, computed by hand.

X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.3, -2.0], [2.0, 1.0]])
W1 = np.array([[1.5, 0.5], [-1.0, 2.0], [0.2, -0.3]])
B1 = np.array([0.1, -0.2, 0.0])
W2 = np.array([[2.0, -3.0, 1.5]])
B2 = np.array([0.5])
C = np.array([[1.0], [2.0], [-1.0], [0.5]])  # loss = sum(C * y): dloss/dy = C
LR = 0.1


def tiny_model() -> nn.Sequential:
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1), nn.Sigmoid()).double()
    for p, value in zip(model.parameters(), (W1, B1, W2, B2)):
        p.data.copy_(autograd.tensor(value))
    return model


def by_hand() -> dict:
    """Forward and backward of the tiny model in numpy: activations and gradients."""
    h = np.tanh(X @ W1.T + B1)
    y = 1 / (1 + np.exp(-(h @ W2.T + B2)))
    dz2 = C * y * (1 - y)
    dh = dz2 @ W2
    dz1 = dh * (1 - h**2)
    return {"h": h, "y": y, "dy": C, "dh": dh, "dW2": dz2.T @ h, "dW1": dz1.T @ X}


def train_step(model, optimizer):
    optimizer.zero_grad()
    y = model(autograd.tensor(X))
    (y * autograd.tensor(C)).sum().backward()
    optimizer.step()


def test_the_hand_computed_example_has_saturated_and_unsaturated_units():
    # (otherwise the saturation checks below could not tell a right count from a wrong one)
    ref = by_hand()
    assert 0 < np.mean(np.abs(ref["h"]) > 0.97) < 1
    assert 0 < np.mean((ref["y"] < 0.03) | (ref["y"] > 0.97)) < 1


def test_activation_statistics_match_hand_computed_values():
    model = tiny_model()
    ref = by_hand()
    with monitor(model, live=False) as mon:
        model(autograd.tensor(X))
    assert list(mon.layers) == ["1", "3"]  # the nonlinearities, by default
    tanh, sig = mon.activations["1"], mon.activations["3"]
    np.testing.assert_allclose([tanh.mean, tanh.std], [ref["h"].mean(), ref["h"].std()], rtol=1e-12)
    np.testing.assert_allclose([sig.mean, sig.std], [ref["y"].mean(), ref["y"].std()], rtol=1e-12)
    assert tanh.saturated == pytest.approx(np.mean(np.abs(ref["h"]) > 0.97))
    assert sig.saturated == pytest.approx(np.mean((ref["y"] < 0.03) | (ref["y"] > 0.97)))


def test_activation_gradients_grad_to_data_and_update_to_data_match_a_hand_computed_sgd_step():
    model = tiny_model()
    ref = by_hand()
    optimizer = nn.optim.SGD(model.parameters(), lr=LR)
    mon = monitor(model, optimizer, live=False)
    train_step(model, optimizer)  # the wrapped optimizer calls mon.step()
    mon.detach()

    assert mon.steps == 1 and mon.update_steps == [0] and mon.recorded_step == 0
    for name, grad in (("1", ref["dh"]), ("3", ref["dy"])):
        d = mon.activation_grads[name]
        np.testing.assert_allclose([d.mean, d.std], [grad.mean(), grad.std()], rtol=1e-12)

    assert list(mon.weights) == ["0.weight", "2.weight"]  # 2-d weights, not the biases
    for name, w, dw in (("0.weight", W1, ref["dW1"]), ("2.weight", W2, ref["dW2"])):
        stats = mon.weight_grads[name]
        assert stats.shape == w.shape
        assert stats.data_std == pytest.approx(w.std(), rel=1e-12)  # the weight before the step
        assert stats.grad.std == pytest.approx(dw.std(), rel=1e-12)
        assert stats.grad_to_data == pytest.approx(dw.std() / w.std(), rel=1e-12)
        # SGD's update is -lr * grad
        assert mon.updates[name] == [pytest.approx(np.log10(LR * dw.std() / w.std()), rel=1e-9)]
    np.testing.assert_allclose(model[0].weight.detach().numpy(), W1 - LR * ref["dW1"], rtol=1e-12)


def test_step_without_a_wrapped_optimizer_and_every_n_steps():
    model = tiny_model()
    optimizer = nn.optim.SGD(model.parameters(), lr=LR)
    mon = monitor(model, every=2, live=False)
    for _ in range(5):
        train_step(model, optimizer)
        mon.step()
    assert mon.steps == 5
    assert mon.update_steps == [0, 2, 4]  # recorded on every second step
    assert all(len(v) == 3 for v in mon.updates.values())
    assert mon.recorded_step == 4

    model(autograd.tensor(X))  # step 5 is not recorded: the hooks return at once
    assert mon.recorded_step == 4
    with autograd.no_grad():  # evaluation passes never count
        for _ in range(2):
            mon.step()
        model(autograd.tensor(X + 1))
    assert mon.recorded_step == 4


def test_evaluation_passes_are_ignored():
    model = tiny_model()
    mon = monitor(model, live=False)
    model.eval()
    model(autograd.tensor(X))
    assert mon.activations == {}
    with autograd.no_grad():
        model.train()(autograd.tensor(X))
    assert mon.activations == {}
    model(autograd.tensor(X))
    assert set(mon.activations) == {"1", "3"}


def test_relu_counts_zeros_and_other_layers_have_no_saturation():
    model = nn.Sequential(nn.Linear(2, 4, bias=False), nn.ReLU(), nn.Linear(4, 4), nn.LeakyReLU()).double()
    w = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.001, 0.0]])  # the last unit: tiny but not zero
    model[0].weight.data.copy_(autograd.tensor(w))
    with monitor(model, live=False) as mon:
        model(autograd.tensor(X))
    out = np.maximum(X @ w.T, 0)
    assert 0 < np.mean((out > 0) & (out < 0.01))
    assert mon.activations["1"].saturated == pytest.approx(np.mean(out == 0))
    assert mon.activations["3"].saturated is None


def test_layers_default_to_leaf_modules_without_nonlinearities_and_can_be_chosen():
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    assert list(Monitor(model).layers) == ["0", "1"]
    assert list(Monitor(model, layers=[model[1]]).layers) == ["1"]
    assert list(Monitor(model, weights=[model[0].bias]).weights) == ["0.bias"]
    with pytest.raises(ValueError, match="not a submodule of the model"):
        Monitor(model, layers=[nn.ReLU()])
    with pytest.raises(ValueError, match="not a parameter of the model"):
        Monitor(model, weights=[nn.Linear(2, 2).weight])
    with pytest.raises(ValueError, match="every must be a positive int"):
        Monitor(model, every=0)
    with pytest.raises(TypeError, match="needs an nn.Module"):
        Monitor(model.parameters())


def all_hooks(model):
    return [h for m in model.modules() for h in (*m._forward_hooks.values(), *m._forward_pre_hooks.values())]


def test_detach_leaves_no_hooks_and_restores_the_optimizer():
    model = tiny_model()
    optimizer = nn.optim.SGD(model.parameters(), lr=LR)
    mon = Monitor(model, optimizer, live=False)
    assert all_hooks(model) == [] and not mon.attached
    with mon:
        assert len(all_hooks(model)) == 2 and mon.attached
        assert "step" in vars(optimizer)  # the wrapper
        mon.attach()  # attaching twice changes nothing
        assert len(all_hooks(model)) == 2
        train_step(model, optimizer)
    assert all_hooks(model) == [] and not mon.attached
    assert "step" not in vars(optimizer)  # the class's own step() again
    before = (mon.steps, len(mon.update_steps), dict(mon.activations))
    train_step(model, optimizer)
    assert (mon.steps, len(mon.update_steps), dict(mon.activations)) == before


def test_one_optimizer_is_wrapped_by_one_monitor_at_a_time():
    model = tiny_model()
    optimizer = nn.optim.SGD(model.parameters(), lr=LR)
    first = monitor(model, optimizer, live=False)
    with pytest.raises(RuntimeError, match="SGD.step is already wrapped"):
        monitor(model, optimizer, live=False)
    assert len(all_hooks(model)) == 2  # the refused monitor put no hooks in place
    second = monitor(model, live=False)  # without the optimizer: call second.step() yourself
    train_step(model, optimizer)
    second.step()
    assert first.steps == second.steps == 1
    first.detach()
    train_step(model, optimizer)
    second.step()
    assert (first.steps, second.steps) == (1, 2)
    second.detach()
    assert "step" not in vars(optimizer) and all_hooks(model) == []


def test_distribution_histogram_and_nonfinite_values():
    values = np.arange(12.0)
    d = distribution(values, bins=50)
    assert len(d.density) == 5  # Rice's rule: max(5, round(2 * 12 ** (1/3)))
    assert np.sum(d.density * np.diff(d.edges)) == pytest.approx(1.0)
    assert (d.edges[0], d.edges[-1]) == (0, 11)  # few values: all of them
    many = np.random.default_rng(0).standard_normal(100_000)
    many[0] = 1e6  # a far outlier is left out of the histogram, not of the std
    d = distribution(many, bins=50)
    assert len(d.density) == 50
    assert d.edges[0] == np.sort(many)[99] and d.edges[-1] == np.sort(many)[-100]  # the central 99.8%
    assert d.std == pytest.approx(many.std())
    d = distribution(np.array([1.0, np.nan, 3.0, np.inf]))
    assert d.nonfinite == 2 and np.isnan(d.mean)
    assert distribution(np.full(1000, np.nan)).density.sum() == 0


def test_update_ratio_of_an_unchanged_weight_is_minus_infinity():
    model = tiny_model()
    model[0].weight.requires_grad_(False)
    optimizer = nn.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=LR)
    with monitor(model, optimizer, live=False) as mon:
        train_step(model, optimizer)
    assert mon.updates["0.weight"] == [-np.inf]
    assert "0.weight" not in mon.weight_grads  # it has no gradient
    assert np.isfinite(mon.updates["2.weight"][0])


def png_size(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


def test_figure_and_saved_pngs(tmp_path):
    model = tiny_model()
    optimizer = nn.optim.SGD(model.parameters(), lr=LR)
    mon = Monitor(model, optimizer, live=False)
    assert isinstance(mon.figure(), Figure)  # before any data: the panels say so
    with mon:
        for _ in range(3):
            train_step(model, optimizer)
    fig = mon.figure()
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == [
        "activation distribution",
        "gradient distribution of the outputs",
        "weight gradient distribution",
        "update:data ratio",
    ]
    legend = [t.get_text() for t in axes[0].get_legend().get_texts()]
    tanh = mon.activations["1"]
    assert legend[0] == f"1 (Tanh): mean {tanh.mean:+.2f}, std {tanh.std:.2f}, saturated {tanh.saturated:.1%}"
    lines = axes[3].get_lines()
    assert [list(line.get_xdata()) for line in lines[:2]] == [[0, 1, 2], [0, 1, 2]]
    assert list(lines[-1].get_ydata()) == [-3, -3]  # the 1e-3 reference line
    paths = mon.save(tmp_path)
    assert [p.name for p in paths] == [
        "monitor.png",
        "monitor_activations.png",
        "monitor_activation_grads.png",
        "monitor_weight_grads.png",
        "monitor_updates.png",
    ]
    assert png_size(paths[0].read_bytes()) == (1200, 750)
    assert png_size(paths[1].read_bytes()) == (800, 450)
    assert png_size(mon._repr_png_()) == (1200, 750)


class FakeHandle:
    def __init__(self):
        self.updates = []

    def update(self, obj):
        self.updates.append(obj)


def test_live_in_jupyter_updates_one_display_in_place(monkeypatch):
    import IPython.display

    shown = []

    def fake_display(obj, display_id=False):
        assert display_id is True
        shown.append(obj)
        return handle

    handle = FakeHandle()
    png = io.BytesIO()
    Figure(figsize=(1, 1)).savefig(png, format="png")
    monkeypatch.setattr(monitor_module, "_in_jupyter", lambda: True)
    monkeypatch.setattr(IPython.display, "display", fake_display)
    monkeypatch.setattr(Monitor, "_repr_png_", lambda self: png.getvalue())  # (drawing is tested above)

    model = tiny_model()
    optimizer = nn.optim.SGD(model.parameters(), lr=LR)
    mon = monitor(model, optimizer, refresh=0)
    assert mon.live
    for _ in range(5):
        train_step(model, optimizer)
    mon.detach()
    assert len(shown) == 1  # one display...
    assert len(handle.updates) == 4  # ...redrawn in place after each later step
    assert handle.updates[-1].data == png.getvalue()


def test_live_redraws_are_throttled(monkeypatch):
    monkeypatch.setattr(monitor_module, "_in_jupyter", lambda: False)
    model = tiny_model()
    optimizer = nn.optim.SGD(model.parameters(), lr=LR)
    mon = monitor(model, optimizer, live=True, refresh=3600)
    draws = []
    show = mon.show

    def counting_show():
        draws.append(mon.steps)
        show()

    monkeypatch.setattr(mon, "show", counting_show)
    for _ in range(5):
        train_step(model, optimizer)
    assert draws == [1]  # the first step draws; the next is an hour away
    mon.detach()
    assert draws == [1, 5]  # detaching draws the final state


# ---------------------------------------------------------------------------------------------
# nn.summary


def table_row(summary: ModelSummary, label: str) -> list[str]:
    """The cells of the table row whose layer column is ``label`` (indentation included)."""
    for line in str(summary).splitlines():
        if line.startswith(label + " "):
            return re.split(r"\s{2,}", line[len(label) :].strip())
    raise AssertionError(f"no row {label!r} in\n{summary}")


def test_summary_of_a_linear_model(capsys):
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    s = nn.summary(model, (32, 4))
    assert capsys.readouterr().out == str(s) + "\n"
    assert [(r.name, r.type, r.depth, r.output_shape, r.params, r.mult_adds) for r in s.rows] == [
        ("", "Sequential", 0, (32, 2), 0, 0),
        ("0", "Linear", 1, (32, 8), 4 * 8 + 8, 32 * 4 * 8),
        ("1", "ReLU", 1, (32, 8), 0, 0),
        ("2", "Linear", 1, (32, 2), 8 * 2 + 2, 32 * 8 * 2),
    ]
    assert (s.total_params, s.trainable_params, s.total_mult_adds) == (58, 58, 1024 + 512)
    assert s.input_bytes == 32 * 4 * 4
    assert s.params_bytes == 58 * 4
    assert s.activations_bytes == (32 * 8 + 32 * 8 + 32 * 2) * 4  # the leaf layers' outputs
    assert table_row(s, "  (0): Linear") == ["[32, 8]", "40", "1,024"]
    assert table_row(s, "  (1): ReLU") == ["[32, 8]", "--", "--"]
    text = str(s)
    for line in ("Total params: 58", "Trainable params: 58", "Total mult-adds: 1,536", "Input size (MB): 0.00051",
                 "Params size (MB): 0.00023", "Activations size (MB): 0.0023"):  # fmt: skip
        assert line in text.splitlines()


def test_summary_of_a_convnet_with_pooling():
    model = nn.Sequential(
        nn.Conv2d(3, 6, kernel_size=3, padding=1),  # 10x10 -> 10x10
        nn.ReLU(),
        nn.MaxPool2d(2),  # -> 5x5
        nn.Conv2d(6, 4, kernel_size=3),  # -> 3x3
        nn.AvgPool2d(3),  # -> 1x1
        nn.Flatten(),
        nn.Linear(4, 3),
    )
    s = nn.summary(model, (2, 3, 10, 10), verbose=False)
    shapes = [r.output_shape for r in s.rows[1:]]
    assert shapes == [(2, 6, 10, 10), (2, 6, 10, 10), (2, 6, 5, 5), (2, 4, 3, 3), (2, 4, 1, 1), (2, 4), (2, 3)]
    params = [r.params for r in s.rows[1:]]
    assert params == [6 * 3 * 3 * 3 + 6, 0, 0, 4 * 6 * 3 * 3 + 4, 0, 0, 4 * 3 + 3]
    mult_adds = [r.mult_adds for r in s.rows[1:]]
    # each conv output element is one dot product over C_in x 3 x 3 inputs
    assert mult_adds == [2 * 6 * 10 * 10 * (3 * 9), 0, 0, 2 * 4 * 3 * 3 * (6 * 9), 0, 0, 2 * 4 * 3]
    assert s.total_params == 168 + 220 + 15 and s.total_mult_adds == 32400 + 3888 + 24
    assert "Total mult-adds: 36,312" in str(s)
    assert table_row(s, "  (0): Conv2d") == ["[2, 6, 10, 10]", "168", "32,400"]
    assert table_row(s, "  (2): MaxPool2d") == ["[2, 6, 5, 5]", "--", "--"]


def test_summary_groups_strides_and_transposed_convolutions():
    grouped = nn.Conv2d(4, 8, kernel_size=3, groups=2, bias=False)
    s = nn.summary(grouped, (1, 4, 8, 8), verbose=False)
    assert s.rows[0].output_shape == (1, 8, 6, 6)
    assert (s.rows[0].params, s.rows[0].mult_adds) == (8 * 2 * 9, 8 * 6 * 6 * (2 * 9))
    strided = nn.Conv2d(1, 2, kernel_size=3, stride=2)
    s = nn.summary(strided, (1, 1, 7, 7), verbose=False)
    assert (s.rows[0].output_shape, s.rows[0].mult_adds) == ((1, 2, 3, 3), 2 * 3 * 3 * 9)
    up = nn.ConvTranspose2d(2, 3, kernel_size=2, stride=2)
    s = nn.summary(up, (1, 2, 4, 4), verbose=False)
    # each input element is scattered into C_out x 2 x 2 outputs, one multiply-add each
    assert s.rows[0].output_shape == (1, 3, 8, 8)
    assert (s.rows[0].params, s.rows[0].mult_adds) == (2 * 3 * 4 + 3, 2 * 4 * 4 * (3 * 4))


class Net(nn.Module):
    """A nested model that uses one layer twice."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.ReLU())
        self.hidden = nn.Linear(8, 8)
        self.scale = nn.Parameter(np.ones(1, np.float32))

    def forward(self, x):
        x = self.features(x).flatten(1)  # (N, 2*2*2)
        return self.hidden(self.hidden(x)) * self.scale


def test_summary_of_a_nested_model_with_a_shared_layer():
    model = Net()
    model.features[0].requires_grad_(False)
    s = nn.summary(model, (5, 1, 2, 2), verbose=False)
    assert [(r.name, r.depth, r.params) for r in s.rows] == [
        ("", 0, 1),  # Net's own parameter `scale`
        ("features", 1, 0),
        ("features.0", 2, 1 * 2 * 9 + 2),
        ("features.1", 2, 4),
        ("features.2", 2, 0),
        ("hidden", 1, 72),
        ("hidden", 1, None),  # the second call: counted once in the totals
    ]
    assert s.rows[3].mult_adds == 5 * 2 * 2 * 2  # BatchNorm: one per element
    assert s.rows[5].mult_adds == s.rows[6].mult_adds == 5 * 8 * 8  # computed twice
    assert s.total_params == 1 + 20 + 4 + 72 and s.trainable_params == 1 + 4 + 72
    assert table_row(s, "    (0): Conv2d") == ["[5, 2, 2, 2]", "20", "360"]
    assert table_row(s, "  (hidden): Linear")[1] == "72"
    assert "(shared)" in str(s)
    assert "Non-trainable params: 20" in str(s)


def test_summary_leaves_the_model_and_the_random_generator_alone():
    model = Net()
    model.features.eval()
    running = model.features[1].running_mean.detach().numpy().copy()
    autograd.manual_seed(3)
    expected = autograd.randn(3).numpy()
    autograd.manual_seed(3)
    nn.summary(model, (4, 1, 2, 2), verbose=False)
    assert np.array_equal(autograd.randn(3).numpy(), expected)
    assert model.training and not model.features.training and model.hidden.training
    assert not model.features[1].training
    assert np.array_equal(model.features[1].running_mean.detach().numpy(), running)
    assert all_hooks(model) == []


def test_summary_errors_name_the_layer_and_the_input_size():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(6, 2))
    with pytest.raises(RuntimeError, match=r"size \(32, 4\) failed in layer '2' \(Linear\)"):
        nn.summary(model, (32, 4))
    assert all_hooks(model) == []
    for bad in [(), 5, (3.0, 2), (2, -1), [(2, 4), "x"]]:
        with pytest.raises(ValueError, match="input_size must be a shape with the batch dimension first"):
            nn.summary(model, bad)
    with pytest.raises(TypeError, match="needs an nn.Module"):
        nn.summary(lambda x: x, (1, 4))


def test_summary_of_several_inputs():
    class Pair(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(3, 2), nn.Linear(5, 2)

        def forward(self, x, y):
            return self.a(x) + self.b(y)

    s = nn.summary(Pair(), [(4, 3), (4, 5)], verbose=False)
    assert s.total_mult_adds == 4 * 3 * 2 + 4 * 5 * 2
    assert s.input_bytes == (12 + 20) * 4
