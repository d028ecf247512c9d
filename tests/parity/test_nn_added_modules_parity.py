"""Parity with PyTorch for the module classes added to complete ``torch.nn``: same constructor
arguments and weights (loaded from PyTorch's state dict), same inputs; outputs, buffers,
parameter and input gradients must agree. Also checks repr and state dict keys."""

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import retrograd as rg  # noqa: E402
from retrograd import nn  # noqa: E402

from .test_nn_torch import check, pair, to_rg  # noqa: E402

R = np.random.default_rng(7)


def randn(*shape):
    return R.standard_normal(shape)


def positive(*shape):
    return R.random(shape) + 0.5


CASES = [
    ("ConstantPad2d", ((1, 2, 0, 3), 1.5), {}, lambda: [randn(2, 3, 4, 5)]),
    ("ZeroPad1d", (2,), {}, lambda: [randn(2, 3, 4)]),
    ("ZeroPad3d", ((1, 0, 2, 1, 0, 1),), {}, lambda: [randn(1, 2, 3, 3, 3)]),
    ("ReflectionPad1d", ((2, 1),), {}, lambda: [randn(2, 3, 5)]),
    ("ReflectionPad2d", (1,), {}, lambda: [randn(2, 4, 4)]),
    ("ReflectionPad3d", (1,), {}, lambda: [randn(1, 2, 3, 4, 3)]),
    ("ReplicationPad1d", (2,), {}, lambda: [randn(2, 3, 4)]),
    ("ReplicationPad2d", ((1, 2, 0, 1),), {}, lambda: [randn(1, 2, 3, 4)]),
    ("ReplicationPad3d", (1,), {}, lambda: [randn(1, 2, 3, 3, 3)]),
    ("CircularPad1d", (2,), {}, lambda: [randn(2, 3, 4)]),
    ("CircularPad2d", ((1, 0, 2, 1),), {}, lambda: [randn(1, 2, 3, 4)]),
    ("CircularPad3d", (1,), {}, lambda: [randn(1, 2, 3, 3, 3)]),
    ("MaxPool3d", (2,), dict(stride=1, padding=1), lambda: [randn(1, 2, 4, 3, 4)]),
    ("AvgPool3d", (2,), dict(stride=2, padding=1, count_include_pad=False), lambda: [randn(1, 2, 4, 3, 4)]),
    ("AdaptiveAvgPool3d", ((2, None, 3),), {}, lambda: [randn(1, 2, 4, 3, 5)]),
    ("AdaptiveMaxPool3d", (2,), {}, lambda: [randn(1, 2, 4, 3, 5)]),
    ("LPPool1d", (2, 3), dict(stride=2), lambda: [randn(2, 3, 9)]),
    ("LPPool2d", (1.5, (2, 3)), {}, lambda: [positive(2, 3, 6, 7)]),
    ("LPPool3d", (3, 2), dict(ceil_mode=True), lambda: [positive(1, 2, 5, 4, 5)]),
    (
        "FractionalMaxPool2d",
        (2,),
        dict(output_size=(4, 5), _random_samples=rg.tensor(R.random((2, 3, 2)))),
        lambda: [randn(2, 3, 9, 11)],
    ),
    (
        "FractionalMaxPool3d",
        (2,),
        dict(output_ratio=0.5, _random_samples=rg.tensor(R.random((1, 2, 3)))),
        lambda: [randn(1, 2, 8, 7, 9)],
    ),
    ("InstanceNorm1d", (3,), {}, lambda: [randn(2, 3, 5)]),
    ("InstanceNorm2d", (3,), dict(affine=True, track_running_stats=True), lambda: [randn(2, 3, 4, 5)]),
    ("InstanceNorm3d", (2,), dict(affine=True, bias=False), lambda: [randn(2, 4, 3, 3)]),
    ("BatchNorm1d", (3,), dict(bias=False), lambda: [randn(4, 3)]),
    ("SyncBatchNorm", (3,), {}, lambda: [randn(4, 3, 2)]),
    ("LocalResponseNorm", (3,), dict(alpha=0.1, beta=0.6, k=2.0), lambda: [randn(2, 5, 4)]),
    ("LocalResponseNorm", (2,), {}, lambda: [randn(2, 4, 3, 2, 2)]),
    ("Upsample", (), dict(scale_factor=2, mode="bilinear", align_corners=False), lambda: [randn(1, 2, 3, 4)]),
    ("Upsample", (), dict(size=(5, 4, 3), mode="trilinear"), lambda: [randn(1, 2, 2, 3, 2)]),
    ("UpsamplingNearest2d", (), dict(scale_factor=3), lambda: [randn(1, 2, 3, 2)]),
    ("UpsamplingBilinear2d", ((5, 7),), {}, lambda: [randn(1, 2, 3, 4)]),
    ("Unfold", ((2, 3),), dict(dilation=(1, 2), padding=1, stride=2), lambda: [randn(2, 3, 5, 6)]),
    ("Fold", ((4, 5), 2), dict(stride=1), lambda: [randn(2, 12, 12)]),
    ("CosineSimilarity", (), dict(dim=2), lambda: [randn(2, 3, 4), randn(2, 3, 4)]),
    ("PairwiseDistance", (), dict(p=1.5, keepdim=True), lambda: [randn(5, 4), randn(5, 4)]),
    ("ConvTranspose3d", (2, 3, 2), dict(stride=2, padding=1, output_padding=1), lambda: [randn(1, 2, 3, 2, 3)]),
    ("RReLU", (0.1, 0.3), {}, lambda: [randn(3, 4)]),
    ("TripletMarginWithDistanceLoss", (), dict(margin=0.5, swap=True), lambda: [randn(4, 3), randn(4, 3), randn(4, 3)]),
    (
        "AdaptiveLogSoftmaxWithLoss",
        (8, 10, [3, 6]),
        dict(div_value=2.0, head_bias=True),
        lambda: [randn(5, 8), np.array([0, 4, 9, 2, 6])],
    ),
    (
        "LinearCrossEntropyLoss",
        (4, 5),
        dict(out_features=(2,), bias=True, label_smoothing=0.1),
        lambda: [randn(3, 4), np.array([[0, 4], [2, 2], [1, 3]])],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_added_module_matches_torch(case):
    name, args, kwargs, inputs = case
    t_kwargs = {k: torch.tensor(v.numpy()) if isinstance(v, rg.Tensor) else v for k, v in kwargs.items()}
    torch.manual_seed(0)
    t = getattr(torch.nn, name)(*args, **t_kwargs).double()
    r = getattr(nn, name)(*args, **kwargs).double()
    r.load_state_dict({k: to_rg(v) for k, v in t.state_dict().items()})
    assert repr(r) == repr(t)
    train = name not in ("RReLU",)  # RReLU draws random slopes in training
    check(t, r, inputs(), train=train)
    if any(True for _ in t.buffers()) and "Fractional" not in name:
        check(t, r, inputs(), train=False)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("concatenated", [False, True])
def test_ctc_loss_matches_torch(reduction, concatenated):
    """Logits through log_softmax: PyTorch's CTC backward is only the true gradient there (it
    returns the gradient for the logits in place of the one for log_probs)."""
    logits = randn(6, 3, 5)
    targets = np.array([2, 3, 3, 4, 2, 2, 4]) if concatenated else np.array([[2, 3, 3], [4, 0, 0], [2, 2, 4]])
    in_len, tg_len = np.array([6, 5, 2]), np.array([3, 1, 3])
    xt, xr = torch.tensor(logits, requires_grad=True), rg.tensor(logits, requires_grad=True)
    t = torch.nn.CTCLoss(blank=1, reduction=reduction, zero_infinity=True)
    r = nn.CTCLoss(blank=1, reduction=reduction, zero_infinity=True)
    lt = t(xt.log_softmax(2), torch.tensor(targets), torch.tensor(in_len), torch.tensor(tg_len))
    lr = r(xr.log_softmax(2), rg.tensor(targets), rg.tensor(in_len), rg.tensor(tg_len))
    np.testing.assert_allclose(lr.detach().numpy(), lt.detach().numpy(), rtol=1e-10)
    lt.sum().backward()
    lr.sum().backward()
    np.testing.assert_allclose(xr.grad.numpy(), xt.grad.numpy(), rtol=1e-8, atol=1e-12)


def test_max_unpool_matches_torch():
    x = randn(2, 3, 7, 6)
    tv, ti = torch.nn.functional.max_pool2d(torch.tensor(x), 2, return_indices=True)
    t = torch.nn.MaxUnpool2d(2)
    r = nn.MaxUnpool2d(2)
    assert repr(r) == repr(t)
    check(t, r, [tv.numpy(), ti.numpy()], dict(output_size=np.array([7, 6]).tolist()))
    x1 = randn(2, 3, 9)
    tv, ti = torch.nn.functional.max_pool1d(torch.tensor(x1), 3, 2, 1, return_indices=True)
    check(torch.nn.MaxUnpool1d(3, 2, 1), nn.MaxUnpool1d(3, 2, 1), [tv.numpy(), ti.numpy()])
    x3 = randn(1, 2, 4, 4, 4)
    tv, ti = torch.nn.functional.max_pool3d(torch.tensor(x3), 2, return_indices=True)
    check(torch.nn.MaxUnpool3d(2), nn.MaxUnpool3d(2), [tv.numpy(), ti.numpy()])


def test_cross_map_lrn2d_matches_torch_forward():
    """PyTorch's CrossMapLRN2d backward is its own formula (it does not differentiate its running
    window exactly), so only the forward values are compared."""
    x = randn(2, 6, 3, 2)
    for size in (1, 3, 4):
        t, r = torch.nn.CrossMapLRN2d(size, 0.5, 0.7, 2), nn.CrossMapLRN2d(size, 0.5, 0.7, 2)
        assert repr(r) == repr(t)
        np.testing.assert_allclose(r(rg.tensor(x)).numpy(), t(torch.tensor(x)).numpy(), rtol=1e-12)


def test_adaptive_log_softmax_log_prob_and_predict():
    t, r = pair("AdaptiveLogSoftmaxWithLoss", 8, 10, [3, 6])
    x = randn(6, 8)
    np.testing.assert_allclose(
        r.log_prob(rg.tensor(x)).detach().numpy(), t.log_prob(torch.tensor(x)).detach().numpy(), rtol=1e-10
    )
    assert r.predict(rg.tensor(x)).tolist() == t.predict(torch.tensor(x)).tolist()


@pytest.mark.parametrize(
    "name,args,shape",
    [
        ("LazyLinear", (3,), (2, 5)),
        ("LazyConv2d", (4, 3), (2, 3, 6, 6)),
        ("LazyConvTranspose1d", (2, 3), (2, 3, 5)),
        ("LazyBatchNorm2d", (), (4, 3, 2, 2)),
        ("LazyInstanceNorm1d", (), (2, 3, 5)),
    ],
)
def test_lazy_module_from_torch_state_dict(name, args, shape):
    """A lazy module takes its shapes from a loaded PyTorch state dict (or, for the norms, whose
    initial values are fixed, from its first input), then matches PyTorch."""
    torch.manual_seed(0)
    t = getattr(torch.nn, name)(*args).double()
    r = getattr(nn, name)(*args).double()
    assert repr(r) == repr(t)
    if "Norm" not in name:
        t(torch.zeros(shape, dtype=torch.float64))  # materialise PyTorch's copy
        r.load_state_dict({k: to_rg(v) for k, v in t.state_dict().items()})
    check(t, r, [randn(*shape)])
    assert type(r).__name__ == type(t).__name__


def test_nll_loss2d_and_container_deprecated():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t, r = pair("NLLLoss2d")
    check(t, r, [randn(2, 3, 4, 4), R.integers(0, 3, (2, 4, 4))])
    with pytest.warns(FutureWarning):
        c = nn.Container(a=nn.Linear(2, 3))
    assert list(dict(c.named_parameters())) == ["a.weight", "a.bias"]


def test_data_parallel_on_cpu_runs_the_module():
    torch.manual_seed(0)
    t = torch.nn.DataParallel(torch.nn.Linear(3, 2)).double()
    r = nn.DataParallel(nn.Linear(3, 2)).double()
    assert list(r.state_dict()) == list(t.state_dict())
    r.load_state_dict({k: to_rg(v) for k, v in t.state_dict().items()})
    check(t, r, [randn(4, 3)])


def _signature(cls):
    import inspect

    params = inspect.signature(cls.__init__).parameters.values()

    def default(p):
        d = p.default
        if d is inspect.Parameter.empty:
            return "<required>"
        return getattr(d, "__name__", None) if callable(d) else d

    return [(p.name, p.kind, default(p)) for p in params]


def test_every_nn_class_exists_with_pytorchs_constructor_signature():
    names = [
        n
        for n in dir(torch.nn)
        if not n.startswith("_")
        and isinstance(getattr(torch.nn, n), type)
        and issubclass(getattr(torch.nn, n), torch.nn.Module)
    ]
    assert len(names) > 150
    for name in names:
        ours = getattr(nn, name)
        if name in ("RNN", "LSTM", "GRU"):  # PyTorch's take (*args, **kwargs) and parse them
            continue
        assert _signature(ours) == _signature(getattr(torch.nn, name)), name
