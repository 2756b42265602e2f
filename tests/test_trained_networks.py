"""widgets.compute.trained_networks and widgets.draw.trained_networks, and the numbers of chapters 8, 9 and 10.

Parameter counts are checked against formulas worked out by hand in the
comments; the comparisons against runs of the shared training loop
(tests/test_training.py tests the loop itself); the chapter's glued numbers,
and every verdict its prose states, recomputed with
:func:`widgets.compute.stats.paired` from the per-seed values it glued.
"""

import ast

import numpy as np
import pytest
import torch
from conftest import drawn_without_leak, glued
from hypothesis import settings
from test_controls import framed
from test_style import laid_out, overlap, texts_outside
from torch import nn

from widgets.compute import data, stats, training
from widgets.compute import trained_networks as tn
from widgets.compute.local_connectivity import LocallyConnected2d
from widgets.draw import trained_networks as dtn

PROPERTY = settings(max_examples=25, deadline=None)


@pytest.fixture(scope="module")
def split():
    return data.digit_split()


@pytest.fixture(scope="module")
def cnn_and_run(split):
    """The chapter's convolutional network trained on all centred training digits by the chapter's rule."""
    model = tn.build("convolutional", seed=0)
    run = training.train(model, split.train_images, split.train_labels, seed=0, **tn.RULE)
    return model, run


@pytest.fixture(scope="module")
def trained_cnn(cnn_and_run):
    return cnn_and_run[0]


# --------------------------------------------------------------------------- closed forms

def dense_params(canvas=16, h1=128, h2=64):
    # Three Linear layers, each weights + biases.
    return canvas * canvas * h1 + h1 + h1 * h2 + h2 + h2 * 10 + 10


def conv_params(c1=16, c2=32, k=3):
    # Layer 1: c1 kernels of k x k, no bias. Layer 2: c2 filters of c1 x k x k plus a bias each.
    # Head after global max pooling: c2 x 10 + 10.
    return c1 * k * k + c2 * (c1 * k * k + 1) + c2 * 10 + 10


def local_params(canvas=16, c1=8, c2=16, k=3):
    # The same with a kernel per position: canvas² positions in layer 1, (canvas/2)² in layer 2,
    # whose biases are per unit (channel and position) as in LocallyConnected2d.
    half = canvas // 2
    return canvas ** 2 * c1 * k * k + half ** 2 * c2 * (c1 * k * k + 1) + c2 * 10 + 10


def flat_params(canvas=16, c1=16, c2=32, k=3):
    # Convolutional layers as above; the head reads all c2 x (canvas/2)² values.
    half = canvas // 2
    return c1 * k * k + c2 * (c1 * k * k + 1) + c2 * half * half * 10 + 10


def test_closed_forms_by_hand():
    assert dense_params() == 32_896 + 8_256 + 650 == 41_802
    assert conv_params(8, 16) == 72 + 1_168 + 170 == 1_410
    assert conv_params() == 144 + 4_640 + 330 == 5_114
    assert local_params() == 18_432 + 74_752 + 170 == 93_354
    assert flat_params() == 144 + 4_640 + 20_490 == 25_274


# --------------------------------------------------------------------------- models


@pytest.mark.parametrize("name, expected", [
    ("dense", dense_params()), ("locally connected", local_params()), ("convolutional", conv_params()),
    ("convolutional, flattened head", flat_params())])
def test_parameter_counts_closed_forms(name, expected):
    assert tn.trainable_parameters(tn.build(name, seed=0)) == expected


@pytest.mark.parametrize("canvas, channels, k", [(8, (4, 6), 3), (12, (2, 3), 5), (16, (8, 16), 1)])
def test_local_network_counts_for_other_geometries(canvas, channels, k):
    c1, c2 = channels
    conv = tn.local_network(True, canvas, channels, k)
    local = tn.local_network(False, canvas, channels, k)
    flat = tn.local_network(True, canvas, channels, k, head="flatten")
    assert tn.trainable_parameters(conv) == conv_params(c1, c2, k)
    assert tn.trainable_parameters(local) == local_params(canvas, c1, c2, k)
    assert tn.trainable_parameters(flat) == flat_params(canvas, c1, c2, k)
    x = torch.rand(3, 1, canvas, canvas)
    for net in (conv, local, flat):
        assert net(x).shape == (3, 10)
    assert tn.trainable_parameters(tn.dense_network(canvas, (5, 7))) == dense_params(canvas, 5, 7)


def test_tied_local_network_computes_the_convolutional_one():
    # The two networks differ only in sharing: copy the convolution's kernels to
    # every position and the locally connected network computes the same function.
    cnn = tn.build("convolutional", seed=2).double()
    local = tn.build("locally connected", seed=2, width=tn.WIDTHS["convolutional"]).double()
    with torch.no_grad():
        for i, size in ((0, 16), (3, 8)):
            local[i] = LocallyConnected2d.from_conv(cnn[i], size).double()
        local[-1].load_state_dict(cnn[-1].state_dict())
    x = torch.rand(5, 1, 16, 16, dtype=torch.float64)
    torch.testing.assert_close(local(x), cnn(x), rtol=0, atol=1e-12)


def test_first_layer_has_no_bias_so_background_gives_zero():
    for name in ("convolutional", "locally connected"):
        net = tn.build(name, seed=0)
        assert net[0].bias is None
        with torch.no_grad():
            assert net[1](net[0](torch.zeros(1, 1, 16, 16))).abs().max() == 0


def test_build_is_seeded_and_leaves_global_rng_alone():
    state = torch.get_rng_state()
    a, b, c = tn.build("convolutional", 5), tn.build("convolutional", 5), tn.build("convolutional", 6)
    assert torch.equal(torch.get_rng_state(), state)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a[0].weight, c[0].weight)
    assert isinstance(tn.build("locally connected")[0], LocallyConnected2d)
    assert isinstance(tn.build("convolutional")[-3], nn.AdaptiveMaxPool2d)


