# %% [markdown]
# # Train a ConvNet on handwritten digits
#
# Lecture sections 6 and 7. We build the lecture's typical architecture,
#
# `[(CONV-RELU)*2 - POOL] - [(CONV-RELU) - POOL] - FC - SOFTMAX`,
#
# train it on small images of handwritten digits while watching its health live, and then
# look at what people look at: the training curves, the learned filters, the activation maps
# and the model's computational graph. At the end we save a checkpoint and load it back.
# This notebook covers:
#
# 1. the data: 1,797 grey-scale 8x8 digits;
# 2. the model, its shapes, parameter counts and multiply-adds (`nn.summary`);
# 3. a PyTorch-style training loop, watched by `viz.monitor`;
# 4. training health: activations, gradients and the size of the updates;
# 5. loss and accuracy curves;
# 6. the learned filters and activation maps;
# 7. the graph of the model, one box per layer;
# 8. saving and loading the model and the optimizer.
#
# Everything is seeded, so each run gives the same numbers; training takes a few seconds.

# %%
# %matplotlib inline
import tempfile
import time
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

import autograd
import nn
import viz
from viz.plots import plot_activations, plot_filters, plot_history

autograd.manual_seed(0)  # the initial weights
# The images are tiny (8x8), so every matrix product is small: several BLAS threads would
# spend more time coordinating than computing (on a busy machine, ten times more).
threadpool_limits(limits=1)

# %% [markdown]
# ## 1. The data
#
# `nn.datasets.load_digits()` gives scikit-learn's 1,797 handwritten digits, split into
# 1,437 for training and 360 for testing. Each image is a tensor of shape (1, 8, 8): one
# channel (grey), 8x8 pixels, scaled to [0, 1]. Each label is a number from 0 to 9.

# %%
train, test = nn.datasets.load_digits()
image, label = train[0]
print(f"{len(train)} training and {len(test)} test images; image {image.shape} {image.dtype}, label {label.item()}")
assert (len(train), len(test)) == (1437, 360) and image.shape == (1, 8, 8)
assert 0 <= image.min() and image.max() <= 1


