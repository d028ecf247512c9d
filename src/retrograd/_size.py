"""``Size``: the tuple subclass that ``Tensor.shape`` returns, as in PyTorch."""


class Size(tuple):
    __slots__ = ()

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self):
        return f"retrograd.Size({list(self)})"

    def __getitem__(self, i):
        r = tuple.__getitem__(self, i)
        return Size(r) if isinstance(i, slice) else r
