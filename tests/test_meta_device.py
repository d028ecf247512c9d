"""The meta device: tensors with a shape, dtype and strides but no data; ops on them compute only
their result's layout; reading values raises as in PyTorch."""

import copy
import pickle

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.autograd import _modes
from retrograd.func import functional_call, stack_module_state, vmap


def meta(*shape, **kw):
    return rg.empty(*shape, device="meta", **kw)


# ------------------------------------------------------------------ devices and factories
def test_device_object():
    d = rg.device("meta")
    assert d.type == "meta" and d.index is None
    assert repr(d) == "device(type='meta')" and str(d) == "meta"
    assert d == "meta" and d != rg.device("cpu")
    with pytest.raises(RuntimeError, match="device type at start of device string: nope"):
        rg.device("nope")


@pytest.mark.parametrize(
    "make",
    [
        lambda: rg.empty(2, 3, device="meta"),
        lambda: rg.zeros(2, 3, device="meta"),
        lambda: rg.ones((2, 3), device=rg.device("meta")),
        lambda: rg.randn(2, 3, device="meta"),
        lambda: rg.rand(2, 3, device="meta"),
        lambda: rg.full((2, 3), 1.5, device="meta"),
        lambda: rg.tensor([[1.0, 2, 3], [4, 5, 6]], device="meta"),
        lambda: rg.zeros_like(rg.ones(2, 3), device="meta"),
        lambda: rg.randn_like(rg.ones(2, 3), device="meta"),
        lambda: rg.ones(2, 3).to("meta"),
        lambda: rg.ones(7).new_empty((2, 3), device="meta"),
        lambda: meta(4).new_zeros((2, 3)),
        lambda: rg.empty_like(meta(2, 3)),
        lambda: rg.full_like(meta(2, 3), 3.0),
    ],
)
def test_factories_give_meta_tensors(make):
    t = make()
    assert t.is_meta and t.device.type == "meta" and not t.is_cpu
    assert t.shape == (2, 3) and t.dtype == rg.float32 and t.stride() == (3, 1)
    assert repr(t) == "tensor(..., device='meta', size=(2, 3))"


def test_factories_keep_dtype_and_requires_grad():
    t = meta(2, dtype=rg.float64, requires_grad=True)
    assert t.dtype == rg.float64 and t.requires_grad and t.is_leaf
    assert rg.arange(5, device="meta").dtype == rg.int64
    assert rg.arange(5, device="meta").shape == (5,)
    assert rg.linspace(0, 1, 7, device="meta").shape == (7,)
    assert rg.eye(3, 4, device="meta").shape == (3, 4)
    assert rg.randint(0, 5, (4,), device="meta").dtype == rg.int64


def test_random_factories_on_meta_do_not_draw():
    rg.manual_seed(0)
    a = rg.rand(3)
    rg.manual_seed(0)
    rg.randn(1000, device="meta")
    meta(1000).uniform_()
    nn.init.kaiming_uniform_(meta(50, 20))
    assert rg.equal(rg.rand(3), a)


def test_init_functions_and_random_ops_on_meta():
    for init in (
        nn.init.trunc_normal_,
        nn.init.orthogonal_,
        nn.init.xavier_uniform_,
        nn.init.kaiming_normal_,
        nn.init.normal_,
        nn.init.zeros_,
        nn.init.eye_,
    ):
        t = meta(4, 5)
        assert init(t) is t and t.is_meta
    assert rg.multinomial(meta(2, 3), 2).shape == (2, 2) and rg.multinomial(meta(2, 3), 2).dtype == rg.int64
    assert rg.bernoulli(meta(3)).is_meta
    assert rg.normal(meta(3, 1), meta(4)).shape == (3, 4)
    assert rg.normal(meta(3), 1.0).shape == (3,)
    assert nn.functional.one_hot(meta(3, dtype=rg.int64), 5).shape == (3, 5)


def test_default_device_context():
    with rg.device("meta"):
        t = rg.zeros(2)
        layer = nn.Linear(3, 4)
    assert t.is_meta and layer.weight.is_meta and layer.bias.is_meta
    assert not rg.zeros(2).is_meta
    with rg.device("meta"), rg.device("cpu"):
        assert not rg.zeros(2).is_meta
    assert rg.get_default_device() == rg.device("cpu")


def test_meta_mode_bit_is_set_only_while_meta_arrays_live():
    import gc

    gc.collect()
    before = _modes.switch.on & _modes.META
    t = meta(3)
    assert _modes.switch.on & _modes.META
    del t
    gc.collect()
    assert (_modes.switch.on & _modes.META) == before


