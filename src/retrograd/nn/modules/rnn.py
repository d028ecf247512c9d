"""Recurrent layers: RNN, LSTM, GRU (multi-layer, optionally bidirectional) and their cells.

Parameter names, shapes and gate order are PyTorch's, so state dicts are interchangeable:
``weight_ih_l{k}`` is ``(gates * hidden_size, layer_input_size)``, ``weight_hh_l{k}`` is
``(gates * hidden_size, hidden_size)``, plus ``bias_ih_l{k}``, ``bias_hh_l{k}`` and the
``_reverse`` twins of the backward direction. Gates, stacked in this order along dim 0:

  LSTM (i, f, g, o):  i, f, o = sigmoid(W_i* x + b_i* + W_h* h + b_h*), g = tanh(...)
                      c' = f * c + i * g,  h' = o * tanh(c')   (h' = W_hr h' with proj_size)
  GRU (r, z, n):      r, z = sigmoid(W_i* x + b_i* + W_h* h + b_h*)
                      n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),  h' = (1 - z) * n + z * h
  RNN:                h' = tanh(W_ih x + b_ih + W_hh h + b_hh)   (or relu)

Every weight and bias starts at ``U(-k, k)`` with ``k = 1/sqrt(hidden_size)``.
"""

import math
import numbers
import warnings

from ... import _creation
from ...ops.shape import cat, stack
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from ._rnn_cells import gru_layer, lstm_cell, lstm_layer, rnn_layer
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _lstm_step(x_gates, h, c, w_hh, b_hh, w_hr):
    # the input part of the gates comes in computed for all time steps at once (one GEMM);
    # the recurrent part is one GEMM per step, the gate arithmetic one fused op
    h, c = lstm_cell(x_gates + F.linear(h, w_hh, b_hh), c)
    if w_hr is not None:
        h = F.linear(h, w_hr)
    return h, c


def _gru_step(x_gates, h, w_hh, b_hh):
    xr, xz, xn = x_gates.chunk(3, -1)
    hr, hz, hn = F.linear(h, w_hh, b_hh).chunk(3, -1)
    r = (xr + hr).sigmoid()
    z = (xz + hz).sigmoid()
    n = (xn + r * hn).tanh()
    return (1 - z) * n + z * h


def _rnn_step(x_gates, h, w_hh, b_hh, relu):
    pre = x_gates + F.linear(h, w_hh, b_hh)
    return F.relu(pre) if relu else pre.tanh()


