"""Matrix multiplication (1-d, 2-d and batched with broadcasting), as numpy.matmul."""

from __future__ import annotations

import numpy as np

from autograd.function import Op
from autograd.ops import either
from autograd.ops.reduce import unbroadcast
from autograd.tensor import Tensor


class MatMul(Op):
    """y = x @ w. Shapes: x (*, N, D), w (*, D, M) -> y (*, N, M); 1-d operands as numpy.

    The Jacobian dy/dx would be (N x D) x (N x M); backward never forms it:
    dL/dx = dL/dy @ w^T and dL/dw = x^T @ dL/dy — the only products whose shapes match.
    """

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        a, b = x._data, w._data
        if a.ndim == 2 and b.ndim == 2 and a.shape[1] == b.shape[0] and a.dtype is b.dtype:
            return a.dot(b)  # two matrices (``dot``: the same product as @, 2-3x faster when small)
        check_matmul(x, w)  # anything else is checked first, for a clear error
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        # dL/dx = dL/dy @ w^T, dL/dw = x^T @ dL/dy: the Jacobian is never formed
        x, w = ctx.saved_tensors
        x_needs, w_needs = ctx.needs_input_grad
        if x.ndim == 2 and w.ndim == 2:  # matrices: dL/dx = dL/dy @ w^T, dL/dw = x^T @ dL/dy
            return (either.mm(grad, w.T) if x_needs else None, either.mm(x.T, grad) if w_needs else None)
        if x.ndim > 1 and w.ndim > 1:  # batches of matrices (broadcast batch dimensions sum back)
            return (
                unbroadcast(grad @ w.mT, x.shape, x.dtype) if x_needs else None,
                unbroadcast(x.mT @ grad, w.shape, w.dtype) if w_needs else None,
            )
        if x.ndim == 1 and w.ndim == 1:  # dot product: grad is 0-d
            return (grad * w if x_needs else None, grad * x if w_needs else None)
        # Treat vectors as matrices: x (D,) -> (1, D), w (D,) -> (D, 1), and grad to match.
        x2 = either.unsqueeze(x, 0) if x.ndim == 1 else x
        w2 = either.unsqueeze(w, 1) if w.ndim == 1 else w
        if x.ndim == 1:
            grad = either.unsqueeze(grad, grad.ndim - 1)
        if w.ndim == 1:
            grad = either.unsqueeze(grad, grad.ndim)
        gx = gw = None
        if x_needs:  # dL/dx = dL/dy @ w^T
            gx = unbroadcast(grad @ w2.mT, x2.shape, x.dtype)
        if w_needs:  # dL/dw = x^T @ dL/dy
            gw = unbroadcast(x2.mT @ grad, w2.shape, w.dtype)
        return (
            gx if x.ndim > 1 or gx is None else gx.reshape(x.shape),
            gw if w.ndim > 1 or gw is None else gw.reshape(w.shape),
        )


def matmul(x: Tensor, w: Tensor) -> Tensor:
    """Matrix product with numpy.matmul semantics (vectors, matrices, batches)."""
    return MatMul.apply(x, w)


def check_matmul(x: Tensor, w: Tensor) -> None:
    """Raise a clear error unless ``x @ w`` is defined."""
    x, w = x._data, w._data  # (the arrays: their attributes are cheaper to read than a Tensor's)
    if x.dtype != w.dtype:
        raise TypeError(f"matmul needs operands of one dtype, got {x.dtype} and {w.dtype}; convert one with .to(dtype)")
    if x.ndim == 0 or w.ndim == 0:
        raise ValueError(f"matmul needs at least 1-d operands, got shapes {x.shape} and {w.shape}")
    inner_x = x.shape[-1]
    inner_w = w.shape[0] if w.ndim == 1 else w.shape[-2]
    if inner_x != inner_w:
        raise ValueError(
            f"matmul shapes {x.shape} and {w.shape} do not match: the last dimension of the "
            f"first ({inner_x}) must equal the {'only' if w.ndim == 1 else 'second-to-last'} "
            f"dimension of the second ({inner_w})"
        )
    if x.ndim > 2 or w.ndim > 2:
        try:
            np.broadcast_shapes(x.shape[:-2], w.shape[:-2])
        except ValueError:
            raise ValueError(f"matmul batch dimensions of {x.shape} and {w.shape} do not broadcast") from None


def mm(x: Tensor, w: Tensor) -> Tensor:
    """The product of two matrices: (n, m) @ (m, p) -> (n, p); no broadcasting."""
    if x.ndim != 2 or w.ndim != 2:
        raise RuntimeError(f"mm(): both arguments must be matrices, got shapes {x.shape} and {w.shape}")
    return MatMul.apply(x, w)


