"""What one convolutional layer computes: sliding windows, patches and filter banks.

Used by the chapter "What a convolutional layer computes".
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn

from .._checks import check_choice, check_count, check_int, check_side, check_tensor


def output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0) -> int:
    """Length of a convolution's output along one axis.

    Parameters
    ----------
    size : int
        Input length (height or width), 1 to :data:`~widgets._checks.MAX_SIDE`.
    kernel_size : int
        Kernel length, at least 1 and at most ``size + 2 * padding``.
    stride : int
        Step between windows, 1 to ``MAX_SIDE``.
    padding : int
        Zeros added on each side, 0 to ``MAX_SIDE``.

    Returns
    -------
    int
        ``(size + 2 * padding - kernel_size) // stride + 1``.
    """
    size = check_side("size", size)
    padding = check_side("padding", padding, low=0)
    kernel_size = check_int("kernel_size", kernel_size, low=1, high=size + 2 * padding)
    stride = check_side("stride", stride)
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


#: ITU-R 601 luma weights of red, green and blue: a filter that weighs the
#: channels this way sees only brightness.
LUMA = (0.299, 0.587, 0.114)


def _colour_filters() -> dict[str, torch.Tensor]:
    luma = torch.tensor(LUMA).view(3, 1, 1)
    blur = hand_filter("blur")
    zero = torch.zeros(3, 3)
    return {
        "vertical edges": luma * hand_filter("vertical edges"),
        "horizontal edges": luma * hand_filter("horizontal edges"),
        "red − green": torch.stack([blur, -blur, zero]),
        "blue − yellow": torch.stack([-blur / 2, -blur / 2, blur]),
        "blur": luma * blur,
        "brightness": luma * hand_filter("identity"),
    }


def colour_filter(name: str) -> torch.Tensor:
    """One of the :data:`COLOUR_FILTERS`: a (3, 3, 3) filter, one 3 x 3 kernel per colour channel.

    The edge, blur and brightness filters weigh the red, green and blue
    kernels by :data:`LUMA`, so they respond to brightness only; the two
    colour-opponent filters add one channel's local average and subtract
    another's, so they respond to colour and not at all to a gray image.

    Parameters
    ----------
    name : str
        A key of :data:`COLOUR_FILTERS`.
    """
    filters = _colour_filters()
    if name not in filters:
        raise ValueError(f"name must be one of {list(filters)}, got {name!r}")
    return filters[name]


#: Names of the per-channel filters of :func:`colour_filter`, in the order the chapter adds them.
COLOUR_FILTERS = tuple(_colour_filters())


def colour_filter_conv(n_filters: int, padding: int = 0) -> nn.Conv2d:
    """A real ``nn.Conv2d(3, n_filters, 3)`` whose filters are the first ``n_filters`` colour filters.

    Parameters
    ----------
    n_filters : int
        1 to ``len(COLOUR_FILTERS)``.
    padding : int
        Zeros added on each side, 0 or 1.

    Returns
    -------
    torch.nn.Conv2d
        Weight shape (n_filters, 3, 3, 3), zero bias.
    """
    n_filters = check_int("n_filters", n_filters, low=1, high=len(COLOUR_FILTERS))
    padding = check_int("padding", padding, low=0, high=1)
    conv = nn.Conv2d(3, n_filters, kernel_size=3, padding=padding)
    with torch.no_grad():
        conv.weight.copy_(torch.stack([colour_filter(n) for n in COLOUR_FILTERS[:n_filters]]))
        conv.bias.zero_()
    return conv


def colour_filter_maps(image: torch.Tensor, n_filters: int) -> torch.Tensor:
    """Feature maps of a three-channel image under the first ``n_filters`` colour filters, no padding.

    Parameters
    ----------
    image : torch.Tensor
        (3, H, W) image; a grayscale image enters as three equal channels.
    n_filters : int
        1 to ``len(COLOUR_FILTERS)``.

    Returns
    -------
    torch.Tensor
        (n_filters, H - 2, W - 2).
    """
    check_tensor("image", image, ndim=3)
    if image.shape[0] != 3:
        raise ValueError(f"image must have 3 channels, got shape {tuple(image.shape)}")
    conv = colour_filter_conv(n_filters).to(image.dtype)
    with torch.no_grad():
        return conv(image.unsqueeze(0))[0]


@dataclass(frozen=True)
class ChannelProducts:
    """One output value of a multi-channel convolution, channel by channel.

    Attributes
    ----------
    row, col : int
        Output position (valid convolution, stride 1).
    patches, kernels, products : torch.Tensor
        (C, kH, kW): the patch of each channel, the filter's kernel for it, their product.
    sums : torch.Tensor
        (C,): each channel's contribution.
    value : float
        The output value, the sum of ``sums``.
    """

    row: int
    col: int
    patches: torch.Tensor
    kernels: torch.Tensor
    products: torch.Tensor
    sums: torch.Tensor
    value: float


def channel_products(image: torch.Tensor, weight: torch.Tensor, row: int, col: int) -> ChannelProducts:
    """The per-channel multiply-adds that make output (row, col) of one filter on a multi-channel image.

    Parameters
    ----------
    image : torch.Tensor
        (C, H, W) input.
    weight : torch.Tensor
        (C, kH, kW) filter: one kernel per input channel.
    row, col : int
        Output position of the valid convolution.
    """
    check_tensor("image", image, ndim=3)
    check_tensor("weight", weight, ndim=3)
    if weight.shape[0] != image.shape[0]:
        raise ValueError(f"weight must have {image.shape[0]} kernels, one per channel of image, "
                         f"got shape {tuple(weight.shape)}")
    kh, kw = weight.shape[1:]
    row = check_int("row", row, low=0, high=output_size(image.shape[1], kh) - 1)
    col = check_int("col", col, low=0, high=output_size(image.shape[2], kw) - 1)
    patches = image[:, row:row + kh, col:col + kw]
    products = patches * weight
    sums = products.sum(dim=(1, 2))
    return ChannelProducts(row, col, patches, weight, products, sums, float(sums.sum()))


def border_ratio(feature_map: torch.Tensor, width: int = 1) -> float:
    """Mean absolute response on the outer ``width`` pixels of a map, over the mean inside.

    A ratio well above 1 on a photograph filtered by an edge detector with
    zero padding says the brightest "edges" are the frame of zeros, not the
    picture.

    Parameters
    ----------
    feature_map : torch.Tensor
        (H, W) map, larger than ``2 * width`` along both sides.
    width : int
        Width of the border, at least 1.
    """
    check_tensor("feature_map", feature_map, ndim=2)
    h, w = feature_map.shape
    width = check_int("width", width, low=1, high=(min(h, w) - 1) // 2)
    mags = feature_map.abs().double()
    inside = mags[width:h - width, width:w - width]
    border_mean = (mags.sum() - inside.sum()) / (mags.numel() - inside.numel())
    inside_mean = inside.mean()
    if inside_mean == 0:
        raise ValueError("feature_map must respond somewhere inside its border, got all zeros there")
    return float(border_mean / inside_mean)


@dataclass(frozen=True)
class BorderReport:
    """Where a feature map's border stands against its interior (:func:`border_report`).

    Attributes
    ----------
    ratio : float
        Mean absolute response on the one-pixel ring over the mean inside it (:func:`border_ratio`).
    sides : dict
        ``"left"``, ``"right"``, ``"top"``, ``"bottom"`` to that side's mean absolute response
        over the interior mean (the top and bottom rows without the corners).
    peak : (int, int)
        Position of the largest absolute response.
    peak_value : float
        That response.
    ring_in_top : dict
        ``k`` to how many of the ``k`` largest absolute responses lie on the ring.
    """

    ratio: float
    sides: dict
    peak: tuple
    peak_value: float
    ring_in_top: dict


def border_report(feature_map: torch.Tensor, top=(10, 50)) -> BorderReport:
    """How strongly the one-pixel ring of a map responds, side by side, and how many top responses it holds.

    Parameters
    ----------
    feature_map : torch.Tensor
        (H, W) map, at least 3 by 3, responding somewhere inside its ring.
    top : sequence of int
        Counts ``k`` (1 to H·W) for :attr:`BorderReport.ring_in_top`.
    """
    ratio = border_ratio(feature_map)
    if isinstance(top, (str, bytes)) or not hasattr(top, "__iter__"):
        raise ValueError(f"top must be a sequence of counts, got {top!r}")
    top = [check_int("top", k, low=1, high=feature_map.numel()) for k in top]
    mags = feature_map.detach().abs().double()
    inside = mags[1:-1, 1:-1].mean()
    sides = {"left": mags[:, 0].mean(), "right": mags[:, -1].mean(),
             "top": mags[0, 1:-1].mean(), "bottom": mags[-1, 1:-1].mean()}
    ring = torch.ones_like(mags, dtype=torch.bool)
    ring[1:-1, 1:-1] = False
    order = mags.flatten().argsort(descending=True)
    peak = divmod(int(order[0]), mags.shape[1])
    return BorderReport(ratio, {k: float(v / inside) for k, v in sides.items()}, peak,
                        float(feature_map[peak]), {k: int(ring.flatten()[order[:k]].sum()) for k in top})


def unread_rows(size: int, kernel_size: int, stride: int = 1, padding: int = 0) -> list[int]:
    """Input rows (or columns) that no window of a convolution reads.

    Window ``i`` covers padded positions ``stride * i`` to ``stride * i + kernel_size - 1``,
    that is input rows ``stride * i - padding`` onwards.

    Parameters
    ----------
    size, kernel_size, stride, padding : int
        As in :func:`output_size`.

    Returns
    -------
    list of int
        The unread input rows, 0 to ``size - 1``, in order.
    """
    n = output_size(size, kernel_size, stride, padding)
    read = torch.zeros(size, dtype=torch.bool)
    for i in range(n):
        start = stride * i - padding
        read[max(start, 0):max(start + kernel_size, 0)] = True
    return [int(r) for r in torch.nonzero(~read).flatten()]


def kernel_gradient(x: torch.Tensor, grad_output: torch.Tensor, kernel_size: int, stride: int = 1,
                    padding: int = 0) -> torch.Tensor:
    """The gradient of a loss with respect to a convolution's weights, written out.

    Entry (o, c, u, v) is the sum over output positions (i, j) and images of
    ``grad_output[o, i, j] * x[c, stride * i + u - padding, stride * j + v - padding]``:
    the input cross-correlated with the output's gradient (windows ``stride`` apart).

    Parameters
    ----------
    x : torch.Tensor
        (N, C, H, W) input of the layer.
    grad_output : torch.Tensor
        (N, O, H_out, W_out) gradient of the loss with respect to the layer's output.
    kernel_size, stride, padding : int
        The layer's, as in :class:`torch.nn.Conv2d` (square, the same on both axes).

    Returns
    -------
    torch.Tensor
        (O, C, kernel_size, kernel_size), what autograd puts in ``weight.grad``.
    """
    check_tensor("x", x, ndim=4)
    check_tensor("grad_output", grad_output, ndim=4)
    h_out = output_size(x.shape[2], kernel_size, stride, padding)
    w_out = output_size(x.shape[3], kernel_size, stride, padding)
    if grad_output.shape[0] != x.shape[0] or tuple(grad_output.shape[2:]) != (h_out, w_out):
        raise ValueError(f"grad_output must have shape ({x.shape[0]}, O, {h_out}, {w_out}) to match x, "
                         f"got {tuple(grad_output.shape)}")
    padded = nn.functional.pad(x, (padding,) * 4)
    # Images become the channels summed over; the output's gradient, dilated by the stride, is the kernel.
    full = nn.functional.conv2d(padded.transpose(0, 1), grad_output.transpose(0, 1).to(x.dtype),
                                dilation=stride)
    return full[:, :, :kernel_size, :kernel_size].transpose(0, 1)


def best_single_conv_error(model: nn.Module, x: torch.Tensor, kernel_size: int) -> float:
    """How well one convolution of ``kernel_size`` can reproduce ``model`` on ``x``.

    Fits the weights and biases of one ``Conv2d(C, O, kernel_size)`` (no padding,
    stride 1) to ``model(x)`` by least squares over every output position, and
    returns the relative error ``|y - fit| / |y - mean(y)|``: about 1e-7
    when a single convolution computes exactly what the model does.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``x`` to (N, O, H - kernel_size + 1, W - kernel_size + 1).
    x : torch.Tensor
        (N, C, H, W) input.
    kernel_size : int
        Side of the single convolution's kernel.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    check_tensor("x", x, ndim=4)
    kernel_size = check_int("kernel_size", kernel_size, low=1, high=min(x.shape[2:]))
    with torch.no_grad():
        y = model(x).double()
    side = (output_size(x.shape[2], kernel_size), output_size(x.shape[3], kernel_size))
    if y.ndim != 4 or tuple(y.shape[2:]) != side:
        raise ValueError(f"model must map x to maps of {side[0]} by {side[1]} (kernel_size {kernel_size}, "
                         f"no padding), got shape {tuple(y.shape)}")
    patches = nn.functional.unfold(x.double(), kernel_size).transpose(1, 2).reshape(-1, x.shape[1] * kernel_size ** 2)
    design = torch.cat([patches, torch.ones(len(patches), 1, dtype=torch.float64)], dim=1)
    targets = y.flatten(2).transpose(1, 2).reshape(-1, y.shape[1])
    solution = torch.linalg.lstsq(design, targets, driver="gelsd").solution
    residual = targets - design @ solution
    return float(residual.norm() / (targets - targets.mean(0)).norm())


