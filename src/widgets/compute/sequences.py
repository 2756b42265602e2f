"""Convolution on sequences: MNIST-1D's published benchmark reproduced, and a 1-D motif detector.

Used by the chapter "The same prior on sequences".

MNIST-1D (Greydanus and Kobak, ICML 2024) turns the ten digits into ten short
1-D templates, then pads, shifts, shears, scales and adds noise to them, so
that each example is a sequence of 40 numbers (:func:`mnist1d`, generated
offline by the authors' ``mnist1d`` package: 4,000 training and 1,000 test
sequences). Its published table compares logistic regression, a multilayer
perceptron and a small convolutional network on the sequences as they are and
with their 40 positions shuffled by one fixed permutation
(:func:`shuffle_order`). The three architectures are the authors'
(:func:`logistic`, :func:`mlp`, :func:`cnn`), and so is the protocol: Adam
with learning rate 0.01 and no weight decay, batches of 100 visited in a
fixed cyclic order, 6,000 steps, test accuracy at the last step
(:data:`STEPS`, :data:`BATCH_SIZE`, :data:`LR`).

These networks are so small that one training step costs little more than
PyTorch's fixed overhead per call. So every seed, on the plain and on the
shuffled sequences, trains at once as one member of a :class:`Grouped`
network: the members' layers are stacked (batched matrix products, a convolution
as one over the windows of its input), each member reads its own batches, and the loss is the sum
of the members' losses. Each member's gradient is then the gradient of its
own loss alone, and Adam updates every number on its own, so a member follows
the path it would follow trained alone (:func:`train_one`, the authors' loop
for one network), to rounding error; the tests check it.

The 1-D motif detector (:func:`motif`, :func:`motif_signals`,
:func:`motif_detector`, :func:`motif_responses`, :func:`motif_example`,
:func:`motif_peaks`) is a convolution finding a short pattern in a noisy
signal.

Nothing here seeds PyTorch's, NumPy's or Python's global generator: models are
initialised inside :func:`torch.random.fork_rng` from an explicit ``seed``,
and the generator's global NumPy state is restored after it runs.
"""

from __future__ import annotations

import copy
import functools
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .._checks import MAX_SIDE, check_choice, check_count, check_int, check_tensor
from .training import check_seeds, one_thread

#: Length of an MNIST-1D sequence, and its number of classes.
LENGTH, CLASSES = 40, 10
#: The authors' protocol (their ``notebooks/train.py`` and benchmark notebook).
STEPS, BATCH_SIZE, LR = 6000, 100, 1e-2
#: The seed of the authors' fixed permutation of the 40 positions.
PERMUTATION_SEED = 42
#: The architectures of the published table that this module trains.
ARCHITECTURES = ("logistic", "mlp", "cnn")
#: The published table (the authors' README, in whole percent): test accuracy on
#: the sequences as they are, and with their positions shuffled. Its GRU and
#: human-expert columns are not reproduced here.
PUBLISHED = {"logistic": (0.32, 0.32), "mlp": (0.68, 0.68), "cnn": (0.94, 0.56)}
#: Final test accuracy of ``benchmark(name, range(3), steps=6000)`` (the full
#: published length of training), seeds 0, 1, 2, on the sequences as made and
#: shuffled. Too slow for the page (about 13 CPU minutes for the CNN); measured
#: with this module's code, and re-run by ``tests/test_sequences.py`` when
#: ``CW_SLOW=1``.
LONG_RUN_STEPS = 6000
LONG_RUN = {"cnn": ((0.925, 0.931, 0.949), (0.586, 0.581, 0.547)),
            "mlp": ((0.652, 0.678, 0.633), (0.653, 0.645, 0.626))}


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Sequences:
    """MNIST-1D: training and test sequences with their labels.

    Attributes
    ----------
    train_x, test_x : torch.Tensor
        (4000, 40) and (1000, 40) float32.
    train_y, test_y : torch.Tensor
        (4000,) and (1000,) int64 digits.
    permutation : tuple of int or None
        The order of positions applied to every sequence, or None.
    """

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    permutation: tuple | None = None


@functools.lru_cache(maxsize=1)
def _generated() -> tuple[np.ndarray, ...]:
    from mnist1d.data import get_dataset_args, make_dataset

    numpy_state, python_state = np.random.get_state(), random.getstate()
    try:  # make_dataset seeds NumPy's and Python's global generators: put them back.
        made = make_dataset(get_dataset_args())
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)
    return tuple(np.array(made[k]) for k in ("x", "y", "x_test", "y_test"))


