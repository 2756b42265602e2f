"""Tests of widgets.draw.style: the book's colours, colour maps and figure helpers."""

import base64
import io

import matplotlib
import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from widgets.draw import style

# Okabe & Ito (2008), "Color Universal Design", the published hex values.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}


def test_palette_is_okabe_ito():
    assert style.PALETTE == OKABE_ITO
    assert style.HIGHLIGHT == "#E69F00"


def test_colour_maps_exist_and_are_the_documented_ones():
    assert (style.SEQUENTIAL, style.DIVERGING, style.PHOTO) == ("viridis", "coolwarm", "gray")
    for name in (style.SEQUENTIAL, style.DIVERGING, style.PHOTO):
        assert name in matplotlib.colormaps


def test_rc_colour_cycle_uses_palette_only():
    cycle = list(style.RC["axes.prop_cycle"])
    colours = [c["color"] for c in cycle]
    assert colours == ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9"]
    # Colours only: lines in diagrams get no line style or marker they did not ask for.
    assert all(set(c) == {"color"} for c in cycle)
    # Every key is a real rcParam (rc_context would raise otherwise, but say it here).
    assert set(style.RC) <= set(matplotlib.rcParams)


@pytest.mark.parametrize("ncols, nrows", [(1, 1), (3, 1), (3, 2), (1, 4)])
def test_figure_axes_shape(ncols, nrows):
    before = plt.get_fignums()
    fig, axes = style.figure(ncols, nrows, width=4.0, height=3.0)
    assert isinstance(fig, Figure)
    assert isinstance(axes, np.ndarray) and axes.shape == (nrows, ncols)
    assert len(fig.get_axes()) == nrows * ncols
    assert all(ax.figure is fig for ax in axes.flat)
    assert tuple(fig.get_size_inches()) == (4.0, 3.0)
    # Not registered with pyplot: nothing to close, nothing to leak.
    assert plt.get_fignums() == before


def test_show_image_signed_is_symmetric_and_diverging():
    fig, axes = style.figure()
    values = np.array([[-1.0, 2.0], [0.5, -3.0]])
    im = style.show_image(axes[0, 0], values, signed=True, title="signed")
    assert im.get_clim() == (-3.0, 3.0)
    assert im.get_cmap().name == style.DIVERGING
    assert axes[0, 0].get_title() == "signed"
    assert list(axes[0, 0].get_xticks()) == [] and list(axes[0, 0].get_yticks()) == []
    # Zero sits in the middle of the colour map.
    assert im.norm(0.0) == pytest.approx(0.5)


def test_show_image_signed_positive_only_still_symmetric():
    fig, axes = style.figure()
    im = style.show_image(axes[0, 0], [[0.0, 0.25], [0.5, 2.0]], signed=True)
    assert im.get_clim() == (-2.0, 2.0)


def test_show_image_signed_all_zero_has_unit_limits():
    fig, axes = style.figure()
    im = style.show_image(axes[0, 0], np.zeros((3, 3)), signed=True)
    assert im.get_clim() == (-1.0, 1.0)


def test_show_image_signed_honours_shared_limits_and_cmap():
    # Panels that must be compared pass one symmetric scale for all of them.
    fig, axes = style.figure()
    im = style.show_image(axes[0, 0], [[-1.0, 4.0]], signed=True, vmin=-8, vmax=8, cmap="PuOr")
    assert im.get_clim() == (-8.0, 8.0)
    assert im.get_cmap().name == "PuOr"


def test_show_image_unsigned_defaults_and_limits():
    fig, axes = style.figure(2)
    im = style.show_image(axes[0, 0], [[1.0, 2.0], [3.0, 5.0]])
    assert im.get_cmap().name == style.SEQUENTIAL
    assert im.get_clim() == (1.0, 5.0)  # autoscaled to the data
    assert axes[0, 0].get_title() == ""
    im = style.show_image(axes[0, 1], [[0.2, 0.4]], cmap=style.PHOTO, vmin=0, vmax=1)
    assert im.get_cmap().name == "gray"
    assert im.get_clim() == (0.0, 1.0)


def test_write_values_one_text_per_entry():
    fig, axes = style.figure()
    ax = axes[0, 0]
    values = np.array([[0.0, 0.5, 1.0], [0.25, 0.75, 0.125]])
    style.show_image(ax, values, vmin=0, vmax=1)
    style.write_values(ax, values)
    assert len(ax.texts) == 6
    by_position = {t.get_position(): t.get_text() for t in ax.texts}
    # Text (x, y) = (column, row).
    assert by_position == {(0, 0): "0.00", (1, 0): "0.50", (2, 0): "1.00",
                           (0, 1): "0.25", (1, 1): "0.75", (2, 1): "0.12"}
    assert all(t.get_ha() == "center" and t.get_va() == "center" for t in ax.texts)


def test_write_values_contrast_and_format():
    fig, axes = style.figure()
    ax = axes[0, 0]
    values = np.array([[0.0, 1.0]])
    style.show_image(ax, values, vmin=0, vmax=1)  # viridis: dark purple to bright yellow
    style.write_values(ax, values, fmt="{:+.1f}", fontsize=5)
    low, high = ax.texts
    assert (low.get_text(), high.get_text()) == ("+0.0", "+1.0")
    assert mcolors.to_hex(low.get_color()) == "#ffffff"  # light text on dark purple
    assert mcolors.to_hex(high.get_color()) == "#000000"  # dark text on yellow
    assert low.get_fontsize() == 5


def test_write_values_needs_an_image():
    fig, axes = style.figure()
    with pytest.raises(ValueError, match="^ax must show an image"):
        style.write_values(axes[0, 0], [[1.0]])


def test_outline_adds_rectangle_at_pixel_edges():
    fig, axes = style.figure()
    ax = axes[0, 0]
    style.show_image(ax, np.zeros((10, 10)))
    style.outline(ax, top=2, left=5, height=3, width=4)
    (rect,) = ax.patches
    assert isinstance(rect, Rectangle)
    # Pixels [2, 5) x [5, 9) span x in [4.5, 8.5], y in [1.5, 4.5].
    assert rect.get_xy() == (4.5, 1.5)
    assert (rect.get_width(), rect.get_height()) == (4, 3)
    assert not rect.get_fill()
    assert mcolors.to_hex(rect.get_edgecolor()) == "#e69f00"
    assert rect.get_linewidth() == 2.0


def test_outline_custom_colour_and_width():
    fig, axes = style.figure()
    style.outline(axes[0, 0], 0, 0, 1, 1, color=style.PALETTE["blue"], lw=0.5)
    (rect,) = axes[0, 0].patches
    assert mcolors.to_hex(rect.get_edgecolor()) == "#0072b2"
    assert rect.get_linewidth() == 0.5
    assert rect.get_xy() == (-0.5, -0.5)