def input_gradient(layer: nn.Module, x: torch.Tensor, channel: int, row: int, col: int) -> torch.Tensor:
    """Gradient of one output value with respect to the input.

    It is non-zero only at the inputs that output reads, and at all of them
    unless a weight is zero: the local receptive field, read off by
    back-propagation.

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


# --------------------------------------------------------------------------- learning a kernel


@dataclass(frozen=True)
class LearnedKernel:
    """A kernel recovered by gradient descent from input/output pairs (one run of :func:`kernel_study`).

    Attributes
    ----------
    initial, learned, target : torch.Tensor
        (k, k) kernels: the random start, the result of training, and the kernel that made the outputs.
    losses : list of float
        Mean squared error per epoch.
    epochs : int
        Steps of gradient descent taken.
    cpu_seconds : float
        CPU time of the run (its share of the seeds trained together).
    """

    initial: torch.Tensor
    learned: torch.Tensor
    target: torch.Tensor
    losses: list
    epochs: int
    cpu_seconds: float

    @property
    def error(self) -> float:
        """Largest absolute difference between the learned and the target kernel."""
        return float((self.learned - self.target).abs().max())

    @property
    def relative_error(self) -> float:
        """``|learned - target| / |target|``, Euclidean norms over all entries."""
        return float((self.learned - self.target).norm() / self.target.norm())

    @property
    def initial_error(self) -> float:
        """The same for the random start."""
        return float((self.initial - self.target).abs().max())


def kernel_pairs(target: torch.Tensor, n: int = 256, size: int = 16, seed: int = 0, scrambled: bool = False):
    """Input/output pairs of a hidden kernel: crops of the photograph and the kernel's valid response.

    Parameters
    ----------
    target : torch.Tensor
        (k, k) kernel that makes the outputs.
    n : int
        Number of pairs, at least 1.
    size : int
        Side of each crop, 4 to 64.
    seed : int
        Seed of the crop positions.
    scrambled : bool
        Crop a copy of the photograph whose pixels are shuffled by one fixed
        permutation (the same for every call): the same pixel values without
        the photograph's spatial structure.

    Returns
    -------
    (torch.Tensor, torch.Tensor)
        Inputs (n, 1, size, size) and outputs (n, 1, size - k + 1, size - k + 1).
    """
    from .data import photo

    check_tensor("target", target, ndim=2)
    n = check_count("n", n)
    size = check_int("size", size, low=max(4, *target.shape), high=64)
    g = torch.Generator().manual_seed(check_int("seed", seed, low=0))
    if not isinstance(scrambled, bool):
        raise ValueError(f"scrambled must be True or False, got {scrambled!r}")
    picture = photo(128, channels=1)[0]
    if scrambled:
        order = torch.randperm(picture.numel(), generator=torch.Generator().manual_seed(0))
        picture = picture.flatten()[order].view_as(picture)
    corners = torch.randint(0, 128 - size + 1, (n, 2), generator=g)
    inputs = torch.stack([picture[r:r + size, c:c + size] for r, c in corners.tolist()]).unsqueeze(1)
    with torch.no_grad():
        outputs = nn.functional.conv2d(inputs, target.view(1, 1, *target.shape))
    return inputs, outputs


def patch_gram(inputs: torch.Tensor, kernel_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues and eigenvectors of the mean outer product of every k x k patch of ``inputs``.

    The squared error of a kernel ``w`` learned from these inputs, less its
    minimum, is ``(w - w*)ᵀ G (w - w*)`` per output value: an eigenvector with
    a small eigenvalue is a change of the kernel the data barely notice.

    Parameters
    ----------
    inputs : torch.Tensor
        (N, 1, H, W) single-channel images.
    kernel_size : int
        Side k of the patches.

    Returns
    -------
    (torch.Tensor, torch.Tensor)
        Eigenvalues (k², ascending, float64) and eigenvectors as (k², k, k), in the same order.
    """
    check_tensor("inputs", inputs, ndim=4)
    if inputs.shape[1] != 1:
        raise ValueError(f"inputs must have one channel, got shape {tuple(inputs.shape)}")
    kernel_size = check_int("kernel_size", kernel_size, low=1, high=min(inputs.shape[2:]))
    patches = nn.functional.unfold(inputs.double(), kernel_size).transpose(1, 2).reshape(-1, kernel_size ** 2)
    values, vectors = torch.linalg.eigh(patches.T @ patches / len(patches))
    return values, vectors.T.reshape(-1, kernel_size, kernel_size)


