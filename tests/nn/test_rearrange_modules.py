"""PixelShuffle, PixelUnshuffle, ChannelShuffle modules and F.embedding_bag's argument rules."""

import numpy as np
import pytest

import retrograd as rg
import retrograd.nn.functional as F


def test_shuffle_modules_round_trip():
    x = rg.randn(2, 8, 3, 5)
    up = rg.nn.PixelShuffle(2)(x)
    assert up.shape == (2, 2, 6, 10)
    assert rg.equal(rg.nn.PixelUnshuffle(2)(up), x)
    assert repr(rg.nn.PixelShuffle(2)) == "PixelShuffle(upscale_factor=2)"
    assert repr(rg.nn.PixelUnshuffle(3)) == "PixelUnshuffle(downscale_factor=3)"
    s = rg.nn.ChannelShuffle(4)(x)
    assert repr(rg.nn.ChannelShuffle(4)) == "ChannelShuffle(groups=4)"
    assert rg.equal(F.channel_shuffle(s, 2), x)  # shuffling 8 channels by 4 then by 2 restores them
    assert rg.channel_shuffle is F.channel_shuffle and rg.pixel_shuffle is F.pixel_shuffle


def test_shuffle_errors():
    x = rg.ones(1, 3, 2, 2)
    with pytest.raises(RuntimeError, match="divisible by the square"):
        F.pixel_shuffle(x, 2)
    with pytest.raises(RuntimeError, match="positive"):
        F.pixel_shuffle(x, 0)
    with pytest.raises(RuntimeError, match="at least 3 dimensions"):
        F.pixel_shuffle(rg.ones(4, 4), 2)
    with pytest.raises(RuntimeError, match="height to be divisible"):
        F.pixel_unshuffle(rg.ones(1, 1, 3, 4), 2)
    with pytest.raises(RuntimeError, match="divisible by groups"):
        F.channel_shuffle(x, 2)
    with pytest.raises(RuntimeError, match="> 2 dims"):
        F.channel_shuffle(rg.ones(4, 2), 1)


def test_embedding_bag_rules():
    w = rg.randn(5, 3)
    idx = rg.tensor([0, 1, 2])
    with pytest.raises(ValueError, match="sum, mean or max"):
        F.embedding_bag(idx, w, rg.tensor([0]), mode="median")
    with pytest.raises(ValueError, match="scaling the gradient"):
        F.embedding_bag(idx, w, rg.tensor([0]), mode="max", scale_grad_by_freq=True)
    with pytest.raises(ValueError, match="sparse"):
        F.embedding_bag(idx, w, rg.tensor([0]), mode="max", sparse=True)
    with pytest.raises(NotImplementedError, match="per_sample_weights"):
        F.embedding_bag(idx, w, rg.tensor([0]), mode="mean", per_sample_weights=rg.ones(3))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        F.embedding_bag(idx, w)
    with pytest.raises(ValueError, match="2D"):
        F.embedding_bag(idx, rg.ones(5), rg.tensor([0]))
    out = F.embedding_bag(idx, w, rg.tensor([0, 1]), padding_idx=-5, mode="sum")
    np.testing.assert_allclose(out.numpy(), np.stack([np.zeros(3), w.numpy()[1] + w.numpy()[2]]), rtol=1e-6)
    bag = rg.nn.EmbeddingBag(5, 3, mode="sum")
    np.testing.assert_allclose(
        bag(idx, rg.tensor([0])).detach().numpy(), bag.weight.detach().numpy()[:3].sum(0, keepdims=True), rtol=1e-6
    )


@pytest.mark.parametrize("groups", [1, 2, 4])
def test_channel_shuffle_result_is_a_new_tensor(groups):
    """With groups 1 or C the order is unchanged, but the result is still a copy, as in PyTorch."""
    x = rg.arange(16.0).reshape(1, 4, 2, 2)
    y = F.channel_shuffle(x, groups)
    ref = np.arange(16.0).reshape(1, groups, 4 // groups, 2, 2).swapaxes(1, 2).reshape(1, 4, 2, 2)
    np.testing.assert_array_equal(y.numpy(), ref)
    y.add_(100)
    np.testing.assert_array_equal(x.numpy(), np.arange(16.0).reshape(1, 4, 2, 2))
