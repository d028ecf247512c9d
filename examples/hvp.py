"""Hessian-vector products: forward mode over reverse mode, checked against reverse over reverse.

For a scalar loss f(w) (here the cross-entropy of a small MLP on random data, as a function of
its parameters, through ``func.functional_call``), the product of the Hessian with a vector v is

    H v = d/de grad f(w + e v) at e = 0     = jvp(grad(f), (w,), (v,))    forward over reverse
    H v = grad of <grad f(w), v>            = grad(lambda w: <grad f(w), v>)  reverse over reverse

Both need only a few passes, never the whole Hessian. The script prints both products (one
slice of each) and their largest difference. Written against PyTorch's API (``--torch`` runs
it with PyTorch, if installed).
"""

import argparse

from _common import import_library

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--hidden", type=int, default=16)
parser.add_argument("--batch", type=int, default=32)
parser.add_argument("--torch", action="store_true", help="run with PyTorch instead of retrograd")
parser.add_argument("--no-plot", action="store_true", help="accepted for the example runner; nothing is plotted")
args = parser.parse_args()

torch = import_library(args.torch)
nn, F = torch.nn, torch.nn.functional
func = torch.func

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, args.hidden), nn.Tanh(), nn.Linear(args.hidden, 3)).double()
x = torch.randn(args.batch, 4, dtype=torch.float64)
y = torch.randint(0, 3, (args.batch,))
params = {name: p.detach() for name, p in model.named_parameters()}
v = {name: torch.randn(p.shape, dtype=torch.float64) for name, p in params.items()}


def loss(p):
    return F.cross_entropy(func.functional_call(model, p, (x,)), y)


def dot(a, b):
    return sum((a[k] * b[k]).sum() for k in a)


_, hvp_forward = func.jvp(func.grad(loss), (params,), (v,))
hvp_reverse = func.grad(lambda p: dot(func.grad(loss)(p), v))(params)

name = "0.weight"
print(f"H v by forward over reverse ({name}[0]):", hvp_forward[name][0].detach().numpy().round(6))
print(f"H v by reverse over reverse ({name}[0]):", hvp_reverse[name][0].detach().numpy().round(6))
diff = max(float((hvp_forward[k] - hvp_reverse[k]).abs().max()) for k in params)
scale = max(float(hvp_reverse[k].abs().max()) for k in params)
print(f"max difference {diff:.3g} (largest entry {scale:.3g})")
if not diff <= 1e-9 * max(scale, 1.0):
    raise SystemExit("the two Hessian-vector products disagree")
