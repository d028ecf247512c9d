"""retrograd.func: transforms against hand-computed derivatives and against each other."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import func
from retrograd.func import (
    functional_call,
    grad,
    grad_and_value,
    hessian,
    jacfwd,
    jacrev,
    jvp,
    linearize,
    stack_module_state,
    vjp,
)


def _t(values):
    return rg.tensor(values, dtype=rg.float64)


X = [0.3, -1.2, 2.0]


def f(x):  # sum(sin(x) exp(x)); gradient (cos + sin) exp; Hessian diagonal 2 cos exp
    return (x.sin() * x.exp()).sum()


def _grad_f(x):
    x = np.asarray(x)
    return (np.cos(x) + np.sin(x)) * np.exp(x)


def _hess_f(x):
    x = np.asarray(x)
    return np.diag(2 * np.cos(x) * np.exp(x))


def _close(a, b):
    np.testing.assert_allclose(
        np.asarray(a.detach().numpy() if isinstance(a, rg.Tensor) else a), b, rtol=1e-10, atol=1e-12
    )


# ----------------------------------------------------------------------------- grad
def test_grad_matches_the_hand_computed_gradient_and_is_outside_any_graph():
    g = grad(f)(_t(X))
    _close(g, _grad_f(X))
    assert g.grad_fn is None and not g.requires_grad


def test_grad_argnums_pytrees_and_aux():
    x, y = _t(X), _t([1.0, 2.0, 3.0])
    gx, gy = grad(lambda a, b: (a * b).sum(), argnums=(0, 1))(x, y)
    _close(gx, y.numpy())
    _close(gy, x.numpy())
    tree = {"a": x, "b": [y, (x,)]}
    g = grad(lambda d: (d["a"] * d["b"][0] + d["b"][1][0] ** 2).sum())(tree)
    assert set(g) == {"a", "b"} and isinstance(g["b"], list) and isinstance(g["b"][1], tuple)
    _close(g["a"], y.numpy())
    _close(g["b"][0], x.numpy())
    _close(g["b"][1][0], 2 * x.numpy())
    g, aux = grad(lambda a: ((a * a).sum(), {"m": a.max()}), has_aux=True)(x)
    _close(g, 2 * x.numpy())
    assert aux["m"].item() == 2.0
    (gv, (value, aux)) = grad_and_value(lambda a: ((a * a).sum(), a.min()), has_aux=True)(x)
    _close(value, (x.numpy() ** 2).sum())
    assert aux.item() == -1.2
    g, value = grad_and_value(f)(x)
    _close(value, float(f(x)))
    _close(g, _grad_f(X))


def test_grad_of_an_unused_argument_is_zeros():
    g = grad(lambda a, b: (a * 2).sum(), argnums=1)(_t(X), _t([1.0]))
    _close(g, [0.0])


@pytest.mark.parametrize(
    "fn, args, match",
    [
        (lambda a: a * 2, (_t(X),), "scalar Tensor, got tensor with 1 dims"),
        (lambda a: 3.0, (_t(X),), "to return a Tensor"),
    ],
)
def test_grad_output_errors(fn, args, match):
    with pytest.raises(RuntimeError, match=match):
        grad(fn)(*args)


@pytest.mark.parametrize(
    "argnums, match",
    [
        ((), "non-empty"),
        ((0, 0), "unique"),
        (5, "only 1 positional"),
        ("0", "int or Tuple"),
    ],
)
def test_argnums_errors(argnums, match):
    with pytest.raises(RuntimeError, match=match):
        grad(f, argnums=argnums)(_t(X))


def test_grad_composes_with_autograd_through_a_closed_over_tensor():
    w = _t([2.0]).requires_grad_()
    g = grad(lambda x: (w * x * x).sum())(_t([3.0]))  # 2 w x
    assert g.requires_grad
    (gw,) = rg.autograd.grad(g.sum(), w)
    _close(gw, [6.0])


# ----------------------------------------------------------------------------- vjp, jvp, linearize
def test_vjp_with_pytree_outputs():
    x = _t(X)
    out, vjp_fn = vjp(lambda a: {"s": a.sin(), "p": [a * 2]}, x)
    _close(out["s"], np.sin(X))
    (g,) = vjp_fn({"s": rg.ones_like(x), "p": [rg.ones_like(x)]})
    _close(g, np.cos(X) + 2)
    (g2,) = vjp_fn({"s": rg.zeros_like(x), "p": [rg.ones_like(x)]})  # callable again
    _close(g2, [2.0, 2.0, 2.0])
    with pytest.raises(RuntimeError, match="pytree structure of cotangents"):
        vjp_fn([rg.ones_like(x)])
    out, fn, aux = vjp(lambda a: (a.exp(), a.sum()), x, has_aux=True)
    assert aux.item() == pytest.approx(sum(X))


def test_jvp_matches_hand_computed_and_checks_its_arguments():
    x, t = _t(X), _t([1.0, 0.0, -1.0])
    out, jt = jvp(f, (x,), (t,))
    _close(out, float(f(x)))
    _close(jt, float(_grad_f(X) @ t.numpy()))
    (o1, o2), (t1, t2) = jvp(lambda a, b: (a * b, a.exp()), (x, x.cos()), (t, rg.zeros_like(x)))
    _close(t1, t.numpy() * np.cos(X))
    _close(t2, np.exp(X) * t.numpy())
    with pytest.raises(RuntimeError, match="Expected primals to be a tuple"):
        jvp(f, x, (t,))
    with pytest.raises(RuntimeError, match="same python structure"):
        jvp(f, (x,), [t])
    _, jt = jvp(lambda a: rg.ones(2, dtype=rg.float64), (x,), (t,))
    _close(jt, [0.0, 0.0])
    with pytest.raises(RuntimeError, match="independent of the inputs"):
        jvp(lambda a: rg.ones(2, dtype=rg.float64), (x,), (t,), strict=True)
    with pytest.raises(RuntimeError, match="do not nest"):
        jvp(lambda a: jvp(f, (a,), (t,))[1], (x,), (t,))
    out, jt, aux = jvp(lambda a: (a.sin(), "aux"), (x,), (t,), has_aux=True)
    assert aux == "aux"


def test_linearize():
    x = _t(X)
    out, jvp_fn = linearize(rg.sin, x)
    _close(out, np.sin(X))
    _close(jvp_fn(_t([1.0, 2.0, 3.0])), np.cos(X) * [1.0, 2.0, 3.0])


# ----------------------------------------------------------------------------- Jacobians
def _g(x, y):  # two outputs: x * y[0] and sin(x).sum()
    return x * y[0], x.sin().sum()


def test_jacrev_and_jacfwd_match_the_hand_computed_jacobian():
    x, y = _t(X), _t([2.0, 5.0])
    expected_xx = np.eye(3) * 2.0
    expected_xy = np.stack([np.array(X), np.zeros(3)], 1)
    for jac in (jacrev, jacfwd):
        (jxx, jxy), (jsx, jsy) = jac(_g, argnums=(0, 1))(x, y)
        _close(jxx, expected_xx)
        _close(jxy, expected_xy)
        _close(jsx, np.cos(X))
        _close(jsy, [0.0, 0.0])
        assert jsx.shape == (3,) and jsy.shape == (2,)
        j = jac(lambda a: a.reshape(3, 1) * a)(x)
        assert j.shape == (3, 3, 3)
        j, aux = jac(lambda a: (a.exp(), a.sum()), has_aux=True)(x)
        _close(j, np.diag(np.exp(X)))
        assert aux.item() == pytest.approx(sum(X))


def test_jacfwd_costs_one_forward_pass_per_input_element():
    calls = []

    def counted(a, b):
        calls.append(1)
        return (a[:, None] * b).sin()

    a, b = _t([[1.0, 2.0], [3.0, 4.0]]).reshape(4), _t([0.5, 0.25])
    j = jacfwd(counted, argnums=(0, 1))(a, b)
    assert len(calls) == a.numel() + b.numel()
    calls.clear()
    jr = jacrev(counted, argnums=(0, 1))(a, b)
    assert len(calls) == 1
    for u, v in zip(j, jr):
        _close(u, v.numpy())


def test_jacfwd_randomness():
    x = _t(X)
    with pytest.raises(RuntimeError, match="randomness"):
        jacfwd(lambda a: a * rg.rand(3, dtype=rg.float64))(x)
    j = jacfwd(lambda a: a * rg.rand(3, dtype=rg.float64), randomness="same")(x)
    assert np.count_nonzero(j.numpy() - np.diag(np.diag(j.numpy()))) == 0
    with pytest.raises(RuntimeError, match="Only allowed values"):
        jacfwd(f, randomness="other")
    with pytest.raises(ValueError, match="chunk_size"):
        jacrev(f, chunk_size=0)


def test_hessian_and_compositions_agree_with_the_hand_computed_hessian():
    x = _t(X)
    for h in (hessian(f), jacfwd(jacrev(f)), jacrev(jacrev(f)), jacrev(jacfwd(f)), jacfwd(grad(f)), jacrev(grad(f))):
        r = h(x)
        _close(r, _hess_f(X))
        assert r.grad_fn is None
    _close(grad(lambda a: grad(f)(a).sum())(x), np.diag(_hess_f(X)))
    _close(jvp(grad(f), (x,), (_t([1.0, 1.0, 1.0]),))[1], np.diag(_hess_f(X)))


def test_hessian_argnums_tuple():
    x, y = _t([1.0, 2.0]), _t([3.0])
    h = hessian(lambda a, b: (a * a * b).sum(), argnums=(0, 1))(x, y)
    _close(h[0][0], np.eye(2) * 6.0)
    _close(h[0][1], [[2.0], [4.0]])
    _close(h[1][1], [[0.0]])


def test_forward_and_reverse_jacobians_agree_on_a_network():
    rg.manual_seed(0)
    net = rg.nn.Sequential(rg.nn.Linear(3, 4), rg.nn.Tanh(), rg.nn.Linear(4, 2)).double()
    x = rg.randn(5, 3, dtype=rg.float64)
    _close(jacfwd(net)(x), jacrev(net)(x).detach().numpy())
    p = {k: v.detach() for k, v in net.named_parameters()}
    jf = jacfwd(lambda p: functional_call(net, p, (x,)))(p)
    jr = jacrev(lambda p: functional_call(net, p, (x,)))(p)
    for k in p:
        _close(jf[k], jr[k].detach().numpy())


# ----------------------------------------------------------------------------- modules
def test_functional_call_replaces_and_restores():
    lin = rg.nn.Linear(2, 1).double()
    w0 = lin.weight
    out = functional_call(lin, {"weight": _t([[1.0, 2.0]]), "bias": _t([0.5])}, _t([3.0, 4.0]))
    _close(out, [11.5])
    assert lin.weight is w0
    out = functional_call(lin, ({"weight": _t([[1.0, 0.0]])}, {"bias": _t([0.0])}), (_t([3.0, 4.0]),))
    _close(out, [3.0])
    with pytest.raises(ValueError, match="appeared in multiple dictionaries"):
        functional_call(lin, ({"bias": _t([0.0])}, {"bias": _t([0.0])}), (_t([3.0, 4.0]),))
    with pytest.raises(RuntimeError, match="Missing key.*'bias'"):
        functional_call(lin, {"weight": _t([[1.0, 0.0]])}, (_t([3.0, 4.0]),), strict=True)
    with pytest.raises(RuntimeError, match="Unexpected key.*'other'"):
        functional_call(
            lin, {"weight": _t([[1.0, 0.0]]), "bias": _t([0.0]), "other": _t([1.0])}, (_t([3.0, 4.0]),), strict=True
        )
    with pytest.raises(ValueError, match="dict, or a list/tuple of dicts"):
        functional_call(lin, 3, (_t([3.0, 4.0]),))
    assert lin.weight is w0 and "other" not in lin.__dict__


class _Tied(rg.nn.Module):
    def __init__(self):
        super().__init__()
        self.foo = rg.nn.Parameter(_t(1.0))
        self.bar = self.foo

    def forward(self, x):
        return x + self.foo + self.bar


def test_functional_call_tied_weights():
    m = _Tied()
    assert functional_call(m, {"foo": _t(0.0)}, _t(0.0)).item() == 0.0
    assert functional_call(m, {"foo": _t(0.0)}, _t(0.0), tie_weights=False).item() == 1.0
    with pytest.raises(ValueError, match="which are tied"):
        functional_call(m, {"foo": _t(0.0), "bar": _t(2.0)}, _t(0.0))
    assert m.foo is m.bar


def test_stack_module_state():
    rg.manual_seed(0)
    models = [rg.nn.Linear(3, 2) for _ in range(4)]
    params, buffers = stack_module_state(models)
    assert params["weight"].shape == (4, 2, 3) and params["weight"].is_leaf and params["weight"].requires_grad
    _close(params["bias"][2], models[2].bias.detach().numpy())
    assert buffers == {}
    with pytest.raises(RuntimeError, match="at least one model"):
        stack_module_state([])
    models[1].eval()
    with pytest.raises(RuntimeError, match="training/eval mode"):
        stack_module_state(models)


def test_namespace():
    assert rg.func is func
    assert rg.vmap is func.vmap
