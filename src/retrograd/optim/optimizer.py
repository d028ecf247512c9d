"""Optimizer: the bookkeeping every algorithm shares.

``param_groups`` is a list of dicts, each with its ``params`` (a list of tensors) and every
option of the algorithm (a group's own value, or the optimizer's default). ``state`` maps a
parameter to a dict of its buffers (``step``, ``exp_avg``, ...). ``state_dict()`` has PyTorch's
layout: ``{"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]}``, where
the index counts parameters across groups in order.

An algorithm is a kernel plus a small class (the way PyTorch separates ``Adam.step`` from
``_single_tensor_adam``). The kernel is a plain function over arrays, e.g.
``adam(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps, *, lr, ...)``, which
updates the parameter and state arrays in place (NumPy or CuPy, whichever the arrays are). The
class declares its state (``_buffers``, ``_init_state``, ``_has_step``), which gradients it
refuses (``_sparse_refusal``, ``_dense_refusal``), and its ``step`` is::

    for group in self.param_groups:
        batch = self._gather(group)          # params with grads, grads, buffers, step counts
        self._run(kernel, batch, group, lr=..., ...)   # per tensor or flat; versions bumped

``_gather`` is the one place that walks a group: it skips parameters without a gradient, refuses
the gradients the algorithm does not support (PyTorch's messages), creates state on a
parameter's first step and advances its step count. ``_run`` calls the kernel per tensor, or
with ``foreach=True`` on flat buffers (``_foreach.py``), stores buffers the kernel created, and
bumps each updated parameter's version counter once.
"""

import copy
import functools
from collections import OrderedDict, defaultdict
from itertools import chain
from operator import is_

import numpy as np

from .._tensor import Tensor
from .._compile.state import _cap
from ..backend import array_module
from ..autograd.grad_mode import _state as _grad_state
from ..sparse import SparseTensor
from ..utils.hooks import RemovableHandle
from . import _foreach
from ._work import Workspace


class _RequiredParameter:
    """Marks an option that every parameter group must set (there is no default)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()

_global_pre_hooks = OrderedDict()
_global_post_hooks = OrderedDict()


def register_optimizer_step_pre_hook(hook):
    """``hook(optimizer, args, kwargs)`` runs before every optimizer's ``step``."""
    h = RemovableHandle(_global_pre_hooks)
    _global_pre_hooks[h.id] = hook
    return h


def register_optimizer_step_post_hook(hook):
    """``hook(optimizer, args, kwargs)`` runs after every optimizer's ``step``."""
    h = RemovableHandle(_global_post_hooks)
    _global_post_hooks[h.id] = hook
    return h


def _wrap_step(step):
    """Run ``step`` with grad mode off, with the step hooks around it."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        if _cap.active:  # inside a compiled function: replayed as this same call
            return _cap.recorder.eager_call(wrapper, (self, *args), kwargs, f"{type(self).__name__}.step")
        pre, post = self._optimizer_step_pre_hooks, self._optimizer_step_post_hooks
        if _global_pre_hooks or pre:
            for hook in chain(_global_pre_hooks.values(), pre.values()):
                r = hook(self, args, kwargs)
                if r is not None:
                    if not (isinstance(r, tuple) and len(r) == 2):
                        raise RuntimeError(
                            f"{hook} must return None or a tuple of (new_args, new_kwargs), but got {r}."
                        )
                    args, kwargs = r
        prev = _grad_state.enabled
        _grad_state.enabled = False
        try:
            out = step(self, *args, **kwargs)
        finally:
            _grad_state.enabled = prev
        self._opt_called = True
        if _global_post_hooks or post:
            for hook in chain(post.values(), _global_post_hooks.values()):
                hook(self, args, kwargs)
        return out

    wrapper._wrapped_step = True
    return wrapper


def check_arguments(name, lr, betas=None, **non_negative):
    """PyTorch's constructor checks, with its messages: a one-element tensor or number ``lr``
    >= 0, each of ``non_negative`` (label -> value, e.g. ``{"epsilon": eps}``) >= 0 and betas in
    [0, 1). The flags (foreach, fused, capturable, differentiable) are checked per group by
    ``Optimizer.add_param_group``."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    for label, value in non_negative.items():
        if not 0.0 <= value:
            raise ValueError(f"Invalid {label} value: {value}")
    if betas is not None:
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")


