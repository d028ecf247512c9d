"""``SummaryWriter``: scalars and text to TensorBoard event files (see the package doc)."""

import os
import socket
import time
from datetime import datetime

from tensorboard.compat.proto.event_pb2 import Event
from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.summary.writer.event_file_writer import EventFileWriter


def _scalar(value, tag):
    """A Python float from a number or a one-element tensor or array."""
    if hasattr(value, "item") and hasattr(value, "shape"):
        if getattr(value, "size", None) is not None and _numel(value) != 1:
            raise ValueError(f"add_scalar({tag!r}): expected a single value, got shape {list(value.shape)}")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"add_scalar({tag!r}): expected a number, got {type(value).__name__}")
    return float(value)


def _numel(value):
    return value.numel() if hasattr(value, "numel") else value.size


class SummaryWriter:
    """Write TensorBoard events to ``log_dir`` (default ``runs/<date>_<host><comment>``).

    ``purge_step`` is not supported (it needs rewriting earlier files) and raises.
    """

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10, flush_secs=120, filename_suffix=""):
        if purge_step is not None:
            raise NotImplementedError("SummaryWriter(purge_step=...) is not supported")
        if log_dir is None:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        self.log_dir = str(log_dir)
        self._max_queue = max_queue
        self._flush_secs = flush_secs
        self._suffix = filename_suffix
        self._writer = EventFileWriter(self.log_dir, max_queue, flush_secs, filename_suffix)
        self._children = {}

    def get_logdir(self):
        return self.log_dir

    def _add(self, summary, global_step, walltime):
        event = Event(summary=summary, wall_time=time.time() if walltime is None else walltime)
        if global_step is not None:
            event.step = int(global_step)
        self._writer.add_event(event)

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False, double_precision=False):
        """Log one number (a Python number or a one-element tensor) under ``tag``."""
        if new_style or double_precision:
            raise NotImplementedError("add_scalar(): new_style and double_precision are not supported")
        value = Summary.Value(tag=tag, simple_value=_scalar(scalar_value, tag))
        self._add(Summary(value=[value]), global_step, walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Log several numbers on one chart: each goes to ``log_dir/<main_tag>_<key>`` under tag
        ``main_tag``, as in PyTorch."""
        for key, value in tag_scalar_dict.items():
            path = os.path.join(self.log_dir, f"{main_tag.replace('/', '_')}_{key}")
            child = self._children.get(path)
            if child is None:
                child = self._children[path] = EventFileWriter(path, self._max_queue, self._flush_secs, self._suffix)
            summary = Summary(value=[Summary.Value(tag=main_tag, simple_value=_scalar(value, main_tag))])
            event = Event(summary=summary, wall_time=time.time() if walltime is None else walltime)
            if global_step is not None:
                event.step = int(global_step)
            child.add_event(event)

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        """Log a string (shown in TensorBoard's text tab)."""
        if not isinstance(text_string, str):
            raise TypeError(f"add_text({tag!r}): expected a str, got {type(text_string).__name__}")
        metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="text"))
        tensor = TensorProto(
            dtype="DT_STRING",
            string_val=[text_string.encode("utf-8")],
            tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)]),
        )
        value = Summary.Value(tag=tag + "/text_summary", metadata=metadata, tensor=tensor)
        self._add(Summary(value=[value]), global_step, walltime)

    def flush(self):
        self._writer.flush()
        for child in self._children.values():
            child.flush()

    def close(self):
        self._writer.close()
        for child in self._children.values():
            child.close()
        self._children = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
