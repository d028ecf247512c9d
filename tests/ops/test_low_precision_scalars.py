"""float16 and bfloat16 arithmetic with a Python number, against NumPy in float32.

PyTorch's CPU kernels compute these dtypes in float32 and round the result once; the number
is either rounded to the tensor's dtype first (add, sub, fmod, remainder, pow, comparisons,
add's alpha) or kept in float32 (mul, div, floor and trunc division by a number)."""

import ml_dtypes
import numpy as np
import pytest

import retrograd as rg

DTYPES = {"float16": np.float16, "bfloat16": ml_dtypes.bfloat16}
SCALARS = [0.3, 1 / 3, 2.5, -1e-3, 1e4, 257, -7]
F32 = np.float32


def _data(dt):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(400) * np.repeat([0.01, 1, 10, 1000], 100)).astype(F32)
    return x.astype(DTYPES[dt]).astype(F32)  # float32 values the dtype holds exactly


def _rounded(s, dt):
    return F32(np.asarray(s, np.float64).astype(DTYPES[dt]))


def _check(got, want, dt):
    with np.errstate(over="ignore"):
        want = np.asarray(want, F32).astype(DTYPES[dt]).astype(F32)
    got = got.float().numpy()
    assert np.array_equal(got.view(np.int32), want.view(np.int32)) or np.array_equal(got, want, equal_nan=True)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


