"""Ready-made parametrizations (``torch.nn.utils.parametrizations``): weight_norm, spectral_norm,
orthogonal. Each registers a module with ``parametrize.register_parametrization``, so the state
dict keys are PyTorch's (``parametrizations.weight.original0``/``original1`` for weight_norm,
``parametrizations.weight.original`` plus ``parametrizations.weight.0._u``/``_v`` for
spectral_norm)."""

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ...ops import decomposition as _dec
from ...ops import normalization as _norm
from .. import functional as F
from ..modules.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from ..modules.module import Module
from . import parametrize

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


# --------------------------------------------------------------------------- weight norm
class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return _norm.weight_norm_apply(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return _norm.norm_except_dim(weight, 2, self.dim), weight


def _weight_norm_compat_hook(module, name):
    """Load state dicts written with the older hook-based ``weight_norm`` (``weight_g``/``weight_v``)."""

    def hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    return hook


def weight_norm(module, name="weight", dim=0):
    """Reparametrize ``module.<name>`` as ``g * v / ||v||``, the norm over every dim but ``dim``
    (``dim=None``: over the whole tensor). ``g`` is ``original0``, ``v`` is ``original1``."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    module._register_load_state_dict_pre_hook(_weight_norm_compat_hook(module, name))
    return module


# --------------------------------------------------------------------------- spectral norm
class _SpectralNorm(Module):
    """``W / sigma(W)``, sigma estimated by power iteration on the matrix of ``W`` with ``dim``
    first; the iteration vectors ``_u``, ``_v`` are buffers, advanced in training mode only."""

    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.dim()
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError(
                f"Expected n_power_iterations to be positive, but got n_power_iterations={n_power_iterations}"
            )
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            matrix = self._reshape_weight_to_matrix(weight)
            h, w = matrix.shape
            u = matrix.new_empty(h).normal_(0, 1)
            v = matrix.new_empty(w).normal_(0, 1)
            self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            self._power_method(matrix, 15)

    def _reshape_weight_to_matrix(self, weight):
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.dim()) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, matrix, n_power_iterations):
        with no_grad():
            for _ in range(n_power_iterations):
                self._u.copy_(F.normalize(matrix.mv(self._v), dim=0, eps=self.eps))
                self._v.copy_(F.normalize(matrix.mH.mv(self._u), dim=0, eps=self.eps))

    def forward(self, weight):
        if weight.dim() == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        matrix = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(matrix, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        return weight / u.vdot(matrix.mv(v))

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Reparametrize ``module.<name>`` as ``W / sigma(W)`` (see ``_SpectralNorm``); ``dim``
    defaults to 1 for transposed convolutions, else 0."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


# --------------------------------------------------------------------------- orthogonal
_ORTH_MAPS = ("matrix_exp", "cayley", "householder")


class _Orthogonal(Module):
    """Maps an unconstrained matrix (batch) to an orthogonal one (orthonormal columns or rows when
    not square): ``matrix_exp``/``cayley`` of the skew-symmetric part of its lower triangle, or
    the ``householder`` product of its strictly lower columns. With the trivialization a buffer
    ``base`` (the orthogonal value at assignment) multiplies the result on the left."""

    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        if weight.is_complex() and orthogonal_map == "householder":
            raise ValueError("The householder parametrization does not support complex tensors.")
        self.shape = tuple(weight.shape)
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        n, k = X.size(-2), X.size(-1)
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            X = X.tril()
            if n != k:
                X = _cat_zeros(X, n - k)
            A = X - X.mH
            if self.orthogonal_map == "matrix_exp":
                Q = _dec.matrix_exp(A)
            else:
                eye = _eye_like(A)
                Q = _dec.solve(eye - 0.5 * A, eye + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = _dec.householder_product(A, tau)
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if getattr(self, "base", None) is not None:
            Q = self.base @ Q
        return Q.mT if transposed else Q

    def right_inverse(self, Q):
        if tuple(Q.shape) != self.shape:
            raise ValueError(
                f"Expected a matrix or batch of matrices of shape {self.shape}. Got a tensor of shape {tuple(Q.shape)}."
            )
        with no_grad():
            Q_init = Q
            n, k = Q.size(-2), Q.size(-1)
            transpose = n < k
            if transpose:
                Q = Q.mT
                n, k = k, n
            if "base" not in self._buffers:
                if self.orthogonal_map in ("matrix_exp", "cayley"):
                    raise NotImplementedError(
                        "It is not possible to assign to the matrix exponential or the "
                        "Cayley parametrizations when use_trivialization=False."
                    )
                raise NotImplementedError(
                    "Assigning to the householder parametrization with "
                    "use_trivialization=False needs geqrf, which is not implemented"
                )
            if n == k:
                Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
            else:
                N = Q.new_empty(tuple(Q.shape[:-2]) + (n, n - k)).normal_(0, 1)
                Q = _make_orthogonal(_cat(Q, N))
            self.base = Q
            neg_eye = Q_init.new_zeros(tuple(Q_init.shape))
            neg_eye.diagonal(dim1=-2, dim2=-1).fill_(-1.0)
            return neg_eye


def _eye_like(A):
    """The identity broadcast to A's (..., n, n) shape."""
    from ... import _creation

    return _creation.eye(A.shape[-1], dtype=A.dtype, device=A.device).expand(tuple(A.shape))


def _is_orthogonal(Q):
    """Q^H Q == I up to allclose(atol=10 n eps), PyTorch's test."""
    from ...ops.elementwise import allclose

    gram = Q.mH @ Q
    return allclose(gram, _eye_like(gram), atol=10.0 * Q.size(-2) * _finfo_eps(Q))


def _finfo_eps(t):
    import numpy as np

    return float(np.finfo(np.dtype(t.dtype.name)).eps)


def _make_orthogonal(A):
    """The Q of A = QR with the signs making R's diagonal positive (PyTorch's choice)."""
    Q, R = _dec.qr(A)
    return Q * R.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)


def _cat(a, b):
    from ...ops.shape import cat

    return cat([a, b], -1)


def _cat_zeros(X, extra):
    return _cat(X, X.new_zeros(tuple(X.shape[:-1]) + (extra,)))


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Constrain ``module.<name>`` (a matrix or batch of matrices) to be orthogonal (orthonormal
    columns, or rows if it is wide). ``orthogonal_map``: "matrix_exp" (default for square
    matrices), "cayley" or "householder" (default otherwise)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.dim() < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.dim()} dimensions.")
    if orthogonal_map is None:
        square = weight.size(-2) == weight.size(-1)
        orthogonal_map = "matrix_exp" if square or weight.is_complex() else "householder"
    if orthogonal_map not in _ORTH_MAPS:
        raise ValueError(
            f'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". Got: {orthogonal_map}'
        )
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
