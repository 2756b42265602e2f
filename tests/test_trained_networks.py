"""widgets.compute.trained_networks and widgets.draw.trained_networks, and the closing chapter's numbers.

Parameter counts are checked against formulas worked out by hand in the
comments; receptive fields against the support of an input gradient; the
training loop for bitwise determinism and for learning something real.
"""

import matplotlib

matplotlib.use("Agg")  # headless: before pyplot is imported anywhere

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from torch import nn  # noqa: E402

from conftest import glued  # noqa: E402
from widgets.compute import data  # noqa: E402
from widgets.compute import trained_networks as tn  # noqa: E402
from widgets.compute.local_connectivity import LocallyConnected2d  # noqa: E402
from widgets.draw import trained_networks as dtn  # noqa: E402

PROPERTY = settings(max_examples=25, deadline=None)


@pytest.fixture(scope="module")
def split():
    return tn.digit_split()


@pytest.fixture(scope="module")
def trained_cnn(split):
    """The chapter's convolutional network trained on all centred training digits (about a second)."""
    model = tn.build("convolutional", seed=0)
    tn.train_network(model, split.train_images, split.train_labels, steps=150, seed=0)
    return model


# --------------------------------------------------------------------------- closed forms

def dense_params(canvas=16, h1=128, h2=64):
    # Three Linear layers, each weights + biases.
    return canvas * canvas * h1 + h1 + h1 * h2 + h2 + h2 * 10 + 10


def conv_params(c1=8, c2=16, k=3):
    # Layer 1: c1 kernels of k x k, no bias. Layer 2: c2 filters of c1 x k x k plus a bias each.
    # Head after global max pooling: c2 x 10 + 10.
    return c1 * k * k + c2 * (c1 * k * k + 1) + c2 * 10 + 10


def local_params(canvas=16, c1=8, c2=16, k=3):
    # The same with a kernel per position: canvas² positions in layer 1, (canvas/2)² in layer 2,
    # whose biases are per unit (channel and position) as in LocallyConnected2d.
    half = canvas // 2
    return canvas ** 2 * c1 * k * k + half ** 2 * c2 * (c1 * k * k + 1) + c2 * 10 + 10


def flat_params(canvas=16, c1=8, c2=16, k=3):
    # Convolutional layers as above; the head reads all c2 x (canvas/2)² values.
    half = canvas // 2
    return c1 * k * k + c2 * (c1 * k * k + 1) + c2 * half * half * 10 + 10


def test_closed_forms_by_hand():
    assert dense_params() == 32_896 + 8_256 + 650 == 41_802
    assert conv_params() == 72 + 1_168 + 170 == 1_410
    assert local_params() == 18_432 + 74_752 + 170 == 93_354
    assert flat_params() == 72 + 1_168 + 10_250 == 11_490


# --------------------------------------------------------------------------- data


def test_digit_split_sizes_and_partition(split):
    images, labels = data.digits(16)
    assert split.train_images.shape == (1297, 1, 16, 16)
    assert split.test_images.shape == (500, 1, 16, 16)
    assert split.train_labels.shape == (1297,) and split.test_labels.shape == (500,)
    assert split.train_labels.dtype == torch.int64
    # Together they are exactly the data set: same class counts, same total ink.
    both = torch.cat([split.train_labels, split.test_labels])
    assert torch.equal(torch.bincount(both, minlength=10), torch.bincount(labels, minlength=10))
    total = split.train_images.sum() + split.test_images.sum()
    assert float(total) == pytest.approx(float(images.sum()), rel=1e-6)
    # Every image is centred: the 4-pixel border is blank.
    for part in (split.train_images, split.test_images):
        assert part[:, :, :4].abs().sum() == 0 and part[:, :, 12:].abs().sum() == 0
        assert part[:, :, :, :4].abs().sum() == 0 and part[:, :, :, 12:].abs().sum() == 0


def test_digit_split_is_seeded():
    a, b, c = tn.digit_split(seed=0), tn.digit_split(seed=0), tn.digit_split(seed=1)
    assert torch.equal(a.train_images, b.train_images) and torch.equal(a.test_labels, b.test_labels)
    assert not torch.equal(a.train_labels, c.train_labels)


@pytest.mark.parametrize("kwargs, name", [({"n_train": 5}, "n_train"), ({"n_train": 1797}, "n_train"),
                                          ({"seed": -1}, "seed"), ({"canvas": 7}, "canvas"),
                                          ({"n_train": 100.0}, "n_train")])
def test_digit_split_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        tn.digit_split(**kwargs)


def test_balanced_subset_spreads_classes_and_nests(split):
    labels = split.train_labels
    first = tn.balanced_subset(labels, 50, seed=3)
    assert torch.equal(torch.bincount(labels[first], minlength=10), torch.full((10,), 5))
    assert len(set(first.tolist())) == 50
    bigger = tn.balanced_subset(labels, 100, seed=3)
    assert torch.equal(bigger[:50], first)
    everything = tn.balanced_subset(labels, len(labels), seed=3)
    assert sorted(everything.tolist()) == list(range(len(labels)))
    assert not torch.equal(tn.balanced_subset(labels, 50, seed=4), first)


