"""The book's one visual style: colours, colour maps, fonts and figure helpers.

Every drawing function builds its figure with :func:`figure` and its images
with :func:`show_image`, so the whole book looks the same and colour choices
live here only. Colour maps are readable with the common colour-vision
deficiencies and even in lightness: ``viridis`` for magnitudes (lightness rises
in equal steps), gray for photographs, and for signed values Moreland's
``coolwarm``, whose lightness is symmetric about a light neutral zero, so
that +x and -x look equally strong (tests/test_accessibility.py checks both).
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import html
import io
import math
import re
from collections.abc import Iterable

import matplotlib
import matplotlib.axes
import matplotlib.colors
import matplotlib.legend
import matplotlib.text
import matplotlib.transforms
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .._checks import MAX_SIDE, check_instance, check_int, check_number

# Okabe & Ito (2008) colour-blind-safe palette.
PALETTE = {
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}
HIGHLIGHT = PALETTE["orange"]

#: One colour per kind of layer, the same in every figure of the book. The
#: convolutional network whose classifier reads the flattened feature maps is
#: a kind of its own (chapter "Putting it together" compares it with the others).
KIND_COLOURS = {
    "dense": PALETTE["vermillion"],
    "locally connected": PALETTE["orange"],
    "convolution": PALETTE["blue"],
    "convolutional, flattened head": PALETTE["purple"],
}

# Other spellings the figures use, by the kind they are. A dense matrix is a
# dense layer's operator; a sparse matrix stores one weight per connection, as
# a locally connected layer does.
_KIND_ALIASES = {
    "convolutional": "convolution",
    "convolutional network": "convolution",
    "convolution layer": "convolution",
    "convolution, onednn off": "convolution",
    "convolutional layer": "convolution",
    "dense layer": "dense",
    "dense network": "dense",
    "dense matrix": "dense",
    "locally connected layer": "locally connected",
    "locally connected network": "locally connected",
    "sparse matrix": "locally connected",
    "convolutional network, flattened head": "convolutional, flattened head",
}
SEQUENTIAL = "viridis"
DIVERGING = "coolwarm"
PHOTO = "gray"

#: Colours, markers and line styles for lines that may overlap, in order: each
#: line differs from the others in all three, and filled markers alternate with
#: hollow ones, so a line drawn over another still shows both (see :func:`series`).
SERIES = (
    {"color": PALETTE["blue"], "marker": "o", "linestyle": "-", "markerfacecolor": PALETTE["blue"]},
    {"color": PALETTE["vermillion"], "marker": "s", "linestyle": "--", "markerfacecolor": "white"},
    {"color": PALETTE["green"], "marker": "^", "linestyle": "-.", "markerfacecolor": PALETTE["green"]},
    {"color": PALETTE["orange"], "marker": "D", "linestyle": ":", "markerfacecolor": "white"},
    {"color": PALETTE["purple"], "marker": "v", "linestyle": "-", "markerfacecolor": PALETTE["purple"]},
    {"color": PALETTE["sky"], "marker": "P", "linestyle": "--", "markerfacecolor": "white"},
)

#: CSS pixels per figure inch on the page: a figure ``width`` inches wide is shown
#: ``width * CSS_DPI`` pixels wide (never wider than the column).
CSS_DPI = 80
#: Rendered pixels per CSS pixel: images are rendered at twice the size they are
#: shown, so they stay sharp on high-density screens and when a reader zooms.
SCALE = 2
#: Resolution of every image the book embeds (static figures and widget frames).
DPI = CSS_DPI * SCALE
#: Width of the text column at a 1280-pixel-wide window, in CSS pixels (measured
#: on the built site); wider figures are scaled down to it.
COLUMN_PX = 688
#: The smallest text any figure may show on that page, in CSS pixels.
MIN_TEXT_PX = 11.0
#: The smallest text a figure may show on a phone, in CSS pixels: below this
#: width a figure is not scaled down any further but scrolls inside its box
#: (book/_static/book.css, ``--cw-readable``).
PHONE_TEXT_PX = 9.0

RC = {
    # 10 pt is 11.1 CSS pixels at CSS_DPI; min_font_points() raises anything smaller.
    "font.size": 10,
    "axes.titlesize": 10,
    "figure.titlesize": 11,
    "legend.fontsize": 10,
    # Colours only: a line style or marker from the cycle would give lines in
    # diagrams a meaning they do not have. Plots whose lines may overlap use series().
    "axes.prop_cycle": matplotlib.cycler(
        color=[PALETTE[k] for k in ("blue", "orange", "green", "vermillion", "purple", "sky")]),
    "lines.markersize": 5,
    "image.interpolation": "nearest",
    "savefig.facecolor": "white",
    "figure.facecolor": "white",
}


def series(index: int) -> dict:
    """Keyword arguments for ``Axes.plot`` for the ``index``-th of several lines that may overlap.

    Colour, marker, line style and marker fill all differ from the other entries
    (cycling after :data:`SERIES` runs out).
    """
    index = check_int("index", index, low=0, high=10_000)
    return dict(SERIES[index % len(SERIES)], markeredgewidth=1.2)


def kind(name: str) -> str:
    """The kind of layer ``name`` names, as a key of :data:`KIND_COLOURS`.

    Accepts the keys themselves and the other spellings figures use, in any
    case: ``"convolutional"`` is ``"convolution"``, ``"dense matrix"`` is
    ``"dense"``, ``"sparse matrix"`` is ``"locally connected"``.
    """
    if not isinstance(name, str):
        raise ValueError(f"name must be a layer kind (a string), got {name!r:.80}")
    key = " ".join(name.lower().split())
    key = _KIND_ALIASES.get(key, key)
    if key not in KIND_COLOURS:
        allowed = sorted(set(KIND_COLOURS) | set(_KIND_ALIASES))
        raise ValueError(f"name must be a layer kind, one of {allowed}, got {name!r}")
    return key


def kind_colour(name: str) -> str:
    """The colour of layer kind ``name`` (any spelling :func:`kind` accepts), from :data:`KIND_COLOURS`."""
    return KIND_COLOURS[kind(name)]


def kind_series(name: str, index: int) -> dict:
    """Keyword arguments for ``Axes.plot``: the ``index``-th :func:`series` style in kind ``name``'s colour.

    Marker, fill and line style still differ from line to line, so lines that
    overlap stay apart; the colour says which kind of layer it is.
    """
    colour = kind_colour(name)
    style = series(index)
    fill = "white" if style["markerfacecolor"] == "white" else colour
    return dict(style, color=colour, markerfacecolor=fill, markeredgecolor=colour)


def styled(draw):
    """Decorator: run a drawing function inside the book's matplotlib settings."""
    if not callable(draw):
        raise ValueError(f"draw must be a drawing function, got {type(draw).__name__}")

    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(RC):
            return draw(*args, **kwargs)

    return wrapper


class BookFigure(Figure):
    """A matplotlib figure that shows itself as a PNG image with alt text (``alt``).

    It does so in JupyterLab and on the site alike, without going through pyplot.
    """

    alt: str = ""
    #: The panels of each column belong together (one item drawn over several rows): a
    #: phone's drawing (:func:`narrow_layout`) keeps each column whole, though every panel has a title.
    keep_columns: bool = False

    def _repr_html_(self) -> str:
        wide, narrow = render_both(self)
        return img_tag(wide, self.alt or "Figure", narrow=narrow, hint=True)


