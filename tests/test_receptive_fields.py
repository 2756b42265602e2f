"""Tests of the receptive-field topic: widgets.compute.receptive_fields and
widgets.draw.receptive_fields, and the numbers the chapter quotes.

The calculator is checked against hand-worked cases, against the backward
recurrence r_{l-1} = s_l r_l + (k_l - s_l), against PyTorch's own output
shapes, and against the support of real input gradients; the effective field
against the closed form for all-ones weights (a sum of independent uniform
steps).
"""

import math

import matplotlib

matplotlib.use("Agg")  # headless: before pyplot is imported anywhere

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from conftest import glued  # noqa: E402
from widgets.compute import data  # noqa: E402
from widgets.compute import receptive_fields as rf  # noqa: E402
from widgets.draw import receptive_fields as drf  # noqa: E402

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
    assert rf.spread(erf) == pytest.approx(_steps_std(n, k), rel=1e-9)
    assert rf.spread(erf, axis=1) == pytest.approx(_steps_std(n, k), rel=1e-9)
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
        spreads[n] = rf.spread(rf.random_effective_field(layers, size, channels=4, networks=4, samples=8))
    # Theoretical size grows 33 / 9 = 3.7 times; sqrt(depth) would give 2.
    assert 1.5 < spreads[16] / spreads[4] < 2.7


def test_spread_and_mass_square_closed_forms():
    point = torch.zeros(9, 9)
    point[4, 6] = 2.0
    assert rf.spread(point) == 0.0
    assert rf.mass_square(point) == (4, 6, 1)
    uniform = torch.zeros(9, 9)
    uniform[2:7, 1:6] = 1.0
    assert rf.spread(uniform) == pytest.approx(math.sqrt((25 - 1) / 12))
    assert rf.mass_square(uniform, 1.0) == (2, 1, 5)
    assert rf.mass_side(uniform, 0.95) == 5  # a 4 x 4 window holds only 16 / 25
    assert rf.mass_side(uniform, 0.64) == 4
    assert rf.mass_side(torch.ones(4, 6), 1.0) == 6


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: rf.spread(torch.zeros(3, 3)), "^field must have a positive sum"),
        (lambda: rf.spread(-torch.ones(3, 3)), "^field must be non-negative"),
        (lambda: rf.spread(torch.ones(3)), "^field must be 2-D"),
        (lambda: rf.spread(torch.ones(3, 3), axis=2), "^axis must be one of"),
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


# --------------------------------------------------------------------------- the digits network


def test_digits_cnn_trains_and_scores():
    images, labels = data.digits(8)
    conv = Layer("conv", 3, padding=1)
    model = rf.DigitsCNN([conv, conv, Layer("maxpool", 2, 2), conv], channels=16, seed=1)
    assert model(images[:5]).shape == (5, 10)
    before = rf.accuracy(model, images[1000:1300], labels[1000:1300])
    first = rf.train_digits(model, images[:800], labels[:800], epochs=1, seed=0)
    last = rf.train_digits(model, images[:800], labels[:800], epochs=3, seed=0)
    assert last < first
    after = rf.accuracy(model, images[1000:1300], labels[1000:1300])
    assert after > max(0.5, before + 0.3)
    assert not model.training


