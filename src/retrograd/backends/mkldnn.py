"""``torch.backends.mkldnn``: retrograd does not use oneDNN (MKL-DNN); ``enabled`` is recorded."""

enabled = True

__all__ = ["enabled", "is_available"]


def is_available():
    return False