def bmm(x: Tensor, w: Tensor) -> Tensor:
    """A batch of matrix products: (b, n, m) @ (b, m, p) -> (b, n, p); no broadcasting."""
    if x.ndim != 3 or w.ndim != 3:
        raise RuntimeError(
            f"bmm(): batch1 must be a 3D tensor and batch2 must be a 3D tensor, got {x.shape}, {w.shape}"
        )
    if x.shape[0] != w.shape[0]:
        raise RuntimeError(f"bmm(): batch1 and batch2 must have the same batch size, got {x.shape[0]} and {w.shape[0]}")
    return MatMul.apply(x, w)


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)`` (input broadcasts to the product's shape)."""
    product = mm(mat1, mat2)
    if alpha != 1:
        product = product * alpha
    return product + (input if beta == 1 else input * beta)


def outer(x: Tensor, y: Tensor) -> Tensor:
    """The outer product of two vectors: (n,) and (m,) -> (n, m), out[i, j] = x[i] * y[j]."""
    for name, v in (("self", x), ("vec2", y)):
        if v.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {v.ndim}-D")
    return x.reshape(-1, 1) * y.reshape(1, -1)  # a broadcast product: its backward sums the copies


def dot(x: Tensor, y: Tensor) -> Tensor:
    """The inner product of two vectors of one length and dtype: (n,) and (n,) -> 0-d."""
    if x.ndim != 1 or y.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {x.ndim}D and {y.ndim}D tensors")
    if x.shape != y.shape:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{x.shape[0]}] and src [{y.shape[0]}] to have the same "
            f"number of elements, but got {x.shape[0]} and {y.shape[0]} elements respectively"
        )
    if x.dtype != y.dtype:
        raise RuntimeError(
            f"dot : expected both vectors to have same dtype, but found {_scalar_type(x)} and {_scalar_type(y)}"
        )
    return MatMul.apply(x, y)


def _scalar_type(t: Tensor) -> str:
    """PyTorch's name of a tensor's element type in its messages (Float, Double, Long, ...)."""
    from autograd.tensor import _TYPE_NAMES

    return _TYPE_NAMES[t.dtype.name].removesuffix("Tensor")


# ---------------------------------------------------------------- einsum


class Einsum(Op):
    """y = the sum of products named by an explicit equation, e.g. "ij,jk->ik" (a matrix product).

    Shapes: each operand has one letter per dimension; y has the output's letters. Letters are
    distinct within the output. The gradient of operand k is itself an einsum: the upstream
    gradient times every other operand, summed over the letters operand k does not have. A letter
    repeated in operand k (a diagonal, "ii->i") also gets an identity matrix, which keeps the
    gradient on that diagonal; a letter only operand k has (summed away, "ij->i") gets a vector of
    ones, which copies the gradient along it.
    """

    @staticmethod
    def forward(ctx, *args):
        *tensors, inputs, output = args
        ctx.save_for_backward(*tensors)
        ctx.inputs, ctx.output = inputs, output
        arrays = [t._data for t in tensors]
        y = np.einsum(",".join(inputs) + "->" + output, *arrays, optimize=len(arrays) > 1)
        if len(arrays) == 1:  # numpy may return a view of the operand ("ij->ji", "ii->i"): a copy
            return np.array(y, order="C")
        return np.asarray(y, order="C")

    @staticmethod
    def backward(ctx, grad):
        # dL/dx_k = einsum(dL/dy, the other operands -> operand k's letters)
        tensors = ctx.saved_tensors
        grads = []
        for k, (x, letters) in enumerate(zip(tensors, ctx.inputs)):
            if not ctx.needs_input_grad[k]:
                grads.append(None)
                continue
            sizes = dict(zip(letters, x.shape))
            terms, operands = [ctx.output], [grad]
            for j, other in enumerate(tensors):
                if j != k:
                    terms.append(ctx.inputs[j])
                    operands.append(other)
            target, seen = "", set()
            spare = iter(sorted(set(_LETTERS) - set("".join(ctx.inputs)) - set(ctx.output)))
            for a in letters:
                if a in seen:  # a repeat: a new letter tied to the first by an identity matrix
                    b = next(spare)
                    terms.append(a + b)
                    operands.append(np.eye(sizes[a], dtype=x.dtype))
                    target += b
                else:
                    seen.add(a)
                    target += a
                    if not any(a in t for t in terms):  # only operand k has it: copy along it
                        terms.append(a)
                        operands.append(np.ones(sizes[a], dtype=x.dtype))
            grads.append(either.apply(Einsum, tuple(_same_kind(o, grad) for o in operands), terms, target))
        return (*grads, None, None)


_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _same_kind(operand: object, grad: object) -> object:
    """A constant (identity, ones) as a Tensor when the backward runs on Tensors."""
    if isinstance(grad, Tensor) and isinstance(operand, np.ndarray):
        return Tensor._make(operand)
    if isinstance(grad, np.ndarray) and isinstance(operand, Tensor):
        return operand._data
    return operand


