"""Op table: the core families (elementwise, reductions, matmul, shape, basic indexing)."""
import numpy as np

from .optable import OpSpec


def _positive(spec):
    spec.low, spec.high = 0.5, 2.0
    return spec


UNARY_SHAPES = [[(3, 4)], [()], [(2, 0, 3)], [(5,)]]
BINARY_SHAPES = [[(3, 4), (3, 4)], [(3, 4), (4,)], [(2, 1, 4), (3, 1)], [(), (3,)], [(3,), ()]]


def _np_logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    s = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return s if keepdims else np.squeeze(s, axis=axis) if axis is not None else s.reshape(())


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def build(rg):
    """The table, built against the ``retrograd`` module ``rg``."""
    T = []
    # ---------------------------------------------------------------- elementwise binary
    T += [
        OpSpec("add", lambda x, y: x + y, np.add, BINARY_SHAPES),
        OpSpec("sub", lambda x, y: x - y, np.subtract, BINARY_SHAPES),
        OpSpec("mul", lambda x, y: x * y, np.multiply, BINARY_SHAPES),
        OpSpec("div", lambda x, y: x / y, np.divide, BINARY_SHAPES, low=0.5, high=2.0),
        OpSpec("pow", lambda x, y: x ** y, np.power, BINARY_SHAPES, low=0.5, high=2.0),
        OpSpec("add_alpha", lambda x, y: rg.add(x, y, alpha=2.5), lambda x, y: x + 2.5 * y, BINARY_SHAPES),
        OpSpec("sub_alpha", lambda x, y: rg.sub(x, y, alpha=0.5), lambda x, y: x - 0.5 * y, BINARY_SHAPES),
        OpSpec("maximum", rg.maximum, np.maximum, BINARY_SHAPES),
        OpSpec("minimum", rg.minimum, np.minimum, BINARY_SHAPES),
        OpSpec("atan2", rg.atan2, np.arctan2, BINARY_SHAPES, low=0.5, high=2.0),
        OpSpec("remainder", rg.remainder, np.remainder, [[(3, 4), (3, 4)]], low=0.5, high=2.0,
               skip={"gradcheck": "discontinuous where x/y is an integer; random samples avoid it rarely",
                     "gradgradcheck": "piecewise linear"}),
        OpSpec("scalar_mul", lambda x: x * 2.5, lambda x: x * 2.5, UNARY_SHAPES),
        OpSpec("scalar_rsub", lambda x: 3.0 - x, lambda x: 3.0 - x, UNARY_SHAPES),
        OpSpec("scalar_rdiv", lambda x: 2.0 / x, lambda x: 2.0 / x, UNARY_SHAPES, low=0.5, high=2.0),
        OpSpec("scalar_pow", lambda x: x ** 3, lambda x: x ** 3, UNARY_SHAPES),
        OpSpec("scalar_rpow", lambda x: 2.0 ** x, lambda x: 2.0 ** x, UNARY_SHAPES),
        OpSpec("sqrt_pow", lambda x: x ** 0.5, np.sqrt, UNARY_SHAPES, low=0.5, high=2.0),
        OpSpec("where", lambda x, y: rg.where(x > 0, x, y), lambda x, y: np.where(x > 0, x, y), BINARY_SHAPES),
        OpSpec("lerp", lambda x, y: rg.lerp(x, y, 0.3), lambda x, y: x + 0.3 * (y - x), BINARY_SHAPES),
        OpSpec("addcmul", lambda x, y: rg.addcmul(x, x, y, value=0.5), lambda x, y: x + 0.5 * x * y, BINARY_SHAPES),
    ]
    # ---------------------------------------------------------------- elementwise unary
    T += [
        OpSpec("neg", lambda x: -x, np.negative, UNARY_SHAPES),
        OpSpec("abs", rg.abs, np.abs, UNARY_SHAPES),
        OpSpec("exp", rg.exp, np.exp, UNARY_SHAPES),
        OpSpec("exp2", rg.exp2, np.exp2, UNARY_SHAPES),
        _positive(OpSpec("log", rg.log, np.log, UNARY_SHAPES)),
        _positive(OpSpec("log2", rg.log2, np.log2, UNARY_SHAPES)),
        _positive(OpSpec("log10", rg.log10, np.log10, UNARY_SHAPES)),
        OpSpec("log1p", rg.log1p, np.log1p, UNARY_SHAPES, low=-0.5, high=2.0),
        OpSpec("expm1", rg.expm1, np.expm1, UNARY_SHAPES),
        _positive(OpSpec("sqrt", rg.sqrt, np.sqrt, UNARY_SHAPES)),
        _positive(OpSpec("rsqrt", rg.rsqrt, lambda x: 1 / np.sqrt(x), UNARY_SHAPES)),
        OpSpec("square", rg.square, np.square, UNARY_SHAPES),
        OpSpec("sin", rg.sin, np.sin, UNARY_SHAPES),
        OpSpec("cos", rg.cos, np.cos, UNARY_SHAPES),
        OpSpec("tan", rg.tan, np.tan, UNARY_SHAPES, low=-1.0, high=1.0),
        OpSpec("asin", rg.asin, np.arcsin, UNARY_SHAPES, low=-0.8, high=0.8),
        OpSpec("acos", rg.acos, np.arccos, UNARY_SHAPES, low=-0.8, high=0.8),
        OpSpec("atan", rg.atan, np.arctan, UNARY_SHAPES),
        OpSpec("sinh", rg.sinh, np.sinh, UNARY_SHAPES),
        OpSpec("cosh", rg.cosh, np.cosh, UNARY_SHAPES),
        OpSpec("tanh", rg.tanh, np.tanh, UNARY_SHAPES),
        OpSpec("sigmoid", rg.sigmoid, _sigmoid, UNARY_SHAPES, low=-5, high=5),
        OpSpec("relu", rg.relu, lambda x: np.maximum(x, 0), UNARY_SHAPES),
        _positive(OpSpec("reciprocal", rg.reciprocal, np.reciprocal, UNARY_SHAPES)),
        OpSpec("sign", rg.sign, np.sign, UNARY_SHAPES, grad="zero"),
        OpSpec("floor", rg.floor, np.floor, UNARY_SHAPES, grad="zero"),
        OpSpec("ceil", rg.ceil, np.ceil, UNARY_SHAPES, grad="zero"),
        OpSpec("round", rg.round, np.round, UNARY_SHAPES, grad="zero"),
        OpSpec("trunc", rg.trunc, np.trunc, UNARY_SHAPES, grad="zero"),
        OpSpec("clamp", lambda x: rg.clamp(x, -1.0, 1.0), lambda x: np.clip(x, -1, 1), UNARY_SHAPES),
        OpSpec("clamp_min", lambda x: rg.clamp(x, min=0.5), lambda x: np.maximum(x, 0.5), UNARY_SHAPES),
        OpSpec("clamp_tensor", lambda x, lo: rg.clamp(x, min=lo), lambda x, lo: np.maximum(x, lo), BINARY_SHAPES),
        OpSpec("xlogy", rg.xlogy, lambda x, y: x * np.log(y), [[(3, 4), (3, 4)]], low=0.5, high=2.0),
    ]
    # ---------------------------------------------------------------- reductions
    RED = [[(3, 4)], [(2, 3, 4)], [()]]
    T += [
        OpSpec("sum", lambda x: x.sum(), np.sum, RED),
        OpSpec("sum_dim", lambda x: x.sum(-1), lambda x: x.sum(-1), [[(3, 4)], [(2, 3, 4)]]),
        OpSpec("sum_dims_keepdim", lambda x: x.sum((0, 2), keepdim=True),
               lambda x: x.sum((0, 2), keepdims=True), [[(2, 3, 4)]]),
        OpSpec("mean", lambda x: x.mean(), np.mean, RED),
        OpSpec("mean_dim", lambda x: x.mean(1, keepdim=True), lambda x: x.mean(1, keepdims=True), [[(3, 4)], [(2, 3, 4)]]),
        OpSpec("prod", lambda x: x.prod(), np.prod, [[(3, 4)], [()]]),
        OpSpec("prod_dim", lambda x: x.prod(1), lambda x: x.prod(1), [[(3, 4)]]),
        OpSpec("amax", lambda x: x.amax(), np.max, RED),
        OpSpec("amin_dim", lambda x: rg.amin(x, 1), lambda x: x.min(1), [[(3, 4)]]),
        OpSpec("max", lambda x: x.max(), np.max, RED),
        OpSpec("max_dim", lambda x: x.max(1).values, lambda x: x.max(1), [[(3, 4)], [(2, 3, 4)]]),
        OpSpec("min_dim_keepdim", lambda x: x.min(0, keepdim=True)[0], lambda x: x.min(0, keepdims=True), [[(3, 4)]]),
        OpSpec("var", lambda x: x.var(), lambda x: x.var(ddof=1), [[(3, 4)], [(2, 3, 4)]]),
        OpSpec("var_dim_c0", lambda x: x.var(1, correction=0), lambda x: x.var(1), [[(3, 4)]]),
        OpSpec("std", lambda x: x.std(0), lambda x: x.std(0, ddof=1), [[(3, 4)]]),
        OpSpec("logsumexp", lambda x: rg.logsumexp(x, 1), lambda x: _np_logsumexp(x, 1), [[(3, 4)], [(2, 3, 4)]]),
        OpSpec("logsumexp_all", lambda x: rg.logsumexp(x, (0, 1)), lambda x: _np_logsumexp(x), [[(3, 4)]]),
        OpSpec("norm", lambda x: x.norm(), np.linalg.norm, [[(3, 4)], [(5,)]]),
        OpSpec("norm_dim", lambda x: x.norm(dim=1), lambda x: np.linalg.norm(x, axis=1), [[(3, 4)]]),
        OpSpec("norm_p1", lambda x: x.norm(p=1), lambda x: np.abs(x).sum(), [[(3, 4)]]),
        OpSpec("norm_p3", lambda x: x.norm(p=3), lambda x: (np.abs(x) ** 3).sum() ** (1 / 3), [[(3, 4)]]),
    ]
    # ---------------------------------------------------------------- matmul
    T += [
        OpSpec("matmul_2d", rg.matmul, np.matmul, [[(3, 4), (4, 5)]]),
        OpSpec("matmul_batch_broadcast", rg.matmul, np.matmul, [[(2, 3, 4), (4, 5)], [(2, 1, 3, 4), (3, 4, 2)]]),
        OpSpec("matmul_vec", rg.matmul, np.matmul, [[(4,), (4,)], [(3, 4), (4,)], [(4,), (4, 5)], [(2, 3, 4), (4,)], [(4,), (2, 4, 3)]]),
        OpSpec("mm", rg.mm, np.matmul, [[(3, 4), (4, 2)]]),
        OpSpec("bmm", rg.bmm, np.matmul, [[(2, 3, 4), (2, 4, 2)]]),
        OpSpec("outer", rg.outer, np.outer, [[(3,), (4,)]]),
        OpSpec("dot", rg.dot, np.dot, [[(4,), (4,)]]),
        OpSpec("inner", rg.inner, np.inner, [[(4,), (4,)], [(2, 3, 4), (5, 4)], [(3, 4), (4,)]]),
        OpSpec("inner_scalar", rg.inner, np.inner, [[(), (3, 2)]]),
    ]
    # ---------------------------------------------------------------- shape
    T += [
        OpSpec("reshape", lambda x: x.reshape(4, 3), lambda x: x.reshape(4, 3), [[(3, 4)]]),
        OpSpec("reshape_noncontig", lambda x: x.t().reshape(-1), lambda x: x.T.reshape(-1), [[(3, 4)]]),
        OpSpec("view", lambda x: x.view(2, -1), lambda x: x.reshape(2, -1), [[(3, 4)]]),
        OpSpec("flatten", lambda x: x.flatten(1), lambda x: x.reshape(2, -1), [[(2, 3, 4)]]),
        OpSpec("unflatten", lambda x: x.unflatten(1, (2, 2)), lambda x: x.reshape(3, 2, 2), [[(3, 4)]]),
        OpSpec("squeeze", lambda x: x.squeeze(), np.squeeze, [[(3, 1, 4)]]),
        OpSpec("squeeze_dim", lambda x: x.squeeze(1), lambda x: x.squeeze(1), [[(3, 1, 4)]]),
        OpSpec("unsqueeze", lambda x: x.unsqueeze(-1), lambda x: x[..., None], [[(3, 4)], [()]]),
        OpSpec("transpose", lambda x: x.transpose(0, 2), lambda x: x.swapaxes(0, 2), [[(2, 3, 4)]]),
        OpSpec("swapaxes", lambda x: x.swapaxes(axis0=0, axis1=2), lambda x: x.swapaxes(0, 2), [[(2, 3, 4)]]),
        OpSpec("swapdims", lambda x: rg.swapdims(x, 1, 0), lambda x: x.swapaxes(1, 0), [[(2, 3, 4)]]),
        OpSpec("permute", lambda x: x.permute(2, 0, 1), lambda x: x.transpose(2, 0, 1), [[(2, 3, 4)]]),
        OpSpec("T", lambda x: x.T, lambda x: x.T, [[(3, 4)]]),
        OpSpec("mT", lambda x: x.mT, lambda x: x.swapaxes(-1, -2), [[(2, 3, 4)]]),
        OpSpec("expand", lambda x: x.expand(2, 3, 4), lambda x: np.broadcast_to(x, (2, 3, 4)), [[(3, 1)], [(4,)]]),
        OpSpec("broadcast_to", lambda x: rg.broadcast_to(x, (3, 4)), lambda x: np.broadcast_to(x, (3, 4)), [[(1, 4)]]),
        OpSpec("cat", lambda x, y: rg.cat([x, y], 1), lambda x, y: np.concatenate([x, y], 1), [[(3, 2), (3, 4)]]),
        OpSpec("stack", lambda x, y: rg.stack([x, y], 1), lambda x, y: np.stack([x, y], 1), [[(3, 4), (3, 4)]]),
        OpSpec("split", lambda x: x.split(2, 1)[1], lambda x: x[:, 2:4], [[(3, 5)]]),
        OpSpec("unsafe_split", lambda x: rg.unsafe_split(x, 2, 1)[1], lambda x: x[:, 2:4], [[(3, 5)]]),
        OpSpec("split_sizes", lambda x: x.split([1, 4], 1)[1], lambda x: x[:, 1:], [[(3, 5)]]),
        OpSpec("chunk", lambda x: x.chunk(3, 0)[2], lambda x: x[4:], [[(6, 2)]]),
        OpSpec("unbind", lambda x: x.unbind(1)[2], lambda x: x[:, 2], [[(3, 4)]]),
        OpSpec("flip", lambda x: x.flip(0, 1), lambda x: x[::-1, ::-1], [[(3, 4)]]),
        OpSpec("repeat", lambda x: x.repeat(2, 1, 3), lambda x: np.tile(x, (2, 1, 3)), [[(3, 4)]]),
        OpSpec("narrow", lambda x: x.narrow(1, 1, 2), lambda x: x[:, 1:3], [[(3, 4)]]),
        OpSpec("getitem_basic", lambda x: x[1:, None, ..., ::2], lambda x: x[1:, None, ..., ::2], [[(3, 4)]]),
        OpSpec("getitem_int", lambda x: x[1], lambda x: x[1], [[(3, 4)]]),
        OpSpec("getitem_advanced_repeat", lambda x: x[[0, 2, 0]], lambda x: x[[0, 2, 0]], [[(3, 4)]]),
        OpSpec("getitem_mask", lambda x: x[x > 0], lambda x: x[x > 0], [[(3, 4)]],
               skip={"vmap": "a boolean mask from the values gives each example its own shape (PyTorch's vmap refuses it too)"}),
        OpSpec("gather", lambda x: rg.gather(x, 1, rg.tensor([[0, 0], [1, 0], [3, 2]])),
               lambda x: np.take_along_axis(x, np.array([[0, 0], [1, 0], [3, 2]]), 1), [[(3, 4)]]),
        OpSpec("clone", lambda x: x.clone(), np.copy, UNARY_SHAPES),
        OpSpec("to_float32_and_back", lambda x: x.float().double() * 2, lambda x: x.astype(np.float32).astype(np.float64) * 2,
               [[(3, 4)]], skip={"gradcheck": "float32 round trip loses precision for finite differences",
                                 "gradgradcheck": "same", "dtype": "the op returns float64 by design"}),
    ]
    return T
