"""Optimizer and scheduler trajectories against PyTorch itself (optional: needs torch)."""

import warnings

import numpy as np
import pytest

import retrograd as rg

torch = pytest.importorskip("torch")

STEPS = 6


def _data(seed=0, shape=(6, 3)):
    rng = np.random.default_rng(seed)
    return (
        rng.standard_normal(shape),
        [rng.standard_normal(shape) for _ in range(STEPS)],
        [(rng.integers(0, shape[0], 5), rng.standard_normal((5, shape[1]))) for _ in range(STEPS)],
    )


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
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.2, maximize=True)),
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
    "seq": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, 0.1, 1.0, 5), m.CosineAnnealingLR(o, 10), m.ExponentialLR(o, 0.9)], [5, 15]
    ),
    "plateau": lambda m, o: m.ReduceLROnPlateau(o, patience=1, cooldown=1, factor=0.5),
    "cyclic2": lambda m, o: m.CyclicLR(
        o, [0.01, 0.02], [0.5, 0.3], step_size_up=4, step_size_down=3, mode="triangular2"
    ),
    "cyclic_exp": lambda m, o: m.CyclicLR(o, 0.01, 0.5, 5, mode="exp_range", gamma=0.95, base_momentum=0.5),
    "warm_restarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, 3, T_mult=2, eta_min=0.001),
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


LONG = 40
NEW = [
    ("Adamax", dict(lr=0.1, weight_decay=0.1, maximize=True)),
    ("Adamax", dict(lr=0.1, betas=(0.3, 0.5), eps=1e-3)),
    ("NAdam", dict(lr=0.1, weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=0.1, weight_decay=0.1)),
    ("RAdam", dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True, maximize=True, betas=(0.6, 0.7))),
    ("Rprop", dict(lr=0.1)),
    ("Rprop", dict(lr=0.1, etas=(0.3, 1.7), step_sizes=(0.01, 0.2), maximize=True)),
    ("ASGD", dict(lr=0.1, t0=5, weight_decay=0.1)),
    ("ASGD", dict(lr=0.1, lambd=0.1, alpha=0.5, t0=3, maximize=True)),
    ("Adafactor", dict(lr=0.1, weight_decay=0.1, maximize=True)),
    ("Adafactor", dict(lr=0.05, beta2_decay=-0.5, eps=(1e-20, 1e-2), d=1.5)),
]


def _long_run(lib, cls, kw, dtype, foreach=None, steps=LONG, opt_state=None):
    """Two parameters stepped ``steps`` times (gradients with exact zeros, so that Rprop meets
    every sign case); with ``opt_state`` the run starts from that state dict, after as many
    steps. Returns the trajectory and the optimizer."""
    rng = np.random.default_rng(0)
    ps = [lib.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in [(6, 3), (4,)]]
    grads = [[rng.standard_normal(p.shape).astype(dtype) for p in ps] for _ in range(2 * steps)]
    start = 0
    if opt_state is not None:
        start, state, values = opt_state
        with lib.no_grad():
            for p, v in zip(ps, values):
                p.copy_(lib.tensor(v))
    opt = getattr(lib.optim, cls)(ps, foreach=foreach, **kw)
    if opt_state is not None:
        opt.load_state_dict(state)
    out = []
    for i in range(start, start + steps):
        for j, p in enumerate(ps):
            g = grads[i][j].copy()
            if i % 7 == 3:
                g.reshape(-1)[0] = 0
            p.grad = lib.tensor(g)
        opt.step()
        out.append(np.concatenate([p.detach().numpy().reshape(-1) for p in ps]))
    return np.array(out), opt, ps


@pytest.mark.parametrize("foreach", [None, True])
@pytest.mark.parametrize("cls,kw", NEW)
def test_new_optimizers_long_trajectories_match_pytorch(cls, kw, foreach):
    # PyTorch's foreach ASGD computes eta in float32 arithmetic, its per-tensor ASGD in float64
    # (their trajectories differ by ~1e-7 relative); retrograd's foreach is the per-tensor rule
    theirs = None if cls == "ASGD" else foreach
    a = _long_run(torch, cls, kw, "float64", theirs)[0]
    b = _long_run(rg, cls, kw, "float64", foreach)[0]
    np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)
    a = _long_run(torch, cls, kw, "float32", theirs, steps=10)[0]
    b = _long_run(rg, cls, kw, "float32", foreach, steps=10)[0]
    np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)


