"""PyTorch's CPU random engine: a 32-bit Mersenne Twister (mt19937) seeded as PyTorch seeds it.

``torch.manual_seed(s)`` initialises the standard mt19937 state from the low 32 bits of ``s``
(Knuth's ``init_genrand`` recurrence); ``random()`` is the next 32-bit output and ``random64()``
joins two outputs, the first as the high word. NumPy's ``MT19937`` bit generator runs the same
recurrence in C, so the stream is made in bulk by loading the state into it and drawing full
range uint32 values (its raw outputs, unchanged). The engine also holds the cached second value
of the scalar Box-Muller normal sampler (``normal_double``), which PyTorch keeps in the
generator and saves in its state.

``get_state``/``set_state`` use PyTorch's byte layout (5056 bytes: seed, ``left``, ``seeded``,
``next``, the 624 words widened to 64 bits, the legacy normal fields, then the float normal
cache), so a state saved by either library loads in the other.
"""

import struct

import numpy as np

N = 624
DEFAULT_SEED = 67280421310721  # PyTorch's default_rng_seed_val
STATE_BYTES = 5056
_HEAD = struct.Struct("<QiiQ")  # the_initial_seed, left, seeded, next
_TAIL = struct.Struct("<dddi4xf?3x")  # normal_x, normal_y, normal_rho, normal_is_valid, float cache
_KEY_AT = _HEAD.size
_TAIL_AT = _KEY_AT + 8 * N


def seeded_key(seed):
    """The 624-word state ``init_genrand`` makes from the low 32 bits of ``seed``."""
    key = np.empty(N, np.uint32)
    s = seed & 0xFFFFFFFF
    key[0] = s
    for j in range(1, N):
        s = (1812433253 * (s ^ (s >> 30)) + j) & 0xFFFFFFFF
        key[j] = s
    return key


class MT19937:
    """One mt19937 stream with PyTorch's seeding, state bytes and normal-sample cache."""

    __slots__ = ("_bits", "_gen", "_seed", "_fresh", "normal_double", "normal_float")

    def __init__(self, seed=DEFAULT_SEED):
        self._bits = np.random.MT19937()
        self._gen = np.random.Generator(self._bits)
        self.manual_seed(seed)

    def manual_seed(self, seed):
        """Restart from ``seed`` (a uint64; only its low 32 bits reach the state, as in PyTorch)."""
        self._seed = seed
        self._bits.state = {"bit_generator": "MT19937", "state": {"key": seeded_key(seed), "pos": N}}
        self._fresh = True
        self.normal_double = None
        self.normal_float = None

    @property
    def initial_seed(self):
        return self._seed

    def random(self, n):
        """``n`` successive 32-bit outputs (PyTorch's ``random()``), as uint32."""
        self._fresh = False
        return self._gen.integers(0, 1 << 32, n, dtype=np.uint32)

    def random64(self, n):
        """``n`` 64-bit values, each from two outputs, the first giving the high half."""
        w = self.random(2 * n).reshape(n, 2)
        return np.ascontiguousarray(w[:, ::-1]).view(np.uint64).ravel()  # little-endian: low word first

    def numpy_generator(self):
        """A NumPy ``Generator`` drawing from this same stream, for distributions that have no
        PyTorch-exact counterpart here (their numbers are reproducible, not PyTorch's)."""
        self._fresh = False
        return self._gen

    def get_state(self):
        """PyTorch's CPU generator state, as ``bytes``."""
        st = self._bits.state["state"]
        pos = int(st["pos"])
        left, nxt = (1, 0) if self._fresh else (N + 1 - pos, pos)
        key = np.asarray(st["key"], dtype=np.uint32).astype("<u8")
        valid = self.normal_double is not None
        fvalid = self.normal_float is not None
        tail = _TAIL.pack(
            0.0, self.normal_double if valid else 0.0, 0.0, int(valid), self.normal_float if fvalid else 0.0, fvalid
        )
        return _HEAD.pack(self._seed, left, 1, nxt) + key.tobytes() + tail

    def set_state(self, data):
        """Load a state from ``get_state`` (this library's or PyTorch's)."""
        data = bytes(data)
        if len(data) != STATE_BYTES:
            raise RuntimeError(
                f"Expected either a THGeneratorState of size 5048 or a CPUGeneratorImplState "
                f"of size {STATE_BYTES} but found the input RNG state size to be {len(data)}"
            )
        seed, left, seeded, nxt = _HEAD.unpack_from(data, 0)
        if not 1 <= left <= N:
            raise RuntimeError(f"The initial seed is not valid: 'left' is {left}, outside [1, {N}]")
        if seeded not in (0, 1):
            raise RuntimeError(f"The seeded flag is not valid: {seeded}")
        if nxt > N:
            raise RuntimeError(f"The next index is not valid: {nxt} > {N}")
        fresh = left == 1 and nxt == 0
        if not fresh and nxt != N + 1 - left:
            raise RuntimeError(
                f"set_state: an mt19937 state with left={left} and next={nxt} is not one "
                f"PyTorch produces (next must be {N + 1} - left); it cannot be loaded"
            )
        key = np.frombuffer(data, dtype="<u8", count=N, offset=_KEY_AT).astype(np.uint32)
        _, normal_y, _, valid, fcache, fvalid = _TAIL.unpack_from(data, _TAIL_AT)
        self._bits.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": N if fresh else nxt}}
        self._seed = seed
        self._fresh = fresh
        self.normal_double = normal_y if valid else None
        self.normal_float = fcache if fvalid else None
