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

from ...backend import array_module, blas
from ...autograd.grad_mode import _state
from ...ops._registry import Op, apply
from ..._tensor import make_tensor
from ...ops.shape import cat

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
# The layer ops take the sequence packed: ``x_gates`` (T, G) holds the time steps one after
# another, step t being ``batch_sizes[t]`` rows (non-increasing, the sequences sorted by length,
# as in a PackedSequence); an unpacked (L, N, G) sequence is L steps of N rows. Step t advances
# the first batch_sizes[t] rows of the recurrent state and leaves the others alone: in the
# forward direction those are the sequences that have ended, in the reverse direction those
# that have not started yet and still hold h0. The op's output stacks every step's output
# (T, H), then the final state (N, H), then (LSTM) the final cell state (N, H).
#
# Forward runs the time loop in NumPy: per step one GEMM adding the recurrent part into the gate
# buffer, then the gate arithmetic in place. Backward is backpropagation through time in NumPy:
# the factors of the gate derivatives that do not depend on the incoming gradient are computed
# for all steps at once, then per step a few multiplies and one GEMM for the gradient of the
# previous state; W_hh's gradient is one GEMM over all steps. Under create_graph the same loops
# run in retrograd ops.


def _offsets(batch_sizes):
    """The first row of each step in the packed layout."""
    offs, o = [], 0
    for b in batch_sizes:
        offs.append(o)
        o += b
    return offs


def _order(L, reverse):
    return range(L - 1, -1, -1) if reverse else range(L)


def _first_state(init, batch_sizes, reverse):
    """The rows of the initial state the first step advances."""
    if not batch_sizes:
        return init
    return init[: batch_sizes[-1 if reverse else 0]]


def _state_rows(xp, state, init, b, final):
    """The state a step of ``b`` rows starts from, given ``state``, the rows the previous step
    left. Rows past ``b`` have ended (forward direction): their state is final and is copied to
    ``final``. Missing rows start here (reverse direction), from ``init``."""
    r = state.shape[0]
    if r > b:
        final[b:r] = state[b:]
        return state[:b]
    if r < b:
        return xp.concatenate((state, init[r:b]))
    return state


def _prev_rows(xp, seq, init, batch_sizes, reverse):
    """The state each step started from, packed like ``seq`` (the states each step left):
    the previous step's rows (the next step's when ``reverse``), ``init``'s where there were
    none."""
    L, N = len(batch_sizes), init.shape[0]
    out = xp.empty_like(seq)
    if all(b == N for b in batch_sizes):  # unpacked: the whole sequence shifted by one step
        s, o = seq.reshape(L, N, seq.shape[-1]), out.reshape(L, N, seq.shape[-1])
        if reverse:
            o[: L - 1] = s[1:]
            o[L - 1] = init
        else:
            o[1:] = s[: L - 1]
            o[0] = init
        return out
    offs = _offsets(batch_sizes)
    for t, (o, b) in enumerate(zip(offs, batch_sizes)):
        p = t + 1 if reverse else t - 1
        k = min(b, batch_sizes[p]) if 0 <= p < L else 0
        if k:
            out[o : o + k] = seq[offs[p] : offs[p] + k]
        out[o + k : o + b] = init[k:b]
    return out


def _merge(new, state, b):
    """``state`` (a Tensor) with its first ``b`` rows replaced by ``new``."""
    return new if b == state.shape[0] else cat([new, state[b:]], 0)


def _sigmoid_(xp, a):
    """a = 1 / (1 + e^-a) in place, as retrograd's sigmoid computes it; e^-a overflowing to
    inf gives 0 (the overflow warning is silenced by the op runner's filter)."""
    xp.negative(a, out=a)
    xp.exp(a, out=a)
    a += 1
    xp.reciprocal(a, out=a)


