"""Write tests/pytorch_docs/*.txt: the names PyTorch's documentation lists for torch, torch.nn,
torch.nn.functional, torch.optim, torch.utils.data and torch.Tensor.

    python tools/gen_documented_names.py DOCS_SOURCE_DIR

DOCS_SOURCE_DIR holds PyTorch's documentation sources (``docs/source`` of the PyTorch repository):
torch.md, nn.md, nn.functional.md, optim.md, data.md and tensors.md. Every entry of their
``autosummary`` blocks and every ``autoclass``/``autofunction``/``autoattribute`` directive is read,
resolved against the ``currentmodule``/``automodule`` in force (as Sphinx does) and kept when the
installed torch has it (the documentation may be newer than the release we follow). A name is
written relative to the namespace it falls under (``torch.nn.utils.rnn.pad_sequence`` is
``utils.rnn.pad_sequence`` of ``nn``), and as the namespace's own attribute where that is the same
object (``torch.nn.modules.flatten.Flatten`` is ``Flatten``), leaving out the submodules in
between where the shorter name is the same object.

The lists are generated once, for the PyTorch release retrograd follows, and checked in; the tests
(tests/test_documented_names.py) and docs/api.md read them without torch.
"""

import importlib
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "pytorch_docs"
SOURCES = ("torch.md", "nn.md", "nn.functional.md", "optim.md", "data.md", "tensors.md")
# namespace key -> its qualified name; a name belongs to the longest one that prefixes it
NAMESPACES = {
    "torch": "torch",
    "nn": "torch.nn",
    "nn.functional": "torch.nn.functional",
    "optim": "torch.optim",
    "utils.data": "torch.utils.data",
    "Tensor": "torch.Tensor",
}
_DIRECTIVE = re.compile(
    r"^\s*\.\. (currentmodule|automodule|autoclass|autofunction|autoattribute|autosummary)::\s*(\S*)"
)


def resolve(qualified):
    """The object a dotted name names: attributes from the top-level module (a package's function
    shadows its submodule of the same name, as ``torch.nn.parallel.data_parallel``), else the longest
    importable module prefix, then attributes."""
    parts = qualified.split(".")
    try:
        obj = importlib.import_module(parts[0])
        for p in parts[1:]:
            obj = getattr(obj, p)
        return obj
    except (ImportError, AttributeError):
        pass
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for p in parts[cut:]:
                obj = getattr(obj, p)
        except AttributeError:
            return None
        return obj
    return None


def entries(text):
    """(current module, entry) for each documented name of one documentation source."""
    current, in_summary = "torch", False
    for line in text.splitlines():
        m = _DIRECTIVE.match(line)
        if m:
            kind, arg = m.groups()
            in_summary = kind == "autosummary"
            if kind in ("currentmodule", "automodule"):
                current = arg
            elif kind != "autosummary":
                yield current, arg
            continue
        stripped = line.strip()
        if line.startswith("```") or (stripped.startswith("..") and not stripped.startswith("...")):
            in_summary = False
        if in_summary and stripped and not stripped.startswith(":"):
            yield current, stripped.lstrip("~")


def qualify(current, entry):
    """The qualified name Sphinx resolves an entry to: relative to the current module first."""
    if entry.startswith("torch."):
        return entry
    rel = f"{current}.{entry}"
    return rel if resolve(rel) is not None else entry


def documented(docs_dir):
    by_ns = {ns: {} for ns in NAMESPACES}  # ns -> {(id(obj), last part): shortest name}
    dropped = []
    roots = sorted(NAMESPACES.items(), key=lambda kv: -len(kv[1]))
    for source in SOURCES:
        for current, entry in entries((docs_dir / source).read_text()):
            q = qualify(current, entry)
            obj = resolve(q)
            if obj is None:
                dropped.append(q)
                continue
            ns, root = next((ns, r) for ns, r in roots if q.startswith(r + "."))
            rel = q[len(root) + 1 :]
            parts = rel.split(".")
            last = parts[-1]
            for k in range(len(parts) - 1):  # the shortest spelling of the same object
                if resolve(".".join([root, *parts[:k], last])) is obj:
                    rel = ".".join([*parts[:k], last])
                    break
            names = by_ns[ns]
            key = (id(obj), last)  # an alias under another name is a name of its own
            if key not in names or len(rel) < len(names[key]):
                names[key] = rel
    return {ns: sorted(set(v.values())) for ns, v in by_ns.items()}, sorted(set(dropped))


def main(docs_dir):
    import torch

    version = torch.__version__.split("+")[0]
    names, dropped = documented(pathlib.Path(docs_dir))
    OUT.mkdir(exist_ok=True)
    for ns, lst in names.items():
        root = NAMESPACES[ns]
        header = (
            f"# PyTorch {version}'s documented names in {root}, one a line, relative to {root}.\n"
            "# Generated once by tools/gen_documented_names.py from the autosummary, autoclass,\n"
            "# autofunction and autoattribute entries of PyTorch's documentation sources (docs/source:\n"
            f"# {', '.join(SOURCES)}), keeping the names PyTorch {version} has. Do not edit.\n"
        )
        (OUT / f"{ns}.txt").write_text(header + "".join(n + "\n" for n in lst))
        print(f"{ns}: {len(lst)} names")
    print(f"not in PyTorch {version} (left out): {', '.join(dropped)}")


if __name__ == "__main__":
    main(sys.argv[1])
