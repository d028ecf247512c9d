"""Checkpoints exchanged with PyTorch: through safetensors and through PyTorch's own format
(``torch.save``'s zip archive and its legacy format) (optional: needs torch)."""

import numpy as np
import pytest

import retrograd as rg

torch = pytest.importorskip("torch")
st_torch = pytest.importorskip("safetensors.torch")


def test_retrograd_state_dict_loads_in_pytorch(tmp_path):
    sd = {
        "0.weight": rg.randn(4, 3).t(),
        "0.bias": rg.randn(3),
        "steps": rg.tensor(7),
        "mask": rg.tensor([True, False]),
    }
    rg.save(sd, tmp_path / "m.safetensors")
    out = st_torch.load_file(tmp_path / "m.safetensors")
    assert sorted(out) == sorted(sd)
    for k, v in sd.items():
        np.testing.assert_array_equal(out[k].numpy(), v.contiguous().numpy())
    model = torch.nn.Linear(4, 3)
    model.load_state_dict({"weight": out["0.weight"], "bias": out["0.bias"]})


def test_pytorch_state_dict_loads_in_retrograd(tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Linear(5, 2))
    st_torch.save_file(model.state_dict(), tmp_path / "t.safetensors")
    out = rg.load(tmp_path / "t.safetensors")
    assert sorted(out) == sorted(model.state_dict())  # safetensors does not keep key order
    for k, v in model.state_dict().items():
        assert out[k].dtype == rg.float32
        np.testing.assert_array_equal(out[k].numpy(), v.numpy())


def _models():
    t = torch.nn.Sequential(
        torch.nn.Conv2d(2, 3, 3),
        torch.nn.BatchNorm2d(3),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(3 * 4 * 4, 5),
    )
    r = rg.nn.Sequential(
        rg.nn.Conv2d(2, 3, 3), rg.nn.BatchNorm2d(3), rg.nn.ReLU(), rg.nn.Flatten(), rg.nn.Linear(3 * 4 * 4, 5)
    )
    with torch.no_grad():  # non-trivial running statistics
        t.train()(torch.randn(8, 2, 6, 6))
    return t.eval(), r.eval()


