"""Factories and arranging ops beyond the op table: asarray's memory sharing, index factories,
argument rules and the error messages."""

import numpy as np
import pytest

import retrograd as rg


def test_asarray_shares_or_copies():
    a = np.ones(3)
    t = rg.asarray(a)
    a[0] = 5
    assert t[0].item() == 5 and t.dtype == rg.float64
    c = rg.asarray(a, copy=True)
    a[1] = 7
    assert c[1].item() == 1
    x = rg.ones(2)
    assert rg.asarray(x) is x and rg.asarray(x, dtype=rg.float64).dtype == rg.float64
    with pytest.raises(ValueError, match="copy=False"):
        rg.asarray([1, 2], copy=False)
    assert rg.asarray([1, 2]).dtype == rg.int64 and rg.asarray(3.5).dtype == rg.float32
    r = rg.asarray([1.0, 2.0], requires_grad=True)
    assert r.requires_grad and r.is_leaf


def test_small_factories():
    s = rg.scalar_tensor(3)
    assert s.shape == () and s.dtype == rg.float32 and s.item() == 3.0
    assert rg.scalar_tensor(2, dtype=rg.int64).dtype == rg.int64
    e = rg.empty_strided((2, 3), (1, 2))
    assert e.shape == (2, 3)
    assert rg.tril_indices(3, 4, 1).tolist() == [list(v) for v in np.tril_indices(3, 1, 4)]
    assert rg.triu_indices(3, 3, -1, dtype=rg.int32).dtype == rg.int32
    rows, cols = rg.unravel_index(rg.tensor([4, 1, -1]), (2, 3))
    assert rows.tolist() == [1, 0, 1] and cols.tolist() == [1, 1, 2]
    assert [t.tolist() for t in rg.unravel_index(7, 10)] == [7]


def test_atleast_and_meshgrid_forms():
    a, b = rg.atleast_1d(rg.tensor(1.0), rg.ones(2))
    assert a.shape == (1,) and b.shape == (2,)
    assert isinstance(rg.atleast_2d([rg.ones(2)]), tuple)
    with pytest.warns(UserWarning, match="indexing"):
        g = rg.meshgrid(rg.ones(2), rg.ones(3))
    assert g[0].shape == (2, 3)
    x, y = rg.meshgrid(rg.tensor([1, 2]), rg.tensor([3, 4, 5]), indexing="xy")
    assert x.shape == (3, 2) and x.tolist() == [[1, 2]] * 3 and y[:, 0].tolist() == [3, 4, 5]
    assert rg.cartesian_prod(rg.tensor([1, 2])).tolist() == [1, 2]


def test_combinations_edges():
    a = rg.tensor([1, 2, 3])
    assert rg.combinations(a, 4).shape == (0, 4)
    assert rg.combinations(a, 0).shape == (0,)
    with pytest.raises(RuntimeError, match="1D"):
        rg.combinations(rg.ones(2, 2))


def test_split_rules():
    with pytest.raises(RuntimeError, match="not divisible"):
        rg.hsplit(rg.ones(2, 5), 2)
    with pytest.raises(RuntimeError, match="at least 2"):
        rg.vsplit(rg.ones(4), 2)
    with pytest.raises(RuntimeError, match="at least 3"):
        rg.ones(2, 2).dsplit(2)
    parts = rg.arange(6.0).hsplit([2])
    assert [p.tolist() for p in parts] == [[0.0, 1.0], [2.0, 3.0, 4.0, 5.0]]


def test_block_diag_vander_rot90_rules():
    m = rg.block_diag(rg.tensor(1), rg.ones(2, 2))
    assert m.dtype == rg.float32 and m.shape == (3, 3)
    assert rg.block_diag().shape == (1, 0)
    with pytest.raises(RuntimeError, match="2 or fewer"):
        rg.block_diag(rg.ones(1, 1, 1))
    v = rg.vander(rg.tensor([1, 2, 3]), N=3)
    assert v.dtype == rg.int64 and v.tolist() == [[1, 1, 1], [4, 2, 1], [9, 3, 1]]
    with pytest.raises(RuntimeError, match="different"):
        rg.rot90(rg.ones(2, 2), 1, [1, 1])
    assert rg.rot90(rg.arange(6).reshape(2, 3), 4).tolist() == [[0, 1, 2], [3, 4, 5]]


