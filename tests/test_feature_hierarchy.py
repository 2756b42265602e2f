"""widgets.compute.feature_hierarchy and widgets.draw.feature_hierarchy, and the chapter's numbers.

Receptive fields are checked against the support of an input gradient, top
patches against hand-made maps, the edge measures against patches whose
answer is known, and the chapter's glued numbers against the sentences that
quote them.
"""


import json

import numpy as np
import pytest
import torch
from conftest import drawn_without_leak
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.patches import Rectangle
from torch import nn

from widgets.compute import data, stats, trained_networks, training
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


def test_patch_correlation_by_hand():
    """Copies of one shape correlate 1; a shape and its negative -1; a constant patch 0."""
    bar = torch.zeros(3, 3)
    bar[:, 1] = 1.0
    assert fh.patch_correlation(_top(torch.stack([bar, bar, bar]))) == pytest.approx(1.0)
    assert fh.patch_correlation(_top(torch.stack([bar, 1 - bar]))) == pytest.approx(-1.0)
    # Pairs (bar, bar) = 1, (bar, blank) = 0 twice: mean 1/3.
    assert fh.patch_correlation(_top(torch.stack([bar, bar, torch.zeros(3, 3)]))) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="^top must hold at least 2 patches"):
        fh.patch_correlation(_top(bar[None]))
    with pytest.raises(ValueError, match="^top must be a TopPatches"):
        fh.patch_correlation(bar)


def test_edge_measures_bad_arguments():
    with pytest.raises(ValueError, match="^patch must be square"):
        fh.edge_contrast(torch.zeros(3, 4))
    with pytest.raises(ValueError, match="^patch must be 2-D"):
        fh.edge_orientation(torch.zeros(3))


@pytest.fixture(scope="module")
def small_study(split):
    """A two-seed study of one epoch on 300 digits (a second or two)."""
    small = data.DigitSplit(split.train_images[:300], split.train_labels[:300],
                            split.test_images[:120], split.test_labels[:120])
    return small, fh.study(small, [0, 1], max_epochs=1, channels=(4, 6, 8))


def test_summarise_and_study(small_study):
    """The shapes, the book's training rule, and measures that follow from the fields."""
    small, s = small_study
    assert s.seeds == (0, 1) and s.epochs == [1, 1] and s.converged == [False, False]
    assert all(0.0 <= a <= 1.0 for a in s.train_accuracy + s.test_accuracy)
    assert s.per_layer("ink_share").shape == (3, 2)
    assert s.per_layer("dead").shape == (3, 2) and s.per_layer("blank").shape == (3, 2)
    assert all(x.blank[0] == 0 and len(x.solid_ink) == x.live_first for x in s.summaries)
    share = s.per_layer("ink_share")
    # A 5 x 5 field holds only a little of a 16 x 16 digit; a 20 x 20 one can hold all of it.
    assert bool((share[0] < 0.3).all()) and bool((share[2] > share[0] + 0.2).all())
    assert all(0 <= x.edges <= x.live_first <= 4 for x in s.summaries)
    assert s.per_layer("patch_correlation").shape == (3, 2)
    assert bool((s.per_layer("patch_correlation").abs() <= 1).all())
    # One majority class per live channel, each a digit class.
    assert all(len(x.majority[i]) == (4, 6, 8)[i] - x.dead[i] - x.blank[i] for x in s.summaries for i in range(3))
    assert all(0 <= c <= 9 for x in s.summaries for m in x.majority for c in m)
    # Trained with the book's one rule (chapter 8's), except where overridden.
    rule = {**trained_networks.RULE, "max_epochs": 1}
    again = fh.hierarchy_network(1, channels=(4, 6, 8))
    training.train(again, small.train_images, small.train_labels, seed=1, **rule)
    assert all(torch.equal(p, q) for p, q in zip(again.parameters(), s.models[1].parameters()))
    with pytest.raises(ValueError, match="^measure must be one of"):
        s.per_layer("purity")
    with pytest.raises(ValueError, match="^rule must be one of"):
        fh.study(small, [0], momentum=0.9)


