"""``compile(module)``: ``OptimizedModule``, PyTorch's wrapper around the original module.

It holds the original as its submodule ``_orig_mod`` (so its parameters and ``state_dict`` keys
carry the ``_orig_mod.`` prefix, as PyTorch's do), shares every parameter and buffer with it, and
runs ``_orig_mod``'s ``__call__`` (its hooks included) as a compiled function. Attributes it does
not have are read from, and written to, the original; ``training`` is the original's.
"""

from __future__ import annotations

from typing import Any

from ..nn.modules.module import Module
from .function import CompiledFunction

_OWN = frozenset(("_orig_mod", "_compiled", "forward"))


class OptimizedModule(Module):
    """What ``compile(module)`` returns; call it as the module."""

    def __init__(self, mod: Module, compiled: CompiledFunction) -> None:
        object.__setattr__(self, "_initialized", False)
        super().__init__()
        self._orig_mod = mod  # a submodule: parameters and state_dict keys get "_orig_mod."
        object.__setattr__(self, "_compiled", compiled)
        object.__setattr__(self, "_initialized", True)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self._compiled(*args, **kwargs)

    @property  # type: ignore[override]
    def training(self) -> bool:
        return self._modules["_orig_mod"].training

    @training.setter
    def training(self, value: bool) -> None:
        if self.__dict__.get("_initialized"):
            self._modules["_orig_mod"].training = value

    def __getattr__(self, name: str) -> Any:
        modules = self.__dict__.get("_modules")
        if modules is None or "_orig_mod" not in modules:
            raise AttributeError(name)
        if name == "_orig_mod":
            return modules["_orig_mod"]
        return getattr(modules["_orig_mod"], name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _OWN or hasattr(type(self), name) or not self.__dict__.get("_initialized"):
            return super().__setattr__(name, value)
        setattr(self._modules["_orig_mod"], name, value)

    def __delattr__(self, name: str) -> None:
        if name in _OWN or hasattr(type(self), name):
            return super().__delattr__(name)
        delattr(self._modules["_orig_mod"], name)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickled as the original module and the compile settings (as PyTorch pickles it): a
        load compiles the loaded module afresh, with no captures."""
        c = self._compiled
        return (_recompiled, (self._modules["_orig_mod"], c.fullgraph, c.dynamic, c.options))

    def __len__(self) -> int:
        return len(self._modules["_orig_mod"])  # type: ignore[arg-type]


def _recompiled(mod: Module, fullgraph: bool, dynamic: bool | None, options: Any) -> OptimizedModule:
    """``compile(mod)`` with these settings: an ``OptimizedModule`` read back from a pickle."""
    compiled = CompiledFunction(mod.__call__, fullgraph, dynamic)
    compiled.options = options
    return OptimizedModule(mod, compiled)