@pytest.mark.parametrize("call, match", [
    (lambda: tn.build("cnn"), "^name must be one of"),
    (lambda: tn.build("dense", seed=-1), "^seed"),
    (lambda: tn.local_network(True, canvas=15), "^canvas must be even"),
    (lambda: tn.local_network(True, kernel_size=4), "^kernel_size must be odd"),
    (lambda: tn.local_network(True, head="mean"), "^head must be one of"),
    (lambda: tn.local_network(1), "^shared must be True or False"),
    (lambda: tn.local_network(True, channels=(8,)), "^channels must be a pair"),
    (lambda: tn.dense_network(16, hidden=(0, 4)), "^hidden must be in"),
    (lambda: tn.trainable_parameters("net"), "^model must be a torch.nn.Module"),
])
def test_model_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --------------------------------------------------------------------------- training and comparing


def test_trained_network_learns_and_converges(split, cnn_and_run):
    model, run = cnn_and_run
    assert run.converged and run.epochs < tn.RULE["max_epochs"]
    assert training.accuracy(model, split.train_images, split.train_labels) > 0.99
    assert training.accuracy(model, split.test_images, split.test_labels) > 0.95


def test_networks_run_on_one_thread_and_restore_the_setting(split):
    before = torch.get_num_threads()
    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append(torch.get_num_threads())
            return x.flatten(1)[:, :10]

    tn.shifted_accuracy(Probe(), split.test_images[:5], split.test_labels[:5], [0, 1])
    tn.first_layer_gradient(nn.Sequential(nn.Conv2d(1, 1, 3), Probe()), split.test_images[:5],
                            split.test_labels[:5])
    assert seen == [1] * (1 + 4 + 1)  # shift 0; shift 1 in four directions; the gradient
    assert torch.get_num_threads() == before


def test_gradient_reaches_every_first_layer_kernel(split):
    model = tn.build("convolutional", seed=0)
    x, y = split.train_images[:64], split.train_labels[:64]
    grad = tn.first_layer_gradient(model, x, y)
    assert grad.shape == (16, 1, 3, 3)
    assert bool((grad.flatten(1).abs().sum(dim=1) > 0).all())
    assert model[0].weight.grad is None  # the model's own .grad is left alone
    # The same numbers as an ordinary backward pass (up to rounding: the function runs on
    # one thread, this pass on the default number, and sums may be split differently).
    nn.functional.cross_entropy(model(x), y).backward()
    torch.testing.assert_close(grad, model[0].weight.grad, rtol=1e-4, atol=1e-7)
    # Every parameter of every layer receives a gradient, the kernels of layer 2 included.
    assert all(bool(p.grad.abs().sum() > 0) for p in model.parameters())
    with pytest.raises(ValueError, match="^labels must have one entry per image"):
        tn.first_layer_gradient(model, x, y[:3])


@pytest.fixture(scope="module")
def small_split(split):
    return data.DigitSplit(split.train_images[:80], split.train_labels[:80],
                           split.test_images[:40], split.test_labels[:40])


def test_compare_shapes_and_full_size_run(small_split):
    rule = {"max_epochs": 6, "patience": 2}
    study = tn.compare(small_split, [30, 80], names=("dense", "convolutional"), seeds=[0, 1], **rule)
    assert study.sizes == (30, 80) and study.seeds == (0, 1)
    for name in ("dense", "convolutional"):
        for table in (study.test_accuracy, study.train_accuracy):
            assert table[name].shape == (2, 2)
            assert bool(((table[name] >= 0) & (table[name] <= 1)).all())
        assert bool((study.epochs[name] >= 1).all()) and bool((study.epochs[name] <= 6).all())
        assert bool((study.cpu_seconds[name] > 0).all())
        assert study.converged[name].dtype == torch.bool
        assert len(study.models[name][80]) == 2 and len(study.models[name][30]) == 2
        # As documented: the run on the whole training set is training.train with seed s.
        for j, seed in enumerate((0, 1)):
            again = tn.build(name, seed=seed)
            run = training.train(again, small_split.train_images, small_split.train_labels, seed=seed,
                                 **{**tn.RULE, **rule})
            assert all(torch.equal(p, q) for p, q in zip(again.parameters(),
                                                         study.models[name][80][j].parameters()))
            assert run.epochs == int(study.epochs[name][1, j])
            assert run.converged == bool(study.converged[name][1, j])
            assert float(study.test_accuracy[name][1, j]) == training.accuracy(
                again, small_split.test_images, small_split.test_labels)
            assert float(study.train_accuracy[name][1, j]) == training.accuracy(
                again, small_split.train_images, small_split.train_labels)
    # The smaller set is trained on its own 30 images: a perfect fit there is possible
    # even when the test accuracy is low; and spread() reads one cell over the seeds.
    s = study.spread("test_accuracy", "dense", 30)
    assert s.values == tuple(study.test_accuracy["dense"][0].tolist()) and s.n == 2
    assert study.spread("epochs", "convolutional").values == tuple(
        float(e) for e in study.epochs["convolutional"][1])
    with pytest.raises(ValueError, match="^size must be one of"):
        study.spread("test_accuracy", "dense", 50)
    with pytest.raises(ValueError, match="^name must be one of"):
        study.spread("test_accuracy", "locally connected")


def test_compare_converges_to_a_perfect_fit_on_few_digits(small_split):
    # Twenty digits, two per class: every network fits them all by the stopping rule.
    study = tn.compare(small_split, [20], names=tn.NETWORKS, seeds=[3])
    for name in tn.NETWORKS:
        assert bool(study.converged[name].all()), name
        assert float(study.train_accuracy[name][0, 0]) == 1.0, name


