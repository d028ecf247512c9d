"""utils.data: datasets, samplers, collation and the DataLoader."""

import collections
import warnings

import numpy as np
import pytest

import retrograd as rg
from retrograd.utils.data import (
    BatchSampler,
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
    random_split,
)


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return {"x": np.array([i, i * i], dtype=np.float32), "y": i, "name": f"s{i}"}


class Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


def _xy(n=10):
    return TensorDataset(rg.arange(2.0 * n).reshape(n, 2), rg.arange(n))


# --------------------------------------------------------------------------- datasets
def test_tensor_dataset():
    ds = _xy(5)
    assert len(ds) == 5
    x, y = ds[3]
    assert x.tolist() == [6.0, 7.0] and y.item() == 3
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(rg.zeros(3), rg.zeros(4))


def test_concat_subset_chain():
    a, b = Squares(3), Squares(2)
    c = a + b
    assert isinstance(c, ConcatDataset) and len(c) == 5
    assert c[3]["y"] == 0 and c[-1]["y"] == 1 and c[2]["y"] == 2
    with pytest.raises(IndexError):
        c[5]
    with pytest.raises(ValueError, match="IterableDataset"):
        ConcatDataset([a, Stream(2)])
    s = Subset(a, [2, 0])
    assert len(s) == 2 and s[0]["y"] == 2 and s[1]["y"] == 0
    ch = Stream(2) + Stream(3)
    assert isinstance(ch, ChainDataset) and list(ch) == [0, 1, 0, 1, 2] and len(ch) == 5


def test_random_split_lengths_and_fractions():
    ds = Squares(10)
    parts = random_split(ds, [3, 7], generator=rg.Generator().manual_seed(1))
    assert [len(p) for p in parts] == [3, 7]
    seen = sorted(i for p in parts for i in p.indices)
    assert seen == list(range(10))
    again = random_split(ds, [3, 7], generator=rg.Generator().manual_seed(1))
    assert [p.indices for p in parts] == [p.indices for p in again]
    other = random_split(ds, [3, 7], generator=rg.Generator().manual_seed(2))
    assert [p.indices for p in other] != [p.indices for p in parts]
    fr = random_split(Squares(11), [0.5, 0.3, 0.2])
    assert [len(p) for p in fr] == [6, 3, 2]  # floor 5, 3, 2; the remainder goes round robin
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(ds, [3, 8])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(Squares(2), [0.9, 0.1])


