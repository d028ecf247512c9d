"""Integer ops: gcd, lcm and the bit shifts (not differentiable: integer results)."""

from .. import _dtype
from .._tensor import Tensor
from ..backend import array_module
from . import elementwise as ew
from ._declare import declare
from .elementwise import _const, _tensor_pair


# --------------------------------------------------------------------------- bit shifts
def _shift(name, input, other):
    x, y = ew._operands(input, other)
    ref = x if isinstance(x, Tensor) else y
    if ref._data.dtype.kind not in "iub" or ref._data.dtype.kind == "b":
        raise NotImplementedError(
            f"\"{'lshift' if name == 'left_shift' else 'rshift'}_cpu\" not implemented for '{ref.dtype}'"
        )
    a = x._data if isinstance(x, Tensor) else x
    b = y._data if isinstance(y, Tensor) else y
    return Tensor._make(getattr(array_module(ref._data), name)(a, b).astype(ref._data.dtype, copy=False), None, False)


def bitwise_left_shift(input, other):
    """input << other (integer tensors)."""
    return _shift("left_shift", input, other)


def bitwise_right_shift(input, other):
    """input >> other, arithmetic for signed integers."""
    return _shift("right_shift", input, other)


def _rlshift(self, other):
    return bitwise_left_shift(other, self)


def _rrshift(self, other):
    return bitwise_right_shift(other, self)


# --------------------------------------------------------------------------- gcd, lcm
def _integer_op(name, input, other):
    from ..backend import array_module

    x, y = _tensor_pair(input, other)
    if x._data.dtype.kind not in "iu":
        raise RuntimeError(
            f"\"{name}_cpu\" not implemented for '{_dtype.from_np(x._data.dtype)}' ({name} takes integer tensors)"
        )
    a = x._data
    return _const(getattr(array_module(a), name)(a, y._data))


def gcd(input, other):
    """Greatest common divisor, elementwise (integer tensors; gcd(0, 0) = 0)."""
    return _integer_op("gcd", input, other)


def lcm(input, other):
    """Least common multiple, elementwise (integer tensors)."""
    return _integer_op("lcm", input, other)


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(bitwise_left_shift, method=True, inplace=True, out=True)
declare(bitwise_right_shift, method=True, inplace=True, out=True)
declare(gcd, method=True, inplace=True, torch_inplace=("gcd_",), out=True)
declare(lcm, method=True, inplace=True, torch_inplace=("lcm_",), out=True)
