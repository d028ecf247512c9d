"""Small Tensor queries and conversions PyTorch code calls: ``type_as``, ``nbytes``,
``get_device``, ``is_signed``, ``is_nonzero`` ... (bound in ``_tensor_methods.py``)."""

from ._dtype import complex64, complex128


def type_as(self, other):
    """This tensor cast to ``other``'s dtype and moved to its device (a no-op when both match)."""
    return self.to(device=other.device, dtype=other.dtype)


def nbytes(self):
    return self._data.nbytes


def itemsize(self):
    return self._data.itemsize


def get_device(self):
    """The cuda device index, or -1 for a CPU tensor."""
    dev = self.device
    return -1 if dev.type == "cpu" else (dev.index or 0)


def is_signed(self):
    return self._data.dtype.kind in "ifV"


def is_complex(self):
    return self._data.dtype.kind == "c"


def is_inference(self):
    """False: retrograd's inference_mode turns recording off but does not mark tensors."""
    return False


def is_nonzero(input):
    """The truth value of a one-element tensor; an error for any other size."""
    n = input._data.size
    if n == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if n > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input)  # a graph break under compile, as bool(tensor)


def is_same_size(self, other):
    return self._data.shape == other._data.shape


def positive(input):
    """``input`` itself (unary plus); an error for bool tensors, as in PyTorch."""
    if input._data.dtype.kind == "b":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def const_data_ptr(self):
    """The address of the first element (``data_ptr()``; retrograd has no copy-on-write storage
    for a read to materialise)."""
    return self.data_ptr()


def is_set_to(self, tensor):
    """Whether both tensors view the same memory the same way: same first element, sizes and
    strides."""
    if type(tensor).__name__ not in ("Tensor", "Parameter", "Buffer") and not hasattr(tensor, "_data"):
        raise TypeError(f"is_set_to(): argument 'tensor' (position 1) must be Tensor, not {type(tensor).__name__}")
    a, b = self._data, tensor._data
    return self.data_ptr() == tensor.data_ptr() and a.shape == b.shape and self.stride() == tensor.stride()


def dim_order(self, *, ambiguity_check=False):
    """The dims from outermost to innermost in memory (``(0, 1, 2, 3)`` for a contiguous 4-D
    tensor, ``(0, 2, 3, 1)`` for channels_last), ordered as PyTorch orders them: a dense tensor
    in the default or the channels_last order (size-1 dims ignored) has that order; otherwise an
    insertion sort of the dims, innermost first, moves a dim inwards past one of larger stride,
    or of equal stride and smaller size, and leaves dims of stride 0 where they are.
    ``ambiguity_check`` (a check that the order is unique) is not implemented and raises."""
    if ambiguity_check is not False:
        raise NotImplementedError("dim_order(ambiguity_check=...) is not implemented; only the default False is")
    sizes, strides = self._data.shape, self.stride()
    ndim = len(sizes)
    if ndim < 2:
        return tuple(range(ndim))
    default = tuple(range(ndim))
    channels_last = (0, 2, 3, 1)
    dense = _dense_in(sizes, strides, default)
    if dense != (ndim == 4 and _dense_in(sizes, strides, channels_last)):
        return default if dense else channels_last

    def moves_inward(a, b):  # 1: a goes inside b; -1: stays outside; 0: undecided
        if strides[a] == 0 or strides[b] == 0:
            return 0
        if strides[a] != strides[b]:
            return 1 if strides[a] > strides[b] else -1
        return 1 if sizes[a] > sizes[b] else 0

    perm = list(range(len(sizes)))[::-1]  # innermost first
    for i in range(1, len(perm)):
        j = i
        for k in range(i - 1, -1, -1):
            c = moves_inward(perm[k], perm[j])
            if c > 0:
                perm[k], perm[j] = perm[j], perm[k]
                j = k
            elif c < 0:
                break
    return tuple(perm[::-1])


def _dense_in(sizes, strides, order):
    """Whether the strides lay the elements out densely in ``order`` (outermost first), as
    PyTorch's contiguity checks see it: dims of size 1 may have any stride."""
    if 0 in sizes:
        return True
    expected = 1
    for d in reversed(order):
        if sizes[d] != 1:
            if strides[d] != expected:
                return False
            expected *= sizes[d]
    return True


def cfloat(self, memory_format=None):
    """``self.to(complex64)``."""
    return self.to(complex64) if memory_format is None else self.to(complex64, memory_format=memory_format)


def cdouble(self, memory_format=None):
    """``self.to(complex128)``."""
    return self.to(complex128) if memory_format is None else self.to(complex128, memory_format=memory_format)


def sparse_dim(self):
    """0: a dense (strided) tensor has no sparse dims (sparse COO tensors are their own class)."""
    return 0


def dense_dim(self):
    """The number of dims: all of a dense (strided) tensor's dims are dense."""
    return self._data.ndim


def indices(self):
    """Refused, as in PyTorch: only a sparse COO tensor has indices."""
    raise RuntimeError("indices expected sparse coordinate tensor layout but got Strided")


def values(self):
    """Refused, as in PyTorch: only a sparse tensor has values."""
    raise RuntimeError("values expected sparse tensor layout but got Strided")


def module_load(self, other, assign=False):
    """How ``load_state_dict`` with swapped parameters maps a state-dict value ``other`` onto this
    tensor: ``other.detach()`` with ``assign``, else ``self.copy_(other).detach()`` (a new object
    either way)."""
    if assign:
        return other.detach()
    return self.copy_(other).detach()


def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
    """A DLPack capsule of this tensor's memory (the array's own; ``from_dlpack`` in NumPy,
    CuPy or PyTorch then shares it). A tensor that requires grad is refused, as in PyTorch."""
    if self._rg:
        raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
    kwargs = {
        k: v for k, v in (("max_version", max_version), ("dl_device", dl_device), ("copy", copy)) if v is not None
    }
    if stream is not None:
        kwargs["stream"] = stream
    return self._data.__dlpack__(**kwargs)


def __dlpack_device__(self):
    """(device type, index) in DLPack's numbering: (1, 0) for the CPU, (2, i) for cuda:i."""
    return self._data.__dlpack_device__()
