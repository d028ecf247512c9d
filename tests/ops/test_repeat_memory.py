"""repeat and tile return new memory, as PyTorch's do: writable, contiguous, never aliasing the
input (even where every repeated dim had size 1 and a view would have the right values)."""

import numpy as np
import pytest

import retrograd as rg


@pytest.mark.parametrize(
    "call, shape",
    [
        (lambda x: x.repeat(2, 1), (2, 3)),
        (lambda x: x.repeat(1, 1), (1, 3)),
        (lambda x: x.repeat(3, 1, 1), (3, 1, 3)),
        (lambda x: x.repeat(2, 2), (2, 6)),
        (lambda x: x.t().repeat(1, 2), (3, 2)),
        (lambda x: x.tile((4, 1)), (4, 3)),
        (lambda x: x[0].tile((2,)), (6,)),
    ],
)
def test_repeat_gives_new_contiguous_writable_memory(call, shape):
    x = rg.arange(3.0).reshape(1, 3)
    r = call(x)
    assert r.shape == shape and r.is_contiguous() and r._base is None
    assert not np.may_share_memory(r.numpy(), x.numpy())
    r[0] = 7.0  # as PyTorch allows: the copies are independent
    r.div_(2.0)
    assert x.tolist() == [[0.0, 1.0, 2.0]]


def test_repeat_values_and_gradient():
    x = rg.arange(6.0, dtype=rg.float64).reshape(1, 2, 3).requires_grad_()
    np.testing.assert_array_equal(
        x.repeat(2, 1, 1).detach().numpy(), np.tile(np.arange(6.0).reshape(1, 2, 3), (2, 1, 1))
    )
    assert rg.autograd.gradcheck(lambda t: t.repeat(3, 1, 2), (x,))
