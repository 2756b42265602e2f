"""Sparse interactions: which inputs each output unit is wired to, and at what cost.

Used by the chapters "Local connectivity" and "Parameter sharing", and by the
closing chapter's locally connected network.
"""

from __future__ import annotations

import torch
from torch import nn

from .._checks import check_count, check_elements, check_int, check_side
from .conv_layer import output_size


class LocallyConnected2d(nn.Module):
    """A convolution without weight sharing: a separate kernel at every output position.

    Like :class:`torch.nn.Conv2d` it connects each output unit to one
    ``kernel_size`` x ``kernel_size`` patch spanning all input channels, but the
    weights of the patch belong to that output position alone. It must
    therefore know the input size when it is built.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels in and out, at least 1.
    input_size : int or (int, int)
        Height and width of the inputs it will see.
    kernel_size : int
        Side of each square kernel, at least 1 and at most the padded input.
    stride : int
        Step between patches, at least 1.
    padding : int
        Zeros added on each side, at least 0.
    bias : bool
        One bias per output unit (channel and position), as in Keras.
    device, dtype
        Passed to the parameters; ``device="meta"`` builds a layer of any size
        without allocating memory, for counting.

    Attributes
    ----------
    weight : torch.nn.Parameter
        Shape (out_h, out_w, out_channels, in_channels, kernel_size, kernel_size).
    bias : torch.nn.Parameter or None
        Shape (out_channels, out_h, out_w).
    """

    def __init__(self, in_channels: int, out_channels: int, input_size, kernel_size: int,
                 stride: int = 1, padding: int = 0, bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.in_channels = check_count("in_channels", in_channels)
        self.out_channels = check_count("out_channels", out_channels)
        height, width = _pair("input_size", input_size)
        self.input_size = (height, width)
        self.padding = check_side("padding", padding, low=0)
        self.kernel_size = check_int("kernel_size", kernel_size, low=1,
                                     high=min(height, width) + 2 * self.padding)
        self.stride = check_side("stride", stride)
        if not isinstance(bias, bool):
            raise ValueError(f"bias must be True or False, got {bias!r}")
        self.output_size = (output_size(height, self.kernel_size, self.stride, self.padding),
                            output_size(width, self.kernel_size, self.stride, self.padding))
        out_h, out_w = self.output_size
        k = self.kernel_size
        factory = {"device": device, "dtype": dtype}
        if torch.device(device or "cpu").type != "meta":
            check_elements("weight", (out_h, out_w, out_channels, in_channels, k, k))
        self.weight = nn.Parameter(torch.empty(out_h, out_w, out_channels, in_channels, k, k, **factory))
        self.bias = nn.Parameter(torch.empty(out_channels, out_h, out_w, **factory)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Initialise like ``Conv2d``: uniform in ±1/sqrt(fan_in), fan_in = in_channels·k²."""
        if self.weight.is_meta:
            return
        bound = 1.0 / (self.in_channels * self.kernel_size ** 2) ** 0.5
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Each output unit's own weights applied to its patch of ``x`` (N, C, H, W), plus its bias."""
        if not isinstance(x, torch.Tensor):
            raise ValueError(f"x must be a torch.Tensor, got {type(x).__name__}")
        if x.ndim != 4 or x.shape[1] != self.in_channels or tuple(x.shape[2:]) != self.input_size:
            raise ValueError(f"x must have shape (N, {self.in_channels}, {self.input_size[0]}, "
                             f"{self.input_size[1]}), got {tuple(x.shape)}")
        out_h, out_w = self.output_size
        # (N, C·k·k, L): one column per output position, L = out_h·out_w.
        cols = nn.functional.unfold(x, self.kernel_size, padding=self.padding, stride=self.stride)
        weight = self.weight.reshape(out_h * out_w, self.out_channels, -1)  # (L, O, C·k·k)
        # One matrix product per position, on contiguous operands: (L, N, C·k·k) @ (L, C·k·k, O).
        # (An einsum over the strided views computes the same, several times slower.)
        out = torch.bmm(cols.permute(2, 0, 1).contiguous(), weight.transpose(1, 2).contiguous())
        out = out.permute(1, 2, 0).reshape(x.shape[0], self.out_channels, out_h, out_w)
        if self.bias is not None:
            out = out + self.bias
        return out

    @classmethod
    def from_conv(cls, conv: nn.Conv2d, input_size) -> LocallyConnected2d:
        """A locally connected layer whose kernels are all copies of ``conv``'s.

        It computes exactly what ``conv`` computes: a convolution is a locally
        connected layer whose kernels are constrained to be equal.
        """
        if not isinstance(conv, nn.Conv2d):
            raise ValueError(f"conv must be a torch.nn.Conv2d, got {type(conv).__name__}")
        k, s, p = conv.kernel_size, conv.stride, conv.padding
        if k[0] != k[1] or s[0] != s[1] or p[0] != p[1] or conv.dilation != (1, 1) or conv.groups != 1:
            raise ValueError("conv must have square kernels, equal strides and padding, no dilation "
                             f"and one group, got kernel_size={k}, stride={s}, padding={p}, "
                             f"dilation={conv.dilation}, groups={conv.groups}")
        layer = cls(conv.in_channels, conv.out_channels, input_size, k[0], s[0], p[0],
                    bias=conv.bias is not None, dtype=conv.weight.dtype)
        with torch.no_grad():
            layer.weight.copy_(conv.weight.expand(*layer.output_size, *conv.weight.shape))
            if conv.bias is not None:
                layer.bias.copy_(conv.bias.view(-1, 1, 1).expand_as(layer.bias))
        return layer


def _pair(name, value) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
        return check_side(name, value[0]), check_side(name, value[1])
    value = check_side(name, value)
    return value, value


def dense_layer(input_shape, output_shape, device=None) -> nn.Sequential:
    """A fully connected layer between image-shaped tensors.

    Flattens a (N, C, H, W) batch, applies ``nn.Linear`` and reshapes the
    result to (N, *output_shape), so it can stand beside a convolution with
    the same input and output shapes.

    Parameters
    ----------
    input_shape, output_shape : (int, int, int)
        (C, H, W) in and out.
    device
        ``"meta"`` builds it of any size without allocating memory.
    """
    c, h, w = _triple("input_shape", input_shape)
    oc, oh, ow = _triple("output_shape", output_shape)
    if torch.device(device or "cpu").type != "meta":
        check_elements("the weight matrix", (oc * oh * ow, c * h * w))
    return nn.Sequential(nn.Flatten(), nn.Linear(c * h * w, oc * oh * ow, device=device),
                         nn.Unflatten(1, (oc, oh, ow)))


def _triple(name, value) -> tuple[int, int, int]:
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        raise ValueError(f"{name} must be (C, H, W), got {value!r}")
    return check_count(name, value[0]), check_side(name, value[1]), check_side(name, value[2])


def layer_trio(in_channels: int, image_size: int, out_channels: int, kernel_size: int,
               device=None) -> dict[str, nn.Module]:
    """A dense, a locally connected and a convolutional layer with the same input and output shapes.

    All three map a (N, in_channels, image_size, image_size) batch to
    (N, out_channels, s, s) with s = image_size − kernel_size + 1 (no padding,
    stride 1). Build them on ``device="meta"`` to count any size for free.

    Returns
    -------
    dict
        ``{"dense": ..., "locally connected": ..., "convolution": ...}``.
    """
    in_channels = check_int("in_channels", in_channels, low=1)
    image_size = check_int("image_size", image_size, low=1)
    out_channels = check_int("out_channels", out_channels, low=1)
    kernel_size = check_int("kernel_size", kernel_size, low=1, high=image_size)
    in_channels, out_channels = check_count("in_channels", in_channels), check_count("out_channels", out_channels)
    side = output_size(image_size, kernel_size)
    return {
        "dense": dense_layer((in_channels, image_size, image_size), (out_channels, side, side), device=device),
        "locally connected": LocallyConnected2d(in_channels, out_channels, image_size, kernel_size, device=device),
        "convolution": nn.Conv2d(in_channels, out_channels, kernel_size, device=device),
    }


def layer_counts(in_channels: int, image_size: int, out_channels: int, kernel_size: int) -> dict[str, dict[str, int]]:
    """Parameters and connections of :func:`layer_trio`, counted on real (meta-device) modules.

    A connection is one (input, output unit) pair joined by a weight; each costs
    one multiply-add per image. For the convolution it is the number of output
    positions times the weights of one position, since every position reuses
    the same kernel.

    Returns
    -------
    dict
        Layer name to ``{"parameters", "weights", "connections", "multiply_adds"}``.
    """
    layers = layer_trio(in_channels, image_size, out_channels, kernel_size, device="meta")
    x = torch.empty(1, in_channels, image_size, image_size, device="meta")
    counts = {}
    for name, layer in layers.items():
        out = layer(x)
        weights = sum(p.numel() for n, p in layer.named_parameters() if n.endswith("weight"))
        positions = out.shape[2] * out.shape[3] if isinstance(layer, nn.Conv2d) else 1
        counts[name] = {"parameters": parameters_held(layer), "weights": weights,
                        "connections": weights * positions, "multiply_adds": weights * positions,
                        "outputs": out[0].numel()}
    return counts


def closed_form_counts(in_channels: int, image_size: int, out_channels: int,
                       kernel_size: int) -> dict[str, dict[str, int]]:
    """The same numbers as :func:`layer_counts`, from formulas.

    With m = C·H·W inputs, n = O·H'·W' outputs and K = C·k² inputs per patch:
    dense has m·n weights and connections; locally connected n·K of each;
    the convolution O·K weights but n·K connections. Biases: n, n and O.
    """
    in_channels, out_channels = check_count("in_channels", in_channels), check_count("out_channels", out_channels)
    image_size = check_side("image_size", image_size)
    m = in_channels * image_size ** 2
    side = output_size(image_size, kernel_size)
    n = out_channels * side * side
    patch = in_channels * kernel_size ** 2
    return {
        "dense": {"parameters": m * n + n, "weights": m * n, "connections": m * n,
                  "multiply_adds": m * n, "outputs": n},
        "locally connected": {"parameters": n * patch + n, "weights": n * patch, "connections": n * patch,
                              "multiply_adds": n * patch, "outputs": n},
        "convolution": {"parameters": out_channels * patch + out_channels, "weights": out_channels * patch,
                        "connections": n * patch, "multiply_adds": n * patch, "outputs": n},
    }


def connected_inputs(layer: nn.Module, input_shape, channel: int, row: int, col: int) -> torch.Tensor:
    """Which inputs one output unit of ``layer`` is connected to, read off by back-propagation.

    The unit's gradient with respect to the input is non-zero exactly where a
    weight connects them (with random weights, no weight is exactly zero).

    Parameters
    ----------
    layer : torch.nn.Module
        Maps a (1, C, H, W) batch to a (1, C_out, H_out, W_out) batch (for a
        dense layer, use :func:`dense_layer`).
    input_shape : (int, int, int)
        (C, H, W) of the input.
    channel, row, col : int
        The output unit.

    Returns
    -------
    torch.Tensor
        Boolean (C, H, W) mask of the connected inputs.
    """
    if not isinstance(layer, nn.Module):
        raise ValueError(f"layer must be a torch.nn.Module, got {type(layer).__name__}")
    shape = _triple("input_shape", input_shape)
    check_elements("input_shape", shape)
    x = torch.rand(1, *shape, generator=torch.Generator().manual_seed(0)).requires_grad_(True)
    out = layer(x)
    if out.ndim != 4:
        raise ValueError(f"layer must return a (1, C, H, W) batch, got shape {tuple(out.shape)}")
    channel = check_int("channel", channel, low=0, high=out.shape[1] - 1)
    row = check_int("row", row, low=0, high=out.shape[2] - 1)
    col = check_int("col", col, low=0, high=out.shape[3] - 1)
    out[0, channel, row, col].backward()
    return x.grad[0] != 0


def unit_weights(layers: dict[str, nn.Module], channel: int, row: int, col: int) -> dict[str, torch.Tensor]:
    """The weights one output unit uses in each layer of :func:`layer_trio` (first input channel).

    Returns
    -------
    dict
        ``"dense"``: (H, W), one weight per input pixel; ``"locally connected"``:
        the (k, k) kernel that belongs to this position; ``"convolution"``: the
        (k, k) kernel every position shares.
    """
    kinds = {"convolution": nn.Conv2d, "locally connected": LocallyConnected2d, "dense": nn.Sequential}
    if not isinstance(layers, dict) or any(not isinstance(layers.get(k), t) for k, t in kinds.items()):
        raise ValueError(f"layers must be a dict of layer_trio's layers {list(kinds)}, got {layers!r:.80}")
    conv, local, dense = layers["convolution"], layers["locally connected"], layers["dense"]
    if len(dense) < 2 or not isinstance(dense[1], nn.Linear):
        raise ValueError(f"layers['dense'] must be a dense_layer (Flatten, Linear, Unflatten), got {dense!r:.80}")
    out_h, out_w = local.output_size
    channel = check_int("channel", channel, low=0, high=conv.out_channels - 1)
    row = check_int("row", row, low=0, high=out_h - 1)
    col = check_int("col", col, low=0, high=out_w - 1)
    height, width = local.input_size
    linear = dense[1]
    unit = (channel * out_h + row) * out_w + col
    return {
        "dense": linear.weight.detach()[unit].view(-1, height, width)[0],
        "locally connected": local.weight.detach()[row, col, channel, 0],
        "convolution": conv.weight.detach()[channel, 0],
    }


def seven() -> torch.Tensor:
    """A 4 x 4 image of the digit seven (1 = ink), for the four-region example."""
    return torch.tensor([[1.0, 1.0, 1.0, 1.0],
                         [0.0, 0.0, 1.0, 0.0],
                         [0.0, 1.0, 0.0, 0.0],
                         [0.0, 1.0, 0.0, 0.0]])


def parameters_held(module: nn.Module) -> int:
    """Numbers ``module`` stores as parameters, trainable or frozen (works on the meta device).

    This is the size of a layer's parameter storage, the quantity the chapters
    on locality and sharing compare; ``trained_networks.trainable_parameters``
    counts only the trainable ones.
    """
    if not isinstance(module, nn.Module):
        raise ValueError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    return sum(p.numel() for p in module.parameters())


def position_kernels(layer: nn.Module, input_size: int | None = None) -> torch.Tensor:
    """The kernel each output position of a one-filter, one-channel layer uses.

    Parameters
    ----------
    layer : LocallyConnected2d or torch.nn.Conv2d
        With one input and one output channel.
    input_size : int, optional
        Side of the square input; needed for a ``Conv2d`` (to know how many
        positions it has), ignored for a ``LocallyConnected2d``.

    Returns
    -------
    torch.Tensor
        (out_h, out_w, kH, kW): a different kernel per position for a locally
        connected layer, the same kernel repeated for a convolution.
    """
    if isinstance(layer, LocallyConnected2d):
        if layer.in_channels != 1 or layer.out_channels != 1:
            raise ValueError(f"layer must have one input and one output channel, got "
                             f"{layer.in_channels} and {layer.out_channels}")
        return layer.weight.detach()[:, :, 0, 0].clone()
    if isinstance(layer, nn.Conv2d):
        if layer.in_channels != 1 or layer.out_channels != 1:
            raise ValueError(f"layer must have one input and one output channel, got "
                             f"{layer.in_channels} and {layer.out_channels}")
        size = check_side("input_size", input_size)
        out_h, out_w = (output_size(size, k, s, p) for k, s, p in
                        zip(layer.kernel_size, layer.stride, layer.padding))
        return layer.weight.detach()[0, 0].expand(out_h, out_w, -1, -1).clone()
    raise ValueError(f"layer must be a LocallyConnected2d or a torch.nn.Conv2d, got {type(layer).__name__}")


# --------------------------------------------------------------------------- what locality assumes, and what it costs


def neighbour_correlation(image: torch.Tensor, distances) -> dict[str, torch.Tensor]:
    """Correlation between pixels ``d`` apart, across and down an image, for each distance ``d``.

    Parameters
    ----------
    image : torch.Tensor
        (H, W) image.
    distances : sequence of int
        Each at least 1 and less than both sides.

    Returns
    -------
    dict
        ``"across"`` (pairs in one row) and ``"down"`` (pairs in one column) to
        (len(distances),) float64 tensors of Pearson correlations.
    """
    if not isinstance(image, torch.Tensor) or image.ndim != 2:
        raise ValueError(f"image must be a 2-D torch.Tensor, got {getattr(image, 'shape', type(image).__name__)}")
    if isinstance(distances, (str, bytes)) or not hasattr(distances, "__iter__"):
        raise ValueError(f"distances must be a sequence of ints, got {distances!r}")
    distances = [check_int("distances", d, low=1, high=min(image.shape) - 1) for d in distances]
    if not distances:
        raise ValueError("distances must hold at least one distance")
    image = image.double()

    def corr(a, b):
        a, b = a - a.mean(), b - b.mean()
        return float((a * b).sum() / (a.norm() * b.norm()))

    return {"across": torch.tensor([corr(image[:, :-d], image[:, d:]) for d in distances], dtype=torch.float64),
            "down": torch.tensor([corr(image[:-d], image[d:]) for d in distances], dtype=torch.float64)}


#: Targets of :func:`locality_study`: a map every output of which depends on its 3 x 3 patch
#: (a vertical-edge kernel), and one that depends on the whole crop (each pixel minus the crop's mean).
STUDY_TARGETS = ("edge", "pixel minus mean")

#: The layers :func:`locality_study` fits, as in :func:`layer_trio`.
STUDY_LAYERS = ("dense", "locally connected", "convolution")

#: Inputs of :func:`locality_study`: the photograph's crops, the same crops with their pixels scrambled, or white noise.
STUDY_INPUTS = ("photo", "scrambled", "noise")


def _crops(n: int, seed: int, size: int = 16) -> torch.Tensor:
    from .data import photo

    picture = photo(128, channels=1)[0].double()
    g = torch.Generator().manual_seed(seed)
    corners = torch.randint(0, 128 - size + 1, (n, 2), generator=g)
    return torch.stack([picture[r:r + size, c:c + size] for r, c in corners.tolist()]).unsqueeze(1)


def _noise(n: int, seed: int, size: int = 16) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, size, size, generator=g, dtype=torch.float64)


def crop_components(n: int = 1024, share: float = 0.99, seed: int = 0) -> int:
    """How many principal components hold ``share`` of the variance of ``n`` 16 x 16 crops of the photograph.

    The crops are those of :func:`locality_study` (drawn with ``seed``); out of
    256 pixel dimensions, a small count means the crops are low-dimensional.
    """
    n = check_int("n", n, low=2, high=4096)
    seed = check_int("seed", seed, low=0, high=9_999)
    if not isinstance(share, (int, float)) or not 0 < share < 1:
        raise ValueError(f"share must be a number strictly between 0 and 1, got {share!r}")
    x = _crops(n, seed).flatten(1)
    power = torch.linalg.svdvals(x - x.mean(0)) ** 2
    return int((power.cumsum(0) / power.sum() < share).sum()) + 1


def _target(x: torch.Tensor, target: str) -> torch.Tensor:
    if target == "edge":
        kernel = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=x.dtype)
        return nn.functional.conv2d(x, kernel.view(1, 1, 3, 3))
    return x[:, :, 1:-1, 1:-1] - x.mean(dim=(2, 3), keepdim=True)


