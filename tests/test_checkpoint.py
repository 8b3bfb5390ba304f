"""nn.checkpoint: safetensors round trips, PyTorch interop, damaged files and atomic saves."""

import json
import os
import pickle
import zipfile

import numpy as np
import pytest

import autograd
from nn import checkpoint
from nn.checkpoint import CheckpointError, load, save

safetensors_numpy = pytest.importorskip("safetensors.numpy")


def _state_dict():
    rng = np.random.default_rng(0)
    return {
        "layer.weight": autograd.tensor(rng.standard_normal((4, 3)).astype(np.float32)),
        "layer.bias": autograd.tensor(rng.standard_normal(4)),  # float64
        "bn.num_batches_tracked": autograd.tensor(np.array(7, dtype=np.int64)),  # 0-d
        "embed.ids": autograd.tensor(np.arange(6, dtype=np.int64).reshape(2, 3)),
        "mask": autograd.tensor([True, False, True]),
        "half": autograd.tensor(np.array([1.5, -2.0], dtype=np.float16)),
        "raw_numpy": np.arange(5, dtype=np.int32),
        "empty": autograd.zeros(0, 3),
    }


def _data(v):
    return v._data if isinstance(v, autograd.Tensor) else v


def _assert_same(a, b):
    """Deep equality of nested structures; tensors compared by dtype, shape and values."""
    if isinstance(a, (autograd.Tensor, np.ndarray)):
        assert isinstance(b, autograd.Tensor)
        assert b.dtype == _data(a).dtype and b.shape == _data(a).shape
        np.testing.assert_array_equal(b._data, _data(a))
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b)
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    else:
        assert type(a) is type(b) and (a == b or (a != a and b != b))


def test_state_dict_round_trip_keeps_keys_order_dtypes(tmp_path):
    sd = _state_dict()
    path = tmp_path / "model.safetensors"
    save(sd, path)
    out = load(path)
    _assert_same(sd, out)
    assert list(out) == list(sd)
    assert out["bn.num_batches_tracked"].shape == ()
    assert not out["layer.weight"].requires_grad and out["layer.weight"].is_leaf
    out["layer.weight"].add_(1.0)  # loaded tensors own writable memory
    assert load(str(path))["layer.weight"]._data[0, 0] == sd["layer.weight"]._data[0, 0]


def test_non_contiguous_and_big_endian_arrays(tmp_path):
    base = np.arange(12, dtype=np.float32).reshape(3, 4)
    sd = {"t": autograd.tensor(base).T, "view": base[:, ::2], "be": np.arange(4, dtype=">i4")}
    save(sd, tmp_path / "a.safetensors")
    out = load(tmp_path / "a.safetensors")
    np.testing.assert_array_equal(out["t"]._data, base.T)
    np.testing.assert_array_equal(out["view"]._data, base[:, ::2])
    np.testing.assert_array_equal(out["be"]._data, np.arange(4))
    assert out["be"].dtype == np.int32


def _optimizer_state():
    return {
        "state": {
            0: {"step": autograd.tensor(3.0), "exp_avg": autograd.randn(4, 3), "exp_avg_sq": autograd.rand(4, 3)},
            1: {"step": autograd.tensor(3.0), "momentum_buffer": None},
        },
        "param_groups": [
            {
                "lr": 1e-3,
                "betas": (0.9, 0.999),
                "eps": float("inf"),
                "weight_decay": 0,
                "amsgrad": False,
                "name": "all",
                "params": [0, 1],
                "np_scalar": np.float64(0.5),
            }
        ],
    }


def test_nested_optimizer_state_round_trip(tmp_path):
    state = _optimizer_state()
    path = tmp_path / "optim.safetensors"
    save(state, path)
    out = load(path)
    expected = dict(state)
    expected["param_groups"] = [dict(state["param_groups"][0], np_scalar=0.5)]  # numpy scalars become Python
    _assert_same(expected, out)
    assert list(out["state"]) == [0, 1] and all(isinstance(k, int) for k in out["state"])
    assert isinstance(out["param_groups"][0]["betas"], tuple)
    # tensors sit in the tensor section under dotted paths; the structure is JSON metadata
    raw = safetensors_numpy.load_file(path)
    assert set(raw) == {"state.0.step", "state.0.exp_avg", "state.0.exp_avg_sq", "state.1.step"}


def test_other_nested_shapes(tmp_path):
    cases = [
        autograd.arange(3),
        [autograd.ones(2), {"a": [1, 2.5, "x", None]}],
        {"x": autograd.ones(1), 5: {"x": autograd.zeros(1)}, "5.x": autograd.full((1,), 2.0)},  # colliding paths
        {},
        {"nan": float("nan"), True: "bool key", "nested": {"deep": {"er": (autograd.tensor([1, 2]),)}}},
    ]
    for i, obj in enumerate(cases):
        path = tmp_path / f"case{i}.safetensors"
        save(obj, path)
        _assert_same(obj, load(path))


