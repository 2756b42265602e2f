"""Figures for the chapter "Putting it together": trained networks on real digits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .style import HIGHLIGHT, PALETTE, PHOTO, figure, outline, show_image, styled

#: One colour per network, the same in every figure of the chapter.
COLOURS = {
    "dense": PALETTE["blue"],
    "locally connected": PALETTE["orange"],
    "convolutional": PALETTE["green"],
    "convolutional, flattened head": PALETTE["purple"],
}
MARKERS = {"dense": "o", "locally connected": "s", "convolutional": "^", "convolutional, flattened head": "v"}


def _colour(name):
    return COLOURS.get(name, PALETTE["black"])


def _span(fig, axes, rows, cols):
    """Replace the axes in grid cells [rows] x [cols] by one axis spanning them."""
    grid = axes[0, 0].get_subplotspec().get_gridspec()
    for ax in np.atleast_2d(axes[rows, cols]).ravel():
        ax.remove()
    return fig.add_subplot(grid[rows, cols])


@styled
def kernels_before_after(before, gradient, after):
    """First-layer kernels before training, the loss gradient on them, and the kernels after training.

    Parameters
    ----------
    before, gradient, after : array-like
        (channels, kH, kW) each: the kernels, the gradient of the loss with
        respect to them (one batch, before any update), and the trained kernels.
    """
    rows = {"before training": np.asarray(before, dtype=float),
            "gradient of the loss": np.asarray(gradient, dtype=float),
            "after training": np.asarray(after, dtype=float)}
    n, kh, kw = rows["before training"].shape
    nonzero = int((np.abs(rows["gradient of the loss"]).reshape(n, -1).sum(axis=1) > 0).sum())
    fig, axes = figure(n, 3, width=min(1.0 * n + 1.2, 16.0), height=3.9, alt=(
        f"Three rows of the {n} first-layer {kh} by {kw} kernels of the convolutional network: before "
        f"training, the gradient of the loss with respect to them after one backward pass "
        f"(non-zero for {nonzero} of the {n} kernels, each on its own scale), and after training; red is "
        "positive, blue negative"))
    fig.subplots_adjust(left=1.15 / fig.get_figwidth(), top=1 - 0.45 / 3.9, hspace=0.35)
    for r, (label, values) in enumerate(rows.items()):
        bound = float(np.abs(values).max()) or 1.0
        for c in range(n):
            if label == "gradient of the loss":
                # Each gradient on its own scale, its size written below: some are much
                # smaller than others and would vanish on a shared scale.
                own = float(np.abs(values[c]).max())
                show_image(axes[r, c], values[c], signed=True, vmin=-(own or 1.0), vmax=own or 1.0)
                axes[r, c].set_xlabel(f"±{own:.1e}", fontsize=7, labelpad=2)
            else:
                show_image(axes[r, c], values[c], signed=True, vmin=-bound, vmax=bound,
                           title=f"channel {c}" if r == 0 else "")
        axes[r, 0].set_ylabel(label.replace(" of the ", "\nof the ").replace(" training", "\ntraining"),
                              rotation=0, ha="right", va="center", fontsize=8)
    fig.suptitle("First-layer kernels of the convolutional network")
    return fig


@styled
def placements(centred, anywhere, *, count: int = 8):
    """The same training digits centred on the canvas and placed at random.

    Parameters
    ----------
    centred, anywhere : array-like
        (N, 1, H, W) or (N, H, W) images, N at least ``count``.
    count : int
        How many to show.
    """
    centred = np.asarray(centred, dtype=float).reshape(len(centred), *np.shape(centred)[-2:])
    anywhere = np.asarray(anywhere, dtype=float).reshape(len(anywhere), *np.shape(anywhere)[-2:])
    side = centred.shape[-1]
    fig, axes = figure(count, 2, width=min(0.9 * count + 0.3, 16.0), height=2.6, alt=(
        f"{count} handwritten digits on a {side} by {side} canvas: in the top row centred, as scikit-learn "
        "stores them; in the bottom row the same digits each moved to a random place"))
    fig.subplots_adjust(hspace=0.35)
    for c in range(count):
        show_image(axes[0, c], centred[c], cmap=PHOTO, vmin=0, vmax=1)
        show_image(axes[1, c], anywhere[c], cmap=PHOTO, vmin=0, vmax=1)
    axes[0, 0].set_title("centred", loc="left")
    axes[1, 0].set_title("placed anywhere", loc="left")
    fig.suptitle("Training digits, centred and placed at random")
    return fig


@styled
def sample_efficiency(sizes, panels: Mapping[str, Mapping[str, object]], *, chance: float = 0.1):
    """Test accuracy against training-set size, one panel per kind of data.

    Parameters
    ----------
    sizes : sequence of int
        Training-set sizes (the x axis, log scale).
    panels : mapping
        Panel title to a mapping of network name to accuracies, an array of
        shape (len(sizes),) or (len(sizes), seeds); several seeds are drawn
        as dots around their mean.
    chance : float
        Accuracy of guessing, drawn as a dotted line.
    """
    sizes = np.asarray(sizes, dtype=float)
    fig, axes = figure(len(panels), width=4.0 * len(panels) + 0.5, height=3.4, alt="")
    fig.subplots_adjust(left=0.75 / fig.get_figwidth(), bottom=0.55 / 3.4, wspace=0.12)
    summary = []
    for ax, (title, curves) in zip(axes[0], panels.items()):
        parts = []
        for name, acc in curves.items():
            acc = np.asarray(acc, dtype=float).reshape(len(sizes), -1)
            mean = acc.mean(axis=1)
            ax.plot(sizes, mean, marker=MARKERS.get(name, "o"), color=_colour(name), label=name)
            if acc.shape[1] > 1:
                for j in range(acc.shape[1]):
                    ax.plot(sizes, acc[:, j], ls="none", marker=".", color=_colour(name), alpha=0.5)
            parts.append(f"{name} {mean[0]:.0%} to {mean[-1]:.0%}")
        summary.append(f"{title}: " + ", ".join(parts))
        ax.axhline(chance, color="0.5", ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_xticks(sizes, [f"{int(s):,}" for s in sizes])
        ax.minorticks_off()
        ax.set_ylim(0, 1)
        ax.set_xlabel("training digits")
        ax.set_title(title)
        ax.grid(True, alpha=0.3)
    axes[0, 0].set_ylabel("test accuracy")
    axes[0, 0].text(sizes[0], chance + 0.02, "chance", fontsize=7, color="0.4")
    for ax in axes[0, 1:]:
        ax.set_yticklabels([])
    axes[0, 0].legend(fontsize=7, loc="lower right")
    fig.alt = ("Test accuracy against the number of training digits, from "
               f"{int(sizes[0]):,} to {int(sizes[-1]):,} on a log scale. " + "; ".join(summary))
    fig.suptitle("Accuracy as the training set grows")
    return fig


@styled
def shift_generalisation(shifts, curves: Mapping[str, Sequence[float]], examples, *, chance: float = 0.1):
    """Accuracy of networks trained on centred digits, tested on digits moved by each distance.

    Parameters
    ----------
    shifts : sequence of int
        Distances in pixels.
    curves : mapping
        Network name to one accuracy per distance.
    examples : array-like
        (len(shifts), H, W): one test digit moved by each distance, shown
        above the plot.
    chance : float
        Accuracy of guessing, drawn as a dotted line.
    """
    shifts = list(shifts)
    examples = np.asarray(examples, dtype=float)
    n = len(shifts)
    fig, axes = figure(n, 2, width=6.5, height=5.0, alt=(
        "Above, one test digit moved right by " + ", ".join(str(s) for s in shifts) + " pixels. Below, "
        "test accuracy against the distance the test digits are moved (averaged over up, down, left and "
        "right) for networks trained on centred digits: " + "; ".join(
            f"{name} {acc[0]:.0%} at 0 and {acc[-1]:.0%} at {shifts[-1]} pixels" for name, acc in curves.items())))
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.1, top=0.92, hspace=0.25)
    grid = axes[0, 0].get_subplotspec().get_gridspec()
    grid.set_height_ratios([1, 2.6])
    for ax, s, image in zip(axes[0], shifts, examples):
        show_image(ax, image, cmap=PHOTO, vmin=0, vmax=1, title=f"moved {s}")
    ax = _span(fig, axes, 1, slice(None))
    for name, acc in curves.items():
        ax.plot(shifts, acc, marker=MARKERS.get(name, "o"), color=_colour(name), label=name)
    ax.axhline(chance, color="0.5", ls=":", lw=1)
    ax.text(shifts[0], chance + 0.02, "chance", fontsize=7, color="0.4")
    ax.set_xticks(shifts)
    ax.set_ylim(0, 1)
    ax.set_xlabel("distance the test digits are moved (pixels)")
    ax.set_ylabel("test accuracy")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="center right")
    fig.suptitle("Trained on centred digits, tested on moved digits")
    return fig


@styled
def feature_frame(digit, kernel, fmap, top, *, layer: int, channel: int, field):
    """What one channel of a trained network responds to.

    Top row: the channel's kernel, a digit with the field of the channel's
    most active unit outlined, and the channel's feature map on that digit.
    Bottom row: the input patches, one per test image, under the channel's
    most active units (largest first).

    Parameters
    ----------
    digit : array-like
        (H, W) input in [0, 1].
    kernel : array-like
        (kH, kW) picture of the channel's kernel.
    fmap : array-like
        (h, w) the channel's feature map on ``digit`` (after the ReLU).
    top : widgets.compute.trained_networks.TopPatches
        The strongest patches over the test set.
    layer, channel : int
        Which layer and channel, for the titles.
    field : widgets.compute.trained_networks.Field
        The layer's receptive field.
    """
    digit = np.asarray(digit, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    fmap = np.asarray(fmap, dtype=float)
    patches = np.asarray(top.patches, dtype=float)
    k = len(patches)
    size = field.size
    fig, axes = figure(k, 2, width=8.0, height=4.4, alt=(
        f"Layer {layer}, channel {channel}: its {kernel.shape[0]} by {kernel.shape[1]} kernel"
        f"{'' if layer == 1 else ' summed over its input channels'}, a digit with "
        f"the {size} by {size} field of the channel's most active unit outlined, the channel's "
        f"{fmap.shape[0]} by {fmap.shape[1]} feature map on it (largest value {fmap.max():.2f}), and the "
        f"{k} {size} by {size} test-set patches that excite it most (activations {top.values[0]:.2f} "
        f"down to {top.values[-1]:.2f})"))
    fig.subplots_adjust(top=0.88, bottom=0.02, hspace=0.55)
    axes[0, 0].get_subplotspec().get_gridspec().set_height_ratios([2.3, 1])
    if k < 3:
        raise ValueError(f"top must hold at least 3 patches (the top row needs 3 columns), got {k}")
    first = max(1, k // 4)
    second = first + (k - first) // 2
    ax_kernel = _span(fig, axes, 0, slice(0, first))
    ax_digit = _span(fig, axes, 0, slice(first, second))
    ax_map = _span(fig, axes, 0, slice(second, k))
    show_image(ax_kernel, kernel, signed=True, title="kernel" if layer == 1 else "kernel (summed)")
    show_image(ax_digit, digit, cmap=PHOTO, vmin=0, vmax=1, title=f"digit; field {size} × {size}")
    row, col = np.unravel_index(int(np.argmax(fmap)), fmap.shape)
    if fmap.max() > 0:
        outline(ax_digit, row * field.jump + field.start, col * field.jump + field.start, size, size)
        ax_digit.set_xlim(-0.5, digit.shape[1] - 0.5)
        ax_digit.set_ylim(digit.shape[0] - 0.5, -0.5)
    show_image(ax_map, fmap, vmin=0, vmax=max(float(fmap.max()), 1e-6), title="feature map on the digit")
    for ax, patch, value in zip(axes[1], patches, top.values):
        show_image(ax, patch, cmap=PHOTO, vmin=0, vmax=1, title=f"{float(value):.2f}")
        for spine in ax.spines.values():
            spine.set_edgecolor(HIGHLIGHT)
    box = axes[1, 0].get_position()
    fig.text(box.x0, box.y1 + 0.075, f"the {k} test patches that excite it most, one per digit "
             "(activation above each)", fontsize=8, va="bottom")
    fig.suptitle(f"What layer {layer}, channel {channel} responds to")
    return fig


@styled
def motif_detection(signal, responses, kernels, pattern, *, motif_at: Sequence[int], decoy_at: Sequence[int]):
    """A 1-D convolution finding a motif wherever it occurs in a signal.

    Parameters
    ----------
    signal : array-like
        (L,) the test signal.
    responses : array-like
        (2, L - k + 1) the two kernels' responses along it (0: decoy, 1: motif).
    kernels : array-like
        (2, k) the trained kernels.
    pattern : array-like
        (k,) the motif.
    motif_at, decoy_at : sequence of int
        Where the motif and the decoy start in ``signal``.
    """
    signal = np.asarray(signal, dtype=float)
    responses = np.asarray(responses, dtype=float)
    kernels = np.asarray(kernels, dtype=float)
    pattern = np.asarray(pattern, dtype=float)
    k = len(pattern)
    peaks = [int(np.argmax(r)) for r in responses]
    fig, axes = figure(3, 3, width=8.0, height=5.4, alt=(
        f"A noisy signal of {len(signal)} samples with the motif starting at "
        + ", ".join(str(p) for p in motif_at) + " and its time-reversed decoy at "
        + ", ".join(str(p) for p in decoy_at) + f"; below, the responses of the two trained {k}-tap "
        f"kernels along it (the motif kernel peaks at {peaks[1]}, the decoy kernel at {peaks[0]}); "
        "right, the motif, the decoy and the two kernels"))
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.09, top=0.9, wspace=0.35, hspace=0.55)
    ax_signal = _span(fig, axes, 0, slice(0, 2))
    ax_motif = _span(fig, axes, 1, slice(0, 2))
    ax_decoy = _span(fig, axes, 2, slice(0, 2))
    ax_kern = _span(fig, axes, slice(0, 3), 2)
    t = np.arange(len(signal))
    ax_signal.plot(t, signal, color="0.3", lw=1)
    marks = ((motif_at, COLOURS["convolutional"], "motif"), (decoy_at, COLOURS["locally connected"], "decoy"))
    for starts, colour, label in marks:
        for i, s in enumerate(starts):
            ax_signal.axvspan(s - 0.5, s + k - 0.5, color=colour, alpha=0.25, label=label if i == 0 else None)
    ax_signal.set_title("signal: motif and decoy shaded")
    ax_signal.legend(fontsize=7, loc="lower right", ncol=2)
    positions = np.arange(responses.shape[1])
    for ax, r, colour, title in ((ax_motif, responses[1], COLOURS["convolutional"], "motif kernel"),
                                 (ax_decoy, responses[0], COLOURS["locally connected"], "decoy kernel")):
        for starts, shade, _ in marks:
            for s in starts:
                ax.axvspan(s - 0.5, s + 0.5, color=shade, alpha=0.35)
        ax.plot(positions, r, color=colour)
        ax.set_title(f"response of the {title} (feature map)")
        ax.grid(True, alpha=0.3)
    for ax in (ax_signal, ax_motif, ax_decoy):
        ax.set_xlim(-0.5, len(signal) - 0.5)
    ax_decoy.set_xlabel("position (first sample of the window)")
    taps = np.arange(k)
    scale = float(np.abs(kernels).max()) / float(np.abs(pattern).max())
    ax_kern.plot(taps, pattern * scale, color=COLOURS["convolutional"], lw=6, alpha=0.3, label="motif (scaled)")
    ax_kern.plot(taps, pattern[::-1] * scale, color=COLOURS["locally connected"], lw=6, alpha=0.3,
                 label="decoy (scaled)")
    ax_kern.plot(taps, kernels[1], color=COLOURS["convolutional"], marker="o", label="motif kernel")
    ax_kern.plot(taps, kernels[0], color=COLOURS["locally connected"], marker="s", ls="--", label="decoy kernel")
    ax_kern.set_xlabel("tap")
    ax_kern.set_title("kernels after training")
    ax_kern.legend(fontsize=6, loc="lower left")
    ax_kern.grid(True, alpha=0.3)
    fig.suptitle("A 1-D convolution finds a motif wherever it occurs")
    return fig
