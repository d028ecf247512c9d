"""retrograd.compile: a captured step replays the eager kernels bit for bit, and falls back to
eager mode (or recaptures) wherever the capture would not hold."""

import warnings
import weakref

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
    with pytest.raises(RuntimeError, match="dynamic must be"):
        torch.compile(f, dynamic="batch")
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


# --------------------------------------------------------------------------- compile(module)
def _mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(10, 12), nn.ReLU(), nn.Linear(12, 3))


def test_compiled_module_trains_bit_identically_with_backward_outside():
    xs, ys = _data(6, (5, 10), 3)
    runs = []
    for compiled in (False, True):
        model = _mlp()
        m = torch.compile(model) if compiled else model
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        record = []
        for x, y in zip(xs, ys):
            opt.zero_grad()
            loss = F.cross_entropy(m(x), y)
            loss.backward()
            record.append((loss.detach().numpy().copy(), _grads(model), _state(model)))
            opt.step()
        runs.append(record)
    _assert_identical(*runs)
    assert _replays(m._compiled) == 1
    assert m(xs[0]).grad_fn.name() == "CompiledFunctionBackward"


def test_compiled_module_input_gradient_and_leaf_hooks():
    model = _mlp()
    m = torch.compile(model)
    seen = []
    model[0].weight.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.sum().item()))
    grads = []
    for _ in range(3):
        x = torch.ones(2, 10, requires_grad=True)
        m(x).sum().backward()
        grads.append(x.grad.numpy().copy())
    x = torch.ones(2, 10, requires_grad=True)
    model(x).sum().backward()
    assert all(np.array_equal(g, x.grad.numpy()) for g in grads)
    assert len(seen) == 4  # the hook ran at every backward, compiled or not


def test_compiled_module_state_dict_round_trip():
    model = _mlp()
    m = torch.compile(model)
    keys = list(m.state_dict())
    assert keys == ["_orig_mod." + k for k in model.state_dict()]
    other = torch.compile(_mlp())
    other.load_state_dict(m.state_dict())
    x = torch.ones(4, 10)
    assert np.array_equal(other(x).detach().numpy(), model(x).detach().numpy())
    assert m.training and m._orig_mod is model and getattr(m, "0") is model[0]  # read from the original
    m.eval()
    assert not model.training


def test_second_backward_without_retain_graph_raises_as_eager():
    m = torch.compile(_mlp())
    x = torch.ones(2, 10)
    m(x)  # capture
    out = m(x).sum()
    out.backward(retain_graph=True)
    out.backward()  # retained: works
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        out.backward()
    with pytest.raises(NotImplementedError, match="create_graph"):
        m(x).sum().backward(create_graph=True)


def test_no_grad_and_inference_mode_calls():
    model = _mlp()
    m = torch.compile(model)
    x = torch.ones(3, 10)
    with torch.no_grad():
        a = m(x)
        b = m(x)
    assert not a.requires_grad and not b.requires_grad
    with torch.inference_mode():
        c = m(x)
    d = m(x)
    assert d.requires_grad
    for t in (a, b, c):
        assert np.array_equal(t.numpy(), d.detach().numpy())
    assert len(m._compiled.cache) == 3  # no_grad, inference mode and grad mode: one capture each


# --------------------------------------------------------------------------- guards
def test_each_guard_recaptures():
    model = _mlp()
    f = torch.compile(lambda x, s=1.0: model(x) * s, dynamic=False)  # a new batch size: a new capture
    x = torch.ones(2, 10)
    f(x)
    f(x)
    assert len(f.cache) == 1
    f(torch.ones(3, 10))  # shape
    f(torch.ones(2, 10, dtype=torch.float64).float().t().contiguous().t())  # strides
    f(x, 2.0)  # a Python scalar, by value
    model.eval()  # a training flag
    f(x)
    model.train()
    f(x)
    assert len(f.cache) == 5
    model[0].weight = nn.Parameter(torch.zeros(12, 10))  # a replaced parameter
    out = f(x)
    assert len(f.cache) == 6
    assert np.array_equal(out.detach().numpy(), model(x).detach().numpy())
    assert "changed" in f.recompiles[-1]


