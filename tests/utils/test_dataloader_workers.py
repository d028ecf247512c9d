"""DataLoader with worker processes: same batches as in the main process, errors, seeding,
shutdown; and the lazy RandomSampler."""

import gc
import multiprocessing
import pickle
import random

import numpy as np
import pytest

import retrograd as rg
from retrograd.utils.data import DataLoader, Dataset, IterableDataset, RandomSampler, TensorDataset, get_worker_info
from retrograd.utils.data._worker import WorkerInfo

pytestmark = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="worker tests use the fork start method"
)
FORK = dict(multiprocessing_context="fork")


class Pairs(Dataset):
    def __init__(self, n, bad=None):
        self.n, self.bad = n, bad

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.bad:
            raise ValueError(f"sample {i} is broken")
        return {"x": rg.tensor([i, 10 * i]), "y": i}


class Blocks(IterableDataset):
    """0..n-1; in a worker, only the batches (of ``bs``) whose number is that worker's turn."""

    def __init__(self, n, bs, shard=True):
        self.n, self.bs, self.shard = n, bs, shard

    def __iter__(self):
        info = get_worker_info()
        if info is None or not self.shard:
            return iter(range(self.n))
        return (i for i in range(self.n) if (i // self.bs) % info.num_workers == info.id)


def _batches(dl):
    return [b["x"].tolist() if isinstance(b, dict) else b.tolist() for b in dl]


def _assert_stopped(procs):
    assert procs and all(not p.is_alive() and p.exitcode is not None for p in procs)


@pytest.mark.parametrize(
    "kw",
    [dict(batch_size=3), dict(batch_size=2, shuffle=True), dict(batch_size=4, drop_last=True), dict(batch_size=None)],
)
def test_map_style_batches_match_main_process(kw):
    def run(workers):
        g = rg.Generator().manual_seed(3)
        extra = dict(num_workers=workers, **FORK) if workers else {}
        return _batches(DataLoader(Pairs(11), generator=g, **kw, **extra))

    assert run(3) == run(0) and len(run(0)) >= 2


def test_tensor_dataset_and_in_order_false():
    ds = TensorDataset(rg.arange(20.0).reshape(10, 2), rg.arange(10))
    ref = [b[1].tolist() for b in DataLoader(ds, batch_size=3)]
    dl = DataLoader(ds, batch_size=3, num_workers=2, **FORK)
    assert [b[1].tolist() for b in dl] == ref and len(dl) == 4
    dl = DataLoader(ds, batch_size=3, num_workers=2, prefetch_factor=1, **FORK)
    assert [b[1].tolist() for b in dl] == ref and dl.prefetch_factor == 1
    got = [b[1].tolist() for b in DataLoader(ds, batch_size=3, num_workers=2, in_order=False, **FORK)]
    assert sorted(got) == sorted(ref)


def test_iterable_sharded_batches_match_main_process():
    ref = _batches(DataLoader(Blocks(17, 3), batch_size=3))
    assert _batches(DataLoader(Blocks(17, 3), batch_size=3, num_workers=2, **FORK)) == ref
    assert ref[-1] == [15, 16]
    unbatched = [int(x) for x in DataLoader(Blocks(5, 1), batch_size=None, num_workers=2, **FORK)]
    assert unbatched == [0, 1, 2, 3, 4]
    # unsharded: every worker yields the whole stream; batches alternate, then the longer ones
    got = _batches(DataLoader(Blocks(4, 3, shard=False), batch_size=3, num_workers=2, **FORK))
    assert got == [[0, 1, 2], [0, 1, 2], [3], [3]]


def test_uneven_iterable_workers_drop_out_in_turn():
    class Uneven(IterableDataset):
        def __iter__(self):
            w = get_worker_info().id
            return iter(range(100 * w, 100 * w + 2 + 3 * w))  # worker 0: 2 samples, 1: 5

    got = _batches(DataLoader(Uneven(), batch_size=2, num_workers=2, **FORK))
    assert got == [[0, 1], [100, 101], [102, 103], [104]]


def test_worker_exception_reaches_main_process_with_traceback():
    dl = DataLoader(Pairs(6, bad=4), batch_size=2, num_workers=2, **FORK)
    it = iter(dl)
    assert next(it)["y"].tolist() == [0, 1] and next(it)["y"].tolist() == [2, 3]
    with pytest.raises(ValueError) as e:
        next(it)
    msg = str(e.value)
    assert "Caught ValueError in DataLoader worker process 0" in msg
    assert "Traceback (most recent call last)" in msg and "sample 4 is broken" in msg
    assert "__getitem__" in msg
    procs = list(it._workers)
    del it, e
    gc.collect()
    _assert_stopped(procs)


def test_key_error_keeps_its_type_and_readable_message():
    class Missing(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return {}["nope"]

    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process 0") as e:
        next(iter(DataLoader(Missing(), num_workers=1, **FORK)))
    assert "\\n" not in str(e.value)  # the traceback is shown as lines, not as a repr


def test_worker_info_seeds_and_worker_init_fn():
    class Probe(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            info = get_worker_info()
            return rg.tensor(
                [
                    info.id,
                    info.num_workers,
                    info.seed % 1000,
                    random.randrange(10**9),
                    int(rg.randint(0, 10**9, ()).item()),
                    np.random.randint(10**9),
                    int(info.dataset is self),
                    getattr(info.dataset, "tag", -1),
                ]
            )

    def init(worker_id):
        get_worker_info().dataset.tag = 7 + worker_id

    def run():
        dl = DataLoader(
            Probe(),
            batch_size=None,
            num_workers=2,
            worker_init_fn=init,
            generator=rg.Generator().manual_seed(5),
            **FORK,
        )
        return [row.tolist() for row in dl]

    rows = run()
    assert [r[:3] for r in rows][:2] == [[0, 2, rows[0][2]], [1, 2, (rows[0][2] + 1) % 1000]]
    assert [r[6:] for r in rows] == [[1, 7], [1, 8], [1, 7], [1, 8]]
    assert rows == run()  # reproducible from the loader's generator
    w0, w1 = rows[0], rows[1]
    assert all(w0[k] != w1[k] for k in (3, 4, 5))  # each stream differs between workers
    assert get_worker_info() is None
    with pytest.raises(RuntimeError):
        WorkerInfo(0, 1, 0, None).id = 3


def test_worker_init_fn_error_is_raised():
    def init(worker_id):
        raise OSError("no disk")

    with pytest.raises(OSError, match="(?s)worker process 0.*no disk"):
        next(iter(DataLoader(Pairs(2), num_workers=1, worker_init_fn=init, **FORK)))


def test_persistent_workers_reiterate_with_same_processes():
    dl = DataLoader(Pairs(7), batch_size=2, num_workers=2, persistent_workers=True, **FORK)
    ref = _batches(DataLoader(Pairs(7), batch_size=2))
    it = iter(dl)
    procs = list(it._workers)
    first = next(it)["x"].tolist()  # broken off early: the next pass starts afresh
    assert first == ref[0] and _batches(dl) == ref and _batches(dl) == ref
    assert iter(dl) is it and it._workers == procs and all(p.is_alive() for p in procs)
    s = DataLoader(Blocks(9, 2), batch_size=2, num_workers=2, persistent_workers=True, **FORK)
    assert _batches(s) == _batches(s) == _batches(DataLoader(Blocks(9, 2), batch_size=2))
    del it, dl, s
    gc.collect()
    _assert_stopped(procs)


def test_early_break_leaves_no_live_workers():
    it = iter(DataLoader(Pairs(40), batch_size=2, num_workers=3, **FORK))
    next(it)
    procs = list(it._workers)
    assert all(p.is_alive() for p in procs)
    del it
    gc.collect()
    _assert_stopped(procs)
    it = iter(DataLoader(Pairs(4), batch_size=2, num_workers=2, **FORK))
    procs = list(it._workers)
    assert len(list(it)) == 2
    _assert_stopped(procs)  # an exhausted pass stops its workers at once


def test_timeout_raises_runtime_error():
    class Slow(Dataset):
        def __len__(self):
            return 1

        def __getitem__(self, i):
            import time

            time.sleep(0.5)

    with pytest.raises(RuntimeError, match="timed out after 0.05 seconds"):
        next(iter(DataLoader(Slow(), num_workers=1, timeout=0.05, **FORK)))


def test_worker_that_dies_is_reported(monkeypatch):
    import retrograd.utils.data.dataloader as dataloader_module

    class Crash(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            import os

            os._exit(3)

    monkeypatch.setattr(dataloader_module, "STATUS_CHECK_INTERVAL", 0.05)
    with pytest.raises(RuntimeError, match="exited unexpectedly"):
        next(iter(DataLoader(Crash(), num_workers=1, **FORK)))


def test_spawn_context():
    ds = TensorDataset(rg.arange(6.0), rg.arange(6))
    dl = DataLoader(ds, batch_size=4, num_workers=1, multiprocessing_context="spawn")
    assert [b[1].tolist() for b in dl] == [[0, 1, 2, 3], [4, 5]]


def test_tensors_cross_processes_but_not_a_graph():
    from multiprocessing.reduction import ForkingPickler

    from retrograd.utils.data._worker import register_tensor_pickling

    p = rg.nn.Parameter(rg.ones(2))
    register_tensor_pickling()  # covers the subclasses defined so far
    q = pickle.loads(ForkingPickler.dumps(p))
    assert type(q) is rg.nn.Parameter and q.requires_grad and q.tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="non-leaf"):
        ForkingPickler.dumps(p * 2)


def test_random_sampler_with_replacement_draws_lazily():
    s = RandomSampler(range(5), replacement=True, num_samples=10**10, generator=rg.Generator().manual_seed(0))
    it = iter(s)
    first = [next(it) for _ in range(100)]
    assert len(s) == 10**10 and all(0 <= i < 5 for i in first) and len(set(first)) == 5
    again = iter(RandomSampler(range(5), replacement=True, num_samples=10**10, generator=rg.Generator().manual_seed(0)))
    assert [next(again) for _ in range(100)] == first
    assert len(list(RandomSampler(range(3), replacement=True, num_samples=70))) == 70
