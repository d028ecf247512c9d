"""Fused LSTM cell: one op per time step from the gate pre-activations to the new h and c.

``lstm_cell(gates, c)`` takes the summed pre-activations ``gates = W_ih x + b_ih + W_hh h + b_hh``
(``(..., 4 * H)``, PyTorch's gate order i, f, g, o) and the previous cell state ``c`` (``(..., H)``)
and returns ``(h', c')`` with

    i, f, o = sigmoid(...), g = tanh(...),  c' = f * c + i * g,  h' = o * tanh(c')

The op's single output stacks the two along a new leading axis, ``(2, ..., H)``; ``h'`` and
``c'`` are its two contiguous halves. Unfused, a step records eleven nodes (chunk, four
activations, three products, a sum, tanh, product); fused it records one plus the two selects.

Backward: without ``create_graph`` it is one NumPy pass from the activations saved by the
forward. With ``create_graph`` (grad mode on inside the backward) the same formulas are written
in retrograd ops on the saved inputs, so double backward and forward-mode AD work.
"""
import contextlib

import numpy as np

from ...backend import array_module
from ...autograd.grad_mode import _state
from ...ops._registry import Op, apply
from ..._tensor import make_tensor
from ...ops.shape import cat

__all__ = ["lstm_cell"]


def _activations(xp, gates):
    """(act, H): sigmoid on the i, f, o blocks and tanh on g, in one array like ``gates``."""
    H = gates.shape[-1] // 4
    act = xp.empty_like(gates)
    with _quiet(xp):
        # 1 / (1 + e^-x) as retrograd's sigmoid computes it; e^-x overflowing to inf gives 0
        xp.divide(1, xp.add(1, xp.exp(-gates[..., :2 * H])), out=act[..., :2 * H])
        xp.divide(1, xp.add(1, xp.exp(-gates[..., 3 * H:])), out=act[..., 3 * H:])
    xp.tanh(gates[..., 2 * H:3 * H], out=act[..., 2 * H:3 * H])
    return act, H


def _quiet(xp):
    return np.errstate(over="ignore") if xp is np else contextlib.nullcontext()


def _forward(xp, gates, c):
    act, H = _activations(xp, gates)
    i, f, g, o = act[..., :H], act[..., H:2 * H], act[..., 2 * H:3 * H], act[..., 3 * H:]
    out = xp.empty((2,) + c.shape, dtype=act.dtype)
    c_new = out[1]
    xp.multiply(f, c, out=c_new)
    c_new += i * g
    tc = xp.tanh(c_new)
    xp.multiply(o, tc, out=out[0])
    return out, (act, tc)


def _backward_arrays(xp, gh, gc, c, act, tc):
    """(d gates, d c) from the gradients of h' and c' and the forward's saved values."""
    H = tc.shape[-1]
    i, f, g, o = act[..., :H], act[..., H:2 * H], act[..., 2 * H:3 * H], act[..., 3 * H:]
    dc = gh * o
    dc *= 1 - tc * tc
    dc += gc
    d = xp.empty(dc.shape[:-1] + (4 * H,), dtype=dc.dtype)
    xp.multiply(dc * g, i * (1 - i), out=d[..., :H])
    xp.multiply(dc * c, f * (1 - f), out=d[..., H:2 * H])
    xp.multiply(dc * i, 1 - g * g, out=d[..., 2 * H:3 * H])
    xp.multiply(gh * tc, o * (1 - o), out=d[..., 3 * H:])
    return d, dc * f


def _backward_ops(gh, gc, gates, c):
    """The same gradients in retrograd ops of ``gates`` and ``c``: differentiable again."""
    i, f, g, o = gates.chunk(4, -1)
    i, f, o, g = i.sigmoid(), f.sigmoid(), o.sigmoid(), g.tanh()
    tc = (f * c + i * g).tanh()
    dc = gc + gh * o * (1 - tc * tc)
    d = cat([dc * g * i * (1 - i), dc * c * f * (1 - f), dc * i * (1 - g * g), gh * tc * o * (1 - o)], -1)
    return d, dc * f


def _vjp(grad, needs, gates, c, extra):
    if _state.enabled:  # create_graph (or forward-mode AD): a differentiable backward
        d, dc = _backward_ops(grad[0], grad[1], gates, c)
    else:
        g = grad._data
        a = gates._data
        d, dc = _backward_arrays(array_module(a), g[0], g[1], c._data, *extra)
        d, dc = make_tensor(d, None, False), make_tensor(dc, None, False)
    return (d if needs[0] else None), (dc if needs[1] else None)


LSTM_CELL = Op("lstm_cell", _forward, _vjp, save=("x", "y", "extra"), needs=True)


def lstm_cell(gates, c):
    """``(h', c')`` of one LSTM step from the summed gate pre-activations and the cell state."""
    out = apply(LSTM_CELL, (gates, c))
    return out[0], out[1]


def lstm_cell_reference(gates, c):
    """The unfused computation (for tests): the same ``(h', c')`` from elementwise ops."""
    i, f, g, o = gates.chunk(4, -1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c.tanh(), c

