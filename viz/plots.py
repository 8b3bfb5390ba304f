"""The pictures people look at while training a ConvNet (LECTURE.md section 7), with matplotlib.

Each function returns a matplotlib ``Figure``: Jupyter shows it inline, ``fig.savefig(path)``
writes it. They never call ``plt.show()``, so they work on machines without a screen.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from autograd import Tensor, no_grad
from autograd.tensor import as_array

#: The widest figure, in inches: 8.8 in at matplotlib's 100 dpi is 880 px, GitHub's README column;
#: Jupyter shows it without scaling at any window of 1,000 px or more.
MAX_WIDTH_IN = 8.8
CELL_IN = 1.05  # the side of one small image in a grid, in inches
DIVERGING = "RdBu_r"  # weights: negative blue, zero white, positive red


def _array(t: Any) -> np.ndarray:
    return as_array(t)


def _grid(fig: Any, images: np.ndarray, ncols: int, titles: Sequence[str], **imshow: Any) -> tuple[np.ndarray, Any]:
    """Small images in a grid of ``ncols`` columns on ``fig`` (a Figure or a SubFigure), all on
    one colour scale (``imshow``'s ``cmap``, ``vmin``, ``vmax``); returns the axes and the last image."""
    n = len(images)
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).reshape(-1)
    shown = None
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i < n:
            shown = ax.imshow(images[i], interpolation="nearest", **imshow)
            ax.set_title(titles[i], fontsize=8, pad=2)
    return axes, shown


def _figure(ncols: int, nrows: int, extra_width: float = 0.0) -> Figure:
    """A figure for a grid of ``ncols`` x ``nrows`` small images, a colour bar and ``extra_width``
    inches more, scaled down to at most ``MAX_WIDTH_IN`` wide."""
    width = CELL_IN * ncols + 0.9 + extra_width  # 0.9: the colour bar and its numbers
    height = CELL_IN * nrows + 0.6  # 0.6: the title
    scale = min(1.0, MAX_WIDTH_IN / width)
    return Figure(figsize=(width * scale, max(height * scale, 2.0)), layout="constrained")


def _symmetric_limit(a: np.ndarray) -> float:
    """The largest |value| (1 when all are 0): a colour scale from -limit to +limit puts 0 in the middle."""
    limit = float(np.abs(a).max()) if a.size else 0.0
    return limit if limit > 0 and math.isfinite(limit) else 1.0


def plot_filters(weight: Any, ncols: int = 8, title: str = "first-layer filters") -> Figure:
    """The filters of a conv layer as an image grid, with a colour bar of weight values.

    ``weight`` is a Conv2d module or its weight (C_out, C_in, kH, kW). Every filter is drawn on
    the same scale, from -m to +m (m the largest |weight|), so that filters can be compared
    and the colour bar reads as weight values. Filters with 3 input channels are shown in
    colour, each channel's weight as that channel's intensity (0 is mid-grey; after training
    they look like oriented edges and colour blobs); otherwise each filter's channels are
    averaged and shown blue (negative) to red (positive).
    """
    w = _array(getattr(weight, "weight", weight))
    if w.ndim != 4:
        raise ValueError(f"plot_filters expects a (C_out, C_in, kH, kW) weight, got shape {w.shape}")
    colour = w.shape[1] == 3
    values = w if colour else w.mean(axis=1)
    limit = _symmetric_limit(values)
    ncols = max(1, min(ncols, len(w)))
    fig = _figure(ncols, math.ceil(len(w) / ncols))
    titles = [str(i) for i in range(len(w))]
    if colour:  # RGB: -m -> 0, 0 -> 0.5, +m -> 1 in each channel
        images = np.clip(0.5 + w.transpose(0, 2, 3, 1) / (2 * limit), 0.0, 1.0)
        axes, _ = _grid(fig, images, ncols, titles)
        scale = ScalarMappable(Normalize(-limit, limit), "gray")
        label = "weight (each colour channel)"
    else:
        axes, scale = _grid(fig, values, ncols, titles, cmap=DIVERGING, vmin=-limit, vmax=limit)
        label = "weight" if w.shape[1] == 1 else f"weight (mean of {w.shape[1]} input channels)"
    fig.colorbar(scale, ax=axes.tolist(), shrink=0.8, label=label)
    fig.suptitle(title)
    return fig


def plot_activations(
    module: Any, input: Tensor, layer: Any = None, ncols: int = 8, max_maps: int = 32, show_input: bool = True
) -> Figure:
    """The activation maps of ``layer`` (default: the module's output) for one input image,
    beside that image, on one colour scale with a colour bar.

    ``input`` is one image (C, H, W) or a batch whose first image is used. A forward hook
    catches the layer's output; nothing is recorded for backward. All maps share one colour
    scale (their overall min to max), so a brighter map is a stronger response.
    ``show_input=False`` leaves the input image out.
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
    ncols = max(1, min(ncols, len(maps)))
    nrows = math.ceil(len(maps) / ncols)
    image = _array(x)[0]
    fig = _figure(ncols, nrows, extra_width=CELL_IN * 1.6 if show_input else 0.0)
    grid_fig = fig
    if show_input:
        left, grid_fig = fig.subfigures(1, 2, width_ratios=[1.6, ncols + 0.9])
        _show_input(left, image)
    lo, hi = float(maps.min()), float(maps.max())
    axes, shown = _grid(grid_fig, maps, ncols, [str(i) for i in range(len(maps))], cmap="viridis", vmin=lo,
                        vmax=hi if hi > lo else lo + 1)  # fmt: skip
    grid_fig.colorbar(shown, ax=axes.tolist(), shrink=0.8, label="activation")
    name = type(layer).__name__ if layer is not None else type(module).__name__
    fig.suptitle(f"activation maps of {name} ({maps.shape[1]}x{maps.shape[2]}), {len(maps)} channels")
    return fig


def _show_input(fig: Any, image: np.ndarray) -> None:
    """The input image (C, H, W) on its own axes: grey for one channel, colour for three,
    else the mean of the channels."""
    ax = fig.subplots()
    ax.axis("off")
    if image.shape[0] == 3:
        lo, hi = float(image.min()), float(image.max())
        ax.imshow(((image - lo) / (hi - lo if hi > lo else 1.0)).transpose(1, 2, 0), interpolation="nearest")
    else:
        ax.imshow(image.mean(axis=0), cmap="gray", interpolation="nearest")
    ax.set_title(f"input ({'x'.join(str(d) for d in image.shape)})", fontsize=9)


def plot_history(history: Mapping[str, Sequence[float]], title: str = "training history") -> Figure:
    """Curves of a training history, e.g. ``{'train loss': [...], 'test accuracy': [...]}``.

    Losses go on the left axis and accuracies (keys containing 'acc') on the right one.
    """
    if not history:
        raise ValueError("plot_history needs at least one series")
    fig = Figure(figsize=(6.5, 3.8), layout="constrained")  # 650 px at 100 dpi
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
