"""retrograd.nn.functional: PyTorch's functional API. Re-exports only; each op lives in ops/."""
from ..ops.elementwise import relu, sigmoid, tanh  # noqa: F401

# --- activations (ops/activation.py)

# --- linear, bilinear, dropout, embedding (ops/layers.py)

# --- normalization (ops/normalization.py)

# --- convolution, pooling, padding, resampling, unfold/fold (ops/conv.py, ops/pool.py, ops/resample.py)

# --- attention (ops/attention.py)

# --- losses (ops/loss.py)

# --- indexing helpers (ops/indexing.py)
from ..ops.indexing import one_hot  # noqa: F401,E402
