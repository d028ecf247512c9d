"""Spatial transformers: affine_grid and grid_sample (2-D and 3-D), composed of differentiable
ops, so gradients reach the input, the sampling grid and theta.

Normalised coordinates run from -1 to 1 across the input. With align_corners=True, -1 and 1 are
the centres of the corner pixels: pixel = (c + 1) / 2 (size - 1); with False they are the outer
edges: pixel = ((c + 1) size - 1) / 2. grid[..., 0] is x (the last spatial dim), grid[..., 1] is
y, grid[..., 2] is z.

bilinear (trilinear in 3-D): out = sum over the 2^d corners of the cell around the point of
prod_k w_k * input[corner], w_k = 1 - |p_k - corner_k|; the weights are differentiable in the
point, so the gradient reaches the grid. nearest: the pixel nearest the point (ties to even),
no gradient to the grid. Out-of-range points: 'zeros' reads 0 outside, 'border' clamps the point
into the input, 'reflection' reflects it at the borders (then clamps).
"""

import itertools
import math

import numpy as np

from .._compile.state import recorded
from .._tensor import Tensor
from ..backend import array_module
from . import elementwise as ew
from . import shape as sh
from .indexing import gather
from .._warn import warn_user
from ._declare import declare
from .._autocast import FLOAT32, ACTIVE as _AMP, _amp, autocast_call

_ALIGN_WARNING = (
    "Default grid_sample and affine_grid behavior has changed to align_corners=False since "
    "1.3.0. Please specify align_corners=True if the old behavior is desired. See the "
    "documentation of grid_sample for details."
)


def _align(align_corners):
    if align_corners is None:
        warn_user(_ALIGN_WARNING, UserWarning)
        return False
    return bool(align_corners)


# --------------------------------------------------------------------------- affine_grid
def _base_coords(n, align_corners, dtype, device):
    """The normalised centres of n pixels (0 for a single pixel, as PyTorch)."""
    from .._creation import arange, zeros

    if n <= 1:
        return zeros(n, dtype=dtype, device=device)
    steps = arange(n, dtype=dtype, device=device)
    if align_corners:
        return steps * (2.0 / (n - 1)) - 1
    return (steps * 2 + 1) / n - 1


def affine_grid(theta, size, align_corners=None):
    """The sampling grid (N, H, W, 2) of the affine maps theta (N, 2, 3) over an output of
    ``size`` (N, C, H, W); or (N, D, H, W, 3) from theta (N, 3, 4) and size (N, C, D, H, W)."""
    align = _align(align_corners)
    size = tuple(int(s) for s in size)
    if theta._data.dtype.kind not in "fV":
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    nd = len(size) - 2
    if nd not in (2, 3):
        raise NotImplementedError(
            f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
            f"respectively. Got size {list(size)}."
        )
    if tuple(theta._data.shape) != (size[0], nd, nd + 1):
        raise ValueError(
            f"Expected a batch of {nd}D affine matrices of shape Nx{nd}x{nd + 1} for size "
            f"{list(size)}. Got {list(theta._data.shape)}."
        )
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {list(size)}")
    spatial = size[2:]
    dt, dev = theta.dtype, theta.device
    axes = [_base_coords(n, align, dt, dev) for n in reversed(spatial)]  # x, y (, z)
    grids = [g.reshape(-1) for g in _meshgrid_spatial(axes, spatial)]
    from .._creation import ones

    base = sh.stack(grids + [ones(grids[0]._data.shape[0], dtype=dt, device=dev)], 1)  # (P, nd + 1)
    out = base.unsqueeze(0) @ theta.transpose(1, 2)  # (N, P, nd)
    return out.reshape((size[0],) + spatial + (nd,))


def _meshgrid_spatial(axes, spatial):
    """Coordinate k (x, y, z) at every output position, each of shape ``spatial`` (D, H, W)."""
    nd = len(spatial)
    out = []
    for k, a in enumerate(axes):
        dim = nd - 1 - k  # x runs along the last spatial dim
        shape = [1] * nd
        shape[dim] = -1
        out.append(a.reshape(shape).expand(spatial))
    return out


# --------------------------------------------------------------------------- grid_sample
def _unnormalize(c, size, align):
    if align:
        return (c + 1) * ((size - 1) / 2)
    return ((c + 1) * size - 1) / 2


def _reflect(c, twice_low, twice_high):
    """Reflect c into [twice_low / 2, twice_high / 2] (PyTorch's reflect_coordinates)."""
    if twice_low == twice_high:
        return c * 0
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    d = ew.abs(c - low)
    extra = ew.fmod(d, span)
    flips = ew.floor(d / span)
    even = ew.remainder(flips, 2) == 0
    return ew.where(even, extra + low, span - extra + low)


