"""The module classes that complete torch.nn: padding, 3-D/LP/fractional pooling and unpooling,
instance and local response norms, resampling, fold/unfold, distances, lazy modules and the
added losses. Values against NumPy references or identities; gradcheck in float64."""

import itertools
import math
import warnings

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.autograd import gradcheck
import retrograd.nn.functional as F

from ._util import module_gradcheck, t64

R = np.random.default_rng(3)


def randn(*shape, requires_grad=False):
    return t64(R.standard_normal(shape), requires_grad)


# --------------------------------------------------------------------------- padding
@pytest.mark.parametrize(
    "cls,mode,nd",
    [
        (nn.ConstantPad1d, "constant", 1),
        (nn.ZeroPad2d, "constant", 2),
        (nn.ConstantPad3d, "constant", 3),
        (nn.ReflectionPad1d, "reflect", 1),
        (nn.ReflectionPad2d, "reflect", 2),
        (nn.ReflectionPad3d, "reflect", 3),
        (nn.ReplicationPad1d, "edge", 1),
        (nn.ReplicationPad2d, "edge", 2),
        (nn.ReplicationPad3d, "edge", 3),
        (nn.CircularPad1d, "wrap", 1),
        (nn.CircularPad2d, "wrap", 2),
        (nn.CircularPad3d, "wrap", 3),
    ],
)
def test_padding_matches_numpy_pad(cls, mode, nd):
    pads = (1, 2, 2, 0, 0, 1)[: 2 * nd]
    x = randn(2, 3, *(4,) * nd)
    m = cls(pads, 0.5) if cls in (nn.ConstantPad1d, nn.ConstantPad3d) else cls(pads)
    widths = [(0, 0), (0, 0)] + [(pads[2 * i], pads[2 * i + 1]) for i in reversed(range(nd))]
    kw = {"constant_values": 0.5 if cls is not nn.ZeroPad2d else 0.0} if mode == "constant" else {}
    np.testing.assert_allclose(m(x).numpy(), np.pad(x.numpy(), widths, mode=mode, **kw))
    assert cls(1).padding == (1,) * (2 * nd) if cls not in (nn.ConstantPad1d, nn.ConstantPad3d) else True


def test_padding_errors_and_repr():
    with pytest.raises(ValueError, match="3D or 4D"):
        nn.CircularPad2d(1)(rg.zeros(3, 3))
    with pytest.raises(ValueError, match="4 numbers"):
        nn.ZeroPad2d((1, 2, 3))
    assert repr(nn.ConstantPad2d((1, 2, 3, 4), 1.5)) == "ConstantPad2d(padding=(1, 2, 3, 4), value=1.5)"
    assert repr(nn.ZeroPad1d(2)) == "ZeroPad1d((2, 2))"


# --------------------------------------------------------------------------- pooling
def test_pool3d_modules_match_numpy():
    x = randn(1, 2, 4, 4, 6)
    blocks = x.numpy().reshape(1, 2, 2, 2, 2, 2, 3, 2)
    np.testing.assert_allclose(nn.MaxPool3d(2)(x).numpy(), blocks.max(axis=(3, 5, 7)))
    np.testing.assert_allclose(nn.AvgPool3d(2)(x).numpy(), blocks.mean(axis=(3, 5, 7)))
    np.testing.assert_allclose(nn.AdaptiveAvgPool3d((2, 2, 3))(x).numpy(), blocks.mean(axis=(3, 5, 7)))
    out, idx = nn.AdaptiveMaxPool3d((2, 2, 3), return_indices=True)(x)
    np.testing.assert_allclose(out.numpy(), blocks.max(axis=(3, 5, 7)))
    assert idx.shape == out.shape


def test_lp_pool_is_the_p_norm_of_each_window():
    x = randn(2, 3, 4, 6).abs() + 0.1
    blocks = x.numpy().reshape(2, 3, 2, 2, 3, 2)
    ref = (blocks**3).sum(axis=(3, 5)) ** (1 / 3)
    np.testing.assert_allclose(nn.LPPool2d(3, 2)(x).numpy(), ref, rtol=1e-12)
    np.testing.assert_allclose(
        nn.LPPool1d(float("inf"), 3)(x[0]).numpy(), x[0].numpy().reshape(3, 4, 2, 3).max(-1), rtol=1e-12
    )
    assert gradcheck(lambda t: F.lp_pool3d(t, 2, 2), (t64(R.random((1, 2, 4, 2, 2)) + 0.5, True),))


