"""``torch.utils._pytree``: nested containers ("pytrees") flattened to a list of leaves and a
``TreeSpec`` that rebuilds them.

Nodes are tuples, lists, dicts (entries in insertion order), namedtuples, OrderedDicts,
defaultdicts, deques and the classes given to ``register_pytree_node``; everything else (a Tensor,
a number, None, a string) is a leaf. ``is_leaf(x)``, where a function takes it, makes ``x`` a leaf
when it returns True, before its type is looked at.

A node's flatten function returns ``(children, context)``, where the context is what, beside
the children, rebuilds the node (a dict's keys, a namedtuple's class); its unflatten function
takes ``(children, context)`` back to the node.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

__all__ = [
    "TreeSpec",
    "LeafSpec",
    "register_pytree_node",
    "tree_flatten",
    "tree_unflatten",
    "tree_leaves",
    "tree_structure",
    "tree_iter",
    "tree_map",
    "tree_map_",
    "tree_map_only",
    "tree_map_only_",
    "tree_all",
    "tree_any",
    "tree_all_only",
    "tree_any_only",
]


class _Node(NamedTuple):
    flatten: Callable[[Any], tuple[list[Any], Any]]
    unflatten: Callable[[Iterable[Any], Any], Any]
    serialized_type_name: str | None = None


SUPPORTED_NODES: dict[type, _Node] = {}


def register_pytree_node(
    cls,
    flatten_fn,
    unflatten_fn,
    *,
    serialized_type_name=None,
    to_dumpable_context=None,
    from_dumpable_context=None,
    flatten_with_keys_fn=None,
):
    """Make instances of ``cls`` pytree nodes: ``flatten_fn(obj) -> (children, context)`` and
    ``unflatten_fn(children, context) -> obj``. The serialization and key-path hooks of PyTorch's
    signature are refused when given: retrograd has no treespec serialization or key paths.
    ``serialized_type_name`` (the name a serialized treespec would use) is accepted, as libraries
    pass it when registering, and kept on the node; with no treespec serialization here nothing
    reads it."""
    if to_dumpable_context is not None or from_dumpable_context is not None or flatten_with_keys_fn is not None:
        raise NotImplementedError(
            "register_pytree_node: to_dumpable_context, from_dumpable_context and flatten_with_keys_fn "
            "are not supported (retrograd has no treespec serialization or key paths)"
        )
    if cls in SUPPORTED_NODES:
        raise ValueError(f"{cls} is already registered as pytree node.")
    SUPPORTED_NODES[cls] = _Node(flatten_fn, unflatten_fn, serialized_type_name)


def _namedtuple_flatten(t):
    return list(t), type(t)


def _namedtuple_unflatten(values, context):
    return context(*values)


def _dict_flatten(d):
    return list(d.values()), list(d.keys())


def _defaultdict_flatten(d):
    return list(d.values()), [d.default_factory, list(d.keys())]


def _defaultdict_unflatten(values, context):
    factory, keys = context
    return collections.defaultdict(factory, zip(keys, values))


def _deque_flatten(d):
    return list(d), d.maxlen


register_pytree_node(tuple, lambda t: (list(t), None), lambda values, _: tuple(values))
register_pytree_node(list, lambda t: (list(t), None), lambda values, _: list(values))
register_pytree_node(dict, _dict_flatten, lambda values, keys: dict(zip(keys, values)))
register_pytree_node(
    collections.OrderedDict, _dict_flatten, lambda values, keys: collections.OrderedDict(zip(keys, values))
)
register_pytree_node(collections.defaultdict, _defaultdict_flatten, _defaultdict_unflatten)
register_pytree_node(collections.deque, _deque_flatten, lambda values, maxlen: collections.deque(values, maxlen))


def _node_type(tree: Any) -> type | None:
    """The registered node type ``tree`` flattens as (a namedtuple as ``namedtuple``), or None
    for a leaf."""
    t = type(tree)
    if t in SUPPORTED_NODES:
        return t
    if isinstance(tree, tuple) and hasattr(t, "_fields"):
        return _NAMEDTUPLE
    return None


class _NamedTupleMarker:
    """The node type of every namedtuple (its class is the node's context)."""


_NAMEDTUPLE = _NamedTupleMarker
SUPPORTED_NODES[_NAMEDTUPLE] = _Node(_namedtuple_flatten, _namedtuple_unflatten)
# the node types whose children are a sequence, and those whose context is their keys
SEQUENCE_NODES = (tuple, list, _NAMEDTUPLE, collections.deque)
MAPPING_NODES = (dict, collections.OrderedDict)


class TreeSpec:
    """The structure of a pytree: the node's ``type`` (None for a leaf), its ``context`` and
    its children's specs. Two specs are equal when the structures are."""

    __slots__ = ("type", "context", "children_specs", "num_leaves", "num_nodes")

    def __init__(self, type: type | None, context: Any, children_specs: list[TreeSpec]) -> None:
        self.type = type
        self.context = context
        self.children_specs = list(children_specs)
        self.num_leaves = 1 if type is None else sum(c.num_leaves for c in self.children_specs)
        self.num_nodes = 1 + sum(c.num_nodes for c in self.children_specs)

    @property
    def num_children(self) -> int:
        return len(self.children_specs)

    def is_leaf(self) -> bool:
        return self.type is None

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TreeSpec)
            and self.type is other.type
            and self.context == other.context
            and self.children_specs == other.children_specs
        )

    def __hash__(self) -> int:
        return hash((self.type, repr(self.context), tuple(self.children_specs)))

    def __repr__(self) -> str:
        if self.type is None:
            return "*"
        name = "namedtuple" if self.type is _NAMEDTUPLE else self.type.__name__
        children = ", ".join(repr(c) for c in self.children_specs)
        return f"TreeSpec({name}, {self.context!r}, [{children}])"

    def unflatten(self, leaves: Iterable[Any]) -> Any:
        """The pytree of this structure with ``leaves`` in order."""
        leaves = list(leaves)
        if len(leaves) != self.num_leaves:
            raise ValueError(
                f"treespec.unflatten(leaves): `leaves` has length {len(leaves)} but the spec refers "
                f"to a pytree that holds {self.num_leaves} items ({self})."
            )
        return _build(iter(leaves), self)

    def flatten_up_to(self, tree: Any) -> list[Any]:
        """The subtrees of ``tree`` at this spec's leaves: ``tree`` must have this structure down to
        them (it may go deeper there)."""
        out: list[Any] = []
        _flatten_up_to(self, tree, out)
        return out


