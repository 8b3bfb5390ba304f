"""Special functions: ``erf`` (GELU's exact form needs it), ``log1p`` and ``expm1``.

numpy has no erf, so it is computed here, vectorized, by a table-driven Taylor expansion
(the scheme of P. T. P. Tang's table-driven elementary functions):

    erf(x) = erf(c) + integral from c to x of (2/sqrt(pi)) e^(-t^2) dt,   c = x rounded to a multiple of 1/32

The integral is a Taylor series in h = x - c (|h| <= 1/64) whose coefficients follow from the
Hermite polynomials: d^k/dt^k e^(-t^2) = (-1)^k H_k(t) e^(-t^2), H_(k+1) = 2t H_k - 2k H_(k-1).
The table (erf(c) and 16 coefficients for each of the 193 centres in [0, 6]) is built once at
import from ``math.erf``; evaluation is one gather and a 16-step Horner loop over whole arrays.
Beyond |x| = 6, erf(x) rounds to +-1 in float64. The result is within 2 units in the last place
of the correctly rounded value (tests/test_surface_nn.py checks it against ``math.erf``).
"""

from __future__ import annotations

import math

import numpy as np

from autograd.function import Op
from autograd.ops import either
from autograd.ops.pointwise import float_data
from autograd.tensor import Tensor

_STEP = 1 / 32  # spacing of the table's centres
_TOP = 6.0  # erf(x) == 1.0 in float64 for x >= 6 (erfc(6) ~ 2e-17 is below half a unit)
_TERMS = 16  # Taylor terms: |h| <= 1/64 and |H_k(c)| / k! <= ~12^k / k! make the 16th negligible
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def _taylor_table() -> tuple[np.ndarray, np.ndarray]:
    """The centres c_i = i / 32 on [0, 6] and, per centre, [erf(c), a_1, ..., a_16] with
    a_(k+1) = (2/sqrt(pi)) e^(-c^2) (-1)^k H_k(c) / (k+1)!, so erf(c + h) = erf(c) + sum a_k h^k."""
    centres = np.arange(round(_TOP / _STEP) + 1) * _STEP
    rows = []
    for c in centres.tolist():
        scale = _TWO_OVER_SQRT_PI * math.exp(-c * c)
        hermite_prev, hermite = 0.0, 1.0  # H_(k-1)(c), H_k(c), starting at k = 0
        row, factorial = [math.erf(c)], 1.0
        for k in range(_TERMS):
            factorial *= k + 1
            row.append(scale * (-1) ** k * hermite / factorial)
            hermite_prev, hermite = hermite, 2 * c * hermite - 2 * k * hermite_prev
        rows.append(row)
    return centres, np.array(rows)


_CENTRES, _TABLE = _taylor_table()


def erf_array(x: np.ndarray) -> np.ndarray:
    """erf of a float64 array, elementwise (odd: erf(-x) = -erf(x); erf(+-inf) = +-1; NaN stays)."""
    a = np.abs(x)
    with np.errstate(invalid="ignore"):  # (NaN compares false: its index is clipped, its value kept NaN)
        index = np.clip(np.nan_to_num(np.rint(a / _STEP), nan=0.0), 0, len(_CENTRES) - 1).astype(np.intp)
    h = a - _CENTRES[index]  # exact: c is within 1/64 of a
    coefficients = _TABLE[index]  # (*, 17): erf(c), then the Taylor coefficients
    acc = coefficients[..., _TERMS]
    for k in range(_TERMS - 1, 0, -1):  # Horner's rule in h, over all elements at once
        acc = acc * h + coefficients[..., k]
    value = coefficients[..., 0] + acc * h
    value = np.where(a >= _TOP, 1.0, value)
    value = np.where(np.isnan(a), np.nan, value)
    return np.copysign(value, x)


class Erf(Op):
    """y = erf(x) = (2/sqrt(pi)) * integral from 0 to x of e^(-t^2) dt. Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x):
        data = float_data(x)
        ctx.save_for_backward(x)
        return erf_array(data.astype(np.float64, copy=False)).astype(data.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = (2/sqrt(pi)) e^(-x^2)
        (x,) = ctx.saved_tensors
        return grad * (either.exp(-(x * x)) * _TWO_OVER_SQRT_PI)


def erf(input: Tensor) -> Tensor:
    """The error function, elementwise (``torch.erf``); its gradient is (2/sqrt(pi)) e^(-x^2)."""
    return Erf.apply(input)