def test_styled_applies_rc_only_inside_the_call():
    seen = {}

    @style.styled
    def draw(x, *, y):
        """Docstring kept."""
        seen["font.size"] = matplotlib.rcParams["font.size"]
        seen["image.interpolation"] = matplotlib.rcParams["image.interpolation"]
        return x + y

    with matplotlib.rc_context({"font.size": 13.0, "image.interpolation": "bilinear"}):
        assert draw(1, y=2) == 3
        assert seen == {"font.size": 10, "image.interpolation": "nearest"}
        assert matplotlib.rcParams["font.size"] == 13.0
        assert matplotlib.rcParams["image.interpolation"] == "bilinear"
    assert draw.__name__ == "draw" and draw.__doc__ == "Docstring kept."


def test_styled_restores_rc_when_drawing_raises():
    @style.styled
    def broken():
        raise RuntimeError("boom")

    with matplotlib.rc_context({"font.size": 13.0}):
        with pytest.raises(RuntimeError, match="boom"):
            broken()
        assert matplotlib.rcParams["font.size"] == 13.0


def test_styled_figure_keeps_style_after_the_call():
    # Text created inside the styled call keeps the book's font size.
    @style.styled
    def draw():
        fig, axes = style.figure()
        axes[0, 0].set_title("t")
        return fig

    with matplotlib.rc_context({"axes.titlesize": 20.0}):
        fig = draw()
    assert fig.get_axes()[0].title.get_fontsize() == 10


# --------------------------------------------------------------------------- PNG and HTML output


def _gradient_figure(**kwargs):
    fig, axes = style.figure(2, width=3.0, height=2.0, **kwargs)
    ramp = np.linspace(0, 1, 64).reshape(8, 8)
    style.show_image(axes[0, 0], ramp, title="ramp")
    style.show_image(axes[0, 1], ramp - 0.5, signed=True)
    return fig


def _decode(png):
    from PIL import Image

    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(png)) as img:
        img.load()
        return img.copy()


def test_figure_is_a_book_figure_with_alt():
    fig, _ = style.figure(alt="Two ramps")
    assert isinstance(fig, style.BookFigure) and isinstance(fig, Figure)
    assert fig.alt == "Two ramps"
    fig2, _ = style.figure()
    assert fig2.alt == ""
    assert fig.alt == "Two ramps"  # per figure, not shared


def test_to_png_size_and_content():
    fig = _gradient_figure()
    png = style.to_png(fig, dpi=40)
    img = _decode(png)
    assert img.size == (120, 80)  # 3 x 2 inches at 40 dpi
    assert _decode(style.to_png(fig)).size == (3 * style.DPI, 2 * style.DPI)
    # Palette-quantised: at most 256 colours, and close to matplotlib's own rendering.
    assert len(img.convert("RGB").getcolors(maxcolors=256 * 256)) <= 256
    raw = io.BytesIO()
    fig.savefig(raw, format="png", dpi=40)
    reference = np.asarray(_decode(raw.getvalue()).convert("RGB"), dtype=float)
    got = np.asarray(img.convert("RGB"), dtype=float)
    assert got.shape == reference.shape
    assert np.abs(got - reference).mean() < 2.0


def test_to_png_quantises_a_figure_of_many_colours():
    """A photograph-like figure has thousands of colours: to_png must cut them to a
    256-colour palette, and the file must be strictly smaller than matplotlib's own PNG.
    """
    from PIL import Image

    fig, axes = style.figure(1, width=3.0, height=3.0)
    rgb = np.random.default_rng(0).random((48, 48, 3))
    axes[0, 0].imshow(rgb, interpolation="bilinear")
    raw = io.BytesIO()
    fig.savefig(raw, format="png", dpi=style.DPI)
    with Image.open(io.BytesIO(raw.getvalue())) as original:
        assert len(original.convert("RGB").getcolors(maxcolors=2**24)) > 256
    png = style.to_png(fig)
    with Image.open(io.BytesIO(png)) as img:
        assert img.mode == "P"
        assert len(img.convert("RGB").getcolors(maxcolors=2**24)) <= 256
    assert len(png) < len(raw.getvalue())


def test_img_tag_round_trips_png_and_escapes_alt():
    from html.parser import HTMLParser

    png = style.to_png(_gradient_figure(), dpi=30)
    tag = style.img_tag(png, 'Ramp "<0>" & ramp')
    attrs = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, a):
            attrs.append((tag, dict(a)))

    Parser().feed(tag)
    ((name, a),) = attrs
    assert name == "img"
    assert a["alt"] == 'Ramp "<0>" & ramp'
    assert "<0>" not in tag
    prefix = "data:image/png;base64,"
    assert a["src"].startswith(prefix)
    assert base64.b64decode(a["src"][len(prefix):], validate=True) == png
    assert "max-width:100%" in a["style"]


def test_book_figure_repr_html():
    before = plt.get_fignums()
    fig = _gradient_figure(alt="Two <ramps>")
    html_text = fig._repr_html_()
    # A hint that the figure scrolls, hidden (book.css shows it on a phone when it does), then the image.
    hint, html_text = html_text.split("</p>", 1)
    assert hint.startswith('<p class="cw-scroll-hint cw-fit-hint" aria-hidden="true" '
                           'style="display:none;--cw-readable:')
    assert html_text.startswith("<img ")
    assert 'alt="Two &lt;ramps&gt;"' in html_text
    mime, src = html_text.split('src="data:', 1)[1].split('"', 1)[0].split(";base64,")
    assert mime in {"image/png", "image/webp"}
    from PIL import Image

    with Image.open(io.BytesIO(base64.b64decode(src))) as img:
        assert img.size == (3 * style.DPI, 2 * style.DPI)
    # Shown at its CSS size, half its pixels: sharp on a high-density screen.
    assert 'width="240" height="160"' in html_text and style.DPI == 2 * style.CSS_DPI
    assert 'alt="Figure"' in _gradient_figure()._repr_html_()
    assert plt.get_fignums() == before


@pytest.mark.parametrize("kwargs, name", [
    ({"height": 0.6}, "height"), ({"width": 1.0}, "width"), ({"ncols": 0}, "ncols"), ({"nrows": 2.5}, "nrows"),
])
def test_figure_rejects_sizes_it_cannot_lay_out(kwargs, name):
    with pytest.raises(ValueError, match=name):
        style.figure(**kwargs)


# --------------------------------------------------------------------------- tables


