"""Benchmark workloads, each written once against a PyTorch-shaped module `torch`.

A workload is a pair of functions:

    data(rng)          -> dict of NumPy arrays (seeded, so every library sees identical inputs)
    build(torch, data) -> step(), a callable running one full training step

`build` receives either the real `torch` or `retrograd` and uses only PyTorch's public API,
so the same source runs under both. A step is forward, loss, backward, optimizer step and
zero_grad (op_overhead and matmul_big have no optimizer: they clear the leaves' .grad).
"""

import math

import numpy as np


def _seed(torch):
    """Seed parameter init where the library offers it; timings do not depend on the values."""
    seed = getattr(torch, "manual_seed", None)
    if seed is not None:
        seed(0)


# --- op_overhead: 200 tiny elementwise ops, dominated by per-op cost ---------------------------


def op_overhead_data(rng):
    return {"x": rng.standard_normal(16).astype(np.float32)}


def op_overhead_build(torch, data):
    x = torch.tensor(data["x"], requires_grad=True)

    def step():
        y = x
        for _ in range(25):  # 8 ops per round, each keeps |y| bounded: 200 ops in all
            y = torch.sin(y * 0.9)
            y = torch.tanh(y + 0.1)
            y = torch.exp(y) * 0.5
            y = torch.cos(y - 0.5)
        y.sum().backward()
        x.grad = None

    return step


def op_overhead_guarded_build(torch, data):
    """op_overhead with a graph break before its backward: a step whose forward gave NaN is
    skipped (``bool`` of a tensor; under ``compile`` a check between two replayed pieces)."""
    x = torch.tensor(data["x"], requires_grad=True)

    def step():
        y = x
        for _ in range(25):
            y = torch.sin(y * 0.9)
            y = torch.tanh(y + 0.1)
            y = torch.exp(y) * 0.5
            y = torch.cos(y - 0.5)
        if torch.isnan(y).any():
            return
        y.sum().backward()
        x.grad = None

    return step


# --- mlp: 784-512-512-10, ReLU, batch 128, SGD with momentum ------------------------------------


def mlp_data(rng):
    return {"x": rng.standard_normal((128, 784), dtype=np.float32), "y": rng.integers(0, 10, size=128, dtype=np.int64)}


def mlp_build(torch, data):
    nn, F = torch.nn, torch.nn.functional
    _seed(torch)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = torch.from_numpy(data["x"]), torch.from_numpy(data["y"])

    def step():
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()

    return step


# --- cnn: two conv/relu/maxpool stages and two linear layers, batch 64 of 1x28x28 --------------


def cnn_data(rng):
    return {
        "x": rng.standard_normal((64, 1, 28, 28), dtype=np.float32),
        "y": rng.integers(0, 10, size=64, dtype=np.int64),
    }


