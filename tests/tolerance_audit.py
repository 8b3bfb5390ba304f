"""How close each comparison came to its tolerance: ``DAGRAD_TOLERANCE_AUDIT=FILE make test``.

Every ``np.testing.assert_allclose`` in the run records, per test, the largest ratio of an
observed difference to the tolerance it was allowed (``|actual - desired| / (atol + rtol *
|desired|)``; 1.0 fails). A float32 comparison whose ratio reaches 0.1 sits within 10x of its
limit: on another CPU (other SIMD widths, other summation orders) it may fail, so its tolerance
must come from float32 rounding rather than from one machine's result. The records are appended
to FILE as JSON lines; ``python tests/tolerance_audit.py FILE...`` prints the worst per test.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

_records: dict[str, dict[str, Any]] = {}
_current = {"test": None}


def _ratio(actual: Any, desired: Any, rtol: float, atol: float) -> tuple[float, str]:
    a, d = np.asarray(actual), np.asarray(desired)
    try:
        a, d = np.broadcast_arrays(a, d)
    except ValueError:
        return 0.0, ""
    if a.dtype.kind not in "fc" and d.dtype.kind not in "fc":
        return 0.0, str(a.dtype)
    a64, d64 = a.astype(np.complex128 if "c" in a.dtype.kind + d.dtype.kind else np.float64), d.astype(np.float64)
    finite = np.isfinite(a64) & np.isfinite(d64)
    if not finite.any():
        return 0.0, str(a.dtype)
    allowed = atol + rtol * np.abs(d64[finite])
    diff = np.abs(a64[finite] - d64[finite])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(allowed > 0, diff / np.where(allowed > 0, allowed, 1), np.where(diff > 0, np.inf, 0))
    narrow = min(a.dtype, d.dtype, key=lambda t: t.itemsize if t.kind in "fc" else 99)
    return float(ratios.max()), str(narrow)


def install(path: str) -> None:
    """Wrap ``np.testing.assert_allclose`` so that each call records its ratio."""
    original: Callable = np.testing.assert_allclose

    def audited(actual, desired, rtol=1e-7, atol=0, *args, **kwargs):
        test = _current["test"]
        if test is not None:
            ratio, dtype = _ratio(actual, desired, rtol, atol)
            worst = _records.setdefault(test, {"test": test, "ratio": 0.0})
            if ratio >= worst["ratio"]:
                worst.update(ratio=ratio, dtype=dtype, rtol=rtol, atol=atol)
        return original(actual, desired, rtol, atol, *args, **kwargs)

    np.testing.assert_allclose = audited
    _current["path"] = path


def start(test: str) -> None:
    _current["test"] = test


def finish() -> None:
    _current["test"] = None
    if _records:
        with open(_current["path"], "a") as f:
            for record in _records.values():
                f.write(json.dumps(record) + "\n")
        _records.clear()


def main(paths: list[str]) -> None:
    worst: dict[str, dict] = {}
    for path in paths:
        with open(path) as f:
            for line in f:
                r = json.loads(line)
                if r["ratio"] >= worst.get(r["test"], {"ratio": -1})["ratio"]:
                    worst[r["test"]] = r
    rows = sorted(worst.values(), key=lambda r: -r["ratio"])
    print(f"{len(rows)} tests compared values; within 10x of the tolerance (ratio >= 0.1):")
    for r in rows:
        if r["ratio"] >= 0.1:
            print(
                f"  {r['ratio']:8.3f}  {r.get('dtype', '?'):>8}  rtol={r.get('rtol')} atol={r.get('atol')}  {r['test']}"
            )


if __name__ == "__main__":
    main(sys.argv[1:] or [os.environ.get("DAGRAD_TOLERANCE_AUDIT", "tolerance-audit.jsonl")])