def test_hook_added_after_capture_recaptures_and_runs():
    model = _mlp()
    m = torch.compile(model)
    x = torch.ones(2, 10)
    m(x)
    m(x)
    calls = []
    h = model[1].register_forward_hook(lambda mod, inp, out: calls.append(1) or out * 2)
    with pytest.warns(UserWarning, match="side effect"):
        out = m(x)  # the hook's Python side effect: this guard state runs eagerly, at every call
    assert calls == [1] and len(m._compiled.cache) == 2
    assert np.array_equal(out.detach().numpy(), model(x).detach().numpy())
    m(x)
    assert calls == [1, 1, 1]
    h.remove()
    m(x)
    assert len(m._compiled.cache) == 2  # back to the first capture


def test_recompile_limit_warns_once_and_runs_eagerly():
    f = torch.compile(lambda x: x + 1, dynamic=False)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        for n in range(1, 12):
            assert f(torch.zeros(n)).tolist() == [1.0] * n
    assert len(f.cache) == torch._dynamo.config.cache_size_limit
    assert sum("cache_size_limit" in str(x.message) for x in w) == 1


# --------------------------------------------------------------------------- graph breaks
@pytest.mark.parametrize(
    "brk",
    [lambda t: t.tolist(), lambda t: bool(t.sum()), lambda t: print(t), lambda t: t.detach().numpy(), float],
)
def test_fullgraph_raises_at_the_break(brk, capsys):
    def f(x):
        y = x + 1
        brk(y.sum())
        return y

    with pytest.raises(torch._dynamo.exc.Unsupported, match=r"test_compile.py:\d+"):
        torch.compile(f, fullgraph=True)(torch.ones(2))
    assert issubclass(torch._dynamo.exc.Unsupported, RuntimeError)


def test_compiler_disable_and_reset():
    @torch.compiler.disable
    def helper(t):
        assert not torch.compiler.is_compiling()
        return t * 3

    seen = []

    def f(x):
        seen.append(torch.compiler.is_compiling())
        return helper(x) + 1

    c = torch.compile(f)
    assert c(torch.ones(2)).tolist() == [4.0, 4.0]
    assert seen == [True] and c.breaks
    torch.compiler.reset()
    assert c.cache == []


