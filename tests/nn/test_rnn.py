"""RNN, LSTM, GRU and their cells against NumPy loops; parameter layout; gradients."""

import math

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn

from ._util import assert_uniform, module_gradcheck, t64


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_params(m, layer, direction):
    sfx = "_reverse" if direction else ""
    get = lambda n: getattr(m, f"{n}_l{layer}{sfx}", None)  # noqa: E731
    out = [get(n) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")]
    return [None if p is None else p.detach().numpy().astype(np.float64) for p in out]


def np_cell(mode, x, h, c, w_ih, w_hh, b_ih, b_hh, w_hr=None):
    """One step, written from the gate equations (gate order as PyTorch's documentation)."""
    b_ih = 0 if b_ih is None else b_ih
    b_hh = 0 if b_hh is None else b_hh
    gi = x @ w_ih.T + b_ih
    gh = h @ w_hh.T + b_hh
    H = w_hh.shape[0] // {"LSTM": 4, "GRU": 3}.get(mode, 1)
    if mode == "LSTM":
        i = sigmoid(gi[:, :H] + gh[:, :H])
        f = sigmoid(gi[:, H : 2 * H] + gh[:, H : 2 * H])
        g = np.tanh(gi[:, 2 * H : 3 * H] + gh[:, 2 * H : 3 * H])
        o = sigmoid(gi[:, 3 * H :] + gh[:, 3 * H :])
        c = f * c + i * g
        h = o * np.tanh(c)
        if w_hr is not None:
            h = h @ w_hr.T
        return h, c
    if mode == "GRU":
        r = sigmoid(gi[:, :H] + gh[:, :H])
        z = sigmoid(gi[:, H : 2 * H] + gh[:, H : 2 * H])
        n = np.tanh(gi[:, 2 * H :] + r * gh[:, 2 * H :])
        return (1 - z) * n + z * h, None
    pre = gi + gh
    return (np.maximum(pre, 0) if mode == "RNN_RELU" else np.tanh(pre)), None


def np_rnn(m, x, h0=None, c0=None):
    """Reference for a whole multi-layer (bi)directional network; x is (L, N, H_in)."""
    L, N, _ = x.shape
    D = 2 if m.bidirectional else 1
    Hout = m.proj_size or m.hidden_size
    if h0 is None:
        h0 = np.zeros((m.num_layers * D, N, Hout))
    if c0 is None:
        c0 = np.zeros((m.num_layers * D, N, m.hidden_size))
    inp = x
    hn, cn = [], []
    for layer in range(m.num_layers):
        outs = []
        for d in range(D):
            p = np_params(m, layer, d)
            h, c = h0[layer * D + d], c0[layer * D + d]
            seq = [None] * L
            for t in reversed(range(L)) if d else range(L):
                h, c = np_cell(m.mode, inp[t], h, c, *p)
                seq[t] = h
            outs.append(np.stack(seq))
            hn.append(h)
            cn.append(c)
        inp = np.concatenate(outs, axis=2)
    return inp, np.stack(hn), (np.stack(cn) if m.mode == "LSTM" else None)


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU, nn.RNN])
@pytest.mark.parametrize("layers,bidir", [(1, False), (2, False), (2, True)])
def test_forward_matches_numpy(cls, layers, bidir):
    m = cls(3, 4, num_layers=layers, bidirectional=bidir)
    x = np.random.randn(5, 2, 3).astype(np.float32)
    out = m(rg.tensor(x))
    ref_out, ref_h, ref_c = np_rnn(m, x.astype(np.float64))
    np.testing.assert_allclose(out[0].detach().numpy(), ref_out, rtol=1e-4, atol=1e-5)
    if cls is nn.LSTM:
        h, c = out[1]
        np.testing.assert_allclose(c.detach().numpy(), ref_c, rtol=1e-4, atol=1e-5)
    else:
        h = out[1]
    np.testing.assert_allclose(h.detach().numpy(), ref_h, rtol=1e-4, atol=1e-5)
    D = 2 if bidir else 1
    assert out[0].shape == (5, 2, D * 4) and h.shape == (layers * D, 2, 4)


