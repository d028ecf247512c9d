"""How an in-place op is applied: ``apply_inplace`` and what it needs.

Each in-place op writes into the tensor's own storage and bumps its version counter, so a node
that saved the old value fails loudly at backward time instead of computing a wrong gradient.

When grad mode is on and the op must be recorded, the result is computed out of place from a
copy of the old value (the copy is what backward sees), written into the storage, and the
tensor is *rebased*: its ``grad_fn`` becomes the new node. In-place on a leaf that requires
grad is an error outside ``no_grad``, as in PyTorch. When nothing is recorded (the optimizer's
``p.add_(...)`` under ``no_grad``), NumPy's in-place ufuncs write directly, with no temporary.

The in-place form of most ops is derived from their declaration (``_declare.inplace_form``);
the ones written by hand sit beside their functional twin in the family file.
"""

import os
import sys

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ..autograd.grad_mode import _state
from ..autograd._forward_state import _fw, has_tangent as _has_tangent
from ..autograd._modes import switch as _switch
from ..autograd._vmap_state import _vm, level_of as _vm_level
from ..autograd import views
from ._registry import Op, apply
from .._compile.state import _cap


_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _where_called():
    """(file, line) of the user's code that called the in-place op (library frames skipped)."""
    f = sys._getframe(2)
    while f is not None and f.f_code.co_filename.startswith(_PKG_DIR):
        f = f.f_back
    return None if f is None else (f.f_code.co_filename, f.f_lineno)


def _bump(t):
    t._version_counter().bump(_where_called())
    if _cap.active:
        _cap.recorder.bump(t)


def _check_inplace(t, op):
    """The in-place ops that PyTorch refuses when they would be recorded."""
    if t.grad_fn is None and t._rg:
        raise RuntimeError(
            f"a leaf Variable that requires grad is being used in an in-place "
            f"operation ({op}_ on a tensor of shape {list(t._data.shape)}); wrap it "
            f"in `with torch.no_grad():` if this is an update of a parameter."
        )
    if t._base is not None:
        views.check_view_inplace(t, op)


def _check_cast(t, r, op):
    k_in, k_out = t._data.dtype.kind, r._data.dtype.kind
    rank = {"b": 0, "u": 1, "i": 1, "f": 2, "V": 2, "c": 3}
    if rank.get(k_out, 3) > rank.get(k_in, 3):
        raise RuntimeError(
            f"result type {_dtype.from_np(r._data.dtype)} can't be cast to the "
            f"desired output type {t.dtype} (in-place {op}_)"
        )


def _recording(t, others):
    if _switch.on:  # vmap or forward mode may be on (autograd/_modes.py)
        if _vm.active and _vm_level((t,) + tuple(others)):
            return True  # apply_inplace then writes through the batching rules
        if _fw.active and _dual_involved(t, others):
            return True  # apply_inplace then updates the tangent too
    if not _state.enabled:
        return False
    if t._rg:
        return True
    base = t._base
    if base is not None and base._rg:
        return True
    return any(isinstance(o, Tensor) and o._rg for o in others)


def apply_inplace(t, op, fn, *args, **kwargs):
    """``t = fn(t, *args)`` written into t's storage; records and rebases when grad is on."""
    if _switch.on:  # vmap or forward mode may be on (autograd/_modes.py)
        if _vm.active and _vm_level((t,) + args):
            return _vm.inplace(t, op, fn, args, kwargs)
        if _fw.active and _dual_involved(t, args):
            return _fw.inplace(t, op, fn, args, kwargs)  # forward_ad.inplace
    if _recording(t, args):
        _check_inplace(t, op)
        r = fn(_old_value(t), *args, **kwargs)
        _check_cast(t, r, op)
        _write(t, r, op)
        _bump(t)
        if r.grad_fn is not None:
            _rebase(t, r)
        return t
    with _no_grad():
        r = fn(t, *args, **kwargs)
    _check_cast(t, r, op)
    _write(t, r, op)
    _bump(t)
    return t


def _dual_involved(t, others):
    """Whether an in-place op on ``t`` involves a forward-mode tangent (of t, its base, or another
    operand)."""
    base = t._base
    return t._fw_grad is not None or (base is not None and base._fw_grad is not None) or _has_tangent(others)


def _old_value(t):
    """A copy of t's values with t's history: what the recorded op reads (and may save), since
    t's own storage is about to be overwritten. No node is recorded for the copy."""
    data = _cap.recorder.call(_copy, (t._data,), "copy") if _cap.active else t._data.copy()
    old = Tensor._make(data, t.grad_fn, t._rg)
    if t._out_nr:
        old._out_nr = t._out_nr
    return old


def _copy(a):
    return a.copy()


def _assign(dst, src):
    dst[...] = src