def least_squares_kernel(inputs: torch.Tensor, outputs: torch.Tensor) -> torch.Tensor:
    """The (k, k) kernel that best maps ``inputs`` to ``outputs`` (valid, no bias), solved directly.

    Parameters
    ----------
    inputs : torch.Tensor
        (N, 1, H, W).
    outputs : torch.Tensor
        (N, 1, H - k + 1, W - k + 1), which fixes k.

    Returns
    -------
    torch.Tensor
        (k, k) float64.
    """
    check_tensor("inputs", inputs, ndim=4)
    check_tensor("outputs", outputs, ndim=4)
    if inputs.shape[1] != 1 or outputs.shape[:2] != (inputs.shape[0], 1):
        raise ValueError(f"inputs and outputs must be (N, 1, ...) with the same N, got {tuple(inputs.shape)} "
                         f"and {tuple(outputs.shape)}")
    k = inputs.shape[2] - outputs.shape[2] + 1
    if k < 1 or inputs.shape[3] - outputs.shape[3] + 1 != k:
        raise ValueError(f"outputs must be a valid convolution's output of inputs with a square kernel, got "
                         f"{tuple(outputs.shape)} from {tuple(inputs.shape)}")
    patches = nn.functional.unfold(inputs.double(), k).transpose(1, 2).reshape(-1, k * k)
    solution = torch.linalg.lstsq(patches, outputs.double().reshape(-1, 1), driver="gelsd").solution
    return solution.view(k, k)


