"""Nested Python containers of tensors ("pytrees"): tuples, lists and dicts, flattened to a list of
leaves and rebuilt from one. Anything else (a Tensor, a number, None) is a leaf."""

from __future__ import annotations

from typing import Any


class TreeSpec:
    """The structure of a pytree: its container kind, keys (dicts) and children's specs.
    Two specs are equal when the structures are."""

    __slots__ = ("kind", "keys", "children")

    def __init__(self, kind: type | None, keys: tuple[Any, ...], children: tuple[TreeSpec, ...]) -> None:
        self.kind = kind  # None for a leaf
        self.keys = keys
        self.children = children

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TreeSpec)
            and self.kind is other.kind
            and self.keys == other.keys
            and self.children == other.children
        )

    def __hash__(self) -> int:
        return hash((self.kind, self.keys, self.children))

    @property
    def num_leaves(self) -> int:
        return 1 if self.kind is None else sum(c.num_leaves for c in self.children)

    def __repr__(self) -> str:
        if self.kind is None:
            return "*"
        if self.kind is dict:
            return "{" + ", ".join(f"{k!r}: {c!r}" for k, c in zip(self.keys, self.children)) + "}"
        inner = ", ".join(repr(c) for c in self.children)
        return f"[{inner}]" if self.kind is list else f"({inner}{',' if len(self.children) == 1 else ''})"


_LEAF = TreeSpec(None, (), ())


def tree_flatten(tree: Any) -> tuple[list[Any], TreeSpec]:
    """The leaves of ``tree`` (depth first, dict entries in insertion order) and its spec."""
    leaves: list[Any] = []
    return leaves, _flatten(tree, leaves)


def _flatten(tree: Any, leaves: list[Any]) -> TreeSpec:
    if isinstance(tree, dict):
        keys = tuple(tree)
        return TreeSpec(dict, keys, tuple(_flatten(tree[k], leaves) for k in keys))
    if isinstance(tree, (tuple, list)) and not hasattr(tree, "_fields"):
        kind = list if isinstance(tree, list) else tuple
        return TreeSpec(kind, (), tuple(_flatten(c, leaves) for c in tree))
    leaves.append(tree)
    return _LEAF


def tree_unflatten(leaves: list[Any], spec: TreeSpec) -> Any:
    """The pytree of structure ``spec`` with ``leaves`` in order."""
    it = iter(leaves)
    result = _build(it, spec)
    return result


def _build(it: Any, spec: TreeSpec) -> Any:
    if spec.kind is None:
        return next(it)
    children = [_build(it, c) for c in spec.children]
    if spec.kind is dict:
        return dict(zip(spec.keys, children))
    return children if spec.kind is list else tuple(children)


def tree_map(fn: Any, tree: Any) -> Any:
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(x) for x in leaves], spec)
