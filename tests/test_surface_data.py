"""PyTorch's data, device and saving surface: autograd.utils.data (samplers, Subset, random_split,
DataLoader's arguments), autograd.device / cuda / backends, autograd.save / load, and the
``import autograd.nn`` module names (autograd._modules)."""

import importlib
import pickle
import sys
import zipfile

import numpy as np
import pytest

import autograd
import autograd.backends
import autograd.cuda
import autograd.utils.data
import nn
from autograd import _modules, serialization
from autograd.device import device
from nn.checkpoint import CheckpointError


def _data(lib):
    return lib.utils.data


def _labels(loader):
    return [np.asarray(batch[-1]).tolist() if not isinstance(batch, list) else batch for batch in loader]


def _ints(batches):
    return [[int(i) for i in np.asarray(b).reshape(-1)] for b in batches]


# ------------------------------------------------------------------ against PyTorch (oracle)
def program_samplers(lib):
    data = _data(lib)
    ds = data.TensorDataset(lib.arange(10))
    g = lib.Generator().manual_seed(3)
    lib.manual_seed(4)
    out = {
        "random": list(data.RandomSampler(ds, generator=g)),
        "random_default": list(data.RandomSampler(ds)),
        "replacement": list(data.RandomSampler(ds, replacement=True, num_samples=70, generator=g)),
        "more_samples": list(data.RandomSampler(ds, num_samples=23, generator=g)),
        "fewer_samples": list(data.RandomSampler(ds, num_samples=4, generator=g)),
        "subset_random": list(data.SubsetRandomSampler([7, 3, 9, 1], generator=g)),
        "subset_random_default": list(data.SubsetRandomSampler([7, 3, 9, 1])),
        "weighted": list(data.WeightedRandomSampler([0.1, 0.5, 2.0, 0.0, 1.0], 12, generator=g)),
        "weighted_no_repl": list(data.WeightedRandomSampler([0.1, 0.5, 2.0, 0.3, 1.0], 4, False, generator=g)),
        "sequential": list(data.SequentialSampler(ds)),
        "batches": list(data.BatchSampler(data.SequentialSampler(range(7)), 3, False)),
        "batches_drop": list(data.BatchSampler(data.RandomSampler(range(7), generator=g), 3, True)),
        "batches_list": list(data.BatchSampler([5, 4, 3, 2, 1], 2, False)),
        "lengths": [len(data.BatchSampler(range(7), 3, False)), len(data.BatchSampler(range(7), 3, True))],
    }
    return out, g.get_state()[:32], lib.get_rng_state()[:32]


def test_samplers_match_pytorch(oracle):
    ours = program_samplers(autograd)
    theirs = oracle(program_samplers)
    assert ours[0] == theirs[0]
    np.testing.assert_array_equal(ours[1]._data, theirs[1])
    np.testing.assert_array_equal(ours[2]._data, theirs[2])


def program_random_split(lib):
    data = _data(lib)
    ds = data.TensorDataset(lib.arange(23) * 10)
    g = lib.Generator().manual_seed(0)
    a, b = data.random_split(ds, [0.8, 0.2], generator=g)
    c, d, e = data.random_split(ds, [10, 10, 3], generator=g)
    lib.manual_seed(1)
    f, h = data.random_split(range(9), [0.5, 0.5])  # the default generator; 9 = 4 + 4 + one left over
    sizes = [len(s) for s in (a, b, c, d, e, f, h)]
    values = [[int(s[i][0]) for i in range(len(s))] for s in (a, b, c, d, e)]
    loader = data.DataLoader(a, batch_size=5, shuffle=True, generator=g)  # a Subset, batched
    batches = [batch[0] for batch in loader]
    return sizes, values, [f.indices, h.indices], batches, lib.get_rng_state()[:16]


def test_random_split_matches_pytorch(oracle):
    ours = program_random_split(autograd)
    theirs = oracle(program_random_split)
    assert ours[:3] == tuple(theirs[:3])
    assert len(ours[3]) == len(theirs[3]) == 4
    for x, y in zip(ours[3], theirs[3]):
        np.testing.assert_array_equal(x._data, y)
    np.testing.assert_array_equal(ours[4]._data, theirs[4])


