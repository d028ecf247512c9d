"""Passes over a recorded ``Schedule``: elementwise fusion and buffer reuse by liveness.

``optimize(schedule, meta, options)`` returns a schedule that computes the same results with
fewer entries and fewer fresh arrays; ``replay`` turns it into code as any other schedule.

**Fusion.** An entry whose kernel is in ``TEMPLATES`` (the ``forward`` of an elementwise op:
add, mul, sin, tanh, relu, sigmoid, their fused backward ops, ...) is described by an
expression template. Entries whose outputs are read by exactly one other fusible entry (and
are not a result of the schedule) are merged into that reader: a tree of elementwise entries
becomes one entry that evaluates the whole expression. A group never extends across an entry
with an effect (an in-place write, an eager call such as ``optimizer.step``, a gradient
accumulation): its reads move to the position of its last member, so nothing may write to
memory in between. A group is fused only when every array it reads and writes has one floating
dtype (float32 or float64) and Python number constants, so its result has that dtype exactly;
its result is C-contiguous, and fused only when eager mode's result was too (a later view of it
is replayed with the strides eager mode saw). Anything else keeps its own kernel.

Two engines evaluate a fused expression:

- ``"numpy"`` (the default): a generated function calling the same NumPy ufuncs in the same
  order as the entries it replaces, writing each step into a temporary of the expression (or
  the output) with ``out=`` instead of allocating: bit for bit eager mode's values.
- ``"numexpr"``: one ``numexpr.NumExpr`` program (constants passed as arrays of the group's
  dtype, so float32 stays float32); values agree with NumPy's within float rounding. Measured
  on this project's 2-core machine at one thread it is slower than NumPy on float32 (NumPy's
  ufunc loops are SIMD, numexpr's interpreter is not); it pays with threads on large arrays.
  It is optional (the ``compile`` extra); without it ``"numexpr"`` falls back to ``"numpy"``.

**Buffer reuse.** The result of a fused entry that only fused entries read, and that is not a
result of the schedule, is written into a buffer the replay owns (``out=``), allocated once and
reused by later entries of the same shape and dtype once its last reader has run, at this call
and at every later call (one set of buffers per thread). Results handed back to the caller are
always fresh arrays.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from ..ops import elementwise as _ew
from .capture import accumulate_grad as _accumulate_grad
from .schedule import Const, Entry, Schedule

# --------------------------------------------------------------------------- templates
# A template maps an entry's operands (after its array module) to an expression tree:
# ("slot", s) the array of slot s, ("c", value) a Python number, (ufunc_name, *children) a NumPy
# ufunc (or "relu_grad", threshold_backward's kernel); each template applies the ufuncs its
# kernel applies, to the same operands in the same order, so the NumPy engine is bit for bit.


def _bin(name):
    return lambda x, y: (name, x, y)


def _un(name):
    return lambda x: (name, x)


_ONE = ("c", 1)


def _pow_scalar(x, s):
    if s[0] != "c" or type(s[1]) is bool:
        return None
    if s[1] == 2:  # ndarray ** 2 is np.square
        return ("square", x)
    if s[1] in (-1, 0, 0.5, 1):  # the other fast paths of ndarray.__pow__: not fused
        return None
    return ("power", x, s)


TEMPLATES: dict[Any, Any] = {
    _ew.ADD.forward: _bin("add"),
    _ew.SUB.forward: _bin("subtract"),
    _ew.MUL.forward: _bin("multiply"),
    _ew.DIV.forward: _bin("divide"),
    _ew.ADD_SCALAR.forward: _bin("add"),
    _ew.SUB_SCALAR.forward: _bin("subtract"),
    _ew.RSUB_SCALAR.forward: lambda x, s: ("subtract", s, x),
    _ew.MUL_SCALAR.forward: _bin("multiply"),
    _ew.DIV_SCALAR.forward: _bin("divide"),
    _ew.RDIV_SCALAR.forward: lambda x, s: ("divide", s, x),
    _ew.POW_SCALAR.forward: _pow_scalar,
    _ew.SQUARE.forward: lambda x: ("multiply", x, x),
    _ew.NEG.forward: _un("negative"),
    _ew.EXP.forward: _un("exp"),
    _ew.LOG.forward: _un("log"),
    _ew.SIN.forward: _un("sin"),
    _ew.COS.forward: _un("cos"),
    _ew.TANH.forward: _un("tanh"),
    _ew.SQRT.forward: _un("sqrt"),
    _ew.RECIPROCAL.forward: lambda x: ("divide", _ONE, x),
    _ew.RSQRT.forward: lambda x: ("divide", _ONE, ("sqrt", x)),
    _ew.SIGMOID.forward: lambda x: ("divide", _ONE, ("add", _ONE, ("exp", ("negative", x)))),
    _ew.RELU.forward: lambda x: ("maximum", x, ("c", 0)),
    _ew.TANH_BACKWARD.forward: lambda g, y: ("multiply", g, ("subtract", _ONE, ("multiply", y, y))),
    _ew.SIGMOID_BACKWARD.forward: lambda g, y: ("multiply", ("multiply", g, y), ("subtract", _ONE, y)),
    _ew.SIN_BACKWARD.forward: lambda g, x: ("multiply", g, ("cos", x)),
    _ew.COS_BACKWARD.forward: lambda g, x: ("multiply", ("negative", g), ("sin", x)),
    # g where out > 0, else 0: g times a mask in g's dtype, a select where that is not finite
    _ew.THRESHOLD_BACKWARD.forward: lambda g, y: ("relu_grad", g, y),
}

_NUMEXPR_INFIX = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/", "power": "**"}
_NUMEXPR_CALL = {"exp", "log", "sin", "cos", "tanh", "sqrt"}
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
MAX_OPERANDS = 16  # arrays and constants of one fused entry (numexpr takes at most 32)

OPTIONS: dict[str, Any] = {"fusion": True, "fusion_engine": "numpy", "buffer_reuse": True, "print_schedule": False}


def check_options(options: dict[str, Any] | None) -> dict[str, Any]:
    """``compile(options=...)`` validated: the dict of every option, the defaults filled in."""
    out = dict(OPTIONS)
    for k, v in (options or {}).items():
        if k not in OPTIONS:
            raise NotImplementedError(
                f"compile(options=...): {k!r} is not an option retrograd has (it has no inductor); its "
                f"options are {', '.join(OPTIONS)}"
            )
        if k == "fusion_engine":
            if v not in ("numpy", "numexpr"):
                raise RuntimeError(f"compile: options['fusion_engine'] must be 'numpy' or 'numexpr', got {v!r}")
        elif not isinstance(v, bool):
            raise RuntimeError(f"compile: options[{k!r}] must be True or False, got {v!r}")
        out[k] = v
    return out


# --------------------------------------------------------------------------- meta
class Meta:
    """What a pass knows of a slot's array: shape, dtype, C-contiguity."""

    __slots__ = ("shape", "dtype", "c_contiguous")

    def __init__(self, shape: tuple[int, ...], dtype: Any, c_contiguous: bool) -> None:
        self.shape = shape
        self.dtype = dtype
        self.c_contiguous = bool(c_contiguous)


