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


class _UninitializedMixin:
    """A tensor with no shape yet (an empty placeholder of the right dtype and device) that
    ``materialize(shape)`` turns, in place, into a ``cls_to_become`` of that shape."""

    cls_to_become = Tensor

    def materialize(self, shape, device=None, dtype=None):
        """Give the tensor ``shape`` (uninitialised values) and make it a ``cls_to_become``."""
        from .._creation import empty

        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        self._data = empty(shape, device=device or self.device, dtype=dtype or self.dtype)._data
        self.__class__ = self.cls_to_become

    def __repr__(self):
        return f"<{type(self).__name__}>"


class UninitializedParameter(_UninitializedMixin, Parameter):
    """A parameter of a lazy module before its first forward call infers its shape."""

    cls_to_become = Parameter

    def __init__(self, requires_grad=True, device=None, dtype=None):
        from .._creation import empty

        super().__init__(empty(0, device=device, dtype=dtype), requires_grad)


class UninitializedBuffer(_UninitializedMixin, Tensor):
    """A buffer of a lazy module before its first forward call infers its shape."""

    cls_to_become = Tensor

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        from .._creation import empty

        _init(self, empty(0, device=device, dtype=dtype)._data, None, False)
        self.persistent = persistent
        if requires_grad:
            self.requires_grad_(True)


def is_lazy(tensor):
    """Whether ``tensor`` is an uninitialized parameter or buffer."""
    return isinstance(tensor, _UninitializedMixin)