def cnn_build(torch, data):
    nn, F = torch.nn, torch.nn.functional

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 16, 5, padding=2)  # 16 x 28 x 28, pooled to 14 x 14
            self.conv2 = nn.Conv2d(16, 32, 5)  # 32 x 10 x 10, pooled to 5 x 5
            self.fc1 = nn.Linear(32 * 5 * 5, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            return self.fc2(self.fc1(torch.flatten(x, 1)))

    _seed(torch)
    model = CNN()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = torch.from_numpy(data["x"]), torch.from_numpy(data["y"])

    def step():
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()

    return step


# --- gpt: char-level decoder-only transformer, two attention variants ---------------------------

VOCAB, BLOCK, LAYERS, HEADS, D_MODEL, BATCH = 65, 64, 4, 4, 128, 16


def gpt_data(rng):
    seq = rng.integers(0, VOCAB, size=(BATCH, BLOCK + 1), dtype=np.int64)
    return {"idx": np.ascontiguousarray(seq[:, :-1]), "targets": np.ascontiguousarray(seq[:, 1:])}


def gpt_model(torch, sdpa):
    """A GPT in plain PyTorch style; `sdpa` picks fused attention over matmul+mask+softmax."""
    nn, F = torch.nn, torch.nn.functional

    class CausalSelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(D_MODEL, 3 * D_MODEL)
            self.proj = nn.Linear(D_MODEL, D_MODEL)
            self.register_buffer("mask", torch.tril(torch.ones(BLOCK, BLOCK)).view(1, 1, BLOCK, BLOCK))

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = self.qkv(x).split(C, dim=2)
            q, k, v = (t.view(B, T, HEADS, C // HEADS).transpose(1, 2) for t in (q, k, v))
            if sdpa:
                y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            else:
                att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
                att = att.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf"))
                y = F.softmax(att, dim=-1) @ v
            return self.proj(y.transpose(1, 2).contiguous().view(B, T, C))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(D_MODEL), nn.LayerNorm(D_MODEL)
            self.attn = CausalSelfAttention()
            self.mlp = nn.Sequential(nn.Linear(D_MODEL, 4 * D_MODEL), nn.GELU(), nn.Linear(4 * D_MODEL, D_MODEL))

        def forward(self, x):
            x = x + self.attn(self.ln1(x))
            return x + self.mlp(self.ln2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok_emb = nn.Embedding(VOCAB, D_MODEL)
            self.pos_emb = nn.Embedding(BLOCK, D_MODEL)
            self.blocks = nn.ModuleList([Block() for _ in range(LAYERS)])
            self.ln_f = nn.LayerNorm(D_MODEL)
            self.head = nn.Linear(D_MODEL, VOCAB, bias=False)

        def forward(self, idx, targets):
            B, T = idx.shape
            x = self.tok_emb(idx) + self.pos_emb(torch.arange(T))
            for block in self.blocks:
                x = block(x)
            logits = self.head(self.ln_f(x))
            return F.cross_entropy(logits.view(B * T, VOCAB), targets.view(B * T))

    return GPT()


def _gpt_build(torch, data, sdpa):
    _seed(torch)
    model = gpt_model(torch, sdpa)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4)
    idx, targets = torch.from_numpy(data["idx"]), torch.from_numpy(data["targets"])

    def step():
        loss = model(idx, targets)
        loss.backward()
        opt.step()
        opt.zero_grad()

    return step


def gpt_manual_build(torch, data):
    return _gpt_build(torch, data, sdpa=False)


def gpt_sdpa_build(torch, data):
    return _gpt_build(torch, data, sdpa=True)


# --- embedding_sparse: sparse embedding gradients through a mean-pooled bag of ids -------------


def embedding_sparse_data(rng):
    return {
        "ids": rng.integers(0, 100_000, size=(256, 20), dtype=np.int64),
        "y": rng.integers(0, 10, size=256, dtype=np.int64),
    }


def embedding_sparse_build(torch, data):
    nn, F = torch.nn, torch.nn.functional
    _seed(torch)
    emb = nn.Embedding(100_000, 64, sparse=True)
    head = nn.Linear(64, 10)
    opt = torch.optim.SGD(list(emb.parameters()) + list(head.parameters()), lr=0.1)
    ids, y = torch.from_numpy(data["ids"]), torch.from_numpy(data["y"])

    def step():
        loss = F.cross_entropy(head(emb(ids).mean(dim=1)), y)
        loss.backward()
        opt.step()
        opt.zero_grad()

    return step


# --- gcn: pytorch/examples' two-layer GCN on a fixed sparse normalized adjacency ----------------


def _gcn_data(rng, n, features, classes, degree):
    """A random undirected graph's D^-1/2 (A + I) D^-1/2 as COO arrays (coalesced order), node
    features, labels and a training mask."""
    src = rng.integers(0, n, size=n * degree // 2)
    dst = rng.integers(0, n, size=src.size)
    flat = np.unique(np.concatenate([src * n + dst, dst * n + src, np.arange(n) * (n + 1)]))
    rows, cols = flat // n, flat % n
    deg = np.bincount(rows, minlength=n).astype(np.float32)
    vals = (1 / np.sqrt(deg[rows] * deg[cols])).astype(np.float32)
    return {
        "idx": np.stack([rows, cols]).astype(np.int64),
        "vals": vals,
        "n": n,
        "x": rng.standard_normal((n, features), dtype=np.float32),
        "y": rng.integers(0, classes, size=n, dtype=np.int64),
        "train": np.arange(n // 4, dtype=np.int64),
        "classes": classes,
    }


def gcn_data(rng):
    return _gcn_data(rng, 2708, 1433, 7, 4)  # Cora's sizes


def gcn_small_data(rng):
    return _gcn_data(rng, 256, 32, 4, 6)


def gcn_build(torch, data):
    nn, F = torch.nn, torch.nn.functional
    _seed(torch)
    n = data["n"]
    adj = torch.sparse_coo_tensor(torch.from_numpy(data["idx"]), torch.from_numpy(data["vals"]), (n, n)).coalesce()
    x, y, train = (torch.from_numpy(data[k]) for k in ("x", "y", "train"))

    class GraphConvolution(nn.Module):
        def __init__(self, fin, fout):
            super().__init__()
            self.weight = nn.Parameter(torch.empty(fin, fout))
            self.bias = nn.Parameter(torch.zeros(fout))
            nn.init.xavier_uniform_(self.weight)

        def forward(self, h, a):
            return torch.sparse.mm(a, h @ self.weight) + self.bias

    class GCN(nn.Module):
        def __init__(self, fin, hidden, classes):
            super().__init__()
            self.gc1 = GraphConvolution(fin, hidden)
            self.gc2 = GraphConvolution(hidden, classes)

        def forward(self, h, a):
            h = F.dropout(F.relu(self.gc1(h, a)), 0.5, training=self.training)
            return F.log_softmax(self.gc2(h, a), dim=1)

    model = GCN(x.shape[1], 16, data["classes"])
    opt = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)

    def step():
        opt.zero_grad()
        loss = F.nll_loss(model(x, adj)[train], y[train])
        loss.backward()
        opt.step()

    return step


gcn_small_build = gcn_build


# --- matmul_big: three chained 1024x1024 matmuls, forward and backward ---------------------------


def matmul_big_data(rng):
    scale = np.float32(1 / math.sqrt(1024))  # keeps the chained product's entries near unit size
    return {name: (rng.standard_normal((1024, 1024), dtype=np.float32) * scale) for name in ("x", "w1", "w2", "w3")}


def matmul_big_build(torch, data):
    x = torch.from_numpy(data["x"])
    ws = [torch.tensor(data[name], requires_grad=True) for name in ("w1", "w2", "w3")]

    def step():
        (x @ ws[0] @ ws[1] @ ws[2]).sum().backward()
        for w in ws:
            w.grad = None

    return step


# --- per_sample_grads: vmap(grad(loss)) of a small CNN, one gradient per example of 64 --------


def per_sample_grads_data(rng):
    return {
        "x": rng.standard_normal((64, 1, 28, 28), dtype=np.float32),
        "y": rng.integers(0, 10, size=64, dtype=np.int64),
    }


def per_sample_grads_build(torch, data):
    nn, F = torch.nn, torch.nn.functional
    from importlib import import_module

    func = import_module(torch.__name__ + ".func")

    class SmallCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 8, 3)  # 8 x 26 x 26, max-pooled to 13 x 13
            self.conv2 = nn.Conv2d(8, 16, 3)  # 16 x 11 x 11, avg-pooled to 5 x 5
            self.fc = nn.Linear(16 * 5 * 5, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.avg_pool2d(F.relu(self.conv2(x)), 2)
            return self.fc(torch.flatten(x, 1))

    _seed(torch)
    model = SmallCNN()
    params = {k: v.detach() for k, v in model.named_parameters()}
    x, y = torch.from_numpy(data["x"]), torch.from_numpy(data["y"])

    def loss(p, xi, yi):
        out = func.functional_call(model, p, (xi.unsqueeze(0),))
        return F.cross_entropy(out, yi.unsqueeze(0))

    per_sample = func.vmap(func.grad(loss), in_dims=(None, 0, 0))

    def step():
        per_sample(params, x, y)

    return step


# --- lstm: 2-layer LSTM over a sequence, linear head on the last step, Adam ---------------------

LSTM_SEQ, LSTM_BATCH, LSTM_IN, LSTM_HIDDEN = 32, 32, 64, 128


def lstm_data(rng):
    return {
        "x": rng.standard_normal((LSTM_SEQ, LSTM_BATCH, LSTM_IN), dtype=np.float32),
        "y": rng.integers(0, 10, size=LSTM_BATCH, dtype=np.int64),
    }


def lstm_build(torch, data, cell="LSTM"):
    nn, F = torch.nn, torch.nn.functional
    _seed(torch)
    rnn = getattr(nn, cell)(LSTM_IN, LSTM_HIDDEN, num_layers=2)
    head = nn.Linear(LSTM_HIDDEN, 10)
    opt = torch.optim.Adam(list(rnn.parameters()) + list(head.parameters()), lr=1e-3)
    x, y = torch.from_numpy(data["x"]), torch.from_numpy(data["y"])

    def step():
        out, _ = rnn(x)
        loss = F.cross_entropy(head(out[-1]), y)
        loss.backward()
        opt.step()
        opt.zero_grad()

    return step


def gru_build(torch, data):
    return lstm_build(torch, data, cell="GRU")


def rnn_build(torch, data):
    return lstm_build(torch, data, cell="RNN")


# --- mnist_cnn: the PyTorch MNIST example's network, batch 64 of 1x28x28, Adadelta ---------------


def mnist_cnn_build(torch, data):
    nn, F = torch.nn, torch.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.dropout1 = nn.Dropout(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = F.relu(self.conv1(x))
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = torch.flatten(self.dropout1(x), 1)
            x = self.dropout2(F.relu(self.fc1(x)))
            return F.log_softmax(self.fc2(x), dim=1)

    _seed(torch)
    model = Net()
    opt = torch.optim.Adadelta(model.parameters(), lr=1.0)
    x, y = torch.from_numpy(data["x"]), torch.from_numpy(data["y"])

    def step():
        loss = F.nll_loss(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()

    return step


# --- mlp_forward / mlp_forward_mode: a 4-layer MLP's forward, plain and with a tangent ---------


def mlp4_data(rng):
    return {
        "x": rng.standard_normal((64, 256), dtype=np.float32),
        "v": rng.standard_normal((64, 256), dtype=np.float32),
    }


def _mlp4(torch):
    nn = torch.nn
    _seed(torch)
    return nn.Sequential(
        nn.Linear(256, 256),
        nn.ReLU(),
        nn.Linear(256, 256),
        nn.ReLU(),
        nn.Linear(256, 256),
        nn.ReLU(),
        nn.Linear(256, 10),
    )


def mlp_forward_build(torch, data):
    model, x = _mlp4(torch), torch.from_numpy(data["x"])

    def step():
        with torch.no_grad():
            model(x)

    return step


def mlp_forward_mode_build(torch, data):
    """The same forward carrying a tangent (forward-mode AD, one Jacobian-vector product)."""
    fwad = torch.autograd.forward_ad
    model, x, v = _mlp4(torch), torch.from_numpy(data["x"]), torch.from_numpy(data["v"])

    def step():
        with torch.no_grad(), fwad.dual_level():
            fwad.unpack_dual(model(fwad.make_dual(x, v))).tangent

    return step


WORKLOADS = {
    "op_overhead": (op_overhead_data, op_overhead_build),
    "op_overhead_guarded": (op_overhead_data, op_overhead_guarded_build),
    "mlp": (mlp_data, mlp_build),
    "cnn": (cnn_data, cnn_build),
    "gpt_manual": (gpt_data, gpt_manual_build),
    "gpt_sdpa": (gpt_data, gpt_sdpa_build),
    "embedding_sparse": (embedding_sparse_data, embedding_sparse_build),
    "gcn": (gcn_data, gcn_build),
    "gcn_small": (gcn_small_data, gcn_build),
    "matmul_big": (matmul_big_data, matmul_big_build),
    "per_sample_grads": (per_sample_grads_data, per_sample_grads_build),
    "lstm": (lstm_data, lstm_build),
    "gru": (lstm_data, gru_build),
    "rnn": (lstm_data, rnn_build),
    "mnist_cnn": (cnn_data, mnist_cnn_build),
    "mlp_forward": (mlp4_data, mlp_forward_build),
    "mlp_forward_mode": (mlp4_data, mlp_forward_mode_build),
}


def make_data(name, seed=0):
    """The workload's inputs as NumPy arrays, identical for every library."""
    return WORKLOADS[name][0](np.random.default_rng(seed))


def build(name, torch, data):
    """One training step of workload `name` under library `torch`, ready to call."""
    return WORKLOADS[name][1](torch, data)
