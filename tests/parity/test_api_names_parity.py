"""docs/pytorch_names.json, the PyTorch names the API reference compares with, is what the
installed PyTorch has."""

import json

import pytest

from .._tools import load_tool

torch = pytest.importorskip("torch")


def test_pytorch_names_match_the_installed_pytorch():
    gen = load_tool("gen_api_doc")
    assert json.loads(gen.NAMES.read_text()) == gen.pytorch_names(), (
        "run python tools/gen_api_doc.py --pytorch-names with the PyTorch release the parity suite installs"
    )
