"""Tests of the receptive-field topic: widgets.compute.receptive_fields and
widgets.draw.receptive_fields, and the numbers the chapter quotes.

The calculator is checked against hand-worked cases, against the backward
recurrence r_{l-1} = s_l r_l + (k_l - s_l), against PyTorch's own output
shapes, and against the support of real input gradients; the effective field
against the closed form for all-ones weights (a sum of independent uniform
steps).
"""

import itertools
import json
import math

import numpy as np
import pytest
import torch
from conftest import glued
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from widgets.compute import data, stats, training
from widgets.compute import receptive_fields as rf
from widgets.draw import receptive_fields as drf
from widgets.draw import style

Layer = rf.Layer
PROPERTY = settings(max_examples=60, deadline=None)


@st.composite
def layers_st(draw, max_depth=4):
    """Random stacks: depth 1-4, kernel 1-5, stride 1-2, padding 0-2, dilation 1-2, mixed conv/pooling."""
    layers = []
    for _ in range(draw(st.integers(1, max_depth))):
        kind = draw(st.sampled_from(rf.KINDS))
        k = draw(st.integers(1, 5))
        s = draw(st.integers(1, 2))
        if kind == "conv":
            layers.append(Layer(kind, k, s, draw(st.integers(0, 2)), draw(st.integers(1, 2))))
        else:
            layers.append(Layer(kind, k, s, draw(st.integers(0, min(2, k // 2)))))
    return layers


# --------------------------------------------------------------------------- Layer


def test_layer_defaults_span_and_text():
    layer = Layer()
    assert (layer.kind, layer.kernel_size, layer.stride, layer.padding, layer.dilation) == ("conv", 3, 1, 0, 1)
    assert layer.span == 3
    assert Layer("conv", 3, dilation=2).span == 5
    assert Layer("conv", 5, dilation=3).span == 13  # 3 * 4 + 1
    assert str(Layer("maxpool", 2, 2)) == "maxpool 2x2, stride 2"
    assert str(Layer("conv", 3, padding=1, dilation=2)) == "conv 3x3, padding 1, dilation 2"


def test_layer_is_frozen_and_normalises_numpy_integers():
    layer = Layer("conv", np.int64(3), np.int32(2))
    assert type(layer.kernel_size) is int and type(layer.stride) is int
    assert layer == Layer("conv", 3, 2)
    with pytest.raises(AttributeError):
        layer.stride = 1


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"kernel_size": 0}, "kernel_size"),
        ({"kernel_size": -3}, "kernel_size"),
        ({"kernel_size": 2.5}, "kernel_size"),
        ({"kernel_size": True}, "kernel_size"),
        ({"stride": 0}, "stride"),
        ({"stride": 1.5}, "stride"),
        ({"stride": 2.0}, "stride"),
        ({"padding": -1}, "padding"),
        ({"padding": 1.0}, "padding"),
        ({"dilation": 0}, "dilation"),
        ({"dilation": "2"}, "dilation"),
        ({"kind": "pool"}, "kind"),
        ({"kind": "Conv"}, "kind"),
        ({"kind": "maxpool", "kernel_size": 2, "dilation": 2}, "dilation"),
        ({"kind": "avgpool", "kernel_size": 3, "dilation": 2}, "dilation"),
        ({"kind": "avgpool", "kernel_size": 3, "padding": 2}, "padding"),
        ({"kind": "maxpool", "kernel_size": 1, "padding": 1}, "padding"),
    ],
)
def test_layer_rejects_invalid_descriptions(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name} must"):
        Layer(**kwargs)


def test_layer_messages_say_what_is_allowed():
    with pytest.raises(ValueError, match=r"^stride must be an integer, got 1\.5 \(float\)$"):
        Layer(stride=1.5)
    with pytest.raises(ValueError, match=r"^kind must be one of \['conv', 'maxpool', 'avgpool'\], got 'pool'$"):
        Layer(kind="pool")
    with pytest.raises(ValueError, match=r"^padding must be at most kernel_size // 2 = 1 .* got 2$"):
        Layer("avgpool", 3, padding=2)


@pytest.mark.parametrize("bad", [Layer(), [Layer(), "conv"], "conv", 3, [(3, 1)]])
def test_functions_reject_non_layer_sequences(bad):
    with pytest.raises(ValueError, match="^layers must be a sequence of Layer"):
        rf.receptive_field(bad)


# --------------------------------------------------------------------------- the calculator: known cases


@pytest.mark.parametrize(
    "layers, size, jump",
    [
        ([], 1, 1),
        ([Layer("conv", 3)] * 3, 7, 1),                                            # 1 + 2 + 2 + 2
        ([Layer("conv", 3), Layer("maxpool", 2, 2), Layer("conv", 3)], 8, 2),      # 3, 4, 4 + 2 * 2
        ([Layer("conv", 3, dilation=2)], 5, 1),                                    # taps at 0, 2, 4
        ([Layer("conv", 7)], 7, 1),
        ([Layer("conv", 5, 2), Layer("conv", 3), Layer("maxpool", 2, 2), Layer("conv", 3)], 19, 4),
        ([Layer("conv", 1, 2)] * 3, 1, 8),                                         # 1x1 never grows the field
        ([Layer("conv", 3, 2)] * 4, 31, 16),                                       # 1 + 2 (1 + 2 + 4 + 8)
        ([Layer("avgpool", 2, 2)] * 3, 8, 8),                                      # non-overlapping windows tile
    ],
)
def test_receptive_field_known_cases(layers, size, jump):
    field = rf.receptive_field(layers)
    assert (field.size, field.jump) == (size, jump)
    assert len(field.sizes) == len(layers) + 1 and field.sizes[0] == 1 and field.jumps[0] == 1


def test_stacked_3x3_is_2n_plus_1():
    for n in range(1, 12):
        assert rf.receptive_field([Layer("conv", 3)] * n).size == 2 * n + 1


def test_offsets_follow_padding():
    small = [Layer("conv", 3, padding=1), Layer("maxpool", 2, 2), Layer("conv", 3, padding=1)]
    field = rf.receptive_field(small)
    # Padding 1 at jump 1, then padding 1 at jump 2: offset -(1 + 2) = -3.
    assert field.offsets == (0, -1, -1, -3)
    assert field.start(0) == -3 and field.start(5) == 7
    with pytest.raises(ValueError, match="^index must be an integer"):
        field.start(1.0)


@PROPERTY
@given(layers_st(max_depth=6))
def test_forward_rule_equals_backward_recurrence(layers):
    # r_{l-1} = s_l r_l + (k'_l - s_l) from r_L = 1, read from the output down.
    r = 1
    for layer in reversed(layers):
        r = layer.stride * r + (layer.span - layer.stride)
    field = rf.receptive_field(layers)
    assert field.size == r
    assert field.jump == math.prod(layer.stride for layer in layers)
    assert field.offset == -sum(layer.padding * j for layer, j in zip(layers, field.jumps))


# --------------------------------------------------------------------------- sizes, support, regions


@PROPERTY
@given(layers_st(), st.integers(1, 40))
def test_output_sizes_match_pytorch(layers, size):
    net = rf.measuring_network(layers)
    if size < rf.min_input_size(layers):
        with pytest.raises(ValueError, match="^size must be in"):
            rf.output_sizes(layers, size)
        with pytest.raises(RuntimeError):  # PyTorch refuses too: some layer's output would be empty
            net(torch.ones(1, 1, size, size, dtype=torch.float64))
        return
    x = torch.ones(1, 1, size, size, dtype=torch.float64)
    want = [size]
    for module in net:
        x = module(x)
        want.append(x.shape[-1])
    assert rf.output_sizes(layers, size) == tuple(want)


@PROPERTY
@given(layers_st())
def test_measured_support_equals_calculator_for_the_centre_unit(layers):
    """The theoretical square and the measured gradient support agree exactly in size and position."""
    size = rf.interior_size(layers)
    centre = rf.output_sizes(layers, size)[-1] // 2
    region = rf.input_region(layers, size, centre, centre)
    field = rf.receptive_field(layers)
    grad = rf.measured_gradient(layers, size, centre, centre)
    assert rf.support_box(grad) == (field.start(centre), field.start(centre), field.size, field.size)
    assert (region.top, region.left, region.size) == (field.start(centre), field.start(centre), field.size)
    assert (region.clipped_top, region.clipped_height) == (region.top, region.size)  # interior: nothing clipped
    assert torch.equal(grad != 0, region.mask(size))  # holes and all
    assert bool((grad >= 0).all())


@PROPERTY
@given(layers_st(), st.integers(8, 24), st.floats(0, 1, exclude_max=True), st.floats(0, 1, exclude_max=True))
def test_measured_support_equals_calculator_for_any_unit(layers, size, u, v):
    """Border units too: the exact support (clipped, with holes) matches the gradient."""
    assume(size >= rf.min_input_size(layers))
    out = rf.output_sizes(layers, size)[-1]
    row, col = int(u * out), int(v * out)
    region = rf.input_region(layers, size, row, col)
    grad = rf.measured_gradient(layers, size, row, col)
    assert torch.equal(grad != 0, region.mask(size))
    if not region.rows or not region.cols:  # a unit that reads only padding depends on no pixel
        assert region.clipped_height * region.clipped_width == 0 and not bool(grad.any())
        return
    assert rf.support_box(grad) == (region.clipped_top, region.clipped_left,
                                    region.clipped_height, region.clipped_width)
    # The clipped box lies inside both the image and the unclipped square.
    assert region.top <= region.clipped_top and region.clipped_top + region.clipped_height <= region.top + region.size
    assert 0 <= region.clipped_top and region.clipped_top + region.clipped_height <= size


def test_min_input_size_is_tight():
    layers = [Layer("conv", 5, 2), Layer("maxpool", 3, 2)]
    # Output 1 of the pool needs 3 conv outputs, which need 5 + 2 * 2 = 9 pixels.
    assert rf.min_input_size(layers) == 9
    assert rf.output_sizes(layers, 9) == (9, 3, 1)
    with pytest.raises(ValueError, match=r"^size must be in \[9, ∞\), got 8$"):
        rf.output_sizes(layers, 8)
    assert rf.min_input_size([Layer("conv", 3, padding=1)]) == 1
    assert rf.min_input_size([]) == 1


def test_support_has_holes_for_dilation_and_large_strides():
    assert rf.support([Layer("conv", 3, dilation=2)], 10, 2) == (2, 4, 6)
    # A 1x1 stride-2 layer reads every other pixel; a 3x3 layer on top reads three of those.
    assert rf.support([Layer("conv", 1, 2), Layer("conv", 3)], 12, 1) == (2, 4, 6)
    # Padding taps carry no input: the corner unit of a padded 3x3 reads only two columns.
    assert rf.support([Layer("conv", 3, padding=1)], 5, 0) == (0, 1)


def test_region_of_a_corner_unit_is_clipped():
    small = [Layer("conv", 3, padding=1), Layer("maxpool", 2, 2), Layer("conv", 3, padding=1)]
    corner = rf.input_region(small, 32, 0, 0)
    assert (corner.top, corner.left, corner.size) == (-3, -3, 8)
    assert (corner.clipped_top, corner.clipped_left, corner.clipped_height, corner.clipped_width) == (0, 0, 5, 5)
    inside = rf.input_region(small, 32, 5, 3)
    assert (inside.top, inside.left) == (7, 3)  # 5 * 2 - 3, 3 * 2 - 3
    assert inside.rows == tuple(range(7, 15)) and inside.cols == tuple(range(3, 11))
    mask = inside.mask(32)
    assert mask.dtype == torch.bool and int(mask.sum()) == 64


def test_region_of_a_unit_in_the_padding_is_empty():
    # A 1x1 convolution with padding 1: output 0 reads only the zero padding.
    region = rf.input_region([Layer("conv", 1, padding=1)], 6, 0, 3)
    assert region.rows == () and region.cols == (2,)
    assert (region.top, region.left, region.size) == (-1, 2, 1)
    assert (region.clipped_top, region.clipped_height, region.clipped_width) == (0, 0, 0)
    assert not bool(region.mask(6).any())


def test_region_at_the_far_border_can_be_shorter_than_the_cut_square():
    # 3x3 stride 2 on 6 pixels: windows [0, 3) and [2, 5); pixel 5 is never read.
    layers = [Layer("conv", 3, 2), Layer("conv", 3, padding=1)]
    region = rf.input_region(layers, 6, 1, 1)
    assert region.top + region.size > 6  # the unclipped square reaches past the image
    assert (region.clipped_top, region.clipped_height) == (0, 5)
    grad = rf.measured_gradient(layers, 6, 1, 1)
    assert rf.support_box(grad) == (0, 0, 5, 5)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: rf.input_region([Layer()], 8, 6, 0), "^row must be in"),
        (lambda: rf.input_region([Layer()], 8, 0, -1), "^col must be in"),
        (lambda: rf.support([Layer()], 8, 6), "^index must be in"),
        (lambda: rf.output_sizes([Layer()], 2), "^size must be in"),
        (lambda: rf.output_sizes([Layer()], 8.0), "^size must be an integer"),
        (lambda: rf.input_region([Layer()], 8, 0, 0).mask(0), "^size must be in"),
    ],
)
def test_region_arguments_are_checked(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@PROPERTY
@given(layers_st())
def test_interior_size_is_the_smallest_interior_input(layers):
    size = rf.interior_size(layers)
    field = rf.receptive_field(layers)

    def inside(n):
        if n < rf.min_input_size(layers):
            return False
        start = field.start(rf.output_sizes(layers, n)[-1] // 2)
        return start >= 0 and start + field.size <= n

    assert inside(size)
    assert not any(inside(n) for n in range(1, min(size, max(rf.min_input_size(layers), field.size))))


# --------------------------------------------------------------------------- the measuring network


def test_measuring_network_modules():
    layers = [Layer("conv", 3, 2, 1, 2), Layer("maxpool", 2, 2), Layer("avgpool", 3, 1, 1)]
    net = rf.measuring_network(layers)
    conv, pool1, pool2 = net
    assert isinstance(conv, torch.nn.Conv2d) and conv.bias is None
    assert (conv.kernel_size, conv.stride, conv.padding, conv.dilation) == ((3, 3), (2, 2), (1, 1), (2, 2))
    assert conv.weight.dtype == torch.float64 and bool((conv.weight == 1).all())
    assert isinstance(pool1, torch.nn.AvgPool2d) and isinstance(pool2, torch.nn.AvgPool2d)
    assert isinstance(rf.measuring_network(layers, keep_max=True)[1], torch.nn.MaxPool2d)
    with pytest.raises(ValueError, match="^keep_max must be True or False"):
        rf.measuring_network(layers, keep_max=1)


def test_three_3x3_gradient_counts_paths():
    # With all-ones 3x3 weights the gradient counts paths: per axis the trinomial
    # coefficients (1, 3, 6, 7, 6, 3, 1) of (1 + t + t^2)^3.
    grad = rf.measured_gradient([Layer("conv", 3)] * 3, 9, 1, 1)
    tri = torch.tensor([1.0, 3, 6, 7, 6, 3, 1], dtype=torch.float64)
    torch.testing.assert_close(grad[1:8, 1:8], torch.outer(tri, tri), rtol=0, atol=0)
    assert int((grad != 0).sum()) == 49


def test_max_pooling_gradient_reaches_only_part_of_the_field():
    layers = [Layer("conv", 3), Layer("maxpool", 2, 2), Layer("conv", 3)]
    x = 0.1 + 0.9 * data.photo(32)[0].double()
    avg = rf.measured_gradient(layers, 32, 7, 7)
    mx = rf.measured_gradient(layers, 32, 7, 7, x=x, keep_max=True)
    assert int((avg != 0).sum()) == 64
    assert 9 <= int((mx != 0).sum()) < 64  # at least one 3x3 patch per pooled unit's choice
    assert bool(((mx != 0) <= (avg != 0)).all())  # a subset of the field
    # Without max pooling the input does not matter (the network is linear).
    torch.testing.assert_close(rf.measured_gradient(layers, 32, 7, 7, x=x), avg, rtol=0, atol=0)


@pytest.mark.parametrize(
    "x, match",
    [
        (torch.zeros(10, 10), "^x must be positive"),
        (-torch.ones(10, 10), "^x must be positive"),
        (torch.ones(9, 10), r"^x must have shape \(10, 10\)"),
        (torch.ones(1, 10, 10), "^x must be 2-D"),
        (np.ones((10, 10)), "^x must be a torch.Tensor"),
    ],
)
def test_measured_gradient_checks_its_input(x, match):
    with pytest.raises(ValueError, match=match):
        rf.measured_gradient([Layer()], 10, 1, 1, x=x)


def test_support_box():
    values = torch.zeros(6, 7)
    values[1, 2] = values[3, 5] = 1.0
    assert rf.support_box(values) == (1, 2, 3, 4)
    with pytest.raises(ValueError, match="^values must have at least one non-zero entry"):
        rf.support_box(torch.zeros(3, 3))


def test_random_stack_is_repeatable_and_valid():
    a = rf.random_stack(torch.Generator().manual_seed(1))
    b = rf.random_stack(torch.Generator().manual_seed(1))
    assert a == b
    gen = torch.Generator().manual_seed(2)
    depths = set()
    for _ in range(100):
        layers = rf.random_stack(gen, max_depth=3)
        depths.add(len(layers))
        assert all(isinstance(layer, Layer) for layer in layers)
    assert depths == {1, 2, 3}
    with pytest.raises(ValueError, match="^generator must be a torch.Generator"):
        rf.random_stack(0)
    with pytest.raises(ValueError, match="^max_depth must be in"):
        rf.random_stack(gen, max_depth=0)


# --------------------------------------------------------------------------- effective field


def _steps_std(n, k):
    """Standard deviation of a sum of n independent steps uniform on k consecutive integers."""
    return math.sqrt(n * (k * k - 1) / 12)


@pytest.mark.parametrize("n, k", [(1, 3), (4, 3), (10, 3), (3, 5), (6, 2)])
def test_effective_field_of_all_ones_weights_is_a_sum_of_uniform_steps(n, k):
    layers = [Layer("conv", k)] * n
    size = rf.receptive_field(layers).size
    erf = rf.effective_field(rf.measuring_network(layers), torch.ones(1, 1, size, size, dtype=torch.float64))
    assert erf.shape == (size, size) and erf.dtype == torch.float64
    assert erf.sum().item() == pytest.approx(1.0)
    assert rf.sigma(erf) == pytest.approx(_steps_std(n, k), rel=1e-9)
    assert rf.sigma(erf, axis=1) == pytest.approx(_steps_std(n, k), rel=1e-9)
    # The map is the outer product of the 1-D distribution of the sum (numpy convolution).
    p = np.ones(1)
    for _ in range(n):
        p = np.convolve(p, np.ones(k))
    p /= p.sum()
    np.testing.assert_allclose(erf.numpy(), np.outer(p, p), rtol=1e-9, atol=1e-15)


def test_effective_field_averages_per_image_gradient_magnitudes():
    # One 3x3 conv, 1 channel: the gradient is the kernel itself whatever the input.
    conv = torch.nn.Conv2d(1, 1, 3, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([[[[1.0, -2, 0], [0, 4, 0], [0, 0, -1]]]]))
    erf = rf.effective_field(conv, torch.randn(5, 1, 3, 3, generator=torch.Generator().manual_seed(0)))
    torch.testing.assert_close(erf, torch.tensor([[1.0, 2, 0], [0, 4, 0], [0, 0, 1]], dtype=torch.float64) / 8)


def test_effective_field_checks_arguments():
    with pytest.raises(ValueError, match="^net must be a torch.nn.Module"):
        rf.effective_field(lambda x: x, torch.zeros(1, 1, 3, 3))
    with pytest.raises(ValueError, match="^inputs must be 4-D"):
        rf.effective_field(torch.nn.Identity(), torch.zeros(3, 3))
    with pytest.raises(ValueError, match=r"^net must return \(N, C, H, W\) maps"):
        rf.effective_field(torch.nn.Flatten(), torch.ones(1, 1, 3, 3))
    with pytest.raises(ValueError, match="^inputs must reach the centre unit"):
        rf.effective_field(torch.nn.ReLU(), -torch.ones(1, 1, 3, 3))


def test_random_network_structure_and_seeding():
    layers = [Layer("conv", 3, padding=1), Layer("maxpool", 2, 2), Layer("conv", 5, dilation=2)]
    state = torch.random.get_rng_state()
    net = rf.random_network(layers, channels=6, seed=3)
    assert torch.equal(state, torch.random.get_rng_state()), "the global random state is not touched"
    kinds = [type(m).__name__ for m in net]
    assert kinds == ["Conv2d", "ReLU", "MaxPool2d", "ReLU", "Conv2d"]  # no ReLU after the last layer
    assert net[0].weight.shape == (6, 1, 3, 3) and net[4].weight.shape == (6, 6, 5, 5)
    assert net[4].dilation == (2, 2)
    assert bool((net[0].bias == 0).all())
    # He initialisation: standard deviation sqrt(2 / fan_in), fan_in = 6 * 25.
    assert net[4].weight.std().item() == pytest.approx(math.sqrt(2 / 150), rel=0.1)
    again = rf.random_network(layers, channels=6, seed=3)
    assert torch.equal(net[0].weight, again[0].weight)
    assert not torch.equal(net[0].weight, rf.random_network(layers, channels=6, seed=4)[0].weight)
    assert [type(m).__name__ for m in rf.random_network(layers, relu=False)] == ["Conv2d", "MaxPool2d", "Conv2d"]


def test_random_effective_field_is_repeatable_normalised_and_inside_the_field():
    layers = [Layer("conv", 3, padding=1)] * 3
    a = rf.random_effective_field(layers, 15, networks=2, samples=4, seed=5)
    b = rf.random_effective_field(layers, 15, networks=2, samples=4, seed=5)
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert a.sum().item() == pytest.approx(1.0)
    # Centre unit (7, 7): field rows and columns 4..10; nothing outside.
    outside = a.clone()
    outside[4:11, 4:11] = 0
    assert outside.abs().max().item() == 0.0
    assert a[6:9, 6:9].sum() > a[4:7, 4:7].sum()  # the middle of the field outweighs a corner


def test_effective_field_grows_slower_than_the_theoretical_field():
    spreads = {}
    for n in (4, 16):
        layers = [Layer("conv", 3)] * n
        size = 2 * n + 1
        spreads[n] = rf.sigma(rf.random_effective_field(layers, size, channels=4, networks=4, samples=8))
    # Theoretical size grows 33 / 9 = 3.7 times; sqrt(depth) would give 2.
    assert 1.5 < spreads[16] / spreads[4] < 2.7


def test_without_biases_zeroes_conv_biases_of_a_copy():
    net = rf.DigitsCNN([Layer("conv", 3, padding=1)] * 2, channels=4, seed=0).features
    with torch.no_grad():
        for m in net:
            if isinstance(m, torch.nn.Conv2d):
                m.bias.fill_(-0.5)
    bare = rf.without_biases(net)
    convs = [m for m in bare if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 2 and all(bool((m.bias == 0).all()) for m in convs)
    assert all(bool((m.bias == -0.5).all()) for m in net if isinstance(m, torch.nn.Conv2d))  # original kept
    assert torch.equal(convs[0].weight, net[0].weight)
    with pytest.raises(ValueError, match="^net must be a torch.nn.Module, got int"):
        rf.without_biases(3)


def test_spread_and_mass_square_closed_forms():
    point = torch.zeros(9, 9)
    point[4, 6] = 2.0
    assert rf.sigma(point) == 0.0
    assert rf.mass_square(point) == (4, 6, 1)
    uniform = torch.zeros(9, 9)
    uniform[2:7, 1:6] = 1.0
    assert rf.sigma(uniform) == pytest.approx(math.sqrt((25 - 1) / 12))
    wide = torch.zeros(9, 9)
    wide[4, 1:8] = 1.0  # rows: a point; columns: 7 equal pixels, variance 4
    assert rf.sigma(wide, axis=None) == pytest.approx(math.sqrt((0 + 4) / 2))
    assert rf.mass_square(uniform, 1.0) == (2, 1, 5)
    assert rf.mass_side(uniform, 0.95) == 5  # a 4 x 4 window holds only 16 / 25
    assert rf.mass_side(uniform, 0.64) == 4
    assert rf.mass_side(torch.ones(4, 6), 1.0) == 6


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: rf.sigma(torch.zeros(3, 3)), "^field must have a positive sum"),
        (lambda: rf.sigma(-torch.ones(3, 3)), "^field must be non-negative"),
        (lambda: rf.sigma(torch.ones(3)), "^field must be 2-D"),
        (lambda: rf.sigma(torch.ones(3, 3), axis=2), "^axis must be one of"),
        (lambda: rf.mass_side(torch.ones(3, 3), 0), r"^fraction must be a number in \(0, 1\]"),
        (lambda: rf.mass_side(torch.ones(3, 3), 1.5), r"^fraction must be a number in \(0, 1\]"),
        (lambda: rf.random_effective_field([Layer("conv", 5)], 4), "^size must be in"),
        (lambda: rf.random_effective_field([Layer()], 5, networks=0), "^networks must be in"),
        (lambda: rf.random_network([Layer()], channels=0), "^channels must be in"),
        (lambda: rf.random_network([Layer()], relu="yes"), "^relu must be True or False"),
    ],
)
def test_effective_field_helpers_check_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("depth, kernel, stride, dilation",
                         [(1, 3, 1, 1), (3, 5, 1, 1), (4, 5, 2, 1), (2, 3, 2, 1), (4, 3, 1, 2), (3, 5, 1, 2)])
