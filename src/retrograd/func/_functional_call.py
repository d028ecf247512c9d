"""``functional_call`` (a module run with other parameters and buffers) and ``stack_module_state``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._tensor import Tensor

__all__ = ["functional_call", "stack_module_state"]


def _merged(parameter_and_buffer_dicts: Any) -> dict[str, Any]:
    if isinstance(parameter_and_buffer_dicts, dict):
        return dict(parameter_and_buffer_dicts)
    if isinstance(parameter_and_buffer_dicts, Sequence) and not isinstance(parameter_and_buffer_dicts, str):
        if not all(isinstance(d, dict) for d in parameter_and_buffer_dicts):
            raise ValueError("Expected all elements of parameter_and_buffer_dicts to be dictionaries")
        seen: dict[str, int] = {}
        for d in parameter_and_buffer_dicts:
            for k in d:
                seen[k] = seen.get(k, 0) + 1
        repeated = [k for k, n in seen.items() if n > 1]
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional call is ambiguous")
        return {k: v for d in parameter_and_buffer_dicts for k, v in d.items()}
    raise ValueError(
        f"Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, but got "
        f"{type(parameter_and_buffer_dicts)}"
    )


def _untied(module: Any, values: dict[str, Any]) -> dict[str, Any]:
    """Extend ``values`` to every name of a tied tensor given under one of its names; different
    values given for names of one tied tensor are a ValueError."""
    names_of: dict[int, set[str]] = {}
    for name, t in list(module.named_parameters(remove_duplicate=False)) + list(
        module.named_buffers(remove_duplicate=False)
    ):
        names_of.setdefault(id(t), set()).add(name)
    result = dict(values)
    for names in names_of.values():
        if len(names) < 2:
            continue
        given = sorted(n for n in names if n in values)
        if not given:
            continue
        if len({id(values[n]) for n in given}) > 1:
            raise ValueError(
                f"functional_call got multiple values for keys {sorted(names)}, which are tied. "
                f"Consider using tie_weights=False"
            )
        for n in names:
            result[n] = values[given[0]]
    return result


def _slot(module: Any, name: str) -> tuple[Any, str]:
    """The submodule owning dotted ``name``, and the last component."""
    *path, leaf = name.split(".")
    owner = module
    for part in path:
        owner = getattr(owner, part)
    return owner, leaf


def _swap(module: Any, name: str, value: Any) -> tuple[str, Any]:
    """Put ``value`` in place of ``name``; returns how to undo it: (where it was, old value)."""
    owner, leaf = _slot(module, name)
    for where in ("_parameters", "_buffers"):
        store = owner.__dict__.get(where)
        if store is not None and leaf in store:
            old = store[leaf]
            store[leaf] = value
            return where, old
    missing = object()
    old = owner.__dict__.get(leaf, missing)
    object.__setattr__(owner, leaf, value)
    return "__dict__", None if old is missing else old


def _restore(module: Any, name: str, where: str, old: Any) -> None:
    owner, leaf = _slot(module, name)
    if where == "__dict__":
        if old is None:
            owner.__dict__.pop(leaf, None)
        else:
            object.__setattr__(owner, leaf, old)
    else:
        owner.__dict__[where][leaf] = old


def functional_call(
    module: Any,
    parameter_and_buffer_dicts: Any,
    args: Any = None,
    kwargs: Any = None,
    *,
    tie_weights: bool = True,
    strict: bool = False,
) -> Any:
    """Call ``module(*args, **kwargs)`` with its parameters and buffers (dotted names) replaced by
    the given tensors for the duration of the call, then restore them. ``args`` that is not a
    tuple is a single argument. ``tie_weights``: a value given for one name of a tied tensor
    replaces it under all its names (different values for one tied tensor are an error).
    ``strict``: the given names must be exactly the module's parameters and buffers."""
    values = _merged(parameter_and_buffer_dicts)
    if tie_weights:
        values = _untied(module, values)
    if strict:
        expected = {n for n, _ in module.named_parameters(remove_duplicate=False)} | {
            n for n, _ in module.named_buffers(remove_duplicate=False)
        }
        unexpected = [k for k in values if k not in expected]
        missing = [k for k in expected if k not in values]
        msgs = []
        if unexpected:
            msgs.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
        if missing:
            msgs.append(f"Missing key(s): {', '.join(map(repr, sorted(missing)))}.")
        if msgs:
            raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:\n\t" + "\n\t".join(msgs))
    if kwargs is None:
        kwargs = {}
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    undo = []
    try:
        for name, value in values.items():
            undo.append((name,) + _swap(module, name, value))
        return module(*args, **kwargs)
    finally:
        for name, where, old in reversed(undo):
            _restore(module, name, where, old)


def stack_module_state(models: Any) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """``(params, buffers)``: each parameter and buffer of the ``models`` (same class, same
    training mode) stacked along a new first dimension, by name. Stacked parameters are new
    leaves requiring grad (when every model's does); buffers are stacked as they are."""
    from ..ops.shape import stack

    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or not any(m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    if not all(type(m) is type(models[0]) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")

    def stacked(tensors: list[Tensor], name: str) -> Tensor:
        flags = {t.requires_grad for t in tensors}
        if len(flags) > 1:
            raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
        result = stack([t.detach() for t in tensors])
        return result.requires_grad_() if flags == {True} else result

    all_params = [dict(m.named_parameters()) for m in models]
    all_buffers = [dict(m.named_buffers()) for m in models]
    params = {k: stacked([p[k] for p in all_params], k) for k in all_params[0]}
    buffers = {k: stacked([b[k] for b in all_buffers], k) for k in all_buffers[0]}
    return params, buffers
