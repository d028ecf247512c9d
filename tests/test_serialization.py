"""retrograd.save / retrograd.load: safetensors checkpoints, atomic writes, refusal of pickles."""

import io
import json
import math
import os
import pickle
import struct
from collections import Counter

import numpy as np
import pytest

import retrograd as rg
from retrograd import _atomic_write, _safetensors_format, nn, optim, serialization
from retrograd.optim import lr_scheduler


def _roundtrip(obj, tmp_path, name="ckpt.safetensors"):
    path = tmp_path / name
    rg.save(obj, path)
    return rg.load(path)


def _eq(a, b):
    assert type(a) is type(b) or (isinstance(a, rg.Tensor) and isinstance(b, rg.Tensor)), (a, b)
    if isinstance(a, rg.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a.numpy(force=True), b.numpy(force=True))
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _eq(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _eq(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


def test_flat_state_dict_all_dtypes(tmp_path):
    sd = {
        "f32": rg.randn(3, 4),
        "f64": rg.randn(2, dtype=rg.float64),
        "f16": rg.tensor([1.5, -2.0], dtype=rg.float16),
        "i64": rg.arange(5),
        "i32": rg.tensor([1, 2], dtype=rg.int32),
        "u8": rg.tensor([0, 255], dtype=rg.uint8),
        "b": rg.tensor([True, False]),
        "scalar": rg.tensor(3.25),
        "empty": rg.zeros(0, 3),
    }
    _eq(_roundtrip(sd, tmp_path), sd)


def test_non_contiguous_tensors_round_trip(tmp_path):
    base = rg.arange(12.0).reshape(3, 4)
    sd = {"t": base.t(), "step": base[:, ::2], "flip": rg.flip(base, [0])}
    out = _roundtrip(sd, tmp_path)
    _eq(out, {k: v.contiguous() for k, v in sd.items()})
    assert out["t"].tolist() == [[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]]


def test_nested_structure_and_plain_values(tmp_path):
    obj = {
        "epoch": 3,
        "lr": 0.1,
        "name": "run-1",
        "done": False,
        "none": None,
        "inf": float("inf"),
        "nan": float("nan"),
        "ninf": -math.inf,
        "pair": (1, "a", (2.5, None)),
        "list": [1, [2, 3], {"x": rg.ones(2)}],
        7: "int key",
        (1, 2): "tuple key",
        2.5: "float key",
        None: "none key",
        True: "bool key",
        "dtype": rg.float64,
        "array": np.arange(3, dtype=np.int16),
        "counter": Counter({3: 2, 7: 1}),
        "model": {"0.weight": rg.randn(2, 2), "0.bias": rg.randn(2)},
    }
    out = _roundtrip(obj, tmp_path)
    assert out["pair"] == (1, "a", (2.5, None)) and isinstance(out["pair"][2], tuple)
    assert out[7] == "int key" and out[(1, 2)] == "tuple key" and out[None] == "none key"
    assert out["dtype"] is rg.float64 and isinstance(out["array"], np.ndarray)
    assert isinstance(out["counter"], Counter) and out["counter"][3] == 2
    _eq({k: v for k, v in out.items() if k not in ("array",)}, {k: v for k, v in obj.items() if k not in ("array",)})
    np.testing.assert_array_equal(out["array"], obj["array"])


def test_requires_grad_and_shared_tensors(tmp_path):
    w = rg.randn(3, requires_grad=True)
    out = _roundtrip({"a": w, "b": [w, w.detach() * 2]}, tmp_path)
    assert out["a"].requires_grad and out["a"].is_leaf
    assert out["b"][0] is out["a"]  # stored once, one object after loading
    assert not out["b"][1].requires_grad


def test_flat_state_dict_uses_keys_as_entry_names(tmp_path):
    from safetensors.numpy import load_file

    rg.save({"layer.weight": rg.ones(2, 2), "layer.bias": rg.zeros(2)}, tmp_path / "m.safetensors")
    assert sorted(load_file(tmp_path / "m.safetensors")) == ["layer.bias", "layer.weight"]


def test_foreign_safetensors_file_loads_as_flat_dict(tmp_path):
    from safetensors.numpy import save_file

    save_file({"b": np.ones(2, np.float32), "a": np.arange(4.0).reshape(2, 2)}, tmp_path / "x.safetensors")
    out = rg.load(tmp_path / "x.safetensors")
    assert set(out) == {"a", "b"} and out["a"].dtype == rg.float64
    assert out["a"].tolist() == [[0, 1], [2, 3]]


def test_sparse_tensor_round_trip(tmp_path):
    s = rg.sparse_coo_tensor([[0, 2, 0]], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], (4, 2))
    out = _roundtrip({"g": s}, tmp_path)["g"]
    assert out.is_sparse and out.shape == (4, 2) and not out.is_coalesced()
    np.testing.assert_array_equal(out.to_dense().numpy(), s.to_dense().numpy())
    moved = rg.load(_save_path(tmp_path, {"g": s}), map_location=lambda t, loc: t.double())["g"]
    assert moved.is_sparse and moved.dtype == rg.float64
    with pytest.raises(TypeError, match="sparse tensor at g cannot be stored in a PyTorch checkpoint"):
        rg.save({"g": s}, tmp_path / "x.pt")


def _save_path(tmp_path, obj):
    path = tmp_path / "s.safetensors"
    rg.save(obj, path)
    return path


def test_file_like_objects():
    buf = io.BytesIO()
    sd = {"w": rg.randn(2, 3)}
    rg.save(sd, buf)
    buf.seek(0)
    _eq(rg.load(buf), sd)


def test_map_location(tmp_path):
    rg.save({"w": rg.ones(2)}, tmp_path / "m")
    assert rg.load(tmp_path / "m", map_location="cpu")["w"].device.type == "cpu"
    assert rg.load(tmp_path / "m", map_location=rg.device("cpu"))["w"].tolist() == [1, 1]
    assert rg.load(tmp_path / "m", map_location={"cpu": "cpu"})["w"].tolist() == [1, 1]
    assert rg.load(tmp_path / "m", map_location=lambda t, loc: t * 2)["w"].tolist() == [2, 2]


def test_optimizer_state_dict_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    ps = [rg.tensor(rng.standard_normal((3, 2)), requires_grad=True) for _ in range(2)]
    opt = optim.Adam([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.01}], lr=0.1, amsgrad=True)
    sched = lr_scheduler.MultiStepLR(opt, [2, 4], gamma=0.5)
    grads = [[rng.standard_normal((3, 2)) for _ in ps] for _ in range(6)]

    def run(opt, sched, ps, steps):
        for gs in steps:
            for p, g in zip(ps, gs):
                p.grad = rg.tensor(g)
            opt.step()
            sched.step()

    run(opt, sched, ps, grads[:3])
    rg.save(
        {"model": {f"p{i}": p for i, p in enumerate(ps)}, "optim": opt.state_dict(), "sched": sched.state_dict()},
        tmp_path / "ckpt",
    )
    ck = rg.load(tmp_path / "ckpt")
    assert ck["optim"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert sorted(ck["optim"]["state"]) == [0, 1]
    run(opt, sched, ps, grads[3:])

    ps2 = [ck["model"][f"p{i}"] for i in range(2)]
    opt2 = optim.Adam([{"params": ps2[:1]}, {"params": ps2[1:]}], lr=0.1, amsgrad=True)
    sched2 = lr_scheduler.MultiStepLR(opt2, [2, 4], gamma=0.5)
    opt2.load_state_dict(ck["optim"])
    sched2.load_state_dict(ck["sched"])
    run(opt2, sched2, ps2, grads[3:])
    for p, q in zip(ps, ps2):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    assert sched2.get_last_lr() == sched.get_last_lr()


def test_what_safetensors_cannot_hold_is_refused_with_its_path_when_asked_for(tmp_path):
    with pytest.raises(TypeError, match=r"object of type .*\.object at optim\.state\.0\.fn"):
        rg.save({"optim": {"state": {0: {"fn": object()}}}}, tmp_path / "x", format="safetensors")
    with pytest.raises(TypeError, match="dict key"):
        rg.save({frozenset(): 1}, tmp_path / "x", format="safetensors")
    assert not (tmp_path / "x").exists()


def test_a_whole_module_is_pickled_in_pytorchs_format_and_loads_only_when_trusted(tmp_path):
    rg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 4))
    model[3].weight = model[0].weight  # tied: one parameter in two places
    model(rg.randn(8, 4))  # running statistics move
    path = tmp_path / "model.ckpt"  # not a .pt suffix: safetensors cannot hold a module, so it is pickled
    rg.save(model, path)
    with pytest.raises(pickle.UnpicklingError, match="Sequential"):
        rg.load(path)
    loaded = rg.load(path, weights_only=False)
    assert type(loaded) is nn.Sequential and loaded is not model
    assert loaded[3].weight is loaded[0].weight
    assert isinstance(loaded[0].weight, nn.Parameter) and loaded[0].weight.requires_grad
    assert list(loaded.state_dict()) == list(model.state_dict())
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[k].numpy(), v.numpy())
    x = rg.randn(5, 4)
    model.eval(), loaded.eval()
    np.testing.assert_array_equal(loaded(x).detach().numpy(), model(x).detach().numpy())
    loaded(x).sum().backward()  # the loaded module trains
    assert loaded[0].weight.grad is not None and model[0].weight.grad is None


