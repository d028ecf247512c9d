"""retrograd: reverse-mode automatic differentiation over a dynamic graph, with PyTorch's API.

``import retrograd as torch`` runs common PyTorch code. This module only re-exports.
"""

__version__ = "0.1.0"

from ._dtype import (
    dtype,
    float16,
    half,
    float32,
    float,
    float64,
    double,
    uint8,
    int8,
    int16,
    short,
    int32,
    int,
    int64,
    long,
    bool,
    get_default_dtype,
    set_default_dtype,
    promote_types,
    result_type,
)
from ._dtype import bfloat16, float8_e4m3fn, float8_e5m2  # noqa: E402
from ._device import device
from ._size import Size
from ._tensor import Tensor
from . import _tensor_methods  # noqa: F401  (binds Tensor's methods; imports every op family)
from .ops._declare import namespace as _namespace
from .ops._out import FACTORIES_WITH_OUT as _FACTORIES_WITH_OUT, with_out as _with_out
from .ops.reduction import return_types
from ._creation import (
    tensor,
    as_tensor,
    from_numpy,
    zeros,
    ones,
    empty,
    full,
    zeros_like,
    ones_like,
    empty_like,
    full_like,
    arange,
    linspace,
    logspace,
    eye,
    rand,
    randn,
    randint,
    randperm,
    rand_like,
    randn_like,
    randint_like,
    normal,
    bernoulli,
    multinomial,
    manual_seed,
    seed,
    initial_seed,
    get_rng_state,
    set_rng_state,
    Generator,
    default_generator,
)
from .autograd.grad_mode import (
    no_grad,
    enable_grad,
    set_grad_enabled,
    is_grad_enabled,
    inference_mode,
    is_inference_mode_enabled,
)
from . import linalg
from . import autograd
from .sparse import sparse_coo_tensor
from .sparse import SparseTensor as _SparseTensor, spmm

# Subpackages imported on first use (``retrograd.nn``, as ``torch.nn``), so that
# ``import retrograd`` stays quick; ``import retrograd.nn`` works as usual.
_LAZY_SUBPACKAGES = (
    "nn",
    "optim",
    "utils",
    "distributed",
    "cuda",
    "backends",
    "accelerator",
    "multiprocessing",
    "testing",
    "jit",
    "onnx",
    "fx",
    "hub",
    "profiler",
    "fft",
    "distributions",
    "cpu",
    "func",
    "version",
    "serialization",
    "compiler",
    "_dynamo",
    "random",
)
# Names that load their module on first use: checkpoints (``serialization`` brings the file
# formats, tempfile, socket and json).
_LAZY_NAMES = {"save": "serialization", "load": "serialization", "OutOfMemoryError": "backend"}


def __getattr__(name):
    if name in _LAZY_SUBPACKAGES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    if name in _LAZY_NAMES:
        import importlib

        value = globals()[name] = getattr(importlib.import_module(f"{__name__}.{_LAZY_NAMES[name]}"), name)
        return value
    if name == "vmap":  # torch.vmap is torch.func.vmap (loaded with retrograd.func)
        from .func import vmap

        return vmap
    raise AttributeError(f"module 'retrograd' has no attribute '{name}'")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_SUBPACKAGES) | set(_LAZY_NAMES) | {"vmap"})


is_tensor = lambda obj: isinstance(obj, (Tensor, _SparseTensor))  # noqa: E731


def numel(input):
    return input.numel()


def is_floating_point(input):
    return input.is_floating_point()


from ._tensor_queries import (  # noqa: E402
    is_nonzero,
    is_same_size,
    is_signed,
    is_complex,
    is_inference,
    positive,
    get_device,
)
from . import special  # noqa: E402
from ._device import get_default_device, set_default_device  # noqa: E402
from ._repr import set_printoptions  # noqa: E402
from ._runtime import (  # noqa: E402
    get_num_threads,
    set_num_threads,
    get_num_interop_threads,
    set_num_interop_threads,
    use_deterministic_algorithms,
    are_deterministic_algorithms_enabled,
    is_deterministic_algorithms_warn_only_enabled,
    set_deterministic_debug_mode,
    get_deterministic_debug_mode,
    set_float32_matmul_precision,
    get_float32_matmul_precision,
    typename,
    can_cast,
)
from ._runtime import limit_blas_threads_at_import as _limit_blas_threads_at_import  # noqa: E402

_limit_blas_threads_at_import()
from ._sampling import poisson, binomial  # noqa: E402
from ._runtime import (  # noqa: E402
    compile,
    set_warn_always,
    is_warn_always_enabled,
    set_flush_denormal,
    set_default_tensor_type,
)
from ._typeinfo import (  # noqa: E402
    finfo,
    iinfo,
    layout,
    memory_format,
    strided,
    sparse_coo,
    contiguous_format,
    preserve_format,
    channels_last,
    channels_last_3d,
)
from ._legacy import (  # noqa: E402
    FloatTensor,
    DoubleTensor,
    HalfTensor,
    LongTensor,
    IntTensor,
    ShortTensor,
    CharTensor,
    ByteTensor,
    BoolTensor,
    TypedStorage,
    is_storage,
)
from ._tensor import UntypedStorage  # noqa: E402
from math import e, pi, inf, nan  # noqa: E402

