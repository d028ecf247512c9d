"""The CuPy backend: the same ops, engine and training step on device='cuda'.

Runs only where CuPy and an NVIDIA GPU are available; CI machines have neither, so these tests
are skipped there with that reason.
"""

import numpy as np
import pytest

import retrograd as rg

from .cuda_support import requires_cuda

cp = pytest.importorskip("cupy", reason="CuPy is not installed")
pytestmark = requires_cuda


def test_factories_and_transfers():
    x = rg.arange(6, dtype=rg.float32, device="cuda").reshape(2, 3)
    assert x.device.type == "cuda" and x.is_cuda
    assert x.cpu().tolist() == [[0, 1, 2], [3, 4, 5]]
    y = rg.randn(3, device="cuda")
    assert isinstance(y._data, cp.ndarray)
    assert rg.tensor([1.0, 2.0]).cuda().device == rg.device("cuda", 0)
    assert "device='cuda:0'" in repr(y)


@pytest.mark.parametrize(
    "fn",
    [
        lambda x, w: (x @ w).tanh().sum(),
        lambda x, w: ((x @ w).relu() ** 2).mean(),
        lambda x, w: (x.exp() * 0.5 + x.sin()).sum() + w.sigmoid().prod(),
        lambda x, w: rg.logsumexp(x @ w, dim=1).sum() + x.var(),
        lambda x, w: (x.unsqueeze(-1) * w).sum((0, 1)).max() + x[:, 1:].amax(),
    ],
)
def test_forward_and_backward_match_cpu(fn):
    rng = np.random.default_rng(0)
    xa = rng.standard_normal((4, 3))
    wa = rng.standard_normal((3, 5))
    results = []
    for device in ("cpu", "cuda"):
        x = rg.tensor(xa, device=device, requires_grad=True)
        w = rg.tensor(wa, device=device, requires_grad=True)
        out = fn(x, w)
        out.backward()
        results.append((out.item(), x.grad.cpu().numpy(), w.grad.cpu().numpy()))
    (o1, gx1, gw1), (o2, gx2, gw2) = results
    np.testing.assert_allclose(o2, o1, rtol=1e-10)
    np.testing.assert_allclose(gx2, gx1, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gw2, gw1, rtol=1e-10, atol=1e-12)


def test_gradient_flows_across_devices():
    x = rg.randn(3, dtype=rg.float64, requires_grad=True)
    y = (x.cuda() * 2).cpu().sum()
    y.backward()
    assert x.grad.device.type == "cpu"
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_gradcheck_on_cuda():
    x = rg.randn(3, 4, dtype=rg.float64, device="cuda", requires_grad=True)
    w = rg.randn(4, 2, dtype=rg.float64, device="cuda", requires_grad=True)
    assert rg.autograd.gradcheck(lambda a, b: (a @ b).tanh(), (x, w))


def test_mlp_training_step_on_cuda():
    nn = pytest.importorskip("retrograd.nn")
    if not hasattr(nn, "Linear") or not hasattr(rg, "optim"):
        pytest.skip("nn/optim not available")
    rg.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3)).to("cuda")
    opt = rg.optim.AdamW(model.parameters(), lr=1e-2)
    x = rg.randn(128, 20, device="cuda")
    y = rg.randint(0, 3, (128,), device="cuda")
    losses = []
    for _ in range(50):
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert all(p.device.type == "cuda" for p in model.parameters())
    assert losses[-1] < 0.5 * losses[0]
