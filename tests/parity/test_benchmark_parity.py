"""utils.benchmark against PyTorch's: the same raw times give the same statistics and the same
printout (after the object-address line)."""

import pytest

from retrograd.utils import benchmark as ours

torch = pytest.importorskip("torch")
theirs = pytest.importorskip("torch.utils.benchmark")

CASES = [
    (10, [0.01, 0.02, 0.05, 0.04, 0.03]),
    (10, [0.0101, 0.0102, 0.0101, 0.0102, 0.0101, 0.0102]),
    (1, [1.5]),
    (100, [2.5e-4]),
    (1000, [3e-3, 3.1e-3, 2.9e-3]),
    (1000, [1e-3, 3e-3, 9e-3]),
    (10, [1e-3, 3e-3, 9e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3]),
    (10, [1.0, 1.0, 1.0, 5.0]),
]


def _pair(number, raw, **labels):
    t = theirs.Timer("x + 1", setup="y = 2", globals={"x": 1}, **labels).timeit(1).task_spec
    o = ours.TaskSpec("x + 1", "y = 2", **labels)
    return ours.Measurement(number, raw, o), theirs.Measurement(number, raw, t)


@pytest.mark.parametrize("number, raw", CASES)
def test_statistics_match(number, raw):
    a, b = _pair(number, raw)
    assert a.times == pytest.approx(b.times)
    assert (a.median, a.mean, a.iqr) == pytest.approx((b.median, b.mean, b.iqr))
    assert a.has_warnings == b.has_warnings


@pytest.mark.parametrize("number, raw", CASES)
@pytest.mark.parametrize("labels", [{}, {"label": "add", "sub_label": "small", "description": "d"}])
def test_printout_matches(number, raw, labels):
    a, b = _pair(number, raw, **labels)
    assert repr(a).splitlines()[1:] == repr(b).splitlines()[1:]


def test_timeit_counts_like_pytorch():
    mine, yours = [], []
    ours.Timer("c.append(1)", globals={"c": mine}).timeit(250)
    theirs.Timer("c.append(1)", globals={"c": yours}).timeit(250)
    assert len(mine) == len(yours)


def _rows(text):
    """(thread block, row name) -> cell texts of a Compare printout, plus its footer lines."""
    rows, block, footer = {}, None, []
    for line in text.splitlines():
        if " threads: -" in line:
            block = line.split()[0]
        elif "|" in line:
            name, *cells = line.split("|")
            rows[(block, name.strip())] = [c.strip() for c in cells]
        elif line.startswith("Times are in"):
            footer.append(line)
    return rows, footer


def test_compare_tables_match():
    specs = [
        ("dot", "[1, 1]", "mul", 1, [2e-5, 2.1e-5, 1.9e-5]),
        ("dot", "[1, 1]", "bmm", 1, [3.5e-5, 3.6e-5, 3.4e-5]),
        ("dot", "[64, 1]", "mul", 1, [1.23e-4, 1.25e-4, 1.2e-4]),
        ("dot", "[64, 1]", "bmm", 1, [4e-4, 4.1e-4, 3.9e-4]),
        ("dot", "[1, 1]", "mul", 4, [1.5e-5, 1.6e-5, 1.4e-5]),
        ("other", "x", "a", 1, [5e-2, 5.1e-2, 4.9e-2]),
    ]
    mine, yours = [], []
    for label, sub, desc, threads, raw in specs:
        kw = dict(label=label, sub_label=sub, description=desc, num_threads=threads)
        t = theirs.Timer("x + 1", globals={"x": 1}, **kw).timeit(1).task_spec
        mine.append(ours.Measurement(10, raw, ours.TaskSpec("x + 1", "pass", **kw)))
        yours.append(theirs.Measurement(10, raw, t))
    assert _rows(str(ours.Compare(mine))) == _rows(str(theirs.Compare(yours)))
