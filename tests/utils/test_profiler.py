"""retrograd.profiler (torch.profiler) and autograd.profiler: what is recorded, the averages and
their table, the Chrome trace, schedules; and that nothing is hooked once a profile stops."""

import collections
import json
import threading
import warnings

import pytest

import retrograd as torch
from retrograd import nn
from retrograd.autograd import engine
from retrograd.ops import _registry
from retrograd.profiler import ProfilerActivity, profile, record_function, schedule


def _mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2))


class _CountOps:
    """Counts the ops run, independently of the profiler: every op's result is made by the op
    registry's make_tensor, once per op."""

    def __init__(self, monkeypatch):
        self.n = 0
        real = _registry.make_tensor

        def counting(*a):
            self.n += 1
            return real(*a)

        monkeypatch.setattr(_registry, "make_tensor", counting)


def test_one_training_step_lists_every_op_and_node(monkeypatch):
    model = _mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(4, 3)
    counter = _CountOps(monkeypatch)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        loss = model(x).sum()
        loss.backward()
        opt.step()
    counts = collections.Counter(e.name for e in prof.events())
    ops = sum(n for name, n in counts.items() if name.startswith("aten::"))
    assert ops == counter.n > 0
    # the forward, by hand: linear, relu, linear, sum
    forward = [e.name for e in prof.events() if e.cpu_parent is None][:4]
    assert forward == ["aten::linear", "aten::relu", "aten::linear", "aten::sum"]
    # the backward nodes under PyTorch's names, one per forward op, and one per parameter
    assert counts["SumBackward0"] == 1 and counts["ReluBackward0"] == 1
    assert counts["AddmmBackward0"] == 2
    assert counts["torch::autograd::AccumulateGrad"] == 4
    # the ops a backward formula runs are its node's children
    node = next(e for e in prof.events() if e.name == "ReluBackward0")
    assert node.cpu_children and all(c.name.startswith("aten::") for c in node.cpu_children)


def test_key_averages_count_calls_and_sum_times():
    x = torch.randn(4, 3, requires_grad=True)
    with profile() as prof:
        y = x
        for _ in range(3):
            y = y * 2
        y.sum().backward()
    avg = {a.key: a for a in prof.key_averages()}
    assert avg["aten::mul"].count == 6  # three forward, three in MulBackward0
    assert avg["MulBackward0"].count == 3
    events = [e for e in prof.events() if e.name == "aten::mul"]
    assert avg["aten::mul"].cpu_time_total == pytest.approx(sum(e.cpu_time_total for e in events))
    node = avg["MulBackward0"]
    assert node.self_cpu_time_total <= node.cpu_time_total
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=2)
    assert "Self CPU %" in table and "# of Calls" in table and "Self CPU time total" in table
    rows = [l for l in table.splitlines() if l.strip() and not l.startswith(("-", "Self CPU time"))]
    assert len(rows) == 3  # the header and two rows
    selfs = sorted((a.self_cpu_time_total for a in prof.key_averages()), reverse=True)
    assert prof.key_averages().table(sort_by="count", row_limit=1).count("aten::mul") == 1
    assert selfs[0] >= selfs[-1]
    with pytest.raises(AttributeError, match="no_such_key"):
        prof.key_averages().table(sort_by="no_such_key")


def test_group_by_input_shape_and_memory():
    a, b = torch.randn(4, 3), torch.randn(2, 5)
    with profile(record_shapes=True, profile_memory=True) as prof:
        a * 2
        a * 3
        b * 2
        a.view(12)
    groups = {(g.key, str(g.input_shapes)): g for g in prof.key_averages(group_by_input_shape=True)}
    assert groups[("aten::mul", "[[4, 3]]")].count == 2  # a Python scalar operand is an argument
    assert groups[("aten::mul", "[[2, 5]]")].count == 1
    mul = next(e for e in prof.events() if e.name == "aten::mul")
    assert mul.self_cpu_memory_usage == 4 * 3 * 4  # float32 result
    view = next(e for e in prof.events() if e.name == "aten::view")
    assert view.self_cpu_memory_usage == 0  # a view allocates nothing
    table = prof.key_averages(group_by_input_shape=True).table()
    assert "Input Shapes" in table and "CPU Mem" in table and "[2, 5]" in table
    with profile() as plain:
        a * 2
    with pytest.raises(RuntimeError, match="record_shapes"):
        plain.key_averages(group_by_input_shape=True)


def test_record_function_nests_and_chrome_trace_is_nested_json(tmp_path):
    model = _mlp()

    @record_function("loss_fn")
    def loss_fn(out):
        return out.pow(2).mean()

    def work():
        with record_function("worker"):
            (torch.randn(3, requires_grad=True) * 2).sum().backward()

    with profile(record_shapes=True) as prof:
        with record_function("forward", "batch 0"):
            loss = loss_fn(model(torch.randn(2, 3)))
        loss.backward()
        t = threading.Thread(target=work)
        t.start()
        t.join()
    names = [e.name for e in prof.events()]
    assert "forward" in names and "loss_fn" in names and "worker" in names
    fwd = next(e for e in prof.events() if e.name == "forward")
    assert {c.name for c in fwd.cpu_children} >= {"aten::linear", "loss_fn"}
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    data = json.loads(path.read_text())
    events = [e for e in data["traceEvents"] if e["ph"] == "X"]
    assert len(events) == len(prof.events())
    assert len({e["tid"] for e in events}) == 2
    for tid in {e["tid"] for e in events}:
        stack = []
        for e in sorted((e for e in events if e["tid"] == tid), key=lambda e: (e["ts"], -e["dur"])):
            end = e["ts"] + e["dur"]
            while stack and stack[-1] <= e["ts"]:
                stack.pop()
            assert not stack or end <= stack[-1] + 1e-3, f"{e['name']} overlaps its parent"
            stack.append(end)
    linear = next(e for e in events if e["name"] == "aten::linear")
    assert linear["args"]["Input Dims"][0] == [2, 3]
    assert next(e for e in events if e["name"] == "forward")["args"]["Record function args"] == "batch 0"


