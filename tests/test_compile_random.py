"""retrograd.compile over random draws from the default generator (``randn``, ``rand_like``,
``normal``, ``bernoulli``, ``Tensor.normal_``, ...): each is a kernel of the schedule that draws
again at every replay, so compiled calls get the same numbers as eager calls from the same seed
and leave the generator in the same state. A draw from a generator of its own runs eagerly."""

import warnings

import numpy as np
import pytest

import retrograd as torch
from retrograd import nn
from retrograd.nn import functional as F


Categorical = torch.distributions.Categorical


def _replays(fn):
    return sum(c.eager is None for c in fn.cache)


def _same(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a.detach().numpy(), b.detach().numpy())


def _run(fn, make_args, n=4, seed=3):
    """``fn`` compiled and eager from the same seed on ``n`` changing inputs: both results, the
    generator's state after each, and the compiled function."""
    rng = np.random.default_rng(0)
    args = [make_args(rng) for _ in range(n)]
    compiled = torch.compile(fn)
    torch.manual_seed(seed)
    got = [compiled(*a) for a in args]
    got_state = torch.get_rng_state()
    torch.manual_seed(seed)
    want = [fn(*a) for a in args]
    want_state = torch.get_rng_state()
    return compiled, got, want, torch.equal(got_state, want_state)


def _x(rng, shape=(4, 3)):
    return (torch.tensor(rng.standard_normal(shape), dtype=torch.float32),)


DRAWS = {
    "randn": lambda x: x + torch.randn(4, 3),
    "randn_float64": lambda x: x.double() * torch.randn(4, 3, dtype=torch.float64),
    "rand": lambda x: x * torch.rand(x.shape),
    "randint": lambda x: x + torch.randint(0, 5, (4, 3)),
    "randn_like": lambda x: x + torch.randn_like(x),
    "rand_like_transposed": lambda x: torch.rand_like(x.t()) * 2,
    "randint_like": lambda x: x - torch.randint_like(x, 3, 9),
    "normal_floats": lambda x: x + torch.normal(1.0, 2.0, (4, 3)),
    "normal_tensor_std": lambda x: torch.normal(0.5, x.abs()),
    "normal_tensor_mean": lambda x: torch.normal(x, 0.1),
    "bernoulli_tensor": lambda x: torch.bernoulli(torch.sigmoid(x)),
    "bernoulli_scalar": lambda x: torch.bernoulli(x, 0.3),
    "uniform_": lambda x: torch.empty(4, 3).uniform_(-1, 1) + x,
    "normal_": lambda x: (x * 2).normal_(0, 3),
    "bernoulli_": lambda x: torch.zeros(4, 3).bernoulli_(0.25) * x,
    "bernoulli_tensor_p": lambda x: torch.zeros(4, 3).bernoulli_(torch.sigmoid(x)),
    "random_": lambda x: torch.empty(4, 3, dtype=torch.int64).random_(0, 10) + x,
    "exponential_": lambda x: torch.empty(4, 3).exponential_(2.0) + x,
    "log_normal_": lambda x: torch.empty(4, 3).log_normal_() + x,
    "cauchy_": lambda x: torch.empty(4, 3).cauchy_() + x,
    "geometric_": lambda x: torch.empty(4, 3).geometric_(0.4) + x,
    "two_draws": lambda x: torch.randn_like(x) * torch.rand(4, 3) + x,
    "multinomial": lambda x: torch.multinomial(torch.softmax(x, -1), 2),
    "multinomial_replacement": lambda x: torch.multinomial(torch.softmax(x[0], -1), 6, replacement=True),
    "categorical_sample": lambda x: Categorical(logits=x).sample((5,)),
}


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_draws_from_the_default_generator_replay_bit_for_bit(name):
    compiled, got, want, same_state = _run(DRAWS[name], _x)
    assert _replays(compiled) == 1, compiled.reasons
    assert all(_same(a, b) for a, b in zip(got, want))
    assert same_state
    assert not all(_same(got[0], g) for g in got[1:])  # each replay draws new numbers


def test_a_check_inside_a_draw_runs_at_every_replay():
    def f(p):
        return torch.bernoulli(p)

    compiled = torch.compile(f)
    for _ in range(3):
        compiled(torch.full((3,), 0.5))
    assert _replays(compiled) == 1
    with pytest.raises(RuntimeError, match=r"\[0, 1\]"):
        compiled(torch.full((3,), 1.5))


