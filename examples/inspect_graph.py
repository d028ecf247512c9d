"""See what autograd does: pictures of graphs, the memory saved tensors hold, a profile.

Draws the graph of a small MLP and of a transformer block (SVG, written beside this file; open
them in a browser), prints the memory report of the transformer block with and without
``checkpoint`` (and the estimate the first report makes for it), and profiles three training
steps, printing the busiest ops and writing a Chrome trace (open it in https://ui.perfetto.dev
or chrome://tracing). ``--no-plot`` writes no files.
"""

import argparse
import os

import retrograd as torch
from retrograd.autograd import graph
from retrograd.profiler import ProfilerActivity, profile, record_function
from retrograd.utils.checkpoint import checkpoint

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out-dir", default=os.path.dirname(os.path.abspath(__file__)))
parser.add_argument("--no-plot", action="store_true", help="write no files (pictures, trace)")
args = parser.parse_args()
nn, F = torch.nn, torch.nn.functional


def out_path(name):
    return None if args.no_plot else os.path.join(args.out_dir, name)


def pictures(block, tokens):
    mlp = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    loss = F.cross_entropy(mlp(torch.randn(5, 4)), torch.tensor([0, 2, 1, 1, 0]))
    for name, root, params in (("inspect_mlp.svg", loss, mlp), ("inspect_transformer.svg", block(tokens).sum(), block)):
        picture = graph.draw(root, params=dict(params.named_parameters()), path=out_path(name))
        where = f", written to {out_path(name)}" if out_path(name) else ""
        print(f"{name}: {len(picture.nodes)} boxes, {len(picture.edges)} arrows{where}")


def memory(block, tokens):
    with graph.track_modules(block):
        plain = graph.memory(block(tokens).sum())
        checkpointed = graph.memory(checkpoint(block, tokens, use_reentrant=False).sum())
    print("\n--- memory held by the transformer block's graph ---")
    print(plain)
    print("\n--- the same block under checkpoint ---")
    print(checkpointed)
    estimate = plain.checkpoint("")
    print(
        f"\nactivations held: {plain.activation_bytes} B plain, {checkpointed.activation_bytes} B checkpointed "
        f"(estimated from the first report: {estimate.saving} B less)"
    )


def profiled_steps(block, tokens):
    head = nn.Linear(tokens.shape[-1], 10)
    model = nn.Sequential(block, head)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    targets = torch.randint(0, 10, tokens.shape[:2])
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True, profile_memory=True) as prof:
        for step in range(3):
            with record_function(f"step {step}"):
                logits = model(tokens)
                loss = F.cross_entropy(logits.reshape(-1, 10), targets.reshape(-1))
                loss.backward()
                opt.step()
                opt.zero_grad()
            prof.step()
    print("\n--- three training steps, the busiest ops ---")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=10))
    path = out_path("inspect_trace.json")
    if path:
        prof.export_chrome_trace(path)
        print(f"Chrome trace written to {path}")


def main():
    torch.manual_seed(0)
    block = nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32, dropout=0.0, batch_first=True)
    tokens = torch.randn(4, 6, 16)
    pictures(block, tokens)
    memory(block, tokens)
    profiled_steps(block, tokens)


if __name__ == "__main__":
    main()
