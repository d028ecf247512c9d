"""``retrograd.compile``: capture a step once, replay it as a flat schedule of array kernels.

The package holds no imports: its ``state`` module is read by the core (``apply``, the engine,
the in-place ops), which loads before everything the capture itself needs. The parts:

- ``state``: the one flag the recording hooks check, and the recorder it points to;
- ``capture``: the recorder (what each hook records);
- ``schedule``: the recorded program, a plain list of entries, and ``replay``: its code;
- ``guards``: what a capture depended on, checked before each replay;
- ``function``: ``compile`` itself, the per-function cache of captures, graph breaks;
- ``backward``: the one graph node that replays a recorded backward;
- ``verify``: the check of a capture's first replay against eager mode;
- ``dynamic``: ``compile(dynamic=True)``, two recordings at two batch sizes merged into one;
- ``explain``: ``torch._dynamo.explain``;
- ``module``: ``OptimizedModule``, what ``compile(module)`` returns.

docs/DESIGN.md ("Compiled replay") describes the design.
"""