def test_max_unpool_inverts_max_pool():
    x = randn(2, 3, 6, 4, requires_grad=True)
    pooled, idx = F.max_pool2d(x, 2, return_indices=True)
    up = nn.MaxUnpool2d(2)(pooled, idx)
    keep = x.detach().numpy() == up.detach().numpy()
    np.testing.assert_allclose(up.detach().numpy(), np.where(keep, x.detach().numpy(), 0))
    assert keep.reshape(2, 3, 3, 2, 2, 2).sum(axis=(3, 5)).min() >= 1
    assert nn.MaxUnpool2d(2)(pooled, idx, output_size=(7, 5)).shape == (2, 3, 7, 5)
    assert gradcheck(lambda p: F.max_unpool2d(p, idx, 2), (pooled.detach().requires_grad_(),))
    with pytest.raises(ValueError, match="invalid output_size"):
        nn.MaxUnpool2d(2)(pooled, idx, output_size=(9, 4))
    with pytest.raises(RuntimeError, match="invalid max index"):
        F.max_unpool1d(rg.ones(1, 1, 2), rg.tensor([[[0, 5]]]), 2)


def test_fractional_max_pool_windows_and_gradients():
    x = randn(2, 3, 9, 10, requires_grad=True)
    samples = t64(R.random((2, 3, 2)))
    m = nn.FractionalMaxPool2d(3, output_size=(4, 5), return_indices=True, _random_samples=samples)
    out, idx = m(x)
    assert out.shape == idx.shape == (2, 3, 4, 5)
    flat = x.detach().numpy().reshape(2, 3, -1)
    np.testing.assert_allclose(
        np.take_along_axis(flat, idx.numpy().reshape(2, 3, -1), -1).reshape(out.shape), out.detach().numpy()
    )
    # every window is 3 x 3, starts increase and the last one ends at the border
    rows, cols = idx.numpy() // 10, idx.numpy() % 10
    assert rows.max() == 8 and cols.max() == 9
    assert gradcheck(
        lambda t: F.fractional_max_pool3d(t, 2, output_ratio=0.5, _random_samples=t64(R.random((1, 2, 3)))),
        (randn(1, 2, 5, 4, 6, requires_grad=True),),
    )
    with pytest.raises(ValueError, match="output_size or an output_ratio|output size, or a pooling ratio"):
        nn.FractionalMaxPool2d(2)
    with pytest.raises(RuntimeError, match="too large"):
        F.fractional_max_pool2d(rg.zeros(1, 1, 4, 4), 3, output_size=(3, 3))


# --------------------------------------------------------------------------- normalisation
def test_instance_norm_matches_numpy_and_tracks_stats():
    x = randn(3, 2, 5, 4)
    m = nn.InstanceNorm2d(2, affine=True, track_running_stats=True).double()
    a = x.numpy()
    mean, var = a.mean((2, 3), keepdims=True), a.var((2, 3), keepdims=True)
    np.testing.assert_allclose(m(x).detach().numpy(), (a - mean) / np.sqrt(var + 1e-5), rtol=1e-10)
    np.testing.assert_allclose(m.running_mean.numpy(), 0.1 * mean.mean(0).ravel(), rtol=1e-10)
    assert module_gradcheck(m, randn(2, 2, 3, 3, requires_grad=True))
    assert nn.InstanceNorm1d(3)(randn(3, 6)).shape == (3, 6)  # unbatched
    with pytest.raises(ValueError, match="num_features"):
        nn.InstanceNorm1d(4, affine=True)(randn(2, 3, 5))
    assert repr(nn.InstanceNorm1d(3)) == (
        "InstanceNorm1d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=False)"
    )
    assert nn.BatchNorm1d(3, bias=False).bias is None


def test_local_response_norm_matches_numpy():
    x = randn(2, 5, 3)
    a = x.numpy()
    sq = np.pad(a**2, [(0, 0), (1, 1), (0, 0)])
    window = np.stack([sq[:, c : c + 3].sum(1) for c in range(5)], 1)
    ref = a / (1.0 + 0.1 / 3 * window) ** 0.75
    np.testing.assert_allclose(nn.LocalResponseNorm(3, alpha=0.1)(x).numpy(), ref, rtol=1e-12)
    assert gradcheck(lambda t: F.local_response_norm(t, 2, 0.5, 0.7, 1.5), (randn(2, 4, 2, 2, requires_grad=True),))


