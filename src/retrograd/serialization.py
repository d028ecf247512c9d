"""Checkpoints: ``save(obj, f)`` and ``load(f)`` in the safetensors format, never pickle.

A checkpoint is one safetensors file. Every tensor in ``obj`` becomes a safetensors entry; the
nesting (dicts, lists, tuples) and the plain values (numbers, strings, bools, None) are stored
as JSON in the file's ``__metadata__`` under the key ``"retrograd"``, pointing at the entries by
name. A flat ``{name: tensor}`` dict (a model's ``state_dict()``) uses the names as entry
names, so ``safetensors.torch.load_file`` reads it as a PyTorch state dict; nested objects name
their tensors by their path (``state.0.exp_avg``). A safetensors file written elsewhere (without
that metadata) loads as a flat ``{name: tensor}`` dict.

Why not pickle: unpickling runs whatever code the file names, so loading a pickle from an
untrusted source can do anything the user can. ``load`` refuses pickles (including files
written by ``torch.save``) unless ``weights_only=False`` is passed, which trusts the file.

Writes to a path are atomic: the data goes to a temporary file in the same directory, which is
flushed, fsync'ed and renamed over the target, so a crash mid-save leaves the previous file
intact.
"""
import json
import math
import os
import pickle
import struct
import tempfile
from collections import Counter

import numpy as np

from . import _dtype
from ._tensor import Tensor
from .backend import to_numpy

__all__ = ["save", "load"]

_META_KEY = "retrograd"
_FORMAT_VERSION = 1
_CHUNK = 1 << 24


# ---------------------------------------------------------------------------- encoding
class _Encoder:
    """Turns an object into (JSON-able structure, {entry name: contiguous array})."""

    def __init__(self):
        self.arrays = {}
        self.names_by_id = {}
        self.keep = []  # keeps encoded objects alive, so ids stay unique

    def entry(self, arr, path, obj):
        name = self.names_by_id.get(id(obj))
        if name is not None:
            return name
        name = path or "tensor"
        n = 1
        while name in self.arrays:
            n += 1
            name = f"{path}#{n}"
        # safetensors mis-writes strided arrays (np.ascontiguousarray would make 0-d arrays 1-d)
        self.arrays[name] = arr if arr.flags.c_contiguous else arr.copy(order="C")
        self.names_by_id[id(obj)] = name
        self.keep.append(obj)
        return name

    def encode(self, obj, path):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, (int, np.integer)):
            return int(obj)
        if isinstance(obj, (float, np.floating)):
            f = float(obj)
            return f if math.isfinite(f) else {"$float": repr(f)}
        if isinstance(obj, Tensor):
            if getattr(obj, "is_sparse", False):
                c = obj._data
                return {"$sparse_coo": {
                    "indices": self.entry(to_numpy(c.indices), _join(path, "indices"), c.indices),
                    "values": self.entry(to_numpy(c.values), _join(path, "values"), c.values),
                    "size": list(c.shape), "coalesced": bool(c.coalesced)}}
            enc = {"$tensor": self.entry(to_numpy(obj._data), path, obj)}
            if obj.requires_grad and obj.is_leaf:
                enc["requires_grad"] = True
            return enc
        if isinstance(obj, np.ndarray):
            return {"$ndarray": self.entry(obj, path, obj)}
        if isinstance(obj, _dtype.dtype):
            return {"$dtype": obj.name}
        if isinstance(obj, dict):
            kind = "$counter" if isinstance(obj, Counter) else "$dict"
            items = []
            for k, v in obj.items():
                if not (k is None or isinstance(k, (str, int, float, bool, tuple))):
                    raise TypeError(f"retrograd.save: dict key {k!r} at {path or 'the top level'} is "
                                    f"a {type(k).__name__}; keys must be str, int, float, bool, "
                                    f"None or tuples of these")
                items.append([self.encode(k, path), self.encode(v, _join(path, k))])
            return {kind: items}
        if isinstance(obj, tuple):
            return {"$tuple": [self.encode(v, _join(path, i)) for i, v in enumerate(obj)]}
        if isinstance(obj, list):
            return [self.encode(v, _join(path, i)) for i, v in enumerate(obj)]
        raise TypeError(f"retrograd.save: cannot store an object of type {type(obj).__module__}."
                        f"{type(obj).__name__} at {path or 'the top level'}: a checkpoint holds "
                        f"tensors, NumPy arrays, numbers, strings, bools, None, dtypes and "
                        f"dicts/lists/tuples of these (it is safetensors, never pickle). To save a "
                        f"model, save model.state_dict().")


