"""The non-differentiable pointwise ops (heaviside, signbit, gcd, lcm, nextafter, frexp's
exponent) and the special functions' values at poles, infinities and the ends of their domains."""

import math

import numpy as np
import pytest

import retrograd as rg


def test_heaviside_signbit():
    x = rg.tensor([-1.5, 0.0, -0.0, 2.0])
    assert rg.heaviside(x, rg.tensor([0.5])).tolist() == [0.0, 0.5, 0.5, 1.0]
    assert x.signbit().tolist() == [True, False, True, False]
    with pytest.raises(RuntimeError, match="different dtypes"):
        rg.heaviside(x, rg.tensor([1], dtype=rg.int64))


def test_gcd_lcm():
    a = rg.tensor([12, 0, -9, 7])
    b = rg.tensor([18, 0, 6, 3])
    assert rg.gcd(a, b).tolist() == [6, 0, 3, 1]
    assert rg.lcm(a, b).tolist() == [36, 0, 18, 21]
    a.gcd_(rg.tensor(4))
    assert a.tolist() == [4, 4, 1, 1]
    with pytest.raises(RuntimeError, match="integer"):
        rg.gcd(rg.tensor([1.0]), rg.tensor([2.0]))


def test_nextafter_frexp_ldexp():
    x = rg.tensor([1.0, 0.0], dtype=rg.float64)
    up = rg.nextafter(x, rg.tensor(2.0, dtype=rg.float64))
    assert up.tolist() == [np.nextafter(1.0, 2.0), np.nextafter(0.0, 1.0)]
    m, e = rg.frexp(rg.tensor([8.0, -0.75, 0.0]))
    assert m.tolist() == [0.5, -0.75, 0.0] and e.tolist() == [4, 0, 0] and e.dtype == rg.int32
    assert rg.ldexp(rg.tensor([1.0, 3.0]), rg.tensor([2, -1])).tolist() == [4.0, 1.5]
    with pytest.raises(RuntimeError, match="floating-point"):
        rg.frexp(rg.tensor([1]))


def test_special_values():
    f64 = rg.float64
    lg = rg.lgamma(rg.tensor([0.0, -1.0, 1.0, 2.0, math.inf, -math.inf], dtype=f64)).tolist()
    assert lg == [math.inf, math.inf, 0.0, 0.0, math.inf, math.inf]
    dg = rg.digamma(rg.tensor([0.0, -0.0, -2.0, 1.0], dtype=f64)).tolist()
    assert dg[0] == -math.inf and dg[1] == math.inf and math.isnan(dg[2])
    assert dg[3] == pytest.approx(-0.5772156649015329, rel=1e-14)
    assert rg.polygamma(1, rg.tensor([1.0], dtype=f64)).item() == pytest.approx(math.pi**2 / 6, rel=1e-14)
    ei = rg.erfinv(rg.tensor([1.0, -1.0, 1.5, 0.0], dtype=f64)).tolist()
    assert ei[:2] == [math.inf, -math.inf] and math.isnan(ei[2]) and ei[3] == 0.0
    assert rg.i0(rg.tensor([0.0])).item() == 1.0
    with pytest.raises(RuntimeError, match="negative n"):
        rg.polygamma(-1, rg.ones(2))
    with pytest.raises(RuntimeError, match=r"\(p-1\)/2"):
        rg.mvlgamma(rg.tensor([0.5, 2.0]), 3)


def test_integer_inputs_become_float():
    for fn in (rg.lgamma, rg.digamma, rg.erfinv, rg.sinc, rg.asinh, rg.rad2deg, rg.i0):
        assert fn(rg.tensor([0, 1])).dtype == rg.float32


def test_inplace_and_methods():
    x = rg.tensor([0.5, 1.5])
    x.lgamma_()
    np.testing.assert_allclose(x.numpy(), [math.lgamma(0.5), math.lgamma(1.5)], rtol=1e-6)
    y = rg.tensor([1.0, 2.0])
    y.polygamma_(1)
    np.testing.assert_allclose(y.numpy(), [math.pi**2 / 6, math.pi**2 / 6 - 1], rtol=1e-6)
    z = rg.tensor([0.25])
    z.logit_()
    assert z.item() == pytest.approx(math.log(1 / 3), rel=1e-6)
    # the same function under both names (each namespace wraps it for out=)
    assert rg.special.gammaln.__wrapped__ is rg.lgamma.__wrapped__
    assert rg.special.psi.__wrapped__ is rg.digamma.__wrapped__
    assert rg.special.expit(rg.tensor([0.0])).item() == 0.5
    assert rg.special.entr(rg.tensor([0.0, -1.0])).tolist() == [0.0, -math.inf]


