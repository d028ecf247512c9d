"""Function transforms (``torch.func``): grad, grad_and_value, vjp, jvp, linearize, jacrev, jacfwd,
hessian.

Reverse-mode transforms differentiate with ``autograd.grad`` with respect to fresh inner copies of
the inputs: a view of the input when something outside must still differentiate through it (it
requires grad, or carries a forward-mode tangent), a detached leaf otherwise. The backward builds
a graph (``create_graph``) exactly when something outside can use it: an input as above, a
forward-mode level, or a tensor the function closes over that requires grad. So transforms
compose (``grad(grad(f))``, ``jacrev(jacrev(f))``, ``jacfwd(jacrev(f))``, ``jvp(grad(f), ...)``)
and compose with ordinary autograd, while a plain ``grad(f)(x)`` returns tensors outside any graph.

Forward-mode transforms (``jvp``, ``jacfwd``) run in the single forward-mode level of
``autograd.forward_ad``; they do not nest inside each other (RuntimeError). ``jacfwd`` makes one
forward pass per input element, ``jacrev`` one backward pass per output element (they do not
use vmap). Inside vmap, ``grad`` computes per-example gradients in one batched run
(func/_vmap.py); the others make vmap run its function once per example.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .._tensor import Tensor
from ..autograd import forward_ad as fwAD
from ..autograd.grad_mode import enable_grad, _state
from ..autograd._vmap_state import _vm
from ..utils._pytree import tree_flatten, tree_map, tree_unflatten

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "linearize", "jacrev", "jacfwd", "hessian"]


# ----------------------------------------------------------------------------- arguments
def _check_argnums(argnums: int | tuple[int, ...], n_args: int) -> None:
    if isinstance(argnums, int) and not isinstance(argnums, bool):
        nums: tuple[Any, ...] = (argnums,)
    elif isinstance(argnums, tuple):
        if not argnums:
            raise RuntimeError("argnums must be non-empty")
        if len(set(argnums)) != len(argnums):
            raise RuntimeError(f"argnums elements must be unique, got {argnums}")
        nums = argnums
    else:
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    for a in nums:
        if not isinstance(a, int) or isinstance(a, bool):
            raise RuntimeError(f"argnum must be int, got: {type(a)}")
        if not -n_args <= a < n_args:
            raise RuntimeError(f"Got argnum={a}, but only {n_args} positional inputs")


def _slice(args: tuple[Any, ...], argnums: int | tuple[int, ...]) -> Any:
    if isinstance(argnums, int):
        return args[argnums]
    return tuple(args[i] for i in argnums)


def _replace(args: tuple[Any, ...], argnums: int | tuple[int, ...], new: Any) -> tuple[Any, ...]:
    out = list(args)
    if isinstance(argnums, int):
        out[argnums] = new
    else:
        for i, v in zip(argnums, new):
            out[i] = v
    return tuple(out)


def _tensor_leaves(tree: Any, api: str, what: str) -> tuple[list[Tensor], Any]:
    leaves, spec = tree_flatten(tree)
    for x in leaves:
        if not isinstance(x, Tensor):
            raise ValueError(f"{api}: Thing passed to transform API must be Tensor, got {type(x)} in {what}")
    if not leaves:
        raise RuntimeError(f"{api}: Expected {what} to contain at least one Tensor.")
    return leaves, spec


def _output_leaves(out: Any, api: str) -> tuple[list[Tensor], Any]:
    leaves, spec = tree_flatten(out)
    if not leaves:
        raise RuntimeError(f"{api}: Expected f to be a function that has non-empty output (got output = {out})")
    for o in leaves:
        if not isinstance(o, Tensor):
            raise RuntimeError(f"{api}: expected f(*args) to return only tensors, got unsupported type {type(o)}")
    return leaves, spec


def _split_aux(out: Any, has_aux: bool, api: str) -> tuple[Any, Any]:
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{api}: output of function f should be a tuple: (output, aux) if has_aux is True")
    return out


def _per_example_under_vmap(api: str) -> None:
    """Inside vmap only ``grad`` has a batched form (func/_vmap.py); the other transforms make
    vmap run its function once per example, where they see plain tensors. Run on batched
    tensors, they would differentiate through the batching wrappers and find no path to their
    inputs (zeros)."""
    if _vm.active:
        from ._batch_rules import NeedsLoop

        raise NeedsLoop(api)


# ----------------------------------------------------------------------------- graph helpers
def _tracked(t: Tensor) -> bool:
    """Whether something outside this transform differentiates through ``t``."""
    return t._rg or t._fw_grad is not None


def _inner(t: Tensor) -> Tensor:
    """The tensor the transform differentiates with respect to, standing for ``t``."""
    if _tracked(t):
        v = t.view_as(t)
        if not v._rg:
            v.requires_grad_(True)
        return v
    return t.detach().requires_grad_(True)


def _needs_graph(outputs: list[Tensor], inner: list[Tensor]) -> bool:
    """Whether the gradients must be differentiable further: an input is tracked outside, a
    forward-mode level is active, or the outputs' graph reaches a leaf requiring grad other
    than the inner inputs (a tensor the function closes over)."""
    if fwAD._fw.active or not _state.enabled:
        return fwAD._fw.active
    own = set()
    for x in inner:
        if x.grad_fn is not None:
            return True  # a view of a tracked input
        own.add(id(x))
    seen: set[int] = set()
    stack = [o.grad_fn for o in outputs if o.grad_fn is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        var = getattr(node, "_variable", None)
        if var is not None:
            leaf = var()
            if leaf is not None and id(leaf) not in own:
                return True
            continue
        for e in node._next:
            if e is not None:
                stack.append(e[0])
    return False


def _done(inner: list[Tensor]) -> None:
    """Mark the inner leaves of a finished reverse-mode transform: nothing asks for their
    gradient any more, so a graph reaching only them need not be kept."""
    for v in inner:
        if v.grad_fn is None:
            v._transform_done = True


def _reaches_live_leaf(t: Tensor) -> bool:
    """Whether ``t``'s graph leads to a leaf requiring grad that still exists and is not the
    inner leaf of a finished transform."""
    seen: set[int] = set()
    stack = [t.grad_fn] if t.grad_fn is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        var = getattr(node, "_variable", None)
        if var is not None:
            leaf = var()
            if leaf is not None and not leaf.__dict__.get("_transform_done", False):
                return True
            continue
        for e in node._next:
            if e is not None:
                stack.append(e[0])
    return False


def _release(tree: Any) -> Any:
    """``tree`` with every Tensor whose graph reaches no live leaf detached."""
    return tree_map(
        lambda x: x.detach() if isinstance(x, Tensor) and x.grad_fn is not None and not _reaches_live_leaf(x) else x,
        tree,
    )


def _detach_tree(tree: Any) -> Any:
    return tree_map(lambda x: x.detach() if isinstance(x, Tensor) else x, tree)


def _grads(outputs: list[Tensor], inner: list[Tensor], seeds: list[Tensor] | None, create_graph: bool) -> list[Tensor]:
    """Gradients of ``outputs`` (seeded) with respect to ``inner``; zeros where unused."""
    from ..autograd import grad as _autograd_grad

    pairs = [(o, s) for o, s in zip(outputs, seeds or [None] * len(outputs)) if o._rg]
    if pairs:
        found = _autograd_grad(
            [o for o, _ in pairs],
            inner,
            [s for _, s in pairs],
            retain_graph=True,
            create_graph=create_graph,
            allow_unused=True,
        )
    else:
        found = (None,) * len(inner)
    return [g if g is not None else x.new_zeros(x.shape) for g, x in zip(found, inner)]


# ----------------------------------------------------------------------------- grad, vjp
def grad_and_value(
    func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """A function returning ``(gradient, value)`` of the scalar ``func`` with respect to the
    arguments ``argnums`` (each a Tensor or a pytree of Tensors; the gradient has the same
    structure). With ``has_aux``, ``func`` returns ``(value, aux)`` and the result is
    ``(gradient, (value, aux))``."""
    api = "grad_and_value(f)(*args)"

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _check_argnums(argnums, len(args))
        if _vm.active:  # inside vmap: per-example gradients (func/_vmap.py)
            from ._vmap import batched_grad_and_value

            return batched_grad_and_value(func, args, kwargs, argnums, has_aux, api)
        with enable_grad():
            leaves, spec = _tensor_leaves(_slice(args, argnums), api, "args")
            inner = [_inner(x) for x in leaves]
            output = func(*_replace(args, argnums, tree_unflatten(inner, spec)), **kwargs)
            output, aux = _split_aux(output, has_aux, api)
            if not isinstance(output, Tensor):
                raise RuntimeError(f"{api}: Expected f(*args) to return a Tensor, got {type(output)}")
            if output.dim() != 0:
                raise RuntimeError(
                    f"{api}: Expected f(*args) to return a scalar Tensor, got tensor with "
                    f"{output.dim()} dims. Maybe you wanted to use the vjp or jacrev APIs "
                    f"instead?"
                )
            keep = _needs_graph([output], inner)
            grads = _grads([output], inner, None, keep)
            _done(inner)
        value = output if keep else output.detach()
        result = tree_unflatten(grads, spec)
        if has_aux:
            return result, (value, aux if keep else _detach_tree(aux))
        return result, value

    return wrapper


def grad(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable[..., Any]:
    """A function returning the gradient of the scalar ``func`` with respect to the arguments
    ``argnums`` (``(gradient, aux)`` with ``has_aux``); see ``grad_and_value``."""
    inner = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g, value = inner(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


def vjp(func: Callable[..., Any], *primals: Any, has_aux: bool = False) -> Any:
    """``(func(*primals), vjp_fn)`` (and ``aux`` with ``has_aux``): ``vjp_fn(cotangents)``, with
    cotangents of the output's structure, returns one vector-Jacobian product per primal. It can
    be called several times."""
    api = "vjp(f, *primals)"
    _per_example_under_vmap(api)
    with enable_grad():
        leaves, spec = _tensor_leaves(primals, api, "primals")
        inner = [_inner(x) for x in leaves]
        output = func(*tree_unflatten(inner, spec))
        output, aux = _split_aux(output, has_aux, api)
        outs, out_spec = _output_leaves(output, api)
        keep = _needs_graph(outs, inner)

    def vjp_fn(cotangents: Any) -> tuple[Any, ...]:
        cots, cot_spec = tree_flatten(cotangents)
        if cot_spec != out_spec:
            raise RuntimeError(
                f"Expected pytree structure of cotangents to be the same as pytree structure "
                f"of outputs to the function. cotangents: {cot_spec}, primal output: {out_spec}"
            )
        for c, o in zip(cots, outs):
            if not isinstance(c, Tensor):
                raise RuntimeError(f"vjp_fn: expected cotangents to be Tensors, got {type(c)}")
            if c.shape != o.shape:
                raise RuntimeError(
                    f"Mismatch in shape: cotangent has a shape of {list(c.shape)} and the "
                    f"output has a shape of {list(o.shape)}."
                )
        with enable_grad():
            grads = _grads(outs, inner, cots, keep or any(_tracked(c) for c in cots))
        return tree_unflatten(grads, spec)

    value = output if keep else _detach_tree(output)
    if has_aux:
        return value, vjp_fn, (aux if keep else _detach_tree(aux))
    return value, vjp_fn


# ----------------------------------------------------------------------------- forward mode
def _no_nesting(api: str) -> None:
    if fwAD._fw.level >= 0:
        raise RuntimeError(
            f"{api}: forward-mode transforms (jvp, jacfwd) do not nest inside each other or "
            f"inside a dual_level: retrograd has a single forward-mode level. Compose "
            f"forward mode over reverse mode instead (jacfwd(jacrev(f)), jvp(grad(f), ...))"
        )


def jvp(func: Callable[..., Any], primals: Any, tangents: Any, *, strict: bool = False, has_aux: bool = False) -> Any:
    """``(func(*primals), J @ tangents)`` by forward mode (and ``aux`` with ``has_aux``).
    ``primals`` is a tuple (pytrees allowed), ``tangents`` has its structure and shapes. An
    output independent of the primals has a zero tangent, or raises with ``strict``."""
    api = "jvp(f, primals, tangents)"
    _per_example_under_vmap(api)
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{api}: Expected primals to be a tuple. E.g. it should be valid to call f(*primals).")
    flat_p, p_spec = _tensor_leaves(primals, api, "primals")
    flat_t, t_spec = tree_flatten(tangents)
    if p_spec != t_spec:
        raise RuntimeError(
            f"{api}: Expected primals and tangents to have the same python structure. For "
            f"example, if primals is a tuple of 3 tensors, tangents also must be. Got primals "
            f"with structure {p_spec} and tangents with structure {t_spec}"
        )
    _tensor_leaves(tangents, api, "tangents")
    _no_nesting(api)
    with fwAD.dual_level():
        duals = [fwAD.make_dual(p, t) for p, t in zip(flat_p, flat_t)]
        output = func(*tree_unflatten(duals, p_spec))
        output, aux = _split_aux(output, has_aux, api)
        outs, out_spec = _output_leaves(output, api)
        primals_out, tangents_out = [], []
        for o in outs:
            primal, tangent = fwAD.unpack_dual(o)
            if tangent is None:
                if strict:
                    raise RuntimeError(
                        f"{api}: The output of the function is independent of the inputs. "
                        f"This is not allowed with strict=True."
                    )
                tangent = primal.new_zeros(primal.shape)
            primals_out.append(primal)
            tangents_out.append(tangent)
    result = _release(tree_unflatten(primals_out, out_spec)), _release(tree_unflatten(tangents_out, out_spec))
    return result + (_release(aux),) if has_aux else result


def linearize(func: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[..., Any]]:
    """``(func(*primals), jvp_fn)`` where ``jvp_fn(*tangents)`` is the Jacobian-vector product at
    ``primals``. Each call of ``jvp_fn`` runs ``func`` once more in forward mode (no trace of
    ``func`` is kept)."""
    _tensor_leaves(primals, "linearize", "primals")
    output = func(*primals)
    _output_leaves(output, "linearize")

    def jvp_fn(*tangents: Any) -> Any:
        return jvp(func, primals, tangents)[1]

    return output, jvp_fn


# ----------------------------------------------------------------------------- Jacobians
def _assemble(
    cols: list[list[list[Tensor]]],
    outs: list[Tensor],
    leaves: list[Tensor],
    out_spec: Any,
    in_spec: Any,
    rows_first: bool,
) -> Any:
    """The Jacobian pytree: for each output leaf, a pytree like the inputs of tensors of shape
    ``output.shape + input.shape``, from per-element slices (rows over output elements for
    jacrev, columns over input elements for jacfwd)."""
    from ..ops.shape import stack

    per_output = []
    for i, o in enumerate(outs):
        blocks = []
        for j, x in enumerate(leaves):
            parts = cols[i][j]
            shape = tuple(o.shape) + tuple(x.shape)
            if not parts or o.numel() == 0 or x.numel() == 0:
                blocks.append(x.new_zeros(shape, dtype=o.dtype if o.is_floating_point() else x.dtype))
                continue
            if rows_first:
                block = stack([p.reshape(-1) for p in parts], 0)
            else:
                block = stack([p.reshape(-1) for p in parts], -1)
            blocks.append(block.reshape(shape))
        per_output.append(tree_unflatten(blocks, in_spec))
    return tree_unflatten(per_output, out_spec)


def jacrev(
    func: Callable[..., Any],
    argnums: int | tuple[int, ...] = 0,
    *,
    has_aux: bool = False,
    chunk_size: int | None = None,
) -> Callable[..., Any]:
    """A function returning the Jacobian of ``func`` with respect to the arguments ``argnums``,
    by reverse mode: one backward per output element. For each output (pytrees allowed) a
    pytree like the differentiated arguments, of tensors of shape ``output.shape +
    input.shape``. ``chunk_size`` (None or positive) bounds how many rows are computed at once;
    rows are computed one at a time here, so every valid value gives the same result."""
    if chunk_size is not None and not (isinstance(chunk_size, int) and chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")
    api = "jacrev(f)(*args)"

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from .._creation import zeros

        _per_example_under_vmap(api)
        _check_argnums(argnums, len(args))
        with enable_grad():
            leaves, spec = _tensor_leaves(_slice(args, argnums), api, "args")
            inner = [_inner(x) for x in leaves]
            output = func(*_replace(args, argnums, tree_unflatten(inner, spec)), **kwargs)
            output, aux = _split_aux(output, has_aux, api)
            outs, out_spec = _output_leaves(output, api)
            keep = _needs_graph(outs, inner)
            rows: list[list[list[Tensor]]] = []
            for o in outs:
                per_input: list[list[Tensor]] = [[] for _ in inner]
                for e in range(o.numel()):
                    seed = zeros(o.numel(), dtype=o.dtype, device=o.device)
                    seed[e] = 1
                    for acc, g in zip(per_input, _grads([o], inner, [seed.reshape(o.shape)], keep)):
                        acc.append(g)
                rows.append(per_input)
            _done(inner)
        jac = _assemble(rows, outs, leaves, out_spec, spec, rows_first=True)
        if not keep:
            jac = _detach_tree(jac)
        if has_aux:
            return jac, (aux if keep else _detach_tree(aux))
        return jac

    return wrapper


def jacfwd(
    func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, has_aux: bool = False, *, randomness: str = "error"
) -> Callable[..., Any]:
    """A function returning the Jacobian of ``func`` with respect to the arguments ``argnums``,
    by forward mode: one forward pass of ``func`` per element of the differentiated inputs (the
    structure of the result as ``jacrev``). ``randomness``: "same" gives every pass the same
    random numbers (the generator's state is restored before each), "different" lets them
    differ, and "error" (the default) raises when ``func`` draws from the default generator."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")
    api = "jacfwd(f)(*args)"

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from .. import _creation
        from .._creation import zeros

        _per_example_under_vmap(api)
        _check_argnums(argnums, len(args))
        leaves, spec = _tensor_leaves(_slice(args, argnums), api, "args")
        _no_nesting(api)
        state = _creation.get_rng_state() if randomness != "different" else None
        cols: list[list[list[Tensor]]] | None = None
        outs: list[Tensor] = []
        out_spec = aux = None
        for j, x in enumerate(leaves):
            for e in range(x.numel()):
                if randomness == "same":
                    _creation.set_rng_state(state)
                t = zeros(x.numel(), dtype=x.dtype, device=x.device)
                t[e] = 1
                with fwAD.dual_level():
                    dual = fwAD.make_dual(x, t.reshape(x.shape))
                    duals = leaves[:j] + [dual] + leaves[j + 1 :]
                    output = func(*_replace(args, argnums, tree_unflatten(duals, spec)), **kwargs)
                    output, pass_aux = _split_aux(output, has_aux, api)
                    pass_outs, out_spec = _output_leaves(output, api)
                    unpacked = [fwAD.unpack_dual(o) for o in pass_outs]
                if randomness == "error" and _rng_changed(state):
                    raise RuntimeError(
                        "jacfwd: called random operation while in randomness error mode. "
                        "Please either use the 'same' or 'different' randomness flags on "
                        "jacfwd or perform the randomness operation out of jacfwd"
                    )
                if cols is None:
                    cols = [[[] for _ in leaves] for _ in pass_outs]
                    outs = [p for p, _ in unpacked]
                    aux = pass_aux
                for i, (p, tangent) in enumerate(unpacked):
                    cols[i][j].append(tangent if tangent is not None else p.new_zeros(p.shape))
        if cols is None:  # every input is empty: one plain call gives the output shapes
            output, aux = _split_aux(func(*args, **kwargs), has_aux, api)
            outs, out_spec = _output_leaves(output, api)
            cols = [[[] for _ in leaves] for _ in outs]
        jac = _release(_assemble(cols, outs, leaves, out_spec, spec, rows_first=False))
        return (jac, _release(aux)) if has_aux else jac

    return wrapper


def _rng_changed(state: Any) -> bool:
    from .. import _creation

    now, before = _creation.get_rng_state()._data, state._data
    return now.shape != before.shape or bool((now != before).any())


def hessian(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """The Hessian of the scalar ``func`` with respect to the arguments ``argnums``: forward
    mode over reverse mode, ``jacfwd(jacrev(func, argnums), argnums)``."""
    return jacfwd(jacrev(func, argnums), argnums)
