"""Fused recurrent ops: the LSTM cell, and whole LSTM, GRU and Elman RNN layers.

``lstm_cell(gates, c)`` is one LSTM step from the summed pre-activations ``gates = W_ih x +
b_ih + W_hh h + b_hh`` (``(..., 4 * H)``, PyTorch's gate order i, f, g, o) and the previous cell
state ``c`` (``(..., H)``), returning ``(h', c')`` with

    i, f, o = sigmoid(...), g = tanh(...),  c' = f * c + i * g,  h' = o * tanh(c')

Its single output stacks the two along a new leading axis, ``(2, ..., H)``; ``h'`` and ``c'``
are its two halves. The RNN modules use it per step where the sequence is packed or the LSTM
has a projection.

``lstm_layer``, ``gru_layer`` and ``rnn_layer`` run one layer in one direction over a whole
sequence as one op, given the input part of every step's gates (one GEMM over all steps, done
by the caller): the time loop and backpropagation through time run in NumPy, with one GEMM per
step for the recurrent part and W_hh's gradient as one GEMM over all steps.

Every op here has two backwards. Without ``create_graph`` it is NumPy on the values the forward
saved. With ``create_graph`` (or forward-mode AD: grad mode on inside the backward) the same
formulas run in retrograd ops on the saved inputs, the forward recomputed, so double backward
and jvp work. The saved values are copies: an in-place op on an output leaves them alone.
"""

from ...backend import array_module
from ...autograd.grad_mode import _state
from ...ops._registry import Op, apply
from ..._tensor import make_tensor
from ...ops.shape import cat, stack

__all__ = ["lstm_cell", "lstm_layer", "gru_layer", "rnn_layer"]


def _activations(xp, gates):
    """(act, H): sigmoid on the i, f, o blocks and tanh on g, in one array like ``gates``."""
    H = gates.shape[-1] // 4
    act = xp.empty_like(gates)
    # 1 / (1 + e^-x) as retrograd's sigmoid computes it; e^-x overflowing to inf gives 0 (the
    # overflow warning is silenced by the op runner's filter)
    xp.divide(1, xp.add(1, xp.exp(-gates[..., : 2 * H])), out=act[..., : 2 * H])
    xp.divide(1, xp.add(1, xp.exp(-gates[..., 3 * H :])), out=act[..., 3 * H :])
    xp.tanh(gates[..., 2 * H : 3 * H], out=act[..., 2 * H : 3 * H])
    return act, H


def _forward(xp, gates, c):
    act, H = _activations(xp, gates)
    i, f, g, o = act[..., :H], act[..., H : 2 * H], act[..., 2 * H : 3 * H], act[..., 3 * H :]
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
    i, f, g, o = act[..., :H], act[..., H : 2 * H], act[..., 2 * H : 3 * H], act[..., 3 * H :]
    dc = gh * o
    dc *= 1 - tc * tc
    dc += gc
    d = xp.empty(dc.shape[:-1] + (4 * H,), dtype=dc.dtype)
    xp.multiply(dc * g, i * (1 - i), out=d[..., :H])
    xp.multiply(dc * c, f * (1 - f), out=d[..., H : 2 * H])
    xp.multiply(dc * i, 1 - g * g, out=d[..., 2 * H : 3 * H])
    xp.multiply(gh * tc, o * (1 - o), out=d[..., 3 * H :])
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


# --- a whole layer (one direction) as one op --------------------------------------------------
#
# Forward runs the time loop in NumPy: per step one GEMM for the recurrent part and the fused
# gate arithmetic. Backward is backpropagation through time in NumPy: per step the gate
# gradients and one GEMM for the gradient of the previous h, then one GEMM for the gradient of
# W_hh over all steps at once. Under create_graph the same loops run in retrograd ops.


def _layer_forward(xp, x_gates, h0, c0, w_hh, reverse):
    L = x_gates.shape[0]
    H = h0.shape[-1]
    out = xp.empty((L + 1,) + h0.shape, dtype=x_gates.dtype)
    acts = xp.empty_like(x_gates)
    tcs = xp.empty((L,) + h0.shape, dtype=x_gates.dtype)
    cs = xp.empty_like(tcs)
    w_t = w_hh.T
    h, c = h0, c0
    for t in range(L - 1, -1, -1) if reverse else range(L):
        gates = h @ w_t
        gates += x_gates[t]
        act, _ = _activations(xp, gates)
        acts[t] = act
        c_new = cs[t]
        xp.multiply(act[..., H : 2 * H], c, out=c_new)
        c_new += act[..., :H] * act[..., 2 * H : 3 * H]
        xp.tanh(c_new, out=tcs[t])
        h = out[t]
        xp.multiply(act[..., 3 * H :], tcs[t], out=h)
        c = c_new
    out[L] = c
    # the outputs are copied for the backward: an in-place op on them must not change it
    return out, (out[:L].copy(), acts, tcs, cs)