def test_any_picklable_object_goes_to_a_file_object_and_back(tmp_path):
    import argparse

    buf = io.BytesIO()
    ck = {"args": argparse.Namespace(lr=0.1, name="run"), "w": rg.arange(6.0).reshape(2, 3), frozenset([1]): 2}
    ck["view"] = ck["w"][1]
    rg.save(ck, buf)
    buf.seek(0)
    out = rg.load(buf, weights_only=False)
    assert out["args"] == ck["args"] and out[frozenset([1])] == 2
    np.testing.assert_array_equal(out["view"].numpy(), [3.0, 4.0, 5.0])
    out["w"][1, 0] = -1.0  # the view still shares the saved tensor's storage
    assert out["view"][0].item() == -1.0


def test_an_object_that_cannot_be_pickled_is_refused_and_nothing_is_written(tmp_path):
    with pytest.raises(TypeError, match="cannot pickle"):
        rg.save({"fn": lambda x: x, "w": rg.ones(2)}, tmp_path / "x.pt")
    assert not (tmp_path / "x.pt").exists()


# ---------------------------------------------------------------------------- atomic writes
def test_crash_mid_save_leaves_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    old = {"w": rg.ones(1000)}
    rg.save(old, path)
    before = path.read_bytes()

    real_chunks = _safetensors_format._chunks

    def crashing_chunks(a):
        for chunk in real_chunks(a):
            yield chunk[: len(chunk) // 2]
            raise OSError("disk full")

    monkeypatch.setattr(_safetensors_format, "_chunks", crashing_chunks)
    with pytest.raises(OSError, match="disk full"):
        rg.save({"w": rg.zeros(1000)}, path)
    assert path.read_bytes() == before
    _eq(rg.load(path), old)
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]  # the temporary file is gone


