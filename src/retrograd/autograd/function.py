"""Custom differentiable operations: ``autograd.Function``.

A subclass defines ``forward`` and ``backward`` as static methods::

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):              # runs with grad disabled
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad_y):        # runs with grad enabled iff create_graph
            (y,) = ctx.saved_tensors
            return grad_y * y             # one gradient per forward input (None allowed)

    y = Exp.apply(x)

or splits the forward into ``forward(*args)`` and ``setup_context(ctx, inputs, output)``.

``ctx`` is the graph node itself (``y.grad_fn``), an instance of ``<Name>Backward``, a subclass
of ``BackwardCFunction``: state stored on it in the forward is there in the backward. The node
has one edge per forward argument (None for non-tensors and tensors that need no gradient) and
one gradient slot per forward output, like every other node the engine runs.
"""

import functools
import inspect

from .grad_mode import _state, no_grad
from . import forward_ad as _fwad
from .graph import Node, _seq_counter, _modified_error, running, current_hooks, HookedSavedTensor


class FunctionCtx:
    """The methods available on ``ctx`` inside ``forward`` / ``setup_context``."""

    def save_for_backward(self, *tensors):
        """Keep ``tensors`` (or None) for backward, where ``ctx.saved_tensors`` returns them.

        They are version-checked: modifying one in place before backward is an error there."""
        from .._tensor import Tensor

        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"save_for_backward can only save variables, but argument {i} is of type {type(t).__name__}"
                )
        self.to_save = tensors

    def save_for_forward(self, *tensors):
        self.saved_for_forward = tensors

    def mark_dirty(self, *args):
        """Declare the input tensors that ``forward`` modified in place (and returns)."""
        self.dirty_tensors = args

    def mark_shared_storage(self, *pairs):
        raise RuntimeError("mark_shared_storage is deprecated: tensors with shared storage are handled automatically")

    def mark_non_differentiable(self, *args):
        """Declare outputs that have no gradient (indices, masks): they do not require grad, and
        their gradient in ``backward`` is always zero (or None without materialization)."""
        self.non_differentiable = args

    def set_materialize_grads(self, value):
        """With False, ``backward`` receives None (not zeros) for outputs with no gradient."""
        self.materialize_grads = bool(value)


class BackwardCFunction(Node, FunctionCtx):
    """The node (and ``ctx``) of one call of a custom Function."""

    _forward_cls = None
    _freed_by = None
    materialize_grads = True
    to_save = ()
    dirty_tensors = ()
    non_differentiable = ()
    _saved = ()
    _in_shapes = ()
    _in_dtypes = ()
    _out_meta = ()

    def __init__(self):
        self._next = ()
        self._seq = next(_seq_counter)

    def name(self):
        return type(self).__name__

    @property
    def saved_tensors(self):
        if "_jvp_saved" in self.__dict__:  # inside jvp: what save_for_forward saved
            return self._jvp_saved
        saved = self._saved
        if saved is None:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (or directly access saved "
                f"tensors after they have already been freed): the saved tensors of {self.name()} "
                f"were freed by the backward call {self._freed_by or 'before'}. Specify "
                f"retain_graph=True if you need to backward through the graph a second time or if "
                f"you need to access saved tensors after calling backward."
            )
        return tuple(None if s is None else s.unpack(self) for s in saved)

    saved_variables = saved_tensors

    def apply(self, *grads):
        return self._forward_cls.backward(self, *grads)

    def _apply(self, grads, retain):
        if all(g is None for g in grads):
            return (None,) * len(self._next)
        if self.materialize_grads:
            grads = [_zeros(meta) if g is None and meta is not None else g for g, meta in zip(grads, self._out_meta)]
        result = self._forward_cls.backward(self, *grads)
        if not retain:
            self._saved = None
            self._freed_by = running.site
        return self._check_grads(result)

    def _check_grads(self, result):
        from .._tensor import Tensor

        if not isinstance(result, tuple):
            result = (result,)
        n = len(self._next)
        if len(result) != n:
            if len(result) > n and all(g is None for g in result[n:]):
                result = result[:n]
            else:
                raise RuntimeError(
                    f"function {self.name()} returned an incorrect number of "
                    f"gradients (expected {n}, got {len(result)})"
                )
        out = []
        for i, (g, edge, is_tensor) in enumerate(zip(result, self._next, self._tensor_inputs)):
            if g is not None:
                if not is_tensor:
                    raise RuntimeError(
                        f"function {self.name()} returned a gradient different than "
                        f"None at position {i + 1}, but the corresponding forward "
                        f"input was not a Variable"
                    )
                if not isinstance(g, Tensor):
                    raise TypeError(
                        f"function {self.name()} returned a gradient of type "
                        f"{type(g).__name__} at position {i + 1}; expected a Tensor or "
                        f"None"
                    )
                if edge is None:
                    g = None
            out.append(g)
        return tuple(out)


