"""The activation, layer and loss op tables on device='cuda' against the CPU: the same values and
the same gradients of sum(out * w).

Runs only where CuPy and an NVIDIA GPU are available; elsewhere it is skipped with that reason.
"""
import numpy as np
import pytest

import retrograd as rg

from .cuda_support import requires_cuda
import retrograd.nn.functional as F

cp = pytest.importorskip("cupy", reason="CuPy is not installed")
pytestmark = requires_cuda

from .ops import table_activation, table_layers, table_loss  # noqa: E402
from .test_cuda_op_tables import _OnCuda, _run  # noqa: E402


def _pairs():
    tables = (table_activation, table_layers, table_loss)
    cpu = [s for t in tables for s in t.build(rg)]
    gpu = [s for t in tables for s in t.build(_OnCuda())]
    return list(zip(cpu, gpu))


PAIRS = _pairs()


@pytest.mark.parametrize("pair", PAIRS, ids=[p[0].name for p in PAIRS])
def test_cuda_matches_cpu(pair):
    cpu_spec, gpu_spec = pair
    for arrays in cpu_spec.samples(np.random.default_rng(1)):
        want, _, want_g = _run(cpu_spec, arrays, "cpu")
        got, dev, got_g = _run(gpu_spec, arrays, "cuda")
        assert dev == "cuda"
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9)
        for g, h in zip(got_g, want_g):
            assert (g is None) == (h is None)
            if g is not None:
                np.testing.assert_allclose(g, h, rtol=1e-7, atol=1e-9)


def test_dropout_and_sdpa_dropout_on_cuda():
    x = rg.ones(64, 64, device="cuda", requires_grad=True)
    y = F.dropout(x, 0.25)
    assert y.device.type == "cuda"
    y.sum().backward()
    kept = x.grad.cpu().numpy() != 0
    assert 0.6 < kept.mean() < 0.9
    q = rg.randn(2, 3, 4).to("cuda")
    out = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5, is_causal=True)
    assert out.device.type == "cuda"