def test_study_keeps_the_untrained_control(small_study):
    """The control is each seed's network at initialisation, measured the same way, and left untouched."""
    small, s = small_study
    assert len(s.untrained) == len(s.initial_models) == 2
    for seed, initial, model in zip(s.seeds, s.initial_models, s.models):
        fresh = fh.hierarchy_network(seed, channels=(4, 6, 8))
        assert all(torch.equal(p, q) for p, q in zip(fresh.parameters(), initial.parameters()))
        assert not all(torch.equal(p, q) for p, q in zip(fresh.parameters(), model.parameters()))
    assert s.untrained[1] == fh.summarise(s.initial_models[1], small.test_images, small.test_labels)
    assert s.summaries[1] == fh.summarise(s.models[1], small.test_images, small.test_labels)
    torch.testing.assert_close(s.per_layer("dead", untrained=True)[:, 1],
                               torch.tensor(s.untrained[1].dead, dtype=torch.float64))
    assert s.per_seed("edges", untrained=True) == [x.edges for x in s.untrained]
    assert s.per_seed("live_first") == [x.live_first for x in s.summaries]
    with pytest.raises(ValueError, match="^measure must be one of edges"):
        s.per_seed("dead")
    with pytest.raises(ValueError, match="^untrained must be True or False"):
        s.per_layer("dead", untrained=1)


def test_chance_purity_by_hand():
    """Two classes of two images each, draws of two: a pair is pure with probability 1/3."""
    labels = torch.tensor([0, 0, 1, 1])
    assert fh.chance_purity(labels, k=2, draws=60_000) == pytest.approx((1 + 2 * 0.5) / 3, abs=0.01)
    assert fh.chance_purity(labels, k=4, draws=10) == 0.5    # every draw is the whole set
    assert fh.chance_purity(torch.zeros(5, dtype=torch.int64), k=3, draws=10) == 1.0
    assert fh.chance_purity(labels, k=2, seed=3) == fh.chance_purity(labels, k=2, seed=3)
    with pytest.raises(ValueError, match="^k must be in"):
        fh.chance_purity(labels, k=5)
    with pytest.raises(ValueError, match="^labels must be a non-empty 1-D integer tensor"):
        fh.chance_purity(torch.rand(4))


