"""What the layers of a trained convolutional network respond to.

Used by the chapter "What the layers learn". The experiment is one where a
hierarchy has room to appear: scikit-learn's digits enlarged to 16 x 16 on a
32 x 32 canvas (:func:`widgets.compute.data.digit_split` with ``scale=2``),
and a network of three convolutional layers with pooling between them
(:func:`hierarchy_network`), trained with the book's one loop
(:func:`widgets.compute.training.train`) and its one rule
(:data:`widgets.compute.trained_networks.RULE`).

What a channel responds to is shown the way Zeiler and Fergus did: the input
patches under its most active units (:func:`hidden_maps`,
:func:`top_patches`), each as large as the unit's receptive field, which comes
from the book's one calculator
(:func:`widgets.compute.receptive_fields.receptive_field` applied to
:func:`widgets.compute.receptive_fields.layers_of`). A few numbers summarise
what the patches show, so that the chapter's sentences about them can be
checked over seeds: :func:`dead_channels`, :func:`edge_contrast`,
:func:`edge_orientation`, :func:`ink_share` and :func:`class_purity`.
Every one of them is also measured on the same network at initialisation
(:func:`study`), the control that tells what training added, and
:func:`chance_purity` gives what :func:`class_purity` would be for random
digits.

Nothing here seeds PyTorch's global generator: models are initialised inside
:func:`torch.random.fork_rng` from an explicit ``seed``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from copy import deepcopy
from dataclasses import dataclass

import torch
from torch import nn

from .._checks import check_choice, check_int, check_tensor
from . import data, training
from . import receptive_fields as rf
from .trained_networks import RULE
from .training import one_thread

#: Output channels of the three convolutional layers of :func:`hierarchy_network`.
CHANNELS = (8, 16, 32)
#: Their kernel sizes: layer 1 sees 5 x 5 pixels, enough to hold a stroke's edge and some background.
KERNEL_SIZES = (5, 3, 3)
#: Number of classes (digits 0-9).
CLASSES = 10
#: The four orientations :func:`edge_orientation` reports, by the direction of the edge itself.
ORIENTATIONS = ("horizontal", "diagonal /", "vertical", "diagonal \\")


def _triple(name, value) -> tuple[int, int, int]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 3:
        raise ValueError(f"{name} must be three positive integers, got {value!r}")
    return tuple(check_int(name, v, low=1, high=256) for v in value)


def hierarchy_network(seed: int = 0, *, channels: Sequence[int] = CHANNELS,
                      kernel_sizes: Sequence[int] = KERNEL_SIZES) -> nn.Sequential:
    """Three convolutional layers with 2 x 2 max pooling between them, then a linear classifier.

    Each convolution pads by ``kernel_size // 2`` (the map keeps its size)
    and is followed by a ReLU; layers 1 and 2 are followed by 2 x 2 max
    pooling with stride 2. The classifier reads the largest value of each
    layer-3 channel over all positions (global max pooling). Layer 1 has no
    bias, so on the blank background it outputs exactly zero, the value of
    the zero padding around the canvas.

    Parameters
    ----------
    seed : int
        Seed of the initial weights; the global random state is left as it was.
    channels : (int, int, int)
        Output channels of the three layers, each 1 to 256.
    kernel_sizes : (int, int, int)
        Odd kernel sizes of the three layers.

    Returns
    -------
    torch.nn.Sequential
    """
    seed = check_int("seed", seed, low=0, high=2**63 - 1)
    c1, c2, c3 = _triple("channels", channels)
    sizes = _triple("kernel_sizes", kernel_sizes)
    for k in sizes:
        if k % 2 == 0 or k > 15:
            raise ValueError(f"kernel_sizes must be odd and at most 15 (padding keeps the map size), "
                             f"got {list(sizes)}")
    k1, k2, k3 = sizes
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Sequential(
            nn.Conv2d(1, c1, k1, padding=k1 // 2, bias=False), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, k2, padding=k2 // 2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c2, c3, k3, padding=k3 // 2), nn.ReLU(),
            nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(c3, CLASSES))


def _check_sequential(model) -> nn.Sequential:
    if not isinstance(model, nn.Sequential):
        raise ValueError(f"model must be a torch.nn.Sequential, got {type(model).__name__}")
    return model


def _conv_indices(model) -> list[int]:
    return [i for i, m in enumerate(_check_sequential(model)) if isinstance(m, nn.Conv2d)]


def fields(model: nn.Sequential) -> list[rf.Field]:
    """The receptive field of each convolutional layer's units, input side first.

    The book's one calculator applied to the network's own modules: for the
    convolution at position ``i``, ``receptive_field(layers_of(model[:i + 1]))``.

    Returns
    -------
    list of widgets.compute.receptive_fields.Field
        One per ``Conv2d`` at the top level of ``model``.
    """
    convs = _conv_indices(model)
    if not convs:
        raise ValueError(f"model must hold at least one Conv2d at its top level, got {model!r:.80}")
    return [rf.receptive_field(rf.layers_of(model[:i + 1])) for i in convs]


def hidden_maps(model: nn.Sequential, images: torch.Tensor) -> list[torch.Tensor]:
    """The feature maps of each convolutional layer, after its ReLU, for a batch of images.

    Parameters
    ----------
    model : torch.nn.Sequential
        A network whose top-level modules include ``Conv2d`` layers, each
        followed (possibly after other element-wise modules) by a ``ReLU``.
    images : torch.Tensor
        (N, C, H, W) inputs.

    Returns
    -------
    list of torch.Tensor
        One (N, channels, h, w) tensor per ``Conv2d``, in order.
    """
    _check_sequential(model)
    check_tensor("images", images, ndim=4)
    maps, pending, x = [], False, images
    with one_thread(), torch.no_grad():
        for module in model:
            x = module(x)
            if isinstance(module, nn.Conv2d):
                pending = True
            elif pending and isinstance(module, nn.ReLU):
                maps.append(x)
                pending = False
    return maps


def first_layer_kernels(model: nn.Sequential) -> torch.Tensor:
    """The first convolution's kernels on its first input channel, (out_channels, kH, kW), a copy."""
    indices = _conv_indices(model)
    if not indices:
        raise ValueError("model must contain a torch.nn.Conv2d, found none")
    return model[indices[0]].weight.detach()[:, 0].clone()


