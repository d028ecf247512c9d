"""Indexing behaviour the op table does not cover: PyTorch's index semantics, setitem gradients,
in-place rules, error messages, non-differentiable helpers."""

import numpy as np
import pytest

import retrograd as rg
import retrograd.nn.functional as F


def _x(*shape):
    return rg.tensor(np.arange(float(np.prod(shape))).reshape(shape), dtype=rg.float64, requires_grad=True)


# --------------------------------------------------------------------------- getitem
def test_int_with_array_follows_pytorch_not_numpy():
    x = _x(3, 4, 5)
    assert x[0, :, [0, 1]].shape == (4, 2)  # NumPy would give (2, 4)
    assert x[None, 0, :, [1, 2]].shape == (1, 4, 2)
    assert x[[0, 1], :, [0, 1]].shape == (2, 4)  # separated arrays: broadcast dims first
    np.testing.assert_array_equal(x[1, :, [0, 3]].detach().numpy(), x.detach().numpy()[1][:, [0, 3]])


def test_repeated_indices_accumulate_gradient():
    x = _x(3, 2)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[3, 3], [0, 0], [1, 1]])


def test_mask_and_mixed_index_gradient():
    x = _x(3, 4)
    m = rg.tensor([True, False, True])
    (x[m, 1:][:, [0, 0]] * 2).sum().backward()
    expected = np.zeros((3, 4))
    expected[[0, 2], 1] = 4
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_basic_index_is_view_advanced_is_copy():
    x = rg.zeros(3, 4)
    v = x[1]
    v.fill_(1)
    assert x.sum().item() == 4
    c = x[[1]]
    c.fill_(5)
    assert x.sum().item() == 4


@pytest.mark.parametrize("index", [(5,), (slice(None), [7]), (0, [0, 4])])
def test_out_of_range_index_names_shape(index):
    x = _x(3, 4)
    with pytest.raises(IndexError, match=r"\[3, 4\]"):
        x[index]


def test_float_index_rejected():
    with pytest.raises(IndexError, match="long, int, byte or bool"):
        _x(3)[rg.tensor([0.0])]


# --------------------------------------------------------------------------- setitem
def test_setitem_on_non_leaf_grads_reach_tensor_and_value():
    x = _x(3, 4)
    v = rg.tensor([10.0, 20.0], dtype=rg.float64, requires_grad=True)
    y = x * 1
    y[[0, 2], 1] = v
    y[1] = 0.0
    (y * rg.arange(12.0, dtype=rg.float64).reshape(3, 4)).sum().backward()
    g = np.arange(12.0).reshape(3, 4)
    g[[0, 2], 1] = 0
    g[1] = 0
    np.testing.assert_array_equal(x.grad.numpy(), g)
    np.testing.assert_array_equal(v.grad.numpy(), [1.0, 9.0])


def test_setitem_broadcast_value_gradient_sums():
    x = _x(3, 4)
    v = rg.tensor(2.0, dtype=rg.float64, requires_grad=True)
    y = x * 1
    y[:, 1:3] = v
    y.sum().backward()
    assert v.grad.item() == 6.0


def test_setitem_on_leaf_requiring_grad_raises():
    x = _x(3, 4)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x[0] = 1.0
    with pytest.raises(RuntimeError, match="view of a leaf"):
        x[0][1] = 1.0
    with rg.no_grad():
        x[0] = 1.0
    assert x[0].sum().item() == 4.0


def test_setitem_bumps_version_and_invalidates_saved_tensor():
    x = _x(3)
    y = x * 1
    z = y * y  # saves y
    y[0] = 5.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_setitem_int_then_array_pytorch_semantics():
    y = rg.zeros(3, 4, 5)
    y[0, :, [0, 1]] = rg.ones(4, 2)
    assert y.sum().item() == 8
    assert y[0, :, :2].sum().item() == 8


def test_setitem_shape_mismatch_is_runtime_error():
    y = rg.zeros(3, 4)
    with pytest.raises(RuntimeError, match=r"\[3, 4\]"):
        y[[0, 1]] = rg.ones(3)


