"""Tests of widgets.controls.explore: precomputed frames behind linked controls.

Frames are rendered for real, so the grids are tiny (at most 6 frames) and the
drawing functions draw next to nothing.
"""


import base64
import io
import itertools
import re
from html.parser import HTMLParser

import ipywidgets as ipw
import matplotlib.pyplot as plt
import numpy as np
import pytest
from ipywidgets.widgets import widget as ipw_widget
from ipywidgets.widgets.widget_link import Link
from PIL import Image
from test_style import laid_out

from widgets import controls
from widgets.draw import style

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class Recorder:
    """A tiny drawing function (built with style.figure) that records its calls."""

    def __init__(self, *, suptitle=None, alt=""):
        self.alt = alt
        self.calls = []
        self.figures = []
        self.suptitle = suptitle

    def __call__(self, **params):
        self.calls.append(params)
        fig, axes = style.figure(1, width=2.0, height=1.2, alt=self.alt.format(**params))
        axes[0, 0].plot([0, len(self.calls)], [0, 1])
        if self.suptitle:
            fig.suptitle(self.suptitle)
        self.figures.append(fig)
        return fig


def never_called(**params):
    raise AssertionError(f"nothing should be rendered, got a call with {params}")


class _ImgParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.imgs.append(dict(attrs))


def img_attrs(frame):
    """The attributes of the frame's single <img> tag, HTML-unescaped."""
    assert isinstance(frame, ipw.HTML)
    parser = _ImgParser()
    parser.feed(frame.value)
    parser.close()
    assert len(parser.imgs) == 1
    return parser.imgs[0]


def png_of(frame) -> bytes:
    """The encoded image of a frame (PNG or WebP, whichever the renderer found smaller)."""
    src = img_attrs(frame)["src"]
    for prefix in ("data:image/png;base64,", "data:image/webp;base64,"):
        if src.startswith(prefix):
            return base64.b64decode(src[len(prefix):], validate=True)
    raise AssertionError(f"not an inline PNG or WebP image: {src[:40]}")


def links_to(widget, trait):
    """Every live ipywidgets Link (jslink) whose target is (widget, trait)."""
    return [w for w in list(ipw_widget._instances.values())
            if isinstance(w, Link) and w.target[0] is widget and w.target[1] == trait]


def all_stacks(widget, depth=0):
    """(depth, Stack) for every Stack nested under widget, outermost first."""
    if isinstance(widget, ipw.Stack):
        yield depth, widget
        for child in widget.children:
            yield from all_stacks(child, depth + 1)


@pytest.fixture
def no_new_pyplot_figures():
    before = plt.get_fignums()
    yield
    assert plt.get_fignums() == before


# --------------------------------------------------------------------------- structure


def test_explore_returns_explorer_vbox():
    draw = Recorder()
    ex = controls.explore(draw, {"a": [1, 2, 3], "b": ["x", "y"]})
    assert isinstance(ex, controls.Explorer)
    assert isinstance(ex, ipw.VBox)
    assert "cw-explorer" in ex._dom_classes
    assert ex.names == ("a", "b")
    assert ex.values == ((1, 2, 3), ("x", "y"))
    row, stack = ex.children
    assert isinstance(row, ipw.HBox)
    assert list(row.children) == [ex.controls["a"], ex.controls["b"]]
    assert stack is ex.stack and isinstance(stack, ipw.Stack)
    assert ex.play is None


def test_n_frames_and_frame_keys_cover_every_combination():
    draw = Recorder()
    ex = controls.explore(draw, {"a": [1, 2, 3], "b": ["x", "y"]})
    assert ex.n_frames == 6 == len(draw.calls)
    assert set(ex.frames) == {(1, "x"), (1, "y"), (2, "x"), (2, "y"), (3, "x"), (3, "y")}
    # Called once per combination, with keyword arguments, outermost parameter slowest.
    assert draw.calls == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "x"},
                          {"a": 2, "b": "y"}, {"a": 3, "b": "x"}, {"a": 3, "b": "y"}]
    assert len({id(f) for f in ex.frames.values()}) == 6


