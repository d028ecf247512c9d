"""Learning-rate schedules: the rates after each step against the closed forms."""

import math
import pickle
import warnings
from bisect import bisect_right

import pytest

import retrograd as rg
from retrograd import optim
from retrograd.optim import lr_scheduler as S

BASE = [0.1, 0.05]


def _opt(cls=optim.SGD, **kw):
    kw = dict(dict(lr=BASE[0], momentum=0.9), **kw) if cls is optim.SGD else dict(dict(lr=BASE[0]), **kw)
    ps = [rg.zeros(2, requires_grad=True), rg.zeros(3, requires_grad=True)]
    return cls([{"params": ps[:1]}, {"params": ps[1:], "lr": BASE[1]}], **kw)


def _rates(opt, sched, steps, metrics=None):
    """[rates at epoch 0, after step 1, ...] for both groups."""
    out = [[g["lr"] for g in opt.param_groups]]
    assert sched.get_last_lr() == out[0]
    for i in range(steps):
        opt.step()
        sched.step() if metrics is None else sched.step(metrics[i])
        out.append([g["lr"] for g in opt.param_groups])
        assert sched.get_last_lr() == out[-1]
    return out


def _check(make, closed, steps=25):
    opt = _opt()
    got = _rates(opt, make(opt), steps)
    for e, row in enumerate(got):
        for b, lr in zip(BASE, row):
            assert lr == pytest.approx(closed(b, e), rel=1e-12, abs=1e-15), f"epoch {e}"


