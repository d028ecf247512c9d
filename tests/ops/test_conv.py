"""Convolution, pooling, padding and resampling: indices, ties, NaN, dtypes, node names, errors."""

import itertools

import numpy as np
import pytest

import retrograd as rg
import retrograd.nn.functional as F

from . import conv_refs as R


def _t(shape, seed=0, requires_grad=False, dtype=np.float64):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return rg.tensor(a, requires_grad=requires_grad)


# --------------------------------------------------------------------------- max-pool indices
@pytest.mark.parametrize(
    "nd, shape, kw",
    [
        (2, (2, 2, 5, 4), dict(kernel_size=2)),
        (2, (1, 2, 5, 6), dict(kernel_size=3, stride=2, padding=1)),
        (2, (1, 1, 6, 5), dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=True)),
        (2, (1, 1, 6, 6), dict(kernel_size=2, stride=1, dilation=(2, 3))),
        (2, (3, 5, 4), dict(kernel_size=2)),
        (1, (2, 2, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
        (3, (1, 1, 3, 4, 3), dict(kernel_size=2, stride=1, padding=1)),
    ],
)
def test_max_pool_indices_match_reference(nd, shape, kw):
    x = _t(shape)
    fn = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[nd]
    values, indices = fn(x, return_indices=True, **kw)
    ref_values, ref_indices = R.max_pool(x.numpy(), nd, kw.pop("kernel_size"), **kw)
    np.testing.assert_allclose(values.numpy(), ref_values)
    assert indices.dtype == rg.int64
    np.testing.assert_array_equal(indices.numpy(), ref_indices)


def test_max_pool_with_indices_functions():
    x = _t((1, 2, 4, 4))
    values, indices = F.max_pool2d_with_indices(x, 2)
    np.testing.assert_array_equal(values.numpy(), F.max_pool2d(x, 2).numpy())
    assert rg.max_pool1d_with_indices(_t((1, 2, 4)), 2)[1].shape == (1, 2, 2)


def test_adaptive_max_pool_indices():
    x = _t((2, 3, 5, 7))
    values, indices = F.adaptive_max_pool2d(x, (3, 4), return_indices=True)
    flat = x.numpy().reshape(2, 3, -1)
    np.testing.assert_array_equal(
        np.take_along_axis(flat, indices.numpy().reshape(2, 3, -1), 2), values.numpy().reshape(2, 3, -1)
    )
    np.testing.assert_allclose(values.numpy(), R.adaptive_max_pool(x.numpy(), 2, (3, 4)))


def test_max_pool_ties_send_the_gradient_to_the_first_maximum():
    x = rg.ones(1, 1, 2, 4, requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[1, 0, 1, 0], [0, 0, 0, 0]])


def test_max_pool_propagates_nan():
    x = rg.tensor([[[[1.0, float("nan")], [3.0, 2.0]]]])
    values, indices = F.max_pool2d(x, 2, return_indices=True)
    assert np.isnan(values.item()) and indices.item() == 1


def test_max_pool_non_finite_values_stay_in_place():
    x = rg.tensor([[[[1.0, 2.0, 5.0, -np.inf], [4.0, 3.0, 0.0, 6.0]]]], requires_grad=True)
    out = F.max_pool2d(x, 2)
    out.backward(rg.tensor([[[[np.inf, 1.0]]]]))
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[0, 0, 0, 0], [np.inf, 0, 0, 1]])
    values, indices = F.max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(values.detach().numpy(), [[[[4.0, 6.0]]]])
    np.testing.assert_array_equal(indices.numpy(), [[[[4, 7]]]])


def test_max_pool_gradient_of_overlapping_windows_accumulates():
    x = rg.tensor([[[0.0, 5.0, 1.0, 2.0]]], requires_grad=True)
    F.max_pool1d(x, 2, stride=1).sum().backward()  # windows (0,5) (5,1) (1,2)
    np.testing.assert_array_equal(x.grad.numpy(), [[[0, 2, 0, 1]]])


# --------------------------------------------------------------------------- dtypes, shapes, graph
def test_integer_pooling_keeps_dtype():
    x = rg.tensor([[[[1, 2], [3, 4]]]])
    assert F.max_pool2d(x, 2).dtype == rg.int64 and F.max_pool2d(x, 2).item() == 4
    avg = F.avg_pool2d(x, 2, padding=1)
    assert avg.dtype == rg.int64
    np.testing.assert_array_equal(avg.numpy(), [[[[0, 0], [0, 1]]]])  # truncated like PyTorch