def shuffle_order(length: int = LENGTH, seed: int = PERMUTATION_SEED) -> tuple[int, ...]:
    """The authors' fixed shuffle of the positions: ``np.random.seed(42); np.random.permutation(40)``."""
    length = check_int("length", length, low=1, high=MAX_SIDE)
    seed = check_int("seed", seed, low=0, high=2**32 - 1)
    return tuple(int(i) for i in np.random.RandomState(seed).permutation(length))


def mnist1d(shuffle: bool = False) -> Sequences:
    """MNIST-1D with the package's default arguments, generated offline (about 3 s the first time).

    Parameters
    ----------
    shuffle : bool
        True puts the 40 positions of every training and test sequence in
        the one order :func:`shuffle_order` gives.
    """
    if not isinstance(shuffle, bool):
        raise ValueError(f"shuffle must be True or False, got {shuffle!r}")
    x, y, tx, ty = _generated()
    order = shuffle_order(x.shape[1]) if shuffle else None
    if order is not None:
        x, tx = x[:, list(order)], tx[:, list(order)]
    as_x = functools.partial(torch.tensor, dtype=torch.float32)
    as_y = functools.partial(torch.tensor, dtype=torch.int64)
    return Sequences(as_x(x), as_y(y), as_x(tx), as_y(ty), order)


def majority_accuracy(sequences: Sequences) -> float:
    """Test accuracy of always answering the most common training class."""
    if not isinstance(sequences, Sequences):
        raise ValueError(f"sequences must be a Sequences (from mnist1d), got {type(sequences).__name__}")
    common = int(torch.bincount(sequences.train_y).argmax())
    return float((sequences.test_y == common).double().mean())


def nearest_neighbour_accuracy(sequences: Sequences) -> float:
    """Test accuracy of one-nearest-neighbour (Euclidean) on the raw sequences."""
    if not isinstance(sequences, Sequences):
        raise ValueError(f"sequences must be a Sequences (from mnist1d), got {type(sequences).__name__}")
    with one_thread():
        nearest = torch.cdist(sequences.test_x.double(), sequences.train_x.double()).argmin(dim=1)
    return float((sequences.train_y[nearest] == sequences.test_y).double().mean())


# --------------------------------------------------------------------------- the authors' three networks


class ResidualMLP(nn.Module):
    """The authors' MLP: 40 -> 100 -> 100 (with a skip connection) -> 10, ReLU."""

    def __init__(self, inputs: int = LENGTH, hidden: int = 100, classes: int = CLASSES):
        super().__init__()
        self.linear1 = nn.Linear(inputs, hidden)
        self.linear2 = nn.Linear(hidden, hidden)
        self.linear3 = nn.Linear(hidden, classes)

    def forward(self, x):
        """(B, 40) sequences to (B, 10) logits."""
        h = self.linear1(x).relu()
        h = h + self.linear2(h).relu()
        return self.linear3(h)


class ConvNet1d(nn.Module):
    """The authors' CNN: three Conv1d layers of 25 channels (kernels 5, 3, 3, stride 2, padding 1), ReLU, a linear head.

    A 40-sample sequence becomes 25 maps of 19, then 10, then 5 samples;
    the head reads all 125 numbers.
    """

    def __init__(self, channels: int = 25, classes: int = CLASSES, length: int = LENGTH):
        super().__init__()
        self.conv1 = nn.Conv1d(1, channels, 5, stride=2, padding=1)
        self.conv2 = nn.Conv1d(channels, channels, 3, stride=2, padding=1)
        self.conv3 = nn.Conv1d(channels, channels, 3, stride=2, padding=1)
        n = length
        for k in (5, 3, 3):
            n = (n + 2 - k) // 2 + 1
        self.linear = nn.Linear(channels * n, classes)

    def forward(self, x):
        """(B, 40) sequences to (B, 10) logits."""
        h = x.view(-1, 1, x.shape[-1])
        h = self.conv3(self.conv2(self.conv1(h).relu()).relu()).relu()
        return self.linear(h.flatten(1))


def _seeded(build, seed):
    seed = check_int("seed", seed, low=0, high=2**63 - 1)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


