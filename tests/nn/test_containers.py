"""Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict."""

from collections import OrderedDict

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn


def layers(n):
    return [nn.Linear(2, 2) for _ in range(n)]


def test_sequential_forward_and_indexing():
    a, b, c = layers(3)
    seq = nn.Sequential(a, b, c)
    x = rg.randn(4, 2)
    np.testing.assert_allclose(seq(x).detach().numpy(), c(b(a(x))).detach().numpy())
    assert seq[0] is a and seq[-1] is c and len(seq) == 3
    assert list(seq) == [a, b, c]
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == [b, c]
    assert list(sub._modules) == ["1", "2"]
    with pytest.raises(IndexError):
        seq[3]
    seq[1] = nn.Identity()
    assert isinstance(seq[1], nn.Identity)
    del seq[0]
    assert list(seq._modules) == ["0", "1"] and seq[1] is c


def test_sequential_ordered_dict_append_insert_extend_pop():
    seq = nn.Sequential(OrderedDict([("first", nn.Identity()), ("second", nn.Linear(2, 2))]))
    assert seq.first is seq[0]
    seq.append(nn.Identity())
    assert len(seq) == 3
    seq = nn.Sequential(*layers(2))
    extra = nn.Identity()
    seq.insert(1, extra)
    assert seq[1] is extra and len(seq) == 3
    seq.extend([nn.Identity()])
    assert len(seq) == 4
    popped = seq.pop(1)
    assert popped is extra and len(seq) == 3
    both = nn.Sequential(nn.Identity()) + nn.Sequential(nn.Identity())
    assert len(both) == 2
    assert len(nn.Sequential(nn.Identity()) * 3) == 3


def test_module_list():
    ml = nn.ModuleList(layers(2))
    assert len(ml) == 2 and [n for n, _ in ml.named_parameters()][0] == "0.weight"
    ml.append(nn.Identity())
    ml.extend([nn.Identity()])
    ml += [nn.Identity()]
    assert len(ml) == 5
    ml.insert(0, nn.Linear(1, 1))
    assert ml[0].in_features == 1 and len(ml) == 6
    assert isinstance(ml[1:3], nn.ModuleList) and len(ml[1:3]) == 2
    del ml[0]
    assert list(ml._modules) == [str(i) for i in range(5)]
    assert ml.pop(-1) is not None and len(ml) == 4
    with pytest.raises(TypeError):
        ml.extend(nn.Identity())
    with pytest.raises(NotImplementedError):
        ml(rg.ones(1))
    assert len(list(ml.parameters())) == 4


def test_module_list_repr_groups_repeats():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.Identity()])
    assert repr(ml) == (
        "ModuleList(\n  (0-2): 3 x Linear(in_features=2, out_features=2, bias=True)\n  (3): Identity()\n)"
    )
    assert repr(nn.ModuleList()) == "ModuleList()"


def test_module_dict():
    md = nn.ModuleDict({"b": nn.Identity(), "a": nn.Linear(2, 2)})
    assert list(md.keys()) == ["b", "a"] and "a" in md and len(md) == 2
    md["c"] = nn.Identity()
    assert list(md) == ["b", "a", "c"]
    md.update([("d", nn.Identity())])
    assert md.pop("d") is not None and "d" not in md
    del md["b"]
    assert list(md.keys()) == ["a", "c"]
    assert [n for n, _ in md.named_parameters()] == ["a.weight", "a.bias"]
    with pytest.raises(ValueError, match="length 1"):
        md.update([("x",)])
    md.clear()
    assert len(md) == 0


def test_parameter_list():
    pl = nn.ParameterList([nn.Parameter(rg.ones(2)), rg.zeros(3)])
    assert isinstance(pl[1], nn.Parameter) and pl[1].requires_grad
    pl.append(rg.ones(1))
    assert len(pl) == 3 and [n for n, _ in pl.named_parameters()] == ["0", "1", "2"]
    assert len(pl[:2]) == 2
    pl[0] = rg.full((2,), 5.0)
    assert pl[0].tolist() == [5.0, 5.0]
    assert len(list(pl)) == 3
    with pytest.raises(RuntimeError, match="should not be called"):
        pl(1)
    assert "(1): Parameter containing: [retrograd.float32 of size 3]" in repr(pl)


def test_parameter_dict():
    pd = nn.ParameterDict({"w": rg.ones(2)})
    pd["b"] = nn.Parameter(rg.zeros(1))
    assert isinstance(pd["w"], nn.Parameter) and list(pd.keys()) == ["w", "b"]
    assert [n for n, _ in pd.named_parameters()] == ["w", "b"]
    assert "w" in pd and len(pd) == 2
    assert pd.pop("w").tolist() == [1.0, 1.0] and len(pd) == 1
    assert pd.get("nope") is None
    pd.update([("c", rg.ones(3))])
    assert list(pd.keys()) == ["b", "c"]
    with pytest.raises(TypeError, match="not a string"):
        pd[1]
    m = nn.Module()
    m.params = pd
    assert [n for n, _ in m.named_parameters()] == ["params.b", "params.c"]


def test_containers_state_dict_round_trip():
    def make():
        m = nn.Module()
        m.seq = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
        m.ml = nn.ModuleList([nn.Linear(1, 1)])
        m.md = nn.ModuleDict({"x": nn.Linear(1, 2)})
        m.pl = nn.ParameterList([rg.randn(2)])
        m.pd = nn.ParameterDict({"k": rg.randn(1)})
        return m

    a, b = make(), make()
    keys = list(a.state_dict())
    assert keys == [
        "seq.0.weight",
        "seq.0.bias",
        "seq.1.weight",
        "seq.1.bias",
        "ml.0.weight",
        "ml.0.bias",
        "md.x.weight",
        "md.x.bias",
        "pl.0",
        "pd.k",
    ]
    b.load_state_dict(a.state_dict())
    for k in keys:
        np.testing.assert_array_equal(a.state_dict()[k].numpy(), b.state_dict()[k].numpy())