def test_centre_unit_of_a_padded_stack_is_the_bare_stack_on_its_field(depth, kernel, stride, dilation):
    """What centre_effective_field relies on: the same weights give the same gradient map."""
    padded = [Layer("conv", kernel, stride, dilation * (kernel - 1) // 2, dilation)] * depth
    bare = [Layer("conv", kernel, stride, 0, dilation)] * depth
    centre = rf.output_sizes(padded, 64)[-1] // 2
    region = rf.input_region(padded, 64, centre, centre)
    x = torch.randn(3, 1, 64, 64, generator=torch.Generator().manual_seed(depth))
    whole = rf.effective_field(rf.random_network(padded, 4, seed=5), x)
    crop = x[:, :, region.top:region.top + region.size, region.left:region.left + region.size]
    part = rf.effective_field(rf.random_network(bare, 4, seed=5), crop)
    assert rf.output_sizes(bare, region.size)[-1] == 1
    torch.testing.assert_close(whole[region.top:region.top + region.size, region.left:region.left + region.size],
                               part, rtol=1e-6, atol=1e-9)
    assert float(whole.sum()) == pytest.approx(float(part.sum()))  # nothing outside the field


def test_centre_effective_field_places_the_map_and_checks_the_field_is_inside():
    layers = [Layer("conv", 3, 2, 1)] * 3  # field 15, jump 8, padding 7
    erf = rf.centre_effective_field(layers, 32, networks=2, samples=2)
    region = rf.input_region(layers, 32, 2, 2)
    assert erf.shape == (32, 32) and float(erf.sum()) == pytest.approx(1.0)
    assert bool((erf != 0).equal(region.mask(32)))  # every pixel of the field, nothing else
    again = rf.random_effective_field([Layer("conv", 3, 2)] * 3, 15, channels=4, networks=2, samples=2)
    torch.testing.assert_close(erf[region.top:region.top + 15, region.left:region.left + 15], again)
    with pytest.raises(ValueError, match="^size must put the centre unit's 15-pixel field inside the image"):
        rf.centre_effective_field(layers, 10)


def test_random_effective_field_seeds_are_independent_and_dead_networks_are_left_out():
    layers = [Layer("conv", 3)] * 2
    a = rf.random_effective_field(layers, 5, networks=1, samples=1, seed=0)
    b = rf.random_effective_field(layers, 5, networks=1, samples=1, seed=1)
    c = rf.random_effective_field(layers, 5, networks=2, samples=1, seed=0)
    assert not torch.equal(a, b) and not torch.equal(a, c)  # seed 1's network is not seed 0's second
    # One channel, 12 layers: many networks switch every path off; the rest still give a map.
    deep = [Layer("conv", 3)] * 12
    erf = rf.random_effective_field(deep, 25, channels=1, networks=32, samples=1)
    assert float(erf.sum()) == pytest.approx(1.0)
    dead = rf.random_network([Layer("conv", 1), Layer("conv", 1)], 1, seed=0)
    with torch.no_grad():
        dead[0].bias.fill_(-100.0)
    with pytest.raises(ValueError, match="^inputs must reach the centre unit"):
        rf.effective_field(dead, torch.randn(2, 1, 3, 3))


def test_magnitude_estimator_is_sqrt_two_wider_than_the_squared_gradient():
    """The chapter's argument: E g^2 follows the path count (sigma = sqrt(2n/3)), E|g| its square root
    (sigma approaching sqrt(4n/3) as the stack deepens).
    """
    n = 8
    layers = [Layer("conv", 3)] * n
    size = 2 * n + 1
    squared = torch.zeros(size, size, dtype=torch.float64)
    gen = torch.Generator().manual_seed(0)
    for seed in range(32):
        x = torch.randn(2, 1, size, size, generator=gen).requires_grad_(True)
        rf.random_network(layers, 8, seed=seed)(x)[:, :, 0, 0].sum().backward()
        squared += (x.grad.double() ** 2).sum(dim=1).mean(dim=0)
    magnitude = rf.centre_effective_field(layers, size, channels=8, networks=32, samples=2)
    assert rf.sigma(squared) == pytest.approx(math.sqrt(2 * n / 3), rel=0.08)
    assert rf.sigma(magnitude) == pytest.approx(math.sqrt(4 * n / 3), rel=0.1)
    assert rf.sigma(magnitude) / rf.sigma(squared) > 1.25


def test_zero_gradient_fraction_counts_cut_paths():
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 1, bias=False), torch.nn.ReLU())
    with torch.no_grad():
        net[0].weight.fill_(1.0)
    x = torch.ones(2, 1, 5, 5)
    x[1, 0, 2, 2] = -1.0  # the centre unit of image 1 is switched off
    # Image 0: only the centre pixel moves the centre unit (24 of 25 zero); image 1: none (25 of 25).
    assert rf.zero_gradient_fraction(net, x) == pytest.approx((24 / 25 + 1) / 2)
    with pytest.raises(ValueError, match="^net must be a torch.nn.Module"):
        rf.zero_gradient_fraction(lambda v: v, x)
    with pytest.raises(ValueError, match=r"^net must return \(N, C, H, W\) maps"):
        rf.zero_gradient_fraction(torch.nn.Flatten(), x)