def figure(ncols: int = 1, nrows: int = 1, *, width: float = 8.0, height: float = 3.0, alt: str = ""):
    """A figure with a grid of axes, outside pyplot's registry (nothing to leak).

    Parameters
    ----------
    ncols, nrows : int
        Grid of axes.
    width, height : float
        Size in inches.
    alt : str
        What the figure shows, in words: its alt text on the page.

    Returns
    -------
    (BookFigure, numpy.ndarray of Axes)
        The axes array is always 2-D, shape (nrows, ncols).
    """
    ncols = check_int("ncols", ncols, low=1, high=12)
    nrows = check_int("nrows", nrows, low=1, high=16)
    if not 2.0 <= width <= 16.0:
        raise ValueError(f"width must be in [2, 16] inches, got {width!r}")
    if not 1.2 <= height <= 16.0:
        raise ValueError(f"height must be in [1.2, 16] inches (room for the titles), got {height!r}")
    if not isinstance(alt, str):
        raise ValueError(f"alt must be a string (the figure's text alternative), got {type(alt).__name__}")
    fig = BookFigure(figsize=(width, height))
    fig.alt = alt
    # Fixed margins in inches (room for a frame title and one line of axes title):
    # much faster than a layout engine when an explorer renders dozens of frames.
    fig.subplots_adjust(left=0.1 / width, right=1 - 0.1 / width, bottom=0.1 / height,
                        top=1 - 0.6 / height, wspace=0.15, hspace=0.45)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def span_cells(fig: Figure, axes, rows, cols):
    """Replace the axes in grid cells ``[rows] x [cols]`` of ``axes`` by one axis spanning them."""
    check_instance("fig", fig, Figure, "a matplotlib Figure")
    if not isinstance(axes, np.ndarray) or axes.ndim != 2:
        raise ValueError(f"axes must be the 2-D array of axes figure() returns, got {type(axes).__name__}")
    try:
        cells = np.atleast_2d(axes[rows, cols])
    except IndexError as err:
        raise ValueError(f"rows and cols must select cells of the {axes.shape} grid, got {rows!r}, {cols!r}") from err
    grid = axes[0, 0].get_subplotspec().get_gridspec()
    for ax in cells.ravel():
        ax.remove()
    return fig.add_subplot(grid[rows, cols])


def show_image(ax, values, *, title: str = "", signed: bool = False, cmap: str | None = None,
               vmin: float | None = None, vmax: float | None = None):
    """Draw a 2-D array as an image without ticks.

    ``signed=True`` uses the diverging map with limits symmetric about zero
    (unless ``vmin`` and ``vmax`` are given), so zero is the neutral middle colour.
    """
    check_instance("ax", ax, matplotlib.axes.Axes, "a matplotlib Axes")
    values = np.asarray(values, dtype=float)
    if values.ndim != 2 and not (values.ndim == 3 and values.shape[-1] in (3, 4)):
        raise ValueError(f"values must be a 2-D array or an (H, W, 3 or 4) colour image, got shape {values.shape}")
    if cmap is not None and not isinstance(cmap, matplotlib.colors.Colormap) and cmap not in matplotlib.colormaps:
        raise ValueError(f"cmap must be the name of a matplotlib colour map, got {cmap!r}")
    if signed:
        if vmin is None and vmax is None:
            bound = float(np.abs(values).max()) or 1.0
            vmin, vmax = -bound, bound
        cmap = cmap or DIVERGING
    im = ax.imshow(values, cmap=cmap or SEQUENTIAL, vmin=vmin, vmax=vmax)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return im


def write_values(ax, values, fmt: str = "{:.2f}", fontsize: float = 7.0):
    """Write each entry of a small 2-D array in its cell, dark or light for contrast."""
    check_instance("ax", ax, matplotlib.axes.Axes, "a matplotlib Axes")
    if not ax.get_images():
        raise ValueError("ax must show an image (draw it with show_image first), got axes without one")
    if not isinstance(fmt, str):
        raise ValueError(f"fmt must be a format string such as '{{:.2f}}', got {fmt!r}")
    fontsize = check_number("fontsize", fontsize, low=1.0, high=72.0)
    values = np.asarray(values, dtype=float)
    im = ax.get_images()[-1]
    for (i, j), v in np.ndenumerate(values):
        r, g, b, _ = im.cmap(im.norm(v))
        luminance = 0.299 * r + 0.587 * g + 0.114 * b
        ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=fontsize,
                color="black" if luminance > 0.5 else "white")


def outline(ax, top: int, left: int, height: int, width: int, color: str = HIGHLIGHT, lw: float = 2.0):
    """Outline the pixels [top, top + height) x [left, left + width) of an image axis."""
    check_instance("ax", ax, matplotlib.axes.Axes, "a matplotlib Axes")
    top, left = check_number("top", top, low=-MAX_SIDE, high=MAX_SIDE), check_number("left", left, low=-MAX_SIDE,
                                                                                      high=MAX_SIDE)
    height, width = check_number("height", height, low=0, high=MAX_SIDE), check_number("width", width, low=0,
                                                                                       high=MAX_SIDE)
    ax.add_patch(Rectangle((left - 0.5, top - 0.5), width, height, fill=False, edgecolor=color, linewidth=lw))


def min_font_points(width: float) -> float:
    """The smallest font size, in points, that a figure ``width`` inches wide may use.

    At that size its text is at least :data:`MIN_TEXT_PX` CSS pixels on a page
    1280 pixels wide: shown at :data:`CSS_DPI`, or scaled down to the column.
    """
    css_per_inch = min(CSS_DPI, COLUMN_PX / check_number("width", width, low=0.1, high=100.0))
    return MIN_TEXT_PX * 72.0 / css_per_inch


def legible(fig: Figure) -> Figure:
    """Raise every piece of text in ``fig`` smaller than :func:`min_font_points` to that size.

    Titles, labels, tick labels, legends and annotations all count; returns ``fig``.
    """
    check_instance("fig", fig, Figure, "a matplotlib Figure")
    floor = min_font_points(fig.get_figwidth())
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for which in ("major", "minor"):
                ticks = axis.get_major_ticks() if which == "major" else axis.get_minor_ticks()
                if ticks and ticks[0].label1.get_fontsize() < floor:
                    axis.set_tick_params(which=which, labelsize=floor)
    for text in fig.findobj(matplotlib.text.Text):
        if text.get_text() and text.get_fontsize() < floor:
            text.set_fontsize(floor)
    return fig


#: Room, in inches, that text keeps from the edges of the image (:func:`fit_suptitle`, :func:`fit_top`).
EDGE = 0.1


def _measuring_renderer(fig: Figure):
    """A renderer that lays ``fig`` out as :func:`render` will, its text already :func:`legible`."""
    from matplotlib.backends.backend_agg import RendererAgg

    legible(fig)
    return RendererAgg(max(1, round(fig.bbox.width)), max(1, round(fig.bbox.height)), fig.dpi)


