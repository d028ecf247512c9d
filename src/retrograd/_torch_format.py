"""PyTorch's checkpoint format (what ``torch.save`` writes), read and written without PyTorch
and, by default, without running any code the file names.

A ``torch.save`` file is a zip archive whose records all sit under one folder ``<name>/``:
``data.pkl`` (a pickle of the object), ``data/<key>`` (each storage's raw bytes, in the byte
order given by ``byteorder``, "little" when absent), ``version`` and a few bookkeeping records.
In ``data.pkl`` a tensor is ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
requires_grad, backward_hooks[, metadata])`` and a storage is the persistent id ``("storage",
torch.FloatStorage, key, location, numel)``. Files from PyTorch before 1.6 are a sequence of
pickles instead (the "legacy" format): a magic number, a protocol version, system info, the
object, the list of storage keys, then each storage as an 8-byte element count and its bytes.

Reading with ``weights_only=True`` runs the pickle through ``_SafeUnpickler``, an interpreter of
the pickle opcodes written here: a global the pickle names is looked up in a fixed table (tensor
and parameter rebuilds, storage types, dtypes, ``OrderedDict``, ``torch.Size``, sets) plus what
the user registered with ``add_safe_globals``; anything else is refused with its name before
anything is called. The only code that runs is the table's own and the user's registered
globals. ``weights_only=False`` uses Python's own unpickler (it imports and calls whatever the
file names: the user's explicit choice), with the same storages and tensor rebuilds.

Writing produces what ``torch.save(obj)`` would for tensors in dicts, OrderedDicts, lists and
tuples with plain values: tensors that view one array share one storage (offsets and strides
kept), other tensors get their own; storages are stored uncompressed and 64-byte aligned, so
``torch.load(..., mmap=True)`` can map them.
"""

import _compat_pickle
import codecs
import io
import pickle
import struct
import zipfile
from collections import OrderedDict

import numpy as np

from . import _dtype
from ._safetensors_format import InvalidCheckpointError, _chunks
from ._tensor import Tensor, _empty_strides
from .sparse import SparseTensor

__all__ = ["add_safe_globals", "clear_safe_globals", "get_safe_globals", "safe_globals"]

# PyTorch storage type name -> NumPy dtype (the ones retrograd tensors hold)
_STORAGE_DTYPES = {
    "DoubleStorage": "f8",
    "FloatStorage": "f4",
    "HalfStorage": "f2",
    "LongStorage": "i8",
    "IntStorage": "i4",
    "ShortStorage": "i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
    "ComplexFloatStorage": "c8",
    "ComplexDoubleStorage": "c16",
}
_STORAGE_DTYPES = {k: np.dtype(v) for k, v in _STORAGE_DTYPES.items()}
_STORAGE_NAMES = {v: k for k, v in _STORAGE_DTYPES.items()}
# PyTorch storage types whose dtype retrograd has no tensors for (named in the refusal)
_OTHER_STORAGES = (
    "ComplexHalfStorage",
    "QInt8Storage",
    "QUInt8Storage",
    "QInt32Storage",
    "QUInt4x2Storage",
    "QUInt2x4Storage",
    "UntypedStorage",
)
# bfloat16 (ml_dtypes): its NumPy dtype is looked up when a file holds one. PyTorch writes the
# float8 types with _rebuild_tensor_v3 over an untyped storage, which this reader does not take.
_LOW_STORAGES = {"BFloat16Storage": _dtype.bfloat16}
_LOW_STORAGE_NAMES = {d.name: k for k, d in _LOW_STORAGES.items()}
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_MAGIC_HEAD = _LEGACY_MAGIC.to_bytes(10, "little")[:4]  # what follows its first 4 bytes
MAX_DEPTH = 1000  # nesting of containers in a pickle, at most (as Python's own recursion bound)


# ---------------------------------------------------------------------------- safe globals
# The user's allow-list lives in _safe_globals.py, so that registering globals does not load
# this module (zipfile and the unpickler's tables load on the first PyTorch-format file).
from ._safe_globals import (  # noqa: E402
    add_safe_globals,
    clear_safe_globals,
    get_safe_globals,
    safe_globals,
    user_table as _user_table,
)


# ---------------------------------------------------------------------------- rebuilds
class _StorageType:
    __slots__ = ("name", "dtype")

    def __init__(self, name, dtype):
        self.name, self.dtype = name, dtype


class _Storage:
    """One storage of a checkpoint: its dtype, element count and (once read) flat array."""

    __slots__ = ("dtype", "numel", "key", "array")

    def __init__(self, dtype, numel, key, array=None):
        self.dtype, self.numel, self.key, self.array = dtype, numel, key, array


