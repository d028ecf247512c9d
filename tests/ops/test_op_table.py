"""Every op in the table: forward against NumPy, what backward does (``OpSpec.grad``), gradcheck,
gradgradcheck, result dtype, no_grad. Nothing passes by checking nothing: every sample is run,
and a spec whose result is detached, or whose gradients are all zero, fails."""

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import gradcheck, gradgradcheck

from .optable import all_specs

TABLE = all_specs(rg)
IDS = [s.name for s in TABLE]


def _inputs(arrays, requires_grad=True):
    return [rg.tensor(a, requires_grad=requires_grad) for a in arrays]


def check_grad_kind(spec):
    """Asserts ``spec.grad`` for every sample: node recorded or not; gradients of the inputs'
    shapes, non-zero somewhere, all zero, or backward raising."""
    rng = np.random.default_rng(5)
    nonzero = False
    for arrays in spec.samples(rng):
        inputs = _inputs(arrays)
        out = spec.fn(*inputs)
        if spec.grad == "none":
            assert not out.requires_grad and out.grad_fn is None, f"{spec.name}: result requires grad"
            continue
        assert out.requires_grad and out.grad_fn is not None, (
            f"{spec.name}: result records no node (requires_grad={out.requires_grad}); is it detached?"
        )
        seed = rg.tensor(rng.standard_normal(out.shape))
        if spec.grad == "raises":
            with pytest.raises((RuntimeError, NotImplementedError)):
                rg.autograd.grad(out, inputs, seed, allow_unused=True)
            continue
        grads = rg.autograd.grad(out, inputs, seed, allow_unused=True)
        for g, x in zip(grads, inputs):  # an empty input gets an empty gradient of its shape
            assert g is None or g.shape == x.shape, f"{spec.name}: gradient {g.shape} for input {x.shape}"
        nonzero |= any(g is not None and bool((g != 0).any()) for g in grads)
    if spec.grad == "nonzero":
        assert nonzero, f"{spec.name}: every gradient is zero or None in every sample"
    elif spec.grad == "zero":
        assert not nonzero, f"{spec.name}: declared grad='zero' but a gradient is non-zero"


@pytest.mark.parametrize("spec", TABLE, ids=IDS)
def test_forward_matches_numpy(spec):
    rng = np.random.default_rng(1)
    for arrays in spec.samples(rng):
        out = spec.fn(*_inputs(arrays, False))
        expected = spec.ref(*arrays)
        np.testing.assert_allclose(out.numpy(), expected, rtol=spec.rtol, atol=spec.atol)
        assert out.shape == np.shape(expected)


@pytest.mark.parametrize("spec", TABLE, ids=IDS)
def test_backward_records_node_and_gradient(spec):
    check_grad_kind(spec)


@pytest.mark.parametrize("spec", TABLE, ids=IDS)
def test_gradcheck(spec):
    if "gradcheck" in spec.skip:
        pytest.skip(spec.skip["gradcheck"])
    rng = np.random.default_rng(2)
    for arrays in spec.samples(rng):
        assert gradcheck(spec.fn, _inputs(arrays))


@pytest.mark.parametrize("spec", TABLE, ids=IDS)
def test_gradgradcheck(spec):
    if "gradgradcheck" in spec.skip:
        pytest.skip(spec.skip["gradgradcheck"])
    rng = np.random.default_rng(3)
    for arrays in spec.samples(rng):
        inputs = _inputs(arrays)
        if spec.grad == "none":
            with pytest.raises(ValueError, match="no output of func requires grad"):
                gradgradcheck(spec.fn, inputs)
        else:
            assert gradgradcheck(spec.fn, inputs)


@pytest.mark.parametrize("spec", TABLE, ids=IDS)
def test_float32_result_dtype_and_no_grad(spec):
    if "dtype" in spec.skip:
        pytest.skip(spec.skip["dtype"])
    rng = np.random.default_rng(4)
    arrays = next(spec.samples(rng, np.float32))
    inputs = _inputs(arrays)
    out = spec.fn(*inputs)
    assert out.dtype == rg.float32
    with rg.no_grad():
        out = spec.fn(*inputs)
    assert out.grad_fn is None and not out.requires_grad


def check_forward_ad(spec):
    """Forward mode against reverse mode, for every sample: with random tangents ``t`` (on every
    input, then on the first input only) and a random cotangent ``u``, the tangent ``J t`` of
    the output satisfies ``<u, J t> == <J^T u, t>``, the right side from backward (itself
    gradchecked). A result without a tangent is a zero tangent, refused when every input has a
    tangent unless the spec declares grad="zero"."""
    from retrograd.autograd import forward_ad as fwAD

    rng = np.random.default_rng(6)
    for k, arrays in enumerate(spec.samples(rng)):
        # every input dual, then (first sample only) just the first: rules must handle None tangents
        for dual_inputs in (len(arrays), 1) if k == 0 and len(arrays) > 1 else (len(arrays),):
            inputs = _inputs(arrays)
            tangents = [rg.tensor(rng.standard_normal(a.shape)) for a in arrays[:dual_inputs]]
            with fwAD.dual_level():
                duals = [fwAD.make_dual(x, t) for x, t in zip(inputs, tangents)] + inputs[dual_inputs:]
                out = spec.fn(*duals)
                primal, jt = fwAD.unpack_dual(out)
            if spec.grad == "none":
                assert jt is None, f"{spec.name}: a non-differentiable result has a tangent"
                continue
            if jt is None:  # a zero tangent: right only where the result does not depend on them
                assert spec.grad == "zero" or dual_inputs < len(arrays) or primal.numel() == 0, (
                    f"{spec.name}: the result has no tangent"
                )
                jt = rg.zeros_like(primal)
            assert jt.shape == primal.shape and jt.dtype == primal.dtype, (
                f"{spec.name}: tangent {jt.shape} {jt.dtype} for a result {primal.shape} {primal.dtype}"
            )
            u = rg.tensor(rng.standard_normal(primal.shape))
            grads = rg.autograd.grad(out, inputs[:dual_inputs], u, allow_unused=True)
            reverse = sum(float((g * t).sum()) for g, t in zip(grads, tangents) if g is not None)
            forward = float((u * jt).sum())
            scale = 1.0 + float(u.abs().sum()) * (1.0 + float(jt.abs().max()) if jt.numel() else 1.0)
            assert abs(forward - reverse) <= 1e-7 * scale, (
                f"{spec.name}: <u, J t> = {forward} by forward mode, {reverse} by reverse mode"
            )