def _lstm_forward(xp, x_gates, h0, c0, w_hh, batch_sizes, reverse):
    T = x_gates.shape[0]
    N, H = h0.shape
    dtype = x_gates.dtype
    out = xp.empty((T + 2 * N, H), dtype=dtype)
    hs, h_n, c_n = out[:T], out[T : T + N], out[T + N :]
    acts = xp.empty_like(x_gates)
    cs = xp.empty((T, H), dtype=dtype)
    tcs = xp.empty_like(cs)
    ig = xp.empty((N, H), dtype=dtype)
    # One tanh over all four gates: sigmoid(x) = (1 + tanh(x / 2)) / 2. Halving is exact (a
    # power of two), so it goes into the operands: the i, f, o columns of x_gates and of W_hh^T
    # are scaled by 1/2 and the GEMM adds into the scaled inputs. Per step that is 4 NumPy calls
    # for the gates where the exp form took 8 (LSTM step, 32 x 512 gates: 29 -> 14 us).
    half = xp.full(4 * H, 0.5, dtype=dtype)
    half[2 * H : 3 * H] = 1
    shift = xp.full(4 * H, 0.5, dtype=dtype)
    shift[2 * H : 3 * H] = 0
    w_t = xp.ascontiguousarray(w_hh.T) * half  # BLAS runs h @ w_t faster from C order than from the transposed view
    offs = _offsets(batch_sizes)
    h, c = _first_state(h0, batch_sizes, reverse), _first_state(c0, batch_sizes, reverse)
    for t in _order(len(batch_sizes), reverse):
        o, b = offs[t], batch_sizes[t]
        h, c = _state_rows(xp, h, h0, b, h_n), _state_rows(xp, c, c0, b, c_n)
        a = acts[o : o + b]
        xp.multiply(x_gates[o : o + b], half, out=a)
        blas.matmul_add(h, w_t, a)
        xp.tanh(a, out=a)
        a *= half
        a += shift
        c_new, tc, h = cs[o : o + b], tcs[o : o + b], hs[o : o + b]
        xp.multiply(a[:, H : 2 * H], c, out=c_new)
        xp.multiply(a[:, :H], a[:, 2 * H : 3 * H], out=ig[:b])
        c_new += ig[:b]
        xp.tanh(c_new, out=tc)
        xp.multiply(a[:, 3 * H :], tc, out=h)
        c = c_new
    h_n[: h.shape[0]] = h
    c_n[: c.shape[0]] = c
    # the backward gets the state before each step (a copy: an in-place op on the outputs must
    # not change it)
    return out, (_prev_rows(xp, hs, h0, batch_sizes, reverse), acts, cs, tcs)


def _lstm_backward_arrays(xp, g, h0, c0, w_hh, h_prev, acts, cs, tcs, batch_sizes, reverse):
    T, H = h_prev.shape
    N = h0.shape[0]
    i, f, gg, o = acts[:, :H], acts[:, H : 2 * H], acts[:, 2 * H : 3 * H], acts[:, 3 * H :]
    # what does not depend on the incoming gradient, for all steps at once: dc' gains
    # dh' * k_c, and the gate pre-activations' gradients are dc' * k[:, :3H] and dh' * k[:, 3H:]
    k_c = o * (1 - tcs * tcs)
    k = xp.empty_like(acts)
    xp.multiply(gg, i * (1 - i), out=k[:, :H])
    xp.multiply(_prev_rows(xp, cs, c0, batch_sizes, reverse), f * (1 - f), out=k[:, H : 2 * H])
    xp.multiply(i, 1 - gg * gg, out=k[:, 2 * H : 3 * H])
    xp.multiply(tcs, o * (1 - o), out=k[:, 3 * H :])
    k3 = k.reshape(T, 4, H)[:, :3]
    d_all = xp.empty_like(acts)
    dh = xp.array(g[T : T + N], copy=True)  # the gradients of the state, row by row
    dc = xp.array(g[T + N :], copy=True)
    offs = _offsets(batch_sizes)
    for t in reversed(_order(len(batch_sizes), reverse)):
        s, b = offs[t], batch_sizes[t]
        gh = g[s : s + b] + dh[:b]
        dcb = dc[:b]
        dcb += gh * k_c[s : s + b]
        d = d_all[s : s + b]
        xp.multiply(dcb[:, None, :], k3[s : s + b], out=d.reshape(b, 4, H)[:, :3])
        xp.multiply(gh, k[s : s + b, 3 * H :], out=d[:, 3 * H :])
        dcb *= f[s : s + b]
        blas.matmul(d, w_hh, out=dh[:b])
    return d_all, dh, dc, blas.matmul(d_all.T, h_prev)


