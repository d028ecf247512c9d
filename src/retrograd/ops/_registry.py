"""The op record and ``apply``, the one function that runs an op and records its graph node.

An ``Op`` pairs a forward on raw arrays with a backward (vjp) written in retrograd ops:

    forward(xp, *arrays, *args) -> out            (or (out, extra) when "extra" is saved)
    backward(g, *saved, *args)  -> grad or tuple of grads, one per input (None allowed)
    jvp(tangents, *saved, *args) -> the output's tangent (optional; forward-mode AD)

With ``needs=True`` the backward is called as ``backward(g, needs, *saved, *args)``, where
``needs[i]`` says whether input i wants a gradient, so costly unneeded gradients are skipped.
A view op (``is_view=True``) returns a tensor that shares storage and version counter with its
first input.

``save`` names what the backward needs, in order: "x", "y", "z", "w" (inputs 0-3), "out" (the
result) and "extra" (a second value returned by forward, such as a mask). ``used_by`` (optional,
one entry per saved input, in order) names the inputs whose gradient reads each saved input;
a saved input that only gradients not needed read is not version-checked (``needs=True`` ops
only), as PyTorch does not save it then; an empty entry: never checked (saved for its place in
the graph only, its values never read). Non-tensor arguments
(dims, flags) go in ``args`` and reach both sides unchanged. The engine, not the op, sums a
broadcast gradient down to each input's shape, and casts it to the input's dtype.

``jvp`` (forward mode, autograd/forward_ad.py) receives ``tangents``, one per input (a Tensor,
or None where that input has no tangent), then the same saved values and args as the backward
(the output as a Tensor), and returns the output's tangent written in retrograd ops (None for
zero). Three markers name common Jacobians instead of a rule: ``jvp=LINEAR`` (linear in the
tensor inputs taken together: the op applied to the tangents, so a view's tangent is the same
view of the tangent), ``jvp=MULTILINEAR`` (linear in each input: matmul) and
``jvp=ELEMENTWISE`` (a diagonal Jacobian: the backward applied to the tangents). An op
without ``jvp`` derives its tangent from its backward (``forward_ad.derived_jvp``). ``apply``
computes tangents only while forward mode's bit of its switch is set (autograd/_modes.py).
"""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._tensor import Tensor, make_tensor
from weakref import ref as _wref

from ..autograd.grad_mode import _state
from ..autograd._forward_state import _fw
from ..autograd._modes import META as _META, PROFILER as _PROFILER, set_mode as _set_mode, switch as _switch
from ..autograd._vmap_state import _vm
from ..autograd._forward_state import ELEMENTWISE, LINEAR, MULTILINEAR  # noqa: F401  (for the ops' jvp=)
from ..autograd.graph import OpNode, VersionCounter, _seq_counter, node_extras as _node_extras
from ..autograd.graph import prune_views as _prune_views
from ..backend import QUIET as _QUIET, array_module, quiet_float_warnings
from ..backend import meta as _meta

if TYPE_CHECKING:
    from ..autograd.graph import Edge

_SAVE_CODES = {"x": 0, "y": 1, "z": 2, "w": 3, "out": -1, "extra": -2}
_ndarray = np.ndarray
_np_generic = np.generic
_new = object.__new__
_next_seq = _seq_counter.__next__


# Ops whose forward handles bfloat16/float8 arrays as they are: casts and device moves (others
# go through low_precision_forward, as do all but views).
_NATIVE_OPS = frozenset(("_to_copy", "to_device"))

# How an op reads a Python number operand against a float16 or bfloat16 tensor (Op's
# ``scalars``). PyTorch's CPU kernels compute these dtypes in float32 and round once, but the
# number reaches the kernel in one of two ways:
#   ROUND: rounded to the tensor's dtype first (add, sub, fmod, remainder, pow: x + 0.3 in
#          bfloat16 adds 0.30078125);
#   OPMATH: kept in float32 when it is the second operand (mul, div, floor division: x * 0.3
#           multiplies by float32(0.3)), rounded as for ROUND when it is the first (0.3 // x).
# NumPy's float16 ufuncs round a Python number to float16 (ROUND) on their own; an OPMATH op's
# float16 arrays are widened to float32 like bfloat16's. Ops with neither read the number as
# NumPy does.
ROUND = "round"
OPMATH = "opmath"