def fit_suptitle(fig: Figure, *parts: str) -> matplotlib.text.Text:
    """Give ``fig`` the title ``parts`` joined by spaces, on as many lines as keep it inside the image.

    When the joined title is wider than the figure (less :data:`EDGE` on either
    side, at the size :func:`legible` gives it), each part starts a line of its
    own and any line still too wide breaks between words, never at a space beside
    ``=`` (so that ``"name = value"`` stays whole). If the wrapped title then reaches down
    into the axes or other text, the figure grows at the top by as much, everything
    else keeping its place (:func:`grow_top`). An existing title keeps its
    position and alignment. Returns the title.
    """
    check_instance("fig", fig, Figure, "a matplotlib Figure")
    if not parts or not all(isinstance(p, str) for p in parts) or not "".join(parts).strip():
        raise ValueError(f"parts must be one or more strings, not all blank, got {parts!r:.80}")
    renderer = _measuring_renderer(fig)
    # matplotlib keeps the title's Text private; a new title takes the book's size, not the rcParams of the moment.
    title = fig._suptitle if fig._suptitle is not None else fig.suptitle(" ", fontsize=RC["figure.titlesize"])
    title.set_fontsize(max(title.get_fontsize(), min_font_points(fig.get_figwidth())))
    # Inside the image, EDGE from its sides (or from the anchor, for a title placed nearer a side).
    anchor = fig.transSubfigure.transform(title.get_position())[0]
    left = min(fig.bbox.x0 + EDGE * fig.dpi, anchor)
    right = max(fig.bbox.x1 - EDGE * fig.dpi, anchor)

    def fits(text):
        title.set_text(text)
        box = title.get_window_extent(renderer)
        return box.x0 >= left - 0.5 and box.x1 <= right + 0.5

    joined = " ".join(p for p in parts if p)
    if fits(joined):
        return title
    title.set_text(_broken(parts, fits))
    bottom = title.get_window_extent(renderer).y0
    top = _content_top(fig, renderer, exclude=title)
    if top > bottom - 0.05 * fig.dpi:
        grow_top(fig, (top - bottom) / fig.dpi + 0.05)
    return title


def _broken(parts, fits) -> str:
    """Each of ``parts`` on a line of its own, a line that ``fits`` rejects broken between words.

    Never at a space beside ``=``, so that ``"name = value"`` stays whole.
    """
    lines = []
    for line in (line for p in parts if p for line in p.split("\n")):
        words = re.split(r"(?<!=) (?!=)", line)
        current = words[0]
        for word in words[1:]:
            if fits(f"{current} {word}"):
                current = f"{current} {word}"
            else:
                lines.append(current)
                current = word
        lines.append(current)
    return "\n".join(lines)


def _content_top(fig: Figure, renderer, exclude=None) -> float:
    """The highest point, in display pixels, of the figure's axes (with their labels and legends) and texts."""
    boxes = [ax.get_tightbbox(renderer) for ax in fig.axes if ax.get_visible()]
    boxes += [a.get_window_extent(renderer) for a in (*fig.texts, *fig.legends)
              if a is not exclude and a.get_visible() and (not hasattr(a, "get_text") or a.get_text().strip())]
    boxes = [b for b in boxes if b is not None and b.height > 0 and np.isfinite(b.y1)]
    return max((b.y1 for b in boxes), default=fig.bbox.y0)


def grow_top(fig: Figure, inches: float) -> Figure:
    """Make ``fig`` ``inches`` taller, the room added at the top: its axes, texts and legends keep their places.

    Positions are kept in inches from the bottom-left corner; the title (``suptitle``)
    stays at the top. Returns ``fig``.
    """
    check_instance("fig", fig, Figure, "a matplotlib Figure")
    inches = check_number("inches", inches, low=0.0, high=16.0)
    width, height = fig.get_size_inches()
    if inches == 0:
        return fig
    scale = height / (height + inches)
    legends = [(legend, legend.get_bbox_to_anchor().transformed(fig.dpi_scale_trans.inverted()))
               for legend in fig.legends]
    for ax in fig.axes:
        if ax.get_axes_locator() is None:
            box = ax.get_position(original=True)
            ax.set_position([box.x0, box.y0 * scale, box.width, box.height * scale])
    for text in fig.texts:
        if text is not fig._suptitle and text.get_transform() in (fig.transFigure, fig.transSubfigure):
            x, y = text.get_position()
            text.set_position((x, y * scale))
    fig.set_size_inches(width, height + inches)
    for legend, box in legends:
        legend.set_bbox_to_anchor(box, transform=fig.dpi_scale_trans)
    return fig


def fit_top(fig: Figure) -> Figure:
    """Grow ``fig`` at the top (:func:`grow_top`) until everything it draws ends :data:`EDGE` below its top edge.

    For content placed above the axes, such as a legend, whose size is only
    known once its text has the size :func:`legible` gives it. Returns ``fig``.
    """
    check_instance("fig", fig, Figure, "a matplotlib Figure")
    renderer = _measuring_renderer(fig)
    top = _content_top(fig, renderer)
    if fig._suptitle is not None and fig._suptitle.get_text().strip():
        top = max(top, fig._suptitle.get_window_extent(renderer).y1)
    over = (top - fig.bbox.y1) / fig.dpi + EDGE
    if over > 0:
        grow_top(fig, over)
    return fig


def room_for_labels(ax, labels, pad_px: float = 4.0):
    """Raise the upper x limit of ``ax`` until every label in ``labels`` ends inside the axes.

    Each label is anchored at a data x (a text's position, an annotation's
    point) and reaches some pixels to its right, which do not depend on the
    limits; so with the lower limit kept, the upper one is raised (on a linear or
    a log axis) until anchor and reach fit in the axes' width less ``pad_px``. A
    label wider than three quarters of the axes gets a quarter of it. Sizes are
    measured as :func:`render` draws them. Returns the new limits.
    """
    check_instance("ax", ax, matplotlib.axes.Axes, "a matplotlib Axes")
    labels = list(labels) if isinstance(labels, Iterable) and not isinstance(labels, str) else None
    if labels is None or not all(isinstance(t, matplotlib.text.Text) and t.axes is ax for t in labels):
        raise ValueError("labels must be texts drawn in ax (from ax.text or ax.annotate)")
    pad_px = check_number("pad_px", pad_px, low=0.0, high=1000.0)
    renderer = _measuring_renderer(ax.figure)
    width = ax.get_window_extent(renderer).width
    scale = ax.xaxis.get_transform()
    low, high = ax.get_xlim()
    s_low, s_high = scale.transform(np.array([low, high]))
    needed = s_high
    for label in labels:
        x = label.xy[0] if isinstance(label, matplotlib.text.Annotation) else label.get_position()[0]
        anchor = ax.transData.transform((x, 0.0))[0]
        reach = label.get_window_extent(renderer).x1 - anchor
        room = max(width - pad_px - reach, width / 4)
        s_x = scale.transform(np.array([x]))[0]
        needed = max(needed, s_low + (s_x - s_low) * width / room)
    if needed > s_high:
        ax.set_xlim(low, float(scale.inverted().transform(np.array([needed]))[0]))
    return ax.get_xlim()


