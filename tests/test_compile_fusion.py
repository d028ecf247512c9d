"""The passes over a compiled schedule (retrograd/_compile/fusion.py): elementwise fusion and
buffer reuse, on hand-built schedules and on captured training steps."""

import sys
import threading

import numpy as np
import pytest

import retrograd as torch
from retrograd import nn
from retrograd.nn import functional as F
from retrograd._compile import fusion, replay
from retrograd._compile.schedule import Const, Entry, Schedule
from retrograd.ops import _inplace, elementwise as ew

NP = Const(np)


def _e(op, ins, out, label=None):
    return Entry(op.forward, (NP, *ins), (out,), label or op.name)


def _run(schedule, *values, engine="numpy", reuse=True, arrays=None):
    """(unfused results, fused results, fused schedule), both replays built as code."""
    fused = fusion.fuse(schedule, fusion.metas(fusion.layouts(arrays)), engine, reuse)
    with np.errstate(all="ignore"):  # as a compiled function's replay runs
        return replay.build(schedule)(*values), replay.build(fused)(*values), fused


def _arrays(schedule, *values):
    """The array of every slot, as a capture knows them (by running the entries once)."""
    slots = set(schedule.inputs)
    for e in schedule.entries:
        slots.update(o for o in e.outputs if o is not None)
    every = tuple(sorted(slots))
    with np.errstate(all="ignore"):
        values = replay.interpret(Schedule(schedule.entries, schedule.inputs, every))(*values)
    out = [None] * (max(slots) + 1)
    for s, v in zip(every, values):
        out[s] = v
    return out


def _chain():
    # v3 = tanh(sin(v0 * 0.5) + v1) ; v4 = v3 * v3 ... a tree over two inputs
    return Schedule(
        [
            _e(ew.MUL_SCALAR, (0, Const(0.5)), 2),
            _e(ew.SIN, (2,), 3),
            _e(ew.ADD, (3, 1), 4),
            _e(ew.TANH, (4,), 5),
        ],
        (0, 1),
        (5,),
    )


def _values(dtype=np.float32, shape=(4, 5), seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype)]


def test_a_chain_fuses_into_one_entry_bit_for_bit():
    s = _chain()
    vals = _values()
    plain, fused_res, fused = _run(s, *vals, arrays=_arrays(s, *vals))
    assert len(fused.entries) == 1 and fused.entries[0].label.startswith("fused[tanh(add(sin(multiply(")
    assert fused_res[0].dtype == np.float32
    assert fused_res[0].tobytes() == plain[0].tobytes()


def test_an_intermediate_that_is_a_result_is_kept():
    s = _chain()
    s = Schedule(s.entries, s.inputs, (3, 5))  # sin's output is handed back too
    vals = _values()
    plain, fused_res, fused = _run(s, *vals, arrays=_arrays(s, *vals))
    assert len(fused.entries) == 2
    assert all(a.tobytes() == b.tobytes() for a, b in zip(plain, fused_res))


def test_an_intermediate_read_twice_is_kept():
    s = _chain()
    entries = [*s.entries, _e(ew.MUL, (4, 5), 6)]  # v4 read by tanh and by this mul
    s = Schedule(entries, s.inputs, (6,))
    vals = _values()
    plain, fused_res, fused = _run(s, *vals, arrays=_arrays(s, *vals))
    assert any(e.outputs == (4,) for e in fused.entries)
    assert plain[0].tobytes() == fused_res[0].tobytes()


def test_no_fusion_across_an_in_place_entry():
    # v2 = -v0 ; v0 += v1 (in place) ; v3 = exp(v2): exp(-v0) must read v0 before the write
    entries = [
        _e(ew.NEG, (0,), 2),
        Entry(_inplace._ufunc_into, (Const(np.add), 0, 1), (), "add_"),
        _e(ew.EXP, (2,), 3),
    ]
    s = Schedule(entries, (0, 1), (3,))
    vals = _values()
    arrays = _arrays(s, *[v.copy() for v in vals])
    plain = replay.build(s)(*[v.copy() for v in vals])
    fused = fusion.fuse(s, fusion.metas(fusion.layouts(arrays)))
    assert [e.label for e in fused.entries][1] == "add_"  # nothing moved across it
    out = replay.build(fused)(*[v.copy() for v in vals])
    assert out[0].tobytes() == plain[0].tobytes() == np.exp(-vals[0]).tobytes()


