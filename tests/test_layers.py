"""The package's layers: every import points down (docs/DESIGN.md, "Layers").

Each module under src/retrograd is parsed with ``ast``; every import in it (module level and
inside functions, relative ones resolved) is an edge to the retrograd module it loads. A module
belongs to the layer that ``LAYERS`` gives its longest matching name. The test fails on an edge
from a lower layer to a higher one that ``BACK_EDGES`` does not list, and on an import inside a
function in the backend or the core that ``CORE_LAZY`` does not list (it lists only lazy loads of
optional dependencies and of the graph inspection tools). Both lists may only shrink: an entry
that no longer occurs fails too, so fixing one means deleting its line.

A package's ``__init__`` runs before its submodules; that implicit edge is not checked (the core
modules in ``autograd/`` load under the public ``retrograd.autograd`` namespace, see DESIGN).
"""

import ast
import pathlib

import pytest

SRC = pathlib.Path(__file__).resolve().parents[1] / "src" / "retrograd"

BACKEND, CORE, OPS, UPPER, PUBLIC = range(5)
NAMES = ("backend", "core", "ops", "upper", "public")

# Module name (or package prefix) -> layer; the longest match wins.
LAYERS = {
    "retrograd.backend": BACKEND,
    "retrograd._dtype": BACKEND,
    "retrograd._device": BACKEND,
    "retrograd._size": BACKEND,
    "retrograd._typeinfo": BACKEND,
    "retrograd._tensor_queries": BACKEND,
    "retrograd._atomic_write": BACKEND,
    "retrograd._safetensors_format": BACKEND,
    "retrograd._warn": BACKEND,
    "retrograd._upcalls": BACKEND,
    "retrograd._mt19937": BACKEND,
    "retrograd._fma": BACKEND,
    "retrograd._random_kernels": BACKEND,
    "retrograd._compile.state": BACKEND,
    "retrograd._tensor": CORE,
    "retrograd._repr": CORE,
    "retrograd.autograd.grad_mode": CORE,
    "retrograd.autograd.anomaly": CORE,
    "retrograd.autograd.graph": CORE,
    "retrograd.autograd.engine": CORE,
    "retrograd.autograd.views": CORE,
    "retrograd.autograd._handles": CORE,
    "retrograd.autograd._broadcast": CORE,
    "retrograd.ops._registry": CORE,
    "retrograd.ops._inplace": CORE,  # the in-place rebase
    "retrograd.autograd._graph_walk": CORE,
    "retrograd.autograd._graph_memory": CORE,
    "retrograd.autograd._graph_draw": CORE,
    "retrograd._autocast": CORE,
    "retrograd.autograd._forward_state": CORE,
    "retrograd.autograd._vmap_state": CORE,
    "retrograd.autograd._modes": CORE,
    "retrograd.ops": OPS,
    "retrograd._creation": OPS,
    "retrograd._sampling": OPS,
    "retrograd.sparse": OPS,
    "retrograd._legacy": OPS,
    "retrograd._random": OPS,
    "retrograd._foreach": OPS,
    "retrograd._python_api": UPPER,
    "retrograd.autograd": UPPER,  # the public autograd namespace and its extras built on ops
    "retrograd.nn": UPPER,
    "retrograd.optim": UPPER,
    "retrograd.utils": UPPER,
    "retrograd.distributed": UPPER,
    "retrograd.serialization": UPPER,
    "retrograd._torch_format": UPPER,
    "retrograd._safe_globals": UPPER,
    "retrograd.cuda": UPPER,
    "retrograd._runtime": UPPER,
    "retrograd._compile": UPPER,
    "retrograd._dynamo": UPPER,
    "retrograd.compiler": UPPER,
    "retrograd.accelerator": UPPER,
    "retrograd.multiprocessing": UPPER,
    "retrograd.testing": UPPER,
    "retrograd.jit": UPPER,
    "retrograd.onnx": UPPER,
    "retrograd.hub": UPPER,
    "retrograd.profiler": UPPER,
    "retrograd.func": UPPER,
    "retrograd.amp": UPPER,
    "retrograd.cpu": UPPER,
    "retrograd.random": UPPER,
    "retrograd": PUBLIC,
    "retrograd.special": PUBLIC,
    "retrograd.linalg": PUBLIC,
    "retrograd._tensor_methods": PUBLIC,
    "retrograd.backends": PUBLIC,
    "retrograd.fft": PUBLIC,
    "retrograd.distributions": UPPER,
}

# Imports that still run up a layer, each with why it remains: (importer, imported).
BACK_EDGES: set = set()

# Imports inside functions in the backend and the core: (importer, imported).
CORE_LAZY = {
    # Optional dependencies, loaded on first use.
    ("retrograd.backend", "cupy"),
    # bfloat16 and float8's NumPy dtypes (slow to import in some releases), on their first use.
    ("retrograd._dtype", "ml_dtypes"),
    # The graph inspection tools (pictures, memory report) load on first use of
    # graph.draw / graph.memory: importing them with the graph would slow every import.
    ("retrograd.autograd.graph", "retrograd.autograd._graph_draw"),
    ("retrograd.autograd.graph", "retrograd.autograd._graph_memory"),
}


