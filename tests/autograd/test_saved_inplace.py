"""What ops save for backward decides what may be modified in place before backward: each op
saves what PyTorch saves (so the same programs run), and its gradient stays right."""

import math

import numpy as np
import pytest

import retrograd as torch
import retrograd.nn.functional as F


def _leaf(*shape, low=-2.0, high=2.0, seed=0):
    a = np.random.default_rng(seed).uniform(low, high, shape)
    return torch.tensor(a, requires_grad=True)


def _grad(fn, *leaves):
    """Gradients of ``fn(*non-leaf copies)`` (a scalar) with respect to the leaves."""
    return torch.autograd.grad(fn(*[leaf * 1 for leaf in leaves]), leaves, allow_unused=True)


def _close(got, want):
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-12)


def test_loss_divided_in_place_before_backward():
    # loss /= accum_steps; loss.backward(): the loss of nll_loss (mean) is a quotient
    logits, target = _leaf(4, 3), torch.tensor([0, 2, 1, 2])
    loss = F.nll_loss(F.log_softmax(logits * 1, dim=1), target)
    loss /= 4
    loss.backward()
    want = _grad(lambda x: F.nll_loss(F.log_softmax(x, dim=1), target) / 4, logits)[0]
    _close(logits.grad, want)


@pytest.mark.parametrize("name", ["cross_entropy", "mse_loss", "l1_loss"])
def test_other_losses_divided_in_place(name):
    x, y = _leaf(4, 3), _leaf(4, 3, seed=1)
    fn = {
        "cross_entropy": lambda a, b: F.cross_entropy(a, torch.tensor([0, 2, 1, 2])),
        "mse_loss": lambda a, b: F.mse_loss(a, b),
        "l1_loss": lambda a, b: F.l1_loss(a, b),
    }[name]
    loss = fn(x * 1, y * 1)
    loss /= 3
    loss.backward()
    want = _grad(lambda a, b: fn(a, b) / 3, x, y)[0]
    _close(x.grad, want)


def test_quotient_modified_in_place_before_backward():
    # x / y saves x and y, not the quotient (as PyTorch), so masking the scores in place works
    q, k = _leaf(3, 4), _leaf(3, 4, seed=1)
    mask = torch.tensor(np.eye(3, dtype=bool))
    scores = (q * 1) @ (k * 1).T / torch.tensor(2.0)
    scores.masked_fill_(mask, -1e9)
    scores.softmax(-1).sum().backward()
    gq, gk = _grad(lambda a, b: (a @ b.T / torch.tensor(2.0)).masked_fill(mask, -1e9).softmax(-1).sum(), q, k)
    _close(q.grad, gq)
    _close(k.grad, gk)


def test_quotient_operands_still_checked():
    x, y = _leaf(3), _leaf(3, low=1, high=2, seed=1)
    a, b = x * 1, y * 1
    out = a / b
    b.mul_(2)  # read by both gradients
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()
    a, b = x * 1, y * 1
    out = a / b
    a.mul_(2)  # read by the divisor's gradient only
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_operand_read_only_for_an_unneeded_gradient_is_not_checked():
    # x * c with c not requiring grad: x is read by c's gradient only, which is not computed
    x = _leaf(3, 4)
    for op in (lambda a, c: a * c, lambda a, c: a @ c.T, lambda a, c: torch.einsum("ij,kj->ik", a, c)):
        c = torch.tensor(np.random.default_rng(2).uniform(-1, 1, (3, 4)))
        a = x * 1
        out = op(a, c)
        a.mul_(3)
        out.sum().backward()
        want = _grad(lambda t: op(t, c).sum(), x)[0]
        _close(x.grad, want)
        x.grad = None
    # when c requires grad, x is read by its gradient: modifying x is an error
    c = _leaf(3, 4, seed=2)
    a = x * 1
    out = a * c
    a.mul_(3)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


@pytest.mark.parametrize(
    "fn",
    [
        lambda x, y: torch.logaddexp(x, y),
        lambda x, y: torch.logaddexp2(x, y),
        lambda x, y: torch.erfinv(x * 0.4),
        lambda x, y: F.softsign(x),
        lambda x, y: F.normalize(x, dim=1),
        lambda x, y: torch.nanmean(x, dim=0),
        lambda x, y: F.embedding_bag(torch.tensor([[0, 2], [1, 1]]), x, mode="max"),
    ],
    ids=["logaddexp", "logaddexp2", "erfinv", "softsign", "normalize", "nanmean", "embedding_bag_max"],
)
def test_result_modified_in_place_before_backward(fn):
    x, y = _leaf(3, 4), _leaf(3, 4, seed=1)
    out = fn(x * 1, y * 1)
    out.mul_(2)
    out.sum().backward()
    want = _grad(lambda a, b: (fn(a, b) * 2).sum(), x, y)
    _close(x.grad, want[0])


