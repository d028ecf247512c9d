"""torch.nn.attention.sdpa_kernel and torch.backends.cuda's attention switches: retrograd's one
kernel is the math one, so it runs while that is enabled and refuses when it is excluded."""

import numpy as np
import pytest

import retrograd as rg
import retrograd.nn.functional as F
from retrograd.nn.attention import SDPBackend, sdpa_kernel


def _qkv():
    g = np.random.default_rng(0)
    return [rg.tensor(g.standard_normal((2, 3, 4, 8)), dtype=rg.float32) for _ in range(3)]


def test_a_block_that_keeps_the_math_kernel_runs_it():
    q, k, v = _qkv()
    ref = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    with sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.MATH]):
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        assert rg.backends.cuda.flash_sdp_enabled() and not rg.backends.cuda.cudnn_sdp_enabled()
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    assert rg.backends.cuda.cudnn_sdp_enabled()  # restored


def test_a_block_without_the_math_kernel_refuses_and_the_choice_comes_back():
    q, k, v = _qkv()
    with pytest.raises(RuntimeError, match="math"):
        with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
            assert not rg.backends.cuda.math_sdp_enabled()
            F.scaled_dot_product_attention(q, k, v)
    assert rg.backends.cuda.math_sdp_enabled()
    F.scaled_dot_product_attention(q, k, v)
    rg.backends.cuda.enable_math_sdp(False)
    try:
        with pytest.raises(RuntimeError, match="no available kernel"):
            F.scaled_dot_product_attention(q, k, v)
    finally:
        rg.backends.cuda.enable_math_sdp(True)


def test_bad_backends_and_the_deprecated_context_manager():
    with pytest.raises(TypeError, match="SDPBackend"):
        with sdpa_kernel(["math"]):
            pass
    with pytest.raises(ValueError, match="ERROR"):
        with sdpa_kernel(SDPBackend.ERROR):
            pass
    q, k, v = _qkv()
    with pytest.warns(FutureWarning, match="sdpa_kernel"):
        with rg.backends.cuda.sdp_kernel(enable_math=False):
            with pytest.raises(RuntimeError, match="math"):
                F.scaled_dot_product_attention(q, k, v)
    assert rg.backends.cuda.math_sdp_enabled()
