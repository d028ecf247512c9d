"""Differential test: every op of the op table, run on the same inputs in retrograd and PyTorch.

The table's specs are written against the library module they are built with, so
``all_specs(torch)`` is the same table with PyTorch as the library. For each spec and sample:
shape, result dtype and values (float64), then whether the result requires grad and the
gradients of a random vector-Jacobian product; and the result dtype for float32 inputs. A
known difference is named in the spec's ``skip`` ("parity" or "parity_grad").
"""

import numpy as np
import pytest

import retrograd as rg

from ..ops.optable import all_specs
from .errors import builtin_kind

torch = pytest.importorskip("torch")

RG_TABLE = all_specs(rg)
TORCH_TABLE = all_specs(torch)
PAIRS = list(zip(RG_TABLE, TORCH_TABLE))
IDS = [s.name for s in RG_TABLE]


def _np(t):
    if isinstance(t, torch.Tensor):
        return t.detach().numpy(force=True)
    return t.detach().numpy()


def _dtype_name(t):
    return str(t.dtype).rsplit(".", 1)[-1]


def _close(name, what, got, want, rtol=1e-6):
    scale = max(1.0, float(np.abs(want[np.isfinite(want)]).max(initial=0)))
    np.testing.assert_allclose(
        got, want, rtol=rtol, atol=1e-9 * scale, equal_nan=True, err_msg=f"{name}: {what} differs from PyTorch"
    )


def _grads(lib, out, inputs, seed):
    grads = lib.autograd.grad(out, inputs, lib.tensor(seed, dtype=out.dtype), allow_unused=True)
    return [np.zeros(x.shape) if g is None else _np(g) for g, x in zip(grads, inputs)]


@pytest.mark.parametrize("spec, tspec", PAIRS, ids=IDS)
def test_values_and_gradients_match_torch(spec, tspec):
    if "parity" in spec.skip:
        pytest.skip(f"{spec.name}: {spec.skip['parity']}")
    rng = np.random.default_rng(6)
    for arrays in spec.samples(rng):
        r_in = [rg.tensor(a, requires_grad=True) for a in arrays]
        t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
        r_out, t_out = spec.fn(*r_in), tspec.fn(*t_in)
        assert tuple(r_out.shape) == tuple(t_out.shape), f"{spec.name}: shape"
        assert _dtype_name(r_out) == _dtype_name(t_out), f"{spec.name}: result dtype"
        _close(spec.name, "value", _np(r_out), _np(t_out))
        if "parity_grad" in spec.skip:
            continue  # named difference: values compared, gradients not
        assert r_out.requires_grad == t_out.requires_grad, f"{spec.name}: requires_grad"
        if not (t_out.requires_grad and t_out.is_floating_point()):
            continue
        seed = rng.standard_normal(tuple(t_out.shape))
        if spec.grad == "raises":  # no derivative: both raise, retrograd an exception of PyTorch's kind
            with pytest.raises(Exception) as t_err:
                _grads(torch, t_out, t_in, seed)
            with pytest.raises(builtin_kind(type(t_err.value))):
                _grads(rg, r_out, r_in, seed)
            continue
        for k, (g, tg) in enumerate(zip(_grads(rg, r_out, r_in, seed), _grads(torch, t_out, t_in, seed))):
            _close(spec.name, f"gradient of input {k}", g, tg)


@pytest.mark.parametrize("spec, tspec", PAIRS, ids=IDS)
def test_float32_result_dtype_matches_torch(spec, tspec):
    if "parity" in spec.skip:
        pytest.skip(f"{spec.name}: {spec.skip['parity']}")
    arrays = next(spec.samples(np.random.default_rng(7), np.float32))
    r_out = spec.fn(*[rg.tensor(a) for a in arrays])
    t_out = tspec.fn(*[torch.tensor(a) for a in arrays])
    assert _dtype_name(r_out) == _dtype_name(t_out)
