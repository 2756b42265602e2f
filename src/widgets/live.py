"""Live figures: small computations that run in the reader's browser.

A live figure is an `anywidget <https://anywidget.dev>`_ widget. Python owns
the data: images, kernels and trained weights go from torch tensors into the
widget's state as float32 binary buffers. The browser computes with one shared
module of layers, ``live/layers.js`` beside this file, which mirrors PyTorch's
semantics; each figure adds its own drawing module (``live/<figure>.js``). The
same widget works on the static site (the site's widget manager bundles
anywidget's front end) and in JupyterLab with a kernel.

Chapters reach the figures through :mod:`widgets.controls`, e.g.
``controls.kernel_playground(image)``.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import anywidget
import matplotlib
import numpy as np
import torch
import traitlets
from torch import nn

from ._checks import check_choice, check_int, check_tensor
from .compute.conv_layer import HAND_FILTERS
from .compute.local_connectivity import LocallyConnected2d
from .draw.style import DIVERGING

#: Folder of the browser modules (shipped as package data).
JS_DIR = Path(__file__).resolve().parent / "live"
#: Padding choices of the kernel playground: no padding, zeros, or wrapping around.
PADDINGS = ("none", "zeros", "circular")
#: Largest stride the kernel playground offers.
MAX_STRIDE = 3
#: Layers ``live/layers.js`` implements, by the torch module that exports to each.
LAYER_TYPES = {
    nn.Conv2d: "conv2d",
    LocallyConnected2d: "locally_connected2d",
    nn.ReLU: "relu",
    nn.MaxPool2d: "max_pool2d",
    nn.AvgPool2d: "avg_pool2d",
    nn.Flatten: "flatten",
    nn.Linear: "linear",
}

__all__ = ["KernelPlayground", "kernel_playground", "playground_presets", "export_layers",
           "to_buffer", "esm", "PADDINGS", "MAX_STRIDE", "LAYER_TYPES"]

# `import { a, b } from "./layers.js";` lines: the modules are joined into one.
_LOCAL_IMPORT = re.compile(r'^import \{[^}]*\} from "\./[\w-]+\.js";\n', re.MULTILINE)


@cache
def esm(figure: str) -> str:
    """The ES module of one live figure: ``layers.js`` followed by ``<figure>.js``.

    anywidget loads a widget's module from a single string, so the figure's
    imports of the shared layers are resolved by joining the two files.
    """
    path = JS_DIR / f"{figure}.js"
    if figure == "layers" or not path.is_file():
        names = sorted(p.stem for p in JS_DIR.glob("*.js") if p.stem != "layers")
        raise ValueError(f"figure must be one of {names}, got {figure!r}")
    return (JS_DIR / "layers.js").read_text(encoding="utf-8") + "\n" + \
        _LOCAL_IMPORT.sub("", path.read_text(encoding="utf-8"))


def to_buffer(tensor: torch.Tensor) -> bytes:
    """A tensor's values as little-endian float32 bytes in row-major order (the widget buffer format)."""
    if not isinstance(tensor, torch.Tensor):
        raise ValueError(f"tensor must be a torch.Tensor, got {type(tensor).__name__}")
    return tensor.detach().to("cpu", torch.float32).contiguous().numpy().astype("<f4").tobytes()


def _pair(name: str, value) -> int:
    """One int for both axes (the browser module takes square settings only where torch allows pairs)."""
    if isinstance(value, tuple):
        if len(set(value)) != 1:
            raise ValueError(f"{name} must be the same on both axes, got {value}")
        value = value[0]
    return int(value)


