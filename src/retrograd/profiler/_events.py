"""What a profile recorded: events, their averages, the table and the Chrome trace.

``FunctionEvent`` is one timed range (an op, a backward node, a ``record_function`` block) on
one thread; times are in microseconds, as in PyTorch. Ranges on a thread nest: an event's
``cpu_children`` ran inside it, and its self time is its time less theirs. Memory is the bytes
of the arrays an op made (a view makes none); an event's total includes its children's.
"""

import json
import os


class FunctionEvent:
    """One recorded range. ``time_range`` is (start, end) in microseconds from the profile's
    start; ``input_shapes`` is empty unless the profile recorded shapes."""

    __slots__ = (
        "id",
        "name",
        "thread",
        "start_ns",
        "end_ns",
        "input_shapes",
        "cpu_parent",
        "cpu_children",
        "own_cpu_memory",
        "own_device_memory",
        "category",
        "args",
        "stack",
    )

    def __init__(self, id, name, thread, start_ns, category="cpu_op", input_shapes=()):
        self.id = id
        self.name = name
        self.thread = thread
        self.start_ns = start_ns
        self.end_ns = start_ns
        self.category = category
        self.input_shapes = input_shapes
        self.cpu_parent = None
        self.cpu_children = []
        self.own_cpu_memory = 0
        self.own_device_memory = 0
        self.args = None  # record_function's args string
        self.stack = []  # with_stack: the Python frames, innermost first

    key = property(lambda self: self.name)
    count = property(lambda self: 1)
    time_range = property(lambda self: (self.start_ns / 1000, self.end_ns / 1000))
    is_user_annotation = property(lambda self: self.category == "user_annotation")

    @property
    def cpu_time_total(self):
        return (self.end_ns - self.start_ns) / 1000

    @property
    def self_cpu_time_total(self):
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    cpu_time = cpu_time_total

    @property
    def cpu_memory_usage(self):
        return self.own_cpu_memory + sum(c.cpu_memory_usage for c in self.cpu_children)

    @property
    def device_memory_usage(self):
        return self.own_device_memory + sum(c.device_memory_usage for c in self.cpu_children)

    self_cpu_memory_usage = property(lambda self: self.own_cpu_memory)
    self_device_memory_usage = property(lambda self: self.own_device_memory)

    def __repr__(self):
        return (
            f"<FunctionEvent id={self.id} name={self.name} thread={self.thread} "
            f"cpu_time_total={_format_time(self.cpu_time_total)} "
            f"self_cpu_time_total={_format_time(self.self_cpu_time_total)}>"
        )


class FunctionEventAvg:
    """The sum of the events sharing a key (their name, and input shapes when grouped by them)."""

    _SUMMED = (
        "count",
        "cpu_time_total",
        "self_cpu_time_total",
        "cpu_memory_usage",
        "self_cpu_memory_usage",
        "device_memory_usage",
        "self_device_memory_usage",
    )

    def __init__(self, key, input_shapes=None, stack=()):
        self.key = key
        self.input_shapes = input_shapes
        self.stack = list(stack)  # the frames the group shares (group_by_stack_n)
        for field in self._SUMMED:
            setattr(self, field, 0)

    def add(self, event):
        for field in self._SUMMED:
            setattr(self, field, getattr(self, field) + getattr(event, field))
        return self

    cpu_time = property(lambda self: self.cpu_time_total / self.count if self.count else 0.0)
    self_cpu_time = property(lambda self: self.self_cpu_time_total / self.count if self.count else 0.0)
    # device kernels are not profiled: their times are zero (so device sort keys still sort)
    device_time_total = self_device_time_total = cuda_time_total = self_cuda_time_total = 0.0

    def __repr__(self):
        return (
            f"<FunctionEventAvg key={self.key} count={self.count} "
            f"self_cpu_time_total={_format_time(self.self_cpu_time_total)} "
            f"cpu_time_total={_format_time(self.cpu_time_total)} input_shapes={self.input_shapes}>"
        )


