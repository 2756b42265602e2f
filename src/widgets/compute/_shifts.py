"""The one image shift every topic uses, below them all (no imports from other compute modules).

:mod:`widgets.compute.data` moves digits with it and
:mod:`widgets.compute.equivariance` measures layers against it; keeping it
here means neither has to import the other for it.
"""

from __future__ import annotations

import torch

from .._checks import check_choice, check_int, check_tensor

#: How a shift treats the pixels it moves past the border, named as PyTorch names padding.
SHIFT_MODES = ("circular", "zeros")


def shift(x: torch.Tensor, dy: int, dx: int, mode: str = "circular") -> torch.Tensor:
    """Translate a batch of images by ``dy`` rows and ``dx`` columns.

    Parameters
    ----------
    x : torch.Tensor
        Batch of shape (N, C, H, W).
    dy, dx : int
        Rows down and columns right (negative: up and left); ``|dy| < H`` and
        ``|dx| < W``.
    mode : {"circular", "zeros"}
        ``"circular"``: pixels leaving one side come back on the other (the
        image lives on a torus). ``"zeros"``: they are lost, and the pixels
        uncovered on the other side are zero.

    Returns
    -------
    torch.Tensor
        Same shape and dtype as ``x``.
    """
    check_tensor("x", x, ndim=4)
    h, w = x.shape[-2:]
    dy = check_int("dy", dy, low=-(h - 1), high=h - 1)
    dx = check_int("dx", dx, low=-(w - 1), high=w - 1)
    check_choice("mode", mode, SHIFT_MODES)
    if mode == "circular":
        return torch.roll(x, shifts=(dy, dx), dims=(2, 3))
    out = torch.zeros_like(x)
    out[..., max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        x[..., max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out
