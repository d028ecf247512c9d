"""The convolution, pooling, padding and resampling op table on device='cuda' against the CPU
(values and gradients of sum(out * w)), and second derivatives of a small CNN on both.

Runs only where CuPy and an NVIDIA GPU are available; elsewhere it is skipped with that reason.
"""

import numpy as np
import pytest

import retrograd as rg

from .cuda_support import requires_cuda

cp = pytest.importorskip("cupy", reason="CuPy is not installed")
pytestmark = requires_cuda

import retrograd.nn.functional as F  # noqa: E402

from .ops import table_conv  # noqa: E402
from .test_cuda_op_tables import assert_same_on_cuda  # noqa: E402

SPECS = table_conv.build(rg)


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_cuda_matches_cpu(spec):
    assert_same_on_cuda(spec, spec)


def _cnn_second_derivatives(device):
    rng = np.random.default_rng(0)
    x = rg.tensor(rng.standard_normal((2, 2, 8, 8))).to(device).requires_grad_()
    w1 = rg.tensor(rng.standard_normal((3, 2, 3, 3))).to(device).requires_grad_()
    w2 = rg.tensor(rng.standard_normal((4, 3, 2, 2))).to(device).requires_grad_()
    h = F.max_pool2d(F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), w1).tanh(), 2)
    h = F.interpolate(F.conv_transpose2d(h, w2.transpose(0, 1), stride=2), scale_factor=0.5, mode="bilinear")
    out = F.adaptive_avg_pool2d(F.avg_pool2d(h, 2, padding=1), 1).sum()
    grads = rg.autograd.grad(out, (x, w1, w2), create_graph=True)
    second = rg.autograd.grad(sum((g * g).sum() for g in grads), (x, w1, w2))
    return [t.detach().cpu().numpy() for t in grads + second]


def test_cnn_second_derivatives_match_cpu():
    for got, want in zip(_cnn_second_derivatives("cuda"), _cnn_second_derivatives("cpu")):
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9)