@dataclass(frozen=True)
class KernelStudy:
    """A hidden kernel learned by gradient descent over several seeds, and why what is left is left.

    Made by :func:`kernel_study`. Full-batch gradient descent on the mean squared
    error changes the error ``e = w - w*`` by ``e <- (I - 2 lr G) e`` each step,
    ``G`` the patches' Gram matrix (:func:`patch_gram`), so along the eigenvector
    with eigenvalue ``λ`` the error is multiplied by ``(1 - 2 lr λ)`` per step.

    Attributes
    ----------
    runs : tuple of LearnedKernel
        One per seed, on crops of the photograph.
    control : tuple of LearnedKernel
        The same seeds on crops of the pixel-shuffled photograph (empty if not asked for).
    directions : torch.Tensor
        (flat, k, k) eigenvectors of the photograph's patch Gram matrix with the ``flat``
        smallest eigenvalues, the smallest first.
    values : torch.Tensor
        All k² eigenvalues of that Gram matrix, ascending (float64).
    spread, control_spread : float
        Largest over smallest eigenvalue of the Gram matrix, photograph and shuffled pixels.
    along : tuple of float
        For each run, the share of its squared error ``|learned - target|²`` in the span of ``directions``.
    lstsq_error : float
        Largest entry error of the kernel solved directly by least squares.
    lr : float
        The learning rate.
    predicted : torch.Tensor
        (flat,) the factor ``(1 - 2 lr λ)^epochs`` by which the error along each of
        ``directions`` should shrink.
    measured : torch.Tensor
        (seeds, flat) the factor by which it did shrink: the error's component
        along each direction after training over the same at the start.
    """

    runs: tuple
    control: tuple
    directions: torch.Tensor
    values: torch.Tensor
    spread: float
    control_spread: float
    along: tuple
    lstsq_error: float
    lr: float
    predicted: torch.Tensor
    measured: torch.Tensor


