"""``retrograd.onnx``: importable, so scripts that export at the end still train; exporting is
not supported and raises when called."""

__all__ = ["export", "dynamo_export", "is_in_onnx_export"]


def is_in_onnx_export():
    """False: retrograd never runs a model under the ONNX exporter."""
    return False


def _unsupported(op):
    raise NotImplementedError(
        f"retrograd.onnx.{op}(): ONNX export is not supported (retrograd "
        f"records no graph to export); save weights with retrograd.save() instead"
    )


def export(model, args=(), f=None, *rest, **kwargs):
    _unsupported("export")


def dynamo_export(model, *model_args, **kwargs):
    _unsupported("dynamo_export")