def _with_ones(a: torch.Tensor) -> torch.Tensor:
    return torch.cat([a, torch.ones(*a.shape[:-1], 1, dtype=a.dtype)], dim=-1)


def _fit_predict(layer: str, x: torch.Tensor, y: torch.Tensor, x_test: torch.Tensor) -> torch.Tensor:
    """Least-squares weights and biases of ``layer`` (minimum norm when underdetermined), applied to x_test."""
    shape = (len(x_test), *y.shape[1:])
    if layer == "dense":
        w = torch.linalg.lstsq(_with_ones(x.flatten(1)), y.flatten(1), driver="gelsd").solution
        return (_with_ones(x_test.flatten(1)) @ w).view(shape)
    patches, test_patches = (_with_ones(nn.functional.unfold(a, 3).transpose(1, 2)) for a in (x, x_test))
    if layer == "locally connected":   # one small problem per output position
        w = torch.linalg.lstsq(patches.transpose(0, 1), y.flatten(1).T[..., None], driver="gelsd").solution
        return (test_patches.transpose(0, 1) @ w)[..., 0].T.reshape(shape)
    w = torch.linalg.lstsq(patches.reshape(-1, patches.shape[-1]), y.flatten(1).reshape(-1, 1),
                           driver="gelsd").solution
    return (test_patches @ w).view(shape)


