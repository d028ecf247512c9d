"""Where each op appears: one ``declare`` per public function, in the file of its family.

An op's kernel (forward on arrays, backward, what it saves) is an ``Op`` record (``_registry``);
the Python function users call (argument checks, dtype promotion, the choice between kernels)
sits beside it. ``declare`` states, once, every public surface of that function:

    declare(exp, method=True, inplace=True, out=True)
    declare(abs, aliases=("absolute",), method=True, inplace=True, torch_inplace=("abs_",),
            out=True)

gives ``retrograd.exp`` (with PyTorch's ``out=``), ``Tensor.exp`` and ``Tensor.exp_``, and
``retrograd.abs``/``absolute``, ``Tensor.abs``/``absolute``/``abs_``/``absolute_`` and
``retrograd.abs_``. The fields:

- ``names``: the function's name and its ``aliases`` (same function, same surfaces).
- ``torch``: bind the names in ``retrograd`` (True), not at all (False), or only the given ones.
- ``method``: bind them as Tensor methods: True binds the function itself (called with the
  tensor as first argument), a callable binds that callable instead (for the few methods whose
  arguments differ from the function's, such as ``Tensor.where(condition, other)``).
- ``inplace``: the in-place form ``Tensor.<name>_``: True derives it (the result of the function
  is written into the tensor, recorded and rebased as ``_inplace.apply_inplace`` does), a
  callable is a hand-written form (with a fast path, or an op with no functional twin).
  ``torch_inplace`` lists the in-place names PyTorch also binds in ``torch`` (``torch.exp_``).
- ``out``: the function takes PyTorch's ``out=`` in its namespaces (True; ``nn.functional``
  never has it), or only in those listed (``("torch",)``); the wrapper is ``_out.with_out``.
- ``special``, ``linalg``, ``fft``, ``functional``: the names it has in ``torch.special``,
  ``torch.linalg``, ``torch.fft`` and ``torch.nn.functional``.

The surfaces are bound once, at import, by ``namespace`` and ``tensor_methods``;
``Tensor.exp`` is ``ops.elementwise.exp`` itself. A function with a ``dim`` or ``keepdim``
parameter is bound through a compiled wrapper that also takes NumPy's names ``axis=`` and
``keepdims=``, as PyTorch's argument parser does (``takes_numpy_names`` says where;
``_out.numpy_names_form``); it adds one call frame to those ops. ``REGISTRY`` holds every
declaration (the API reference, the typed stub and the tests that walk the surfaces read it).
A forward-mode rule (jvp) and a batching rule belong to the kernels, on ``Op``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._inplace import apply_inplace
from ._out import FACTORIES_WITH_OUT, numpy_names_form, with_out

NAMESPACES = ("torch", "special", "linalg", "fft", "functional")

# NumPy's names of ``dim``/``keepdim`` (``x.sum(axis=0, keepdims=True)``) are taken where PyTorch
# binds the function through its argument parser: every op of ``torch``, ``special``, ``linalg``,
# ``fft`` and every Tensor method, except these, which PyTorch writes in Python ...
NO_NUMPY_NAMES = {
    "torch": frozenset({"norm", "split", "unique", "unique_consecutive"}),
    "method": frozenset({"norm", "split", "unflatten", "unique", "unique_consecutive"}),
}
# ... and in ``nn.functional`` (written in Python) only these, which are the ``torch`` ops.
FUNCTIONAL_NUMPY_NAMES = frozenset({"cosine_similarity", "pairwise_distance"})


def takes_numpy_names(namespace: str, name: str) -> bool:
    """Whether ``name`` in ``namespace`` ("method" for Tensor methods) takes NumPy's names of
    its ``dim``/``keepdim`` parameters, as in PyTorch."""
    if namespace == "functional":
        return name in FUNCTIONAL_NUMPY_NAMES
    return name not in NO_NUMPY_NAMES.get(namespace, frozenset())


class Decl:
    """The public surfaces of one function (see the module docstring)."""

    __slots__ = (
        "fn",
        "names",
        "torch",
        "method",
        "inplace",
        "torch_inplace",
        "out",
        "special",
        "linalg",
        "fft",
        "functional",
        "module",
        "_inplace_fn",
    )

    def __init__(
        self,
        fn: Callable[..., Any],
        names: tuple[str, ...],
        torch: bool | tuple[str, ...],
        method: bool | Callable[..., Any],
        inplace: bool | Callable[..., Any] | None,
        torch_inplace: tuple[str, ...],
        out: bool | tuple[str, ...],
        special: tuple[str, ...],
        linalg: tuple[str, ...],
        functional: tuple[str, ...],
        fft: tuple[str, ...] = (),
    ) -> None:
        self.fn = fn
        self.names = names
        self.torch = torch
        self.method = method
        self.inplace = inplace
        self.torch_inplace = torch_inplace
        self.out = out
        self.special = special
        self.linalg = linalg
        self.fft = fft
        self.functional = functional
        self.module = getattr(fn, "__module__", None)
        self._inplace_fn: Callable[..., Any] | None = None  # the in-place form, once made

    @property
    def name(self) -> str:
        return self.names[0]

    def bindings(self, namespace: str) -> list[str]:
        """The names this function is bound to in ``namespace`` (in-place forms excluded)."""
        if namespace == "torch":
            return list(self.names) if self.torch is True else list(self.torch or ())
        return list(getattr(self, namespace))

    def has_out(self, namespace: str) -> bool:
        """Whether the function takes ``out=`` in ``namespace`` (never in nn.functional, as in
        PyTorch)."""
        if namespace == "functional":
            return False
        return self.out is True or (isinstance(self.out, tuple) and namespace in self.out)

    def __repr__(self) -> str:
        return f"Decl({self.name} in {self.module})"


# every declaration, in the order the families declared them
REGISTRY: list[Decl] = []


def declare(
    fn: Callable[..., Any],
    *,
    aliases: tuple[str, ...] = (),
    torch: bool | tuple[str, ...] = True,
    method: bool | Callable[..., Any] = False,
    inplace: bool | Callable[..., Any] | None = None,
    torch_inplace: tuple[str, ...] = (),
    out: bool | tuple[str, ...] = False,
    special: tuple[str, ...] = (),
    linalg: tuple[str, ...] = (),
    fft: tuple[str, ...] = (),
    functional: tuple[str, ...] = (),
    name: str | None = None,
) -> Decl:
    """Record the public surfaces of ``fn`` (named ``name`` or ``fn.__name__``); returns the
    declaration. See the module docstring for the fields."""
    names = (name or fn.__name__, *aliases)
    if torch_inplace and inplace is None:
        raise ValueError(f"declare({names[0]}): torch_inplace names {torch_inplace} without an in-place form")
    if not isinstance(torch, bool) and not isinstance(torch, tuple):
        raise TypeError(f"declare({names[0]}): torch must be a bool or a tuple of names")
    for field, value in (
        ("special", special),
        ("linalg", linalg),
        ("fft", fft),
        ("functional", functional),
        ("torch_inplace", torch_inplace),
        ("aliases", aliases),
    ):
        if not isinstance(value, tuple):
            raise TypeError(f"declare({names[0]}): {field} must be a tuple of names, got {value!r}")
    decl = Decl(fn, names, torch, method, inplace, torch_inplace, out, special, linalg, functional, fft)
    REGISTRY.append(decl)
    return decl


def inplace_form(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``Tensor.<name>_``: ``self = fn(self, *args, **kwargs)`` written into self's storage."""

    def op(self: Any, *args: Any, **kwargs: Any) -> Any:
        return apply_inplace(self, name, fn, *args, **kwargs)

    op.__name__ = op.__qualname__ = name + "_"
    op.__doc__ = f"In-place form of :func:`{name}`: writes {name}(self, ...) into self."
    op.__module__ = fn.__module__
    op.__wrapped__ = fn  # type: ignore[attr-defined]
    return op


