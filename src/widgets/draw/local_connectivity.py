"""Figures for the chapter "Local connectivity"."""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

from .style import (
    CSS_DPI,
    HIGHLIGHT,
    PALETTE,
    PHOTO,
    figure,
    kind_series,
    min_font_points,
    show_image,
    styled,
    write_values,
)

LAYERS = ("dense", "locally connected", "convolution")

#: Room, in CSS pixels, that a value printed in a kernel's cell keeps from either side of it,
#: so that neighbouring values stay apart by two spaces' width or more.
CELL_PAD_PX = 3.0


def _tint(ax, mask, color=HIGHLIGHT, alpha=0.6):
    """Overlay the True pixels of ``mask`` in ``color``."""
    from matplotlib.colors import to_rgba

    overlay = np.zeros((*mask.shape, 4))
    overlay[np.asarray(mask, dtype=bool)] = to_rgba(color, alpha)
    ax.imshow(overlay)


@styled
def connections(image, masks, weights):
    """Which input pixels one output unit reads, and with which weights, under three layers.

    Parameters
    ----------
    image : array-like
        (H, W) input in [0, 1].
    masks : mapping
        Layer name (``"dense"``, ``"locally connected"``, ``"convolution"``) to an
        (H, W) boolean array of the connected pixels.
    weights : mapping
        Layer name to the unit's weights: (H, W) for the dense layer, (k, k) for the others.
    """
    image = np.asarray(image, dtype=float)
    counts = {name: int(np.asarray(masks[name]).sum()) for name in LAYERS}
    fig, axes = figure(3, 2, width=7.5, height=5.4, alt=(
        "The same output unit under three layers: a dense unit is connected to all "
        f"{counts['dense']} input pixels, a locally connected unit and a convolution unit to "
        f"{counts['convolution']} pixels in one patch; below, the weights each uses. Moving the unit "
        "changes the locally connected kernel but not the convolution's shared kernel"))
    fig.keep_columns = True   # each layer over its weights, on a phone too
    own = {"dense": "its own weights (one per pixel)", "locally connected": "its own kernel",
           "convolution": "the kernel every unit shares"}
    for j, name in enumerate(LAYERS):
        show_image(axes[0, j], image, cmap=PHOTO, vmin=0, vmax=1,
                   title=f"{name}: {counts[name]:,} connections")
        _tint(axes[0, j], masks[name])
        show_image(axes[1, j], weights[name], signed=True, title=own[name])
        if name != "dense":
            # Printed values, so "same kernel" and "different kernel" can be read, not guessed.
            _print_kernel(axes[1, j], np.asarray(weights[name], dtype=float))
    return fig


def _without_leading_zero(text: str) -> str:
    return re.sub(r"^(-?)0\.", r"\1.", text)


def _print_kernel(ax, kernel) -> list:
    """Write the kernel's values in their cells at the book's smallest text size, as they fit; the texts written.

    ``"+0.19"`` where every value fits in its cell, :data:`CELL_PAD_PX` from its
    sides; else ``".19"`` and ``"-.19"``, two decimals still, the plus sign and the
    leading zero left out (the colour tells the sign, as it does on the dense
    weights); else, in cells too small even for that, no values (none written).
    """
    from matplotlib.backends.backend_agg import RendererAgg

    fig = ax.figure
    size = min_font_points(fig.get_figwidth())  # what style.legible would raise a smaller one to
    ax.apply_aspect()  # the image's box as it is drawn
    renderer = RendererAgg(1, 1, fig.dpi)
    frame = ax.get_window_extent(renderer)
    rows, cols = kernel.shape
    pad = CELL_PAD_PX * fig.dpi / CSS_DPI
    room = min(frame.width / cols, frame.height / rows) - 2 * pad
    for fmt, compact in (("{:+.2f}", False), ("{:.2f}", True)):
        start = len(ax.texts)
        write_values(ax, kernel, fmt=fmt, fontsize=size)
        texts = ax.texts[start:]
        for text in texts if compact else ():
            text.set_text(_without_leading_zero(text.get_text()))
        boxes = [text.get_window_extent(renderer) for text in texts]
        if all(box.width <= room and box.height <= room for box in boxes):
            return texts
        for text in texts:
            text.remove()
    return []


