"""Optional parity with PyTorch's torch.func and forward-mode AD: the same transform of the same
function on the same float64 inputs gives the same values under torch and retrograd."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import retrograd as rg  # noqa: E402
import retrograd.func as rfunc  # noqa: E402
import torch.func as tfunc  # noqa: E402

R = np.random.default_rng(0)
X = R.standard_normal(4)
Y = R.standard_normal((3, 4))
T = R.standard_normal(4)


def _fn(lib):
    F = lib.nn.functional
    return {
        "elementwise": lambda x: (x.sin() * x.exp() + x.tanh() ** 2).sum(),
        "matmul_softmax": lambda x: F.softmax(lib.tensor(Y, dtype=lib.float64) @ x, 0).log().sum(),
        "norms": lambda x: F.layer_norm(x.reshape(2, 2), (2,)).pow(3).sum() + x.norm(),
        "cross_entropy": lambda x: F.cross_entropy(x.reshape(2, 2), lib.tensor([1, 0])),
        # the target depends on x: PyTorch 2.13 fails forward over reverse of mse_loss with a constant target
        "mse": lambda x: F.mse_loss(x, x.flip(0) * 0.5) + x.logsumexp(0),
    }


NAMES = sorted(_fn(rg))


def _np(t):
    if isinstance(t, (tuple, list)):
        return [_np(u) for u in t]
    return t.detach().numpy()


def _both(transform, name, *arrays):
    r = transform(rfunc, _fn(rg)[name])(*[rg.tensor(a) for a in arrays])
    t = transform(tfunc, _fn(torch)[name])(*[torch.tensor(a) for a in arrays])
    return _np(r), _np(t)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("transform", ["grad", "jacrev", "jacfwd", "hessian", "jvp", "hvp"])
def test_transform_parity(transform, name):
    transforms = {
        "grad": lambda M, f: M.grad(f),
        "jacrev": lambda M, f: M.jacrev(M.grad(f)),
        "jacfwd": lambda M, f: M.jacfwd(M.grad(f)),
        "hessian": lambda M, f: M.hessian(f),
        "jvp": lambda M, f: lambda x: M.jvp(f, (x,), (x * 0 + 1,)),
        "hvp": lambda M, f: lambda x: M.jvp(M.grad(f), (x,), (x.cos(),))[1],
    }
    r, t = _both(transforms[transform], name, X)
    np.testing.assert_allclose(np.asarray(r, dtype=float), np.asarray(t, dtype=float), rtol=1e-9, atol=1e-10)


def test_functional_call_parity():
    results = []
    for lib, M in ((rg, rfunc), (torch, tfunc)):
        lib.manual_seed(0)
        net = lib.nn.Sequential(lib.nn.Linear(4, 3), lib.nn.Tanh(), lib.nn.Linear(3, 1)).double()
        params = {
            k: lib.tensor(R2, dtype=lib.float64).reshape(v.shape) * 0.1
            for (k, v), R2 in zip(net.named_parameters(), _param_values(net))
        }
        x = lib.tensor(Y, dtype=lib.float64)
        out = M.functional_call(net, params, (x,))
        g = M.grad(lambda p: M.functional_call(net, p, (x,)).sum())(params)
        j = M.jacfwd(lambda p: M.functional_call(net, p, (x,)))(params)
        results.append((_np(out), {k: _np(v) for k, v in g.items()}, {k: _np(v) for k, v in j.items()}))
    (ro, rgrad, rjac), (to, tgrad, tjac) = results
    np.testing.assert_allclose(ro, to, rtol=1e-10)
    for k in tgrad:
        np.testing.assert_allclose(rgrad[k], tgrad[k], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(rjac[k], tjac[k], rtol=1e-10, atol=1e-12)


def _param_values(net):
    rng = np.random.default_rng(1)
    return [rng.standard_normal(int(np.prod(tuple(v.shape)))) for _, v in net.named_parameters()]


def test_forward_ad_parity_for_in_place_and_views():
    results = []
    for lib in (rg, torch):
        fw = lib.autograd.forward_ad
        with fw.dual_level():
            d = fw.make_dual(lib.tensor(X), lib.tensor(T))
            y = d.clone()
            y[1:3].mul_(d[:2].exp())
            z = lib.zeros(6, dtype=lib.float64)
            z[1:5].copy_(y.sin())
            results.append([fw.unpack_dual(v).tangent.numpy().copy() for v in (y, z, z[2:4].t())])
    for r, t in zip(*results):
        np.testing.assert_allclose(r, t, rtol=1e-12, atol=1e-14)


def test_gradcheck_check_forward_ad_parity():
    for lib in (rg, torch):
        x = lib.tensor(X, requires_grad=True)
        assert lib.autograd.gradcheck(lambda a: (a.sin() * a).cumsum(0), (x,), check_forward_ad=True)
