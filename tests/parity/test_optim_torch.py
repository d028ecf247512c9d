"""Optimizer and scheduler trajectories against PyTorch itself (optional: needs torch)."""
import warnings

import numpy as np
import pytest

import retrograd as rg

torch = pytest.importorskip("torch")

STEPS = 6


def _data(seed=0, shape=(6, 3)):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape), [rng.standard_normal(shape) for _ in range(STEPS)],
            [(rng.integers(0, shape[0], 5), rng.standard_normal((5, shape[1]))) for _ in range(STEPS)])


def _run(lib, cls, kw, sparse=False):
    theta, grads, sp = _data()
    p = lib.tensor(theta, requires_grad=True)
    opt = getattr(lib.optim, cls)([p], **kw)
    out = []
    for i in range(STEPS):
        if sparse:
            rows, vals = sp[i]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                p.grad = lib.sparse_coo_tensor(lib.tensor(rows[None]), lib.tensor(vals), theta.shape)
        else:
            p.grad = lib.tensor(grads[i])
        opt.step()
        out.append(p.detach().numpy().copy())
    return out


DENSE = [
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.2, weight_decay=0.1, maximize=True)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.1, amsgrad=True, weight_decay=0.1, maximize=True)),
    ("AdamW", dict(lr=0.1, amsgrad=True, weight_decay=0.3, betas=(0.3, 0.6))),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1, maximize=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, weight_decay=0.2, initial_accumulator_value=0.3)),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1, maximize=True)),
]
SPARSE = [
    ("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.2, maximize=True)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, initial_accumulator_value=0.1, maximize=True)),
    ("SparseAdam", dict(lr=0.1, betas=(0.5, 0.7), maximize=True)),
]


@pytest.mark.parametrize("cls,kw", DENSE)
def test_dense_trajectory_matches_pytorch(cls, kw):
    for a, b in zip(_run(torch, cls, kw), _run(rg, cls, kw)):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cls,kw", SPARSE)
def test_sparse_trajectory_matches_pytorch(cls, kw):
    for a, b in zip(_run(torch, cls, kw, True), _run(rg, cls, kw, True)):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)


SCHEDULES = {
    "cos": lambda m, o: m.CosineAnnealingLR(o, 7, eta_min=0.001),
    "onecycle3": lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=30, three_phase=True),
    "seq": lambda m, o: m.SequentialLR(o, [m.LinearLR(o, 0.1, 1.0, 5), m.CosineAnnealingLR(o, 10),
                                           m.ExponentialLR(o, 0.9)], [5, 15]),
    "plateau": lambda m, o: m.ReduceLROnPlateau(o, patience=1, cooldown=1, factor=0.5),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedules_match_pytorch(name):
    metric = [1.0, 0.9, 0.95, 0.96, 0.97, 0.5, 0.6, 0.6, 0.6, 0.6] * 3

    def run(lib):
        ps = [lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)]
        opt = lib.optim.SGD([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.05}], lr=0.1, momentum=0.9)
        sched = SCHEDULES[name](lib.optim.lr_scheduler, opt)
        out = []
        for i in range(29):
            opt.step()
            sched.step(metric[i]) if name == "plateau" else sched.step()
            out.append([g["lr"] for g in opt.param_groups] + [g["momentum"] for g in opt.param_groups])
        return np.array(out)

    np.testing.assert_allclose(run(rg), run(torch), rtol=1e-12)