def _descend(target: torch.Tensor, starts: torch.Tensor, inputs: torch.Tensor, outputs: torch.Tensor,
             lr: float, epochs: int) -> list:
    """Full-batch gradient descent from each of ``starts`` (S, k, k) towards ``target``, all seeds at once."""
    k = target.shape[0]
    t0 = time.process_time()
    # Every k x k patch as a row (im2col): the convolution is patches @ kernel.
    patches = nn.functional.unfold(inputs.double(), k).transpose(1, 2).reshape(-1, k * k)
    responses = outputs.double().reshape(-1, 1)
    w = starts.double().flatten(1).T.clone()       # (k², S): one column per seed
    # The mean squared error is wᵀGw - 2bᵀw + c, so each step needs only these k² x k²
    # numbers, not a pass over every patch (nor memory for one).
    n = len(patches)
    gram, b, c = patches.T @ patches / n, patches.T @ responses / n, float(responses.square().mean())
    losses = []
    for _ in range(epochs):
        gw = gram @ w
        losses.append((w * gw).sum(dim=0) - 2 * (b * w).sum(dim=0) + c)   # each seed's mean squared error
        w -= lr * 2 * (gw - b)                                             # its gradient, 2 (Gw - b)
    losses = torch.stack(losses).T.tolist()
    learned = w.T.reshape(-1, k, k).float()
    seconds = (time.process_time() - t0) / len(starts)
    return [LearnedKernel(s.float().clone(), w_, target.clone(), loss, epochs, seconds)
            for s, w_, loss in zip(starts, learned, losses)]


