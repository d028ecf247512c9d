"""Behaviour of the backward engine: Tensor.backward, autograd.backward and autograd.grad."""

import sys
import threading

import numpy as np
import pytest

import retrograd as rg
from retrograd import autograd


def leaf(*values, dtype=rg.float64):
    return rg.tensor(np.array(values, dtype=np.float64), dtype=dtype, requires_grad=True)


def test_readme_example_gives_pytorch_numbers():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    z = (x**2).sum()
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    assert x.grad.dtype == rg.float32


def test_gradients_accumulate_across_backward_calls():
    x = leaf(1.0, 2.0)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])


def test_gradient_flows_to_every_use_of_a_tensor():
    x = leaf(2.0)
    y = x * x + x.exp() * x
    y.sum().backward()
    expected = 2 * 2.0 + np.exp(2.0) * 2.0 + np.exp(2.0)
    np.testing.assert_allclose(x.grad.numpy(), [expected])


def test_broadcast_gradient_is_summed_back_to_input_shape():
    a = rg.randn(3, 1, dtype=rg.float64, requires_grad=True)
    b = rg.randn(4, dtype=rg.float64, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (4,)
    np.testing.assert_allclose(a.grad.numpy(), np.full((3, 1), b.detach().numpy().sum()))
    np.testing.assert_allclose(b.grad.numpy(), np.full(4, a.detach().numpy().sum()))


def test_gradient_is_cast_back_to_input_dtype():
    a = rg.randn(3, requires_grad=True)  # float32
    b = rg.tensor(2.0, dtype=rg.float64, requires_grad=True)  # 0-d float64: does not upcast
    out = a * b
    assert out.dtype == rg.float32
    out.sum().backward()
    assert a.grad.dtype == rg.float32 and b.grad.dtype == rg.float64


def test_non_scalar_backward_needs_gradient():
    x = leaf(1.0, 2.0)
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs.*shape \\[2\\]"):
        (x * 2).backward()


def test_non_scalar_backward_with_gradient():
    x = leaf(1.0, 2.0)
    (x * 2).backward(rg.tensor([1.0, 10.0], dtype=rg.float64))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 20.0])


def test_gradient_of_wrong_shape_is_an_error():
    x = leaf(1.0, 2.0)
    with pytest.raises(RuntimeError, match="Mismatch in shape.*\\[3\\].*\\[2\\]"):
        (x * 2).backward(rg.ones(3, dtype=rg.float64))


def test_backward_twice_through_freed_graph_names_node_and_first_call():
    x = leaf(1.0, 2.0)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time") as e:
        y.backward()
    msg = str(e.value)
    assert "Backward0" in msg and "test_engine.py" in msg


def test_retain_graph_allows_second_backward():
    x = leaf(1.0, 2.0)
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.exp([1.0, 2.0]))


def test_saved_tensors_are_released_after_backward():
    x = leaf(1.0, 2.0)
    y = x.exp()
    z = y.sum()
    assert not y.grad_fn._is_released()
    z.backward()
    assert y.grad_fn._is_released()


def test_backward_on_tensor_without_grad_is_an_error():
    x = rg.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        x.sum().backward()


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point.*int64"):
        rg.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        rg.tensor([1, 2]).requires_grad_()


def test_requires_grad_settable_on_leaves_only():
    x = leaf(1.0)
    y = x * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False
    x.requires_grad = False
    assert not x.requires_grad


def test_long_chain_backward_and_free_are_iterative():
    limit = sys.getrecursionlimit()
    x = rg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    assert sys.getrecursionlimit() == limit
    np.testing.assert_allclose(x.grad.numpy(), [1.0])
    y = x
    for _ in range(100_000):
        y = y + 0.0
    del y  # freeing a long graph must not overflow the C stack


def test_create_graph_gives_second_derivative():
    x = leaf(2.0)
    y = x**3
    (g,) = autograd.grad(y.sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [12.0])
    (gg,) = autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), [12.0])  # d2/dx2 x^3 = 6x


def test_backward_create_graph_keeps_graph_in_grad():
    x = leaf(3.0)
    (x**2).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    gx = x.grad
    x.grad = None
    gx.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0])


