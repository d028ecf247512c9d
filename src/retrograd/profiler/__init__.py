"""``torch.profiler``: time every op and backward node, with shapes and memory, as PyTorch does.

::

    with profile(activities=[ProfilerActivity.CPU], record_shapes=True, profile_memory=True) as prof:
        with record_function("step"):
            loss = model(x).sum()
        loss.backward()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=10))
    prof.export_chrome_trace("trace.json")

Forward ops appear as ``aten::<op>`` (one per op run, named after the op the public function
runs, e.g. ``aten::linear``), backward nodes under their own names (``MulBackward0``, and
``torch::autograd::AccumulateGrad`` for leaves), ``record_function`` blocks under the name
given. Times are host (CPU) times; device kernels are not profiled. Memory per op is the bytes
of the arrays it made (allocations only: frees are not tracked). The profiler costs nothing
while off: the op and node paths each check one observer slot.
"""

import enum
import os
import socket
import time
import warnings

from . import _record
from ._events import EventList, FunctionEvent, FunctionEventAvg

__all__ = [
    "profile",
    "record_function",
    "schedule",
    "ProfilerActivity",
    "ProfilerAction",
    "supported_activities",
    "tensorboard_trace_handler",
    "kineto_available",
    "EventList",
    "FunctionEvent",
    "FunctionEventAvg",
]


class ProfilerActivity(enum.Enum):
    """What a profile records. Only ``CPU`` is profiled; device activities are refused when the
    device is present and dropped (with a warning, as PyTorch does) when it is not."""

    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5


class ProfilerAction(enum.Enum):
    """What a schedule asks of a step."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def supported_activities():
    """The activities this build can profile: the CPU."""
    return {ProfilerActivity.CPU}


def kineto_available():
    """False: retrograd records with its own profiler, not PyTorch's Kineto."""
    return False


def schedule(*, wait, warmup, active, repeat=0, skip_first=0, skip_first_wait=0):
    """A schedule for ``profile(schedule=...)``: after ``skip_first`` steps, cycles of ``wait``
    idle steps, ``warmup`` steps, and ``active`` recorded steps (the last of which saves the
    trace: ``on_trace_ready``); ``repeat`` cycles, or forever when 0. ``skip_first_wait=1`` skips
    the wait of the first cycle."""
    for name, value, least in (
        ("wait", wait, 0),
        ("warmup", warmup, 0),
        ("active", active, 1),
        ("repeat", repeat, 0),
        ("skip_first", skip_first, 0),
    ):
        if not isinstance(value, int) or value < least:
            raise ValueError(f"schedule: {name} must be an integer >= {least}, got {value!r}")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results", stacklevel=2)

    def action(step):
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait:
            step += wait
        cycle = wait + warmup + active
        if repeat and step // cycle >= repeat:
            return ProfilerAction.NONE
        at = step % cycle
        if at < wait:
            return ProfilerAction.NONE
        if at < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if at < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return action


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False):
    """An ``on_trace_ready`` that writes each trace into ``dir_name`` as
    ``<worker_name>.<time in ns>.pt.trace.json`` (``.gz`` compressed with ``use_gzip``)."""
    worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"

    def handler(prof):
        os.makedirs(dir_name, exist_ok=True)
        path = os.path.join(dir_name, f"{worker}.{time.time_ns()}.pt.trace.json")
        if use_gzip:
            import gzip
            import tempfile

            with tempfile.TemporaryDirectory() as tmp:
                plain = os.path.join(tmp, "trace.json")
                prof.export_chrome_trace(plain)
                with open(plain, "rb") as src, gzip.open(path + ".gz", "wb") as dst:
                    dst.write(src.read())
        else:
            prof.export_chrome_trace(path)

    return handler


def _refuse(**options):
    for name, value in options.items():
        if value:
            raise NotImplementedError(
                f"profile({name}=...): not supported by retrograd's profiler, which "
                f"records op and backward-node times, input shapes and memory"
            )


def _check_activities(activities):
    if activities is None:
        return
    from .. import cuda

    for a in activities:
        if isinstance(a, dict):
            raise NotImplementedError("profile(activities=...): activity filters (dicts) are not supported")
        if not isinstance(a, ProfilerActivity):
            raise TypeError(f"profile(activities=...): expected ProfilerActivity members, got {a!r}")
        if a is ProfilerActivity.CUDA and not cuda.is_available():
            warnings.warn("CUDA is not available, disabling CUDA profiling", stacklevel=3)
        elif a is not ProfilerActivity.CPU and (a is not ProfilerActivity.CUDA or cuda.is_available()):
            raise NotImplementedError(
                f"profile(activities=[..., {a}]): device kernels are not profiled; "
                f"use activities=[ProfilerActivity.CPU] (host times of each op)"
            )
    if ProfilerActivity.CPU not in activities:
        raise NotImplementedError("profile(activities=...): only ProfilerActivity.CPU can be profiled")