def test_float32_conv_and_gradients_stay_float32():
    x = _t((2, 3, 6, 6), requires_grad=True, dtype=np.float32)
    w = _t((4, 3, 3, 3), seed=1, requires_grad=True, dtype=np.float32)
    out = F.max_pool2d(F.conv2d(x, w, padding=1), 2)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == w.grad.dtype == rg.float32


def test_empty_batch():
    x = rg.zeros(0, 2, 4, 4, dtype=rg.float64, requires_grad=True)
    w = _t((3, 2, 2, 2), requires_grad=True)
    out = F.conv2d(x, w)
    assert out.shape == (0, 3, 3, 3)
    out.sum().backward()
    assert x.grad.shape == (0, 2, 4, 4) and float(w.grad.abs().sum()) == 0.0
    assert F.max_pool2d(x, 2).shape == (0, 2, 2, 2)


@pytest.mark.parametrize(
    "x_shape, w_shape, kw",
    [
        ((3, 1, 5, 4), (4, 1, 2, 2), dict(padding=1, stride=(2, 1))),  # per-sample layout
        ((3, 4, 6, 5), (4, 2, 3, 2), dict(padding=(1, 0), groups=2)),  # batch-last layout
    ],
)
def test_conv_im2col_in_blocks_matches_reference(monkeypatch, x_shape, w_shape, kw):
    # the smallest block size makes every sample or output row a block of its own
    from retrograd.ops import conv

    monkeypatch.setattr(conv, "_BLOCK_BYTES", 1)
    x = _t(x_shape, requires_grad=True)
    w = _t(w_shape, seed=1, requires_grad=True)
    b = _t(w_shape[:1], seed=2, requires_grad=True)
    out = F.conv2d(x, w, b, **kw)
    ref = R.conv(x.detach().numpy(), w.detach().numpy(), b.detach().numpy(), **kw)
    np.testing.assert_allclose(out.detach().numpy(), ref, rtol=1e-12, atol=1e-12)
    assert rg.autograd.gradcheck(lambda x, w, b: F.conv2d(x, w, b, **kw), (x, w, b))
    assert rg.autograd.gradgradcheck(lambda x, w, b: F.conv2d(x, w, b, **kw), (x, w, b))


@pytest.mark.parametrize("path", ["taps", "shifted", "batch-last"])
@pytest.mark.parametrize(
    "fn, x_shape, w_shape, kw",
    [
        (F.conv2d, (2, 4, 5, 6), (6, 2, 3, 2), dict(padding=(1, 2), dilation=(2, 1), groups=2)),
        (F.conv2d, (2, 3, 5, 4), (2, 3, 3, 3), dict()),  # no padding: the padded grid is the input
        (F.conv2d, (2, 2, 6, 5), (3, 2, 2, 3), dict(stride=(2, 1), padding=1)),
        (F.conv1d, (2, 2, 7), (3, 2, 3), dict(padding=1, dilation=2)),
        (F.conv3d, (1, 2, 4, 3, 4), (2, 2, 2, 2, 3), dict(padding=(0, 1, 1))),
        (F.conv2d, (0, 2, 4, 4), (3, 2, 2, 2), dict(padding=1)),  # an empty batch
        (F.conv2d, (0, 2, 5, 4), (4, 2, 2, 2), dict(stride=2)),
    ],
)
def test_conv_every_layout_matches_reference(monkeypatch, path, fn, x_shape, w_shape, kw):
    # each layout on every geometry, whatever the size heuristic would pick, one sample per
    # block: per sample, with the input gradient at stride 1 as one accumulating GEMM per tap
    # ("taps", where a BLAS with beta is at hand) or as shifted adds ("shifted"); or batch last
    from retrograd.backend import blas
    from retrograd.ops import conv

    monkeypatch.setattr(conv, "_per_sample", lambda *args: path != "batch-last")
    monkeypatch.setattr(conv, "_BLOCK_BYTES", 1)
    monkeypatch.setattr(conv, "_TAPS_BLOCK_BYTES", 1)
    if path == "shifted":
        monkeypatch.setattr(blas, "adding", lambda: None)
    x = _t(x_shape, requires_grad=True)
    w = _t(w_shape, seed=1, requires_grad=True)
    b = _t(w_shape[:1], seed=2, requires_grad=True)
    out = fn(x, w, b, **kw)
    ref = R.conv(x.detach().numpy(), w.detach().numpy(), b.detach().numpy(), **kw)
    np.testing.assert_allclose(out.detach().numpy(), ref, rtol=1e-12, atol=1e-12)
    if x_shape[0] == 0:  # gradcheck has nothing to perturb; the gradients are zeros
        gx, gw, gb = rg.autograd.grad(out.sum(), (x, w, b))
        assert gx.shape == x.shape and float(gw.abs().sum()) == float(gb.abs().sum()) == 0.0
        return
    assert rg.autograd.gradcheck(lambda x, w, b: fn(x, w, b, **kw), (x, w, b))
    assert rg.autograd.gradgradcheck(lambda x, w, b: fn(x, w, b, **kw), (x, w, b))