def test_a_reparameterised_sample_trains_bit_for_bit():
    """A VAE-style model (``mu + eps * std`` with ``eps = randn_like(std)``), compiled as a
    module with the backward outside and as a whole train step."""

    class VAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Linear(6, 8)
            self.mu = nn.Linear(8, 2)
            self.logvar = nn.Linear(8, 2)
            self.dec = nn.Linear(2, 6)

        def forward(self, x):
            h = F.relu(self.enc(x))
            mu, logvar = self.mu(h), self.logvar(h)
            z = mu + torch.randn_like(logvar) * torch.exp(0.5 * logvar)
            return torch.sigmoid(self.dec(z)), mu, logvar

    def loss_of(model, x):
        recon, mu, logvar = model(x)
        bce = F.binary_cross_entropy(recon, x, reduction="sum")
        return bce - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())

    def train(compile_model, compile_step):
        torch.manual_seed(0)
        model = VAE()
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        net = torch.compile(model) if compile_model else model

        def step(x):
            opt.zero_grad()
            loss = loss_of(net, x)
            loss.backward()
            opt.step()
            return loss

        run = torch.compile(step) if compile_step else step
        rng = np.random.default_rng(1)
        losses = [run(torch.tensor(rng.random((5, 6)), dtype=torch.float32)).item() for _ in range(5)]
        return losses, [p.detach().numpy().copy() for p in model.parameters()], net, run

    eager, eager_params, _, _ = train(False, False)
    for compile_model, compile_step in ((True, False), (False, True)):
        losses, params, net, run = train(compile_model, compile_step)
        assert losses == eager
        assert all(np.array_equal(a, b) for a, b in zip(params, eager_params))
        compiled = run if compile_step else net._compiled
        assert _replays(compiled) == 1, compiled.reasons


def test_a_draw_before_a_graph_break_is_put_back_when_the_replay_stops():
    def f(x):
        noise = torch.randn(3)
        if x.sum() > 0:  # a graph break: the replay stops here when the sign changes
            return x + noise
        return x - noise

    signs = [1.0, 1.0, -1.0, 1.0, -1.0, -1.0]
    compiled = torch.compile(f)
    torch.manual_seed(0)
    got = [compiled(torch.full((3,), s)) for s in signs]
    got_state = torch.get_rng_state()
    torch.manual_seed(0)
    want = [f(torch.full((3,), s)) for s in signs]
    assert all(_same(a, b) for a, b in zip(got, want))
    assert torch.equal(got_state, torch.get_rng_state())
    assert _replays(compiled) == 2


def test_draws_sized_by_the_batch_replay_at_new_batch_sizes():
    def f(x):
        return x + torch.randn(x.shape[0], 3) * torch.rand_like(x)

    sizes = [4, 6, 5, 8, 4]
    compiled = torch.compile(f)
    rng = np.random.default_rng(0)
    xs = [torch.tensor(rng.standard_normal((n, 3)), dtype=torch.float32) for n in sizes]
    torch.manual_seed(0)
    got = [compiled(x) for x in xs]
    torch.manual_seed(0)
    want = [f(x) for x in xs]
    assert all(_same(a, b) for a, b in zip(got, want))
    assert _replays(compiled) >= 1


def test_a_draw_from_a_generator_argument_runs_eagerly():
    def f(x, g):
        return x + torch.randn(3, generator=g)

    g = torch.Generator().manual_seed(0)
    compiled = torch.compile(f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = [compiled(torch.zeros(3), g) for _ in range(3)]
    g.manual_seed(0)
    want = [f(torch.zeros(3), g) for _ in range(3)]
    assert all(_same(a, b) for a, b in zip(got, want))
    assert _replays(compiled) == 0 and "random draw" in compiled.reasons[0]


def test_a_sampling_step_replays_with_its_draw():
    """A generation step (logits, softmax, multinomial, cat) compiled whole."""
    torch.manual_seed(0)
    head = nn.Linear(4, 7)
    emb = nn.Embedding(7, 4)

    def step(idx):
        probs = F.softmax(head(emb(idx[:, -1])), dim=-1)
        return torch.cat((idx, torch.multinomial(probs, num_samples=1)), dim=1)

    compiled = torch.compile(step, dynamic=False)
    idx = torch.zeros((3, 1), dtype=torch.long)
    torch.manual_seed(1)
    got = [compiled(idx) for _ in range(4)]
    torch.manual_seed(1)
    want = [step(idx) for _ in range(4)]
    assert all(_same(a, b) for a, b in zip(got, want))
    assert _replays(compiled) == 1, compiled.reasons


def test_multinomial_checks_its_probabilities_at_every_replay():
    compiled = torch.compile(lambda p: torch.multinomial(p, 1))
    for _ in range(3):
        compiled(torch.tensor([0.2, 0.8]))
    assert _replays(compiled) == 1
    with pytest.raises(RuntimeError, match="invalid multinomial distribution"):
        compiled(torch.tensor([0.0, 0.0]))
