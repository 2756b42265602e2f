"""The book's one mechanism for interactive figures: precomputed frames behind linked controls.

:func:`explore` takes a drawing function and a small grid of parameter values,
renders every combination once with the real code while the cell runs, and
shows the frames in nested :class:`ipywidgets.Stack` widgets whose
``selected_index`` is linked to the controls in the browser (``jslink``). The
links live in the page's widget state, so the controls respond on the static
site with no kernel, and identically in JupyterLab with one. A kernel-side
link mirrors them so Python code and tests can drive the controls too.

Layout for two controls ``a`` (values a0, a1, ...) and ``b``::

    Stack  <- linked to a.index
      Stack  <- linked to b.index      (frames for a = a0)
        frame(a0, b0), frame(a0, b1), ...
      Stack  <- linked to b.index      (frames for a = a1)
        ...
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable, Mapping, Sequence

import ipywidgets as ipw
import matplotlib.pyplot as plt
from ipywidgets.widgets.widget_string import HTMLStyle
from matplotlib.figure import Figure

from ._checks import check_int
from .draw.style import DPI, fit_suptitle, img_tag, pad_to_height, phone_size, render_both

# Live figures (computed in the browser) are built in widgets.live; chapters reach them here.
from .live import digit_pad, field_stack, kernel_playground, shift_figure

#: Most frames one explorer may render unless the caller sets ``max_frames``.
MAX_FRAMES = 120
#: Hard ceiling for ``max_frames``: a page must stay light (5 MB per chapter page).
FRAME_LIMIT = 400
#: Most controls one explorer may have: a row of four still fits the page, and the
#: frame budget keeps the grid small whatever the number of controls.
MAX_CONTROLS = 4

__all__ = ["Explorer", "explore", "field_stack", "digit_pad",
           "kernel_playground", "shift_figure", "MAX_FRAMES", "FRAME_LIMIT"]


class Explorer(ipw.VBox):
    """A row of controls above the frame they select (built by :func:`explore`).

    Attributes
    ----------
    names : tuple of str
        Parameter names, outermost first.
    values : tuple of tuple
        The grid of values for each parameter.
    controls : dict
        Parameter name to its control (``SelectionSlider`` or ``ToggleButtons``).
    play : ipywidgets.Play or None
        The play button, if one was asked for.
    stack : ipywidgets.Stack
        The outermost stack.
    frames : dict
        Tuple of parameter values to the frame widget (an ``HTML`` image).
    n_frames, png_bytes : int, int
        How many frames, and their total encoded size (PNG or WebP) in bytes,
        the drawings for a phone included.
    """

    def __init__(self, names, values, controls, play, stack, frames, png_bytes, **kwargs):
        self.names = tuple(names)
        self.values = tuple(tuple(v) for v in values)
        self.controls = dict(controls)
        self.play = play
        self.stack = stack
        self.frames = dict(frames)
        self.n_frames = len(self.frames)
        self.png_bytes = png_bytes
        row = [self.play] if self.play is not None else []
        row += [self.controls[n] for n in self.names]
        super().__init__([ipw.HBox(row, layout=ipw.Layout(flex_flow="row wrap")), stack], **kwargs)
        self.add_class("cw-explorer")

    def selection(self) -> dict:
        """The parameter values the controls currently show."""
        return {n: self.controls[n].value for n in self.names}

    def select(self, **params) -> ipw.HTML:
        """Set controls by parameter value and return the frame now shown.

        Raises ``ValueError`` for an unknown name or a value not in the grid.
        """
        for name, value in params.items():
            if name not in self.controls:
                raise ValueError(f"name must be one of {list(self.names)}, got {name!r}")
            if value not in self.values[self.names.index(name)]:
                raise ValueError(f"{name} must be one of {list(self.values[self.names.index(name)])}, got {value!r}")
            self.controls[name].value = value
        return self.shown_frame()

    def shown_frame(self) -> ipw.HTML:
        """The frame widget the stacks currently display."""
        widget = self.stack
        while isinstance(widget, ipw.Stack):
            widget = widget.children[widget.selected_index]
        return widget


def explore(frame: Callable[..., Figure], grid: Mapping[str, Sequence], *,
            describe: str | None = None, toggles: Sequence[str] = (), play: str | None = None,
            max_frames: int = MAX_FRAMES, dpi: int = DPI, play_interval: int = 600,
            trim: bool = True, start: Mapping | None = None) -> Explorer:
    """Render ``frame`` for every combination in ``grid`` and link controls to the frames.

    Parameters
    ----------
    frame : callable
        Called as ``frame(**params)`` for each combination; returns a
        :class:`matplotlib.figure.Figure`, which is closed after rendering.
        The current parameter values are added to its title, on a line of
        their own when the two would not fit the image on one
        (:func:`widgets.draw.style.fit_suptitle`).
    grid : mapping of str to sequence
        One to four parameters, outermost first, each with the values its
        control offers (distinct; integers become a slider, anything else
        toggle buttons).
    describe : str, optional
        Alt text for each frame, formatted with the parameters
        (e.g. ``"Patch under output ({row}, {col})"``). The figure's own
        ``alt`` attribute, which describes what that frame's data show,
        follows it, and the parameter values close the text.
    toggles : sequence of str
        Integer parameters to show as toggle buttons rather than a slider.
    play : str, optional
        Name of a slider parameter to give a play button.
    max_frames : int
        Budget: a grid with more combinations is rejected before anything is
        rendered (1 to :data:`FRAME_LIMIT`).
    dpi : int
        Resolution at which the frames are rendered (30 to 400); the page shows
        them at their size in inches either way (see :mod:`widgets.draw.style`).
        The default renders two image pixels per CSS pixel.
    play_interval : int
        Milliseconds between frames when playing (100 to 5000).
    trim : bool
        Drop the blank rows under each frame's content, so that a frame drawn on
        a grid with room for more (say one feature map of up to seven) is no
        taller than what it shows.
    start : mapping, optional
        The frame the figure opens on, as values of some of the parameters
        (the others start at their first value): a chapter's opening frame
        should be one that teaches.

    Returns
    -------
    Explorer
        A widget: controls above the selected frame.
    """
    if not callable(frame):
        raise ValueError(f"frame must be callable (a drawing function), got {type(frame).__name__}")
    max_frames = check_int("max_frames", max_frames, low=1, high=FRAME_LIMIT)
    dpi = check_int("dpi", dpi, low=30, high=400)
    if not isinstance(trim, bool):
        raise ValueError(f"trim must be True or False, got {trim!r}")
    play_interval = check_int("play_interval", play_interval, low=100, high=5000)
    names, values = _check_grid(grid)
    n_frames = math.prod(len(v) for v in values)
    if n_frames > max_frames:
        sizes = " x ".join(f"{len(v)} {n}" for n, v in zip(names, values))
        raise ValueError(f"grid has {n_frames} frames ({sizes}), more than max_frames={max_frames}; "
                         "offer fewer values")
    if isinstance(toggles, str) or not isinstance(toggles, Sequence):
        raise ValueError(f"toggles must be a sequence of parameter names, got {toggles!r}")
    toggles = tuple(toggles)
    for name in toggles:
        if name not in names:
            raise ValueError(f"toggles must name parameters of grid {list(names)}, got {name!r}")
    kinds = {n: "toggle" if (n in toggles or not _all_ints(v)) else "slider" for n, v in zip(names, values)}
    if play is not None and kinds.get(play) != "slider":
        sliders = [n for n in names if kinds[n] == "slider"]
        raise ValueError(f"play must name a slider parameter, one of {sliders}, got {play!r}")
    if describe is not None:
        if not isinstance(describe, str):
            raise ValueError(f"describe must be a string or None, got {type(describe).__name__}")
        try:
            describe.format(**dict(zip(names, (v[0] for v in values))))
        except (KeyError, IndexError, ValueError) as err:
            raise ValueError(f"describe must only use the fields {{{'}, {'.join(names)}}}, "
                             f"got {describe!r} ({err!r})") from None

    if start is not None and not isinstance(start, Mapping):
        raise ValueError(f"start must be a mapping of parameter name to value, got {start!r}")
    start = dict(start or {})
    for name, value in start.items():
        if name not in names:
            raise ValueError(f"start must name parameters of grid {list(names)}, got {name!r}")
        if value not in values[names.index(name)]:
            raise ValueError(f"start[{name!r}] must be one of {list(values[names.index(name)])}, got {value!r}")

    frames, png_bytes = {}, 0
    # Every frame shares one layout and one style, and every stack one layout:
    # each would otherwise be a model of its own in the page's widget state, and
    # the browser creates every model before it draws the first widget.
    frame_layout, frame_style, stack_layout = ipw.Layout(), HTMLStyle(), ipw.Layout()
    drawn = {}
    for combo in itertools.product(*values):
        params = dict(zip(names, combo))
        drawn[combo] = *_render(frame, params, dpi, trim), params
    drawn = _one_phone_height(drawn)
    for combo, ((picture, narrow), alt, params) in drawn.items():
        png_bytes += len(picture.data) + (len(narrow.data) if narrow else 0)
        frames[combo] = ipw.HTML(img_tag(picture, _alt_text(describe, alt, params), narrow=narrow, hint=True),
                                 layout=frame_layout, style=frame_style)

    controls = {n: _control(n, v, kinds[n]) for n, v in zip(names, values)}
    stack = _nest(names, values, frames, controls, (), stack_layout)
    play_widget = None
    if play is not None:
        play_widget = ipw.Play(value=0, min=0, max=len(values[names.index(play)]) - 1, step=1,
                               interval=play_interval, description=f"play {play}",
                               tooltip=f"play through {play}")
        _link((play_widget, "value"), (controls[play], "index"))
    for name, value in start.items():
        controls[name].value = value   # the links move the stacks (and a play button) with it
    return Explorer(names, values, controls, play_widget, stack, frames, png_bytes)


#: An explorer's frames are padded to one height on a phone only if the tallest is at
#: most this many times the shortest: frames that differ more hold different numbers
#: of panels, and the shortest would be mostly blank.
PAD_AT_MOST = 1.5


def _one_phone_height(drawn: dict) -> dict:
    """The frames ``{combo: ((picture, narrow), alt, params)}``, their phone drawings padded to one height.

    Laid out for a phone and trimmed to its content, each frame is as tall as
    its content, so a new setting moved the page below the explorer. Where any
    frame has a phone drawing, each frame's (or its page drawing, for one
    that has none) gets white below it, to show as tall as the tallest on a
    phone (:func:`~widgets.draw.style.phone_size`); within :data:`PAD_AT_MOST`.
    """
    if all(narrow is None for (_, narrow), _, _ in drawn.values()):
        return drawn
    heights = [phone_size(narrow or picture)[1] for (picture, narrow), _, _ in drawn.values()]
    tallest = max(heights)
    if tallest > PAD_AT_MOST * min(heights):
        return drawn
    padded = {}
    for combo, ((picture, narrow), alt, params) in drawn.items():
        phone = narrow or picture
        width, height = phone_size(phone)
        target = math.floor(tallest * phone.width / width)
        if target > phone.height:
            narrow = pad_to_height(phone, target)
        padded[combo] = ((picture, narrow), alt, params)
    return padded


def _check_grid(grid):
    if not isinstance(grid, Mapping):
        raise ValueError(f"grid must be a mapping of parameter name to values, got {type(grid).__name__}")
    if not 1 <= len(grid) <= MAX_CONTROLS:
        raise ValueError(f"grid must have 1 to {MAX_CONTROLS} parameters, got {len(grid)}")
    names, values = [], []
    for name, vals in grid.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"grid keys must be parameter names (identifiers), got {name!r}")
        if isinstance(vals, (str, bytes)) or not isinstance(vals, Sequence | range):
            raise ValueError(f"grid[{name!r}] must be a sequence of values, got {vals!r}")
        vals = tuple(vals)
        if not vals:
            raise ValueError(f"grid[{name!r}] must offer at least one value, got none")
        try:
            distinct = len(set(vals)) == len(vals)  # values become dict keys: hashable, and 1 == 1.0
        except TypeError:
            raise ValueError(f"grid[{name!r}] values must be hashable (numbers or strings), got {list(vals)}") from None
        if not distinct:
            raise ValueError(f"grid[{name!r}] values must be distinct, got {list(vals)}")
        names.append(name)
        values.append(vals)
    return tuple(names), tuple(values)


def _all_ints(values) -> bool:
    return all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values)


def _render(frame, params, dpi, trim=False):
    """One frame's images (``style.render_both``: for the page, and for a phone or None) and alt text.

    Every figure the drawing function left with pyplot is closed, whether it
    returned normally or raised, so memory does not grow with the frames.
    """
    before = set(plt.get_fignums())
    try:
        fig = frame(**params)
    except BaseException:
        _close_new(before)
        raise
    try:
        if not isinstance(fig, Figure):
            raise TypeError(f"frame must return a matplotlib Figure, got {type(fig).__name__} for {params}")
        # The values after the figure's own title, on a line of their own if the two together would be
        # wider than the image (fit_suptitle keeps each "name = value" whole when a line wraps).
        label = _params_text(params)
        title = fig.get_suptitle()
        fit_suptitle(fig, *((title, f"({label})") if title else (label,)))
        return render_both(fig, dpi, trim=trim), getattr(fig, "alt", "")
    finally:
        if isinstance(fig, Figure):
            plt.close(fig)
        _close_new(before)


def _close_new(before):
    for num in set(plt.get_fignums()) - before:
        plt.close(num)


def _params_text(params) -> str:
    return ", ".join(f"{k} = {v}" for k, v in params.items())


def _alt_text(describe, alt, params) -> str:
    """A frame's alt text: ``describe`` formatted, then the figure's own alt text, then the values."""
    parts = [p.strip() for p in (describe.format(**params) if describe else "", alt or "")]
    parts = [p for i, p in enumerate(parts) if p and p not in parts[:i]] or ["Figure"]
    text = " ".join([p if p[-1] in ".!?" else f"{p}." for p in parts[:-1]] + parts[-1:])
    return f"{text} ({_params_text(params)})"


def label(name: str) -> str:
    """A parameter's name as its control's label reads: ``"kernel_size"`` becomes ``"kernel size"``."""
    return name.replace("_", " ")


def _control(name, values, kind):
    labels = [(str(v), v) for v in values]
    style = {"description_width": "initial"}
    if kind == "slider":
        return ipw.SelectionSlider(options=labels, value=values[0], description=label(name),
                                   continuous_update=True, readout=True, style=style,
                                   layout=ipw.Layout(width="300px", margin="0 16px 4px 0"))
    return ipw.ToggleButtons(options=labels, value=values[0], description=label(name),
                             style={**style, "button_width": "auto"},
                             # label and buttons side by side in every front end
                             layout=ipw.Layout(width="auto", display="flex", align_items="center",
                                               margin="0 16px 4px 0"))


def _nest(names, values, frames, controls, prefix, layout):
    level = len(prefix)
    if level == len(names):
        return frames[prefix]
    children = [_nest(names, values, frames, controls, prefix + (v,), layout) for v in values[level]]
    stack = ipw.Stack(children, selected_index=0, layout=layout)
    _link((controls[names[level]], "index"), (stack, "selected_index"))
    return stack


def _link(source, target):
    """Link two traits in the browser (works with no kernel) and in the kernel (for Python code)."""
    ipw.jslink(source, target)
    ipw.link(source, target)