class Op:
    __slots__ = (
        "name",
        "forward",
        "backward",
        "save",
        "node_name",
        "needs",
        "is_view",
        "_codes",
        "_has_extra",
        "_saves_out",
        "_save_kind",
        "_native",
        "_low",
        "scalars",
        "jvp",
        "_used_by",
        "_unread",
        "namer",
    )
    name: str
    forward: Callable[..., Any]  # forward(xp, *arrays, *args) -> array (or (array, extra))
    backward: Callable[..., Any]  # backward(g, [needs,] *saved, *args) -> grad or tuple of grads
    jvp: Callable[..., Any] | None  # jvp(tangents, *saved, *args) -> tangent; None: derived
    save: tuple[str, ...]
    node_name: str
    needs: bool
    is_view: bool
    _codes: tuple[int, ...]  # save as _SAVE_CODES
    _has_extra: bool
    _saves_out: bool
    _save_kind: int
    _native: bool  # runs on bfloat16 arrays as they are (views, casts, moves)
    _low: str  # dtype chars of the arrays widened to float32 by low_precision_forward
    scalars: str | None  # ROUND, OPMATH or None: how a Python number operand is read
    _used_by: tuple[tuple[int, tuple[int, ...]], ...] | None  # per saved input: its place, its readers
    _unread: bool  # some saved input is read by no gradient (kept for its place in the graph only)

    def __init__(
        self,
        name: str,
        forward: Callable[..., Any],
        backward: Callable[..., Any],
        save: Iterable[str] = (),
        node_name: str | None = None,
        needs: bool = False,
        is_view: bool = False,
        jvp: Callable[..., Any] | None = None,
        used_by: Iterable[Iterable[int]] | None = None,
        namer: Callable[[tuple[Any, ...]], str] | None = None,
        scalars: str | None = None,
    ) -> None:
        self.name = name
        self.jvp = jvp
        self.forward = forward
        self.backward = backward
        self.save = tuple(save)
        self.needs = needs
        self.is_view = is_view
        self.node_name = node_name or "".join(p.capitalize() for p in name.split("_")) + "Backward0"
        # the node's name from its args, where one op stands for several of PyTorch's nodes;
        # called only when the name is read (OpNode.name), never on the op's path
        self.namer = namer
        self._codes = tuple(_SAVE_CODES[s] for s in self.save)
        self._has_extra = "extra" in self.save
        self._saves_out = "out" in self.save
        # 0: nothing saved, 1: only input x, 2: only the output, 3: anything else
        self._save_kind = 0 if not self._codes else 1 if self._codes == (0,) else 2 if self._codes == (-1,) else 3
        self._native = is_view or name in _NATIVE_OPS
        if scalars not in (None, ROUND, OPMATH):
            raise ValueError(f"Op {name}: scalars must be None, {ROUND!r} or {OPMATH!r}, not {scalars!r}")
        self.scalars = scalars
        # bfloat16 and float8 ("E45"), and float16 ("e") for OPMATH ops; nothing for native ops
        self._low = "" if self._native else "E45e" if scalars == OPMATH else "E45"
        self._used_by = None
        self._unread = False
        if used_by is not None:  # as (place in save, readers) per saved input
            places = [k for k, c in enumerate(self._codes) if c >= 0]
            self._used_by = tuple(zip(places, (tuple(u) for u in used_by), strict=True))
            self._unread = any(not u for _, u in self._used_by)

    def __repr__(self) -> str:
        return f"Op({self.name})"


