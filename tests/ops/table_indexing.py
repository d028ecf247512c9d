"""Op table: indexing (getitem/setitem, gather/scatter, index_*, masks, triangles, diagonals).

Index tensors are constants built inside each call; the NumPy references are written with
plain loops or NumPy indexing, independently of the implementation.
"""
import numpy as np

from .optable import OpSpec

I0 = np.array([[0, 2, 1, 0], [1, 1, 0, 2]])              # gather/scatter_add index into (3, 4) along 0
IU = np.array([[0, 2, 1, 2], [1, 0, 2, 0]])              # unique per column: safe for plain scatter
IDX = np.array([2, 0, 2])                                 # repeated index along a dim


def _np_gather(x, dim, idx):
    out = np.empty(idx.shape, x.dtype)
    for pos in np.ndindex(*idx.shape):
        src = list(pos)
        src[dim] = idx[pos]
        out[pos] = x[tuple(src)]
    return out


def _np_scatter_reduce(x, dim, idx, src, reduce, include_self=True):
    out = x.copy()
    groups = {}
    for pos in np.ndindex(*idx.shape):
        tgt = list(pos)
        tgt[dim] = idx[pos]
        groups.setdefault(tuple(tgt), []).append(src[pos])
    fns = {"sum": np.sum, "prod": np.prod, "mean": np.mean, "amax": np.max, "amin": np.min,
           "set": lambda v: v[-1]}
    for tgt, vals in groups.items():
        vals = ([x[tgt]] if include_self and reduce != "set" else []) + vals
        out[tgt] = fns[reduce](np.array(vals))
    return out


def _np_setitem(x, index, v):
    out = x.copy()
    out[index] = v
    return out


def _np_index_add(x, dim, idx, src, alpha=1.0):
    out = x.copy()
    for i, j in enumerate(idx):
        sel = [slice(None)] * x.ndim
        sel[dim] = j
        srcsel = [slice(None)] * x.ndim
        srcsel[dim] = i
        out[tuple(sel)] += alpha * src[tuple(srcsel)]
    return out


def _np_diag_embed(x, offset=0, dim1=-2, dim2=-1):
    n = x.shape[-1] + abs(offset)
    out = np.zeros(x.shape[:-1] + (n, n))
    for i in range(x.shape[-1]):
        r, c = (i, i + offset) if offset >= 0 else (i - offset, i)
        out[..., r, c] = x[..., i]
    nd = out.ndim
    d1, d2 = dim1 % nd, dim2 % nd
    rest = [k for k in range(nd) if k not in (d1, d2)]
    perm = [0] * nd
    for src, dst in zip(list(range(nd - 2)) + [nd - 2, nd - 1], rest + [d1, d2]):
        perm[dst] = src
    return out.transpose(perm)


