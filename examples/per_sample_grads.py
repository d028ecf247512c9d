"""Per-example gradients with vmap(grad(loss)), checked against a loop of grad over the batch.

For a small CNN (conv, ReLU, max pool, conv, ReLU, average pool, linear, cross-entropy), the
gradient of each example's loss with respect to every parameter, in two ways:

    vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)    one batched run (batching rules)
    [grad(loss)(params, x[i], y[i]) for i in range(batch)]   one run per example

The script prints the largest difference between the two and the speed-up of vmap over the loop.
Written against PyTorch's API (``--torch`` runs it with PyTorch, if installed).
"""

import argparse
import time

from _common import import_library

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--batch", type=int, default=64)
parser.add_argument("--torch", action="store_true", help="run with PyTorch instead of retrograd")
parser.add_argument("--no-plot", action="store_true", help="accepted for the example runner; nothing is plotted")
args = parser.parse_args()

torch = import_library(args.torch)
nn, F = torch.nn, torch.nn.functional
func = torch.func


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


torch.manual_seed(0)
model = SmallCNN()
params = {name: p.detach() for name, p in model.named_parameters()}
x = torch.randn(args.batch, 1, 28, 28)
y = torch.randint(0, 10, (args.batch,))


def loss(p, xi, yi):
    """The loss of one example (a batch of one for the model)."""
    out = func.functional_call(model, p, (xi.unsqueeze(0),))
    return F.cross_entropy(out, yi.unsqueeze(0))


per_example = func.vmap(func.grad(loss), in_dims=(None, 0, 0))
per_example(params, x, y)  # warm up both paths once
func.grad(loss)(params, x[0], y[0])

start = time.perf_counter()
batched = per_example(params, x, y)
t_vmap = time.perf_counter() - start

start = time.perf_counter()
looped = [func.grad(loss)(params, x[i], y[i]) for i in range(args.batch)]
t_loop = time.perf_counter() - start

diff = 0.0
scale = 0.0
for name in params:
    expected = torch.stack([g[name] for g in looped])
    assert batched[name].shape == expected.shape, (name, batched[name].shape, expected.shape)
    diff = max(diff, float((batched[name] - expected).abs().max()))
    scale = max(scale, float(expected.abs().max()))
    print(f"{name:12s} per-example gradients {tuple(batched[name].shape)}")
print(f"max difference {diff:.3g} (largest entry {scale:.3g})")
print(f"vmap {t_vmap * 1e3:.1f} ms, loop {t_loop * 1e3:.1f} ms: speed-up {t_loop / t_vmap:.1f}x")
