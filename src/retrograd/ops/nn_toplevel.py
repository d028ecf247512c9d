"""The ``torch.*`` spellings of the neural-network ops.

PyTorch exposes several of its nn ops at the top level with the ATen argument order, which can
differ from ``torch.nn.functional`` (``torch.embedding(weight, indices)``,
``torch.batch_norm(input, weight, bias, running_mean, ...)``), and with integer reduction codes
(0 'none', 1 'mean', 2 'sum'). These thin wrappers map those forms onto the functional ops.
"""

from . import activation as _act, layers as _layers, loss as _loss, normalization as _norm
from ._declare import declare

_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _reduction(code):
    if isinstance(code, str):
        return code
    if code not in _REDUCTIONS:
        raise ValueError(f"{code} is not a valid value for reduction")
    return _REDUCTIONS[code]


def softmax(input, dim, dtype=None):
    return _act.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, dtype=None):
    return _act.log_softmax(input, dim, dtype=dtype)


def dropout(input, p, train):
    return _layers.dropout(input, p, train)


def dropout_(input, p, train):
    return _layers.dropout(input, p, train, inplace=True)


def alpha_dropout(input, p, train):
    return _layers.alpha_dropout(input, p, train)


def feature_dropout(input, p, train):
    return _layers._feature_dropout(input, p, train, False, True)


def feature_alpha_dropout(input, p, train):
    return _layers.feature_alpha_dropout(input, p, train)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    return _layers.embedding(
        indices,
        weight,
        None if padding_idx == -1 else padding_idx,
        scale_grad_by_freq=scale_grad_by_freq,
        sparse=sparse,
    )


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    return _norm.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    return _norm.group_norm(input, num_groups, weight, bias, eps)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled):
    return _norm.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn_enabled):
    return _norm.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def kl_div(input, target, reduction=1, *, log_target=False):
    return _loss.kl_div(input, target, reduction=_reduction(reduction), log_target=log_target)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=1):
    return _loss.binary_cross_entropy_with_logits(
        input, target, weight, reduction=_reduction(reduction), pos_weight=pos_weight
    )


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=1):
    return _loss.cosine_embedding_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=1):
    return _loss.margin_ranking_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, reduction=1):
    return _loss.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap, reduction=_reduction(reduction))


def hinge_embedding_loss(input, target, margin=1.0, reduction=1):
    return _loss.hinge_embedding_loss(input, target, margin, reduction=_reduction(reduction))


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    return _loss.poisson_nll_loss(input, target, log_input, full, eps=eps, reduction=_reduction(reduction))


def selu(input):
    return _act.selu(input)


def celu(input, alpha=1.0):
    return _act.celu(input, alpha)


def threshold(input, threshold, value):
    return _act.threshold(input, threshold, value)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    return _act.rrelu(input, lower, upper, training)


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(softmax, method=True, out=("torch",), special=("softmax",))
declare(log_softmax, method=True, out=("torch",), special=("log_softmax",))
declare(dropout)
declare(dropout_)
declare(alpha_dropout)
declare(feature_dropout)
declare(feature_alpha_dropout)
declare(embedding)
declare(layer_norm)
declare(group_norm)
declare(batch_norm)
declare(instance_norm)
declare(kl_div)
declare(binary_cross_entropy_with_logits)
declare(cosine_embedding_loss)
declare(margin_ranking_loss)
declare(triplet_margin_loss)
declare(hinge_embedding_loss)
declare(poisson_nll_loss)
declare(selu)
declare(celu)
declare(threshold, out=True)
declare(rrelu)
