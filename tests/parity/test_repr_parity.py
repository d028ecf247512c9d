"""Tensor printouts against PyTorch's: the number format (fixed, integer, scientific) chosen by
PyTorch's rules, widths, and the summary of large tensors (the format is chosen from the
elements shown)."""

import numpy as np
import pytest

import retrograd as rg

torch = pytest.importorskip("torch")

VALUES = [
    [1.0, 2000.0],
    [1.0, 999.0],
    [0.5, 600.0],
    [0.0, 1.0, 1500.0],
    [1e-5, 1.0],
    [3.0, 1e8],
    [3.0, 1e9],
    [-3.25, 2.5, 1.123456],
    [0.0, 0.0],
    [float("inf"), 1.0, float("nan")],
    [float("-inf"), 2.0, 3.0],
    [-1.5, -200.0, 3.0],
    [0.0, -0.0, 5e-5],
    [123456.0, 0.001],
    [7.0, -12.0, 0.0],
]


@pytest.mark.parametrize("values", VALUES, ids=[str(v) for v in VALUES])
def test_number_formats(values):
    for dtype in ("float32", "float64"):
        a = np.array(values, dtype=dtype)
        want = str(torch.from_numpy(a)).replace("torch.", "")
        got = str(rg.tensor(a)).replace("retrograd.", "")
        assert got == want


def test_summary_formats_from_the_elements_shown():
    a = np.full((2, 1000), 0.02, dtype=np.float32)
    a[0, 500] = 1e-6  # hidden by the summary: no effect on the format
    assert str(rg.tensor(a)) == str(torch.from_numpy(a))
    a[0, 1] = 1e-6  # shown: scientific
    assert str(rg.tensor(a)) == str(torch.from_numpy(a))
    b = np.arange(2000, dtype=np.float32) / 7
    assert str(rg.tensor(b)) == str(torch.from_numpy(b))