def test_fmax_fmin_ignore_nan_where_maximum_propagates_it():
    nan = float("nan")
    a, b = rg.tensor([nan, 1.0, nan, 3.0]), rg.tensor([2.0, nan, nan, 1.0])
    np.testing.assert_array_equal(rg.fmax(a, b).numpy(), [2.0, 1.0, nan, 3.0])
    np.testing.assert_array_equal(rg.fmin(a, b).numpy(), [2.0, 1.0, nan, 1.0])
    assert np.isnan(rg.maximum(a, b).numpy()[:3]).all()
    assert rg.fmax is not rg.maximum and rg.fmin is not rg.minimum


def test_fmax_gradient_goes_to_the_number_not_the_nan_and_ties_to_the_first():
    nan = float("nan")
    a = rg.tensor([nan, 1.0, 2.0, 5.0], dtype=rg.float64, requires_grad=True)
    b = rg.tensor([2.0, nan, 2.0, 1.0], dtype=rg.float64, requires_grad=True)
    rg.fmax(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 1.0, 1.0, 1.0])
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 0.0, 0.0, 0.0])


def test_fmax_takes_two_tensors():
    with pytest.raises(TypeError, match="other"):
        rg.fmax(rg.tensor([1.0]), 2.0)


# ----------------------------------------------------------------------------- NumPy scalars
@pytest.mark.parametrize("scalar", [np.float64(2.5), np.float32(2.5), np.int64(3)])
@pytest.mark.parametrize(
    "op",
    [
        lambda t, s: t + s,
        lambda t, s: s - t,
        lambda t, s: t * s,
        lambda t, s: t / s,
        lambda t, s: s / t,
        lambda t, s: t**s,
    ],
)
def test_a_numpy_scalar_operand_acts_as_the_python_number(op, scalar):
    x = rg.tensor([[1.5, -2.0], [0.5, 4.0]], requires_grad=True)
    got = op(x, scalar)
    want = op(x, scalar.item())
    assert got.dtype == want.dtype == rg.float32
    np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
    assert got.grad_fn.name() == want.grad_fn.name()
    got.sum().backward()
    g = x.grad.clone()
    x.grad = None
    want.sum().backward()
    np.testing.assert_array_equal(g.numpy(), x.grad.numpy())


def test_scores_divided_by_a_numpy_square_root_can_be_masked_in_place():
    # attention written as matmul / np.sqrt(d_k) then masked_fill_: dividing by a number saves
    # no tensor, so the in-place fill does not invalidate the backward
    q = rg.randn(2, 3, 4, requires_grad=True)
    scores = q @ q.transpose(-1, -2) / np.sqrt(4)
    scores.masked_fill_(rg.eye(3, dtype=rg.bool), -1e9)
    scores.softmax(-1).sum().backward()
    assert q.grad is not None and q.grad.shape == q.shape


def test_a_one_element_integer_tensor_of_any_rank_is_an_index():
    assert [10, 20, 30][rg.tensor([[2]])] == 30
    with pytest.raises(TypeError, match="single element"):
        [10, 20, 30][rg.tensor([1, 2])]


def test_div_with_floor_rounding_gives_zero_gradients():
    # as PyTorch (DivBackward2): rounded division is piecewise constant, so both inputs get
    # zeros, whatever the incoming gradient holds; floor_divide itself has no derivative
    x = rg.tensor([[7.5, -7.5, 3.0]], dtype=rg.float64, requires_grad=True)
    y = rg.tensor([2.0, 2.0, -0.7], dtype=rg.float64, requires_grad=True)
    q = rg.div(x, y, rounding_mode="floor")
    assert q.tolist() == [[3.0, -4.0, -5.0]]
    assert q.grad_fn.name() == "DivBackward2"
    q.backward(rg.tensor([[float("inf"), 1.0, 2.0]], dtype=rg.float64))
    assert x.grad.tolist() == [[0.0, 0.0, 0.0]] and y.grad.tolist() == [0.0, 0.0, 0.0]
    assert rg.autograd.gradcheck(lambda a, b: rg.div(a, b, rounding_mode="floor"), (x, y))
    s = rg.div(x, 2, rounding_mode="floor")
    assert s.tolist() == [[3.0, -4.0, 1.0]]
    s.sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0, 0.0]]
    with pytest.raises(RuntimeError, match="floor_divide"):
        rg.floor_divide(x, y).sum().backward()
    assert rg.div(rg.tensor([7, -7]), 2, rounding_mode="floor").tolist() == [3, -4]


