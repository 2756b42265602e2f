"""Training and evaluating the book's networks: one loop, one accuracy, one rule for seeds.

Every chapter that trains a network uses :func:`train`, measures it with
:func:`accuracy`, and summarises a result over several seeds with
:func:`spread`. Two trained results are compared only through
:func:`widgets.compute.stats.paired`, seed by seed.

The stopping rule, stated once for the whole book: training ends at the end
of the first epoch after which the mean training loss has gone ``patience``
epochs in a row without falling more than ``tol`` below the best earlier
epoch (the run has *converged*), or after ``max_epochs`` epochs.

Nothing here seeds PyTorch's global generator; every random choice comes
from a ``torch.Generator`` seeded with an explicit ``seed``. Training and
evaluation run on one thread (see :func:`one_thread`).
"""

from __future__ import annotations

import contextlib
import math
import numbers
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from .._checks import check_choice, check_int
from . import data

#: The losses :func:`train` can minimise.
LOSSES = ("cross_entropy", "mse")


@contextlib.contextmanager
def one_thread():
    """Run the enclosed code on one PyTorch thread, then restore the previous setting.

    The book's networks are far too small to gain from more threads; on a
    machine busy with other work, threads waiting for each other made the
    same passes many times slower. Usable as a decorator too.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@dataclass
class Run:
    """What one call of :func:`train` did.

    Attributes
    ----------
    losses : list of float
        Mean training loss of each epoch (over its mini-batches, before each update).
    epochs : int
        Epochs run.
    converged : bool
        True if the stopping rule ended the run, False if ``max_epochs`` did.
    wall_seconds, cpu_seconds : float
        Elapsed time, and CPU time of this process, for the loop.
    """

    losses: list = field(default_factory=list)
    epochs: int = 0
    converged: bool = False
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0


def train(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, *, seed: int, max_epochs: int = 100,
          batch_size: int = 64, lr: float = 0.01, tol: float = 1e-3, patience: int = 5,
          loss: str = "cross_entropy", max_shift: int = 0) -> Run:
    """Train ``model`` in place with Adam on mini-batches until the training loss stops improving.

    Each epoch visits every example once, in an order drawn from a
    ``torch.Generator`` seeded with ``seed``; the last batch of an epoch may
    be smaller. The run stops by the module's rule (``tol``, ``patience``)
    or after ``max_epochs``. With the same model, data and seed, two runs on
    the same machine give bitwise identical weights.

    Parameters
    ----------
    model : torch.nn.Module
        Maps a batch of inputs to outputs (logits for ``"cross_entropy"``).
    inputs : torch.Tensor
        Floating-point inputs, first axis the examples.
    targets : torch.Tensor
        ``"cross_entropy"``: (N,) int64 classes. ``"mse"``: floating-point
        targets of the model's output shape.
    seed : int
        Seed of the visiting order and of the random shifts.
    max_epochs : int
        Most passes over the data, 1 to 10,000.
    batch_size : int
        Examples per step, 1 to 65,536.
    lr : float
        Adam's learning rate, in (0, 1].
    tol : float
        Smallest fall of the epoch loss that counts as an improvement, a
        positive finite number.
    patience : int
        Epochs in a row without improvement that end the run, 1 to 1,000.
    loss : {"cross_entropy", "mse"}
        What is minimised.
    max_shift : int
        0 trains on the inputs as given; otherwise every batch of (N, C, H, W)
        images is shifted at random by up to ``max_shift`` pixels along each
        axis, zero-filled (:func:`widgets.compute.data.random_shifts`): data
        augmentation.

    Returns
    -------
    Run
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    check_choice("loss", loss, LOSSES)
    if loss == "cross_entropy":
        check_labelled(inputs, targets)
    else:
        _check_regression(inputs, targets)
    seed = check_int("seed", seed, low=0, high=2**63 - 1)
    max_epochs = check_int("max_epochs", max_epochs, low=1, high=10_000)
    batch_size = check_int("batch_size", batch_size, low=1, high=65_536)
    lr = _positive_number("lr", lr, high=1.0)
    tol = _positive_number("tol", tol)
    patience = check_int("patience", patience, low=1, high=1_000)
    max_shift = check_int("max_shift", max_shift, low=0)
    if max_shift:
        if inputs.ndim != 4:
            raise ValueError(f"max_shift must be 0 unless inputs are (N, C, H, W) images, got shape "
                             f"{tuple(inputs.shape)}")
        check_int("max_shift", max_shift, low=0, high=min(inputs.shape[-2:]) - 1)
    objective = nn.functional.cross_entropy if loss == "cross_entropy" else nn.functional.mse_loss
    generator = torch.Generator().manual_seed(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    run, n = Run(), len(inputs)
    best, stale = math.inf, 0
    # Images and convolution weights are laid out channels last while the
    # model trains: PyTorch's CPU convolutions then skip a layout conversion
    # on every call, which more than halves a step of the book's small
    # networks. The values computed are the same up to rounding; the model
    # is handed back in the usual layout.
    images = inputs.ndim == 4
    layout = torch.channels_last if images else torch.contiguous_format
    model.to(memory_format=layout)
    with one_thread():
        wall, cpu = time.perf_counter(), time.process_time()
        model.train()
        for _ in range(max_epochs):
            order, total = torch.randperm(n, generator=generator), 0.0
            for start in range(0, n, batch_size):
                batch = order[start:start + batch_size]
                x = inputs[batch]
                if max_shift:
                    x = data.random_shifts(x, max_shift, generator)
                if images:
                    x = x.contiguous(memory_format=layout)
                value = objective(model(x), targets[batch])
                optimiser.zero_grad()
                value.backward()
                optimiser.step()
                total += float(value.detach()) * len(batch)
            run.losses.append(total / n)
            run.epochs += 1
            if run.losses[-1] < best - tol:
                best, stale = run.losses[-1], 0
            else:
                best, stale = min(best, run.losses[-1]), stale + 1
                if stale >= patience:
                    run.converged = True
                    break
        model.eval()
        model.to(memory_format=torch.contiguous_format)
        run.wall_seconds = time.perf_counter() - wall
        run.cpu_seconds = time.process_time() - cpu
    return run


def predict(model: nn.Module, inputs: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """The class with the largest logit for each input, without gradients, on one thread."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(inputs, torch.Tensor) or not inputs.is_floating_point() or inputs.ndim < 2:
        raise ValueError(f"inputs must be a floating-point tensor of at least 2 dimensions, got {inputs!r:.80}")
    batch_size = check_int("batch_size", batch_size, low=1)
    was_training = model.training
    model.eval()
    try:
        with one_thread(), torch.no_grad():
            return torch.cat([model(part).argmax(dim=1) for part in inputs.split(batch_size)])
    finally:
        model.train(was_training)


def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of ``images`` whose largest logit is the right class, in [0, 1]."""
    check_labelled(images, labels)
    return float((predict(model, images) == labels).double().mean())


def check_labelled(images, labels) -> None:
    """Raise ``ValueError`` unless ``images`` is a float batch and ``labels`` one int64 class per image."""
    if not isinstance(images, torch.Tensor) or not images.is_floating_point() or images.ndim < 2:
        raise ValueError(f"images must be a floating-point tensor of at least 2 dimensions, got {images!r:.80}")
    if not isinstance(labels, torch.Tensor) or labels.dtype != torch.int64 or labels.ndim != 1:
        raise ValueError(f"labels must be a 1-D int64 tensor, got {labels!r:.80}")
    if len(labels) != len(images):
        raise ValueError(f"labels must have one entry per image ({len(images)}), got {len(labels)}")
    if len(labels) == 0:
        raise ValueError("images must hold at least one example, got none")


def _check_regression(inputs, targets) -> None:
    for name, value in (("inputs", inputs), ("targets", targets)):
        if not isinstance(value, torch.Tensor) or not value.is_floating_point() or value.ndim < 1:
            raise ValueError(f"{name} must be a floating-point tensor, got {value!r:.80}")
    if len(targets) != len(inputs) or len(inputs) == 0:
        raise ValueError(f"targets must have one entry per input ({len(inputs)}, at least 1), got {len(targets)}")


def _positive_number(name, value, high=None) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0 \
            or (high is not None and value > high):
        allowed = f"in (0, {high}]" if high is not None else "a positive finite number"
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return float(value)


# --------------------------------------------------------------------------- seeds and their spread


def check_seeds(seeds) -> tuple[int, ...]:
    """``seeds`` as a tuple of distinct non-negative integers; ``ValueError`` if empty or anything else."""
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence | range) or not len(seeds):
        raise ValueError(f"seeds must be a non-empty sequence of integers, got {seeds!r}")
    out = tuple(check_int("seeds", s, low=0, high=2**63 - 1) for s in seeds)
    if len(set(out)) != len(out):
        raise ValueError(f"seeds must be distinct, got {list(out)}")
    return out


@dataclass(frozen=True)
class Spread:
    """One measured quantity over several seeds.

    ``format(s, ".1%")`` gives ``"97.4% ± 0.6%"``: the mean and the standard
    deviation (over seeds, with Bessel's correction) in the same format.

    Attributes
    ----------
    mean, std, low, high : float
        Mean, sample standard deviation (0 for one value), smallest and largest.
    values : tuple of float
        The values, one per seed, in the order given.
    """

    mean: float
    std: float
    low: float
    high: float
    values: tuple

    @property
    def n(self) -> int:
        """How many values (seeds)."""
        return len(self.values)

    def __format__(self, spec: str) -> str:
        """Mean ± standard deviation, each formatted with ``spec``."""
        return f"{format(self.mean, spec)} ± {format(self.std, spec)}"


def spread(values) -> Spread:
    """Mean, standard deviation and range of ``values`` (a sequence or 1-D tensor of numbers)."""
    if isinstance(values, torch.Tensor):
        if values.ndim != 1:
            raise ValueError(f"values must be 1-D, got shape {tuple(values.shape)}")
        values = values.tolist()
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not len(values):
        raise ValueError(f"values must be a non-empty sequence of numbers, got {values!r:.80}")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
            raise ValueError(f"values must be finite numbers, got {v!r}")
    values = tuple(float(v) for v in values)
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return Spread(mean, std, min(values), max(values), values)

