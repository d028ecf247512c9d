"""Sorting and scans: ties, NaN, zeros in cumprod, integer results, search and unique."""

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import gradcheck, gradgradcheck


def _t(values, requires_grad=False):
    return rg.tensor(values, dtype=rg.float64, requires_grad=requires_grad)


@pytest.mark.parametrize(
    "values",
    [
        [0.0, 2.0, 3.0],
        [2.0, 0.0, 3.0, 0.5],
        [2.0, 0.0, 3.0, 0.0, 1.5],
        [1.5, 2.0, 0.0],
        [0.0, 0.0],
        [0.0, 2.0, 0.0, -3.0, 0.0, 1.2],
    ],
)
def test_cumprod_gradient_with_zeros(values):
    x = _t(values, True)
    assert gradcheck(lambda t: rg.cumprod(t, 0), (x,))
    assert gradgradcheck(lambda t: rg.cumprod(t, 0), (x,))


def test_cumprod_gradient_with_zeros_2d():
    x = _t([[1.5, 0.0, 2.0], [0.0, -1.0, 0.5], [0.7, 1.2, -0.3]], True)
    assert gradcheck(lambda t: t.cumprod(1), (x,))
    assert gradgradcheck(lambda t: t.cumprod(0), (x,))


def test_sort_is_stable_both_directions():
    x = _t([1.0, 3.0, 3.0, 2.0, 1.0])
    assert x.sort().indices.tolist() == [0, 4, 3, 1, 2]
    assert x.sort(descending=True).indices.tolist() == [1, 2, 3, 0, 4]
    assert x.topk(2).indices.tolist() == [1, 2]


def test_sort_nan_is_largest():
    x = _t([1.0, float("nan"), -1.0])
    assert x.sort().indices.tolist() == [2, 0, 1]
    assert x.sort(descending=True).indices.tolist() == [1, 0, 2]


def test_sort_gradient_permutes_back():
    x = _t([3.0, 1.0, 2.0], True)
    (x.sort().values * _t([1.0, 10.0, 100.0])).sum().backward()
    assert x.grad.tolist() == [100.0, 1.0, 10.0]


def test_return_types_and_integer_inputs():
    x = rg.tensor([[3, 1, 2]])
    r = x.sort(1)
    assert type(r).__name__ == "sort" and r.values.dtype == rg.int64
    assert r.values.tolist() == [[1, 2, 3]]
    v, i = x.topk(1)
    assert (v.tolist(), i.tolist()) == ([[3]], [[0]])
    assert type(rg.median(x, 1)).__name__ == "median"
    assert type(rg.cummax(x, 1)).__name__ == "cummax"
    assert x.cumsum(1).dtype == rg.int64 and rg.tensor([True, True]).cumsum(0).tolist() == [1, 2]


def test_cummax_ties_take_latest_index():
    x = _t([1.0, 3.0, 3.0, 2.0, 5.0, 5.0])
    assert x.cummax(0).indices.tolist() == [0, 1, 2, 2, 4, 5]
    assert x.flip(0).cummin(0).indices.tolist() == [0, 1, 2, 2, 2, 5]


def test_median_nan_and_nanmedian():
    x = _t([[1.0, float("nan"), 3.0, 4.0], [4.0, 1.0, 2.0, 3.0]])
    m = x.median(1)
    assert np.isnan(m.values[0].item()) and m.indices[0].item() == 1
    assert m.values[1].item() == 2.0 and m.indices[1].item() == 2
    n = x.nanmedian(1)
    assert n.values.tolist() == [3.0, 2.0]
    assert np.isnan(rg.median(x).item())
    assert rg.nanmedian(x).item() == 3.0
    assert np.isnan(rg.nanmedian(_t([float("nan")] * 2)).item())


