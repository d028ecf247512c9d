"""Collation: a list of samples into one batch of tensors."""

import collections.abc

import numpy as np

from ..._tensor import Tensor
from ...autograd.grad_mode import _state as _grad_state
from ...backend import array_module

__all__ = ["default_collate", "default_convert"]

_ERR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _stack(tensors):
    shape = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != shape:
            raise RuntimeError(
                f"default_collate: stack expects each tensor to be equal size, but "
                f"got {list(shape)} at entry 0 and {list(t._data.shape)} at entry {i}"
            )
    if _grad_state.enabled and any(t._rg for t in tensors):
        from ...ops.shape import stack

        return stack(tensors)
    xp = array_module(tensors[0]._data)
    return Tensor._make(xp.stack([t._data for t in tensors]), None, False)


def default_collate(batch):
    """Stack a list of samples into a batch, recursively:

    * tensors -> stacked along a new first dim; NumPy arrays -> tensors, stacked;
    * floats -> float64 tensor; ints (and bools) -> int64 (bool) tensor;
    * strings and bytes -> left as a list;
    * dicts -> a dict of collated values; named tuples -> the same named tuple of collated
      fields; other sequences (all of one length) -> a list of collated positions.
    """
    from ..._creation import tensor, from_numpy

    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack(batch)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "SaUO":
            raise TypeError(_ERR.format(elem.dtype))
        try:
            return from_numpy(np.stack(batch))
        except ValueError:
            raise RuntimeError(
                f"default_collate: stack expects each array to be equal size, got "
                f"shapes {sorted({tuple(b.shape) for b in batch})}"
            ) from None
    if isinstance(elem, np.generic) and not isinstance(elem, (np.str_, np.bytes_)):
        return from_numpy(np.asarray(batch))
    if isinstance(elem, float):
        return tensor(batch, dtype=_float64())
    if isinstance(elem, (bool, int)):
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        out = {key: default_collate([d[key] for d in batch]) for key in elem}
        if type(elem) is dict:
            return out
        try:
            return type(elem)(out)
        except TypeError:
            return out
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        n = len(elem)
        if any(len(e) != n for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError(_ERR.format(type(elem)))


def _float64():
    from ..._dtype import float64

    return float64


def default_convert(data):
    """Without batching: NumPy arrays become tensors (recursively in dicts and sequences);
    everything else is left as it is."""
    from ..._creation import from_numpy

    if isinstance(data, np.ndarray) and data.dtype.kind not in "SaUO":
        return from_numpy(data)
    if isinstance(data, np.generic) and not isinstance(data, (np.str_, np.bytes_)):
        return from_numpy(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return [default_convert(d) for d in data]
    return data