# --------------------------------------------------------------------------- samplers
def test_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    perm = list(RandomSampler(range(6), generator=rg.Generator().manual_seed(0)))
    assert sorted(perm) == list(range(6))
    assert perm == list(RandomSampler(range(6), generator=rg.Generator().manual_seed(0)))
    more = list(RandomSampler(range(4), num_samples=10, generator=rg.Generator().manual_seed(0)))
    assert len(more) == 10 and sorted(more[:4]) == [0, 1, 2, 3] and sorted(more[4:8]) == [0, 1, 2, 3]
    rep = list(RandomSampler(range(3), replacement=True, num_samples=50))
    assert len(rep) == 50 and set(rep) <= {0, 1, 2}
    assert sorted(SubsetRandomSampler([5, 7, 9])) == [5, 7, 9]
    w = list(WeightedRandomSampler([0.0, 1.0, 0.0], 5))
    assert w == [1] * 5
    assert list(BatchSampler(range(7), 3, False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(BatchSampler(range(7), 3, True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(BatchSampler(range(7), 3, False)) == 3 and len(BatchSampler(range(7), 3, True)) == 2


def test_random_sampler_follows_manual_seed():
    rg.manual_seed(5)
    a = list(RandomSampler(range(20)))
    b = list(RandomSampler(range(20)))
    rg.manual_seed(5)
    assert list(RandomSampler(range(20))) == a and a != b


@pytest.mark.parametrize(
    "make,err,match",
    [
        (lambda: BatchSampler(range(3), 0, False), ValueError, "batch_size should be a positive integer"),
        (lambda: BatchSampler(range(3), True, False), ValueError, "batch_size"),
        (lambda: BatchSampler(range(3), 2, 1), ValueError, "drop_last should be a boolean"),
        (lambda: RandomSampler(range(3), num_samples=0), ValueError, "num_samples should be a positive"),
        (lambda: RandomSampler(range(3), replacement=1), TypeError, "replacement should be a boolean"),
    ],
)
def test_sampler_errors(make, err, match):
    with pytest.raises(err, match=match):
        make()


# --------------------------------------------------------------------------- collate
def test_default_collate():
    b = default_collate([(rg.tensor([1.0, 2.0]), 1, 0.5, "a"), (rg.tensor([3.0, 4.0]), 2, 1.5, "b")])
    assert isinstance(b, list) and len(b) == 4  # tuples collate to lists, as in PyTorch
    assert b[0].tolist() == [[1, 2], [3, 4]]
    assert b[1].dtype == rg.int64 and b[1].tolist() == [1, 2]
    assert b[2].dtype == rg.float64 and b[2].tolist() == [0.5, 1.5]
    assert b[3] == ["a", "b"]
    d = default_collate(
        [{"x": np.ones(2, np.float32), "m": {"k": True}}, {"x": np.zeros(2, np.float32), "m": {"k": False}}]
    )
    assert d["x"].dtype == rg.float32 and d["x"].shape == (2, 2)
    assert d["m"]["k"].dtype == rg.bool and d["m"]["k"].tolist() == [True, False]
    P = collections.namedtuple("P", "a b")
    p = default_collate([P(1, np.float64(2.0)), P(3, np.float64(4.0))])
    assert isinstance(p, P) and p.a.tolist() == [1, 3] and p.b.tolist() == [2.0, 4.0]
    assert default_collate([[1, 2], [3, 4]])[0].tolist() == [1, 3]
    od = default_collate([collections.OrderedDict(a=1)])
    assert isinstance(od, collections.OrderedDict)


def test_default_collate_stack_keeps_graph_when_needed():
    w = rg.ones(2, requires_grad=True)
    b = default_collate([w * 2, w * 3])
    b.sum().backward()
    assert w.grad.tolist() == [5.0, 5.0]


@pytest.mark.parametrize(
    "batch,err,match",
    [
        ([rg.zeros(2), rg.zeros(3)], RuntimeError, "equal size"),
        ([np.zeros(2), np.zeros(3)], RuntimeError, "equal size"),
        ([[1, 2], [3]], RuntimeError, "equal size"),
        ([None, None], TypeError, "NoneType"),
        ([np.array(["a"]), np.array(["b"])], TypeError, "default_collate"),
    ],
)
def test_default_collate_errors(batch, err, match):
    with pytest.raises(err, match=match):
        default_collate(batch)


def test_default_convert():
    out = default_convert({"a": np.arange(3), "b": (np.float32(1.0), "s")})
    assert isinstance(out["a"], rg.Tensor) and out["b"][1] == "s" and isinstance(out["b"][0], rg.Tensor)


# --------------------------------------------------------------------------- DataLoader
def test_dataloader_batches_in_order():
    dl = DataLoader(_xy(10), batch_size=4)
    batches = list(dl)
    assert len(dl) == 3 and len(batches) == 3
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches[0][0].shape == (4, 2) and batches[0][0].dtype == rg.float32
    dl = DataLoader(_xy(10), batch_size=4, drop_last=True)
    assert len(dl) == 2 and [b[1].tolist() for b in dl] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_dataloader_tensor_dataset_fast_path_equals_collate():
    ds = _xy(9)
    order = [3, 1, 7]
    fast = DataLoader(ds, batch_sampler=[order])
    slow = DataLoader(ds, batch_sampler=[order], collate_fn=lambda b: default_collate(b))
    for a, b in zip(next(iter(fast)), next(iter(slow))):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_dataloader_shuffle_with_generator():
    ds = _xy(12)

    def epoch(seed):
        dl = DataLoader(ds, batch_size=5, shuffle=True, generator=rg.Generator().manual_seed(seed))
        return [i for b in dl for i in b[1].tolist()]

    a, b = epoch(0), epoch(0)
    assert a == b and sorted(a) == list(range(12)) and a != list(range(12))
    assert epoch(1) != a
    g = rg.Generator().manual_seed(0)
    dl = DataLoader(ds, batch_size=12, shuffle=True, generator=g)
    e1, e2 = next(iter(dl))[1].tolist(), next(iter(dl))[1].tolist()
    assert e1 != e2  # the generator advances: each epoch is a new order


def test_dataloader_dict_samples_and_custom_collate():
    dl = DataLoader(Squares(5), batch_size=2)
    b = next(iter(dl))
    assert b["x"].tolist() == [[0, 0], [1, 1]] and b["y"].tolist() == [0, 1] and b["name"] == ["s0", "s1"]
    dl = DataLoader(Squares(5), batch_size=2, collate_fn=lambda batch: len(batch))
    assert list(dl) == [2, 2, 1]


def test_dataloader_sampler_and_batch_sampler():
    ds = Squares(6)
    dl = DataLoader(ds, batch_size=2, sampler=[5, 4, 3])
    assert [b["y"].tolist() for b in dl] == [[5, 4], [3]]
    dl = DataLoader(ds, batch_sampler=[[0, 5], [2]])
    assert [b["y"].tolist() for b in dl] == [[0, 5], [2]] and len(dl) == 2


def test_dataloader_without_batching():
    dl = DataLoader(Squares(3), batch_size=None)
    items = list(dl)
    assert len(dl) == 3 and isinstance(items[0]["x"], rg.Tensor) and items[2]["y"] == 2


def test_dataloader_iterable_dataset():
    dl = DataLoader(Stream(7), batch_size=3)
    assert [b.tolist() for b in dl] == [[0, 1, 2], [3, 4, 5], [6]] and len(dl) == 3
    dl = DataLoader(Stream(7), batch_size=3, drop_last=True)
    assert [b.tolist() for b in dl] == [[0, 1, 2], [3, 4, 5]] and len(dl) == 2
    assert list(DataLoader(Stream(2), batch_size=None)) == [0, 1]


@pytest.mark.parametrize(
    "kw,err,match",
    [
        (dict(num_workers=-1), ValueError, "non-negative"),
        (dict(shuffle=True, sampler=[0, 1]), ValueError, "mutually exclusive with shuffle"),
        (dict(batch_sampler=[[0]], batch_size=2), ValueError, "batch_sampler option is mutually exclusive"),
        (dict(batch_size=None, drop_last=True), ValueError, "disables auto-batching"),
        (dict(batch_size=0), ValueError, "batch_size should be a positive integer"),
        (dict(prefetch_factor=2), ValueError, "prefetch_factor"),
        (dict(persistent_workers=True), ValueError, "persistent_workers"),
        (dict(timeout=1), ValueError, "num_workers > 0"),
        (dict(multiprocessing_context="fork"), ValueError, "multi-process loading"),
        (dict(num_workers=1, multiprocessing_context="nope"), ValueError, "valid start method"),
        (dict(num_workers=1, multiprocessing_context=3), TypeError, "context object"),
        (dict(num_workers=1, prefetch_factor=0), ValueError, "prefetch_factor"),
    ],
)
def test_dataloader_bad_options(kw, err, match):
    with pytest.raises(err, match=match):
        DataLoader(Squares(4), **kw)


def test_dataloader_iterable_dataset_refuses_shuffle_and_samplers():
    with pytest.raises(ValueError, match="expected unspecified shuffle"):
        DataLoader(Stream(3), shuffle=True)
    with pytest.raises(ValueError, match="expected unspecified sampler"):
        DataLoader(Stream(3), sampler=[0])


def test_torch_style_namespace():
    assert rg.utils.data.DataLoader is DataLoader
    assert rg.utils.data.DistributedSampler is not None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rg.utils.data.get_worker_info()


def test_a_single_process_iterator_has_len_and_is_its_own_iterator():
    from retrograd.utils.data import TensorDataset

    loader = DataLoader(TensorDataset(rg.arange(10.0)), batch_size=3)
    it = iter(loader)
    assert len(it) == 4 and iter(it) is it
    assert next(it)[0].tolist() == [0.0, 1.0, 2.0]
    assert sum(1 for _ in it) == 3


def test_pin_memory_without_an_accelerator_warns_once_per_new_iterator(monkeypatch):
    monkeypatch.setattr(rg.cuda, "is_available", lambda: False)
    loader = DataLoader(list(range(4)), batch_size=2, pin_memory=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert [b.tolist() for b in loader] == [[0, 1], [2, 3]]
        list(loader)
    assert len(caught) == 2 and all(w.filename == __file__ for w in caught)
    assert "'pin_memory' argument is set as true but no accelerator is found" in str(caught[0].message)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        list(DataLoader(list(range(4)), batch_size=2, pin_memory_device="cpu"))  # pin_memory=False
        list(DataLoader(list(range(4)), batch_size=2, pin_memory=True, pin_memory_device="cpu"))
    assert [str(w.message).split(",")[0] for w in caught] == [
        "pin_memory_device is deprecated",
        "'pin_memory' argument is set as true but no accelerator is found",
    ]


def test_data_classes_are_generic_as_in_pytorch():
    """Type-annotated subclasses (``class S(Sampler[list[int]])``, ``Dataset[Tensor]``) work,
    and the subclass still behaves as a sampler / dataset."""
    from retrograd.utils.data import DataLoader, Dataset, IterableDataset, Sampler, Subset

    class Pairs(Sampler[list[int]]):
        def __iter__(self):
            return iter([[0, 1], [2, 3]])

    class Squares(Dataset[rg.Tensor]):
        def __getitem__(self, i):
            return rg.tensor(float(i * i))

        def __len__(self):
            return 4

    class Stream(IterableDataset[int]):
        def __iter__(self):
            return iter(range(3))

    batches = [b.tolist() for b in DataLoader[rg.Tensor](Squares(), batch_sampler=Pairs())]
    assert batches == [[0.0, 1.0], [4.0, 9.0]]
    assert list(Stream()) == [0, 1, 2] and isinstance(Stream(), IterableDataset)
    assert Subset[rg.Tensor](Squares(), [3])[0].item() == 9.0
