"""Behaviour of the activation functions beyond the op table: erf accuracy, stability at
extreme inputs, in-place variants, errors and the softmax dim rules."""

import math
import warnings

import numpy as np
import pytest

import retrograd as rg
import retrograd.nn.functional as F


def _grad(fn, x):
    x = rg.tensor(x, requires_grad=True)
    y = fn(x)
    y.sum().backward()
    return y.detach().numpy(), x.grad.numpy()


# --------------------------------------------------------------------------- erf
def test_erf_float64_matches_math_erf_to_a_few_ulp():
    x = np.concatenate([np.linspace(-7, 7, 4001), np.geomspace(1e-12, 1, 50), -np.geomspace(1e-12, 1, 50)])
    got = rg.erf(rg.tensor(x)).numpy()
    want = np.array([math.erf(v) for v in x])
    assert np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-300)) < 1e-15


def test_erfc_float64_keeps_relative_accuracy_in_the_tail():
    x = np.concatenate([np.linspace(-5, 26, 3101)])
    got = rg.erfc(rg.tensor(x)).numpy()
    want = np.array([math.erfc(v) for v in x])
    assert np.max(np.abs(got - want) / want) < 1e-14


def test_erf_float32_accuracy_and_dtype():
    x = np.linspace(-6, 6, 2001).astype(np.float32)
    got = rg.erf(rg.tensor(x))
    assert got.dtype == rg.float32
    want = np.array([math.erf(float(v)) for v in x])
    assert np.max(np.abs(got.numpy() - want)) < 3e-7
    gotc = rg.erfc(rg.tensor(x)).numpy()
    wantc = np.array([math.erfc(float(v)) for v in x])
    assert np.max(np.abs(gotc - wantc) / wantc) < 1e-6


def test_erf_special_values_and_integer_input():
    x = rg.tensor([float("nan"), float("inf"), float("-inf"), 0.0, -0.0])
    np.testing.assert_array_equal(rg.erf(x).numpy(), [np.nan, 1, -1, 0, 0])
    np.testing.assert_array_equal(rg.erfc(x).numpy(), [np.nan, 0, 2, 1, 1])
    out = rg.erf(rg.tensor([0, 1]))
    assert out.dtype == rg.float32
    np.testing.assert_allclose(out.numpy(), [0, math.erf(1)], rtol=1e-6)


def test_erf_in_place_and_method():
    x = rg.tensor([0.5, -1.5])
    assert x.erf_() is x
    np.testing.assert_allclose(x.numpy(), [math.erf(0.5), math.erf(-1.5)], rtol=1e-6)
    np.testing.assert_allclose(rg.tensor([2.0]).erfc().numpy(), [math.erfc(2.0)], rtol=1e-6)


# --------------------------------------------------------------------------- stability
EXTREME = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])


@pytest.mark.parametrize(
    "name,value,grad",
    [
        ("logsigmoid", [-1000, -50, -math.log(2), -np.exp(-50), 0], [1, 1, 0.5, np.exp(-50), 0]),
        ("softplus", [0, np.exp(-50), math.log(2), 50, 1000], [0, np.exp(-50), 0.5, 1, 1]),
        ("silu", [0, -50 * np.exp(-50), 0, 50, 1000], [0, -49 * np.exp(-50), 0.5, 1, 1]),
        ("mish", [0, -50 * np.exp(-50), 0, 50, 1000], [0, None, 0.6, 1, 1]),
        ("gelu", [0, 0, 0, 50, 1000], [0, 0, 0.5, 1, 1]),
        ("elu", [-1, -1, 0, 50, 1000], [0, np.exp(-50), 1, 1, 1]),
    ],
)
def test_activations_stay_finite_at_extreme_inputs(name, value, grad):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings either
        y, g = _grad(getattr(F, name), EXTREME)
    assert np.isfinite(y).all() and np.isfinite(g).all()
    np.testing.assert_allclose(y, value, rtol=1e-6, atol=1e-300)
    for got, want in zip(g, grad):
        if want is not None:
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-300)


