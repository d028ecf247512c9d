"""DistributedDataParallel on N ranks; the scenario is the first argument.

Each scenario checks its results on every rank and prints "OK <rank>" when they hold. Models are
in float64 so that "equal to one process training on the whole batch" can be checked tightly:
the only difference is the order of the floating-point additions in the averaged gradient.
"""

import copy
import sys
import time

import numpy as np

import retrograd as torch
import retrograd.distributed as dist
import retrograd.nn as nn
import retrograd.nn.functional as F
from retrograd.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group()
rank, world = dist.get_rank(), dist.get_world_size()
torch.set_default_dtype(torch.float64)
GLOBAL_BATCH = 8 * world


def gather_flat(tensors):
    """Every rank's concatenated values of ``tensors``."""
    mine = np.concatenate([np.asarray(t.detach()).reshape(-1) for t in tensors])
    out = [None] * world
    dist.all_gather_object(out, mine)
    return out


def assert_same_on_every_rank(tensors, what):
    everyone = gather_flat(tensors)
    for r, theirs in enumerate(everyone):
        assert np.array_equal(theirs, everyone[0]), f"{what} differ between rank 0 and rank {r}"


def assert_close(model_a, model_b, what, rtol=1e-9):
    """Parameters agree to ``rtol`` of each tensor's largest entry. An absolute floor scaled to
    the tensor, not a fixed one: entries whose true gradient is exactly zero (the key part of an
    attention input bias) carry only rounding noise, which Adam's normalisation magnifies."""
    for (name, a), b in zip(model_a.named_parameters(), model_b.parameters()):
        a, b = np.asarray(a.detach()), np.asarray(b.detach())
        atol = rtol * max(float(np.abs(b).max(initial=0.0)), 1e-3)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"{what}: parameter {name} on rank {rank}")


def my_rows(x):
    """This rank's contiguous share of a global batch."""
    n = x.shape[0] // world
    return x[rank * n : (rank + 1) * n]


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(6, 16), nn.Linear(16, 16), nn.Linear(16, 3)])

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = torch.relu(layer(x))
        return self.layers[-1](x)


mlp = MLP


def mlp_loss(model, x, y):
    return ((model(x) - y) ** 2).mean()


def mlp_data(rng, steps):
    return [
        (torch.tensor(rng.standard_normal((GLOBAL_BATCH, 6))), torch.tensor(rng.standard_normal((GLOBAL_BATCH, 3))))
        for _ in range(steps)
    ]


class TinyGPT(nn.Module):
    """Token and position embeddings, two causal pre-norm nn.TransformerEncoderLayer blocks,
    a final LayerNorm and a token head: the transformer example's model, smaller."""

    def __init__(self, vocab=11, d=16, heads=2, block=8):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(block, d)
        self.blocks = nn.ModuleList(
            [
                nn.TransformerEncoderLayer(d, heads, 4 * d, dropout=0.0, batch_first=True, norm_first=True)
                for _ in range(2)
            ]
        )
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(block))

    def forward(self, idx):
        t = idx.shape[1]
        x = self.tok(idx) + self.pos(torch.arange(t))
        for block in self.blocks:
            x = block(x, src_mask=self.mask[:t, :t], is_causal=True)
        return self.head(self.ln(x))


def gpt_loss(model, idx, targets):
    logits = model(idx)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def token_data(rng, steps):
    out = []
    for _ in range(steps):
        seq = torch.tensor(rng.integers(0, 11, size=(GLOBAL_BATCH, 9)))
        out.append((seq[:, :-1], seq[:, 1:]))
    return out


def train_like_one_process(build, loss_fn, data_fn, steps=5, **ddp_kwargs):
    """Two ranks on half batches each vs one process on the whole batch, AdamW."""
    torch.manual_seed(100 + rank)  # every rank starts differently: DDP must broadcast rank 0's
    model = build()
    ddp = DDP(model, **ddp_kwargs)
    assert_same_on_every_rank(list(model.parameters()) + list(model.buffers()), "initial parameters")
    reference = copy.deepcopy(model)
    opt = torch.optim.AdamW(ddp.parameters(), lr=1e-2, weight_decay=0.1)
    ref_opt = torch.optim.AdamW(reference.parameters(), lr=1e-2, weight_decay=0.1)
    for x, y in data_fn(np.random.default_rng(0), steps):
        loss_fn(ddp, my_rows(x), my_rows(y)).backward()
        opt.step()
        opt.zero_grad()
        loss_fn(reference, x, y).backward()
        ref_opt.step()
        ref_opt.zero_grad()
    assert_same_on_every_rank(model.parameters(), "parameters after training")
    assert_close(model, reference, "DDP vs one process")
    moved = sum(float((a - b).abs().sum()) for a, b in zip(model.parameters(), build().parameters()))
    assert moved > 0