# The profiler's observer (retrograd.profiler), set while it records: apply hands every op to
# it, and it runs the op (through apply again, with ``_state.observing`` set) between its clock
# readings. A compiled function's first call records its ops through the same hook
# (_compile/capture.py).
_observer: Callable[[Op, Sequence[Any], tuple[Any, ...]], Tensor] | None = None


def set_op_observer(observer: Callable[[Op, Sequence[Any], tuple[Any, ...]], Tensor] | None) -> None:
    """Route every op through ``observer(op, inputs, args)`` (None: stop)."""
    global _observer
    _observer = observer
    _set_mode(_PROFILER, observer is not None)


def apply(op: Op, inputs: Sequence[Any], args: tuple[Any, ...] = ()) -> Tensor:
    """Run ``op`` on ``inputs`` (Tensors, or Python scalars where the op allows) and record a
    node when grad mode is on and some input requires grad. Returns the output Tensor.

    Modes (vmap, the profiler, forward mode, anomaly mode and saved tensor hooks) cost the
    plain path one read of ``_switch.on`` (autograd/_modes.py); while one is on, ``_divert``
    runs before the op and ``_after`` after it."""
    modes = _switch.on
    if modes:
        diverted = _divert(op, inputs, args)
        if diverted is not None:
            return diverted
    filters = _warnings.filters
    if not filters or filters[0] is not _QUIET[0]:  # NumPy's float warnings stay silenced
        quiet_float_warnings()
    # NumPy reports a broadcast mismatch as ValueError and a failed allocation as MemoryError;
    # PyTorch raises RuntimeError for both. The try costs nothing until something is raised.
    arrays: Sequence[Any]
    try:
        if len(inputs) == 1:
            x = inputs[0]
            a = x._data
            if a.itemsize < 4 and a.dtype.char in op._low:  # bfloat16, float8 (see Op._low)
                out = low_precision_forward(op, (a,), args)
            else:
                out = op.forward(np if type(a) is _ndarray else array_module(a), a, *args)
            recording = x._rg and _state.enabled
        elif len(inputs) == 2 and type(inputs[0]) is Tensor and type(inputs[1]) is Tensor:
            x, y = inputs
            a = x._data
            arrays = (a, y._data)
            # the first operand decides: binary ops promote both to one dtype, and the others
            # (indices first, values second) move values without arithmetic
            if a.itemsize < 4 and a.dtype.char in op._low:
                out = low_precision_forward(op, arrays, args)
            else:
                out = op.forward(np if type(a) is _ndarray else array_module(a), a, arrays[1], *args)
            recording = (x._rg or y._rg) and _state.enabled
        else:
            # one pass over the inputs: their arrays, whether one is bfloat16/float8, whether
            # one requires grad
            arrays = []
            low = recording = False
            for t in inputs:
                if isinstance(t, Tensor):
                    recording = recording or t._rg
                    t = t._data
                    if t.itemsize < 4 and t.dtype.char in op._low:
                        low = True
                arrays.append(t)
            a = arrays[0] if isinstance(inputs[0], Tensor) else arrays[1]
            if low:
                out = low_precision_forward(op, arrays, args)
            else:
                out = op.forward(np if type(a) is _ndarray else array_module(a), *arrays, *args)
            recording = recording and _state.enabled
    except (ValueError, MemoryError) as e:
        err = _forward_error(op, inputs, e)
        if err is None:
            raise
        raise err from None
    if op._has_extra:
        out, extra = out
    if type(out) is not _ndarray and isinstance(out, _np_generic):
        out = np.asarray(out)  # NumPy returns scalars from 0-d arithmetic
    if not recording:
        result = make_tensor(out, None, False)
        if op.is_view:
            _link_view(result, inputs[0])
        if modes:
            _after(op, inputs, args, result, extra if op._has_extra else None)
        return result
    # autograd through complex tensors only for the ops whose backward is right for them
    if len(inputs) == 1:
        dtype = a.dtype
        if (type(dtype) in _COMPLEX_DTYPES or type(out.dtype) in _COMPLEX_DTYPES) and op not in COMPLEX_AUTOGRAD:
            _refuse_complex(op, inputs)
        fn = x.grad_fn
        # OpNode's fields set here rather than through __init__: this is the hottest path
        node = _new(OpNode)
        node._next = ((fn, x._out_nr) if fn is not None else (x._grad_accumulator(), 0),)
        node._seq = _next_seq()
        node.op = op
        node.args = args
        node._in_shapes = (a.shape,)
        node._in_dtypes = (dtype,)
    else:
        if (type(out.dtype) in _COMPLEX_DTYPES or _complex_input(inputs, arrays)) and op not in COMPLEX_AUTOGRAD:
            _refuse_complex(op, inputs)
        edges = tuple([_edge(t) for t in inputs])
        node = OpNode(
            op,
            edges,
            args,
            tuple([arr.shape if e is not None else None for arr, e in zip(arrays, edges)]),
            tuple([arr.dtype if e is not None else None for arr, e in zip(arrays, edges)]),
        )
    result = make_tensor(out, node, True)
    kind = op._save_kind
    if kind == 1 and len(inputs) == 1:  # common cases first: only x, or only the output
        vc = x._vc
        node._saved = (x,)
        node._versions = (0 if vc is None else vc.value,)
    elif kind == 2:
        node._saved = (out,)
        node._versions = (None,)
        node._out_vc = result._vc = VersionCounter()
    elif kind:
        _save(node, op._codes, inputs, out, result, extra if op._has_extra else None)
        if op._used_by is not None:
            if op._unread:
                _unneeded_saves(node, op._used_by, inputs)
            else:
                for t in inputs:  # all inputs requiring grad (the common case): every save is read
                    if not isinstance(t, Tensor) or not t._rg:
                        _unneeded_saves(node, op._used_by, inputs)
                        break
    else:
        node._saved = ()
    if op.is_view:
        _link_view(result, inputs[0])
    if modes:
        _after(op, inputs, args, result, extra if op._has_extra else None)
    return result


