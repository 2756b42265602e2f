"""widgets.compute.feature_hierarchy and widgets.draw.feature_hierarchy, and the chapter's numbers.

Receptive fields are checked against the support of an input gradient, top
patches against hand-made maps, the edge measures against patches whose
answer is known, and the chapter's glued numbers against the sentences that
quote them.
"""


import numpy as np
import pytest
import torch
from conftest import drawn_without_leak, glued
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.patches import Rectangle
from torch import nn

from widgets.compute import data, training
from widgets.compute import feature_hierarchy as fh
from widgets.compute import receptive_fields as rf
from widgets.draw import feature_hierarchy as dfh


@pytest.fixture(scope="module")
def split():
    return data.digit_split(canvas=32, scale=2)


@pytest.fixture(scope="module")
def trained(split):
    """The chapter's network trained for a few epochs on 400 digits (a few seconds): enough to learn something."""
    model = fh.hierarchy_network(seed=0)
    training.train(model, split.train_images[:400], split.train_labels[:400], seed=0, max_epochs=6,
                   batch_size=64, lr=0.003)
    return model


# --------------------------------------------------------------------------- the network


def test_network_geometry_and_fields():
    model = fh.hierarchy_network(seed=0)
    assert model(torch.zeros(2, 1, 32, 32)).shape == (2, 10)
    convs = [m for m in model if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == list(fh.CHANNELS)
    assert [c.kernel_size[0] for c in convs] == list(fh.KERNEL_SIZES)
    assert convs[0].bias is None and convs[1].bias is not None
    # By hand: 5; + 1 (pool, jump 1) = 6, jump 2; + 2 * 2 = 10; + 1 * 2 = 12, jump 4; + 2 * 4 = 20.
    got = [(f.size, f.jump, f.offset) for f in fh.fields(model)]
    assert got == [(5, 1, -2), (10, 2, -4), (20, 4, -8)]


@pytest.mark.parametrize("layer", [0, 1, 2])
def test_field_is_the_support_of_the_input_gradient(layer):
    """The unit in the middle of each map depends on exactly the square the calculator gives."""
    model = fh.hierarchy_network(seed=3).double()
    with torch.no_grad():
        for m in model:
            if isinstance(m, nn.Conv2d):  # positive weights: no path can cancel another
                m.weight.copy_(m.weight.abs() + 0.01)
                if m.bias is not None:
                    m.bias.fill_(1.0)
    x = (torch.rand(1, 1, 40, 40, generator=torch.Generator().manual_seed(0), dtype=torch.float64) + 0.5)
    x.requires_grad_(True)
    conv_at = [i for i, m in enumerate(model) if isinstance(m, nn.Conv2d)][layer]
    out = model[:conv_at + 2](x)
    r, c = out.shape[2] // 2, out.shape[3] // 2
    out[0, 0, r, c].backward()
    rows, cols = (x.grad[0, 0] != 0).nonzero(as_tuple=True)
    field = fh.fields(model)[layer]
    assert (int(rows.min()), int(cols.min())) == (field.start(r), field.start(c))
    assert int(rows.max()) - int(rows.min()) + 1 == field.size


def test_network_is_seeded_and_leaves_global_rng_alone():
    state = torch.random.get_rng_state()
    a, b, c = fh.hierarchy_network(5), fh.hierarchy_network(5), fh.hierarchy_network(6)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a[0].weight, c[0].weight)


@pytest.mark.parametrize("kwargs, match", [
    ({"seed": -1}, "^seed must be in"),
    ({"seed": 1.5}, "^seed must be an integer"),
    ({"channels": (8, 16)}, "^channels must be three positive integers"),
    ({"channels": (8, 0, 4)}, "^channels must be in"),
    ({"kernel_sizes": (4, 3, 3)}, "^kernel_sizes must be odd"),
    ({"kernel_sizes": "553"}, "^kernel_sizes must be three"),
])
def test_network_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fh.hierarchy_network(**kwargs)


# --------------------------------------------------------------------------- maps and patches