def test_unsupported_values_raise_type_error(tmp_path):
    with pytest.raises(TypeError, match=r"cannot save a set at a\.b"):
        save({"a": {"b": {1, 2}}}, tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="keys must be str or int"):
        save({(1, 2): autograd.ones(1)}, tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="complex"):
        save({"c": np.ones(2, dtype=np.complex64)}, tmp_path / "x.safetensors")
    assert not os.listdir(tmp_path)  # nothing written, no temp file left


# ------------------------------------------------------------------------------------ PyTorch
# safetensors' torch side runs in the oracle: it reads our file's bytes (handed over as a uint8
# array, so a change in what we write asks for a refreeze) or writes a file whose bytes come back.


def _canonical_bytes(path):
    """The file's bytes with the header's ``__metadata__`` entries in sorted order, as a uint8 array.

    safetensors writes that string map in an order that changes from run to run (a hash map), so
    the raw bytes of one checkpoint vary; this is the same file, byte for byte, up to that order."""
    data = path.read_bytes()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n])
    header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    text = json.dumps(header, separators=(",", ":")).encode()
    assert len(text) <= n and not data[8 + len(text) : 8 + n].strip(), "only the order should change"
    return np.frombuffer(data[:8] + text.ljust(n) + data[8 + n :], np.uint8)


def _torch_reads(torch, data):
    """What safetensors.torch's load_file gives for a file holding ``data``."""
    import tempfile

    from safetensors.torch import load_file

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.safetensors")
        with open(path, "wb") as f:
            f.write(data.tobytes())
        return {name: t.clone() for name, t in load_file(path).items()}  # not mapped from the file


def _torch_writes(torch, tensors, metadata=None):
    """The bytes of the file safetensors.torch's save_file writes for ``tensors``."""
    import tempfile

    from safetensors.torch import save_file

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "torch.safetensors")
        save_file(tensors, path, metadata=metadata)
        with open(path, "rb") as f:
            return np.frombuffer(f.read(), np.uint8)


def test_file_readable_by_pytorch(tmp_path, oracle):
    sd = _state_dict()
    path = tmp_path / "model.safetensors"
    save(sd, path)
    got = oracle(_torch_reads, _canonical_bytes(path))
    assert set(got) == set(sd)
    for k, v in sd.items():
        ref = _data(v)
        assert got[k].dtype == ref.dtype and tuple(got[k].shape) == ref.shape
        np.testing.assert_array_equal(got[k], ref)


def test_pytorch_written_file_loads(tmp_path, oracle):
    def written(torch):
        g = torch.Generator().manual_seed(0)
        tensors = {
            "w": torch.randn(3, 5, generator=g),
            "d": torch.randn(2, dtype=torch.float64, generator=g),
            "i": torch.arange(4),
            "b": torch.tensor([True, False]),
            "s": torch.tensor(2.5),
        }
        return _torch_writes(torch, tensors, metadata={"format": "pt"}), tensors

    data, tensors = oracle(written)
    path = tmp_path / "torch.safetensors"
    path.write_bytes(data.tobytes())
    out = load(path)
    assert set(out) == set(tensors)
    for k, t in tensors.items():
        assert isinstance(out[k], autograd.Tensor)
        assert out[k].dtype == t.dtype and out[k].shape == t.shape
        np.testing.assert_array_equal(out[k]._data, t)


def test_pytorch_bfloat16_gives_checkpoint_error(tmp_path, oracle):
    data = oracle(lambda torch: _torch_writes(torch, {"w": torch.ones(2, dtype=torch.bfloat16)}))
    path = tmp_path / "bf16.safetensors"
    path.write_bytes(data.tobytes())
    with pytest.raises(CheckpointError, match="bf16.safetensors"):
        load(path)


# ------------------------------------------------------------------------------ damaged files
@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "good.safetensors"
    save(_optimizer_state(), path)
    return path


def _header_len(data):
    return int.from_bytes(data[:8], "little")


@pytest.mark.parametrize("keep", [0, 4, 8, 20, "header", "data-1"])
def test_truncated_file_raises(tmp_path, good_file, keep):
    data = good_file.read_bytes()
    n = {"header": 8 + _header_len(data), "data-1": len(data) - 1}.get(keep, keep)
    bad = tmp_path / "cut.safetensors"
    bad.write_bytes(data[:n])
    with pytest.raises(CheckpointError, match=r"cut\.safetensors: truncated"):
        load(bad)


