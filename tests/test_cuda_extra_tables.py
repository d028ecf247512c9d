"""The extra op tables (table_extra_*.py) on device='cuda' against the CPU: the same values and
the same gradients of sum(out * w).

Runs only where CuPy and an NVIDIA GPU are available; elsewhere it is skipped with that reason.
"""

import numpy as np
import pytest

import retrograd as rg

from .cuda_support import requires_cuda

cp = pytest.importorskip("cupy", reason="CuPy is not installed")
pytestmark = requires_cuda

from .ops import (  # noqa: E402
    table_extra_construct,
    table_extra_methods,
    table_extra_nn,
    table_extra_pointwise,
    table_extra_stats,
)

_TABLES = (table_extra_construct, table_extra_methods, table_extra_nn, table_extra_pointwise, table_extra_stats)


def _pairs():
    cpu = [s for t in _TABLES for s in t.build(rg)]
    rg.set_default_device("cuda")  # the constants an entry builds (indices, masks) go beside its inputs
    try:
        gpu = [s for t in _TABLES for s in t.build(rg)]
    finally:
        rg.set_default_device(None)
    return list(zip(cpu, gpu))


PAIRS = _pairs()


def _run(spec, arrays, device):
    inputs = [rg.tensor(a, device=device).requires_grad_() for a in arrays]
    out = spec.fn(*inputs)
    if out.requires_grad and out.numel() and "gradcheck" not in spec.skip:
        w = np.random.default_rng(0).standard_normal(tuple(out.shape))
        (out * rg.tensor(w, dtype=out.dtype, device=device)).sum().backward()
    grads = [t.grad.cpu().numpy() if t.grad is not None else None for t in inputs]
    return out.detach().cpu().numpy(), out.device.type, grads


@pytest.mark.parametrize("pair", PAIRS, ids=[p[0].name for p in PAIRS])
def test_cuda_matches_cpu(pair):
    cpu_spec, gpu_spec = pair
    for arrays in cpu_spec.samples(np.random.default_rng(1)):
        want, _, want_g = _run(cpu_spec, arrays, "cpu")
        rg.set_default_device("cuda")
        try:
            got, dev, got_g = _run(gpu_spec, arrays, "cuda")
        finally:
            rg.set_default_device(None)
        assert dev == "cuda"
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)
        for g, h in zip(got_g, want_g):
            assert (g is None) == (h is None)
            if g is not None:
                np.testing.assert_allclose(g, h, rtol=1e-6, atol=1e-9)
