"""retrograd: reverse-mode automatic differentiation over a dynamic graph, with PyTorch's API.

``import retrograd as torch`` runs common PyTorch code. This module only re-exports.
"""
__version__ = "0.1.0"

from ._dtype import (dtype, float16, half, float32, float, float64, double, uint8, int8, int16, short,
                     int32, int, int64, long, bool, get_default_dtype, set_default_dtype, promote_types,
                     result_type)
from ._device import device
from ._size import Size
from ._tensor import Tensor
from . import _tensor_methods  # noqa: F401  (binds Tensor methods)
from ._creation import (tensor, as_tensor, from_numpy, zeros, ones, empty, full, zeros_like, ones_like,
                        empty_like, full_like, arange, linspace, logspace, eye, rand, randn, randint,
                        randperm, rand_like, randn_like, randint_like, normal, bernoulli, multinomial,
                        manual_seed, seed, initial_seed, get_rng_state, set_rng_state, Generator,
                        default_generator)
from .autograd.grad_mode import (no_grad, enable_grad, set_grad_enabled, is_grad_enabled, inference_mode,
                                 is_inference_mode_enabled)
from .ops.elementwise import (add, sub, subtract, rsub, mul, multiply, div, divide, true_divide,
                              floor_divide, remainder, fmod, pow, float_power, neg, negative, abs, absolute,
                              sign, sgn, exp, exp2, log, log2, log10, log1p, expm1, sqrt, rsqrt, square,
                              sin, cos, tan, asin, acos, atan, arcsin, arccos, arctan, atan2, arctan2, sinh,
                              cosh, tanh, sigmoid, relu, reciprocal, floor, ceil, trunc, fix, round, frac,
                              clamp, clip, clamp_min, clamp_max, maximum, minimum, where, lerp,
                              addcmul, addcdiv, hypot, xlogy, nan_to_num, eq, ne, lt, le, gt, ge, less,
                              less_equal, greater, greater_equal, not_equal, logical_and, logical_or,
                              logical_xor, logical_not, bitwise_and, bitwise_or, bitwise_xor, bitwise_not,
                              isnan, isinf, isfinite, isposinf, isneginf, isclose, allclose, equal)
from .ops.reduction import (sum, nansum, mean, nanmean, prod, amax, amin, aminmax, max, min, argmax, argmin,
                            var, std, var_mean, std_mean, logsumexp, norm, all, any, count_nonzero,
                            return_types)
from .ops.shape import (reshape, view_as_dtype, flatten, unflatten, ravel, squeeze, unsqueeze, permute,
                        transpose, swapaxes, swapdims, t, movedim, moveaxis, broadcast_to, broadcast_shapes,
                        broadcast_tensors, cat, concat, concatenate, stack, hstack, vstack, narrow, select,
                        split, tensor_split, chunk, unbind, flip, fliplr, flipud, roll, repeat_interleave,
                        tile, clone)
from .ops.indexing import (gather, scatter, scatter_add, scatter_reduce, index_select, index_add,
                           index_copy, index_fill, index_put, take, take_along_dim, masked_fill,
                           masked_select, masked_scatter, tril, triu, diagonal, diag, diag_embed, trace,
                           nonzero, argwhere)
from .ops.sorting import (sort, argsort, msort, topk, kthvalue, median, nanmedian, cumsum, cumprod, cummax,
                          cummin, diff, searchsorted, bucketize, unique, unique_consecutive)
from .ops.linalg import (matmul, mm, bmm, mv, dot, inner, outer, ger, addmm, baddbmm, addmv, einsum, tensordot,
                         kron, vdot)
from .ops.decomposition import (det, logdet, inv as inverse, matrix_power, pinverse, svd_legacy as svd,
                                qr_legacy as qr, cholesky_legacy as cholesky, slogdet_legacy as slogdet)
from . import linalg
from .ops.conv import conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d
from .ops.pool import (max_pool1d, max_pool2d, max_pool3d, max_pool1d_with_indices, avg_pool1d,
                       adaptive_avg_pool1d)
from .ops.resample import constant_pad_nd
from .ops.special import erf, erfc, erf_, erfc_
from .ops.activation import relu_, selu_, celu_, threshold_, rrelu_, prelu, hardshrink
from .ops.layers import bilinear, cosine_similarity, pairwise_distance, pdist
from .ops.normalization import rms_norm
from .ops.nn_toplevel import (softmax, log_softmax, dropout, dropout_, alpha_dropout, feature_dropout,
                              feature_alpha_dropout, embedding, layer_norm, group_norm, batch_norm, instance_norm,
                              kl_div, binary_cross_entropy_with_logits, cosine_embedding_loss, margin_ranking_loss,
                              triplet_margin_loss, hinge_embedding_loss, poisson_nll_loss, selu, celu, threshold,
                              rrelu)
