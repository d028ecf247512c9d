"""retrograd.nn.functional: PyTorch's functional API. Re-exports only; each op lives in ops/."""
from ..ops.elementwise import relu, sigmoid, tanh  # noqa: F401

# --- activations (ops/activation.py)

# --- linear, bilinear, dropout, embedding (ops/layers.py)

# --- normalization (ops/normalization.py)

# --- convolution, pooling, padding, resampling, unfold/fold (ops/conv.py, ops/pool.py, ops/resample.py)
from ..ops.conv import (conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d,  # noqa: F401
                        conv_transpose3d, unfold, fold)
from ..ops.pool import (max_pool1d, max_pool2d, max_pool3d, max_pool1d_with_indices,  # noqa: F401
                        max_pool2d_with_indices, max_pool3d_with_indices, avg_pool1d, avg_pool2d,
                        avg_pool3d, adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d,
                        adaptive_max_pool1d, adaptive_max_pool2d, adaptive_max_pool3d)
from ..ops.resample import pad, interpolate, upsample  # noqa: F401

# --- attention (ops/attention.py)

# --- losses (ops/loss.py)

# --- indexing helpers (ops/indexing.py)
from ..ops.indexing import one_hot  # noqa: F401,E402