def test_cross_map_lrn2d_running_window():
    x = randn(1, 6, 2, 2)
    a = x.numpy() ** 2
    pre = 2  # size 3
    total, sums = a[:, :pre].sum(1), []
    for c in range(6):
        if c:
            total = total + (a[:, c + pre - 1] if c < 6 - pre + 1 else 0) - (a[:, c - pre] if c > pre else 0)
        sums.append(total)
    ref = x.numpy() * (2 + 0.3 / 3 * np.stack(sums, 1)) ** -0.5
    np.testing.assert_allclose(nn.CrossMapLRN2d(3, 0.3, 0.5, 2)(x).numpy(), ref, rtol=1e-12)
    assert gradcheck(nn.CrossMapLRN2d(3, 0.3, 0.5, 2), (randn(1, 4, 2, 2, requires_grad=True),))
    with pytest.raises(ValueError, match="4D"):
        nn.CrossMapLRN2d(3)(randn(4, 2, 2))


def test_sync_batch_norm_is_batch_norm_without_a_process_group():
    x = randn(4, 3, 2)
    bn, sbn = nn.BatchNorm1d(3).double(), nn.SyncBatchNorm(3).double()
    np.testing.assert_allclose(sbn(x).detach().numpy(), bn(x).detach().numpy())
    np.testing.assert_allclose(sbn.running_var.numpy(), bn.running_var.numpy())
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3)))
    assert type(converted[1]) is nn.SyncBatchNorm and type(converted[0]) is nn.Linear


# --------------------------------------------------------------------------- resampling, fold, distances
def test_upsample_modules():
    x = randn(1, 2, 2, 3)
    np.testing.assert_allclose(nn.Upsample(scale_factor=2)(x).numpy(), x.numpy().repeat(2, 2).repeat(2, 3))
    np.testing.assert_allclose(nn.UpsamplingNearest2d(scale_factor=2)(x).numpy(), x.numpy().repeat(2, 2).repeat(2, 3))
    corners = nn.UpsamplingBilinear2d((5, 7))(x).numpy()
    np.testing.assert_allclose(corners[..., ::4, ::3], x.numpy())  # align_corners=True keeps the grid
    assert repr(nn.Upsample(scale_factor=2, mode="bilinear")) == "Upsample(scale_factor=2.0, mode='bilinear')"


def test_fold_undoes_unfold_without_overlap():
    x = randn(2, 3, 4, 6)
    cols = nn.Unfold(2, stride=2)(x)
    assert cols.shape == (2, 12, 6)
    np.testing.assert_allclose(nn.Fold((4, 6), 2, stride=2)(cols).numpy(), x.numpy())


def test_distance_modules():
    a, b = randn(4, 5), randn(4, 5)
    x, y = a.numpy(), b.numpy()
    cos = (x * y).sum(1) / (np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1))
    np.testing.assert_allclose(nn.CosineSimilarity()(a, b).numpy(), cos, rtol=1e-12)
    np.testing.assert_allclose(nn.PairwiseDistance(p=1)(a, b).numpy(), np.abs(x - y + 1e-6).sum(1), rtol=1e-12)


# --------------------------------------------------------------------------- layers with parameters
def test_conv_transpose3d_shapes_and_gradcheck():
    m = nn.ConvTranspose3d(2, 3, 2, stride=2)
    assert m.weight.shape == (2, 3, 2, 2, 2)
    assert m(rg.randn(1, 2, 2, 3, 2)).shape == (1, 3, 4, 6, 4)
    assert m(rg.randn(1, 2, 2, 3, 2), output_size=(5, 7, 5)).shape == (1, 3, 5, 7, 5)
    assert module_gradcheck(nn.ConvTranspose3d(2, 1, 2, padding=1), randn(1, 2, 2, 2, 2, requires_grad=True))


