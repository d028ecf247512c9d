"""retrograd.compile: a captured step replays the eager kernels bit for bit, and falls back to
eager mode (or recaptures) wherever the capture would not hold."""

import warnings

import numpy as np
import pytest

import retrograd as torch
from retrograd import nn
from retrograd.nn import functional as F

STEPS = 20


def _data(n, shape, classes, seed=0):
    rng = np.random.default_rng(seed)
    xs = [torch.tensor(rng.standard_normal(shape).astype(np.float32)) for _ in range(n)]
    ys = [torch.tensor(rng.integers(0, classes, shape[0])) for _ in range(n)]
    return xs, ys


def _state(model):
    return [t.detach().numpy().copy() for t in model.state_dict().values()]


def _grads(model):
    return [None if p.grad is None else p.grad.numpy().copy() for p in model.parameters()]


def _run_both(make, step_of, xs, ys, seed=1):
    """Losses, grads and state of every step, eager and compiled, from the same start."""
    runs = []
    for compiled in (False, True):
        parts = make()
        step = step_of(*parts)
        if compiled:
            step = torch.compile(step)
        torch.manual_seed(seed)
        record = []
        for x, y in zip(xs, ys):
            loss = step(x, y)
            record.append((loss.detach().numpy().copy(), _grads(parts[0]), _state(parts[0])))
        runs.append((record, step))
    return runs


def _assert_identical(eager, compiled):
    for (l1, g1, s1), (l2, g2, s2) in zip(eager, compiled):
        assert np.array_equal(l1, l2)
        for a, b in zip(g1 + s1, g2 + s2):
            assert (a is None and b is None) or np.array_equal(a, b)


def _replays(step):
    """How many captures of ``step`` replay (not eager)."""
    return sum(c.eager is None for c in step.cache)


def _train_step(model, opt, sched=None):
    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        return loss

    return step


def test_mlp_sgd_momentum_bit_identical():
    def make():
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 4))
        return model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    xs, ys = _data(STEPS, (8, 12), 4)
    (eager, _), (compiled, step) = _run_both(make, _train_step, xs, ys)
    _assert_identical(eager, compiled)
    assert len(step.cache) == 1 and _replays(step) == 1


def test_cnn_batchnorm_dropout_adamw_scheduler_bit_identical():
    def make():
        torch.manual_seed(0)
        model = nn.Sequential(
            nn.Conv2d(1, 4, 3),
            nn.BatchNorm2d(4),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Dropout(0.3),
            nn.Linear(36, 3),
        )
        opt = torch.optim.AdamW(model.parameters(), lr=0.01)
        return model, opt, torch.optim.lr_scheduler.StepLR(opt, 3, 0.5)

    xs, ys = _data(STEPS, (4, 1, 8, 8), 3)
    (eager, _), (compiled, step) = _run_both(make, _train_step, xs, ys)
    _assert_identical(eager, compiled)  # running stats, dropout masks, scheduled lr
    assert _replays(step) == 1


def test_gradient_accumulation_over_micro_batches():
    def make():
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 2))
        return (model,)

    def step_of(model):
        def step(x, y):
            loss = F.cross_entropy(model(x), y) / 2
            loss.backward()
            return loss

        return step

    xs, ys = _data(8, (4, 6), 2)
    (eager, _), (compiled, step) = _run_both(make, step_of, xs, ys)
    _assert_identical(eager, compiled)  # .grad keeps growing: no zero_grad between calls
    assert _replays(step) >= 1


def test_op_chain_on_a_closure_leaf():
    x = torch.tensor(np.linspace(-1, 1, 16, dtype=np.float32), requires_grad=True)

    def step():
        y = x
        for _ in range(3):
            y = torch.exp(torch.sin(y * 0.9) + 0.1) * 0.5
        y.sum().backward()
        g = x.grad.clone()
        x.grad = None
        return g

    eager = [step() for _ in range(3)]
    f = torch.compile(step)
    got = [f() for _ in range(3)]
    for a, b in zip(eager, got):
        assert np.array_equal(a.numpy(), b.numpy())
    assert x.grad is None and _replays(f) == 1


def test_decorator_and_disable():
    @torch.compile(fullgraph=True)
    def double(t):
        return t * 2

    a = torch.arange(4.0)
    assert np.array_equal(double(a).numpy(), (a * 2).numpy())
    assert np.array_equal(double(a + 1).numpy(), ((a + 1) * 2).numpy())  # fresh input, same capture
    assert len(double.cache) == 1

    def f(t):
        return t

    assert torch.compile(f, disable=True) is f


def test_unsupported_arguments_raise():
    f = lambda t: t  # noqa: E731
    with pytest.raises(NotImplementedError, match="dynamic=True"):
        torch.compile(f, dynamic=True)
    with pytest.raises(RuntimeError, match="Unrecognized mode"):
        torch.compile(f, mode="fastest")
    with pytest.raises(RuntimeError, match="Either mode or options"):
        torch.compile(f, mode="default", options={"a": 1})
    with pytest.raises(NotImplementedError, match="options"):
        torch.compile(f, options={"epilogue_fusion": True})
    with pytest.raises(RuntimeError, match="invalid backend"):
        torch.compile(f, backend="tvm_nonexistent")
    with pytest.raises(NotImplementedError, match="callable"):
        torch.compile(f, backend=lambda gm, inputs: gm)
    for mode in ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs"):
        g = torch.compile(lambda t: t + 1, mode=mode)
        assert g(torch.ones(2)).tolist() == [2.0, 2.0]


def test_unknown_array_fails_closed_instead_of_replaying_a_stale_value():
    scale = {"s": torch.ones(3)}

    def f(t):
        # an array computed by NumPy from the argument, outside any op: never a constant
        doubled = torch.from_numpy(np.asarray(t.detach()._data) * 2)
        return t + doubled * scale["s"]

    c = torch.compile(f)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out1 = c(torch.ones(3))
    assert any("runs eagerly" in str(x.message) for x in w)
    out2 = c(torch.full((3,), 5.0))
    assert out1.tolist() == [3.0] * 3 and out2.tolist() == [15.0] * 3
    assert _replays(c) == 0 and "made outside the recorded ops" in c.reasons[0]
