"""Tensor printouts against PyTorch's: the number format (fixed, integer, scientific) chosen by
PyTorch's rules, widths, and the summary of large tensors (the format is chosen from the
elements shown)."""

import re

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


def _cases(m):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 5, 6)).astype(np.float32)
    return [
        m.tensor(a),
        m.tensor(a[0, 0]),
        m.tensor(3.5),
        m.tensor(-2),
        m.tensor(True),
        m.tensor([], dtype=m.int64),
        m.zeros(0, 3),
        m.zeros(2, 0, dtype=m.int32),
        m.tensor(rng.integers(-1000, 1000, (5, 17))),
        m.tensor(rng.integers(0, 2, (3, 9)).astype(bool)),
        m.tensor(rng.integers(0, 9, (40, 40)).astype(np.uint8)),
        m.tensor(rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))),
        m.tensor(np.array([1 + 2j, -3.5 - 0.25j])),
        m.tensor([float("nan"), float("inf"), -1.5, 0.0]),
        m.tensor(rng.standard_normal((50, 50))),
        m.tensor(a).to(m.float16),
        m.tensor(a[0]).to(m.bfloat16),
        m.tensor(a[0], requires_grad=True) * 2,
        m.tensor(rng.standard_normal(100) * 1e5),
        m.tensor(rng.standard_normal((2, 3, 4, 5)).astype(np.float32)),
        m.tensor(rng.standard_normal((1100,)).astype(np.float32)),
    ]


def _text(t):
    # the dtype suffix names the library ("retrograd.float64" is 4 characters longer than
    # "torch.float64"), which can move it to its own line: compared without that line break
    text = str(t).replace("torch.", "").replace("retrograd.", "")
    return re.sub(r",\n *dtype=", ", dtype=", text)


@pytest.mark.parametrize("options", [{}, {"precision": 2, "linewidth": 50}, {"edgeitems": 1, "threshold": 10}])
def test_layouts_match_pytorchs(options):
    # line wrapping, nesting, summaries, suffixes, empty and 0-d tensors, every dtype kind
    try:
        torch.set_printoptions(**options)
        rg.set_printoptions(**options)
        for t, r in zip(_cases(torch), _cases(rg)):
            assert _text(r) == _text(t)
    finally:
        torch.set_printoptions(profile="default")
        rg.set_printoptions(profile="default")
