"""``retrograd.hub``: importable; every download raises, since retrograd fetches nothing from
the network. Load weights from a local file with ``retrograd.load`` instead. ``get_dir`` and
``set_dir`` answer as PyTorch's (the hub cache directory), so code that places or looks for
files there runs."""

import os
import re
from urllib.parse import urlparse  # noqa: F401  (PyTorch's hub module has this name too)

__all__ = ["load", "list", "help", "load_state_dict_from_url", "download_url_to_file", "get_dir", "set_dir"]

# a checkpoint file name's hash prefix ("resnet18-5c106cde.pth"), as check_hash reads it
HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")

_hub_dir = None


def _get_torch_home():
    """``$TORCH_HOME``, else ``$XDG_CACHE_HOME/torch`` (``~/.cache/torch``): where PyTorch keeps
    downloaded hub code and checkpoints, so files placed there by hand are found."""
    return os.path.expanduser(os.getenv("TORCH_HOME", os.path.join(os.getenv("XDG_CACHE_HOME", "~/.cache"), "torch")))


def get_dir():
    """The hub cache directory: the one given to ``set_dir``, else ``<torch home>/hub``."""
    if _hub_dir is not None:
        return _hub_dir
    return os.path.join(_get_torch_home(), "hub")


def set_dir(d):
    """Use ``d`` as the hub cache directory (``~`` expanded)."""
    global _hub_dir
    _hub_dir = os.path.expanduser(d)


def _no_network(op):
    raise RuntimeError(
        f"retrograd.hub.{op}(): retrograd does not download models or weights (no "
        f"network access); download the file yourself and load it with retrograd.load(path)"
    )


def load(repo_or_dir, model, *args, **kwargs):
    _no_network("load")


def list(github, *args, **kwargs):  # noqa: A001 (PyTorch's name)
    _no_network("list")


def help(github, model, *args, **kwargs):  # noqa: A001 (PyTorch's name)
    _no_network("help")


def load_state_dict_from_url(url, *args, **kwargs):
    _no_network("load_state_dict_from_url")


def download_url_to_file(url, dst, *args, **kwargs):
    _no_network("download_url_to_file")
