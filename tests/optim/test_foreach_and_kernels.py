"""foreach=True (flat buffers) equals the per-tensor step exactly; the kernels as plain functions
over arrays; flags that cannot be honoured are refused."""

import copy

import numpy as np
import pytest

import retrograd as rg
from retrograd import optim
from retrograd.optim import _foreach
from retrograd.optim.adagrad import adagrad
from retrograd.optim.adam import adam
from retrograd.optim.sgd import sgd

from . import _refs

# small ones are flattened (two dtypes: two buckets), the large one runs per tensor
SHAPES = [
    ((3, 4), np.float64),
    ((5,), np.float64),
    ((), np.float64),
    ((2, 3, 2), np.float64),
    ((7,), np.float32),
    ((4, 2), np.float32),
    ((_foreach.FLAT_MAX + 1,), np.float64),
]
STEPS = 5

CONFIGS = [
    (optim.SGD, dict(lr=0.1)),
    (optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.2, weight_decay=0.1, maximize=True)),
    (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
    (optim.Adam, dict(lr=0.1, amsgrad=True, weight_decay=0.1, maximize=True)),
    (optim.Adam, dict(lr=0.1, weight_decay=0.2, decoupled_weight_decay=True)),
    (optim.AdamW, dict(lr=0.1, betas=(0.5, 0.8))),
    (optim.RMSprop, dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1, maximize=True)),
    (optim.RMSprop, dict(lr=0.01)),
    (optim.Adagrad, dict(lr=0.1, lr_decay=0.1, weight_decay=0.2, initial_accumulator_value=0.3)),
    (optim.Adadelta, dict(lr=0.5, rho=0.8, weight_decay=0.1, maximize=True)),
    (optim.Adamax, dict(lr=0.1, betas=(0.5, 0.8), weight_decay=0.1, maximize=True)),
    (optim.NAdam, dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True)),
    (optim.RAdam, dict(lr=0.1, betas=(0.6, 0.8), weight_decay=0.1, maximize=True)),
    (optim.Rprop, dict(lr=0.1, etas=(0.3, 1.5), maximize=True)),
    (optim.ASGD, dict(lr=0.1, t0=2, weight_decay=0.1)),
    (optim.Adafactor, dict(lr=0.1, weight_decay=0.1, maximize=True)),
]


def _params(seed=0):
    rng = np.random.default_rng(seed)
    return [rg.tensor(rng.standard_normal(s).astype(dt), requires_grad=True) for s, dt in SHAPES]


def _grads(ps, step, seed=1):
    """Gradients for step ``step``; the second parameter has none at step 0 (its step count
    then lags the others') and the third none at step 2."""
    rng = np.random.default_rng((seed, step))
    for i, p in enumerate(ps):
        g = rng.standard_normal(p.shape).astype(p.detach().numpy().dtype)
        p.grad = None if (i, step) in ((1, 0), (2, 2)) else rg.tensor(g)


def _train(cls, kw, foreach, steps=STEPS, ps=None, opt=None, start=0):
    ps = _params() if ps is None else ps
    opt = cls([{"params": ps[:5]}, {"params": ps[5:], "lr": 0.05}], foreach=foreach, **kw) if opt is None else opt
    for s in range(start, start + steps):
        _grads(ps, s)
        versions = [p._version for p in ps]
        opt.step()
        for p, v in zip(ps, versions):
            assert p._version == v + (p.grad is not None)
    return ps, opt


@pytest.mark.parametrize("cls,kw", CONFIGS)
def test_foreach_equals_per_tensor_exactly(cls, kw):
    a, oa = _train(cls, kw, None)
    b, ob = _train(cls, kw, True)
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    sa, sb = oa.state_dict()["state"], ob.state_dict()["state"]
    assert sorted(sa) == sorted(sb)
    for k in sa:
        assert sorted(sa[k]) == sorted(sb[k])
        for name in sa[k]:
            np.testing.assert_array_equal(sa[k][name].numpy(), sb[k][name].numpy())


