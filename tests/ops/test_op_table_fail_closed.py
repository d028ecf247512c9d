"""The op table fails closed: a deliberately broken spec fails the table's checks."""

import numpy as np
import retrograd as rg
import pytest

from retrograd.autograd import gradcheck, gradgradcheck
from retrograd.autograd.gradcheck import GradcheckError

from .optable import OpSpec
from .test_op_table import TABLE, _inputs, check_grad_kind


def _spec(fn, grad="nonzero"):
    return OpSpec("broken", fn, np.sin, [[(3,)], [(2, 2)]], grad=grad)


def _first_inputs(spec):
    return _inputs(next(spec.samples(np.random.default_rng(0))))


def test_detached_result_fails_every_backward_check():
    spec = _spec(lambda x: x.sin().detach())
    with pytest.raises(AssertionError, match="records no node"):
        check_grad_kind(spec)
    with pytest.raises(GradcheckError, match="expected to be zero"):
        gradcheck(spec.fn, _first_inputs(spec))
    with pytest.raises(ValueError, match="no output of func requires grad"):
        gradgradcheck(spec.fn, _first_inputs(spec))


def test_declared_gradient_kind_is_checked():
    with pytest.raises(AssertionError, match="every gradient is zero"):
        check_grad_kind(_spec(lambda x: x.floor()))
    with pytest.raises(AssertionError, match="grad='zero' but a gradient is non-zero"):
        check_grad_kind(_spec(lambda x: x.sin(), grad="zero"))
    with pytest.raises(AssertionError, match="result requires grad"):
        check_grad_kind(_spec(lambda x: x.sin(), grad="none"))
    with pytest.raises(pytest.fail.Exception, match="DID NOT RAISE"):
        check_grad_kind(_spec(lambda x: x.sin(), grad="raises"))


def test_unknown_gradient_kind_is_refused():
    with pytest.raises(ValueError, match="grad='differentiable'"):
        _spec(lambda x: x, grad="differentiable")


def test_every_kind_is_in_use_and_the_once_vacuous_specs_declare_theirs():
    kinds = {s.name: s.grad for s in TABLE}
    assert set(kinds.values()) == {"nonzero", "zero", "none", "raises"}
    for name in ("matrix_power_zero", "softmax_empty", "einsum_empty_contraction", "cross_entropy_empty_batch_sum"):
        assert kinds[name] == "zero"


def test_wrong_forward_mode_fails_the_forward_ad_check():
    from .test_op_table import check_forward_ad

    class WrongJvp(rg.autograd.Function):
        @staticmethod
        def forward(x):
            return x.sin()

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])
            ctx.save_for_forward(inputs[0])

        @staticmethod
        def backward(ctx, g):
            return g * ctx.saved_tensors[0].cos()

        @staticmethod
        def jvp(ctx, t):
            return t * ctx.saved_tensors[0].sin()  # wrong: sin instead of cos

    with pytest.raises(AssertionError, match="by forward mode"):
        check_forward_ad(_spec(WrongJvp.apply))
    with pytest.raises(AssertionError, match="has no tangent"):
        check_forward_ad(_spec(lambda x: x.sin().detach() + x.detach()))