def test_autograd_grad_does_not_touch_grad_fields():
    x = leaf(1.0, 2.0)
    w = leaf(3.0, 4.0)
    (gx,) = autograd.grad((x * w).sum(), [x])
    np.testing.assert_allclose(gx.numpy(), [3.0, 4.0])
    assert x.grad is None and w.grad is None


def test_autograd_grad_unused_input_names_the_input():
    x = leaf(1.0)
    unused = leaf(2.0)
    with pytest.raises(RuntimeError, match="input 1.*allow_unused"):
        autograd.grad((x * 2).sum(), [x, unused])
    gx, gu = autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gu is None
    gx, gu = autograd.grad((x * 2).sum(), [x, unused], materialize_grads=True)
    np.testing.assert_allclose(gu.numpy(), [0.0])


def test_autograd_grad_with_respect_to_non_leaf():
    x = leaf(1.0, 2.0)
    h = x * 3
    out = (h * h).sum()
    (gh,) = autograd.grad(out, h)
    np.testing.assert_allclose(gh.numpy(), 2 * h.detach().numpy())


def test_autograd_grad_runs_only_needed_nodes():
    calls = []
    x = leaf(1.0)
    y = leaf(2.0)
    a = x * 2
    b = y * 3
    b.register_hook(lambda g: calls.append("b"))
    autograd.grad((a + b).sum(), x)
    assert calls == []


def test_backward_inputs_restricts_accumulation():
    x = leaf(1.0)
    y = leaf(2.0)
    (x * y).sum().backward(inputs=[x])
    assert y.grad is None
    np.testing.assert_allclose(x.grad.numpy(), [2.0])


def test_backward_inputs_accepts_non_leaf():
    x = leaf(1.0)
    h = x * 2
    (h * h).sum().backward(inputs=[h])
    np.testing.assert_allclose(h.grad.numpy(), [4.0])
    assert x.grad is None


def test_autograd_backward_function_with_several_roots():
    x = leaf(1.0, 2.0)
    autograd.backward([(x * 2).sum(), (x * 3).sum()])
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 5.0])


def test_retain_grad_keeps_non_leaf_gradient():
    x = leaf(1.0, 2.0)
    h = x * 2
    h.retain_grad()
    assert h.retains_grad
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), [4.0, 8.0])


def test_reading_grad_of_non_leaf_warns():
    x = leaf(1.0)
    h = x * 2
    with pytest.warns(UserWarning, match="not a leaf"):
        assert h.grad is None


def test_first_gradient_is_stored_without_copy_and_leaves_never_share_storage():
    a = leaf(1.0, 2.0)
    b = leaf(3.0, 4.0)
    (a + b).sum().backward()  # add passes one gradient object to both inputs
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    a.grad.zero_()
    np.testing.assert_allclose(b.grad.numpy(), [1.0, 1.0])
    c = leaf(1.0, 2.0)
    d = leaf(5.0, 6.0)
    (c * d).sum().backward()
    np.testing.assert_allclose(c.grad.numpy(), [5.0, 6.0])


def test_hook_captured_gradient_is_not_aliased_by_grad():
    kept = []
    x = leaf(1.0, 2.0)
    x.register_hook(lambda g: kept.append(g))
    (x * 2).sum().backward()
    (x * 2).sum().backward()
    np.testing.assert_allclose(kept[0].numpy(), [2.0, 2.0])
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 4.0])


def test_grad_setter_checks_shape_and_dtype():
    x = leaf(1.0, 2.0)
    with pytest.raises(RuntimeError, match="shape \\[3\\].*\\[2\\]"):
        x.grad = rg.zeros(3, dtype=rg.float64)
    with pytest.raises(RuntimeError, match="dtype"):
        x.grad = rg.zeros(2, dtype=rg.float32)
    x.grad = rg.ones(2, dtype=rg.float64)
    x.grad = None


def test_grad_fn_names_and_next_functions():
    x = leaf(1.0)
    y = (x * 2).exp()
    assert y.grad_fn.name() == "ExpBackward0"
    ((mul_node, nr),) = y.grad_fn.next_functions
    assert mul_node.name() == "MulBackward0" and nr == 0
    ((acc, _),) = mul_node.next_functions
    assert acc.name() == "AccumulateGrad" and acc.variable is x
    assert "grad_fn=<ExpBackward0>" in repr(y)
    assert "requires_grad=True" in repr(x)