def write(t, value, label):
    """``t._data[...] = value`` (an array or a Python number), a write with nothing for autograd
    to record (``zero_``, ``fill_``, ``copy_`` under ``no_grad``, the random fills). While a
    compiled function's first call records, the write is a kernel of the schedule, so every
    replay writes the current values."""
    if _cap.active:
        _cap.recorder.call(_assign, (t._data, value), label, keep=False)
    else:
        t._data[...] = value


def _ufunc_into(ufunc, a, o):
    ufunc(a, o, out=a, casting="same_kind")


def _overlap_error(t):
    return RuntimeError(
        f"unsupported operation: more than one element of the written-to tensor "
        f"(shape {list(t._data.shape)}, strides {list(t.stride())}) refers to a "
        f"single memory location. Please clone() the tensor before performing the "
        f"operation."
    )


def _write(t, r, op="in-place op"):
    if r._data.shape != t._data.shape:
        try:
            bshape = np.broadcast_shapes(r._data.shape, t._data.shape)
        except ValueError:
            bshape = None
        if bshape != t._data.shape:
            raise RuntimeError(
                f"output with shape {list(t._data.shape)} doesn't match the broadcast "
                f"shape {list(bshape or r._data.shape)} (in-place {op}_)"
            )
    try:
        if _cap.active:
            _cap.recorder.call(_assign, (t._data, r._data), op + "_", keep=False)
        else:
            t._data[...] = r._data
    except ValueError:
        if not t._data.flags.writeable:
            raise _overlap_error(t) from None
        raise


def _rebase(t, r):
    """Make ``t`` the output of ``r``'s node (t's old history is reached through that node)."""
    if t._base is not None:
        views.rebase_view(t, r)
        return
    views.set_history(t, r.grad_fn, r._out_nr)
    if t._vc.views:
        views.refresh_views(t)


class _no_grad:
    def __enter__(self):
        self.prev = _state.enabled
        _state.enabled = False

    def __exit__(self, *exc):
        _state.enabled = self.prev


def _ufunc_inplace(t, ufunc, other, op):
    """Fast path with nothing to record: NumPy writes straight into t's storage."""
    o = other._data if isinstance(other, Tensor) else other
    try:
        if _cap.active:
            _cap.recorder.call(_ufunc_into, (ufunc, t._data, o), op + "_", keep=False)
        else:
            ufunc(t._data, o, out=t._data, casting="same_kind")
    except (TypeError, np._core._exceptions._UFuncOutputCastingError if hasattr(np, "_core") else TypeError) as e:
        raise RuntimeError(
            f"result type of in-place {op}_ can't be cast to the desired output type {t.dtype}: {e}"
        ) from None
    except ValueError:
        if not t._data.flags.writeable:
            raise _overlap_error(t) from None
        raise RuntimeError(
            f"output with shape {list(t._data.shape)} doesn't match the broadcast shape "
            f"of the in-place {op}_ (other has shape "
            f"{list(np.shape(o))})"
        ) from None
    _bump(t)
    return t


def _replace_fwd(xp, x, values):
    return values.astype(x.dtype, copy=False)


def _replace_vjp(g, values):
    return g * 0


def valued_inplace(name, fn, arity):
    """In-place comparison or logical op: ``self`` takes the (0/1) values of ``fn``, cast to its
    dtype. The result does not depend smoothly on the old values, so their gradient is zero;
    the node keeps that explicit (the old history must not receive the new values' gradient)."""
    node = Op(
        name, _replace_fwd, _replace_vjp, node_name="".join(p.capitalize() for p in name.split("_")) + "Backward0"
    )

    def replaced(t, *others):
        values = fn(t, *others)._data
        return apply(node, (t,), (values,))

    if arity == 1:

        def op(self):
            return apply_inplace(self, name, replaced)
    else:

        def op(self, other):
            return apply_inplace(self, name, replaced, other)

    op.__name__ = name + "_"
    op.__doc__ = f"In-place {name}: self takes the values of {name}(self{', other' if arity == 2 else ''})."
    return op


def _restride_(self, op, fn, *args):
    """``squeeze_``, ``t_``, ...: this tensor becomes the view ``fn(self, *args)`` of itself.

    The storage is unchanged; the tensor's array, history and version change (a node that saved
    the old shape fails loudly, as for any in-place op). Refused, as in PyTorch, on a leaf that
    requires grad and on views of one."""
    if _recording(self, ()):
        _check_inplace(self, op)
    r = fn(self, *args)
    self._data = r._data
    if r._fw_grad is not None:
        self._fw_grad = r._fw_grad  # forward mode: the tangent is restrided alike
    if r.grad_fn is not None:
        views.set_history(self, r.grad_fn, r._out_nr)
    _bump(self)
    return self
