"""Figures for the chapter "What the layers learn": the strongest patches of every channel, and a 1-D motif."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence

import matplotlib
import numpy as np

from .._checks import MAX_SIDE, check_int
from .style import HIGHLIGHT, PALETTE, PHOTO, figure, outline, series, show_image, span_cells, styled


def _strip(patches, gap: int = 1) -> np.ndarray:
    """Patches (k, s, s) side by side in one image, separated by ``gap`` columns of NaN."""
    k, s, _ = patches.shape
    out = np.full((s, k * s + (k - 1) * gap), np.nan)
    for i, patch in enumerate(patches):
        out[:, i * (s + gap):i * (s + gap) + s] = patch
    return out


def _show_strip(ax, patches):
    strip = _strip(np.asarray(patches, dtype=float))
    # The gaps (NaN) in a colour no patch can have.
    cmap = matplotlib.colormaps[PHOTO].with_extremes(bad=PALETTE["sky"])
    ax.imshow(np.ma.masked_invalid(strip), cmap=cmap, vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])


def _check_tops(tops) -> list:
    if isinstance(tops, (str, bytes)) or not isinstance(tops, Sequence) or not len(tops):
        raise ValueError(f"tops must be a non-empty sequence of TopPatches, one per channel, got {tops!r:.80}")
    for i, top in enumerate(tops):
        if not hasattr(top, "patches") or np.ndim(top.patches) != 3:
            raise ValueError(f"tops must hold TopPatches, got {type(top).__name__} at position {i}")
    return list(tops)


def _count(n: int, one: str, many: str) -> str:
    """``n`` with the singular or plural phrase: "1 channel is", "7 channels are"."""
    return f"{n} {one if n == 1 else many}"


@styled
def channel_grid(tops, dead, *, layer: int, field: int, kernels=None, columns: int = 2):
    """The strongest input patches of every channel of one layer, a strip per channel.

    Parameters
    ----------
    tops : sequence of TopPatches
        One per channel (:func:`widgets.compute.feature_hierarchy.top_patches`),
        each with the same number of patches.
    dead : sequence of bool
        One per channel: True for a channel that is zero on every image; its
        strip is left empty and marked, since its "strongest" patches would be
        arbitrary.
    layer : int
        Which layer, for the title.
    field : int
        Side of the patches (the receptive field), for the title.
    kernels : array-like, optional
        (channels, kH, kW) kernels drawn left of each strip (for layer 1).
    columns : int
        Strips side by side, 1 to 6.
    """
    tops = _check_tops(tops)
    dead = [bool(d) for d in dead]
    if len(dead) != len(tops):
        raise ValueError(f"dead must have one entry per channel ({len(tops)}), got {len(dead)}")
    layer = check_int("layer", layer, low=1)
    field = check_int("field", field, low=1)
    columns = check_int("columns", columns, low=1, high=6)
    n, k = len(tops), len(tops[0].patches)
    if kernels is not None:
        kernels = np.asarray(kernels, dtype=float)
        if kernels.ndim != 3 or len(kernels) != n:
            raise ValueError(f"kernels must be (channels={n}, kH, kW), got shape {kernels.shape}")
    rows = math.ceil(n / columns)
    per = 2 if kernels is not None else 1
    width = min(16.0, 0.55 * columns * (k + (1 if kernels is not None else 0)) + 0.6 * columns)
    height = max(1.8, 0.62 * rows + 0.9)
    width = max(width, 4.0)
    # The title wraps to the figure's width (about ten characters an inch at its size).
    title = textwrap.fill(f"Layer {layer}: the {k} strongest {field} × {field} patches of each channel",
                          int(width * 10))
    lines = title.count("\n") + 1
    fig, axes = figure(columns * per, rows, width=width, height=min(height + 0.2 * (lines - 1), 16.0), alt="")
    fig.subplots_adjust(left=0.35 / fig.get_figwidth(), right=1 - 0.1 / fig.get_figwidth(),
                        top=1 - (0.35 + 0.2 * lines) / fig.get_figheight(), bottom=0.1 / fig.get_figheight(),
                        wspace=0.05 if kernels is not None else 0.08 if columns == 1 else 0.3,
                        hspace=0.15)
    if kernels is not None:
        grid = axes[0, 0].get_subplotspec().get_gridspec()
        grid.set_width_ratios([1, k * 1.05] * columns)
        bound = float(np.abs(kernels).max()) or 1.0
    for ax in axes.ravel():
        ax.set_axis_off()
    for c in range(n):
        row, col = c % rows, c // rows
        ax = axes[row, col * per + per - 1]
        ax.set_axis_on()
        empty = not dead[c] and not np.asarray(tops[c].patches).any()
        if dead[c] or empty:
            _show_strip(ax, np.full_like(np.asarray(tops[c].patches, dtype=float), np.nan))
            ax.text(0.5, 0.5, "dead" if dead[c] else "blank canvas",
                    transform=ax.transAxes, ha="center", va="center", color=PALETTE["black"])
        else:
            _show_strip(ax, tops[c].patches)
        label_ax = ax
        if kernels is not None:
            kax = axes[row, col * per]
            kax.set_axis_on()
            show_image(kax, kernels[c], signed=True, vmin=-bound, vmax=bound)
            kax.set_anchor("E")  # next to its strip, not centred in its cell
            ax.set_anchor("W")
            label_ax = kax
        label_ax.set_ylabel(str(c), rotation=0, ha="right", va="center", labelpad=4)
    n_dead = sum(dead)
    n_blank = sum(1 for c in range(n) if not dead[c] and not np.asarray(tops[c].patches).any())
    fig.alt = (f"Layer {layer}: for each of its {n} channels (numbered at the left), the {k} test "
               f"patches of {field} by {field} pixels that excite it most, one per digit, strongest first"
               + ("; " + _count(n_dead, "channel is zero on every test digit and is",
                                "channels are zero on every test digit and are") + " marked dead" if n_dead else "")
               + ("; " + _count(n_blank, "channel responds most where it sees only blank canvas, and is",
                                "channels respond most where they see only blank canvas, and are") + " marked so"
                  if n_blank else "")
               + ("; left of each strip, the channel's kernel (red positive, blue negative)"
                  if kernels is not None else ""))
    fig.suptitle(title)
    return fig


@styled
def feature_frame(digit, fmap, top, *, layer: int, channel: int, field, dead: bool = False):
    """What one channel of the trained network responds to, on one digit and over the test set.

    Top row: a digit with the field of the channel's most active unit
    outlined, the channel's feature map on that digit, and the average of the
    channel's strongest patches. Bottom row: those patches, strongest first.

    Parameters
    ----------
    digit : array-like
        (H, W) input in [0, 1].
    fmap : array-like
        (h, w) the channel's feature map on ``digit`` (after the ReLU).
    top : TopPatches
        The strongest patches over the test set, at least 3.
    layer, channel : int
        Which layer and channel, for the titles.
    field : widgets.compute.receptive_fields.Field
        The layer's receptive field (size, jump, offset).
    dead : bool
        The channel is zero on every test digit: its patches are not drawn.
        A channel whose patches are all blank canvas is said to be so.
    """
    digit = np.asarray(digit, dtype=float)
    fmap = np.asarray(fmap, dtype=float)
    _check_tops([top])
    patches = np.asarray(top.patches, dtype=float)
    k = len(patches)
    if k < 3:
        raise ValueError(f"top must hold at least 3 patches (the top row needs 3 columns), got {k}")
    size = field.size
    fig, axes = figure(3, 2, width=8.0, height=4.4, alt=(
        f"Layer {layer}, channel {channel}: a digit with the {size} by {size} field of the channel's most "
        f"active unit outlined, the channel's {fmap.shape[0]} by {fmap.shape[1]} feature map on it "
        f"(largest value {fmap.max():.2f}), "
        + ("and no patches: the channel is zero on every test digit" if dead else
           f"the average of its {k} strongest test patches, and those {size} by {size} patches "
           f"(activations {float(top.values[0]):.2f} down to {float(top.values[-1]):.2f})")))
    fig.subplots_adjust(top=0.86, bottom=0.1, hspace=0.45)
    axes[0, 0].get_subplotspec().get_gridspec().set_height_ratios([2.6, 1])
    ax_digit, ax_map, ax_mean = axes[0]
    ax_strip = span_cells(fig, axes, 1, slice(0, 3))
    show_image(ax_digit, digit, cmap=PHOTO, vmin=0, vmax=1, title=f"digit; field {size} × {size}")
    if fmap.max() > 0:
        row, col = np.unravel_index(int(np.argmax(fmap)), fmap.shape)
        outline(ax_digit, row * field.jump + field.offset, col * field.jump + field.offset, size, size)
        ax_digit.set_xlim(-0.5, digit.shape[1] - 0.5)
        ax_digit.set_ylim(digit.shape[0] - 0.5, -0.5)
    show_image(ax_map, fmap, vmin=0, vmax=max(float(fmap.max()), 1e-6), title="its feature map")
    empty = not dead and not patches.any()
    if dead or empty:
        ax_mean.set_axis_off()
        ax_strip.set_axis_off()
        ax_mean.text(0.5, 0.5, "dead channel:\nzero on every\ntest digit" if dead else
                     "strongest where\nit sees only\nblank canvas", ha="center", va="center",
                     transform=ax_mean.transAxes)
    else:
        show_image(ax_mean, patches.mean(axis=0), cmap=PHOTO, vmin=0, vmax=1,
                   title=f"average of the {k} patches")
        _show_strip(ax_strip, patches)
        ax_strip.set_title(f"its {k} strongest test patches, one per digit", loc="left")
        ax_strip.set_xlabel("activations: " + ", ".join(f"{float(v):.1f}" for v in top.values))
        for spine in ax_strip.spines.values():
            spine.set_edgecolor(HIGHLIGHT)
    fig.suptitle(f"What layer {layer}, channel {channel} responds to")
    return fig


@styled
def by_layer(measures: Mapping[str, object], *, fields: Sequence[int]):
    """One or more measures of each layer, mean over seeds with the seeds' spread as error bars.

    Parameters
    ----------
    measures : mapping
        Name of a measure (a fraction in [0, 1]) to an array (layers, seeds).
    fields : sequence of int
        Each layer's receptive-field side, for the axis labels.
    """
    if not isinstance(measures, Mapping) or not measures:
        raise ValueError("measures must be a non-empty mapping of name to (layers, seeds) values, "
                         f"got {measures!r:.80}")
    fields = [check_int("fields", f, low=1, high=MAX_SIDE) for f in fields]
    fig, axes = figure(1, width=6.5, height=3.4, alt="")
    ax = axes[0, 0]
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.2, top=0.86)
    layers = np.arange(1, len(fields) + 1)
    parts = []
    for i, (name, values) in enumerate(measures.items()):
        values = np.asarray(values, dtype=float)
        if values.ndim != 2 or len(values) != len(fields):
            raise ValueError(f"measures[{name!r}] must be (layers={len(fields)}, seeds), got shape {values.shape}")
        mean = values.mean(axis=1)
        std = values.std(axis=1, ddof=1) if values.shape[1] > 1 else np.zeros(len(values))
        ax.errorbar(layers, mean, yerr=std, capsize=4, label=name, **series(i))
        parts.append(f"{name}: " + ", ".join(f"layer {L} {m:.0%} ± {s:.0%}" for L, m, s in zip(layers, mean, std)))
        seeds = values.shape[1]
    ax.set_xticks(layers, [f"layer {L}\nfield {f} × {f}" for L, f in zip(layers, fields)])
    ax.set_xlim(0.6, len(fields) + 0.4)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("mean over channels")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize=9)
    fig.alt = (f"For each layer, averaged over its live channels and then over {seeds} seeds (error bars: "
               "standard deviation over seeds): " + "; ".join(parts))
    fig.suptitle(f"What a channel's strongest patches have in common, by layer ({seeds} seeds)")
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
    if responses.shape != (2, len(signal) - k + 1) or kernels.shape != (2, k):
        raise ValueError(f"responses must be (2, {len(signal) - k + 1}) and kernels (2, {k}), got "
                         f"{responses.shape} and {kernels.shape}")
    motif_colour, decoy_colour = PALETTE["green"], PALETTE["orange"]
    peaks = [int(np.argmax(r)) for r in responses]
    fig, axes = figure(3, 3, width=8.0, height=5.4, alt=(
        f"A noisy signal of {len(signal)} samples with the motif starting at "
        + ", ".join(str(p) for p in motif_at) + " and its time-reversed decoy at "
        + ", ".join(str(p) for p in decoy_at) + f"; below, the responses of the two trained {k}-tap "
        f"kernels along it (the motif kernel peaks at {peaks[1]}, the decoy kernel at {peaks[0]}); "
        "right, the motif, the decoy and the two kernels"))
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.09, top=0.9, wspace=0.35, hspace=0.55)
    ax_signal = span_cells(fig, axes, 0, slice(0, 2))
    ax_motif = span_cells(fig, axes, 1, slice(0, 2))
    ax_decoy = span_cells(fig, axes, 2, slice(0, 2))
    ax_kern = span_cells(fig, axes, slice(0, 3), 2)
    t = np.arange(len(signal))
    ax_signal.plot(t, signal, color="0.3", lw=1)
    marks = ((motif_at, motif_colour, "motif"), (decoy_at, decoy_colour, "decoy"))
    for starts, colour, label in marks:
        for i, s in enumerate(starts):
            ax_signal.axvspan(s - 0.5, s + k - 0.5, color=colour, alpha=0.25, label=label if i == 0 else None)
    ax_signal.set_title("signal: motif and decoy shaded")
    ax_signal.legend(fontsize=7, loc="lower right", ncol=2)
    positions = np.arange(responses.shape[1])
    for ax, r, colour, title in ((ax_motif, responses[1], motif_colour, "motif kernel"),
                                 (ax_decoy, responses[0], decoy_colour, "decoy kernel")):
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
    scale = float(np.abs(kernels).max()) / (float(np.abs(pattern).max()) or 1.0)
    ax_kern.plot(taps, pattern * scale, color=motif_colour, lw=6, alpha=0.3, label="motif (scaled)")
    ax_kern.plot(taps, pattern[::-1] * scale, color=decoy_colour, lw=6, alpha=0.3, label="decoy (scaled)")
    ax_kern.plot(taps, kernels[1], color=motif_colour, marker="o", label="motif kernel")
    ax_kern.plot(taps, kernels[0], color=decoy_colour, marker="s", ls="--", label="decoy kernel")
    ax_kern.set_xlabel("tap")
    ax_kern.set_title("kernels after training")
    ax_kern.legend(fontsize=6, loc="lower left")
    ax_kern.grid(True, alpha=0.3)
    fig.suptitle("A 1-D convolution finds a motif wherever it occurs")
    return fig
