"""What one convolutional layer computes: sliding windows, patches and filter banks.

Used by the chapter "What a convolutional layer computes".
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .._checks import check_int, check_tensor


def output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0) -> int:
    """Length of a convolution's output along one axis.

    Parameters
    ----------
    size : int
        Input length (height or width), at least 1.
    kernel_size : int
        Kernel length, at least 1 and at most ``size + 2 * padding``.
    stride : int
        Step between windows, at least 1.
    padding : int
        Zeros added on each side, at least 0.

    Returns
    -------
    int
        ``(size + 2 * padding - kernel_size) // stride + 1``.
    """
    size = check_int("size", size, low=1)
    padding = check_int("padding", padding, low=0)
    kernel_size = check_int("kernel_size", kernel_size, low=1, high=size + 2 * padding)
    stride = check_int("stride", stride, low=1)
    return (size + 2 * padding - kernel_size) // stride + 1


def sliding_window_conv2d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
                          stride: int = 1, padding: int = 0) -> torch.Tensor:
    """Cross-correlate a batch with a filter bank by visiting every window explicitly.

    The same arithmetic as :func:`torch.nn.functional.conv2d`, written as loops
    over output positions so each multiply-add is visible.

    Parameters
    ----------
    x : torch.Tensor
        Input batch of shape (N, C, H, W).
    weight : torch.Tensor
        Filters of shape (out_channels, C, kH, kW): each filter spans every input channel.
    bias : torch.Tensor or None
        One value per filter, shape (out_channels,).
    stride, padding : int
        As in :class:`torch.nn.Conv2d` (the same value for both axes).

    Returns
    -------
    torch.Tensor
        Shape (N, out_channels, H_out, W_out): one feature map per filter.
    """
    check_tensor("x", x, ndim=4)
    check_tensor("weight", weight, ndim=4)
    if weight.shape[1] != x.shape[1]:
        raise ValueError(f"weight must have {x.shape[1]} input channels to match x, got shape {tuple(weight.shape)}")
    out_channels, _, kh, kw = weight.shape
    if bias is not None:
        check_tensor("bias", bias, ndim=1)
        if bias.shape[0] != out_channels:
            raise ValueError(f"bias must have {out_channels} entries, got shape {tuple(bias.shape)}")
    h_out = output_size(x.shape[2], kh, stride, padding)
    w_out = output_size(x.shape[3], kw, stride, padding)
    x = nn.functional.pad(x, (padding,) * 4)
    out = x.new_zeros(x.shape[0], out_channels, h_out, w_out)
    for i in range(h_out):
        for j in range(w_out):
            patch = x[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]  # (N, C, kH, kW)
            # One number per (image, filter): the sum over channels, rows and columns of patch * filter.
            out[:, :, i, j] = (patch.unsqueeze(1) * weight.unsqueeze(0)).sum(dim=(2, 3, 4))
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out


@dataclass(frozen=True)
class MultiplyAdd:
    """One output value of a single-channel convolution and the numbers that make it.

    Attributes
    ----------
    row, col : int
        Output position.
    top, left : int
        Input position of the patch's top-left pixel.
    patch, kernel, products : torch.Tensor
        The (kH, kW) input patch, the kernel and their element-wise product.
    value : float
        The sum of ``products``: the output value at (row, col).
    """

    row: int
    col: int
    top: int
    left: int
    patch: torch.Tensor
    kernel: torch.Tensor
    products: torch.Tensor
    value: float


def multiply_add(image: torch.Tensor, kernel: torch.Tensor, row: int, col: int, stride: int = 1) -> MultiplyAdd:
    """The multiply-add that produces output (row, col) of a valid, single-channel convolution.

    Parameters
    ----------
    image : torch.Tensor
        (H, W) input.
    kernel : torch.Tensor
        (kH, kW) kernel, no larger than ``image``.
    row, col : int
        Output position, within the output's shape.
    stride : int
        Step between windows, at least 1.

    Returns
    -------
    MultiplyAdd
    """
    check_tensor("image", image, ndim=2)
    check_tensor("kernel", kernel, ndim=2)
    kh, kw = kernel.shape
    h_out = output_size(image.shape[0], kh, stride)
    w_out = output_size(image.shape[1], kw, stride)
    row = check_int("row", row, low=0, high=h_out - 1)
    col = check_int("col", col, low=0, high=w_out - 1)
    top, left = row * stride, col * stride
    patch = image[top:top + kh, left:left + kw]
    products = patch * kernel
    return MultiplyAdd(row, col, top, left, patch, kernel, products, float(products.sum()))


# Hand-set 3x3 filters, in the order the chapter adds them.
HAND_FILTERS: dict[str, list[list[float]]] = {
    "vertical edges": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "horizontal edges": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "diagonal edges ↘": [[-2, -1, 0], [-1, 0, 1], [0, 1, 2]],
    "diagonal edges ↗": [[0, 1, 2], [-1, 0, 1], [-2, -1, 0]],
    "blur": [[1 / 9] * 3] * 3,
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
}


def hand_filter(name: str) -> torch.Tensor:
    """One of the :data:`HAND_FILTERS` as a (3, 3) float32 tensor.

    Parameters
    ----------
    name : str
        A key of :data:`HAND_FILTERS`.
    """
    if name not in HAND_FILTERS:
        raise ValueError(f"name must be one of {list(HAND_FILTERS)}, got {name!r}")
    return torch.tensor(HAND_FILTERS[name], dtype=torch.float32)


def hand_filter_conv(n_filters: int, in_channels: int = 1) -> nn.Conv2d:
    """A real ``nn.Conv2d`` whose filters are the first ``n_filters`` of :data:`HAND_FILTERS`.

    Parameters
    ----------
    n_filters : int
        Number of filters, 1 to ``len(HAND_FILTERS)``.
    in_channels : int
        Input channels, 1 to 4. Each filter spans all of them: its kernel is
        repeated on every channel and divided by ``in_channels``, so a filter
        responds to the channel average.

    Returns
    -------
    torch.nn.Conv2d
        With weight shape (n_filters, in_channels, 3, 3), zero bias, padding 1.
    """
    n_filters = check_int("n_filters", n_filters, low=1, high=len(HAND_FILTERS))
    in_channels = check_int("in_channels", in_channels, low=1, high=4)
    conv = nn.Conv2d(in_channels, n_filters, kernel_size=3, padding=1)
    kernels = torch.tensor(list(HAND_FILTERS.values())[:n_filters], dtype=torch.float32)
    with torch.no_grad():
        conv.weight.copy_(kernels.unsqueeze(1).expand(-1, in_channels, -1, -1) / in_channels)
        conv.bias.zero_()
    return conv


def hand_filter_maps(image: torch.Tensor, n_filters: int) -> torch.Tensor:
    """Feature maps of ``image`` under the first ``n_filters`` hand-set filters.

    Parameters
    ----------
    image : torch.Tensor
        (C, H, W) image with 1 to 4 channels.
    n_filters : int
        1 to ``len(HAND_FILTERS)``.

    Returns
    -------
    torch.Tensor
        (n_filters, H, W): one map per filter (padding 1 keeps the size).
    """
    check_tensor("image", image, ndim=3)
    conv = hand_filter_conv(n_filters, in_channels=image.shape[0]).to(image.dtype)
    with torch.no_grad():
        return conv(image.unsqueeze(0))[0]


def input_gradient(layer: nn.Module, x: torch.Tensor, channel: int, row: int, col: int) -> torch.Tensor:
    """Gradient of one output value with respect to the input.

    Its non-zero entries are exactly the inputs that output depends on: the
    local receptive field, read off by back-propagation.

    Parameters
    ----------
    layer : torch.nn.Module
        Maps a (1, C, H, W) batch to a (1, C_out, H_out, W_out) batch.
    x : torch.Tensor
        (1, C, H, W) input batch.
    channel, row, col : int
        The output value, within the output's shape.

    Returns
    -------
    torch.Tensor
        Same shape as ``x``.
    """
    check_tensor("x", x, ndim=4)
    if x.shape[0] != 1:
        raise ValueError(f"x must be a batch of one image, got shape {tuple(x.shape)}")
    x = x.detach().clone().requires_grad_(True)
    out = layer(x)
    channel = check_int("channel", channel, low=0, high=out.shape[1] - 1)
    row = check_int("row", row, low=0, high=out.shape[2] - 1)
    col = check_int("col", col, low=0, high=out.shape[3] - 1)
    out[0, channel, row, col].backward()
    return x.grad.detach()
