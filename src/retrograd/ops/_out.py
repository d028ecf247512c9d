"""PyTorch's ``out=`` form of a function: the result is written into a tensor the caller owns.

``with_out(fn, name)`` returns the public function: ``f(<fn's parameters>, *, out=None)``
computes ``fn`` on its arguments and, when ``out`` is given, writes the result into it and
returns ``out``. The rules are PyTorch's (``torch.add(a, b, out=o)``):

- autograd does not record through ``out=``: if grad mode is on and any input, or ``out``
  itself, requires grad, it is a RuntimeError;
- the result's dtype must be castable to ``out``'s (float into an integer ``out``, or anything
  but bool into a bool ``out``, is a RuntimeError); a wider ``out`` receives the cast values;
- an empty ``out`` of another shape is resized silently; a non-empty one is resized with
  PyTorch's deprecation warning (a view cannot be resized: RuntimeError);
- the result and ``out`` must be on the same device;
- functions with several results (``sort``, ``max(dim)``, ...) take a tuple of tensors and
  return the same named tuple type holding them.

The write bumps ``out``'s version counter like any in-place write, so a node that saved ``out``
fails loudly at backward time. Tensor methods never take ``out`` (as in PyTorch), so they bind
the plain function and pay nothing for this.
"""

import functools
import inspect
import os
from types import CodeType
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .. import _dtype
from .._warn import warn_user
from .._tensor import Tensor
from ..autograd.grad_mode import _state
from ..backend import array_module

_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "V": 2, "c": 3}


# PyTorch's argument parser also takes NumPy's names for these parameters (``x.sum(axis=0,
# keepdims=True)``), so every op PyTorch binds through it does; ``numpy_names`` asks for them.
NUMPY_NAMES = {"dim": "axis", "keepdim": "keepdims"}


class _NoArg:
    """The default of a parameter that may also come under its NumPy name: not passed."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<not given>"


_NOARG = _NoArg()


def _given_twice(name: str, param: str, alias: str) -> None:
    raise TypeError(f"{name}() got multiple values for argument '{param}' (also given as '{alias}')")


def _missing(name: str, param: str) -> None:
    raise TypeError(f"{name}() missing 1 required positional argument: '{param}'")


def aliased_parameters(fn: Callable[..., Any]) -> tuple[str, ...]:
    """The parameters of ``fn`` that have a NumPy name (``NUMPY_NAMES``) and can be passed by
    keyword."""
    params = _parameters(fn) or []
    return tuple(p for p, kind, _ in params if p in NUMPY_NAMES and kind is not _P.POSITIONAL_ONLY)


def numpy_names_form(fn: Callable[..., Any], name: str | None = None) -> Callable[..., Any]:
    """``fn`` that also takes NumPy's names of its ``dim``/``keepdim`` parameters (``axis=``,
    ``keepdims=``), as PyTorch's ops do; ``fn`` itself when it has neither. Passing a parameter
    under both names is a TypeError. The wrapper is compiled with ``fn``'s parameters, like the
    out= forms, and reports ``fn``'s signature."""
    aliases = aliased_parameters(fn)
    if not aliases:
        return fn
    name = name or fn.__name__
    params = _parameters(fn)
    assert params is not None
    f = exact_wrapper(fn, name, params, out=False, aliases=aliases)
    f.__signature__ = inspect.signature(fn)  # type: ignore[attr-defined]
    f.__annotations__ = dict(getattr(fn, "__annotations__", {}))
    f.__name__ = f.__qualname__ = name
    f.__doc__ = fn.__doc__
    f.__module__ = fn.__module__
    f.__wrapped__ = fn  # type: ignore[attr-defined]
    return f


