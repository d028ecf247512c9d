"""Pictures of a graph: ``draw(*roots)`` gives a ``GraphPicture`` that renders to SVG on its
own (a small layered layout, no system binary), shows in Jupyter, and writes ``.svg``, ``.dot``
and, when Graphviz's ``dot`` is installed, ``.png``.

The picture reads like torchviz's: arrows run the way the forward ran, from the leaves (blue
when they are named parameters) through the backward nodes to the outputs (green); each node
shows its output shapes and dtypes and its hooks; each saved tensor is an orange box with a
dashed arrow to the node that saved it (grey once a backward freed it).

Layout: every box gets a layer, the longest path down to an output (so a leaf sits just above
its first user); an edge that spans layers bends through one point per layer it crosses; the
order within layers is improved by a few barycenter sweeps, and boxes are then moved toward
their neighbours' positions without overlapping.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zlib
from dataclasses import dataclass, field
from typing import Any

from ._graph_walk import Graph, arrays_of, root_node, saved, storage, walk
from .graph import AccumulateGrad, Node

_FILL = {
    "root": "#caff70",
    "op": "#e8e8e8",
    "leaf": "#d3d3d3",
    "param": "#add8e6",
    "saved": "#ffa500",
    "freed": "#f4f4f4",
}
_CHAR_W, _LINE_H, _PAD, _GAP_X, _GAP_Y = 7.2, 15.0, 6.0, 24.0, 36.0


@dataclass
class PictureNode:
    """One box: ``title`` (its first line, bold) and further ``lines``; ``kind`` is "root",
    "op", "leaf", "param", "saved" or "freed"."""

    id: str
    kind: str
    title: str
    lines: list[str] = field(default_factory=list)


@dataclass
class GraphPicture:
    """The boxes and arrows of a drawn graph; ``edges`` are (from id, to id, style) with style
    "grad" (the forward's data flow) or "saved" (a saved tensor to the node that keeps it)."""

    nodes: list[PictureNode]
    edges: list[tuple[str, str, str]]

    def to_svg(self) -> str:
        """The picture as a standalone SVG document."""
        return _svg(self, _layout(self))

    def _repr_svg_(self) -> str:
        return self.to_svg()

    def to_dot(self) -> str:
        """The picture in Graphviz's DOT language."""
        out = [
            "digraph autograd {",
            "  graph [rankdir=TB, nodesep=0.25, ranksep=0.35];",
            '  node [shape=box, style="rounded,filled", fontname="monospace", fontsize=10];',
        ]
        for n in self.nodes:
            label = "\\n".join(_dot_escape(s) for s in [n.title] + n.lines)
            style = ', style="rounded,filled,dashed"' if n.kind == "freed" else ""
            out.append(f'  {n.id} [label="{label}", fillcolor="{_FILL[n.kind]}"{style}];')
        for a, b, kind in self.edges:
            out.append(f"  {a} -> {b}" + (" [style=dashed, color=gray40];" if kind == "saved" else ";"))
        out.append("}")
        return "\n".join(out) + "\n"

    def save(self, path: str | os.PathLike[str]) -> str:
        """Write the picture to ``path``: ``.svg``, ``.dot`` (or ``.gv``), or ``.png`` (rendered by
        Graphviz's ``dot``, which must be installed). Returns the path."""
        path = os.fspath(path)
        ext = os.path.splitext(path)[1].lower()
        if ext == ".svg":
            _write(path, self.to_svg())
        elif ext in (".dot", ".gv"):
            _write(path, self.to_dot())
        elif ext == ".png":
            dot = shutil.which("dot")
            if dot is None:
                raise RuntimeError(
                    f"draw: writing {path} needs Graphviz's `dot` program, which is not "
                    f"installed; write a .svg (no dependency) or a .dot file instead"
                )
            subprocess.run([dot, "-Tpng", "-o", path], input=self.to_dot().encode(), check=True)
        else:
            raise ValueError(f"draw: cannot write {path!r}: the extension must be .svg, .dot, .gv or .png")
        return path


def draw(
    *roots: Any,
    params: dict[str, Any] | None = None,
    show_saved: bool = True,
    path: str | os.PathLike[str] | None = None,
) -> GraphPicture:
    """A picture of the graph behind ``roots`` (tensors). ``params`` names leaves
    (``dict(model.named_parameters())``, as torchviz takes); ``show_saved`` adds the saved
    tensors; ``path`` also writes the picture there (see ``GraphPicture.save``)."""
    if params is not None and not hasattr(params, "items"):
        raise TypeError(f"draw(params=...) expects a dict of name -> tensor, got {type(params).__name__}")
    names = {id(t): name for name, t in (params or {}).items()}
    graph = walk(roots)
    picture = _picture(graph, names, show_saved)
    if path is not None:
        picture.save(path)
    return picture


# ----------------------------------------------------------------------------- graph -> boxes
def _picture(graph: Graph, names: dict[int, str], show_saved: bool) -> GraphPicture:
    ids: dict[Node, str] = {n: f"n{i}" for i, n in enumerate(graph.nodes)}
    nodes: list[PictureNode] = []
    edges: list[tuple[str, str, str]] = []
    for node in graph.nodes:
        outs = graph.outputs.get(node, {})
        if type(node) is AccumulateGrad:
            var = node.variable
            name = names.get(id(var)) if var is not None else None
            box = PictureNode(
                ids[node],
                "param" if name is not None else "leaf",
                node.name(),
                ([name] if name is not None else []) + [_meta(m) for m in outs.values()],
            )
        else:
            lines = [("" if len(outs) == 1 else f"out{nr}: ") + _meta(m) for nr, m in sorted(outs.items())]
            box = PictureNode(ids[node], "op", node.name(), lines)
        hooks = _hooks(node)
        if hooks:
            box.lines.append("hooks: " + hooks)
        nodes.append(box)
        for e in node._next:
            if e is not None:
                edges.append((ids[e[0]], ids[node], "grad"))
    for i, t in enumerate(graph.roots):
        made_by = root_node(t)
        label = names.get(id(t), "output" if len(graph.roots) == 1 else f"output {i}")
        nodes.append(PictureNode(f"r{i}", "root", label, [_meta((tuple(t.shape), t.dtype))]))
        if made_by is not None:
            edges.append((ids[made_by], f"r{i}", "grad"))
    if show_saved:
        _add_saved(graph, ids, names, nodes, edges)
    return GraphPicture(nodes, edges)


def _add_saved(
    graph: Graph,
    ids: dict[Node, str],
    names: dict[int, str],
    nodes: list[PictureNode],
    edges: list[tuple[str, str, str]],
) -> None:
    """One box per distinct saved tensor (by identity: a tensor saved by two nodes, or twice by
    one, is one box with an arrow per use), one per freed item."""
    boxes: dict[int, str] = {}
    for node in graph.nodes:
        for s in saved(node):
            if s.freed:
                box = PictureNode(f"f{len(nodes)}", "freed", s.name, ["freed"])
                nodes.append(box)
                edges.append((box.id, ids[node], "saved"))
                continue
            arrays = arrays_of(s)
            obj = s.tensor if s.tensor is not None else (arrays[0] if len(arrays) == 1 else s)
            key = id(obj)
            if key not in boxes:
                boxes[key] = f"s{len(boxes)}"
                lines = [names[id(s.tensor)]] if s.tensor is not None and id(s.tensor) in names else []
                for a in arrays:
                    nbytes, held = int(a.nbytes), storage(a)[1]
                    size = _bytes(nbytes) + (f" (storage {_bytes(held)})" if held != nbytes else "")
                    lines += [_meta((tuple(a.shape), a.dtype)), size]
                if s.hooked:
                    lines.append("packed by hooks" if arrays else "packed by hooks (size unknown)")
                nodes.append(PictureNode(boxes[key], "saved", s.name, lines))
            edges.append((boxes[key], ids[node], "saved"))


def _meta(m: tuple[tuple[int, ...], Any]) -> str:
    shape, dtype = m
    return f"{list(shape)} {str(dtype).replace('retrograd.', '')}"


def _hooks(node: Node) -> str:
    extra = node._extra
    if not extra:
        return ""
    counts = [
        ("pre", len(extra.get("pre_hooks", ()))),
        ("post", len(extra.get("hooks", ()))),
        ("tensor", sum(len(h) for h in extra.get("tensor_hooks", {}).values())),
        ("retain_grad", len(extra.get("retains", {}))),
        ("post-accumulate", len(extra.get("post_accumulate", ()))),
    ]
    return ", ".join(f"{n} {kind}" for kind, n in counts if n)


def _bytes(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


# ----------------------------------------------------------------------------- layout
@dataclass
class _Layout:
    width: float
    height: float
    boxes: dict[str, tuple[float, float, float, float]]  # id -> (center x, top y, width, height)
    routes: list[list[tuple[float, float]]]  # per edge: its points, source to target


def _size(n: PictureNode) -> tuple[float, float]:
    longest = max(len(s) for s in [n.title] + n.lines)
    return longest * _CHAR_W + 2 * _PAD + 4, (1 + len(n.lines)) * _LINE_H + 2 * _PAD


def _layout(pic: GraphPicture) -> _Layout:
    succ: dict[str, list[str]] = {n.id: [] for n in pic.nodes}
    pred: dict[str, list[str]] = {n.id: [] for n in pic.nodes}
    for a, b, _ in pic.edges:
        succ[a].append(b)
        pred[b].append(a)
    # layer from the bottom: the longest path to a sink (graphs are DAGs; iterate in reverse
    # topological order)
    order = _topological(pic, succ, pred)
    depth: dict[str, int] = {}
    for v in reversed(order):
        depth[v] = 1 + max((depth[w] for w in succ[v]), default=-1)
    top = max(depth.values(), default=0)
    layer = {v: top - d for v, d in depth.items()}
    # split long edges with one point per crossed layer
    layers: list[list[str]] = [[] for _ in range(top + 1)]
    for v in order:
        layers[layer[v]].append(v)
    chains: list[list[str]] = []
    up: dict[str, list[str]] = {v: [] for v in layer}
    down: dict[str, list[str]] = {v: [] for v in layer}
    for i, (a, b, _) in enumerate(pic.edges):
        chain = [a]
        for k in range(layer[a] + 1, layer[b]):
            d = f"d{i}_{k}"
            layer[d] = k
            layers[k].append(d)
            up[d], down[d] = [], []
            chain.append(d)
        chain.append(b)
        for u, w in zip(chain, chain[1:]):
            down[u].append(w)
            up[w].append(u)
        chains.append(chain)
    _order_layers(layers, up, down)
    sizes = {n.id: _size(n) for n in pic.nodes}
    width = {v: sizes[v][0] if v in sizes else 2.0 for v in layer}
    x = _positions(layers, up, down, width)
    y: dict[int, float] = {}
    at = 12.0
    heights = []
    for k, vs in enumerate(layers):
        h = max((sizes[v][1] for v in vs if v in sizes), default=_LINE_H)
        heights.append(h)
        y[k] = at
        at += h + _GAP_Y
    shift = 12.0 - min(x[v] - width[v] / 2 for v in x) if x else 12.0
    boxes = {v: (x[v] + shift, y[layer[v]] + (heights[layer[v]] - sizes[v][1]) / 2, *sizes[v]) for v in sizes}
    routes = []
    for chain in chains:
        a, b = chain[0], chain[-1]
        pts = [(boxes[a][0], boxes[a][1] + boxes[a][3])]
        pts += [(x[d] + shift, y[layer[d]] + heights[layer[d]] / 2) for d in chain[1:-1]]
        pts.append((boxes[b][0], boxes[b][1]))
        routes.append(pts)
    right = max((bx + bw / 2 for bx, _, bw, _ in boxes.values()), default=0.0)
    return _Layout(right + 12, at - _GAP_Y + 12, boxes, routes)


def _topological(pic: GraphPicture, succ: dict[str, list[str]], pred: dict[str, list[str]]) -> list[str]:
    indeg = {v: len(p) for v, p in pred.items()}
    ready = [n.id for n in pic.nodes if indeg[n.id] == 0]
    order = []
    while ready:
        v = ready.pop()
        order.append(v)
        for w in succ[v]:
            indeg[w] -= 1
            if indeg[w] == 0:
                ready.append(w)
    return order


def _order_layers(layers: list[list[str]], up: dict[str, list[str]], down: dict[str, list[str]]) -> None:
    """Barycenter sweeps, down then up, to reduce crossings."""
    for sweep in range(4):
        seq = range(1, len(layers)) if sweep % 2 == 0 else range(len(layers) - 2, -1, -1)
        for k in seq:
            ref = layers[k - 1] if sweep % 2 == 0 else layers[k + 1]
            pos = {v: i for i, v in enumerate(ref)}
            near = up if sweep % 2 == 0 else down

            def center(v: str, i: int) -> float:
                ps = [pos[u] for u in near[v] if u in pos]
                return sum(ps) / len(ps) if ps else float(i)

            keyed = sorted(((center(v, i), i, v) for i, v in enumerate(layers[k])))
            layers[k][:] = [v for _, _, v in keyed]


def _positions(
    layers: list[list[str]], up: dict[str, list[str]], down: dict[str, list[str]], width: dict[str, float]
) -> dict[str, float]:
    """x centers: packed left to right, then pulled toward the mean of their neighbours a few
    times, keeping each layer's order and spacing."""
    x: dict[str, float] = {}
    for vs in layers:
        at = 0.0
        for v in vs:
            x[v] = at + width[v] / 2
            at += width[v] + _GAP_X
    for _ in range(6):
        for vs in layers:
            want = []
            for v in vs:
                near = up[v] + down[v]
                want.append(sum(x[u] for u in near) / len(near) if near else x[v])
            # the wanted positions pushed apart from the left, and from the right; their mean
            # keeps the spacing and does not drift to one side
            left, right = list(want), list(want)
            for i in range(1, len(vs)):
                left[i] = max(left[i], left[i - 1] + (width[vs[i - 1]] + width[vs[i]]) / 2 + _GAP_X)
            for i in range(len(vs) - 2, -1, -1):
                right[i] = min(right[i], right[i + 1] - (width[vs[i + 1]] + width[vs[i]]) / 2 - _GAP_X)
            for i, v in enumerate(vs):
                x[v] = (left[i] + right[i]) / 2
    return x


# ----------------------------------------------------------------------------- SVG
def _svg(pic: GraphPicture, lay: _Layout) -> str:
    # an id of its own per picture (several may share a notebook page), the same every run
    marker = f"arrow{zlib.crc32(repr((pic.nodes, pic.edges)).encode()):08x}"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{lay.width:.0f}" height="{lay.height:.0f}" '
        f'viewBox="0 0 {lay.width:.0f} {lay.height:.0f}" font-family="monospace" font-size="12">',
        f'<defs><marker id="{marker}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
        '<rect width="100%" height="100%" fill="white"/>',
    ]
    for (a, b, kind), pts in zip(pic.edges, lay.routes):
        d = "M" + " L".join(f"{px:.1f},{py:.1f}" for px, py in pts)
        dash = ' stroke-dasharray="4,3"' if kind == "saved" else ""
        color = "#999" if kind == "saved" else "#555"
        out.append(
            f'<g class="edge {kind}"><title>{a}-&gt;{b}</title><path d="{d}" fill="none" '
            f'stroke="{color}"{dash} marker-end="url(#{marker})"/></g>'
        )
    for n in pic.nodes:
        cx, top, w, h = lay.boxes[n.id]
        dash = ' stroke-dasharray="4,3"' if n.kind in ("freed",) else ""
        out.append(
            f'<g class="node {n.kind}" id="{n.id}"><title>{_xml(n.title)}</title>'
            f'<rect x="{cx - w / 2:.1f}" y="{top:.1f}" width="{w:.1f}" height="{h:.1f}" rx="4" '
            f'fill="{_FILL[n.kind]}" stroke="#444"{dash}/>'
        )
        text = [f'<tspan x="{cx:.1f}" y="{top + _PAD + 11:.1f}" font-weight="bold">{_xml(n.title)}</tspan>']
        for i, line in enumerate(n.lines):
            text.append(f'<tspan x="{cx:.1f}" y="{top + _PAD + 11 + (i + 1) * _LINE_H:.1f}">{_xml(line)}</tspan>')
        out.append(f'<text text-anchor="middle">{"".join(text)}</text></g>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _xml(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _dot_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"')


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
