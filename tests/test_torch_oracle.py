"""The frozen-oracle machinery itself: values round-trip exactly, inputs and staleness are caught."""

import numpy as np
import pytest

import torch_oracle
from torch_oracle import Oracle, Store, _decode, _digest, _encode, _stale_diff

VALUE = {
    "out": np.arange(6, dtype=np.float32).reshape(2, 3),
    "grads": [np.array([1.5, -2.0]), None, np.float32(3.25)],
    "meta": ("float32", (2, 3), True, 7, 0.1, "ValueError: bad"),
    "floats": [float("inf"), float("-inf"), float("nan"), -0.0],
    0: {"step": np.array(2.0, dtype=np.float32), "ids": np.array([1, 2], dtype=np.int64)},
    "empty": np.zeros((0, 4)),
    "flags": np.array([True, False]),
    "nan": np.array([np.nan, np.inf, -1.0]),
}


def roundtrip(value):
    arrays = {}
    tree = _encode(value, arrays, "p")
    return _decode(tree, arrays)


def assert_same(a, b):
    assert type(a) is type(b), (a, b)
    if isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b)
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    else:
        assert a == b or (a != a and b != b)  # (nan)


def test_values_roundtrip_with_types_dtypes_and_shapes():
    assert_same(roundtrip(VALUE), VALUE)


def test_unfreezable_values_are_refused():
    with pytest.raises(TypeError, match="cannot freeze a set"):
        _encode({1, 2}, {}, "p")


def test_the_input_digest_sees_values_dtypes_shapes_and_structure():
    x = np.arange(4.0)
    base = _digest((x, {"lr": 0.1}, "SGD"))
    assert base == _digest((x.copy(), {"lr": 0.1}, "SGD"))
    for changed in [(x + 1e-12, {"lr": 0.1}, "SGD"), (x.astype(np.float32), {"lr": 0.1}, "SGD"),
                    (x.reshape(2, 2), {"lr": 0.1}, "SGD"), (x, {"lr": 0.2}, "SGD"), (x, {"lr": 0.1}, "Adam"),
                    ([x], {"lr": 0.1}, "SGD")]:  # fmt: skip
        assert _digest(changed) != base


def test_staleness_allows_rounding_and_catches_real_changes():
    frozen = roundtrip(VALUE)
    assert _stale_diff(roundtrip(VALUE), frozen) is None
    rounded = roundtrip(VALUE)
    rounded["out"] = rounded["out"] * np.float32(1 + 1e-6)  # float32 rounding on another CPU
    assert _stale_diff(rounded, frozen) is None
    for path, new in [("out", VALUE["out"] + 0.5), ("out", VALUE["out"].astype(np.float64)),
                      ("nan", np.array([1.0, np.inf, -1.0])), ("flags", np.array([True, True])),
                      ("meta", ("float64", (2, 3), True, 7, 0.1, "ValueError: bad"))]:  # fmt: skip
        live = roundtrip(VALUE)
        live[path] = new
        assert _stale_diff(live, frozen) is not None, path
    live = roundtrip(VALUE)
    live["floats"] = [float("inf"), float("inf"), float("nan"), -0.0]
    assert _stale_diff(live, frozen) is not None
    live = roundtrip(VALUE)
    live["grads"] = live["grads"][:2]
    assert "structure" in _stale_diff(live, frozen)


def test_a_store_writes_and_reads_back_exactly_and_stably(tmp_path, monkeypatch):
    monkeypatch.setattr(torch_oracle, "FROZEN_DIR", tmp_path)
    store = Store()
    arrays = {}
    tree = _encode(VALUE, arrays, "x")
    store.fresh["mod"] = {"test_a#0": ({"inputs": "abc", "tree": tree, "arrays": list(arrays)}, arrays)}
    store.collected["mod"] = {"test_a"}
    (path,) = store.write()
    first = path.read_bytes()
    records, _ = Store._load(path)
    meta, loaded = records["test_a#0"]
    assert meta["inputs"] == "abc"
    assert_same(_decode(meta["tree"], loaded), VALUE)
    store.modules.clear()
    store.write()  # the same values again: the same bytes (no timestamps in the file)
    assert path.read_bytes() == first


def test_a_missing_or_changed_record_fails_without_torch(tmp_path, monkeypatch):
    monkeypatch.setattr(torch_oracle, "_torch", None)
    monkeypatch.setattr(torch_oracle, "STORE", Store())
    store = torch_oracle.STORE
    arrays = {}
    tree = _encode([1.0, 2.0], arrays, "x")
    store.modules["mod"] = {"t#0": ({"inputs": _digest((3,)), "tree": tree, "arrays": []}, arrays)}
    store.frozen_version["mod"] = "2.13.0"
    assert Oracle("mod", "t")(lambda torch, n: pytest.fail("not run without torch"), 3) == [1.0, 2.0]
    with pytest.raises(pytest.fail.Exception, match="computed from other inputs"):
        Oracle("mod", "t")(lambda torch, n: None, 4)
    with pytest.raises(pytest.fail.Exception, match="no frozen PyTorch value for mod::other#0"):
        Oracle("mod", "other")(lambda torch: None)
    asked_once = Oracle("mod", "t")
    asked_once.calls = 0
    store.modules["mod"]["t#1"] = store.modules["mod"]["t#0"]
    asked_once(lambda torch, n: None, 3)
    with pytest.raises(pytest.fail.Exception, match="1 more frozen value"):
        asked_once.finish()
