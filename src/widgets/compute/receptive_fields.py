"""Receptive fields: which input pixels one output unit sees, three ways.

* **Theoretical**: a calculator for a stack of convolution and pooling layers,
  each described by kernel size, stride, padding and dilation
  (:class:`Layer`, :func:`receptive_field`, :func:`input_region`), applied to
  published networks (:data:`ARCHITECTURES`, :func:`on_image`,
  :func:`residual_path_fields`).
* **Measured**: the same stack as real PyTorch modules, with weights and
  inputs that cannot cancel, and the support of one output's input gradient
  (:func:`measured_gradient`).
* **Effective** (Luo et al., 2016): how strongly, on average, each input pixel
  influences one output unit, for random or trained weights
  (:func:`effective_field`, :func:`random_effective_field`,
  :func:`centre_effective_field`, :class:`DigitsCNN`, which the chapter trains
  with :func:`widgets.compute.training.train`).

Used by the chapter "Receptive fields grow with depth". Everything is one
spatial axis at a time: kernels are square, so a field is a square.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from copy import deepcopy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .._checks import MAX_SIDE, check_choice, check_elements, check_int, check_tensor

#: The layer kinds :class:`Layer` accepts.
KINDS = ("conv", "maxpool", "avgpool")


@dataclass(frozen=True)
class Layer:
    """One convolution or pooling layer, as far as geometry is concerned.

    Parameters
    ----------
    kind : {"conv", "maxpool", "avgpool"}
        What the layer computes; the geometry is the same for all three.
    kernel_size : int
        Side of the square window, at least 1.
    stride : int
        Step between windows, at least 1.
    padding : int
        Zeros added on each side, at least 0. For pooling at most
        ``kernel_size // 2``, PyTorch's rule.
    dilation : int
        Spacing between the kernel's taps, at least 1; the window then spans
        ``dilation * (kernel_size - 1) + 1`` pixels. Pooling layers must have
        dilation 1 (``AvgPool2d`` has none).
    """

    kind: str = "conv"
    kernel_size: int = 3
    stride: int = 1
    padding: int = 0
    dilation: int = 1

    def __post_init__(self):
        """Check every field and turn numpy integers into plain ints."""
        check_choice("kind", self.kind, KINDS)
        values = {
            "kernel_size": check_int("kernel_size", self.kernel_size, low=1, high=MAX_SIDE),
            "stride": check_int("stride", self.stride, low=1, high=MAX_SIDE),
            "padding": check_int("padding", self.padding, low=0, high=MAX_SIDE),
            "dilation": check_int("dilation", self.dilation, low=1, high=MAX_SIDE),
        }
        if self.kind != "conv":
            if values["dilation"] != 1:
                raise ValueError(f"dilation must be 1 for a {self.kind} layer (pooling is not dilated), "
                                 f"got {values['dilation']}")
            if values["padding"] > values["kernel_size"] // 2:
                raise ValueError(f"padding must be at most kernel_size // 2 = {values['kernel_size'] // 2} "
                                 f"for a {self.kind} layer (PyTorch's rule), got {values['padding']}")
        for name, value in values.items():  # numpy integers become plain ints
            object.__setattr__(self, name, value)

    @property
    def span(self) -> int:
        """Pixels one window covers, holes included: ``dilation * (kernel_size - 1) + 1``."""
        return self.dilation * (self.kernel_size - 1) + 1

    def __str__(self) -> str:
        """A short description such as ``"conv 3x3, stride 2"``."""
        k = self.kernel_size
        text = f"{self.kind} {k}x{k}"
        for name, default in (("stride", 1), ("padding", 0), ("dilation", 1)):
            if getattr(self, name) != default:
                text += f", {name} {getattr(self, name)}"
        return text


def _check_layers(layers) -> tuple[Layer, ...]:
    if isinstance(layers, Layer) or not isinstance(layers, Sequence):
        raise ValueError(f"layers must be a sequence of Layer, got {type(layers).__name__}")
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise ValueError(f"layers must be a sequence of Layer, got {type(layer).__name__} at position {i}")
    return tuple(layers)


@dataclass(frozen=True)
class Field:
    """The theoretical receptive field of the units after a stack of layers.

    Attributes
    ----------
    size : int
        Side of the square of input pixels one output unit can see.
    jump : int
        Effective stride: moving one unit along the output moves the field by
        ``jump`` input pixels (the product of the strides).
    offset : int
        Input coordinate of the first pixel output unit 0 sees; negative when
        padding makes the field reach beyond the image.
    sizes, jumps, offsets : tuple of int
        The same after each layer (entry 0 is the input itself: 1, 1, 0).
    """

    size: int
    jump: int
    offset: int
    sizes: tuple[int, ...]
    jumps: tuple[int, ...]
    offsets: tuple[int, ...]

    def start(self, index: int) -> int:
        """Input coordinate of the first pixel output unit ``index`` sees: ``index * jump + offset``."""
        return check_int("index", index) * self.jump + self.offset


def receptive_field(layers: Sequence[Layer]) -> Field:
    """Size, effective stride and offset of the field after each layer of a stack.

    Working forwards from the input (size 1, jump 1, offset 0), layer ``l``
    with window span ``k = dilation * (kernel_size - 1) + 1``, stride ``s``
    and padding ``p`` gives::

        size_l   = size_{l-1} + (k - 1) * jump_{l-1}
        jump_l   = jump_{l-1} * s
        offset_l = offset_{l-1} - p * jump_{l-1}

    which is the backward recurrence ``r_{l-1} = s_l * r_l + (k_l - s_l)``
    (from ``r_L = 1`` at the output down to ``r_0`` at the input) read the
    other way round.

    Parameters
    ----------
    layers : sequence of Layer
        Input side first; may be empty (then the field is one pixel).

    Returns
    -------
    Field
    """
    layers = _check_layers(layers)
    sizes, jumps, offsets = [1], [1], [0]
    for layer in layers:
        offsets.append(offsets[-1] - layer.padding * jumps[-1])
        sizes.append(sizes[-1] + (layer.span - 1) * jumps[-1])
        jumps.append(jumps[-1] * layer.stride)
    return Field(sizes[-1], jumps[-1], offsets[-1], tuple(sizes), tuple(jumps), tuple(offsets))


#: Modules that act on each position separately: they leave the geometry unchanged.
_POINTWISE = (nn.ReLU, nn.LeakyReLU, nn.GELU, nn.Tanh, nn.Sigmoid, nn.Identity, nn.BatchNorm2d, nn.Dropout)
#: Modules after which every unit sees every position: the spatial stack ends there.
_GLOBAL = (nn.Flatten, nn.Linear, nn.AdaptiveMaxPool2d, nn.AdaptiveAvgPool2d)


def layers_of(model: nn.Module) -> tuple[Layer, ...]:
    """The geometry of a network's spatial layers, input side first, for :func:`receptive_field`.

    Walks the modules of a ``torch.nn.Sequential`` (nested ones included) in
    order: ``Conv2d`` and the book's ``LocallyConnected2d`` become ``"conv"``
    layers, ``MaxPool2d`` and ``AvgPool2d`` pooling layers; element-wise
    modules (ReLU, batch normalisation, ...) change nothing; the walk stops
    at the first module that mixes all positions (flatten, linear, global
    pooling). This is the one receptive-field calculator of the book applied
    to a real network.

    Parameters
    ----------
    model : torch.nn.Sequential
        Square kernels, strides, padding and dilation.

    Returns
    -------
    tuple of Layer
    """
    from .local_connectivity import LocallyConnected2d

    if not isinstance(model, nn.Sequential):
        raise ValueError(f"model must be a torch.nn.Sequential, got {type(model).__name__}")
    layers = []

    def walk(seq) -> bool:
        for module in seq:
            if isinstance(module, nn.Sequential):
                if not walk(module):
                    return False
            elif isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, LocallyConnected2d)):
                kind = {nn.MaxPool2d: "maxpool", nn.AvgPool2d: "avgpool"}.get(type(module), "conv")
                values = {a: _square(module, a) for a in ("kernel_size", "stride", "padding", "dilation")
                          if hasattr(module, a)}
                layers.append(Layer(kind, **values))
            elif isinstance(module, _GLOBAL):
                return False
            elif not isinstance(module, _POINTWISE):
                raise ValueError(f"model must hold only convolution, pooling and element-wise layers before "
                                 f"its first global layer, got {type(module).__name__}")
        return True

    walk(model)
    return tuple(layers)


def _square(module, attr) -> int:
    value = getattr(module, attr)
    if isinstance(value, str):
        raise ValueError(f"model must give {attr} as numbers, got {value!r} in {module}")
    if isinstance(value, tuple):
        if len(set(value)) != 1:
            raise ValueError(f"model must have square {attr}, got {value} in {module}")
        value = value[0]
    return int(value)


def min_input_size(layers: Sequence[Layer]) -> int:
    """Smallest input side for which every layer of the stack has a non-empty output.

    Parameters
    ----------
    layers : sequence of Layer

    Returns
    -------
    int
    """
    need = 1
    for layer in reversed(_check_layers(layers)):
        need = max(1, layer.span + (need - 1) * layer.stride - 2 * layer.padding)
    return need


def output_sizes(layers: Sequence[Layer], size: int) -> tuple[int, ...]:
    """Side of the feature map after each layer, as PyTorch computes it.

    Parameters
    ----------
    layers : sequence of Layer
    size : int
        Side of the (square) input, at least :func:`min_input_size`.

    Returns
    -------
    tuple of int
        ``size`` first, then ``(n + 2 * padding - span) // stride + 1`` after each layer.
    """
    layers = _check_layers(layers)
    size = check_int("size", size, low=min_input_size(layers))
    sizes = [size]
    for layer in layers:
        sizes.append((sizes[-1] + 2 * layer.padding - layer.span) // layer.stride + 1)
    return tuple(sizes)


def support(layers: Sequence[Layer], size: int, index: int) -> tuple[int, ...]:
    """The input coordinates (one axis) that output unit ``index`` actually depends on.

    Follows the windows back layer by layer, keeping only real units: taps
    that land in a layer's padding carry no input. Dilation and strides
    larger than the kernel leave holes, so the result need not be contiguous.

    Parameters
    ----------
    layers : sequence of Layer
    size : int
        Input side, at least :func:`min_input_size`.
    index : int
        Output position along the axis, in ``[0, output side)``.

    Returns
    -------
    tuple of int
        Sorted input coordinates in ``[0, size)``.
    """
    layers = _check_layers(layers)
    sizes = output_sizes(layers, check_int("size", size, low=min_input_size(layers), high=MAX_SIDE))
    units = {check_int("index", index, low=0, high=sizes[-1] - 1)}
    for layer, below in zip(reversed(layers), reversed(sizes[:-1])):
        units = {u * layer.stride - layer.padding + t * layer.dilation
                 for u in units for t in range(layer.kernel_size)}
        units = {u for u in units if 0 <= u < below}
    return tuple(sorted(units))


@dataclass(frozen=True)
class Region:
    """The input region one output unit (row, col) sees.

    Attributes
    ----------
    row, col : int
        The output unit.
    top, left, size : int
        The unclipped square: rows ``[top, top + size)`` and columns
        ``[left, left + size)``; it may extend beyond the image into padding.
    clipped_top, clipped_left, clipped_height, clipped_width : int
        The smallest rectangle inside the image holding every pixel the unit
        depends on. Usually the unclipped square cut to the image; near the
        far border it can be smaller still, because a stride that does not
        divide the input evenly leaves the last pixels unread. Height and
        width are 0 for a unit that reads only padding.
    rows, cols : tuple of int
        Exactly which input rows and columns the unit depends on (holes
        included): the unit depends on every pixel of ``rows x cols``.
    """

    row: int
    col: int
    top: int
    left: int
    size: int
    clipped_top: int
    clipped_left: int
    clipped_height: int
    clipped_width: int
    rows: tuple[int, ...]
    cols: tuple[int, ...]

    def mask(self, size: int) -> torch.Tensor:
        """A (size, size) boolean map of the pixels the unit depends on."""
        size = check_int("size", size, low=1, high=MAX_SIDE)
        out = torch.zeros(size, size, dtype=torch.bool)
        rows = torch.tensor([r for r in self.rows if r < size], dtype=torch.long)
        cols = torch.tensor([c for c in self.cols if c < size], dtype=torch.long)
        out[rows.view(-1, 1), cols.view(1, -1)] = True
        return out


def input_region(layers: Sequence[Layer], size: int, row: int, col: int) -> Region:
    """Where output unit (row, col) of a stack looks in a square input of side ``size``.

    Parameters
    ----------
    layers : sequence of Layer
    size : int
        Input side, at least :func:`min_input_size`.
    row, col : int
        Output unit, inside the output map.

    Returns
    -------
    Region
    """
    layers = _check_layers(layers)
    out = output_sizes(layers, size)[-1]
    row = check_int("row", row, low=0, high=out - 1)
    col = check_int("col", col, low=0, high=out - 1)
    field = receptive_field(layers)
    rows, cols = support(layers, size, row), support(layers, size, col)
    top, left = field.start(row), field.start(col)
    if not rows or not cols:  # the unit reads only padding: it depends on no pixel
        return Region(row, col, top, left, field.size, min(max(top, 0), size), min(max(left, 0), size),
                      0, 0, rows, cols)
    return Region(row, col, top, left, field.size,
                  rows[0], cols[0], rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1, rows, cols)


@dataclass(frozen=True)
class UnitFields:
    """Where one unit of any layer of a stack looks on every layer below it.

    Attributes
    ----------
    depth, row, col : int
        The unit: layer ``depth`` of the stack (0 is the input), position
        (row, col) in that layer's map.
    sizes, jumps : tuple of int
        Side and jump of the unit's field on layer ``m``, for ``m = 0`` (the
        input) up to ``depth`` (where the field is the unit itself: 1, 1).
    tops, lefts : tuple of int
        Unclipped start of that field on layer ``m``: :meth:`Field.start` of
        the layers between, so negative when it reaches into padding.
    rows, cols : tuple of tuple of int
        The positions of layer ``m`` the unit depends on (:func:`support`):
        inside that layer's map, holes included.
    """

    depth: int
    row: int
    col: int
    sizes: tuple[int, ...]
    jumps: tuple[int, ...]
    tops: tuple[int, ...]
    lefts: tuple[int, ...]
    rows: tuple[tuple[int, ...], ...]
    cols: tuple[tuple[int, ...], ...]

    def centre(self, layer: int) -> tuple[float, float]:
        """Centre (row, column) of the field on layer ``layer``: start + (size - 1) / 2, as :meth:`OnImage.centre`."""
        m = check_int("layer", layer, low=0, high=self.depth)
        half = (self.sizes[m] - 1) / 2
        return self.tops[m] + half, self.lefts[m] + half


def unit_fields(layers: Sequence[Layer], size: int, depth: int, row: int, col: int) -> UnitFields:
    """The field of unit (row, col) of layer ``depth`` on the input and on every layer between.

    On layer ``m`` the field is :func:`receptive_field` and :func:`support` of
    the layers ``m + 1`` to ``depth`` (``layers[m:depth]``), read in layer
    ``m``'s own coordinates; on the input (``m = 0``) it is the unit's field
    as :func:`input_region` gives it.

    Parameters
    ----------
    layers : sequence of Layer
    size : int
        Input side, at least :func:`min_input_size`.
    depth : int
        Layer of the unit, 0 (the input) to ``len(layers)``.
    row, col : int
        The unit, inside layer ``depth``'s map.

    Returns
    -------
    UnitFields
    """
    layers = _check_layers(layers)
    sides = output_sizes(layers, size)
    depth = check_int("depth", depth, low=0, high=len(layers))
    row = check_int("row", row, low=0, high=sides[depth] - 1)
    col = check_int("col", col, low=0, high=sides[depth] - 1)
    fields = [receptive_field(layers[m:depth]) for m in range(depth + 1)]
    return UnitFields(depth, row, col, tuple(f.size for f in fields), tuple(f.jump for f in fields),
                      tuple(f.start(row) for f in fields), tuple(f.start(col) for f in fields),
                      tuple(support(layers[m:depth], sides[m], row) for m in range(depth + 1)),
                      tuple(support(layers[m:depth], sides[m], col) for m in range(depth + 1)))


def interior_size(layers: Sequence[Layer]) -> int:
    """Smallest input side for which the centre output unit's field lies wholly inside the image.

    With that input, the unit's unclipped and clipped regions coincide, so a
    measurement sees the whole field.

    Parameters
    ----------
    layers : sequence of Layer

    Returns
    -------
    int
    """
    layers = _check_layers(layers)
    field = receptive_field(layers)
    size = max(min_input_size(layers), field.size)
    while size < 1_000_000:
        centre = output_sizes(layers, size)[-1] // 2
        top = field.start(centre)
        if top >= 0 and top + field.size <= size:
            return size
        size += 1
    raise ValueError("layers have no input size below 1,000,000 whose centre unit is interior")  # pragma: no cover


# --------------------------------------------------------------------------- measured field


def measuring_network(layers: Sequence[Layer], *, keep_max: bool = False,
                      dtype: torch.dtype = torch.float64) -> nn.Sequential:
    """The stack as real PyTorch modules, set up so back-propagation shows the whole field.

    One channel; every convolution is a ``Conv2d`` with the layer's kernel
    size, stride, padding and dilation, all weights 1 and no bias; both pooling
    kinds become ``AvgPool2d`` unless ``keep_max``.

    Why not the real weights and max pooling? The input gradient of one output
    is a sum over paths of products of weights. With weights of both signs,
    paths can cancel exactly and hide a pixel the unit does depend on; with all
    weights positive every path adds. Max pooling sends the gradient only to
    the largest input of each window, so its gradient support is a
    data-dependent subset of the field, not the field.

    Parameters
    ----------
    layers : sequence of Layer
    keep_max : bool
        Keep max pooling as ``MaxPool2d`` (to show the subset it selects).
    dtype : torch.dtype
        Floating dtype of the weights (float64 by default: no underflow).

    Returns
    -------
    torch.nn.Sequential
    """
    layers = _check_layers(layers)
    if not isinstance(keep_max, bool):
        raise ValueError(f"keep_max must be True or False, got {keep_max!r}")
    check_choice("dtype", dtype, (torch.float32, torch.float64))
    check_elements("the network's weights", (sum(layer.kernel_size ** 2 for layer in layers),))
    modules = []
    for layer in layers:
        if layer.kind == "conv":
            with torch.random.fork_rng(devices=[]):  # Conv2d's own initialisation must not move the global state
                conv = nn.Conv2d(1, 1, layer.kernel_size, stride=layer.stride, padding=layer.padding,
                                 dilation=layer.dilation, bias=False, dtype=dtype)
            with torch.no_grad():
                conv.weight.fill_(1.0)
            modules.append(conv)
        elif layer.kind == "maxpool" and keep_max:
            modules.append(nn.MaxPool2d(layer.kernel_size, stride=layer.stride, padding=layer.padding))
        else:
            modules.append(nn.AvgPool2d(layer.kernel_size, stride=layer.stride, padding=layer.padding))
    return nn.Sequential(*modules)


def measured_gradient(layers: Sequence[Layer], size: int, row: int, col: int, *,
                      x: torch.Tensor | None = None, keep_max: bool = False) -> torch.Tensor:
    """Gradient of output unit (row, col) of :func:`measuring_network` with respect to its input.

    Its non-zero entries are the pixels the unit depends on: the measured
    receptive field.

    Parameters
    ----------
    layers : sequence of Layer
    size : int
        Input side, at least :func:`min_input_size`.
    row, col : int
        Output unit, inside the output map.
    x : torch.Tensor, optional
        (size, size) input with positive values; ones by default. The gradient
        does not depend on it unless ``keep_max``.
    keep_max : bool
        Keep max pooling (see :func:`measuring_network`).

    Returns
    -------
    torch.Tensor
        (size, size) float64 gradient, non-negative.
    """
    layers = _check_layers(layers)
    out_size = output_sizes(layers, check_int("size", size, low=min_input_size(layers), high=MAX_SIDE))[-1]
    row = check_int("row", row, low=0, high=out_size - 1)
    col = check_int("col", col, low=0, high=out_size - 1)
    if x is None:
        x = torch.ones(size, size, dtype=torch.float64)
    check_tensor("x", x, ndim=2)
    if tuple(x.shape) != (size, size):
        raise ValueError(f"x must have shape ({size}, {size}), got {tuple(x.shape)}")
    if not bool((x > 0).all()):
        raise ValueError("x must be positive everywhere (zeros or negative values could hide pixels)")
    net = measuring_network(layers, keep_max=keep_max)
    x = x.detach().to(torch.float64).clone().view(1, 1, size, size).requires_grad_(True)
    net(x)[0, 0, row, col].backward()
    return x.grad[0, 0].detach()


def random_stack(generator: torch.Generator, max_depth: int = 4) -> tuple[Layer, ...]:
    """A random stack of convolution and pooling layers, for checking the calculator.

    Depth 1 to ``max_depth``; each layer is a convolution (kernel 1-5,
    stride 1-2, padding 0-2, dilation 1-2) or a max or average pooling layer
    (kernel 1-5, stride 1-2, padding up to ``min(2, kernel_size // 2)``),
    each kind equally likely.

    Parameters
    ----------
    generator : torch.Generator
        Source of randomness (seed it for a repeatable stack).
    max_depth : int
        1 to 16.

    Returns
    -------
    tuple of Layer
    """
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    max_depth = check_int("max_depth", max_depth, low=1, high=16)

    def draw(low, high):
        return int(torch.randint(low, high + 1, (), generator=generator))

    layers = []
    for _ in range(draw(1, max_depth)):
        kind = KINDS[draw(0, 2)]
        k, s = draw(1, 5), draw(1, 2)
        if kind == "conv":
            layers.append(Layer(kind, k, s, draw(0, 2), draw(1, 2)))
        else:
            layers.append(Layer(kind, k, s, draw(0, min(2, k // 2))))
    return tuple(layers)


def support_box(values: torch.Tensor) -> tuple[int, int, int, int]:
    """The smallest rectangle holding every non-zero entry of a 2-D map.

    Parameters
    ----------
    values : torch.Tensor
        (H, W) map with at least one non-zero entry.

    Returns
    -------
    (top, left, height, width)
    """
    check_tensor("values", values, ndim=2)
    rows, cols = torch.nonzero(values, as_tuple=True)
    if rows.numel() == 0:
        raise ValueError("values must have at least one non-zero entry, got none")
    top, left = int(rows.min()), int(cols.min())
    return top, left, int(rows.max()) - top + 1, int(cols.max()) - left + 1


# --------------------------------------------------------------------------- effective field


def random_network(layers: Sequence[Layer], channels: int = 8, *, seed: int = 0,
                   relu: bool = True) -> nn.Sequential:
    """The stack with randomly initialised weights, as a network would start training.

    Convolutions get He-normal weights (standard deviation
    ``sqrt(2 / fan_in)``) and zero biases, drawn from a generator seeded with
    ``seed`` (the global random state is not touched); a ReLU follows every
    layer except the last, so the output is the last layer's raw response.
    Pooling layers are ``MaxPool2d`` or ``AvgPool2d`` as described.

    Parameters
    ----------
    layers : sequence of Layer
    channels : int
        Channels of every convolution's output (1 to 256); the input has one.
    seed : int
        Seed of the weights.
    relu : bool
        Put ReLUs between layers (``False``: a linear stack).

    Returns
    -------
    torch.nn.Sequential
    """
    layers = _check_layers(layers)
    channels = check_int("channels", channels, low=1, high=256)
    seed = check_int("seed", seed, low=0, high=2**63 - 1)
    if not isinstance(relu, bool):
        raise ValueError(f"relu must be True or False, got {relu!r}")
    check_elements("the network's weights", (sum(channels * channels * layer.kernel_size ** 2 for layer in layers),))
    gen = torch.Generator().manual_seed(seed)
    modules, width = [], 1
    for i, layer in enumerate(layers):
        if layer.kind == "conv":
            with torch.random.fork_rng(devices=[]):  # Conv2d's own initialisation must not move the global state
                conv = nn.Conv2d(width, channels, layer.kernel_size, stride=layer.stride,
                                 padding=layer.padding, dilation=layer.dilation)
            fan_in = width * layer.kernel_size ** 2
            with torch.no_grad():
                conv.weight.copy_(torch.randn(conv.weight.shape, generator=gen) * math.sqrt(2.0 / fan_in))
                conv.bias.zero_()
            modules.append(conv)
            width = channels
        elif layer.kind == "maxpool":
            modules.append(nn.MaxPool2d(layer.kernel_size, stride=layer.stride, padding=layer.padding))
        else:
            modules.append(nn.AvgPool2d(layer.kernel_size, stride=layer.stride, padding=layer.padding))
        if relu and i < len(layers) - 1:
            modules.append(nn.ReLU())
    return nn.Sequential(*modules)


def effective_field(net: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """The effective receptive field of the centre output unit of ``net`` (Luo et al., 2016).

    For every input in the batch, back-propagate 1 from the centre position of
    the output map (all channels summed) and take the magnitude of the input
    gradient, summed over input channels; average over the batch and
    normalise so the map sums to 1. It says how strongly, on average, each
    input pixel moves that unit.

    Parameters
    ----------
    net : torch.nn.Module
        Maps (N, C, H, W) to (N, C_out, H_out, W_out), each image independently
        (no batch statistics).
    inputs : torch.Tensor
        (N, C, H, W) batch the average runs over.

    Returns
    -------
    torch.Tensor
        (H, W) float64, non-negative, summing to 1.
    """
    if not isinstance(net, nn.Module):
        raise ValueError(f"net must be a torch.nn.Module, got {type(net).__name__}")
    check_tensor("inputs", inputs, ndim=4)
    x = inputs.detach().clone().requires_grad_(True)
    try:
        out = net(x)
    except RuntimeError as err:  # e.g. inputs with more channels than the net reads
        raise ValueError(f"net must accept inputs of shape {tuple(inputs.shape)}, got net raising: {err}") from err
    if out.ndim != 4:
        raise ValueError(f"net must return (N, C, H, W) maps, got shape {tuple(out.shape)}")
    out[:, :, out.shape[2] // 2, out.shape[3] // 2].sum().backward()
    grad = x.grad.detach().abs().sum(dim=1).mean(dim=0).to(torch.float64)
    total = grad.sum()
    if total == 0:
        raise ValueError("inputs must reach the centre unit: every input gradient is zero")
    return grad / total


def random_effective_field(layers: Sequence[Layer], size: int, *, channels: int = 8, networks: int = 4,
                           samples: int = 8, seed: int = 0, relu: bool = True) -> torch.Tensor:
    """Effective receptive field of randomly initialised stacks, averaged over networks and inputs.

    Builds ``networks`` copies of :func:`random_network` and feeds each
    ``samples`` standard-normal inputs, then averages their
    :func:`effective_field` maps, each network counting equally. The networks'
    seeds and the inputs are drawn from one generator seeded with ``seed``, so
    two different seeds give independent estimates. A network whose centre
    unit gets no gradient from any of its inputs (in deep, narrow ReLU stacks
    every path can be switched off) has no map and is left out.

    Parameters
    ----------
    layers : sequence of Layer
    size : int
        Input side, at least :func:`min_input_size`.
    channels : int
        Channels per convolution (1 to 256).
    networks, samples : int
        Random networks, and random inputs per network (1 to 1024 each).
    seed : int
        Seed of weights and inputs.
    relu : bool
        ReLUs between layers.

    Returns
    -------
    torch.Tensor
        (size, size) float64 map summing to 1.
    """
    layers = _check_layers(layers)
    size = check_int("size", size, low=min_input_size(layers), high=MAX_SIDE)
    networks = check_int("networks", networks, low=1, high=1024)
    samples = check_int("samples", samples, low=1, high=1024)
    seed = check_int("seed", seed, low=0, high=2**63 - 1)
    check_elements("each layer's responses", (samples, check_int("channels", channels, low=1, high=256), size, size))
    gen = torch.Generator().manual_seed(seed)
    net_seeds = torch.randint(0, 2**62, (networks,), generator=gen).tolist()
    total = torch.zeros(size, size, dtype=torch.float64)
    for net_seed in net_seeds:
        net = random_network(layers, channels, seed=net_seed, relu=relu)
        x = torch.randn(samples, 1, size, size, generator=gen)
        try:
            total += effective_field(net, x)
        except ValueError:  # every ReLU on the way to the centre unit is off: this network has no map
            continue
    if not total.sum() > 0:
        raise ValueError(f"networks must include one whose centre unit responds to its inputs; none of "
                         f"{networks} did (try more channels or networks)")
    return total / total.sum()


#: The estimator behind every effective-field size the chapter quotes: random
#: networks, and random inputs per network, averaged by
#: :func:`centre_effective_field`. With these, the sides of the half-mass squares
#: the chapter quotes come out the same for independent seeds.
ESTIMATOR = {"networks": 64, "samples": 8}


def centre_effective_field(layers: Sequence[Layer], size: int, *, channels: int = 4,
                           networks: int = ESTIMATOR["networks"], samples: int = ESTIMATOR["samples"],
                           seed: int = 0, relu: bool = True) -> torch.Tensor:
    """:func:`random_effective_field` of the centre output unit, computed on its field alone.

    The centre unit of the stack on a ``size`` x ``size`` input must see only
    real pixels (its field lies inside the image). Then nothing outside the
    field, padding included, can reach it, and the same stack without padding,
    fed just the field, computes the same unit: the estimate is made there,
    which is much cheaper for a small field on a large image, and placed back
    at the field's position.

    Parameters
    ----------
    layers : sequence of Layer
    size : int
        Side of the image, at least :func:`min_input_size`.
    channels, networks, samples, seed, relu
        As for :func:`random_effective_field`; the defaults are :data:`ESTIMATOR`.

    Returns
    -------
    torch.Tensor
        (size, size) float64 map summing to 1, zero outside the field.
    """
    layers = _check_layers(layers)
    size = check_int("size", size, low=min_input_size(layers), high=MAX_SIDE)
    centre = output_sizes(layers, size)[-1] // 2
    region = input_region(layers, size, centre, centre)
    if region.top < 0 or region.top + region.size > size:
        raise ValueError(f"size must put the centre unit's {region.size}-pixel field inside the image, got {size} "
                         f"(the field starts at {region.top})")
    bare = [Layer(layer.kind, layer.kernel_size, layer.stride, 0, layer.dilation) for layer in layers]
    small = random_effective_field(bare, region.size, channels=channels, networks=networks, samples=samples,
                                   seed=seed, relu=relu)
    out = torch.zeros(size, size, dtype=torch.float64)
    out[region.top:region.top + region.size, region.left:region.left + region.size] = small
    return out


def zero_gradient_fraction(net: nn.Module, inputs: torch.Tensor) -> float:
    """Average fraction of input pixels whose gradient for the centre output unit is exactly zero.

    For each input of the batch, back-propagate 1 from the centre position of
    the output map (all channels summed) and count the pixels whose input
    gradient is zero (summed over input channels); average over the batch.
    Pixels the unit is wired to can still get zero: inactive ReLUs and max
    pooling cut the paths.

    Parameters
    ----------
    net : torch.nn.Module
        Maps (N, C, H, W) to (N, C_out, H_out, W_out), each image on its own.
    inputs : torch.Tensor
        (N, C, H, W) batch.

    Returns
    -------
    float
        In [0, 1].
    """
    if not isinstance(net, nn.Module):
        raise ValueError(f"net must be a torch.nn.Module, got {type(net).__name__}")
    check_tensor("inputs", inputs, ndim=4)
    x = inputs.detach().clone().requires_grad_(True)
    try:
        out = net(x)
    except RuntimeError as err:  # e.g. inputs with more channels than the net reads
        raise ValueError(f"net must accept inputs of shape {tuple(inputs.shape)}, got net raising: {err}") from err
    if out.ndim != 4:
        raise ValueError(f"net must return (N, C, H, W) maps, got shape {tuple(out.shape)}")
    out[:, :, out.shape[2] // 2, out.shape[3] // 2].sum().backward()
    zero = x.grad.detach().abs().sum(dim=1) == 0
    return float(zero.double().mean())


def sigma(field: torch.Tensor, axis: int | None = 0) -> float:
    """Standard deviation, in pixels, of a normalised map along one axis or both.

    The map is summed over the other axis and treated as a distribution of
    positions: for a Gaussian-shaped field this is its sigma.

    Parameters
    ----------
    field : torch.Tensor
        (H, W) non-negative map with a positive sum.
    axis : {0, 1, None}
        0 for rows (vertical width), 1 for columns, None for both:
        sqrt((sigma_rows ** 2 + sigma_cols ** 2) / 2).

    Returns
    -------
    float
    """
    p = _distribution("field", field)
    check_choice("axis", axis, (0, 1, None))
    if axis is None:
        return math.sqrt((sigma(p, 0) ** 2 + sigma(p, 1) ** 2) / 2)
    marginal = p.sum(dim=1 - axis)
    pos = torch.arange(len(marginal), dtype=torch.float64)
    mean = (marginal * pos).sum()
    return float(((marginal * (pos - mean) ** 2).sum()).sqrt())


def mass_square(field: torch.Tensor, fraction: float = 0.95) -> tuple[int, int, int]:
    """The smallest square window holding at least ``fraction`` of a map's mass.

    Parameters
    ----------
    field : torch.Tensor
        (H, W) non-negative map with a positive sum.
    fraction : float
        In (0, 1].

    Returns
    -------
    (top, left, side)
        The window is rows ``[top, top + side)`` and columns
        ``[left, left + side)``, clipped to the map; among windows of the
        smallest side, the one holding the most mass.
    """
    p = _distribution("field", field)
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction <= 1:
        raise ValueError(f"fraction must be a number in (0, 1], got {fraction!r}")
    arr = p.numpy()
    h, w = arr.shape
    cum = np.zeros((h + 1, w + 1))
    cum[1:, 1:] = arr.cumsum(0).cumsum(1)
    target = fraction - 1e-12  # rounding must not make the whole map fall short of 100 %
    for side in range(1, max(h, w) + 1):
        sh, sw = min(side, h), min(side, w)
        # Mass of every sh x sw window from the summed-area table.
        sums = cum[sh:, sw:] - cum[:h - sh + 1, sw:] - cum[sh:, :w - sw + 1] + cum[:h - sh + 1, :w - sw + 1]
        if sums.max() >= target:
            top, left = np.unravel_index(int(sums.argmax()), sums.shape)
            return int(top), int(left), side
    raise AssertionError("unreachable: the whole map holds all its mass")  # pragma: no cover


def mass_squares(field: torch.Tensor, fractions: Sequence[float] = (0.5, 0.95)) -> dict:
    """:func:`mass_square` for several fractions at once.

    Parameters
    ----------
    field : torch.Tensor
        (H, W) non-negative map with a positive sum.
    fractions : sequence of float
        Each in (0, 1].

    Returns
    -------
    dict
        Fraction to (top, left, side), in the order given.
    """
    if isinstance(fractions, (str, bytes)) or not isinstance(fractions, Sequence) or not fractions:
        raise ValueError(f"fractions must be a non-empty sequence of numbers in (0, 1], got {fractions!r}")
    return {fraction: mass_square(field, fraction) for fraction in fractions}


def window_mass(field: torch.Tensor, side: int) -> float:
    """The largest fraction of a map's mass any ``side`` x ``side`` window (cut to the map) holds.

    Parameters
    ----------
    field : torch.Tensor
        (H, W) non-negative map with a positive sum.
    side : int
        Window side, at least 1.

    Returns
    -------
    float
        In (0, 1].
    """
    p = _distribution("field", field).numpy()
    side = check_int("side", side, low=1)
    h, w = p.shape
    sh, sw = min(side, h), min(side, w)
    cum = np.zeros((h + 1, w + 1))
    cum[1:, 1:] = p.cumsum(0).cumsum(1)
    sums = cum[sh:, sw:] - cum[:h - sh + 1, sw:] - cum[sh:, :w - sw + 1] + cum[:h - sh + 1, :w - sw + 1]
    return float(sums.max())


def mass_side(field: torch.Tensor, fraction: float = 0.95) -> int:
    """Only the side (an int from 1 to ``max(H, W)``) of :func:`mass_square`'s window; same arguments."""
    return mass_square(field, fraction)[2]


def _distribution(name, field):
    check_tensor(name, field, ndim=2)
    field = field.detach().to(torch.float64)
    if bool((field < 0).any()):
        raise ValueError(f"{name} must be non-negative, got a minimum of {float(field.min()):.3g}")
    total = field.sum()
    if not total > 0:
        raise ValueError(f"{name} must have a positive sum, got {float(total):.3g}")
    return field / total


# --------------------------------------------------------------------------- a small trained network


class DigitsCNN(nn.Module):
    """A small classifier of the handwritten digits: a convolution stack, global average pool, linear head.

    Parameters
    ----------
    layers : sequence of Layer
        The stack (its first layer must be a convolution).
    channels : int
        Channels of every convolution (1 to 256).
    seed : int
        Seed of the initial weights (the global random state is not touched).

    Attributes
    ----------
    features : torch.nn.Sequential
        :func:`random_network` of ``layers``: its centre output unit is the
        one whose effective field the chapter studies.
    head : torch.nn.Linear
        ``channels`` averaged responses to 10 class scores.
    """

    def __init__(self, layers: Sequence[Layer], channels: int = 16, seed: int = 0):
        super().__init__()
        layers = _check_layers(layers)
        if not layers or layers[0].kind != "conv":
            raise ValueError("layers must start with a conv layer, got "
                             f"{str(layers[0]) if layers else 'no layers'}")
        self.features = random_network(layers, channels, seed=seed, relu=True)
        self.min_side = min_input_size(layers)
        with torch.random.fork_rng(devices=[]):  # Linear's own initialisation must not move the global state
            self.head = nn.Linear(check_int("channels", channels, low=1, high=256), 10)
        gen = torch.Generator().manual_seed(seed + 10_000)
        bound = 1.0 / math.sqrt(channels)
        with torch.no_grad():
            self.head.weight.copy_((torch.rand(self.head.weight.shape, generator=gen) * 2 - 1) * bound)
            self.head.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores (N, 10) of a batch of (N, 1, H, W) images, H and W at least :func:`min_input_size`."""
        check_tensor("x", x, ndim=4)
        if x.shape[1] != 1 or min(x.shape[-2:]) < self.min_side:
            raise ValueError(f"x must have shape (N, 1, H, W) with H and W at least {self.min_side}, "
                             f"got {tuple(x.shape)}")
        return self.head(torch.relu(self.features(x)).mean(dim=(2, 3)))


def without_biases(net: nn.Module) -> nn.Module:
    """A copy of ``net`` with the bias of every convolution set to 0 (``net`` itself is not changed).

    Parameters
    ----------
    net : torch.nn.Module
        Any network, for example :attr:`DigitsCNN.features`.
    """
    if not isinstance(net, nn.Module):
        raise ValueError(f"net must be a torch.nn.Module, got {type(net).__name__}")
    copy = deepcopy(net)
    with torch.no_grad():
        for module in copy.modules():
            if isinstance(module, nn.Conv2d) and module.bias is not None:
                module.bias.zero_()
    return copy


# --------------------------------------------------------------------------- published architectures

def _vgg16():
    layers, block = [], [(1, 2), (2, 2), (3, 3), (4, 3), (5, 3)]
    for stage, n in block:
        layers += [(f"conv{stage}_{i}", Layer("conv", 3, padding=1)) for i in range(1, n + 1)]
        layers.append((f"pool{stage}", Layer("maxpool", 2, 2)))
    return layers + [("fc6", Layer("conv", 7))]  # fully connected on the 7 x 7 pool5 map


def _resnet50(stride_on_3x3):
    layers = [("conv1", Layer("conv", 7, 2, 3)), ("pool1", Layer("maxpool", 3, 2, 1))]
    for stage, blocks in [(2, 3), (3, 4), (4, 6), (5, 3)]:
        for b in range(1, blocks + 1):
            s = 2 if (stage > 2 and b == 1) else 1
            name = f"conv{stage}_{b}"
            layers += [(f"{name} 1x1", Layer("conv", 1, 1 if stride_on_3x3 else s)),
                       (f"{name} 3x3", Layer("conv", 3, s if stride_on_3x3 else 1, 1)),
                       (f"{name} 1x1 out", Layer("conv", 1))]
    return layers


#: Published layer lists, input side first, as (layer name, Layer) pairs.
#: ReLUs and normalisation act on each position alone and do not change the
#: geometry. A fully connected layer that reads a whole feature map is a
#: convolution whose kernel covers that map: AlexNet's and VGG-16's fc6 read
#: the 6 x 6 and 7 x 7 pool5 maps of a 224-pixel image, so they are listed as
#: 6 x 6 and 7 x 7 convolutions (later fully connected layers, and ResNet-50's
#: global average pooling, make every unit depend on every pixel). ResNet-50
#: counts the longest path, through the three convolutions of every
#: bottleneck block (:func:`residual_path_fields` counts the others), with the
#: downsampling stride on the first 1x1 convolution of a stage as in the
#: original model ("v1") or on the 3x3 convolution as in torchvision's
#: ("v1.5").
ARCHITECTURES: dict[str, tuple[tuple[str, Layer], ...]] = {
    "LeNet-5": (("C1", Layer("conv", 5)), ("S2", Layer("avgpool", 2, 2)), ("C3", Layer("conv", 5)),
                ("S4", Layer("avgpool", 2, 2)), ("C5", Layer("conv", 5))),
    "AlexNet": (("conv1", Layer("conv", 11, 4, 2)), ("pool1", Layer("maxpool", 3, 2)),
                ("conv2", Layer("conv", 5, 1, 2)), ("pool2", Layer("maxpool", 3, 2)),
                ("conv3", Layer("conv", 3, 1, 1)), ("conv4", Layer("conv", 3, 1, 1)),
                ("conv5", Layer("conv", 3, 1, 1)), ("pool5", Layer("maxpool", 3, 2)),
                ("fc6", Layer("conv", 6))),
    "VGG-16": tuple(_vgg16()),
    "ResNet-50 v1": tuple(_resnet50(stride_on_3x3=False)),
    "ResNet-50 v1.5": tuple(_resnet50(stride_on_3x3=True)),
}


def architecture_layers(name: str, upto: str | None = None) -> tuple[Layer, ...]:
    """The layers of a published architecture from its input up to one of its layers.

    Parameters
    ----------
    name : str
        A key of :data:`ARCHITECTURES`.
    upto : str, optional
        A layer name of that architecture (default: its last layer).

    Returns
    -------
    tuple of Layer
    """
    check_choice("name", name, ARCHITECTURES)
    names = [n for n, _ in ARCHITECTURES[name]]
    upto = names[-1] if upto is None else check_choice("upto", upto, names)
    return tuple(layer for _, layer in ARCHITECTURES[name][:names.index(upto) + 1])


def architecture_field(name: str, upto: str | None = None) -> Field:
    """Theoretical field of a published architecture after one of its layers.

    Parameters
    ----------
    name : str
        A key of :data:`ARCHITECTURES`.
    upto : str, optional
        A layer name of that architecture (default: its last layer).

    Returns
    -------
    Field
    """
    return receptive_field(architecture_layers(name, upto))


@dataclass(frozen=True)
class OnImage:
    """Where the units of a stack's last map look on an image of a given side (one axis).

    In the terms of Araujo et al. (2019): unit ``i`` of the last map sees
    input pixels ``i * jump - padding`` to ``i * jump - padding + size - 1``,
    centred on ``centre(i) = i * jump - padding + (size - 1) / 2``.

    Attributes
    ----------
    image, map_side : int
        Side of the input image, and of the last feature map PyTorch computes.
    size, jump : int
        Theoretical field size and effective stride.
    padding : int
        Effective padding: how far the field of unit 0 starts before pixel 0
        (minus :attr:`Field.offset`).
    first_centre, last_centre : float
        Centres of the fields of the first and last units of the map.
    middle_seen : int
        Image pixels (along one axis) the field of unit ``map_side // 2``
        covers, cut to the image.
    widest_seen : int
        The most image pixels any unit of the map covers.
    whole : int
        Units of the map (along one axis) whose field covers the whole image.
    """

    image: int
    map_side: int
    size: int
    jump: int
    padding: int
    first_centre: float
    last_centre: float
    middle_seen: int
    widest_seen: int
    whole: int

    def centre(self, index: int) -> float:
        """Input coordinate of the centre of unit ``index``'s field (a half-integer for an even field)."""
        return check_int("index", index) * self.jump - self.padding + (self.size - 1) / 2


def on_image(layers: Sequence[Layer], image: int) -> OnImage:
    """How the last map of a stack covers a square image of side ``image``.

    Parameters
    ----------
    layers : sequence of Layer
    image : int
        Image side, at least :func:`min_input_size`.

    Returns
    -------
    OnImage
    """
    layers = _check_layers(layers)
    field = receptive_field(layers)
    map_side = output_sizes(layers, check_int("image", image, low=min_input_size(layers), high=MAX_SIDE))[-1]

    def seen(i):
        start = field.start(i)
        return max(0, min(start + field.size, image) - max(start, 0))

    padding = -field.offset
    return OnImage(image, map_side, field.size, field.jump, padding, (field.size - 1) / 2 - padding,
                   (map_side - 1) * field.jump - padding + (field.size - 1) / 2, seen(map_side // 2),
                   max(seen(i) for i in range(map_side)), sum(seen(i) == image for i in range(map_side)))


def residual_path_fields(name: str) -> dict[int, int]:
    """Field size of every path through a residual network, as ``{size: number of paths}``.

    Each of ResNet-50's 16 bottleneck blocks can be crossed through its three
    convolutions or through its shortcut (the identity, or a 1x1 projection
    with the block's stride, which adds nothing to the field), so there are
    ``2 ** 16`` paths from the image to the last block's output. Along one
    path the field grows as in :func:`receptive_field`; the longest path gives
    :func:`architecture_field`'s size and the path through no block the stem's.

    Parameters
    ----------
    name : {"ResNet-50 v1", "ResNet-50 v1.5"}

    Returns
    -------
    dict
        Field size (pixels) to the number of paths with that field, in
        increasing order of size; the counts add up to ``2 ** 16``.
    """
    check_choice("name", name, ("ResNet-50 v1", "ResNet-50 v1.5"))
    named = ARCHITECTURES[name]
    stem = [layer for n, layer in named if " " not in n]  # conv1 and pool1
    jump = receptive_field(stem).jump
    counts = {receptive_field(stem).size: 1}
    blocks = [n.split()[0] for n, _ in named if n.endswith(" 1x1 out")]
    for block in blocks:
        branch = [layer for n, layer in named if n.split()[0] == block]
        grown = receptive_field(branch)  # in units of the block's input map
        extra = (grown.size - 1) * jump  # pixels the branch adds at this jump
        new = {}
        for size, count in counts.items():  # through the shortcut, or through the branch
            new[size] = new.get(size, 0) + count
            new[size + extra] = new.get(size + extra, 0) + count
        counts = new
        jump *= grown.jump
    return dict(sorted(counts.items()))