def scenario_mlp():
    train_like_one_process(mlp, mlp_loss, mlp_data)
    train_like_one_process(mlp, mlp_loss, mlp_data, bucket_cap_mb=0.001)  # several buckets


def scenario_transformer():
    train_like_one_process(TinyGPT, gpt_loss, token_data, steps=4, bucket_cap_mb=0.01)


def scenario_no_sync():
    """Two micro-batches per rank, the first under no_sync: one step equals a batch twice as
    large on one process."""
    torch.manual_seed(0)
    model = mlp()
    ddp = DDP(model)
    reference = copy.deepcopy(model)
    x, y = mlp_data(np.random.default_rng(1), 1)[0]
    xs, ys = my_rows(x), my_rows(y)
    half = xs.shape[0] // 2
    with ddp.no_sync():
        (mlp_loss(ddp, xs[:half], ys[:half]) / 2).backward()
    local = gather_flat([p.grad for p in model.parameters()])
    assert not np.array_equal(local[0], local[-1]), "no_sync must not average gradients"
    (mlp_loss(ddp, xs[half:], ys[half:]) / 2).backward()
    assert_same_on_every_rank([p.grad for p in model.parameters()], "accumulated gradients")
    mlp_loss(reference, x, y).backward()
    for p, q in zip(model.parameters(), reference.parameters()):
        np.testing.assert_allclose(np.asarray(p.grad), np.asarray(q.grad), rtol=1e-10, atol=1e-13)


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 4)
        self.a = nn.Linear(4, 1)
        self.b = nn.Linear(4, 1)
        self.never = nn.Linear(4, 1)

    def forward(self, x, use_b):
        h = torch.relu(self.body(x))
        return self.a(h) + self.b(h) if use_b else self.a(h)


def scenario_unused():
    """Head b is used on the last rank only, head `never` on none."""
    torch.manual_seed(0)
    model = TwoHeads()
    plain = copy.deepcopy(model)
    ddp = DDP(model, find_unused_parameters=True, bucket_cap_mb=0.0002)
    x = torch.tensor(np.random.default_rng(rank).standard_normal((5, 4)))
    use_b = rank == world - 1
    for step in range(2):
        ddp(x, use_b).sum().backward()
        plain(x, use_b).sum().backward()
        names = [n for n, _ in plain.named_parameters()]
        local = [None] * world
        dist.all_gather_object(
            local, {n: None if p.grad is None else np.asarray(p.grad) for n, p in plain.named_parameters()}
        )
        for name, p in model.named_parameters():
            grads = [g[name] for g in local]
            if name.startswith("never"):
                assert p.grad is None, name
                continue
            expected = sum(np.zeros_like(np.asarray(p.detach())) if g is None else g for g in grads)
            np.testing.assert_allclose(np.asarray(p.grad), expected / world, rtol=1e-12, atol=1e-14, err_msg=name)
        ddp.zero_grad()
        plain.zero_grad()
    assert names


def scenario_overlap():
    """Buckets are launched (non-blocking Iallreduce) while backward still has gradients to
    compute, and backward returns only after all of them completed."""
    torch.manual_seed(0)
    model = nn.Sequential(*[nn.Linear(64, 64) for _ in range(6)])
    ddp = DDP(model, bucket_cap_mb=0.04)  # 64x64 float64 weights: about one layer per bucket
    buckets = ddp.reducer.buckets
    assert len(buckets) >= 4
    grad_times = {}
    for name, p in model.named_parameters():
        p.register_post_accumulate_grad_hook(lambda p, name=name: grad_times.setdefault(name, time.perf_counter()))
    ddp.reducer.events = events = []
    torch.manual_seed(rank)
    x = torch.randn(32, 64)
    loss = ddp(x).pow(2).mean()
    loss.backward()
    end = time.perf_counter()
    launches = [(k, t) for kind, k, t in events if kind == "launch"]
    assert [k for k, _ in launches] == list(range(len(buckets))), launches
    wait = next(t for kind, _, t in events if kind == "wait")
    done = next(t for kind, _, t in events if kind == "done")
    last_grad = max(grad_times.values())  # the first layer's: the end of backward's compute
    names = [n for n, _ in model.named_parameters()]
    for k, t in launches[:-1]:
        later = [grad_times[names[i]] for b in buckets[k + 1 :] for i in b.indices]
        assert t < min(later), f"bucket {k} was launched after later gradients were ready"
        assert t < last_grad
    assert max(t for _, t in launches) <= wait < done <= end
    for p in model.parameters():
        assert p.grad is not None
    assert_same_on_every_rank([p.grad for p in model.parameters()], "gradients")
    print(
        f"rank {rank}: {len(launches)} buckets, first launched "
        f"{(last_grad - launches[0][1]) * 1e3:.2f} ms before the last gradient was ready"
    )