def dead_channels(maps: torch.Tensor) -> torch.Tensor:
    """Which channels are zero at every position of every image (after the ReLU).

    Such a channel never responds to anything in the data, so it has no
    strongest patch: every unit ties at zero.

    Parameters
    ----------
    maps : torch.Tensor
        (N, channels, h, w) one layer's maps (:func:`hidden_maps`).

    Returns
    -------
    torch.Tensor
        (channels,) bool.
    """
    check_tensor("maps", maps, ndim=4)
    return maps.amax(dim=(0, 2, 3)) <= 0


def solid_ink_response(model: nn.Sequential, maps: torch.Tensor) -> torch.Tensor:
    """Each layer-1 channel's response to a patch of solid ink, as a fraction of its strongest response.

    A patch of solid ink (every pixel 1) gives the sum of the kernel's
    weights, through the ReLU. A channel that detects where ink meets
    background responds to it far less than to its best patch; a channel
    that detects ink as such responds to it about as strongly as to anything.

    Parameters
    ----------
    model : torch.nn.Sequential
        A network whose first ``Conv2d`` reads one channel and has no bias.
    maps : torch.Tensor
        (N, channels, h, w) that layer's maps on some images (:func:`hidden_maps`).

    Returns
    -------
    torch.Tensor
        (channels,) ratios, at least 0; NaN for a dead channel (:func:`dead_channels`).
    """
    kernels = first_layer_kernels(model)
    conv = model[_conv_indices(model)[0]]
    if conv.bias is not None:
        raise ValueError("model must have no bias in its first convolution (the ratio assumes a zero background)")
    check_tensor("maps", maps, ndim=4)
    if maps.shape[1] != len(kernels):
        raise ValueError(f"maps must have one channel per layer-1 kernel ({len(kernels)}), got {maps.shape[1]}")
    strongest = maps.amax(dim=(0, 2, 3))
    solid = kernels.sum(dim=(1, 2)).clamp(min=0)
    return torch.where(strongest > 0, solid / strongest.clamp(min=1e-12), torch.full_like(solid, math.nan))


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


