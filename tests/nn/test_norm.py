"""BatchNorm, LayerNorm, RMSNorm, GroupNorm against NumPy; running statistics; modes."""

from collections import OrderedDict

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn

from ._util import module_gradcheck, t64


def np_batch_norm(x, mean, var, w, b, eps):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    if w is not None:
        y = y * w.reshape(shape) + b.reshape(shape)
    return y


def batch_stats(x):
    axes = (0,) + tuple(range(2, x.ndim))
    n = x.size // x.shape[1]
    return x.mean(axes), x.var(axes), x.var(axes) * n / (n - 1)


def test_batchnorm_buffers_and_init():
    bn = nn.BatchNorm2d(4)
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert bn.weight.tolist() == [1.0] * 4 and bn.bias.tolist() == [0.0] * 4
    assert bn.running_mean.tolist() == [0.0] * 4 and bn.running_var.tolist() == [1.0] * 4
    assert bn.num_batches_tracked.dtype == rg.int64 and bn.num_batches_tracked.item() == 0
    plain = nn.BatchNorm1d(3, affine=False, track_running_stats=False)
    assert list(plain.state_dict()) == [] and plain.running_mean is None and plain.weight is None
    assert repr(bn) == "BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"


@pytest.mark.parametrize(
    "cls,shape", [(nn.BatchNorm1d, (6, 3)), (nn.BatchNorm1d, (4, 3, 5)), (nn.BatchNorm2d, (2, 3, 4, 5))]
)
def test_batchnorm_train_then_eval(cls, shape):
    bn = cls(3, momentum=0.3).double()
    with rg.no_grad():
        bn.weight.copy_(rg.tensor([1.0, 2.0, -1.0]))
        bn.bias.copy_(rg.tensor([0.0, 0.5, 1.0]))
    w, b = bn.weight.detach().numpy(), bn.bias.detach().numpy()
    rm, rv = np.zeros(3), np.ones(3)
    for step in range(2):
        x = np.random.randn(*shape) * 2 + 1
        mean, var, unbiased = batch_stats(x)
        out = bn(t64(x))
        np.testing.assert_allclose(out.detach().numpy(), np_batch_norm(x, mean, var, w, b, 1e-5), rtol=1e-8, atol=1e-10)
        rm = 0.7 * rm + 0.3 * mean
        rv = 0.7 * rv + 0.3 * unbiased
        np.testing.assert_allclose(bn.running_mean.numpy(), rm, rtol=1e-10)
        np.testing.assert_allclose(bn.running_var.numpy(), rv, rtol=1e-10)
        assert bn.num_batches_tracked.item() == step + 1
    bn.eval()
    x = np.random.randn(*shape)
    np.testing.assert_allclose(bn(t64(x)).detach().numpy(), np_batch_norm(x, rm, rv, w, b, 1e-5), rtol=1e-10)
    assert bn.num_batches_tracked.item() == 2  # eval does not count
    np.testing.assert_allclose(bn.running_mean.numpy(), rm, rtol=1e-10)


def test_batchnorm_cumulative_average_and_no_tracking():
    bn = nn.BatchNorm1d(2, momentum=None).double()
    xs = [np.random.randn(5, 2) for _ in range(3)]
    for x in xs:
        bn(t64(x))
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([x.mean(0) for x in xs], 0), rtol=1e-10)
    np.testing.assert_allclose(bn.running_var.numpy(), np.mean([x.var(0, ddof=1) for x in xs], 0), rtol=1e-10)
    free = nn.BatchNorm1d(2, track_running_stats=False, affine=False).double().eval()
    x = np.random.randn(5, 2)
    np.testing.assert_allclose(free(t64(x)).numpy(), (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5), rtol=1e-10)


def test_batchnorm_gradcheck_and_errors():
    assert module_gradcheck(nn.BatchNorm1d(2), t64(np.random.randn(4, 2), True))
    assert module_gradcheck(nn.BatchNorm2d(2).eval(), t64(np.random.randn(2, 2, 2, 2), True))
    with pytest.raises(ValueError, match="expected 4D input \\(got 3D input\\)"):
        nn.BatchNorm2d(3)(rg.randn(2, 3, 4))
    with pytest.raises(ValueError, match="expected 2D or 3D input \\(got 4D input\\)"):
        nn.BatchNorm1d(3)(rg.randn(2, 3, 4, 4))


