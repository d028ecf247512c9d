"""The safetensors file format, read and written here with NumPy alone, as streams.

A file is: 8 bytes, a little-endian unsigned 64-bit N; N bytes of UTF-8 JSON, an object that
maps each tensor's name to ``{"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}``
and may map ``"__metadata__"`` to a ``{str: str}`` object; then the tensors' bytes (C order,
little-endian), tensor k at ``[begin, end)`` counted from the end of the header. The byte
ranges tile the data exactly: no gaps, no overlaps, nothing after the last one. These are the
rules the ``safetensors`` package enforces, so its files and ours are interchangeable.

Reading checks the whole header against the file's size before reading any tensor data, so a
corrupt or hostile file is refused after reading at most its header (at most 100 MB, the
package's limit), and a valid one is read straight into the arrays it returns: one copy of the
data. Writing streams each array's buffer to the file, a bounded chunk at a time.
"""

import json
import math
import struct

import numpy as np

from . import _dtype

MAX_HEADER = 100_000_000
_CHUNK = 1 << 22

# file dtype code -> NumPy dtype (the codes NumPy can hold; BF16 and the F8 types are ml_dtypes',
# looked up on first use: _LOW_CODES)
_DTYPES = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "C64": "<c8",
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U64": "<u8",
    "U32": "<u4",
    "U16": "<u2",
    "U8": "u1",
    "BOOL": "?",
}
_DTYPES = {k: np.dtype(v) for k, v in _DTYPES.items()}
_CODES = {(d.kind, d.itemsize): k for k, d in _DTYPES.items()}
_LOW_CODES = {"BF16": "bfloat16", "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2"}
_LOW_NAMES = {v: k for k, v in _LOW_CODES.items()}


class InvalidCheckpointError(RuntimeError):
    """``retrograd.load`` cannot read the file: it is truncated, corrupt, of another format,
    inconsistent, or holds what retrograd cannot represent. The message names the file."""

    __module__ = "retrograd.serialization"  # where users import it from


def invalid(name, why):
    return InvalidCheckpointError(
        f"retrograd.load: {name} is not a valid retrograd checkpoint (a safetensors file): {why}. "
        f"The file may be truncated (an interrupted copy or download), corrupt, or of another "
        f"format."
    )


def dtype_code(dt):
    """The file's code for NumPy dtype ``dt`` ("F32"), or None if the format has none."""
    return _LOW_NAMES.get(dt.name) or _CODES.get((dt.kind, dt.itemsize))


class Entry:
    """One tensor of a file: its name, NumPy dtype, shape and byte range in the data."""

    __slots__ = ("name", "dtype", "shape", "begin", "end")

    def __init__(self, name, dtype, shape, begin, end):
        self.name, self.dtype, self.shape, self.begin, self.end = name, dtype, shape, begin, end