def test_window_mass():
    uniform = torch.zeros(9, 9)
    uniform[2:7, 1:6] = 1.0
    assert rf.window_mass(uniform, 5) == pytest.approx(1.0)
    assert rf.window_mass(uniform, 4) == pytest.approx(16 / 25)
    assert rf.window_mass(uniform, 20) == pytest.approx(1.0)
    assert rf.window_mass(uniform, rf.mass_side(uniform, 0.64)) >= 0.64
    with pytest.raises(ValueError, match="^side must be in"):
        rf.window_mass(uniform, 0)


# --------------------------------------------------------------------------- the digits network


def test_digits_cnn_trains_with_the_core_and_scores():
    split = data.digit_split(8, n_train=800)
    conv = Layer("conv", 3, padding=1)
    model = rf.DigitsCNN([conv, conv, Layer("maxpool", 2, 2), conv], channels=16, seed=1)
    assert model(split.test_images[:5]).shape == (5, 10)
    before = training.accuracy(model, split.test_images, split.test_labels)
    run = training.train(model, split.train_images, split.train_labels, seed=0, max_epochs=4)
    assert run.losses[-1] < run.losses[0]
    after = training.accuracy(model, split.test_images, split.test_labels)
    assert after > max(0.5, before + 0.3)
    assert not model.training