def test_digits_cnn_is_repeatable():
    images, labels = data.digits(10)
    layers = [Layer("conv", 3, padding=1)] * 2
    models = [rf.DigitsCNN(layers, channels=4, seed=7) for _ in range(2)]
    losses = [rf.train_digits(m, images[:200], labels[:200], epochs=1, seed=1) for m in models]
    assert losses[0] == losses[1]
    torch.testing.assert_close(models[0].head.weight, models[1].head.weight, rtol=0, atol=0)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: rf.DigitsCNN([Layer("maxpool", 2, 2), Layer()]), "^layers must start with a conv layer"),
        (lambda: rf.DigitsCNN([]), "^layers must start with a conv layer"),
        (lambda: rf.DigitsCNN([Layer()], channels=0), "^channels must be in"),
        (lambda: rf.train_digits(torch.nn.Identity(), torch.zeros(2, 1, 8, 8), torch.zeros(2, dtype=torch.long)),
         "^model must be a DigitsCNN"),
        (lambda: rf.train_digits(rf.DigitsCNN([Layer()]), torch.zeros(2, 1, 8, 8), torch.zeros(2)),
         "^labels must be a 1-D integer tensor with 2 entries"),
        (lambda: rf.train_digits(rf.DigitsCNN([Layer()]), torch.zeros(2, 1, 8, 8), torch.zeros(3, dtype=torch.long)),
         "^labels must be a 1-D integer tensor"),
        (lambda: rf.train_digits(rf.DigitsCNN([Layer()]), torch.zeros(2, 1, 8, 8), torch.zeros(2, dtype=torch.long),
                                 lr=0), r"^lr must be a number in \(0, 1\]"),
        (lambda: rf.train_digits(rf.DigitsCNN([Layer()]), torch.zeros(2, 1, 8, 8), torch.zeros(2, dtype=torch.long),
                                 epochs=0), "^epochs must be in"),
        (lambda: rf.accuracy("model", torch.zeros(2, 1, 8, 8), torch.zeros(2, dtype=torch.long)),
         "^model must be a torch.nn.Module"),
    ],
)
def test_digits_helpers_check_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


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
    assert rf.architecture_field("VGG-16").size == 212  # default: the last layer
    assert rf.architecture_field("VGG-16").offset == -90  # the "effective padding" of 90 for VGG-16
    vgg = rf.ARCHITECTURES["VGG-16"]
    assert sum(layer.kind == "conv" for _, layer in vgg) == 13
    resnet = rf.ARCHITECTURES["ResNet-50 v1"]
    assert sum(layer.kind == "conv" for _, layer in resnet) == 1 + 3 * (3 + 4 + 6 + 3)  # 49 + the fc = 50 layers
    # The two ResNet-50 variants differ only in where the downsampling stride sits.
    assert len(resnet) == len(rf.ARCHITECTURES["ResNet-50 v1.5"])
    with pytest.raises(ValueError, match="^name must be one of"):
        rf.architecture_field("ResNet-18")
    with pytest.raises(ValueError, match="^upto must be one of"):
        rf.architecture_field("AlexNet", "conv6")


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
    fig = drf.width_growth([1, 4, 16], [3, 9, 33], [3, 9, 20], [0.8, 2.0, 4.4])
    assert isinstance(fig, Figure)
    assert [ax.get_title() for ax in fig.axes] == ["field size against depth", "effective σ grows like √depth"]
    assert "from 3 to 33 pixels" in fig.alt and "only to 20" in fig.alt and "1.10" in fig.alt
    with pytest.raises(ValueError, match="^depths, theoretical, effective and spreads must have the same length"):
        drf.width_growth([1, 2], [3, 5], [3], [1, 1])
    maps = {"a": rf.random_effective_field([Layer()] * 2, 9, networks=1, samples=2),
            "b": rf.random_effective_field([Layer()] * 2, 9, networks=1, samples=2, seed=1)}
    region = rf.input_region([Layer()] * 2, 9, 2, 2)
    fig = drf.effective_fields(maps, region)
    assert [ax.get_title() for ax in fig.axes] == ["a", "b", "row profiles, Gaussian fits"]
    assert "5 by 5" in fig.alt
    assert fig.axes[0].patches[0].get_xy() == (1.5, 1.5)  # the field of unit (2, 2) starts at pixel 2
    with pytest.raises(ValueError, match="^maps must be a dict of 1 to 3"):
        drf.effective_fields({}, region)


# --------------------------------------------------------------------------- the chapter's numbers


