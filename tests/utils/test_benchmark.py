"""utils.benchmark: Timer runs the statement as asked, Measurement's statistics and printout.
No test here asserts how long anything took."""

import numpy as np
import pytest

import retrograd as rg
from retrograd.utils import benchmark
from retrograd.utils.benchmark import Language, Measurement, TaskSpec, Timer

RAW = [0.01, 0.02, 0.05, 0.04, 0.03]


def _spec(stmt="x + 1", **kw):
    return TaskSpec(stmt, kw.pop("setup", "pass"), **kw)


def test_measurement_statistics_match_numpy():
    m = Measurement(10, RAW, _spec())
    times = np.array(RAW) / 10
    np.testing.assert_allclose(m.times, times)
    assert m.median == pytest.approx(np.median(times)) and m.mean == pytest.approx(times.mean())
    assert m.iqr == pytest.approx(np.quantile(times, 0.75) - np.quantile(times, 0.25))
    assert m.has_warnings and not m.meets_confidence(0.1)
    steady = Measurement(10, [0.0101, 0.0102, 0.0101, 0.0102, 0.0101, 0.0102], _spec())
    assert not steady.has_warnings and steady.meets_confidence() and steady.significant_figures >= 2


def test_measurement_printout():
    lines = repr(Measurement(10, RAW, _spec(label="add", sub_label="small", setup="y = 2"))).splitlines()
    assert lines[1:6] == [
        "add: small",
        "setup: y = 2",
        "  Median: 3.00 ms",
        "  IQR:    2.00 ms (2.00 to 4.00)",
        "  5 measurements, 10 runs per measurement, 1 thread",
    ]
    assert "WARNING: Interquartile range is 66.7% of the median" in lines[6]
    one = repr(Measurement(1, [1.5e-9], _spec())).splitlines()
    assert one[1:] == ["x + 1", "  1.50 ns", "  1 measurement, 1 runs , 1 thread"]


def test_measurement_forwards_the_task_spec_and_merges():
    spec = _spec(label="L", description="d", num_threads=2)
    m = Measurement(2, [0.2, 0.4], spec)
    assert (m.stmt, m.label, m.description, m.num_threads, m.title) == ("x + 1", "L", "d", 2, "L")
    merged = Measurement.merge([m, Measurement(1, [0.3], spec), Measurement(1, [0.5], _spec("y"))])
    assert len(merged) == 2
    np.testing.assert_allclose(sorted(merged[0].times), [0.1, 0.2, 0.3])


def test_timeit_runs_the_statement_number_times_after_a_warmup():
    calls = []
    m = Timer("calls.append(1)", globals={"calls": calls}).timeit(300)
    assert len(calls) == 300 + 3 and m.number_per_run == 300 and len(m.times) == 1
    assert m.times[0] == pytest.approx(m.raw_times[0] / 300)


def test_setup_runs_before_the_statement_in_its_namespace():
    m = Timer("y.add_(1)", setup="y = x.clone()", globals={"x": rg.zeros(2)}).timeit(5)
    assert m.number_per_run == 5


def test_indented_code_is_dedented_and_torch_is_in_scope():
    # PyTorch's Timer dedents triple-quoted code and puts `torch` in the namespace
    calls = []
    timer = Timer(
        """
        calls.append(torch.ones(2) * y)
        """,
        setup="""
            y = torch.full((2,), 3.0)
        """,
        globals={"calls": calls},
    )
    m = timer.timeit(4)
    assert m.stmt == "calls.append(torch.ones(2) * y)" and m.task_spec.setup == "y = torch.full((2,), 3.0)"
    assert len(calls) == 4 + 2 and calls[0].tolist() == [3.0, 3.0]
    mine = object()
    Timer("assert torch is mine", globals={"torch": mine, "mine": mine}).timeit(1)  # the caller's wins


def test_blocked_and_adaptive_autorange_report_each_block():
    seen = []
    m = Timer("x + 1", globals={"x": rg.ones(3)}).blocked_autorange(
        callback=lambda n, t: seen.append((n, t)), min_run_time=0.01
    )
    assert len(seen) == len(m.times) >= 1
    assert all(n == m.number_per_run for n, _ in seen) and sum(t for _, t in seen) >= 0.01
    a = Timer("x * 2", globals={"x": rg.ones(3)}).adaptive_autorange(min_run_time=0.001, max_run_time=0.05)
    assert len(a.times) >= 1 and isinstance(a.median, float)


def test_the_thread_count_is_restored():
    before = rg.get_num_threads()
    Timer("pass", num_threads=1).timeit(2)
    assert rg.get_num_threads() == before