class EventList(list):
    """A list of events (``FunctionEvent`` or ``FunctionEventAvg``) with the summaries of PyTorch's."""

    def __init__(self, events=(), profile_memory=False, with_shapes=False):
        super().__init__(events)
        self._profile_memory = profile_memory
        self._with_shapes = with_shapes

    @property
    def self_cpu_time_total(self):
        return sum(e.self_cpu_time_total for e in self)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0, group_by_overload_name=False):
        """One ``FunctionEventAvg`` per name (and per input shapes with ``group_by_input_shape``),
        in order of first occurrence."""
        if group_by_overload_name:
            raise NotImplementedError(
                "key_averages(group_by_overload_name=True): retrograd ops have no overloads; group by name only"
            )
        groups = {}
        for e in self:
            shapes = _shapes_key(e.input_shapes) if group_by_input_shape else None
            stack = tuple(e.stack[:group_by_stack_n]) if group_by_stack_n > 0 else ()
            key = (e.key, shapes, stack)
            avg = groups.get(key)
            if avg is None:
                avg = groups[key] = FunctionEventAvg(e.key, e.input_shapes if group_by_input_shape else None, stack)
            avg.add(e)
        return EventList(groups.values(), self._profile_memory, group_by_input_shape)

    def total_average(self):
        total = FunctionEventAvg("Total")
        for e in self:
            total.add(e)
        return total

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
        """The events as a text table, PyTorch's columns: self and total CPU time (and their share
        of all self time), the average, the memory columns when memory was profiled, the call
        count, and the input shapes when grouped by them. ``sort_by`` names an attribute
        (``"self_cpu_time_total"``, ``"cpu_time_total"``, ``"cpu_memory_usage"``, ``"count"``...),
        sorted in decreasing order."""
        if time_unit not in (None, "s", "ms", "us"):
            raise ValueError(f"table(time_unit=...): expected one of 's', 'ms', 'us' or None, got {time_unit!r}")
        rows = list(self)
        if top_level_events_only:
            rows = [e for e in rows if getattr(e, "cpu_parent", None) is None]
        if sort_by is not None:
            if rows and not hasattr(rows[0], sort_by):
                raise AttributeError(f"table(sort_by={sort_by!r}): events have no attribute {sort_by!r}")
            rows.sort(key=lambda e: getattr(e, sort_by), reverse=True)
        if row_limit is not None and row_limit > 0:
            rows = rows[:row_limit]
        total_self = self.self_cpu_time_total
        fmt = lambda t: _format_time(t, time_unit)  # noqa: E731
        columns = [
            ("Self CPU %", lambda e: _percent(e.self_cpu_time_total, total_self)),
            ("Self CPU", lambda e: fmt(e.self_cpu_time_total)),
            ("CPU total %", lambda e: _percent(e.cpu_time_total, total_self)),
            ("CPU total", lambda e: fmt(e.cpu_time_total)),
            ("CPU time avg", lambda e: fmt(e.cpu_time_total / max(e.count, 1))),
        ]
        if self._profile_memory:
            columns += [
                ("CPU Mem", lambda e: _format_memory(e.cpu_memory_usage)),
                ("Self CPU Mem", lambda e: _format_memory(e.self_cpu_memory_usage)),
            ]
            if any(e.device_memory_usage for e in self):
                columns += [
                    ("Device Mem", lambda e: _format_memory(e.device_memory_usage)),
                    ("Self Device Mem", lambda e: _format_memory(e.self_device_memory_usage)),
                ]
        columns.append(("# of Calls", lambda e: str(e.count)))
        name_width = min(max([len(e.key) for e in rows] + [4]) + 4, max_name_column_width)
        widths = [name_width] + [12] * len(columns)
        cells = [[_clip(e.key, name_width)] + [f(e) for _, f in columns] for e in rows]
        titles = ["Name"] + [t for t, _ in columns]
        if self._with_shapes:
            shape_cells = [
                _clip(str(e.input_shapes if e.input_shapes is not None else []), max_shapes_column_width) for e in rows
            ]
            widths.append(min(max([len(s) for s in shape_cells] + [12]) + 2, max_shapes_column_width))
            titles.append("Input Shapes")
            for row, s in zip(cells, shape_cells):
                row.append(s)
        stacks = [[_clip(f, max_src_column_width) for f in getattr(e, "stack", ())] for e in rows]
        with_src = any(stacks)
        if with_src:  # PyTorch's column: the first frame on the row, the others on lines below
            widths.append(min(max([len(f) for st in stacks for f in st] + [15]) + 2, max_src_column_width))
            titles.append("Source Location")
        rule = "  ".join("-" * w for w in widths)
        lines = [header] if header else []
        lines += [rule, "  ".join(t.rjust(w) for t, w in zip(titles, widths)), rule]
        for row, st in zip(cells, stacks):
            if with_src:
                row = row + [st[0] if st else ""]
            lines.append("  ".join(c.rjust(w) for c, w in zip(row, widths)))
            for frame in st[1:]:
                lines.append("  ".join([" " * w for w in widths[:-1]] + [frame.rjust(widths[-1])]))
            if len(st) > 1:
                lines.append("")
        lines += [rule, f"Self CPU time total: {fmt(total_self)}"]
        return "\n".join(lines) + "\n"

    def __str__(self):
        return self.table()

    def export_stacks(self, path, metric="self_cpu_time_total"):
        """One line per event with a stack and a positive ``metric``: its frames outermost first,
        joined by ``;``, a space, the metric in whole microseconds (collapsed stacks, the input of
        flame graph tools)."""
        with open(path, "w") as f:
            for e in self:
                value = int(getattr(e, metric.replace("cuda", "device")))
                if e.stack and value > 0:
                    f.write(";".join(reversed(e.stack)) + f" {value}\n")

    def export_chrome_trace(self, path):
        """Write the events (``FunctionEvent``s) to ``path`` in the Chrome trace event format
        (JSON, opened by Perfetto and chrome://tracing): one complete ("X") event per range, with
        its thread, start and duration in microseconds and, when recorded, its input shapes."""
        pid = os.getpid()
        trace = []
        for e in self:
            entry = {
                "ph": "X",
                "cat": e.category,
                "name": e.name,
                "pid": pid,
                "tid": e.thread,
                "ts": _micros(e.start_ns),
                "dur": _micros(e.end_ns - e.start_ns),
                "args": {"External id": e.id},
            }
            if e.input_shapes:
                entry["args"]["Input Dims"] = [list(s) for s in e.input_shapes]
            if e.args is not None:
                entry["args"]["Record function args"] = e.args
            if e.own_cpu_memory:
                entry["args"]["Bytes allocated"] = e.own_cpu_memory
            trace.append(entry)
        data = {"schemaVersion": 1, "displayTimeUnit": "ms", "traceEvents": trace}
        with open(path, "w") as f:
            json.dump(data, f, separators=(",", ":"))
            f.write("\n")


def _micros(ns):
    """Nanoseconds as microseconds with three exact decimals (so that a child's range, rounded,
    still lies inside its parent's)."""
    return float(f"{ns // 1000}.{ns % 1000:03d}")


def _shapes_key(shapes):
    return tuple(tuple(s) for s in shapes) if shapes else ()


def _clip(text, width):
    return text if len(text) <= width - 2 else text[: width - 5] + "..."


def _percent(part, whole):
    return f"{100.0 * part / whole:.2f}%" if whole else "0.00%"


def _format_time(us, unit=None):
    if unit == "s" or (unit is None and us >= 1e6):
        return f"{us / 1e6:.3f}s"
    if unit == "ms" or (unit is None and us >= 1e3):
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _format_memory(nbytes):
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if abs(nbytes) >= size:
            return f"{nbytes / size:.2f} {unit}"
    return f"{nbytes} B"