def test_balanced_subset_uneven_classes():
    labels = torch.tensor([0, 0, 0, 0, 1])
    order = tn.balanced_subset(labels, 5, seed=0)
    assert labels[order].tolist() == [0, 1, 0, 0, 0]  # class 1 runs out after one round


@pytest.mark.parametrize("args, match", [((torch.tensor([0.0, 1.0]), 1), "^labels"),
                                         ((torch.tensor([0, 1]), 3), "^n must be in"),
                                         ((torch.tensor([0, 1]), 0), "^n must be in"),
                                         ((torch.tensor([[0, 1]]), 1), "^labels")])
def test_balanced_subset_bad_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        tn.balanced_subset(*args)


def test_shift_moves_a_pixel_and_fills_zeros():
    x = torch.zeros(1, 1, 5, 6)
    x[0, 0, 2, 3] = 1.0
    x[0, 0, 1, 1] = 0.5
    y = tn.shift(x, 1, -1)
    expected = torch.zeros(1, 1, 5, 6)
    expected[0, 0, 3, 2] = 1.0
    expected[0, 0, 2, 0] = 0.5
    assert torch.equal(y, expected)
    assert torch.equal(x[0, 0, 2, 3], torch.tensor(1.0))  # input untouched


@PROPERTY
@given(dy=st.integers(-4, 4), dx=st.integers(-4, 4), seed=st.integers(0, 50))
def test_shift_of_centred_digits_equals_roll_and_inverts(split, dy, dx, seed):
    idx = torch.randint(0, 1297, (8,), generator=torch.Generator().manual_seed(seed))
    x = split.train_images[idx]
    moved = tn.shift(x, dy, dx)
    # The ink never wraps, so a shift is a roll here, and shifting back restores the digit.
    assert torch.equal(moved, torch.roll(x, (dy, dx), dims=(2, 3)))
    assert torch.equal(tn.shift(moved, -dy, -dx), x)


def test_shift_refuses_to_push_ink_off_the_canvas(split):
    x = split.train_images[:50]
    rows = x.abs().sum(dim=(0, 1, 3)).nonzero().flatten()
    cols = x.abs().sum(dim=(0, 1, 2)).nonzero().flatten()
    room_down, room_left = 15 - int(rows[-1]), int(cols[0])
    assert tn.shift(x, room_down, -room_left).sum() == pytest.approx(float(x.sum()))  # just fits
    with pytest.raises(ValueError, match=r"^dy must be in \[-\d+, \d+\] to keep the ink"):
        tn.shift(x, room_down + 1, 0)
    with pytest.raises(ValueError, match=f"^dx must be in \\[{-room_left}, "):
        tn.shift(x, 0, -room_left - 1)
    with pytest.raises(ValueError, match="^dy must be in"):
        tn.shift(x, 16, 0)
    with pytest.raises(ValueError, match="^dx must be an integer"):
        tn.shift(x, 0, 1.5)
    with pytest.raises(ValueError, match="^images must be 4-D"):
        tn.shift(x[0], 0, 0)
    # A blank image can be shifted by anything that fits the canvas.
    assert torch.equal(tn.shift(torch.zeros(1, 1, 4, 4), 3, -3), torch.zeros(1, 1, 4, 4))


def test_place_randomly_moves_each_digit_within_range(split):
    x = split.test_images[:40]
    placed = tn.place_randomly(x, 4, seed=0)
    assert torch.equal(placed, tn.place_randomly(x, 4, seed=0))
    assert not torch.equal(placed, tn.place_randomly(x, 4, seed=1))
    moves = set()
    for original, moved in zip(x, placed):
        match = [(dy, dx) for dy in range(-4, 5) for dx in range(-4, 5)
                 if torch.equal(tn.shift(original[None], dy, dx)[0], moved)]
        assert match, "each placed digit is its original, shifted"
        moves.add(match[0])
    assert len(moves) > 10  # genuinely random places, not one shift for all
    assert torch.equal(tn.place_randomly(x, 0, seed=0), x)


def test_anywhere_keeps_labels_and_ink(split):
    placed = tn.anywhere(split, max_shift=4, seed=0)
    assert torch.equal(placed.train_labels, split.train_labels)
    assert torch.equal(placed.test_labels, split.test_labels)
    torch.testing.assert_close(placed.train_images.sum(dim=(1, 2, 3)), split.train_images.sum(dim=(1, 2, 3)))
    assert not torch.equal(placed.test_images, split.test_images)
    with pytest.raises(ValueError, match="^split"):
        tn.anywhere((split.train_images, split.train_labels))
    with pytest.raises(ValueError, match="^dy must be in|^dx must be in"):
        tn.anywhere(split, max_shift=6)


# --------------------------------------------------------------------------- models


