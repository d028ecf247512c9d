"""The meta device against PyTorch's: shapes, dtypes, strides, storage offsets and printouts of
meta results, and the exceptions raised where values would be read or devices are mixed."""

import copy

import pytest

import retrograd as rg
from retrograd import nn as rnn

torch = pytest.importorskip("torch")


def _layout(t):
    return (tuple(t.shape), str(t.dtype).split(".")[-1], tuple(t.stride()), t.storage_offset(), t.device.type)


# each case builds the same computation with either library (``m`` is the module: torch or rg)
CASES = {
    "empty": lambda m: m.empty(2, 3, device="meta"),
    "zeros_int": lambda m: m.zeros(4, dtype=m.int32, device="meta"),
    "randn": lambda m: m.randn(3, 4, device="meta"),
    "full_bool": lambda m: m.full((2, 2), True, device="meta"),
    "arange": lambda m: m.arange(6, device="meta"),
    "tensor": lambda m: m.tensor([[1, 2], [3, 4]], device="meta"),
    "to_meta_transposed": lambda m: m.ones(3, 4).t().to("meta"),
    "permute": lambda m: m.empty(2, 3, 4, device="meta").permute(2, 0, 1),
    "permute_add": lambda m: m.empty(2, 3, 4, device="meta").permute(2, 0, 1) + 1,
    "permute_contiguous": lambda m: m.empty(2, 3, 4, device="meta").permute(2, 0, 1).contiguous(),
    "select": lambda m: m.empty(2, 3, 4, device="meta")[:, 1],
    "slice_step": lambda m: m.empty(6, 4, device="meta")[1::2],
    "expand": lambda m: m.empty(3, 1, device="meta").expand(3, 5),
    "matmul": lambda m: m.empty(2, 3, device="meta") @ m.empty(3, 5, device="meta"),
    "broadcast_add": lambda m: m.empty(4, 1, 3, device="meta") + m.empty(5, 1, device="meta"),
    "sum_dim": lambda m: m.empty(2, 3, device="meta").sum(1),
    "argmax": lambda m: m.empty(2, 3, device="meta").argmax(1),
    "compare": lambda m: m.empty(2, 3, device="meta") > 0,
    "promote": lambda m: m.empty(2, 3, device="meta", dtype=m.float16) + m.empty(3, device="meta", dtype=m.float64),
    "int_div": lambda m: m.empty(3, dtype=m.int64, device="meta") / 2,
    "cat": lambda m: m.cat([m.empty(2, 3, device="meta"), m.empty(4, 3, device="meta")]),
    "stack": lambda m: m.stack([m.empty(2, 3, device="meta")] * 3, 1),
    "softmax": lambda m: m.empty(6, 4, device="meta").softmax(-1),
    "view": lambda m: m.empty(2, 3, 4, device="meta").view(6, 4),
    "flatten": lambda m: m.empty(2, 3, 4, device="meta").flatten(1),
    "cpu_scalar": lambda m: m.empty(2, 3, device="meta") * m.tensor(2.0),
    "empty_strided": lambda m: m.empty_strided((2, 3), (1, 2), device="meta"),
    "empty_like": lambda m: m.empty_like(m.empty(2, 3, 4, device="meta").permute(2, 0, 1)),
    "conv2d": lambda m: m.nn.functional.conv2d(
        m.empty(2, 3, 9, 9, device="meta"), m.empty(8, 3, 3, 3, device="meta"), stride=2
    ),
    "max_pool": lambda m: m.nn.functional.max_pool2d(m.empty(2, 3, 9, 9, device="meta"), 2),
    "layer_norm": lambda m: m.nn.functional.layer_norm(m.empty(2, 5, 8, device="meta"), (8,)),
    "multinomial": lambda m: m.multinomial(m.empty(2, 3, device="meta"), 2),
    "bernoulli": lambda m: m.bernoulli(m.empty(3, 2, device="meta").t()),
    "normal_tensors": lambda m: m.normal(m.empty(3, 1, device="meta"), m.empty(4, device="meta")),
    "one_hot": lambda m: m.nn.functional.one_hot(m.empty(3, dtype=m.int64, device="meta"), 5),
    "bfloat16": lambda m: m.empty(2, 3, device="meta", dtype=m.bfloat16) * 2,
}


@pytest.mark.parametrize("name", list(CASES))
def test_layout_matches(name):
    want = CASES[name](torch)
    got = CASES[name](rg)
    assert got.is_meta and want.is_meta
    assert _layout(got) == _layout(want)


