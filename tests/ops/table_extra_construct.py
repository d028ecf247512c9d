"""Op table: arranging and building tensors (atleast_nd, block_diag, cartesian_prod,
combinations, stacks and splits, meshgrid, diagflat, vander, rot90), products and integrals
(cdist, cross, trapezoid), and writes into parts (select/slice/diagonal_scatter, index_reduce)."""
import itertools

import numpy as np

from .optable import OpSpec


def _block_diag(*ms):
    ms = [np.atleast_2d(m) for m in ms]
    out = np.zeros((sum(m.shape[0] for m in ms), sum(m.shape[1] for m in ms)))
    r = c = 0
    for m in ms:
        out[r:r + m.shape[0], c:c + m.shape[1]] = m
        r, c = r + m.shape[0], c + m.shape[1]
    return out


def _combinations(x, r, with_replacement=False):
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    return np.array([list(c) for c in pick(x.tolist(), r)]).reshape(-1, r)


def _cdist(a, b, p):
    d = a[..., :, None, :] - b[..., None, :, :]
    if p == np.inf:
        return np.abs(d).max(-1)
    return (np.abs(d) ** p).sum(-1) ** (1 / p)


def _diagonal_scatter(x, s, offset, d1, d2):
    out = x.copy()
    v = np.diagonal(out, offset, d1, d2)
    v.setflags(write=True)
    v[...] = s
    return out


def _trapezoid(y, x=None, dx=1.0, axis=-1):
    """The trapezoid rule written out (np.trapezoid needs NumPy 2)."""
    y = np.moveaxis(y, axis, -1)
    w = dx if x is None else np.diff(np.moveaxis(x, axis, -1) if np.ndim(x) > 1 else x)
    return np.sum(w * (y[..., 1:] + y[..., :-1]) / 2, -1)


def _slice_scatter(x, s, sl):
    out = x.copy()
    out[sl] = s
    return out


def _index_reduce(x, dim, index, src, reduce, include_self):
    out = np.moveaxis(x.copy(), dim, 0)
    src = np.moveaxis(src, dim, 0)
    groups = {}
    for i, j in enumerate(index):
        groups.setdefault(j, []).append(src[i])
    for j, rows in groups.items():
        vals = ([out[j]] if include_self else []) + rows
        stack = np.stack(vals)
        out[j] = {"prod": np.prod, "mean": np.mean, "amax": np.max, "amin": np.min}[reduce](stack, axis=0)
    return np.moveaxis(out, 0, dim)


