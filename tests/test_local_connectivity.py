"""widgets.compute.local_connectivity and widgets.draw.local_connectivity, and chapter 2's numbers."""



import matplotlib.pyplot as plt
import pytest
import torch
from conftest import glued
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from widgets.compute import local_connectivity as lc
from widgets.draw import local_connectivity as draw_lc
from widgets.draw import style


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 2), c=st.integers(1, 3), o=st.integers(1, 3), size=st.integers(3, 9),
       k=st.integers(1, 3), stride=st.integers(1, 3), padding=st.integers(0, 1), seed=st.integers(0, 99))
def test_tied_kernels_equal_conv2d(n, c, o, size, k, stride, padding, seed):
    torch.manual_seed(seed)
    conv = torch.nn.Conv2d(c, o, k, stride=stride, padding=padding).double()
    local = lc.LocallyConnected2d.from_conv(conv, (size, size + 1))
    x = torch.randn(n, c, size, size + 1, dtype=torch.float64)
    assert torch.allclose(local(x), conv(x), atol=1e-12)


def test_only_tied_kernels_move_the_response_with_the_input():
    torch.manual_seed(0)
    x = torch.zeros(1, 1, 10, 10)
    x[0, 0, 2:4, 2:4] = 1.0
    moved = torch.roll(x, shifts=(3, 3), dims=(2, 3))
    tied = lc.LocallyConnected2d.from_conv(torch.nn.Conv2d(1, 1, 3, bias=False), 10)
    untied = lc.LocallyConnected2d(1, 1, 10, 3, bias=False)
    for layer, follows in ((tied, True), (untied, False)):
        with torch.no_grad():
            shifted_response = torch.roll(layer(x), shifts=(3, 3), dims=(2, 3))
            assert torch.allclose(layer(moved), shifted_response, atol=1e-6) is follows


def test_gradient_reaches_every_per_position_kernel():
    torch.manual_seed(0)
    local = lc.LocallyConnected2d(2, 3, (7, 6), 3, stride=2, padding=1)
    local(torch.rand(2, 2, 7, 6) + 0.1).square().sum().backward()
    per_position = local.weight.grad.abs().sum(dim=(2, 3, 4, 5))
    assert per_position.shape == local.output_size
    assert bool((per_position > 0).all())
    assert bool((local.bias.grad != 0).all())


@pytest.mark.parametrize("c, o, size, k, stride, padding", [(1, 1, 4, 2, 2, 0), (3, 8, 32, 3, 1, 0),
                                                            (3, 96, 227, 11, 4, 0), (2, 5, 10, 3, 2, 1)])
def test_parameters_held_matches_closed_form(c, o, size, k, stride, padding):
    out = (size + 2 * padding - k) // stride + 1
    layer = lc.LocallyConnected2d(c, o, size, k, stride, padding, device="meta")
    assert layer.output_size == (out, out)
    assert lc.parameters_held(layer) == out * out * o * (c * k * k + 1)
    assert layer.weight.is_meta


@pytest.mark.parametrize("kwargs, name", [
    ({"kernel_size": 7}, "kernel_size"),          # larger than the 6-pixel input with no padding
    ({"kernel_size": 0}, "kernel_size"),
    ({"in_channels": 0}, "in_channels"),
    ({"out_channels": -1}, "out_channels"),
    ({"stride": 1.5}, "stride"),
    ({"padding": -1}, "padding"),
    ({"input_size": (6, 6, 6)}, "input_size"),
    ({"input_size": 0}, "input_size"),
    ({"kernel_size": True}, "kernel_size"),
])
def test_bad_arguments_raise_value_error_naming_them(kwargs, name):
    args = {"in_channels": 1, "out_channels": 1, "input_size": 6, "kernel_size": 3} | kwargs
    with pytest.raises(ValueError, match=name):
        lc.LocallyConnected2d(**args)


def test_padding_allows_a_kernel_as_large_as_the_padded_input():
    assert lc.LocallyConnected2d(1, 1, 4, 6, padding=1).output_size == (1, 1)