def test_meta_mode_bit_survives_threads():
    import threading

    keep = meta(1)

    def churn():
        for _ in range(300):
            meta(2, 2).t()

    threads = [threading.Thread(target=churn) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert _modes.switch.on & _modes.META  # `keep` is alive
    assert (keep + 1).is_meta


# ------------------------------------------------------------------ layout
def test_strides_and_views():
    t = meta(2, 3, 4)
    p = t.permute(2, 0, 1)
    assert p.is_meta and p.shape == (4, 2, 3) and p.stride() == (1, 12, 4)
    assert not p.is_contiguous() and p.contiguous().stride() == (6, 3, 1)
    assert (p + 1).stride() == (1, 12, 4)  # elementwise keeps the layout
    s = t[:, 1]
    assert s.shape == (2, 4) and s.stride() == (12, 1) and s.storage_offset() == 4
    assert s._base is t
    assert t.T.stride() == (1, 4, 12)
    e = meta(3, 1).expand(3, 5)
    assert e.stride() == (1, 0)
    assert meta(2, 3).view(6).shape == (6,)
    assert rg.ones(2, 3).t().to("meta").stride() == (1, 3)  # a dense layout is kept
    assert rg.ones(2, 6)[:, ::2].to("meta").stride() == (3, 1)  # a gapped one is not
    assert meta(2, 0, 3).stride() == (3, 3, 1)
    assert rg.empty_strided((2, 3), (1, 2), device="meta").stride() == (1, 2)


def test_repr():
    assert repr(meta(0)) == "tensor(..., device='meta', size=(0,))"
    assert repr(meta()) == "tensor(..., device='meta', size=())"
    assert repr(meta(2) * 2) == "tensor(..., device='meta', size=(2,))"
    x = meta(2, requires_grad=True)
    assert repr(x * 2) == "tensor(..., device='meta', size=(2,), grad_fn=<MulBackward0>)"
    assert repr(rg.arange(3, device="meta")) == "tensor(..., device='meta', size=(3,), dtype=retrograd.int64)"
    assert repr(meta(2, 3, dtype=rg.float64, requires_grad=True)) == (
        "tensor(..., device='meta', size=(2, 3), dtype=retrograd.float64,\n       requires_grad=True)"
    )
    assert str(nn.Parameter(meta(2))) == (
        "Parameter containing:\ntensor(..., device='meta', size=(2,), requires_grad=True)"
    )


# ------------------------------------------------------------------ no values
def test_reading_values_raises():
    t = meta(2, 3)
    one = meta()
    with pytest.raises(RuntimeError, match="Tensor.item\\(\\) cannot be called on meta tensors"):
        one.item()
    with pytest.raises(RuntimeError, match="6 elements cannot be converted to Scalar"):
        t.item()
    with pytest.raises(RuntimeError, match="Tensor.item\\(\\) cannot be called on meta tensors"):
        bool(one)
    with pytest.raises(RuntimeError, match="Tensor.item\\(\\) cannot be called on meta tensors"):
        float(one)
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(t)
    with pytest.raises(NotImplementedError, match="Cannot copy out of meta tensor; no data!"):
        t.tolist()
    with pytest.raises(TypeError, match="can't convert meta device type tensor to numpy"):
        t.numpy()
    with pytest.raises(TypeError, match="can't convert meta device type tensor to numpy"):
        np.asarray(t)
    with pytest.raises(NotImplementedError, match="Cannot copy out of meta tensor; no data!"):
        t.to("cpu")
    with pytest.raises(NotImplementedError, match="Cannot copy out of meta tensor; no data!"):
        t.cpu()
    with pytest.raises(NotImplementedError, match="Cannot copy out of meta tensor; no data!"):
        rg.ones(2, 3).copy_(t)
    with pytest.raises(NotImplementedError):
        t.nonzero()
    with pytest.raises(NotImplementedError):
        rg.equal(t, t)


def test_assert_close_compares_the_attributes_of_meta_tensors():
    rg.testing.assert_close(meta(2, 3), meta(2, 3))
    with pytest.raises(AssertionError, match="'shape' do not match"):
        rg.testing.assert_close(meta(2), meta(3))
    with pytest.raises(AssertionError, match="'dtype' do not match"):
        rg.testing.assert_close(meta(2), meta(2, dtype=rg.float64))
    with pytest.raises(AssertionError, match="'device' do not match: meta != cpu"):
        rg.testing.assert_close(meta(2), rg.ones(2))


def test_copy_into_meta_checks_shapes_only():
    t = meta(2, 3)
    assert t.copy_(rg.ones(2, 3)) is t and t.is_meta
    t.fill_(2.0)
    t.zero_()
    t.add_(1)
    t.mul_(meta(3))
    with pytest.raises(RuntimeError):
        t.copy_(rg.ones(4))


def test_mixing_meta_and_cpu_raises():
    with pytest.raises(RuntimeError, match="Tensor on device cpu is not on the expected device meta!"):
        meta(2, 3) + rg.ones(2, 3)
    with pytest.raises(RuntimeError, match="Tensor on device meta is not on the expected device cpu!"):
        rg.ones(2, 3) + meta(2, 3)
    with pytest.raises(RuntimeError, match="expected device meta"):
        meta(2, 3) @ rg.ones(3, 2)
    # a 0-d cpu tensor is a scalar: allowed with any device, as in PyTorch
    assert (meta(2, 3) * rg.tensor(2.0)).is_meta
    assert (meta(2, 3) + 1).is_meta


def test_cpu_ops_unchanged_while_meta_tensors_live():
    keep = meta(2)  # noqa: F841  (keeps the meta mode on)
    a = rg.tensor([1.0, 2.0], requires_grad=True)
    (a * a).sum().backward()
    assert a.grad.tolist() == [2.0, 4.0]


# ------------------------------------------------------------------ ops and autograd
@pytest.mark.parametrize(
    "fn, shape, dtype",
    [
        (lambda: meta(2, 3) @ meta(3, 5), (2, 5), rg.float32),
        (lambda: meta(4, 1, 3) + meta(5, 1), (4, 5, 3), rg.float32),
        (lambda: meta(2, 3).sum(1), (2,), rg.float32),
        (lambda: meta(2, 3).argmax(1), (2,), rg.int64),
        (lambda: meta(2, 3) > 0, (2, 3), rg.bool),
        (lambda: meta(2, 3).double().exp(), (2, 3), rg.float64),
        (lambda: rg.cat([meta(2, 3), meta(4, 3)]), (6, 3), rg.float32),
        (lambda: meta(2, 3).max(1).values, (2,), rg.float32),
        (lambda: meta(2, 3, dtype=rg.bfloat16) * 2, (2, 3), rg.bfloat16),
        (lambda: meta(6, 4).softmax(-1), (6, 4), rg.float32),
        (lambda: meta(3, 4)[rg.tensor([0, 2])], (2, 4), rg.float32),
        (lambda: meta(3, 4)[meta(2, dtype=rg.int64)], (2, 4), rg.float32),
        (lambda: meta(3, 4).gather(1, meta(3, 2, dtype=rg.int64)), (3, 2), rg.float32),
        (lambda: meta(3, 4).sort(1).indices, (3, 4), rg.int64),
        (lambda: rg.linalg.svd(meta(3, 4), full_matrices=False).S, (3,), rg.float32),
    ],
)
def test_ops_give_meta_results(fn, shape, dtype):
    r = fn()
    assert r.is_meta and r.shape == shape and r.dtype == dtype


def test_factorizations_that_refuse_zeros_are_a_known_limit():
    # the forward runs on zeros, which a Cholesky factorization refuses (PyTorch's meta kernel
    # gives a (3, 3) meta tensor)
    with pytest.raises(RuntimeError, match="positive-definite"):
        rg.linalg.cholesky(meta(3, 3))


def test_conv_net_shapes():
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 5),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, 10),
    ).to("meta")
    x = meta(4, 3, 32, 32)
    shapes = []
    h = x
    for layer in net:
        h = layer(h)
        shapes.append(tuple(h.shape))
        assert h.is_meta
    assert shapes == [
        (4, 8, 32, 32),
        (4, 8, 32, 32),
        (4, 8, 32, 32),
        (4, 8, 16, 16),
        (4, 16, 12, 12),
        (4, 16, 1, 1),
        (4, 16),
        (4, 10),
    ]