def check_flags(name, group):
    """Refuse the flags of ``group`` that cannot be honoured here, naming them.

    ``foreach`` and ``fused`` (None, False or True) are speed hints and always honoured: True
    runs the flat-buffer kernel, retrograd's one-pass-per-formula step over all parameters,
    with results equal to the per-tensor one (PyTorch's fused kernels round some steps in
    another order: its fused and foreach Adam differ by about 1 ulp). ``capturable=True`` (state
    kept on the device for CUDA graph capture, which retrograd does not have) and
    ``differentiable=True`` (autograd through the step) are not supported."""
    if group.get("fused"):
        if group.get("foreach"):
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        if group.get("differentiable"):
            raise RuntimeError("`fused` does not support `differentiable`")
    if group.get("capturable"):
        raise NotImplementedError(
            f"{name}(capturable=True) is not supported: it keeps the step "
            f"on the device for CUDA graph capture, which retrograd does not "
            f"have; use capturable=False (the same update)"
        )
    if group.get("differentiable"):
        raise NotImplementedError(
            f"{name}(differentiable=True) is not supported: the step does not record an autograd graph"
        )


def _closure_loss(closure):
    """Evaluate ``closure`` (which usually calls backward) with grad mode on."""
    if closure is None:
        return None
    prev = _grad_state.enabled
    _grad_state.enabled = True
    try:
        return closure()
    finally:
        _grad_state.enabled = prev


def _to_scalar(v):
    return float(v) if isinstance(v, Tensor) else v


