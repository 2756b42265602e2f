"""The position chapter's live figure "draw a digit" (widgets.live.digit_pad): argument
checks, its binary state, the global max pooling layer in Node.js against
PyTorch, and the figure on the built site driven with pointer events and keys,
every number compared with the same networks run in PyTorch.
"""

from __future__ import annotations

import ast
import math
import re

import numpy as np
import pytest
import torch
from conftest import ROOT, WIDGETS_DRAWN, notebook_in_lab, two_cell_notebook
from test_live import LiveVisit, results_out_of_view, run_in_node
from torch import nn

from widgets import compute, controls, live
from widgets.compute import trained_networks as tn

#: Channels of the chapter's convolutional network's two layers (the maxima its classifier reads: C2).
C1, C2 = tn.WIDTHS["convolutional"]

torch.set_num_threads(1)

SPLIT = compute.data.digit_split(canvas=16, seed=0)
#: The test digits the chapter offers: the first of each class.
PICKS = [int((SPLIT.test_labels == d).nonzero()[0]) for d in range(10)]
DIGITS, LABELS = SPLIT.test_images[PICKS], SPLIT.test_labels[PICKS]


def untrained():
    return {name: tn.build(name, seed=0) for name in tn.MODELS}


# --------------------------------------------------------------------------
# Argument checks.


@pytest.mark.parametrize("change, message", [
    ({"models": {}}, "models must map 1 to 4 names to networks"),
    ({"models": [nn.Linear(2, 2)]}, "models must map 1 to 4 names to networks"),
    ({"models": {"a": nn.Linear(256, 10)}}, "models['a'] must be a torch.nn.Sequential, got Linear"),
    ({"models": {"a": nn.Sequential(nn.Flatten(), nn.Linear(256, 10), nn.Tanh())}},
     "layer 2 of type Tanh, which the browser's layers.js does not implement"),
    ({"models": {"a": nn.Sequential(nn.Flatten(), nn.Linear(256, 3))}}, "models['a'] must give (1, 10) class scores"),
    ({"models": {"a": nn.Sequential(nn.Flatten(), nn.Linear(100, 10))}},
     "models['a'] does not take a (1, 1, 16, 16) input"),
    ({"models": {"": nn.Sequential(nn.Flatten(), nn.Linear(256, 10))}}, "models keys must be non-empty strings"),
    ({"digits": DIGITS[:, 0, 0]}, "digits must be 3-D or 4-D"),
    ({"digits": DIGITS.expand(-1, 2, -1, -1)}, "digits must have one channel"),
    ({"digits": DIGITS[..., :12]}, "digits must be square, got 16 x 12"),
    ({"digits": DIGITS * 2}, "digits must hold values in [0, 1]"),
    ({"digits": torch.zeros(31, 1, 16, 16), "labels": [0] * 31}, "number of digits must be in [1, 30], got 31"),
    ({"labels": LABELS[:5]}, "labels must be a sequence of 10 classes 0 to 9"),
    ({"labels": [10] + LABELS.tolist()[1:]}, "labels must be in [0, 9], got 10"),
    ({"features": "dense"}, "features must name a network with ReLU feature maps, got 'dense'"),
    ({"features": "cnn"}, "features must be one of ['dense', 'locally connected', 'convolutional'], got 'cnn'"),
    ({"digit": 10}, "digit must be in [0, 9], got 10"),
    ({"guide": 17}, "guide must be in [1, 16], got 17"),
    ({"brush": 3.0}, "brush must be a number in [0.25, 2.0], got 3.0"),
    ({"brush": True}, "brush must be a number in [0.25, 2.0], got True"),
    ({"description": " "}, "description must be a non-empty string"),
])
def test_digit_pad_validates_its_arguments(change, message):
    kwargs = {"models": untrained(), "digits": DIGITS, "labels": LABELS, **change}
    with pytest.raises(ValueError, match=re.escape(message)):
        controls.digit_pad(**kwargs)


# --------------------------------------------------------------------------
# The widget's state.


def load_layers(model: nn.Sequential, layers) -> nn.Sequential:
    """``model`` with the weights and biases of exported layers (buffers or lists with shapes)."""
    assert [L["type"] for L in layers] == [L["type"] for L in live.export_layers(model)]
    with torch.no_grad():
        for module, L in zip(model, layers):
            for key in ("weight", "bias"):
                value = L.get(key)
                if value is None:
                    continue
                if isinstance(value, bytes):
                    value = np.frombuffer(value, "<f4").copy()
                getattr(module, key).copy_(torch.tensor(value, dtype=torch.float32).view(L[f"{key}_shape"]))
    return model.eval()


