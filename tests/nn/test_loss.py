"""Loss modules against NumPy formulas: reductions, weights, options, legacy flags, gradients."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn

from ._util import module_gradcheck, t64


def log_softmax(x, axis=1):
    m = x.max(axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis, keepdims=True))


def reduce(v, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction](v)


RNG = np.random.default_rng(3)
X = RNG.standard_normal((4, 5))
T = RNG.standard_normal((4, 5))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses(reduction):
    d = X - T
    cases = [
        (nn.L1Loss(reduction=reduction), np.abs(d)),
        (nn.MSELoss(reduction=reduction), d**2),
        (nn.SmoothL1Loss(reduction=reduction, beta=0.5), np.where(np.abs(d) < 0.5, 0.5 * d**2 / 0.5, np.abs(d) - 0.25)),
        (nn.HuberLoss(reduction=reduction, delta=0.7), np.where(np.abs(d) < 0.7, 0.5 * d**2, 0.7 * (np.abs(d) - 0.35))),
    ]
    for module, ref in cases:
        np.testing.assert_allclose(
            module(t64(X), t64(T)).numpy(), reduce(ref, reduction), rtol=1e-10, err_msg=type(module).__name__
        )


def test_regression_gradcheck():
    x = t64(X[:2, :3], True)
    assert module_gradcheck(_WithTarget(nn.MSELoss(), t64(T[:2, :3])), x)
    assert module_gradcheck(_WithTarget(nn.SmoothL1Loss(), t64(T[:2, :3])), x)


class _WithTarget(nn.Module):
    def __init__(self, loss, *targets):
        super().__init__()
        self.loss = loss
        self.targets = targets

    def forward(self, x):
        return self.loss(x, *self.targets)


def test_cross_entropy_and_nll():
    target = np.array([0, 3, 4, 1])
    lp = log_softmax(X)
    nll = -lp[np.arange(4), target]
    np.testing.assert_allclose(nn.CrossEntropyLoss()(t64(X), rg.tensor(target)).numpy(), nll.mean(), rtol=1e-10)
    np.testing.assert_allclose(nn.NLLLoss(reduction="none")(t64(lp), rg.tensor(target)).numpy(), nll, rtol=1e-10)
    w = np.array([1.0, 2.0, 0.5, 1.0, 3.0])
    ce_w = nn.CrossEntropyLoss(weight=t64(w))
    assert "weight" in dict(ce_w.named_buffers())
    np.testing.assert_allclose(
        ce_w(t64(X), rg.tensor(target)).numpy(), (w[target] * nll).sum() / w[target].sum(), rtol=1e-10
    )
    ignore = np.array([0, -100, 4, -100])
    keep = ignore != -100
    np.testing.assert_allclose(
        nn.CrossEntropyLoss()(t64(X), rg.tensor(ignore)).numpy(),
        (-lp[np.arange(4), np.where(keep, ignore, 0)])[keep].mean(),
        rtol=1e-10,
    )
    np.testing.assert_allclose(
        nn.NLLLoss(ignore_index=4, reduction="sum")(t64(lp), rg.tensor(target)).numpy(),
        nll[target != 4].sum(),
        rtol=1e-10,
    )


def test_cross_entropy_label_smoothing_probabilities_and_dims():
    target = np.array([0, 3, 4, 1])
    lp = log_softmax(X)
    eps = 0.2
    ref = ((1 - eps) * -lp[np.arange(4), target] + eps * -lp.mean(1)).mean()
    np.testing.assert_allclose(
        nn.CrossEntropyLoss(label_smoothing=eps)(t64(X), rg.tensor(target)).numpy(), ref, rtol=1e-10
    )
    probs = np.exp(log_softmax(T))
    np.testing.assert_allclose(
        nn.CrossEntropyLoss()(t64(X), t64(probs)).numpy(), (-(probs * lp).sum(1)).mean(), rtol=1e-10
    )
    x3 = RNG.standard_normal((2, 5, 3))  # (N, C, d1): class dim is 1
    t3 = np.array([[0, 1, 4], [2, 2, 3]])
    lp3 = log_softmax(x3, 1)
    ref3 = -np.take_along_axis(lp3, t3[:, None], 1)[:, 0]
    np.testing.assert_allclose(nn.CrossEntropyLoss(reduction="none")(t64(x3), rg.tensor(t3)).numpy(), ref3, rtol=1e-10)
    assert module_gradcheck(
        _WithTarget(nn.CrossEntropyLoss(label_smoothing=0.1), rg.tensor([1, 0])), t64(X[:2, :3], True)
    )


def test_binary_losses():
    p = 1 / (1 + np.exp(-X))
    t = (T > 0).astype(np.float64)
    bce = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    np.testing.assert_allclose(nn.BCELoss()(t64(p), t64(t)).numpy(), bce.mean(), rtol=1e-10)
    w = RNG.random(5)
    np.testing.assert_allclose(
        nn.BCELoss(weight=t64(w), reduction="sum")(t64(p), t64(t)).numpy(), (w * bce).sum(), rtol=1e-10
    )
    np.testing.assert_allclose(nn.BCEWithLogitsLoss()(t64(X), t64(t)).numpy(), bce.mean(), rtol=1e-10)
    pw = np.array([1.0, 2.0, 3.0, 0.5, 1.5])
    ref = -(pw * t * np.log(p) + (1 - t) * np.log(1 - p))
    m = nn.BCEWithLogitsLoss(pos_weight=t64(pw), reduction="none")
    assert [n for n, _ in m.named_buffers()] == ["pos_weight"]
    np.testing.assert_allclose(m(t64(X), t64(t)).numpy(), ref, rtol=1e-10)
    assert module_gradcheck(
        _WithTarget(nn.BCEWithLogitsLoss(pos_weight=t64(pw[:3])), t64(t[:2, :3])), t64(X[:2, :3], True)
    )


def test_kl_div():
    lp = log_softmax(X)
    q = np.exp(log_softmax(T))
    point = q * (np.log(q) - lp)
    np.testing.assert_allclose(
        nn.KLDivLoss(reduction="batchmean")(t64(lp), t64(q)).numpy(), point.sum() / 4, rtol=1e-10
    )
    np.testing.assert_allclose(
        nn.KLDivLoss(reduction="sum", log_target=True)(t64(lp), t64(np.log(q))).numpy(), point.sum(), rtol=1e-10
    )
    with pytest.warns(UserWarning, match="batchmean"):
        np.testing.assert_allclose(nn.KLDivLoss()(t64(lp), t64(q)).numpy(), point.mean(), rtol=1e-10)


def test_margin_losses():
    a, b = X, T
    y = np.array([1.0, -1.0, 1.0, -1.0])
    cos = (a * b).sum(1) / np.sqrt((a * a).sum(1) * (b * b).sum(1))
    ref = np.where(y > 0, 1 - cos, np.maximum(0, cos - 0.1))
    np.testing.assert_allclose(
        nn.CosineEmbeddingLoss(margin=0.1)(t64(a), t64(b), t64(y)).numpy(), ref.mean(), rtol=1e-8
    )
    x1, x2 = X[:, 0], T[:, 0]
    np.testing.assert_allclose(
        nn.MarginRankingLoss(0.5, reduction="sum")(t64(x1), t64(x2), t64(y)).numpy(),
        np.maximum(0, -y * (x1 - x2) + 0.5).sum(),
        rtol=1e-10,
    )
    n = RNG.standard_normal((4, 5))

    def dist(u, v, p=2.0, eps=1e-6):
        return (np.abs(u - v + eps) ** p).sum(1) ** (1 / p)

    ref = np.maximum(dist(a, b) - dist(a, n) + 1.0, 0)
    np.testing.assert_allclose(nn.TripletMarginLoss()(t64(a), t64(b), t64(n)).numpy(), ref.mean(), rtol=1e-8)
    ref_swap = np.maximum(dist(a, b, 1) - np.minimum(dist(a, n, 1), dist(b, n, 1)) + 2.0, 0)
    np.testing.assert_allclose(
        nn.TripletMarginLoss(margin=2.0, p=1, swap=True, reduction="none")(t64(a), t64(b), t64(n)).numpy(),
        ref_swap,
        rtol=1e-8,
    )
    with pytest.raises(ValueError, match="margin to be greater than 0"):
        nn.TripletMarginLoss(margin=0)


def test_legacy_size_average_and_reduce():
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert nn.MSELoss(size_average=False).reduction == "sum"
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert nn.L1Loss(reduce=False).reduction == "none"
    assert nn.CrossEntropyLoss().reduction == "mean" and nn.CrossEntropyLoss().ignore_index == -100
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"


def test_loss_backward_through_model():
    model = nn.Sequential(nn.Linear(5, 3))
    loss = nn.CrossEntropyLoss()(model(rg.tensor(X, dtype=rg.float32)), rg.tensor([0, 1, 2, 1]))
    loss.backward()
    p = np.exp(log_softmax(X @ model[0].weight.detach().numpy().T.astype(np.float64) + model[0].bias.detach().numpy()))
    onehot = np.eye(3)[[0, 1, 2, 1]]
    np.testing.assert_allclose(model[0].bias.grad.numpy(), ((p - onehot) / 4).sum(0), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_elementwise_weight_must_match_input_shape(name):
    """PyTorch 2.13 does not broadcast these weights: a (5,) weight for a (4, 5) input is a ValueError."""
    fn = getattr(nn.functional, name)
    with pytest.raises(ValueError, match=f"{name}.*Weights and input must have the same size"):
        fn(t64(X), t64(T), weight=t64(np.ones(5)))


def test_weighted_mean_divides_by_the_weights_sum():
    w = RNG.uniform(0.5, 2.0, X.shape)
    got = nn.functional.mse_loss(t64(X), t64(T), weight=t64(w))
    np.testing.assert_allclose(got.item(), ((X - T) ** 2 * w).sum() / w.sum(), rtol=1e-12)
    got = nn.functional.l1_loss(t64(X), t64(T), weight=t64(w))
    np.testing.assert_allclose(got.item(), (np.abs(X - T) * w).sum() / w.sum(), rtol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_is_one_node_with_pytorchs_name(reduction):
    x = rg.tensor(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True)
    y = rg.tensor(np.random.default_rng(1).standard_normal(3), requires_grad=True)  # broadcast
    with pytest.warns(UserWarning, match="target size"):
        loss = rg.nn.functional.mse_loss(x, y, reduction=reduction)
    assert loss.grad_fn.name() == "MseLossBackward0"
    d = x.detach().numpy() - y.detach().numpy()
    want = {"mean": (d * d).mean(), "sum": (d * d).sum(), "none": d * d}[reduction]
    np.testing.assert_allclose(loss.detach().numpy(), want, rtol=1e-12)
    g = np.ones_like(want) if reduction == "none" else 1.0
    loss.backward(rg.tensor(g) if reduction == "none" else None)
    scale = 2 / d.size if reduction == "mean" else 2
    np.testing.assert_allclose(x.grad.numpy(), scale * d, rtol=1e-12)
    np.testing.assert_allclose(y.grad.numpy(), -(scale * d).sum(0), rtol=1e-12)
    empty = rg.nn.functional.mse_loss(rg.zeros(0, requires_grad=True), rg.zeros(0), reduction=reduction)
    assert empty.grad_fn.name() == "MseLossBackward0"


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_is_one_node_with_pytorchs_name(reduction):
    rng = np.random.default_rng(2)
    x = rg.tensor(rng.standard_normal((5, 3)) * 30, requires_grad=True)  # far tails: still finite
    y = rg.tensor(rng.random((5, 3)), requires_grad=True)
    loss = rg.nn.functional.binary_cross_entropy_with_logits(x, y, reduction=reduction)
    assert loss.grad_fn.name() == "BinaryCrossEntropyWithLogitsBackward0"
    xd, yd = x.detach().numpy(), y.detach().numpy()
    want = (1 - yd) * xd + np.logaddexp(0, -xd)
    want = {"mean": want.mean(), "sum": want.sum(), "none": want}[reduction]
    np.testing.assert_allclose(loss.detach().numpy(), want, rtol=1e-12)
    assert rg.autograd.gradcheck(
        lambda a, b: rg.nn.functional.binary_cross_entropy_with_logits(a, b, reduction=reduction), (x, y)
    )
    assert rg.autograd.gradgradcheck(
        lambda a, b: rg.nn.functional.binary_cross_entropy_with_logits(a, b, reduction=reduction), (x, y)
    )
