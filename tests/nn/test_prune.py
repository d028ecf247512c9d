"""nn.utils.prune: masks by each method against NumPy, the _orig/_mask reparametrization
(forward, gradients, state_dict), combining methods, global pruning, remove, and bad input."""

import numpy as np
import pytest

import retrograd as rg
import retrograd.nn as nn
from retrograd.nn.utils import prune


def _linear():
    lin = nn.Linear(4, 3)
    with rg.no_grad():
        lin.weight.copy_(rg.tensor([[0.5, -0.1, 2.0, -3.0], [0.05, 1.5, -0.7, 0.2], [-0.3, 0.9, 0.01, 1.1]]))
    return lin


def test_l1_unstructured_reparametrizes_the_weight():
    lin = _linear()
    w = lin.weight.detach().numpy().copy()
    prune.l1_unstructured(lin, "weight", amount=0.25)  # 3 of 12 entries
    expected_mask = np.ones(12)
    expected_mask[np.argsort(np.abs(w).reshape(-1))[:3]] = 0
    np.testing.assert_array_equal(lin.weight_mask.numpy().reshape(-1), expected_mask)
    assert set(dict(lin.named_parameters())) == {"weight_orig", "bias"}
    assert set(lin.state_dict()) == {"weight_orig", "bias", "weight_mask"}
    assert not isinstance(lin.weight, nn.Parameter) and prune.is_pruned(lin)
    x = rg.randn(2, 4)
    out = lin(x)
    np.testing.assert_allclose(
        out.detach().numpy(), x.numpy() @ (w * expected_mask.reshape(3, 4)).T + lin.bias.detach().numpy(), rtol=1e-6
    )
    out.sum().backward()
    assert (lin.weight_orig.grad.numpy().reshape(-1)[expected_mask == 0] == 0).all()
    prune.remove(lin, "weight")
    assert isinstance(lin.weight, nn.Parameter) and "weight_orig" not in dict(lin.named_parameters())
    assert "weight_mask" not in lin.state_dict() and not prune.is_pruned(lin)
    np.testing.assert_array_equal(lin.weight.detach().numpy(), w * expected_mask.reshape(3, 4))


def test_combined_methods_only_prune_what_is_left():
    lin = _linear()
    w = np.abs(lin.weight.detach().numpy().reshape(-1))
    prune.l1_unstructured(lin, "weight", amount=2)
    prune.l1_unstructured(lin, "weight", amount=2)
    assert isinstance(lin._forward_pre_hooks[next(iter(lin._forward_pre_hooks))], prune.PruningContainer)
    assert len(lin._forward_pre_hooks) == 1
    mask = lin.weight_mask.numpy().reshape(-1)
    np.testing.assert_array_equal(np.sort(np.argsort(w)[:4]), np.flatnonzero(mask == 0))


def test_ln_structured_and_random_structured():
    lin = _linear()
    w = lin.weight.detach().numpy()
    prune.ln_structured(lin, "weight", amount=1, n=2, dim=0)
    dropped = np.argmin(np.linalg.norm(w, axis=1))
    mask = lin.weight_mask.numpy()
    assert (mask[dropped] == 0).all() and (np.delete(mask, dropped, 0) == 1).all()
    conv = nn.Conv2d(2, 6, 3)
    prune.random_structured(conv, "weight", amount=0.5, dim=0)
    per_channel = conv.weight_mask.numpy().reshape(6, -1)
    assert sorted(per_channel.max(1)) == [0, 0, 0, 1, 1, 1] and (per_channel.min(1) == per_channel.max(1)).all()


def test_global_unstructured_and_custom_mask():
    a, b = _linear(), nn.Linear(2, 2)
    with rg.no_grad():
        b.weight.copy_(rg.tensor([[0.02, 5.0], [-0.04, 0.06]]))
    values = np.concatenate(
        [np.abs(a.weight.detach().numpy()).reshape(-1), np.abs(b.weight.detach().numpy()).reshape(-1)]
    )
    prune.global_unstructured([(a, "weight"), (b, "weight")], pruning_method=prune.L1Unstructured, amount=5)
    masks = np.concatenate([a.weight_mask.numpy().reshape(-1), b.weight_mask.numpy().reshape(-1)])
    np.testing.assert_array_equal(np.flatnonzero(masks == 0), np.sort(np.argsort(values)[:5]))
    prune.custom_from_mask(a, "bias", rg.tensor([1.0, 0.0, 1.0]))
    assert a.bias[1].item() == 0.0 and a.bias_mask.tolist() == [1.0, 0.0, 1.0]
    with pytest.raises(TypeError, match="unstructured"):
        prune.global_unstructured([(a, "weight")], pruning_method=prune.LnStructured, amount=1, n=2, dim=0)


def test_prune_a_tensor_and_identity():
    t = rg.tensor([[1.0, -4.0], [0.5, 2.0]])
    assert prune.L1Unstructured(amount=0.5).prune(t).tolist() == [[0.0, -4.0], [0.0, 2.0]]
    lin = prune.identity(nn.Linear(2, 2), "bias")
    assert (lin.bias_mask == 1).all() and prune.is_pruned(lin)


@pytest.mark.parametrize(
    "call, err, match",
    [
        (lambda: prune.l1_unstructured(_linear(), "weight", amount=-1), ValueError, "non-negative integer"),
        (lambda: prune.l1_unstructured(_linear(), "weight", amount=1.5), ValueError, "range"),
        (lambda: prune.l1_unstructured(_linear(), "weight", amount="a"), TypeError, "Invalid type"),
        (lambda: prune.l1_unstructured(_linear(), "weight", amount=13), ValueError, "smaller than"),
        (lambda: prune.ln_structured(_linear(), "bias", amount=1, n=2, dim=0), ValueError, "multidimensional"),
        (lambda: prune.ln_structured(_linear(), "weight", amount=1, n=2, dim=3), IndexError, "Invalid index"),
        (lambda: prune.remove(_linear(), "weight"), ValueError, "has to be pruned"),
        (lambda: prune.global_unstructured(3, prune.L1Unstructured, amount=1), TypeError, "Iterable"),
    ],
)
def test_bad_input(call, err, match):
    with pytest.raises(err, match=match):
        call()


def test_failed_pruning_leaves_the_parameter():
    lin = _linear()
    with pytest.raises(ValueError):
        prune.l1_unstructured(lin, "weight", amount=20)
    assert isinstance(lin.weight, nn.Parameter) and "weight_orig" not in dict(lin.named_parameters())