def keep_inside(ax, texts, pad_px: float = 2.0):
    """Shift each text in ``texts`` sideways, as little as needed, so that it ends inside ``ax``.

    For value labels centred over bars near a panel's edge. Sizes are
    measured as :func:`render` draws them. Returns the shifts in pixels.
    """
    check_instance("ax", ax, matplotlib.axes.Axes, "a matplotlib Axes")
    texts = list(texts) if isinstance(texts, Iterable) and not isinstance(texts, str) else None
    if texts is None or not all(isinstance(t, matplotlib.text.Text) for t in texts):
        raise ValueError("texts must be matplotlib texts (from ax.text or ax.annotate)")
    pad_px = check_number("pad_px", pad_px, low=0.0, high=1000.0)
    fig = ax.figure
    renderer = _measuring_renderer(fig)
    frame = ax.get_window_extent(renderer)
    shifts = []
    for text in texts:
        box = text.get_window_extent(renderer)
        shift = 0.0
        if box.x1 > frame.x1 - pad_px:
            shift = frame.x1 - pad_px - box.x1
        if box.x0 + shift < frame.x0 + pad_px:
            shift = frame.x0 + pad_px - box.x0
        if shift:
            if isinstance(text, matplotlib.text.Annotation) and text.anncoords == "offset points":
                dx, dy = text.xyann
                text.xyann = (dx + shift * 72.0 / fig.dpi, dy)
            else:
                text.set_transform(text.get_transform() + matplotlib.transforms.ScaledTranslation(
                    shift / fig.dpi, 0.0, fig.dpi_scale_trans))
        shifts.append(shift)
    return shifts


@dataclasses.dataclass(frozen=True)
class Picture:
    """An encoded image and the size, in CSS pixels, at which the page shows it.

    ``text_px`` is the height of its smallest text, in CSS pixels at that size
    (0 when it has none or it is not known).
    """

    data: bytes
    mime: str
    width: int
    height: int
    text_px: float = 0.0


def render(fig: Figure, dpi: int = DPI, *, trim: bool = False) -> Picture:
    """Render a figure for the page.

    The text is made legible, the image has :data:`SCALE` image pixels per CSS
    pixel at the default ``dpi``, is palette-quantised (256 colours, no dithering)
    and is stored as PNG or lossless WebP, whichever is smaller.

    ``trim=True`` drops the blank rows below the figure's content (keeping a
    margin of 0.1 inch), so that a frame drawn on a grid with empty cells takes
    only the room its content needs.
    """
    small = _palette_image(fig, dpi, trim)
    sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_text() and t.get_visible()]
    text_px = min(sizes) * CSS_DPI / 72.0 if sizes else 0.0
    png, webp = io.BytesIO(), io.BytesIO()
    # Encoder effort: WebP's method 2 and PNG's default level are within 2 % of
    # their smallest output here, at a fraction of the time (frames add up).
    small.save(png, format="PNG")
    small.save(webp, format="WEBP", lossless=True, quality=100, method=2)
    data, mime = min((png.getvalue(), "image/png"), (webp.getvalue(), "image/webp"), key=lambda d: len(d[0]))
    scale = dpi / CSS_DPI
    return Picture(data, mime, round(small.width / scale), round(small.height / scale), round(text_px, 2))


def render_both(fig: Figure, dpi: int = DPI, *, trim: bool = False) -> tuple[Picture, Picture | None]:
    """The figure rendered for the page (:func:`render`), and again laid out for a phone.

    The second is ``None`` when :func:`narrow_layout` leaves the figure as it is;
    otherwise it is rendered with ``trim=True`` and the figure is put back.
    Give both to :func:`img_tag`.
    """
    wide = render(fig, dpi, trim=trim)
    undo = narrow_layout(fig)
    if undo is None:
        return wide, None
    try:
        return wide, render(fig, dpi, trim=True)
    finally:
        undo()


def _readable(picture: Picture) -> int:
    """The narrowest width, in CSS pixels, that keeps the picture's smallest text PHONE_TEXT_PX high."""
    if picture.text_px <= 0:
        return picture.width
    return min(picture.width, math.ceil(picture.width * PHONE_TEXT_PX / picture.text_px))


def phone_size(picture: Picture) -> tuple[float, float]:
    """Width and height, in CSS pixels, at which a phone 390 pixels wide shows ``picture``.

    As book/_static/book.css sizes it: scaled down to the figure's box
    (:data:`PHONE_COLUMN_PX`), but no narrower than keeps its smallest text
    :data:`PHONE_TEXT_PX` high (then it scrolls).
    """
    check_instance("picture", picture, Picture, "a Picture (render's result)")
    width = max(min(picture.width, PHONE_COLUMN_PX), _readable(picture))
    return width, picture.height * width / picture.width


def pad_to_height(picture: Picture, height: int) -> Picture:
    """``picture`` with white added below it, to ``height`` CSS pixels (as it is, if it is that tall).

    An explorer's frames drawn for a phone differ in height where their content
    does (:func:`narrow_layout` trims each): padded to the tallest, the page
    below an explorer stays where it is while the reader changes a setting.
    """
    from PIL import Image

    check_instance("picture", picture, Picture, "a Picture (render's result)")
    height = check_int("height", height, low=1, high=20_000)
    if height <= picture.height:
        return picture
    image = Image.open(io.BytesIO(picture.data)).convert("RGB")
    scale = image.height / picture.height
    padded = Image.new("RGB", (image.width, round(height * scale)), "white")
    padded.paste(image, (0, 0))
    small = padded.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    small.save(buf, format="WEBP" if picture.mime == "image/webp" else "PNG",
               **({"lossless": True, "quality": 100, "method": 2} if picture.mime == "image/webp" else {}))
    return dataclasses.replace(picture, data=buf.getvalue(), height=height)


def _palette_image(fig: Figure, dpi: int, trim: bool):
    """The figure's pixels at ``dpi``, with legible text, cut to a 256-colour palette (a PIL image)."""
    from PIL import Image

    check_instance("fig", fig, Figure, "a matplotlib Figure")
    dpi = check_int("dpi", dpi, low=10, high=600)
    if not isinstance(trim, bool):
        raise ValueError(f"trim must be True or False, got {trim!r}")
    legible(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="rgba", dpi=dpi)  # raw pixels: no PNG to encode and decode
    rgb = Image.frombytes("RGBA", _raw_size(fig, dpi, len(buf.getvalue())), buf.getvalue()).convert("RGB")
    if trim:
        rgb = _trim_bottom(rgb, margin=round(0.1 * dpi))
    return rgb.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)


def _raw_size(fig: Figure, dpi: int, n_bytes: int) -> tuple[int, int]:
    """Width and height of the raw RGBA buffer savefig wrote (rounding either way)."""
    w, h = fig.get_figwidth() * dpi, fig.get_figheight() * dpi
    for width in sorted({math.floor(w), math.ceil(w), round(w)}):
        for height in sorted({math.floor(h), math.ceil(h), round(h)}):
            if 4 * width * height == n_bytes:
                return width, height
    raise RuntimeError(f"cannot tell the size of a {n_bytes}-byte RGBA buffer for a {w} x {h} figure")


def _trim_bottom(rgb, margin: int):
    """Crop the rows under the last row that differs from the bottom-left pixel."""
    arr = np.asarray(rgb)
    background = arr[-1, 0]
    busy = np.nonzero((arr != background).any(axis=(1, 2)))[0]
    if busy.size == 0:
        return rgb
    bottom = min(arr.shape[0], int(busy[-1]) + 1 + margin)
    return rgb.crop((0, 0, arr.shape[1], bottom))


def to_png(fig: Figure, dpi: int = DPI) -> bytes:
    """Render a figure to palette-quantised PNG bytes (the pixels of :func:`render`, always PNG)."""
    out = io.BytesIO()
    _palette_image(fig, dpi, trim=False).save(out, format="PNG", optimize=True)
    return out.getvalue()


