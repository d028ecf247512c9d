"""``swap_in_optimizer_params_and_state``: step an optimizer on other parameters and state
for the duration of a ``with`` block, as PyTorch's."""

import contextlib
from collections import defaultdict

from .._tensor import Tensor

_NAME = "swap_in_optimizer_params_and_state"


def _check(cond, message):
    if not cond:
        raise RuntimeError(f"{_NAME} requires {message}")


def _plan(optimizer, parameters, optim_state):
    """Validate the swap-in state dict against the live optimizer; returns its per-parameter
    state (by packed id) and, per group, ``(live group, saved group, its parameters)``."""
    _check(bool(optimizer.state), "initialized optimizer state (step the optimizer once, or load a state dict, first).")
    _check(isinstance(optim_state, dict), "an optimizer.state_dict()-style dict ({'state': ..., 'param_groups': ...}).")
    state = optim_state.get("state")
    _check(
        isinstance(state, dict),
        f"swapin_optim_state['state'] to be a dict mapping packed "
        f"parameter ids to per-param state dicts, got "
        f"{type(state).__name__}.",
    )
    _check(
        not any(isinstance(k, Tensor) for k in state),
        "optimizer.state_dict()-style state keyed by packed parameter ids.",
    )
    _check(
        all(isinstance(v, dict) for k, v in state.items() if isinstance(k, int)),
        "per-parameter optimizer state entries to be dictionaries.",
    )
    groups = optim_state.get("param_groups")
    _check(
        isinstance(groups, list),
        f"swapin_optim_state['param_groups'] to be a list of param-group dicts, got {type(groups).__name__}.",
    )
    if len(groups) != len(optimizer.param_groups):
        raise RuntimeError(
            f"{_NAME}: swapin_optim_state has {len(groups)} parameter groups, the "
            f"optimizer {len(optimizer.param_groups)}."
        )
    tensors = list(parameters.values())
    offset, seen, plan = 0, set(), []
    for i, (live, saved) in enumerate(zip(optimizer.param_groups, groups)):
        _check(isinstance(saved, dict), "each optimizer param group to be a dictionary.")
        ids = saved.get("params")
        _check(
            isinstance(ids, list) and all(isinstance(k, int) for k in ids),
            "optimizer.state_dict()-style param_groups[*]['params'] entries keyed by packed parameter ids.",
        )
        if len(ids) != len(live["params"]):
            raise RuntimeError(
                f"{_NAME}: swapin_optim_state param group {i} has {len(ids)} "
                f"params, the live optimizer's {len(live['params'])}."
            )
        only_saved = [k for k in saved if k not in live]
        only_live = [k for k in live if k not in saved]
        _check(
            not only_saved and not only_live,
            f"optimizer.state_dict()-style param group keys to exactly match the live "
            f"optimizer group keys for group {i}. Keys only in swap-in: {only_saved}. Keys "
            f"only in live: {only_live}.",
        )
        _check(
            offset + len(ids) <= len(tensors), "the explicit parameter state to match optimizer.param_groups ordering."
        )
        plan.append((live, saved, tensors[offset : offset + len(ids)]))
        offset += len(ids)
        seen.update(ids)
    extra = [k for k in state if k not in seen]
    _check(
        not extra,
        f"swapin_optim_state['state'] to be keyed only by packed parameter ids "
        f"from param_groups[*]['params']; got extra keys {extra!r}.",
    )
    return state, plan


@contextlib.contextmanager
def swap_in_optimizer_params_and_state(optimizer, swapin_parameters, swapin_optim_state):
    """Within the block, ``optimizer`` steps ``swapin_parameters`` (a dict of tensors, in the
    order of the optimizer's parameters, e.g. ``model.named_parameters()`` order) with the
    options and state of ``swapin_optim_state`` (an ``optimizer.state_dict()``-shaped dict);
    its own parameters, options and state are restored on exit.

    The swapped-in state tensors are updated in place (the caller's dict sees the updates);
    entries the step adds or replaces stay local to the block. The optimizer's state must
    already be initialized.
    """
    state, plan = _plan(optimizer, swapin_parameters, swapin_optim_state)
    live_state = optimizer.state
    snapshots = [dict(g) for g in optimizer.param_groups]
    try:
        swapped = defaultdict(dict)
        for live, saved, tensors in plan:
            live.update({k: v for k, v in saved.items() if k != "params"})
            live["params"] = tensors
            for t, pid in zip(tensors, saved["params"]):
                swapped[t] = dict(state.get(pid, {}))
        optimizer.state = swapped
        yield
    finally:
        for group, snap in zip(optimizer.param_groups, snapshots):
            group.clear()
            group.update(snap)
        optimizer.state = live_state