@pytest.mark.parametrize("call, match", [
    (lambda sp: fh.study(sp, []), "^seeds must be a non-empty"),
    (lambda sp: fh.study(sp, [0, 0]), "^seeds must be distinct"),
    (lambda sp: fh.study(sp, [0], max_epochs=0), "^max_epochs must be in"),
    (lambda sp: fh.study(sp, [0], k=0), "^k must be in"),
    (lambda sp: fh.study("digits", [0]), "^split must be a data.DigitSplit"),
    (lambda sp: fh.summarise(fh.hierarchy_network(0), sp.test_images[:5], sp.test_labels[:4]), "^labels must be"),
    (lambda sp: fh.summarise(fh.hierarchy_network(0), sp.test_images[:5], sp.test_labels[:5], k=6), "^k must be in"),
    (lambda sp: fh.summarise(fh.hierarchy_network(0), sp.test_images[:5], sp.test_labels[:5],
                             edge_threshold=0), "^edge_threshold must be"),
])
def test_study_bad_arguments(split, call, match):
    with pytest.raises(ValueError, match=match):
        call(split)


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
    # The untrained control, drawn as a second block under its own heading.
    both = drawn_without_leak(dfh.channel_grid, tops, [False] * 8, layer=1, field=5, kernels=kernels, columns=1,
                              untrained=(tops[::-1], [True] + [False] * 7, kernels.flip(0)))
    assert [t.get_text() for t in both.texts[:2]] == ["trained", "untrained (initial weights)"]
    assert both.alt.startswith("Left, the trained network. Layer 1:")
    assert "Right, the same for the same network at initialisation" in both.alt
    assert both.alt.count("marked dead") == 1 and "own colour scale" in both.alt
    shown = [ax for ax in both.get_axes() if ax.get_images()]
    assert len(shown) == 2 * 2 * 8  # a kernel and a strip per channel, for both networks
    right = [ax for ax in shown if ax.get_position().x0 > 0.5]
    assert len(right) == 16 and all(ax.get_position().x0 > max(a.get_position().x1 for a in shown
                                                                    if a not in right) for ax in right)
    with pytest.raises(ValueError, match="^untrained must have as many channels"):
        dfh.channel_grid(tops, [False] * 8, layer=1, field=5, untrained=(tops[:4], [False] * 4))
    with pytest.raises(ValueError, match="^untrained must hold kernels exactly when"):
        dfh.channel_grid(tops, [False] * 8, layer=1, field=5, kernels=kernels, untrained=(tops, [False] * 8))
    with pytest.raises(ValueError, match="^untrained must be \\(tops, dead\\)"):
        dfh.channel_grid(tops, [False] * 8, layer=1, field=5, untrained="control")
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
    assert len(fig.get_axes()) == 2 and ax.get_title() == "ink share"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["layer 1\nfield 5 × 5", "layer 2\nfield 10 × 10",
                                                            "layer 3\nfield 20 × 20"]
    # Error bars are 95 % intervals over the seeds: 0.11 ± 12.71 * 0.01 / sqrt(2) = ± 0.127 (t with 1 degree).
    half = stats.interval([0.1, 0.12]).half_width
    assert half == pytest.approx(0.127, abs=0.001)
    assert f"ink share: trained layer 1 11% ± {half:.0%}" in fig.alt and "over 2 seeds" in fig.alt
    bars = ax.containers[0]
    segment = bars.lines[2][0].get_segments()[0]
    assert segment[1][1] - segment[0][1] == pytest.approx(2 * half)
    untrained = {"class purity": [[0.3, 0.32], [0.3, 0.34], [0.3, 0.28]]}
    fig = drawn_without_leak(dfh.by_layer, values, fields=[5, 10, 20], untrained=untrained,
                             chance={"class purity": 0.25})
    purity = fig.get_axes()[1]
    assert [t.get_text() for t in purity.get_legend().get_texts()] == ["trained", "untrained"]
    assert [t.get_text() for t in purity.texts] == ["random digits"] and not fig.get_axes()[0].texts
    assert [line.get_ydata()[0] for line in purity.get_lines() if line.get_linestyle() != "-"][-1] == 0.25
    assert "class purity: trained layer 1 30% ± 0%" in fig.alt and "untrained layer 1 31% ± 13%, layer 2 32%" in fig.alt
    assert "random digits 25%" in fig.alt and len(fig.get_axes()[0].containers) == 1
    with pytest.raises(ValueError, match="^measures\\['x'\\] must be"):
        dfh.by_layer({"x": [0.1, 0.2, 0.3]}, fields=[5, 10, 20])
    with pytest.raises(ValueError, match="^untrained must be a mapping whose names"):
        dfh.by_layer(values, fields=[5, 10, 20], untrained={"x": [[0.1]] * 3})
    with pytest.raises(ValueError, match="^chance must be a mapping"):
        dfh.by_layer(values, fields=[5, 10, 20], chance=0.3)


# --------------------------------------------------------------------------- the chapter


def _glued(executed, doc) -> dict:
    """The chapter's glued values as text, from a build or from scripts/run_chapter.py (which keeps the
    ``application/papermill.record/text/plain`` key that ``display=False`` glue writes).
    """
    outputs = json.loads((executed / f"{doc}.glue.json").read_text())
    out = {}
    for name, value in outputs.items():
        text = value["data"].get("text/plain", value["data"].get("application/papermill.record/text/plain"))
        if text is not None:
            out[name] = text.strip("'\"")
    return out


