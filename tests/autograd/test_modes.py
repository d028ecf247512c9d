"""The one switch ``apply`` reads for every mode (autograd/_modes.py): each mode sets its bit
while it is on and clears it after, and ops run the same through the slow path."""

import threading

import numpy as np
import pytest

import retrograd as torch
from retrograd.autograd import _modes
from retrograd.autograd._modes import FORWARD, NODE_EXTRAS, PROFILER, VMAP, switch
from retrograd.autograd import forward_ad as fwAD


def test_no_mode_is_on_by_default():
    assert switch.on == 0


def test_vmap_sets_its_bit_while_a_level_exists():
    seen = []

    def f(x):
        seen.append(switch.on)
        return torch.vmap(lambda y: (seen.append(switch.on), y * 2)[1])(x)

    out = torch.vmap(f)(torch.ones(2, 3, 4))
    assert out.shape == (2, 3, 4)
    assert seen and all(s & VMAP for s in seen)
    assert switch.on == 0


def test_vmap_clears_its_bit_when_the_function_raises():
    def bad(x):
        raise ValueError("boom")

    with pytest.raises(ValueError):
        torch.vmap(bad)(torch.ones(2, 3))
    assert switch.on == 0


def test_forward_mode_sets_its_bit_for_the_level():
    with fwAD.dual_level():
        assert switch.on & FORWARD
        x = fwAD.make_dual(torch.tensor([1.0, 2.0], dtype=torch.float64), torch.ones(2, dtype=torch.float64))
        tangent = fwAD.unpack_dual(torch.sin(x)).tangent
    assert switch.on == 0
    np.testing.assert_allclose(tangent.numpy(), np.cos([1.0, 2.0]))


def test_the_profiler_sets_its_bit_while_it_records():
    with torch.profiler.profile() as prof:
        assert switch.on & PROFILER
        torch.exp(torch.ones(3))
    assert switch.on == 0
    assert any(e.name == "aten::exp" for e in prof.events())


def test_anomaly_mode_and_saved_tensor_hooks_set_the_node_extras_bit():
    with torch.autograd.set_detect_anomaly(True):
        assert switch.on & NODE_EXTRAS
        with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            assert switch.on & NODE_EXTRAS
        assert switch.on & NODE_EXTRAS
    assert switch.on == 0
    packed = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: packed.append(t) or t, lambda t: t):
        x = torch.ones(3, requires_grad=True)
        torch.sin(x).sum().backward()
    assert packed and switch.on == 0
    np.testing.assert_allclose(x.grad.numpy(), np.cos(np.ones(3, np.float32)), rtol=1e-6)


def test_a_thread_with_hooks_keeps_the_bit_but_other_threads_do_not_pack():
    entered, release = threading.Event(), threading.Event()
    packed = []

    def worker():
        with torch.autograd.graph.saved_tensors_hooks(lambda t: packed.append(t) or t, lambda t: t):
            entered.set()
            release.wait(10)

    th = threading.Thread(target=worker)
    th.start()
    try:
        assert entered.wait(10)
        assert switch.on & NODE_EXTRAS
        x = torch.ones(3, requires_grad=True)
        torch.sin(x).sum().backward()  # this thread has no hooks: nothing packed
        assert packed == []
    finally:
        release.set()
        th.join()
    assert switch.on == 0


def test_counted_modes_stay_on_until_every_thread_turned_them_off():
    bit = 1 << 20  # a bit no mode uses
    _modes.count_mode(bit, 1)
    _modes.count_mode(bit, 1)
    _modes.count_mode(bit, -1)
    assert switch.on & bit
    _modes.count_mode(bit, -1)
    assert not switch.on & bit


def _train_step(dtype):
    x = torch.linspace(-1, 1, 12, dtype=dtype).reshape(3, 4).requires_grad_()
    w = torch.linspace(0.5, 1.5, 4, dtype=dtype).requires_grad_()
    y = torch.tanh(x * w + 0.1).exp().sum(1).mean() * 2
    y.backward()
    return y.detach(), x.grad, w.grad


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16, torch.complex128])
def test_ops_run_the_same_through_the_slow_path(dtype):
    """A mode that only sets a bit (as a new mode would before it adds its branch) sends every
    op through _divert and _after: results and gradients are those of the plain path."""
    if dtype is torch.complex128:  # tanh's backward is refused for complex inputs on both paths
        x = torch.ones(2, dtype=dtype, requires_grad=True)
        with pytest.raises(NotImplementedError, match="tanh"):
            torch.tanh(x)
        _modes.set_mode(1 << 21, True)
        try:
            with pytest.raises(NotImplementedError, match="tanh"):
                torch.tanh(x)
        finally:
            _modes.set_mode(1 << 21, False)
        return
    plain = _train_step(dtype)
    _modes.set_mode(1 << 21, True)
    try:
        diverted = _train_step(dtype)
    finally:
        _modes.set_mode(1 << 21, False)
    assert switch.on == 0
    for a, b in zip(plain, diverted):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_array_equal(a.float().numpy(), b.float().numpy())
