"""PyTorch's legacy tensor surface that older scripts still use: the typed constructors
(``FloatTensor([1.])``, ``LongTensor(3)``), ``Tensor.new``, ``resize_`` and ``storage()``.

Typed constructors build an ordinary ``Tensor`` of their dtype on the CPU; ``isinstance(t,
FloatTensor)`` is True for a float32 CPU tensor, as in PyTorch.
"""

import numpy as np

from . import _dtype
from ._size import Size
from ._tensor import Tensor
from .backend import to_numpy, xp_for


def _new_data(dtype, device, args, op):
    """The array for ``op(*args)``: data (a sequence) or a size (ints, or one Size)."""
    from ._creation import _array_from

    if not args:
        args = (0,)
    if len(args) == 1 and isinstance(args[0], Tensor):
        raise TypeError(
            f"{op}(): a Tensor argument is not supported here; use .to({dtype}) or "
            f".clone() to get a tensor of dtype {dtype}"
        )
    if len(args) == 1 and not isinstance(args[0], (int, np.integer, Size)):
        return _array_from(args[0], dtype, device)
    shape = tuple(args[0]) if len(args) == 1 and isinstance(args[0], Size) else args
    for s in shape:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise TypeError(
                f"{op}(): expected a sequence of data or a size of ints, got {tuple(type(a).__name__ for a in args)}"
            )
        if s < 0:
            raise RuntimeError(f"{op}(): negative dimension {s} in size {list(shape)}")
    from ._device import to_device

    return xp_for(to_device(device)).empty(tuple(int(s) for s in shape), dtype=dtype.np)


class _TypedTensorMeta(type):
    def __call__(cls, *args, device=None):
        if cls.is_cuda:
            from .backend import cuda_available

            if not cuda_available():
                raise TypeError(
                    f"type torch.cuda.{cls.__name__} not available: CUDA is not available here "
                    "(retrograd runs cuda tensors through CuPy)"
                )
            if device is not None and _device_type(device) != "cuda":
                raise RuntimeError(f"torch.cuda.{cls.__name__} is a cuda tensor type; got device={device!r}")
            return Tensor._make(_new_data(cls.dtype, device or "cuda", args, cls.__name__), None, False)
        if device is not None and str(device) != "cpu":
            raise RuntimeError(
                f"{cls.__name__} is a CPU tensor type; got device={device!r} (use "
                f"retrograd.tensor(..., device=...) for other devices)"
            )
        return Tensor._make(_new_data(cls.dtype, None, args, cls.__name__), None, False)

    def __instancecheck__(cls, obj):
        device = "cuda" if cls.is_cuda else "cpu"
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype and obj.device.type == device


def _device_type(device):
    from ._device import to_device

    return to_device(device).type


def _typed(name, dtype, cuda=False):
    return _TypedTensorMeta(
        name,
        (),
        {
            "dtype": dtype,
            "is_cuda": cuda,
            "__module__": "retrograd.cuda" if cuda else "retrograd",
            "__doc__": f"Legacy constructor of {dtype} {'cuda' if cuda else 'CPU'} tensors.",
        },
    )


FloatTensor = _typed("FloatTensor", _dtype.float32)
DoubleTensor = _typed("DoubleTensor", _dtype.float64)
HalfTensor = _typed("HalfTensor", _dtype.float16)
LongTensor = _typed("LongTensor", _dtype.int64)
IntTensor = _typed("IntTensor", _dtype.int32)
ShortTensor = _typed("ShortTensor", _dtype.int16)
CharTensor = _typed("CharTensor", _dtype.int8)
ByteTensor = _typed("ByteTensor", _dtype.uint8)
BoolTensor = _typed("BoolTensor", _dtype.bool)

# ``torch.cuda.FloatTensor`` and the others: the same constructors for cuda tensors
CUDA_TYPES = {
    t.__name__: _typed(t.__name__, t.dtype, cuda=True)
    for t in (
        FloatTensor,
        DoubleTensor,
        HalfTensor,
        LongTensor,
        IntTensor,
        ShortTensor,
        CharTensor,
        ByteTensor,
        BoolTensor,
    )
}


