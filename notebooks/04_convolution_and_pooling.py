# %% [markdown]
# # Convolution and pooling
#
# Lecture sections 5 and 6. A convolution layer slides small filters over an image. At
# each position it takes a dot product between the filter and the patch under it, plus a
# bias, and that gives one number of an *activation map*. A pooling layer then shrinks
# each map. This notebook covers:
#
# 1. the spatial arithmetic: how big the output is, and when a filter does not fit;
# 2. shapes and parameter counts of real layers (`nn.Conv2d`);
# 3. 1x1 convolutions;
# 4. convolution as sliding dot products, checked against a plain Python loop;
# 5. max pooling and where its gradient goes;
# 6. activation maps of edge filters on a handwritten digit.
#
# Shapes follow PyTorch: images are (N, C, H, W), conv weights are (C_out, C_in, kH, kW).

# %%
# %matplotlib inline
import numpy as np
from matplotlib.figure import Figure

import autograd
import nn
from autograd import conv2d, conv_arithmetic, max_pool2d
from viz.plots import plot_activations, plot_filters

autograd.manual_seed(0)

# %% [markdown]
# ## 1. Spatial arithmetic
#
# Input size N, filter size F, stride S, zero padding P:
#
# **output = (N - F + 2P) / S + 1**
#
# `autograd.conv_arithmetic` does this calculation for one axis and says whether the filter
# fits exactly. We start with the lecture's 7x7 input and 3x3 filter.

# %%
for stride in (1, 2, 3):
    print(f"stride {stride}:", conv_arithmetic(7, 3, stride=stride))
print("pad 1:   ", conv_arithmetic(7, 3, stride=1, padding=1))

assert conv_arithmetic(7, 3, stride=1).output_size == 5
assert conv_arithmetic(7, 3, stride=2).output_size == 3
assert conv_arithmetic(7, 3, stride=1, padding=1).output_size == 7
geo = conv_arithmetic(7, 3, stride=3)
assert not geo.fits and geo.leftover == 1  # (7 - 3)/3 + 1 = 2.33: one column is left over

# %% [markdown]
# With stride 3 the filter does not fit: it covers columns 0-2 and 3-5, and column 6 is
# left over. PyTorch (and dagrad) silently drop that column; the formula shows the
# mismatch as a fraction.
#
# Zero padding of (F - 1) / 2 keeps the size the same at stride 1: 1 for F=3, 2 for F=5,
# 3 for F=7.

# %%
for F in (3, 5, 7):
    P = (F - 1) // 2
    size = conv_arithmetic(32, F, padding=P).output_size
    print(f"F={F}, P={P}: 32 -> {size}")
    assert size == 32

# %% [markdown]
# ## 2. Real layers: shapes and parameters
#
# The lecture's layer: a 32x32x3 input and 10 filters of 5x5, stride 1, pad 2. Each filter
# spans the full input depth, so it has `5*5*3 = 75` weights plus one bias:
# `10 * (5*5*3 + 1) = 760` parameters. `nn.Conv2d` has PyTorch's signature,
# `Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True)`.

# %%
x = autograd.randn(1, 3, 32, 32)
conv = nn.Conv2d(3, 10, 5, padding=2)
y = conv(x)
n_params = sum(p.numel() for p in conv.parameters())
print(conv)
print("output:", y.shape, "  parameters:", n_params, [tuple(p.shape) for p in conv.parameters()])
assert y.shape == (1, 10, 32, 32)
assert n_params == 10 * (5 * 5 * 3 + 1) == 760

# %% [markdown]
# Without padding, six 5x5 filters give a 28x28x6 volume (one 28x28 map per filter). A
# ConvNet stacks such layers with activations in between, and without padding the maps
# shrink at every layer: 32 -> 28 -> 24.

# %%
convnet = nn.Sequential(nn.Conv2d(3, 6, 5), nn.ReLU(), nn.Conv2d(6, 10, 5), nn.ReLU())
h = x
for layer in convnet:
    h = layer(h)
    print(f"{type(layer).__name__:<7} -> {tuple(h.shape)}")
assert convnet[0](x).shape == (1, 6, 28, 28)
assert h.shape == (1, 10, 24, 24)

