"""LBFGS: the closure protocol, the stopping rules, the strong-Wolfe line search and the state
(its iterations against a NumPy reference are in test_trajectories.py)."""

import copy

import numpy as np
import pytest

import retrograd as rg
from retrograd import optim
from retrograd.optim.lbfgs import _cubic_interpolate

A = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 2.0]])
B = np.array([1.0, -2.0, 0.5])


def _quadratic(x, calls=None):
    """A closure for 0.5 x'Ax - b'x through autograd; ``calls`` counts its evaluations."""
    a, b = rg.tensor(A), rg.tensor(B)

    def closure():
        if calls is not None:
            calls.append(1)
        x.grad = None
        loss = 0.5 * (x @ (a @ x)) - b @ x
        loss.backward()
        return loss

    return closure


def _rosenbrock(x):
    def closure():
        x.grad = None
        loss = (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()
        loss.backward()
        return loss

    return closure


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_quadratic_minimum_is_found(line_search_fn):
    x = rg.zeros(3, dtype=rg.float64, requires_grad=True)
    opt = optim.LBFGS([x], line_search_fn=line_search_fn, tolerance_change=1e-14)
    first = opt.step(_quadratic(x))
    assert isinstance(first, rg.Tensor) and first.item() == 0.0  # the loss of the first evaluation
    np.testing.assert_allclose(x.detach().numpy(), np.linalg.solve(A, B), rtol=1e-6)


def test_strong_wolfe_solves_rosenbrock():
    x = rg.tensor([-1.2, 1.0, -0.5, 0.8], dtype=rg.float64, requires_grad=True)
    opt = optim.LBFGS([x], line_search_fn="strong_wolfe", max_iter=100)
    opt.step(_rosenbrock(x))
    np.testing.assert_allclose(x.detach().numpy(), np.ones(4), atol=1e-5)


def test_optimal_point_stops_after_one_evaluation():
    x = rg.tensor(np.linalg.solve(A, B), requires_grad=True)
    calls = []
    opt = optim.LBFGS([x], tolerance_grad=1e-7)
    opt.step(_quadratic(x, calls))
    assert len(calls) == 1 and opt.state[x] == {"func_evals": 1, "n_iter": 0}


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_max_eval_caps_evaluations(line_search_fn):
    x = rg.tensor([-1.2, 1.0, 0.3], dtype=rg.float64, requires_grad=True)
    calls = []
    closure = _rosenbrock(x)
    opt = optim.LBFGS([x], max_iter=50, max_eval=7, line_search_fn=line_search_fn)
    opt.step(lambda: (calls.append(1), closure())[1])
    assert opt.state[x]["func_evals"] == len(calls)
    # the line search may finish its last search; without one each iteration evaluates once
    assert len(calls) == 7 if line_search_fn is None else 7 <= len(calls) <= 7 + 25


def test_max_eval_defaults_to_five_quarters_of_max_iter():
    assert optim.LBFGS([rg.zeros(1, requires_grad=True)], max_iter=9).defaults["max_eval"] == 11


def test_history_size_bounds_the_history():
    x = rg.tensor([-1.2, 1.0, 0.3, 0.7], dtype=rg.float64, requires_grad=True)
    opt = optim.LBFGS([x], history_size=3, max_iter=30, tolerance_change=0, tolerance_grad=0)
    opt.step(_rosenbrock(x))
    st = opt.state[x]
    assert 1 <= len(st["old_dirs"]) <= 3 and len(st["old_stps"]) == len(st["ro"]) == len(st["old_dirs"])


def test_tolerance_change_stops_on_a_flat_loss():
    x = rg.tensor([2.0], dtype=rg.float64, requires_grad=True)
    opt = optim.LBFGS([x], lr=1e-12, max_iter=50, tolerance_change=1e-6)

    def closure():
        x.grad = None
        loss = (x**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    assert opt.state[x]["n_iter"] == 1  # the step, 1e-12, is under tolerance_change


def test_unknown_line_search_is_refused_at_step():
    x = rg.zeros(3, dtype=rg.float64, requires_grad=True)
    opt = optim.LBFGS([x], line_search_fn="armijo")  # accepted here, as in PyTorch
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(_quadratic(x))


def test_closure_is_required():
    opt = optim.LBFGS([rg.zeros(2, requires_grad=True)])
    with pytest.raises(TypeError):
        opt.step()
    with pytest.raises(TypeError, match="requires a closure"):
        opt.step(None)


def test_several_parameters_and_a_missing_gradient():
    """Parameters are one flat vector; one without a gradient counts as a zero gradient and is
    left where it is."""
    w = rg.zeros(2, 2, dtype=rg.float64, requires_grad=True)
    unused = rg.ones(3, dtype=rg.float64, requires_grad=True)
    v = rg.zeros(2, dtype=rg.float64, requires_grad=True)
    target = rg.tensor([[1.0, 2.0], [3.0, 4.0]])
    opt = optim.LBFGS([w, unused, v], line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = ((w - target) ** 2).sum() + ((v - 1) ** 2).sum()
        loss.backward()
        return loss

    versions = unused._version
    opt.step(closure)
    np.testing.assert_allclose(w.detach().numpy(), target.numpy(), rtol=1e-6)
    np.testing.assert_allclose(v.detach().numpy(), [1.0, 1.0], rtol=1e-6)
    assert unused.tolist() == [1.0, 1.0, 1.0] and unused._version > versions
    assert opt.state[w]["d"].shape == (9,) and not opt.state[v]


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_state_dict_round_trip_continues_the_run(line_search_fn):
    def make():
        x = rg.tensor([-1.2, 1.0, 0.3, 0.7], dtype=rg.float64, requires_grad=True)
        return x, optim.LBFGS([x], max_iter=4, history_size=3, line_search_fn=line_search_fn)

    x, opt = make()
    for _ in range(2):
        opt.step(_rosenbrock(x))
    sd = copy.deepcopy(opt.state_dict())
    st = sd["state"][0]
    assert sorted(st) == sorted(
        ["func_evals", "n_iter", "d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad", "prev_loss", "al"]
    )
    assert all(isinstance(v, rg.Tensor) for v in st["old_dirs"] + st["ro"] + [st["d"], st["H_diag"]])
    y, opt2 = make()
    with rg.no_grad():
        y.copy_(x)
    opt2.load_state_dict(sd)
    for _ in range(3):
        opt.step(_rosenbrock(x))
        opt2.step(_rosenbrock(y))
    np.testing.assert_array_equal(x.detach().numpy(), y.detach().numpy())
    assert opt2.state[y]["func_evals"] == opt.state[x]["func_evals"]


def test_float32_scalars_stay_float32():
    x = rg.tensor([-1.2, 1.0], dtype=rg.float32, requires_grad=True)
    opt = optim.LBFGS([x], max_iter=5, line_search_fn="strong_wolfe")
    opt.step(_rosenbrock(x))
    st = opt.state[x]
    assert x.dtype == rg.float32 and st["d"].dtype == rg.float32 and st["ro"][0].dtype == rg.float32


def test_cubic_interpolate():
    # f(x) = (x - 1)^2 + 2: the minimiser 1 from two points and slopes
    assert _cubic_interpolate(0.0, 3.0, -2.0, 3.0, 6.0, 4.0) == pytest.approx(1.0)
    assert _cubic_interpolate(3.0, 6.0, 4.0, 0.0, 3.0, -2.0) == pytest.approx(1.0)
    assert _cubic_interpolate(0.0, 3.0, -2.0, 3.0, 6.0, 4.0, bounds=(1.5, 2.0)) == 1.5
    # a cubic without a local minimum (slope 1 at both ends, f(1) - f(0) = 2/3): the midpoint
    assert _cubic_interpolate(0.0, 0.0, 1.0, 1.0, 2 / 3, 1.0) == 0.5
