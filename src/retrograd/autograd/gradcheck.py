"""Gradient checks against central finite differences (PyTorch's gradcheck/gradgradcheck).

``gradcheck`` compares, for every differentiable input (floating, requires_grad), the Jacobian
computed by backward (one vector-Jacobian product per output element) with the numerical
Jacobian (f(x + eps) - f(x - eps)) / (2 eps). Use float64 inputs: in float32 the finite
differences are too noisy for the default tolerances.

With ``check_forward_ad=True`` it also compares the Jacobian computed by forward mode (one
Jacobian-vector product per input element, autograd/forward_ad.py) with the numerical one.

It fails closed, as PyTorch's does: no input requiring grad is a ValueError; when no output
requires grad, the numerical Jacobian must be zero (so a differentiable result that was detached
by mistake fails); and every flag is either honoured or refused with NotImplementedError.

With ``check_batched_grad=True`` (gradcheck only) it also computes the vector-Jacobian products
for a batch of random output gradients at once, by ``vmap(grad(...))`` (batching rules, with the
backward run on the batch), and compares them with one backward per output gradient.
"""

import warnings

import numpy as np

from ..backend import to_numpy


class GradcheckError(RuntimeError):
    """Raised by gradcheck / gradgradcheck when a check fails."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _tensor_outputs(out):
    from .._tensor import Tensor

    return tuple(o for o in _as_tuple(out) if isinstance(o, Tensor))


def _np64(t):
    return to_numpy(t._data).astype(np.float64).reshape(-1)


def _check_flags(check_forward_ad, check_backward_ad, check_batched_grad, check_batched_forward_grad):
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError("Expected at least one of check_forward_ad or check_backward_ad to be True")
    if check_batched_grad and not check_backward_ad:
        raise AssertionError("Setting check_batched_grad=True requires check_backward_ad to be True")
    if check_batched_forward_grad and not check_forward_ad:
        raise AssertionError("Setting check_batched_forward_grad=True requires check_forward_ad to be True")
    if check_batched_forward_grad:
        raise NotImplementedError(
            "gradcheck: check_batched_forward_grad=True needs batched forward "
            "gradients (vmap), which retrograd does not implement; "
            "check_forward_ad=True checks forward mode one tangent at a time"
        )


def _check_inputs(inputs, masked):
    """Indices of the inputs requiring grad; refuses sparse, masked and overlapping inputs."""
    from .._tensor import Tensor

    if masked or any(getattr(t, "is_sparse", False) for t in inputs):
        raise NotImplementedError(
            "gradcheck: sparse inputs and masked=True are not supported; pass dense "
            "inputs (to_dense()) and masked=None or False"
        )
    diff_idx = []
    for i, t in enumerate(inputs):
        if not (isinstance(t, Tensor) and t._rg):
            continue
        if t._data.dtype != np.float64:
            warnings.warn(
                f"Input #{i} requires gradient and is not a double precision floating point. "
                f"This check will likely fail if all the inputs are not of double precision "
                f"floating point.",
                stacklevel=3,
            )
        if t._data.size and any(st == 0 and n > 1 for st, n in zip(t._data.strides, t._data.shape)):
            raise RuntimeError(
                f"The {i}th input has a dimension with stride 0. gradcheck only supports inputs "
                f"that are non-overlapping to be able to compute the numerical gradients "
                f"correctly. You should call .contiguous on the input before passing it to "
                f"gradcheck."
            )
        diff_idx.append(i)
    if not diff_idx:
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, but none of them have requires_grad=True."
        )
    return diff_idx


def _eval(func, inputs, out_idx):
    """Flat float64 copies of the selected outputs (copies: an output may be a view of an input)."""
    outs = _tensor_outputs(func(*inputs))
    return [_np64(outs[k]).copy() for k in out_idx]


def _numerical_jacobian(func, inputs, i, out_idx, eps):
    """J[k]: (numel(input i), numel(output out_idx[k])) by central differences, one element at a time."""
    data = inputs[i]._data
    cols = None
    for j in range(data.size):
        pos = np.unravel_index(j, data.shape)
        orig = data[pos].item()
        data[pos] = orig + eps
        plus = _eval(func, inputs, out_idx)
        data[pos] = orig - eps
        minus = _eval(func, inputs, out_idx)
        data[pos] = orig
        if cols is None:
            cols = [np.zeros((data.size, p.size)) for p in plus]
        for col, p, m in zip(cols, plus, minus):
            col[j] = (p - m) / (2 * eps)
    if cols is None:  # an empty input: the Jacobian has no rows
        outs = _tensor_outputs(func(*inputs))
        cols = [np.zeros((0, outs[k]._data.size)) for k in out_idx]
    return cols


def _numerical_jvp(func, inputs, i, direction, out_idx, eps):
    """(f(x + eps u) - f(x - eps u)) / (2 eps) along ``direction`` u of input i, per output."""
    data = inputs[i]._data
    orig = data.copy()
    u = direction.reshape(data.shape).astype(data.dtype)
    data[...] = orig + eps * u
    plus = _eval(func, inputs, out_idx)
    data[...] = orig - eps * u
    minus = _eval(func, inputs, out_idx)
    data[...] = orig
    return [(p - m) / (2 * eps) for p, m in zip(plus, minus)]


def _vjp(out, diff_inputs, seed, check_grad_dtypes):
    """Gradients of ``out`` seeded with ``seed`` (float64 flat arrays; zeros where unused)."""
    from .. import autograd
    from .._creation import tensor

    g_out = tensor(seed.reshape(out._data.shape), dtype=out.dtype, device=out.device)
    grads = autograd.grad(out, diff_inputs, g_out, retain_graph=True, allow_unused=True)
    flat = []
    for g, x in zip(grads, diff_inputs):
        if g is None:
            flat.append(np.zeros(x._data.size))
            continue
        if check_grad_dtypes and (g.dtype != x.dtype or g.device != x.device):
            raise GradcheckError(
                f"Gradient has dtype mismatch: {g.dtype} on {g.device} for an input of {x.dtype} on {x.device}"
            )
        if g._data.shape != x._data.shape:
            raise GradcheckError(
                f"Analytical gradient has incorrect size: {list(g._data.shape)} for an "
                f"input of shape {list(x._data.shape)}"
            )
        flat.append(_np64(g))
    return flat


def _check_reentrant(outs, diff_inputs, nondet_tol, rng):
    """Backward run twice with the same grad_output must agree within ``nondet_tol``."""
    for k, out in enumerate(outs):
        seed = rng.standard_normal(out._data.size)
        first = _vjp(out, diff_inputs, seed, False)
        second = _vjp(out, diff_inputs, seed, False)
        for a, b in zip(first, second):
            if a.size and np.abs(a - b).max() > nondet_tol:
                raise GradcheckError(
                    f"Backward is not reentrant, i.e., running backward with same input and grad_output "
                    f"multiple times gives different values (output {k}: max difference "
                    f"{np.abs(a - b).max():.3g}). The tolerance for nondeterminism was {nondet_tol}."
                )


def _slow_check(func, inputs, diff_idx, outs, out_idx, eps, atol, rtol, check_grad_dtypes):
    diff_inputs = [inputs[i] for i in diff_idx]
    analytical = []  # analytical[k][col]: (numel(input), numel(output k))
    for out in outs:
        cols = [np.zeros((x._data.size, out._data.size)) for x in diff_inputs]
        for j in range(out._data.size):
            seed = np.zeros(out._data.size)
            seed[j] = 1
            for col, g in zip(cols, _vjp(out, diff_inputs, seed, check_grad_dtypes)):
                col[:, j] = g
        analytical.append(cols)
    for col, i in enumerate(diff_idx):
        numerical = _numerical_jacobian(func, inputs, i, out_idx, eps)
        for k, n in enumerate(numerical):
            a = analytical[k][col]
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                raise GradcheckError(
                    f"Jacobian mismatch for output {k} with respect to input {i},\nnumerical:{n}\nanalytical:{a}\n"
                )


def _fast_check(func, inputs, diff_idx, outs, out_idx, eps, atol, rtol, check_grad_dtypes, rng):
    """Compares v^T J u (random u, v) instead of whole Jacobians, as PyTorch's fast_mode."""
    diff_inputs = [inputs[i] for i in diff_idx]
    us = [_unit(rng, x._data.size) for x in diff_inputs]
    vs = [_unit(rng, o._data.size) for o in outs]
    vjps = [_vjp(out, diff_inputs, v, check_grad_dtypes) for out, v in zip(outs, vs)]
    for col, (i, u) in enumerate(zip(diff_idx, us)):
        jvps = _numerical_jvp(func, inputs, i, u, out_idx, eps)
        for k, (v, jvp) in enumerate(zip(vs, jvps)):
            n, a = float(v @ jvp), float(vjps[k][col] @ u)
            # elementwise |a - n| <= atol + rtol |n| becomes, after u and v, atol scaled by sum(u) sum(v)
            if not np.isclose(a, n, rtol=rtol, atol=atol * u.sum() * v.sum()):
                raise GradcheckError(
                    f"Jacobian mismatch for output {k} with respect to input {i} (fast_mode: "
                    f"v^T J u numerical {n!r}, analytical {a!r}); run with fast_mode=False "
                    f"to see the whole Jacobians"
                )


