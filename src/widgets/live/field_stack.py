"""Chapter 4's live figure: the reader designs a stack of layers and clicks a unit to see its field."""

from __future__ import annotations

from collections.abc import Sequence

import anywidget
import traitlets

from .._checks import check_choice, check_int
from ..compute import receptive_fields as rf
from .platform import STYLESHEET, esm

#: Most layers the reader can stack.
MAX_LAYERS = 6
#: Widest grey border (padding cells) drawn around a map; a field reaching
#: further has its outline cut at the edge of the drawing.
MAX_MARGIN = 8
#: Layer kinds the figure offers (the calculator's names).
STACK_KINDS = ("conv", "maxpool")
#: Inclusive bounds of the input side and of each layer setting the figure accepts.
STACK_LIMITS = {"input_size": (8, 64), "kernel_size": (1, 9), "stride": (1, 4),
                "dilation": (1, 4), "padding": (0, 4)}

__all__ = ["FieldStack", "field_stack", "MAX_LAYERS", "STACK_KINDS", "STACK_LIMITS"]


class FieldStack(anywidget.AnyWidget):
    """A stack of convolution and max-pooling layers drawn as grids; a clicked unit shows its field.

    Built by :func:`field_stack`. The browser computes the fields with the
    closed form of :mod:`widgets.compute.receptive_fields` (in ``layers.js``)
    and writes the reader's stack and selected unit back into these traits
    when a kernel is running.
    """

    _esm = esm("field_stack")
    _css = STYLESHEET
    input_size = traitlets.Int(32).tag(sync=True)
    layers = traitlets.List(traitlets.Dict()).tag(sync=True)
    selected = traitlets.List(traitlets.Int(), [0, 0, 0]).tag(sync=True)
    limits = traitlets.Dict().tag(sync=True)
    max_layers = traitlets.Int(MAX_LAYERS).tag(sync=True)
    max_margin = traitlets.Int(MAX_MARGIN).tag(sync=True)

    def stack(self) -> tuple[rf.Layer, ...]:
        """The current stack as the calculator's layers."""
        return tuple(rf.Layer(d["kind"], d["kernelSize"], d["stride"], d["padding"], d["dilation"])
                     for d in self.layers)


def field_stack(layers: Sequence[rf.Layer], input_size: int = 32,
                selected: tuple[int, int, int] | None = None) -> FieldStack:
    """A live figure: a stack of up to :data:`MAX_LAYERS` layers, every map drawn, a unit's field highlighted.

    Parameters
    ----------
    layers : sequence of widgets.compute.receptive_fields.Layer
        1 to :data:`MAX_LAYERS` layers of kind ``"conv"`` or ``"maxpool"``,
        settings within :data:`STACK_LIMITS` (pooling is not dilated), every
        map at least one unit wide on the input.
    input_size : int
        Side of the square input, within :data:`STACK_LIMITS`.
    selected : (depth, row, col), optional
        The unit shown first: map ``depth`` (0 the input, ``len(layers)`` the
        last), inside that map; by default the centre unit of the last map.
    """
    if isinstance(layers, rf.Layer) or not isinstance(layers, Sequence):
        raise ValueError(f"layers must be a sequence of Layer, got {type(layers).__name__}")
    if not 1 <= len(layers) <= MAX_LAYERS:
        raise ValueError(f"layers must hold 1 to {MAX_LAYERS} layers, got {len(layers)}")
    low, high = STACK_LIMITS["input_size"]
    input_size = check_int("input_size", input_size, low=low, high=high)
    specs = []
    for i, layer in enumerate(layers):
        if not isinstance(layer, rf.Layer):
            raise ValueError(f"layers must be a sequence of Layer, got {type(layer).__name__} at position {i}")
        check_choice(f"layers[{i}].kind", layer.kind, STACK_KINDS)
        for name in ("kernel_size", "stride", "dilation", "padding"):
            low, high = STACK_LIMITS[name]
            check_int(f"layers[{i}].{name}", getattr(layer, name), low=low, high=high)
        specs.append({"kind": layer.kind, "kernelSize": layer.kernel_size, "stride": layer.stride,
                      "padding": layer.padding, "dilation": layer.dilation})
    need = rf.min_input_size(layers)
    if input_size < need:
        raise ValueError(f"input_size must be at least {need} for this stack (smaller, a map would be empty), "
                         f"got {input_size}")
    sides = rf.output_sizes(layers, input_size)
    if selected is None:
        selected = (len(layers), sides[-1] // 2, sides[-1] // 2)
    if not isinstance(selected, (tuple, list)) or len(selected) != 3:
        raise ValueError(f"selected must be (depth, row, col), got {selected!r}")
    depth = check_int("selected depth", selected[0], low=0, high=len(layers))
    row = check_int("selected row", selected[1], low=0, high=sides[depth] - 1)
    col = check_int("selected col", selected[2], low=0, high=sides[depth] - 1)
    return FieldStack(input_size=input_size, layers=specs, selected=[depth, row, col],
                      limits={k: list(v) for k, v in STACK_LIMITS.items()}, max_layers=MAX_LAYERS)
