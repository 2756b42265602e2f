"""Dense, locally connected and convolutional networks trained on real digits.

Used by the closing chapter "Putting it together". Everything runs on the CPU
in seconds: scikit-learn's 8 x 8 digits on a 16 x 16 canvas
(:func:`digit_split`), three small networks with two hidden layers each
(:func:`build`), a seeded training loop (:func:`train_network`), the
experiments the chapter reports (:func:`sample_efficiency`,
:func:`shifted_accuracy`), what a trained unit responds to
(:func:`receptive_fields`, :func:`hidden_maps`, :func:`top_patches`) and a
one-dimensional motif detector (:func:`motif_signals`, :func:`motif_detector`).

Nothing here seeds PyTorch's global generator: every random choice takes an
explicit ``seed``, and models are initialised inside :func:`torch.random.fork_rng`.

Every function that runs a network does so on one thread and then restores
the previous setting. These networks are far too small to gain from more
threads, and on a machine busy with other work, threads that wait for each
other made the same forward passes up to a hundred times slower.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from .._checks import check_choice, check_int, check_tensor
from . import data
from .equivariance import shift as _shift
from .local_connectivity import LocallyConnected2d

#: The three networks the chapter compares, in the order it shows them.
MODELS = ("dense", "locally connected", "convolutional")
#: Every network :func:`build` makes: the three, and the convolutional network with a
#: classifier that reads every position (a control for the shift experiment).
NETWORKS = MODELS + ("convolutional, flattened head",)
#: Classifier heads for the two local networks.
HEADS = ("max", "flatten")
#: Number of classes (digits 0-9).
CLASSES = 10
#: Images in the fixed training split; the other 500 of the 1,797 are the test set.
N_TRAIN = 1297


@contextlib.contextmanager
def _one_thread():
    """Run the enclosed code (or the decorated function) on one PyTorch thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class DigitSplit:
    """A fixed train/test split of the digits on a canvas.

    Attributes
    ----------
    train_images, test_images : torch.Tensor
        (N, 1, canvas, canvas) float32 in [0, 1].
    train_labels, test_labels : torch.Tensor
        (N,) int64 classes.
    """

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor


def digit_split(canvas: int = 16, n_train: int = N_TRAIN, seed: int = 0) -> DigitSplit:
    """scikit-learn's 1,797 digits, centred on a canvas and split at random (seeded).

    Parameters
    ----------
    canvas : int
        Side of the canvas, 8 to 64 (see :func:`widgets.compute.data.digits`).
    n_train : int
        Training images, 10 to 1,787; the rest are the test set.
    seed : int
        Seed of the permutation that decides the split.

    Returns
    -------
    DigitSplit
    """
    images, labels = data.digits(canvas)
    n_train = check_int("n_train", n_train, low=10, high=len(images) - 10)
    seed = check_int("seed", seed, low=0)
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    train, test = order[:n_train], order[n_train:]
    return DigitSplit(images[train], labels[train], images[test], labels[test])


def balanced_subset(labels: torch.Tensor, n: int, seed: int = 0) -> torch.Tensor:
    """Indices of ``n`` examples, as evenly spread over the classes as possible.

    The classes are visited in turn, each contributing its next example from a
    seeded shuffle, so the subsets for growing ``n`` are nested: the first 50
    are among the first 100.

    Parameters
    ----------
    labels : torch.Tensor
        (N,) integer labels.
    n : int
        How many, 1 to N.
    seed : int
        Seed of the shuffle within each class.

    Returns
    -------
    torch.Tensor
        (n,) int64 indices into ``labels``.
    """
    if not isinstance(labels, torch.Tensor) or labels.ndim != 1 or labels.is_floating_point():
        raise ValueError(f"labels must be a 1-D integer tensor, got {labels!r:.80}")
    n = check_int("n", n, low=1, high=len(labels))
    gen = torch.Generator().manual_seed(check_int("seed", seed, low=0))
    per_class = []
    for c in torch.unique(labels).tolist():
        members = torch.nonzero(labels == c).flatten()
        per_class.append(members[torch.randperm(len(members), generator=gen)])
    order = [int(m[i]) for i in range(max(len(m) for m in per_class)) for m in per_class if i < len(m)]
    return torch.tensor(order[:n], dtype=torch.int64)


