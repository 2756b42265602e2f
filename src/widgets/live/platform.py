"""The platform of the live figures: browser modules, binary buffers, exported layers.

A live figure is an `anywidget <https://anywidget.dev>`_ widget. Python owns
the data: images, kernels and trained weights go from torch tensors into the
widget's state as float32 binary buffers (:func:`to_buffer`, :class:`Buffer`).
The browser computes with one shared module of layers, ``layers.js`` in this
package, which mirrors PyTorch's semantics; :func:`export_layers` turns a torch
model into that module's layer specs, and refuses a layer it lacks by name.
Each figure adds its own drawing module (``<figure>.js``); :func:`esm` joins
the two into the one string anywidget loads in JupyterLab. The static site's
widget manager bundles the same modules once for the whole site
(``frontend/live.js``), and the build swaps each figure's string in a page for
a reference, :data:`SITE_MODULE_PREFIX` followed by the figure's name.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import matplotlib
import numpy as np
import torch
import traitlets
from torch import nn

from ..compute.local_connectivity import LocallyConnected2d
from ..draw.style import DIVERGING

#: Folder of the browser modules (shipped as package data).
JS_DIR = Path(__file__).resolve().parent
#: Layers ``live/layers.js`` implements, by the torch module that exports to each.
LAYER_TYPES = {
    nn.Conv2d: "conv2d",
    LocallyConnected2d: "locally_connected2d",
    nn.ReLU: "relu",
    nn.MaxPool2d: "max_pool2d",
    nn.AvgPool2d: "avg_pool2d",
    nn.Flatten: "flatten",
    nn.Linear: "linear",
    nn.AdaptiveMaxPool2d: "adaptive_max_pool2d",
}

__all__ = ["esm", "figures", "to_buffer", "image_buffer", "export_layers", "Buffer", "colormap", "JS_DIR",
           "LAYER_TYPES", "SHARED_MODULES", "SITE_MODULE_PREFIX", "STYLESHEET"]

#: The browser modules every figure shares, joined before the figure's own module.
SHARED_MODULES = ("layers", "dom")
#: The figures' one stylesheet (``live.css``), every figure's ``_css``.
STYLESHEET = (JS_DIR / "live.css").read_text(encoding="utf-8")
#: How a static page's widget state names a figure bundled in the site's
#: widget manager: this prefix and the figure's name (``frontend/live.js``).
SITE_MODULE_PREFIX = "widgets.live:"
# `import { a, b } from "./layers.js";` lines: the modules are joined into one.
_LOCAL_IMPORT = re.compile(r'^import \{[^}]*\} from "\./[\w-]+\.js";\n', re.MULTILINE)


@cache
def figures() -> tuple[str, ...]:
    """The names of the live figures: every browser module in the package but the shared ones."""
    return tuple(sorted(p.stem for p in JS_DIR.glob("*.js") if p.stem not in SHARED_MODULES))


def esm(figure: str) -> str:
    """The ES module of one live figure: the shared modules followed by ``<figure>.js``.

    anywidget loads a widget's module from a single string, so the figure's
    imports of the shared modules (:data:`SHARED_MODULES`: the layers and the
    DOM helpers) are resolved by joining the files into one.
    """
    if figure not in figures():
        raise ValueError(f"figure must be one of {list(figures())}, got {figure!r}")
    path = JS_DIR / f"{figure}.js"
    shared = [(JS_DIR / f"{name}.js").read_text(encoding="utf-8") for name in SHARED_MODULES]
    return "\n".join([*shared, _LOCAL_IMPORT.sub("", path.read_text(encoding="utf-8"))])


def to_buffer(tensor: torch.Tensor) -> bytes:
    """A tensor's values as little-endian float32 bytes in row-major order (the widget buffer format)."""
    if not isinstance(tensor, torch.Tensor):
        raise ValueError(f"tensor must be a torch.Tensor, got {type(tensor).__name__}")
    if tensor.is_complex():
        raise ValueError(f"tensor must hold real values, got dtype {tensor.dtype}")
    return tensor.detach().to("cpu", torch.float32).contiguous().numpy().astype("<f4").tobytes()


def image_buffer(image: torch.Tensor) -> tuple[bytes, str]:
    """An image's bytes for a widget, and their encoding: ``"uint8"`` or ``"float32"``.

    An image whose every value is exactly ``k / 255`` in float32 for an integer
    ``k`` (an 8-bit photograph read as ``uint8 / 255``) is sent as one byte per
    value, a quarter of the float32 size; the browser's ``pixels`` divides by 255
    again and gets the very same float32 values. Any other image is sent as float32.
    """
    if not isinstance(image, torch.Tensor):
        raise ValueError(f"image must be a torch.Tensor, got {type(image).__name__}")
    if image.is_complex():
        raise ValueError(f"image must hold real values, got dtype {image.dtype}")
    values = image.detach().to("cpu", torch.float32)
    levels = torch.round(values * 255)
    if bool(((levels >= 0) & (levels <= 255)).all()) and torch.equal(levels / 255, values):
        return levels.to(torch.uint8).contiguous().numpy().tobytes(), "uint8"
    return to_buffer(values), "float32"


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
    elif kind == "adaptive_max_pool2d":
        size = layer.output_size
        size = tuple(size) if isinstance(size, (tuple, list)) else (size,) * 2
        if len(size) != 2 or any(s is not None and (isinstance(s, bool) or not isinstance(s, int) or s < 1)
                                 for s in size):
            raise ValueError(f"model has layer {index} (AdaptiveMaxPool2d) with output_size="
                             f"{layer.output_size!r}; output_size must be a positive integer or a pair of them")
        if None in size or layer.return_indices:
            raise ValueError(f"model has layer {index} (AdaptiveMaxPool2d) with output_size={layer.output_size!r}, "
                             f"return_indices={layer.return_indices}; the browser implements a fixed output "
                             "size without indices")
        spec["outputSize"] = [int(s) for s in size]
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


def colormap(name: str = DIVERGING) -> bytes:
    """256 RGB colours of a matplotlib colour map as 768 bytes (the browser draws with them)."""
    if not isinstance(name, str) or name not in matplotlib.colormaps:
        raise ValueError(f"name must be the name of a matplotlib colour map, e.g. {DIVERGING!r}, got {name!r}")
    rgb = matplotlib.colormaps[name](np.linspace(0, 1, 256))[:, :3]
    return (np.round(rgb * 255)).astype(np.uint8).tobytes()



class Buffer(traitlets.Bytes):
    """A binary widget trait: bytes from Python, and the memoryview a front end sends back."""

    def validate(self, obj, value):
        """Accept bytes, or a memoryview (what a front end sends) as its bytes."""
        if isinstance(value, memoryview):
            value = value.tobytes()
        return super().validate(obj, value)
