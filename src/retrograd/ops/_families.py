"""Every op family. Importing this module runs every family's declarations, so the registry
(``_declare.REGISTRY``) is complete; the namespaces and Tensor's methods are built after it."""
from . import (activation, attention, complex, construct, conv, copies, decomposition, elementwise,  # noqa: F401
               embed, embedding_bag, fft, floating, grid_sample, incomplete_gamma, indexing, inplace, integer,
               layers, linalg, loss, normalization, nn_toplevel, numeric, pool, rearrange, reduction, resample,
               shape, signal_windows, sorting, special, specfun, standard_gamma, statistics, storage, strided,
               transcendental)
