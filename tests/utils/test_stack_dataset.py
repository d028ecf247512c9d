"""utils.data.StackDataset: datasets of one length side by side, as a tuple or a dict."""

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