def _pad_coord(c, size, padding_mode, align):
    if padding_mode == "border":
        return ew.clamp(c, 0, size - 1)
    if padding_mode == "reflection":
        c = _reflect(c, 0, 2 * (size - 1)) if align else _reflect(c, -1, 2 * size - 1)
        return ew.clamp(c, 0, size - 1)
    return c


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample ``input`` (N, C, H, W) at the points ``grid`` (N, Ho, Wo, 2) in normalised
    coordinates, giving (N, C, Ho, Wo); 5-D input with a (N, Do, Ho, Wo, 3) grid likewise."""
    if _AMP[0] and _amp.on:
        return autocast_call(grid_sample, FLOAT32, input, grid, mode, padding_mode, align_corners)
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(
            f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: '{mode}'"
        )
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(
            f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
            f"'reflection', but got: '{padding_mode}'"
        )
    if mode == "bicubic":
        raise NotImplementedError("grid_sample: mode='bicubic' is not supported; use 'bilinear' or 'nearest'")
    align = _align(align_corners)
    nd = input._data.ndim - 2
    if nd not in (2, 3) or grid._data.ndim != nd + 2:
        raise RuntimeError(
            f"grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, "
            f"but got input with sizes {list(input._data.shape)} and grid with sizes "
            f"{list(grid._data.shape)}"
        )
    N, C = input._data.shape[:2]
    if grid._data.shape[0] != N or grid._data.shape[-1] != nd:
        raise RuntimeError(
            f"grid_sampler(): expected grid of shape (N, ..., {nd}) with N = {N} matching the "
            f"input, but got grid with sizes {list(grid._data.shape)}"
        )
    if input._data.dtype != grid._data.dtype:
        raise RuntimeError(
            f"grid_sampler(): expected input and grid to have the same dtype, but input has "
            f"{input.dtype} and grid has {grid.dtype}"
        )
    if input._data.dtype.kind not in "fV":
        raise RuntimeError(f"grid_sampler(): expected a floating point input, got {input.dtype}")
    sizes = input._data.shape[2:]
    out_spatial = grid._data.shape[1:-1]
    g = grid.reshape(N, -1, nd)
    # pixel coordinates, one per spatial dim of the input (D, H, W order): (N, P) each
    coords = [
        _pad_coord(_unnormalize(g[..., nd - 1 - k], s, align), s, padding_mode, align) for k, s in enumerate(sizes)
    ]
    flat = input.reshape(N, C, -1)
    strides = [math.prod(sizes[k + 1 :]) for k in range(nd)]
    xp = array_module(input._data)

    def read(bits, weight):
        """input at the corner ``bits`` of each point's cell, times ``weight`` (zero outside)."""
        idx, mask = recorded(
            _corner,
            xp,
            bits,
            tuple(sizes),
            tuple(strides),
            N,
            C,
            input._data.dtype,
            *[c._data for c in coords],
            label="grid_sample_corner",
            n_out=2,
        )
        return gather(flat, 2, Tensor._make(idx, None, False)) * (weight * Tensor._make(mask, None, False)).unsqueeze(1)

    if mode == "nearest":
        return read(None, 1.0).reshape((N, C) + tuple(out_spatial))
    lows = [Tensor._make(recorded(xp.floor, c._data, label="floor"), None, False) for c in coords]
    fracs = [c - lo for c, lo in zip(coords, lows)]
    out = None
    for bits in itertools.product((0, 1), repeat=nd):
        weight = None
        for b, f in zip(bits, fracs):
            w = f if b else 1 - f
            weight = w if weight is None else weight * w
        term = read(bits, weight)
        out = term if out is None else out + term
    return out.reshape((N, C) + tuple(out_spatial))


def _corner(xp, bits, sizes, strides, N, C, dtype, *coords):
    """For one corner of each point's cell (``bits``: 0 for the floor, 1 for the next pixel, per
    dim; None: the nearest pixel), its index into the input flattened to (N, C, P), broadcast
    over the channels, and a mask (in ``dtype``) of the points whose corner lies inside."""
    index = xp.zeros(coords[0].shape, dtype=np.int64)
    inside = xp.ones(coords[0].shape, dtype=bool)
    for k, (c, s, st) in enumerate(zip(coords, sizes, strides)):
        ci = xp.round(c) if bits is None else xp.floor(c) + bits[k]
        inside &= (ci >= 0) & (ci <= s - 1)
        index += xp.clip(xp.nan_to_num(ci), 0, s - 1).astype(np.int64) * st
    return xp.broadcast_to(index[:, None, :], (N, C, index.shape[1])), inside.astype(dtype)


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(affine_grid, torch=False, functional=("affine_grid",))
declare(grid_sample, torch=False, functional=("grid_sample",))
