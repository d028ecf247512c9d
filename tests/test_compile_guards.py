"""Guards on the Python values a compiled function reads besides its arguments: the attributes
of plain objects, the globals and closure variables of the helpers it calls, the entries of
dicts and lists, class attributes. A capture bakes each such value in, so a changed one must
capture again rather than replay the old value (only the first replay is checked against eager
mode). Each test calls the compiled function until it replays, changes the value, and compares
the next call with eager mode."""

import dataclasses
import subprocess
import sys
import textwrap
import types
import warnings

import numpy as np
import pytest

import retrograd as torch
from retrograd import nn
from retrograd.nn import functional as F

X = torch.arange(4.0)


def _replays(c):
    return sum(x.eager is None for x in c.cache)


def _warm(c, *args):
    """Capture, check and replay ``c``: from now on a call replays unless a guard fails."""
    for _ in range(3):
        c(*args)
    assert _replays(c) == 1 and c.recompiles == []


def _same(a, b):
    np.testing.assert_array_equal(np.asarray(a.detach().numpy()), np.asarray(b.detach().numpy()))


def _stale_check(fn, change, *args, reason):
    """Compile ``fn``, let it replay, ``change()`` what it reads, and check the next call gives
    eager mode's result through a new capture whose reason names ``reason``."""
    c = torch.compile(fn)
    _warm(c, *args)
    change()
    _same(c(*args), fn(*args))
    assert len(c.recompiles) == 1 and reason in c.recompiles[0]
    _same(c(*args), fn(*args))  # and the new capture replays
    assert _replays(c) == 2
    return c


# --------------------------------------------------------------------------- (1) object attributes
CFG = types.SimpleNamespace(scale=2.0, shift=1.0)


@dataclasses.dataclass
class Options:
    scale: float = 2.0
    flip: bool = False


OPTS = Options()


def test_attribute_of_a_global_namespace():
    def f(x):
        return x * CFG.scale + CFG.shift

    def change():
        CFG.scale = 3.0

    try:
        _stale_check(f, change, X, reason="CFG.scale")
    finally:
        CFG.scale = 2.0


def test_attribute_of_a_global_dataclass_choosing_a_branch():
    def f(x):
        y = x * OPTS.scale
        return -y if OPTS.flip else y

    def change():
        OPTS.flip = True

    try:
        _stale_check(f, change, X, reason="OPTS.flip")
    finally:
        OPTS.flip = False


def test_attribute_of_a_closure_object_and_of_an_object_argument():
    opts = Options(scale=0.5)
    _stale_check(lambda x: x * opts.scale, lambda: setattr(opts, "scale", 4.0), X, reason="opts.scale")

    arg = Options(scale=0.5)  # passed each call: the same object, compared by identity

    def g(x, o):
        return x * o.scale

    _stale_check(g, lambda: setattr(arg, "scale", 5.0), X, arg, reason="o.scale")


def test_attribute_of_self_in_a_compiled_method_of_a_plain_object():
    class Softmax:
        def __init__(self):
            self.temperature = 1.0

        def __call__(self, x):
            return (x / self.temperature).softmax(0)

    s = Softmax()
    _stale_check(s.__call__, lambda: setattr(s, "temperature", 0.25), X, reason="self.temperature")


def test_nested_attribute_chain_and_an_attribute_read_in_a_comprehension():
    root = types.SimpleNamespace(inner=types.SimpleNamespace(eps=1e-3), weights=[1.0, 2.0])

    def f(x):
        return sum(x * w for w in [root.inner.eps * k for k in (1.0, 2.0)])

    _stale_check(f, lambda: setattr(root.inner, "eps", 0.5), X, reason="root.inner.eps")


def test_an_object_passed_to_a_helper_has_its_attributes_guarded():
    opts = Options(scale=2.0)

    def helper(x, o):  # reads through its parameter: guarded where the object was reached
        return x * o.scale

    _stale_check(lambda x: helper(x, opts), lambda: setattr(opts, "scale", -1.0), X, reason="opts.scale")


def test_a_property_of_a_plain_object_is_followed():
    class Schedule:
        def __init__(self):
            self.step = 1

        @property
        def factor(self):
            return 1.0 / self.step

    sched = Schedule()
    _stale_check(
        lambda x: x * sched.factor, lambda: setattr(sched, "step", 4), X, reason="self.step (in Schedule.factor)"
    )


def test_slot_and_custom_getattr_attributes():
    class Slotted:
        __slots__ = ("scale",)

        def __init__(self):
            self.scale = 2.0

    class Lookup:  # attributes computed by __getattr__, read again at each check
        def __init__(self):
            self.values = {"scale": 2.0}

        def __getattr__(self, name):
            return self.__dict__["values"][name]

    slotted, lookup = Slotted(), Lookup()
    _stale_check(lambda x: x * slotted.scale, lambda: setattr(slotted, "scale", 3.0), X, reason="slotted.scale")
    _stale_check(lambda x: x * lookup.scale, lambda: lookup.values.update(scale=3.0), X, reason="lookup.scale")


