"""The pictures people look at while training a ConvNet (LECTURE.md section 7), with matplotlib.

Each function returns a matplotlib ``Figure``: Jupyter shows it inline, ``fig.savefig(path)``
writes it. They never call ``plt.show()``, so they work on machines without a screen.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from autograd import Tensor, no_grad


def _array(t: Any) -> np.ndarray:
    return t._data if isinstance(t, Tensor) else np.asarray(t)


def _grid(images: np.ndarray, ncols: int, title: str, cmap: str | None, titles: Sequence[str] | None = None) -> Figure:
    n = len(images)
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(1.3 * ncols, 1.3 * nrows + 0.5), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).reshape(-1)
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], cmap=cmap, interpolation="nearest")
            if titles is not None:
                ax.set_title(titles[i], fontsize=7)
    fig.suptitle(title)
    return fig


def _normalize(a: np.ndarray) -> np.ndarray:
    """Scale each image to [0, 1] on its own (filters have arbitrary ranges)."""
    flat = a.reshape(len(a), -1)
    lo, hi = flat.min(1), flat.max(1)
    scale = np.where(hi > lo, hi - lo, 1.0)
    return ((flat - lo[:, None]) / scale[:, None]).reshape(a.shape)


def plot_filters(weight: Any, ncols: int = 8, title: str = "first-layer filters") -> Figure:
    """The filters of a conv layer as an image grid.

    ``weight`` is a Conv2d module or its weight (C_out, C_in, kH, kW). Filters with 3 input
    channels are shown in colour (they look like oriented edges and colour blobs after
    training); otherwise each filter's channels are averaged and shown in grey.
    """
    w = _array(getattr(weight, "weight", weight))
    if w.ndim != 4:
        raise ValueError(f"plot_filters expects a (C_out, C_in, kH, kW) weight, got shape {w.shape}")
    if w.shape[1] == 3:
        images, cmap = _normalize(w.transpose(0, 2, 3, 1)), None
    else:
        images, cmap = _normalize(w.mean(axis=1)), "gray"
    return _grid(images, ncols, title, cmap, [str(i) for i in range(len(images))])


def plot_activations(module: Any, input: Tensor, layer: Any = None, ncols: int = 8, max_maps: int = 32) -> Figure:
    """The activation maps of ``layer`` (default: the module's output) for one input image.

    ``input`` is one image (C, H, W) or a batch whose first image is used. A forward hook
    catches the layer's output; nothing is recorded for backward.
    """
    x = input if input.ndim == 4 else input.unsqueeze(0)
    caught = {}
    handle = None
    if layer is not None:
        handle = layer.register_forward_hook(lambda m, args, out: caught.setdefault("out", out))
    try:
        with no_grad():
            out = module(x[:1])
    finally:
        if handle is not None:
            handle.remove()
    if layer is not None and "out" not in caught:
        raise ValueError(
            f"plot_activations: the layer {type(layer).__name__} did not run in the model's forward pass; pass one "
            "of the model's own submodules, e.g. model.features[0]"
        )
    maps = _array(caught.get("out", out))
    if maps.ndim != 4:
        raise ValueError(f"activation maps need a (N, C, H, W) output, got shape {maps.shape}")
    maps = maps[0][:max_maps]
    name = type(layer).__name__ if layer is not None else type(module).__name__
    return _grid(maps, ncols, f"activation maps of {name} ({maps.shape[1]}x{maps.shape[2]})", "viridis",
                 [str(i) for i in range(len(maps))])  # fmt: skip


def plot_history(history: Mapping[str, Sequence[float]], title: str = "training history") -> Figure:
    """Curves of a training history, e.g. ``{'train loss': [...], 'test accuracy': [...]}``.

    Losses go on the left axis and accuracies (keys containing 'acc') on the right one.
    """
    if not history:
        raise ValueError("plot_history needs at least one series")
    fig = Figure(figsize=(6.5, 3.8), layout="constrained")
    ax = fig.subplots()
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    acc_ax = None
    for i, (name, values) in enumerate(history.items()):
        epochs = np.arange(1, len(values) + 1)
        color = f"C{i}"
        if "acc" in name:
            acc_ax = acc_ax or ax.twinx()
            acc_ax.plot(epochs, values, color=color, marker="o", ms=3, label=name)
            acc_ax.set_ylabel("accuracy")
        else:
            ax.plot(epochs, values, color=color, marker="o", ms=3, label=name)
    handles, labels = ax.get_legend_handles_labels()
    if acc_ax is not None:
        h2, l2 = acc_ax.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    ax.legend(handles, labels, loc="center right")
    ax.set_title(title)
    return fig