def test_hidden_maps_are_the_relu_outputs(split, trained):
    x = split.test_images[:5]
    maps = fh.hidden_maps(trained, x)
    assert [tuple(m.shape) for m in maps] == [(5, 8, 32, 32), (5, 16, 16, 16), (5, 32, 8, 8)]
    torch.testing.assert_close(maps[0], torch.relu(trained[0](x)))
    torch.testing.assert_close(maps[2], trained[:8](x))
    assert all(bool((m >= 0).all()) for m in maps)
    with pytest.raises(ValueError, match="^model must be a torch.nn.Sequential"):
        fh.hidden_maps(nn.Linear(2, 2), x)
    with pytest.raises(ValueError, match="^images must be 4-D"):
        fh.hidden_maps(trained, x[0])


def test_first_layer_is_zero_on_blank_canvas(trained):
    """No bias in layer 1: the background gives exactly zero, like the padding."""
    assert float(fh.hidden_maps(trained, torch.zeros(1, 1, 32, 32))[0].abs().max()) == 0.0
    kernels = fh.first_layer_kernels(trained)
    assert kernels.shape == (8, 5, 5) and torch.equal(kernels, trained[0].weight.detach()[:, 0])
    with pytest.raises(ValueError, match="^model must contain a torch.nn.Conv2d"):
        fh.first_layer_kernels(nn.Sequential(nn.Flatten()))


def test_top_patches_hand_example():
    """Three 6 x 6 images; a map whose channel 1 peaks at known places; a 3 x 3 field with offset -1."""
    images = torch.arange(3 * 36, dtype=torch.float32).view(3, 1, 6, 6)
    maps = torch.zeros(3, 2, 6, 6)
    maps[0, 1, 2, 3] = 5.0   # image 0 peaks at (2, 3)
    maps[1, 1, 0, 0] = 9.0   # image 1 peaks in the corner: its field hangs over the edge
    maps[2, 1, 4, 1] = 1.0
    field = rf.receptive_field([rf.Layer("conv", 3, padding=1)])
    top = fh.top_patches(images, maps, field, channel=1, k=2)
    assert top.images.tolist() == [1, 0] and top.values.tolist() == [9.0, 5.0]
    assert (top.rows.tolist(), top.cols.tolist()) == ([0, 2], [0, 3])
    torch.testing.assert_close(top.patches[1], images[0, 0, 1:4, 2:5])
    corner = torch.zeros(3, 3)
    corner[1:, 1:] = images[1, 0, :2, :2]
    torch.testing.assert_close(top.patches[0], corner)


def test_top_patches_one_per_image_and_dead_channels(split, trained):
    maps = fh.hidden_maps(trained, split.test_images)
    layer_fields = fh.fields(trained)
    top = fh.top_patches(split.test_images, maps[2], layer_fields[2], 0, k=8)
    assert top.patches.shape == (8, 20, 20)
    assert len(set(top.images.tolist())) == 8
    assert bool((top.values[:-1] >= top.values[1:]).all())
    best = maps[2][:, 0].flatten(1).max(dim=1).values
    assert float(top.values[0]) == float(best.max())
    # A channel forced to zero everywhere is dead, and its patches tie at zero in image order.
    fake = maps[1].clone()
    fake[:, 3] = 0
    dead = fh.dead_channels(fake)
    assert bool(dead[3]) and dead.shape == (16,)
    tied = fh.top_patches(split.test_images, fake, layer_fields[1], 3, k=4)
    assert tied.images.tolist() == [0, 1, 2, 3] and float(tied.values.abs().max()) == 0.0


@pytest.mark.parametrize("kwargs, match", [
    ({"channel": 8}, "^channel must be in"),
    ({"k": 0}, "^k must be in"),
    ({"field": (5, 1, -2)}, "^field must be a receptive_fields.Field"),
    ({"maps": torch.zeros(3, 8, 32, 32)}, "^maps must have one entry per image"),
    ({"images": torch.zeros(10, 2, 32, 32)}, "^images must have one channel"),
])
def test_top_patches_bad_arguments(kwargs, match):
    args = {"images": torch.zeros(10, 1, 32, 32), "maps": torch.zeros(10, 8, 32, 32),
            "field": rf.receptive_field([rf.Layer("conv", 5, padding=2)]), "channel": 0, "k": 3}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        fh.top_patches(**args)


