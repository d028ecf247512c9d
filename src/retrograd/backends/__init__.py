"""``retrograd.backends``: the switches PyTorch scripts set on ``torch.backends``.

``import torch.backends.cudnn`` and ``torch.backends.cudnn.benchmark = True`` work: each backend
is a submodule whose flags are recorded as set. retrograd has no cuDNN, MKL-DNN or MPS code paths
for them to change, and the ``is_available()`` answers say so.
"""

from . import cpu, cuda, cudnn, mkl, mkldnn, mps, openmp

__all__ = ["cpu", "cuda", "cudnn", "mkl", "mkldnn", "mps", "openmp"]
