"""Forward-mode AD (autograd.forward_ad): levels, dual tensors, views and in-place ops, custom
Functions, and the check in apply that costs nothing outside a level."""

import numpy as np
import pytest

import retrograd as rg
import retrograd.autograd.forward_ad as fwAD
from retrograd.autograd.forward_ad import dual_level, make_dual, unpack_dual


def _t(values):
    return rg.tensor(values, dtype=rg.float64)


# ----------------------------------------------------------------------------- levels
def test_make_dual_needs_a_level_and_levels_do_not_nest():
    with pytest.raises(RuntimeError, match="no level exists"):
        make_dual(_t([1.0]), _t([1.0]))
    with dual_level() as level:
        assert level == 0
        with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported"):
            fwAD.enter_dual_level()
        with pytest.raises(RuntimeError, match="not the last one"):
            fwAD.exit_dual_level(level=3)
    with pytest.raises(RuntimeError, match="positive number"):
        fwAD.exit_dual_level()
    assert fwAD.enter_dual_level() == 0  # the functional form
    fwAD.exit_dual_level()


def test_tangents_are_deleted_when_the_level_exits():
    with dual_level():
        y = make_dual(_t([1.0, 2.0]), _t([3.0, 4.0])) * 2
        assert unpack_dual(y).tangent is not None
    primal, tangent = unpack_dual(y)
    assert tangent is None and primal is y
    with dual_level():
        assert unpack_dual(y).tangent is None


def test_dual_level_as_decorator():
    @dual_level()
    def f(x):
        return unpack_dual(make_dual(x, rg.ones_like(x)).exp()).tangent

    np.testing.assert_allclose(f(_t([0.0, 1.0])).numpy(), np.exp([0.0, 1.0]))


@pytest.mark.parametrize(
    "primal, tangent, error, match",
    [
        (rg.ones(2), rg.ones(3), RuntimeError, r"different size .* size \[2\] .* size \[3\]"),
        (rg.ones(2, dtype=rg.int64), rg.ones(2), ValueError, "Expected primal to be floating point"),
        (rg.ones(2), rg.ones(2, dtype=rg.int64), ValueError, "Expected tangent to be floating point"),
    ],
)
def test_make_dual_errors_as_pytorch(primal, tangent, error, match):
    with dual_level():
        with pytest.raises(error, match=match):
            make_dual(primal, tangent)


def test_a_dual_of_a_dual_is_refused():
    with dual_level():
        d = make_dual(_t([1.0]), _t([1.0]))
        with pytest.raises(RuntimeError, match="already has a forward gradient"):
            make_dual(d, _t([1.0]))
        with pytest.raises(RuntimeError, match="itself has a forward gradient"):
            make_dual(_t([1.0]), d)


def test_make_dual_is_a_view_keeping_the_tangent_as_is_and_backward_differentiable():
    x = _t([1.0, 2.0]).requires_grad_()
    t = _t([0.5, -1.0])
    with dual_level():
        d = make_dual(x, t)
        assert d._base is x and d.grad_fn is not None
        primal, tangent = unpack_dual(d)
        assert tangent is t and primal._base is x and unpack_dual(primal).tangent is None
        out = (d * d).sum()
        p, jt = unpack_dual(out)
        np.testing.assert_allclose(jt.item(), 2 * (1.0 * 0.5 + 2.0 * -1.0))
        (g,) = rg.autograd.grad(p, x)
        np.testing.assert_allclose(g.numpy(), [2.0, 4.0])


def test_unpacked_dual_tensor_is_a_namedtuple():
    with dual_level():
        u = unpack_dual(make_dual(_t([1.0]), _t([2.0])))
    assert isinstance(u, fwAD.UnpackedDualTensor) and u.tangent is u[1] and u.primal is u[0]