def _table_html(markdown):
    """How MyST reads the Markdown: markdown-it with the table rule, as myst-parser uses it."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table").render(markdown.data)


def test_markdown_table_is_a_table_with_numbers_right_aligned():
    md = style.markdown_table(["image", "weights", "accuracy"],
                              [["28 × 28", 530660, "0.91 ± 0.01"], ["64 × 64", 15748868, "0.95 ± 0.02"]])
    html_text = _table_html(md)
    assert html_text.count("<table>") == 1 and "<p>" not in html_text, html_text
    assert "<td>28 × 28</td>" in html_text
    assert '<td style="text-align:right">15,748,868</td>' in html_text
    assert "<td>0.91 ± 0.01</td>" in html_text, "a column of text stays left-aligned"
    assert "—" not in md.data


def test_markdown_table_escapes_pipes_and_joins_lines():
    md = style.markdown_table(["a|b"], [["x|y"], ["two\nlines"]])
    html_text = _table_html(md)
    assert "<th>a|b</th>" in html_text and "<td>x|y</td>" in html_text
    assert "<td>two lines</td>" in html_text
    assert style.markdown_table(["n"], [[np.int64(12288)], [True]]).data.splitlines()[2:] == ["| 12,288 |", "| True |"]


@pytest.mark.parametrize("headers, rows, name", [
    ([], [], "headers"), (["a", "b"], [[1]], "rows"),
])
def test_markdown_table_rejects_ragged_input(headers, rows, name):
    with pytest.raises(ValueError, match=name):
        style.markdown_table(headers, rows)


# --------------------------------------------------------------------------- legibility and lines


def _text_px(fig, text):
    """The CSS pixel height of a text's font on a 1280-pixel page (after any scaling to the column)."""
    css_per_inch = min(style.CSS_DPI, style.COLUMN_PX / fig.get_figwidth())
    return text.get_fontsize() / 72 * css_per_inch


@pytest.mark.parametrize("width", [3.0, 8.0, 12.0])
def test_render_raises_small_text_to_the_minimum(width):
    fig, axes = style.figure(2, width=width, height=2.5)
    ax = axes[0, 0]
    ax.plot([0, 1], [0, 1], label="tiny legend")
    ax.legend(fontsize=5)
    ax.set_xlabel("label", fontsize=6)
    ax.tick_params(labelsize=4)
    note = ax.text(0.5, 0.5, "note", fontsize=3)
    big = axes[0, 1].set_title("big title", fontsize=30)
    style.show_image(axes[0, 1], np.eye(2))
    style.write_values(axes[0, 1], np.eye(2), fontsize=4)
    style.render(fig, dpi=30)
    texts = [t for t in fig.findobj(matplotlib.text.Text) if t.get_text()]
    ticks = ax.xaxis.get_major_ticks()
    assert len(texts) > 8 and ticks
    for t in texts + [tick.label1 for tick in ticks]:
        assert _text_px(fig, t) >= style.MIN_TEXT_PX - 1e-6, (t.get_text(), t.get_fontsize())
    assert note.get_fontsize() == pytest.approx(style.min_font_points(width))
    assert big.get_fontsize() == 30, "text already large enough is left alone"


def test_min_font_points_follows_the_column():
    # Up to COLUMN_PX / CSS_DPI inches a figure is shown at CSS_DPI; wider ones are scaled down.
    assert style.min_font_points(4.0) == pytest.approx(11 * 72 / 80)
    assert style.min_font_points(16.0) == pytest.approx(11 * 72 * 16 / style.COLUMN_PX)
    assert style.RC["font.size"] >= style.min_font_points(8.0)


def test_render_picks_the_smaller_of_png_and_webp():
    from PIL import Image

    fig = _gradient_figure()
    picture = style.render(fig, dpi=60)
    with Image.open(io.BytesIO(picture.data)) as img:
        assert img.size == (180, 120)
        assert img.format == picture.mime.split("/")[1].upper()
        pixels = np.asarray(img.convert("RGB"), dtype=float)
    png = style.to_png(_gradient_figure(), dpi=60)
    assert len(picture.data) <= len(png)
    assert (picture.width, picture.height) == (round(180 / (60 / style.CSS_DPI)), round(120 / (60 / style.CSS_DPI)))
    # Lossless: the same pixels as the PNG.
    assert np.array_equal(pixels, np.asarray(_decode(png).convert("RGB"), dtype=float))