@pytest.mark.parametrize("name, expected", [
    ("dense", dense_params()), ("locally connected", local_params()), ("convolutional", conv_params()),
    ("convolutional, flattened head", flat_params())])
def test_parameter_counts_closed_forms(name, expected):
    assert tn.parameter_count(tn.build(name, seed=0)) == expected


@pytest.mark.parametrize("canvas, channels, k", [(8, (4, 6), 3), (12, (2, 3), 5), (16, (8, 16), 1)])
def test_local_network_counts_for_other_geometries(canvas, channels, k):
    c1, c2 = channels
    conv = tn.local_network(True, canvas, channels, k)
    local = tn.local_network(False, canvas, channels, k)
    flat = tn.local_network(True, canvas, channels, k, head="flatten")
    assert tn.parameter_count(conv) == conv_params(c1, c2, k)
    assert tn.parameter_count(local) == local_params(canvas, c1, c2, k)
    assert tn.parameter_count(flat) == flat_params(canvas, c1, c2, k)
    x = torch.rand(3, 1, canvas, canvas)
    for net in (conv, local, flat):
        assert net(x).shape == (3, 10)
    assert tn.parameter_count(tn.dense_network(canvas, (5, 7))) == dense_params(canvas, 5, 7)


def test_tied_local_network_computes_the_convolutional_one():
    # The two networks differ only in sharing: copy the convolution's kernels to
    # every position and the locally connected network computes the same function.
    cnn = tn.build("convolutional", seed=2).double()
    local = tn.build("locally connected", seed=2).double()
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
    (lambda: tn.parameter_count("net"), "^model must be a torch.nn.Module"),
])
def test_model_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --------------------------------------------------------------------------- training


@pytest.mark.parametrize("name", tn.NETWORKS)
def test_training_is_bitwise_deterministic(split, name):
    weights = []
    for _ in range(2):
        model = tn.build(name, seed=1)
        tn.train_network(model, split.train_images[:200], split.train_labels[:200], steps=15, seed=7)
        weights.append([p.detach().clone() for p in model.parameters()])
    assert all(torch.equal(p, q) for p, q in zip(*weights))
    other = tn.build(name, seed=1)
    tn.train_network(other, split.train_images[:200], split.train_labels[:200], steps=15, seed=8)
    assert not all(torch.equal(p, q) for p, q in zip(weights[0], other.parameters()))


def test_networks_run_on_one_thread_and_restore_the_setting(split):
    before = torch.get_num_threads()
    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append(torch.get_num_threads())
            return x.flatten(1)[:, :10]

    tn.train_network(tn.build("dense"), split.train_images[:10], split.train_labels[:10], steps=2)
    assert torch.get_num_threads() == before
    tn.accuracy(Probe(), split.test_images[:5], split.test_labels[:5])
    tn.shifted_accuracy(Probe(), split.test_images[:5], split.test_labels[:5], [0, 1])
    tn.hidden_maps(nn.Sequential(Probe()), split.test_images[:5])
    assert seen == [1] * (1 + 1 + 4 + 1)  # accuracy; shift 0; shift 1 in four directions; hidden_maps
    assert torch.get_num_threads() == before


def test_small_training_set_is_used_whole_at_every_step():
    # With fewer examples than the batch size, every step sees the same full batch:
    # the loss recorded at step t is then the full-data loss before update t.
    torch.manual_seed(0)
    x, y = torch.rand(6, 1, 16, 16), torch.arange(6)
    model = tn.build("dense", seed=0)
    run = tn.train_network(model, x, y, steps=3, batch_size=64, lr=0.01)
    assert len(run.losses) == 3
    with torch.no_grad():
        final = float(nn.functional.cross_entropy(model(x), y))
    assert final < run.losses[-1] < run.losses[0]
    assert run.wall_seconds > 0 and run.cpu_seconds >= 0


def test_short_training_beats_chance_by_far(split, trained_cnn):
    assert tn.accuracy(trained_cnn, split.test_images, split.test_labels) > 0.9
    dense = tn.build("dense", seed=0)
    run = tn.train_network(dense, split.train_images, split.train_labels, steps=100, seed=0)
    assert run.losses[-1] < 0.5 * run.losses[0]
    assert tn.accuracy(dense, split.test_images, split.test_labels) > 0.85


def test_gradient_reaches_every_first_layer_kernel(split):
    model = tn.build("convolutional", seed=0)
    x, y = split.train_images[:64], split.train_labels[:64]
    grad = tn.first_layer_gradient(model, x, y)
    assert grad.shape == (8, 1, 3, 3)
    assert bool((grad.flatten(1).abs().sum(dim=1) > 0).all())
    assert model[0].weight.grad is None  # the model's own .grad is left alone
    # The same numbers as an ordinary backward pass (up to rounding: the function runs on
    # one thread, this pass on the default number, and sums may be split differently).
    nn.functional.cross_entropy(model(x), y).backward()
    torch.testing.assert_close(grad, model[0].weight.grad, rtol=1e-4, atol=1e-7)
    # Every parameter of every layer receives a gradient, the kernels of layer 2 included.
    assert all(bool(p.grad.abs().sum() > 0) for p in model.parameters())