# op, retrograd call, float32 reference given (x, number as the kernel reads it), whether the
# number is rounded to the dtype (else kept in float32)
CASES = [
    ("add", lambda x, s: x + s, lambda a, s: a + s, True),
    ("radd", lambda x, s: s + x, lambda a, s: s + a, True),
    ("sub", lambda x, s: x - s, lambda a, s: a - s, True),
    ("rsub", lambda x, s: s - x, lambda a, s: s - a, True),
    ("mul", lambda x, s: x * s, lambda a, s: a * s, False),
    ("rmul", lambda x, s: s * x, lambda a, s: s * a, False),
    ("div", lambda x, s: x / s, lambda a, s: a / s, False),
    ("fmod", lambda x, s: rg.fmod(x, s), lambda a, s: np.fmod(a, s), True),
    ("floor_divide", lambda x, s: x // s, lambda a, s: np.floor_divide(a, s), False),
    ("div_floor", lambda x, s: rg.div(x, s, rounding_mode="floor"), lambda a, s: np.floor_divide(a, s), False),
    ("div_trunc", lambda x, s: rg.div(x, s, rounding_mode="trunc"), lambda a, s: np.trunc(a / s), False),
    ("pow", lambda x, s: x.abs() ** s, lambda a, s: np.abs(a) ** s, True),
    ("rpow", lambda x, s: abs(s) ** x, lambda a, s: np.abs(s) ** a, True),
    ("mul_", lambda x, s: x.clone().mul_(s), lambda a, s: a * s, False),
    ("div_", lambda x, s: x.clone().div_(s), lambda a, s: a / s, False),
    ("add_", lambda x, s: x.clone().add_(s), lambda a, s: a + s, True),
]


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name,op,ref,rounds", CASES, ids=[c[0] for c in CASES])
def test_number_operand(name, op, ref, rounds, dt):
    a = _data(dt)
    x = rg.tensor(a).to(getattr(rg, dt))
    with np.errstate(all="ignore"):
        for s in SCALARS:
            k = _rounded(s, dt) if rounds else F32(s)
            _check(op(x, s), ref(a, k), dt)


def test_comparison_rounds_the_number():
    x = rg.tensor([0.30078125]).to(rg.bfloat16)  # 0.3 rounded to bfloat16
    assert (x == 0.3).item() and not (x > 0.3).item()


@pytest.mark.parametrize("dt", DTYPES)
def test_number_over_tensor(dt):
    """s / x is 1 / x rounded to the dtype, then times s in float32; s // x and s % x read s
    rounded to the dtype."""
    a = _data(dt)
    x = rg.tensor(a).to(getattr(rg, dt))
    with np.errstate(all="ignore"):
        for s in SCALARS:
            recip = (F32(1) / a).astype(DTYPES[dt]).astype(F32)
            _check(s / x, recip * F32(s), dt)
            _check(s % x, _torch_remainder(_rounded(s, dt), a), dt)


def _torch_remainder(a, b):
    m = np.fmod(a, b)
    return np.where((m != 0) & ((b < 0) != (m < 0)), m + b, m)


@pytest.mark.parametrize("dt", DTYPES)
def test_remainder(dt):
    a = _data(dt)
    x = rg.tensor(a).to(getattr(rg, dt))
    with np.errstate(all="ignore"):
        for s in SCALARS:
            _check(rg.remainder(x, s), _torch_remainder(a, _rounded(s, dt)), dt)


@pytest.mark.parametrize("dtype", [rg.float32, rg.float64, rg.float16, rg.bfloat16])
def test_remainder_zero_keeps_sign_of_dividend(dtype):
    x = rg.tensor([-6.5, 6.5, -0.0, 0.0], dtype=dtype)
    for s in (3.25, -3.25):
        r = rg.remainder(x, s).float().numpy()
        assert np.all(r == 0)
        np.testing.assert_array_equal(np.signbit(r), [True, False, True, False])


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("subtract", [False, True])
def test_alpha(dt, subtract):
    """add/sub's alpha (and a number other) rounded to the dtype, the sum in float32."""
    a = _data(dt)
    b = a[::-1].copy()
    d = getattr(rg, dt)
    x, y = rg.tensor(a).to(d), rg.tensor(b).to(d)
    op = rg.sub if subtract else rg.add
    sign = -1 if subtract else 1
    for s in SCALARS:
        k = _rounded(s, dt)
        _check(op(x, y, alpha=s), a + sign * (b * k), dt)
        _check(op(x, 3, alpha=s), a + sign * (F32(3) * k), dt)
        _check(x.clone().add_(y, alpha=s), a + b * k, dt)


def test_float32_unchanged():
    a = _data("bfloat16")
    x = rg.tensor(a)
    for s in SCALARS:
        np.testing.assert_array_equal((x + s).numpy(), a + F32(s))
        np.testing.assert_array_equal((x * s).numpy(), a * F32(s))
        np.testing.assert_array_equal(rg.div(x, s, rounding_mode="trunc").numpy(), np.trunc(a / F32(s)))


def test_gradients_float64():
    x = rg.tensor(np.linspace(0.5, 2.0, 5), dtype=rg.float64, requires_grad=True)
    y = rg.tensor(np.linspace(-1.0, 1.0, 5), dtype=rg.float64, requires_grad=True)
    for f in (
        lambda x, y: x * 0.3 + 0.3 / x,
        lambda x, y: rg.add(x, y, alpha=0.3),
        lambda x, y: rg.sub(x, y, alpha=1 / 3),
        lambda x, y: rg.remainder(x, 0.3) + rg.fmod(x, 0.7),
        lambda x, y: x**2.5 + 2.5**x,
    ):
        assert rg.autograd.gradcheck(f, (x, y))


@pytest.mark.parametrize("dt", DTYPES)
def test_low_precision_gradients(dt):
    """Gradients of the number ops in the low dtype: the same rules apply to the backward."""
    d = getattr(rg, dt)
    x = rg.tensor([0.5, 1.5, -2.0]).to(d).requires_grad_()
    (x * 0.3 + rg.div(x, 0.3, rounding_mode="trunc")).sum().backward()
    _check(x.grad, np.full(3, F32(0.3)), dt)
    y = x.detach().clone().requires_grad_()
    rg.add(y, y, alpha=0.3).sum().backward()
    _check(y.grad, np.full(3, F32(1) + _rounded(0.3, dt)), dt)
