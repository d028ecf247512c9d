"""The fused LSTM cell op: values, gradients and double backward against the unfused ops."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.autograd import gradcheck, gradgradcheck
from retrograd.nn.modules._rnn_cells import gru_layer, lstm_cell, lstm_cell_reference, lstm_layer, rnn_layer


def _inputs(batch, H, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    gates = rg.tensor(rng.standard_normal(batch + (4 * H,)) * 2, dtype=rg.float64, requires_grad=True)
    c = rg.tensor(rng.standard_normal(batch + (H,)), dtype=rg.float64, requires_grad=True)
    if dtype != np.float64:
        gates = gates.detach().float().requires_grad_()
        c = c.detach().float().requires_grad_()
    return gates, c


def _numpy_cell(gates, c):
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    i, f, g, o = np.split(gates, 4, -1)
    c = sig(f) * c + sig(i) * np.tanh(g)
    return sig(o) * np.tanh(c), c


@pytest.mark.parametrize("batch", [(), (3,), (2, 3)])
def test_values_match_numpy(batch):
    gates, c = _inputs(batch, 5)
    h1, c1 = lstm_cell(gates, c)
    h_ref, c_ref = _numpy_cell(gates.detach().numpy(), c.detach().numpy())
    assert h1.shape == c1.shape == c.shape
    np.testing.assert_allclose(h1.detach().numpy(), h_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(c1.detach().numpy(), c_ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backward_matches_unfused_ops(dtype):
    gates, c = _inputs((4,), 6, dtype)
    rng = np.random.default_rng(1)
    wh = rg.tensor(rng.standard_normal((4, 6)), dtype=gates.dtype)
    wc = rg.tensor(rng.standard_normal((4, 6)), dtype=gates.dtype)
    grads = []
    for cell in (lstm_cell, lstm_cell_reference):
        h1, c1 = cell(gates, c)
        grads.append(rg.autograd.grad((h1 * wh).sum() + (c1 * wc).sum(), (gates, c)))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for fused, ref in zip(*grads):
        assert fused.dtype == ref.dtype
        np.testing.assert_allclose(fused.numpy(), ref.numpy(), rtol=tol, atol=tol)


def test_gradient_of_one_input_only():
    gates, c = _inputs((3,), 4)
    c = c.detach()
    h1, c1 = lstm_cell(gates, c)
    (h1.sum() + c1.sum()).backward()
    assert gates.grad is not None and c.grad is None


def test_gradcheck_and_gradgradcheck():
    gates, c = _inputs((3,), 4)
    assert gradcheck(lstm_cell, (gates, c))
    assert gradgradcheck(lstm_cell, (gates, c))


def _node_names(t):
    names, stack, seen = [], [t.grad_fn], set()
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        names.append(fn.name())
        stack.extend(f for f, _ in fn.next_functions)
    return names


def test_lstm_records_one_layer_node_per_direction():
    m = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    h, _ = m(rg.randn(5, 2, 3))[1]
    names = _node_names(h)
    assert names.count("LstmLayerBackward0") == 4
    assert "SigmoidBackward0" not in names and "LstmCellBackward0" not in names


def test_lstm_with_projection_records_one_cell_node_per_step():
    m = nn.LSTM(3, 4, proj_size=2)
    h, _ = m(rg.randn(5, 2, 3))[1]
    names = _node_names(h)
    assert names.count("LstmCellBackward0") == 5
    assert "SigmoidBackward0" not in names


def _layer_inputs(L, N, H, dtype=rg.float64, seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(L, N, 4 * H), (N, H), (N, H), (4 * H, H)]
    return [rg.tensor(rng.standard_normal(s), dtype=dtype, requires_grad=True) for s in shapes]


def _layer_reference(x_gates, h, c, w_hh, reverse):
    L = x_gates.shape[0]
    hs = [None] * L
    for t in range(L - 1, -1, -1) if reverse else range(L):
        h, c = lstm_cell_reference(x_gates[t] + h @ w_hh.t(), c)
        hs[t] = h
    return rg.stack(hs, 0), h, c


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("dtype", [rg.float32, rg.float64])
def test_layer_matches_step_by_step_ops(reverse, dtype):
    inputs = _layer_inputs(4, 3, 5, dtype)
    rng = np.random.default_rng(2)
    weights = [rg.tensor(rng.standard_normal(s), dtype=dtype) for s in ((4, 3, 5), (3, 5), (3, 5))]
    tol = 1e-5 if dtype == rg.float32 else 1e-12
    results = []
    for layer in (lstm_layer, _layer_reference):
        outs = layer(*inputs, reverse=reverse)
        loss = sum((o * w).sum() for o, w in zip(outs, weights))
        results.append((outs, rg.autograd.grad(loss, inputs)))
    (outs, grads), (ref_outs, ref_grads) = results
    for a, b in zip(outs + grads, ref_outs + ref_grads):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("reverse", [False, True])
def test_layer_gradcheck_and_gradgradcheck(reverse):
    inputs = _layer_inputs(3, 2, 2)
    f = lambda *a: lstm_layer(*a, reverse=reverse)  # noqa: E731
    assert gradcheck(f, inputs, check_forward_ad=True)
    assert gradgradcheck(f, inputs)


@pytest.mark.parametrize("proj_size", [0, 2])
def test_lstm_module_double_backward(proj_size):
    rg.manual_seed(0)
    m = nn.LSTM(2, 3, num_layers=2, proj_size=proj_size).double()
    x = rg.randn(2, 2, 2, dtype=rg.float64, requires_grad=True)

    def f(x):
        out, (h, c) = m(x)
        return out, h, c

    assert gradcheck(f, (x,))
    assert gradgradcheck(f, (x,))


def _gru_reference(x_gates, h, w_hh, b_hh, reverse):
    from retrograd.nn.modules.rnn import _gru_step

    L = x_gates.shape[0]
    hs = [None] * L
    for t in range(L - 1, -1, -1) if reverse else range(L):
        h = _gru_step(x_gates[t], h, w_hh, b_hh)
        hs[t] = h
    return rg.stack(hs, 0), h


def _gru_inputs(L, N, H, dtype=rg.float64, seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(L, N, 3 * H), (N, H), (3 * H, H), (3 * H,)]
    return [rg.tensor(rng.standard_normal(s), dtype=dtype, requires_grad=True) for s in shapes]


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("dtype", [rg.float32, rg.float64])
def test_gru_layer_matches_step_by_step_ops(reverse, dtype):
    inputs = _gru_inputs(4, 3, 5, dtype)
    rng = np.random.default_rng(2)
    weight, wh = (rg.tensor(rng.standard_normal(s), dtype=dtype) for s in ((4, 3, 5), (3, 5)))
    tol = 1e-5 if dtype == rg.float32 else 1e-12
    results = []
    for layer in (gru_layer, _gru_reference):
        out, h = layer(*inputs, reverse=reverse)
        results.append(((out, h), rg.autograd.grad((out * weight).sum() + (h * wh).sum(), inputs)))
    (outs, grads), (ref_outs, ref_grads) = results
    for a, b in zip(outs + grads, ref_outs + ref_grads):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("reverse", [False, True])
def test_gru_layer_gradcheck_and_gradgradcheck(reverse):
    inputs = _gru_inputs(3, 2, 2)
    f = lambda *a: gru_layer(*a, reverse=reverse)  # noqa: E731
    assert gradcheck(f, inputs, check_forward_ad=True)
    assert gradgradcheck(f, inputs)


@pytest.mark.parametrize("bias", [True, False])
def test_gru_module_runs_one_layer_node_per_direction_and_double_backward(bias):
    rg.manual_seed(0)
    m = nn.GRU(2, 2, num_layers=2, bidirectional=True, bias=bias).double()
    x = rg.randn(2, 1, 2, dtype=rg.float64, requires_grad=True)
    out, h = m(x)
    assert _node_names(h).count("GruLayerBackward0") == 4
    assert gradgradcheck(lambda x: m(x), (x,))


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU, nn.RNN])
def test_in_place_change_of_the_output_leaves_the_gradient_alone(cls):
    rg.manual_seed(0)
    m = cls(2, 3).double()
    x = rg.randn(4, 1, 2, dtype=rg.float64, requires_grad=True)
    grads = []
    for in_place in (False, True):
        out = m(x)[0]
        out = out.mul_(2) if in_place else out * 2
        grads.append(rg.autograd.grad(out.sum(), x)[0])
    np.testing.assert_allclose(grads[1].numpy(), grads[0].numpy(), rtol=1e-12, atol=1e-14)


def _rnn_reference(x_gates, h, w_hh, reverse, relu):
    L = x_gates.shape[0]
    hs = [None] * L
    for t in range(L - 1, -1, -1) if reverse else range(L):
        pre = x_gates[t] + h @ w_hh.t()
        h = pre.relu() if relu else pre.tanh()
        hs[t] = h
    return rg.stack(hs, 0), h


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
def test_rnn_layer_matches_step_by_step_ops_and_gradgradcheck(reverse, relu):
    rng = np.random.default_rng(0)
    inputs = [
        rg.tensor(rng.standard_normal(s), dtype=rg.float64, requires_grad=True) for s in ((4, 3, 5), (3, 5), (5, 5))
    ]
    weight, wh = (rg.tensor(rng.standard_normal(s), dtype=rg.float64) for s in ((4, 3, 5), (3, 5)))
    results = []
    for layer in (rnn_layer, _rnn_reference):
        out, h = layer(*inputs, reverse=reverse, relu=relu)
        results.append(((out, h), rg.autograd.grad((out * weight).sum() + (h * wh).sum(), inputs)))
    (outs, grads), (ref_outs, ref_grads) = results
    for a, b in zip(outs + grads, ref_outs + ref_grads):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-12)
    small = [
        t[:2, :2, :2].detach().requires_grad_() if t.dim() == 3 else t[:2, :2].detach().requires_grad_() for t in inputs
    ]
    f = lambda *a: rnn_layer(*a, reverse=reverse, relu=relu)  # noqa: E731
    assert gradcheck(f, small, check_forward_ad=True)
    assert gradgradcheck(f, small)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_module_runs_one_layer_node_per_direction(nonlinearity):
    m = nn.RNN(3, 4, num_layers=2, bidirectional=True, nonlinearity=nonlinearity)
    out, h = m(rg.randn(5, 2, 3))
    assert _node_names(h).count("RnnLayerBackward0") == 4


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU, nn.RNN])
def test_empty_batch_runs_forward_and_backward(cls):
    m = cls(3, 4, num_layers=2, bidirectional=True)
    x = rg.randn(5, 0, 3, requires_grad=True)
    out, h = m(x)
    h = h[0] if cls is nn.LSTM else h
    assert out.shape == (5, 0, 8) and h.shape == (4, 0, 4)
    (out.sum() + h.sum()).backward()
    assert x.grad.shape == x.shape and float(m.weight_hh_l0.grad.abs().sum()) == 0.0
