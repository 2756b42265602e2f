"""Chapter 5's live figure: the reader drags or types a shift and sees whether the layer commutes with it.

The browser shifts the image by (dy, dx), applies a 3 × 3 convolution (stride
1 or 2, circular or zero padding), optionally followed by 2 × 2 max, average
or blur pooling, and compares ``f(g(x))`` with ``g'(f(x))`` exactly as
:func:`widgets.compute.equivariance.compare_shift` does: ``g'`` shifts the
output by the input shift divided by the total stride, or, when the stride
does not divide the shift, by whichever of the nearest whole-pixel output
shifts matches best; the error is ``||f(g(x)) - g'(f(x))|| / ||f(x)||``.
:meth:`ShiftFigure.comparison` computes the same thing with PyTorch.
"""

from __future__ import annotations

import anywidget
import numpy as np
import torch
import traitlets
from torch import nn

from .._checks import check_choice, check_int, check_tensor
from ..compute import data
from ..compute import equivariance as eq
from ..compute.conv_layer import hand_filter
from .platform import STYLESHEET, Buffer, colormap, esm, to_buffer

#: Padding of the convolution, which is also the kind of shift (as chapter 5 pairs them).
SHIFT_PADDINGS = eq.SHIFT_MODES
#: Strides of the convolution.
SHIFT_STRIDES = (1, 2)
#: Pooling after the convolution: none, or 2 x 2 windows at stride 2 (blur: ``eq.BlurPool``, 3 taps).
SHIFT_POOLINGS = ("none", "max", "average", "blur")

__all__ = ["ShiftFigure", "shift_figure", "shift_scenes", "shift_model", "total_stride",
           "SHIFT_PADDINGS", "SHIFT_STRIDES", "SHIFT_POOLINGS"]


def total_stride(stride: int, pooling: str) -> int:
    """The downsampling factor of the convolution followed by the pooling: ``stride``, doubled by a pooling."""
    stride = check_choice("stride", check_int("stride", stride), SHIFT_STRIDES)
    pooling = check_choice("pooling", pooling, SHIFT_POOLINGS)
    return stride * (1 if pooling == "none" else 2)


def shift_model(kernel: torch.Tensor, padding: str = "circular", stride: int = 1,
                pooling: str = "none") -> nn.Sequential:
    """The layer the figure measures, in PyTorch: ``Conv2d(1, 1, 3, padding=1)`` with ``kernel``, then the pooling.

    Parameters
    ----------
    kernel : torch.Tensor
        (3, 3) weights (no bias).
    padding : {"circular", "zeros"}
        The convolution's ``padding_mode`` (and the blur pooling's).
    stride : {1, 2}
        The convolution's stride.
    pooling : {"none", "max", "average", "blur"}
        :func:`widgets.compute.equivariance.pooling` of that kind, or nothing.
    """
    check_tensor("kernel", kernel, ndim=2)
    if tuple(kernel.shape) != (3, 3):
        raise ValueError(f"kernel must have shape (3, 3), got {tuple(kernel.shape)}")
    padding = check_choice("padding", padding, SHIFT_PADDINGS)
    stride = check_choice("stride", check_int("stride", stride), SHIFT_STRIDES)
    pooling = check_choice("pooling", pooling, SHIFT_POOLINGS)
    conv = nn.Conv2d(1, 1, 3, stride=stride, padding=1, padding_mode=padding, bias=False)
    with torch.no_grad():
        conv.weight.copy_(kernel.view(1, 1, 3, 3))
    return nn.Sequential(conv, eq.pooling(pooling, 1, padding)).requires_grad_(False)


