"""retrograd.compile at graph breaks: a value Python reads from a tensor (``.item()``,
``bool(t)``, ``.tolist()``, ``int(t)``) splits the capture; the replay checks the value at the
break and goes on while it is the recorded one, and otherwise falls back (a capture for the
other path) without repeating an effect; prints, log records and breaks after effects run
eagerly."""

import warnings

import numpy as np
import pytest

import retrograd as torch
from retrograd import nn
from retrograd.nn import functional as F


def _replays(step):
    """How many calls the captures of ``step`` replayed (verification replays included)."""
    return sum(c.replay.calls for c in step.cache if c.eager is None)


def _same(a, b):
    return a.numpy().tobytes() == b.numpy().tobytes() and a.shape == b.shape


def test_a_branch_on_a_tensor_replays_each_path_and_picks_the_one_the_value_takes():
    def f(x):
        y = x * 2
        if y.sum() > 0:  # bool(tensor): a graph break
            return y + 1
        return (y - 1).exp()

    c = torch.compile(f)
    signs = [1, 1, -1, 1, -1, -1, 1, -1, 1, 1]
    for s in signs:
        x = torch.arange(3.0) * s + 0.5 * s
        assert _same(c(x), f(x))
    assert len(c.cache) == 2 and all(k.eager is None for k in c.cache)
    assert [k.splits[0][2] for k in c.cache] == [True, False]
    assert _replays(c) >= len(signs) - 2  # every call but the two captures replays a path
    assert "bool(tensor)" in c.recompiles[0] and "changed (True, now False)" in c.recompiles[0]


def test_explain_reports_the_pieces_and_the_breaks():
    def f(x):
        y = x.sin() * 2
        n = int(y.abs().sum() > 1)  # a break: the value picks the slice below
        return y[n:].exp()

    e = torch._dynamo.explain(f)(torch.ones(4))
    assert e.graph_count == 2 and e.graph_break_count == 1
    assert e.ops_per_graph[0] == ["sin", "mul", "abs", "sum", "greater"]
    assert e.op_count == sum(map(len, e.ops_per_graph)) and e.eager_reason is None
    assert "float()/int()" in e.break_reasons[0].reason
    assert "test_compile_breaks.py" in e.break_reasons[0].user_stack[0]
    assert "Ops per Graph:" in str(e) and "Graph Count: 2" in str(e)
    first = e.graphs[0]
    assert first.results and set(first.results) <= {s for g in e.graphs[1:] for s in g.inputs} | set(
        s for entry in first.entries for s in entry.outputs
    )
    e2 = torch._dynamo.explain(lambda x: x.sin() * 2)(torch.ones(3))
    assert e2.graph_count == 1 and e2.graph_break_count == 0 and e2.op_count == 2


def test_a_value_used_as_a_size_replays_while_it_holds_and_recaptures_when_it_changes():
    def f(x, lengths):
        n = int(lengths.max())  # a break whose value becomes a constant of the kernels after it
        return x[:, :n].sum(1) * 2

    c = torch.compile(f)
    x = torch.arange(24.0).reshape(4, 6)
    for lens in ([3, 2, 1, 3], [1, 3, 2, 2], [5, 1, 1, 1], [2, 3, 1, 1]):
        lengths = torch.tensor(lens)
        assert _same(c(x, lengths), f(x, lengths))
    # n = 3 captured, replayed, stopped at the break (n = 5: captured), replayed
    assert len(c.cache) == 2 and _replays(c) == 3


def test_tolist_and_item_values_are_current_in_the_outputs():
    def f(x):
        idx = (x > 0).tolist()  # a break
        return x * 3, idx

    c = torch.compile(f)
    a, b = torch.tensor([1.0, -2.0, 3.0]), torch.tensor([-1.0, 2.0, 3.0])
    for x in (a, a, b, a, b):
        out, idx = c(x)
        ref, ref_idx = f(x)
        assert idx == ref_idx and _same(out, ref)
    # calls 2 and 4 replay a; 3 and 5 stop at a's check, 5 then replays b (3 captured it)
    assert len(c.cache) == 2 and _replays(c) == 5


def test_a_value_that_changes_every_call_ends_up_eager_and_stays_correct():
    def f(x):
        scale = x.mean().item()  # data, not a decision: a new value at each call
        return x / scale

    c = torch.compile(f)
    for i in range(8):
        x = torch.arange(1.0, 5.0) + i
        assert _same(c(x), f(x))
    assert c.cache[-1].eager is not None and "changed at each call" in c.cache[-1].eager
    assert len(c.cache) <= 4