# --------------------------------------------------------------------------- measures


def _top(patches, images=None):
    k = len(patches)
    return fh.TopPatches(patches, torch.ones(k), torch.arange(k) if images is None else images,
                         torch.zeros(k, dtype=torch.int64), torch.zeros(k, dtype=torch.int64))


def test_blank():
    assert fh.blank(_top(torch.zeros(3, 4, 4)))
    patches = torch.zeros(3, 4, 4)
    patches[2, 1, 1] = 0.1
    assert not fh.blank(_top(patches))
    with pytest.raises(ValueError, match="^top must be a TopPatches"):
        fh.blank(torch.zeros(3, 4, 4))


def test_class_purity():
    labels = torch.tensor([3, 3, 1, 3, 7, 3])
    assert fh.class_purity(_top(torch.zeros(4, 2, 2)), labels) == 0.75
    assert fh.class_purity(_top(torch.zeros(2, 2, 2), torch.tensor([0, 5])), labels) == 1.0
    with pytest.raises(ValueError, match="^labels must cover"):
        fh.class_purity(_top(torch.zeros(2, 2, 2), torch.tensor([0, 9])), labels)
    with pytest.raises(ValueError, match="^top must be a TopPatches"):
        fh.class_purity("patches", labels)


def test_ink_share():
    images = torch.zeros(2, 1, 8, 8)
    images[0, 0, :4] = 1.0    # 32 pixels of ink
    images[1, 0, 2, 2] = 1.0  # one pixel
    patches = torch.zeros(2, 4, 4)
    patches[0, :2] = 1.0      # 8 of image 0's 32
    patches[1, 0, 0] = 1.0    # all of image 1's ink
    assert fh.ink_share(images, _top(patches)) == pytest.approx((8 / 32 + 1.0) / 2)
    with pytest.raises(ValueError, match="^images must each hold some ink"):
        fh.ink_share(torch.zeros(2, 1, 8, 8), _top(patches))


@pytest.mark.parametrize("patch, contrast, orientation", [
    (torch.tensor([[1.0] * 5] * 2 + [[0.0] * 5] * 3), 1.0, "horizontal"),     # ink above, background below
    (torch.tensor([[0, 0, 1, 1, 1]] * 5, dtype=torch.float32), 1.0, "vertical"),
    (torch.triu(torch.ones(5, 5), diagonal=1), 1.0, "diagonal \\"),           # above the main diagonal
    (torch.triu(torch.ones(5, 5), diagonal=1).flip(1), 1.0, "diagonal /"),
    (torch.ones(5, 5), 0.0, "horizontal"),                                     # solid ink: no edge
])
def test_edge_contrast_and_orientation_on_known_patches(patch, contrast, orientation):
    assert fh.edge_contrast(patch) == pytest.approx(contrast)
    assert fh.edge_orientation(patch) == orientation


def test_edge_measures_bad_arguments():
    with pytest.raises(ValueError, match="^patch must be square"):
        fh.edge_contrast(torch.zeros(3, 4))
    with pytest.raises(ValueError, match="^patch must be 2-D"):
        fh.edge_orientation(torch.zeros(3))


