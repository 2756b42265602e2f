"""Figures for the chapters "Translation equivariance" and "Pooling and invariance"."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .._checks import MAX_SIDE, check_instance, check_int
from ..compute.equivariance import ShiftComparison
from ..compute.stats import interval
from .style import DIVERGING, PALETTE, PHOTO, figure, outline, room_for_labels, show_image, styled


def _map(t) -> np.ndarray:
    """A (1, 1, H, W) / (1, H, W) / (H, W) tensor or array as a 2-D float array."""
    arr = np.asarray(t.detach() if hasattr(t, "detach") else t, dtype=float)
    if arr.ndim not in (2, 3, 4) or (arr.ndim > 2 and int(np.prod(arr.shape[:-2])) != 1):
        raise ValueError(f"maps must hold one 2-D map, got shape {arr.shape}")
    return arr.reshape(arr.shape[-2:])


def _mark(ax, row: int, col: int):
    """Outline one pixel."""
    outline(ax, row, col, 1, 1, lw=1.5)


@styled
def corner_detection(image, response, shifted_image, shifted_response, *, shift: tuple[int, int]):
    """A corner, its detector's response, and both again after shifting the image.

    Each response has its largest value outlined.

    Parameters
    ----------
    image, shifted_image : array-like
        The input before and after the shift, one (H, W) map each.
    response, shifted_response : array-like
        The detector's response to each, same size.
    shift : tuple of int
        (dy, dx), for the titles.
    """
    maps = [_map(m) for m in (image, response, shifted_image, shifted_response)]
    if isinstance(shift, (str, bytes)) or not isinstance(shift, Sequence) or len(shift) != 2:
        raise ValueError(f"shift must be a (dy, dx) pair, got {shift!r:.80}")
    shift = tuple(check_int(f"shift[{i}]", d, low=-(maps[0].shape[i] - 1), high=maps[0].shape[i] - 1)
                  for i, d in enumerate(shift))
    peaks = [np.unravel_index(int(np.argmax(m)), m.shape) for m in maps[1::2]]
    (r0, c0), (r1, c1) = ((int(r), int(c)) for r, c in peaks)
    fig, axes = figure(4, width=8.0, height=2.5, alt=(
        f"A blank image with a corner at ({r0}, {c0}) and the corner detector's response, which "
        f"peaks at ({r0}, {c0}); the same image shifted by {tuple(shift)} and its response, which "
        f"peaks at ({r1}, {c1})"))
    bound = max(float(np.abs(m).max()) for m in maps[1::2]) or 1.0
    titles = ["input", f"response: peak at ({r0}, {c0})",
              f"input shifted by {tuple(shift)}", f"response: peak at ({r1}, {c1})"]
    for i, (ax, m, title) in enumerate(zip(axes[0], maps, titles)):
        if i % 2 == 0:
            show_image(ax, m, cmap=PHOTO, vmin=0, vmax=1, title=title)
        else:
            show_image(ax, m, cmap=DIVERGING, vmin=-bound, vmax=bound, title=title)
    for ax, (r, c) in zip(axes[0], [(r0, c0), (r0, c0), (r1, c1), (r1, c1)]):
        _mark(ax, r, c)
    return fig


def _frame_off_image(ax, shape):
    """Leave one pixel of white between an image and its axes frame, so border pixels stay visible."""
    h, w = shape
    ax.set_xlim(-1.5, w + 0.5)
    ax.set_ylim(h + 0.5, -1.5)


@styled
def shift_comparison(comparison, *, margin: int | None = None, inner_error: float | None = None):
    """The shifted input, f(g(x)), g'(f(x)) and their difference, for one shift, on a 2 x 2 grid.

    Both feature maps and the difference share one colour scale (the largest
    response), so a difference at rounding level looks blank rather than
    being stretched to full colour. Each image sits one pixel inside its
    frame, so differences in the outermost rows and columns are visible.

    Parameters
    ----------
    comparison : widgets.compute.equivariance.ShiftComparison
        Computed with ``crop=0``.
    margin : int, optional
        If given and positive, outline the region farther than ``margin``
        pixels from the border on the difference panel: the part that
        equivariance under zero padding is expected to hold on.
    inner_error : float, optional
        The error inside that region, added to the difference panel's title.
    """
    check_instance("comparison", comparison, ShiftComparison,
                   "a ShiftComparison from widgets.compute.equivariance.compare_shift")
    if comparison.crop != 0:
        raise ValueError(f"comparison must be computed with crop=0 to be drawn whole, got crop={comparison.crop}")
    if inner_error is not None and not margin:
        raise ValueError(f"inner_error needs a positive margin to refer to, got margin={margin!r}")
    shifted_input = _map(comparison.shifted_input)
    a, b = _map(comparison.response_of_shifted), _map(comparison.shifted_response)
    diff = _map(comparison.difference)
    bound = max(float(np.abs(a).max()), float(np.abs(b).max())) or 1.0
    dy, dx = comparison.shift
    oy, ox = comparison.output_shift
    how = "" if comparison.divides else " (the nearest whole-pixel shift; the exact one would be fractional)"
    inner = f" ({inner_error:.2g} inside the frame)" if inner_error is not None else ""
    fig, axes = figure(2, 2, width=6.0, height=6.0, alt=(
        f"The photograph shifted by ({dy}, {dx}); the feature map of the shifted photograph; the "
        f"feature map of the photograph shifted by ({oy}, {ox}){how}; and their difference, whose "
        f"size relative to the feature map is {comparison.error:.2g}{inner}"))
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.05, top=0.9, wspace=0.08, hspace=0.15)
    (ax_in, ax_a), (ax_b, ax_d) = axes
    show_image(ax_in, shifted_input, cmap=PHOTO, vmin=0, vmax=1, title=f"input shifted by ({dy}, {dx})")
    show_image(ax_a, a, cmap=DIVERGING, vmin=-bound, vmax=bound, title="f(g(x)): feature map of the shifted input")
    star = "" if comparison.divides else "*"
    show_image(ax_b, b, cmap=DIVERGING, vmin=-bound, vmax=bound,
               title=f"g(f(x)): feature map, then shifted by ({oy}, {ox}){star}")
    show_image(ax_d, diff, cmap=DIVERGING, vmin=-bound, vmax=bound,
               title=f"difference: error {comparison.error:.2g}{inner}")
    for ax, m in ((ax_in, shifted_input), (ax_a, a), (ax_b, b), (ax_d, diff)):
        _frame_off_image(ax, m.shape)
    if margin:
        h, w = diff.shape
        if 2 * margin < min(h, w):
            outline(ax_d, margin, margin, h - 2 * margin, w - 2 * margin, color=PALETTE["green"], lw=1.0)
    if not comparison.divides:
        ax_b.set_xlabel("* shift / stride is fractional: nearest whole shift", fontsize=7)
    return fig


_LINES = [("blue", "o"), ("vermillion", "s"), ("orange", "^"), ("sky", "v"), ("green", "D"), ("purple", "x"),
          ("black", "+"), ("yellow", "*")]


def _values(name, values) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or len(arr) == 0 or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be a non-empty sequence of finite numbers, got {values!r:.80}")
    return arr


def _std(arr: np.ndarray) -> float:
    return float(arr.std(ddof=1)) if len(arr) > 1 else 0.0


@styled
def aliasing_bars(errors: Mapping[str, Sequence[float]], *, shift: int = 1,
                  what: str = "image"):
    """One horizontal bar per downsampling layer: its mean aliasing error, with the spread as an error bar.

    Parameters
    ----------
    errors : mapping of str to sequence of float
        Name of the layer to its error on each image (at most 8 layers).
    shift : int
        The input shift the errors were measured at, for the title.
    what : str
        What one value is measured on, for the caption ("image", "tile").
    """
    if not isinstance(errors, Mapping):
        raise ValueError(f"errors must be a mapping of layer name to errors, got {type(errors).__name__}")
    shift = check_int("shift", shift, low=-MAX_SIDE, high=MAX_SIDE)
    if not isinstance(what, str):
        raise ValueError(f"what must be a string such as 'image', got {what!r}")
    if not 1 <= len(errors) <= len(_LINES):
        raise ValueError(f"errors must hold 1 to {len(_LINES)} layers, got {len(errors)}")
    arrays = {name: _values(f"errors[{name!r}]", v) for name, v in errors.items()}
    text = ", ".join(f"{name} {a.mean():.2f}" for name, a in arrays.items())
    fig, axes = figure(1, width=6.5, height=0.8 + 0.38 * len(arrays), alt=(
        f"Bar chart of the aliasing error after a {shift}-pixel shift, mean over each {what} with one "
        f"standard deviation as an error bar: {text}"))
    ax = axes[0, 0]
    fig.subplots_adjust(left=0.3, right=0.95, bottom=0.8 / (0.8 + 0.38 * len(arrays)), top=0.88)
    names = list(arrays)
    means = [arrays[n].mean() for n in names]
    stds = [_std(arrays[n]) for n in names]
    ys = np.arange(len(names))
    ax.barh(ys, means, xerr=stds, height=0.7, color=PALETTE["blue"], ecolor=PALETTE["black"], capsize=3)
    for y, m, sd in zip(ys, means, stds):
        ax.text(m + sd + 0.01, y, f"{m:.2f}", va="center", fontsize=7)
    ax.set_yticks(ys)
    ax.set_yticklabels(names)
    ax.invert_yaxis()
    ax.set_xlim(0, max(m + sd for m, sd in zip(means, stds)) * 1.2 + 0.02)
    ax.set_xlabel(f"‖f(g(x)) − g′(f(x))‖ / ‖f(x)‖, output shifted by {shift}/2 pixel")
    ax.set_title(f"aliasing: equivariance error after a {shift}-pixel input shift")
    return fig


@styled
def consistency_bars(results: Mapping[str, Mapping[str, Sequence[float]]]):
    """Grouped horizontal bars: each measure for each model, mean over seeds, one dot per seed, a 95 % CI bar.

    The error bar is the Student-t 95 % confidence interval of the mean over
    seeds (:func:`widgets.compute.stats.interval`); with a single seed there is none.

    Parameters
    ----------
    results : mapping of str to mapping of str to sequence of float
        Model name to {measure name: one value in [0, 1] per seed}; every
        model has the same measures.
    """
    models = list(results)
    if not models:
        raise ValueError("results must name at least one model, got none")
    measures = list(results[models[0]])
    for m in models:
        if list(results[m]) != measures:
            raise ValueError(f"results[{m!r}] must have the measures {measures}, got {list(results[m])}")
    values = {m: {k: _values(f"results[{m!r}][{k!r}]", results[m][k]) for k in measures} for m in models}

    def half_width(v):
        return interval(v.tolist()).half_width if len(v) > 1 else 0.0

    text = "; ".join(f"{m}: " + ", ".join(f"{k} {values[m][k].mean():.2f} ± {half_width(values[m][k]):.2f}"
                                          for k in measures) for m in models)
    n_seeds = max(len(v) for per in values.values() for v in per.values())
    fig, axes = figure(1, width=6.5, height=0.9 + 0.45 * len(models) * len(measures), alt=(
        f"Bar chart comparing {len(models)} networks on {len(measures)} measures, each from 0 to 1, "
        f"mean ± half the 95% confidence interval over {n_seeds} seeds: {text}"))
    ax = axes[0, 0]
    fig.subplots_adjust(left=0.3, right=0.95, bottom=0.2, top=0.8)
    height = 0.8 / len(models)
    colours = [PALETTE[c] for c, _ in _LINES]
    labels = []
    for i, m in enumerate(models):
        ys = np.arange(len(measures)) + i * height
        means = [values[m][k].mean() for k in measures]
        halves = [half_width(values[m][k]) for k in measures]
        ax.barh(ys, means, xerr=halves, height=height * 0.9, color=colours[i], label=m,
                ecolor=PALETTE["black"], capsize=2)
        for y, k in zip(ys, measures):
            ax.plot(values[m][k], np.full(len(values[m][k]), y), "o", ms=2.5, color=PALETTE["black"],
                    alpha=0.6)
        # Each mean written past everything drawn on its bar (the bar, its error bar, its seeds' dots).
        for y, v, half, values_k in zip(ys, means, halves, (values[m][k] for k in measures)):
            end = max(v + half, float(values_k.max()))
            labels.append(ax.annotate(f"{v:.2f}", (end, y), xytext=(4, 0), textcoords="offset points",
                                      ha="left", va="center", fontsize=7))
    ax.set_yticks(np.arange(len(measures)) + height * (len(models) - 1) / 2)
    ax.set_yticklabels(measures)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.12)
    ax.set_xticks(np.linspace(0, 1, 6))  # fractions: no tick past 1 in the room kept for the labels
    ax.set_xlabel(f"fraction of test digits\n(bar: mean over {n_seeds} seeds with its 95% CI; dot: one seed)")
    columns = min(len(models), 2)
    ax.legend(fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=columns, frameon=False)
    ax.set_title("trained on centred digits only; tested centred and shifted",
                 pad=10 + 12 * -(-len(models) // columns))
    room_for_labels(ax, labels)
    return fig


@styled
def transform_failure(rows: Sequence[Mapping]):
    """For each transform T: T(x), f(T(x)), T(f(x)) and their difference, one row per transform.

    Parameters
    ----------
    rows : sequence of mapping
        Each with keys ``"name"`` (e.g. "rotated 90°"), ``"input"`` (T(x)),
        ``"f_of_t"`` (f(T(x))), ``"t_of_f"`` (T(f(x))) and ``"error"`` (float).
    """
    if not 1 <= len(rows) <= 4:
        raise ValueError(f"rows must hold 1 to 4 transforms, got {len(rows)}")
    keys = {"name", "input", "f_of_t", "t_of_f", "error"}
    for row in rows:
        if not isinstance(row, Mapping) or set(row) != keys:
            raise ValueError(f"each row must be a mapping with keys {sorted(keys)}, got {row!r:.80}")
    fig, axes = figure(4, len(rows), width=8.0, height=0.3 + 2.2 * len(rows), alt="; ".join(
        f"{row['name']}: the transformed input, the detector's response to it (peak "
        f"{float(_map(row['f_of_t']).max()):.0f}), the transformed response to the original (peak "
        f"{float(_map(row['t_of_f']).max()):.0f}) and their difference, relative error {row['error']:.2f}"
        for row in rows))
    for ax_row, row in zip(axes, rows):
        a, b = _map(row["f_of_t"]), _map(row["t_of_f"])
        bound = max(float(np.abs(a).max()), float(np.abs(b).max())) or 1.0
        show_image(ax_row[0], _map(row["input"]), cmap=PHOTO, vmin=0, vmax=1, title=f"input {row['name']}")
        show_image(ax_row[1], a, cmap=DIVERGING, vmin=-bound, vmax=bound,
                   title=f"response to it: peak {a.max():.0f}")
        show_image(ax_row[2], b, cmap=DIVERGING, vmin=-bound, vmax=bound,
                   title=f"response {row['name']}: peak {b.max():.0f}")
        show_image(ax_row[3], a - b, cmap=DIVERGING, vmin=-bound, vmax=bound,
                   title=f"difference: error {row['error']:.2f}")
    return fig


@styled
def invariance_by_depth(maps: Sequence[Sequence[float]], averaged: Sequence[Sequence[float]], *,
                        shift: int = 1):
    """Two panels: invariance error against the number of stages, one thin line per network, the mean thick.

    Parameters
    ----------
    maps, averaged : sequence of sequence of float
        For each network (seed), its error at 0, 1, 2, ... stages: of the
        feature maps (left) and of their global average (right). Both have
        the same number of networks and depths.
    shift : int
        The input shift, for the titles.
    """
    shift = check_int("shift", shift, low=-MAX_SIDE, high=MAX_SIDE)
    arrays = []
    for name, rows in (("maps", maps), ("averaged", averaged)):
        arr = np.asarray(rows, dtype=float)
        if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 2 or not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must hold one row of at least 2 finite errors per network, "
                             f"got shape {arr.shape}")
        arrays.append(arr)
    if arrays[0].shape != arrays[1].shape:
        raise ValueError(f"maps and averaged must have one shape, got {arrays[0].shape} and {arrays[1].shape}")
    n, depths = arrays[0].shape
    means = [arr.mean(axis=0) for arr in arrays]
    text = "; ".join(f"{what}: " + ", ".join(f"{m:.3f}" for m in mean)
                     for what, mean in zip(("feature maps", "global average"), means))
    fig, axes = figure(2, width=7.5, height=2.9, alt=(
        f"Two line plots of the relative change after a {shift}-pixel shift against the number of "
        f"pooling stages, 0 to {depths - 1}, for {n} random networks, with the mean over networks; "
        f"means {text}"))
    titles = ("feature maps: ‖f(g(x)) − f(x)‖ / ‖f(x)‖", "global average of the maps")
    for ax, arr, mean, title in zip(axes[0], arrays, means, titles):
        xs = np.arange(depths)
        for row in arr:
            ax.plot(xs, row, color=PALETTE["sky"], lw=0.8, alpha=0.8)
        ax.plot(xs, mean, "o-", color=PALETTE["blue"], lw=2, label=f"mean of {n} networks")
        ax.set_xticks(xs)
        ax.set_xlabel("pooling stages")
        ax.set_ylim(0, None)
        ax.set_title(title)
    axes[0, 0].set_ylabel(f"change after a {shift}-pixel shift")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    return fig


@styled
def border_maps(maps: Mapping[str, object], *, channel: int = 0):
    """One channel of each feature map of a constant image, side by side, on one colour scale.

    Parameters
    ----------
    maps : mapping of str to tensor
        Title (e.g. the padding) to a (1, C, H, W) map; 1 to 4 of them.
    channel : int
        Which channel to show.
    """
    if not isinstance(maps, Mapping) or not 1 <= len(maps) <= 4:
        raise ValueError(f"maps must hold 1 to 4 maps (a mapping of title to map), got {maps!r:.80}")
    arrays = {}
    for name, y in maps.items():
        arr = np.asarray(y.detach() if hasattr(y, "detach") else y, dtype=float)
        if arr.ndim != 4 or arr.shape[0] != 1:
            raise ValueError(f"maps[{name!r}] must be one (1, C, H, W) map, got shape {arr.shape}")
        if not 0 <= channel < arr.shape[1]:
            raise ValueError(f"channel must be 0 to {arr.shape[1] - 1}, got {channel}")
        arrays[name] = arr[0, channel]
    low = min(float(a.min()) for a in arrays.values())
    high = max(float(a.max()) for a in arrays.values())
    text = "; ".join(f"{name}: values {a.min():.2f} to {a.max():.2f}" for name, a in arrays.items())
    fig, axes = figure(len(arrays), width=2.6 * len(arrays), height=2.8, alt=(
        f"Channel {channel} of the feature map of a constant image, one panel per padding, on one "
        f"colour scale; {text}"))
    for ax, (name, arr) in zip(axes[0], arrays.items()):
        show_image(ax, arr, title=name, vmin=low, vmax=high)
    return fig