@pytest.mark.parametrize("cls,kw", CONFIGS)
def test_foreach_state_dicts_load_both_ways(cls, kw):
    """A flat state continues per tensor and the other way round; a loaded state (fresh tensors)
    is laid out flat again."""
    ref, _ = _train(cls, kw, None, steps=2 * STEPS)
    for first, second in ((True, None), (None, True), (True, True)):
        ps, opt = _train(cls, kw, first)
        ps2 = [rg.tensor(p.detach().numpy().copy(), requires_grad=True) for p in ps]
        opt2 = cls([{"params": ps2[:5]}, {"params": ps2[5:]}], foreach=second, **kw)
        sd = copy.deepcopy(opt.state_dict())
        for g in sd["param_groups"]:
            g["foreach"] = second
        opt2.load_state_dict(sd)
        _train(cls, kw, second, ps=ps2, opt=opt2, start=STEPS)
        for p, q in zip(ref, ps2):
            # NAdam's mu_product is float32 until a load casts it to the parameter's dtype (as
            # PyTorch does): the continuation then rounds differently
            tol = 1e-7 if cls is optim.NAdam else 0
            np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=tol, atol=tol)


def test_foreach_state_tensors_stay_live():
    """State tensors taken before a flat step are the ones the step updates (as PyTorch's
    state_dict returns the optimizer's own tensors)."""
    ps = _params()
    opt = optim.Adagrad(ps, lr=0.1, foreach=True)  # state made in the constructor
    sums = [opt.state[p]["sum"] for p in ps]
    _grads(ps, 1)
    opt.step()
    assert sums[0]._data.base is not None and sums[0]._data.base is sums[3]._data.base  # flat
    for p, s in zip(ps, sums):
        assert opt.state[p]["sum"] is s
        np.testing.assert_allclose(s.numpy(), p.grad.numpy() ** 2, rtol=1e-6)


def test_foreach_replaced_parameter_data_is_followed():
    ps = _params()
    opt = optim.SGD(ps, lr=0.1, momentum=0.9, foreach=True)
    _grads(ps, 1)
    opt.step()
    ps[0].data = rg.zeros(3, 4, dtype=rg.float64)
    _grads(ps, 1)
    g = ps[0].grad.numpy().copy()
    buf = opt.state[ps[0]]["momentum_buffer"].numpy().copy()
    opt.step()
    np.testing.assert_allclose(ps[0].detach().numpy(), -0.1 * (0.9 * buf + g), rtol=1e-12)


def test_foreach_with_sparse_gradients_in_the_group():
    out = []
    for foreach in (None, True):
        emb = rg.ones(6, 2, requires_grad=True)
        bias = rg.zeros(2, requires_grad=True)
        opt = optim.SGD([emb, bias], lr=0.1, momentum=0.9, foreach=foreach)
        for s in range(3):
            emb.grad = rg.sparse_coo_tensor([[s, s + 1, s]], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], (6, 2))
            bias.grad = rg.tensor([1.0 + s, -1.0])
            opt.step()
        assert opt.state[emb]["momentum_buffer"].is_sparse
        out.append((emb.detach().numpy().copy(), bias.detach().numpy().copy()))
    for a, b in zip(*out):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------- kernels
def test_sgd_kernel_on_arrays():
    rng = np.random.default_rng(0)
    theta, grads = rng.standard_normal((4, 3)), [rng.standard_normal((4, 3)) for _ in range(3)]
    p, bufs = theta.copy(), [None]
    for g in grads:
        sgd([p], [g], bufs, lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.1, nesterov=True, maximize=False)
    assert isinstance(bufs[0], np.ndarray)  # the kernel made the momentum buffer
    want = _refs.sgd(theta, grads, lr=0.1, momentum=0.9, weight_decay=0.1, nesterov=True)[-1]
    np.testing.assert_allclose(p, want, rtol=1e-12)


def test_adam_and_adagrad_kernels_on_arrays():
    rng = np.random.default_rng(1)
    theta, grads = rng.standard_normal(5), [rng.standard_normal(5) for _ in range(4)]
    p, m, v, vmax = theta.copy(), np.zeros(5), np.zeros(5), np.zeros(5)
    q, s = theta.copy(), np.zeros(5)
    for t, g in enumerate(grads, 1):
        adam(
            [p],
            [g],
            [m],
            [v],
            [vmax],
            [t],
            amsgrad=True,
            beta1=0.9,
            beta2=0.99,
            lr=0.1,
            weight_decay=0.1,
            eps=1e-8,
            maximize=True,
            decoupled_weight_decay=False,
        )
        adagrad([q], [g], [s], [t], lr=0.1, weight_decay=0.0, lr_decay=0.1, eps=1e-10, maximize=False)
    np.testing.assert_allclose(
        p,
        _refs.adam(theta, grads, lr=0.1, betas=(0.9, 0.99), amsgrad=True, weight_decay=0.1, maximize=True)[-1],
        rtol=1e-12,
    )
    np.testing.assert_allclose(q, _refs.adagrad(theta, grads, lr=0.1, lr_decay=0.1)[-1], rtol=1e-12)


