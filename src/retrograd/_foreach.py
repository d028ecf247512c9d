"""PyTorch's documented ``_foreach_*`` functions: one op over a list of tensors.

``_foreach_exp(tensors)`` is ``tuple(t.exp() for t in tensors)`` (differentiable, as each op is);
``_foreach_exp_(tensors)`` runs ``t.exp_()`` on each and returns ``tensors``. PyTorch fuses the
list into few kernels; here each tensor is its own op call."""

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
del _op
