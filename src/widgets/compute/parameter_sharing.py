"""Parameter sharing: one kernel reused at every position, against one kernel per position.

Used by the chapter "Parameter sharing".
"""

from __future__ import annotations

import torch
from torch import nn

from .._checks import check_int, check_tensor
from .local_connectivity import LocallyConnected2d, parameters_held


def dense_parameters(in_features: int, units: int) -> int:
    """Parameters of ``nn.Linear(in_features, units)``, counted on the meta device."""
    in_features = check_int("in_features", in_features, low=1)
    units = check_int("units", units, low=1)
    return parameters_held(nn.Linear(in_features, units, device="meta"))


def conv_parameters(in_channels: int, out_channels: int, kernel_size: int) -> int:
    """Parameters of ``nn.Conv2d(in_channels, out_channels, kernel_size)``: independent of the image size."""
    in_channels = check_int("in_channels", in_channels, low=1)
    out_channels = check_int("out_channels", out_channels, low=1)
    kernel_size = check_int("kernel_size", kernel_size, low=1)
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
    canvas_size = check_int("canvas_size", canvas_size, low=max(h, w))
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
    input_size = check_int("input_size", input_size, low=k)
    layer = LocallyConnected2d(1, 1, input_size, k, bias=False)
    out = layer.output_size[0]
    region = check_int("region", region, low=1, high=out)
    g = torch.Generator().manual_seed(check_int("seed", seed, low=0))
    with torch.no_grad():
        scale = kernel.abs().mean()
        layer.weight.copy_(torch.randn(out, out, 1, 1, k, k, generator=g) * scale)
        layer.weight[:region, :region, 0, 0] = kernel
    return layer


def detector_responses(canvas: torch.Tensor, kernel: torch.Tensor, unshared: LocallyConnected2d) -> dict[str, torch.Tensor]:
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
