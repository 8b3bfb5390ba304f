"""Whole PyTorch programs, written as tutorials write them, run twice: as written with PyTorch (live,
or its frozen printout without torch) and with the word ``torch`` replaced by ``autograd``. The
printed numbers must agree, seeded randomness included (dagrad's generator is PyTorch's)."""

import contextlib
import io
import re

import numpy as np
import pytest

import autograd.backends  # noqa: F401  (until autograd/__init__.py imports these: autograd.cuda etc.)
import autograd.cuda  # noqa: F401
import autograd.utils.data  # noqa: F401
from autograd import _modules

MLP_WITH_DATALOADER = """
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset, random_split

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"

# a small synthetic data set: two noisy blobs per class
n = 240
labels = torch.randint(0, 3, (n,))
centers = torch.tensor([[2.0, 0.0], [-1.0, 1.5], [-1.0, -1.5]])
features = centers[labels] + 0.7 * torch.randn(n, 2)
dataset = TensorDataset(features, labels)
train_set, val_set = random_split(dataset, [0.75, 0.25], generator=torch.Generator().manual_seed(42))
train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
val_loader = DataLoader(val_set, batch_size=64)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 16)
        self.fc2 = nn.Linear(16, 3)
        self.dropout = nn.Dropout(0.1)

    def forward(self, x):
        return self.fc2(self.dropout(F.relu(self.fc1(x))))


model = MLP().to(device)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()

for epoch in range(4):
    model.train()
    total = 0.0
    for x, y in train_loader:
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * x.shape[0]
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in val_loader:
            correct += (model(x).argmax(dim=1) == y).sum().item()
    print(f"epoch {epoch}: train loss {total / len(train_set):.6f}, val accuracy {correct / len(val_set):.6f}")
print(f"first weight row {model.fc1.weight[0, 0].item():.6f} {model.fc1.weight[0, 1].item():.6f}")
"""

REGRESSION_WITH_SCHEDULER = """
import torch
from torch import nn
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(1)
x = torch.linspace(-2, 2, 64).unsqueeze(1)
y = torch.sin(x) + 0.1 * torch.randn(64, 1)
loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, drop_last=True)
model = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
scheduler = StepLR(optimizer, step_size=3, gamma=0.5)
criterion = nn.MSELoss()
for epoch in range(8):
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
    scheduler.step()
    print(f"epoch {epoch} lr {scheduler.get_last_lr()[0]:.6f} loss {loss.item():.6f}")
with torch.no_grad():
    print(f"prediction at 0.5: {model(torch.tensor([[0.5]])).item():.6f}")
"""

ATTENTION_WITH_EINSUM = """
import torch
import torch.nn as nn

torch.manual_seed(3)
vocab, T, d = 7, 6, 8
data = torch.randint(0, vocab, (32, T + 1))
inputs, targets = data[:, :-1], data[:, 1:]


class TinyAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.out = nn.Linear(d, vocab)

    def forward(self, idx):
        x = self.embed(idx)
        q, k, v = self.qkv(x).split(d, dim=-1)
        scores = torch.einsum("btd,bsd->bts", q, k) / d**0.5
        causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
        scores = scores.masked_fill(~causal, float("-inf"))
        weights = scores.softmax(dim=-1)
        return self.out(torch.einsum("bts,bsd->btd", weights, v) + x)


model = TinyAttention()
optimizer = torch.optim.AdamW(model.parameters(), lr=0.05)
for step in range(6):
    logits = model(inputs)
    # cross-entropy written out: log-sum-exp of the logits minus the target's logit
    picked = logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    loss = (torch.logsumexp(logits, dim=-1) - picked).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print(f"step {step} loss {loss.item():.6f} largest grad {model.qkv.weight.grad.abs().amax().item():.6f}")

w = model.out.weight
print(f"row norms {torch.einsum('ij,ij->i', w, w).sqrt()[:3].tolist()}")
print(f"dot {torch.dot(w[0], w[1]).item():.6f} outer trace {torch.outer(w[0], w[1]).diag().sum().item():.6f}")
print(f"large weights {torch.masked_select(w, w.abs() > 0.3).numel()} first {torch.nonzero(w.abs() > 0.3)[0].tolist()}")
print(f"stacked {tuple(torch.vstack([w[0], w[1]]).shape)} {tuple(torch.hstack([w[0], w[1]]).shape)}")
"""

PROGRAMS = {
    "mlp_with_dataloader": MLP_WITH_DATALOADER,
    "regression_with_scheduler": REGRESSION_WITH_SCHEDULER,
    "attention_with_einsum": ATTENTION_WITH_EINSUM,
}


def run(source: str) -> str:
    """Run a program's source as a script and return what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, "<program>", "exec"), {"__name__": "__main__"})
    return out.getvalue()


def numbers(text: str) -> list[float]:
    return [float(s) for s in re.findall(r"-?\d+\.\d+|-?\d+", text)]


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_runs_the_same_after_renaming_torch(oracle, name):
    _modules.install()  # import autograd.nn as nn (autograd/__init__.py may already have done this)
    source = PROGRAMS[name]
    ours = run(source.replace("torch", "autograd"))
    theirs = oracle(lambda torch, name: run(PROGRAMS[name]), name)
    assert ours.count("\n") == theirs.count("\n") and ours.count("\n") >= 5, (ours, theirs)
    np.testing.assert_allclose(numbers(ours), numbers(theirs), rtol=2e-5, atol=2e-6, err_msg=f"{ours}\n{theirs}")
