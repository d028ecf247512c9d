"""autograd.engine.queue_callback: work queued during a backward runs when it has finished."""

import threading

import pytest

import retrograd as torch
from retrograd.autograd import engine


def test_callback_runs_after_every_node_and_before_backward_returns():
    a = torch.ones(2, requires_grad=True)
    b = torch.ones(2, requires_grad=True)
    log = []

    def hook(t):
        log.append("a accumulated")
        engine.queue_callback(lambda: log.append(("callback", a.grad.tolist(), b.grad.tolist())))

    a.register_post_accumulate_grad_hook(hook)
    b.register_post_accumulate_grad_hook(lambda t: log.append("b accumulated"))
    ((a * 2).sum() + (b * 3).sum()).backward()
    assert log[-1] == ("callback", [2.0, 2.0], [3.0, 3.0])
    assert sorted(log[:2]) == ["a accumulated", "b accumulated"]
    log.clear()
    (a * b).sum().backward()  # queued callbacks belong to one backward only
    assert len(log) == 3


def test_callbacks_queued_by_callbacks_run_too():
    x = torch.ones(1, requires_grad=True)
    log = []
    x.register_post_accumulate_grad_hook(
        lambda t: engine.queue_callback(lambda: engine.queue_callback(lambda: log.append("inner")))
    )
    x.sum().backward()
    assert log == ["inner"]


def test_queue_callback_outside_backward_is_an_error():
    with pytest.raises(RuntimeError, match="while a backward is running"):
        engine.queue_callback(lambda: None)


def test_queue_callback_from_a_thread_not_running_a_backward_is_an_error():
    """Another thread's running backward does not count: callbacks belong to the backward of
    the thread that queues them."""
    x = torch.ones(1, requires_grad=True)
    errors, log = [], []

    def other_thread():
        try:
            engine.queue_callback(lambda: log.append("ran"))
        except RuntimeError as e:
            errors.append(str(e))

    def hook(t):
        th = threading.Thread(target=other_thread)
        th.start()
        th.join()

    x.register_post_accumulate_grad_hook(hook)
    x.sum().backward()
    assert log == [] and len(errors) == 1 and "on the calling thread" in errors[0]
