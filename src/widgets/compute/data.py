"""Images that ship with the installed packages, and the book's one split and placement of digits.

Nothing is downloaded: the photograph ships with matplotlib and the digits
with scikit-learn. Every chapter that trains on digits takes its split from
:func:`digit_split`, its class-balanced subsets from :func:`balanced_subset`
and its moved digits from :func:`shift_inside`, :func:`random_shifts`,
:func:`place_randomly` or :func:`anywhere`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from matplotlib import cbook

from .._checks import check_choice, check_int, check_tensor
from ._shifts import shift as _shift

#: The digits data set's size (scikit-learn's ``load_digits``).
N_DIGITS = 1797
#: Images in the book's default training split; the other 500 are the test set.
N_TRAIN = 1297


def photo(size: int = 64, channels: int = 1) -> torch.Tensor:
    """Matplotlib's bundled portrait of Grace Hopper as a (C, H, W) tensor.

    Parameters
    ----------
    size : int
        Height and width in pixels after resizing (8 to 512).
    channels : {1, 3}
        1 for grayscale (ITU-R 601 luma), 3 for RGB.

    Returns
    -------
    torch.Tensor
        Float32 tensor of shape (channels, size, size) with values in [0, 1].
    """
    size = check_int("size", size, low=8, high=512)
    check_choice("channels", channels, (1, 3))
    with cbook.get_sample_data("grace_hopper.jpg") as f:
        from PIL import Image

        img = Image.open(f).convert("RGB")
        # Square crop around the face, then an area-averaging resize.
        w, h = img.size
        side = min(w, h)
        img = img.crop(((w - side) // 2, 0, (w - side) // 2 + side, side))
        img = img.resize((size, size), Image.Resampling.BOX)
        rgb = np.asarray(img, dtype=np.float32) / 255.0
    x = torch.from_numpy(rgb).permute(2, 0, 1).contiguous()
    if channels == 1:
        weights = torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)
        x = (x * weights).sum(dim=0, keepdim=True)
    return x


def digits(canvas: int = 16, scale: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's handwritten digits, centred on a larger blank canvas.

    The 1,797 images (8 x 8 pixels, 16 grey levels) ship inside scikit-learn,
    so nothing is downloaded. A canvas larger than the digit leaves room to
    move it around.

    Parameters
    ----------
    canvas : int
        Side of the canvas in pixels, ``8 * scale`` to 128.
    scale : int
        1 keeps the digits 8 x 8; 2 to 4 enlarge them to ``8 * scale`` pixels
        a side by bilinear interpolation (strokes then span several pixels,
        as in photographs of handwriting).

    Returns
    -------
    images : torch.Tensor
        (1797, 1, canvas, canvas) float32 in [0, 1].
    labels : torch.Tensor
        (1797,) int64 classes 0-9.
    """
    from sklearn.datasets import load_digits

    scale = check_int("scale", scale, low=1, high=4)
    side = 8 * scale
    canvas = check_int("canvas", canvas, low=side, high=128)
    data = load_digits()
    small = torch.from_numpy(data.images.astype(np.float32) / 16.0)[:, None]
    if scale > 1:
        small = torch.nn.functional.interpolate(small, scale_factor=scale, mode="bilinear",
                                                align_corners=False).clamp(0.0, 1.0)
    images = torch.zeros(len(small), 1, canvas, canvas)
    top = (canvas - side) // 2
    images[:, :, top:top + side, top:top + side] = small
    return images, torch.from_numpy(data.target.astype(np.int64))


# --------------------------------------------------------------------------- splits


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


def digit_split(canvas: int = 16, n_train: int = N_TRAIN, seed: int = 0, scale: int = 1) -> DigitSplit:
    """The 1,797 digits of :func:`digits`, centred on a canvas and split at random (seeded).

    Parameters
    ----------
    canvas, scale : int
        As for :func:`digits`.
    n_train : int
        Training images, 10 to 1,787; the rest are the test set.
    seed : int
        Seed of the permutation that decides the split.

    Returns
    -------
    DigitSplit
    """
    images, labels = digits(canvas, scale)
    n_train = check_int("n_train", n_train, low=10, high=len(images) - 10)
    seed = check_int("seed", seed, low=0, high=2**63 - 1)
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
    if not isinstance(labels, torch.Tensor) or labels.ndim != 1 or labels.is_floating_point() or not len(labels):
        raise ValueError(f"labels must be a non-empty 1-D integer tensor, got {labels!r:.80}")
    n = check_int("n", n, low=1, high=len(labels))
    gen = torch.Generator().manual_seed(check_int("seed", seed, low=0, high=2**63 - 1))
    per_class = []
    for c in torch.unique(labels).tolist():
        members = torch.nonzero(labels == c).flatten()
        per_class.append(members[torch.randperm(len(members), generator=gen)])
    order = [int(m[i]) for i in range(max(len(m) for m in per_class)) for m in per_class if i < len(m)]
    return torch.tensor(order[:n], dtype=torch.int64)


# --------------------------------------------------------------------------- moving digits


