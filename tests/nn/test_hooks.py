"""Module hooks: forward pre-hooks, forward hooks, full backward hooks and pre-hooks."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn


class Scale(nn.Module):
    def forward(self, x, factor=2.0):
        return x * factor


class TwoInTwoOut(nn.Module):
    """(a, b, k) -> (a * b, a + k * b): several inputs (one not a tensor) and outputs."""

    def forward(self, a, b, k):
        return a * b, a + b * k


# --------------------------------------------------------------------------- forward hooks
def test_forward_pre_hook_can_replace_args():
    m = Scale()
    seen = []
    h = m.register_forward_pre_hook(lambda mod, args: seen.append(args) or (args[0] + 1,))
    out = m(rg.tensor([1.0]))
    assert out.tolist() == [4.0] and len(seen[0]) == 1
    h.remove()
    assert m(rg.tensor([1.0])).tolist() == [2.0]


def test_forward_pre_hook_single_value_is_wrapped():
    m = Scale()
    m.register_forward_pre_hook(lambda mod, args: args[0] * 0)
    assert m(rg.tensor([3.0])).tolist() == [0.0]


def test_forward_pre_hook_with_kwargs():
    m = Scale()

    def hook(mod, args, kwargs):
        return args, {"factor": 10.0}

    m.register_forward_pre_hook(hook, with_kwargs=True)
    assert m(rg.tensor([1.0]), factor=3.0).tolist() == [10.0]
    m2 = Scale()
    m2.register_forward_pre_hook(lambda mod, args, kwargs: 5, with_kwargs=True)
    with pytest.raises(RuntimeError, match="tuple of \\(new_args, new_kwargs\\)"):
        m2(rg.tensor([1.0]))


def test_forward_hook_sees_and_replaces_output():
    m = Scale()
    seen = []
    m.register_forward_hook(lambda mod, args, out: seen.append((mod, args, out)))
    m.register_forward_hook(lambda mod, args, out: out + 100)
    out = m(rg.tensor([1.0]))
    assert out.tolist() == [102.0]
    assert seen[0][0] is m and seen[0][2].tolist() == [2.0]


def test_forward_hook_with_kwargs_and_prepend_order():
    m = Scale()
    order = []
    m.register_forward_hook(lambda mod, args, out: order.append("a"))
    m.register_forward_hook(lambda mod, args, kwargs, out: order.append(("b", kwargs)), with_kwargs=True)
    m.register_forward_hook(lambda mod, args, out: order.append("first"), prepend=True)
    m(rg.tensor([1.0]), factor=1.0)
    assert order == ["first", "a", ("b", {"factor": 1.0})]
    order.clear()
    m.register_forward_pre_hook(lambda mod, args: order.append("p2"))
    m.register_forward_pre_hook(lambda mod, args: order.append("p1"), prepend=True)
    m(rg.tensor([1.0]))
    assert order[:2] == ["p1", "p2"]


def test_forward_hook_always_call_runs_when_forward_raises():
    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    m = Boom()
    calls = []
    m.register_forward_hook(lambda mod, args, out: calls.append("always"), always_call=True)
    m.register_forward_hook(lambda mod, args, out: calls.append("normal"))
    with pytest.raises(ValueError, match="boom"):
        m(rg.ones(1))
    assert calls == ["always"]


def test_handle_as_context_manager_and_global_hooks():
    m = Scale()
    with m.register_forward_hook(lambda mod, args, out: out * 0):
        assert m(rg.ones(1)).tolist() == [0.0]
    assert m(rg.ones(1)).tolist() == [2.0]
    seen = []
    h = nn.register_module_forward_hook(lambda mod, args, out: seen.append(type(mod).__name__))
    try:
        nn.Sequential(Scale(), Scale())(rg.ones(1))
    finally:
        h.remove()
    assert seen == ["Scale", "Scale", "Sequential"]
    nn.Sequential(Scale())(rg.ones(1))
    assert len(seen) == 3


# --------------------------------------------------------------------------- backward hooks
def test_full_backward_hook_several_inputs_and_outputs():
    m = TwoInTwoOut()
    calls = []
    m.register_full_backward_hook(lambda mod, gi, go: calls.append((gi, go)))
    a = rg.tensor([1.0, 2.0], requires_grad=True)
    b = rg.tensor([3.0, 4.0], requires_grad=True)
    p, s = m(a, b, 5.0)
    (p * 2 + s * 3).sum().backward()
    assert len(calls) == 1
    gi, go = calls[0]
    assert len(gi) == 3 and gi[2] is None
    assert go[0].tolist() == [2.0, 2.0] and go[1].tolist() == [3.0, 3.0]
    # d/da = 2 b + 3, d/db = 2 a + 15
    assert gi[0].tolist() == [9.0, 11.0] and gi[1].tolist() == [17.0, 19.0]
    assert a.grad.tolist() == [9.0, 11.0] and b.grad.tolist() == [17.0, 19.0]


def test_full_backward_hook_can_replace_grad_input():
    m = TwoInTwoOut()
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 0, gi[1], None))
    a = rg.tensor([1.0], requires_grad=True)
    b = rg.tensor([2.0], requires_grad=True)
    p, s = m(a, b, 1.0)
    (p + s).sum().backward()
    assert a.grad.tolist() == [0.0] and b.grad.tolist() == [2.0]
    m2 = TwoInTwoOut()
    m2.register_full_backward_hook(lambda mod, gi, go: (gi[0],))
    p, s = m2(a, b, 1.0)
    with pytest.raises(RuntimeError, match="invalid number of grad_input, got 1, but expected 3"):
        (p + s).sum().backward()


def test_full_backward_hook_one_input_without_grad():
    m = TwoInTwoOut()
    calls = []
    m.register_full_backward_hook(lambda mod, gi, go: calls.append(gi))
    a = rg.tensor([1.0], requires_grad=True)
    b = rg.tensor([2.0])
    p, s = m(a, b, 1.0)
    (p + s).sum().backward()
    assert calls[0][0].tolist() == [3.0] and calls[0][1] is None


def test_full_backward_hook_when_no_input_requires_grad():
    lin = nn.Linear(2, 1)
    calls = []
    lin.register_full_backward_hook(lambda mod, gi, go: calls.append((gi, go)))
    lin(rg.ones(3, 2)).sum().backward()
    assert len(calls) == 1
    assert calls[0][0] == (None,) and calls[0][1][0].shape == (3, 1)
    assert lin.weight.grad is not None


def test_full_backward_pre_hook_replaces_grad_output():
    lin = nn.Linear(2, 1)
    seen = []
    lin.register_full_backward_pre_hook(lambda mod, go: (go[0] * 10,))
    lin.register_full_backward_hook(lambda mod, gi, go: seen.append(go[0].tolist()))
    x = rg.ones(1, 2, requires_grad=True)
    lin(x).sum().backward()
    assert seen == [[[10.0]]]
    np.testing.assert_allclose(x.grad.numpy(), 10 * lin.weight.detach().numpy())
    np.testing.assert_allclose(lin.bias.grad.numpy(), [10.0])


def test_backward_hooks_inside_sequential_run_in_reverse_order():
    order = []
    seq = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    for i, layer in enumerate(seq):
        layer.register_full_backward_hook(lambda mod, gi, go, i=i: order.append(i))
    x = rg.randn(3, 2, requires_grad=True)
    seq(x).sum().backward()
    assert order == [1, 0]


def test_backward_hook_grad_output_of_unused_output_is_none():
    m = TwoInTwoOut()
    calls = []
    m.register_full_backward_hook(lambda mod, gi, go: calls.append(go))
    a = rg.tensor([1.0], requires_grad=True)
    b = rg.tensor([2.0], requires_grad=True)
    p, s = m(a, b, 1.0)
    p.sum().backward()
    assert calls[0][1] is None and calls[0][0].tolist() == [1.0]
    assert a.grad.tolist() == [2.0]


def test_backward_hook_removed_and_no_grad_call():
    lin = nn.Linear(2, 1)
    calls = []
    h = lin.register_full_backward_hook(lambda mod, gi, go: calls.append(1))
    with rg.no_grad():
        out = lin(rg.ones(1, 2))
    assert out.grad_fn is None
    h.remove()
    lin(rg.ones(1, 2, requires_grad=True)).sum().backward()
    assert calls == []


def test_backward_hook_gradients_match_without_hook():
    lin = nn.Linear(3, 2)
    x = rg.randn(4, 3, requires_grad=True)
    lin(x).pow(2).sum().backward()
    ref = x.grad.numpy().copy()
    x.grad = None
    lin.register_full_backward_hook(lambda *a: None)
    lin.register_full_backward_pre_hook(lambda *a: None)
    lin(x).pow(2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), ref, rtol=1e-6)