def shift(images: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """Move every image by ``dy`` rows and ``dx`` columns, filling with zeros, without losing ink.

    The zero-filled shift of :func:`widgets.compute.equivariance.shift`, with one
    more check: a shift that would push a non-zero pixel off the canvas is refused.

    Parameters
    ----------
    images : torch.Tensor
        (N, C, H, W) batch on a blank (zero) background.
    dy, dx : int
        Rows down and columns right (negative: up, left). No non-zero pixel
        may leave the canvas.

    Returns
    -------
    torch.Tensor
        A new tensor of the same shape.
    """
    check_tensor("images", images, ndim=4)
    height, width = images.shape[2:]
    dy = check_int("dy", dy, low=-(height - 1), high=height - 1)
    dx = check_int("dx", dx, low=-(width - 1), high=width - 1)
    rows = images.abs().sum(dim=(0, 1, 3)).nonzero().flatten()
    cols = images.abs().sum(dim=(0, 1, 2)).nonzero().flatten()
    if rows.numel():
        top, bottom = int(rows[0]), int(rows[-1])
        left, right = int(cols[0]), int(cols[-1])
        if not -top <= dy <= height - 1 - bottom:
            raise ValueError(f"dy must be in [{-top}, {height - 1 - bottom}] to keep the ink on the canvas, got {dy}")
        if not -left <= dx <= width - 1 - right:
            raise ValueError(f"dx must be in [{-left}, {width - 1 - right}] to keep the ink on the canvas, got {dx}")
    return _shift(images, dy, dx, mode="zeros")


def place_randomly(images: torch.Tensor, max_shift: int, seed: int = 0) -> torch.Tensor:
    """Shift each image by its own random (dy, dx), uniform in [-max_shift, max_shift]².

    Parameters
    ----------
    images : torch.Tensor
        (N, C, H, W) batch on a blank background.
    max_shift : int
        Largest shift along each axis, at least 0; every image must be able to
        move that far in every direction (see :func:`shift`).
    seed : int
        Seed of the shifts.

    Returns
    -------
    torch.Tensor
        A new batch of the same shape.
    """
    check_tensor("images", images, ndim=4)
    max_shift = check_int("max_shift", max_shift, low=0, high=min(images.shape[2:]) - 1)
    gen = torch.Generator().manual_seed(check_int("seed", seed, low=0))
    moves = torch.randint(-max_shift, max_shift + 1, (len(images), 2), generator=gen)
    out = torch.empty_like(images)
    for dy, dx in torch.unique(moves, dim=0).tolist():
        chosen = ((moves[:, 0] == dy) & (moves[:, 1] == dx)).nonzero().flatten()
        out[chosen] = shift(images[chosen], dy, dx)
    return out


def anywhere(split: DigitSplit, max_shift: int = 4, seed: int = 0) -> DigitSplit:
    """The same split with every digit moved to a random place (:func:`place_randomly`).

    Training and test images get independent shifts (seeds ``seed`` and
    ``seed + 1``); the labels are unchanged.
    """
    if not isinstance(split, DigitSplit):
        raise ValueError(f"split must be a DigitSplit, got {type(split).__name__}")
    seed = check_int("seed", seed, low=0)
    return DigitSplit(place_randomly(split.train_images, max_shift, seed), split.train_labels,
                      place_randomly(split.test_images, max_shift, seed + 1), split.test_labels)


# --------------------------------------------------------------------------- models


def dense_network(canvas: int = 16, hidden: Sequence[int] = (128, 64)) -> nn.Sequential:
    """A fully connected network: two hidden layers of ``hidden`` units and a linear classifier.

    Parameters
    ----------
    canvas : int
        Side of the input images (1 channel), at least 1.
    hidden : (int, int)
        Units in the two hidden layers.
    """
    canvas = check_int("canvas", canvas, low=1)
    h1, h2 = _pair_of("hidden", hidden)
    return nn.Sequential(nn.Flatten(), nn.Linear(canvas * canvas, h1), nn.ReLU(),
                         nn.Linear(h1, h2), nn.ReLU(), nn.Linear(h2, CLASSES))


def local_network(shared: bool, canvas: int = 16, channels: Sequence[int] = (8, 16), kernel_size: int = 3,
                  head: str = "max") -> nn.Sequential:
    """Two local layers with 2 x 2 max pooling between them, then a linear classifier.

    Layer 1: ``kernel_size`` x ``kernel_size`` windows with padding
    ``kernel_size // 2`` (the map keeps the canvas size), ReLU, 2 x 2 max
    pooling. Layer 2: the same on the pooled map, ReLU. The two networks the
    chapter compares differ only in ``shared``: ``torch.nn.Conv2d`` layers
    (one kernel per channel, used at every position) or
    :class:`~widgets.compute.local_connectivity.LocallyConnected2d` layers (a
    kernel of its own at every position).

    Parameters
    ----------
    shared : bool
        True for the convolutional network, False for the locally connected one.
    canvas : int
        Side of the input images (1 channel): even, 4 to 64.
    channels : (int, int)
        Output channels of the two layers.
    kernel_size : int
        Odd, 1 to 7.
    head : {"max", "flatten"}
        ``"max"``: the largest value of each layer-2 channel over all positions
        (global max pooling) feeds the classifier, which then cannot tell where
        a feature was. ``"flatten"``: every layer-2 value feeds it, each with
        its own weight.
    """
    if not isinstance(shared, bool):
        raise ValueError(f"shared must be True or False, got {shared!r}")
    canvas = check_int("canvas", canvas, low=4, high=64)
    if canvas % 2:
        raise ValueError(f"canvas must be even (2 x 2 pooling halves it), got {canvas}")
    c1, c2 = _pair_of("channels", channels)
    kernel_size = check_int("kernel_size", kernel_size, low=1, high=7)
    if kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd (so padding keeps the map size), got {kernel_size}")
    check_choice("head", head, HEADS)
    pad = kernel_size // 2

    def local(cin, cout, size, bias):
        if shared:
            return nn.Conv2d(cin, cout, kernel_size, padding=pad, bias=bias)
        return LocallyConnected2d(cin, cout, size, kernel_size, padding=pad, bias=bias)

    half = canvas // 2
    layers = [local(1, c1, canvas, False), nn.ReLU(), nn.MaxPool2d(2), local(c1, c2, half, True), nn.ReLU()]
    if head == "max":
        layers += [nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(c2, CLASSES)]
    else:
        layers += [nn.Flatten(), nn.Linear(c2 * half * half, CLASSES)]
    return nn.Sequential(*layers)


def build(name: str, seed: int = 0, *, canvas: int = 16) -> nn.Sequential:
    """One of the chapter's networks, initialised from ``seed``.

    The global random state is saved and restored around the initialisation,
    so calling this has no effect on other code's random numbers.

    Parameters
    ----------
    name : str
        One of :data:`NETWORKS`: ``"dense"`` (:func:`dense_network`),
        ``"locally connected"`` and ``"convolutional"`` (:func:`local_network`
        with global max pooling), or ``"convolutional, flattened head"``
        (the same convolutional layers, every layer-2 value feeding the classifier).
    seed : int
        Seed of the initial weights.
    canvas : int
        Side of the input images.
    """
    check_choice("name", name, NETWORKS)
    seed = check_int("seed", seed, low=0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if name == "dense":
            return dense_network(canvas)
        head = "flatten" if name.endswith("flattened head") else "max"
        return local_network(name != "locally connected", canvas, head=head)


def parameter_count(model: nn.Module) -> int:
    """Number of trainable numbers in ``model``."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _pair_of(name, value) -> tuple[int, int]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise ValueError(f"{name} must be a pair of positive integers, got {value!r}")
    return check_int(name, value[0], low=1), check_int(name, value[1], low=1)


# --------------------------------------------------------------------------- training


@dataclass
class Training:
    """What one call of :func:`train_network` did.

    Attributes
    ----------
    losses : list of float
        Mini-batch cross-entropy at each step, before the update.
    wall_seconds, cpu_seconds : float
        Elapsed time and CPU time of this process (all threads) for the loop.
    """

    losses: list = field(default_factory=list)
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0


@_one_thread()
def train_network(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, *, steps: int = 150,
                  batch_size: int = 64, lr: float = 0.01, seed: int = 0) -> Training:
    """Train ``model`` in place with Adam on mini-batches and the cross-entropy loss.

    Each pass over the data visits the examples in a new order drawn from a
    ``torch.Generator`` seeded with ``seed``; a set smaller than
    ``batch_size`` is used whole at every step. With the same model, data
    and seed, two runs on the same machine and thread count give bitwise
    identical weights.

    Parameters
    ----------
    model : torch.nn.Module
        Maps (N, ...) inputs to (N, classes) logits.
    images : torch.Tensor
        Floating-point inputs, first axis the examples.
    labels : torch.Tensor
        (N,) int64 classes.
    steps : int
        Optimiser steps, 1 to 100,000.
    batch_size : int
        Examples per step, at least 1.
    lr : float
        Adam's learning rate, in (0, 1].
    seed : int
        Seed of the order in which examples are visited.

    Returns
    -------
    Training
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    _check_labelled(images, labels)
    steps = check_int("steps", steps, low=1, high=100_000)
    batch_size = check_int("batch_size", batch_size, low=1)
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr <= 1:
        raise ValueError(f"lr must be a number in (0, 1], got {lr!r}")
    gen = torch.Generator().manual_seed(check_int("seed", seed, low=0))
    n = len(images)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    record = Training()
    with _one_thread():
        wall, cpu = time.perf_counter(), time.process_time()
        model.train()
        order, start = torch.randperm(n, generator=gen), 0
        for _ in range(steps):
            if batch_size >= n:
                batch = order
            else:
                if start + batch_size > n:
                    order, start = torch.randperm(n, generator=gen), 0
                batch = order[start:start + batch_size]
                start += batch_size
            loss = nn.functional.cross_entropy(model(images[batch]), labels[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            record.losses.append(loss.item())
        model.eval()
        record.wall_seconds = time.perf_counter() - wall
        record.cpu_seconds = time.process_time() - cpu
    return record


@_one_thread()
def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of ``images`` whose largest logit is the right class."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    _check_labelled(images, labels)
    with torch.no_grad():
        return float((model(images).argmax(dim=1) == labels).float().mean())


def _check_labelled(images, labels):
    if not isinstance(images, torch.Tensor) or not images.is_floating_point() or images.ndim < 2:
        raise ValueError(f"images must be a floating-point tensor of at least 2 dimensions, got {images!r:.80}")
    if not isinstance(labels, torch.Tensor) or labels.dtype != torch.int64 or labels.ndim != 1:
        raise ValueError(f"labels must be a 1-D int64 tensor, got {labels!r:.80}")
    if len(labels) != len(images):
        raise ValueError(f"labels must have one entry per image ({len(images)}), got {len(labels)}")
    if len(labels) == 0:
        raise ValueError("images must hold at least one example, got none")


@dataclass
class Study:
    """Test accuracy and training time for several networks and training-set sizes.

    Attributes
    ----------
    sizes : tuple of int
        Training-set sizes.
    seeds : tuple of int
        One run per seed (initial weights, subset and order) at each size.
    accuracy, wall_seconds, cpu_seconds : dict of str to torch.Tensor
        Network name to a (len(sizes), len(seeds)) tensor.
    models : dict of str to torch.nn.Module
        Each network as trained on the largest size with the first seed.
    initial : dict of str to torch.nn.Module
        The same networks before that training.
    """

    sizes: tuple
    seeds: tuple
    accuracy: dict
    wall_seconds: dict
    cpu_seconds: dict
    models: dict
    initial: dict


@_one_thread()
def sample_efficiency(split: DigitSplit, sizes: Sequence[int], *, names: Sequence[str] = MODELS,
                      seeds: Sequence[int] = (0,), steps: int = 150, batch_size: int = 64,
                      lr: float = 0.01) -> Study:
    """Train each network on nested, class-balanced subsets of growing size and test it.

    Every run takes the same number of optimiser steps, whatever the size:
    the networks get the same training budget, and only the amount of data
    changes. A run with seed ``s`` initialises the network, draws the subset
    (:func:`balanced_subset`) and orders the mini-batches with ``s``. Each
    subset keeps the split's order, so the run on the whole training set is
    exactly ``train_network(build(name, s), split.train_images,
    split.train_labels, seed=s)``.

    Parameters
    ----------
    split : DigitSplit
        Training and test images (centred, or placed anywhere: the caller decides).
    sizes : sequence of int
        Training-set sizes, each 1 to the size of the training split.
    names : sequence of str
        Networks from :data:`NETWORKS`.
    seeds : sequence of int
        One run per seed at each size.
    steps, batch_size, lr : int, int, float
        Passed to :func:`train_network`.

    Returns
    -------
    Study
    """
    if not isinstance(split, DigitSplit):
        raise ValueError(f"split must be a DigitSplit, got {type(split).__name__}")
    sizes = _int_tuple("sizes", sizes, low=1, high=len(split.train_labels))
    seeds = _int_tuple("seeds", seeds, low=0)
    if isinstance(names, str) or not names:
        raise ValueError(f"names must be a non-empty sequence of names from {list(NETWORKS)}, got {names!r}")
    canvas = split.train_images.shape[-1]
    shape = (len(sizes), len(seeds))
    acc = {n: torch.zeros(shape) for n in names}
    wall = {n: torch.zeros(shape) for n in names}
    cpu = {n: torch.zeros(shape) for n in names}
    models, initial = {}, {}
    for name in names:
        check_choice("names", name, NETWORKS)
    for name in names:
        for j, seed in enumerate(seeds):
            order = balanced_subset(split.train_labels, max(sizes), seed)
            for i, size in enumerate(sizes):
                model = build(name, seed, canvas=canvas)
                keep = i == sizes.index(max(sizes)) and j == 0
                if keep:
                    initial[name] = build(name, seed, canvas=canvas)
                chosen = order[:size].sort().values  # the same set, in the split's own order
                run = train_network(model, split.train_images[chosen], split.train_labels[chosen],
                                    steps=steps, batch_size=batch_size, lr=lr, seed=seed)
                acc[name][i, j] = accuracy(model, split.test_images, split.test_labels)
                wall[name][i, j], cpu[name][i, j] = run.wall_seconds, run.cpu_seconds
                if keep:
                    models[name] = model
    return Study(sizes, seeds, acc, wall, cpu, models, initial)


def _int_tuple(name, values, *, low=None, high=None) -> tuple[int, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence | range) or not len(values):
        raise ValueError(f"{name} must be a non-empty sequence of integers, got {values!r}")
    out = tuple(check_int(name, v, low=low, high=high) for v in values)
    if len(set(out)) != len(out):
        raise ValueError(f"{name} must be distinct, got {list(out)}")
    return out


#: The four directions :func:`shifted_accuracy` moves the test images in, as (dy, dx) signs.
DIRECTIONS = ((-1, 0), (1, 0), (0, -1), (0, 1))


@_one_thread()
def shifted_accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor,
                     shifts: Sequence[int]) -> list[float]:
    """Accuracy on the test images moved by each distance, averaged over up, down, left and right.

    Parameters
    ----------
    model : torch.nn.Module
        A trained classifier.
    images, labels : torch.Tensor
        (N, 1, H, W) test images on a blank background and their (N,) labels.
    shifts : sequence of int
        Distances in pixels, each at least 0 and small enough to keep every
        digit on the canvas.

    Returns
    -------
    list of float
        One accuracy per distance (at distance 0, the plain test accuracy).
    """
    _check_labelled(images, labels)
    shifts = _int_tuple("shifts", shifts, low=0)
    out = []
    for s in shifts:
        moved = [shift(images, s * sy, s * sx) for sy, sx in (DIRECTIONS if s else ((0, 0),))]
        out.append(sum(accuracy(model, m, labels) for m in moved) / len(moved))
    return out


# --------------------------------------------------------------------------- what the layers learn


def first_layer_kernels(model: nn.Module) -> torch.Tensor:
    """The first convolution's kernels, (out_channels, kH, kW), of its first input channel (a copy)."""
    return _first_conv(model).weight.detach()[:, 0].clone()


@_one_thread()
def first_layer_gradient(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Gradient of the mean cross-entropy on one batch with respect to the first kernels.

    One forward and one backward pass; the model's own ``.grad`` fields are
    left untouched.

    Returns
    -------
    torch.Tensor
        Same shape as the first convolution's weight, (out_channels, in_channels, kH, kW).
    """
    conv = _first_conv(model)
    _check_labelled(images, labels)
    loss = nn.functional.cross_entropy(model(images), labels)
    (grad,) = torch.autograd.grad(loss, conv.weight)
    return grad.detach()


def _first_conv(model):
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            return module
    raise ValueError("model must contain a torch.nn.Conv2d, found none")


_LOCAL = (nn.Conv2d, LocallyConnected2d)
_POOL = (nn.MaxPool2d, nn.AvgPool2d)


@dataclass(frozen=True)
class Field:
    """Where a unit of a hidden layer looks in the input.

    The unit at (row, col) of the layer's map sees the input square whose
    top-left pixel is ``(row * jump + start, col * jump + start)`` and whose
    side is ``size``. A negative ``start`` means the square hangs over the
    top or left edge (into the padding).
    """

    size: int
    jump: int
    start: int


def receptive_fields(model: nn.Sequential) -> list[Field]:
    """The receptive field of each hidden layer (each convolution or locally connected layer).

    Worked out from the layers' geometry, one rule per layer: a window of
    ``k`` with stride ``s`` and padding ``p`` adds ``(k - 1) * jump`` to the
    size, multiplies the jump by ``s`` and moves the start by ``-p * jump``.

    Parameters
    ----------
    model : torch.nn.Sequential
        Square kernels, strides and padding; no dilation.

    Returns
    -------
    list of Field
        One per ``Conv2d`` or ``LocallyConnected2d`` layer, in order.
    """
    if not isinstance(model, nn.Sequential):
        raise ValueError(f"model must be a torch.nn.Sequential, got {type(model).__name__}")
    size, jump, start, fields = 1, 1, 0, []
    for module in model:
        if isinstance(module, _LOCAL + _POOL):
            k, s, p = (_one(module, a) for a in ("kernel_size", "stride", "padding"))
            if getattr(module, "dilation", 1) not in (1, (1, 1)):
                raise ValueError(f"model must have no dilation, got {module}")
            size, start, jump = size + (k - 1) * jump, start - p * jump, jump * s
            if isinstance(module, _LOCAL):
                fields.append(Field(size, jump, start))
    return fields


def _one(module, attr) -> int:
    value = getattr(module, attr)
    if isinstance(value, tuple):
        if len(set(value)) != 1:
            raise ValueError(f"model must have square {attr}, got {value} in {module}")
        value = value[0]
    return int(value)


@_one_thread()
def hidden_maps(model: nn.Sequential, images: torch.Tensor) -> list[torch.Tensor]:
    """The feature maps of each hidden layer (after its ReLU) for a batch of images.

    Returns
    -------
    list of torch.Tensor
        One (N, channels, h, w) tensor per ``Conv2d`` or ``LocallyConnected2d``
        layer, taken after the ReLU that follows it.
    """
    if not isinstance(model, nn.Sequential):
        raise ValueError(f"model must be a torch.nn.Sequential, got {type(model).__name__}")
    check_tensor("images", images, ndim=4)
    maps, pending, x = [], False, images
    with torch.no_grad():
        for module in model:
            x = module(x)
            if isinstance(module, _LOCAL):
                pending = True
            elif pending and isinstance(module, nn.ReLU):
                maps.append(x)
                pending = False
    return maps


@dataclass(frozen=True)
class TopPatches:
    """The input patches that excite one channel most, one per image.

    Attributes
    ----------
    patches : torch.Tensor
        (k, size, size): each image's patch under its most active unit, zero
        where the field hangs over the canvas edge.
    values : torch.Tensor
        (k,) the activations, largest first.
    images, rows, cols : torch.Tensor
        (k,) which image, and the unit's position in the feature map.
    """

    patches: torch.Tensor
    values: torch.Tensor
    images: torch.Tensor
    rows: torch.Tensor
    cols: torch.Tensor


def top_patches(images: torch.Tensor, maps: torch.Tensor, field: Field, channel: int, k: int = 8) -> TopPatches:
    """The ``k`` images whose strongest unit in ``channel`` is strongest, and the patch it sees.

    Each image contributes at most one patch (its most active position), so
    the patches show ``k`` different examples rather than one stroke seen
    from neighbouring units, as in Zeiler and Fergus's visualisations.

    Parameters
    ----------
    images : torch.Tensor
        (N, 1, H, W) inputs.
    maps : torch.Tensor
        (N, channels, h, w) one hidden layer's maps for those inputs
        (:func:`hidden_maps`).
    field : Field
        That layer's receptive field (:func:`receptive_fields`).
    channel : int
        Which channel.
    k : int
        How many patches, 1 to N.

    Returns
    -------
    TopPatches
    """
    check_tensor("images", images, ndim=4)
    check_tensor("maps", maps, ndim=4)
    if len(maps) != len(images):
        raise ValueError(f"maps must have one entry per image ({len(images)}), got {len(maps)}")
    if not isinstance(field, Field):
        raise ValueError(f"field must be a Field, got {type(field).__name__}")
    channel = check_int("channel", channel, low=0, high=maps.shape[1] - 1)
    k = check_int("k", k, low=1, high=len(images))
    flat = maps[:, channel].flatten(1)
    best, where = flat.max(dim=1)
    values, chosen = best.topk(k)
    rows, cols = where[chosen] // maps.shape[3], where[chosen] % maps.shape[3]
    pad = field.size
    padded = nn.functional.pad(images[:, 0], (pad, pad, pad, pad))
    patches = torch.stack([
        padded[i, pad + r * field.jump + field.start:pad + r * field.jump + field.start + field.size,
               pad + c * field.jump + field.start:pad + c * field.jump + field.start + field.size]
        for i, r, c in zip(chosen.tolist(), rows.tolist(), cols.tolist())])
    return TopPatches(patches, values, chosen, rows, cols)


def kernel_view(model: nn.Sequential, layer: int, channel: int) -> torch.Tensor:
    """One channel's kernel as a (kH, kW) picture: the only input channel for layer 1,
    the sum over input channels for later layers.

    For a layer-2 kernel the sum is a rough summary: it shows where the kernel
    weights its inputs positively or negatively overall, not which input
    channel it reads.
    """
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError("model must contain a torch.nn.Conv2d, found none")
    layer = check_int("layer", layer, low=1, high=len(convs))
    weight = convs[layer - 1].weight.detach()
    channel = check_int("channel", channel, low=0, high=weight.shape[0] - 1)
    return weight[channel].sum(dim=0)


# --------------------------------------------------------------------------- one dimension


def motif(length: int = 7) -> torch.Tensor:
    """A short, lopsided pattern for the 1-D example: a slow rise, then a sharp fall.

    Its time reversal (a sharp rise, then a slow fall) is a different
    pattern with the same values, which :func:`motif_signals` uses as a decoy.
    """
    length = check_int("length", length, low=3, high=32)
    t = torch.linspace(0.0, 1.0, length)
    shape = torch.where(t < 0.7, t / 0.7, (1.0 - t) / 0.3 * 2.0 - 1.0)
    return shape - shape.mean()


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
    n = check_int("n", n, low=2)
    pattern = motif() if pattern is None else check_tensor("pattern", pattern, ndim=1)
    length = check_int("length", length, low=2 * len(pattern))
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not 0 <= noise <= 2:
        raise ValueError(f"noise must be a number in [0, 2], got {noise!r}")
    gen = torch.Generator().manual_seed(check_int("seed", seed, low=0))
    labels = torch.randperm(n, generator=gen) % 2
    positions = torch.randint(0, length - len(pattern) + 1, (n,), generator=gen)
    signals = noise * torch.randn(n, 1, length, generator=gen)
    for i, (label, pos) in enumerate(zip(labels.tolist(), positions.tolist())):
        signals[i, 0, pos:pos + len(pattern)] += pattern if label else pattern.flip(0)
    return signals, labels, positions


def motif_detector(kernel_size: int = 7, seed: int = 0) -> nn.Sequential:
    """A one-layer 1-D convolutional classifier: two kernels, then the maximum over time.

    ``Conv1d(1, 2, kernel_size)`` slides two kernels along the signal; the
    largest response of each, wherever it occurs, is the logit of its class
    (0: decoy, 1: motif).
    """
    kernel_size = check_int("kernel_size", kernel_size, low=1, high=32)
    seed = check_int("seed", seed, low=0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Sequential(nn.Conv1d(1, 2, kernel_size), nn.AdaptiveMaxPool1d(1), nn.Flatten())


@_one_thread()
def motif_responses(detector: nn.Sequential, signal: torch.Tensor) -> torch.Tensor:
    """The detector's two response curves along one signal, (2, length - kernel_size + 1)."""
    if not isinstance(detector, nn.Sequential) or not isinstance(detector[0], nn.Conv1d):
        raise ValueError(f"detector must be a Sequential starting with a Conv1d, got {detector!r:.80}")
    check_tensor("signal", signal, ndim=1)
    with torch.no_grad():
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
    length = check_int("length", length, low=len(pattern))
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not 0 <= noise <= 2:
        raise ValueError(f"noise must be a number in [0, 2], got {noise!r}")
    gen = torch.Generator().manual_seed(check_int("seed", seed, low=0))
    signal = noise * torch.randn(length, generator=gen)
    for name, starts, copy in (("motif_at", motif_at, pattern), ("decoy_at", decoy_at, pattern.flip(0))):
        if isinstance(starts, (str, bytes)) or not isinstance(starts, Sequence | range):
            raise ValueError(f"{name} must be a sequence of start positions, got {starts!r}")
        for start in starts:
            start = check_int(name, start, low=0, high=length - len(pattern))
            signal[start:start + len(pattern)] += copy
    return signal
