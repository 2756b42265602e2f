"""Figures for the chapter "What the layers learn": the strongest patches of every channel."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence

import matplotlib
import numpy as np

from .._checks import MAX_SIDE, check_int
from ..compute.stats import interval
from .style import HIGHLIGHT, PALETTE, PHOTO, figure, min_font_points, outline, series, show_image, span_cells, styled


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


def _check_block(name, tops, dead, kernels, n=None, k=None):
    tops = _check_tops(tops)
    dead = [bool(d) for d in dead]
    if len(dead) != len(tops):
        raise ValueError(f"dead must have one entry per channel ({len(tops)}), got {len(dead)}")
    if n is not None and (len(tops) != n or len(tops[0].patches) != k):
        raise ValueError(f"{name} must have as many channels ({n}) and patches ({k}) as the trained network, "
                         f"got {len(tops)} and {len(tops[0].patches)}")
    if kernels is not None:
        kernels = np.asarray(kernels, dtype=float)
        if kernels.ndim != 3 or len(kernels) != len(tops):
            raise ValueError(f"kernels must be (channels={len(tops)}, kH, kW), got shape {kernels.shape}")
    return tops, dead, kernels


def _blank(top) -> bool:
    return not np.asarray(top.patches).any()


def _lost(tops, dead) -> tuple[int, int]:
    """How many channels are dead, and how many live ones respond most to blank canvas."""
    return sum(dead), sum(1 for t, d in zip(tops, dead) if not d and _blank(t))


def _lost_words(n_dead: int, n_blank: int) -> str:
    return (("; " + _count(n_dead, "channel is zero on every test digit and is",
                           "channels are zero on every test digit and are") + " marked dead" if n_dead else "")
            + ("; " + _count(n_blank, "channel responds most where it sees only blank canvas, and is",
                             "channels respond most where they see only blank canvas, and are") + " marked so"
               if n_blank else ""))


@styled
def channel_grid(tops, dead, *, layer: int, field: int, kernels=None, columns: int = 2, untrained=None):
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
        Strips side by side (per network), 1 to 6.
    untrained : tuple, optional
        ``(tops, dead)`` or ``(tops, dead, kernels)`` of the same layer of the
        same network before training, the control: drawn as a second block on
        the right, under its own heading, with as many channels and patches.
        Each block's kernels have their own colour scale.
    """
    tops, dead, kernels = _check_block("tops", tops, dead, kernels)
    layer = check_int("layer", layer, low=1)
    field = check_int("field", field, low=1)
    columns = check_int("columns", columns, low=1, high=6)
    n, k = len(tops), len(tops[0].patches)
    blocks = [(tops, dead, kernels)]
    if untrained is not None:
        if isinstance(untrained, (str, bytes)) or not isinstance(untrained, Sequence) or len(untrained) not in (2, 3):
            raise ValueError(f"untrained must be (tops, dead) or (tops, dead, kernels), got {untrained!r:.80}")
        u_kernels = untrained[2] if len(untrained) == 3 else None
        if (u_kernels is None) != (kernels is None):
            raise ValueError("untrained must hold kernels exactly when kernels is given")
        blocks.append(_check_block("untrained", untrained[0], untrained[1], u_kernels, n, k))
    rows = math.ceil(n / columns)
    per = 2 if kernels is not None else 1
    spacer = len(blocks) > 1
    strips = columns * len(blocks)
    # Widths in patches: a kernel is as wide as one patch, a strip as its k patches and the one-pixel
    # gaps between them; about 0.5 inch a patch (a row is 0.62 inch tall), room for the channel
    # numbers, and a gap of two patches between the blocks.
    side = len(tops[0].patches[0])
    strip = (k * (side + 1) - 1) / side
    width = 0.5 * strips * (strip + (1 if kernels is not None else 0)) + 0.4 * strips + 0.45 + 1.0 * spacer
    width = max(min(width, 16.0), 4.0)
    # Text is shown at least at the size the page needs (render() raises it there): on a wide
    # figure, scaled down to the column, that is larger, so lines of text take more room.
    points = max(11.0, min_font_points(width))
    line = points * 1.5 / 72
    # The title wraps to the figure's width (about ten characters an inch at 10 points).
    title = textwrap.fill(f"Layer {layer}: the {k} strongest {field} × {field} patches of each channel",
                          int(width * 100 / points))
    top = 0.2 + line * (title.count("\n") + 1 + spacer)
    height = min(max(1.8, 0.62 * rows + 0.35 + top), 16.0)
    ncols = columns * per * len(blocks) + spacer
    fig, axes = figure(ncols, rows, width=width, height=height, alt="")
    fig.subplots_adjust(left=0.35 / fig.get_figwidth(), right=1 - 0.1 / fig.get_figwidth(),
                        top=1 - top / fig.get_figheight(), bottom=0.1 / fig.get_figheight(),
                        wspace=0.05 if kernels is not None else 0.08 if columns == 1 else 0.3,
                        hspace=0.15)
    ratios = ([1, strip] if kernels is not None else [strip]) * columns
    grid = axes[0, 0].get_subplotspec().get_gridspec()
    grid.set_width_ratios(ratios + ([1.0] + ratios if spacer else []))
    fig.subplots_adjust()  # places the axes again, by the new ratios
    for ax in axes.ravel():
        ax.set_axis_off()
    headings = ("trained", "untrained (initial weights)")
    for b, (b_tops, b_dead, b_kernels) in enumerate(blocks):
        first = b * (columns * per + 1)
        if b_kernels is not None:
            bound = float(np.abs(b_kernels).max()) or 1.0
        for c in range(n):
            row, col = c % rows, c // rows
            ax = axes[row, first + col * per + per - 1]
            ax.set_axis_on()
            if b_dead[c] or _blank(b_tops[c]):
                _show_strip(ax, np.full_like(np.asarray(b_tops[c].patches, dtype=float), np.nan))
                ax.text(0.5, 0.5, "dead" if b_dead[c] else "blank canvas",
                        transform=ax.transAxes, ha="center", va="center", color=PALETTE["black"])
            else:
                _show_strip(ax, b_tops[c].patches)
            label_ax = ax
            if b_kernels is not None:
                kax = axes[row, first + col * per]
                kax.set_axis_on()
                show_image(kax, b_kernels[c], signed=True, vmin=-bound, vmax=bound)
                kax.set_anchor("E")  # next to its strip, not centred in its cell
                ax.set_anchor("W")
                label_ax = kax
            label_ax.set_ylabel(str(c), rotation=0, ha="right", va="center", labelpad=4)
        if spacer:
            left = axes[0, first].get_position().x0
            right = axes[0, first + columns * per - 1].get_position().x1
            fig.text((left + right) / 2, axes[0, 0].get_position().y1 + 0.08 / fig.get_figheight(), headings[b],
                     ha="center", va="bottom", fontweight="bold", fontsize=points)
    kernel_words = "; left of each strip, the channel's kernel (red positive, blue negative)"
    fig.alt = (f"Layer {layer}: for each of its {n} channels (numbered at the left), the {k} test "
               f"patches of {field} by {field} pixels that excite it most, one per digit, strongest first"
               + _lost_words(*_lost(tops, dead))
               + (kernel_words if kernels is not None else ""))
    if spacer:
        u_tops, u_dead, _ = blocks[1]
        fig.alt = ("Left, the trained network. " + fig.alt
                   + ". Right, the same for the same network at initialisation, before training"
                   + _lost_words(*_lost(u_tops, u_dead))
                   + ("; each side's kernels have their own colour scale" if kernels is not None else ""))
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