def _forward_jvp(func, inputs, i, direction, out_idx):
    """The tangents of the selected outputs (flat float64) by forward mode, with tangent
    ``direction`` on input i and none elsewhere; zeros for an output without tangent."""
    from . import forward_ad as fwAD
    from .._creation import tensor

    x = inputs[i]
    t = tensor(direction.reshape(x._data.shape), dtype=x.dtype, device=x.device)
    with fwAD.dual_level():
        args = list(inputs)
        args[i] = fwAD.make_dual(x, t)
        outs = _tensor_outputs(func(*args))
        result = []
        for k in out_idx:
            tan = fwAD.unpack_dual(outs[k]).tangent
            result.append(np.zeros(outs[k]._data.size) if tan is None else _np64(tan).copy())
    return result


def _forward_check(func, inputs, diff_idx, out_idx, eps, atol, rtol, fast_mode, rng):
    """Forward-mode Jacobian (or ``v^T J u`` with ``fast_mode``) against finite differences."""
    for i in diff_idx:
        size = inputs[i]._data.size
        if fast_mode:
            u = _unit(rng, size)
            analytical = _forward_jvp(func, inputs, i, u, out_idx)
            numerical = _numerical_jvp(func, inputs, i, u, out_idx, eps)
            for k, (a, n) in enumerate(zip(analytical, numerical)):
                v = _unit(rng, a.size)
                if not np.isclose(float(v @ a), float(v @ n), rtol=rtol, atol=atol * u.sum() * v.sum()):
                    raise GradcheckError(
                        f"Jacobian computed with forward mode mismatch for output {k} with "
                        f"respect to input {i} (fast_mode: v^T J u numerical {float(v @ n)!r}, "
                        f"analytical {float(v @ a)!r})"
                    )
            continue
        numerical = _numerical_jacobian(func, inputs, i, out_idx, eps)
        analytical = [np.zeros_like(n) for n in numerical]
        for j in range(size):
            for cols, col in zip(analytical, _forward_jvp(func, inputs, i, np.eye(1, size, j)[0], out_idx)):
                cols[j] = col
        for k, (a, n) in enumerate(zip(analytical, numerical)):
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                raise GradcheckError(
                    f"Jacobian computed with forward mode mismatch for output {k} with "
                    f"respect to input {i},\nnumerical:{n}\nanalytical:{a}\n"
                )