def test_step_lr():
    _check(lambda o: S.StepLR(o, step_size=4, gamma=0.5), lambda b, e: b * 0.5 ** (e // 4))


def test_multistep_lr_repeated_milestone_counts_twice():
    ms = [3, 7, 7, 12]
    _check(lambda o: S.MultiStepLR(o, ms, gamma=0.3), lambda b, e: b * 0.3 ** bisect_right(ms, e))


def test_exponential_lr():
    _check(lambda o: S.ExponentialLR(o, gamma=0.9), lambda b, e: b * 0.9**e)


def test_cosine_annealing_lr_including_past_t_max():
    T, lo = 7, 0.001
    _check(
        lambda o: S.CosineAnnealingLR(o, T_max=T, eta_min=lo),
        lambda b, e: lo + (b - lo) * (1 + math.cos(math.pi * e / T)) / 2,
        steps=3 * T,
    )


def test_lambda_lr_per_group():
    fns = [lambda e: 1 / (e + 1), lambda e: 0.9**e]
    opt = _opt()
    got = _rates(opt, S.LambdaLR(opt, fns), 10)
    for e, row in enumerate(got):
        assert row == pytest.approx([BASE[0] * fns[0](e), BASE[1] * fns[1](e)], rel=1e-12)


def test_multiplicative_lr():
    _check(lambda o: S.MultiplicativeLR(o, lambda e: 0.95), lambda b, e: b * 0.95**e)


def test_linear_lr():
    s, f, T = 0.2, 0.9, 10
    _check(
        lambda o: S.LinearLR(o, start_factor=s, end_factor=f, total_iters=T),
        lambda b, e: b * (s + (f - s) * min(e, T) / T),
    )


def test_constant_and_polynomial_lr():
    _check(lambda o: S.ConstantLR(o, factor=0.5, total_iters=4), lambda b, e: b * (0.5 if e < 4 else 1.0))
    _check(lambda o: S.PolynomialLR(o, total_iters=10, power=2.0), lambda b, e: b * (1 - min(e, 10) / 10) ** 2)


def _one_cycle(e, n, max_lr, pct=0.3, div=25.0, final_div=1e4, cos=True, three=False, mom=(0.85, 0.95)):
    """The 1cycle rate and momentum at step e, from the policy's definition."""
    init = max_lr / div
    low = init / final_div
    ann = (lambda a, b, p: b + (a - b) * (1 + math.cos(math.pi * p)) / 2) if cos else (lambda a, b, p: a + (b - a) * p)
    base_m, max_m = mom
    up = pct * n - 1
    if three:
        phases = [
            (up, init, max_lr, max_m, base_m),
            (2 * pct * n - 2, max_lr, init, base_m, max_m),
            (n - 1, init, low, max_m, max_m),
        ]
    else:
        phases = [(up, init, max_lr, max_m, base_m), (n - 1, max_lr, low, base_m, max_m)]
    start = 0.0
    for i, (end, a, b, ma, mb) in enumerate(phases):
        if e <= end or i == len(phases) - 1:
            p = (e - start) / (end - start)
            return ann(a, b, p), ann(ma, mb, p)
        start = end


@pytest.mark.parametrize(
    "kw",
    [
        dict(),
        dict(anneal_strategy="linear"),
        dict(three_phase=True),
        dict(pct_start=0.5, div_factor=10.0, final_div_factor=100.0),
    ],
)
def test_one_cycle_lr_and_momentum(kw):
    n = 30
    opt = _opt()
    sched = S.OneCycleLR(opt, max_lr=[1.0, 0.5], total_steps=n, **kw)
    ref_kw = dict(
        pct=kw.get("pct_start", 0.3),
        div=kw.get("div_factor", 25.0),
        final_div=kw.get("final_div_factor", 1e4),
        cos=kw.get("anneal_strategy", "cos") == "cos",
        three=kw.get("three_phase", False),
    )
    for e in range(n):
        for g, m in zip(opt.param_groups, [1.0, 0.5]):
            lr, mom = _one_cycle(e, n, m, **ref_kw)
            assert g["lr"] == pytest.approx(lr, rel=1e-12) and g["momentum"] == pytest.approx(mom)
        if e < n - 1:
            opt.step()
            sched.step()
    opt.step()
    sched.step()  # step n is still allowed; the next one is past the schedule
    with pytest.raises(ValueError, match="Tried to step 31 times. The specified number of total steps is 30"):
        sched.step()


def test_one_cycle_cycles_adam_beta1():
    opt = _opt(optim.Adam, betas=(0.9, 0.99))
    S.OneCycleLR(opt, max_lr=1.0, epochs=2, steps_per_epoch=5)
    assert opt.param_groups[0]["betas"] == (0.95, 0.99)


def test_reduce_lr_on_plateau():
    opt = _opt()
    sched = S.ReduceLROnPlateau(opt, patience=2, factor=0.5, min_lr=[0.0, 0.02])
    metrics = [1.0, 0.9, 0.95, 0.96, 0.97, 0.98, 0.99, 1.0, 0.5, 0.6, 0.6, 0.6]
    got = _rates(opt, sched, len(metrics), metrics)
    # best 0.9 at step 2; steps 3, 4, 5 are bad: 3 > patience -> halve at step 5; counter resets
    # and steps 6, 7, 8 are bad -> halve at step 8; 0.5 improves; 0.6 x3 -> halve at step 12.
    want0 = [0.1] * 5 + [0.05] * 3 + [0.025] * 4 + [0.0125]
    want1 = [0.05] * 5 + [0.025] * 3 + [0.02] * 5  # clamped at min_lr
    assert [r[0] for r in got] == pytest.approx(want0)
    assert [r[1] for r in got] == pytest.approx(want1)


def test_reduce_lr_on_plateau_max_mode_abs_threshold_and_cooldown():
    opt = _opt()
    sched = S.ReduceLROnPlateau(
        opt, mode="max", threshold=0.1, threshold_mode="abs", patience=0, cooldown=2, factor=0.1
    )
    got = _rates(opt, sched, 6, [1.0, 1.05, 1.05, 1.05, 1.05, 1.05])
    # 1.05 is not better than 1.0 + 0.1: reduce at once, then 2 steps of cooldown
    assert [r[0] for r in got] == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.01, 0.001, 0.001])