def test_accuracy_hand_example():
    model = nn.Flatten()  # the "logits" are the inputs themselves
    x = torch.tensor([[[[0.0, 1.0]]], [[[1.0, 0.0]]], [[[0.2, 0.1]]], [[[0.0, 0.3]]]])
    y = torch.tensor([1, 0, 1, 1])
    assert tn.accuracy(model, x, y) == 0.75


@pytest.mark.parametrize("kwargs, match", [
    ({"steps": 0}, "^steps"), ({"batch_size": 0}, "^batch_size"), ({"lr": 0}, r"^lr must be a number in \(0, 1\]"),
    ({"lr": True}, "^lr"), ({"seed": -2}, "^seed"),
])
def test_train_network_bad_arguments(split, kwargs, match):
    with pytest.raises(ValueError, match=match):
        tn.train_network(tn.build("dense"), split.train_images[:4], split.train_labels[:4], **kwargs)


@pytest.mark.parametrize("images, labels, match", [
    (torch.rand(4, 1, 16, 16), torch.tensor([0, 1, 2]), "^labels must have one entry per image"),
    (torch.rand(4, 1, 16, 16), torch.tensor([0.0, 1.0, 2.0, 3.0]), "^labels must be a 1-D int64"),
    (torch.zeros(4, 1, 16, 16, dtype=torch.int64), torch.tensor([0, 1, 2, 3]), "^images must be"),
    (torch.rand(0, 1, 16, 16), torch.zeros(0, dtype=torch.int64), "^images must hold at least one"),
])
def test_labelled_data_is_checked(images, labels, match):
    with pytest.raises(ValueError, match=match):
        tn.accuracy(tn.build("dense"), images, labels)


def test_sample_efficiency_shapes_and_full_size_run(split):
    small = tn.DigitSplit(split.train_images[:60], split.train_labels[:60],
                          split.test_images[:30], split.test_labels[:30])
    study = tn.sample_efficiency(small, [20, 60], names=("dense", "convolutional"), seeds=[0, 1], steps=4)
    assert study.sizes == (20, 60) and study.seeds == (0, 1)
    for name in ("dense", "convolutional"):
        assert study.accuracy[name].shape == (2, 2)
        assert bool(((study.accuracy[name] >= 0) & (study.accuracy[name] <= 1)).all())
        assert bool((study.cpu_seconds[name] >= 0).all()) and bool((study.wall_seconds[name] > 0).all())
        # As documented: the kept model is exactly train_network on the whole split with seed 0.
        again = tn.build(name, seed=0)
        assert all(torch.equal(p, q) for p, q in zip(again.parameters(), study.initial[name].parameters()))
        tn.train_network(again, small.train_images, small.train_labels, steps=4, seed=0)
        assert all(torch.equal(p, q) for p, q in zip(again.parameters(), study.models[name].parameters()))
        assert study.accuracy[name][1, 0] == tn.accuracy(again, small.test_images, small.test_labels)


@pytest.mark.parametrize("kwargs, match", [
    ({"sizes": [0]}, "^sizes"), ({"sizes": [10, 10]}, "^sizes must be distinct"),
    ({"sizes": [2000]}, "^sizes"), ({"names": ["mlp"]}, "^names must be one of"),
    ({"names": "dense"}, "^names must be a non-empty sequence"), ({"seeds": []}, "^seeds"),
])
def test_sample_efficiency_bad_arguments(split, kwargs, match):
    args = {"sizes": [10], "names": ("dense",), "steps": 1, **kwargs}
    with pytest.raises(ValueError, match=match):
        tn.sample_efficiency(split, **args)
    with pytest.raises(ValueError, match="^split"):
        tn.sample_efficiency((split.train_images, split.train_labels), [10])


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
    assert scores[0] == tn.accuracy(dense, x, y)
    manual = np.mean([tn.accuracy(dense, tn.shift(x, dy, dx), y) for dy, dx in ((-2, 0), (2, 0), (0, -2), (0, 2))])
    assert scores[1] == pytest.approx(manual)
    # The trained convolutional network with global max pooling: even shifts move the pooled
    # maps by whole cells, so it keeps (nearly) all of its accuracy there.
    conv = tn.shifted_accuracy(trained_cnn, split.test_images, split.test_labels, [0, 2, 4])
    assert conv[1] > conv[0] - 0.03 and conv[2] > conv[0] - 0.08
    with pytest.raises(ValueError, match="^dy must be in|^dx must be in"):
        tn.shifted_accuracy(dense, x, y, [5])


# --------------------------------------------------------------------------- what the layers learn


