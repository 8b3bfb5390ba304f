"""Fast numpy kernels for the convolution, pooling and ReLU ops, apart from the reference code.

``autograd/ops/conv.py`` and ``autograd/ops/pool.py`` each read as the reference: the math in
plain numpy, a strided view and one product, a learner can follow beside the lecture (and
ReLU's max(x, 0) and the masked gradient ``either.keep`` are one numpy call each). The
kernels here compute the same values faster, with layout tricks; each trick is marked with a
``# speed:`` comment that says what it buys. The ops call the kernels while ``enabled`` is
true (the default); ``reference()`` switches them to the reference code, for reading along or
for checking the kernels (``tests/test_kernels.py`` runs every op both ways)::

    with autograd.kernels.reference():
        y = autograd.conv2d(x, w)     # the plain im2col + one matrix product
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

enabled: bool = True  # False: the ops run their reference code


@contextmanager
def reference() -> Iterator[None]:
    """Run the convolution and pooling ops on their reference code inside the ``with`` block."""
    global enabled
    before = enabled
    enabled = False
    try:
        yield
    finally:
        enabled = before
