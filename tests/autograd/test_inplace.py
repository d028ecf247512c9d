"""In-place ops and version counters (PyTorch: autograd mechanics, "In-place operations")."""

import inspect

import numpy as np
import pytest

import retrograd as torch
from retrograd.autograd import gradcheck


def _x(*shape, rg=True):
    return torch.randn(*shape, dtype=torch.float64, requires_grad=rg)


def _line_of(marker):
    """Line number of ``marker`` inside this file (for messages that name the user's line)."""
    src = inspect.getsource(inspect.getmodule(_line_of)).splitlines()
    return next(i for i, l in enumerate(src, 1) if marker in l)


# --------------------------------------------------------------------------- values and gradients
UNARY = [
    "neg_",
    "abs_",
    "exp_",
    "sin_",
    "cos_",
    "tanh_",
    "sigmoid_",
    "relu_",
    "square_",
    "sqrt_",
    "log_",
    "reciprocal_",
]


@pytest.mark.parametrize("name", UNARY)
def test_unary_inplace_on_intermediate_matches_out_of_place(name):
    x = torch.tensor([0.3, 1.2, 2.5], dtype=torch.float64, requires_grad=True)

    def f(x):
        y = x * 1.5
        getattr(y, name)()
        return y

    out_of_place = getattr(x * 1.5, name[:-1])()
    np.testing.assert_allclose(f(x).detach().numpy(), out_of_place.detach().numpy())
    assert gradcheck(f, (x,))


@pytest.mark.parametrize("name, other", [("add_", 2.0), ("sub_", 0.5), ("mul_", 3.0), ("div_", 4.0), ("pow_", 2.0)])
def test_binary_inplace_with_scalar(name, other):
    x = torch.tensor([0.3, 1.2, 2.5], dtype=torch.float64, requires_grad=True)

    def f(x):
        y = x + 0.0
        getattr(y, name)(other)
        return y

    expected = {"add_": np.add, "sub_": np.subtract, "mul_": np.multiply, "div_": np.divide, "pow_": np.power}[name](
        x.detach().numpy(), other
    )
    np.testing.assert_allclose(f(x).detach().numpy(), expected)
    assert gradcheck(f, (x,))


@pytest.mark.parametrize("name", ["add_", "sub_", "mul_", "div_"])
def test_binary_inplace_with_tensor_reaches_both(name):
    a, b = _x(2, 3), torch.rand(3, dtype=torch.float64).add(0.5).requires_grad_()

    def f(a, b):
        y = a * 1.0
        getattr(y, name)(b)
        return y

    assert gradcheck(f, (a, b))


def test_add_alpha_and_operators():
    a, b = _x(3), _x(3)

    def f(a, b):
        y = a * 1.0
        y.add_(b, alpha=2.0)
        y += b
        y -= 0.5
        y *= b
        y /= 3.0
        return y

    expected = ((a + 2 * b + b - 0.5) * b / 3.0).detach().numpy()
    np.testing.assert_allclose(f(a, b).detach().numpy(), expected)
    assert gradcheck(f, (a, b))


def test_operator_inplace_keeps_the_object():
    y = _x(3) * 1.0
    before = id(y)
    y += 1
    y *= 2
    assert id(y) == before and y._version == 2


def test_clamp_fill_zero_copy():
    x, s = _x(4), _x(4)

    def f(x, s):
        y = x * 1.0
        y.clamp_(-0.5, 0.5)
        z = x * 2.0
        z.copy_(s)
        w = x * 3.0
        w[1:].fill_(2.0)
        return y + z + w

    assert gradcheck(f, (x, s))


def test_fill_and_zero_overwrite_non_finite_values():
    x = torch.tensor([0.5, 1.0], dtype=torch.float64, requires_grad=True)
    y = x + float("inf")  # an old value that must not leak into the result
    y.fill_(1.0)
    assert y.tolist() == [1.0, 1.0]
    z = x + float("inf")
    z.zero_()
    assert z.tolist() == [0.0, 0.0] and z.grad_fn is not None
    (y.sum() + z.sum()).backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_fill_with_tensor_value_gets_gradient():
    v = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    y = torch.zeros(3, dtype=torch.float64)
    y.fill_(v)
    y.sum().backward()
    assert v.grad.item() == 3.0
    with pytest.raises(RuntimeError, match="0-dimension"):
        torch.zeros(3).fill_(torch.ones(2))


