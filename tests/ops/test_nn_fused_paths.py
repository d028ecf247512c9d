"""The fused nn ops compute their first-order backward on arrays, and the same formula in
differentiable ops when a graph of the backward is wanted (create_graph). Both must agree."""

import numpy as np
import pytest

import retrograd as rg

from . import table_activation, table_layers, table_loss

SPECS = [s for m in (table_activation, table_layers, table_loss) for s in m.build(rg) if "gradcheck" not in s.skip]


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_first_order_gradient_same_with_and_without_create_graph(spec):
    rng = np.random.default_rng(5)
    arrays = next(spec.samples(rng))
    inputs = [rg.tensor(a, requires_grad=True) for a in arrays]
    out = spec.fn(*inputs)
    if not out.requires_grad:
        pytest.skip("no differentiable output")
    seed = rg.tensor(rng.standard_normal(out.shape))
    fast = rg.autograd.grad(out, inputs, seed, retain_graph=True, allow_unused=True)
    graph = rg.autograd.grad(out, inputs, seed, create_graph=True, allow_unused=True)
    for a, b in zip(fast, graph):
        assert (a is None) == (b is None)
        if a is not None:
            assert not a.requires_grad
            np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)
