"""The one training loop, accuracy and seed statistics every trained network in the book uses."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from widgets.compute import data, training


def _model(seed=0, inputs=4, classes=3):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Sequential(nn.Linear(inputs, 16), nn.ReLU(), nn.Linear(16, classes))


def _blobs(n=120, seed=0):
    """Three well-separated Gaussian blobs in 4-D: a problem a small network solves exactly."""
    gen = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 3
    centres = torch.tensor([[3.0, 0, 0, 0], [0, 3.0, 0, 0], [0, 0, 3.0, 0]])
    return centres[labels] + 0.3 * torch.randn(n, 4, generator=gen), labels


def test_train_learns_and_stops_by_the_rule():
    x, y = _blobs()
    model = _model()
    run = training.train(model, x, y, seed=0, max_epochs=500, batch_size=16, lr=0.01, tol=1e-3, patience=5)
    assert training.accuracy(model, x, y) == 1.0
    assert run.converged and run.epochs < 500 and len(run.losses) == run.epochs
    # The rule, replayed on the recorded losses: an epoch is stale unless it falls more than tol
    # below every earlier epoch; the run stops at the fifth stale epoch in a row, and not before.
    best, stale, streaks = math.inf, 0, []
    for loss in run.losses:
        stale = 0 if loss < best - 1e-3 else stale + 1
        best = min(best, loss)
        streaks.append(stale)
    assert streaks[-1] == 5 and max(streaks[:-1]) < 5
    assert run.losses[-1] < run.losses[0] / 10
    assert model.training is False


def test_train_stops_at_max_epochs_when_not_converged():
    x, y = _blobs()
    run = training.train(_model(), x, y, seed=0, max_epochs=3, tol=1e-9, patience=50)
    assert run.epochs == 3 and not run.converged


def test_train_is_reproducible_and_depends_on_the_seed():
    x, y = _blobs()
    a, b, c = _model(), _model(), _model()
    for model, seed in ((a, 1), (b, 1), (c, 2)):
        training.train(model, x, y, seed=seed, max_epochs=2, batch_size=8)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))


def test_train_leaves_the_global_random_state_and_threads_alone():
    x, y = _blobs()
    threads = torch.get_num_threads()
    state = torch.get_rng_state()
    training.train(_model(), x, y, seed=0, max_epochs=2, max_shift=0)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.get_num_threads() == threads


@pytest.mark.parametrize("start", range(5))
def test_train_regression_recovers_a_linear_map(start):
    # The starting weights come from their own seed, not from the global generator,
    # whose state depends on which tests ran before. (With lr=0.05, Adam's steps
    # near the optimum were large enough for the stopping rule to fire 0.06 away.)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(256, 3, generator=gen)
    w = torch.tensor([[1.0, -2.0, 0.5]])
    model = nn.Linear(3, 1, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.rand(1, 3, generator=torch.Generator().manual_seed(start)) * 2 - 1)
    run = training.train(model, x, x @ w.T, seed=0, loss="mse", lr=0.02, max_epochs=400, tol=1e-7)
    assert run.converged
    torch.testing.assert_close(model.weight.detach(), w, atol=1e-2, rtol=0)


def test_augmentation_shifts_batches():
    """With max_shift the network sees moved images: its gradient differs from the unshifted run."""
    split = data.digit_split(canvas=12, n_train=40)
    net_a, net_b = (nn.Sequential(nn.Flatten(), nn.Linear(144, 10)) for _ in range(2))
    net_b.load_state_dict(net_a.state_dict())
    training.train(net_a, split.train_images, split.train_labels, seed=0, max_epochs=1)
    training.train(net_b, split.train_images, split.train_labels, seed=0, max_epochs=1, max_shift=2)
    assert not torch.equal(net_a[1].weight, net_b[1].weight)


@pytest.mark.parametrize("kwargs, message", [
    ({"seed": -1}, "seed"), ({"seed": 1.5}, "seed"), ({"max_epochs": 0}, "max_epochs"),
    ({"max_epochs": -3}, "max_epochs"), ({"batch_size": 0}, "batch_size"), ({"lr": 0}, "lr"),
    ({"lr": 2.0}, "lr"), ({"lr": float("nan")}, "lr"), ({"tol": 0}, "tol"), ({"tol": -1e-3}, "tol"),
    ({"tol": float("inf")}, "tol"), ({"tol": "small"}, "tol"), ({"patience": 0}, "patience"),
    ({"loss": "hinge"}, "loss"), ({"max_shift": 2}, "max_shift"),
])
def test_train_rejects_bad_arguments(kwargs, message):
    x, y = _blobs(12)
    options = {"seed": 0, **kwargs}
    with pytest.raises(ValueError, match=message):
        training.train(_model(), x, y, **options)


def test_train_and_accuracy_reject_bad_data():
    x, y = _blobs(12)
    with pytest.raises(ValueError, match="model"):
        training.train("net", x, y, seed=0)
    with pytest.raises(ValueError, match="labels"):
        training.train(_model(), x, y.float(), seed=0)
    with pytest.raises(ValueError, match="one entry per image"):
        training.accuracy(_model(), x, y[:5])
    with pytest.raises(ValueError, match="images"):
        training.accuracy(_model(), x.long(), y)
    with pytest.raises(ValueError, match="targets"):
        training.train(_model(), x, y, seed=0, loss="mse")


def test_accuracy_counts_right_answers_and_restores_mode():
    class Fixed(nn.Module):
        def forward(self, x):
            return torch.nn.functional.one_hot(x[:, 0].long(), 3).float()

    model = Fixed().train()
    x = torch.tensor([[0.0], [1.0], [2.0], [1.0]])
    assert training.accuracy(model, x, torch.tensor([0, 1, 1, 1])) == 0.75
    assert model.training


def test_check_seeds():
    assert training.check_seeds(range(5)) == (0, 1, 2, 3, 4)
    for bad in ([], (), "01", [0, 0], [0, -1], [0.5], None, 3):
        with pytest.raises(ValueError, match="seeds"):
            training.check_seeds(bad)


def test_spread_statistics_and_format():
    s = training.spread([0.9, 0.95, 1.0])
    assert s.mean == pytest.approx(0.95) and s.std == pytest.approx(0.05)
    assert (s.low, s.high, s.n) == (0.9, 1.0, 3)
    assert format(s, ".1%") == "95.0% ± 5.0%"
    assert training.spread(torch.tensor([2.0])).std == 0.0
    for bad in ([], [1.0, float("nan")], "12", [True], torch.zeros(2, 2)):
        with pytest.raises(ValueError, match="values"):
            training.spread(bad)