def test_copy_broadcasts_casts_and_reaches_source():
    src = torch.tensor([1.0, 2.0], dtype=torch.float32, requires_grad=True)
    dst = torch.zeros(3, 2, dtype=torch.float64)
    dst.copy_(src)
    assert dst.dtype == torch.float64 and dst.grad_fn.name() == "CopyBackwards"
    (dst * torch.arange(6.0, dtype=torch.float64).view(3, 2)).sum().backward()
    assert src.grad.dtype == torch.float32
    assert src.grad.tolist() == [0 + 2 + 4, 1 + 3 + 5]
    with pytest.raises(RuntimeError, match=r"\[4\].*\[3, 2\]"):
        dst.copy_(torch.zeros(4))


def test_index_ops():
    x, src = _x(4, 3), _x(2, 3)
    idx = torch.tensor([2, 0])

    def f(x, src):
        a = x * 1.0
        a.index_add_(0, idx, src, alpha=2.0)
        b = x * 1.0
        b.index_copy_(0, idx, src)
        c = x * 1.0
        c.index_fill_(1, torch.tensor([1]), -1.0)
        return a + b + c

    xn, sn = x.detach().numpy(), src.detach().numpy()
    a = xn.copy()
    np.add.at(a, [2, 0], 2 * sn)
    b = xn.copy()
    b[[2, 0]] = sn
    c = xn.copy()
    c[:, 1] = -1
    np.testing.assert_allclose(f(x, src).detach().numpy(), a + b + c)
    assert gradcheck(f, (x, src))


def test_index_add_repeated_indices_accumulate():
    y = torch.zeros(3)
    y.index_add_(0, torch.tensor([1, 1, 1]), torch.ones(3, 2)[:, 0])
    assert y.tolist() == [0.0, 3.0, 0.0]


def test_masked_fill_and_scatter():
    # PyTorch defines scatter's gradient for src only when src.shape == index.shape
    x, src = _x(3, 4), _x(3, 2)
    mask = torch.tensor([[True, False, False, True]] * 3)
    index = torch.tensor([[0, 1], [2, 0], [3, 1]])

    def f(x, src):
        a = x * 1.0
        a.masked_fill_(mask, 0.5)
        b = x * 1.0
        b.scatter_(1, index, src)
        c = x * 1.0
        c.scatter_add_(1, index, src)
        d = x * 1.0
        d.scatter_(1, index, value=7.0)
        return a + b + c + d

    xn, sn, ix = x.detach().numpy(), src.detach().numpy(), index.numpy()
    rows = np.arange(3)[:, None]
    a = np.where(mask.numpy(), 0.5, xn)
    b = xn.copy()
    b[rows, ix] = sn
    c = xn.copy()
    np.add.at(c, (rows, ix), sn)
    d = xn.copy()
    d[rows, ix] = 7.0
    np.testing.assert_allclose(f(x, src).detach().numpy(), a + b + c + d)
    assert gradcheck(f, (x, src))


def test_masked_fill_needs_bool_mask():
    with pytest.raises(RuntimeError, match="boolean"):
        torch.zeros(3).masked_fill_(torch.tensor([1, 0, 1]), 1.0)


def test_setitem_gradients_to_self_and_value():
    x, v = _x(4, 3), _x(3)

    def f(x, v):
        y = x * 1.0
        y[1] = v
        y[2:, 0] = v[:2] * 2
        y[torch.tensor([True, False, False, False])] = 0.0
        return y

    xn, vn = x.detach().numpy(), v.detach().numpy()
    ref = xn.copy()
    ref[1] = vn
    ref[2:, 0] = vn[:2] * 2
    ref[0] = 0.0
    np.testing.assert_allclose(f(x, v).detach().numpy(), ref)
    assert gradcheck(f, (x, v))


def test_setitem_into_plain_tensor_makes_it_require_grad():
    w = _x(2)
    buf = torch.zeros(4, dtype=torch.float64)
    buf[1:3] = w * 3
    assert buf.requires_grad and not buf.is_leaf
    buf.sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]


