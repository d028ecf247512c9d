"""Views: storage sharing and in-place through views (PyTorch's copy-slices behaviour)."""

import numpy as np
import pytest

import retrograd as torch
from retrograd.autograd import gradcheck


def _x(*shape):
    return torch.randn(*shape, dtype=torch.float64, requires_grad=True)


VIEW_OPS = {
    "view": lambda t: t.view(3, 4),
    "reshape": lambda t: t.reshape(2, 6),
    "transpose": lambda t: t.transpose(0, 1),
    "permute": lambda t: t.permute(1, 0),
    "t": lambda t: t.t(),
    "expand": lambda t: t[:1].expand(5, 6),
    "narrow": lambda t: t.narrow(1, 2, 3),
    "select": lambda t: t.select(0, 1),
    "slice": lambda t: t[:, ::2],
    "unbind": lambda t: t.unbind(0)[1],
    "split": lambda t: t.split(2, dim=1)[1],
    "chunk": lambda t: t.chunk(3, dim=1)[2],
    "squeeze": lambda t: t[None].squeeze(0),
    "unsqueeze": lambda t: t.unsqueeze(1),
    "flatten": lambda t: t.flatten(),
    "diagonal": lambda t: t.diagonal(1),
    "movedim": lambda t: t.movedim(0, 1),
    "mT": lambda t: t.mT,
}


@pytest.mark.parametrize("name", sorted(VIEW_OPS))
def test_view_ops_share_storage_with_their_base(name):
    base = torch.arange(12.0).reshape(2, 6).clone()
    v = VIEW_OPS[name](base)
    assert v._is_view() and v._base is base
    assert v.untyped_storage().data_ptr() == base.untyped_storage().data_ptr()
    assert v.untyped_storage() == base.untyped_storage()
    base.add_(100)  # a write through the base is seen by the view
    np.testing.assert_allclose(v.numpy(), VIEW_OPS[name](torch.arange(12.0).reshape(2, 6) + 100).numpy())
    assert v._version == base._version == 1


def test_views_of_views_keep_the_root_base():
    base = torch.zeros(4, 6)
    v = base[1:][:, ::2].t()
    assert v._base is base
    v[0, 0] = 7
    assert base[1, 0].item() == 7


def test_not_views():
    base = torch.zeros(2, 3)
    for t in (base.clone(), base.t().reshape(6), base * 1, base.t().contiguous()):
        assert not t._is_view() and t._base is None
        assert t.data_ptr() != base.data_ptr()
    d = base.detach()
    assert not d._is_view() and d._base is None and d.data_ptr() == base.data_ptr()
    assert not base.data._is_view()


def test_contiguity_strides_and_offsets():
    base = torch.zeros(3, 4)
    assert base.is_contiguous() and base.stride() == (4, 1)
    assert not base.t().is_contiguous() and base.t().stride() == (1, 4)
    assert base[:, 1:].storage_offset() == 1 and base[2].storage_offset() == 8
    assert base[1].data_ptr() == base.data_ptr() + 4 * base.element_size()
    assert base.t().contiguous().is_contiguous()


# --------------------------------------------------------------------------- copy-slices
def test_inplace_through_slice_of_intermediate():
    x = _x(4)
    y = x * 2
    y[0:2].mul_(3)
    assert y.grad_fn.name() == "CopySlices"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6, 6, 2, 2])


def test_inplace_through_view_then_use_base_gradcheck():
    def f(x, w):
        y = x * 2
        v = y.view(2, 3)
        v.add_(w)  # w broadcasts over the view
        y[1:3].mul_(w[0])
        return y * y

    assert gradcheck(f, (_x(6), _x(3)))


def test_inplace_through_transposed_view_and_view_of_view():
    def f(x):
        y = x * 1.0
        y.t()[1].mul_(3)  # column 1 of y
        y[1:].t()[:, 0].add_(10)  # row 1 of y
        return y.exp()

    x = _x(3, 4)
    y = x.detach().numpy().copy()
    y[:, 1] *= 3
    y[1, :] += 10
    np.testing.assert_allclose(f(x).detach().numpy(), np.exp(y))
    assert gradcheck(f, (x,))


def test_inplace_through_diagonal():
    def f(x, d):
        y = x * 1.0
        y.diagonal().mul_(d)
        y.diagonal(1).zero_()
        return y

    x, d = _x(3, 3), _x(3)
    ref = x.detach().numpy().copy()
    ref[np.diag_indices(3)] *= d.detach().numpy()
    ref[[0, 1], [1, 2]] = 0
    np.testing.assert_allclose(f(x, d).detach().numpy(), ref)
    assert gradcheck(f, (x, d))


