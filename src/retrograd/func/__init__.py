"""Function transforms, as ``torch.func``: gradients, Jacobians and Hessians of functions, and
modules called as functions of their parameters."""

from ._transforms import grad, grad_and_value, vjp, jvp, linearize, jacrev, jacfwd, hessian
from ._functional_call import functional_call, stack_module_state
from ._vmap import vmap

__all__ = [
    "grad",
    "grad_and_value",
    "vjp",
    "jvp",
    "linearize",
    "jacrev",
    "jacfwd",
    "hessian",
    "functional_call",
    "stack_module_state",
    "vmap",
]