def _lstm_backward_ops(g, x_gates, h0, c0, w_hh, batch_sizes, reverse):
    """The same gradients in retrograd ops: the forward recomputed, then the loop backwards."""
    T, N, L = x_gates.shape[0], h0.shape[0], len(batch_sizes)
    offs = _offsets(batch_sizes)
    w_t = w_hh.t()
    h, c = h0, c0
    steps = {}
    for t in _order(L, reverse):
        s, b = offs[t], batch_sizes[t]
        h_prev, c_prev = h[:b], c[:b]
        gates = x_gates[s : s + b] + h_prev @ w_t
        steps[t] = (gates, h_prev, c_prev)
        h_new, c_new = lstm_cell(gates, c_prev)
        h, c = _merge(h_new, h, b), _merge(c_new, c, b)
    dh, dc = g[T : T + N], g[T + N :]
    d_all = [None] * L
    dw = None
    for t in reversed(_order(L, reverse)):
        s, b = offs[t], batch_sizes[t]
        gates, h_prev, c_prev = steps[t]
        d, dc_prev = _backward_ops(g[s : s + b] + dh[:b], dc[:b], gates, c_prev)
        d_all[t] = d
        dh, dc = _merge(d @ w_hh, dh, b), _merge(dc_prev, dc, b)
        dw_t = d.t() @ h_prev
        dw = dw_t if dw is None else dw + dw_t
    return cat(d_all, 0), dh, dc, dw


def _lstm_vjp(grad, needs, x_gates, h0, c0, w_hh, extra, batch_sizes, reverse):
    if _state.enabled:  # create_graph (or forward-mode AD): a differentiable backward
        grads = _lstm_backward_ops(grad, x_gates, h0, c0, w_hh, batch_sizes, reverse)
    else:
        arrays = _lstm_backward_arrays(
            array_module(x_gates._data), grad._data, h0._data, c0._data, w_hh._data, *extra, batch_sizes, reverse
        )
        grads = tuple(make_tensor(a, None, False) for a in arrays)
    return tuple(gr if need else None for gr, need in zip(grads, needs))


LSTM_LAYER = Op("lstm_layer", _lstm_forward, _lstm_vjp, save=("x", "y", "z", "w", "extra"), needs=True)


def _packed(x_gates, batch_sizes):
    """(x_gates as (T, G), batch_sizes as a tuple of ints, unpack) where unpack turns the (T, H)
    outputs back into the input's layout."""
    if batch_sizes is None:
        L, N, G = x_gates.shape
        return x_gates.reshape(L * N, G), (N,) * L, lambda hs: hs.reshape(L, N, hs.shape[-1])
    return x_gates, tuple(int(b) for b in batch_sizes), lambda hs: hs


def lstm_layer(x_gates, h0, c0, w_hh, reverse=False, batch_sizes=None):
    """One LSTM layer in one direction over a whole sequence.

    ``x_gates`` ``(L, N, 4 * H)`` holds the input part of every step's gates with both biases
    added (``W_ih x_t + b_ih + b_hh``); with ``batch_sizes`` it is packed, ``(T, 4 * H)``, step
    t being the next ``batch_sizes[t]`` rows (non-increasing), which advance the first
    ``batch_sizes[t]`` rows of the state. ``h0``, ``c0`` ``(N, H)`` start the recurrence (at the
    last step when ``reverse``). Returns ``(hs, h_n, c_n)``: the outputs in the input's layout
    and time order, and each sequence's final states."""
    x, sizes, unpack = _packed(x_gates, batch_sizes)
    T, N = x.shape[0], h0.shape[0]
    out = apply(LSTM_LAYER, (x, h0, c0, w_hh), (sizes, reverse))
    return unpack(out[:T]), out[T : T + N], out[T + N :]


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