def _zeros(meta):
    from .._creation import zeros

    shape, dtype, device = meta
    return zeros(shape, dtype=dtype, device=device)


class _SavedInput:
    """A tensor saved by a custom Function, kept as itself with its version at save time."""

    __slots__ = ("tensor", "version")

    def __init__(self, tensor):
        self.tensor = tensor
        self.version = tensor._version_counter().value

    def unpack(self, node):
        t = self.tensor
        vc = t._vc
        if vc.value != self.version:
            raise _modified_error(t._data, self.version, vc, node)
        return t


class _SavedOutput:
    """An output saved by its own Function: array + version counter (no output->node cycle)."""

    __slots__ = ("data", "vc", "version", "out_nr")

    def __init__(self, tensor, out_nr):
        self.data = tensor._data
        self.vc = tensor._version_counter()
        self.version = self.vc.value
        self.out_nr = out_nr

    def unpack(self, node):
        from .._tensor import Tensor

        if self.vc.value != self.version:
            raise _modified_error(self.data, self.version, self.vc, node)
        t = Tensor._make(self.data, node, True)
        t._vc = self.vc
        if self.out_nr:
            t._out_nr = self.out_nr
        return t


class _FunctionMeta(type):
    """Gives each Function subclass its own node class, ``<Name>Backward``."""

    def __init__(cls, name, bases, attrs):
        cls._backward_cls = type(name + "Backward", (BackwardCFunction,), {"_forward_cls": cls})
        super().__init__(name, bases, attrs)


class Function(FunctionCtx, metaclass=_FunctionMeta):
    """Base class of custom differentiable operations; see the module docstring."""

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use "
            "new-style autograd function with static forward method: call "
            f"{type(self).__name__}.apply(...) (example: https://pytorch.org/docs/stable/"
            f"autograd.html#torch.autograd.Function)"
        )

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your "
            "custom autograd.Function to use it with backward mode AD."
        )

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError(
            "You must implement the jvp function for custom autograd.Function to use it with forward mode AD."
        )

    @classmethod
    def apply(cls, *args, **kwargs):
        if kwargs:
            args = _bind(cls, args, kwargs)
        return _apply(cls, args)


def _uses_setup_context(cls):
    return cls.setup_context is not Function.setup_context


def _bind(cls, args, kwargs):
    """Turn keyword arguments into positional ones, following ``forward``'s signature."""
    params = list(inspect.signature(cls.forward).parameters.values())
    if not _uses_setup_context(cls):
        params = params[1:]  # ctx
    sig = inspect.Signature(params)
    bound = sig.bind(*args, **kwargs)
    bound.apply_defaults()
    return tuple(bound.arguments[p.name] for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)) + tuple(
        a for p in params if p.kind == p.VAR_POSITIONAL for a in bound.arguments.get(p.name, ())
    )


