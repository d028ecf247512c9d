"""dtype objects and PyTorch's type-promotion rules.

A ``dtype`` wraps a NumPy dtype. Promotion follows PyTorch: operands are ranked
dimensioned tensors > zero-dim tensors > Python scalars, and a lower-ranked operand only
changes the result when it is of a higher *category* (bool < integer < floating < complex);
a complex operand meeting a floating one keeps the floating one's precision (float64 with a
complex64 scalar is complex128). A Python
float meeting an integer tensor gives the default float dtype (float32), not float64.

bfloat16 and the float8 types hold their arrays in the NumPy dtypes of the ``ml_dtypes`` package,
whose NumPy ``kind`` is "V" (float8_e5m2's is "f"): code that asks whether an array is floating
tests ``kind in "fV"`` (retrograd never holds other "V" arrays), and code that asks whether it is
one of these types tests its ``char in "E45"`` (bfloat16, float8_e4m3fn, float8_e5m2).
``ml_dtypes`` is imported on the first use of one of these dtypes' ``np``, so that
``import retrograd`` does not pay for it.
"""

import builtins

import numpy as np


class dtype:
    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize", "_category")

    def __init__(self, name, np_dtype, category, itemsize=None):
        self.name = name
        self.is_floating_point = category == 2
        self._category = category  # 0 bool, 1 integer, 2 floating, 3 complex
        if np_dtype is None:  # an ml_dtypes type: ``np`` is filled on first use (__getattr__)
            self.is_signed, self.itemsize = True, itemsize
        else:
            self.np = np.dtype(np_dtype)
            self.is_signed = self.np.kind in "fic"
            self.itemsize = self.np.itemsize

    def __getattr__(self, attr):
        # reached only while a lazy dtype's ``np`` slot is still unset
        if attr != "np" or self.name not in _LAZY:
            raise AttributeError(f"'retrograd.dtype' object has no attribute '{attr}'")
        import ml_dtypes

        npd = self.np = np.dtype(getattr(ml_dtypes, self.name))
        _FROM_NP[npd] = self
        return npd

    @property
    def is_complex(self):
        return self._category == 3

    def to_real(self):
        """The real dtype of the same precision (complex64 -> float32); itself when real."""
        return _TO_REAL.get(self, self)

    def to_complex(self):
        """The complex dtype of the same precision (float64 -> complex128); itself when complex.
        A RuntimeError for dtypes that have none (integers, bool, float16)."""
        if self._category == 3:
            return self
        try:
            return _TO_COMPLEX[self]
        except KeyError:
            raise RuntimeError(f"{self} has no complex counterpart in retrograd (complex32 is not supported)") from None

    def __repr__(self):
        return f"retrograd.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))


float16 = half = dtype("float16", np.float16, 2)
float32 = float = dtype("float32", np.float32, 2)
float64 = double = dtype("float64", np.float64, 2)
uint8 = dtype("uint8", np.uint8, 1)
int8 = dtype("int8", np.int8, 1)
int16 = short = dtype("int16", np.int16, 1)
int32 = int = dtype("int32", np.int32, 1)
int64 = long = dtype("int64", np.int64, 1)
bool = dtype("bool", np.bool_, 0)
complex64 = cfloat = dtype("complex64", np.complex64, 3)
complex128 = cdouble = dtype("complex128", np.complex128, 3)
_TO_REAL = {complex64: float32, complex128: float64}
_TO_COMPLEX = {float32: complex64, float64: complex128}
bfloat16 = dtype("bfloat16", None, 2, 2)
float8_e4m3fn = dtype("float8_e4m3fn", None, 2, 1)
float8_e5m2 = dtype("float8_e5m2", None, 2, 1)

_LAZY = ("bfloat16", "float8_e4m3fn", "float8_e5m2")
FLOAT8 = (float8_e4m3fn, float8_e5m2)
ALL = (
    float16,
    float32,
    float64,
    uint8,
    int8,
    int16,
    int32,
    int64,
    bool,
    complex64,
    complex128,
    bfloat16,
    float8_e4m3fn,
    float8_e5m2,
)
_FROM_NP = {d.np: d for d in ALL if d.name not in _LAZY}
_NAMES = {d.name: d for d in ALL}


def _by_name(name):
    return _NAMES[name]


class _Defaults:
    float_dtype = float32