# --------------------------------------------------------------------------- flags
@pytest.mark.parametrize(
    "make,err,match",
    [
        (lambda ps: optim.AdamW(ps, fused=True, foreach=True), RuntimeError, "cannot be `True` together"),
        (lambda ps: optim.Adam(ps, fused=True, differentiable=True), RuntimeError, "`fused` does not support"),
        (lambda ps: optim.Adam(ps, capturable=True), NotImplementedError, r"Adam\(capturable=True\)"),
        (lambda ps: optim.AdamW(ps, capturable=True), NotImplementedError, "CUDA graph"),
        (lambda ps: optim.RMSprop(ps, capturable=True), NotImplementedError, "capturable"),
        (lambda ps: optim.Adadelta(ps, capturable=True), NotImplementedError, "capturable"),
        (lambda ps: optim.SGD(ps, differentiable=True), NotImplementedError, "differentiable"),
        (lambda ps: optim.Adam(ps, differentiable=True), NotImplementedError, "differentiable"),
        (lambda ps: optim.Adam(ps, lr=rg.tensor(0.1), foreach=True), ValueError, "lr as a Tensor"),
        (lambda ps: optim.Adamax(ps, capturable=True), NotImplementedError, r"Adamax\(capturable=True\)"),
        (lambda ps: optim.NAdam(ps, differentiable=True), NotImplementedError, "differentiable"),
        (lambda ps: optim.RAdam(ps, capturable=True), NotImplementedError, "capturable"),
        (lambda ps: optim.Rprop(ps, differentiable=True), NotImplementedError, "differentiable"),
        (lambda ps: optim.ASGD(ps, capturable=True), NotImplementedError, "capturable"),
    ],
)
def test_unsupported_flags_are_refused(make, err, match):
    with pytest.raises(err, match=match):
        make(_params()[:2])


def test_unsupported_flags_are_refused_per_group_and_on_load():
    ps = _params()[:2]
    opt = optim.Adam(ps[:1], lr=0.1)
    with pytest.raises(NotImplementedError, match="capturable"):
        opt.add_param_group({"params": ps[1:], "capturable": True})
    sd = opt.state_dict()
    sd["param_groups"][0]["capturable"] = True
    with pytest.raises(NotImplementedError, match="capturable"):
        opt.load_state_dict(sd)


FUSED = [
    (optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    (optim.Adam, {"lr": 0.01, "amsgrad": True}),
    (optim.AdamW, {"lr": 0.01, "weight_decay": 0.1}),
    (optim.Adagrad, {"lr": 0.1, "lr_decay": 0.01}),
]


@pytest.mark.parametrize("cls,kw", FUSED)
def test_fused_runs_the_flat_kernel(cls, kw, monkeypatch):
    """fused=True (PyTorch's fused kernels, on the CPU too) is honoured as foreach=True is: the
    flat-buffer step, equal to the per-tensor one."""
    from retrograd.optim import _foreach

    calls = []
    flat = _foreach.run
    monkeypatch.setattr(_foreach, "run", lambda *a, **k: calls.append(1) or flat(*a, **k))
    a, _ = _train(cls, kw, None)
    assert not calls
    ps = _params()
    opt = cls([{"params": ps[:5]}, {"params": ps[5:], "lr": 0.05}], fused=True, **kw)
    b, _ = _train(cls, kw, None, ps=ps, opt=opt)
    assert calls and opt.param_groups[0]["fused"] is True
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_sparse_refusal_names_the_subclass():
    class MyAdam(optim.Adam):
        pass

    p = rg.zeros(4, 2, requires_grad=True)
    opt = MyAdam([p])
    p.grad = rg.sparse_coo_tensor([[1]], [[1.0, 1.0]], (4, 2))
    with pytest.raises(RuntimeError, match="MyAdam does not support sparse gradients, please consider SparseAdam"):
        opt.step()
