"""What the example scripts share: choosing the library, a progress bar, and the loss plot."""

import os


def import_library(use_torch):
    """``torch`` itself when asked (to compare), else retrograd under the same name."""
    if use_torch:
        import torch
    else:
        import retrograd as torch
    return torch


def progress(iterable, desc, show=True):
    """A tqdm progress bar when tqdm is installed (and ``show``), else the plain iterable."""
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, desc=desc, leave=False, disable=not show)


def show_loss(bar, loss):
    if hasattr(bar, "set_postfix"):
        bar.set_postfix(loss=f"{loss:.3f}")


def plot_losses(losses, name, title, ylabel="cross-entropy", log_scale=False):
    """Write the loss curve to ``<name>.png`` next to the examples."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot written")
        return
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.png")
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(losses, lw=0.8)
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    if log_scale:
        ax.set_yscale("log")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"loss curve written to {path}")
