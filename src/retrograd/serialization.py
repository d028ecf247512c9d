"""Checkpoints: ``save(obj, f)`` and ``load(f)`` in the safetensors format by default, and in
PyTorch's own format (``torch.save``'s zip archive) for ``.pt``/``.pth`` paths or on request.

A checkpoint is one safetensors file. Every tensor in ``obj`` becomes a safetensors entry; the
nesting (dicts, lists, tuples) and the plain values (numbers, strings, bools, None) are stored
as JSON in the file's ``__metadata__`` under the key ``"retrograd"``, pointing at the entries by
name. A flat ``{name: tensor}`` dict (a model's ``state_dict()``) uses the names as entry
names, so ``safetensors.torch.load_file`` reads it as a PyTorch state dict; nested objects name
their tensors by their path (``state.0.exp_avg``). A safetensors file written elsewhere (without
that metadata) loads as a flat ``{name: tensor}`` dict. The format is read and written by
retrograd itself (``_safetensors_format``): the ``safetensors`` package is not needed.

Why not pickle: unpickling runs whatever code the file names, so loading a pickle from an
untrusted source can do anything the user can. ``load`` reads the files ``torch.save`` writes
(the zip archive, and the legacy pre-1.6 format) through its own restricted unpickler
(``_torch_format``): only tensor and storage rebuilds, dtypes, ``OrderedDict``, primitive
containers and the globals registered with ``add_safe_globals`` are allowed, as PyTorch's
``weights_only=True`` does; any other global is refused by name before anything runs. Plain
pickles are refused. ``weights_only=False`` unpickles with Python's own unpickler, trusting the
file completely.

Memory: ``save`` streams each tensor's bytes to the file and ``load`` reads them straight into
the arrays it returns, so neither holds a second copy of the data. ``load`` checks the whole
header (its size, every dtype, shape and byte range, against the file's length) before reading
any tensor, so a corrupt or hostile file costs no more than its header to refuse. Any file
``load`` cannot read raises ``InvalidCheckpointError`` (a ``RuntimeError``) naming the file.

Writes to a path are atomic; see ``save``.
"""

import io
import json
import math
import mmap as _mmap
import os
import pickle
import stat
import struct
from collections import Counter

import numpy as np

from . import _dtype
from . import _safetensors_format as _fmt
from ._atomic_write import write_atomic
from ._safetensors_format import InvalidCheckpointError
from ._safe_globals import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals
from ._tensor import Tensor
from .backend import to_numpy
from .sparse import SparseTensor

__all__ = [
    "save",
    "load",
    "InvalidCheckpointError",
    "add_safe_globals",
    "safe_globals",
    "get_safe_globals",
    "clear_safe_globals",
]

_META_KEY = "retrograd"
_FORMAT_VERSION = 1
MAX_DEPTH = 64  # containers (dicts, lists, tuples) nested in a checkpoint's object, at most