def _gru_forward(xp, x_gates, h0, w_hh, b_hh, batch_sizes, reverse):
    T = x_gates.shape[0]
    N, H = h0.shape
    out = xp.empty((T + N, H), dtype=x_gates.dtype)
    hs, h_n = out[:T], out[T:]
    rz = xp.empty((T, 2 * H), dtype=x_gates.dtype)
    ns = xp.empty_like(hs)
    hns = xp.empty_like(hs)
    hg_all = xp.empty((N, 3 * H), dtype=x_gates.dtype)
    w_t = xp.ascontiguousarray(w_hh.T)  # BLAS runs h @ w_t faster from a contiguous copy
    offs = _offsets(batch_sizes)
    h = _first_state(h0, batch_sizes, reverse)
    for t in _order(len(batch_sizes), reverse):
        s, b = offs[t], batch_sizes[t]
        h = _state_rows(xp, h, h0, b, h_n)
        hg = hg_all[:b]
        blas.matmul(h, w_t, out=hg)
        hg += b_hh
        x = x_gates[s : s + b]
        gates = rz[s : s + b]
        xp.add(x[:, : 2 * H], hg[:, : 2 * H], out=gates)
        _sigmoid_(xp, gates)
        hns[s : s + b] = hg[:, 2 * H :]
        n = ns[s : s + b]
        xp.multiply(gates[:, :H], hg[:, 2 * H :], out=n)
        n += x[:, 2 * H :]
        xp.tanh(n, out=n)
        h_new = hs[s : s + b]
        xp.subtract(h, n, out=h_new)
        h_new *= gates[:, H:]
        h_new += n
        h = h_new
    h_n[: h.shape[0]] = h
    return out, (_prev_rows(xp, hs, h0, batch_sizes, reverse), rz, ns, hns)


def _gru_backward_arrays(xp, g, h0, w_hh, h_prev, rz, ns, hns, batch_sizes, reverse):
    T, H = h_prev.shape
    r, z = rz[:, :H], rz[:, H:]
    # what does not depend on the incoming gradient, for all steps at once: with gh = dL/dh',
    # dn = gh * k_n, dr = dn * k_r, dz = gh * k_z (the gradients of the gates' pre-activations)
    k_n = 1 - ns * ns
    k_n *= 1 - z
    k_r = 1 - r
    k_r *= r
    k_r *= hns
    k_z = 1 - z
    k_z *= z
    k_z *= h_prev - ns
    dx_all = xp.empty((T, 3 * H), dtype=h_prev.dtype)  # the input gates' gradients (r, z, n)
    dhg_all = xp.empty_like(dx_all)  # the recurrent gates' (the n block times r)
    gh_all = xp.empty_like(h_prev)
    dh = xp.array(g[T:], copy=True)
    offs = _offsets(batch_sizes)
    for t in reversed(_order(len(batch_sizes), reverse)):
        s, b = offs[t], batch_sizes[t]
        gh, dx, dhg = gh_all[s : s + b], dx_all[s : s + b], dhg_all[s : s + b]
        xp.add(g[s : s + b], dh[:b], out=gh)
        dn = dx[:, 2 * H :]
        xp.multiply(gh, k_n[s : s + b], out=dn)
        xp.multiply(dn, k_r[s : s + b], out=dx[:, :H])
        xp.multiply(gh, k_z[s : s + b], out=dx[:, H : 2 * H])
        dhg[:, : 2 * H] = dx[:, : 2 * H]
        xp.multiply(dn, r[s : s + b], out=dhg[:, 2 * H :])
        blas.matmul(dhg, w_hh, out=dh[:b])
        dh[:b] += gh * z[s : s + b]  # the direct path h' = ... + z h
    return dx_all, dh, blas.matmul(dhg_all.T, h_prev), dhg_all.sum(0)


