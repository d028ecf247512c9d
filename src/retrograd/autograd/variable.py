"""``Variable``: PyTorch's pre-0.4 wrapper type, kept so that older scripts run.

Since PyTorch 0.4 every tensor records gradients itself, and ``Variable(t)`` only returns
``t.detach()`` with ``requires_grad`` set; ``isinstance(x, Variable)`` holds for every tensor.
``volatile=`` has no effect (with PyTorch's warning): ``no_grad`` replaced it.
"""

import warnings

from .._tensor import Tensor


class VariableMeta(type):
    """Makes ``isinstance(t, Variable)`` true for every tensor, as in PyTorch."""

    def __instancecheck__(cls, other):
        return isinstance(other, Tensor)


class Variable(metaclass=VariableMeta):
    """``Variable(data=None, requires_grad=False, volatile=False)``: ``data.detach()`` (same
    storage, no history) with ``requires_grad`` set; without data, an empty float tensor."""

    def __new__(cls, data=None, requires_grad=False, volatile=False, *, name=None):
        if name is not None:
            raise TypeError("Variable(): name= is not supported in retrograd (tensors carry no name)")
        if volatile:
            warnings.warn(
                "volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
                UserWarning,
                stacklevel=2,
            )
        if data is None:
            from .._creation import empty

            var = empty(0)
        elif isinstance(data, Tensor):
            var = data.detach()
        else:
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        return var.requires_grad_(bool(requires_grad))
