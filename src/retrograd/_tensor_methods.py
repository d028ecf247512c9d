"""Bind Tensor's methods, operators and properties.

The op methods come from the declarations (``ops/_declare.py``): each family file ends with a
``declare(...)`` line per function, saying whether it is a method, whether it has an in-place
form, and so on, so ``Tensor.exp`` is ``ops.elementwise.exp`` itself and its declaration is at
the end of that file. Importing ``ops._families`` runs every declaration. What is not an op is
listed here: conversions (``to``, ``float``, ``cpu``, ``new_zeros``), queries, the legacy
methods, Python's operators and the properties.
"""

from ._tensor import Tensor
from ._dtype import get_default_dtype, to_dtype
from .ops import _families  # noqa: F401  (every op family's declarations have run)
from .ops import elementwise as ew, indexing as ix, inplace as ip, integer, linalg as la, shape as sh
from .ops._declare import tensor_methods
from . import _typeinfo as ti
from . import _tensor_queries as tq, _creation as cr, _legacy as lg
from . import sparse
from .ops import complex as cx


def _reflect(fn):
    def r(self, other):
        return fn(other, self)

    r.__name__ = "r" + fn.__name__
    return r


def _to(self, *args, **kwargs):
    """to(dtype), to(device), to(device, dtype), to(other), with copy=/non_blocking= keywords."""
    from ._device import device as _device

    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    memory_format = kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
        elif isinstance(a, (str, _device)) and not (isinstance(a, str) and a in ("float32", "float64")):
            device = a
        elif a is not None:
            dtype = a
    out = self
    if device is not None:
        out = sh.to_device(out, device)
    if dtype is not None:
        out = sh.to_dtype(out, to_dtype(dtype), copy=copy and out is self)
    elif copy and out is self:
        out = out.clone()
    return _in_format(out, memory_format)


def _in_format(t, memory_format):
    """``t`` laid out as ``memory_format`` asks (itself when it already is, or when the format is
    preserve_format, the default)."""
    if memory_format is None or memory_format is ti.preserve_format:
        return t
    return sh.contiguous(t, memory_format)


def _type(self, dtype=None, non_blocking=False):
    """With no argument, the legacy type name PyTorch gives: ``'torch.FloatTensor'``,
    ``'torch.cuda.LongTensor'`` (PyTorch's names, which scripts compare against). With one, this
    tensor cast to it (itself when it already is that type): a dtype, a legacy tensor class
    (``torch.FloatTensor``), ``torch.Tensor`` (the default float dtype) or a type name
    (``'torch.IntTensor'``, ``'torch.cuda.FloatTensor'``)."""
    if dtype is None:
        where = ".cuda" if self.device.type == "cuda" else ""
        return f"torch{where}.{_TYPE_NAMES[self.dtype.name]}"
    device = None
    if isinstance(dtype, str):
        prefix, _, name = dtype.rpartition(".")
        if name not in _TYPE_DTYPES or prefix not in ("torch", "torch.cuda", "retrograd", "retrograd.cuda"):
            raise ValueError(f"invalid type: '{dtype}'")
        device = "cuda" if prefix.endswith("cuda") else "cpu"
        dtype = _TYPE_DTYPES[name]
    elif isinstance(dtype, type) and dtype.__name__ in _TYPE_DTYPES and hasattr(dtype, "is_cuda"):
        device = "cuda" if dtype.is_cuda else "cpu"
        dtype = dtype.dtype  # a legacy tensor class
    elif dtype is Tensor:  # the default tensor type (``x.type(torch.Tensor)``): the default dtype
        dtype = get_default_dtype()
    elif isinstance(dtype, type):
        raise ValueError(f"invalid type: '{dtype.__name__}'")
    out = sh.to_dtype(self, to_dtype(dtype))
    if device is not None and out.device.type != device:
        out = out.to(device)
    return out


_TYPE_NAMES = {
    "float32": "FloatTensor",
    "float64": "DoubleTensor",
    "float16": "HalfTensor",
    "int64": "LongTensor",
    "int32": "IntTensor",
    "int16": "ShortTensor",
    "int8": "CharTensor",
    "uint8": "ByteTensor",
    "bool": "BoolTensor",
}
_TYPE_NAMES["bfloat16"] = "BFloat16Tensor"
_TYPE_DTYPES = {v: k for k, v in _TYPE_NAMES.items()}


def _cast(name):
    def cast(self, memory_format=None):
        return _in_format(sh.to_dtype(self, to_dtype(name)), memory_format)

    cast.__name__ = name
    return cast


def _iop(fn):
    def iop(self, other):
        return fn(self, other)

    iop.__name__ = "__i" + fn.__name__.rstrip("_") + "__"
    return iop


def _cpu(self):
    return sh.to_device(self, "cpu")


def _cuda(self, device=None, non_blocking=False):
    return sh.to_device(self, "cuda" if device is None else device)


def _new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    from ._creation import tensor

    return tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)