def test_receptive_fields_of_the_chapter_networks():
    # Layer 1: a 3 x 3 window, padding 1. Layer 2: + 1 for the 2 x 2 pooling, then
    # + (3 - 1) x 2 for a 3 x 3 kernel on the pooled map (jump 2): 3 + 1 + 4 = 8;
    # its start moves by -1 (padding 1 at jump 1), then -2 (padding 1 at jump 2).
    for name in ("convolutional", "locally connected"):
        assert tn.receptive_fields(tn.build(name)) == [tn.Field(3, 1, -1), tn.Field(8, 2, -3)]
    net = tn.local_network(True, 16, (2, 2), kernel_size=5)
    assert tn.receptive_fields(net) == [tn.Field(5, 1, -2), tn.Field(5 + 1 + 4 * 2, 2, -2 - 4)]


@pytest.mark.parametrize("row, col", [(0, 0), (2, 3), (7, 7), (4, 1)])
def test_receptive_field_is_the_support_of_the_input_gradient(row, col):
    # Average pooling and positive weights on positive inputs: every pixel in the field
    # contributes, so the gradient's support is exactly the field (clipped to the canvas).
    net = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1, bias=False), nn.ReLU(), nn.AvgPool2d(2),
                        nn.Conv2d(1, 1, 3, padding=1), nn.ReLU())
    with torch.no_grad():
        for m in net:
            if isinstance(m, nn.Conv2d):
                m.weight.fill_(1.0)
                if m.bias is not None:
                    m.bias.zero_()
    field = tn.receptive_fields(net)[1]
    x = (torch.rand(1, 1, 16, 16, generator=torch.Generator().manual_seed(0)) + 0.1).requires_grad_(True)
    net(x)[0, 0, row, col].backward()
    rows, cols = x.grad[0, 0].abs().sum(dim=1).nonzero().flatten(), x.grad[0, 0].abs().sum(dim=0).nonzero().flatten()
    top, left = row * field.jump + field.start, col * field.jump + field.start
    assert (int(rows[0]), int(rows[-1])) == (max(top, 0), min(top + field.size - 1, 15))
    assert (int(cols[0]), int(cols[-1])) == (max(left, 0), min(left + field.size - 1, 15))


def test_receptive_fields_bad_arguments():
    with pytest.raises(ValueError, match="^model must be a torch.nn.Sequential"):
        tn.receptive_fields(nn.Conv2d(1, 1, 3))
    with pytest.raises(ValueError, match="^model must have no dilation"):
        tn.receptive_fields(nn.Sequential(nn.Conv2d(1, 1, 3, dilation=2)))
    with pytest.raises(ValueError, match="^model must have square kernel_size"):
        tn.receptive_fields(nn.Sequential(nn.Conv2d(1, 1, (3, 5))))


def test_hidden_maps_are_the_relu_outputs(split, trained_cnn):
    x = split.test_images[:5]
    maps = tn.hidden_maps(trained_cnn, x)
    assert [tuple(m.shape) for m in maps] == [(5, 8, 16, 16), (5, 16, 8, 8)]
    with torch.no_grad():
        first = torch.relu(trained_cnn[0](x))
        second = torch.relu(trained_cnn[3](trained_cnn[2](first)))
    torch.testing.assert_close(maps[0], first, rtol=0, atol=0)
    torch.testing.assert_close(maps[1], second, rtol=0, atol=0)
    assert len(tn.hidden_maps(tn.build("locally connected"), x)) == 2
    assert tn.hidden_maps(tn.build("dense"), x) == []


def test_top_patches_hand_example():
    # Four 6 x 6 images with one bright pixel each; the "layer" is the image itself
    # (field of one pixel), and we read 3 x 3 patches around the winners.
    images = torch.zeros(4, 1, 6, 6)
    spots = [(0, 0, 0.5), (2, 3, 0.9), (5, 5, 0.7), (3, 1, 0.2)]
    for i, (r, c, v) in enumerate(spots):
        images[i, 0, r, c] = v
    top = tn.top_patches(images, images, tn.Field(3, 1, -1), channel=0, k=3)
    assert top.images.tolist() == [1, 2, 0]
    assert torch.allclose(top.values, torch.tensor([0.9, 0.7, 0.5]))
    assert top.rows.tolist() == [2, 5, 0] and top.cols.tolist() == [3, 5, 0]
    assert top.patches.shape == (3, 3, 3)
    # Each patch is centred on its bright pixel; at the corners the field hangs over the edge
    # and the outside is zero.
    for patch, value in zip(top.patches, (0.9, 0.7, 0.5)):
        assert float(patch[1, 1]) == pytest.approx(value) and float(patch.sum()) == pytest.approx(value)


