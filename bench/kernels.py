"""The array kernels under the workloads, NumPy against torch, one thread, in one process.

retrograd's step time is its Python plus the NumPy (and BLAS) kernels it calls; torch's is its
dispatcher plus its own kernels (MKL or oneDNN for products, vectorised loops for the rest). How
fast those kernels are relative to each other depends on the CPU and on the BLAS NumPy was built
with, and it bounds what any workload ratio can be: a step that is 80% matrix products cannot
run faster than the ratio of the products. This prints that floor for the kernels the bench
workloads spend their time in, with the same shapes:

    python bench/kernels.py            # or: make bench BENCH_ARGS=... for the workloads

Each row is the best of several timed runs (the same kernel into a preallocated output where
both libraries allow it); the ratio is NumPy's time over torch's. Needs torch installed.
"""

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import timeit  # noqa: E402

import numpy as np  # noqa: E402


def _best(fn, number=50, repeat=7):
    """Seconds per call: the best of ``repeat`` runs of ``number`` calls."""
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def _cases(torch, rng):
    """(name, numpy call, torch call) for each kernel, with the workloads' shapes."""
    cases = []
    products = [
        ("matmul 128x784 @ 784x512 (mlp)", (128, 784), (784, 512)),
        ("matmul 1024x128 @ 128x512 (gpt, lstm input)", (1024, 128), (128, 512)),
        ("matmul 1024x512 @ 512x128 (gpt)", (1024, 512), (512, 128)),
        ("matmul 32x128 @ 128x512 (lstm step)", (32, 128), (128, 512)),
        ("matmul 32x512 @ 512x128 (lstm step back)", (32, 512), (512, 128)),
    ]
    for name, sa, sb in products:
        a, b = rng.standard_normal(sa, dtype=np.float32), rng.standard_normal(sb, dtype=np.float32)
        o = np.empty((sa[0], sb[1]), np.float32)
        ta, tb, to = torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(o.copy())
        cases.append(
            (name, lambda a=a, b=b, o=o: np.matmul(a, b, out=o), lambda a=ta, b=tb, o=to: torch.mm(a, b, out=o))
        )
    x = rng.standard_normal((1024, 512), dtype=np.float32)  # gpt: batch 16 x block 64, 4 x d_model
    o = np.empty_like(x)
    tx, to = torch.from_numpy(x), torch.from_numpy(o.copy())
    for name, f, g in [
        ("exp (1024x512)", lambda: np.exp(x, out=o), lambda: torch.exp(tx, out=to)),
        ("tanh (1024x512)", lambda: np.tanh(x, out=o), lambda: torch.tanh(tx, out=to)),
        ("multiply (1024x512)", lambda: np.multiply(x, x, out=o), lambda: torch.mul(tx, tx, out=to)),
        ("sum, last axis (1024x512)", lambda: x.sum(-1), lambda: tx.sum(-1)),
        ("sum, first axis (1024x512)", lambda: x.sum(0), lambda: tx.sum(0)),
        ("sum, all (1024x512)", lambda: x.sum(), lambda: tx.sum()),
    ]:
        cases.append((name, f, g))
    return cases


def main():
    try:
        import torch
    except ImportError:
        raise SystemExit("bench/kernels.py compares with torch: pip install torch==2.13.0") from None
    torch.set_num_threads(1)
    try:
        from threadpoolctl import threadpool_info, threadpool_limits

        threadpool_limits(1)
        blas = ", ".join(
            f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')})"
            for i in threadpool_info()
            if i.get("user_api") == "blas"
        )
    except ImportError:
        blas = "unknown (threadpoolctl is not installed)"
    print(f"numpy {np.__version__} with {blas}; torch {torch.__version__}; 1 thread")
    print(f"  {'kernel':46s} {'numpy us':>9s} {'torch us':>9s} {'ratio':>6s}")
    for name, f, g in _cases(torch, np.random.default_rng(0)):
        tn, tt = _best(f), _best(g)
        print(f"  {name:46s} {tn * 1e6:9.1f} {tt * 1e6:9.1f} {tn / tt:6.2f}")


if __name__ == "__main__":
    main()
