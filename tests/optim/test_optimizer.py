"""The Optimizer base class: parameter groups, state dicts, zero_grad, closures, hooks, errors."""

import copy

import numpy as np
import pytest

import retrograd as rg
from retrograd import optim

from . import _refs


def _params(n=2, seed=0):
    rng = np.random.default_rng(seed)
    return [rg.tensor(rng.standard_normal((3, 2)), requires_grad=True) for _ in range(n)]


def _set_grads(ps, seed):
    rng = np.random.default_rng(seed)
    for p in ps:
        p.grad = rg.tensor(rng.standard_normal(p.shape))


# --------------------------------------------------------------------------- groups
def test_param_groups_take_defaults_and_own_options():
    a, b = _params()
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5, "momentum": 0.9}], lr=0.1)
    g0, g1 = opt.param_groups
    assert g0["lr"] == 0.1 and g0["momentum"] == 0
    assert g1["lr"] == 0.5 and g1["momentum"] == 0.9 and g1["params"] == [b]
    ta, tb = a.detach().numpy().copy(), b.detach().numpy().copy()
    _set_grads([a, b], 1)
    ga, gb = a.grad.numpy().copy(), b.grad.numpy().copy()
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), ta - 0.1 * ga)
    np.testing.assert_allclose(b.detach().numpy(), _refs.sgd(tb, [gb], lr=0.5, momentum=0.9)[0])


def test_add_param_group():
    a, b = _params()
    opt = optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 0.01})
    assert len(opt.param_groups) == 2
    assert opt.param_groups[1]["betas"] == (0.9, 0.999) and opt.param_groups[1]["lr"] == 0.01
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="ordered collections"):
        opt.add_param_group({"params": {rg.zeros(2, requires_grad=True)}})
    with pytest.raises(TypeError, match="must be a dict"):
        opt.add_param_group([b])