def test_top_patches_one_per_image_and_field_size(split, trained_cnn):
    maps = tn.hidden_maps(trained_cnn, split.test_images)
    fields = tn.receptive_fields(trained_cnn)
    top = tn.top_patches(split.test_images, maps[1], fields[1], channel=3, k=8)
    assert top.patches.shape == (8, 8, 8)
    assert len(set(top.images.tolist())) == 8
    assert bool((top.values[:-1] >= top.values[1:]).all())
    best = maps[1][:, 3].flatten(1).max(dim=1).values
    assert float(top.values[0]) == float(best.max())
    for patch, i, r, c in zip(top.patches, top.images, top.rows, top.cols):
        top_row, left = int(r) * 2 - 3, int(c) * 2 - 3
        padded = nn.functional.pad(split.test_images[int(i), 0], (8, 8, 8, 8))
        assert torch.equal(patch, padded[8 + top_row:8 + top_row + 8, 8 + left:8 + left + 8])


@pytest.mark.parametrize("kwargs, match", [({"channel": 16}, "^channel"), ({"k": 0}, "^k must be in"),
                                           ({"field": (8, 2, -3)}, "^field must be a Field")])
def test_top_patches_bad_arguments(split, kwargs, match):
    maps = torch.rand(10, 16, 8, 8)
    args = {"field": tn.Field(8, 2, -3), "channel": 0, "k": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        tn.top_patches(split.test_images[:10], maps, **args)
    with pytest.raises(ValueError, match="^maps must have one entry per image"):
        tn.top_patches(split.test_images[:9], maps, tn.Field(8, 2, -3), 0)


def test_kernel_views_and_first_layer_kernels(trained_cnn):
    assert torch.equal(tn.kernel_view(trained_cnn, 1, 2), trained_cnn[0].weight.detach()[2, 0])
    torch.testing.assert_close(tn.kernel_view(trained_cnn, 2, 5), trained_cnn[3].weight.detach()[5].sum(dim=0))
    kernels = tn.first_layer_kernels(trained_cnn)
    assert kernels.shape == (8, 3, 3)
    kernels += 1  # a copy: the model is untouched
    assert not torch.equal(kernels, trained_cnn[0].weight.detach()[:, 0])
    with pytest.raises(ValueError, match="^layer must be in"):
        tn.kernel_view(trained_cnn, 3, 0)
    with pytest.raises(ValueError, match="^channel must be in"):
        tn.kernel_view(trained_cnn, 1, 8)
    with pytest.raises(ValueError, match="^model must contain a torch.nn.Conv2d"):
        tn.first_layer_kernels(tn.build("dense"))


# --------------------------------------------------------------------------- one dimension


def test_motif_is_a_slow_rise_then_a_sharp_fall():
    m = tn.motif(7)
    assert m.shape == (7,) and abs(float(m.sum())) < 1e-6
    peak, trough = int(m.argmax()), int(m.argmin())
    assert peak < trough and trough - peak <= 2  # the fall is short
    assert bool((m[1:peak + 1] > m[:peak]).all())  # a steady rise up to the peak
    assert not torch.equal(m, m.flip(0))  # its reversal is a different pattern


def test_motif_signals_without_noise_hold_the_pattern():
    x, y, pos = tn.motif_signals(40, length=30, noise=0.0, seed=3)
    assert x.shape == (40, 1, 30) and int(y.sum()) == 20
    m = tn.motif()
    for signal, label, p in zip(x[:, 0], y, pos):
        expected = torch.zeros(30)
        expected[p:p + 7] = m if label else m.flip(0)
        assert torch.equal(signal, expected)
    signal = tn.motif_example(length=40, motif_at=(0, 20), decoy_at=(10,), noise=0.0)
    assert torch.equal(signal[0:7], m) and torch.equal(signal[20:27], m) and torch.equal(signal[10:17], m.flip(0))
    with pytest.raises(ValueError, match="^motif_at"):
        tn.motif_example(length=40, motif_at=(35,))
    with pytest.raises(ValueError, match="^noise"):
        tn.motif_signals(4, noise=-1.0)
    with pytest.raises(ValueError, match="^length"):
        tn.motif_signals(4, length=10)


def test_motif_detector_learns_and_responds_where_the_motif_is():
    x, y, _ = tn.motif_signals(512, seed=0)
    tx, ty, _ = tn.motif_signals(256, seed=1)
    detector = tn.motif_detector(7, seed=0)
    assert detector(x[:3]).shape == (3, 2)
    tn.train_network(detector, x, y, steps=150, lr=0.05, seed=0)
    assert tn.accuracy(detector, tx, ty) > 0.9
    signal = tn.motif_example(length=96, motif_at=(12, 64), decoy_at=(38,), seed=2)
    responses = tn.motif_responses(detector, signal)
    assert responses.shape == (2, 90)
    torch.testing.assert_close(responses, nn.functional.conv1d(signal.view(1, 1, -1), detector[0].weight,
                                                              detector[0].bias)[0])
    assert abs(int(responses[1].argmax()) - 12) <= 3 or abs(int(responses[1].argmax()) - 64) <= 3
    assert abs(int(responses[0].argmax()) - 38) <= 3
    # It runs on signals of any length: the head is a maximum over time.
    assert detector(torch.zeros(2, 1, 200)).shape == (2, 2)
    with pytest.raises(ValueError, match="^detector"):
        tn.motif_responses(nn.Sequential(nn.Linear(2, 2)), signal)


# --------------------------------------------------------------------------- draw


def _no_leak(fn, *args, **kwargs):
    before = plt.get_fignums()
    fig = fn(*args, **kwargs)
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == before
    fig.canvas.draw()
    return fig


def test_draw_kernels_before_after():
    gen = torch.Generator().manual_seed(0)
    before, after = torch.randn(8, 3, 3, generator=gen), torch.randn(8, 3, 3, generator=gen)
    grad = torch.randn(8, 3, 3, generator=gen) * 1e-3
    grad[3] = 0
    fig = _no_leak(dtn.kernels_before_after, before, grad, after)
    assert len(fig.get_axes()) == 24
    assert [ax.get_title() for ax in fig.get_axes()[:8]] == [f"channel {c}" for c in range(8)]
    assert "non-zero for 7 of the 8 kernels" in fig.alt
    labels = [ax.get_xlabel() for ax in fig.get_axes()[8:16]]
    assert labels[3] == "±0.0e+00" and labels[0] == f"±{float(grad[0].abs().max()):.1e}"
    assert fig._suptitle.get_text() == "First-layer kernels of the convolutional network"


def test_draw_placements(split):
    fig = _no_leak(dtn.placements, split.train_images[:8], tn.shift(split.train_images[:8], 2, -3), count=6)
    assert len(fig.get_axes()) == 12
    assert "6 handwritten digits on a 16 by 16 canvas" in fig.alt


def test_draw_sample_efficiency():
    sizes = [50, 100, 1297]
    panels = {"centred digits": {"dense": [0.7, 0.8, 0.9], "convolutional": [[0.6, 0.62], [0.7, 0.71], [0.9, 0.92]]},
              "digits placed anywhere": {"dense": [0.1, 0.2, 0.5], "convolutional": [0.6, 0.7, 0.9]}}
    fig = _no_leak(dtn.sample_efficiency, sizes, panels)
    axes = fig.get_axes()
    assert [ax.get_title() for ax in axes] == ["centred digits", "digits placed anywhere"]
    assert axes[0].get_xscale() == "log"
    dense_line = axes[1].get_lines()[0]
    assert list(dense_line.get_ydata()) == [0.1, 0.2, 0.5]
    conv_mean = axes[0].get_lines()[1]
    assert list(conv_mean.get_ydata()) == pytest.approx([0.61, 0.705, 0.91])
    assert "digits placed anywhere: dense 10% to 50%, convolutional 60% to 90%" in fig.alt
    assert "from 50 to 1,297" in fig.alt


def test_draw_shift_generalisation(split):
    examples = torch.stack([tn.shift(split.test_images[:1], 0, s)[0, 0] for s in range(5)])
    curves = {"dense": [0.9, 0.5, 0.2, 0.1, 0.1], "convolutional": [0.95, 0.7, 0.95, 0.7, 0.93]}
    fig = _no_leak(dtn.shift_generalisation, range(5), curves, examples)
    axes = fig.get_axes()
    assert len(axes) == 6  # five thumbnails and the plot
    assert [ax.get_title() for ax in axes[:5]] == [f"moved {s}" for s in range(5)]
    assert [list(line.get_ydata()) for line in axes[5].get_lines()[:2]] == list(curves.values())
    assert "convolutional 95% at 0 and 93% at 4 pixels" in fig.alt


def test_draw_feature_frame_outlines_the_strongest_field(split, trained_cnn):
    maps = tn.hidden_maps(trained_cnn, split.test_images)
    fields = tn.receptive_fields(trained_cnn)
    top = tn.top_patches(split.test_images, maps[1], fields[1], 4, k=8)
    fmap = maps[1][0, 4]
    fig = _no_leak(dtn.feature_frame, split.test_images[0, 0], tn.kernel_view(trained_cnn, 2, 4), fmap, top,
                   layer=2, channel=4, field=fields[1])
    axes = fig.get_axes()
    assert len(axes) == 3 + 8
    titles = [ax.get_title() for ax in axes]  # the patch row first, then the three spanning axes
    assert titles[8:] == ["kernel (summed)", "digit; field 8 × 8", "feature map on the digit"]
    assert titles[:8] == [f"{float(v):.2f}" for v in top.values]
    (rect,) = [p for p in axes[9].patches if isinstance(p, Rectangle)]
    r, c = np.unravel_index(int(fmap.argmax()), fmap.shape)
    assert rect.get_xy() == (c * 2 - 3 - 0.5, r * 2 - 3 - 0.5)
    assert rect.get_width() == 8 == rect.get_height()
    assert "Layer 2, channel 4" in fig.alt and "the 8 8 by 8 test-set patches" in fig.alt
    assert fig._suptitle.get_text() == "What layer 2, channel 4 responds to"


def test_draw_feature_frame_blank_map_has_no_outline(split):
    top = tn.TopPatches(torch.zeros(4, 3, 3), torch.zeros(4), torch.arange(4), torch.zeros(4), torch.zeros(4))
    fig = _no_leak(dtn.feature_frame, torch.zeros(16, 16), torch.zeros(3, 3), torch.zeros(16, 16), top,
                   layer=1, channel=0, field=tn.Field(3, 1, -1))
    assert not [p for ax in fig.get_axes() for p in ax.patches if isinstance(p, Rectangle)]
    with pytest.raises(ValueError, match="^top must hold at least 3 patches"):
        dtn.feature_frame(torch.zeros(16, 16), torch.zeros(3, 3), torch.zeros(16, 16),
                          tn.TopPatches(torch.zeros(2, 3, 3), torch.zeros(2), *[torch.zeros(2)] * 3),
                          layer=1, channel=0, field=tn.Field(3, 1, -1))


def test_draw_motif_detection():
    signal = tn.motif_example(length=60, motif_at=(5,), decoy_at=(30,), noise=0.0)
    kernels = torch.stack([tn.motif().flip(0), tn.motif()])
    responses = nn.functional.conv1d(signal.view(1, 1, -1), kernels[:, None])[0]
    fig = _no_leak(dtn.motif_detection, signal, responses, kernels, tn.motif(), motif_at=(5,), decoy_at=(30,))
    assert len(fig.get_axes()) == 4
    # A matched filter peaks exactly where its pattern starts.
    assert "the motif kernel peaks at 5, the decoy kernel at 30" in fig.alt


# --------------------------------------------------------------------------- the chapter


def test_trained_networks_chapter_numbers(book_build):
    """The numbers the closing chapter's prose quotes, against closed forms and sanity bounds."""
    if book_build.executed is None:
        pytest.skip("CW_SITE set: no executed notebooks")
    g = glued(book_build.executed, "book/07_trained_networks")
    assert int(g["n_train"]) == 1297 and int(g["n_test"]) == 1797 - 1297
    assert int(g["params_dense"]) == dense_params()
    assert int(g["params_local"]) == local_params()
    assert int(g["params_conv"]) == conv_params()
    assert int(g["params_flat"]) == flat_params()
    assert float(g["local_conv_ratio"]) == pytest.approx(local_params() / conv_params())
    # Back-propagation reaches every first-layer kernel.
    assert g["grad_shape"] == "(8, 1, 3, 3)"
    assert int(g["grad_kernels"]) == int(g["n_kernels"]) == 8
    assert float(g["first_loss"]) == pytest.approx(np.log(10), abs=0.15)  # a near-uniform first guess
    assert float(g["last_loss"]) < 0.5
    assert float(g["cnn_accuracy"]) > 0.9
    assert g["same_weights"] == "identical"
    assert int(g["kernels_moved"]) == 8
    # Centred digits: every network learns, and the three are close at every size.
    for key in ("dense", "local", "conv", "flat"):
        assert float(g[f"centred_{key}"]) > 0.9
        assert float(g[f"time_{key}"]) > 0
    assert float(g["centred_spread"]) < 0.08
    # "No advantage on centred digits": the convolutional network is not ahead there.
    assert float(g["centred_conv"]) <= max(float(g["centred_dense"]), float(g["centred_local"])) + 0.02
    # Digits anywhere: the prose's comparisons hold.
    conv50, dense_all = float(g["anywhere_conv_50"]), float(g["anywhere_dense"])
    assert float(g["anywhere_conv"]) > 0.85
    assert conv50 > dense_all
    assert float(g["anywhere_local"]) <= dense_all + 0.02
    assert float(g["anywhere_flat"]) < float(g["anywhere_conv"]) - 0.15
    for key in ("dense", "local", "flat"):
        assert float(g[f"anywhere_{key}_50"]) < 0.3
    # Trained centred, tested moved: only the shared kernels with the max-pooling head transfer.
    assert float(g["moved_conv_4"]) > 0.85
    for key in ("dense", "local", "flat"):
        assert float(g[f"moved_{key}_4"]) < 0.2
    assert float(g["moved_conv_even"]) > float(g["moved_conv_odd"]) + 0.1
    assert float(g["moved_conv_even"]) > float(g["centred_conv"]) - 0.05
    # Receptive fields from the geometry: 3, then 3 + 1 + 2 x 2.
    assert int(g["field_1"]) == 3 and int(g["field_2"]) == 8
    assert int(g["feature_frames"]) == 2 * 8 * 2
    assert int(g["steps"]) == 150 and float(g["epochs"]) == pytest.approx(150 * 64 / 1297)
    # The 1-D detector.
    assert float(g["motif_accuracy"]) > 0.9
    assert abs(int(g["motif_peak"]) - 12) <= 2 or abs(int(g["motif_peak"]) - 64) <= 2
    assert abs(int(g["decoy_peak"]) - 38) <= 3
    assert min(float(g["motif_response_1"]), float(g["motif_response_2"])) > float(g["motif_response_elsewhere"])