def metas(layouts: list[Any]) -> dict[int, Meta]:
    """The meta of each slot from its layout: ``(shape, dtype, C-contiguous)`` of a NumPy array
    (the recorder notes one per slot as it defines it), or None (another kind of array)."""
    return {s: Meta(*x) for s, x in enumerate(layouts) if x is not None}


def layouts(arrays: list[Any]) -> list[Any]:
    """The layout of each of ``arrays``, as the recorder notes it."""
    return [(a.shape, a.dtype, a.flags.c_contiguous) if type(a) is np.ndarray else None for a in arrays]


# --------------------------------------------------------------------------- the pass
def _describe(e: Entry, meta: dict[int, Meta]) -> Any:
    """The expression tree of entry ``e`` over its slots (leaves ("slot", s)), or None."""
    template = TEMPLATES.get(e.kernel)
    if template is None or len(e.outputs) != 1 or not e.inputs:
        return None
    xp = e.inputs[0]
    if type(xp) is not Const or xp.value is not np:
        return None
    slot = e.outputs[0]
    out = None if slot is None else meta.get(slot)
    if out is None or out.dtype not in _FLOATS or not out.shape:
        return None
    operands = []
    for s in e.inputs[1:]:
        if type(s) is int:
            m = meta.get(s)
            if m is None or m.dtype != out.dtype:
                return None
            operands.append(("slot", s))
        elif type(s.value) in (int, float):
            operands.append(("c", s.value))
        else:
            return None
    try:
        tree = template(*operands)
    except TypeError:  # another arity than the template's
        return None
    return tree