# --------------------------------------------------------------------------- gather / scatter / index_*
@pytest.mark.parametrize(
    "call",
    [
        lambda x, i: x.gather(1, i),
        lambda x, i: x.scatter(1, i, 0.0),
        lambda x, i: x.scatter_add(1, i, rg.ones(1, 1)),
        lambda x, i: x.scatter_reduce(1, i, rg.ones(1, 1), "amax"),
    ],
)
@pytest.mark.parametrize("bad", [4, -1])
def test_gather_scatter_bounds(call, bad):
    x = rg.zeros(3, 4)
    with pytest.raises(RuntimeError, match=rf"index {bad} is out of bounds for dimension 1 with size 4"):
        call(x, rg.tensor([[bad]]))


def test_gather_index_larger_than_input():
    with pytest.raises(RuntimeError, match="no larger than self"):
        rg.zeros(3, 4).gather(1, rg.zeros(4, 2, dtype=rg.int64))


def test_gather_needs_integer_index():
    with pytest.raises(RuntimeError, match="int64"):
        rg.zeros(3).gather(0, rg.tensor([0.0]))


def test_index_ops_bounds_and_negative_indices():
    x = rg.zeros(3, 4)
    with pytest.raises(IndexError, match="out of bounds for dimension 1 with size 4"):  # as PyTorch
        x.index_select(1, rg.tensor([-1]))
    with pytest.raises(IndexError, match="out of bounds"):
        x.index_add(0, rg.tensor([3]), rg.ones(1, 4))
    with pytest.raises(IndexError, match="out of bounds"):
        x.index_copy(0, rg.tensor([-1]), rg.ones(1, 4))
    assert x.index_fill(1, rg.tensor([-1]), 2.0)[:, 3].sum().item() == 6.0  # negative allowed
    with pytest.raises(RuntimeError, match=r"source of shape \[2, 4\]"):
        x.index_add(0, rg.tensor([0]), rg.ones(2, 4))


def test_scatter_reduce_prod_gradient_with_zeros():
    x = rg.tensor([[2.0, 0.0, 3.0]], dtype=rg.float64, requires_grad=True)
    src = rg.tensor([[0.0, 5.0, 7.0, 0.0]], dtype=rg.float64, requires_grad=True)
    idx = rg.tensor([[0, 1, 2, 2]])
    out = x.scatter_reduce(1, idx, src, "prod")
    np.testing.assert_array_equal(out.detach().numpy(), [[0.0, 0.0, 0.0]])
    out.sum().backward()
    # group 0: {x0=2, s0=0}; group 1: {x1=0, s1=5}; group 2: {x2=3, s2=7, s3=0}
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 5.0, 0.0]])
    np.testing.assert_array_equal(src.grad.numpy(), [[2.0, 0.0, 0.0, 21.0]])


def test_scatter_reduce_ties_share_gradient():
    x = rg.tensor([1.0, 0.0], dtype=rg.float64, requires_grad=True)
    src = rg.tensor([1.0, 1.0, -1.0], dtype=rg.float64, requires_grad=True)
    x.scatter_reduce(0, rg.tensor([0, 0, 1]), src, "amax").sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1 / 3, 1.0])
    np.testing.assert_allclose(src.grad.numpy(), [1 / 3, 1 / 3, 0.0])


def test_scatter_bad_reduce():
    with pytest.raises(RuntimeError, match="add or multiply"):
        rg.zeros(3).scatter(0, rg.tensor([0]), 1.0, reduce="max")
    with pytest.raises(RuntimeError, match="sum, prod, mean, amax, amin"):
        rg.zeros(3).scatter_reduce(0, rg.tensor([0]), rg.ones(1), "max")


