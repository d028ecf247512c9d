"""docs/api.md, the API reference, is what tools/gen_api_doc.py writes from today's code."""

import pathlib

from ._tools import load_tool

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_the_api_reference_is_current():
    gen = load_tool("gen_api_doc")
    assert gen.DOC.read_text() == gen.render(), "docs/api.md is out of date: run python tools/gen_api_doc.py"


def test_the_api_reference_lists_every_out_form():
    from retrograd.ops._declare import out_forms

    text = (ROOT / "docs" / "api.md").read_text()
    for name in out_forms()["torch"]:
        assert f"| `{name}` |" in text
