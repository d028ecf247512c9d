"""Modules on device='cuda' (CuPy): conversion keeps parameters, results match the CPU.

Runs only where CuPy and an NVIDIA GPU are available."""

import copy

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn

from ..cuda_support import requires_cuda


cp = pytest.importorskip("cupy", reason="CuPy is not installed")
pytestmark = requires_cuda


def _model():
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 2 * 2, 3)
    )


def test_cuda_moves_parameters_in_place_and_matches_cpu():
    cpu = _model().double()
    gpu = copy.deepcopy(cpu)
    w = gpu[0].weight
    assert gpu.cuda() is gpu and gpu[0].weight is w
    assert all(isinstance(p._data, cp.ndarray) for p in gpu.parameters())
    assert w.device == rg.device("cuda", 0) and w.is_leaf and w.requires_grad
    x = np.random.default_rng(0).standard_normal((2, 2, 4, 4))
    out_c = cpu(rg.tensor(x))
    out_g = gpu(rg.tensor(x).to("cuda"))
    assert out_g.device.type == "cuda"
    np.testing.assert_allclose(out_g.detach().cpu().numpy(), out_c.detach().numpy(), rtol=1e-10, atol=1e-12)
    out_c.pow(2).sum().backward()
    out_g.pow(2).sum().backward()
    for pc, pg in zip(cpu.parameters(), gpu.parameters()):
        assert pg.grad.device.type == "cuda"
        np.testing.assert_allclose(pg.grad.cpu().numpy(), pc.grad.numpy(), rtol=1e-9, atol=1e-12)
    gpu.cpu()
    assert all(isinstance(p._data, np.ndarray) for p in gpu.parameters())
    assert isinstance(gpu[0].weight.grad._data, np.ndarray)


def test_tensor_from_numpy_straight_onto_the_gpu():
    x = np.ones((2, 3))
    t = rg.tensor(x, device="cuda")
    assert isinstance(t._data, cp.ndarray) and t.cpu().tolist() == x.tolist()


def test_state_dict_between_devices_and_init_on_cuda():
    gpu = _model().to("cuda")
    cpu = _model()
    cpu.load_state_dict(gpu.state_dict())
    np.testing.assert_array_equal(cpu[4].weight.detach().numpy(), gpu[4].weight.detach().cpu().numpy())
    gpu.load_state_dict(_model().state_dict())  # cpu tensors copied onto the GPU
    assert isinstance(gpu[4].weight._data, cp.ndarray)
    nn.init.kaiming_normal_(gpu[0].weight)
    nn.init.zeros_(gpu[0].bias)
    assert isinstance(gpu[0].weight._data, cp.ndarray) and not gpu[0].bias.detach().cpu().numpy().any()
    gpu.to("cuda", rg.float64)
    assert gpu[0].weight.dtype == rg.float64 and gpu[0].weight.device.type == "cuda"


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU])
def test_recurrent_on_cuda_matches_cpu(cls):
    cpu = cls(3, 4, num_layers=2, batch_first=True).double()
    gpu = copy.deepcopy(cpu).cuda()
    x = np.random.default_rng(1).standard_normal((2, 5, 3))
    out_c = cpu(rg.tensor(x))[0]
    out_g = gpu(rg.tensor(x).to("cuda"))[0]
    np.testing.assert_allclose(out_g.detach().cpu().numpy(), out_c.detach().numpy(), rtol=1e-10, atol=1e-12)
    out_g.sum().backward()
    out_c.sum().backward()
    np.testing.assert_allclose(gpu.weight_hh_l1.grad.cpu().numpy(), cpu.weight_hh_l1.grad.numpy(), rtol=1e-9)


def test_normalisation_and_attention_on_cuda():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.LayerNorm(8))
    gpu = copy.deepcopy(model).cuda()
    x = np.random.default_rng(2).standard_normal((3, 1, 4, 4)).astype(np.float32)
    np.testing.assert_allclose(
        gpu(rg.tensor(x).to("cuda")).detach().cpu().numpy(), model(rg.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5
    )
    np.testing.assert_allclose(gpu[1].running_var.cpu().numpy(), model[1].running_var.numpy(), rtol=1e-5)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    g_layer = copy.deepcopy(layer).cuda()
    h = np.random.default_rng(3).standard_normal((2, 5, 8)).astype(np.float32)
    np.testing.assert_allclose(
        g_layer(rg.tensor(h).to("cuda")).detach().cpu().numpy(),
        layer(rg.tensor(h)).detach().numpy(),
        rtol=1e-4,
        atol=1e-5,
    )
    loss = nn.CrossEntropyLoss()(
        g_layer(rg.tensor(h).to("cuda")).reshape(10, 8), rg.tensor(np.arange(10) % 8).to("cuda")
    )
    loss.backward()
    assert g_layer.self_attn.in_proj_weight.grad.device.type == "cuda"
