"""Result dtypes (and the values that follow from them) where PyTorch's promotion rules differ
from NumPy's: Python scalars, 0-d tensors and mixed integer widths."""

import numpy as np

import retrograd as rg


def test_where_of_two_python_scalars_takes_their_promoted_dtype():
    cond = rg.tensor([True, False])
    out = rg.where(cond, 1, 0.5)
    assert out.dtype == rg.float32 and out.tolist() == [1.0, 0.5]
    assert rg.where(cond, 2, 3).dtype == rg.int64
    assert rg.where(cond, True, False).dtype == rg.bool
    assert rg.where(cond, 2, False).tolist() == [2, 0]
    z = rg.where(cond, 1, 1j)
    assert z.dtype == rg.complex64
    np.testing.assert_array_equal(z.numpy(), [1 + 0j, 1j])
