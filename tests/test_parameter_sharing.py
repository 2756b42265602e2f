"""widgets.compute.parameter_sharing and widgets.draw.parameter_sharing, and chapter 3's numbers."""



import matplotlib.pyplot as plt
import pytest
import torch
from conftest import glued
from test_controls import framed
from test_style import laid_out, texts_outside

from widgets.compute import (
    conv_layer,
    training,
)
from widgets.compute import local_connectivity as lc
from widgets.compute import parameter_sharing as ps
from widgets.draw import parameter_sharing as draw_ps


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


@pytest.mark.parametrize("image_size, in_channels, out_channels, kernel_size",
                         [(28, 1, 16, 3), (28, 3, 64, 5), (128, 3, 16, 5), (224, 3, 64, 5), (224, 1, 16, 3)])
def test_the_bars_labels_end_inside_the_plot(image_size, in_channels, out_channels, kernel_size):
    # Frames of the chapter's explorer, from its smallest multiples to its largest (9,944,428×), measured as
    # the page draws them (text raised to the book's smallest size): no label runs across the plot's border.
    def count_frame(image_size, in_channels, out_channels, kernel_size):
        counts = lc.layer_counts(in_channels, image_size, out_channels, kernel_size)
        return draw_ps.parameter_bars({name: c["parameters"] for name, c in counts.items()}, image_size=image_size,
                                      in_channels=in_channels, out_channels=out_channels, kernel_size=kernel_size)

    fig = framed(count_frame, image_size=image_size, in_channels=in_channels, out_channels=out_channels,
                 kernel_size=kernel_size)
    renderer = laid_out(fig)
    ax = fig.axes[0]
    right = ax.get_window_extent(renderer).x1
    assert len(ax.texts) == 3
    assert all(t.get_window_extent(renderer).x1 <= right for t in ax.texts), [t.get_text() for t in ax.texts]
    assert texts_outside(fig, renderer) == []
    plt.close(fig)


# --------------------------------------------------------------------------- evidence from every position


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1)])
def test_shared_gradient_is_the_sum_of_per_position_gradients(stride, padding):
    torch.manual_seed(3)
    conv = torch.nn.Conv2d(2, 3, 3, stride=stride, padding=padding)
    x = torch.randn(2, 2, 9, 9)
    target = torch.randn_like(conv(x))
    shared, per_position = ps.weight_gradients(conv, x, target)
    assert shared.shape == conv.weight.shape
    assert per_position.shape == (*conv(x).shape[2:], *conv.weight.shape)
    assert torch.allclose(per_position.sum(dim=(0, 1)), shared, atol=1e-5)
    # The positions really disagree: no single one carries the whole gradient.
    assert not torch.allclose(per_position[0, 0] * per_position.shape[0] * per_position.shape[1], shared, atol=1e-3)


def test_weight_gradients_rejects_bad_arguments():
    conv = torch.nn.Conv2d(1, 1, 3)
    with pytest.raises(ValueError, match="^x must"):
        ps.weight_gradients(conv, torch.zeros(1, 1, 5, 6), torch.zeros(1, 1, 3, 4))
    with pytest.raises(ValueError, match="^target must"):
        ps.weight_gradients(conv, torch.zeros(1, 1, 5, 5), torch.zeros(1, 1, 2, 2))
    with pytest.raises(ValueError, match="^conv must"):
        ps.weight_gradients(torch.nn.Linear(2, 2), torch.zeros(1, 1, 5, 5), torch.zeros(1, 1, 3, 3))


# --------------------------------------------------------------------------- locality without stationarity


def test_stroke_task_places_the_strokes_and_labels_them():
    images, labels = ps.stroke_task(400, "aligned", seed=0, noise=0.0)
    assert images.shape == (400, 1, 10, 10) and labels.dtype == torch.int64
    strokes = torch.tensor(list(ps.STROKES.values()), dtype=torch.float32)
    (t0, l0), (t1, l1) = ps.SLOTS
    top = images[:, 0, t0:t0 + 3, l0:l0 + 3]
    bottom = images[:, 0, t1:t1 + 3, l1:l1 + 3]
    which_top = [next(i for i, s in enumerate(strokes) if torch.equal(s, t)) for t in top]
    which_bottom = [next(i for i, s in enumerate(strokes) if torch.equal(s, b)) for b in bottom]
    expected = [int(a == 0 or b == 2) for a, b in zip(which_top, which_bottom)]
    assert labels.tolist() == expected
    assert float(images.sum()) == pytest.approx(400 * 2 * 3)   # two strokes of three pixels, nothing else
    anywhere, labels2 = ps.stroke_task(400, "anywhere", seed=0, noise=0.0)
    assert torch.all(anywhere.sum(dim=(1, 2, 3)) == 3)
    bars = [bool((img[0] == 1).any(dim=1).logical_and((img[0] == 1).sum(dim=1) == 3).any()) for img in anywhere]
    assert labels2.tolist() == [int(b) for b in bars]
    assert 0.2 < labels.float().mean() < 0.6 and 0.15 < labels2.float().mean() < 0.35
    a, _ = ps.stroke_task(5, "aligned", seed=3)
    b, _ = ps.stroke_task(5, "aligned", seed=3)
    assert torch.equal(a, b)


