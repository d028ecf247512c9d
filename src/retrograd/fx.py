"""``retrograd.fx``: importable, so modules that mark functions for symbolic tracing with
``@torch.fx.wrap`` load and run. retrograd has no symbolic tracer: ``wrap`` records the name and
returns its argument unchanged (which is all it does outside tracing in PyTorch too), and
tracing itself raises when called."""

__all__ = ["wrap", "symbolic_trace"]

# names passed to wrap(): the functions a tracer would keep as leaves
_wrapped = set()


def wrap(fn_or_name):
    """Mark a module-level function (or its name) as a leaf for symbolic tracing; returns
    ``fn_or_name`` itself, so it works as a decorator."""
    if callable(fn_or_name):
        name = fn_or_name.__name__
    elif isinstance(fn_or_name, str):
        name = fn_or_name
    else:
        raise TypeError(f"fx.wrap(): expected a function or a function's name, got {type(fn_or_name).__name__}")
    _wrapped.add(name)
    return fn_or_name


def symbolic_trace(root, concrete_args=None):
    raise NotImplementedError(
        "retrograd.fx.symbolic_trace(): symbolic tracing is not supported (retrograd has no graph IR "
        "to trace into); use retrograd.compile for captured execution"
    )


def __getattr__(name):
    raise AttributeError(
        f"module 'retrograd.fx' has no attribute '{name}': retrograd.fx has only wrap() and a "
        "symbolic_trace() that raises (symbolic tracing, Graph and GraphModule are not implemented)"
    )
