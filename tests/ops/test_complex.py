"""Complex dtypes and the complex ops with their gradients (PyTorch's convention: a real loss L
of z = x + iy gives z the gradient dL/dx + i dL/dy)."""

import warnings

import numpy as np
import pytest

import retrograd as torch
from retrograd.autograd import gradcheck, gradgradcheck


def _parts(seed=0, shape=(2, 3)):
    rng = np.random.default_rng(seed)
    return (
        torch.tensor(rng.standard_normal(shape), requires_grad=True),
        torch.tensor(rng.standard_normal(shape), requires_grad=True),
    )


def test_dtypes_and_promotion():
    assert torch.complex64.is_complex and not torch.complex64.is_floating_point
    assert torch.cfloat is torch.complex64 and torch.cdouble is torch.complex128
    assert torch.promote_types(torch.float64, torch.complex64) is torch.complex128
    assert torch.promote_types(torch.int64, torch.complex64) is torch.complex64
    assert torch.complex64.to_real() is torch.float32
    assert torch.tensor([1 + 2j]).dtype is torch.complex64
    assert torch.tensor(np.array([1j])).dtype is torch.complex128
    assert (torch.ones(2, dtype=torch.float64) * torch.tensor(1j)).dtype is torch.complex128
    assert (torch.ones(2) * 1j).dtype is torch.complex64
    assert (torch.arange(3) * 1j).dtype is torch.complex64
    z = torch.tensor([1 + 2j, 3 - 1j])
    assert z.is_complex() and not z.is_floating_point()
    assert repr(z) == "tensor([1.+2.j, 3.-1.j])"
    assert "complex128" in repr(z.to(torch.complex128))


def test_parts_views_and_values():
    z = torch.tensor([[1 + 2j, -3 - 4j]], dtype=torch.complex128)
    np.testing.assert_array_equal(z.real.numpy(), [[1, -3]])
    np.testing.assert_array_equal(z.imag.numpy(), [[2, -4]])
    np.testing.assert_array_equal(z.conj().numpy(), [[1 - 2j, -3 + 4j]])
    np.testing.assert_allclose(z.abs().numpy(), [[5**0.5, 5]])
    np.testing.assert_allclose(torch.angle(z).numpy(), np.angle(z.numpy()))
    np.testing.assert_array_equal(torch.view_as_real(z).numpy(), [[[1, 2], [-3, -4]]])
    np.testing.assert_array_equal(torch.view_as_complex(torch.view_as_real(z)).numpy(), z.numpy())
    np.testing.assert_allclose(torch.sgn(z).numpy(), z.numpy() / np.abs(z.numpy()))
    np.testing.assert_array_equal(torch.isreal(torch.tensor([1 + 0j, 1j])).numpy(), [True, False])
    z.real.mul_(0)  # real is a view, as in PyTorch
    np.testing.assert_array_equal(z.numpy(), [[2j, -4j]])
    np.testing.assert_allclose(torch.polar(torch.tensor([2.0]), torch.tensor([np.pi / 2])).numpy(), [2j], atol=1e-6)
    assert torch.angle(torch.tensor([-1.0, 2.0])).tolist() == [pytest.approx(np.pi), 0.0]
    m = torch.tensor([[1 + 1j, 2], [3j, 4]])
    np.testing.assert_array_equal(m.mH.numpy(), m.numpy().conj().T)
    np.testing.assert_array_equal(m.adjoint().numpy(), m.numpy().conj().T)


def test_errors():
    with pytest.raises(RuntimeError, match="view_as_complex"):
        torch.view_as_complex(torch.ones(3, 3))
    with pytest.raises(RuntimeError, match="same dtype"):
        torch.complex(torch.ones(2), torch.ones(2, dtype=torch.float64))
    with pytest.raises(RuntimeError, match="sgn"):
        torch.sign(torch.tensor([1j]))
    with pytest.raises(RuntimeError, match="non-complex"):
        torch.ones(2).imag
    with pytest.warns(UserWarning, match="discards the imaginary part"):
        assert torch.tensor([1 + 2j]).to(torch.float32).tolist() == [1.0]