def test_summarise_and_study(split):
    """A two-seed study of one epoch on 300 digits: the shapes, and measures that follow from the fields."""
    small = data.DigitSplit(split.train_images[:300], split.train_labels[:300],
                            split.test_images[:120], split.test_labels[:120])
    s = fh.study(small, [0, 1], max_epochs=1, channels=(4, 6, 8))
    assert s.seeds == (0, 1) and s.epochs == [1, 1] and s.converged == [False, False]
    assert all(0.0 <= a <= 1.0 for a in s.train_accuracy + s.test_accuracy)
    assert s.per_layer("ink_share").shape == (3, 2)
    assert s.per_layer("dead").shape == (3, 2) and s.per_layer("blank").shape == (3, 2)
    assert all(x.blank[0] == 0 and len(x.solid_ink) == x.live_first for x in s.summaries)
    share = s.per_layer("ink_share")
    # A 5 x 5 field holds only a little of a 16 x 16 digit; a 20 x 20 one can hold all of it.
    assert bool((share[0] < 0.3).all()) and bool((share[2] > share[0] + 0.2).all())
    assert all(0 <= x.edges <= x.live_first <= 4 for x in s.summaries)
    again = fh.hierarchy_network(1, channels=(4, 6, 8))
    training.train(again, small.train_images, small.train_labels, seed=1, max_epochs=1, batch_size=128,
                   lr=0.003)
    assert all(torch.equal(p, q) for p, q in zip(again.parameters(), s.models[1].parameters()))
    with pytest.raises(ValueError, match="^measure must be one of"):
        s.per_layer("purity")


@pytest.mark.parametrize("call, match", [
    (lambda sp: fh.study(sp, []), "^seeds must be a non-empty"),
    (lambda sp: fh.study(sp, [0, 0]), "^seeds must be distinct"),
    (lambda sp: fh.study(sp, [0], max_epochs=0), "^max_epochs must be in"),
    (lambda sp: fh.study("digits", [0]), "^split must be a data.DigitSplit"),
    (lambda sp: fh.summarise(fh.hierarchy_network(0), sp.test_images[:5], sp.test_labels[:4]), "^labels must be"),
    (lambda sp: fh.summarise(fh.hierarchy_network(0), sp.test_images[:5], sp.test_labels[:5], k=6), "^k must be in"),
    (lambda sp: fh.summarise(fh.hierarchy_network(0), sp.test_images[:5], sp.test_labels[:5],
                             edge_threshold=0), "^edge_threshold must be"),
])
def test_study_bad_arguments(split, call, match):
    with pytest.raises(ValueError, match=match):
        call(split)


# --------------------------------------------------------------------------- one dimension


def test_motif_is_a_slow_rise_then_a_sharp_fall():
    m = fh.motif(7)
    assert m.shape == (7,) and abs(float(m.sum())) < 1e-6
    peak, trough = int(m.argmax()), int(m.argmin())
    assert peak < trough and trough - peak <= 2
    assert bool((m[1:peak + 1] > m[:peak]).all())
    assert not torch.equal(m, m.flip(0))


def test_motif_signals_without_noise_hold_the_pattern():
    x, y, pos = fh.motif_signals(40, length=30, noise=0.0, seed=3)
    assert x.shape == (40, 1, 30) and int(y.sum()) == 20
    m = fh.motif()
    for signal, label, p in zip(x[:, 0], y, pos):
        expected = torch.zeros(30)
        expected[p:p + 7] = m if label else m.flip(0)
        assert torch.equal(signal, expected)
    signal = fh.motif_example(length=40, motif_at=(0, 20), decoy_at=(10,), noise=0.0)
    assert torch.equal(signal[0:7], m) and torch.equal(signal[20:27], m) and torch.equal(signal[10:17], m.flip(0))