def test_broadcasting_scalars_and_the_relu_backward_with_infinities():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 1)).astype(np.float64)
    y = rng.standard_normal((1, 7)).astype(np.float64)
    g = rng.standard_normal((6, 7)).astype(np.float64)
    g[0, 0], g[1, 1], g[2, 2] = np.inf, -np.inf, np.nan
    entries = [
        _e(ew.SUB, (0, 1), 3),  # (6, 7) from (6, 1) - (1, 7)
        _e(ew.RELU, (3,), 4),
        _e(ew.THRESHOLD_BACKWARD, (2, 4), 5),
        _e(ew.RSUB_SCALAR, (5, Const(2)), 6),
        _e(ew.SIGMOID, (0,), 7),  # (6, 1)
        _e(ew.DIV, (6, 7), 8),
        _e(ew.POW_SCALAR, (8, Const(3)), 9),
    ]
    s = Schedule(entries, (0, 1, 2), (4, 9))
    plain, fused_res, fused = _run(s, x, y, g, arrays=_arrays(s, x, y, g))
    assert len(fused.entries) < len(entries)
    for a, b in zip(plain, fused_res):
        assert a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("engine", ["numpy", "numexpr"])
def test_relu_backward_into_its_gradient_temporary(engine):
    if engine == "numexpr":
        pytest.importorskip("numexpr")
    rng = np.random.default_rng(2)
    y = np.maximum(rng.standard_normal((5, 6)), 0).astype(np.float32)
    g = rng.standard_normal((5, 6)).astype(np.float32)
    g[0, :3] = [np.inf, -np.inf, np.nan]
    y[0, :3] = [0.0, 1.0, 0.0]
    y[1, :2] = [np.nan, -np.nan]  # as PyTorch's: a NaN output passes its gradient on
    entries = [_e(ew.MUL_SCALAR, (0, Const(2.0)), 2), _e(ew.THRESHOLD_BACKWARD, (2, 1), 3)]
    s = Schedule(entries, (0, 1), (3,))
    plain, fused_res, fused = _run(s, g, y, engine=engine, arrays=_arrays(s, g, y))
    assert len(fused.entries) == 1 and fused_res[0].dtype == np.float32
    if engine == "numpy":
        assert fused_res[0].tobytes() == plain[0].tobytes()
    else:
        np.testing.assert_array_equal(fused_res[0], plain[0])
    np.testing.assert_array_equal(fused_res[0][1, :2], 2 * g[1, :2])


def test_mixed_dtypes_and_non_float_values_are_not_fused():
    x = np.arange(6, dtype=np.int64)
    entries = [_e(ew.MUL_SCALAR, (0, Const(3)), 1), _e(ew.ADD_SCALAR, (1, Const(1)), 2)]
    s = Schedule(entries, (0,), (2,))
    fused = fusion.fuse(s, fusion.metas(fusion.layouts(_arrays(s, x))))
    assert [e.kernel for e in fused.entries] == [e.kernel for e in entries]


def test_entries_of_another_array_module_are_not_fused():
    import types

    fake = types.SimpleNamespace(sin=np.sin, exp=np.exp)  # as CuPy would be passed
    entries = [
        Entry(ew.SIN.forward, (Const(fake), 0), (1,), "sin"),
        Entry(ew.EXP.forward, (Const(fake), 1), (2,), "exp"),
    ]
    s = Schedule(entries, (0,), (2,))
    x = _values()[0]
    fused = fusion.fuse(s, fusion.metas(fusion.layouts(_arrays(s, x))))
    assert [e.label for e in fused.entries] == ["sin", "exp"]


