"""Type limits, layout tags, process no-ops (compile, set_default_tensor_type ...), bit shifts,
histogram, range and the queries PyTorch answers for real tensors."""

import math
import warnings

import numpy as np
import pytest

import retrograd as rg


def test_finfo_iinfo():
    f = rg.finfo(rg.float32)
    assert f.eps == float(np.finfo(np.float32).eps) and f.bits == 32 and f.dtype == "float32"
    assert f.tiny == f.smallest_normal and f.resolution == 1e-6
    assert rg.finfo().dtype == rg.get_default_dtype().name
    assert rg.finfo(rg.float16).max == 65504.0
    i = rg.iinfo(rg.int32)
    assert (i.min, i.max, i.bits) == (-(2**31), 2**31 - 1, 32)
    assert rg.iinfo(rg.uint8).max == 255
    with pytest.raises(TypeError):
        rg.finfo(rg.int64)
    with pytest.raises(TypeError):
        rg.iinfo(rg.float32)


def test_layout_and_constants():
    x = rg.ones(2)
    assert x.layout == rg.strided and repr(rg.strided) == "retrograd.strided"
    assert x.contiguous(memory_format=rg.contiguous_format) is x
    assert rg.pi == math.pi and rg.e == math.e and rg.inf == math.inf and math.isnan(rg.nan)
    assert x[rg.newaxis].shape == (1, 2)


def test_process_noops():
    model = rg.nn.Linear(2, 2)
    compiled = rg.compile(model)  # an OptimizedModule sharing the parameters (tests/test_compile.py)
    assert compiled._orig_mod is model and compiled.weight is model.weight
    assert rg.compile(mode="max-autotune")(len)([1, 2]) == 2
    assert rg.set_flush_denormal(True) is False
    rg.set_warn_always(True)
    assert rg.is_warn_always_enabled()
    rg.set_warn_always(False)
    try:
        with pytest.warns(UserWarning, match="deprecated"):
            rg.set_default_tensor_type("torch.DoubleTensor")
        assert rg.get_default_dtype() == rg.float64 and rg.ones(1).dtype == rg.float64
    finally:
        rg.set_default_dtype(rg.float32)
    assert x_is_self(rg.ones(2))


def x_is_self(x):
    return (
        x.pin_memory() is x
        and not x.is_pinned()
        and not x.is_shared()
        and x.new_empty_strided((2, 3), (3, 1)).shape == (2, 3)
    )


def test_real_tensor_queries():
    x = rg.ones(2, requires_grad=True)
    assert rg.conj(x) is x and x.resolve_conj() is x and x.resolve_neg() is x
    assert not x.is_conj() and not rg.is_neg(x) and x.real is x
    assert rg.isreal(x).tolist() == [True, True]
    with pytest.raises(RuntimeError, match="non-complex"):
        x.imag


def test_shifts():
    a = rg.tensor([1, 8, -8])
    assert (a << 2).tolist() == [4, 32, -32] and (a >> 1).tolist() == [0, 4, -4]
    assert rg.bitwise_left_shift(a, rg.tensor([0, 1, 2])).tolist() == [1, 16, -32]
    assert (2 << rg.tensor([1, 3])).tolist() == [4, 16]
    a <<= 1
    assert a.tolist() == [2, 16, -16]
    with pytest.raises(NotImplementedError, match="lshift"):
        rg.ones(2) << 1


def test_histogram_and_range():
    h, edges = rg.histogram(rg.arange(4.0), 3)
    assert h.tolist() == [1.0, 1.0, 2.0] and edges.tolist() == [0.0, 1.0, 2.0, 3.0]
    h, edges = rg.arange(4.0).histogram(rg.tensor([0.0, 1.0, 3.0]))
    assert h.tolist() == [1.0, 3.0]
    d = rg.histogram(rg.tensor([0.0, 0.5, 1.0, 1.0]), 2, range=(0.0, 2.0), density=True).hist
    np.testing.assert_allclose(d.numpy(), [0.5, 0.5])
    w = rg.histogram(rg.tensor([0.0, 1.0]), 2, weight=rg.tensor([2.0, 3.0])).hist
    assert w.tolist() == [2.0, 3.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = rg.range(0, 1, 0.25)
    assert r.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0] and r.dtype == rg.float32


def test_copy_aliases_do_not_share_memory():
    x = rg.arange(6.0).reshape(2, 3)
    for y in (rg.t_copy(x), rg.view_copy(x, 3, 2), rg.alias_copy(x), rg.diagonal_copy(x), rg.squeeze_copy(x)):
        assert y._base is None
    parts = rg.split_copy(x, 1, 1)
    assert len(parts) == 3 and all(p._base is None for p in parts)
    assert [p.shape for p in rg.unsafe_chunk(x, 3, 1)] == [(2, 1)] * 3


def test_put_and_fill_diagonal_rules():
    x = rg.zeros(2, 2)
    with pytest.raises(IndexError, match="out of range"):
        x.put_(rg.tensor([4]), rg.ones(1))
    with pytest.raises(RuntimeError, match="same number of elements"):
        x.put(rg.tensor([0, 1]), rg.ones(3))
    with pytest.raises(RuntimeError, match="equal length"):
        rg.zeros(2, 3, 3).fill_diagonal_(1)
    with pytest.raises(RuntimeError, match="edge_order"):
        rg.gradient(rg.ones(4), edge_order=3)