def program_loader_arguments(lib):
    data = _data(lib)
    ds = data.TensorDataset(lib.arange(12), lib.arange(12) * 2)
    g = lib.Generator().manual_seed(7)
    lib.manual_seed(8)
    out = {}
    loader = data.DataLoader(ds, batch_size=5, sampler=data.SubsetRandomSampler(range(0, 12, 2), generator=g))
    out["sampler"] = [b[1] for b in loader]
    batches = data.BatchSampler(data.RandomSampler(ds, generator=g), 4, drop_last=True)
    out["batch_sampler"] = [b[0] for b in data.DataLoader(ds, batch_sampler=batches)]
    out["no_batching"] = [x for x, _ in data.DataLoader(ds, batch_size=None, shuffle=True, generator=g)][:5]
    out["workers"] = [b[0] for b in data.DataLoader(ds, batch_size=5, shuffle=True, num_workers=0, generator=g)]
    out["list_sampler"] = [b[0] for b in data.DataLoader(ds, batch_size=2, sampler=[11, 0, 5])]
    concat = data.ConcatDataset([ds, data.TensorDataset(lib.arange(100, 103), lib.arange(3))])
    out["concat"] = [b[0] for b in data.DataLoader(concat, batch_size=4, shuffle=True, generator=g)]
    out["concat_items"] = [int(concat[i][0]) for i in (0, 11, 12, 14, -1, -15)] + concat.cumulative_sizes
    out["lens"] = [len(data.DataLoader(ds, batch_size=5)), len(data.DataLoader(ds, batch_size=None))]
    return out, g.get_state()[:32], lib.get_rng_state()[:32]


def test_dataloader_arguments_match_pytorch(oracle):
    ours = program_loader_arguments(autograd)
    theirs = oracle(program_loader_arguments)
    assert ours[0].keys() == theirs[0].keys()
    for key, value in ours[0].items():
        if key in ("concat_items", "lens"):
            assert value == theirs[0][key], key
            continue
        assert len(value) == len(theirs[0][key]), key
        for x, y in zip(value, theirs[0][key]):
            np.testing.assert_array_equal(x._data, y, err_msg=key)
    np.testing.assert_array_equal(ours[1]._data, theirs[1])
    np.testing.assert_array_equal(ours[2]._data, theirs[2])


# ------------------------------------------------------------------------ data, dagrad only
def test_utils_data_is_nn_data():
    from autograd.utils.data import DataLoader, TensorDataset, random_split

    assert DataLoader is nn.data.DataLoader and TensorDataset is nn.data.TensorDataset
    assert random_split is nn.data.random_split
    assert set(autograd.utils.data.__all__) <= set(nn.data.__all__)
    assert autograd.utils.data.get_worker_info() is None


def test_subset_and_concat_datasets():
    data = autograd.utils.data
    ds = data.TensorDataset(autograd.arange(6) * 10)
    sub = data.Subset(ds, [5, 0, 2])
    assert len(sub) == 3 and int(sub[0][0]) == 50 and int(sub[-1][0]) == 20
    assert [int(x[0]) for x in sub.__getitems__([1, 2])] == [0, 20]
    sub.indices = [1, 1]  # a new index list is used by the next batch
    assert _ints(b[0] for b in data.DataLoader(sub, batch_size=2)) == [[10, 10]]
    both = ds + sub
    assert isinstance(both, data.ConcatDataset) and len(both) == 8 and int(both[7][0]) == 10
    with pytest.raises(IndexError, match="index 8 is out of range for a ConcatDataset of 8"):
        both[8]
    with pytest.raises(ValueError, match="absolute value of index"):
        both[-9]
    with pytest.raises(AssertionError, match="empty iterable"):
        data.ConcatDataset([])


class Pairs(autograd.utils.data.Dataset):
    def __getitem__(self, i):
        return np.float32(i), {"y": i}

    def __len__(self):
        return 5


def test_generic_datasets_and_batch_size_none():
    data = autograd.utils.data
    batches = list(data.DataLoader(data.Subset(Pairs(), [4, 3, 2]), batch_size=2))
    assert _ints(b[0] for b in batches) == [[4, 3], [2]] and _ints(b[1]["y"] for b in batches) == [[4, 3], [2]]
    single = list(data.DataLoader(Pairs(), batch_size=None))
    assert len(single) == 5 and isinstance(single[2][0], autograd.Tensor) and single[2][1] == {"y": 2}
    assert data.default_convert([np.zeros(2), "s", 3])[1:] == ["s", 3]


def test_fast_and_generic_paths_agree():
    data = autograd.utils.data
    ds = data.TensorDataset(autograd.arange(30).reshape(10, 3), autograd.arange(10))

    class Plain(data.Dataset):  # the same samples, fetched one by one
        def __getitem__(self, i):
            return ds[i]

        def __len__(self):
            return 10

    for dataset in (ds, data.Subset(ds, [9, 2, 4, 4, 0])):
        plain = data.Subset(Plain(), dataset.indices) if isinstance(dataset, data.Subset) else Plain()
        for kwargs in ({"batch_size": 3}, {"batch_size": 4, "drop_last": True}):
            fast = list(data.DataLoader(dataset, **kwargs, shuffle=True, generator=autograd.Generator().manual_seed(1)))
            slow = list(data.DataLoader(plain, **kwargs, shuffle=True, generator=autograd.Generator().manual_seed(1)))
            assert len(fast) == len(slow)
            for (fx, fy), (sx, sy) in zip(fast, slow):
                np.testing.assert_array_equal(fx._data, sx._data)
                np.testing.assert_array_equal(fy._data, sy._data)