@styled
def four_regions(image, kernels=None):
    """Seed example: a 4 x 4 digit split into quadrants, each seen by one hidden unit.

    Parameters
    ----------
    image : array-like
        (4, 4) image, 1 for ink.
    kernels : mapping, optional
        Layer name to a (2, 2, kH, kW) array: the kernel of each of the four
        hidden units (by quadrant row and column). Each is drawn below the
        diagram with its values printed, one row per layer.
    """
    image = np.asarray(image, dtype=float)
    if kernels is not None and not isinstance(kernels, Mapping):
        raise ValueError(f"kernels must be a mapping of layer name to (2, 2, kH, kW) kernels, got {kernels!r:.80}")
    kernels = {} if kernels is None else {name: np.asarray(k, dtype=float) for name, k in kernels.items()}
    for name, k in kernels.items():
        if k.ndim != 4 or k.shape[:2] != (2, 2):
            raise ValueError(f"kernels[{name!r}] must have shape (2, 2, kH, kW), got {k.shape}")
    colours = [PALETTE["blue"], PALETTE["orange"], PALETTE["green"], PALETTE["purple"]]
    quadrants = [(0, 0), (0, 2), (2, 0), (2, 2)]
    described = "; ".join(
        f"{name} kernels: " + ", ".join(
            "[" + " ".join(f"{v:+.2f}" for v in k[q // 2, q % 2].ravel()) + "]" for q in range(4))
        for name, k in kernels.items())
    alt = ("A 4 by 4 image of the digit seven split into four 2 by 2 quadrants; each of four hidden "
           "units is connected only to the four pixels of its own quadrant, and all four hidden units "
           "feed one output unit" + (f". Below, each hidden unit's kernel with its values: {described}"
                                     if kernels else ""))
    rows = 1 + len(kernels)
    fig, axes = figure(4, rows, width=6.0, height=3.4 + 1.9 * len(kernels), alt=alt)
    if kernels:
        grid = axes[0, 0].get_gridspec()
        grid.set_height_ratios([2.2] + [1.0] * len(kernels))
        fig.subplots_adjust(hspace=0.75)
        for ax in axes[0]:
            ax.remove()
        ax = fig.add_subplot(grid[0, :])
    else:
        ax = axes[0, 0]
        for extra in axes[0, 1:]:
            extra.remove()
    ax.imshow(image, cmap="gray_r", vmin=0, vmax=1.6, extent=(0, 4, 4, 0))
    units = {q: (6.5, 0.5 + q) for q in range(4)}
    for q, (top, left) in enumerate(quadrants):
        ax.add_patch(_square(left, top, colours[q]))
        for i in range(top, top + 2):
            for j in range(left, left + 2):
                ax.plot([j + 0.5, units[q][0]], [i + 0.5, units[q][1]], color=colours[q], lw=1.0, alpha=0.8)
        ax.add_patch(_circle(units[q], colours[q]))
        ax.plot([units[q][0], 9.0], [units[q][1], 2.0], color="0.4", lw=1.0)
    ax.add_patch(_circle((9.0, 2.0), "0.3"))
    ax.text(6.5, -0.35, "hidden units", ha="center")
    ax.text(9.0, 1.25, "output", ha="center")
    ax.text(2.0, -0.35, "input (16 pixels)", ha="center")
    ax.set_xlim(-0.2, 9.8)
    ax.set_ylim(4.3, -0.8)
    ax.set_aspect("equal")
    ax.set_axis_off()
    if kernels:
        limit = max(float(np.abs(k).max()) for k in kernels.values()) or 1.0
        for r, (name, k) in enumerate(kernels.items(), start=1):
            for q in range(4):
                cell = axes[r, q]
                show_image(cell, k[q // 2, q % 2], signed=True, vmin=-limit, vmax=limit,
                           title=f"unit {q + 1}")
                if q == 0:
                    cell.text(0.0, 1.45, f"{name}: the kernel of each hidden unit",
                              transform=cell.transAxes, ha="left", va="bottom")
                write_values(cell, k[q // 2, q % 2], fmt="{:+.2f}")
                for spine in cell.spines.values():
                    spine.set_visible(True)
                    spine.set_edgecolor(colours[q])
                    spine.set_linewidth(3)
    return fig


def _square(left, top, color):
    from matplotlib.patches import Rectangle

    return Rectangle((left + 0.05, top + 0.05), 1.9, 1.9, fill=False, edgecolor=color, linewidth=3)


def _circle(centre, color):
    from matplotlib.patches import Circle

    return Circle(centre, 0.3, facecolor=color, edgecolor="black", linewidth=0.8, zorder=3)


@styled
def count_scaling(pixels, counts):
    """Parameters and multiply-adds of the three layers against the number of input pixels (log-log).

    Parameters
    ----------
    pixels : sequence of int
        Input pixels of each size measured.
    counts : sequence of mapping
        For each size, layer name to ``{"parameters", "multiply_adds"}``.
    """
    fig, axes = figure(2, width=7.5, height=3.2, alt=(
        "Log-log plots of parameters and multiply-adds against input pixels: the dense layer grows "
        "with the square of the image size, the locally connected layer linearly in both, and the "
        "convolution's parameters stay constant while its multiply-adds grow linearly"))
    # The legend sits below both axes, where it covers no data.
    fig.subplots_adjust(left=0.1, bottom=0.3, top=0.9, wspace=0.3)
    for ax, key, title in zip(axes[0], ("parameters", "multiply_adds"), ("parameters", "multiply-adds per image")):
        for i, name in enumerate(LAYERS):
            ax.loglog(pixels, [c[name][key] for c in counts], label=name, **kind_series(name, i))
        ax.set_xlabel("input pixels")
        ax.set_title(title)
        ax.grid(True, which="major", alpha=0.3)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(LAYERS), frameon=False)
    return fig


@styled
def neighbour_correlation(distances, curves):
    """Correlation of pixels against the distance between them, one line per curve.

    Parameters
    ----------
    distances : sequence of int
        Distances in pixels.
    curves : mapping
        Label to one correlation per distance; a label containing "shuffled" is drawn
        dashed in gray (a control).
    """
    distances = np.asarray(distances, dtype=float)
    if distances.ndim != 1 or not len(distances):
        raise ValueError(f"distances must be a non-empty 1-D sequence, got shape {distances.shape}")
    if not isinstance(curves, Mapping) or not curves or any(np.shape(v) != distances.shape for v in curves.values()):
        raise ValueError(f"curves must map labels to one value per distance ({len(distances)}), got {curves!r:.80}")
    fig, axes = figure(1, width=6.0, height=3.4, alt=(
        "Correlation between pixels against the distance between them, in pixels: " + "; ".join(
            f"{name} from {float(np.asarray(v)[0]):.2f} at {distances[0]:.0f} to {float(np.asarray(v)[-1]):.2f} "
            f"at {distances[-1]:.0f}" for name, v in curves.items())))
    ax = axes[0, 0]
    fig.subplots_adjust(left=0.12, bottom=0.17, right=0.97, top=0.88)
    colours = [PALETTE["blue"], PALETTE["vermillion"], PALETTE["green"]]
    for i, (name, values) in enumerate(curves.items()):
        control = "shuffled" in name
        ax.plot(distances, np.asarray(values, dtype=float), label=name, marker="o" if not control else "s",
                markersize=4, ls="--" if control else "-", color="gray" if control else colours[i % 3])
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xlabel("distance between the two pixels (pixels)")
    ax.set_ylabel("correlation")
    ax.set_title("how alike pixels are, by distance")
    ax.legend(frameon=False, fontsize=8)
    return fig