def _direct_input_grad(y, w, x_shape, padding=0, dilation=1, groups=1):
    """The input gradient of a stride-1 conv(x, w) for the output gradient y, from the
    definition: x[n, g Cg + c, p] receives w[o, c, k] y[n, o, q] for every output position q and
    tap k with q + k d - pad = p (each product formed only where the tap reaches p)."""
    nd = len(x_shape) - 2
    pad, dil = R._tup(padding, nd), R._tup(dilation, nd)
    o_, cg, *kernel = w.shape
    og = o_ // groups
    gx = np.zeros(x_shape)
    for o in range(o_):
        g = o // og
        for c in range(cg):
            for k in itertools.product(*map(range, kernel)):
                for q in itertools.product(*map(range, y.shape[2:])):
                    p = tuple(qq + kk * d - pp for qq, kk, d, pp in zip(q, k, dil, pad))
                    if all(0 <= pj < s for pj, s in zip(p, x_shape[2:])):
                        gx[(slice(None), g * cg + c) + p] += w[(o, c) + k] * y[(slice(None), o) + q]
    return gx


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "x_shape, w_shape, kw, block",
    [
        ((3, 4, 5, 6), (6, 4, 3, 3), dict(padding=1), 2),  # blocks of 2 samples, the last one short
        ((5, 4, 4, 5), (4, 2, 2, 3), dict(padding=(1, 0), dilation=(1, 2), groups=2), 3),
        ((3, 3, 7), (2, 3, 3), dict(padding=2, dilation=2), 2),
        ((2, 2, 3, 4, 3), (3, 2, 2, 2, 2), dict(padding=1), 1),
    ],
)
def test_input_gradient_as_one_gemm_per_tap(monkeypatch, dtype, x_shape, w_shape, kw, block):
    # the stride-1 input gradient through blas.matmul_add: samples side by side on the padded
    # grid, a block of them per GEMM; every value checked against the reference
    from retrograd.backend import blas
    from retrograd.ops import conv

    if blas.adding() is None:
        pytest.skip("no BLAS with beta = 1 at hand: the shifted adds are used")
    nd = len(x_shape) - 2
    padded = [s + 2 * p for s, p in zip(x_shape[2:], R._tup(kw["padding"], nd))]
    monkeypatch.setattr(conv, "_TAPS_BLOCK_BYTES", block * (w_shape[0] + x_shape[1]) * int(np.prod(padded)) * 8)
    monkeypatch.setattr(conv, "_per_sample", lambda *args: True)
    taken = []
    monkeypatch.setattr(conv, "_conv_t_taps", lambda *a, f=conv._conv_t_taps: taken.append(1) or f(*a))
    fn = (F.conv1d, F.conv2d, F.conv3d)[nd - 1]
    x = _t(x_shape, requires_grad=True, dtype=dtype)
    w = _t(w_shape, seed=1, dtype=dtype)
    out = fn(x, w, **kw)
    y = np.random.default_rng(2).standard_normal(out.shape).astype(dtype)
    out.backward(rg.tensor(y))
    assert taken and x.grad.dtype == x.dtype
    ref = _direct_input_grad(y.astype(np.float64), w.detach().numpy().astype(np.float64), x_shape, **kw)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(x.grad.numpy(), ref, rtol=tol, atol=tol)
    if dtype == np.float64:
        x64 = _t(x_shape, requires_grad=True)
        w64 = _t(w_shape, seed=1, requires_grad=True)
        assert rg.autograd.gradcheck(lambda x, w: fn(x, w, **kw), (x64, w64))
        assert rg.autograd.gradgradcheck(lambda x, w: fn(x, w, **kw), (x64, w64))


