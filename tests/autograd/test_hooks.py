"""Hooks: tensor hooks, node hooks, saved tensor hooks, and graph introspection."""

import numpy as np
import pytest

import retrograd as torch
from retrograd.autograd import graph
from retrograd.autograd.graph import Node, saved_tensors_hooks, save_on_cpu, disable_saved_tensors_hooks


def _x(*values):
    return torch.tensor(values, dtype=torch.float64, requires_grad=True)


# --------------------------------------------------------------------------- tensor hooks
def test_leaf_hooks_chain_in_order_and_replace_the_gradient():
    x = _x(1.0, 2.0)
    calls = []
    h1 = x.register_hook(lambda g: calls.append(("h1", g.tolist())) or g * 2)
    x.register_hook(lambda g: calls.append(("h2", g.tolist())))  # returns None: keeps g
    (x * 3).sum().backward()
    assert calls == [("h1", [3.0, 3.0]), ("h2", [6.0, 6.0])]
    assert x.grad.tolist() == [6.0, 6.0]
    calls.clear()
    x.grad = None
    h1.remove()
    h1.remove()  # removing twice is harmless
    (x * 3).sum().backward()
    assert calls == [("h2", [3.0, 3.0])] and x.grad.tolist() == [3.0, 3.0]


def test_non_leaf_hook_changes_what_flows_upstream():
    x = _x(1.0, 2.0)
    y = x * 2
    seen = []
    y.register_hook(lambda g: seen.append(g.tolist()) or g + 1)
    (y * y).sum().backward()
    assert seen == [[4.0, 8.0]]
    assert x.grad.tolist() == [10.0, 18.0]  # (2y + 1) * 2


def test_handle_as_context_manager():
    x = _x(1.0)
    with x.register_hook(lambda g: g * 0):
        (x * 5).sum().backward()
    assert x.grad.item() == 0.0
    (x * 5).sum().backward()
    assert x.grad.item() == 5.0


def test_hook_result_is_captured_by_autograd_grad():
    x = _x(1.0)
    x.register_hook(lambda g: g * 100)
    assert torch.autograd.grad((x * 2).sum(), x)[0].item() == 200.0
    y = x * 2
    y.register_hook(lambda g: g * 100)
    assert torch.autograd.grad((y * 2).sum(), y)[0].item() == 200.0


def test_retain_grad_sees_the_hooked_gradient():
    x = _x(1.0, 1.0)
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda g: g * 5)
    y.sum().backward()
    assert y.grad.tolist() == [5.0, 5.0] and x.grad.tolist() == [10.0, 10.0]


def test_hook_registered_before_inplace_sees_the_old_value_gradient():
    x = _x(1.0, 1.0)
    y = x * 2
    order = []
    y.register_hook(lambda g: order.append(("old", g.tolist())))
    y.mul_(3)
    y.register_hook(lambda g: order.append(("new", g.tolist())))
    y.sum().backward()
    assert order == [("new", [1.0, 1.0]), ("old", [3.0, 3.0])]


def test_hook_errors():
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
        torch.zeros(2).register_hook(lambda g: g)
    x = _x(1.0, 2.0)
    with pytest.raises(RuntimeError, match="post accumulate grad hooks cannot be registered on non-leaf tensors"):
        (x * 2).register_post_accumulate_grad_hook(lambda t: None)
    x.register_hook(lambda g: g.sum())
    with pytest.raises(RuntimeError, match=r"has changed the size of value.*\[2\].*\[\]"):
        (x * 2).sum().backward()


def test_post_accumulate_grad_hook_runs_after_grad_is_updated():
    x = _x(1.0, 2.0)
    seen = []
    h = x.register_post_accumulate_grad_hook(lambda t: seen.append((t is x, t.grad.tolist())))
    (x * 3).sum().backward()
    (x * 1).sum().backward()
    assert seen == [(True, [3.0, 3.0]), (True, [4.0, 4.0])]
    h.remove()
    (x * 1).sum().backward()
    assert len(seen) == 2