def test_transformer_block_forward_and_backward():
    with rg.device("meta"):
        layer = nn.TransformerEncoderLayer(16, 4, 32, batch_first=True)
        x = rg.randn(2, 5, 16, requires_grad=True)
    y = layer(x)
    assert y.is_meta and y.shape == (2, 5, 16) and y.grad_fn is not None
    y.sum().backward()
    for p in layer.parameters():
        assert p.grad is not None and p.grad.is_meta and p.grad.shape == p.shape and p.grad.dtype == p.dtype
    assert x.grad.is_meta and x.grad.shape == (2, 5, 16)


def test_backward_gives_meta_grads():
    w = meta(3, 4, requires_grad=True)
    x = meta(2, 3)
    (x @ w).relu().mean().backward()
    assert w.grad.is_meta and w.grad.shape == (3, 4)
    g = rg.autograd.grad((meta(5, requires_grad=True) * 3).sum(), [w], allow_unused=True)
    assert g == (None,)


# ------------------------------------------------------------------ modules
def _small():
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


def test_module_to_meta_and_deepcopy():
    m = _small().to("meta")
    w = m[0].weight
    assert type(w) is nn.Parameter and w.is_meta and w.requires_grad
    assert m[1].running_mean.is_meta and m[1].num_batches_tracked.dtype == rg.int64
    c = copy.deepcopy(m)
    assert c[0].weight is not w and c[0].weight.is_meta and type(c[0].weight) is nn.Parameter
    assert c[0].weight.shape == (4, 3)
    assert pickle.loads(pickle.dumps(meta(2, 3))).is_meta