@pytest.mark.parametrize("name", ["xlogy", "xlog1py"])
def test_xlogy_nan_where_other_is_nan_and_log_gradient_at_zero(name):
    fn, log = (rg.xlogy, np.log) if name == "xlogy" else (rg.special.xlog1py, np.log1p)
    nan, inf = math.nan, math.inf
    x = rg.tensor([0.0, 0.0, 0.0, 0.0, 2.0], dtype=rg.float64, requires_grad=True)
    y = rg.tensor([nan, 2.0, -1.0, inf, 3.0], dtype=rg.float64)
    out = fn(x, y)
    np.testing.assert_array_equal(out.detach().numpy(), [nan, 0.0, 0.0, 0.0, 2 * log(3.0)])
    out.sum().backward()
    # d/dx x log(y) = log(y), at x == 0 too (0 where log(y) is -inf or undefined there)
    np.testing.assert_allclose(x.grad.numpy()[[1, 2, 4]], [log(2.0), 0.0, log(3.0)])


def test_hypot_does_not_overflow_and_is_inf_at_an_infinite_operand():
    x = rg.tensor([3e20, math.inf, 3.0, -3.0], requires_grad=True)
    y = rg.tensor([4e20, math.nan, 4.0, 4.0], requires_grad=True)
    h = rg.hypot(x, y)
    np.testing.assert_allclose(
        h.detach().numpy(), np.hypot(np.float32([3e20, np.inf, 3, -3]), np.float32([4e20, np.nan, 4, 4]))
    )
    assert h[1].item() == math.inf
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy()[[0, 2, 3]], [0.6, 0.6, -0.6], rtol=1e-6)
    a = rg.tensor([1e200, 0.5], dtype=rg.float64, requires_grad=True)
    b = rg.tensor([1e200, -1.5], dtype=rg.float64)
    assert rg.hypot(a, b)[0].item() == pytest.approx(math.sqrt(2) * 1e200)
    c = rg.tensor([0.5, -2.0], dtype=rg.float64, requires_grad=True)
    assert rg.autograd.gradcheck(lambda t: rg.hypot(t, b[1:]), (c,))


@pytest.mark.parametrize("mode", ["trunc", "floor"])
def test_rounded_division_has_a_zero_gradient(mode):
    # PyTorch defines the derivative of div(..., rounding_mode=...) as zero, also at a zero divisor
    a, b = np.array([1.0, 2.0, -3.0, 7.0]), np.array([0.0, 2.0, 0.5, -2.0])
    x = rg.tensor(a, requires_grad=True)
    y = rg.tensor(b, requires_grad=True)
    out = rg.div(x, y, rounding_mode=mode)
    with np.errstate(divide="ignore"):
        want = np.floor_divide(a, b) if mode == "floor" else np.trunc(a / b)
    np.testing.assert_array_equal(out.detach().numpy(), want)
    out.sum().backward()
    assert x.grad.tolist() == [0.0] * 4 and y.grad.tolist() == [0.0] * 4


def test_maximum_minimum_gradient_reaches_both_operands_at_nan_and_splits_ties():
    # PyTorch: each operand that does not lose gets the gradient (halved at a tie); with a NaN
    # neither loses
    nan = math.nan
    x = rg.tensor([1.0, 2.0, nan, 3.0, 2.0], requires_grad=True)
    y = rg.tensor([2.0, 1.0, 1.0, nan, 2.0], requires_grad=True)
    rg.maximum(x, y).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.5] and y.grad.tolist() == [1.0, 0.0, 1.0, 1.0, 0.5]
    x.grad = y.grad = None
    rg.minimum(x, y).sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 1.0, 1.0, 0.5] and y.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.5]


def test_rounding_and_abs_refuse_the_dtypes_pytorch_has_no_kernel_for():
    b, i = rg.tensor([True, False]), rg.tensor([-3, 2])
    for fn in (rg.floor, rg.ceil, rg.trunc, rg.round, rg.abs, rg.frac):
        with pytest.raises(NotImplementedError, match="not implemented for"):
            fn(b)
    with pytest.raises(NotImplementedError, match="frac"):
        rg.frac(i)
    with pytest.raises(NotImplementedError, match="round"):
        rg.round(i, decimals=1)
    with pytest.raises(RuntimeError, match="Boolean inputs not supported for relu"):
        rg.relu(b)
    assert rg.round(i).tolist() == [-3, 2] and rg.floor(i).tolist() == [-3, 2]
    assert rg.sign(b).tolist() == [True, False] and rg.sign(b).dtype == rg.bool