def top_patches(images: torch.Tensor, maps: torch.Tensor, field: rf.Field, channel: int,
                k: int = 8) -> TopPatches:
    """The ``k`` images whose strongest unit in ``channel`` is strongest, and the patch that unit sees.

    Each image contributes at most one patch, at its most active position, so
    the patches show ``k`` different examples rather than one stroke seen by
    neighbouring units. Ties (a channel that is zero everywhere) are broken by
    image order, so a dead channel's patches are arbitrary: check
    :func:`dead_channels` first.

    Parameters
    ----------
    images : torch.Tensor
        (N, 1, H, W) inputs.
    maps : torch.Tensor
        (N, channels, h, w) one layer's maps for those inputs (:func:`hidden_maps`).
    field : widgets.compute.receptive_fields.Field
        That layer's receptive field (:func:`fields`).
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
    if images.shape[1] != 1:
        raise ValueError(f"images must have one channel, got shape {tuple(images.shape)}")
    if len(maps) != len(images):
        raise ValueError(f"maps must have one entry per image ({len(images)}), got {len(maps)}")
    if not isinstance(field, rf.Field):
        raise ValueError(f"field must be a receptive_fields.Field, got {type(field).__name__}")
    channel = check_int("channel", channel, low=0, high=maps.shape[1] - 1)
    k = check_int("k", k, low=1, high=len(images))
    best, where = maps[:, channel].flatten(1).max(dim=1)
    # A stable descending sort: equal activations keep image order.
    order = torch.sort(best, descending=True, stable=True).indices[:k]
    values = best[order]
    rows, cols = where[order] // maps.shape[3], where[order] % maps.shape[3]
    size, pad = field.size, field.size
    padded = nn.functional.pad(images[order, 0], (pad, pad, pad, pad))
    tops = (rows * field.jump + field.offset + pad).tolist()
    lefts = (cols * field.jump + field.offset + pad).tolist()
    patches = torch.stack([padded[j, t:t + size, left:left + size]
                           for j, (t, left) in enumerate(zip(tops, lefts))])
    return TopPatches(patches, values, order, rows, cols)


def blank(top: TopPatches) -> bool:
    """Whether every one of a channel's strongest patches is empty background (no ink at all).

    A unit with a positive bias responds even where it sees nothing; a
    channel whose strongest units are such units responds most to the blank
    canvas, and its patches are plain background.
    """
    if not isinstance(top, TopPatches):
        raise ValueError(f"top must be a TopPatches, got {type(top).__name__}")
    return bool((top.patches.abs().sum(dim=(1, 2)) == 0).all())


def class_purity(top: TopPatches, labels: torch.Tensor) -> float:
    """The share of a channel's top images that belong to their most common class, in [0.1, 1].

    1 means every strongest patch comes from one digit class: the channel
    behaves as a detector of that class.
    """
    if not isinstance(top, TopPatches):
        raise ValueError(f"top must be a TopPatches, got {type(top).__name__}")
    if not isinstance(labels, torch.Tensor) or labels.ndim != 1 or labels.is_floating_point():
        raise ValueError(f"labels must be a 1-D integer tensor, got {labels!r:.80}")
    if int(top.images.max()) >= len(labels):
        raise ValueError(f"labels must cover every image of top (index {int(top.images.max())}), "
                         f"got {len(labels)} labels")
    chosen = labels[top.images]
    return float(torch.bincount(chosen).max()) / len(chosen)


def ink_share(images: torch.Tensor, top: TopPatches) -> float:
    """How much of each top image's ink lies inside its patch, averaged over the patches, in [0, 1].

    Near 1, the units see whole digits; well below 1, parts of them.
    """
    check_tensor("images", images, ndim=4)
    if not isinstance(top, TopPatches):
        raise ValueError(f"top must be a TopPatches, got {type(top).__name__}")
    total = images[top.images].sum(dim=(1, 2, 3))
    if bool((total <= 0).any()):
        raise ValueError("images must each hold some ink (a positive pixel), got a blank image among the top")
    return float((top.patches.sum(dim=(1, 2)) / total).clamp(max=1.0).mean())


def mean_patch(top: TopPatches) -> torch.Tensor:
    """The average of a channel's top patches, (size, size): what they have in common."""
    if not isinstance(top, TopPatches):
        raise ValueError(f"top must be a TopPatches, got {type(top).__name__}")
    return top.patches.mean(dim=0)


def edge_contrast(patch: torch.Tensor) -> float:
    """How far the two sides of a patch differ, in [0, 1] for patches in [0, 1].

    The patch is split by the straight line through its centre that best
    separates bright from dark (tried at the four orientations of
    :data:`ORIENTATIONS`), and the result is the difference between the means
    of its brighter and its darker side. An edge between ink and background
    gives nearly 1; a patch of solid ink, or of background, gives 0.
    """
    return _best_split(patch)[0]


