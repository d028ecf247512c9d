"""Handles returned by ``register_*hook`` calls (PyTorch's ``torch.utils.hooks``).

They are defined in the core (``autograd/_handles.py``), where graph nodes and tensors hand them
out; this module is their public name.
"""

from ..autograd._handles import ListHookHandle, RemovableHandle

__all__ = ["RemovableHandle", "ListHookHandle"]
