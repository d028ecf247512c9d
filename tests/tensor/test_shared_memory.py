"""share_memory_: a tensor's data moves to shared memory, and processes given the tensor
(forked, or spawned with the tensor pickled by multiprocessing) read and write the same data."""

import multiprocessing
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

import retrograd as rg


def _add_one(t, done):
    t.add_(1)
    done.put(t.is_shared())


def _train_step(model, done):
    opt = rg.optim.SGD(model.parameters(), lr=0.5)
    model(rg.ones(1, 2)).sum().backward()
    opt.step()
    done.put(True)


def _run(method, target, *args):
    ctx = multiprocessing.get_context(method)
    done = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, done))
    p.start()
    result = done.get(timeout=120)
    p.join(timeout=120)
    assert p.exitcode == 0
    return result


def test_share_memory_keeps_the_tensor_and_its_values():
    x = rg.arange(6.0, requires_grad=True)
    assert not x.is_shared()
    assert x.share_memory_() is x and x.is_shared()
    np.testing.assert_array_equal(x.detach().numpy(), np.arange(6.0))
    assert x.requires_grad and x.is_leaf
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * np.arange(6.0))
    assert x.share_memory_() is x  # a no-op the second time


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_process_writes_into_the_shared_tensor(method):
    x = rg.zeros(2, 3).share_memory_()
    assert _run(method, _add_one, x) is True
    np.testing.assert_array_equal(x.numpy(), np.ones((2, 3)))


def test_sharing_a_view_moves_what_it_views():
    base = rg.zeros(2, 3)
    v = base.t()
    v.share_memory_()
    assert v.is_shared() and base.is_shared()
    _run("spawn", _add_one, v[1:])  # a view of the shared data crosses the boundary too
    np.testing.assert_array_equal(base.numpy(), [[0, 1, 1], [0, 1, 1]])
    v[0, 0] = 5.0
    assert base[0, 0].item() == 5.0


def test_hogwild_step_updates_the_shared_parameters():
    model = rg.nn.Linear(2, 1)
    with rg.no_grad():
        model.weight.fill_(1.0)
        model.bias.fill_(0.0)
    assert model.share_memory() is model
    assert all(p.is_shared() and isinstance(p, rg.nn.Parameter) for p in model.parameters())
    _run("spawn", _train_step, model)
    np.testing.assert_allclose(model.weight.detach().numpy(), [[0.5, 0.5]])
    np.testing.assert_allclose(model.bias.detach().numpy(), [-0.5])


def test_plain_pickle_still_copies():
    x = rg.ones(3).share_memory_()
    y = pickle.loads(pickle.dumps(x))
    assert not y.is_shared()
    y.add_(1)
    assert x.tolist() == [1.0, 1.0, 1.0]


def test_a_non_leaf_requiring_grad_does_not_cross_processes():
    from multiprocessing.reduction import ForkingPickler

    x = rg.ones(3, requires_grad=True).share_memory_()
    y = x[:2]  # a shared view with history
    with pytest.raises(RuntimeError, match="non-leaf tensor which requires_grad"):
        ForkingPickler.dumps(y)


def test_the_shared_file_goes_when_its_process_exits():
    code = (
        "import retrograd as rg\n"
        "from retrograd.ops.storage import _shared_file\n"
        "x = rg.ones(4).share_memory_()\n"
        "print(_shared_file(x._data)[0].filename)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    path = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    path = path.strip()
    assert path and not os.path.exists(path)
