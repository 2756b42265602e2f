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
import functools
import html
import io

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .._checks import check_int

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
SEQUENTIAL = "viridis"
DIVERGING = "coolwarm"
PHOTO = "gray"

RC = {
    "font.size": 9,
    "axes.titlesize": 9,
    "figure.titlesize": 10,
    "axes.prop_cycle": matplotlib.cycler(color=[PALETTE[k] for k in ("blue", "orange", "green", "vermillion", "purple", "sky")]),
    "image.interpolation": "nearest",
    "savefig.facecolor": "white",
    "figure.facecolor": "white",
}


def styled(draw):
    """Decorator: run a drawing function inside the book's matplotlib settings."""

    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(RC):
            return draw(*args, **kwargs)

    return wrapper


#: Resolution of every PNG the book embeds (static figures and widget frames).
DPI = 80


class BookFigure(Figure):
    """A matplotlib figure that shows itself, in JupyterLab and on the site, as a
    PNG image with alt text (``alt``), without going through pyplot."""

    alt: str = ""

    def _repr_html_(self) -> str:
        return img_tag(to_png(self), self.alt or "Figure")


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
    nrows = check_int("nrows", nrows, low=1, high=12)
    if not 2.0 <= width <= 16.0:
        raise ValueError(f"width must be in [2, 16] inches, got {width!r}")
    if not 1.2 <= height <= 16.0:
        raise ValueError(f"height must be in [1.2, 16] inches (room for the titles), got {height!r}")
    fig = BookFigure(figsize=(width, height))
    fig.alt = alt
    # Fixed margins in inches (room for a frame title and one line of axes title):
    # much faster than a layout engine when an explorer renders dozens of frames.
    fig.subplots_adjust(left=0.1 / width, right=1 - 0.1 / width, bottom=0.1 / height,
                        top=1 - 0.6 / height, wspace=0.15, hspace=0.45)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def show_image(ax, values, *, title: str = "", signed: bool = False, cmap: str | None = None,
               vmin: float | None = None, vmax: float | None = None):
    """Draw a 2-D array as an image without ticks.

    ``signed=True`` uses the diverging map with limits symmetric about zero
    (unless ``vmin`` and ``vmax`` are given), so zero is the neutral middle colour.
    """
    values = np.asarray(values, dtype=float)
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
    values = np.asarray(values, dtype=float)
    im = ax.get_images()[-1]
    for (i, j), v in np.ndenumerate(values):
        r, g, b, _ = im.cmap(im.norm(v))
        luminance = 0.299 * r + 0.587 * g + 0.114 * b
        ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=fontsize,
                color="black" if luminance > 0.5 else "white")


def outline(ax, top: int, left: int, height: int, width: int, color: str = HIGHLIGHT, lw: float = 2.0):
    """Outline the pixels [top, top + height) x [left, left + width) of an image axis."""
    ax.add_patch(Rectangle((left - 0.5, top - 0.5), width, height, fill=False, edgecolor=color, linewidth=lw))


def to_png(fig: Figure, dpi: int = DPI) -> bytes:
    """Render a figure to PNG bytes, palette-quantised (256 colours, no dithering).

    Quantising takes a chapter's dozens of frames to about a third of the bytes
    with no visible change, which keeps every page under its size budget.
    """
    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    png = buf.getvalue()
    with Image.open(io.BytesIO(png)) as img:
        small = img.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                            dither=Image.Dither.NONE)
        out = io.BytesIO()
        small.save(out, format="PNG", optimize=True)
    return out.getvalue() if out.tell() < len(png) else png


def img_tag(png: bytes, alt: str) -> str:
    """An HTML <img> that carries the PNG inline, with alt text, scaled to the column."""
    data = base64.b64encode(png).decode("ascii")
    return (f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt, quote=True)}" '
            'style="max-width:100%;height:auto" />')


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

    headers = [_table_cell(h) for h in headers]
    if not headers:
        raise ValueError("headers must name at least one column, got none")
    table = []
    for row in rows:
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
