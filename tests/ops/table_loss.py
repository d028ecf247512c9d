"""Op table: loss functions (retrograd.nn.functional)."""
import numpy as np

from .optable import OpSpec

T3 = np.array([0, 2, 1])
T_IGNORE = np.array([0, -100, 3])
T_ND = np.array([[0, 1], [3, -100]])            # targets for input (2, 4, 2)
W4 = np.array([0.5, 1.0, 2.0, 1.5])
SIGNS = np.array([1.0, -1.0, 1.0, -1.0, 1.0])


def _np_log_softmax(x, axis):
    m = x.max(axis, keepdims=True)
    return x - (np.log(np.exp(x - m).sum(axis, keepdims=True)) + m)


def _reduce(loss, reduction, denom=None):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / (loss.size if denom is None else denom)


def _np_cross_entropy(x, t, w=None, ignore=-100, reduction="mean", ls=0.0):
    """Reference: class dim 1 moved last; per-sample -(1 - ls) w[t] lsm[t] - ls/C sum_c w_c lsm_c."""
    c = x.shape[1] if x.ndim > 1 else x.shape[0]
    x2 = np.moveaxis(x, 1, -1).reshape(-1, c) if x.ndim > 1 else x.reshape(1, c)
    t2 = t.reshape(-1)
    w = np.ones(c) if w is None else w
    lsm = _np_log_softmax(x2, 1)
    valid = t2 != ignore
    ts = np.where(valid, t2, 0)
    wt = np.where(valid, w[ts], 0.0)
    nll = -lsm[np.arange(len(t2)), ts] * wt
    smooth = np.where(valid, -(lsm * w).sum(1), 0.0)
    loss = (1 - ls) * nll + ls / c * smooth
    if reduction == "none":
        return loss.reshape(t.shape)
    return _reduce(loss, reduction, wt.sum())


def _np_nll(x, t, w=None, ignore=-100, reduction="mean"):
    c = x.shape[1]
    x2 = np.moveaxis(x, 1, -1).reshape(-1, c)
    t2 = t.reshape(-1)
    w = np.ones(c) if w is None else w
    valid = t2 != ignore
    ts = np.where(valid, t2, 0)
    wt = np.where(valid, w[ts], 0.0)
    loss = -x2[np.arange(len(t2)), ts] * wt
    if reduction == "none":
        return loss.reshape(t.shape)
    return _reduce(loss, reduction, wt.sum())


def _np_ce_probs(x, p, w=None, reduction="mean", ls=0.0):
    c = x.shape[1]
    p = p * (1 - ls) + ls / c
    w = np.ones(c) if w is None else w
    loss = -(_np_log_softmax(x, 1) * p * w.reshape((c,) + (1,) * (x.ndim - 2))).sum(1)
    return _reduce(loss, reduction, loss.size)


def _np_smooth_l1(x, y, beta):
    d = np.abs(x - y)
    return np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)


def _np_log_sigmoid(x):
    return -np.logaddexp(0, -x)


def _np_cos(a, b, axis, eps=1e-12):
    return (a * b).sum(axis) / np.sqrt(((a * a).sum(axis) + eps) * ((b * b).sum(axis) + eps))