def _layer_spec(index: int, layer: nn.Module) -> dict:
    kind = LAYER_TYPES.get(type(layer))
    if kind is None:
        allowed = ", ".join(t.__name__ for t in LAYER_TYPES)
        raise ValueError(f"model has layer {index} of type {type(layer).__name__}, which the browser's "
                         f"layers.js does not implement; allowed: {allowed}")
    spec: dict = {"type": kind}
    if kind == "conv2d":
        if layer.groups != 1 or layer.padding_mode not in ("zeros", "circular") \
                or isinstance(layer.padding, str):
            raise ValueError(f"model has layer {index} (Conv2d) with groups={layer.groups}, "
                             f"padding={layer.padding!r}, padding_mode={layer.padding_mode!r}; the browser "
                             "implements groups=1, integer padding and padding_mode 'zeros' or 'circular'")
        spec.update(stride=list(layer.stride), padding=list(layer.padding), dilation=list(layer.dilation),
                    paddingMode=layer.padding_mode)
    elif kind == "locally_connected2d":
        spec.update(stride=layer.stride, padding=layer.padding)
    elif kind in ("max_pool2d", "avg_pool2d"):
        if layer.ceil_mode or getattr(layer, "dilation", 1) not in (1, (1, 1)) \
                or getattr(layer, "divisor_override", None) is not None or getattr(layer, "return_indices", False):
            raise ValueError(f"model has layer {index} ({type(layer).__name__}) with ceil_mode, dilation, "
                             "divisor_override or return_indices set; the browser implements the defaults only")
        spec.update(kernelSize=_pair("kernel_size", layer.kernel_size),
                    stride=_pair("stride", layer.stride), padding=_pair("padding", layer.padding))
        if kind == "avg_pool2d":
            spec["countIncludePad"] = bool(layer.count_include_pad)
    elif kind == "flatten":
        if layer.start_dim != 1 or layer.end_dim != -1:
            raise ValueError(f"model has layer {index} (Flatten) with start_dim={layer.start_dim}, "
                             f"end_dim={layer.end_dim}; the browser implements start_dim=1, end_dim=-1")
    for name in ("weight", "bias"):
        value = getattr(layer, name, None)
        if isinstance(value, torch.Tensor):
            spec[name] = to_buffer(value)
            spec[f"{name}_shape"] = list(value.shape)
    return spec


