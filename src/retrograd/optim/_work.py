"""Scratch arrays and the gradient preamble shared by the optimizer kernels."""

import numpy as np

from ..backend import array_module
from ..backend.meta import MetaArray


class Workspace:
    """Scratch arrays for kernels, reused across parameters and steps so that a step allocates
    nothing that scales with the model.

    ``get(slot, like)`` is an uninitialised array shaped like ``like`` (same dtype, same array
    module and device); different slots are different arrays, and a slot's array is only valid
    until the next ``get`` of that slot. An optimizer keeps one for its lifetime; a kernel called
    without one makes its own for the call.
    """

    __slots__ = ("_arrays",)

    def __init__(self):
        self._arrays = {}

    def get(self, slot, like):
        if type(like) is np.ndarray:
            key = (slot, like.dtype)
        elif type(like) is MetaArray:  # a meta parameter: nothing to hold
            return MetaArray(like.shape, like.dtype)
        else:
            key = (slot, like.dtype, type(like), like.device.id)
        buf = self._arrays.get(key)
        n = like.size
        if buf is None or buf.size < n:
            if type(like) is np.ndarray:
                buf = np.empty(n, like.dtype)
            else:
                with like.device:
                    buf = array_module(like).empty(n, like.dtype)
            self._arrays[key] = buf
        return buf[:n].reshape(like.shape)


def grad_term(xp, param, grad, weight_decay, maximize, work):
    """The gradient a rule uses: ``(-grad if maximize else grad) + weight_decay * param``.

    Returns ``grad`` itself when there is nothing to add (it is never written), else the work
    array of slot ``"g"``."""
    if weight_decay == 0 and not maximize:
        return grad
    t = work.get("g", param)
    if weight_decay != 0:
        xp.multiply(param, weight_decay, out=t)
        if maximize:
            xp.subtract(t, grad, out=t)
        else:
            xp.add(grad, t, out=t)
    else:
        xp.negative(grad, out=t)
    return t


def lerp_(xp, avg, grad, weight, t):
    """``avg.lerp_(grad, weight)`` in place, with PyTorch's two formulas (``avg + w (grad - avg)``
    for ``w < 0.5``, ``grad - (1 - w)(grad - avg)`` otherwise, which keep the rounding of each
    end exact); ``t`` is a work array like ``avg``."""
    xp.subtract(grad, avg, out=t)
    if weight < 0.5:
        t *= weight
        avg += t
    else:
        t *= 1 - weight
        xp.subtract(grad, t, out=avg)