def test_digit_pad_state_is_binary_and_round_trips():
    models = untrained()
    w = controls.digit_pad(models, DIGITS, LABELS, digit=3, guide=8)
    assert isinstance(w.image, bytes) and len(w.image) == 4 * 256
    torch.testing.assert_close(w.image_tensor(), DIGITS[3], rtol=0, atol=0)
    assert isinstance(w.digits, bytes) and len(w.digits) == 4 * 10 * 256
    for i in range(10):
        torch.testing.assert_close(w.digit_tensor(i), DIGITS[i], rtol=0, atol=0)
    assert w.digit_labels == LABELS.tolist() and w.digit == 3 and w.guide == 8 and w.side == 16
    assert w.network_names == list(tn.MODELS) and w.features == "convolutional"
    x = torch.rand(5, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    for name, model in models.items():
        assert all(isinstance(L[k], bytes) for L in w.networks[name] for k in ("weight", "bias") if k in L)
        rebuilt = load_layers(tn.build(name, seed=1), w.networks[name])   # other initial weights, then loaded
        with torch.no_grad():
            torch.testing.assert_close(rebuilt(x), model.eval()(x), rtol=0, atol=0)
    # The global max pooling of the convolutional network is one of the layers shown.
    assert [(L["index"], L["kind"], L["shape"]) for L in w.feature_layers] == [
        (1, "ReLU", [C1, 16, 16]), (4, "ReLU", [C2, 8, 8]), (5, "AdaptiveMaxPool2d", [C2, 1, 1])]
    # What a front end sends back is read; the module is the shared layers and the figure's own.
    w.set_state({"image": memoryview(DIGITS[7].numpy().astype("<f4").tobytes()), "digit": 7})
    torch.testing.assert_close(w.image_tensor(), DIGITS[7], rtol=0, atol=0)
    assert w._esm == live.esm("digit_pad") and 'from "./layers.js"' not in w._esm
    assert controls.digit_pad(models, DIGITS, LABELS).digit == -1
    assert not controls.digit_pad(models, DIGITS, LABELS).image_tensor().any()


def test_an_even_shift_leaves_the_global_maxima_unchanged_away_from_the_edges():
    # What the chapter says of the figure, for any weights of the architecture:
    # the first layer has no bias, so blank background gives zeros like the
    # padding, and a shift by 2 moves the pooled map by one cell.
    g = torch.Generator().manual_seed(1)
    for seed in range(3):
        net = tn.build("convolutional", seed=seed).eval()
        body = net[:6]   # up to the global max pooling
        x = torch.zeros(1, 1, 16, 16)
        x[0, 0, 5:11, 5:11] = torch.rand(6, 6, generator=g)
        with torch.no_grad():
            before = body(x)
            for dy, dx in [(2, 0), (0, -2), (-2, 2)]:
                moved = compute.data.shift_inside(x, dy, dx)
                torch.testing.assert_close(body(moved), before, rtol=0, atol=0)
            # An odd shift regroups the pooled pixels: the maxima change.
            assert not torch.equal(body(compute.data.shift_inside(x, 1, 0)), before)


def reach_margin(model: nn.Sequential) -> int:
    """The chapter's formula: the first layer's reach in pixels plus the second's in pooled cells."""
    first, _, pool, second = model[:4]
    return first.kernel_size[0] // 2 + pool.stride * (second.kernel_size[0] // 2)


def margin_sweep(body, seed, side=16, step=2):
    """{margin: [exact, total]}: blobs of 2 to 8 pixels at every placement, moved by ``step``.

    The margin of a case is the smallest distance from the ink to an edge of the
    canvas, before or after the move; a case is exact when the global maxima
    after the move equal those before, bit for bit.
    """
    g = torch.Generator().manual_seed(seed)
    found = {}
    for size in (2, 4, 6, 8):
        spots = [(t, u) for t in range(side - size + 1) for u in range(side - size + 1)]
        x = torch.zeros(len(spots), 1, side, side)
        for k, (t, u) in enumerate(spots):
            x[k, 0, t:t + size, u:u + size] = 0.1 + 0.9 * torch.rand(size, size, generator=g)
        with torch.no_grad():
            still = body(x)
            for dy, dx in [(step, 0), (-step, 0), (0, step), (0, -step), (step, -step)]:
                same = (body(compute.equivariance.shift(x, dy, dx, mode="zeros")) == still).flatten(1).all(1)
                for k, (t, u) in enumerate(spots):
                    far = side - size
                    margin = min(t, u, far - t, far - u, t + dy, u + dx, far - t - dy, far - u - dx)
                    if margin >= 0:   # no ink pushed off the canvas
                        case = found.setdefault(margin, [0, 0])
                        case[0] += int(same[k])
                        case[1] += 1
    return found


def smallest_exact_margin(seeds=range(3)):
    """The smallest margin from which every even move in the sweep keeps the maxima, over several weights."""
    worst = -1
    for seed in seeds:
        body = tn.build("convolutional", seed=seed).eval()[:-2]
        found = margin_sweep(body, seed)
        assert sum(total for m, (_, total) in found.items() if m >= 5) > 50, "cases far from the edges"
        worst = max([worst] + [m for m, (exact, total) in found.items() if exact < total])
    return worst + 1


def test_an_even_move_is_exact_from_the_computed_margin_and_not_one_pixel_closer():
    # The chapter: exact if the ink stays at least N pixels from every edge before
    # and after the move, N computed from the layers. Every placement at margin >= N
    # keeps the maxima, and some placement at N - 1 changes them.
    margin = reach_margin(tn.build("convolutional", seed=0))
    assert smallest_exact_margin() == margin
    found = margin_sweep(tn.build("convolutional", seed=4).eval()[:-2], seed=4)
    assert all(exact == total for m, (exact, total) in found.items() if m >= margin)
    assert found[margin - 1][0] < found[margin - 1][1], "a counterexample one pixel closer"
    # A digit filling the 8 x 8 box (4 pixels from each edge) reaches the outermost
    # rows and columns of the second layer's 8 x 8 maps, before the bias.
    net = tn.build("convolutional", seed=0).eval()
    x = torch.zeros(1, 1, 16, 16)
    x[0, 0, 4:12, 4:12] = 0.5
    with torch.no_grad():
        reached = (net[:4](x) - net[3].bias[:, None, None])[0].abs().amax(0) > 0
    assert reached[0].all() and reached[-1].all() and reached[:, 0].all() and reached[:, -1].all()
    assert (16 - 8) // 2 - 2 < margin, "a box-sized digit moved by 2 comes closer than the margin"


# --------------------------------------------------------------------------
# Global max pooling (AdaptiveMaxPool2d) in the browser's layers, against torch in Node.js.


def test_adaptive_max_pooling_and_the_chapter_networks_in_javascript_equal_pytorch(tmp_path):
    g = torch.Generator().manual_seed(0)
    cases = [(nn.AdaptiveMaxPool2d(size), torch.randn(3, h, w, generator=g))
             for size, h, w in [(1, 8, 8), ((1, 1), 5, 7), ((2, 3), 7, 8), (3, 10, 9), ((4, 4), 4, 4),
                                ([2, 3], 6, 9)]]
    nan = torch.randn(2, 6, 6, generator=g)
    nan[1, 2, 3] = float("nan")
    cases.append((nn.AdaptiveMaxPool2d(2), nan))
    digit = DIGITS[4]
    cases += [(tn.build(name, seed=0), digit) for name in tn.NETWORKS]
    outputs = run_in_node(cases, tmp_path)
    for (model, x), got in zip(cases, outputs):
        with torch.no_grad():
            expected = model(x.unsqueeze(0))[0]
        torch.testing.assert_close(got, expected, equal_nan=True, msg=lambda m, model=model: f"{model}: {m}")


@pytest.mark.parametrize("layer, message", [
    (nn.AdaptiveMaxPool2d((None, 2)), "output_size=(None, 2)"),
    (nn.AdaptiveMaxPool2d(1, return_indices=True), "return_indices=True"),
    (nn.AdaptiveMaxPool2d(0), "output_size=0; output_size must be a positive integer or a pair"),
    (nn.AdaptiveMaxPool2d((2, 0)), "output_size=(2, 0); output_size must be"),
    (nn.AdaptiveMaxPool2d([2, 3, 4]), "output_size=[2, 3, 4]; output_size must be"),
    (nn.AdaptiveMaxPool2d(2.5), "output_size=2.5; output_size must be"),
])
def test_export_refuses_adaptive_pooling_it_cannot_compute(layer, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        live.export_layers(layer)


# --------------------------------------------------------------------------
# The figure on the built site, driven as a reader would, against PyTorch.

PAD = ".cw-digit-pad"
READ_BACK = """() => {
    const live = document.querySelector('.cw-digit-pad').live;
    const outputs = Object.fromEntries(Object.entries(live.outputs).map(([n, o]) =>
        [n, {logits: Array.from(o.logits), probabilities: Array.from(o.probabilities), top: o.top}]));
    return {input: Array.from(live.input.data), outputs, offset: live.offset, digit: live.digit,
            features: live.features.map(f => ({index: f.index, shape: f.output.shape,
                                               data: Array.from(f.output.data)}))};
}"""
NETWORKS = """() => Object.fromEntries(Object.entries(document.querySelector('.cw-digit-pad').networks).map(
    ([n, layers]) => [n, layers.map(L => ({type: L.type,
        weight: L.weight ? Array.from(L.weight.data) : null, weight_shape: L.weight ? L.weight.shape : null,
        bias: L.bias ? Array.from(L.bias.data) : null, bias_shape: L.bias ? L.bias.shape : null}))]))"""


@pytest.fixture(scope="module")
def position_page(browser, site_url):
    visit = LiveVisit(browser, f"{site_url}/book/10_position.html")
    visit.wait_for_widgets()
    visit.page.wait_for_selector(f"{PAD} canvas.cw-pad-canvas", timeout=15_000)
    visit.page.locator(PAD).scroll_into_view_if_needed()
    yield visit
    visit.close()


@pytest.fixture(scope="module")
def page_models(position_page):
    """The networks the page runs, rebuilt in PyTorch from the weights the browser holds."""
    layers = position_page.page.evaluate(NETWORKS)
    assert list(layers) == list(tn.MODELS)
    return {name: load_layers(tn.build(name, seed=0), layers[name]) for name in tn.MODELS}


def read_back(page):
    state = page.evaluate(READ_BACK)
    state["x"] = torch.tensor(state["input"], dtype=torch.float32).view(1, 16, 16)
    return state


def assert_matches_pytorch(state, models):
    """Every network's logits and probabilities, and the feature maps shown, as PyTorch computes them."""
    x = state["x"][None]
    with torch.no_grad():
        for name, model in models.items():
            logits = model(x)[0]
            out = state["outputs"][name]
            torch.testing.assert_close(torch.tensor(out["logits"]), logits, msg=lambda m, n=name: f"{n}: {m}")
            probabilities = torch.softmax(logits, 0)
            torch.testing.assert_close(torch.tensor(out["probabilities"]), probabilities)
            assert out["top"] == int(logits.argmax())
        conv = models["convolutional"]
        for f in state["features"]:
            expected = conv[:f["index"] + 1](x)[0]
            assert f["shape"] == list(expected.shape)
            torch.testing.assert_close(torch.tensor(f["data"]).view(expected.shape), expected)


def canvas_point(page, u, v):
    box = page.locator(f"{PAD} canvas.cw-pad-canvas").bounding_box()
    return box["x"] + u * box["width"], box["y"] + v * box["height"]


def stroke(page, points, steps=4, check=None):
    """Draw through ``points`` (fractions of the canvas), calling ``check`` after each move before the button is up."""
    page.mouse.move(*canvas_point(page, *points[0]))
    page.mouse.down()
    for u, v in points[1:]:
        page.mouse.move(*canvas_point(page, u, v), steps=steps)
        if check:
            check()
    page.mouse.up()


def clear(page):
    page.locator(f"{PAD} button.cw-pad-clear").click()
    assert not read_back(page)["x"].any()


@pytest.mark.browser
def test_the_page_runs_the_chapters_trained_networks(position_page, page_models):
    # Trained, not initial, weights: each rebuilt network classifies most test digits.
    for name, model in page_models.items():
        assert training_accuracy(model) > 0.7, name
        assert not all(torch.equal(p, q) for p, q in zip(model.parameters(), tn.build(name, seed=0).parameters()))


def training_accuracy(model):
    return compute.training.accuracy(model, SPLIT.test_images, SPLIT.test_labels)


@pytest.mark.browser
def test_strokes_are_classified_on_every_move_as_pytorch_does(position_page, page_models):
    page = position_page.page
    clear(page)
    seen = []

    def check():   # the button is still down: the figure has already computed this stroke's input
        state = read_back(page)
        seen.append(float(state["x"].sum()))
        assert_matches_pytorch(state, page_models)

    stroke(page, [(0.4, 0.3), (0.6, 0.3), (0.6, 0.5), (0.4, 0.7), (0.62, 0.7)], check=check)
    assert len(seen) == 4 and all(b > a for a, b in zip(seen, seen[1:])), "more ink on every move"
    state = read_back(page)
    x = state["x"]
    assert 0 <= float(x.min()) and float(x.max()) <= 1 and float(x.max()) == 1.0
    # Ink like the training digits': on the order of their total, with soft edges.
    ink = float(x.sum())
    typical = float(SPLIT.train_images.sum(dim=(1, 2, 3)).mean())
    assert typical / 3 < ink < typical * 3, (ink, typical)
    assert ((x > 0) & (x < 1)).any()
    assert_matches_pytorch(state, page_models)
    status = page.locator(f"{PAD} .cw-pad-status")
    assert status.get_attribute("aria-live") == "polite"
    assert "convolutional: " in status.text_content()


@pytest.mark.browser
def test_arrow_keys_shift_the_input_like_a_zero_filled_torch_shift(position_page, page_models):
    page = position_page.page
    clear(page)
    stroke(page, [(0.45, 0.4), (0.55, 0.45), (0.5, 0.6)])
    canvas = page.locator(f"{PAD} canvas.cw-pad-canvas")
    before = read_back(page)
    total = [0, 0]
    for key, (dy, dx) in [("ArrowRight", (0, 1)), ("ArrowDown", (1, 0)), ("ArrowLeft", (0, -1)),
                          ("ArrowUp", (-1, 0)), ("ArrowUp", (-1, 0))]:
        x = read_back(page)["x"]
        canvas.press(key)
        state = read_back(page)
        total = [total[0] + dy, total[1] + dx]
        expected = compute.equivariance.shift(x[None], dy, dx, mode="zeros")[0]
        torch.testing.assert_close(state["x"], expected, rtol=0, atol=0)
        assert expected.sum() == x.sum(), "no ink lost"
        assert state["offset"] == total
        assert_matches_pytorch(state, page_models)
    torch.testing.assert_close(read_back(page)["x"], compute.data.shift_inside(before["x"][None], -1, 0)[0],
                               rtol=0, atol=0)
    status = page.locator(f"{PAD} .cw-pad-status").text_content()
    assert status.startswith("Moved 1 pixel up.") and "dense: " in status


@pytest.mark.browser
def test_an_even_shift_keeps_the_convolutional_answer_exactly(position_page):
    page = position_page.page
    clear(page)
    stroke(page, [(0.42, 0.42), (0.58, 0.5), (0.45, 0.58)])
    canvas = page.locator(f"{PAD} canvas.cw-pad-canvas")
    before = read_back(page)
    rows = before["x"][0].sum(dim=1).nonzero().flatten()
    assert int(rows[0]) >= 5 and int(rows[-1]) <= 10, "a small drawing in the middle"
    canvas.press("ArrowRight")
    odd = read_back(page)
    canvas.press("ArrowRight")
    even = read_back(page)
    assert even["features"][-1]["data"] == before["features"][-1]["data"]
    assert even["outputs"]["convolutional"] == before["outputs"]["convolutional"]
    assert odd["features"][-1]["data"] != before["features"][-1]["data"]


WITH_SCORES = """(scores) => {
    // The dense network's last layer replaced for one update by constant class
    // scores (zero weights, the scores as bias), then restored.
    const figure = document.querySelector('.cw-digit-pad');
    const last = figure.networks.dense[figure.networks.dense.length - 1];
    const saved = [last.weight.data.slice(), last.bias.data.slice()];
    const canvas = figure.querySelector('canvas.cw-pad-canvas');
    last.weight.data.fill(0);
    last.bias.data.set(scores);
    canvas.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowUp', bubbles: true}));
    const o = figure.live.outputs.dense;
    const out = {top: o.top, logits: Array.from(o.logits), probabilities: Array.from(o.probabilities),
                 answer: figure.querySelector('.cw-pad-answer').textContent};
    last.weight.data.set(saved[0]);
    last.bias.data.set(saved[1]);
    canvas.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowDown', bubbles: true}));
    return out;
}"""

MAXIMA = "() => { const l = document.querySelector('.cw-digit-pad').live; return [l.reference, l.change]; }"


@pytest.mark.browser
def test_the_status_line_says_whether_the_maxima_changed_since_the_move_began(position_page, page_models):
    page = position_page.page
    canvas = page.locator(f"{PAD} canvas.cw-pad-canvas")
    status = page.locator(f"{PAD} .cw-pad-status")
    clear(page)
    stroke(page, [(0.42, 0.42), (0.58, 0.5), (0.45, 0.58)])
    before = read_back(page)
    start = before["features"][-1]["data"]
    assert page.evaluate(MAXIMA) == [start, None]
    body = page_models["convolutional"][:-2]
    with torch.no_grad():
        unmoved = body(before["x"][None]).flatten()
    expected_change = []
    for key, word in [("ArrowDown", "changed"), ("ArrowDown", "identical"), ("ArrowLeft", "changed"),
                      ("ArrowLeft", "identical")]:
        canvas.press(key)
        state = read_back(page)
        with torch.no_grad():
            change = float((body(state["x"][None]).flatten() - unmoved).abs().max())
        reference, shown = page.evaluate(MAXIMA)
        assert reference == start, "the maxima from before the move, kept while it goes on"
        assert shown == pytest.approx(change, abs=1e-5)
        text = status.text_content()
        if word == "identical":
            assert shown == 0 and f"The {C2} maxima: identical to before the move." in text, text
        else:
            assert change > 0.01, "an odd move changes the maxima"
            assert f"The {C2} maxima: changed by up to {change:.2f}." in text, text
        expected_change.append(change)
    assert expected_change[1] == expected_change[3] == 0
    # A new stroke starts a new move: the maxima of the new drawing are the reference.
    stroke(page, [(0.5, 0.45), (0.52, 0.5)])
    after = read_back(page)
    assert page.evaluate(MAXIMA) == [after["features"][-1]["data"], None]
    assert "maxima" not in status.text_content()


@pytest.mark.browser
def test_no_probability_is_shown_as_a_certainty(position_page, page_models):
    # float32 softmax rounds a probability near 1 to exactly 1.0: the figure shows "> 99 %".
    page = position_page.page
    picker = page.locator(f"{PAD} select.cw-pad-digit")
    for index in range(len(PICKS)):
        picker.select_option(str(index))
        state = read_back(page)
        answers = page.locator(f"{PAD} .cw-pad-answer").all_text_contents()
        with torch.no_grad():
            for (name, model), answer in zip(page_models.items(), answers):
                logits = model(state["x"][None])[0]
                top = int(logits.argmax())
                p = float(torch.softmax(logits.double(), 0)[top])
                percent = round(100 * p)
                shown = "> 99 %" if percent >= 100 else "< 1 %" if percent <= 0 else f"{percent} %"
                assert answer == f"{top}: {shown}", (name, index, answer)
                assert "100 %" not in answer
    # Class scores 20 apart: the top probability is 1 - 9e^-20, which float32 rounds to 1.
    page.locator(f"{PAD} select.cw-pad-digit").select_option("3")
    scores = [0.0] * 10
    scores[6] = 20.0
    p = float(torch.softmax(torch.tensor(scores, dtype=torch.float64), 0)[6])
    assert p < 1 and float(np.float32(p)) == 1.0
    result = page.evaluate(WITH_SCORES, scores)
    assert result["top"] == 6 and result["answer"] == "6: > 99 %"
    assert result["probabilities"][6] == pytest.approx(p, abs=1e-12)


@pytest.mark.browser
def test_the_answer_is_the_largest_score_even_where_probabilities_tie(position_page):
    # Two class scores a float32 denormal apart: their probabilities are equal, the
    # scores are not, and the answer is the larger score's class.
    page = position_page.page
    page.locator(f"{PAD} select.cw-pad-digit").select_option("3")
    scores = [-10.0] * 10
    scores[2], scores[7] = 0.0, 1.4e-45   # the smallest float32 above 0
    result = page.evaluate(WITH_SCORES, scores)
    assert result["logits"][7] > result["logits"][2] and result["probabilities"][7] == result["probabilities"][2]
    assert result["top"] == int(torch.tensor(result["logits"]).argmax()) == 7
    assert result["answer"].startswith("7: ")


@pytest.mark.browser
def test_the_guide_square_is_centred_on_the_canvas(position_page):
    page = position_page.page
    side, guide = 16, 8
    canvas = page.locator(f"{PAD} canvas.cw-pad-canvas").bounding_box()
    box = page.locator(f"{PAD} .cw-pad-guide").bounding_box()
    cell = canvas["width"] / side
    at = (side - guide) // 2 * cell
    assert box["x"] - canvas["x"] == pytest.approx(at, abs=cell / 4)
    assert box["y"] - canvas["y"] == pytest.approx(at, abs=cell / 4)
    assert box["width"] == pytest.approx(guide * cell, abs=cell / 4)
    assert box["height"] == pytest.approx(guide * cell, abs=cell / 4)


@pytest.mark.browser
def test_moving_stops_at_the_edge_and_says_so(position_page, page_models):
    page = position_page.page
    clear(page)
    canvas = page.locator(f"{PAD} canvas.cw-pad-canvas")
    page.locator(f"{PAD} select.cw-pad-digit").select_option("0")
    x = read_back(page)["x"]
    cols = x[0].sum(dim=0).nonzero().flatten()
    room = int(cols[0])
    for _ in range(room):
        canvas.press("ArrowLeft")
    at_edge = read_back(page)
    torch.testing.assert_close(at_edge["x"], compute.data.shift_inside(x[None], 0, -room)[0], rtol=0, atol=0)
    assert page.locator(f"{PAD} .cw-pad-message").text_content() == ""
    canvas.press("ArrowLeft")
    refused = read_back(page)
    torch.testing.assert_close(refused["x"], at_edge["x"], rtol=0, atol=0)
    assert refused["offset"] == [0, -room]
    assert "touches the left edge" in page.locator(f"{PAD} .cw-pad-message").text_content()
    assert "touches the left edge" in page.locator(f"{PAD} .cw-pad-status").text_content()
    # Dragging in move mode moves by whole pixels, and stops at the edge too.
    page.locator(f"{PAD} button.cw-pad-mode", has_text="Move").click()
    assert page.locator(f"{PAD} button.cw-pad-mode", has_text="Move").get_attribute("aria-pressed") == "true"
    box = canvas.bounding_box()
    cell = box["width"] / 16
    start = canvas_point(page, 0.5, 0.5)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] + 3 * cell, start[1] + 1 * cell, steps=5)
    page.mouse.up()
    dragged = read_back(page)
    torch.testing.assert_close(dragged["x"], compute.data.shift_inside(at_edge["x"][None], 1, 3)[0], rtol=0, atol=0)
    assert_matches_pytorch(dragged, page_models)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] - 8 * cell, start[1], steps=5)
    page.mouse.up()
    assert read_back(page)["x"][0].sum(dim=0)[0] > 0, "stopped with the ink at the left edge"
    assert "touches the left edge" in page.locator(f"{PAD} .cw-pad-message").text_content()
    page.locator(f"{PAD} button.cw-pad-mode", has_text="Draw").click()