def _join(path, key):
    key = str(key)
    return f"{path}.{key}" if path else key


def _decode(node, arrays, where, memo):
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):
        return [_decode(v, arrays, where, memo) for v in node]
    if not isinstance(node, dict) or len(node) == 0:
        raise _corrupt(where, f"unexpected structure entry {node!r}")
    if "$tensor" in node:
        name = node["$tensor"]
        t = memo.get(name)  # a tensor saved once and referenced twice loads as one object
        if t is None:
            t = memo[name] = Tensor._make(_array(arrays, name, where), None, False)
            if node.get("requires_grad"):
                t.requires_grad_(True)
        return t
    if "$dict" in node or "$counter" in node:
        out = {} if "$dict" in node else Counter()
        for pair in node.get("$dict", node.get("$counter")):
            k = _decode(pair[0], arrays, where, memo)
            out[tuple(k) if isinstance(k, list) else k] = _decode(pair[1], arrays, where, memo)
        return out
    if "$tuple" in node:
        return tuple(_decode(v, arrays, where, memo) for v in node["$tuple"])
    if "$float" in node:
        return float(node["$float"])
    if "$ndarray" in node:
        return _array(arrays, node["$ndarray"], where)
    if "$dtype" in node:
        return _dtype.to_dtype(node["$dtype"])
    if "$sparse_coo" in node:
        from .sparse import SparseTensor
        s = node["$sparse_coo"]
        return SparseTensor._from_parts(_array(arrays, s["indices"], where),
                                        _array(arrays, s["values"], where), tuple(s["size"]),
                                        bool(s.get("coalesced", False)))
    raise _corrupt(where, f"unknown structure entry with keys {sorted(node)}")


def _array(arrays, name, where):
    try:
        return arrays[name]
    except KeyError:
        raise _corrupt(where, f"the structure refers to a tensor {name!r} that the file does not "
                              f"hold") from None


# ---------------------------------------------------------------------------- save
def _safetensors():
    """``safetensors.numpy``, imported on first save/load: the package is an optional extra, so
    that NumPy stays retrograd's only required dependency."""
    try:
        import safetensors.numpy
    except ImportError as e:
        raise ImportError("retrograd.save and retrograd.load write and read the safetensors "
                          "format: install it with `pip install safetensors` (or "
                          "`pip install retrograd[checkpoint]`)") from e
    return safetensors.numpy


def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Write ``obj`` (tensors, nested in dicts/lists/tuples, with numbers, strings, bools and
    None) to ``f``, a path or a binary file-like object, as safetensors. Writes to a path are
    atomic. The pickle-related arguments are accepted for compatibility and ignored."""
    enc = _Encoder()
    structure = enc.encode(obj, "")  # a flat state dict's tensors are named by its keys
    meta = {"format": "pt", _META_KEY: json.dumps({"version": _FORMAT_VERSION, "object": structure},
                                                  allow_nan=False, separators=(",", ":"))}
    data = _safetensors().save(enc.arrays, metadata=meta)
    if hasattr(f, "write"):
        _write_all(f, data)
        if hasattr(f, "flush"):
            f.flush()
        return
    _write_atomic(os.fspath(f), data)


def _write_all(fh, data):
    """Write ``data`` to the open file in chunks."""
    view = memoryview(data)
    for i in range(0, len(view), _CHUNK):
        fh.write(view[i:i + _CHUNK])


def _write_atomic(path, data):
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            _write_all(fh, data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def _file_mode(path):
    """The target's current permissions, or what a new file would get under the umask."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