def _divert(op: Op, inputs: Sequence[Any], args: tuple[Any, ...]) -> Tensor | None:
    """The modes that run instead of the op: vmap hands batched inputs to the op's batching
    rule, and the profiler runs the op between its clock readings (through apply again, which
    then goes on to the op). None: go on to run the op."""
    if _vm.active:
        batched = _vm.dispatch(op, inputs, args)
        if batched is not None:
            return batched
    if _observer is not None and not _state.observing:
        return _observer(op, inputs, args)
    if _switch.on & _META:
        for t in inputs:
            if isinstance(t, Tensor) and type(t._data) is _MetaArray:
                return _meta_apply(op, inputs, args)
    return None


_MetaArray = _meta.MetaArray
# Ops whose result's shape depends on the values of their input: PyTorch has no meta kernel for
# them (NotImplementedError), and a forward run on zeros would give a wrong shape.
_VALUE_SHAPED = frozenset(
    ("nonzero", "unique", "unique_consecutive", "masked_select", "bincount", "histc", "repeat_interleave_counts")
)


# One-input ops whose forward is written with array methods that MetaArray computes from the
# layout alone (``astype``, ``copy``, ``transpose``): they run on the MetaArray itself, with no
# array of the input's size made (casting a large meta model stays free). The device move runs
# so too: cpu to meta keeps the layout, meta to cpu fails.
_ON_META_ARRAYS = frozenset(("_to_copy", "clone", "to_device"))


