"""The example scripts run end to end (shortened), and the README demo reaches its accuracy."""

import os
import re
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(REPO, "examples")


def run_example(script, *args, timeout=300):
    path = os.pathsep.join(p for p in (os.path.join(REPO, "src"), os.environ.get("PYTHONPATH")) if p)
    # one BLAS thread: the same summation order (so the same accuracy) on every machine, and no
    # spinning BLAS threads competing with other processes on a small shared machine
    env = dict(
        os.environ,
        MPLBACKEND="Agg",
        PYTHONPATH=path,
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
    )
    out = subprocess.run(
        [sys.executable, os.path.join(EXAMPLES, script), "--no-plot", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=EXAMPLES,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_mnist_demo_reaches_97_percent():
    stdout = run_example("mnist_cnn.py")
    accuracies = [float(a) for a in re.findall(r"test accuracy ([0-9.]+)%", stdout)]
    assert len(accuracies) == 4
    assert accuracies[-1] >= 97.0, stdout


def test_char_transformer_trains_and_samples():
    stdout = run_example("char_transformer.py", "--steps", "30", "--layers", "1", "--sample-chars", "40")
    losses = re.search(r"train loss ([0-9.]+), validation loss ([0-9.]+)", stdout)
    assert losses and float(losses.group(2)) < 3.8  # uniform guessing is 4.17
    assert "--- sample ---\nROMEO:" in stdout


def test_sparse_embeddings_loss_goes_down():
    stdout = run_example("sparse_embeddings.py", "--steps", "300")
    first, last = map(float, re.search(r"loss ([0-9.]+) -> ([0-9.]+)", stdout).groups())
    assert last < first - 0.1
    assert "king:" in stdout


def test_inspect_graph_draws_reports_and_profiles():
    stdout = run_example("inspect_graph.py")
    assert re.search(r"inspect_mlp\.svg: \d+ boxes, \d+ arrows", stdout)
    assert "graph memory:" in stdout and "by module" in stdout
    plain, checkpointed, estimate = map(
        int,
        re.search(
            r"activations held: (\d+) B plain, (\d+) B checkpointed \(estimated from the first report: (\d+) B less\)",
            stdout,
        ).groups(),
    )
    assert checkpointed < plain and plain - checkpointed == estimate
    assert "Self CPU time total" in stdout and "aten::linear" in stdout and "AddmmBackward0" in stdout


def test_hvp_forward_over_reverse_matches_reverse_over_reverse():
    stdout = run_example("hvp.py", timeout=120)
    assert "H v by forward over reverse" in stdout and "H v by reverse over reverse" in stdout
    diff, scale = map(float, re.search(r"max difference (\S+) \(largest entry (\S+)\)", stdout).groups())
    assert scale > 0 and diff <= 1e-9 * max(scale, 1.0)


def test_per_sample_grads_vmap_matches_loop():
    stdout = run_example("per_sample_grads.py", "--batch", "8", timeout=120)
    assert stdout.count("per-example gradients (8,") == 6
    diff, scale = map(float, re.search(r"max difference (\S+) \(largest entry (\S+)\)", stdout).groups())
    assert scale > 0 and diff <= 1e-5 * max(scale, 1.0)
    assert "speed-up" in stdout