def with_out(fn: Callable[..., Any], name: str | None = None, numpy_names: bool = False) -> Callable[..., Any]:
    """The public form of ``fn`` that also accepts PyTorch's keyword-only ``out=`` (and, with
    ``numpy_names``, NumPy's names of its parameters, as ``numpy_names_form``).

    The wrapper is compiled with ``fn``'s own parameters (``exact_wrapper``), so a call without
    ``out`` passes its arguments on as they came, with no ``*args``/``**kwargs`` packing: the
    public ops are the per-op hot path. Its signature is its own (``fn``'s parameters, then
    ``out=None``), which ``inspect`` reads on demand (``__signature__ = None`` stops it from
    following ``__wrapped__``). A callable without Python code gets the generic
    ``f(*args, out=None, **kwargs)``."""
    name = name or fn.__name__
    params = _parameters(fn)
    aliases = aliased_parameters(fn) if numpy_names else ()
    if params is not None and aliases:
        f = exact_wrapper(fn, name, params, aliases=aliases)
        sig = inspect.signature(fn)
        out = inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None)
        f.__signature__ = sig.replace(parameters=[*sig.parameters.values(), out])  # type: ignore[attr-defined]
        f.__annotations__ = dict(getattr(fn, "__annotations__", {}))
    elif params is not None:
        f = exact_wrapper(fn, name, params)
        f.__signature__ = None  # type: ignore[attr-defined]
        f.__annotations__ = dict(getattr(fn, "__annotations__", {}))
    else:
        f = _generic_wrapper(fn, name)
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):
            pass
        else:
            out = inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None)
            f.__signature__ = sig.replace(parameters=[*sig.parameters.values(), out])  # type: ignore[attr-defined]
    f.__name__ = f.__qualname__ = name
    f.__doc__ = fn.__doc__
    f.__module__ = fn.__module__
    f.__wrapped__ = fn  # type: ignore[attr-defined]
    return f


_P = inspect.Parameter


def _parameters(fn: Any) -> list[tuple[str, Any, Any]] | None:
    """``fn``'s parameters as ``(name, kind, default)`` (default ``_P.empty`` when none), read
    from its code object (``inspect.signature`` costs far more at import); None when ``fn`` has
    no Python code."""
    code = getattr(fn, "__code__", None)
    if code is None or not isinstance(code, CodeType):
        return None
    names = code.co_varnames
    n_pos, n_kwonly = code.co_argcount, code.co_kwonlyargcount
    defaults = fn.__defaults__ or ()
    kwdefaults = fn.__kwdefaults__ or {}
    params: list[tuple[str, Any, Any]] = []
    first_default = n_pos - len(defaults)
    for i in range(n_pos):
        kind = _P.POSITIONAL_ONLY if i < code.co_posonlyargcount else _P.POSITIONAL_OR_KEYWORD
        params.append((names[i], kind, defaults[i - first_default] if i >= first_default else _P.empty))
    at = n_pos + n_kwonly
    if code.co_flags & inspect.CO_VARARGS:
        params.append((names[at], _P.VAR_POSITIONAL, _P.empty))
        at += 1
    for i in range(n_pos, n_pos + n_kwonly):
        params.append((names[i], _P.KEYWORD_ONLY, kwdefaults.get(names[i], _P.empty)))
    if code.co_flags & inspect.CO_VARKEYWORDS:
        params.append((names[at], _P.VAR_KEYWORD, _P.empty))
    return params


def _generic_wrapper(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    def f(*args: Any, out: Any = None, **kwargs: Any) -> Any:
        if out is None:
            return fn(*args, **kwargs)
        _refuse_grad(name, args, kwargs, out)
        return write_out(name, fn(*args, **kwargs), out)

    return f


_GENERIC_CODE = _generic_wrapper(len, "len").__code__
# the file name of every compiled exact wrapper: inside the package, so that warnings and error
# sites that skip the library's own frames skip it too
_EXACT_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "<out= form>")
# and of the wrappers that only add NumPy's parameter names (no out=)
_NUMPY_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "<NumPy names form>")


def is_out_form(f: Any) -> bool:
    """Whether ``f`` is a wrapper made by ``with_out`` (so its ``out`` is written into)."""
    code = getattr(f, "__code__", None)
    return code is _GENERIC_CODE or (code is not None and code.co_filename == _EXACT_FILE)


def is_numpy_names_form(f: Any) -> bool:
    """Whether ``f`` is a wrapper made by ``numpy_names_form`` (an op that also takes ``axis=``)."""
    code = getattr(f, "__code__", None)
    return code is not None and code.co_filename == _NUMPY_FILE