newaxis = None
from ._dtype import complex64, cfloat, complex128, cdouble  # noqa: E402


from . import amp  # noqa: E402
from .amp.autocast_mode import (  # noqa: E402
    autocast,
    is_autocast_enabled,
    set_autocast_enabled,
    get_autocast_dtype,
    set_autocast_dtype,
    is_autocast_cpu_enabled,
    get_autocast_cpu_dtype,
    get_autocast_gpu_dtype,
    is_autocast_cache_enabled,
    set_autocast_cache_enabled,
    clear_autocast_cache,
)

from ._python_api import (  # noqa: E402
    _assert,
    get_device_module,
    frombuffer,
    from_dlpack,
    from_file,
    sym_float,
    sym_int,
    sym_max,
    sym_min,
    sym_not,
    sym_ite,
    sym_sum,
)
from ._foreach import FUNCTIONS as _FOREACH  # noqa: E402

globals().update(_FOREACH)

# The ops: every function the op families declare for ``retrograd`` (each family file ends with
# its declarations; see ops/_declare.py), wrapped with PyTorch's out= where declared.
_OPS = _namespace("torch")
_clash = set(_OPS) & set(globals())
if _clash:
    raise ImportError(f"retrograd: {sorted(_clash)} are declared as ops and also imported here")
globals().update(_OPS)
# The factories are not ops; some take PyTorch's out= too.
for _name in _FACTORIES_WITH_OUT:
    globals()[_name] = _with_out(globals()[_name], _name)
del _name, _clash

# The public names (what `from retrograd import *` binds; the lazy subpackages load on first use):
# what this module imports or defines, then the ops.
_NON_OPS = [
    "dtype",
    "float16",
    "half",
    "float32",
    "float",
    "float64",
    "double",
    "uint8",
    "int8",
    "int16",
    "short",
    "int32",
    "int",
    "int64",
    "long",
    "bool",
    "get_default_dtype",
    "set_default_dtype",
    "promote_types",
    "result_type",
    "device",
    "Size",
    "autograd",
    "Tensor",
    "tensor",
    "as_tensor",
    "from_numpy",
    "zeros",
    "ones",
    "empty",
    "full",
    "zeros_like",
    "ones_like",
    "empty_like",
    "full_like",
    "arange",
    "linspace",
    "logspace",
    "eye",
    "rand",
    "randn",
    "randint",
    "randperm",
    "rand_like",
    "randn_like",
    "randint_like",
    "normal",
    "bernoulli",
    "multinomial",
    "manual_seed",
    "seed",
    "initial_seed",
    "get_rng_state",
    "set_rng_state",
    "Generator",
    "default_generator",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "inference_mode",
    "is_inference_mode_enabled",
    "return_types",
    "linalg",
    "sparse",
    "sparse_coo_tensor",
    "save",
    "load",
    "OutOfMemoryError",
    "is_tensor",
    "numel",
    "is_floating_point",
    "set_printoptions",
    "is_storage",
    "is_nonzero",
    "is_same_size",
    "is_signed",
    "is_complex",
    "is_inference",
    "positive",
    "get_device",
    "special",
    "get_default_device",
    "set_default_device",
    "get_num_threads",
    "set_num_threads",
    "get_num_interop_threads",
    "set_num_interop_threads",
    "use_deterministic_algorithms",
    "are_deterministic_algorithms_enabled",
    "is_deterministic_algorithms_warn_only_enabled",
    "set_deterministic_debug_mode",
    "get_deterministic_debug_mode",
    "set_float32_matmul_precision",
    "get_float32_matmul_precision",
    "typename",
    "can_cast",
    "poisson",
    "binomial",
    "compile",
    "set_warn_always",
    "is_warn_always_enabled",
    "set_flush_denormal",
    "set_default_tensor_type",
    "finfo",
    "iinfo",
    "layout",
    "memory_format",
    "strided",
    "sparse_coo",
    "contiguous_format",
    "preserve_format",
    "channels_last",
    "channels_last_3d",
    "e",
    "pi",
    "inf",
    "nan",
    "newaxis",
    "FloatTensor",
    "DoubleTensor",
    "HalfTensor",
    "LongTensor",
    "IntTensor",
    "ShortTensor",
    "CharTensor",
    "ByteTensor",
    "BoolTensor",
    "TypedStorage",
    "UntypedStorage",
    "spmm",
    "complex64",
    "cfloat",
    "complex128",
    "cdouble",
    "fft",
    "distributions",
    "bfloat16",
    "float8_e4m3fn",
    "float8_e5m2",
    "amp",
    "autocast",
    "is_autocast_enabled",
    "set_autocast_enabled",
    "get_autocast_dtype",
    "set_autocast_dtype",
    "is_autocast_cpu_enabled",
    "get_autocast_cpu_dtype",
    "get_autocast_gpu_dtype",
    "is_autocast_cache_enabled",
    "set_autocast_cache_enabled",
    "clear_autocast_cache",
    "get_device_module",
    "frombuffer",
    "from_dlpack",
    "from_file",
    "sym_float",
    "sym_int",
    "sym_max",
    "sym_min",
    "sym_not",
    "sym_ite",
    "sym_sum",
]
__all__ = _NON_OPS + sorted(_OPS)
