"""Every optimizer, every option: the parameter after each step equals an independent NumPy
reference of the algorithm (float64), over several steps."""

import math

import numpy as np
import pytest

import retrograd as rg
from retrograd import optim

from . import _refs

STEPS = 6


def _data(shape=(5, 3), seed=0):
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(shape)
    grads = [rng.standard_normal(shape) for _ in range(STEPS)]
    return theta, grads


def _trajectory(cls, kwargs, theta, grads):
    p = rg.tensor(theta, requires_grad=True)
    opt = cls([p], **kwargs)
    out = []
    for g in grads:
        gt = rg.tensor(g)
        p.grad = gt
        v = p._version
        opt.step()
        assert p._version == v + 1, "a step bumps the parameter's version once"
        np.testing.assert_array_equal(gt.numpy(), g)  # the gradient is never written to
        out.append(p.detach().numpy().copy())
    return out


def _check(cls, kwargs, ref, ref_kwargs=None):
    theta, grads = _data()
    got = _trajectory(cls, kwargs, theta, grads)
    want = ref(theta, grads, **(kwargs if ref_kwargs is None else ref_kwargs))
    for i, (a, b) in enumerate(zip(got, want)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=f"step {i + 1}")


@pytest.mark.parametrize(
    "kw",
    [
        dict(lr=0.1),
        dict(lr=0.1, momentum=0.9),
        dict(lr=0.1, momentum=0.9, dampening=0.3),
        dict(lr=0.1, momentum=0.9, nesterov=True),
        dict(lr=0.05, weight_decay=0.1),
        dict(lr=0.1, momentum=0.8, weight_decay=0.1, nesterov=True),
        dict(lr=0.1, maximize=True),
        dict(lr=0.1, momentum=0.9, dampening=0.5, weight_decay=0.2, maximize=True),
        dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.2, maximize=True),
    ],
)
def test_sgd(kw):
    _check(optim.SGD, kw, _refs.sgd)


@pytest.mark.parametrize(
    "kw",
    [
        dict(lr=0.1),
        dict(lr=0.1, betas=(0.5, 0.7), eps=1e-3),
        dict(lr=0.1, amsgrad=True),
        dict(lr=0.1, weight_decay=0.1),
        dict(lr=0.1, maximize=True),
        dict(lr=0.1, amsgrad=True, weight_decay=0.3, maximize=True, betas=(0.3, 0.6)),
    ],
)
def test_adam(kw):
    _check(optim.Adam, kw, _refs.adam)


def test_adam_decoupled_weight_decay_is_adamw():
    kw = dict(lr=0.1, weight_decay=0.3, decoupled_weight_decay=True)
    _check(optim.Adam, kw, _refs.adam, dict(lr=0.1, weight_decay=0.3, decoupled=True))


@pytest.mark.parametrize(
    "kw",
    [
        dict(lr=0.1),
        dict(lr=0.1, weight_decay=0.0),
        dict(lr=0.1, weight_decay=0.5, amsgrad=True),
        dict(lr=0.1, weight_decay=0.2, maximize=True, betas=(0.8, 0.9), eps=1e-4),
    ],
)
def test_adamw(kw):
    ref_kw = dict(kw, decoupled=True)
    ref_kw.setdefault("weight_decay", 1e-2)
    _check(optim.AdamW, kw, _refs.adam, ref_kw)


@pytest.mark.parametrize(
    "kw",
    [
        dict(lr=0.01),
        dict(lr=0.01, alpha=0.9, eps=1e-4),
        dict(lr=0.01, momentum=0.9),
        dict(lr=0.01, centered=True),
        dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1),
        dict(lr=0.01, weight_decay=0.1, maximize=True),
    ],
)
def test_rmsprop(kw):
    _check(optim.RMSprop, kw, _refs.rmsprop)


