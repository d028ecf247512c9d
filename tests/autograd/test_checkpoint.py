"""utils.checkpoint: recompute in backward, same results, less memory held between the passes."""

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import retrograd as torch
from retrograd.autograd import gradcheck, gradgradcheck
from retrograd.utils.checkpoint import checkpoint, checkpoint_sequential, CheckpointError


def _x(n=6):
    return torch.randn(n, dtype=torch.float64, requires_grad=True)


def _noisy_block(w, calls):
    """A block with a random mask drawn from the default generator (dropout-like)."""

    def fn(x):
        calls.append(1)
        h = (x * w).sin()
        keep = (torch.rand(x.shape[0], dtype=torch.float64) > 0.5).double()
        return (h * keep * 2.0).exp() + x

    return fn


@pytest.mark.parametrize("use_reentrant", [False, True])
def test_same_values_and_gradients_with_random_numbers_inside(use_reentrant):
    w, x = _x(), _x()
    calls = []
    fn = _noisy_block(w, calls)
    torch.manual_seed(7)
    ref = fn(x)
    ref.sum().backward()
    ref_gx, ref_gw = x.grad.numpy().copy(), w.grad.numpy().copy()
    x.grad = w.grad = None

    torch.manual_seed(7)
    calls.clear()
    out = checkpoint(fn, x, use_reentrant=use_reentrant)
    after_forward = torch.rand(3)  # the stream moves on as without checkpointing
    out.sum().backward()
    assert len(calls) == 2  # forward, then exactly one recomputation
    assert np.array_equal(out.detach().numpy(), ref.detach().numpy())
    assert np.array_equal(x.grad.numpy(), ref_gx) and np.array_equal(w.grad.numpy(), ref_gw)
    torch.manual_seed(7)
    fn(x)
    assert np.array_equal(torch.rand(3).numpy(), after_forward.numpy())


def test_without_preserving_rng_the_recomputation_draws_new_numbers():
    w, x = _x(), _x()
    calls = []
    fn = _noisy_block(w, calls)
    torch.manual_seed(0)
    fn(x).sum().backward()
    ref = x.grad.numpy().copy()
    x.grad = None
    torch.manual_seed(0)
    checkpoint(fn, x, use_reentrant=False, preserve_rng_state=False).sum().backward()
    assert len(calls) == 3 and not np.array_equal(x.grad.numpy(), ref)


def test_gradcheck_and_double_backward_through_checkpoint():
    w = _x(4)

    def f(x):
        return checkpoint(lambda t: (t * w).tanh() * t, x, use_reentrant=False)

    x = _x(4)
    assert gradcheck(f, (x,))
    assert gradgradcheck(f, (x,))


def test_autograd_grad_and_retain_graph():
    x = _x()
    calls = []

    def fn(t):
        calls.append(1)
        return (t.exp() * t).sum()

    y = checkpoint(fn, x, use_reentrant=False)
    (g,) = torch.autograd.grad(y, x, retain_graph=True)
    y.backward()  # the graph was retained: a second recomputation serves the second backward
    xn = x.detach().numpy()
    np.testing.assert_allclose(g.numpy(), np.exp(xn) * (xn + 1))
    np.testing.assert_allclose(x.grad.numpy(), g.numpy())
    assert len(calls) == 3


def _chain(x, w, record=None):
    h = x
    for _ in range(6):
        h = (h * w).sin()
        if record is not None:
            record.append(weakref.ref(h))
    return h


def test_inner_activations_are_not_kept_between_forward_and_backward():
    w, x = _x(1000), _x(1000)
    plain, ckpt = [], []
    out_plain = _chain(x, w, plain)
    out_ckpt = checkpoint(lambda t: _chain(t, w, ckpt), x, use_reentrant=False)
    gc.collect()
    alive_plain = sum(r() is not None for r in plain[:-1])
    alive_ckpt = sum(r() is not None for r in ckpt[:-1])
    assert alive_plain == 5 and alive_ckpt == 0
    out_plain.sum().backward()
    g_plain = x.grad.numpy().copy()
    x.grad = None
    out_ckpt.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), g_plain)


def test_memory_held_after_forward_is_smaller():
    w, x = _x(20000), _x(20000)  # 160 KB per activation

    def held(run):
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        out = run()
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        return out, kept

    out_plain, kept_plain = held(lambda: _chain(x, w))
    out_ckpt, kept_ckpt = held(lambda: checkpoint(lambda t: _chain(t, w), x, use_reentrant=False))
    act = 20000 * 8
    assert kept_plain >= 6 * act  # every sin's input and output is kept
    assert kept_ckpt <= 2 * act  # the output (and bookkeeping) only
    del out_plain, out_ckpt


