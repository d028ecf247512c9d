"""The data shipped with the examples loads with the documented shapes and contents."""

import importlib.util
import os

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _datasets():
    spec = importlib.util.spec_from_file_location("example_datasets", os.path.join(ROOT, "examples", "datasets.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mnist_files_and_split():
    xtr, ytr, xte, yte = _datasets().load_digits_mnist()
    assert xtr.shape == (4000, 1, 28, 28) and xte.shape == (1000, 1, 28, 28)
    assert xtr.dtype == np.float32 and xte.dtype == np.float32
    assert ytr.shape == (4000,) and yte.shape == (1000,)
    assert ytr.dtype == np.int64 and yte.dtype == np.int64
    for x in (xtr, xte):
        assert x.min() == 0.0 and x.max() == 1.0
        # MNIST digits: mostly background, roughly a fifth of the pixels inked
        assert 0.1 < (x > 0).mean() < 0.3
    assert np.array_equal(np.bincount(ytr, minlength=10), np.full(10, 400))
    assert np.array_equal(np.bincount(yte, minlength=10), np.full(10, 100))
    # train and test are disjoint: no test image also appears in train
    train_rows = {row.tobytes() for row in xtr.reshape(4000, -1)}
    assert not any(row.tobytes() in train_rows for row in xte.reshape(1000, -1))


def test_mnist_split_is_deterministic():
    ds = _datasets()
    a, b = ds.load_digits_mnist(), ds.load_digits_mnist()
    for u, v in zip(a, b):
        assert np.array_equal(u, v)
    other = ds.load_digits_mnist(seed=1)
    assert not np.array_equal(a[1], other[1])


def test_mnist_raw_file():
    with np.load(os.path.join(ROOT, "examples", "data", "mnist_5k.npz")) as data:
        images, labels = data["images"], data["labels"]
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (5000,) and labels.dtype == np.uint8
    assert set(np.unique(labels)) == set(range(10))


def test_shakespeare_text():
    text = _datasets().load_shakespeare()
    assert isinstance(text, str)
    assert 300_000 < len(text) < 600_000
    assert "ROMEO:\n" in text and "KING RICHARD III:\n" in text and "MACBETH:\n" in text
    assert text.startswith("First Citizen:\nBefore we proceed any further, hear me speak.\n")
    # markdown markup from the source has been stripped
    assert not any(ch in text for ch in "*_#\\")