def chapter_claims(g: dict) -> None:
    """Every number the chapter quotes, and the verdict behind every comparison it states."""
    assert int(g["n_train"]) == 1297 and int(g["n_test"]) == 1797 - 1297
    # Fields by hand (see test_network_geometry_and_fields): a layer-2 unit sees less than
    # the 16 x 16 digit, a layer-3 unit all of it.
    assert (int(g["field_1"]), int(g["field_2"]), int(g["field_3"])) == (5, 10, 20)
    assert int(g["field_2"]) < 16 <= int(g["field_3"])
    # "With the book's training rule, the one chapter 8 uses."
    rule = trained_networks.RULE
    assert (float(g["lr"]), int(g["batch_size"]), float(g["tol"]), int(g["patience"]), int(g["max_epochs"])) == (
        rule["lr"], rule["batch_size"], rule["tol"], rule["patience"], rule["max_epochs"])
    # "All n runs stopped by the rule", over at least ten seeds (runs take seconds).
    n = int(g["n_seeds"])
    assert n >= 10 and int(g["n_converged"]) == n
    assert int(g["epochs_low"]) <= int(g["epochs_high"]) < int(g["max_epochs"])
    # The accuracy beside its baselines: far above the majority class and logistic regression's
    # neighbourhood, and no better than one-nearest-neighbour ("these digits are easy").
    assert float(g["test_acc_worst"]) > 0.9 and float(g["train_acc"]) > 0.95
    assert float(g["test_acc_low"]) <= float(g["test_acc"]) <= float(g["test_acc_high"])
    assert float(g["majority"]) < 0.15 and float(g["logistic"]) > 0.9 and float(g["nearest"]) > 0.95
    assert g["versus_nearest_verdict"] != "ahead"
    assert g["versus_nearest"].startswith({
        "level": "the network and one-nearest-neighbour are level",
        "behind": "the network is behind one-nearest-neighbour",
        "unresolved": f"{n} seeds do not resolve the network against one-nearest-neighbour",
    }[g["versus_nearest_verdict"]])
    # Dead channels: "layer 3 already has x to y dead channels before training", and training leaves more.
    assert 1 <= int(g["dead_3_untrained_low"]) <= int(g["dead_3_untrained_high"]) < 32
    assert int(g["dead_3_untrained_low"]) <= int(g["dead_3_trained_low"]) <= int(g["dead_3_trained_high"]) < 32
    assert g["dead_3_verdict"] == "ahead" and g["dead_3_by_training"].startswith("training leaves ")
    assert g["dead_2_by_training"].startswith({
        "ahead": "training leaves ", "behind": "training leaves ", "level": "training leaves as many",
        "unresolved": f"{n} seeds do not resolve"}[g["dead_2_verdict"]])
    assert g["edges_by_training"].startswith("training leaves ")
    # Layer 1 has no bias, so no channel is blank ("the measurements skip both kinds" only above it).
    assert int(g["blank_1_trained_high"]) == int(g["blank_1_untrained_high"]) == 0
    # Layer 1: "already x to y are [edge detectors] before training"; training makes the edges cleaner,
    # and leaves more edge detectors.
    assert float(g["edge_threshold"]) == 0.5
    assert 1 <= int(g["edges_untrained_low"]) and int(g["edges_high"]) <= 8
    assert int(g["edges_untrained_low"]) <= int(g["edges_untrained_high"])
    assert g["verdict_contrast_1"] == "ahead" and g["verdict_edges"] == "ahead"
    assert float(g["contrast_1_trained"]) > float(g["contrast_1_untrained"])
    # "Start with the untrained networks": the ink share grows with the field before any training.
    assert g["verdict_ink_growth_2"] == g["verdict_ink_growth_3"] == "ahead"
    ink_untrained = [float(g[f"ink_share_{i}_untrained"]) for i in (1, 2, 3)]
    assert ink_untrained[0] < 0.25 < ink_untrained[1] < 0.6 < ink_untrained[2]  # pieces, parts, nearly whole
    # "Beside [that growth], what training changes is smaller": the upper end of every interval of
    # trained minus untrained lies below the lower end of both intervals of growth.
    growth_low = min(float(g["ink_growth_2_low"]), float(g["ink_growth_3_low"]))
    for i in (1, 2, 3):
        assert float(g[f"ink_share_{i}_by_training_high"]) < growth_low
        assert abs(float(g[f"ink_share_{i}_trained"]) - ink_untrained[i - 1]) < 0.10
    # Class purity of untrained channels is "far above" eight random digits in every layer.
    assert 0.25 < float(g["chance_purity"]) < 0.35
    assert all(g[f"verdict_purity_above_chance_{i}"] == "ahead" for i in (1, 2, 3))
    assert float(g["purity_above_chance_low"]) >= 10
    # "What training clearly adds ... channels more specific to one class in layer 3"; the share in
    # layers 1 and 2 is stated through its verdict, whatever it is.
    assert g["verdict_class_purity_3"] == "ahead"
    assert float(g["class_purity_3_trained"]) > float(g["class_purity_3_untrained"])
    for i in (1, 2, 3):
        assert g[f"class_purity_{i}_by_training"]
    # "The largest of the class-specificity gains is that of layer 3" and, in the recap, "most of all".
    assert g["purity_3_gain_largest"] == "True"
    # How alike a channel's patches are: each layer's sentence is chosen from its verdict.
    for i in (1, 2, 3):
        assert g[f"verdict_patch_correlation_{i}"] in ("ahead", "behind", "level", "unresolved")
        assert g[f"patch_correlation_{i}_by_training"]
    # "What training adds ... is <the ahead verdicts>; the comparisons left unresolved are <the rest>":
    # the lists are built from the verdicts; here they must name what the verdicts say.
    named = {"contrast_1": ("cleaner edges in layer 1", "edge contrast of layer 1"),
             "edges": ("edge detectors in layer 1", "number of edge detectors"),
             **{f"ink_share_{i}": (f"ink in a layer-{i} patch", f"ink share of layer {i}") for i in (1, 2, 3)},
             **{f"class_purity_{i}": (f"layer-{i} channels more specific", f"class share of layer {i}")
                for i in (1, 2, 3)},
             **{f"patch_correlation_{i}": (f"alike layer-{i} patches", f"how alike layer-{i} patches are")
                for i in (1, 2, 3)},
             **{f"dead_{i}": (f"dead channels in layer {i}", f"dead channels of layer {i}") for i in (2, 3)}}
    for key, (added, topic) in named.items():
        verdict = g[f"verdict_{key}"]
        assert verdict in ("ahead", "unresolved"), key   # the prose names only these two kinds
        assert (added in g["training_adds"]) == (verdict == "ahead"), key
        assert (topic in g["training_unresolved"]) == (verdict == "unresolved"), key
    assert int(g["n_other"]) == 0
    assert int(g["n_unresolved"]) >= 2     # "The n comparisons ... are a, b and c"
    assert int(g["n_unresolved"]) == sum(g[f"verdict_{key}"] == "unresolved" for key in named)
    # Untrained layer-1 channels: "x % take most of their patches from the digit 1 (no other class leads
    # more than y %)", and most of the 8 inkiest test digits are 1s.
    assert float(g["majority_1_ones"]) > 2 * float(g["majority_1_next"])
    assert int(g["majority_1_channels"]) == 8 * n
    assert int(g["ink_ranking_ones"]) > 4


