"""Shared helpers for the module tests."""

import numpy as np

import retrograd as rg
from retrograd.autograd import gradcheck


def t64(a, requires_grad=False):
    return rg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def module_gradcheck(module, *inputs, **kwargs):
    """gradcheck of ``module(*inputs)`` with respect to the float inputs that require grad and
    to every parameter (which gradcheck perturbs in place, so the module sees the change)."""
    module.double()
    params = [p for p in module.parameters() if p.requires_grad]
    n = len(inputs)

    def fn(*args):
        return module(*args[:n])

    return gradcheck(fn, tuple(inputs) + tuple(params), **kwargs)


def assert_uniform(t, bound, rel=0.1):
    """Samples look like U(-bound, bound): inside the bounds, mean ~0, std ~bound/sqrt(3)."""
    a = t.detach().numpy().astype(np.float64).ravel()
    assert a.size >= 500
    assert np.abs(a).max() <= bound * (1 + 1e-6)
    assert np.abs(a).max() > bound * 0.9
    assert abs(a.mean()) < 4 * bound / np.sqrt(3) / np.sqrt(a.size)
    np.testing.assert_allclose(a.std(), bound / np.sqrt(3), rtol=rel)


def assert_normal(t, mean, std, rel=0.1):
    a = t.detach().numpy().astype(np.float64).ravel()
    assert a.size >= 500
    assert abs(a.mean() - mean) < 4 * std / np.sqrt(a.size)
    np.testing.assert_allclose(a.std(), std, rtol=rel)
