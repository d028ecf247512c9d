"""docs/api.md, the API reference, is what tools/gen_api_doc.py writes from today's code."""
import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _generator():
    spec = importlib.util.spec_from_file_location("gen_api_doc", ROOT / "tools" / "gen_api_doc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_api_reference_is_current():
    gen = _generator()
    assert gen.DOC.read_text() == gen.render(), "docs/api.md is out of date: run python tools/gen_api_doc.py"


def test_the_api_reference_lists_every_out_form():
    from retrograd.ops._out import OUT_FORMS
    text = (ROOT / "docs" / "api.md").read_text()
    for name in OUT_FORMS["torch"]:
        assert f"| `{name}` |" in text
