"""nn.Module and nn.Parameter: registration, traversal, modes, conversion, state dicts, repr."""

import copy
from collections import OrderedDict

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.Identity()
        self.fc2 = nn.Linear(4, 2)
        self.register_buffer("steps", rg.zeros((), dtype=rg.int64))
        self.register_buffer("scratch", rg.zeros(2), persistent=False)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


# --------------------------------------------------------------------------- Parameter
def test_parameter_is_a_leaf_tensor_sharing_data():
    t = rg.randn(2, 3)
    p = nn.Parameter(t)
    assert isinstance(p, rg.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf and p.grad_fn is None
    with rg.no_grad():
        t.add_(1.0)
    np.testing.assert_array_equal(p.detach().numpy(), t.numpy())
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)
    assert type(p * 2) is rg.Tensor


def test_parameter_repr_and_deepcopy():
    p = nn.Parameter(rg.tensor([1.0, 2.0]))
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    q = copy.deepcopy(p)
    assert type(q) is nn.Parameter and q.requires_grad
    with rg.no_grad():
        q.mul_(3)
    assert p.tolist() == [1.0, 2.0]


def test_parameter_of_integer_tensor_needs_requires_grad_false():
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(rg.tensor([1, 2]))
    assert not nn.Parameter(rg.tensor([1, 2]), requires_grad=False).requires_grad


def test_parameter_from_non_leaf_is_a_leaf():
    x = rg.randn(3, requires_grad=True)
    p = nn.Parameter(x * 2)
    assert p.is_leaf and p.requires_grad


# --------------------------------------------------------------------------- registration
def test_attribute_assignment_registers():
    m = Net()
    assert list(m._modules) == ["fc1", "act", "fc2"]
    assert list(m._buffers) == ["steps", "scratch"]
    m.w = nn.Parameter(rg.ones(2))
    assert "w" in m._parameters and "w" not in m.__dict__
    m.plain = rg.ones(2)  # a plain tensor is a plain attribute
    assert "plain" in m.__dict__ and "plain" not in m._buffers
    m.steps = rg.ones((), dtype=rg.int64)  # assigning to a buffer name replaces the buffer
    assert m._buffers["steps"].item() == 1
    m.buf = nn.Buffer(rg.zeros(3), persistent=False)
    assert "buf" in m._buffers and "buf" in m._non_persistent_buffers_set
    assert type(m.buf) is rg.Tensor


def test_reassignment_moves_between_registries():
    m = nn.Module()
    m.x = nn.Linear(2, 2)
    m.x = nn.Parameter(rg.ones(1))
    assert "x" not in m._modules and "x" in m._parameters
    m.x = None
    assert m._parameters["x"] is None and m.x is None


def test_registration_errors():
    m = nn.Module()
    m.w = nn.Parameter(rg.ones(2))
    with pytest.raises(TypeError, match="cannot assign 'torch.FloatTensor' as parameter 'w'"):
        m.w = rg.ones(2)
    with pytest.raises(KeyError, match="contain"):
        m.register_parameter("a.b", None)
    with pytest.raises(KeyError, match="empty"):
        m.register_buffer("", None)
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("w", rg.ones(1))
    with pytest.raises(TypeError, match="buffer 'b'"):
        m.register_buffer("b", [1, 2])
    with pytest.raises(TypeError, match="parameter 'p'"):
        m.register_parameter("p", rg.ones(2))
    with pytest.raises(ValueError, match="non-leaf"):
        m.register_parameter("q", _non_leaf_param())
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("c", 3)
    m.sub = nn.Identity()
    with pytest.raises(TypeError, match="child module 'sub'"):
        m.sub = 3
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'nope'"):
        m.nope


def _non_leaf_param():
    p = nn.Parameter(rg.ones(2))
    p.grad_fn = (rg.ones(2, requires_grad=True) * 2).grad_fn  # forge a non-leaf
    return p


