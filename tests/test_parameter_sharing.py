"""widgets.compute.parameter_sharing and widgets.draw.parameter_sharing, and chapter 3's numbers."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from conftest import glued  # noqa: E402
from widgets.compute import conv_layer, local_connectivity as lc, parameter_sharing as ps  # noqa: E402
from widgets.draw import parameter_sharing as draw_ps  # noqa: E402


def test_counts_of_the_worked_examples():
    assert ps.dense_parameters(224 * 224 * 3, 512) == 224 * 224 * 3 * 512 + 512 == 77_070_848
    assert ps.conv_parameters(3, 64, 3) == 64 * 27 + 64 == 1_792
    assert ps.dense_parameters(200 * 200 * 3, 1000) == 120_001_000
    assert ps.conv_parameters(3, 96, 11) == 96 * 364 == 34_944
    assert ps.unshared_parameters(3, 96, 227, 11, stride=4) == 55 * 55 * 96 * 364 == 105_705_600


def test_conv_parameters_do_not_depend_on_the_image_but_unshared_ones_do():
    assert ps.unshared_parameters(1, 1, 10, 3) == 8 * 8 * 10
    assert ps.unshared_parameters(1, 1, 20, 3) == 18 * 18 * 10
    assert ps.conv_parameters(1, 1, 3) == 10


@pytest.mark.parametrize("call, name", [
    (lambda: ps.dense_parameters(0, 5), "in_features"),
    (lambda: ps.dense_parameters(5, 2.0), "units"),
    (lambda: ps.conv_parameters(3, 0, 3), "out_channels"),
    (lambda: ps.unshared_parameters(3, 4, 8, 9), "kernel_size"),
    (lambda: ps.place_patch(torch.ones(3, 3), 8, 6, 0), "top"),
    (lambda: ps.place_patch(torch.ones(3, 3), 2, 0, 0), "canvas_size"),
    (lambda: ps.place_patch(torch.ones(3), 8, 0, 0), "patch"),
    (lambda: ps.learned_in_one_region(torch.ones(3, 3), 10, 9), "region"),
    (lambda: ps.shuffle_positions(torch.ones(3, 3), seed=-1), "seed"),
    (lambda: ps.neighbour_correlation(torch.ones(3, 1)), "values"),
])
def test_bad_arguments_raise_value_error_naming_them(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_place_patch():
    patch = torch.arange(6.0).view(2, 3)
    canvas = ps.place_patch(patch, 5, 3, 1)
    assert canvas.shape == (5, 5)
    assert torch.equal(canvas[3:5, 1:4], patch)
    assert float(canvas.sum()) == float(patch.sum())


def test_shared_detector_follows_the_patch_and_unshared_one_only_where_learned():
    kernel = conv_layer.hand_filter("horizontal edges")
    patch = torch.zeros(6, 6)
    patch[3:, :] = 1.0                     # a horizontal edge
    unshared = ps.learned_in_one_region(kernel, input_size=20, region=8, seed=0)
    inside = ps.detector_responses(ps.place_patch(patch, 20, 2, 2), kernel, unshared)
    outside = ps.detector_responses(ps.place_patch(patch, 20, 12, 12), kernel, unshared)
    # Shared: the response just moves with the patch (it is non-zero on outputs t-2 .. t+5).
    assert float(inside["convolution"].abs().sum()) > 0
    assert torch.equal(inside["convolution"][:8, :8], outside["convolution"][10:, 10:])
    # Unshared: identical to the convolution inside the learned block, different outside it.
    assert torch.allclose(inside["locally connected"][:8, :8], inside["convolution"][:8, :8])
    assert not torch.allclose(outside["locally connected"][10:, 10:], outside["convolution"][10:, 10:], atol=1e-3)


def test_learned_in_one_region_is_seeded():
    kernel = conv_layer.hand_filter("vertical edges")
    a = ps.learned_in_one_region(kernel, 12, 4, seed=3)
    b = ps.learned_in_one_region(kernel, 12, 4, seed=3)
    c = ps.learned_in_one_region(kernel, 12, 4, seed=4)
    assert torch.equal(a.weight, b.weight) and not torch.equal(a.weight, c.weight)
    assert torch.equal(a.weight[3, 3, 0, 0], kernel)


def test_neighbour_correlation_of_known_arrays():
    ramp = torch.arange(20.0).repeat(5, 1)        # each row 0..19: neighbours differ by one
    assert ps.neighbour_correlation(ramp) == pytest.approx(1.0)
    alternating = torch.tensor([[1.0, -1.0] * 5] * 4)
    assert ps.neighbour_correlation(alternating) == pytest.approx(-1.0)


def test_shuffle_positions_keeps_the_values_and_breaks_the_neighbours():
    photo = lc.seven().repeat(4, 4)
    shuffled = ps.shuffle_positions(photo, seed=1)
    assert torch.equal(shuffled.flatten().sort().values, photo.flatten().sort().values)
    assert torch.equal(shuffled, ps.shuffle_positions(photo, seed=1))


def test_figures():
    before = plt.get_fignums()
    fig = draw_ps.parameter_bars({"dense": 10_000, "locally connected": 500, "convolution": 10},
                                 image_size=8, in_channels=1, out_channels=1, kernel_size=3)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any("1,000×" in t for t in texts) and any("50×" in t for t in texts)
    assert fig.axes[0].get_xscale() == "log"
    responses = {"convolution": torch.zeros(6, 6), "locally connected": torch.ones(6, 6)}
    fig2 = draw_ps.detector_everywhere(torch.zeros(8, 8), responses, learned=3, top=1, left=2, patch=4)
    assert len(fig2.axes) == 3 and "row 1, column 2" in fig2.alt
    fig3 = draw_ps.scrambled(torch.zeros(4, 4), torch.zeros(4, 4), 0.8, 0.01)
    assert "0.80" in fig3.axes[0].get_title()
    assert plt.get_fignums() == before


@pytest.mark.build
def test_parameter_sharing_chapter_numbers(book_build):
    if book_build.executed is None:
        pytest.skip("CW_SITE set: no executed notebooks")
    g = glued(book_build.executed, "book/03_parameter_sharing")
    assert float(g["tied_gap"]) < 1e-5
    assert int(g["tied_params"]) == 30 * 30 * 8 * (27 + 1)
    assert int(g["conv_params"]) == 8 * 28
    assert int(g["dense_512_weights"]) == 77_070_336
    assert int(g["conv_64_weights"]) == 1_728 and int(g["conv_64_forgetful"]) == 576
    assert int(g["conv_64_params"]) == 1_792
    assert float(g["dense_conv_ratio"]) == pytest.approx(77_070_848 / 1_792)
    assert int(g["dense_1000_weights"]) == 120_000_000
    assert int(g["alex_shared"]) == 34_944 and int(g["alex_unshared"]) == 105_705_600
    assert float(g["alex_ratio"]) == pytest.approx(55 * 55)
    assert float(g["corr_photo"]) > 0.7 and abs(float(g["corr_shuffled"])) < 0.1
