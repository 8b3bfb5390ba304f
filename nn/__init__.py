"""dagrad's ``nn``: modules, layers, losses, initialization, optimizers, data and checkpoints.

Names, signatures, defaults, weight layouts and state_dict keys follow ``torch.nn``, so a
model and its weights move between dagrad and PyTorch through numpy.
"""

from nn import functional, init  # noqa: I001  (module must load before the layers)
from nn.module import Identity, Module, ModuleDict, ModuleList, Parameter, ParameterList, Sequential
from nn.activation import ELU, GELU, Hardtanh, LeakyReLU, LogSoftmax, ReLU, ReLU6, Sigmoid, SiLU, Softmax, Softplus
from nn.activation import Tanh
from nn.conv import Conv2d, ConvTranspose2d
from nn.linear import Flatten, Linear, Unflatten
from nn.loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, KLDivLoss, L1Loss, MSELoss, NLLLoss, SmoothL1Loss
from nn.normalization import BatchNorm1d, BatchNorm2d, Dropout, Dropout2d, LayerNorm
from nn.sparse import Embedding
from nn.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from nn import data, datasets, optim
from nn.checkpoint import CheckpointError, load, save
from nn.summary import summary  # (the function: nn.summary(model, input_size))

__all__ = [
    "AdaptiveAvgPool2d", "AvgPool2d", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "Conv2d",
    "ConvTranspose2d", "CrossEntropyLoss", "Dropout", "Flatten", "Identity", "LeakyReLU", "Linear",
    "LogSoftmax", "MSELoss", "MaxPool2d", "Module", "ModuleList", "NLLLoss", "Parameter", "ReLU",
    "Sequential", "Sigmoid", "Softmax", "Tanh", "functional", "init", "data", "datasets", "optim", "save", "load",
    "CheckpointError", "summary", "BCELoss", "Dropout2d", "ELU", "Embedding", "GELU", "Hardtanh", "KLDivLoss",
    "L1Loss", "LayerNorm", "ModuleDict", "ParameterList", "ReLU6", "SiLU", "SmoothL1Loss", "Softplus", "Unflatten",
]  # fmt: skip
