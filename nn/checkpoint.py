"""Save and load checkpoints in the safetensors format: no pickle, so loading never runs code.

``save(model.state_dict(), "model.safetensors")`` stores each tensor under its exact key, so
PyTorch reads the file with ``safetensors.torch.load_file`` and gets the same keys, values
and dtypes; ``load`` reads files PyTorch wrote with ``safetensors.torch.save_file``.

Nested structures (an optimizer's state_dict: dicts, lists and tuples holding tensors, numbers,
strings, bools and None, with int or string keys) are saved too: their tensors go into the
tensor section under dotted keys (``state.0.exp_avg``) and the structure, with a placeholder
for each tensor, goes into the header's ``__metadata__`` as JSON. ``load`` rebuilds it.

Safety: ``save`` writes a temporary file next to the target and renames it over the target
(``os.replace``), so a crash never leaves a half-written file under the final name. ``load``
checks the header, every tensor and a CRC-32 of each tensor's bytes (written by ``save``),
builds the whole result and only then returns it; a truncated, corrupted or foreign file
raises ``CheckpointError`` naming the file.
"""

from __future__ import annotations

import json
import os
import tempfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from autograd.tensor import Tensor, values_of

__all__ = ["CheckpointError", "load", "save"]

_STRUCTURE = "dagrad.structure"  # metadata key: the JSON structure with tensor placeholders
_CHECKSUMS = "dagrad.crc32"  # metadata key: JSON {tensor key: CRC-32 of its little-endian bytes}
_VERSION = "dagrad.version"
_FORMAT_VERSION = "1"
_SCALARS = (str, int, float, bool, type(None))


class CheckpointError(ValueError):
    """A checkpoint file that cannot be loaded: truncated, corrupted, or not a safetensors file."""


def _safetensors() -> tuple[Any, Any]:
    try:
        import safetensors
        import safetensors.numpy
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("nn.checkpoint needs the safetensors package: pip install safetensors") from e
    return safetensors, safetensors.numpy


# ---------------------------------------------------------------------------------- saving
def _little_endian(a: np.ndarray) -> np.ndarray:
    """A C-contiguous little-endian copy or view: the bytes safetensors stores."""
    if a.dtype.byteorder == ">" or (a.dtype.byteorder == "=" and not np.little_endian):
        a = a.astype(a.dtype.newbyteorder("<"))
    return a if a.flags.c_contiguous else a.copy(order="C")  # (np.ascontiguousarray makes 0-d 1-d)


def _scalar_key(key: Any, where: str) -> Any:
    if isinstance(key, np.integer):
        return int(key)
    if isinstance(key, np.bool_):
        return bool(key)
    if isinstance(key, _SCALARS):
        return key
    raise TypeError(f"checkpoint.save: dict key {key!r} at {where} is a {type(key).__name__}; keys must be str or int")


class _Flattener:
    """Turn a nested object into (JSON structure, {key: array}); tensors get dotted-path keys."""

    def __init__(self, reserved: set[str]) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.reserved = reserved  # top-level string keys, kept exactly

    def _key(self, path: tuple, exact: bool) -> str:
        base = ".".join(str(p) for p in path) if path else "tensor"
        if exact and base != "__metadata__":  # (that name is the safetensors header's own entry)
            return base
        key, n = base, 1
        while key in self.arrays or key in self.reserved or key == "__metadata__":
            key, n = f"{base}#{n}", n + 1
        return key

    def node(self, obj: Any, path: tuple, exact: bool = False) -> Any:
        where = ".".join(map(str, path)) or "the top level"
        if isinstance(obj, (Tensor, np.ndarray)):
            a = values_of(obj)
            if a.dtype.kind not in "biuf":
                raise TypeError(f"checkpoint.save: the tensor at {where} has dtype {a.dtype}, which is not supported")
            key = self._key(path, exact)
            self.arrays[key] = _little_endian(a)
            return {"t": key}
        if isinstance(obj, np.generic):
            obj = obj.item()
        if isinstance(obj, _SCALARS):
            return {"v": obj}
        if isinstance(obj, Mapping):
            items = []
            for k, v in obj.items():
                k = _scalar_key(k, where)
                # A top-level string key holding a tensor is stored under exactly that key.
                items.append([k, self.node(v, (*path, k), exact=not path and isinstance(k, str))])
            return {"d": items}
        if isinstance(obj, tuple):
            return {"u": [self.node(v, (*path, i)) for i, v in enumerate(obj)]}
        if isinstance(obj, list):
            return {"l": [self.node(v, (*path, i)) for i, v in enumerate(obj)]}
        raise TypeError(
            f"checkpoint.save: cannot save a {type(obj).__name__} at {where}; checkpoints hold tensors, "
            "numpy arrays, numbers, strings, bools, None, and dicts/lists/tuples of them"
        )


