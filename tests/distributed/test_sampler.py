"""DistributedSampler: equal shares, padding or dropping, per-epoch shuffles, as in PyTorch."""

import sys

import pytest

import retrograd.distributed as dist
from retrograd.distributed import _mpi
from retrograd.utils.data.distributed import DistributedSampler


def shares(n_items, replicas, **kw):
    return [list(DistributedSampler(range(n_items), replicas, r, **kw)) for r in range(replicas)]


def test_without_shuffle_ranks_take_strided_indices_padded_from_the_start():
    assert shares(10, 4, shuffle=False) == [[0, 4, 8], [1, 5, 9], [2, 6, 0], [3, 7, 1]]
    assert shares(8, 4, shuffle=False) == [[0, 4], [1, 5], [2, 6], [3, 7]]
    assert shares(2, 5, shuffle=False) == [[0], [1], [0], [1], [0]]  # padding longer than data


def test_drop_last_cuts_the_tail():
    assert shares(10, 4, shuffle=False, drop_last=True) == [[0, 4], [1, 5], [2, 6], [3, 7]]
    s = DistributedSampler(range(10), 3, 0, drop_last=True)
    assert len(s) == 3 and s.total_size == 9


@pytest.mark.parametrize("n_items, replicas, drop_last", [(10, 4, False), (10, 3, True), (7, 2, False), (12, 3, False)])
def test_equal_lengths_and_coverage(n_items, replicas, drop_last):
    parts = shares(n_items, replicas, drop_last=drop_last, seed=5)
    assert len({len(p) for p in parts}) == 1
    assert all(len(p) == len(DistributedSampler(range(n_items), replicas, 0, drop_last=drop_last)) for p in parts)
    flat = [i for p in parts for i in p]
    if drop_last:
        assert len(set(flat)) == len(flat) == n_items - n_items % replicas
    else:
        assert set(flat) == set(range(n_items))


def test_shuffle_is_shared_by_ranks_and_changes_with_the_epoch():
    samplers = [DistributedSampler(range(20), 2, r, seed=3) for r in range(2)]
    first = [list(s) for s in samplers]
    assert sorted(first[0] + first[1]) == list(range(20))
    assert first[0] != list(range(0, 20, 2))
    assert [list(s) for s in samplers] == first  # same epoch, same order
    for s in samplers:
        s.set_epoch(1)
    second = [list(s) for s in samplers]
    assert second != first and sorted(second[0] + second[1]) == list(range(20))
    other_seed = DistributedSampler(range(20), 2, 0, seed=4)
    assert list(other_seed) != first[0]


def test_invalid_rank():
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(4), num_replicas=2, rank=2)


def test_defaults_come_from_the_process_group(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    for var in _mpi._LAUNCHER_SIZE_VARS:
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ValueError, match="init_process_group"):
        DistributedSampler(range(4))
    dist.init_process_group()
    try:
        s = DistributedSampler(range(5), shuffle=False)
        assert (s.num_replicas, s.rank, list(s)) == (1, 0, [0, 1, 2, 3, 4])
    finally:
        dist.destroy_process_group()


def test_is_a_sampler_for_the_data_loader():
    import retrograd as torch
    from retrograd.utils.data import DataLoader, Sampler, TensorDataset

    data = TensorDataset(torch.arange(10))
    sampler = DistributedSampler(data, num_replicas=4, rank=2, shuffle=False)
    assert isinstance(sampler, Sampler)
    batches = [b[0].tolist() for b in DataLoader(data, batch_size=2, sampler=sampler)]
    assert batches == [[2, 6], [0]]