@pytest.mark.parametrize("adding", [True, False])
def test_input_gradient_with_an_infinite_weight_reaches_only_its_taps(monkeypatch, adding):
    # spreading the gradient onto the padded grid (taps or shifted adds) multiplies its zeros
    # by every weight; with an infinite weight that would put NaN where its tap never reaches,
    # so such weights take the exact scatter: the border the tap misses keeps a finite gradient
    from retrograd.backend import blas
    from retrograd.ops import conv

    monkeypatch.setattr(conv, "_per_sample", lambda *args: True)
    if not adding:
        monkeypatch.setattr(blas, "adding", lambda: None)
    x = _t((2, 3, 5, 5), requires_grad=True)
    w = np.random.default_rng(1).standard_normal((4, 3, 3, 3))
    w[1, 2, 2, 2] = np.inf
    out = F.conv2d(x, rg.tensor(w))
    y = np.ones(out.shape)
    out.backward(rg.tensor(y))
    ref = _direct_input_grad(y, w, x.shape)
    np.testing.assert_array_equal(np.isnan(x.grad.numpy()), np.isnan(ref))
    finite = np.isfinite(ref)
    assert finite[:, :, 0, 0].all() and not finite.all()
    np.testing.assert_allclose(x.grad.numpy()[finite], ref[finite], rtol=1e-12)


def test_node_names_follow_pytorch():
    x = _t((1, 2, 4, 4), requires_grad=True)
    w = _t((2, 2, 2, 2), seed=1, requires_grad=True)
    assert F.conv2d(x, w).grad_fn.name() == "ConvolutionBackward0"
    assert F.conv_transpose2d(x, w).grad_fn.name() == "ConvolutionBackward0"
    assert F.max_pool2d(x, 2).grad_fn.name() == "MaxPool2DWithIndicesBackward0"
    assert F.avg_pool2d(x, 2).grad_fn.name() == "AvgPool2DBackward0"
    assert F.unfold(x, 2).grad_fn.name() == "Im2ColBackward0"


def test_conv_input_modified_in_place_after_forward_is_detected():
    x = _t((1, 2, 4, 4), requires_grad=True)
    w = _t((2, 2, 2, 2), seed=1, requires_grad=True)
    y = x * 1
    out = F.conv2d(y, w)
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_conv_third_derivative():
    # d^3/dx^3 of sum(conv(x, w)^3) is 6 * sum_o w^3 summed appropriately; compare to finite
    # differences of the second derivative instead of deriving it by hand
    x = _t((1, 1, 3, 3), requires_grad=True)
    w = _t((1, 1, 2, 2), seed=1)

    def second(xv):
        out = (F.conv2d(xv, w) ** 3).sum()
        (g,) = rg.autograd.grad(out, xv, create_graph=True)
        (gg,) = rg.autograd.grad(g.sum(), xv, create_graph=True)
        return gg

    gg = second(x)
    (ggg,) = rg.autograd.grad(gg.sum(), x)
    eps = 1e-6
    numeric = np.zeros(9)
    for i in range(9):
        for sign in (1, -1):
            xv = rg.tensor(x.detach().numpy().copy(), requires_grad=True)
            xv._data.reshape(-1)[i] += sign * eps
            numeric[i] += sign * float(second(xv).sum()) / (2 * eps)
    np.testing.assert_allclose(ggg.numpy().reshape(-1), numeric, rtol=1e-4, atol=1e-6)


def test_top_level_exports_are_the_functional_ones():
    assert rg.conv2d is F.conv2d and rg.conv_transpose2d is F.conv_transpose2d
    assert rg.max_pool2d is F.max_pool2d and rg.avg_pool1d is F.avg_pool1d
    assert rg.constant_pad_nd(_t((2, 3)), (1, 1), 2.0).shape == (2, 5)


# --------------------------------------------------------------------------- errors
def _raises(exc, match, fn, *args, **kwargs):
    with pytest.raises(exc, match=match):
        fn(*args, **kwargs)


