"""The typing stub of Tensor (src/retrograd/_tensor.pyi) lists every method Tensor has, and is
what the generator would write today."""

import pathlib

import retrograd as rg

from .._tools import load_tool

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_the_stub_is_current():
    gen = load_tool("gen_tensor_stub")
    assert gen.STUB.read_text() == gen.render(), (
        "src/retrograd/_tensor.pyi is out of date: run python tools/gen_tensor_stub.py"
    )


def test_the_stub_names_every_public_method_and_property():
    text = (ROOT / "src" / "retrograd" / "_tensor.pyi").read_text()
    for name in dir(rg.Tensor):
        if name.startswith("_") and not (name.startswith("__") and name.endswith("__")):
            continue
        if name in (
            "__dict__",
            "__weakref__",
            "__slots__",
            "__module__",
            "__doc__",
            "__array_priority__",
            "__array_ufunc__",
        ) or name not in vars(rg.Tensor):
            continue
        assert f" {name}(" in text or f" {name}:" in text, f"Tensor.{name} is missing from the stub"