def test_three_parameters():
    ex = controls.explore(Recorder(), {"a": [0, 1], "b": ["p"], "c": range(2)})
    assert ex.n_frames == 4
    assert set(ex.frames) == set(itertools.product([0, 1], ["p"], [0, 1]))
    depths = [d for d, _ in all_stacks(ex.stack)]
    assert depths.count(0) == 1 and depths.count(1) == 2 and depths.count(2) == 2


def test_control_kinds():
    ex = controls.explore(Recorder(), {"n": [1, 2], "mode": ["gray", "colour"], "k": range(3, 5)},
                          toggles=())
    assert isinstance(ex.controls["n"], ipw.SelectionSlider)
    assert isinstance(ex.controls["mode"], ipw.ToggleButtons)
    assert isinstance(ex.controls["k"], ipw.SelectionSlider)
    assert ex.controls["n"].options == (("1", 1), ("2", 2))
    assert ex.controls["mode"].options == (("gray", "gray"), ("colour", "colour"))
    assert ex.controls["n"].description == "n"
    # Labels read as words, not as Python names.
    two = controls.explore(Recorder(), {"kernel_size": [1, 3]})
    assert two.controls["kernel_size"].description == "kernel size"
    # Each control starts on the first value.
    assert ex.selection() == {"n": 1, "mode": "gray", "k": 3}


def test_toggles_turn_integers_into_buttons():
    ex = controls.explore(Recorder(), {"n": [1, 2], "m": [5, 6]}, toggles=["n"])
    assert isinstance(ex.controls["n"], ipw.ToggleButtons)
    assert isinstance(ex.controls["m"], ipw.SelectionSlider)


def test_mixed_values_and_bools_are_toggles():
    ex = controls.explore(Recorder(), {"flag": [False, True], "w": [1, 2.5]})
    assert isinstance(ex.controls["flag"], ipw.ToggleButtons)
    assert isinstance(ex.controls["w"], ipw.ToggleButtons)


# --------------------------------------------------------------------------- frames


def test_frames_are_valid_images_shown_at_their_css_size():
    ex = controls.explore(Recorder(), {"a": [1, 2], "b": ["x", "y"]}, dpi=40)
    for frame in ex.frames.values():
        data = png_of(frame)
        with Image.open(io.BytesIO(data)) as img:
            assert img.format in {"PNG", "WEBP"}
            assert img.size == (80, 48)  # a 2 x 1.2 inch figure at 40 dpi
            img.load()
        attrs = img_attrs(frame)
        # Shown at CSS_DPI whatever the rendering resolution: 2 x 1.2 inches at 80.
        assert (attrs["width"], attrs["height"]) == ("160", "96")
        assert attrs["src"].startswith(f"data:image/{img.format.lower()};base64,")


def test_default_resolution_is_twice_the_display_size():
    ex = controls.explore(Recorder(), {"a": [1]})
    attrs = img_attrs(ex.frames[(1,)])
    with Image.open(io.BytesIO(png_of(ex.frames[(1,)]))) as img:
        width, height = img.size
    # Twice as many image pixels as CSS pixels, for sharp figures on 2x screens.
    assert (width, height) == (2 * int(attrs["width"]), 2 * int(attrs["height"]))
    assert (attrs["width"], attrs["height"]) == ("160", "96")  # 2 x 1.2 inches at 80 CSS px per inch


def _half_empty(**params):
    """A frame on a two-row grid whose second row is empty, as a grid with room for more."""
    fig, axes = style.figure(2, 2, width=3.0, height=3.0)
    axes[0, 0].plot([0, 1], [0, params["a"]])
    for ax in list(axes.ravel())[1:]:
        ax.set_axis_off()
    return fig


def test_trim_drops_the_empty_rows_under_a_frame():
    trimmed = controls.explore(_half_empty, {"a": [1, 2]}, dpi=40)
    kept = controls.explore(_half_empty, {"a": [1, 2]}, dpi=40, trim=False)
    for key in trimmed.frames:
        full = img_attrs(kept.frames[key])
        cut = img_attrs(trimmed.frames[key])
        assert full["height"] == "240" and cut["width"] == full["width"] == "240"
        assert int(cut["height"]) < 0.7 * int(full["height"]), "the empty second row is gone"
        with Image.open(io.BytesIO(png_of(trimmed.frames[key]))) as img:
            rgb = np.asarray(img.convert("RGB"))
        # The content stays: the first row's axes frame (dark pixels) reaches close to the bottom margin.
        dark_rows = np.nonzero((rgb < 100).all(axis=2).any(axis=1))[0]
        assert rgb.shape[0] - 1 - dark_rows.max() <= round(0.1 * 40) + 1
    # A frame with nothing blank at the bottom keeps its size.
    ex = controls.explore(Recorder(), {"a": [1]}, dpi=40)
    assert img_attrs(ex.frames[(1,)])["height"] == "96"