def _state_values(sd):
    """The state dict's tensors and numbers as NumPy arrays and floats, by parameter and key."""

    def conv(v):
        if hasattr(v, "numpy"):
            return v.detach().numpy() if hasattr(v, "detach") else v.numpy()
        if isinstance(v, list):
            return [conv(x) for x in v]
        return v

    return {k: {name: conv(v) for name, v in st.items()} for k, st in sd["state"].items()}


def _assert_same_state(ours, theirs):
    assert sorted(ours) == sorted(theirs)
    for k in theirs:
        assert sorted(ours[k]) == sorted(theirs[k]), k
        for name, v in theirs[k].items():
            w = ours[k][name]
            if isinstance(v, list):
                assert len(w) == len(v)
                for x, y in zip(w, v):
                    if y is None:
                        assert x is None
                    else:
                        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-9, atol=1e-12)
            elif v is None:
                assert w is None
            else:
                np.testing.assert_allclose(np.asarray(w), np.asarray(v), rtol=1e-9, atol=1e-12, err_msg=name)
                if hasattr(v, "dtype"):
                    assert np.asarray(w).dtype == v.dtype, name


@pytest.mark.parametrize("cls,kw", NEW[::2])
def test_new_optimizers_state_dicts_match_and_round_trip_as_pytorch(cls, kw):
    """After some steps the state dicts hold the same entries and values; each library's run
    continued from its own saved state (which casts NAdam's float32 mu_product to the
    parameter's dtype, in both) stays the same."""
    ta, topt, tps = _long_run(torch, cls, kw, "float64", steps=8)
    ra, ropt, rps = _long_run(rg, cls, kw, "float64", steps=8)
    tsd, rsd = topt.state_dict(), ropt.state_dict()
    _assert_same_state(_state_values(rsd), _state_values(tsd))
    assert [sorted(g) for g in rsd["param_groups"]] == [sorted(g) for g in tsd["param_groups"]]
    tb = _long_run(torch, cls, kw, "float64", steps=8, opt_state=(8, tsd, [p.detach().numpy() for p in tps]))[0]
    rb = _long_run(rg, cls, kw, "float64", steps=8, opt_state=(8, rsd, [p.detach().numpy() for p in rps]))[0]
    np.testing.assert_allclose(rb, tb, rtol=1e-10, atol=1e-12)


def _rosenbrock_run(lib, kw, steps, x0=(-1.5, -0.96, -0.42, 0.12, 0.66, 1.2), state=None):
    x = lib.tensor(list(x0), dtype=lib.float64, requires_grad=True)
    opt = lib.optim.LBFGS([x], **kw)
    if state is not None:
        opt.load_state_dict(state)

    def closure():
        opt.zero_grad()
        loss = (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()
        loss.backward()
        return loss

    out = []
    for _ in range(steps):
        loss = opt.step(closure)
        st = opt.state[x]
        out.append((loss.item(), x.detach().numpy().copy(), st["func_evals"], st["n_iter"]))
    return out, opt, x


@pytest.mark.parametrize(
    "kw",
    [
        dict(line_search_fn="strong_wolfe"),
        dict(line_search_fn="strong_wolfe", history_size=4, max_eval=9, tolerance_change=1e-6),
        dict(lr=0.1, history_size=3, max_iter=5),
    ],
)
def test_lbfgs_on_rosenbrock_matches_pytorch(kw):
    theirs = _rosenbrock_run(torch, kw, 8)[0]
    ours = _rosenbrock_run(rg, kw, 8)[0]
    for (tl, tx, te, tn), (rl, rx, re, rn) in zip(theirs, ours):
        assert (re, rn) == (te, tn)  # the same evaluations and iterations
        np.testing.assert_allclose(rx, tx, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(rl, tl, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "kw", [dict(line_search_fn="strong_wolfe", max_iter=6), dict(max_iter=4, history_size=3, lr=0.1)]
)
def test_lbfgs_state_dict_matches_and_round_trips_as_pytorch(kw):
    _, topt, tx = _rosenbrock_run(torch, kw, 2)
    _, ropt, rx = _rosenbrock_run(rg, kw, 2)
    tsd, rsd = topt.state_dict(), ropt.state_dict()
    tv, rv = _state_values(tsd), _state_values(rsd)
    for v in (tv, rv):  # the loaded iteration buffer: PyTorch keeps stale entries in "al"
        v[0].pop("al")
    _assert_same_state(rv, tv)
    theirs = _rosenbrock_run(torch, kw, 3, x0=tx.tolist(), state=tsd)[0]
    ours = _rosenbrock_run(rg, kw, 3, x0=rx.tolist(), state=rsd)[0]
    for (tl, txs, te, tn), (rl, rxs, re, rn) in zip(theirs, ours):
        assert (re, rn) == (te, tn)
        np.testing.assert_allclose(rxs, txs, rtol=1e-9, atol=1e-9)


def test_warm_restarts_fractional_epochs_match_pytorch():
    def run(lib):
        opt = lib.optim.SGD([lib.zeros(2, requires_grad=True)], lr=0.1)
        sched = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, 2, T_mult=3, eta_min=0.01)
        out = []
        for epoch in [0.5, 1.0, 2.25, 7.5, 8.0, 30.1, 3.0]:
            opt.step()
            sched.step(epoch)
            out.append((opt.param_groups[0]["lr"], sched.T_cur, sched.T_i, sched.last_epoch))
        return np.array(out, dtype=float)

    np.testing.assert_allclose(run(rg), run(torch), rtol=1e-12)


def _bn_model(lib, seed):
    nn = lib.nn
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32)))
    return model