def test_ops_without_complex_gradients_refuse():
    re, im = _parts()
    z = torch.complex(re, im)
    with pytest.raises(NotImplementedError, match="exp: autograd through complex tensors"):
        z.exp()
    with torch.no_grad():
        np.testing.assert_allclose(z.exp().numpy(), np.exp(z.detach().numpy()))


@pytest.mark.parametrize(
    "f",
    [
        lambda z: (z * z.conj() * (2 + 1j)).real,
        lambda z: (z / (z + 3)).imag,
        lambda z: z.abs() + z.angle(),
        lambda z: torch.view_as_real(z * 2 - z[:, :1] + 1j),
        lambda z: torch.view_as_real(torch.cat([z, z.flip(1)]).reshape(4, 3).sum(0) / 3),
        lambda z: torch.view_as_real(torch.view_as_complex(torch.view_as_real(z).contiguous()) * 1j),
        lambda z: z.mean().abs() + z.mT.sum(1).real,
    ],
)
def test_gradients_follow_pytorch_convention(f):
    re, im = _parts()
    assert gradcheck(lambda a, b: f(torch.complex(a, b)), (re, im))
    assert gradgradcheck(lambda a, b: f(torch.complex(a, b)), (re, im))


def test_real_input_receives_real_part():
    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    ((x * (1 + 2j)) * (3 - 1j)).imag.sum().backward()
    # imag((1 + 2i)(3 - i) x) = 5 x
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 5.0])
    assert x.grad.dtype is torch.float64


def test_polar_gradient():
    rng = np.random.default_rng(3)
    r = torch.tensor(rng.uniform(0.5, 2, 4), requires_grad=True)
    t = torch.tensor(rng.uniform(-3, 3, 4), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gradcheck(lambda a, b: torch.view_as_real(torch.polar(a, b)), (r, t))


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_complex_tensors_save_and_load(tmp_path, suffix):
    path = tmp_path / f"z{suffix}"
    z = {"a": torch.tensor([1 + 2j, 3 - 4j]), "b": torch.tensor([[1j]], dtype=torch.complex128)}
    if suffix == ".safetensors":
        z.pop("b")  # the safetensors format has C64 only
    torch.save(z, path)
    back = torch.load(path)
    for k in z:
        assert back[k].dtype is z[k].dtype
        np.testing.assert_array_equal(back[k].numpy(), z[k].numpy())


def test_complex_factories():
    torch.manual_seed(0)
    z = torch.randn(40000, dtype=torch.complex64)
    assert z.dtype is torch.complex64
    # real and imaginary parts each N(0, 1/2), as in PyTorch
    assert abs(z.real.var().item() - 0.5) < 0.03 and abs(z.imag.var().item() - 0.5) < 0.03
    assert abs(z.real.mean().item()) < 0.03 and abs(z.imag.mean().item()) < 0.03
    u = torch.rand(40000, dtype=torch.complex128)
    assert 0 <= u.real.min().item() and u.real.max().item() < 1 and 0 <= u.imag.min().item() < u.imag.max().item() < 1
    assert abs(u.imag.mean().item() - 0.5) < 0.02
    assert torch.randn_like(torch.zeros(3, dtype=torch.complex64)).imag.abs().sum().item() > 0
    f = torch.full((2,), 1 + 1j)
    assert f.dtype is torch.complex64 and f.tolist() == [1 + 1j, 1 + 1j]
    with pytest.raises(RuntimeError, match="complex"):
        torch.full((2,), 1j, dtype=torch.float32)
    with pytest.raises(RuntimeError, match="complex"):
        torch.randint(3, (2,), dtype=torch.complex64)
    with pytest.raises(NotImplementedError, match="complex"):
        torch.normal(0.0, 1.0, (2,), dtype=torch.complex64)


def test_view_as_real_and_view_as_complex_of_strided_tensors_are_views_with_gradients():
    rng = np.random.default_rng(5)
    z = rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))
    t = torch.tensor(z)
    r = torch.view_as_real(t.t()[:, ::2])  # transposed and stepped
    np.testing.assert_array_equal(r.numpy(), np.stack([z.T[:, ::2].real, z.T[:, ::2].imag], -1))
    assert r.stride() == (2, 16, 1)
    r[0, 0, 1] = 7.0  # a view: writes reach the complex tensor
    assert t[0, 0].item().imag == 7.0
    x = torch.tensor(rng.standard_normal((4, 3, 2)))
    c = torch.view_as_complex(x.transpose(0, 1))
    np.testing.assert_array_equal(c.numpy(), (x.numpy()[..., 0] + 1j * x.numpy()[..., 1]).T)
    assert c.stride() == (1, 3)
    zz = torch.tensor(z, requires_grad=True)
    assert gradcheck(lambda a: torch.view_as_real(a.t()[1:]), (zz,))
    xx = torch.tensor(rng.standard_normal((4, 3, 2)), requires_grad=True)
    assert gradcheck(lambda a: torch.view_as_real(torch.view_as_complex(a.transpose(0, 1)) * (1 + 2j)), (xx,))


