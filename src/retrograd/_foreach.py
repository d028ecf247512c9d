"""PyTorch's ``_foreach_*`` functions: one op over a list of tensors.

``_foreach_exp(tensors)`` is ``tuple(t.exp() for t in tensors)`` (differentiable, as each op is);
``_foreach_exp_(tensors)`` runs ``t.exp_()`` on each and returns ``tensors``. The binary ones
(``_foreach_add(tensors, other)``, ``mul``, ``div``, ``maximum``, ...) pair tensor i with the
i-th of ``other`` when it is a list (of tensors or of numbers), else with ``other`` itself (a
number or a 0-d tensor); ``addcmul``/``addcdiv``/``lerp`` likewise with their extra operands.
PyTorch fuses the list into few kernels; here each tensor is its own op call (the optimizers of
libraries such as timm call these directly)."""

import numbers

from ._tensor import Tensor

_UNARY = (
    "abs",
    "acos",
    "asin",
    "atan",
    "ceil",
    "cos",
    "cosh",
    "erf",
    "erfc",
    "exp",
    "expm1",
    "floor",
    "frac",
    "lgamma",
    "log",
    "log10",
    "log1p",
    "log2",
    "neg",
    "reciprocal",
    "round",
    "sigmoid",
    "sin",
    "sign",
    "sinh",
    "sqrt",
    "tan",
    "trunc",
)


def _check(name, tensors):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(
            f"{name}(): argument 'self' (position 1) must be tuple of Tensors, not {type(tensors).__name__}"
        )
    if not tensors:
        raise RuntimeError(f"{name}(): Tensor list must have at least one tensor.")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}(): expected Tensor as element {i} in argument 0, but got {type(t).__name__}")


def _out_of_place(op):
    name = f"_foreach_{op}"

    def f(self):
        _check(name, self)
        return tuple(getattr(t, op)() for t in self)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"``tuple(t.{op}() for t in self)``."
    return f


def _in_place(op):
    name = f"_foreach_{op}"

    def f(self):
        _check(name, self)
        for t in self:
            getattr(t, op)()
        return self

    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"``t.{op}()`` for each tensor of ``self``; returns ``self``."
    return f


FUNCTIONS = {}
for _op in _UNARY:
    FUNCTIONS[f"_foreach_{_op}"] = _out_of_place(_op)
    FUNCTIONS[f"_foreach_{_op}_"] = _in_place(_op + "_")
FUNCTIONS["_foreach_zero_"] = _in_place("zero_")


def _per_tensor(name, self, other, what="other"):
    """``other`` as one operand per tensor of ``self``: a list or tuple pairs element-wise (tensors
    or numbers, as many as ``self`` has), a number or a 0-d tensor is shared by all."""
    n = len(self)
    if isinstance(other, Tensor):
        if other.dim() != 0:
            raise RuntimeError(
                f"{name}(): scalar tensor expected to be 0 dim but it has {other.dim()} dimensions and "
                f"{other.numel()} elements."
            )
        return [other] * n
    if isinstance(other, (list, tuple)):
        if len(other) != n:
            if all(isinstance(o, Tensor) for o in other):
                raise RuntimeError(
                    f"{name}(): Tensor lists must have the same number of tensors, got {n} and {len(other)}"
                )
            raise RuntimeError(f"{name}(): Tensor list must have same number of elements as scalar list.")
        for i, o in enumerate(other):
            if not isinstance(o, (Tensor, numbers.Number)):
                raise TypeError(f"{name}(): expected Tensor or number as element {i} of {what}, got {type(o).__name__}")
        return list(other)
    if isinstance(other, numbers.Number):
        return [other] * n
    raise TypeError(f"{name}(): {what} must be a number, a Tensor or a list of them, got {type(other).__name__}")


def _no_alpha_with_scalars(name, other, alpha):
    """PyTorch takes ``alpha`` with a list of tensors, and (``add`` only) with one tensor."""
    tensor_ok = isinstance(other, Tensor) and name.startswith("_foreach_add")
    if alpha != 1 and not (
        tensor_ok or (isinstance(other, (list, tuple)) and other and all(isinstance(o, Tensor) for o in other))
    ):
        raise TypeError(
            f"{name}(): alpha is not taken with other of type {type(other).__name__} (only with a list of Tensors, "
            "or for _foreach_add a Tensor)"
        )


def _binary(op, inplace, alpha=False):
    """``_foreach_<op>`` (or its in-place form): ``t.<op>(o)`` for each tensor and its operand."""
    name = f"_foreach_{op}{'_' if inplace else ''}"

    def apply(t, o, **kw):
        if op in ("maximum", "minimum") and not isinstance(o, Tensor):  # a number: clamp
            o = t.new_tensor(o)
        if inplace:
            if op in ("maximum", "minimum"):
                return t.copy_(getattr(t, op)(o))
            return getattr(t, op + "_")(o, **kw)
        return getattr(t, op)(o, **kw)

    if alpha:

        def f(self, other, *, alpha=1):
            _check(name, self)
            _no_alpha_with_scalars(name, other, alpha)
            kw = {} if alpha == 1 else {"alpha": alpha}
            out = tuple(apply(t, o, **kw) for t, o in zip(self, _per_tensor(name, self, other)))
            return self if inplace else out

        doc = f"``t.{op}{'_' if inplace else ''}(o, alpha=alpha)`` for each tensor ``t`` and its ``o`` of ``other``"
    else:

        def f(self, other):
            _check(name, self)
            out = tuple(apply(t, o) for t, o in zip(self, _per_tensor(name, self, other)))
            return self if inplace else out

        doc = f"``{op}(t, o)`` for each tensor ``t`` and its ``o`` of ``other``"
    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc + (" (in place; returns ``self``)." if inplace else "; a tuple.")
    return f