def test_cross_and_cdist_rules():
    with pytest.warns(UserWarning, match="dim"):
        c = rg.cross(rg.tensor([[1.0, 0.0, 0.0]]), rg.tensor([[0.0, 1.0, 0.0]]))
    assert c.tolist() == [[0.0, 0.0, 1.0]]
    with pytest.raises(RuntimeError, match="length 3"):
        rg.linalg.cross(rg.ones(2, 4), rg.ones(2, 4))
    with pytest.raises(RuntimeError, match="same number of dimensions|must match"):
        rg.linalg.cross(rg.ones(2, 3), rg.ones(3))
    with pytest.raises(RuntimeError, match="same number of columns"):
        rg.cdist(rg.ones(2, 3), rg.ones(2, 4))
    with pytest.raises(RuntimeError, match="at least 2D"):
        rg.cdist(rg.ones(3), rg.ones(2, 3))
    # identical rows: distance 0 and a zero (not NaN) gradient, on both paths
    for mode in ("use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"):
        x = rg.ones(2, 3, dtype=rg.float64, requires_grad=True)
        d = rg.cdist(x, x.detach(), compute_mode=mode)
        assert d.max().item() < 1e-6
        d.sum().backward()
        assert np.isfinite(x.grad.numpy()).all()


def test_scatter_into_rules():
    x = rg.zeros(3, 3)
    with pytest.raises(RuntimeError, match="size equal to the slice"):
        rg.select_scatter(x, rg.ones(2), 0, 0)
    with pytest.raises(RuntimeError, match="size equal to the slice"):
        rg.diagonal_scatter(x, rg.ones(3), 1)
    with pytest.raises(RuntimeError, match="size equal to the slice"):
        rg.slice_scatter(x, rg.ones(2, 3), 0, 0, 3)
    out = rg.select_scatter(x, rg.ones(3, dtype=rg.float64), 1, 2)
    assert out.dtype == rg.float32 and out[:, 2].tolist() == [1.0, 1.0, 1.0] and x.sum().item() == 0
    with pytest.raises(RuntimeError, match="prod, mean, amax or amin"):
        rg.index_reduce(x, 0, rg.tensor([0]), rg.ones(1, 3), "sum")
    y = rg.ones(3, 2)
    y.index_reduce_(0, rg.tensor([0, 0]), rg.tensor([[2.0, 4.0], [6.0, 8.0]]), "mean")
    np.testing.assert_allclose(y.numpy(), [[3.0, 13 / 3], [1.0, 1.0], [1.0, 1.0]], rtol=1e-6)


def test_trapezoid_forms():
    y = rg.tensor([1.0, 2.0, 3.0])
    assert rg.trapezoid(y).item() == 4.0
    assert rg.trapezoid(y, 2.0).item() == 8.0 and rg.trapezoid(y, dx=2.0).item() == 8.0
    assert rg.trapezoid(y, rg.tensor([0.0, 1.0, 3.0])).item() == 6.5
    assert rg.trapezoid(rg.tensor([1, 2, 3])).dtype == rg.float32
    assert rg.trapezoid(rg.ones(2, 0)).tolist() == [0.0, 0.0]
    assert rg.cumulative_trapezoid(y).tolist() == [1.5, 4.0]


@pytest.mark.parametrize(
    "fn",
    [
        lambda t: t.flip(0),
        lambda t: t.flip(0, 1),
        lambda t: rg.fliplr(t),
        lambda t: rg.flipud(t),
        lambda t: rg.rot90(t),
        lambda t: rg.rot90(t, 2),
        lambda t: rg.rot90(t, 3),
    ],
)
def test_flips_and_rotations_are_new_tensors(fn):
    """flip, fliplr, flipud and rot90 copy, as in PyTorch: writing into the result (as timm's
    Mixup does with x.flip(0).mul_(1 - lam)) leaves the input unchanged."""
    x = rg.arange(6.0).reshape(2, 3)
    y = fn(x)
    ref = y.numpy().copy()
    y.mul_(10)
    assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    np.testing.assert_array_equal(y.numpy(), ref * 10)
    assert y._version == 1 and x._version == 0


def test_flip_of_a_contiguous_tensor_is_contiguous_and_mixup_blend_is_right():
    x = rg.arange(8.0).reshape(4, 2)
    f = x.flip(0)
    assert f.is_contiguous() and f.stride() == (2, 1)
    np.testing.assert_array_equal(f.numpy(), np.arange(8.0).reshape(4, 2)[::-1])
    lam = 0.25
    x_flipped = x.flip(0).mul_(1.0 - lam)
    x.mul_(lam).add_(x_flipped)
    a = np.arange(8.0).reshape(4, 2)
    np.testing.assert_allclose(x.numpy(), lam * a + (1 - lam) * a[::-1])
