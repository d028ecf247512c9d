"""DistributedDataParallel: on two MPI processes, and in this process as a world of one."""

import copy
import sys

import numpy as np
import pytest

import retrograd as torch
import retrograd.distributed as dist
import retrograd.nn as nn
from retrograd.distributed import _mpi
from retrograd.nn.parallel import DistributedDataParallel as DDP
from retrograd.nn.parallel._reducer import assign_buckets

from . import _launch


@pytest.mark.parametrize("scenario", ["mlp", "transformer", "no_sync", "unused", "overlap", "mismatch", "sparse"])
def test_two_ranks(scenario):
    _launch.run_ok("ddp.py", scenario, n=2, timeout=120)


def test_two_ranks_on_the_gpu():
    cp = pytest.importorskip("cupy", reason="CuPy is not installed")
    try:
        if cp.cuda.runtime.getDeviceCount() == 0:
            pytest.skip("no GPU")
    except Exception:  # no driver
        pytest.skip("no GPU")
    _launch.run_ok("ddp.py", "cuda", n=2, timeout=120)


@pytest.fixture(params=["mpi4py", "no mpi4py"])
def world_of_one(request, monkeypatch):
    if request.param == "mpi4py":
        pytest.importorskip("mpi4py")
    else:
        monkeypatch.setitem(sys.modules, "mpi4py", None)
    for var in _mpi._LAUNCHER_SIZE_VARS:
        monkeypatch.delenv(var, raising=False)
    dist.init_process_group()
    yield
    dist.destroy_process_group()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 5)
        self.fc2 = nn.Linear(5, 2)
        self.spare = nn.Linear(5, 2)

    def forward(self, x, use_spare=False):
        h = torch.tanh(self.fc1(x))
        return self.fc2(h) + (self.spare(h) if use_spare else 0)


def test_world_of_one_trains_like_the_plain_module(world_of_one):
    torch.manual_seed(0)
    model = Net()
    plain = copy.deepcopy(model)
    ddp = DDP(model, bucket_cap_mb=0.0001, find_unused_parameters=True)
    assert ddp.module is model
    assert [n for n, _ in ddp.named_parameters()][0] == "module.fc1.weight"
    opt = torch.optim.AdamW(ddp.parameters(), lr=0.1)
    plain_opt = torch.optim.AdamW(plain.parameters(), lr=0.1)
    x = torch.randn(4, 3)
    for step in range(3):
        for m, o in ((ddp, opt), (plain, plain_opt)):
            m(x).pow(2).sum().backward()
            o.step()
            o.zero_grad()
    for p, q in zip(model.parameters(), plain.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-6, atol=1e-7)
    assert model.spare.weight.grad is None


def test_a_parameter_without_gradient_is_an_error(world_of_one):
    ddp = DDP(Net())
    with pytest.raises(RuntimeError, match=r"'spare.weight', 'spare.bias'.*find_unused_parameters"):
        ddp(torch.randn(2, 3)).sum().backward()
    ddp(torch.randn(2, 3), use_spare=True).sum().backward()  # usable again afterwards


def test_forward_without_grad_leaves_the_pending_backward_alone(world_of_one):
    ddp = DDP(Net(), find_unused_parameters=True)
    ddp.reducer.events = events = []
    loss = ddp(torch.randn(2, 3)).sum()
    with torch.no_grad():
        ddp(torch.randn(2, 3))
    loss.backward()
    assert [e[0] for e in events][-2:] == ["wait", "done"]


def test_no_sync_skips_the_reduction(world_of_one):
    ddp = DDP(Net(), find_unused_parameters=True)
    ddp.reducer.events = events = []
    with ddp.no_sync():
        ddp(torch.randn(2, 3)).sum().backward()
    assert events == []
    ddp(torch.randn(2, 3)).sum().backward()
    assert [e[0] for e in events][-1] == "done"


def test_buckets_follow_reverse_parameter_order_and_the_cap():
    params = [torch.zeros(n) for n in (10, 300, 20, 40, 5)]  # float32: 4 bytes each
    order = list(reversed(range(len(params))))
    assert assign_buckets(params, order, cap_bytes=400, first_cap_bytes=200) == [[4, 3], [2], [1], [0]]
    assert assign_buckets(params, order, cap_bytes=4000) == [[4, 3, 2, 1, 0]]
    mixed = [torch.zeros(3), torch.zeros(3, dtype=torch.float64), torch.zeros(3)]
    assert assign_buckets(mixed, [2, 1, 0], cap_bytes=4000) == [[2], [1], [0]]


def test_needs_an_initialised_process_group():
    with pytest.raises(ValueError, match="init_process_group"):
        DDP(Net())


def test_needs_a_parameter_that_requires_grad(world_of_one):
    with pytest.raises(RuntimeError, match="doesn't have any parameter"):
        DDP(Net().requires_grad_(False))