def _inplace_callable(decl: Decl) -> Callable[..., Any]:
    """The in-place form of ``decl`` (derived once, then shared by Tensor and ``torch``)."""
    if decl._inplace_fn is None:
        numpy_names = takes_numpy_names("method", decl.name)
        if decl.inplace is True:
            fn = numpy_names_form(decl.fn) if numpy_names else decl.fn
            decl._inplace_fn = inplace_form(decl.name, fn)
        else:
            assert callable(decl.inplace)
            decl._inplace_fn = numpy_names_form(decl.inplace) if numpy_names else decl.inplace
    return decl._inplace_fn


def namespace(ns: str) -> dict[str, Callable[..., Any]]:
    """The functions of namespace ``ns`` ("torch", "special", "linalg", "fft" or "functional"), each
    wrapped with ``out=`` where declared. Raises on a name declared twice."""
    found: dict[str, Callable[..., Any]] = {}
    where: dict[str, Decl] = {}

    def bind(n: str, f: Callable[..., Any], decl: Decl) -> None:
        if n in found and found[n] is not f:
            raise RuntimeError(f"{ns}.{n} is declared twice: by {where[n]} and {decl}")
        found[n] = f
        where[n] = decl

    numpy_forms: dict[Callable[..., Any], Callable[..., Any]] = {}  # one wrapper per function
    for decl in REGISTRY:
        names = decl.bindings(ns)
        for n in names:
            numpy_names = takes_numpy_names(ns, n)
            if decl.has_out(ns):
                bind(n, with_out(decl.fn, n, numpy_names=numpy_names), decl)
            elif numpy_names:
                if decl.fn not in numpy_forms:
                    numpy_forms[decl.fn] = numpy_names_form(decl.fn)
                bind(n, numpy_forms[decl.fn], decl)
            else:
                bind(n, decl.fn, decl)
        if ns == "torch" and decl.torch_inplace:
            f = _inplace_callable(decl)
            for n in decl.torch_inplace:
                bind(n, f, decl)
    return found


def tensor_methods() -> dict[str, Callable[..., Any]]:
    """The Tensor methods the declarations give: ``Tensor.<name>`` and ``Tensor.<name>_``."""
    methods: dict[str, Callable[..., Any]] = {}
    numpy_forms: dict[Callable[..., Any], Callable[..., Any]] = {}  # one wrapper per function
    for decl in REGISTRY:
        if decl.method:
            m = decl.fn if decl.method is True else decl.method
            for n in decl.names:
                if takes_numpy_names("method", n):
                    if m not in numpy_forms:
                        numpy_forms[m] = numpy_names_form(m)
                    m_n = numpy_forms[m]
                else:
                    m_n = m
                if n in methods and getattr(methods[n], "__wrapped__", methods[n]) is not m:
                    raise RuntimeError(f"Tensor.{n} is declared twice (again by {decl})")
                methods[n] = m_n
        if decl.inplace is not None:
            f = _inplace_callable(decl)
            for n in decl.names:
                methods[n + "_"] = f
    return methods


def out_forms() -> dict[str, frozenset[str]]:
    """The names of each namespace ("torch", "special", "linalg", "fft") that take PyTorch's ``out=``:
    the declared ones, and in ``torch`` the factories."""
    forms: dict[str, set[str]] = {"torch": set(FACTORIES_WITH_OUT), "special": set(), "linalg": set(), "fft": set()}
    for decl in REGISTRY:
        for ns, names in forms.items():
            if decl.has_out(ns):
                names.update(decl.bindings(ns))
    return {ns: frozenset(names) for ns, names in forms.items()}