@pytest.mark.parametrize(
    "fn",
    [
        lambda x, y: 2.0 / x,
        lambda x, y: F.cross_entropy(x, torch.tensor([0, 3, 1])),
        lambda x, y: F.cross_entropy(x, torch.tensor([0, 3, 1]), label_smoothing=0.2, reduction="none"),
        lambda x, y: F.smooth_l1_loss(x, y, beta=0.0),
        lambda x, y: torch.tensordot(x.reshape(3, 2, 2), y.reshape(2, 3, 2), dims=([1, 0], [2, 1])),
        lambda x, y: torch.frexp(x).mantissa,
        lambda x, y: F.adaptive_avg_pool3d(x.reshape(1, 3, 2, 2), 1),
    ],
    ids=["rdiv", "cross_entropy", "cross_entropy_smoothing", "smooth_l1_beta0", "tensordot", "frexp", "avg_pool"],
)
def test_inputs_modified_in_place_before_backward(fn):
    x, y = _leaf(3, 4, low=0.5, high=2), _leaf(3, 4, seed=1)
    a, b = x * 1, y * 1
    out = fn(a, b)
    a.mul_(2)
    b.mul_(2)
    out.sum().backward()
    want = _grad(lambda a, b: fn(a, b).sum(), x, y)
    _close(x.grad, want[0])
    if y.grad is not None:
        _close(y.grad, want[1])


def test_recomputed_gradients_stay_differentiable():
    x, y = _leaf(3), _leaf(3, seed=1)
    for fn in (torch.logaddexp, lambda a, b: torch.erfinv(a * 0.4), lambda a, b: 2.0 / (a + 3)):
        assert torch.autograd.gradgradcheck(fn, (x, y))
    t = torch.tensor([0, 2, 1])
    assert torch.autograd.gradgradcheck(lambda a: F.cross_entropy(a, t), (_leaf(3, 4),))