def img_tag(picture: Picture | bytes, alt: str, *, narrow: Picture | None = None, hint: bool = False) -> str:
    """An HTML <img> that carries the image inline, with alt text.

    It is shown at its CSS size (``width`` and ``height``, so the page reserves
    its room before it decodes) and scaled down to the column when the column is narrower.

    ``picture`` is a :class:`Picture`, or PNG bytes rendered at :data:`DPI`.
    With a ``narrow`` picture (the same figure laid out for a phone, :func:`narrow_layout`),
    the image is a <picture> that shows it in windows up to :data:`PHONE_WINDOW_PX` wide.
    With ``hint=True`` a line that says the figure scrolls comes before it, in the
    page's HTML, not displayed; on the site book.css shows it where the column is
    narrower than the figure may be shown (so nothing moves when scripts run).
    """
    if isinstance(picture, (bytes, bytearray)):
        from PIL import Image

        try:
            with Image.open(io.BytesIO(picture)) as img:
                size = img.size
        except OSError as err:  # PIL's UnidentifiedImageError is an OSError
            raise ValueError(f"picture must be PNG bytes, got {len(picture)} bytes that are no image") from err
        picture = Picture(bytes(picture), "image/png", round(size[0] / SCALE), round(size[1] / SCALE))
    check_instance("picture", picture, Picture, "a Picture from render() or PNG bytes")
    if narrow is not None:
        check_instance("narrow", narrow, Picture, "a Picture from render(), or None")
    if not isinstance(hint, bool):
        raise ValueError(f"hint must be True or False, got {hint!r}")
    if not isinstance(alt, str):
        raise ValueError(f"alt must be a string, got {type(alt).__name__}")
    # On a phone the figure is scaled down no further than keeps its smallest text at
    # PHONE_TEXT_PX; a narrower column scrolls it (book.css reads --cw-readable).
    # Where a narrow drawing exists, a phone shows that one.
    readable = _readable(narrow or picture)
    text = f' data-text-px="{picture.text_px:g}"' if picture.text_px > 0 else ""
    img = (f'<img src="{_data_url(picture)}" alt="{html.escape(alt, quote=True)}" '
           f'width="{picture.width}" height="{picture.height}" class="cw-figure"{text} '
           f'style="max-width:100%;height:auto;--cw-readable:{readable}px" />')
    if narrow is not None:
        img = (f'<picture class="cw-picture"><source media="(max-width: {PHONE_WINDOW_PX}px)" '
               f'srcset="{_data_url(narrow)}" width="{narrow.width}" height="{narrow.height}" />{img}</picture>')
    if hint:
        img = (f'<p class="cw-scroll-hint cw-fit-hint" aria-hidden="true" '
               f'style="display:none;--cw-readable:{readable}px">'
               f'Scroll sideways to see all of it \u2192</p>{img}')
    return img


def _data_url(picture: Picture) -> str:
    return f"data:{picture.mime};base64,{base64.b64encode(picture.data).decode('ascii')}"


def markdown_table(headers, rows):
    """A table for a chapter, built from computed values, shown as Markdown.

    The site parses a cell's Markdown output as MyST (``nb_render_markdown_format``
    in _config.yml), so this becomes an HTML table; JupyterLab renders it too.

    Parameters
    ----------
    headers : sequence of str
        Column titles.
    rows : sequence of sequences
        One entry per column; integers are printed with thousands separators.
        Columns that hold only numbers are right-aligned, so digits line up.

    Returns
    -------
    IPython.display.Markdown
    """
    from IPython.display import Markdown

    for name, value in (("headers", headers), ("rows", rows)):
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            raise ValueError(f"{name} must be a sequence ({name == 'rows' and 'of rows' or 'of titles'}), "
                             f"got {value!r:.80}")
    headers = [_table_cell(h) for h in headers]
    if not headers:
        raise ValueError("headers must name at least one column, got none")
    table = []
    for row in rows:
        if isinstance(row, (str, bytes)) or not isinstance(row, Iterable):
            raise ValueError(f"rows must hold sequences of {len(headers)} entries, got {row!r:.80}")
        row = list(row)
        if len(row) != len(headers):
            raise ValueError(f"rows must have {len(headers)} entries each, got {row!r}")
        table.append(row)
    numeric = [bool(table) and all(_is_number(row[j]) for row in table) for j in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |",
             "|" + "|".join(" ---: " if num else " --- " for num in numeric) + "|"]
    for row in table:
        lines.append("| " + " | ".join(_table_cell(v) for v in row) + " |")
    return Markdown("\n".join(lines))


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _table_cell(value) -> str:
    """One cell's Markdown: integers with thousands separators, pipes escaped, one line."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        text = f"{int(value):,}"
    else:
        text = str(value)
    return " ".join(text.split()).replace("|", "\\|")


# ------------------------------------------------------------- a phone's drawing

#: Width, in CSS pixels, of a figure's box on a phone 390 pixels wide (measured on the built site).
PHONE_COLUMN_PX = 339
#: Windows up to this width get the phone's rules in book/_static/book.css, and a
#: figure's narrow drawing where it has one (:func:`narrow_layout`).
PHONE_WINDOW_PX = 540
#: Space, in inches, between the panels that :func:`narrow_layout` stacks.
PANEL_GAP = 0.15


def _inches(box, fig: Figure):
    """A bounding box in display pixels, in inches from the figure's bottom-left corner."""
    return box.transformed(fig.dpi_scale_trans.inverted()).frozen()


def _union(boxes):
    boxes = [b for b in boxes if b is not None and b.width > 0 and b.height > 0 and np.all(np.isfinite(b.extents))]
    return matplotlib.transforms.Bbox.union(boxes) if boxes else None


def narrow_layout(fig: Figure):
    """Lay a figure's panels out again in fewer columns, or narrower, to fit a phone.

    Each panel keeps its size, its text and its labels; the figure becomes at
    most as wide as lets its smallest text show :data:`PHONE_TEXT_PX` high in a
    column :data:`PHONE_COLUMN_PX` wide. A row of panels is broken into rows of
    fewer; so is each row of a grid whose panels all have titles (unless the
    figure's ``keep_columns`` says its columns belong together); any other grid
    goes into blocks of fewer columns, one under the other, each with all the
    rows (a row's label, the y label of its first panel, is repeated on each
    block). Texts and legends above the panels keep their distance from the top
    edge, those below keep theirs from the lowest panel; a figure legend too wide
    for the new width goes into one column, and a title too wide into more lines.
    Panels already in one column (a single chart, or panels one under the other)
    keep their place and height and lose width instead (:func:`_narrow_column`).
    Blank room is left at the bottom: render the result with ``trim=True``.

    Only a figure whose axes each fill one cell of one grid of cells (as
    :func:`figure` makes them, twin axes included) is laid out again. Returns a
    function that puts ``fig`` back as it was, or ``None`` when the figure already
    fits, has another layout, or cannot be made narrow enough (then it is unchanged).
    """
    check_instance("fig", fig, Figure, "a matplotlib Figure")
    found = _panel_cells(fig)
    if found is None:
        return None
    cells, (nrows, ncols) = found
    legible(fig)
    fig.draw_without_rendering()
    text_px = _smallest_text(fig) * CSS_DPI / 72.0
    limit = PHONE_COLUMN_PX * text_px / PHONE_TEXT_PX / CSS_DPI  # inches
    if fig.get_figwidth() <= limit:
        return None
    if ncols == 1:
        # In whole CSS pixels, so that the page's width for it (img_tag, rounded up) is the column's.
        return _narrow_column(fig, cells, math.floor(limit * CSS_DPI) / CSS_DPI)
    # A panel that showed no y tick labels because the one to its left shows the
    # same ones may now start a row: every panel with y ticks gets its labels.
    unlabelled = [ax for axes in cells.values() for ax in axes
                  if ax.yaxis.get_major_ticks() and not ax.yaxis.get_major_ticks()[0].label1.get_visible()
                  and ax.yaxis.get_label_position() == "left" and ax.yaxis.get_ticks_position() != "right"]
    for ax in unlabelled:
        ax.yaxis.set_tick_params(which="both", labelleft=True)

    def relabel():
        for ax in unlabelled:
            ax.yaxis.set_tick_params(which="both", labelleft=False)

    for columns in range(ncols - 1, 0, -1):
        if columns != math.ceil(ncols / math.ceil(ncols / columns)):
            continue  # as many pieces, more evenly filled, with fewer columns: tried next
        undo = _layout(fig, cells, nrows, ncols, columns, limit)
        if undo is not None:
            def both(undo=undo):
                undo()
                relabel()
            return both
    relabel()
    return None


