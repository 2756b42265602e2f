"""Figures for the chapter "Receptive fields grow with depth"."""

from __future__ import annotations

import itertools

import numpy as np
from matplotlib import patheffects
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.patches import Circle

from .._checks import MAX_SIDE, check_instance, check_int
from ..compute.receptive_fields import Region
from .style import EDGE, PALETTE, PHOTO, figure, min_font_points, outline, show_image, styled


def _square(ax, top, left, size, color, lw=2.0, ls="-"):
    outline(ax, top, left, size, size, color=color, lw=lw)
    ax.patches[-1].set_linestyle(ls)


#: A field narrower than this share of the image also gets a ring around it.
SMALL_FIELD = 1 / 8


def _mark_small(ax, top, left, size, image_side):
    """Ring a field too small to see: white with a black edge, on any image.

    The ring's diameter is at least ``SMALL_FIELD`` of the image's side and
    always more than the field's diagonal, so it circles the exact square
    outline without hiding it.
    """
    if size >= SMALL_FIELD * image_side:
        return
    radius = max(SMALL_FIELD * image_side, size * 2 ** 0.5 + 2) / 2
    centre = (left + (size - 1) / 2, top + (size - 1) / 2)
    ring = Circle(centre, radius, fill=False, edgecolor="white", linewidth=2.5)
    ring.set_path_effects([patheffects.withStroke(linewidth=4.5, foreground="black")])
    ax.add_patch(ring)


@styled
def field_views(image, region, gradient, erf, squares: dict, *, jump: int = 1, label: str = ""):
    """One output unit's field three ways: theoretical square, measured support, effective map.

    Parameters
    ----------
    image : array-like
        (H, W) input photograph with values in [0, 1].
    region : widgets.compute.receptive_fields.Region
        The unit's theoretical region (its unclipped square is outlined in
        every panel, even where it leaves the image; a field narrower than
        ``SMALL_FIELD`` of the image is also ringed, so it stays visible).
    gradient : array-like
        (H, W) input gradient of the unit in the measuring network; its
        non-zero entries are shown.
    erf : array-like
        (H, W) effective receptive field (non-negative, sums to 1).
    squares : dict of float to (int, int, int)
        One or two mass fractions of ``erf`` (e.g. 0.5 and 0.95) to the
        (top, left, side) of the smallest square holding them; outlined
        (solid, then dashed) on the effective map.
    jump : int
        The stack's effective stride, printed with the theoretical size.
    label : str
        Describes the stack, e.g. "3 conv 3x3"; used as the figure's title.
    """
    check_instance("region", region, Region, "a Region from widgets.compute.receptive_fields.input_region")
    jump = check_int("jump", jump, low=1, high=MAX_SIDE)
    image = np.asarray(image, dtype=float)
    gradient = np.asarray(gradient, dtype=float)
    erf = np.asarray(erf, dtype=float)
    if not isinstance(squares, dict) or not 1 <= len(squares) <= 2:
        raise ValueError(f"squares must be a dict of one or two mass fractions to squares, got {squares!r}")
    nonzero = gradient != 0
    rows, cols = np.nonzero(nonzero)
    height = rows.max() - rows.min() + 1 if rows.size else 0
    width = cols.max() - cols.min() + 1 if cols.size else 0
    n_in = int(nonzero.sum())
    size = region.size
    masses = ", ".join(f"{fraction:.0%} in {side} × {side}" for fraction, (_, _, side) in squares.items())
    fig, axes = figure(3, width=8.0, height=3.4, alt=(
        f"{label + ': ' if label else ''}output unit ({region.row}, {region.col}). Left, the photograph "
        f"with the theoretical {size} by {size} receptive field outlined (jump {jump}); middle, the "
        f"{n_in} input pixels with a non-zero gradient, spanning {height} by {width}; right, the effective "
        "receptive field of random weights, with " + masses.replace(" × ", " by ") + " pixels of its mass"))
    fig.subplots_adjust(top=1 - 0.85 / 3.4)
    ax_img, ax_grad, ax_erf = axes[0]
    show_image(ax_img, image, cmap=PHOTO, vmin=0, vmax=1, title=f"theoretical field\n{size} × {size}, jump {jump}")
    show_image(ax_grad, nonzero, vmin=0, vmax=1, title=f"non-zero gradient\n{height} × {width}, {n_in} pixels")
    show_image(ax_erf, erf, vmin=0, title=f"effective, random weights\n{masses}")
    for ax in axes[0]:
        _square(ax, region.top, region.left, size, PALETTE["orange"])
        _mark_small(ax, region.top, region.left, size, max(image.shape))
    for (top, left, side), style in zip(squares.values(), ("-", "--")):
        _square(ax_erf, top, left, side, PALETTE["sky"], lw=1.5, ls=style)
    if label:
        fig.suptitle(label)
    return fig