def test_random_draws_from_a_generator_of_their_own_run_eagerly():
    g = torch.Generator()

    def f(x):
        return x + torch.rand(3, generator=g)

    c = torch.compile(f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g.manual_seed(0)
        a = [c(torch.zeros(3)) for _ in range(3)]
    g.manual_seed(0)
    b = [f(torch.zeros(3)) for _ in range(3)]
    for u, v in zip(a, b):
        assert np.array_equal(u.numpy(), v.numpy())
    assert _replays(c) == 0 and "random draw" in c.reasons[0]


def test_backward_hook_on_an_intermediate_runs_eagerly():
    w = torch.ones(3, requires_grad=True)
    calls = []

    def f(x):
        y = x * w
        y.register_hook(lambda g: calls.append(1) or g * 2)
        y.sum().backward()
        g = w.grad.clone()
        w.grad = None
        return g

    c = torch.compile(f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outs = [c(torch.full((3,), 2.0)) for _ in range(3)]
    assert calls == [1, 1, 1] and all(o.tolist() == [4.0] * 3 for o in outs)
    assert _replays(c) == 0


def test_first_replay_is_checked_against_eager_mode():
    class Settings:
        scale = 1.0

    settings = Settings()
    ref = weakref.ref(settings)  # reached through a call's result: a value no guard sees

    def f(x):
        return x * ref().scale

    c = torch.compile(f)
    x = torch.ones(2)
    assert c(x).tolist() == [1.0, 1.0]
    settings.scale = 2.0
    with pytest.warns(UserWarning, match="did not match eager mode"):
        assert c(x).tolist() == [2.0, 2.0]  # the check runs eagerly and sees the difference
    settings.scale = 3.0
    assert c(x).tolist() == [3.0, 3.0] and _replays(c) == 0


def test_module_compile_in_place_and_compiled_optimizer_step():
    model = _mlp()
    ref = _mlp()
    model.compile()
    assert list(model.state_dict()) == list(ref.state_dict())
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    step = torch.compile(opt.step)
    x = torch.ones(3, 10)
    for _ in range(4):
        for m, o in ((model, step), (ref, ref_opt.step)):
            m.zero_grad()
            m(x).square().sum().backward()
            o()
    for a, b in zip(model.parameters(), ref.parameters()):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())
    assert _replays(model.forward) == 1 and _replays(step) == 1


def test_fullgraph_raises_when_the_capture_fails_closed():
    g = torch.Generator()

    def f(t):
        return t + torch.rand(2, generator=g)

    with pytest.raises(torch._dynamo.exc.Unsupported, match="random draw"):
        torch.compile(f, fullgraph=True)(torch.ones(2))


def test_compiled_cnn_module_with_batchnorm_and_dropout_backward_outside():
    def make():
        torch.manual_seed(0)
        return nn.Sequential(
            nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Dropout(0.4), nn.Linear(27, 2)
        )

    xs, ys = _data(5, (4, 1, 5, 5), 2)
    runs = []
    for compiled in (False, True):
        model = make()
        m = torch.compile(model) if compiled else model
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
        torch.manual_seed(3)
        record = []
        for x, y in zip(xs, ys):
            opt.zero_grad()
            loss = F.cross_entropy(m(x), y)
            loss.backward()
            opt.step()
            record.append((loss.detach().numpy().copy(), _grads(model), _state(model)))
        runs.append(record)
    _assert_identical(*runs)
    assert _replays(m._compiled) == 1


def test_first_replay_check_covers_the_recorded_backward():
    from retrograd._compile import replay

    model = _mlp()
    m = torch.compile(model)
    x = torch.ones(2, 10)
    m(x)  # capture
    plan = m._compiled.cache[0].backward
    entry = plan.schedule.entries[-1]
    kernel = entry.kernel
    entry.kernel = lambda *a: tuple(None if r is None else r * 0 for r in kernel(*a))  # a wrong backward
    plan.replay = replay.Replay(plan.schedule)
    with pytest.warns(UserWarning, match="did not match eager mode"):
        out = m(x)
    out.sum().backward()  # eager mode's graph: right gradients
    ref = _mlp()
    ref(x).sum().backward()
    assert np.array_equal(model[0].weight.grad.numpy(), ref[0].weight.grad.numpy())
    assert _replays(m._compiled) == 0


def test_train_step_with_gradient_clipping_and_zeroed_gradients():
    def make():
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(12, 16), nn.GELU(), nn.LayerNorm(16), nn.Linear(16, 4))
        return model, torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=0.01)

    def step_of(model, opt):
        def step(x, y):
            opt.zero_grad(set_to_none=False)
            loss = F.cross_entropy(model(x), y, label_smoothing=0.1)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            opt.step()
            return loss

        return step

    xs, ys = _data(8, (8, 12), 4)
    (eager, _), (compiled, step) = _run_both(make, step_of, xs, ys)
    _assert_identical(eager, compiled)
    assert _replays(step) >= 1


def test_log_softmax_nll_loss_with_class_weights_and_adadelta():
    def make():
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Dropout(0.25), nn.Linear(8, 3), nn.LogSoftmax(1))
        return model, torch.optim.Adadelta(model.parameters())

    weight = torch.tensor([1.0, 2.0, 0.5])

    def step_of(model, opt):
        def step(x, y):
            opt.zero_grad()
            loss = F.nll_loss(model(x), y, weight=weight, ignore_index=2)
            loss.backward()
            opt.step()
            return loss

        return step

    xs, ys = _data(8, (6, 6), 3)
    (eager, _), (compiled, step) = _run_both(make, step_of, xs, ys)
    _assert_identical(eager, compiled)  # the targets' weights are recomputed from each batch
    assert _replays(step) == 1