def test_sequential_lr():
    opt = _opt()
    sched = S.SequentialLR(
        opt,
        [S.LinearLR(opt, 0.1, 1.0, total_iters=5), S.ExponentialLR(opt, 0.9), S.StepLR(opt, 2, 0.5)],
        milestones=[5, 12],
    )
    got = _rates(opt, sched, 20)
    for e, row in enumerate(got):
        for b, lr in zip(BASE, row):
            if e < 5:
                want = b * (0.1 + 0.9 * e / 5)
            elif e < 12:
                want = b * 0.9 ** (e - 5)
            else:
                want = b * 0.5 ** ((e - 12) // 2)
            assert lr == pytest.approx(want, rel=1e-12), f"epoch {e}"


def test_chained_scheduler_multiplies():
    opt = _opt()
    sched = S.ChainedScheduler([S.ExponentialLR(opt, 0.9), S.StepLR(opt, 3, 0.5)])
    got = _rates(opt, sched, 10)
    for e, row in enumerate(got):
        assert row[0] == pytest.approx(0.1 * 0.9**e * 0.5 ** (e // 3), rel=1e-12)


@pytest.mark.parametrize(
    "make",
    [
        lambda o: S.StepLR(o, 3, 0.5),
        lambda o: S.CosineAnnealingLR(o, 10),
        lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=40),
        lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.5, total_iters=4), S.ExponentialLR(o, 0.8)], [4]),
        lambda o: S.MultiStepLR(o, [2, 6]),
        lambda o: S.ReduceLROnPlateau(o, patience=1),
        lambda o: S.CyclicLR(o, 0.01, 0.1, step_size_up=3, mode="triangular2"),
        lambda o: S.CosineAnnealingWarmRestarts(o, 3, T_mult=2),
    ],
)
def test_state_dict_resume(make):
    metrics = [1.0 / (1 + (i % 5)) for i in range(30)]
    plateau = "Plateau" in type(make(_opt())).__name__

    def advance(opt, sched, a, b):
        for i in range(a, b):
            opt.step()
            sched.step(metrics[i]) if plateau else sched.step()

    opt, ref = _opt(), None
    ref = make(opt)
    advance(opt, ref, 0, 8)
    sd_opt, sd_sched = opt.state_dict(), ref.state_dict()
    pickle.dumps({k: v for k, v in sd_sched.items() if k != "lr_lambdas"})  # plain data
    advance(opt, ref, 8, 16)

    opt2 = _opt()
    sched2 = make(opt2)
    opt2.load_state_dict(sd_opt)
    sched2.load_state_dict(sd_sched)
    advance(opt2, sched2, 8, 16)
    assert [g["lr"] for g in opt2.param_groups] == [g["lr"] for g in opt.param_groups]
    assert sched2.get_last_lr() == ref.get_last_lr()


def test_lambda_lr_state_dict_skips_functions_but_saves_callable_objects():
    class Decay:
        def __init__(self):
            self.rate = 0.5

        def __call__(self, e):
            return self.rate**e

    opt = _opt()
    d = Decay()
    sched = S.LambdaLR(opt, [lambda e: 1.0, d])
    d.rate = 0.7
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [None, {"rate": 0.7}]
    d2 = Decay()
    sched2 = S.LambdaLR(_opt(), [lambda e: 1.0, d2])
    sched2.load_state_dict(sd)
    assert d2.rate == 0.7


def test_resume_needs_initial_lr():
    with pytest.raises(KeyError, match="initial_lr"):
        S.StepLR(_opt(), 3, last_epoch=5)


@pytest.mark.parametrize(
    "make,err,match",
    [
        (lambda o: S.OneCycleLR(o, max_lr=1.0), ValueError, "total_steps OR"),
        (lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=10, pct_start=2.0), ValueError, "pct_start"),
        (lambda o: S.OneCycleLR(o, max_lr=[1.0], total_steps=10), ValueError, "same length"),
        (lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=10, anneal_strategy="exp"), ValueError, "anneal_strategy"),
        (lambda o: S.SequentialLR(o, [S.StepLR(o, 2)], [3]), ValueError, "number of milestones"),
        (lambda o: S.SequentialLR(o, [S.StepLR(o, 2), S.ReduceLROnPlateau(o)], [3]), ValueError, "ReduceLROnPlateau"),
        (lambda o: S.ReduceLROnPlateau(o, factor=1.5), ValueError, "Factor should be < 1.0"),
        (lambda o: S.ReduceLROnPlateau(o, mode="up"), ValueError, "mode up is unknown"),
        (lambda o: S.LinearLR(o, start_factor=0), ValueError, "Starting multiplicative factor"),
        (lambda o: S.StepLR(object(), 2), TypeError, "is not an Optimizer"),
        (lambda o: S.CyclicLR(o, 0.01, 0.1, mode="sine"), ValueError, "mode is invalid"),
        (lambda o: S.CyclicLR(o, [0.01], 0.1), ValueError, "same length"),
        (lambda o: S.CosineAnnealingWarmRestarts(o, 0), ValueError, "positive integer T_0"),
        (lambda o: S.CosineAnnealingWarmRestarts(o, 2, T_mult=1.5), ValueError, "T_mult >= 1"),
    ],
)
def test_bad_arguments(make, err, match):
    with pytest.raises(err, match=match):
        make(_opt())


