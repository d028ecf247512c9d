"""bfloat16 (and the float8 storage types): creation, promotion, arithmetic computed in float32 and
rounded once, autograd, printing and checkpoints. References are float32 results rounded to
bfloat16 by hand (round to nearest, ties to even), independently of the array package."""

import pickle
import subprocess
import sys

import numpy as np
import pytest

import retrograd as rg


def _bf16(a):
    """float32 values rounded to the nearest bfloat16 (ties to even), as float32."""
    u = np.asarray(a, np.float32).copy().view(np.uint32)
    u += np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1))
    u &= np.uint32(0xFFFF0000)
    return u.view(np.float32)


def _f32(t):
    return t.detach().float().numpy()


def _close_bf16(t, ref):
    """t equals the float32 reference rounded to bfloat16, within one bfloat16 step of it."""
    assert t.dtype is rg.bfloat16
    want = _bf16(ref)
    np.testing.assert_allclose(_f32(t), want, rtol=2**-7, atol=1e-30)


def test_the_dtype():
    d = rg.bfloat16
    assert repr(d) == "retrograd.bfloat16" and d.is_floating_point and d.is_signed and d.itemsize == 2
    assert pickle.loads(pickle.dumps(d)) is d
    assert rg.promote_types(d, rg.float16) is rg.float32
    assert rg.promote_types(d, rg.float32) is rg.float32
    assert rg.promote_types(d, rg.float64) is rg.float64
    assert rg.promote_types(rg.int64, d) is d and rg.promote_types(d, rg.bool) is d
    info = rg.finfo(rg.bfloat16)
    assert (info.bits, info.eps, info.resolution, info.dtype) == (16, 2**-7, 0.01, "bfloat16")
    assert info.max == pytest.approx(3.38953e38, rel=1e-5) and info.tiny == pytest.approx(1.17549e-38, rel=1e-5)


def test_creation_and_conversion_round_to_nearest_even():
    vals = np.array([1 / 3, 100.0, -2.5e-3, 1 + 2**-8, 1 + 3 * 2**-8, 3e38, 0.0], np.float32)
    t = rg.tensor(vals, dtype=rg.bfloat16)
    np.testing.assert_array_equal(_f32(t), _bf16(vals))
    assert t.is_floating_point() and t.element_size() == 2 and rg.is_floating_point(t)
    f = rg.tensor(vals)
    for c in (f.bfloat16(), f.to(rg.bfloat16), f.type(rg.bfloat16), rg.tensor(vals.tolist(), dtype=rg.bfloat16)):
        assert c.dtype is rg.bfloat16
        np.testing.assert_array_equal(_f32(c), _bf16(vals))
    assert f.bfloat16().type() == "torch.BFloat16Tensor"
    assert rg.zeros(2, 3, dtype=rg.bfloat16).dtype is rg.bfloat16
    assert rg.ones(3, dtype=rg.bfloat16).tolist() == [1.0, 1.0, 1.0]
    assert rg.tensor(1 / 3, dtype=rg.bfloat16).item() == float(_bf16(1 / 3))
    assert rg.full((2,), 1.5, dtype=rg.bfloat16).dtype is rg.bfloat16
    assert rg.arange(4, dtype=rg.bfloat16).tolist() == [0.0, 1.0, 2.0, 3.0]
    assert t.to(rg.int64).dtype is rg.int64 and t.double().dtype is rg.float64


def test_promotion_in_arithmetic():
    b = rg.ones(3, dtype=rg.bfloat16)
    assert (b + rg.ones(3, dtype=rg.float16)).dtype is rg.float32
    assert (b + rg.ones(3)).dtype is rg.float32
    assert (b * rg.ones(3, dtype=rg.int64)).dtype is rg.bfloat16
    assert (b + 1.5).dtype is rg.bfloat16 and (2 * b).dtype is rg.bfloat16
    assert (b + rg.tensor(1.0)).dtype is rg.bfloat16  # a zero-dim float32 does not widen
    assert (rg.arange(3) / b).dtype is rg.bfloat16
    assert (b > 0).dtype is rg.bool