def _h_prev(xp, out, h0, reverse):
    """The h each step started from: the outputs shifted by one step, h0 first."""
    h_prev = xp.empty_like(out)
    L = out.shape[0]
    if reverse:
        h_prev[: L - 1] = out[1:]
        h_prev[L - 1] = h0
    else:
        h_prev[1:] = out[: L - 1]
        h_prev[0] = h0
    return h_prev


def _layer_backward_arrays(xp, g, x_gates, h0, c0, w_hh, hs, acts, tcs, cs, reverse):
    L = x_gates.shape[0]
    order = range(L) if reverse else range(L - 1, -1, -1)
    step = 1 if reverse else -1  # offset of the previous time step
    d_all = xp.empty_like(x_gates)
    dh = None
    dc = g[L]
    for t in order:
        prev = t + step
        gh = g[t] if dh is None else g[t] + dh
        d, dc = _backward_arrays(xp, gh, dc, c0 if prev < 0 or prev >= L else cs[prev], acts[t], tcs[t])
        d_all[t] = d
        dh = d @ w_hh
    h_prev = _h_prev(xp, hs, h0, reverse)
    n = x_gates.shape[-1]
    dw = d_all.reshape(-1, n).T @ h_prev.reshape(-1, h0.shape[-1])
    return d_all, dh, dc, dw


def _layer_backward_ops(g, x_gates, h0, c0, w_hh, reverse):
    """The same gradients in retrograd ops: the forward recomputed, then the loop backwards."""
    L = x_gates.shape[0]
    order = list(range(L - 1, -1, -1) if reverse else range(L))
    w_t = w_hh.t()
    h, c = h0, c0
    steps = {}
    for t in order:
        gates = x_gates[t] + h @ w_t
        steps[t] = (gates, h, c)
        h, c = lstm_cell(gates, c)
    dh = None
    dc = g[L]
    d_all = [None] * L
    dw = None
    for t in reversed(order):
        gates, h_prev, c_prev = steps[t]
        gh = g[t] if dh is None else g[t] + dh
        d, dc = _backward_ops(gh, dc, gates, c_prev)
        d_all[t] = d
        dh = d @ w_hh
        dw_t = d.transpose(-1, -2) @ h_prev
        dw = dw_t if dw is None else dw + dw_t
    return stack(d_all, 0), dh, dc, dw


def _layer_vjp(grad, needs, x_gates, h0, c0, w_hh, extra, reverse):
    if _state.enabled:
        grads = _layer_backward_ops(grad, x_gates, h0, c0, w_hh, reverse)
    else:
        arrays = _layer_backward_arrays(
            array_module(x_gates._data), grad._data, x_gates._data, h0._data, c0._data, w_hh._data, *extra, reverse
        )
        grads = tuple(make_tensor(a, None, False) for a in arrays)
    return tuple(gr if need else None for gr, need in zip(grads, needs))


LSTM_LAYER = Op("lstm_layer", _layer_forward, _layer_vjp, save=("x", "y", "z", "w", "extra"), needs=True)


def lstm_layer(x_gates, h0, c0, w_hh, reverse=False):
    """One LSTM layer in one direction over a whole sequence.

    ``x_gates`` ``(L, N, 4 * H)`` holds the input part of every step's gates with both biases
    added (``W_ih x_t + b_ih + b_hh``); ``h0``, ``c0`` ``(N, H)`` start the recurrence (at step
    ``L - 1`` when ``reverse``). Returns ``(hs, h_n, c_n)``: the ``(L, N, H)`` outputs in time
    order and the final states."""
    L = x_gates.shape[0]
    out = apply(LSTM_LAYER, (x_gates, h0, c0, w_hh), (reverse,))
    return out[:L], out[0 if reverse else L - 1], out[L]


# --- GRU layer (one direction) as one op -------------------------------------------------------
#
# r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z);  n = tanh(x_n + r * h_n);  h' = n + z * (h - n)
# with x_* = W_i* x + b_i* (all steps at once) and h_* = W_h* h + b_h* (one GEMM per step).


