"""Small real datasets shipped with the examples, so they run without a download.

Both loaders are pure NumPy. The files live in ``examples/data`` (see its README for
provenance and licences).
"""

import os

import numpy as np

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def load_digits_mnist(path=None, seed=0):
    """5,000 real MNIST digits (500 per class), split 4,000 train / 1,000 test.

    Returns ``(train_images, train_labels, test_images, test_labels)``: images are
    float32 of shape (N, 1, 28, 28) scaled to [0, 1] (pixel / 255); labels are int64
    in 0..9.

    The stored file is sorted by label, so a head/tail split would put whole classes
    in one side. Instead the split is stratified: within each class a seeded shuffle
    sends 100 images to test and 400 to train, then each side is shuffled. It uses
    ``np.random.RandomState``, whose stream NumPy keeps fixed, so a given ``seed``
    gives the same split on every NumPy version.
    """
    path = path or os.path.join(DATA_DIR, "mnist_5k.npz")
    with np.load(path) as data:
        images, labels = data["images"], data["labels"]
    rng = np.random.RandomState(seed)
    train_idx, test_idx = [], []
    for c in range(10):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_test = len(idx) // 5
        test_idx.append(idx[:n_test])
        train_idx.append(idx[n_test:])
    train_idx = rng.permutation(np.concatenate(train_idx))
    test_idx = rng.permutation(np.concatenate(test_idx))

    def prepare(idx):
        x = images[idx].astype(np.float32)[:, None, :, :] / np.float32(255.0)
        return x, labels[idx].astype(np.int64)

    return (*prepare(train_idx), *prepare(test_idx))


def load_shakespeare(path=None):
    """Plain text of four Shakespeare plays (about 517 KB) as one string.

    Format as in the classic tiny-shakespeare corpus: ``"NAME:\\nline\\nline\\n\\n"``
    per speech, stage directions and headings removed.
    """
    path = path or os.path.join(DATA_DIR, "shakespeare.txt")
    with open(path, encoding="utf-8") as f:
        return f.read()