_defaults = _Defaults()


def get_default_dtype():
    return _defaults.float_dtype


def set_default_dtype(d):
    d = to_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _defaults.float_dtype = d


def from_np(np_dtype):
    """The retrograd dtype of a NumPy dtype (TypeError for unsupported ones such as complex)."""
    try:
        return _FROM_NP[np_dtype]
    except KeyError:
        d = np.dtype(np_dtype)
        if d in _FROM_NP:
            return _FROM_NP[d]
        if d.name in _LAZY and _NAMES[d.name].np == d:
            return _NAMES[d.name]  # an ml_dtypes array met before its dtype's first use
        raise TypeError(f"retrograd does not support NumPy dtype {d}") from None


def to_dtype(d):
    """Accept a retrograd dtype, a NumPy dtype/type, a name, or Python's float/int/bool (as PyTorch does)."""
    if type(d) is dtype:
        return d
    if d is builtins.float:
        return float64
    if d is builtins.int:
        return int64
    if d is builtins.bool:
        return bool
    if d is builtins.complex:
        return complex128
    if isinstance(d, str):
        if d in _NAMES:
            return _NAMES[d]
        # NumPy would read "float" as float64 where torch.float is float32: refuse rather than guess
        raise TypeError(
            f"invalid dtype {d!r}: expected a dtype such as retrograd.float32 (or one of the names {sorted(_NAMES)})"
        )
    return from_np(np.dtype(d))


def to_np(d):
    return to_dtype(d).np


def promote_types(a, b):
    """Smallest dtype to which both ``a`` and ``b`` can be cast (PyTorch's promote_types).

    Unlike NumPy, a higher category wins outright: float32 with int64 is float32, not float64."""
    a, b = to_dtype(a), to_dtype(b)
    if a is b:
        return a
    if a in FLOAT8 or b in FLOAT8:
        raise RuntimeError(
            f"Promotion for Float8 Types is not supported, attempted to promote {a.name} and "
            f"{b.name}: convert one of them with .to() first"
        )
    if a._category != b._category:
        return _combine_categories(a, b) if a._category > b._category else _combine_categories(b, a)
    return from_np(np.promote_types(a.np, b.np))


def _combine_categories(higher, lower):
    """The result when ``higher``'s category wins: a complex one keeps a floating one's
    precision (complex64 with float64 is complex128)."""
    if higher._category == 3 and lower._category == 2:
        return from_np(np.promote_types(higher.np, lower.np))
    return higher


def _scalar_category(v):
    if isinstance(v, builtins.bool):
        return 0
    if isinstance(v, builtins.int):
        return 1
    if isinstance(v, builtins.complex):
        return 3
    return 2


def _category_default(cat):
    if cat == 3:
        return default_complex_dtype()
    return (bool, int64, _defaults.float_dtype)[cat]


def default_complex_dtype():
    """The complex dtype matching the default float dtype (complex64 for float32)."""
    return complex128 if _defaults.float_dtype is float64 else complex64


# The tensor classes result_type reads dtypes from: Tensor registers itself when it is defined
# (it sits above this module).
TENSOR_TYPES: tuple[type, ...] = ()


def result_type(*operands):
    """PyTorch's result dtype for an op over Tensors and Python scalars."""
    dim_d = zero_d = None
    scalar_cat = -1
    for o in operands:
        if isinstance(o, TENSOR_TYPES):
            d = _FROM_NP[o._data.dtype]
            if o._data.ndim:
                dim_d = d if dim_d is None else promote_types(dim_d, d)
            else:
                zero_d = d if zero_d is None else promote_types(zero_d, d)
        elif o is not None:
            scalar_cat = builtins.max(scalar_cat, _scalar_category(o))
    result = dim_d
    if zero_d is not None and (result is None or zero_d._category > result._category):
        if result is not None and zero_d._category == 3 and result._category == 2:
            # a 0-d complex operand makes a dimensioned floating one complex at its own
            # precision: float32 with a complex128 0-d tensor is complex64
            result = result.to_complex()
        else:
            result = zero_d if result is None else _combine_categories(zero_d, result)
    if scalar_cat >= 0 and (result is None or scalar_cat > result._category):
        if scalar_cat == 3 and result is not None and result._category == 2:
            result = result.to_complex()
        else:
            result = _category_default(scalar_cat)
    return result