@pytest.mark.parametrize("kind", ["swa", "ema_multi", "ema_fn", "ema_multi_buffers", "swa_fn_buffers"])
def test_averaged_model_and_update_bn_match_pytorch(kind):
    def run(lib):
        su = lib.optim.swa_utils
        kw = {
            "swa": {},
            "ema_multi": dict(multi_avg_fn=su.get_ema_multi_avg_fn(0.9)),
            "ema_fn": dict(avg_fn=su.get_ema_avg_fn(0.8)),
            "ema_multi_buffers": dict(multi_avg_fn=su.get_ema_multi_avg_fn(0.7), use_buffers=True),
            "swa_fn_buffers": dict(avg_fn=su.get_swa_avg_fn(), use_buffers=True),
        }[kind]
        avg = su.AveragedModel(_bn_model(lib, 0), **kw)
        rng = np.random.default_rng(1)
        for k in range(4):
            model = _bn_model(lib, 10 + k)
            model.train()
            model(lib.tensor(rng.standard_normal((5, 3)).astype(np.float32)))  # moves BN statistics
            avg.update_parameters(model)
        out = [v.detach().numpy().astype(np.float64).copy() for v in avg.state_dict().values()]
        loader = [(lib.tensor(rng.standard_normal((6, 3)).astype(np.float32)), 0) for _ in range(3)]
        avg.eval()
        su.update_bn(loader, avg)
        assert not avg.training
        out += [v.detach().numpy().astype(np.float64).copy() for v in avg.state_dict().values()]
        return out, list(avg.state_dict())

    ours, ours_keys = run(rg)
    theirs, their_keys = run(torch)
    assert ours_keys == their_keys
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    "kw",
    [
        dict(swa_lr=0.05),
        dict(swa_lr=[0.05, 0.01], anneal_epochs=3, anneal_strategy="linear"),
        dict(swa_lr=0.02, anneal_epochs=0),
    ],
)
def test_swalr_matches_pytorch(kw):
    def run(lib):
        ps = [lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)]
        opt = lib.optim.SGD([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.3}], lr=0.1)
        cos = lib.optim.lr_scheduler.CosineAnnealingLR(opt, 20)
        swa = lib.optim.swa_utils.SWALR(opt, **kw)
        out = []
        for i in range(16):
            opt.step()
            (cos if i < 5 else swa).step()
            out.append([g["lr"] for g in opt.param_groups])
        return np.array(out)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(run(rg), run(torch), rtol=1e-12)


def test_swa_multi_avg_fn_refuses_integer_buffers_as_pytorch():
    for lib in (rg, torch):
        su = lib.optim.swa_utils
        avg = su.AveragedModel(_bn_model(lib, 0), multi_avg_fn=su.get_swa_multi_avg_fn(), use_buffers=True)
        avg.update_parameters(_bn_model(lib, 1))
        with pytest.raises(RuntimeError):
            avg.update_parameters(_bn_model(lib, 2))