def shift_inside(images: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """Move every image by ``dy`` rows and ``dx`` columns, filling with zeros, without losing ink.

    The zero-filled shift of :func:`widgets.compute.equivariance.shift`, with
    one more check: a shift that would push a non-zero pixel of any image off
    the canvas is refused.

    Parameters
    ----------
    images : torch.Tensor
        (N, C, H, W) batch on a blank (zero) background.
    dy, dx : int
        Rows down and columns right (negative: up, left).

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


def random_shifts(images: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Shift each image of a batch by its own random (dy, dx), zero-filled.

    Parameters
    ----------
    images : torch.Tensor
        (N, C, H, W) batch.
    max_shift : int
        Each of dy and dx is drawn uniformly from ``-max_shift .. max_shift``
        (0 to ``min(H, W) - 1``). Pixels pushed past the border are lost.
    generator : torch.Generator
        Source of the random shifts (it advances).

    Returns
    -------
    torch.Tensor
        A new batch of the same shape.
    """
    check_tensor("images", images, ndim=4)
    height, width = images.shape[-2:]
    m = check_int("max_shift", max_shift, low=0, high=min(height, width) - 1)
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    moves = torch.randint(-m, m + 1, (len(images), 2), generator=generator).tolist()
    padded = torch.nn.functional.pad(images, (m, m, m, m))
    out = torch.empty_like(images)
    for i, (dy, dx) in enumerate(moves):
        out[i] = padded[i, :, m - dy:m - dy + height, m - dx:m - dx + width]
    return out


def place_randomly(images: torch.Tensor, max_shift: int, seed: int = 0) -> torch.Tensor:
    """Shift each image by its own random (dy, dx), uniform in [-max_shift, max_shift]², keeping all ink.

    Parameters
    ----------
    images : torch.Tensor
        (N, C, H, W) batch on a blank background.
    max_shift : int
        Largest shift along each axis, at least 0; no image may lose ink.
    seed : int
        Seed of the shifts.

    Returns
    -------
    torch.Tensor
        A new batch of the same shape.
    """
    check_tensor("images", images, ndim=4)
    seed = check_int("seed", seed, low=0, high=2**63 - 1)
    out = random_shifts(images, max_shift, torch.Generator().manual_seed(seed))
    lost = (images.abs().sum(dim=(1, 2, 3)) - out.abs().sum(dim=(1, 2, 3))).abs()
    if bool((lost > 1e-4 * (1 + images.abs().sum(dim=(1, 2, 3)))).any()):
        raise ValueError(f"max_shift must keep every image's ink on the canvas, got {max_shift}: "
                         f"{int((lost > 0).sum())} images would lose ink")
    return out


def anywhere(split: DigitSplit, max_shift: int = 4, seed: int = 0) -> DigitSplit:
    """The same split with every digit moved to a random place (:func:`place_randomly`).

    Training and test images get independent shifts (seeds ``seed`` and
    ``seed + 1``); the labels are unchanged.
    """
    if not isinstance(split, DigitSplit):
        raise ValueError(f"split must be a DigitSplit, got {type(split).__name__}")
    seed = check_int("seed", seed, low=0, high=2**63 - 2)
    return DigitSplit(place_randomly(split.train_images, max_shift, seed), split.train_labels,
                      place_randomly(split.test_images, max_shift, seed + 1), split.test_labels)


def scramble(split: DigitSplit, seed: int = 0) -> DigitSplit:
    """The same split with the pixels of every image reordered by one fixed random permutation.

    The same permutation (drawn from ``seed``) is applied to every training
    and test image, so no information is lost: a method that ignores which
    pixels are neighbours (a dense network, nearest neighbours) can do exactly
    as well as before, while one that assumes neighbouring pixels belong
    together loses that structure. The labels are unchanged.
    """
    if not isinstance(split, DigitSplit):
        raise ValueError(f"split must be a DigitSplit, got {type(split).__name__}")
    seed = check_int("seed", seed, low=0, high=2**63 - 1)
    shape = split.train_images.shape[1:]
    order = torch.randperm(shape.numel(), generator=torch.Generator().manual_seed(seed))

    def apply(images):
        return images.flatten(1)[:, order].reshape(len(images), *shape)

    return DigitSplit(apply(split.train_images), split.train_labels, apply(split.test_images), split.test_labels)



def validation(split: DigitSplit, n_validation: int = 400, seed: int = 0) -> DigitSplit:
    """A split of ``split``'s training digits alone: some held out to choose settings on.

    ``n_validation`` training digits, drawn at random (seeded), become the
    returned split's test set; the others, in their original order, its
    training set. ``split``'s test digits are not used, so a setting chosen
    by its accuracy here has not seen the digits that will judge it.
    """
    if not isinstance(split, DigitSplit):
        raise ValueError(f"split must be a DigitSplit, got {type(split).__name__}")
    n = len(split.train_labels)
    n_validation = check_int("n_validation", n_validation, low=10, high=n - 10)
    seed = check_int("seed", seed, low=0, high=2**63 - 1)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    held, kept = order[:n_validation].sort().values, order[n_validation:].sort().values
    return DigitSplit(split.train_images[kept], split.train_labels[kept],
                      split.train_images[held], split.train_labels[held])