def test_named_parameters_give_param_names():
    a, b = _params()
    opt = optim.SGD([("w", a), ("b", b)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["w", "b"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]


@pytest.mark.parametrize(
    "bad,err,match",
    [
        (lambda: optim.SGD([], lr=0.1), ValueError, "empty parameter list"),
        (lambda: optim.SGD(rg.zeros(2, requires_grad=True), lr=0.1), TypeError, "iterable of Tensors"),
        (lambda: optim.SGD([np.zeros(2)], lr=0.1), TypeError, "can only optimize Tensors"),
        (lambda: optim.SGD([rg.zeros(2, requires_grad=True) * 2], lr=0.1), ValueError, "non-leaf"),
        (lambda: optim.SGD(_params(), lr=-1), ValueError, "Invalid learning rate"),
        (lambda: optim.SGD(_params(), lr=0.1, momentum=-0.5), ValueError, "Invalid momentum"),
        (lambda: optim.SGD(_params(), lr=0.1, nesterov=True), ValueError, "Nesterov momentum requires"),
        (lambda: optim.Adam(_params(), betas=(1.0, 0.9)), ValueError, "beta parameter at index 0"),
        (lambda: optim.Adam(_params(), eps=-1), ValueError, "Invalid epsilon"),
        (lambda: optim.AdamW(_params(), weight_decay=-1), ValueError, "Invalid weight_decay"),
        (lambda: optim.RMSprop(_params(), alpha=-1), ValueError, "Invalid alpha"),
        (lambda: optim.Adagrad(_params(), lr_decay=-1), ValueError, "Invalid lr_decay"),
        (lambda: optim.Adagrad(_params(), initial_accumulator_value=-1), ValueError, "initial_accumulator"),
        (lambda: optim.Adadelta(_params(), rho=1.5), ValueError, "Invalid rho"),
        (lambda: optim.SparseAdam(_params(), lr=0.0), ValueError, "Invalid learning rate"),
        (lambda: optim.Adamax(_params(), lr=-0.1), ValueError, "Invalid learning rate"),
        (lambda: optim.Adamax(_params(), betas=(0.9, 1.0)), ValueError, "beta parameter at index 1"),
        (lambda: optim.NAdam(_params(), betas=(-0.1, 0.9)), ValueError, "beta parameter at index 0"),
        (lambda: optim.NAdam(_params(), momentum_decay=-1), ValueError, "Invalid momentum_decay"),
        (lambda: optim.RAdam(_params(), eps=-1), ValueError, "Invalid epsilon"),
        (lambda: optim.RAdam(_params(), weight_decay=-1), ValueError, "Invalid weight_decay"),
        (lambda: optim.Rprop(_params(), etas=(1.2, 0.5)), ValueError, "Invalid eta values: 1.2, 0.5"),
        (lambda: optim.Rprop(_params(), lr=-1), ValueError, "Invalid learning rate"),
        (lambda: optim.ASGD(_params(), weight_decay=-1), ValueError, "Invalid weight_decay"),
        (lambda: optim.LBFGS(_params(), lr=-1), ValueError, "Invalid learning rate"),
        (lambda: optim.LBFGS([{"params": _params(1)}, {"params": _params(1, 1)}]), ValueError, "per-parameter options"),
        (lambda: optim.Adafactor(_params(), lr=-1), ValueError, "Learning rate should be >= 0"),
        (lambda: optim.Adafactor(_params(), beta2_decay=0.5), ValueError, "beta2_decay should be <= 0"),
        (lambda: optim.Adafactor(_params(), eps=(-1, 1e-3)), ValueError, "epsilon1"),
        (lambda: optim.Adafactor(_params(), eps=(None, -1)), ValueError, "epsilon2"),
        (lambda: optim.Adafactor(_params(), d=0.5), ValueError, "Clipping threshold d"),
        (lambda: optim.Muon(_params(), momentum=-1), ValueError, "momentum should be >= 0"),
        (lambda: optim.Muon(_params(), adjust_lr_fn="sqrt"), ValueError, "sqrt is not supported"),
        (lambda: optim.Muon([rg.zeros(3, requires_grad=True)]), ValueError, "only supports 2D parameters"),
    ],
)
def test_bad_arguments(bad, err, match):
    with pytest.raises(err, match=match):
        bad()


def test_required_option_must_be_set_per_group():
    class MyOpt(optim.Optimizer):
        def __init__(self, params, lr=optim.optimizer.required):
            super().__init__(params, dict(lr=lr))

        def step(self, closure=None):
            return None

    with pytest.raises(ValueError, match="required optimization parameter lr"):
        MyOpt(_params())
    assert MyOpt([{"params": _params(1), "lr": 0.1}]).param_groups[0]["lr"] == 0.1


# --------------------------------------------------------------------------- zero_grad / step
def test_zero_grad_set_to_none_and_zero():
    a, b = _params()
    opt = optim.SGD([a, b], lr=0.1)
    _set_grads([a, b], 0)
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    _set_grads([a, b], 0)
    g = a.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is g and not a.grad.numpy().any() and not b.grad.numpy().any()


def test_step_with_closure_returns_loss_and_runs_with_grad():
    w = rg.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with rg.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 5.0
    np.testing.assert_allclose(w.detach().numpy(), [0.8, -1.6])
    assert opt.step() is None


def test_step_runs_without_grad_mode():
    w = rg.tensor([1.0], requires_grad=True)
    seen = []

    class Probe(optim.SGD):
        def step(self, closure=None):
            seen.append(rg.is_grad_enabled())
            return super().step(closure)

    opt = Probe([w], lr=0.1)
    w.grad = rg.tensor([1.0])
    opt.step()
    assert seen == [False] and rg.is_grad_enabled()
    assert w.grad_fn is None and w.is_leaf


def test_step_hooks():
    w = rg.tensor([1.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, a, k: calls.append(("pre", o is opt)))
    h2 = opt.register_step_post_hook(lambda o, a, k: calls.append(("post", w.item())))
    w.grad = rg.tensor([1.0])
    opt.step()
    assert calls == [("pre", True), ("post", pytest.approx(0.9))]
    h1.remove()
    h2.remove()
    opt.step()
    assert len(calls) == 2


def test_repr_lists_groups():
    opt = optim.SGD(_params(), lr=0.1, momentum=0.9)
    r = repr(opt)
    assert r.startswith("SGD (\nParameter Group 0\n") and "    lr: 0.1\n" in r and "momentum: 0.9" in r


# --------------------------------------------------------------------------- state dicts
ALL = [
    (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
    (optim.Adam, dict(lr=0.1, amsgrad=True)),
    (optim.AdamW, dict(lr=0.1, weight_decay=0.1)),
    (optim.RMSprop, dict(lr=0.01, momentum=0.9, centered=True)),
    (optim.Adagrad, dict(lr=0.1, lr_decay=0.01)),
    (optim.Adadelta, dict(lr=1.0)),
    (optim.Adamax, dict(lr=0.1, weight_decay=0.1)),
    (optim.NAdam, dict(lr=0.1, decoupled_weight_decay=True, weight_decay=0.1)),
    (optim.RAdam, dict(lr=0.1, betas=(0.6, 0.8))),
    (optim.Rprop, dict(lr=0.1)),
    (optim.ASGD, dict(lr=0.1, t0=2)),
    (optim.Adafactor, dict(lr=0.1, weight_decay=0.1)),
    (optim.Muon, dict(lr=0.1)),
]


@pytest.mark.parametrize("cls,kw", ALL)
def test_state_dict_round_trip_continues_the_trajectory(cls, kw):
    ps = _params()
    opt = cls([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.05}], **kw)
    for s in range(3):
        _set_grads(ps, s)
        opt.step()
    sd = opt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sorted(sd["state"]) == [0, 1]

    ps2 = [rg.tensor(p.detach().numpy().copy(), requires_grad=True) for p in ps]
    opt2 = cls([{"params": ps2[:1]}, {"params": ps2[1:]}], **kw)
    opt2.load_state_dict(copy.deepcopy(sd))
    assert opt2.param_groups[1]["lr"] == 0.05  # options come from the saved groups
    for s in range(3, 6):
        _set_grads(ps, s)
        _set_grads(ps2, s)
        opt.step()
        opt2.step()
    # NAdam's mu_product is float32 until a load casts it to the parameter's dtype (as
    # PyTorch does): the continuation then rounds differently
    tol = 1e-7 if cls is optim.NAdam else 0
    for p, q in zip(ps, ps2):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=tol, atol=tol)


def test_state_dict_layout_matches_pytorch():
    ps = _params()
    opt = optim.Adam(ps, lr=0.1)
    _set_grads(ps, 0)
    opt.step()
    sd = opt.state_dict()
    st = sd["state"][0]
    assert sorted(st) == ["exp_avg", "exp_avg_sq", "step"]
    assert isinstance(st["step"], rg.Tensor) and st["step"].dtype == rg.float32 and st["step"].item() == 1
    g = sd["param_groups"][0]
    assert g["params"] == [0, 1]
    for key in (
        "lr",
        "betas",
        "eps",
        "weight_decay",
        "amsgrad",
        "maximize",
        "foreach",
        "capturable",
        "differentiable",
        "fused",
        "decoupled_weight_decay",
    ):
        assert key in g


def test_load_state_dict_does_not_share_buffers_with_the_source():
    ps = _params()
    opt = optim.SGD(ps, lr=0.1, momentum=0.9)
    _set_grads(ps, 0)
    opt.step()
    opt2 = optim.SGD(ps, lr=0.1, momentum=0.9)
    opt2.load_state_dict(opt.state_dict())
    assert opt2.state[ps[0]]["momentum_buffer"] is not opt.state[ps[0]]["momentum_buffer"]


def test_load_state_dict_casts_buffers_to_param_dtype():
    p = rg.tensor([1.0, 2.0], dtype=rg.float64, requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = rg.tensor([1.0, 1.0], dtype=rg.float64)
    opt.step()
    sd = opt.state_dict()
    q = rg.tensor([1.0, 2.0], dtype=rg.float32, requires_grad=True)
    opt2 = optim.Adam([q], lr=0.1)
    opt2.load_state_dict(sd)
    assert opt2.state[q]["exp_avg"].dtype == rg.float32
    assert opt2.state[q]["step"].dtype == rg.float32


def test_load_state_dict_accepts_a_numeric_step():
    p = rg.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = rg.tensor([1.0, 1.0])
    opt.step()
    sd = opt.state_dict()
    sd["state"][0]["step"] = 1
    opt.load_state_dict(sd)
    opt.step()
    assert opt.state[p]["step"].item() == 2


@pytest.mark.parametrize(
    "mutate,match",
    [
        (lambda sd: sd["param_groups"].append(dict(sd["param_groups"][0])), "number of parameter groups"),
        (lambda sd: sd["param_groups"][0]["params"].pop(), "doesn't match the size"),
        (lambda sd: sd.pop("state"), "'state'"),
    ],
)
def test_load_state_dict_mismatch(mutate, match):
    ps = _params()
    opt = optim.SGD(ps, lr=0.1)
    sd = opt.state_dict()
    mutate(sd)
    with pytest.raises((ValueError, KeyError), match=match):
        opt.load_state_dict(sd)


def test_deepcopy_of_optimizer():
    ps = _params()
    opt = optim.Adam(ps, lr=0.1)
    _set_grads(ps, 0)
    opt.step()
    c = copy.deepcopy(opt)
    assert c.state_dict()["state"][0]["step"].item() == 1


# --------------------------------------------------------------------------- swap in
def test_swap_in_optimizer_params_and_state_steps_the_given_ones():
    ps = _params()
    opt = optim.Adam(ps, lr=0.1)
    _set_grads(ps, 0)
    opt.step()
    live = [p.detach().numpy().copy() for p in ps]
    live_state = opt.state
    # a second run of the same model, one step behind: stepped through the live optimizer
    qs = _params()
    other = optim.Adam(qs, lr=0.05)
    _set_grads(qs, 0)
    other.step()
    sd = other.state_dict()
    _set_grads(qs, 1)
    ref = [q.detach().numpy().copy() for q in qs]
    twin = [rg.tensor(r, requires_grad=True) for r in ref]
    twin_opt = optim.Adam(twin, lr=0.05)
    twin_opt.load_state_dict(copy.deepcopy(sd))
    _set_grads(twin, 1)
    twin_opt.step()
    with optim.swap_in_optimizer_params_and_state(opt, {"a": qs[0], "b": qs[1]}, sd):
        assert opt.param_groups[0]["params"] == qs and opt.param_groups[0]["lr"] == 0.05
        opt.step()
    for q, t in zip(qs, twin):
        np.testing.assert_allclose(q.detach().numpy(), t.detach().numpy(), rtol=1e-14)
    assert sd["state"][0]["step"].item() == 2  # state tensors are updated in place
    assert opt.state is live_state and opt.param_groups[0]["params"] == ps
    assert opt.param_groups[0]["lr"] == 0.1
    for p, v in zip(ps, live):
        np.testing.assert_array_equal(p.detach().numpy(), v)


@pytest.mark.parametrize(
    "mutate,match",
    [
        (lambda sd: sd.pop("state"), "'state'"),
        (lambda sd: sd["param_groups"].append({}), "parameter groups"),
        (lambda sd: sd["param_groups"][0].pop("betas"), "Keys only in live"),
        (lambda sd: sd["param_groups"][0]["params"].pop(), "params"),
        (lambda sd: sd["state"].update({7: {}}), "extra keys"),
    ],
)
def test_swap_in_optimizer_params_and_state_checks_the_state(mutate, match):
    ps = _params()
    opt = optim.Adam(ps, lr=0.1)
    with pytest.raises(RuntimeError, match="initialized optimizer state"):
        with optim.swap_in_optimizer_params_and_state(opt, dict(enumerate(ps)), opt.state_dict()):
            pass
    _set_grads(ps, 0)
    opt.step()
    sd = copy.deepcopy(opt.state_dict())
    mutate(sd)
    with pytest.raises(RuntimeError, match=match):
        with optim.swap_in_optimizer_params_and_state(opt, dict(enumerate(_params())), sd):
            pass
    assert opt.param_groups[0]["params"] == ps