def test_random_fills_cut_the_gradient():
    x = _x(3)
    y = x * 2
    y.uniform_()
    assert ((y >= 0) & (y < 1)).all()
    y2 = x * 2
    y2.normal_()
    (y + y2).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


# --------------------------------------------------------------------------- what is refused
def test_inplace_on_leaf_requiring_grad_raises():
    w = _x(3)
    for op in (
        lambda: w.add_(1),
        lambda: w.mul_(2),
        lambda: w.zero_(),
        lambda: w.uniform_(),
        lambda: w.__setitem__(0, 1.0),
        lambda: w.copy_(torch.zeros(3)),
    ):
        with pytest.raises(
            RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"
        ):
            op()
    assert w._version == 0


def test_inplace_on_leaf_under_no_grad_is_allowed():
    w = _x(3)
    before = w.detach().numpy().copy()
    with torch.no_grad():
        w.add_(1.0)
        w[0] = 5.0
        w.mul_(2)
    np.testing.assert_allclose(w.detach().numpy(), np.r_[10.0, (before[1:] + 1) * 2])
    assert w.is_leaf and w.requires_grad and w._version == 3


def test_dtype_cast_error():
    t = torch.zeros(3, dtype=torch.int64)
    with pytest.raises(RuntimeError, match="can't be cast"):
        t.add_(torch.tensor([0.5, 0.5, 0.5]))


def test_inplace_on_expanded_view_raises():
    y = torch.zeros(1).expand(3)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        y.mul_(2)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        (_x(1) * 1).expand(3).mul_(2)


# --------------------------------------------------------------------------- version counters
def test_version_counter_counts_writes_and_is_shared_with_views_and_detach():
    y = torch.zeros(4)
    v, d = y[1:3], y.detach()
    assert y._version == 0
    y.add_(1)
    v.mul_(2)
    d[0] = 5
    assert y._version == v._version == d._version == 3
    assert torch.zeros(2)._version == 0


def test_modified_saved_tensor_raises_at_backward_naming_node_and_line():
    x = _x(3)
    y = x.sigmoid()  # SigmoidBackward0 saves its output
    y.mul_(2)  # MODIFIED-HERE
    with pytest.raises(RuntimeError) as e:
        y.sum().backward()
    msg = str(e.value)
    assert "modified by an inplace operation" in msg
    assert "SigmoidBackward0" in msg and "version 1; expected version 0" in msg
    assert f"test_inplace.py:{_line_of('# MODIFIED-HERE')}" in msg


def test_modified_saved_input_under_no_grad_raises():
    x = _x(3)
    a = x * 1.0
    y = a * a  # MulBackward0 saves a
    with torch.no_grad():
        a.add_(1)  # NOGRAD-WRITE
    with pytest.raises(RuntimeError, match="MulBackward0") as e:
        y.sum().backward()
    assert f"test_inplace.py:{_line_of('# NOGRAD-WRITE')}" in str(e.value)


def test_operator_and_setitem_sites_are_the_users_line():
    x = _x(3)
    y = x.exp()
    y += 1  # IADD-HERE
    with pytest.raises(RuntimeError) as e:
        y.sum().backward()
    assert f"test_inplace.py:{_line_of('# IADD-HERE')}" in str(e.value)
    z = x.exp()
    z[0] = 1.0  # SETITEM-HERE
    with pytest.raises(RuntimeError) as e:
        z.sum().backward()
    assert f"test_inplace.py:{_line_of('# SETITEM-HERE')}" in str(e.value)


def test_legal_inplace_on_intermediate_after_use_that_saved_nothing():
    x = _x(3)
    y = x * 2
    z = y + 1  # AddBackward0 saves nothing
    y.mul_(3)
    (z.sum() + y.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), [1 * 2 + 6] * 3)


def test_inplace_chain_gradcheck():
    x = _x(5)

    def f(x):
        y = x * 1.0
        y.mul_(x)
        y.sin_()
        y.add_(x, alpha=0.5)
        y[::2] = x[::2] * 3
        return y

    assert gradcheck(f, (x,))


def test_rebased_tensor_grad_fn_and_next_functions():
    x = _x(3)
    y = x * 2
    old = y.grad_fn
    y.mul_(3)
    assert y.grad_fn.name().startswith("MulBackward") and y.grad_fn is not old
    assert y.grad_fn.next_functions[0][0] is old
