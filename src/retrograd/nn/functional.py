"""retrograd.nn.functional: PyTorch's functional API. Re-exports only; each op lives in ops/."""
from ..ops.elementwise import sigmoid, tanh  # noqa: F401

# --- activations (ops/activation.py)
from ..ops.activation import (relu, relu_, relu6, leaky_relu, leaky_relu_, elu, elu_, selu, selu_,  # noqa: F401
                              celu, celu_, gelu, silu, mish, softplus, softsign, hardtanh, hardtanh_,
                              hardsigmoid, hardswish, logsigmoid, threshold, threshold_, prelu, rrelu,
                              rrelu_, hardshrink, softshrink, tanhshrink, glu, softmax, log_softmax,
                              softmin, gumbel_softmax)

# --- linear, bilinear, dropout, embedding (ops/layers.py)
from ..ops.layers import (linear, bilinear, dropout, dropout1d, dropout2d, dropout3d, alpha_dropout,  # noqa: F401
                          feature_alpha_dropout, embedding, cosine_similarity, pairwise_distance, pdist)

# --- normalization (ops/normalization.py)
from ..ops.normalization import (layer_norm, rms_norm, group_norm, batch_norm, instance_norm,  # noqa: F401
                                 normalize)
from ..ops.normalization import local_response_norm  # noqa: F401

# --- convolution, pooling, padding, resampling, unfold/fold (ops/conv.py, ops/pool.py, ops/resample.py)
from ..ops.conv import (conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d,  # noqa: F401
                        conv_transpose3d, unfold, fold)
from ..ops.pool import (max_pool1d, max_pool2d, max_pool3d, max_pool1d_with_indices,  # noqa: F401
                        max_pool2d_with_indices, max_pool3d_with_indices, avg_pool1d, avg_pool2d,
                        avg_pool3d, adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d,
                        adaptive_max_pool1d, adaptive_max_pool2d, adaptive_max_pool3d)
from ..ops.pool import (lp_pool1d, lp_pool2d, lp_pool3d, max_unpool1d, max_unpool2d, max_unpool3d,  # noqa: F401
                        fractional_max_pool2d, fractional_max_pool3d, fractional_max_pool2d_with_indices,
                        fractional_max_pool3d_with_indices)
from ..ops.resample import pad, interpolate, upsample  # noqa: F401

# --- attention (ops/attention.py)
from ..ops.attention import scaled_dot_product_attention  # noqa: F401

# --- losses (ops/loss.py)
from ..ops.loss import (cross_entropy, nll_loss, mse_loss, l1_loss, smooth_l1_loss, huber_loss,  # noqa: F401
                        binary_cross_entropy, binary_cross_entropy_with_logits, kl_div, poisson_nll_loss,
                        gaussian_nll_loss, margin_ranking_loss, hinge_embedding_loss, soft_margin_loss,
                        multilabel_soft_margin_loss, cosine_embedding_loss, triplet_margin_loss,
                        triplet_margin_with_distance_loss, multi_margin_loss, multilabel_margin_loss)
from ..ops.loss import ctc_loss, linear_cross_entropy  # noqa: F401

# --- indexing helpers (ops/indexing.py)
from ..ops.indexing import one_hot  # noqa: F401,E402

# --- bags of embeddings, pixel and channel rearrangements (ops/embedding_bag.py, ops/rearrange.py)
from ..ops.embedding_bag import embedding_bag  # noqa: F401,E402
from ..ops.rearrange import pixel_shuffle, pixel_unshuffle, channel_shuffle, native_channel_shuffle  # noqa: F401,E402
from ..ops.grid_sample import affine_grid, grid_sample  # noqa: F401,E402


__all__ = ["sigmoid", "tanh", "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu", "selu_",
           "celu", "celu_", "gelu", "silu", "mish", "softplus", "softsign", "hardtanh", "hardtanh_", "hardsigmoid",
           "hardswish", "logsigmoid", "threshold", "threshold_", "prelu", "rrelu", "rrelu_", "hardshrink",
           "softshrink", "tanhshrink", "glu", "softmax", "log_softmax", "softmin", "gumbel_softmax", "linear",
           "bilinear", "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
           "embedding", "cosine_similarity", "pairwise_distance", "pdist", "layer_norm", "rms_norm", "group_norm",
           "batch_norm", "instance_norm", "normalize", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
           "conv_transpose2d", "conv_transpose3d", "unfold", "fold", "max_pool1d", "max_pool2d", "max_pool3d",
           "max_pool1d_with_indices", "max_pool2d_with_indices", "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d",
           "avg_pool3d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
           "adaptive_max_pool2d", "adaptive_max_pool3d", "pad", "interpolate", "upsample",
           "scaled_dot_product_attention", "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss",
           "huber_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "poisson_nll_loss",
           "gaussian_nll_loss", "margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss",
           "multilabel_soft_margin_loss", "cosine_embedding_loss", "triplet_margin_loss",
           "triplet_margin_with_distance_loss", "multi_margin_loss", "multilabel_margin_loss", "one_hot",
           "embedding_bag", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle",
           "affine_grid", "grid_sample", "lp_pool1d", "lp_pool2d", "lp_pool3d", "max_unpool1d", "max_unpool2d",
           "max_unpool3d", "fractional_max_pool2d", "fractional_max_pool3d", "fractional_max_pool2d_with_indices",
           "fractional_max_pool3d_with_indices", "local_response_norm", "ctc_loss",
           "linear_cross_entropy"]