@pytest.mark.build
def test_feature_hierarchy_chapter_numbers(executed):
    """The numbers the chapter's prose quotes, and the direction of each of its claims."""
    g = _glued(executed, "book/11_feature_hierarchy")
    chapter_claims(g)
    # VGG's argument: three 3 x 3 layers see what one 7 x 7 layer sees, with fewer weights.
    assert int(g["vgg_field"]) == int(g["vgg_single_field"]) == 7
    assert (int(g["vgg_stack_weights"]), int(g["vgg_single_weights"])) == (27, 49)


def test_draw_channel_grid_title_fits_a_one_column_grid():
    """A narrow grid (one column, as chapter 11 draws layer 1) wraps its title inside the figure."""
    gen = torch.Generator().manual_seed(1)
    tops = [_top(torch.rand(6, 5, 5, generator=gen)) for _ in range(8)]
    fig = drawn_without_leak(dfh.channel_grid, tops, [False] * 8, layer=1, field=5,
                             kernels=torch.randn(8, 5, 5, generator=gen), columns=1)
    renderer = FigureCanvasAgg(fig).get_renderer()
    title = next(t for t in fig.texts if t.get_text() == fig.get_suptitle())
    box = title.get_window_extent(renderer)
    assert "\n" in fig.get_suptitle()
    assert 0 <= box.x0 and box.x1 <= fig.bbox.width and box.y1 <= fig.bbox.height