@pytest.mark.parametrize(
    "legacy, mmap, protocol", [(False, False, 2), (False, True, 2), (False, False, 4), (True, False, 2)]
)
def test_torch_save_state_dict_loads_into_the_same_retrograd_model(tmp_path, legacy, mmap, protocol):
    t, r = _models()
    torch.save(t.state_dict(), tmp_path / "t.pt", _use_new_zipfile_serialization=not legacy, pickle_protocol=protocol)
    sd = rg.load(tmp_path / "t.pt", mmap=mmap)
    assert list(sd) == list(t.state_dict())
    r.load_state_dict(sd)
    x = np.random.default_rng(0).standard_normal((4, 2, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(
        r(rg.tensor(x)).detach().numpy(), t(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-5
    )


def test_retrograd_pt_file_loads_in_pytorch_with_weights_only(tmp_path):
    t, r = _models()
    with rg.no_grad():
        r.train()(rg.randn(8, 2, 6, 6))
    r.eval()
    rg.save(r.state_dict(), tmp_path / "r.pt")
    sd = torch.load(tmp_path / "r.pt", weights_only=True)
    assert list(sd) == list(r.state_dict())
    t.load_state_dict(sd)
    x = np.random.default_rng(1).standard_normal((4, 2, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(
        t(torch.from_numpy(x)).detach().numpy(), r(rg.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-5
    )
    mapped = torch.load(tmp_path / "r.pt", weights_only=True, mmap=True)  # aligned storages
    for k, v in sd.items():
        assert torch.equal(mapped[k], v)


def test_views_dtypes_and_plain_values_reach_pytorch(tmp_path):
    w = rg.arange(24.0).reshape(4, 6)
    obj = {
        "w": w,
        "wt": w.t(),
        "col": w[:, 2],
        "flip": w.flip(0),
        "i": rg.arange(3),
        "b": rg.tensor([True, False]),
        "h": rg.ones(2, dtype=rg.float16),
        "d": rg.ones(2, dtype=rg.float64),
        "u8": rg.arange(3, dtype=rg.uint8),
        "p": rg.nn.Parameter(rg.ones(2)),
        "x": [1, 2.5, None, "s", (True, 2**40)],
        "dt": rg.int16,
        "e": rg.zeros(0, 3),
    }
    rg.save(obj, tmp_path / "v.pt")
    out = torch.load(tmp_path / "v.pt", weights_only=True)
    for k, v in obj.items():
        if isinstance(v, rg.Tensor):
            assert str(out[k].dtype) == f"torch.{v.dtype.name}", k
            np.testing.assert_array_equal(out[k].numpy(force=True), v.numpy(force=True))
            if k != "flip":  # PyTorch has no negative strides: the flip is stored as a copy
                assert out[k].stride() == v.stride(), k
    assert out["wt"].untyped_storage().data_ptr() == out["w"].untyped_storage().data_ptr()
    assert out["col"].storage_offset() == 2
    assert isinstance(out["p"], torch.nn.Parameter) and out["p"].requires_grad
    assert not out["w"].requires_grad
    assert out["x"] == [1, 2.5, None, "s", (True, 2**40)] and out["dt"] is torch.int16


def test_pytorch_values_around_tensors_load(tmp_path):
    p = torch.nn.Parameter(torch.randn(3))
    v = torch.arange(10)[2:8:2]
    torch.save({"p": p, "s": torch.Size([2, 3]), "d": torch.float16, "v": v, "set": {1, 2}}, tmp_path / "o.pt")
    out = rg.load(tmp_path / "o.pt")
    assert isinstance(out["p"], rg.nn.Parameter) and out["p"].requires_grad
    np.testing.assert_array_equal(out["p"].detach().numpy(), p.detach().numpy())
    assert out["s"] == rg.Size([2, 3]) and out["d"] is rg.float16 and out["set"] == {1, 2}
    assert out["v"].tolist() == [2, 4, 6] and out["v"].stride() == (2,)
    torch.save({"x": torch.ones(2, dtype=torch.complex64) * (1 + 2j)}, tmp_path / "c.pt")
    assert rg.load(tmp_path / "c.pt")["x"].tolist() == [1 + 2j, 1 + 2j]


def test_bfloat16_checkpoints_go_both_ways(tmp_path):
    values = [1 / 3, 100.0, -2.5e-3, 3e38]
    torch.save({"x": torch.tensor(values, dtype=torch.bfloat16)}, tmp_path / "t.pt")
    x = rg.load(tmp_path / "t.pt")["x"]
    assert x.dtype is rg.bfloat16
    assert x.float().tolist() == torch.tensor(values, dtype=torch.bfloat16).float().tolist()
    rg.save({"y": x * 2}, tmp_path / "r.pt")
    y = torch.load(tmp_path / "r.pt")["y"]
    assert y.dtype is torch.bfloat16
    assert y.float().tolist() == (torch.tensor(values, dtype=torch.bfloat16) * 2).float().tolist()


def test_a_whole_pytorch_module_is_refused_by_name(tmp_path):
    import pickle

    torch.save(torch.nn.Linear(2, 2), tmp_path / "m.pt")
    with pytest.raises(pickle.UnpicklingError, match="torch.nn.modules.linear.Linear"):
        rg.load(tmp_path / "m.pt")


def test_a_pickled_checkpoint_from_retrograd_loads_in_pytorch_when_trusted(tmp_path):
    import argparse

    w = rg.randn(3, 4)
    ck = {"args": argparse.Namespace(lr=0.1), "w": w, "row": w[1], "p": rg.nn.Parameter(rg.ones(2))}
    rg.save(ck, tmp_path / "ck.pt")
    out = torch.load(tmp_path / "ck.pt", weights_only=False)
    assert out["args"] == argparse.Namespace(lr=0.1)
    np.testing.assert_array_equal(out["w"].numpy(), w.numpy())
    assert out["row"].untyped_storage().data_ptr() == out["w"].untyped_storage().data_ptr()
    assert isinstance(out["p"], torch.nn.Parameter) and out["p"].requires_grad
    with pytest.raises(Exception, match="Namespace"):
        torch.load(tmp_path / "ck.pt")  # PyTorch's weights-only reader refuses it too
