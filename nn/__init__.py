"""dagrad's ``nn``: modules, layers, losses, initialization, optimizers, data and checkpoints.

Names, signatures, defaults, weight layouts and state_dict keys follow ``torch.nn``, so a
model and its weights move between dagrad and PyTorch through numpy.
"""

from nn import functional, init  # noqa: I001  (module must load before the layers)
from nn.module import Identity, Module, ModuleList, Parameter, Sequential
from nn.activation import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from nn.conv import Conv2d, ConvTranspose2d
from nn.linear import Flatten, Linear
from nn.loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from nn.normalization import BatchNorm1d, BatchNorm2d, Dropout
from nn.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from nn import data, datasets, optim
from nn.checkpoint import CheckpointError, load, save
from nn.summary import summary  # (the function: nn.summary(model, input_size))

__all__ = [
    "AdaptiveAvgPool2d", "AvgPool2d", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "Conv2d",
    "ConvTranspose2d", "CrossEntropyLoss", "Dropout", "Flatten", "Identity", "LeakyReLU", "Linear",
    "LogSoftmax", "MSELoss", "MaxPool2d", "Module", "ModuleList", "NLLLoss", "Parameter", "ReLU",
    "Sequential", "Sigmoid", "Softmax", "Tanh", "functional", "init", "data", "datasets", "optim", "save", "load",
    "CheckpointError", "summary",
]  # fmt: skip
