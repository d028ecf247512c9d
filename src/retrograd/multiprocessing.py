"""``retrograd.multiprocessing``: the standard library's ``multiprocessing``, plus PyTorch's
``spawn``.

Every name of ``multiprocessing`` is re-exported (``Process``, ``Queue``, ``Pool``,
``get_context``, ...). Tensors cross process boundaries by value: they pickle as their data,
dtype, device and ``requires_grad``, so an in-place write in one process is not seen by another;
except tensors moved to shared memory (``Tensor.share_memory_``, ``Module.share_memory``), which
reach the other process as a mapping of the same memory.
"""

import multiprocessing as _mp
import multiprocessing.connection as _connection
import traceback as _traceback

for _name in _mp.__all__:
    globals()[_name] = getattr(_mp, _name)
del _name

__all__ = list(_mp.__all__) + [
    "spawn",
    "start_processes",
    "ProcessContext",
    "ProcessRaisedException",
    "ProcessExitedException",
    "set_sharing_strategy",
    "get_sharing_strategy",
    "get_all_sharing_strategies",
]

_STRATEGIES = ("file_descriptor", "file_system")
_strategy = "file_descriptor"


def get_all_sharing_strategies():
    return set(_STRATEGIES)


def get_sharing_strategy():
    return _strategy


def set_sharing_strategy(new_strategy):
    """Record the strategy PyTorch uses to send tensors in shared memory. retrograd sends a
    shared tensor as the name of its file in /dev/shm whichever is set (PyTorch's
    "file_system"); both give the other process the same memory."""
    global _strategy
    if new_strategy not in _STRATEGIES:
        raise ValueError(f"set_sharing_strategy(): unknown strategy {new_strategy!r} (one of {list(_STRATEGIES)})")
    _strategy = new_strategy


class ProcessException(Exception):
    def __init__(self, msg, error_index, pid):
        super().__init__(msg)
        self.msg = msg
        self.error_index = error_index
        self.pid = pid

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid)


class ProcessRaisedException(ProcessException):
    """A spawned process raised; the message holds its traceback."""


class ProcessExitedException(ProcessException):
    """A spawned process exited with a nonzero code (or a signal) without raising."""

    def __init__(self, msg, error_index, error_pid, exit_code, signal_name=None):
        super().__init__(msg, error_index, error_pid)
        self.exit_code = exit_code
        self.signal_name = signal_name

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid, self.exit_code, self.signal_name)


def _run(fn, i, args, errors):
    """The spawned process's body: ``fn(i, *args)``, its traceback sent back on failure."""
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass
    except Exception:
        errors.put(_traceback.format_exc())
        raise SystemExit(1)


class ProcessContext:
    """The processes ``spawn(..., join=False)`` started; ``join()`` waits for them."""

    def __init__(self, processes, error_queues):
        self.processes = processes
        self.error_queues = error_queues

    def pids(self):
        return [p.pid for p in self.processes]

    def join(self, timeout=None):
        """Wait for the processes; True when all exited cleanly, False on timeout. When one
        failed, terminate the rest and raise ``ProcessRaisedException`` (it raised) or
        ``ProcessExitedException`` (it exited with a nonzero code)."""
        alive = [p.sentinel for p in self.processes if p.exitcode is None]
        if alive:
            _connection.wait(alive, timeout)  # returns when one exits (or on timeout)
        failed = [i for i, p in enumerate(self.processes) if p.exitcode not in (None, 0)]
        if not failed:
            return all(p.exitcode == 0 for p in self.processes)
        for p in self.processes:
            if p.is_alive():
                p.terminate()
            p.join()
        i = failed[0]
        p = self.processes[i]
        if not self.error_queues[i].empty():
            tb = self.error_queues[i].get()
            raise ProcessRaisedException(f"\n\n-- Process {i} terminated with the following error:\n{tb}", i, p.pid)
        if p.exitcode < 0:
            import signal

            name = signal.Signals(-p.exitcode).name
            raise ProcessExitedException(f"process {i} terminated with signal {name}", i, p.pid, p.exitcode, name)
        raise ProcessExitedException(f"process {i} terminated with exit code {p.exitcode}", i, p.pid, p.exitcode)


def start_processes(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """Run ``fn(i, *args)`` for ``i`` in ``range(nprocs)``, each in a new process started by
    ``start_method``; wait for all when ``join`` (raising as ``ProcessContext.join`` does), else
    return the ``ProcessContext``."""
    if not isinstance(nprocs, int) or isinstance(nprocs, bool) or nprocs < 1:
        raise ValueError(f"start_processes(): nprocs must be a positive int, got {nprocs!r}")
    ctx = _mp.get_context(start_method)
    processes, queues = [], []
    for i in range(nprocs):
        q = ctx.SimpleQueue()
        p = ctx.Process(target=_run, args=(fn, i, tuple(args), q), daemon=daemon)
        p.start()
        processes.append(p)
        queues.append(q)
    context = ProcessContext(processes, queues)
    if not join:
        return context
    while not context.join():
        pass
    return None


def spawn(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """``start_processes`` with the "spawn" start method, as in PyTorch."""
    if start_method != "spawn":
        raise ValueError(f"spawn(): start_method must be 'spawn' (use start_processes for {start_method!r})")
    return start_processes(fn, args, nprocs, join, daemon, start_method)
