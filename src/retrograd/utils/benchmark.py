"""``retrograd.utils.benchmark``: PyTorch's ``Timer``, ``Measurement`` and ``Compare`` for timing
statements.

``Timer(stmt, setup, globals=..., num_threads=1).blocked_autorange()`` runs ``setup`` once, then
``stmt`` in blocks of ``number_per_run`` executions until ``min_run_time`` seconds have passed;
the result is a ``Measurement`` holding each block's time per execution (``times``) and their
statistics: ``median``, ``mean`` and ``iqr`` (the spread between the 25th and 75th percentiles).
``timeit(number)`` is one block of ``number`` executions after a warmup; ``adaptive_autorange``
keeps adding blocks until ``iqr / median`` falls under a threshold. While a Timer measures, the
intra-op thread count (NumPy's BLAS pool) is ``num_threads``, as PyTorch sets its thread pool.

``Compare(measurements)`` prints them side by side: a table per ``label``, its rows the
``sub_label``s (grouped by thread count), its columns the ``description``s.

Statements are Python source strings, as in PyTorch; the C++ language, ``collect_callgrind``
and the fuzzers are not provided.
"""

import enum
import math
import sys
import textwrap as _textwrap
import timeit as _timeit

import numpy as np

__all__ = ["Timer", "Measurement", "TaskSpec", "Language", "Compare", "select_unit", "trim_sigfig"]


class Language(enum.Enum):
    PYTHON = 0
    CPP = 1


class TaskSpec:
    """What a measurement timed: the statement, its setup and the descriptive labels."""

    __slots__ = ("stmt", "setup", "global_setup", "label", "sub_label", "description", "env", "num_threads")

    def __init__(
        self, stmt, setup, global_setup="", label=None, sub_label=None, description=None, env=None, num_threads=1
    ):
        self.stmt = stmt
        self.setup = setup
        self.global_setup = global_setup
        self.label = label
        self.sub_label = sub_label
        self.description = description
        self.env = env
        self.num_threads = num_threads

    def _key(self):
        return tuple(getattr(self, f) for f in self.__slots__)

    def __eq__(self, other):
        return isinstance(other, TaskSpec) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    @property
    def title(self):
        """``label: sub_label`` when a label is set, else the statement."""
        if self.label is not None:
            return self.label + (f": {self.sub_label}" if self.sub_label else "")
        if "\n" not in self.stmt:
            return self.stmt + (f": {self.sub_label}" if self.sub_label else "")
        return f"stmt:{f' ({self.sub_label})' if self.sub_label else ''}\n" + "\n".join(
            "  " + line for line in self.stmt.splitlines()
        )

    def summarize(self):
        """The lines that head a measurement's printout: title, description, env, setup."""
        lines = [self.title]
        if self.description:
            lines.append(self.description)
        if self.env:
            lines.append(f"env: {self.env}")
        if self.setup not in ("", "pass"):
            if "\n" in self.setup:
                lines.append("setup:\n" + "\n".join("  " + line for line in self.setup.splitlines()))
            else:
                lines.append(f"setup: {self.setup}")
        return "\n".join(lines)


_UNITS = ((1e-9, "ns"), (1e-6, "us"), (1e-3, "ms"), (1.0, "s"))


def select_unit(t):
    """The unit (``"ns"``, ``"us"``, ``"ms"`` or ``"s"``) and its size in seconds for a time ``t``
    in seconds: the largest unit that keeps ``t`` at 1 or more."""
    unit, scale = "ns", 1e-9
    for s, u in _UNITS:
        if t >= s:
            unit, scale = u, s
    return unit, scale


def trim_sigfig(x, n):
    """``x`` rounded to ``n`` significant figures."""
    if x == 0:
        return 0.0
    magnitude = int(math.floor(math.log10(abs(x))))
    return round(x, n - 1 - magnitude)


