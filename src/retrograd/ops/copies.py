"""The *_copy functions (a view op whose result is a fresh tensor), the unsafe_* aliases,
detach and fill: each is an existing op followed by a copy, so gradients are those of the op."""

from .._tensor import _wrap_dim
from . import shape as sh
from ._declare import declare


def _copying(fn, name):
    def copy_op(input, *args, **kwargs):
        out = fn(input, *args, **kwargs)
        if isinstance(out, (tuple, list)):
            return type(out)(o.clone() for o in out)
        return out.clone()

    copy_op.__name__ = name
    copy_op.__doc__ = f"``{fn.__name__}`` as new tensors (no views)."
    return copy_op


def _view_copy(input, *shape):
    return sh.view(input, *shape)


def _slice_copy(input, dim=0, start=None, end=None, step=1):
    from .indexing import getitem

    d = _wrap_dim(dim, input._data.ndim, "slice_copy")
    return getitem(input, (slice(None),) * d + (slice(start, end, step),))


def _unfold(input, dimension, size, step):
    from .strided import unfold

    return unfold(input, dimension, size, step)


def _as_strided(input, size, stride, storage_offset=None):
    from .strided import as_strided

    return as_strided(input, size, stride, storage_offset)


def _diagonal(input, offset=0, dim1=0, dim2=1):
    from .indexing import diagonal

    return diagonal(input, offset, dim1, dim2)


def _split_with_sizes(input, split_sizes, dim=0):
    from .strided import split_with_sizes

    return split_with_sizes(input, split_sizes, dim)


alias_copy = _copying(lambda input: input, "alias_copy")


detach_copy = _copying(lambda input: input.detach(), "detach_copy")


expand_copy = _copying(lambda input, size, *, implicit=False: sh.expand(input, size), "expand_copy")


permute_copy = _copying(sh.permute, "permute_copy")


select_copy = _copying(sh.select, "select_copy")


slice_copy = _copying(_slice_copy, "slice_copy")


split_copy = _copying(sh.split, "split_copy")


split_with_sizes_copy = _copying(_split_with_sizes, "split_with_sizes_copy")


squeeze_copy = _copying(sh.squeeze, "squeeze_copy")


t_copy = _copying(sh.t, "t_copy")


transpose_copy = _copying(sh.transpose, "transpose_copy")


unbind_copy = _copying(sh.unbind, "unbind_copy")


unfold_copy = _copying(_unfold, "unfold_copy")


unsqueeze_copy = _copying(sh.unsqueeze, "unsqueeze_copy")


view_copy = _copying(_view_copy, "view_copy")


diagonal_copy = _copying(_diagonal, "diagonal_copy")


as_strided_copy = _copying(_as_strided, "as_strided_copy")


unsafe_chunk = sh.chunk


unsafe_split = sh.split


unsafe_split_with_sizes = _split_with_sizes


def detach(input):
    return input.detach()


def fill(input, value):
    """A tensor like ``input`` filled with ``value`` (out of place; the gradient goes to value)."""
    from .inplace import fill_

    return fill_(sh.clone(input), value)


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(alias_copy, out=True)
declare(detach_copy, out=True)
declare(expand_copy, out=True)
declare(permute_copy, out=True)
declare(select_copy, out=True)
declare(slice_copy, out=True)
declare(split_copy, out=True)
declare(split_with_sizes_copy, out=True)
declare(squeeze_copy, out=True)
declare(t_copy, out=True)
declare(transpose_copy, out=True)
declare(unbind_copy, out=True)
declare(unfold_copy, out=True)
declare(unsqueeze_copy, out=True)
declare(view_copy, out=True)
declare(diagonal_copy, out=True)
declare(as_strided_copy, out=True)
declare(_split_with_sizes, name="unsafe_split_with_sizes", method=True)
declare(detach)
declare(fill)
