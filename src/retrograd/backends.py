"""``retrograd.backends``: the switches PyTorch scripts set on ``torch.backends``.

They are accepted and kept so such scripts run unchanged; retrograd has no cuDNN or MPS code
paths for them to change.
"""


class _Flags:
    def __init__(self, **flags):
        self.__dict__.update(flags)


cudnn = _Flags(enabled=True, benchmark=False, deterministic=False, allow_tf32=True)
cuda = _Flags(matmul=_Flags(allow_tf32=False))
mps = _Flags(is_available=lambda: False, is_built=lambda: False)