def save(obj: Any, path: str | os.PathLike) -> None:
    """Write ``obj`` to ``path`` as a safetensors file, atomically.

    ``obj`` is usually a state_dict (``{name: Tensor}``): every tensor is stored under its key,
    unchanged, so other safetensors readers (``safetensors.torch.load_file``) see the same
    names, shapes, dtypes and values. Nested dicts, lists and tuples of tensors, numbers,
    strings, bools and None (an optimizer state_dict) are stored too: tensors under dotted
    keys, the structure as JSON in the header metadata. Dict keys must be str or int.

    The file is written under a temporary name in the same directory, flushed to disk, then
    renamed over ``path``: the final name holds the old file or the complete new one, never a
    partial write. A replaced file keeps its permission bits; a new one gets 0o644.
    """
    _, st_numpy = _safetensors()
    path = Path(path)
    reserved = {k for k in obj if isinstance(k, str)} if isinstance(obj, Mapping) else set()
    flat = _Flattener(reserved)
    structure = flat.node(obj, ())
    checksums = {k: zlib.crc32(a.data) for k, a in flat.arrays.items()}
    metadata = {
        _VERSION: _FORMAT_VERSION,
        _STRUCTURE: json.dumps(structure, separators=(",", ":")),
        _CHECKSUMS: json.dumps(checksums, separators=(",", ":")),
    }
    try:  # an overwritten checkpoint keeps its permissions; a new one gets rw-r--r--
        mode = path.stat().st_mode & 0o777
    except OSError:
        mode = 0o644
    if not path.parent.is_dir():
        raise FileNotFoundError(f"checkpoint.save: the directory {path.parent} does not exist (create it first)")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.close(fd)
        st_numpy.save_file(flat.arrays, tmp, metadata=metadata)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, mode)  # mkstemp makes 0600
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    """Persist the rename itself (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --------------------------------------------------------------------------------- loading
def _describe(head: bytes) -> str:
    """Say what a file that is not safetensors looks like, from its first bytes."""
    if head.startswith(b"PK\x03\x04"):
        return "a zip archive (torch.save writes these), not a safetensors file"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "a pickle, not a safetensors file (pickles are never loaded: they can run code)"
    if head.startswith(b"\x1f\x8b"):
        return "a gzip file, not a safetensors file"
    if head.startswith(b"\x93NUMPY"):
        return "a numpy .npy file, not a safetensors file"
    if not head:
        return "an empty file"
    return f"a file starting with bytes {head[:16].hex(' ')}"


_PICKLE_ADVICE = (
    ". dagrad never unpickles a file, since a pickle can run any code when it is loaded. To bring "
    "PyTorch weights over, write them as safetensors in PyTorch: "
    "safetensors.torch.save_file(model.state_dict(), 'model.safetensors') (for a file torch.save wrote: "
    "torch.load it in PyTorch first), then load that file here"
)


def _check_header(path: Path) -> None:
    """Check the header length, the JSON header and the data size before safetensors parses the file.

    safetensors checks all of this too; doing it first gives messages that say what is wrong.
    """
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(16)
        if size < 8:
            raise CheckpointError(
                f"{path}: truncated or not a safetensors checkpoint: expected at least an 8-byte header length, "
                f"found {_describe(head)} of {size} bytes"
            )
        if size == 8:
            raise CheckpointError(f"{path}: truncated checkpoint: the file ends right after the 8-byte header length")
        if head[8:9] != b"{":
            advice = _PICKLE_ADVICE if head.startswith(b"PK\x03\x04") or head[:1] == b"\x80" else ""
            raise CheckpointError(
                f"{path}: not a safetensors checkpoint: expected an 8-byte length then a JSON header, "
                f"found {_describe(head)}{advice}"
            )
        n = int.from_bytes(head[:8], "little")
        if 8 + n > size:
            raise CheckpointError(
                f"{path}: truncated checkpoint: the header says it is {n} bytes long but only "
                f"{size - 8} bytes follow the length"
            )
        f.seek(8)
        header_bytes = f.read(n)
    try:
        header = json.loads(header_bytes)
        end = max((int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"), default=0)
    except Exception:
        return  # a malformed header: safetensors' parser says exactly what is wrong
    if 8 + n + end > size:
        raise CheckpointError(
            f"{path}: truncated checkpoint: the header describes {end} bytes of tensor data but only "
            f"{size - 8 - n} bytes follow it"
        )


def _rebuild(node: Any, tensors: dict[str, Tensor], used: set[str]) -> Any:
    if not isinstance(node, dict) or len(node) != 1:
        raise ValueError(f"malformed structure node {node!r:.80}")
    ((tag, value),) = node.items()
    if tag == "t":
        if not isinstance(value, str) or value not in tensors:
            raise ValueError(f"the structure refers to a tensor {value!r} that is not in the file")
        used.add(value)
        return tensors[value]
    if tag == "v":
        if not isinstance(value, _SCALARS):
            raise ValueError(f"malformed value {value!r:.80}")
        return value
    if tag in ("l", "u"):
        if not isinstance(value, list):
            raise ValueError(f"malformed list {value!r:.80}")
        items = [_rebuild(v, tensors, used) for v in value]
        return items if tag == "l" else tuple(items)
    if tag == "d":
        if not isinstance(value, list):
            raise ValueError(f"malformed dict {value!r:.80}")
        out = {}
        for pair in value:
            if not isinstance(pair, list) or len(pair) != 2 or not isinstance(pair[0], _SCALARS):
                raise ValueError(f"malformed dict entry {pair!r:.80}")
            out[pair[0]] = _rebuild(pair[1], tensors, used)
        return out
    raise ValueError(f"unknown structure tag {tag!r}")


def load(path: str | os.PathLike) -> Any:
    """Read a checkpoint written by ``save`` (or any safetensors file) back, with Tensors.

    A file written by ``save`` comes back as the object that was saved: the same nesting,
    keys (int keys stay ints), numbers, strings, and every tensor as a ``Tensor`` with the
    saved dtype (plain leaves, ``requires_grad=False``). Any other safetensors file, e.g. one
    written by ``safetensors.torch.save_file``, comes back as ``{name: Tensor}``.

    Never unpickles or runs code. Raises ``CheckpointError`` (a ``ValueError``) naming the
    file when it is truncated, corrupted (bad header, bad structure, checksum mismatch) or not
    a safetensors file; ``FileNotFoundError`` when it does not exist. Nothing is returned
    until the whole file has been read and checked.
    """
    safetensors, _ = _safetensors()
    path = Path(path)
    _check_header(path)
    try:
        with safetensors.safe_open(path, framework="np") as f:
            metadata = f.metadata() or {}
            arrays = {k: f.get_tensor(k) for k in f.keys()}
    except OSError:
        raise
    except Exception as e:  # safetensors' own errors: SafetensorError, unsupported dtypes, ...
        raise CheckpointError(f"{path}: corrupted or unsupported safetensors checkpoint: {e}") from e
    try:
        checksums = json.loads(metadata.get(_CHECKSUMS, "{}"))
        if not isinstance(checksums, dict):
            raise ValueError("malformed checksums")
        for k, crc in checksums.items():
            if k not in arrays:
                raise ValueError(f"tensor {k!r} is missing")
            if zlib.crc32(_little_endian(arrays[k]).data) != crc:
                raise ValueError(f"tensor {k!r} fails its CRC-32 check")
        tensors = {k: Tensor._make(a if a.flags.writeable else a.copy()) for k, a in arrays.items()}
        if _STRUCTURE not in metadata:
            return tensors
        used: set[str] = set()
        result = _rebuild(json.loads(metadata[_STRUCTURE]), tensors, used)
        if used != set(tensors):
            extra = sorted(set(tensors) - used)[:5]
            raise ValueError(f"tensors {extra} are in the file but not in its structure")
    except (ValueError, TypeError, RecursionError) as e:
        raise CheckpointError(f"{path}: corrupted checkpoint: {e}") from e
    return result