from . import autograd
from .sparse import sparse_coo_tensor
from .serialization import save, load

# Subpackages imported on first use (``retrograd.nn``, as ``torch.nn``), so that
# ``import retrograd`` stays quick; ``import retrograd.nn`` works as usual.
_LAZY_SUBPACKAGES = ("nn", "optim", "utils", "distributed", "cuda", "backends", "accelerator", "multiprocessing",
                     "testing", "jit", "onnx", "hub")
_LAZY_SUBPACKAGES += ("func",)


def __getattr__(name):
    if name in _LAZY_SUBPACKAGES:
        import importlib
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'retrograd' has no attribute '{name}'")


def __dir__():
    return sorted(list(globals()) + list(_LAZY_SUBPACKAGES))

is_tensor = lambda obj: isinstance(obj, Tensor)  # noqa: E731


def numel(input):
    return input.numel()


def is_floating_point(input):
    return input.is_floating_point()




from .ops.inplace import (abs_, acos_, arccos_, arcsin_, arctan_, asin_, atan_, ceil_, clamp_,  # noqa: E402
                          clamp_max_, clamp_min_, clip_, cos_, cosh_, exp2_, exp_, expm1_, fill_, fix_, floor_,
                          frac_, log10_, log1p_, log2_, log_, nan_to_num_, neg_, negative_, reciprocal_,
                          round_, rsqrt_, sigmoid_, sin_, sinh_, sqrt_, square_, tan_, tanh_, trunc_, xlogy_,
                          zero_)
from .ops.indexing import index_put_  # noqa: E402
from .ops.strided import as_strided, narrow_copy, split_with_sizes  # noqa: E402
from ._tensor_queries import (is_nonzero, is_same_size, is_signed, is_complex, is_inference,  # noqa: E402
                              positive, get_device)
from .ops.pointwise import (logaddexp, logaddexp2, logit, logit_, asinh, acosh, atanh, arcsinh, arccosh,  # noqa: E402
                            arctanh, asinh_, acosh_, atanh_, arcsinh_, arccosh_, arctanh_, sinc, sinc_,
                            rad2deg, rad2deg_, deg2rad, deg2rad_, copysign, signbit, heaviside, gcd, gcd_, lcm,
                            fmax, fmin, lcm_, frexp, ldexp, ldexp_, nextafter)
from .ops.specfun import lgamma, digamma, polygamma, mvlgamma, erfinv, i0, i0_  # noqa: E402
from . import special  # noqa: E402
from .ops.statistics import (quantile, nanquantile, mode, logcumsumexp, cov, corrcoef, dist, renorm,  # noqa: E402
                             histc, bincount, isin)
from .ops.construct import (asarray, scalar_tensor, empty_strided, atleast_1d, atleast_2d, atleast_3d,  # noqa: E402
                            block_diag, cartesian_prod, combinations, column_stack, row_stack, dstack, hsplit,
                            vsplit, dsplit, meshgrid, tril_indices, triu_indices, diagflat, vander, rot90,
                            unravel_index)
from .ops.numeric import cdist, cross, trapezoid, trapz, cumulative_trapezoid  # noqa: E402
from .ops.embed import select_scatter, slice_scatter, diagonal_scatter, index_reduce  # noqa: E402
from ._device import get_default_device, set_default_device  # noqa: E402
from ._repr import set_printoptions  # noqa: E402
from ._runtime import (get_num_threads, set_num_threads, get_num_interop_threads, set_num_interop_threads,  # noqa: E402
                       use_deterministic_algorithms, are_deterministic_algorithms_enabled,
                       is_deterministic_algorithms_warn_only_enabled, set_deterministic_debug_mode,
                       get_deterministic_debug_mode, set_float32_matmul_precision, get_float32_matmul_precision,
                       typename, can_cast)
from ._runtime import limit_blas_threads_at_import as _limit_blas_threads_at_import  # noqa: E402
_limit_blas_threads_at_import()
from .ops.signal_windows import hann_window, hamming_window, blackman_window, bartlett_window, kaiser_window  # noqa: E402
from ._sampling import poisson, binomial  # noqa: E402
from .ops.rearrange import pixel_shuffle, pixel_unshuffle, channel_shuffle, native_channel_shuffle  # noqa: E402
from ._runtime import (compile, set_warn_always, is_warn_always_enabled, set_flush_denormal,  # noqa: E402
                       set_default_tensor_type)
from ._typeinfo import (finfo, iinfo, layout, memory_format, strided, sparse_coo, contiguous_format,  # noqa: E402
                        preserve_format, channels_last, channels_last_3d)