def test_tangents_propagate_under_no_grad_but_not_in_inference_mode_nor_through_detach():
    with dual_level():
        d = make_dual(_t([1.0, 2.0]), _t([1.0, 1.0]))
        with rg.no_grad():
            np.testing.assert_allclose(unpack_dual(d * 3).tangent.numpy(), [3.0, 3.0])
        with rg.inference_mode():
            assert unpack_dual(d * 3).tangent is None
        assert unpack_dual(d.detach()).tangent is None
        assert unpack_dual(d > 1).tangent is None  # not differentiable


# ----------------------------------------------------------------------------- views, in place
def test_the_tangent_of_a_view_is_the_same_view_of_the_tangent():
    t = _t([1.0, 2.0, 3.0, 4.0])
    with dual_level():
        d = make_dual(_t([0.0, 0.0, 0.0, 0.0]), t)
        v = d[1:3]
        vt = unpack_dual(v).tangent
        np.testing.assert_allclose(vt.numpy(), [2.0, 3.0])
        assert vt._base is t
        r = unpack_dual(d.view(2, 2).t()).tangent
        np.testing.assert_allclose(r.numpy(), [[1.0, 3.0], [2.0, 4.0]])


def test_in_place_ops_update_the_tangent_in_place():
    with dual_level():
        d = make_dual(_t([1.0, 2.0]), _t([1.0, 1.0]))
        tangent = unpack_dual(d).tangent
        d.mul_(3)
        assert unpack_dual(d).tangent is tangent
        np.testing.assert_allclose(tangent.numpy(), [3.0, 3.0])
        d.sin_()
        np.testing.assert_allclose(tangent.numpy(), 3 * np.cos([3.0, 6.0]))
        d.zero_()
        np.testing.assert_allclose(tangent.numpy(), [0.0, 0.0])


def test_in_place_with_a_dual_operand_makes_a_tangent():
    with dual_level():
        y = _t([0.0, 0.0, 0.0])
        y.add_(make_dual(_t([1.0, 1.0, 1.0]), _t([0.0, 1.0, 2.0])))
        np.testing.assert_allclose(unpack_dual(y).tangent.numpy(), [0.0, 1.0, 2.0])
        # through a view: the base gets a zero tangent whose region is the view's
        z = _t([0.0, 0.0, 0.0, 0.0])
        v = z[1:]
        v.copy_(make_dual(_t([1.0, 1.0, 1.0]), _t([5.0, 6.0, 7.0])))
        np.testing.assert_allclose(unpack_dual(z).tangent.numpy(), [0.0, 5.0, 6.0, 7.0])
        np.testing.assert_allclose(unpack_dual(v).tangent.numpy(), [5.0, 6.0, 7.0])
        z[0] = make_dual(_t(9.0), _t(-1.0))
        np.testing.assert_allclose(unpack_dual(z).tangent.numpy(), [-1.0, 5.0, 6.0, 7.0])


def test_in_place_on_a_view_of_a_dual_updates_the_base_tangent():
    with dual_level():
        d = make_dual(_t([1.0, 2.0, 3.0]), _t([1.0, 1.0, 1.0]))
        d[1:].mul_(2)
        np.testing.assert_allclose(unpack_dual(d).tangent.numpy(), [1.0, 2.0, 2.0])
        np.testing.assert_allclose(unpack_dual(d).primal.numpy(), [1.0, 4.0, 6.0])


def test_in_place_restrides_restride_the_tangent():
    with dual_level():
        d = make_dual(_t([[1.0, 2.0, 3.0]]), _t([[4.0, 5.0, 6.0]])).clone()
        d.t_()
        np.testing.assert_allclose(unpack_dual(d).tangent.numpy(), [[4.0], [5.0], [6.0]])
        d.squeeze_(1)
        np.testing.assert_allclose(unpack_dual(d).tangent.numpy(), [4.0, 5.0, 6.0])
        d.unsqueeze_(0)
        assert unpack_dual(d).tangent.shape == (1, 3)