def test_buffers_are_reused_by_liveness_and_never_returned():
    # v(k+1) = v(k) * v(k): each output is read twice, so each entry stays its own (fused)
    # entry; the outputs not handed back live in buffers the replay owns
    entries = [_e(ew.SIN, (0,), 1)]
    for k in range(1, 6):
        entries.append(_e(ew.MUL, (k, k), k + 1))
    s = Schedule(entries, (0,), (6,))
    x = _values(shape=(8, 3))[0]
    arrays = _arrays(s, x)
    fused = fusion.fuse(s, fusion.metas(fusion.layouts(arrays)))
    sources = [e.kernel.__retrograd_source__ for e in fused.entries]
    assert sum("o = _bufs.arrays[_b]" in src for src in sources) == len(entries) - 1  # all but the result
    bufs = {e.kernel.__globals__["_b"] for e in fused.entries if "_b" in e.kernel.__globals__}
    assert bufs == {0, 1}  # two buffers suffice: each value dies once its reader ran
    run = replay.build(fused)
    first = run(x)[0]
    kept = first.copy()
    second = run(x * 2)[0]
    assert first.tobytes() == kept.tobytes() and not np.shares_memory(first, second)
    assert first.tobytes() == replay.build(s)(x)[0].tobytes()


def test_each_thread_replays_into_its_own_buffers():
    entries = [_e(ew.SIN, (0,), 1)] + [_e(ew.MUL, (k, k), k + 1) for k in range(1, 4)]
    s = Schedule(entries, (0,), (4,))
    x = _values(shape=(8, 3))[0]
    fused = fusion.fuse(s, fusion.metas(fusion.layouts(_arrays(s, x))))
    owned = next(e.kernel.__globals__["_bufs"] for e in fused.entries if "_bufs" in e.kernel.__globals__)
    run = replay.build(fused)
    expected = replay.build(s)(x)[0]
    seen = {}

    def worker(name):
        seen[name] = (run(x)[0].tobytes(), list(owned.arrays))  # kept alive: ids stay distinct

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    worker("main")
    assert all(r == expected.tobytes() for r, _ in seen.values())
    ids = [{id(a) for a in arrays} for _, arrays in seen.values()]
    assert not (ids[0] & ids[1]) and not (ids[0] & ids[2]) and not (ids[1] & ids[2])


def test_numexpr_keeps_float32_and_agrees_within_rounding():
    pytest.importorskip("numexpr")
    s = _chain()
    vals = _values(shape=(64, 33))
    plain, fused_res, fused = _run(s, *vals, engine="numexpr", arrays=_arrays(s, *vals))
    assert "numexpr" not in fused.entries[0].kernel.__retrograd_source__  # numexpr's program text
    assert fused_res[0].dtype == np.float32  # its float constants would make float64
    np.testing.assert_allclose(fused_res[0], plain[0], rtol=1e-6, atol=1e-6)


def test_without_numexpr_the_numpy_engine_is_used(monkeypatch):
    monkeypatch.setitem(sys.modules, "numexpr", None)  # import numexpr raises ImportError
    s = _chain()
    vals = _values()
    plain, fused_res, fused = _run(s, *vals, engine="numexpr", arrays=_arrays(s, *vals))
    assert "np.tanh" in fused.entries[0].kernel.__retrograd_source__
    assert fused_res[0].tobytes() == plain[0].tobytes()


# --------------------------------------------------------------------------- captured steps
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln = nn.LayerNorm(16)
        self.fc1 = nn.Linear(16, 32)
        self.fc2 = nn.Linear(32, 16)

    def forward(self, x):
        h = F.gelu(self.fc1(self.ln(x)))
        h = torch.tanh(h) * 0.5 + torch.sigmoid(h) * h
        return x + self.fc2(h).sin() * 0.1


def _train(options, steps=4, dtype=torch.float32):
    torch.manual_seed(0)
    model = nn.Sequential(Block(), Block(), nn.Linear(16, 3)).to(dtype)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    rng = np.random.default_rng(0)
    xs = [torch.tensor(rng.standard_normal((8, 16)), dtype=dtype) for _ in range(steps)]
    ys = [torch.tensor(rng.integers(0, 3, 8)) for _ in range(steps)]

    def step(x, y):
        opt.zero_grad()
        out = model(x)
        loss = F.cross_entropy(out, y) + (out.exp() * 0.01).mean()
        loss.backward()
        opt.step()
        return loss

    if options is not None:
        step = torch.compile(step, options=options)
    losses = [step(x, y).item() for x, y in zip(xs, ys)]
    return losses, [p.detach().numpy().copy() for p in model.parameters()], step


