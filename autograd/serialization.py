"""``autograd.save`` and ``autograd.load``: PyTorch's ``torch.save``/``torch.load``, without pickle.

::

    autograd.save(model.state_dict(), "model.pt")
    model.load_state_dict(autograd.load("model.pt"))

    autograd.save({"epoch": 5, "model": model.state_dict(), "optimizer": opt.state_dict()}, "ckpt.pt")
    checkpoint = autograd.load("ckpt.pt", map_location="cpu")

The file is a safetensors file (``nn.checkpoint`` writes and reads it): tensors, numbers,
strings, bools, None and dicts, lists and tuples of them come back as they were saved, and
loading never runs code. PyTorch's ``torch.save`` writes a pickle inside a zip archive instead;
``load`` refuses such a file with an error that says how to convert it (in PyTorch:
``safetensors.torch.save_file(state_dict, path)``). Whole modules are not saved: save
``model.state_dict()`` and load it into a new model, as PyTorch's tutorials recommend.
"""

from __future__ import annotations

import os
from typing import Any

from autograd.tensor import check_device

__all__ = ["load", "save"]


def save(obj: Any, f: str | os.PathLike) -> None:
    """Write ``obj`` (a tensor, a state_dict, or dicts/lists/tuples of tensors and numbers) to the
    file ``f``, atomically. See ``nn.checkpoint.save``."""
    from nn import checkpoint  # (nn imports autograd: import it when first used)

    _check_path(f, "save")
    if hasattr(obj, "state_dict") and callable(obj.state_dict):
        raise TypeError(
            f"autograd.save: cannot save a {type(obj).__name__} object itself (that would need pickle); "
            "save its state: autograd.save(model.state_dict(), path), then model.load_state_dict(autograd.load(path))"
        )
    checkpoint.save(obj, f)


def load(
    f: str | os.PathLike,
    map_location: Any = None,
    pickle_module: Any = None,
    *,
    weights_only: bool | None = None,
    mmap: bool | None = None,
) -> Any:
    """Read what ``save`` wrote in ``f`` (tensors come back as plain leaves on the CPU).

    ``map_location`` may be None, ``'cpu'`` or ``autograd.device('cpu')`` (any other device is
    an error: dagrad computes on the CPU). ``weights_only`` and ``mmap`` are accepted for
    PyTorch code: the file never holds code, so loading is always weights-only, and the file is
    read into memory. ``pickle_module`` must be None: dagrad never unpickles.
    """
    from nn import checkpoint

    _check_path(f, "load")
    if map_location is not None:
        if isinstance(map_location, (dict,)) or callable(map_location):
            raise TypeError(
                "autograd.load: map_location must be None, 'cpu' or autograd.device('cpu'); "
                "dagrad's tensors are always on the CPU, so it can be left out"
            )
        check_device(map_location, "map_location=")
    if pickle_module is not None:
        raise TypeError("autograd.load: pickle_module must be None: dagrad's files are safetensors, never pickles")
    return checkpoint.load(f)


def _check_path(f: Any, call: str) -> None:
    if not isinstance(f, (str, os.PathLike)):
        raise TypeError(
            f"autograd.{call}: f must be a file name (str or pathlib.Path), got {type(f).__name__}; "
            "file objects such as io.BytesIO are not supported"
        )