def _unit(rng, n):
    u = rng.uniform(0, 1, n)
    norm = np.linalg.norm(u)
    return u / norm if norm else u


def _check_no_differentiable_outputs(func, inputs, diff_idx, n_out, eps, fast_mode, rng):
    """With no output requiring grad, the outputs must not change with the inputs."""
    for i in diff_idx:
        if fast_mode:
            changes = _numerical_jvp(func, inputs, i, _unit(rng, inputs[i]._data.size), range(n_out), eps)
        else:
            changes = _numerical_jacobian(func, inputs, i, range(n_out), eps)
        for k, d in enumerate(changes):
            if d.size and np.abs(d).max() > 0:
                raise GradcheckError(
                    f"Numerical gradient for function expected to be zero: no output requires grad, yet "
                    f"output {k} changes with input {i} (max |numerical gradient| {np.abs(d).max():.3g}); "
                    f"is the result detached?"
                )


def _check_zero_grad_outputs(outs, diff_inputs):
    """Backward of zero grad_outputs gives None or zeros of each input's dtype and shape."""
    from .. import autograd
    from .._creation import zeros_like

    grads = autograd.grad(outs, diff_inputs, [zeros_like(o) for o in outs], retain_graph=True, allow_unused=True)
    for g, x in zip(grads, diff_inputs):
        if g is None:
            continue
        if np.any(to_numpy(g._data) != 0):
            raise GradcheckError("backward not multiplied by grad_output")
        if g.dtype != x.dtype:
            raise GradcheckError(f"grad is incorrect type: {g.dtype} for an input of {x.dtype}")
        if g.device != x.device:
            raise GradcheckError(f"grad is incorrect device: {g.device} for an input on {x.device}")
        if g._data.shape != x._data.shape:
            raise GradcheckError(f"grad is incorrect size: {list(g._data.shape)} for an input of {list(x._data.shape)}")