def test_one_cycle_needs_momentum():
    ps = [rg.zeros(2, requires_grad=True)]
    with pytest.raises(ValueError, match="momentum or beta1"):
        S.OneCycleLR(optim.Adagrad(ps), max_lr=1.0, total_steps=10)


def test_warns_when_scheduler_steps_before_optimizer():
    opt = _opt()
    sched = S.StepLR(opt, 2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    opt = _opt()
    sched = S.StepLR(opt, 2)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()


@pytest.mark.parametrize(
    "mode,scale",
    [
        ("triangular", lambda cycle, e: 1.0),
        ("triangular2", lambda cycle, e: 0.5 ** (cycle - 1)),
        ("exp_range", lambda cycle, e: 0.9**e),
    ],
)
def test_cyclic_lr_and_momentum(mode, scale):
    """Up in 4 steps, down in 2: a triangle between base_lr and max_lr, momentum mirrored."""
    opt = _opt()
    sched = S.CyclicLR(
        opt,
        base_lr=[0.01, 0.02],
        max_lr=0.5,
        step_size_up=4,
        step_size_down=2,
        mode=mode,
        gamma=0.9,
        base_momentum=0.7,
        max_momentum=0.95,
    )
    for e in range(20):
        cycle, pos = e // 6 + 1, e % 6
        frac = pos / 4 if pos <= 4 else (6 - pos) / 2
        s = scale(cycle, e)
        for g, base in zip(opt.param_groups, [0.01, 0.02]):
            assert g["lr"] == pytest.approx(base + (0.5 - base) * frac * s, rel=1e-12), e
            assert g["momentum"] == pytest.approx(0.95 - 0.25 * frac * s, rel=1e-12), e
        opt.step()
        sched.step()


def test_cyclic_lr_custom_scale_fn_and_adam_beta1():
    opt = _opt(optim.Adam)
    sched = S.CyclicLR(opt, 0.0, 1.0, step_size_up=2, scale_fn=lambda x: 1.0 / (1 + x), scale_mode="iterations")
    got = []
    for _ in range(5):
        opt.step()
        sched.step()
        got.append((opt.param_groups[0]["lr"], opt.param_groups[0]["betas"][0]))
    # steps 1..5: position 1, 2, 3, 0, 1 in a cycle of 4, scaled by 1 / (1 + step)
    for e, (lr, beta1) in enumerate(got, 1):
        frac = [0.0, 0.5, 1.0, 0.5][e % 4] / (1 + e)
        assert lr == pytest.approx(frac) and beta1 == pytest.approx(0.9 - 0.1 * frac)


def test_cosine_annealing_warm_restarts():
    opt = _opt()
    sched = S.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2, eta_min=0.001)
    # periods 2, 4, 8: restarts at epochs 2 and 6
    t_cur = [0, 1, 0, 1, 2, 3, 0, 1, 2]
    t_i = [2, 2, 4, 4, 4, 4, 8, 8, 8]
    for e in range(9):
        for g, b in zip(opt.param_groups, BASE):
            want = 0.001 + (b - 0.001) * (1 + math.cos(math.pi * t_cur[e] / t_i[e])) / 2
            assert g["lr"] == pytest.approx(want, rel=1e-12), e
        opt.step()
        sched.step()
    sched.step(4.5)  # a fractional epoch: T_cur 2.5 in the period of 4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step(1.0)
    assert sched.T_cur == 1.0 and sched.T_i == 2 and sched.last_epoch == 1
    with pytest.raises(ValueError, match="non-negative epoch"):
        sched.step(-1)