def test_assignment_before_init_fails():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(rg.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


def test_delattr_and_dir():
    m = Net()
    assert {"fc1", "fc2", "steps", "forward"} <= set(dir(m))
    del m.fc1
    del m.steps
    assert "fc1" not in m._modules and "steps" not in m._buffers
    assert not hasattr(m, "fc1")


def test_add_and_register_module():
    m = nn.Module()
    m.add_module("a", nn.Linear(1, 1))
    m.register_module("b", None)
    assert m.a is m._modules["a"] and m.b is None
    assert [n for n, _ in m.named_children()] == ["a"]


# --------------------------------------------------------------------------- traversal
def test_named_parameters_buffers_and_prefix():
    m = Net()
    assert [n for n, _ in m.named_parameters()] == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert [n for n, _ in m.named_parameters(prefix="net")][0] == "net.fc1.weight"
    assert [n for n, _ in m.fc1.named_parameters(recurse=False)] == ["weight", "bias"]
    assert list(m.named_parameters(recurse=False)) == []
    assert [n for n, _ in m.named_buffers()] == ["steps", "scratch"]
    assert len(list(m.parameters())) == 4 and len(list(m.buffers())) == 2


def test_shared_parameters_and_modules_are_listed_once():
    shared = nn.Linear(2, 2)
    m = nn.Sequential(shared, nn.Identity(), shared)
    assert len(list(m.parameters())) == 2
    assert [n for n, _ in m.named_parameters(remove_duplicate=False)] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert [n for n, _ in m.named_modules()] == ["", "0", "1"]
    assert [n for n, _ in m.named_modules(remove_duplicate=False)] == ["", "0", "1", "2"]
    assert [n for n, _ in m.named_children()] == ["0", "1"]
    tied = nn.Module()
    tied.a = nn.Linear(2, 2, bias=False)
    tied.b = nn.Linear(2, 2, bias=False)
    tied.b.weight = tied.a.weight
    assert [n for n, _ in tied.named_parameters()] == ["a.weight"]


def test_modules_children_and_submodule_lookup():
    m = nn.Sequential(OrderedDict(block=nn.Sequential(nn.Linear(2, 3), nn.Identity()), head=nn.Linear(3, 1)))
    assert [type(x).__name__ for x in m.modules()] == ["Sequential", "Sequential", "Linear", "Identity", "Linear"]
    assert m.get_submodule("block.0") is m.block[0]
    assert m.get_submodule("") is m
    assert m.get_parameter("block.0.bias") is m.block[0].bias
    with pytest.raises(AttributeError, match="has no attribute `nope`"):
        m.get_submodule("block.nope")
    with pytest.raises(AttributeError, match="is not an nn.Module"):
        m.get_submodule("head.weight.x")
    with pytest.raises(AttributeError, match="is not an nn.Parameter"):
        Net().get_parameter("steps")
    assert Net().get_buffer("steps").item() == 0
    m.set_submodule("block.1", nn.Linear(3, 3))
    assert isinstance(m.block[1], nn.Linear)


# --------------------------------------------------------------------------- modes, grads, apply
def test_train_eval_propagate():
    m = Net()
    assert m.training and m.fc1.training
    assert m.eval() is m
    assert not m.training and not m.fc1.training and not m.act.training
    m.train()
    assert m.fc2.training
    with pytest.raises(ValueError, match="boolean"):
        m.train("yes")


def test_requires_grad_and_zero_grad():
    m = Net()
    m(rg.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_frozen_parameters_get_no_gradient_and_no_graph_nodes():
    m = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))
    m[0].requires_grad_(False)
    x = rg.randn(2, 3)
    h = m[0](x)
    assert h.grad_fn is None and not h.requires_grad  # nothing recorded at all
    y = m(x).sum()
    y.backward()
    assert m[0].weight.grad is None and m[0].bias.grad is None
    assert m[1].weight.grad is not None

    # the graph holds no edge towards the frozen parameters
    def reach(node, seen):
        if node is None or node in seen:
            return seen
        seen.add(node)
        for nxt, _ in node.next_functions:
            reach(nxt, seen)
        return seen

    nodes = reach(m(x).sum().grad_fn, set())
    leaves = {id(n.variable) for n in nodes if hasattr(n, "variable")}
    assert leaves == {id(m[1].weight), id(m[1].bias)}


def test_apply_visits_children_first():
    m = Net()
    seen = []
    assert m.apply(lambda mod: seen.append(type(mod).__name__)) is m
    assert seen == ["Linear", "Identity", "Linear", "Net"]


def test_apply_can_reinitialise():
    m = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))

    def init_weights(mod):
        if isinstance(mod, nn.Linear):
            nn.init.ones_(mod.weight)

    m.apply(init_weights)
    assert all(mod.weight.numpy(force=True).min() == 1 for mod in m)


