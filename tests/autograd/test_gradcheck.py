"""gradcheck / gradgradcheck fail closed: nothing to check is an error, a detached result fails,
every flag is honoured or refused, and a wrong backward is caught in slow and fast mode."""

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import Function, gradcheck, gradgradcheck
from retrograd.autograd.gradcheck import GradcheckError


def _x(*shape, seed=0):
    return rg.tensor(np.random.default_rng(seed).uniform(0.5, 1.5, shape), requires_grad=True)


class WrongSin(Function):
    """sin with the derivative of -cos: backward is wrong."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin()

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return -g * x.sin()


class NoisySquare(Function):
    """x^2 whose backward adds a tiny random term: correct within tolerance, not reentrant."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (2 * x + rg.tensor(np.random.default_rng().uniform(-1e-9, 1e-9, x.shape)))


class FirstOrderSin(Function):
    """sin whose backward is computed from detached values: right once, no second derivative."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin()

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.detach().cos()


class ThreeOutputs(Function):
    """(2x, 3x, 4x); its backward handles one or two missing grads only when ``tolerant``
    (a per-output Jacobian leaves two missing; undefining one output at a time leaves one)."""

    @staticmethod
    def forward(ctx, x, tolerant):
        ctx.set_materialize_grads(False)
        ctx.tolerant = tolerant
        return x * 2, x * 3, x * 4

    @staticmethod
    def backward(ctx, *grads):
        if not ctx.tolerant and sum(g is None for g in grads) == 1:
            raise RuntimeError("backward needs two or three grads")
        return sum(c * g for c, g in zip((2, 3, 4), grads) if g is not None), None


def test_correct_functions_pass_in_slow_and_fast_mode():
    x, y = _x(3, 2), _x(2, seed=1)
    for fast in (False, True):
        assert gradcheck(lambda a, b: (a * b).sin(), (x, y), fast_mode=fast)
        assert gradgradcheck(lambda a, b: (a * b).sin(), (x, y), fast_mode=fast)


@pytest.mark.parametrize("fast_mode", [False, True])
def test_wrong_backward_fails(fast_mode):
    x = _x(4)
    with pytest.raises(GradcheckError, match="Jacobian mismatch for output 0 with respect to input 0"):
        gradcheck(WrongSin.apply, (x,), fast_mode=fast_mode)
    assert gradcheck(WrongSin.apply, (x,), fast_mode=fast_mode, raise_exception=False) is False


def test_missing_second_derivative_fails_gradgradcheck():
    x = _x(4)
    assert gradcheck(FirstOrderSin.apply, (x,))
    with pytest.raises(GradcheckError):
        gradgradcheck(FirstOrderSin.apply, (x,))


def test_no_input_requiring_grad_is_an_error():
    x = rg.tensor([1.0, 2.0], dtype=rg.float64)
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        gradcheck(rg.sin, (x,))
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        gradgradcheck(rg.sin, (x,))


def test_detached_result_fails_both_checks():
    x = _x(3)
    with pytest.raises(GradcheckError, match="expected to be zero.*detached"):
        gradcheck(lambda a: a.sin().detach(), (x,))
    assert gradcheck(lambda a: a.sin().detach(), (x,), raise_exception=False) is False
    with pytest.raises(ValueError, match="no output of func requires grad"):
        gradgradcheck(lambda a: a.sin().detach(), (x,))


def test_integer_result_that_does_not_move_passes():
    # no output requires grad, and the numerical gradient is zero: PyTorch's rule, honoured
    assert gradcheck(lambda a: a.argmax(), (_x(5),))


def test_nothing_returned_or_nothing_reached_is_an_error():
    x = _x(3)
    with pytest.raises(ValueError, match="returned no Tensor"):
        gradcheck(lambda a: None, (x,))
    other = rg.ones(3, dtype=rg.float64, requires_grad=True)
    with pytest.raises(ValueError, match="first derivative of func is None for every input"):
        gradgradcheck(lambda a: other * 2, (x,))


def test_nondet_tol_bounds_the_reentrancy_check():
    x = _x(3)
    with pytest.raises(GradcheckError, match="not reentrant"):
        gradcheck(NoisySquare.apply, (x,))
    assert gradcheck(NoisySquare.apply, (x,), nondet_tol=1e-7)


def test_check_undefined_grad_runs_backward_without_one_output_grad():
    x = _x(3)
    with pytest.raises(GradcheckError, match="undefined output grads"):
        gradcheck(lambda a: ThreeOutputs.apply(a, False), (x,))
    assert gradcheck(lambda a: ThreeOutputs.apply(a, False), (x,), check_undefined_grad=False)
    assert gradcheck(lambda a: ThreeOutputs.apply(a, True), (x,))


def test_several_outputs_depending_on_each_other():
    # one output is computed from the other: backward from both roots at once
    assert gradcheck(lambda a: (a * 2, a * 2 + 1), (_x(3),))
    assert gradgradcheck(lambda a, b: ((a - b) ** 2).sum(), (_x(3), _x(3, seed=1)))


def test_non_contiguous_inputs_and_grad_outputs():
    x = rg.tensor(np.random.default_rng(0).uniform(0.5, 1.5, (4, 3)), requires_grad=True)
    x = x.detach().t().requires_grad_(True)
    assert not x.is_contiguous()
    assert gradcheck(lambda a: a.exp() * a, (x,))
    assert gradgradcheck(lambda a: a.exp() * a, (x,), gen_non_contig_grad_outputs=True)


def test_overlapping_input_is_refused():
    x = rg.tensor([1.0, 2.0], dtype=rg.float64).expand(3, 2).requires_grad_(True)
    with pytest.raises(RuntimeError, match="stride 0"):
        gradcheck(rg.sin, (x,))


def test_check_grad_dtypes_passes_for_matching_gradients():
    x = _x(3)
    assert gradcheck(lambda a: a.exp() * a, (x,), check_grad_dtypes=True)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"check_batched_forward_grad": True, "check_forward_ad": True}, NotImplementedError),
        ({"masked": True}, NotImplementedError),
        ({"check_backward_ad": False}, AssertionError),
        ({"check_batched_grad": True, "check_backward_ad": False, "check_forward_ad": True}, AssertionError),
        ({"check_batched_forward_grad": True}, AssertionError),
    ],
)
def test_unsupported_or_inconsistent_flags_are_refused(kwargs, error):
    with pytest.raises(error):
        gradcheck(rg.sin, (_x(2),), **kwargs)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"check_batched_grad": True}, NotImplementedError),
        ({"masked": True}, NotImplementedError),
        ({"check_rev_over_rev": False}, AssertionError),
        ({"check_rev_over_rev": False, "check_fwd_over_rev": True}, AssertionError),
    ],
)
def test_gradgradcheck_flags_are_refused(kwargs, error):
    with pytest.raises(error):
        gradgradcheck(rg.sin, (_x(2),), **kwargs)


def test_check_batched_grad_passes_and_catches_a_wrong_batching_rule():
    import retrograd.nn.functional as F
    from retrograd.func import _batch_rules

    x, w = _x(2, 2, 5, 5), _x(3, 2, 3, 3)
    assert gradcheck(
        lambda a, b: F.max_pool2d(F.conv2d(a, b, padding=1).tanh(), 2).softmax(1), (x, w), check_batched_grad=True
    )
    assert gradcheck(lambda a: (a.sin(), a.sum(0)), (_x(3, 2),), check_batched_grad=True)

    def wrong(op, values, bdims, args, size):  # batches sin as cos: every example wrong
        return rg.cos(values[0]), bdims[0]

    saved = _batch_rules.RULES["sin"]
    _batch_rules.RULES["sin"] = wrong
    try:
        assert gradcheck(rg.sin, (_x(3),))  # the Jacobian alone does not see the rule
        with pytest.raises(GradcheckError, match="Batched grad computed by vmap"):
            gradcheck(rg.sin, (_x(3),), check_batched_grad=True)
        assert not gradcheck(rg.sin, (_x(3),), check_batched_grad=True, raise_exception=False)
    finally:
        _batch_rules.RULES["sin"] = saved


@pytest.mark.parametrize("fast_mode", [False, True])
def test_check_forward_ad_passes_and_catches_a_wrong_jvp(fast_mode):
    x, y = _x(3), _x(3)
    assert gradcheck(lambda a, b: (a * b).sin() + a.exp(), (x, y), check_forward_ad=True, fast_mode=fast_mode)
    assert gradcheck(
        lambda a, b: (a @ b.reshape(3, 1)).tanh(),
        (x.reshape(1, 3), y),
        check_forward_ad=True,
        check_backward_ad=False,
        fast_mode=fast_mode,
    )

    class WrongJvp(rg.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            ctx.save_for_forward(a)
            return a * a

        @staticmethod
        def backward(ctx, g):
            return 2 * g * ctx.saved_tensors[0]

        @staticmethod
        def jvp(ctx, t):
            return 3 * t * ctx.saved_tensors[0]

    with pytest.raises(GradcheckError, match="forward mode mismatch"):
        gradcheck(WrongJvp.apply, (_x(3),), check_forward_ad=True, fast_mode=fast_mode)
    assert gradcheck(WrongJvp.apply, (_x(3),), check_forward_ad=False, fast_mode=fast_mode)


def test_gradgradcheck_fwd_over_rev():
    x = _x(3)
    assert gradgradcheck(lambda a: (a.sin() * a).sum() * a, (x,), check_fwd_over_rev=True)
    assert gradgradcheck(
        lambda a: a.exp() * a, (x,), check_fwd_over_rev=True, check_rev_over_rev=False, check_undefined_grad=False
    )