def build(rg):
    idx = [0, 2, 0, 1]
    T = [
        OpSpec("atleast_2d", lambda x: rg.atleast_2d(x) * 1, np.atleast_2d, [[()], [(3,)], [(2, 3)]]),
        OpSpec("atleast_3d", lambda x: rg.atleast_3d(x) * 1, np.atleast_3d, [[()], [(3,)], [(2, 3)], [(1, 2, 3)]]),
        OpSpec("block_diag", lambda a, b, c: rg.block_diag(a, b, c), _block_diag, [[(2, 3), (4,), ()]]),
        OpSpec("cartesian_prod", rg.cartesian_prod,
               lambda a, b: np.array(list(itertools.product(a, b))), [[(3,), (2,)]]),
        OpSpec("combinations", lambda x: rg.combinations(x, 2), lambda x: _combinations(x, 2), [[(4,)]]),
        OpSpec("combinations_with_replacement", lambda x: rg.combinations(x, 3, with_replacement=True),
               lambda x: _combinations(x, 3, True), [[(3,)]]),
        OpSpec("column_stack", lambda a, b, c: rg.column_stack([a, b, c]), lambda a, b, c: np.column_stack([a, b, c]),
               [[(3,), (3, 2), (3,)]]),
        OpSpec("row_stack", lambda a, b: rg.row_stack((a, b)), lambda a, b: np.vstack((a, b)), [[(3,), (2, 3)]]),
        OpSpec("dstack", lambda a, b: rg.dstack([a, b]), lambda a, b: np.dstack([a, b]), [[(2, 3), (2, 3, 2)], [(3,), (3,)]]),
        OpSpec("hsplit", lambda x: rg.hsplit(x, 2)[1] * 1, lambda x: np.hsplit(x, 2)[1], [[(3, 4)], [(6,)]]),
        OpSpec("vsplit_indices", lambda x: x.vsplit([1, 3])[1] * 1, lambda x: np.vsplit(x, [1, 3])[1], [[(4, 2)]]),
        OpSpec("dsplit", lambda x: rg.dsplit(x, 2)[0] * 1, lambda x: np.dsplit(x, 2)[0], [[(2, 1, 4)]]),
        OpSpec("meshgrid_ij", lambda a, b: rg.meshgrid(a, b, indexing="ij")[0] * rg.meshgrid(a, b, indexing="ij")[1],
               lambda a, b: np.prod(np.meshgrid(a, b, indexing="ij"), 0), [[(3,), (4,)]]),
        OpSpec("meshgrid_xy", lambda a, b, c: rg.meshgrid([a, b, c], indexing="xy")[1] + rg.meshgrid(a, b, c, indexing="xy")[2],
               lambda a, b, c: np.meshgrid(a, b, c)[1] + np.meshgrid(a, b, c)[2], [[(3,), (2,), (2,)]]),
        OpSpec("diagflat", lambda x: rg.diagflat(x, -1), lambda x: np.diagflat(x, -1), [[(2, 2)], [(3,)]]),
        OpSpec("vander", lambda x: rg.vander(x, 4), lambda x: np.vander(x, 4), [[(3,)]],
               skip={"parity_grad": "PyTorch 2.13's vander backward raises (a saved tensor is modified in place)"}),
        OpSpec("vander_increasing", lambda x: rg.vander(x, increasing=True), lambda x: np.vander(x, increasing=True),
               [[(4,)]],
               skip={"parity_grad": "PyTorch 2.13's vander backward raises (a saved tensor is modified in place)"}),
        OpSpec("rot90", lambda x: rg.rot90(x), np.rot90, [[(2, 3)], [(2, 3, 2)]]),
        OpSpec("rot90_k3_dims", lambda x: x.rot90(3, [2, 0]), lambda x: np.rot90(x, 3, (2, 0)), [[(2, 3, 4)]]),
        OpSpec("rot90_k2", lambda x: rg.rot90(x, -2, (0, 1)), lambda x: np.rot90(x, 2), [[(3, 4)]]),
        OpSpec("cdist", rg.cdist, lambda a, b: _cdist(a, b, 2), [[(3, 4), (5, 4)], [(2, 3, 2), (1, 4, 2)]]),
        OpSpec("cdist_mm", lambda a, b: rg.cdist(a, b, compute_mode="use_mm_for_euclid_dist"),
               lambda a, b: _cdist(a, b, 2), [[(3, 4), (5, 4)]]),
        OpSpec("cdist_large_rows", rg.cdist, lambda a, b: _cdist(a, b, 2), [[(30, 2), (3, 2)]],
               skip={"gradgradcheck": "covered by cdist_mm on a smaller input"}),
        OpSpec("cdist_p1", lambda a, b: rg.cdist(a, b, 1.0), lambda a, b: _cdist(a, b, 1), [[(3, 2), (4, 2)]]),
        OpSpec("cdist_p3", lambda a, b: rg.cdist(a, b, 3), lambda a, b: _cdist(a, b, 3), [[(3, 2), (4, 2)]]),
        OpSpec("cdist_inf", lambda a, b: rg.cdist(a, b, float("inf")), lambda a, b: _cdist(a, b, np.inf),
               [[(3, 2), (4, 2)]]),
        OpSpec("cross", lambda a, b: rg.cross(a, b, dim=1), lambda a, b: np.cross(a, b, axis=1),
               [[(4, 3), (4, 3)], [(2, 3, 2), (1, 3, 2)]]),
        OpSpec("linalg.cross", rg.linalg.cross, np.cross, [[(3,), (3,)], [(2, 3), (1, 3)]]),
        OpSpec("trapezoid", rg.trapezoid, _trapezoid, [[(5,)], [(3, 4)]]),
        OpSpec("trapezoid_x", lambda y, x: rg.trapezoid(y, x), lambda y, x: _trapezoid(y, x), [[(5,), (5,)], [(3, 4), (4,)]]),
        OpSpec("trapezoid_x_nd_dim0", lambda y, x: rg.trapezoid(y, x, dim=0), lambda y, x: _trapezoid(y, x, axis=0),
               [[(4, 3), (4, 3)]]),
        OpSpec("trapz_dx", lambda y: rg.trapz(y, dx=0.5), lambda y: _trapezoid(y, dx=0.5), [[(3, 4)]]),
        OpSpec("cumulative_trapezoid", lambda y: rg.cumulative_trapezoid(y, dim=0),
               lambda y: np.cumsum((y[1:] + y[:-1]) / 2, 0), [[(5, 2)]]),
        OpSpec("cumulative_trapezoid_x", lambda y, x: rg.cumulative_trapezoid(y, x),
               lambda y, x: np.cumsum(np.diff(x) * (y[..., 1:] + y[..., :-1]) / 2, -1), [[(2, 5), (5,)]]),
        OpSpec("select_scatter", lambda x, s: rg.select_scatter(x, s, 1, -1),
               lambda x, s: np.concatenate([x[:, :-1], s[:, None]], 1), [[(3, 4), (3,)]]),
        OpSpec("slice_scatter", lambda x, s: x.slice_scatter(s, dim=0, start=1, step=2),
               lambda x, s: _slice_scatter(x, s, slice(1, None, 2)), [[(5, 2), (2, 2)]]),
        OpSpec("diagonal_scatter", lambda x, s: rg.diagonal_scatter(x, s, 1),
               lambda x, s: _diagonal_scatter(x, s, 1, 0, 1), [[(3, 4), (3,)]]),
        OpSpec("diagonal_scatter_dims", lambda x, s: x.diagonal_scatter(s, -1, 2, 0),
               lambda x, s: _diagonal_scatter(x, s, -1, 2, 0), [[(3, 2, 4), (2, 3)]]),
    ]
    for reduce in ("prod", "mean", "amax", "amin"):
        for include_self in (True, False):
            T.append(OpSpec(
                f"index_reduce_{reduce}{'' if include_self else '_exclude_self'}",
                lambda x, s, r=reduce, i=include_self: rg.index_reduce(x, 1, rg.tensor(idx), s, r, include_self=i),
                lambda x, s, r=reduce, i=include_self: _index_reduce(x, 1, idx, s, r, i),
                [[(2, 3), (2, 4)]], low=0.5, high=2.0))
    return T