@pytest.mark.parametrize(
    "kw",
    [
        dict(lr=0.01),
        dict(lr=0.02, nesterov=False, momentum=0.3, adjust_lr_fn="match_rms_adamw", weight_decay=0.01),
    ],
)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_muon_matches_pytorch(kw, dtype):
    """The Newton-Schulz iteration in (emulated) bfloat16 gives PyTorch's bfloat16 values, but
    for a rare product that rounds to the other neighbouring bfloat16 (PyTorch's gemm sums in
    another order): the trajectories agree to a bfloat16 step of an update or two."""

    def run(lib):
        rng = np.random.default_rng(0)
        ps = [lib.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in [(6, 3), (4, 8), (3, 5)]]
        opt = lib.optim.Muon(ps, **kw)
        out = []
        for _ in range(LONG):
            for p in ps:
                p.grad = lib.tensor(rng.standard_normal(tuple(p.shape)).astype(dtype))
            opt.step()
            out.append(np.concatenate([p.detach().numpy().reshape(-1) for p in ps]))
        return np.array(out)

    a, b = run(rg), run(torch)
    np.testing.assert_allclose(a, b, rtol=0, atol=2 * kw["lr"] * 2**-7)
    assert np.mean(np.abs(a - b) <= 1e-6 * np.abs(b)) > 0.95  # nearly all to float rounding


@pytest.mark.parametrize("shape", [(16, 16), (40, 24), (24, 40)])
def test_muon_newton_schulz_is_pytorchs_up_to_bfloat16_rounding(shape):
    """On larger matrices a product now and then rounds to the other neighbouring bfloat16
    (PyTorch's gemm sums in another order), and the iteration spreads such a difference: most
    elements stay equal and the result stays close."""
    from torch.optim._muon import _zeropower_via_newtonschulz as theirs
    from retrograd.optim.muon import zeropower_via_newtonschulz as ours

    rng = np.random.default_rng(0)
    same, rel = [], []
    for _ in range(10):
        g = rng.standard_normal(shape)
        a = theirs(torch.tensor(g), (3.4445, -4.7750, 2.0315), 5, 1e-7).float().numpy()
        b = ours(g, (3.4445, -4.7750, 2.0315), 5, 1e-7)
        same.append(np.mean(a == b))
        rel.append(np.linalg.norm(a - b) / np.linalg.norm(a))
    assert np.mean(same) > 0.8 and max(rel) < 0.05, (np.mean(same), max(rel))


def test_swap_in_optimizer_params_and_state_matches_pytorch():
    def run(lib):
        rng = np.random.default_rng(0)
        ps = [lib.tensor(rng.standard_normal(s), requires_grad=True) for s in [(3, 2), (4,)]]
        qs = [lib.tensor(rng.standard_normal(s), requires_grad=True) for s in [(3, 2), (4,)]]
        opt = lib.optim.NAdam(ps, lr=0.1)
        other = lib.optim.NAdam(qs, lr=0.03, weight_decay=0.1)
        for o, ts in ((opt, ps), (other, qs)):
            for t in ts:
                t.grad = lib.tensor(rng.standard_normal(tuple(t.shape)))
            o.step()
        sd = other.state_dict()
        for t in qs:
            t.grad = lib.tensor(rng.standard_normal(tuple(t.shape)))
        with lib.optim.swap_in_optimizer_params_and_state(opt, {"w": qs[0], "b": qs[1]}, sd):
            opt.step()
            inside = [g["lr"] for g in opt.param_groups]
        return (
            [t.detach().numpy().copy() for t in ps + qs],
            inside,
            [opt.param_groups[0]["lr"], sd["state"][0]["step"].item()],
        )

    ours, theirs = run(rg), run(torch)
    for a, b in zip(ours[0], theirs[0]):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert ours[1:] == theirs[1:]


@pytest.mark.parametrize("maximize", [False, True])
def test_rprop_with_nan_and_inf_gradients_matches_pytorch(maximize):
    nan, inf = float("nan"), float("inf")
    grads = [
        [1.0, -1.0, 0.0, nan],
        [nan, 1.0, 1.0, 1.0],
        [1.0, 1.0, 1.0, -1.0],
        [inf, -1.0, 1.0, 1.0],
        [1.0, -inf, 1.0, 1.0],
    ]

    def run(lib):
        p = lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        opt = lib.optim.Rprop([p], lr=0.1, maximize=maximize)
        for g in grads:
            p.grad = lib.tensor(g)
            opt.step()
        return [p.detach().numpy().copy()] + [opt.state[p][k].numpy().copy() for k in ("step_size", "prev")]

    for a, b in zip(run(rg), run(torch)):
        np.testing.assert_array_equal(a, b)