def test_detach_shares_storage_and_cuts_the_graph():
    x = leaf(1.0, 2.0)
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None
    y = x * 1
    yd = y.detach()
    yd.zero_()
    np.testing.assert_allclose(y.detach().numpy(), [0.0, 0.0])


def test_detach_in_place():
    x = leaf(1.0)
    y = x * 2
    y.detach_()
    assert y.grad_fn is None and not y.requires_grad


def test_numpy_of_tensor_requiring_grad_is_an_error():
    x = leaf(1.0)
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    assert x.detach().numpy().tolist() == [1.0]


class TestGradModes:
    def test_no_grad_records_nothing(self):
        x = leaf(1.0)
        with rg.no_grad():
            y = x * 2
        assert y.grad_fn is None and not y.requires_grad

    def test_enable_grad_inside_no_grad(self):
        x = leaf(1.0)
        with rg.no_grad():
            with rg.enable_grad():
                y = x * 2
        assert y.requires_grad

    def test_set_grad_enabled_as_function_and_context(self):
        x = leaf(1.0)
        with rg.set_grad_enabled(False):
            assert not rg.is_grad_enabled()
        assert rg.is_grad_enabled()
        rg.set_grad_enabled(False)
        try:
            assert (x * 2).grad_fn is None
        finally:
            rg.set_grad_enabled(True)

    def test_decorators(self):
        @rg.no_grad()
        def f(t):
            return t * 2

        @rg.inference_mode()
        def g(t):
            return t * 2

        x = leaf(1.0)
        assert f(x).grad_fn is None and g(x).grad_fn is None
        assert rg.is_grad_enabled()

    def test_decorators_without_parentheses(self):
        """``@no_grad``, ``@enable_grad`` and ``@inference_mode`` work bare, as in PyTorch."""
        x = rg.ones(2, requires_grad=True)

        @rg.no_grad
        def off():
            return x * 2, rg.is_grad_enabled()

        @rg.inference_mode
        def inference():
            return rg.is_inference_mode_enabled(), rg.is_grad_enabled()

        y, enabled = off()
        assert not enabled and not y.requires_grad and off.__name__ == "off"
        assert inference() == (True, False)
        with rg.no_grad():

            @rg.enable_grad
            def on():
                return (x * 2).requires_grad

            assert on()
        assert rg.is_grad_enabled() and not rg.is_inference_mode_enabled()
        with pytest.raises(TypeError, match="takes no arguments"):
            rg.no_grad(3)
        assert isinstance(rg.inference_mode(False), rg.inference_mode)

    def test_inference_mode(self):
        x = leaf(1.0)
        with rg.inference_mode():
            assert rg.is_inference_mode_enabled()
            y = x * 2
        assert not y.requires_grad and not rg.is_inference_mode_enabled()

    def test_grad_mode_is_thread_local(self):
        seen = []
        with rg.no_grad():
            t = threading.Thread(target=lambda: seen.append(rg.is_grad_enabled()))
            t.start()
            t.join()
            assert not rg.is_grad_enabled()
        assert seen == [True]


def test_hand_written_mlp_training_loss_goes_down():
    rg.manual_seed(0)
    X = rg.randn(128, 8)
    Y = (X @ rg.randn(8, 1)).tanh()
    w1 = (rg.randn(8, 32) * 0.3).requires_grad_()
    b1 = rg.zeros(32, requires_grad=True)
    w2 = (rg.randn(32, 1) * 0.3).requires_grad_()
    b2 = rg.zeros(1, requires_grad=True)
    losses = []
    for step in range(100):
        h = (X @ w1 + b1).relu()
        loss = ((h @ w2 + b2 - Y) ** 2).mean()
        loss.backward()
        with rg.no_grad():
            for p in (w1, b1, w2, b2):
                p -= 0.1 * p.grad
                if step % 2:
                    p.grad.zero_()
                else:
                    p.grad = None
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]