def _gru_backward_ops(g, x_gates, h0, w_hh, b_hh, batch_sizes, reverse):
    """The same gradients in retrograd ops: the forward recomputed, then the loop backwards."""
    T, L = x_gates.shape[0], len(batch_sizes)
    offs = _offsets(batch_sizes)
    join = lambda parts: cat(parts, -1)  # noqa: E731
    h = h0
    steps = {}
    for t in _order(L, reverse):
        s, b = offs[t], batch_sizes[t]
        h_prev = h[:b]
        xr, xz, xn = x_gates[s : s + b].chunk(3, -1)
        hr, hz, hn = (h_prev @ w_hh.t() + b_hh).chunk(3, -1)
        r, z = (xr + hr).sigmoid(), (xz + hz).sigmoid()
        n = (xn + r * hn).tanh()
        steps[t] = (h_prev, r, z, n, hn)
        h = _merge(n + z * (h_prev - n), h, b)
    dh = g[T:]
    dx_all = [None] * L
    dw = db = None
    for t in reversed(_order(L, reverse)):
        s, b = offs[t], batch_sizes[t]
        h_prev = steps[t][0]
        dx, dhg, dh_direct = _gru_step_backward(g[s : s + b] + dh[:b], *steps[t], join)
        dh = _merge(dh_direct + dhg @ w_hh, dh, b)
        dx_all[t] = dx
        dw_t, db_t = dhg.t() @ h_prev, dhg.sum(0)
        dw, db = (dw_t, db_t) if dw is None else (dw + dw_t, db + db_t)
    return cat(dx_all, 0), dh, dw, db


def _gru_vjp(grad, needs, x_gates, h0, w_hh, b_hh, extra, batch_sizes, reverse):
    if _state.enabled:
        grads = _gru_backward_ops(grad, x_gates, h0, w_hh, b_hh, batch_sizes, reverse)
    else:
        arrays = _gru_backward_arrays(
            array_module(x_gates._data), grad._data, h0._data, w_hh._data, *extra, batch_sizes, reverse
        )
        grads = tuple(make_tensor(a, None, False) for a in arrays)
    return tuple(gr if need else None for gr, need in zip(grads, needs))


GRU_LAYER = Op("gru_layer", _gru_forward, _gru_vjp, save=("x", "y", "z", "w", "extra"), needs=True)


def gru_layer(x_gates, h0, w_hh, b_hh, reverse=False, batch_sizes=None):
    """One GRU layer in one direction over a whole sequence.

    ``x_gates`` ``(L, N, 3 * H)`` holds the input part of every step's gates (``W_ih x_t +
    b_ih``), or with ``batch_sizes`` the packed ``(T, 3 * H)`` (as in ``lstm_layer``); ``b_hh``
    ``(3 * H,)`` is the recurrent bias (zeros without bias); ``h0`` ``(N, H)`` starts the
    recurrence (at the last step when ``reverse``). Returns ``(hs, h_n)``: the outputs in the
    input's layout and time order, and each sequence's final state."""
    x, sizes, unpack = _packed(x_gates, batch_sizes)
    T = x.shape[0]
    out = apply(GRU_LAYER, (x, h0, w_hh, b_hh), (sizes, reverse))
    return unpack(out[:T]), out[T:]


# --- Elman RNN layer (one direction) as one op: h' = tanh or relu(x_t + W_hh h) ------------------


def _rnn_forward(xp, x_gates, h0, w_hh, batch_sizes, reverse, relu):
    T = x_gates.shape[0]
    N, H = h0.shape
    out = xp.empty((T + N, H), dtype=x_gates.dtype)
    hs, h_n = out[:T], out[T:]
    w_t = xp.ascontiguousarray(w_hh.T)
    offs = _offsets(batch_sizes)
    h = _first_state(h0, batch_sizes, reverse)
    for t in _order(len(batch_sizes), reverse):
        s, b = offs[t], batch_sizes[t]
        h = _state_rows(xp, h, h0, b, h_n)
        h_new = hs[s : s + b]
        blas.matmul(h, w_t, out=h_new)
        h_new += x_gates[s : s + b]
        if relu:
            xp.maximum(h_new, 0, out=h_new)
        else:
            xp.tanh(h_new, out=h_new)
        h = h_new
    h_n[: h.shape[0]] = h
    return out, hs.copy()