def exact_wrapper(
    fn: Callable[..., Any],
    name: str,
    params: list[tuple[str, Any, Any]],
    out: bool = True,
    aliases: tuple[str, ...] = (),
) -> Callable[..., Any]:
    """``def f(<params>, *, out=None)`` for ``params`` as ``(name, kind, default)``, compiled:
    without ``out`` it returns ``fn`` called with each parameter passed on (defaults are
    ``fn``'s own objects, so a sentinel default stays itself); with ``out`` it writes the result
    into ``out`` (``write_out``). ``out=False`` leaves ``out`` out; each parameter in
    ``aliases`` may also come under its NumPy name (``NUMPY_NAMES``)."""
    namespace: dict[str, Any] = {
        "_fn": fn,
        "_name": name,
        "_refuse_grad": _refuse_grad,
        "_write_out": write_out,
        "_NOARG": _NOARG,
        "_given_twice": _given_twice,
        "_missing": _missing,
    }
    names = {pname for pname, _, _ in params}
    for i, (pname, _, default) in enumerate(params):
        if pname in namespace or pname == "out" or pname in {NUMPY_NAMES[a] for a in aliases}:
            raise AssertionError(f"{name}: parameter {pname!r} clashes with the wrapper's names")
        if default is not _P.empty:
            namespace[f"_default{i}"] = default
    assert set(aliases) <= names, f"{name}: aliases {aliases} are not all parameters"
    key = tuple((pname, kind, default is not _P.empty) for pname, kind, default in params)
    exec(_wrapper_code(key, out, aliases), namespace)
    wrapper: Callable[..., Any] = namespace["wrapper"]
    return wrapper


@functools.cache
def _wrapper_code(
    params: tuple[tuple[str, Any, bool], ...], out: bool = True, aliases: tuple[str, ...] = ()
) -> CodeType:
    """The compiled ``def wrapper(...)`` for parameters ``(name, kind, has_default)``; ops with the
    same parameters share it (so import compiles about 100 of them for about 300 ops).

    A parameter in ``aliases`` defaults to ``_NOARG`` in the wrapper, and so does every required
    positional parameter after it (Python wants defaults from there on); the prologue takes the
    NumPy-named keyword in its place, restores ``fn``'s default, or reports what is missing."""
    P = _P
    decl: list[str] = []  # the wrapper's parameter list
    pos: list[str] = []  # passed on positionally
    kw: list[str] = []  # passed on by keyword
    prologue: list[str] = []  # resolves the NumPy names and the _NOARG defaults
    var_kw = None
    after_alias = False  # a positional parameter before this one defaults to _NOARG
    for i, (name, kind, has_default) in enumerate(params):
        if kind is P.VAR_POSITIONAL:
            decl.append(f"*{name}")
            pos.append(f"*{name}")
        elif kind is P.VAR_KEYWORD:
            var_kw = name
        else:
            if kind is P.KEYWORD_ONLY and not any(d.startswith("*") for d in decl):
                decl.append("*")
            default = f"_default{i}" if has_default else None
            if name in aliases:
                alias = NUMPY_NAMES[name]
                otherwise = f"{name} = {default}" if has_default else f"_missing(_name, {name!r})"
                prologue += [
                    f"    if {alias} is not _NOARG:",
                    f"        if {name} is not _NOARG:",
                    f"            _given_twice(_name, {name!r}, {alias!r})",
                    f"        {name} = {alias}",
                    f"    elif {name} is _NOARG:",
                    f"        {otherwise}",
                ]
                default = "_NOARG"
                after_alias = after_alias or kind is not P.KEYWORD_ONLY
            elif after_alias and not has_default and kind is not P.KEYWORD_ONLY:
                prologue += [f"    if {name} is _NOARG:", f"        _missing(_name, {name!r})"]
                default = "_NOARG"
            decl.append(f"{name}={default}" if default else name)
            (kw if kind is P.KEYWORD_ONLY else pos).append(name)
            if kind is P.POSITIONAL_ONLY and (i + 1 == len(params) or params[i + 1][1] is not P.POSITIONAL_ONLY):
                decl.append("/")
    if (out or aliases) and not any(d.startswith("*") for d in decl):
        decl.append("*")
    decl += [f"{NUMPY_NAMES[a]}=_NOARG" for a in aliases]
    if out:
        decl.append("out=None")
    call = pos + [f"{k}={k}" for k in kw]
    kwargs = [f"{k!r}: {k}" for k in kw]
    if var_kw is not None:
        decl.append(f"**{var_kw}")
        call.append(f"**{var_kw}")
        kwargs.append(f"**{var_kw}")
    args = "".join(f"{a}, " for a in pos)
    head = f"def wrapper({', '.join(decl)}):\n" + "".join(line + "\n" for line in prologue)
    # with *args, a call that brought none passes the rest on without unpacking (a star call
    # costs about 0.2 us: add's deprecated overloads take *args)
    star = next((c for c in call if c.startswith("*") and not c.startswith("**")), None)

    def unpacked_only_if_given(indent: str) -> str:
        if star is None:
            return ""
        rest = ", ".join(c for c in call if c != star)
        return f"{indent}if not {star[1:]}:\n{indent}    return _fn({rest})\n"

    if not out:
        body = unpacked_only_if_given("    ") + f"    return _fn({', '.join(call)})\n"
        return compile(head + body, _NUMPY_FILE, "exec")
    source = head + (
        f"    if out is None:\n"
        f"{unpacked_only_if_given('        ')}"
        f"        return _fn({', '.join(call)})\n"
        f"    _refuse_grad(_name, ({args}), {{{', '.join(kwargs)}}}, out)\n"
        f"    return _write_out(_name, _fn({', '.join(call)}), out)\n"
    )
    return compile(source, _EXACT_FILE, "exec")


