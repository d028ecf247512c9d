"""Autocast state and the casts made at the entry of the ops PyTorch's autocast lists.

The state is thread-local, as in PyTorch. ``_amp.on`` is True while autocast is enabled for some
device type; ``ACTIVE[0]`` counts the threads where it is. An op on the lists checks
``ACTIVE[0] and _amp.on`` at entry, so that ops cost next to nothing more while autocast is
off. When it is on, the op calls :func:`autocast_call`, which

- casts the op's floating tensor arguments (not float64 ones, and only those on a device type
  whose autocast is enabled) to the autocast dtype (policy ``LOWER``: matrix products,
  convolutions, attention) or to float32 (``FLOAT32``: reductions, losses, decompositions PyTorch
  keeps in float32), or leaves them (``EXCLUDE``: ops PyTorch computes as one kernel, which run in
  their inputs' dtype while retrograd composes them from listed ops);
- runs the op with autocast off, as PyTorch does inside an autocast kernel, so that ops it is
  built from do not cast again. A backward pass runs with autocast off too (``excluded``, set by the engine); an
  ``autocast`` region entered inside either (``custom_bwd``) turns it on again.

The casts are differentiable ``.to()`` calls: gradients flow back in the original dtype. With
the cache enabled, the cast of a leaf that requires grad (a weight) is made once per outermost
autocast region.
"""

import threading

import numpy as np

from . import _dtype

LOWER, FLOAT32, EXCLUDE = 0, 1, 2
DEVICE_TYPES = ("cpu", "cuda")


class _State(threading.local):
    # class attributes are each thread's defaults
    on = False  # autocast enabled for cpu or cuda and not excluded: the flag the listed ops check
    excluded = 0  # inside a listed op or a backward pass: ops do not cast
    cpu = False
    cuda = False
    cpu_dtype = _dtype.bfloat16
    cuda_dtype = _dtype.float16
    cache_enabled = True
    depth = 0  # nesting of autocast regions; the cache is cleared leaving the outermost
    cache = None  # {id(leaf): (leaf, dtype, cast)}

    def refresh(self):
        on = bool((self.cpu or self.cuda) and not self.excluded)
        if on != self.on:
            with _lock:
                ACTIVE[0] += 1 if on else -1
            self.on = on


_amp = _State()
# How many threads have autocast on: ops check this process-wide count first (a list item reads
# faster than a thread-local attribute), and the thread's own flag only when it is not zero.
ACTIVE = [0]
_lock = threading.Lock()


def _device_type(t):
    return "cpu" if type(t._data) is np.ndarray else "cuda"


def _cast(v, policy):
    if isinstance(v, (list, tuple)) and v and hasattr(v[0], "_data"):
        return type(v)(_cast(x, policy) for x in v)
    data = getattr(v, "_data", None)  # a Tensor (this layer sits below _tensor's imports)
    if data is None or policy == EXCLUDE:
        return v
    d = data.dtype
    if d.kind not in "fV" or d.char == "d":  # only floating tensors, never float64 ones
        return v
    st = _amp
    dev = _device_type(v)
    if not getattr(st, dev):
        return v
    target = getattr(st, dev + "_dtype") if policy == LOWER else _dtype.float32
    if d == target.np:
        return v
    if policy == LOWER and st.cache_enabled and v._rg and v.grad_fn is None:
        cache = st.cache
        if cache is None:
            cache = st.cache = {}
        hit = cache.get(id(v))
        if hit is not None and hit[0] is v and hit[1] is target:
            return hit[2]
        out = v.to(target)
        cache[id(v)] = (v, target, out)
        return out
    return v.to(target)


def autocast_call(fn, policy, *args, **kwargs):
    """``fn(*args, **kwargs)`` with its tensor arguments cast by ``policy`` and autocast off
    while it runs. Called by the listed ops when autocast is on."""
    args = [_cast(a, policy) for a in args]
    kwargs = {k: _cast(v, policy) for k, v in kwargs.items()}
    st = _amp
    st.excluded += 1
    st.refresh()
    try:
        return fn(*args, **kwargs)
    finally:
        st.excluded -= 1
        st.refresh()


def clear_cache():
    _amp.cache = None