def test_nothing_is_hooked_outside_a_profile():
    with profile():
        assert _registry._observer is not None and engine._observer is not None
    assert _registry._observer is None and engine._observer is None
    with pytest.raises(ValueError):
        with profile():
            raise ValueError("inside")
    assert _registry._observer is None and engine._observer is None
    with record_function("idle"):  # no profile: records nothing, fails nothing
        torch.ones(2) + 1


def test_profiles_do_not_nest():
    with profile():
        with pytest.raises(RuntimeError, match="already recording"):
            with profile():
                pass


def test_schedule_records_only_active_steps():
    s = schedule(wait=1, warmup=1, active=2, repeat=1)
    A = torch.profiler.ProfilerAction
    assert [s(i) for i in range(6)] == [A.NONE, A.WARMUP, A.RECORD, A.RECORD_AND_SAVE, A.NONE, A.NONE]
    assert schedule(wait=2, warmup=1, active=1, skip_first=1)(3) is A.WARMUP
    saved = []
    x = torch.ones(2)
    with profile(schedule=s, on_trace_ready=lambda p: saved.append([e.name for e in p.events()])) as prof:
        for step in range(6):
            with record_function(f"step{step}"):
                x + 1
            prof.step()
    assert saved == [["step2", "aten::add", "step3", "aten::add"]]
    with pytest.raises(ValueError, match="active"):
        schedule(wait=0, warmup=1, active=0)


def _double(x):
    return x * 2


def _triple(x):
    return x * 3


def test_with_stack_records_the_callers_frames(tmp_path):
    net = nn.Linear(3, 2)
    x = torch.ones(4, 3)
    with profile(with_stack=True) as prof:
        _double(x)
        _triple(x)
        net(x).sum().backward()
    muls = [e for e in prof.events() if e.name == "aten::mul"]
    assert [e.stack[0].endswith(name) for e, name in zip(muls, (": _double", ": _triple"))] == [True, True]
    assert all(__file__ in e.stack[1] for e in muls)  # the test itself calls them
    linear = next(e for e in prof.events() if e.name == "aten::linear")
    assert "nn/modules/linear.py" in linear.stack[0].replace("\\", "/")  # the module's forward, not op machinery
    assert not any("/ops/" in f.replace("\\", "/") for e in prof.events() for f in e.stack)
    by_site = prof.key_averages(group_by_stack_n=1)
    assert sorted(a.count for a in by_site if a.key == "aten::mul") == [1, 1]  # two call sites
    assert [a.count for a in prof.key_averages() if a.key == "aten::mul"] == [2]
    table = by_site.table(sort_by="count")
    assert "Source Location" in table and ": _double" in table
    path = tmp_path / "stacks.txt"
    prof.export_stacks(str(path), "self_cpu_time_total")
    lines = path.read_text().splitlines()
    assert lines and all(line.rsplit(" ", 1)[1].isdigit() for line in lines)
    assert any(line.rsplit(" ", 1)[0].endswith(": _double") for line in lines)  # outermost first


def test_stacks_need_with_stack():
    with profile() as prof:
        torch.ones(2) + 1
    with pytest.raises(RuntimeError, match="with_stack"):
        prof.key_averages(group_by_stack_n=2)
    with pytest.raises(RuntimeError, match="with_stack"):
        prof.export_stacks("unused.txt")
    assert all(e.stack == [] for e in prof.events())


def test_unsupported_options_are_refused():
    with pytest.raises(NotImplementedError, match="with_flops"):
        profile(with_flops=True)
    with pytest.raises(TypeError):
        profile(activities=["cpu"])
    if not torch.cuda.is_available():
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA])
        assert any("CUDA is not available" in str(x.message) for x in w)
    with pytest.raises(NotImplementedError, match="device kernels"):
        profile(activities=[ProfilerActivity.CPU, ProfilerActivity.XPU])


def test_autograd_profiler_interface(tmp_path):
    x = torch.randn(3, requires_grad=True)
    with torch.autograd.profiler.profile(record_shapes=True) as prof:
        (x.exp() * 2).sum().backward()
    assert "aten::exp" in prof.table() and "ExpBackward0" in prof.key_averages().table()
    assert {e.name for e in prof.function_events} >= {"aten::exp", "ExpBackward0"}
    prof.export_chrome_trace(str(tmp_path / "t.json"))
    json.loads((tmp_path / "t.json").read_text())
    with torch.autograd.profiler.profile(enabled=False) as off:
        x * 2
    assert len(off.function_events) == 0
    assert torch.autograd.profiler.record_function is record_function