@pytest.mark.parametrize("spec", TABLE, ids=IDS)
def test_forward_ad_matches_reverse(spec):
    if "forward_ad" in spec.skip:
        pytest.skip(spec.skip["forward_ad"])
    if spec.grad == "raises":
        pytest.skip("no derivative exists (backward raises)")
    check_forward_ad(spec)


def check_forward_over_reverse(spec):
    """Forward mode through each op's backward (what jacfwd(jacrev(f)) and jvp(grad(f)) run), on
    the first sample: the tangent of ``J^T u`` along ``t`` against reverse over reverse,
    compared through a random ``w``: ``<w, d(J^T u) t>`` both ways."""
    from retrograd.autograd import forward_ad as fwAD

    rng = np.random.default_rng(7)
    arrays = next(spec.samples(rng))
    inputs = _inputs(arrays)
    tangents = [rg.tensor(rng.standard_normal(a.shape)) for a in arrays]
    ws = [rg.tensor(rng.standard_normal(a.shape)) for a in arrays]
    u = rg.tensor(rng.standard_normal(spec.fn(*inputs).shape))
    with fwAD.dual_level():
        duals = [fwAD.make_dual(x, t) for x, t in zip(inputs, tangents)]
        grads = rg.autograd.grad(spec.fn(*duals), duals, u, allow_unused=True, create_graph=True)
        forward = sum(
            float((w * fwAD.unpack_dual(g).tangent).sum())
            for w, g in zip(ws, grads)
            if g is not None and fwAD.unpack_dual(g).tangent is not None
        )
    grads = rg.autograd.grad(spec.fn(*inputs), inputs, u, allow_unused=True, create_graph=True)
    inner = sum((w * g).sum() for w, g in zip(ws, grads) if g is not None and g.requires_grad)
    reverse = 0.0
    if isinstance(inner, rg.Tensor):
        seconds = rg.autograd.grad(inner, inputs, allow_unused=True)
        reverse = sum(float((s * t).sum()) for s, t in zip(seconds, tangents) if s is not None)
    scale = 1.0 + abs(forward) + abs(reverse)
    assert abs(forward - reverse) <= 1e-7 * scale, (
        f"{spec.name}: second derivative {forward} by forward over reverse, {reverse} by reverse over reverse"
    )


@pytest.mark.parametrize("spec", TABLE, ids=IDS)
def test_forward_over_reverse_matches_reverse_over_reverse(spec):
    for check in ("gradgradcheck", "forward_ad"):
        if check in spec.skip:
            pytest.skip(spec.skip[check])
    if spec.grad in ("raises", "none"):
        pytest.skip("no derivative exists" if spec.grad == "raises" else "not differentiable")
    check_forward_over_reverse(spec)


def check_vmap(spec):
    """The op's batching rule (vmap) against a loop over a batch of 3 examples of its first
    sample: every input batched (the first along dim 0, the others along their last dim), then,
    with several inputs, only the first batched (the others shared by the batch)."""
    import warnings
    from retrograd.func import vmap

    examples = [[rg.tensor(a) for a in next(spec.samples(np.random.default_rng(8 + i)))] for i in range(3)]
    shapes = [tuple(x.shape) for x in examples[0]]
    variants = [[0] + [-1] * (len(shapes) - 1)]
    if len(shapes) > 1:
        variants.append([0] + [None] * (len(shapes) - 1))
    for dims in variants:
        if any(d == -1 and not s for d, s in zip(dims, shapes)):
            dims = [0 if d == -1 and not s else d for d, s in zip(dims, shapes)]
        inputs, per_example = [], [[] for _ in examples]
        for k, d in enumerate(dims):
            if d is None:
                inputs.append(examples[0][k])
                for row in per_example:
                    row.append(examples[0][k])
            else:
                inputs.append(rg.stack([e[k] for e in examples], d))
                for row, e in zip(per_example, examples):
                    row.append(e[k])
        with warnings.catch_warnings():  # the op's own warnings were checked elsewhere
            warnings.simplefilter("ignore")
            expected = rg.stack([spec.fn(*row) for row in per_example]).numpy()
            out = vmap(spec.fn, in_dims=tuple(dims))(*inputs)
        assert out.shape == expected.shape, f"{spec.name}: vmap gives {out.shape}, a loop {expected.shape}"
        np.testing.assert_allclose(
            out.numpy(),
            expected,
            rtol=1e-7,
            atol=1e-9 * (1 + np.abs(expected).max(initial=0)),
            err_msg=f"{spec.name}: vmap with in_dims={dims} against a loop",
        )


@pytest.mark.parametrize("spec", TABLE, ids=IDS)
def test_vmap_matches_loop(spec):
    if "vmap" in spec.skip:
        pytest.skip(spec.skip["vmap"])
    check_vmap(spec)
