"""Documented torch/Tensor names added for the coverage walk (tests/test_documented_names.py):
the _foreach_* functions, _assert, get_device_module, frombuffer, the sym_* functions, and
Tensor.cfloat/cdouble/const_data_ptr/is_set_to/dim_order/map_."""

import array
import math

import numpy as np
import pytest

import retrograd as rg
from retrograd._foreach import _UNARY
from retrograd.autograd import gradcheck


def _inputs():
    return [rg.tensor([0.2, 0.5, 0.7], dtype=rg.float64), rg.tensor([[0.3, 0.9]], dtype=rg.float64)]


@pytest.mark.parametrize("op", _UNARY)
def test_foreach_matches_the_op_per_tensor(op):
    xs = _inputs()
    out = getattr(rg, f"_foreach_{op}")(xs)
    assert isinstance(out, tuple) and len(out) == 2
    for x, y in zip(xs, out):
        np.testing.assert_allclose(y.numpy(), getattr(x, op)().numpy())
    ys = [x.clone() for x in xs]
    assert getattr(rg, f"_foreach_{op}_")(ys) is ys
    for x, y in zip(xs, ys):
        np.testing.assert_allclose(y.numpy(), getattr(x, op)().numpy())


def test_foreach_is_differentiable_and_zero_clears():
    xs = [x.requires_grad_() for x in _inputs()]
    assert gradcheck(lambda a, b: rg._foreach_sin([a, b]), xs)
    ys = [x.detach().clone() for x in xs]
    rg._foreach_zero_(ys)
    assert all((y == 0).all() for y in ys)


def test_foreach_refuses_what_pytorch_refuses():
    with pytest.raises(TypeError, match="tuple of Tensors"):
        rg._foreach_exp(rg.ones(2))
    with pytest.raises(RuntimeError, match="at least one tensor"):
        rg._foreach_exp([])
    with pytest.raises(TypeError, match="expected Tensor as element 1"):
        rg._foreach_exp([rg.ones(1), 1.0])


def test_assert_and_get_device_module():
    rg._assert(True, "unused")
    with pytest.raises(AssertionError, match="boom"):
        rg._assert(rg.tensor(False), "boom")
    assert rg.get_device_module("cpu") is rg.cpu
    assert rg.get_device_module(rg.device("cpu")) is rg.cpu
    assert rg.get_device_module("cuda:0") is rg.cuda
    expected = rg.cpu if rg.accelerator.current_accelerator() is None else rg.cuda
    assert rg.get_device_module() is expected
    with pytest.raises(RuntimeError, match="Invalid value of device"):
        rg.get_device_module(3)


def test_frombuffer_views_the_memory():
    buf = bytearray(np.arange(4, dtype=np.int32).tobytes())
    t = rg.frombuffer(buf, dtype=rg.int32)
    assert t.tolist() == [0, 1, 2, 3] and t.dtype == rg.int32 and not t.requires_grad
    buf[4] = 9
    assert t[1].item() == 9  # shares memory with the buffer
    t[0] = 5
    assert buf[0] == 5
    part = rg.frombuffer(buf, dtype=rg.int32, count=2, offset=8)
    assert part.tolist() == [2, 3]
    f = rg.frombuffer(array.array("d", [1.5, 2.5]), dtype=rg.float64, requires_grad=True)
    assert f.requires_grad and f.tolist() == [1.5, 2.5]
    with pytest.warns(UserWarning, match="not writable"):
        assert rg.frombuffer(b"\x01\x02", dtype=rg.uint8).tolist() == [1, 2]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"count": -1, "offset": 0, "data": bytearray(7)}, "multiple of element size"),
        ({"count": 3, "offset": 0, "data": bytearray(8)}, "must not be greater"),
        ({"count": -1, "offset": 8, "data": bytearray(8)}, "offset"),
        ({"count": -1, "offset": 0, "data": bytearray(0)}, "must not be 0"),
    ],
)
def test_frombuffer_refuses_bad_sizes(kwargs, match):
    data = kwargs.pop("data")
    with pytest.raises(ValueError, match=match):
        rg.frombuffer(data, dtype=rg.int32, **kwargs)


def test_sym_functions_on_numbers():
    assert rg.sym_int(-2.7) == -2 and rg.sym_int(2.7) == 2 and rg.sym_int(True) == 1
    assert rg.sym_float(2) == 2.0 and isinstance(rg.sym_float(2), float)
    assert rg.sym_max(2, 3) == 3 and isinstance(rg.sym_max(2, 3), int)
    assert rg.sym_max(3, 2.0) == 3.0 and isinstance(rg.sym_max(3, 2.0), float)
    assert rg.sym_min(2.0, 1) == 1.0 and isinstance(rg.sym_min(2.0, 1), float)
    assert rg.sym_not(True) is False and rg.sym_not(0) is True
    assert rg.sym_ite(True, 1, 2) == 1 and rg.sym_ite(False, 1, 2) == 2
    assert rg.sym_sum([1, 2, 3]) == 6 and rg.sym_sum([]) == 0
    assert math.isclose(rg.sym_sum([0.5, 0.25]), 0.75)