# ---------------------------------------------------------------------------- encoding
class _Encoder:
    """Turns an object into (JSON-able structure, {entry name: array}). The arrays are kept as
    they are (possibly strided, possibly on a device) until they are written."""

    def __init__(self):
        self.arrays = {}
        self.names_by_id = {}
        self.keep = []  # keeps encoded objects alive, so ids stay unique

    def entry(self, arr, path, obj):
        name = self.names_by_id.get(id(obj))
        if name is not None:
            return name
        if _fmt.dtype_code(arr.dtype) is None:
            raise TypeError(
                f"retrograd.save: the array at {path or 'the top level'} has dtype "
                f"{arr.dtype}, which safetensors cannot store"
            )
        name = path or "tensor"
        n = 1
        while name in self.arrays or name == "__metadata__":
            n += 1
            name = f"{path}#{n}"
        self.arrays[name] = arr
        self.names_by_id[id(obj)] = name
        self.keep.append(obj)
        return name

    def encode(self, obj, path, depth=0):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, (int, np.integer)):
            return int(obj)
        if isinstance(obj, (float, np.floating)):
            f = float(obj)
            return f if math.isfinite(f) else {"$float": repr(f)}
        if type(obj) is SparseTensor:
            c = obj._data
            return {
                "$sparse_coo": {
                    "indices": self.entry(c.indices, _join(path, "indices"), c.indices),
                    "values": self.entry(c.values, _join(path, "values"), c.values),
                    "size": list(c.shape),
                    "coalesced": bool(c.coalesced),
                }
            }
        if isinstance(obj, Tensor):
            enc = {"$tensor": self.entry(obj._data, path, obj)}
            if obj.requires_grad and obj.is_leaf:
                enc["requires_grad"] = True
            return enc
        if isinstance(obj, np.ndarray):
            return {"$ndarray": self.entry(obj, path, obj)}
        if isinstance(obj, _dtype.dtype):
            return {"$dtype": obj.name}
        if isinstance(obj, (dict, list, tuple)) and depth >= MAX_DEPTH:
            raise ValueError(
                f"retrograd.save: the object is nested more than {MAX_DEPTH} "
                f"containers deep at {path} (a checkpoint allows {MAX_DEPTH})"
            )
        depth += 1
        if isinstance(obj, dict):
            kind = "$counter" if isinstance(obj, Counter) else "$dict"
            items = []
            for k, v in obj.items():
                if not (k is None or isinstance(k, (str, int, float, bool, tuple))):
                    raise TypeError(
                        f"retrograd.save: dict key {k!r} at {path or 'the top level'} is "
                        f"a {type(k).__name__}; keys must be str, int, float, bool, "
                        f"None or tuples of these"
                    )
                items.append([self.encode(k, path, depth), self.encode(v, _join(path, k), depth)])
            return {kind: items}
        if isinstance(obj, tuple):
            return {"$tuple": [self.encode(v, _join(path, i), depth) for i, v in enumerate(obj)]}
        if isinstance(obj, list):
            return [self.encode(v, _join(path, i), depth) for i, v in enumerate(obj)]
        raise _NotPlain(
            f"retrograd.save: cannot store an object of type {type(obj).__module__}."
            f"{type(obj).__name__} at {path or 'the top level'} in safetensors: it holds "
            f"tensors, NumPy arrays, numbers, strings, bools, None, dtypes and "
            f"dicts/lists/tuples of these, never a pickle. Save model.state_dict(), or "
            f"pass format='torch' to pickle the object in PyTorch's format."
        )


class _NotPlain(TypeError):
    """The object holds more than safetensors can: it is saved in PyTorch's format (a pickle)
    unless the caller asked for safetensors."""


def _join(path, key):
    key = str(key)
    return f"{path}.{key}" if path else key