def test_save_replaces_and_keeps_permissions(tmp_path):
    path = tmp_path / "ckpt"
    rg.save({"w": rg.ones(2)}, path)
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
    os.chmod(path, 0o640)
    rg.save({"w": rg.zeros(2)}, path)
    assert path.stat().st_mode & 0o777 == 0o640
    assert rg.load(path)["w"].tolist() == [0, 0]


# ---------------------------------------------------------------------------- bad files
def _valid_bytes():
    buf = io.BytesIO()
    rg.save({"w": rg.arange(100.0), "opt": {"step": 3}}, buf)
    return buf.getvalue()


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda b: b[: len(b) - 10], "400 bytes of tensor data but only 390"),
        (lambda b: b[:100], "header"),
        (lambda b: b[:5], "only 5 bytes long"),
        (lambda b: b"", "only 0 bytes long"),
        (lambda b: b"\x89PNG\r\n\x1a\n" + bytes(200), "announce"),
        (lambda b: b"hello, this is a text file\n" * 3, "announce"),
        (lambda b: struct.pack("<Q", 5) + b"{oops", "not valid JSON"),
        (lambda b: struct.pack("<Q", 2) + b"[]", "not a JSON object"),
    ],
)
def test_truncated_corrupt_or_foreign_files(tmp_path, make, match):
    path = tmp_path / "bad.ckpt"
    path.write_bytes(make(_valid_bytes()))
    with pytest.raises(RuntimeError, match=match) as e:
        rg.load(path)
    assert "bad.ckpt" in str(e.value)


def test_corrupt_structure_metadata(tmp_path):
    from safetensors.numpy import save_file

    save_file(
        {"a": np.ones(2)},
        tmp_path / "c",
        metadata={"retrograd": json.dumps({"version": 1, "object": {"$dict": [["w", {"$tensor": "missing"}]]}})},
    )
    with pytest.raises(RuntimeError, match="'missing'"):
        rg.load(tmp_path / "c")
    save_file({"a": np.ones(2)}, tmp_path / "d", metadata={"retrograd": "{not json"})
    with pytest.raises(RuntimeError, match="not valid JSON"):
        rg.load(tmp_path / "d")


def test_pickle_files_are_refused_unless_trusted(tmp_path):
    path = tmp_path / "old.pt"
    with open(path, "wb") as fh:
        pickle.dump({"w": np.arange(3.0), "epoch": 2}, fh)
    with pytest.raises(pickle.UnpicklingError) as e:
        rg.load(path)
    msg = str(e.value)
    assert "old.pt" in msg and "pickle" in msg and "code" in msg and "weights_only=False" in msg
    out = rg.load(path, weights_only=False)
    assert out["epoch"] == 2 and out["w"].tolist() == [0, 1, 2]