def build(rg):
    def L(a):
        return rg.tensor(np.asarray(a), dtype=rg.int64)

    T = []
    # ---------------------------------------------------------------- getitem
    T += [
        OpSpec("getitem_ellipsis_none", lambda x: x[..., None, 1], lambda x: x[..., None, 1], [[(2, 3, 4)]]),
        OpSpec("getitem_neg_step", lambda x: x[-1, 1::2], lambda x: x[-1, 1::2], [[(3, 4)]]),
        OpSpec("getitem_empty_slice", lambda x: x[2:2], lambda x: x[2:2], [[(3, 4)]], grad="zero"),
        OpSpec("getitem_0d", lambda x: x[None, ...], lambda x: x[None, ...], [[()]]),
        OpSpec("getitem_array_2d", lambda x: x[L([[0, 1], [2, 0]])], lambda x: x[np.array([[0, 1], [2, 0]])], [[(3, 4)]]),
        OpSpec("getitem_two_arrays", lambda x: x[[0, 2, 0], [1, 1, 3]], lambda x: x[[0, 2, 0], [1, 1, 3]], [[(3, 4)]]),
        OpSpec("getitem_arrays_broadcast", lambda x: x[L([[0], [2]]), L([1, 3])],
               lambda x: x[np.array([[0], [2]]), np.array([1, 3])], [[(3, 4)]]),
        OpSpec("getitem_slice_array", lambda x: x[1:, [0, 0, 2]], lambda x: x[1:, [0, 0, 2]], [[(3, 4)]]),
        OpSpec("getitem_separated_arrays", lambda x: x[[0, 1], :, [1, 1]], lambda x: x[[0, 1], :, [1, 1]], [[(2, 3, 4)]]),
        OpSpec("getitem_int_then_array", lambda x: x[0, :, [0, 3, 0]], lambda x: x[0][:, [0, 3, 0]], [[(2, 3, 4)]]),
        OpSpec("getitem_none_int_array", lambda x: x[None, 1, [2, 0]], lambda x: x[1][None, [2, 0]], [[(2, 3, 4)]]),
        OpSpec("getitem_ellipsis_array", lambda x: x[..., [1, 0]], lambda x: x[..., [1, 0]], [[(2, 3, 4)]]),
        OpSpec("getitem_mask_rows", lambda x: x[rg.tensor([True, False, True])], lambda x: x[[True, False, True]], [[(3, 4)]]),
        OpSpec("getitem_mask_full", lambda x: x[x > 0.5], lambda x: x[x > 0.5], [[(3, 4)], [(2, 0, 3)]],
               skip={"vmap": "a boolean mask from the values gives each example its own shape (PyTorch's vmap refuses it too)"}),
        OpSpec("getitem_mask_and_slice", lambda x: x[:, rg.tensor([True, False, False, True])][1:],
               lambda x: x[:, [True, False, False, True]][1:], [[(3, 4)]]),
        OpSpec("getitem_empty_list", lambda x: x[[]], lambda x: x[np.array([], dtype=np.int64)], [[(3, 4)]], grad="zero"),
        OpSpec("getitem_noncontig", lambda x: x.t()[[1, 1], 1:], lambda x: x.T[[1, 1], 1:], [[(3, 4)]]),
    ]
    # ---------------------------------------------------------------- setitem / index_put
    def setitem(index, value_scalar=None):
        def fn(x, v=None):
            y = x * 1
            y[index] = v if v is not None else value_scalar
            return y
        return fn

    T += [
        OpSpec("setitem_int_tensor", setitem((1,)), lambda x, v: _np_setitem(x, (1,), v), [[(3, 4), (4,)], [(3, 4), ()]]),
        OpSpec("setitem_slice_scalar", setitem((slice(None), slice(1, 3)), 0.5), lambda x: _np_setitem(x, (slice(None), slice(1, 3)), 0.5), [[(3, 4)]]),
        OpSpec("setitem_array", setitem(([0, 2],)), lambda x, v: _np_setitem(x, ([0, 2],), v), [[(3, 4), (2, 4)], [(3, 4), (1,)]]),
        OpSpec("setitem_two_arrays", setitem(([0, 2], [3, 1])), lambda x, v: _np_setitem(x, ([0, 2], [3, 1]), v), [[(3, 4), (2,)]]),
        OpSpec("setitem_int_then_array", setitem((0, slice(None), [1, 3])),
               lambda x, v: _np_setitem(x, (0,), _np_setitem(x[0], (slice(None), [1, 3]), v)), [[(2, 3, 4), (3, 2)]]),
        OpSpec("setitem_mask", lambda x, v: setitem((np.array([True, False, True]),))(x, v),
               lambda x, v: _np_setitem(x, (np.array([True, False, True]),), v), [[(3, 4), (4,)]]),
        OpSpec("setitem_ellipsis_none", setitem((Ellipsis, 1)), lambda x, v: _np_setitem(x, (Ellipsis, 1), v), [[(2, 3), (2,)]]),
        OpSpec("index_put_accumulate", lambda x, v: rg.index_put(x, (L([0, 2, 0]),), v, accumulate=True),
               lambda x, v: _np_index_add(x, 0, [0, 2, 0], np.broadcast_to(v, (3, 4))), [[(3, 4), (3, 4)], [(3, 4), (4,)]]),
        OpSpec("index_put_method", lambda x, v: x.index_put((L([1]), L([2])), v),
               lambda x, v: _np_setitem(x, ([1], [2]), v), [[(3, 4), ()]]),
        OpSpec("index_put_inplace", lambda x, v: (x * 1).index_put_((L([0, 2]),), v, accumulate=True),
               lambda x, v: _np_index_add(x, 0, [0, 2], np.broadcast_to(v, (2, 4))), [[(3, 4), (4,)]]),
    ]
    # ---------------------------------------------------------------- gather / scatter
    T += [
        OpSpec("gather_dim0", lambda x: rg.gather(x, 0, L(I0)), lambda x: _np_gather(x, 0, I0), [[(3, 4)], [(3, 5)]]),
        OpSpec("gather_small_index", lambda x: x.gather(-1, L([[3], [0]])), lambda x: _np_gather(x, 1, np.array([[3], [0]])), [[(3, 4)]]),
        OpSpec("gather_3d", lambda x: x.gather(1, L(np.zeros((2, 3, 2), np.int64) + [[[1], [0], [1]]])),
               lambda x: _np_gather(x, 1, np.zeros((2, 3, 2), np.int64) + [[[1], [0], [1]]]), [[(2, 2, 3)]]),
        OpSpec("gather_0d", lambda x: x.gather(0, L(0)), lambda x: x, [[()]]),
        OpSpec("gather_empty", lambda x: x.gather(1, L(np.zeros((3, 0), np.int64))), lambda x: np.zeros((3, 0)), [[(3, 4)]], grad="zero"),
        OpSpec("gather_noncontig", lambda x: x.t().gather(0, L(I0)), lambda x: _np_gather(x.T, 0, I0), [[(4, 3)]]),
        OpSpec("scatter_add", lambda x, s: rg.scatter_add(x, 0, L(I0), s),
               lambda x, s: _np_scatter_reduce(x, 0, I0, s, "sum"), [[(3, 4), (2, 4)], [(3, 4), (3, 5)]],
               skip={"parity_grad": "PyTorch's backward fails when src is larger than index (gradient shape error); retrograd's gradient is right"}),
        OpSpec("scatter_add_inplace", lambda x, s: (x * 1).scatter_add_(1, L(I0.T[:3]), s),
               lambda x, s: _np_scatter_reduce(x, 1, I0.T[:3], s, "sum"), [[(3, 4), (3, 2)]]),
        OpSpec("scatter_src", lambda x, s: rg.scatter(x, 0, L(IU), s),
               lambda x, s: _np_scatter_reduce(x, 0, IU, s, "set"), [[(3, 4), (2, 4)], [(3, 4), (3, 5)]],
               skip={"parity_grad": "PyTorch's backward fails when src is larger than index (gradient shape error); retrograd's gradient is right"}),
        OpSpec("scatter_value", lambda x: x.scatter(1, L([[0, 3], [1, 2], [2, 2]]), 0.25),
               lambda x: _np_scatter_reduce(x, 1, np.array([[0, 3], [1, 2], [2, 2]]), np.full((3, 2), 0.25), "set"), [[(3, 4)]]),
        OpSpec("scatter_inplace", lambda x, s: (x * 1).scatter_(0, L(IU), s),
               lambda x, s: _np_scatter_reduce(x, 0, IU, s, "set"), [[(3, 4), (2, 4)]]),
        OpSpec("scatter_reduce_add", lambda x, s: x.scatter(0, L(I0), s, reduce="add"),
               lambda x, s: _np_scatter_reduce(x, 0, I0, s, "sum"), [[(3, 4), (2, 4)]],
               skip={"parity_grad": "PyTorch has no derivative for scatter with reduce= (RuntimeError)"}),
        OpSpec("scatter_reduce_multiply", lambda x, s: x.scatter(0, L(I0), s, reduce="multiply"),
               lambda x, s: _np_scatter_reduce(x, 0, I0, s, "prod"), [[(3, 4), (2, 4)]], low=0.5, high=1.5,
               skip={"parity_grad": "PyTorch has no derivative for scatter with reduce= (RuntimeError)"}),
        OpSpec("scatter_value_reduce_multiply", lambda x: x.scatter(0, L(I0), 1.5, reduce="multiply"),
               lambda x: _np_scatter_reduce(x, 0, I0, np.full((2, 4), 1.5), "prod"), [[(3, 4)]],
               skip={"parity_grad": "PyTorch has no derivative for scatter with reduce= (RuntimeError)"}),
    ]
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        for include_self in (True, False):
            T.append(OpSpec(
                f"scatter_reduce_{reduce}_{'self' if include_self else 'noself'}",
                lambda x, s, r=reduce, i=include_self: rg.scatter_reduce(x, 0, L(I0), s, r, include_self=i),
                lambda x, s, r=reduce, i=include_self: _np_scatter_reduce(x, 0, I0, s, r, i),
                [[(3, 4), (2, 4)], [(3, 4), (2, 5)]], low=0.5 if reduce == "prod" else -2.0,
                high=1.5 if reduce == "prod" else 2.0,
                skip={"parity_grad": "PyTorch's backward fails when src is larger than index (gradient "
                                     "shape error); retrograd's gradient is right"}))
    T.append(OpSpec("scatter_reduce_inplace", lambda x, s: (x * 1).scatter_reduce_(1, L(I0.T[:3]), s, "amax"),
                    lambda x, s: _np_scatter_reduce(x, 1, I0.T[:3], s, "amax"), [[(3, 4), (3, 2)]]))
    # ---------------------------------------------------------------- index_* along a dim
    T += [
        OpSpec("index_select", lambda x: rg.index_select(x, 1, L(IDX)), lambda x: x[:, IDX], [[(3, 4)], [(2, 3, 5)]]),
        OpSpec("index_select_0d_index", lambda x: x.index_select(0, L(1)), lambda x: x[[1]], [[(3, 4)]]),
        OpSpec("index_select_noncontig", lambda x: x.t().index_select(0, L(IDX)), lambda x: x.T[IDX], [[(4, 3)]]),
        OpSpec("index_add", lambda x, s: rg.index_add(x, 1, L(IDX), s),
               lambda x, s: _np_index_add(x, 1, IDX, s), [[(3, 4), (3, 3)], [(2, 4, 3), (2, 3, 3)]]),
        OpSpec("index_add_alpha", lambda x, s: x.index_add(0, L(IDX), s, alpha=-0.5),
               lambda x, s: _np_index_add(x, 0, IDX, s, -0.5), [[(3, 2), (3, 2)]]),
        OpSpec("index_add_inplace", lambda x, s: (x * 1).index_add_(0, L(IDX), s, alpha=2),
               lambda x, s: _np_index_add(x, 0, IDX, s, 2), [[(3, 2), (3, 2)]]),
        OpSpec("index_copy", lambda x, s: x.index_copy(1, L([3, 0]), s),
               lambda x, s: _np_setitem(x, (slice(None), [3, 0]), s), [[(3, 4), (3, 2)]]),
        OpSpec("index_copy_inplace", lambda x, s: (x * 1).index_copy_(0, L([1]), s),
               lambda x, s: _np_setitem(x, ([1],), s), [[(3, 4), (1, 4)]]),
        OpSpec("index_fill", lambda x: x.index_fill(1, L([0, -1]), -1.5),
               lambda x: _np_setitem(x, (slice(None), [0, -1]), -1.5), [[(3, 4)]]),
        OpSpec("index_fill_tensor_value", lambda x, v: rg.index_fill(x, 0, L([2]), v),
               lambda x, v: _np_setitem(x, ([2],), v), [[(3, 4), ()]]),
        OpSpec("index_fill_inplace", lambda x: (x * 1).index_fill_(0, L([0, 2]), 2.0),
               lambda x: _np_setitem(x, ([0, 2],), 2.0), [[(3, 4)]]),
        OpSpec("take", lambda x: rg.take(x, L([[0, 11], [-1, 5]])), lambda x: x.reshape(-1)[[[0, 11], [-1, 5]]], [[(3, 4)]]),
        OpSpec("take_noncontig", lambda x: x.t().take(L([1, 1, 4])), lambda x: x.T.reshape(-1)[[1, 1, 4]], [[(3, 4)]]),
        OpSpec("take_along_dim", lambda x: rg.take_along_dim(x, L([[0, -1], [2, 2], [1, 0]]), 1),
               lambda x: np.take_along_axis(x, np.array([[0, 3], [2, 2], [1, 0]]), 1), [[(3, 4)]]),
        OpSpec("take_along_dim_broadcast", lambda x: x.take_along_dim(L([[[0], [2]]]), dim=1),
               lambda x: np.take_along_axis(x, np.broadcast_to(np.array([[[0], [2]]]), (2, 2, 4)), 1), [[(2, 3, 4)]]),
        OpSpec("take_along_dim_none", lambda x: rg.take_along_dim(x, L([[5, 0, 5]])),
               lambda x: x.reshape(-1)[[5, 0, 5]], [[(3, 4)]]),
    ]
    # ---------------------------------------------------------------- masks
    M = np.array([[True, False, True, False]])
    T += [
        OpSpec("masked_fill", lambda x: rg.masked_fill(x, rg.tensor(M), 0.5), lambda x: np.where(M, 0.5, x), [[(3, 4)]]),
        OpSpec("masked_fill_tensor_value", lambda x, v: x.masked_fill(x > 0, v), lambda x, v: np.where(x > 0, v, x), [[(3, 4), ()]]),
        OpSpec("masked_fill_broadcast_out", lambda x: x.masked_fill(rg.tensor(np.stack([M, ~M])), 2.0),
               lambda x: np.where(np.stack([M, ~M]), 2.0, x), [[(3, 4)]]),
        OpSpec("masked_fill_0d", lambda x: x.masked_fill(rg.tensor(True), 1.0), lambda x: np.ones(()), [[()]], grad="zero"),
        OpSpec("masked_fill_inplace", lambda x: (x * 1).masked_fill_(rg.tensor(M), -1.0), lambda x: np.where(M, -1.0, x), [[(3, 4)]]),
        OpSpec("masked_select", lambda x: rg.masked_select(x, rg.tensor(M)), lambda x: x[np.broadcast_to(M, x.shape)], [[(3, 4)]]),
        OpSpec("masked_select_broadcast_input", lambda x: x.masked_select(rg.tensor(np.stack([M, ~M]))),
               lambda x: np.broadcast_to(x, (2, 3, 4))[np.broadcast_to(np.stack([M, ~M]), (2, 3, 4))], [[(3, 4)]]),
        OpSpec("masked_scatter", lambda x, s: x.masked_scatter(rg.tensor(M), s),
               lambda x, s: _np_setitem(x, np.broadcast_to(M, x.shape), s.reshape(-1)[:6]), [[(3, 4), (2, 4)]]),
        OpSpec("masked_scatter_inplace", lambda x, s: (x * 1).masked_scatter_(rg.tensor(M), s),
               lambda x, s: _np_setitem(x, np.broadcast_to(M, x.shape), s), [[(3, 4), (6,)]]),
    ]
    # ---------------------------------------------------------------- triangles and diagonals
    T += [
        OpSpec("tril", rg.tril, np.tril, [[(3, 4)], [(2, 4, 3)], [(0, 3)]]),
        OpSpec("tril_diagonal", lambda x: x.tril(-1), lambda x: np.tril(x, -1), [[(4, 4)]]),
        OpSpec("triu", rg.triu, np.triu, [[(3, 4)], [(2, 4, 3)]]),
        OpSpec("triu_diagonal", lambda x: rg.triu(x, diagonal=2), lambda x: np.triu(x, 2), [[(3, 4)]]),
        OpSpec("triu_noncontig", lambda x: x.mT.triu(1), lambda x: np.triu(x.swapaxes(-1, -2), 1), [[(2, 3, 4)]]),
        OpSpec("tril_inplace", lambda x: (x * 1).tril_(1), lambda x: np.tril(x, 1), [[(3, 4)]]),
        OpSpec("triu_inplace", lambda x: (x * 1).triu_(), np.triu, [[(3, 4)]]),
        OpSpec("diagonal", rg.diagonal, lambda x: np.diagonal(x).copy(), [[(3, 4)], [(4, 3)], [(0, 2)]]),
        OpSpec("diagonal_offset", lambda x: x.diagonal(1), lambda x: np.diagonal(x, 1).copy(), [[(3, 4)], [(4, 1)]]),
        OpSpec("diagonal_neg_offset_dims", lambda x: x.diagonal(-1, 2, 0), lambda x: np.diagonal(x, -1, 2, 0).copy(), [[(3, 2, 4)]]),
        OpSpec("diagonal_noncontig", lambda x: x.t().diagonal(), lambda x: np.diagonal(x.T).copy(), [[(3, 4)]]),
        OpSpec("diag_vector", rg.diag, np.diag, [[(3,)], [(0,)]]),
        OpSpec("diag_vector_offset", lambda x: x.diag(-2), lambda x: np.diag(x, -2), [[(3,)]]),
        OpSpec("diag_matrix", lambda x: rg.diag(x, 1), lambda x: np.diag(x, 1), [[(3, 4)]]),
        OpSpec("diag_embed", rg.diag_embed, _np_diag_embed, [[(3,)], [(2, 3)], [(2, 0)]]),
        OpSpec("diag_embed_offset_dims", lambda x: x.diag_embed(1, 0, 2),
               lambda x: _np_diag_embed(x, 1, 0, 2), [[(2, 3)]]),
        OpSpec("trace", rg.trace, np.trace, [[(3, 4)], [(3, 3)]]),
    ]
    return T