def test_selection_errors():
    x = _t([1.0, 2.0])
    with pytest.raises(RuntimeError, match="out of range"):
        x.topk(3)
    with pytest.raises(RuntimeError, match="out of range"):
        x.kthvalue(0)
    with pytest.raises(RuntimeError, match="at least one-dimensional"):
        rg.diff(_t(1.0))
    with pytest.raises(IndexError, match="non-zero size"):
        rg.zeros(2, 0).median(1)


def test_diff_of_bool_is_xor():
    assert rg.tensor([True, True, False]).diff().tolist() == [False, True]


def test_diff_scalar_prepend():
    assert _t([1.0, 3.0]).diff(prepend=0.0).tolist() == [1.0, 2.0]


def test_searchsorted_and_bucketize():
    seq = rg.tensor([1, 3, 5, 7, 9])
    vals = rg.tensor([[3, 6, 9], [3, 6, 9]])
    assert rg.searchsorted(seq, vals).tolist() == [[1, 3, 4], [1, 3, 4]]
    assert rg.searchsorted(seq, vals, right=True).tolist() == [[2, 3, 5], [2, 3, 5]]
    assert rg.searchsorted(seq, vals, side="right").tolist() == [[2, 3, 5], [2, 3, 5]]
    assert rg.searchsorted(seq, 5).item() == 2
    batched = rg.tensor([[1, 3, 5, 7, 9], [2, 4, 6, 8, 10]])
    assert rg.searchsorted(batched, vals).tolist() == [[1, 3, 4], [1, 2, 4]]
    assert rg.searchsorted(seq, vals, out_int32=True).dtype == rg.int32
    unsorted = rg.tensor([9, 1, 5])
    assert rg.searchsorted(unsorted, rg.tensor([4]), sorter=rg.tensor([1, 2, 0])).tolist() == [1]
    with pytest.raises(RuntimeError, match="opposites"):
        rg.searchsorted(seq, vals, right=True, side="left")
    with pytest.raises(RuntimeError, match="must match"):
        rg.searchsorted(batched, rg.tensor([1, 2]))
    assert rg.bucketize(rg.tensor([1, 5, 6]), seq).tolist() == [0, 2, 3]
    assert rg.bucketize(rg.tensor([1, 5, 6]), seq, right=True).tolist() == [1, 3, 3]


def test_unique():
    x = rg.tensor([[2, 1], [2, 3]])
    assert rg.unique(x).tolist() == [1, 2, 3]
    u, inv, cnt = x.unique(return_inverse=True, return_counts=True)
    assert inv.tolist() == [[1, 0], [1, 2]] and cnt.tolist() == [1, 2, 1]
    rows, inv = rg.unique(rg.tensor([[1, 2], [0, 5], [1, 2]]), dim=0, return_inverse=True)
    assert rows.tolist() == [[0, 5], [1, 2]] and inv.tolist() == [1, 0, 1]
    assert not rg.unique(_t([1.0, 1.0], True)).requires_grad


def test_unique_consecutive():
    x = rg.tensor([1, 1, 2, 2, 3, 1, 1, 2])
    out, inv, cnt = rg.unique_consecutive(x, return_inverse=True, return_counts=True)
    assert out.tolist() == [1, 2, 3, 1, 2]
    assert inv.tolist() == [0, 0, 1, 1, 2, 3, 3, 4] and cnt.tolist() == [2, 2, 1, 2, 1]
    rows = rg.tensor([[1, 2], [1, 2], [3, 4]]).unique_consecutive(dim=0)
    assert rows.tolist() == [[1, 2], [3, 4]]


def test_unique_keeps_each_nan_distinct():
    # NaN != NaN: PyTorch lists every NaN once (NumPy's unique merges them by default)
    nan = float("nan")
    vals, inverse, counts = rg.unique(rg.tensor([3.0, nan, 1.0, nan, 3.0]), return_inverse=True, return_counts=True)
    v = vals.tolist()
    assert v[:2] == [1.0, 3.0] and len(v) == 4 and all(x != x for x in v[2:])
    assert inverse.tolist() == [1, 2, 0, 3, 1] and counts.tolist() == [1, 2, 1, 1]
