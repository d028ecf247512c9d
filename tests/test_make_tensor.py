"""testing.make_tensor: PyTorch's random test tensors (ranges, dtypes, layouts, errors)."""

import warnings

import numpy as np
import pytest

import retrograd as rg
from retrograd.testing import make_tensor


@pytest.mark.parametrize(
    "dtype, lo, hi",
    [(rg.float32, -9, 9), (rg.float64, -9, 9), (rg.int64, -9, 9), (rg.int8, -9, 9), (rg.uint8, 0, 9), (rg.bool, 0, 1)],
)
def test_default_ranges_and_dtypes(dtype, lo, hi):
    t = make_tensor(40, 50, dtype=dtype, device="cpu")
    assert t.shape == (40, 50) and t.dtype == dtype and t.is_contiguous()
    a = t.numpy().astype(np.float64)
    assert a.min() >= lo and a.max() <= hi and len(np.unique(a)) > 1


def test_bounds_layout_and_options():
    t = make_tensor((30, 20), dtype=rg.float64, device="cpu", low=2.5, high=3.0, exclude_zero=True)
    assert 2.5 <= float(t.min()) and float(t.max()) < 3.0
    ints = make_tensor(1000, dtype=rg.int32, device="cpu", low=-1, high=1, exclude_zero=True)
    assert set(np.unique(ints.numpy())) <= {-1, 1}  # zeros replaced by 1
    nc = make_tensor(4, 6, dtype=rg.float32, device="cpu", noncontiguous=True)
    assert nc.shape == (4, 6) and not nc.is_contiguous() and nc.stride() == (12, 2)
    assert make_tensor(1, dtype=rg.float32, device="cpu", noncontiguous=True).is_contiguous()  # one element
    g = make_tensor(3, dtype=rg.float64, device="cpu", requires_grad=True)
    assert g.requires_grad and g.is_leaf
    z = make_tensor(3, 2, dtype=rg.complex64, device="cpu", low=-1, high=1)
    parts = rg.view_as_real(z).numpy()
    assert z.dtype == rg.complex64 and (np.abs(parts) <= 1).all()
    huge = make_tensor(5, dtype=rg.float64, device="cpu", low=-1e308, high=1e308)  # range past finfo.max
    assert np.isfinite(huge.numpy()).all()


def test_errors():
    with pytest.raises(ValueError, match="less than"):
        make_tensor(3, dtype=rg.float32, device="cpu", low=2, high=1)
    with pytest.raises(ValueError, match="NaN"):
        make_tensor(3, dtype=rg.float32, device="cpu", low=float("nan"))
    with pytest.raises(ValueError, match="only supports"):
        make_tensor(3, dtype=rg.uint8, device="cpu", low=-10, high=-5)
    with pytest.raises(ValueError, match="requires_grad"):
        make_tensor(3, dtype=rg.int64, device="cpu", requires_grad=True)
    with pytest.raises(ValueError, match="mutually exclusive"):
        make_tensor(3, dtype=rg.float32, device="cpu", noncontiguous=True, memory_format=rg.contiguous_format)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        same = make_tensor(3, dtype=rg.float32, device="cpu", low=1.5, high=1.5)
    assert any(issubclass(x.category, FutureWarning) for x in w) and (same.numpy() == 1.5).all()


def test_finfo_of_a_complex_dtype_is_its_parts():
    assert rg.finfo(rg.complex64).dtype == "float32" and rg.finfo(rg.complex128).eps == rg.finfo(rg.float64).eps