def test_training_subset_is_balanced_nested_and_in_split_order(split):
    images, labels = tn.training_subset(split, 50, seed=2)
    assert images.shape == (50, 1, 16, 16)
    assert torch.equal(torch.bincount(labels, minlength=10), torch.full((10,), 5))
    chosen = data.balanced_subset(split.train_labels, 50, 2).sort().values
    assert torch.equal(images, split.train_images[chosen]) and torch.equal(labels, split.train_labels[chosen])
    bigger, _ = tn.training_subset(split, 200, seed=2)
    # Nested: every image of the 50 is among the 200.
    assert all(bool((bigger == image).flatten(1).all(dim=1).any()) for image in images)
    assert not torch.equal(tn.training_subset(split, 50, seed=3)[1], labels)
    with pytest.raises(ValueError, match="^split must be a DigitSplit"):
        tn.training_subset((split.train_images, split.train_labels), 50, 0)
    with pytest.raises(ValueError, match="^n must be in"):
        tn.training_subset(split, 0, 0)


@pytest.mark.parametrize("kwargs, match", [
    ({"sizes": [5]}, "^sizes must be in"), ({"sizes": [10, 10]}, "^sizes must be distinct"),
    ({"sizes": [2000]}, "^sizes must be in"), ({"sizes": []}, "^sizes must be a non-empty"),
    ({"names": ["mlp"]}, "^names must be one of"), ({"names": "dense"}, "^names must be a non-empty sequence"),
    ({"seeds": []}, "^seeds must be a non-empty"), ({"seeds": [1, 1]}, "^seeds must be distinct"),
    ({"seeds": [0.5]}, "^seeds must be an integer"), ({"epochs": 3}, "^rule must be one of"),
    ({"tol": 0}, "^tol must be a positive"), ({"max_epochs": 0}, "^max_epochs must be in"),
    ({"widths": {"mlp": (4, 4)}}, "^widths must be one of"), ({"widths": [(4, 4)]}, "^widths must map"),
    ({"max_shift": -1}, "^max_shift must be in"),
])
def test_compare_bad_arguments(small_split, kwargs, match):
    args = {"sizes": [10], "names": ("dense",), "max_epochs": 1, **kwargs}
    with pytest.raises(ValueError, match=match):
        tn.compare(small_split, **args)
    with pytest.raises(ValueError, match="^split must be a DigitSplit"):
        tn.compare((small_split.train_images, small_split.train_labels), [10])




class InkTotal(nn.Module):
    """Classifies by total ink only: exactly invariant to any shift that keeps the ink on the canvas."""

    def forward(self, x):
        ink = x.sum(dim=(1, 2, 3))
        return -(ink[:, None] - torch.linspace(5, 50, 10)).abs()


def test_shifted_accuracy_of_an_invariant_and_a_dense_model(split, trained_cnn):
    x, y = split.test_images[:100], split.test_labels[:100]
    invariant = tn.shifted_accuracy(InkTotal(), x, y, range(5))
    assert invariant == [pytest.approx(invariant[0], abs=1e-12)] * 5
    dense = tn.build("dense", seed=0)
    scores = tn.shifted_accuracy(dense, x, y, [0, 2])
    assert scores[0] == training.accuracy(dense, x, y)
    manual = np.mean([training.accuracy(dense, data.shift_inside(x, dy, dx), y)
                      for dy, dx in ((-2, 0), (2, 0), (0, -2), (0, 2))])
    assert scores[1] == pytest.approx(manual)
    # The trained convolutional network with global max pooling: even shifts move the pooled
    # maps by whole cells, so it keeps (nearly) all of its accuracy there.
    conv = tn.shifted_accuracy(trained_cnn, split.test_images, split.test_labels, [0, 2, 4])
    assert conv[1] > conv[0] - 0.03 and conv[2] > conv[0] - 0.08
    with pytest.raises(ValueError, match="^dy must be in|^dx must be in"):
        tn.shifted_accuracy(dense, x, y, [5])


# --------------------------------------------------------------------------- the first layer's kernels


def test_first_layer_kernels_are_a_copy(trained_cnn):
    kernels = tn.first_layer_kernels(trained_cnn)
    assert kernels.shape == (16, 3, 3)
    assert torch.equal(kernels, trained_cnn[0].weight.detach()[:, 0])
    kernels += 1  # a copy: the model is untouched
    assert not torch.equal(kernels, trained_cnn[0].weight.detach()[:, 0])
    with pytest.raises(ValueError, match="^model must contain a torch.nn.Conv2d"):
        tn.first_layer_kernels(tn.build("dense"))


# --------------------------------------------------------------------------- draw


def test_draw_kernels_before_after():
    gen = torch.Generator().manual_seed(0)
    before, after = torch.randn(8, 3, 3, generator=gen), torch.randn(8, 3, 3, generator=gen)
    grad = torch.randn(8, 3, 3, generator=gen) * 1e-3
    grad[3] = 0
    fig = drawn_without_leak(dtn.kernels_before_after, before, grad, after)
    assert len(fig.get_axes()) == 24
    assert [ax.get_title() for ax in fig.get_axes()[:8]] == [f"channel {c}" for c in range(8)]
    assert "non-zero for 7 of the 8 kernels" in fig.alt
    labels = [ax.get_xlabel() for ax in fig.get_axes()[8:16]]
    assert labels[3] == "±0.0e+00" and labels[0] == f"±{float(grad[0].abs().max()):.1e}"
    assert fig._suptitle.get_text() == "First-layer kernels of the convolutional network"


