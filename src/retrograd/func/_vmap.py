"""``vmap``, as ``torch.func.vmap``: a function over examples turned into one over batches.

The inputs' batch dimensions (``in_dims``) become ``BatchedTensor``s of a new level; the function
runs once, every op through its batching rule (func/_batch_rules.py), and the outputs' batch
dimensions are moved to ``out_dims``. ``chunk_size`` runs the batch in chunks and concatenates.
``randomness``: "error" refuses random ops, "same" draws once for the whole batch, and
"different" draws per example: when the function draws at all, it is run once per example.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

from .._tensor import Tensor
from ..autograd._vmap_state import BatchedTensor, DataAccess, _vm, wrap
from . import _batch_rules
from ._batch_rules import NeedsLoop
from ..utils._pytree import MAPPING_NODES, SEQUENCE_NODES, TreeSpec, tree_flatten, tree_unflatten

__all__ = ["vmap"]

_RANDOMNESS = ("error", "different", "same")
_warned_access: set[str] = set()


def _fn_name(func: Callable[..., Any]) -> str:
    return getattr(func, "__name__", repr(func))


def _leaf_dims(dims: Any, spec: TreeSpec, what: str, api: str) -> list[Any]:
    """``dims`` (an int or None, or a tree whose leaves are, a prefix of the structure ``spec``)
    broadcast to one entry per leaf of ``spec``."""
    if dims is None or (isinstance(dims, int) and not isinstance(dims, bool)):
        return [dims] * spec.num_leaves
    if isinstance(dims, (tuple, list, dict)) and spec.type is not None:
        children = spec.children_specs
        if isinstance(dims, dict) and spec.type in MAPPING_NODES and set(dims) == set(spec.context):
            parts = [dims[k] for k in spec.context]
        elif isinstance(dims, (tuple, list)) and spec.type in SEQUENCE_NODES and len(dims) == len(children):
            parts = list(dims)
        else:
            parts = None
        if parts is not None:
            out: list[Any] = []
            for d, child in zip(parts, children):
                out.extend(_leaf_dims(d, child, what, api))
            return out
    if not isinstance(dims, (tuple, list, dict)) or isinstance(dims, bool):
        raise ValueError(
            f"{api}: expected `{what}` to be int or a (potentially nested) tuple matching the "
            f"structure of {'inputs' if what == 'in_dims' else 'outputs'}, got: {type(dims)}."
        )
    raise ValueError(
        f"{api}: {what} is not compatible with the structure of "
        f"`{'inputs' if what == 'in_dims' else 'outputs'}`. {what} has structure "
        f"{tree_flatten(dims)[1]} but {'inputs' if what == 'in_dims' else 'outputs'} has "
        f"structure {spec}."
    )


def _batch_size(leaves: list[Any], dims: list[Any], api: str) -> int:
    sizes = []
    for x, d in zip(leaves, dims):
        if d is None:
            continue
        if not isinstance(x, Tensor):
            raise ValueError(
                f"{api}: Got in_dim={d} for an input but the input is of type {type(x)}. We cannot "
                f"vmap over non-Tensor arguments, please use None as the respective in_dim"
            )
        n = x.dim()
        if not -n <= d < n:
            raise ValueError(
                f"{api}: Got in_dim={d} for some input, but that input is a Tensor of "
                f"dimensionality {n} so expected in_dim to satisfy -{n} <= in_dim < {n}."
            )
        sizes.append(x.shape[d])
    if not sizes:
        raise ValueError(
            f"vmap: Expected at least one Tensor to vmap over (in {api}, every Tensor input has "
            f"in_dim None, or there is none)"
        )
    if any(s != sizes[0] for s in sizes):
        raise ValueError(
            f"{api}: Expected all tensors to have the same size in the mapped dimension, got sizes "
            f"{sizes} for the mapped dimension"
        )
    return sizes[0]


def vmap(
    func: Callable[..., Any],
    in_dims: Any = 0,
    out_dims: Any = 0,
    randomness: str = "error",
    *,
    chunk_size: int | None = None,
) -> Callable[..., Any]:
    """``func`` vectorised over the dimension ``in_dims`` of its inputs: the returned function
    takes batched inputs and returns ``func``'s outputs stacked along ``out_dims``, computed
    with batching rules (one run of ``func``, not a loop). ``in_dims``/``out_dims``: an int, None
    (not batched / not stacked) or a tree (tuple, list, dict) matching the inputs/outputs, whose
    int-or-None leaves apply to every tensor beneath them. Keyword arguments are not batched.
    ``chunk_size`` bounds how many examples run at once. ``randomness``: "error" (random ops
    raise), "same" (one draw shared by the batch) or "different" (independent draws per
    example)."""
    if randomness not in _RANDOMNESS:
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size <= 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")
    if not callable(func):
        raise RuntimeError(f"vmap: func must be callable, got {type(func).__name__}")

    @functools.wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        api = f"vmap({_fn_name(func)}, in_dims={in_dims}, ...)(<inputs>)"
        if not isinstance(in_dims, (int, tuple)) or isinstance(in_dims, bool):
            raise ValueError(
                f"{api}: expected `in_dims` to be int or a (potentially nested) tuple matching the "
                f"structure of inputs, got: {type(in_dims)}."
            )
        if isinstance(in_dims, tuple) and len(in_dims) != len(args):
            raise ValueError(
                f"{api}: Expected `in_dims` to be compatible with the structure of `inputs`: "
                f"in_dims has {len(in_dims)} elements but there are {len(args)} inputs."
            )
        leaves, spec = tree_flatten(args)
        dims = _leaf_dims(in_dims, spec, "in_dims", api)
        size = _batch_size(leaves, dims, api)
        if chunk_size is None or chunk_size >= size:
            return _run(func, leaves, dims, spec, kwargs, size, out_dims, randomness)
        chunks = []
        for start in range(0, size, chunk_size):
            n = min(chunk_size, size - start)
            part = [x.narrow(d, start, n) if d is not None else x for x, d in zip(leaves, dims)]
            chunks.append(_run(func, part, dims, spec, kwargs, n, out_dims, randomness))
        return _concat_chunks(chunks, out_dims)

    return wrapped


def _run(
    func: Callable[..., Any],
    leaves: list[Any],
    dims: list[Any],
    spec: TreeSpec,
    kwargs: dict[str, Any],
    size: int,
    out_dims: Any,
    randomness: str,
) -> Any:
    try:
        return _run_batched(func, leaves, dims, spec, kwargs, size, out_dims, randomness)
    except NeedsLoop as e:
        if e.args:
            _warn_loop(e.args[0], f"{e.args[0]} inside vmap (called by {_fn_name(func)})")
    except DataAccess as e:
        if e.args:
            through = f"it reaches a batched tensor's values or autograd state through {e.args[0]}"
            _warn_loop(e.args[0], f"an op of {_fn_name(func)} ({through})")
    # randomness="different" and the function draws, or an op without a batching rule read
    # the values: one run per example
    outs = []
    for i in range(size):
        example = [x.select(d, i) if d is not None else x for x, d in zip(leaves, dims)]
        outs.append(func(*tree_unflatten(example, spec), **kwargs))
    return _stack_examples(outs, out_dims, func)


def _warn_loop(key: str, what: str) -> None:
    """PyTorch's warning that vmap falls back to a loop, once per cause."""
    if key not in _warned_access:
        _warned_access.add(key)
        warnings.warn(
            f"There is a performance drop because we have not yet implemented the batching rule for "
            f"{what}; vmap runs the function once per example.",
            UserWarning,
            stacklevel=4,
        )