@pytest.mark.parametrize("call, name", [
    (lambda: ps.stroke_task(0, "aligned", seed=0), "n"),
    (lambda: ps.stroke_task(5, "centred", seed=0), "task"),
    (lambda: ps.stroke_task(5, "aligned", seed=-1), "seed"),
    (lambda: ps.stroke_task(5, "aligned", seed=0, noise=-0.1), "noise"),
    (lambda: ps.half_detector("dense", seed=0), "kind"),
    (lambda: ps.prior_study(seeds=[]), "seeds"),
    (lambda: ps.prior_study(seeds=[0], n_train=0), "n_train"),
])
def test_locality_study_rejects_bad_arguments(call, name):
    with pytest.raises(ValueError, match=f"^{name} must"):
        call()


def test_half_detector_is_seeded_and_shares_only_when_convolutional():
    conv, local = ps.half_detector("convolution", 1), ps.half_detector("locally connected", 1)
    assert isinstance(conv[0], torch.nn.Conv2d) and isinstance(local[0], lc.LocallyConnected2d)
    assert conv[0].out_channels == 8 and conv[-1].in_features == 16
    assert conv(torch.zeros(3, 1, 10, 10)).shape == local(torch.zeros(3, 1, 10, 10)).shape == (3, 2)
    again = ps.half_detector("convolution", 1)
    assert all(torch.equal(p, q) for p, q in zip(conv.parameters(), again.parameters()))
    assert not torch.equal(ps.half_detector("convolution", 2)[0].weight, conv[0].weight)
    assert ps.half_detector("convolution", 0, filters=1)[0].weight.shape == (1, 1, 3, 3)


def test_hand_made_detectors_are_fixed_and_only_the_head_trains():
    kernels = ps.stroke_detectors()
    assert kernels.shape == (4, 3, 3) and torch.allclose(kernels.sum(dim=(1, 2)), torch.zeros(4), atol=1e-6)
    # Each detector responds most to its own stroke.
    strokes = torch.tensor(list(ps.STROKES.values()), dtype=torch.float32)
    assert torch.equal(torch.einsum("kij,sij->sk", kernels, strokes).argmax(dim=1), torch.arange(4))
    net = ps.half_detector("convolution", 0, kernels=kernels)
    assert torch.equal(net[0].weight[:, 0], kernels) and not net[0].weight.requires_grad
    x, y = ps.stroke_task(40, "anywhere", seed=0)
    training.train(net, x, y, seed=0, max_epochs=3)
    assert torch.equal(net[0].weight[:, 0], kernels) and float(net[0].bias.abs().sum()) == 0
    with pytest.raises(ValueError, match="^kind must"):
        ps.half_detector("locally connected", 0, kernels=kernels)
    with pytest.raises(ValueError, match="^kernels must"):
        ps.half_detector("convolution", 0, kernels=torch.zeros(2, 5, 5))
    with pytest.raises(ValueError, match="^filters must"):
        ps.half_detector("convolution", 0, filters=0)


def test_heads_and_untrained_controls():
    x = torch.randn(5, 1, 10, 10)
    flat = ps.half_detector("convolution", 0, head="flat")
    assert flat[-1].in_features == 8 * 64 and flat(x).shape == (5, 2)
    slots = ps.half_detector("locally connected", 0, filters=3, head="slots")
    maps = torch.relu(slots[0](x))
    assert torch.equal(slots[2](maps), torch.stack([maps[:, :, 1, 3], maps[:, :, 6, 4]], dim=2).flatten(1))
    frozen = ps.half_detector("convolution", 0, frozen=True)
    assert not frozen[0].weight.requires_grad and frozen[-1].weight.requires_grad
    assert torch.equal(frozen[0].weight, ps.half_detector("convolution", 0)[0].weight)
    with pytest.raises(ValueError, match="^head must"):
        ps.half_detector("convolution", 0, head="mean")
    with pytest.raises(ValueError, match="^frozen must"):
        ps.half_detector("convolution", 0, frozen=1)