@pytest.mark.parametrize("name", list(CASES))
def test_repr_matches(name):
    want = repr(CASES[name](torch))
    got = repr(CASES[name](rg)).replace("retrograd.", "torch.")
    assert got == want


def test_repr_with_autograd_state_matches():
    for m in (torch, rg):
        x = m.empty(2, 3, device="meta", dtype=m.float64, requires_grad=True)
        y = x * 2
        if m is torch:
            want = [repr(x), repr(y), repr(m.nn.Parameter(m.empty(2, device="meta")))]
        else:
            got = [repr(x), repr(y), repr(rnn.Parameter(m.empty(2, device="meta")))]
    assert [r.replace("retrograd.", "torch.") for r in got] == want


ERRORS = {
    "item": lambda m: m.empty((), device="meta").item(),
    "item_many": lambda m: m.empty(2, 3, device="meta").item(),
    "bool": lambda m: bool(m.empty((), device="meta")),
    "bool_many": lambda m: bool(m.empty(2, device="meta")),
    "float": lambda m: float(m.empty((), device="meta")),
    "tolist": lambda m: m.empty(2, device="meta").tolist(),
    "numpy": lambda m: m.empty(2, device="meta").numpy(),
    "to_cpu": lambda m: m.empty(2, device="meta").to("cpu"),
    "cpu": lambda m: m.empty(2, device="meta").cpu(),
    "copy_out": lambda m: m.ones(2).copy_(m.empty(2, device="meta")),
    "meta_plus_cpu": lambda m: m.empty(2, 3, device="meta") + m.ones(2, 3),
    "cpu_plus_meta": lambda m: m.ones(2, 3) + m.empty(2, 3, device="meta"),
    "nonzero": lambda m: m.empty(3, device="meta").nonzero(),
    "unique": lambda m: m.empty(3, device="meta").unique(),
    "masked_select": lambda m: m.empty(3, device="meta").masked_select(m.empty(3, device="meta") > 0),
    "equal": lambda m: m.equal(m.empty(3, device="meta"), m.empty(3, device="meta")),
    "bad_device": lambda m: m.device("nope"),
}


def _raised(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001  (the exception type is what is compared)
        return type(e).__name__, str(e)
    return None, None


@pytest.mark.parametrize("name", list(ERRORS))
def test_error_types_match(name):
    want, want_msg = _raised(lambda: ERRORS[name](torch))
    got, got_msg = _raised(lambda: ERRORS[name](rg))
    assert want is not None
    assert got == want, got_msg
    for phrase in ("Cannot copy out of meta tensor; no data!", "Tensor.item() cannot be called on meta tensors"):
        if phrase in want_msg:
            assert phrase in got_msg
    if "expected device" in want_msg:
        assert want_msg.split("!")[0] in got_msg


def _net(m):
    nn = m.nn
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 5, stride=2),
        nn.AdaptiveAvgPool2d((2, 3)),
        nn.Flatten(),
        nn.Linear(96, 10),
    )


def test_conv_net_shapes_match():
    outs = {}
    for m in (torch, rg):
        net = _net(m).to("meta")
        h = m.empty(2, 3, 28, 28, device="meta")
        layouts = []
        for layer in net:
            h = layer(h)
            layouts.append(_layout(h))
        outs[m.__name__] = layouts
    assert outs["retrograd"] == outs["torch"]


def test_transformer_block_matches():
    res = {}
    for m in (torch, rg):
        with m.device("meta"):
            layer = m.nn.TransformerEncoderLayer(16, 4, 32, batch_first=True)
            x = m.empty(2, 5, 16, requires_grad=True)
        y = layer(x)
        y.sum().backward()
        grads = [_layout(p.grad) for p in layer.parameters()]
        res[m.__name__] = (_layout(y), repr(y).split("grad_fn")[0], _layout(x.grad), grads)
    assert res["retrograd"] == res["torch"]


def test_modules_match():
    res = {}
    for m in (torch, rg):
        nn = m.nn
        with m.device("meta"):
            mod = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
        c = copy.deepcopy(mod)
        sd = {k: _layout(v) for k, v in c.state_dict().items()}
        e = mod.to_empty(device="cpu")
        after = {k: (tuple(v.shape), str(v.dtype).split(".")[-1], v.device.type) for k, v in e.state_dict().items()}
        res[m.__name__] = (sd, after, repr(c[0].weight).replace("retrograd.", "torch."))
    assert res["retrograd"] == res["torch"]
