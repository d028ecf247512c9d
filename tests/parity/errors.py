"""Comparing the exceptions retrograd and PyTorch raise for the same bad input."""

import retrograd as rg


def builtin_kind(err_type):
    """The first built-in exception class in ``err_type``'s bases (torch.linalg.LinAlgError ->
    RuntimeError): what retrograd must raise, or a subclass of it."""
    return next(c for c in err_type.__mro__ if c.__module__ == "builtins")


def raised(lib, case):
    """The type of the exception ``case(lib)`` raises, or None."""
    try:
        case(lib)
    except Exception as e:  # noqa: BLE001 - the type is the result
        return type(e)
    return None


def assert_raises_like(torch, case):
    """``case`` raises under PyTorch, and under retrograd an exception of the same built-in kind."""
    expected = raised(torch, case)
    assert expected is not None
    got = raised(rg, case)
    assert got is not None and issubclass(got, builtin_kind(expected)), (got, expected)