class profile:
    """Records the ops and backward nodes run between ``start()`` and ``stop()`` (or inside
    ``with``), on every thread. With a ``schedule``, each ``step()`` moves along it and only the
    recording steps are kept; ``on_trace_ready(prof)`` runs at the end of each recorded cycle
    (and at stop when there is no schedule)."""

    def __init__(
        self,
        *,
        activities=None,
        schedule=None,
        on_trace_ready=None,
        record_shapes=False,
        profile_memory=False,
        with_stack=False,
        with_flops=False,
        with_modules=False,
        experimental_config=None,
        execution_trace_observer=None,
        acc_events=False,
        use_cuda=None,
        custom_trace_id_callback=None,
        post_processing_timeout_s=None,
    ):
        _refuse(
            with_flops=with_flops,
            with_modules=with_modules,
            experimental_config=experimental_config is not None,
            execution_trace_observer=execution_trace_observer is not None,
            custom_trace_id_callback=custom_trace_id_callback is not None,
        )
        activities = None if activities is None else list(activities)
        if use_cuda:
            activities = (activities or [ProfilerActivity.CPU]) + [ProfilerActivity.CUDA]
        _check_activities(activities)
        # post_processing_timeout_s bounds PyTorch's trace post-processing; there is none here
        self.schedule = schedule
        self.on_trace_ready = on_trace_ready
        self.record_shapes = bool(record_shapes)
        self.profile_memory = bool(profile_memory)
        self.with_stack = bool(with_stack)
        self.acc_events = bool(acc_events)
        self.step_num = 0
        self._recorder = None
        self._events = []
        self._action = ProfilerAction.RECORD
        self._started = False

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        if self._started:
            raise RuntimeError("profile.start(): this profile is already started")
        self._started = True
        self.step_num = 0
        if self.schedule is not None:
            self._action = self.schedule(self.step_num)
        self._enter(self._action)

    def stop(self):
        if not self._started:
            return
        self._started = False
        if self._recorder is not None:
            self._finish(save=True)

    def step(self):
        """Mark the end of a training step: move along the schedule."""
        if not self._started:
            return
        self.step_num += 1
        if self.schedule is None:
            return
        prev, self._action = self._action, self.schedule(self.step_num)
        if prev is ProfilerAction.RECORD_AND_SAVE or (self._recorder is not None and not _recording(self._action)):
            self._finish(save=prev is ProfilerAction.RECORD_AND_SAVE)
        self._enter(self._action)

    def _enter(self, action):
        if _recording(action) and self._recorder is None:
            if not self.acc_events:
                self._events = []
            self._recorder = _record.start(self.record_shapes, self.profile_memory, self.with_stack)

    def _finish(self, save):
        rec, self._recorder = self._recorder, None
        _record.stop(rec)
        self._events.extend(rec.events)
        if save and self.on_trace_ready is not None:
            self.on_trace_ready(self)

    # ------------------------------------------------------------------ results
    def events(self):
        """Every recorded range, in order of start (per thread)."""
        return EventList(self._events, self.profile_memory, self.record_shapes)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0, group_by_overload_name=False):
        """The events summed per name (and per input shapes with ``group_by_input_shape``, which
        needs ``record_shapes=True``; per the innermost ``group_by_stack_n`` Python frames, which
        need ``with_stack=True``)."""
        if group_by_input_shape and not self.record_shapes:
            raise RuntimeError("key_averages(group_by_input_shape=True) needs profile(record_shapes=True)")
        if group_by_stack_n and not self.with_stack:
            raise RuntimeError("key_averages(group_by_stack_n=...) needs profile(with_stack=True)")
        return self.events().key_averages(group_by_input_shape, group_by_stack_n, group_by_overload_name)

    def export_chrome_trace(self, path):
        """Write the trace as Chrome trace JSON (Perfetto, chrome://tracing)."""
        self.events().export_chrome_trace(path)

    def export_stacks(self, path, metric="self_cpu_time_total"):
        """Write one line per event with a stack, outermost frame first, ``;``-separated, then
        the event's ``metric`` in whole microseconds (the collapsed-stack input of flame graph
        tools); needs ``with_stack=True``."""
        if not self.with_stack:
            raise RuntimeError("export_stacks: the profile recorded no stacks (profile(with_stack=True))")
        self.events().export_stacks(path, metric)


def _recording(action):
    return action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)


class record_function:
    """Mark a block (``with``) or a function (decorator) as a named range of the profile; does
    nothing while no profile records. ``args`` is a string kept with the range."""

    def __init__(self, name, args=None):
        if not isinstance(name, str):
            raise TypeError(f"record_function(name): expected a string, got {type(name).__name__}")
        if args is not None and not isinstance(args, str):
            raise TypeError(f"record_function(args=...): expected a string or None, got {type(args).__name__}")
        self.name = name
        self.args = args
        self._open = None

    def __enter__(self):
        rec = _record.active()
        if rec is not None:
            ev = rec.begin(self.name, "user_annotation")
            ev.args = self.args
            self._open = (rec, ev)
        return self

    def __exit__(self, *exc):
        if self._open is not None:
            rec, ev = self._open
            self._open = None
            rec.end(ev)
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with record_function(self.name, self.args):
                return fn(*args, **kwargs)

        return wrapper
