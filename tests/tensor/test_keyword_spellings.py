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
        (lambda x: x[:1].broadcast_to(size=(2, 3)), np.broadcast_to(A[:1], (2, 3))),
        (lambda x: x[:1].broadcast_to(4, 3), np.broadcast_to(A[:1], (4, 3))),
        (lambda x: x[:1].broadcast_to((1, 2, -1)), np.broadcast_to(A[:1], (1, 2, 3))),
        (lambda x: rg.broadcast_to(x[:1], size=[2, 3]), np.broadcast_to(A[:1], (2, 3))),
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


# NumPy's names of dim/keepdim, which PyTorch's argument parser takes for every op it binds


@pytest.mark.parametrize(
    "call, expected",
    [
        (lambda x: x.sum(axis=1, keepdims=True), A.sum(1, keepdims=True)),
        (lambda x: x.sum(1, keepdims=True), A.sum(1, keepdims=True)),
        (lambda x: rg.sum(x, axis=0), A.sum(0)),
        (lambda x: x.mean(axis=(0, 1), keepdims=True), A.mean((0, 1), keepdims=True)),
        (lambda x: x.max(axis=1).values, A.max(1)),
        (lambda x: rg.min(x, axis=1, keepdims=True).values, A.min(1, keepdims=True)),
        (lambda x: x.amax(1, keepdims=True), A.max(1, keepdims=True)),
        (lambda x: rg.argmax(x, axis=1, keepdims=True), A.argmax(1)[:, None]),
        (lambda x: x.std(axis=1, keepdims=True), A.std(1, ddof=1, keepdims=True)),
        (lambda x: x.logsumexp(axis=1), np.log(np.exp(A).sum(1))),
        (lambda x: x.cumsum(axis=1), A.cumsum(1)),
        (lambda x: rg.cat([x, x], axis=0), np.concatenate([A, A], 0)),
        (lambda x: rg.stack([x, x], axis=1), np.stack([A, A], 1)),
        (lambda x: x.gather(axis=1, index=rg.tensor([[2], [0]])), A[[0, 1], [2, 0]][:, None]),
        (lambda x: x.topk(2, axis=1).values, -np.sort(-A, 1)[:, :2]),
        (lambda x: x[None].squeeze(axis=0), A),
        (lambda x: x.unsqueeze(axis=0), A[None]),
        (lambda x: (x > 2).any(1, keepdims=True), (A > 2).any(1, keepdims=True)),
        (lambda x: x.softmax(axis=1), np.exp(A) / np.exp(A).sum(1, keepdims=True)),
        (lambda x: rg.cosine_similarity(x, x + 1, axis=1), None),
    ],
)
def test_numpy_names_give_the_dim_keepdim_result(call, expected):
    x = rg.tensor(A)
    got = call(x).numpy()
    if expected is None:
        a, b = A, A + 1
        expected = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_numpy_names_differentiate():
    x = rg.tensor(A, requires_grad=True)
    assert rg.autograd.gradcheck(lambda t: t.logsumexp(axis=1, keepdims=True), (x,))
    assert rg.autograd.gradcheck(lambda t: rg.sum(t * t, axis=0), (x,))


def test_numpy_names_with_out():
    o = rg.empty(2, 1, dtype=rg.float64)
    r = rg.sum(rg.tensor(A), axis=1, keepdims=True, out=o)
    assert r is o
    np.testing.assert_array_equal(o.numpy(), A.sum(1, keepdims=True))


@pytest.mark.parametrize(
    "call",
    [
        lambda x: x.sum(1, axis=1),
        lambda x: x.sum(dim=1, axis=1),
        lambda x: rg.sum(x, keepdim=True, keepdims=True),
        lambda x: x.gather(axis=1),  # index missing
        lambda x: x.gather(index=rg.tensor([[0]])),  # dim missing
        lambda x: rg.nn.functional.softmax(x, axis=1),  # Python-level in PyTorch: no NumPy names
        lambda x: x.norm(dim=1, keepdims=True),
        lambda x: x.split(1, axis=1),
    ],
)
def test_numpy_names_refusals_are_type_errors(call):
    with pytest.raises(TypeError):
        call(rg.tensor(A))


def test_numpy_names_forms_report_the_op_signature():
    import inspect

    assert "axis" not in inspect.signature(rg.Tensor.sum).parameters
    assert list(inspect.signature(rg.sum).parameters)[-1] == "out"
    assert rg.Tensor.sum.__name__ == "sum"


def test_numpy_names_in_place_forms():
    x = rg.tensor(A)
    assert x.cumsum_(axis=1) is x
    np.testing.assert_array_equal(x.numpy(), A.cumsum(1))
    assert x.unsqueeze_(axis=0).shape == (1, 2, 3)
    with pytest.raises(TypeError):
        rg.tensor(A).cumsum_(1, axis=1)


def test_swapaxes_and_swapdims_take_their_own_parameter_names():
    x = rg.tensor(A)
    np.testing.assert_array_equal(x.swapaxes(axis0=0, axis1=1).numpy(), A.T)
    np.testing.assert_array_equal(rg.swapdims(x, dim0=1, dim1=0).numpy(), A.T)
    y = rg.tensor(A)
    assert y.swapaxes_(0, 1) is y and y.shape == (3, 2)
    assert y.swapdims_(dim0=0, dim1=1).shape == (2, 3)
    with pytest.raises(TypeError):
        x.swapaxes(dim0=0, dim1=1)


def test_split_method_and_function_parameter_names():
    x = rg.tensor(A)
    parts = x.split(split_size=1, dim=1)
    assert len(parts) == 3 and parts[0].shape == (2, 1)
    assert [p.shape[1] for p in rg.split(x, split_size_or_sections=[1, 2], dim=1)] == [1, 2]
    assert len(rg.unsafe_split(x, 2, 1)) == 2 and len(x.unsafe_split(split_size=1)) == 2


def test_uniform_takes_to_by_name():
    rg.manual_seed(0)
    x = rg.empty(1000).uniform_(2.0, to=3.0)
    assert 2.0 <= float(x.min()) and float(x.max()) < 3.0
    with pytest.raises(TypeError):
        rg.empty(2).uniform_(a=0.0, b=1.0)
