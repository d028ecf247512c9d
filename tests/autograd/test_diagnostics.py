"""Diagnostics beyond PyTorch: where a saved tensor was modified, which backward freed a graph,
anomaly mode's forward trace, and explain_grad."""

import inspect

import pytest

import retrograd as torch
from retrograd.autograd import explain_grad


def _line(marker):
    src = inspect.getsource(inspect.getmodule(_line)).splitlines()
    return next(i for i, l in enumerate(src, 1) if marker in l and "_line(" not in l)


def _x(*values):
    return torch.tensor(values, dtype=torch.float64, requires_grad=True)


# --------------------------------------------------------------------------- freed graphs
def test_second_backward_names_the_node_and_the_first_backward():
    x = _x(1.0, 2.0)
    z = x.exp().sum()
    z.backward()  # FIRST-BACKWARD
    with pytest.raises(RuntimeError) as e:
        z.backward()
    msg = str(e.value)
    assert "Trying to backward through the graph a second time" in msg
    assert "ExpBackward0" in msg
    assert f"test_diagnostics.py:{_line('# FIRST-BACKWARD')}" in msg
    assert "retain_graph=True" in msg


def test_freed_by_autograd_grad_too():
    x = _x(1.0)
    z = (x * x).sum()
    torch.autograd.grad(z, x)  # GRAD-CALL
    with pytest.raises(RuntimeError, match=f"MulBackward0.*test_diagnostics.py:{_line('# GRAD-CALL')}"):
        torch.autograd.grad(z, x)


def test_saved_tensor_access_after_free():
    x = _x(1.0)
    y = x.exp()
    y.sum().backward()
    with pytest.raises(RuntimeError, match="ExpBackward0 were freed"):
        y.grad_fn._saved_tensors


# --------------------------------------------------------------------------- anomaly mode
def _nan_forward(x):
    return (x * 0).sqrt()  # NAN-SOURCE: d sqrt(0) = inf, times 0 = nan


def test_anomaly_mode_names_the_node_and_the_forward_line():
    x = _x(0.0, 1.0)
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        with torch.autograd.detect_anomaly():
            y = _nan_forward(x)
            with pytest.raises(RuntimeError) as e:
                y.sum().backward()
    msg = str(e.value)
    assert "returned nan values" in msg
    assert "MulBackward" in msg or "SqrtBackward0" in msg
    assert "return (x * 0).sqrt()  # NAN-SOURCE" in msg
    assert f"line {_line('# NAN-SOURCE')}" in msg


def test_no_nan_check_without_anomaly_mode_or_with_check_nan_false():
    x = _x(0.0, 1.0)
    _nan_forward(x).sum().backward()  # no error: PyTorch does not check by default
    x.grad = None
    with pytest.warns(UserWarning):
        with torch.autograd.detect_anomaly(check_nan=False):
            _nan_forward(x).sum().backward()
    assert torch.autograd.is_anomaly_enabled() is False


def test_anomaly_mode_adds_the_forward_trace_to_other_backward_errors():
    x = _x(1.0, 2.0)
    with pytest.warns(UserWarning) as warned:
        with torch.autograd.detect_anomaly():
            y = x.sigmoid()  # SIGMOID-HERE
            with torch.no_grad():
                y.mul_(2)
            with pytest.raises(RuntimeError) as e:
                y.sum().backward()
    notes = "\n".join(e.value.__notes__)  # set on every Python version (add_note from 3.11)
    assert "Error detected in SigmoidBackward0" in notes
    assert "# SIGMOID-HERE" in notes
    # and warned, as PyTorch does, so the trace shows wherever the error is caught
    warning = "\n".join(str(w.message) for w in warned)
    assert "Error detected in SigmoidBackward0" in warning and "# SIGMOID-HERE" in warning


def test_set_detect_anomaly():
    torch.autograd.set_detect_anomaly(True)
    try:
        assert torch.autograd.is_anomaly_enabled()
    finally:
        torch.autograd.set_detect_anomaly(False)
    assert not torch.autograd.is_anomaly_enabled()


# --------------------------------------------------------------------------- explain_grad
def test_explain_integer_dtype():
    t = torch.tensor([1, 2])
    msg = explain_grad(t, (t * 2).sum())
    assert "int64" in msg and "floating point" in msg


def test_explain_frozen_parameter():
    lin = torch.nn.Linear(2, 1)
    lin.weight.requires_grad_(False)
    loss = lin(torch.ones(1, 2)).sum()
    loss.backward()
    msg = explain_grad(lin.weight, loss)
    assert "frozen parameter" in msg and "requires_grad=False" in msg
    assert "nonzero gradient" in explain_grad(lin.bias, loss)


def test_explain_non_leaf_without_retain_grad():
    x = _x(1.0)
    h = x * 3
    loss = (h * h).sum()
    msg = explain_grad(h, loss)
    assert "not a leaf" in msg and "MulBackward" in msg and "retain_grad()" in msg


def test_explain_detach_boundary():
    w = _x(1.0, 2.0)
    x = _x(3.0, 4.0)
    loss = (w.detach() * x).sum()
    msg = explain_grad(w, loss)
    assert "does not reach" in msg and "detach()" in msg and "MulBackward0" in msg
    loss.backward()
    msg = explain_grad(w, loss)
    assert "does not reach" in msg and "call explain_grad before backward" in msg


def test_explain_no_grad_boundary_and_unused_tensor():
    w = _x(1.0, 2.0)
    x = _x(3.0, 4.0)
    with torch.no_grad():
        h = w * 2
    loss = (h + x).sum()
    msg = explain_grad(w, loss)
    assert "does not reach" in msg and "no_grad()" in msg
    unused = _x(5.0)
    assert "No recorded op has ever used it" in explain_grad(unused, loss)


def test_explain_loss_without_graph():
    w = _x(1.0)
    with torch.no_grad():
        loss = (w * 2).sum()
    assert "the loss has no graph" in explain_grad(w, loss)


def test_explain_backward_not_run():
    w = _x(1.0)
    loss = (w * 2).sum()
    msg = explain_grad(w, loss)
    assert "backward has not run" in msg and "MulBackward" in msg


def test_explain_zero_gradient_finds_the_node():
    w = _x(-1.0, -2.0)
    loss = (w.relu() * 3).sum()
    loss.backward(retain_graph=True)
    msg = explain_grad(w, loss)
    assert "zero everywhere" in msg and "becomes zero at ReluBackward0" in msg
    loss2 = (w.relu() * 3).sum()
    loss2.backward()
    w.grad = None
    loss2b = (w.relu() * 3).sum()
    loss2b.backward()
    assert "graph was freed" in explain_grad(w, loss2b)
