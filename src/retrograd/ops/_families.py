"""Every op family. Importing this module runs every family's declarations, so the registry
(``_declare.REGISTRY``) is complete; the namespaces and Tensor's methods are built after it."""
from . import (activation, attention, complex, construct, conv, decomposition, elementwise, embed,  # noqa: F401
               embedding_bag, fft, grid_sample, incomplete_gamma, indexing, inplace, layers, linalg, loss, misc,
               normalization, nn_toplevel, numeric, pointwise, pool, rearrange, reduction, resample, shape,
               signal_windows, sorting, special, specfun, standard_gamma, statistics, strided)
