"""nn names added for the documented-names walk: BatchNorm folding (nn.utils.fusion), weight
memory formats, skip_init, stateless.functional_call, factory_kwargs, the global registration
hooks and the deprecated upsample_nearest/upsample_bilinear."""

import numpy as np
import pytest

import retrograd as rg
import retrograd.nn as nn
import retrograd.nn.functional as F
from retrograd.nn.modules import module as module_mod


def _trained_bn(bn):
    with rg.no_grad():
        bn.running_mean.copy_(rg.randn(bn.num_features, dtype=bn.running_mean.dtype))
        bn.running_var.copy_(rg.rand(bn.num_features, dtype=bn.running_var.dtype) + 0.5)
        bn.weight.copy_(rg.randn(bn.num_features, dtype=bn.weight.dtype))
        bn.bias.copy_(rg.randn(bn.num_features, dtype=bn.bias.dtype))
    return bn.eval()


@pytest.mark.parametrize(
    "conv, bn, transpose, shape",
    [
        (
            lambda: nn.Conv2d(3, 4, 3, dtype=rg.float64),
            lambda: nn.BatchNorm2d(4, dtype=rg.float64),
            False,
            (2, 3, 6, 6),
        ),
        (
            lambda: nn.Conv1d(2, 3, 2, bias=False, dtype=rg.float64),
            lambda: nn.BatchNorm1d(3, dtype=rg.float64),
            False,
            (2, 2, 5),
        ),
        (
            lambda: nn.ConvTranspose2d(3, 4, 2, dtype=rg.float64),
            lambda: nn.BatchNorm2d(4, dtype=rg.float64),
            True,
            (1, 3, 4, 4),
        ),
    ],
)
def test_fuse_conv_bn_eval_equals_conv_then_bn(conv, bn, transpose, shape):
    rg.manual_seed(0)
    c, b = conv().eval(), _trained_bn(bn())
    x = rg.randn(*shape, dtype=rg.float64)
    fused = nn.utils.fuse_conv_bn_eval(c, b, transpose=transpose)
    assert fused is not c and isinstance(fused, type(c))
    np.testing.assert_allclose(fused(x).detach().numpy(), b(c(x)).detach().numpy(), rtol=1e-10, atol=1e-12)
    assert isinstance(fused.weight, nn.Parameter) and isinstance(fused.bias, nn.Parameter)


def test_fuse_linear_bn_eval_equals_linear_then_bn():
    rg.manual_seed(1)
    lin, bn = nn.Linear(5, 3, dtype=rg.float64).eval(), _trained_bn(nn.BatchNorm1d(3, dtype=rg.float64))
    x = rg.randn(4, 5, dtype=rg.float64)
    fused = nn.utils.fuse_linear_bn_eval(lin, bn)
    np.testing.assert_allclose(fused(x).detach().numpy(), bn(lin(x)).detach().numpy(), rtol=1e-10, atol=1e-12)
    w, b = nn.utils.fuse_linear_bn_weights(
        lin.weight, None, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias
    )
    scale = bn.weight / (bn.running_var + bn.eps).sqrt()
    np.testing.assert_allclose(b.detach().numpy(), (bn.bias - bn.running_mean * scale).detach().numpy())
    assert w.shape == lin.weight.shape


def test_fusion_refuses_training_mode_and_mismatched_sizes():
    with pytest.raises(AssertionError, match="only for eval"):
        nn.utils.fuse_conv_bn_eval(nn.Conv2d(1, 2, 1), nn.BatchNorm2d(2).eval())
    with pytest.raises(AssertionError, match="num_features"):
        nn.utils.fuse_linear_bn_eval(nn.Linear(2, 3).eval(), nn.BatchNorm1d(4).eval())


def test_convert_conv_weight_memory_format():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Sequential(nn.ConvTranspose2d(4, 2, 2)), nn.Conv3d(1, 1, 1))
    before = model[3].weight.stride()
    assert nn.utils.convert_conv2d_weight_memory_format(model, rg.channels_last) is model
    for conv in (model[0], model[2][0]):
        w = conv.weight
        o, i, h, k = w.shape
        assert w.stride() == (i * h * k, 1, k * i, i) and isinstance(w, nn.Parameter)
    assert model[3].weight.stride() == before
    nn.utils.convert_conv3d_weight_memory_format(model, rg.contiguous_format)
    assert model[3].weight.is_contiguous()


