"""``nn.summary(model, input_size)``: a table of a model's layers, shapes, parameters and compute.

One forward pass on zeros of ``input_size`` (batch dimension included), with hooks on every
module, gives each layer's output shape; parameters are counted from the modules and the
multiply-adds from each layer's shapes. ``nn.summary(model, (32, 4))`` for
``model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))`` prints::

    =================================================
    Layer (type)    Output shape   Params   Mult-adds
    =================================================
    Sequential      [32, 2]            --          --
      (0): Linear   [32, 8]            40       1,024
      (1): ReLU     [32, 8]            --          --
      (2): Linear   [32, 2]            18         512
    =================================================
    Total params: 58
    ...

Multiply-adds (one multiplication and one addition, the unit of a dot product) count:

- ``Linear``: ``in_features`` per output element (N x in x out for a batch of N rows);
- ``Conv2d``: ``in_channels / groups x kH x kW`` per output element;
- ``ConvTranspose2d``: ``out_channels / groups x kH x kW`` per *input* element;
- ``BatchNorm1d/2d``: one per output element (evaluation mode: ``x * scale + shift``);
- other layers (activations, pooling, reshapes): none are counted, and their row shows ``--``.
  Bias additions are not counted either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd import Tensor, no_grad, zeros
from nn.conv import Conv2d, ConvTranspose2d
from nn.linear import Linear
from nn.module import Module
from nn.normalization import BatchNorm1d, BatchNorm2d


@dataclass
class LayerRow:
    """One row of the table: one call of one module during the forward pass."""

    name: str  #: dotted path in the model ("" for the model itself)
    type: str  #: class name
    depth: int  #: 0 for the model, 1 for its children, ...
    output_shape: Any  #: a tuple of ints, or a list of them for a module with several outputs
    params: int | None  #: parameters the module owns directly (its children have their own rows); None if shared
    mult_adds: int  #: multiply-adds of this call (0 for layers that are not counted)
    output_bytes: int  #: size of the output(s) in bytes
    leaf: bool  #: True when the module has no children


@dataclass
class ModelSummary:
    """What ``nn.summary`` found; ``str()`` (and the repr) is the table."""

    model_name: str
    rows: list[LayerRow]
    total_params: int
    trainable_params: int
    total_mult_adds: int
    input_bytes: int
    params_bytes: int
    activations_bytes: int  #: the outputs of every leaf layer (what backward keeps, roughly)

    @property
    def total_bytes(self) -> int:
        """Input, parameters and activations together."""
        return self.input_bytes + self.params_bytes + self.activations_bytes

    def __str__(self) -> str:
        header = ("Layer (type)", "Output shape", "Params", "Mult-adds")
        cells = [header] + [
            (
                "  " * row.depth + (f"({row.name.rsplit('.', 1)[-1]}): {row.type}" if row.name else row.type),
                _shape_text(row.output_shape),
                "(shared)" if row.params is None else _count(row.params),
                _count(row.mult_adds),
            )
            for row in self.rows
        ]
        widths = [max(len(line[i]) for line in cells) for i in range(4)]
        width = sum(widths) + 3 * 3

        def line(values: Sequence[str]) -> str:
            name, shape, params, mult_adds = values
            return (
                f"{name:<{widths[0]}}   {shape:<{widths[1]}}   {params:>{widths[2]}}   {mult_adds:>{widths[3]}}"
            ).rstrip()

        millions = f" ({self.total_mult_adds / 1e6:.2f} M)" if self.total_mult_adds >= 1e5 else ""
        totals = [
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.total_params - self.trainable_params:,}",
            f"Total mult-adds: {self.total_mult_adds:,}{millions}",
            f"Input size (MB): {_megabytes(self.input_bytes)}",
            f"Params size (MB): {_megabytes(self.params_bytes)}",
            f"Activations size (MB): {_megabytes(self.activations_bytes)}",
            f"Estimated total size (MB): {_megabytes(self.total_bytes)}",
        ]
        rule = "=" * width
        return "\n".join([rule, line(header), rule, *map(line, cells[1:]), rule, *totals, rule])

    __repr__ = __str__


def _megabytes(n: int) -> str:
    """Bytes in MB (10^6 bytes): two decimals, or two significant digits below 0.01 MB."""
    return f"{n / 1e6:.2f}" if n >= 1e4 or n == 0 else f"{n / 1e6:.2g}"


def _count(n: int) -> str:
    return f"{n:,}" if n else "--"


def _shape_text(shape: Any) -> str:
    if isinstance(shape, tuple):
        return str(list(shape))
    if isinstance(shape, list):
        return ", ".join(str(list(s)) for s in shape)
    return "?"


def _outputs(out: Any) -> list[Tensor]:
    """The tensors a module returned (one, or those in a tuple/list)."""
    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for t in out if isinstance(t, Tensor)]
    return []


def mult_adds(module: Module, inputs: tuple, out: Any) -> int:
    """Multiply-adds of one call of ``module`` (see the module docstring for what is counted)."""
    outs = _outputs(out)
    if not outs:
        return 0
    n_out = outs[0].numel()
    if isinstance(module, Linear):
        return n_out * module.in_features
    if isinstance(module, ConvTranspose2d):
        kh, kw = module.kernel_size
        return inputs[0].numel() * (module.out_channels // module.groups) * kh * kw
    if isinstance(module, Conv2d):
        kh, kw = module.kernel_size
        return n_out * (module.in_channels // module.groups) * kh * kw
    if isinstance(module, (BatchNorm1d, BatchNorm2d)):
        return n_out
    return 0


def _is_size(size: Any) -> bool:
    return (
        isinstance(size, (tuple, list))
        and len(size) > 0
        and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in size)
    )


def _input_sizes(input_size: Any) -> list[tuple[int, ...]]:
    """``(32, 1, 8, 8)``, or a list of such shapes (one per input of forward)."""
    if _is_size(input_size):
        return [tuple(input_size)]
    if isinstance(input_size, (tuple, list)) and input_size and all(_is_size(s) for s in input_size):
        return [tuple(s) for s in input_size]
    raise ValueError(
        f"input_size must be a shape with the batch dimension first, e.g. (32, 1, 8, 8), or a list of shapes "
        f"for a forward with several inputs; got {input_size!r}"
    )


def summary(model: Module, input_size: Any, dtype: Any = np.float32, verbose: bool = True) -> ModelSummary:
    """Print (with ``verbose``) and return a table of ``model``'s layers, as torchinfo does.

    ``input_size`` is the shape of the input, batch first, e.g. ``(32, 1, 8, 8)`` (a list of shapes
    for a forward with several inputs). The model runs once on zeros of that shape, in evaluation
    mode and without gradients (BatchNorm's running statistics and the random generator are left
    untouched; each module's training flag is restored). Each row is one module call, in the order
    they ran, indented by depth, with its output shape, the parameters it owns and its
    multiply-adds; then the totals and the sizes in MB (10^6 bytes).
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary(model, input_size) needs an nn.Module, got {type(model).__name__}")
    sizes = _input_sizes(input_size)
    inputs = [zeros(*size, dtype=dtype) for size in sizes]
    names = {id(m): name for name, m in model.named_modules()}
    rows: list[LayerRow] = []
    running: list[tuple[Module, int]] = []  # (module, its row index): the calls in progress
    seen: set[int] = set()

    def before(module: Module, args: tuple) -> None:
        name = names.get(id(module), type(module).__name__)
        depth = 0 if module is model else name.count(".") + 1
        params = None if id(module) in seen else sum(p.numel() for p in module.parameters(recurse=False))
        seen.add(id(module))
        running.append((module, len(rows)))
        rows.append(LayerRow(name, type(module).__name__, depth, None, params, 0, 0, not module._modules))

    def after(module: Module, args: tuple, out: Any) -> None:
        _, index = running.pop()
        outs = _outputs(out)
        row = rows[index]
        row.output_shape = tuple(outs[0].shape) if len(outs) == 1 else [tuple(t.shape) for t in outs]
        row.output_bytes = sum(t._data.nbytes for t in outs)
        row.mult_adds = mult_adds(module, args, out)

    handles = []
    modes = {id(m): m.training for m in model.modules()}
    try:
        for module in model.modules():
            handles.append(module.register_forward_pre_hook(before))
            handles.append(module.register_forward_hook(after))
        model.eval()
        with no_grad():
            model(*inputs)
    except Exception as error:
        where = ""
        if running:  # the innermost module that was running
            module = running[-1][0]
            where = f" in layer {names.get(id(module))!r} ({type(module).__name__})" if module is not model else ""
        raise RuntimeError(
            f"nn.summary: the forward pass of {type(model).__name__} on zeros of size "
            f"{sizes[0] if len(sizes) == 1 else sizes} failed{where}: {error}. Check input_size: it includes "
            "the batch dimension, e.g. (32, 1, 8, 8) for 32 one-channel 8x8 images"
        ) from error
    finally:
        for handle in handles:
            handle.remove()
        for module in model.modules():
            module.training = modes[id(module)]

    params = list(model.parameters())
    result = ModelSummary(
        model_name=type(model).__name__,
        rows=rows,
        total_params=sum(p.numel() for p in params),
        trainable_params=sum(p.numel() for p in params if p.requires_grad),
        total_mult_adds=sum(row.mult_adds for row in rows),
        input_bytes=sum(t._data.nbytes for t in inputs),
        params_bytes=sum(p._data.nbytes for p in params),
        activations_bytes=sum(row.output_bytes for row in rows if row.leaf),
    )
    if verbose:
        print(result)
    return result