@pytest.mark.parametrize(
    "kw",
    [
        dict(lr=0.1),
        dict(lr=0.1, lr_decay=0.1),
        dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-3),
        dict(lr=0.1, weight_decay=0.2, maximize=True, lr_decay=0.05),
    ],
)
def test_adagrad(kw):
    _check(optim.Adagrad, kw, _refs.adagrad)


@pytest.mark.parametrize(
    "kw",
    [
        dict(),
        dict(lr=0.5, rho=0.8, eps=1e-4),
        dict(lr=1.0, weight_decay=0.1, maximize=True),
    ],
)
def test_adadelta(kw):
    _check(optim.Adadelta, kw, _refs.adadelta)


def test_float32_matches_float64_reference_closely():
    theta, grads = _data()
    p = rg.tensor(theta.astype(np.float32), requires_grad=True)
    opt = optim.Adam([p], lr=0.01)
    for g in grads:
        p.grad = rg.tensor(g.astype(np.float32))
        opt.step()
    assert p.dtype == rg.float32
    np.testing.assert_allclose(p.detach().numpy(), _refs.adam(theta, grads, lr=0.01)[-1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "cls,kw",
    [
        (optim.SGD, dict(lr=0.1, momentum=0.9)),
        (optim.Adam, dict(lr=0.1)),
        (optim.AdamW, dict(lr=0.1)),
        (optim.RMSprop, dict(lr=0.1)),
        (optim.Adagrad, dict(lr=0.1)),
        (optim.Adadelta, dict()),
    ],
)
def test_params_without_grad_are_skipped(cls, kw):
    a = rg.tensor([1.0, 2.0], requires_grad=True)
    b = rg.tensor([3.0, 4.0], requires_grad=True)
    opt = cls([a, b], **kw)
    a.grad = rg.tensor([0.5, -0.5])
    opt.step()
    assert b.tolist() == [3.0, 4.0] and b._version == 0
    assert a.tolist() != [1.0, 2.0]


def test_params_of_several_shapes_share_work_arrays():
    rng = np.random.default_rng(1)
    shapes = [(7, 3), (2,), (4, 5, 2), ()]
    thetas = [rng.standard_normal(s) for s in shapes]
    grads = [[rng.standard_normal(s) for _ in range(3)] for s in shapes]
    ps = [rg.tensor(t, requires_grad=True) for t in thetas]
    opt = optim.Adam(ps, lr=0.1, weight_decay=0.1, amsgrad=True)
    for k in range(3):
        for p, g in zip(ps, grads):
            p.grad = rg.tensor(g[k])
        opt.step()
    for p, t, g in zip(ps, thetas, grads):
        np.testing.assert_allclose(
            p.detach().numpy(), _refs.adam(t, g, lr=0.1, weight_decay=0.1, amsgrad=True)[-1], rtol=1e-12
        )


def test_tensor_lr():
    theta, grads = _data()
    p = rg.tensor(theta, requires_grad=True)
    opt = optim.SGD([p], lr=rg.tensor(0.1))
    p.grad = rg.tensor(grads[0])
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), theta - 0.1 * grads[0])


@pytest.mark.parametrize(
    "kw",
    [
        dict(lr=0.1),
        dict(lr=0.1, betas=(0.3, 0.5), eps=1e-3),
        dict(lr=0.1, weight_decay=0.2, maximize=True),
    ],
)
def test_adamax(kw):
    _check(optim.Adamax, kw, _refs.adamax)


@pytest.mark.parametrize(
    "kw",
    [
        dict(lr=0.1),
        dict(lr=0.1, momentum_decay=0.05, betas=(0.6, 0.8)),
        dict(lr=0.1, weight_decay=0.2, maximize=True),
        dict(lr=0.1, weight_decay=0.2, decoupled_weight_decay=True),
    ],
)
def test_nadam(kw):
    _check(optim.NAdam, kw, _refs.nadam)


