"""``retrograd.hub``: importable; every download raises, since retrograd fetches nothing from
the network. Load weights from a local file with ``retrograd.load`` instead."""

__all__ = ["load", "list", "help", "load_state_dict_from_url", "download_url_to_file"]


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