def LeafSpec() -> TreeSpec:
    """The spec of a single leaf."""
    return TreeSpec(None, None, [])


def _flatten(tree: Any, leaves: list[Any], is_leaf: Callable[[Any], bool] | None) -> TreeSpec:
    if is_leaf is not None and is_leaf(tree):
        leaves.append(tree)
        return LeafSpec()
    t = _node_type(tree)
    if t is None:
        leaves.append(tree)
        return LeafSpec()
    children, context = SUPPORTED_NODES[t].flatten(tree)
    return TreeSpec(t, context, [_flatten(c, leaves, is_leaf) for c in children])


def _build(leaves: Iterator[Any], spec: TreeSpec) -> Any:
    if spec.type is None:
        return next(leaves)
    return SUPPORTED_NODES[spec.type].unflatten([_build(leaves, c) for c in spec.children_specs], spec.context)


def _flatten_up_to(spec: TreeSpec, tree: Any, out: list[Any]) -> None:
    if spec.type is None:
        out.append(tree)
        return
    t = _node_type(tree)
    if t is not spec.type:
        raise ValueError(f"Node type mismatch; expected {spec.type.__name__}, but got {type(tree).__name__}.")
    children, context = SUPPORTED_NODES[t].flatten(tree)
    if len(children) != len(spec.children_specs):
        raise ValueError(f"Node arity mismatch; expected {len(spec.children_specs)}, but got {len(children)}.")
    if context != spec.context:
        raise ValueError(
            f"Node context mismatch for node type {t.__name__}: expected {spec.context!r}, got {context!r}."
        )
    for c, s in zip(children, spec.children_specs):
        _flatten_up_to(s, c, out)


