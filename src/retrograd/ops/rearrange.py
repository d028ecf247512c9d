"""Rearranging channels and pixels: pixel_shuffle, pixel_unshuffle, channel_shuffle. Each is a
reshape, a permute and a reshape, so the gradient is the inverse rearrangement.

pixel_shuffle(r):   (*, C r^2, H, W) -> (*, C, H r, W r),
                    out[..., c, h r + i, w r + j] = in[..., c r^2 + i r + j, h, w]
pixel_unshuffle(r): the inverse.
channel_shuffle(g): (N, g k, *) -> (N, k g, *), channel a k + b moves to b g + a.
"""

from ._declare import declare


def _check_factor(factor, op, name):
    if not isinstance(factor, int) or factor <= 0:
        raise RuntimeError(f"{op} expects a positive {name}, but got {factor}")


def _check_dims(input, op):
    if input.dim() < 3:
        raise RuntimeError(
            f"{op} expects input to have at least 3 dimensions, but got input with {input.dim()} dimension(s)"
        )


def pixel_shuffle(input, upscale_factor):
    """Move blocks of r^2 channels into r x r pixel blocks (sub-pixel convolution)."""
    op = "pixel_shuffle"
    _check_factor(upscale_factor, op, "upscale_factor")
    _check_dims(input, op)
    r = upscale_factor
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(
            f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square "
            f"of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}"
        )
    n = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """Move r x r pixel blocks into blocks of r^2 channels (the inverse of pixel_shuffle)."""
    op = "pixel_unshuffle"
    _check_factor(downscale_factor, op, "downscale_factor")
    _check_dims(input, op)
    r = downscale_factor
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise RuntimeError(
            f"pixel_unshuffle expects {'height' if h % r else 'width'} to be divisible by "
            f"downscale_factor, but input.size({-2 if h % r else -1})={h if h % r else w} is "
            f"not divisible by {r}"
        )
    n = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return x.reshape(*lead, c * r * r, h // r, w // r)


def channel_shuffle(input, groups):
    """Interleave the channels of ``groups`` groups (ShuffleNet)."""
    if not isinstance(groups, int) or groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    if input.dim() <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes {list(input.shape)}")
    n, c, *rest = input.shape
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {groups} groups.")
    if groups == 1 or groups == c:  # the identity order: a copy, as PyTorch's result never aliases
        return input.clone()
    x = input.reshape(n, groups, c // groups, *rest).transpose(1, 2)
    return x.reshape(n, c, *rest)


native_channel_shuffle = channel_shuffle


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(pixel_shuffle, functional=("pixel_shuffle",))
declare(pixel_unshuffle, functional=("pixel_unshuffle",))
declare(channel_shuffle, aliases=("native_channel_shuffle",), functional=("channel_shuffle", "native_channel_shuffle"))
