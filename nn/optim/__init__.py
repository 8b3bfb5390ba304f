"""Optimizers and learning-rate schedulers with PyTorch's names, arguments and numerics.

>>> from nn import optim
>>> opt = optim.Adam(model.parameters(), lr=1e-3)
>>> for x, y in batches:
...     opt.zero_grad()
...     loss_fn(model(x), y).backward()
...     opt.step()
"""

from nn.optim import lr_scheduler
from nn.optim.adam import Adam, AdamW
from nn.optim.optimizer import Optimizer
from nn.optim.rmsprop import RMSprop
from nn.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "lr_scheduler"]