def _tensors(values: Iterable[Any]) -> Iterator[Tensor]:
    for v in values:
        if isinstance(v, Tensor):
            yield v
        elif isinstance(v, (list, tuple)):
            yield from (t for t in v if isinstance(t, Tensor))


def _refuse_grad(name: str, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> None:
    if not _state.enabled:
        return
    outs = out if isinstance(out, (list, tuple)) else (out,)
    for t in (*_tensors(args), *_tensors(kwargs.values()), *_tensors(outs)):
        if t._rg:
            raise RuntimeError(
                f"{name}(): functions with out=... arguments don't support automatic "
                f"differentiation, but one of the arguments requires grad (a tensor of "
                f"shape {list(t._data.shape)}). Call it without out=, or under "
                f"torch.no_grad()."
            )


def write_out(name: str, result: Any, out: Any) -> Any:
    """Write ``result`` (a Tensor, or a tuple of them) into ``out``; returns ``out`` (or the
    result's named tuple type holding the ``out`` tensors)."""
    if isinstance(result, Tensor):
        if not isinstance(out, Tensor):
            raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
        _write_one(name, result, out)
        return out
    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result) or not all(isinstance(o, Tensor) for o in out):
            raise TypeError(
                f"{name}(): argument 'out' must be a tuple of {len(result)} Tensors (got {type(out).__name__})"
            )
        for r, o in zip(result, out):
            _write_one(name, r, o)
        return type(result)(*out) if hasattr(result, "_fields") else tuple(out)
    raise TypeError(f"{name}() does not return a tensor, so it has no out= form")


def _write_one(name: str, r: Tensor, out: Tensor) -> None:
    rd, od = r._data.dtype, out._data.dtype
    if _KIND_RANK.get(rd.kind, 3) > _KIND_RANK.get(od.kind, 3):
        raise RuntimeError(
            f"{name}(): result type {_dtype.from_np(rd)} can't be cast to the desired output type {_dtype.from_np(od)}"
        )
    if r.device != out.device:
        raise RuntimeError(f"{name}(): expected out tensor to have device {r.device}, but got {out.device} instead")
    shape = r._data.shape
    if out._data.shape != shape:
        _resize(name, out, shape)
    data = out._data
    value = r._data
    if data.flags.writeable is False:
        raise RuntimeError(
            f"{name}(): cannot write into out: its storage is read-only (a broadcast "
            f"or expanded tensor of shape {list(data.shape)}); clone() it first"
        )
    data[...] = value
    out._version_counter().bump()


def _resize(name: str, out: Tensor, shape: tuple[int, ...]) -> None:
    if out._base is not None:
        raise RuntimeError(
            f"{name}(): out is a view of shape {list(out._data.shape)} and the result "
            f"has shape {list(shape)}; a view cannot be resized"
        )
    if out._data.size:
        warn_user(
            f"An output with one or more elements was resized since it had shape "
            f"{list(out._data.shape)}, which does not match the required output shape "
            f"{list(shape)}. This behavior is deprecated, and in a future PyTorch release "
            f"outputs will not be resized unless they have zero elements. You can explicitly "
            f"reuse an out tensor t by resizing it, inplace, to zero elements with "
            f"t.resize_(0).",
            UserWarning,
        )
    out._data = array_module(out._data).empty(shape, dtype=out._data.dtype)


# The factories (not ops, so not declared) that take PyTorch's out= in ``retrograd``; the ops'
# out= forms are declared with them (``declare(..., out=True)``, ops/_declare.py).
FACTORIES_WITH_OUT = (
    "arange",
    "empty",
    "eye",
    "full",
    "linspace",
    "logspace",
    "multinomial",
    "normal",
    "ones",
    "rand",
    "randint",
    "randn",
    "randperm",
    "zeros",
)
