"""utils.data.StackDataset (datasets of one length side by side, as a tuple or a dict) and
_utils.collate.collate (collation through a map of per-type rules)."""

import pytest

import retrograd as rg
from retrograd.utils.data import DataLoader, Dataset, StackDataset, TensorDataset


class _Batched(Dataset):
    """A dataset with __getitems__ (as a DataLoader's batch fetch uses), recording its calls."""

    def __init__(self, n):
        self.n, self.calls = n, []

    def __getitem__(self, i):
        return i * 10

    def __getitems__(self, indices):
        self.calls.append(list(indices))
        return [i * 10 for i in indices]

    def __len__(self):
        return self.n


def test_positional_and_keyword_samples():
    images = TensorDataset(rg.arange(4.0))
    labels = ["a", "b", "c", "d"]
    s = StackDataset(images, labels)
    assert len(s) == 4 and len(s[2]) == 2
    assert s[2][0][0].item() == 2.0 and s[2][1] == "c"
    d = StackDataset(x=images, y=labels)
    assert d[1]["y"] == "b" and d[1]["x"][0].item() == 1.0
    assert d.__getitems__([0, 3]) == [{"x": images[0], "y": "a"}, {"x": images[3], "y": "d"}]


def test_getitems_uses_each_datasets_own():
    b = _Batched(3)
    s = StackDataset(b, ["p", "q", "r"])
    assert s.__getitems__([2, 0]) == [(20, "r"), (0, "p")]
    assert b.calls == [[2, 0]]
    batch = next(iter(DataLoader(s, batch_size=3)))
    assert batch[0].tolist() == [0, 10, 20] and batch[1] == ["p", "q", "r"]


def test_refuses_mixed_empty_and_mismatched_input():
    with pytest.raises(ValueError, match="both types"):
        StackDataset([1], y=[2])
    with pytest.raises(ValueError, match="At least one dataset"):
        StackDataset()
    with pytest.raises(ValueError, match="Size mismatch"):
        StackDataset([1, 2], [3])


def test_collate_with_a_type_map():
    import collections

    import numpy as np

    from retrograd.utils.data import default_collate
    from retrograd.utils.data._utils.collate import collate, collate_str_fn, default_collate_fn_map

    Point = collections.namedtuple("Point", "a b")
    batches = [
        [{"x": np.ones(2), "y": 1, "s": "a"}, {"x": np.zeros(2), "y": 2, "s": "b"}],
        [Point(1.5, [1, 2]), Point(2.5, [3, 4])],
        [(np.float32(1), rg.tensor([1.0])), (np.float32(3), rg.tensor([2.0]))],
    ]
    for batch in batches:
        got, want = collate(batch, collate_fn_map=default_collate_fn_map), default_collate(batch)
        assert repr(got) == repr(want)

    class Box:
        def __init__(self, v):
            self.v = v

    rules = {Box: lambda b, collate_fn_map=None: sum(x.v for x in b), str: collate_str_fn}
    assert collate([[Box(1), "a"], [Box(2), "b"]], collate_fn_map=rules) == [3, ["a", "b"]]
    with pytest.raises(TypeError, match="default_collate"):
        collate([object()], collate_fn_map=default_collate_fn_map)
    with pytest.raises(RuntimeError, match="equal size"):
        collate([[1, 2], [3]], collate_fn_map=default_collate_fn_map)