def test_forward_rejects_inputs_of_the_wrong_shape():
    layer = lc.LocallyConnected2d(2, 1, 6, 3)
    with pytest.raises(ValueError, match="x must have shape"):
        layer(torch.zeros(1, 2, 7, 6))
    with pytest.raises(ValueError, match="x must have shape"):
        layer(torch.zeros(1, 3, 6, 6))


def test_from_conv_rejects_what_it_cannot_copy():
    with pytest.raises(ValueError, match="conv"):
        lc.LocallyConnected2d.from_conv(torch.nn.Conv2d(1, 1, 3, dilation=2), 8)
    with pytest.raises(ValueError, match="conv"):
        lc.LocallyConnected2d.from_conv(torch.nn.Linear(3, 3), 8)


@pytest.mark.parametrize("c, size, o, k", [(1, 16, 1, 3), (3, 224, 64, 3), (1, 4, 1, 2), (3, 32, 8, 5)])
def test_counts_from_modules_equal_closed_forms(c, size, o, k):
    assert lc.layer_counts(c, size, o, k) == lc.closed_form_counts(c, size, o, k)


def test_counts_by_hand():
    counts = lc.layer_counts(1, 16, 1, 3)
    assert counts["dense"]["weights"] == 256 * 196
    assert counts["locally connected"]["parameters"] == 196 * 10
    assert counts["convolution"]["parameters"] == 10
    assert counts["convolution"]["multiply_adds"] == counts["locally connected"]["multiply_adds"] == 196 * 9


def test_layer_trio_shares_shapes():
    trio = lc.layer_trio(2, 9, 3, 3)
    x = torch.rand(2, 2, 9, 9)
    assert {tuple(layer(x).shape) for layer in trio.values()} == {(2, 3, 7, 7)}


@pytest.mark.parametrize("row, col", [(0, 0), (5, 6), (13, 13)])
def test_connected_inputs_are_the_patch_or_everything(row, col):
    torch.manual_seed(0)
    trio = lc.layer_trio(1, 16, 2, 3)
    for name, layer in trio.items():
        mask = lc.connected_inputs(layer, (1, 16, 16), 1, row, col)
        if name == "dense":
            assert int(mask.sum()) == 256
        else:
            expected = torch.zeros(1, 16, 16, dtype=torch.bool)
            expected[0, row:row + 3, col:col + 3] = True
            assert torch.equal(mask, expected), name


def test_connected_inputs_validates_the_unit():
    layer = torch.nn.Conv2d(1, 1, 3)
    with pytest.raises(ValueError, match="row"):
        lc.connected_inputs(layer, (1, 8, 8), 0, 6, 0)
    with pytest.raises(ValueError, match="input_shape"):
        lc.connected_inputs(layer, (8, 8), 0, 0, 0)


def test_unit_weights_pick_the_units_own_weights():
    torch.manual_seed(0)
    trio = lc.layer_trio(1, 8, 2, 3)
    w = lc.unit_weights(trio, 1, 2, 4)
    assert torch.equal(w["convolution"], trio["convolution"].weight[1, 0])
    assert torch.equal(w["locally connected"], trio["locally connected"].weight[2, 4, 1, 0])
    # The dense unit's weights, read as an image, reproduce its output on any input.
    x = torch.rand(1, 1, 8, 8)
    out = trio["dense"](x)[0, 1, 2, 4]
    assert torch.allclose((w["dense"] * x[0, 0]).sum() + trio["dense"][1].bias[(1 * 6 + 2) * 6 + 4], out, atol=1e-6)


def test_dense_layer_shapes_and_validation():
    layer = lc.dense_layer((3, 4, 5), (2, 3, 3))
    assert layer(torch.zeros(7, 3, 4, 5)).shape == (7, 2, 3, 3)
    with pytest.raises(ValueError, match="output_shape"):
        lc.dense_layer((3, 4, 5), (2, 3))