def _output(e: Entry) -> int:
    """The output slot of a fusible entry (``_describe`` checked it has one)."""
    out = e.outputs[0]
    assert out is not None
    return out


def _leaves(tree: Any, kind: str) -> list[Any]:
    """The values of the leaves of ``kind`` ("slot" or "c") in ``tree``, in order."""
    if tree[0] == kind:
        return [tree[1]]
    if tree[0] in ("slot", "c"):
        return []
    return [v for child in tree[1:] for v in _leaves(child, kind)]


def _substitute(tree: Any, slot: int, sub: Any) -> Any:
    if tree[0] == "slot":
        return sub if tree[1] == slot else tree
    if tree[0] == "c":
        return tree
    return (tree[0], *(_substitute(c, slot, sub) for c in tree[1:]))


def fuse(schedule: Schedule, meta: dict[int, Meta], engine: str = "numpy", reuse: bool = True) -> Schedule:
    """``schedule`` with its trees of elementwise entries fused (see the module docstring)."""
    entries = schedule.entries
    results = set(schedule.results)
    readers: dict[int, int] = {}
    for e in entries:
        for s in e.inputs:
            if type(s) is int:
                readers[s] = readers.get(s, 0) + 1
    groups: dict[int, list[Any]] = {}  # root entry index -> [tree, members, epoch, slots, constants]
    open_: dict[int, int] = {}  # output slot of a group's root -> root index
    epoch = 0
    for i, e in enumerate(entries):
        if e.kernel is _accumulate_grad or not e.outputs:  # an effect: groups end here
            epoch += 1
            continue
        tree = _describe(e, meta)
        if tree is None:
            continue
        members = [i]
        slots = set(_leaves(tree, "slot"))
        n_const = len(_leaves(tree, "c"))
        for s in list(dict.fromkeys(_leaves(tree, "slot"))):
            j = open_.get(s)
            if j is None or readers.get(s) != 1 or s in results:
                continue
            sub_tree, sub_members, sub_epoch, sub_slots, sub_const = groups[j]
            if sub_epoch != epoch:  # an effect in between: the reads cannot move past it
                continue
            merged_slots = (slots - {s}) | sub_slots
            if len(merged_slots) + n_const + sub_const > MAX_OPERANDS:
                continue
            tree = _substitute(tree, s, sub_tree)
            slots, n_const = merged_slots, n_const + sub_const
            members = sub_members + members
            del groups[j], open_[s]
        groups[i] = [tree, members, epoch, slots, n_const]
        open_[_output(e)] = i
    # each group becomes one entry at its root's position
    drop: set[int] = set()
    fused: dict[int, tuple[Any, tuple[int, ...], int]] = {}
    for i, (tree, members, *_) in groups.items():
        out = _output(entries[i])
        if not meta[out].c_contiguous:
            continue
        fused[i] = (tree, tuple(dict.fromkeys(_leaves(tree, "slot"))), out)
        drop.update(m for m in members if m != i)
    pool = _plan_buffers(entries, fused, drop, results, set(schedule.inputs), meta) if reuse else {}
    specs = {b: (meta[slot].shape, meta[slot].dtype) for slot, b in pool.items()}
    buffers = Buffers([specs[b] for b in range(len(specs))])
    new: list[Entry] = []
    for i, e in enumerate(entries):
        if i in drop:
            continue
        f = fused.get(i)
        if f is None:
            new.append(e)
            continue
        tree, ins, out = f
        m = meta[out]
        b = pool.get(out)
        buf = None if b is None else (buffers, b)
        shapes = {s: meta[s].shape for s in ins}
        contiguous = all(meta[s].c_contiguous for s in ins)
        kernel = make_kernel(tree, ins, m.shape, m.dtype, shapes, engine, buf, contiguous)
        new.append(Entry(kernel, ins, (out,), kernel.__retrograd_label__))
    return Schedule(new, schedule.inputs, schedule.results)


