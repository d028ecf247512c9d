"""``retrograd.utils.tensorboard``: a thin ``SummaryWriter`` over the ``tensorboard`` package.

It writes TensorBoard event files with the package's own writer and protocol buffers: scalars
(``add_scalar``, ``add_scalars``) and text (``add_text``). Importing this module without
``tensorboard`` installed raises ImportError, as PyTorch's does.
"""

try:
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboard.compat.proto.tensor_pb2 import TensorProto
    from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
except ImportError as e:
    raise ImportError(
        "retrograd.utils.tensorboard needs the tensorboard package (pip install "
        f"tensorboard) to write event files ({e})"
    ) from None

from ._writer import SummaryWriter

__all__ = ["SummaryWriter", "Event", "Summary", "SummaryMetadata", "TensorProto", "TensorShapeProto", "EventFileWriter"]
