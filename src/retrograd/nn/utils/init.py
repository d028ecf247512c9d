"""Making a module without initialising its parameters."""

import inspect

__all__ = ["skip_init"]


def skip_init(module_cls, *args, **kwargs):
    """``module_cls(*args, **kwargs)`` whose parameters and buffers are left for the caller to
    fill: their values are unspecified, as in PyTorch (whose uninitialised memory this stands
    for). The class must take a ``device`` argument; the module is made on ``kwargs["device"]``
    (the CPU by default).

    PyTorch builds the module on its ``meta`` device, which retrograd does not have, so the
    module's own initialisation runs here: the result is the same contract, without the time
    saved."""
    from ..modules.module import Module

    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    kwargs.setdefault("device", "cpu")
    return module_cls(*args, **kwargs)
