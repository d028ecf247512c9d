"""embedding_bag: sums, means or maxima of bags of embedding rows.

Composed from ``embedding`` (so ``sparse=True`` gives a sparse gradient for the weight) and a
per-bag reduction: ``index_add`` for sum and mean, the winning rows gathered for max. A bag is
a row of a 2-D ``input``, or, for a 1-D ``input``, the run from ``offsets[i]`` to the next
offset. Entries equal to ``padding_idx`` are left out of their bag; an empty bag gives zeros.
"""

import numpy as np

from .. import _creation
from ..autograd import grad_mode as _grad_mode
from .._tensor import Tensor
from .layers import embedding
from .shape import cat
from ._declare import declare


def _bags(input, offsets, include_last_offset, per_sample_weights):
    """(flat input, flat weights, start and end of each bag) from the two input layouts."""
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError(
                f"if input is 2D, then offsets has to be None, as input is treated is a "
                f"mini-batch of fixed length sequences. However, found offsets of type "
                f"{type(offsets).__name__}"
            )
        n_bags, length = input.shape
        starts = np.arange(0, n_bags * length, length)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
        return input.reshape(-1), per_sample_weights, starts, starts + length
    if input.dim() != 1:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    if offsets is None:
        raise ValueError("offsets has to be a 1D Tensor but got None")
    if not isinstance(offsets, Tensor) or offsets.dim() != 1:
        raise ValueError("offsets has to be a 1D Tensor")
    bounds = offsets.numpy(force=True).astype(np.int64)
    if include_last_offset:
        starts, ends = bounds[:-1], bounds[1:]
    else:
        starts, ends = bounds, np.append(bounds[1:], input.shape[0])
    if len(starts) and (starts[0] != 0 or np.any(ends < starts) or ends[-1] > input.shape[0]):
        raise RuntimeError(
            f"embedding_bag: offsets must start at 0, be non-decreasing and stay within "
            f"the input of length {input.shape[0]} (got {bounds.tolist()})"
        )
    return input, per_sample_weights, starts, ends


def embedding_bag(
    input,
    weight,
    offsets=None,
    max_norm=None,
    norm_type=2,
    scale_grad_by_freq=False,
    mode="mean",
    sparse=False,
    per_sample_weights=None,
    include_last_offset=False,
    padding_idx=None,
):
    """One row per bag: the sum, mean or max of the embedding rows of the bag's indices
    (``per_sample_weights`` scales each row first, for mode='sum')."""
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max (got {mode!r})")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    if per_sample_weights is not None and tuple(per_sample_weights.shape) != tuple(input.shape):
        raise ValueError(
            f"embedding_bag: If per_sample_weights ({tuple(per_sample_weights.shape)}) is not "
            f"None, then it must have the same shape as the input ({tuple(input.shape)})"
        )
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            f"embedding_bag: per_sample_weights was not None. per_sample_weights "
            f"is only supported for mode='sum' (got mode='{mode}'). Please open a "
            f"feature request on GitHub."
        )
    n_rows = weight.shape[0]
    if padding_idx is not None:
        if not -n_rows <= padding_idx < n_rows:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx %= n_rows
    input, per_sample_weights, starts, ends = _bags(input, offsets, include_last_offset, per_sample_weights)
    n_bags = len(starts)
    bag_of = np.repeat(np.arange(n_bags), ends - starts)
    idx = input.numpy(force=True)
    keep = np.ones(idx.shape, dtype=bool) if padding_idx is None else idx != padding_idx
    if not keep.all():
        kept = _creation.tensor(np.nonzero(keep)[0], device=input.device)
        input = input[kept]
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights[kept]
    bag_of = bag_of[keep]
    rows = embedding(input, weight, None, max_norm, norm_type, scale_grad_by_freq, sparse)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.unsqueeze(1)
    out = _creation.zeros((n_bags, weight.shape[1]), dtype=rows.dtype, device=rows.device)
    bags = _creation.tensor(bag_of, device=input.device)
    if mode == "max":
        return _bag_max(out, bags.unsqueeze(1).expand(rows.shape), rows)
    out = out.index_add(0, bags, rows)
    if mode == "mean":
        counts = np.maximum(np.bincount(bag_of, minlength=n_bags), 1)
        out = out / _creation.tensor(counts[:, None], dtype=out.dtype, device=out.device)
    return out


def _bag_max(zeros, index, rows):
    """Each bag's column maxima, as the rows that hold them (the first on ties, zeros for an
    empty bag) gathered from ``rows``: as PyTorch's max indices, the gradient goes to the one
    winning entry, and nothing but the winners' positions is saved for backward, so the result
    may be modified in place before backward."""
    n = rows.shape[0]
    with _grad_mode.no_grad():
        peak = zeros.scatter_reduce(0, index, rows.detach(), "amax", include_self=False)
        at = peak.gather(0, index)
        wins = (rows == at) | (rows.isnan() & at.isnan())
        order = _creation.arange(n, device=rows.device).unsqueeze(1).expand(rows.shape)
        candidates = order.masked_fill(~wins, n)
        first = _creation.full(zeros.shape, n, dtype=order.dtype, device=rows.device)
        first = first.scatter_reduce(0, index, candidates, "amin")
    padded = cat([rows, _creation.zeros((1, rows.shape[1]), dtype=rows.dtype, device=rows.device)])
    return padded.gather(0, first)


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(embedding_bag, torch=False, functional=("embedding_bag",))
