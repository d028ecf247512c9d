"""Gradient checks against central finite differences (PyTorch's gradcheck/gradgradcheck).

``gradcheck`` compares, for every differentiable input (floating, requires_grad), the Jacobian
computed by backward (one vector-Jacobian product per output element) with the numerical
Jacobian (f(x + eps) - f(x - eps)) / (2 eps). Use float64 inputs: in float32 the finite
differences are too noisy for the default tolerances.
"""
import warnings

import numpy as np

from ..backend import to_numpy


class GradcheckError(RuntimeError):
    """Raised by gradcheck / gradgradcheck when the Jacobians disagree."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _outputs(func, inputs):
    from .._tensor import Tensor
    out = func(*inputs)
    outs = _as_tuple(out)
    return tuple(o for o in outs if isinstance(o, Tensor))


def _numerical_jacobians(func, inputs, diff_idx, eps):
    """J[k][i]: (numel(input i), numel(output k)) numerical Jacobian, by central differences."""
    if True:
        outs = _outputs(func, inputs)
        jac = [[np.zeros((inputs[i]._data.size, o._data.size)) for i in diff_idx] for o in outs]
        for col, i in enumerate(diff_idx):
            data = inputs[i]._data
            flat = data.reshape(-1) if data.flags.c_contiguous else None
            if flat is None:
                raise ValueError("gradcheck needs contiguous inputs")
            for j in range(flat.size):
                orig = flat[j].item()
                flat[j] = orig + eps
                plus = [to_numpy(o._data).astype(np.float64).reshape(-1) for o in _outputs(func, inputs)]
                flat[j] = orig - eps
                minus = [to_numpy(o._data).astype(np.float64).reshape(-1) for o in _outputs(func, inputs)]
                flat[j] = orig
                for k in range(len(outs)):
                    jac[k][col][j] = (plus[k] - minus[k]) / (2 * eps)
    return outs, jac


def _analytical_jacobians(func, inputs, diff_idx):
    from .. import autograd
    from .._creation import zeros_like
    outs = _outputs(func, inputs)
    diff_inputs = [inputs[i] for i in diff_idx]
    jac = [[np.zeros((inputs[i]._data.size, o._data.size)) for i in diff_idx] for o in outs]
    for k, out in enumerate(outs):
        if not out._rg:
            continue
        flat_n = out._data.size
        for j in range(flat_n):
            seed = zeros_like(out)
            seed._data.reshape(-1)[j] = 1
            grads = autograd.grad(out, diff_inputs, seed, retain_graph=True, allow_unused=True)
            for col, g in enumerate(grads):
                if g is not None:
                    jac[k][col][:, j] = to_numpy(g._data).astype(np.float64).reshape(-1)
    return outs, jac


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True,
              fast_mode=False, masked=None):
    """True when analytical and numerical Jacobians of ``func`` at ``inputs`` agree."""
    from .._tensor import Tensor
    inputs = _as_tuple(inputs)
    diff_idx = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t._rg]
    if not diff_idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none "
                         "of the them have requires_grad=True.")
    for i in diff_idx:
        if inputs[i]._data.dtype != np.float64:
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point. "
                          f"This check will likely fail if all the inputs are not of double precision "
                          f"floating point.")
    _, analytical = _analytical_jacobians(func, inputs, diff_idx)
    outs, numerical = _numerical_jacobians(func, inputs, diff_idx, eps)
    for k in range(len(outs)):
        for col, i in enumerate(diff_idx):
            a, n = analytical[k][col], numerical[k][col]
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                msg = (f"Jacobian mismatch for output {k} with respect to input {i},\n"
                       f"numerical:{n}\nanalytical:{a}\n")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False, masked=False):
    """gradcheck of the gradient: checks second derivatives via double backward."""
    from .. import autograd
    from .._tensor import Tensor
    inputs = _as_tuple(inputs)
    diff_idx = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t._rg]
    outs = _outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(Tensor._make(rng.standard_normal(o._data.shape).astype(o._data.dtype), None, False)
                             .to(o.device).requires_grad_(True) for o in outs if o._rg)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)

    def first_grads(*args):
        ins, gos = args[:n_in], args[n_in:]
        outs_ = [o for o in _outputs(func, ins) if o._rg]
        grads = autograd.grad(outs_, [ins[i] for i in diff_idx], gos, create_graph=True,
                              allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_grads, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
