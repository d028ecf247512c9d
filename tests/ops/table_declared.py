"""Op table: declared functions that the family tables did not reach (found by the registry walk,
tests/ops/test_registry.py): composites, aliases with their own argument order, and
Tensor-only methods."""
import numpy as np

from .optable import OpSpec

U = [[(3, 4)], [(5,)]]
B = [[(3, 4), (3, 4)], [(3, 4), (4,)]]


def _nan_input(x):
    y = x.copy()
    y.reshape(-1)[::3] = np.nan
    return y


def build(rg):
    return _build(rg) + build_pool(rg) + build_added(rg)


def _build(rg):
    def with_nans(t):
        # nan at every third element, without leaving the graph
        mask = rg.zeros(t.shape, dtype=rg.bool).reshape(-1)
        mask[::3] = True
        return rg.where(mask.reshape(t.shape), float("nan"), t)

    return [
        OpSpec("rsub", lambda x, y: rg.rsub(x, y), lambda x, y: y - x, B),
        OpSpec("rsub_alpha", lambda x, y: rg.rsub(x, y, alpha=2.0), lambda x, y: y - 2.0 * x, B),
        OpSpec("floor_divide", lambda x, y: rg.floor_divide(x, y), lambda x, y: np.floor(x / y), B,
               low=0.5, high=3.0, grad="raises",
               skip={"gradcheck": "no derivative, as in PyTorch", "gradgradcheck": "same"}),
        OpSpec("clamp_max", lambda x: rg.clamp_max(x, 0.3), lambda x: np.minimum(x, 0.3), U),
        OpSpec("addcdiv", lambda x, y, z: rg.addcdiv(x, y, z, value=0.5), lambda x, y, z: x + 0.5 * y / z,
               [[(3, 4), (3, 4), (3, 4)], [(4,), (3, 4), (3, 1)]], low=0.5, high=2.0),
        OpSpec("ravel", lambda x: x.t().ravel(), lambda x: x.T.ravel(), [[(3, 4)]]),
        OpSpec("fliplr", rg.fliplr, np.fliplr, [[(3, 4)], [(2, 3, 4)]]),
        OpSpec("flipud", rg.flipud, np.flipud, [[(3, 4)], [(5,)]]),
        OpSpec("tile", lambda x: rg.tile(x, (2, 1, 3)), lambda x: np.tile(x, (2, 1, 3)), [[(3, 4)], [(2,)]]),
        OpSpec("view_as", lambda x, y: x.view_as(y), lambda x, y: x.reshape(y.shape), [[(3, 4), (2, 6)]]),
        OpSpec("reshape_as", lambda x, y: x.t().reshape_as(y), lambda x, y: x.T.reshape(y.shape),
               [[(3, 4), (2, 6)]]),
        OpSpec("expand_as", lambda x, y: x.expand_as(y), lambda x, y: np.broadcast_to(x, y.shape),
               [[(3, 1), (2, 3, 4)]]),
        OpSpec("atleast_1d", lambda x: rg.atleast_1d(x) * 1, np.atleast_1d, [[()], [(3,)]]),
        OpSpec("sum_to_size", lambda x: x.sum_to_size(3, 1), lambda x: x.sum(axis=1, keepdims=True),
               [[(3, 4)]]),
        OpSpec("nansum", lambda x: rg.nansum(with_nans(x), 1), lambda x: np.nansum(_nan_input(x), 1),
               [[(3, 4)]]),
        OpSpec("nanmean", lambda x: rg.nanmean(with_nans(x), 0), lambda x: np.nanmean(_nan_input(x), 0),
               [[(3, 4)]]),
        OpSpec("var_mean", lambda x: rg.var_mean(x, 1)[0] + 2 * rg.var_mean(x, 1)[1],
               lambda x: x.var(1, ddof=1) + 2 * x.mean(1), [[(3, 4)]]),
        OpSpec("std_mean", lambda x: rg.std_mean(x, 0)[0] - rg.std_mean(x, 0)[1],
               lambda x: x.std(0, ddof=1) - x.mean(0), [[(3, 4)]]),
        OpSpec("aminmax", lambda x: rg.aminmax(x, dim=1).min + rg.aminmax(x, dim=1).max,
               lambda x: x.min(1) + x.max(1), [[(3, 4)]]),
        OpSpec("vdot", rg.vdot, np.vdot, [[(5,), (5,)]]),
        OpSpec("linalg_vecdot", lambda x, y: rg.linalg.vecdot(x, y), lambda x, y: (x * y).sum(-1), B),
        OpSpec("linalg_diagonal", lambda x: rg.linalg.diagonal(x, offset=1) * 1,
               lambda x: np.diagonal(x, 1, -2, -1), [[(3, 4)], [(2, 3, 3)]]),
        OpSpec("unsafe_split_with_sizes", lambda x: rg.unsafe_split_with_sizes(x, [1, 3], 1)[1],
               lambda x: x[:, 1:], [[(3, 4)]]),
        OpSpec("clamp_min", lambda x: rg.clamp_min(x, -0.3), lambda x: np.maximum(x, -0.3), U),
        OpSpec("mv", rg.mv, lambda a, v: a @ v, [[(3, 4), (4,)]]),
        OpSpec("broadcast_tensors", lambda x, y: rg.broadcast_tensors(x, y)[0] * 2 + rg.broadcast_tensors(x, y)[1],
               lambda x, y: np.broadcast_to(x, (3, 4)) * 2 + np.broadcast_to(y, (3, 4)), [[(3, 1), (4,)]]),
        OpSpec("contiguous", lambda x: x.t().contiguous(), lambda x: x.T, [[(3, 4)]]),
        OpSpec("hstack", lambda x, y: rg.hstack([x, y]), lambda x, y: np.hstack([x, y]), [[(3, 4), (3, 2)], [(2,), (3,)]]),
        OpSpec("vstack", lambda x, y: rg.vstack([x, y]), lambda x, y: np.vstack([x, y]), [[(3, 4), (2, 4)], [(4,), (4,)]]),
        OpSpec("movedim", lambda x: rg.movedim(x, 0, -1), lambda x: np.moveaxis(x, 0, -1), [[(2, 3, 4)]]),
        OpSpec("repeat_interleave", lambda x: rg.repeat_interleave(x, 2, 1), lambda x: np.repeat(x, 2, 1), [[(3, 4)]]),
        OpSpec("roll", lambda x: rg.roll(x, (1, -2), (0, 1)), lambda x: np.roll(x, (1, -2), (0, 1)), [[(3, 4)]]),
        OpSpec("select", lambda x: rg.select(x, 1, -1), lambda x: x[:, -1], [[(3, 4)]]),
        OpSpec("tensor_split", lambda x: rg.tensor_split(x, 3, 1)[1], lambda x: np.array_split(x, 3, 1)[1], [[(3, 5)]]),
        OpSpec("torch_layer_norm", lambda x, w, b: rg.layer_norm(x, (4,), w, b, 1e-5, True),
               lambda x, w, b: (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5) * w + b,
               [[(3, 4), (4,), (4,)]]),
        OpSpec("torch_selu", rg.selu,
               lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)), U),
        OpSpec("torch_celu", lambda x: rg.celu(x, 2.0), lambda x: np.where(x > 0, x, 2.0 * np.expm1(x / 2.0)), U),
        OpSpec("torch_threshold", lambda x: rg.threshold(x, 0.1, -1.0), lambda x: np.where(x > 0.1, x, -1.0), U),
        OpSpec("torch_margin_ranking_loss", lambda x, y: rg.margin_ranking_loss(x, y, rg.ones(5), 0.1, 1),
               lambda x, y: np.maximum(0, -(x - y) + 0.1).mean(), [[(5,), (5,)]]),
        OpSpec("torch_hinge_embedding_loss", lambda x: rg.hinge_embedding_loss(x, -rg.ones(5), 1.0, 2),
               lambda x: np.maximum(0, 1.0 - x).sum(), [[(5,)]], low=-0.5, high=0.5),
        OpSpec("torch_bce_with_logits", lambda x, y: rg.binary_cross_entropy_with_logits(x, y.sigmoid(), None, None, 1),
               lambda x, y: np.mean(np.logaddexp(0, x) - x / (1 + np.exp(-y))), [[(3, 4), (3, 4)]]),
        OpSpec("torch_kl_div", lambda x, y: rg.kl_div(x, y.exp(), 2, log_target=False),
               lambda x, y: (np.exp(y) * (y - x)).sum(), [[(3, 4), (3, 4)]]),
        OpSpec("torch_poisson_nll_loss", lambda x, y: rg.poisson_nll_loss(x, y.abs(), True, False, 1e-8, 1),
               lambda x, y: (np.exp(x) - np.abs(y) * x).mean(), [[(3, 4), (3, 4)]]),
    ]