def _smallest_text(fig: Figure) -> float:
    """The size, in points, of the smallest text the figure shows."""
    sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_text() and t.get_visible()]
    return min(sizes, default=RC["font.size"])


def _layout(fig: Figure, cells, nrows: int, ncols: int, columns: int, limit: float):
    """The panels in blocks of ``columns`` columns (see :func:`narrow_layout`): the function that undoes it, or None."""
    blocks = [range(start, min(start + columns, ncols)) for start in range(0, ncols, columns)]
    # Where every panel has its own title, each row of the grid is a sequence that
    # stays together (its pieces one under the other), unless the figure says its
    # columns belong together (BookFigure.keep_columns); otherwise the columns are the
    # items (headed by the top row's titles) and the blocks of columns come one under the other.
    titled = not getattr(fig, "keep_columns", False) and all(
        any(ax.get_title(loc) for ax in axes for loc in ("left", "center", "right")) for axes in cells.values())
    if titled:
        rows = [[(r, c) for c in block if (r, c) in cells] for r in range(nrows) for block in blocks]
    else:
        rows = [[(r, c) for c in block if (r, c) in cells] for block in blocks for r in range(nrows)]
    rows = [row for row in rows if row]
    if len(rows) < 2:
        return None
    # Each block's first panel in a row carries the row's label: in a grid, or in
    # a row of panels when it plots the same y as the first (same scale and limits).
    labels = []
    for r in range(nrows):
        first = cells.get((r, 0))
        label = first[0].yaxis.label if first else None
        if label is None or not label.get_text():
            continue
        for block in blocks[1:]:
            if (r, block.start) in cells:
                ax = cells[(r, block.start)][0]
                same = nrows > 1 or (ax.get_yscale() == first[0].get_yscale()
                                     and np.allclose(ax.get_ylim(), first[0].get_ylim()))
                if same and not ax.get_ylabel():
                    ax.set_ylabel(label.get_text(), fontsize=label.get_fontsize(), rotation=label.get_rotation(),
                                  ha=label.get_horizontalalignment(), va=label.get_verticalalignment())
                    labels.append(ax)

    def unlabel():
        for ax in labels:
            ax.set_ylabel("")

    renderer = _measuring_renderer(fig)
    panels = _panels(fig, cells, renderer)
    top = max(d.y1 for _, _, d in panels.values())
    bottom = min(d.y0 for _, _, d in panels.values())
    extras = _figure_extras(fig, renderer, top, bottom)
    if extras is None:
        unlabel()
        return None
    undo = _undoer(fig)
    # Slots by position within a block: panel (r, c) takes slot c - block start.
    layout_rows = [[(panels[key], key[1] % columns) for key in row] for row in rows]
    if _place(fig, layout_rows, extras, columns, fig.get_figheight() - top, bottom, limit):
        def both():
            undo()
            unlabel()
        return both
    undo()
    unlabel()
    return None


def _narrow_column(fig: Figure, cells, limit: float):
    """Panels in one column made ``limit`` inches wide (see :func:`narrow_layout`): the undo function, or None.

    Every panel's axes lose the same width, so that the widest reach of labels on
    either side fits; an axes with a fixed aspect (an image) loses height in
    proportion, so that no blank room opens above and below it. A title wider
    than its axes may become takes more lines. A legend beside the axes that
    would leave them less than half the width goes under them; a legend outside
    the axes too wide to be centred on them is centred on the figure; either
    takes as many columns as fit (:func:`_relaid`). Tick labels and texts placed
    in data coordinates move with the narrower axes, and matplotlib picks ticks
    for the new length, so the layout is measured and done again until it fits,
    and kept only if, drawn, no two texts overlap that did not before, all lie
    inside the figure, those written inside an axes' frame stay inside it, and
    the smallest is no smaller.
    """
    renderer = _measuring_renderer(fig)
    clashed, smallest = _clashes(_texts(fig, renderer)), _smallest_text(fig)
    held = _held(fig, renderer)
    panels = _panels(fig, cells, renderer)
    head = fig.get_figheight() - max(d.y1 for _, _, d in panels.values())  # room kept above the panels
    undo = _undoer(fig)
    room = (limit - 2 * EDGE) * fig.dpi  # pixels
    for ax in [ax for axes in cells.values() for ax in axes]:
        legend = ax.get_legend()
        if legend is None or not legend.get_visible():
            continue
        box, frame = legend.get_window_extent(renderer), ax.get_window_extent(renderer)
        drawn = ax.get_tightbbox(renderer)
        left, right = frame.x0 - drawn.x0, drawn.x1 - frame.x1
        beside = box.x0 >= frame.x1 - 0.5 and room - left - right < room / 2
        # Centred on the axes, a legend has the room that their labels leave it on either side.
        if beside or (box.width > room - abs(left - right) and not frame.overlaps(box)):
            y = drawn.y0 if beside else legend.get_bbox_to_anchor().y0
            where = dict(loc="upper center" if beside else legend._loc,
                         bbox_to_anchor=(0.5, (y - frame.y0) / frame.height),
                         bbox_transform=matplotlib.transforms.blended_transform_factory(fig.transFigure, ax.transAxes))
            for ncols in range(len(legend.texts), 0, -1):
                if _relaid(fig, legend, ncols, **where).get_window_extent(renderer).width <= room:
                    break
    # The axes lose at most what the figure loses; a title wider than that breaks after a semicolon first.
    for places, slot, _ in panels.values():
        narrowest = (slot.width - fig.get_figwidth() + limit) * fig.dpi
        for title in (t for ax, _ in places for t in (ax.title, ax._left_title, ax._right_title)):
            def fits(text, title=title, most=narrowest):
                title.set_text(text)
                return title.get_window_extent(renderer).width <= most

            if title.get_visible() and title.get_window_extent(renderer).width > narrowest:
                title.set_text(_broken(re.split(r"(?<=;) ", title.get_text()), fits))
    # Narrowed, measured and narrowed again. Text centred on the axes and wider than they are (a
    # title, an axis label) reaches out on both sides, so that narrowing the axes gains only part of
    # it: each round's narrowing is divided by what the last one gained.
    gain, last = 1.0, None
    for _ in range(6):
        panels = _panels(fig, cells, renderer)
        top = max(d.y1 for _, _, d in panels.values())
        bottom = min(d.y0 for _, _, d in panels.values())
        extras = _figure_extras(fig, renderer, top, bottom)
        # How much narrower every panel must be for the widest reach on either side to fit.
        by = (2 * EDGE + max(s.x0 - d.x0 for _, s, d in panels.values())
              + max(d.x1 - s.x0 for _, s, d in panels.values()) - limit)
        if last is not None:
            gain = min(1.0, (last[0] - by) / last[1])
        if extras is None or abs(by) < 0.01 or gain < 0.2 or min(s.width for _, s, _ in panels.values()) <= by / gain:
            break
        last = (by, by / gain)
        _place(fig, [[(_narrower(panels[key], last[1], by), 0)] for key in sorted(panels)], extras, 1,
               head, bottom, limit)
        renderer = _measuring_renderer(fig)
    # Room to spare is no fault (a legend centred on the figure may set the width, whatever the axes').
    if extras is not None and by < 0.01 and fig.get_figwidth() <= limit + 1e-9:
        after = _texts(fig, renderer)
        inside = fig.bbox.padded(0.5)
        # Boxes hold the room under the baseline too: texts that touched may touch by two pixels more.
        if (all(inside.containsx(b.x0) and inside.containsx(b.x1) and inside.containsy(b.y0)
                and inside.containsy(b.y1) for b in after.values())
                and all(depth <= (clashed[pair] + 2.0 if pair in clashed else 0.5)
                        for pair, depth in _clashes(after).items())
                and _smallest_text(fig) >= smallest and _held(fig, renderer) >= held):
            return undo
    undo()
    return None


