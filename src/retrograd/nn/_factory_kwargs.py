"""``nn.factory_kwargs``: a module constructor's factory keyword arguments, checked."""

_SIMPLE = frozenset({"device", "dtype", "memory_format"})


def factory_kwargs(kwargs):
    """The ``device``/``dtype``/``memory_format`` entries of ``kwargs`` as a new dict, to pass on to
    factories (``retrograd.empty(10, **factory_kwargs(kwargs))``). A ``factory_kwargs`` entry (a
    dict) supplies them too, for a constructor whose own arguments take those names. Any other key,
    or one given both ways, raises TypeError; None gives {}."""
    if kwargs is None:
        return {}
    unexpected = kwargs.keys() - _SIMPLE - {"factory_kwargs"}
    if unexpected:
        raise TypeError(f"unexpected kwargs {unexpected}")
    out = dict(kwargs.get("factory_kwargs", {}))
    for key in _SIMPLE & kwargs.keys():
        if key in out:
            raise TypeError(f"{key} specified twice, in **kwargs and in factory_kwargs")
        out[key] = kwargs[key]
    return out