def build_pool(rg):
    F = rg.nn.functional
    return [
        OpSpec("max_pool2d_with_indices", lambda x: F.max_pool2d_with_indices(x, 2)[0],
               lambda x: x.reshape(1, 2, 2, 2, 2).max(axis=(2, 4)), [[(1, 4, 4)]]),
        OpSpec("max_pool1d_with_indices", lambda x: F.max_pool1d_with_indices(x, 2)[0],
               lambda x: x.reshape(2, 3, 2).max(axis=2), [[(2, 6)]]),
        OpSpec("adaptive_avg_pool3d_1", lambda x: F.adaptive_avg_pool3d(x, 1),
               lambda x: x.mean(axis=(-3, -2, -1), keepdims=True), [[(2, 3, 2, 4)]]),
        OpSpec("adaptive_max_pool3d_1", lambda x: F.adaptive_max_pool3d(x, 1),
               lambda x: x.max(axis=(-3, -2, -1), keepdims=True), [[(2, 3, 2, 4)]]),
        OpSpec("constant_pad_nd", lambda x: rg.constant_pad_nd(x, (1, 2), 0.5),
               lambda x: np.pad(x, ((0, 0), (1, 2)), constant_values=0.5), [[(3, 4)]]),
        OpSpec("upsample_nearest", lambda x: F.upsample(x, scale_factor=2, mode="nearest"),
               lambda x: x.repeat(2, axis=-1), [[(1, 2, 3)]]),
    ]