def test_seven_and_the_four_region_layer():
    seven = lc.seven()
    assert seven.shape == (4, 4) and float(seven[0].sum()) == 4.0
    regions = lc.LocallyConnected2d(1, 1, 4, 2, stride=2)
    masks = [lc.connected_inputs(regions, (1, 4, 4), 0, r, c)[0] for r in range(2) for c in range(2)]
    assert all(int(m.sum()) == 4 for m in masks)
    assert int(sum(m.int() for m in masks).max()) == 1, "the regions do not overlap"


def test_position_kernels_differ_only_without_sharing():
    torch.manual_seed(0)
    regions = lc.LocallyConnected2d(1, 1, 4, 2, stride=2)
    local = lc.position_kernels(regions)
    assert local.shape == (2, 2, 2, 2)
    assert torch.equal(local[1, 0], regions.weight.detach()[1, 0, 0, 0])
    assert len({tuple(k.flatten().tolist()) for k in local.flatten(0, 1)}) == 4
    conv = torch.nn.Conv2d(1, 1, 2, stride=2)
    shared = lc.position_kernels(conv, input_size=4)
    assert shared.shape == (2, 2, 2, 2)
    assert all(torch.equal(k, conv.weight.detach()[0, 0]) for k in shared.flatten(0, 1))
    tied = lc.position_kernels(lc.LocallyConnected2d.from_conv(conv, 4))
    assert torch.equal(tied, shared)
    assert lc.position_kernels(torch.nn.Conv2d(1, 1, 3, padding=1), input_size=5).shape == (5, 5, 3, 3)


@pytest.mark.parametrize("call, name", [
    (lambda: lc.position_kernels(torch.nn.Linear(2, 2)), "layer"),
    (lambda: lc.position_kernels(torch.nn.Conv2d(2, 1, 2), input_size=4), "layer"),
    (lambda: lc.position_kernels(lc.LocallyConnected2d(1, 3, 4, 2)), "layer"),
    (lambda: lc.position_kernels(torch.nn.Conv2d(1, 1, 2)), "input_size"),
    (lambda: lc.position_kernels(torch.nn.Conv2d(1, 1, 2), input_size=0), "input_size"),
    (lambda: lc.parameters_held("layer"), "module"),
])
def test_position_kernels_and_parameters_held_reject_bad_arguments(call, name):
    with pytest.raises(ValueError, match=f"^{name} must"):
        call()


def test_parameters_held_counts_frozen_parameters_too():
    layer = torch.nn.Linear(3, 2)
    layer.bias.requires_grad_(False)
    assert lc.parameters_held(layer) == 3 * 2 + 2


def test_figures_are_book_figures_outside_pyplot():
    before = plt.get_fignums()
    torch.manual_seed(0)
    trio = lc.layer_trio(1, 8, 1, 3)
    masks = {n: lc.connected_inputs(layer, (1, 8, 8), 0, 1, 1)[0] for n, layer in trio.items()}
    fig = draw_lc.connections(torch.rand(8, 8), masks, lc.unit_weights(trio, 0, 1, 1))
    assert isinstance(fig, Figure) and len(fig.axes) == 6
    assert "64 connections" in fig.axes[0].get_title() and "9 connections" in fig.axes[2].get_title()
    assert "64" in fig.alt
    fig2 = draw_lc.four_regions(lc.seven())
    assert len(fig2.axes) == 1 and len(fig2.axes[0].lines) == 16 + 4
    kernels = {"locally connected": torch.arange(16.0).view(2, 2, 2, 2) / 10,
               "convolution": torch.ones(2, 2, 2, 2)}
    fig4 = draw_lc.four_regions(lc.seven(), kernels)
    assert len(fig4.axes) == 1 + 8
    def printed(ax):
        return [t.get_text() for t in ax.texts if t.get_text()[0] in "+-"]

    # Axes: the four locally connected kernels, the four shared ones, then the diagram.
    assert printed(fig4.axes[3]) == ["+1.20", "+1.30", "+1.40", "+1.50"]   # unit 4's own kernel
    assert all(printed(ax) == ["+1.00"] * 4 for ax in fig4.axes[4:8])
    assert "+1.50" in fig4.alt
    with pytest.raises(ValueError, match="kernels"):
        draw_lc.four_regions(lc.seven(), {"convolution": torch.ones(4, 2, 2)})
    # The explorer's local kernels carry their values; the dense weights do not.
    assert len(fig.axes[4].texts) == 9 and len(fig.axes[5].texts) == 9 and not fig.axes[3].texts
    counts = [lc.layer_counts(1, s, 1, 3) for s in (8, 16)]
    fig3 = draw_lc.count_scaling([64, 256], counts)
    assert len(fig3.axes[0].lines) == 3
    # Overlapping lines (the two local layers' multiply-adds) differ in marker
    # and style; the one legend sits below the axes, covering no data.
    styles = {(ln.get_marker(), ln.get_linestyle()) for ln in fig3.axes[1].lines}
    assert len(styles) == 3
    fig3.canvas.draw()
    assert not fig3.axes[0].get_legend() and len(fig3.legends) == 1
    box = fig3.legends[0].get_window_extent()
    assert all(box.y1 < ax.get_window_extent().y0 for ax in fig3.axes)
    assert plt.get_fignums() == before


