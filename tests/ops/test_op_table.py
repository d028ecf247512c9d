"""Every op in the table: forward against NumPy, gradcheck, gradgradcheck, result dtype, no_grad."""
import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import gradcheck, gradgradcheck

from .optable import all_specs

TABLE = all_specs(rg)
IDS = [s.name for s in TABLE]


def _inputs(spec, arrays, requires_grad=True):
    return [rg.tensor(a, requires_grad=requires_grad) for a in arrays]


@pytest.mark.parametrize("spec", TABLE, ids=IDS)
def test_forward_matches_numpy(spec):
    rng = np.random.default_rng(1)
    for arrays in spec.samples(rng):
        out = spec.fn(*_inputs(spec, arrays, False))
        expected = spec.ref(*arrays)
        np.testing.assert_allclose(out.numpy(), expected, rtol=spec.rtol, atol=spec.atol)
        assert out.shape == np.shape(expected)


@pytest.mark.parametrize("spec", TABLE, ids=IDS)
def test_gradcheck(spec):
    if "gradcheck" in spec.skip:
        pytest.skip(spec.skip["gradcheck"])
    rng = np.random.default_rng(2)
    for arrays in spec.samples(rng):
        inputs = _inputs(spec, arrays)
        out = spec.fn(*inputs)
        if not out.requires_grad:
            continue
        assert gradcheck(spec.fn, inputs)


@pytest.mark.parametrize("spec", TABLE, ids=IDS)
def test_gradgradcheck(spec):
    if "gradgradcheck" in spec.skip:
        pytest.skip(spec.skip["gradgradcheck"])
    rng = np.random.default_rng(3)
    for arrays in spec.samples(rng):
        inputs = _inputs(spec, arrays)
        if any(a.size == 0 for a in arrays):
            continue
        assert gradgradcheck(spec.fn, inputs)


@pytest.mark.parametrize("spec", TABLE, ids=IDS)
def test_float32_result_dtype_and_no_grad(spec):
    if "dtype" in spec.skip:
        pytest.skip(spec.skip["dtype"])
    rng = np.random.default_rng(4)
    arrays = next(spec.samples(rng, np.float32))
    inputs = _inputs(spec, arrays)
    out = spec.fn(*inputs)
    assert out.dtype == rg.float32
    with rg.no_grad():
        out = spec.fn(*inputs)
    assert out.grad_fn is None and not out.requires_grad