def logistic(seed: int = 0) -> nn.Linear:
    """Logistic regression on the 40 values: ``nn.Linear(40, 10)`` (410 parameters)."""
    return _seeded(lambda: nn.Linear(LENGTH, CLASSES), seed)


def mlp(seed: int = 0) -> ResidualMLP:
    """The authors' MLP, 15,210 parameters, initialised from ``seed``."""
    return _seeded(ResidualMLP, seed)


def cnn(seed: int = 0) -> ConvNet1d:
    """The authors' CNN, 5,210 parameters, initialised from ``seed``."""
    return _seeded(ConvNet1d, seed)


BUILDERS = {"logistic": logistic, "mlp": mlp, "cnn": cnn}


def reading_in_order(model: nn.Module, order: Sequence[int]) -> nn.Module:
    """A copy of a logistic regression or MLP whose first layer reads its inputs in ``order``.

    If ``x_shuffled = x[:, order]``, the copy gives on ``x_shuffled`` what
    ``model`` gives on ``x``: its first weight matrix is ``W[:, order]``.
    Trained on shuffled sequences from these weights, the copy follows the
    path ``model`` follows on the plain ones.
    """
    if not isinstance(model, (nn.Linear, ResidualMLP)):
        raise ValueError(f"model must be nn.Linear or ResidualMLP, got {type(model).__name__}")
    first = model if isinstance(model, nn.Linear) else model.linear1
    if isinstance(order, (str, bytes)) or not isinstance(order, Sequence) or \
            sorted(order) != list(range(first.in_features)):
        raise ValueError(f"order must be a permutation of range({first.in_features}), got {order!r:.80}")
    out = copy.deepcopy(model)
    target = out if isinstance(out, nn.Linear) else out.linear1
    with torch.no_grad():
        target.weight.copy_(first.weight[:, list(order)])
    return out


def parameter_count(model: nn.Module) -> int:
    """Number of trainable numbers in ``model``."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters())


# --------------------------------------------------------------------------- many members trained as one


def _linear(x, weight, bias):
    # x (G, B, in), weight (G, out, in), bias (G, out) -> (G, B, out)
    return torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))


def _conv(h, weight, bias, stride=2, padding=1):
    # One Conv1d per member as a batched matrix product over windows: h (G, B, L, in) ->
    # (G, B, L_out, out). The windows are strided slices laid side by side, which trains
    # faster on a CPU than conv1d with groups=G or than Tensor.unfold (measured).
    g, b, length, c = h.shape
    k = weight.shape[-1]
    n = (length + 2 * padding - k) // stride + 1
    padded = F.pad(h, (0, 0, padding, padding))
    windows = torch.cat([padded[:, :, j:j + stride * (n - 1) + 1:stride] for j in range(k)], dim=-1)
    flat = weight.permute(0, 1, 3, 2).reshape(g, weight.shape[1], k * c)  # tap-major, like the windows
    return _linear(windows.reshape(g, b * n, k * c), flat, bias).view(g, b, n, -1)


class Grouped(nn.Module):
    """Several networks of one architecture, run side by side as one module.

    Member ``g`` reads ``x[g]``: the forward pass maps (G, B, 40) to
    (G, B, 10). Each parameter of the members is stacked along a new first
    axis, and the layers run as a batched matrix product
    (:func:`torch.baddbmm`; a convolution as such a product over the
    windows of its input), so no member's output depends on another's
    weights.

    Parameters
    ----------
    members : sequence of nn.Module
        At least one network, all ``nn.Linear``, all :class:`ResidualMLP` or
        all :class:`ConvNet1d`, with the same shapes.
    """

    def __init__(self, members: Sequence[nn.Module]):
        super().__init__()
        if isinstance(members, nn.Module) or not isinstance(members, Sequence) or not members:
            raise ValueError(f"members must be a non-empty sequence of networks, got {members!r:.80}")
        kind = type(members[0])
        if kind not in (nn.Linear, ResidualMLP, ConvNet1d) or any(type(m) is not kind for m in members):
            raise ValueError("members must all be nn.Linear, all ResidualMLP or all ConvNet1d, got "
                             f"{sorted({type(m).__name__ for m in members})}")
        names = [name for name, _ in members[0].named_parameters()]
        for m in members[1:]:
            if [(n, p.shape) for n, p in m.named_parameters()] != \
                    [(n, p.shape) for n, p in members[0].named_parameters()]:
                raise ValueError("members must all have the same parameter shapes")
        self.kind, self.names, self.size = kind, names, len(members)
        self.template = [m for m in members[:1]]  # kept outside the module's parameters
        self.stacked = nn.ParameterList(
            nn.Parameter(torch.stack([dict(m.named_parameters())[n].detach() for m in members]).clone())
            for n in names)

    def _p(self, name):
        return self.stacked[self.names.index(name)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(G, B, 40) sequences, member g's in ``x[g]``, to (G, B, 10) logits."""
        if not isinstance(x, torch.Tensor) or x.ndim != 3 or x.shape[0] != self.size:
            raise ValueError(f"x must be (members={self.size}, batch, length), got {getattr(x, 'shape', x)!r}")
        p = self._p
        if self.kind is nn.Linear:
            return _linear(x, p("weight"), p("bias"))
        if self.kind is ResidualMLP:
            h = _linear(x, p("linear1.weight"), p("linear1.bias")).relu()
            h = h + _linear(h, p("linear2.weight"), p("linear2.bias")).relu()
            return _linear(h, p("linear3.weight"), p("linear3.bias"))
        h = x.unsqueeze(-1)  # (G, B, L, 1): positions, then channels
        for name in ("conv1", "conv2", "conv3"):
            w = p(f"{name}.weight")  # (G, out, in, k)
            h = _conv(h, w, p(f"{name}.bias")).relu()
        h = h.transpose(2, 3).flatten(2)  # (G, B, channels * length), each member's own flattening
        return _linear(h, p("linear.weight"), p("linear.bias"))

    def member(self, g: int) -> nn.Module:
        """A stand-alone copy of member ``g`` with its current weights."""
        g = check_int("g", g, low=0, high=self.size - 1)
        model = copy.deepcopy(self.template[0])
        with torch.no_grad():
            for name, param in model.named_parameters():
                param.copy_(self._p(name)[g])
        return model


