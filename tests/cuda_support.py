"""Shared by the CUDA tests: skip unless CuPy and an NVIDIA GPU are both there."""

import pytest

import retrograd as rg

requires_cuda = pytest.mark.skipif(not rg.cuda.is_available(), reason="needs CuPy and an NVIDIA GPU")
