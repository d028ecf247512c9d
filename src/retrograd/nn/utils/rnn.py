"""Variable-length batches for recurrent layers: padding and packing (``torch.nn.utils.rnn``).

A :class:`PackedSequence` holds the time steps of a batch of sequences, sorted by decreasing
length, one step after the other: ``data`` is ``(sum(lengths), *)`` and ``batch_sizes[t]`` is
how many sequences are still running at step ``t``. Every conversion here is one differentiable
gather, so gradients flow from packed data back to the padded input and vice versa.
"""

from collections import namedtuple

import numpy as np

from ... import _creation
from ..._tensor import Tensor
from ...ops.shape import cat, stack

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpad_sequence",
    "pack_sequence",
    "unpack_sequence",
]

_Fields = namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


def invert_permutation(permutation):
    """The permutation that undoes ``permutation`` (None stays None)."""
    if permutation is None:
        return None
    perm = np.asarray(permutation.detach().cpu().numpy(), dtype=np.int64)
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(perm.size, dtype=np.int64)
    return _creation.tensor(inverse, device=permutation.device)


class PackedSequence(_Fields):
    """``PackedSequence(data, batch_sizes, sorted_indices=None, unsorted_indices=None)``.

    Build one with :func:`pack_padded_sequence` or :func:`pack_sequence`. ``batch_sizes`` is an
    int64 CPU tensor; ``sorted_indices`` maps sorted position to original batch index (None when
    the batch was already sorted) and ``unsorted_indices`` is its inverse. Passing
    ``batch_sizes=None`` takes ``(data, batch_sizes)`` from the first argument.
    """

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if batch_sizes is None:
            if not isinstance(data, (tuple, list)) or len(data) != 2:
                raise TypeError("PackedSequence: with batch_sizes=None, data must be a (data, batch_sizes) pair")
            data, batch_sizes = data
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """A PackedSequence with ``data.to(*args, **kwargs)``; the indices follow to the device,
        ``batch_sizes`` stays on the CPU. Returns ``self`` when nothing changes."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        sorted_i, unsorted_i = self.sorted_indices, self.unsorted_indices
        if sorted_i is not None:
            sorted_i, unsorted_i = sorted_i.to(data.device), unsorted_i.to(data.device)
        return type(self)(data, self.batch_sizes, sorted_i, unsorted_i)

    def cuda(self, *args, **kwargs):
        return self.to(self.data.cuda(*args, **kwargs).device)

    def cpu(self):
        return self.to("cpu")

    def pin_memory(self):
        return self

    def is_pinned(self):
        return False

    def double(self):
        return self.to(dtype=_dtype("float64"))

    def float(self):
        return self.to(dtype=_dtype("float32"))

    def half(self):
        return self.to(dtype=_dtype("float16"))

    def long(self):
        return self.to(dtype=_dtype("int64"))

    def int(self):
        return self.to(dtype=_dtype("int32"))

    def short(self):
        return self.to(dtype=_dtype("int16"))

    def char(self):
        return self.to(dtype=_dtype("int8"))

    def byte(self):
        return self.to(dtype=_dtype("uint8"))

    @property
    def is_cuda(self):
        return self.data.is_cuda


def _dtype(name):
    from ... import _dtype as dtypes

    return getattr(dtypes, name)


def _lengths_array(lengths):
    if isinstance(lengths, Tensor):
        if lengths.is_cuda:
            raise RuntimeError("'lengths' argument should be a 1D CPU int64 tensor, but got 1D cuda tensor")
        lengths = lengths.detach().numpy()
    arr = np.asarray(lengths)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iub"):
        raise RuntimeError(
            f"'lengths' argument should be a 1D list or CPU int64 tensor of lengths, "
            f"got shape {arr.shape} and dtype {arr.dtype}"
        )
    return arr.astype(np.int64)


def _batch_sizes(lengths):
    """batch_sizes[t] = how many of the (decreasing) lengths exceed t."""
    steps = np.arange(int(lengths[0]) if lengths.size else 0)
    return (lengths[None, :] > steps[:, None]).sum(1).astype(np.int64)


def _index(values, device):
    return _creation.tensor(np.asarray(values, dtype=np.int64), device=device)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``) of sequences of the
    given ``lengths``. With ``enforce_sorted`` the lengths must be decreasing; otherwise the batch
    is sorted here and the permutation kept in the result."""
    lengths = _lengths_array(lengths)
    batch_dim = 0 if batch_first else 1
    if lengths.size != input.shape[batch_dim]:
        raise ValueError(
            f"pack_padded_sequence: expected {input.shape[batch_dim]} lengths (the batch size), got {lengths.size}"
        )
    if lengths.size and lengths.min() <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0"
        )
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability."
            )
        sorted_indices = None
        order = np.arange(lengths.size)
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices = _index(order, input.device)
        lengths = lengths[order]
    total = input.shape[1 - batch_dim]
    if lengths.size and lengths[0] > total:
        raise RuntimeError(f"pack_padded_sequence: a length of {lengths[0]} exceeds the padded sequence length {total}")
    batch_sizes = _batch_sizes(lengths)
    # Row of the flattened (T * B, *) input for step t of the i-th sorted sequence.
    rows = [t * lengths.size + order[i] for t, b in enumerate(batch_sizes) for i in range(b)]
    if batch_first:
        input = input.transpose(0, 1)
    flat = input.reshape((-1,) + tuple(input.shape[2:]))
    data = flat.index_select(0, _index(rows, input.device))
    return PackedSequence(data, _creation.tensor(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Undo :func:`pack_padded_sequence`: returns ``(padded, lengths)``, ``padded`` being
    ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``) in the original batch order, ``T`` the
    longest length or ``total_length``, and ``lengths`` an int64 tensor."""
    data = sequence.data
    batch_sizes = _lengths_array(sequence.batch_sizes)
    max_len, batch = batch_sizes.size, int(batch_sizes[0]) if batch_sizes.size else 0
    if total_length is not None:
        if total_length < max_len:
            raise ValueError(
                f"Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being "
                f"{max_len}"
            )
        max_len = total_length
    # Each padded cell (t, i) takes its packed row, or the padding row appended at the end.
    pad_row = data.shape[0]
    source = np.full((max_len, batch), pad_row, dtype=np.int64)
    offset = 0
    for t, b in enumerate(batch_sizes):
        source[t, :b] = np.arange(offset, offset + b)
        offset += b
    lengths = (source != pad_row).sum(0).astype(np.int64)
    unsorted = sequence.unsorted_indices
    if unsorted is not None:
        perm = unsorted.detach().cpu().numpy()
        source, lengths = source[:, perm], lengths[perm]
    if batch_first:
        source = source.T
    filler = _creation.full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype, device=data.device)
    padded = cat([data, filler], 0).index_select(0, _index(source.reshape(-1), data.device))
    return padded.reshape(source.shape + tuple(data.shape[1:])), _creation.tensor(lengths)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack sequences ``(L_i, *)`` into ``(max L, B, *)`` (``(B, max L, *)`` with
    ``batch_first``), filling with ``padding_value`` on the ``padding_side`` ('right' or 'left')."""
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    sequences = list(sequences.unbind(0)) if isinstance(sequences, Tensor) else list(sequences)
    if not sequences:
        raise RuntimeError("pad_sequence: received an empty list of sequences")
    max_len = max(s.shape[0] for s in sequences)
    trailing = tuple(sequences[0].shape[1:])
    padded = []
    for s in sequences:
        if tuple(s.shape[1:]) != trailing:
            raise RuntimeError(
                f"pad_sequence: every sequence must have the trailing shape {trailing}, got {tuple(s.shape[1:])}"
            )
        missing = max_len - s.shape[0]
        if missing:
            fill = _creation.full((missing,) + trailing, padding_value, dtype=s.dtype, device=s.device)
            s = cat([s, fill] if padding_side == "right" else [fill, s], 0)
        padded.append(s)
    return stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Split a padded batch back into the list of its sequences (right padding assumed)."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    lengths = _lengths_array(lengths)
    return [seq[: int(n)] for seq, n in zip(padded_sequences.unbind(0), lengths)]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of sequences ``(L_i, *)``; equivalent to padding then
    :func:`pack_padded_sequence`."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of sequences of a :class:`PackedSequence`, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