class Buffers(threading.local):
    """The buffers a replay owns, one set per thread (a thread's first use allocates its own), so
    that two threads replaying the same function at once never write into each other's."""

    def __init__(self, specs: list[tuple[tuple[int, ...], Any]]) -> None:
        self.arrays = [np.empty(shape, dtype) for shape, dtype in specs]


def _plan_buffers(
    entries: list[Entry],
    fused: dict[int, Any],
    drop: set[int],
    results: set[int],
    inputs: set[int],
    meta: dict[int, Meta],
) -> dict[int, int]:
    """Slot -> buffer number for the outputs of fused entries that only fused entries read
    (a buffer is taken again, by a slot of its shape and dtype, once its last reader ran)."""
    fused_out = {f[2]: i for i, f in fused.items()}
    ok = {s for s in fused_out if s not in results and s not in inputs}
    last: dict[int, int] = {}
    for i, e in enumerate(entries):
        if i in drop:
            continue
        reads = fused[i][1] if i in fused else tuple(s for s in e.inputs if type(s) is int)
        for s in reads:
            last[s] = i
            if i not in fused:
                ok.discard(s)
    free: dict[tuple[Any, Any], list[int]] = {}
    holds: dict[int, int] = {}
    pool: dict[int, int] = {}
    count = 0
    by_last: dict[int, list[int]] = {}
    for i, e in enumerate(entries):
        if i in drop:
            continue
        if i in fused:
            out = fused[i][2]
            if out in ok and out in last:
                key = (meta[out].shape, meta[out].dtype)
                stack = free.get(key)
                if stack:
                    b = stack.pop()
                else:
                    b = count
                    count += 1
                pool[out] = holds[out] = b
                by_last.setdefault(last[out], []).append(out)
        for s in by_last.pop(i, ()):
            free.setdefault((meta[s].shape, meta[s].dtype), []).append(holds.pop(s))
    return pool


# --------------------------------------------------------------------------- engines
def _text(tree: Any, names: dict[int, str]) -> str:
    """The expression as text (for labels)."""
    kind = tree[0]
    if kind == "slot":
        return names[tree[1]]
    if kind == "c":
        return repr(tree[1])
    return f"{kind}({', '.join(_text(c, names) if type(c) is tuple else repr(c) for c in tree[1:])})"


def make_kernel(
    tree: Any,
    slots: tuple[int, ...],
    shape: tuple[int, ...],
    dtype: Any,
    shapes: dict[int, tuple[int, ...]],
    engine: str = "numpy",
    buf: Any = None,
    contiguous: bool = False,
) -> Any:
    """The fused kernel of ``tree``: ``kernel(*arrays of slots) -> result``; written into the
    buffer ``buf = (buffers, index)`` names when given (``Buffers``, owned by the replay), else
    into a fresh C-contiguous array (made by the first ufunc that writes it when every input
    is C-contiguous, so its result is too: cheaper than ``empty`` and ``out=`` on small arrays)."""
    label = "fused[" + _text(tree, {s: f"v{s}" for s in slots}) + "]"
    fn = None
    if engine == "numexpr":
        fn = _numexpr_kernel(tree, slots, shape, dtype, buf)
    if fn is None:
        fn = _numpy_kernel(tree, slots, shape, dtype, shapes, buf, contiguous)
    fn.__retrograd_label__ = label
    return fn


def _relu_into(x: Any, out: Any) -> Any:
    """``np.maximum(x, 0, out=out)`` computed as ``ops.elementwise._relu`` computes it: against a
    row of zeros where the size allows (NumPy's loop against a scalar is not vectorized)."""
    row = _ew._ROW
    if x.size and not x.size % row and x.flags.c_contiguous and (out is None or out.flags.c_contiguous):
        r = np.maximum(x.reshape(-1, row), _ew._zero_row(x.dtype), out=None if out is None else out.reshape(-1, row))
        return r.reshape(x.shape) if out is None else out
    return np.maximum(x, 0, out=out)


_CODE: dict[str, Any] = {}  # generated source -> its code object
_PROGRAMS: dict[tuple[str, Any], Any] = {}  # (numexpr text, dtype) -> its program