def test_conv_errors_name_the_shapes():
    x, w = _t((2, 3, 5, 5)), _t((4, 2, 3, 3))
    _raises(
        RuntimeError,
        r"weight of size \[4, 2, 3, 3\], expected input\[2, 3, 5, 5\] to have 2 "
        r"channels, but got 3 channels",
        F.conv2d,
        x,
        w,
    )
    _raises(RuntimeError, r"conv2d, but got input of size: \[5, 5\]", F.conv2d, _t((5, 5)), _t((4, 3, 3, 3)))
    _raises(RuntimeError, "expected a 4-dimensional weight", F.conv2d, x, _t((4, 3, 3)))
    _raises(RuntimeError, "divisible by 3 at dimension 0", F.conv2d, x, _t((4, 1, 3, 3)), groups=3)
    _raises(RuntimeError, "Kernel size can't be greater than actual input size", F.conv2d, x, _t((4, 3, 7, 7)))
    _raises(
        RuntimeError, "not supported for strided convolutions", F.conv2d, x, _t((4, 3, 3, 3)), stride=2, padding="same"
    )
    _raises(RuntimeError, "Invalid padding string: 'full'", F.conv2d, x, _t((4, 3, 3, 3)), padding="full")
    _raises(RuntimeError, "bias of size \\[3\\]", F.conv2d, x, _t((4, 3, 3, 3)), _t((3,)))
    _raises(RuntimeError, "same dtype", F.conv2d, x, _t((4, 3, 3, 3), dtype=np.float32))
    _raises(RuntimeError, "non-positive stride", F.conv2d, x, _t((4, 3, 3, 3)), stride=0)
    _raises(RuntimeError, "negative padding", F.conv2d, x, _t((4, 3, 3, 3)), padding=-1)
    _raises(
        RuntimeError,
        "stride must be a single int or a tuple of 2 ints",
        F.conv2d,
        x,
        _t((4, 3, 3, 3)),
        stride=(1, 1, 1),
    )


def test_conv_transpose_errors():
    x = _t((2, 3, 5, 5))
    _raises(
        RuntimeError,
        r"transposed=1, weight of size \[2, 4, 3, 3\], expected input\[2, 3, 5, 5\] "
        r"to have 2 channels",
        F.conv_transpose2d,
        x,
        _t((2, 4, 3, 3)),
    )
    _raises(
        RuntimeError,
        "output padding must be smaller than either stride or dilation",
        F.conv_transpose2d,
        x,
        _t((3, 4, 3, 3)),
        output_padding=1,
    )


def test_pool_errors():
    x = _t((2, 3, 5, 5))
    _raises(RuntimeError, "pad should be at most half of kernel size", F.max_pool2d, x, 2, padding=2)
    _raises(RuntimeError, "pad should be at most half of kernel size", F.avg_pool2d, x, 3, padding=2)
    _raises(RuntimeError, r"Output size is too small", F.max_pool2d, _t((1, 1, 1, 1)), 2)
    _raises(RuntimeError, "stride must be greater than zero", F.max_pool2d, x, 2, stride=0)
    _raises(RuntimeError, "kernel_size must be greater than zero", F.avg_pool2d, x, 0)
    _raises(RuntimeError, "3D or 4D", F.max_pool2d, _t((5, 5)), 2)
    _raises(RuntimeError, "divisor must be not zero", F.avg_pool2d, x, 2, divisor_override=0)
    _raises(RuntimeError, "kernel_size must be a single int or a tuple of 2 ints", F.max_pool2d, x, (2, 2, 2))
    _raises(RuntimeError, "Expected 3D or 4D tensor", F.adaptive_avg_pool2d, _t((5, 5)), 2)


def test_unfold_fold_errors():
    _raises(RuntimeError, "3D \\(unbatched\\) or 4D", F.unfold, _t((5, 5)), 2)
    _raises(RuntimeError, "divisible by the product of kernel_size", F.fold, _t((2, 13, 9)), (4, 5), (2, 3))
    _raises(
        RuntimeError,
        "calculated number of sliding blocks 3 \\* 3 = 9, but got input.size\\(2\\)=10",
        F.fold,
        _t((2, 12, 10)),
        (4, 5),
        (2, 3),
    )


def test_pad_errors():
    x = _t((2, 3, 5, 5))
    _raises(RuntimeError, "divisible by 2", F.pad, x, (1, 1, 1))
    _raises(RuntimeError, "less than or equal to two times the input dimension", F.pad, x, (1,) * 10)
    _raises(NotImplementedError, "Padding size 2 is not supported for 4D input", F.pad, x, (1, 1), mode="reflect")
    _raises(
        RuntimeError, "should be less than the corresponding input dimension", F.pad, x, (5, 5, 1, 1), mode="reflect"
    )
    _raises(RuntimeError, "wrapping around more than once", F.pad, x, (6, 6, 1, 1), mode="circular")
    _raises(NotImplementedError, "Unrecognised padding mode foo", F.pad, x, (1, 1), mode="foo")
    _raises(RuntimeError, "doesn't take in value argument", F.pad, x, (1, 1, 1, 1), mode="reflect", value=2)