# ---------------------------------------------------------------------------- decoding
class _Decoder:
    """Rebuilds the object from the structure JSON, checking every node: whatever a file holds,
    decoding ends in the object or in an InvalidCheckpointError naming the file. Depth is
    bounded by MAX_DEPTH, as in saving."""

    def __init__(self, arrays, name):
        self.arrays = arrays
        self.name = name
        self.memo = {}  # a tensor saved once and referenced twice loads as one object

    def bad(self, why):
        return _fmt.invalid(self.name, f"its structure metadata {why}")

    def decode(self, node, depth=0):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if depth >= MAX_DEPTH:
            raise self.bad(f"is nested more than {MAX_DEPTH} containers deep")
        if isinstance(node, list):
            return [self.decode(v, depth + 1) for v in node]
        if isinstance(node, dict) and len(node) == 1:
            ((tag, value),) = node.items()
            handler = self._HANDLERS.get(tag)
            if handler is not None:
                return handler(self, value, depth + 1)
        if isinstance(node, dict) and set(node) == {"$tensor", "requires_grad"}:
            return self.tensor(node["$tensor"], depth + 1, node["requires_grad"])
        raise self.bad(f"holds an unknown entry {_short(node)}")

    def array(self, name):
        if not isinstance(name, str):
            raise self.bad(f"names a tensor by {_short(name)}, not a string")
        try:
            return self.arrays[name]
        except KeyError:
            raise self.bad(f"refers to a tensor {name!r} that the file does not hold") from None

    def tensor(self, name, depth, requires_grad=False):
        a = self.array(name)
        t = self.memo.get(name)
        if t is None:
            t = self.memo[name] = _to_tensor(a, name, self.name)
        if requires_grad is not False:
            if requires_grad is not True:
                raise self.bad(f"gives requires_grad={_short(requires_grad)} for tensor {name!r}")
            if not t.dtype.is_floating_point:
                raise self.bad(f"asks for requires_grad on the {t.dtype} tensor {name!r}")
            t.requires_grad_(True)
        return t

    def mapping(self, pairs, depth, out):
        if not isinstance(pairs, list):
            raise self.bad(f"holds a dict as {_short(pairs)}, not a list of pairs")
        for pair in pairs:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise self.bad(f"holds a dict item {_short(pair)}, not a [key, value] pair")
            k = self.decode(pair[0], depth)
            if isinstance(k, list):
                k = tuple(k)
            try:
                hash(k)
            except TypeError:
                raise self.bad(f"holds a dict key {_short(pair[0])} that is not hashable") from None
            out[k] = self.decode(pair[1], depth)
        return out

    def sequence(self, items, depth):
        if not isinstance(items, list):
            raise self.bad(f"holds a tuple as {_short(items)}, not a list")
        return tuple(self.decode(v, depth) for v in items)

    def special_float(self, text, depth):
        if isinstance(text, str):
            try:
                return float(text)
            except ValueError:
                pass
        raise self.bad(f"holds {_short(text)} as a float")

    def dtype(self, text, depth):
        try:
            if not isinstance(text, str):
                raise TypeError
            return _dtype.to_dtype(text)
        except (TypeError, ValueError):
            raise self.bad(f"holds {_short(text)} as a dtype") from None

    def sparse(self, s, depth):
        if not (
            isinstance(s, dict)
            and {"indices", "values", "size"} <= set(s) <= {"indices", "values", "size", "coalesced"}
        ):
            raise self.bad(f"holds a sparse tensor as {_short(s)}")
        size, coalesced = s["size"], s.get("coalesced", False)
        if not (isinstance(size, list) and all(type(d) is int and d >= 0 for d in size)):
            raise self.bad(f"gives a sparse tensor the size {_short(size)}")
        if not isinstance(coalesced, bool):
            raise self.bad(f"gives a sparse tensor coalesced={_short(coalesced)}")
        indices, values = self.array(s["indices"]), self.array(s["values"])
        from .sparse import sparse_coo_tensor

        try:
            _dtype.from_np(values.dtype)
            if indices.dtype != np.int64:
                raise RuntimeError(f"its indices are {indices.dtype}, not int64")
            t = sparse_coo_tensor(indices, values, size, is_coalesced=coalesced)
        except (RuntimeError, TypeError, ValueError) as e:
            raise self.bad(f"holds an inconsistent sparse tensor ({e})") from None
        if coalesced and not _sorted_unique(indices):
            raise self.bad("marks a sparse tensor coalesced whose indices are not sorted and unique")
        return t

    _HANDLERS = {
        "$tensor": lambda self, v, depth: self.tensor(v, depth),
        "$ndarray": lambda self, v, depth: self.array(v),
        "$dict": lambda self, v, depth: self.mapping(v, depth, {}),
        "$counter": lambda self, v, depth: self.mapping(v, depth, Counter()),
        "$tuple": sequence,
        "$float": special_float,
        "$dtype": dtype,
        "$sparse_coo": sparse,
    }


def _short(x, limit=60):
    r = repr(x)
    return r if len(r) <= limit else r[:limit] + "..."


def _to_tensor(a, key, name):
    try:
        _dtype.from_np(a.dtype)
    except TypeError:
        raise InvalidCheckpointError(
            f"retrograd.load: {name} holds tensor {key!r} of dtype {a.dtype}, which retrograd tensors do not support"
        ) from None
    return Tensor._make(a, None, False)


def _sorted_unique(indices):
    """Whether the columns of ``indices`` are in strictly increasing lexicographic order."""
    if indices.shape[1] < 2:
        return True
    step = indices[:, 1:] - indices[:, :-1]
    moved = step != 0
    first = moved.argmax(axis=0)
    return bool((moved.any(axis=0) & (step[first, np.arange(step.shape[1])] > 0)).all())


# ---------------------------------------------------------------------------- save
_TORCH_SUFFIXES = (".pt", ".pth")


