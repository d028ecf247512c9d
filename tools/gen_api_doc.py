"""Write docs/api.md: every public name retrograd has, with its surfaces and the family file that
declares it (the op registry, ops/_declare.py), and PyTorch's names it does not have yet.

    python tools/gen_api_doc.py                   # rewrite docs/api.md (no torch needed)
    python tools/gen_api_doc.py --pytorch-names   # refresh docs/pytorch_names.json from torch

PyTorch's names are read from docs/pytorch_names.json, written once from the PyTorch release we
follow, so that the reference (and tests/test_api_doc.py, which keeps it current) needs no torch.
"""

import json
import pathlib
import sys
import types

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "api.md"
NAMES = ROOT / "docs" / "pytorch_names.json"
NAMESPACES = ("torch", "nn.functional", "linalg", "special", "fft")
# PyTorch's documented names (tools/gen_documented_names.py) and those not in retrograd yet, with why
DOCUMENTED = ROOT / "tests" / "pytorch_docs"
DOCUMENTED_ROOTS = {
    "torch": "retrograd",
    "nn": "retrograd.nn",
    "nn.functional": "retrograd.nn.functional",
    "optim": "retrograd.optim",
    "utils.data": "retrograd.utils.data",
    "Tensor": "retrograd.Tensor",
}


def documented_names(ns):
    """PyTorch's documented names of one namespace (tests/pytorch_docs/<ns>.txt)."""
    lines = (DOCUMENTED / f"{ns}.txt").read_text().splitlines()
    return [n for n in lines if n and not n.startswith("#")]


def not_yet():
    """{namespace: {name: why}} from tests/pytorch_docs/not_yet.txt, whose lines read
    ``namespace name [name ...]: why``."""
    out = {ns: {} for ns in DOCUMENTED_ROOTS}
    for line in (DOCUMENTED / "not_yet.txt").read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        names, why = line.split(": ", 1)
        ns, *names = names.split()
        for n in names:
            out[ns][n] = why
    return out


def present(ns, name):
    """Whether retrograd has ``name`` under the namespace ``ns`` (attributes from the top, else
    the longest importable module prefix, as tools/gen_documented_names.py resolves PyTorch's)."""
    import importlib

    parts = f"{DOCUMENTED_ROOTS[ns]}.{name}".split(".")
    for cut in (1, *range(len(parts), 1, -1)):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for p in parts[cut:]:
                obj = getattr(obj, p)
        except AttributeError:
            continue
        return True
    return False


def coverage():
    """{namespace: (documented names, those retrograd does not have)}."""
    sys.path.insert(0, str(ROOT / "src"))
    return {
        ns: (names, [n for n in names if not present(ns, n)])
        for ns, names in ((ns, documented_names(ns)) for ns in DOCUMENTED_ROOTS)
    }


def _coverage_section():
    cov, why = coverage(), not_yet()
    version = (DOCUMENTED / "torch.txt").read_text().split("'s", 1)[0].rsplit(" ", 1)[-1]
    lines = [
        "\n## Coverage of PyTorch's documented names\n\n",
        f"PyTorch {version}'s documentation lists these names (tests/pytorch_docs/, written once by\n",
        "`tools/gen_documented_names.py`); tests/test_documented_names.py checks that each one retrograd\n",
        "lacks is on the not-yet list below, with why.\n\n",
        "| namespace | documented | in retrograd | not yet | coverage |\n|---|---|---|---|---|\n",
    ]
    for ns, (names, missing) in cov.items():
        have = len(names) - len(missing)
        lines.append(
            f"| `{DOCUMENTED_ROOTS[ns].replace('retrograd', 'torch')}` | {len(names)} | {have} | {len(missing)} | "
            f"{100 * have / len(names):.1f}% |\n"
        )
    for ns, (_, missing) in cov.items():
        if not missing:
            continue
        lines.append(f"\nNot yet in `{DOCUMENTED_ROOTS[ns].replace('retrograd', 'torch')}`:\n\n")
        by_reason = {}
        for n in missing:
            by_reason.setdefault(why[ns].get(n, "(no reason given)"), []).append(n)
        for reason, ns_names in by_reason.items():
            lines.append("- " + ", ".join(f"`{n}`" for n in ns_names) + f": {reason}\n")
    return lines


def _public_callables(module):
    """Public functions of a module (no classes, submodules or names from ``typing``)."""
    return sorted(
        n
        for n in dir(module)
        if not n.startswith("_")
        and callable(getattr(module, n, None))
        and not isinstance(getattr(module, n), (type, types.ModuleType))
        and getattr(getattr(module, n), "__module__", "") != "typing"
    )


def _public_classes(module):
    """Public classes of a module (``torch.nn``'s layers, parameters and the like)."""
    return sorted(n for n in dir(module) if not n.startswith("_") and isinstance(getattr(module, n), type))


def pytorch_names():
    import torch
    import torch.nn.functional

    mods = {
        "torch": torch,
        "nn.functional": torch.nn.functional,
        "linalg": torch.linalg,
        "special": torch.special,
        "fft": torch.fft,
    }
    names = {k: _public_callables(m) for k, m in mods.items()}
    names["Tensor"] = sorted(n for n in dir(torch.Tensor) if not n.startswith("_"))
    names["nn"] = _public_classes(torch.nn)
    return {"version": torch.__version__.split("+")[0], "names": names}