def test_lstm_initial_state_batch_first_and_unbatched():
    m = nn.LSTM(3, 4, num_layers=2, batch_first=True)
    x = np.random.randn(2, 6, 3)
    h0 = np.random.randn(2, 2, 4)
    c0 = np.random.randn(2, 2, 4)
    m.double()
    out, (h, c) = m(t64(x), (t64(h0), t64(c0)))
    ref_out, ref_h, ref_c = np_rnn(m, x.transpose(1, 0, 2), h0, c0)
    np.testing.assert_allclose(out.detach().numpy(), ref_out.transpose(1, 0, 2), rtol=1e-10)
    np.testing.assert_allclose(h.detach().numpy(), ref_h, rtol=1e-10)
    np.testing.assert_allclose(c.detach().numpy(), ref_c, rtol=1e-10)
    # unbatched: (L, H_in) with (layers, H) states
    out_u, (h_u, c_u) = m(t64(x[0]), (t64(h0[:, 0]), t64(c0[:, 0])))
    assert out_u.shape == (6, 4) and h_u.shape == (2, 4)
    np.testing.assert_allclose(out_u.detach().numpy(), out.detach().numpy()[0], rtol=1e-10)


def test_gru_with_h0_and_no_bias():
    m = nn.GRU(2, 3, bias=False, batch_first=True).double()
    assert [n for n, _ in m.named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]
    x = np.random.randn(2, 4, 2)
    h0 = np.random.randn(1, 2, 3)
    out, h = m(t64(x), t64(h0))
    ref_out, ref_h, _ = np_rnn(m, x.transpose(1, 0, 2), h0)
    np.testing.assert_allclose(out.detach().numpy(), ref_out.transpose(1, 0, 2), rtol=1e-10)
    np.testing.assert_allclose(h.detach().numpy(), ref_h, rtol=1e-10)


def test_rnn_relu_and_proj_lstm():
    m = nn.RNN(3, 4, nonlinearity="relu").double()
    x = np.random.randn(4, 2, 3)
    np.testing.assert_allclose(m(t64(x))[0].detach().numpy(), np_rnn(m, x)[0], rtol=1e-10)
    p = nn.LSTM(3, 5, proj_size=2, num_layers=2).double()
    names = [n for n, _ in p.named_parameters()]
    assert names[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0"]
    assert p.weight_hh_l0.shape == (20, 2) and p.weight_ih_l1.shape == (20, 2)
    out, (h, c) = p(t64(x))
    ref_out, ref_h, ref_c = np_rnn(p, x)
    assert out.shape == (4, 2, 2) and h.shape == (2, 2, 2) and c.shape == (2, 2, 5)
    np.testing.assert_allclose(out.detach().numpy(), ref_out, rtol=1e-10)
    np.testing.assert_allclose(c.detach().numpy(), ref_c, rtol=1e-10)


def test_parameter_names_shapes_and_init():
    m = nn.LSTM(10, 20, num_layers=2, bidirectional=True)
    sd = m.state_dict()
    assert list(sd)[:8] == [
        "weight_ih_l0",
        "weight_hh_l0",
        "bias_ih_l0",
        "bias_hh_l0",
        "weight_ih_l0_reverse",
        "weight_hh_l0_reverse",
        "bias_ih_l0_reverse",
        "bias_hh_l0_reverse",
    ]
    assert sd["weight_ih_l0"].shape == (80, 10) and sd["weight_ih_l1"].shape == (80, 40)
    assert sd["weight_hh_l1_reverse"].shape == (80, 20)
    assert len(m.all_weights) == 4 and len(m._flat_weights) == 16
    assert_uniform(m.weight_ih_l1, 1 / math.sqrt(20))
    assert nn.GRU(4, 30).weight_hh_l0.shape == (90, 30)
    assert_uniform(nn.GRU(40, 30).weight_ih_l0, 1 / math.sqrt(30))


def test_state_dict_round_trip_gives_same_outputs():
    a, b = nn.GRU(3, 4, num_layers=2), nn.GRU(3, 4, num_layers=2)
    b.load_state_dict(a.state_dict())
    x = rg.randn(5, 2, 3)
    np.testing.assert_array_equal(a(x)[0].detach().numpy(), b(x)[0].detach().numpy())


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU, nn.RNN])
def test_gradcheck(cls):
    m = cls(2, 2, num_layers=2, bidirectional=True)
    x = t64(np.random.randn(3, 1, 2), requires_grad=True)
    assert module_gradcheck(_Outputs(m), x)