def _new_factory(fn_name):
    def new(self, *sizes, size=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
        from . import _creation

        fn = getattr(_creation, fn_name)
        return fn(
            *sizes,
            size=size,
            dtype=dtype or self.dtype,
            layout=layout,
            device=device or self.device,
            requires_grad=requires_grad,
            pin_memory=pin_memory,
        )

    new.__name__ = "new_" + fn_name
    return new


def _new_full(self, size, fill_value, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    from ._creation import full

    return full(
        size,
        fill_value,
        dtype=dtype or self.dtype,
        layout=layout,
        device=device or self.device,
        requires_grad=requires_grad,
        pin_memory=pin_memory,
    )


def _mT(self):
    return sh.transpose(self, -2, -1)


def _T(self):
    return sh.permute(self, tuple(reversed(range(self._data.ndim))))


def _H(self):
    return cx.conj(_T(self))


def _mH(self):
    return cx.conj(_mT(self))


# every op method and in-place form, from the declarations of the families imported above
METHODS = tensor_methods()

# conversions, queries, legacy methods: not ops, so not declared
METHODS.update(
    {
        "to": _to,
        "type": _type,
        "float": _cast("float32"),
        "double": _cast("float64"),
        "half": _cast("float16"),
        "long": _cast("int64"),
        "int": _cast("int32"),
        "short": _cast("int16"),
        "bool": _cast("bool"),
        "bfloat16": _cast("bfloat16"),
        "byte": _cast("uint8"),
        "char": _cast("int8"),
        "cpu": _cpu,
        "cuda": _cuda,
        "new_tensor": _new_tensor,
        "new_zeros": _new_factory("zeros"),
        "new_ones": _new_factory("ones"),
        "new_empty": _new_factory("empty"),
        "new_full": _new_full,
        "type_as": tq.type_as,
        "get_device": tq.get_device,
        "is_signed": tq.is_signed,
        "is_complex": tq.is_complex,
        "is_inference": tq.is_inference,
        "is_nonzero": tq.is_nonzero,
        "is_same_size": tq.is_same_size,
        "positive": tq.positive,
        "const_data_ptr": tq.const_data_ptr,
        "is_set_to": tq.is_set_to,
        "dim_order": tq.dim_order,
        "cfloat": tq.cfloat,
        "cdouble": tq.cdouble,
        "sparse_dim": tq.sparse_dim,
        "dense_dim": tq.dense_dim,
        "indices": tq.indices,
        "values": tq.values,
        "module_load": tq.module_load,
        "__dlpack__": tq.__dlpack__,
        "__dlpack_device__": tq.__dlpack_device__,
        "bernoulli": cr.bernoulli,
        "multinomial": cr.multinomial,
        "new": lg.new,
        "resize_": lg.resize_,
        "resize_as_": lg.resize_as_,
        "storage": lg.storage,
        "to_sparse": sparse.to_sparse,
        "to_sparse_coo": sparse.to_sparse_coo,
        "to_dense": sparse.dense_to_dense,
    }
)

# Python's operators: the reflected forms swap the operands, the augmented ones are in place
OPERATORS = {
    "__getitem__": ix.getitem,
    "__setitem__": ip.setitem,
    "__add__": ew.add,
    "__radd__": _reflect(ew.add),
    "__sub__": ew.sub,
    "__rsub__": _reflect(ew.sub),
    "__mul__": ew.mul,
    "__rmul__": _reflect(ew.mul),
    "__truediv__": ew.div,
    "__rtruediv__": _reflect(ew.div),
    "__floordiv__": ew.floor_divide,
    "__rfloordiv__": _reflect(ew.floor_divide),
    "__mod__": ew.remainder,
    "__rmod__": _reflect(ew.remainder),
    "__pow__": ew.pow,
    "__rpow__": _reflect(ew.pow),
    "__matmul__": la.matmul,
    "__rmatmul__": _reflect(la.matmul),
    "__neg__": ew.neg,
    "__pos__": lambda self: self,
    "__abs__": ew.abs,
    "__invert__": ew.invert,
    "__and__": ew.bitwise_and,
    "__or__": ew.bitwise_or,
    "__xor__": ew.bitwise_xor,
    "__rand__": _reflect(ew.bitwise_and),
    "__ror__": _reflect(ew.bitwise_or),
    "__rxor__": _reflect(ew.bitwise_xor),
    "__lshift__": integer.bitwise_left_shift,
    "__rshift__": integer.bitwise_right_shift,
    "__rlshift__": integer._rlshift,
    "__rrshift__": integer._rrshift,
    "__eq__": ew.eq,
    "__ne__": ew.ne,
    "__lt__": ew.lt,
    "__le__": ew.le,
    "__gt__": ew.gt,
    "__ge__": ew.ge,
    "__iadd__": _iop(METHODS["add_"]),
    "__isub__": _iop(METHODS["sub_"]),
    "__imul__": _iop(METHODS["mul_"]),
    "__itruediv__": _iop(METHODS["div_"]),
    "__ifloordiv__": _iop(METHODS["floor_divide_"]),
    "__imod__": _iop(METHODS["remainder_"]),
    "__ipow__": _iop(METHODS["pow_"]),
    "__ilshift__": METHODS["bitwise_left_shift_"],
    "__irshift__": METHODS["bitwise_right_shift_"],
}
METHODS.update(OPERATORS)

PROPERTIES = {
    "T": _T,
    "mT": _mT,
    "H": _H,
    "mH": _mH,
    "nbytes": tq.nbytes,
    "itemsize": tq.itemsize,
    "real": cx.real,
    "imag": cx.imag,
    "layout": ti.tensor_layout,
    **{name: lg._false for name in lg.NEVER},
}

for _name, _fn in METHODS.items():
    setattr(Tensor, _name, _fn)
for _name, _fn in PROPERTIES.items():
    setattr(Tensor, _name, property(_fn))
