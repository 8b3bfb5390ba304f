"""PyTorch's numbers as committed fixtures: the ``oracle`` fixture of the comparison tests.

A deterministic comparison test hands the PyTorch half of its work to ``oracle``::

    def test_linear(oracle):
        x = np.random.default_rng(0).standard_normal((4, 5))
        ours = program(autograd, x)                      # dagrad
        theirs = oracle(lambda torch, x: program(torch, x), x)
        np.testing.assert_allclose(ours, theirs, ...)

``oracle(fn, *args)`` returns ``fn(torch, *args)`` with every torch tensor in the result turned
into a numpy array (``torch.Size`` into a tuple, ``torch.dtype`` into its name such as
``"float32"``). Results are nested lists, tuples and dicts of arrays, numbers, strings and None.

Three modes, one test:

- torch is not installed: ``fn`` is not run; the value comes from ``tests/frozen/<module>.npz``,
  written by ``make oracle-freeze`` with torch 2.13.0. A test whose frozen value is missing, or
  whose inputs ``args`` differ from the frozen ones (hashed), fails and says to refreeze.
- torch is installed: ``fn`` runs live and its value is returned; where the installed torch is
  the frozen one's version the live value must also match the frozen one (a stale fixture fails).
- ``DAGRAD_ORACLE=freeze`` (``make oracle-freeze``): ``fn`` runs live and the values are written.

The random-program tests (hypothesis) use the ``torch`` fixture instead: they compare live only,
under ``make oracle``, and are skipped without torch.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

FROZEN_DIR = Path(__file__).parent / "frozen"
FROZEN_TORCH = "2.13.0"  # the version whose numbers are frozen (and that `make oracle-freeze` requires)
FREEZING = os.environ.get("DAGRAD_ORACLE") == "freeze"
LIVE_SKIP_REASON = "live PyTorch comparison (random programs): torch is not installed; run `make oracle`"

try:
    import torch as _torch
except ImportError:  # the fixtures stand in for it
    _torch = None


def torch_version() -> str | None:
    return None if _torch is None else _torch.__version__.split("+")[0]


# ---------------------------------------------------------------- values <-> JSON trees + arrays


def _to_plain(value: Any) -> Any:
    """torch objects in a result as numpy/Python ones (a copy, detached)."""
    if _torch is not None:
        if isinstance(value, _torch.Tensor):
            return np.array(value.detach().cpu().numpy())
        if isinstance(value, _torch.Size):
            return tuple(value)
        if isinstance(value, _torch.dtype):
            return str(value).replace("torch.", "")
    if isinstance(value, dict):
        return {k: _to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_plain(v) for v in value)
    return value


def _encode(value: Any, arrays: dict[str, np.ndarray], prefix: str) -> Any:
    """A JSON tree for ``value``; arrays go into ``arrays`` under keys starting with ``prefix``."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"v": value}
    if isinstance(value, (np.ndarray, np.generic)):
        key = f"{prefix}.{len(arrays)}"
        arrays[key] = np.asarray(value)
        return {"s" if isinstance(value, np.generic) else "a": key}
    if isinstance(value, (list, tuple)):
        return {"l" if isinstance(value, list) else "t": [_encode(v, arrays, prefix) for v in value]}
    if isinstance(value, dict):
        return {"d": [[_encode(k, arrays, prefix), _encode(v, arrays, prefix)] for k, v in value.items()]}
    raise TypeError(f"oracle: cannot freeze a {type(value).__name__}; return arrays, numbers, strings or containers")


def _decode(tree: Any, arrays: dict[str, np.ndarray]) -> Any:
    ((kind, body),) = tree.items()
    if kind == "v":
        return body
    if kind == "a":
        return np.array(arrays[body])
    if kind == "s":
        return arrays[body][()]
    if kind in ("l", "t"):
        items = [_decode(v, arrays) for v in body]
        return items if kind == "l" else tuple(items)
    return {_decode(k, arrays): _decode(v, arrays) for k, v in body}


def _digest(args: tuple) -> str:
    """A hash of the oracle's inputs (array dtypes, shapes and bytes; reprs of the rest)."""
    h = hashlib.sha256()

    def feed(v: Any) -> None:
        if isinstance(v, (np.ndarray, np.generic)):
            a = np.ascontiguousarray(v)
            h.update(f"array {a.dtype.str} {a.shape}".encode())
            h.update(a.tobytes())
        elif isinstance(v, (list, tuple)):
            h.update(f"{type(v).__name__}{len(v)}".encode())
            for item in v:
                feed(item)
        elif isinstance(v, dict):
            h.update(f"dict{len(v)}".encode())
            for k, item in v.items():
                feed(k)
                feed(item)
        else:
            h.update(repr(v).encode())

    feed(args)
    return h.hexdigest()[:16]


