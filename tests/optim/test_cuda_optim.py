"""Optimizers, sparse gradients, clipping and checkpoints on device='cuda' (CuPy) match CPU.

Runs only where CuPy and an NVIDIA GPU are available; skipped elsewhere with that reason."""

import numpy as np
import pytest

import retrograd as rg

from ..cuda_support import requires_cuda
from retrograd import optim

cp = pytest.importorskip("cupy", reason="CuPy is not installed")
pytestmark = requires_cuda

N, D = 8, 3


def _run(device, cls, kw, sparse=False, steps=4):
    rng = np.random.default_rng(0)
    p = rg.tensor(rng.standard_normal((N, D))).to(device).requires_grad_()
    opt = cls([p], **kw)
    for _ in range(steps):
        if sparse:
            rows = rng.integers(0, N, 5)
            p.grad = rg.sparse_coo_tensor(
                rg.tensor(rows[None]), rg.tensor(rng.standard_normal((5, D))), (N, D), device=device
            )
        else:
            p.grad = rg.tensor(rng.standard_normal((N, D))).to(device)
        opt.step()
    assert p.device.type == device and all(
        not isinstance(v, rg.Tensor) or v.device.type == device
        for k, v in opt.state[p].items()
        if k not in ("step", "mu_product")
    )  # on the CPU, as PyTorch
    return p.detach().cpu().numpy()


@pytest.mark.parametrize(
    "cls,kw",
    [
        (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
        (optim.Adam, dict(lr=0.1, amsgrad=True, weight_decay=0.1)),
        (optim.AdamW, dict(lr=0.1, maximize=True)),
        (optim.RMSprop, dict(lr=0.01, momentum=0.9, centered=True)),
        (optim.Adagrad, dict(lr=0.1, lr_decay=0.1)),
        (optim.Adadelta, dict()),
        (optim.Adamax, dict(lr=0.1, weight_decay=0.1)),
        (optim.NAdam, dict(lr=0.1, decoupled_weight_decay=True, weight_decay=0.1)),
        (optim.RAdam, dict(lr=0.1, betas=(0.6, 0.8))),
        (optim.Rprop, dict(lr=0.1, maximize=True)),
        (optim.ASGD, dict(lr=0.1, t0=1)),
        (optim.Adafactor, dict(lr=0.1, weight_decay=0.1)),
        (optim.Muon, dict(lr=0.1)),
    ],
)
def test_dense_steps_match_cpu(cls, kw):
    np.testing.assert_allclose(_run("cuda", cls, kw), _run("cpu", cls, kw), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "cls,kw",
    [
        (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
        (optim.Adam, dict(lr=0.1, amsgrad=True, weight_decay=0.1)),
        (optim.Adagrad, dict(lr=0.1, lr_decay=0.1)),
        (optim.Rprop, dict(lr=0.1)),
        (optim.RAdam, dict(lr=0.1, betas=(0.6, 0.8))),
    ],
)
def test_foreach_flat_steps_on_cuda_match_cpu(cls, kw):
    shapes = [(4, 3), (5,), (2, 2)]
    out = {}
    for device, foreach in (("cpu", None), ("cuda", True)):
        rng = np.random.default_rng(0)
        ps = [rg.tensor(rng.standard_normal(s)).to(device).requires_grad_() for s in shapes]
        opt = cls(ps, foreach=foreach, **kw)
        g = np.random.default_rng(1)
        for _ in range(3):
            for p in ps:
                p.grad = rg.tensor(g.standard_normal(tuple(p.shape))).to(device)
            opt.step()
        out[device] = [p.detach().cpu().numpy() for p in ps]
    for a, b in zip(out["cuda"], out["cpu"]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "cls,kw",
    [
        (optim.SGD, dict(lr=0.1)),
        (optim.SGD, dict(lr=0.1, momentum=0.9)),
        (optim.Adagrad, dict(lr=0.1)),
        (optim.SparseAdam, dict(lr=0.1)),
        (optim.AdamW, dict(lr=0.1)),
    ],
)
def test_sparse_steps_match_cpu(cls, kw):
    np.testing.assert_allclose(
        _run("cuda", cls, kw, sparse=True), _run("cpu", cls, kw, sparse=True), rtol=1e-10, atol=1e-12
    )


def test_sparse_tensor_ops_on_cuda():
    s = rg.sparse_coo_tensor([[3, 0, 3]], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], (4, 2), device="cuda")
    assert s.device.type == "cuda"
    c = s.coalesce()
    assert c.indices().cpu().tolist() == [[0, 3]] and c.values().cpu().tolist() == [[3, 4], [6, 8]]
    d = rg.ones(4, 2, device="cuda") + s
    assert d.cpu().tolist() == [[4, 5], [1, 1], [1, 1], [7, 9]]


def test_clip_grad_norm_on_cuda():
    from retrograd.nn.utils import clip_grad_norm_

    p = rg.zeros(3, device="cuda", requires_grad=True)
    p.grad = rg.tensor([3.0, 4.0, 0.0], device="cuda")
    total = clip_grad_norm_(p, 1.0)
    assert total.device.type == "cuda" and abs(total.item() - 5.0) < 1e-5
    np.testing.assert_allclose(p.grad.cpu().numpy(), [0.6, 0.8, 0.0], rtol=1e-5)


def test_checkpoint_of_cuda_tensors(tmp_path):
    w = rg.randn(3, 2, device="cuda")
    rg.save({"w": w.t()}, tmp_path / "c")
    out = rg.load(tmp_path / "c")
    assert out["w"].device.type == "cpu"
    np.testing.assert_array_equal(out["w"].numpy(), w.t().cpu().numpy())
    assert rg.load(tmp_path / "c", map_location="cuda")["w"].device.type == "cuda"


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_on_cuda_matches_cpu(line_search_fn):
    out = {}
    for device in ("cpu", "cuda"):
        x = rg.tensor([-1.2, 1.0, 0.5, -0.3], device=device, requires_grad=True)
        opt = optim.LBFGS([x], history_size=4, max_iter=6, line_search_fn=line_search_fn)

        def closure():
            opt.zero_grad()
            loss = (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()
            loss.backward()
            return loss

        for _ in range(3):
            opt.step(closure)
        assert opt.state[x]["d"].device.type == device
        out[device] = x.detach().cpu().numpy()
    np.testing.assert_allclose(out["cuda"], out["cpu"], rtol=1e-7, atol=1e-9)
