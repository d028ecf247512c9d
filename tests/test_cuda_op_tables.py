"""The indexing, sorting and linear-algebra op tables on device='cuda' against the CPU: the same
values and the same gradients of sum(out * w).

Runs only where CuPy and an NVIDIA GPU are available; elsewhere it is skipped with that reason.
"""

import numpy as np
import pytest

import retrograd as rg

from .cuda_support import requires_cuda

cp = pytest.importorskip("cupy", reason="CuPy is not installed")
pytestmark = requires_cuda

from .ops import table_indexing, table_linalg, table_sorting  # noqa: E402


class _OnCuda:
    """retrograd with its factories defaulting to device='cuda', so that the constants a table
    entry builds (index tensors, masks, identity matrices) live beside its inputs."""

    _FACTORIES = ("tensor", "eye", "zeros", "ones", "full", "arange", "empty")

    def __getattr__(self, name):
        fn = getattr(rg, name)
        if name not in self._FACTORIES:
            return fn

        def on_cuda(*args, device=None, **kwargs):
            return fn(*args, **kwargs).to("cuda" if device is None else device)

        return on_cuda


def _pairs():
    cpu = table_indexing.build(rg) + table_sorting.build(rg) + table_linalg.build(rg)
    gpu = table_indexing.build(_OnCuda()) + table_sorting.build(_OnCuda()) + table_linalg.build(_OnCuda())
    return list(zip(cpu, gpu))


PAIRS = _pairs()


def _run(spec, arrays, device):
    inputs = [rg.tensor(a).to(device).requires_grad_() for a in arrays]
    out = spec.fn(*inputs)
    if out.requires_grad and out.numel() and "gradcheck" not in spec.skip:
        w = np.random.default_rng(0).standard_normal(tuple(out.shape))
        (out * rg.tensor(w, dtype=out.dtype).to(device)).sum().backward()
    grads = [t.grad.cpu().numpy() if t.grad is not None else None for t in inputs]
    return out.detach().cpu().numpy(), out.device.type, grads


def assert_same_on_cuda(cpu_spec, gpu_spec):
    """Values and gradients of ``gpu_spec`` on cuda equal those of ``cpu_spec`` on the CPU."""
    for arrays in cpu_spec.samples(np.random.default_rng(1)):
        want, _, want_g = _run(cpu_spec, arrays, "cpu")
        got, dev, got_g = _run(gpu_spec, arrays, "cuda")
        assert dev == "cuda"
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9)
        for g, h in zip(got_g, want_g):
            assert (g is None) == (h is None)
            if g is not None:
                np.testing.assert_allclose(g, h, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("pair", PAIRS, ids=[p[0].name for p in PAIRS])
def test_cuda_matches_cpu(pair):
    assert_same_on_cuda(*pair)
