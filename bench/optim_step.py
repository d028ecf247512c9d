"""Optimizer step time alone: ``opt.step()`` on fixed gradients, per model and optimizer.

    python bench/optim_step.py                         # every case, foreach off and on
    python bench/optim_step.py --cases gpt_adamw --reps 200

Cases (float32 parameters, gradients drawn once and left in place):

- ``mlp_sgd``: the ``mlp`` workload's 784-512-512-10 model (6 tensors, 670k values), SGD with
  momentum 0.9, as in ``bench/run.py``;
- ``gpt_adamw``: the ``gpt`` workload's model (52 tensors, 830k values), AdamW;
- ``small_<opt>``: 200 tensors of 256 values (biases and norms of a deep, narrow network), for
  each optimizer, where the per-parameter cost of a step dominates.

Each case runs with ``foreach=None`` (the default) and ``foreach=True`` and prints the median
step time of each (steps alternating between the two), their ratio, and the best times.
Nothing else runs in the timed region.
"""

import argparse
import os
import statistics
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

_here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(_here, "..", "src"))
sys.path.insert(0, _here)

import retrograd as rg  # noqa: E402
import workloads  # noqa: E402


def _mlp():
    nn = rg.nn
    return list(
        nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10)).parameters()
    )


def _gpt():
    return list(workloads.gpt_model(rg, sdpa=False).parameters())


def _small():
    return [rg.zeros(256, requires_grad=True) for _ in range(200)]


CASES = {
    "mlp_sgd": (_mlp, lambda ps, fe, o: o.SGD(ps, lr=0.01, momentum=0.9, foreach=fe)),
    "gpt_adamw": (_gpt, lambda ps, fe, o: o.AdamW(ps, lr=3e-4, foreach=fe)),
    "small_sgd": (_small, lambda ps, fe, o: o.SGD(ps, lr=0.01, momentum=0.9, foreach=fe)),
    "small_adam": (_small, lambda ps, fe, o: o.Adam(ps, lr=1e-3, foreach=fe)),
    "small_adamw": (_small, lambda ps, fe, o: o.AdamW(ps, lr=1e-3, foreach=fe)),
    "small_rmsprop": (_small, lambda ps, fe, o: o.RMSprop(ps, lr=1e-3, momentum=0.9, foreach=fe)),
    "small_adagrad": (_small, lambda ps, fe, o: o.Adagrad(ps, lr=1e-2, foreach=fe)),
    "small_adadelta": (_small, lambda ps, fe, o: o.Adadelta(ps, foreach=fe)),
    "small_adamax": (_small, lambda ps, fe, o: o.Adamax(ps, foreach=fe)),
    "small_radam": (_small, lambda ps, fe, o: o.RAdam(ps, foreach=fe)),
    "small_rprop": (_small, lambda ps, fe, o: o.Rprop(ps, foreach=fe)),
}


def build_case(name, foreach, optim=None):
    """The parameters (gradients set) and optimizer of one case; ``optim`` defaults to
    ``retrograd.optim``."""
    make_params, make_opt = CASES[name]
    rg.manual_seed(0)
    params = make_params()
    rng = np.random.default_rng(0)
    for p in params:
        p.grad = rg.from_numpy(rng.standard_normal(tuple(p.shape)).astype(np.float32) * 1e-3)
    return make_opt(params, foreach, optim or rg.optim)


def time_interleaved(opts, reps, warmup):
    """Median and best step time of each optimizer, their steps alternating so that a shared
    machine's slow spells hit all of them alike."""
    for opt in opts:
        for _ in range(warmup):
            opt.step()
    times = [[] for _ in opts]
    for _ in range(reps):
        for opt, ts in zip(opts, times):
            t0 = time.perf_counter()
            opt.step()
            ts.append(time.perf_counter() - t0)
    return [(statistics.median(ts), min(ts)) for ts in times]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default=",".join(CASES), help="comma-separated subset of: " + ", ".join(CASES))
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=5)
    args = ap.parse_args(argv)
    print(f"{'case':<16}{'params':>8}{'foreach=None':>15}{'foreach=True':>15}{'ratio':>8}")
    for name in args.cases.split(","):
        n = len(CASES[name][0]())
        (base, base_min), (fe, fe_min) = time_interleaved(
            [build_case(name, None), build_case(name, True)], args.reps, args.warmup
        )
        print(
            f"{name:<16}{n:>8}{base * 1e3:>12.3f} ms{fe * 1e3:>12.3f} ms{fe / base:>8.2f}"
            f"   (best {base_min * 1e3:.3f} / {fe_min * 1e3:.3f} ms)"
        )


if __name__ == "__main__":
    main()