def _modules():
    import retrograd
    import retrograd.nn.functional

    mods = {
        "torch": retrograd,
        "nn.functional": retrograd.nn.functional,
        "linalg": retrograd.linalg,
        "special": retrograd.special,
    }
    if hasattr(retrograd, "fft"):
        mods["fft"] = retrograd.fft
    return retrograd, mods


def _plain(f):
    """The function an out= form or a NumPy-names form wraps (other wrappers, such as derived
    in-place forms, are functions of their own)."""
    from retrograd.ops._out import is_numpy_names_form, is_out_form

    if is_out_form(f) or is_numpy_names_form(f):
        return f.__wrapped__
    return f


def render():
    sys.path.insert(0, str(ROOT / "src"))
    retrograd, mods = _modules()
    from retrograd.ops._declare import REGISTRY, out_forms

    OUT_FORMS = out_forms()
    declared = {}  # (namespace, name) -> the family file that declares it
    for decl in REGISTRY:
        where = decl.module.rsplit(".", 1)[-1] + ".py"
        for ns, key in (
            ("torch", "torch"),
            ("special", "special"),
            ("linalg", "linalg"),
            ("fft", "fft"),
            ("nn.functional", "functional"),
        ):
            for n in decl.bindings(key):
                declared[(ns, n)] = where
        for n in decl.torch_inplace:
            declared[("torch", n)] = where
    theirs = json.loads(NAMES.read_text())
    version, their_names = theirs["version"], theirs["names"]
    Tensor = retrograd.Tensor
    lines = [
        "# API reference\n\n",
        "Generated by `tools/gen_api_doc.py` from the code (do not edit; a test keeps it current).\n",
        f"PyTorch's names are those of PyTorch {version}. Each name follows PyTorch's documented\n",
        "signature and behaviour; where retrograd differs, the function's docstring and\n",
        "[DESIGN.md](DESIGN.md) say how. A name missing here raises AttributeError.\n\n",
        "Columns: **method** `Tensor.name`, **in-place** `Tensor.name_`, **out=** the function takes\n",
        "PyTorch's `out=` (ops/_out.py), **same as** another public name it is bound to, **declared in**\n",
        "the file under `src/retrograd/ops/` whose `declare(...)` gives the name (ops/_declare.py); names\n",
        "without one are not ops (factories, dtypes, settings).\n",
    ]
    lines += _coverage_section()
    for ns in NAMESPACES:
        if ns not in mods:
            lines.append(f"\n## {ns}\n\nNot yet in retrograd ({len(their_names.get(ns, []))} names in PyTorch).\n")
            continue
        module = mods[ns]
        ours = _public_callables(module)
        first = {}
        for n in ours:
            first.setdefault(id(_plain(getattr(module, n))), n)
        lines.append(f"\n## {'retrograd' if ns == 'torch' else 'retrograd.' + ns}\n\n")
        lines.append("| name | method | in-place | out= | same as | declared in |\n|---|---|---|---|---|---|\n")
        out_forms = OUT_FORMS.get(ns, frozenset())
        for n in ours:
            same = first[id(_plain(getattr(module, n)))]
            method = "yes" if ns == "torch" and callable(getattr(Tensor, n, None)) else ""
            inplace = "yes" if ns == "torch" and callable(getattr(Tensor, n + "_", None)) else ""
            lines.append(
                f"| `{n}` | {method} | {inplace} | {'yes' if n in out_forms else ''} | "
                f"{'' if same == n else '`' + same + '`'} | {declared.get((ns, n), '')} |\n"
            )
        missing = sorted(set(their_names.get(ns, [])) - set(ours))
        lines.append(f"\nPyTorch's names not yet here ({len(missing)}): " + ", ".join(f"`{n}`" for n in missing) + "\n")
    import retrograd.nn

    classes = _public_classes(retrograd.nn)
    lines.append(f"\n## retrograd.nn classes\n\n{len(classes)} classes: " + ", ".join(f"`{n}`" for n in classes) + "\n")
    missing = sorted(set(their_names.get("nn", [])) - set(classes))
    lines.append(
        f"\nPyTorch's nn classes not yet here ({len(missing)}): " + ", ".join(f"`{n}`" for n in missing) + "\n"
    )
    methods = sorted(n for n in dir(Tensor) if not n.startswith("_"))
    lines.append(
        f"\n## Tensor\n\n{len(methods)} public methods and attributes (their signatures: "
        "`src/retrograd/_tensor.pyi`).\n\n"
    )
    lines.append(", ".join(f"`{n}`" for n in methods) + "\n")
    missing = sorted(set(their_names["Tensor"]) - set(methods))
    lines.append(
        f"\nPyTorch's Tensor names not yet here ({len(missing)}): " + ", ".join(f"`{n}`" for n in missing) + "\n"
    )
    return "".join(lines)


if __name__ == "__main__":
    if "--pytorch-names" in sys.argv:
        NAMES.write_text(json.dumps(pytorch_names(), indent=1, sort_keys=True) + "\n")
        print(f"wrote {NAMES.relative_to(ROOT)}")
    else:
        DOC.write_text(render())
        print(f"wrote {DOC.relative_to(ROOT)}")