def test_digits_cnn_is_repeatable_and_leaves_the_global_state():
    split = data.digit_split(10, n_train=200)
    layers = [Layer("conv", 3, padding=1)] * 2
    state = torch.random.get_rng_state()
    models = [rf.DigitsCNN(layers, channels=4, seed=7) for _ in range(2)]
    assert torch.equal(state, torch.random.get_rng_state())
    runs = [training.train(m, split.train_images, split.train_labels, seed=1, max_epochs=1) for m in models]
    assert runs[0].losses == runs[1].losses
    torch.testing.assert_close(models[0].head.weight, models[1].head.weight, rtol=0, atol=0)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: rf.DigitsCNN([Layer("maxpool", 2, 2), Layer()]), "^layers must start with a conv layer"),
        (lambda: rf.DigitsCNN([]), "^layers must start with a conv layer"),
        (lambda: rf.DigitsCNN([Layer()], channels=0), "^channels must be in"),
    ],
)
def test_digits_cnn_checks_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_topic_module_has_no_training_loop_or_accuracy_of_its_own():
    # The book trains and scores with widgets.compute.training only.
    for name in ("train_digits", "accuracy", "_check_labelled"):
        assert not hasattr(rf, name)


# --------------------------------------------------------------------------- published architectures


@pytest.mark.parametrize(
    "name, upto, size, jump",
    [
        ("LeNet-5", "C5", 32, 4),                 # 5, 6, 14, 16, 32: exactly the 32 x 32 input
        ("AlexNet", "conv1", 11, 4),
        ("AlexNet", "conv5", 163, 16),            # 11, 19, 51, 67, 99, 131, 163
        ("AlexNet", "pool5", 195, 32),
        ("VGG-16", "pool1", 6, 2),
        ("VGG-16", "conv5_3", 196, 16),
        ("VGG-16", "pool5", 212, 32),
        ("VGG-16", "fc6", 404, 32),               # a 7 x 7 convolution on pool5: 212 + 6 * 32
        ("AlexNet", "fc6", 355, 32),              # a 6 x 6 convolution on pool5: 195 + 5 * 32
        ("ResNet-50 v1", "pool1", 11, 4),
        ("ResNet-50 v1", "conv5_3 1x1 out", 483, 32),
        ("ResNet-50 v1.5", "conv2_3 1x1 out", 35, 4),   # 11 + 3 blocks * 2 * 4
        ("ResNet-50 v1.5", "conv5_3 1x1 out", 427, 32),
    ],
)
def test_architecture_fields(name, upto, size, jump):
    field = rf.architecture_field(name, upto)
    assert (field.size, field.jump) == (size, jump)


def test_architecture_lists():
    assert rf.architecture_field("VGG-16").size == 404  # default: the last layer, fc6
    assert rf.architecture_field("VGG-16", "pool5").offset == -90  # the "effective padding" of 90 for VGG-16
    vgg = rf.ARCHITECTURES["VGG-16"]
    assert sum(layer.kind == "conv" for _, layer in vgg) == 13 + 1  # and fc6
    resnet = rf.ARCHITECTURES["ResNet-50 v1"]
    assert sum(layer.kind == "conv" for _, layer in resnet) == 1 + 3 * (3 + 4 + 6 + 3)  # 49 + the fc = 50 layers
    # The two ResNet-50 variants differ only in where the downsampling stride sits.
    assert len(resnet) == len(rf.ARCHITECTURES["ResNet-50 v1.5"])
    with pytest.raises(ValueError, match="^name must be one of"):
        rf.architecture_field("ResNet-18")
    with pytest.raises(ValueError, match="^upto must be one of"):
        rf.architecture_field("AlexNet", "conv6")


def test_residual_path_fields_count_every_path():
    for name in ("ResNet-50 v1", "ResNet-50 v1.5"):
        paths = rf.residual_path_fields(name)
        assert sum(paths.values()) == 2 ** 16 and list(paths) == sorted(paths)
        # The path through no block sees the stem's 11 pixels, the path through all of them the longest.
        assert (min(paths), paths[min(paths)]) == (11, 1)
        assert (max(paths), paths[max(paths)]) == (rf.architecture_field(name).size, 1)
    # v1: block b adds 2 * jump; three blocks at jump 4, four at 8, six at 16, three at 32.
    # Brute force over the 2^16 choices, as a check of the counting.
    adds = [8] * 3 + [16] * 4 + [32] * 6 + [64] * 3
    sizes = torch.zeros(1, dtype=torch.long) + 11
    for a in adds:
        sizes = torch.cat([sizes, sizes + a])
    values, counts = torch.unique(sizes, return_counts=True)
    assert rf.residual_path_fields("ResNet-50 v1") == dict(zip(values.tolist(), counts.tolist()))
    with pytest.raises(ValueError, match="^name must be one of"):
        rf.residual_path_fields("VGG-16")


def test_on_image_places_the_fields_of_published_networks():
    alex = rf.on_image(rf.architecture_layers("AlexNet", "pool5"), 224)
    # 224 + 2 * 2 - 11 = 217, / 4 + 1 = 55; pools and convs: 27, 27, 13, 13, 13, 13, 6.
    assert (alex.map_side, alex.size, alex.jump, alex.padding) == (6, 195, 32, 66)
    # Unit i covers [32 i - 66, 32 i + 129): the middle unit 3 covers [30, 225), cut to 194 columns.
    assert (alex.first_centre, alex.last_centre, alex.middle_seen, alex.widest_seen, alex.whole) == (
        31.0, 191.0, 194, 194, 0)
    assert alex.centre(3) == 127.0
    vgg = rf.on_image(rf.architecture_layers("VGG-16", "pool5"), 224)
    assert (vgg.padding, vgg.first_centre, vgg.last_centre, vgg.whole) == (90, 15.5, 207.5, 0)
    # ResNet-50 v1.5, unit i covers [32 i - 213, 32 i + 214): unit 0 stops short of column 223.
    v15 = rf.on_image(rf.architecture_layers("ResNet-50 v1.5"), 224)
    assert (v15.size, v15.padding, v15.whole) == (427, 213, 6)
    # An even field is centred between pixels.
    small = rf.on_image([Layer("conv", 3, padding=1), Layer("maxpool", 2, 2), Layer("conv", 3, padding=1)], 32)
    assert small.first_centre == 0.5 and small.centre(5) == 10.5
    assert rf.architecture_layers("AlexNet", "conv1") == (Layer("conv", 11, 4, 2),)
    with pytest.raises(ValueError, match="^image must be in"):
        rf.on_image([Layer("conv", 5)], 4)