def test_arithmetic_is_float32_rounded_once():
    rng = np.random.default_rng(0)
    x = _bf16(rng.standard_normal((4, 6)).astype(np.float32))
    y = _bf16(rng.standard_normal((6, 5)).astype(np.float32))
    bx, by = rg.tensor(x, dtype=rg.bfloat16), rg.tensor(y, dtype=rg.bfloat16)
    _close_bf16(bx.exp(), np.exp(x))
    _close_bf16(bx * 3 + 1, x * 3 + 1)
    _close_bf16(bx @ by, x @ y)
    assert (bx @ by).dtype is rg.bfloat16
    _close_bf16(rg.softmax(bx, 1), np.exp(x) / np.exp(x).sum(1, keepdims=True))
    _close_bf16(rg.nn.functional.gelu(bx), rg.nn.functional.gelu(rg.tensor(x)).numpy())
    _close_bf16(bx.sum(1), x.sum(1))
    _close_bf16(bx.mean(), np.float32(x.mean()))
    _close_bf16(bx.amax(0), x.max(0))
    assert bx.argmax().item() == int(x.argmax())


def test_sums_accumulate_in_float32():
    # accumulated in bfloat16, 256 + 1 rounds back to 256 and the sum stalls there
    ones = rg.ones(1000, dtype=rg.bfloat16)
    assert ones.sum().item() == 1000.0 and ones.mean().item() == 1.0
    assert (ones @ ones).item() == 1000.0
    assert ones.cumsum(0)[-1].item() == 1000.0


def test_layers_run_in_bfloat16():
    rg.manual_seed(0)
    lin = rg.nn.Linear(8, 4).to(rg.bfloat16)
    assert lin.weight.dtype is rg.bfloat16
    x = rg.randn(3, 8).bfloat16()
    out = lin(x)
    ref = _f32(x) @ _f32(lin.weight).T + _f32(lin.bias)
    _close_bf16(out, ref)
    conv = rg.nn.Conv2d(2, 3, 3).bfloat16()
    assert conv(rg.randn(1, 2, 5, 5, dtype=rg.bfloat16)).dtype is rg.bfloat16
    ln = rg.nn.LayerNorm(8).bfloat16()
    assert ln(x).dtype is rg.bfloat16


def test_gradients_are_bfloat16():
    x32 = _bf16(np.linspace(-2, 2, 6).astype(np.float32))
    x = rg.tensor(x32, dtype=rg.bfloat16, requires_grad=True)
    w = rg.tensor(_bf16(np.arange(6, dtype=np.float32) / 4), dtype=rg.bfloat16, requires_grad=True)
    (x.tanh() * w).sum().backward()
    assert x.grad.dtype is rg.bfloat16 and w.grad.dtype is rg.bfloat16
    np.testing.assert_allclose(_f32(x.grad), (1 - np.tanh(x32) ** 2) * _f32(w), rtol=2**-6, atol=1e-3)
    np.testing.assert_allclose(_f32(w.grad), np.tanh(x32), rtol=2**-7, atol=1e-6)
    # a float32 leaf used through a bfloat16 cast gets a float32 gradient
    p = rg.ones(3, requires_grad=True)
    (p.bfloat16() * 3).sum().backward()
    assert p.grad.dtype is rg.float32 and p.grad.tolist() == [3.0, 3.0, 3.0]


def test_rearranging_ops_keep_the_dtype_and_values():
    x = rg.arange(24, dtype=rg.float32).reshape(2, 3, 4)
    b = x.bfloat16()
    for f in (
        lambda t: t.reshape(6, 4),
        lambda t: t.permute(2, 0, 1),
        lambda t: t.transpose(0, 1),
        lambda t: t.repeat(1, 2, 1),
        lambda t: t.unsqueeze(1).expand(2, 5, 3, 4),
        lambda t: t.flatten(1),
        lambda t: t[:, 1:, ::2],
        lambda t: t.sum((0, 2)),
        lambda t: t.amax(1),
        lambda t: t.mean(-1),
        lambda t: rg.cat([t, t], 0),
        lambda t: rg.stack([t, t]),
        lambda t: t.flip(0),
        lambda t: rg.einsum("abc->cba", t),
    ):
        got = f(b)
        assert got.dtype is rg.bfloat16
        np.testing.assert_array_equal(_f32(got), _bf16(f(x).numpy()))


