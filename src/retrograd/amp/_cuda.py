"""``torch.cuda.amp`` (deprecated by PyTorch in favour of ``torch.amp``): autocast, GradScaler,
custom_fwd and custom_bwd for "cuda"; each warns with a FutureWarning, as PyTorch's do."""

from ._deprecated import (
    CudaAutocast as autocast,
    CudaGradScaler as GradScaler,  # noqa: F401
    cuda_custom_bwd as custom_bwd,
    cuda_custom_fwd as custom_fwd,
)

__all__ = ["autocast", "GradScaler", "custom_fwd", "custom_bwd"]