def test_draw_placements(split):
    moved = data.shift_inside(split.train_images[:8], 2, -3)
    fig = drawn_without_leak(dtn.placements, split.train_images[:8], moved, count=6)
    assert len(fig.get_axes()) == 12
    assert "6 handwritten digits on a 16 by 16 canvas" in fig.alt


def test_draw_sample_efficiency():
    sizes = [50, 100, 1297]
    conv = [[0.6, 0.62], [0.7, 0.72], [0.9, 0.92]]
    panels = {"centred digits": {"dense": [[0.7, 0.7], [0.8, 0.8], [0.9, 0.9]], "convolutional": conv},
              "digits placed anywhere": {"dense": [[0.1, 0.1], [0.2, 0.2], [0.5, 0.5]],
                                         "convolutional": [[0.6, 0.6], [0.7, 0.7], [0.9, 0.9]]}}
    fig = drawn_without_leak(dtn.sample_efficiency, sizes, panels)
    axes = fig.get_axes()
    assert [ax.get_title() for ax in axes] == ["centred digits", "digits placed anywhere"]
    assert axes[0].get_xscale() == "log" and axes[0].get_yscale() == "log"
    # One error-bar container per network: the line joins the mean errors (1 - accuracy), the
    # bars span the 95 % Student-t interval of the mean over the seeds.
    dense, convolutional = axes[0].containers
    line, _, (bars,) = convolutional.lines
    errors = [0.39, 0.29, 0.09]
    assert list(line.get_ydata()) == pytest.approx(errors)
    std = np.std(conv, axis=1, ddof=1) * 12.706204736174707 / np.sqrt(2)
    segments = bars.get_segments()
    assert [(seg[0][1], seg[1][1]) for seg in segments] == [
        pytest.approx((m - d, m + d)) for m, d in zip(errors, std)]
    assert list(axes[1].containers[0].lines[0].get_ydata()) == pytest.approx([0.9, 0.8, 0.5])
    # The legend sits outside both panels.
    assert fig.legends and not axes[0].get_legend()
    assert "digits placed anywhere: dense 10% to 50%, convolutional 60% to 90%" in fig.alt
    assert "from 50 to 1,297" in fig.alt and "mean over up to 2 seeds" in fig.alt
    assert "95% confidence intervals" in fig.alt
    # A size not run (NaN) is left out; a simple method is a dashed line without bars.
    nan = float("nan")
    fig = drawn_without_leak(dtn.sample_efficiency, sizes, {"a": {
        "locally connected": [[0.5, 0.6], [0.7, 0.8], [nan, nan]], "1-nearest neighbour": [0.4, 0.5, 0.6]}})
    (container,) = fig.get_axes()[0].containers
    assert list(container.lines[0].get_xdata()) == [50, 100]
    assert fig.get_axes()[0].get_lines()[-2].get_linestyle() == "--" or any(
        ln.get_linestyle() == "--" for ln in fig.get_axes()[0].get_lines())
    # Fewer seeds at one size (NaN for the seeds not run): that point's mean and interval
    # come from the seeds that ran.
    fig = drawn_without_leak(dtn.sample_efficiency, sizes, {"a": {
        "dense": [[0.5, 0.6, 0.7], [0.7, 0.8, 0.9], [0.9, 0.95, nan]]}})
    (container,) = fig.get_axes()[0].containers
    line, _, (bars,) = container.lines
    assert list(line.get_ydata()) == pytest.approx([0.4, 0.2, 0.075])
    low, high = bars.get_segments()[2][:, 1]
    assert (high - low) / 2 == pytest.approx(np.std([0.9, 0.95], ddof=1) * 12.706204736174707 / np.sqrt(2))
    with pytest.raises(ValueError, match="^panels must hold 3 rows"):
        dtn.sample_efficiency(sizes, {"x": {"dense": [[0.1, 0.2]]}})


def test_draw_shift_generalisation(split):
    examples = torch.stack([data.shift_inside(split.test_images[:1], 0, s)[0, 0] for s in range(5)])
    dense = np.array([[0.9, 0.5, 0.2, 0.1, 0.1], [0.8, 0.5, 0.2, 0.1, 0.3]]).T
    curves = {"dense": dense, "convolutional": np.array([[0.95, 0.7, 0.95, 0.7, 0.93]] * 2).T}
    fig = drawn_without_leak(dtn.shift_generalisation, range(5), curves, examples)
    axes = fig.get_axes()
    assert len(axes) == 6  # five thumbnails and the plot
    assert [ax.get_title() for ax in axes[:5]] == [f"moved {s}" for s in range(5)]
    lines = axes[5].get_lines()
    assert list(lines[0].get_ydata()) == pytest.approx(dense.mean(axis=1))
    assert list(lines[1].get_ydata()) == pytest.approx([0.95, 0.7, 0.95, 0.7, 0.93])
    # A band spanning the 95 % Student-t interval of each mean curve (2 seeds: t = 12.706).
    (band, _) = axes[5].collections[:2]
    top = band.get_paths()[0].vertices[:, 1].max()
    half = dense.std(axis=1, ddof=1) * 12.706204736174707 / np.sqrt(2)
    assert top == pytest.approx(float((dense.mean(axis=1) + half).max()))
    assert "convolutional 95% at 0 and 93% at 4 pixels" in fig.alt and "mean over 2 seeds" in fig.alt


# --------------------------------------------------------------------------- the chapter


def _values(g, key):
    """The per-seed values the chapter glued beside a quoted mean and interval."""
    values = ast.literal_eval(g[f"{key}_values"])
    assert len(values) >= 5, f"{key}: fewer than five seeds"
    return values