# %% [markdown]
# `groups` splits the channels into independent convolutions. With `groups=in_channels`,
# each filter sees a single channel (a *depthwise* convolution), which needs far fewer
# weights.

# %%
full = nn.Conv2d(64, 64, 3)
depthwise = nn.Conv2d(64, 64, 3, groups=64)
count = {name: sum(p.numel() for p in m.parameters()) for name, m in [("full", full), ("depthwise", depthwise)]}
print(count)
assert count == {"full": 64 * 64 * 9 + 64, "depthwise": 64 * 9 + 64}

# %% [markdown]
# ## 3. 1x1 convolutions
#
# A 1x1 filter looks at one pixel, but through the full depth. On a 56x56x64 input, 32
# filters of 1x1 give 56x56x32, and each output number is a 64-dimensional dot product. In
# effect it is a fully connected layer applied at every pixel, so it changes the depth and
# keeps the spatial size.

# %%
x = autograd.randn(1, 64, 56, 56)
w = autograd.randn(32, 64, 1, 1)
y = conv2d(x, w)
print("input", x.shape, "-> output", y.shape)
assert y.shape == (1, 32, 56, 56)

i, j = 10, 20  # any position
dot = w[:, :, 0, 0] @ x[0, :, i, j]  # 32 dot products of length 64
np.testing.assert_allclose(y[0, :, i, j].numpy(), dot.numpy(), rtol=1e-4, atol=1e-4)
print(f"output at ({i}, {j}) == w @ (the 64 input channels at ({i}, {j}))")

# %% [markdown]
# ## 4. Convolution is a sliding dot product
#
# Here is the definition written as Python loops: pad the input, put the filter on each
# position (moving by the stride), and take the dot product with the patch under it. With
# C_in = 2 channels and 3x3 filters each dot product has `2*3*3 = 18` terms (for the
# lecture's 5x5x3 filter it is 75). `conv2d` computes the same numbers, only faster.

# %%
rng = np.random.default_rng(0)
C_in, C_out, H, F, S, P = 2, 3, 5, 3, 2, 1
x = rng.standard_normal((1, C_in, H, H))
w = rng.standard_normal((C_out, C_in, F, F))
b = rng.standard_normal(C_out)

out = conv_arithmetic(H, F, stride=S, padding=P).output_size
xp = np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))  # zero padding
y_loop = np.zeros((1, C_out, out, out))
for o in range(C_out):  # one activation map per filter
    for r in range(out):
        for c in range(out):
            patch = xp[0, :, r * S : r * S + F, c * S : c * S + F]  # (C_in, F, F): the full depth
            y_loop[0, o, r, c] = np.dot(patch.ravel(), w[o].ravel()) + b[o]

y = conv2d(autograd.tensor(x), autograd.tensor(w), autograd.tensor(b), stride=S, padding=P)
print(f"5x5 input, 3x3 filters, stride 2, pad 1 -> {out}x{out} maps; output shape {y.shape}")
np.testing.assert_allclose(y.numpy(), y_loop, rtol=1e-12)
print("conv2d == the loop")

# %% [markdown]
# ## 5. Max pooling and its gradient
#
# Pooling shrinks each activation map separately; the depth does not change, and the layer
# has no parameters. The lecture's example is a 2x2 max pool with stride 2.