def _interval(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the mean over seeds and the half-width of its 95 % Student-t interval (0 for one seed)."""
    mean = values.mean(axis=1)
    if values.shape[1] < 2:
        return mean, np.zeros(len(values))
    half = np.array([interval(row.tolist()).half_width for row in values])
    return mean, half


@styled
def by_layer(measures: Mapping[str, object], *, fields: Sequence[int], untrained: Mapping[str, object] | None = None,
             chance: Mapping[str, float] | None = None):
    """Measures of each layer, mean over seeds with 95 % intervals, for trained and untrained networks.

    One panel per measure.

    Parameters
    ----------
    measures : mapping
        Name of a measure (a fraction in [0, 1]) to an array (layers, seeds)
        from the trained networks.
    fields : sequence of int
        Each layer's receptive-field side, for the axis labels.
    untrained : mapping, optional
        The same names to the same measures on the networks before training
        (the control), drawn beside the trained ones.
    chance : mapping, optional
        Some of the names to a reference value drawn as a horizontal line
        (what a channel blind to the measured property would score).
    """
    if not isinstance(measures, Mapping) or not measures:
        raise ValueError("measures must be a non-empty mapping of name to (layers, seeds) values, "
                         f"got {measures!r:.80}")
    fields = [check_int("fields", f, low=1, high=MAX_SIDE) for f in fields]
    untrained = {} if untrained is None else untrained
    chance = {} if chance is None else chance
    for name, given in (("untrained", untrained), ("chance", chance)):
        if not isinstance(given, Mapping) or set(given) - set(measures):
            raise ValueError(f"{name} must be a mapping whose names are among those of measures "
                             f"({list(measures)}), got {given!r:.80}")

    def table(name, values):
        values = np.asarray(values, dtype=float)
        if values.ndim != 2 or len(values) != len(fields):
            raise ValueError(f"measures[{name!r}] must be (layers={len(fields)}, seeds), got shape {values.shape}")
        return values

    fig, axes = figure(len(measures), width=min(16.0, 4.2 * len(measures) + 0.6), height=3.6, alt="")
    fig.subplots_adjust(left=0.6 / fig.get_figwidth(), right=1 - 0.15 / fig.get_figwidth(), bottom=0.2,
                        top=0.8, wspace=0.25)
    layers = np.arange(1, len(fields) + 1)
    parts = []
    for ax, (name, values) in zip(axes[0], measures.items()):
        rows = [("trained", table(name, values))]
        if name in untrained:
            rows.append(("untrained", table(name, untrained[name])))
        words = []
        for i, (label, values) in enumerate(rows):
            mean, half = _interval(values)
            offset = 0.06 * (2 * i - len(rows) + 1)
            ax.errorbar(layers + offset, mean, yerr=half, capsize=4, label=label, **series(i))
            words.append(f"{label} " + ", ".join(f"layer {L} {m:.0%} ± {h:.0%}" for L, m, h in zip(layers, mean, half)))
            seeds = values.shape[1]
        if name in chance:
            ax.axhline(float(chance[name]), color=PALETTE["black"], lw=1, ls=(0, (1, 2)))
            ax.text(len(fields) + 0.35, float(chance[name]) + 0.02, "random digits", ha="right", va="bottom")
            words.append(f"random digits {float(chance[name]):.0%}")
        parts.append(f"{name}: " + "; ".join(words))
        ax.set_title(textwrap.fill(name, 40))
        ax.set_xticks(layers, [f"layer {L}\nfield {f} × {f}" for L, f in zip(layers, fields)])
        ax.set_xlim(0.6, len(fields) + 0.4)
        ax.set_ylim(0, 1.05)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left", fontsize=9)
    axes[0, 0].set_ylabel("mean over live channels")
    fig.alt = (f"For each layer, averaged over its live channels and then over {seeds} seeds (error bars: "
               "95 % confidence interval of the mean over seeds), " + "; ".join(parts))
    fig.suptitle(f"What a channel's strongest patches have in common, by layer ({seeds} seeds)")
    return fig