class Measurement:
    """The times of one Timer run: ``raw_times[i]`` seconds for ``number_per_run`` executions of
    the statement; ``times[i] = raw_times[i] / number_per_run`` is the time of one execution."""

    def __init__(self, number_per_run, raw_times, task_spec, metadata=None):
        if not raw_times:
            raise ValueError("Measurement: raw_times must hold at least one time")
        self.number_per_run = int(number_per_run)
        self.raw_times = [float(t) for t in raw_times]
        self.task_spec = task_spec
        self.metadata = metadata
        self.times = [t / self.number_per_run for t in self.raw_times]

    def __getattr__(self, name):
        # stmt, setup, label, sub_label, description, env, num_threads, title: the task spec's
        if name in TaskSpec.__slots__ or name == "title":
            return getattr(self.__dict__["task_spec"], name)
        raise AttributeError(f"'Measurement' object has no attribute '{name}'")

    @property
    def median(self):
        return float(np.median(self.times))

    @property
    def mean(self):
        return float(np.mean(self.times))

    @property
    def iqr(self):
        """75th minus 25th percentile of ``times`` (linear interpolation)."""
        p25, p75 = np.quantile(self.times, [0.25, 0.75])
        return float(p75 - p25)

    @property
    def significant_figures(self):
        """How many figures of the median the spread supports: the 90% confidence half-width
        of the mean of the interquartile times (z = 1.645), relative to the median, as a power
        of ten; 1 to 4 figures, and 1 for a single measurement."""
        if len(self.times) < 2:
            return 1
        p25, p75 = np.quantile(self.times, [0.25, 0.75])
        middle = [t for t in self.times if p25 <= t <= p75]
        spread = 1.645 * float(np.std(middle)) / math.sqrt(len(middle))
        if spread == 0:
            return 4
        return int(min(4, max(1, math.floor(math.log10(self.median / spread)))))

    @property
    def has_warnings(self):
        return bool(self._warnings())

    def meets_confidence(self, threshold=0.1):
        """Whether ``iqr / median`` is under ``threshold``."""
        return self.iqr / self.median < threshold

    def _warnings(self):
        found = []
        if len(self.times) < 2:
            return found
        rel = self.iqr / self.median if self.median else 0.0
        if rel > 0.1:
            found.append(
                f"WARNING: Interquartile range is {rel * 100:.1f}% of the median measurement.\n"
                "           This suggests significant environmental influence."
            )
        return found

    @property
    def env(self):
        return self.task_spec.env

    @property
    def as_row_name(self):
        return self.task_spec.sub_label or self.task_spec.stmt or "[Unknown]"

    def __repr__(self):
        unit, scale = select_unit(self.median)
        n = len(self.times)
        lines = [
            f"<{type(self).__module__}.{type(self).__name__} object at {hex(id(self))}>",
            self.task_spec.summarize(),
        ]
        threads = f"{self.task_spec.num_threads} thread{'s' if self.task_spec.num_threads > 1 else ''}"
        if n == 1:
            lines.append(f"  {self.median / scale:.2f} {unit}")
            lines.append(f"  1 measurement, {self.number_per_run} runs , {threads}")
        else:
            lines.append(f"  Median: {self.median / scale:.2f} {unit}")
            if n >= 4:  # fewer blocks give no quartiles worth printing
                p25, p75 = np.quantile(self.times, [0.25, 0.75])
                lines.append(f"  IQR:    {self.iqr / scale:.2f} {unit} ({p25 / scale:.2f} to {p75 / scale:.2f})")
            lines.append(f"  {n} measurements, {self.number_per_run} runs per measurement, {threads}")
        lines += ["  " + w for w in self._warnings()]
        return "\n".join(lines)

    @staticmethod
    def merge(measurements):
        """One measurement per task spec, holding the times of all those given for it (each
        rescaled to one execution per run)."""
        grouped = {}
        for m in measurements:
            grouped.setdefault(m.task_spec, []).extend(m.times)
        return [Measurement(1, times, spec) for spec, times in grouped.items()]


