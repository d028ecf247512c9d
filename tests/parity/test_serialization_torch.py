"""Checkpoints exchanged with PyTorch through safetensors (optional: needs torch)."""
import numpy as np
import pytest

import retrograd as rg

torch = pytest.importorskip("torch")
st_torch = pytest.importorskip("safetensors.torch")


def test_retrograd_state_dict_loads_in_pytorch(tmp_path):
    sd = {"0.weight": rg.randn(4, 3).t(), "0.bias": rg.randn(3), "steps": rg.tensor(7),
          "mask": rg.tensor([True, False])}
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


def test_torch_save_file_is_refused(tmp_path):
    import pickle
    torch.save({"w": torch.ones(2)}, tmp_path / "t.pt")
    with pytest.raises(pickle.UnpicklingError, match="torch.save"):
        rg.load(tmp_path / "t.pt")