def save(
    obj,
    f,
    pickle_module=None,
    pickle_protocol=None,
    _use_new_zipfile_serialization=True,
    _disable_byteorder_record=False,
    *,
    format=None,
):
    """Write ``obj`` (tensors, nested in dicts/lists/tuples at most ``MAX_DEPTH`` deep, with
    numbers, strings, bools, None, dtypes and NumPy arrays) to ``f``. The pickle-related
    arguments take PyTorch's defaults only (the stdlib ``pickle``, protocol 2, the zip
    archive, a byte-order record): retrograd writes its own protocol-2 pickle, so any other
    value is a NotImplementedError rather than an argument silently ignored.

    ``format``: ``"safetensors"`` (the default, except as below) or ``"torch"``: PyTorch's zip
    archive, which ``torch.load(f, weights_only=True)`` reads (tensors, numbers, strings, bools,
    None, dtypes and dicts/OrderedDicts/lists/tuples; tensors viewing one array share one
    storage, as in PyTorch). When ``format`` is None a path ending in ``.pt`` or ``.pth`` is
    written in PyTorch's format, anything else as safetensors.

    Any other picklable object (a whole ``nn.Module``, an optimizer, a class of the user's) is
    pickled in PyTorch's format, with its tensors as PyTorch's tensor records, as ``torch.save``
    does; with ``format=None`` this happens whatever the path, since safetensors cannot hold it.
    Such a file loads only with ``load(f, weights_only=False)`` (unpickling runs code the file
    names), as in PyTorch 2.6 and later; the classes must be importable where it is loaded.

    ``f`` is a binary file-like object (written from its current position, then flushed) or a
    path. A path is written atomically: the data goes to a temporary file in the target's
    directory, is fsync'ed and renamed over the target, so a crash mid-save leaves the previous
    file intact. The temporary file is named ``.<target name>.<host>-<pid>-<random>.tmp``; one
    left by a killed save (its process is gone) is removed by the next save to that target.

    What the path names:

    - a symlink is followed: its final target is replaced (atomically) and the link kept;
    - a FIFO, socket, device or directory is refused (``OSError``; ``IsADirectoryError`` for
      a directory): an atomic rename would replace it by a regular file. To write into one,
      open it yourself and pass the file object;
    - an existing file keeps its permission bits, but is *replaced*, not rewritten in place:
      other hard links to it keep the old contents (``torch.save`` writes in place, so they
      would see the new data), and the owner is the saving user.
    """
    if (
        pickle_module not in (None, pickle)
        or pickle_protocol not in (None, 2)
        or not _use_new_zipfile_serialization
        or _disable_byteorder_record
    ):
        raise NotImplementedError(
            "save: retrograd writes its own protocol-2 pickle in PyTorch's zip archive; pickle_module, "
            "pickle_protocol, _use_new_zipfile_serialization and _disable_byteorder_record take only "
            "PyTorch's defaults (pickle, 2, True, False)"
        )
    if _save_format(f, format) == "torch":
        _write_to(f, lambda fh: _torch_format().write_zip(fh, obj))
        return
    enc = _Encoder()
    try:
        structure = enc.encode(obj, "")  # a flat state dict's tensors are named by its keys
    except _NotPlain:
        if format is not None:
            raise
        # a whole module (or another object) is pickled, as torch.save does
        _write_to(f, lambda fh: _torch_format().write_zip(fh, obj))
        return
    meta = {
        "format": "pt",
        _META_KEY: json.dumps(
            {"version": _FORMAT_VERSION, "object": structure}, allow_nan=False, separators=(",", ":")
        ),
    }
    _write_to(f, lambda fh: _fmt.write(fh, enc.arrays, meta, to_numpy))


def _write_to(f, write):
    """``write(fh)`` into a file object (from its position, then flushed) or, atomically, a path."""
    if hasattr(f, "write"):
        write(f)
        if hasattr(f, "flush"):
            f.flush()
        return
    write_atomic(f, write)


def _torch_format():
    """PyTorch's checkpoint format (``_torch_format.py``), loaded on first use: zipfile and the
    safe unpickler's tables would add about 20 ms to ``import retrograd``."""
    from . import _torch_format as module

    return module


def _save_format(f, format):
    if format is None:
        if hasattr(f, "write"):
            return "safetensors"
        return "torch" if os.fspath(f).lower().endswith(_TORCH_SUFFIXES) else "safetensors"
    if format not in ("safetensors", "torch"):
        raise ValueError(f"retrograd.save: format must be 'safetensors' or 'torch', got {format!r}")
    return format


