"""Factory keywords compared with PyTorch: pin_memory= accepted where PyTorch accepts it,
pin_memory=True refused as PyTorch's CPU build refuses it, layout=sparse_coo giving a sparse
result where both build one, layout= of the wrong type refused; empty_strided's strides; the
*_like random factories' memory_format (values and strides)."""

import numpy as np
import pytest

import retrograd as rg

torch = pytest.importorskip("torch")

X = (2, 3, 4, 5)

# name -> call(L, **keywords), L the library (retrograd or torch)
FACTORIES = {
    "zeros": lambda L, **k: L.zeros(*X, **k),
    "ones": lambda L, **k: L.ones(*X, **k),
    "empty": lambda L, **k: L.empty(*X, **k),
    "full": lambda L, **k: L.full(X, 1.5, **k),
    "arange": lambda L, **k: L.arange(5, **k),
    "linspace": lambda L, **k: L.linspace(0, 1, 5, **k),
    "logspace": lambda L, **k: L.logspace(0, 1, 5, **k),
    "eye": lambda L, **k: L.eye(3, **k),
    "rand": lambda L, **k: L.rand(*X, **k),
    "randn": lambda L, **k: L.randn(*X, **k),
    "randint": lambda L, **k: L.randint(0, 5, X, **k),
    "randperm": lambda L, **k: L.randperm(5, **k),
    "normal": lambda L, **k: L.normal(0.0, 1.0, X, **k),
    "tril_indices": lambda L, **k: L.tril_indices(3, 3, **k),
    "triu_indices": lambda L, **k: L.triu_indices(3, 3, **k),
    "empty_strided": lambda L, **k: L.empty_strided((2, 3), (1, 2), **k),
    "tensor": lambda L, **k: L.tensor([1.0, 2.0], **k),
    "fftfreq": lambda L, **k: L.fft.fftfreq(5, **k),
    "rfftfreq": lambda L, **k: L.fft.rfftfreq(5, **k),
    "new_empty_strided": lambda L, **k: L.ones(2).new_empty_strided((2, 3), (1, 2), **k),
    "new_zeros": lambda L, **k: L.ones(2).new_zeros(X, **k),
    "new_ones": lambda L, **k: L.ones(2).new_ones(X, **k),
    "new_empty": lambda L, **k: L.ones(2).new_empty(X, **k),
    "new_full": lambda L, **k: L.ones(2).new_full(X, 1.5, **k),
    **{
        n: (lambda n: lambda L, **k: getattr(L, n)(L.ones(*X), **k))(n)
        for n in ("zeros_like", "ones_like", "empty_like")
    },
    **{n: (lambda n: lambda L, **k: getattr(L, n)(L.ones(*X), **k))(n) for n in ("rand_like", "randn_like")},
    "full_like": lambda L, **k: L.full_like(L.ones(*X), 2.0, **k),
    "randint_like": lambda L, **k: L.randint_like(L.ones(*X), 5, **k),
    **{
        n: (lambda n: lambda L, **k: getattr(L, n)(5, **k))(n)
        for n in ("hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window")
    },
}
NO_LAYOUT = {"tensor"}


def _outcome(call, L, **k):
    """ "ok" with the result's layout name, or the exception type."""
    try:
        r = call(L, **k)
    except Exception as e:  # compared by type below
        return type(e)
    return str(r.layout).split(".")[-1]


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_pin_memory_as_pytorch(name):
    call = FACTORIES[name]
    assert call(rg, pin_memory=False).shape == call(torch, pin_memory=False).shape
    if not rg.cuda.is_available() and not torch.cuda.is_available():
        with pytest.raises(RuntimeError):
            call(torch, pin_memory=True)
        with pytest.raises(RuntimeError, match="pin_memory"):
            call(rg, pin_memory=True)


@pytest.mark.parametrize("name", sorted(set(FACTORIES) - NO_LAYOUT))
def test_layout_as_pytorch(name):
    call = FACTORIES[name]
    assert _outcome(call, rg, layout=rg.strided) == _outcome(call, torch, layout=torch.strided) == "strided"
    got = _outcome(call, rg, layout=rg.sparse_coo)
    want = _outcome(call, torch, layout=torch.sparse_coo)
    if got == "sparse_coo":  # built sparse only where PyTorch builds it
        assert want == "sparse_coo"
        assert (
            call(rg, layout=rg.sparse_coo).to_dense().tolist()
            == call(torch, layout=torch.sparse_coo).to_dense().tolist()
        )
    else:
        assert got in (NotImplementedError, RuntimeError)
    assert _outcome(call, rg, layout="strided") is _outcome(call, torch, layout="strided") is TypeError


@pytest.mark.parametrize("seed", range(6))
def test_empty_strided_strides_as_pytorch(seed):
    rs = np.random.RandomState(seed)
    ndim = rs.randint(0, 4)
    size = tuple(int(v) for v in rs.randint(0, 4, ndim))
    stride = tuple(int(v) for v in rs.randint(0, 13, ndim))
    r, t = rg.empty_strided(size, stride), torch.empty_strided(size, stride)
    assert r.shape == t.shape and r.stride() == t.stride()
    assert r.is_contiguous() == t.is_contiguous()
    with pytest.raises(RuntimeError):
        torch.empty_strided((2, 3), (-1, 2))
    with pytest.raises(RuntimeError):
        rg.empty_strided((2, 3), (-1, 2))


@pytest.mark.parametrize("name", ["rand_like", "randn_like", "randint_like"])
@pytest.mark.parametrize("fmt", [None, "contiguous_format", "channels_last", "preserve_format"])
@pytest.mark.parametrize("channels_last_input", [False, True])
def test_random_like_memory_format_as_pytorch(name, fmt, channels_last_input):
    def make(L):
        x = L.ones(*X)
        if channels_last_input:
            x = x.contiguous(memory_format=L.channels_last)
        L.manual_seed(3)
        k = {} if fmt is None else {"memory_format": getattr(L, fmt)}
        return getattr(L, name)(x, *((7,) if name == "randint_like" else ()), **k)

    r, t = make(rg), make(torch)
    assert r.stride() == t.stride()
    np.testing.assert_allclose(r.numpy(), t.numpy(), rtol=1e-6, atol=1e-6)