class _Outputs(nn.Module):
    """Returns every output of a recurrent module as one flat tuple, for gradcheck."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x, *state):
        out, hidden = self.rnn(x, *state)
        return (out,) + (tuple(hidden) if isinstance(hidden, tuple) else (hidden,))


def test_gradcheck_with_initial_state():
    m = nn.LSTM(2, 2, batch_first=True)
    x = t64(np.random.randn(1, 3, 2), requires_grad=True)
    h0 = t64(np.random.randn(1, 1, 2), requires_grad=True)
    c0 = t64(np.random.randn(1, 1, 2), requires_grad=True)

    class WithState(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = m

        def forward(self, x, h, c):
            out, (hn, cn) = self.rnn(x, (h, c))
            return out, hn, cn

    assert module_gradcheck(WithState(), x, h0, c0)


@pytest.mark.parametrize("cls,chunks", [(nn.LSTMCell, 4), (nn.GRUCell, 3), (nn.RNNCell, 1)])
def test_cells_match_numpy(cls, chunks):
    cell = cls(3, 4).double()
    assert cell.weight_ih.shape == (chunks * 4, 3)
    x = np.random.randn(2, 3)
    h = np.random.randn(2, 4)
    mode = {nn.LSTMCell: "LSTM", nn.GRUCell: "GRU", nn.RNNCell: "RNN_TANH"}[cls]
    p = [cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh]
    p = [q.detach().numpy() for q in p]
    if cls is nn.LSTMCell:
        c = np.random.randn(2, 4)
        h1, c1 = cell(t64(x), (t64(h), t64(c)))
        rh, rc = np_cell(mode, x, h, c, *p)
        np.testing.assert_allclose(c1.detach().numpy(), rc, rtol=1e-10)
        assert cell(t64(x[0]))[0].shape == (4,)
    else:
        h1 = cell(t64(x), t64(h))
        rh, _ = np_cell(mode, x, h, None, *p)
        assert cell(t64(x[0])).shape == (4,)
    np.testing.assert_allclose(h1.detach().numpy(), rh, rtol=1e-10)
    assert module_gradcheck(cls(2, 2), t64(np.random.randn(1, 2), requires_grad=True))


def test_errors():
    m = nn.LSTM(3, 4)
    with pytest.raises(ValueError, match="Expected input to be 2D or 3D, got 4D"):
        m(rg.randn(1, 2, 3, 3))
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. Expected 3, got 5"):
        m(rg.randn(2, 1, 5))
    with pytest.raises(RuntimeError, match="Expected hidden\\[0\\] size \\(1, 2, 4\\), got \\[1, 2, 5\\]"):
        m(rg.randn(3, 2, 3), (rg.zeros(1, 2, 5), rg.zeros(1, 2, 4)))
    with pytest.raises(RuntimeError, match="should also be 3-D"):
        m(rg.randn(3, 2, 3), (rg.zeros(2, 4), rg.zeros(2, 4)))
    with pytest.raises(ValueError, match="proj_size has to be smaller"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="only supported for LSTM"):
        nn.RNNBase("GRU", 3, 4, proj_size=2)
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.GRU(3, 4, dropout=0.5)
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nn.GRU(3, 4, dropout=1.5)


def test_repr():
    assert (
        repr(nn.LSTM(10, 20, 2, batch_first=True, dropout=0.5))
        == "LSTM(10, 20, num_layers=2, batch_first=True, dropout=0.5)"
    )
    assert repr(nn.GRU(3, 4, bidirectional=True)) == "GRU(3, 4, bidirectional=True)"
    assert repr(nn.RNN(3, 4, nonlinearity="relu")) == "RNN(3, 4, nonlinearity=relu)"
    assert repr(nn.LSTMCell(3, 4)) == "LSTMCell(3, 4)"


def test_dropout_between_layers_only_in_training():
    if not hasattr(nn.functional, "dropout"):
        pytest.skip("F.dropout not available yet")
    m = nn.GRU(3, 8, num_layers=2, dropout=0.5)
    x = rg.randn(4, 2, 3)
    a = m(x)[0]
    b = m(x)[0]
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())
    m.eval()
    np.testing.assert_allclose(
        m(x)[0].detach().numpy(), np_rnn(m, x.numpy().astype(np.float64))[0], rtol=1e-4, atol=1e-5
    )
