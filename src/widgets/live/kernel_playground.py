"""Chapter 1's live figure: the reader edits a 3 × 3 kernel per channel and sees the feature map."""

from __future__ import annotations

import anywidget
import numpy as np
import torch
import traitlets

from .._checks import check_choice, check_int, check_tensor
from ..compute.conv_layer import HAND_FILTERS
from .platform import STYLESHEET, Buffer, colormap, esm, image_buffer, to_buffer

#: Padding choices of the kernel playground: no padding, zeros, or wrapping around.
PADDINGS = ("none", "zeros", "circular")
#: Largest stride the kernel playground offers.
MAX_STRIDE = 3
#: Most presets the kernel playground's menu offers.
MAX_PRESETS = 64

__all__ = ["KernelPlayground", "kernel_playground", "playground_presets", "PADDINGS", "MAX_STRIDE"]


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


class KernelPlayground(anywidget.AnyWidget):
    """An image, one editable 3 × 3 kernel per channel, and the feature map, computed in the browser.

    Built by :func:`kernel_playground`. The traits are the widget's state: the
    browser writes the reader's kernel, padding, stride and selected output
    position back into them when a kernel is running.
    """

    _esm = esm("kernel_playground")
    _css = STYLESHEET
    image = Buffer().tag(sync=True)
    image_encoding = traitlets.Unicode("float32").tag(sync=True)
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
                      limit: float = 10.0, description: str = "the image",
                      selected: tuple[int, int] | None = None) -> KernelPlayground:
    """A live figure: the reader edits a 3 × 3 kernel per channel and sees the feature map.

    Parameters
    ----------
    image : torch.Tensor
        (C, H, W) float image, 1 or 3 channels, sides 8 to 512 pixels.
    presets : dict of str to torch.Tensor, optional
        Named (C, 3, 3) kernels to choose from, 1 to :data:`MAX_PRESETS`; :func:`playground_presets` by default.
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
    selected : (int, int), optional
        Row and column of the output pixel whose multiply-add is shown first;
        by default the one where the first kernel responds most strongly.
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
    if not isinstance(presets, dict) or not 1 <= len(presets) <= MAX_PRESETS:
        raise ValueError(f"presets must be a non-empty dict of at most {MAX_PRESETS} names to (C, 3, 3) tensors, "
                         f"got {presets!r:.200}")
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
    output = _feature_map(image, presets[preset], padding, stride)
    if selected is None:
        selected = divmod(int(output.abs().argmax()), output.shape[1])
    elif not isinstance(selected, (tuple, list)) or len(selected) != 2:
        raise ValueError(f"selected must be (row, col), got {selected!r}")
    else:
        selected = (check_int("selected row", selected[0], low=0, high=output.shape[0] - 1),
                    check_int("selected col", selected[1], low=0, high=output.shape[1] - 1))
    names = ["red", "green", "blue"] if channels == 3 else ["gray"]
    pixels, encoding = image_buffer(image)
    return KernelPlayground(
        image=pixels, image_encoding=encoding, image_shape=[channels, height, width],
        kernel=to_buffer(presets[preset]), presets={k: to_buffer(v) for k, v in presets.items()},
        preset=preset, padding=padding, stride=stride, limit=float(limit), selected=[int(v) for v in selected],
        colormap=colormap(), channel_names=names, description=description.strip())


def _feature_map(image: torch.Tensor, kernel: torch.Tensor, padding: str, stride: int) -> torch.Tensor:
    """The (H', W') map the playground shows for ``kernel``, as the browser computes it."""
    x = image[None].float()
    if padding == "circular":
        x = torch.nn.functional.pad(x, (1, 1, 1, 1), mode="circular")
    elif padding == "zeros":
        x = torch.nn.functional.pad(x, (1, 1, 1, 1))
    return torch.nn.functional.conv2d(x, kernel[None].float(), stride=stride)[0, 0]