def test_seed_option_still_works_with_the_new_samplers():
    data = autograd.utils.data
    ds = data.TensorDataset(autograd.arange(20))
    a = data.DataLoader(ds, batch_size=6, shuffle=True, seed=2)
    first, second = _ints(b[0] for b in a), _ints(b[0] for b in a)
    assert first != second and sorted(sum(first, [])) == list(range(20))
    a.set_epoch(0)
    assert _ints(b[0] for b in a) == first
    with pytest.raises(ValueError, match="seed or sampler"):
        data.DataLoader(ds, seed=1, sampler=[0, 1])


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"shuffle": True, "sampler": [0]}, ValueError, "sampler option is mutually exclusive with shuffle"),
        ({"batch_sampler": [[0]], "batch_size": 2}, ValueError, "batch_sampler option is mutually exclusive"),
        ({"batch_sampler": [[0]], "drop_last": True}, ValueError, "batch_sampler option is mutually exclusive"),
        ({"batch_size": None, "drop_last": True}, ValueError, "batch_size=None option disables auto-batching"),
        ({"num_workers": -1}, ValueError, "num_workers option should be non-negative"),
        ({"timeout": -1}, ValueError, "timeout option should be non-negative"),
        ({"prefetch_factor": 2}, ValueError, "prefetch_factor option could only be specified"),
        ({"persistent_workers": True}, ValueError, "persistent_workers option needs num_workers > 0"),
    ],
)
def test_dataloader_errors_in_pytorchs_words(kwargs, error, match):
    ds = autograd.utils.data.TensorDataset(autograd.arange(4))
    with pytest.raises(error, match=match):
        autograd.utils.data.DataLoader(ds, **kwargs)


def test_workers_load_in_process():
    data = autograd.utils.data
    ds = data.TensorDataset(autograd.arange(9))
    calls = []
    loader = data.DataLoader(
        ds, batch_size=4, num_workers=2, pin_memory=True, persistent_workers=True, worker_init_fn=calls.append
    )
    assert _ints(b[0] for b in loader) == [[0, 1, 2, 3], [4, 5, 6, 7], [8]] and calls == []


def test_sampler_errors_in_pytorchs_words():
    data = autograd.utils.data
    with pytest.raises(ValueError, match="batch_size should be a positive integer value, but got batch_size=0"):
        data.BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean value, but got drop_last=1"):
        data.BatchSampler(range(3), 2, 1)
    with pytest.raises(TypeError, match="replacement should be a boolean value"):
        data.RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got num_samples=0"):
        data.RandomSampler(range(3), num_samples=0)
    with pytest.raises(ValueError, match=r"weights should be a 1d sequence but given weights have shape \(1, 2\)"):
        data.WeightedRandomSampler([[1.0, 2.0]], 2)
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        data.random_split(range(5), [2, 2])
    with pytest.raises(ValueError, match="Fraction at index 1 is not between 0 and 1"):
        data.random_split(range(5), [0.5, -0.5, 1.0])
    with pytest.warns(UserWarning, match="Length of split at index 2 is 0"):
        data.random_split(range(2), [0.5, 0.5, 0.0])


# ------------------------------------------------------------------------------------ devices
def test_device_objects_as_pytorchs():
    cpu = device("cpu")
    assert str(cpu) == "cpu" and repr(cpu) == "device(type='cpu')" and cpu.type == "cpu" and cpu.index is None
    assert cpu == device("cpu") and cpu != device("cpu", 0) and cpu != "cpu" and hash(cpu) == hash(device("cpu"))
    cuda = device("cuda", 1)
    assert str(cuda) == "cuda:1" and repr(cuda) == "device(type='cuda', index=1)" and cuda == device("cuda:1")
    assert device(cuda) == cuda and {cpu: 1}[device("cpu")] == 1
    assert pickle.loads(pickle.dumps(cuda)) == cuda
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda, .* device string: gpu"):
        device("gpu")
    for bad in ("cuda:-1", "cpu:x", "cuda:0:1"):
        with pytest.raises(RuntimeError, match=f"Invalid device string: '{bad}'"):
            device(bad)
    with pytest.raises(RuntimeError, match="Device index must not be negative"):
        device("cuda", -1)
    with pytest.raises(RuntimeError, match="must not include an index because index was passed explicitly"):
        device("cuda:0", 1)
    with pytest.raises(RuntimeError, match="Cannot access accelerator device"):
        device(0)