@pytest.mark.parametrize("call, match", [
    (lambda: fh.motif_example(length=40, motif_at=(35,)), "^motif_at must be in"),
    (lambda: fh.motif_example(length=96, decoy_at=5), "^decoy_at must be a sequence"),
    (lambda: fh.motif_signals(4, noise=-1.0), "^noise must be"),
    (lambda: fh.motif_signals(4, length=10), "^length must be in"),
    (lambda: fh.motif_signals(1), "^n must be in"),
    (lambda: fh.motif(2), "^length must be in"),
    (lambda: fh.motif_detector(0), "^kernel_size must be in"),
    (lambda: fh.motif_responses(nn.Sequential(nn.Linear(2, 2)), torch.zeros(10)), "^detector must be"),
])
def test_motif_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_motif_detector_learns_and_responds_where_the_motif_is():
    x, y, _ = fh.motif_signals(512, seed=0)
    tx, ty, _ = fh.motif_signals(256, seed=1)
    detector = fh.motif_detector(7, seed=0)
    assert detector(x[:3]).shape == (3, 2)
    training.train(detector, x, y, seed=0, lr=0.05)
    assert training.accuracy(detector, tx, ty) > 0.9
    signal = fh.motif_example(length=96, motif_at=(12, 64), decoy_at=(38,), seed=2)
    responses = fh.motif_responses(detector, signal)
    assert responses.shape == (2, 90)
    torch.testing.assert_close(responses, nn.functional.conv1d(signal.view(1, 1, -1), detector[0].weight,
                                                              detector[0].bias)[0])
    assert min(abs(int(responses[1].argmax()) - p) for p in (12, 64)) <= 3
    assert abs(int(responses[0].argmax()) - 38) <= 3
    assert detector(torch.zeros(2, 1, 200)).shape == (2, 2)  # any length: the head is a maximum over time


# --------------------------------------------------------------------------- draw


def test_draw_channel_grid_marks_dead_channels():
    gen = torch.Generator().manual_seed(0)
    tops = [_top(torch.rand(6, 5, 5, generator=gen)) for _ in range(8)]
    dead = [False] * 8
    dead[3] = True
    tops[5] = _top(torch.zeros(6, 5, 5))  # live, but strongest where it sees only background
    kernels = torch.randn(8, 5, 5, generator=gen)
    fig = drawn_without_leak(dfh.channel_grid, tops, dead, layer=1, field=5, kernels=kernels)
    texts = [t.get_text() for ax in fig.get_axes() for t in ax.texts]
    assert sorted(texts) == ["blank canvas", "dead"]
    assert "; 1 channel is zero on every test digit and is marked dead" in fig.alt
    assert "the 6 test patches of 5 by 5" in fig.alt
    assert "; 1 channel responds most where it sees only blank canvas, and is marked so" in fig.alt
    two = drawn_without_leak(dfh.channel_grid, tops, [True, True] + [False] * 6, layer=1, field=5)
    assert "; 2 channels are zero on every test digit and are marked dead" in two.alt
    tops[5] = _top(torch.rand(6, 5, 5, generator=gen))
    labels = sorted(int(ax.get_ylabel()) for ax in fig.get_axes() if ax.get_ylabel())
    assert labels == list(range(8))
    # Each strip holds the 6 patches side by side with one-pixel gaps.
    strips = [ax.get_images()[0].get_array() for ax in fig.get_axes()
              if ax.get_images() and ax.get_images()[0].get_array().shape == (5, 6 * 5 + 5)]
    assert len(strips) == 8
    np.testing.assert_allclose(np.asarray(strips[0])[:, :5], tops[0].patches[0].numpy())
    fig = drawn_without_leak(dfh.channel_grid, tops, [False] * 8, layer=3, field=5, columns=4)
    assert "dead" not in fig.alt
    with pytest.raises(ValueError, match="^dead must have one entry per channel"):
        dfh.channel_grid(tops, [False], layer=1, field=5)
    with pytest.raises(ValueError, match="^tops must be a non-empty sequence"):
        dfh.channel_grid([], [], layer=1, field=5)