def _rnn_backward_arrays(xp, g, h0, w_hh, hs, batch_sizes, reverse, relu):
    T = hs.shape[0]
    k = hs > 0 if relu else 1 - hs * hs  # the activation's derivative, all steps at once
    d_all = xp.empty_like(hs)
    dh = xp.array(g[T:], copy=True)
    offs = _offsets(batch_sizes)
    for t in reversed(_order(len(batch_sizes), reverse)):
        s, b = offs[t], batch_sizes[t]
        d = d_all[s : s + b]
        xp.add(g[s : s + b], dh[:b], out=d)
        d *= k[s : s + b]
        blas.matmul(d, w_hh, out=dh[:b])
    return d_all, dh, blas.matmul(d_all.T, _prev_rows(xp, hs, h0, batch_sizes, reverse))


def _rnn_backward_ops(g, x_gates, h0, w_hh, batch_sizes, reverse, relu):
    """The same gradients in retrograd ops: the forward recomputed, then the loop backwards."""
    T, L = x_gates.shape[0], len(batch_sizes)
    offs = _offsets(batch_sizes)
    h = h0
    steps = {}
    for t in _order(L, reverse):
        s, b = offs[t], batch_sizes[t]
        h_prev = h[:b]
        pre = x_gates[s : s + b] + h_prev @ w_hh.t()
        steps[t] = (h_prev, pre)
        h = _merge(pre.relu() if relu else pre.tanh(), h, b)
    dh = g[T:]
    dw = None
    d_all = [None] * L
    for t in reversed(_order(L, reverse)):
        s, b = offs[t], batch_sizes[t]
        h_prev, pre = steps[t]
        gh = g[s : s + b] + dh[:b]
        if relu:
            d = gh * (pre > 0).to(pre.dtype)
        else:
            act = pre.tanh()
            d = gh * (1 - act * act)
        d_all[t] = d
        dh = _merge(d @ w_hh, dh, b)
        dw_t = d.t() @ h_prev
        dw = dw_t if dw is None else dw + dw_t
    return cat(d_all, 0), dh, dw


def _rnn_vjp(grad, needs, x_gates, h0, w_hh, hs, batch_sizes, reverse, relu):
    if _state.enabled:
        grads = _rnn_backward_ops(grad, x_gates, h0, w_hh, batch_sizes, reverse, relu)
    else:
        arrays = _rnn_backward_arrays(
            array_module(x_gates._data), grad._data, h0._data, w_hh._data, hs, batch_sizes, reverse, relu
        )
        grads = tuple(make_tensor(a, None, False) for a in arrays)
    return tuple(gr if need else None for gr, need in zip(grads, needs))


RNN_LAYER = Op("rnn_layer", _rnn_forward, _rnn_vjp, save=("x", "y", "z", "extra"), needs=True)


def rnn_layer(x_gates, h0, w_hh, reverse=False, relu=False, batch_sizes=None):
    """One Elman RNN layer in one direction over a whole sequence.

    ``x_gates`` ``(L, N, H)`` holds ``W_ih x_t + b_ih + b_hh`` for every step, or with
    ``batch_sizes`` the packed ``(T, H)`` (as in ``lstm_layer``); ``h0`` ``(N, H)`` starts the
    recurrence (at the last step when ``reverse``). Returns ``(hs, h_n)``: the outputs in the
    input's layout and time order, and each sequence's final state."""
    x, sizes, unpack = _packed(x_gates, batch_sizes)
    T = x.shape[0]
    out = apply(RNN_LAYER, (x, h0, w_hh), (sizes, reverse, relu))
    return unpack(out[:T]), out[T:]