def _narrower(panel, amount: float, by: float):
    """A panel (see :func:`_panels`) whose axes are ``amount`` inches narrower, its top-left corner kept.

    Its axes lose width in proportion; an axes with a fixed aspect loses height too.
    What it draws is taken to be ``by`` inches narrower.
    """
    places, slot, drawn = panel
    k = (slot.width - amount) / slot.width
    tall = k if any(ax.get_aspect() != "auto" and ax.get_adjustable() == "box" for ax, _ in places) else 1.0

    def scaled(box):
        return matplotlib.transforms.Bbox.from_extents(
            slot.x0 + (box.x0 - slot.x0) * k, slot.y1 - (slot.y1 - box.y0) * tall,
            slot.x0 + (box.x1 - slot.x0) * k, slot.y1 - (slot.y1 - box.y1) * tall)

    new = scaled(slot)
    return ([(ax, scaled(box)) for ax, box in places], new,
            matplotlib.transforms.Bbox.from_extents(drawn.x0, drawn.y0 + new.y0 - slot.y0, drawn.x1 - by, drawn.y1))


def _texts(fig: Figure, renderer) -> dict:
    """Every text the figure draws, with its box in display pixels.

    A legend counts as one text, known by its place among its parent's legends,
    so that a legend laid out again (:func:`_relaid`) is the same one.
    """
    fig.draw_without_rendering()
    ticks, drawn = set(), set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            ticks.update(t for tick in (*axis.get_major_ticks(), *axis.get_minor_ticks())
                         for t in (tick.label1, tick.label2))
            # The ticks inside the view limits, which alone are drawn: matplotlib keeps that list private.
            drawn.update(t for tick in axis._update_ticks() for t in (tick.label1, tick.label2))
    legends = [leg for leg in fig.findobj(matplotlib.legend.Legend) if leg.get_visible()]
    inner = {t for leg in legends for t in leg.findobj(matplotlib.text.Text)}
    texts = [t for t in fig.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text().strip()
             and t not in inner and (t not in ticks or t in drawn)]
    keys = {leg: (leg.parent, fig.legends.index(leg) if leg in fig.legends else 0) for leg in legends}
    return {keys.get(a, a): a.get_window_extent(renderer) for a in (*texts, *legends)
            if a.axes is None or a.axes.get_visible()}


def _clashes(boxes: dict) -> dict:
    """The pairs of texts (from :func:`_texts`) that overlap by more than half a pixel, and by how much."""
    items = list(boxes.items())
    depths = {}
    for i, (a, box) in enumerate(items):
        for b, other in items[i + 1:]:
            depth = min(min(box.x1, other.x1) - max(box.x0, other.x0), min(box.y1, other.y1) - max(box.y0, other.y0))
            if depth > 0.5:
                depths[frozenset((a, b))] = depth
    return depths


def _held(fig: Figure, renderer) -> set:
    """The texts written on axes (value labels beside bars, say) that lie inside their axes' frame."""
    fig.draw_without_rendering()
    return {t for ax in fig.axes if ax.get_visible() for t in ax.texts
            if t.get_visible() and t.get_text().strip()
            and ax.get_window_extent(renderer).padded(0.5).contains(*t.get_window_extent(renderer).min)
            and ax.get_window_extent(renderer).padded(0.5).contains(*t.get_window_extent(renderer).max)}


def _panels(fig: Figure, cells, renderer):
    """Each cell's axes with their places, the slot they fill and what they draw, in inches on the figure as it is."""
    panels = {}
    for key, axes in cells.items():
        places = [(ax, _inches(ax.get_position(original=True).transformed(fig.transFigure), fig)) for ax in axes]
        slot = _union([box for _, box in places])
        drawn = _union([ax.get_tightbbox(renderer) for ax in axes if ax.get_visible()])
        panels[key] = (places, slot, slot if drawn is None else _inches(drawn, fig))
    return panels


def _panel_cells(fig: Figure):
    """The figure's axes by (row, column) of the one grid of cells they fill, and its shape; or None."""
    grid, cells = None, {}
    for ax in fig.axes:
        spec = ax.get_subplotspec() if ax.get_axes_locator() is None else None
        if spec is None or len(spec.rowspan) != 1 or len(spec.colspan) != 1:
            return None
        if grid is None:
            grid = spec.get_gridspec()
        if spec.get_gridspec() is not grid:
            return None
        cells.setdefault((spec.rowspan.start, spec.colspan.start), []).append(ax)
    if grid is None:
        return None
    cells = {key: axes for key, axes in cells.items() if any(ax.get_visible() for ax in axes)}
    nrows, ncols = grid.get_geometry()
    return (cells, (nrows, ncols)) if cells else None


def _figure_extras(fig: Figure, renderer, top: float, bottom: float):
    """The figure's own texts and legends, each "above" or "below" the panels, or None.

    None when one of them is beside the panels, or is a heading above them other than the title.
    """
    extras = []
    for artist in (*fig.texts, *fig.legends):
        if not artist.get_visible():
            continue
        if isinstance(artist, matplotlib.text.Text):
            if not artist.get_text().strip():
                continue
            if artist.get_transform() not in (fig.transFigure, fig.transSubfigure):
                return None
        box = _inches(artist.get_window_extent(renderer), fig)
        middle = (box.y0 + box.y1) / 2
        if middle < bottom or middle > top:
            extras.append((artist, "above" if middle > top else "below", box))
        else:
            return None
        if isinstance(artist, matplotlib.text.Text) and artist is not fig._suptitle and middle > top:
            # A heading over some of the columns (not the title) would end up over others.
            return None
    width, height = fig.get_size_inches()
    placed = []
    for artist, where, box in extras:
        if isinstance(artist, matplotlib.text.Text):
            x, y = artist.get_position()
            anchor = matplotlib.transforms.Bbox.from_bounds(x * width, y * height, 0, 0)
        else:
            anchor = _inches(artist.get_bbox_to_anchor(), fig)
        placed.append((artist, where, anchor, box))
    return placed


