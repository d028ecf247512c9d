"""optim.swa_utils: AveragedModel (SWA and EMA), update_bn and SWALR."""

import math

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn, optim
from retrograd.optim import swa_utils as su


def _model(seed):
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2)).double()
    rng = np.random.default_rng(seed)
    with rg.no_grad():
        for p in m.parameters():
            p.copy_(rg.tensor(rng.standard_normal(tuple(p.shape))))
        m[1].running_mean.copy_(rg.tensor(rng.standard_normal(4)))
    return m


def _params(m):
    return [p.detach().numpy().copy() for p in m.parameters()]


def test_swa_is_the_running_mean_and_buffers_are_copied():
    models = [_model(s) for s in range(4)]
    avg = su.AveragedModel(models[0])
    assert avg.n_averaged.item() == 0 and avg.n_averaged.dtype == rg.int64
    for m in models:
        avg.update_parameters(m)
    assert avg.n_averaged.item() == 4
    for got, *each in zip(_params(avg.module), *map(_params, models)):
        np.testing.assert_allclose(got, np.mean(each, axis=0), rtol=1e-12)
    # buffers are the last model's, not averaged
    np.testing.assert_array_equal(avg.module[1].running_mean.numpy(), models[-1][1].running_mean.numpy())
    assert "n_averaged" in avg.state_dict() and "module.0.weight" in avg.state_dict()
    x = rg.tensor(np.ones((2, 3)))
    avg.eval()
    np.testing.assert_allclose(avg(x).detach().numpy(), avg.module(x).detach().numpy())


@pytest.mark.parametrize("multi", [False, True])
def test_ema(multi):
    models = [_model(s) for s in range(3)]
    kw = dict(multi_avg_fn=su.get_ema_multi_avg_fn(0.9)) if multi else dict(avg_fn=su.get_ema_avg_fn(0.9))
    avg = su.AveragedModel(models[0], use_buffers=True, **kw)
    for m in models:
        avg.update_parameters(m)
    want = _params(models[0])
    for m in models[1:]:
        want = [0.9 * w + 0.1 * p for w, p in zip(want, _params(m))]
    for got, w in zip(_params(avg.module), want):
        np.testing.assert_allclose(got, w, rtol=1e-12)
    rm = [m[1].running_mean.numpy() for m in models]
    np.testing.assert_allclose(
        avg.module[1].running_mean.numpy(), 0.81 * rm[0] + 0.09 * rm[1] + 0.1 * rm[2], rtol=1e-12
    )


def test_swa_multi_avg_fn_refuses_integer_tensors():
    avg = su.AveragedModel(_model(0), multi_avg_fn=su.get_swa_multi_avg_fn(), use_buffers=True)
    avg.update_parameters(_model(1))
    with pytest.raises(RuntimeError, match="cannot average"):
        avg.update_parameters(_model(2))  # num_batches_tracked is int64


def test_the_average_does_not_track_gradients_and_the_model_is_a_copy():
    m = _model(0)
    avg = su.AveragedModel(m)
    avg.update_parameters(m)
    with rg.no_grad():
        m[0].weight.add_(1.0)
    assert not np.allclose(avg.module[0].weight.detach().numpy(), m[0].weight.detach().numpy())
    assert all(p.grad_fn is None for p in avg.parameters())


def test_update_bn_recomputes_statistics_over_the_loader():
    m = _model(0)
    m.eval()
    bn = m[1]
    bn.momentum = 0.3
    rng = np.random.default_rng(5)
    xs = [rng.standard_normal((8, 3)) for _ in range(3)]
    su.update_bn([(rg.tensor(x), None) for x in xs], m)
    hidden = [m[0](rg.tensor(x)).detach().numpy() for x in xs]
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([h.mean(0) for h in hidden], axis=0), rtol=1e-10)
    np.testing.assert_allclose(bn.running_var.numpy(), np.mean([h.var(0, ddof=1) for h in hidden], axis=0), rtol=1e-10)
    assert bn.momentum == 0.3 and not m.training and bn.num_batches_tracked.item() == 3


def test_update_bn_without_batch_norm_does_nothing():
    m = nn.Linear(2, 2)
    su.update_bn([rg.zeros(1, 2)], m)
    assert m.training


def test_swalr_anneals_to_swa_lr():
    p = rg.zeros(2, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    sched = su.SWALR(opt, swa_lr=0.02, anneal_epochs=4, anneal_strategy="linear")
    got = [opt.param_groups[0]["lr"]]
    for _ in range(6):
        opt.step()
        sched.step()
        got.append(opt.param_groups[0]["lr"])
    want = [0.1 + (0.02 - 0.1) * min(k / 4, 1) for k in range(7)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    opt2 = optim.SGD([p], lr=0.1)
    cos = su.SWALR(opt2, swa_lr=0.02, anneal_epochs=2)
    opt2.step()
    cos.step()
    assert opt2.param_groups[0]["lr"] == pytest.approx(0.02 + 0.08 * (1 + math.cos(math.pi / 2)) / 2)


@pytest.mark.parametrize(
    "make,err,match",
    [
        (lambda: su.get_ema_avg_fn(1.5), ValueError, "Invalid decay"),
        (lambda: su.get_ema_multi_avg_fn(-0.1), ValueError, "Invalid decay"),
        (
            lambda: su.AveragedModel(_model(0), avg_fn=su.get_swa_avg_fn(), multi_avg_fn=su.get_swa_multi_avg_fn()),
            AssertionError,
            "Only one",
        ),
        (
            lambda: su.SWALR(optim.SGD([rg.zeros(1, requires_grad=True)], lr=0.1), 0.01, anneal_strategy="exp"),
            ValueError,
            "anneal_strategy",
        ),
        (
            lambda: su.SWALR(optim.SGD([rg.zeros(1, requires_grad=True)], lr=0.1), 0.01, anneal_epochs=-1),
            ValueError,
            "anneal_epochs",
        ),
    ],
)
def test_bad_arguments(make, err, match):
    with pytest.raises(err, match=match):
        make()
