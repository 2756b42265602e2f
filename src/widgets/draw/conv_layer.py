"""Figures for the chapter "What a convolutional layer computes"."""

from __future__ import annotations

import numpy as np

from .style import PHOTO, figure, outline, show_image, styled, write_values


@styled
def multiply_add(image, step):
    """The input with one patch outlined, then the patch, the kernel and their products.

    Parameters
    ----------
    image : array-like
        The (H, W) input.
    step : widgets.compute.conv_layer.MultiplyAdd
        The computed multiply-add for one output position.
    """
    kh, kw = step.kernel.shape
    rows = f"rows {step.top}–{step.top + kh - 1}, cols {step.left}–{step.left + kw - 1}"
    fig, axes = figure(4, width=8.0, height=2.5, alt=(
        f"The input image with the {kh} by {kw} patch at {rows} outlined, the patch's pixel values, "
        f"the kernel's weights and their products, which sum to {step.value:+.3f}"))
    ax_in, ax_patch, ax_kernel, ax_prod = axes[0]
    show_image(ax_in, image, cmap=PHOTO, vmin=0, vmax=1,
               title=f"input, {rows}")
    outline(ax_in, step.top, step.left, kh, kw)
    show_image(ax_patch, step.patch, cmap=PHOTO, vmin=0, vmax=1, title="patch (pixel values)")
    write_values(ax_patch, step.patch)
    show_image(ax_kernel, step.kernel, signed=True, title="kernel (weights)")
    write_values(ax_kernel, step.kernel, fmt="{:+.0f}" if bool((step.kernel == step.kernel.round()).all()) else "{:+.2f}")
    show_image(ax_prod, step.products, signed=True,
               title=f"products; sum = {step.value:+.3f}")
    write_values(ax_prod, step.products)
    return fig


def _as_image(image):
    """(C, H, W) tensor or array to what imshow wants: (H, W) gray or (H, W, 3) RGB."""
    arr = np.asarray(image, dtype=float)
    if arr.ndim == 3:
        arr = arr[0] if arr.shape[0] == 1 else np.moveaxis(arr, 0, -1)
    return arr


@styled
def feature_maps(image, maps, names, *, slots: int | None = None):
    """The input beside one feature map per filter, on a grid of four columns.

    Parameters
    ----------
    image : array-like
        (C, H, W) input with values in [0, 1], C = 1 or 3.
    maps : array-like
        (n_filters, H_out, W_out) feature maps.
    names : sequence of str
        One title per feature map.
    slots : int, optional
        Room for this many maps (default: as many as given), so that frames
        with different numbers of maps have the same size.
    """
    maps = np.asarray(maps, dtype=float)
    arr = _as_image(image)
    slots = len(maps) if slots is None else max(slots, len(maps))
    ncols = min(4, slots + 1)
    nrows = -(-(slots + 1) // ncols)
    channels = 1 if arr.ndim == 2 else 3
    fig, axes = figure(ncols, nrows, width=2.0 * ncols, height=2.1 * nrows, alt=(
        f"The {'grayscale' if channels == 1 else 'colour'} input and {len(maps)} feature "
        f"map{'s' if len(maps) != 1 else ''}: {', '.join(names[:len(maps)])}; "
        "red is positive, blue negative"))
    cells = axes.ravel()
    show_image(cells[0], arr, cmap=PHOTO, vmin=0, vmax=1,
               title=f"input, {channels} channel{'s' if channels > 1 else ''}")
    for ax, fmap, name in zip(cells[1:], maps, names):
        show_image(ax, fmap, signed=True, title=name)
    for ax in cells[1 + len(maps):]:
        ax.set_axis_off()
    return fig


@styled
def input_dependence(image, grad, *, title: str = "inputs this output depends on"):
    """The input beside the magnitude of one output's input gradient (summed over channels).

    Parameters
    ----------
    image : array-like
        (C, H, W) input with values in [0, 1].
    grad : array-like
        (C, H, W) gradient of one output value with respect to the input.
    """
    grad = np.abs(np.asarray(grad, dtype=float)).sum(axis=0)
    rows, cols = np.nonzero(grad)
    fig, axes = figure(2, width=5.0, height=2.8, alt=(
        "The input image beside the magnitude of one output's gradient with respect to each input "
        f"pixel: non-zero only inside the outlined {rows.max() - rows.min() + 1 if rows.size else 0} by "
        f"{cols.max() - cols.min() + 1 if cols.size else 0} patch"))
    show_image(axes[0, 0], _as_image(image), cmap=PHOTO, vmin=0, vmax=1, title="input")
    show_image(axes[0, 1], grad, title=title)
    if rows.size:
        for ax in axes[0]:
            outline(ax, rows.min(), cols.min(), rows.max() - rows.min() + 1, cols.max() - cols.min() + 1)
    return fig