def test_compiled_function_gradients_for_inputs_and_closure_weights():
    w = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)

    @torch.compile
    def f(x, y):
        return (x * w).sin() + y.exp()

    for k in range(3):
        x = torch.tensor([1.0, 2.0, 3.0]) * (k + 1)
        x.requires_grad_(True)
        y = torch.zeros(3, requires_grad=True)
        w.grad = None
        f(x, y).sum().backward()
        gx, gy, gw = x.grad.numpy().copy(), y.grad.numpy().copy(), w.grad.numpy().copy()
        x2, y2 = x.detach().requires_grad_(True), y.detach().requires_grad_(True)
        w.grad = None
        ((x2 * w).sin() + y2.exp()).sum().backward()
        assert np.array_equal(gx, x2.grad.numpy()) and np.array_equal(gy, y2.grad.numpy())
        assert np.array_equal(gw, w.grad.numpy())
    assert _replays(f) == 1


SCALE = 2.0


def test_a_changed_python_value_the_function_reads_recaptures_instead_of_replaying_it_stale():
    global SCALE
    SCALE = 2.0

    def make(shift):
        def f(x):
            return x * SCALE + shift

        return f

    x = torch.arange(3.0)
    f = torch.compile(make(1.0))
    for _ in range(3):
        f(x)
    SCALE = 5.0  # a global the code names
    assert f(x).tolist() == [1.0, 6.0, 11.0]
    assert "global 'SCALE'" in f.recompiles[-1]

    def with_setter():
        k = 1.0

        def h(x):
            return x * k

        def set_k(v):
            nonlocal k
            k = v

        return h, set_k

    h, set_k = with_setter()
    h = torch.compile(h)
    for _ in range(3):
        h(x)
    set_k(4.0)  # a closure variable
    assert h(x).tolist() == [0.0, 4.0, 8.0]
    assert "closure variable" in h.recompiles[-1]

    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 3)
            self.scale = 1.0

        def forward(self, x):
            return self.lin(x) * self.scale

    m = Scaled()
    cm = torch.compile(m)
    for _ in range(3):
        cm(x)
    m.scale = 3.0  # a module attribute
    np.testing.assert_array_equal(cm(x).detach().numpy(), m(x).detach().numpy())
    assert "attribute 'scale'" in cm._compiled.recompiles[-1]


def test_a_python_side_effect_on_a_list_runs_the_function_eagerly():
    history = []
    model = _mlp()

    def step(x):
        out = model(x)
        history.append(out.detach())  # a replay would not append
        return out

    f = torch.compile(step)
    x = torch.ones(2, 10)
    with pytest.warns(UserWarning, match="side effect"):
        for _ in range(4):
            f(x)
    assert len(history) == 4
    assert "closure variable" in f.reasons[-1]


def test_scalar_output_with_backward_outside_is_checked_and_replays():
    # the check seeds the backward with ones shaped as the output: a 0-d array, not a NumPy scalar
    f = torch.compile(lambda x: (x * x).sum())
    for _ in range(3):
        x = torch.arange(6.0).reshape(3, 2).requires_grad_()
        f(x).backward()
        assert np.array_equal(x.grad.numpy(), 2 * x.detach().numpy())
    assert _replays(f) == 1 and f.reasons == []


def test_the_same_tensor_passed_twice_is_guarded():
    def f(x, y):
        return x * 2 + y.detach()

    c = torch.compile(f)
    a = torch.ones(3)
    for y in (a, a, torch.zeros(3), torch.zeros(3), a.detach(), a):
        assert c(a, y).tolist() == f(a, y).tolist()
    assert len(c.cache) == 2 and "alias" in c.recompiles[0]


def test_a_compiled_module_saves_and_loads_as_a_compiled_module(tmp_path):
    """torch.save(compile(model)) pickles the original module and the compile settings, as
    PyTorch does: the loaded object is an OptimizedModule over the loaded module."""
    torch.manual_seed(0)
    model = torch.compile(nn.Sequential(nn.Linear(3, 4), nn.Tanh()), dynamic=False)
    x = torch.randn(2, 3)
    want = model(x)
    torch.save(model, tmp_path / "m.pt")
    loaded = torch.load(tmp_path / "m.pt", weights_only=False)
    assert type(loaded) is type(model) and loaded._compiled.dynamic is False
    assert loaded._orig_mod is not model._orig_mod and loaded._compiled.cache == []
    for _ in range(3):
        assert np.array_equal(loaded(x).detach().numpy(), want.detach().numpy())
    assert _replays(loaded._compiled) == 1
    assert list(loaded.state_dict()) == list(model.state_dict())