def _verdict(g, key, margin=0.01):
    """The verdict of a glued comparison, recomputed from its glued sides; the glued verdict must agree."""
    a, b = ast.literal_eval(g[f"{key}_a"]), ast.literal_eval(g[f"{key}_b"])
    assert len(a) == len(b) >= 5
    verdict = stats.paired(a, b, margin=margin).verdict
    assert g[f"{key}_verdict"] == verdict, key
    return verdict


@pytest.mark.build
def test_trained_networks_chapter_numbers(executed):
    """The numbers the learning-curve chapter's prose quotes, and every verdict it states."""
    g = glued(executed, "book/08_trained_networks")
    assert int(g["n_train"]) == 1297 and int(g["n_test"]) == 1797 - 1297 and int(g["n_digits"]) == 1797
    assert int(g["params_dense"]) == dense_params()
    assert int(g["params_local"]) == local_params()
    assert int(g["params_conv"]) == conv_params()
    assert int(g["params_flat"]) == flat_params()
    # The stated rule is the one the code used.
    assert float(g["tol"]) == tn.RULE["tol"] and int(g["patience"]) == tn.RULE["patience"]
    assert int(g["max_epochs"]) == tn.RULE["max_epochs"] and int(g["batch_size"]) == tn.RULE["batch_size"]
    assert int(g["n_seeds"]) >= 10 and int(g["n_few"]) >= 5 and int(g["full_size"]) == 1297
    # Back-propagation reaches every first-layer kernel, and training converges.
    assert g["grad_shape"] == "(16, 1, 3, 3)" and int(g["grad_kernels"]) == int(g["n_kernels"]) == 16
    assert float(g["first_loss"]) == pytest.approx(np.log(10), abs=0.15)  # "about ln 10"
    assert g["same_weights"] == "identical"
    # "Every run stopped by the rule, and every network fits its training digits."
    assert g["all_converged"] == "True" and float(g["lowest_train"]) >= 0.99
    assert g["converged_sentence"] == "Every run stopped by the rule"
    # The test set's own sampling error, quoted once, and that of a difference between two networks:
    # under a point, with 300 digits and with all of them.
    assert float(g["test_sampling_error"]) == pytest.approx(stats.sampling_error(0.95, 500))
    # (of the difference averaged over the seeds, digit by digit: below one run's 1 to 1.5 points)
    assert 0.2 < float(g["diff_sampling_full"]) < 1.2 and 0.2 < float(g["diff_sampling_300"]) < 1.2
    assert float(g["conv_full_cost"]) > 0
    # Every glued comparison: its verdict follows from its glued values.
    keys = [k[:-len("_verdict")] for k in g if k.endswith("_verdict")]
    assert len(keys) >= 20
    verdicts = {k: _verdict(g, k) for k in keys}
    # The verdicts the prose states in words of its own (the rest it quotes as glued clauses).
    # Ten seeds on centred digits: "ahead of the dense network at every size measured".
    for size in (50, 100, 300, 1297):
        assert verdicts[f"centred_conv_dense_{size}"] == "ahead", size
    assert g["conv_ahead_sizes"] == ", ".join(f"{s:,}" for s in (50, 100, 300, 1297)
                                             if verdicts[f"centred_conv_dense_{s}"] == "ahead")
    assert g["summary_centred"].startswith(
        "On centred digits the convolutional network is ahead of the dense network at every size")
    # "the ratio of the dense network's errors to the convolutional network's grows".
    small, large = _values(g, "error_ratio_50"), _values(g, "error_ratio_1297")
    n = min(len(large), len(small))   # nested seeds: the first n of each
    grows = stats.paired(large[:n], small[:n], margin=0.1).verdict
    assert g["ratio_grows"] == grows
    assert ("grows from the smallest size to the largest" in g["summary_centred"]) == (grows == "ahead")
    assert g["ratio_reading"].startswith({"ahead": "relative to what is left to learn, the prior pays more",
                                          "unresolved": "the ratio rises, but", "level": "relative",
                                          "behind": "relative"}[grows])
    assert 1 < np.mean(small) < np.mean(large)
    # Exercise 4: doubling the seeds narrows a Student-t interval by more than sqrt(2).
    n = len(large)
    from scipy import stats as st
    expected = (st.t.ppf(0.975, n - 1) / n ** 0.5) / (st.t.ppf(0.975, 2 * n - 1) / (2 * n) ** 0.5)
    assert float(g["ratio_narrowing"]) == pytest.approx(expected) and expected > 2 ** 0.5
    assert g["extra_seeds"] == f"{n} to {2 * n - 1}"
    # The dense network is a weak reference: logistic regression matches or beats it with 50 and
    # 100 digits, and the summary names exactly the sizes where it does.
    assert verdicts["centred_dense_logistic_50"] == verdicts["centred_dense_logistic_100"] == "behind"
    beaten = [f"{s:,}" for s in (50, 100, 300, 1297) if verdicts[f"centred_dense_logistic_{s}"] == "behind"]
    listed = ", ".join(beaten[:-1]) + (" and " if len(beaten) > 1 else "") + beaten[-1]
    assert ("beats with " + listed + " digits") in g["summary_logistic"]
    assert ("matches with" in g["summary_logistic"]) == any(
        verdicts[f"centred_dense_logistic_{s}"] == "level" for s in (50, 100, 300, 1297))
    # The convolution against logistic regression: not ahead with the fewest digits, ahead with all.
    assert verdicts["centred_conv_logistic_50"] != "ahead"
    assert verdicts["centred_conv_logistic_1297"] == "ahead"
    # Nearest neighbours: the dense network is behind at every size, and no network ahead
    # anywhere ("summary_nn").
    for size in (50, 100, 300, 1297):
        assert verdicts[f"centred_dense_nn_{size}"] == "behind", size
        assert verdicts[f"centred_conv_nn_{size}"] != "ahead", size
    assert g["nn_beaten"] == "False" and g["summary_nn"].startswith("On centred digits no network")
    # "The flattened head and global max pooling end level"; "whether locality without sharing
    # helps, five seeds cannot say", centred and anywhere.
    reading = {"level": "costs nothing we can measure", "unresolved": "these seeds cannot say",
               "ahead": "knowing where a feature was helps", "behind": "ignores position does better"}
    assert reading[verdicts["centred_flat_conv_full"]] in g["flat_reading"]
    # Ten seeds below all 1,297 digits; five with all of them (each such run costs seconds).
    assert len(_values(g, "centred_conv_300")) >= 10 and len(_values(g, "centred_conv_1297")) >= 5
    assert verdicts["centred_local_dense_300"] == verdicts["anywhere_local_dense_300"] == "unresolved"
    # "On centred digits no network here is ahead of nearest neighbours at any size."
    for size in (50, 100, 300, 1297):
        nn_values = _values(g, f"centred_nn_{size}")
        for key in ("dense", "local", "conv", "flat"):
            if f"centred_{key}_{size}_values" in g:
                net = _values(g, f"centred_{key}_{size}")  # 5 seeds for some: the first 5 of 10
                assert stats.paired(net, nn_values[:len(net)]).verdict != "ahead"
    assert "ahead with 1 and 300" not in g["summary_centred"]
    assert g["summary_centred"].startswith("On centred digits the convolutional network is ahead")
    for key in ("anywhere_conv_dense_300", "anywhere_conv_flat_300", "anywhere_conv_local_300",
                "anywhere_conv_dense_full", "anywhere_conv_nn_full"):
        assert verdicts[key] in ("ahead", "behind"), key
    # Multiply-adds per image, quoted beside the parameter counts.
    assert int(g["madds_conv"]) == tn.multiply_adds(tn.build("convolutional")) == 332_096
    assert int(g["madds_dense"]) == tn.multiply_adds(tn.build("dense")) == 41_600
    assert verdicts["anywhere_conv_dense_300"] == "ahead" and verdicts["anywhere_conv_dense_full"] == "ahead"
    # "far ahead at every size measured" on digits placed anywhere.
    every = all(verdicts[f"anywhere_lead_{s}"] == "ahead" for s in (50, 100, 300, 1297))
    assert (g["anywhere_every_size"] == "far ahead at every size measured") == every and every
    for key in ("dense", "local", "conv", "flat"):
        for kind in ("centred", "anywhere"):
            assert 0.1 < np.mean(_values(g, f"{kind}_{key}_300")) <= 1
    # Every network is far above the majority class.
    assert max(_values(g, "centred_majority_300")) < 0.15