def _apply(cls, args):
    from .._tensor import Tensor
    from ..ops._registry import _edge

    is_tensor = tuple(isinstance(a, Tensor) for a in args)
    needs = tuple(t and a._rg for a, t in zip(args, is_tensor))
    recording = _state.enabled and any(needs)
    ctx = cls._backward_cls()
    ctx.needs_input_grad = needs
    if recording:
        # edges first: a dirty input's old history is what the node must point to
        ctx._next = tuple(_edge(a) if n else None for a, n in zip(args, needs))
        ctx._in_shapes = tuple(a._data.shape if n else None for a, n in zip(args, needs))
        ctx._in_dtypes = tuple(a._data.dtype if n else None for a, n in zip(args, needs))
        ctx._tensor_inputs = is_tensor
    dual = _fwad._fw.active and _fwad.has_tangent(args)
    with no_grad(), _fwad._suspended():
        if _uses_setup_context(cls):
            output = cls.forward(*args)
            cls.setup_context(ctx, args, output)
        else:
            output = cls.forward(ctx, *args)
    is_tuple = isinstance(output, tuple)
    outputs = output if is_tuple else (output,)
    dirty = {id(t) for t in ctx.dirty_tensors}
    if dirty:
        _check_dirty(cls, args, outputs, ctx.dirty_tensors)
    if not recording:
        if dual:
            _forward_tangents(cls, ctx, args, outputs)
        return output
    outputs = _wrap_outputs(ctx, args, outputs, dirty)
    _save(ctx, outputs)
    from . import anomaly

    if anomaly._state.enabled:
        anomaly.record_trace(ctx)
    if dual:
        _forward_tangents(cls, ctx, args, outputs)
    return outputs if is_tuple else outputs[0]


def _forward_tangents(cls, ctx, args, outputs):
    """Forward mode: the outputs' tangents from ``cls.jvp(ctx, *input_tangents)`` (zeros for
    tensor inputs without one, unless ``set_materialize_grads(False)``); in ``jvp``,
    ``ctx.saved_tensors`` returns what ``save_for_forward`` saved."""
    from .._tensor import Tensor
    from .._creation import zeros_like

    tangents = []
    for a in args:
        t = a._fw_grad if isinstance(a, Tensor) else None
        if t is None and isinstance(a, Tensor) and ctx.materialize_grads and a._data.dtype.kind in "fc":
            t = zeros_like(a)
        tangents.append(t)
    ctx._jvp_saved = tuple(getattr(ctx, "saved_for_forward", ()))
    try:
        with _fwad._suspended():
            result = cls.jvp(ctx, *tangents)
    finally:
        del ctx._jvp_saved
    results = result if isinstance(result, tuple) else (result,)
    if len(results) != len(outputs):
        raise RuntimeError(f"{cls.__name__}.jvp returned {len(results)} tangents for {len(outputs)} outputs")
    non_diff = {id(t) for t in ctx.non_differentiable}
    arg_ids = {id(a) for a in args}
    for o, t in zip(outputs, results):
        if (
            t is None
            or not isinstance(o, Tensor)
            or id(o) in non_diff
            or id(o) in arg_ids
            or o._data.dtype.kind not in "fc"
        ):
            continue
        if t._data.shape != o._data.shape:
            raise RuntimeError(
                f"{cls.__name__}.jvp returned a tangent of shape "
                f"{list(t._data.shape)} for an output of shape {list(o._data.shape)}"
            )
        _fwad.set_tangent(o, _fwad.fit_tangent(t, o))


def _check_dirty(cls, args, outputs, dirty_tensors):
    arg_ids = {id(a) for a in args}
    out_ids = {id(o) for o in outputs}
    for t in dirty_tensors:
        if id(t) not in arg_ids:
            raise RuntimeError(
                f"{cls.__name__}: only input tensors should be given to mark_dirty "
                f"(got a tensor of shape {list(t.shape)} that is not an input)"
            )
        if id(t) not in out_ids:
            raise RuntimeError(
                f"{cls.__name__}: some elements marked as dirty during the forward "
                f"method were not returned as output. The inputs that are modified "
                f"inplace must all be outputs of the Function."
            )