def _numpy_kernel(tree, slots, shape, dtype, shapes, buf, contiguous):
    names: dict[str, Any] = {"np": np, "_empty": np.empty, "_shape": shape, "_dtype": dtype}
    args = {s: f"a{k}" for k, s in enumerate(slots)}
    lines = [f"def fused({', '.join(args.values())}):"]
    lazy = [buf is None and contiguous]  # o not made yet: the first ufunc into it makes it
    if buf is None and not contiguous:
        lines.append("    o = _empty(_shape, _dtype)")
    elif buf is not None:
        names["_bufs"], names["_b"] = buf
        lines.append("    o = _bufs.arrays[_b]")
    free: list[tuple[str, tuple[int, ...]]] = [("o", shape)]  # temporaries free to write into
    counter = [0]
    consts: list[str] = []

    def emit(node: Any, root: bool) -> tuple[str, tuple[int, ...] | None, bool]:
        """Code computing ``node``: (its expression name, its shape (None: a scalar), a temp)."""
        kind = node[0]
        if kind == "slot":
            return args[node[1]], shapes[node[1]], False
        if kind == "c":  # a 0-d array of the group's dtype: the value NumPy would convert a Python
            # number to (NEP 50), at half the cost of a Python number per ufunc call
            name = f"k{len(consts)}"
            consts.append(name)
            names[name] = np.asarray(node[1], dtype)
            return name, None, False
        parts = [emit(c, False) for c in node[1:]]
        child_shapes = [p[1] for p in parts if p[1] is not None]
        node_shape = np.broadcast_shapes(*child_shapes) if child_shapes else ()
        dest = None
        if root:
            dest = "o"
        else:
            for name, s, temp in parts:  # in place into a temporary operand of the same shape
                if temp and s == node_shape:
                    dest = name
                    break
            if dest is None:
                for k, (name, s) in enumerate(free):
                    if s == node_shape:
                        dest = free.pop(k)[0]
                        break
        for name, s, temp in parts:  # operand temporaries are free once this step ran
            if temp and name != dest:
                free.append((name, s))  # type: ignore[arg-type]
        operands = ", ".join(p[0] for p in parts)
        if kind == "relu_grad":  # as _threshold_bwd: not (y <= 0) in g's dtype times g; where not finite, a select
            (g, _, _), (y, _, _) = parts
            if dest == y:  # y is read again where the product is not finite
                dest = None
            if dest is None or (dest == "o" and lazy[0]):
                if dest is None:
                    counter[0] += 1
                    dest = f"t{counter[0]}"
                else:
                    lazy[0] = False
                lines.append(f"    {dest} = np.logical_not(np.less_equal({y}, 0)).astype(_dtype)")
                lines.append(f"    np.multiply({dest}, {g}, out={dest})")
            elif dest == g:  # g's own temporary: a boolean mask times g, into it
                lines.append(f"    np.multiply(np.logical_not(np.less_equal({y}, 0)), {g}, out={dest})")
            else:
                lines.append(f"    np.less_equal({y}, 0, out={dest})")
                lines.append(f"    np.subtract(1, {dest}, out={dest})")
                lines.append(f"    np.multiply({dest}, {g}, out={dest})")
            # where the product is not finite, 0 * inf made nan: 0 where y <= 0
            lines.append(f"    if not np.isfinite({dest}).all():")
            lines.append(f"        np.copyto({dest}, 0, where=np.less_equal({y}, 0))")
            if root and dest != "o":
                lines.append(f"    o[...] = {dest}")
                dest = "o"
            return dest, node_shape, True
        if kind == "maximum" and node[2] == ("c", 0):  # relu: eager mode's faster loop (_relu)
            names["_relu"] = _relu_into
            if dest == "o" and lazy[0]:
                lazy[0] = False
                lines.append(f"    o = _relu({parts[0][0]}, None)")
            elif dest is None:
                counter[0] += 1
                dest = f"t{counter[0]}"
                lines.append(f"    {dest} = _relu({parts[0][0]}, None)")
            else:
                lines.append(f"    _relu({parts[0][0]}, {dest})")
            return dest, node_shape, True
        if dest == "o" and lazy[0]:
            lazy[0] = False
            lines.append(f"    o = np.{kind}({operands})")
        elif dest is None:
            counter[0] += 1
            dest = f"t{counter[0]}"
            lines.append(f"    {dest} = np.{kind}({operands})")
        else:
            lines.append(f"    np.{kind}({operands}, out={dest})")
        return dest, node_shape, True

    if tree[0] in ("slot", "c"):
        return None
    emit(tree, True)
    lines.append("    return o")
    code = "\n".join(lines) + "\n"
    names["__name__"] = __name__
    compiled = _CODE.get(code)
    if compiled is None:  # the same expression recurs (layers, steps): compiled once
        compiled = _CODE[code] = compile(code, "<retrograd fused kernel>", "exec")
    exec(compiled, names)  # noqa: S102
    fn = names["fused"]
    fn.__retrograd_source__ = code
    return fn