class RNNBase(Module):
    """Shared machinery of RNN, LSTM and GRU (see the module docstring for the equations).

    Input ``(L, N, H_in)`` (``(N, L, H_in)`` with ``batch_first``, or unbatched ``(L, H_in)``);
    output ``(L, N, D * H_out)`` and the final states ``(D * num_layers, N, H)``.
    """

    def __init__(
        self,
        mode,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        proj_size=0,
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an element being zeroed"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}"
            )
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input = input_size if layer == 0 else real_hidden * num_directions
                shapes = [("weight_ih", (gate_size, layer_input)), ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes += [("weight_hr", (proj_size, hidden_size))]
                suffix = "_reverse" if direction == 1 else ""
                names = []
                for base, shape in shapes:
                    name = f"{base}_l{layer}{suffix}"
                    setattr(self, name, Parameter(_creation.empty(shape, device=device, dtype=dtype)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self):
        """A no-op (parameters are never fused into one buffer here)."""

    @property
    def _flat_weights(self):
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ------------------------------------------------------------------ forward
    def _weights(self, layer, direction):
        suffix = "_reverse" if direction == 1 else ""
        get = lambda base: getattr(self, f"{base}_l{layer}{suffix}", None)  # noqa: E731
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh"), get("weight_hr")

    def _check_hidden(self, hx, expected, what):
        if tuple(hx.shape) != expected:
            raise RuntimeError(f"Expected {what} size {expected}, got {list(hx.shape)}")

    def _prepare(self, input, hx):
        """Bring input to (L, N, H_in) and hx to (D * layers, N, H); returns (input, hx, batched)."""
        name = type(self).__name__
        if input.dim() not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D tensor instead")
        batched = input.dim() == 3
        if input.size(-1) != self.input_size:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {input.size(-1)}"
            )
        if not batched:
            input = input.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        states = hx if isinstance(hx, (tuple, list)) else (hx,) if hx is not None else None
        if states is not None:
            for s in states:
                if batched and s.dim() != 3:
                    raise RuntimeError(
                        f"For batched 3-D input, hx and cx should also be 3-D but got {s.dim()}-D tensor"
                    )
                if not batched and s.dim() != 2:
                    raise RuntimeError(
                        f"For unbatched 2-D input, hx and cx should also be 2-D but got {s.dim()}-D tensor"
                    )
            if not batched:
                states = tuple(s.unsqueeze(1) for s in states)
        return input, states, batched

    def _init_states(self, N, like):
        """Zero (D * layers, N, H) states of ``like``'s dtype and device."""
        D = 2 if self.bidirectional else 1
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size

        def zeros(size):
            return _creation.zeros((self.num_layers * D, N, size), dtype=like.dtype, device=like.device)

        if self.mode == "LSTM":
            return zeros(real_hidden), zeros(self.hidden_size)
        return (zeros(real_hidden),)

    def _check_states(self, states, N):
        D = 2 if self.bidirectional else 1
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        if self.mode == "LSTM":
            self._check_hidden(states[0], (self.num_layers * D, N, real_hidden), "hidden[0]")
            self._check_hidden(states[1], (self.num_layers * D, N, self.hidden_size), "hidden[1]")
        else:
            self._check_hidden(states[0], (self.num_layers * D, N, self.hidden_size), "hidden")

    def _step(self, x_gates, h, c, w_hh, b_hh, w_hr):
        if self.mode == "LSTM":
            return _lstm_step(x_gates, h, c, w_hh, b_hh, w_hr)
        if self.mode == "GRU":
            return _gru_step(x_gates, h, w_hh, b_hh), None
        return _rnn_step(x_gates, h, w_hh, b_hh, self.mode == "RNN_RELU"), None

    def _run(self, input, states, batch_sizes=None):
        """The layer/direction/time loops. ``states``: tuple of (D * layers, N, H) tensors or None.

        ``input`` is (L, N, H_in), or with ``batch_sizes`` the packed data (sum(batch_sizes), H_in):
        then step t advances only the first ``batch_sizes[t]`` sequences and the others keep their
        state, so each final state is that of the sequence's last valid step.
        Returns the output (like the input, with D * H_out features) and the final states."""
        D = 2 if self.bidirectional else 1
        lstm = self.mode == "LSTM"
        if batch_sizes is None:
            L, N, _ = input.shape
            spans = [(t, None) for t in range(L)]
        else:
            N = int(batch_sizes[0]) if len(batch_sizes) else 0
            starts = [0]
            for b in batch_sizes[:-1]:
                starts.append(starts[-1] + int(b))
            spans = [(slice(s, s + int(b)), int(b)) for s, b in zip(starts, batch_sizes)]
        if states is None:
            states = self._init_states(N, input)
        self._check_states(states, N)
        layer_input = input
        finals = [[] for _ in states]
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(D):
                w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, direction)
                idx = layer * D + direction
                h = states[0][idx]
                c = states[1][idx] if lstm else None
                if len(spans) and w_hr is None:
                    # the whole direction as one op: time loop and its backward in NumPy
                    reverse = direction == 1
                    if self.mode == "GRU":
                        if b_hh is None:
                            b_hh = _creation.zeros(w_hh.shape[0], dtype=w_hh.dtype, device=w_hh.device)
                        x_gates = F.linear(layer_input, w_ih, b_ih)
                        hs_all, h = gru_layer(x_gates, h, w_hh, b_hh, reverse, batch_sizes)
                    else:  # both biases added once, to the input part of all steps' gates
                        x_gates = F.linear(layer_input, w_ih, None if b_ih is None else b_ih + b_hh)
                        if lstm:
                            hs_all, h, c = lstm_layer(x_gates, h, c, w_hh, reverse, batch_sizes)
                        else:
                            relu = self.mode == "RNN_RELU"
                            hs_all, h = rnn_layer(x_gates, h, w_hh, reverse, relu, batch_sizes)
                    outputs.append(hs_all)
                    finals[0].append(h)
                    if lstm:
                        finals[1].append(c)
                    continue
                x_gates = F.linear(layer_input, w_ih, b_ih)  # all time steps at once
                order = range(len(spans) - 1, -1, -1) if direction == 1 else range(len(spans))
                hs = [None] * len(spans)
                for t in order:
                    where, b = spans[t]
                    if b is None or b == N:
                        h, c = self._step(x_gates[where], h, c, w_hh, b_hh, w_hr)
                        hs[t] = h
                        continue
                    h_b, c_b = self._step(x_gates[where], h[:b], None if c is None else c[:b], w_hh, b_hh, w_hr)
                    hs[t] = h_b
                    h = cat([h_b, h[b:]], 0)
                    if lstm:
                        c = cat([c_b, c[b:]], 0)
                outputs.append(stack(hs, 0) if batch_sizes is None else cat(hs, 0))
                finals[0].append(h)
                if lstm:
                    finals[1].append(c)
            layer_input = outputs[0] if D == 1 else cat(outputs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        return layer_input, tuple(stack(f, 0) for f in finals)

    def _forward_packed(self, packed, hx):
        data = packed.data
        if data.dim() != 2 or data.size(-1) != self.input_size:
            raise RuntimeError(
                f"{type(self).__name__}: packed input data must be (sum(lengths), "
                f"{self.input_size}), got {list(data.shape)}"
            )
        batch_sizes = [int(b) for b in packed.batch_sizes.tolist()]
        if any(b > a for a, b in zip(batch_sizes, batch_sizes[1:])) or (batch_sizes and batch_sizes[-1] <= 0):
            raise RuntimeError(
                f"{type(self).__name__}: a PackedSequence's batch_sizes must be positive and non-increasing, "
                f"got {batch_sizes}"
            )
        states = hx if isinstance(hx, (tuple, list)) else (hx,) if hx is not None else None
        if states is not None and packed.sorted_indices is not None:
            states = tuple(s.index_select(1, packed.sorted_indices) for s in states)
        output, finals = self._run(data, states, batch_sizes)
        if packed.unsorted_indices is not None:
            finals = tuple(f.index_select(1, packed.unsorted_indices) for f in finals)
        output = PackedSequence(output, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices)
        return output, (finals if self.mode == "LSTM" else finals[0])

    def forward(self, input, hx=None):
        """``input`` may be a :class:`~retrograd.nn.utils.rnn.PackedSequence`; the output is then
        one too, and the final states are each sequence's state after its last valid step."""
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        input, states, batched = self._prepare(input, hx)
        output, finals = self._run(input, states)
        if not batched:
            output = output.squeeze(1)
            finals = tuple(f.squeeze(1) for f in finals)
        elif self.batch_first:
            output = output.transpose(0, 1)
        if self.mode == "LSTM":
            return output, finals
        return output, finals[0]


class RNN(RNNBase):
    """Elman RNN: ``h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`` (``nonlinearity='relu'``: relu).

    ``RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False)``."""

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        nonlinearity="tanh",
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        device=None,
        dtype=None,
    ):
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__(
            mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0, device, dtype
        )
        self.nonlinearity = nonlinearity

    def extra_repr(self):
        s = super().extra_repr()
        if self.nonlinearity != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s


