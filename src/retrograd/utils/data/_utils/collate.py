"""``collate``: PyTorch's general collation, dispatching on the type of the batch's first
element through ``collate_fn_map`` (a dict from a type, or a tuple of types, to
``fn(batch, *, collate_fn_map)``) and recursing into mappings, named tuples and sequences.
``default_collate_fn_map`` holds the leaf rules ``default_collate`` applies (tensors are
stacked, NumPy arrays and scalars become tensors, ints and floats tensors, strings stay lists),
so ``collate(batch, collate_fn_map=default_collate_fn_map)`` is ``default_collate(batch)``;
adding an entry for a type of one's own extends it.
"""

import collections.abc
import copy

import numpy as np

from ...._tensor import Tensor
from .._collate import _ERR, default_collate

__all__ = [
    "collate",
    "collate_tensor_fn",
    "collate_numpy_array_fn",
    "collate_numpy_scalar_fn",
    "collate_float_fn",
    "collate_int_fn",
    "collate_str_fn",
    "default_collate_fn_map",
]


def collate(batch, *, collate_fn_map=None):
    """Collate ``batch`` (a list of samples) by the rule ``collate_fn_map`` gives the first
    sample's type (an exact match first, then the first entry it is an instance of), else
    element-wise through mappings, named tuples and sequences; TypeError for anything else."""
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type, fn in collate_fn_map.items():
            if isinstance(elem, collate_type):
                return fn(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        values = {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem}
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update(values)
                return clone
            return elem_type(values)
        except TypeError:
            return values
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return elem_type(*(collate(list(samples), collate_fn_map=collate_fn_map) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [collate(list(samples), collate_fn_map=collate_fn_map) for samples in zip(*batch)]
        if isinstance(elem, tuple):
            return columns
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, column in enumerate(columns):
                    clone[i] = column
                return clone
            return elem_type(columns)
        except TypeError:
            return columns
    raise TypeError(_ERR.format(elem_type))


def collate_tensor_fn(batch, *, collate_fn_map=None):
    """Tensors stacked along a new first dim."""
    return default_collate(batch)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    """NumPy arrays (not of strings or objects) as tensors, collated by the map."""
    from ...._creation import as_tensor

    if batch[0].dtype.kind in "SaUO":
        raise TypeError(_ERR.format(batch[0].dtype))
    return collate([as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    """NumPy scalars as one tensor."""
    from ...._creation import as_tensor

    return as_tensor(np.asarray(batch))


def collate_float_fn(batch, *, collate_fn_map=None):
    """Floats as a float64 tensor."""
    return default_collate(batch)


def collate_int_fn(batch, *, collate_fn_map=None):
    """Ints as an int64 tensor."""
    return default_collate(batch)


def collate_str_fn(batch, *, collate_fn_map=None):
    """Strings (and bytes) left as the list."""
    return batch


default_collate_fn_map = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}