def _numexpr_text(tree: Any, args: dict[int, str], consts: list[Any]) -> str:
    kind = tree[0]
    if kind == "slot":
        return args[tree[1]]
    if kind == "c":
        consts.append(tree[1])
        return f"c{len(consts) - 1}"
    parts = [_numexpr_text(c, args, consts) for c in tree[1:]]
    if kind in _NUMEXPR_INFIX:
        return f"({parts[0]} {_NUMEXPR_INFIX[kind]} {parts[1]})"
    if kind == "negative":
        return f"(-{parts[0]})"
    if kind == "square":
        return f"({parts[0]} * {parts[0]})"
    if kind == "relu_grad":
        consts.append(0)
        return f"where({parts[1]} <= c{len(consts) - 1}, c{len(consts) - 1}, {parts[0]})"
    if kind == "maximum":  # NaN stays NaN: x < 0 is false for it
        return f"where({parts[0]} < {parts[1]}, {parts[1]}, {parts[0]})"
    if kind in _NUMEXPR_CALL:
        return f"{kind}({', '.join(parts)})"
    raise KeyError(kind)


def _numexpr_kernel(tree, slots, shape, dtype, buf):
    try:
        import numexpr
        from numexpr.necompiler import getExprNames
    except ImportError:
        return None
    args = {s: f"a{k}" for k, s in enumerate(slots)}
    consts: list[Any] = []
    text = _numexpr_text(tree, args, consts)
    kind = float if dtype == np.float32 else np.float64  # numexpr's name of float32 is float
    names = [*args.values(), *(f"c{k}" for k in range(len(consts)))]
    key = (text, np.dtype(dtype))
    compiled = _PROGRAMS.get(key)
    if compiled is None:
        program = numexpr.NumExpr(text, [(n, kind) for n in names])
        compiled = _PROGRAMS[key] = (program, bool(getExprNames(text, {"optimization": "aggressive"})[1]))
    program, uses_vml = compiled
    values = tuple(np.asarray(c, dtype) for c in consts)

    if buf is None:

        def fused(*arrays):
            return program(
                *arrays, *values, out=np.empty(shape, dtype), order="K", casting="safe", ex_uses_vml=uses_vml
            )
    else:
        buffers, b = buf

        def fused(*arrays):
            out = buffers.arrays[b]
            return program(*arrays, *values, out=out, order="K", casting="safe", ex_uses_vml=uses_vml)

    fused.__retrograd_source__ = text
    return fused


def exact(options: dict[str, Any] | None) -> bool:
    """Whether the optimized replay computes eager mode's values bit for bit (the NumPy engine
    does; numexpr's agree within float rounding, so a capture's bitwise check is skipped)."""
    opts = options or OPTIONS
    return not opts["fusion"] or opts["fusion_engine"] == "numpy"


def optimize(schedule: Schedule, layouts: list[Any], options: dict[str, Any] | None) -> Schedule:
    """The passes ``options`` (``check_options``) ask for, run over ``schedule``; ``layouts``:
    each slot's ``(shape, dtype, C-contiguous)`` as the capture saw it (``metas``)."""
    opts = options or OPTIONS
    if not opts["fusion"]:
        out = schedule
    else:
        out = fuse(schedule, metas(layouts), opts["fusion_engine"], opts["buffer_reuse"])
    if opts["print_schedule"]:
        print(out)
    return out
