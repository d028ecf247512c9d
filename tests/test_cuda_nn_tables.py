"""The activation, layer and loss op tables on device='cuda' against the CPU: the same values and
the same gradients of sum(out * w).

Runs only where CuPy and an NVIDIA GPU are available; elsewhere it is skipped with that reason.
"""

import pytest

import retrograd as rg
import retrograd.nn.functional as F

from .cuda_support import requires_cuda

cp = pytest.importorskip("cupy", reason="CuPy is not installed")
pytestmark = requires_cuda

from .ops import table_activation, table_layers, table_loss  # noqa: E402
from .test_cuda_op_tables import _OnCuda, assert_same_on_cuda  # noqa: E402


def _pairs():
    tables = (table_activation, table_layers, table_loss)
    cpu = [s for t in tables for s in t.build(rg)]
    gpu = [s for t in tables for s in t.build(_OnCuda())]
    return list(zip(cpu, gpu))


PAIRS = _pairs()


@pytest.mark.parametrize("pair", PAIRS, ids=[p[0].name for p in PAIRS])
def test_cuda_matches_cpu(pair):
    assert_same_on_cuda(*pair)


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