from .ops.misc import (addbmm, addr, adjoint, chain_matmul, bitwise_left_shift, bitwise_right_shift, conj,  # noqa: E402
                       conj_physical, conj_physical_, resolve_conj, resolve_neg, is_conj, is_neg, real, imag,
                       isreal, alias_copy, detach_copy, expand_copy, permute_copy, select_copy, slice_copy,
                       split_copy, split_with_sizes_copy, squeeze_copy, t_copy, transpose_copy, unbind_copy,
                       unfold_copy, unsqueeze_copy, view_copy, diagonal_copy, as_strided_copy, unsafe_chunk,
                       unsafe_split, unsafe_split_with_sizes, detach, fill, put, histogram, gradient, range)
from ._legacy import (FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor, ShortTensor,  # noqa: E402
                      CharTensor, ByteTensor, BoolTensor, TypedStorage, is_storage)
from ._tensor import UntypedStorage  # noqa: E402
from math import e, pi, inf, nan  # noqa: E402
newaxis = None


# PyTorch's out= forms: each function named in OUT_FORMS["torch"] (ops/_out.py) is the plain
# function wrapped to write its result into `out`; every other function here refuses out=.
from .ops._out import OUT_FORMS as _OUT_FORMS, with_out as _with_out  # noqa: E402
for _name in _OUT_FORMS["torch"]:
    globals()[_name] = _with_out(globals()[_name], _name)
del _name

