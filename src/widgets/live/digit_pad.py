"""Chapter 7's live figure: the reader draws a digit and trained networks classify it.

The networks are torch models trained in the chapter; :func:`digit_pad`
exports their layers (:func:`~widgets.live.platform.export_layers`, weights as
float32 buffers) and the browser runs them with ``layers.js`` on every stroke.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import anywidget
import numpy as np
import torch
import traitlets
from torch import nn

from .._checks import check_int, check_tensor
from ..draw.style import PALETTE, SEQUENTIAL, kind_colour
from .platform import STYLESHEET, Buffer, colormap, esm, export_layers, to_buffer

#: Most networks one pad compares, and most test digits it offers.
MAX_NETWORKS = 4
MAX_DIGITS = 30
#: Brush radius bounds, in pixels of the canvas the networks read.
BRUSH_RANGE = (0.25, 2.0)

__all__ = ["DigitPad", "digit_pad", "MAX_NETWORKS", "MAX_DIGITS", "BRUSH_RANGE"]


class DigitPad(anywidget.AnyWidget):
    """A drawing canvas, the networks that classify the drawing, and one network's feature maps.

    Built by :func:`digit_pad`. ``image`` is the input the networks read; the
    browser writes the reader's drawing back into it when a kernel is running.
    """

    _esm = esm("digit_pad")
    _css = STYLESHEET
    side = traitlets.Int(16).tag(sync=True)
    image = Buffer().tag(sync=True)
    networks = traitlets.Dict().tag(sync=True)
    network_names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    colours = traitlets.List(traitlets.Unicode()).tag(sync=True)
    features = traitlets.Unicode().tag(sync=True)
    feature_layers = traitlets.List(traitlets.Dict()).tag(sync=True)
    digits = Buffer().tag(sync=True)
    digit_labels = traitlets.List(traitlets.Int()).tag(sync=True)
    digit = traitlets.Int(-1).tag(sync=True)
    guide = traitlets.Int(0).tag(sync=True)
    brush = traitlets.Float(0.6).tag(sync=True)
    colormap = Buffer().tag(sync=True)
    description = traitlets.Unicode().tag(sync=True)

    def image_tensor(self) -> torch.Tensor:
        """The current input as a (1, side, side) float32 tensor."""
        values = np.frombuffer(self.image, dtype="<f4").copy()
        return torch.from_numpy(values).view(1, self.side, self.side)

    def digit_tensor(self, index: int) -> torch.Tensor:
        """Test digit ``index`` as the pad holds it, (1, side, side)."""
        index = check_int("index", index, low=0, high=len(self.digit_labels) - 1)
        values = np.frombuffer(self.digits, dtype="<f4").reshape(-1, self.side, self.side)
        return torch.from_numpy(values[index].copy())[None]


def _feature_layers(model: nn.Sequential, side: int) -> list[dict]:
    """The layers whose maps the figure shows: each ReLU on a map, and a global max pooling."""
    x = torch.zeros(1, 1, side, side)
    shown = []
    with torch.no_grad():
        for index, layer in enumerate(model):
            x = layer(x)
            if x.ndim == 4 and isinstance(layer, (nn.ReLU, nn.AdaptiveMaxPool2d)):
                shown.append({"index": index, "kind": type(layer).__name__, "shape": list(x.shape[1:])})
    return shown


def digit_pad(models: Mapping[str, nn.Module], digits: torch.Tensor, labels: Sequence[int] | torch.Tensor, *,
              features: str | None = None, digit: int | None = None, guide: int | None = None,
              brush: float = 0.6, description: str = "a handwritten digit") -> DigitPad:
    """A live figure: the reader draws a digit; trained networks classify it on every stroke.

    Parameters
    ----------
    models : mapping of str to torch.nn.Sequential
        Up to :data:`MAX_NETWORKS` trained classifiers by name, each of layers
        the browser implements (:data:`~widgets.live.platform.LAYER_TYPES`),
        taking a (1, 1, side, side) batch to (1, 10) class scores.
    digits : torch.Tensor
        (N, 1, side, side) or (N, side, side) test digits in [0, 1], side 8 to
        64, N from 1 to :data:`MAX_DIGITS`; the reader can load any of them
        instead of drawing (the keyboard's way in).
    labels : sequence of int or torch.Tensor
        The N digits' classes, 0 to 9.
    features : str, optional
        The network whose feature maps are shown (default: the last of ``models``).
    digit : int, optional
        Index of the digit on the canvas at first (default: a blank canvas).
    guide : int, optional
        Side of a centred square drawn as a guide: where the training digits
        sat (default: none).
    brush : float
        Brush radius in canvas pixels, in :data:`BRUSH_RANGE`.
    description : str
        What the reader is asked to draw, for the canvas's text alternative.
    """
    if not isinstance(models, Mapping) or not 1 <= len(models) <= MAX_NETWORKS:
        raise ValueError(f"models must map 1 to {MAX_NETWORKS} names to networks, got {models!r:.80}")
    check_tensor("digits", digits, ndim=(3, 4))
    if digits.ndim == 4:
        if digits.shape[1] != 1:
            raise ValueError(f"digits must have one channel, got shape {tuple(digits.shape)}")
        digits = digits[:, 0]
    n, side, width = digits.shape
    if side != width:
        raise ValueError(f"digits must be square, got {side} x {width}")
    check_int("digits side", side, low=8, high=64)
    check_int("number of digits", n, low=1, high=MAX_DIGITS)
    if not torch.isfinite(digits).all() or digits.min() < 0 or digits.max() > 1:
        raise ValueError("digits must hold values in [0, 1]")
    if isinstance(labels, torch.Tensor):
        labels = labels.tolist()
    if isinstance(labels, (str, bytes)) or not isinstance(labels, Sequence) or len(labels) != n:
        raise ValueError(f"labels must be a sequence of {n} classes 0 to 9, got {labels!r:.80}")
    labels = [check_int("labels", v, low=0, high=9) for v in labels]
    specs, colours = {}, []
    for name, model in models.items():
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"models keys must be non-empty strings, got {name!r}")
        if not isinstance(model, nn.Sequential):
            raise ValueError(f"models[{name!r}] must be a torch.nn.Sequential, got {type(model).__name__}")
        specs[name] = export_layers(model)
        try:
            with torch.no_grad():
                shape = tuple(model(torch.zeros(1, 1, side, side)).shape)
        except RuntimeError as error:
            raise ValueError(f"models[{name!r}] does not take a (1, 1, {side}, {side}) input: {error}") from None
        if shape != (1, 10):
            raise ValueError(f"models[{name!r}] must give (1, 10) class scores, got {shape}")
        try:
            colours.append(kind_colour(name))
        except ValueError:
            colours.append(PALETTE["green"])
    names = list(models)
    features = names[-1] if features is None else features
    if features not in models:
        raise ValueError(f"features must be one of {names}, got {features!r}")
    shown = _feature_layers(models[features], side)
    if not shown:
        raise ValueError(f"features must name a network with ReLU feature maps, got {features!r}")
    if digit is not None:
        digit = check_int("digit", digit, low=0, high=n - 1)
    if guide is not None:
        guide = check_int("guide", guide, low=1, high=side)
    if isinstance(brush, bool) or not isinstance(brush, (int, float)) \
            or not BRUSH_RANGE[0] <= brush <= BRUSH_RANGE[1]:
        raise ValueError(f"brush must be a number in [{BRUSH_RANGE[0]}, {BRUSH_RANGE[1]}], got {brush!r}")
    if not isinstance(description, str) or not description.strip():
        raise ValueError(f"description must be a non-empty string, got {description!r}")
    image = digits[digit] if digit is not None else torch.zeros(side, side)
    return DigitPad(
        side=side, image=to_buffer(image), networks=specs, network_names=names, colours=colours,
        features=features, feature_layers=shown, digits=to_buffer(digits), digit_labels=labels,
        digit=-1 if digit is None else digit, guide=guide or 0, brush=float(brush),
        colormap=colormap(SEQUENTIAL), description=description.strip())