def test_cuda_and_backends_say_there_is_no_gpu():
    assert autograd.cuda.is_available() is False and autograd.cuda.device_count() == 0
    assert autograd.backends.mps.is_available() is False and autograd.backends.mps.is_built() is False
    assert autograd.backends.cudnn.is_available() is False
    autograd.backends.cudnn.deterministic = True  # seeding code sets these; they change nothing
    autograd.backends.cudnn.benchmark = False
    autograd.cuda.manual_seed(0), autograd.cuda.manual_seed_all(0), autograd.cuda.empty_cache()
    for call in (autograd.cuda.current_device, autograd.cuda.synchronize, autograd.cuda.get_device_name):
        with pytest.raises(RuntimeError, match="dagrad computes with numpy on the CPU only"):
            call()


# ------------------------------------------------------------------------------- save / load
def test_save_load_round_trip(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    opt = nn.optim.Adam(model.parameters(), lr=0.1)
    model(autograd.randn(5, 3)).sum().backward()
    opt.step()
    path = tmp_path / "ckpt.pt"
    serialization.save({"epoch": 3, "model": model.state_dict(), "optim": opt.state_dict(), "xs": [1.5, None]}, path)
    back = serialization.load(str(path), map_location=device("cpu"), weights_only=True)
    assert back["epoch"] == 3 and back["xs"] == [1.5, None]
    fresh = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    fresh.load_state_dict(back["model"])
    for (k, v), (k2, v2) in zip(model.state_dict().items(), fresh.state_dict().items()):
        assert k == k2
        np.testing.assert_array_equal(v._data, v2._data)
    assert back["optim"]["state"][0]["exp_avg"].shape == (4, 3)
    t = autograd.arange(6).reshape(2, 3)
    serialization.save(t, tmp_path / "t.pt")
    np.testing.assert_array_equal(serialization.load(tmp_path / "t.pt", map_location="cpu")._data, t._data)


def test_save_load_refusals(tmp_path):
    model = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"cannot save a Linear object itself.*model.state_dict\(\)"):
        serialization.save(model, tmp_path / "m.pt")
    serialization.save(model.state_dict(), tmp_path / "m.pt")
    with pytest.raises(RuntimeError, match="dagrad computes with numpy on the CPU only: there is no 'cuda:0'"):
        serialization.load(tmp_path / "m.pt", map_location=device("cuda", 0))
    with pytest.raises(TypeError, match="map_location must be None, 'cpu'"):
        serialization.load(tmp_path / "m.pt", map_location=lambda storage, loc: storage)
    with pytest.raises(TypeError, match="file objects such as io.BytesIO are not supported"):
        serialization.load(open(tmp_path / "m.pt", "rb"))
    with pytest.raises(TypeError, match="pickle_module must be None"):
        serialization.load(tmp_path / "m.pt", pickle_module=pickle)


def test_load_refuses_a_torch_save_file_and_says_what_to_do(tmp_path):
    zpath = tmp_path / "model.pth"  # the layout torch.save writes: a zip with a pickle inside
    with zipfile.ZipFile(zpath, "w") as z:
        z.writestr("model/data.pkl", pickle.dumps({"w": [1.0]}))
    with pytest.raises(
        CheckpointError, match=r"model\.pth.*zip archive.*never unpickles.*safetensors\.torch\.save_file"
    ):
        serialization.load(zpath)
    ppath = tmp_path / "old.pt"
    ppath.write_bytes(pickle.dumps({"w": [1.0]}, protocol=2))
    with pytest.raises(CheckpointError, match=r"old\.pt.*pickle.*safetensors\.torch\.save_file"):
        serialization.load(ppath)


def test_load_reads_pytorch_safetensors(oracle, tmp_path):
    def program(torch):
        torch.manual_seed(0)
        return torch.nn.Linear(3, 2).state_dict()

    theirs = oracle(program)
    pytest.importorskip("safetensors")
    import safetensors.numpy

    safetensors.numpy.save_file({k: np.asarray(v) for k, v in theirs.items()}, tmp_path / "w.safetensors")
    back = serialization.load(tmp_path / "w.safetensors")
    assert sorted(back) == ["bias", "weight"]
    np.testing.assert_array_equal(back["weight"]._data, theirs["weight"])


# ------------------------------------------------------------------ import autograd.nn as nn
def test_module_aliases():
    _modules.install()
    _modules.install()  # (idempotent)
    assert sum(isinstance(f, _modules._AliasFinder) for f in sys.meta_path) == 1
    import nn.functional
    import nn.optim
    import nn.optim.lr_scheduler

    assert importlib.import_module("autograd.nn") is nn
    assert importlib.import_module("autograd.nn.functional") is nn.functional
    assert importlib.import_module("autograd.optim") is nn.optim
    from autograd.optim.lr_scheduler import StepLR

    assert StepLR is nn.optim.lr_scheduler.StepLR
    assert nn.__spec__.name == "nn" and nn.optim.lr_scheduler.__spec__.name == "nn.optim.lr_scheduler"
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("autograd.nn.no_such_module")
