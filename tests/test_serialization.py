"""retrograd.save / retrograd.load: safetensors checkpoints, atomic writes, refusal of pickles."""
import io
import json
import math
import os
import pickle
import struct
import zipfile
from collections import Counter

import numpy as np
import pytest

import retrograd as rg
from retrograd import optim, serialization
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
        "epoch": 3, "lr": 0.1, "name": "run-1", "done": False, "none": None,
        "inf": float("inf"), "nan": float("nan"), "ninf": -math.inf,
        "pair": (1, "a", (2.5, None)), "list": [1, [2, 3], {"x": rg.ones(2)}],
        7: "int key", (1, 2): "tuple key", 2.5: "float key", None: "none key", True: "bool key",
        "dtype": rg.float64, "array": np.arange(3, dtype=np.int16),
        "counter": Counter({3: 2, 7: 1}),
        "model": {"0.weight": rg.randn(2, 2), "0.bias": rg.randn(2)},
    }
    out = _roundtrip(obj, tmp_path)
    assert out["pair"] == (1, "a", (2.5, None)) and isinstance(out["pair"][2], tuple)
    assert out[7] == "int key" and out[(1, 2)] == "tuple key" and out[None] == "none key"
    assert out["dtype"] is rg.float64 and isinstance(out["array"], np.ndarray)
    assert isinstance(out["counter"], Counter) and out["counter"][3] == 2
    _eq({k: v for k, v in out.items() if k not in ("array",)},
        {k: v for k, v in obj.items() if k not in ("array",)})
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
    rg.save({"model": {f"p{i}": p for i, p in enumerate(ps)}, "optim": opt.state_dict(),
             "sched": sched.state_dict()}, tmp_path / "ckpt")
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


def test_unsupported_objects_are_refused_with_their_path(tmp_path):
    with pytest.raises(TypeError, match=r"object of type .*\.object at optim\.state\.0\.fn"):
        rg.save({"optim": {"state": {0: {"fn": object()}}}}, tmp_path / "x")
    with pytest.raises(TypeError, match="dict key"):
        rg.save({frozenset(): 1}, tmp_path / "x")
    assert not (tmp_path / "x").exists()


# ---------------------------------------------------------------------------- atomic writes
def test_crash_mid_save_leaves_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    old = {"w": rg.ones(1000)}
    rg.save(old, path)
    before = path.read_bytes()

    def crashing_write(fh, data):
        fh.write(data[:len(data) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(serialization, "_write_all", crashing_write)
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


@pytest.mark.parametrize("make,match", [
    (lambda b: b[: len(b) - 10], "400 bytes of tensor data but only 390"),
    (lambda b: b[:100], "header"),
    (lambda b: b[:5], "only 5 bytes long"),
    (lambda b: b"", "only 0 bytes long"),
    (lambda b: b"\x89PNG\r\n\x1a\n" + bytes(200), "announce"),
    (lambda b: b"hello, this is a text file\n" * 3, "announce"),
    (lambda b: struct.pack("<Q", 5) + b"{oops", "not valid JSON"),
    (lambda b: struct.pack("<Q", 2) + b"[]", "not a JSON object"),
])
def test_truncated_corrupt_or_foreign_files(tmp_path, make, match):
    path = tmp_path / "bad.ckpt"
    path.write_bytes(make(_valid_bytes()))
    with pytest.raises(RuntimeError, match=match) as e:
        rg.load(path)
    assert "bad.ckpt" in str(e.value)


def test_corrupt_structure_metadata(tmp_path):
    from safetensors.numpy import save_file
    save_file({"a": np.ones(2)}, tmp_path / "c", metadata={"retrograd": json.dumps(
        {"version": 1, "object": {"$dict": [["w", {"$tensor": "missing"}]]}})})
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


def test_torch_save_zip_is_refused(tmp_path):
    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w") as z:  # the layout torch.save writes
        z.writestr("archive/data.pkl", pickle.dumps({"a": 1}))
    with pytest.raises(pickle.UnpicklingError, match="torch.save"):
        rg.load(path)
    with pytest.raises(RuntimeError, match="safetensors.torch.save_file"):
        rg.load(path, weights_only=False)


def test_tensors_cannot_be_pickled():
    with pytest.raises(TypeError, match="retrograd.save"):
        pickle.dumps(rg.ones(2))


def test_missing_safetensors_gives_an_install_hint(monkeypatch, tmp_path):
    import sys
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match="pip install safetensors"):
        rg.save({"w": rg.ones(2)}, tmp_path / "w.safetensors")
