"""Figures for the chapter "Parameter sharing"."""

from __future__ import annotations

import numpy as np

from .style import PALETTE, PHOTO, figure, outline, show_image, styled

COLOURS = {"dense": PALETTE["vermillion"], "locally connected": PALETTE["orange"], "convolution": PALETTE["blue"]}


@styled
def parameter_bars(counts, *, image_size, in_channels, out_channels, kernel_size):
    """Log-scale bars of the parameters of a dense, a locally connected and a convolutional layer.

    Parameters
    ----------
    counts : mapping
        Layer name to its number of parameters.
    image_size, in_channels, out_channels, kernel_size : int
        The configuration, for the titles.
    """
    names = list(COLOURS)
    values = [counts[n] for n in names]
    conv = counts["convolution"]
    fig, axes = figure(1, width=7.5, height=2.9, alt=(
        f"Parameters for a {image_size} by {image_size} image with {in_channels} channel(s), "
        f"{out_channels} output channels and a {kernel_size} by {kernel_size} kernel: dense "
        f"{counts['dense']:,}, locally connected {counts['locally connected']:,}, convolution {conv:,}"))
    fig.subplots_adjust(left=0.2, right=0.72, bottom=0.2)
    ax = axes[0, 0]
    ax.barh(names, values, color=[COLOURS[n] for n in names])
    ax.set_xscale("log")
    ax.set_xlim(1, max(values) * 50)
    ax.invert_yaxis()
    ax.set_xlabel("parameters (log scale)")
    for i, v in enumerate(values):
        ratio = "" if names[i] == "convolution" else f"\n({v / conv:,.0f}× the convolution)"
        ax.text(v * 1.3, i, f"{v:,}{ratio}", va="center", fontsize=8)
    ax.set_title(f"{in_channels} × {image_size} × {image_size} in, {out_channels} × "
                 f"{image_size - kernel_size + 1} × {image_size - kernel_size + 1} out, {kernel_size}×{kernel_size} kernels")
    return fig


@styled
def detector_everywhere(canvas, responses, *, learned: int, top: int, left: int, patch: int):
    """A patch placed on a canvas, and where a shared and an unshared detector respond to it.

    Parameters
    ----------
    canvas : array-like
        (H, W) input.
    responses : mapping
        ``{"convolution": (H', W'), "locally connected": (H', W')}`` responses.
    learned : int
        Side of the top-left block of positions where the unshared layer holds the detector.
    top, left, patch : int
        Where the patch sits and its side, to outline it.
    """
    conv = np.asarray(responses["convolution"], dtype=float)
    local = np.asarray(responses["locally connected"], dtype=float)
    bound = max(np.abs(conv).max(), np.abs(local).max(), 1e-9)
    fig, axes = figure(3, width=7.5, height=2.9, alt=(
        f"A photograph patch placed at row {top}, column {left} of a blank canvas; the shared edge "
        "detector responds to its edges wherever it is placed; the unshared layer responds with the "
        f"same edges only inside the top-left {learned} by {learned} block where it holds the detector"))
    show_image(axes[0, 0], canvas, cmap=PHOTO, vmin=0, vmax=1, title="input")
    outline(axes[0, 0], top, left, patch, patch)
    show_image(axes[0, 1], conv, signed=True, vmin=-bound, vmax=bound, title="shared kernel (convolution)")
    show_image(axes[0, 2], local, signed=True, vmin=-bound, vmax=bound, title="unshared (locally connected)")
    outline(axes[0, 2], 0, 0, learned, learned, color=PALETTE["green"])
    return fig


@styled
def scrambled(image, shuffled, before: float, after: float):
    """An image beside the same pixels in shuffled positions, with neighbour correlations."""
    fig, axes = figure(2, width=5.0, height=2.9, alt=(
        f"A photograph, whose horizontally adjacent pixels correlate at {before:.2f}, beside the same "
        f"pixels in shuffled positions, where the correlation drops to {after:.2f}"))
    show_image(axes[0, 0], image, cmap=PHOTO, vmin=0, vmax=1, title=f"neighbours correlate: {before:.2f}")
    show_image(axes[0, 1], shuffled, cmap=PHOTO, vmin=0, vmax=1, title=f"positions shuffled: {after:.2f}")
    return fig
