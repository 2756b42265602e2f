"""Parameter sharing: one kernel reused at every position, against one kernel per position.

Used by the chapter "Parameter sharing".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from .._checks import MAX_SIDE, check_choice, check_count, check_int, check_side, check_tensor
from . import training
from .local_connectivity import LocallyConnected2d, parameters_held


def dense_parameters(in_features: int, units: int) -> int:
    """Parameters of ``nn.Linear(in_features, units)``, counted on the meta device."""
    # A MAX_SIDE x MAX_SIDE image with up to four channels, into up to MAX_COUNT units.
    in_features = check_int("in_features", in_features, low=1, high=4 * MAX_SIDE**2)
    units = check_count("units", units)
    return parameters_held(nn.Linear(in_features, units, device="meta"))


def conv_parameters(in_channels: int, out_channels: int, kernel_size: int) -> int:
    """Parameters of ``nn.Conv2d(in_channels, out_channels, kernel_size)``: independent of the image size."""
    in_channels = check_count("in_channels", in_channels)
    out_channels = check_count("out_channels", out_channels)
    kernel_size = check_side("kernel_size", kernel_size)
    return parameters_held(nn.Conv2d(in_channels, out_channels, kernel_size, device="meta"))


def unshared_parameters(in_channels: int, out_channels: int, image_size: int, kernel_size: int,
                        stride: int = 1, padding: int = 0) -> int:
    """Parameters of the same layer without sharing: a :class:`LocallyConnected2d` (meta device)."""
    layer = LocallyConnected2d(in_channels, out_channels, image_size, kernel_size, stride, padding, device="meta")
    return parameters_held(layer)


def place_patch(patch: torch.Tensor, canvas_size: int, top: int, left: int) -> torch.Tensor:
    """Paste a (h, w) patch onto a blank (canvas_size, canvas_size) canvas at (top, left).

    Parameters
    ----------
    patch : torch.Tensor
        (h, w) image.
    canvas_size : int
        Side of the canvas, at least the patch's larger side.
    top, left : int
        Position of the patch's top-left pixel; the patch must fit.
    """
    check_tensor("patch", patch, ndim=2)
    h, w = patch.shape
    canvas_size = check_int("canvas_size", canvas_size, low=max(h, w), high=MAX_SIDE)
    top = check_int("top", top, low=0, high=canvas_size - h)
    left = check_int("left", left, low=0, high=canvas_size - w)
    canvas = patch.new_zeros(canvas_size, canvas_size)
    canvas[top:top + h, left:left + w] = patch
    return canvas


def learned_in_one_region(kernel: torch.Tensor, input_size: int, region: int, seed: int = 0) -> LocallyConnected2d:
    """A locally connected layer that has the detector ``kernel`` only where it was "learned".

    Output positions whose row and column are both below ``region`` hold
    ``kernel``; every other position holds a random kernel of the same scale,
    as if training had only ever shown the pattern in the top-left corner.

    Parameters
    ----------
    kernel : torch.Tensor
        (k, k) detector.
    input_size : int
        Side of the square inputs.
    region : int
        Side of the top-left block of output positions that hold the detector.
    seed : int
        Seed for the random kernels elsewhere.
    """
    check_tensor("kernel", kernel, ndim=2)
    k = kernel.shape[0]
    input_size = check_int("input_size", input_size, low=k, high=MAX_SIDE)
    layer = LocallyConnected2d(1, 1, input_size, k, bias=False)
    out = layer.output_size[0]
    region = check_int("region", region, low=1, high=out)
    g = torch.Generator().manual_seed(check_int("seed", seed, low=0))
    with torch.no_grad():
        scale = kernel.abs().mean()
        layer.weight.copy_(torch.randn(out, out, 1, 1, k, k, generator=g) * scale)
        layer.weight[:region, :region, 0, 0] = kernel
    return layer


def detector_responses(canvas: torch.Tensor, kernel: torch.Tensor,
                       unshared: LocallyConnected2d) -> dict[str, torch.Tensor]:
    """Responses of a shared detector (a convolution) and an unshared layer to one canvas.

    Returns
    -------
    dict
        ``{"convolution": (H', W'), "locally connected": (H', W')}``.
    """
    check_tensor("canvas", canvas, ndim=2)
    check_tensor("kernel", kernel, ndim=2)
    x = canvas.view(1, 1, *canvas.shape)
    with torch.no_grad():
        shared = nn.functional.conv2d(x, kernel.view(1, 1, *kernel.shape))[0, 0]
        local = unshared(x)[0, 0]
    return {"convolution": shared, "locally connected": local}


def neighbour_correlation(values: torch.Tensor) -> float:
    """Pearson correlation between horizontally adjacent entries of a 2-D array.

    High for photographs (neighbouring pixels look alike); near zero once the
    positions are shuffled (see :func:`shuffle_positions`).
    """
    check_tensor("values", values, ndim=2)
    if values.shape[1] < 2:
        raise ValueError(f"values must have at least 2 columns, got shape {tuple(values.shape)}")
    a = values[:, :-1].flatten().double()
    b = values[:, 1:].flatten().double()
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / (a.norm() * b.norm()))


def shuffle_positions(values: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """The same 2-D array with its entries moved by one fixed random (seeded) permutation.

    Applied with the same seed to every image of a data set, this is a fixed
    reordering of the features: a dense layer is indifferent to it, but the
    neighbourhoods that local, shared kernels rely on are gone.
    """
    check_tensor("values", values, ndim=2)
    g = torch.Generator().manual_seed(check_int("seed", seed, low=0))
    return values.flatten()[torch.randperm(values.numel(), generator=g)].view_as(values)


# --------------------------------------------------------------------------- evidence from every position


def weight_gradients(conv: nn.Conv2d, x: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The weight gradient of a convolution and those of its untied copy, for one squared-error loss.

    The loss is ``((layer(x) - target) ** 2).sum() / 2`` for ``conv`` and for
    ``LocallyConnected2d.from_conv(conv)``, which computes the same outputs.
    The convolution's gradient equals the sum over positions of the untied
    layer's per-position gradients: training a shared kernel adds up the
    evidence from every position.

    Parameters
    ----------
    conv : torch.nn.Conv2d
        Square kernel, equal strides and padding, no dilation, one group.
    x : torch.Tensor
        (N, C, H, W) batch with H == W.
    target : torch.Tensor
        Same shape as ``conv(x)``.

    Returns
    -------
    (torch.Tensor, torch.Tensor)
        The convolution's (O, C, k, k) gradient and the untied layer's
        (out_h, out_w, O, C, k, k) gradients, one kernel's worth per position.
    """
    check_tensor("x", x, ndim=4)
    if x.shape[2] != x.shape[3]:
        raise ValueError(f"x must hold square images, got shape {tuple(x.shape)}")
    untied = LocallyConnected2d.from_conv(conv, x.shape[2])
    grads = []
    for layer, weight in ((conv, conv.weight), (untied, untied.weight)):
        out = layer(x)
        if not isinstance(target, torch.Tensor) or target.shape != out.shape:
            raise ValueError(f"target must be a tensor of shape {tuple(out.shape)}, got "
                             f"{tuple(target.shape) if isinstance(target, torch.Tensor) else target!r}")
        (g,) = torch.autograd.grad(((out - target) ** 2).sum() / 2, weight)
        grads.append(g)
    return grads[0], grads[1]