def kernel_study(target: torch.Tensor, seeds, control: bool = True, flat: int = 3,
                 epochs: int = 960, lr: float = 0.5, start: str = "random") -> KernelStudy:
    """Learn ``target`` from :func:`kernel_pairs` by full-batch gradient descent, one run per seed.

    Each run starts from a kernel of standard normal entries drawn with its seed
    (``start="random"``) or from zero (``start="zero"``, the same for every seed),
    and takes ``epochs`` steps of plain gradient descent on the mean squared error
    over all 256 pairs at once, learning rate ``lr``. The study also measures the
    patches' Gram matrix, and predicts and measures the decay along its flattest
    directions.

    Parameters
    ----------
    target : torch.Tensor
        (k, k) hidden kernel.
    seeds : sequence of int
        At least one seed.
    control : bool
        Also learn it from the pixel-shuffled photograph (``scrambled=True``).
    flat : int
        How many of the least-constrained directions :attr:`KernelStudy.along` measures, 1 to k².
    epochs : int
        Steps of gradient descent (each reads every pair once), 1 to 100,000.
    lr : float
        Learning rate, positive and below ``1 / λ_max`` of the photograph's Gram
        matrix (about 0.63), where every direction's error shrinks.
    start : str
        ``"random"`` or ``"zero"``.
    """
    check_tensor("target", target, ndim=2)
    seeds = list(seeds) if not isinstance(seeds, (str, bytes)) and hasattr(seeds, "__iter__") else None
    if not seeds:
        raise ValueError("seeds must be a non-empty sequence of seeds")
    seeds = [check_int("seeds", s, low=0) for s in seeds]
    if not isinstance(control, bool):
        raise ValueError(f"control must be True or False, got {control!r}")
    flat = check_int("flat", flat, low=1, high=target.numel())
    epochs = check_int("epochs", epochs, low=1, high=100_000)
    start = check_choice("start", start, ("random", "zero"))
    crops, responses = kernel_pairs(target)
    values, vectors = patch_gram(crops, target.shape[0])
    limit = float(1 / values[-1])
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr < limit:
        raise ValueError(f"lr must be a number between 0 and 1 / λ_max = {limit:.3f}, got {lr!r}")
    if start == "random":
        starts = torch.stack([torch.randn(*target.shape, generator=torch.Generator().manual_seed(s))
                              for s in seeds])
    else:
        starts = torch.zeros(len(seeds), *target.shape)
    runs = tuple(_descend(target, starts, crops, responses, float(lr), epochs))
    shuffled_crops, shuffled_responses = kernel_pairs(target, scrambled=True)
    control_values, _ = patch_gram(shuffled_crops, target.shape[0])
    shuffled = tuple(_descend(target, starts, shuffled_crops, shuffled_responses, float(lr), epochs)
                     ) if control else ()
    basis = vectors[:flat].flatten(1)   # orthonormal rows
    along = tuple(float((basis @ (r.learned - r.target).flatten().double()).square().sum()
                        / (r.learned - r.target).double().square().sum()) for r in runs)
    before = torch.stack([(r.initial - r.target).flatten().double() for r in runs]) @ basis.T
    after = torch.stack([(r.learned - r.target).flatten().double() for r in runs]) @ basis.T
    predicted = (1 - 2 * float(lr) * values[:flat]) ** epochs
    solved = least_squares_kernel(crops, responses)
    return KernelStudy(runs, shuffled, vectors[:flat], values, float(values[-1] / values[0]),
                       float(control_values[-1] / control_values[0]), along,
                       float((solved - target.double()).abs().max()), float(lr), predicted, after / before)


