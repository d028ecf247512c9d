"""Sparse embedding gradients: a training step costs what the rows it touches cost, not the table.

    python bench/sparse_embedding.py                       # tables of 10k, 100k, 1M rows
    python bench/sparse_embedding.py --sizes 1000000 --batches 64,256,1024,4096
    python bench/sparse_embedding.py --torch               # also time PyTorch on the same steps

The step: ids of shape (batch, 20) -> nn.Embedding(N, 64, sparse=True) -> mean over the 20 ->
Linear(64, 10) -> cross-entropy -> backward -> optimizer step -> zero_grad. For each table size N,
batch size and optimizer it reports the median step time and the peak memory allocated during
one step (tracemalloc, which sees NumPy's buffers; the table and the optimizer state, allocated
before, are not counted), next to the same step with dense gradients (sparse=False, SGD).
With sparse gradients both columns stay flat as N grows and grow with the batch (the rows
touched); with dense gradients they grow with N.
"""

import argparse
import os
import statistics
import sys
import time
import tracemalloc
import warnings

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

BAG, DIM, CLASSES = 20, 64, 10

OPTIMIZERS = {
    "SGD": lambda torch, emb, head: [torch.optim.SGD(list(emb.parameters()) + list(head.parameters()), lr=0.1)],
    "SGD+momentum": lambda torch, emb, head: [
        torch.optim.SGD(list(emb.parameters()) + list(head.parameters()), lr=0.1, momentum=0.9)
    ],
    "Adagrad": lambda torch, emb, head: [torch.optim.Adagrad(list(emb.parameters()) + list(head.parameters()), lr=0.1)],
    "SparseAdam": lambda torch, emb, head: [
        torch.optim.SparseAdam(emb.parameters(), lr=1e-3),
        torch.optim.Adam(head.parameters(), lr=1e-3),
    ],
    "AdamW (lazy)": lambda torch, emb, head: [
        torch.optim.AdamW(list(emb.parameters()) + list(head.parameters()), lr=1e-3)
    ],
}


def build(torch, n_rows, batch, opt_name, sparse, seed=0):
    rng = np.random.default_rng(seed)
    ids = torch.from_numpy(rng.integers(0, n_rows, size=(batch, BAG), dtype=np.int64))
    y = torch.from_numpy(rng.integers(0, CLASSES, size=batch, dtype=np.int64))
    torch.manual_seed(0)
    emb = torch.nn.Embedding(n_rows, DIM, sparse=sparse)
    head = torch.nn.Linear(DIM, CLASSES)
    opts = OPTIMIZERS[opt_name](torch, emb, head)
    F = torch.nn.functional

    def step():
        loss = F.cross_entropy(head(emb(ids).mean(dim=1)), y)
        loss.backward()
        for o in opts:
            o.step()
        for o in opts:
            o.zero_grad()

    return step


def time_step(step, reps, warmup=2):
    """(median, best) seconds per step; the best is the steadier figure on a busy machine."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


def peak_step_memory(step, warmup=2):
    """Bytes allocated at the peak of one step, above what was held before it."""
    for _ in range(warmup):  # optimizer state is created lazily at the first step
        step()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        step()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def fmt_mb(b):
    return f"{b / 2**20:8.2f} MB"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10000,100000,1000000", help="table sizes (rows)")
    p.add_argument("--batches", default="256", help="batch sizes (each example looks up 20 ids)")
    p.add_argument("--optimizers", default=",".join(OPTIMIZERS), help="subset of: " + ", ".join(OPTIMIZERS))
    p.add_argument("--reps", type=int, default=10, help="timed steps per configuration")
    p.add_argument("--no-dense", action="store_true", help="skip the dense-gradient baseline")
    p.add_argument("--torch", action="store_true", help="also time PyTorch (if installed)")
    a = p.parse_args(argv)
    sizes = [int(s) for s in a.sizes.split(",")]
    batches = [int(b) for b in a.batches.split(",")]
    names = [o for o in a.optimizers.split(",") if o]

    import retrograd

    warnings.filterwarnings("ignore", message="Sparse invariant checks")  # PyTorch's, once per run
    torch = None
    if a.torch:
        try:
            import torch

            torch.set_num_threads(1)
        except ImportError:
            print("torch is not installed: reporting retrograd only")

    print(f"embedding dim {DIM}, {BAG} ids per example, 1 thread; memory = peak allocated during one step (retrograd)")
    header = (
        f"{'rows':>9} {'batch':>6} {'touched':>8}  {'optimizer':<13} {'grad':<6} {'step':>10} "
        f"{'best':>10} {'memory':>11}"
    )
    if torch is not None:
        header += f" {'torch step':>11} {'best':>10}"
    print(header)
    print("-" * len(header))
    for n in sizes:
        for batch in batches:
            touched = len(np.unique(np.random.default_rng(0).integers(0, n, size=(batch, BAG))))
            configs = [(o, True) for o in names] + ([] if a.no_dense else [("SGD", False)])
            for opt_name, sparse in configs:
                t, best = time_step(build(retrograd, n, batch, opt_name, sparse), a.reps)
                mem = peak_step_memory(build(retrograd, n, batch, opt_name, sparse))
                line = (
                    f"{n:>9} {batch:>6} {touched:>8}  {opt_name:<13} "
                    f"{'sparse' if sparse else 'dense':<6} {t * 1e3:>7.2f} ms {best * 1e3:>7.2f} ms "
                    f"{fmt_mb(mem)}"
                )
                if torch is not None:
                    try:
                        tt, tb = time_step(build(torch, n, batch, opt_name, sparse), a.reps)
                        line += f" {tt * 1e3:>8.2f} ms {tb * 1e3:>7.2f} ms"
                    except RuntimeError:  # PyTorch's AdamW refuses sparse gradients
                        line += f" {'n/a':>11} {'':>10}"
                print(line, flush=True)


if __name__ == "__main__":
    main()
