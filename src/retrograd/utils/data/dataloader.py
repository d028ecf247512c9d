"""DataLoader: batches of a dataset, loaded in the main process or in worker processes."""

import itertools
import math
import multiprocessing
import queue
import time
import weakref
from typing import Generic, TypeVar

from ._collate import default_collate, default_convert
from ._worker import (
    STATUS_CHECK_INTERVAL,
    _ExceptionWrapper,
    _IterableEnd,
    fetch_map,
    fetch_stream,
    get_worker_info,
    register_tensor_pickling,
    worker_loop,
)
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info"]


class _InfiniteConstantSampler(Sampler):
    def __iter__(self):
        while True:
            yield None


T_co = TypeVar("T_co", covariant=True)


class DataLoader(Generic[T_co]):
    """Iterate over ``dataset`` in batches, as PyTorch's ``DataLoader``.

    Map-style datasets are read through a sampler (``SequentialSampler``, or ``RandomSampler``
    with ``generator`` when ``shuffle``) whose indices ``BatchSampler`` groups by
    ``batch_size`` (the last short batch dropped if ``drop_last``); a ``batch_sampler`` replaces
    all of these. ``batch_size=None`` disables batching (each sample is only converted).
    Samples are merged by ``collate_fn`` (``default_collate``: tensors and arrays stacked,
    numbers to tensors, through dicts and sequences). Iterable datasets are batched as they
    stream.

    ``num_workers > 0`` loads batches in that many worker processes, started from
    ``multiprocessing_context`` (a start method name, ``'fork'``, ``'spawn'`` or
    ``'forkserver'``, or a context object; by default multiprocessing's default): each iteration
    starts them, unless ``persistent_workers`` keeps them for the next one. Map-style batches
    of indices go to the workers in turn, up to ``prefetch_factor`` (default 2) ahead per
    worker, and come back in the sampler's order, so the batches are the same as with
    ``num_workers=0`` (``in_order=False`` hands each out as soon as it is ready instead). With
    an iterable dataset every worker iterates its own copy (shard it with
    ``get_worker_info()``, else every sample comes ``num_workers`` times); their batches
    alternate worker by worker, and a worker that runs out drops out. Each iteration draws a
    base seed from ``generator`` (with or without workers, so shuffling is the same); worker
    ``i`` seeds retrograd's and Python's ``random`` with ``base_seed + i`` and NumPy's global
    stream from both, then calls ``worker_init_fn(i)`` (only ever called in workers). Datasets,
    samples and ``collate_fn`` results cross processes by pickling (with ``'spawn'`` or
    ``'forkserver'`` the dataset, ``collate_fn`` and ``worker_init_fn`` must be picklable too).
    An exception in a worker is raised in the main process, same type, with the worker's
    traceback in its message; ``timeout > 0`` raises RuntimeError when a batch takes longer
    than that many seconds. ``pin_memory`` has no effect: on the CPU there is no accelerator
    memory to pin batches for (each new iterator warns so, as PyTorch's does).
    """

    def __init__(
        self,
        dataset,
        batch_size=1,
        shuffle=None,
        sampler=None,
        batch_sampler=None,
        num_workers=0,
        collate_fn=None,
        pin_memory=False,
        drop_last=False,
        timeout=0,
        worker_init_fn=None,
        multiprocessing_context=None,
        generator=None,
        *,
        prefetch_factor=None,
        persistent_workers=False,
        pin_memory_device="",
        in_order=True,
    ):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0:
            if prefetch_factor is not None:
                raise ValueError(
                    "prefetch_factor option could only be specified in "
                    "multiprocessing. let num_workers > 0 to enable multiprocessing, "
                    "otherwise set prefetch_factor to None."
                )
            if persistent_workers:
                raise ValueError("persistent_workers option needs num_workers > 0")
            if timeout > 0:
                raise ValueError(
                    f"timeout={timeout} needs num_workers > 0: with num_workers=0 "
                    f"batches are loaded in the main process"
                )
            if multiprocessing_context is not None:
                raise ValueError(
                    f"multiprocessing_context can only be used with multi-process "
                    f"loading (num_workers > 0), but got num_workers={num_workers}"
                )
        elif prefetch_factor is None:
            prefetch_factor = 2
        elif not isinstance(prefetch_factor, int) or prefetch_factor < 1:
            raise ValueError(
                f"prefetch_factor option should be a positive integer, but got prefetch_factor={prefetch_factor}"
            )
        if isinstance(multiprocessing_context, str):
            methods = multiprocessing.get_all_start_methods()
            if multiprocessing_context not in methods:
                raise ValueError(
                    f"multiprocessing_context option should specify a valid start "
                    f"method in {methods!r}, but got "
                    f"multiprocessing_context={multiprocessing_context!r}"
                )
            multiprocessing_context = multiprocessing.get_context(multiprocessing_context)
        elif multiprocessing_context is not None and not isinstance(
            multiprocessing_context, multiprocessing.context.BaseContext
        ):
            raise TypeError(
                f"multiprocessing_context option should be a valid context object or "
                f"a string specifying the start method, but got "
                f"multiprocessing_context={multiprocessing_context!r}"
            )
        self.dataset = dataset
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.multiprocessing_context = multiprocessing_context
        self.pin_memory_device = pin_memory_device
        self.in_order = in_order
        self._iterator = None
        self._iterable = isinstance(dataset, IterableDataset)

        if self._iterable:
            if shuffle not in (None, False):
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified sampler option, but got sampler={sampler}"
                )
            if batch_sampler is not None:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified "
                    f"batch_sampler option, but got batch_sampler={batch_sampler}"
                )
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"
                )
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        if sampler is None:
            if self._iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    def __iter__(self):
        # every new iterator draws its base seed first, as PyTorch's does; a persistent one that is
        # reset keeps its seed (and draws nothing)
        if self.num_workers == 0:
            self._warn_pin_memory()
            self._draw_base_seed()
            return _SingleProcessIter(self, self._iter_main())
        if not self.persistent_workers:
            self._warn_pin_memory()
            return _MultiProcessIter(self, self._draw_base_seed())
        if self._iterator is None or self._iterator._closed:
            self._warn_pin_memory()
            self._iterator = _MultiProcessIter(self, self._draw_base_seed())
        else:
            self._iterator._reset()
        return self._iterator

    def _warn_pin_memory(self):
        """PyTorch's warnings, once per new iterator, for a ``pin_memory_device`` given (deprecated)
        and for ``pin_memory=True`` without an accelerator to pin batches for."""
        if not self.pin_memory:
            return
        from ..._warn import warn_user
        from ... import cuda

        if self.pin_memory_device:
            warn_user(
                f"pin_memory_device is deprecated, the current accelerator will be used as the "
                f"device,ignore pin_memory_device='{self.pin_memory_device}'."
            )
        if not cuda.is_available():
            warn_user(
                "'pin_memory' argument is set as true but no accelerator is found, then device "
                "pinned memory won't be used."
            )

    def _draw_base_seed(self):
        from .sampler import draw_seed

        return draw_seed(self.generator)

    def _iter_main(self):
        if self._iterable:
            return self._iter_stream()
        if self._auto_collation:
            return (fetch_map(self.dataset, indices, self.collate_fn, True) for indices in self.batch_sampler)
        return (self.collate_fn(self.dataset[i]) for i in self.sampler)

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def _iter_stream(self):
        it = iter(self.dataset)
        indices = range(self.batch_size or 1)
        while True:
            try:
                batch = fetch_stream(it, indices, self.collate_fn, self._auto_collation, self.drop_last)
            except StopIteration:
                return
            yield batch

    def __len__(self):
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
            return n
        return len(self.batch_sampler if self._auto_collation else self.sampler)


