"""Figures for the chapter "The computational efficiency of convolution"."""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

from .style import PALETTE, figure, keep_inside, kind_colour, kind_series, show_image, styled

#: One colour per method, from the book's colours for layer kinds: the dense
#: matrix is a dense layer's operator, the sparse matrix stores one weight per
#: connection as a locally connected layer does; ``conv2d`` on either back end is a convolution.
METHOD_COLOURS = {m: kind_colour(m.split(",")[0]) for m in
                  ("convolution", "convolution, oneDNN off", "sparse matrix", "dense matrix")}
_METHODS = tuple(METHOD_COLOURS)
#: How the plots' legends name each method.
LABELS = {"convolution": "convolution, conv2d as PyTorch runs it",
          "convolution, oneDNN off": "convolution, conv2d with oneDNN off",
          "sparse matrix": "sparse matrix", "dense matrix": "dense matrix"}


def _check_methods(name, mapping):
    if not isinstance(mapping, dict) or not mapping or any(m not in METHOD_COLOURS for m in mapping):
        raise ValueError(f"{name} must map some of {list(METHOD_COLOURS)} to values, got {mapping!r}")


def si(value: float, unit: str = "") -> str:
    """A quantity for a label, to three significant figures.

    With a unit, a metric prefix: ``si(3.2e10, "B")`` is ``"32.0 GB"``,
    ``si(2.5e-5, "s")`` is ``"25.0 µs"``. Without one, a count in words:
    ``si(267960)`` is ``"267,960"``, ``si(8.0e9)`` is ``"8.00 billion"``.

    Parameters
    ----------
    value : float
        A finite number, zero or more.
    unit : str
        Unit symbol ("B", "s"), or "" for a plain count.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or value < 0:
        raise ValueError(f"value must be a finite number >= 0, got {value!r}")
    if not isinstance(unit, str):
        raise ValueError(f"unit must be a string, got {unit!r}")
    value = float(value)
    if not unit:
        for scale, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
            if value >= scale:
                return f"{_three(value / scale)} {word}" if value < 1e15 else f"{value:.3g}"
        return f"{value:,.0f}" if value >= 1 or value == 0 else f"{value:.3g}"
    if value == int(value) and value < 1000:  # whole bytes
        return f"{int(value)} {unit}"
    prefixes = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"))
    for scale, prefix in prefixes:  # noqa: B007 (the prefix found is used after the loop)
        text = _three(value / scale)
        if float(text) >= 1:
            break
    if float(text) >= 1000 and scale < 1e12:  # 999.7 ms rounds to 1.00 s
        scale, prefix = next(p for p in reversed(prefixes) if p[0] > scale)
        text = _three(value / scale)
    if not 1 <= float(text) < 1000:  # beyond the prefixes
        return f"{value:.3g} {unit}"
    return f"{text} {prefix}{unit}"


def _three(x: float) -> str:
    """Three significant figures, keeping trailing zeros (32.0, 1.50, 268)."""
    digits = 3 - len(str(int(x))) if x >= 1 else 2
    return f"{x:.{max(digits, 0)}f}"


@styled
def conv_matrix(matrix, image_shape, kernel_shape, *, title: str = "", size: tuple | None = None):
    """A small convolution matrix as an image: one row per output pixel, one column per input pixel.

    Thin lines separate the blocks that belong to one input row (columns) and
    one output row (rows), which shows the doubly block Toeplitz structure.

    Parameters
    ----------
    matrix : array-like
        Dense (rows, cols) matrix of a single-channel convolution, at most 200 x 200.
    image_shape : tuple of int
        (height, width) of the input; ``height * width`` must equal the number of columns.
    kernel_shape : tuple of int
        (kH, kW) of the kernel.
    title : str
        Added before the default title.
    size : (float, float), optional
        Figure width and height in inches (fixed, for the frames of an
        explorer); by default sized to the matrix.
    """
    m = np.asarray(matrix, dtype=float)
    if m.ndim != 2 or max(m.shape) > 200:
        raise ValueError(f"matrix must be 2-D with at most 200 rows and columns, got shape {m.shape}")
    h, w = (int(s) for s in image_shape)
    kh, kw = (int(s) for s in kernel_shape)
    if h * w != m.shape[1] or not 1 <= kh <= h or not 1 <= kw <= w:
        raise ValueError(f"image_shape {image_shape} and kernel_shape {kernel_shape} must fit the "
                         f"matrix's {m.shape[1]} columns")
    h_out, w_out = h - kh + 1, w - kw + 1
    if h_out * w_out != m.shape[0]:
        raise ValueError(f"matrix must have {h_out * w_out} rows for a valid {kh} x {kw} convolution of a "
                         f"{h} x {w} image, got {m.shape[0]}")
    nnz = int(np.count_nonzero(m))
    if size is None:
        # The image at most 7.4 inches wide and 4 tall, plus room for the title and labels.
        scale = min(7.4 / m.shape[1], 4.0 / m.shape[0])
        size = (max(3.0, m.shape[1] * scale + 0.7), m.shape[0] * scale + 1.1)
    width, height = size
    fig, axes = figure(1, width=width, height=height, alt=(
        f"The {m.shape[0]} by {m.shape[1]} matrix of a {kh} by {kw} convolution of a {h} by {w} image: "
        f"{nnz} of its {m.size} entries are non-zero, arranged in diagonal bands inside blocks "
        f"of {w_out} rows by {w} columns; red is positive, blue negative, white zero"))
    ax = axes[0, 0]
    show_image(ax, m, signed=True, title=(f"{title}: " if title else "") + (
        f"{m.shape[0]} outputs × {m.shape[1]} inputs, {nnz} of {m.size} entries non-zero "
        f"({100 * nnz / m.size:.0f}%)"))
    for col in range(w, m.shape[1], w):
        ax.axvline(col - 0.5, color=PALETTE["black"], lw=0.4, alpha=0.5)
    for row in range(w_out, m.shape[0], w_out):
        ax.axhline(row - 0.5, color=PALETTE["black"], lw=0.4, alpha=0.5)
    ax.set_xlabel(f"input pixel (blocks of {w}: one image row)")
    ax.set_ylabel(f"output pixel (blocks of {w_out})")
    fig.subplots_adjust(left=0.4 / width, right=1 - 0.1 / width, bottom=0.4 / height, top=1 - 0.6 / height)
    return fig


def times(ratio: float) -> str:
    """A ratio as a multiple for a label: ``"59,733×"`` for large ones, ``"0.024×"`` or ``"3.5×"`` below 100."""
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float, np.integer, np.floating)) \
            or not np.isfinite(ratio) or ratio <= 0:
        raise ValueError(f"ratio must be a positive finite number, got {ratio!r}")
    return f"{ratio:,.0f}×" if ratio >= 100 else f"{ratio:.2g}×"


_SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
# Tick labels 10⁴ as plain text: the same look as matplotlib's mathtext labels at a
# fraction of the drawing time, which matters for explorers with dozens of frames.
_POWER_OF_TEN = FuncFormatter(lambda value, _: f"10{str(round(np.log10(value))).translate(_SUPERSCRIPTS)}"
                              if value > 0 else "")


def _bar_panel(ax, values, limits, unit, title, notes=None):
    names = list(values)
    notes = notes or {}
    heights = [values[n] for n in names]
    bars = ax.bar(range(len(names)), heights, color=[METHOD_COLOURS[n] for n in names], width=0.65)
    ax.set_yscale("log")
    # Major ticks only, at most about five: minor ticks on log axes cost most of the drawing time.
    ax.yaxis.set_major_locator(LogLocator(base=10, numticks=6))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(_POWER_OF_TEN)
    if limits is not None:
        ax.set_ylim(*limits)
    ax.set_xticks(range(len(names)), [n.replace(" matrix", "\nmatrix") + (f"\n({notes[n]})" if n in notes else "")
                                      for n in names])
    labels = [ax.annotate(si(value, unit), (bar.get_x() + bar.get_width() / 2, value), xytext=(0, 2),
                          textcoords="offset points", ha="center", va="bottom", fontsize=8)
              for bar, value in zip(bars, heights)]
    ax.set_title(title)
    ax.grid(axis="y", which="major", alpha=0.3)
    return labels


def log_limits(*values) -> tuple[float, float]:
    """Axis limits on a log scale that hold every value, with a decade of room above for labels.

    Parameters
    ----------
    *values : numbers or iterables of numbers
        All positive and finite.

    Returns
    -------
    (float, float)
        Powers of ten: the decade at or below the smallest value, and two
        decades above the decade of the largest.
    """
    flat = np.concatenate([np.ravel(np.asarray(list(v.values()) if isinstance(v, dict) else v, dtype=float))
                           for v in values]) if values else np.array([])
    if flat.size == 0 or not np.all(np.isfinite(flat)) or np.any(flat <= 0):
        raise ValueError(f"values must be positive finite numbers, at least one, got {flat.tolist()}")
    return 10.0 ** np.floor(np.log10(flat.min())), 10.0 ** (np.floor(np.log10(flat.max())) + 2)


@styled
def cost_bars(costs, seconds: dict, *, limits: dict | None = None, label: str = "", backend: dict | None = None):
    """Operations, storage and measured time of each method, as bars on log scales.

    Each panel's title gives the dense matrix's multiple of the convolution.

    Parameters
    ----------
    costs : widgets.compute.efficiency.Costs
        Counted operations and bytes of the three methods.
    seconds : dict
        Method name (see :data:`METHOD_COLOURS`) to measured seconds; the bars
        show the methods present here.
    limits : dict, optional
        ``"flops"``, ``"nbytes"`` and ``"seconds"`` to (low, high) axis limits,
        so the frames of an explorer share their scales.
    label : str
        What is being computed (e.g. "64 × 64 image, 3 × 3 kernel"), for the title.
    backend : dict, optional
        Method name to the back end that ran it (e.g. ``{"convolution": "oneDNN"}``),
        written under its bar in the time panel.
    """
    _check_methods("seconds", seconds)
    if backend is not None and (not isinstance(backend, dict) or any(m not in seconds for m in backend)):
        raise ValueError(f"backend must map methods of seconds to back-end names, got {backend!r:.80}")
    if any(not np.isfinite(v) or v <= 0 for v in seconds.values()):
        raise ValueError(f"seconds must hold positive numbers, got {seconds!r}")
    if not hasattr(costs, "method"):
        raise ValueError(f"costs must be a Costs from widgets.compute.efficiency.costs, got {type(costs).__name__}")
    flops = {m: costs.method(m).flops for m in seconds}
    nbytes = {m: costs.method(m).nbytes for m in seconds}
    limits = limits or {}
    fig, axes = figure(3, width=8.5, height=3.4, alt=(
        f"Bars on log scales for {label or 'one convolution'}: operations "
        + ", ".join(f"{m} {si(v)}" for m, v in flops.items()) + "; storage "
        + ", ".join(f"{m} {si(v, 'B')}" for m, v in nbytes.items()) + "; measured time "
        + ", ".join(f"{m} {si(v, 's')}" for m, v in seconds.items())
        + "".join(f"; {m} ran on {b}" for m, b in (backend or {}).items())))

    def ratio(d):
        if "dense matrix" in d and "convolution" in d:
            return f"\ndense ÷ convolution = {times(d['dense matrix'] / d['convolution'])}"
        return ""

    labels = [_bar_panel(axes[0, 0], flops, limits.get("flops"), "", "floating-point operations" + ratio(flops)),
              _bar_panel(axes[0, 1], nbytes, limits.get("nbytes"), "B", "storage of the operator" + ratio(nbytes)),
              _bar_panel(axes[0, 2], seconds, limits.get("seconds"), "s",
                         "measured time, one core" + ratio(seconds), backend)]
    if label:
        fig.suptitle(label)
    fig.subplots_adjust(left=0.05, right=0.99, bottom=0.2 if backend else 0.15, top=0.78, wspace=0.3)
    # A label wider than its bar's share of the panel ("29.5 million" over the last bar) moves in from the border.
    for ax, texts in zip(axes[0], labels):
        keep_inside(ax, texts)
    return fig


@styled
def scaling(pixels: dict, seconds: dict, nbytes: dict, fits: dict, *, fit_range: tuple | None = None,
            switch: float | None = None, target: int | None = None, target_label: str = "",
            target_seconds: dict | None = None, target_range: dict | None = None,
            target_nbytes: dict | None = None, fit_notes: dict | None = None):
    """Measured time and storage against image size on log-log axes, with fitted power laws.

    Parameters
    ----------
    pixels : dict
        Method name (a key of :data:`METHOD_COLOURS`) to the pixel counts it was timed at.
    seconds : dict
        Method name to measured seconds, aligned with ``pixels``: the left panel.
    nbytes : dict
        Method name to operator bytes, aligned with ``pixels``: the right panel
        (methods whose storage is another's, such as ``conv2d`` on another back
        end, are simply left out).
    fits : dict
        Method name to a fitted ``PowerLaw`` (anything with ``exponent`` and
        ``predict``) of time against pixels, drawn over ``fit_range`` and,
        dotted, on to ``target``.
    fit_range : (float, float), optional
        The pixel counts the fits used; by default all of each method's.
    switch : float, optional
        A pixel count where a library changes algorithm, marked by a vertical line.
    target : int, optional
        A pixel count to mark (e.g. the 320 x 280 example).
    target_label : str
        Its name in the legend.
    target_seconds, target_nbytes : dict, optional
        Method name to the time or storage measured or counted at ``target``, drawn as open markers.
    target_range : dict, optional
        Method name to a (low, high) range of predicted times at ``target``, drawn as a bar.
    fit_notes : dict, optional
        Method name to text that follows its fitted exponent in the legend and
        the description, e.g. its confidence interval.
    """
    fit_notes = fit_notes or {}
    if not isinstance(fit_notes, dict) or any(m not in fits or not isinstance(t, str) for m, t in fit_notes.items()):
        raise ValueError(f"fit_notes must map methods of fits to text, got {fit_notes!r:.80}")
    for name, d in (("pixels", pixels), ("seconds", seconds), ("nbytes", nbytes)):
        _check_methods(name, d)
    for m in seconds:
        if m not in pixels or len(pixels[m]) != len(seconds[m]):
            raise ValueError(f"seconds[{m!r}] must have one value per pixel count of pixels[{m!r}]")
    for m in nbytes:
        if m not in pixels or len(pixels[m]) != len(nbytes[m]):
            raise ValueError(f"nbytes[{m!r}] must have one value per pixel count of pixels[{m!r}]")
    if fit_range is not None and (len(fit_range) != 2 or not 0 < fit_range[0] < fit_range[1]):
        raise ValueError(f"fit_range must be two pixel counts, low < high, got {fit_range!r}")
    if switch is not None and (isinstance(switch, bool) or not isinstance(switch, (int, float)) or switch <= 0):
        raise ValueError(f"switch must be a positive pixel count, got {switch!r}")
    target_seconds, target_nbytes, target_range = target_seconds or {}, target_nbytes or {}, target_range or {}
    for m, (low, high) in target_range.items():
        if not 0 < low <= high:
            raise ValueError(f"target_range[{m!r}] must be (low, high) with 0 < low <= high, got {(low, high)}")
    fig, axes = figure(2, width=8.5, height=4.6, alt=(
        "Log-log plots of measured time (left) and operator storage (right) against the number of pixels: "
        + "; ".join(f"{LABELS[m]} from {si(seconds[m][0], 's')} to {si(seconds[m][-1], 's')}" for m in _METHODS
                    if m in seconds)
        + "".join(f"; fitted power law for {LABELS[m]}, exponent {fits[m].exponent:.2f}"
                  + (f" ({fit_notes[m]})" if m in fit_notes else "") for m in _METHODS if m in fits)
        + (f"; a vertical line at {switch:,.0f} pixels where PyTorch hands conv2d to oneDNN" if switch else "")
        + (f"; open markers at {target:,} pixels ({target_label})" if target else "")))
    ax_t, ax_m = axes[0]
    handles, labels = {}, {}
    for m in _METHODS:
        if m not in pixels:
            continue
        style = method_style(m)
        p = np.asarray(pixels[m], dtype=float)
        if m in seconds:
            line, = ax_t.loglog(p, seconds[m], **dict(style, lw=0.8))
            handles[m], labels[m] = line, LABELS[m]
        if m in nbytes:
            line, = ax_m.loglog(p, nbytes[m], **dict(style, lw=1))
            handles.setdefault(m, line)
            labels.setdefault(m, LABELS[m])
        if m in fits:
            low, high = fit_range or (p.min(), p.max())
            grid = np.geomspace(low, high, 50)
            ax_t.loglog(grid, fits[m].predict(grid), color=PALETTE["black"], lw=1.6, alpha=0.6)
            if target and target > high:
                far = np.geomspace(high, target, 30)
                ax_t.loglog(far, fits[m].predict(far), ":", color=PALETTE["black"], lw=1.2, alpha=0.6)
            labels[m] = f"{LABELS[m]}, fit: time ∝ pixels^{fits[m].exponent:.2f}" + (
                f"\n({fit_notes[m]})" if m in fit_notes else "")
        if target and m in target_seconds:
            ax_t.loglog([target], [target_seconds[m]], "o", mfc="white", mec=style["color"], ms=8, mew=1.5)
        if target and m in target_range:
            low, high = target_range[m]
            ax_t.plot([target, target], [low, high], color=style["color"], lw=4, alpha=0.7,
                      solid_capstyle="butt")
        if target and m in target_nbytes:
            ax_m.loglog([target], [target_nbytes[m]], "o", mfc="white", mec=style["color"], ms=8, mew=1.5)
    if switch:
        ax_t.axvline(switch, color=PALETTE["black"], lw=0.8, ls="--", alpha=0.6)
        ax_t.annotate("own code ← → oneDNN", (switch, 1), xycoords=("data", "axes fraction"), xytext=(0, -3),
                      textcoords="offset points", ha="center", va="top", fontsize=9,
                      bbox=dict(boxstyle="square,pad=0.1", fc="white", ec="none"))
    if target:
        for ax in (ax_t, ax_m):
            ax.axvline(target, color=PALETTE["black"], lw=0.6, ls=":")
        marker, = ax_t.plot([], [], "o", mfc="white", mec=PALETTE["black"], ms=8, mew=1.5)
        handles["target"], labels["target"] = marker, target_label or f"{target:,} pixels"
    ax_t.set_title("measured time of one product, one core")
    ax_m.set_title("storage of the operator")
    for ax, unit in ((ax_t, "seconds"), (ax_m, "bytes")):
        ax.set_xlabel("pixels in the image")
        ax.set_ylabel(unit)
        ax.grid(which="major", alpha=0.3)
    # One legend for both panels, below them, where it covers no data.
    fig.legend(list(handles.values()), list(labels.values()), loc="lower center", ncol=2, frameon=False)
    fig.subplots_adjust(left=0.09, right=0.99, bottom=0.3, top=0.93, wspace=0.28)
    return fig


def colour_name(method: str) -> str:
    """The name, in the book's palette, of the colour that marks ``method`` in this chapter's figures."""
    if method not in METHOD_COLOURS:
        raise ValueError(f"method must be one of {list(METHOD_COLOURS)}, got {method!r}")
    return next(name for name, hex_ in PALETTE.items() if hex_ == METHOD_COLOURS[method])


@styled
def network_costs(layers, *, title: str = ""):
    """Parameters, forward multiply-adds and output values of each layer of a network, as bars.

    Parameters
    ----------
    layers : sequence
        Records with ``name``, ``kind`` (``"convolution"``, ``"dense"`` or
        ``"pooling"``), ``parameters``, ``multiply_adds`` and ``activations``, in
        order (:func:`widgets.compute.efficiency.network_costs`).
    title : str
        The network's name, for the figure's title.
    """
    rows = list(layers) if not isinstance(layers, (str, bytes)) else []
    needed = ("name", "kind", "parameters", "multiply_adds", "activations")
    if not rows or any(not all(hasattr(r, a) for a in needed) or r.kind not in ("convolution", "dense", "pooling")
                       for r in rows):
        raise ValueError(f"layers must be a non-empty sequence of LayerCost records, got {layers!r:.80}")
    quantities = (("parameters", "parameters", 1e6, "millions"), ("multiply_adds", "multiply-adds", 1e9, "billions"),
                  ("activations", "output values", 1e6, "millions"))
    totals = {q: sum(getattr(r, q) for r in rows) for q, *_ in quantities}

    def share(q, kind):
        return 100 * sum(getattr(r, q) for r in rows if r.kind == kind) / max(totals[q], 1)

    fig, axes = figure(1, 3, width=8.5, height=7.2, alt=(
        f"Bars per layer of {title or 'the network'}: "
        + "; ".join(f"{word}: {si(totals[q])} in all, convolutions {share(q, 'convolution'):.1f} %, "
                    f"dense layers {share(q, 'dense'):.1f} %" for q, word, *_ in quantities)))
    colours = {"convolution": kind_colour("convolution"), "dense": kind_colour("dense"), "pooling": PALETTE["sky"]}
    x = np.arange(len(rows))
    for ax, (q, word, scale, unit) in zip(axes[:, 0], quantities):
        ax.bar(x, [getattr(r, q) / scale for r in rows], color=[colours[r.kind] for r in rows], width=0.7)
        ax.set_ylabel(unit)
        parts = [f"{plural} {share(q, kind):.1f} %" for kind, plural in
                 (("convolution", "convolutions"), ("dense", "dense layers"), ("pooling", "pooling"))
                 if share(q, kind) > 0]
        ax.set_title(f"{word}: {si(totals[q])}; " + ", ".join(parts))
        ax.set_xticks(x, [] if ax is not axes[-1, 0] else [r.name for r in rows])
        ax.set_xlim(-0.6, len(rows) - 0.4)
        ax.grid(axis="y", alpha=0.3)
    axes[-1, 0].tick_params(axis="x", labelrotation=90)
    handles = [Patch(color=colours[k]) for k in ("convolution", "dense", "pooling")]
    fig.legend(handles, ["convolution", "dense", "pooling"], loc="upper right", ncol=3, frameon=False)
    if title:
        fig.suptitle(title, x=0.02, ha="left")
    fig.subplots_adjust(left=0.08, right=0.99, bottom=0.14, top=0.9, hspace=0.45)
    return fig


def method_style(method: str) -> dict:
    """Line and marker keywords for ``method`` in the chapter's plots.

    Its colour is the layer kind's (:func:`~widgets.draw.style.kind_series`);
    marker, fill and line style differ per method, so lines that overlap stay apart.
    """
    if method not in METHOD_COLOURS:
        raise ValueError(f"method must be one of {list(METHOD_COLOURS)}, got {method!r}")
    return kind_series(method.split(",")[0], _METHODS.index(method))
