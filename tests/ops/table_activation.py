"""Op table: activations, softmax family and erf (retrograd.nn.functional / retrograd.erf)."""
import math

import numpy as np

from .optable import OpSpec

UNARY = [[(3, 4)], [()], [(2, 0, 3)], [(5,)]]
SMALL = [[(3, 4)], [(5,)]]

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946

_erf = np.vectorize(math.erf, otypes=[np.float64])
_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def _np_logsumexp(x, axis):
    m = np.max(x, axis=axis, keepdims=True)
    return np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m


def _np_softmax(x, axis):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _np_log_softmax(x, axis):
    return x - _np_logsumexp(x, axis)


def _np_softplus(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, x, np.logaddexp(0, beta * x) / beta)


def _np_gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def build(rg):
    F = rg.nn.functional
    T = []
    # ---------------------------------------------------------------- elementwise activations
    T += [
        OpSpec("erf", rg.erf, _erf, UNARY, low=-4, high=4),
        OpSpec("erfc", rg.erfc, _erfc, UNARY, low=-4, high=4),
        OpSpec("erf_method_noncontig", lambda x: x.t().erf(), lambda x: _erf(x.T), [[(3, 4)]], low=-3, high=3),
        OpSpec("relu_inplace_noncontig", lambda x: F.relu(x.t() * 1.0, inplace=True), lambda x: np.maximum(x.T, 0),
               [[(3, 4)]]),
        OpSpec("relu6", F.relu6, lambda x: np.clip(x, 0, 6), UNARY, low=-2, high=8),
        OpSpec("leaky_relu", F.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x), UNARY),
        OpSpec("leaky_relu_slope", lambda x: F.leaky_relu(x, negative_slope=0.2),
               lambda x: np.where(x > 0, x, 0.2 * x), SMALL),
        OpSpec("elu", F.elu, lambda x: np.where(x > 0, x, np.expm1(x)), UNARY),
        OpSpec("elu_alpha", lambda x: F.elu(x, alpha=0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(x)), SMALL),
        OpSpec("selu", F.selu, lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)), UNARY),
        OpSpec("celu", lambda x: F.celu(x, alpha=2.0),
               lambda x: np.maximum(x, 0) + np.minimum(0, 2.0 * np.expm1(x / 2.0)), UNARY),
        OpSpec("gelu", F.gelu, lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))), UNARY, low=-4, high=4),
        OpSpec("gelu_noncontig", lambda x: F.gelu(x.t()), lambda x: 0.5 * x.T * (1 + _erf(x.T / math.sqrt(2))),
               [[(3, 4)]], low=-4, high=4),
        OpSpec("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), _np_gelu_tanh, UNARY, low=-4, high=4),
        OpSpec("silu", F.silu, lambda x: x / (1 + np.exp(-x)), UNARY, low=-5, high=5),
        OpSpec("mish", F.mish, lambda x: x * np.tanh(np.logaddexp(0, x)), UNARY, low=-5, high=5),
        OpSpec("softplus", F.softplus, _np_softplus, UNARY, low=-5, high=5),
        OpSpec("softplus_beta_threshold", lambda x: F.softplus(x, beta=2.0, threshold=3.0),
               lambda x: _np_softplus(x, 2.0, 3.0), [[(4, 5)]], low=-3, high=3),
        OpSpec("softsign", F.softsign, lambda x: x / (1 + np.abs(x)), UNARY),
        OpSpec("hardtanh", F.hardtanh, lambda x: np.clip(x, -1, 1), UNARY),
        OpSpec("hardtanh_bounds", lambda x: F.hardtanh(x, min_val=-0.5, max_val=1.5),
               lambda x: np.clip(x, -0.5, 1.5), SMALL),
        OpSpec("hardsigmoid", F.hardsigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1), UNARY, low=-5, high=5),
        OpSpec("hardswish", F.hardswish, lambda x: x * np.clip(x + 3, 0, 6) / 6, UNARY, low=-5, high=5),
        OpSpec("logsigmoid", F.logsigmoid, lambda x: -np.logaddexp(0, -x), UNARY, low=-5, high=5),
        OpSpec("threshold", lambda x: F.threshold(x, 0.3, -2.0), lambda x: np.where(x > 0.3, x, -2.0), UNARY),
        OpSpec("hardshrink", F.hardshrink, lambda x: np.where(np.abs(x) > 0.5, x, 0), UNARY),
        OpSpec("hardshrink_method", lambda x: x.hardshrink(0.3), lambda x: np.where(np.abs(x) > 0.3, x, 0), SMALL),
        OpSpec("softshrink", lambda x: F.softshrink(x, 0.4),
               lambda x: np.where(x > 0.4, x - 0.4, np.where(x < -0.4, x + 0.4, 0)), UNARY),
        OpSpec("tanhshrink", F.tanhshrink, lambda x: x - np.tanh(x), UNARY),
        OpSpec("rrelu_eval", lambda x: F.rrelu(x, 0.1, 0.3), lambda x: np.where(x >= 0, x, 0.2 * x), SMALL),
        OpSpec("prelu_channels", F.prelu, lambda x, w: np.where(x > 0, x, w.reshape(3, 1) * x), [[(2, 3, 4), (3,)]]),
        OpSpec("prelu_single", F.prelu, lambda x, w: np.where(x > 0, x, w * x), [[(2, 3), (1,)], [(4,), (1,)]]),
        OpSpec("glu", F.glu, lambda x: x[..., :2] / (1 + np.exp(-x[..., 2:])), [[(3, 4)], [(2, 3, 4)]]),
        OpSpec("glu_dim0", lambda x: F.glu(x, 0), lambda x: x[:2] / (1 + np.exp(-x[2:])), [[(4, 3)]]),
    ]
    # ---------------------------------------------------------------- softmax family
    SM = [[(3, 4)], [(2, 3, 4)]]
    T += [
        OpSpec("softmax_last", lambda x: F.softmax(x, -1), lambda x: _np_softmax(x, -1), SM),
        OpSpec("softmax_dim0", lambda x: F.softmax(x, 0), lambda x: _np_softmax(x, 0), SM),
        OpSpec("softmax_0d", lambda x: F.softmax(x, 0), lambda x: np.ones(()), [[()]], grad="zero"),
        OpSpec("softmax_empty", lambda x: F.softmax(x, 1), lambda x: x.copy(), [[(2, 0, 3)]], grad="zero"),
        OpSpec("softmax_noncontig", lambda x: F.softmax(x.transpose(0, 2), 1),
               lambda x: _np_softmax(x.transpose(2, 1, 0), 1), [[(2, 3, 4)]]),
        OpSpec("softmax_method_dtype", lambda x: x.float().softmax(-1, dtype=rg.float64),
               lambda x: _np_softmax(x, -1), [[(3, 4)]],
               skip={"gradcheck": "float32 round trip", "gradgradcheck": "float32 round trip",
                     "dtype": "dtype=float64 by design"}),
        OpSpec("softmax_large_logits", lambda x: F.softmax(x, -1), lambda x: _np_softmax(x, -1), [[(3, 4)]],
               low=-1000, high=1000),
        OpSpec("log_softmax_last", lambda x: F.log_softmax(x, -1), lambda x: _np_log_softmax(x, -1), SM),
        OpSpec("log_softmax_dim1", lambda x: F.log_softmax(x, 1), lambda x: _np_log_softmax(x, 1), SM),
        OpSpec("log_softmax_0d", lambda x: rg.log_softmax(x, 0), lambda x: np.zeros(()), [[()]], grad="zero"),
        OpSpec("log_softmax_large_logits", lambda x: F.log_softmax(x, 1), lambda x: _np_log_softmax(x, 1),
               [[(3, 4)]], low=-1000, high=1000),
        OpSpec("log_softmax_method", lambda x: x.log_softmax(0), lambda x: _np_log_softmax(x, 0), [[(3, 4)]]),
        OpSpec("softmin", lambda x: F.softmin(x, 1), lambda x: _np_softmax(-x, 1), SM),
    ]
    return T