# --------------------------------------------------------------------------- locality without stationarity

#: Four 3 x 3 strokes. In the aligned task a horizontal bar counts only in the top slot
#: and a falling diagonal only in the bottom slot.
STROKES = {
    "horizontal bar": [[0, 0, 0], [1, 1, 1], [0, 0, 0]],
    "vertical bar": [[0, 1, 0], [0, 1, 0], [0, 1, 0]],
    "falling diagonal": [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
    "rising diagonal": [[0, 0, 1], [0, 1, 0], [1, 0, 0]],
}
#: Top-left pixels of the two slots of the aligned task, on a 10 x 10 image.
SLOTS = ((1, 3), (6, 4))
#: The two tasks of :func:`stroke_task`.
TASKS = ("aligned", "anywhere")
#: The two trained layers :func:`half_detector` can build.
KINDS = ("convolution", "locally connected")
#: The reference in :func:`prior_study`: a convolution holding the four strokes, zero-mean, fixed.
HAND_MADE = "hand-made detectors"
#: The other reference in :func:`prior_study`: one linear layer on the 100 pixels.
LOGISTIC = "logistic regression"
#: The hand-made detectors with a head that reads each map only at the two :data:`SLOTS`.
HAND_AT_SLOTS = "hand-made detectors read at the slots"
#: Untrained controls in :func:`prior_study`: each layer of :data:`KINDS` frozen at its random start, head trained.
UNTRAINED = {"convolution": "untrained convolution", "locally connected": "untrained locally connected"}
#: The heads :func:`half_detector` can put on the layer.
HEADS = ("max per half", "flat", "slots")
_SIZE = 10


def stroke_task(n: int, task: str, seed: int, noise: float = 0.3) -> tuple[torch.Tensor, torch.Tensor]:
    """Noisy 10 x 10 images holding 3 x 3 strokes, and binary labels.

    ``"aligned"``: a stroke (any of the four :data:`STROKES`) sits in each of
    the two fixed :data:`SLOTS`, like the parts of aligned faces; the label is
    1 if the top slot holds the horizontal bar or the bottom slot holds the
    falling diagonal. What a stroke means depends on where it is.
    ``"anywhere"``: one stroke at a random position; the label is 1 if it is
    the horizontal bar, wherever it is. What a stroke means does not depend on
    where it is.

    Parameters
    ----------
    n : int
        Number of images, at least 1.
    task : {"aligned", "anywhere"}
    seed : int
        Seed of the strokes, positions and noise.
    noise : float
        Standard deviation of the Gaussian noise added to every pixel, at least 0.

    Returns
    -------
    images : torch.Tensor
        (n, 1, 10, 10) float32.
    labels : torch.Tensor
        (n,) int64 in {0, 1}.
    """
    n = check_count("n", n)
    check_choice("task", task, TASKS)
    seed = check_int("seed", seed, low=0)
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not 0 <= noise < float("inf"):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    g = torch.Generator().manual_seed(seed)
    strokes = torch.tensor(list(STROKES.values()), dtype=torch.float32)
    which = torch.randint(0, len(strokes), (n, 2), generator=g)
    images = noise * torch.randn(n, 1, _SIZE, _SIZE, generator=g)
    if task == "aligned":
        for slot, (top, left) in enumerate(SLOTS):
            images[:, 0, top:top + 3, left:left + 3] += strokes[which[:, slot]]
        labels = (which[:, 0] == 0) | (which[:, 1] == 2)
    else:
        corners = torch.randint(0, _SIZE - 2, (n, 2), generator=g)
        for i, (top, left) in enumerate(corners.tolist()):
            images[i, 0, top:top + 3, left:left + 3] += strokes[which[i, 0]]
        labels = which[:, 0] == 0
    return images, labels.long()


def stroke_detectors() -> torch.Tensor:
    """The four :data:`STROKES` as zero-mean 3 x 3 detectors, shape (4, 3, 3).

    Each responds most to its own stroke and not at all to a flat patch: the
    hand-made reference a trained filter bank is measured against.
    """
    strokes = torch.tensor(list(STROKES.values()), dtype=torch.float32)
    return strokes - strokes.mean(dim=(1, 2), keepdim=True)


class _SlotRead(nn.Module):
    """Each map's value at the output positions of the two :data:`SLOTS` (where a 3 x 3 stroke there is read whole)."""

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        return torch.stack([maps[:, :, top, left] for top, left in SLOTS], dim=2).flatten(1)


def half_detector(kind: str, seed: int, filters: int = 8, kernels: torch.Tensor | None = None,
                  head: str = "max per half", frozen: bool = False) -> nn.Sequential:
    """A bank of 3 x 3 filters, shared or not, then the same small head for both kinds.

    The layer (a ``Conv2d`` or a :class:`LocallyConnected2d` with one input
    channel and ``filters`` output channels) is followed by a ReLU and a head.
    The default head, ``"max per half"``, takes the maximum of each map over
    the top half and over the bottom half and feeds those ``2 * filters``
    numbers to a linear layer with two outputs: it can weigh the halves
    differently, but it sees only whether each filter responded somewhere in
    each half. ``"flat"`` feeds every position of every map to the linear
    layer (it shares nothing across positions); ``"slots"`` reads each map
    only at the two :data:`SLOTS`.

    Parameters
    ----------
    kind : {"convolution", "locally connected"}
    seed : int
        Seed of the initial weights (uniform in ±1/sqrt(fan_in), PyTorch's default scale).
    filters : int
        Output channels of the layer, 1 to 64. Ignored when ``kernels`` is given.
    kernels : torch.Tensor, optional
        (F, 3, 3) fixed kernels for a convolution (``kind`` must be
        ``"convolution"``): the layer holds them with zero bias and is frozen,
        so that training moves only the head.
    head : {"max per half", "flat", "slots"}
    frozen : bool
        Keep the layer at its random initial weights (an untrained control): training moves only the head.
    """
    check_choice("kind", kind, KINDS)
    check_choice("head", head, HEADS)
    if not isinstance(frozen, bool):
        raise ValueError(f"frozen must be True or False, got {frozen!r}")
    g = torch.Generator().manual_seed(check_int("seed", seed, low=0))
    if kernels is not None:
        check_tensor("kernels", kernels, ndim=3)
        if kernels.shape[1:] != (3, 3) or not 1 <= len(kernels) <= 64:
            raise ValueError(f"kernels must have shape (F, 3, 3) with 1 <= F <= 64, got {tuple(kernels.shape)}")
        if kind != "convolution":
            raise ValueError(f"kind must be 'convolution' when kernels are given, got {kind!r}")
        filters = len(kernels)
    filters = check_int("filters", filters, low=1, high=64)
    layer = nn.Conv2d(1, filters, 3) if kind == "convolution" else LocallyConnected2d(1, filters, _SIZE, 3)
    reads = {"max per half": 2, "flat": (_SIZE - 2) ** 2, "slots": len(SLOTS)}[head]
    pool = {"max per half": nn.AdaptiveMaxPool2d((2, 1)), "flat": nn.Identity(), "slots": _SlotRead()}[head]
    net = nn.Sequential(layer, nn.ReLU(), pool, nn.Flatten(), nn.Linear(reads * filters, 2))
    with torch.no_grad():  # seeded initialisation, like PyTorch's default (uniform in ±1/sqrt(fan_in))
        for module, fan_in in ((layer, 9), (net[-1], reads * filters)):
            bound = fan_in ** -0.5
            for p in module.parameters():
                p.copy_(torch.rand(p.shape, generator=g) * 2 * bound - bound)
        if kernels is not None:
            layer.weight.copy_(kernels.to(layer.weight.dtype).unsqueeze(1))
            layer.bias.zero_()
            layer.requires_grad_(False)
        if frozen:
            layer.requires_grad_(False)
    return net


@dataclass(frozen=True)
class PriorStudy:
    """Accuracies of :func:`half_detector` networks on the two :func:`stroke_task` tasks.

    Attributes
    ----------
    accuracy : dict
        ``(task, kind)`` to a :class:`~widgets.compute.training.Spread` of
        test accuracies over seeds, for ``kind`` in :data:`KINDS` and
        :data:`HAND_MADE` and :data:`LOGISTIC`.
    train_accuracy : dict
        The same on the training images.
    epochs : dict
        ``(task, kind)`` to the epochs each seed trained.
    seeds : tuple of int
    n_train, n_test : int
    cpu_seconds : float
        Processor time of all the training.
    majority : dict
        ``task`` to the test accuracy of always answering the training set's
        more common label.
    filters : int
        Filters of the trained layers.
    silent : dict
        ``(task, kind)`` to the number of seeds whose trained layer, after
        its ReLU, is zero at every position of every training image: no
        gradient reaches its kernels, and the head can only learn a constant.
    """

    accuracy: dict
    train_accuracy: dict
    epochs: dict
    seeds: tuple
    n_train: int
    n_test: int
    cpu_seconds: float
    majority: dict = field(default_factory=dict)
    filters: int = 8
    silent: dict = field(default_factory=dict)


ALL_KINDS = (*KINDS, HAND_MADE, LOGISTIC, HAND_AT_SLOTS, *UNTRAINED.values())


def prior_study(seeds=range(10), n_train: int = 300, n_test: int = 2000, filters: int = 8,
                kinds=(*KINDS, HAND_MADE, LOGISTIC), tasks=TASKS, head: str = "max per half",
                fresh_data: bool = False) -> PriorStudy:
    """Train convolutional and locally connected :func:`half_detector` networks on both tasks, per seed.

    Every kind sees the same images (training set seeded 100, test set 101 for
    the aligned task; 200 and 201 for the other) and trains with
    :func:`widgets.compute.training.train` (Adam, learning rate 0.03, batches
    of 32, until the training loss has not fallen by 0.001 for 10 epochs, at
    most 300 epochs). The seed sets the initial weights and the batch order,
    so results with the same seed form pairs. :data:`HAND_MADE` is a
    convolution holding :func:`stroke_detectors`, fixed, with only its head
    trained; :data:`LOGISTIC` is logistic regression on the 100 pixels (one
    ``nn.Linear``, seeded like the others), trained the same way.
    :data:`HAND_AT_SLOTS` holds the same detectors but reads them only at
    the two :data:`SLOTS`; the :data:`UNTRAINED` kinds keep the layer at its
    random start and train only the head.

    Parameters
    ----------
    seeds : sequence of int
    n_train, n_test : int
        Training and test images per task.
    filters : int
        Filters of the trained layers, 1 to 64.
    kinds : sequence of str
        Which of :data:`ALL_KINDS` to train.
    tasks : sequence of str
        Which of :data:`TASKS` to run.
    head : {"max per half", "flat", "slots"}
        Head of the trained layers and of :data:`UNTRAINED` (see :func:`half_detector`).
    fresh_data : bool
        Draw new training and test images for every seed (seeded 1000 + offset + seed and
        5000 + offset + seed), so that the spread over seeds covers the data too.

    Returns
    -------
    PriorStudy
    """
    seeds = training.check_seeds(seeds)
    n_train = check_count("n_train", n_train, low=10)
    n_test = check_count("n_test", n_test, low=10)
    filters = check_int("filters", filters, low=1, high=64)
    kinds = _choices("kinds", kinds, ALL_KINDS)
    tasks = _choices("tasks", tasks, TASKS)
    check_choice("head", head, HEADS)
    if not isinstance(fresh_data, bool):
        raise ValueError(f"fresh_data must be True or False, got {fresh_data!r}")
    untrained = {v: k for k, v in UNTRAINED.items()}
    acc, train_acc, epochs, majority, silent, cpu = {}, {}, {}, {}, {}, 0.0
    for offset, task in zip((100, 200), TASKS):
        if task not in tasks:
            continue
        x, y = stroke_task(n_train, task, seed=offset)
        x_test, y_test = stroke_task(n_test, task, seed=offset + 1)
        common = int(y.float().mean() > 0.5)
        majority[task] = float((y_test == common).double().mean())
        for kind in kinds:
            values, fits, runs, dead = [], [], [], 0
            for seed in seeds:
                if fresh_data:
                    x, y = stroke_task(n_train, task, seed=1000 + offset + seed)
                    x_test, y_test = stroke_task(n_test, task, seed=5000 + offset + seed)
                if kind == HAND_MADE:
                    net = half_detector("convolution", seed, kernels=stroke_detectors())
                elif kind == HAND_AT_SLOTS:
                    net = half_detector("convolution", seed, kernels=stroke_detectors(), head="slots")
                elif kind == LOGISTIC:
                    net = _logistic(seed)
                elif kind in untrained:
                    net = half_detector(untrained[kind], seed, filters, head=head, frozen=True)
                else:
                    net = half_detector(kind, seed, filters, head=head)
                if kind in (HAND_MADE, HAND_AT_SLOTS) or kind in untrained:
                    # The layer is frozen, so its features are computed once and only the head trains:
                    # the same initial head, batches and steps as training the whole network, far cheaper.
                    with torch.no_grad():
                        features = net[:-1](x)
                    run = training.train(net[-1], features, y, seed=seed, max_epochs=300, batch_size=32,
                                         lr=0.03, tol=1e-3, patience=10)
                else:
                    run = training.train(net, x, y, seed=seed, max_epochs=300, batch_size=32, lr=0.03,
                                         tol=1e-3, patience=10)
                values.append(training.accuracy(net, x_test, y_test))
                fits.append(training.accuracy(net, x, y))
                runs.append(run.epochs)
                cpu += run.cpu_seconds
                if kind != LOGISTIC:
                    with torch.no_grad():
                        dead += not bool((net[0](x) > 0).any())
            acc[task, kind] = training.spread(values)
            train_acc[task, kind] = training.spread(fits)
            epochs[task, kind] = tuple(runs)
            silent[task, kind] = dead
    return PriorStudy(acc, train_acc, epochs, seeds, n_train, n_test, cpu, majority, filters, silent)


def _logistic(seed: int) -> nn.Sequential:
    """Logistic regression on the pixels of a 10 x 10 image, seeded like :func:`half_detector`."""
    g = torch.Generator().manual_seed(seed)
    net = nn.Sequential(nn.Flatten(), nn.Linear(_SIZE * _SIZE, 2))
    with torch.no_grad():
        bound = (_SIZE * _SIZE) ** -0.5
        for p in net.parameters():
            p.copy_(torch.rand(p.shape, generator=g) * 2 * bound - bound)
    return net


def _choices(name: str, values, allowed) -> tuple:
    if isinstance(values, str) or not isinstance(values, (tuple, list)) or not values:
        raise ValueError(f"{name} must be a non-empty list drawn from {list(allowed)}, got {values!r}")
    for v in values:
        check_choice(name, v, allowed)
    return tuple(values)
