"""autograd.graph.draw: the SVG shows every node, edge and saved tensor of the graph; DOT and
file output; freed tensors, hooks, parameter names."""

import xml.etree.ElementTree as ET

import pytest

import retrograd as torch
from retrograd import nn
from retrograd.autograd import graph

SVG = "{http://www.w3.org/2000/svg}"


def _mlp_loss():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2))
    return model, model(torch.randn(4, 3)).tanh().sum()


def _parse(svg):
    root = ET.fromstring(svg)
    groups = root.iter(f"{SVG}g")
    nodes, edges = [], []
    for g in groups:
        cls = g.get("class", "").split()
        if "node" in cls:
            texts = ["".join(t.itertext()) for t in g.iter(f"{SVG}tspan")]
            nodes.append((cls[1], g.find(f"{SVG}title").text, texts, g.find(f"{SVG}rect")))
        elif "edge" in cls:
            edges.append((cls[1], g.find(f"{SVG}title").text))
    return nodes, edges


def _graph_of(t):
    """Nodes and edges by the public API (next_functions), independently of the drawing."""
    seen, stack, edges = {t.grad_fn}, [t.grad_fn], 0
    while stack:
        n = stack.pop()
        for child, _ in n.next_functions:
            if child is not None:
                edges += 1
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
    return seen, edges


def test_mlp_svg_shows_every_node_edge_and_saved_tensor():
    model, loss = _mlp_loss()
    nodes, n_grad_edges = _graph_of(loss)
    svg = graph.draw(loss, params=dict(model.named_parameters())).to_svg()
    drawn, edges = _parse(svg)
    graph_boxes = [d for d in drawn if d[0] in ("op", "leaf", "param")]
    assert sorted(d[1] for d in graph_boxes) == sorted(n.name() for n in nodes)
    assert len(nodes) == 9  # Sum, Tanh, Relu, two Addmm, four AccumulateGrad
    assert [d[0] for d in drawn].count("root") == 1
    # saved: each linear's input, weight, bias; relu's and tanh's results
    saved = [d for d in drawn if d[0] == "saved"]
    assert len(saved) == 8
    assert sorted(d[1] for d in saved) == sorted(["input0", "input1", "input2"] * 2 + ["result"] * 2)
    assert [e[0] for e in edges].count("saved") == 8
    assert [e[0] for e in edges].count("grad") == n_grad_edges + 1  # and the output's
    assert n_grad_edges == 8
    text = " ".join(" ".join(d[2]) for d in drawn)
    assert "0.weight" in text and "2.bias" in text and "[4, 5] float32" in text and "60 B" in text
    assert [d[0] for d in drawn].count("param") == 4
    _assert_no_overlap(drawn)


def _assert_no_overlap(drawn):
    rects = [tuple(float(d[3].get(k)) for k in ("x", "y", "width", "height")) for d in drawn]
    for i, (x1, y1, w1, h1) in enumerate(rects):
        for x2, y2, w2, h2 in rects[i + 1 :]:
            assert x1 + w1 <= x2 or x2 + w2 <= x1 or y1 + h1 <= y2 or y2 + h2 <= y1


def test_freed_saved_tensors_are_drawn_freed():
    _, loss = _mlp_loss()
    loss.backward()
    drawn, edges = _parse(graph.draw(loss).to_svg())
    assert [d[0] for d in drawn].count("freed") == 8
    assert [d[0] for d in drawn].count("saved") == 0
    assert all("freed" in d[2] for d in drawn if d[0] == "freed")
    assert [d[0] for d in drawn].count("leaf") == 4  # no names given


def test_a_tensor_saved_twice_is_one_box_and_hooks_are_shown():
    x = torch.randn(3, requires_grad=True)
    t = x * 2
    t.register_hook(lambda g: g)
    y = (t * t).sum()
    y.grad_fn.register_prehook(lambda gs: None)
    pic = graph.draw(y, show_saved=True)
    drawn, edges = _parse(pic.to_svg())
    assert [d[0] for d in drawn].count("saved") == 1  # t, saved by one mul as both inputs
    assert [e[0] for e in edges].count("saved") == 2
    texts = {d[1]: " ".join(d[2]) for d in drawn if d[0] == "op"}
    assert "hooks: 1 pre" in texts["SumBackward0"]
    assert "1 tensor" in next(t for name, t in texts.items() if name == "MulBackward0" and "tensor" in t)
    bare, _ = _parse(graph.draw(y, show_saved=False).to_svg())
    assert [d[0] for d in bare].count("saved") == 0


def test_dot_files_and_jupyter(tmp_path):
    model, loss = _mlp_loss()
    pic = graph.draw(loss, params={"<w&1>": model[0].weight}, path=tmp_path / "g.svg")
    ET.parse(tmp_path / "g.svg")  # well-formed, the odd name escaped
    assert pic._repr_svg_() == pic.to_svg()
    dot = pic.to_dot()
    assert dot.startswith("digraph") and dot.count("->") == len(pic.edges)
    assert all(f"  {n.id} [label=" in dot for n in pic.nodes)
    pic.save(tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text() == dot
    with pytest.raises(ValueError, match="extension"):
        pic.save(tmp_path / "g.jpeg")
    import shutil

    if shutil.which("dot") is None:
        with pytest.raises(RuntimeError, match="Graphviz"):
            pic.save(tmp_path / "g.png")
    else:
        pic.save(tmp_path / "g.png")
        assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"


def test_several_roots_leaf_roots_and_bad_arguments():
    a = torch.randn(2, requires_grad=True)
    b = a.exp()
    drawn, edges = _parse(graph.draw(b, b.sum(), a).to_svg())
    assert [d[1] for d in drawn if d[0] == "root"] == ["output 0", "output 1", "output 2"]
    assert sorted(d[1] for d in drawn if d[0] in ("op", "leaf")) == ["AccumulateGrad", "ExpBackward0", "SumBackward0"]
    with pytest.raises(TypeError):
        graph.draw(b, params=[a])
    with pytest.raises(TypeError):
        graph.draw("not a tensor")


def test_a_transformer_block_lays_out_without_overlaps():
    torch.manual_seed(0)
    block = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, batch_first=True)
    out = block(torch.randn(2, 3, 8)).sum()
    nodes, n_edges = _graph_of(out)
    drawn, edges = _parse(graph.draw(out, params=dict(block.named_parameters())).to_svg())
    assert len([d for d in drawn if d[0] in ("op", "leaf", "param")]) == len(nodes)
    assert [e[0] for e in edges].count("grad") == n_edges + 1
    _assert_no_overlap(drawn)
