"""Make ``import autograd.nn as nn`` (and friends) work: PyTorch's module names for dagrad's packages.

dagrad's layers live in the top-level package ``nn`` and its optimizers in ``nn.optim``; PyTorch
code imports them as ``torch.nn``, ``torch.nn.functional``, ``torch.optim`` and
``torch.optim.lr_scheduler``. An attribute (``autograd.nn``) is not enough for an ``import``
statement: Python looks the dotted name up in ``sys.modules`` and then asks the import system's
finders. ``install()`` adds one small finder that answers for the names in ``ALIASES`` with the
module that already exists under dagrad's name, so ``autograd.nn`` *is* ``nn`` (the same
objects; nothing is copied) and nothing is imported before it is asked for.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType

__all__ = ["ALIASES", "install"]

# PyTorch's module name (with autograd for torch) -> the dagrad module it names.
ALIASES = {
    "autograd.nn": "nn",
    "autograd.nn.functional": "nn.functional",
    "autograd.nn.init": "nn.init",
    "autograd.optim": "nn.optim",
    "autograd.optim.lr_scheduler": "nn.optim.lr_scheduler",
}


class _AliasLoader(importlib.abc.Loader):
    """Loads an alias by importing the module it stands for (under that module's own name)."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(self.target)
        self.own_spec = module.__spec__  # (the import system overwrites __spec__ with the alias's)
        return module

    def exec_module(self, module: ModuleType) -> None:
        module.__spec__ = self.own_spec  # the module ran when it was imported under its own name


class _AliasFinder(importlib.abc.MetaPathFinder):
    """Answers ``import autograd.nn`` (and the other names in ``ALIASES``), and nothing else."""

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in ALIASES:
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(ALIASES[fullname]))


def install() -> None:
    """Let ``import autograd.nn``, ``import autograd.nn.functional as F``, ``import autograd.optim``
    and ``from autograd.optim.lr_scheduler import StepLR`` work. Safe to call more than once."""
    if not any(isinstance(finder, _AliasFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder())  # (before the path finder, which would run a second copy)