@pytest.mark.parametrize("fn", [lambda x: F.softmax(x, -1), lambda x: F.log_softmax(x, -1), lambda x: F.softmin(x, -1)])
def test_softmax_family_finite_for_logits_of_1000(fn):
    x = rg.tensor([[1000.0, -1000.0, 0.0], [1000.0, 1000.0, -1000.0]], requires_grad=True)
    y = fn(x)
    (y * rg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
    assert np.isfinite(y.detach().numpy()).all() and np.isfinite(x.grad.numpy()).all()


def test_log_softmax_values_at_1000():
    y = F.log_softmax(rg.tensor([[1000.0, -1000.0], [1000.0, 1000.0]]), 1).numpy()
    np.testing.assert_allclose(y, [[0.0, -2000.0], [-math.log(2), -math.log(2)]])


# --------------------------------------------------------------------------- in place
@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("relu", {}),
        ("relu6", {}),
        ("elu", {}),
        ("selu", {}),
        ("celu", {}),
        ("leaky_relu", {"negative_slope": 0.1}),
        ("hardtanh", {}),
        ("hardsigmoid", {}),
        ("hardswish", {}),
        ("silu", {}),
        ("mish", {}),
        ("threshold", {"threshold": 0.1, "value": 2.0}),
        ("rrelu", {}),
    ],
)
def test_inplace_flag_writes_into_input_and_keeps_gradients(name, kwargs):
    data = np.array([-2.0, -0.5, 0.3, 1.7, 7.0])
    fn = getattr(F, name)
    want = fn(rg.tensor(data), **kwargs).numpy()
    a = rg.tensor(data, requires_grad=True)
    b = a * 1.0
    out = fn(b, inplace=True, **kwargs)
    assert out is b
    np.testing.assert_allclose(b.detach().numpy(), want)
    out.sum().backward()
    ref = rg.tensor(data, requires_grad=True)
    fn(ref, **kwargs).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ref.grad.numpy())


def test_inplace_on_leaf_that_requires_grad_is_an_error():
    with pytest.raises(RuntimeError, match="leaf"):
        F.relu(rg.tensor([1.0], requires_grad=True), inplace=True)


def test_underscore_variants():
    x = rg.tensor([-1.0, 2.0])
    assert F.relu_(x) is x and x.tolist() == [0.0, 2.0]
    x = rg.tensor([-1.0, 2.0])
    assert F.leaky_relu_(x, 0.5) is x and x.tolist() == [-0.5, 2.0]
    x = rg.tensor([-3.0, 2.0])
    assert F.hardtanh_(x) is x and x.tolist() == [-1.0, 1.0]
    x = rg.tensor([-3.0, 2.0])
    assert rg.threshold_(x, 0.0, 5.0) is x and x.tolist() == [5.0, 2.0]
    x = rg.tensor([-1.0])
    F.elu_(x)
    np.testing.assert_allclose(x.numpy(), [math.expm1(-1)])


def test_rrelu_training_draws_slopes_from_the_default_generator():
    x = rg.full((1000,), -1.0)
    rg.manual_seed(3)
    a = F.rrelu(x, 0.1, 0.3, training=True)
    rg.manual_seed(3)
    b = F.rrelu(x, 0.1, 0.3, training=True)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert a.numpy().min() >= -0.3 and a.numpy().max() <= -0.1 and a.numpy().std() > 0.03


def test_rrelu_training_on_bfloat16():
    # the slopes come from the same draws as for float32, rounded to bfloat16
    x = rg.cat([rg.full((500,), -1.0), rg.full((500,), 2.0)]).bfloat16().requires_grad_()
    rg.manual_seed(3)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    rg.manual_seed(3)
    want = F.rrelu(x.detach().float(), 0.1, 0.3, training=True).bfloat16()
    assert y.dtype == rg.bfloat16 and rg.equal(y.detach(), want)
    neg = y[:500].float()
    # slopes within [0.1, 0.3] up to bfloat16's rounding (8 significand bits)
    assert neg.min().item() >= -0.302 and neg.max().item() <= -0.0996 and neg.std().item() > 0.03
    assert y[500:].float().eq(2.0).all()
    y.float().sum().backward()
    assert rg.equal(x.grad[:500], -y[:500].detach()) and x.grad[500:].float().eq(1.0).all()


