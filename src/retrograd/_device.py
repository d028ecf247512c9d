"""Device objects: ``device('cpu')`` (NumPy), ``device('cuda', i)`` (CuPy) and ``device('meta')``
(tensors with a shape, dtype and strides but no data: backend/meta.py)."""


class device:
    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, str) and ":" in type:
            type, idx = type.split(":", 1)
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}:{idx}'")
            index = int(idx)
        if type not in ("cpu", "cuda", "meta"):
            raise RuntimeError(f"Expected one of cpu, cuda, meta device type at start of device string: {type}")
        self.type = type
        self.index = index

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and (self.index == other.index or self.type != "cuda")

    def __hash__(self):
        return hash((self.type, self.index))

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __enter__(self):
        """``with torch.device(d):`` factories given no device (and the modules built inside,
        whose parameters they make) put their tensors on ``d`` until the block ends."""
        _entered.append(_default[0])
        _default[0] = self
        return self

    def __exit__(self, *exc):
        _default[0] = _entered.pop()


CPU = device("cpu")
META = device("meta")
_default = [CPU]  # set_default_device: where factories put tensors when given no device
_entered = []  # the defaults that `with device(...)` blocks replaced, innermost last


def to_device(d):
    """A device object from a device, a string or a cuda index; None is the default device."""
    if d is None:
        return _default[0]
    if isinstance(d, device):
        return d
    if isinstance(d, int):
        return device("cuda", d)
    return device(d)


def get_default_device():
    return _default[0]


def set_default_device(d):
    """Make factories (zeros, tensor, arange ...) create tensors on ``d`` when they are given no
    device; None restores cpu."""
    _default[0] = CPU if d is None else to_device(d)