def test_numpy_refuses_it_as_pytorch_does():
    t = rg.ones(2, dtype=rg.bfloat16)
    with pytest.raises(TypeError, match="BFloat16"):
        t.numpy()
    with pytest.raises(TypeError, match="BFloat16"):
        np.asarray(t)
    assert t.tolist() == [1.0, 1.0] and t[0].item() == 1.0
    rg.testing.assert_close(t * 3, rg.full((2,), 3.0, dtype=rg.bfloat16))
    with pytest.raises(AssertionError):
        rg.testing.assert_close(t * 3, rg.full((2,), 3.1, dtype=rg.bfloat16))


def test_decompositions_refuse_it_as_pytorch_does():
    a = (rg.eye(3) * 2).bfloat16()
    for f in (
        rg.linalg.inv,
        rg.linalg.det,
        rg.linalg.cholesky,
        rg.linalg.qr,
        rg.linalg.svd,
        rg.linalg.eigh,
        lambda m: rg.linalg.solve(m, m),
    ):
        with pytest.raises(NotImplementedError, match="bfloat16"):
            f(a)
    for d in (rg.float16, rg.bfloat16):
        x = rg.ones(3, 2, dtype=d)
        with pytest.raises(NotImplementedError, match="cdist"):
            rg.cdist(x, x)
        with pytest.raises(NotImplementedError, match="pdist"):
            rg.nn.functional.pdist(x)
        with pytest.raises(RuntimeError, match="float or double"):
            rg.quantile(x, 0.5)
    with rg.autocast("cpu"):  # autocast runs inv, cholesky, qr, svd and cdist in float32
        assert rg.cdist(a, a).dtype is rg.float32
        assert rg.linalg.inv(a).dtype is rg.float32 and rg.linalg.cholesky(a).dtype is rg.float32


def test_printing():
    t = rg.tensor([1 / 3, 100.0], dtype=rg.bfloat16)
    assert repr(t) == "tensor([  0.3340, 100.0000], dtype=retrograd.bfloat16)"
    assert str(rg.tensor(2.5, dtype=rg.bfloat16)) == "tensor(2.5000, dtype=retrograd.bfloat16)"


def test_in_place_updates_stay_bfloat16():
    p = rg.ones(4, dtype=rg.bfloat16)
    p.add_(rg.full((4,), 2**-9, dtype=rg.bfloat16))  # below half a step of 1: rounds back to 1
    assert p.dtype is rg.bfloat16 and p.tolist() == [1.0] * 4
    p.mul_(3).sub_(0.5)
    assert p.tolist() == [2.5] * 4


@pytest.mark.parametrize("suffix", ["safetensors", "pt"])
def test_checkpoints_keep_bfloat16(tmp_path, suffix):
    vals = np.array([1 / 3, -7.25, 3e38], np.float32)
    t = rg.tensor(vals, dtype=rg.bfloat16)
    rg.save({"w": t, "f": rg.ones(2)}, tmp_path / f"c.{suffix}")
    back = rg.load(tmp_path / f"c.{suffix}")
    assert back["w"].dtype is rg.bfloat16 and back["f"].dtype is rg.float32
    np.testing.assert_array_equal(_f32(back["w"]), _bf16(vals))


def test_float8_holds_values_only():
    vals = [0.5, -3.0, 448.0]
    for d in (rg.float8_e4m3fn, rg.float8_e5m2):
        t = rg.tensor(vals, dtype=d)
        assert t.dtype is d and t.is_floating_point() and t.element_size() == 1
        assert t.float().tolist() == vals
        assert t.clone().dtype is d and t[1:].float().tolist() == vals[1:]
        with pytest.raises(NotImplementedError, match="float8"):
            t + t
        with pytest.raises(RuntimeError, match="Promotion for Float8"):
            rg.promote_types(d, rg.float32)
    assert rg.finfo(rg.float8_e4m3fn).max == 448.0
    assert rg.tensor([500.0]).to(rg.float8_e5m2).float().item() == 512.0


def test_float8_safetensors_round_trip(tmp_path):
    t = rg.tensor([0.5, -3.0], dtype=rg.float8_e4m3fn)
    rg.save({"t": t}, tmp_path / "f8.safetensors")
    back = rg.load(tmp_path / "f8.safetensors")["t"]
    assert back.dtype is rg.float8_e4m3fn and back.float().tolist() == [0.5, -3.0]


def test_import_does_not_load_ml_dtypes():
    code = (
        "import sys, retrograd; print('ml_dtypes' in sys.modules); retrograd.bfloat16.np; "
        "print('ml_dtypes' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]