def test_png_bytes_is_total_decoded_size():
    ex = controls.explore(Recorder(), {"a": [1, 2, 3]}, dpi=30)
    sizes = [len(png_of(f)) for f in ex.frames.values()]
    assert all(s > 0 for s in sizes)
    assert ex.png_bytes == sum(sizes)


def _row_of_panels(**params):
    """Four titled panels in a row, too wide for a phone at the book's text size."""
    fig, axes = style.figure(4, width=9.0, height=2.0)
    for i, ax in enumerate(axes.ravel()):
        ax.plot([0, 1], [0, params["a"] + i])
        ax.set_title(f"panel {i}")
    return fig


def test_a_frame_that_is_a_row_of_panels_comes_drawn_again_for_a_phone_with_its_own_hint():
    ex = controls.explore(_row_of_panels, {"a": [1, 2]}, dpi=40)
    total = 0
    for frame in ex.frames.values():
        html = frame.value
        assert html.startswith('<p class="cw-scroll-hint cw-fit-hint"'), "the hint comes first, in the HTML"
        source = re.search(r'<source media="\(max-width: (\d+)px\)" srcset="data:image/(?:png|webp);base64,'
                           r'([^"]+)" width="(\d+)" height="(\d+)"', html)
        assert source and int(source[1]) == style.PHONE_WINDOW_PX, html[:300]
        wide = img_attrs(frame)
        assert int(source[3]) < int(wide["width"]) and int(source[4]) > int(wide["height"]), "fewer panels a row"
        total += len(png_of(frame)) + len(base64.b64decode(source[2]))
    assert ex.png_bytes == total, "the phone drawings count in the page's weight"
    # A frame that already fits a phone has one drawing only.
    small = controls.explore(Recorder(), {"a": [1]}, dpi=40)
    assert "<source" not in small.frames[(1,)].value


def _titled_rows(**params):
    """A row of four panels whose titles take more lines the larger ``a`` is: taller on a phone."""
    fig, axes = style.figure(4, width=9.0, height=2.0)
    for i, ax in enumerate(axes.ravel()):
        ax.plot([0, 1], [0, i])
        ax.set_title("\n".join(f"panel {i}" for _ in range(params["a"])))
    return fig


def test_an_explorers_phone_drawings_share_one_height_so_the_page_does_not_move():
    ex = controls.explore(_titled_rows, {"a": [1, 2]}, dpi=40)
    sources = [re.search(r'<source [^>]*width="(\d+)" height="(\d+)"', f.value) for f in ex.frames.values()]
    assert all(sources)
    assert len({s[1] for s in sources}) == 1, [s.group(0)[-40:] for s in sources]
    heights = [int(s[2]) for s in sources]
    assert max(heights) - min(heights) <= 1, heights   # one height as shown, to the CSS pixel
    unpadded = style.render_both(_titled_rows(a=1), 40)[1]
    assert int(sources[0][2]) > unpadded.height, "the short frame was padded to the tall one's height"


def _blank(width, height, text_px=30.0):
    """A grey Picture ``width`` x ``height`` CSS pixels (two image pixels to one), text large enough to
    shrink to a phone's column.
    """
    buf = io.BytesIO()
    Image.new("RGB", (2 * width, 2 * height), "grey").save(buf, format="PNG")
    return style.Picture(buf.getvalue(), "image/png", width, height, text_px)


def _shown_heights(drawn):
    return [style.phone_size(narrow or picture)[1] for (picture, narrow), _, _ in drawn.values()]