@pytest.mark.parametrize("set_to_none", [True, False])
@pytest.mark.parametrize("verify", [True, False])
def test_module_zero_grad_in_a_step_is_replayed(set_to_none, verify, monkeypatch):
    """model.zero_grad() reads which gradients exist (None before the first backward): it runs
    again at each replay, as Optimizer.zero_grad does, instead of repeating what it did (nothing)
    at the capture, which left later replays accumulating into the last step's gradients."""
    monkeypatch.setattr(torch._dynamo.config, "verify", verify)

    def train(compiled):
        torch.manual_seed(0)
        model = nn.Linear(4, 2)

        def step(x):
            model.zero_grad(set_to_none=set_to_none)
            loss = model(x).pow(2).mean()
            loss.backward()
            with torch.no_grad():
                for p in model.parameters():
                    p.add_(p.grad, alpha=-0.1)
            return loss

        run = torch.compile(step) if compiled else step
        rng = np.random.default_rng(0)
        losses = [run(torch.tensor(rng.standard_normal((3, 4)), dtype=torch.float32)) for _ in range(4)]
        return losses, [p.grad.clone() for p in model.parameters()], run

    eager, eager_grads, _ = train(False)
    got, grads, run = train(True)
    assert all(torch.equal(a, b) for a, b in zip(got, eager))
    assert all(torch.equal(a, b) for a, b in zip(grads, eager_grads))
    # two captures: the update reads p.grad, whose presence (none at the first call) is guarded
    assert _replays(run) == 2, run.reasons


def test_module_zero_grad_before_a_graph_break_is_put_back_when_the_replay_stops():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)

    def step(x):
        model.zero_grad()
        out = model(x).sum()
        if out > 0:  # a graph break: a replay that finds the other sign stops here
            out.backward()
        return out

    c = torch.compile(step)
    for sign in (1.0, 1.0, -1.0, 1.0, -1.0):
        model.weight.grad = torch.ones(1, 3)
        x = torch.full((2, 3), sign) * model.weight.detach().sign()
        got = c(x)
        got_grad = None if model.weight.grad is None else model.weight.grad.clone()
        model.weight.grad = torch.ones(1, 3)
        want = step(x)
        assert torch.equal(got, want)
        want_grad = model.weight.grad
        assert (got_grad is None and want_grad is None) or torch.equal(got_grad, want_grad)
    assert _replays(c) == 2, c.reasons


@pytest.mark.parametrize("verify", [True, False])
def test_a_branch_on_whether_a_gradient_exists_is_guarded(verify, monkeypatch):
    """``if p.grad is not None: p.grad.zero_()`` does nothing at a first call (no gradient
    yet): the presence of each gradient the function reads is guarded as it was at the start,
    so the next call, with gradients, captures again instead of replaying the nothing."""
    monkeypatch.setattr(torch._dynamo.config, "verify", verify)

    def run(compiled):
        torch.manual_seed(0)
        model = nn.Linear(3, 2)

        def step(x):
            for p in model.parameters():
                if p.grad is not None:
                    p.grad.zero_()
            model(x).pow(2).sum().backward()
            return model.weight.grad.clone()

        fn = torch.compile(step) if compiled else step
        rng = np.random.default_rng(0)
        return [fn(torch.tensor(rng.standard_normal((4, 3)), dtype=torch.float32)) for _ in range(5)], fn

    want, _ = run(False)
    got, fn = run(True)
    assert all(torch.equal(a, b) for a, b in zip(got, want))
    assert len(fn.cache) == 2 and _replays(fn) == 2, fn.reasons
    assert "presence" in fn.recompiles[0]


def test_allow_in_graph_returns_the_function_and_its_calls_are_captured():
    def scale(t):
        return t * 2

    assert torch.compiler.allow_in_graph(scale) is scale
    assert torch._dynamo.allow_in_graph((scale, abs)) == [scale, abs]
    with pytest.raises(AssertionError, match="expects a callable"):
        torch.compiler.allow_in_graph(3)
    c = torch.compile(lambda x: scale(x) + 1)
    assert c(torch.ones(2)).tolist() == [3.0, 3.0] and not c.breaks