@pytest.mark.build
def test_local_connectivity_chapter_numbers(executed):
    g = glued(executed, "book/02_local_connectivity")
    m, n = 224 * 224, 222 * 222
    assert int(g["dense_224"]) == m * n + n
    assert int(g["local_224"]) == n * 9 + n
    assert int(g["conv_224"]) == 10
    assert float(g["macs_ratio_224"]) == pytest.approx(m / 9)
    assert int(g["regions_params"]) == 4 * (4 + 1)
    assert int(g["regions_dense"]) == 16 * 4 + 4
    assert int(g["regions_conv"]) == 2 * 2 + 1
    assert int(g["two_layer_inputs"]) == 25
    assert int(g["regions_distinct"]) == 4 and int(g["shared_distinct"]) == 1
    assert int(g["ex1_dense"]) == 30_720 and int(g["ex1_local"]) == 58_800
    assert int(g["ex1_patch"]) == 75 and int(g["ex1_outputs"]) == 784
    assert int(g["unit_frames"]) == 4 * 4 * 2
    assert int(g["positions_224"]) == 222 * 222
    # The locality prior, measured: neighbours alike, far pixels much less, shuffled pixels not at all;
    # the tail is not monotone (the rise at 48 pixels the prose reports).
    assert float(g["corr_1"]) > 0.8 and float(g["corr_down_1"]) > 0.8
    assert float(g["corr_1"]) > float(g["corr_8"]) > float(g["corr_32"])
    assert float(g["corr_32"]) < 0.15 < float(g["corr_48"])
    assert float(g["corr_shuffled_max"]) < 0.05
    assert float(g["corr_256_8"]) > float(g["corr_8"])    # finer sampling: correlated over more pixels
    # What locality costs: right prior, few examples suffice; wrong prior, no amount helps.
    assert float(g["edge_conv_4"]) < 1e-6 and float(g["edge_local_16"]) < 1e-6
    assert float(g["edge_dense_64"]) > 0.2 and float(g["edge_dense_256"]) < 0.01
    assert float(g["contrast_dense_1024"]) < 1e-6 < 0.2 < min(float(g["contrast_conv_1024"]),
                                                            float(g["contrast_local_1024"]))
    assert g["few_verdict"] == "ahead"     # the dense layer leaves more unexplained with 64 crops
    assert g["many_verdict"] == "behind"   # and less with 1,024 crops of the contrast target
    assert g["few_phrase"].startswith("more than") and g["many_phrase"].startswith("less than")
    assert float(g["contrast_local_4"]) > 1.0 > float(g["contrast_conv_4"])
    assert float(g["contrast_local_64"]) > float(g["contrast_local_256"]) > float(g["contrast_conv_256"]) - 0.05
    # The ceiling of the local layers on the contrast target: "about a third".
    assert 0.25 < float(g["contrast_local_1024"]) < 0.4 and 0.25 < float(g["contrast_conv_1024"]) < 0.4
    # Medians, with the spread of the 4-crop fits (why the table gives medians).
    assert float(g["contrast_local_4_low"]) < float(g["contrast_local_4"]) < float(g["contrast_local_4_high"])
    assert float(g["contrast_local_4_high"]) > 10 * float(g["contrast_local_4_low"])
    # Exercise 6: behind the convolution at 256 crops, ahead at 1,024 (errors: "ahead" = leaves more).
    assert g["cross_256_verdict"] == "ahead" and g["cross_256_phrase"].startswith("leaves more")
    assert g["cross_1024_verdict"] == "behind" and g["cross_1024_phrase"].startswith("leaves less")
    assert float(g["excess_256"]) == pytest.approx(float(g["contrast_local_1024"]) * 10 / 245)
    # Photo crops are low-dimensional; on white noise the dense layer follows 1 - n / 257.
    assert 100 < int(g["crop_components"]) < 160
    assert float(g["noise_dense_64"]) == pytest.approx(1 - 64 / 257, abs=0.03)
    assert float(g["noise_local_64"]) < 1e-6 and float(g["noise_conv_64"]) < 1e-6
    assert float(g["noise_dense_64"]) > float(g["edge_dense_64"]) + 0.2
    # Scrambled pixels: the dense layer is unchanged, the local layers collapse.
    assert float(g["scr_dense_64"]) == pytest.approx(float(g["edge_dense_64"]), abs=1e-4)
    assert float(g["scr_dense_1024"]) < 1e-6
    assert float(g["scr_local_1024"]) > 0.5 and float(g["scr_conv_1024"]) > 0.9
    assert g["scr_verdict"] == "ahead"     # scrambled, the locally connected layer leaves more
    # Exercise 4: depths at which a padded 3 x 3 stack sees the whole 16 x 16 crop.
    assert int(g["ex4_unpadded_7"]) == 225 and int(g["ex4_centre"]) == 8 and int(g["ex4_corner"]) == 15


