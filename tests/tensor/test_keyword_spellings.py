"""PyTorch's keyword spellings of arguments that scripts also pass positionally: the sizes of
view/reshape/permute/flip/repeat/expand/tile/new_* as ``size=``, ``shape=``, ``dims=``,
``repeats=``; given both ways, or a bare int by keyword, is a TypeError as in PyTorch."""

import numpy as np
import pytest

import retrograd as rg

A = np.arange(6.0).reshape(2, 3)


@pytest.mark.parametrize(
    "call, expected",
    [
        (lambda x: x.view(size=(3, 2)), A.reshape(3, 2)),
        (lambda x: x.view(size=[-1]), A.reshape(-1)),
        (lambda x: x.reshape(shape=(3, 2)), A.reshape(3, 2)),
        (lambda x: rg.reshape(x, shape=rg.Size([6])), A.reshape(6)),
        (lambda x: x.permute(dims=(1, 0)), A.T),
        (lambda x: rg.permute(x, dims=[1, 0]), A.T),
        (lambda x: x.flip(dims=(1,)), A[:, ::-1]),
        (lambda x: rg.flip(x, dims=[0, 1]), A[::-1, ::-1]),
        (lambda x: x.repeat(repeats=(2, 1)), np.tile(A, (2, 1))),
        (lambda x: x[:1].expand(size=(2, 3)), np.broadcast_to(A[:1], (2, 3))),
        (lambda x: x.tile(dims=(2,)), np.tile(A, (1, 2))),
        (lambda x: rg.tile(x, dims=(2, 1, 1)), np.tile(A, (2, 1, 1))),
        (lambda x: x.sum_to_size(size=(1, 3)), A.sum(0, keepdims=True)),
    ],
)
def test_keyword_spelling_gives_the_positional_result(call, expected):
    np.testing.assert_array_equal(call(rg.tensor(A)).numpy(), expected)


def test_keyword_spelling_keeps_gradients():
    x = rg.tensor(A, requires_grad=True)
    (x.permute(dims=(1, 0)).flip(dims=(0,)).reshape(shape=(6,)) * rg.arange(6.0)).sum().backward()
    w = np.arange(6.0).reshape(3, 2)[::-1].T
    np.testing.assert_array_equal(x.grad.numpy(), w)


def test_view_dtype_keyword():
    x = rg.tensor([1.0, 2.0])
    assert x.view(dtype=rg.int32).dtype == rg.int32
    np.testing.assert_array_equal(x.view(dtype=rg.int32).numpy(), np.array([1.0, 2.0], np.float32).view(np.int32))
    with pytest.raises(TypeError, match="not both"):
        x.view(2, dtype=rg.int32)


def test_new_factories_and_resize_take_size():
    x = rg.ones(2, dtype=rg.float64)
    for name, value in (("new_zeros", 0.0), ("new_ones", 1.0)):
        y = getattr(x, name)(size=(2, 3))
        assert y.shape == (2, 3) and y.dtype == rg.float64
        np.testing.assert_array_equal(y.numpy(), np.full((2, 3), value))
    assert x.new_empty(size=[4]).shape == (4,)
    assert rg.zeros(6).resize_(size=(2, 3)).shape == (2, 3)


@pytest.mark.parametrize(
    "call",
    [
        lambda x: x.view(3, 2, size=(6,)),
        lambda x: x.flip(1, dims=(1,)),
        lambda x: x.permute(1, 0, dims=(1, 0)),
        lambda x: x.reshape(6, shape=(6,)),
        lambda x: x.repeat(1, 1, repeats=(1, 1)),
        lambda x: x.expand(2, 3, size=(2, 3)),
        lambda x: x.tile(2, dims=(2,)),
        lambda x: x.new_zeros(2, size=(2,)),
        lambda x: x.permute(dims=1),
        lambda x: x.reshape(shape=6),
        lambda x: x.tile(dims=2),
    ],
)
def test_both_spellings_or_a_bare_int_keyword_is_a_type_error(call):
    with pytest.raises(TypeError):
        call(rg.tensor(A))
