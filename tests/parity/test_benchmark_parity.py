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