def _nan_guarded_step(model, opt):
    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        if torch.isnan(loss):  # a break before any effect: split there
            return None
        loss.backward()
        opt.step()
        return loss

    return step


def test_a_nan_check_before_the_update_replays_and_a_nan_step_updates_nothing():
    rng = np.random.default_rng(0)
    xs = [torch.tensor(rng.standard_normal((4, 3)).astype(np.float32)) for _ in range(8)]
    ys = [torch.tensor(rng.standard_normal((4, 2)).astype(np.float32)) for _ in range(8)]
    xs[3] = xs[3].clone()
    xs[3][0, 0] = float("nan")
    xs[6] = xs[3]
    runs = []
    for compiled in (False, True):
        torch.manual_seed(0)
        model = nn.Linear(3, 2)
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        step = _nan_guarded_step(model, opt)
        if compiled:
            step = torch.compile(step)
        losses = []
        for x, y in zip(xs, ys):
            loss = step(x, y)
            losses.append(None if loss is None else loss.detach().numpy().tobytes())
        runs.append((losses, [p.detach().numpy().tobytes() for p in model.parameters()], step))
    (l1, p1, _), (l2, p2, step) = runs
    assert l1 == l2 and p1 == p2 and l2[3] is None and l2[6] is None
    assert len(step.cache) == 2 and all(k.eager is None for k in step.cache)
    # every call but the first replays the finite path; the two NaN calls stop at its check, the
    # first captures the NaN path, the second replays it
    assert _replays(step) == len(xs)
    assert step.cache[1].replay.calls == 1


def test_a_break_after_an_effect_runs_eagerly_and_says_why():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = model(x).square().mean()
        loss.backward()
        opt.step()
        if loss > 100:  # after the update: a replay could not take it back
            return None
        return loss

    e = torch._dynamo.explain(step)(torch.ones(2, 3))
    assert e.graph_count == 0 and e.graph_break_count == 1
    assert "after a gradient accumulation" in e.eager_reason and "take back" in e.eager_reason
    x = torch.ones(2, 3)

    def in_place(t):
        t.mul_(2)  # a write into the argument before the break
        return t * 3 if t.sum() > 0 else t

    e = torch._dynamo.explain(in_place)(x)
    assert e.graph_count == 0 and "in-place write (mul_)" in e.eager_reason

    def on_a_fresh_array(t):
        u = t * 1
        u.mul_(2)  # a write into an array the call made: taken back by just not using it
        return u * 3 if u.sum() > 0 else u

    assert torch._dynamo.explain(on_a_fresh_array)(x).graph_count == 2


def test_dropout_draws_before_a_break_are_put_back_when_the_replay_stops():
    def f(x):
        y = F.dropout(x, 0.5, training=True)
        return y * 2 if x.sum() > 0 else y

    e = torch._dynamo.explain(f)(torch.ones(8))
    assert e.graph_count == 2 and e.eager_reason is None
    signs = [1, 1, -1, 1, -1, -1, 1]
    runs = []
    for fn in (f, torch.compile(f)):
        torch.manual_seed(0)
        outs = [fn(torch.full((8,), float(s))).numpy().tobytes() for s in signs]
        runs.append((outs, torch.get_rng_state().numpy().tobytes()))
    assert runs[0] == runs[1]  # each stopped replay's draw was taken back before eager mode drew


def test_print_inside_a_compiled_function_prints_at_every_call(capsys):
    def f(x):
        y = x * 2
        print("step")  # no tensor: not a graph break, still an effect a replay would skip
        return y

    c = torch.compile(f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(4):
            c(torch.ones(2))
    assert capsys.readouterr().out == "step\n" * 4
    assert "printed to sys.stdout" in c.cache[0].eager

    def g(x):
        loss = (x * 2).sum()
        if loss > 0:  # a split break, then a print of the current value
            print(f"loss {loss.item():.1f}")
        return loss

    c = torch.compile(g)
    for v in (1.0, 2.0, 3.0):
        c(torch.full((2,), v))
    assert capsys.readouterr().out == "loss 4.0\nloss 8.0\nloss 12.0\n"


def test_compiled_module_with_a_branch_in_forward_trains_as_eager():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)

        def forward(self, x):
            h = self.fc(x)
            if h.abs().max() > 2:  # rescale large activations
                h = h / 2
            return h.tanh()

    def run(compiled):
        torch.manual_seed(0)
        net = Net()
        m = torch.compile(net) if compiled else net
        opt = torch.optim.SGD(net.parameters(), lr=0.05)
        rng = np.random.default_rng(1)
        out = []
        for i in range(6):
            x = torch.tensor((rng.standard_normal((5, 4)) * (10 if i % 2 else 0.01)).astype(np.float32))
            opt.zero_grad()
            loss = m(x).square().sum()
            loss.backward()
            opt.step()
            out.append(loss.detach().numpy().tobytes())
        return out, [p.detach().numpy().tobytes() for p in net.parameters()], m

    (l1, p1, _), (l2, p2, m) = run(False), run(True)
    assert l1 == l2 and p1 == p2
    captures = m._compiled.cache
    assert len(captures) == 2 and all(c.eager is None and c.backward is not None for c in captures)