@dataclass(frozen=True)
class NoisyFit:
    """Kernels solved by least squares from targets with added noise (:func:`noisy_least_squares`).

    Attributes
    ----------
    errors : tuple of float
        Largest entry error of each seed's kernel.
    along : tuple of float
        Share of each kernel's squared error in the span of the ``flat`` least-constrained directions.
    chance : float
        The share a random error direction would have: ``flat / k²``.
    """

    errors: tuple
    along: tuple
    chance: float


def noisy_least_squares(target: torch.Tensor, noise: float, seeds, flat: int = 3) -> NoisyFit:
    """Solve for ``target`` from :func:`kernel_pairs` whose outputs carry Gaussian noise.

    With noise the data no longer pin the kernel down: least squares' error
    along an eigenvector of the patches' Gram matrix has variance proportional
    to one over its eigenvalue, so it concentrates in the least-constrained
    directions.

    Parameters
    ----------
    target : torch.Tensor
        (k, k) hidden kernel.
    noise : float
        Standard deviation of the noise as a fraction of the outputs' standard deviation, positive.
    seeds : sequence of int
        Seeds of the noise, at least one.
    flat : int
        How many least-constrained directions to measure, 1 to k².
    """
    check_tensor("target", target, ndim=2)
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not 0 < noise < float("inf"):
        raise ValueError(f"noise must be a positive finite number, got {noise!r}")
    seeds = list(seeds) if not isinstance(seeds, (str, bytes)) and hasattr(seeds, "__iter__") else None
    if not seeds:
        raise ValueError("seeds must be a non-empty sequence of seeds")
    flat = check_int("flat", flat, low=1, high=target.numel())
    crops, responses = kernel_pairs(target)
    basis = patch_gram(crops, target.shape[0])[1][:flat].flatten(1)
    scale = float(responses.double().std())
    errors, along = [], []
    for seed in seeds:
        g = torch.Generator().manual_seed(check_int("seed", seed, low=0))
        noisy = responses.double() + noise * scale * torch.randn(responses.shape, generator=g, dtype=torch.float64)
        wrong = (least_squares_kernel(crops, noisy) - target.double()).flatten()
        errors.append(float(wrong.abs().max()))
        along.append(float((basis @ wrong).square().sum() / wrong.square().sum()))
    return NoisyFit(tuple(errors), tuple(along), flat / target.numel())