def test_complex_conversions_and_pointers():
    x = rg.tensor([1.0, -2.0], requires_grad=True)
    c = x.cfloat()
    assert c.dtype == rg.complex64 and c.tolist() == [1 + 0j, -2 + 0j] and c.grad_fn is not None
    assert x.cdouble().dtype == rg.complex128
    assert x.const_data_ptr() == x.data_ptr()


def test_is_set_to():
    a = rg.arange(6.0).reshape(2, 3)
    assert a.is_set_to(a) and a.is_set_to(a.view(2, 3)) and a.is_set_to(a[:])
    assert not a.is_set_to(a.clone())
    assert not a.is_set_to(a.view(3, 2))
    assert not a.is_set_to(a.t())
    assert not a[1].is_set_to(a[0])


@pytest.mark.parametrize(
    "make, order",
    [
        (lambda: rg.empty(2, 3, 4, 5), (0, 1, 2, 3)),
        (lambda: rg.empty(2, 3, 4, 5).to(memory_format=rg.channels_last), (0, 2, 3, 1)),
        (lambda: rg.empty(2, 3).t(), (1, 0)),
        (lambda: rg.empty(2, 3, 4).permute(2, 0, 1), (1, 2, 0)),
        (lambda: rg.empty(3, 1), (0, 1)),
        (lambda: rg.empty(1, 1, 2, 1).permute(3, 2, 1, 0).contiguous().permute(3, 2, 1, 0)[..., :1], (0, 1, 2, 3)),
        (lambda: rg.empty(()), ()),
        (lambda: rg.empty(4)[::2], (0,)),
        (lambda: rg.empty(3, 1, 4).expand(3, 2, 4), (0, 1, 2)),
    ],
)
def test_dim_order(make, order):
    assert make().dim_order() == order


def test_dim_order_ambiguity_check_is_refused():
    with pytest.raises(NotImplementedError, match="ambiguity_check"):
        rg.empty(2, 3).dim_order(ambiguity_check=True)


def test_map_applies_a_function_to_pairs():
    a = rg.ones(2, 3)
    assert a.map_(rg.tensor([1.0, 2.0, 3.0]), lambda x, y: 10 * x + y) is a
    assert a.tolist() == [[11.0, 12.0, 13.0]] * 2
    with pytest.raises(RuntimeError, match="not broadcastable"):
        a.map_(rg.ones(4), lambda x, y: x)
    with pytest.raises(RuntimeError, match="requires grad"):
        rg.ones(2, requires_grad=True).map_(rg.ones(2), lambda x, y: x)


def test_nonzero_static():
    x = rg.tensor([0, 1, 2, 0])
    assert rg.nonzero_static(x, size=3).tolist() == [[1], [2], [-1]]
    assert x.nonzero_static(size=1).tolist() == [[1]]
    assert rg.nonzero_static(rg.tensor([[0, 1], [2, 0]]), size=3, fill_value=-5).tolist() == [[0, 1], [1, 0], [-5, -5]]
    assert rg.nonzero_static(rg.tensor(5), size=2).shape == (2, 0)
    assert rg.nonzero_static(rg.ones(2, 2), size=0).shape == (0, 2)
    with pytest.raises(RuntimeError, match="non-negative"):
        rg.nonzero_static(x, size=-1)


def test_dense_tensors_have_no_sparse_parts():
    x = rg.ones(2, 3)
    assert x.sparse_dim() == 0 and x.dense_dim() == 2
    with pytest.raises(RuntimeError, match="sparse coordinate tensor layout"):
        x.indices()
    with pytest.raises(RuntimeError, match="sparse tensor layout"):
        x.values()
    s = x.to_sparse()
    assert s.sparse_dim() == 2 and s.values().shape == (6,)


def test_from_dlpack_shares_memory_both_ways():
    a = np.arange(3.0)
    t = rg.from_dlpack(a)
    t[0] = 5.0
    assert a[0] == 5.0 and t.dtype == rg.float64
    back = np.from_dlpack(rg.arange(4.0))
    assert back.tolist() == [0.0, 1.0, 2.0, 3.0]
    src = rg.ones(2)
    assert rg.from_dlpack(src) is src and src.__dlpack_device__() == (1, 0)
    with pytest.raises(BufferError, match="require gradient"):
        rg.ones(2, requires_grad=True).__dlpack__()
    with pytest.raises(TypeError, match="__dlpack__"):
        rg.from_dlpack([1, 2])


