"""Shape and view ops: reshape/view, transpose/permute, squeeze/unsqueeze, expand, cat/stack,
split/chunk/unbind, flip, repeat, and casts (``to``, ``clone``, ``contiguous``).

View ops (``is_view=True``) return tensors that share storage and the version counter with
their input. Backward of a view is the inverse reshaping of the gradient; ``expand`` returns
the gradient as is, and the engine sums it back to the input's shape.
"""

import builtins
import operator

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _wrap_dim
from .._typeinfo import contiguous_format, memory_layout
from ..backend import array_module
from ._declare import declare
from ._inplace import _restride_
from ._registry import Op, apply
from ._registry import LINEAR


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(operator.index(s) for s in shape)


def _sizes_or_keyword(op, args, name, value):
    """The sizes of ``x.view(2, 3)`` / ``x.view((2, 3))`` (``args``), or of PyTorch's keyword
    spelling ``x.view(size=(2, 3))`` (``value`` under ``name``); not both. As in PyTorch, the
    keyword takes a sequence, not a bare int."""
    if value is None:
        return args
    if args:
        raise TypeError(f"{op}() got multiple values for argument '{name}'")
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{op}(): argument '{name}' must be tuple of ints, not {type(value).__name__}")
    return (tuple(value),)


def _infer_shape(shape, numel, op, in_shape):
    """Resolve one -1 in ``shape`` and check the element count."""
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred (got {list(shape)})")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"{op}: invalid shape dimension {s} in {list(shape)}")
            known *= s
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(
                f"{op}: shape '{list(shape)}' is invalid for input of size {numel} (input shape {list(in_shape)})"
            )
        shape = shape[: neg[0]] + (numel // known,) + shape[neg[0] + 1 :]
    elif known != numel:
        raise RuntimeError(
            f"{op}: shape '{list(shape)}' is invalid for input of size {numel} (input shape {list(in_shape)})"
        )
    return shape


# --------------------------------------------------------------------------- reshape / view
def _view_fwd(xp, x, shape, in_shape):
    out = x.reshape(shape)
    if out.size and not xp.may_share_memory(out, x):
        raise RuntimeError(
            f"view size is not compatible with input tensor's size and stride (input shape "
            f"{list(in_shape)}, requested {list(shape)}): at least one dimension spans across two "
            f"contiguous subspaces. Use .reshape(...) instead."
        )
    return out


def _view_vjp(g, shape, in_shape):
    return g.reshape(in_shape)


VIEW = Op("view", _view_fwd, _view_vjp, jvp=LINEAR, is_view=True)


def _reshape_fwd(xp, x, shape, in_shape):
    out = x.reshape(shape)
    # NumPy may still return a view of a non-contiguous input (a slice of each row, say); this
    # op's result is not linked to x as a view, so it must not share x's memory: an in-place
    # change of one would silently change the other, saved values included
    if out.size and xp.may_share_memory(out, x):
        return out.copy()
    return out


RESHAPE = Op("reshape", _reshape_fwd, _view_vjp, jvp=LINEAR, node_name="ViewBackward0")


def view(input, *args, size=None, dtype=None):
    """Same data, new shape, no copy (an error if the strides do not allow it): ``x.view(2, 3)``,
    ``x.view((2, 3))`` or ``x.view(size=(2, 3))``. ``x.view(dtype)`` reinterprets the bytes."""
    if dtype is not None:
        if args or size is not None:
            raise TypeError("view() takes either a dtype or a size, not both")
        return view_as_dtype(input, dtype)
    shape = _sizes_or_keyword("view", args, "size", size)
    if len(shape) == 1 and isinstance(shape[0], _dtype.dtype):
        return view_as_dtype(input, shape[0])
    in_shape = input._data.shape
    shape = _infer_shape(_shape_arg(shape), input._data.size, "view", in_shape)
    return apply(VIEW, (input,), (shape, in_shape))


def reshape(input, *args, shape=None):
    """Same data, new shape: a view when the strides allow it, else a copy. The shape comes as
    ints, one sequence, or ``shape=``."""
    shape = _sizes_or_keyword("reshape", args, "shape", shape)
    in_shape = input._data.shape
    shape = _infer_shape(_shape_arg(shape), input._data.size, "reshape", in_shape)
    if shape == in_shape:
        return apply(VIEW, (input,), (shape, in_shape))
    data = input._data
    if data.flags.c_contiguous or data.ndim <= 1 or _viewable(in_shape, data.strides, shape):
        return apply(VIEW, (input,), (shape, in_shape))
    return apply(RESHAPE, (input,), (shape, in_shape))


def _viewable(shape, strides, new_shape):
    """Whether an array of ``shape`` and ``strides`` can take ``new_shape`` without a copy: each
    run of dims that are laid out as one (a stride equal to the next dim's extent) must be
    split or merged by the new shape on its own, size-1 dims being free."""
    if 0 in shape:
        return True
    k = len(new_shape) - 1
    run_stride = strides[-1]
    run = have = 1
    for d in range(len(shape) - 1, -1, -1):
        run *= shape[d]
        if d == 0 or (shape[d - 1] != 1 and strides[d - 1] != run * run_stride):
            # dims d.. form one block of ``run`` elements: new dims must cover exactly it
            while k >= 0 and (have < run or new_shape[k] == 1):
                have *= new_shape[k]
                k -= 1
            if have != run:
                return False
            if d > 0:
                run_stride = strides[d - 1]
                run = have = 1
    return k == -1


def view_as(input, other):
    return view(input, other._data.shape)


def reshape_as(input, other):
    return reshape(input, other._data.shape)


def view_as_dtype(input, dtype):
    d = _dtype.to_dtype(dtype)
    if input._rg:
        raise RuntimeError("view(dtype) is not differentiable")
    t = Tensor._make(input._data.view(d.np), None, False)
    t._vc = input._version_counter()
    t._base = input._base if input._base is not None else input
    return t


def flatten(input, start_dim=0, end_dim=-1):
    nd = input._data.ndim
    if nd == 0:
        return reshape(input, (1,))
    s = _wrap_dim(start_dim, nd, "flatten")
    e = _wrap_dim(end_dim, nd, "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = input._data.shape
    n = 1
    for d in shape[s : e + 1]:
        n *= d
    return reshape(input, shape[:s] + (n,) + shape[e + 1 :])


def unflatten(input, dim, sizes):
    shape = input._data.shape
    d = _wrap_dim(dim, len(shape), "unflatten")
    sizes = _infer_shape(tuple(sizes), shape[d], "unflatten", shape)
    return view(input, shape[:d] + sizes + shape[d + 1 :])


def ravel(input):
    return reshape(input, (-1,))


# --------------------------------------------------------------------------- squeeze / unsqueeze
def squeeze(input, dim=None):
    shape = input._data.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        listed = [_wrap_dim(d, len(shape), "squeeze") for d in (dim if isinstance(dim, (tuple, list)) else (dim,))]
        dims = set(listed)
        if len(dims) != len(listed):
            raise RuntimeError(f"squeeze: a dim appears multiple times in the list of dims {list(dim)}")
        new = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
    return apply(VIEW, (input,), (new, shape))


def unsqueeze(input, dim):
    shape = input._data.shape
    d = _wrap_dim(dim, len(shape) + 1, "unsqueeze")
    return apply(VIEW, (input,), (shape[:d] + (1,) + shape[d:], shape))


# --------------------------------------------------------------------------- transpose / permute
def _permute(xp, x, perm):
    return x.transpose(perm)


def _permute_vjp(g, perm):
    inverse = [0] * len(perm)
    for i, p in enumerate(perm):
        inverse[p] = i
    return g.permute(tuple(inverse))


PERMUTE = Op("permute", _permute, _permute_vjp, jvp=LINEAR, is_view=True)


def permute(input, *args, dims=None):
    """Reorder the dims: ``x.permute(2, 0, 1)``, ``x.permute((2, 0, 1))`` or ``dims=(2, 0, 1)``."""
    nd = input._data.ndim
    dims = _shape_arg(_sizes_or_keyword("permute", args, "dims", dims))
    perm = tuple(_wrap_dim(d, nd, "permute") for d in dims)
    if len(perm) != nd or len(set(perm)) != nd:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not "
            f"match the length of the desired ordering of dimensions i.e. input.dim() "
            f"= {nd} is not equal to len(dims) = {len(perm)}"
            if len(perm) != nd
            else f"permute(): duplicate dims are not allowed: {list(dims)}"
        )
    return apply(PERMUTE, (input,), (perm,))


def transpose(input, dim0, dim1):
    nd = input._data.ndim
    if nd == 0:
        return apply(VIEW, (input,), ((), ()))
    d0 = _wrap_dim(dim0, nd, "transpose")
    d1 = _wrap_dim(dim1, nd, "transpose")
    perm = list(range(nd))
    perm[d0], perm[d1] = perm[d1], perm[d0]
    return apply(PERMUTE, (input,), (tuple(perm),))


def swapaxes(input, axis0, axis1):
    """``transpose`` under NumPy's name and parameter names."""
    return transpose(input, axis0, axis1)


def swapdims(input, dim0, dim1):
    """``transpose`` under another name."""
    return transpose(input, dim0, dim1)


def t(input):
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    return transpose(input, 0, 1) if input._data.ndim == 2 else input


def movedim(input, source, destination):
    nd = input._data.ndim
    src = [_wrap_dim(s, nd) for s in (source if isinstance(source, (tuple, list)) else (source,))]
    dst = [_wrap_dim(d, nd) for d in (destination if isinstance(destination, (tuple, list)) else (destination,))]
    order = [i for i in range(nd) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, tuple(order))


moveaxis = movedim


# --------------------------------------------------------------------------- expand
def _expand(xp, x, shape):
    return xp.broadcast_to(x, shape)


def _expand_vjp(g, shape):
    return g  # the engine sums g back to the input's shape


EXPAND = Op("expand", _expand, _expand_vjp, jvp=LINEAR, is_view=True)


def expand(input, *args, size=None):
    """A broadcast view of ``input`` at ``size`` (ints, one sequence, or ``size=``; -1 keeps a dim)."""
    sizes = _shape_arg(_sizes_or_keyword("expand", args, "size", size))
    shape = input._data.shape
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or "
            f"equal to the number of dimensions in the tensor ({len(shape)})"
        )
    out = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"expand: -1 is not allowed in a leading, non-existing dimension {i}")
            out.append(s)
            continue
        cur = shape[i - lead]
        if s == -1:
            s = cur
        elif cur != 1 and s != cur:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size "
                f"({cur}) at non-singleton dimension {i}.  Target sizes: {list(sizes)}.  "
                f"Tensor sizes: {list(shape)}"
            )
        out.append(s)
    out = tuple(out)
    if out == shape:
        return apply(VIEW, (input,), (out, shape))
    return apply(EXPAND, (input,), (out,))