def _batches(orders: torch.Tensor, step: int, batch_size: int) -> torch.Tensor:
    n = orders.shape[1]
    where = (step * batch_size + torch.arange(batch_size)) % n
    return orders[:, where]


def _check_members_data(inputs, labels, orders):
    check_tensor("inputs", inputs, ndim=3)
    if not inputs.is_floating_point():
        raise ValueError(f"inputs must be floating point, got {inputs.dtype}")
    if not isinstance(labels, torch.Tensor) or labels.ndim != 1 or labels.dtype != torch.int64 \
            or len(labels) != inputs.shape[1]:
        raise ValueError(f"labels must be a 1-D int64 tensor with one class per example ({inputs.shape[1]}), "
                         f"got {labels!r:.80}")
    if not isinstance(orders, torch.Tensor) or orders.ndim != 2 or orders.dtype != torch.int64 \
            or orders.shape[0] != inputs.shape[0] or \
            bool((orders < 0).any() | (orders >= inputs.shape[1]).any()):
        raise ValueError(f"orders must be an int64 (members={inputs.shape[0]}, k) tensor of example indices, "
                         f"got {orders!r:.80}")


def train_members(model: Grouped, inputs: torch.Tensor, labels: torch.Tensor, orders: torch.Tensor, *,
                  steps: int = STEPS, batch_size: int = BATCH_SIZE, lr: float = LR,
                  test: tuple | None = None, eval_every: int = 0) -> dict:
    """Train every member of ``model`` with Adam, each on its own batches: the authors' loop, G at once.

    At step ``t`` member ``g`` reads examples ``orders[g, (t * batch_size + i)
    % k]`` for ``i < batch_size`` (the authors read the training set in one
    fixed cyclic order; ``orders`` gives each member its own).

    Parameters
    ----------
    model : Grouped
    inputs : torch.Tensor
        (G, N, L): member ``g``'s training sequences (members may see
        different versions of the same examples, e.g. shuffled ones).
    labels : torch.Tensor
        (N,) int64.
    orders : torch.Tensor
        (G, k) int64 example indices, each member's visiting order.
    steps, batch_size : int
        Adam steps (1 to 100,000) and examples per step (1 to 4,096).
    lr : float
        Adam's learning rate.
    test : (test_inputs, test_labels), optional
        (G, M, L) and (M,): measured every ``eval_every`` steps and at the end.
    eval_every : int
        0: only at the end.

    Returns
    -------
    dict
        ``"steps"`` (list of int), ``"test_accuracy"`` ((G, T) tensor, one
        column per evaluation, empty without ``test``), ``"seconds"`` (wall
        time of the loop).
    """
    if not isinstance(model, Grouped):
        raise ValueError(f"model must be a Grouped network, got {type(model).__name__}")
    _check_members_data(inputs, labels, orders)
    if inputs.shape[0] != model.size:
        raise ValueError(f"inputs must hold one set per member ({model.size}), got {inputs.shape[0]}")
    steps = check_int("steps", steps, low=1, high=100_000)
    batch_size = check_int("batch_size", batch_size, low=1, high=4096)
    eval_every = check_int("eval_every", eval_every, low=0, high=100_000)
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr <= 1:
        raise ValueError(f"lr must be a number in (0, 1], got {lr!r}")
    if test is not None:
        if not isinstance(test, tuple) or len(test) != 2:
            raise ValueError(f"test must be a pair (inputs, labels), got {test!r:.80}")
        check_tensor("test inputs", test[0], ndim=3)
    optimiser = torch.optim.Adam(model.parameters(), lr=float(lr))
    rows = torch.arange(model.size).unsqueeze(1)
    out = {"steps": [], "test_accuracy": [], "seconds": 0.0}

    def measure(step):
        if test is not None:
            out["steps"].append(step)
            out["test_accuracy"].append(member_accuracies(model, *test))

    with one_thread():
        start = time.perf_counter()
        for step in range(steps):
            if eval_every and step % eval_every == 0:
                measure(step)
            batch = _batches(orders, step, batch_size)
            logits = model(inputs[rows, batch])
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels[batch].reshape(-1),
                                   reduction="none").view(model.size, -1).mean(dim=1).sum()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        measure(steps)
        out["seconds"] = time.perf_counter() - start
    out["test_accuracy"] = torch.stack(out["test_accuracy"], dim=1) if out["test_accuracy"] else torch.empty(0)
    return out