def test_rrelu_modes():
    m = nn.RReLU(0.1, 0.3)
    x = t64([-2.0, -1.0, 3.0])
    m.eval()
    np.testing.assert_allclose(m(x).numpy(), [-0.4, -0.2, 3.0])
    m.train()
    slopes = m(x).numpy()[:2] / x.numpy()[:2]
    assert ((slopes >= 0.1) & (slopes <= 0.3)).all()
    assert repr(nn.RReLU(inplace=True)) == "RReLU(lower=0.125, upper=0.3333333333333333, inplace=True)"


def test_feature_alpha_dropout_eval_is_identity():
    x = randn(2, 3, 4)
    m = nn.FeatureAlphaDropout(0.5).eval()
    assert m(x) is x or np.array_equal(m(x).numpy(), x.numpy())
    y = nn.FeatureAlphaDropout(0.5)(randn(4, 8, 6)).numpy()
    per_channel = y.std(-1)
    assert (per_channel < 1e-12).any() and (per_channel > 1e-6).any()  # whole channels dropped


# --------------------------------------------------------------------------- losses
def _ctc_brute_force(logp, target, blank):
    """-log of the summed probability of every length-T path that collapses to the target."""
    T, C = logp.shape
    total = 0.0
    for path in itertools.product(range(C), repeat=T):
        collapsed = [c for i, c in enumerate(path) if c != blank and (i == 0 or c != path[i - 1])]
        if collapsed == list(target):
            total += math.exp(sum(logp[t, c] for t, c in enumerate(path)))
    return -math.log(total)


def test_ctc_loss_matches_brute_force_and_gradcheck():
    logp = np.log(R.dirichlet(np.ones(3), size=(4, 2)))
    targets = np.array([[1, 1], [2, 0]])
    loss = nn.CTCLoss(reduction="none")(t64(logp), rg.tensor(targets), [4, 3], [2, 1])
    expected = [_ctc_brute_force(logp[:4, 0], [1, 1], 0), _ctc_brute_force(logp[:3, 1], [2], 0)]
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-10)
    mean = nn.CTCLoss()(t64(logp), rg.tensor(targets), [4, 3], [2, 1])
    np.testing.assert_allclose(mean.item(), (expected[0] / 2 + expected[1]) / 2, rtol=1e-10)
    impossible = nn.CTCLoss(reduction="none")(t64(logp), rg.tensor([[1, 1], [1, 1]]), [2, 2], [2, 2])
    assert np.isinf(impossible.numpy()).all()  # "1 1" needs a blank between: 3 steps
    empty = nn.CTCLoss(reduction="none")(t64(logp), rg.tensor(targets), [0, 3], [0, 1])
    assert empty[0].item() == 0.0  # no input, no target: certain
    logits = randn(4, 2, 3, requires_grad=True)
    assert gradcheck(lambda z: F.ctc_loss(z.log_softmax(2), rg.tensor(targets), [4, 3], [2, 1]), (logits,))


def test_triplet_margin_with_distance_loss():
    a, p, n = randn(4, 3), randn(4, 3), randn(4, 3)
    m = nn.TripletMarginWithDistanceLoss(margin=0.5)
    d = lambda u, v: np.linalg.norm(u - v + 1e-6, axis=1)  # noqa: E731
    ref = np.maximum(d(a.numpy(), p.numpy()) - d(a.numpy(), n.numpy()) + 0.5, 0).mean()
    np.testing.assert_allclose(m(a, p, n).item(), ref, rtol=1e-12)
    assert isinstance(m.distance_function, nn.PairwiseDistance)
    with pytest.raises(ValueError, match="margin"):
        nn.TripletMarginWithDistanceLoss(margin=0)


def test_adaptive_log_softmax_consistency_and_gradcheck():
    rg.manual_seed(0)
    m = nn.AdaptiveLogSoftmaxWithLoss(6, 8, [3, 5], div_value=2.0).double()
    x, target = randn(5, 6), rg.tensor([0, 4, 7, 2, 5])
    full = m.log_prob(x)
    np.testing.assert_allclose(full.exp().sum(1).detach().numpy(), np.ones(5), rtol=1e-12)
    out, loss = m(x, target)
    np.testing.assert_allclose(out.detach().numpy(), full.detach().numpy()[np.arange(5), target.numpy()], rtol=1e-12)
    np.testing.assert_allclose(loss.item(), -out.detach().numpy().mean(), rtol=1e-12)
    assert m.predict(x).tolist() == full.argmax(1).tolist()
    assert gradcheck(lambda *params: m(x, target)[1], tuple(m.parameters()))
    with pytest.raises(RuntimeError, match="Target values"):
        m(x, rg.tensor([0, 1, 2, 3, 8]))
    with pytest.raises(ValueError, match="cutoffs"):
        nn.AdaptiveLogSoftmaxWithLoss(6, 8, [5, 3])