def _run_batched(
    func: Callable[..., Any],
    leaves: list[Any],
    dims: list[Any],
    spec: TreeSpec,
    kwargs: dict[str, Any],
    size: int,
    out_dims: Any,
    randomness: str,
) -> Any:
    level = _vm.push(size, randomness)
    try:
        inner = [wrap(x, d % x.dim() if d is not None else None, level) for x, d in zip(leaves, dims)]
        out = func(*tree_unflatten(inner, spec), **kwargs)
        return _unwrap_outputs(out, out_dims, level, size, func)
    finally:
        _vm.pop()


def _out_leaves(out: Any, out_dims: Any, func: Callable[..., Any]) -> tuple[list[Any], TreeSpec, list[Any]]:
    api = f"vmap({_fn_name(func)}, ...)(<inputs>)"
    leaves, spec = tree_flatten(out)
    dims = _leaf_dims(out_dims if not isinstance(out_dims, list) else tuple(out_dims), spec, "out_dims", api)
    for x in leaves:
        if not isinstance(x, Tensor):
            raise ValueError(
                f"{api}: `{_fn_name(func)}` must only return Tensors, got type {type(x)}. Did you "
                f"mean to set out_dims= to None for output?"
            )
    return leaves, spec, dims


def _unwrap_outputs(out: Any, out_dims: Any, level: int, size: int, func: Callable[..., Any]) -> Any:
    leaves, spec, dims = _out_leaves(out, out_dims, func)
    result = []
    for x, d in zip(leaves, dims):
        batched = type(x) is BatchedTensor and x._level == level
        if d is None:
            if batched:
                raise ValueError(
                    f"vmap({_fn_name(func)}, ...): `{_fn_name(func)}` can not return a BatchedTensor "
                    f"when out_dim is None"
                )
            result.append(x)
            continue
        if batched:
            value = x._value.movedim(x._bdim, 0)
        else:  # the same for every example: expanded, as PyTorch does
            value = x.unsqueeze(0).expand((size,) + tuple(x.shape))
        n = value.dim()
        if not -n <= d < n:
            raise IndexError(
                f"vmap: out_dim={d} is out of range for an output of {n - 1} dimensions "
                f"(expected -{n} <= out_dim < {n})"
            )
        result.append(value.movedim(0, d) if d % n else value)
    return tree_unflatten(result, spec)