def _expm_sym(a):
    w, v = np.linalg.eigh(a)
    return (v * np.exp(w)) @ v.T


def _lp_pool1d_ref(x, p, k):
    n = x.shape[-1] // k
    return (np.abs(x[..., :n * k].reshape(*x.shape[:-1], n, k)) ** p).sum(-1) ** (1 / p)


def _lrn_ref(x, size, alpha, beta, k):
    c = x.shape[1]
    sq = x * x
    out = np.empty_like(x)
    for i in range(c):
        lo, hi = max(0, i - size // 2), min(c, i + (size - 1) // 2 + 1)
        out[:, i] = x[:, i] / (k + alpha / size * sq[:, lo:hi].sum(1)) ** beta
    return out


def _householder_ref(a, tau):
    m, n = a.shape
    q = np.eye(m)
    for i in range(tau.shape[0]):
        v = np.zeros(m)
        v[i] = 1.0
        v[i + 1:] = a[i + 1:, i]
        q = q @ (np.eye(m) - tau[i] * np.outer(v, v))
    return q[:, :n]


def _unpool1d_ref(x, k):
    n = x.shape[-1] // k
    w = x[..., :n * k].reshape(*x.shape[:-1], n, k)
    keep = (w == w.max(-1, keepdims=True))
    return (w * keep).reshape(*x.shape[:-1], n * k)


def build_added(rg):
    F = rg.nn.functional
    return [
        OpSpec("matrix_exp_symmetric", lambda a: rg.linalg.matrix_exp(a + a.mT), lambda a: _expm_sym(a + a.T),
               [[(3, 3)]], low=-1, high=1),
        OpSpec("householder_product", rg.linalg.householder_product, _householder_ref, [[(4, 3), (2,)]],
               low=-0.8, high=0.8),
        OpSpec("norm_except_dim", lambda v: rg.norm_except_dim(v, 2, 0),
               lambda v: np.sqrt((v * v).sum(axis=(1, 2), keepdims=True)), [[(3, 2, 4)]]),
        OpSpec("local_response_norm", lambda x: F.local_response_norm(x, 3, alpha=0.1, beta=0.75, k=1.0),
               lambda x: _lrn_ref(x, 3, 0.1, 0.75, 1.0), [[(2, 4, 3)], [(1, 5, 2, 3)]]),
        OpSpec("lp_pool1d", lambda x: F.lp_pool1d(x, 2.0, 2), lambda x: _lp_pool1d_ref(x, 2.0, 2), [[(2, 3, 6)]],
               low=0.5, high=2.0),
        OpSpec("lp_pool2d", lambda x: F.lp_pool2d(x, 2.0, (1, 2)), lambda x: _lp_pool1d_ref(x, 2.0, 2),
               [[(1, 2, 3, 4)]], low=0.5, high=2.0),
        OpSpec("max_unpool1d", lambda x: F.max_unpool1d(*F.max_pool1d_with_indices(x, 2), 2),
               lambda x: _unpool1d_ref(x, 2), [[(2, 3, 6)]]),
        OpSpec("max_unpool2d", lambda x: F.max_unpool2d(*F.max_pool2d_with_indices(x, (1, 2)), (1, 2)),
               lambda x: _unpool1d_ref(x, 2), [[(1, 2, 3, 4)]]),
        OpSpec("linear_cross_entropy", lambda x, w: F.linear_cross_entropy(x, w, rg.tensor([0, 2, 1])),
               lambda x, w: _ce_ref(x @ w.T, [0, 2, 1]), [[(3, 4), (5, 4)]]),
    ]


def _ce_ref(logits, target):
    m = logits.max(1, keepdims=True)
    logp = logits - m - np.log(np.exp(logits - m).sum(1, keepdims=True))
    return -logp[np.arange(len(target)), target].mean()