# %%
x = autograd.tensor([[[[1.0, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]]], requires_grad=True)
y = max_pool2d(x, 2, stride=2)
print(y.detach()[0, 0])
assert y[0, 0].tolist() == [[6, 8], [3, 4]]

# %% [markdown]
# In backward, each output's gradient goes to the input that won the max in its window.
# The other inputs did not affect the output, so their gradient is 0. With an upstream
# gradient of [[10, 20], [30, 40]], we can see where each number ends up:

# %%
y.backward(autograd.tensor([[[[10.0, 20.0], [30.0, 40.0]]]]))
print(x.grad[0, 0])
assert x.grad[0, 0].tolist() == [[0, 0, 0, 0], [0, 10, 0, 20], [30, 0, 0, 0], [0, 0, 0, 40]]

# %% [markdown]
# The same layer as a module, on the lecture's 224x224x64 volume: the size halves and the
# depth stays 64. Last comes a fully connected layer, which sees the whole volume
# stretched into one vector (32x32x3 -> 3072).

# %%
pool = nn.MaxPool2d(2, stride=2)
print("pool:   ", pool(autograd.zeros(1, 64, 224, 224)).shape, " parameters:", len(list(pool.parameters())))
assert pool(autograd.zeros(1, 64, 224, 224)).shape == (1, 64, 112, 112)
assert list(pool.parameters()) == []

flat = nn.Flatten()(autograd.randn(1, 3, 32, 32))
print("flatten:", flat.shape)
assert flat.shape == (1, 3072)

# %% [markdown]
# ## 6. Activation maps of edge filters
#
# What does a filter respond to? Let's make four 3x3 edge detectors by hand. A vertical
# edge filter weights the right column +1, +2, +1 and the left column -1, -2, -1, so it
# responds where the image gets brighter from left to right. The other three filters are
# rotations of it.
#
# First a check on a made-up image, dark on the left and bright on the right: the vertical
# edge filter responds only along the edge, and the horizontal one not at all.

# %%
edge = np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])  # dark -> bright from left to right
filters = np.stack([edge, -edge, edge.T, -edge.T])[:, None]  # (4, 1, 3, 3)
names = ["dark|bright", "bright|dark", "dark over bright", "bright over dark"]

step = np.zeros((1, 1, 6, 6), np.float32)
step[..., 3:] = 1.0  # the edge lies between columns 2 and 3
response = conv2d(autograd.tensor(step), autograd.tensor(filters, dtype=autograd.float32))
print("vertical edge filter:\n", response[0, 0].numpy())
assert (response[0, 0, :, 1:3] == 4).all() and (response[0, 0, :, [0, 3]] == 0).all()
assert (response[0, 2] == 0).all()  # the horizontal one sees nothing

# %% [markdown]
# Now the same filters on a handwritten digit from `nn.datasets.load_digits()` (8x8
# grey-scale images, scaled to [0, 1]). We put them in an `nn.Conv2d` (padding 1 keeps the
# 8x8 size) followed by a ReLU, so that each map keeps only its own direction of edge.

# %%
digits = nn.datasets.load_digits()
first_zero = next(i for i in range(len(digits.train)) if digits.train[i][1].item() == 0)
image, label = digits.train[first_zero]  # a 0 has edges in every direction
print("image", image.shape, "label", label.item())


def show_image(pixels, title):
    fig = Figure(figsize=(2, 2), layout="constrained")
    ax = fig.subplots()
    ax.imshow(pixels, cmap="gray")  # strokes are bright
    ax.set_title(title)
    ax.axis("off")
    return fig


show_image(image[0].numpy(), f"digit {label.item()}")

# %%
conv = nn.Conv2d(1, 4, 3, padding=1, bias=False)
conv.weight.data[...] = filters  # hand-made weights instead of learned ones
model = nn.Sequential(conv, nn.ReLU())
plot_filters(conv, ncols=4, title="hand-made edge filters")

# %%
plot_activations(model, image, layer=model[1], ncols=4)

# %% [markdown]
# Each map lights up on one side of the strokes: map 0 on their left edges (dark to bright
# going right), map 1 on their right edges, map 2 on their tops and map 3 on their bottoms.
# The first layer of a trained ConvNet learns filters much like these (oriented edges and
# colour blobs), and later layers combine them. Together the four maps cover every stroke
# of the digit:

# %%
maps = model(image.unsqueeze(0))[0].detach().numpy()
print("active pixels per map:", dict(zip(names, (maps > 0).sum(axis=(1, 2)).tolist())))
strokes = image[0].numpy() > 0.5
assert maps.shape == (4, 8, 8) and (maps.max(axis=0)[strokes] > 0).mean() > 0.9

# %% [markdown]
# **To remember:** output = (N - F + 2P)/S + 1. A conv layer has K filters of F x F x C
# (`F*F*C*K` weights and `K` biases), each filter gives one activation map, and every number
# in a map is a dot product over the full depth. Max pooling sends the gradient to the
# winner of each window.