# --------------------------------------------------------------------------- conversion
def test_to_double_keeps_parameter_identity_and_converts_grads():
    m = Net()
    w = m.fc1.weight
    m(rg.randn(2, 3)).sum().backward()
    assert m.to(rg.float64) is m
    assert m.fc1.weight is w and w.dtype == rg.float64 and w.grad.dtype == rg.float64
    assert m.steps.dtype == rg.int64  # integer buffers keep their dtype
    assert m.scratch.dtype == rg.float64
    m.float()
    assert w.dtype == rg.float32
    m.double()
    assert w.dtype == rg.float64
    m.to(rg.zeros(1, dtype=rg.float32))
    assert w.dtype == rg.float32
    m.to("cpu")
    m.cpu()
    m.to(device="cpu", dtype=rg.float64)
    assert w.dtype == rg.float64 and w.device.type == "cpu"
    with pytest.raises(TypeError, match="floating point"):
        m.to(rg.int32)


def test_forward_after_double_runs_in_float64():
    m = Net().double()
    y = m(rg.randn(2, 3, dtype=rg.float64))
    assert y.dtype == rg.float64


# --------------------------------------------------------------------------- state dict
def test_state_dict_contents():
    m = Net()
    sd = m.state_dict()
    assert list(sd) == ["steps", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert not sd["fc1.weight"].requires_grad and type(sd["fc1.weight"]) is rg.Tensor
    with rg.no_grad():
        m.fc1.weight.add_(1.0)
    np.testing.assert_array_equal(sd["fc1.weight"].numpy(), m.fc1.weight.detach().numpy())
    kv = m.state_dict(keep_vars=True)
    assert kv["fc1.weight"] is m.fc1.weight
    assert list(m.state_dict(prefix="model."))[0] == "model.steps"
    assert "fc1" in sd._metadata and sd._metadata[""]["version"] == 1


def test_state_dict_round_trip():
    a, b = Net(), Net()
    with rg.no_grad():
        a.steps.fill_(7)
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    for (na, pa), (nb, pb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert na == nb
        np.testing.assert_array_equal(pa.numpy(), pb.numpy())
    x = rg.randn(4, 3)
    np.testing.assert_array_equal(a(x).detach().numpy(), b(x).detach().numpy())
    assert b.fc1.weight.requires_grad and isinstance(b.fc1.weight, nn.Parameter)


def test_load_state_dict_reports_all_problems():
    m = Net()
    sd = m.state_dict()
    del sd["fc1.bias"]
    sd["fc2.weight"] = rg.zeros(3, 3)
    sd["extra"] = rg.zeros(1)
    sd["fc1.gamma"] = rg.zeros(1)
    with pytest.raises(RuntimeError) as e:
        m.load_state_dict(sd)
    msg = str(e.value)
    assert msg.startswith("Error(s) in loading state_dict for Net:")
    assert 'Missing key(s) in state_dict: "fc1.bias".' in msg
    assert 'Unexpected key(s) in state_dict: "extra", "fc1.gamma".' in msg
    assert (
        "size mismatch for fc2.weight: copying a param with shape retrograd.Size([3, 3]) from "
        "checkpoint, the shape in current model is retrograd.Size([2, 4])."
    ) in msg


def test_load_state_dict_non_strict():
    m = Net()
    before = m.fc1.weight.detach().clone()
    sd = {"fc1.bias": rg.ones(4), "junk": rg.ones(1)}
    result = m.load_state_dict(sd, strict=False)
    assert result.unexpected_keys == ["junk"]
    assert set(result.missing_keys) == {"steps", "fc1.weight", "fc2.weight", "fc2.bias"}
    assert m.fc1.bias.tolist() == [1.0] * 4
    np.testing.assert_array_equal(m.fc1.weight.detach().numpy(), before.numpy())
    # a shape mismatch is an error even when not strict
    with pytest.raises(RuntimeError, match="size mismatch for fc1.bias"):
        m.load_state_dict({"fc1.bias": rg.ones(5)}, strict=False)
    with pytest.raises(RuntimeError, match="expected torch.Tensor"):
        m.load_state_dict({"fc1.bias": [1.0] * 4}, strict=False)
    with pytest.raises(TypeError, match="dict-like"):
        m.load_state_dict([("fc1.bias", rg.ones(4))])


def test_load_state_dict_assign_and_copy_semantics():
    m = Net()
    w = m.fc1.weight
    src = Net().state_dict()
    m.load_state_dict(src)
    assert m.fc1.weight is w  # copy into existing parameter
    m.load_state_dict(src, assign=True)
    assert m.fc1.weight is not w and isinstance(m.fc1.weight, nn.Parameter)
    assert m.fc1.weight.requires_grad
    assert m.fc1.weight.data_ptr() == src["fc1.weight"].data_ptr()


def test_load_state_dict_casts_dtype():
    m = Net()
    sd = {k: (v.double() if v.is_floating_point() else v) for k, v in Net().state_dict().items()}
    m.load_state_dict(sd)
    assert m.fc1.weight.dtype == rg.float32
    np.testing.assert_allclose(m.fc1.weight.detach().numpy(), sd["fc1.weight"].numpy(), rtol=1e-6)


def test_state_dict_and_load_hooks():
    m = Net()
    calls = []
    h1 = m.register_state_dict_pre_hook(lambda mod, prefix, keep_vars: calls.append("pre"))
    h2 = m.register_state_dict_post_hook(lambda mod, sd, prefix, meta: calls.append("post"))
    m.state_dict()
    assert calls == ["pre", "post"]
    h1.remove()
    h2.remove()
    m.state_dict()
    assert calls == ["pre", "post"]

    def post(mod, keys):
        keys.unexpected_keys.clear()

    m.register_load_state_dict_post_hook(post)
    sd = m.state_dict()
    sd["junk"] = rg.ones(1)
    assert m.load_state_dict(sd).unexpected_keys == []


def test_deepcopy_module():
    m = Net()
    c = copy.deepcopy(m)
    assert c.fc1.weight is not m.fc1.weight and isinstance(c.fc1.weight, nn.Parameter)
    np.testing.assert_array_equal(c.fc1.weight.detach().numpy(), m.fc1.weight.detach().numpy())
    with rg.no_grad():
        c.fc1.weight.zero_()
    assert m.fc1.weight.detach().numpy().any()
    assert "scratch" in c._non_persistent_buffers_set


# --------------------------------------------------------------------------- repr
def test_repr_nested():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.seq = nn.Sequential(nn.Linear(2, 3), nn.Identity())

        def extra_repr(self):
            return "custom=1"

    assert repr(Block()) == (
        "Block(\n  custom=1\n  (seq): Sequential(\n"
        "    (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "    (1): Identity()\n  )\n)"
    )
    assert repr(nn.Linear(2, 3, bias=False)) == "Linear(in_features=2, out_features=3, bias=False)"
    assert repr(nn.Module()) == "Module()"


