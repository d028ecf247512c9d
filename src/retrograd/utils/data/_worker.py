"""What runs inside a DataLoader worker process, and what crosses between it and the main one.

A worker reads tasks ``(epoch, idx, indices)`` from its own index queue and answers
``(epoch, idx, data)`` on the shared result queue; ``None`` tells it to exit. ``data`` is a
collated batch, an ``_ExceptionWrapper`` (the worker's error with its traceback) or, for an
iterable dataset, ``_IterableEnd`` once its copy of the dataset is exhausted (after which it
answers nothing more in that epoch). A task of a newer epoch restarts its copy of the dataset
(persistent workers).
"""

import queue
import random
import sys
import traceback
from multiprocessing import parent_process
from multiprocessing.reduction import ForkingPickler

import numpy as np

from ..._tensor import Tensor

# seconds between checks that the other side is still alive while waiting on a queue
STATUS_CHECK_INTERVAL = 5.0

_worker_info = None


class WorkerInfo:
    """Read-only facts about the current worker: ``id``, ``num_workers``, ``seed``, ``dataset``
    (this worker's copy)."""

    __slots__ = ("id", "num_workers", "seed", "dataset")

    def __init__(self, id, num_workers, seed, dataset):
        for name, value in (("id", id), ("num_workers", num_workers), ("seed", seed), ("dataset", dataset)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")

    def __repr__(self):
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, dataset={self.dataset!r})"


def get_worker_info():
    """In a DataLoader worker process, its ``WorkerInfo``; in the main process, None."""
    return _worker_info


class _KeyErrorMessage(str):
    """KeyError shows ``repr`` of its message; this one shows the traceback as written."""

    def __repr__(self):
        return str(self)


class _ExceptionWrapper:
    """An exception raised in a worker, carried to the main process with its traceback text."""

    def __init__(self, exc_info, where):
        self.exc_type = exc_info[0]
        self.msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.msg}"
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        try:
            exc = self.exc_type(msg)
        except Exception:  # an exception type that cannot be built from one message
            raise RuntimeError(msg) from None
        raise exc


class _IterableEnd:
    """A worker's copy of an iterable dataset is exhausted."""

    __slots__ = ()


def _reduce_tensor(t):
    if t.grad_fn is not None and t._rg:
        raise RuntimeError(
            "Cowardly refusing to send a non-leaf tensor that requires grad to "
            "another process: it would lose its graph; call .detach() first"
        )
    return t.__reduce_ex__(2)  # by value, as plain pickle does (Tensor.__reduce_ex__)


def register_tensor_pickling():
    """Tensors (of every Tensor subclass defined so far) travel between processes by value, as
    plain pickle sends them, except that a non-leaf tensor that requires grad is refused (as
    torch.multiprocessing refuses it): its graph cannot cross."""
    todo = [Tensor]
    while todo:
        cls = todo.pop()
        ForkingPickler.register(cls, _reduce_tensor)
        todo.extend(cls.__subclasses__())


def fetch_map(dataset, indices, collate_fn, auto_collation):
    """The batch of ``dataset`` at ``indices`` (a single sample when not auto-collating)."""
    from ._collate import default_collate
    from .dataset import TensorDataset

    if not auto_collation:
        return collate_fn(dataset[indices])
    if type(dataset) is TensorDataset and collate_fn is default_collate:
        # one gather per tensor instead of one sample at a time and a stack: same result
        idx = Tensor._make(np.asarray(indices, dtype=np.int64), None, False)
        return [t[idx] for t in dataset.tensors]
    if hasattr(dataset, "__getitems__"):
        return collate_fn(dataset.__getitems__(list(indices)))
    return collate_fn([dataset[i] for i in indices])


def fetch_stream(it, indices, collate_fn, auto_collation, drop_last):
    """The next batch of ``len(indices)`` samples from iterator ``it`` (the last one shorter
    unless ``drop_last``); StopIteration when there is none."""
    if not auto_collation:
        return collate_fn(next(it))
    batch = []
    for _ in indices:
        try:
            batch.append(next(it))
        except StopIteration:
            break
    if not batch or (drop_last and len(batch) < len(indices)):
        raise StopIteration
    return collate_fn(batch)


def _seed_worker(base_seed, worker_id):
    from ..._creation import manual_seed

    seed = base_seed + worker_id
    random.seed(seed)
    manual_seed(seed)
    # NumPy's global stream gets its own seed (not ``seed``: Python's Mersenne Twister and
    # NumPy's legacy one would then produce the same numbers)
    np.random.seed(np.random.SeedSequence([worker_id, base_seed]).generate_state(4))
    return seed


def worker_loop(
    dataset,
    iterable,
    index_queue,
    result_queue,
    done_event,
    collate_fn,
    auto_collation,
    drop_last,
    base_seed,
    init_fn,
    worker_id,
    num_workers,
):
    """The body of worker process ``worker_id``."""
    global _worker_info
    register_tensor_pickling()
    try:
        seed = _seed_worker(base_seed, worker_id)
        _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
        init_error = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
        except Exception:
            init_error = _ExceptionWrapper(sys.exc_info(), f"in DataLoader worker process {worker_id}")
        where = f"in DataLoader worker process {worker_id}"
        epoch, it, ended = None, None, False
        parent = parent_process()
        while True:
            try:
                task = index_queue.get(timeout=STATUS_CHECK_INTERVAL)
            except queue.Empty:
                if done_event.is_set() or (parent is not None and not parent.is_alive()):
                    break
                continue
            if task is None:
                break
            if done_event.is_set():
                continue
            task_epoch, idx, indices = task
            if task_epoch != epoch:
                epoch, it, ended = task_epoch, None, False
            if ended:
                continue
            if init_error is not None:
                data = init_error
            else:
                try:
                    if not iterable:
                        data = fetch_map(dataset, indices, collate_fn, auto_collation)
                    else:
                        if it is None:
                            it = iter(dataset)
                        data = fetch_stream(it, indices, collate_fn, auto_collation, drop_last)
                except StopIteration:
                    data, ended = _IterableEnd(), True
                except Exception:
                    data = _ExceptionWrapper(sys.exc_info(), where)
            result_queue.put((epoch, idx, data))
            del data
    except KeyboardInterrupt:
        pass
    if done_event.is_set():
        # nobody reads the results any more: do not wait to flush them at exit
        result_queue.cancel_join_thread()
        result_queue.close()
