"""autograd.functional: vjp, jvp, jacobian, hessian, hvp, vhp (values against closed forms)."""

import numpy as np
import pytest

import retrograd as torch
from retrograd.autograd import functional as F

X = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
W = np.array([1.0, -2.0, 0.5])


def _t(a, rg=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=rg)


def f(x, w):
    """f(x, w)_i = sum_j sin(x_ij w_j)."""
    return (x * w).sin().sum(1)


def _jac_f():
    c = np.cos(X * W)
    jx = np.zeros((2, 2, 3))
    for i in range(2):
        jx[i, i] = c[i] * W
    jw = c * X
    return jx, jw


def test_vjp():
    v = np.array([1.0, 2.0])
    out, (gx, gw) = F.vjp(f, (_t(X), _t(W)), _t(v))
    jx, jw = _jac_f()
    np.testing.assert_allclose(out.numpy(), np.sin(X * W).sum(1))
    np.testing.assert_allclose(gx.numpy(), np.einsum("i,ijk->jk", v, jx))
    np.testing.assert_allclose(gw.numpy(), v @ jw)
    assert not out.requires_grad and not gx.requires_grad


def test_jvp_by_double_backward():
    vx, vw = np.ones((2, 3)), np.array([0.5, 1.0, -1.0])
    out, jv = F.jvp(f, (_t(X), _t(W)), (_t(vx), _t(vw)))
    jx, jw = _jac_f()
    np.testing.assert_allclose(jv.numpy(), np.einsum("ijk,jk->i", jx, vx) + jw @ vw)
    np.testing.assert_allclose(out.numpy(), np.sin(X * W).sum(1))


def test_single_element_default_v():
    out, g = F.vjp(lambda t: (t * t).sum(), _t(W))
    np.testing.assert_allclose(g.numpy(), 2 * W)
    out, j = F.jvp(lambda t: t.exp() * 3, _t([0.5]))
    np.testing.assert_allclose(j.numpy(), 3 * np.exp([0.5]))


def test_jacobian_shapes_and_values():
    jx, jw = F.jacobian(f, (_t(X), _t(W)))
    ref_x, ref_w = _jac_f()
    assert jx.shape == (2, 2, 3) and jw.shape == (2, 3)
    np.testing.assert_allclose(jx.numpy(), ref_x)
    np.testing.assert_allclose(jw.numpy(), ref_w)
    j = F.jacobian(lambda t: t.exp(), _t(W))
    np.testing.assert_allclose(j.numpy(), np.diag(np.exp(W)))
    ((j_a, j_b),) = [F.jacobian(lambda a, b: (a * b,), (_t(W), _t(W * 2)))[0]]
    np.testing.assert_allclose(j_a.numpy(), np.diag(W * 2))
    np.testing.assert_allclose(j_b.numpy(), np.diag(W))


def test_jacobian_vectorize_and_forward_strategy_agree():
    g = lambda t: t.exp() * t.sum()  # noqa: E731
    ref = F.jacobian(g, _t(W))
    for kwargs in ({"vectorize": True}, {"vectorize": True, "strategy": "forward-mode"}):
        np.testing.assert_allclose(F.jacobian(g, _t(W), **kwargs).numpy(), ref.numpy())
    with pytest.raises(NotImplementedError, match="only implemented for `vectorize=True`"):
        F.jacobian(g, _t(W), strategy="forward-mode")
    with pytest.raises(ValueError, match='"forward-mode" or "reverse-mode"'):
        F.jacobian(g, _t(W), strategy="sideways")


def test_hessian_hvp_vhp():
    g = lambda t: (t**3).sum() + t[0] * t[1]  # noqa: E731
    h_ref = np.diag(6 * W)
    h_ref[0, 1] = h_ref[1, 0] = 1.0
    np.testing.assert_allclose(F.hessian(g, _t(W)).numpy(), h_ref)
    v = np.array([1.0, 2.0, 3.0])
    out, hv = F.hvp(g, _t(W), _t(v))
    np.testing.assert_allclose(hv.numpy(), h_ref @ v)
    np.testing.assert_allclose(out.item(), (W**3).sum() + W[0] * W[1])
    _, vh = F.vhp(g, _t(W), _t(v))
    np.testing.assert_allclose(vh.numpy(), v @ h_ref)