@pytest.mark.parametrize(
    "kw",
    [
        dict(lr=0.1),  # rho_t <= 5 for the first steps: the unrectified update
        dict(lr=0.1, betas=(0.6, 0.8)),  # rho_t > 5 from step 3 on
        dict(lr=0.1, betas=(0.6, 0.8), weight_decay=0.2, maximize=True),
        dict(lr=0.1, betas=(0.6, 0.8), weight_decay=0.2, decoupled_weight_decay=True),
    ],
)
def test_radam(kw):
    _check(optim.RAdam, kw, _refs.radam)


@pytest.mark.parametrize(
    "kw",
    [
        dict(lr=0.1),
        dict(lr=0.1, etas=(0.3, 1.7), step_sizes=(0.05, 0.2)),
        dict(lr=0.1, maximize=True),
    ],
)
def test_rprop(kw):
    _check(optim.Rprop, kw, _refs.rprop)


@pytest.mark.parametrize(
    "kw",
    [
        dict(lr=0.1),
        dict(lr=0.1, lambd=0.1, alpha=0.5, t0=2),  # averaging starts after step 3
        dict(lr=0.1, t0=0, weight_decay=0.2, maximize=True),
    ],
)
def test_asgd(kw):
    _check(optim.ASGD, kw, _refs.asgd)
    theta, grads = _data()
    p = rg.tensor(theta, requires_grad=True)
    opt = optim.ASGD([p], **kw)
    for g in grads:
        p.grad = rg.tensor(g)
        opt.step()
    np.testing.assert_allclose(
        opt.state[p]["ax"].numpy(), _refs.asgd(theta, grads, average=True, **kw)[-1], rtol=1e-12, atol=1e-12
    )


def _quartic(x):
    """A smooth non-quadratic test function and its gradient."""
    c = np.arange(1.0, x.size + 1)
    return float((c * x**2).sum() + 0.1 * (x**4).sum()), 2 * c * x + 0.4 * x**3


@pytest.mark.parametrize("kw", [dict(), dict(lr=0.5, history_size=2)])
def test_lbfgs_iterations(kw):
    """Each step runs max_iter iterations of the two-loop recursion (a step of max_iter=1 is
    one iteration); the closure is evaluated once per iteration."""
    x0 = np.linspace(-1.0, 1.5, 5)
    p = rg.tensor(x0, requires_grad=True)
    calls = []

    def closure():
        f, g = _quartic(p.detach().numpy())
        calls.append(1)
        p.grad = rg.tensor(g)
        return rg.tensor(f)

    opt = optim.LBFGS([p], max_iter=1, tolerance_change=0, tolerance_grad=0, **kw)
    got = []
    for _ in range(6):
        opt.step(closure)
        got.append(p.detach().numpy().copy())
    want = _refs.lbfgs(x0, _quartic, iterations=6, **kw)
    for i, (a, b) in enumerate(zip(got, want)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=f"iteration {i + 1}")
    assert len(calls) == 6 and opt.state[p]["func_evals"] == 6 and opt.state[p]["n_iter"] == 6


def test_lbfgs_one_step_runs_max_iter_iterations():
    x0 = np.linspace(-1.0, 1.5, 5)
    p = rg.tensor(x0, requires_grad=True)

    def closure():
        f, g = _quartic(p.detach().numpy())
        p.grad = rg.tensor(g)
        return rg.tensor(f)

    opt = optim.LBFGS([p], max_iter=6, tolerance_change=0, tolerance_grad=0)
    opt.step(closure)
    np.testing.assert_allclose(p.detach().numpy(), _refs.lbfgs(x0, _quartic, iterations=6)[-1], rtol=1e-12, atol=1e-12)
    assert opt.state[p]["func_evals"] == 6  # the last iteration's point is evaluated next step