def test_draw_feature_frame(split, trained):
    maps = fh.hidden_maps(trained, split.test_images)
    field = fh.fields(trained)[1]
    top = fh.top_patches(split.test_images, maps[1], field, 2, k=6)
    fmap = maps[1][0, 2]
    fig = drawn_without_leak(dfh.feature_frame, split.test_images[0, 0], fmap, top, layer=2, channel=2, field=field)
    axes = fig.get_axes()
    assert len(axes) == 4
    assert [ax.get_title() for ax in axes[:3]] == ["digit; field 10 × 10", "its feature map",
                                                   "average of the 6 patches"]
    assert axes[3].get_images()[0].get_array().shape == (10, 6 * 10 + 5)
    assert axes[3].get_xlabel() == "activations: " + ", ".join(f"{float(v):.1f}" for v in top.values)
    np.testing.assert_allclose(axes[2].get_images()[0].get_array(), top.patches.mean(dim=0).numpy(), rtol=1e-6)
    rects = [p for p in axes[0].patches if isinstance(p, Rectangle)]
    if float(fmap.max()) > 0:
        r, c = np.unravel_index(int(fmap.argmax()), fmap.shape)
        assert rects[0].get_xy() == (c * 2 - 4 - 0.5, r * 2 - 4 - 0.5) and rects[0].get_width() == 10
    fig = drawn_without_leak(dfh.feature_frame, split.test_images[0, 0], torch.zeros(16, 16), top, layer=2, channel=2,
                   field=field, dead=True)
    assert "zero on every test digit" in fig.alt
    assert not [p for ax in fig.get_axes() for p in ax.patches if isinstance(p, Rectangle)]
    with pytest.raises(ValueError, match="^top must hold at least 3 patches"):
        dfh.feature_frame(split.test_images[0, 0], fmap, _top(torch.zeros(2, 10, 10)), layer=2, channel=2,
                          field=field)