def test_linear_cross_entropy_is_linear_then_cross_entropy():
    rg.manual_seed(0)
    m = nn.LinearCrossEntropyLoss(4, 3, bias=True).double()
    x, target = randn(5, 4, requires_grad=True), rg.tensor([0, 2, 1, 1, 0])
    ref = F.cross_entropy(m.linear(x), target)
    np.testing.assert_allclose(m(x, target).item(), ref.item(), rtol=1e-12)
    assert module_gradcheck(_LossOf(m, target), x)
    with pytest.raises(NotImplementedError, match="options"):
        nn.LinearCrossEntropyLoss(4, 3, options=object())


class _LossOf(nn.Module):
    def __init__(self, loss, target):
        super().__init__()
        self.loss = loss
        self.target = target

    def forward(self, x):
        return self.loss(x, self.target)


# --------------------------------------------------------------------------- lazy modules, wrappers
@pytest.mark.parametrize(
    "cls,args,shape,becomes,weight",
    [
        (nn.LazyLinear, (3,), (2, 5), nn.Linear, (3, 5)),
        (nn.LazyConv1d, (4, 3), (2, 2, 7), nn.Conv1d, (4, 2, 3)),
        (nn.LazyConvTranspose2d, (4, 3), (2, 6, 5, 5), nn.ConvTranspose2d, (6, 4, 3, 3)),
        (nn.LazyBatchNorm1d, (), (4, 3), nn.BatchNorm1d, (3,)),
        (nn.LazyInstanceNorm3d, (), (2, 3, 2, 2, 2), nn.InstanceNorm3d, (3,)),
    ],
)
def test_lazy_modules_materialise_on_first_call(cls, args, shape, becomes, weight):
    m = cls(*args).double()
    assert m.has_uninitialized_params()
    assert isinstance(m.weight, nn.UninitializedParameter)
    out = m(randn(*shape))
    assert type(m) is becomes and not isinstance(m.weight, nn.UninitializedParameter)
    assert tuple(m.weight.shape) == weight and m.weight.dtype == rg.float64 and m.weight.requires_grad
    assert out.shape[0] == shape[0]
    assert tuple(m.state_dict()["weight"].shape) == weight


def test_lazy_linear_loads_a_state_dict():
    src = nn.Linear(4, 2)
    m = nn.LazyLinear(2)
    sd = m.state_dict()
    assert isinstance(sd["weight"], nn.UninitializedParameter)
    m.load_state_dict(src.state_dict())
    assert tuple(m.weight.shape) == (2, 4)
    x = rg.randn(3, 4)
    np.testing.assert_allclose(m(x).detach().numpy(), src(x).detach().numpy())
    assert repr(m) == "Linear(in_features=4, out_features=2, bias=True)"


def test_uninitialized_buffer_survives_dtype_conversion():
    m = nn.LazyBatchNorm2d().double()
    assert isinstance(m.running_mean, nn.UninitializedBuffer) and m.running_mean.dtype == rg.float64
    m(randn(2, 3, 2, 2))
    assert m.running_mean.dtype == rg.float64 and m.running_mean.shape == (3,)


def test_data_parallel_and_container_on_cpu():
    inner = nn.Linear(3, 2)
    dp = nn.DataParallel(inner)
    x = rg.randn(4, 3)
    np.testing.assert_allclose(dp(x).detach().numpy(), inner(x).detach().numpy())
    assert list(dp.state_dict()) == ["module.weight", "module.bias"]
    with pytest.warns(FutureWarning):
        c = nn.Container(lin=nn.Linear(1, 1))
    assert c.lin.in_features == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loss2d = nn.NLLLoss2d()
    x = randn(2, 3, 2, 2).log_softmax(1)
    t = rg.tensor(R.integers(0, 3, (2, 2, 2)))
    np.testing.assert_allclose(loss2d(x, t).item(), F.nll_loss(x, t).item())
