"""In-place ops through views: the gradient must reach the view's base (copy-slices)."""


def rebase_view(view, result):
    raise RuntimeError(
        f"in-place modification of a view (shape {list(view._data.shape)}) whose base requires "
        f"grad is not supported yet; use an out-of-place op or clone() the view first")