@pytest.mark.build
def test_controls_chapter_numbers(executed):
    """The width and learning-rate sweep on held-out digits, and the scrambled-pixel control."""
    g = glued(executed, "book/09_controls")
    keys = [k[:-len("_verdict")] for k in g if k.endswith("_verdict")]
    verdicts = {k: _verdict(g, k) for k in keys}
    assert int(g["params_conv_wide"]) == conv_params(32, 64) and int(g["params_dense"]) == dense_params()
    assert int(g["n_validation"]) == 400 and int(g["sweep_size"]) == 300 and int(g["n_few"]) >= 5
    # The sentences chosen from the verdicts say what the verdicts say.
    reading = {"ahead": "widening it helps", "behind": "widening it only makes it worse",
               "level": "changes nothing", "unresolved": "cannot say"}
    assert reading[verdicts["sweep_dense_wide_chosen"]] in g["dense_width_reading"]
    held = {"ahead": "is ahead", "level": "is level with it", "behind": "is behind",
            "unresolved": "is not resolved against it"}
    assert g["controls_width"].endswith(f"network {held[verdicts['sweep_best']]} on the held-out digits")
    chosen = {"ahead": "ahead too", "level": "are level", "behind": "it is behind", "unresolved": "do not resolve"}
    assert chosen[verdicts["sweep_conv_dense_wide"]] in g["controls_chosen"]
    assert int(g["madds_conv_wide"]) > int(g["madds_dense_best"])   # "more multiply-adds per image"
    default, smaller = verdicts["rate_conv_dense_10"], verdicts["rate_conv_dense_1"]
    assert g["rate_summary"].startswith("The smaller rate leaves the verdict as it was") == (smaller == default)
    assert ("dense network gets ahead" in g["rate_summary"]) == (smaller == "behind" != default)
    assert len(ast.literal_eval(g["rate_conv_dense_1_a"])) >= 10
    # On held-out digits, at 300, the rate does not put the dense network ahead.
    assert smaller != "behind" and default != "behind"
    # The widest convolutional network against the best dense one: ahead.
    assert verdicts["sweep_best"] == "ahead"
    # Scrambling "puts the convolution behind the dense network"; nearest neighbours unchanged.
    assert verdicts["scrambled_conv_vs_dense"] == "behind"
    assert g["controls_scrambled"] == "puts the convolution behind the dense network"
    assert verdicts["scrambled_conv_vs_plain"] == "behind"
    assert verdicts["scrambled_dense_vs_plain"] == "level"   # "the dense network does not notice"
    assert g["scrambled_nn_same"] == "True"
    assert len(_values(g, "scrambled_conv")) >= 10
    # Placed anywhere and then scrambled: the reading follows the verdict.
    anywhere = verdicts["scrambled_anywhere_conv_vs_dense"]
    assert g["scrambled_anywhere_reading"].startswith(
        {"behind": "Its whole lead", "level": "Its whole lead", "ahead": "Some of its lead",
         "unresolved": "These seeds"}[anywhere])
    assert anywhere in ("behind", "level")