@styled
def gradient_supports(image, gradients: dict, *, region=None):
    """The input beside the non-zero entries of several input gradients of one unit.

    Parameters
    ----------
    image : array-like
        (H, W) input with values in [0, 1].
    gradients : dict of str to array-like
        Panel title (without the count) to an (H, W) gradient; the number
        of non-zero pixels is added to each title.
    region : widgets.compute.receptive_fields.Region, optional
        Theoretical region to outline in every panel.
    """
    if region is not None:
        check_instance("region", region, Region, "a Region from widgets.compute.receptive_fields.input_region")
    image = np.asarray(image, dtype=float)
    if not isinstance(gradients, dict) or not 1 <= len(gradients) <= 4:
        raise ValueError(f"gradients must be a dict of 1 to 4 titled maps, got {type(gradients).__name__}")
    counts = {name: int((np.asarray(g, dtype=float) != 0).sum()) for name, g in gradients.items()}
    where = f" inside the outlined {region.size} by {region.size} field" if region is not None else ""
    fig, axes = figure(1 + len(gradients), width=2.2 * (1 + len(gradients)), height=2.8, alt=(
        "The input beside the pixels with a non-zero gradient" + where + ": "
        + "; ".join(f"{name}, {n} pixels" for name, n in counts.items())))
    show_image(axes[0, 0], image, cmap=PHOTO, vmin=0, vmax=1, title="input")
    for ax, (name, grad) in zip(axes[0, 1:], gradients.items()):
        show_image(ax, np.asarray(grad, dtype=float) != 0, vmin=0, vmax=1,
                   title=f"{name}: {counts[name]} pixels")
    if region is not None:
        for ax in axes[0]:
            _square(ax, region.top, region.left, region.size, PALETTE["orange"])
    return fig


