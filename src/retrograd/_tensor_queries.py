"""Small Tensor queries and conversions PyTorch code calls: ``type_as``, ``nbytes``,
``get_device``, ``is_signed``, ``is_nonzero`` ... (bound in ``_tensor_methods.py``)."""


def type_as(self, other):
    """This tensor cast to ``other``'s dtype and moved to its device (a no-op when both match)."""
    return self.to(device=other.device, dtype=other.dtype)


def nbytes(self):
    return self._data.nbytes


def itemsize(self):
    return self._data.itemsize


def get_device(self):
    """The cuda device index, or -1 for a CPU tensor."""
    dev = self.device
    return -1 if dev.type == "cpu" else (dev.index or 0)


def is_signed(self):
    return self._data.dtype.kind in "ifV"


def is_complex(self):
    return self._data.dtype.kind == "c"


def is_inference(self):
    """False: retrograd's inference_mode turns recording off but does not mark tensors."""
    return False


def is_nonzero(input):
    """The truth value of a one-element tensor; an error for any other size."""
    n = input._data.size
    if n == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if n > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input._data.reshape(()))


def is_same_size(self, other):
    return self._data.shape == other._data.shape


def positive(input):
    """``input`` itself (unary plus); an error for bool tensors, as in PyTorch."""
    if input._data.dtype.kind == "b":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input