def new(self, *args, device=None):
    """``t.new(data)`` or ``t.new(*size)``: a new tensor of ``t``'s dtype on ``t``'s device (or
    ``device``), holding ``data`` or uninitialised; ``t.new()`` is empty."""
    data = _new_data(self.dtype, self.device if device is None else device, args, "new")
    return Tensor._make(data, None, False)


def resize_(self, *sizes, size=None, memory_format=None):
    """Give this tensor the shape ``sizes`` in place. The elements it had, in row-major order,
    stay as far as they fit; new elements are uninitialised. As in PyTorch, an error for a tensor
    that requires grad; an error too for views (their storage belongs to another tensor)."""
    from .ops.shape import _shape_arg, _sizes_or_keyword

    if memory_format is not None:
        raise NotImplementedError("resize_(): memory_format is not supported (tensors are row-major)")
    shape = _shape_arg(_sizes_or_keyword("resize_", sizes, "size", size))
    if any(s < 0 for s in shape):
        raise RuntimeError(f"resize_(): negative dimension in size {list(shape)}")
    if self._rg:
        raise RuntimeError("cannot resize variables that require grad")
    if shape == self._data.shape:
        return self
    if self._base is not None:
        raise RuntimeError(
            f"resize_(): this tensor is a view of another's storage; resize a copy "
            f"(.clone()) instead (shape {list(self._data.shape)} -> {list(shape)})"
        )
    old = self._data.reshape(-1)
    n = int(np.prod(shape, dtype=np.int64))
    if n <= old.size:
        data = old[:n].copy()
    else:
        data = xp_for(self.device).empty(n, dtype=old.dtype)
        data[: old.size] = old
    self._data = data.reshape(shape)
    self._version_counter().bump()
    return self


def resize_as_(self, other, memory_format=None):
    return resize_(self, other.shape, memory_format=memory_format)


class TypedStorage:
    """``tensor.storage()``: the elements of the storage a tensor (and its base and views) lives
    in, as a flat sequence of its dtype, in memory order. A read-only view for inspection."""

    __slots__ = ("_owner",)

    def __init__(self, owner):
        self._owner = owner

    @property
    def dtype(self):
        return self._owner.dtype

    @property
    def device(self):
        return self._owner.device

    def _flat(self):
        return self._owner._data.ravel(order="K")

    def size(self):
        return self._owner._data.size

    __len__ = size

    def element_size(self):
        return self._owner._data.itemsize

    def nbytes(self):
        return self._owner._data.nbytes

    def data_ptr(self):
        return self._owner.data_ptr()

    def tolist(self):
        return to_numpy(self._flat()).tolist()

    def __getitem__(self, i):
        return to_numpy(self._flat())[i].tolist()

    def untyped(self):
        from ._tensor import UntypedStorage

        return UntypedStorage(self._owner)

    def __eq__(self, other):
        return isinstance(other, TypedStorage) and other.data_ptr() == self.data_ptr()

    def __hash__(self):
        return hash(self.data_ptr())

    def __repr__(self):
        return (
            f"TypedStorage(dtype={self.dtype}, device={self.device}, size={self.size()}, data_ptr={self.data_ptr():#x})"
        )


def storage(self):
    """The storage this tensor lives in (its base's, for a view); see ``TypedStorage``."""
    return TypedStorage(self._base if self._base is not None else self)


def is_storage(obj):
    from ._tensor import UntypedStorage

    return isinstance(obj, (TypedStorage, UntypedStorage))


def _false(self):
    return False


# Device and layout kinds a retrograd tensor never has (PyTorch answers these as properties).
NEVER = (
    "is_xpu",
    "is_mkldnn",
    "is_mps",
    "is_quantized",
    "is_nested",
    "is_sparse_csr",
    "is_xla",
    "is_ipu",
    "is_maia",
    "is_mtia",
    "is_vulkan",
)