def expand_as(input, other):
    return expand(input, other._data.shape)


def broadcast_to(input, size):
    """``input`` expanded to ``size`` (a view, as ``expand``); PyTorch names the argument size."""
    return expand(input, tuple(size))


def _broadcast_to_method(input, *args, size=None):
    """``Tensor.broadcast_to``, which takes the sizes as ints too: ``x.broadcast_to(2, 3)``."""
    return expand(input, *args, size=size)


def _broadcast_shape(name, shapes):
    """The broadcast of ``shapes``; a mismatch is PyTorch's RuntimeError naming the sizes."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        from ._registry import broadcast_mismatch

        raise RuntimeError(
            f"{name}: {broadcast_mismatch(shapes)} (shapes {', '.join(str(list(s)) for s in shapes)})"
        ) from None


def broadcast_shapes(*shapes):
    from .._size import Size

    return Size(_broadcast_shape("broadcast_shapes", [(s,) if isinstance(s, int) else tuple(s) for s in shapes]))


def broadcast_tensors(*tensors):
    shape = _broadcast_shape("broadcast_tensors", [t._data.shape for t in tensors])
    return tuple(expand(t, shape) for t in tensors)


# --------------------------------------------------------------------------- cat / stack / split
def _cat(xp, *arrays_sizes_dim):
    # args are (*arrays, *sizes, dim): n arrays, their n sizes along dim, then dim
    n = (len(arrays_sizes_dim) - 1) // 2
    return xp.concatenate(arrays_sizes_dim[:n], axis=arrays_sizes_dim[-1])


def _cat_vjp(g, needs, *sizes_dim):
    *sizes, dim = sizes_dim
    grads = []
    start = 0
    for size, need in zip(sizes, needs):
        grads.append(g.narrow(dim, start, size) if need else None)
        start += size
    return tuple(grads)


CAT = Op("cat", _cat, _cat_vjp, jvp=LINEAR, needs=True)


def cat(tensors, dim=0):
    """Join tensors along ``dim``; all must agree on the other dims. Dtypes are promoted."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    # PyTorch skips 1-D empty tensors (legacy behaviour)
    tensors = [t for t in tensors if not (t._data.ndim == 1 and t._data.shape[0] == 0)] or tensors[:1]
    ref = tensors[0]
    nd = ref._data.ndim
    if nd == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = _wrap_dim(dim, nd, "cat")
    for i, t in enumerate(tensors):
        if t._data.ndim != nd or builtins.any(
            a != b for j, (a, b) in enumerate(zip(t._data.shape, ref._data.shape)) if j != d
        ):
            raise RuntimeError(
                f"Sizes of tensors must match except in dimension {d}. Expected size "
                f"{list(ref._data.shape)} but got size {list(t._data.shape)} for "
                f"tensor number {i} in the list."
            )
    dt = _dtype.result_type(*tensors).np
    tensors = [t if t._data.dtype == dt else t.to(dt) for t in tensors]
    sizes = tuple(t._data.shape[d] for t in tensors)
    return apply(CAT, tuple(tensors), sizes + (d,))


