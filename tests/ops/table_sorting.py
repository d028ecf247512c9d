"""Op table: sorting, selection and scans. Random float inputs have no ties, so every selected
element is unique and the gradient is well defined."""
import numpy as np

from .optable import OpSpec

# integer results: no node, gradcheck checks that they do not change under small perturbations
INDICES = {"grad": "none", "skip": {"dtype": "returns int64 indices"}}


def _lower_median(x, axis=None):
    if axis is None:
        x, axis = x.reshape(-1), 0
    n = x.shape[axis]
    return np.take(np.sort(x, axis=axis), (n - 1) // 2, axis=axis)


def _np_diff(x, n=1, axis=-1, prepend=None, append=None):
    parts = [p for p in (prepend, x, append) if p is not None]
    x = np.concatenate(parts, axis=axis)
    for _ in range(n):
        x = np.diff(x, axis=axis)
    return x


def build(rg):
    S = [[(3, 4)], [(2, 3, 5)], [(4,)]]
    T = [
        OpSpec("sort", lambda x: rg.sort(x).values, lambda x: np.sort(x, -1), S + [[(2, 0)]]),
        OpSpec("sort_dim0_descending", lambda x: x.sort(0, descending=True)[0],
               lambda x: -np.sort(-x, 0), S),
        OpSpec("sort_stable_kw", lambda x: rg.sort(x, dim=1, stable=True).values, lambda x: np.sort(x, 1), [[(3, 4)]]),
        OpSpec("sort_0d", lambda x: x.sort().values, lambda x: x, [[()]]),
        OpSpec("sort_noncontig", lambda x: x.t().sort(1).values, lambda x: np.sort(x.T, 1), [[(3, 4)]]),
        OpSpec("msort", rg.msort, lambda x: np.sort(x, 0), [[(3, 4)]]),
        OpSpec("sort_indices", lambda x: x.sort(descending=True).indices, lambda x: np.argsort(-x, -1), [[(3, 4)]],
               **INDICES),
        OpSpec("argsort", lambda x: rg.argsort(x, 0), lambda x: np.argsort(x, 0) if x.ndim else np.zeros((), np.int64),
               [[(3, 4)], [()]], **INDICES),
        OpSpec("argsort_descending", lambda x: x.argsort(descending=True), lambda x: np.argsort(-x, -1), [[(3, 4)]],
               **INDICES),
        OpSpec("topk", lambda x: rg.topk(x, 2).values, lambda x: -np.sort(-x, -1)[..., :2], S),
        OpSpec("topk_smallest_dim0", lambda x: x.topk(2, 0, largest=False).values, lambda x: np.sort(x, 0)[:2], [[(3, 4)]]),
        OpSpec("topk_unsorted_kw", lambda x: x.topk(3, dim=1, sorted=False)[0].sort(1)[0],
               lambda x: np.sort(-np.sort(-x, 1)[:, :3], 1), [[(3, 4)]]),
        OpSpec("topk_zero", lambda x: x.topk(0).values, lambda x: np.zeros((3, 0)), [[(3, 4)]], grad="zero"),
        OpSpec("topk_indices", lambda x: x.topk(2).indices, lambda x: np.argsort(-x, -1)[..., :2], [[(3, 4)]],
               **INDICES),
        OpSpec("kthvalue", lambda x: rg.kthvalue(x, 2).values, lambda x: np.sort(x, -1)[..., 1], S),
        OpSpec("kthvalue_dim_keepdim", lambda x: x.kthvalue(3, 0, keepdim=True)[0],
               lambda x: np.sort(x, 0)[2:3], [[(3, 4)]]),
        OpSpec("kthvalue_indices", lambda x: x.kthvalue(1, 1).indices, lambda x: np.argmin(x, 1), [[(3, 4)]],
               **INDICES),
        OpSpec("median", rg.median, _lower_median, [[(3, 4)], [(5,)], [()]]),
        OpSpec("median_dim", lambda x: x.median(1).values, lambda x: _lower_median(x, 1), [[(3, 4)], [(2, 3, 5)]]),
        OpSpec("median_dim_keepdim", lambda x: x.median(0, keepdim=True)[0],
               lambda x: _lower_median(x, 0)[None], [[(3, 4)]]),
        OpSpec("median_noncontig", lambda x: x.t().median(1).values, lambda x: _lower_median(x.T, 1), [[(3, 4)]]),
        OpSpec("nanmedian", rg.nanmedian, _lower_median, [[(3, 4)]]),
        OpSpec("nanmedian_dim", lambda x: x.nanmedian(-1).values, lambda x: _lower_median(x, -1), [[(3, 4)]]),
        # ------------------------------------------------------------ scans
        OpSpec("cumsum", lambda x: rg.cumsum(x, 1), lambda x: np.cumsum(x, 1), [[(3, 4)], [(2, 3, 4)], [(3, 0)]]),
        OpSpec("cumsum_dim0_noncontig", lambda x: x.t().cumsum(0), lambda x: np.cumsum(x.T, 0), [[(3, 4)]]),
        OpSpec("cumsum_0d", lambda x: x.cumsum(0), lambda x: x, [[()]]),
        OpSpec("cumsum_dtype", lambda x: x.cumsum(-1, dtype=rg.float64).float(), lambda x: np.cumsum(x, -1), [[(4,)]],
               skip={"gradcheck": "float32 output", "gradgradcheck": "float32 output",
                     "dtype": "the call fixes the dtype"}),
        OpSpec("cumsum_inplace", lambda x: (x * 1).cumsum_(0), lambda x: np.cumsum(x, 0), [[(3, 4)]]),
        OpSpec("cumprod", lambda x: rg.cumprod(x, 1), lambda x: np.cumprod(x, 1), [[(3, 4)], [(2, 3, 4)], [(3, 0)]]),
        OpSpec("cumprod_dim0_noncontig", lambda x: x.t().cumprod(0), lambda x: np.cumprod(x.T, 0), [[(3, 4)]]),
        OpSpec("cumprod_0d", lambda x: x.cumprod(-1), lambda x: x, [[()]]),
        OpSpec("cumprod_inplace", lambda x: (x * 1).cumprod_(1), lambda x: np.cumprod(x, 1), [[(3, 4)]]),
        OpSpec("cummax", lambda x: rg.cummax(x, -1).values, lambda x: np.maximum.accumulate(x, -1), [[(3, 4)], [(5,)]]),
        OpSpec("cummin_dim0", lambda x: x.cummin(0)[0], lambda x: np.minimum.accumulate(x, 0) if x.ndim else x,
               [[(3, 4)], [()]]),
        OpSpec("cummax_indices", lambda x: x.cummax(0).indices,
               lambda x: np.array([np.argmax(x[:i + 1]) for i in range(len(x))]), [[(6,)]], **INDICES),
        OpSpec("diff", rg.diff, lambda x: np.diff(x), [[(3, 4)], [(5,)], [(1,)]]),
        OpSpec("diff_n2_dim0", lambda x: x.diff(2, 0), lambda x: np.diff(x, 2, 0), [[(4, 3)]]),
        OpSpec("diff_prepend_append", lambda x, p, a: rg.diff(x, n=2, dim=1, prepend=p, append=a),
               lambda x, p, a: _np_diff(x, 2, 1, p, a), [[(3, 4), (3, 1), (3, 2)]]),
        OpSpec("diff_large_n", lambda x: x.diff(5), lambda x: np.zeros((2, 0)), [[(2, 3)]], grad="zero"),
    ]
    return T