def locality_study(target: str, sizes, seeds, test_size: int = 256,
                   inputs: str = "photo") -> dict[str, dict[int, list[float]]]:
    """How well a dense, a locally connected and a convolutional layer learn ``target`` from few examples.

    Each layer maps 16 x 16 crops of the grayscale photograph to 14 x 14 maps
    (3 x 3 kernels for the local two) and is fitted by least squares, exactly,
    to ``n`` training crops drawn with each seed (the minimum-norm solution
    when the crops do not determine the weights). Its error is measured on
    ``test_size`` other crops (drawn with seed 10,000) as the share of the
    target's variance left unexplained: 0 is perfect, 1 is no better than
    predicting the mean.

    Parameters
    ----------
    target : str
        One of :data:`STUDY_TARGETS`.
    sizes : sequence of int
        Numbers of training crops, 1 to 4,096.
    seeds : sequence of int
        Seeds of the training crops, at least two.
    test_size : int
        Test crops, 1 to 4,096.
    inputs : str
        One of :data:`STUDY_INPUTS`. ``"photo"``: the crops themselves.
        ``"scrambled"``: the layers read the crops' pixels rearranged by one
        fixed permutation (seed 0), while the targets are computed from the
        unscrambled crops, so neighbours in the input are no longer neighbours
        in the picture. ``"noise"``: independent uniform pixels (seeded like
        the crops) in place of the photograph, targets computed from them.

    Returns
    -------
    dict
        Layer name (:data:`STUDY_LAYERS`) to ``{n: [error for each seed]}``.
    """
    if target not in STUDY_TARGETS:
        raise ValueError(f"target must be one of {list(STUDY_TARGETS)}, got {target!r}")
    for name, values in (("sizes", sizes), ("seeds", seeds)):
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise ValueError(f"{name} must be a sequence of ints, got {values!r}")
    sizes = [check_int("sizes", n, low=1, high=4096) for n in sizes]
    seeds = [check_int("seeds", s, low=0, high=9_999) for s in seeds]
    if not sizes or len(seeds) < 2:
        raise ValueError(f"sizes must hold at least one size and seeds at least two, got {sizes} and {seeds}")
    test_size = check_int("test_size", test_size, low=1, high=4096)
    if inputs not in STUDY_INPUTS:
        raise ValueError(f"inputs must be one of {list(STUDY_INPUTS)}, got {inputs!r}")
    draw = _noise if inputs == "noise" else _crops
    order = torch.randperm(256, generator=torch.Generator().manual_seed(0))

    def read(x):
        return x.flatten(1)[:, order].view_as(x) if inputs == "scrambled" else x

    x_test = draw(test_size, 10_000)
    y_test = _target(x_test, target)
    results = {layer: {n: [] for n in sizes} for layer in STUDY_LAYERS}
    for n in sizes:
        for seed in seeds:
            x = draw(n, seed)
            y = _target(x, target)
            for layer in STUDY_LAYERS:
                error = ((_fit_predict(layer, read(x), y, read(x_test)) - y_test) ** 2).mean() / y_test.var()
                results[layer][n].append(float(error))
    return results