@pytest.mark.build
def test_position_chapter_numbers(executed):
    """The numbers the chapter on moved digits quotes, and every verdict it states."""
    g = glued(executed, "book/10_position")
    assert int(g["n_train"]) == 1297 and int(g["n_test"]) == 500
    assert int(g["n_seeds"]) >= 10 and int(g["n_few"]) >= 5
    assert g["all_converged"] == "True"
    keys = [k[:-len("_verdict")] for k in g if k.endswith("_verdict")]
    verdicts = {k: _verdict(g, k) for k in keys}
    assert len(keys) >= 5
    # Generalisation across position: moved by 4 pixels, the three others are "hardly better
    # than guessing" (one time in ten); the convolutional network keeps most of its accuracy.
    moved = {key: _values(g, f"moved_{key}_4") for key in ("dense", "local", "conv", "flat")}
    for key in ("dense", "local", "flat"):
        assert np.mean(moved[key]) < 0.1 + 0.08
        assert stats.paired(moved["conv"][:len(moved[key])], moved[key]).verdict == "ahead"
    even, odd = _values(g, "moved_conv_even"), _values(g, "moved_conv_odd")
    assert stats.paired(even, odd).verdict == verdicts["moved_even_odd"] == "ahead"
    # "Robust to moves, not invariant": even moves better than odd ones, and worse than none.
    assert verdicts["moved_even_unmoved"] == "behind"
    low, high = float(g["even_same_low"].rstrip("%")), float(g["even_same_high"].rstrip("%"))
    assert 0 < low <= high < 100
    for key in ("augmented_conv_dense", "augmented_dense_plain"):
        assert verdicts[key] in ("ahead", "behind"), key
    assert verdicts["augmented_dense_plain"] == "ahead"
    # Augmentation closes most of the gap, not all of it: the augmented dense network is still
    # behind the convolutional network trained on digits placed anywhere.
    assert verdicts["augmented_conv_dense"] == "ahead"
    gap_before = np.mean(_values(g, "anywhere_conv_300")) - np.mean(_values(g, "anywhere_dense_300"))
    gap_after = np.mean(_values(g, "anywhere_conv_300")) - np.mean(_values(g, "augmented_dense"))
    assert 0 < gap_after < gap_before / 2
    # The augmented runs train for the fixed budget the prose states, and fit most of their digits.
    assert g["aug_all_epochs"] == "True" and int(g["aug_epochs"]) == tn.AUGMENTED_RULE["max_epochs"]
    for key in ("dense", "flat"):   # "right only ... of the time, so they are still learning"
        assert 0.8 < np.mean(_values(g, f"augmented_{key}_train")) < 0.99
    # Augmentation costs more than the rule: "{aug_cost_ratio} times".
    assert float(g["aug_cost_ratio"]) > float(g["aug_cost_conv"]) > 1
    # The summary names both augmented networks with their verdicts.
    assert g["aug_summary"].startswith("ahead of the augmented dense network")
    flat = verdicts["augmented_conv_flat"]
    assert {"ahead": " and of the augmented", "level": "level with the augmented flattened",
            "behind": "but behind the augmented flattened",
            "unresolved": "do not resolve it against the augmented flattened"}[flat] in g["aug_summary"]
    # The baseline beside the augmented accuracies.
    assert 0.1 < np.mean(_values(g, "anywhere_nn_300")) < np.mean(_values(g, "augmented_dense"))


def test_moved_probabilities_moves_the_digit_and_matches_the_logits(split):
    nets = {name: tn.build(name, seed=0) for name in ("dense", "convolutional")}
    image = split.test_images[0]
    moved, probs = tn.moved_probabilities(nets, image, 2, "left")
    assert torch.equal(moved, data.shift_inside(image[None], 0, -2)[0, 0])
    for name, net in nets.items():
        with torch.no_grad():
            expected = torch.softmax(net(moved[None, None]), dim=1)[0]
        assert torch.allclose(probs[name], expected) and float(probs[name].sum()) == pytest.approx(1.0)
    # Distance 0 leaves the digit as it is, whatever the direction.
    assert torch.equal(tn.moved_probabilities(nets, image, 0, "down")[0], image[0])
    with pytest.raises(ValueError, match="^direction must be one of"):
        tn.moved_probabilities(nets, image, 1, "north")


def test_draw_moved_digit(split):
    probs = {"dense": np.full(10, 0.1),
             "convolutional": np.array([0.0, 0.0, 0.0, 0.7, 0.1, 0.0, 0.0, 0.2, 0.0, 0.0])}
    fig = drawn_without_leak(dtn.moved_digit, split.test_images[0, 0], 3, probs)
    image_ax, bars_ax = fig.get_axes()
    assert image_ax.get_title() == "a 3"
    widths = [patch.get_width() for patch in bars_ax.patches]
    assert widths == pytest.approx([0.1, 0.7])
    assert [t.get_text() for t in bars_ax.get_yticklabels()] == ["dense", "convolutional"]
    # Ties go to the first class, as argmax does.
    assert [t.get_text() for t in bars_ax.texts] == ["says 0", "says 3"]
    assert "dense 10%, predicts 0; convolutional 70%, predicts 3" in fig.alt
    assert fig._suptitle.get_text() == "Networks trained on centred digits, shown a moved 3"


