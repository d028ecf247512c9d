"""Flatten parameters into one vector and back."""

from ..._tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check_devices(params):
    devices = {str(p.device) for p in params}
    if len(devices) > 1:
        raise TypeError(
            f"Found two parameters on different devices ({sorted(devices)}); this is currently not supported."
        )


def parameters_to_vector(parameters):
    """One 1-D tensor: every parameter flattened, concatenated in order (differentiable)."""
    from ...ops.shape import cat

    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    _check_devices(params)
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters):
    """Make the parameters views of consecutive slices of ``vec`` (the inverse of
    ``parameters_to_vector``): ``param.data`` becomes ``vec[i:i + n].view_as(param)``."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    _check_devices(params)
    total = sum(p.numel() for p in params)
    if vec.dim() != 1 or vec.numel() != total:
        raise RuntimeError(
            f"vector_to_parameters: vec must be 1-D with {total} elements (the "
            f"parameters' total), but has shape {list(vec.shape)}"
        )
    data = vec.detach()._data
    i = 0
    for p in params:
        n = p.numel()
        p._data = data[i : i + n].reshape(p._data.shape).astype(p._data.dtype, copy=False)
        i += n