class LSTM(RNNBase):
    """Long short-term memory. ``forward(input, (h_0, c_0))`` returns ``output, (h_n, c_n)``.

    ``LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, proj_size=0)``."""

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        proj_size=0,
        device=None,
        dtype=None,
    ):
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            device,
            dtype,
        )


class GRU(RNNBase):
    """Gated recurrent unit. ``forward(input, h_0)`` returns ``output, h_n``.

    ``GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False)``."""

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        device=None,
        dtype=None,
    ):
        super().__init__(
            "GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0, device, dtype
        )


class RNNCellBase(Module):
    """One time step; parameters ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(_creation.empty((num_chunks * hidden_size, input_size), device=device, dtype=dtype))
        self.weight_hh = Parameter(_creation.empty((num_chunks * hidden_size, hidden_size), device=device, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(_creation.empty(num_chunks * hidden_size, device=device, dtype=dtype))
            self.bias_hh = Parameter(_creation.empty(num_chunks * hidden_size, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input, hx, n_states):
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        if input.size(-1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(-1)} expected {self.input_size}")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        n = input.shape[0]
        if hx is None:
            zeros = _creation.zeros((n, self.hidden_size), dtype=input.dtype, device=input.device)
            states = (zeros,) * n_states
        else:
            states = tuple(hx) if isinstance(hx, (tuple, list)) else (hx,)
            if not batched:
                states = tuple(s.unsqueeze(0) for s in states)
            for s in states:
                if tuple(s.shape) != (n, self.hidden_size):
                    raise RuntimeError(f"{name}: Expected hidden size {(n, self.hidden_size)}, got {list(s.shape)}")
        return input, states, batched


class RNNCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        input, (h,), batched = self._prepare(input, hx, 1)
        h = _rnn_step(
            F.linear(input, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh, self.nonlinearity == "relu"
        )
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: ``forward(input, (h, c))`` returns ``(h', c')``."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        input, (h, c), batched = self._prepare(input, hx, 2)
        h, c = _lstm_step(F.linear(input, self.weight_ih, self.bias_ih), h, c, self.weight_hh, self.bias_hh, None)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: ``forward(input, h)`` returns ``h'``."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        input, (h,), batched = self._prepare(input, hx, 1)
        h = _gru_step(F.linear(input, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh)
        return h if batched else h.squeeze(0)