def _rebuild_tensor(storage, offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
    if not isinstance(storage, _Storage):
        raise _Refused(f"a tensor is rebuilt from {type(storage).__name__}, not a storage")
    if backward_hooks:
        raise _NotAllowed("a tensor carries backward hooks, which a checkpoint cannot restore safely")
    if metadata:
        raise _NotAllowed(f"a tensor carries Python attributes {sorted(metadata)!r}, which retrograd does not restore")
    if not (
        type(offset) is int
        and offset >= 0
        and isinstance(size, tuple)
        and isinstance(stride, tuple)
        and len(size) == len(stride)
        and all(type(d) is int and d >= 0 for d in size)
        and all(type(s) is int and s >= 0 for s in stride)
    ):
        raise _Refused(f"a tensor has offset {offset!r}, size {size!r} and stride {stride!r}")
    if requires_grad not in (True, False):
        raise _Refused(f"a tensor has requires_grad={requires_grad!r}")
    last = offset + sum((d - 1) * s for d, s in zip(size, stride)) if all(size) else offset - 1
    if last >= storage.numel:
        raise _Refused(
            f"a tensor of size {list(size)} (offset {offset}, stride {list(stride)}) "
            f"reaches past its storage of {storage.numel} elements"
        )
    a = storage.array
    if a is None:  # the legacy format's first pass only finds where the pickle ends
        return None
    item = a.itemsize
    view = np.lib.stride_tricks.as_strided(a[offset:] if a.size else a, size, tuple(s * item for s in stride))
    t = Tensor._make(view, None, False)
    if requires_grad:
        if view.dtype.kind not in "fV":
            raise _Refused(f"a {view.dtype} tensor has requires_grad=True")
        t.requires_grad_(True)
    return t


def _rebuild_tensor_v1(storage, offset, size, stride):
    return _rebuild_tensor(storage, offset, size, stride)


def _rebuild_parameter(data, requires_grad, backward_hooks, state=None):
    if backward_hooks:
        raise _NotAllowed("a parameter carries backward hooks, which a checkpoint cannot restore")
    if state:
        raise _NotAllowed(f"a parameter carries Python attributes {sorted(state)!r}, which retrograd does not restore")
    if data is None:
        return None
    from .nn.parameter import Parameter

    return Parameter(data, requires_grad=bool(requires_grad))


def _size(dims=()):
    from ._size import Size

    return Size(dims)


def _torch_table():
    """The globals a PyTorch checkpoint may name, as ``module.name`` -> what stands for it."""
    table = {
        "collections.OrderedDict": OrderedDict,
        "torch._utils._rebuild_tensor_v2": _rebuild_tensor,
        "torch._utils._rebuild_tensor": _rebuild_tensor_v1,
        "torch._utils._rebuild_parameter": _rebuild_parameter,
        "torch._utils._rebuild_parameter_with_state": _rebuild_parameter,
        "torch.Size": _size,
        "builtins.set": set,
        "builtins.frozenset": frozenset,
        "builtins.bytearray": _bytearray,
        "_codecs.encode": _encode_latin1,  # how protocol 2 pickles bytes
    }
    for name, dt in _STORAGE_DTYPES.items():
        table[f"torch.{name}"] = _StorageType(name, dt)
    for name, d in _LOW_STORAGES.items():
        table[f"torch.{name}"] = _StorageType(name, d)
    for name in _OTHER_STORAGES:
        table[f"torch.{name}"] = _StorageType(name, None)
    for d in _dtype.ALL:
        table[f"torch.{d.name}"] = d
    return table


def _bytearray(data=b"", *encoding):
    if not isinstance(data, (bytes, str)):  # bytearray(n) would allocate n bytes
        raise _Refused(f"bytearray is called with a {type(data).__name__}")
    return bytearray(data, *encoding)


def _encode_latin1(text, encoding="latin1"):
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise _Refused(f"_codecs.encode is called with ({text!r:.40}, {encoding!r})")
    return codecs.encode(text, "latin1")


_CALLABLE_TORCH = None  # the table, built on first use


def _torch_globals():
    global _CALLABLE_TORCH
    if _CALLABLE_TORCH is None:
        _CALLABLE_TORCH = _torch_table()
    return _CALLABLE_TORCH


class _Refused(Exception):
    """A checkpoint's pickle is malformed or inconsistent."""


class _Unsupported(_Refused):
    """A valid checkpoint holds what retrograd cannot represent."""


class _NotAllowed(_Refused):
    """A checkpoint's pickle asks for something the weights-only loader does not allow."""


# ---------------------------------------------------------------------------- safe unpickler
class _SafeUnpickler:
    """Interprets a pickle's opcodes itself. Globals come from the allowed table only; REDUCE
    and NEWOBJ call only those; BUILD sets attributes only on OrderedDicts and on instances of
    user-allowed classes. Any other opcode (INST, OBJ, EXT, ...) is refused."""

    def __init__(self, data, persistent_load, pos=0):
        self.data, self.pos = data, pos
        self.persistent_load = persistent_load
        self.table = dict(_torch_globals())
        self.user = _user_table()
        self.table.update(self.user)
        self.allowed = set(map(id, self.table.values()))

    def take(self, n):
        p = self.pos
        if p + n > len(self.data):
            raise _Refused("it ends in the middle of a pickle (truncated)")
        self.pos = p + n
        return self.data[p : p + n]

    def line(self):
        end = self.data.find(b"\n", self.pos)
        if end < 0:
            raise _Refused("it ends in the middle of a pickle (truncated)")
        text = self.data[self.pos : end].decode("utf-8", "replace")
        self.pos = end + 1
        return text

    def find(self, module, name):
        # protocol 0-2 pickles name Python 2 modules (__builtin__); map them as Python does
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        obj = self.table.get(f"{module}.{name}")
        if obj is None:
            raise _NotAllowed(
                f"it names the global {module}.{name}, which is not allowed. If you "
                f"trust this file, allow it with "
                f"retrograd.serialization.add_safe_globals([{name}]) (or the "
                f"safe_globals context manager), or pass weights_only=False to "
                f"unpickle it with full trust"
            )
        return obj

    def call(self, fn, args):
        if id(fn) not in self.allowed or isinstance(fn, (_StorageType, _dtype.dtype)):
            raise _NotAllowed(f"it calls {_describe_obj(fn)}, which is not an allowed function")
        if not isinstance(args, tuple):
            raise _Refused(f"it calls {_describe_obj(fn)} with {type(args).__name__} arguments")
        try:
            return fn(*args)
        except _Refused:
            raise
        except (TypeError, ValueError, RuntimeError) as e:
            raise _Refused(f"calling {_describe_obj(fn)} failed ({e})") from None

    def pop_mark(self):
        if not self.marks:
            raise _Refused("its pickle has no MARK where one is needed")
        k = self.marks.pop()
        items = self.stack[k:]
        del self.stack[k:]
        return items

    def pop(self):
        if not self.stack:
            raise _Refused("its pickle pops an empty stack")
        return self.stack.pop()

    def load(self):
        """Run the pickle from ``pos`` to its STOP; returns the object (``pos`` is then just
        after the STOP)."""
        self.stack, self.marks, self.memo = [], [], {}
        st = self.stack
        while True:
            op = self.take(1)
            handler = _OPS.get(op)
            if handler is None:
                if op == b".":
                    if len(st) != 1 or self.marks:
                        raise _Refused("its pickle ends with a malformed stack")
                    return st.pop()
                raise _NotAllowed(
                    f"its pickle uses the opcode {op!r} at byte {self.pos - 1}, which the safe loader does not allow"
                )
            try:
                handler(self)
            except (TypeError, ValueError, AttributeError, IndexError, KeyError, OverflowError) as e:
                raise _Refused(f"its pickle is malformed at byte {self.pos - 1} ({e})") from None
            if len(self.marks) > MAX_DEPTH:
                raise _Refused(f"its pickle nests more than {MAX_DEPTH} levels")


def _describe_obj(fn):
    if isinstance(fn, _StorageType):
        return f"torch.{fn.name}"
    return getattr(fn, "__qualname__", type(fn).__name__)


def _op_build(u):
    state = u.pop()
    if not u.stack:
        raise _Refused("its pickle pops an empty stack")
    inst = u.stack[-1]
    cls = type(inst)
    if cls is not OrderedDict and id(cls) not in set(map(id, u.user.values())):
        raise _NotAllowed(f"its pickle sets the state of a {cls.__name__}, which is not allowed")
    if cls is not OrderedDict and not _is_default_setstate(cls):
        inst.__setstate__(state)  # a class the user allowed: its own code, trusted
        return
    slots = None
    if isinstance(state, tuple) and len(state) == 2:
        state, slots = state
    for d in (state, slots):
        if d is None:
            continue
        if not isinstance(d, dict):
            raise _Refused(f"its pickle sets the state of a {cls.__name__} from a {type(d).__name__}")
        for k, v in d.items():
            if not isinstance(k, str) or k.startswith("__"):
                raise _Refused(f"its pickle sets the attribute {k!r:.40}")
            setattr(inst, k, v)


def _is_default_setstate(cls):
    return getattr(cls, "__setstate__", None) is getattr(object, "__setstate__", None)


def _op_reduce(u):
    args = u.pop()
    fn = u.pop()
    u.stack.append(u.call(fn, args))


def _op_newobj(u):
    args = u.pop()
    cls = u.pop()
    if not isinstance(cls, type) or id(cls) not in u.allowed:
        raise _NotAllowed(f"its pickle creates {_describe_obj(cls)}, which is not allowed")
    if not isinstance(args, tuple):
        raise _Refused(f"its pickle creates {cls.__name__} from {type(args).__name__}")
    u.stack.append(cls.__new__(cls, *args))


def _op_persid(u):
    pid = u.pop()
    u.stack.append(u.persistent_load(pid))


def _op_setitems(u):
    items = u.pop_mark()
    d = u.stack[-1] if u.stack else None
    if not isinstance(d, dict) or len(items) % 2:
        raise _Refused("its pickle sets dict items on something that is not a dict")
    for i in range(0, len(items), 2):
        _setitem(d, items[i], items[i + 1])


def _setitem(d, k, v):
    try:
        d[k] = v
    except TypeError:
        raise _Refused(f"its pickle uses an unhashable {type(k).__name__} as a dict key") from None


def _op_setitem(u):
    v, k = u.pop(), u.pop()
    d = u.stack[-1] if u.stack else None
    if not isinstance(d, dict):
        raise _Refused("its pickle sets a dict item on something that is not a dict")
    _setitem(d, k, v)


def _top_list(u):
    lst = u.stack[-1] if u.stack else None
    if type(lst) is not list:
        raise _Refused("its pickle appends to something that is not a list")
    return lst


def _op_appends(u):
    items = u.pop_mark()
    _top_list(u).extend(items)


def _op_append(u):
    v = u.pop()
    _top_list(u).append(v)


def _op_additems(u):
    items = u.pop_mark()
    s = u.stack[-1] if u.stack else None
    if type(s) is not set:
        raise _Refused("its pickle adds items to something that is not a set")
    try:
        s.update(items)
    except TypeError:
        raise _Refused("its pickle adds an unhashable item to a set") from None


def _op_frozenset(u):
    try:
        u.stack.append(frozenset(u.pop_mark()))
    except TypeError:
        raise _Refused("its pickle puts an unhashable item in a frozenset") from None


def _op_dict(u):
    items = u.pop_mark()
    d = {}
    if len(items) % 2:
        raise _Refused("its pickle builds a dict from an odd number of items")
    for i in range(0, len(items), 2):
        _setitem(d, items[i], items[i + 1])
    u.stack.append(d)


def _op_get(n_fmt):
    size = struct.calcsize(n_fmt)

    def get(u):
        (i,) = struct.unpack(n_fmt, u.take(size))
        try:
            u.stack.append(u.memo[i])
        except KeyError:
            raise _Refused(f"its pickle reads memo entry {i}, which was never stored") from None

    return get


def _op_put(n_fmt):
    size = struct.calcsize(n_fmt)

    def put(u):
        (i,) = struct.unpack(n_fmt, u.take(size))
        if not u.stack:
            raise _Refused("its pickle stores an empty stack in the memo")
        u.memo[i] = u.stack[-1]

    return put


def _op_memoize(u):
    if not u.stack:
        raise _Refused("its pickle stores an empty stack in the memo")
    u.memo[len(u.memo)] = u.stack[-1]


def _op_global(u):
    module = u.line()
    name = u.line()
    u.stack.append(u.find(module, name))


def _op_stack_global(u):
    name, module = u.pop(), u.pop()
    if not (isinstance(module, str) and isinstance(name, str)):
        raise _Refused("its pickle names a global by something other than strings")
    u.stack.append(u.find(module, name))


def _push(value):
    return lambda u: u.stack.append(value() if callable(value) else value)


def _op_int(fmt):
    size = struct.calcsize(fmt)
    return lambda u: u.stack.append(struct.unpack(fmt, u.take(size))[0])


def _op_long(len_fmt):
    size = struct.calcsize(len_fmt)

    def long(u):
        (n,) = struct.unpack(len_fmt, u.take(size))
        if n > 1 << 16:
            raise _Refused(f"its pickle holds a {n}-byte integer")
        u.stack.append(int.from_bytes(u.take(n), "little", signed=True))

    return long


def _op_bytes(len_fmt, text):
    size = struct.calcsize(len_fmt)

    def read(u):
        (n,) = struct.unpack(len_fmt, u.take(size))
        raw = u.take(n)
        if text:
            try:
                u.stack.append(raw.decode("utf-8", "surrogatepass"))
            except UnicodeDecodeError:
                raise _Refused("its pickle holds a string that is not UTF-8") from None
        else:
            u.stack.append(bytes(raw))

    return read


def _op_tuple_n(n):
    def tup(u):
        if len(u.stack) < n:
            raise _Refused("its pickle pops an empty stack")
        items = tuple(u.stack[len(u.stack) - n :])
        del u.stack[len(u.stack) - n :]
        u.stack.append(items)

    return tup


def _op_mark(u):
    u.marks.append(len(u.stack))


def _op_pop(u):
    if u.stack and (not u.marks or u.marks[-1] < len(u.stack)):
        u.stack.pop()
    else:
        u.pop_mark()


_OPS = {
    b"\x80": lambda u: u.take(1),  # PROTO
    b"\x95": lambda u: u.take(8),  # FRAME
    b"(": _op_mark,
    b"0": _op_pop,
    b"1": lambda u: u.pop_mark(),
    b"2": lambda u: u.stack.append(u.stack[-1] if u.stack else u.pop()),
    b"}": _push(dict),
    b"]": _push(list),
    b")": _push(()),
    b"\x8f": _push(set),
    b"N": _push(None),
    b"\x88": _push(True),
    b"\x89": _push(False),
    b"t": lambda u: u.stack.append(tuple(u.pop_mark())),
    b"\x85": _op_tuple_n(1),
    b"\x86": _op_tuple_n(2),
    b"\x87": _op_tuple_n(3),
    b"l": lambda u: u.stack.append(list(u.pop_mark())),
    b"d": _op_dict,
    b"a": _op_append,
    b"e": _op_appends,
    b"s": _op_setitem,
    b"u": _op_setitems,
    b"\x90": _op_additems,
    b"\x91": _op_frozenset,
    b"J": _op_int("<i"),
    b"K": _op_int("<B"),
    b"M": _op_int("<H"),
    b"\x8a": _op_long("<B"),
    b"\x8b": _op_long("<i"),
    b"G": _op_int(">d"),
    b"X": _op_bytes("<I", True),
    b"\x8c": _op_bytes("<B", True),
    b"\x8d": _op_bytes("<Q", True),
    b"B": _op_bytes("<I", False),
    b"C": _op_bytes("<B", False),
    b"\x8e": _op_bytes("<Q", False),
    b"q": _op_put("<B"),
    b"r": _op_put("<I"),
    b"\x94": _op_memoize,
    b"h": _op_get("<B"),
    b"j": _op_get("<I"),
    b"c": _op_global,
    b"\x93": _op_stack_global,
    b"R": _op_reduce,
    b"\x81": _op_newobj,
    b"b": _op_build,
    b"Q": _op_persid,
}


# ---------------------------------------------------------------------------- reading
def _storage_from_pid(pid, storages, name):
    if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"):
        raise _Refused(f"its pickle names the persistent object {pid!r:.80}, not a storage")
    stype, key, _location, numel = pid[1:5]
    if not isinstance(stype, _StorageType):
        raise _Refused(f"a storage has the type {_describe_obj(stype)}")
    if stype.dtype is None:
        raise _Unsupported(f"it holds a torch.{stype.name}, a dtype retrograd tensors do not support")
    if not (isinstance(key, str) and type(numel) is int and numel >= 0):
        raise _Refused(f"a storage has key {key!r} and element count {numel!r}")
    if len(pid) == 6 and pid[5] is not None:
        raise _Refused("it holds a storage view (an old format retrograd does not read)")
    dt = stype.dtype
    if isinstance(dt, _dtype.dtype):  # bfloat16, float8
        dt = dt.np
    s = storages.get(key)
    if s is None:
        s = storages[key] = _Storage(dt, numel, key)
    elif s.dtype != dt or s.numel != numel:
        raise _Refused(f"storage {key!r} is named with two different dtypes or sizes")
    return s


def read_zip(fh, name, map_buffer=None, weights_only=True, pickle_module=None, load_args=None):
    """The object in a ``torch.save`` zip archive ``fh`` (a seekable binary file from its
    start). ``map_buffer`` (a memory map of the whole file) makes uncompressed storages views of
    it instead of copies."""
    try:
        start = fh.tell()
        size = fh.seek(0, 2) - start
        fh.seek(start)
        zf = zipfile.ZipFile(fh)
        infos = {i.filename: i for i in zf.infolist()}
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise _invalid(name, f"it is not a readable zip archive ({e})") from None
    pkls = [n for n in infos if n.endswith("/data.pkl") and n.count("/") == 1]
    if len(pkls) != 1:
        raise _invalid(name, "it holds no single '<name>/data.pkl' record")
    prefix = pkls[0][: -len("data.pkl")]
    order = "<"
    if prefix + "byteorder" in infos:
        bo = _read_record(zf, infos[prefix + "byteorder"], name, 16)
        if bo not in (b"little", b"big"):
            raise _invalid(name, f"its byteorder record says {bo!r}")
        order = "<" if bo == b"little" else ">"
    data = _read_record(zf, infos[pkls[0]], name, None)
    storages = {}

    def storage(pid):
        s = _storage_from_pid(pid, storages, name)
        if s.array is None:
            s.array = _read_storage(zf, infos, prefix, s, order, name, map_buffer, size)
        return s

    if not weights_only:
        return _full_unpickle(data, storage, name, pickle_module, load_args)
    try:
        return _SafeUnpickler(data, storage).load()
    except _Refused as e:
        raise _refusal(name, e) from None


def _read_record(zf, info, name, limit):
    if limit is not None and info.file_size > limit:
        raise _invalid(name, f"its record {info.filename} has {info.file_size} bytes")
    try:
        with zf.open(info) as z:
            return z.read()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as e:
        raise _invalid(name, f"its record {info.filename} cannot be read ({e})") from None


def _read_storage(zf, infos, prefix, s, order, name, map_buffer, archive_size):
    info = infos.get(f"{prefix}data/{s.key}")
    if info is None:
        raise _Refused(f"its storage {s.key!r} has no record {prefix}data/{s.key}")
    nbytes = s.numel * s.dtype.itemsize
    stored = info.compress_type == zipfile.ZIP_STORED
    if (
        (stored and info.compress_size != info.file_size)
        or info.compress_size > archive_size
        or info.file_size > 1100 * info.compress_size + 1024
    ):  # deflate expands < 1032x
        raise _invalid(
            name,
            f"its record {info.filename} claims {info.file_size} bytes from "
            f"{info.compress_size} in a file of {archive_size}",
        )
    if info.file_size != nbytes:
        raise _Refused(
            f"its storage {s.key!r} should hold {nbytes} bytes ({s.numel} elements "
            f"of {s.dtype}) but its record has {info.file_size}"
        )
    low = s.dtype.kind == "V"  # bfloat16, float8: swapped as raw bytes
    dt = s.dtype if low else s.dtype.newbyteorder(order)
    if map_buffer is not None and stored:
        start = _data_offset(map_buffer, info, name)
        if start + nbytes > len(map_buffer):
            raise _invalid(name, f"its record {info.filename} runs past the end of the file")
        a = np.frombuffer(map_buffer, dt, s.numel, start)
    else:
        buf = bytearray(nbytes)
        try:
            with zf.open(info) as z:
                got = z.readinto(memoryview(buf)) if nbytes else 0
                while got < nbytes:
                    n = z.readinto(memoryview(buf)[got:])
                    if not n:
                        break
                    got += n
                z.read(1)  # reaching the end checks the record's CRC
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as e:
            raise _invalid(name, f"its record {info.filename} cannot be read ({e})") from None
        if got != nbytes:
            raise _invalid(name, f"its record {info.filename} is truncated")
        a = np.frombuffer(buf, dt)
    if order != "<" and dt.itemsize > 1:
        a = a.byteswap() if low else a.astype(s.dtype)
    return a


def _data_offset(buf, info, name):
    h = info.header_offset
    head = bytes(buf[h : h + 30])
    if len(head) < 30 or head[:4] != b"PK\x03\x04":
        raise _invalid(name, f"the local header of {info.filename} is missing")
    n, m = struct.unpack("<HH", head[26:30])
    return h + 30 + n + m


def _full_unpickle(data, storage, name, pickle_module, load_args):
    import pickle

    base = (pickle_module or pickle).Unpickler
    table = _torch_globals()

    class Unpickler(base):
        def find_class(self, module, attr):
            obj = table.get(f"{module}.{attr}")
            if obj is not None and module.startswith("torch"):
                return obj
            return super().find_class(module, attr)

        def persistent_load(self, pid):
            try:
                return storage(pid)
            except _Refused as e:
                raise _refusal(name, e) from None

    try:
        return Unpickler(io.BytesIO(data), **(load_args or {})).load()
    except InvalidCheckpointError:
        raise
    except Exception as e:
        raise RuntimeError(f"retrograd.load: could not unpickle {name}: {e}") from e


def read_legacy(data, name, weights_only=True, pickle_module=None, load_args=None):
    """The object in a legacy (pre-zip) ``torch.save`` file whose bytes are ``data``."""
    storages = {}
    try:
        u = _SafeUnpickler(data, lambda pid: None)
        for what in ("magic number", "protocol version", "system info"):
            value = u.load()
            if what == "protocol version" and value != 1001:
                raise _Refused(f"its protocol version is {value!r}, not 1001")
        start = u.pos
        # First pass: learn the storages and where the object's pickle ends (storages are not
        # read yet, so tensors come out as None).
        first = _SafeUnpickler(data, lambda pid: _storage_from_pid(pid, storages, name), start)
        first.load()
        keys_reader = _SafeUnpickler(data, lambda pid: None, first.pos)
        keys = keys_reader.load()
        if not (isinstance(keys, list) and all(isinstance(k, str) for k in keys)):
            raise _Refused("its list of storage keys is malformed")
        pos = keys_reader.pos
        for k in keys:
            s = storages.get(k)
            if s is None:
                raise _Refused(f"it stores storage {k!r}, which its object does not use")
            if pos + 8 > len(data):
                raise _Refused("it ends before all its storages (truncated)")
            (numel,) = struct.unpack("<q", data[pos : pos + 8])
            nbytes = s.numel * s.dtype.itemsize
            if numel != s.numel or pos + 8 + nbytes > len(data):
                raise _Refused(f"its storage {k!r} is truncated or of the wrong size")
            s.array = np.frombuffer(data, s.dtype.newbyteorder("<"), s.numel, pos + 8).copy()
            pos += 8 + nbytes
        missing = [k for k, s in storages.items() if s.array is None]
        if missing:
            raise _Refused(f"its storages {missing[:5]} are missing")
        if not weights_only:
            return _full_unpickle(
                data[start:], lambda pid: _storage_from_pid(pid, storages, name), name, pickle_module, load_args
            )
        return _SafeUnpickler(data, lambda pid: _storage_from_pid(pid, storages, name), start).load()
    except _Refused as e:
        raise _refusal(name, e) from None


def _invalid(name, why):
    return InvalidCheckpointError(
        f"retrograd.load: {name} is not a valid PyTorch checkpoint: {why}. The file may be "
        f"truncated (an interrupted copy or download) or corrupt."
    )


def _refusal(name, e):
    import pickle

    if isinstance(e, _NotAllowed):
        return pickle.UnpicklingError(
            f"retrograd.load: weights-only load of {name} refused: {e}. Nothing in the file was run."
        )
    if isinstance(e, _Unsupported):
        return InvalidCheckpointError(f"retrograd.load: {name} cannot be loaded: {e}")
    return _invalid(name, str(e))


# ---------------------------------------------------------------------------- writing
class _Pickler:
    """Writes a protocol-2 pickle of tensors in dicts/OrderedDicts/lists/tuples with plain
    values, naming PyTorch's globals (as ``torch.save`` does), with storages as persistent ids."""

    def __init__(self):
        self.out = bytearray(b"\x80\x02")
        self.memo = {}  # id -> memo index, for tensors saved twice
        self.keep = []
        self.storages = {}  # id(root array) -> (key, flat array)

    def put(self, obj):
        i = len(self.memo)
        self.memo[id(obj)] = i
        self.keep.append(obj)
        self.out += b"q" + bytes([i]) if i < 256 else b"r" + struct.pack("<I", i)

    def glob(self, module, name):
        self.out += f"c{module}\n{name}\n".encode()

    def text(self, s):
        raw = s.encode("utf-8", "surrogatepass")
        self.out += b"X" + struct.pack("<I", len(raw)) + raw

    def dump(self, obj, path, depth=0):
        o = self.out
        if depth > 64:
            raise ValueError(f"retrograd.save: the object is nested too deep at {path}")
        if id(obj) in self.memo:
            i = self.memo[id(obj)]
            o += b"h" + bytes([i]) if i < 256 else b"j" + struct.pack("<I", i)
        elif obj is None:
            o += b"N"
        elif obj is True or obj is False:
            o += b"\x88" if obj else b"\x89"
        elif isinstance(obj, (int, np.integer)) and not isinstance(obj, bool):
            v = int(obj)
            if -(2**31) <= v < 2**31:
                o += b"J" + struct.pack("<i", v)
            else:
                raw = v.to_bytes((v.bit_length() + 8) // 8, "little", signed=True)
                o += b"\x8a" + bytes([len(raw)]) + raw
        elif isinstance(obj, (float, np.floating)):
            o += b"G" + struct.pack(">d", float(obj))
        elif isinstance(obj, str):
            self.text(obj)
        elif isinstance(obj, (Tensor, SparseTensor)):
            self.tensor(obj, path)
        elif isinstance(obj, _dtype.dtype):
            self.glob("torch", obj.name)
        elif isinstance(obj, dict) and type(obj) in (dict, OrderedDict):
            if type(obj) is OrderedDict:
                self.glob("collections", "OrderedDict")
                o += b")R"
            else:
                o += b"}"
            self.put(obj)
            for k, v in obj.items():
                if not (k is None or isinstance(k, (str, int, float, bool))):
                    raise _NotPlain(f"a {type(k).__name__} dict key at {path or 'the top level'}")
                o += b"("
                self.dump(k, path, depth + 1)
                self.dump(v, _join(path, k), depth + 1)
                o += b"u"
            meta = getattr(obj, "_metadata", None)
            if type(obj) is OrderedDict and isinstance(meta, dict):
                o += b"}"
                self.text("_metadata")
                self.dump(meta, _join(path, "_metadata"), depth + 1)
                o += b"sb"
        elif type(obj) is list:
            o += b"]"
            self.put(obj)
            for i, v in enumerate(obj):
                self.dump(v, _join(path, i), depth + 1)
                o += b"a"
        elif type(obj) is tuple:
            o += b"("
            for i, v in enumerate(obj):
                self.dump(v, _join(path, i), depth + 1)
            o += b"t"
        else:
            raise _NotPlain(f"{type(obj).__module__}.{type(obj).__name__} at {path or 'the top level'}")

    def tensor(self, t, path):
        if type(t) is SparseTensor:
            raise TypeError(
                f"retrograd.save: the sparse tensor at {path or 'the top level'} "
                f"cannot be stored in a PyTorch checkpoint by retrograd; use the "
                f"safetensors format"
            )
        a = t._data
        if not isinstance(a, np.ndarray):
            from .backend import to_numpy

            a = to_numpy(a)
        key, flat, offset, stride = self.storage_of(a)
        sname = _STORAGE_NAMES.get(a.dtype.newbyteorder("=")) or _LOW_STORAGE_NAMES.get(a.dtype.name)
        if sname is None:
            raise TypeError(
                f"retrograd.save: the tensor at {path or 'the top level'} has dtype "
                f"{a.dtype}, which has no PyTorch storage type"
            )
        o = self.out
        param = _is_parameter(t)
        if param:
            self.glob("torch._utils", "_rebuild_parameter")
            o += b"("
        self.glob("torch._utils", "_rebuild_tensor_v2")
        o += b"("
        o += b"("
        self.text("storage")
        self.glob("torch", sname)
        self.text(key)
        self.text("cpu")
        self.dump(int(flat.size), "")
        o += b"tQ"
        self.dump(offset, "")
        self.dump(tuple(int(d) for d in a.shape), "")
        self.dump(stride, "")
        grad = b"\x88" if (t.requires_grad and t.is_leaf) else b"\x89"
        o += b"\x89" if param else grad
        self.glob("collections", "OrderedDict")
        o += b")RtR"
        if param:  # _rebuild_parameter(tensor, requires_grad, backward_hooks)
            o += grad
            self.glob("collections", "OrderedDict")
            o += b")RtR"
        self.put(t)

    def storage_of(self, a):
        """(key, flat storage array, element offset, element strides) for array ``a``: the
        array it views when that is a C-contiguous array of its dtype and ``a``'s strides are
        non-negative whole elements; else a contiguous copy of ``a`` alone. An array without
        elements gets the strides ``Tensor.stride()`` reports."""
        if a.size == 0:
            key = str(len(self.storages))
            flat = a.reshape(-1)
            self.storages[("own", key)] = (key, flat)
            self.keep.append(flat)
            return key, flat, 0, _empty_strides(a.shape)
        root = a
        while isinstance(root.base, np.ndarray):
            root = root.base
        item = a.dtype.itemsize
        if root.dtype == a.dtype and root.flags.c_contiguous and all(s >= 0 and s % item == 0 for s in a.strides):
            delta = a.__array_interface__["data"][0] - root.__array_interface__["data"][0]
            if delta >= 0 and delta % item == 0:
                entry = self.storages.get(id(root))
                if entry is None:
                    entry = self.storages[id(root)] = (str(len(self.storages)), root.reshape(-1))
                    self.keep.append(root)
                return entry[0], entry[1], delta // item, tuple(s // item for s in a.strides)
        if a.flags.c_contiguous:
            flat = a.reshape(-1)
        else:
            flat = np.ascontiguousarray(a).reshape(-1)
        key = str(len(self.storages))
        self.storages[("own", key)] = (key, flat)
        self.keep.append(flat)
        stride = tuple(int(np.prod(a.shape[i + 1 :], dtype=np.int64)) for i in range(a.ndim))
        return key, flat, 0, stride


def _is_parameter(t):
    from .nn.parameter import Parameter

    return isinstance(t, Parameter)


def _join(path, key):
    key = str(key)
    return f"{path}.{key}" if path else key


class _NotPlain(TypeError):
    """The object holds more than tensors and plain values in plain containers."""


class _ObjectPickler(pickle._Pickler):
    """Pickles any picklable object (a whole ``nn.Module``, an optimizer, a user's class) as
    ``torch.save`` does: Python's own protocol-2 pickle, except that tensors and parameters are
    PyTorch's rebuild calls over storages (persistent ids, shared with ``plain``, the plain
    pickler whose storage bookkeeping it borrows) and dtypes are ``torch.<name>``. Python's
    pure-Python pickler is used because these globals name PyTorch's functions, which need not be
    importable here: ``save`` writes them itself."""

    def __init__(self, file, plain):
        super().__init__(file, protocol=2)
        self.plain = plain

    def save(self, obj, save_persistent_id=True):
        if type(obj) is _Global:
            self.write(f"c{obj.module}\n{obj.name}\n".encode())
        elif isinstance(obj, _dtype.dtype):
            self.write(f"ctorch\n{obj.name}\n".encode())
        elif isinstance(obj, SparseTensor):
            self.plain.tensor(obj, "")  # refuses, naming the format to use
        elif isinstance(obj, Tensor) and id(obj) not in self.memo:
            self.save_tensor(obj)
        else:
            super().save(obj, save_persistent_id)

    def persistent_id(self, obj):
        return obj.pid if type(obj) is _StorageRef else None

    def save_tensor(self, t):
        a = t._data
        if not isinstance(a, np.ndarray):
            from .backend import to_numpy

            a = to_numpy(a)
        key, flat, offset, stride = self.plain.storage_of(a)
        sname = _STORAGE_NAMES.get(a.dtype.newbyteorder("=")) or _LOW_STORAGE_NAMES.get(a.dtype.name)
        if sname is None:
            raise TypeError(f"retrograd.save: a tensor has dtype {a.dtype}, which has no PyTorch storage type")
        storage = _StorageRef(("storage", _Global("torch", sname), key, "cpu", int(flat.size)))
        grad = bool(t.requires_grad and t.is_leaf)
        param = _is_parameter(t)
        rebuild = (
            _REBUILD_TENSOR,
            (storage, offset, tuple(int(d) for d in a.shape), stride, False if param else grad, OrderedDict()),
        )
        if param:  # _rebuild_parameter(tensor, requires_grad, backward_hooks)
            self.save_reduce(_REBUILD_PARAMETER, (_Rebuilt(rebuild), grad, OrderedDict()), obj=t)
        else:
            self.save_reduce(*rebuild, obj=t)


class _Global:
    """A global a pickle names, written as it is (``module.name``)."""

    __slots__ = ("module", "name")

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):  # the pickler takes only callables as a reduce's function
        raise TypeError(f"{self.module}.{self.name} stands for PyTorch's function in a pickle being written")


class _StorageRef:
    """A storage's persistent id in a pickle being written."""

    __slots__ = ("pid",)

    def __init__(self, pid):
        self.pid = pid


class _Rebuilt:
    """A value pickled as the call ``rebuild = (function, args)``."""

    __slots__ = ("rebuild",)

    def __init__(self, rebuild):
        self.rebuild = rebuild

    def __reduce__(self):
        return self.rebuild


_REBUILD_TENSOR = _Global("torch._utils", "_rebuild_tensor_v2")
_REBUILD_PARAMETER = _Global("torch._utils", "_rebuild_parameter")


def write_zip(fh, obj, archive="archive"):
    """Write ``obj`` to the binary file ``fh`` as a ``torch.save`` zip archive: tensors in plain
    containers with plain values take the exact layout PyTorch writes for them; anything else
    (a whole module) is pickled with Python's pickler around the same tensor records, and reads
    back only with ``load(..., weights_only=False)``, as in PyTorch."""
    p = _Pickler()
    try:
        p.dump(obj, "")
        p.out += b"."
    except _NotPlain:
        p = _Pickler()
        buf = io.BytesIO()
        try:
            _ObjectPickler(buf, p).dump(obj)
        except (pickle.PicklingError, TypeError, AttributeError) as e:
            raise TypeError(f"retrograd.save: cannot pickle the object: {e}") from e
        p.out = buf.getvalue()
    with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        _write_record(zf, f"{archive}/data.pkl", [bytes(p.out)])
        _write_record(zf, f"{archive}/.format_version", [b"1"])
        _write_record(zf, f"{archive}/.storage_alignment", [b"64"])
        _write_record(zf, f"{archive}/byteorder", [b"little"])
        for key, flat in sorted(p.storages.values(), key=lambda e: int(e[0])):
            _write_record(zf, f"{archive}/data/{key}", _chunks(flat), flat.nbytes)
        _write_record(zf, f"{archive}/version", [b"3\n"])


def _write_record(zf, name, chunks, size=None):
    """A stored (uncompressed) record whose data starts at a multiple of 64 bytes in the file."""
    chunks = list(chunks) if size is None else chunks
    if size is None:
        size = sum(len(c) for c in chunks)
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    info.file_size = size
    zip64 = size * 1.05 > zipfile.ZIP64_LIMIT
    used = zf.fp.tell() + 30 + len(name.encode()) + 4 + (20 if zip64 else 0)
    info.extra = b"FB" + struct.pack("<H", -used % 64) + b"Z" * (-used % 64)
    with zf.open(info, "w", force_zip64=zip64) as w:
        for c in chunks:
            w.write(c)