# ---------------------------------------------------------------------------- writing
def write(fh, arrays, metadata, to_host):
    """Write ``{name: array}`` and ``metadata`` ({str: str}) to the binary file ``fh``.

    ``to_host(a)`` gives a NumPy array for a stored array (a device array is copied to the host
    only when its turn comes). The data is ordered by decreasing itemsize, after a header padded
    to a multiple of 8 bytes, so every tensor starts aligned for its dtype (as the safetensors
    package does it)."""
    order = sorted(arrays, key=lambda k: -arrays[k].dtype.itemsize)
    header = {"__metadata__": metadata} if metadata else {}
    offset = 0
    for k in order:
        a = arrays[k]
        header[k] = {"dtype": dtype_code(a.dtype), "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    if len(raw) > MAX_HEADER:
        raise ValueError(
            f"retrograd.save: the checkpoint's header (tensor names and the "
            f"structure of plain values) would take {len(raw)} bytes, more than the "
            f"{MAX_HEADER} that safetensors readers accept; store large collections "
            f"of numbers as tensors"
        )
    fh.write(struct.pack("<Q", len(raw)))
    fh.write(raw)
    for k in order:
        for chunk in _chunks(to_host(arrays[k])):
            fh.write(chunk)


def _chunks(a):
    """The bytes of ``a`` in C order, little-endian, as memoryviews of at most about _CHUNK
    bytes: views of ``a`` when it is contiguous and little-endian, small copies otherwise."""
    if a.size == 0:
        return
    le = a.dtype.newbyteorder("<")
    if a.ndim == 0:
        a = a.reshape(1)
    rows = max(1, _CHUNK // max(1, a[0].nbytes))
    for i in range(0, a.shape[0], rows):
        block = a[i : i + rows]
        if block.dtype != le:
            block = block.astype(le)
        elif not block.flags.c_contiguous:
            block = np.ascontiguousarray(block)
        yield memoryview(block.reshape(-1).view(np.uint8))


# ---------------------------------------------------------------------------- reading
def parse_header(head, header, name, size):
    """Check a file's first 8 bytes ``head`` and its ``header`` bytes (None when they were not
    read because ``head`` announces too many) against ``size``, the file's length (None when
    unknown). Returns (entries ordered by offset, metadata dict, length of the data section)."""
    if len(head) < 8:
        raise invalid(name, f"it is only {len(head)} bytes long")
    (n,) = struct.unpack("<Q", head)
    if n > MAX_HEADER:
        raise invalid(
            name, f"its first 8 bytes announce a {n}-byte header, more than the {MAX_HEADER} bytes safetensors allows"
        )
    if size is not None and n > size - 8:
        raise invalid(name, f"its first 8 bytes announce a {n}-byte header but the file has {size} bytes")
    if header is None or len(header) < n:
        got = 8 + (0 if header is None else len(header))
        raise invalid(name, f"its first 8 bytes announce a {n}-byte header but the file ends after {got} bytes")
    try:
        doc = json.loads(header.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise invalid(name, "its header is not valid JSON") from None
    if not isinstance(doc, dict):
        raise invalid(name, "its header is not a JSON object")
    meta = doc.pop("__metadata__", None)
    if meta is None:
        meta = {}
    if not (isinstance(meta, dict) and all(isinstance(v, str) for v in meta.values())):
        raise invalid(name, "its __metadata__ is not a JSON object of strings")
    entries = sorted((_entry(k, info, name) for k, info in doc.items()), key=lambda e: (e.begin, e.end))
    end = 0
    for e in entries:
        if e.begin != end:
            what = "overlaps the previous tensor" if e.begin < end else "leaves a gap before it"
            raise invalid(name, f"the data of tensor {e.name!r} (bytes {e.begin} to {e.end}) {what}")
        end = e.end
    if size is not None:
        follows = size - 8 - n
        if end > follows:
            raise invalid(name, f"the header describes {end} bytes of tensor data but only {follows} follow it")
        if end < follows:
            raise invalid(name, f"{follows - end} bytes follow the last tensor's data")
    return entries, meta, end


def _entry(key, info, name):
    def bad(why):
        return invalid(name, f"the header entry {key!r} {why}")

    if not isinstance(info, dict):
        raise bad("is not a JSON object")
    code, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if not isinstance(code, str) or code not in _DTYPES and code not in _LOW_CODES:
        if isinstance(code, str) and code.startswith("F8"):
            raise InvalidCheckpointError(
                f"retrograd.load: {name} holds tensor {key!r} of dtype {code}, which NumPy (and "
                f"so retrograd) cannot represent; convert it to float32 where it was written"
            )
        raise bad(f"has no valid dtype ({code!r})")
    if not (isinstance(shape, list) and all(_is_count(s) for s in shape)):
        raise bad(f"has no valid shape ({shape!r})")
    if not (
        isinstance(offsets, list) and len(offsets) == 2 and all(map(_is_count, offsets)) and offsets[0] <= offsets[1]
    ):
        raise bad(f"has no valid data_offsets ({offsets!r})")
    dtype = _DTYPES[code] if code in _DTYPES else _dtype.to_np(_LOW_CODES[code])
    nbytes = math.prod(shape) * dtype.itemsize
    if offsets[1] - offsets[0] != nbytes:
        raise bad(
            f"has shape {shape} of {code}, {nbytes} bytes, but data_offsets {offsets} span {offsets[1] - offsets[0]}"
        )
    return Entry(key, dtype, tuple(shape), offsets[0], offsets[1])


def _is_count(x):
    return type(x) is int and x >= 0


def read_arrays(fh, entries, name):
    """Read the data section that follows the header in ``fh`` into new arrays, one per entry
    (``parse_header``'s entries, in order)."""
    out = {}
    for e in entries:
        a = _empty(e, name)
        buf = a.reshape(-1).view(np.uint8)
        got = _read_into(fh, buf)
        if got < len(buf):
            raise invalid(name, f"the file ends inside the data of tensor {e.name!r} ({got} of its {len(buf)} bytes)")
        out[e.name] = _checked(a, e, name)
    return out


def map_arrays(mm, entries, start, name):
    """Arrays over the mapped file ``mm`` whose data section begins at byte ``start``."""
    out = {}
    for e in entries:
        if e.begin == e.end:
            a = _empty(e, name)
        else:
            a = np.frombuffer(mm, e.dtype, math.prod(e.shape), start + e.begin).reshape(e.shape)
        out[e.name] = _checked(a, e, name)
    return out


def _empty(e, name):
    try:
        return np.empty(e.shape, e.dtype)
    except ValueError as err:  # e.g. more dimensions than NumPy allows
        raise invalid(name, f"tensor {e.name!r} has shape {list(e.shape)}: {err}") from None


def _checked(a, e, name):
    if a.dtype.kind == "b" and a.size and a.view(np.uint8).max() > 1:
        raise invalid(name, f"the bool tensor {e.name!r} holds bytes other than 0 and 1")
    if not a.dtype.isnative:
        a = a.astype(a.dtype.newbyteorder("="))
    return a


def _read_into(fh, buf):
    """Fill the uint8 array ``buf`` from ``fh``; returns how many bytes it got before EOF."""
    view = memoryview(buf)
    got, total = 0, len(view)
    readinto = getattr(fh, "readinto", None)
    while got < total:
        if readinto is not None:
            k = readinto(view[got:])
        else:
            data = fh.read(min(_CHUNK, total - got))
            k = len(data)
            view[got : got + k] = data
        if not k:
            break
        got += k
    return got