def test_skip_init():
    m = nn.utils.skip_init(nn.Linear, 5, 1)
    assert isinstance(m, nn.Linear) and m.weight.shape == (1, 5) and m.weight.device.type == "cpu"
    m = nn.utils.skip_init(nn.Linear, in_features=6, out_features=2, dtype=rg.float64)
    assert m.weight.dtype == rg.float64

    class NoDevice(nn.Module):
        def __init__(self, n):
            super().__init__()

    with pytest.raises(RuntimeError, match="'device' arg"):
        nn.utils.skip_init(NoDevice, 2)
    with pytest.raises(RuntimeError, match="Expected a Module"):
        nn.utils.skip_init(int, 2)


def test_stateless_functional_call_warns_and_calls():
    lin = nn.Linear(2, 1)
    params = {"weight": rg.ones(1, 2), "bias": rg.zeros(1)}
    with pytest.warns(FutureWarning, match="torch.func.functional_call"):
        out = nn.utils.stateless.functional_call(lin, params, (rg.tensor([[1.0, 2.0]]),))
    assert out.tolist() == [[3.0]]


def test_factory_kwargs():
    assert nn.factory_kwargs(None) == {}
    assert nn.factory_kwargs({"device": "cpu", "dtype": rg.float64}) == {"device": "cpu", "dtype": rg.float64}
    assert nn.factory_kwargs({"factory_kwargs": {"dtype": rg.float16}, "device": "cpu"}) == {
        "dtype": rg.float16,
        "device": "cpu",
    }
    with pytest.raises(TypeError, match="unexpected kwargs"):
        nn.factory_kwargs({"bias": True})
    with pytest.raises(TypeError, match="specified twice"):
        nn.factory_kwargs({"dtype": rg.float32, "factory_kwargs": {"dtype": rg.float64}})


def test_global_registration_hooks():
    seen, replaced = [], []

    def on_param(module, name, param):
        seen.append(("param", name))
        if name == "bias":
            replaced.append(nn.Parameter(param.detach().clone()))
            return replaced[-1]
        return None

    def on_buffer(module, name, buf):
        seen.append(("buffer", name))

    def on_module(module, name, sub):
        seen.append(("module", name))
        return nn.Identity() if name == "swap" else None

    handles = [
        module_mod.register_module_parameter_registration_hook(on_param),
        module_mod.register_module_buffer_registration_hook(on_buffer),
        module_mod.register_module_module_registration_hook(on_module),
    ]
    try:
        lin = nn.Linear(2, 3)
        assert ("param", "weight") in seen and lin.bias is replaced[-1]
        bn = nn.BatchNorm1d(2)
        assert ("buffer", "running_mean") in seen
        seq = nn.Sequential()
        seq.add_module("a", nn.ReLU())
        seq.swap = nn.Tanh()
        assert ("module", "a") in seen and isinstance(seq.swap, nn.Identity)
        del bn
    finally:
        for h in handles:
            h.remove()
    seen.clear()
    nn.Linear(2, 2)
    assert seen == []


def test_register_module_backward_hook_is_deprecated_and_runs():
    calls = []
    with pytest.warns(FutureWarning, match="register_module_full_backward_hook"):
        h = module_mod.register_module_backward_hook(lambda m, gi, go: calls.append(type(m).__name__))
    try:
        nn.Linear(2, 1)(rg.ones(1, 2, requires_grad=True)).sum().backward()
    finally:
        h.remove()
    assert "Linear" in calls


def test_deprecated_upsample_functions():
    x = rg.arange(8.0).reshape(1, 2, 2, 2)
    with pytest.warns(UserWarning, match="upsample_nearest is deprecated"):
        y = F.upsample_nearest(x, scale_factor=2)
    np.testing.assert_array_equal(y.numpy(), F.interpolate(x, scale_factor=2, mode="nearest").numpy())
    with pytest.warns(UserWarning, match="upsample_bilinear is deprecated"):
        y = F.upsample_bilinear(x, size=(3, 3))
    ref = F.interpolate(x, size=(3, 3), mode="bilinear", align_corners=True)
    np.testing.assert_allclose(y.numpy(), ref.numpy())
    assert y[0, 0, 1, 1].item() == pytest.approx(1.5)  # align_corners: the centre averages all four