# --------------------------------------------------------------------------- drawing


def test_field_views_titles_and_alt():
    layers = [Layer("conv", 3, padding=2, dilation=2)] * 2
    region = rf.input_region(layers, 32, 16, 16)
    grad = rf.measured_gradient(layers, 32, 16, 16)
    erf = rf.random_effective_field(layers, 32, networks=1, samples=2)
    squares = rf.mass_squares(erf, (0.5, 0.95))
    fig = drf.field_views(data.photo(32)[0], region, grad, erf, squares, jump=1, label="2 dilated")
    assert isinstance(fig, Figure)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0] == "theoretical field\n9 × 9, jump 1"
    assert titles[1] == "non-zero gradient\n9 × 9, 25 pixels"  # taps every other pixel: 5 x 5 of the 9 x 9
    half, most = squares[0.5][2], squares[0.95][2]
    assert titles[2] == f"effective, random weights\n50% in {half} × {half}, 95% in {most} × {most}"
    assert "9 by 9" in fig.alt and "25 input pixels" in fig.alt and fig.alt.startswith("2 dilated")
    assert len(fig.axes[0].patches) == 1 and len(fig.axes[2].patches) == 3
    assert fig.axes[2].patches[2].get_linestyle() == "--"
    with pytest.raises(ValueError, match="^squares must be a dict"):
        drf.field_views(data.photo(32)[0], region, grad, erf, squares[0.5])


def test_field_views_rings_a_small_field():
    """One 3 x 3 layer on 64 pixels: a white ring circles the tiny field in every panel."""
    from matplotlib.patches import Circle

    def rings(layers, side):
        centre = rf.output_sizes(layers, side)[-1] // 2
        region = rf.input_region(layers, side, centre, centre)
        grad = rf.measured_gradient(layers, side, centre, centre)
        erf = torch.zeros(side, side)
        erf[region.rows[0]:region.rows[-1] + 1, region.cols[0]:region.cols[-1] + 1] = 1.0 / region.size ** 2
        squares = rf.mass_squares(erf, (0.5, 0.95))
        fig = drf.field_views(data.photo(side)[0], region, grad, erf, squares)
        found = [[p for p in ax.patches if isinstance(p, Circle)] for ax in fig.axes]
        return region, found

    region, found = rings([Layer("conv", 3, padding=1)], 64)
    assert region.size == 3 and all(len(r) == 1 for r in found)
    middle = region.top + (region.size - 1) / 2, region.left + (region.size - 1) / 2
    for (ring,) in found:
        assert ring.center == pytest.approx((middle[1], middle[0]))
        assert 2 * ring.radius >= 64 * drf.SMALL_FIELD and 2 * ring.radius > region.size * 2 ** 0.5
        assert ring.get_linewidth() >= 2.5 and ring.get_edgecolor()[:3] == (1.0, 1.0, 1.0)
    region, found = rings([Layer("conv", 3, padding=1)] * 4, 64)
    assert region.size == 9 and not any(found)  # wide enough to see: no ring


def test_mass_squares():
    uniform = torch.zeros(9, 9)
    uniform[2:7, 1:6] = 1.0
    assert rf.mass_squares(uniform, (0.64, 1.0)) == {0.64: rf.mass_square(uniform, 0.64), 1.0: (2, 1, 5)}
    with pytest.raises(ValueError, match="^fractions must be a non-empty sequence"):
        rf.mass_squares(uniform, 0.5)
    with pytest.raises(ValueError, match=r"^fraction must be a number in \(0, 1\]"):
        rf.mass_squares(uniform, (0.5, 2))


def test_gradient_supports_counts():
    layers = [Layer("conv", 3), Layer("maxpool", 2, 2), Layer("conv", 3)]
    x = 0.1 + 0.9 * data.photo(32)[0]
    grads = {"average pooling": rf.measured_gradient(layers, 32, 7, 7),
             "max pooling": rf.measured_gradient(layers, 32, 7, 7, x=x, keep_max=True)}
    fig = drf.gradient_supports(x, grads, region=rf.input_region(layers, 32, 7, 7))
    n_max = int((grads["max pooling"] != 0).sum())
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["input", "average pooling: 64 pixels", f"max pooling: {n_max} pixels"]
    assert "8 by 8" in fig.alt and "64 pixels" in fig.alt
    with pytest.raises(ValueError, match="^gradients must be a dict"):
        drf.gradient_supports(x, [grads["max pooling"]])


def test_width_growth_and_effective_fields_figures():
    fig = drf.width_growth([1, 4, 16], [3, 9, 33], [3, 9, 20],
                           {"relu": [0.8, 2.0, 4.4], "ones": [0.8, 1.6, 3.2]}, references={"√(4/3)": 1.155})
    assert isinstance(fig, Figure)
    assert [ax.get_title() for ax in fig.axes] == ["field size against depth", "σ / √depth levels off"]
    assert "from 3 to 33 pixels" in fig.alt and "only to 20" in fig.alt
    assert "relu, 1.10 at depth 16" in fig.alt and "ones, 0.80 at depth 16" in fig.alt and "1.16" in fig.alt
    assert len(fig.axes[1].lines) == 3  # two series and one reference level
    with pytest.raises(ValueError, match="^depths, theoretical, effective and every series"):
        drf.width_growth([1, 2], [3, 5], [3], {"a": [1, 1]})
    with pytest.raises(ValueError, match="^depths, theoretical, effective and every series"):
        drf.width_growth([1, 2], [3, 5], [3, 5], {"a": [1, 1, 1]})
    with pytest.raises(ValueError, match="^sigmas must be a dict of 1 to 3"):
        drf.width_growth([1, 2], [3, 5], [3, 5], [1, 1])
    maps = {"a": rf.random_effective_field([Layer()] * 2, 9, networks=1, samples=2),
            "b": rf.random_effective_field([Layer()] * 2, 9, networks=1, samples=2, seed=1)}
    region = rf.input_region([Layer()] * 2, 9, 2, 2)
    fig = drf.effective_fields(maps, region)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[2] == "row profiles"
    assert titles[0] == f"a\nσ = {rf.sigma(maps['a'], axis=None):.2f}" and titles[1].startswith("b\nσ = ")
    assert [t.get_text() for t in fig.axes[2].get_legend().get_texts()] == ["a", "b"]
    renderer = FigureCanvasAgg(fig).get_renderer()
    assert fig.axes[2].get_legend().get_window_extent(renderer).y1 < fig.axes[2].get_window_extent(renderer).y0, \
        "the legend sits below the profiles, not over them"
    assert "5 by 5" in fig.alt
    assert fig.axes[0].patches[0].get_xy() == (1.5, 1.5)  # the field of unit (2, 2) starts at pixel 2
    with pytest.raises(ValueError, match="^maps must be a dict of 1 to 4"):
        drf.effective_fields({}, region)
    with pytest.raises(ValueError, match="^maps must be a dict of 1 to 4 titled maps, got 5"):
        drf.effective_fields({str(k): maps["a"] for k in range(5)}, region)


# --------------------------------------------------------------------------- the chapter's numbers


@pytest.mark.build
def test_receptive_fields_chapter_numbers(executed):
    """The numbers the receptive-field chapter quotes, against closed forms worked out by hand,
    and the direction of every comparison its prose makes.
    """
    check_chapter_numbers(glued(executed, "book/04_receptive_fields"))


def _values(g, key):
    return [float(v) for v in json.loads(g[f"{key}_values"])]