def scenario_mismatch():
    """A model that differs on one rank is refused at construction, on every rank."""
    model = nn.Sequential(nn.Linear(4, 3 if rank == world - 1 else 2))
    try:
        DDP(model)
    except RuntimeError as e:
        msg = str(e)
        assert "'0.weight'" in msg and "[3, 4]" in msg and "[2, 4]" in msg, msg
    else:
        raise AssertionError("mismatched parameter shapes were accepted")


class Bag(nn.Module):
    def __init__(self):
        super().__init__()
        self.table = nn.Embedding(20, 3, sparse=True)
        self.head = nn.Linear(3, 1)

    def forward(self, ids):
        return self.head(self.table(ids).mean(1) if ids is not None else torch.zeros(1, 3))


def scenario_sparse():
    """Sparse gradients are gathered (every rank's rows), not densified; a rank that did not
    touch the table contributes nothing."""
    torch.manual_seed(0)
    model = Bag()
    reference = copy.deepcopy(model)
    ddp = DDP(model, find_unused_parameters=True)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.5)
    ref_opt = torch.optim.SGD(reference.parameters(), lr=0.5)
    rng = np.random.default_rng(0)
    for step in range(3):
        ids = torch.tensor(rng.integers(0, 20, size=(2 * world, 4)))
        mine = my_rows(ids)
        skip = step == 1 and rank == 0  # this rank leaves the table out of one step
        ddp(None if skip else mine).pow(2).sum().backward()
        g = model.table.weight.grad
        assert g.is_sparse, "the table's gradient must stay sparse"
        parts = [None] * world
        dist.all_gather_object(parts, None if skip else np.unique(np.asarray(mine)))
        touched = np.unique(np.concatenate([p for p in parts if p is not None]))
        assert set(np.asarray(g.coalesce()._indices()).reshape(-1)) == set(touched)
        opt.step()
        opt.zero_grad()
        loss = (
            sum(reference(None if step == 1 and r == 0 else ids[2 * r : 2 * r + 2]).pow(2).sum() for r in range(world))
            / world
        )
        loss.backward()
        ref_opt.step()
        ref_opt.zero_grad()
    assert_same_on_every_rank(model.parameters(), "parameters after training")
    assert_close(model, reference, "DDP with sparse gradients vs one process")


def scenario_cuda():
    """Parameters and gradients on the GPU: they travel through host buffers and come back."""
    torch.manual_seed(100 + rank)
    model = mlp().to("cuda")
    ddp = DDP(model, bucket_cap_mb=0.001)
    reference = copy.deepcopy(model).to("cpu")
    opt = torch.optim.AdamW(ddp.parameters(), lr=1e-2)
    ref_opt = torch.optim.AdamW(reference.parameters(), lr=1e-2)
    for x, y in mlp_data(np.random.default_rng(0), 3):
        mlp_loss(ddp, my_rows(x).cuda(), my_rows(y).cuda()).backward()
        assert all(p.grad.is_cuda for p in model.parameters())
        opt.step()
        opt.zero_grad()
        mlp_loss(reference, x, y).backward()
        ref_opt.step()
        ref_opt.zero_grad()
    model.cpu()
    assert_same_on_every_rank(model.parameters(), "parameters after training")
    assert_close(model, reference, "DDP on the GPU vs one process on the CPU")


globals()["scenario_" + sys.argv[1]]()
dist.barrier()
print(f"OK {rank}", flush=True)