def test_moved_digit_frame_keeps_its_text_inside_and_off_the_digit():
    # The chapter's explorer frame: four networks, the values appended to the title. Everything stays
    # inside the image, and no network's name reaches into the digit's panel.
    probs = {name: np.eye(10)[k] * 0.9 + 0.01 for name, k in
             (("dense", 5), ("locally connected", 5), ("convolutional", 7), ("convolutional, flattened head", 4))}
    image = np.random.default_rng(0).random((28, 28))
    fig = framed(lambda distance, direction, digit: dtn.moved_digit(image, digit, probs),
                 distance=4, direction="left", digit=7)
    renderer = laid_out(fig)
    assert texts_outside(fig, renderer) == []
    image_ax, bars_ax = fig.get_axes()
    digit = image_ax.get_window_extent(renderer)
    for label in bars_ax.get_yticklabels():
        assert not overlap(label.get_window_extent(renderer), digit) and \
            label.get_window_extent(renderer).x0 > digit.x1, label.get_text()
    title = fig._suptitle.get_window_extent(renderer)
    assert all(title.y0 > ax.get_tightbbox(renderer).y1 for ax in fig.get_axes())


@pytest.mark.parametrize("args, match", [
    ((np.zeros(16), 3, {"dense": np.full(10, 0.1)}), "^image must be a 2-D array"),
    ((np.zeros((16, 16)), 10, {"dense": np.full(10, 0.1)}), r"^label must be a class in \[0, 9\]"),
    ((np.zeros((16, 16)), 3, {}), "^probabilities must map"),
    ((np.zeros((16, 16)), 3, {"dense": np.full(10, 0.1), "conv": np.full(9, 0.1)}), "^probabilities must each"),
])
def test_draw_moved_digit_bad_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        dtn.moved_digit(*args)


def test_baselines_on_the_subsets_compare_trains_on(small_split):
    out = tn.baselines(small_split, [20, 80], seeds=[0, 1])
    assert set(out) == set(tn.BASELINES)
    for values in out.values():
        assert values.shape == (2, 2) and bool(((values >= 0) & (values <= 1)).all())
    # One-nearest-neighbour by hand, for one cell: the subset compare's run with seed 1 trains on.
    images, labels = tn.training_subset(small_split, 20, 1)
    dist = ((small_split.test_images.flatten(1)[:, None] - images.flatten(1)[None]) ** 2).sum(-1)
    expected = float((labels[dist.argmin(1)] == small_split.test_labels).double().mean())
    assert float(out["1-nearest neighbour"][0, 1]) == pytest.approx(expected)
    # Majority class: balanced subsets tie, so class 0 (the lowest) is answered.
    assert float(out["majority class"][0, 0]) == pytest.approx(float((small_split.test_labels == 0).double().mean()))
    with pytest.raises(ValueError, match="^sizes must be in"):
        tn.baselines(small_split, [5])


def test_scramble_permutes_pixels_the_same_way_everywhere(split):
    mixed = data.scramble(split, seed=3)
    assert torch.equal(mixed.train_labels, split.train_labels)
    # The same permutation for training and test images, and distances are unchanged.
    flat, mixed_flat = split.train_images.flatten(1), mixed.train_images.flatten(1)
    assert torch.equal(flat.sort(dim=1).values, mixed_flat.sort(dim=1).values)
    torch.testing.assert_close(torch.cdist(split.test_images.flatten(1)[:20], flat[:50]),
                               torch.cdist(mixed.test_images.flatten(1)[:20], mixed_flat[:50]))
    assert not torch.equal(mixed.train_images, split.train_images)
    assert torch.equal(data.scramble(split, seed=3).test_images, mixed.test_images)
    with pytest.raises(ValueError, match="^split must be a DigitSplit"):
        data.scramble(split.train_images)


def test_validation_holds_out_training_digits_only(split):
    held = data.validation(split, n_validation=100, seed=1)
    assert len(held.test_labels) == 100 and len(held.train_labels) == len(split.train_labels) - 100
    # Together the two parts are exactly the training digits; the test digits are unused.
    both = torch.cat([held.train_images, held.test_images]).flatten(1)
    assert sorted(map(tuple, both.tolist())) == sorted(map(tuple, split.train_images.flatten(1).tolist()))
    assert not any(torch.equal(held.test_images[i], split.test_images[0]) for i in range(100))
    assert torch.equal(data.validation(split, 100, seed=1).test_labels, held.test_labels)
    assert not torch.equal(data.validation(split, 100, seed=2).test_labels, held.test_labels)


def test_multiply_adds_counts_each_weight_once_per_use():
    # Dense: every weight once per image. Convolutional: each kernel weight once per output position
    # (16 x 16 for layer 1, 8 x 8 after pooling for layer 2), the classifier's once.
    assert tn.multiply_adds(tn.build("dense")) == 256 * 128 + 128 * 64 + 64 * 10
    assert tn.multiply_adds(tn.build("convolutional")) == 16 * 9 * 256 + 32 * 16 * 9 * 64 + 32 * 10
    assert tn.multiply_adds(tn.build("locally connected")) == 256 * 8 * 9 + 64 * 16 * 8 * 9 + 16 * 10
    with pytest.raises(ValueError, match="^model must be a torch.nn.Module"):
        tn.multiply_adds("dense")
    with pytest.raises(ValueError, match="^canvas must be"):
        tn.multiply_adds(tn.build("dense"), canvas=2)


def test_the_augmented_rule_is_a_fixed_budget_beside_an_unchanged_rule():
    # Chapter 11 reads RULE; the augmented runs only lengthen the patience past the budget.
    assert tn.RULE == {"tol": 1e-3, "patience": 5, "max_epochs": 300, "batch_size": 128, "lr": 0.01}
    assert set(tn.AUGMENTED_RULE) == set(tn.RULE)
    assert tn.AUGMENTED_RULE["patience"] >= tn.AUGMENTED_RULE["max_epochs"]
    assert {k: v for k, v in tn.AUGMENTED_RULE.items() if k not in ("patience", "max_epochs")} == {
        k: v for k, v in tn.RULE.items() if k not in ("patience", "max_epochs")}
