"""Tensor queries, in-place metadata changes (squeeze_, t_ ...), apply_, in-place comparisons,
random fills, and the strided views' behaviour beyond the op table."""

import numpy as np
import pytest

import retrograd as rg


def test_queries():
    x = rg.tensor([1.0, 2.0, 3.0])
    assert x.nbytes == 12 and x.itemsize == 4
    assert x.get_device() == -1 and rg.get_device(x) == -1
    assert x.is_signed() and rg.tensor([1]).is_signed()
    assert not rg.tensor([1], dtype=rg.uint8).is_signed() and not rg.tensor([True]).is_signed()
    assert not x.is_complex() and not x.is_inference()
    assert x.is_same_size(rg.zeros(3)) and not x.is_same_size(rg.zeros(3, 1))
    assert rg.tensor([2.0]).is_nonzero() and not rg.tensor([[0]]).is_nonzero()
    with pytest.raises(RuntimeError, match="more than one value"):
        x.is_nonzero()
    with pytest.raises(RuntimeError, match="no values"):
        rg.tensor([]).is_nonzero()


def test_positive_and_type_as():
    x = rg.tensor([1.0, -2.0])
    assert x.positive() is x
    with pytest.raises(RuntimeError, match="bool"):
        rg.tensor([True]).positive()
    y = rg.tensor([1, 2]).type_as(x)
    assert y.dtype == rg.float32 and y.tolist() == [1.0, 2.0]
    assert x.type_as(rg.zeros(1)) is x


@pytest.mark.parametrize(
    "op, args, shape",
    [
        ("squeeze_", (), (2, 3)),
        ("squeeze_", (1,), (2, 3)),
        ("unsqueeze_", (0,), (1, 2, 1, 3)),
        ("t_", None, None),
        ("transpose_", (0, 2), (3, 1, 2)),
        ("swapaxes_", (0, 1), (1, 2, 3)),
        ("swapdims_", (0, 1), (1, 2, 3)),
    ],
)
def test_metadata_inplace(op, args, shape):
    a = rg.randn(2, 1, 3, dtype=rg.float64, requires_grad=True)
    if op == "t_":
        a = rg.randn(2, 3, dtype=rg.float64, requires_grad=True)
        args, shape = (), (3, 2)
    y = a * 2
    v = y._version
    out = getattr(y, op)(*args)
    assert out is y and tuple(y.shape) == shape and y._version == v + 1
    w = rg.randn(*shape, dtype=rg.float64)
    (y * w).sum().backward()
    ref = getattr(np, "transpose")
    expected = 2 * w.numpy().reshape(-1) if op in ("squeeze_", "unsqueeze_") else None
    if expected is not None:
        np.testing.assert_allclose(a.grad.numpy().reshape(-1), expected)
    else:
        perm = {"t_": (1, 0), "transpose_": (2, 1, 0), "swapaxes_": (1, 0, 2), "swapdims_": (1, 0, 2)}[op]
        np.testing.assert_allclose(a.grad.numpy(), 2 * ref(w.numpy(), perm))


