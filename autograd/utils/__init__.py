"""``autograd.utils``: ``autograd.utils.data`` holds the datasets and ``DataLoader`` (PyTorch's
``torch.utils.data``), the same objects as ``nn.data``'s."""

from autograd.utils import data

__all__ = ["data"]
