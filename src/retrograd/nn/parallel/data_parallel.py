"""DataParallel: single-process data parallelism over the visible GPUs.

Without a GPU (or with a single one) it runs the wrapped module directly, as PyTorch does,
moving tensor inputs to that GPU first; splitting a batch over several GPUs is not implemented
and raises at construction. The wrapped module is ``self.module``, so state dict keys carry the
``module.`` prefix as in PyTorch.
"""

from ... import cuda
from ..._tensor import Tensor
from ..modules.module import Module

__all__ = ["DataParallel"]


def _to_device(obj, device):
    if isinstance(obj, Tensor):
        return obj.to(device)
    if isinstance(obj, (list, tuple)):
        moved = [_to_device(o, device) for o in obj]
        return type(obj)(*moved) if hasattr(obj, "_fields") else type(obj)(moved)
    if isinstance(obj, dict):
        return {k: _to_device(v, device) for k, v in obj.items()}
    return obj


class DataParallel(Module):
    """``DataParallel(module, device_ids=None, output_device=None, dim=0)``."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        self.dim = dim
        if not cuda.is_available():
            self.device_ids = []
            self.output_device = None
            return
        if device_ids is None:
            device_ids = list(range(cuda.device_count()))
        self.device_ids = [d.index if hasattr(d, "index") else int(d) for d in device_ids]
        if len(self.device_ids) > 1:
            raise NotImplementedError(
                f"DataParallel over {len(self.device_ids)} GPUs is not implemented; pass "
                f"device_ids=[one id] or use DistributedDataParallel"
            )
        self.output_device = self.device_ids[0] if output_device is None else output_device

    def forward(self, *inputs, **kwargs):
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        device = f"cuda:{self.device_ids[0]}"
        return self.module(*_to_device(inputs, device), **_to_device(kwargs, device))
