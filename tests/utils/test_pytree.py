"""torch.utils._pytree: flatten, unflatten, map over nested containers and registered classes."""

import collections

import pytest

import retrograd as rg
from retrograd.utils import _pytree as pytree

Point = collections.namedtuple("Point", "x y")


@pytest.mark.parametrize(
    "tree, leaves",
    [
        (None, [None]),
        (3, [3]),
        ((1, [2, {"b": 3, "a": None}]), [1, 2, 3, None]),
        (Point(1, (2, 3)), [1, 2, 3]),
        (collections.OrderedDict(z=1, a=[2]), [1, 2]),
        (collections.defaultdict(list, {"k": [1, 2]}), [1, 2]),
        (collections.deque([1, (2,)], maxlen=4), [1, 2]),
        ([[], {}, ()], []),
    ],
)
def test_flatten_gives_the_leaves_in_order_and_unflatten_rebuilds_the_same_types(tree, leaves):
    got, spec = pytree.tree_flatten(tree)
    assert got == leaves and spec.num_leaves == len(leaves)
    back = pytree.tree_unflatten(got, spec)
    assert back == tree and type(back) is type(tree)
    if isinstance(tree, collections.deque):
        assert back.maxlen == tree.maxlen
    if isinstance(tree, collections.defaultdict):
        assert back.default_factory is list


def test_map_over_several_trees_map_only_and_predicates():
    t = rg.ones(2)
    tree = {"w": t, "n": 2, "nested": [t, 3.0]}
    doubled = pytree.tree_map_only(rg.Tensor, lambda x: x * 2, tree)
    assert doubled["n"] == 2 and doubled["nested"][1] == 3.0 and doubled["w"].tolist() == [2.0, 2.0]
    assert pytree.tree_map(lambda a, b: a + b, (1, [2]), (10, [20])) == (11, [22])
    assert pytree.tree_all_only(rg.Tensor, lambda x: x.numel() == 2, tree)
    assert pytree.tree_any(lambda x: type(x) is int, tree) and not pytree.tree_all(lambda x: type(x) is int, tree)
    seen = []
    assert pytree.tree_map_(seen.append, tree) is tree and len(seen) == 4
    assert pytree.tree_leaves(tree, is_leaf=lambda x: isinstance(x, list)) == [t, 2, [t, 3.0]]


def test_a_registered_class_is_a_node():
    class Pair:
        def __init__(self, a, b):
            self.a, self.b = a, b

    pytree.register_pytree_node(Pair, lambda p: ([p.a, p.b], None), lambda values, _: Pair(*values))
    try:
        leaves, spec = pytree.tree_flatten([Pair(1, (2, 3))])
        assert leaves == [1, 2, 3]
        back = pytree.tree_unflatten([4, 5, 6], spec)
        assert type(back[0]) is Pair and back[0].a == 4 and back[0].b == (5, 6)
        with pytest.raises(ValueError, match="already registered"):
            pytree.register_pytree_node(Pair, lambda p: ([], None), lambda v, c: Pair(0, 0))
    finally:
        del pytree.SUPPORTED_NODES[Pair]


def test_mismatched_structures_and_leaf_counts_raise():
    spec = pytree.tree_structure((1, 2))
    with pytest.raises(ValueError, match="length 1"):
        pytree.tree_unflatten([1], spec)
    with pytest.raises(ValueError, match="Node type mismatch"):
        pytree.tree_map(lambda a, b: a, (1, 2), [1, 2])
    with pytest.raises(ValueError, match="arity"):
        pytree.tree_map(lambda a, b: a, (1, 2), (1, 2, 3))
    with pytest.raises(TypeError, match="TreeSpec"):
        pytree.tree_unflatten([1], (1,))
    with pytest.raises(NotImplementedError, match="flatten_with_keys_fn"):
        pytree.register_pytree_node(object, None, None, flatten_with_keys_fn=lambda x: x)


def test_func_transforms_take_namedtuples_as_nodes():
    def f(p):
        return (p.x * p.y).sum()

    p = Point(rg.tensor([1.0, 2.0]), rg.tensor([3.0, 4.0]))
    g = rg.func.grad(f)(p)
    assert type(g) is Point and g.x.tolist() == [3.0, 4.0] and g.y.tolist() == [1.0, 2.0]
