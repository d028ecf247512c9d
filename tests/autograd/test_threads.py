"""Backward passes run concurrently from several threads.

Each test starts its threads together (a barrier) for several rounds. NumPy releases the GIL
in element-wise loops over large arrays, and a short switch interval makes the interpreter
change threads often, so an unprotected read-add-write of a gradient loses contributions in
most rounds; the checks below are exact (integer-valued gradients in float64).
"""

import sys
import threading

import numpy as np
import pytest

import retrograd as torch
import retrograd.nn.functional as F
from retrograd.autograd import engine, graph

N_THREADS = 4


@pytest.fixture(autouse=True)
def short_switch_interval():
    prev = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(prev)


def run_threads(work, n=N_THREADS):
    """Run ``work(i)`` in ``n`` threads started together; re-raise the first error."""
    barrier = threading.Barrier(n)
    errors = []

    def target(i):
        try:
            barrier.wait()
            work(i)
        except BaseException as e:  # noqa: B036 - reported in the main thread
            errors.append(e)
            barrier.abort()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def big_leaf(n=1 << 20):
    return torch.ones(n, dtype=torch.float64, requires_grad=True)


# --------------------------------------------------------------------------- accumulation
def test_concurrent_backward_into_a_shared_leaf_adds_every_contribution():
    w = big_leaf(1 << 21)
    for _ in range(8):
        w.grad = None
        run_threads(lambda i: (w * float(i + 1)).sum().backward())
        g = w.grad.numpy()
        assert g.min() == g.max() == 10.0  # 1 + 2 + 3 + 4


def test_concurrent_backward_with_create_graph_adds_every_contribution():
    w = big_leaf()
    for _ in range(4):
        w.grad = None
        run_threads(lambda i: (w * float(i + 1)).sum().backward(create_graph=True))
        g = w.grad.detach().numpy()
        assert g.min() == g.max() == 10.0


def test_concurrent_sparse_embedding_gradients_add_every_contribution():
    weight = torch.zeros(64, 8, dtype=torch.float64, requires_grad=True)
    rows = [torch.tensor([i, i + 1, 2 * i]) for i in range(N_THREADS)]
    expected = np.zeros((64, 8))
    for r in rows:
        np.add.at(expected, r.numpy(), 1.0)
    for _ in range(20):
        weight.grad = None

        def work(i):
            for _ in range(5):
                F.embedding(rows[i], weight, sparse=True).sum().backward()

        run_threads(work)
        assert weight.grad.is_sparse
        np.testing.assert_array_equal(weight.grad.to_dense().numpy(), 5 * expected)


def test_retain_grad_of_a_shared_non_leaf_adds_every_contribution():
    w = big_leaf()
    for _ in range(6):
        h = w * 1.0
        h.retain_grad()
        run_threads(lambda i: (h * float(i + 1)).sum().backward(retain_graph=True))
        g = h.grad.numpy()
        assert g.min() == g.max() == 10.0


def test_backward_inputs_into_a_shared_non_leaf_adds_every_contribution():
    w = big_leaf()
    for _ in range(6):
        h = w * 1.0
        run_threads(lambda i: (h * float(i + 1)).sum().backward(inputs=[h], retain_graph=True))
        g = h.grad.numpy()
        assert g.min() == g.max() == 10.0
        assert w.grad is None


def test_post_accumulate_grad_hook_sees_its_own_accumulation_whole():
    """The hook runs with the leaf's accumulator held: it sees the gradient right after its own
    backward's addition, never half of another one, and no two hooks see the same total."""
    w = big_leaf()
    seen = []
    w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.numpy().copy()))
    for _ in range(6):
        w.grad = None
        seen.clear()
        run_threads(lambda i: (w * float(1 << i)).sum().backward())  # 1, 2, 4, 8
        assert all(s.min() == s.max() for s in seen)
        totals = sorted(s[0] for s in seen)
        assert len(totals) == N_THREADS and len(set(totals)) == N_THREADS and totals[-1] == 15.0


def test_leaves_first_used_from_several_threads_get_one_accumulator():
    for _ in range(5):
        leaves = [torch.ones(3, requires_grad=True) for _ in range(300)]
        accs = [[] for _ in range(N_THREADS)]

        def work(i):
            accs[i].extend(graph.get_gradient_edge(w).node for w in leaves)

        run_threads(work)
        for k in range(len(leaves)):
            assert all(a[k] is accs[0][k] for a in accs)