def test_nested_and_sequential():
    w = _x(5)
    layers = [lambda t: (t * w).sin(), lambda t: t.exp(), lambda t: t * 3, lambda t: t.tanh()]
    x = _x(5)
    ref = x
    for f in layers:
        ref = f(ref)
    ref.sum().backward()
    ref_g = x.grad.numpy().copy()
    for use_reentrant in (False, True):
        x.grad = None
        out = checkpoint_sequential(layers, 2, x, use_reentrant=use_reentrant)
        np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy())
        out.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), ref_g)
    x.grad = None
    outer = checkpoint(lambda t: checkpoint(layers[0], t, use_reentrant=False).exp(), x, use_reentrant=False)
    outer.sum().backward()
    xn, wn = x.detach().numpy(), w.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), np.exp(np.sin(xn * wn)) * np.cos(xn * wn) * wn)


def test_checkpoint_sequential_with_a_sequential_module():
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(4, 8),
        torch.nn.Tanh() if hasattr(torch.nn, "Tanh") else torch.nn.Identity(),
        torch.nn.Linear(8, 2),
    )
    x = torch.randn(3, 4)
    model(x).sum().backward()
    ref = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    checkpoint_sequential(model, 2, x, use_reentrant=False).sum().backward()
    for p, r in zip(model.parameters(), ref):
        np.testing.assert_allclose(p.grad.numpy(), r, rtol=1e-6)


def test_use_reentrant_none_warns_and_keyword_errors():
    x = _x()
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
        checkpoint(lambda t: t * 2, x).sum().backward()
    with pytest.raises(ValueError, match="Unexpected keyword arguments: scale"):
        checkpoint(lambda t, scale: t * scale, x, use_reentrant=True, scale=2.0)
    out = checkpoint(lambda t, scale: t * scale, x, use_reentrant=False, scale=2.0)
    assert np.allclose(out.detach().numpy(), 2 * x.detach().numpy())


def test_recomputation_that_differs_is_reported():
    x = _x()
    state = {"n": 3}

    def fn(t):
        h = t
        for _ in range(state["n"]):
            h = h.sin()
        return h

    out = checkpoint(fn, x, use_reentrant=False)
    state["n"] = 4
    with pytest.raises(CheckpointError, match="different number of tensors was saved"):
        out.sum().backward()


def test_under_no_grad_the_function_just_runs():
    x = _x()
    with torch.no_grad():
        out = checkpoint(lambda t: t.exp(), x, use_reentrant=False)
    assert not out.requires_grad


def test_saved_tensor_hooks_pack_the_arrays_an_op_saves_beside_its_result():
    """As PyTorch packs every saved tensor: attention's weights go through the hooks too, so
    checkpoint frees them and recomputes them."""
    from retrograd.autograd.graph import saved_tensors_hooks
    import numpy as np

    F = torch.nn.functional
    q, k, v = (torch.randn(1, 2, 4, 3, dtype=torch.float64, requires_grad=True) for _ in range(3))
    packed = []

    def pack(t):
        packed.append(tuple(t.shape))
        return t

    with saved_tensors_hooks(pack, lambda t: t):
        out = F.scaled_dot_product_attention(q, k, v)
    assert (1, 2, 4, 4) in packed  # the attention weights
    out.sum().backward()
    grads = [t.grad.numpy().copy() for t in (q, k, v)]
    for t in (q, k, v):
        t.grad = None
    F.scaled_dot_product_attention(q, k, v).sum().backward()
    for g, t in zip(grads, (q, k, v)):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-12)


def test_checkpoint_through_attention_matches_and_keeps_no_weights():
    import numpy as np
    from retrograd.autograd import graph

    F = torch.nn.functional
    q, k, v = (torch.randn(2, 2, 5, 3, dtype=torch.float64, requires_grad=True) for _ in range(3))

    def block(q, k, v):
        return F.scaled_dot_product_attention(q, k, v)

    y = checkpoint(block, q, k, v, use_reentrant=False)
    report = graph.memory(y.sum())
    assert report.total <= 3 * q.numel() * 8  # the inputs only, no (2, 2, 5, 5) weights
    y.sum().backward()
    expected = [t.grad.numpy().copy() for t in (q, k, v)]
    for t in (q, k, v):
        t.grad = None
    block(q, k, v).sum().backward()
    for g, t in zip(expected, (q, k, v)):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-12)