def test_forward_not_implemented():
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)


class _SparseBuffers(nn.Module):
    def __init__(self):
        super().__init__()
        heads = rg.zeros(2, 3, dtype=rg.bool)
        heads[1:] = True
        self.register_buffer("heads", heads.to_sparse(), persistent=False)
        self.register_buffer("table", rg.eye(3).to_sparse())


def test_sparse_tensors_are_buffers():
    m = _SparseBuffers()
    assert m.heads.is_sparse and m.heads.indices().T.tolist() == [[1, 0], [1, 1], [1, 2]]
    assert set(dict(m.named_buffers())) == {"heads", "table"}
    assert list(m.state_dict()) == ["table"]
    m.double()
    assert m.table.dtype == rg.float64 and m.heads.dtype == rg.bool
    m.table = (rg.eye(3) * 2).to_sparse()
    np.testing.assert_array_equal(m.table.to_dense().numpy(), 2 * np.eye(3))
    with pytest.raises(TypeError, match="buffer 'table'"):
        m.table = [1, 2]
    other = _SparseBuffers()
    table = other.table
    other.load_state_dict(m.state_dict())
    assert other.table is table and other.table.dtype == rg.float32
    np.testing.assert_array_equal(other.table.to_dense().numpy(), 2 * np.eye(3))
    clone = copy.deepcopy(m)
    assert clone.heads.indices().tolist() == m.heads.indices().tolist()


def test_module_to_memory_format_lays_out_4d_parameters():
    """Module.to(memory_format=channels_last) makes 4-D parameters and buffers channels-last
    (the same Parameter objects, same values); other tensors keep their layout."""
    m = rg.nn.Sequential(rg.nn.Conv2d(3, 4, 3), rg.nn.BatchNorm2d(4))
    w, before = m[0].weight, m[0].weight.detach().clone()
    assert m.to(memory_format=rg.channels_last) is m
    assert m[0].weight is w and isinstance(w, rg.nn.Parameter)
    assert w.is_contiguous(memory_format=rg.channels_last) and not w.is_contiguous()
    assert w.stride() == (27, 1, 9, 3) and rg.equal(w, before)
    assert m[0].bias.is_contiguous() and m[1].running_mean.is_contiguous()
    m.to(dtype=rg.float64, memory_format=rg.contiguous_format)
    assert w.is_contiguous() and w.dtype == rg.float64
    with pytest.raises(RuntimeError, match="rank 4"):
        rg.nn.Conv3d(2, 2, 1).to(memory_format=rg.channels_last)
