"""nn.utils.prune against PyTorch's: the masks (random ones included, for a seed), the
state_dict and the hooks after each sequence of pruning calls."""

import numpy as np
import pytest

import retrograd as rg

torch = pytest.importorskip("torch")
pytest.importorskip("torch.nn.utils.prune")  # not imported by torch.nn.utils itself


def P(L):
    return L.nn.utils.prune


CASES = {
    "l1": [lambda L, m: P(L).l1_unstructured(m[0], "weight", amount=0.3)],
    "l1_int_then_random": [
        lambda L, m: P(L).l1_unstructured(m[0], "weight", amount=10),
        lambda L, m: P(L).random_unstructured(m[0], "weight", amount=0.25),
    ],
    "random_unstructured": [lambda L, m: P(L).random_unstructured(m[1], "bias", amount=2)],
    "ln_structured": [lambda L, m: P(L).ln_structured(m[0], "weight", amount=0.5, n=2, dim=0)],
    "ln_then_l1": [
        lambda L, m: P(L).ln_structured(m[0], "weight", amount=1, n=1, dim=1),
        lambda L, m: P(L).l1_unstructured(m[0], "weight", amount=0.2),
    ],
    "l1_then_ln_inf": [
        lambda L, m: P(L).l1_unstructured(m[0], "weight", amount=0.2),
        lambda L, m: P(L).ln_structured(m[0], "weight", amount=1, n=float("inf"), dim=0),
    ],
    "random_structured": [lambda L, m: P(L).random_structured(m[0], "weight", amount=2, dim=0)],
    "global": [
        lambda L, m: P(L).global_unstructured(
            [(m[0], "weight"), (m[1], "weight")], pruning_method=P(L).L1Unstructured, amount=0.4
        )
    ],
    "custom_then_l1_then_remove": [
        lambda L, m: P(L).custom_from_mask(m[1], "bias", L.tensor([1.0, 0, 1, 0, 1])),
        lambda L, m: P(L).l1_unstructured(m[1], "bias", amount=1),
        lambda L, m: P(L).remove(m[1], "bias"),
    ],
    "identity": [lambda L, m: P(L).identity(m[0], "bias")],
    "l1_then_remove": [
        lambda L, m: P(L).l1_unstructured(m[0], "weight", amount=0.3),
        lambda L, m: P(L).remove(m[0], "weight"),
    ],
}


def _run(L, steps):
    L.manual_seed(0)
    m = L.nn.Sequential(L.nn.Conv2d(3, 4, 2), L.nn.Linear(4, 5))
    for step in steps:
        step(L, m)
    x = L.ones(1, 3, 2, 2)
    out = m[1](m[0](x).flatten(1)).detach().numpy()
    state = {k: v.detach().numpy().copy() for k, v in m.state_dict().items()}
    hooks = [type(h).__name__ for h in m[0]._forward_pre_hooks.values()]
    return state, out, P(L).is_pruned(m), hooks


@pytest.mark.parametrize("name", sorted(CASES))
def test_pruning_matches_torch(name):
    (s1, o1, p1, h1), (s2, o2, p2, h2) = (_run(L, CASES[name]) for L in (rg, torch))
    assert s1.keys() == s2.keys() and (p1, h1) == (p2, h2)
    for k in s1:
        np.testing.assert_array_equal(s1[k], s2[k], err_msg=k)
    np.testing.assert_allclose(o1, o2, rtol=1e-5, atol=1e-6)
