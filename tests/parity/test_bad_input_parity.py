"""Optional parity with PyTorch: every case of ``bad_input_cases.CASES`` raises the listed
exception type under torch too, so the table ``tests/test_bad_input.py`` holds retrograd to is
PyTorch's behaviour."""

import warnings

import pytest

torch = pytest.importorskip("torch")

from ..bad_input_cases import CASES  # noqa: E402


@pytest.mark.parametrize("name,call,expected", CASES, ids=[c[0] for c in CASES])
def test_torch_raises_the_listed_type(name, call, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(expected):
            call(torch)