def stacked_pair_errors(x: torch.Tensor, seed: int, channels: int = 8) -> tuple[float, float]:
    """How well one 5 x 5 convolution reproduces two random 3 x 3 layers, without and with a ReLU between.

    Both layers are ``Conv2d`` with PyTorch's default initialisation, drawn
    with ``seed`` (the global generator is left as it was).

    Parameters
    ----------
    x : torch.Tensor
        (N, C, H, W) input, H and W at least 5.
    seed : int
        Seed of the two layers' weights.
    channels : int
        Channels of both layers' outputs, at least 1.

    Returns
    -------
    (float, float)
        :func:`best_single_conv_error` of the linear pair and of the pair with a ReLU.
    """
    check_tensor("x", x, ndim=4)
    seed = check_int("seed", seed, low=0)
    channels = check_count("channels", channels)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        first = nn.Conv2d(x.shape[1], channels, kernel_size=3).to(x.dtype)
        second = nn.Conv2d(channels, channels, kernel_size=3).to(x.dtype)
    linear = best_single_conv_error(nn.Sequential(first, second), x, kernel_size=5)
    relu = best_single_conv_error(nn.Sequential(first, nn.ReLU(), second), x, kernel_size=5)
    return linear, relu


# --------------------------------------------------------------------------- gradients through max pooling


def pool_gradient(x: torch.Tensor, upstream: torch.Tensor, kernel_size: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """Max-pool an (H, W) array and send a gradient back through the pooling.

    Parameters
    ----------
    x : torch.Tensor
        (H, W) input.
    upstream : torch.Tensor
        Gradient of some loss with respect to the pooled output, shape (H // k, W // k).
    kernel_size : int
        Side of the pooling window (stride equal to it), at least 1.

    Returns
    -------
    (torch.Tensor, torch.Tensor)
        The pooled output and the gradient with respect to ``x``: each
        window's upstream value lands on the one input that won the window,
        and every other input gets zero (the routing mask).
    """
    check_tensor("x", x, ndim=2)
    check_tensor("upstream", upstream, ndim=2)
    kernel_size = check_int("kernel_size", kernel_size, low=1, high=min(x.shape))
    shape = (x.shape[0] // kernel_size, x.shape[1] // kernel_size)
    if tuple(upstream.shape) != shape:
        raise ValueError(f"upstream must have shape {shape}, got {tuple(upstream.shape)}")
    x = x.detach().clone().requires_grad_(True)
    pooled = nn.functional.max_pool2d(x[None, None], kernel_size)[0, 0]
    pooled.backward(upstream)
    return pooled.detach(), x.grad.detach()
