"""Batching rules: how each op runs on a batch (JAX's design: a rule table keyed by the op).

A rule is ``rule(op, values, bdims, args, size) -> (physical result, its batch dim)``:
``values`` are the op's inputs with batched ones replaced by their physical tensors (batch at
``bdims[i]``; None for an unbatched input), ``args`` the op's non-tensor arguments as computed
for one example, ``size`` the batch size. Rules run retrograd ops on the physical tensors, so
autograd records through them and a lower vmap level batches them again.

The families:
- elementwise ops: the batch moved to the front and the examples' ranks aligned, then the op;
- reductions, softmax, cumulative and dim-taking ops: the batch in front, the dims shifted;
- shape ops (view, reshape, permute, expand, cat): their shape arguments gain the batch;
- window ops (pools, convolution with a shared weight): the batch folded into the first dim;
- matmul, linear, convolution with per-example weights (a grouped convolution), layer_norm,
  attention, embedding: their own rules.
An op without a rule runs once per example (a Python loop, stacked), with a one-time warning
naming it, as PyTorch does.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

from ..autograd._vmap_state import BatchedTensor, DataAccess, _Example, _vm, level_of, unwrap, wrap

Rule = Callable[[Any, list[Any], list[Any], tuple[Any, ...], int], tuple[Any, Any]]

RULES: dict[str, Rule] = {}
_warned: set[str] = set()


class NeedsLoop(Exception):
    """Raised when a function draws random numbers under randomness="different", or calls a
    function transform that has no batched form here (every one but grad): vmap then runs it
    once per example. The argument, when given, names the transform (for the warning)."""


# ----------------------------------------------------------------------------- dispatch
def dispatch(op: Any, inputs: Sequence[Any], args: tuple[Any, ...]) -> Any:
    """The batched result of ``op`` when some input is batched (None otherwise)."""
    level = level_of(inputs)
    if not level:
        return None
    for a in args:
        if type(a) is _Example:  # an argument computed from a batched tensor's example 0
            raise DataAccess(op.name)
    values = []
    bdims = []
    for t in inputs:
        v, d = unwrap(t, level)
        values.append(v)
        bdims.append(d)
    size = _vm.sizes[level - 1]
    rule = RULES.get(op.name)
    if rule is None:
        out, bdim = fallback(op, values, bdims, args, size)
    else:
        out, bdim = rule(op, values, bdims, args, size)
    return wrap(out, bdim, level)


def fallback(op: Any, values: list[Any], bdims: list[Any], args: tuple[Any, ...], size: int) -> tuple[Any, Any]:
    """No rule: the op once per example, the results stacked (warned once per op)."""
    from ..ops.shape import stack

    if op.name not in _warned:
        _warned.add(op.name)
        warnings.warn(
            f"There is a performance drop because we have not yet implemented the batching rule for "
            f"{op.name}. Please file an issue describing your use case (vmap runs this op once per "
            f"example).",
            UserWarning,
            stacklevel=4,
        )
    outs = []
    for i in range(size):
        ins = [v.select(d, i) if d is not None else v for v, d in zip(values, bdims)]
        outs.append(_apply(op, ins, args))
    return stack(outs, 0), 0


def inplace(t: Any, op: str, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """An in-place op inside vmap: the result computed out of place by the rules, then copied
    into the physical tensor behind ``t``. Writing a batched value into a tensor that is not
    batched at that level is refused, as PyTorch does."""
    r = fn(t, *args, **kwargs)
    level = level_of([r])
    if not level:
        return t.copy_(r) if r is not t else t
    if not (type(t) is BatchedTensor and t._level == level):
        raise RuntimeError(
            f"vmap: {op}_(self, *extra_args) is not possible because there exists a Tensor `other` "
            f"in extra_args that has more elements than `self`. This happened due to `other` being "
            f"vmapped over but `self` not being vmapped over in a vmap. Please try to use "
            f"out-of-place operators instead of {op}_. If said operator is being called inside the "
            f"framework, please file a bug report instead."
        )
    dst = t._value.movedim(t._bdim, 0) if t._bdim else t._value
    src = r._value.movedim(r._bdim, 0) if r._bdim else r._value
    dst.copy_(src)
    return t


def class_targets_batched(
    fn: Callable[..., Any], input: Any, target: Any, weight: Any, ignore_index: int, reduction: str, **kw: Any
) -> Any:
    """cross_entropy/nll_loss (``fn``) with class-index targets batched by vmap: the examples
    folded into the loss's own batch dim with reduction 'none', then reduced per example
    ('mean' divides by the example's sum of target weights, ignored targets excluded)."""
    from ..ops.elementwise import where

    level = level_of([input, target, weight])
    size = _vm.sizes[level - 1]
    x, dx = unwrap(input, level)
    t, dt = unwrap(target, level)
    w, dw = unwrap(weight, level)
    if dw is not None:
        return _decomposed_loop(
            fn, level, [x, t, w], [dx, dt, dw], size, ignore_index=ignore_index, reduction=reduction, **kw
        )
    x = _front(x, dx, size)
    t = _front(t, dt, size)
    if x.dim() == 2:  # one sample per example: (B, C), targets (B,)
        loss = fn(x, t, w, ignore_index=ignore_index, reduction="none", **kw)
    else:  # (B, N, C, *d), targets (B, N, *d)
        n = x.shape[1]
        loss = fn(
            x.reshape((size * n,) + tuple(x.shape[2:])),
            t.reshape((size * n,) + tuple(t.shape[2:])),
            w,
            ignore_index=ignore_index,
            reduction="none",
            **kw,
        )
        loss = loss.reshape((size, n) + tuple(loss.shape[1:]))
    if reduction == "none":
        return wrap(loss, 0, level)
    rest = tuple(range(1, loss.dim()))
    total = loss.sum(rest) if rest else loss
    if reduction == "sum":
        return wrap(total, 0, level)
    valid = t != ignore_index
    if w is None:
        weights = valid.to(loss.dtype)
    else:
        weights = where(valid, w[t.clamp(min=0)], 0.0)
    denom = weights.sum(rest) if rest else weights
    return wrap(total / denom, 0, level)


def embedding_batched(fn: Callable[..., Any], input: Any, weight: Any, **kw: Any) -> Any:
    """embedding with batched indices: the rows for every example's indices at once (the batch
    stays where it is among the index dims); a weight batched at the same level runs per example."""
    level = level_of([input, weight])
    idx, di = unwrap(input, level)
    w, dw = unwrap(weight, level)
    size = _vm.sizes[level - 1]
    if dw is not None and kw.get("padding_idx") is None:
        # per-example tables (vmap(grad) of an embedding): one table of B*N rows, the indices
        # of example b offset by b*N
        from .._creation import arange

        w = _front(w, dw, size)
        n = w.shape[1]
        idx = _front(idx, di, size)
        offsets = (arange(size) * n).reshape((size,) + (1,) * (idx.dim() - 1))
        return wrap(fn(idx + offsets, w.reshape((size * n,) + tuple(w.shape[2:])), **kw), 0, level)
    if dw is not None:
        return _decomposed_loop(fn, level, [idx, w], [di, dw], size, **kw)
    return wrap(fn(idx, w, **kw), di, level)


def _decomposed_loop(
    fn: Callable[..., Any], level: int, values: list[Any], bdims: list[Any], size: int, **kw: Any
) -> Any:
    """``fn`` once per example (by keyword arguments), the results stacked at ``level``."""
    from ..ops.shape import stack

    outs = [fn(*[v.select(d, i) if d is not None else v for v, d in zip(values, bdims)], **kw) for i in range(size)]
    return wrap(stack(outs, 0), 0, level)


def random_draw() -> None:
    """Called before every random draw inside vmap: refused in "error" mode; in "different" mode
    the function is rerun once per example (NeedsLoop); "same" draws once for the batch."""
    mode = _vm.randomness[-1]
    if mode == "error":
        raise RuntimeError(
            "vmap: called random operation while in randomness error mode. Please either use "
            "the 'same' or 'different' randomness flags on vmap or perform the randomness "
            "operation out of vmap"
        )
    if mode == "different":
        raise NeedsLoop()


def elementwise_call(fn: Callable[..., Any], *operands: Any) -> Any:
    """A broadcasting elementwise function that works on arrays outside ``apply`` (the
    comparisons), called on the aligned physical tensors."""
    level = level_of(operands)
    size = _vm.sizes[level - 1]
    pairs = [unwrap(v, level) for v in operands]
    values = [v for v, _ in pairs]
    bdims = [d for _, d in pairs]
    return wrap(fn(*_aligned(values, bdims, size)), 0, level)


# ----------------------------------------------------------------------------- helpers
def _front(v: Any, d: Any, size: int) -> Any:
    """``v`` with its batch at dim 0 (an unbatched tensor expanded to the batch)."""
    if d is None:
        return v.unsqueeze(0).expand((size,) + tuple(v.shape))
    return v if d == 0 else v.movedim(d, 0)


def _lrank(v: Any, d: Any) -> int:
    """The example's rank of input ``v``."""
    return v.dim() - (d is not None)


def _shift(dim: int, rank: int) -> int:
    """A dim of the example as a dim of the physical tensor with the batch in front."""
    n = rank if rank > 0 else 1
    return dim % n + 1


def _dims_arg(dims: Any, rank: int) -> Any:
    if dims is None:
        return tuple(range(1, rank + 1))
    if isinstance(dims, int):
        return _shift(dims, rank)
    return tuple(_shift(d, rank) for d in dims)


def _apply(op: Any, ins: Sequence[Any], args: tuple[Any, ...]) -> Any:
    from ..ops._registry import apply

    return apply(op, ins, args)


# ----------------------------------------------------------------------------- families
def elementwise(op: Any, values: list[Any], bdims: list[Any], args: tuple[Any, ...], size: int) -> tuple[Any, Any]:
    """Broadcasting elementwise ops: the batch in front, each batched input's example padded to
    the widest example's rank (unbatched inputs broadcast from the right as they are)."""
    shaped = [(v, d) for v, d in zip(values, bdims) if hasattr(v, "shape")]
    arg_rank = max((len(a.shape) for a in args if hasattr(a, "shape")), default=-1)
    if len(shaped) == 1 and arg_rank < 0:  # one tensor: the batch stays where it is
        return _apply(op, values, args), shaped[0][1]
    return _apply(op, _aligned(values, bdims, size, arg_rank), args), 0


def _aligned(values: list[Any], bdims: list[Any], size: int, arg_rank: int = -1) -> list[Any]:
    """The inputs with each batched one's batch in front and its example padded (after the
    batch) to the widest example's rank (arrays among the arguments included), so that
    broadcasting never meets the batch dim."""
    rank = max([len(v.shape) - (d is not None) for v, d in zip(values, bdims) if hasattr(v, "shape")] + [arg_rank])
    ins = []
    for v, d in zip(values, bdims):
        if d is not None:
            v = _front(v, d, size)
            r = v.dim() - 1
            if r < rank:
                v = v.reshape((size,) + (1,) * (rank - r) + tuple(v.shape[1:]))
        ins.append(v)
    return ins


def unary_same(op: Any, values: list[Any], bdims: list[Any], args: tuple[Any, ...], size: int) -> tuple[Any, Any]:
    """Ops on one tensor that keep every dim (casts, copies, moves): the batch stays put."""
    return _apply(op, values, args), bdims[0]


def reduction(op: Any, values: list[Any], bdims: list[Any], args: tuple[Any, ...], size: int) -> tuple[Any, Any]:
    """args (dims, keepdim[, shape]): dims shifted past the batch in front."""
    x = _front(values[0], bdims[0], size)
    rank = x.dim() - 1
    dims = _dims_arg(args[0], rank)
    rest = args[1:]
    if len(rest) == 2:  # sum, mean: the input's shape
        rest = (rest[0], tuple(x.shape))
    return _apply(op, [x], (dims,) + rest), 0


def first_dim(op: Any, values: list[Any], bdims: list[Any], args: tuple[Any, ...], size: int) -> tuple[Any, Any]:
    """args (dim, ...): one dim shifted past the batch in front (softmax, log_softmax, cumsum)."""
    x = _front(values[0], bdims[0], size)
    return _apply(op, [x] + list(values[1:]), (_shift(args[0], x.dim() - 1),) + tuple(args[1:])), 0


def front(op: Any, values: list[Any], bdims: list[Any], args: tuple[Any, ...], size: int) -> tuple[Any, Any]:
    """Ops on the trailing dims of one tensor, with the leading dims as independent (tril,
    triu): the batch moved in front."""
    return _apply(op, [_front(values[0], bdims[0], size)], args), 0


def _constant_pad(op: Any, values: list[Any], bdims: list[Any], args: tuple[Any, ...], size: int) -> tuple[Any, Any]:
    """args (one (lo, hi) pair per dim, value): no padding for the batch in front."""
    pairs, value = args
    return _apply(op, [_front(values[0], bdims[0], size)], (((0, 0),) + tuple(pairs), value)), 0


def dims_first(op: Any, values: list[Any], bdims: list[Any], args: tuple[Any, ...], size: int) -> tuple[Any, Any]:
    """args (dims, ...): a tuple of dims shifted (flip)."""
    x = _front(values[0], bdims[0], size)
    return _apply(op, [x], (_dims_arg(args[0], x.dim() - 1),) + tuple(args[1:])), 0


def fold(op: Any, values: list[Any], bdims: list[Any], args: tuple[Any, ...], size: int) -> tuple[Any, Any]:
    """Ops that treat dim 0 of their (only batched) first input as independent examples (pools,
    convolution with a shared weight): the batch folded into dim 0 and unfolded after."""
    if any(d is not None for d in bdims[1:]) or _lrank(values[0], bdims[0]) == 0:
        return fallback(op, values, bdims, args, size)
    x = _front(values[0], bdims[0], size)
    n = x.shape[1]
    out = _apply(op, [x.reshape((size * n,) + tuple(x.shape[2:]))] + list(values[1:]), args)
    return out.reshape((size, n) + tuple(out.shape[1:])), 0


# ----------------------------------------------------------------------------- shape ops
def _view(op: Any, values: list[Any], bdims: list[Any], args: tuple[Any, ...], size: int) -> tuple[Any, Any]:
    shape, in_shape = args
    x = _front(values[0], bdims[0], size)
    from ..ops.shape import RESHAPE, VIEW

    new = ((size,) + tuple(shape), (size,) + tuple(in_shape))
    if op is VIEW and bdims[0] == 0:
        try:
            return _apply(VIEW, [x], new), 0
        except RuntimeError:
            pass
    return _apply(RESHAPE, [x], new), 0


def _permute(op: Any, values: list[Any], bdims: list[Any], args: tuple[Any, ...], size: int) -> tuple[Any, Any]:
    x = _front(values[0], bdims[0], size)
    return _apply(op, [x], ((0,) + tuple(p + 1 for p in args[0]),)), 0


def _expand(op: Any, values: list[Any], bdims: list[Any], args: tuple[Any, ...], size: int) -> tuple[Any, Any]:
    x = _front(values[0], bdims[0], size)
    out = tuple(args[0])
    r = x.dim() - 1
    if r < len(out):
        x = x.reshape((size,) + (1,) * (len(out) - r) + tuple(x.shape[1:]))
    return _apply(op, [x], ((size,) + out,)), 0


def _cat(op: Any, values: list[Any], bdims: list[Any], args: tuple[Any, ...], size: int) -> tuple[Any, Any]:
    *sizes, dim = args
    ins = [_front(v, d, size) for v, d in zip(values, bdims)]
    rank = max(v.dim() for v in ins) - 1
    return _apply(op, ins, tuple(sizes) + (_shift(dim, rank),)), 0


def _roll(op: Any, values: list[Any], bdims: list[Any], args: tuple[Any, ...], size: int) -> tuple[Any, Any]:
    shifts, dims = args
    if dims is None or (isinstance(dims, (tuple, list)) and not dims):
        return fallback(op, values, bdims, args, size)
    x = _front(values[0], bdims[0], size)
    return _apply(op, [x], (shifts, _dims_arg(dims, x.dim() - 1))), 0


def _layer_norm(op: Any, values: list[Any], bdims: list[Any], args: tuple[Any, ...], size: int) -> tuple[Any, Any]:
    axes, eps = args
    x, w, b = values
    if bdims[1] is not None or bdims[2] is not None:  # per-example affine parameters
        x = _front(x, bdims[0], size)
        plain = _apply(op, [x, None, None], (_dims_arg(axes, x.dim() - 1), eps))
        return _decomposed(_affine, [plain, w, b], [0, bdims[1], bdims[2]], size)
    x = _front(x, bdims[0], size)
    return _apply(op, [x, w, b], (_dims_arg(axes, x.dim() - 1), eps)), 0


def _affine(x: Any, w: Any, b: Any) -> Any:
    if w is not None:
        x = x * w
    if b is not None:
        x = x + b
    return x


def _decomposed(fn: Callable[..., Any], values: list[Any], bdims: list[Any], size: int) -> tuple[Any, Any]:
    """``fn`` run on the inputs re-wrapped at a fresh level of this batch size, so that other
    rules batch its ops; returns the physical result."""
    level = _vm.push(size, _vm.randomness[-1] if _vm.randomness else "error")
    try:
        out = fn(*[wrap(v, d, level) for v, d in zip(values, bdims)])
        if type(out) is BatchedTensor and out._level == level:
            return out._value, out._bdim
        return out, None
    finally:
        _vm.pop()


def _getitem(op: Any, values: list[Any], bdims: list[Any], args: tuple[Any, ...], size: int) -> tuple[Any, Any]:
    """Basic indexing (ints, slices, None, Ellipsis): a full slice for the batch in front."""
    key, _ = args
    if not key.basic or key.pre is not None:
        return fallback(op, values, bdims, args, size)
    x = _front(values[0], bdims[0], size)
    adv = key.adv if isinstance(key.adv, tuple) else (key.adv,)
    return _apply(op, [x], (type(key)(None, (slice(None),) + adv, True), tuple(x.shape))), 0


# ----------------------------------------------------------------------------- linear algebra
def _matmul(op: Any, values: list[Any], bdims: list[Any], args: tuple[Any, ...], size: int) -> tuple[Any, Any]:
    (x, y), (dx, dy) = values, bdims
    lx, ly = _lrank(x, dx), _lrank(y, dy)
    if dx is not None:
        x = _front(x, dx, size)
    if dy is not None:
        y = _front(y, dy, size)
    if lx == 1:
        x = x.unsqueeze(-2)
    if ly == 1:
        y = y.unsqueeze(-1)
    rank = max(lx, ly, 2)
    if dx is not None and max(lx, 2) < rank:
        x = x.reshape((size,) + (1,) * (rank - max(lx, 2)) + tuple(x.shape[1:]))
    if dy is not None and max(ly, 2) < rank:
        y = y.reshape((size,) + (1,) * (rank - max(ly, 2)) + tuple(y.shape[1:]))
    if dx is None:
        x = x.reshape((1,) * (rank + 1 - x.dim()) + tuple(x.shape))
    if dy is None:
        y = y.reshape((1,) * (rank + 1 - y.dim()) + tuple(y.shape))
    out = _apply(op, [x, y], args)
    if ly == 1:
        out = out.squeeze(-1)
    if lx == 1:
        out = out.squeeze(-1 if ly == 1 else -2)
    return out, 0


def _linear(op: Any, values: list[Any], bdims: list[Any], args: tuple[Any, ...], size: int) -> tuple[Any, Any]:
    (x, w, b), (dx, dw, db) = values, bdims
    if dw is None and db is None:
        return _apply(op, [_front(x, dx, size), w, b], args), 0
    from ..ops.linalg import matmul

    def per_example(xx: Any, ww: Any, bb: Any) -> Any:
        out = matmul(xx, ww.transpose(-1, -2))
        return out if bb is None else out + bb

    return _decomposed(per_example, [x, w, b], [dx, dw, db], size)


def _conv(op: Any, values: list[Any], bdims: list[Any], args: tuple[Any, ...], size: int) -> tuple[Any, Any]:
    (x, w, b), (dx, dw, db) = values, bdims
    win, groups = args
    if dw is None and db is None:
        return fold(op, values, bdims, args, size)
    # per-example weights: one grouped convolution, the batch folded into the channels
    x = _front(x, dx, size)  # (B, N, C, *S)
    n, c = x.shape[1], x.shape[2]
    x = x.movedim(0, 1).reshape((n, size * c) + tuple(x.shape[3:]))
    w = _front(w, dw, size)  # (B, O, C/g, *K)
    o = w.shape[1]
    w = w.reshape((size * o,) + tuple(w.shape[2:]))
    if b is not None:
        b = _front(b, db, size).reshape((size * o,))
    out = _apply(op, [x, w, b], (win, groups * size))  # (N, B*O, *S')
    return out.reshape((n, size, o) + tuple(out.shape[2:])), 1


def _sdpa(op: Any, values: list[Any], bdims: list[Any], args: tuple[Any, ...], size: int) -> tuple[Any, Any]:
    """Attention broadcasts its leading dims: the inputs aligned as for elementwise ops."""
    return _apply(op, _aligned(values, bdims, size), args), 0


# ----------------------------------------------------------------------------- the table
_ELEMENTWISE = (
    "abs acos add asin atan atan2 ceil clamp cos cos_backward cosh div exp exp2 expm1 floor "
    "floor_divide fmod frac log log10 log1p log2 maximum minimum mul neg pow rdiv reciprocal relu "
    "remainder round rpow rsqrt rsub sigmoid sigmoid_backward sign sin sin_backward sinh sqrt square "
    "sub tan tanh tanh_backward threshold_backward trunc where elu gelu hardshrink hardsigmoid "
    "hardswish hardtanh leaky_relu log_sigmoid mish silu softplus softshrink threshold acosh asinh "
    "atanh copysign fmax fmin logaddexp logaddexp2 sinc digamma erfinv i0 i1 lgamma polygamma erf "
    "erfc native_dropout "
    "special_erfcx special_i0e special_i1e special_zeta special_airy_ai special_bessel_j0 "
    "special_bessel_j1 special_bessel_y0 special_bessel_y1 special_modified_bessel_i0 "
    "special_modified_bessel_i1 special_modified_bessel_k0 special_modified_bessel_k1 "
    "special_scaled_modified_bessel_k0 special_scaled_modified_bessel_k1 special_spherical_bessel_j0 "
    "special_chebyshev_polynomial_t special_chebyshev_polynomial_u special_chebyshev_polynomial_v "
    "special_chebyshev_polynomial_w special_shifted_chebyshev_polynomial_t "
    "special_shifted_chebyshev_polynomial_u special_shifted_chebyshev_polynomial_v "
    "special_shifted_chebyshev_polynomial_w special_hermite_polynomial_h special_hermite_polynomial_he "
    "special_laguerre_polynomial_l special_legendre_polynomial_p "
    "angle conj complex"
).split()
_SAME = ("_to_copy clone to_device").split()
_REDUCTIONS = ("sum mean prod amax amin logsumexp norm").split()


def install() -> None:
    """Fill the table and register ``dispatch`` with the core (called once, on import)."""
    from ..ops.shape import VIEW  # noqa: F401  (loads the shape ops)

    for name in _ELEMENTWISE:
        RULES[name] = elementwise
    for name in _SAME:
        RULES[name] = unary_same
    for name in _REDUCTIONS:
        RULES[name] = reduction
    for name in ("softmax", "log_softmax", "cumsum", "cumprod", "logcumsumexp"):
        RULES[name] = first_dim
    RULES["flip"] = dims_first
    RULES["tril"] = front
    RULES["triu"] = front
    RULES["constant_pad_nd"] = _constant_pad
    RULES["roll"] = _roll
    RULES["view"] = _view
    RULES["reshape"] = _view
    RULES["permute"] = _permute
    RULES["expand"] = _expand
    RULES["cat"] = _cat
    RULES["getitem"] = _getitem
    RULES["matmul"] = _matmul
    RULES["linear"] = _linear
    RULES["convolution"] = _conv
    RULES["layer_norm"] = _layer_norm
    RULES["scaled_dot_product_attention"] = _sdpa
    for nd in (1, 2, 3):
        RULES[f"max_pool{nd}d"] = fold
        RULES[f"avg_pool{nd}d"] = fold
    _vm.dispatch = dispatch
    _vm.inplace = inplace
    _vm.random_draw = random_draw
    _vm.elementwise_call = elementwise_call
    _vm.class_targets = class_targets_batched
    _vm.embedding = embedding_batched