def test_frames_with_and_without_a_phone_drawing_are_padded_to_show_one_height_on_a_phone():
    drawn = {("a",): ((_blank(684, 300), _blank(418, 250)), "", {}),
             ("b",): ((_blank(684, 300), None), "", {})}
    padded = controls._one_phone_height(drawn)
    heights = _shown_heights(padded)
    assert max(heights) - min(heights) < 1, heights
    assert heights[0] == pytest.approx(250 * style.PHONE_COLUMN_PX / 418), "the tallest is left as it is"
    (wide, phone), _, _ = padded[("b",)]
    assert wide is drawn[("b",)][0][0] and phone.width == 684 and phone.height > 300, "the page's drawing, padded"


def test_frames_that_differ_a_lot_in_height_are_not_padded():
    drawn = {("a",): ((_blank(684, 300), _blank(300, 600)), "", {}),
             ("b",): ((_blank(684, 300), _blank(300, 200)), "", {})}
    assert controls._one_phone_height(drawn) == drawn
    only_wide = {("a",): ((_blank(684, 300), None), "", {}), ("b",): ((_blank(684, 250), None), "", {})}
    assert controls._one_phone_height(only_wide) == only_wide, "no phone drawing: the phone shows the page's"


def test_a_picture_padded_to_a_height_keeps_its_top_and_adds_white_below():
    fig = _row_of_panels(a=1)
    picture = style.render(fig, 40)
    padded = style.pad_to_height(picture, picture.height + 30)
    assert (padded.width, padded.height, padded.mime) == (picture.width, picture.height + 30, picture.mime)
    top = np.asarray(Image.open(io.BytesIO(picture.data)).convert("RGB"))
    out = np.asarray(Image.open(io.BytesIO(padded.data)).convert("RGB"))
    assert np.array_equal(out[:top.shape[0]], top) and (out[top.shape[0]:] == 255).all()
    assert style.pad_to_height(picture, picture.height - 5) is picture
    with pytest.raises(ValueError, match="height"):
        style.pad_to_height(picture, 0)


def test_params_text():
    assert controls._params_text({"a": 1, "b": "x"}) == "a = 1, b = x"
    assert controls._params_text({"row": 0}) == "row = 0"


def test_alt_text_uses_describe_and_values():
    ex = controls.explore(Recorder(), {"row": [0, 4], "image": ["gray", "colour"]},
                          describe="Patch under output ({row}) of the {image} image")
    for (row, image), frame in ex.frames.items():
        alt = img_attrs(frame)["alt"]
        assert alt == f"Patch under output ({row}) of the {image} image (row = {row}, image = {image})"


def test_alt_text_without_describe():
    ex = controls.explore(Recorder(), {"a": [7]})
    assert img_attrs(ex.frames[(7,)])["alt"] == "Figure (a = 7)"


def test_alt_text_falls_back_to_the_figure_alt():
    ex = controls.explore(Recorder(alt="A line to {a}"), {"a": [1, 2]})
    assert img_attrs(ex.frames[(1,)])["alt"] == "A line to 1 (a = 1)"
    assert img_attrs(ex.frames[(2,)])["alt"] == "A line to 2 (a = 2)"


def test_alt_text_keeps_the_figure_alt_after_describe():
    # The figure's own alt text says what this frame's data show; describe adds
    # what the explorer is about, as a sentence of its own before it.
    ex = controls.explore(Recorder(alt="A line to {a}, peak at {a}0."), {"a": [1, 2]}, describe="Frame {a}")
    assert img_attrs(ex.frames[(1,)])["alt"] == "Frame 1. A line to 1, peak at 10. (a = 1)"
    assert img_attrs(ex.frames[(2,)])["alt"] == "Frame 2. A line to 2, peak at 20. (a = 2)"
    # A describe that already ends a sentence gets no second full stop; the same text is not said twice.
    ex = controls.explore(Recorder(alt="Same {a}"), {"a": [1]}, describe="Frame {a}?")
    assert img_attrs(ex.frames[(1,)])["alt"] == "Frame 1? Same 1 (a = 1)"
    ex = controls.explore(Recorder(alt="Frame {a}"), {"a": [1]}, describe="Frame {a}")
    assert img_attrs(ex.frames[(1,)])["alt"] == "Frame 1 (a = 1)"


