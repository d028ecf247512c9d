"""Keyword spellings of arguments against PyTorch: the same call gives the same values, and
what PyTorch refuses with a TypeError is refused here too."""

import numpy as np
import pytest

import retrograd as rg

torch = pytest.importorskip("torch")

A = np.arange(6.0).reshape(2, 3)

CALLS = [
    lambda m, x: x.view(size=(3, 2)),
    lambda m, x: x.view(dtype=m.int32),
    lambda m, x: x.reshape(shape=(3, 2)),
    lambda m, x: m.reshape(x, shape=(6,)),
    lambda m, x: x.permute(dims=(1, 0)),
    lambda m, x: m.permute(x, dims=[1, 0]),
    lambda m, x: x.flip(dims=(1,)),
    lambda m, x: m.flip(x, dims=(0, 1)),
    lambda m, x: x.repeat(repeats=(2, 1)),
    lambda m, x: x[:1].expand(size=(2, 3)),
    lambda m, x: x.tile(dims=(2,)),
    lambda m, x: m.tile(x, dims=(2, 1, 1)),
    lambda m, x: x.new_zeros(size=(2, 1)),
    lambda m, x: x.new_ones(size=[3]),
    lambda m, x: x.sum_to_size(size=(1, 3)),
    lambda m, x: x.clone().resize_(size=(3, 2)),
]

REFUSED = [
    lambda m, x: x.view(3, 2, size=(6,)),
    lambda m, x: x.view(dtype=m.int32, size=(6,)),
    lambda m, x: x.flip(1, dims=(1,)),
    lambda m, x: x.new_zeros(2, size=(2,)),
    lambda m, x: x.permute(dims=1),
    lambda m, x: x.reshape(shape=6),
    lambda m, x: x.tile(dims=2),
]


@pytest.mark.parametrize("i", range(len(CALLS)))
def test_keyword_spelling_matches_pytorch(i):
    ours = CALLS[i](rg, rg.tensor(A))
    theirs = CALLS[i](torch, torch.tensor(A))
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("i", range(len(REFUSED)))
def test_refused_spelling_is_a_type_error_in_both(i):
    with pytest.raises(TypeError):
        REFUSED[i](torch, torch.tensor(A))
    with pytest.raises(TypeError):
        REFUSED[i](rg, rg.tensor(A))


def _takes_numpy_names(f):
    """Whether ``f``, or the function a derived in-place form ``f`` writes, has axis/keepdims."""
    for g in (f, getattr(f, "__wrapped__", None)):
        code = getattr(g, "__code__", None)
        params = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount] if code is not None else ()
        if "axis" in params or "keepdims" in params:
            return True
    return False


def _aliasable_bindings():
    """(namespace, name, ours, theirs) for every declared binding with a dim/keepdim parameter."""
    from retrograd.ops._declare import REGISTRY
    from retrograd.ops._out import aliased_parameters

    spaces = {
        "torch": (rg, torch),
        "special": (rg.special, torch.special),
        "linalg": (rg.linalg, torch.linalg),
        "fft": (rg.fft, torch.fft),
        "functional": (rg.nn.functional, torch.nn.functional),
    }
    for decl in REGISTRY:
        if not aliased_parameters(decl.fn if decl.method in (True, False) else decl.method):
            continue
        for ns, (ours, theirs) in spaces.items():
            for n in decl.bindings(ns):
                if hasattr(theirs, n):
                    yield ns, n, getattr(ours, n), getattr(theirs, n)
        if decl.method:
            for n in decl.names:
                if hasattr(torch.Tensor, n):
                    yield "method", n, getattr(rg.Tensor, n), getattr(torch.Tensor, n)
        if decl.inplace is not None:
            for n in (f"{m}_" for m in decl.names):
                if hasattr(torch.Tensor, n):
                    yield "method", n, getattr(rg.Tensor, n), getattr(torch.Tensor, n)


def test_numpy_names_are_taken_exactly_where_pytorch_takes_them():
    """PyTorch takes ``axis=``/``keepdims=`` in the ops its C++ argument parser binds, not in those
    written in Python (``F.softmax``, ``Tensor.norm``, ``torch.split``)."""
    import inspect

    wrong = []
    for ns, n, ours, theirs in _aliasable_bindings():
        parsed = inspect.isbuiltin(theirs) or inspect.ismethoddescriptor(theirs)
        if parsed != _takes_numpy_names(ours):
            wrong.append((ns, n, parsed))
    assert not wrong, f"(namespace, name, PyTorch takes axis=) where retrograd differs: {wrong}"


@pytest.mark.parametrize(
    "call",
    [
        lambda m, x: x.sum(axis=1, keepdims=True),
        lambda m, x: m.mean(x, axis=0),
        lambda m, x: x.max(axis=1).values,
        lambda m, x: m.cat([x, x], axis=1),
        lambda m, x: x.cumsum(axis=0),
        lambda m, x: x.std(axis=1, keepdims=True),
        lambda m, x: m.special.logsumexp(x, axis=1),
        lambda m, x: m.linalg.vector_norm(x, axis=1, keepdims=True),
        lambda m, x: m.fft.fft(x, axis=0).real,
    ],
)
def test_numpy_names_match_pytorch_values(call):
    np.testing.assert_allclose(call(rg, rg.tensor(A)).numpy(), call(torch, torch.tensor(A)).numpy(), rtol=1e-12)


@pytest.mark.parametrize("sizes", [(2, 1), (1, 1), (3, 1, 1), (2, 2)])
def test_repeat_result_strides_match_pytorch(sizes):
    ours = rg.arange(3.0).reshape(1, 3).repeat(*sizes)
    theirs = torch.arange(3.0).reshape(1, 3).repeat(*sizes)
    assert ours.stride() == theirs.stride() and ours.tolist() == theirs.tolist()