# --------------------------------------------------------------------------- (2) helpers' reads
SCALE = 2.0
MODE = "tanh"


def _act(x):
    return x * SCALE


def _outer(x):
    return _act(x) + 1.0


def _pick(x):
    return x.tanh() if MODE == "tanh" else x.sigmoid()


def test_global_read_by_a_helper_and_by_a_helper_of_a_helper():
    global SCALE
    try:
        _stale_check(lambda x: _act(x), lambda: globals().update(SCALE=3.0), X, reason="global 'SCALE'")
        SCALE = 2.0
        _stale_check(lambda x: _outer(x) * 2, lambda: globals().update(SCALE=-1.0), X, reason="global 'SCALE'")
    finally:
        SCALE = 2.0


def test_global_string_choosing_a_kernel_in_a_helper():
    try:
        _stale_check(lambda x: _pick(x), lambda: globals().update(MODE="sigmoid"), X, reason="global 'MODE'")
    finally:
        globals()["MODE"] = "tanh"


def test_closure_variable_of_a_helper_and_a_method_helper():
    def make():
        k = 2.0

        def helper(x):
            return x * k

        def set_k(v):
            nonlocal k
            k = v

        return helper, set_k

    helper, set_k = make()
    _stale_check(lambda x: helper(x) + 1, lambda: set_k(7.0), X, reason="closure variable 'k'")

    class Scaler:
        def __init__(self):
            self.k = 2.0

        def apply(self, x):
            return x * self.k

    s = Scaler()
    _stale_check(lambda x: s.apply(x), lambda: setattr(s, "k", 0.5), X, reason="self.k")


def test_a_module_forward_calling_a_helper_that_reads_a_global():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 4)

        def forward(self, x):
            return _act(self.lin(x))

    torch.manual_seed(0)
    net = Net()
    c = torch.compile(net)
    x = torch.ones(2, 4)
    _warm(c._compiled, x)
    try:
        globals()["SCALE"] = 5.0
        _same(c(x), net(x))
        assert "global 'SCALE'" in c._compiled.recompiles[-1]
    finally:
        globals()["SCALE"] = 2.0


class Base(nn.Module):
    def forward(self, x):
        return _act(x)


class Derived(Base):
    def forward(self, x):
        return super().forward(x) + 1.0


class Scaled:
    def __init__(self, x):
        self.out = x * SCALE


def test_code_of_a_base_class_and_of_a_class_the_function_instantiates():
    net = Derived()
    c = torch.compile(net)
    _warm(c._compiled, X)
    try:
        globals()["SCALE"] = 3.0
        _same(c(X), net(X))
        assert "global 'SCALE'" in c._compiled.recompiles[-1]
    finally:
        globals()["SCALE"] = 2.0
    try:
        _stale_check(lambda x: Scaled(x).out, lambda: globals().update(SCALE=4.0), X, reason="global 'SCALE'")
    finally:
        globals()["SCALE"] = 2.0


ACTIVATION = F.relu
WEIGHT = torch.ones(4)


def test_a_global_function_or_tensor_rebound_is_guarded_by_identity():
    _stale_check(lambda x: ACTIVATION(x - 1.0), lambda: globals().update(ACTIVATION=torch.tanh), X, reason="ACTIVATION")
    _stale_check(lambda x: x * WEIGHT, lambda: globals().update(WEIGHT=torch.full((4,), 3.0)), X, reason="WEIGHT")


# --------------------------------------------------------------------------- (3) dict and list entries
CONFIG = {"lr_scale": 0.5, "sizes": [2, 2]}


def test_dict_entry_by_a_constant_key():
    def f(x):
        return x * CONFIG["lr_scale"]

    try:
        _stale_check(f, lambda: CONFIG.update(lr_scale=2.0), X, reason="CONFIG['lr_scale']")
    finally:
        CONFIG["lr_scale"] = 0.5


def test_dict_read_through_a_method_and_a_list_entry_giving_a_size():
    def f(x):
        return x * CONFIG.get("lr_scale", 1.0)

    try:
        _stale_check(f, lambda: CONFIG.update(lr_scale=4.0), X, reason="CONFIG['lr_scale']")
    finally:
        CONFIG["lr_scale"] = 0.5

    def g(x):
        return x.reshape(CONFIG["sizes"][0], -1).sum(1)

    try:
        _stale_check(g, lambda: CONFIG["sizes"].__setitem__(0, 4), X, reason="CONFIG['sizes'][0]")
    finally:
        CONFIG["sizes"][0] = 2


def test_dict_passed_to_a_helper_and_a_list_iterated():
    table = {"a": 1.0, "b": 2.0}
    factors = [1.0, 2.0]

    def helper(x, t):
        return x * t["b"]

    _stale_check(lambda x: helper(x, table), lambda: table.update(b=-2.0), X, reason="table['b']")

    def f(x):
        for k in factors:
            x = x * k
        return x

    _stale_check(f, lambda: factors.append(3.0), X, reason="factors")


