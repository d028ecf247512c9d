"""``torch.cpu.amp`` (deprecated by PyTorch in favour of ``torch.amp``): autocast and GradScaler
for "cpu"; each warns with a FutureWarning, as PyTorch's do."""

from ...amp._deprecated import CpuAutocast as autocast, CpuGradScaler as GradScaler

__all__ = ["autocast", "GradScaler"]
