"""Dense, locally connected and convolutional networks trained on real digits.

Used by chapter 7, "Putting it together: trained networks on real digits". The data, the
training loop and the accuracy are the book's shared ones
(:mod:`widgets.compute.data`, :mod:`widgets.compute.training`); this module
adds the networks (:func:`build`), the comparisons the chapter reports
(:func:`compare`, :func:`baselines`, :func:`shifted_accuracy`) and a look at the first
layer's kernels and their gradient (:func:`first_layer_kernels`,
:func:`first_layer_gradient`). What the units of a trained network respond
to is :mod:`widgets.compute.feature_hierarchy`'s subject.

Nothing here seeds PyTorch's global generator: every random choice takes an
explicit ``seed``, and models are initialised inside
:func:`torch.random.fork_rng`. Every function that runs a network does so on
one thread (:func:`widgets.compute.training.one_thread`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from .._checks import check_choice, check_count, check_elements, check_int, check_side, check_tensor
from . import data, training
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
#: The widths :func:`build` gives each network: hidden units (dense) or channels of the two layers.
WIDTHS = {"dense": (128, 64), "locally connected": (8, 16), "convolutional": (16, 32),
          "convolutional, flattened head": (16, 32)}
#: The simple methods every accuracy stands beside (:func:`baselines`).
BASELINES = ("majority class", "logistic regression", "1-nearest neighbour")


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
    canvas = check_side("canvas", canvas)
    h1, h2 = _pair_of("hidden", hidden)
    check_elements("the first layer's weights", (h1, canvas * canvas))
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


def build(name: str, seed: int = 0, *, canvas: int = 16, width: Sequence[int] | None = None) -> nn.Sequential:
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
    width : (int, int) or None
        The two hidden layers' units (dense) or channels (the others);
        ``None`` for the chapter's choice, :data:`WIDTHS`.
    """
    check_choice("name", name, NETWORKS)
    seed = check_int("seed", seed, low=0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if name == "dense":
            return dense_network(canvas, WIDTHS[name] if width is None else width)
        head = "flatten" if name.endswith("flattened head") else "max"
        return local_network(name != "locally connected", canvas, WIDTHS[name] if width is None else width,
                             head=head)


def trainable_parameters(model: nn.Module) -> int:
    """Number of trainable numbers in ``model`` (those with ``requires_grad``)."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def multiply_adds(model: nn.Module, canvas: int = 16) -> int:
    """Multiply-adds (one multiplication and one addition) the weights of ``model`` do on one image.

    A weight of a ``torch.nn.Conv2d`` layer is used once per output
    position; every other weight (dense, locally connected) once per image.
    Biases, activations and pooling are not counted.

    Parameters
    ----------
    model : torch.nn.Module
        A network from :func:`build` (1 input channel).
    canvas : int
        Side of the input image, 4 to 64.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    canvas = check_int("canvas", canvas, low=4, high=64)
    counts = []

    def count(module, _inputs, output):
        uses = output.shape[-2] * output.shape[-1] if isinstance(module, nn.Conv2d) else 1
        counts.append(module.weight.numel() * uses)

    hooks = [m.register_forward_hook(count) for m in model.modules()
             if isinstance(getattr(m, "weight", None), torch.Tensor)]
    try:
        with torch.no_grad():
            model(torch.zeros(1, 1, canvas, canvas))
    finally:
        for hook in hooks:
            hook.remove()
    return int(sum(counts))


def _pair_of(name, value) -> tuple[int, int]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise ValueError(f"{name} must be a pair of positive integers, got {value!r}")
    return check_count(name, value[0]), check_count(name, value[1])


# --------------------------------------------------------------------------- the comparisons


#: The book's stopping rule as the chapter uses it (see :func:`widgets.compute.training.train`):
#: stop once the epoch's mean training loss has gone ``patience`` epochs without
#: falling more than ``tol`` below its best, or after ``max_epochs``.
RULE = {"tol": 1e-3, "patience": 5, "max_epochs": 300, "batch_size": 128, "lr": 0.01}

#: The rule for runs trained with random shifts (``max_shift > 0``): a fixed
#: budget of ``max_epochs`` epochs. Random shifts make the epoch loss noisy, so
#: :data:`RULE`'s patience would stop such runs long before they fit their
#: training digits; a patience longer than the budget never stops a run early.
AUGMENTED_RULE = {**RULE, "patience": 1_000, "max_epochs": 300}


@dataclass
class Study:
    """Several networks trained to convergence on several training-set sizes, once per seed.

    Every table is a mapping from network name to a ``(len(sizes),
    len(seeds))`` tensor: row ``i`` is ``sizes[i]``, column ``j`` is
    ``seeds[j]``.

    Attributes
    ----------
    sizes, seeds : tuple of int
        Training-set sizes, and the seeds (one run per seed and size).
    test_accuracy, train_accuracy : dict of str to torch.Tensor
        Accuracy on the held-out test images, and on the images the run was trained on.
    epochs : dict of str to torch.Tensor
        Epochs each run took (int64).
    converged : dict of str to torch.Tensor
        Whether the stopping rule, not ``max_epochs``, ended each run (bool).
    cpu_seconds : dict of str to torch.Tensor
        CPU time of each run's training loop.
    models : dict of str to dict of int to list of torch.nn.Module
        ``models[name][size]``: the trained networks, one per seed.
    """

    sizes: tuple
    seeds: tuple
    test_accuracy: dict
    train_accuracy: dict
    epochs: dict
    converged: dict
    cpu_seconds: dict
    models: dict

    def spread(self, table: str, name: str, size: int | None = None) -> training.Spread:
        """One cell of a table over the seeds, e.g. ``study.spread("test_accuracy", "dense")``.

        ``size`` is a training-set size from :attr:`sizes` (default the largest).
        """
        check_choice("table", table, ("test_accuracy", "train_accuracy", "epochs", "cpu_seconds"))
        values = getattr(self, table)
        check_choice("name", name, tuple(values))
        size = max(self.sizes) if size is None else size
        check_choice("size", size, self.sizes)
        return training.spread(self.values(table, name, size))

    def values(self, table: str, name: str, size: int | None = None) -> list[float]:
        """One cell of a table, one value per seed (``size`` defaults to the largest)."""
        check_choice("table", table, ("test_accuracy", "train_accuracy", "epochs", "cpu_seconds"))
        values = getattr(self, table)
        check_choice("name", name, tuple(values))
        size = max(self.sizes) if size is None else size
        check_choice("size", size, self.sizes)
        return values[name][self.sizes.index(size)].double().tolist()


def training_subset(split: data.DigitSplit, size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The images and labels a run with ``seed`` trains on: ``size`` class-balanced training digits.

    The first ``size`` indices of :func:`widgets.compute.data.balanced_subset`
    with ``seed`` (so the sets for growing sizes are nested), in the split's
    own order.
    """
    if not isinstance(split, data.DigitSplit):
        raise ValueError(f"split must be a DigitSplit, got {type(split).__name__}")
    chosen = data.balanced_subset(split.train_labels, size, seed).sort().values
    return split.train_images[chosen], split.train_labels[chosen]


def compare(split: data.DigitSplit, sizes: Sequence[int], *, names: Sequence[str] = NETWORKS,
            seeds: Sequence[int] = range(5), widths: Mapping[str, Sequence[int]] | None = None,
            max_shift: int = 0, **rule) -> Study:
    """Train each network to convergence on nested, class-balanced subsets, once per seed, and test it.

    The run with seed ``s`` initialises the network (:func:`build`), draws
    the subset (:func:`widgets.compute.data.balanced_subset`) and orders the
    mini-batches (:func:`widgets.compute.training.train`) with ``s``. Each
    run trains on :func:`training_subset`, so it is exactly
    ``training.train(build(name, s, width=widths.get(name)),
    *training_subset(split, size, s), seed=s, max_shift=max_shift, **RULE)``.

    Parameters
    ----------
    split : DigitSplit
        Training and test images (centred, or placed anywhere: the caller decides).
    sizes : sequence of int
        Distinct training-set sizes, each 10 to the size of the training split.
    names : sequence of str
        Networks from :data:`NETWORKS`.
    seeds : sequence of int
        Distinct seeds, at least one (:func:`widgets.compute.training.check_seeds`).
    widths : mapping of str to (int, int), optional
        Widths for some networks (see :func:`build`); the others get :data:`WIDTHS`.
    max_shift : int
        0, or train with every batch shifted at random by up to this many
        pixels (data augmentation, see :func:`widgets.compute.training.train`).
    **rule
        Overrides of :data:`RULE` (``tol``, ``patience``, ``max_epochs``,
        ``batch_size``, ``lr``).

    Returns
    -------
    Study
    """
    if not isinstance(split, data.DigitSplit):
        raise ValueError(f"split must be a DigitSplit, got {type(split).__name__}")
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence | range) or not len(sizes):
        raise ValueError(f"sizes must be a non-empty sequence of integers, got {sizes!r}")
    sizes = tuple(check_int("sizes", s, low=10, high=len(split.train_labels)) for s in sizes)
    if len(set(sizes)) != len(sizes):
        raise ValueError(f"sizes must be distinct, got {list(sizes)}")
    if isinstance(names, (str, bytes)) or not isinstance(names, Sequence) or not names:
        raise ValueError(f"names must be a non-empty sequence of names from {list(NETWORKS)}, got {names!r}")
    for name in names:
        check_choice("names", name, NETWORKS)
    seeds = training.check_seeds(seeds)
    for key in rule:
        check_choice("rule", key, tuple(RULE))
    rule = {**RULE, **rule}
    widths = {} if widths is None else widths
    if not isinstance(widths, Mapping):
        raise ValueError(f"widths must map network names to pairs of widths, got {widths!r:.80}")
    for key in widths:
        check_choice("widths", key, NETWORKS)
    canvas = split.train_images.shape[-1]
    shape = (len(sizes), len(seeds))
    tables = {t: {n: torch.zeros(shape, dtype=d) for n in names} for t, d in (
        ("test_accuracy", torch.float64), ("train_accuracy", torch.float64), ("epochs", torch.int64),
        ("converged", torch.bool), ("cpu_seconds", torch.float64))}
    models = {n: {size: [] for size in sizes} for n in names}
    for name in names:
        for j, seed in enumerate(seeds):
            for i, size in enumerate(sizes):
                images, labels = training_subset(split, size, seed)
                model = build(name, seed, canvas=canvas, width=widths.get(name))
                run = training.train(model, images, labels, seed=seed, max_shift=max_shift, **rule)
                tables["test_accuracy"][name][i, j] = training.accuracy(model, split.test_images,
                                                                       split.test_labels)
                tables["train_accuracy"][name][i, j] = training.accuracy(model, images, labels)
                tables["epochs"][name][i, j] = run.epochs
                tables["converged"][name][i, j] = run.converged
                tables["cpu_seconds"][name][i, j] = run.cpu_seconds
                models[name][size].append(model)
    return Study(sizes, seeds, models=models, **tables)


def baselines(split: data.DigitSplit, sizes: Sequence[int], seeds: Sequence[int] = range(5)) -> dict:
    """Test accuracy of the simple methods of :data:`BASELINES` on the subsets :func:`compare` trains on.

    - ``"majority class"``: always answer the most common class of the
      training subset (the lowest one among ties);
    - ``"logistic regression"``: scikit-learn's multinomial logistic
      regression on the raw pixels (L2 penalty ``C=1``, L-BFGS to convergence);
    - ``"1-nearest neighbour"``: the label of the training image closest
      in Euclidean distance over the raw pixels (the first among ties).

    Returns
    -------
    dict of str to torch.Tensor
        Method name to a ``(len(sizes), len(seeds))`` float64 tensor of
        test accuracies, laid out as :class:`Study`'s tables.
    """
    from sklearn.linear_model import LogisticRegression

    if not isinstance(split, data.DigitSplit):
        raise ValueError(f"split must be a DigitSplit, got {type(split).__name__}")
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence | range) or not len(sizes):
        raise ValueError(f"sizes must be a non-empty sequence of integers, got {sizes!r}")
    sizes = tuple(check_int("sizes", s, low=10, high=len(split.train_labels)) for s in sizes)
    seeds = training.check_seeds(seeds)
    test_x, test_y = split.test_images.flatten(1).double(), split.test_labels
    out = {name: torch.zeros(len(sizes), len(seeds), dtype=torch.float64) for name in BASELINES}
    for i, size in enumerate(sizes):
        for j, seed in enumerate(seeds):
            images, labels = training_subset(split, size, seed)
            x = images.flatten(1).double()
            majority = int(torch.bincount(labels, minlength=CLASSES).argmax())
            out["majority class"][i, j] = float((test_y == majority).double().mean())
            fit = LogisticRegression(C=1.0, max_iter=5_000).fit(x.numpy(), labels.numpy())
            out["logistic regression"][i, j] = float((torch.from_numpy(fit.predict(test_x.numpy())) == test_y)
                                                      .double().mean())
            nearest = torch.cdist(test_x, x).argmin(dim=1)
            out["1-nearest neighbour"][i, j] = float((labels[nearest] == test_y).double().mean())
    return out


#: The four directions :func:`shifted_accuracy` moves the test images in, as (dy, dx) signs.
DIRECTIONS = ((-1, 0), (1, 0), (0, -1), (0, 1))


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
        Distinct distances in pixels, each at least 0 and small enough to
        keep every digit on the canvas
        (:func:`widgets.compute.data.shift_inside`).

    Returns
    -------
    list of float
        One accuracy per distance (at distance 0, the plain test accuracy).
    """
    training.check_labelled(images, labels)
    if isinstance(shifts, (str, bytes)) or not isinstance(shifts, Sequence | range) or not len(shifts):
        raise ValueError(f"shifts must be a non-empty sequence of integers, got {shifts!r}")
    shifts = tuple(check_int("shifts", s, low=0) for s in shifts)
    out = []
    for s in shifts:
        moved = [data.shift_inside(images, s * sy, s * sx) for sy, sx in (DIRECTIONS if s else ((0, 0),))]
        out.append(sum(training.accuracy(model, m, labels) for m in moved) / len(moved))
    return out


# --------------------------------------------------------------------------- the first layer's kernels


def first_layer_kernels(model: nn.Module) -> torch.Tensor:
    """The first convolution's kernels, (out_channels, kH, kW), of its first input channel (a copy)."""
    return _first_conv(model).weight.detach()[:, 0].clone()


@training.one_thread()
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
    training.check_labelled(images, labels)
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


# --------------------------------------------------------------------------- one moved digit

#: The names of :data:`DIRECTIONS`, in the same order.
DIRECTION_NAMES = ("up", "down", "left", "right")


def moved_probabilities(models: Mapping[str, nn.Module], image: torch.Tensor, distance: int,
                        direction: str) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """One digit moved by ``distance`` pixels, and each network's class probabilities for it.

    Parameters
    ----------
    models : mapping
        Network name to a trained classifier.
    image : torch.Tensor
        (1, H, W) or (H, W) digit on a blank background.
    distance : int
        Pixels to move it, at least 0 and small enough to keep its ink on the
        canvas (:func:`widgets.compute.data.shift_inside`).
    direction : str
        One of :data:`DIRECTION_NAMES`.

    Returns
    -------
    (torch.Tensor, dict)
        The moved (H, W) digit, and network name to the softmax of its logits,
        shape (classes,), computed without gradients on one thread.
    """
    if not isinstance(models, Mapping) or not models:
        raise ValueError(f"models must map at least one name to a network, got {models!r:.80}")
    for name, model in models.items():
        if not isinstance(model, nn.Module):
            raise ValueError(f"models[{name!r}] must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(image, torch.Tensor) and image.ndim == 3 and image.shape[0] == 1:
        image = image[0]
    check_tensor("image", image, ndim=2)
    distance = check_int("distance", distance, low=0)
    sy, sx = DIRECTIONS[DIRECTION_NAMES.index(check_choice("direction", direction, DIRECTION_NAMES))]
    moved = data.shift_inside(image[None, None], distance * sy, distance * sx)
    out = {}
    with training.one_thread(), torch.no_grad():
        for name, model in models.items():
            was_training = model.training
            model.eval()
            try:
                out[name] = torch.softmax(model(moved), dim=1)[0]
            finally:
                model.train(was_training)
    return moved[0, 0], out