def test_fullgraph_still_raises_at_a_splittable_break():
    def f(x):
        return x * 2 if x.sum() > 0 else x

    with pytest.raises(torch._dynamo.exc.Unsupported, match=r"bool\(tensor\) at .*test_compile_breaks.py:\d+"):
        torch.compile(f, fullgraph=True)(torch.ones(2))


@pytest.mark.parametrize(
    "check",
    [
        lambda y: torch.isnan(y).any(),
        lambda y: torch.isfinite(y).all(dim=0).all(),
        lambda y: torch.isinf(y).any(1, keepdim=True).any(),
        lambda y: torch.isposinf(y).any() | torch.isneginf(y).any(),
    ],
)
def test_nan_and_inf_tests_and_any_all_are_recorded_so_a_check_on_them_replays(check):
    def f(x):
        y = x.exp() - 1
        return y * 2 if check(y) else y

    c = torch.compile(f)
    finite, bad = torch.ones(2, 3), torch.tensor([[1.0, float("nan"), 1e30], [1.0, 2.0, 3.0]])
    for x in (finite, finite, bad, finite, bad):
        assert _same(c(x), f(x))
    assert len(c.cache) == 2 and all(k.eager is None for k in c.cache)


def test_python_values_read_by_library_functions_are_breaks_not_stale_replays():
    a = torch.ones(3)
    cases = [
        lambda x, y: x * 0 if torch.allclose(x, y) else x + y,
        lambda x, y: x * 2 if torch.equal(x, y) else x,
        lambda x, y: x * 2 if torch.is_nonzero((x - y).sum()) else x,
        lambda x, y: x * 2 if torch.logical_and(x > 0, y > 0).logical_not().any() else x,
        lambda x, y: x * 2 if ((x > 0) & (y > 0)).all() else x,
    ]
    for f in cases:
        c = torch.compile(f)
        for y in (torch.ones(3), torch.ones(3), torch.zeros(3), torch.zeros(3), torch.ones(3)):
            assert _same(c(a, y), f(a, y))
        assert len(c.cache) == 2 and all(k.eager is None for k in c.cache)


def test_apply_and_map_run_the_function_eagerly():
    def f(x):
        return x.clone().apply_(lambda v: v * 2) + 1

    c = torch.compile(f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for v in (1.0, 2.0, 3.0):
            assert c(torch.full((2,), v)).tolist() == [2 * v + 1] * 2
    assert "apply_" in c.cache[0].eager


def test_gradients_unbound_before_a_break_are_put_back_when_the_replay_stops():
    w = torch.ones(3, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.1)

    def f(x):
        g = w.grad * 1  # reads the gradient that zero_grad drops next
        opt.zero_grad()
        y = x * g
        if y.sum() > 0:
            return y
        return -y

    c = torch.compile(f)
    for v in (1.0, 2.0, -1.0, 3.0, -2.0):
        w.grad = torch.full((3,), 5.0)
        x = torch.full((3,), v)
        out = c(x)
        assert w.grad is None
        w.grad = torch.full((3,), 5.0)
        assert _same(out, f(x))
    assert len(c.cache) == 2 and all(k.eager is None for k in c.cache)
    # a stopped replay put the gradient back before the eager call read it
    assert "bool(tensor)" in c.recompiles[0]


def test_a_log_record_inside_a_compiled_function_is_made_at_every_call(caplog):
    import logging

    log = logging.getLogger("retrograd.test.compile")

    def f(x):
        y = x * 2
        if torch.isnan(y).any():
            log.warning("nan in the step")
            return None
        log.debug("below the level: no record, not an effect")
        return y

    c = torch.compile(f)
    caplog.set_level(logging.INFO, logger="retrograd.test.compile")
    nan = torch.tensor([1.0, float("nan")])
    for x in (torch.ones(2), torch.ones(2), nan, nan, torch.ones(2), nan):
        out = c(x)
        assert (out is None) == bool(torch.isnan(x).any())
    assert [r.getMessage() for r in caplog.records] == ["nan in the step"] * 3
    assert c.cache[0].eager is None and "logged a message" in c.cache[1].eager
    assert logging.getLogRecordFactory() is logging.LogRecord