def test_module_load():
    p = rg.zeros(2)
    out = p.module_load(rg.tensor([3.0, 4.0]))
    assert out is not p and p.tolist() == [3.0, 4.0] and out.tolist() == [3.0, 4.0]
    other = rg.tensor([1.0, 2.0], requires_grad=True)
    assigned = p.module_load(other, assign=True)
    assert assigned is not other and not assigned.requires_grad and p.tolist() == [3.0, 4.0]


def test_histogramdd():
    x = np.random.default_rng(0).normal(size=(200, 2))
    h = rg.histogramdd(rg.tensor(x), bins=[3, 4])
    ref, edges = np.histogramdd(x, bins=[3, 4])
    np.testing.assert_array_equal(h.hist.numpy(), ref)
    assert isinstance(h.bin_edges, tuple) and [e.shape for e in h.bin_edges] == [(4,), (5,)]
    h = rg.histogramdd(rg.tensor(x), bins=2, range=[-1.0, 1.0, -2.0, 2.0], density=True)
    np.testing.assert_allclose(h.hist.numpy(), np.histogramdd(x, bins=2, range=[(-1, 1), (-2, 2)], density=True)[0])
    w = np.linspace(0, 1, 200)
    h = rg.histogramdd(
        rg.tensor(x), bins=[rg.tensor([-1.0, 0.0, 2.0]), rg.tensor([-3.0, 0.0, 3.0])], weight=rg.tensor(w)
    )
    np.testing.assert_allclose(h.hist.numpy(), np.histogramdd(x, bins=[[-1, 0, 2], [-3, 0, 3]], weights=w)[0])
    assert rg.histogramdd(rg.ones(2, 5, 3), bins=2).hist.shape == (2, 2, 2)
    with pytest.raises(RuntimeError, match="size of bins"):
        rg.histogramdd(rg.ones(10, 2), bins=[2, 3, 4])
    with pytest.raises(NotImplementedError, match="histogramdd"):
        rg.histogramdd(rg.ones(10, 2, dtype=rg.int64), bins=2)


def test_from_file(tmp_path):
    path = tmp_path / "data.bin"
    np.arange(6, dtype=np.float32).tofile(path)
    private = rg.from_file(str(path), size=6, dtype=rg.float32)
    private[0] = 9.0
    assert private.tolist()[:2] == [9.0, 1.0] and np.fromfile(path, dtype=np.float32)[0] == 0.0
    shared = rg.from_file(path, shared=True, size=4, dtype=rg.float32)
    shared.add_(1)
    np.testing.assert_array_equal(np.fromfile(path, dtype=np.float32), [1, 2, 3, 4, 4, 5])
    grown = rg.from_file(path, shared=True, size=8, dtype=rg.float32)
    assert path.stat().st_size == 32 and grown.tolist()[6:] == [0.0, 0.0]
    assert (grown * 2).sum().item() == 2 * (1 + 2 + 3 + 4 + 4 + 5) and grown.data_ptr() > 0
    new = tmp_path / "new.bin"
    assert rg.from_file(new, shared=True, size=3).tolist() == [0.0, 0.0, 0.0] and new.stat().st_size == 12
    assert rg.from_file(path, size=0).shape == (0,)
    with pytest.raises(RuntimeError, match="No such file"):
        rg.from_file(tmp_path / "missing.bin", size=2)
    with pytest.raises(RuntimeError, match="fewer than"):
        rg.from_file(path, size=100)
    with pytest.raises(RuntimeError, match="pin_memory"):
        rg.from_file(path, size=1, pin_memory=True)


def _pair():
    r = np.random.default_rng(3)
    return [r.standard_normal(3), r.standard_normal((2, 2))]


@pytest.mark.parametrize(
    "name, other, ref",
    [
        ("add", 2.0, lambda a, i: a + 2.0),
        ("add", [1.0, -3.0], lambda a, i: a + [1.0, -3.0][i]),
        ("sub", "tensors", lambda a, i: a - 2 * a),
        ("mul", "scalar_tensor", lambda a, i: a * 3.0),
        ("div", [2.0, 4.0], lambda a, i: a / [2.0, 4.0][i]),
        ("maximum", 0.0, lambda a, i: np.maximum(a, 0.0)),
        ("minimum", "tensors", lambda a, i: np.minimum(a, 2 * a)),
        ("clamp_min", 0.5, lambda a, i: np.maximum(a, 0.5)),
        ("clamp_max", [0.0, 1.0], lambda a, i: np.minimum(a, [0.0, 1.0][i])),
    ],
)
def test_foreach_binary_forms_match_numpy(name, other, ref):
    arrays = _pair()
    if other == "tensors":
        other = [rg.tensor(2 * a) for a in arrays]
    elif other == "scalar_tensor":
        other = rg.tensor(3.0, dtype=rg.float64)
    xs = [rg.tensor(a) for a in arrays]
    out = getattr(rg, f"_foreach_{name}")(xs, other)
    assert isinstance(out, tuple)
    for i, (a, y) in enumerate(zip(arrays, out)):
        np.testing.assert_allclose(y.numpy(), ref(a, i))
    assert getattr(rg, f"_foreach_{name}_")(xs, other) is xs
    for i, (a, y) in enumerate(zip(arrays, xs)):
        np.testing.assert_allclose(y.numpy(), ref(a, i))