@styled
def width_growth(depths, theoretical, effective, sigmas: dict, references: dict | None = None):
    """How the theoretical and the effective field grow with depth.

    Parameters
    ----------
    depths : sequence of int
        Number of stacked layers.
    theoretical : sequence of int
        Theoretical field size at each depth.
    effective : sequence of int
        Side of the square holding 95 % of the effective field at each depth
        (of the first entry of ``sigmas``).
    sigmas : dict of str to sequence of float
        One to three labelled series: the effective field's standard
        deviation (pixels) at each depth, plotted divided by √depth.
    references : dict of str to float, optional
        Labelled constant levels of σ / √depth, drawn as dotted lines.
    """
    depths = np.asarray(depths, dtype=float)
    theoretical = np.asarray(theoretical, dtype=float)
    effective = np.asarray(effective, dtype=float)
    if not isinstance(sigmas, dict) or not 1 <= len(sigmas) <= 3:
        raise ValueError(f"sigmas must be a dict of 1 to 3 labelled series, got {type(sigmas).__name__}")
    series = {name: np.asarray(v, dtype=float) for name, v in sigmas.items()}
    if not len(depths) == len(theoretical) == len(effective) >= 2 or any(
            len(v) != len(depths) for v in series.values()):
        raise ValueError("depths, theoretical, effective and every series of sigmas must have the same length, "
                         "at least 2")
    references = dict(references or {})
    per_root = {name: v / np.sqrt(depths) for name, v in series.items()}
    fig, axes = figure(2, width=8.0, height=3.4, alt=(
        f"Left: the theoretical field grows linearly with depth, from {theoretical[0]:.0f} to "
        f"{theoretical[-1]:.0f} pixels over {depths[0]:.0f} to {depths[-1]:.0f} layers, while the square "
        f"holding 95 percent of the effective field grows only to {effective[-1]:.0f}. Right: the effective "
        "field's standard deviation divided by the square root of depth levels off: "
        + "; ".join(f"{name}, {v[-1]:.2f} at depth {depths[-1]:.0f}" for name, v in per_root.items())
        + "".join(f"; dotted line {name} at {value:.2f}" for name, value in references.items())))
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.16, wspace=0.3)
    ax, ax2 = axes[0]
    ax.plot(depths, theoretical, "o-", color=PALETTE["orange"], label="theoretical size")
    ax.plot(depths, effective, "s-", color=PALETTE["blue"], label="effective: 95 % square")
    ax.set_xlabel("depth (stacked 3 × 3 convolutions)")
    ax.set_ylabel("pixels")
    ax.set_title("field size against depth")
    ax.legend(frameon=False)
    styles = [("o-", PALETTE["blue"]), ("s--", PALETTE["vermillion"]), ("^:", PALETTE["green"])]
    for (name, v), (marker, color) in zip(per_root.items(), styles):
        ax2.plot(depths, v, marker, color=color, label=name)
    labels = []
    for name, value in references.items():
        ax2.axhline(value, color="0.4", lw=0.8, ls=":")
        # At the line's right end, beyond the axes: a series may run along the line (all weights 1
        # lies on √(2/3)), and nothing is drawn out there.
        labels.append(ax2.annotate(name, (1, value), xycoords=("axes fraction", "data"), xytext=(3, 0),
                                   textcoords="offset points", ha="left", va="center", color="0.3"))
    if labels:
        # The axes end where the widest label, and EDGE inches of margin, still fit in the figure.
        renderer = RendererAgg(1, 1, fig.dpi)
        reach = max(label.get_window_extent(renderer).x1 for label in labels) - ax2.get_window_extent(renderer).x1
        fig.subplots_adjust(right=1 - (reach / fig.dpi + EDGE) / fig.get_figwidth())
    top = max([v.max() for v in per_root.values()] + list(references.values()))
    ax2.set_ylim(0, 1.3 * top)
    ax2.set_xscale("log", base=2)
    ax2.set_xticks(depths, [f"{d:.0f}" for d in depths])
    ax2.set_xlabel("depth")
    ax2.set_ylabel("σ / √depth  (pixels)")
    ax2.set_title("σ / √depth levels off")
    ax2.legend(frameon=False, loc="lower right", fontsize=8)
    for a in (ax, ax2):
        a.spines[["top", "right"]].set_visible(False)
    return fig


#: Size of a marker in a legend whose markers stand for small dots, as a share of its text's size:
#: on a phone, where that text is at least 9 CSS pixels high (style.PHONE_TEXT_PX), the marker is at least 8.
LEGEND_MARKER_SHARE = 0.9
#: Size, in points, of the dots of a row profile.
PROFILE_MARKER = 4