def edge_orientation(patch: torch.Tensor) -> str:
    """The orientation of the line that best splits a patch into a bright and a dark side.

    One of :data:`ORIENTATIONS` (the direction of the edge itself: a
    ``"horizontal"`` edge has ink above and background below, or the reverse).
    """
    return ORIENTATIONS[_best_split(patch)[1]]


def _best_split(patch) -> tuple[float, int]:
    check_tensor("patch", patch, ndim=2)
    h, w = patch.shape
    if h != w or h < 2:
        raise ValueError(f"patch must be square and at least 2 x 2, got shape {tuple(patch.shape)}")
    y, x = torch.meshgrid(torch.arange(h) - (h - 1) / 2, torch.arange(w) - (w - 1) / 2, indexing="ij")
    # Which side of a line through the centre each pixel lies on, for the four orientations.
    sides = (y, x + y, x, x - y)  # horizontal, bottom-left to top-right, vertical, top-left to bottom-right
    best, which = 0.0, 0
    for i, side in enumerate(sides):
        contrast = abs(float(patch[side < 0].mean()) - float(patch[side > 0].mean()))
        if contrast > best + 1e-9:
            best, which = contrast, i
    return best, which


# --------------------------------------------------------------------------- over seeds


@dataclass(frozen=True)
class LayerSummary:
    """What the strongest patches of one trained network's channels have in common, layer by layer.

    Every list has one entry per convolutional layer. Averages are over the
    layer's channels that are neither dead (:func:`dead_channels`) nor blank
    (:func:`blank`); "live" below means the same.

    Attributes
    ----------
    dead : list of int
        Channels that are zero on every image.
    blank : list of int
        Live channels whose strongest patches are all empty background (:func:`blank`).
    ink_share : list of float
        Mean :func:`ink_share` of a channel's top patches.
    class_purity : list of float
        Mean :func:`class_purity` of a channel's top images.
    edge_contrast : list of float
        Mean :func:`edge_contrast` of the average of a channel's top patches.
    edges : int
        Live layer-1 channels whose average top patch has an edge contrast of
        at least ``edge_threshold`` (:func:`summarise`).
    orientations : tuple of str
        The distinct :func:`edge_orientation` of those channels, in :data:`ORIENTATIONS` order.
    live_first : int
        Live layer-1 channels.
    solid_ink : list of float
        :func:`solid_ink_response` of each live layer-1 channel.
    patch_correlation : list of float
        Mean :func:`patch_correlation` of a channel's top patches.
    majority : list of tuple of int
        The most common class among each live channel's top images.
    """

    dead: list
    blank: list
    ink_share: list
    class_purity: list
    edge_contrast: list
    edges: int
    orientations: tuple
    live_first: int
    solid_ink: list
    patch_correlation: list
    majority: list


def patch_correlation(top: TopPatches) -> float:
    """How alike a channel's top patches are: the mean correlation over all pairs of them, in [-1, 1].

    Each patch is centred on its own mean brightness; a constant patch
    correlates 0 with every other. 1 means every patch is the same shape of
    ink; near 0, the patches have no shape in common.
    """
    if not isinstance(top, TopPatches):
        raise ValueError(f"top must be a TopPatches, got {type(top).__name__}")
    n = len(top.patches)
    if n < 2:
        raise ValueError(f"top must hold at least 2 patches to correlate, got {n}")
    p = top.patches.flatten(1).double()
    p = p - p.mean(dim=1, keepdim=True)
    p = p / p.norm(dim=1, keepdim=True).clamp(min=1e-12)
    return float(((p @ p.T).sum() - (p * p).sum()) / (n * (n - 1)))