def test_frozen_layers_train_their_head_on_cached_features_with_the_same_result():
    """prior_study trains only the head of a frozen network on precomputed features: same run as the whole net."""
    x, y = ps.stroke_task(300, "aligned", seed=100)
    x_test, y_test = ps.stroke_task(2000, "aligned", seed=101)
    net = ps.half_detector("convolution", 3, frozen=True)
    training.train(net, x, y, seed=3, max_epochs=300, batch_size=32, lr=0.03, tol=1e-3, patience=10)
    study = ps.prior_study(seeds=[3, 4], kinds=[ps.UNTRAINED["convolution"]], tasks=["aligned"])
    assert study.accuracy["aligned", "untrained convolution"].values[0] == pytest.approx(
        training.accuracy(net, x_test, y_test), abs=1e-3)


def test_stroke_task_base_rates():
    """A quarter of the anywhere images show the bar; 1 - (3/4)^2 of the aligned ones are positive."""
    _, y = ps.stroke_task(20_000, "anywhere", seed=5)
    assert float(y.float().mean()) == pytest.approx(0.25, abs=0.01)
    _, y = ps.stroke_task(20_000, "aligned", seed=5)
    assert float(y.float().mean()) == pytest.approx(7 / 16, abs=0.01)


@pytest.mark.parametrize("kwargs, name", [
    ({"kinds": ["dense"]}, "kinds"), ({"kinds": []}, "kinds"), ({"tasks": "aligned"}, "tasks"),
    ({"filters": 0}, "filters"), ({"filters": 65}, "filters"), ({"head": "mean"}, "head"),
    ({"fresh_data": 1}, "fresh_data"),
])
def test_prior_study_rejects_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name} must"):
        ps.prior_study(seeds=[0, 1], **kwargs)


def test_one_kernel_can_die_and_the_study_counts_it():
    """With one kernel, seed 2 on the anywhere task ends silent: a constant classifier."""
    study = ps.prior_study(seeds=[1, 2], filters=1, kinds=["convolution"], tasks=["anywhere"])
    fit = study.train_accuracy["anywhere", "convolution"].values
    _, y = ps.stroke_task(300, "anywhere", seed=200)
    assert study.silent["anywhere", "convolution"] == 1
    assert fit[1] == pytest.approx(1 - float(y.float().mean())) and fit[0] > 0.8
    assert study.majority == {"anywhere": pytest.approx(0.7385)}


def test_prior_study_figure():
    before = plt.get_fignums()
    spread = training.spread
    accuracy = {(t, k): spread([0.7, 0.8]) for t in ps.TASKS for k in (*ps.KINDS, ps.HAND_MADE, ps.LOGISTIC)}
    study = ps.PriorStudy(accuracy, {}, {}, (0, 1), 10, 10, 0.0, {"aligned": 0.56, "anywhere": 0.74})
    examples = {t: ps.stroke_task(4, t, seed=0) for t in ps.TASKS}
    fig = draw_ps.prior_study(study, examples)
    assert "aligned: convolution 75.0% (95% CI 11.5% to 138.5%)" in fig.alt
    assert "always the common label 74.0%" in fig.alt and "logistic regression 75.0%" in fig.alt
    bars = fig.axes[-1]
    assert len(bars.patches) == 4 and bars.get_ylabel() == "test accuracy, 2 seeds"
    labels = [t.get_text() for t in bars.get_legend().get_texts()]
    assert set(labels) == {"always the common label", "hand-made detectors", "logistic regression", "convolution",
                           "locally connected"}
    # The legend sits above the bars, inside the figure (at the size the page draws it): it covers no data.
    renderer = laid_out(fig)
    box = bars.get_legend().get_window_extent(renderer)
    assert box.y0 >= bars.get_window_extent(renderer).y1 and box.x1 <= fig.bbox.x1 and box.y1 <= fig.bbox.y1
    assert texts_outside(fig, renderer) == []
    assert plt.get_fignums() == before