def test_receptive_fields_chapter_numbers(book_build):
    """The numbers the receptive-field chapter quotes, against closed forms worked out by hand."""
    if book_build.executed is None:
        pytest.skip("CW_SITE set: no executed notebooks")
    g = glued(book_build.executed, "book/04_receptive_fields")
    # Stacked 3x3 stride 1: 2n + 1. With a 2x2 stride-2 pool after every second conv:
    # 3, 5, (6) 10, 14, (16) 24, 32 with jumps 1, 1, 2, 2, 4, 4.
    assert int(g["three_field"]) == 7
    for n in range(1, 7):
        assert int(g[f"plain_{n}"]) == 2 * n + 1
    assert [int(g[f"pooled_{n}"]) for n in range(1, 7)] == [3, 5, 10, 14, 24, 32]
    assert [int(g[f"pooled_jump_{n}"]) for n in range(1, 7)] == [1, 1, 2, 2, 4, 4]
    # Three 3x3 against one 7x7 with C = 64: 27 C^2 against 49 C^2 weights, plus C biases each.
    assert int(g["seven_field"]) == 7
    assert int(g["stack_weights"]) == 27 * 64 ** 2
    assert int(g["single_weights"]) == 49 * 64 ** 2
    assert int(g["stack_params"]) == 27 * 64 ** 2 + 3 * 64
    assert int(g["single_params"]) == 49 * 64 ** 2 + 64
    assert float(g["weight_ratio"]) == pytest.approx(27 / 49)
    # Conv 3 pad 1, pool 2 stride 2, conv 3 pad 1: size 8, jump 2, offset -(1 + 1 * 2) = -3.
    assert (int(g["small_size"]), int(g["small_jump"]), int(g["small_offset"])) == (8, 2, -3)
    assert int(g["corner_top"]) == -3 and int(g["corner_clipped"]) == 5 and int(g["inside_top"]) == 7
    assert (int(g["pool_case_size"]), int(g["pool_case_jump"])) == (8, 2)
    assert (int(g["dilated_size"]), int(g["dilated_pixels"])) == (5, 9)
    assert int(g["agree"]) == int(g["trials"]) == 200
    assert int(g["avg_pixels"]) == 64 and 9 <= int(g["max_pixels"]) < 64
    assert int(g["explorer_frames"]) == 4 * 2 * 3
    # Published architectures (worked by hand with size += (k - 1) * jump, jump *= stride).
    sizes = {key: (int(g[f"{key}_size"]), int(g[f"{key}_jump"])) for key in
             ["lenet_c5", "alexnet_conv5", "alexnet_pool5", "vgg_conv5_3", "vgg_pool5", "resnet_v1", "resnet_v15"]}
    assert sizes == {"lenet_c5": (32, 4), "alexnet_conv5": (163, 16), "alexnet_pool5": (195, 32),
                     "vgg_conv5_3": (196, 16), "vgg_pool5": (212, 32), "resnet_v1": (483, 32),
                     "resnet_v15": (427, 32)}
    # Effective field: theoretical 2n + 1; the 95 % square is much smaller at depth 32, and
    # sigma / sqrt(depth) levels off (all-ones weights: exactly sqrt(2 n / 3)).
    assert int(g["erf_depth"]) == 32 and int(g["erf_theory"]) == 65 and int(g["erf_theory_8"]) == 17
    assert int(g["erf_side"]) < 0.6 * 65
    assert int(g["erf_side_8"]) <= 17
    assert float(g["erf_sigma_per_root"]) == pytest.approx(float(g["erf_sigma_per_root_8"]), rel=0.2)
    assert float(g["ones_sigma"]) == pytest.approx(math.sqrt(32 * 2 / 3), rel=1e-9)
    assert float(g["uniform_sigma_65"]) == pytest.approx(math.sqrt((65 ** 2 - 1) / 12))
    # The digits network: field 14 (3, 5, 6, 10, 14); trained well above chance; widths
    # well below a uniform 14-pixel field, and training changes the width little.
    assert int(g["digit_theory"]) == 14
    assert float(g["digit_accuracy"]) > 0.75
    assert float(g["uniform_sigma_14"]) == pytest.approx(math.sqrt((14 ** 2 - 1) / 12))
    for key in ("sigma_random", "sigma_before", "sigma_after"):
        assert 1.5 < float(g[key]) < float(g["uniform_sigma_14"])
    assert float(g["sigma_after"]) == pytest.approx(float(g["sigma_before"]), rel=0.2)
    assert float(g["sigma_change"]) == pytest.approx(float(g["sigma_after"]) / float(g["sigma_before"]) - 1)
    assert abs(float(g["sigma_change"])) < 0.2
    # The explorer: the solid square holds half the influence and is smaller than the field.
    assert (int(g["field_4_k3"]), int(g["field_4_k5"]), int(g["field_4_s2"])) == (9, 17, 61)
    assert 1 <= int(g["half_1"]) <= 3 and int(g["half_4"]) < 9 and int(g["half_4_k5"]) < 17
    assert int(g["half_4_s2"]) < 61


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
