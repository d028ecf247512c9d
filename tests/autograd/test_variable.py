"""The legacy ``autograd.Variable``: a detached tensor with requires_grad set."""

import warnings

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import Variable


def test_variable_is_a_detached_tensor_sharing_storage():
    t = rg.ones(3, requires_grad=True)
    y = t * 2
    v = Variable(y)
    assert type(v) is rg.Tensor and v is not y
    assert not v.requires_grad and v.grad_fn is None
    v.data[0] = 5.0
    np.testing.assert_array_equal(y.detach().numpy(), [5.0, 2.0, 2.0])


def test_requires_grad_makes_a_leaf_that_trains():
    x = Variable(rg.tensor([1.0, 2.0]), requires_grad=True)
    assert x.is_leaf and x.requires_grad
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    assert Variable(rg.ones(1), True).requires_grad  # positional requires_grad


def test_isinstance_holds_for_every_tensor_only():
    assert isinstance(rg.ones(1), Variable)
    assert isinstance(rg.nn.Parameter(rg.ones(1)), Variable)
    assert not isinstance(3.0, Variable) and not isinstance(np.ones(1), Variable)


def test_without_data_is_an_empty_float_tensor():
    v = Variable()
    assert v.shape == (0,) and v.dtype == rg.float32


def test_volatile_warns_and_changes_nothing():
    with pytest.warns(UserWarning, match="volatile was removed"):
        v = Variable(rg.ones(2), volatile=True)
    assert not v.requires_grad
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Variable(rg.ones(2), volatile=False)


def test_refusals():
    with pytest.raises(TypeError, match="has to be a tensor, but got list"):
        Variable([1.0])
    with pytest.raises(RuntimeError, match="floating point"):
        Variable(rg.ones(2, dtype=rg.int64), requires_grad=True)
    with pytest.raises(TypeError, match="name= is not supported"):
        Variable(rg.ones(1), name="x")


def test_module_spelling():
    from retrograd.autograd.variable import Variable as V

    assert V is Variable and rg.autograd.Variable is Variable