# The public names (what `from retrograd import *` binds; the lazy subpackages load on first use).
__all__ = ["dtype", "float16", "half", "float32", "float", "float64", "double", "uint8", "int8", "int16", "short",
           "int32", "int", "int64", "long", "bool", "get_default_dtype", "set_default_dtype", "promote_types",
           "result_type", "device", "Size", "autograd", "Tensor", "tensor", "as_tensor", "from_numpy", "zeros", "ones",
           "empty", "full", "zeros_like", "ones_like", "empty_like", "full_like", "arange", "linspace", "logspace",
           "eye", "rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like", "normal",
           "bernoulli", "multinomial", "manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state",
           "Generator", "default_generator", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
           "inference_mode", "is_inference_mode_enabled", "add", "sub", "subtract", "rsub", "mul", "multiply", "div",
           "divide", "true_divide", "floor_divide", "remainder", "fmod", "pow", "float_power", "neg", "negative",
           "abs", "absolute", "sign", "sgn", "exp", "exp2", "log", "log2", "log10", "log1p", "expm1", "sqrt", "rsqrt",
           "square", "sin", "cos", "tan", "asin", "acos", "atan", "arcsin", "arccos", "arctan", "atan2", "arctan2",
           "sinh", "cosh", "tanh", "sigmoid", "relu", "reciprocal", "floor", "ceil", "trunc", "fix", "round", "frac",
           "clamp", "clip", "clamp_min", "clamp_max", "maximum", "minimum", "where", "lerp", "addcmul", "addcdiv",
           "hypot", "xlogy", "nan_to_num", "eq", "ne", "lt", "le", "gt", "ge", "less", "less_equal", "greater",
           "greater_equal", "not_equal", "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and",
           "bitwise_or", "bitwise_xor", "bitwise_not", "isnan", "isinf", "isfinite", "isposinf", "isneginf", "isclose",
           "allclose", "equal", "sum", "nansum", "mean", "nanmean", "prod", "amax", "amin", "aminmax", "max", "min",
           "argmax", "argmin", "var", "std", "var_mean", "std_mean", "logsumexp", "norm", "all", "any",
           "count_nonzero", "return_types", "reshape", "view_as_dtype", "flatten", "unflatten", "ravel", "squeeze",
           "unsqueeze", "permute", "transpose", "swapaxes", "swapdims", "t", "movedim", "moveaxis", "broadcast_to",
           "broadcast_shapes", "broadcast_tensors", "cat", "concat", "concatenate", "stack", "hstack", "vstack",
           "narrow", "select", "split", "tensor_split", "chunk", "unbind", "flip", "fliplr", "flipud", "roll",
           "repeat_interleave", "tile", "clone", "gather", "scatter", "scatter_add", "scatter_reduce", "index_select",
           "index_add", "index_copy", "index_fill", "index_put", "take", "take_along_dim", "masked_fill",
           "masked_select", "masked_scatter", "tril", "triu", "diagonal", "diag", "diag_embed", "trace", "nonzero",
           "argwhere", "sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "cumsum", "cumprod",
           "cummax", "cummin", "diff", "searchsorted", "bucketize", "unique", "unique_consecutive", "matmul", "mm",
           "bmm", "mv", "dot", "inner", "outer", "ger", "addmm", "baddbmm", "addmv", "einsum", "tensordot", "kron",
           "vdot", "det", "logdet", "inverse", "matrix_power", "pinverse", "svd", "qr", "cholesky", "slogdet",
           "linalg", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
           "max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "avg_pool1d", "adaptive_avg_pool1d",
           "constant_pad_nd", "erf", "erfc", "erf_", "erfc_", "relu_", "selu_", "celu_", "threshold_", "rrelu_",
           "prelu", "hardshrink", "bilinear", "cosine_similarity", "pairwise_distance", "pdist", "rms_norm", "softmax",
           "log_softmax", "dropout", "dropout_", "alpha_dropout", "feature_dropout", "feature_alpha_dropout",
           "embedding", "layer_norm", "group_norm", "batch_norm", "instance_norm", "kl_div",
           "binary_cross_entropy_with_logits", "cosine_embedding_loss", "margin_ranking_loss", "triplet_margin_loss",
           "hinge_embedding_loss", "poisson_nll_loss", "selu", "celu", "threshold", "rrelu", "sparse",
           "sparse_coo_tensor", "save", "load", "is_tensor", "numel", "is_floating_point", "set_printoptions",
           "is_storage", "abs_", "acos_", "arccos_", "arcsin_", "arctan_", "asin_", "atan_", "ceil_", "clamp_",
           "clamp_max_", "clamp_min_", "clip_", "cos_", "cosh_", "exp2_", "exp_", "expm1_", "fill_", "fix_", "floor_",
           "frac_", "log10_", "log1p_", "log2_", "log_", "nan_to_num_", "neg_", "negative_", "reciprocal_", "round_",
           "rsqrt_", "sigmoid_", "sin_", "sinh_", "sqrt_", "square_", "tan_", "tanh_", "trunc_", "xlogy_", "zero_",
           "index_put_", "as_strided", "narrow_copy", "split_with_sizes", "is_nonzero", "is_same_size", "is_signed",
           "is_complex", "is_inference", "positive", "get_device", "logaddexp", "logaddexp2", "logit", "logit_",
           "asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh", "asinh_", "acosh_", "atanh_", "arcsinh_",
           "arccosh_", "arctanh_", "sinc", "sinc_", "rad2deg", "rad2deg_", "deg2rad", "deg2rad_", "copysign",
           "signbit", "heaviside", "gcd", "gcd_", "lcm", "fmax", "fmin", "lcm_", "frexp", "ldexp", "ldexp_",
           "nextafter", "lgamma", "digamma", "polygamma", "mvlgamma", "erfinv", "i0", "i0_", "special", "quantile",
           "nanquantile", "mode", "logcumsumexp", "cov", "corrcoef", "dist", "renorm", "histc", "bincount", "isin",
           "asarray", "scalar_tensor", "empty_strided", "atleast_1d", "atleast_2d", "atleast_3d", "block_diag",
           "cartesian_prod", "combinations", "column_stack", "row_stack", "dstack", "hsplit", "vsplit", "dsplit",
           "meshgrid", "tril_indices", "triu_indices", "diagflat", "vander", "rot90", "unravel_index", "cdist",
           "cross", "trapezoid", "trapz", "cumulative_trapezoid", "select_scatter", "slice_scatter",
           "diagonal_scatter", "index_reduce", "get_default_device", "set_default_device", "get_num_threads",
           "set_num_threads", "get_num_interop_threads", "set_num_interop_threads", "use_deterministic_algorithms",
           "are_deterministic_algorithms_enabled", "is_deterministic_algorithms_warn_only_enabled",
           "set_deterministic_debug_mode", "get_deterministic_debug_mode", "set_float32_matmul_precision",
           "get_float32_matmul_precision", "typename", "can_cast", "hann_window", "hamming_window", "blackman_window",
           "bartlett_window", "kaiser_window", "poisson", "binomial", "pixel_shuffle", "pixel_unshuffle",
           "channel_shuffle", "native_channel_shuffle", "compile", "set_warn_always", "is_warn_always_enabled",
           "set_flush_denormal", "set_default_tensor_type", "finfo", "iinfo", "layout", "memory_format", "strided",
           "sparse_coo", "contiguous_format", "preserve_format", "channels_last", "channels_last_3d", "addbmm", "addr",
           "adjoint", "chain_matmul", "bitwise_left_shift", "bitwise_right_shift", "conj", "conj_physical",
           "conj_physical_", "resolve_conj", "resolve_neg", "is_conj", "is_neg", "real", "imag", "isreal",
           "alias_copy", "detach_copy", "expand_copy", "permute_copy", "select_copy", "slice_copy", "split_copy",
           "split_with_sizes_copy", "squeeze_copy", "t_copy", "transpose_copy", "unbind_copy", "unfold_copy",
           "unsqueeze_copy", "view_copy", "diagonal_copy", "as_strided_copy", "unsafe_chunk", "unsafe_split",
           "unsafe_split_with_sizes", "detach", "fill", "put", "histogram", "gradient", "range", "e", "pi", "inf",
           "nan", "newaxis", "FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
           "CharTensor", "ByteTensor", "BoolTensor", "TypedStorage", "UntypedStorage"]
