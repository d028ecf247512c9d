"""docs/pytorch_names.json, the PyTorch names the API reference compares with, is what the
installed PyTorch has."""
import importlib.util
import json
import pathlib

import pytest

torch = pytest.importorskip("torch")
ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_pytorch_names_match_the_installed_pytorch():
    spec = importlib.util.spec_from_file_location("gen_api_doc", ROOT / "tools" / "gen_api_doc.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert json.loads(gen.NAMES.read_text()) == gen.pytorch_names(), \
        "run python tools/gen_api_doc.py --pytorch-names with the PyTorch release the parity suite installs"