# ---------------------------------------------------------------- staleness: live against frozen


def _stale_diff(live: Any, frozen: Any, where: str = "result") -> str | None:
    """Why ``live`` differs from ``frozen`` beyond rounding across CPUs, or None."""
    if isinstance(frozen, (np.ndarray, np.generic)):
        live_a, frozen_a = np.asarray(live), np.asarray(frozen)
        if live_a.dtype != frozen_a.dtype or live_a.shape != frozen_a.shape:
            return f"{where}: {live_a.dtype}{live_a.shape} live, {frozen_a.dtype}{frozen_a.shape} frozen"
        if frozen_a.dtype.kind in "fc":
            finite = np.isfinite(frozen_a)
            if not np.array_equal(finite, np.isfinite(live_a)) or not np.array_equal(
                live_a[~finite], frozen_a[~finite], equal_nan=True
            ):
                return f"{where}: non-finite values differ"
            # rounding only: a relative error of the array's scale (float32 sums may run in any order)
            rel = 1e-3 if frozen_a.dtype.itemsize <= 4 else 1e-7
            scale = float(np.max(np.abs(frozen_a[finite]), initial=0.0))
            err = float(np.max(np.abs(live_a[finite] - frozen_a[finite]), initial=0.0))
            if err > rel * max(scale, 1e-30):
                return f"{where}: differs by {err:.3g} (scale {scale:.3g})"
            return None
        return None if np.array_equal(live_a, frozen_a) else f"{where}: values differ"
    if isinstance(frozen, float) and isinstance(live, float):
        if live == frozen or (np.isnan(frozen) and np.isnan(live)):  # (equal infinities too)
            return None
        close = np.isfinite(live) and np.isfinite(frozen) and abs(live - frozen) <= 1e-7 * max(abs(frozen), 1e-30)
        return None if close else f"{where}: {live!r} != {frozen!r}"
    if isinstance(frozen, (list, tuple)):
        if type(live) is not type(frozen) or len(live) != len(frozen):
            return f"{where}: structure differs"
        for k, (a, b) in enumerate(zip(live, frozen)):
            if (why := _stale_diff(a, b, f"{where}[{k}]")) is not None:
                return why
        return None
    if isinstance(frozen, dict):
        if not isinstance(live, dict) or list(live) != list(frozen):
            return f"{where}: keys differ"
        for k in frozen:
            if (why := _stale_diff(live[k], frozen[k], f"{where}[{k!r}]")) is not None:
                return why
        return None
    return None if live == frozen and type(live) is type(frozen) else f"{where}: {live!r} != {frozen!r}"


# ---------------------------------------------------------------- the store: one npz per test module