def test_foreach_alpha_pointwise_lerp_pow_norm_copy():
    a, b = _pair()
    xs, ys = [rg.tensor(a), rg.tensor(b)], [rg.tensor(2 * a), rg.tensor(2 * b)]
    out = rg._foreach_add(xs, ys, alpha=-0.5)
    np.testing.assert_allclose(out[0].numpy(), a - 0.5 * 2 * a)
    out = rg._foreach_add(xs, rg.tensor(1.0, dtype=rg.float64), alpha=-2)
    np.testing.assert_allclose(out[1].numpy(), b - 2.0)
    with pytest.raises(TypeError, match="alpha is not taken"):
        rg._foreach_sub(xs, rg.tensor(1.0, dtype=rg.float64), alpha=2)
    out = rg._foreach_addcdiv(xs, ys, [rg.tensor(a * 0 + 4), rg.tensor(b * 0 + 4)], [1.0, 3.0])
    np.testing.assert_allclose(out[1].numpy(), b + 3.0 * 2 * b / 4)
    out = rg._foreach_addcmul(xs, ys, ys, rg.tensor([0.5, 2.0], dtype=rg.float64))
    np.testing.assert_allclose(out[0].numpy(), a + 0.5 * (2 * a) ** 2)
    np.testing.assert_allclose(out[1].numpy(), b + 2.0 * (2 * b) ** 2)
    zs = [x.clone() for x in xs]
    assert rg._foreach_lerp_(zs, ys, 0.25) is zs
    np.testing.assert_allclose(zs[0].numpy(), a + 0.25 * (2 * a - a))
    out = rg._foreach_lerp(xs, ys, [rg.tensor(0.5, dtype=rg.float64), rg.tensor(1.0, dtype=rg.float64)])
    np.testing.assert_allclose(out[1].numpy(), 2 * b)
    np.testing.assert_allclose(rg._foreach_pow(xs, 2)[0].numpy(), a**2)
    np.testing.assert_allclose(rg._foreach_pow(2.0, xs)[1].numpy(), 2.0**b)
    norms = rg._foreach_norm(xs)
    np.testing.assert_allclose([n.item() for n in norms], [np.linalg.norm(a), np.linalg.norm(b)])
    assert rg._foreach_norm(xs, 1)[1].item() == pytest.approx(np.abs(b).sum())
    assert [m.item() for m in rg._foreach_max(xs)] == [a.max(), b.max()]
    cs = [rg.zeros(3, dtype=rg.float64), rg.zeros(2, 2, dtype=rg.float64)]
    assert rg._foreach_copy_(cs, xs) is cs and np.array_equal(cs[1].numpy(), b)
    np.testing.assert_allclose(rg._foreach_sign(xs)[0].numpy(), np.sign(a))


def test_foreach_binary_is_differentiable():
    a, b = (rg.tensor(v, requires_grad=True) for v in _pair())
    c, d = (rg.tensor(2 * v.detach().numpy() + 1, requires_grad=True) for v in (a, b))
    assert gradcheck(lambda a, b, c, d: rg._foreach_add([a, b], [c, d], alpha=0.5), (a, b, c, d))
    assert gradcheck(lambda a, b, c, d: rg._foreach_addcdiv([a, b], [c, d], [c, d], 2.0), (a, b, c, d))
    assert gradcheck(lambda a, b, c, d: rg._foreach_lerp([a, b], [c, d], 0.3), (a, b, c, d))


def test_foreach_binary_refuses_what_pytorch_refuses():
    xs = [rg.ones(2), rg.ones(3)]
    with pytest.raises(RuntimeError, match="same number of tensors, got 2 and 1"):
        rg._foreach_add(xs, [rg.ones(2)])
    with pytest.raises(RuntimeError, match="same number of elements as scalar list"):
        rg._foreach_mul(xs, [1.0])
    with pytest.raises(RuntimeError, match="scalar tensor expected to be 0 dim"):
        rg._foreach_mul(xs, rg.ones(2))
    with pytest.raises(TypeError, match="alpha"):
        rg._foreach_add(xs, 1.0, alpha=2)
    with pytest.raises(TypeError, match="must be a number, a Tensor or a list"):
        rg._foreach_div(xs, "2")
