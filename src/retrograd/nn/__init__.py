"""retrograd.nn: modules, parameters, initialisation and the functional API."""

from . import functional
from . import init
from .parameter import Parameter, Buffer, UninitializedParameter, UninitializedBuffer
from .modules import *  # noqa: F401,F403
from .modules.module import (
    register_module_forward_pre_hook,
    register_module_forward_hook,
    register_module_full_backward_hook,
    register_module_full_backward_pre_hook,
)
from ._factory_kwargs import factory_kwargs
from . import parallel
from .parallel import DataParallel
from . import utils
from . import attention  # noqa: F401  (torch.nn.attention, outside __all__ as in PyTorch)
from . import modules

__all__ = [
    "functional",
    "init",
    "Parameter",
    "Buffer",
    "UninitializedParameter",
    "UninitializedBuffer",
    "DataParallel",
    "register_module_forward_pre_hook",
    "register_module_forward_hook",
    "register_module_full_backward_hook",
    "register_module_full_backward_pre_hook",
    "parallel",
    "utils",
    "factory_kwargs",
]
__all__ += modules.__all__
