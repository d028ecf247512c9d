"""Convolution, pooling, padding and resampling against PyTorch: values and gradients."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as TF  # noqa: E402

import retrograd as rg  # noqa: E402
import retrograd.nn.functional as F  # noqa: E402


def _compare(name, tfn, rfn, *arrays, double=False):
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    rs = [rg.tensor(a, requires_grad=True) for a in arrays]
    t_out, r_out = tfn(*ts), rfn(*rs)
    if isinstance(t_out, tuple):
        np.testing.assert_array_equal(r_out[1].numpy(), t_out[1].numpy(), err_msg=name)
        t_out, r_out = t_out[0], r_out[0]
    assert tuple(r_out.shape) == tuple(t_out.shape), name
    np.testing.assert_allclose(r_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-10, atol=1e-10, err_msg=name)
    seed = np.random.default_rng(1).standard_normal(tuple(t_out.shape))
    t_grads = torch.autograd.grad(t_out, ts, torch.tensor(seed), create_graph=double)
    r_grads = rg.autograd.grad(r_out, rs, rg.tensor(seed), create_graph=double)
    for t, r in zip(t_grads, r_grads):
        np.testing.assert_allclose(r.detach().numpy(), t.detach().numpy(), rtol=1e-9, atol=1e-10, err_msg=name)
    if double:
        t2 = torch.autograd.grad(sum((g * g).sum() for g in t_grads), ts, allow_unused=True)
        r2 = rg.autograd.grad(sum((g * g).sum() for g in r_grads), rs, allow_unused=True)
        for t, r in zip(t2, r2):
            assert (t is None) == (r is None or not r.numpy().any()), name
            if t is not None:
                np.testing.assert_allclose(r.numpy(), t.numpy(), rtol=1e-9, atol=1e-10, err_msg=name + " (double)")


CONV_CASES = [
    dict(),
    dict(stride=2, padding=1),
    dict(stride=(1, 2), padding=(2, 0), dilation=(1, 2)),
    dict(padding="same", dilation=2),
    dict(padding="valid"),
    dict(groups=2, stride=2),
    dict(groups=4, padding=1),
]


@pytest.mark.parametrize("kw", CONV_CASES, ids=str)
def test_conv2d(kw):
    rng = np.random.default_rng(0)
    groups = kw.get("groups", 1)
    x = rng.standard_normal((2, 4, 7, 6))
    w = rng.standard_normal((8, 4 // groups, 3, 2))
    b = rng.standard_normal(8)
    _compare("conv2d", lambda *a: TF.conv2d(*a, **kw), lambda *a: F.conv2d(*a, **kw), x, w, b, double=True)


@pytest.mark.parametrize(
    "kw",
    [
        dict(),
        dict(stride=2, padding=1, output_padding=1),
        dict(stride=(2, 3), dilation=(2, 1), output_padding=(1, 2)),
        dict(groups=2, padding=(0, 1)),
    ],
    ids=str,
)
def test_conv_transpose2d(kw):
    rng = np.random.default_rng(0)
    groups = kw.get("groups", 1)
    x = rng.standard_normal((2, 4, 4, 3))
    w = rng.standard_normal((4, 6 // groups, 3, 2))
    b = rng.standard_normal(6)
    _compare(
        "conv_transpose2d",
        lambda *a: TF.conv_transpose2d(*a, **kw),
        lambda *a: F.conv_transpose2d(*a, **kw),
        x,
        w,
        b,
        double=True,
    )


def test_conv1d_and_conv3d():
    rng = np.random.default_rng(0)
    _compare(
        "conv1d",
        lambda x, w: TF.conv1d(x, w, stride=2, padding="valid", dilation=2),
        lambda x, w: F.conv1d(x, w, stride=2, padding="valid", dilation=2),
        rng.standard_normal((3, 2, 11)),
        rng.standard_normal((4, 2, 3)),
    )
    _compare(
        "conv3d",
        lambda x, w: TF.conv3d(x, w, padding=1, stride=(2, 1, 2)),
        lambda x, w: F.conv3d(x, w, padding=1, stride=(2, 1, 2)),
        rng.standard_normal((2, 2, 4, 3, 5)),
        rng.standard_normal((3, 2, 2, 2, 3)),
    )


@pytest.mark.parametrize(
    "kw",
    [
        dict(kernel_size=2),
        dict(kernel_size=3, stride=2, padding=1),
        dict(kernel_size=(3, 2), stride=(2, 3), padding=1, ceil_mode=True),
        dict(kernel_size=2, stride=1, dilation=2, ceil_mode=True),
    ],
    ids=str,
)
def test_pooling(kw):
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 8))
    _compare(
        "max_pool2d",
        lambda x: TF.max_pool2d(x, return_indices=True, **kw),
        lambda x: F.max_pool2d(x, return_indices=True, **kw),
        x,
    )
    kw.pop("dilation", None)
    for include in (True, False):
        _compare(
            "avg_pool2d",
            lambda x: TF.avg_pool2d(x, count_include_pad=include, **kw),
            lambda x: F.avg_pool2d(x, count_include_pad=include, **kw),
            x,
        )


@pytest.mark.parametrize("size", [1, 3, (4, 3), (None, 5), (7, 2)], ids=str)
def test_adaptive_pooling(size):
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 8))
    _compare(
        "adaptive_avg_pool2d", lambda x: TF.adaptive_avg_pool2d(x, size), lambda x: F.adaptive_avg_pool2d(x, size), x
    )
    _compare(
        "adaptive_max_pool2d",
        lambda x: TF.adaptive_max_pool2d(x, size, return_indices=True),
        lambda x: F.adaptive_max_pool2d(x, size, return_indices=True),
        x,
    )


@pytest.mark.parametrize(
    "pad, mode",
    [
        ((1, 2, 0, 3), "constant"),
        ((-1, 2, 1, -2), "constant"),
        ((2, 3, 1, 2), "reflect"),
        ((-1, 2, 1, -2), "reflect"),
        ((3, 0, 4, 1), "replicate"),
        ((4, 3, 1, 5), "circular"),
        ((-1, 2, 1, -2), "circular"),
    ],
    ids=str,
)
def test_pad(pad, mode):
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 4))
    _compare("pad", lambda x: TF.pad(x, pad, mode=mode), lambda x: F.pad(x, pad, mode=mode), x)


@pytest.mark.parametrize(
    "kw",
    [
        dict(scale_factor=2),
        dict(size=(7, 3)),
        dict(scale_factor=(1.7, 0.6)),
        dict(size=(7, 3), mode="nearest-exact"),
        dict(size=(7, 3), mode="bilinear"),
        dict(size=(7, 3), mode="bilinear", align_corners=True),
        dict(scale_factor=(1.7, 0.6), mode="bilinear"),
        dict(scale_factor=(1.7, 0.6), mode="bilinear", recompute_scale_factor=True),
        dict(size=(7, 3), mode="bicubic"),
        dict(scale_factor=2.5, mode="bicubic"),
        dict(size=(8, 9), mode="bicubic", align_corners=True),
        dict(size=(3, 3), mode="area"),
        dict(size=(2, 3), mode="bilinear", antialias=True),
        dict(scale_factor=(0.45, 2.2), mode="bilinear", antialias=True),
        dict(size=(3, 2), mode="bicubic", antialias=True),
        dict(size=(9, 7), mode="bicubic", antialias=True, align_corners=True),
        dict(scale_factor=0.6, mode="bicubic", antialias=True, recompute_scale_factor=True),
    ],
    ids=str,
)
def test_interpolate(kw):
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 4))
    _compare("interpolate", lambda x: TF.interpolate(x, **kw), lambda x: F.interpolate(x, **kw), x)


def test_unfold_fold():
    rng = np.random.default_rng(0)
    kw = dict(dilation=(1, 2), padding=1, stride=(2, 1))
    _compare(
        "unfold",
        lambda x: TF.unfold(x, (2, 3), **kw),
        lambda x: F.unfold(x, (2, 3), **kw),
        rng.standard_normal((2, 3, 7, 6)),
    )
    _compare(
        "fold",
        lambda c: TF.fold(c, (5, 6), (2, 3), **kw),
        lambda c: F.fold(c, (5, 6), (2, 3), **kw),
        rng.standard_normal((2, 12, 12)),
    )
