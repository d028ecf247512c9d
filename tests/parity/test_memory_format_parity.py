"""Strides that memory_format gives, compared with PyTorch's: clone/empty_like/zeros_like keep a
dense permutation's stride order (preserve_format), contiguous_format and channels_last layouts."""

import numpy as np
import pytest

import retrograd as rg

torch = pytest.importorskip("torch")


def _both(fn):
    return fn(rg), fn(torch)


@pytest.mark.parametrize(
    "make",
    [
        lambda L: L.arange(24.0).reshape(2, 3, 4).permute(2, 0, 1).clone(),
        lambda L: L.empty_like(L.arange(24.0).reshape(2, 3, 4).permute(2, 0, 1)),
        lambda L: L.zeros_like(L.arange(24.0).reshape(4, 6).t()),
        lambda L: L.ones_like(L.arange(24.0).reshape(4, 6).t(), memory_format=L.contiguous_format),
        lambda L: L.arange(120.0).reshape(2, 3, 4, 5).contiguous(memory_format=L.channels_last),
        lambda L: L.arange(120.0).reshape(2, 3, 4, 5).to(memory_format=L.channels_last),
        lambda L: L.empty(2, 3, 4, 5, memory_format=L.channels_last),
        lambda L: L.arange(120.0).reshape(2, 3, 4, 5).clone(memory_format=L.channels_last).clone(),
        # advanced indexing, index_select and the gathering pads of a row-major input are row-major
        lambda L: L.arange(120.0).reshape(2, 3, 4, 5)[:, :, [0, 2, 3]],
        lambda L: L.arange(120.0).reshape(2, 3, 4, 5)[..., L.tensor([True, False, True, True, False])],
        lambda L: L.arange(60.0).reshape(3, 4, 5)[:, [[0], [1]], [1, 2]],
        lambda L: L.arange(120.0).reshape(2, 3, 4, 5).index_select(3, L.tensor([4, 0])),
        lambda L: L.nn.functional.pad(L.ones(2, 3, 5, 5), (1, 2, 1, 2), mode="reflect"),
        lambda L: L.nn.functional.pad(L.ones(2, 3, 7), (1, 2), mode="replicate"),
        lambda L: L.nn.functional.pad(L.ones(1, 2, 3, 4, 5), (1, 2, 1, 2, 1, 2), mode="circular"),
        # interpolate: row-major results, channels-last kept for 4-D/5-D channels-last inputs
        lambda L: L.nn.functional.interpolate(L.ones(2, 3, 4, 5), scale_factor=2, mode="bicubic"),
        lambda L: L.nn.functional.interpolate(L.ones(2, 3, 4), size=7, mode="linear"),
        lambda L: L.nn.functional.interpolate(L.ones(2, 4, 5, 3).permute(0, 3, 1, 2), size=(3, 7), mode="bilinear"),
        lambda L: L.nn.functional.interpolate(L.ones(2, 4, 5, 3).permute(0, 3, 1, 2), scale_factor=2),
        lambda L: L.nn.functional.interpolate(L.ones(2, 4, 6, 3).permute(0, 3, 1, 2), size=(2, 3), mode="area"),
        lambda L: L.nn.functional.interpolate(L.ones(2, 4, 3, 5).permute(0, 2, 1, 3), scale_factor=2),
        lambda L: L.nn.functional.interpolate(L.ones(1, 3, 2, 4, 4), scale_factor=2, mode="trilinear"),
        lambda L: L.nn.functional.interpolate(L.ones(1, 2, 4, 4, 3).permute(0, 4, 1, 2, 3), scale_factor=2),
    ],
)
def test_strides_match_pytorch(make):
    r, t = _both(make)
    assert tuple(r.stride()) == tuple(t.stride())
    if not r.shape or r.numel():
        assert tuple(r.shape) == tuple(t.shape)


def test_values_survive_a_change_of_layout():
    r, t = _both(lambda L: L.arange(120.0).reshape(2, 3, 4, 5).contiguous(memory_format=L.channels_last) * 2)
    np.testing.assert_array_equal(r.numpy(), t.numpy())


def test_is_contiguous_per_memory_format_matches_pytorch_on_random_layouts():
    rng = np.random.default_rng(3)
    for _ in range(200):
        shape = tuple(int(n) for n in rng.integers(1, 4, size=rng.integers(3, 6)))
        a = rng.standard_normal(shape).astype(np.float32)
        perm = [int(p) for p in rng.permutation(len(shape))]
        back = [int(p) for p in np.argsort(perm)]
        t = torch.from_numpy(a.copy()).permute(*perm).contiguous().permute(*back)
        r = rg.tensor(a).permute(*perm).contiguous().permute(*back)
        if rng.random() < 0.3:
            cut = tuple(slice(None, None, 2) if rng.random() < 0.3 else slice(None) for _ in shape)
            t, r = t[cut], r[cut]
        for fmt in ("contiguous_format", "channels_last", "channels_last_3d"):
            want = t.is_contiguous(memory_format=getattr(torch, fmt))
            assert r.is_contiguous(memory_format=getattr(rg, fmt)) == want, (fmt, shape, perm)


def test_strides_of_tensors_without_elements_match_pytorch():
    for shape in [(0, 3), (3, 0), (2, 0, 4), (0,), (0, 0)]:
        for name in ("empty", "zeros", "ones"):
            assert getattr(rg, name)(shape).stride() == getattr(torch, name)(shape).stride(), (name, shape)
    assert rg.ones(4, 3)[:0].stride() == torch.ones(4, 3)[:0].stride()