@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 4), (4,), ()])
@pytest.mark.parametrize(
    "kw",
    [
        dict(),
        dict(lr=0.1, weight_decay=0.1, maximize=True),
        dict(lr=0.05, beta2_decay=-0.5, eps=(1e-20, 1e-2), d=1.5),
    ],
)
def test_adafactor(kw, shape):
    theta, grads = _data(shape)
    got = _trajectory(optim.Adafactor, kw, theta, grads)
    for i, (a, b) in enumerate(zip(got, _refs.adafactor(theta, grads, **kw))):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=f"step {i + 1}")


def test_muon_newton_schulz_orthogonalises():
    from retrograd.optim.muon import zeropower_via_newtonschulz, _bf16

    rng = np.random.default_rng(3)
    for shape in [(8, 5), (5, 8), (6, 6)]:
        g = rng.standard_normal(shape)
        x = zeropower_via_newtonschulz(g, (3.4445, -4.7750, 2.0315), 5, 1e-7)
        assert x.shape == shape and x.dtype == np.float32
        np.testing.assert_array_equal(_bf16(np, x), x)  # bfloat16 values
        s = np.linalg.svd(x, compute_uv=False)
        assert s.min() > 0.6 and s.max() < 1.25  # the quintic iteration's band around 1
        u, _, vt = np.linalg.svd(g, full_matrices=False)
        assert np.abs(x - u @ vt).max() < 0.35
    # round to nearest, ties to even, on the upper 16 bits of float32
    vals = np.array([1 + 2**-8, 1 + 3 * 2**-8, 1 + 2**-9, -(2.0**100), np.inf], np.float32)
    np.testing.assert_array_equal(_bf16(np, vals), [1.0, 1 + 2**-6, 1.0, -(2.0**100), np.inf])
    assert np.isnan(_bf16(np, np.array([np.nan], np.float32)))[0]


@pytest.mark.parametrize(
    "kw",
    [
        dict(lr=0.01),
        dict(lr=0.02, nesterov=False, momentum=0.3, adjust_lr_fn="match_rms_adamw", weight_decay=0.01),
        dict(lr=0.02, momentum=0.7, adjust_lr_fn="original", weight_decay=0.0),
    ],
)
def test_muon(kw):
    """Momentum, Nesterov, decoupled weight decay and the shape-adjusted rate around the
    Newton-Schulz step (the same function on both sides)."""
    from retrograd.optim.muon import zeropower_via_newtonschulz

    theta, grads = _data((5, 3))
    got = _trajectory(optim.Muon, kw, theta, grads)
    mu, lr, wd = kw.get("momentum", 0.95), kw["lr"], kw.get("weight_decay", 0.1)
    scale = 0.2 * math.sqrt(5) if kw.get("adjust_lr_fn") == "match_rms_adamw" else math.sqrt(5 / 3)
    x, b = theta.copy(), np.zeros_like(theta)
    for i, g in enumerate(grads):
        b = mu * b + (1 - mu) * g
        u = g + mu * (b - g) if kw.get("nesterov", True) else b
        u = zeropower_via_newtonschulz(u, (3.4445, -4.7750, 2.0315), 5, 1e-7)
        x = x * (1 - lr * wd) - lr * scale * u
        # the momentum rounds alike up to float64 noise, which bfloat16 hides but for a
        # rare tie: allow one bfloat16 step of the update
        np.testing.assert_allclose(got[i], x, rtol=0, atol=lr * scale * 2**-7, err_msg=f"step {i + 1}")


def test_rprop_nan_gradient_moves_nothing_as_pytorch():
    """PyTorch's sign of NaN is 0: a NaN gradient leaves its element and step size alone, and a
    NaN previous gradient counts as no sign change."""
    p = rg.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Rprop([p], lr=0.1)
    p.grad = rg.tensor([float("nan"), 1.0])
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [1.0, 1.9])
    p.grad = rg.tensor([1.0, 1.0])
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.9, 1.9 - 0.12])
    np.testing.assert_allclose(opt.state[p]["step_size"].numpy(), [0.1, 0.12])
