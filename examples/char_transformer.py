"""Train a small character-level transformer (decoder-only, GPT-style) on Shakespeare, then
sample from it.

Written against PyTorch's API; ``import retrograd as torch`` is the only change (``--torch``
runs the same script with PyTorch, if installed). Writes the loss curve to
``char_transformer_loss.png`` next to this file.
"""

import argparse
import math
import time

import numpy as np

from _common import import_library, plot_losses, progress, show_loss
from datasets import load_shakespeare

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--steps", type=int, default=600)
parser.add_argument("--batch-size", type=int, default=32)
parser.add_argument("--block", type=int, default=64)
parser.add_argument("--layers", type=int, default=3)
parser.add_argument("--d-model", type=int, default=96)
parser.add_argument("--heads", type=int, default=4)
parser.add_argument("--lr", type=float, default=3e-3)
parser.add_argument("--sample-chars", type=int, default=400)
parser.add_argument("--torch", action="store_true", help="run with PyTorch instead of retrograd")
parser.add_argument("--no-plot", action="store_true")
parser.add_argument(
    "--distributed",
    action="store_true",
    help="data-parallel training: `mpiexec -n 2 python char_transformer.py --distributed` "
    "(each rank trains on batch-size / ranks sequences per step)",
)
args = parser.parse_args()

torch = import_library(args.torch)
nn, F = torch.nn, torch.nn.functional


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, d))
        return x + self.mlp(self.ln2(x))


class CharGPT(nn.Module):
    def __init__(self, vocab, block, d, layers, heads):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(block, d)
        self.blocks = nn.Sequential(*[Block(d, heads) for _ in range(layers)])
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab)

    def forward(self, idx):
        t = idx.shape[1]
        x = self.tok(idx) + self.pos(torch.arange(t))
        return self.head(self.ln(self.blocks(x)))


def main():
    torch.manual_seed(0)
    rank, world = 0, 1
    if args.distributed:  # rank and world size from the launcher (mpiexec; torchrun with --torch)
        torch.distributed.init_process_group()
        rank, world = torch.distributed.get_rank(), torch.distributed.get_world_size()
    text = load_shakespeare()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = np.array([stoi[c] for c in text], dtype=np.int64)
    split = int(0.9 * len(data))
    train, val = data[:split], data[split:]
    rng = np.random.default_rng(rank)  # each rank draws its own batches

    def batch(source, size=args.batch_size // world):
        starts = rng.integers(0, len(source) - args.block - 1, size=size)
        x = np.stack([source[s : s + args.block] for s in starts])
        y = np.stack([source[s + 1 : s + args.block + 1] for s in starts])
        return torch.from_numpy(x), torch.from_numpy(y)

    model = CharGPT(len(chars), args.block, args.d_model, args.layers, args.heads)
    net = model
    if args.distributed:  # rank 0's weights everywhere; backward averages the gradients
        net = nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=0.01)
    warmup = 50
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s, args.steps) / args.steps))
    )
    losses = []
    start = time.perf_counter()
    bar = progress(range(args.steps), "training", show=rank == 0)
    for step in bar:
        xb, yb = batch(train)
        logits = net(xb)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), yb.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
        show_loss(bar, losses[-1])
    if rank != 0:  # the replicas are identical: rank 0 evaluates and samples
        return
    model.eval()
    with torch.no_grad():
        xb, yb = batch(val, args.batch_size)
        logits = model(xb)
        val_loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), yb.reshape(-1)).item()
    print(
        f"train loss {np.mean(losses[-50:]):.3f}, validation loss {val_loss:.3f} "
        f"(uniform guessing: {math.log(len(chars)):.3f}), {time.perf_counter() - start:.1f}s"
    )
    print("--- sample ---")
    print(sample(model, stoi, chars, "ROMEO:\n", args.sample_chars))
    if not args.no_plot:
        plot_losses(losses, "char_transformer_loss", "character-level transformer on Shakespeare")


def sample(model, stoi, chars, prompt, n, temperature=0.8):
    idx = [stoi[c] for c in prompt]
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for _ in range(n):
            context = torch.tensor([idx[-args.block :]])
            logits = model(context)[0, -1] / temperature
            probs = F.softmax(logits, dim=-1)
            idx.append(int(torch.multinomial(probs, 1, generator=gen).item()))
    return "".join(chars[i] for i in idx)


if __name__ == "__main__":
    main()
