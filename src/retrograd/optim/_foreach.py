"""``foreach=True``: one kernel call over flat buffers instead of one per parameter.

A step of a model with many small parameters (biases, norms) costs mostly the per-array
overhead of each NumPy call, a dozen per parameter for Adam. Here the small dense parameters of
a group are bucketed by dtype, array module, device and step count; each bucket's parameters and
gradients are copied into one flat array each, the kernel runs once on those, and the
parameters are copied back. Their state buffers live in flat arrays across steps: each
parameter's ``state[name]`` is a view into the bucket's buffer, so they cost nothing to gather.

The kernels are elementwise, so the result is exactly the per-tensor one. Parameters over
``FLAT_MAX`` elements (where the copies cost more than the calls they save, and a per-tensor
update of an array that fits in the CPU caches is fast anyway), sparse gradients, gradients of
another dtype or array type, state that is missing or not an array like the parameter, and
buckets of one run per tensor. A flat call covers at most ``CHUNK`` elements, which keeps its
arrays in the caches and bounds the work arrays.
"""

from operator import is_

import numpy as np

from ..backend import array_module

FLAT_MAX = 4096  # measured: flat wins below, per tensor above (cache-resident arrays)
CHUNK = 1 << 16  # elements per flat call: its arrays stay in the CPU caches


class _Flat:
    """The flat layout of one bucket: its parameter arrays (identity checked at each step), a
    flat parameter array with a view per parameter, and per buffer a flat array and its views."""

    __slots__ = ("arrays", "P", "pviews", "flats", "views")

    def __init__(self, arrays, n_buffers):
        xp = array_module(arrays[0])
        total = sum(a.size for a in arrays)
        if xp is np:
            self.P = np.empty(total, arrays[0].dtype)
        else:
            with arrays[0].device:
                self.P = xp.empty(total, arrays[0].dtype)
        self.arrays = arrays
        self.pviews = _views(self.P, arrays)
        self.flats = [None] * n_buffers
        self.views = [None] * n_buffers

    def adopt(self, k, flat):
        """Make ``flat`` (laid out like P) the bucket's buffer ``k``; returns its views."""
        self.flats[k] = flat
        self.views[k] = _views(flat, self.arrays)
        return self.views[k]


def _views(flat, arrays):
    out, o = [], 0
    for a in arrays:
        n = a.size
        out.append(flat[o : o + n].reshape(a.shape))
        o += n
    return out


def run(kernel, batch, has_step, hyper, work, cache):
    """Run ``kernel`` over ``batch`` (see ``Optimizer._run``) on flat buffers where that pays,
    per tensor elsewhere. ``cache`` maps a bucket's parameter arrays to its ``_Flat``."""
    params, grads, buffers, steps = batch.params, batch.grads, batch.buffers, batch.steps
    absent = [all(b is None for b in lst) for lst in buffers]
    unlike = set()  # parameters with a buffer that is missing or not an array like them
    for lst, gone in zip(buffers, absent):
        if not gone:
            unlike.update(i for i, (p, b) in enumerate(zip(params, lst)) if type(b) is not type(p))
    singles, buckets = [], {}
    for i, p in enumerate(params):
        g = grads[i]
        if p.size > FLAT_MAX or type(g) is not type(p) or g.dtype != p.dtype or i in unlike:
            singles.append(i)
            continue
        key = (p.dtype, type(p), None if type(p) is np.ndarray else p.device.id, steps[i] if has_step else None)
        buckets.setdefault(key, []).append(i)
    chunks = []
    for idx in buckets.values():
        start, total = 0, 0
        for j, i in enumerate(idx):
            total += params[i].size
            if total > CHUNK and j > start:
                chunks.append(idx[start:j])
                start, total = j, params[i].size
        chunks.append(idx[start:])
    for idx in chunks:
        if len(idx) == 1 or not _run_flat(kernel, idx, batch, absent, has_step, hyper, work, cache):
            singles.extend(idx)
    if singles:
        singles.sort()
        sub = [[lst[i] for i in singles] for lst in buffers]
        args = [[params[i] for i in singles], [grads[i] for i in singles], *sub]
        if has_step:
            args.append([steps[i] for i in singles])
        kernel(*args, work=work, **hyper)
        for lst, new in zip(buffers, sub):
            for i, b in zip(singles, new):
                lst[i] = b


def _run_flat(kernel, idx, batch, absent, has_step, hyper, work, cache):
    """One kernel call for the bucket ``idx``; False (nothing done) when its state is not laid
    out like its parameters."""
    params, buffers = batch.params, batch.buffers
    arrays = [params[i] for i in idx]
    key = tuple(map(id, arrays))
    e = cache.get(key)
    if e is None or not all(map(is_, e.arrays, arrays)):
        e = cache[key] = _Flat(arrays, len(buffers))
    flat_bufs = []
    for k, lst in enumerate(buffers):
        if absent[k]:
            flat_bufs.append([None])
            continue
        sel = [lst[i] for i in idx]
        views = e.views[k]
        if views is None or not all(map(is_, views, sel)):  # first step, or the state was replaced
            if any(b.shape != a.shape or b.dtype != a.dtype for a, b in zip(arrays, sel)):
                return False
            flat = array_module(arrays[0]).concatenate([b.reshape(-1) for b in sel])
            for i, v in zip(idx, e.adopt(k, flat)):
                lst[i] = v  # stored into the state (re-pointed) by Optimizer._run
        flat_bufs.append([e.flats[k]])
    xp = array_module(e.P)
    xp.concatenate([a.reshape(-1) for a in arrays], out=e.P)
    G = work.get("flat_grad", e.P)
    xp.concatenate([batch.grads[i].reshape(-1) for i in idx], out=G)
    args = [[e.P], [G], *flat_bufs]
    if has_step:
        args.append([batch.steps[idx[0]]])
    kernel(*args, work=work, **hyper)
    for k, fl in enumerate(flat_bufs):
        if fl[0] is not None and fl[0] is not e.flats[k]:  # the kernel made the buffer (SGD)
            for i, v in zip(idx, e.adopt(k, fl[0])):
                buffers[k][i] = v
    for a, v in zip(arrays, e.pviews):
        a[...] = v
    return True