def test_inplace_variants_write_into_storage():
    x = rg.zeros(2, 3)
    base = x
    assert x.masked_fill_(rg.tensor([True, False, True]), 1.0) is base
    x.index_add_(0, rg.tensor([1, 1]), rg.ones(2, 3))
    x.index_fill_(1, rg.tensor([1]), -1.0)
    x.scatter_(0, rg.tensor([[0, 1, 0]]), 7.0)
    x.scatter_add_(0, rg.tensor([[1, 1, 1]]), rg.ones(1, 3))
    expected = np.array([[7.0, -1.0, 7.0], [4.0, 8.0, 4.0]])
    np.testing.assert_array_equal(base.numpy(), expected)
    assert x._version == 5


def test_inplace_on_leaf_requiring_grad_raises():
    x = _x(2, 3)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x.masked_fill_(rg.tensor([True, False, True]), 0.0)


# --------------------------------------------------------------------------- masks, triangles, diagonals
def test_masked_fill_keeps_integer_dtype_and_needs_bool_mask():
    x = rg.tensor([1, 2, 3])
    out = x.masked_fill(rg.tensor([True, False, True]), 7)
    assert out.dtype == rg.int64 and out.tolist() == [7, 2, 7]
    with pytest.raises(RuntimeError, match="boolean masks"):
        x.masked_fill(rg.tensor([1, 0, 1]), 7)
    with pytest.raises(RuntimeError, match="0-dimensional value tensor"):
        x.masked_fill(rg.tensor([True, False, True]), rg.tensor([1]))


def test_masked_select_is_1d():
    x = rg.arange(6.0).reshape(2, 3)
    assert x.masked_select(x > 2).tolist() == [3.0, 4.0, 5.0]


def test_tril_triu_need_matrices():
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        rg.tril(rg.zeros(3))


def test_diagonal_is_a_writable_view():
    x = rg.zeros(3, 4)
    d = x.diagonal(1)
    d.fill_(2.0)
    np.testing.assert_array_equal(x.numpy(), np.diag([2.0, 2.0, 2.0], 1)[:3, :])
    with pytest.raises(RuntimeError, match="identical"):
        x.diagonal(0, 1, -1)


def test_diag_errors_and_trace_of_ints():
    with pytest.raises(RuntimeError, match="1D or 2D"):
        rg.diag(rg.zeros(2, 2, 2))
    t = rg.tensor([[1, 2], [3, 4]]).trace()
    assert t.item() == 5 and t.dtype == rg.int64


# --------------------------------------------------------------------------- non-differentiable helpers
def test_one_hot():
    out = F.one_hot(rg.tensor([[0, 2], [1, 0]]))
    assert out.shape == (2, 2, 3) and out.dtype == rg.int64
    np.testing.assert_array_equal(out.numpy(), np.eye(3, dtype=np.int64)[[[0, 2], [1, 0]]])
    assert F.one_hot(rg.tensor([1]), num_classes=4).tolist() == [[0, 1, 0, 0]]
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(rg.tensor([3]), 3)
    with pytest.raises(RuntimeError, match="non-negative"):
        F.one_hot(rg.tensor([-1]), 3)
    with pytest.raises(RuntimeError, match="LongTensor"):
        F.one_hot(rg.tensor([1.0]))


def test_nonzero_and_argwhere():
    x = rg.tensor([[0, 1], [2, 0]])
    assert x.nonzero().tolist() == [[0, 1], [1, 0]]
    assert rg.argwhere(x).tolist() == [[0, 1], [1, 0]]
    rows, cols = x.nonzero(as_tuple=True)
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]


def test_setitem_and_inplace_through_views_of_non_leaf():
    x = _x(3, 4)
    v = rg.tensor(5.0, dtype=rg.float64, requires_grad=True)
    y = x * 1
    y[0][1] = v
    y.diagonal().mul_(2)
    w = rg.arange(12.0, dtype=rg.float64).reshape(3, 4)
    (y * w).sum().backward()
    expected = w.numpy().copy()
    expected[0, 1] = 0
    expected[[0, 1, 2], [0, 1, 2]] *= 2
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    assert v.grad.item() == 1.0


def test_repeat_interleave_of_counts_alone_repeats_the_indices():
    r = rg.repeat_interleave(rg.tensor([2, 1, 3]))
    np.testing.assert_array_equal(r.numpy(), [0, 0, 1, 2, 2, 2])
    assert r.dtype == rg.int64


