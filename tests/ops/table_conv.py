"""Op table: convolution, transposed convolution, unfold/fold, pooling, padding, interpolation.

References are the loop implementations of ``conv_refs``; shapes are tiny because gradcheck
does one backward per output element and two forwards per input element.
"""
import numpy as np

from . import conv_refs as R
from .optable import OpSpec


def build(rg):
    F = rg.nn.functional
    T = []
    # ---------------------------------------------------------------- conv2d
    x2, w2, b2 = (2, 2, 4, 3), (3, 2, 2, 2), (3,)
    T += [
        OpSpec("conv2d", lambda x, w, b: F.conv2d(x, w, b), lambda x, w, b: R.conv(x, w, b),
               [[x2, w2, b2], [(1, 1, 3, 3), (2, 1, 3, 3), (2,)]]),
        OpSpec("conv2d_no_bias", F.conv2d, R.conv, [[x2, w2]]),
        OpSpec("conv2d_stride", lambda x, w: F.conv2d(x, w, stride=(2, 1)),
               lambda x, w: R.conv(x, w, stride=(2, 1)), [[(2, 2, 5, 3), w2]]),
        OpSpec("conv2d_padding", lambda x, w, b: F.conv2d(x, w, b, padding=(1, 2)),
               lambda x, w, b: R.conv(x, w, b, padding=(1, 2)), [[(1, 2, 3, 2), w2, b2]]),
        OpSpec("conv2d_padding_same_even_kernel", lambda x, w: F.conv2d(x, w, padding="same"),
               lambda x, w: R.conv(x, w, padding=R.same_padding((2, 3), (1, 1))),
               [[(1, 2, 3, 3), (2, 2, 2, 3)]]),
        OpSpec("conv2d_padding_same_dilated", lambda x, w: F.conv2d(x, w, padding="same", dilation=(2, 1)),
               lambda x, w: R.conv(x, w, padding=R.same_padding((2, 2), (2, 1)), dilation=(2, 1)),
               [[(1, 2, 4, 3), (2, 2, 2, 2)]]),
        OpSpec("conv2d_padding_valid", lambda x, w: F.conv2d(x, w, padding="valid"), R.conv, [[x2, w2]]),
        OpSpec("conv2d_dilation", lambda x, w: F.conv2d(x, w, dilation=2, padding=1),
               lambda x, w: R.conv(x, w, dilation=2, padding=1), [[(1, 2, 4, 4), w2]]),
        OpSpec("conv2d_groups", lambda x, w, b: F.conv2d(x, w, b, groups=2, stride=2, padding=1),
               lambda x, w, b: R.conv(x, w, b, groups=2, stride=2, padding=1),
               [[(2, 4, 3, 3), (4, 2, 2, 2), (4,)]]),
        OpSpec("conv2d_depthwise", lambda x, w: F.conv2d(x, w, groups=2),
               lambda x, w: R.conv(x, w, groups=2), [[(1, 2, 3, 3), (4, 1, 2, 2)]]),
        OpSpec("conv2d_unbatched", F.conv2d, lambda x, w: R.conv(x[None], w)[0], [[(2, 3, 3), w2]]),
        OpSpec("conv2d_noncontiguous", lambda x, w: F.conv2d(x.transpose(2, 3), w.transpose(2, 3)),
               lambda x, w: R.conv(x.swapaxes(2, 3), w.swapaxes(2, 3)), [[(2, 2, 3, 4), (3, 2, 3, 2)]]),
        # few input channels against output channels: the per-sample im2col layout
        OpSpec("conv2d_one_input_channel", lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1),
               lambda x, w, b: R.conv(x, w, b, stride=(2, 1), padding=1),
               [[(2, 1, 4, 3), (4, 1, 2, 2), (4,)]]),
        OpSpec("conv2d_in_composition", lambda x, w: F.conv2d(x.tanh(), w * w).sin(),
               lambda x, w: np.sin(R.conv(np.tanh(x), w * w)),
               [[(1, 2, 3, 3), (2, 2, 2, 2)]]),
    ]
    # ---------------------------------------------------------------- conv1d / conv3d
    T += [
        OpSpec("conv1d", lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1),
               lambda x, w, b: R.conv(x, w, b, stride=2, padding=1), [[(2, 2, 5), (3, 2, 3), (3,)]]),
        OpSpec("conv1d_same_dilated", lambda x, w: F.conv1d(x, w, padding="same", dilation=2),
               lambda x, w: R.conv(x, w, padding=R.same_padding((2,), (2,)), dilation=2),
               [[(2, 2, 5), (2, 2, 2)]]),
        OpSpec("conv1d_groups_unbatched", lambda x, w: F.conv1d(x, w, groups=2),
               lambda x, w: R.conv(x[None], w, groups=2)[0], [[(4, 4), (2, 2, 2)]]),
        OpSpec("conv3d", lambda x, w: F.conv3d(x, w, stride=(1, 2, 1), padding=(1, 0, 0)),
               lambda x, w: R.conv(x, w, stride=(1, 2, 1), padding=(1, 0, 0)),
               [[(1, 2, 2, 3, 2), (2, 2, 2, 2, 2)]]),
    ]
    # ---------------------------------------------------------------- conv_transpose
    T += [
        OpSpec("conv_transpose2d", lambda x, w, b: F.conv_transpose2d(x, w, b),
               lambda x, w, b: R.conv_transpose(x, w, b), [[(2, 2, 2, 3), (2, 3, 2, 2), (3,)]]),
        OpSpec("conv_transpose2d_stride_padding_output_padding",
               lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=(1, 0)),
               lambda x, w: R.conv_transpose(x, w, stride=2, padding=1, output_padding=(1, 0)),
               [[(1, 2, 2, 3), (2, 2, 3, 2)]]),
        OpSpec("conv_transpose2d_groups_dilation",
               lambda x, w: F.conv_transpose2d(x, w, groups=2, dilation=(2, 1)),
               lambda x, w: R.conv_transpose(x, w, groups=2, dilation=(2, 1)),
               [[(1, 4, 2, 2), (4, 1, 2, 2)]]),
        OpSpec("conv_transpose2d_output_padding_below_dilation",
               lambda x, w: F.conv_transpose2d(x, w, output_padding=1, dilation=2),
               lambda x, w: R.conv_transpose(x, w, output_padding=1, dilation=2),
               [[(1, 1, 2, 2), (1, 2, 2, 2)]]),
        OpSpec("conv_transpose1d_unbatched", lambda x, w: F.conv_transpose1d(x, w, stride=3, output_padding=2),
               lambda x, w: R.conv_transpose(x[None], w, stride=3, output_padding=2)[0],
               [[(2, 3), (2, 2, 2)]]),
    ]
    # ---------------------------------------------------------------- unfold / fold
    T += [
        OpSpec("unfold", lambda x: F.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
               lambda x: R.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), [[(2, 2, 3, 4)]]),
        OpSpec("unfold_unbatched", lambda x: F.unfold(x, 2), lambda x: R.unfold(x[None], 2)[0], [[(2, 3, 3)]]),
        OpSpec("fold", lambda c: F.fold(c, (3, 4), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
               lambda c: R.fold(c, (3, 4), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), [[(2, 12, 4)]]),
        OpSpec("fold_overlapping", lambda c: F.fold(c, (3, 3), 2), lambda c: R.fold(c, (3, 3), 2),
               [[(1, 8, 4)]]),
    ]
    # ---------------------------------------------------------------- max pooling
    T += [
        OpSpec("max_pool2d", lambda x: F.max_pool2d(x, 2), lambda x: R.max_pool(x, 2, 2)[0],
               [[(2, 2, 4, 4)], [(2, 3, 5)]]),
        OpSpec("max_pool2d_stride_padding", lambda x: F.max_pool2d(x, 3, stride=2, padding=1),
               lambda x: R.max_pool(x, 2, 3, 2, 1)[0], [[(1, 2, 5, 4)]]),
        OpSpec("max_pool2d_ceil_mode", lambda x: F.max_pool2d(x, (3, 2), (2, 3), (1, 1), ceil_mode=True),
               lambda x: R.max_pool(x, 2, (3, 2), (2, 3), (1, 1), ceil_mode=True)[0], [[(1, 2, 6, 5)]]),
        OpSpec("max_pool2d_dilation", lambda x: F.max_pool2d(x, 2, 1, dilation=(2, 1)),
               lambda x: R.max_pool(x, 2, 2, 1, dilation=(2, 1))[0], [[(1, 1, 4, 3)]]),
        OpSpec("max_pool2d_dilated_disjoint", lambda x: F.max_pool2d(x, 2, 3, dilation=2),
               lambda x: R.max_pool(x, 2, 2, 3, dilation=2)[0], [[(1, 2, 5, 6)]]),
        OpSpec("max_pool2d_ceil_mode_tiled", lambda x: F.max_pool2d(x, 2, ceil_mode=True),
               lambda x: R.max_pool(x, 2, 2, ceil_mode=True)[0], [[(1, 2, 5, 3)]]),
        OpSpec("max_pool2d_with_indices_values",
               lambda x: F.max_pool2d(x, 2, 1, return_indices=True)[0],
               lambda x: R.max_pool(x, 2, 2, 1)[0], [[(1, 2, 3, 3)]]),
        OpSpec("max_pool2d_noncontiguous", lambda x: F.max_pool2d(x.transpose(2, 3), 2),
               lambda x: R.max_pool(x.swapaxes(2, 3), 2, 2)[0], [[(1, 2, 3, 4)]]),
        OpSpec("max_pool1d", lambda x: F.max_pool1d(x, 3, 2, 1, ceil_mode=True),
               lambda x: R.max_pool(x, 1, 3, 2, 1, ceil_mode=True)[0], [[(2, 2, 6)], [(2, 5)]]),
        OpSpec("max_pool3d", lambda x: F.max_pool3d(x, 2, (1, 2, 1)),
               lambda x: R.max_pool(x, 3, 2, (1, 2, 1))[0], [[(1, 1, 3, 4, 2)]]),
    ]
    # ---------------------------------------------------------------- average pooling
    T += [
        OpSpec("avg_pool2d", lambda x: F.avg_pool2d(x, 2), lambda x: R.avg_pool(x, 2, 2),
               [[(2, 2, 4, 4)], [(2, 3, 5)]]),
        OpSpec("avg_pool2d_padding", lambda x: F.avg_pool2d(x, 3, 2, 1),
               lambda x: R.avg_pool(x, 2, 3, 2, 1), [[(1, 2, 5, 4)]]),
        OpSpec("avg_pool2d_exclude_pad", lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
               lambda x: R.avg_pool(x, 2, 3, 2, 1, count_include_pad=False), [[(1, 2, 5, 4)]]),
        OpSpec("avg_pool2d_ceil_mode", lambda x: F.avg_pool2d(x, (3, 2), (2, 3), (1, 1), ceil_mode=True),
               lambda x: R.avg_pool(x, 2, (3, 2), (2, 3), (1, 1), ceil_mode=True), [[(1, 2, 6, 5)]]),
        OpSpec("avg_pool2d_ceil_mode_exclude_pad",
               lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
               lambda x: R.avg_pool(x, 2, 3, 2, 1, ceil_mode=True, count_include_pad=False),
               [[(1, 1, 6, 6)]]),
        OpSpec("avg_pool2d_divisor_override", lambda x: F.avg_pool2d(x, 2, 1, 1, divisor_override=3),
               lambda x: R.avg_pool(x, 2, 2, 1, 1, divisor_override=3), [[(1, 1, 3, 3)]]),
        OpSpec("avg_pool1d", lambda x: F.avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
               lambda x: R.avg_pool(x, 1, 3, 2, 1, ceil_mode=True, count_include_pad=False),
               [[(2, 2, 6)]]),
        OpSpec("avg_pool3d", lambda x: F.avg_pool3d(x, 2, 1, 1),
               lambda x: R.avg_pool(x, 3, 2, 1, 1), [[(1, 1, 2, 3, 2)]]),
    ]
    # ---------------------------------------------------------------- adaptive pooling
    T += [
        OpSpec("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (2, 3)),
               lambda x: R.adaptive_avg_pool(x, 2, (2, 3)), [[(2, 2, 5, 4)], [(2, 3, 5)]]),
        OpSpec("adaptive_avg_pool2d_none", lambda x: F.adaptive_avg_pool2d(x, (None, 1)),
               lambda x: R.adaptive_avg_pool(x, 2, (3, 1)), [[(1, 2, 3, 4)]]),
        OpSpec("adaptive_avg_pool1d", lambda x: F.adaptive_avg_pool1d(x, 3),
               lambda x: R.adaptive_avg_pool(x, 1, (3,)), [[(2, 2, 7)]]),
        OpSpec("adaptive_max_pool2d", lambda x: F.adaptive_max_pool2d(x, (2, 3)),
               lambda x: R.adaptive_max_pool(x, 2, (2, 3)), [[(2, 2, 5, 4)], [(2, 3, 5)]]),
        OpSpec("adaptive_max_pool1d", lambda x: F.adaptive_max_pool1d(x, 3),
               lambda x: R.adaptive_max_pool(x, 1, (3,)), [[(2, 2, 7)]]),
    ]
    # ---------------------------------------------------------------- pad
    T += [
        OpSpec("pad_constant", lambda x: F.pad(x, (1, 2, 0, 1), value=1.5),
               lambda x: R.pad(x, (1, 2, 0, 1), value=1.5), [[(2, 3, 4)]]),
        OpSpec("pad_constant_negative", lambda x: F.pad(x, (-1, 2, 1, -2)),
               lambda x: R.pad(x[:, :-2, 1:], (0, 2, 1, 0)), [[(2, 4, 3)]]),
        OpSpec("pad_reflect", lambda x: F.pad(x, (2, 1, 1, 2), mode="reflect"),
               lambda x: R.pad(x, (2, 1, 1, 2), mode="reflect"), [[(1, 2, 3, 4)]]),
        OpSpec("pad_replicate", lambda x: F.pad(x, (3, 0, 1, 2), mode="replicate"),
               lambda x: R.pad(x, (3, 0, 1, 2), mode="replicate"), [[(1, 2, 3, 2)]]),
        OpSpec("pad_circular", lambda x: F.pad(x, (3, 1), mode="circular"),
               lambda x: R.pad(x, (3, 1), mode="circular"), [[(2, 2, 3)]]),
        OpSpec("pad_reflect_3d", lambda x: F.pad(x, (1, 1, 1, 0, 0, 1), mode="reflect"),
               lambda x: R.pad(x, (1, 1, 1, 0, 0, 1), mode="reflect"), [[(1, 2, 2, 2)]]),
    ]
    # ---------------------------------------------------------------- interpolate
    T += [
        OpSpec("interpolate_nearest_scale", lambda x: F.interpolate(x, scale_factor=2),
               lambda x: R.interpolate(x, (6, 4)), [[(1, 2, 3, 2)]]),
        OpSpec("interpolate_nearest_size", lambda x: F.interpolate(x, size=(2, 5)),
               lambda x: R.interpolate(x, (2, 5)), [[(1, 2, 3, 3)]]),
        OpSpec("interpolate_nearest_exact", lambda x: F.interpolate(x, size=(5, 2), mode="nearest-exact"),
               lambda x: R.interpolate(x, (5, 2), "nearest-exact"), [[(1, 2, 3, 3)]]),
        OpSpec("interpolate_bilinear", lambda x: F.interpolate(x, size=(4, 2), mode="bilinear"),
               lambda x: R.interpolate(x, (4, 2), "bilinear"), [[(1, 2, 3, 3)]]),
        OpSpec("interpolate_bilinear_align_corners",
               lambda x: F.interpolate(x, size=(4, 2), mode="bilinear", align_corners=True),
               lambda x: R.interpolate(x, (4, 2), "bilinear", True), [[(1, 2, 3, 3)]]),
        OpSpec("interpolate_bilinear_scale", lambda x: F.interpolate(x, scale_factor=(1.5, 0.7), mode="bilinear"),
               lambda x: R.interpolate(x, (4, 2), "bilinear", scales=(1 / 1.5, 1 / 0.7)), [[(1, 2, 3, 3)]]),
        OpSpec("interpolate_bicubic", lambda x: F.interpolate(x, size=(4, 3), mode="bicubic"),
               lambda x: R.interpolate(x, (4, 3), "bicubic"), [[(1, 1, 3, 2)]]),
        OpSpec("interpolate_bicubic_align_corners",
               lambda x: F.interpolate(x, size=(2, 4), mode="bicubic", align_corners=True),
               lambda x: R.interpolate(x, (2, 4), "bicubic", True), [[(1, 1, 3, 2)]]),
        OpSpec("interpolate_linear", lambda x: F.interpolate(x, size=5, mode="linear"),
               lambda x: R.interpolate(x, 5, "linear"), [[(2, 2, 3)]]),
        OpSpec("interpolate_trilinear",
               lambda x: F.interpolate(x, size=(3, 2, 3), mode="trilinear", align_corners=True),
               lambda x: R.interpolate(x, (3, 2, 3), "trilinear", True), [[(1, 1, 2, 3, 2)]]),
        OpSpec("interpolate_area", lambda x: F.interpolate(x, size=(2, 3), mode="area"),
               lambda x: R.adaptive_avg_pool(x, 2, (2, 3)), [[(1, 2, 3, 4)]]),
    ]
    return T