def test_refusals():
    with pytest.raises(ValueError, match="only a `str` stmt"):
        Timer(lambda: 1)
    with pytest.raises(ValueError, match="global_setup is C\\+\\+ only"):
        Timer("pass", global_setup="x = 1")
    with pytest.raises(NotImplementedError):
        Timer("pass", language=Language.CPP)
    for method in ("repeat", "autorange"):
        with pytest.raises(NotImplementedError, match="blocked_autorange"):
            getattr(Timer("pass"), method)()
    with pytest.raises(RuntimeError, match="positive integer"):
        Timer("pass", num_threads=0).timeit(1)


def test_units():
    assert benchmark.select_unit(2.5e-6) == ("us", 1e-6)
    assert benchmark.select_unit(3.0) == ("s", 1.0)
    assert benchmark.trim_sigfig(0.0123456, 3) == pytest.approx(0.0123)


def _cells(text):
    """{(threads, row name): [cell texts]} of a Compare printout's rows (threads None for the
    header row), and its other lines."""
    rows, other, block = {}, [], None
    for line in text.splitlines():
        if " threads: -" in line:
            block = int(line.split()[0])
        elif "|" in line:
            name, *cells = line.split("|")
            rows[(block, name.strip())] = [c.strip() for c in cells]
        else:
            other.append(line)
    return rows, other


def _m(median_s, label="dot", sub="[1, 1]", desc="mul", threads=1, env=None, n=5):
    """A measurement whose median is ``median_s`` (five blocks of 10 runs around it)."""
    raw = [median_s * 10 * f for f in (0.99, 1.0, 1.0, 1.01, 1.02)][:n]
    return Measurement(10, raw, _spec(label=label, sub_label=sub, description=desc, num_threads=threads, env=env))


def test_compare_lays_out_labels_rows_columns_and_thread_blocks():
    results = [
        _m(2e-6, sub="[1, 1]", desc="mul"),
        _m(3.5e-6, sub="[1, 1]", desc="bmm"),
        _m(12.3e-6, sub="[64, 1]", desc="mul"),
        _m(40e-6, sub="[64, 1]", desc="bmm"),
        _m(1.5e-6, sub="[1, 1]", desc="mul", threads=4),
        _m(5e-3, label="other", sub="x", desc="a"),
    ]
    text = str(benchmark.Compare(results))
    first, second = text.split("Times are in microseconds (us).")[0], text.split("(us).")[1]
    assert first.splitlines()[0].startswith("[") and " dot " in first.splitlines()[0]
    rows, other = _cells(first)
    assert rows[(None, "")] == ["mul", "bmm"]  # the header: one column per description, in order
    assert rows[(1, "[1, 1]")] == ["2.0", "3.5"] and rows[(1, "[64, 1]")] == ["12.3", "40.0"]
    assert rows[(4, "[1, 1]")] == ["1.5", ""] and (4, "[64, 1]") not in rows
    assert " other " in second and "Times are in milliseconds (ms)." in second  # a table per label
    assert _cells(second)[0][(1, "x")] == ["5.0"]


def test_compare_merges_one_tasks_measurements_and_names_other_envs():
    a = _m(1e-3, env="old")
    b = Measurement(10, [0.02, 0.02, 0.02], a.task_spec)  # the same task: times pooled
    c = _m(3e-3, env="new")
    rows, _ = _cells(str(benchmark.Compare([a, b, c])))
    assert rows[(1, "[1, 1]")] == [f"{Measurement.merge([a, b])[0].median * 1e3:.1f}"]
    assert rows[(1, "(new) [1, 1]")] == ["3.0"]


def test_compare_trims_colours_and_highlights():
    noisy = Measurement(10, [0.01, 0.02, 0.05, 0.04, 0.03], _spec(label="t", sub_label="noisy", description="a"))
    steady = _m(1.23456e-3, label="t", sub="steady", desc="a")
    slow = _m(7e-3, label="t", sub="slow", desc="a")
    c = benchmark.Compare([noisy, steady, slow])
    plain = str(c)
    assert "\033[" not in plain and "(!" not in plain
    c.trim_significant_figures()
    rows, _ = _cells(str(c))
    assert rows[(1, "noisy")] == ["3"]  # the spread supports one figure: 3.0 ms -> 3
    c.highlight_warnings()
    text = str(c)
    assert "3 (! 67%)" in text and "(! XX%) Measurement has high variance" in text
    c.colorize()
    text = str(c)
    assert "\033[92m" in text and "\033[2m\033[91m" in text and "\033[31m" in text  # 1x, 2.4x, 5.7x
    with pytest.raises(ValueError, match="Measurement"):
        benchmark.Compare([noisy, 1.0])
