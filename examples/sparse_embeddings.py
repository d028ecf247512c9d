"""Learn word embeddings from Shakespeare with sparse gradients (skip-gram, negative sampling).

Each step touches only the rows of the embedding tables that its words use: ``nn.Embedding(...,
sparse=True)`` makes the gradient a sparse COO tensor and ``optim.SparseAdam`` updates just
those rows, so a step costs the same whatever the vocabulary size. Written against PyTorch's
API (``--torch`` runs it with PyTorch, if installed); writes the loss curve to
``sparse_embeddings_loss.png`` next to this file and prints nearest neighbours of a few words.
"""

import argparse
import collections
import re
import time

import numpy as np

from _common import import_library, plot_losses, progress, show_loss
from datasets import load_shakespeare

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--steps", type=int, default=3000)
parser.add_argument("--batch-size", type=int, default=512)
parser.add_argument("--dim", type=int, default=64)
parser.add_argument("--window", type=int, default=3)
parser.add_argument("--negatives", type=int, default=5)
parser.add_argument("--lr", type=float, default=0.01)
parser.add_argument("--torch", action="store_true", help="run with PyTorch instead of retrograd")
parser.add_argument("--no-plot", action="store_true")
args = parser.parse_args()

torch = import_library(args.torch)
nn, F = torch.nn, torch.nn.functional


class SkipGram(nn.Module):
    def __init__(self, vocab, dim):
        super().__init__()
        self.center = nn.Embedding(vocab, dim, sparse=True)
        self.context = nn.Embedding(vocab, dim, sparse=True)
        nn.init.uniform_(self.center.weight, -0.5 / dim, 0.5 / dim)
        nn.init.zeros_(self.context.weight)

    def forward(self, center, context):
        # center: (B,), context: (B, 1 + negatives) -> logits (B, 1 + negatives)
        return (self.context(context) * self.center(center).unsqueeze(1)).sum(-1)


def main():
    torch.manual_seed(0)
    words = re.findall(r"[a-z']+", load_shakespeare().lower())
    counts = collections.Counter(words)
    vocab = [w for w, c in counts.most_common() if c >= 3]
    index = {w: i for i, w in enumerate(vocab)}
    ids = np.array([index[w] for w in words if w in index], dtype=np.int64)
    freq = np.array([counts[w] for w in vocab], dtype=np.float64) ** 0.75
    noise = freq / freq.sum()
    rng = np.random.default_rng(0)
    print(f"{len(ids)} tokens, vocabulary of {len(vocab)} words")

    model = SkipGram(len(vocab), args.dim)
    opt = torch.optim.SparseAdam(list(model.parameters()), lr=args.lr)
    target = np.zeros((args.batch_size, 1 + args.negatives), dtype=np.float32)
    target[:, 0] = 1
    target = torch.from_numpy(target)
    losses = []
    start = time.perf_counter()
    bar = progress(range(args.steps), "training")
    for step in bar:
        pos = rng.integers(args.window, len(ids) - args.window, size=args.batch_size)
        offset = rng.integers(1, args.window + 1, size=args.batch_size) * rng.choice([-1, 1], size=args.batch_size)
        negatives = rng.choice(len(vocab), size=(args.batch_size, args.negatives), p=noise)
        center = torch.from_numpy(ids[pos])
        context = torch.from_numpy(np.concatenate([ids[pos + offset][:, None], negatives], axis=1))
        loss = F.binary_cross_entropy_with_logits(model(center, context), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if step % 50 == 0:
            show_loss(bar, np.mean(losses[-50:]))
    print(f"loss {np.mean(losses[:50]):.3f} -> {np.mean(losses[-50:]):.3f} in {time.perf_counter() - start:.1f}s")
    emb = model.center.weight.detach().numpy()
    emb = emb / (np.linalg.norm(emb, axis=1, keepdims=True) + 1e-8)
    for w in ("king", "love", "night", "sword", "father"):
        sims = emb @ emb[index[w]]
        near = [vocab[i] for i in np.argsort(-sims)[1:7]]
        print(f"{w:>7}: {', '.join(near)}")
    if not args.no_plot:
        smooth = np.convolve(losses, np.ones(50) / 50, mode="valid")
        plot_losses(
            smooth,
            "sparse_embeddings_loss",
            "skip-gram embeddings with sparse gradients",
            ylabel="negative-sampling loss (50-step mean)",
        )


if __name__ == "__main__":
    main()
