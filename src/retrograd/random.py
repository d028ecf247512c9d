"""``retrograd.random`` (``torch.random``): the default generator's seed and state, and
``fork_rng``, which runs a block of code on a copy of the random state.

Every draw, ``device="cuda"`` ones included, comes from the CPU generator (cuda tensors are
drawn on the host and copied, see ``retrograd.cuda.manual_seed``), so forking the CPU state
forks them all.
"""

import contextlib

from ._random import Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state

__all__ = [
    "Generator",
    "default_generator",
    "fork_rng",
    "get_rng_state",
    "initial_seed",
    "manual_seed",
    "seed",
    "set_rng_state",
]


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type="cuda"):
    """Save the random state on entry and put it back on exit, so draws inside the block leave
    the stream outside it as it was. ``devices`` lists the ``device_type`` devices whose
    generators are forked too (all of them by default; here they draw from the CPU generator);
    naming devices that are not there raises, as in PyTorch. ``enabled=False`` runs the block
    without forking. Usable as a decorator too."""
    if not enabled:
        yield
        return
    if devices is not None and list(devices):
        from . import cuda

        if device_type != "cuda" or not cuda.is_available():
            raise RuntimeError(
                f"{_caller}: {_devices_kw}={list(devices)} names {device_type} devices, but retrograd has none "
                f"available (the CPU generator, forked here, also draws every cuda tensor's numbers)"
            )
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