class Store:
    """Frozen records, ``{module: {record_id: (meta, arrays)}}``, loaded on first use."""

    def __init__(self) -> None:
        self.modules: dict[str, dict[str, tuple[dict, dict[str, np.ndarray]]]] = {}
        self.frozen_version: dict[str, str | None] = {}
        self.fresh: dict[str, dict[str, tuple[dict, dict[str, np.ndarray]]]] = {}  # written while freezing
        self.collected: dict[str, set[str]] = {}  # test ids per module, for pruning when freezing

    def path(self, module: str) -> Path:
        return FROZEN_DIR / f"{module}.npz"

    def records(self, module: str) -> dict[str, tuple[dict, dict[str, np.ndarray]]]:
        if module not in self.modules:
            self.modules[module], self.frozen_version[module] = self._load(self.path(module))
        return self.modules[module]

    @staticmethod
    def _load(path: Path) -> tuple[dict, str | None]:
        """Records from a file: a JSON index, and each dtype's arrays packed into one flat array."""
        if not path.exists():
            return {}, None
        with np.load(path, allow_pickle=False) as npz:
            index = json.loads(npz["__index__"].tobytes().decode())
            packed = {k: npz[k] for k in npz.files if k != "__index__"}
        records = {}
        for rid, meta in index["records"].items():
            arrays = {}
            for key, (pack, shape, offset) in meta["arrays"].items():
                size = int(np.prod(shape, dtype=np.int64))
                arrays[key] = packed[pack][offset : offset + size].reshape(shape)
            records[rid] = ({**meta, "arrays": list(meta["arrays"])}, arrays)
        return records, index.get("torch")

    def write(self) -> list[Path]:
        written = []
        for module, fresh in sorted(self.fresh.items()):
            old = self.records(module)
            keep = self.collected.get(module, set())
            merged = {rid: rec for rid, rec in old.items() if rid.split("#")[0] in keep and rid not in fresh}
            merged.update(fresh)
            index: dict[str, Any] = {"torch": torch_version(), "records": {}}
            packs: dict[str, list[np.ndarray]] = {}
            sizes: dict[str, int] = {}
            for rid in sorted(merged):
                meta, arrays = merged[rid]
                placed = {}
                for key in meta["arrays"]:
                    a = np.asarray(arrays[key])
                    pack = "pack_" + a.dtype.str.replace("<", "l").replace(">", "b").replace("|", "n")
                    placed[key] = [pack, list(a.shape), sizes.get(pack, 0)]
                    packs.setdefault(pack, []).append(a.reshape(-1))
                    sizes[pack] = sizes.get(pack, 0) + a.size
                index["records"][rid] = {**meta, "arrays": placed}
            flat = {pack: np.concatenate(parts) for pack, parts in packs.items()}
            FROZEN_DIR.mkdir(exist_ok=True)
            buffer = io.BytesIO()
            np.savez_compressed(buffer, __index__=np.frombuffer(json.dumps(index).encode(), np.uint8), **flat)
            # a stable file: zip entries carry no timestamps that change between freezes
            self.path(module).write_bytes(_normalize_zip(buffer.getvalue()))
            written.append(self.path(module))
        return written


def _normalize_zip(data: bytes) -> bytes:
    """The same zip with fixed timestamps, so refreezing unchanged values leaves the file unchanged."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in sorted(src.infolist(), key=lambda i: i.filename):
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(info))
    return out.getvalue()


STORE = Store()


class Oracle:
    """``oracle(fn, *args)``: PyTorch's value of ``fn(torch, *args)``, live or frozen (module docstring)."""

    def __init__(self, module: str, test_id: str) -> None:
        self.module, self.test_id, self.calls = module, test_id, 0

    def __call__(self, fn: Any, *args: Any) -> Any:
        rid = f"{self.test_id}#{self.calls}"
        self.calls += 1
        digest = _digest(args)
        if _torch is not None:
            live = _to_plain(fn(_torch, *args))
            arrays: dict[str, np.ndarray] = {}
            prefix = hashlib.sha1(rid.encode()).hexdigest()[:12]
            tree = _encode(live, arrays, prefix)
            if FREEZING:
                STORE.fresh.setdefault(self.module, {})[rid] = (
                    {"inputs": digest, "tree": tree, "arrays": list(arrays)},
                    arrays,
                )
            live = _decode(tree, arrays)  # exactly what a frozen value would be (containers, scalar types)
            if FREEZING:
                return live
        frozen_record = STORE.records(self.module).get(rid)
        if frozen_record is None:
            pytest.fail(
                f"no frozen PyTorch value for {self.module}::{rid}: run `make oracle-freeze` (torch {FROZEN_TORCH})"
            )
        meta, arrays = frozen_record
        if meta["inputs"] != digest:
            pytest.fail(
                f"the frozen PyTorch value of {self.module}::{rid} was computed from other inputs: "
                f"run `make oracle-freeze` (torch {FROZEN_TORCH})"
            )
        frozen = _decode(meta["tree"], arrays)
        if _torch is None:
            return frozen
        if torch_version() == STORE.frozen_version.get(self.module):
            why = _stale_diff(live, frozen)
            if why is not None:
                pytest.fail(
                    f"stale fixture {self.module}::{rid}: live PyTorch differs from the frozen value "
                    f"({why}): run `make oracle-freeze`"
                )
        return live

    def finish(self) -> None:
        """At teardown: every frozen record of this test was asked for (else the test changed)."""
        if FREEZING or self.calls == 0:
            return
        extra = [
            rid
            for rid in STORE.records(self.module)
            if rid.split("#")[0] == self.test_id and int(rid.split("#")[1]) >= self.calls
        ]
        if extra:
            pytest.fail(
                f"stale fixture: {self.module} holds {len(extra)} more frozen value(s) for {self.test_id} "
                f"than the test asked for: run `make oracle-freeze`"
            )
