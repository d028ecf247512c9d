"""Convolution and pooling modules against direct NumPy loops; initialisation; gradients."""

import math

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn

from ._util import assert_uniform, module_gradcheck, t64


# --------------------------------------------------------------------------- references
def np_conv2d(x, w, b, stride, padding, dilation, groups):
    """Direct convolution (cross-correlation), one kernel tap at a time."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    N, C, H, W = x.shape
    O, Cg, kh, kw = w.shape
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    Ho = (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    Wo = (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((N, O, Ho, Wo))
    og = O // groups
    for g in range(groups):
        xs = x[:, g * Cg : (g + 1) * Cg]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i * dh : i * dh + sh * (Ho - 1) + 1 : sh, j * dw : j * dw + sw * (Wo - 1) + 1 : sw]
                out[:, g * og : (g + 1) * og] += np.einsum("nchw,oc->nohw", patch, w[g * og : (g + 1) * og, :, i, j])
    if b is not None:
        out += b[None, :, None, None]
    return out


def np_conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation):
    """Each input pixel scatters ``x * w`` into the output (the adjoint of np_conv2d)."""
    (sh, sw), (ph, pw), (oph, opw), (dh, dw) = stride, padding, output_padding, dilation
    N, C, H, W = x.shape
    _, Og, kh, kw = w.shape
    Ho = (H - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    Wo = (W - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    full = np.zeros((N, Og * groups, Ho + 2 * ph, Wo + 2 * pw))
    cg = C // groups
    for g in range(groups):
        for i in range(kh):
            for j in range(kw):
                contrib = np.einsum("nchw,co->nohw", x[:, g * cg : (g + 1) * cg], w[g * cg : (g + 1) * cg, :, i, j])
                full[
                    :,
                    g * Og : (g + 1) * Og,
                    i * dh : i * dh + sh * (H - 1) + 1 : sh,
                    j * dw : j * dw + sw * (W - 1) + 1 : sw,
                ] += contrib
    out = full[:, :, ph : ph + Ho, pw : pw + Wo]
    if b is not None:
        out = out + b[None, :, None, None]
    return out


def _out_size(n, k, s, p, d, ceil):
    eff = d * (k - 1) + 1
    if ceil:
        o = -(-(n + 2 * p - eff) // s) + 1
        if (o - 1) * s >= n + p:
            o -= 1
    else:
        o = (n + 2 * p - eff) // s + 1
    return o


def np_max_pool2d(x, k, s, p, d=(1, 1), ceil=False):
    N, C, H, W = x.shape
    Ho, Wo = _out_size(H, k[0], s[0], p[0], d[0], ceil), _out_size(W, k[1], s[1], p[1], d[1], ceil)
    out = np.full((N, C, Ho, Wo), -np.inf)
    for a in range(Ho):
        for b in range(Wo):
            for i in range(k[0]):
                for j in range(k[1]):
                    y, z = a * s[0] - p[0] + i * d[0], b * s[1] - p[1] + j * d[1]
                    if 0 <= y < H and 0 <= z < W:
                        out[:, :, a, b] = np.maximum(out[:, :, a, b], x[:, :, y, z])
    return out


def np_avg_pool2d(x, k, s, p, ceil=False, count_include_pad=True, divisor_override=None):
    N, C, H, W = x.shape
    Ho, Wo = _out_size(H, k[0], s[0], p[0], 1, ceil), _out_size(W, k[1], s[1], p[1], 1, ceil)
    out = np.zeros((N, C, Ho, Wo))
    for a in range(Ho):
        for b in range(Wo):
            y0, z0 = a * s[0] - p[0], b * s[1] - p[1]
            y1, z1 = min(y0 + k[0], H + p[0]), min(z0 + k[1], W + p[1])
            pool = (y1 - y0) * (z1 - z0)
            y0, z0, y1, z1 = max(y0, 0), max(z0, 0), min(y1, H), min(z1, W)
            total = x[:, :, y0:y1, z0:z1].sum(axis=(2, 3))
            div = divisor_override or (pool if count_include_pad else (y1 - y0) * (z1 - z0))
            out[:, :, a, b] = total / div
    return out


def np_adaptive_avg_pool2d(x, size):
    N, C, H, W = x.shape
    oh, ow = size
    out = np.zeros((N, C, oh, ow))
    for a in range(oh):
        for b in range(ow):
            y0, y1 = (a * H) // oh, -(-((a + 1) * H) // oh)
            z0, z1 = (b * W) // ow, -(-((b + 1) * W) // ow)
            out[:, :, a, b] = x[:, :, y0:y1, z0:z1].mean(axis=(2, 3))
    return out


def params(m):
    return m.weight.detach().numpy().astype(np.float64), (None if m.bias is None else m.bias.detach().numpy())


# --------------------------------------------------------------------------- convolution
CONV2D = [
    dict(),
    dict(stride=2, padding=1),
    dict(stride=(2, 1), padding=(0, 2), dilation=(1, 2)),
    dict(groups=2, bias=False),
    dict(padding="same", dilation=2),
    dict(padding="valid"),
]


@pytest.mark.parametrize("kw", CONV2D, ids=[str(k) for k in CONV2D])
def test_conv2d_matches_numpy(kw):
    m = nn.Conv2d(4, 6, 3, **kw).double()
    x = np.random.randn(2, 4, 7, 8)
    w, b = params(m)
    pad = m.padding
    if pad == "same":
        pad = tuple(d * (k - 1) // 2 for d, k in zip(m.dilation, m.kernel_size))
    elif pad == "valid":
        pad = (0, 0)
    ref = np_conv2d(x, w, b, m.stride, pad, m.dilation, m.groups)
    out = m(t64(x))
    np.testing.assert_allclose(out.detach().numpy(), ref, rtol=1e-10, atol=1e-12)
    if kw.get("padding") == "same":
        assert out.shape[-2:] == x.shape[-2:]


def test_conv2d_unbatched_float32_and_gradcheck():
    m = nn.Conv2d(2, 3, (2, 3), stride=(1, 2), padding=1)
    x = np.random.randn(2, 5, 6).astype(np.float32)
    out = m(rg.tensor(x))
    assert out.shape == (3, 6, 3) and out.dtype == rg.float32
    w, b = params(m)
    np.testing.assert_allclose(
        out.detach().numpy(),
        np_conv2d(x[None].astype(np.float64), w, b, m.stride, m.padding, m.dilation, 1)[0],
        rtol=1e-4,
        atol=1e-5,
    )
    assert module_gradcheck(nn.Conv2d(2, 2, 2, padding=1, groups=2), t64(np.random.randn(1, 2, 3, 3), True))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv2d_padding_modes(mode):
    m = nn.Conv2d(2, 3, 3, padding=1, padding_mode=mode).double()
    x = np.random.randn(1, 2, 5, 5)
    np_mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), mode=np_mode)
    w, b = params(m)
    np.testing.assert_allclose(m(t64(x)).detach().numpy(), np_conv2d(xp, w, b, (1, 1), (0, 0), (1, 1), 1), rtol=1e-10)
    assert "padding_mode=" + mode in repr(m)


def test_conv1d_matches_numpy():
    m = nn.Conv1d(3, 4, 3, stride=2, padding=2, dilation=2).double()
    x = np.random.randn(2, 3, 11)
    w, b = params(m)
    ref = np_conv2d(x[:, :, None], w[:, :, None], b, (1, 2), (0, 2), (1, 2), 1)[:, :, 0]
    np.testing.assert_allclose(m(t64(x)).detach().numpy(), ref, rtol=1e-10)
    assert module_gradcheck(nn.Conv1d(2, 2, 2), t64(np.random.randn(1, 2, 4), True))


TRANSPOSE = [
    dict(),
    dict(stride=2, padding=1, output_padding=1),
    dict(stride=(2, 3), dilation=(2, 1), groups=2),
]


@pytest.mark.parametrize("kw", TRANSPOSE, ids=[str(k) for k in TRANSPOSE])
def test_conv_transpose2d_matches_numpy(kw):
    m = nn.ConvTranspose2d(4, 6, 3, **kw).double()
    assert m.weight.shape == (4, 6 // m.groups, 3, 3)
    x = np.random.randn(2, 4, 4, 5)
    w, b = params(m)
    ref = np_conv_transpose2d(x, w, b, m.stride, m.padding, m.output_padding, m.groups, m.dilation)
    np.testing.assert_allclose(m(t64(x)).detach().numpy(), ref, rtol=1e-10, atol=1e-12)


def test_conv_transpose_output_size_and_gradcheck():
    m = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    x = rg.randn(1, 2, 4, 4)
    assert m(x).shape == (1, 3, 7, 7)
    assert m(x, output_size=(8, 8)).shape == (1, 3, 8, 8)
    assert m(x, output_size=[1, 3, 8, 8]).shape == (1, 3, 8, 8)
    with pytest.raises(ValueError, match="output size"):
        m(x, output_size=(10, 10))
    m1 = nn.ConvTranspose1d(2, 2, 3, stride=2).double()
    x1 = np.random.randn(1, 2, 4)
    w, b = params(m1)
    ref = np_conv_transpose2d(x1[:, :, None], w[:, :, None], b, (1, 2), (0, 0), (0, 0), 1, (1, 1))[:, :, 0]
    np.testing.assert_allclose(m1(t64(x1)).detach().numpy(), ref, rtol=1e-10)
    assert module_gradcheck(nn.ConvTranspose2d(2, 2, 2, stride=2), t64(np.random.randn(1, 2, 2, 2), True))


def test_conv_default_init_and_shapes():
    m = nn.Conv2d(16, 64, 3)
    assert m.weight.shape == (64, 16, 3, 3) and m.bias.shape == (64,)
    assert_uniform(m.weight, 1 / math.sqrt(16 * 9))
    assert_uniform(nn.Conv2d(16, 640, 3).bias, 1 / math.sqrt(16 * 9), rel=0.15)
    g = nn.Conv2d(8, 16, 5, groups=4)
    assert g.weight.shape == (16, 2, 5, 5)
    assert_uniform(g.weight, 1 / math.sqrt(2 * 25))
    t = nn.ConvTranspose2d(32, 8, 4)  # fan_in = weight.size(1) * k * k
    assert t.weight.shape == (32, 8, 4, 4)
    assert_uniform(t.weight, 1 / math.sqrt(8 * 16))
    assert nn.Conv1d(3, 5, 4).weight.shape == (5, 3, 4)


def test_conv_errors_and_repr():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.Conv2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        nn.Conv2d(4, 4, 3, groups=0)
    with pytest.raises(ValueError, match="not supported for strided"):
        nn.Conv2d(4, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(4, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match='Only "zeros" padding mode'):
        nn.ConvTranspose2d(4, 4, 3, padding_mode="reflect")
    assert repr(nn.Conv2d(3, 8, 3)) == "Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1))"
    assert repr(nn.Conv2d(4, 8, (3, 5), stride=2, padding=(1, 2), dilation=2, groups=2, bias=False)) == (
        "Conv2d(4, 8, kernel_size=(3, 5), stride=(2, 2), padding=(1, 2), dilation=(2, 2), groups=2, bias=False)"
    )
    assert repr(nn.Conv1d(1, 2, 3, padding="same")) == "Conv1d(1, 2, kernel_size=(3,), stride=(1,), padding=same)"
    assert (
        repr(nn.ConvTranspose2d(2, 3, 3, stride=2, output_padding=1))
        == "ConvTranspose2d(2, 3, kernel_size=(3, 3), stride=(2, 2), output_padding=(1, 1))"
    )


# --------------------------------------------------------------------------- pooling
MAXPOOL = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(2, 3), stride=(1, 2), dilation=(2, 1)),
    dict(kernel_size=3, stride=2, ceil_mode=True),
]


def _pair(v):
    return v if isinstance(v, tuple) else (v, v)


@pytest.mark.parametrize("kw", MAXPOOL, ids=[str(k) for k in MAXPOOL])
def test_max_pool2d(kw):
    x = np.random.randn(2, 3, 7, 8)
    m = nn.MaxPool2d(**kw)
    ref = np_max_pool2d(x, _pair(m.kernel_size), _pair(m.stride), _pair(m.padding), _pair(m.dilation), m.ceil_mode)
    np.testing.assert_allclose(m(t64(x)).numpy(), ref, rtol=1e-12)


def test_max_pool_indices_1d_and_gradcheck():
    x = np.random.randn(1, 2, 4, 4)
    out, idx = nn.MaxPool2d(2, return_indices=True)(t64(x))
    flat = x.reshape(1, 2, 16)
    np.testing.assert_allclose(
        np.take_along_axis(flat, idx.numpy().reshape(1, 2, 4), 2).reshape(out.shape), out.numpy()
    )
    x1 = np.random.randn(2, 3, 9)
    ref = np_max_pool2d(x1[:, :, None], (1, 3), (1, 2), (0, 1))[:, :, 0]
    np.testing.assert_allclose(nn.MaxPool1d(3, 2, 1)(t64(x1)).numpy(), ref)
    assert module_gradcheck(nn.MaxPool2d(2), t64(np.random.permutation(32).reshape(1, 2, 4, 4) / 7.0, True))


AVGPOOL = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=(2, 3), stride=1, divisor_override=4),
]


@pytest.mark.parametrize("kw", AVGPOOL, ids=[str(k) for k in AVGPOOL])
def test_avg_pool2d(kw):
    x = np.random.randn(2, 3, 7, 8)
    m = nn.AvgPool2d(**kw)
    ref = np_avg_pool2d(
        x, _pair(m.kernel_size), _pair(m.stride), _pair(m.padding), m.ceil_mode, m.count_include_pad, m.divisor_override
    )
    np.testing.assert_allclose(m(t64(x)).numpy(), ref, rtol=1e-12)


def test_avg_pool1d_adaptive_and_gradcheck():
    x1 = np.random.randn(2, 3, 9)
    ref = np_avg_pool2d(x1[:, :, None], (1, 3), (1, 2), (0, 1))[:, :, 0]
    np.testing.assert_allclose(nn.AvgPool1d(3, 2, 1)(t64(x1)).numpy(), ref, rtol=1e-12)
    x = np.random.randn(2, 3, 7, 10)
    for size in [(1, 1), (3, 4), (7, 10)]:
        np.testing.assert_allclose(
            nn.AdaptiveAvgPool2d(size)(t64(x)).numpy(), np_adaptive_avg_pool2d(x, size), rtol=1e-12
        )
    assert nn.AdaptiveAvgPool2d(2)(t64(x)).shape == (2, 3, 2, 2)
    assert nn.AdaptiveAvgPool2d((None, 5))(t64(x)).shape == (2, 3, 7, 5)
    np.testing.assert_allclose(
        nn.AdaptiveAvgPool1d(4)(t64(x1)).numpy(), np_adaptive_avg_pool2d(x1[:, :, None], (1, 4))[:, :, 0], rtol=1e-12
    )
    assert module_gradcheck(nn.AvgPool2d(2, padding=1), t64(np.random.randn(1, 1, 3, 3), True))
    assert module_gradcheck(nn.AdaptiveAvgPool2d(2), t64(np.random.randn(1, 1, 3, 3), True))


def test_pool_reprs():
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.AvgPool2d(3, 1)) == "AvgPool2d(kernel_size=3, stride=1, padding=0)"
    assert repr(nn.AvgPool1d(2)) == "AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,))"
    assert repr(nn.AdaptiveAvgPool2d((1, 1))) == "AdaptiveAvgPool2d(output_size=(1, 1))"


def test_adaptive_avg_pool_keeps_inf_and_nan_in_their_own_windows():
    # averaging weights of 0 must not turn an inf or a nan into nan in the other windows
    a = np.random.RandomState(0).randn(1, 2, 6, 7)
    a[0, 0, 1, 2], a[0, 0, 4, 5] = np.inf, np.nan
    a[0, 1, 0, 0], a[0, 1, 0, 1], a[0, 1, 5, 6] = np.inf, -np.inf, -np.inf
    x = rg.tensor(a, requires_grad=True)
    out = nn.functional.adaptive_avg_pool2d(x, (3, 2))
    rows, cols = [(0, 2), (2, 4), (4, 6)], [(0, 4), (3, 7)]
    want = np.array([[[a[0, c, r0:r1, c0:c1].mean() for c0, c1 in cols] for r0, r1 in rows] for c in range(2)])
    np.testing.assert_allclose(out.detach().numpy()[0], want)
    out.sum().backward()  # every input of a window gets 1/size, infinite or not
    assert x.grad[0, 1, 0, 0].item() == 1 / 8 and x.grad[0, 0, 1, 2].item() == 1 / 8
    one = np.random.RandomState(1).randn(2, 9)
    one[0, 1] = np.inf
    np.testing.assert_allclose(
        nn.functional.adaptive_avg_pool1d(rg.tensor(one), 3).numpy(), one.reshape(2, 3, 3).mean(2)
    )


def test_max_pool_window_of_all_minus_inf_never_picks_the_padding():
    # the padding is -inf too; a window whose inputs are all -inf takes its first real input
    inf = math.inf
    x = rg.tensor([[[-inf, -inf, 5.0, -inf, 1.0, -inf, -inf]]], requires_grad=True)
    values, indices = nn.functional.max_pool1d(x, 3, 2, 1, return_indices=True)
    assert values.tolist() == [[[-inf, 5.0, 1.0, -inf]]] and indices.tolist() == [[[0, 2, 4, 5]]]
    nn.functional.max_pool1d(x, 3, 2, 1).sum().backward()
    assert x.grad.tolist() == [[[1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0]]]
    x2 = rg.tensor([[[[-inf, -inf], [-inf, 2.0]]]])
    v, i = nn.functional.max_pool2d(x2, 2, 1, 1, return_indices=True)
    assert v.tolist() == [[[[-inf, -inf, -inf], [-inf, 2.0, 2.0], [-inf, 2.0, 2.0]]]]
    assert i.tolist() == [[[[0, 0, 1], [0, 3, 3], [2, 3, 3]]]]