# ---------------------------------------------------------------------------- load
def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None, **pickle_load_args):
    """Read an object written by ``save``, ``torch.save`` or any safetensors file (a flat dict
    of tensors).

    Args:
        f: a path or a binary file-like object (read from its current position).
        map_location: None or ``"cpu"`` (default), a device or device string to move every
            tensor to, a dict mapping ``"cpu"`` to a device, or a function ``fn(tensor, "cpu")``
            returning the tensor to use.
        weights_only: True (default) reads ``torch.save`` files with a restricted unpickler
            that allows only tensors, storages, dtypes, ``OrderedDict``, primitive containers
            and the globals registered with ``add_safe_globals``/``safe_globals``; any other
            global is refused (``pickle.UnpicklingError`` naming it) before anything runs.
            Plain pickle files are refused. ``weights_only=False`` unpickles (with
            ``pickle_module`` and ``pickle_load_args`` when given), *trusting the file
            completely*: only use it on files you made.
        mmap: if True (``f`` must be a path), the tensors are views of a private, copy-on-write
            memory map of the file instead of copies read into memory: pages are read when
            used, and writing to a tensor never changes the file. In a ``torch.save`` archive
            this holds for its uncompressed storages (all of them, in PyTorch's own files).

    The header is checked in full before any tensor data is read. A truncated, corrupt,
    inconsistent or foreign file raises ``InvalidCheckpointError`` (a ``RuntimeError``)
    naming the file.
    """
    if weights_only and pickle_module is not None:
        raise RuntimeError(
            "retrograd.load: cannot load weights safely when an explicit "
            "pickle_module is given; pass weights_only=False to unpickle with it"
        )
    name = _describe(f)
    if hasattr(f, "read"):
        if mmap:
            raise ValueError(f"retrograd.load(mmap=True): f must be a file path, got {name}")
        obj = _load(f, name, _remaining(f), None, weights_only, pickle_module, pickle_load_args)
    else:
        with open(os.fspath(f), "rb") as fh:
            st = os.fstat(fh.fileno())
            size = st.st_size if stat.S_ISREG(st.st_mode) else None
            if mmap and size is None:
                raise ValueError(f"retrograd.load(mmap=True): {name} is not a regular file")
            obj = _load(fh, name, size, fh.fileno() if mmap else None, weights_only, pickle_module, pickle_load_args)
    return _map(obj, map_location)


def _load(fh, name, size, map_fd, weights_only, pickle_module, pickle_load_args):
    head = _read_up_to(fh, 8, name)
    if head[:4] == b"PK\x03\x04":
        return _load_torch_zip(fh, head, name, map_fd, weights_only, pickle_module, pickle_load_args)
    if head == b"\x80\x02\x8a\x0a" + _torch_format().LEGACY_MAGIC_HEAD:
        if map_fd is not None:
            raise RuntimeError(
                f"retrograd.load(mmap=True): {name} is in PyTorch's legacy "
                f"(pre-1.6) format, which cannot be memory-mapped"
            )
        return _torch_format().read_legacy(head + fh.read(), name, weights_only, pickle_module, pickle_load_args)
    header = None
    if len(head) == 8:
        (n,) = struct.unpack("<Q", head)
        if n <= _fmt.MAX_HEADER and (size is None or n <= size - 8):
            header = _read_up_to(fh, n, name)
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5 and (header or b"")[:1] != b"{":
        if weights_only:
            _refuse_pickle(name)
        if map_fd is not None:
            raise RuntimeError(
                f"retrograd.load(mmap=True): {name} is a pickle; only safetensors files can be memory-mapped"
            )
        data = head + (header or b"") + fh.read()
        try:
            return (pickle_module or pickle).loads(data, **pickle_load_args)
        except Exception as e:
            raise RuntimeError(f"retrograd.load: could not unpickle {name}: {e}") from e
    entries, meta, _ = _fmt.parse_header(head, header, name, size)
    if map_fd is None:
        arrays = _fmt.read_arrays(fh, entries, name)
    elif entries:
        mm = _mmap.mmap(map_fd, 0, access=_mmap.ACCESS_COPY)
        arrays = _fmt.map_arrays(mm, entries, 8 + len(header), name)
    else:
        arrays = {}
    structure = meta.get(_META_KEY)
    if structure is None:
        return {k: _to_tensor(a, k, name) for k, a in arrays.items()}
    try:
        doc = json.loads(structure)
    except (ValueError, RecursionError) as e:
        raise _fmt.invalid(name, f"its structure metadata is not valid JSON ({e})") from None
    if not isinstance(doc, dict) or "object" not in doc:
        raise _fmt.invalid(name, "its structure metadata has no 'object' entry")
    version = doc.get("version", 1)
    if type(version) is not int:
        raise _fmt.invalid(name, f"its structure metadata has version {_short(version)}")
    if version > _FORMAT_VERSION:
        raise InvalidCheckpointError(
            f"retrograd.load: {name} was written by a newer retrograd "
            f"(format version {version}); upgrade retrograd to read it"
        )
    return _Decoder(arrays, name).decode(doc["object"])