@pytest.mark.browser
@pytest.mark.parametrize("key, edge, dy, dx", [("ArrowLeft", "left", 0, -1), ("ArrowRight", "right", 0, 1),
                                               ("ArrowUp", "top", -1, 0), ("ArrowDown", "bottom", 1, 0)])
def test_moving_stops_at_every_edge_with_all_the_ink(position_page, key, edge, dy, dx):
    page = position_page.page
    canvas = page.locator(f"{PAD} canvas.cw-pad-canvas")
    page.locator(f"{PAD} select.cw-pad-digit").select_option("0")
    x = read_back(page)["x"]
    rows, cols = x[0].sum(dim=1).nonzero().flatten(), x[0].sum(dim=0).nonzero().flatten()
    room = {"left": int(cols[0]), "right": 15 - int(cols[-1]), "top": int(rows[0]), "bottom": 15 - int(rows[-1])}
    for _ in range(12):
        canvas.press(key)
    state = read_back(page)
    r = room[edge]
    torch.testing.assert_close(state["x"], compute.data.shift_inside(x[None], dy * r, dx * r)[0], rtol=0, atol=0)
    assert state["offset"] == [dy * r, dx * r]
    assert f"touches the {edge} edge" in page.locator(f"{PAD} .cw-pad-message").text_content()
    assert f"touches the {edge} edge" in page.locator(f"{PAD} .cw-pad-status").text_content()


