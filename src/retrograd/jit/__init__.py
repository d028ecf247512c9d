"""``retrograd.jit``: PyTorch's TorchScript entry points, for scripts that decorate or trace.

retrograd has no compiler: ``script``, ``trace``, ``ignore``, ``unused``, ``export`` and
``script_if_tracing`` return what they are given, unchanged, so decorated code runs eagerly with
the same results. ``fork`` runs the function at once and ``wait`` returns its result. Saving or
loading TorchScript archives is not supported and raises.
"""

import typing

__all__ = [
    "script",
    "trace",
    "trace_module",
    "ignore",
    "unused",
    "export",
    "script_if_tracing",
    "is_scripting",
    "is_tracing",
    "annotate",
    "Final",
    "Attribute",
    "fork",
    "wait",
    "Future",
    "save",
    "load",
    "freeze",
    "optimize_for_inference",
]

Final = typing.Final


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """``obj`` itself (a function, module or class): retrograd runs it eagerly."""
    return obj


def trace(func, example_inputs=None, *args, **kwargs):
    """``func`` itself. PyTorch records the ops one call with ``example_inputs`` runs; retrograd
    runs every call eagerly, so there is nothing to record and the other tracing options (checks,
    strictness) have nothing to act on."""
    return func


def trace_module(mod, inputs, *args, **kwargs):
    """``mod`` itself (see ``trace``)."""
    return mod


def ignore(drop=False, **kwargs):
    """``@ignore`` or ``@ignore(drop=...)``: the function, unchanged."""
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    return fn


def export(fn):
    return fn


def script_if_tracing(fn):
    return fn


def is_scripting():
    """False: code never runs under the TorchScript compiler here."""
    return False


def is_tracing():
    return False


def annotate(the_type, the_value):
    """``the_value``: the type is for the TorchScript compiler only."""
    return the_value


def Attribute(value, type):  # noqa: N802 (PyTorch's name)
    """``value``: the type is for the TorchScript compiler only."""
    return value


class Future:
    """The result of ``fork``: already computed."""

    __slots__ = ("_value",)

    def __init__(self, value):
        self._value = value

    def wait(self):
        return self._value

    def value(self):
        return self._value

    def done(self):
        return True


def fork(func, *args, **kwargs):
    """Run ``func(*args, **kwargs)`` now; its result is in the returned ``Future``."""
    return Future(func(*args, **kwargs))


def wait(future):
    return future.wait()


def _no_archive(op):
    raise NotImplementedError(
        f"retrograd.jit.{op}(): TorchScript archives and graph optimisation "
        f"are not supported; save weights with retrograd.save(model.state_dict(), "
        f"path) and run the Python model"
    )


def save(m, f, _extra_files=None):
    _no_archive("save")


def load(f, map_location=None, _extra_files=None):
    _no_archive("load")


def freeze(mod, preserved_attrs=None, optimize_numerics=True):
    _no_archive("freeze")


def optimize_for_inference(mod, other_methods=None):
    _no_archive("optimize_for_inference")