def test_tensors_pickle_by_value():
    t = rg.tensor([[1.5, -2.0]], dtype=rg.float64, requires_grad=True)
    t.note = "kept"
    u = pickle.loads(pickle.dumps(t))
    assert u is not t and u.dtype == rg.float64 and u.requires_grad and u.is_leaf
    assert u.tolist() == [[1.5, -2.0]] and u.note == "kept" and u.grad is None
    b = pickle.loads(pickle.dumps(rg.arange(6)[::2]))  # a view pickles as its own values
    assert b.dtype == rg.int64 and b.tolist() == [0, 2, 4] and not b.requires_grad
    p = pickle.loads(pickle.dumps(rg.nn.Parameter(rg.ones(2))))
    assert type(p) is rg.nn.Parameter and p.requires_grad


def test_sparse_tensors_refuse_pickling():
    s = rg.sparse_coo_tensor(rg.tensor([[0, 1]]), rg.tensor([1.0, 2.0]), (3,))
    with pytest.raises(TypeError, match="to_dense"):
        pickle.dumps(s)


def test_save_and_load_do_not_need_the_safetensors_package(monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    rg.save({"w": rg.ones(2)}, tmp_path / "w.safetensors")
    assert rg.load(tmp_path / "w.safetensors")["w"].tolist() == [1, 1]


# ---------------------------------------------------------------------------- the format
def _craft(header, data=b""):
    """A safetensors file: ``header`` (a dict, or raw bytes) and ``data``."""
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


def _f32(shape, begin=0):
    n = 4 * math.prod(shape)
    return {"dtype": "F32", "shape": list(shape), "data_offsets": [begin, begin + n]}


def test_files_are_readable_by_the_safetensors_package(tmp_path):
    from safetensors import safe_open
    from safetensors.numpy import load_file

    sd = {
        "f16": rg.tensor([1.5, -2.0], dtype=rg.float16),
        "b": rg.tensor([True, False, True]),
        "i8": rg.tensor([-3, 4], dtype=rg.int8),
        "f64": rg.randn(2, 3, dtype=rg.float64),
        "i64": rg.arange(5),
        "scalar": rg.tensor(2.5),
        "empty": rg.zeros(0, 3),
        "t": rg.arange(12.0).reshape(3, 4).t(),
        "__metadata__": rg.ones(1),
    }
    obj = {"model": sd, "opt": {"state": {0: {"exp_avg": rg.ones(2)}}}, "array": np.arange(3)}
    rg.save(obj, tmp_path / "c.safetensors")
    out = load_file(tmp_path / "c.safetensors")
    for k, v in sd.items():
        if k != "__metadata__":
            np.testing.assert_array_equal(out[f"model.{k}"], v.contiguous().numpy())
            assert out[f"model.{k}"].dtype == v.numpy().dtype
    assert out["opt.state.0.exp_avg"].tolist() == [1, 1] and out["array"].tolist() == [0, 1, 2]
    with safe_open(tmp_path / "c.safetensors", framework="np") as fh:
        assert fh.metadata()["format"] == "pt" and "retrograd" in fh.metadata()
    back = rg.load(tmp_path / "c.safetensors")
    _eq(back["model"], {k: v.contiguous() for k, v in sd.items()})
    _eq(back["opt"], obj["opt"])
    assert back["array"].tolist() == [0, 1, 2]


def test_files_of_the_safetensors_package_load(tmp_path):
    from safetensors.numpy import save_file

    arrays = {
        "f16": np.array([1.5, 2], np.float16),
        "f32": np.ones((2, 2), np.float32),
        "f64": np.arange(3.0),
        "i8": np.array([-1], np.int8),
        "i16": np.array([7], np.int16),
        "i32": np.array([[1, 2]], np.int32),
        "i64": np.array(5),
        "u8": np.array([255], np.uint8),
        "b": np.array([True, False]),
        "empty": np.zeros((0, 2), np.float32),
    }
    save_file(arrays, tmp_path / "x.safetensors", metadata={"framework": "other"})
    out = rg.load(tmp_path / "x.safetensors")
    assert sorted(out) == sorted(arrays)
    for k, v in arrays.items():
        assert out[k].numpy().dtype == v.dtype and out[k].shape == v.shape
        np.testing.assert_array_equal(out[k].numpy(), v)
    out["f32"].add_(1)  # loaded tensors own writable memory


def test_a_header_of_640_bytes_is_not_mistaken_for_a_pickle(tmp_path):
    # 640 = 0x280: the file starts 80 02, the opening bytes of a protocol-2 pickle
    for k in range(1, 400):
        buf = io.BytesIO()
        rg.save({"w" * k: rg.ones(2)}, buf)
        if struct.unpack("<Q", buf.getvalue()[:8])[0] == 640:
            break
    assert buf.getvalue()[:2] == b"\x80\x02"
    (tmp_path / "c").write_bytes(buf.getvalue())
    assert rg.load(tmp_path / "c")["w" * k].tolist() == [1, 1]


def test_load_from_a_stream_that_cannot_seek():
    class Stream:
        def __init__(self, data):
            self.buf = io.BytesIO(data)

        def read(self, n=-1):
            return self.buf.read(n)

    rg.save({"w": rg.arange(6.0), "n": 3}, buf := io.BytesIO())
    out = rg.load(Stream(buf.getvalue()))
    assert out["w"].tolist() == [0, 1, 2, 3, 4, 5] and out["n"] == 3
    with pytest.raises(serialization.InvalidCheckpointError, match="ends inside the data"):
        rg.load(Stream(buf.getvalue()[:-8]))


def test_mmap(tmp_path):
    path = tmp_path / "c"
    rg.save({"w": rg.arange(4.0), "e": rg.zeros(0)}, path)
    before = path.read_bytes()
    out = rg.load(path, mmap=True)
    assert out["w"].tolist() == [0, 1, 2, 3] and out["e"].shape == (0,)
    out["w"].add_(10)  # copy-on-write: the file is untouched
    assert out["w"].tolist() == [10, 11, 12, 13] and path.read_bytes() == before
    with pytest.raises(ValueError, match="file path"):
        rg.load(io.BytesIO(before), mmap=True)


def test_pickle_module_needs_weights_only_false(tmp_path):
    path = tmp_path / "p.pkl"
    path.write_bytes(pickle.dumps({"a": 1}, protocol=2))
    with pytest.raises(RuntimeError, match="pickle_module"):
        rg.load(path, pickle_module=pickle)
    assert rg.load(path, pickle_module=pickle, weights_only=False) == {"a": 1}


# ---------------------------------------------------------------------------- memory
def _peak(fn):
    import tracemalloc

    tracemalloc.start()
    try:
        out = fn()
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_save_and_load_hold_one_copy_of_the_data(tmp_path):
    mib = 1 << 20
    sd = {
        "a": rg.ones(4 * mib, dtype=rg.float32),  # 16 MiB
        "b": rg.ones(4096, 1024, dtype=rg.float64).t(),  # 32 MiB, strided
        "c": rg.arange(1000),
    }
    data = sum(v.numel() * v.element_size() for v in sd.values())
    _, peak = _peak(lambda: rg.save(sd, tmp_path / "big"))
    assert peak <= 1.3 * data, (peak, data)
    out, peak = _peak(lambda: rg.load(tmp_path / "big"))
    assert peak <= 1.3 * data, (peak, data)
    assert out["b"].shape == (1024, 4096) and float(out["b"].sum()) == 4096 * 1024


# ---------------------------------------------------------------------------- hostile files
def test_a_huge_file_holding_a_tiny_tensor_is_refused_after_reading_its_header(tmp_path):
    path = tmp_path / "huge"
    with open(path, "wb") as fh:
        fh.write(_craft({"w": _f32([4])}, bytes(16)))
        fh.truncate(64 << 20)  # 64 MiB, sparse: zeros after the tensor
    with pytest.raises(serialization.InvalidCheckpointError, match="follow the last") as e:
        rg.load(path)
    assert "huge" in str(e.value)
    _, peak = _peak(lambda: pytest.raises(RuntimeError, rg.load, path))
    assert peak < 1 << 20  # the old code read all 64 MiB


def test_a_zero_stream_is_refused_after_reading_a_few_bytes():
    class Zeros:  # like /dev/zero: endless, size unknown
        read_total = 0

        def read(self, n=-1):
            assert 0 <= n <= 1 << 20, "read without a bound"
            Zeros.read_total += n
            return bytes(n)

    with pytest.raises(serialization.InvalidCheckpointError, match="not valid JSON"):
        rg.load(Zeros())
    assert Zeros.read_total <= 8


_LOAD_DEV_ZERO = """
import resource
resource.setrlimit(resource.RLIMIT_AS, (1 << 31, 1 << 31))  # a regression fails, not the machine
import retrograd as rg
try:
    rg.load("/dev/zero")
except rg.serialization.InvalidCheckpointError as e:
    print(e)
"""


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_dev_zero_is_refused():
    import subprocess
    import sys

    r = subprocess.run(
        [sys.executable, "-c", _LOAD_DEV_ZERO],
        capture_output=True,
        text=True,
        env=dict(os.environ, OPENBLAS_NUM_THREADS="1"),
    )
    assert r.returncode == 0 and "'/dev/zero' is not a valid" in r.stdout, r.stdout + r.stderr


_GOOD = {"w": _f32([2])}


_HOSTILE = [
    (struct.pack("<Q", 1 << 63), "more than the 100000000 bytes"),
    (struct.pack("<Q", 1 << 20) + b"{}", "announce a 1048576-byte header but the file has"),
    (_craft(b"[" * 100000 + b"]" * 100000), "not valid JSON"),
    (_craft(b'{"w": \xff}'), "not valid JSON"),
    (_craft({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 16]}}, bytes(8)), "8 bytes, but data_offsets"),
    (_craft({"w": _f32([4])}, bytes(8)), "16 bytes of tensor data but only 8"),
    (_craft({"w": {"dtype": "F32", "shape": [2], "data_offsets": ["0", "8"]}}, bytes(8)), "no valid data_offsets"),
    (_craft({"w": {"dtype": "F32", "shape": [0], "data_offsets": [8, 0]}}, bytes(8)), "no valid data_offsets"),
    (_craft({"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, bytes(8)), "no valid shape"),
    (_craft({"w": {"dtype": "F32", "shape": [True, 2], "data_offsets": [0, 8]}}, bytes(8)), "no valid shape"),
    (_craft({"w": {"dtype": "F32", "shape": [2.0], "data_offsets": [0, 8]}}, bytes(8)), "no valid shape"),
    (_craft({"w": {"dtype": ["F32"], "shape": [2], "data_offsets": [0, 8]}}, bytes(8)), "no valid dtype"),
    (_craft({"w": {"dtype": "F128", "shape": [2], "data_offsets": [0, 8]}}, bytes(8)), "no valid dtype"),
    (_craft({"w": {"dtype": "F8_E8M0", "shape": [2], "data_offsets": [0, 2]}}, bytes(2)), "F8_E8M0, which"),
    (_craft({"w": [1]}, bytes(8)), "not a JSON object"),
    (_craft({"a": _f32([2]), "b": _f32([2], 4)}, bytes(12)), "overlaps"),
    (_craft({"a": _f32([2]), "b": _f32([2], 12)}, bytes(20)), "gap"),
    (_craft({"a": _f32([2], 4)}, bytes(12)), "gap"),
    (_craft(_GOOD, bytes(9)), "1 bytes follow the last"),
    (_craft({"__metadata__": {"a": 1}, **_GOOD}, bytes(8)), "__metadata__"),
    (_craft({"__metadata__": [], **_GOOD}, bytes(8)), "__metadata__"),
    (_craft({"b": {"dtype": "BOOL", "shape": [2], "data_offsets": [0, 2]}}, b"\x01\x02"), "bytes other than 0 and 1"),
    (_craft({"w": {"dtype": "F32", "shape": [1] * 100, "data_offsets": [0, 4]}}, bytes(4)), "shape"),
    (
        _craft({"w": {"dtype": "U16", "shape": [1], "data_offsets": [0, 2]}}, bytes(2)),
        "uint16, which retrograd tensors do not support",
    ),
]


@pytest.mark.parametrize("raw,match", _HOSTILE, ids=[m.split(",")[0] for _, m in _HOSTILE])
def test_hostile_headers(tmp_path, raw, match):
    path = tmp_path / "bad.ckpt"
    path.write_bytes(raw)
    with pytest.raises(serialization.InvalidCheckpointError, match=match) as e:
        rg.load(path)
    assert "bad.ckpt" in str(e.value) and isinstance(e.value, RuntimeError)
    with pytest.raises(serialization.InvalidCheckpointError, match=match):
        rg.load(io.BytesIO(raw))


def _with_structure(obj, arrays=None, version=1):
    """A file written by the safetensors package with a retrograd structure ``obj`` (or the raw
    metadata string ``obj``)."""
    from safetensors.numpy import save

    arrays = {"a": np.ones(2, np.float32)} if arrays is None else arrays
    doc = obj if isinstance(obj, str) else json.dumps({"version": version, "object": obj})
    return save(arrays, metadata={"retrograd": doc})


def _deep(n):
    return json.loads("[" * n + "]" * n)


_SPARSE = {"indices": "i", "values": "v", "size": [3]}
_SPARSE_ARRAYS = {"i": np.array([[0, 2]]), "v": np.ones(2, np.float32)}


@pytest.mark.parametrize(
    "obj,arrays,match",
    [
        ({"$dict": 5}, None, "holds a dict as 5"),
        ({"$dict": [[1]]}, None, "not a \\[key, value\\] pair"),
        ({"$dict": [[[[1]], 2]]}, None, "not hashable"),
        ({"$dict": [[{"$dict": []}, 2]]}, None, "not hashable"),
        ({"$counter": "x"}, None, "holds a dict as"),
        ({"$tensor": [1]}, None, "names a tensor by \\[1\\]"),
        ({"$tensor": "nope"}, None, "'nope' that the file does not hold"),
        ({"$tensor": "a", "requires_grad": "yes"}, None, "requires_grad='yes'"),
        ({"$tensor": "i", "requires_grad": True}, {"i": np.arange(2)}, "requires_grad on the"),
        ({"$tensor": "a", "extra": 1}, None, "unknown entry"),
        ({"$ndarray": 3}, None, "names a tensor by 3"),
        ({"$tuple": {"a": 1}}, None, "holds a tuple as"),
        ({"$float": 1}, None, "holds 1 as a float"),
        ({"$float": "pi"}, None, "holds 'pi' as a float"),
        ({"$dtype": "complex256"}, None, "as a dtype"),
        ({"$dtype": 3}, None, "as a dtype"),
        ({"$what": 1}, None, "unknown entry"),
        ({}, None, "unknown entry"),
        (_deep(600), None, "nested more than 64"),
        ({"$sparse_coo": _SPARSE | {"size": [-3]}}, _SPARSE_ARRAYS, "size \\[-3\\]"),
        ({"$sparse_coo": _SPARSE | {"size": [2]}}, _SPARSE_ARRAYS, "inconsistent sparse"),
        ({"$sparse_coo": _SPARSE | {"size": [3, 1]}}, _SPARSE_ARRAYS, "inconsistent sparse"),
        ({"$sparse_coo": _SPARSE | {"coalesced": 1}}, _SPARSE_ARRAYS, "coalesced=1"),
        (
            {"$sparse_coo": _SPARSE | {"coalesced": True}},
            {"i": np.array([[2, 0]]), "v": np.ones(2, np.float32)},
            "not sorted and unique",
        ),
        ({"$sparse_coo": _SPARSE}, {"i": np.array([[0, 2]], np.int32), "v": np.ones(2, np.float32)}, "not int64"),
        ({"$sparse_coo": _SPARSE | {"x": 1}}, _SPARSE_ARRAYS, "holds a sparse tensor as"),
        ("[1, 2]", None, "no 'object' entry"),
        ('{"version": "1", "object": 1}', None, "version '1'"),
        ('{"version": 1, "object": ' + "[" * 5000 + "]" * 5000 + "}", None, "not valid JSON"),
    ],
)
def test_malformed_structures(tmp_path, obj, arrays, match):
    path = tmp_path / "bad.ckpt"
    path.write_bytes(_with_structure(obj, arrays))
    with pytest.raises(serialization.InvalidCheckpointError, match=match) as e:
        rg.load(path)
    assert "bad.ckpt" in str(e.value)


def test_newer_format_version_is_refused(tmp_path):
    (tmp_path / "c").write_bytes(_with_structure(1, version=2))
    with pytest.raises(serialization.InvalidCheckpointError, match="newer retrograd"):
        rg.load(tmp_path / "c")


def test_nesting_is_bounded_the_same_way_on_save_and_load(tmp_path):
    deepest = []
    for _ in range(serialization.MAX_DEPTH - 1):
        deepest = [deepest]
    assert _roundtrip(deepest, tmp_path) == deepest
    with pytest.raises(ValueError, match="nested more than 64"):
        rg.save([deepest], tmp_path / "x")
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="nested more than 64"):
        rg.save({"a": loop}, tmp_path / "x")


# ---------------------------------------------------------------------------- what a path names
def test_save_through_a_symlink_replaces_its_target(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "ckpt"
    rg.save({"w": rg.ones(2)}, target)
    os.chmod(target, 0o600)
    (tmp_path / "link").symlink_to(os.path.join("real", "ckpt"))  # relative
    (tmp_path / "link2").symlink_to("link")  # a chain
    rg.save({"w": rg.zeros(2)}, tmp_path / "link2")
    assert (tmp_path / "link").is_symlink() and (tmp_path / "link2").is_symlink()
    assert rg.load(target)["w"].tolist() == [0, 0] and target.stat().st_mode & 0o777 == 0o600
    assert sorted(os.listdir(tmp_path / "real")) == ["ckpt"]  # the temp file was there, and gone
    (tmp_path / "dangling").symlink_to("real/new")
    rg.save({"w": rg.ones(1)}, tmp_path / "dangling")
    assert (tmp_path / "dangling").is_symlink() and rg.load(tmp_path / "real" / "new")["w"].tolist() == [1]


def test_symlink_loop_is_an_error(tmp_path):
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(OSError, match="symbolic links"):
        rg.save({"w": rg.ones(1)}, tmp_path / "a")
    assert (tmp_path / "a").is_symlink()


def _special(tmp_path, kind):
    import socket
    import stat

    path = tmp_path / "special"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        s = socket.socket(socket.AF_UNIX)
        try:
            s.bind(str(path))
        except OSError:
            pytest.skip("cannot make a unix socket here")
        finally:
            s.close()
    elif kind == "device":
        try:  # a private null device: a bug here must not replace the system's /dev/null
            os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 3))
        except (OSError, AttributeError):
            pytest.skip("cannot make a device node (needs root)")
    else:
        path.mkdir()
    return path