def check_chapter_numbers(g):
    # Stacked 3x3 stride 1: 2n + 1. With a 2x2 stride-2 pool after every second conv:
    # 3, 5, (6) 10, 14, (16) 24, 32 with jumps 1, 1, 2, 2, 4, 4.
    assert int(g["three_field"]) == 7
    for n in range(1, 7):
        assert int(g[f"plain_{n}"]) == 2 * n + 1
    assert [int(g[f"pooled_{n}"]) for n in range(1, 7)] == [3, 5, 10, 14, 24, 32]
    assert [int(g[f"pooled_jump_{n}"]) for n in range(1, 7)] == [1, 1, 2, 2, 4, 4]
    # A stride-2 first layer: 3, then + 2 * 2 per layer: 7, 11.
    assert [int(g[f"strided_{n}"]) for n in range(1, 4)] == [3, 7, 11]
    # Three 3x3 against one 7x7 with C = 64: 27 C^2 against 49 C^2 weights.
    assert int(g["seven_field"]) == 7
    assert int(g["stack_weights"]) == 27 * 64 ** 2
    assert int(g["single_weights"]) == 49 * 64 ** 2
    assert float(g["weight_ratio"]) == pytest.approx(27 / 49)
    # Conv 3 pad 1, pool 2 stride 2, conv 3 pad 1: size 8, jump 2, effective padding 1 + 1 * 2 = 3;
    # unit 5 starts at 7 and, the field being even, is centred between pixels 10 and 11.
    assert (int(g["small_size"]), int(g["small_jump"]), int(g["small_padding"])) == (8, 2, 3)
    assert int(g["corner_top"]) == -3 and int(g["corner_clipped"]) == 5 and int(g["inside_top"]) == 7
    assert float(g["inside_centre"]) == 10.5
    # Wired pixels without gradient: common with one channel, rare with 8, none with 64 (random images).
    for stack in ("relu", "pool"):
        one, eight, wide = (_values(g, f"dead_{stack}_{c}") for c in (1, 8, 64))
        assert len(one) == len(eight) == len(wide) == 16
        assert stats.interval(one).low > 0.1, stack
        assert stats.interval(eight).high < 0.02 and max(wide) == 0.0, stack
        assert stats.paired(one, eight, margin=0.01).verdict == "ahead"
    assert (int(g["pool_case_size"]), int(g["pool_case_jump"])) == (8, 2)
    assert (int(g["dilated_size"]), int(g["dilated_pixels"])) == (5, 9)
    assert int(g["avg_pixels"]) == 64 and 9 <= int(g["max_pixels"]) < 64
    # Published architectures on a 224-pixel image (LeNet-5: 32), worked by hand with
    # size += (k - 1) * jump, jump *= stride, padding += p * jump; fc6 is a 6x6 (7x7) convolution
    # on AlexNet's (VGG-16's) pool5: 195 + 5 * 32 = 355 and 212 + 6 * 32 = 404.
    expected = {"lenet_c5": (1, 32, 4, 0), "alexnet_pool5": (6, 195, 32, 66), "alexnet_fc6": (1, 355, 32, 66),
                "vgg_pool5": (7, 212, 32, 90), "vgg_fc6": (1, 404, 32, 90), "resnet_v1": (7, 483, 32, 241),
                "resnet_v15": (7, 427, 32, 213)}
    for key, numbers in expected.items():
        assert tuple(int(g[f"{key}_{n}"]) for n in ("map_side", "size", "jump", "padding")) == numbers, key
    # "No unit covers more than 194 of the 224 columns" (AlexNet pool5), fc6 "covering the whole image",
    # "all 7 units" (ResNet-50 v1), "6 of the 7" (v1.5).
    assert (int(g["alexnet_pool5_widest_seen"]), int(g["alexnet_pool5_whole"])) == (194, 0)
    assert int(g["alexnet_fc6_whole"]) == int(g["vgg_fc6_whole"]) == 1
    assert (int(g["vgg_pool5_middle_seen"]), int(g["vgg_pool5_whole"])) == (212, 0)
    assert (float(g["vgg_pool5_first_centre"]), float(g["vgg_pool5_last_centre"])) == (15.5, 207.5)
    assert (int(g["resnet_v1_whole"]), int(g["resnet_v15_whole"])) == (7, 6)
    assert (float(g["resnet_v1_first_centre"]), float(g["resnet_v1_last_centre"])) == (0.0, 192.0)
    # ResNet's half strides: 0.5 * (1 + 2 + 4 + 8 + 16) = 15.5 pixels towards the top left.
    assert float(g["image_centre"]) == 111.5 and float(g["resnet_shift"]) == 15.5
    # Paths through ResNet-50 v1: 2^16, fields 11 (the stem) to 483; each block is crossed by half the
    # paths, so the mean adds half of every block's growth: 11 + (483 - 11) / 2 = 247.
    assert int(g["resnet_paths"]) == 2 ** 16 and int(g["resnet_path_min"]) == 11
    assert float(g["resnet_path_mean"]) == 247.0
    assert 0.3 < float(g["resnet_path_small"]) < 0.5
    # Effective field: the 95 % square is much smaller than the field at depth 32, and
    # sigma / sqrt(depth) levels off near sqrt(4/3) for random weights, with or without ReLUs
    # (all-ones weights: exactly sqrt(2 n / 3)).
    assert (int(g["estimator_networks"]), int(g["estimator_samples"])) == (rf.ESTIMATOR["networks"],
                                                                            rf.ESTIMATOR["samples"])
    assert int(g["erf_depth"]) == 32 and int(g["erf_theory"]) == 65 and int(g["erf_theory_8"]) == 17
    assert (int(g["erf_side_8"]), int(g["erf_side"])) == QUOTED_ERF_SIDES
    assert float(g["erf_sigma_per_root"]) == pytest.approx(float(g["erf_sigma_per_root_8"]), rel=0.1)
    assert float(g["erf_sigma_per_root_8"]) < float(g["erf_sigma_per_root"])  # "levels off" from below
    assert float(g["erf_sigma_per_root"]) == pytest.approx(math.sqrt(4 / 3), rel=0.03)
    assert float(g["linear_sigma_per_root"]) == pytest.approx(float(g["erf_sigma_per_root"]), rel=0.03)
    assert float(g["erf_sigma_per_root_1"]) == pytest.approx(math.sqrt(2 / 3), rel=0.05)
    assert float(g["ones_sigma"]) == pytest.approx(math.sqrt(32 * 2 / 3), rel=1e-9)
    assert float(g["ones_sigma_per_root"]) == pytest.approx(math.sqrt(2 / 3), rel=1e-9)
    assert float(g["root_four_thirds"]) == pytest.approx(math.sqrt(4 / 3))
    assert float(g["uniform_sigma_65"]) == pytest.approx(math.sqrt((65 ** 2 - 1) / 12))
    # The explorer, and the sides it quotes (their stability is test_quoted_half_mass_sides_are_stable).
    assert int(g["explorer_frames"]) == 3 * 2 * 3
    assert (int(g["field_1"]), int(g["field_4"]), int(g["field_4_k5"]), int(g["field_4_s2"])) == (3, 9, 17, 61)
    assert int(g["field_4_d2"]) == 17
    assert (int(g["half_1"]), int(g["half_4"]), int(g["half_4_s2"])) == QUOTED_HALF_SIDES
    assert (int(g["most_4"]), int(g["most_4_d2"])) == QUOTED_MOST_SIDES
    # "Strides keep a larger share": 35 / 61 of the side against 8 or 9 of 17.
    assert float(g["half_share_s2"]) == pytest.approx(int(g["half_4_s2"]) / 61)
    assert float(g["half_share_s2"]) > float(g["half_share_k5"]) + 0.02
    # Gridding: three dilation-2 layers read 7 x 7 of their 13 x 13 field; rates 1, 2, 3 all 169.
    assert (int(g["gridded_size"]), int(g["gridded_pixels"])) == (13, 49)
    assert (int(g["mixed_size"]), int(g["mixed_pixels"])) == (13, 169)
    # The digits network over 20 seeds: field 14 (3, 5, 6, 10, 14), wider than the 8-pixel digit; the 8 x 8 map
    # has no middle unit, unit (4, 4)'s field is centred at 8.5, one pixel off the digit's centre 7.5.
    assert int(g["digit_theory"]) == 14 and int(g["digit_n_test"]) == 500
    assert (int(g["digit_out_side"]), int(g["digit_centre_unit"]), float(g["digit_centre"])) == (8, 4, 8.5)
    assert int(g["digit_seeds"]) == 20 and int(g["digit_max_epochs"]) == 15
    epochs = _values(g, "digit_epochs")
    assert int(g["digit_capped"]) == sum(e == 15 for e in epochs) and int(g["digit_converged"]) + int(
        g["digit_capped"]) == 20
    test, majority = _values(g, "digit_test"), float(g["digit_majority"])
    assert len(test) == 20 and 0.05 < majority < 0.15  # ten nearly balanced classes
    assert stats.interval(test).low > majority + 0.7  # far above always answering the commonest class
    assert 0.9 < float(g["digit_nearest"]) <= 1.0  # the nearest-neighbour baseline
    assert 0.8 < float(g["digit_blank"]) < 0.95  # most of the canvas is exactly 0
    # The share of negative biases is the first layer's: 12 channels x 20 seeds.
    negative = float(g["bias_negative"]) * 12 * 20
    assert negative == pytest.approx(round(negative)) and 0.3 < float(g["bias_negative"]) < 1
    # "These runs stop before converging": most hit the 15-epoch cap.
    assert int(g["digit_capped"]) >= 15
    # Every verdict the prose states, recomputed from the glued values.
    names = ("noise", "digits", "nudged")
    sig = {pre + n: _values(g, f"sigma_{pre}{n}") for pre in ("", "trained_", "bare_") for n in names}
    assert all(len(v) == 20 for v in sig.values())
    pairs = {"input": ("noise", "digits"), "nudge": ("nudged", "noise"), "training": ("trained_digits", "digits"),
             "training_nudged": ("trained_nudged", "nudged"), "training_noise": ("trained_noise", "noise"),
             "weights_nudged": ("bare_nudged", "nudged")}
    for key, (a, b) in pairs.items():
        assert g[f"{key}_verdict"] == stats.paired(sig[a], sig[b], margin=0.1).verdict, key
    # The prose's argument rests on these: noise gives a wider field than digits; nudging the digits
    # (removing exact zeros) brings them close to noise; on the digits training widens the field, on nudged
    # digits and on noise it narrows it; trained weights with biases 0 narrow it on nudged digits.
    assert g["input_verdict"] == "ahead" and g["input_says"].startswith("the field on noise is wider")
    assert g["nudge_verdict"] in ("level", "behind")
    nudge = stats.paired(sig["nudged"], sig["noise"], margin=0.1)
    inside = -0.1 < nudge.low and nudge.high < 0.1
    assert inside, "the nudged-against-noise difference lies inside the margin"
    if nudge.verdict == "behind":
        assert "narrower than the field on noise, by less than the 0.1-pixel margin" in g["nudge_says"]
    for key in ("training", "training_nudged", "training_noise", "weights_nudged", "input"):
        assert "by less than" not in g[f"{key}_says"], key
    assert stats.interval(sig["nudged"]).mean - stats.interval(sig["digits"]).mean > 4 * abs(
        stats.interval(sig["nudged"]).mean - stats.interval(sig["noise"]).mean)  # "nearly all of the difference"
    assert g["training_verdict"] == "ahead" and g["training_says"].startswith("the trained network's field is wider")
    assert g["training_nudged_verdict"] == g["training_noise_verdict"] == "behind"
    assert g["weights_nudged_verdict"] == "behind"
    # Training removes what the nudge changes, and zeroing the trained biases brings it back.
    effect = {pre: [n - d for n, d in zip(sig[pre + "nudged"], sig[pre + "digits"])]
              for pre in ("", "trained_", "bare_")}
    assert g["nudge_shrinks_verdict"] == stats.paired(effect["trained_"], effect[""], margin=0.1).verdict == "behind"
    assert g["bias_back_verdict"] == stats.paired(effect["bare_"], effect["trained_"], margin=0.1).verdict == "ahead"
    assert abs(stats.interval(effect["trained_"]).mean) < 0.1 < stats.interval(effect[""]).low
    # "All these fields stay well below" the even field's sigma.
    uniform = float(g["uniform_sigma_14"])
    assert uniform == pytest.approx(math.sqrt((14 ** 2 - 1) / 12))
    assert max(max(v) for v in sig.values()) < 0.85 * uniform
    # The stride check without randomness: all-ones stacks keep the order of the random ones.
    assert float(g["ones_share_s2"]) > float(g["ones_share_k5"]) + 0.02
    # Exercises: which pixels a stride never reads; layers to see a 224-pixel image.
    assert g["skip_unread"] == "2, 5, 8, 9" and int(g["skip_outputs"]) == 3
    assert (int(g["see_all_plain"]), int(g["see_all_plain_field"])) == (112, 225)
    assert (int(g["see_all_strided"]), int(g["see_all_strided_field"])) == (57, 227)
    assert int(g["unpadded_111"]) == 2
    check_exercise_numbers(g)