# %%
def show_digits(images, titles, ncols=10):
    """A row (or a grid) of small grey-scale images, each with a title."""
    ncols = max(1, min(ncols, len(images)))
    nrows = max(1, -(-len(images) // ncols))
    fig = Figure(figsize=(1.1 * ncols, 1.25 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, pixels, title in zip(axes, images, titles):
        ax.imshow(pixels, cmap="gray_r")  # strokes are dark, on white
        ax.set_title(title, fontsize=9)
    return fig


images, labels = train.tensors
first = [int(np.flatnonzero(labels.numpy() == d)[0]) for d in range(10)]  # the first image of each digit
show_digits([images[i, 0].numpy() for i in first], [f"label {labels[i].item()}" for i in first])

# %% [markdown]
# 8x8 pixels is very coarse, but the digits are still easy to tell apart for a person.
#
# A `DataLoader` cuts the data into mini-batches. The training loader shuffles the images
# in a new order every epoch; `seed=0` makes that order the same on every run.

# %%
train_loader = nn.data.DataLoader(train, batch_size=32, shuffle=True, seed=0)
test_loader = nn.data.DataLoader(test, batch_size=256)
images, labels = next(iter(train_loader))
print(f"{len(train_loader)} batches per epoch; a batch: images {images.shape}, labels {labels.shape}")
assert len(train_loader) == 45 and images.shape == (32, 1, 8, 8)

# %% [markdown]
# ## 2. The model
#
# Two 3x3 conv layers with ReLUs, a 2x2 max pool, one more conv-ReLU-pool, and a fully
# connected layer that gives 10 scores, one per digit. Padding 1 keeps the size of a 3x3
# convolution ((8 - 3 + 2)/1 + 1 = 8) and each pool halves it: 8 -> 4 -> 2. The softmax
# is part of the loss (`nn.CrossEntropyLoss`), as in PyTorch.


# %%
def make_convnet():
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 16, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),  # 8x8 -> 4x4
        nn.Conv2d(16, 32, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),  # 4x4 -> 2x2
        nn.Flatten(),  # 32 x 2 x 2 -> 128
        nn.Linear(32 * 2 * 2, 10),
    )


model = make_convnet()
print(model)

# %% [markdown]
# Let's follow one batch through the layers and count the parameters. A conv layer with
# K filters of size F x F over C input channels has `F*F*C*K` weights and `K` biases.

# %%
x = images
for i, layer in enumerate(model):
    x = layer(x)
    n = sum(p.numel() for p in layer.parameters())
    print(f"{i}: {type(layer).__name__:<9} output {str(tuple(x.shape)):<16} parameters {n}")

counts = [sum(p.numel() for p in layer.parameters()) for layer in model]
assert counts[0] == 3 * 3 * 1 * 16 + 16 and counts[2] == 3 * 3 * 16 * 16 + 16
assert counts[5] == 3 * 3 * 16 * 32 + 32 and counts[9] == 128 * 10 + 10
assert x.shape == (32, 10) and sum(counts) == 8410
print("total:", sum(counts), "parameters")

# %% [markdown]
# `nn.summary` makes this table in one call (as `torchinfo.summary` does for PyTorch). It runs
# the model once on zeros of the given shape (batch first) and lists every layer, indented
# by depth, with its output shape, its parameters and its *multiply-adds*: each number a
# conv layer outputs is a dot product over `C_in x F x F` inputs, one multiply-add per
# weight. The first conv layer outputs 32 x 16 x 8 x 8 numbers from 1 x 3 x 3 inputs each:
# 294,912 multiply-adds. The second, with 16 input channels, costs 16 times as much and
# does almost two thirds of the model's work. The sizes at the bottom compare the weights
# (8,410 numbers) with the layers' outputs, which a training step keeps for backward: for one
# batch of 32 images those are already 20 times larger.

# %%
table = nn.summary(model, (32, 1, 8, 8))
assert table.total_params == sum(counts) == 8410
assert table.rows[1].mult_adds == 32 * 16 * 8 * 8 * (1 * 3 * 3)
assert table.rows[3].mult_adds == 32 * 16 * 8 * 8 * (16 * 3 * 3)
assert table.total_mult_adds == 7_413_760 and table.activations_bytes > 20 * table.params_bytes

# %% [markdown]
# ## 3. Training
#
# The loop is the same as in PyTorch. For every batch: clear the old gradients, run the
# model forward, compute the loss, backpropagate, and let the optimizer update the weights.
# After every epoch we measure the accuracy on the test images, which the model never
# trains on. The optimizer is Adam with a learning rate of 5e-3.
#
# `viz.monitor(model, optimizer, every=5)` watches the training: every 5 steps, hooks on the
# ReLUs record their outputs and the gradients that flow back into them, and
# `optimizer.step()` (which the monitor wraps) records how much each weight changed. The
# figure under the progress bar is redrawn in place while the model trains; section 4
# explains it. `detach()` removes every hook.


# %%
def evaluate(model, loader):
    """The fraction of images in ``loader`` that ``model`` classifies correctly."""
    model.eval()
    correct = total = 0
    with autograd.no_grad():  # no graph needed: we only look at the outputs
        for images, labels in loader:
            correct += (model(images).argmax(dim=1) == labels).sum().item()
            total += len(labels)
    model.train()
    return correct / total


epochs = 10
loss_fn = nn.CrossEntropyLoss()
optimizer = nn.optim.Adam(model.parameters(), lr=5e-3)
history = {"train loss": [], "train accuracy": [], "test accuracy": []}

health = viz.monitor(model, optimizer, every=5)  # live in Jupyter: one figure, redrawn in place
start = time.perf_counter()
for epoch in (bar := tqdm(range(1, epochs + 1), desc="training")):
    total_loss = correct = seen = 0
    for images, labels in train_loader:
        optimizer.zero_grad()
        logits = model(images)
        loss = loss_fn(logits, labels)
        loss.backward()
        optimizer.step()

        total_loss += loss.item() * len(labels)
        correct += (logits.argmax(dim=1) == labels).sum().item()
        seen += len(labels)

    history["train loss"].append(total_loss / seen)
    history["train accuracy"].append(correct / seen)
    history["test accuracy"].append(evaluate(model, test_loader))
    bar.set_postfix(loss=f"{total_loss / seen:.3f}", test_acc=f"{history['test accuracy'][-1]:.3f}")
    print(f"epoch {epoch:2d}: " + "  ".join(f"{k} {v[-1]:.3f}" for k, v in history.items()))

health.detach()  # the hooks are gone; the figure shows the last recorded step
test_accuracy = history["test accuracy"][-1]
print(f"trained in {time.perf_counter() - start:.1f} s; test accuracy {test_accuracy:.1%}")
assert test_accuracy >= 0.95

# %% [markdown]
# ## 4. Training health
#
# The figure above shows four diagnostics from Andrej Karpathy's lecture on activations,
# gradients and BatchNorm (makemore, part 3). He plots them by hand after training a deep
# network; `viz.monitor` records them while any model trains:
#
# 1. **activation distribution** (top left): a histogram of each ReLU's outputs (the y axis
#    is logarithmic), with their mean and std. *zero* is the fraction of outputs the ReLU
#    set to 0: no gradient flows back through those. (After a tanh or a sigmoid the monitor
#    reports the *saturated* fraction instead, outputs beyond 0.97, where the local gradient
#    is almost 0.) A layer whose outputs are nearly all zero, or whose std grows or shrinks
#    a lot from layer to layer, is a sign of a bad initialization.
# 2. **gradient distribution of the outputs** (top right): the gradient that reaches each
#    ReLU's output in backward. If it got much smaller (or larger) from the last layer to the
#    first, the early layers would learn much more slowly (or quickly) than the late ones.
# 3. **weight gradient distribution** (bottom left): each weight's gradient, with its
#    *grad:data* ratio, std(gradient) / std(weight): how large a gradient is compared with the
#    weight it belongs to.
# 4. **update:data ratio** (bottom right): for every recorded step, log10 of
#    std(update) / std(weight), how much one step of the optimizer changed each weight
#    relative to its spread. The lecture's rule of thumb is about 1e-3 (the dashed line at
#    -3): much lower and the network learns slowly, much higher and training is unstable.
#
# The numbers behind the figure are in the monitor:

# %%
for name, d in health.activations.items():
    print(f"ReLU {name}: mean {d.mean:.2f}, std {d.std:.2f}, outputs at zero {d.saturated:.0%}")
for name in health.layers:
    print(f"gradient at ReLU {name}: std {health.activation_grads[name].std:.1e}")
for name, log_ratio in health.updates.items():
    first, last = np.mean(log_ratio[:10]), np.mean(log_ratio[-10:])
    print(f"{name}: update:data 10^{first:.1f} in the first 50 steps, 10^{last:.1f} in the last 50")

zero = [d.saturated for d in health.activations.values()]
assert len(zero) == 3 and all(0.05 < z < 0.95 for z in zero)  # no ReLU layer is dead
grad_stds = [d.std for d in health.activation_grads.values()]
assert max(grad_stds) < 4 * min(grad_stds)  # gradients of similar size in every layer
assert len(health.update_steps) == epochs * len(train_loader) // 5
for log_ratio in health.updates.values():
    first, last = np.mean(log_ratio[:10]), np.mean(log_ratio[-10:])
    assert first > last and -3.5 < last < -2  # smaller steps later, near 1e-3

# %% [markdown]
# What this run shows: no ReLU layer is dead (from a third to three quarters of the outputs
# are zero, more in the deeper layers), and the gradients that reach the three ReLUs have
# similar sizes, so the first layer learns as well as the last. The update:data ratios start
# high, around 10^-1.5 (Adam's first steps are large), and then settle between about 10^-2
# and 10^-3, near the rule of thumb: a learning rate of 5e-3 suits this network. `make demo`
# trains the same model with a learning rate that decays to zero (a cosine schedule); its
# `out/monitor.png` shows the ratios falling far below 1e-3 as the learning rate shrinks.

# %% [markdown]
# ## 5. Training curves
#
# The loss (left axis) falls quickly during the first epochs and then flattens out.
# Training and test accuracy (right axis) stay close, so the model is not overfitting
# much.

# %%
plot_history(history, "ConvNet on the 8x8 digits")

# %% [markdown]
# Which test digits does it still get wrong? Often they are hard to read for a person too.

# %%
with autograd.no_grad():
    predicted = model(test.tensors[0]).argmax(dim=1).numpy()
wrong = np.flatnonzero(predicted != test.tensors[1].numpy())
print(f"{len(wrong)} of {len(test)} test digits are misclassified")
assert len(wrong) == round((1 - test_accuracy) * len(test))
show_digits(
    [test.tensors[0][i, 0].numpy() for i in wrong[:10]],
    [f"{test.tensors[1][i].item()}, said {predicted[i]}" for i in wrong[:10]],
)

# %% [markdown]
# ## 6. What the network learned
#
# The first layer's 16 filters, each 3x3 (light = large weight). With only 9 pixels they
# are hard to read, but many are light on one side and dark on the other: small edge
# detectors with different orientations. (Trained on colour photos, first-layer filters
# look like oriented edges and colour blobs.)

# %%
plot_filters(model[0], title="first-layer 3x3 filters")

# %% [markdown]
# Activation maps show where each filter responds on one image. Here is a test digit and
# the 16 maps after the first conv-ReLU (8x8 each): each map lights up on a different part
# of the strokes. A map that stays dark has a filter that found nothing it responds to in
# this image (the ReLU turned all its outputs to 0).

# %%
digit, digit_label = test[0]
show_digits([digit[0].numpy()], [f"test image, label {digit_label.item()}"], ncols=1)

# %%
plot_activations(model, digit, layer=model[1])

# %% [markdown]
# Deeper layers see more of the image at once: after the third conv layer each map is
# 4x4, and each of its neurons sees a larger part of the digit.

# %%
plot_activations(model, digit, layer=model[6])

# %% [markdown]
# ## 7. The graph of the model
#
# Inside `autograd.graph.record()` the engine keeps every intermediate value and gradient,
# and notes which module made each op. `viz.draw_graph(loss, model=model)` then draws the
# forward graph with one box per layer. Recording costs memory, so it is for looking, not
# for training. We record the loss of 8 test images and backpropagate it.

# %%
with autograd.graph.record():
    loss = loss_fn(model(test.tensors[0][:8]), test.tensors[1][:8])
loss.backward()
print(f"loss of 8 test images: {loss.item():.4f}")

# %% [markdown]
# With `depth=0` every layer is drawn as one node, with its input and output shapes and
# the norm of the gradient that flowed back into it. The cross-entropy loss after the model
# is one box too (its ops are listed inside it: log-softmax, picking each label's score, the
# mean); `collapse=` and `fold=True` choose other boxes.

# %%
viz.draw_graph(loss, model=model, depth=0)

# %% [markdown]
# Without `depth`, every op is drawn inside the box of the layer that ran it: the weights
# and biases are leaves (blue), each with the summary of its values and its gradient.

# %%
viz.draw_graph(loss, model=model)

# %% [markdown]
# ## 8. Checkpoints
#
# `nn.save` writes a `state_dict` to a safetensors file (no pickle, so loading a file never
# runs code) and `nn.load` reads it back. To use the weights we make a fresh model with the
# same architecture and load them into it; it then classifies the test set exactly as the
# trained model does.

# %%
checkpoints = tempfile.TemporaryDirectory(prefix="dagrad-checkpoint-")  # a scratch folder
folder = Path(checkpoints.name)
nn.save(model.state_dict(), folder / "convnet.safetensors")

restored = make_convnet()  # new random weights
print(f"fresh model: test accuracy {evaluate(restored, test_loader):.3f}")
restored.load_state_dict(nn.load(folder / "convnet.safetensors"))
print(f"loaded:      test accuracy {evaluate(restored, test_loader):.3f}")
print({k: tuple(v.shape) for k, v in nn.load(folder / "convnet.safetensors").items()})

assert evaluate(restored, test_loader) == test_accuracy
for (name, p), q in zip(model.named_parameters(), restored.parameters()):
    assert np.array_equal(p.detach().numpy(), q.detach().numpy()), name

# %% [markdown]
# To continue training later, save the optimizer too: Adam keeps a running average of
# each parameter's gradient and of its square (`exp_avg`, `exp_avg_sq`), plus a step count,
# and its hyperparameters. A fresh optimizer over the restored model's parameters loads
# that state, and then the two copies train exactly alike: one more step on the same batch
# gives the same weights. A fresh Adam *without* the saved state would take a different
# step.

# %%
nn.save(optimizer.state_dict(), folder / "adam.safetensors")
restored_optimizer = nn.optim.Adam(restored.parameters(), lr=5e-3)
restored_optimizer.load_state_dict(nn.load(folder / "adam.safetensors"))

state = restored_optimizer.state_dict()
print("per-parameter state:", sorted(state["state"][0]), " learning rate:", state["param_groups"][0]["lr"])
assert state["param_groups"][0]["lr"] == optimizer.param_groups[0]["lr"]

forgetful = make_convnet()  # the same weights, but an optimizer that starts from scratch
forgetful.load_state_dict(model.state_dict())
fresh_optimizer = nn.optim.Adam(forgetful.parameters(), lr=5e-3)

before = model[0].weight.detach().clone()
images, labels = next(iter(train_loader))
for net, opt in [(model, optimizer), (restored, restored_optimizer), (forgetful, fresh_optimizer)]:
    opt.zero_grad()
    loss_fn(net(images), labels).backward()
    opt.step()

assert not np.array_equal(model[0].weight.detach().numpy(), before.numpy())  # the step changed the weights
for (name, p), q, r in zip(model.named_parameters(), restored.parameters(), forgetful.parameters()):
    assert np.array_equal(p.detach().numpy(), q.detach().numpy()), name
    assert not np.array_equal(p.detach().numpy(), r.detach().numpy()), name
print("after one more step the restored model still equals the original; the one with a fresh Adam does not")
checkpoints.cleanup()  # delete the checkpoint files

# %% [markdown]
# **To remember:** a ConvNet is conv-ReLU blocks with pooling in between and a fully
# connected layer at the end; training is zero_grad, forward, loss, backward, step. Look
# at the curves, the filters and the activation maps to see what it learned, and save the
# optimizer's state along with the weights if you want to resume training.