@pytest.mark.parametrize(
    "kind,match",
    [("fifo", "is a FIFO"), ("socket", "is a socket"), ("device", "is a character device"), ("dir", "is a directory")],
)
@pytest.mark.parametrize("via_link", [False, True])
def test_special_files_are_refused(tmp_path, kind, match, via_link):
    import stat

    path = _special(tmp_path, kind)
    mode = os.lstat(path).st_mode
    if via_link:
        (tmp_path / "link").symlink_to(path)
    with pytest.raises(OSError, match=match) as e:
        rg.save({"w": rg.ones(2)}, tmp_path / "link" if via_link else path)
    assert "special" in str(e.value)
    assert os.lstat(path).st_mode == mode and not stat.S_ISREG(mode)
    assert sorted(os.listdir(tmp_path)) == sorted(["special"] + ["link"] * via_link)


def test_save_into_an_open_fifo_works(tmp_path):
    import threading

    path = tmp_path / "pipe"
    os.mkfifo(path)
    got = []
    reader = threading.Thread(target=lambda: got.append(rg.load(path)), daemon=True)
    reader.start()
    with open(path, "wb") as fh:
        rg.save({"w": rg.arange(3)}, fh)
    reader.join(10)
    assert got[0]["w"].tolist() == [0, 1, 2]


