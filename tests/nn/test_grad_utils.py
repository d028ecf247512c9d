"""nn.utils: gradient clipping, parameters <-> vector, gradient accumulation."""

import math

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn, optim
from retrograd.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    get_total_norm,
    parameters_to_vector,
    vector_to_parameters,
)

SHAPES = [(3, 4), (5,), (2, 2, 2)]


def _params_with_grads(seed=0, scale=1.0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    grads = [(rng.standard_normal(s) * scale).astype(dtype) for s in SHAPES]
    ps = [rg.zeros(s, dtype=rg.float64 if dtype == np.float64 else rg.float32, requires_grad=True) for s in SHAPES]
    for p, g in zip(ps, grads):
        p.grad = rg.tensor(g)
    return ps, grads


def _ref_norm(grads, p):
    flat = np.concatenate([g.ravel() for g in grads])
    if p == math.inf:
        return np.abs(flat).max()
    return (np.abs(flat) ** p).sum() ** (1 / p)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm(p, max_norm):
    ps, grads = _params_with_grads()
    pf = float(p)
    total = clip_grad_norm_(ps, max_norm, norm_type=p)
    want = _ref_norm(grads, pf)
    assert isinstance(total, rg.Tensor) and total.dim() == 0 and total.dtype == rg.float64
    assert total.item() == pytest.approx(want, rel=1e-12)
    coef = min(1.0, max_norm / (want + 1e-6))
    for q, g in zip(ps, grads):
        np.testing.assert_allclose(q.grad.numpy(), g * coef, rtol=1e-12)
    if max_norm < want:
        assert _ref_norm([q.grad.numpy() for q in ps], pf) == pytest.approx(max_norm, rel=1e-5)


def test_clip_grad_norm_float32_returns_float32_and_bumps_versions():
    ps, _ = _params_with_grads(dtype=np.float32)
    v = ps[0].grad._version
    total = clip_grad_norm_(ps, 0.1)
    assert total.dtype == rg.float32 and ps[0].grad.dtype == rg.float32
    assert ps[0].grad._version == v + 1


def test_clip_grad_norm_single_tensor_skips_missing_grads_and_empty():
    p = rg.zeros(3, requires_grad=True)
    q = rg.zeros(2, requires_grad=True)
    p.grad = rg.tensor([3.0, 4.0, 0.0])
    total = clip_grad_norm_([p, q], 1.0)
    assert total.item() == pytest.approx(5.0) and q.grad is None
    np.testing.assert_allclose(p.grad.numpy(), np.array([3.0, 4.0, 0.0]) / (5 + 1e-6), rtol=1e-6)
    assert clip_grad_norm_(q, 1.0).item() == 0.0
    assert clip_grad_norm_(p, 10.0).item() == pytest.approx(1.0, rel=1e-5)


def test_clip_grad_norm_nonfinite():
    p = rg.zeros(3, requires_grad=True)
    p.grad = rg.tensor([1.0, float("nan"), 0.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    p.grad = rg.tensor([1.0, float("inf"), 0.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    assert math.isinf(clip_grad_norm_(p, 1.0).item())  # without the flag it clips anyway


def test_clip_grad_norm_with_sparse_grad():
    w = rg.zeros(6, 2, dtype=rg.float64, requires_grad=True)
    d = rg.zeros(3, dtype=rg.float64, requires_grad=True)
    # row 1 twice: the norm is that of the summed (dense) gradient
    w.grad = rg.sparse_coo_tensor([[1, 4, 1]], np.array([[1.0, 2.0], [3.0, 0.0], [1.0, 0.0]]), (6, 2))
    d.grad = rg.tensor([0.0, 4.0, 0.0], dtype=rg.float64)
    dense = w.grad.to_dense().numpy()
    want = math.sqrt((dense**2).sum() + 16.0)
    total = clip_grad_norm_([w, d], 1.0)
    assert total.item() == pytest.approx(want, rel=1e-12)
    assert w.grad.is_sparse
    np.testing.assert_allclose(w.grad.to_dense().numpy(), dense / (want + 1e-6), rtol=1e-12)
    assert get_total_norm([w.grad, d.grad]).item() == pytest.approx(1.0, rel=1e-5)


def test_clip_grad_value():
    ps, grads = _params_with_grads(scale=3.0)
    assert clip_grad_value_(ps, 1.5) is None
    for q, g in zip(ps, grads):
        np.testing.assert_array_equal(q.grad.numpy(), np.clip(g, -1.5, 1.5))
    w = rg.zeros(4, dtype=rg.float64, requires_grad=True)
    w.grad = rg.sparse_coo_tensor([[2, 2, 0]], np.array([1.0, 1.0, -0.5]), (4,))
    clip_grad_value_(w, 1.5)
    np.testing.assert_array_equal(w.grad.to_dense().numpy(), [-0.5, 0, 1.5, 0])


def test_parameters_to_vector_and_back():
    ps = [rg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True), rg.tensor([7.0, 8.0], requires_grad=True)]
    v = parameters_to_vector(ps)
    assert v.tolist() == [0, 1, 2, 3, 4, 5, 7, 8] and v.requires_grad
    (v * rg.arange(8.0)).sum().backward()  # differentiable
    np.testing.assert_array_equal(ps[0].grad.numpy(), np.arange(6.0).reshape(2, 3))
    vector_to_parameters(rg.arange(10.0, 18.0), ps)
    assert ps[0].tolist() == [[10, 11, 12], [13, 14, 15]] and ps[1].tolist() == [16, 17]
    assert ps[0].requires_grad and ps[0].shape == (2, 3)
    with pytest.raises(TypeError, match="expected torch.Tensor"):
        vector_to_parameters([1.0] * 8, ps)
    with pytest.raises(RuntimeError, match="8 elements"):
        vector_to_parameters(rg.zeros(7), ps)


def test_gradient_accumulation_over_micro_batches_equals_one_large_batch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 5))
    y = rng.standard_normal((8, 2))

    def model_and_opt():
        rg.manual_seed(3)
        m = nn.Sequential(nn.Linear(5, 4, dtype=rg.float64), nn.Linear(4, 2, dtype=rg.float64))
        return m, optim.SGD(m.parameters(), lr=0.1, momentum=0.9)

    def loss_fn(m, xb, yb):
        return ((m(rg.tensor(xb)) - rg.tensor(yb)) ** 2).mean()

    big, opt_big = model_and_opt()
    small, opt_small = model_and_opt()
    for _ in range(3):
        opt_big.zero_grad()
        loss_fn(big, x, y).backward()
        opt_big.step()

        opt_small.zero_grad()
        for i in range(0, 8, 2):  # four micro-batches of 2, each loss scaled by 1/4
            (loss_fn(small, x[i : i + 2], y[i : i + 2]) / 4).backward()
        for pb, ps in zip(big.parameters(), small.parameters()):
            np.testing.assert_allclose(ps.grad.numpy(), pb.grad.numpy(), rtol=1e-12, atol=1e-14)
        opt_small.step()
    for pb, ps in zip(big.parameters(), small.parameters()):
        np.testing.assert_allclose(ps.detach().numpy(), pb.detach().numpy(), rtol=1e-12, atol=1e-14)