def _undefined(t):
    """An identity whose backward returns None: what follows it gets an undefined gradient."""
    from .function import Function

    class UndefinedGrad(Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            return None

    return UndefinedGrad.apply(t)


def _check_undefined_grad(func, inputs, diff_inputs):
    """Backward must accept undefined (None) output gradients, all at once and, with several
    outputs, one at a time; with all undefined, the input gradients are None or zero."""
    from .. import autograd
    from .._creation import ones_like

    def run(k):  # k: the output whose gradient is undefined; None: all of them
        outs = [o for o in _tensor_outputs(func(*inputs)) if o._rg]
        outs = [_undefined(o) if k is None or j == k else o for j, o in enumerate(outs)]
        try:
            return autograd.grad(outs, diff_inputs, [ones_like(o) for o in outs], allow_unused=True)
        except Exception as e:
            raise GradcheckError(
                f"Expected backward function to handle undefined output grads (undefined: "
                f"{'all outputs' if k is None else f'output {k}'}); it raised "
                f"{type(e).__name__}: {e}"
            ) from e

    for g in run(None):
        if g is not None and np.any(to_numpy(g._data) != 0):
            raise GradcheckError(
                "Expected all input grads to be undefined or zero when all output grads are undefined or zero"
            )
    n_outs = sum(1 for o in _tensor_outputs(func(*inputs)) if o._rg)
    if n_outs > 1:
        for k in range(n_outs):
            run(k)


def gradcheck(
    func,
    inputs,
    *,
    eps=1e-6,
    atol=1e-5,
    rtol=1e-3,
    raise_exception=True,
    nondet_tol=0.0,
    check_undefined_grad=True,
    check_grad_dtypes=False,
    check_batched_grad=False,
    check_batched_forward_grad=False,
    check_forward_ad=False,
    check_backward_ad=True,
    fast_mode=False,
    masked=None,
):
    """True when the analytical and numerical Jacobians of ``func`` at ``inputs`` agree.

    Besides the Jacobians (all of them, or ``v^T J u`` for random u, v with ``fast_mode``):
    backward must be reentrant within ``nondet_tol``; zero grad_outputs must give zero gradients
    of each input's dtype and shape; with ``check_grad_dtypes`` each gradient's dtype and device
    must be its input's; with ``check_undefined_grad`` backward must accept undefined (None)
    output gradients. A failed check raises GradcheckError, or returns False when
    ``raise_exception`` is False. Bad arguments raise whatever ``raise_exception`` says.
    """
    _check_flags(check_forward_ad, check_backward_ad, check_batched_grad, check_batched_forward_grad)
    try:
        ok = _gradcheck(
            func,
            _as_tuple(inputs),
            eps,
            atol,
            rtol,
            nondet_tol,
            check_undefined_grad,
            check_grad_dtypes,
            fast_mode,
            masked,
            check_forward_ad,
            check_backward_ad,
        )
        if check_batched_grad:
            _check_batched_grad(func, _as_tuple(inputs), atol, rtol)
        return ok
    except GradcheckError:
        if raise_exception:
            raise
        return False


def _gradcheck(
    func,
    inputs,
    eps,
    atol,
    rtol,
    nondet_tol,
    check_undefined_grad,
    check_grad_dtypes,
    fast_mode,
    masked,
    check_forward_ad=False,
    check_backward_ad=True,
):
    diff_idx = _check_inputs(inputs, masked)
    all_outs = _tensor_outputs(func(*inputs))
    if not all_outs:
        raise ValueError("gradcheck: func returned no Tensor, so there is nothing to check")
    if any(getattr(o, "is_sparse", False) for o in all_outs):
        raise ValueError(
            "Sparse output is not supported at gradcheck yet. Please call to_dense() on the output of fn for gradcheck."
        )
    rng = np.random.default_rng(0)
    out_idx = [k for k, o in enumerate(all_outs) if o._rg]
    if not out_idx:
        _check_no_differentiable_outputs(func, inputs, diff_idx, len(all_outs), eps, fast_mode, rng)
        return True
    if check_forward_ad:
        _forward_check(func, inputs, diff_idx, out_idx, eps, atol, rtol, fast_mode, rng)
    if not check_backward_ad:
        return True
    outs = [all_outs[k] for k in out_idx]
    diff_inputs = [inputs[i] for i in diff_idx]
    if fast_mode:
        _fast_check(func, inputs, diff_idx, outs, out_idx, eps, atol, rtol, check_grad_dtypes, rng)
    else:
        _slow_check(func, inputs, diff_idx, outs, out_idx, eps, atol, rtol, check_grad_dtypes)
    _check_reentrant(outs, diff_inputs, nondet_tol, rng)
    _check_zero_grad_outputs(outs, diff_inputs)
    if check_undefined_grad:
        _check_undefined_grad(func, inputs, diff_inputs)
    return True


def _check_batched_grad(func, inputs, atol, rtol, size=3):
    """For each differentiable output: the vjps of ``size`` random output gradients V[b], by
    ``vmap(grad(x -> <f(x), v>))`` over V, against one ``autograd.grad`` per V[b]."""
    from .. import autograd
    from .._tensor import Tensor
    from ..func import grad, vmap

    diff_idx = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t._rg]
    outs = _tensor_outputs(func(*inputs))
    rng = np.random.default_rng(1)
    for k, out in enumerate(outs):
        if not out._rg:
            continue
        vs = Tensor._make(rng.uniform(-1, 1, (size,) + out._data.shape).astype(out._data.dtype), None, False)

        def inner(*args, k=k):
            *diff, v = args
            full = list(inputs)
            for i, x in zip(diff_idx, diff):
                full[i] = x
            return (_tensor_outputs(func(*full))[k] * v).sum()

        n = len(diff_idx)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ops without a batching rule warn once
            batched = vmap(grad(inner, argnums=tuple(range(n))), in_dims=(None,) * n + (0,))(
                *[inputs[i] for i in diff_idx], vs
            )
        for b in range(size):
            expected = autograd.grad(out, [inputs[i] for i in diff_idx], vs[b], retain_graph=True, allow_unused=True)
            for j, (g, e) in enumerate(zip(batched, expected)):
                want = np.zeros(inputs[diff_idx[j]].shape) if e is None else to_numpy(e._data)
                got = to_numpy(g._data)[b]
                if not np.allclose(got, want, rtol=rtol, atol=atol):
                    raise GradcheckError(
                        f"Batched grad computed by vmap differs from a loop of backward for "
                        f"output {k} and input {diff_idx[j]} (grad_output {b} of {size}):\n"
                        f"vmap:\n{got}\nloop:\n{want}"
                    )