def summarise(model: nn.Sequential, images: torch.Tensor, labels: torch.Tensor, *, k: int = 8,
              edge_threshold: float = 0.5) -> LayerSummary:
    """Measure what each layer's channels respond to, from their ``k`` strongest patches over ``images``.

    Parameters
    ----------
    model : torch.nn.Sequential
        A trained network (:func:`hierarchy_network`).
    images, labels : torch.Tensor
        (N, 1, H, W) digits with some ink each, and their (N,) classes.
    k : int
        Patches per channel, 1 to N.
    edge_threshold : float
        Contrast, in (0, 1], from which a layer-1 channel counts as an edge detector.

    Returns
    -------
    LayerSummary
    """
    check_tensor("images", images, ndim=4)
    if not isinstance(labels, torch.Tensor) or labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(f"labels must be a 1-D tensor with one entry per image ({len(images)}), got {labels!r:.80}")
    if isinstance(edge_threshold, bool) or not isinstance(edge_threshold, (int, float)) \
            or not 0 < edge_threshold <= 1:
        raise ValueError(f"edge_threshold must be a number in (0, 1], got {edge_threshold!r}")
    k = check_int("k", k, low=1, high=len(images))
    maps, layer_fields = hidden_maps(model, images), fields(model)
    dead, empty, ink, purity, contrast, alike, majority = [], [], [], [], [], [], []
    edges, orientations, live_first = 0, set(), 0
    for layer, (fmap, field) in enumerate(zip(maps, layer_fields)):
        is_dead = dead_channels(fmap)
        tops = [top_patches(images, fmap, field, c, k) for c in range(fmap.shape[1]) if not is_dead[c]]
        dead.append(int(is_dead.sum()))
        live = [not blank(t) for t in tops]
        empty.append(len(tops) - sum(live))
        tops = [t for t, keep in zip(tops, live) if keep]
        if not tops:
            raise ValueError(f"model must have a live channel in every layer, layer {layer + 1} has none")
        ink.append(sum(ink_share(images, t) for t in tops) / len(tops))
        purity.append(sum(class_purity(t, labels) for t in tops) / len(tops))
        alike.append(sum(patch_correlation(t) for t in tops) / len(tops) if k > 1 else 0.0)
        majority.append(tuple(int(torch.bincount(labels[t.images]).argmax()) for t in tops))
        contrasts = [edge_contrast(mean_patch(t)) for t in tops]
        contrast.append(sum(contrasts) / len(tops))
        if layer == 0:
            live_first = len(tops)
            first_tops = [None if is_dead[c] else top_patches(images, fmap, field, c, k) for c in range(fmap.shape[1])]
            first_tops = [None if t is None or blank(t) else t for t in first_tops]
            for t, value in zip(tops, contrasts):
                if value >= edge_threshold:
                    edges += 1
                    orientations.add(edge_orientation(mean_patch(t)))
    ordered = tuple(o for o in ORIENTATIONS if o in orientations)
    solid = [float(v) for v, t in zip(solid_ink_response(model, maps[0]), first_tops) if t is not None]
    return LayerSummary(dead, empty, ink, purity, contrast, edges, ordered, live_first, solid, alike, majority)


@dataclass(frozen=True)
class Study:
    """The hierarchy network trained from several seeds, what its layers respond to, and the same before training.

    Attributes
    ----------
    seeds : tuple of int
    train_accuracy, test_accuracy, cpu_seconds : list of float
        One per seed.
    epochs : list of int
        Epochs each run took.
    converged : list of bool
        Whether each run stopped by the stopping rule.
    summaries : list of LayerSummary
        One per seed, measured on the test digits.
    models : list of torch.nn.Sequential
        The trained networks, one per seed.
    untrained : list of LayerSummary
        The control: the same measurements on each seed's network at
        initialisation, before any training (same architecture, same seed).
    initial_models : list of torch.nn.Sequential
        Those untrained networks (copies taken before training).
    """

    seeds: tuple
    train_accuracy: list
    test_accuracy: list
    cpu_seconds: list
    epochs: list
    converged: list
    summaries: list
    models: list
    untrained: list = dataclasses.field(default_factory=list)
    initial_models: list = dataclasses.field(default_factory=list)

    def per_layer(self, measure: str, *, untrained: bool = False) -> torch.Tensor:
        """A :class:`LayerSummary` list attribute as a (layers, seeds) tensor; ``untrained`` for the control."""
        if measure not in PER_LAYER:
            raise ValueError(f"measure must be one of {', '.join(PER_LAYER)}, got {measure!r}")
        if not isinstance(untrained, bool):
            raise ValueError(f"untrained must be True or False, got {untrained!r}")
        summaries = self.untrained if untrained else self.summaries
        return torch.tensor([getattr(s, measure) for s in summaries], dtype=torch.float64).T

    def per_seed(self, measure: str, *, untrained: bool = False) -> list:
        """A :class:`LayerSummary` count of layer 1 (``"edges"``, ``"live_first"``), one per seed."""
        if measure not in ("edges", "live_first"):
            raise ValueError(f"measure must be one of edges, live_first, got {measure!r}")
        if not isinstance(untrained, bool):
            raise ValueError(f"untrained must be True or False, got {untrained!r}")
        return [getattr(s, measure) for s in (self.untrained if untrained else self.summaries)]