def test_alt_text_is_html_escaped():
    describe = 'A "quoted" <b>{a}</b> & more'
    ex = controls.explore(Recorder(), {"a": [1]}, describe=describe)
    value = ex.frames[(1,)].value
    assert "<b>" not in value and '"quoted"' not in value
    assert img_attrs(ex.frames[(1,)])["alt"] == 'A "quoted" <b>1</b> & more (a = 1)'


def test_frame_title_shows_the_values():
    draw = Recorder()
    controls.explore(draw, {"a": [1, 2], "b": ["x"]})
    assert [f.get_suptitle() for f in draw.figures] == ["a = 1, b = x", "a = 2, b = x"]


def test_frame_title_keeps_an_existing_title():
    draw = Recorder(suptitle="Kernel")
    controls.explore(draw, {"a": [3]})
    assert draw.figures[0].get_suptitle() == "Kernel (a = 3)"


def framed(draw, **params):
    """The figure ``draw(**params)`` returns, after an explorer has rendered it as its one frame.

    Its title then carries the values, as on the page. Other test modules use it
    (``from test_controls import framed``) to check the geometry of a chapter's frames.
    """
    figures = []

    def frame(**values):
        figures.append(draw(**values))
        return figures[-1]

    controls.explore(frame, {name: [value] for name, value in params.items()})
    (fig,) = figures
    return fig


@pytest.mark.parametrize("title", [None, "Networks trained on centred digits, shown a moved 7"])
def test_frame_title_wraps_to_stay_inside_the_image(title):
    # A title and the values too wide for the figure: the values go on a line of their own, and lines
    # break only between "name = value" items; the figure grows at the top so the title clears the axes.
    draw = Recorder(suptitle=title)
    fig = framed(draw, distance=4, direction="left", digit=7)
    lines = fig.get_suptitle().split("\n")
    assert len(lines) >= 2
    assert " ".join(lines) == (f"{title} " if title else "") + (
        "(distance = 4, direction = left, digit = 7)" if title else "distance = 4, direction = left, digit = 7")
    if title:  # the values start a line of their own
        assert any(line.startswith("(distance") for line in lines[1:])
    assert all("=" not in (line.split()[0], line.split()[-1]) for line in lines), "name = value stays whole"
    renderer = laid_out(fig)
    box = fig._suptitle.get_window_extent(renderer)
    assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1 and box.y1 <= fig.bbox.y1, "inside the image"
    assert box.y0 > fig.axes[0].get_tightbbox(renderer).y1, "above the axes"
    assert fig.get_figheight() > 1.2, "the figure grew to hold it"


def test_non_figure_raises_type_error():
    with pytest.raises(TypeError, match="^frame must return a matplotlib Figure, got NoneType"):
        controls.explore(lambda a: None, {"a": [1]})
    fig, axes = style.figure()
    with pytest.raises(TypeError, match="got ndarray"):
        controls.explore(lambda a: axes, {"a": [1]})  # the axes instead of the figure


# --------------------------------------------------------------------------- driving the controls


def test_setting_controls_switches_stacks_and_frame():
    ex = controls.explore(Recorder(), {"a": [1, 2, 3], "b": ["x", "y"]})
    assert ex.shown_frame() is ex.frames[(1, "x")]
    ex.controls["b"].value = "y"
    # Every inner stack follows b (so switching a keeps b).
    assert [s.selected_index for d, s in all_stacks(ex.stack) if d == 1] == [1, 1, 1]
    assert ex.stack.selected_index == 0
    assert ex.shown_frame() is ex.frames[(1, "y")]
    ex.controls["a"].index = 2
    assert ex.stack.selected_index == 2
    assert ex.shown_frame() is ex.frames[(3, "y")]
    assert ex.selection() == {"a": 3, "b": "y"}


def test_start_opens_on_the_chosen_frame():
    ex = controls.explore(Recorder(), {"a": [1, 2, 3], "b": ["x", "y"]}, start={"a": 3, "b": "y"},
                          play="a")
    assert ex.shown_frame() is ex.frames[(3, "y")] and ex.selection() == {"a": 3, "b": "y"}
    assert ex.play.value == 2 and ex.stack.selected_index == 2
    # The others start at their first value.
    assert controls.explore(Recorder(), {"a": [1, 2], "b": ["x", "y"]},
                            start={"b": "y"}).selection() == {"a": 1, "b": "y"}