def test_corrupted_tensor_bytes_fail_the_checksum(tmp_path, good_file):
    data = bytearray(good_file.read_bytes())
    data[-3] ^= 0xFF
    bad = tmp_path / "flipped.safetensors"
    bad.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"flipped.safetensors.*CRC-32"):
        load(bad)


def _rewrite_metadata(src, dst, edit):
    """Re-save src's tensors with edited dagrad metadata (a corrupted but well-formed file)."""
    from safetensors import safe_open

    with safe_open(str(src), framework="np") as f:
        meta, arrays = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}
    edit(meta, arrays)
    safetensors_numpy.save_file(arrays, str(dst), metadata=meta)


@pytest.mark.parametrize(
    "edit,message",
    [
        (lambda m, a: m.update({"dagrad.structure": "{not json"}), "corrupted checkpoint"),
        (lambda m, a: m.update({"dagrad.structure": '{"t": "nope"}'}), "not in the file"),
        (lambda m, a: m.update({"dagrad.structure": '{"zz": 1}'}), "unknown structure tag"),
        (lambda m, a: m.update({"dagrad.structure": '{"d": [[1]]}'}), "malformed dict entry"),
        (lambda m, a: m.update({"dagrad.structure": '{"v": 1}'}), "not in its structure"),
        (lambda m, a: a.pop("state.0.exp_avg"), "missing"),
        (lambda m, a: m.update({"dagrad.crc32": "[1, 2]"}), "malformed checksums"),
    ],
)
def test_corrupted_structure_raises(tmp_path, good_file, edit, message):
    bad = tmp_path / "meta.safetensors"
    _rewrite_metadata(good_file, bad, edit)
    with pytest.raises(CheckpointError, match=message):
        load(bad)


def test_corrupted_header_raises(tmp_path, good_file):
    data = bytearray(good_file.read_bytes())
    data[9:14] = b"#####"
    bad = tmp_path / "header.safetensors"
    bad.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="header.safetensors"):
        load(bad)


def test_foreign_files_raise(tmp_path):
    pkl = tmp_path / "model.pt"
    pkl.write_bytes(pickle.dumps({"w": np.ones(3)}, protocol=4))
    with pytest.raises(CheckpointError, match=r"model\.pt.*pickle"):
        load(pkl)
    zpath = tmp_path / "archive.pt"
    with zipfile.ZipFile(zpath, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps([1, 2]))
    with pytest.raises(CheckpointError, match="zip archive"):
        load(zpath)
    rnd = tmp_path / "random.bin"
    rnd.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(CheckpointError, match="random.bin"):
        load(rnd)
    js = tmp_path / "plain.json"
    js.write_text(json.dumps({"w": [1, 2]}))
    with pytest.raises(CheckpointError, match="plain.json"):
        load(js)
    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty file"):
        load(empty)
    assert issubclass(CheckpointError, ValueError)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.safetensors")


# ---------------------------------------------------------------------------------- atomicity
def test_save_replaces_atomically_and_cleans_up_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    save({"w": autograd.ones(3)}, path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(safetensors_numpy, "save_file", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        save({"w": autograd.zeros(3)}, path)
    assert path.read_bytes() == before  # the old checkpoint is untouched
    assert sorted(os.listdir(tmp_path)) == ["ckpt.safetensors"]  # and no temp file is left
    monkeypatch.undo()

    replaced = []
    real_replace = os.replace
    monkeypatch.setattr(
        checkpoint.os, "replace", lambda src, dst: replaced.append((src, dst)) or real_replace(src, dst)
    )
    save({"w": autograd.zeros(3)}, path)
    ((src, dst),) = replaced
    assert os.path.dirname(src) == str(tmp_path) and dst == path  # written beside the target, then renamed
    np.testing.assert_array_equal(load(path)["w"]._data, np.zeros(3))
    assert sorted(os.listdir(tmp_path)) == ["ckpt.safetensors"]
    assert (os.stat(path).st_mode & 0o777) == 0o644
    os.chmod(path, 0o600)
    save({"w": autograd.ones(3)}, path)
    assert (os.stat(path).st_mode & 0o777) == 0o600  # an overwritten checkpoint keeps its permissions


def test_a_top_level_key_named_like_the_header_entry_round_trips(tmp_path):
    path = tmp_path / "c.safetensors"
    save({"__metadata__": autograd.ones(2), "w": autograd.zeros(1)}, path)
    loaded = load(path)
    assert list(loaded) == ["__metadata__", "w"] and loaded["__metadata__"].tolist() == [1.0, 1.0]


def test_save_into_a_missing_directory_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="directory .*missing does not exist"):
        save({"a": autograd.ones(1)}, tmp_path / "missing" / "c.safetensors")