def test_neighbour_correlation():
    ramp = torch.arange(10.0).expand(6, 10)            # every row the same ramp
    c = lc.neighbour_correlation(ramp, [1, 3])
    assert torch.allclose(c["across"], torch.ones(2, dtype=torch.float64))
    checker = (torch.arange(8).view(-1, 1) + torch.arange(8)) % 2 * 1.0
    c = lc.neighbour_correlation(checker, [1, 2])
    assert torch.allclose(c["across"], torch.tensor([-1.0, 1.0], dtype=torch.float64))
    assert torch.allclose(c["down"], torch.tensor([-1.0, 1.0], dtype=torch.float64))
    # "down" is "across" on the transposed image, and on a photograph the two differ.
    from widgets.compute import data
    photo = data.photo(32)[0]
    c, t = lc.neighbour_correlation(photo, [1, 5]), lc.neighbour_correlation(photo.T.contiguous(), [1, 5])
    assert torch.allclose(c["down"], t["across"]) and not torch.allclose(c["down"], c["across"])
    with pytest.raises(ValueError, match="^distances must be"):
        lc.neighbour_correlation(checker, [8])
    with pytest.raises(ValueError, match="^image must be"):
        lc.neighbour_correlation(checker[None], [1])


def test_locality_study_right_and_wrong_prior():
    edge = lc.locality_study("edge", [4, 300], [0, 1], test_size=32)
    assert set(edge) == set(lc.STUDY_LAYERS) and set(edge["dense"]) == {4, 300}
    assert max(edge["convolution"][4]) < 1e-12                   # 4 crops x 196 positions pin 10 numbers
    assert min(edge["dense"][4]) > 0.5 and max(edge["dense"][300]) < 1e-12   # 257 unknowns per output
    contrast = lc.locality_study("pixel minus mean", [300], [0, 1], test_size=32)
    assert max(contrast["dense"][300]) < 1e-12
    assert min(contrast["convolution"][300] + contrast["locally connected"][300]) > 0.2
    # Scrambling the inputs leaves the dense layer exactly as it was and breaks the local ones.
    scrambled = lc.locality_study("edge", [300], [0, 1], test_size=32, inputs="scrambled")
    assert max(scrambled["dense"][300]) < 1e-12 and min(scrambled["convolution"][300]) > 0.9
    noise = lc.locality_study("edge", [64], [0, 1], test_size=32, inputs="noise")
    assert min(noise["dense"][64]) > 0.6 and max(noise["convolution"][64]) < 1e-12
    with pytest.raises(ValueError, match="^inputs must be"):
        lc.locality_study("edge", [4], [0, 1], inputs="shuffled")
    assert 100 < lc.crop_components(512) < 160
    with pytest.raises(ValueError, match="^share must be"):
        lc.crop_components(share=1.0)
    with pytest.raises(ValueError, match="^target must be"):
        lc.locality_study("mean", [4], [0, 1])
    with pytest.raises(ValueError, match="^sizes must hold"):
        lc.locality_study("edge", [], [0, 1])