def member_accuracies(model: Grouped, inputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Each member's accuracy on its own (G, M, L) ``inputs``, a (G,) tensor."""
    if not isinstance(model, Grouped):
        raise ValueError(f"model must be a Grouped network, got {type(model).__name__}")
    check_tensor("inputs", inputs, ndim=3)
    with one_thread(), torch.no_grad():
        return (model(inputs).argmax(dim=-1) == labels).double().mean(dim=1)


def train_one(model: nn.Module, inputs: torch.Tensor, labels: torch.Tensor, order: torch.Tensor, *,
              steps: int = STEPS, batch_size: int = BATCH_SIZE, lr: float = LR) -> nn.Module:
    """The authors' loop for one network (Adam, batches in the cyclic ``order``), the reference for :class:`Grouped`."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    _check_members_data(inputs.unsqueeze(0), labels, order.unsqueeze(0))
    steps = check_int("steps", steps, low=1, high=100_000)
    batch_size = check_int("batch_size", batch_size, low=1, high=4096)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    with one_thread():
        for step in range(steps):
            batch = _batches(order.unsqueeze(0), step, batch_size)[0]
            loss = F.cross_entropy(model(inputs[batch]), labels[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return model


def visiting_order(n: int, seed: int) -> torch.Tensor:
    """Seed ``seed``'s fixed cyclic order over ``n`` training examples (a permutation)."""
    n = check_count("n", n)
    seed = check_int("seed", seed, low=0, high=2**63 - 1)
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed))


@dataclass(frozen=True)
class Benchmark:
    """One architecture trained from each seed on the plain and on the shuffled sequences.

    Attributes
    ----------
    architecture : str
    seeds : tuple of int
    plain, shuffled : torch.Tensor
        (S,) test accuracy at the last step, one per seed.
    steps : list of int
        Where the curves were measured.
    curves : torch.Tensor
        (2, S, T) test accuracy along training (0: plain, 1: shuffled).
    seconds : float
        Wall time of the training loop for all 2 S members together.
    parameters : int
        Parameters of one member.
    """

    architecture: str
    seeds: tuple
    plain: torch.Tensor
    shuffled: torch.Tensor
    steps: list
    curves: torch.Tensor
    seconds: float
    parameters: int