def test_hard_links_keep_the_old_contents(tmp_path):
    rg.save({"w": rg.ones(2)}, tmp_path / "a")
    os.link(tmp_path / "a", tmp_path / "b")
    rg.save({"w": rg.zeros(2)}, tmp_path / "a")  # documented: replaced atomically, not in place
    assert rg.load(tmp_path / "a")["w"].tolist() == [0, 0]
    assert rg.load(tmp_path / "b")["w"].tolist() == [1, 1]


_KILLED_SAVE = """
import os, signal, sys
import retrograd as rg
from retrograd import _safetensors_format as fmt
real = fmt._chunks
def chunks(a):
    for c in real(a):
        yield c
        os.kill(os.getpid(), signal.SIGKILL)
fmt._chunks = chunks
rg.save({"w": rg.zeros(1000)}, sys.argv[1])
"""


@pytest.mark.skipif(os.name != "posix", reason="pids are checked on POSIX")
def test_temp_files_of_killed_saves_are_removed_by_the_next_save(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "ckpt"
    stale = []
    for _ in range(2):  # the second killed save removes the first one's file
        r = subprocess.run([sys.executable, "-c", _KILLED_SAVE, str(path)])
        assert r.returncode == -9
        stale = sorted(os.listdir(tmp_path))
        assert len(stale) == 1 and stale[0].startswith(".ckpt.") and stale[0].endswith(".tmp")
    tag = _atomic_write._HOST_TAG
    dead_pid = int(stale[0].split("-")[-2])
    keep = [
        f".ckpt.{tag}-{os.getpid()}-live.tmp",  # a concurrent save, alive
        f".other.{tag}-{dead_pid}-x1.tmp",  # another target's
        f".ckpt.{tag}-{dead_pid}-x.y.tmp",  # not a name save makes
        f".ckpt.00000000-{dead_pid}-x2.tmp",  # another host's
        "ckpt.bak",
    ]
    for n in keep:
        (tmp_path / n).write_bytes(b"x")
    rg.save({"w": rg.ones(2)}, path)
    assert sorted(os.listdir(tmp_path)) == sorted(keep + ["ckpt"])
    assert rg.load(path)["w"].tolist() == [1, 1]


def test_save_refuses_pickle_settings_it_cannot_honour(tmp_path):
    x = {"w": rg.ones(2)}
    rg.save(x, tmp_path / "ok.pt", pickle_module=pickle, pickle_protocol=2)  # PyTorch's defaults
    for kwargs in (
        {"pickle_protocol": 4},
        {"pickle_module": object()},
        {"_use_new_zipfile_serialization": False},
        {"_disable_byteorder_record": True},
    ):
        with pytest.raises(NotImplementedError, match="pickle"):
            rg.save(x, tmp_path / "x.pt", **kwargs)