def test_hessian_of_several_inputs():
    g = lambda x, w: (x.sum(0) * w * w).sum()  # noqa: E731
    (hxx, hxw), (hwx, hww) = F.hessian(g, (_t(X), _t(W)))
    assert hxx.shape == (2, 3, 2, 3) and hxw.shape == (2, 3, 3) and hwx.shape == (3, 2, 3)
    assert not hxx.numpy().any()
    np.testing.assert_allclose(hww.numpy(), np.diag(2 * X.sum(0)))
    ref = np.zeros((2, 3, 3))
    for i in range(2):
        ref[i] = np.diag(2 * W)
    np.testing.assert_allclose(hxw.numpy(), ref)


def test_create_graph_keeps_results_differentiable():
    x = _t(W, rg=True)
    out, g = F.vjp(lambda t: (t * t).sum(), x, create_graph=True)
    assert g.requires_grad and out.requires_grad
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 2.0])
    x.grad = None
    h = F.hessian(lambda t: (t**3).sum(), x, create_graph=True)
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0, 6.0])
    _, g = F.vjp(lambda t: (t * t).sum(), x)
    assert not g.requires_grad  # detached without create_graph


def test_independent_inputs_give_zeros_or_strict_errors():
    fn = lambda x, w: x.sum()  # noqa: E731
    _, (gx, gw) = F.vjp(fn, (_t(X), _t(W)))
    assert not gw.numpy().any() and gw.shape == (3,)
    assert not F.jacobian(fn, (_t(X), _t(W)))[1].numpy().any()
    with pytest.raises(RuntimeError, match="independent of input 1. This is not allowed in strict"):
        F.vjp(fn, (_t(X), _t(W)), strict=True)
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function is independent of input 1"):
        F.jacobian(fn, (_t(X), _t(W)), strict=True)
    with pytest.raises(
        RuntimeError, match="jacobian of the user-provided function with respect to input 0 is independent of the input"
    ):
        F.hessian(lambda t: t.sum() * 2, _t(W), strict=True)
    with pytest.raises(RuntimeError, match="does not require gradients"):
        F.vjp(lambda t: torch.ones(1, dtype=torch.float64), _t(W), strict=True)


def test_argument_errors():
    with pytest.raises(
        RuntimeError,
        match="v can only be None if the user-provided function returns a single Tensor with a single element",
    ):
        F.vjp(f, (_t(X), _t(W)))
    with pytest.raises(RuntimeError, match=r"v has invalid size: should be \[2\] but got \[3\]"):
        F.vjp(f, (_t(X), _t(W)), _t(W))
    with pytest.raises(RuntimeError, match="v is a tuple of invalid length: should be 2 but got 1"):
        F.jvp(f, (_t(X), _t(W)), (_t(X),))
    with pytest.raises(TypeError, match="must be either a Tensor or a tuple of Tensors"):
        F.vjp(f, (X, W))
    with pytest.raises(RuntimeError, match="should return a single Tensor"):
        F.hessian(lambda t: (t.sum(), t.sum()), _t(W))
    with pytest.raises(RuntimeError, match="should contain a single element"):
        F.hvp(lambda t: t * 2, _t(W), _t(W))


def test_forward_mode_jacobian_runs_forward_mode_once_per_input_element():
    calls = []

    def g(a, b):
        calls.append(1)
        return a.exp() * b.sum(), (a * b).sin()

    a, b = _t(W), _t(W * 2)
    forward = F.jacobian(g, (a, b), vectorize=True, strategy="forward-mode")
    assert len(calls) == a.numel() + b.numel()
    calls.clear()
    reverse = F.jacobian(g, (a, b))
    assert len(calls) == 1
    for fo, re in zip(forward, reverse):
        for u, v in zip(fo, re):
            np.testing.assert_allclose(u.numpy(), v.numpy(), rtol=1e-12, atol=1e-14)


def test_forward_over_reverse_hessian():
    g = lambda t: (t**3).sum() + t[0] * t[1] + t.sin().prod()  # noqa: E731
    h = F.hessian(g, _t(W), vectorize=True, outer_jacobian_strategy="forward-mode")
    np.testing.assert_allclose(h.numpy(), F.hessian(g, _t(W)).numpy(), rtol=1e-12, atol=1e-14)