def test_relu_backward_blocks_non_finite_gradients_where_inactive():
    x = rg.tensor([-1.0, 2.0], dtype=rg.float64, requires_grad=True)
    y = rg.relu(x)
    y.backward(rg.tensor([float("inf"), 3.0], dtype=rg.float64))
    assert x.grad.tolist() == [0.0, 3.0]


# PyTorch 2.13's node names for arithmetic with a Python number and between tensors
_PYTORCH_NODE_NAMES = {
    "x * 2": "MulBackward0",
    "2 * x": "MulBackward0",
    "x + 1": "AddBackward0",
    "1 + x": "AddBackward0",
    "x - 1": "SubBackward0",
    "1 - x": "RsubBackward1",
    "x / 2": "DivBackward0",
    "2 / x": "MulBackward0",
    "x ** 2": "PowBackward0",
    "2 ** x": "PowBackward2",
    "x * y": "MulBackward0",
    "x + y": "AddBackward0",
    "x - y": "SubBackward0",
    "x / y": "DivBackward0",
    "x ** y": "PowBackward1",
    "torch.add(x, 1)": "AddBackward0",
    "torch.mul(x, 2.5)": "MulBackward0",
    "torch.rsub(x, 1)": "RsubBackward1",
}


@pytest.mark.parametrize("expr", sorted(_PYTORCH_NODE_NAMES))
def test_arithmetic_nodes_are_named_as_in_pytorch(expr):
    x = rg.ones(2, requires_grad=True)
    y = rg.ones(2, requires_grad=True)
    assert eval(expr, {"torch": rg, "x": x, "y": y}).grad_fn.name() == _PYTORCH_NODE_NAMES[expr]


def test_grad_of_outputs_where_one_is_computed_from_another():
    # y is a root and also reachable from the root z: its gradient is y's seed plus z's
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = -y
    (gx,) = rg.autograd.grad([y, z], x, [rg.ones(2), rg.full((2,), 3.0)])
    np.testing.assert_allclose(gx.numpy(), [2.0 * (1 - 3), 2.0 * (1 - 3)])


def test_grad_refuses_batched_grad_outputs_rather_than_ignoring_them():
    x = rg.ones(2, requires_grad=True)
    with pytest.raises(NotImplementedError, match="is_grads_batched"):
        rg.autograd.grad(x.sum(), x, is_grads_batched=True)
    with pytest.warns(UserWarning, match="only_inputs"):
        rg.autograd.grad(x.sum(), x, only_inputs=False)


def test_logsumexp_needs_dim_as_in_pytorch():
    with pytest.raises(TypeError):
        rg.logsumexp(rg.ones(2, 3))


def test_a_leaf_whose_requires_grad_was_switched_off_gets_no_gradient():
    # freezing a parameter after the forward (as adapters do): PyTorch's AccumulateGrad skips it
    w = rg.nn.Parameter(rg.ones(3))
    v = rg.nn.Parameter(rg.ones(3))
    hooked = []
    w.register_post_accumulate_grad_hook(lambda p: hooked.append(p))
    y = (w * 2 + v * 3).sum()
    w.requires_grad_(False)
    y.backward()
    assert w.grad is None and hooked == [w]  # PyTorch still runs the post-accumulate hook
    assert v.grad.tolist() == [3.0, 3.0, 3.0]


def test_nodes_expose_what_they_saved_under_pytorchs_names():
    a = rg.randn(5, requires_grad=True)
    b = rg.randn(5, requires_grad=True)
    y = a * b
    assert rg.equal(y.grad_fn._saved_self, a) and rg.equal(y.grad_fn._saved_other, b)
    e = a.exp()
    assert rg.equal(e.grad_fn._saved_result, e) and e.grad_fn._saved_result.grad_fn is e.grad_fn
    with pytest.raises(AttributeError, match="_saved_mat2"):
        y.grad_fn._saved_mat2
    unpacked = []
    with rg.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: unpacked.append(1) or t):
        z = a.sin()
    assert rg.equal(z.grad_fn._saved_self, a) and unpacked == [1]  # the unpack hook runs
    z.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        z.grad_fn._saved_self