# --------------------------------------------------------------------------- softmax rules
def test_softmax_implicit_dim_warns_and_follows_pytorch():
    x = rg.randn(2, 3)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        y = F.softmax(x)
    np.testing.assert_allclose(y.sum(1).numpy(), [1, 1], rtol=1e-6)
    with pytest.warns(UserWarning):
        y = F.log_softmax(rg.randn(2, 3, 4))
    np.testing.assert_allclose(y.exp().sum(0).numpy(), np.ones((3, 4)), rtol=1e-6)


def test_softmax_dtype_argument_casts_first():
    x = rg.tensor([[1.0, 2.0]], dtype=rg.float32)
    assert F.softmax(x, 1, dtype=rg.float64).dtype == rg.float64
    assert rg.softmax(x, 1, dtype=rg.float64).dtype == rg.float64
    assert x.log_softmax(1, dtype=rg.float64).dtype == rg.float64


def test_softmax_rejects_integer_input():
    with pytest.raises(NotImplementedError, match="Long"):
        F.softmax(rg.tensor([1, 2]), 0)


def test_softmax_of_a_fully_masked_row_is_nan_like_pytorch():
    y = F.softmax(rg.tensor([[float("-inf"), float("-inf")], [0.0, float("-inf")]]), 1).numpy()
    assert np.isnan(y[0]).all()
    np.testing.assert_array_equal(y[1], [1.0, 0.0])


# --------------------------------------------------------------------------- errors, names, exports
@pytest.mark.parametrize("name", ["gelu", "silu", "softplus", "elu", "mish", "logsigmoid", "hardswish"])
def test_float_only_activations_reject_integer_tensors(name):
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        getattr(F, name)(rg.tensor([1, 2]))


def test_gelu_approximate_must_be_none_or_tanh():
    with pytest.raises(RuntimeError, match="approximate"):
        F.gelu(rg.tensor([1.0]), approximate="fast")


def test_glu_needs_an_even_dimension():
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 1 is size 5"):
        F.glu(rg.randn(3, 5))


def test_prelu_weight_size_must_match_channels():
    with pytest.raises(RuntimeError, match="parameter numbers = 3 and channel size = 4"):
        F.prelu(rg.randn(2, 4), rg.ones(3))


def test_hardtanh_bounds_order_and_softshrink_lambda():
    with pytest.raises(ValueError):
        F.hardtanh(rg.randn(3), 1.0, -1.0)
    with pytest.raises(RuntimeError, match="lambda must be greater or equal to 0"):
        F.softshrink(rg.randn(3), -0.5)


def test_node_names_follow_pytorch():
    x = rg.randn(3, requires_grad=True)
    assert F.gelu(x).grad_fn.name() == "GeluBackward0"
    assert F.softmax(x, 0).grad_fn.name() == "SoftmaxBackward0"
    assert F.log_softmax(x, 0).grad_fn.name() == "LogSoftmaxBackward0"
    assert F.logsigmoid(x).grad_fn.name() == "LogSigmoidBackward0"
    assert rg.erf(x).grad_fn.name() == "ErfBackward0"


def test_gumbel_softmax_soft_and_hard():
    logits = rg.randn(4, 5, requires_grad=True)
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.sum(-1).detach().numpy(), np.ones(4), rtol=1e-6)
    hard = F.gumbel_softmax(logits, hard=True)
    h = hard.detach().numpy()
    assert set(np.unique(h)) <= {0.0, 1.0} and (h.sum(-1) == 1).all()
    (hard * rg.arange(5.0)).sum().backward()
    assert logits.grad is not None and np.abs(logits.grad.numpy()).sum() > 0


def test_top_level_and_method_exports():
    x = rg.randn(2, 3)
    for name in ("softmax", "log_softmax", "erf", "erfc", "erf_", "erfc_", "prelu", "hardshrink", "relu_"):
        assert hasattr(rg.Tensor, name), name
    for name in (
        "softmax",
        "log_softmax",
        "erf",
        "erfc",
        "selu",
        "celu",
        "threshold",
        "rrelu",
        "prelu",
        "hardshrink",
        "relu_",
        "selu_",
        "celu_",
        "threshold_",
        "rrelu_",
    ):
        assert hasattr(rg, name), name
    np.testing.assert_allclose(rg.selu(x).numpy(), F.selu(x).numpy())
    np.testing.assert_allclose(x.softmax(0).numpy(), F.softmax(x, 0).numpy())