def benchmark(architecture: str, seeds: Sequence[int], *, steps: int = STEPS, batch_size: int = BATCH_SIZE,
              lr: float = LR, eval_every: int = 500) -> Benchmark:
    """Train ``architecture`` from every seed on MNIST-1D as it is and shuffled, all members at once.

    With a given seed the plain and the shuffled member start from the same
    weights and read the same examples in the same order, so the two are
    compared in pairs.

    Parameters
    ----------
    architecture : {"logistic", "mlp", "cnn"}
    seeds : sequence of int
        Distinct, at least one.
    steps, batch_size, lr, eval_every
        As in :func:`train_members`.
    """
    check_choice("architecture", architecture, ARCHITECTURES)
    seeds = check_seeds(seeds)
    plain, shuffled = mnist1d(), mnist1d(shuffle=True)
    members = [BUILDERS[architecture](s) for s in seeds]
    model = Grouped(members + [BUILDERS[architecture](s) for s in seeds])
    s, n = len(seeds), len(plain.train_y)
    inputs = torch.stack([plain.train_x] * s + [shuffled.train_x] * s)
    tests = torch.stack([plain.test_x] * s + [shuffled.test_x] * s)
    orders = torch.stack([visiting_order(n, seed) for seed in seeds] * 2)
    run = train_members(model, inputs, plain.train_y, orders, steps=steps, batch_size=batch_size, lr=lr,
                        test=(tests, plain.test_y), eval_every=eval_every)
    curves = run["test_accuracy"].view(2, s, -1)
    return Benchmark(architecture, seeds, curves[0, :, -1].clone(), curves[1, :, -1].clone(), run["steps"],
                     curves, run["seconds"], parameter_count(members[0]))


# --------------------------------------------------------------------------- a motif detector


def motif(length: int = 7) -> torch.Tensor:
    """A short, lopsided pattern for the 1-D example: a slow rise, then a sharp fall.

    Its time reversal (a sharp rise, then a slow fall) is a different
    pattern with the same values, which :func:`motif_signals` uses as a decoy.
    """
    length = check_int("length", length, low=3, high=32)
    t = torch.linspace(0.0, 1.0, length)
    shape = torch.where(t < 0.7, t / 0.7, (1.0 - t) / 0.3 * 2.0 - 1.0)
    return shape - shape.mean()


def _check_noise(noise) -> float:
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not 0 <= noise <= 2:
        raise ValueError(f"noise must be a number in [0, 2], got {noise!r}")
    return float(noise)