def _meta_apply(op: Op, inputs: Sequence[Any], args: tuple[Any, ...]) -> Tensor:
    """``op`` on meta tensors: only the result's layout is computed (backend/meta.py). Each meta
    input is replaced by a zero-filled stand-in of its layout and the op's forward runs on it;
    the result becomes a MetaArray with the forward's shape, dtype and strides. A view's
    storage offset is read from where it lies in its input's buffer. The node is recorded as
    ``apply`` records it, so backward through meta tensors gives meta gradients."""
    if op.name in _VALUE_SHAPED:
        raise NotImplementedError(
            f"{op.name}: the shape of its result depends on the values of its input, which a meta "
            f"tensor does not have (input shapes {[list(t.shape) for t in inputs if isinstance(t, Tensor)]})"
        )
    _check_meta_devices(op, inputs)
    filters = _warnings.filters
    if not filters or filters[0] is not _QUIET[0]:  # zeros over zeros: NumPy's warnings stay silenced
        quiet_float_warnings()
    stand_ins: dict[int, Any] = {}
    if op.name in _ON_META_ARRAYS:
        out = op.forward(np, inputs[0]._data, *args)
    else:
        try:
            out = _meta_forward(op, inputs, args, stand_ins)
        except (ValueError, MemoryError) as e:
            err = _forward_error(op, inputs, e)
            if err is None:
                raise
            if isinstance(e, MemoryError) or "too big" in str(e) or "Maximum allowed size" in str(e):
                err = RuntimeError(
                    f"{op.name} on meta tensors: the layout of a result is computed by running the "
                    f"op on zero arrays of its inputs' layouts, and those for input shapes "
                    f"{[list(t.shape) for t in inputs if isinstance(t, Tensor)]} do not fit in memory ({e})"
                )
            raise err from None
    extra = None
    if op._has_extra:
        out, extra = out
    if type(out) is not _MetaArray:
        out = np.asarray(out)
        base = stand_ins.get(id(inputs[0])) if op.is_view else None
        if base is not None:
            offset = (out.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // out.itemsize
            out = _MetaArray(out.shape, out.dtype, out.strides, inputs[0]._data.offset + offset)
        else:
            out = _meta.like(out)
    recording = _state.enabled and any(isinstance(t, Tensor) and t._rg for t in inputs)
    if not recording:
        result = make_tensor(out, None, False)
    else:
        edges = tuple([_edge(t) for t in inputs])
        shapes = tuple([t._data.shape if e is not None else None for t, e in zip(inputs, edges)])
        dtypes = tuple([t._data.dtype if e is not None else None for t, e in zip(inputs, edges)])
        node = MetaOpNode(op, edges, args, shapes, dtypes)
        result = make_tensor(out, node, True)
        if op._codes:
            _save(node, op._codes, inputs, out, result, extra)
        else:
            node._saved = ()
    if op.is_view:
        _link_view(result, inputs[0])
    _after(op, inputs, args, result, extra)
    return result


class MetaOpNode(OpNode):
    """The node of an op run on meta tensors. Its gradients are meta tensors of its inputs'
    shapes and dtypes, made with no arithmetic (backwards written on raw arrays, as the fused
    ones, have no meta path). Under ``create_graph`` the op's own backward runs, to be
    differentiated again."""

    __slots__ = ()

    def _apply(self, grads: list[Any], retain: bool) -> tuple[Any, ...]:
        if _state.enabled or grads[0] is None:
            return OpNode._apply(self, grads, retain)
        if not retain:
            self._release()
        return tuple(
            [
                None if e is None else make_tensor(_MetaArray(shape, dtype), None, False)
                for e, shape, dtype in zip(self._next, self._in_shapes, self._in_dtypes)
            ]
        )


def _meta_forward(op: Op, inputs: Sequence[Any], args: tuple[Any, ...], stand_ins: dict[int, Any]) -> Any:
    """``op``'s forward on stand-ins of the meta inputs (recorded in ``stand_ins`` by the
    input's id) and on the other inputs as they are."""
    arrays: list[Any] = []
    low = False
    for t in inputs:
        if isinstance(t, Tensor):
            a = t._data
            if type(a) is _MetaArray:
                a = stand_ins[id(t)] = _meta.stand_in(a)
            low = low or a.dtype.char in op._low
            arrays.append(a)
        else:
            arrays.append(t)
    plain_args = _meta._stand_ins(args)  # index arrays made from meta tensors
    if low:
        return low_precision_forward(op, arrays, plain_args)
    return op.forward(np, *arrays, *plain_args)


def _check_meta_devices(op: Op, inputs: Sequence[Any]) -> None:
    """Every tensor operand of an op with a meta input must be on meta, but for a 0-d cpu tensor
    (a scalar, allowed with any device as in PyTorch): RuntimeError otherwise, in PyTorch's
    words (the first tensor's device is the expected one)."""
    expected = None
    for t in inputs:
        if not isinstance(t, Tensor):
            continue
        meta = type(t._data) is _MetaArray
        if not meta and t._data.ndim == 0 and t.device.type == "cpu":
            continue
        dev = "meta" if meta else str(t.device)
        if expected is None:
            expected = dev
        elif dev != expected:
            raise RuntimeError(
                f"Tensor on device {dev} is not on the expected device {expected}! ({op.name} of "
                f"tensors of shapes {[list(t.shape) for t in inputs if isinstance(t, Tensor)]})"
            )


def _after(op: Op, inputs: Sequence[Any], args: tuple[Any, ...], result: Tensor, extra: Any) -> None:
    """The modes that work on the op's result: a new node gets its anomaly trace and has its
    saved tensors packed by the saved tensor hooks; in forward mode the result gets its
    tangent."""
    node = result.grad_fn
    if _state.node_extras and isinstance(node, OpNode):
        _node_extras(node)
    if _fw.active:
        _fw.propagate(op, inputs, args, result, extra)


# Ops whose backward is right for complex tensors (PyTorch's convention: the gradient of a real
# loss is dL/d(re) + i dL/d(im)); the families add theirs (ops/complex.py lists the linear ones).
# Recording any other op on a complex tensor is refused rather than given a wrong gradient.
COMPLEX_AUTOGRAD: set[Op] = set()
# the checks compare dtype classes: cheaper than reading dtype.kind on the recording path
_COMPLEX_DTYPES = (type(np.dtype(np.complex64)), type(np.dtype(np.complex128)))


def _complex_input(inputs: Sequence[Any], arrays: Sequence[Any]) -> bool:
    """Whether a tensor among ``inputs`` (whose arrays, or scalars, are ``arrays``) is complex."""
    for t, arr in zip(inputs, arrays):
        if isinstance(t, Tensor) and type(arr.dtype) in _COMPLEX_DTYPES:
            return True
    return False


def _refuse_complex(op: Op, inputs: Sequence[Any]) -> None:
    shapes = ", ".join(f"{list(t.shape)} {t.dtype}" for t in inputs if isinstance(t, Tensor))
    raise NotImplementedError(
        f"{op.name}: autograd through complex tensors is not supported for this op "
        f"yet (inputs {shapes}); supported: the torch.fft functions, real, imag, "
        f"abs, angle, conj, view_as_real, view_as_complex, complex, polar, matmul, "
        f"linalg.solve, linalg.eig, linalg.eigvals, add, "
        f"sub, neg, mul, div, sum, mean, cat, stack, indexing and shape ops. "
        f"Compute it under torch.no_grad(), or split into real and imaginary parts"
    )


# Ops that may meet float8 tensors: they move values without arithmetic (PyTorch has no float8
# arithmetic on the CPU and raises NotImplementedError for the rest).
_FLOAT8_OPS = frozenset(
    (
        "clone",
        "cat",
        "flip",
        "roll",
        "getitem",
        "index",
        "gather",
        "scatter",
        "index_put",
        "tril",
        "triu",
        "diagonal",
        "stack",
        "where",
        "masked_fill",
        "index_select",
        "repeat",
    )
)


# Decompositions PyTorch's CPU has no bfloat16 kernels for (it raises NotImplementedError or
# RuntimeError, which NotImplementedError subclasses)
_NO_LOW_KERNELS = frozenset(
    (
        "linalg_inv",
        "linalg_det",
        "linalg_slogdet",
        "linalg_solve",
        "linalg_solve_triangular",
        "linalg_cholesky",
        "linalg_qr",
        "linalg_eigh",
        "linalg_svd",
    )
)


def low_precision_forward(op: Op, arrays: Sequence[Any], args: tuple[Any, ...]) -> Any:
    """``op``'s forward on bfloat16 (or float8) arrays, which NumPy has few kernels for: the
    inputs widened to float32, the op run once, a float32 result rounded back to the inputs'
    dtype. PyTorch's CPU kernels compute these dtypes in float32 the same way (sums and
    products accumulate in float32, one rounding at the end). When a float input of another
    dtype takes part (the op does not promote), the float32 result is kept.

    An OPMATH op's float16 arrays are widened the same way, so that a Python number operand
    stays in float32; a ROUND op's Python number operands (among the inputs and args) are
    rounded to the narrow dtype first (see ROUND and OPMATH)."""
    low = None
    other_float = False
    wide = []
    chars = op._low
    for a in arrays:
        d = getattr(a, "dtype", None)
        if d is not None and d.char in chars:
            low = d
            a = a.astype(np.float32)
        elif d is not None and d.kind == "f":
            other_float = True
        wide.append(a)
    if low is not None and low.itemsize == 1 and op.name not in _FLOAT8_OPS:
        raise NotImplementedError(
            f"{op.name}: not implemented for '{low.name}' tensors (float8 types hold "
            f"values only, as in PyTorch); convert with .float() first"
        )
    if op.name in _NO_LOW_KERNELS:
        raise NotImplementedError(
            f"{op.name}: not implemented for '{getattr(low, 'name', low)}' tensors (as in "
            f"PyTorch, which has no such CPU kernel); convert with .float() first"
        )
    if op.scalars == ROUND and low is not None:
        wide = [_rounded(v, low) for v in wide]
        args = tuple(_rounded(v, low) for v in args)
    elif op.scalars == OPMATH and low is not None and not hasattr(wide[0], "dtype"):
        wide[0] = _rounded(wide[0], low)  # a number as the first operand is rounded (see OPMATH)
    ref = wide[0] if hasattr(wide[0], "dtype") else wide[1]
    out = op.forward(np if type(ref) is _ndarray else array_module(ref), *wide, *args)
    if other_float or low is None:
        return out
    if op._has_extra:
        first, extra = out
        return _narrow(first, low), extra
    return _narrow(out, low)


def _rounded(v: Any, low: Any) -> Any:
    """A Python int or float ``v`` rounded to the NumPy dtype ``low`` (as a Python float);
    anything else as it is."""
    if type(v) is float or type(v) is int:
        return float(low.type(v))
    return v


def _narrow(out: Any, low: Any) -> Any:
    if getattr(out, "dtype", None) == np.float32:
        return out.astype(low)
    return out


_BROADCAST_MESSAGES = (
    "operands could not be broadcast",
    "shape mismatch: objects cannot be broadcast",
    "could not broadcast",
)


def _forward_error(op: Op, inputs: Sequence[Any], e: Exception) -> RuntimeError | None:
    """The RuntimeError PyTorch would raise for an error NumPy raised in ``op``'s forward: a
    broadcast mismatch between the inputs or a failed allocation. None for any other error."""
    if isinstance(e, MemoryError) or str(e).startswith(("array is too big", "Maximum allowed size")):
        listed = ", ".join(str(list(t.shape)) for t in inputs if isinstance(t, Tensor))
        why = "not enough memory" if isinstance(e, MemoryError) else "storage size calculation overflowed"
        return RuntimeError(f"{op.name}: {why} for the result (inputs of shapes {listed}): {e}")
    return broadcast_error(op.name, inputs, e)


def broadcast_error(name: str, operands: Sequence[Any], e: Exception) -> RuntimeError | None:
    """A RuntimeError naming op ``name`` and the shapes of ``operands`` (Tensors, arrays or
    scalars) for NumPy's broadcast ValueError ``e``; None when ``e`` is some other error."""
    if not str(e).startswith(_BROADCAST_MESSAGES):
        return None
    shapes = [tuple(getattr(t, "shape", ())) for t in operands]
    listed = ", ".join(str(list(s)) for s in shapes)
    why = broadcast_mismatch(shapes) or f"the shapes cannot be broadcast together ({e})"
    return RuntimeError(f"{name}: {why} (input shapes {listed})")


def broadcast_mismatch(shapes: Sequence[Sequence[int]]) -> str | None:
    """PyTorch's wording for the first dimension, counted from the right, where ``shapes``
    cannot broadcast (tensors named a, b, c... by position); None when they broadcast."""
    for back in range(1, max(len(s) for s in shapes) + 1):
        sizes = [(i, s[-back]) for i, s in enumerate(shapes) if len(s) >= back and s[-back] != 1]
        for i, n in sizes[1:]:
            (j, m) = sizes[0]
            if n != m:
                dim = max(len(s) for s in shapes) - back
                return (
                    f"the size of tensor {chr(97 + j)} ({m}) must match the size of tensor "
                    f"{chr(97 + i)} ({n}) at non-singleton dimension {dim}"
                )
    return None


def _save(node: OpNode, codes: tuple[int, ...], inputs: Sequence[Any], out: Any, result: Tensor, extra: Any) -> None:
    """Record what the op's backward needs: inputs by identity (with their versions), the
    output as its array plus a fresh version counter shared with the result, and any extra."""
    saved: list[Any] = []
    versions: list[int | None] = []
    for c in codes:
        if c >= 0:
            t = inputs[c]
            saved.append(t)
            if isinstance(t, Tensor):
                vc = t._vc
                versions.append(0 if vc is None else vc.value)
            else:
                versions.append(None)
        elif c == -1:
            saved.append(out)
            versions.append(None)
            vc = node._out_vc = VersionCounter()
            result._vc = vc
        else:
            saved.append(extra)
            versions.append(None)
    node._saved = saved
    node._versions = versions


def _unneeded_saves(node: OpNode, used_by: tuple[tuple[int, tuple[int, ...]], ...], inputs: Sequence[Any]) -> None:
    """Drop the version check of each saved input that only the gradients of inputs not
    requiring grad read (``Op.used_by``): as PyTorch saves ``x`` of ``x * y`` only when ``y``
    requires grad, modifying ``x`` in place before backward is then no error, and the backward
    (called with those gradients not needed) never reads it."""
    versions = node._versions
    for place, readers in used_by:
        for j in readers:
            t = inputs[j]
            if isinstance(t, Tensor) and t._rg:
                break
        else:
            versions[place] = None  # type: ignore[index]


def _link_view(view: Tensor, base: Tensor) -> None:
    """A view shares its base's storage, so it shares its version counter too. Views made in
    grad mode are tracked (weakly) so that an in-place op can regenerate their history
    (autograd/views.py); views of a leaf that requires grad never need it (in-place on such a
    leaf, or through its views, is refused)."""
    vc = base._vc
    if vc is None:
        vc = base._vc = VersionCounter()
    view._vc = vc
    root = base._base
    if root is None:
        root = base
    view._base = root
    if _state.enabled and (root.grad_fn is not None or not root._rg):
        views = vc.views
        if views is None:
            vc.views = [_wref(view)]
        else:
            views.append(_wref(view))
            if not len(views) & 63:
                _prune_views(views)


def _edge(t: Any) -> Edge | None:
    if not isinstance(t, Tensor) or not t._rg:
        return None
    fn = t.grad_fn
    if fn is not None:
        return (fn, t._out_nr)
    return (t._grad_accumulator(), 0)