def _gru_step_backward(gh, h, r, z, n, hn, join):
    """Gradients of one GRU step from dL/dh': those of its input gates, of its recurrent gates
    (h_r, h_z, h_n) and of h through the direct path. ``join`` concatenates along the last
    axis; the arithmetic works on arrays and on Tensors alike."""
    dn = gh * (1 - z) * (1 - n * n)
    dr = dn * hn * r * (1 - r)
    dz = gh * (h - n) * z * (1 - z)
    return join([dr, dz, dn]), join([dr, dz, dn * r]), gh * z


def _gru_forward(xp, x_gates, h0, w_hh, b_hh, reverse):
    L = x_gates.shape[0]
    H = h0.shape[-1]
    out = xp.empty((L,) + h0.shape, dtype=x_gates.dtype)
    rz = xp.empty((L,) + h0.shape[:-1] + (2 * H,), dtype=x_gates.dtype)
    ns = xp.empty_like(out)
    hns = xp.empty_like(out)
    w_t = w_hh.T
    h = h0
    for t in range(L - 1, -1, -1) if reverse else range(L):
        hg = h @ w_t
        hg += b_hh
        x = x_gates[t]
        pre = x[..., : 2 * H] + hg[..., : 2 * H]
        xp.divide(1, xp.add(1, xp.exp(-pre)), out=rz[t])
        hns[t] = hg[..., 2 * H :]
        n = ns[t]
        xp.multiply(rz[t, ..., :H], hns[t], out=n)
        n += x[..., 2 * H :]
        xp.tanh(n, out=n)
        h_new = out[t]
        xp.subtract(h, n, out=h_new)
        h_new *= rz[t, ..., H:]
        h_new += n
        h = h_new
    return out, (out.copy(), rz, ns, hns)


def _gru_backward_arrays(xp, g, h0, w_hh, out, rz, ns, hns, reverse):
    L = out.shape[0]
    H = h0.shape[-1]
    h_prev = _h_prev(xp, out, h0, reverse)
    dx_all = xp.empty(out.shape[:-1] + (3 * H,), dtype=out.dtype)
    dhg_all = xp.empty_like(dx_all)
    join = lambda parts: xp.concatenate(parts, -1)  # noqa: E731
    dh = None
    for t in range(L) if reverse else range(L - 1, -1, -1):
        gh = g[t] if dh is None else g[t] + dh
        dx, dhg, dh = _gru_step_backward(gh, h_prev[t], rz[t, ..., :H], rz[t, ..., H:], ns[t], hns[t], join)
        dh += dhg @ w_hh
        dx_all[t] = dx
        dhg_all[t] = dhg
    flat = dhg_all.reshape(-1, 3 * H)
    return dx_all, dh, flat.T @ h_prev.reshape(-1, H), flat.sum(0)


def _gru_backward_ops(g, x_gates, h0, w_hh, b_hh, reverse):
    """The same gradients in retrograd ops: the forward recomputed, then the loop backwards."""
    L = x_gates.shape[0]
    order = list(range(L - 1, -1, -1) if reverse else range(L))
    join = lambda parts: cat(parts, -1)  # noqa: E731
    h = h0
    steps = {}
    for t in order:
        xr, xz, xn = x_gates[t].chunk(3, -1)
        hr, hz, hn = (h @ w_hh.t() + b_hh).chunk(3, -1)
        r, z = (xr + hr).sigmoid(), (xz + hz).sigmoid()
        n = (xn + r * hn).tanh()
        steps[t] = (h, r, z, n, hn)
        h = n + z * (h - n)
    dh = None
    dx_all = [None] * L
    dw = db = None
    for t in reversed(order):
        h_prev = steps[t][0]
        gh = g[t] if dh is None else g[t] + dh
        dx, dhg, dh = _gru_step_backward(gh, *steps[t], join)
        dh = dh + dhg @ w_hh
        dx_all[t] = dx
        dw_t, db_t = dhg.transpose(-1, -2) @ h_prev, dhg.sum(0)
        dw, db = (dw_t, db_t) if dw is None else (dw + dw_t, db + db_t)
    return stack(dx_all, 0), dh, dw, db


def _gru_vjp(grad, needs, x_gates, h0, w_hh, b_hh, extra, reverse):
    if _state.enabled:
        grads = _gru_backward_ops(grad, x_gates, h0, w_hh, b_hh, reverse)
    else:
        arrays = _gru_backward_arrays(array_module(x_gates._data), grad._data, h0._data, w_hh._data, *extra, reverse)
        grads = tuple(make_tensor(a, None, False) for a in arrays)
    return tuple(gr if need else None for gr, need in zip(grads, needs))