# ---------------------------------------------------------------------------- load
def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None, **pickle_load_args):
    """Read an object written by ``save`` (or any safetensors file: a flat dict of tensors).

    Args:
        f: a path or a binary file-like object.
        map_location: None or ``"cpu"`` (default), a device or device string to move every
            tensor to, a dict mapping ``"cpu"`` to a device, or a function ``fn(tensor, "cpu")``
            returning the tensor to use.
        weights_only: True (default) refuses pickle files, including those written by
            ``torch.save``: unpickling can run arbitrary code. ``weights_only=False`` loads a
            plain pickle, *trusting the file completely*: only use it on files you made.

    A truncated, corrupt or foreign file raises ``RuntimeError`` naming the file.
    """
    name = _describe(f)
    data = _read(f, name)
    kind = _sniff(data)
    if kind in ("pickle", "zip"):
        if weights_only:
            what = ("a zip archive written by torch.save, which holds a pickle" if kind == "zip"
                    else "a pickle file")
            raise pickle.UnpicklingError(
                f"retrograd.load: {name} is {what}. Loading it is refused because unpickling runs "
                f"whatever code the file names: a malicious file can take over your machine. "
                f"retrograd checkpoints are safetensors files. If you made this file yourself and "
                f"trust it, pass weights_only=False to unpickle it (at your own risk); for a "
                f"torch.save checkpoint, convert it once with PyTorch: "
                f"safetensors.torch.save_file(torch.load(path), new_path).")
        if kind == "zip":
            raise RuntimeError(f"retrograd.load: {name} is a torch.save zip archive; retrograd "
                               f"cannot read its storages. Convert it with PyTorch: "
                               f"safetensors.torch.save_file(torch.load(path), new_path).")
        try:
            return pickle.loads(data, **pickle_load_args)
        except Exception as e:
            raise RuntimeError(f"retrograd.load: could not unpickle {name}: {e}") from e
    arrays, meta = _parse_safetensors(data, name)
    structure = meta.get(_META_KEY)
    if structure is None:
        obj = {k: Tensor._make(v, None, False) for k, v in arrays.items()}
    else:
        try:
            doc = json.loads(structure)
        except ValueError as e:
            raise _corrupt(name, f"its structure metadata is not valid JSON ({e})") from None
        if not isinstance(doc, dict) or "object" not in doc:
            raise _corrupt(name, "its structure metadata has no 'object' entry")
        if doc.get("version", 1) > _FORMAT_VERSION:
            raise RuntimeError(f"retrograd.load: {name} was written by a newer retrograd (format "
                               f"version {doc['version']}); upgrade retrograd to read it")
        obj = _decode(doc["object"], arrays, name, {})
    return _map(obj, map_location)


def _describe(f):
    if hasattr(f, "read"):
        n = getattr(f, "name", None)
        return f"{n!r}" if isinstance(n, str) else f"the file object {type(f).__name__}"
    return f"{os.fspath(f)!r}"


def _read(f, name):
    if hasattr(f, "read"):
        data = f.read()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"retrograd.load: {name} must be opened in binary mode (read() "
                            f"returned {type(data).__name__})")
        return bytes(data)
    with open(os.fspath(f), "rb") as fh:
        return fh.read()


def _sniff(data):
    if data[:4] == b"PK\x03\x04":
        return "zip"
    if len(data) >= 2 and data[0] == 0x80 and 2 <= data[1] <= 5:
        return "pickle"
    return "safetensors"


def _corrupt(name, why):
    return RuntimeError(f"retrograd.load: {name} is not a valid retrograd checkpoint (a "
                        f"safetensors file): {why}. The file may be truncated (an interrupted "
                        f"copy or download), corrupt, or of another format.")


def _parse_safetensors(data, name):
    """Check the header ourselves (for clear errors), then read the tensors with safetensors."""
    size = len(data)
    if size < 8:
        raise _corrupt(name, f"it is only {size} bytes long")
    (n,) = struct.unpack("<Q", data[:8])
    if n > size - 8:
        raise _corrupt(name, f"its first 8 bytes announce a {n}-byte header but the file has "
                             f"{size} bytes")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _corrupt(name, "its header is not valid JSON") from None
    if not isinstance(header, dict):
        raise _corrupt(name, "its header is not a JSON object")
    meta = header.pop("__metadata__", None) or {}
    end = 0
    for k, info in header.items():
        try:
            end = max(end, int(info["data_offsets"][1]))
        except (TypeError, KeyError, IndexError, ValueError):
            raise _corrupt(name, f"the header entry {k!r} has no valid data_offsets") from None
    if 8 + n + end > size:
        raise _corrupt(name, f"the header describes {end} bytes of tensor data but only "
                             f"{size - 8 - n} follow it")
    st = _safetensors()
    try:
        arrays = st.load(data)
    except Exception as e:
        raise _corrupt(name, f"safetensors could not read it ({type(e).__name__}: {e})") from None
    order = sorted(header, key=lambda k: header[k]["data_offsets"][0])
    arrays = {k: _writable(arrays[k]) for k in order}
    if not isinstance(meta, dict):
        raise _corrupt(name, "its __metadata__ is not a JSON object")
    return arrays, meta


def _writable(a):
    return a if a.flags.writeable else a.copy()


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
        if isinstance(x, Tensor):
            if fn is not None:
                r = fn(x, "cpu")
                return x if r is None else r
            return x.to(target) if str(target) != "cpu" else x
        if isinstance(x, dict):
            return {k: move(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return type(x)(move(v) for v in x)
        return x
    return move(obj)