def test_series_differ_in_colour_marker_and_line_style():
    entries = [style.series(i) for i in range(len(style.SERIES))]
    for key in ("color", "marker", "linestyle"):
        values = [e[key] for e in entries]
        if key == "linestyle":
            assert all(a != b for a, b in zip(values, values[1:]))
        else:
            assert len(set(values)) == len(values), key
    assert {e["color"] for e in entries} <= set(style.PALETTE.values())
    fills = [e["markerfacecolor"] == "white" for e in entries]
    assert fills == [False, True] * (len(entries) // 2), "filled and hollow markers alternate"
    assert style.series(len(style.SERIES)) == style.series(0)
    with pytest.raises(ValueError, match="index"):
        style.series(-1)


# ---------------------------------------------------------------------------
# One colour per kind of layer, taken from style.KIND_COLOURS by every figure.


def test_kind_colours_are_distinct_palette_colours():
    colours = list(style.KIND_COLOURS.values())
    assert len(set(colours)) == len(colours)
    assert set(colours) <= set(style.PALETTE.values())
    assert style.HIGHLIGHT not in colours or style.HIGHLIGHT == style.KIND_COLOURS["locally connected"]


def test_kind_colour_accepts_the_figures_spellings():
    assert style.kind_colour("convolutional") == style.kind_colour("convolution") == style.kind_colour("Convolution")
    assert style.kind_colour("dense matrix") == style.kind_colour("dense")
    assert style.kind_colour("sparse matrix") == style.kind_colour("locally connected")
    flat = style.kind_colour("convolutional, flattened head")
    assert flat not in {style.kind_colour(k) for k in ("dense", "locally connected", "convolution")}
    with pytest.raises(ValueError, match="^name must be a layer kind"):
        style.kind_colour("fft")
    with pytest.raises(ValueError, match="^name must be a layer kind"):
        style.kind_colour(3)


def _same(a, b):
    return mcolors.to_hex(a) == mcolors.to_hex(b)


def test_figures_take_kind_colours_from_the_one_mapping():
    from widgets.compute import efficiency as ef
    from widgets.compute import local_connectivity as lc
    from widgets.draw import efficiency as de
    from widgets.draw import local_connectivity as dlc
    from widgets.draw import parameter_sharing as dps
    from widgets.draw import trained_networks as dtn

    # Chapter 2: one line per layer, labelled with the layer.
    fig = dlc.count_scaling([64, 256], [lc.layer_counts(1, s, 1, 3) for s in (8, 16)])
    lines = [line for line in fig.axes[0].lines if line.get_label() in dlc.LAYERS]
    assert len(lines) == 3
    for line in lines:
        assert _same(line.get_color(), style.kind_colour(line.get_label())), line.get_label()
        assert _same(line.get_markeredgecolor(), style.kind_colour(line.get_label()))

    # Chapter 3: one bar per layer, the bar's tick label naming it.
    fig = dps.parameter_bars({"dense": 10_000, "locally connected": 500, "convolution": 10},
                             image_size=10, in_channels=1, out_channels=1, kernel_size=3)
    ax = fig.axes[0]
    fig.canvas.draw()
    names = [t.get_text() for t in ax.get_yticklabels()]
    bars = sorted(ax.patches, key=lambda p: p.get_y())
    assert sorted(names) == sorted(dps.LAYERS) and len(bars) == 3
    for bar in bars:
        y = bar.get_y() + bar.get_height() / 2
        name = names[int(np.argmin([abs(y - t) for t in ax.get_yticks()]))]
        assert _same(bar.get_facecolor(), style.kind_colour(name)), name

    # Chapter 6: bars in the order of the methods, and the lines of the scaling plot.
    c = ef.costs(16, 16, 3, 3)
    fig = de.cost_bars(c, {"convolution": 1e-5, "sparse matrix": 2e-5, "dense matrix": 1e-3})
    for ax in fig.get_axes():
        colours = [p.get_facecolor() for p in ax.patches]
        for colour, method in zip(colours, ("convolution", "sparse matrix", "dense matrix"), strict=True):
            assert _same(colour, style.kind_colour(method)), method
    assert de.METHOD_COLOURS == {m: style.kind_colour(m) for m in de.METHOD_COLOURS}
    pixels = {"convolution": np.array([16, 64, 256]), "dense matrix": np.array([16, 64, 256])}
    seconds = {"convolution": np.array([1e-6, 2e-6, 4e-6]), "dense matrix": np.array([1e-6, 1.6e-5, 2.6e-4])}
    nbytes = {"convolution": np.array([8, 8, 8]), "dense matrix": np.array([480, 8064, 1e5])}
    fits = {m: ef.power_law_fit(pixels[m], seconds[m]) for m in pixels}
    fig = de.scaling(pixels, seconds, nbytes, fits)
    for handle, text in zip(fig.legends[0].legend_handles, fig.legends[0].get_texts(), strict=True):
        method = text.get_text().split(",")[0]
        assert _same(handle.get_color(), style.kind_colour(method)), method

    # Chapter 7: one error-bar line per network, labelled with the network.
    networks = ("dense", "locally connected", "convolutional", "convolutional, flattened head")
    panels = {"digits": {n: [[0.5, 0.6], [0.7, 0.8]] for n in networks}}
    fig = dtn.sample_efficiency([50, 100], panels)
    labelled = {c.get_label(): c.lines[0] for c in fig.axes[0].containers}
    assert set(labelled) == set(networks)
    for name, line in labelled.items():
        assert _same(line.get_color(), style.kind_colour(name)), name


def test_an_image_tells_the_page_how_narrow_it_may_be_shown_on_a_phone():
    import re

    fig, axes = style.figure(width=8.6, height=2.0, alt="a wide figure")
    ax = axes[0, 0]
    ax.set_title("title")
    ax.plot([0, 1], [0, 1])
    picture = style.render(fig)
    # Its smallest text is measured at the size the page shows it: at least the book's floor.
    assert picture.text_px >= style.MIN_TEXT_PX - 0.01
    tag = style.img_tag(picture, "a wide figure")
    readable = int(re.search(r"--cw-readable:(\d+)px", tag).group(1))
    assert f'data-text-px="{picture.text_px:g}"' in tag
    # At that width the smallest text is PHONE_TEXT_PX high, and no narrower width keeps it so.
    assert readable * picture.text_px / picture.width >= style.PHONE_TEXT_PX
    assert (readable - 1) * picture.text_px / picture.width < style.PHONE_TEXT_PX
    assert readable < picture.width
    # Bytes without text information keep their full size as the limit.
    assert "--cw-readable:" in style.img_tag(style.to_png(fig), "png")


# ---------------------------------------------------------------------------
# Geometry of a figure as the page shows it. Other test modules import these
# (``from test_style import ...``), as they import from conftest.


def laid_out(fig):
    """Lay ``fig`` out as :func:`style.render` draws it (legible text, at :data:`style.DPI`); its renderer.

    Drawn on an Agg canvas of its own, so text extents are measured by a real
    renderer at the page's resolution, after every text has its final size.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    style.legible(fig)
    fig.set_dpi(style.DPI)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def _drawn_ticks(axis):
    low, high = sorted(axis.get_view_interval())
    span = (high - low) * 1e-9
    return [tick for tick in axis.get_major_ticks() + axis.get_minor_ticks()
            if low - span <= tick.get_loc() <= high + span]


def drawn_texts(fig, renderer):
    """Every text ``fig`` draws (visible, not empty), as (text, extent in display pixels).

    Tick labels count only for ticks inside the view limits (matplotlib keeps
    labels of the others, undrawn); a legend counts as one box named by its entries.
    """
    found = []

    def add(text):
        if text.get_visible() and text.get_text().strip():
            found.append((text.get_text(), text.get_window_extent(renderer)))

    for text in fig.texts:
        add(text)
    for legend in fig.legends:
        found.append(("legend: " + ", ".join(t.get_text() for t in legend.get_texts()),
                      legend.get_window_extent(renderer)))
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for text in (*ax.texts, ax.title, ax._left_title, ax._right_title):
            add(text)
        for axis in (ax.xaxis, ax.yaxis):
            if not axis.get_visible():
                continue
            add(axis.label)
            for tick in _drawn_ticks(axis):
                for label in (tick.label1, tick.label2):
                    if label.get_visible():
                        add(label)
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            found.append(("legend: " + ", ".join(t.get_text() for t in legend.get_texts()),
                          legend.get_window_extent(renderer)))
    return found


def texts_outside(fig, renderer, pad_px=0.5):
    """The texts of ``fig`` that reach past the edges of its image."""
    box = fig.bbox
    return [name for name, e in drawn_texts(fig, renderer)
            if e.x0 < box.x0 - pad_px or e.x1 > box.x1 + pad_px or e.y0 < box.y0 - pad_px or e.y1 > box.y1 + pad_px]


def overlap(a, b, pad_px=0.0) -> bool:
    """Whether two display boxes overlap (by more than ``pad_px``)."""
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > pad_px) and (min(a.y1, b.y1) - max(a.y0, b.y0) > pad_px)


def _sampled(xy, samples):
    """Vertices of a polyline and points along each of its segments (all in display pixels)."""
    points = [xy[np.isfinite(xy).all(axis=1)]]
    for a, b in zip(xy[:-1], xy[1:]):
        if np.isfinite(a).all() and np.isfinite(b).all():
            points.append(a + np.linspace(0, 1, samples)[:, None] * (b - a))
    return np.concatenate(points)


def _hits(points, box, reach):
    return bool(((points[:, 0] >= box.x0 - reach) & (points[:, 0] <= box.x1 + reach)
                 & (points[:, 1] >= box.y0 - reach) & (points[:, 1] <= box.y1 + reach)).any())


def points_inside(box, ax, *, samples=20):
    """The data ``ax`` draws as lines (their markers, vertices and points along each segment) inside ``box``.

    Returns the labels of the lines, and of line collections such as error bars,
    that reach into ``box`` (a display-pixel box), each counted with half its
    line width or marker size around each point.
    """
    px = ax.figure.dpi / 72.0
    hits = []
    for line in ax.get_lines():
        if not line.get_visible():
            continue
        xy = line.get_transform().transform(np.column_stack([np.asarray(line.get_xdata(), dtype=float),
                                                             np.asarray(line.get_ydata(), dtype=float)]))
        drawn = line.get_linestyle() not in ("None", "", " ", "none")
        marked = line.get_marker() not in (None, "None", "none", "", " ")
        points = _sampled(xy, samples) if drawn else xy[np.isfinite(xy).all(axis=1)]
        reach = max(line.get_linewidth() if drawn else 0.0, line.get_markersize() if marked else 0.0) / 2 * px
        if len(points) and _hits(points, box, reach):
            hits.append(line.get_label())
    for coll in ax.collections:
        if not coll.get_visible() or not hasattr(coll, "get_segments"):
            continue
        reach = float(np.max(coll.get_linewidth(), initial=1.0)) / 2 * px
        for seg in coll.get_segments():
            points = _sampled(coll.get_transform().transform(np.asarray(seg, dtype=float)), samples)
            if len(points) and _hits(points, box, reach):
                hits.append(coll.get_label())
                break
    return hits


# --------------------------------------------------------------------------- titles, labels and legends inside


def test_fit_suptitle_keeps_a_short_title_on_one_line():
    fig, axes = style.figure(1, width=4.0, height=2.0)
    title = style.fit_suptitle(fig, "Short", "(a = 1)")
    assert title.get_text() == "Short (a = 1)" and fig.get_suptitle() == "Short (a = 1)"
    assert title.get_fontsize() == style.RC["figure.titlesize"]
    assert tuple(fig.get_size_inches()) == (4.0, 2.0)


def test_fit_suptitle_wraps_a_long_title_inside_the_image_and_makes_room_for_it():
    fig, axes = style.figure(1, width=3.0, height=1.6)
    style.show_image(axes[0, 0], np.eye(3), title="axes title")  # no ticks: figure()'s margins are for images
    before = axes[0, 0].get_position().bounds[1:]  # bottom and height, as fractions of 1.6 inches
    parts = ("Networks trained on centred digits, shown a moved 7", "(distance = 4, direction = left, digit = 7)")
    style.fit_suptitle(fig, *parts)
    lines = fig.get_suptitle().split("\n")
    assert len(lines) > 2 and lines[0].startswith("Networks") and lines[-1].endswith("digit = 7)")
    assert " ".join(lines) == " ".join(parts), "only the breaks change"
    assert all(not line.endswith("=") and not line.startswith("=") for line in lines), "name = value stays whole"
    renderer = laid_out(fig)
    assert texts_outside(fig, renderer) == []
    title = fig._suptitle.get_window_extent(renderer)
    assert title.y0 > axes[0, 0].get_tightbbox(renderer).y1, "the title is above the axes and their title"
    # The figure grew at the top; the axes kept their place in inches.
    height = fig.get_figheight()
    assert height > 1.6
    bottom, size = axes[0, 0].get_position(original=True).bounds[1:4:2]
    assert (bottom * height, size * height) == pytest.approx((before[0] * 1.6, before[2] * 1.6))


def test_fit_suptitle_keeps_an_existing_title_and_its_alignment():
    fig, _ = style.figure(1, width=4.0, height=2.0)
    fig.suptitle("left", x=0.02, ha="left", fontsize=14)
    style.fit_suptitle(fig, "left", "(b = 2)")
    assert fig._suptitle.get_text() == "left (b = 2)" and fig._suptitle.get_ha() == "left"
    assert fig._suptitle.get_position()[0] == 0.02 and fig._suptitle.get_fontsize() == 14


def test_grow_top_keeps_axes_texts_and_legends_in_place():
    fig, axes = style.figure(2, width=4.0, height=2.0)
    axes[0, 0].plot([0, 1], [0, 1], label="line")
    legend = fig.legend(loc="upper right")
    note = fig.text(0.5, 0.5, "note")
    renderer = laid_out(fig)
    boxes = [a.get_window_extent(renderer) for a in (*axes[0], legend, note)]
    style.grow_top(fig, 0.5)
    assert tuple(fig.get_size_inches()) == (4.0, 2.5)
    renderer = laid_out(fig)
    after = [a.get_window_extent(renderer) for a in (*axes[0], legend, note)]
    for a, b in zip(boxes, after):
        assert (a.x0, a.y0, a.x1, a.y1) == pytest.approx((b.x0, b.y0, b.x1, b.y1), abs=1.0)


def test_fit_top_makes_room_for_a_legend_above_the_axes():
    fig, axes = style.figure(1, width=3.0, height=2.0)
    ax = axes[0, 0]
    for i in range(6):
        ax.plot([0, 1], [i, i], label=f"line {i}")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, fontsize=6)
    assert texts_outside(fig, laid_out(fig)) != [], "the legend, at the page's size, starts out cut"
    style.fit_top(fig)
    assert texts_outside(fig, laid_out(fig)) == []


@pytest.mark.parametrize("scale", ["linear", "log"])
def test_room_for_labels_ends_every_label_inside_the_axes(scale):
    fig, axes = style.figure(1, width=4.0, height=2.0)
    ax = axes[0, 0]
    values = [3.0, 900.0, 8_000_000.0] if scale == "log" else [0.2, 0.6, 0.98]
    ax.barh(range(3), values)
    ax.set_xscale(scale)
    ax.set_xlim(1 if scale == "log" else 0, max(values) * 1.05)
    labels = [ax.annotate(f"{v:,} (a long label)", (v, i), xytext=(4, 0), textcoords="offset points",
                          va="center", fontsize=7) for i, v in enumerate(values)]
    labels.append(ax.text(values[0], 0, "plain text", fontsize=7))
    low = ax.get_xlim()[0]
    style.room_for_labels(ax, labels)
    assert ax.get_xlim()[0] == low
    renderer = laid_out(fig)
    right = ax.get_window_extent(renderer).x1
    assert all(t.get_window_extent(renderer).x1 <= right for t in labels)
    with pytest.raises(ValueError, match="^labels must"):
        style.room_for_labels(ax, [style.figure()[1][0, 0].text(0, 0, "elsewhere")])


def test_keep_inside_moves_labels_in_from_the_border():
    fig, axes = style.figure(1, width=2.0, height=2.0)
    ax = axes[0, 0]
    ax.bar([0, 1, 2], [1, 2, 3])
    ann = ax.annotate("29.5 million", (2, 3), xytext=(0, 2), textcoords="offset points", ha="center", fontsize=7)
    text = ax.text(-0.4, 1, "at the left edge", ha="center", fontsize=7)
    inside = ax.text(1, 1, "x", ha="center")
    shifts = style.keep_inside(ax, [ann, text, inside])
    assert shifts[0] < 0 < shifts[1] and shifts[2] == 0
    renderer = laid_out(fig)
    box = ax.get_window_extent(renderer)
    for t in (ann, text):
        e = t.get_window_extent(renderer)
        assert box.x0 <= e.x0 and e.x1 <= box.x1, t.get_text()


# ---------------------------------------------------------------------------
# A figure's second drawing for a phone: narrow_layout and the <picture> it gives.

def _panel_row(n=5, width=10.5, legend=False, suptitle=None):
    rng = np.random.default_rng(0)
    fig, axes = style.figure(n, width=width, height=4.0 if legend else 2.6, alt="a row of panels")
    for i, ax in enumerate(axes[0]):
        if legend:
            for k in range(4):
                ax.plot(np.arange(10), rng.normal(size=10).cumsum(), label=f"a long series name {k}")
            ax.errorbar(np.arange(10), np.ones(10), yerr=0.5, marker="s", label="with error bars")
            ax.set_xlabel("pixels in the image")
        else:
            style.show_image(ax, rng.normal(size=(12, 12)), signed=True)
        ax.set_title(f"panel {i}\nborder ÷ interior 1.{i}")
    if legend:
        fig.subplots_adjust(bottom=0.35)
        fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="upper center", ncols=5,
                   bbox_to_anchor=(0.5, 0.1), frameon=False)
    if suptitle:
        style.fit_suptitle(fig, suptitle)
    return fig, axes


def _boxes(fig):
    renderer = style._measuring_renderer(fig)
    fig.draw_without_rendering()
    return [ax.get_tightbbox(renderer) for ax in fig.axes], renderer


def _overlap(a, b):
    return a.x0 < b.x1 - 0.5 and b.x0 < a.x1 - 0.5 and a.y0 < b.y1 - 0.5 and b.y0 < a.y1 - 0.5


@pytest.mark.parametrize("legend", [False, True])
def test_a_row_of_panels_is_laid_out_again_narrow_enough_for_a_phone_and_put_back(legend):
    fig, axes = _panel_row(n=5 if not legend else 2, width=10.5 if not legend else 8.5, legend=legend,
                           suptitle="a title over the panels")
    size = tuple(fig.get_size_inches())
    places = [ax.get_position(original=True).bounds for ax in fig.axes]
    legends = list(fig.legends)
    boxes, renderer = _boxes(fig)
    gap = fig._suptitle.get_window_extent(renderer).y0 - max(box.y1 for box in boxes)
    undo = style.narrow_layout(fig)
    assert undo is not None
    picture = style.render(fig, trim=True)
    # Its smallest text is 9 CSS pixels or more in a phone's column.
    assert min(picture.width, style.PHONE_COLUMN_PX) * picture.text_px / picture.width >= style.PHONE_TEXT_PX
    assert picture.width * style.PHONE_TEXT_PX / picture.text_px <= style.PHONE_COLUMN_PX + 1
    boxes, renderer = _boxes(fig)
    inside = fig.bbox
    for box in boxes:  # every panel, with its title and labels, is inside the image...
        assert inside.x0 - 0.5 <= box.x0 and box.x1 <= inside.x1 + 0.5 and box.y0 >= inside.y0 - 0.5
        assert box.y1 <= inside.y1 + 0.5
    for i, a in enumerate(boxes):  # ... and overlaps no other
        assert not any(_overlap(a, b) for b in boxes[i + 1:])
    # The panels now take more than one row; the title keeps its distance above them all.
    assert len({round(ax.get_position().y0, 3) for ax in fig.axes}) > 1
    title = fig._suptitle.get_window_extent(renderer)
    assert title.y0 - max(box.y1 for box in boxes) == pytest.approx(gap, abs=0.5)
    if legend:  # the legend went into one column, below every panel, inside the image
        (leg,) = fig.legends
        assert leg is not legends[0] and leg._ncols == 1
        # The error bar's entry still shows its marker.
        assert "s" in {line.get_marker() for line in leg.findobj(matplotlib.lines.Line2D)}
        box = leg.get_window_extent(renderer)
        assert all(box.y1 <= b.y0 + 0.5 for b in boxes) and inside.x0 <= box.x0 and box.x1 <= inside.x1
    undo()
    assert tuple(fig.get_size_inches()) == size
    assert np.allclose([ax.get_position(original=True).bounds for ax in fig.axes], places)
    assert fig.legends == legends


def test_a_grid_is_laid_out_again_in_blocks_of_fewer_columns_each_with_its_row_labels():
    rng = np.random.default_rng(1)
    fig, axes = style.figure(8, 2, width=9.2, height=3.2, alt="a grid")
    for (r, c), ax in np.ndenumerate(axes):
        style.show_image(ax, rng.normal(size=(3, 3)), signed=True, title=f"channel {c}" if r == 0 else "")
    axes[0, 0].set_ylabel("before\ntraining")
    axes[1, 0].set_ylabel("after\ntraining")
    title = "First-layer kernels of the network, before and after training, a title wider than a phone"
    style.fit_suptitle(fig, title)
    size = tuple(fig.get_size_inches())
    undo = style.narrow_layout(fig)
    assert undo is not None
    picture = style.render(fig, trim=True)
    assert picture.width * style.PHONE_TEXT_PX / picture.text_px <= style.PHONE_COLUMN_PX + 1
    boxes, renderer = _boxes(fig)
    for i, a in enumerate(boxes):
        assert fig.bbox.x0 - 0.5 <= a.x0 and a.x1 <= fig.bbox.x1 + 0.5
        assert not any(_overlap(a, b) for b in boxes[i + 1:])
    # Blocks one under the other, rows in order inside each; every block labels its rows.
    tops = {(r, c): axes[r, c].get_position().y0 for r in range(2) for c in range(8)}
    lefts = sorted({round(axes[0, c].get_position().x0, 4) for c in range(8)})
    assert len(lefts) < 8
    firsts = [c for c in range(8) if round(axes[0, c].get_position().x0, 4) == lefts[0]]
    assert len(firsts) >= 2 and [tops[0, c] > tops[1, c] for c in firsts] == [True] * len(firsts)
    assert all(tops[1, a] > tops[0, b] for a, b in zip(firsts, firsts[1:]))
    labels = [axes[r, c].get_ylabel() for c in firsts for r in range(2)]
    assert labels == ["before\ntraining", "after\ntraining"] * len(firsts)
    assert "\n" in fig._suptitle.get_text(), "the title takes two lines"
    undo()
    assert [axes[r, c].get_ylabel() for c in firsts[1:] for r in range(2)] == [""] * 2 * (len(firsts) - 1)
    assert fig._suptitle.get_text() == title and tuple(fig.get_size_inches()) == size


def test_figures_that_fit_a_phone_or_are_not_one_grid_of_panels_are_left_alone():
    narrow, _ = _panel_row(n=2, width=4.0)
    spanned, axes_s = style.figure(3, 2, width=10.0, height=4.0)
    style.span_cells(spanned, axes_s, 0, slice(0, 3))
    single, _ = style.figure(1, width=4.0)
    for fig in (narrow, spanned, single):
        size = tuple(fig.get_size_inches())
        assert style.narrow_layout(fig) is None
        assert tuple(fig.get_size_inches()) == size
    # A text of the figure's own beside the panels: it would have nowhere to go; a
    # heading over some of the columns would end up over others.
    beside, _ = _panel_row()
    beside.text(0.5, 0.5, "in the middle")
    heading, _ = _panel_row()
    heading.subplots_adjust(top=0.6)
    heading.text(0.8, 0.95, "the last two panels", ha="center")
    for fig in (beside, heading):
        assert style.narrow_layout(fig) is None
    with pytest.raises(ValueError, match="fig must be a matplotlib Figure"):
        style.narrow_layout("figure")


def _single_chart(width=8.0, ticks=None, beside=False):
    fig, axes = style.figure(1, width=width, height=3.2, alt="one chart")
    ax = axes[0, 0]
    x = np.arange(12)
    ax.plot(x, np.sqrt(x), label="square root", **style.series(0))
    ax.errorbar(x, x / 4, yerr=0.3, capsize=2, label="a quarter, with bars", **style.series(1))
    ax.set_xlabel("step of the computation")
    ax.set_ylabel("value")
    ax.set_title("a chart whose title is too long for a phone's narrow drawing of it")
    ax.tick_params(labelsize=8)  # raised to the smallest size allowed (legible), whose phone limit is no whole pixel
    fig.subplots_adjust(left=0.08, right=0.97, bottom=0.2, top=0.85)
    if ticks:
        ax.set_xticks(x, [ticks.format(i) for i in x])
    if beside:
        fig.subplots_adjust(right=0.6)
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return fig, ax


def _limit_px(fig):
    """The width, in CSS pixels, at which the figure's smallest text is PHONE_TEXT_PX in a phone's column."""
    style.legible(fig)
    return style.PHONE_COLUMN_PX * style._smallest_text(fig) * style.CSS_DPI / 72.0 / style.PHONE_TEXT_PX


def _drawn_texts(fig, renderer):
    """The boxes of the texts the figure draws, a legend as one (ticks inside the axes' limits only)."""
    fig.draw_without_rendering()
    boxes = []
    for ax in fig.axes:
        for axis, limits in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            boxes += [t.label1.get_window_extent(renderer) for t in axis.get_major_ticks()
                      if min(limits) <= t.get_loc() <= max(limits) and t.label1.get_visible() and t.label1.get_text()]
        boxes += [t.get_window_extent(renderer) for t in (ax.title, ax.xaxis.label, ax.yaxis.label, *ax.texts)
                  if t.get_visible() and t.get_text()]
        boxes += [ax.get_legend().get_window_extent(renderer)] if ax.get_legend() else []
    return boxes + [a.get_window_extent(renderer) for a in (*fig.texts, *fig.legends) if a.get_visible()]


def _check_phone_drawing(fig, wide, limit_px):
    """The narrowed figure: as wide as the limit, its text no smaller, every panel and text inside and apart."""
    import re

    picture = style.render(fig, trim=True)
    assert limit_px - 1 <= picture.width <= limit_px and picture.text_px >= wide.text_px
    # The page lets it shrink to the phone's column, and no further (so it does not scroll there).
    tag = style.img_tag(wide, "x", narrow=picture)
    assert int(re.search(r"--cw-readable:(\d+)px", tag).group(1)) == style.PHONE_COLUMN_PX
    boxes, renderer = _boxes(fig)
    texts = _drawn_texts(fig, renderer)
    for a in boxes + texts:
        assert fig.bbox.x0 - 0.5 <= a.x0 and a.x1 <= fig.bbox.x1 + 0.5 and fig.bbox.y0 - 0.5 <= a.y0
        assert a.y1 <= fig.bbox.y1 + 0.5
    for i, a in enumerate(boxes):
        assert not any(_overlap(a, b) for b in boxes[i + 1:])
    for i, a in enumerate(texts):
        assert not any(_overlap(a, b) for b in texts[i + 1:])
    return renderer


def test_a_wide_single_chart_is_made_as_narrow_as_a_phone_allows_and_put_back_exactly():
    fig, ax = _single_chart()
    wide = style.render(fig)
    limit_px = _limit_px(fig)
    assert wide.width > limit_px
    undo = style.narrow_layout(fig)
    assert undo is not None
    _check_phone_drawing(fig, wide, limit_px)
    assert "\n" in ax.get_title(), "the title takes two lines"
    undo()
    assert style.render(fig).data == wide.data


def test_a_legend_beside_a_single_chart_goes_under_it_with_its_markers():
    fig, ax = _single_chart(beside=True)
    wide = style.render(fig)
    old = ax.get_legend()
    undo = style.narrow_layout(fig)
    assert undo is not None
    renderer = _check_phone_drawing(fig, wide, _limit_px(fig))
    legend = ax.get_legend()
    assert legend is not old and legend._ncols == 2
    axis = ax.xaxis.get_tightbbox(renderer)
    assert legend.get_window_extent(renderer).y1 <= axis.y0 + 0.5, "under the x axis and its label"
    assert "s" in {line.get_marker() for line in legend.findobj(matplotlib.lines.Line2D)}
    undo()
    assert ax.get_legend() is old and style.render(fig).data == wide.data


def test_a_single_chart_whose_tick_labels_would_collide_when_narrow_is_left_alone():
    fig, _ = _single_chart(ticks="{:02d},000")
    wide = style.render(fig)
    size = tuple(fig.get_size_inches())
    assert style.narrow_layout(fig) is None
    assert tuple(fig.get_size_inches()) == size and style.render(fig).data == wide.data


def test_panels_stacked_in_one_column_are_made_narrower_together():
    rng = np.random.default_rng(3)
    fig, axes = style.figure(1, 2, width=8.0, height=5.0, alt="two panels, one under the other")
    for i, ax in enumerate(axes[:, 0]):
        ax.plot(np.arange(40), rng.normal(size=40).cumsum(), **style.series(i))
        ax.set_title(f"panel {i}: a random walk of forty steps")
        ax.set_ylabel("position" if i else "position of the walker")
    axes[1, 0].set_xlabel("step")
    wide = style.render(fig)
    limit_px = _limit_px(fig)
    undo = style.narrow_layout(fig)
    assert undo is not None
    _check_phone_drawing(fig, wide, limit_px)
    top, bottom = (ax.get_position() for ax in axes[:, 0])
    # One under the other, in their order, lined up and as wide as each other.
    assert top.y0 > bottom.y1 and top.x0 == pytest.approx(bottom.x0) and top.width == pytest.approx(bottom.width)
    undo()
    assert style.render(fig).data == wide.data


def test_a_wide_row_of_panels_is_served_with_its_phone_drawing():
    import re

    fig, _ = _panel_row()
    tag = fig._repr_html_().split("</p>", 1)[1]
    assert tag.startswith('<picture class="cw-picture"><source media="(max-width: 540px)" srcset="data:image/')
    assert tag.endswith("</picture>") and tag.count("<img ") == 1 and 'alt="a row of panels"' in tag
    (narrow_w, narrow_h), (wide_w, wide_h) = [tuple(map(int, m)) for m in
                                               re.findall(r'width="(\d+)" height="(\d+)"', tag)]
    assert (wide_w, wide_h) == (840, 208)
    assert narrow_w < wide_w and narrow_h > wide_h
    # Below the phone breakpoint the narrow drawing is shown, so the limit is its own.
    readable = int(re.search(r"--cw-readable:(\d+)px", tag).group(1))
    assert readable <= style.PHONE_COLUMN_PX
    # The figure itself is as it was.
    assert tuple(fig.get_size_inches()) == (10.5, 2.6)
    assert "<picture" not in _gradient_figure()._repr_html_()
    with pytest.raises(ValueError, match="hint must be True or False"):
        style.img_tag(style.render(fig), "x", hint=1)
    with pytest.raises(ValueError, match="narrow must be a Picture"):
        style.img_tag(style.render(fig), "x", narrow=b"png")


def test_a_grid_whose_panels_all_have_titles_keeps_each_row_together_in_even_pieces():
    rng = np.random.default_rng(2)
    fig, axes = style.figure(4, 2, width=8.0, height=4.4, alt="two sequences of four steps")
    for (r, c), ax in np.ndenumerate(axes):
        style.show_image(ax, rng.normal(size=(20, 20)), signed=True, title=f"row {r}, step {c}")
    assert style.narrow_layout(fig) is not None
    tops = {(r, c): ax.get_position().y1 for (r, c), ax in np.ndenumerate(axes)}
    # Every panel of the first row is above every panel of the second, and each row is
    # cut into two pieces of two (not three and one).
    assert min(tops[0, c] for c in range(4)) > max(tops[1, c] for c in range(4))
    assert len({round(tops[0, c], 4) for c in range(4)}) == 2
    assert tops[0, 0] == tops[0, 1] and tops[0, 2] == tops[0, 3]


def test_a_grid_whose_columns_belong_together_keeps_each_column_whole():
    rng = np.random.default_rng(4)
    fig, axes = style.figure(3, 2, width=7.5, height=5.0, alt="three layers over their weights")
    fig.keep_columns = True
    for (r, c), ax in np.ndenumerate(axes):
        style.show_image(ax, rng.normal(size=(6, 6)), signed=True, title=f"layer {c}" if r == 0 else f"weights {c}")
    assert style.narrow_layout(fig) is not None
    tops = {(r, c): ax.get_position().y1 for (r, c), ax in np.ndenumerate(axes)}
    # Each layer right above its weights, and the third layer (a block of its own) under both rows of the first.
    firsts = [c for c in range(3) if axes[0, c].get_position().x0 == pytest.approx(axes[0, 0].get_position().x0)]
    assert firsts == [0, 2]
    assert tops[0, 0] > tops[1, 0] > tops[0, 2] > tops[1, 2]
    # Without the figure's word, a grid of titled panels keeps its rows together instead.
    fig.keep_columns = False
    again, axes2 = style.figure(3, 2, width=7.5, height=5.0, alt="rows")
    for (r, c), ax in np.ndenumerate(axes2):
        style.show_image(ax, rng.normal(size=(6, 6)), signed=True, title=f"layer {c}" if r == 0 else f"weights {c}")
    assert style.narrow_layout(again) is not None
    assert axes2[0, 2].get_position().y1 > axes2[1, 0].get_position().y1


def test_a_single_chart_whose_value_labels_would_cross_its_frame_when_narrow_is_left_alone():
    fig, axes = style.figure(1, width=7.0, height=2.2, alt="bars with their values")
    ax = axes[0, 0]
    ax.barh([0, 1], [8e6, 1e5])
    ax.set_xscale("log")
    ax.set_xlim(1, 1e11)
    for y, v in enumerate([8e6, 1e5]):
        ax.text(v * 1.3, y, f"{v:,.0f}\n(a long note on this value)", va="center")
    ax.set_xlabel("parameters (log scale)")
    wide = style.render(fig)
    assert style._held(fig, style._measuring_renderer(fig)) == set(ax.texts), "inside the frame when wide"
    assert style.narrow_layout(fig) is None
    assert style.render(fig).data == wide.data