def test_metadata_inplace_rules():
    leaf = rg.randn(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        leaf.t_()
    with pytest.raises(RuntimeError, match="leaf Variable"):
        leaf[0:1].squeeze_()
    with rg.no_grad():
        leaf.t_()
    assert tuple(leaf.shape) == (3, 2)
    plain = rg.arange(6.0).reshape(2, 3)
    view = plain[:, :2]
    view.t_()
    assert tuple(view.shape) == (2, 2) and view._base is plain._base and view.tolist() == [[0.0, 3.0], [1.0, 4.0]]
    # a saved tensor whose shape changed in place is detected at backward time
    x = rg.randn(2, 3, requires_grad=True)
    y = x * 1
    z = y.sin()
    y.t_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_apply_():
    x = rg.tensor([[1.0, 2.0], [3.0, 4.0]])
    x.t().apply_(lambda v: v * 10 + 1)
    assert x.tolist() == [[11.0, 21.0], [31.0, 41.0]]
    with pytest.raises(RuntimeError, match="requires grad"):
        rg.ones(2, requires_grad=True).apply_(float)


def test_inplace_comparisons_cut_the_gradient():
    a = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = a * 1
    y.gt_(1.5)
    assert y.tolist() == [0.0, 1.0, 1.0] and y.dtype == rg.float32
    (y * a).sum().backward()
    # d/da of y*a where y is a constant 0/1 mask and y's old value gets no gradient
    assert a.grad.tolist() == [0.0, 1.0, 1.0]
    b = rg.tensor([5, 6])
    b.bitwise_and_(rg.tensor([4, 2])).bitwise_not_()
    assert b.tolist() == [-5, -3]
    c = rg.tensor([0.0, 2.0])
    c.logical_not_()
    assert c.tolist() == [1.0, 0.0]
    c.less_equal_(0.5)
    assert c.tolist() == [0.0, 1.0]


def test_inplace_errors():
    with pytest.raises(RuntimeError, match="float_power_"):
        rg.ones(2).float_power_(2)
    with pytest.raises(RuntimeError, match="can't be cast"):
        rg.tensor([1, 2]).exp2_()


def test_random_fills_and_sampling_methods():
    rg.manual_seed(0)
    x = rg.empty(200, dtype=rg.float64)
    assert (x.log_normal_(0.0, 0.5) > 0).all()
    g = x.geometric_(0.5)
    assert (g >= 1).all() and (g == g.round()).all()
    assert x.cauchy_().isfinite().all()
    p = rg.full((3, 4), 0.5)
    assert set(p.bernoulli().unique().tolist()) <= {0.0, 1.0}
    probs = rg.tensor([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]])
    s = probs.multinomial(1)
    assert s.shape == (2, 1) and s[0, 0].item() == 1 and s[1, 0].item() in (0, 2)


def test_split_with_sizes_and_narrow_copy():
    x = rg.arange(10.0)
    a, b = x.split_with_sizes([3, 7])
    assert a.tolist() == [0.0, 1.0, 2.0] and b.shape == (7,) and a._base is x
    with pytest.raises(RuntimeError, match="sum exactly"):
        x.split_with_sizes([3, 3])
    c = x.narrow_copy(0, 2, 3)
    assert c._base is None and c.tolist() == [2.0, 3.0, 4.0]


def test_unfold_view_and_errors():
    x = rg.arange(6.0)
    u = x.unfold(0, 3, 3)
    assert u._base is x and u.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    u[1, 0] = 30.0  # non-overlapping windows are writable, through to x
    assert x[3].item() == 30.0
    assert rg.tensor(7.0).unfold(0, 1, 1).tolist() == [7.0]
    with pytest.raises(RuntimeError, match="maximum size"):
        x.unfold(0, 7, 1)
    with pytest.raises(RuntimeError, match="step"):
        x.unfold(0, 2, 0)
    # overlapping windows: each element's gradient counts the windows that read it
    y = rg.zeros(5, requires_grad=True)
    y.unfold(0, 3, 1).sum().backward()
    assert y.grad.tolist() == [1.0, 2.0, 3.0, 2.0, 1.0]


def test_as_strided():
    x = rg.arange(12.0)
    v = rg.as_strided(x, (3, 2), (4, 1), 1)
    assert v._base is x and v.tolist() == [[1.0, 2.0], [5.0, 6.0], [9.0, 10.0]]
    assert x.as_strided((2,), (1,)).tolist() == [0.0, 1.0]
    # a view's storage is its base's: the offset counts from the base's start
    assert rg.as_strided(x[4:], (2,), (1,), 5).tolist() == [5.0, 6.0]
    with pytest.raises(RuntimeError, match="outside the input"):
        rg.as_strided(x[4:], (2,), (1,), 0)
    with pytest.raises(RuntimeError, match="outside the input"):
        rg.as_strided(x, (2,), (12,))
    w = rg.zeros(4, dtype=rg.float64, requires_grad=True)
    rg.as_strided(w, (3, 2), (1, 1)).sum().backward()
    assert w.grad.tolist() == [1.0, 2.0, 2.0, 1.0]
