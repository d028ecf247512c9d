"""``Parameter``: a leaf tensor that a ``Module`` registers as one of its parameters.

A ``Parameter`` shares its array (and version counter) with the tensor it was made from, so
``Parameter(t)`` costs no copy and in-place writes to either are seen by both. It is a leaf:
``Parameter(non_leaf)`` detaches. ``Buffer`` marks a tensor to be registered as a buffer when
assigned to a module attribute.
"""
from .._tensor import Tensor, _init


def _leaf_array(data):
    if data is None:
        from .._creation import empty
        return empty(0), None
    if not isinstance(data, Tensor):
        raise TypeError(f"Parameter/Buffer data must be a Tensor, got {type(data).__name__}")
    return data, data._version_counter()


class Parameter(Tensor):
    """A tensor that is a module parameter when assigned as a ``Module`` attribute.

    ``Parameter(data=None, requires_grad=True)``: shares ``data``'s storage; ``requires_grad``
    defaults to True (a float tensor is needed for that).
    """

    def __init__(self, data=None, requires_grad=True):
        src, vc = _leaf_array(data)
        _init(self, src._data, None, False)
        self._vc = vc
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Buffer(Tensor):
    """Marks a tensor to be registered as a buffer when assigned to a ``Module`` attribute.

    ``Buffer(data=None, *, persistent=True)``: a non-persistent buffer is left out of
    ``state_dict``. The buffer shares ``data``'s storage.
    """

    def __init__(self, data=None, *, persistent=True):
        src, vc = _leaf_array(data)
        _init(self, src._data, None, False)
        self._vc = vc
        self.persistent = persistent