# --------------------------------------------------------------------------- (4) class attributes
class Defaults:
    SCALE = 2.0

    def __init__(self):
        self.unused = None


def test_class_attribute_read_through_the_class_and_through_an_instance():
    _stale_check(lambda x: x * Defaults.SCALE, lambda: setattr(Defaults, "SCALE", 3.0), X, reason="SCALE")
    Defaults.SCALE = 2.0
    d = Defaults()
    _stale_check(lambda x: x * d.SCALE, lambda: setattr(Defaults, "SCALE", 5.0), X, reason="d.SCALE")
    Defaults.SCALE = 2.0
    d = Defaults()  # an instance attribute that comes to shadow the class's
    _stale_check(lambda x: x * d.SCALE, lambda: setattr(d, "SCALE", 7.0), X, reason="d.SCALE")
    Defaults.SCALE = 2.0


def test_class_attribute_of_a_module_subclass():
    class Net(nn.Module):
        gain = 2.0

        def forward(self, x):
            return x * self.gain

    net = Net()
    c = torch.compile(net)
    _warm(c._compiled, X)
    Net.gain = 3.0
    _same(c(X), net(X))
    assert "self.gain" in c._compiled.recompiles[-1]


# --------------------------------------------------------------------------- effects and failing closed
STEPS = 0


def test_a_function_that_changes_a_value_it_reads_runs_eagerly():
    def f(x):
        global STEPS
        STEPS += 1
        return x * STEPS

    c = torch.compile(f)
    with pytest.warns(UserWarning, match="it changed global 'STEPS'"):
        outs = [c(X) for _ in range(4)]
    assert [o.tolist()[1] for o in outs] == [1.0, 2.0, 3.0, 4.0]
    assert _replays(c) == 0 and len(c.cache) == 1  # one capture, eager at every call

    box = types.SimpleNamespace(last=None)

    def g(x):
        out = x * 2
        box.last = out  # a replay would not store it
        return out

    c = torch.compile(g)
    with pytest.warns(UserWarning, match="box.last"):
        for _ in range(3):
            out = c(X)
            assert box.last is out


def test_what_cannot_be_guarded_runs_eagerly_with_a_reason():
    def f(x):
        return x * globals()["SCALE"]

    c = torch.compile(f)
    with pytest.warns(UserWarning, match="globals"):
        c(X)
    globals()["SCALE"] = 4.0
    try:
        _same(c(X), f(X))
    finally:
        globals()["SCALE"] = 2.0
    assert _replays(c) == 0

    huge = {i: float(i) for i in range(20000)}

    def g(x, i):
        return x * (lambda d: d[i])(huge)

    c = torch.compile(g)
    with pytest.warns(UserWarning, match="20000 entries"):
        c(X, 3)
    assert _replays(c) == 0


def test_a_large_container_passed_on_is_guarded_entry_by_identity():
    table = [float(i) for i in range(1000)]

    def f(x, i):
        return x * (lambda t: t[i])(table)

    _stale_check(f, lambda: table.__setitem__(3, -1.0), X, 3, reason="the entries of table")


def test_guards_do_not_recapture_when_nothing_changed():
    opts = Options()
    table = {"k": 1.5}

    def f(x):
        return _act(x) * opts.scale * table["k"] * Defaults.SCALE

    c = torch.compile(f)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(5):
            c(X)
    opts.scale = float("2.0")  # an equal value of the same type: no new capture
    table["k"] = 1.5
    c(X)
    assert c.recompiles == [] and _replays(c) == 1


def test_a_submodule_imported_by_the_first_call_is_not_a_side_effect():
    # torch.distributions loads on first use: the attribute appears during the capture
    code = textwrap.dedent(
        """
        import sys, warnings
        import numpy as np
        import retrograd as torch
        assert "retrograd.distributions" not in sys.modules
        def f(x):
            return torch.distributions.Categorical(logits=x).log_prob(torch.tensor([0, 2]))
        c = torch.compile(f)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for k in range(4):
                x = torch.tensor(np.arange(6.0).reshape(2, 3) * (k + 1))
                assert np.array_equal(c(x).numpy(), f(x).numpy())
        assert any(cap.eager is None for cap in c.cache), [cap.eager for cap in c.cache]
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_a_tensor_kept_as_a_module_attribute_is_a_source_and_its_rebinding_recaptures():
    class Masked(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 4)
            self.mask = torch.tril(torch.ones(4, 4))  # a plain attribute, not a buffer

        def forward(self, x):
            return self.lin(x) * self.mask

    m = Masked()
    c = torch.compile(m)
    rng = np.random.default_rng(0)
    for k in range(6):
        x = torch.tensor(rng.standard_normal((4, 4)).astype(np.float32))
        if k == 3:
            m.mask = torch.ones(4, 4)
        if k == 5:
            m.mask.fill_(2.0)  # written in place: the replay reads the current values
        assert np.array_equal(c(x).detach().numpy(), m(x).detach().numpy())
    caps = c._compiled.cache
    assert len(caps) == 2 and all(cap.eager is None for cap in caps), [cap.eager for cap in caps]
