"""Op table: quantile/nanquantile, mode, logcumsumexp, cov, corrcoef, dist, renorm."""
import numpy as np

from .optable import OpSpec


def _renorm_ref(x, p, dim, maxnorm):
    others = tuple(i for i in range(x.ndim) if i != dim)
    norms = np.sum(np.abs(x) ** p, axis=others, keepdims=True) ** (1 / p)
    return x * np.where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)


def _with_nans(x):
    y = x.copy()
    y.reshape(-1)[::3] = np.nan
    return y


def build(rg):
    def nan_mask(x):
        m = np.zeros(x.shape, bool)
        m.reshape(-1)[::3] = True
        return rg.tensor(m)

    q = [0.1, 0.5, 0.75]
    T = []
    for method in ("linear", "lower", "higher", "midpoint", "nearest"):
        T.append(OpSpec(f"quantile_{method}", lambda x, m=method: rg.quantile(x, 0.3, dim=1, interpolation=m),
                        lambda x, m=method: np.quantile(x, 0.3, axis=1, method=m), [[(3, 5)], [(2, 4, 3)]]))
    T += [
        OpSpec("quantile_all", lambda x: rg.quantile(x, 0.62), lambda x: np.quantile(x, 0.62), [[(3, 4)], [()]]),
        OpSpec("quantile_q_tensor_keepdim", lambda x: x.quantile(rg.tensor(q, dtype=x.dtype), dim=0, keepdim=True),
               lambda x: np.quantile(x, q, axis=0, keepdims=True), [[(5, 3)]]),
        OpSpec("quantile_q_tensor_all_keepdim", lambda x: rg.quantile(x, rg.tensor(q, dtype=x.dtype), keepdim=True),
               lambda x: np.quantile(x, q, keepdims=True), [[(2, 3)]]),
        OpSpec("nanquantile", lambda x: rg.nanquantile(rg.where(nan_mask(x), float("nan"), x), 0.4, dim=-1),
               lambda x: np.nanquantile(_with_nans(x), 0.4, axis=-1), [[(4, 5)], [(7,)]]),
        OpSpec("nanquantile_q_tensor", lambda x: x.masked_fill(nan_mask(x), float("nan")).nanquantile(
            rg.tensor(q, dtype=x.dtype)), lambda x: np.nanquantile(_with_nans(x), q), [[(3, 4)]]),
        OpSpec("mode", lambda x: rg.mode(x, 1).values, lambda x: x.min(1), [[(3, 4)]]),
        OpSpec("mode_keepdim", lambda x: x.mode(0, keepdim=True)[0], lambda x: x.min(0, keepdims=True), [[(3, 4)]]),
        OpSpec("logcumsumexp", lambda x: rg.logcumsumexp(x, 1), lambda x: np.logaddexp.accumulate(x, 1),
               [[(3, 4)], [(2, 3, 2)]]),
        OpSpec("logcumsumexp_spread", lambda x: (x * 300).logcumsumexp(0), lambda x: np.logaddexp.accumulate(x * 300, 0),
               [[(6,)]]),
        OpSpec("cov", rg.cov, np.cov, [[(3, 5)], [(6,)]]),
        OpSpec("cov_correction0", lambda x: rg.cov(x, correction=0), lambda x: np.cov(x, ddof=0), [[(2, 5)]]),
        OpSpec("cov_weights", lambda x, a: rg.cov(x, fweights=rg.tensor([1, 2, 1, 3]), aweights=a),
               lambda x, a: np.cov(x, fweights=[1, 2, 1, 3], aweights=a), [[(3, 4), (4,)]], low=0.5, high=2.0),
        OpSpec("corrcoef", rg.corrcoef, np.corrcoef, [[(3, 5)]]),
        OpSpec("dist", rg.dist, lambda x, y: np.linalg.norm((x - y).reshape(-1)), [[(3, 4), (3, 4)], [(3, 4), (4,)]]),
        OpSpec("dist_p1", lambda x, y: x.dist(y, 1), lambda x, y: np.abs(x - y).sum(), [[(3, 4), (3, 4)]]),
        OpSpec("dist_p3", lambda x, y: rg.dist(x, y, 3), lambda x, y: (np.abs(x - y) ** 3).sum() ** (1 / 3),
               [[(3, 4), (3, 4)]]),
        OpSpec("dist_inf", lambda x, y: rg.dist(x, y, float("inf")), lambda x, y: np.abs(x - y).max(),
               [[(3, 4), (3, 4)]]),
        OpSpec("renorm", lambda x: rg.renorm(x, 2, 0, 1.5), lambda x: _renorm_ref(x, 2, 0, 1.5), [[(4, 3)], [(3, 2, 2)]]),
        OpSpec("renorm_p1_dim1", lambda x: x.renorm(1, 1, 2.0), lambda x: _renorm_ref(x, 1, 1, 2.0), [[(3, 4)]]),
    ]
    return T