# ----------------------------------------------------------------------------- rules
def test_forward_over_reverse_sees_the_tangent_of_a_saved_output():
    x = _t([0.5, -0.3])
    with dual_level():
        d = make_dual(x, _t([1.0, 0.0])).requires_grad_()
        y = d.exp().sum()  # exp saves its output
        (g,) = rg.autograd.grad(y, d, create_graph=True)
        np.testing.assert_allclose(unpack_dual(g).tangent.detach().numpy(), [np.exp(0.5), 0.0])


@pytest.mark.parametrize("create_graph", [False, True])
def test_forward_over_reverse_without_create_graph(create_graph):
    # softmax and linear have a raw-array backward when no graph is built: in a level they must
    # take the differentiable one, and the gradient keeps its tangent as in PyTorch
    x = _t([0.5, 1.0, -0.5]).requires_grad_()
    w = _t([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    t = _t([1.0, 0.0, 2.0])

    def f(a):
        return (rg.nn.functional.softmax(rg.nn.functional.linear(a, w), 0) * _t([1.0, 3.0])).sum()

    with dual_level():
        d = make_dual(x, t)
        (g,) = rg.autograd.grad(f(d), d, create_graph=create_graph)
        tangent = unpack_dual(g).tangent
        assert tangent is not None and tangent.requires_grad == create_graph
    hvp = rg.autograd.functional.hvp(f, x.detach(), t)[1]
    np.testing.assert_allclose(tangent.detach().numpy(), hvp.numpy(), rtol=1e-10)


def test_derived_jvp_for_an_op_without_a_rule():
    from retrograd.ops import statistics  # noqa: F401  (cumprod, a derived rule)

    x = _t([0.5, 2.0, -1.5])
    t = _t([1.0, -2.0, 0.5])
    with dual_level():
        jt = unpack_dual(rg.cumprod(make_dual(x, t), 0)).tangent
    jac = rg.autograd.functional.jacobian(lambda a: rg.cumprod(a, 0), x)
    np.testing.assert_allclose(jt.numpy(), (jac @ t).numpy())


def test_custom_function_jvp_with_setup_context():
    class Cube(rg.autograd.Function):
        @staticmethod
        def forward(x, k):
            return x**3 * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_forward(inputs[0])
            ctx.k = inputs[1]

        @staticmethod
        def backward(ctx, g):
            raise AssertionError("not used")

        @staticmethod
        def jvp(ctx, tx, tk):
            (x,) = ctx.saved_tensors
            assert tk is None  # k is not a tensor
            return 3 * x * x * tx * ctx.k

    with dual_level():
        out = Cube.apply(make_dual(_t([1.0, 2.0]), _t([1.0, 0.5])), 2.0)
        np.testing.assert_allclose(unpack_dual(out).tangent.numpy(), [6.0, 12.0])


def test_custom_function_without_jvp_raises_in_forward_mode():
    class NoJvp(rg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    with dual_level():
        with pytest.raises(NotImplementedError, match="must implement the jvp function"):
            NoJvp.apply(make_dual(_t([1.0]), _t([1.0])))
    assert NoJvp.apply(_t([1.0])).item() == 2.0  # outside a level, nothing is asked


def test_custom_function_jvp_gets_zeros_for_inputs_without_tangent():
    seen = []

    class Mul(rg.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_forward(x, y)
            return x * y

        @staticmethod
        def backward(ctx, g):
            raise AssertionError("not used")

        @staticmethod
        def jvp(ctx, tx, ty):
            seen.append(ty)
            x, y = ctx.saved_tensors
            return tx * y + x * ty

    with dual_level():
        out = Mul.apply(make_dual(_t([1.0, 2.0]), _t([1.0, 1.0])), _t([3.0, 4.0]))
        np.testing.assert_allclose(unpack_dual(out).tangent.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(seen[0].numpy(), [0.0, 0.0])


def test_apply_checks_one_flag_outside_a_level():
    from retrograd.ops import _registry

    assert _registry._fw.active is False
    with dual_level():
        assert _registry._fw.active is True
    assert _registry._fw.active is False