def test_draw_neighbour_correlation():
    before = plt.get_fignums()
    fig = draw_lc.neighbour_correlation([1, 2, 4], {"along rows": [0.9, 0.7, 0.5], "shuffled pixels": [0.0, 0.01, 0.0]})
    ax = fig.get_axes()[0]
    assert len(ax.lines) == 3 and ax.lines[1].get_linestyle() == "--"
    assert "along rows from 0.90 at 1 to 0.50 at 4" in fig.alt
    with pytest.raises(ValueError, match="^curves must"):
        draw_lc.neighbour_correlation([1, 2], {"a": [1.0]})
    assert plt.get_fignums() == before


def _explorer_frame(kernel_size):
    """A frame of chapter 2's explorer (fig-unit-connections): unit (4, 4) of a 16 x 16 photograph."""
    from widgets.compute import data

    torch.manual_seed(0)
    trio = lc.layer_trio(in_channels=1, image_size=16, out_channels=1, kernel_size=kernel_size)
    masks = {name: lc.connected_inputs(layer, (1, 16, 16), 0, 4, 4)[0] for name, layer in trio.items()}
    return draw_lc.connections(data.photo(16)[0], masks, lc.unit_weights(trio, 0, 4, 4))


def _values_outside_their_cells(fig):
    """The printed kernel values whose box does not lie inside their cell, less a pixel's margin; and how many."""
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw_without_rendering()
    outside, printed = [], 0
    for ax in fig.axes:
        for text in ax.texts:
            j, i = text.get_position()
            corners = ax.transData.transform([(j - 0.5, i + 0.5), (j + 0.5, i - 0.5)])
            cell = Bbox(corners).padded(-1.0)
            box = text.get_window_extent(renderer)
            printed += 1
            if not (cell.x0 <= box.x0 and box.x1 <= cell.x1 and cell.y0 <= box.y0 and box.y1 <= cell.y1):
                outside.append((text.get_text(), round(box.width, 1), round(cell.width, 1)))
    return outside, printed


@pytest.mark.parametrize("kernel_size", [3, 5, 7])
def test_explorer_values_fit_their_cells_on_the_page_and_on_a_phone(kernel_size):
    """Every value printed on a kernel lies inside its cell, at no less than the book's smallest text.

    The explorer offers 3 and 5, and prints all their values; larger kernels print what fits.
    """
    fig = _explorer_frame(kernel_size)
    style.legible(fig)
    floor = style.min_font_points(fig.get_figwidth())
    texts = [t for ax in fig.axes for t in ax.texts]
    assert all(t.get_fontsize() >= floor - 1e-9 for t in texts)
    if kernel_size <= 5:
        assert len(texts) == 2 * kernel_size ** 2   # both local kernels carry their values
    for drawing in ("page", "phone"):
        undo = style.narrow_layout(fig) if drawing == "phone" else None
        assert drawing == "page" or undo is not None, "the phone has a drawing of its own"
        outside, printed = _values_outside_their_cells(fig)
        assert printed == len(texts)
        assert not outside, f"{drawing}, kernel {kernel_size}: values wider than their cells {outside[:3]}"
        if undo is not None:
            undo()
