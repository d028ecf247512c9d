"""Optional parity with PyTorch for out= forms: each function retrograd gives an out= form
accepts out= in PyTorch too, on the same sample call, and writes the same values."""

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import retrograd as rg  # noqa: E402

from ..ops.test_out import _ALL, _UNDEFINED_VALUES, _makers, _plain_call  # noqa: E402

TORCH_NAMESPACES = {"torch": torch, "special": torch.special, "linalg": torch.linalg, "fft": torch.fft}
# retrograd draws random numbers with its own generator: only shapes and dtypes can agree
_RANDOM = {"bernoulli", "multinomial", "normal", "rand", "randn", "randint", "randperm"}


def _to_torch(v):
    if isinstance(v, rg.Tensor):
        return torch.from_numpy(np.array(v.numpy()))
    if isinstance(v, rg.Generator):
        return torch.Generator().manual_seed(0)
    if isinstance(v, (list, tuple)):
        return type(v)(_to_torch(u) for u in v)
    return v


def _empty_like(r):
    return torch.empty(r.shape, dtype=getattr(torch, str(r.dtype).split(".")[-1]))


@pytest.mark.parametrize("namespace,name", _ALL, ids=[f"{ns}.{n}" for ns, n in _ALL])
def test_pytorch_has_the_same_out_form(namespace, name):
    f = getattr(TORCH_NAMESPACES[namespace], name)

    def torch_accepts(make):
        args, kwargs = make()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                f(*_to_torch(args), **{k: _to_torch(v) for k, v in kwargs.items()})
        except Exception:
            return False
        return True

    make, expected = _plain_call(namespace, name, [m for m in _makers(name, namespace) if torch_accepts(m)])
    args, kwargs = make()
    args, kwargs = _to_torch(args), {k: _to_torch(v) for k, v in kwargs.items()}
    single = isinstance(expected, rg.Tensor)
    out = _empty_like(expected) if single else tuple(_empty_like(e) for e in expected)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f(*args, out=out, **kwargs)  # a TypeError here: PyTorch has no such out= form
    for o, e in [(out, expected)] if single else zip(out, expected):
        assert tuple(o.shape) == e.shape
        if name not in _RANDOM | _UNDEFINED_VALUES:
            np.testing.assert_allclose(o.numpy(), e.numpy(), rtol=1e-6, atol=1e-9, equal_nan=True)