@styled
def effective_fields(maps: dict, region, *, rows: int = 1):
    """Effective receptive fields of one unit side by side, and their profiles against a Gaussian.

    Parameters
    ----------
    maps : dict of str to array-like
        Title to an (H, W) non-negative map summing to 1; all maps the same
        shape (1 to 4 maps). Each title gets the map's sigma over both axes,
        sqrt((sigma_rows ** 2 + sigma_cols ** 2) / 2).
    region : widgets.compute.receptive_fields.Region
        The unit's theoretical region: outlined on the maps and shaded on
        the profiles.
    rows : int
        1 or 2: the maps go down columns of ``rows`` maps, in order, the
        profiles to their right. The maps of one column belong together (one
        network on two inputs, say) and stay together on a phone as well
        (``keep_columns``).
    """
    if not isinstance(maps, dict) or not 1 <= len(maps) <= 4:
        raise ValueError(f"maps must be a dict of 1 to 4 titled maps, got "
                         f"{len(maps) if isinstance(maps, dict) else type(maps).__name__}")
    check_instance("region", region, Region, "a Region from widgets.compute.receptive_fields.input_region")
    rows = check_int("rows", rows, low=1, high=2)
    arrays = {name: np.asarray(m, dtype=float) for name, m in maps.items()}
    h, w = next(iter(arrays.values())).shape
    size = region.size
    vmax = max(a.max() for a in arrays.values())
    colors = [PALETTE["blue"], PALETTE["vermillion"], PALETTE["green"], PALETTE["purple"]]
    columns = -(-len(maps) // rows)
    width = 2.2 * (columns + 1) + 0.6
    # Two rows of two-line titles over square maps, in inches: title room, maps, the gap between rows.
    height = 3.8 if rows == 1 else 0.6 + 2 * 2.05 + 0.75 + 0.1
    fig, axes = figure(columns + 1, rows, width=width, height=height, alt=(
        "Effective receptive fields (" + ", ".join(arrays) + f") inside the {size} by {size} theoretical "
        "field, and their row profiles, each beside a Gaussian of the same mean and standard deviation"))
    if rows == 1:
        fig.subplots_adjust(bottom=0.4)
    else:
        fig.subplots_adjust(hspace=0.75 / 2.05)
        fig.keep_columns = True  # each column's maps together, on a phone too
    places = [axes[i % rows, i // rows] for i in range(len(maps))]
    for ax in [ax for ax in axes[:, :columns].ravel() if not any(ax is p for p in places)] + list(axes[1:, -1]):
        ax.remove()
    stats = []
    for ax, (name, arr), color in zip(places, arrays.items(), colors):
        profile = arr.sum(axis=1)
        pos = np.arange(h)
        mean = (profile * pos).sum()
        sigma = np.sqrt((profile * (pos - mean) ** 2).sum())
        cols = arr.sum(axis=0)
        col_pos = np.arange(w)
        col_var = (cols * (col_pos - (cols * col_pos).sum()) ** 2).sum()
        both = np.sqrt((sigma ** 2 + col_var) / 2)
        stats.append((name, profile, mean, sigma, color))
        show_image(ax, arr, vmin=0, vmax=vmax, title=f"{name}\nσ = {both:.2f}")
        outline(ax, region.top, region.left, size, size)
    ax = axes[0, -1]
    fine = np.linspace(0, h - 1, 200)
    # Open markers of four shapes: two profiles that coincide (the trained network's, on digits and on
    # nudged digits) still both show.
    for (name, profile, mean, sigma, color), marker in zip(stats, itertools.cycle("os^D")):
        ax.plot(np.arange(h), profile, marker, ms=PROFILE_MARKER, mfc="none", mew=1, color=color, label=name)
        ax.plot(fine, np.exp(-0.5 * ((fine - mean) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi)), "-",
                lw=1, color=color)
    ax.axvspan(region.top - 0.5, region.top + size - 0.5, color=PALETTE["orange"], alpha=0.15, lw=0)
    ax.set_xlabel("row")
    ax.set_title("row profiles")
    ax.set_yticks([])
    # Room for the highest of the dots and of the Gaussians (which may peak above every dot).
    ax.set_ylim(0, 1.1 * max(line.get_ydata().max() for line in ax.lines))
    # Below the axis, so that no curve hides behind it; its markers as large as its text.
    text = min_font_points(width)
    ax.legend(frameon=False, fontsize=text, loc="upper center", bbox_to_anchor=(0.5, -0.3),
              borderaxespad=0, handletextpad=0.4, markerscale=LEGEND_MARKER_SHARE * text / PROFILE_MARKER)
    ax.spines[["top", "right", "left"]].set_visible(False)
    return fig