def export_layers(model: nn.Module) -> list[dict]:
    """The browser's description of ``model``: one dict per layer, weights as float32 buffers.

    Parameters
    ----------
    model : torch.nn.Module
        A :class:`torch.nn.Sequential` of the layers in :data:`LAYER_TYPES`, or one such layer.
        Anything else is refused, naming the layer the browser lacks.

    Returns
    -------
    list of dict
        ``{"type": ..., options..., "weight": bytes, "weight_shape": [...], ...}`` per layer,
        the options named as ``layers.js`` names them.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    layers = list(model) if isinstance(model, nn.Sequential) else [model]
    if not layers:
        raise ValueError("model must have at least one layer, got an empty Sequential")
    return [_layer_spec(i, layer) for i, layer in enumerate(layers)]


def _colormap(name: str = DIVERGING) -> bytes:
    """256 RGB colours of a matplotlib colour map as 768 bytes (the browser draws with them)."""
    rgb = matplotlib.colormaps[name](np.linspace(0, 1, 256))[:, :3]
    return (np.round(rgb * 255)).astype(np.uint8).tobytes()


def playground_presets(channels: int = 3) -> dict[str, torch.Tensor]:
    """Kernels the playground offers, each of shape (channels, 3, 3).

    The book's hand-set filters (:data:`widgets.compute.conv_layer.HAND_FILTERS`)
    on every channel, divided by ``channels`` so that each responds to the channel
    average, and for colour images a colour-opponent filter: the local mean of
    red minus the local mean of green, blue ignored.
    """
    channels = check_int("channels", channels, low=1, high=4)
    presets = {name: torch.tensor(k, dtype=torch.float32).expand(channels, 3, 3) / channels
               for name, k in HAND_FILTERS.items()}
    if channels == 3:
        mean = torch.full((3, 3), 1 / 9)
        presets["red − green"] = torch.stack([mean, -mean, torch.zeros(3, 3)])
    return presets


class Buffer(traitlets.Bytes):
    """A binary widget trait: bytes from Python, and the memoryview a front end sends back."""

    def validate(self, obj, value):
        if isinstance(value, memoryview):
            value = value.tobytes()
        return super().validate(obj, value)


class KernelPlayground(anywidget.AnyWidget):
    """An image, one editable 3 × 3 kernel per channel, and the feature map, computed in the browser.

    Built by :func:`kernel_playground`. The traits are the widget's state: the
    browser writes the reader's kernel, padding, stride and selected output
    position back into them when a kernel is running.
    """

    _esm = esm("kernel_playground")
    _css = (JS_DIR / "live.css").read_text(encoding="utf-8")
    image = Buffer().tag(sync=True)
    image_shape = traitlets.List(traitlets.Int()).tag(sync=True)
    kernel = Buffer().tag(sync=True)
    presets = traitlets.Dict().tag(sync=True)
    preset = traitlets.Unicode().tag(sync=True)
    padding = traitlets.Unicode("none").tag(sync=True)
    stride = traitlets.Int(1).tag(sync=True)
    limit = traitlets.Float(10.0).tag(sync=True)
    selected = traitlets.List(traitlets.Int(), [0, 0]).tag(sync=True)
    colormap = Buffer().tag(sync=True)
    channel_names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    description = traitlets.Unicode().tag(sync=True)

    def kernel_tensor(self) -> torch.Tensor:
        """The current kernel as a (C, 3, 3) float32 tensor."""
        values = np.frombuffer(self.kernel, dtype="<f4").copy()
        return torch.from_numpy(values).view(self.image_shape[0], 3, 3)


def kernel_playground(image: torch.Tensor, presets: dict[str, torch.Tensor] | None = None,
                      preset: str | None = None, padding: str = "none", stride: int = 1,
                      limit: float = 10.0, description: str = "the image") -> KernelPlayground:
    """A live figure: the reader edits a 3 × 3 kernel per channel and sees the feature map.

    Parameters
    ----------
    image : torch.Tensor
        (C, H, W) float image, 1 or 3 channels, sides 8 to 512 pixels.
    presets : dict of str to torch.Tensor, optional
        Named (C, 3, 3) kernels to choose from; :func:`playground_presets` by default.
    preset : str, optional
        The preset shown first (default: the first).
    padding : {"none", "zeros", "circular"}
        No padding, one pixel of zeros, or one pixel wrapped around from the opposite side.
    stride : int
        1 to :data:`MAX_STRIDE`.
    limit : float
        Kernel entries must lie in [-limit, limit]; between 1 and 1000.
    description : str
        What the image shows, for the canvas's text alternative.
    """
    check_tensor("image", image, ndim=3)
    channels, height, width = image.shape
    check_choice("image channels", channels, (1, 3))
    for name, side in (("image height", height), ("image width", width)):
        check_int(name, side, low=8, high=512)
    if not torch.isfinite(image).all():
        raise ValueError("image must hold finite values, got NaN or infinity")
    if presets is None:
        presets = playground_presets(channels)
    if not isinstance(presets, dict) or not presets:
        raise ValueError(f"presets must be a non-empty dict of name to (C, 3, 3) tensor, got {presets!r}")
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not 1 <= limit <= 1000:
        raise ValueError(f"limit must be a number in [1, 1000], got {limit!r}")
    for name, kernel in presets.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"presets keys must be non-empty strings, got {name!r}")
        check_tensor(f"presets[{name!r}]", kernel, ndim=3)
        if tuple(kernel.shape) != (channels, 3, 3):
            raise ValueError(f"presets[{name!r}] must have shape ({channels}, 3, 3) to match the image, "
                             f"got {tuple(kernel.shape)}")
        if not torch.isfinite(kernel).all() or kernel.abs().max() > limit:
            raise ValueError(f"presets[{name!r}] must hold finite values in [-{limit}, {limit}]")
    preset = next(iter(presets)) if preset is None else check_choice("preset", preset, list(presets))
    padding = check_choice("padding", padding, PADDINGS)
    stride = check_int("stride", stride, low=1, high=MAX_STRIDE)
    if not isinstance(description, str) or not description.strip():
        raise ValueError(f"description must be a non-empty string, got {description!r}")
    names = ["red", "green", "blue"] if channels == 3 else ["gray"]
    return KernelPlayground(
        image=to_buffer(image), image_shape=[channels, height, width],
        kernel=to_buffer(presets[preset]), presets={k: to_buffer(v) for k, v in presets.items()},
        preset=preset, padding=padding, stride=stride, limit=float(limit), selected=[0, 0],
        colormap=_colormap(), channel_names=names, description=description.strip())