def test_view_grad_fn_is_regenerated_from_the_base():
    x = _x(4)
    y = x * 2
    v = y.view(2, 2)[1]
    v.mul_(3)
    assert v._base is y
    assert v.grad_fn.name() == "AsStridedBackward0"
    assert v.grad_fn.next_functions[0][0] is y.grad_fn
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2, 2, 6, 6])


def test_sibling_views_see_the_new_history():
    x = _x(4)
    y = x * 2
    a, b = y[0:2], y[1:3]
    a.mul_(3)
    b.sum().backward()  # b[0] is y[1], which was multiplied through a
    np.testing.assert_allclose(x.grad.numpy(), [0, 6, 2, 0])


def test_inplace_on_base_updates_existing_views():
    x = _x(4)
    y = x * 2
    v = y[0:2]
    y.mul_(3)
    v.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6, 6, 0, 0])


def test_view_used_before_inplace_keeps_its_old_history():
    x = _x(4)
    y = x * 2
    v = y[0:2]
    z = v + 1.0  # uses v's value before the in-place
    y.mul_(3)
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2, 2, 0, 0])


def test_grad_flows_into_a_base_that_did_not_require_grad():
    w = _x(2)
    buf = torch.zeros(4, dtype=torch.float64)
    v = buf[1:3]
    other = buf[2:]
    v.copy_(w * 5)
    assert buf.requires_grad and buf.grad_fn.name() == "CopySlices"
    assert other.requires_grad  # views taken earlier follow the base's new history
    (buf.sum() + other.sum()).backward()
    np.testing.assert_allclose(w.grad.numpy(), [5, 10])


def test_multiple_inplace_through_views_in_a_loop():
    w = _x(3)

    def f(w):
        out = torch.zeros(3, 3, dtype=torch.float64)
        for i in range(3):
            out[i].copy_(w * (i + 1))
            out[i].mul_(w)
        return out

    np.testing.assert_allclose(f(w).detach().numpy(), np.outer([1, 2, 3], w.detach().numpy() ** 2))
    assert gradcheck(f, (w,))


def test_inplace_through_view_of_leaf_raises():
    x = _x(4)
    with pytest.raises(
        RuntimeError, match="a view of a leaf Variable that requires grad is being used in an in-place operation"
    ):
        x[0:2].mul_(2)
    with pytest.raises(RuntimeError, match="view of a leaf"):
        x.view(2, 2)[0] = 1.0
    with torch.no_grad():
        x[0:2].mul_(2)  # fine without grad mode
    assert x._version == 1


def test_inplace_on_view_created_under_no_grad_raises():
    y = _x(4) * 2
    with torch.no_grad():
        v = y[0:2]
    with pytest.raises(
        RuntimeError, match="A view was created in no_grad mode and is being modified inplace with grad mode enabled"
    ):
        v.mul_(2)
    assert y._version == 0  # refused before writing
    buf = torch.zeros(4)
    with torch.no_grad():
        u = buf[0:2]
    u.mul_(2)  # nothing to record: allowed, as in PyTorch
    with pytest.raises(RuntimeError, match="created in no_grad mode"):
        u.copy_(_x(2))


def test_inplace_on_detached_tensor_does_not_touch_the_history():
    x = _x(3)
    y = x * 2
    d = y.detach()
    d.mul_(10)  # allowed; shares storage and the version counter
    assert y._version == 1 and y.grad_fn.name() == "MulBackward0"
    np.testing.assert_allclose(y.detach().numpy(), x.detach().numpy() * 20)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2, 2, 2])
    s = x.sigmoid()
    s.detach().zero_()
    with pytest.raises(RuntimeError, match="SigmoidBackward0"):
        s.sum().backward()


def test_setitem_on_a_view_goes_through_copy_slices():
    x, v = _x(2, 3), _x(3)

    def f(x, v):
        y = x * 1.0
        row = y[1]
        row[0:2] = v[1:] * 4
        return y

    assert gradcheck(f, (x, v))


def test_retain_grad_follows_inplace():
    x = _x(3)
    y = x * 2
    y.retain_grad()
    y.mul_(3)
    y.sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [1, 1, 1])
    np.testing.assert_allclose(x.grad.numpy(), [6, 6, 6])