@pytest.mark.parametrize(("start", "match"), [
    ({"c": 1}, "^start must name parameters"),
    ({"a": 9}, r"^start\['a'\] must be one of \[1, 2\], got 9"),
    ("a", "^start must be a mapping"),
])
def test_start_rejects_unknown_names_and_values(start, match):
    with pytest.raises(ValueError, match=match):
        controls.explore(Recorder(), {"a": [1, 2]}, start=start)


def test_select_returns_the_frame():
    ex = controls.explore(Recorder(), {"a": [1, 2], "b": ["x", "y"]})
    for a, b in [(2, "y"), (1, "y"), (2, "x"), (1, "x")]:
        assert ex.select(a=a, b=b) is ex.frames[(a, b)]
        assert ex.controls["a"].value == a and ex.controls["b"].value == b
    # Partial selection keeps the other control.
    ex.select(a=2, b="y")
    assert ex.select(b="x") is ex.frames[(2, "x")]


def test_select_rejects_unknown_name_and_value():
    ex = controls.explore(Recorder(), {"a": [1, 2], "b": ["x", "y"]})
    with pytest.raises(ValueError, match="^name must be one of"):
        ex.select(c=1)
    with pytest.raises(ValueError, match=r"^a must be one of \[1, 2\], got 3"):
        ex.select(a=3)
    with pytest.raises(ValueError, match="^b must be one of"):
        ex.select(b="z")
    assert ex.shown_frame() is ex.frames[(1, "x")]


def test_every_stack_has_a_browser_link():
    ex = controls.explore(Recorder(), {"a": [1, 2], "b": ["x", "y", "z"]})
    stacks = list(all_stacks(ex.stack))
    assert len(stacks) == 1 + 2
    for depth, stack in stacks:
        links = links_to(stack, "selected_index")
        assert len(links) == 1, f"stack at depth {depth} has {len(links)} jslinks"
        source, trait = links[0].source
        assert source is ex.controls[ex.names[depth]] and trait == "index"
    # Frames are the leaves, one per combination.
    leaves = [c for d, s in stacks if d == 1 for c in s.children]
    assert {id(c) for c in leaves} == {id(f) for f in ex.frames.values()}


# --------------------------------------------------------------------------- play


def test_play_button_drives_the_slider():
    ex = controls.explore(Recorder(), {"a": [10, 20, 30], "b": ["x", "y"]}, play="a", play_interval=250)
    play = ex.play
    assert isinstance(play, ipw.Play)
    assert (play.min, play.max, play.step, play.value) == (0, 2, 1, 0)
    assert play.interval == 250
    assert ex.children[0].children[0] is play  # first in the row of controls
    (link,) = links_to(ex.controls["a"], "index")
    assert link.source == (play, "value")
    ex.select(b="y")
    play.value = 2
    assert ex.controls["a"].index == 2 and ex.controls["a"].value == 30
    assert ex.shown_frame() is ex.frames[(30, "y")]
    play.value = 1
    assert ex.shown_frame() is ex.frames[(20, "y")]


@pytest.mark.parametrize(
    "grid, kwargs",
    [
        ({"a": [1, 2], "b": ["x", "y"]}, {"play": "b"}),  # a string grid is a toggle
        ({"a": [1, 2]}, {"play": "a", "toggles": ["a"]}),  # integers shown as toggles
        ({"a": [1, 2]}, {"play": "c"}),  # unknown name
    ],
)
def test_play_needs_a_slider(grid, kwargs):
    with pytest.raises(ValueError, match="^play must name a slider parameter"):
        controls.explore(never_called, grid, **kwargs)


# --------------------------------------------------------------------------- budget


def test_grid_over_budget_is_rejected_before_rendering():
    with pytest.raises(ValueError, match=r"grid has 9 frames \(3 a x 3 b\), more than max_frames=8"):
        controls.explore(never_called, {"a": [1, 2, 3], "b": [1, 2, 3]}, max_frames=8)


def test_default_budget_is_max_frames():
    too_many = {"a": list(range(controls.MAX_FRAMES + 1))}
    with pytest.raises(ValueError, match=f"max_frames={controls.MAX_FRAMES}"):
        controls.explore(never_called, too_many)
    just_enough = controls.explore(Recorder(), {"a": list(range(2))}, max_frames=2)
    assert just_enough.n_frames == 2