class _SingleProcessIter:
    """One pass over a DataLoader's batches, loaded in this process: an iterator with
    ``len()`` (the loader's), as PyTorch's ``_SingleProcessDataLoaderIter``."""

    def __init__(self, loader, batches):
        self._loader = loader
        self._batches = batches

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._batches)

    def __len__(self):
        return len(self._loader)


class _MultiProcessIter:
    """One pass over a DataLoader's batches, loaded by worker processes (see ``DataLoader``).

    Task ``idx`` goes to one worker; ``_pending`` maps the tasks sent and not yet answered to
    their worker, ``_ready`` holds answers not yet handed out. Tasks carry an epoch so that a
    persistent iterator restarted early can tell stale answers from fresh ones.
    """

    def __init__(self, loader, base_seed):
        self._loader = loader
        self._num_workers = loader.num_workers
        self._in_order = loader.in_order
        self._timeout = loader.timeout
        self._closed = False
        register_tensor_pickling()
        self._workers = []
        self._index_queues = []
        ctx = loader.multiprocessing_context or multiprocessing.get_context()
        self._result_queue = ctx.Queue()
        self._done_event = ctx.Event()
        for worker_id in range(self._num_workers):
            index_queue = ctx.Queue()
            index_queue.cancel_join_thread()  # tasks left unread at shutdown are not needed
            w = ctx.Process(
                target=worker_loop,
                daemon=True,
                args=(
                    loader.dataset,
                    loader._iterable,
                    index_queue,
                    self._result_queue,
                    self._done_event,
                    loader.collate_fn,
                    loader._auto_collation,
                    loader.drop_last,
                    base_seed,
                    loader.worker_init_fn,
                    worker_id,
                    self._num_workers,
                ),
            )
            self._index_queues.append(index_queue)
            self._workers.append(w)
        self._finalizer = weakref.finalize(
            self, _stop_workers, self._workers, self._index_queues, self._result_queue, self._done_event
        )
        try:
            for w in self._workers:
                w.start()
        except BaseException:
            self._shutdown()
            raise
        self._epoch = -1
        self._reset()

    def _reset(self):
        """Start a pass: a fresh sampler iterator, every worker active, the prefetch sent."""
        self._epoch += 1
        self._sampler_iter = iter(self._loader._index_sampler)
        self._send_idx = 0
        self._rcvd_idx = 0
        self._pending = {}
        self._ready = {}
        self._active = [True] * self._num_workers
        self._next_worker = itertools.cycle(range(self._num_workers))
        for _ in range(self._loader.prefetch_factor * self._num_workers):
            self._put_task()

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)

    def _put_task(self):
        if not any(self._active):
            return
        try:
            indices = next(self._sampler_iter)
        except StopIteration:
            return
        worker_id = next(self._next_worker)
        while not self._active[worker_id]:
            worker_id = next(self._next_worker)
        self._index_queues[worker_id].put((self._epoch, self._send_idx, indices))
        self._pending[self._send_idx] = worker_id
        self._send_idx += 1

    def _drop_tasks_of_ended_workers(self):
        for idx in [i for i, w in self._pending.items() if not self._active[w]]:
            del self._pending[idx]
            self._put_task()

    def __next__(self):
        if self._closed:
            raise StopIteration
        while True:
            self._drop_tasks_of_ended_workers()
            if self._in_order:
                while self._rcvd_idx < self._send_idx and not (
                    self._rcvd_idx in self._pending or self._rcvd_idx in self._ready
                ):
                    self._rcvd_idx += 1
                if self._rcvd_idx in self._ready:
                    data = self._ready.pop(self._rcvd_idx)
                    self._rcvd_idx += 1
                    return self._hand_out(data)
            elif self._ready:
                return self._hand_out(self._ready.pop(min(self._ready)))
            if not self._pending:
                if not self._loader.persistent_workers:
                    self._shutdown()
                raise StopIteration
            epoch, idx, data = self._get_result()
            if epoch != self._epoch:
                continue
            worker_id = self._pending.pop(idx)
            if isinstance(data, _IterableEnd):
                self._active[worker_id] = False
                self._put_task()
            else:
                self._ready[idx] = data

    def _hand_out(self, data):
        self._put_task()
        if isinstance(data, _ExceptionWrapper):
            data.reraise()
        return data

    def _get_result(self):
        waited = 0.0
        while True:
            wait = STATUS_CHECK_INTERVAL
            if self._timeout > 0:
                wait = min(wait, self._timeout - waited)
            start = time.monotonic()
            try:
                return self._result_queue.get(timeout=wait)
            except queue.Empty:
                waited += time.monotonic() - start
            if self._timeout > 0 and waited >= self._timeout:
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
            dead = [w.pid for w in self._workers if not w.is_alive()]
            if dead:
                self._shutdown()
                raise RuntimeError(f"DataLoader worker (pid(s) {', '.join(map(str, dead))}) exited unexpectedly")

    def _shutdown(self):
        self._closed = True
        self._finalizer()


def _stop_workers(workers, index_queues, result_queue, done_event):
    """Stop the workers and wait for them (terminating any that do not stop in time). A
    finalizer of the iterator rather than its ``__del__``: it holds the queues, so they still
    work when the iterator dies in a reference cycle (an exception's traceback makes one)."""
    done_event.set()
    for q in index_queues:
        q.put(None)
    for w in workers:
        if w.pid is None:  # never started
            continue
        w.join(timeout=STATUS_CHECK_INTERVAL)
        if w.is_alive():
            w.terminate()
            w.join()
    for q in index_queues:
        q.close()
    result_queue.cancel_join_thread()
    result_queue.close()