def _undoer(fig: Figure):
    """A function that puts back the figure's size, the places of its axes, texts and legends, and its axes' legends.

    Axes titles get their words back too (:func:`_narrow_column` may break them into lines).
    """
    size = fig.get_size_inches().copy()
    places = [(ax, ax.get_position(original=True).frozen()) for ax in fig.axes]
    texts = [(t, t.get_position(), t.get_text()) for t in fig.texts]
    legends = list(fig.legends)
    anchors = [(leg, _inches(leg.get_bbox_to_anchor(), fig)) for leg in legends]
    kept = [(ax, ax.get_legend()) for ax in fig.axes]
    titles = [(t, t.get_text()) for ax in fig.axes for t in (ax.title, ax._left_title, ax._right_title)]

    def undo():
        fig.set_size_inches(*size)
        for ax, box in places:
            ax.set_position(box)
        for text, xy, words in texts:
            text.set_position(xy)
            text.set_text(words)
        fig.legends[:] = legends
        for leg, box in anchors:
            leg.set_bbox_to_anchor(box, transform=fig.dpi_scale_trans)
        for ax, legend in kept:
            ax.legend_ = legend
        for title, words in titles:
            title.set_text(words)
        fig.stale = True

    return undo


def _relaid(fig: Figure, legend, ncols: int = 1, **place):
    """A legend with the same entries and text size in ``ncols`` columns, in the legend's stead.

    It keeps the legend's place: its ``loc`` and its anchor (in inches, for a
    figure's legend, so that :func:`_place` can move it); an axes' legend may be
    given another (``loc``, ``bbox_to_anchor``, ``bbox_transform``).
    """
    labels = [t.get_text() for t in legend.texts]
    # The artists the entries stand for (an error bar's line, caps and bars), where an
    # axes names them; else what the legend drew (a line and its marker).
    named = {}
    for ax in fig.axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            named.setdefault(label, handle)
    handles = [named.get(label, drawn) for label, drawn in zip(labels, legend.legend_handles)]
    new = matplotlib.legend.Legend(
        legend.parent, handles, labels, ncols=ncols, frameon=legend.get_frame_on(),
        fontsize=legend._fontsize,  # its spacing's unit; its text may have grown since (legible)
        **{"loc": legend._loc, "bbox_to_anchor": legend.get_bbox_to_anchor(),  # in pixels, following its axes
           "bbox_transform": matplotlib.transforms.IdentityTransform(), **place})
    for text, old in zip(new.texts, legend.texts):
        text.set_fontsize(old.get_fontsize())
    if legend in fig.legends:
        new.set_bbox_to_anchor(_inches(legend.get_bbox_to_anchor(), fig), transform=fig.dpi_scale_trans)
        fig.legends[fig.legends.index(legend)] = new
    else:
        legend.parent.legend_ = new
    return new


def _place(fig: Figure, rows, extras, columns: int, head: float, bottom: float, limit: float) -> bool:
    """Put the panels in ``rows`` of up to ``columns``, ``head`` inches under the top; True if it all fits ``limit``.

    Each row holds its panels (each cell's axes with their places, its slot and
    what it draws, in inches on the figure as it was) with the column each goes
    in; ``bottom`` is the lowest point drawn on the figure as it was.
    """
    # Panels line up by their axes: in each column, room for the widest reach of
    # labels to the left of the axes and of axes and labels to their right; in each
    # row, for the highest titles above the axes and the deepest labels below them.
    lefts, rights = [0.0] * columns, [0.0] * columns
    for row in rows:
        for (_, s, d), j in row:
            lefts[j] = max(lefts[j], s.x0 - d.x0)
            rights[j] = max(rights[j], d.x1 - s.x0)
    needed = sum(lefts) + sum(rights) + PANEL_GAP * (columns - 1)
    width = 2 * EDGE + needed
    # A figure legend wider than that goes into one column; the figure widens for it if it must.
    renderer = _measuring_renderer(fig)
    legends = {}
    for artist, _, _, old in extras:
        if isinstance(artist, matplotlib.legend.Legend):
            legends[artist] = artist
            if old.width > width - 2 * EDGE:
                legends[artist] = _relaid(fig, artist)
                width = max(width, _inches(legends[artist].get_window_extent(renderer), fig).width + 2 * EDGE)
    if width > limit + 1e-9:
        return False
    old_width, old_height = fig.get_size_inches()
    ups = [max(d.y1 - s.y1 for (_, s, d), _ in row) for row in rows]
    downs = [max(s.y1 - d.y0 for (_, s, d), _ in row) for row in rows]
    reach = max((bottom - box.y0 for _, where, _, box in extras if where == "below"), default=0.0)
    height = head + sum(ups) + sum(downs) + PANEL_GAP * (len(rows) - 1) + max(reach, 0.0) + 4.0  # trimmed when drawn
    fig.set_size_inches(width, height)
    y = height - head
    starts = [(width - needed) / 2 + sum(lefts[:j]) + sum(rights[:j]) + PANEL_GAP * j for j in range(columns)]
    for row, up, down in zip(rows, ups, downs):
        for (places, slot, _), j in row:
            dx, dy = starts[j] + lefts[j] - slot.x0, y - up - slot.y1
            for ax, box in places:
                ax.set_position([(box.x0 + dx) / width, (box.y0 + dy) / height, box.width / width, box.height / height])
        y -= up + down + PANEL_GAP
    lowest = y + PANEL_GAP
    renderer = _measuring_renderer(fig)
    for artist, where, anchor, old in extras:
        dy = (height - old_height) if where == "above" else lowest - bottom
        # Horizontally, a figure's text or legend keeps its share of the width.
        moved = matplotlib.transforms.Bbox.from_bounds(
            anchor.x0 * width / old_width, anchor.y0 + dy, anchor.width * width / old_width, anchor.height)
        if isinstance(artist, matplotlib.text.Text):
            artist.set_position((moved.x0 / width, moved.y0 / height))
            continue
        legend = legends[artist]
        legend.set_bbox_to_anchor(moved, transform=fig.dpi_scale_trans)
        if where == "below":
            # Its top edge keeps its distance under the panels, however tall it now is.
            box = _inches(legend.get_window_extent(renderer), fig)
            legend.set_bbox_to_anchor(moved.translated(0, lowest - (bottom - old.y1) - box.y1),
                                      transform=fig.dpi_scale_trans)
    title = fig._suptitle
    if title is not None and title.get_visible() and title.get_text().strip():
        # A title wider than the new width takes more lines; the figure grows at the top for them.
        fit_suptitle(fig, *title.get_text().split("\n"))
    renderer = _measuring_renderer(fig)
    drawn = _inches(fig.get_tightbbox(renderer).transformed(fig.dpi_scale_trans), fig)
    return drawn.x0 >= -0.01 and drawn.x1 <= width + 0.01