def test_draw_by_layer():
    values = {"ink share": [[0.1, 0.12], [0.5, 0.4], [0.95, 0.97]], "class purity": [[0.3, 0.3], [0.5, 0.6],
                                                                                     [0.8, 0.9]]}
    fig = drawn_without_leak(dfh.by_layer, values, fields=[5, 10, 20])
    ax = fig.get_axes()[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["layer 1\nfield 5 × 5", "layer 2\nfield 10 × 10",
                                                            "layer 3\nfield 20 × 20"]
    assert "ink share: layer 1 11% ± 1%" in fig.alt and "over 2 seeds" in fig.alt
    with pytest.raises(ValueError, match="^measures\\['x'\\] must be"):
        dfh.by_layer({"x": [0.1, 0.2, 0.3]}, fields=[5, 10, 20])


def test_draw_motif_detection():
    signal = fh.motif_example(length=60, motif_at=(5,), decoy_at=(30,), noise=0.0)
    kernels = torch.stack([fh.motif().flip(0), fh.motif()])
    responses = nn.functional.conv1d(signal.view(1, 1, -1), kernels[:, None])[0]
    fig = drawn_without_leak(dfh.motif_detection, signal, responses, kernels, fh.motif(), motif_at=(5,), decoy_at=(30,))
    assert len(fig.get_axes()) == 4
    assert "the motif kernel peaks at 5, the decoy kernel at 30" in fig.alt  # a matched filter peaks on its pattern
    with pytest.raises(ValueError, match="^responses must be"):
        dfh.motif_detection(signal, responses[:, :10], kernels, fh.motif(), motif_at=(5,), decoy_at=(30,))


# --------------------------------------------------------------------------- the chapter


def chapter_claims(g: dict) -> None:
    """Every number the chapter quotes, and the direction of every sentence built on them."""
    assert int(g["n_train"]) == 1297 and int(g["n_test"]) == 1797 - 1297
    # Fields by hand (see test_network_geometry_and_fields): a layer-2 unit sees less than
    # the 16 x 16 digit, a layer-3 unit all of it.
    assert (int(g["field_1"]), int(g["field_2"]), int(g["field_3"])) == (5, 10, 20)
    assert int(g["field_2"]) < 16 <= int(g["field_3"])
    # "All n runs stopped by the rule", over at least five seeds.
    n = int(g["n_seeds"])
    assert n >= 5 and int(g["n_converged"]) == n
    assert int(g["epochs_low"]) <= int(g["epochs_high"]) < int(g["max_epochs"])
    # "They have learned the task."
    assert float(g["test_acc_low"]) > 0.9 and float(g["train_acc"]) > 0.95
    assert float(g["test_acc_std"]) < 0.05
    # "Some strips hold no patches and are marked instead" (seed 0's grids), and the range over seeds.
    assert sum(int(g[f"dead_{i}_seed0"]) + int(g[f"blank_{i}_seed0"]) for i in (1, 2, 3)) >= 1
    lost_3 = int(g["dead_3_seed0"]) + int(g["blank_3_seed0"])
    assert int(g["lost_3_low"]) <= lost_3 <= int(g["lost_3_high"]) < 32
    # Layer 1: "of the 8 channels" (none dead, none blank: no bias), "two kinds, and every seed has both".
    assert int(g["dead_1_high"]) == 0 and int(g["blank_1_high"]) == 0
    assert int(g["edge_like_low"]) >= 1 and int(g["ink_like_low"]) >= 1
    assert int(g["edge_like_low"]) + int(g["ink_like_high"]) == 8
    assert int(g["edge_like_high"]) + int(g["ink_like_low"]) == 8
    assert int(g["edges_low"]) >= 1 and float(g["edge_threshold"]) == 0.5
    # "... are horizontal or vertical: the strokes are mostly upright or level."
    assert g["orientations"] in ("horizontal or vertical", "horizontal", "vertical")
    # "The share of a digit's ink grows" from layer to layer, by more than twice the spread.
    ink = [(float(g[f"ink_{i}"]), float(g[f"ink_{i}_std"])) for i in (1, 2, 3)]
    for (low, s_low), (high, s_high) in zip(ink, ink[1:]):
        assert high - low > 2 * max(s_low, s_high)
    # "The share from one class does not grow as clearly" (not clearly, at both steps).
    purity = [float(g[f"purity_{i}"]) for i in (1, 2, 3)]
    spread = float(g["purity_spread"])
    assert not (purity[1] - purity[0] > 2 * spread and purity[2] - purity[1] > 2 * spread)
    # "Even a layer-1 channel has a favourite class": well above the 10 % of one class in ten.
    assert purity[0] > 0.4
    # "About one patch in four comes from another class" in layer 3.
    assert 0.15 <= 1 - purity[2] <= 0.35
    # The motif detectors.
    assert float(g["motif_accuracy_low"]) > 0.9
    # "... on a window that overlaps the decoy (or a copy of the motif) by at least 4 of its 7 samples".
    assert abs(int(g["decoy_peak"]) - 38) <= 3
    assert min(abs(int(g["motif_peak"]) - p) for p in (12, 64)) <= 3
    assert float(g["motif_response_elsewhere"]) < min(float(g["motif_response_1"]), float(g["motif_response_2"]))
    assert 0 <= int(g["motif_peaks_on_motif"]) <= n and 0 <= int(g["decoy_peaks_on_decoy"]) <= n


@pytest.mark.build
def test_feature_hierarchy_chapter_numbers(executed):
    """The numbers the chapter's prose quotes, and the direction of each of its claims."""
    g = glued(executed, "book/08_feature_hierarchy")
    chapter_claims(g)
    # VGG's argument: three 3 x 3 layers see what one 7 x 7 layer sees, with fewer weights.
    assert int(g["vgg_field"]) == int(g["vgg_single_field"]) == 7
    assert (int(g["vgg_stack_weights"]), int(g["vgg_single_weights"])) == (27, 49)


def test_draw_channel_grid_title_fits_a_one_column_grid():
    """A narrow grid (one column, as chapter 8 draws layer 1) wraps its title inside the figure."""
    gen = torch.Generator().manual_seed(1)
    tops = [_top(torch.rand(6, 5, 5, generator=gen)) for _ in range(8)]
    fig = drawn_without_leak(dfh.channel_grid, tops, [False] * 8, layer=1, field=5,
                             kernels=torch.randn(8, 5, 5, generator=gen), columns=1)
    renderer = FigureCanvasAgg(fig).get_renderer()
    title = next(t for t in fig.texts if t.get_text() == fig.get_suptitle())
    box = title.get_window_extent(renderer)
    assert "\n" in fig.get_suptitle()
    assert 0 <= box.x0 and box.x1 <= fig.bbox.width and box.y1 <= fig.bbox.height