def test_interpolate_errors():
    x = _t((1, 2, 4, 4))
    _raises(ValueError, "only one of size or scale_factor", F.interpolate, x, size=3, scale_factor=2)
    _raises(ValueError, "either size or scale_factor", F.interpolate, x)
    _raises(ValueError, "align_corners option can only be set", F.interpolate, x, size=3, align_corners=True)
    _raises(
        NotImplementedError, "Got 4D input, but linear mode needs 3D input", F.interpolate, x, size=3, mode="linear"
    )
    _raises(NotImplementedError, "Only 3D, 4D and 5D input", F.interpolate, _t((4, 4)), scale_factor=2)
    _raises(ValueError, "same number of spatial dimensions", F.interpolate, x, scale_factor=(1.5, 2, 2))


def test_interpolate_result_layout_is_row_major_or_channels_last():
    """The result is row-major (so .view works on it, as DINO's position-embedding resize
    needs), or channels-last when a 4-D/5-D input is; values are the same either way."""
    x = _t((2, 3, 4, 5))
    for mode in ("nearest", "bilinear", "bicubic", "nearest-exact", "area"):
        y = F.interpolate(x, size=(3, 7), mode=mode)
        assert y.is_contiguous(), mode
        assert y.view(2, -1).shape == (2, 63)
        xl = x.contiguous(memory_format=rg.channels_last)
        yl = F.interpolate(xl, size=(3, 7), mode=mode)
        assert yl.is_contiguous(memory_format=rg.channels_last) and not yl.is_contiguous(), mode
        np.testing.assert_array_equal(yl.numpy(), y.numpy())
        assert yl.permute(0, 2, 3, 1).view(2, -1, 3).shape == (2, 21, 3)
    assert F.interpolate(_t((2, 3, 4)), size=6, mode="linear").is_contiguous()
    v = _t((1, 2, 3, 4, 4)).contiguous(memory_format=rg.channels_last_3d)
    assert F.interpolate(v, scale_factor=2).is_contiguous(memory_format=rg.channels_last_3d)
    # nearest with an integer factor repeats each element
    np.testing.assert_array_equal(
        F.interpolate(x, scale_factor=2).numpy(), x.numpy().repeat(2, axis=2).repeat(2, axis=3)
    )


def test_interpolate_antialias_closed_forms_and_gradient():
    """antialias=True: halving with bilinear weights each output by the triangle stretched to
    twice its width, [1, 3, 3, 1] / 8 (renormalised at the edges); upsampling with bilinear is
    the plain bilinear result; the result is differentiable."""
    a = np.arange(8.0)
    x = rg.tensor(a.reshape(1, 1, 1, 8))
    y = F.interpolate(x, size=(1, 4), mode="bilinear", antialias=True).numpy().ravel()
    k = np.array([1.0, 3.0, 3.0, 1.0]) / 8
    np.testing.assert_allclose(y[1:3], [a[1:5] @ k, a[3:7] @ k])
    np.testing.assert_allclose(y[0], a[0:3] @ k[1:] / k[1:].sum())
    np.testing.assert_allclose(y[3], a[5:8] @ k[:3] / k[:3].sum())
    up = _t((2, 3, 4, 5))
    np.testing.assert_allclose(
        F.interpolate(up, size=(7, 9), mode="bilinear", antialias=True).numpy(),
        F.interpolate(up, size=(7, 9), mode="bilinear").numpy(),
        rtol=1e-12,
    )
    # a constant image stays constant whatever the sizes (rows of weights sum to 1)
    c = F.interpolate(rg.full((1, 1, 11, 13), 2.5, dtype=rg.float64), size=(4, 17), mode="bicubic", antialias=True)
    np.testing.assert_allclose(c.numpy(), 2.5, rtol=1e-12)
    g = _t((1, 2, 6, 5), requires_grad=True)
    for mode in ("bilinear", "bicubic"):
        assert rg.autograd.gradcheck(lambda t: F.interpolate(t, size=(3, 4), mode=mode, antialias=True), (g,))
    _raises(ValueError, "restricted to bilinear and bicubic", F.interpolate, up, scale_factor=0.5, antialias=True)
    _raises(ValueError, "requires a 4-D tensor", F.interpolate, _t((1, 2, 6)), size=3, mode="linear", antialias=True)
