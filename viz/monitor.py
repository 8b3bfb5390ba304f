"""``viz.monitor``: the health of a network while it trains, live.

The four diagnostics that the BatchNorm lecture plots by hand after training a deep MLP, recorded
by hooks while any model trains:

1. **activations**: the distribution (mean, std, histogram) of each activation layer's output,
   and how much of it is *saturated*, where the layer's local gradient is (almost) zero and the
   gradient stops: ``|y| > 0.97`` after a Tanh, ``y < 0.03`` or ``y > 0.97`` after a Sigmoid,
   ``y == 0`` after a ReLU;
2. **activation gradients**: the distribution of the gradient that flows back into those outputs
   (a gradient hook on each output); layers whose gradients shrink or grow from one to the next
   learn at very different speeds;
3. **weight gradients**: each weight's gradient distribution and its grad:data ratio,
   ``std(grad) / std(weight)``;
4. **update:data ratio** over the steps, ``log10(std(update) / std(weight))``, the size of an
   optimizer step relative to the weight it changes. About ``-3`` (each step changes a weight by a
   thousandth of its spread) is the rule of thumb for a good learning rate; far below learns slowly,
   far above is unstable.

Usage, with the optimizer wrapped (its ``step()`` then also calls ``monitor.step()``)::

    mon = viz.monitor(model, optimizer, every=5)  # attached: hooks on the layers
    for images, labels in loader:
        optimizer.zero_grad()
        loss_fn(model(images), labels).backward()
        optimizer.step()
    mon.detach()                                    # removes every hook
    mon.save("out")                                 # the PNGs

or as a context manager (``with viz.monitor(model, optimizer) as mon: ...``), or without the
optimizer, calling ``mon.step()`` after each ``optimizer.step()``. In Jupyter one figure is shown
and redrawn in place while training runs (at most once every ``refresh`` seconds); elsewhere
``mon.save(folder)`` writes PNGs.

Statistics are taken every ``every`` optimizer steps (the other steps only count), on training
forward passes (gradients enabled, model in ``train()`` mode): evaluation passes are ignored.
Standard deviations are numpy's (divide by n; PyTorch's ``std()`` divides by n - 1, a difference
that vanishes for layer-sized tensors).
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

import nn
from autograd import Tensor, is_grad_enabled

#: A Tanh output beyond this (in absolute value), or a Sigmoid output beyond it or below
#: ``1 - SATURATION``, counts as saturated: the local gradient there is below 0.06.
SATURATION = 0.97
#: The update:data ratio (log10) the lecture's rule of thumb aims for.
REFERENCE_LOG10_UPDATE = -3.0
#: The histograms span the values from this percentile to ``100 - TAIL`` (mean and std use all):
#: gradients have rare far outliers that would otherwise squeeze the whole curve into one bin.
TAIL = 0.1
#: Fixed margins (fractions of the figure) of the four-panel figure and of a one-panel PNG.
FIGURE_MARGINS = {"left": 0.065, "right": 0.975, "bottom": 0.07, "top": 0.92, "hspace": 0.32, "wspace": 0.17}
PANEL_MARGINS = {"left": 0.1, "right": 0.98, "bottom": 0.12, "top": 0.92}
#: The layers monitored by default (when the model has any of them): the nonlinearities.
ACTIVATION_LAYERS = (nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid)


@dataclass
class Distribution:
    """The values of one tensor at one step: mean, std, a histogram and the saturated fraction.

    ``density`` and ``edges`` are ``np.histogram(values, bins, range, density=True)`` of the
    finite values between the 0.1th and the 99.9th percentile (all of them below 1,000 values; the
    density integrates to 1, so layers of different sizes compare). ``saturated`` is
    the fraction where the layer's local gradient vanishes (see the module docstring; None for
    layers other than Tanh, Sigmoid and ReLU). ``nonfinite`` counts NaN and infinite values.
    """

    mean: float
    std: float
    density: np.ndarray
    edges: np.ndarray
    saturated: float | None = None
    nonfinite: int = 0


@dataclass
class WeightGradient:
    """One weight's gradient at one step and how it compares with the weight's values."""

    shape: tuple[int, ...]
    grad: Distribution
    data_std: float  #: std of the weight's values (before the step)
    grad_to_data: float  #: std(grad) / std(weight)


def saturated_fraction(values: np.ndarray, layer: nn.Module) -> float | None:
    """The fraction of a layer's outputs where its local gradient (almost) vanishes, or None.

    After a Tanh: ``|y| > 0.97``; after a Sigmoid: ``y < 0.03`` or ``y > 0.97``; after a ReLU:
    ``y == 0`` (the flat half, where no gradient flows). None for any other layer.
    """
    if values.size == 0:
        return None
    if isinstance(layer, nn.Tanh):
        return float(np.mean(np.abs(values) > SATURATION))
    if isinstance(layer, nn.Sigmoid):
        return float(np.mean((values < 1 - SATURATION) | (values > SATURATION)))
    if isinstance(layer, nn.ReLU):
        return float(np.mean(values == 0))
    return None


def distribution(values: np.ndarray, bins: int = 50, layer: nn.Module | None = None) -> Distribution:
    """Mean, std (numpy's, over n) and a density histogram of ``values``; with ``layer``, also the
    fraction of them that is saturated for that layer (see ``saturated_fraction``).

    The histogram has at most ``bins`` bins, fewer for few values (Rice's rule, 2 n^(1/3): a
    3x3 conv's 144 weights get 10), and spans the central 99.8% of the finite values (``TAIL``).
    """
    values = np.asarray(values)
    finite = values[np.isfinite(values)] if not np.all(np.isfinite(values)) else values.reshape(-1)
    if finite.size:
        # Leave out the rarest far tails, which would squash the rest into a few bins: the range is
        # the TAIL-th and (100 - TAIL)-th percentiles, rounded outwards to values of the array (so
        # fewer than 1,000 values keep their minimum and maximum); one partial sort finds both.
        k_low = math.floor(TAIL / 100 * (finite.size - 1))
        k_high = math.ceil((1 - TAIL / 100) * (finite.size - 1))
        low, high = np.partition(finite, (k_low, k_high))[[k_low, k_high]]
        bins = min(bins, max(5, round(2 * finite.size ** (1 / 3))))  # Rice's rule: few values, few bins
        density, edges = np.histogram(finite, bins=bins, range=(low, high), density=True)
    else:  # nothing to count: an empty histogram on [0, 1]
        density, edges = np.zeros(bins), np.linspace(0.0, 1.0, bins + 1)
    with np.errstate(invalid="ignore"):
        mean = float(values.mean(dtype=np.float64)) if values.size else math.nan
        std = float(values.std(dtype=np.float64)) if values.size else math.nan
    return Distribution(
        mean=mean,
        std=std,
        density=density,
        edges=edges,
        saturated=saturated_fraction(values, layer) if layer is not None else None,
        nonfinite=int(values.size - finite.size),
    )


def _ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, inf (or nan for 0/0) when the denominator is 0."""
    if denominator == 0:
        return math.nan if numerator == 0 else math.inf
    return numerator / denominator


def _log10(x: float) -> float:
    """log10 that gives -inf for 0 and nan for nan (instead of raising)."""
    if math.isnan(x):
        return math.nan
    return -math.inf if x == 0 else math.log10(x)


def _in_jupyter() -> bool:
    """True inside a Jupyter kernel (where a display can be updated in place)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class Monitor:
    """Records activation, gradient and update statistics of a model while it trains.

    Make one with ``viz.monitor(model, ...)`` (attached at once) or ``Monitor(model, ...)`` and
    ``attach()``. Arguments:

    - ``optimizer``: if given, its ``step()`` also calls ``self.step()`` while attached;
    - ``every``: record every ``every`` optimizer steps (the steps in between cost almost nothing);
    - ``layers``: the modules whose outputs to watch (default: every ReLU, LeakyReLU, Tanh and
      Sigmoid of the model; with none of those, every leaf module);
    - ``weights``: the parameters to watch (default: every parameter with 2 or more dimensions,
      the weights of Linear and Conv2d layers, not biases or BatchNorm's scales);
    - ``bins``: histogram bins; ``live``: redraw in Jupyter while training (default: when running in
      Jupyter); ``refresh``: at most one redraw every this many seconds.

    What it recorded: at the latest recorded step (``recorded_step``), ``activations`` and
    ``activation_grads`` (layer name -> Distribution) and ``weight_grads`` (weight name ->
    WeightGradient); over the run, ``update_steps`` (the step index of each record) and ``updates``
    (weight name -> the log10 update:data ratio of each record). ``steps`` counts optimizer steps.
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: Any = None,
        *,
        every: int = 1,
        layers: Iterable[nn.Module] | None = None,
        weights: Iterable[nn.Parameter] | None = None,
        bins: int = 50,
        live: bool | None = None,
        refresh: float = 1.0,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"monitor(model) needs an nn.Module, got {type(model).__name__}")
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive int (record every N optimizer steps), got {every!r}")
        if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
            raise ValueError(f"bins must be a positive int, got {bins!r}")
        if optimizer is not None and not callable(getattr(optimizer, "step", None)):
            raise TypeError(
                f"optimizer must have a step() method (an nn.optim optimizer), got {type(optimizer).__name__}"
            )
        self.model, self.optimizer = model, optimizer
        self.every, self.bins, self.refresh = every, bins, float(refresh)
        self.live = _in_jupyter() if live is None else bool(live)
        self.draw_seconds = 0.0  # how long the last live redraw took
        self.layers = self._named_layers(layers)
        self.weights = self._named_weights(weights)
        self.steps = 0  # optimizer steps seen
        self.recorded_step: int | None = None
        self.activations: dict[str, Distribution] = {}
        self.activation_grads: dict[str, Distribution] = {}
        self.weight_grads: dict[str, WeightGradient] = {}
        self.update_steps: list[int] = []
        self.updates: dict[str, list[float]] = {name: [] for name in self.weights}
        self._attached = False
        self._handles: list = []
        self._step_wrapper: Any = None  # what attach() put in place of optimizer.step
        self._before: dict[str, np.ndarray] | None = None  # the weights before this step's update
        self._display = None  # Jupyter's display handle, updated in place
        self._last_draw = -math.inf
        self._drawn = True  # nothing new to draw

    # ------------------------------------------------------------------ what is watched
    def _named_layers(self, layers: Iterable[nn.Module] | None) -> dict[str, nn.Module]:
        named = list(self.model.named_modules())
        if layers is None:
            chosen = [(n, m) for n, m in named if isinstance(m, ACTIVATION_LAYERS)]
            return dict(chosen or [(n, m) for n, m in named if not m._modules])
        names = {id(m): n for n, m in named}
        out = {}
        for layer in layers:
            if id(layer) not in names:
                raise ValueError(
                    f"layers: {type(layer).__name__} is not a submodule of the model; pass the model's own "
                    "modules, e.g. layers=[model[1], model[3]]"
                )
            out[names[id(layer)] or type(layer).__name__] = layer
        return out

    def _named_weights(self, weights: Iterable[nn.Parameter] | None) -> dict[str, nn.Parameter]:
        named = list(self.model.named_parameters())
        if weights is None:
            return {n: p for n, p in named if p.ndim >= 2}
        names = {id(p): n for n, p in named}
        out = {}
        for p in weights:
            if id(p) not in names:
                shape = tuple(getattr(p, "shape", ()))
                raise ValueError(
                    f"weights: a tensor of shape {shape} is not a parameter of the model; pass the model's own, "
                    "e.g. weights=[model[0].weight]"
                )
            out[names[id(p)]] = p
        return out

    @staticmethod
    def label(name: str, layer: nn.Module) -> str:
        """How a layer is named in the legends: its name in the model and its type."""
        return f"{name} ({type(layer).__name__})" if name else type(layer).__name__

    # ------------------------------------------------------------------ attach / detach
    @property
    def attached(self) -> bool:
        """True while the hooks are in place."""
        return self._attached

    def attach(self) -> Monitor:
        """Put a forward hook on every watched layer (and wrap ``optimizer.step``); returns self.
        Attaching an attached monitor does nothing."""
        if self.attached:
            return self
        if self.optimizer is not None and "step" in vars(self.optimizer):
            raise RuntimeError(
                f"{type(self.optimizer).__name__}.step is already wrapped (by another monitor?): detach that "
                "monitor first, or leave out the optimizer and call monitor.step() after optimizer.step()"
            )
        for name, layer in self.layers.items():
            self._handles.append(layer.register_forward_hook(self._forward_hook(name)))
        if self.optimizer is not None:
            self._wrap(self.optimizer)
        self._attached = True
        return self

    def detach(self) -> Monitor:
        """Remove every hook (the model runs exactly as before) and draw the last state; returns self."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
        if self.optimizer is not None and vars(self.optimizer).get("step") is self._step_wrapper:
            del self.optimizer.step  # the class's own step() is back
        self._step_wrapper = None
        self._attached = False
        self._before = None
        if self.live and not self._drawn:
            self.show()
        return self

    def __enter__(self) -> Monitor:
        return self.attach()

    def __exit__(self, *exc: Any) -> None:
        self.detach()

    def _wrap(self, optimizer: Any) -> None:
        """Make ``optimizer.step()`` call ``self.step()`` after it: an instance attribute that
        shadows the class's method until ``detach()`` deletes it."""
        original = optimizer.step

        def step(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            self.step()
            return result

        optimizer.step = self._step_wrapper = step

    # ------------------------------------------------------------------ recording
    def _recording(self, layer: nn.Module) -> bool:
        """Does this forward pass count: a training pass of a step that is recorded."""
        return self.steps % self.every == 0 and layer.training and is_grad_enabled()

    def _forward_hook(self, name: str):
        """The forward hook of one layer: statistics of its output and a hook on its gradient."""

        def hook(layer: nn.Module, inputs: tuple, out: Any) -> None:
            if not isinstance(out, Tensor) or not self._recording(layer):
                return
            if self._before is None:  # the first recorded forward of this step: keep the weights
                self._before = {n: p._data.copy() for n, p in self.weights.items()}
            self.activations[name] = distribution(out._data, self.bins, layer)
            self.recorded_step = self.steps
            self._drawn = False
            if out.requires_grad:
                out.register_hook(self._grad_hook(name))

        return hook

    def _grad_hook(self, name: str):
        def hook(grad: Tensor) -> None:
            if self.attached:
                self.activation_grads[name] = distribution(grad._data, self.bins)

        return hook

    def step(self) -> None:
        """Call after ``optimizer.step()`` (the wrapped optimizer calls it for you): on a recorded
        step, compare each weight's gradient and update with its values; then count the step."""
        if self._before is not None:
            self._record_weights(self._before)
            self._before = None
        self.steps += 1
        # redraw at most every `refresh` seconds, and spend at most a third of the time drawing
        wait = max(self.refresh, 2 * self.draw_seconds)
        if self.live and not self._drawn and time.perf_counter() - self._last_draw >= wait:
            self.show()

    def _record_weights(self, before: dict[str, np.ndarray]) -> None:
        for name, p in self.weights.items():
            data_std = float(before[name].std(dtype=np.float64))
            update_std = float((p._data - before[name]).std(dtype=np.float64))
            self.updates[name].append(_log10(_ratio(update_std, data_std)))
            if p.grad is not None:
                grad = distribution(p.grad._data, self.bins)
                self.weight_grads[name] = WeightGradient(tuple(p.shape), grad, data_std, _ratio(grad.std, data_std))
        self.update_steps.append(self.steps)
        self._drawn = False

    # ------------------------------------------------------------------ pictures
    def figure(self) -> Figure:
        """The four diagnostics in one figure (12 x 7.5 inches: 1,200 px wide at 100 dpi)."""
        fig = Figure(figsize=(12, 7.5))  # fixed margins: an automatic layout would double the drawing time
        axes = fig.subplots(2, 2, gridspec_kw=FIGURE_MARGINS)
        self.plot_activations(axes[0, 0])
        self.plot_activation_grads(axes[0, 1])
        self.plot_weight_grads(axes[1, 0])
        self.plot_updates(axes[1, 1])
        step = "" if self.recorded_step is None else f" (histograms: step {self.recorded_step})"
        fig.suptitle(f"training health after {self.steps} steps{step}", fontsize=12)
        return fig

    def plot_activations(self, ax: Any) -> None:
        """Panel 1: the output distribution of every watched layer, with mean, std and saturation."""
        curves = []
        for name, layer in self.layers.items():
            d = self.activations.get(name)
            text = ""
            if d is not None:
                text = f"{self.label(name, layer)}: mean {d.mean:+.2f}, std {d.std:.2f}"
                if d.saturated is not None:
                    text += f", {'zero' if isinstance(layer, nn.ReLU) else 'saturated'} {d.saturated:.1%}"
            curves.append((text, d))
        _plot_histograms(ax, curves, "activation distribution", "output value")

    def plot_activation_grads(self, ax: Any) -> None:
        """Panel 2: the distribution of the gradient flowing into every watched layer's output."""
        curves = []
        for name, layer in self.layers.items():
            d = self.activation_grads.get(name)
            text = "" if d is None else f"{self.label(name, layer)}: mean {d.mean:+.1e}, std {d.std:.1e}"
            curves.append((text, d))
        _plot_histograms(ax, curves, "gradient distribution of the outputs", "gradient")

    def plot_weight_grads(self, ax: Any) -> None:
        """Panel 3: every watched weight's gradient distribution, with its grad:data ratio."""
        curves = []
        for name in self.weights:
            w = self.weight_grads.get(name)
            if w is None:
                curves.append(("", None))
            else:
                text = f"{name} {w.shape}: std {w.grad.std:.1e}, grad:data {w.grad_to_data:.1e}"
                curves.append((text, w.grad))
        _plot_histograms(ax, curves, "weight gradient distribution", "gradient")

    def plot_updates(self, ax: Any) -> None:
        """Panel 4: log10(std(update) / std(weight)) of every watched weight over the steps."""
        ax.set_title("update:data ratio", fontsize=11)
        ax.set_xlabel("step")
        ax.set_ylabel("log10(std(update) / std(weight))")
        if not self.update_steps:
            _no_data(ax)
            return
        marker = "." if len(self.update_steps) < 30 else None  # (a line of one point would not show)
        for i, (name, values) in enumerate(self.updates.items()):
            ax.plot(self.update_steps, values, color=f"C{i}", lw=1.2, marker=marker, label=name)
        ax.axhline(REFERENCE_LOG10_UPDATE, color="black", ls="--", lw=1, label="1e-3 (rule of thumb)")
        ax.legend(fontsize=8, loc="best")
        ax.grid(alpha=0.3)

    def show(self) -> None:
        """Draw the figure now. In Jupyter the first call displays it and later calls redraw that
        same output in place; elsewhere it does nothing (use ``save``)."""
        start = time.perf_counter()
        self._drawn = True
        if _in_jupyter():
            from IPython.display import Image, display

            image = Image(data=self._repr_png_())
            if self._display is None:
                self._display = display(image, display_id=True)
            else:
                self._display.update(image)
        self._last_draw = time.perf_counter()
        self.draw_seconds = self._last_draw - start

    def save(self, folder: str | Path, dpi: int = 100) -> list[Path]:
        """Write ``monitor.png`` (the four panels; 1,200 px wide at the default dpi) and one PNG per
        panel (``monitor_activations.png``, ``monitor_activation_grads.png``,
        ``monitor_weight_grads.png``, ``monitor_updates.png``) to ``folder``; returns the paths."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths = [folder / "monitor.png"]
        self.figure().savefig(paths[0], dpi=dpi)
        panels = {
            "activations": self.plot_activations,
            "activation_grads": self.plot_activation_grads,
            "weight_grads": self.plot_weight_grads,
            "updates": self.plot_updates,
        }
        for key, plot in panels.items():
            fig = Figure(figsize=(8, 4.5))
            plot(fig.subplots(gridspec_kw=PANEL_MARGINS))
            paths.append(folder / f"monitor_{key}.png")
            fig.savefig(paths[-1], dpi=dpi)
        return paths

    def _repr_png_(self) -> bytes:
        """Jupyter shows a monitor as its figure."""
        buffer = io.BytesIO()
        self.figure().savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()

    def __repr__(self) -> str:
        state = "attached" if self.attached else "detached"
        return (
            f"Monitor({len(self.layers)} layers, {len(self.weights)} weights, {self.steps} steps, "
            f"{len(self.update_steps)} recorded, {state})"
        )


def _no_data(ax: Any) -> None:
    ax.text(0.5, 0.5, "no data yet: train a step with the monitor attached", ha="center", va="center",
            transform=ax.transAxes, color="grey")  # fmt: skip


def _plot_histograms(ax: Any, curves: list[tuple[str, Distribution | None]], title: str, xlabel: str) -> None:
    """One density curve per (label, distribution), the histogram's bin centres joined by lines;
    the i-th curve has colour Ci, so a layer keeps its colour in every panel."""
    ax.set_title(title, fontsize=11)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density (log scale)")
    if all(d is None for _, d in curves):
        _no_data(ax)
        return
    for i, (label, d) in enumerate(curves):
        if d is None:
            continue
        centres = (d.edges[:-1] + d.edges[1:]) / 2
        label += f", {d.nonfinite} NaN/Inf" if d.nonfinite else ""
        filled = np.flatnonzero(d.density)  # from the first to the last non-empty bin; empty ones inside are gaps
        part = slice(filled[0], filled[-1] + 1) if filled.size else slice(0, 0)
        density = np.where(d.density[part] > 0, d.density[part], np.nan)  # (log scale: no 0)
        ax.plot(centres[part], density, color=f"C{i}", lw=1.2, label=label)
    ax.set_yscale("log")
    ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 3))  # gradients: 1e-4, not 0.0001
    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)


def monitor(
    model: nn.Module,
    optimizer: Any = None,
    *,
    every: int = 1,
    layers: Iterable[nn.Module] | None = None,
    weights: Iterable[nn.Parameter] | None = None,
    bins: int = 50,
    live: bool | None = None,
    refresh: float = 1.0,
) -> Monitor:
    """Watch ``model`` train: a ``Monitor`` with its hooks already attached (see ``Monitor``).

    Pass the ``optimizer`` to record updates on each ``optimizer.step()``, or call
    ``monitor.step()`` after it. ``detach()`` (or leaving a ``with`` block) removes every hook.
    """
    return Monitor(
        model, optimizer, every=every, layers=layers, weights=weights, bins=bins, live=live, refresh=refresh
    ).attach()