#: The measures :meth:`Study.per_layer` returns, one value per layer.
PER_LAYER = ("dead", "blank", "ink_share", "class_purity", "edge_contrast", "patch_correlation")


def chance_purity(labels: torch.Tensor, k: int = 8, *, draws: int = 10_000, seed: int = 0) -> float:
    """The :func:`class_purity` of ``k`` images drawn at random: what a channel that ignores class would get.

    The mean, over ``draws`` draws of ``k`` distinct images (without
    replacement, from a generator seeded with ``seed``), of the share of the
    draw that belongs to its most common class.

    Parameters
    ----------
    labels : torch.Tensor
        (N,) integer classes of the images a channel's patches come from.
    k : int
        Images per draw, 1 to N (a channel's number of strongest patches).
    draws : int
        Number of draws, 1 to 1,000,000.
    seed : int
        Seed of the draws.
    """
    if not isinstance(labels, torch.Tensor) or labels.ndim != 1 or labels.is_floating_point() or not len(labels):
        raise ValueError(f"labels must be a non-empty 1-D integer tensor, got {labels!r:.80}")
    k = check_int("k", k, low=1, high=len(labels))
    draws = check_int("draws", draws, low=1, high=1_000_000)
    gen = torch.Generator().manual_seed(check_int("seed", seed, low=0, high=2**63 - 1))
    classes = int(labels.max()) + 1
    total, rows = 0.0, max(1, 4_000_000 // len(labels))  # draws at a time: at most 16 MB of random keys
    for start in range(0, draws, rows):
        m = min(rows, draws - start)
        chosen = labels[torch.rand(m, len(labels), generator=gen).argsort(dim=1)[:, :k]]
        counts = torch.zeros(m, classes).scatter_add_(1, chosen, torch.ones(m, k))
        total += float(counts.max(dim=1).values.sum())
    return total / draws / k


def study(split, seeds: Sequence[int], *, k: int = 8, channels: Sequence[int] = CHANNELS,
          kernel_sizes: Sequence[int] = KERNEL_SIZES, **rule) -> Study:
    """Train :func:`hierarchy_network` once per seed on ``split``; summarise each before and after training.

    Training is :func:`widgets.compute.training.train` with the book's
    training rule, :data:`widgets.compute.trained_networks.RULE` (learning
    rate, batch size, stopping rule), unless ``rule`` overrides part of it;
    the seed sets both the initial weights and the order of the mini-batches.
    Each network is summarised (:func:`summarise`) on the test digits at
    initialisation, the untrained control, and again after training.

    Parameters
    ----------
    split : widgets.compute.data.DigitSplit
    seeds : sequence of int
        Distinct, non-negative.
    k : int
        Patches per channel for the summaries.
    channels, kernel_sizes
        For :func:`hierarchy_network`.
    **rule
        Overrides of :data:`~widgets.compute.trained_networks.RULE` (``tol``,
        ``patience``, ``max_epochs``, ``batch_size``, ``lr``).

    Returns
    -------
    Study
    """
    if not isinstance(split, data.DigitSplit):
        raise ValueError(f"split must be a data.DigitSplit, got {type(split).__name__}")
    seeds = training.check_seeds(seeds)
    k = check_int("k", k, low=1, high=len(split.test_labels))
    for key in rule:
        check_choice("rule", key, tuple(RULE))
    rule = {**RULE, **rule}
    out = {name: [] for name in ("train_accuracy", "test_accuracy", "cpu_seconds", "epochs", "converged",
                                 "summaries", "models", "untrained", "initial_models")}
    for seed in seeds:
        model = hierarchy_network(seed, channels=channels, kernel_sizes=kernel_sizes)
        out["initial_models"].append(deepcopy(model))
        out["untrained"].append(summarise(model, split.test_images, split.test_labels, k=k))
        run = training.train(model, split.train_images, split.train_labels, seed=seed, **rule)
        out["train_accuracy"].append(training.accuracy(model, split.train_images, split.train_labels))
        out["test_accuracy"].append(training.accuracy(model, split.test_images, split.test_labels))
        out["cpu_seconds"].append(run.cpu_seconds)
        out["epochs"].append(run.epochs)
        out["converged"].append(run.converged)
        out["summaries"].append(summarise(model, split.test_images, split.test_labels, k=k))
        out["models"].append(model)
    return Study(seeds, **out)
