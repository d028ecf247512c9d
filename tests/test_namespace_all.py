"""Each re-export namespace lists its public names in ``__all__``: every listed name exists, and
every public function, class or value the namespace binds is listed (submodules bound only as a
side effect of importing them are not part of the surface)."""

import importlib
import types

import pytest

NAMESPACES = [
    "retrograd",
    "retrograd.special",
    "retrograd.linalg",
    "retrograd.nn",
    "retrograd.nn.functional",
    "retrograd.nn.utils",
    "retrograd.optim",
    "retrograd.autograd",
    "retrograd.utils",
    "retrograd.utils.data",
    "retrograd.distributed",
    "retrograd.func",
]


@pytest.mark.parametrize("name", NAMESPACES)
def test_all_lists_the_public_names(name):
    mod = importlib.import_module(name)
    listed = mod.__all__
    assert len(listed) == len(set(listed)), f"{name}.__all__ has duplicates"
    missing = [n for n in listed if not hasattr(mod, n)]
    assert not missing, f"{name}.__all__ names undefined attributes: {missing}"
    public = {n for n, v in vars(mod).items() if not n.startswith("_") and not isinstance(v, types.ModuleType)}
    unlisted = sorted(public - set(listed))
    assert not unlisted, f"{name} binds public names missing from __all__: {unlisted}"


def test_star_import_binds_the_listed_names():
    ns = {}
    exec("from retrograd import *", ns)
    import retrograd

    assert {n for n in ns if not n.startswith("__")} == set(retrograd.__all__)
    assert ns["add"] is retrograd.add and ns["linalg"] is retrograd.linalg
