"""Custom autograd.Function (PyTorch: "Extending torch.autograd")."""

import numpy as np
import pytest

import retrograd as torch
from retrograd.autograd import Function, gradcheck, gradgradcheck, once_differentiable
from retrograd.autograd.graph import Node, saved_tensors_hooks


def _x(*shape):
    return torch.randn(*shape, dtype=torch.float64, requires_grad=True)


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved_tensors
        return grad_y * y


class ScaledMul(Function):
    """z = k * x * w, with a non-tensor argument k; saves both inputs."""

    @staticmethod
    def forward(ctx, x, k, w):
        ctx.k = k
        ctx.save_for_backward(x, w)
        return k * x * w

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        gx = grad * ctx.k * w if ctx.needs_input_grad[0] else None
        gw = grad * ctx.k * x if ctx.needs_input_grad[2] else None
        return gx, None, gw


class MulSetup(Function):
    """The setup_context style: forward takes no ctx."""

    @staticmethod
    def forward(x, w):
        return x * w

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(*inputs)

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        return grad * w, grad * x


def test_apply_values_grad_fn_and_gradcheck():
    x = _x(4)
    y = Exp.apply(x)
    np.testing.assert_allclose(y.detach().numpy(), np.exp(x.detach().numpy()))
    assert y.requires_grad and not y.is_leaf
    assert y.grad_fn.name() == "ExpBackward" and isinstance(y.grad_fn, Node)
    assert y.grad_fn.next_functions[0][0] is x._grad_accumulator()
    assert gradcheck(Exp.apply, (x,))


def test_double_backward_through_differentiable_backward():
    x = _x(3)
    assert gradgradcheck(Exp.apply, (x,))
    w = _x(3)
    assert gradgradcheck(lambda x, w: ScaledMul.apply(x, 2.5, w), (x, w))


def test_forward_runs_without_grad_and_backward_sees_create_graph():
    modes = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, x):
            modes.append(("forward", torch.is_grad_enabled()))
            return x * 2

        @staticmethod
        def backward(ctx, g):
            modes.append(("backward", torch.is_grad_enabled()))
            return g * 2

    x = _x(2)
    Probe.apply(x).sum().backward()
    torch.autograd.grad(Probe.apply(x).sum(), x, create_graph=True)
    assert modes == [("forward", False), ("backward", False), ("forward", False), ("backward", True)]


def test_non_tensor_arguments_needs_input_grad_and_keywords():
    x, w = _x(3), _x(3)
    c = torch.randn(3, dtype=torch.float64)  # needs no gradient
    z = ScaledMul.apply(x, 3.0, c)
    assert z.grad_fn.needs_input_grad == (True, False, False)
    assert z.grad_fn.next_functions[1] == (None, 0) and z.grad_fn.next_functions[2] == (None, 0)
    assert gradcheck(lambda x, w: ScaledMul.apply(x, 3.0, w), (x, w))
    z = ScaledMul.apply(x, k=2.0, w=w)
    np.testing.assert_allclose(z.detach().numpy(), 2 * (x * w).detach().numpy())


def test_setup_context_style():
    x, w = _x(3), _x(3)
    assert gradcheck(MulSetup.apply, (x, w))
    assert gradgradcheck(MulSetup.apply, (x, w))


def test_multiple_outputs_and_non_differentiable_ones():
    class SortLike(Function):
        @staticmethod
        def forward(ctx, x):
            values = x * 2
            idx = x.argmax()
            mask = x > 0
            ctx.mark_non_differentiable(mask)
            return values, x.exp(), idx, mask

        @staticmethod
        def backward(ctx, g_values, g_exp, g_idx, g_mask):
            ctx.seen = (g_idx, g_mask)
            return g_values * 2 + g_exp * 0 + 1 * 0

    x = _x(4)
    values, e, idx, mask = SortLike.apply(x)
    assert values.requires_grad and e.requires_grad
    assert not idx.requires_grad and not mask.requires_grad  # integer, marked
    assert values.grad_fn is e.grad_fn and values.output_nr == 0 and e.output_nr == 1
    values.sum().backward()
    g_idx, g_mask = values.grad_fn.seen
    assert g_idx.shape == () and g_idx.item() == 0  # materialized zeros
    assert not g_mask.any()
    np.testing.assert_allclose(x.grad.numpy(), [2.0] * 4)


