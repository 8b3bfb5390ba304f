"""``autograd.backends``: PyTorch's ``torch.backends`` switches, as a CPU-only library answers them.

``autograd.backends.mps.is_available()`` is False; ``autograd.backends.cudnn.deterministic = True``
and ``autograd.backends.cudnn.benchmark = False`` (common in seeding code) can be set and change
nothing: dagrad's numpy kernels are deterministic and there is no cuDNN.
"""

from autograd.backends import cudnn, mps

__all__ = ["cudnn", "mps"]