def test_budget_is_inclusive():
    draw = Recorder()
    ex = controls.explore(draw, {"a": [1, 2], "b": [1, 2]}, max_frames=4)
    assert ex.n_frames == 4 == len(draw.calls)


@pytest.mark.parametrize("max_frames", [0, -1, controls.FRAME_LIMIT + 1, 10_000, 5.0, True])
def test_max_frames_out_of_range(max_frames):
    with pytest.raises(ValueError, match="^max_frames must"):
        controls.explore(never_called, {"a": [1]}, max_frames=max_frames)


def test_max_frames_at_frame_limit_is_allowed():
    ex = controls.explore(Recorder(), {"a": [1]}, max_frames=controls.FRAME_LIMIT)
    assert ex.n_frames == 1


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "frame, grid, kwargs, match",
    [
        ("not callable", {"a": [1]}, {}, "^frame must be callable"),
        (None, {"a": [1]}, {}, "^frame must be callable"),
        (never_called, [("a", [1])], {}, "^grid must be a mapping"),
        (never_called, {}, {}, "^grid must have 1 to 4 parameters, got 0"),
        (never_called, {"a": [1], "b": [1], "c": [1], "d": [1], "e": [1]}, {},
         "^grid must have 1 to 4 parameters, got 5"),
        (never_called, {"a": []}, {}, r"^grid\['a'\] must offer at least one value"),
        (never_called, {"a": range(0)}, {}, r"^grid\['a'\] must offer at least one value"),
        (never_called, {"a": [1, 2, 1]}, {}, r"^grid\['a'\] values must be distinct"),
        (never_called, {"a": ["x", "x"]}, {}, r"^grid\['a'\] values must be distinct"),
        (never_called, {"a b": [1]}, {}, "^grid keys must be parameter names"),
        (never_called, {"1a": [1]}, {}, "^grid keys must be parameter names"),
        (never_called, {1: [1]}, {}, "^grid keys must be parameter names"),
        (never_called, {"a": "xyz"}, {}, r"^grid\['a'\] must be a sequence of values"),
        (never_called, {"a": b"xy"}, {}, r"^grid\['a'\] must be a sequence of values"),
        (never_called, {"a": {1, 2}}, {}, r"^grid\['a'\] must be a sequence of values"),
        (never_called, {"a": 3}, {}, r"^grid\['a'\] must be a sequence of values"),
        (never_called, {"a": [1]}, {"dpi": 29}, "^dpi must be in"),
        (never_called, {"a": [1]}, {"dpi": 401}, "^dpi must be in"),
        (never_called, {"a": [1]}, {"trim": 1}, "^trim must be True or False"),
        (never_called, {"a": [1]}, {"dpi": 72.0}, "^dpi must be an integer"),
        (never_called, {"a": [1]}, {"play_interval": 99}, "^play_interval must be in"),
        (never_called, {"a": [1]}, {"play_interval": 5001}, "^play_interval must be in"),
        (never_called, {"a": [1]}, {"toggles": ["b"]}, "^toggles must name parameters"),
        (never_called, {"a": [1]}, {"describe": 3}, "^describe must be a string"),
    ],
)
def test_validation_errors_name_the_parameter(frame, grid, kwargs, match):
    with pytest.raises(ValueError, match=match):
        controls.explore(frame, grid, **kwargs)


@pytest.mark.parametrize("values", [[1, 1.0], [True, 1], [0, 0.0, False]])
def test_equal_values_with_different_reprs_are_not_distinct(values):
    # They would share one frame (dict key): 1 == 1.0 == True.
    with pytest.raises(ValueError, match=r"^grid\['a'\] values must be distinct"):
        controls.explore(never_called, {"a": values})


def test_unhashable_values_are_rejected():
    with pytest.raises(ValueError, match=r"^grid\['a'\] values must be hashable"):
        controls.explore(never_called, {"a": [[1], [2]]})


# --------------------------------------------------------------------------- figure cleanup


def pyplot_frame(record):
    def draw(a):
        fig, ax = plt.subplots(figsize=(1.0, 1.0))  # registered with pyplot
        ax.plot([0, a], [0, 1])
        record.append(fig)
        return fig

    return draw