def test_batchnorm_loads_old_state_dict_without_num_batches_tracked():
    bn = nn.BatchNorm1d(2)
    sd = OrderedDict((k, v) for k, v in nn.BatchNorm1d(2).state_dict().items() if k != "num_batches_tracked")
    sd._metadata = {"": {"version": 1}}
    bn.load_state_dict(sd)
    assert bn.num_batches_tracked.item() == 0
    sd._metadata = {"": {"version": 2}}  # current version: it is required
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "num_batches_tracked"'):
        bn.load_state_dict(sd)


def test_batchnorm_in_a_model_double_and_state():
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).double()
    m(t64(np.random.randn(8, 3)))
    other = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).double()
    other.load_state_dict(m.state_dict())
    np.testing.assert_array_equal(other[1].running_mean.numpy(), m[1].running_mean.numpy())
    assert other[1].num_batches_tracked.item() == 1


def np_layer_norm(x, k, w, b, eps):
    axes = tuple(range(x.ndim - k, x.ndim))
    y = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + eps)
    if w is not None:
        y = y * w
    if b is not None:
        y = y + b
    return y


def test_layer_norm():
    ln = nn.LayerNorm((3, 4)).double()
    assert ln.weight.shape == (3, 4) and ln.weight.detach().numpy().min() == 1 and not ln.bias.detach().numpy().any()
    with rg.no_grad():
        ln.weight.normal_()
        ln.bias.normal_()
    x = np.random.randn(2, 5, 3, 4)
    ref = np_layer_norm(x, 2, ln.weight.detach().numpy(), ln.bias.detach().numpy(), 1e-5)
    np.testing.assert_allclose(ln(t64(x)).detach().numpy(), ref, rtol=1e-10)
    plain = nn.LayerNorm(4, eps=1e-3, elementwise_affine=False).double()
    assert list(plain.parameters()) == []
    np.testing.assert_allclose(plain(t64(x)).numpy(), np_layer_norm(x, 1, None, None, 1e-3), rtol=1e-10)
    nob = nn.LayerNorm(4, bias=False)
    assert nob.bias is None and [n for n, _ in nob.named_parameters()] == ["weight"]
    assert module_gradcheck(nn.LayerNorm(3), t64(np.random.randn(2, 3), True))
    assert repr(nn.LayerNorm(8)) == "LayerNorm((8,), eps=1e-05, elementwise_affine=True, bias=True)"
    assert repr(nn.LayerNorm(8, bias=False)) == "LayerNorm((8,), eps=1e-05, elementwise_affine=True, bias=False)"


def test_rms_norm():
    rn = nn.RMSNorm(4).double()
    with rg.no_grad():
        rn.weight.normal_()
    x = np.random.randn(3, 4)
    w = rn.weight.detach().numpy()
    eps = np.finfo(np.float64).eps
    np.testing.assert_allclose(
        rn(t64(x)).detach().numpy(), x / np.sqrt((x**2).mean(-1, keepdims=True) + eps) * w, rtol=1e-10
    )
    r2 = nn.RMSNorm([2, 4], eps=0.1, elementwise_affine=False).double()
    x = np.random.randn(3, 2, 4)
    np.testing.assert_allclose(r2(t64(x)).numpy(), x / np.sqrt((x**2).mean((1, 2), keepdims=True) + 0.1), rtol=1e-10)
    assert module_gradcheck(nn.RMSNorm(3, eps=1e-6), t64(np.random.randn(2, 3), True))
    assert repr(nn.RMSNorm(8)) == "RMSNorm((8,), eps=None, elementwise_affine=True)"


def test_group_norm():
    gn = nn.GroupNorm(2, 6).double()
    with rg.no_grad():
        gn.weight.normal_()
        gn.bias.normal_()
    x = np.random.randn(3, 6, 4, 5)
    g = x.reshape(3, 2, -1)
    y = ((g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + 1e-5)).reshape(x.shape)
    ref = y * gn.weight.detach().numpy()[None, :, None, None] + gn.bias.detach().numpy()[None, :, None, None]
    np.testing.assert_allclose(gn(t64(x)).detach().numpy(), ref, rtol=1e-9, atol=1e-12)
    assert module_gradcheck(nn.GroupNorm(2, 4), t64(np.random.randn(2, 4, 3), True))
    with pytest.raises(ValueError, match="divisible by num_groups"):
        nn.GroupNorm(4, 6)
    assert repr(nn.GroupNorm(2, 6)) == "GroupNorm(2, 6, eps=1e-05, affine=True, bias=True)"
    assert nn.GroupNorm(2, 6, bias=False).bias is None