def einsum(equation: str, *operands: Tensor) -> Tensor:
    """Einstein summation, as ``torch.einsum``: ``einsum("ij,jk->ik", a, b)`` is ``a @ b``.

    Each operand gets one letter (a-z, A-Z) per dimension; letters shared by operands are
    multiplied along, letters missing from the output are summed over. Without ``->`` the output
    is the letters that appear once, in alphabetical order. ``...`` stands for the dimensions not
    named (they broadcast, as in arithmetic), and size-1 dimensions broadcast against a letter's
    size. Operands may also come as one list: ``einsum("ii", [a])``.
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not all(isinstance(t, Tensor) for t in operands):
        raise TypeError("einsum(): operands must be Tensors (the sublist format is not supported)")
    inputs, output = _parse_einsum(equation, operands)
    floats = [t.dtype for t in operands if t.dtype.kind in "fc"]
    common = np.result_type(*floats) if floats else np.result_type(*[t.dtype for t in operands])
    operands = tuple(t.to(common) for t in operands)
    # a dimension of size 1 broadcasts against its letter's size: a view, before the op sees it
    sizes: dict[str, int] = {}
    for t, letters in zip(operands, inputs):
        for a, n in zip(letters, t.shape):
            if n != 1:
                sizes[a] = n
    wide = []
    for t, letters in zip(operands, inputs):
        shape = tuple(sizes.get(a, 1) if n == 1 else n for a, n in zip(letters, t.shape))
        wide.append(t if shape == t.shape else t.expand(shape))
    return Einsum.apply(*wide, inputs, output)


def _parse_einsum(equation: str, operands: tuple[Tensor, ...]) -> tuple[list[str], str]:
    """The equation with every ``...`` spelled out in spare letters and the output made explicit."""
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): the equation must be a string, got {type(equation).__name__}")
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(operands) < len(terms):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(operands) > len(terms):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    for i, ch in enumerate(eq):
        if ch not in _LETTERS and ch not in ".,->":
            raise RuntimeError(
                f"einsum(): invalid subscript given at index {i} in the equation string, subscripts must be in [a-zA-Z]"
            )
    named = set(eq) & set(_LETTERS)
    spare = [a for a in _LETTERS if a not in named]
    width = 0  # how many dimensions ... stands for (the most any operand has: they broadcast)
    for k, (term, t) in enumerate(zip(terms, operands)):
        if term.count("...") > 1 or term.replace("...", "").count(".") or term.count(".") % 3:
            raise RuntimeError(f"einsum(): found '.' for operand {k} that is not part of any ellipsis")
        letters = len(term.replace("...", ""))
        if "..." in term:
            if t.ndim < letters:
                raise RuntimeError(
                    f"einsum(): the number of subscripts in the equation ({letters}) is more than the number of "
                    f"dimensions ({t.ndim}) for operand {k}"
                )
            width = max(width, t.ndim - letters)
        elif letters != t.ndim:
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({letters}) does not match the number of "
                f"dimensions ({t.ndim}) for operand {k} and no ellipsis was given"
            )
    if width > len(spare):
        raise RuntimeError("einsum(): too many dimensions under '...' for the letters left in the equation")
    ellipsis = "".join(spare[:width])
    inputs = []
    for term, t in zip(terms, operands):
        if "..." in term:
            n = t.ndim - len(term.replace("...", ""))
            term = term.replace("...", ellipsis[width - n :])  # aligned on the right, as broadcasting
        inputs.append(term)
    if arrow:
        if rhs.count(".") and (rhs.count("...") != 1 or rhs.replace("...", "").count(".")):
            raise RuntimeError("einsum(): found '.' for output that is not part of any ellipsis")
        output = rhs.replace("...", ellipsis)
        for a in output:
            if output.count(a) > 1:
                raise RuntimeError(f"einsum(): output subscript {a} appears more than once in the output")
            if not any(a in term for term in inputs):
                raise RuntimeError(
                    f"einsum(): output subscript {a} does not appear in the equation for any input operand"
                )
    else:
        once = sorted(a for a in set(lhs) & set(_LETTERS) if lhs.count(a) == 1)
        output = ellipsis + "".join(once)
    _check_einsum_sizes(inputs, operands)
    return inputs, output


def _check_einsum_sizes(inputs: list[str], operands: tuple[Tensor, ...]) -> None:
    """Every letter names one size across the operands (or 1, which broadcasts)."""
    seen: dict[str, int] = {}
    for k, (letters, t) in enumerate(zip(inputs, operands)):
        for a, n in zip(letters, t.shape):
            first = t.shape[letters.index(a)]
            if n != first:
                raise RuntimeError(
                    f"einsum(): subscript {a} is repeated for operand {k} but the sizes don't match, {n} != {first}"
                )
            before = seen.get(a, 1)
            if n != 1 and before != 1 and n != before:
                raise RuntimeError(
                    f"einsum(): subscript {a} has size {n} for operand {k} which does not broadcast with "
                    f"previously seen size {before}"
                )
            if n != 1:
                seen[a] = n