def shift_scenes(size: int = 64) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Chapter 5's two scenes: the photograph with the vertical-edge filter, the corner image with its detector.

    Parameters
    ----------
    size : int
        Side of both images, a multiple of 4 from 32 to 256. The corner sits at
        (10, 20) of every 32 pixels, with arms of 6, as in the chapter's
        32-pixel corner image.

    Returns
    -------
    dict of str to (torch.Tensor, torch.Tensor)
        Name to ((1, size, size) image, (3, 3) kernel).
    """
    size = check_int("size", size, low=32, high=256)
    if size % 4:
        raise ValueError(f"size must be a multiple of 4, got {size}")
    scale = size // 32
    corner = eq.corner_image(size, corner=(10 * scale, 20 * scale), arm=6 * scale)[0]
    return {
        "photograph, vertical-edge filter": (data.photo(size), hand_filter("vertical edges")),
        "corner image, corner detector": (corner, torch.tensor(eq.CORNER_KERNEL)),
    }


class ShiftFigure(anywidget.AnyWidget):
    """An image, a shift the reader drags or types, and the equivariance of a convolution (and pooling).

    Built by :func:`shift_figure`. The traits are the widget's state: the
    browser writes the reader's scene, shift, padding, stride and pooling back
    into them when a kernel is running.
    """

    _esm = esm("shift_figure")
    _css = STYLESHEET
    scenes = traitlets.Dict().tag(sync=True)
    scene = traitlets.Unicode().tag(sync=True)
    dy = traitlets.Int(0).tag(sync=True)
    dx = traitlets.Int(0).tag(sync=True)
    max_shift = traitlets.Int(8).tag(sync=True)
    padding = traitlets.Unicode("circular").tag(sync=True)
    stride = traitlets.Int(1).tag(sync=True)
    pooling = traitlets.Unicode("none").tag(sync=True)
    colormap = Buffer().tag(sync=True)

    def _settings(self, overrides: dict) -> dict:
        unknown = sorted(set(overrides) - {"scene", "dy", "dx", "padding", "stride", "pooling"})
        if unknown:
            raise ValueError(f"settings must be among scene, dy, dx, padding, stride, pooling, got {unknown}")
        out = {k: getattr(self, k) for k in ("scene", "dy", "dx", "padding", "stride", "pooling")}
        out.update(overrides)
        check_choice("scene", out["scene"], list(self.scenes))
        for axis in ("dy", "dx"):
            check_int(axis, out[axis], low=-self.max_shift, high=self.max_shift)
        check_choice("padding", out["padding"], SHIFT_PADDINGS)
        total_stride(out["stride"], out["pooling"])
        return out

    def image(self, scene: str | None = None) -> torch.Tensor:
        """A scene's image, (1, H, W): the current scene's by default."""
        s = self.scenes[self._settings({} if scene is None else {"scene": scene})["scene"]]
        values = np.frombuffer(s["image"], dtype="<f4").copy()
        return torch.from_numpy(values).view(1, *s["shape"])

    def kernel(self, scene: str | None = None) -> torch.Tensor:
        """A scene's (3, 3) kernel: the current scene's by default."""
        s = self.scenes[self._settings({} if scene is None else {"scene": scene})["scene"]]
        return torch.from_numpy(np.frombuffer(s["kernel"], dtype="<f4").copy()).view(3, 3)

    def model(self, **settings) -> nn.Sequential:
        """The layer in PyTorch (:func:`shift_model`), for the current settings or those given.

        Keyword arguments override the figure's current ``scene``, ``padding``,
        ``stride`` or ``pooling`` (the figure itself does not change).
        """
        s = self._settings(settings)
        return shift_model(self.kernel(s["scene"]), s["padding"], s["stride"], s["pooling"])

    def comparison(self, **settings) -> eq.ShiftComparison:
        """What the figure shows, computed by PyTorch with :func:`~widgets.compute.equivariance.compare_shift`.

        Keyword arguments override the figure's current ``scene``, ``dy``,
        ``dx``, ``padding``, ``stride`` or ``pooling`` (the figure itself does
        not change), e.g. ``figure.comparison(dy=1, dx=0, stride=2)``.
        """
        s = self._settings(settings)
        model = shift_model(self.kernel(s["scene"]), s["padding"], s["stride"], s["pooling"])
        return eq.compare_shift(model, self.image(s["scene"])[None], s["dy"], s["dx"], mode=s["padding"],
                                stride=total_stride(s["stride"], s["pooling"]))


def shift_figure(scenes: dict[str, tuple[torch.Tensor, torch.Tensor]] | None = None, *,
                 scene: str | None = None, shift: tuple[int, int] = (1, 1), max_shift: int = 16,
                 padding: str = "circular", stride: int = 1, pooling: str = "none") -> ShiftFigure:
    """A live figure: the reader shifts an image and sees ``f(g(x))``, ``g'(f(x))``, their difference and the error.

    Parameters
    ----------
    scenes : dict of str to (torch.Tensor, torch.Tensor), optional
        Name to ((1, H, W) image, (3, 3) kernel); H and W multiples of 4 from
        16 to 256. :func:`shift_scenes` by default.
    scene : str, optional
        The scene shown first (default: the first).
    shift : (int, int)
        The first shift (dy, dx), each in [-max_shift, max_shift].
    max_shift : int
        The reader's shifts lie in [-max_shift, max_shift] on each axis; 1 to
        the smallest image side minus 4 (so that every output shift the
        comparison may need fits in the smallest output).
    padding : {"circular", "zeros"}
        The convolution's padding and the kind of shift.
    stride : {1, 2}
        The convolution's stride.
    pooling : {"none", "max", "average", "blur"}
        Pooling after the convolution (2 x 2 windows at stride 2).
    """
    if scenes is None:
        scenes = shift_scenes()
    if not isinstance(scenes, dict) or not scenes:
        raise ValueError(f"scenes must be a non-empty dict of name to (image, kernel), got {scenes!r}")
    state, smallest = {}, None
    for name, pair in scenes.items():
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"scenes keys must be non-empty strings, got {name!r}")
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise ValueError(f"scenes[{name!r}] must be an (image, kernel) pair, got {type(pair).__name__}")
        image, kernel = pair
        check_tensor(f"scenes[{name!r}] image", image, ndim=3)
        if image.shape[0] != 1:
            raise ValueError(f"scenes[{name!r}] image must have 1 channel, got {image.shape[0]}")
        for axis, side in zip(("height", "width"), image.shape[1:]):
            check_int(f"scenes[{name!r}] image {axis}", side, low=16, high=256)
            if side % 4:
                raise ValueError(f"scenes[{name!r}] image {axis} must be a multiple of 4, got {side}")
        check_tensor(f"scenes[{name!r}] kernel", kernel, ndim=2)
        if tuple(kernel.shape) != (3, 3):
            raise ValueError(f"scenes[{name!r}] kernel must have shape (3, 3), got {tuple(kernel.shape)}")
        for what, t in (("image", image), ("kernel", kernel)):
            if not torch.isfinite(t).all():
                raise ValueError(f"scenes[{name!r}] {what} must hold finite values, got NaN or infinity")
        if not kernel.any():
            raise ValueError(f"scenes[{name!r}] kernel must not be all zeros (the error is relative to f(x))")
        side = min(image.shape[1:])
        smallest = side if smallest is None else min(smallest, side)
        state[name] = {"image": to_buffer(image), "shape": list(image.shape[1:]), "kernel": to_buffer(kernel)}
    scene = next(iter(scenes)) if scene is None else check_choice("scene", scene, list(scenes))
    max_shift = check_int("max_shift", max_shift, low=1, high=smallest - 4)
    if not (isinstance(shift, tuple) and len(shift) == 2):
        raise ValueError(f"shift must be a (dy, dx) pair, got {shift!r}")
    dy = check_int("shift dy", shift[0], low=-max_shift, high=max_shift)
    dx = check_int("shift dx", shift[1], low=-max_shift, high=max_shift)
    padding = check_choice("padding", padding, SHIFT_PADDINGS)
    stride = check_choice("stride", check_int("stride", stride), SHIFT_STRIDES)
    pooling = check_choice("pooling", pooling, SHIFT_POOLINGS)
    return ShiftFigure(scenes=state, scene=scene, dy=dy, dx=dx, max_shift=max_shift, padding=padding,
                       stride=stride, pooling=pooling, colormap=colormap())