@pytest.mark.browser
def test_picking_a_test_digit_loads_exactly_that_digit(position_page, page_models):
    page = position_page.page
    picker = page.locator(f"{PAD} select.cw-pad-digit")
    for index in (2, 7, 9):
        picker.select_option(str(index))
        state = read_back(page)
        torch.testing.assert_close(state["x"], DIGITS[index], rtol=0, atol=0)
        assert state["digit"] == index and state["offset"] == [0, 0]
        assert picker.locator("option:checked").text_content() == f"a {int(LABELS[index])}"
        assert_matches_pytorch(state, page_models)
        assert f"test digit: a {int(LABELS[index])}." in \
            page.locator(f"{PAD} canvas.cw-pad-canvas").get_attribute("aria-label")


@pytest.mark.browser
def test_every_control_has_a_name_and_axe_finds_nothing(position_page):
    page = position_page.page
    names = page.evaluate("""() => {
        const root = document.querySelector('.cw-digit-pad');
        const named = (e) => (e.getAttribute('aria-label') || '').trim()
            || (e.tagName === 'BUTTON' && e.textContent.trim())
            || (e.id && root.querySelector(`label[for="${e.id}"]`)?.textContent.trim()) || '';
        return [...root.querySelectorAll('button, select, canvas')].map(e => [e.tagName, named(e)]);
    }""")
    assert sorted(tag for tag, _ in names) == ["BUTTON"] * 3 + ["CANVAS"] * 4 + ["SELECT"]
    assert all(name for _, name in names), names
    page.add_script_tag(path=str(ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"))
    violations = page.evaluate("""async () => (await axe.run('.cw-digit-pad', {resultTypes: ['violations']}))
        .violations.map(v => ({id: v.id, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))""")
    assert violations == []
    # Every control is reached with the Tab key.
    canvas = page.locator(f"{PAD} canvas.cw-pad-canvas")
    assert canvas.get_attribute("tabindex") == "0"
    page.locator(f"{PAD} select.cw-pad-digit").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.classList.contains('cw-pad-canvas')")


@pytest.mark.browser
def test_the_figure_fits_a_phone(browser, site_url):
    visit = LiveVisit(browser, f"{site_url}/book/10_position.html")
    try:
        visit.page.set_viewport_size({"width": 390, "height": 844})
        visit.wait_for_widgets()
        # The figure's top 100 pixels down the screen: as laid out, before any part of it sticks.
        visit.page.evaluate("(s) => window.scrollBy(0, document.querySelector(s).getBoundingClientRect().top - 100)",
                            PAD)
        box = visit.page.locator(PAD).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert visit.page.evaluate("() => document.documentElement.scrollWidth") <= 390
        canvas = visit.page.locator(f"{PAD} canvas.cw-pad-canvas").bounding_box()
        answers = visit.page.locator(f"{PAD} .cw-pad-predictions").bounding_box()
        buttons = visit.page.locator(f"{PAD} .cw-pad-controls").bounding_box()
        # The answers come first, in one row, then the buttons, then the canvas, all within one screen.
        assert answers["y"] + answers["height"] <= buttons["y"] < canvas["y"], "answers above the canvas"
        assert canvas["y"] + canvas["height"] - answers["y"] <= 844 - 56, "answers and canvas on one screen"
        assert len({round(card["y"]) for card in (visit.page.locator(f"{PAD} .cw-pad-card").nth(i).bounding_box()
                                                  for i in range(3))}) == 1, "the answers in one row"
        assert math.isclose(canvas["width"], canvas["height"], abs_tol=1) and canvas["width"] >= 250
    finally:
        visit.close()


@pytest.mark.browser
def test_on_a_phone_the_answers_stay_in_view_while_the_controls_are_used(browser, site_url):
    visit = LiveVisit(browser, f"{site_url}/book/10_position.html")
    try:
        visit.page.set_viewport_size({"width": 390, "height": 844})
        visit.wait_for_widgets()
        assert results_out_of_view(visit.page, f"{PAD} :is(button, select, canvas.cw-pad-canvas)",
                                   f"{PAD} .cw-pad-predictions") == []
    finally:
        visit.close()


@pytest.mark.browser
def test_a_finger_draws_on_a_phone(browser, site_url, page_models):
    # Touch events as a phone's screen sends them (Chrome turns them into pointer
    # events of type "touch"); the canvas takes them instead of scrolling the page.
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = context.new_page()
    try:
        page.goto(f"{site_url}/book/10_position.html")
        page.wait_for_function(f"() => {WIDGETS_DRAWN}", timeout=15_000)
        page.locator(f"{PAD} canvas.cw-pad-canvas").scroll_into_view_if_needed()
        clear(page)   # the pad opens on a test digit: only the finger's ink is left to see
        page.evaluate("""() => { window.__types = new Set();
            document.querySelector('.cw-pad-canvas')
                .addEventListener('pointermove', e => window.__types.add(e.pointerType)); }""")
        scroll = page.evaluate("() => window.scrollY")
        cdp = context.new_cdp_session(page)
        points = [canvas_point(page, u, v) for u, v in [(0.4, 0.3), (0.5, 0.4), (0.55, 0.55), (0.45, 0.7)]]
        for i, (x, y) in enumerate(points):
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove" if i else "touchStart",
                                                  "touchPoints": [{"x": x, "y": y}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        assert page.evaluate("() => [...window.__types]") == ["touch"]
        state = read_back(page)
        assert float(state["x"].sum()) > 1, "the finger drew"
        assert_matches_pytorch(state, page_models)
        assert page.evaluate("() => window.scrollY") == scroll, "the page did not scroll"
    finally:
        context.close()


@pytest.mark.browser
def test_the_digit_page_stays_on_its_origin_without_console_errors(position_page):
    # Last of the tests on this page.
    assert position_page.foreign == []
    assert position_page.failed == [] and position_page.bad_status == []
    assert position_page.unexpected_errors() == []
    assert position_page.console_errors == []


@pytest.mark.build
def test_the_draw_a_digit_section_quotes_the_figure(executed):
    from conftest import glued

    g = glued(executed, "book/10_position")
    assert int(g["pad_side"]) == 16 and int(g["pad_box"]) == 8 and int(g["pad_maxima"]) == C2
    # "exactly the same if the ink stays at least N pixels from every edge before and
    # after the move": N is the smallest margin the sweep finds exact.
    net = tn.build("convolutional", seed=0)
    margin, stride = int(g["pad_margin"]), int(g["pad_stride"])
    assert margin == smallest_exact_margin() == reach_margin(net)
    assert int(g["pad_reach"]) == net[0].kernel_size[0] // 2 and stride == net[2].stride
    # "a small digit, at most M pixels tall and wide, in the middle", moved by the
    # stride either way, keeps that margin; one a pixel larger cannot.
    small = int(g["pad_small"])
    assert small >= 4
    for size, keeps in [(small, True), (small + 1, False)]:
        top = (16 - size) // 2
        assert (min(top, 16 - size - top) - stride >= margin) == keeps
    # "A digit as large as the square comes closer to an edge than that when it moves."
    assert (16 - int(g["pad_box"])) // 2 - stride < margin
    # Test digits moved by 2 keeping their maxima: the range quoted is over the seeds.
    same = ast.literal_eval(g["even_same_values"])
    assert len(same) >= 5 and max(same) < 1
    assert g["even_same_low"] == f"{min(same):.1%}" and g["even_same_high"] == f"{max(same):.1%}"
    # "nearly as well as unmoved ones": within 5 points of the unmoved accuracy on average.
    even = ast.literal_eval(g["moved_conv_even_values"])
    unmoved = ast.literal_eval(g["centred_conv_values"])
    assert np.mean(unmoved) - 0.05 < np.mean(even) <= np.mean(unmoved) + 0.01


# --------------------------------------------------------------------------
# The same figure in JupyterLab with a kernel: the reader's drawing reaches Python.

LAB_NOTEBOOK = two_cell_notebook(
    ["from widgets import compute, controls\n",
     "from widgets.compute import trained_networks as tn\n",
     "split = compute.data.digit_split(canvas=16, seed=0)\n",
     "pad = controls.digit_pad({n: tn.build(n) for n in tn.MODELS},\n",
     "                         split.test_images[:3], split.test_labels[:3], guide=8)\n",
     "pad"],
    ["print(f'ink {float(pad.image_tensor().sum()):.4f} digit {pad.digit}')"])


@pytest.mark.browser
def test_the_pad_works_in_jupyterlab_and_sends_the_drawing_back(browser, tmp_path_factory):
    with notebook_in_lab(browser, tmp_path_factory, "pad", LAB_NOTEBOOK) as lab:
        page = lab.page
        lab.run_first_cell()
        page.locator(f".jp-OutputArea-output {PAD} canvas.cw-pad-canvas").wait_for(timeout=120_000)
        page.locator(f".jp-OutputArea-output {PAD}").scroll_into_view_if_needed()
        stroke(page, [(0.4, 0.3), (0.6, 0.5), (0.45, 0.7)])
        ink = float(read_back(page)["x"].sum())
        assert ink > 0
        lab.run_cell(1, f"ink {ink:.4f} digit -1")
        page.locator(f"{PAD} select.cw-pad-digit").select_option("1")
        x = read_back(page)["x"]
        lab.run_cell(1, f"ink {float(x.sum()):.4f} digit 1")
        assert lab.foreign == [], f"JupyterLab asked other hosts for: {lab.foreign}"