# --------------------------------------------------------------------------- final callbacks
def test_callbacks_queued_in_a_thread_run_in_that_threads_backward():
    rounds = 150
    logs = [[] for _ in range(N_THREADS)]

    def work(i):
        x = torch.ones(2, requires_grad=True)
        me = threading.get_ident()
        x.register_post_accumulate_grad_hook(
            lambda p: engine.queue_callback(lambda: logs[i].append(threading.get_ident()))
        )
        for k in range(rounds):
            (x * 2.0).sum().backward()
            assert len(logs[i]) == k + 1, "the callback did not run before backward returned"
        assert set(logs[i]) == {me}

    run_threads(work)


def test_multi_grad_hooks_fire_once_per_backward_from_each_thread():
    rounds = 150
    calls = [[] for _ in range(N_THREADS)]

    def work(i):
        a = torch.ones(2, requires_grad=True)
        b = torch.ones(2, requires_grad=True)
        graph.register_multi_grad_hook((a, b), lambda grads: calls[i].append([g.tolist() for g in grads]))
        for k in range(rounds):
            (a * float(i) + b).sum().backward()
            assert len(calls[i]) == k + 1
        assert all(c == [[float(i)] * 2, [1.0, 1.0]] for c in calls[i])

    run_threads(work)


def test_one_multi_grad_hook_on_shared_tensors_fires_once_per_backward_of_every_thread():
    rounds = 100
    a = torch.ones(2, requires_grad=True)
    b = torch.ones(2, requires_grad=True)
    all_calls, any_calls = [], []
    graph.register_multi_grad_hook(
        (a, b), lambda grads: all_calls.append((threading.get_ident(), [g.tolist() for g in grads]))
    )
    graph.register_multi_grad_hook((a, b), lambda g: any_calls.append(threading.get_ident()), mode="any")

    def work(i):
        for _ in range(rounds):
            (a * float(i) + b).sum().backward()

    run_threads(work)
    assert len(all_calls) == len(any_calls) == N_THREADS * rounds
    for _, grads in all_calls:
        assert grads[1] == [1.0, 1.0] and grads[0][0] in range(N_THREADS)


# --------------------------------------------------------------------------- single thread
def test_a_backward_inside_a_hook_keeps_its_own_callbacks():
    x = torch.ones(2, requires_grad=True)
    y = torch.ones(2, requires_grad=True)
    log = []
    y.register_post_accumulate_grad_hook(lambda p: engine.queue_callback(lambda: log.append("inner callback")))

    def outer_hook(p):
        engine.queue_callback(lambda: log.append("outer callback"))
        with torch.enable_grad():
            (y * 3).sum().backward()
        log.append("inner backward returned")

    x.register_post_accumulate_grad_hook(outer_hook)
    (x * 2).sum().backward()
    assert log == ["inner callback", "inner backward returned", "outer callback"]


def test_a_post_accumulate_hook_may_run_a_backward_into_its_own_leaf():
    """The accumulator's lock is reentrant: the nested backward on the same thread does not
    wait for the outer one to release it."""
    w = torch.ones(2, requires_grad=True)
    depth = []

    def hook(p):
        if not depth:
            depth.append(1)
            with torch.enable_grad():
                (p * 5.0).sum().backward()

    w.register_post_accumulate_grad_hook(hook)
    t = threading.Thread(target=lambda: (w * 2.0).sum().backward(), daemon=True)
    t.start()
    t.join(timeout=60)  # a deadlock guard, not a timing check
    assert not t.is_alive(), "backward inside a post-accumulate hook deadlocked"
    assert w.grad.tolist() == [7.0, 7.0]


def test_multi_grad_hook_fires_again_after_a_backward_that_failed():
    a = torch.ones(2, requires_grad=True)
    b = torch.ones(2, requires_grad=True)
    calls = []
    graph.register_multi_grad_hook((a, b), lambda grads: calls.append(len(grads)))

    def fail(p):
        raise ValueError("boom")

    handle = b.register_post_accumulate_grad_hook(fail)
    with pytest.raises(ValueError, match="boom"):
        (a * 2 + b * 3).sum().backward()
    assert calls == []
    handle.remove()
    (a * 2 + b * 3).sum().backward()
    assert calls == [2]


def test_freed_graph_error_names_the_backward_that_freed_it_despite_a_nested_backward():
    x = torch.ones(2, requires_grad=True)
    other = torch.ones(2, requires_grad=True)
    b = x.exp().sin()

    def nested_backward(g):
        with torch.enable_grad():
            (other * 2).sum().backward()

    b.register_hook(nested_backward)
    outer_line = sys._getframe().f_lineno + 1  # the line of the backward call below
    b.sum().backward()
    with pytest.raises(RuntimeError, match=rf"test_threads.py:{outer_line}\b"):
        b.sum().backward()