def check_exercise_numbers(g):
    # Exercise 4: dilation 2 lays the stride-1 stack on every other pixel: m units span 2 m - 1 pixels.
    assert int(g["field_4_d2"]) == 2 * int(g["field_4"]) - 1
    assert int(g["half_4_d2"]) == 2 * int(g["half_4"]) - 1 == QUOTED_HALF_SIDE_D2
    assert abs(int(g["half_4_d2"]) / int(g["field_4_d2"]) - int(g["half_4"]) / int(g["field_4"])) < 0.05
    # ... with holes: only pixels an even number of rows and columns from the centre, 9 x 9 of 17 x 17.
    assert (int(g["dilated_4_pixels"]), int(g["dilated_4_area"])) == (((17 + 1) // 2) ** 2, 17 ** 2) == (81, 289)
    # Exercise 5: all-ones sigma, sqrt(2 n) for 5 x 5 and sqrt(2 (4^n - 1) / 9) for 3 x 3 stride 2, whose last
    # step carries about three quarters of the variance; the path counts along a row for n = 3 are lumpy.
    assert float(g["ones_sigma_k5_4"]) == pytest.approx(math.sqrt(8), rel=1e-9)
    assert float(g["ones_sigma_s2_4"]) == pytest.approx(math.sqrt(2 * (4 ** 4 - 1) / 9), rel=1e-9)
    assert (2 / 3) * 4 ** 3 / ((2 / 9) * (4 ** 4 - 1)) == pytest.approx(0.75, abs=0.01)
    counts = [int(c) for c in g["s2_paths"].strip("'").split(", ")]
    assert counts == [1, 1, 2, 1, 3, 2, 3, 1, 3, 2, 3, 1, 2, 1, 1] and sum(counts) == 27
    # Exercise 8: a 9 x 9 kernel with padding 1 on the 16-unit map (18 padded) fits with dilation 2, not 3.
    assert int(g["too_wide_largest"]) == 2 and 8 * 2 + 1 <= 18 < 8 * 3 + 1
    # Exercise 9: alternating convolution and pooling is the cheapest stack with a field of 100 or more.
    macs, field = exhaustive_cheapest_design()
    assert field == int(g["design_field"]) == 158 and int(g["design_short"]) == 94 < 100
    assert float(g["design_macs"]) == pytest.approx(macs / 1e9) == pytest.approx(2.4656, abs=1e-4)
    assert float(g["design_first"]) == pytest.approx(224 ** 2 / (224 ** 2 + 112 ** 2 + 56 ** 2 + 28 ** 2
                                                                  + 14 ** 2 + 7 ** 2))
    assert (int(g["design_side"]), int(g["design_jump"])) == (7, 32)
    assert int(g["plain_layers"]) == 50 and float(g["plain_macs"]) == pytest.approx(50 * 224 ** 2 * 64 * 64 * 9 / 1e9)
    # The near tie: four conv-pool pairs and two convolutions reach 110 pixels (a 14-unit map's second
    # convolution in place of a 7-unit one): 14^2 - 7^2 more over the design's sum of squared sides.
    sides = (224 ** 2 + 112 ** 2 + 56 ** 2 + 28 ** 2 + 14 ** 2 + 7 ** 2)
    assert int(g["runner_up_field"]) == 110 >= 100
    extra = float(g["runner_up_extra"])
    assert extra == pytest.approx((14 ** 2 - 7 ** 2) / sides) and extra < 0.005
    # Exercise 10: "SAME" padding centres both stride-2 branches at 2 i + 1; padding 2 moves the 5 x 5 to 2 i.
    assert (float(g["same_3_centre"]), float(g["same_5_centre"]), float(g["even_5_centre"])) == (1.0, 1.0, 0.0)
    # ... and padding 1 on each side centres the 3 x 3 at 2 i too: symmetric padding aligns the branches.
    assert float(g["even_3_centre"]) == float(g["even_5_centre"]) == 0.0
    # Intervals in the book's spelling, "95 % CI", not the stats module's "95% CI".
    for key in ("digit_test", "digit_epochs", "dead_relu_1_ci", "sigma_digits", "sigma_trained_nudged",
                "sigma_bare_noise", "nudge_untrained_effect", "nudge_trained_effect", "nudge_bare_effect"):
        assert "95 % CI" in g[key], key
    assert not [key for key, text in g.items() if "95% CI" in text]


def exhaustive_cheapest_design(limit=13):
    """Every stack of padded 3 x 3 convolutions (64 to 64 channels) and 2 x 2 stride-2 poolings on 224 pixels,
    each pooling right after a convolution, up to ``limit`` layers: the fewest multiply-adds for a field of 100.
    """
    conv, pool = Layer("conv", 3, padding=1), Layer("maxpool", 2, 2)
    best = None
    for n in range(1, limit + 1):
        for word in itertools.product("cp", repeat=n):
            if word[0] == "p" or ("p", "p") in zip(word, word[1:]):
                continue
            layers = [conv if w == "c" else pool for w in word]
            if rf.receptive_field(layers).size < 100:
                continue
            sides = rf.output_sizes(layers, 224)[1:]
            macs = sum(s ** 2 * 64 * 64 * 9 for w, s in zip(word, sides) if w == "c")
            if best is None or macs < best[0]:
                best = (macs, rf.receptive_field(layers).size)
    return best


def test_exercise_six_units_see_the_image_through_different_taps():
    """Both last units see the whole 8 x 8 image: the same sum with weights 1, different functions with random ones."""
    wide = [Layer("conv", 3, padding=1), Layer("maxpool", 2, 2), Layer("conv", 3, padding=1),
            Layer("maxpool", 2, 2), Layer("conv", 3, padding=1)]
    assert torch.equal(rf.measured_gradient(wide, 8, 0, 0), rf.measured_gradient(wide, 8, 1, 1))
    net = rf.random_network(wide, 4, seed=0)
    x = torch.randn(1, 1, 8, 8, generator=torch.Generator().manual_seed(0), requires_grad=True)
    g0, g1 = (torch.autograd.grad(net(x)[0, :, u, u].sum(), x)[0] for u in (0, 1))
    assert not torch.allclose(g0, g1)


#: The half-mass sides the chapter quotes for 1 and 4 layers of 3 x 3 and 4 layers of 5 x 5 stride 2,
#: the 95 % sides for 4 layers of 3 x 3 with dilation 1 and 2, and the 95 % sides at depths 8 and 32.
QUOTED_HALF_SIDES = (3, 5, 35)
QUOTED_MOST_SIDES = (9, 17)
QUOTED_HALF_SIDE_D2 = 9
QUOTED_ERF_SIDES = (14, 29)
EXPLORER_STACKS = {"half_1": [Layer("conv", 3, 1, 1)], "half_4": [Layer("conv", 3, 1, 1)] * 4,
                   "half_4_s2": [Layer("conv", 5, 2, 2)] * 4}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quoted_half_mass_sides_are_stable(seed):
    """With the chapter's estimator, independent seeds give the same quoted sides and the same direction."""
    sides = tuple(rf.mass_side(rf.centre_effective_field(layers, 64, seed=seed), 0.5)
                  for layers in EXPLORER_STACKS.values())
    assert sides == QUOTED_HALF_SIDES
    k5 = rf.centre_effective_field([Layer("conv", 5, 1, 2)] * 4, 64, seed=seed)
    assert sides[2] / 61 > rf.mass_side(k5, 0.5) / 17 + 0.02  # stride 2 keeps a larger share
    most = tuple(rf.mass_side(rf.centre_effective_field([Layer("conv", 3, 1, d, d)] * 4, 64, seed=seed), 0.95)
                 for d in (1, 2))
    assert most == QUOTED_MOST_SIDES
    d2 = rf.centre_effective_field([Layer("conv", 3, 1, 2, 2)] * 4, 64, seed=seed)
    assert rf.mass_side(d2, 0.5) == QUOTED_HALF_SIDE_D2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quoted_effective_field_sides_are_stable(seed):
    sides = tuple(rf.mass_side(rf.centre_effective_field([Layer("conv", 3)] * n, 2 * n + 1, channels=8, seed=seed))
                  for n in (8, 32))
    assert sides == QUOTED_ERF_SIDES


def test_layers_of_reads_a_network_and_stops_at_its_head():
    from torch import nn

    from widgets.compute.local_connectivity import LocallyConnected2d

    net = nn.Sequential(nn.Conv2d(1, 4, 5, stride=2, padding=2, dilation=1), nn.ReLU(),
                        nn.Sequential(nn.MaxPool2d(3, 2, 1), LocallyConnected2d(4, 4, 8, 3, padding=1)),
                        nn.Conv2d(4, 4, 3, dilation=2, padding=2), nn.AvgPool2d(2),
                        nn.AdaptiveMaxPool2d(1), nn.Conv2d(4, 4, 7), nn.Flatten())
    assert rf.layers_of(net) == (Layer("conv", 5, 2, 2), Layer("maxpool", 3, 2, 1), Layer("conv", 3, 1, 1),
                                 Layer("conv", 3, 1, 2, 2), Layer("avgpool", 2, 2))
    with pytest.raises(ValueError, match="Sequential"):
        rf.layers_of(nn.Conv2d(1, 1, 3))
    with pytest.raises(ValueError, match="Upsample"):
        rf.layers_of(nn.Sequential(nn.Conv2d(1, 1, 3), nn.Upsample(scale_factor=2)))
    with pytest.raises(ValueError, match="square"):
        rf.layers_of(nn.Sequential(nn.Conv2d(1, 1, (3, 5))))


# --------------------------------------------------------------------------- the figures on a page and a phone


def _phone(fig):
    """Lay ``fig`` out as a phone's drawing (style.narrow_layout); the function that puts it back."""
    undo = style.narrow_layout(fig)
    assert undo is not None, "the figure has a phone's drawing"
    return undo


def _phone_scale(fig):
    """CSS pixels per figure pixel at CSS_DPI, in a phone's box: the drawing scaled down to its width."""
    return min(1.0, style.PHONE_COLUMN_PX / (fig.get_figwidth() * style.CSS_DPI))


def test_width_growth_reference_labels_sit_where_no_data_is_drawn():
    # The chapter's numbers: "all weights 1" lies on √(2/3), the other two start near it and end near √(4/3).
    depths = [1, 2, 4, 8, 16, 32]
    sigmas = {"random, ReLU": [0.831, 1.272, 2.001, 3.073, 4.494, 6.457],
              "random, linear": [0.831, 1.282, 2.032, 3.097, 4.489, 6.479],
              "all weights 1": [0.816, 1.155, 1.633, 2.309, 3.266, 4.619]}
    fig = drf.width_growth(depths, [2 * d + 1 for d in depths], [3, 5, 9, 14, 20, 29], sigmas,
                           references={"√(4/3)": (4 / 3) ** 0.5, "√(2/3)": (2 / 3) ** 0.5})
    ax = fig.axes[1]
    labels = [t for t in ax.texts if t.get_text().startswith("√")]
    assert [t.get_text() for t in labels] == ["√(4/3)", "√(2/3)"]
    data = [line for line in ax.lines if line.get_label() in sigmas]
    assert len(data) == 3
    for drawing in ("page", "phone"):
        undo = _phone(fig) if drawing == "phone" else None
        renderer = FigureCanvasAgg(fig).get_renderer()
        style.legible(fig)
        fig.draw_without_rendering()
        legend = ax.get_legend().get_window_extent(renderer)
        for label in labels:
            box = label.get_window_extent(renderer).padded(1.0)
            assert fig.bbox.contains(box.x0, box.y0) and fig.bbox.contains(box.x1, box.y1), drawing
            assert not box.overlaps(legend), drawing
            for line in data:
                path = line.get_transform().transform_path(line.get_path())
                assert not path.intersects_bbox(box, filled=False), (drawing, label.get_text(), line.get_label())
                # Nor may a marker reach into it.
                reach = line.get_markersize() * fig.dpi / 72 / 2 + line.get_markeredgewidth()
                assert not any(box.padded(reach).contains(x, y) for x, y in path.vertices), \
                    (drawing, label.get_text(), line.get_label())
        if undo is not None:
            undo()


def _trained_fields_maps():
    """Four 16 x 16 maps, titled as chapter 4's fig-trained-fields titles them: untrained and trained, on two inputs.

    Each is even over a square of rows and columns: its Gaussian of the same σ peaks above
    every dot of its profile (as a field with heavy tails does).
    """
    rows = np.arange(16.0)
    maps = {}
    for name, (start, stop) in (("untrained, digits", (2, 14)), ("untrained, nudged", (3, 13)),
                                ("trained, digits", (4, 12)), ("trained, nudged", (4, 13))):
        profile = ((rows >= start) & (rows < stop)).astype(float)
        m = np.outer(profile, profile)
        maps[name] = m / m.sum()
    return maps


def test_trained_fields_keep_each_pair_together_with_legible_markers_and_whole_curves():
    maps = _trained_fields_maps()
    stack = [Layer("conv", 3, padding=1)] * 2 + [Layer("maxpool", 2, 2)] + [Layer("conv", 3, padding=1)] * 2
    region = rf.input_region(stack, 16, 4, 4)   # the chapter's digit network and centre unit
    fig = drf.effective_fields(maps, region, rows=2)
    by_title = {ax.get_title().split("\n")[0]: ax for ax in fig.axes}
    profiles = by_title["row profiles"]
    # Every curve and dot lies inside the axes' limits: none is cut off.
    (x0, x1), (y0, y1) = profiles.get_xlim(), profiles.get_ylim()
    assert len(profiles.lines) == 8
    for line in profiles.lines:
        x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
        assert x.min() >= x0 and x.max() <= x1 and y.min() >= y0 and y.max() <= y1, line.get_label()
    # Untrained and trained: each network's two inputs, one column; the two columns side by side.
    pairs = [("untrained, digits", "untrained, nudged"), ("trained, digits", "trained, nudged")]
    legend = profiles.get_legend()
    for drawing in ("page", "phone"):
        undo = _phone(fig) if drawing == "phone" else None
        renderer = FigureCanvasAgg(fig).get_renderer()
        style.legible(fig)
        fig.draw_without_rendering()
        boxes = {title: ax.get_window_extent(renderer) for title, ax in by_title.items()}
        for a, b in pairs:
            assert _adjacent(boxes, a, b), f"{drawing}: {a!r} and {b!r} are apart"
        assert _adjacent(boxes, pairs[0][0], pairs[1][0]) and _adjacent(boxes, pairs[0][1], pairs[1][1]), drawing
        # The legend's dots are at least 8 CSS pixels across, on the page and on a phone.
        scale = _phone_scale(fig) if drawing == "phone" else min(1.0, style.COLUMN_PX / (
            fig.get_figwidth() * style.CSS_DPI))
        sizes = [h.get_markersize() * style.CSS_DPI / 72 * scale for h in legend.legend_handles]
        assert len(sizes) == 4 and min(sizes) >= 8.0, (drawing, sizes)
        if undo is not None:
            undo()


def _adjacent(boxes, a, b):
    """Whether panels ``a`` and ``b`` are neighbours: side by side or one over the other, no panel between."""
    first, second = boxes[a], boxes[b]
    between = [box for title, box in boxes.items() if title not in (a, b)]
    if min(first.y1, second.y1) - max(first.y0, second.y0) > 0:   # in one row
        left, right = sorted((first, second), key=lambda box: box.x0)
        return not any(left.x1 <= box.x0 and box.x1 <= right.x0 and min(box.y1, left.y1) > max(box.y0, left.y0)
                       for box in between)
    if min(first.x1, second.x1) - max(first.x0, second.x0) > 0:   # in one column
        low, high = sorted((first, second), key=lambda box: box.y0)
        return not any(low.y1 <= box.y0 and box.y1 <= high.y0 and min(box.x1, low.x1) > max(box.x0, low.x0)
                       for box in between)
    return False


def test_field_profiles_legend_markers_are_legible_on_a_phone_in_one_row_too():
    stack = [Layer("conv", 3, padding=1)] * 2 + [Layer("maxpool", 2, 2)] + [Layer("conv", 3, padding=1)] * 2
    fig = drf.effective_fields(_trained_fields_maps(), rf.input_region(stack, 16, 4, 4))
    legend = fig.axes[-1].get_legend()
    undo = _phone(fig)
    sizes = [h.get_markersize() * style.CSS_DPI / 72 * _phone_scale(fig) for h in legend.legend_handles]
    undo()
    assert len(sizes) == 4 and min(sizes) >= 8.0, sizes