concat = concatenate = cat


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(shape)} at "
                f"entry 0 and {list(t._data.shape)} at entry {i}"
            )
    d = _wrap_dim(dim, len(shape) + 1, "stack")
    return cat([unsqueeze(t, d) for t in tensors], d)


def hstack(tensors):
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors):
    return cat([t if t._data.ndim >= 2 else t.reshape(1, -1) for t in tensors], 0)


def narrow(input, dim, start, length):
    """The slice ``start:start+length`` of ``dim``, as a view."""
    from .indexing import getitem

    nd = input._data.ndim
    d = _wrap_dim(dim, nd, "narrow")
    size = input._data.shape[d]
    start = int(start)
    if not -size <= start <= size:
        raise IndexError(
            f"narrow(): start out of range (expected to be in range of [{-size}, {size}], "
            f"but got {start}) for dim {d} of a tensor of shape {list(input._data.shape)}"
        )
    if start < 0:
        start += size
    if length < 0 or start + length > size:
        raise RuntimeError(
            f"narrow(): start ({start}) + length ({length}) exceeds dimension size "
            f"({size}) of dim {d} in a tensor of shape {list(input._data.shape)}"
        )
    return getitem(input, (slice(None),) * d + (slice(start, start + length),))


def select(input, dim, index):
    from .indexing import getitem

    nd = input._data.ndim
    d = _wrap_dim(dim, nd, "select")
    size = input._data.shape[d]
    if not -size <= index < size:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(input._data.shape)} at dimension {d}"
        )
    return getitem(input, (slice(None),) * d + (int(index),))


def split(tensor, split_size_or_sections, dim=0):
    """Split into chunks of ``split_size`` (the last may be smaller) or of the listed sizes; views."""
    nd = tensor._data.ndim
    d = _wrap_dim(dim, nd, "split")
    size = tensor._data.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0 and size:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
        sections = [builtins.min(step, size - i) for i in range(0, size, step)] if size else [0]
    else:
        sections = list(split_size_or_sections)
        if builtins.sum(sections) != size:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {size} (input "
                f"tensor's size at dimension {d}), but got split_sizes={sections}"
            )
    out = []
    start = 0
    for s in sections:
        out.append(narrow(tensor, d, start, s))
        start += s
    return tuple(out)


def unsafe_split(input, split_size, dim=0):
    """``split`` (PyTorch's unsafe form differs only in autograd bookkeeping it skips)."""
    return split(input, split_size, dim)


def _split_method(self, split_size, dim=0):
    """``Tensor.split(split_size, dim=0)``: ``split`` under the method's parameter name."""
    return split(self, split_size, dim)


def tensor_split(input, indices_or_sections, dim=0):
    d = _wrap_dim(dim, input._data.ndim, "tensor_split")
    size = input._data.shape[d]
    if isinstance(indices_or_sections, int):
        n = indices_or_sections
        q, r = divmod(size, n)
        sections = [q + 1] * r + [q] * (n - r)
    else:
        bounds = [0] + [builtins.min(builtins.max(int(i), 0), size) for i in indices_or_sections] + [size]
        sections = [builtins.max(b - a, 0) for a, b in zip(bounds, bounds[1:])]
    return split(input, sections, d)


def chunk(input, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0")
    d = _wrap_dim(dim, input._data.ndim, "chunk")
    size = input._data.shape[d]
    step = -(-size // chunks) if size else 1
    return split(input, step, d)


def unbind(input, dim=0):
    d = _wrap_dim(dim, input._data.ndim, "unbind")
    return tuple(select(input, d, i) for i in range(input._data.shape[d]))


# --------------------------------------------------------------------------- flip, roll, repeat
def _flip(xp, x, dims):
    return xp.flip(x, axis=dims).copy(order="K")  # a new tensor, as in PyTorch (not a view)


FLIP = Op("flip", _flip, lambda g, dims: g.flip(dims), jvp=LINEAR)


def flip(input, *args, dims=None):
    """Reverse the order of the elements along ``dims`` (ints, one sequence, or ``dims=``)."""
    dims = _shape_arg(_sizes_or_keyword("flip", args, "dims", dims))
    nd = input._data.ndim
    return apply(FLIP, (input,), (tuple(_wrap_dim(d, nd, "flip") for d in dims),))


def fliplr(input):
    return flip(input, 1)


def flipud(input):
    return flip(input, 0)


def _roll(xp, x, shifts, dims):
    return xp.roll(x, shifts, axis=dims)


ROLL = Op("roll", _roll, lambda g, shifts, dims: roll(g, tuple(-s for s in shifts), dims), jvp=LINEAR)


def roll(input, shifts, dims=None):
    if dims is None:
        return roll(input.flatten(), shifts, 0).view(input._data.shape)
    shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    return apply(ROLL, (input,), (shifts, dims))


def repeat(input, *args, repeats=None):
    """Tile the tensor ``sizes[i]`` times along dim i (leading new dims allowed); the counts come
    as ints, one sequence, or ``repeats=``."""
    sizes = _shape_arg(_sizes_or_keyword("repeat", args, "repeats", repeats))
    shape = input._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    shape = (1,) * (len(sizes) - len(shape)) + shape
    x = input.reshape(shape)
    # interleave a new axis of size r before each dim, broadcast it, then merge the pairs
    inter = tuple(v for s in shape for v in (1, s))
    big = tuple(v for r, s in zip(sizes, shape) for v in (r, s))
    out = x.reshape(inter).expand(big).reshape(tuple(r * s for r, s in zip(sizes, shape)))
    # PyTorch's repeat always returns new memory; the reshape above is still a (possibly
    # stride-0, read-only) view of the input when the repeated dims had size 1
    if array_module(out._data).may_share_memory(out._data, input._data):
        out = out.clone(memory_format=contiguous_format)
    return out


def tile(input, *args, dims=None):
    """Repeat ``input`` ``dims`` times along each dim (``x.tile(2, 3)``, ``tile(x, (2, 3))`` or
    ``dims=(2, 3)``); missing leading counts are 1."""
    dims = _sizes_or_keyword("tile", args, "dims", dims)
    dims = tuple(dims[0]) if len(dims) == 1 and not isinstance(dims[0], int) else dims
    if len(dims) < input._data.ndim:
        dims = (1,) * (input._data.ndim - len(dims)) + dims
    return repeat(input, dims)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element ``repeats`` times (an int, or one count per element) along ``dim``
    (over the flattened input when dim is None). With one argument, ``repeat_interleave(r)``
    repeats each index i of the 1-D count tensor r r[i] times: ``[0, 0, 1, 2, 2, 2]`` for
    r = [2, 1, 3]. ``output_size``, when given, must be the length of the result along dim."""
    if repeats is None:
        counts = input
        if counts._data.ndim > 1 or counts._data.dtype.kind not in "iu":
            raise RuntimeError(
                f"repeat_interleave(repeats): repeats must be a 0-d or 1-d integer tensor "
                f"(got shape {list(counts.shape)} and dtype {counts.dtype})"
            )
        xp = array_module(counts._data)
        idx = Tensor._make(xp.arange(counts._data.size, dtype=np.int64), None, False)
        return repeat_interleave(idx, counts.reshape(-1), 0, output_size=output_size)
    if dim is None:
        input, dim = input.flatten(), 0
    d = _wrap_dim(dim, input._data.ndim, "repeat_interleave")
    if isinstance(repeats, Tensor) and repeats._data.ndim == 0:
        repeats = int(repeats.item())
    if isinstance(repeats, int):
        shape = input._data.shape
        _check_output_size(output_size, shape[d] * repeats)
        x = unsqueeze(input, d + 1)
        x = x.expand(shape[: d + 1] + (repeats,) + shape[d + 1 :])
        return x.reshape(shape[:d] + (shape[d] * repeats,) + shape[d + 1 :])
    from .indexing import index_select

    reps = repeats._data if isinstance(repeats, Tensor) else np.asarray(repeats)
    if reps.shape != (input._data.shape[d],):
        raise RuntimeError(
            f"repeat_interleave: repeats must have the same size as input along dim "
            f"{d} ({input._data.shape[d]}), but got repeats of shape {list(reps.shape)}"
        )
    if (reps < 0).any():
        raise RuntimeError("repeat_interleave: repeats can not be negative")
    xp = array_module(input._data)
    idx = xp.repeat(xp.arange(input._data.shape[d]), xp.asarray(reps))
    _check_output_size(output_size, int(idx.shape[0]))
    return index_select(input, d, Tensor._make(idx, None, False))


def _check_output_size(output_size, size):
    if output_size is not None and output_size != size:
        raise RuntimeError(
            f"repeat_interleave: allocated size ({output_size}) does not match the required size ({size}) of the output"
        )


# --------------------------------------------------------------------------- casts and copies
def _to_dtype(xp, x, np_dtype):
    if x.dtype.kind == "c" and np_dtype.kind != "c":
        import warnings

        warnings.warn("Casting complex values to real discards the imaginary part", UserWarning, stacklevel=2)
        x = x.real
    return x.astype(np_dtype)


def _to_dtype_vjp(g, np_dtype):
    return g  # the engine casts the gradient back to the input's dtype


TO_COPY = Op("_to_copy", _to_dtype, _to_dtype_vjp, jvp=LINEAR, node_name="ToCopyBackward0")


def to_dtype(input, dtype, copy=False):
    npd = _dtype.to_np(dtype)
    if input._data.dtype == npd and not copy:
        return input
    if npd.kind not in "fcV" and input._rg:  # an integer or bool result is not differentiable
        from ..autograd.grad_mode import no_grad

        with no_grad():
            return apply(TO_COPY, (input,), (npd,))
    return apply(TO_COPY, (input,), (npd,))


def _clone(xp, x, layout):
    """A copy laid out as ``layout`` says: "K" keeps the input's order of strides (PyTorch's
    preserve_format), "C" is row-major; a permutation gives channels-last layouts (the copy is
    row-major in that dim order, then viewed back)."""
    if isinstance(layout, str):
        return x.copy(order=layout)
    inverse = tuple(sorted(range(len(layout)), key=layout.__getitem__))
    return x.transpose(layout).copy().transpose(inverse)


CLONE = Op("clone", _clone, lambda g, layout: g, jvp=LINEAR)


def clone(input, *, memory_format=None):
    """A copy of ``input`` (differentiable); by default with the same order of strides, as
    PyTorch's ``preserve_format``."""
    return apply(CLONE, (input,), (memory_layout(input._data.ndim, memory_format, "clone", input._data.shape),))


def contiguous(input, memory_format=None):
    """``input`` itself when it is already laid out as ``memory_format`` asks (row-major by
    default), else a copy that is."""
    from .._typeinfo import contiguous_format

    layout = memory_layout(
        input._data.ndim, contiguous_format if memory_format is None else memory_format, "contiguous", input._data.shape
    )
    if layout == "K":
        raise RuntimeError("contiguous(): preserve memory format is unsupported by the contiguous operator")
    a = input._data
    if layout == "C":
        return input if a.flags.c_contiguous else apply(CLONE, (input,), ("C",))
    if a.transpose(layout).flags.c_contiguous:
        return input
    return apply(CLONE, (input,), (layout,))


def _move(xp, x, dst, src):
    from ..backend import to_device_array

    return to_device_array(x, dst)


MOVE = Op("to_device", _move, lambda g, dst, src: to_device(g, src), jvp=LINEAR, node_name="ToCopyBackward0")


def to_device(input, device):
    from .._device import to_device as _dev

    dst = _dev(device)
    src = input.device
    if dst == src:
        return input
    return apply(MOVE, (input,), (dst, src))


# --------------------------------------------------------------------------- in place: a new view of itself
def squeeze_(self, dim=None):
    return _restride_(self, "squeeze", squeeze, dim)


def unsqueeze_(self, dim):
    return _restride_(self, "unsqueeze", unsqueeze, dim)


def t_(self):
    return _restride_(self, "t", t)


def transpose_(self, dim0, dim1):
    return _restride_(self, "transpose", transpose, dim0, dim1)


def swapaxes_(self, axis0, axis1):
    return _restride_(self, "swapaxes", transpose, axis0, axis1)


def swapdims_(self, dim0, dim1):
    return _restride_(self, "swapdims", transpose, dim0, dim1)


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(reshape, method=True)
declare(view_as_dtype)
declare(flatten, method=True)
declare(unflatten, method=True)
declare(ravel, method=True)
declare(squeeze, method=True, inplace=squeeze_)
declare(unsqueeze, method=True, inplace=unsqueeze_)
declare(permute, method=True)
declare(transpose, method=True, inplace=transpose_)
declare(swapaxes, method=True, inplace=swapaxes_)
declare(swapdims, method=True, inplace=swapdims_)
declare(t, method=True, inplace=t_)
declare(movedim, aliases=("moveaxis",), method=True)
declare(broadcast_to, method=_broadcast_to_method)
declare(broadcast_shapes)
declare(broadcast_tensors)
declare(cat, aliases=("concat", "concatenate"), out=True)
declare(stack, out=True)
declare(hstack, out=True)
declare(vstack, out=True)
declare(narrow, method=True)
declare(select, method=True)
declare(split, method=_split_method)
declare(unsafe_split, method=True)
declare(tensor_split, method=True)
declare(chunk, aliases=("unsafe_chunk",), method=True)
declare(unbind, method=True)
declare(flip, method=True)
declare(fliplr, method=True)
declare(flipud, method=True)
declare(roll, method=True)
declare(repeat_interleave, method=True)
declare(tile, method=True)
declare(clone, method=True)
declare(view, torch=False, method=True)
declare(view_as, torch=False, method=True)
declare(reshape_as, torch=False, method=True)
declare(expand, torch=False, method=True)
declare(expand_as, torch=False, method=True)
declare(repeat, torch=False, method=True)
declare(contiguous, torch=False, method=True)
