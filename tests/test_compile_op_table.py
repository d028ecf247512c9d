"""Every op of the op table under ``retrograd.compile``: called on new values at each call, a
compiled function gives eager mode's outputs and input gradients bit for bit, whether it replays
or runs eagerly (with a reason). Most of the table replays; a change that makes the captures fail
closed everywhere would leave the first check vacuous, so the share that replays is checked too."""

import warnings

import numpy as np
import pytest

import retrograd as rg

from .ops.optable import all_specs

TABLE = all_specs(rg)
CALLS = 3
_replayed: dict[str, bool] = {}


def _inputs(arrays, spec):
    floating = spec.grad != "none"
    return [rg.tensor(a, requires_grad=floating and np.issubdtype(np.asarray(a).dtype, np.floating)) for a in arrays]


def _run(fn, spec, arrays):
    """(output array, input gradients) of ``fn`` on fresh tensors of ``arrays``."""
    xs = _inputs(arrays, spec)
    out = fn(*xs)
    grads = None
    wrt = [x for x in xs if x.requires_grad]
    if out.requires_grad and out.is_floating_point() and wrt:
        try:
            grads = rg.autograd.grad(out, wrt, rg.ones_like(out), allow_unused=True)
        except (RuntimeError, NotImplementedError) as e:  # a backward that raises in eager mode too
            grads = type(e)
    return out.detach().numpy().copy(), grads


def _same(a, b):
    if isinstance(a, type) or isinstance(b, type):
        return a is b
    if a is None or b is None:
        return a is b
    return all(
        (x is None and y is None) or (x is not None and y is not None and np.array_equal(x.numpy(), y.numpy(), True))
        for x, y in zip(a, b)
    )


@pytest.mark.parametrize("spec", TABLE, ids=[s.name for s in TABLE])
def test_compiled_op_matches_eager_on_new_values(spec):
    samples = [next(iter(spec.samples(np.random.default_rng(seed))), None) for seed in range(CALLS)]
    if samples[0] is None:
        pytest.skip("no sample")
    compiled = rg.compile(lambda *xs: spec.fn(*xs))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "runs eagerly" warnings: the reason is checked below
        for arrays in samples:
            want, want_g = _run(spec.fn, spec, arrays)
            got, got_g = _run(compiled, spec, arrays)
            assert got.dtype == want.dtype and np.array_equal(got, want, equal_nan=True), spec.name
            assert _same(got_g, want_g), f"{spec.name}: gradients differ"
    captures = compiled.cache
    assert captures, spec.name
    _replayed[spec.name] = any(c.eager is None for c in captures)
    for c in captures:
        assert c.eager is None or c.eager, "a capture that runs eagerly says why"


def test_most_of_the_table_replays():
    if len(_replayed) < len(TABLE) // 2:
        pytest.skip("run with the table's tests")
    share = sum(_replayed.values()) / len(_replayed)
    assert share > 0.8, f"only {share:.0%} of the op table replays under compile"
