"""``retrograd.jit.annotations``: the typing names TorchScript code imports from
``torch.jit.annotations`` (``from torch.jit.annotations import List``); they are ``typing``'s.
``BroadcastingList1/2/3`` (an int or a list of that many ints in TorchScript) are ``List``."""

from typing import Any, Callable, Dict, List, Optional, Tuple, Union

__all__ = [
    "Any",
    "Callable",
    "Dict",
    "List",
    "Optional",
    "Tuple",
    "Union",
    "BroadcastingList1",
    "BroadcastingList2",
    "BroadcastingList3",
]

BroadcastingList1 = BroadcastingList2 = BroadcastingList3 = List