def _wrap_outputs(ctx, args, outputs, dirty):
    """Make each differentiable output an output of ``ctx``."""
    from .._tensor import Tensor
    from ..ops._inplace import _rebase
    from .views import set_history

    non_diff = {id(t) for t in ctx.non_differentiable}
    input_ids = {id(a) for a in args}
    result = []
    meta = []
    for i, o in enumerate(outputs):
        if not isinstance(o, Tensor):
            result.append(o)
            meta.append(None)
            continue
        meta.append((o._data.shape, o.dtype, o.device))
        differentiable = id(o) not in non_diff and o._data.dtype.kind in "fcV"
        if id(o) in dirty:
            if o.grad_fn is None and o._rg:
                raise RuntimeError(
                    f"a leaf Variable that requires grad has been used in an in-place "
                    f"operation (marked dirty by {type(ctx).__name__[:-8]}, shape "
                    f"{list(o._data.shape)})."
                )
            if differentiable:
                r = Tensor._make(o._data, ctx, True)
                r._out_nr = i
                _rebase(o, r)
            result.append(o)
            continue
        if id(o) in input_ids:
            # an input returned as is: the output is a new tensor (a view of the input)
            v = Tensor._make(o._data, None, False)
            v._vc = o._version_counter()
            v._base = o._base if o._base is not None else o
            o = v
        if differentiable:
            set_history(o, ctx, i)
        else:
            o._rg = False
        result.append(o)
    ctx.n_outputs = len(outputs)
    ctx._out_meta = tuple(meta)
    return tuple(result)


def _save(ctx, outputs):
    to_save = ctx.to_save
    if not to_save:
        return
    from .._tensor import Tensor

    out_nr = {id(o): i for i, o in enumerate(outputs) if isinstance(o, Tensor) and o.grad_fn is ctx}
    hooks = current_hooks()
    saved = []
    for t in to_save:
        if t is None:
            saved.append(None)
            continue
        nr = out_nr.get(id(t))
        if hooks is not None:
            s = (
                HookedSavedTensor(hooks, data=t._data, vc=t._version_counter(), out_nr=nr)
                if nr is not None
                else HookedSavedTensor(hooks, tensor=t)
            )
        else:
            s = _SavedOutput(t, nr) if nr is not None else _SavedInput(t)
        saved.append(s)
    ctx._saved = saved
    ctx.to_save = ()


# ----------------------------------------------------------------------------- once_differentiable
def once_differentiable(fn):
    """Decorator for a ``backward`` that is not itself differentiable: it runs with grad
    disabled, and differentiating its result (double backward) raises a clear error."""

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        from .._tensor import Tensor

        with no_grad():
            outputs = fn(ctx, *args)
        if not _state.enabled:
            return outputs
        wanting = [a for a in args if isinstance(a, Tensor) and a._rg]
        if not wanting:
            return outputs
        node = _DelayedError(
            f"trying to differentiate twice a function that was marked with @once_differentiable ({ctx.name()})",
            wanting,
        )
        single = not isinstance(outputs, tuple)
        wrapped = tuple(
            Tensor._make(o._data, node, True) if isinstance(o, Tensor) else o
            for o in ((outputs,) if single else outputs)
        )
        return wrapped[0] if single else wrapped

    return wrapper


class _DelayedError(Node):
    """A node that raises when a backward reaches it."""

    def __init__(self, message, inputs):
        from ..ops._registry import _edge

        self._next = tuple(_edge(t) for t in inputs)
        self._seq = next(_seq_counter)
        self._in_shapes = tuple(t._data.shape for t in inputs)
        self._in_dtypes = tuple(t._data.dtype for t in inputs)
        self.message = message

    def name(self):
        return "DelayedError"

    def _apply(self, grads, retain):
        raise RuntimeError(self.message)


class InplaceFunction(Function):
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace
