"""Views and in-place ops: keeping the gradient history of a base and its views consistent.

A view shares its base's storage and version counter (``ops._registry._link_view``); ``_base``
is always the root tensor that owns the storage. Views made while grad mode is on are tracked
weakly on the shared version counter (``VersionCounter.views``), so that when the base's history changes the views'
``grad_fn`` can be regenerated (PyTorch does this lazily, on access; here it is done at the
in-place op, which keeps ``grad_fn`` a plain attribute on the hot path).

Copy-slices. An in-place op ``f`` through a view ``v`` of base ``b`` changes ``b`` as well:

    b' = b with the region of v replaced by r = f(v, others)

so ``b`` is rebased onto a CopySlices node with two inputs, the old ``b`` and ``r``:

    d b'/d b  : g with the region of v zeroed      (those values were overwritten)
    d b'/d r  : g restricted to the region of v    (which then flows through f to v, hence to
                                                     the old b, and to f's other inputs)

and every tracked view of ``b`` (``v`` included) gets a fresh ``AsStridedBackward0`` node that
takes its region of the new ``b``. The region is described by the flat (C-order) positions of
the view's elements inside the base, computed from the arrays' addresses and strides, so any
chain of views (slices, transposes, reshapes, diagonals, views of views) is handled alike.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from ..backend import to_device_array
from ..ops._registry import COMPLEX_AUTOGRAD, Op, _edge, apply
from .graph import OpNode

if TYPE_CHECKING:
    from .._tensor import Tensor
    from .graph import Node


def is_tracked(view: Tensor) -> bool:
    views = view._vc.views if view._vc is not None else None
    return views is not None and any(r() is view for r in views)


def _address(a: Any) -> int:
    if type(a) is np.ndarray:
        return a.__array_interface__["data"][0]
    return a.data.ptr


def _offsets(shape: tuple[int, ...], strides: tuple[int, ...]) -> np.ndarray:
    """Byte offset of every element of an array with ``shape`` and ``strides`` (C order)."""
    off = np.zeros(shape, dtype=np.int64)
    for d, (n, s) in enumerate(zip(shape, strides)):
        ix = np.arange(n, dtype=np.int64) * s
        off = off + ix.reshape((n,) + (1,) * (len(shape) - d - 1))
    return off


def positions(base: Tensor, view: Tensor) -> Any:
    """Flat C-order positions, inside ``base``'s array, of the elements of ``view``'s array."""
    return _positions(base._data, view._data, base.device)


def _positions(b: Any, v: Any, device: Any) -> Any:
    item = b.itemsize
    rel = _offsets(v.shape, v.strides) + (_address(v) - _address(b))
    if b.flags.c_contiguous:
        pos = rel // item
    else:
        addr = _offsets(b.shape, b.strides).reshape(-1)
        order = np.argsort(addr, kind="stable")
        sorted_addr = addr[order]
        k = np.clip(np.searchsorted(sorted_addr, rel.reshape(-1)), 0, max(addr.size - 1, 0))
        if addr.size and not np.array_equal(sorted_addr[k], rel.reshape(-1)):
            raise RuntimeError("internal error: a view's elements could not be located in its base")
        pos = order[k].reshape(v.shape) if addr.size else rel
    return to_device_array(pos, device)


# ----------------------------------------------------------------------------- the two nodes
def _as_strided_vjp(g: Tensor, pos: Any, base_shape: tuple[int, ...]) -> Tensor:
    """A view's gradient, scattered (and summed at repeated positions) into its base's shape."""
    n = 1
    for s in base_shape:
        n *= s
    return g.new_zeros((n,)).index_put((pos,), g, accumulate=True).reshape(base_shape)


def _as_strided_fwd(xp: ModuleType, x: Any, pos: Any, base_shape: tuple[int, ...]) -> Any:
    return x.reshape(-1)[pos]


def _copy_slices_fwd(xp: ModuleType, base: Any, region: Any, pos: Any) -> Any:
    return base  # the storage already holds the written values: nothing to compute


def _copy_slices_vjp(g: Tensor, needs: tuple[bool, ...], pos: Any) -> tuple[Tensor | None, Tensor | None]:
    flat = g.reshape(-1)
    g_base = flat.index_put((pos,), 0.0).reshape(g.shape) if needs[0] else None
    g_region = flat[pos] if needs[1] else None
    return g_base, g_region


AS_STRIDED = Op("as_strided", _as_strided_fwd, _as_strided_vjp, node_name="AsStridedBackward0")
COPY_SLICES = Op("copy_slices", _copy_slices_fwd, _copy_slices_vjp, needs=True, node_name="CopySlices")
# both move values without arithmetic: their gradients hold for complex tensors as they are
COMPLEX_AUTOGRAD.update((AS_STRIDED, COPY_SLICES))
# view_as_real and view_as_complex, registered by ops/complex.py (which makes every view they
# give, so they are set before a view with another element type than its base can exist)
VIEW_AS_REAL: Op | None = None
VIEW_AS_COMPLEX: Op | None = None


# ----------------------------------------------------------------------------- history changes
def set_history(t: Tensor, node: Node, out_nr: int = 0) -> None:
    """Make ``t`` output ``out_nr`` of ``node``; ``retain_grad`` follows the tensor."""
    old = t.grad_fn
    if t._retains and old is not None and old._extra is not None:
        retains = old._extra.get("retains")
        ref = retains.pop(t._out_nr, None) if retains else None
        if ref is not None:
            node._extras().setdefault("retains", {})[out_nr] = ref
    t.grad_fn = node
    t._out_nr = out_nr
    t._rg = True


def refresh_views(base: Tensor, skip: Tensor | None = None) -> None:
    """Give every tracked view of ``base`` a node that takes its region of ``base``'s history."""
    vc = base._vc
    views = vc.views if vc is not None else None
    if vc is None or not views:
        return
    live = []
    for ref in list(views):  # (regenerating a view may track new, temporary ones)
        v = ref()
        if v is None:
            continue
        live.append(ref)
        if v is not skip and v._base is base:
            set_history(v, _view_node(base, v))
    vc.views = live


def _view_node(base: Tensor, view: Tensor) -> Node:
    if view._data.itemsize != base._data.itemsize:
        return _cross_view_node(base, view)
    b = base._data
    node = OpNode(AS_STRIDED, (_edge(base),), (positions(base, view), b.shape), (b.shape,), (b.dtype,))
    node._saved = ()
    return node


def _real_form_ops() -> tuple[Op, Op]:
    assert VIEW_AS_REAL is not None and VIEW_AS_COMPLEX is not None, "ops/complex.py registers them"
    return VIEW_AS_REAL, VIEW_AS_COMPLEX


# A view with another element type than its base: a real view of a complex base (view_as_real)
# or a complex view of a real base (view_as_complex). Both sides are then taken as real arrays
# (a complex element as its two parts), where a view is a set of positions again.
def _cross_view_node(base: Tensor, view: Tensor) -> Node:
    """The node that takes ``view``'s region of ``base``'s history, through the real form."""
    as_real, as_complex = _real_form_ops()
    if base._data.dtype.kind == "c":  # a real view: its region of view_as_real(base)
        real = apply(as_real, (base,))
        r = real._data
        node = apply(AS_STRIDED, (real,), (_positions(r, view._data, base.device), r.shape)).grad_fn
    else:  # a complex view: its parts' region of base, seen as complex
        parts = _positions(base._data, apply(as_real, (view.detach(),))._data, base.device)
        node = apply(as_complex, (apply(AS_STRIDED, (base,), (parts, base._data.shape)),)).grad_fn
    assert node is not None, "the base has a history, so the view's region records a node"
    return node


def check_view_inplace(view: Tensor, op: str) -> None:
    """Refuse in-place through views whose gradient PyTorch also refuses to define."""
    base = view._base
    if base.grad_fn is None and base._rg:
        raise RuntimeError(
            f"a view of a leaf Variable that requires grad is being used in an in-place operation "
            f"({op}_ on a view of shape {list(view._data.shape)} of a leaf of shape "
            f"{list(base._data.shape)}). Modify the leaf under `with torch.no_grad():`, or clone() it "
            f"first."
        )
    if view.grad_fn is None and not is_tracked(view):
        raise RuntimeError(
            f"A view was created in no_grad mode and is being modified inplace with grad mode "
            f"enabled ({op}_ on a view of shape {list(view._data.shape)}). Given that this use case "
            f"is ambiguous and error-prone, it is forbidden. You can clarify your code by moving "
            f"both the view and the inplace either both inside the no_grad block (if you don't want "
            f"the inplace to be tracked) or both outside (if you want the inplace to be tracked)."
        )


def rebase_view(view: Tensor, result: Tensor) -> None:
    """In-place op through ``view`` gave ``result`` (already written): rebase the base onto a
    CopySlices node, then regenerate the views' history from it."""
    base = view._base
    if view._data.itemsize != base._data.itemsize:
        node = _cross_copy_slices(base, view, result)
    else:
        node = apply(COPY_SLICES, (base, result), (positions(base, view),)).grad_fn
    assert node is not None, "result has a grad_fn, so CopySlices records a node"
    set_history(base, node)
    refresh_views(base, skip=view)
    set_history(view, _view_node(base, view))


def _cross_copy_slices(base: Tensor, view: Tensor, result: Tensor) -> Node | None:
    """CopySlices for a view with another element type than its base, on the real forms."""
    as_real, as_complex = _real_form_ops()
    if base._data.dtype.kind == "c":  # result is real: it replaces its region of view_as_real(base)
        real = apply(as_real, (base,))
        pos = _positions(real._data, view._data, base.device)
        return apply(as_complex, (apply(COPY_SLICES, (real, result), (pos,)),)).grad_fn
    # result is complex: its parts replace the region of base that the view's parts take
    pos = _positions(base._data, apply(as_real, (view.detach(),))._data, base.device)
    return apply(COPY_SLICES, (base, apply(as_real, (result,))), (pos,)).grad_fn