def tree_flatten(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> tuple[list[Any], TreeSpec]:
    """The leaves of ``tree`` (depth first, in each node's order) and its spec."""
    leaves: list[Any] = []
    return leaves, _flatten(tree, leaves, is_leaf)


def tree_unflatten(leaves: Iterable[Any], treespec: TreeSpec) -> Any:
    """The pytree of structure ``treespec`` with ``leaves`` in order."""
    if not isinstance(treespec, TreeSpec):
        raise TypeError(
            f"tree_unflatten(leaves, treespec): Expected `treespec` to be instance of TreeSpec but got "
            f"item of type {type(treespec)}."
        )
    return treespec.unflatten(leaves)


def tree_leaves(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> list[Any]:
    return tree_flatten(tree, is_leaf)[0]


def tree_iter(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> Iterator[Any]:
    return iter(tree_flatten(tree, is_leaf)[0])


def tree_structure(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> TreeSpec:
    return tree_flatten(tree, is_leaf)[1]


def tree_map(func: Callable[..., Any], tree: Any, *rests: Any, is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """``func`` applied to each leaf of ``tree`` (and the matching subtrees of ``rests``, which
    have ``tree``'s structure down to its leaves), in a new pytree of ``tree``'s structure."""
    leaves, spec = tree_flatten(tree, is_leaf)
    columns = [leaves] + [spec.flatten_up_to(r) for r in rests]
    return spec.unflatten(func(*xs) for xs in zip(*columns))


def tree_map_(func: Callable[..., Any], tree: Any, *rests: Any, is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """``func`` called on each leaf (for its effect, as an in-place op); returns ``tree``."""
    leaves, spec = tree_flatten(tree, is_leaf)
    columns = [leaves] + [spec.flatten_up_to(r) for r in rests]
    for xs in zip(*columns):
        func(*xs)
    return tree


def _only(types: type | tuple[type, ...], func: Callable[[Any], Any]) -> Callable[[Any], Any]:
    if isinstance(types, tuple) and len(types) == 0:
        raise TypeError("tree_map_only: expected at least one type")

    def apply_to_matching(x: Any) -> Any:
        return func(x) if isinstance(x, types) else x

    return apply_to_matching


def tree_map_only(
    type_or_types: type | tuple[type, ...],
    func: Callable[[Any], Any],
    tree: Any,
    is_leaf: Callable[[Any], bool] | None = None,
) -> Any:
    """``tree_map`` applying ``func`` to the leaves that are instances of ``type_or_types`` only."""
    return tree_map(_only(type_or_types, func), tree, is_leaf=is_leaf)


def tree_map_only_(
    type_or_types: type | tuple[type, ...],
    func: Callable[[Any], Any],
    tree: Any,
    is_leaf: Callable[[Any], bool] | None = None,
) -> Any:
    return tree_map_(_only(type_or_types, func), tree, is_leaf=is_leaf)


def tree_all(pred: Callable[[Any], bool], tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> bool:
    return all(map(pred, tree_iter(tree, is_leaf)))


def tree_any(pred: Callable[[Any], bool], tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> bool:
    return any(map(pred, tree_iter(tree, is_leaf)))


def tree_all_only(
    type_or_types: type | tuple[type, ...],
    pred: Callable[[Any], bool],
    tree: Any,
    is_leaf: Callable[[Any], bool] | None = None,
) -> bool:
    return all(pred(x) for x in tree_iter(tree, is_leaf) if isinstance(x, type_or_types))


def tree_any_only(
    type_or_types: type | tuple[type, ...],
    pred: Callable[[Any], bool],
    tree: Any,
    is_leaf: Callable[[Any], bool] | None = None,
) -> bool:
    return any(pred(x) for x in tree_iter(tree, is_leaf) if isinstance(x, type_or_types))