def motif_signals(n: int, length: int = 64, *, pattern: torch.Tensor | None = None, noise: float = 0.2,
                  seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Noisy signals that contain either the motif or its time-reversed decoy, somewhere.

    Half the signals (label 1) hold ``pattern`` at a random position, the
    other half (label 0) its reversal, so telling them apart needs the order
    of the values, not just their presence.

    Parameters
    ----------
    n : int
        Number of signals, at least 2.
    length : int
        Samples per signal, at least twice the pattern's length.
    pattern : torch.Tensor, optional
        1-D pattern (default :func:`motif`).
    noise : float
        Standard deviation of the Gaussian noise, 0 to 2.
    seed : int
        Seed of the positions, labels and noise.

    Returns
    -------
    signals : torch.Tensor
        (n, 1, length) float32.
    labels : torch.Tensor
        (n,) int64, 1 where the motif is present.
    positions : torch.Tensor
        (n,) where the pattern or decoy starts.
    """
    n = check_count("n", n, low=2)
    pattern = motif() if pattern is None else check_tensor("pattern", pattern, ndim=1)
    length = check_int("length", length, low=2 * len(pattern), high=MAX_SIDE)
    noise = _check_noise(noise)
    gen = torch.Generator().manual_seed(check_int("seed", seed, low=0, high=2**63 - 1))
    labels = torch.randperm(n, generator=gen) % 2
    positions = torch.randint(0, length - len(pattern) + 1, (n,), generator=gen)
    signals = noise * torch.randn(n, 1, length, generator=gen)
    for i, (label, pos) in enumerate(zip(labels.tolist(), positions.tolist())):
        signals[i, 0, pos:pos + len(pattern)] += pattern if label else pattern.flip(0)
    return signals, labels, positions


def motif_detector(kernel_size: int = 7, seed: int = 0, padding: int = 0) -> nn.Sequential:
    """A one-layer 1-D convolutional classifier: two kernels, then the maximum over time.

    ``Conv1d(1, 2, kernel_size, padding=padding)`` slides two kernels along
    the signal; the largest response of each, wherever it occurs, is the
    logit of its class (0: decoy, 1: motif). ``padding`` zeros on each side
    (0 to ``kernel_size - 1``) give windows that stick out past the ends.
    """
    kernel_size = check_int("kernel_size", kernel_size, low=1, high=32)
    padding = check_int("padding", padding, low=0, high=kernel_size - 1)
    return _seeded(lambda: nn.Sequential(nn.Conv1d(1, 2, kernel_size, padding=padding), nn.AdaptiveMaxPool1d(1),
                                         nn.Flatten()), seed)


def _check_detector(detector) -> nn.Sequential:
    if not isinstance(detector, nn.Sequential) or not len(detector) or not isinstance(detector[0], nn.Conv1d):
        raise ValueError(f"detector must be a Sequential starting with a Conv1d, got {detector!r:.80}")
    return detector


def motif_responses(detector: nn.Sequential, signal: torch.Tensor) -> torch.Tensor:
    """The detector's two response curves along one signal, (2, length + 2 padding - kernel_size + 1)."""
    _check_detector(detector)
    check_tensor("signal", signal, ndim=1)
    with one_thread(), torch.no_grad():
        return detector[0](signal.view(1, 1, -1))[0]


def motif_example(length: int = 96, motif_at: Sequence[int] = (12, 64), decoy_at: Sequence[int] = (38,), *,
                  pattern: torch.Tensor | None = None, noise: float = 0.2, seed: int = 0) -> torch.Tensor:
    """One noisy test signal with the motif and its decoy at chosen places.

    Parameters
    ----------
    length : int
        Samples, at least the pattern's length.
    motif_at, decoy_at : sequence of int
        Where each copy of the motif and of the time-reversed decoy starts;
        every copy must fit inside the signal.
    pattern : torch.Tensor, optional
        1-D pattern (default :func:`motif`).
    noise : float
        Standard deviation of the Gaussian noise, 0 to 2.
    seed : int
        Seed of the noise.

    Returns
    -------
    torch.Tensor
        (length,) float32.
    """
    pattern = motif() if pattern is None else check_tensor("pattern", pattern, ndim=1)
    length = check_int("length", length, low=len(pattern), high=MAX_SIDE)
    noise = _check_noise(noise)
    gen = torch.Generator().manual_seed(check_int("seed", seed, low=0, high=2**63 - 1))
    signal = noise * torch.randn(length, generator=gen)
    for name, starts, shape in (("motif_at", motif_at, pattern), ("decoy_at", decoy_at, pattern.flip(0))):
        if isinstance(starts, (str, bytes)) or not isinstance(starts, Sequence | range):
            raise ValueError(f"{name} must be a sequence of start positions, got {starts!r}")
        for start in starts:
            start = check_int(name, start, low=0, high=length - len(pattern))
            signal[start:start + len(pattern)] += shape
    return signal


@dataclass(frozen=True)
class MotifCheck:
    """How a trained detector does on test signals of one length.

    Attributes
    ----------
    accuracy : float
        Fraction of signals classified right (motif or decoy).
    motif_on_motif, decoy_on_decoy : float
        Fraction of the motif signals on which the motif kernel (1) peaks on
        a window that overlaps the motif by more than half the kernel, and
        the same for the decoy kernel (0) on the decoy signals.
    by_position : torch.Tensor
        (bins,) accuracy of the signals whose pattern starts in each of
        ``bins`` equal stretches of the possible starts.
    """

    accuracy: float
    motif_on_motif: float
    decoy_on_decoy: float
    by_position: torch.Tensor


def motif_check(detector: nn.Sequential, signals: torch.Tensor, labels: torch.Tensor, positions: torch.Tensor,
                *, bins: int = 4) -> MotifCheck:
    """Test ``detector`` on signals from :func:`motif_signals`: accuracy, where it looks, accuracy by position.

    Parameters
    ----------
    detector : nn.Sequential
        From :func:`motif_detector`, trained or not.
    signals, labels, positions : torch.Tensor
        As :func:`motif_signals` returns them, of any length the kernel fits.
    bins : int
        Stretches of start positions for ``by_position``, 1 to 64.
    """
    _check_detector(detector)
    check_tensor("signals", signals, ndim=3)
    bins = check_int("bins", bins, low=1, high=64)
    n = len(signals)
    for name, value in (("labels", labels), ("positions", positions)):
        if not isinstance(value, torch.Tensor) or value.shape != (n,) or value.dtype != torch.int64:
            raise ValueError(f"{name} must be an int64 tensor of shape ({n},), got {value!r:.80}")
    k, pad = detector[0].kernel_size[0], detector[0].padding[0]
    with one_thread(), torch.no_grad():
        responses = detector[0](signals)  # (n, 2, windows)
    best, peaks = responses.max(dim=2)
    peaks = peaks - pad  # where the winning window starts, in the signal's own positions
    right = best.argmax(dim=1) == labels
    on = (peaks - positions.unsqueeze(1)).abs() <= (k - 1) // 2  # (n, 2): overlap of more than half the kernel
    on_own = [float(on[labels == c, c].double().mean()) for c in (0, 1)]
    span = signals.shape[-1] - k + 1
    where = (positions * bins // span).clamp(max=bins - 1)
    by = torch.stack([right[where == b].double().mean() if bool((where == b).any()) else torch.tensor(float("nan"))
                      for b in range(bins)])
    return MotifCheck(float(right.double().mean()), on_own[1], on_own[0], by)


def train_motif_detectors(seeds: Sequence[int], signals: torch.Tensor, labels: torch.Tensor, *,
                          kernel_size: int = 7, padding: int = 0, epochs: int = 40, batch_size: int = 64,
                          lr: float = 0.05, order_seed: int = 0) -> list[nn.Sequential]:
    """One :func:`motif_detector` per seed, trained side by side with Adam on the same batches.

    The detectors' kernels sit in one ``Conv1d(1, 2 S, kernel_size)``, and the
    loss is the sum of the detectors' cross-entropies, so each kernel's
    gradient is its own detector's, and Adam's update too: a detector ends
    as it would trained alone from its seed on these batches.

    Parameters
    ----------
    seeds : sequence of int
        One detector each (its initial weights).
    signals, labels : torch.Tensor
        From :func:`motif_signals`.
    kernel_size, padding : int
        As in :func:`motif_detector`.
    epochs, batch_size : int
        Passes over the signals (1 to 1,000), and signals per step.
    lr : float
        Adam's learning rate, in (0, 1].
    order_seed : int
        Seed of the visiting order, shared by all detectors.
    """
    seeds = check_seeds(seeds)
    check_tensor("signals", signals, ndim=3)
    if not isinstance(labels, torch.Tensor) or labels.shape != (len(signals),) or labels.dtype != torch.int64:
        raise ValueError(f"labels must be an int64 tensor with one label per signal, got {labels!r:.80}")
    epochs = check_int("epochs", epochs, low=1, high=1000)
    batch_size = check_int("batch_size", batch_size, low=1, high=65_536)
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr <= 1:
        raise ValueError(f"lr must be a number in (0, 1], got {lr!r}")
    detectors = [motif_detector(kernel_size, s, padding) for s in seeds]
    weight = nn.Parameter(torch.cat([d[0].weight.detach() for d in detectors]).clone())
    bias = nn.Parameter(torch.cat([d[0].bias.detach() for d in detectors]).clone())
    optimiser = torch.optim.Adam([weight, bias], lr=float(lr))
    generator = torch.Generator().manual_seed(check_int("order_seed", order_seed, low=0, high=2**63 - 1))
    with one_thread():
        for _ in range(epochs):
            for batch in torch.randperm(len(signals), generator=generator).split(batch_size):
                logits = F.conv1d(signals[batch], weight, bias, padding=padding).amax(dim=2).view(
                    len(batch), len(seeds), 2)
                loss = F.cross_entropy(logits.transpose(1, 2), labels[batch, None].expand(-1, len(seeds)),
                                       reduction="none").mean(dim=0).sum()
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
    with torch.no_grad():
        for i, d in enumerate(detectors):
            d[0].weight.copy_(weight[2 * i:2 * i + 2])
            d[0].bias.copy_(bias[2 * i:2 * i + 2])
    return detectors