class _Batch:
    """One group's parameters that have a gradient, as the kernel takes them: their ``tensors``,
    ``params`` (arrays), ``grads`` (arrays, or ``SparseTensor`` for sparse gradients),
    ``buffers`` (one list per name in ``_buffers``: arrays, ``SparseTensor``, or None where the
    state has no such entry), ``steps`` (the step counts after this step) and ``states``."""

    __slots__ = ("tensors", "params", "grads", "buffers", "steps", "states")

    def __init__(self):
        self.buffers, self.steps, self.states = [], [], []

    def __len__(self):
        return len(self.params)


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: an iterable of tensors, of ``(name, tensor)`` pairs, or of dicts, each of which
            defines a parameter group (its ``params`` plus any options that differ from the
            defaults).
        defaults: the default value of every option of the algorithm.
    """

    #: names of the state entries the kernel updates, in the order of its arguments
    _buffers = ()
    #: whether the state holds a ``step`` count (passed to the kernel as ``state_steps``)
    _has_step = True
    #: the RuntimeError message for a sparse gradient, "{name}" the class name; None: accepted
    _sparse_refusal = "{name} does not support sparse gradients"
    #: the RuntimeError message for a dense gradient; None: accepted
    _dense_refusal = None
    #: whether the kernel is elementwise, so that foreach=True may run it on flat buffers
    _flat_ok = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_wrapped_step", False):
            cls.step = _wrap_step(step)

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        self._optimizer_state_dict_pre_hooks = OrderedDict()
        self._optimizer_state_dict_post_hooks = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks = OrderedDict()
        self._optimizer_load_state_dict_post_hooks = OrderedDict()
        self._work = Workspace()
        self._flat = {}
        self._opt_called = False
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of "
                f"Tensors or dicts, but got a Tensor of shape {list(params.shape)}"
            )
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group):
        """Add a group of parameters, with its own options, e.g. when unfreezing layers."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but "
                "the ordering of tensors in sets will change between runs. Please use a "
                "list instead."
            )
        else:
            param_group["params"] = list(params)
        tensors, names = [], []
        for p in param_group["params"]:
            if isinstance(p, tuple):
                names.append(p[0])
                tensors.append(p[1])
            else:
                tensors.append(p)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names
        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but one of the params is "
                    f"{type(p).__module__}.{type(p).__name__}"
                )
            if not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)
        check_flags(type(self).__name__, param_group)
        if len({id(p) for p in tensors}) != len(tensors):
            import warnings

            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, this will cause an error",
                stacklevel=3,
            )
        seen = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    f"all optimizer param groups should be with/without names. cannot "
                    f"add param group {which} to the optimizer"
                )
        if any(id(p) in seen for p in tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ------------------------------------------------------------------ gradients
    def zero_grad(self, set_to_none=True):
        """Reset the gradients: set them to None (default) or fill them with zeros."""
        if _cap.active:
            return _cap.recorder.eager_call(Optimizer.zero_grad, (self, set_to_none), {}, "Optimizer.zero_grad")
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                if set_to_none:
                    p._grad = None
                else:
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad_(False)
                    g.zero_()

    def step(self, closure=None):
        """Update the parameters once; ``closure`` re-evaluates the model and returns the loss."""
        raise NotImplementedError

    # ------------------------------------------------------------------ gather / run
    def _has_state(self, group):
        """Whether the parameters of ``group`` keep state (SGD without momentum has none)."""
        return True

    def _init_state(self, p, group, state):
        """Fill ``state`` (empty) with ``p``'s state before its first step."""

    def _gather(self, group):
        """The parameters of ``group`` that have a gradient, with what the kernel needs (a
        ``_Batch``): gradients the algorithm does not support are refused, state is created at a
        parameter's first step and its step count advanced."""
        batch = _Batch()
        batch.tensors = tensors = [p for p in group["params"] if p._grad is not None]
        gs = [p._grad for p in tensors]
        if self._sparse_refusal is not None and any(type(g) is SparseTensor for g in gs):
            raise RuntimeError(self._sparse_refusal.format(name=type(self).__name__))
        if self._dense_refusal is not None and any(type(g) is not SparseTensor for g in gs):
            raise RuntimeError(self._dense_refusal.format(name=type(self).__name__))
        batch.grads = [g if type(g) is SparseTensor else g._data for g in gs]
        batch.params = [p._data for p in tensors]
        if not self._has_state(group):
            batch.buffers = [[None] * len(tensors) for _ in self._buffers]
            return batch
        opt_state = self.state
        batch.states = states = [opt_state[p] for p in tensors]
        if not all(states):
            for p, state in zip(tensors, states):
                if not state:
                    self._init_state(p, group, state)
        for name in self._buffers:
            entries = [state.get(name) for state in states]
            batch.buffers.append([b if b is None or type(b) is SparseTensor else b._data for b in entries])
        if self._has_step:
            steps = batch.steps
            for state in states:
                s = state["step"]
                if type(s) is Tensor:
                    a = s._data
                    # a += 1, without the cost of a ufunc on a 0-d array (float32 holds the
                    # count exactly, and rounds a count past 2**24 alike either way)
                    a[()] = n = float(a) + 1
                    steps.append(float(a) if n >= 16777216 else n)
                else:  # a plain number (SparseAdam keeps an int, as PyTorch)
                    state["step"] = s = s + 1
                    steps.append(s)
        return batch

    def _run(self, kernel, batch, group, **hyper):
        """``kernel(params, grads, *buffers, [state_steps], work=..., **hyper)`` over ``batch``:
        per tensor, or on flat buffers when ``group["foreach"]`` is True (and the algorithm is
        elementwise). Buffers the kernel made or replaced are stored in the state; each updated
        parameter's version is bumped once."""
        if not batch.params:
            return
        before = [list(lst) for lst in batch.buffers] if batch.states else None
        if self._flat_ok and (group.get("foreach") or group.get("fused")):
            if len(self._flat) > 256:  # flat layouts of parameter sets no longer stepped
                self._flat.clear()
            _foreach.run(kernel, batch, self._has_step and bool(batch.states), hyper, self._work, self._flat)
        else:
            args = [batch.params, batch.grads, *batch.buffers]
            if self._has_step and batch.states:
                args.append(batch.steps)
            kernel(*args, work=self._work, **hyper)
        if before is not None:
            for name, old, new in zip(self._buffers, before, batch.buffers):
                if not all(map(is_, old, new)):
                    for state, a, b in zip(batch.states, old, new):
                        if a is not b:
                            _store(state, name, b)
        for p in batch.tensors:
            p._version_counter().bump()

    # ------------------------------------------------------------------ hooks
    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs before ``step``; it may return new
        ``(args, kwargs)``."""
        h = RemovableHandle(self._optimizer_step_pre_hooks)
        self._optimizer_step_pre_hooks[h.id] = hook
        return h

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs after ``step``."""
        h = RemovableHandle(self._optimizer_step_post_hooks)
        self._optimizer_step_post_hooks[h.id] = hook
        return h

    def register_state_dict_pre_hook(self, hook, prepend=False):
        return self._add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        return self._add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        return self._add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        return self._add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    @staticmethod
    def _add_hook(hooks, hook, prepend):
        h = RemovableHandle(hooks)
        hooks[h.id] = hook
        if prepend:
            hooks.move_to_end(h.id, last=False)
        return h

    # ------------------------------------------------------------------ state dicts
    def state_dict(self):
        """The state as ``{"state": {index: {...}}, "param_groups": [...]}`` (PyTorch's layout).

        Parameters are replaced by their index (counted across groups in order); the tensors in
        ``state`` are the optimizer's own (not copies), as in PyTorch."""
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        index = {}
        start = 0

        def pack(group):
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                index.setdefault(id(p), i)
            packed["params"] = [index[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        param_groups = [pack(g) for g in self.param_groups]
        state = {(index[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        sd = {"state": state, "param_groups": param_groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            r = hook(self, sd)
            if r is not None:
                sd = r
        return sd

    def load_state_dict(self, state_dict):
        """Load a state made by ``state_dict()`` (of an optimizer over parameters of the same
        shapes, grouped the same way). Buffers are copied, cast to their parameter's dtype
        (``step`` excepted), and options are taken from the saved groups."""
        state_dict = dict(state_dict)
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            r = hook(self, state_dict)
            if r is not None:
                state_dict = r
        for key in ("state", "param_groups"):
            if key not in state_dict:
                raise KeyError(
                    f"load_state_dict: the optimizer state dict has no {key!r} entry "
                    f"(keys: {sorted(map(str, state_dict))})"
                )
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError(
                f"loaded state dict has a different number of parameter groups "
                f"({len(saved_groups)}) than the optimizer ({len(groups)})"
            )
        for i, (g, s) in enumerate(zip(groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group that doesn't match "
                    f"the size of optimizer's group: group {i} has {len(s['params'])} "
                    f"parameters saved and {len(g['params'])} in the optimizer"
                )
        id_map = dict(
            zip(
                chain.from_iterable(g["params"] for g in saved_groups), chain.from_iterable(g["params"] for g in groups)
            )
        )

        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = _cast(param, v)
            else:
                state[k] = v

        param_groups = []
        for g, ng in zip(groups, saved_groups):
            ng["params"] = g["params"]
            if "param_names" in g and "param_names" not in ng:
                ng["param_names"] = g["param_names"]
            param_groups.append(ng)
        self.__setstate__({"state": state, "param_groups": param_groups})
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in (
            "_optimizer_step_pre_hooks",
            "_optimizer_step_post_hooks",
            "_optimizer_state_dict_pre_hooks",
            "_optimizer_state_dict_post_hooks",
            "_optimizer_load_state_dict_pre_hooks",
            "_optimizer_load_state_dict_post_hooks",
        ):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        self.__dict__.setdefault("_work", Workspace())
        self.__dict__.setdefault("_flat", {})
        self.__dict__.setdefault("_opt_called", False)
        for group in self.param_groups:
            for k, v in self.defaults.items():
                group.setdefault(k, v)
            check_flags(type(self).__name__, group)
        self._after_load()

    def _after_load(self):
        """Bring loaded state to the form ``step`` uses (e.g. a numeric ``step`` into a tensor)."""

    def __repr__(self):
        s = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        return s + ")"


def _cast(param, value, key=None):
    """A copy of a saved state entry, tensors cast to ``param``'s dtype (``step`` excepted) and
    device."""
    if isinstance(value, (Tensor, SparseTensor)):
        if key == "step":
            return value.clone()
        t = value
        if param.is_floating_point() and value.is_floating_point():
            t = t.to(dtype=param.dtype)
        t = t.to(device=param.device)
        return t.clone() if t is value else t
    if isinstance(value, dict):
        return {k: _cast(param, v, key=k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(param, v) for v in value)
    return value


def _store(state, name, value):
    """Put a buffer the kernel made into ``state``: an array into the state's dense tensor
    (re-pointed, so that references to it stay live) or a new one; a ``SparseTensor`` as is."""
    old = state.get(name)
    if type(value) is SparseTensor:
        state[name] = value
    elif type(old) is Tensor:
        old._data = value
    else:
        state[name] = Tensor._make(value, None, False)


def _zero_state(p, state, *names):
    """The state most algorithms start from: a step count (``state["step"]``) and, for each name,
    a buffer of zeros shaped like ``p``, on its device."""
    zeros = array_module(p._data).zeros_like
    state["step"] = _step_tensor()
    for name in names:
        state[name] = Tensor._make(zeros(p._data), None, False)


def _step_tensor(value=0.0):
    """The per-parameter step count: a 0-d float32 tensor, as in PyTorch's state dicts."""
    return Tensor._make(np.array(value, dtype=np.float32), None, False)


def _ensure_step_tensors(opt):
    for st in opt.state.values():
        if isinstance(st, dict) and "step" in st and not isinstance(st["step"], Tensor):
            st["step"] = _step_tensor(float(st["step"]))
