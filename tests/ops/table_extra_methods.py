"""Op table: the in-place forms of elementwise ops, and the strided views (unfold, as_strided).

An in-place entry runs on a clone, so gradcheck differentiates through the recorded in-place
op (the clone's history is rebased onto it)."""
import numpy as np

from .optable import OpSpec

U = [[(3, 4)], [()], [(5,)]]
B = [[(3, 4), (3, 4)], [(3, 4), (4,)]]


def _unfold_ref(x, d, size, step):
    w = np.lib.stride_tricks.sliding_window_view(x, size, axis=d)
    return np.take(w, np.arange(0, w.shape[d], step), axis=d)


def build(rg):
    def inplace(name):
        return lambda x: getattr(x * 1, name)()

    def inplace2(name):
        return lambda x, y: getattr(x * 1, name)(y)

    T = [
        OpSpec("acos_", inplace("acos_"), np.arccos, U, low=-0.8, high=0.8),
        OpSpec("arcsin_", inplace("arcsin_"), np.arcsin, U, low=-0.8, high=0.8),
        OpSpec("atan_", inplace("atan_"), np.arctan, U),
        OpSpec("cosh_", inplace("cosh_"), np.cosh, U),
        OpSpec("sinh_", inplace("sinh_"), np.sinh, U),
        OpSpec("tan_", inplace("tan_"), np.tan, U, low=-1, high=1),
        OpSpec("exp2_", inplace("exp2_"), np.exp2, U),
        OpSpec("expm1_", inplace("expm1_"), np.expm1, U),
        OpSpec("log10_", inplace("log10_"), np.log10, U, low=0.5),
        OpSpec("log1p_", inplace("log1p_"), np.log1p, U, low=-0.5),
        OpSpec("log2_", inplace("log2_"), np.log2, U, low=0.5),
        OpSpec("frac_", inplace("frac_"), lambda x: x - np.trunc(x), U,
               skip={"gradgradcheck": "second derivative is zero; covered by gradcheck"}),
        OpSpec("negative_", inplace("negative_"), np.negative, U),
        OpSpec("absolute_", inplace("absolute_"), np.abs, U),
        OpSpec("fix_", inplace("fix_"), np.trunc, U, grad="zero"),
        OpSpec("sgn_", inplace("sgn_"), np.sign, U, grad="zero"),
        OpSpec("atan2_", inplace2("atan2_"), np.arctan2, B, low=0.5),
        OpSpec("arctan2_", inplace2("arctan2_"), np.arctan2, B, low=0.5),
        OpSpec("fmod_", inplace2("fmod_"), np.fmod, [[(3, 4), (3, 4)]], low=0.5,
               skip={"gradcheck": "discontinuous where x/y is an integer",
                     "gradgradcheck": "piecewise linear"}),
        OpSpec("hypot_", inplace2("hypot_"), np.hypot, B, low=0.5),
        OpSpec("xlogy_", inplace2("xlogy_"), lambda x, y: x * np.log(y), B, low=0.5),
        OpSpec("multiply_", inplace2("multiply_"), np.multiply, B),
        OpSpec("subtract_", inplace2("subtract_"), np.subtract, B),
        OpSpec("divide_", inplace2("divide_"), np.divide, B, low=0.5),
        OpSpec("true_divide_", inplace2("true_divide_"), np.divide, B, low=0.5),
        OpSpec("float_power_", lambda x, y: (x.double() * 1).float_power_(y), np.power, B, low=0.5,
               skip={"dtype": "float_power computes in float64"}),
        OpSpec("nan_to_num_", inplace("nan_to_num_"), np.nan_to_num, U),
        OpSpec("eq_", lambda x, y: (x * 1).eq_(y > 0) + x, lambda x, y: (x == (y > 0)) + x, B),
        OpSpec("gt_", inplace2("gt_"), lambda x, y: (x > y).astype(x.dtype), B, grad="zero"),
        OpSpec("greater_equal_", inplace2("greater_equal_"), lambda x, y: (x >= y).astype(x.dtype), B, grad="zero"),
        OpSpec("lt_", inplace2("lt_"), lambda x, y: (x < y).astype(x.dtype), B, grad="zero"),
        OpSpec("logical_and_", inplace2("logical_and_"), lambda x, y: np.logical_and(x, y).astype(x.dtype), B, grad="zero",
               skip={"parity_grad": "PyTorch keeps the input's history through an in-place logical op, so its gradient passes as identity; retrograd's is zero"}),
        OpSpec("logical_not_", inplace("logical_not_"), lambda x: np.logical_not(x).astype(x.dtype), U, grad="zero",
               skip={"parity_grad": "PyTorch keeps the input's history through an in-place logical op, so its gradient passes as identity; retrograd's is zero"}),
        # strided views
        OpSpec("Tensor.unfold", lambda x: x.unfold(1, 2, 1), lambda x: _unfold_ref(x, 1, 2, 1), [[(3, 4)], [(2, 5, 2)]]),
        OpSpec("Tensor.unfold_step", lambda x: x.unfold(0, 2, 3), lambda x: _unfold_ref(x, 0, 2, 3), [[(8,)], [(7, 2)]]),
        OpSpec("Tensor.unfold_wide", lambda x: x.unfold(-1, 4, 1), lambda x: _unfold_ref(x, -1, 4, 1), [[(2, 5)]]),
        OpSpec("as_strided", lambda x: rg.as_strided(x, (3, 3), (2, 1), 1),
               lambda x: np.lib.stride_tricks.as_strided(x.reshape(-1)[1:], (3, 3), (2 * x.itemsize, x.itemsize)),
               [[(3, 4)]], skip={"vmap": "as_strided addresses the storage, which inside vmap holds the whole batch (PyTorch's vmap restricts it too)"}),
        OpSpec("as_strided_of_transpose", lambda x: rg.as_strided(x.t(), (2, 2), (1, 3), 1),
               lambda x: np.lib.stride_tricks.as_strided(x.reshape(-1)[1:], (2, 2), (x.itemsize, 3 * x.itemsize)),
               [[(2, 3)]], skip={"vmap": "as_strided addresses the storage, which inside vmap holds the whole batch (PyTorch's vmap restricts it too)"}),
        OpSpec("narrow_copy", lambda x: x.narrow_copy(1, 1, 2), lambda x: x[:, 1:3], [[(3, 4)]]),
        OpSpec("split_with_sizes", lambda x: x.split_with_sizes([1, 3], 1)[1] * 2, lambda x: x[:, 1:] * 2, [[(3, 4)]]),
        OpSpec("positive", lambda x: rg.positive(x) * 1, lambda x: x, U),
        OpSpec("type_as", lambda x, y: x.type_as(y) * 1, lambda x, y: x, [[(3,), (2,)]]),
    ]
    return T