def build(rg):
    F = rg.nn.functional
    t3, t_ign, t_nd, w4, signs = (rg.tensor(a) for a in (T3, T_IGNORE, T_ND, W4, SIGNS))
    T = []
    # ---------------------------------------------------------------- cross entropy, nll
    for red in ("mean", "sum", "none"):
        T += [
            OpSpec(f"cross_entropy_{red}", lambda x, red=red: F.cross_entropy(x, t3, reduction=red),
                   lambda x, red=red: _np_cross_entropy(x, T3, reduction=red), [[(3, 4)]]),
            OpSpec(f"cross_entropy_weight_ignore_{red}",
                   lambda x, red=red: F.cross_entropy(x, t_ign, weight=w4.to(x.dtype), reduction=red),
                   lambda x, red=red: _np_cross_entropy(x, T_IGNORE, W4, reduction=red), [[(3, 4)]]),
            OpSpec(f"cross_entropy_smoothing_{red}",
                   lambda x, red=red: F.cross_entropy(x, t_ign, weight=w4.to(x.dtype), reduction=red,
                                                      label_smoothing=0.2),
                   lambda x, red=red: _np_cross_entropy(x, T_IGNORE, W4, reduction=red, ls=0.2), [[(3, 4)]]),
            OpSpec(f"cross_entropy_nd_{red}",
                   lambda x, red=red: F.cross_entropy(x, t_nd, reduction=red, label_smoothing=0.1),
                   lambda x, red=red: _np_cross_entropy(x, T_ND, reduction=red, ls=0.1), [[(2, 4, 2)]]),
            OpSpec(f"cross_entropy_probs_{red}",
                   lambda x, p, red=red: F.cross_entropy(x, p, weight=w4.to(x.dtype), reduction=red,
                                                        label_smoothing=0.1),
                   lambda x, p, red=red: _np_ce_probs(x, p, W4, red, 0.1), [[(3, 4), (3, 4)], [(2, 4, 2), (2, 4, 2)]],
                   low=0.0, high=1.0),
            OpSpec(f"nll_loss_{red}", lambda x, red=red: F.nll_loss(x, t_ign, weight=w4.to(x.dtype), reduction=red),
                   lambda x, red=red: _np_nll(x, T_IGNORE, W4, reduction=red), [[(3, 4)]]),
            OpSpec(f"nll_loss_nd_{red}", lambda x, red=red: F.nll_loss(x, t_nd, reduction=red),
                   lambda x, red=red: _np_nll(x, T_ND, reduction=red), [[(2, 4, 2)]]),
        ]
    T += [
        OpSpec("cross_entropy_unbatched", lambda x: F.cross_entropy(x, rg.tensor(2)),
               lambda x: -_np_log_softmax(x, 0)[2], [[(4,)]]),
        OpSpec("cross_entropy_noncontig", lambda x: F.cross_entropy(x.t(), t3, label_smoothing=0.3),
               lambda x: _np_cross_entropy(x.T, T3, ls=0.3), [[(4, 3)]]),
        OpSpec("cross_entropy_large_logits", lambda x: F.cross_entropy(x, t3), lambda x: _np_cross_entropy(x, T3),
               [[(3, 4)]], low=-1000, high=1000),
        OpSpec("cross_entropy_empty_batch_sum", lambda x: F.cross_entropy(x, rg.zeros(0, dtype=rg.int64),
                                                                          reduction="sum"),
               lambda x: np.zeros(()), [[(0, 4)]], grad="zero"),
    ]
    # ---------------------------------------------------------------- regression
    PAIR = [[(3, 4), (3, 4)], [(5,), (5,)], [(), ()]]
    for red in ("mean", "sum", "none"):
        T += [
            OpSpec(f"mse_loss_{red}", lambda x, y, red=red: F.mse_loss(x, y, reduction=red),
                   lambda x, y, red=red: _reduce((x - y) ** 2, red), PAIR),
            OpSpec(f"l1_loss_{red}", lambda x, y, red=red: F.l1_loss(x, y, reduction=red),
                   lambda x, y, red=red: _reduce(np.abs(x - y), red), PAIR),
            OpSpec(f"smooth_l1_loss_{red}", lambda x, y, red=red: F.smooth_l1_loss(x, y, reduction=red, beta=0.5),
                   lambda x, y, red=red: _reduce(_np_smooth_l1(x, y, 0.5), red), PAIR),
            OpSpec(f"huber_loss_{red}", lambda x, y, red=red: F.huber_loss(x, y, reduction=red, delta=0.7),
                   lambda x, y, red=red: _reduce(0.7 * _np_smooth_l1(x, y, 0.7), red), PAIR),
        ]
    T += [
        # a weighted 'mean' divides by the sum of the weights (PyTorch 2.13); positive weights keep it smooth
        OpSpec("mse_loss_weight", lambda x, y, w: F.mse_loss(x, y, weight=w),
               lambda x, y, w: ((x - y) ** 2 * w).sum() / w.sum(), [[(3, 4), (3, 4), (3, 4)]], low=0.5, high=2.0),
        OpSpec("l1_loss_weight", lambda x, y, w: F.l1_loss(x, y, weight=w),
               lambda x, y, w: (np.abs(x - y) * w).sum() / w.sum(), [[(3, 4), (3, 4), (3, 4)]],
               low=0.5, high=2.0),
        OpSpec("huber_loss_weight_sum", lambda x, y, w: F.huber_loss(x, y, reduction="sum", weight=w),
               lambda x, y, w: (_np_smooth_l1(x, y, 1.0) * w).sum(), [[(3, 4), (3, 4), (3, 4)]]),
        OpSpec("l1_loss_legacy_size_average", lambda x, y: F.l1_loss(x, y, size_average=False),
               lambda x, y: np.abs(x - y).sum(), [[(3, 4), (3, 4)]]),
        OpSpec("smooth_l1_loss_beta0", lambda x, y: F.smooth_l1_loss(x, y, beta=0.0),
               lambda x, y: np.abs(x - y).mean(), [[(3, 4), (3, 4)]]),
    ]
    # ---------------------------------------------------------------- binary cross entropy
    for red in ("mean", "sum", "none"):
        T += [
            OpSpec(f"bce_{red}", lambda x, y, red=red: F.binary_cross_entropy(x, y, reduction=red),
                   lambda x, y, red=red: _reduce(-(y * np.log(x) + (1 - y) * np.log1p(-x)), red),
                   [[(3, 4), (3, 4)], [(), ()]], low=0.05, high=0.95),
            OpSpec(f"bce_with_logits_{red}",
                   lambda x, y, red=red: F.binary_cross_entropy_with_logits(x, y, reduction=red),
                   lambda x, y, red=red: _reduce((1 - y) * x - _np_log_sigmoid(x), red), [[(3, 4), (3, 4)]],
                   low=-3, high=3),
        ]
    wt = rg.tensor(np.linspace(0.5, 1.5, 12).reshape(3, 4))
    pw = rg.tensor(np.array([0.5, 2.0, 1.0, 3.0]))
    T += [
        OpSpec("bce_weight", lambda x, y: F.binary_cross_entropy(x, y, weight=wt.to(x.dtype)),
               lambda x, y: (-(y * np.log(x) + (1 - y) * np.log1p(-x)) * wt.numpy()).mean(), [[(3, 4), (3, 4)]],
               low=0.05, high=0.95),
        OpSpec("bce_with_logits_weight_pos_weight",
               lambda x, y: F.binary_cross_entropy_with_logits(x, y, weight=wt.to(x.dtype), pos_weight=pw.to(x.dtype)),
               lambda x, y: (((1 - y) * x - ((pw.numpy() - 1) * y + 1) * _np_log_sigmoid(x)) * wt.numpy()).mean(),
               [[(3, 4), (3, 4)]], low=-3, high=3),
        OpSpec("bce_with_logits_large", lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="sum"),
               lambda x, y: ((1 - y) * x - _np_log_sigmoid(x)).sum(), [[(3, 4), (3, 4)]], low=-1000, high=1000),
    ]
    # ---------------------------------------------------------------- distribution losses
    for red in ("mean", "sum", "none", "batchmean"):
        T += [
            OpSpec(f"kl_div_{red}", lambda x, y, red=red: F.kl_div(x, y, reduction=red),
                   lambda x, y, red=red: (lambda l: l.sum() / 3 if red == "batchmean" else _reduce(l, red))(
                       y * (np.log(y) - x)), [[(3, 4), (3, 4)]], low=0.1, high=1.0),
            OpSpec(f"kl_div_log_target_{red}", lambda x, y, red=red: F.kl_div(x, y, reduction=red, log_target=True),
                   lambda x, y, red=red: (lambda l: l.sum() / 3 if red == "batchmean" else _reduce(l, red))(
                       np.exp(y) * (y - x)), [[(3, 4), (3, 4)]]),
        ]
    T += [
        OpSpec("poisson_nll_loss", lambda x, y: F.poisson_nll_loss(x, y), lambda x, y: (np.exp(x) - y * x).mean(),
               [[(3, 4), (3, 4)]]),
        OpSpec("poisson_nll_loss_no_log_full", lambda x, y: F.poisson_nll_loss(x, y * 3, log_input=False, full=True,
                                                                               reduction="sum"),
               lambda x, y: (x - 3 * y * np.log(x + 1e-8) + np.where(3 * y > 1, 3 * y * np.log(3 * y) - 3 * y
                                                                     + 0.5 * np.log(2 * np.pi * 3 * y), 0)).sum(),
               [[(3, 4), (3, 4)]], low=0.1, high=1.0),
        OpSpec("gaussian_nll_loss", lambda x, y, v: F.gaussian_nll_loss(x, y, v, full=True),
               lambda x, y, v: (0.5 * (np.log(v) + (x - y) ** 2 / v) + 0.5 * np.log(2 * np.pi)).mean(),
               [[(3, 4), (3, 4), (3, 4)], [(3, 4), (3, 4), (3, 1)]], low=0.2, high=1.5),
    ]
    # ---------------------------------------------------------------- margin losses
    for red in ("mean", "sum", "none"):
        T += [
            OpSpec(f"margin_ranking_loss_{red}",
                   lambda a, b, red=red: F.margin_ranking_loss(a, b, signs.to(a.dtype), margin=0.1, reduction=red),
                   lambda a, b, red=red: _reduce(np.maximum(0, -SIGNS * (a - b) + 0.1), red), [[(5,), (5,)]]),
            OpSpec(f"hinge_embedding_loss_{red}",
                   lambda x, red=red: F.hinge_embedding_loss(x, signs, margin=0.5, reduction=red),
                   lambda x, red=red: _reduce(np.where(SIGNS == 1, x, np.maximum(0, 0.5 - x)), red), [[(5,)]]),
            OpSpec(f"soft_margin_loss_{red}",
                   lambda x, red=red: F.soft_margin_loss(x, signs.to(x.dtype), reduction=red),
                   lambda x, red=red: _reduce(np.logaddexp(0, -SIGNS * x), red), [[(5,)]]),
            OpSpec(f"cosine_embedding_loss_{red}",
                   lambda a, b, red=red: F.cosine_embedding_loss(a, b, rg.tensor([1.0, -1.0, -1.0]), margin=-0.5,
                                                                 reduction=red),
                   lambda a, b, red=red: _reduce(np.where(np.array([1, -1, -1]) == 1, 1 - _np_cos(a, b, 1),
                                                          np.maximum(0, _np_cos(a, b, 1) + 0.5)), red),
                   [[(3, 4), (3, 4)]]),
            OpSpec(f"triplet_margin_loss_{red}",
                   lambda a, p, n, red=red: F.triplet_margin_loss(a, p, n, margin=2.0, reduction=red),
                   lambda a, p, n, red=red: _reduce(np.maximum(np.linalg.norm(a - p + 1e-6, axis=-1)
                                                               - np.linalg.norm(a - n + 1e-6, axis=-1) + 2.0, 0), red),
                   [[(3, 4), (3, 4), (3, 4)]]),
        ]
    T += [
        OpSpec("multilabel_soft_margin_loss", lambda x, y: F.multilabel_soft_margin_loss(x, y),
               lambda x, y: (-(y * _np_log_sigmoid(x) + (1 - y) * _np_log_sigmoid(-x))).mean(-1).mean(),
               [[(3, 4), (3, 4)]]),
        OpSpec("triplet_margin_loss_swap_p1",
               lambda a, p, n: F.triplet_margin_loss(a, p, n, margin=3.0, p=1, swap=True),
               lambda a, p, n: np.maximum(np.abs(a - p + 1e-6).sum(-1) + 3.0 - np.minimum(
                   np.abs(a - n + 1e-6).sum(-1), np.abs(p - n + 1e-6).sum(-1)), 0).mean(), [[(3, 4), (3, 4), (3, 4)]]),
        OpSpec("multilabel_margin_loss", lambda x: F.multilabel_margin_loss(x, rg.tensor([[3, 0, -1, 1], [1, 2, 3, -1]])),
               lambda x: (np.maximum(0, 1 - x[0, [3, 0]][:, None] + x[0, [1, 2]][None]).sum()
                          + np.maximum(0, 1 - x[1, [1, 2, 3]][:, None] + x[1, [0]][None]).sum()) / 4 / 2,
               [[(2, 4)]]),
        OpSpec("multi_margin_loss", lambda x: F.multi_margin_loss(x, t3, margin=2.0),
               lambda x: (np.maximum(0, 2.0 - x[np.arange(3), T3][:, None] + x)
                          * (np.arange(4) != T3[:, None])).sum(1).mean() / 4, [[(3, 4)]]),
    ]
    return T