@pytest.mark.build
def test_parameter_sharing_chapter_numbers(executed):
    g = glued(executed, "book/03_parameter_sharing")
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
    # The quoted "over 100,000 times" forgets the channels; the right ratio of weights is three times smaller.
    assert float(g["forgetful_ratio"]) == pytest.approx(77_070_336 / 576)
    assert round(float(g["forgetful_ratio"])) == 133_803
    assert float(g["weight_ratio"]) == pytest.approx(77_070_336 / 1_728)
    # AlexNet's input: 224 does not tile unpadded, 227 unpadded or 224 with padding 2 gives 55.
    assert float(g["alex_224_positions"]) == 54.25
    assert int(g["alex_224_padded"]) == int(g["alex_227"]) == 55 and int(g["alex_unused"]) == 1
    # Evidence from every position: the shared gradient is the sum of the per-position ones.
    assert int(g["tied_positions"]) == 30 * 30
    assert float(g["grad_gap"]) < 1e-4 * float(g["grad_scale"])
    # Equivariance: a shift of (5, 3) in is a shift of (5, 3) out.
    before, after = eval(g["peak_before"]), eval(g["peak_after"])
    assert (after[0] - before[0], after[1] - before[1]) == (5, 3)
    assert float(g["moved_gap"]) == 0.0
    # Locality without stationarity: every verdict the prose states, from paired intervals over seeds.
    assert int(g["prior_seeds"]) == 10 and int(g["prior_filters"]) == 8
    assert int(g["prior_conv_params"]) == 8 * 10 and int(g["prior_lc_params"]) == 64 * 8 * 10
    assert g["aligned_lc_conv_verdict"] == "ahead"        # aligned: locally connected ahead of the convolution
    assert g["aligned_conv_hand_verdict"] == "level"      # "does as well as shared detectors that know the strokes"
    assert g["aligned_lc_hand_verdict"] == "ahead"        # the locally connected layer beats even those
    assert g["anywhere_conv_lc_verdict"] == "ahead"       # anywhere: the order reverses
    assert g["anywhere_lc_majority_verdict"] == "ahead"   # "barely better than" always answering no ...
    assert float(g["anywhere_lc_mean"]) - 0.7385 < 0.05   # ... by less than 5 points
    assert g["aligned_logistic_conv_verdict"] == "level"  # "lands beside them"
    assert float(g["anywhere_logistic_mean"]) < 0.7385      # "falls below the common-label rule"
    assert float(g["anywhere_logistic_train_mean"]) < 0.9   # "cannot express 'a bar somewhere'"
    assert g["anywhere_conv_hand_verdict"] == "unresolved"  # "whether it falls short ... is not settled"
    assert g["anywhere_majority"] == "73.9%" and g["aligned_majority"] == "57.5%"
    # Knowing where to look: the hand-made detectors read at the slots do at least as well as the layer.
    assert g["aligned_lc_slots_verdict"] in ("behind", "level")
    assert float(g["aligned_hand_train_mean"]) < 0.95       # "fit only ... of their own training images"
    # Untrained controls: training the kernels helps both layers on both tasks ...
    for task in ("aligned", "anywhere"):
        for short in ("conv", "lc"):
            assert g[f"{task}_{short}_untrained_verdict"] == "ahead"
    # ... yet random frozen convolution kernels beat the trained locally connected layer anywhere.
    assert g["anywhere_untrained_conv_lc_verdict"] == "ahead"
    # The head: sharing plus pooling. With a flat head the aligned gap shrinks and the anywhere lead goes.
    assert g["aligned_conv_flat_max_verdict"] == "ahead" and g["anywhere_conv_flat_max_verdict"] == "behind"
    assert g["aligned_flat_lc_conv_verdict"] == "ahead"
    assert float(g["aligned_flat_gap_points"]) < float(g["aligned_gap_points"]) / 2
    assert g["anywhere_flat_conv_lc_verdict"] == "unresolved"
    # Every trained network fits its training images ("networks that trained"); none is silent.
    assert float(g["prior_min_train"].rstrip("%")) >= 99.0 and int(g["prior_silent"]) == 0
    for name in ("aligned_conv", "aligned_lc", "anywhere_conv", "anywhere_lc"):
        assert float(g[f"{name}_train_mean"]) > 0.99
        assert float(g[f"{name}_mean"]) > float(g[f"{name.split('_')[0]}_majority"].rstrip("%")) / 100 \
            or name == "anywhere_lc"
    # One kernel: some seeds die as constant classifiers, the failure the text reports.
    assert int(g["one_constant"]) >= 1 and int(g["one_silent"]) == int(g["one_constant"])
    assert float(g["one_test_mean"]) < float(g["anywhere_conv_mean"]) - 0.05
    assert 0.5 < float(g["bars_per_position"]) < 3
    assert int(g["ex1_tiled"]) == 4 * 34_944 == 139_776
    assert int(g["ex2_flops"]) == 210_830_400 and int(g["ex2_total"]) == 211_120_800
    assert int(g["ex2_units"]) == 290_400 and int(g["ex2_inputs"]) == 363
    assert int(g["ex2_macs"]) == 105_415_200
    assert float(g["corr_photo"]) > 0.7 and abs(float(g["corr_shuffled"])) < 0.1