def _pointwise(op, inplace):
    """``_foreach_addcmul``/``addcdiv``: ``t + value * t1 * t2`` (``t1 / t2``); ``value`` is a
    number, a list of numbers or a 1-D tensor of one value per tensor."""
    name = f"_foreach_{op}{'_' if inplace else ''}"

    def f(self, tensor1, tensor2, value=1):
        _check(name, self)
        _check(name, tensor1)
        _check(name, tensor2)
        if len(tensor1) != len(self) or len(tensor2) != len(self):
            raise RuntimeError(
                f"{name}(): Tensor lists must have the same number of tensors, got {len(self)}, {len(tensor1)} "
                f"and {len(tensor2)}"
            )
        if isinstance(value, Tensor):
            if value.dim() != 1 or value.numel() != len(self):
                raise RuntimeError(
                    f"{name}(): expected scalars to be a 1-D tensor of {len(self)} elements, "
                    f"got shape {tuple(value.shape)}"
                )
            value = value.tolist()
        values = _per_tensor(name, self, value, "value")
        method = op + ("_" if inplace else "")
        out = tuple(getattr(t, method)(a, b, value=v) for t, a, b, v in zip(self, tensor1, tensor2, values))
        return self if inplace else out

    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"``t.{op}(t1, t2, value=v)`` for each tensor and its operands" + (
        " (in place; returns ``self``)." if inplace else "; a tuple."
    )
    return f


def _lerp(inplace):
    name = f"_foreach_lerp{'_' if inplace else ''}"

    def f(self, tensors1, weight):
        _check(name, self)
        _check(name, tensors1)
        if len(tensors1) != len(self):
            raise RuntimeError(
                f"{name}(): Tensor lists must have the same number of tensors, got {len(self)} and {len(tensors1)}"
            )
        weights = _per_tensor(name, self, weight, "weight")
        method = "lerp_" if inplace else "lerp"
        out = tuple(getattr(t, method)(e, w) for t, e, w in zip(self, tensors1, weights))
        return self if inplace else out

    f.__name__ = f.__qualname__ = name
    f.__doc__ = "``t.lerp(e, w)`` (``t + w * (e - t)``) for each tensor, its end and its weight" + (
        " (in place; returns ``self``)." if inplace else "; a tuple."
    )
    return f


def _foreach_pow(self, exponent):
    """``t ** e`` for each tensor and its exponent; with a number first, ``self ** t`` for each
    tensor of ``exponent``."""
    if isinstance(self, numbers.Number):
        _check("_foreach_pow", exponent)
        return tuple(t.new_tensor(self).pow(t) for t in exponent)
    _check("_foreach_pow", self)
    return tuple(t.pow(e) for t, e in zip(self, _per_tensor("_foreach_pow", self, exponent, "exponent")))


def _foreach_pow_(self, exponent):
    """``t.pow_(e)`` for each tensor and its exponent; returns ``self``."""
    _check("_foreach_pow_", self)
    for t, e in zip(self, _per_tensor("_foreach_pow_", self, exponent, "exponent")):
        t.pow_(e)
    return self


def _foreach_copy_(self, src, non_blocking=False):
    """``t.copy_(s)`` for each tensor and its source; returns ``self``."""
    _check("_foreach_copy_", self)
    _check("_foreach_copy_", src)
    if len(src) != len(self):
        raise RuntimeError(
            f"_foreach_copy_(): Tensor lists must have the same number of tensors, got {len(self)} and {len(src)}"
        )
    for t, s in zip(self, src):
        t.copy_(s, non_blocking)
    return self


def _foreach_norm(self, ord=2, dtype=None):
    """``linalg.vector_norm(t, ord, dtype=dtype)`` of each tensor; a tuple of 0-d tensors."""
    from .ops.reduction import vector_norm

    _check("_foreach_norm", self)
    return tuple(vector_norm(t, ord, dtype=dtype) for t in self)


def _foreach_max(self):
    """The largest element of each tensor; a tuple of 0-d tensors."""
    _check("_foreach_max", self)
    return tuple(t.max() for t in self)


for _op, _alpha in (
    ("add", True),
    ("sub", True),
    ("mul", False),
    ("div", False),
    ("maximum", False),
    ("minimum", False),
    ("clamp_min", False),
    ("clamp_max", False),
):
    FUNCTIONS[f"_foreach_{_op}"] = _binary(_op, False, _alpha)
    FUNCTIONS[f"_foreach_{_op}_"] = _binary(_op, True, _alpha)
for _op in ("addcmul", "addcdiv"):
    FUNCTIONS[f"_foreach_{_op}"] = _pointwise(_op, False)
    FUNCTIONS[f"_foreach_{_op}_"] = _pointwise(_op, True)
FUNCTIONS["_foreach_lerp"] = _lerp(False)
FUNCTIONS["_foreach_lerp_"] = _lerp(True)
for _f in (_foreach_pow, _foreach_pow_, _foreach_copy_, _foreach_norm, _foreach_max):
    FUNCTIONS[_f.__name__] = _f
del _op, _alpha, _f