def _concat_chunks(chunks: list[Any], out_dims: Any) -> Any:
    from ..ops.shape import cat

    first, spec = tree_flatten(chunks[0])
    dims = _leaf_dims(out_dims if not isinstance(out_dims, list) else tuple(out_dims), spec, "out_dims", "vmap")
    flat = [tree_flatten(c)[0] for c in chunks]
    out = []
    for i, d in enumerate(dims):
        out.append(first[i] if d is None else cat([f[i] for f in flat], d))
    return tree_unflatten(out, spec)


def _stack_examples(outs: list[Any], out_dims: Any, func: Callable[..., Any]) -> Any:
    from ..ops.shape import stack

    first, spec, dims = _out_leaves(outs[0], out_dims, func)
    flat = [tree_flatten(o)[0] for o in outs]
    out = []
    for i, d in enumerate(dims):
        out.append(first[i] if d is None else stack([f[i] for f in flat], d))
    return tree_unflatten(out, spec)


# ----------------------------------------------------------------------------- grad inside vmap
def _to_physical(x: Any) -> Any:
    """A plain tensor of shape (B1, ..., BL, *example shape) holding ``x`` for every example of
    every active level (expanded where ``x`` is not batched at a level)."""
    t = x
    for level in range(len(_vm.sizes), 0, -1):
        if type(t) is BatchedTensor and t._level == level:
            t = t._value.movedim(t._bdim, 0) if t._bdim else t._value
        else:
            t = t.unsqueeze(0).expand((_vm.sizes[level - 1],) + tuple(t.shape))
    return t


def _from_physical(p: Any) -> Any:
    t = p
    for level in range(1, len(_vm.sizes) + 1):
        t = wrap(t, 0, level)
    return t


def batched_grad_and_value(
    func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], argnums: Any, has_aux: bool, api: str
) -> Any:
    """``grad_and_value(func, argnums, has_aux)(*args)`` inside vmap. Each differentiated input
    becomes a leaf holding one copy per example (at every active level), the function runs
    batched, and one backward of the sum of the examples' outputs gives every example's
    gradient (the examples do not interact)."""
    from ..autograd import grad as autograd_grad
    from ..autograd.grad_mode import enable_grad
    from ._transforms import _replace, _slice, _split_aux, _tensor_leaves

    leaves, spec = _tensor_leaves(_slice(args, argnums), api, "args")
    with enable_grad():
        phys = [_to_physical(x).detach().requires_grad_(True) for x in leaves]
        inner = [_from_physical(p) for p in phys]
        output = func(*_replace(args, argnums, tree_unflatten(inner, spec)), **kwargs)
        output, aux = _split_aux(output, has_aux, api)
        if not isinstance(output, Tensor):
            raise RuntimeError(f"{api}: Expected f(*args) to return a Tensor, got {type(output)}")
        if output.dim() != 0:
            raise RuntimeError(
                f"{api}: Expected f(*args) to return a scalar Tensor, got tensor with "
                f"{output.dim()} dims. Maybe you wanted to use the vjp or jacrev APIs instead?"
            )
        out = _to_physical(output)
        if out._rg:
            from .._creation import ones_like

            found = autograd_grad([out], phys, [ones_like(out)], allow_unused=True)
        else:
            found = (None,) * len(phys)
    grads = [_from_physical(g if g is not None else p.detach().new_zeros(p.shape)) for g, p in zip(found, phys)]
    result = tree_unflatten(grads, spec)
    value = output.detach()
    if has_aux:
        from ..utils._pytree import tree_map

        return result, (value, tree_map(lambda a: a.detach() if isinstance(a, Tensor) else a, aux))
    return result, value


_batch_rules.install()
