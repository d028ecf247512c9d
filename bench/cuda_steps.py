"""Training steps on an NVIDIA GPU: retrograd on CuPy against PyTorch on CUDA, in one process.

    python bench/cuda_steps.py [--reps 30]

Each workload is written once against the PyTorch API with a ``device`` argument; steps are
timed with a device synchronisation after each, interleaved retrograd / PyTorch after warm-up.
The loss after the timed steps is printed for both as a sanity check that both trained.
Needs CuPy (``pip install cupy-cuda12x``) and, for the comparison, PyTorch with CUDA.
"""

import argparse
import math
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src"))


def mlp(torch, device, width, batch):
    nn, F = torch.nn, torch.nn.functional
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(784, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 10)
    ).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.standard_normal((batch, 784), dtype=np.float32)).to(device)
    y = torch.from_numpy(rng.integers(0, 10, batch)).to(device)

    def step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return step


def cnn(torch, device, batch=64):
    nn, F = torch.nn, torch.nn.functional
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(800, 128),
        nn.ReLU(),
        nn.Linear(128, 10),
    ).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.standard_normal((batch, 1, 28, 28), dtype=np.float32)).to(device)
    y = torch.from_numpy(rng.integers(0, 10, batch)).to(device)

    def step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return step


def gpt(torch, device, d=256, layers=4, heads=8, block=128, batch=32, vocab=65):
    nn, F = torch.nn, torch.nn.functional
    torch.manual_seed(0)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
            self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

        def forward(self, x):
            b, t, c = x.shape
            q, k, v = (z.view(b, t, heads, c // heads).transpose(1, 2) for z in self.qkv(self.ln1(x)).split(c, dim=2))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.proj(y.transpose(1, 2).reshape(b, t, c))
            return x + self.mlp(self.ln2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok, self.pos = nn.Embedding(vocab, d), nn.Embedding(block, d)
            self.blocks = nn.Sequential(*[Block() for _ in range(layers)])
            self.ln, self.head = nn.LayerNorm(d), nn.Linear(d, vocab)

        def forward(self, idx):
            x = self.tok(idx) + self.pos(torch.arange(idx.shape[1], device=idx.device))
            return self.head(self.ln(self.blocks(x)))

    model = GPT().to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4)
    rng = np.random.default_rng(0)
    seq = rng.integers(0, vocab, (batch, block + 1))
    x = torch.from_numpy(np.ascontiguousarray(seq[:, :-1])).to(device)
    y = torch.from_numpy(np.ascontiguousarray(seq[:, 1:])).to(device)

    def step():
        loss = F.cross_entropy(model(x).reshape(-1, vocab), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return step


WORKLOADS = {
    "mlp_small (784-512-512-10, b128)": lambda T, dev: mlp(T, dev, 512, 128),
    "mlp_large (784-4096-4096-10, b2048)": lambda T, dev: mlp(T, dev, 4096, 2048),
    "cnn (LeNet, b64)": lambda T, dev: cnn(T, dev),
    "gpt (d256, 4 layers, T128, b32, sdpa)": lambda T, dev: gpt(T, dev),
}


def timed(step, sync, reps, warmup=5):
    for _ in range(warmup):
        step()
    sync()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        loss = step()
        sync()
        times.append(time.perf_counter() - t)
    return statistics.median(times), float(loss.item())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=30)
    args = parser.parse_args()
    import cupy
    import retrograd

    libs = [("retrograd", retrograd, cupy.cuda.Device().synchronize)]
    try:
        import torch

        if torch.cuda.is_available():
            libs.append(("torch", torch, torch.cuda.synchronize))
    except ImportError:
        pass
    print(
        f"GPU: {cupy.cuda.runtime.getDeviceProperties(0)['name'].decode()}; CuPy {cupy.__version__}"
        + (f"; torch {libs[1][1].__version__}" if len(libs) > 1 else "")
    )
    print(f"{'workload':42s} {'retrograd ms':>13s} {'torch ms':>10s} {'ratio':>7s}  final losses")
    for name, make in WORKLOADS.items():
        results = []
        for lib_name, lib, sync in libs:
            try:
                results.append(timed(make(lib, "cuda"), sync, args.reps))
            except Exception as e:  # report and go on
                results.append((math.nan, f"{type(e).__name__}: {e}"[:80]))
        rg_ms = results[0][0] * 1e3
        th_ms = results[1][0] * 1e3 if len(results) > 1 else math.nan
        losses = ", ".join(f"{r[1]:.3f}" if isinstance(r[1], float) else r[1] for r in results)
        print(f"{name:42s} {rg_ms:13.2f} {th_ms:10.2f} {rg_ms / th_ms:7.2f}  {losses}")


if __name__ == "__main__":
    main()