class _Threads:
    """Runs a block with NumPy's BLAS pool at ``n`` threads, then restores the previous count."""

    __slots__ = ("n", "before")

    def __init__(self, n):
        self.n = n
        self.before = None

    def __enter__(self):
        from .._runtime import get_num_threads, set_num_threads

        self.before = get_num_threads()
        set_num_threads(self.n)

    def __exit__(self, *exc):
        from .._runtime import set_num_threads

        set_num_threads(self.before)


def _dedent(code):
    """Code as written in an indented triple-quoted string: dedented, without its first newline
    and trailing whitespace (PyTorch's Timer does the same)."""
    code = _textwrap.dedent(code)
    return (code[1:] if code.startswith("\n") else code).rstrip()


def _torch_module():
    """The package itself (loaded before any of its modules), read without importing upward."""
    return sys.modules[__name__.split(".")[0]]


class Timer:
    """Times the Python statement ``stmt`` (a string) after ``setup``, in the namespace
    ``globals``; ``timer`` is the clock (``timeit.default_timer``). ``label``, ``sub_label``,
    ``description`` and ``env`` only label the measurements."""

    def __init__(
        self,
        stmt="pass",
        setup="pass",
        global_setup="",
        timer=_timeit.default_timer,
        globals=None,
        label=None,
        sub_label=None,
        description=None,
        env=None,
        num_threads=1,
        language=Language.PYTHON,
    ):
        if not isinstance(stmt, str):
            raise ValueError("Currently only a `str` stmt is supported.")
        if language in (Language.CPP, "cpp", "c++"):
            raise NotImplementedError("Timer: C++ statements are not supported in retrograd (Python only)")
        if language not in (Language.PYTHON, "py", "python"):
            raise ValueError(f"Invalid language `{language}`.")
        if global_setup:
            raise ValueError(
                f"global_setup is C++ only, got `{global_setup}`. Most likely this code can simply be moved to `setup`."
            )
        stmt, setup = _dedent(stmt), _dedent(setup)
        self._task_spec = TaskSpec(stmt, setup, global_setup, label, sub_label, description, env, num_threads)
        namespace = dict(globals or {})
        namespace.setdefault("torch", _torch_module())  # as PyTorch's Timer: `torch` is in scope
        self._timer = _timeit.Timer(stmt=stmt, setup=setup, timer=timer, globals=namespace)
        self._clock = timer

    def _run(self, number):
        with _Threads(self._task_spec.num_threads):
            return self._timer.timeit(number=number)

    def timeit(self, number=1000000):
        """One block of ``number`` executions (after a warmup of ``max(number // 100, 2)``), as
        ``timeit.Timer.timeit``."""
        with _Threads(self._task_spec.num_threads):
            self._timer.timeit(number=max(number // 100, 2))
            return Measurement(number, [self._timer.timeit(number=number)], self._task_spec)

    def repeat(self, repeat=-1, number=-1):
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def autorange(self, callback=None):
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def collect_callgrind(self, *args, **kwargs):
        raise NotImplementedError(
            "Timer.collect_callgrind(): valgrind instruction counts are not supported in retrograd"
        )

    def _block_size(self):
        """Executions per block: doubled from 1 until a block takes 1000 times the clock's own
        overhead, so that reading the clock biases a block by under 0.1%."""
        clock = self._clock
        start = clock()
        for _ in range(100):
            clock()
        overhead = (clock() - start) / 100
        number = 1
        while self._timer.timeit(number=number) < 1000 * overhead:
            number *= 2
        return number

    def _measure(self, min_run_time, max_run_time, stop, callback):
        with _Threads(self._task_spec.num_threads):
            number = self._block_size()
            times = []
            total = 0.0
            while True:
                t = self._timer.timeit(number=number)
                times.append(t)
                total += t
                if callback is not None:
                    callback(number, t)
                if max_run_time is not None and total >= max_run_time:
                    break
                if stop(times, total):
                    break
        return Measurement(number, times, self._task_spec)

    def blocked_autorange(self, callback=None, min_run_time=0.2):
        """Blocks of ``number_per_run`` executions until ``min_run_time`` seconds in total;
        ``callback(number, seconds)`` is called after each block."""
        return self._measure(min_run_time, None, lambda times, total: total >= min_run_time, callback)

    def adaptive_autorange(self, threshold=0.1, *, min_run_time=0.01, max_run_time=10.0, callback=None):
        """Blocks until there are more than 3, they took ``min_run_time`` seconds, and
        ``iqr / median`` of the block times is under ``threshold``; or ``max_run_time`` seconds."""

        def stop(times, total):
            if len(times) <= 3 or total < min_run_time:
                return False
            p25, p50, p75 = np.quantile(times, [0.25, 0.5, 0.75])
            return (p75 - p25) / p50 < threshold

        return self._measure(min_run_time, max_run_time, stop, callback)


# --- Compare: measurements side by side, as PyTorch prints them -------------------------------
#
# One table per ``label`` (in the order the labels first appear). Its columns are the
# ``description``s and its rows the ``sub_label``s (the statement when a measurement has none),
# grouped under a ``N threads:`` line per thread count; a cell is the median time of the
# measurements of that (label, sub_label, description, thread count, env), all of one table in one
# unit, the one that keeps its fastest median at 1 or more::
#
#     [---------- Batched dot -----------]
#                    |  mul/sum  |  bmm
#     1 threads: -------------------------
#           [1, 1]   |      5.9  |  11.2
#           [64, 1]  |      6.4  |  11.4
#
#     Times are in microseconds (us).
#
# Measurements of one task (the same statement, setup and labels) are merged: their times are
# pooled. Rows of another ``env`` than the first are named ``(env) sub_label``.

_UNIT_NAMES = {"ns": "nanoseconds", "us": "microseconds", "ms": "milliseconds", "s": "seconds"}

# colours of ``colorize``: a cell's median against the fastest of its column (or row)
_BEST, _GOOD, _BAD, _VERY_BAD = "\033[92m", "\033[34m", "\033[2m\033[91m", "\033[31m"
_BOLD, _END = "\033[1m", "\033[0m"


def _colour(ratio):
    """The colour of a cell ``ratio`` times the fastest: within 1% green, within 10% blue,
    from 2x dim red, from 5x red; else none."""
    if ratio <= 1.01:
        return _BEST
    if ratio <= 1.1:
        return _GOOD
    if ratio >= 5:
        return _VERY_BAD
    if ratio >= 2:
        return _BAD
    return ""


class Compare:
    """Prints ``results`` (a list of ``Measurement``) as tables: ``print(compare)`` or
    ``compare.print()``. ``trim_significant_figures()``, ``colorize(rowwise=False)`` and
    ``highlight_warnings()`` change how later prints look."""

    def __init__(self, results):
        self._results = []
        self._trim = False
        self._colorize = None  # None, "column" or "row"
        self._highlight = False
        self.extend_results(results)

    def extend_results(self, results):
        """Add more measurements to the tables."""
        for r in results:
            if not isinstance(r, Measurement):
                raise ValueError(f"Expected an instance of `Measurement`, got {type(r)} instead.")
        self._results.extend(results)

    def trim_significant_figures(self):
        """Round each cell to the significant figures its measurement's spread supports
        (``Measurement.significant_figures``) and print each column with the decimals that
        leaves, instead of one decimal."""
        self._trim = True

    def colorize(self, rowwise=False):
        """Colour each cell by how much slower it is than the fastest of its column (of its row
        with ``rowwise``): terminal colour codes in the text."""
        self._colorize = "row" if rowwise else "column"

    def highlight_warnings(self):
        """Mark the cells whose measurements have warnings (a spread over 10% of the median)
        with ``(! XX%)``, XX being iqr / median in percent."""
        self._highlight = True

    def print(self):
        print(str(self))

    def __str__(self):
        merged = Measurement.merge(self._results)
        labels = list(dict.fromkeys(m.task_spec.label for m in merged))
        return "\n".join(self._table([m for m in merged if m.task_spec.label == label]) for label in labels)

    # --- one table ------------------------------------------------------------------------------

    def _table(self, results):
        label = results[0].task_spec.label
        first_env = results[0].task_spec.env
        columns = list(dict.fromkeys(r.task_spec.description for r in results))
        threads = list(dict.fromkeys(r.task_spec.num_threads for r in results))
        cells = {}
        row_names = {}  # num_threads -> ordered row names
        for r in results:
            spec = r.task_spec
            name = r.as_row_name if spec.env == first_env else f"({spec.env}) {r.as_row_name}"
            row_names.setdefault(spec.num_threads, {})[name] = None
            cells[(spec.num_threads, name, spec.description)] = r
        unit, scale = select_unit(min(r.median for r in results))
        formats = {c: self._format(c, [r for r in results if r.task_spec.description == c], scale) for c in columns}

        texts = {}
        for key, r in cells.items():
            value = r.median / scale
            text = formats[key[2]].format(trim_sigfig(value, r.significant_figures) if self._trim else value)
            if self._highlight and r.has_warnings:
                text += f" (! {r.iqr / r.median * 100:.0f}%)"
            texts[key] = text
        name_width = max(len(n) for names in row_names.values() for n in names) + 8
        widths = {c: max([len(c or "")] + [len(t) for (_, _, d), t in texts.items() if d == c]) + 2 for c in columns}
        header = " " * name_width + "".join(f"|{(c or ''):^{widths[c] + 2}}" for c in columns)
        lines = [header]
        for n in threads:
            lines.append(f"{n} threads: ".ljust(len(header), "-"))
            column_best = {}  # the fastest median of each column in this thread block
            for (m, _, c), r in cells.items():
                if m == n:
                    column_best[c] = min(column_best.get(c, math.inf), r.median)
            for name in row_names[n]:
                row = [(c, cells.get((n, name, c)), texts.get((n, name, c), "")) for c in columns]
                row_best = min((r.median for _, r, _ in row if r is not None), default=None)
                parts = []
                for c, r, text in row:
                    cell = f"{text:>{widths[c]}}  "
                    if r is not None and self._colorize is not None:
                        colour = _colour(r.median / (row_best if self._colorize == "row" else column_best[c]))
                        if colour:
                            cell = colour + cell + _END
                    parts.append("|" + cell)
                lines.append((f"      {name}".ljust(name_width) + "".join(parts)).rstrip())
        width = len(header)
        title = f" {label} " if label else ""
        pad = max(width - len(title) - 2, 2)
        top = "[" + "-" * (pad // 2) + title + "-" * (pad - pad // 2) + "]"
        if self._colorize is not None and label:
            top = top.replace(title, _BOLD + title + _END)
        footer = [f"Times are in {_UNIT_NAMES[unit]} ({unit})."]
        if self._highlight and any(r.has_warnings for r in results):
            footer.append("(! XX%) Measurement has high variance, where XX is the IQR / median * 100.")
        return "\n".join([top, *(line.rstrip() for line in lines), "", *footer, ""])

    def _format(self, column, results, scale):
        """The format of one column's cells: one decimal, or with ``trim_significant_figures``
        the decimals its least certain measurement supports."""
        if not self._trim:
            return "{:.1f}"
        leading = [max(int(math.ceil(math.log10(r.median / scale))), 1) for r in results]
        decimals = min(max(r.significant_figures - d, 0) for r, d in zip(results, leading))
        return f"{{:.{decimals}f}}"