def test_set_materialize_grads_false_passes_none():
    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 1, x * 2

        @staticmethod
        def backward(ctx, g1, g2):
            ctx.got = (g1 is None, g2 is None)
            return (g1 if g1 is not None else 0) + (2 * g2 if g2 is not None else 0)

    x = _x(2)
    a, b = Two.apply(x)
    b.sum().backward()
    assert b.grad_fn.got == (True, False)
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_input_returned_as_is_becomes_a_new_output():
    class Identity(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 3

    x = _x(2)
    y = Identity.apply(x)
    assert y is not x and y._base is x and y.grad_fn.name() == "IdentityBackward"
    assert x.grad_fn is None
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_mark_dirty_rebases_the_input():
    class MulTwo_(Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = _x(3)
    y = x * 1
    out = MulTwo_.apply(y)
    assert out is y and y.grad_fn.name() == "MulTwo_Backward"
    np.testing.assert_allclose(y.detach().numpy(), 2 * x.detach().numpy())
    (y * 1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0] * 3)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad has been used in an in-place operation"):
        MulTwo_.apply(_x(3))


def test_mark_dirty_through_a_view_reaches_the_base():
    class AddOne_(Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 5  # a made-up gradient, to see it flow into the base

    x = _x(4)
    y = x * 1
    AddOne_.apply(y[1:3])
    assert y.grad_fn.name() == "CopySlices"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1, 5, 5, 1])


def test_mark_dirty_errors():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(RuntimeError, match="marked as dirty.*not returned as output"):
        Bad.apply(_x(2) * 1)


def test_saved_tensors_are_version_checked_and_freed():
    x = _x(3)
    y = Exp.apply(x * 1)
    with torch.no_grad():
        y.mul_(2)  # the saved output
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*ExpBackward"):
        y.sum().backward()
    z = Exp.apply(x)
    z.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time.*ExpBackward"):
        z.sum().backward()
    w = Exp.apply(x)
    w.sum().backward(retain_graph=True)
    w.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.exp(x.detach().numpy()))


def test_save_for_backward_rejects_non_tensors():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3)
            return x * 1

    with pytest.raises(TypeError, match="save_for_backward can only save variables.*int"):
        Bad.apply(_x(1))


def test_backward_result_errors():
    class WrongCount(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, g):
            return g

    class WrongShape(Function):
        @staticmethod
        def forward(ctx, a):
            return a.sum()

        @staticmethod
        def backward(ctx, g):
            return torch.ones(5, dtype=torch.float64)

    class GradForNonTensor(Function):
        @staticmethod
        def forward(ctx, a, k):
            return a * k

        @staticmethod
        def backward(ctx, g):
            return g, torch.ones(1)

    a = _x(3)
    with pytest.raises(
        RuntimeError,
        match=r"WrongCountBackward returned an incorrect number of "
        r"gradients \(expected 2, got 1\)",
    ):
        WrongCount.apply(a, a).sum().backward()
    with pytest.raises(
        RuntimeError,
        match=r"WrongShapeBackward returned an invalid gradient at "
        r"index 0 - got \[5\] but expected shape compatible with "
        r"\[3\]",
    ):
        WrongShape.apply(a).backward()
    with pytest.raises(
        RuntimeError,
        match="gradient different than None at position 2, but the corresponding forward input was not a Variable",
    ):
        GradForNonTensor.apply(a, 2.0).sum().backward()


def test_broadcast_gradient_is_summed_to_the_input_shape():
    class Expand(Function):
        @staticmethod
        def forward(ctx, x):
            return x.expand(3, 2) * 1

        @staticmethod
        def backward(ctx, g):
            return g  # shape (3, 2): the engine sums it to (2,)

    x = _x(2)
    Expand.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_no_graph_without_grad():
    x = _x(2)
    with torch.no_grad():
        y = Exp.apply(x)
    assert not y.requires_grad and y.grad_fn is None
    y = Exp.apply(torch.ones(2))
    assert not y.requires_grad


def test_once_differentiable():
    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            assert not torch.is_grad_enabled()
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x, w = _x(3), _x(3)
    assert gradcheck(Square.apply, (x,))
    (g,) = torch.autograd.grad((Square.apply(x) * w).sum(), x, create_graph=True)
    assert g.requires_grad  # it depends on w through the incoming gradient
    with pytest.raises(
        RuntimeError, match="trying to differentiate twice a function that was marked with @once_differentiable"
    ):
        g.sum().backward()


def test_legacy_instance_call_raises():
    with pytest.raises(RuntimeError, match="Legacy autograd function with non-static forward"):
        Exp()(_x(1))


def test_hooks_and_retain_grad_on_outputs():
    x = _x(2)
    y = Exp.apply(x)
    y.retain_grad()
    y.register_hook(lambda g: g * 10)
    y.sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [10.0, 10.0])
    np.testing.assert_allclose(x.grad.numpy(), 10 * np.exp(x.detach().numpy()))


def test_saved_tensors_hooks_apply_to_custom_functions():
    packed = []
    x = _x(2)
    with saved_tensors_hooks(lambda t: packed.append(1) or t, lambda t: t):
        y = ScaledMul.apply(x, 2.0, Exp.apply(x))
    assert len(packed) == 3
    assert gradcheck(lambda x: ScaledMul.apply(x, 2.0, Exp.apply(x)), (x,))
    y.sum().backward()
    ex = np.exp(x.detach().numpy())
    np.testing.assert_allclose(x.grad.numpy(), 2 * ex + 2 * x.detach().numpy() * ex)