GRU_LAYER = Op("gru_layer", _gru_forward, _gru_vjp, save=("x", "y", "z", "w", "extra"), needs=True)


def gru_layer(x_gates, h0, w_hh, b_hh, reverse=False):
    """One GRU layer in one direction over a whole sequence.

    ``x_gates`` ``(L, N, 3 * H)`` holds the input part of every step's gates (``W_ih x_t +
    b_ih``), ``b_hh`` ``(3 * H,)`` the recurrent bias (zeros without bias); ``h0`` ``(N, H)``
    starts the recurrence (at step ``L - 1`` when ``reverse``). Returns the ``(L, N, H)`` outputs
    in time order; the final state is the last step's (the first's when ``reverse``)."""
    return apply(GRU_LAYER, (x_gates, h0, w_hh, b_hh), (reverse,))


# --- Elman RNN layer (one direction) as one op: h' = tanh or relu(x_t + W_hh h) ------------------


def _rnn_forward(xp, x_gates, h0, w_hh, reverse, relu):
    L = x_gates.shape[0]
    out = xp.empty((L,) + h0.shape, dtype=x_gates.dtype)
    w_t = w_hh.T
    h = h0
    for t in range(L - 1, -1, -1) if reverse else range(L):
        h_new = out[t]
        xp.matmul(h, w_t, out=h_new)
        h_new += x_gates[t]
        if relu:
            xp.maximum(h_new, 0, out=h_new)
        else:
            xp.tanh(h_new, out=h_new)
        h = h_new
    return out, out.copy()


def _rnn_backward_arrays(xp, g, h0, w_hh, hs, reverse, relu):
    L = hs.shape[0]
    d_all = xp.empty_like(hs)
    dh = None
    for t in range(L) if reverse else range(L - 1, -1, -1):
        gh = g[t] if dh is None else g[t] + dh
        d = gh * (hs[t] > 0) if relu else gh * (1 - hs[t] * hs[t])
        d_all[t] = d
        dh = d @ w_hh
    h_prev = _h_prev(xp, hs, h0, reverse)
    return d_all, dh, d_all.reshape(-1, hs.shape[-1]).T @ h_prev.reshape(-1, hs.shape[-1])


def _rnn_backward_ops(g, x_gates, h0, w_hh, reverse, relu):
    """The same gradients in retrograd ops: the forward recomputed, then the loop backwards."""
    L = x_gates.shape[0]
    order = list(range(L - 1, -1, -1) if reverse else range(L))
    h = h0
    steps = {}
    for t in order:
        pre = x_gates[t] + h @ w_hh.t()
        steps[t] = (h, pre)
        h = pre.relu() if relu else pre.tanh()
    dh = dw = None
    d_all = [None] * L
    for t in reversed(order):
        h_prev, pre = steps[t]
        gh = g[t] if dh is None else g[t] + dh
        if relu:
            d = gh * (pre > 0).to(pre.dtype)
        else:
            out = pre.tanh()
            d = gh * (1 - out * out)
        d_all[t] = d
        dh = d @ w_hh
        dw_t = d.transpose(-1, -2) @ h_prev
        dw = dw_t if dw is None else dw + dw_t
    return stack(d_all, 0), dh, dw


def _rnn_vjp(grad, needs, x_gates, h0, w_hh, hs, reverse, relu):
    if _state.enabled:
        grads = _rnn_backward_ops(grad, x_gates, h0, w_hh, reverse, relu)
    else:
        arrays = _rnn_backward_arrays(array_module(x_gates._data), grad._data, h0._data, w_hh._data, hs, reverse, relu)
        grads = tuple(make_tensor(a, None, False) for a in arrays)
    return tuple(gr if need else None for gr, need in zip(grads, needs))


RNN_LAYER = Op("rnn_layer", _rnn_forward, _rnn_vjp, save=("x", "y", "z", "extra"), needs=True)


def rnn_layer(x_gates, h0, w_hh, reverse=False, relu=False):
    """One Elman RNN layer in one direction over a whole sequence.

    ``x_gates`` ``(L, N, H)`` holds ``W_ih x_t + b_ih + b_hh`` for every step; ``h0`` ``(N, H)``
    starts the recurrence (at step ``L - 1`` when ``reverse``). Returns the ``(L, N, H)`` outputs
    in time order; the final state is the last step's (the first's when ``reverse``)."""
    return apply(RNN_LAYER, (x_gates, h0, w_hh), (reverse, relu))