def test_post_accumulate_grad_hook_can_step_a_parameter():
    # the pattern of optimizer-in-backward: update and clear the gradient inside the hook
    w = _x(1.0, 1.0)

    def step(p):
        with torch.no_grad():
            p.sub_(p.grad * 0.5)
        p.grad = None

    w.register_post_accumulate_grad_hook(step)
    (w * torch.tensor([2.0, 4.0], dtype=torch.float64)).sum().backward()
    assert w.tolist() == [0.0, -1.0] and w.grad is None


# --------------------------------------------------------------------------- node hooks
def test_node_hook_sees_grad_inputs_and_outputs_and_may_replace():
    x = _x(1.0, 2.0)
    w = _x(3.0, 4.0)
    z = x * w
    seen = []

    def hook(grad_inputs, grad_outputs):
        seen.append(([g.tolist() for g in grad_inputs], [g.tolist() for g in grad_outputs]))
        return (grad_inputs[0] * 10, grad_inputs[1])

    handle = z.grad_fn.register_hook(hook)
    z.sum().backward(retain_graph=True)
    assert seen == [([[3.0, 4.0], [1.0, 2.0]], [[1.0, 1.0]])]
    assert x.grad.tolist() == [30.0, 40.0] and w.grad.tolist() == [1.0, 2.0]
    handle.remove()
    x.grad = None
    z.sum().backward()
    assert x.grad.tolist() == [3.0, 4.0]


def test_node_prehook_replaces_incoming_gradient():
    x = _x(1.0, 2.0)
    z = x * 2
    z.grad_fn.register_prehook(lambda grad_outputs: (grad_outputs[0] * 7,))
    z.sum().backward()
    assert x.grad.tolist() == [14.0, 14.0]


def test_node_hook_wrong_arity_raises():
    x = _x(1.0)
    z = x * x
    z.grad_fn.register_hook(lambda gi, go: (gi[0],))
    with pytest.raises(RuntimeError, match=r"incorrect number of values \(got 1, but expected 2\)"):
        z.sum().backward()


# --------------------------------------------------------------------------- introspection
def test_node_introspection():
    x = _x(1.0, 2.0)
    y = x * 2
    z = y.exp() + x
    fn = z.grad_fn
    assert isinstance(fn, Node) and fn.name() == "AddBackward0"
    (exp_node, e0), (acc, e1) = fn.next_functions
    assert exp_node.name() == "ExpBackward0" and (e0, e1) == (0, 0)
    assert exp_node.next_functions[0][0] is y.grad_fn
    assert acc.name() == "AccumulateGrad" and acc.variable is x and acc.next_functions == ()
    assert isinstance(acc, Node)
    assert x.grad_fn is None and x.is_leaf and not y.is_leaf
    fn.metadata["tag"] = "loss"
    assert z.grad_fn.metadata == {"tag": "loss"}


def test_next_functions_marks_inputs_without_grad_as_none():
    x = _x(1.0)
    z = x + torch.ones(1, dtype=torch.float64)
    assert z.grad_fn.next_functions[1] == (None, 0)


def test_node_is_callable():
    x = _x(1.0, 2.0)
    z = x * x
    (gx1, gx2) = z.grad_fn(torch.ones(2, dtype=torch.float64))
    assert gx1.tolist() == [1.0, 2.0] and gx2.tolist() == [1.0, 2.0]


def test_gradient_edge_and_increment_version():
    x = _x(1.0)
    y = x * 2
    assert graph.get_gradient_edge(y) == (y.grad_fn, 0)
    edge = graph.get_gradient_edge(x)
    assert edge.node.name() == "AccumulateGrad" and edge.output_nr == 0
    with pytest.raises(RuntimeError, match="does not require gradients"):
        graph.get_gradient_edge(torch.zeros(1))
    z = y.exp()
    graph.increment_version(z)
    assert z._version == 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


# --------------------------------------------------------------------------- saved tensor hooks
def test_saved_tensors_hooks_pack_and_unpack():
    x = _x(0.5, 1.5)
    packed, unpacked = [], []

    def pack(t):
        packed.append(t.tolist())
        return ("box", t)

    def unpack(box):
        unpacked.append(box[0])
        return box[1]

    with saved_tensors_hooks(pack, unpack):
        y = x.exp()  # saves its output
        z = (y * x).sum()  # saves y and x
    assert len(packed) == 3 and unpacked == []
    z.backward()
    assert unpacked == ["box"] * 3
    ex = np.exp([0.5, 1.5])
    np.testing.assert_allclose(x.grad.numpy(), ex * np.array([0.5, 1.5]) + ex)
    (x * x).sum().backward()  # outside the context nothing is packed
    assert len(packed) == 3


