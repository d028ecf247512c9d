"""memory_format is honoured, never ignored: clone keeps the order of strides by default
(PyTorch's preserve_format), contiguous/clone give row-major or channels-last layouts."""

import numpy as np
import pytest

import retrograd as rg


def test_clone_preserves_the_order_of_strides():
    x = rg.arange(12.0).reshape(3, 4).t()
    c = x.clone()
    assert c.stride() == x.stride() and c.tolist() == x.tolist()
    assert not np.may_share_memory(c.numpy(), x.numpy())
    assert x.clone(memory_format=rg.contiguous_format).stride() == (3, 1)


def test_channels_last_clone_and_contiguous():
    x = rg.arange(2 * 3 * 4 * 5, dtype=rg.float64).reshape(2, 3, 4, 5)
    cl = x.contiguous(memory_format=rg.channels_last)
    assert cl.stride() == (60, 1, 15, 3) and cl.tolist() == x.tolist()
    assert cl.contiguous(memory_format=rg.channels_last) is cl
    assert cl.contiguous().stride() == (60, 20, 5, 1)
    assert x.clone(memory_format=rg.channels_last).stride() == (60, 1, 15, 3)
    with pytest.raises(RuntimeError, match="rank 4"):
        rg.ones(2, 3).clone(memory_format=rg.channels_last)
    with pytest.raises(RuntimeError, match="preserve memory format"):
        x.contiguous(memory_format=rg.preserve_format)


def test_clone_with_a_memory_format_is_differentiable():
    x = rg.randn(2, 3, 4, 5, dtype=rg.float64, requires_grad=True)
    assert rg.autograd.gradcheck(lambda t: t.clone(memory_format=rg.channels_last) * 2, (x,))


def test_like_factories_and_to_honour_memory_format():
    x = rg.arange(24.0).reshape(2, 3, 4).permute(2, 0, 1)  # a dense permutation
    for f in (rg.empty_like, rg.zeros_like, rg.ones_like, lambda t, **k: rg.full_like(t, 2.0, **k)):
        assert f(x).stride() == x.stride()
        assert f(x, memory_format=rg.contiguous_format).stride() == (6, 3, 1)
    assert rg.zeros_like(x).tolist() == np.zeros((4, 2, 3)).tolist()
    y = rg.randn(2, 3, 4, 5)
    assert rg.empty_like(y, memory_format=rg.channels_last).stride() == (60, 1, 15, 3)
    assert rg.empty(2, 3, 4, 5, memory_format=rg.channels_last).stride() == (60, 1, 15, 3)
    assert y.to(memory_format=rg.channels_last).stride() == (60, 1, 15, 3)
    assert y.double(memory_format=rg.channels_last).stride() == (60, 1, 15, 3)
    assert y.to(memory_format=rg.preserve_format) is y
    with pytest.raises(RuntimeError, match="rank 4"):
        rg.zeros_like(rg.ones(3), memory_format=rg.channels_last)


def test_is_contiguous_answers_for_the_memory_format_asked_about():
    x = rg.randn(2, 3, 4, 5)
    cl = x.to(memory_format=rg.channels_last)
    assert x.is_contiguous() and not x.is_contiguous(memory_format=rg.channels_last)
    assert not cl.is_contiguous() and cl.is_contiguous(memory_format=rg.channels_last)
    assert not cl[:, :, ::2].is_contiguous(memory_format=rg.channels_last)  # a gap
    assert rg.randn(2, 1, 4, 5).is_contiguous(memory_format=rg.channels_last)  # one channel: both
    v = rg.randn(2, 3, 4, 5, 6).to(memory_format=rg.channels_last_3d)
    assert v.is_contiguous(memory_format=rg.channels_last_3d) and not v.is_contiguous(memory_format=rg.channels_last)
    with pytest.raises(RuntimeError, match="preserve_format"):
        x.is_contiguous(memory_format=rg.preserve_format)
    with pytest.raises(TypeError, match="memory_format"):
        x.is_contiguous(memory_format="channels_last")


def test_a_new_empty_tensor_has_row_major_strides_as_in_pytorch():
    assert rg.empty(0, 3).stride() == (3, 1)
    assert rg.zeros(3, 0).stride() == (1, 1)
    assert rg.ones(2, 0, 4).stride() == (4, 4, 1)
    assert rg.ones(4, 3)[:, :0].stride() == (3, 1)  # a view keeps its base's strides
