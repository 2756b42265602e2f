"""Images that ship with the installed packages: nothing is downloaded."""

from __future__ import annotations

import numpy as np
import torch
from matplotlib import cbook

from .._checks import check_choice, check_int


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


def digits(canvas: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's handwritten digits, centred on a larger blank canvas.

    The 1,797 images (8 x 8 pixels, 16 grey levels) ship inside scikit-learn,
    so nothing is downloaded. A canvas larger than 8 leaves room to move the
    digits around.

    Parameters
    ----------
    canvas : int
        Side of the canvas in pixels, 8 to 64.

    Returns
    -------
    images : torch.Tensor
        (1797, 1, canvas, canvas) float32 in [0, 1].
    labels : torch.Tensor
        (1797,) int64 classes 0-9.
    """
    from sklearn.datasets import load_digits

    canvas = check_int("canvas", canvas, low=8, high=64)
    data = load_digits()
    small = torch.from_numpy(data.images.astype(np.float32) / 16.0)
    images = torch.zeros(len(small), 1, canvas, canvas)
    top = (canvas - 8) // 2
    images[:, 0, top:top + 8, top:top + 8] = small
    return images, torch.from_numpy(data.target.astype(np.int64))