def _random_grad_output(rng, out, noncontiguous):
    """A leaf requiring grad, uniform in [-1, 1), of ``out``'s shape, dtype (float64 if not floating) and device."""
    from .._tensor import Tensor

    dtype = out._data.dtype if out._data.dtype.kind in "fV" else np.float64
    shape = out._data.shape
    if noncontiguous and out._data.size > 1:
        # every other element of a twice-as-long last axis: a strided view, as PyTorch's make_tensor
        data = Tensor._make(rng.uniform(-1, 1, shape + (2,)).astype(dtype), None, False).to(out.device)
        return Tensor._make(data._data[..., 0], None, True)
    data = rng.uniform(-1, 1, shape).astype(dtype)
    return Tensor._make(data, None, False).to(out.device).requires_grad_(True)


def gradgradcheck(
    func,
    inputs,
    grad_outputs=None,
    *,
    eps=1e-6,
    atol=1e-5,
    rtol=1e-3,
    gen_non_contig_grad_outputs=False,
    raise_exception=True,
    nondet_tol=0.0,
    check_undefined_grad=True,
    check_grad_dtypes=False,
    check_batched_grad=False,
    check_fwd_over_rev=False,
    check_rev_over_rev=True,
    fast_mode=False,
    masked=False,
):
    """gradcheck of the gradient: checks second derivatives via double backward
    (``check_rev_over_rev``) and, with ``check_fwd_over_rev``, via forward mode over backward.

    The checked function maps (inputs, grad_outputs) to the first derivatives; ``grad_outputs``
    default to random tensors (strided views with ``gen_non_contig_grad_outputs``). Raises
    ValueError when there is nothing to check: no input requires grad, no output of ``func``
    requires grad, or the first derivative is None for every input. Other flags as gradcheck.
    """
    from .. import autograd
    from .._tensor import Tensor

    if not (check_fwd_over_rev or check_rev_over_rev):
        raise AssertionError("Expected at least one of check_fwd_over_rev or check_rev_over_rev to be True")
    if check_undefined_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_undefined_grad=True requires check_rev_over_rev to be True")
    if check_batched_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_batched_grad=True requires check_rev_over_rev to be True")
    if check_batched_grad:
        raise NotImplementedError(
            "gradgradcheck: check_batched_grad=True is not implemented (batched "
            "second derivatives); gradcheck(check_batched_grad=True) checks batched "
            "first derivatives"
        )
    inputs = _as_tuple(inputs)
    diff_idx = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t._rg]
    if not diff_idx:
        raise ValueError(
            "gradgradcheck expects at least one input tensor to require gradient, but none "
            "of them have requires_grad=True."
        )
    outs = [o for o in _tensor_outputs(func(*inputs)) if o._rg]
    if not outs:
        raise ValueError(
            "gradgradcheck: no output of func requires grad, so there is no first derivative "
            "to check; is the result detached?"
        )
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(_random_grad_output(rng, o, gen_non_contig_grad_outputs) for o in outs)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)

    def first_grads(*args):
        ins, gos = args[:n_in], args[n_in:]
        outs_ = [o for o in _tensor_outputs(func(*ins)) if o._rg]
        grads = autograd.grad(outs_, [ins[i] for i in diff_idx], gos, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    if not first_grads(*inputs, *grad_outputs):
        raise ValueError(
            "gradgradcheck: the first derivative of func is None for every input (no input "
            "reaches an output through backward), so there is nothing to check"
        )
    return gradcheck(
        first_grads,
        inputs + tuple(grad_outputs),
        eps=eps,
        atol=atol,
        rtol=rtol,
        raise_exception=raise_exception,
        nondet_tol=nondet_tol,
        check_undefined_grad=check_undefined_grad,
        check_grad_dtypes=check_grad_dtypes,
        fast_mode=fast_mode,
        masked=masked,
        check_forward_ad=check_fwd_over_rev,
        check_backward_ad=check_rev_over_rev,
    )