def _module_name(path):
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def layer_of(name):
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        layer = LAYERS.get(".".join(parts[:n]))
        if layer is not None:
            return layer
    raise KeyError(name)


def _known(name):
    """The retrograd module that importing ``name`` loads (the longest existing prefix)."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def imports(name, path):
    """(imported, in_function, line) for every import in the module: retrograd targets as module
    names, others as their top-level package."""
    tree = ast.parse(path.read_text(), str(path))
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                targets = [a.name for a in child.names]
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = ".".join(
                        package[: len(package) - child.level + 1] + ([child.module] if child.module else [])
                    )
                else:
                    base = child.module
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in child.names]
            else:
                visit(child, inner)
                continue
            for t in targets:
                top = t.split(".")[0]
                found.append((_known(t) if top == "retrograd" else top, in_function, child.lineno))

    visit(tree, False)
    return found


EDGES = [
    (name, target, in_function, line)
    for name, path in MODULES.items()
    for target, in_function, line in imports(name, path)
]


def test_every_module_has_a_layer():
    assert MODULES, SRC
    for name in MODULES:
        layer_of(name)


def test_the_parser_sees_function_level_and_relative_imports():
    found = {(t, f) for s, t, f, _ in EDGES if s == "retrograd.autograd.graph"}
    assert ("retrograd.autograd._handles", False) in found
    assert ("retrograd.autograd._graph_draw", True) in found


# What the core is made of (the list): each piece is a core module.
CORE_PIECES = {
    "Tensor": "retrograd._tensor",
    "the graph": "retrograd.autograd.graph",
    "the engine": "retrograd.autograd.engine",
    "apply": "retrograd.ops._registry",
    "views": "retrograd.autograd.views",
    "the in-place rebase": "retrograd.ops._inplace",
    "hook handles": "retrograd.autograd._handles",
    "sum-to-shape": "retrograd.autograd._broadcast",
    "the modes switch": "retrograd.autograd._modes",
}


@pytest.mark.parametrize("piece", sorted(CORE_PIECES))
def test_the_core_holds(piece):
    assert CORE_PIECES[piece] in MODULES
    assert layer_of(CORE_PIECES[piece]) == CORE


def test_no_import_runs_up_a_layer():
    back = {}
    for src, target, _, line in EDGES:
        if target in MODULES and layer_of(target) > layer_of(src):
            back.setdefault((src, target), []).append(line)
    new = {k: v for k, v in back.items() if k not in BACK_EDGES}
    assert not new, (
        "imports that run up a layer (move the code down, or let the higher layer "
        "register into the lower one): "
        + "; ".join(
            f"{s} ({NAMES[layer_of(s)]}) line {v} -> {t} ({NAMES[layer_of(t)]})" for (s, t), v in sorted(new.items())
        )
    )
    gone = BACK_EDGES - set(back)
    assert not gone, f"fixed back edges still listed in BACK_EDGES (delete them): {sorted(gone)}"


def core_lazy_imports(edges):
    """{(importer, imported): lines} for the imports inside functions in the backend or core."""
    lazy = {}
    for src, target, in_function, line in edges:
        if in_function and layer_of(src) <= CORE:
            lazy.setdefault((src, target), []).append(line)
    return lazy


def test_a_new_import_inside_a_core_function_is_caught(tmp_path):
    path = tmp_path / "views.py"
    path.write_text("import numpy\n\n\ndef f():\n    from ..ops import reduction\n    return reduction\n")
    edges = [("retrograd.autograd.views", t, f, line) for t, f, line in imports("retrograd.autograd.views", path)]
    lazy = core_lazy_imports(edges)
    assert lazy == {("retrograd.autograd.views", "retrograd.ops.reduction"): [5]}
    assert set(lazy) - CORE_LAZY


def test_no_imports_inside_functions_in_the_core():
    lazy = core_lazy_imports(EDGES)
    new = {k: v for k, v in lazy.items() if k not in CORE_LAZY}
    assert not new, "imports inside functions in the backend or core (import at module level): " + "; ".join(
        f"{s} line {v} -> {t}" for (s, t), v in sorted(new.items())
    )
    gone = CORE_LAZY - set(lazy)
    assert not gone, f"removed lazy imports still listed in CORE_LAZY (delete them): {sorted(gone)}"


@pytest.mark.parametrize(
    "source, target",
    [
        ("retrograd.autograd.engine", "retrograd.ops.reduction"),
        ("retrograd.autograd.views", "retrograd.ops.indexing"),
        ("retrograd.sparse", "retrograd._tensor_methods"),
    ],
)
def test_a_back_edge_is_recognised(source, target):
    assert layer_of(target) > layer_of(source)