def test_view_as_complex_refuses_layouts_without_whole_complex_elements():
    with pytest.raises(RuntimeError, match="last dimension with stride 1"):
        torch.view_as_complex(torch.zeros(4, 2, 3).transpose(1, 2))
    with pytest.raises(RuntimeError, match="stride divisible by 2"):
        torch.view_as_complex(torch.zeros(4, 3, 3)[..., :2])
    with pytest.raises(RuntimeError, match="storage_offset divisible by 2"):
        torch.view_as_complex(torch.zeros(9)[1:].reshape(4, 2))


def test_var_and_std_of_complex_input_are_real():
    # var = mean |x - mean|^2 (a real number), not the complex mean of (x - mean)^2
    v = np.array([1 + 2j, 3 - 1j, -1 + 0j])
    z = torch.tensor(v, requires_grad=True)
    var = z.var()
    assert var.dtype == torch.float64
    np.testing.assert_allclose(var.item(), np.var(v, ddof=1))
    np.testing.assert_allclose(z.std(correction=0).item(), np.std(v))
    assert torch.tensor(v, dtype=torch.complex64).var().dtype == torch.float32
    (z.var(correction=0) * 3).backward()
    np.testing.assert_allclose(z.grad.numpy(), 2 * (v - v.mean()))  # d/dz* of sum |z - mean|^2


def test_logsumexp_of_complex_input_stays_complex():
    v = np.array([[1 + 2j, 3 - 1j, -1 + 0j], [-np.inf, 0j, 1j]])
    with torch.no_grad():
        out = torch.logsumexp(torch.tensor(v), 1)
    assert out.dtype == torch.complex128
    np.testing.assert_allclose(out.numpy(), np.log(np.exp(v).sum(1)))


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda z, w: z < w, NotImplementedError),
        (lambda z, w: z >= 1, NotImplementedError),
        (lambda z, w: torch.maximum(z, w), RuntimeError),
        (lambda z, w: torch.fmin(z, w), RuntimeError),
        (lambda z, w: z.max(), NotImplementedError),
        (lambda z, w: z.max(0), RuntimeError),
        (lambda z, w: z.amin(), NotImplementedError),
        (lambda z, w: z.argmax(), RuntimeError),
        (lambda z, w: z.sort(), RuntimeError),
        (lambda z, w: z.argsort(), RuntimeError),
        (lambda z, w: z.topk(1), RuntimeError),
        (lambda z, w: z.kthvalue(1), NotImplementedError),
        (lambda z, w: z.median(), NotImplementedError),
        (lambda z, w: z.cummax(0), NotImplementedError),
        (lambda z, w: z.clamp(min=0), NotImplementedError),
        (lambda z, w: z.round(), NotImplementedError),
        (lambda z, w: torch.relu(z), NotImplementedError),
        (lambda z, w: torch.nn.functional.hardtanh(z), NotImplementedError),
        (lambda z, w: torch.erf(z), NotImplementedError),
        (lambda z, w: torch.unique(z), NotImplementedError),
        (lambda z, w: torch.searchsorted(w, z), NotImplementedError),
    ],
)
def test_ordering_ops_refuse_complex_input(call, error):
    # NumPy orders complex numbers lexicographically; PyTorch has no order on them
    z = torch.tensor([1 + 2j, 3 - 1j, -1 + 0j])
    w = torch.tensor([2 + 0j, 1j, -1 + 1j])
    with pytest.raises(error, match="complex"):
        call(z, w)
    assert (z == w).tolist() == [False, False, False]