def _refuse_pickle(name):
    raise pickle.UnpicklingError(
        f"retrograd.load: {name} is a pickle file. Loading it is refused because unpickling runs "
        f"whatever code the file names: a malicious file can take over your machine. "
        f"retrograd checkpoints are safetensors files. If you made this file yourself and "
        f"trust it, pass weights_only=False to unpickle it (at your own risk)."
    )


def _load_torch_zip(fh, head, name, map_fd, weights_only, pickle_module, pickle_load_args):
    if weights_only and pickle_load_args:
        raise RuntimeError(
            f"retrograd.load: pickle_load_args {sorted(pickle_load_args)} only apply with weights_only=False"
        )
    try:
        start = fh.tell() - len(head)
        fh.seek(start)
        src = fh
    except (AttributeError, OSError, ValueError):
        src = io.BytesIO(head + fh.read())  # zip needs seeking: read a stream whole
    if map_fd is not None:
        mm = _mmap.mmap(map_fd, 0, access=_mmap.ACCESS_COPY)
        return _torch_format().read_zip(src, name, mm, weights_only, pickle_module, pickle_load_args)
    return _torch_format().read_zip(src, name, None, weights_only, pickle_module, pickle_load_args)


def _describe(f):
    if hasattr(f, "read"):
        n = getattr(f, "name", None)
        return f"{n!r}" if isinstance(n, str) else f"the file object {type(f).__name__}"
    return f"{os.fspath(f)!r}"


def _remaining(fh):
    """How many bytes a file object holds after its position, or None if it cannot say."""
    try:
        if not fh.seekable():
            return None
        pos = fh.tell()
        end = fh.seek(0, os.SEEK_END)
        fh.seek(pos)
    except (AttributeError, OSError, ValueError):
        return None
    return max(0, end - pos)


def _read_up_to(fh, n, name):
    """Read ``n`` bytes, or fewer at the end of the file."""
    parts, got = [], 0
    while got < n:
        data = fh.read(min(n - got, 1 << 20))
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(
                f"retrograd.load: {name} must be opened in binary mode (read() returned {type(data).__name__})"
            )
        if not data:
            break
        parts.append(bytes(data))
        got += len(data)
    return b"".join(parts) if len(parts) != 1 else parts[0]


def _map(obj, map_location):
    if map_location is None:
        return obj
    if isinstance(map_location, dict):
        target = map_location.get("cpu", "cpu")
        fn = None
    elif callable(map_location):
        target, fn = None, map_location
    else:
        target, fn = map_location, None

    def move(x):
        if isinstance(x, (Tensor, SparseTensor)):
            if fn is not None:
                r = fn(x, "cpu")
                return x if r is None else r
            return x.to(target) if str(target) != "cpu" else x
        if isinstance(x, dict):
            out = {k: move(v) for k, v in x.items()}
            if type(x) is dict:
                return out
            kept = type(x)()  # an OrderedDict (a PyTorch state dict) or Counter stays one
            kept.update(out)
            kept.__dict__.update(getattr(x, "__dict__", {}))  # with its _metadata
            return kept
        if isinstance(x, (list, tuple)):
            return type(x)(move(v) for v in x)
        return x

    return move(obj)