def test_to_empty():
    with rg.device("meta"):
        m = _small()
    p = m[0].weight
    assert m.to_empty(device="cpu") is m
    assert m[0].weight is p and not p.is_meta and p.shape == (4, 3) and p.requires_grad
    assert m[1].running_var.device.type == "cpu" and m[1].num_batches_tracked.dtype == rg.int64
    for module in m.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    assert m(rg.randn(5, 3)).shape == (5, 2)
    back = _small().to_empty(device="meta")
    assert all(t.is_meta for t in back.state_dict().values())
    partial = _small().to("meta").to_empty(device="cpu", recurse=False)
    assert partial[0].weight.is_meta


def test_load_state_dict_assign_onto_meta_module():
    src = _small()
    src[1].running_mean.add_(1.0)
    with rg.device("meta"):
        m = _small()
    result = m.load_state_dict(src.state_dict(), assign=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert type(m[0].weight) is nn.Parameter and m[0].weight.requires_grad and not m[0].weight.is_meta
    assert not m[1].running_mean.is_meta
    x = rg.randn(5, 3)
    assert rg.allclose(m.eval()(x), src.eval()(x))
    # without assign, copying into meta parameters keeps them meta (no data is kept), with
    # PyTorch's warning
    with rg.device("meta"):
        m2 = _small()
    with pytest.warns(UserWarning) as caught:
        m2.load_state_dict(src.state_dict())
    said = [str(w.message) for w in caught]
    assert len(said) == len(src.state_dict())
    assert said[0].startswith("for 0.weight: copying from a non-meta parameter in the checkpoint to a meta")
    assert m2[0].weight.is_meta


def test_functional_call_ensembling_with_a_meta_base():
    rg.manual_seed(0)
    models = [nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2)) for _ in range(4)]
    params, buffers = stack_module_state(models)
    base = copy.deepcopy(models[0]).to("meta")

    def fmodel(p, b, x):
        return functional_call(base, (p, b), (x,))

    x = rg.randn(6, 3)
    out = vmap(fmodel, in_dims=(0, 0, None))(params, buffers, x)
    assert out.shape == (4, 6, 2) and not out.is_meta
    for i, model in enumerate(models):
        assert rg.allclose(out[i], model(x))
    with pytest.raises(RuntimeError, match="expected device"):
        base(x)  # the base itself holds no data


def test_loss_and_optimizer_step_on_meta():
    with rg.device("meta"):
        model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 5))
    loss = nn.functional.cross_entropy(model(meta(6, 3)), meta(6, dtype=rg.int64))
    assert loss.is_meta and loss.shape == ()
    loss.backward()
    for opt in (rg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), rg.optim.AdamW(model.parameters())):
        opt.step()
        assert all(p.is_meta for p in model.parameters())
    opt.zero_grad()
    assert model[0].weight.grad is None


def test_huge_meta_modules_cost_no_memory():
    # 10^10 elements: made, initialised and viewed without an allocation of their size
    with rg.device("meta"):
        layer = nn.Linear(100_000, 100_000)
    w = layer.weight
    assert w.shape == (100_000, 100_000) and w.is_contiguous()
    assert w.T.stride() == (1, 100_000) and w[5:].storage_offset() == 500_000
    assert w.unsqueeze(0).expand(3, -1, -1).stride() == (0, 100_000, 1)
    import copy as _copy

    c = _copy.deepcopy(layer)
    assert c.weight.is_meta and c.weight.shape == (100_000, 100_000)
    # casts and copies compute their layout from the MetaArray itself: no array of this size
    assert layer.half().weight.dtype == rg.float16
    assert w.T.contiguous().stride() == (100_000, 1) and w.T.clone().stride() == (1, 100_000)
