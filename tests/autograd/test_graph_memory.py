"""autograd.graph.memory: bytes held by saved tensors, per node, per module, storages counted
once; the checkpoint estimate; module tracking."""

import pytest

import retrograd as torch
from retrograd import nn
from retrograd.autograd import graph
from retrograd.utils.checkpoint import checkpoint

F4 = 4  # bytes per float32


def _small():
    """linear(x[4,3], W[5,3], b[5]) -> h[4,5]; a view v = h[1:3] saved by sin and by cos."""
    torch.manual_seed(0)
    x = torch.randn(4, 3)
    W = torch.randn(5, 3, requires_grad=True)
    b = torch.randn(5, requires_grad=True)
    h = torch.nn.functional.linear(x, W, b)
    v = h[1:3]
    return (v.sin() + v.cos()).sum(), (x, W, b, h)


def test_total_is_the_distinct_storages_by_hand():
    out, (x, W, b, h) = _small()
    report = graph.memory(out)
    # x, W, b saved by the linear; h's whole storage kept by the view saved twice: once
    x_b, W_b, b_b, h_b = 4 * 3 * F4, 5 * 3 * F4, 5 * F4, 4 * 5 * F4
    assert report.total == x_b + W_b + b_b + h_b == 208
    assert report.leaf_bytes == x_b + W_b + b_b
    assert report.activation_bytes == h_b
    by_name = {n.name: n for n in report.by_node()}
    assert by_name["SinBackward0"].bytes == by_name["CosBackward0"].bytes == h_b
    assert by_name["AddmmBackward0"].bytes == x_b + W_b + b_b
    assert by_name["SumBackward0"].bytes == 0
    sin_saved = by_name["SinBackward0"].saved[0]
    assert (sin_saved.shape, sin_saved.nbytes, sin_saved.storage_bytes) == ((2, 5), 2 * 5 * F4, h_b)
    assert sin_saved.shared and sin_saved.storage == by_name["CosBackward0"].saved[0].storage
    text = str(report)
    assert "208 B in all" in text and "SinBackward0" in text and "shared" in text


def test_a_tensor_saved_by_two_nodes_and_by_one_node_twice():
    a = torch.randn(6, dtype=torch.float64, requires_grad=True)
    t = a * 3  # 48 bytes
    y = (t * t).sum() + t.sin().sum()
    report = graph.memory(y)
    # t saved three times (twice by one mul, once by sin): 48 B once; a is not saved (a mul by a
    # Python scalar saves nothing)
    assert report.total == 6 * 8
    mul = next(n for n in report.by_node() if n.name == "MulBackward0" and n.saved)
    assert mul.bytes == 48 and len(mul.saved) == 2


def test_freed_after_backward():
    out, _ = _small()
    out.backward()
    report = graph.memory(out)
    assert report.total == 0
    assert any(n.freed for n in report.by_node())
    assert "(freed)" in str(report)


def test_per_module_and_the_checkpoint_estimate():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 5), nn.Tanh())
    a = torch.randn(4, 3, requires_grad=True) * 2  # not a leaf: an activation of 48 B
    with graph.track_modules(model) as tracker:
        plain = graph.memory(model(a).sum())
        ckpt = graph.memory(checkpoint(model, a, use_reentrant=False).sum())
    mods = plain.by_module()
    # by hand: linear 0 saves a (48) and its W, b (60 + 20); tanh 1 its result [4,5] (80), which
    # linear 2 saves too, with W, b (100 + 20); tanh 3 its result (80)
    assert mods["0"].bytes == 48 + 60 + 20
    assert mods["1"].bytes == 80 and mods["2"].bytes == 80 + 100 + 20
    assert mods["3"].bytes == 80
    assert mods[""].bytes == plain.total == 48 + 60 + 20 + 80 + 100 + 20 + 80
    assert mods[""].self_bytes == 0 and mods[""].nodes == 4
    est = plain.checkpoint("")
    assert est.saved_bytes == 48 + 80 + 80
    assert est.checkpointed_bytes == 48
    # checkpointing the model drops the activations to its input, as estimated
    assert plain.activation_bytes - ckpt.activation_bytes == est.saving == 160
    assert ckpt.total == 48  # the checkpoint's record keeps its input, counted through it
    assert "would free" in str(plain) and "(model)" in str(plain)
    # the tracker's hooks are gone after the block; the report can be asked for afterwards
    assert not model[0]._forward_hooks and not model[0]._forward_pre_hooks
    later = graph.memory(model(a).sum(), modules=tracker)
    assert set(later.by_module()) == {None}  # made outside the tracked forward
    with pytest.raises(KeyError, match="no module named"):
        plain.checkpoint("nope")


def test_no_modules_without_tracking_and_bad_roots():
    out, _ = _small()
    assert graph.memory(out).by_module() == {}
    with pytest.raises(TypeError):
        graph.memory([out])
    with pytest.raises(TypeError):
        graph.track_modules(object())


def test_hooked_and_custom_function_saved_tensors():
    x = torch.randn(8, dtype=torch.float64, requires_grad=True)
    with torch.autograd.graph.save_on_cpu():
        y = x.sin().sum()
    report = graph.memory(y)
    assert report.total == 64 and report.by_node()[1].saved[0].hooked

    class Square(torch.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            out = t * t
            ctx.save_for_backward(t, out)
            return out

        @staticmethod
        def backward(ctx, g):
            t, _ = ctx.saved_tensors
            return 2 * t * g

    z = Square.apply(x).sum()
    report = graph.memory(z)
    node = next(n for n in report.by_node() if n.name == "SquareBackward")
    assert node.bytes == 64 + 64 and report.total == 128