def test_repeat_interleave_output_size_is_checked_not_ignored():
    x = rg.tensor([[1.0, 2.0], [3.0, 4.0]])
    r = rg.repeat_interleave(x, rg.tensor([1, 2]), dim=0, output_size=3)
    np.testing.assert_array_equal(r.numpy(), [[1, 2], [3, 4], [3, 4]])
    with pytest.raises(RuntimeError, match="does not match"):
        rg.repeat_interleave(x, 2, dim=1, output_size=5)
    with pytest.raises(RuntimeError, match="same size"):
        rg.repeat_interleave(x, rg.tensor([1, 2, 3]), dim=0)


@pytest.mark.parametrize(
    "index, name",
    [
        ((slice(None),), "AliasBackward0"),  # x[:, ]: a whole-dim slice in a tuple applies nothing
        (slice(None), "SliceBackward0"),  # x[:]: a lone slice is always one
        (Ellipsis, "AliasBackward0"),
        (0, "SelectBackward0"),
        ((slice(None), 0), "SelectBackward0"),
        (slice(1, None), "SliceBackward0"),
        (None, "UnsqueezeBackward0"),
        ((0, None), "UnsqueezeBackward0"),
        ((Ellipsis, 0), "SelectBackward0"),
        (slice(0, 100), "SliceBackward0"),
        ((0, slice(1, 3)), "SliceBackward0"),
        ((slice(1, 3), 0), "SelectBackward0"),
        ((slice(None), None, slice(None)), "UnsqueezeBackward0"),
        ([0, 1], "IndexBackward0"),
    ],
)
def test_basic_index_nodes_take_pytorchs_names(index, name):
    x = rg.randn(3, 4, requires_grad=True)
    y = x[index]
    assert y.grad_fn.name() == name
    y.sum().backward()
    want = np.zeros((3, 4))
    want[index if not isinstance(index, list) else np.array(index)] = 1
    np.testing.assert_array_equal(x.grad.numpy(), want)


def test_a_slice_step_below_one_is_refused():
    # NumPy reverses with a negative step; PyTorch refuses it (flip reverses)
    x = rg.arange(6.0)
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[::-1]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[::-2] = 1.0
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        x[::0]
    assert x[1::2].tolist() == [1.0, 3.0, 5.0]


def test_a_slice_step_that_is_not_an_integer_is_a_type_error():
    # as PyTorch (and Python's own sequences): the message names what a step may be
    x = rg.arange(6.0)
    for step in (1.5, "a"):
        with pytest.raises(TypeError, match="slice indices must be integers"):
            x[::step]
    assert x[:: np.int64(2)].tolist() == [0.0, 2.0, 4.0]


@pytest.mark.parametrize(
    "take",
    [
        lambda x: x[:, :, [0, 2, 3]],
        lambda x: x[..., [4, 1]],
        lambda x: x[:, [[0], [1]], 1:, [1, 2]],
        lambda x: x.index_select(2, rg.tensor([3, 0])),
        lambda x: rg.nn.functional.pad(x, (1, 2, 2, 1), mode="reflect"),
        lambda x: rg.nn.functional.pad(x[0], (1, 2), mode="circular"),
    ],
)
def test_gathers_of_a_row_major_tensor_are_row_major(take):
    """As in PyTorch, an advanced index (and index_select, and the reflect/replicate/circular
    pads built on it) of a contiguous tensor is contiguous, so .view works on the result; the
    values are NumPy's."""
    a = np.arange(120.0).reshape(2, 3, 4, 5)
    y = take(rg.tensor(a))
    assert y.is_contiguous()
    assert y.view(-1).shape == (y.numel(),)
    ref = take(rg.tensor(a).contiguous()).numpy()
    np.testing.assert_array_equal(y.numpy(), ref)
    np.testing.assert_array_equal(rg.tensor(a)[:, :, [0, 2, 3]].numpy(), a[:, :, [0, 2, 3]])
