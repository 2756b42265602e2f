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