def test_pyplot_figures_are_closed(no_new_pyplot_figures):
    figs = []
    ex = controls.explore(pyplot_frame(figs), {"a": [1, 2, 3, 4]}, dpi=30)
    assert ex.n_frames == 4 and len(figs) == 4
    assert not any(plt.fignum_exists(f.number) for f in figs)


def test_pyplot_figures_closed_when_drawing_raises_midway(no_new_pyplot_figures):
    figs = []
    inner = pyplot_frame(figs)
    calls = []

    def draw(a):
        calls.append(a)
        if a == 3:
            raise RuntimeError("third frame fails")
        return inner(a)

    with pytest.raises(RuntimeError, match="third frame fails"):
        controls.explore(draw, {"a": [1, 2, 3, 4]}, dpi=30)
    assert calls == [1, 2, 3]
    assert len(figs) == 2 and not any(plt.fignum_exists(f.number) for f in figs)


def test_returned_figure_closed_when_rendering_fails(no_new_pyplot_figures):
    figs = []

    def draw(a):
        fig, ax = plt.subplots(figsize=(1.0, 1.0))
        ax.set_title(r"$\frac$")  # invalid mathtext: fails when the figure is saved
        figs.append(fig)
        return fig

    with pytest.raises(ValueError, match="frac"):
        controls.explore(draw, {"a": [1, 2]}, dpi=30)
    assert len(figs) == 1
    assert not plt.fignum_exists(figs[0].number)


def test_describe_with_unknown_field_is_rejected_before_rendering():
    calls = []

    def frame(a):
        calls.append(a)
        return style.figure()[0]

    with pytest.raises(ValueError, match="describe"):
        controls.explore(frame, {"a": [1, 2]}, describe="row {row}")
    assert calls == []


def test_toggles_given_as_a_string_is_rejected():
    with pytest.raises(ValueError, match="toggles"):
        controls.explore(lambda ab: style.figure()[0], {"ab": [1, 2]}, toggles="ab")


def test_pyplot_figures_are_closed_when_the_drawing_function_raises():
    before = set(plt.get_fignums())

    def frame(a):
        plt.subplots()
        raise RuntimeError("drawing failed")

    with pytest.raises(RuntimeError, match="drawing failed"):
        controls.explore(frame, {"a": [1, 2]})
    assert set(plt.get_fignums()) == before


def test_four_parameters_nest_four_levels_of_stacks():
    ex = controls.explore(Recorder(), {"a": [0, 1], "b": ["p", "q"], "c": range(2), "d": [5, 6]})
    assert ex.n_frames == 16
    depths = [d for d, _ in all_stacks(ex.stack)]
    assert [depths.count(i) for i in range(4)] == [1, 2, 4, 8]
    assert ex.select(a=1, b="q", c=0, d=6) is ex.frames[(1, "q", 0, 6)]


def models_of(explorer) -> dict:
    """The widget models the page's state holds for an explorer, its links included."""
    from ipywidgets.embed import dependency_state
    return dependency_state(explorer, drop_defaults=True)


def test_frames_and_stacks_share_their_layout_and_style():
    ex = controls.explore(Recorder(), {"a": [1, 2], "b": ["x", "y", "z"]})
    frames = list(ex.frames.values())
    assert len({id(f.layout) for f in frames}) == 1
    assert len({id(f.style) for f in frames}) == 1
    stacks = [s for _, s in all_stacks(ex.stack)]
    assert len({id(s.layout) for s in stacks}) == 1
    assert stacks[0].layout is not frames[0].layout


@pytest.mark.parametrize("small, large, added", [
    ({"a": range(2)}, {"a": range(4)}, 2),                                   # two frames
    ({"a": [1, 2], "b": ["x", "y"]}, {"a": [1, 2, 3], "b": ["x", "y"]}, 4),  # a stack, its link, two frames
])
def test_a_larger_grid_adds_only_frames_and_stacks_to_the_page_state(small, large, added):
    # Each frame, stack or link is one model; none brings a layout or style model of its own.
    grown = len(models_of(controls.explore(Recorder(), large))) - len(models_of(controls.explore(Recorder(), small)))
    assert grown == added
