"""``torch.autograd.profiler``: the older interface to the same profiler (``retrograd.profiler``).

``with profile(record_shapes=True) as prof: ...`` then ``prof.key_averages().table(...)``,
``prof.table(...)``, ``prof.function_events`` and ``prof.export_chrome_trace(path)``.
"""

from ..profiler import EventList, FunctionEvent, FunctionEventAvg, record_function
from ..profiler import profile as _profile

__all__ = ["profile", "record_function", "EventList", "FunctionEvent", "FunctionEventAvg"]


class profile:
    """Records ops and backward nodes inside ``with``; ``enabled=False`` records nothing.
    Only the CPU is profiled (``use_cuda``/``use_device`` are refused when a device is present,
    as device kernels are not timed)."""

    def __init__(
        self,
        enabled=True,
        *,
        use_cuda=False,
        use_device=None,
        record_shapes=False,
        with_flops=False,
        profile_memory=False,
        with_stack=False,
        with_modules=False,
        use_kineto=False,
        use_cpu=True,
        experimental_config=None,
        acc_events=False,
        custom_trace_id_callback=None,
        post_processing_timeout_s=None,
        activity_filters=None,
    ):
        if not use_cpu:
            raise NotImplementedError("autograd.profiler.profile(use_cpu=False): only the CPU is profiled")
        if activity_filters is not None:
            raise NotImplementedError("autograd.profiler.profile(activity_filters=...) is not supported")
        if use_device not in (None, "cpu"):
            use_cuda = True
        self.enabled = bool(enabled)
        # use_kineto picks PyTorch's recording backend; there is one here, with the same results
        self._prof = _profile(
            use_cuda=use_cuda,
            record_shapes=record_shapes,
            profile_memory=profile_memory,
            with_stack=with_stack,
            with_flops=with_flops,
            with_modules=with_modules,
            experimental_config=experimental_config,
            acc_events=acc_events,
            custom_trace_id_callback=custom_trace_id_callback,
        )
        self._entered = False

    def __enter__(self):
        if self.enabled:
            if self._entered:
                raise RuntimeError("Profiler context manager is not reentrant")
            self._entered = True
            self._prof.start()
        return self

    def __exit__(self, *exc):
        if self.enabled:
            self._prof.stop()
        return False

    @property
    def function_events(self):
        return self._prof.events()

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0, group_by_overload_name=False):
        return self._prof.key_averages(group_by_input_shape, group_by_stack_n, group_by_overload_name)

    def table(
        self,
        sort_by=None,
        row_limit=100,
        max_src_column_width=75,
        max_name_column_width=55,
        max_shapes_column_width=80,
        header=None,
        top_level_events_only=False,
        time_unit=None,
    ):
        """The table of every recorded event (not averaged; see ``key_averages().table``)."""
        return self.function_events.table(
            sort_by,
            row_limit,
            max_src_column_width,
            max_name_column_width,
            max_shapes_column_width,
            header,
            top_level_events_only,
            time_unit,
        )

    def total_average(self):
        return self.function_events.total_average()

    @property
    def self_cpu_time_total(self):
        return self.function_events.self_cpu_time_total

    def export_chrome_trace(self, path):
        self._prof.export_chrome_trace(path)

    def __str__(self):
        return str(self.key_averages())