def test_saved_tensors_hooks_can_store_anything_and_nest():
    x = _x(2.0)
    store = {}

    def pack_outer(t):
        raise AssertionError("the inner hooks apply")

    def pack(t):
        key = len(store)
        store[key] = t.detach().numpy().copy()
        return key

    def unpack(key):
        return torch.tensor(store.pop(key), dtype=torch.float64)

    with saved_tensors_hooks(pack_outer, unpack):
        with saved_tensors_hooks(pack, unpack):
            y = (x * x * x).sum()
    assert len(store) == 4
    y.backward()
    assert store == {} and x.grad.item() == 12.0


def test_saved_tensors_hooks_support_double_backward():
    x = _x(1.0, 3.0)
    with saved_tensors_hooks(lambda t: t * 1, lambda t: t):
        y = (x * x * x).sum()
    (g,) = torch.autograd.grad(y, x, create_graph=True)
    g.sum().backward()
    assert x.grad.tolist() == [6.0, 18.0]


def test_hooked_graph_is_freed_by_backward():
    x = _x(1.0)
    with saved_tensors_hooks(lambda t: t, lambda t: t):
        y = x.exp().sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time.*ExpBackward0"):
        y.backward()


def test_unpack_must_return_a_tensor():
    x = _x(1.0)
    with saved_tensors_hooks(lambda t: t, lambda p: 3.0):
        y = (x * x).sum()
    with pytest.raises(TypeError, match="unpack_hook expected to be a Tensor.*float.*MulBackward0"):
        y.backward()


def test_version_is_still_checked_under_hooks():
    x = _x(1.0)
    with saved_tensors_hooks(lambda t: t, lambda t: t):
        y = x.exp()
        z = y.sum()
    with torch.no_grad():
        y.add_(1)
    with pytest.raises(RuntimeError, match="ExpBackward0"):
        z.backward()


def test_disable_saved_tensors_hooks():
    with disable_saved_tensors_hooks("no hooks in this region"):
        with pytest.raises(RuntimeError, match="no hooks in this region"):
            with saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
    with saved_tensors_hooks(lambda t: t, lambda t: t):
        pass


def test_save_on_cpu_gives_the_same_gradients():
    x = _x(0.1, 0.2, 0.3)
    with save_on_cpu():
        y = (x.sin() * x).sum()
    y.backward()
    xn = np.array([0.1, 0.2, 0.3])
    np.testing.assert_allclose(x.grad.numpy(), np.cos(xn) * xn + np.sin(xn))


def test_register_multi_grad_hook_all_and_any():
    a, b, c = _x(1.0), _x(2.0), _x(3.0)
    seen = []
    handle = graph.register_multi_grad_hook(
        (a, b, c), lambda grads: seen.append([None if g is None else g.item() for g in grads])
    )
    (a * 2 + b * 3).sum().backward()
    assert seen == [[2.0, 3.0, None]]
    (c * 5).sum().backward()
    assert seen[-1] == [None, None, 5.0]
    handle.remove()
    (a * 2).sum().backward()
    assert len(seen) == 2
    first = []
    graph.register_multi_grad_hook((a, b), lambda g: first.append(g.item()), mode="any")
    (a * 2 + b * 3).sum().backward()
    (a * 7).sum().backward()
    assert len(first) == 2 and first[1] == 7.0
    with pytest.raises(ValueError, match="mode to be one of"):
        graph.register_multi_grad_hook((a,), print, mode="some")


def test_hooks_on_a_leafs_accumulate_grad_node():
    p = _x(1.0, 2.0)
    acc = p.view_as(p).grad_fn.next_functions[0][0]
    assert acc.name() == "AccumulateGrad"
    seen = []
    acc.register_prehook(lambda go: seen.append(("pre", go[0].tolist())))
    acc.register_hook(lambda gi, go: seen.append(("post", gi, go[0].tolist(), p.grad.tolist())))
    (p * 2).sum().backward()
    assert seen == [("pre", [2.0, 2.0]), ("post", (), [2.0, 2.0], [2.0, 2.0])]