def test_logaddexp_gradient_finite_far_apart():
    x = torch.tensor([800.0, -800.0], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([-800.0, 800.0], dtype=torch.float64, requires_grad=True)
    (gx,) = torch.autograd.grad(torch.logaddexp(x, y).sum(), x, create_graph=True)
    (ggx,) = torch.autograd.grad(gx.sum(), x)
    assert gx.tolist() == [1.0, 0.0]
    assert np.isfinite(ggx.numpy()).all()


def test_embedding_bag_max_gradient_goes_to_one_winner():
    w = torch.tensor([[1.0, 5.0], [1.0, 2.0], [0.0, 7.0]], dtype=torch.float64, requires_grad=True)
    out = F.embedding_bag(torch.tensor([[0, 1], [2, 2]]), w, mode="max")
    assert out.tolist() == [[1.0, 5.0], [0.0, 7.0]]
    out.sum().backward()
    # ties (rows 0 and 1 in column 0; row 2 twice) go to the first entry of the bag
    assert w.grad.tolist() == [[1.0, 1.0], [0.0, 0.0], [1.0, 1.0]]
    empty = F.embedding_bag(torch.tensor([0, 1]), w, torch.tensor([0, 0]), mode="max")
    assert empty.tolist() == [[0.0, 0.0], [1.0, 5.0]]


def test_tensordot_repeated_dim_raises():
    a = torch.ones(3, 4)
    with pytest.raises(RuntimeError, match="appears multiple times"):
        torch.tensordot(a, torch.ones(4, 3), dims=([1, 1], [0, 0]))


def test_rdiv_values_and_gradient():
    x = _leaf(5, low=0.5, high=2)
    out = 3.0 / x
    _close(out.detach(), torch.tensor(3.0 / x.detach().numpy()))
    out.sum().backward()
    _close(x.grad, torch.tensor(-3.0 / x.detach().numpy() ** 2))
    assert math.isclose((3.0 / torch.tensor(4.0)).item(), 0.75)


# --------------------------------------------------------------------------- complex tensors
def _weights(*shape):
    return torch.tensor(np.random.default_rng(5).uniform(-1, 1, shape))


def test_inplace_through_view_as_real_of_a_complex_result():
    x, w = _leaf(4), _weights(4, 2)
    f = torch.fft.fft(x * 1)
    r = torch.view_as_real(f)
    r.add_(w)
    r.mul_(w)
    (r * w).sum().backward()
    want = _grad(lambda a: ((torch.view_as_real(torch.fft.fft(a)) + w) * w * w).sum(), x)[0]
    _close(x.grad, want)


def test_view_as_real_regenerated_after_the_complex_base_changes():
    # a live real view of a complex tensor follows in-place changes of the tensor (or a slice)
    x, w = _leaf(4), _weights(4, 2)
    for region in (slice(None), slice(1, 3)):
        f = torch.fft.fft(x * 1)
        r = torch.view_as_real(f)
        f[region].mul_(3j)
        (r * w).sum().backward()
        got, x.grad = x.grad, None

        def ref(a, region=region):
            g = torch.fft.fft(a)
            scale = torch.ones(4, dtype=g.dtype)
            scale[region] = 3j
            return (torch.view_as_real(g * scale) * w).sum()

        _close(got, _grad(ref, x)[0])


def test_inplace_through_view_as_complex_of_a_real_tensor():
    x = _leaf(4)
    a = x * 1
    c = torch.view_as_complex(a.reshape(2, 2))
    a[1:3].mul_(3)
    c.mul_(torch.tensor([1 + 2j, -1j]))
    torch.view_as_real(c * c).sum().backward()

    def ref(t):
        t = t * torch.tensor([1.0, 3.0, 3.0, 1.0], dtype=torch.float64)
        z = torch.view_as_complex(t.reshape(2, 2)) * torch.tensor([1 + 2j, -1j])
        return torch.view_as_real(z * z).sum()

    _close(x.grad, _grad(ref, x)[0])


def test_polar_saves_its_result():
    r, t = _leaf(3, low=0.5, high=2), _leaf(3, seed=1)
    a, b = r * 1, t * 1
    z = torch.polar(a, b)
    a.mul_(2)  # abs and angle are not saved: PyTorch's polar saves its result
    b.mul_(2)
    torch.view_as_real(z).sum().backward()
    want = _grad(lambda p, q: torch.view_as_real(torch.polar(p, q)).sum(), r, t)
    _close(r.grad, want[0])
    _close(t.grad, want[1])
    z = torch.polar(r * 1, t * 1)
    torch.view_as_real(z).mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        torch.view_as_real(z).sum().backward()


# --------------------------------------------------------------------------- reshape views
def test_reshape_of_a_non_contiguous_input_is_a_view_where_strides_allow():
    # a batch of row slices reshapes without a copy: as PyTorch, the result is a view (it
    # was an unlinked alias, so an in-place change of it silently changed saved QR factors)
    a = _leaf(2, 3, 4)
    q = torch.linalg.qr((a * 1).mT).Q
    q.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        q.sum().backward()
    base = torch.arange(30.0).reshape(2, 15)
    part = base[:, :12].reshape(2, 4, 3)
    assert part._base is base._base
    part.zero_()
    assert base.sum().item() == sum(range(12, 15)) + sum(range(27, 30))
    t = base.t()  # a transpose does not flatten without a copy
    assert t.reshape(30)._base is None
    x = _leaf(2, 15)
    v = (x * 1)[:, :12].reshape(2, 4, 3)
    v.mul_(3)
    v.sum().backward()
    assert x.grad.numpy()[:, :12].tolist() == [[3.0] * 12] * 2 and x.grad.numpy()[:, 12:].sum() == 0


def test_parameter_operand_keeps_the_other_operand_checked():
    # a Parameter (a Tensor subclass) requiring grad reads the other operand in its gradient
    w = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    a = _leaf(3) * 1
    out = a * w
    a.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_changes_through_data_are_not_checked_but_changes_through_detach_are():
    # ``.data`` has a version counter of its own: backward reads the changed values without an
    # error (d(w*w)/dw at the doubled w = 2 * 2w); ``detach()`` shares the counter, so it raises
    w = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64, requires_grad=True)
    y = (w * w).sum()
    w.data.mul_(2)
    assert w._version == 0
    y.backward()
    _close(w.grad, torch.tensor([4.0, -8.0, 12.0], dtype=torch.float64))
    d = w.data
    assert d.requires_grad is False and d.grad_fn is None and d.data_ptr() == w.data_ptr()
    v = torch.tensor([1.0, 2.0], requires_grad=True)
    y = (v * v).sum()
    v.detach().mul_(2)
    assert v._version == 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_parameter_data_changed_between_forward_and_backward():
    # the optimizer-by-hand pattern: p.data.add_(...) before backward of a graph that saved p
    lin = torch.nn.Linear(3, 2).double()
    x = _leaf(4, 3)
    out = torch.tanh(x @ lin.weight.T)
    lin.weight.data.add_(1.0)
    out.sum().backward()
    t = np.tanh(x.detach().numpy() @ (lin.weight.detach().numpy() - 1.0).T)
    np.testing.assert_allclose(x.grad.numpy(), (1 - t**2) @ lin.weight.detach().numpy(), rtol=1e-12)