def test_captured_step_fused_matches_eager_bit_for_bit():
    eager, params, _ = _train(None)
    fused, fparams, step = _train({})
    plain, pparams, pstep = _train({"fusion": False})
    assert eager == fused == plain
    for a, b, c in zip(params, fparams, pparams):
        assert a.tobytes() == b.tobytes() == c.tobytes()
    replayed = step.cache[0].replay.schedule
    assert step.cache[0].eager is None and any(e.label.startswith("fused[") for e in replayed.entries)
    assert len(replayed.entries) < len(pstep.cache[0].replay.schedule.entries)


def test_captured_step_numexpr_within_rounding():
    pytest.importorskip("numexpr")
    eager, params, _ = _train(None, dtype=torch.float64)
    fused, fparams, step = _train({"fusion_engine": "numexpr"}, dtype=torch.float64)
    assert step.cache[0].eager is None
    np.testing.assert_allclose(fused, eager, rtol=1e-10)
    for a, b in zip(params, fparams):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12 * np.abs(a).max())


def test_outputs_of_a_compiled_function_are_fresh_at_every_call():
    def f(x):
        y = (x * 2).sin()
        z = (y + 1).exp() * 0.5
        return z.tanh() - y, y

    cf = torch.compile(f)
    xs = [torch.tensor(np.random.default_rng(i).standard_normal((5, 4)).astype(np.float32)) for i in range(4)]
    outs = [cf(x) for x in xs]
    for x, (a, b) in zip(xs, outs):
        ea, eb = f(x)
        assert a.dtype == torch.float32 and a.numpy().tobytes() == ea.numpy().tobytes()
        assert b.numpy().tobytes() == eb.numpy().tobytes()
    assert not np.shares_memory(outs[-1][0].numpy(), outs[-2][0].numpy())


def test_options_are_checked_and_the_schedule_can_be_printed(capsys):
    f = lambda x: (x * 3).exp().sin()  # noqa: E731
    with pytest.raises(NotImplementedError, match="options"):
        torch.compile(f, options={"max_autotune": True})
    with pytest.raises(RuntimeError, match="fusion_engine"):
        torch.compile(f, options={"fusion_engine": "cuda"})
    with pytest.raises(RuntimeError, match="True or False"):
        torch.compile(f, options={"fusion": 1})
    cf = torch.compile(f, options={"print_schedule": True})
    x = torch.ones(3)
    cf(x)  # captures: the passes run at the first replay
    assert "fused[" not in capsys.readouterr().out
    cf(x)
    assert "fused[sin(exp(multiply(" in capsys.readouterr().out
    assert cf(x).numpy().tobytes() == f(x).numpy().tobytes()


def test_compiled_module_backward_is_fused_and_matches_eager():
    def make():
        torch.manual_seed(3)
        return nn.Sequential(Block(), nn.Linear(16, 2))

    eager, compiled = make(), make()
    cmod = torch.compile(compiled)
    rng = np.random.default_rng(5)
    for _ in range(3):
        x = torch.tensor(rng.standard_normal((6, 16)).astype(np.float32))
        grads = []
        for m in (eager, cmod):
            for p in m.parameters():
                p.grad = None
            (m(x).tanh() * 3).sum().backward()
            grads.append([p.grad.numpy().tobytes() for p in m.parameters()])
        assert grads[0] == grads[1]
    plan = cmod._compiled.cache[0].backward
    assert any(e.label.startswith("fused[") for e in plan.replay.schedule.entries)


def test_compiled_step_peak_memory_is_at_most_eager():
    import tracemalloc

    w = torch.randn(256, 64, requires_grad=True)

    def step(x):
        h = (x * 0.5).sin() * w + 1
        loss = (h.tanh() * h.sigmoid() - 0.25).exp().mean()
        loss.backward()
        return loss.detach()

    def peak(f, x):
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        f(x)
        top = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
        return top

    x = torch.randn(256, 64)
    cf = torch.compile(step)
    for _ in range(3):
        cf(x)
        w.grad = None
    owned = {
        id(a): a.nbytes
        for e in cf.cache[0].replay.schedule.entries
        if "_bufs" in getattr(e.kernel, "__globals__", {})
        for a in e.kernel.__globals__["_bufs"].arrays
    }
    eager = peak(step, x)
    w.grad = None
    compiled = peak(cf, x) + sum(owned.values())
    assert compiled <= eager, (compiled, eager)
