"""Tests of the chapter-1 topic module: widgets.compute.conv_layer,
widgets.compute.data and widgets.draw.conv_layer.

Computations are compared with torch.nn.functional.conv2d or with numbers
worked out by hand in the comments; nothing re-implements the code under test.
"""



import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from test_controls import framed
from test_style import drawn_texts, laid_out, overlap, texts_outside

from widgets.compute import conv_layer as cl
from widgets.compute import data
from widgets.draw import conv_layer as dcl

PROPERTY = settings(max_examples=40, deadline=None)


def _randn(*shape, seed, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=gen, dtype=dtype)


# --------------------------------------------------------------------------- output_size


@pytest.mark.parametrize(
    "args, kwargs, expected",
    [
        ((64, 3), {}, 62),
        ((128, 5), {}, 124),
        ((64, 3), {"stride": 2}, 31),  # (64 - 3) // 2 + 1 = 30 + 1
        ((64, 3), {"padding": 1}, 64),  # "same" padding for a 3x3 kernel
        ((7, 3), {"stride": 2, "padding": 1}, 4),  # (7 + 2 - 3) // 2 + 1
        ((5, 5), {}, 1),  # kernel as large as the input: one window
        ((1, 1), {}, 1),
        ((4, 6), {"padding": 1}, 1),  # kernel as large as the padded input
        ((10, 1), {"stride": 3}, 4),  # windows at 0, 3, 6, 9
        ((np.int64(64), np.int32(3)), {}, 62),  # numpy integers are integers
    ],
)
def test_output_size_closed_form(args, kwargs, expected):
    assert cl.output_size(*args, **kwargs) == expected


@settings(max_examples=40, deadline=None)
@given(size=st.integers(1, 20), kernel=st.integers(1, 7), stride=st.integers(1, 4), padding=st.integers(0, 3))
def test_output_size_matches_torch(size, kernel, stride, padding):
    if kernel > size + 2 * padding:
        with pytest.raises(ValueError, match="^kernel_size"):
            cl.output_size(size, kernel, stride, padding)
        return
    out = F.conv1d(torch.zeros(1, 1, size), torch.zeros(1, 1, kernel), stride=stride, padding=padding)
    assert cl.output_size(size, kernel, stride, padding) == out.shape[-1]


@pytest.mark.parametrize(
    "args, kwargs, name",
    [
        ((0, 3), {}, "size"),
        ((-5, 3), {}, "size"),
        ((64, 0), {}, "kernel_size"),
        ((64, -1), {}, "kernel_size"),
        ((64, 3), {"stride": 0}, "stride"),
        ((64, 3), {"stride": -2}, "stride"),
        ((64, 3), {"padding": -1}, "padding"),
        ((64.0, 3), {}, "size"),
        ((64, 3.0), {}, "kernel_size"),
        ((64, True), {}, "kernel_size"),
        ((64, 3), {"stride": True}, "stride"),
        ((64, 3), {"padding": 1.0}, "padding"),
        ((64, "3"), {}, "kernel_size"),
        ((4, 5), {}, "kernel_size"),  # kernel larger than the input
        ((4, 7), {"padding": 1}, "kernel_size"),  # larger than the padded input (6)
    ],
)
def test_output_size_rejects_bad_arguments(args, kwargs, name):
    with pytest.raises(ValueError, match=f"^{name} must"):
        cl.output_size(*args, **kwargs)


def test_output_size_message_says_what_is_allowed():
    with pytest.raises(ValueError, match=r"^kernel_size must be in \[1, 6\], got 7$"):
        cl.output_size(4, 7, padding=1)
    with pytest.raises(ValueError, match=r"^kernel_size must be an integer, got 3\.0 \(float\)$"):
        cl.output_size(64, 3.0)


# --------------------------------------------------------------------------- sliding_window_conv2d


@st.composite
def conv_cases(draw):
    n = draw(st.integers(1, 3))
    c = draw(st.integers(1, 3))
    o = draw(st.integers(1, 3))
    kh = draw(st.integers(1, 4))
    kw = draw(st.integers(1, 4))
    stride = draw(st.integers(1, 3))
    padding = draw(st.integers(0, 2))
    h = draw(st.integers(max(1, kh - 2 * padding), 9))
    w = draw(st.integers(max(1, kw - 2 * padding), 9))
    use_bias = draw(st.booleans())
    seed = draw(st.integers(0, 2**31 - 1))
    return n, c, o, kh, kw, stride, padding, h, w, use_bias, seed


@PROPERTY
@given(conv_cases())
def test_sliding_window_equals_torch_conv2d(case):
    n, c, o, kh, kw, stride, padding, h, w, use_bias, seed = case
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c, h, w, generator=gen, dtype=torch.float64)
    weight = torch.randn(o, c, kh, kw, generator=gen, dtype=torch.float64)
    bias = torch.randn(o, generator=gen, dtype=torch.float64) if use_bias else None
    got = cl.sliding_window_conv2d(x, weight, bias, stride=stride, padding=padding)
    want = F.conv2d(x, weight, bias, stride=stride, padding=padding)
    assert got.shape == want.shape
    torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)


def test_sliding_window_float32_close_to_torch():
    torch.manual_seed(3)
    x = torch.randn(2, 3, 12, 10)
    weight = torch.randn(4, 3, 3, 3)
    bias = torch.randn(4)
    got = cl.sliding_window_conv2d(x, weight, bias, stride=2, padding=1)
    want = F.conv2d(x, weight, bias, stride=2, padding=1)
    assert got.dtype == torch.float32
    assert got.shape == (2, 4, 6, 5)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_sliding_window_hand_worked_example():
    # A 3x3 image of ones and a 2x2 kernel of ones: every window sums four ones.
    x = torch.ones(1, 1, 3, 3)
    weight = torch.ones(1, 1, 2, 2)
    out = cl.sliding_window_conv2d(x, weight, torch.tensor([0.5]))
    assert torch.equal(out, torch.full((1, 1, 2, 2), 4.5))
    # With one pixel of zero padding the windows see 1 (corners), 2 (edges) or 4 ones.
    out = cl.sliding_window_conv2d(x, weight, padding=1)
    expected = torch.tensor([[1.0, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]])
    assert torch.equal(out[0, 0], expected)


@pytest.mark.parametrize(
    "x_shape, w_shape, b_shape, x_dtype, match",
    [
        ((1, 3, 8, 8), (2, 1, 3, 3), None, torch.float32, "^weight must have 3 input channels"),
        ((3, 8, 8), (2, 3, 3, 3), None, torch.float32, "^x must be 4-D"),
        ((1, 3, 8, 8), (3, 3, 3), None, torch.float32, "^weight must be 4-D"),
        ((1, 1, 8, 8), (2, 1, 3, 3), None, torch.int64, "^x must hold floating-point"),
        ((1, 1, 8, 8), (2, 1, 3, 3), (3,), torch.float32, "^bias must have 2 entries"),
        ((1, 1, 8, 8), (2, 1, 3, 3), (2, 1), torch.float32, "^bias must be 1-D"),
        ((1, 1, 2, 2), (1, 1, 3, 3), None, torch.float32, "^kernel_size"),
    ],
)
def test_sliding_window_rejects_bad_inputs(x_shape, w_shape, b_shape, x_dtype, match):
    x = torch.zeros(x_shape, dtype=x_dtype)
    weight = torch.zeros(w_shape)
    bias = torch.zeros(b_shape) if b_shape is not None else None
    with pytest.raises(ValueError, match=match):
        cl.sliding_window_conv2d(x, weight, bias)


def test_sliding_window_rejects_non_tensor():
    with pytest.raises(ValueError, match="^x must be a torch.Tensor, got ndarray"):
        cl.sliding_window_conv2d(np.zeros((1, 1, 4, 4)), torch.zeros(1, 1, 3, 3))


# --------------------------------------------------------------------------- multiply_add


@PROPERTY
@given(
    h=st.integers(3, 10), w=st.integers(3, 10), k=st.integers(1, 3), stride=st.integers(1, 3),
    pos=st.tuples(st.floats(0, 1, exclude_max=True), st.floats(0, 1, exclude_max=True)),
    seed=st.integers(0, 2**31 - 1),
)
def test_multiply_add_value_equals_conv2d(h, w, k, stride, pos, seed):
    gen = torch.Generator().manual_seed(seed)
    image = torch.randn(h, w, generator=gen, dtype=torch.float64)
    kernel = torch.randn(k, k, generator=gen, dtype=torch.float64)
    full = F.conv2d(image[None, None], kernel[None, None], stride=stride)[0, 0]
    row, col = int(pos[0] * full.shape[0]), int(pos[1] * full.shape[1])
    step = cl.multiply_add(image, kernel, row, col, stride=stride)
    assert (step.row, step.col) == (row, col)
    assert step.value == pytest.approx(full[row, col].item(), rel=1e-12, abs=1e-12)
    assert step.patch.shape == (k, k)
    assert step.products.shape == (k, k)
    assert step.products.sum().item() == pytest.approx(step.value, rel=1e-12, abs=1e-12)


def test_multiply_add_top_left_with_stride():
    image = torch.arange(100, dtype=torch.float32).view(10, 10)
    kernel = cl.hand_filter("identity")
    step = cl.multiply_add(image, kernel, row=3, col=1, stride=2)
    # Output (3, 1) with stride 2 reads the window whose top-left pixel is (6, 2).
    assert (step.top, step.left) == (6, 2)
    assert step.patch.shape == (3, 3)
    assert step.patch[0, 0].item() == 62.0  # image[6, 2] = 6 * 10 + 2
    assert step.patch[2, 2].item() == 84.0  # image[8, 4]
    # The identity kernel picks the centre of the window, image[7, 3] = 73.
    assert step.value == 73.0
    assert torch.equal(step.kernel, kernel)


def test_multiply_add_vertical_edge_on_ramp():
    # image[i, j] = j / 10: each kernel row is (-1, 0, 1) times (1, 2, 1), so the
    # sum is 4 * ((j + 2) - j) / 10 = 0.8 wherever the window is.
    image = (torch.arange(8, dtype=torch.float64) / 10).expand(6, 8)
    kernel = cl.hand_filter("vertical edges").double()
    for row, col in [(0, 0), (2, 3), (3, 5)]:
        assert cl.multiply_add(image, kernel, row, col).value == pytest.approx(0.8)


@pytest.mark.parametrize(
    "row, col, stride, name",
    [(6, 0, 1, "row"), (-1, 0, 1, "row"), (0, 6, 1, "col"), (0, -1, 1, "col"),
     (3, 0, 2, "row"), (1.0, 0, 1, "row"), (0, 0, 0, "stride")],
)
def test_multiply_add_out_of_range(row, col, stride, name):
    image = torch.zeros(8, 8)  # 3x3 kernel: 6 valid positions per axis, 3 with stride 2
    with pytest.raises(ValueError, match=f"^{name} must"):
        cl.multiply_add(image, torch.zeros(3, 3), row, col, stride=stride)


def test_multiply_add_rejects_kernel_larger_than_image():
    with pytest.raises(ValueError, match="^kernel_size"):
        cl.multiply_add(torch.zeros(2, 8), torch.zeros(3, 3), 0, 0)


# --------------------------------------------------------------------------- hand-set filters


def test_hand_filters_order_and_values():
    assert list(cl.HAND_FILTERS) == [
        "vertical edges", "horizontal edges", "diagonal edges ↘", "diagonal edges ↗", "blur", "identity"]
    sobel_x = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    assert torch.equal(cl.hand_filter("vertical edges"), sobel_x)
    assert torch.equal(cl.hand_filter("horizontal edges"), sobel_x.T)
    blur = cl.hand_filter("blur")
    assert blur.dtype == torch.float32 and blur.shape == (3, 3)
    assert blur.sum().item() == pytest.approx(1.0, abs=1e-6)
    for name in ("vertical edges", "horizontal edges", "diagonal edges ↘", "diagonal edges ↗"):
        assert cl.hand_filter(name).sum().item() == 0.0  # edge detectors ignore flat regions


def test_hand_filter_returns_a_copy():
    k = cl.hand_filter("identity")
    k.zero_()
    assert cl.hand_filter("identity")[1, 1].item() == 1.0


@pytest.mark.parametrize("name", ["sharpen", "Vertical edges", ""])
def test_hand_filter_unknown_name(name):
    with pytest.raises(ValueError, match="^name must be one of"):
        cl.hand_filter(name)


def test_identity_filter_returns_image():
    image = torch.rand(1, 9, 7, generator=torch.Generator().manual_seed(0))
    valid = F.conv2d(image[None], cl.hand_filter("identity")[None, None])[0, 0]
    torch.testing.assert_close(valid, image[0, 1:-1, 1:-1], rtol=0, atol=0)


# --------------------------------------------------------------------------- colour filters


def test_colour_filters_order_and_values():
    assert cl.COLOUR_FILTERS == ("vertical edges", "horizontal edges", "red − green", "blue − yellow",
                                 "blur", "brightness")
    luma = torch.tensor(cl.LUMA)
    assert float(luma.sum()) == pytest.approx(1.0)
    for name, base in (("vertical edges", "vertical edges"), ("horizontal edges", "horizontal edges"),
                       ("blur", "blur"), ("brightness", "identity")):
        w = cl.colour_filter(name)
        assert w.shape == (3, 3, 3) and w.dtype == torch.float32
        for c in range(3):
            torch.testing.assert_close(w[c], luma[c] * cl.hand_filter(base))
    rg = cl.colour_filter("red − green")
    assert torch.equal(rg[0], cl.hand_filter("blur")) and torch.equal(rg[1], -cl.hand_filter("blur"))
    assert torch.count_nonzero(rg[2]) == 0
    by = cl.colour_filter("blue − yellow")
    torch.testing.assert_close(by.sum(dim=0), torch.zeros(3, 3))   # no response to gray
    assert float(by[2].sum()) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="^name must be one of"):
        cl.colour_filter("green − red")


def test_brightness_filters_cannot_tell_colour_from_gray_and_opponent_filters_see_only_colour():
    colour = data.photo(24, channels=3)
    gray = data.photo(24, channels=1).expand(3, -1, -1)
    c_maps, g_maps = cl.colour_filter_maps(colour, 6), cl.colour_filter_maps(gray, 6)
    assert c_maps.shape == (6, 22, 22)
    for i, name in enumerate(cl.COLOUR_FILTERS):
        if "−" in name:
            assert float(g_maps[i].abs().max()) < 1e-6          # red = green = blue: nothing to see
            assert float(c_maps[i].abs().max()) > 0.1
        else:
            torch.testing.assert_close(c_maps[i], g_maps[i], atol=1e-5, rtol=0)
    # The brightness map is the grayscale picture without its one-pixel frame.
    torch.testing.assert_close(c_maps[5], data.photo(24, channels=1)[0, 1:-1, 1:-1], atol=1e-5, rtol=0)


@pytest.mark.parametrize("n, padding", [(1, 0), (6, 0), (3, 1)])
def test_colour_filter_conv(n, padding):
    conv = cl.colour_filter_conv(n, padding=padding)
    assert conv.weight.shape == (n, 3, 3, 3) and torch.equal(conv.bias, torch.zeros(n))
    assert conv.padding == (padding, padding)
    assert torch.equal(conv.weight[n - 1], cl.colour_filter(cl.COLOUR_FILTERS[n - 1]))


def test_colour_filter_maps_keeps_float64():
    image = torch.rand(3, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    maps = cl.colour_filter_maps(image, 6)
    assert maps.dtype == torch.float64 and not maps.requires_grad


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: cl.colour_filter_conv(0), "^n_filters"),
        (lambda: cl.colour_filter_conv(7), "^n_filters"),
        (lambda: cl.colour_filter_conv(2, padding=2), "^padding"),
        (lambda: cl.colour_filter_maps(torch.zeros(1, 8, 8), 2), "^image must have 3 channels"),
        (lambda: cl.colour_filter_maps(torch.zeros(8, 8), 2), "^image must be 3-D"),
    ],
)
def test_colour_filter_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_channel_products_add_up_to_conv2d():
    image = torch.rand(3, 9, 11, generator=torch.Generator().manual_seed(2))
    weight = cl.colour_filter("red − green")
    step = cl.channel_products(image, weight, 4, 6)
    want = F.conv2d(image[None], weight[None])[0, 0, 4, 6]
    assert step.value == pytest.approx(float(want), abs=1e-6)
    assert step.sums.shape == (3,) and float(step.sums[2]) == 0.0
    torch.testing.assert_close(step.patches, image[:, 4:7, 6:9])
    torch.testing.assert_close(step.products.sum(dim=(1, 2)), step.sums)
    with pytest.raises(ValueError, match="^weight must have 3 kernels"):
        cl.channel_products(image, torch.zeros(2, 3, 3), 0, 0)
    with pytest.raises(ValueError, match="^row must be"):
        cl.channel_products(image, weight, 7, 0)


def test_border_ratio_sees_the_frame_zero_padding_adds():
    flat = torch.full((1, 1, 12, 12), 0.5)
    edges = F.conv2d(flat, cl.hand_filter("vertical edges")[None, None], padding=1)[0, 0]
    # A flat image has no edges inside; zero padding puts one along the left and right borders.
    with pytest.raises(ValueError, match="^feature_map must respond"):
        cl.border_ratio(edges)
    ramp = torch.arange(12.0).expand(12, 12) / 12
    assert cl.border_ratio(ramp) == pytest.approx(
        float(torch.cat([ramp[0], ramp[-1], ramp[1:-1, 0], ramp[1:-1, -1]]).mean() / ramp[1:-1, 1:-1].mean()))
    photo = data.photo(64)
    padded = F.conv2d(photo[None], cl.hand_filter("vertical edges")[None, None], padding=1)[0, 0]
    valid = F.conv2d(photo[None], cl.hand_filter("vertical edges")[None, None])[0, 0]
    assert cl.border_ratio(padded) > 2.0 > 1.5 > cl.border_ratio(valid)
    with pytest.raises(ValueError, match="^width must be"):
        cl.border_ratio(ramp, width=6)


# --------------------------------------------------------------------------- learning a kernel


def test_kernel_pairs_are_crops_and_their_responses():
    target = cl.hand_filter("vertical edges")
    x, y = cl.kernel_pairs(target, n=8, size=10, seed=1)
    assert x.shape == (8, 1, 10, 10) and y.shape == (8, 1, 8, 8)
    torch.testing.assert_close(y, F.conv2d(x, target[None, None]))
    x2, _ = cl.kernel_pairs(target, n=8, size=10, seed=1)
    assert torch.equal(x, x2)
    with pytest.raises(ValueError, match="^size must be"):
        cl.kernel_pairs(target, size=2)


def test_gradient_descent_recovers_the_hidden_edge_detector():
    """The chapter's claim over its five seeds: every run ends near the hidden kernel, far from its start."""
    target = cl.hand_filter("vertical edges")
    runs = cl.kernel_study(target, range(5), control=False).runs
    for run in runs:
        assert run.error < 0.25 < 1.0 < run.initial_error
        assert run.losses[-1] < 1e-3 * run.losses[0]
    # A different hidden kernel is recovered as well: the data, not the code, decide the result.
    other = cl.kernel_study(cl.hand_filter("horizontal edges"), [0], control=False).runs[0]
    assert other.error < 0.25


def test_pool_gradient_is_the_routing_mask():
    x = torch.tensor([[1.0, 3.0, 2.0, 0.0], [4.0, 2.0, 1.0, 5.0], [0.0, 1.0, 2.5, 2.0], [3.0, 1.0, 0.0, 1.5]])
    upstream = torch.tensor([[1.0, -2.0], [0.5, 3.0]])
    pooled, grad = cl.pool_gradient(x, upstream)
    assert torch.equal(pooled, torch.tensor([[4.0, 5.0], [3.0, 2.5]]))
    expected = torch.zeros(4, 4)
    expected[1, 0], expected[1, 3], expected[3, 0], expected[2, 2] = 1.0, -2.0, 0.5, 3.0
    assert torch.equal(grad, expected)
    with pytest.raises(ValueError, match="^upstream must have shape"):
        cl.pool_gradient(x, torch.zeros(3, 3))
    with pytest.raises(ValueError, match="^kernel_size must be"):
        cl.pool_gradient(x, upstream, kernel_size=5)


# --------------------------------------------------------------------------- input_gradient


def test_input_gradient_is_the_3x3_receptive_field():
    torch.manual_seed(0)
    layer = torch.nn.Conv2d(3, 5, 3)
    x = torch.randn(1, 3, 10, 12)
    grad = cl.input_gradient(layer, x, channel=2, row=4, col=6)
    assert grad.shape == x.shape
    assert int(torch.count_nonzero(grad)) == 27  # 3 channels x 3 x 3
    rows, cols = torch.nonzero(grad[0].abs().sum(0), as_tuple=True)
    assert (rows.min().item(), rows.max().item()) == (4, 6)
    assert (cols.min().item(), cols.max().item()) == (6, 8)
    # d out[2, 4, 6] / d x[:, 4 + u, 6 + v] = weight[2, :, u, v].
    torch.testing.assert_close(grad[0, :, 4:7, 6:9], layer.weight[2].detach(), rtol=0, atol=0)


def test_input_gradient_5x5_kernel_has_75_inputs():
    torch.manual_seed(1)
    layer = torch.nn.Conv2d(3, 4, 5)
    x = torch.randn(1, 3, 9, 9)
    grad = cl.input_gradient(layer, x, channel=3, row=0, col=4)
    assert int(torch.count_nonzero(grad)) == 75
    nz = torch.nonzero(grad[0].abs().sum(0))
    assert nz[:, 0].min() == 0 and nz[:, 0].max() == 4
    assert nz[:, 1].min() == 4 and nz[:, 1].max() == 8


def test_input_gradient_clipped_at_padded_corner():
    torch.manual_seed(2)
    layer = torch.nn.Conv2d(2, 1, 3, padding=1)
    x = torch.randn(1, 2, 6, 6)
    # Output (0, 0) reads input rows -1..1 and cols -1..1; only 2x2 of them exist.
    grad = cl.input_gradient(layer, x, channel=0, row=0, col=0)
    assert int(torch.count_nonzero(grad)) == 2 * 2 * 2
    assert torch.count_nonzero(grad[0, :, :2, :2]) == 8


def test_input_gradient_does_not_touch_input():
    torch.manual_seed(3)
    layer = torch.nn.Conv2d(1, 1, 3)
    x = torch.randn(1, 1, 5, 5)
    before = x.clone()
    cl.input_gradient(layer, x, 0, 1, 1)
    assert torch.equal(x, before)
    assert x.grad is None and not x.requires_grad


@pytest.mark.parametrize(
    "x_shape, args, match",
    [
        ((2, 3, 8, 8), (0, 0, 0), "^x must be a batch of one"),
        ((3, 8, 8), (0, 0, 0), "^x must be 4-D"),
        ((1, 3, 8, 8), (5, 0, 0), "^channel must be in"),
        ((1, 3, 8, 8), (-1, 0, 0), "^channel must be in"),
        ((1, 3, 8, 8), (0, 6, 0), "^row must be in"),
        ((1, 3, 8, 8), (0, 0, 6), "^col must be in"),
    ],
)
def test_input_gradient_bad_arguments(x_shape, args, match):
    torch.manual_seed(0)
    layer = torch.nn.Conv2d(3, 5, 3)
    with pytest.raises(ValueError, match=match):
        cl.input_gradient(layer, torch.randn(x_shape), *args)


# --------------------------------------------------------------------------- data.photo


@pytest.mark.parametrize("size, channels", [(8, 1), (32, 3), (64, 1)])
def test_photo_shape_dtype_range(size, channels):
    x = data.photo(size, channels=channels)
    assert x.shape == (channels, size, size)
    assert x.dtype == torch.float32
    assert x.min().item() >= 0.0 and x.max().item() <= 1.0
    assert x.std().item() > 0.05  # a photograph, not a flat image


def test_photo_grayscale_is_luma_of_rgb():
    rgb = data.photo(32, channels=3)
    gray = data.photo(32, channels=1)
    luma = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    torch.testing.assert_close(gray[0], luma, rtol=0, atol=1e-6)


def test_photo_is_deterministic():
    assert torch.equal(data.photo(16, channels=3), data.photo(16, channels=3))


@pytest.mark.parametrize(
    "kwargs, match",
    [({"size": 4}, "^size"), ({"size": 513}, "^size"), ({"size": 32.0}, "^size"),
     ({"channels": 2}, "^channels"), ({"channels": 0}, "^channels")],
)
def test_photo_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        data.photo(**kwargs)


# --------------------------------------------------------------------------- draw.conv_layer


def _rectangles(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def test_draw_multiply_add():
    image = (torch.arange(8, dtype=torch.float32) / 10).expand(6, 8).contiguous()
    step = cl.multiply_add(image, cl.hand_filter("vertical edges"), row=2, col=3)
    before = plt.get_fignums()
    fig = dcl.multiply_add(image, step)
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == before
    axes = fig.get_axes()
    assert len(axes) == 4
    assert "sum = +0.800" in axes[3].get_title()  # 0.8 worked out in test_multiply_add_vertical_edge_on_ramp
    assert axes[0].get_title() == "input\nrows 2–4, cols 3–5"
    (rect,) = _rectangles(axes[0])
    assert rect.get_xy() == (2.5, 1.5) and rect.get_width() == 3 and rect.get_height() == 3
    # One value written in each cell of the patch, kernel and products.
    assert [len(ax.texts) for ax in axes[1:]] == [9, 9, 9]
    assert [t.get_text() for t in axes[1].texts[:3]] == ["0.30", "0.40", "0.50"]
    # Integer weights are written as integers (zeros included), others with two decimals.
    assert [t.get_text() for t in axes[2].texts[:3]] == ["-1", "+0", "+1"]
    assert "3 by 3 patch at rows 2–4, cols 3–5" in fig.alt
    assert fig.alt.endswith("which sum to +0.800")
    fig.canvas.draw()  # the figure renders


def _image_axes(fig):
    return [ax for ax in fig.get_axes() if ax.get_images()]


def test_draw_multiply_add_fractional_kernel():
    image = torch.full((5, 5), 0.9)
    step = cl.multiply_add(image, cl.hand_filter("blur"), 1, 1)
    fig = dcl.multiply_add(image, step)
    kernel_ax, products_ax = fig.get_axes()[2:]
    assert {t.get_text() for t in kernel_ax.texts} == {"+0.11"}
    assert "sum = +0.900" in products_ax.get_title()  # the mean of a constant 0.9


def test_draw_feature_maps_gray():
    before = plt.get_fignums()
    gray = data.photo(16, channels=1)
    maps = F.conv2d(gray[None], torch.stack([cl.hand_filter(n) for n in list(cl.HAND_FILTERS)[:3]])[:, None],
                    padding=1)[0]
    fig = dcl.feature_maps(gray, maps, list(cl.HAND_FILTERS)[:3])
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == before
    axes = fig.get_axes()
    assert len(axes) == 1 + 3  # one row of four
    assert [ax.get_title() for ax in axes] == [
        "input, 1 channel", "vertical edges", "horizontal edges", "diagonal edges ↘"]
    assert all(ax.axison for ax in axes)
    # Feature maps are signed: symmetric limits about zero.
    lo, hi = axes[1].get_images()[0].get_clim()
    assert lo == -hi and hi == pytest.approx(float(maps[0].abs().max()))
    assert fig.alt.startswith("The grayscale input and 3 feature maps: vertical edges, horizontal edges")


def test_draw_feature_maps_colour_six_maps_on_two_rows():
    rgb = data.photo(16, channels=3)
    fig = dcl.feature_maps(rgb, cl.colour_filter_maps(rgb, 6), list(cl.COLOUR_FILTERS))
    # 1 + 6 = 7 images on a grid of four columns: 2 rows, the eighth cell blank.
    assert len(fig.get_axes()) == 8
    shown = _image_axes(fig)
    assert len(shown) == 1 + 6
    assert [ax.axison for ax in fig.get_axes()] == [True] * 7 + [False]
    assert shown[0].get_title() == "input, 3 channels"
    assert shown[0].get_images()[0].get_array().shape == (16, 16, 3)
    assert "colour input and 6 feature maps" in fig.alt


def test_draw_feature_maps_slots_keep_the_frame_size():
    gray = data.photo(16, channels=1).expand(3, -1, -1)
    names = list(cl.COLOUR_FILTERS)
    full = dcl.feature_maps(gray, cl.colour_filter_maps(gray, 6), names)
    for n in (1, 2, 5):
        fig = dcl.feature_maps(gray, cl.colour_filter_maps(gray, n), names[:n], slots=6)
        assert tuple(fig.get_size_inches()) == tuple(full.get_size_inches())
        assert len(fig.get_axes()) == 8
        assert len(_image_axes(fig)) == 1 + n
        assert sum(ax.axison for ax in fig.get_axes()) == 1 + n
    one = dcl.feature_maps(gray, cl.colour_filter_maps(gray, 1), names[:1], slots=6,
                           input_title="grayscale input (3 channels)")
    assert one.alt.startswith("The grayscale input (3 channels) and 1 feature map: vertical edges;")
    assert one.get_axes()[0].get_title() == "grayscale input (3 channels)"


def test_draw_feature_maps_bounds_share_one_scale_across_inputs():
    """On the grayscale image the colour-opponent maps are rounding noise; a shared scale shows them as zero."""
    colour = data.photo(24, channels=3)
    gray = data.photo(24, channels=1).expand(3, -1, -1)
    names = list(cl.COLOUR_FILTERS)
    maps = {"c": cl.colour_filter_maps(colour, 6), "g": cl.colour_filter_maps(gray, 6)}
    bounds = torch.stack([m.abs().amax(dim=(1, 2)) for m in maps.values()]).amax(dim=0)
    fig = dcl.feature_maps(gray, maps["g"], names, bounds=bounds)
    for ax, bound in zip(fig.get_axes()[1:], bounds):
        assert ax.get_images()[0].get_clim() == pytest.approx((-float(bound), float(bound)))
    opponent = fig.get_axes()[3].get_images()[0]
    assert float(np.abs(opponent.get_array()).max()) < 1e-6 * opponent.get_clim()[1]
    with pytest.raises(ValueError, match="^bounds must be"):
        dcl.feature_maps(gray, maps["g"], names, bounds=bounds[:2])
    with pytest.raises(ValueError, match="^bounds must be"):
        dcl.feature_maps(gray, maps["g"], names, bounds=torch.zeros(6))


def test_draw_input_dependence_outlines_receptive_field():
    torch.manual_seed(0)
    layer = torch.nn.Conv2d(3, 2, 3)
    x = data.photo(16, channels=3)[None]
    grad = cl.input_gradient(layer, x, channel=1, row=4, col=7)
    before = plt.get_fignums()
    fig = dcl.input_dependence(x[0], grad[0])
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == before
    axes = fig.get_axes()
    assert len(axes) == 2
    for ax in axes:
        (rect,) = _rectangles(ax)
        # Rows 4..6, cols 7..9, drawn around pixel centres.
        assert rect.get_xy() == (6.5, 3.5)
        assert (rect.get_width(), rect.get_height()) == (3, 3)
    assert fig.alt.endswith("outlined 3 by 3 patch")


def test_draw_input_dependence_zero_gradient_has_no_outline():
    fig = dcl.input_dependence(torch.zeros(1, 8, 8), torch.zeros(1, 8, 8))
    assert all(not _rectangles(ax) for ax in fig.get_axes())


def test_draw_channel_products():
    image = data.photo(12, channels=3)
    step = cl.channel_products(image, cl.colour_filter("red − green"), 2, 3)
    before = plt.get_fignums()
    fig = dcl.channel_products(step, title="red − green")
    assert plt.get_fignums() == before
    axes = fig.get_axes()
    assert len(axes) == 9 and all(len(ax.texts) == 9 for ax in axes)
    assert axes[2].get_title() == f"products, sum {float(step.sums[0]):+.3f}"
    assert f"add up to {step.value:+.3f}" in fig.alt
    with pytest.raises(ValueError, match="^channel_names"):
        dcl.channel_products(step, ("red", "green"))


def test_draw_padding_borders_learned_kernels_and_pool_routing():
    before = plt.get_fignums()
    photo = data.photo(16)
    maps = {"zero padding": torch.ones(16, 16), "no padding": torch.ones(14, 14)}
    fig = dcl.padding_borders(photo[0], maps, {"zero padding": 2.6, "no padding": 1.1})
    assert len(fig.get_axes()) == 3 and "2.6 times" in fig.alt
    assert fig.get_axes()[1].get_title().endswith("border ÷ interior 2.6")
    runs = cl.kernel_study(cl.hand_filter("vertical edges"), [0, 1], control=False, epochs=20).runs
    fig2 = dcl.learned_kernels(runs)
    assert len(fig2.get_axes()) == 4 and len(fig2.get_axes()[3].lines) == 2
    assert fig2.get_axes()[0].texts[0].get_text() == "-1.00"
    x = torch.tensor([[1.0, 3.0], [4.0, 2.0]])
    pooled, grad = cl.pool_gradient(x, torch.tensor([[2.0]]))
    fig3 = dcl.pool_routing(x, pooled, torch.tensor([[2.0]]), grad)
    assert "at the 1 winning positions" in fig3.alt
    assert len(_rectangles(fig3.get_axes()[0])) == 1
    assert plt.get_fignums() == before


@pytest.mark.parametrize("row, col", [(0, 0), (12, 12), (28, 28)])
def test_patch_frame_titles_stay_inside_and_apart(row, col):
    # The chapter's explorer (a 32-pixel photograph): with two-digit rows and columns the input's title
    # is the longest; every title stays inside the image and clear of the others.
    small = data.photo(32)[0]
    edge = cl.hand_filter("vertical edges")
    fig = framed(lambda row, col: dcl.multiply_add(small, cl.multiply_add(small, edge, row, col)), row=row, col=col)
    renderer = laid_out(fig)
    assert texts_outside(fig, renderer) == []
    titles = [fig._suptitle.get_window_extent(renderer)] + [ax.title.get_window_extent(renderer) for ax in fig.axes]
    for i, a in enumerate(titles):
        for b in titles[i + 1:]:
            assert not overlap(a, b)
    assert all(ax.title.get_window_extent(renderer).y0 > ax.get_window_extent(renderer).y1 for ax in fig.axes)


@pytest.mark.parametrize("image", ["colour", "grayscale"])
def test_filters_frame_titles_stay_inside(image):
    photo = data.photo(96, channels=3 if image == "colour" else 1).expand(3, -1, -1)
    names = list(cl.COLOUR_FILTERS)
    fig = framed(lambda kernels, image: dcl.feature_maps(photo, torch.rand(kernels, 94, 94), names[:kernels],
                                                         slots=len(names), input_title=f"{image} input (3 channels)"),
                 kernels=4, image=image)
    renderer = laid_out(fig)
    assert texts_outside(fig, renderer) == []
    edge = 0.05 * fig.dpi  # not just inside: clear of the edge
    assert all(box.x0 >= edge and box.x1 <= fig.bbox.x1 - edge for _, box in drawn_texts(fig, renderer))


def _orange_runs(fig, ax, rows):
    """Runs of the control's orange pixels along each of ``rows`` (axes fractions from the bottom) of ``ax``."""
    renderer = laid_out(fig)
    pixels = np.asarray(renderer.buffer_rgba())[..., :3].astype(int)
    box = ax.get_window_extent(renderer)
    runs = []
    for fraction in rows:
        y = int(round(pixels.shape[0] - (box.y0 + fraction * box.height)))
        band = pixels[y - 2:y + 3, int(box.x0) + 2:int(box.x1) - 2]
        orange = (np.abs(band - np.array([0xE6, 0x9F, 0x00])).sum(axis=-1) < 60).any(axis=0)
        runs.append(int(np.count_nonzero(np.diff(orange.astype(int)) == 1) + orange[0]))
    return runs


def test_learned_kernels_draws_the_control_dashed():
    # The caption says "orange, dashed". Ten control runs that drop at slightly different rates to a
    # noisy floor: drawn with matplotlib's dashes, each line's dashes follow its own length, and
    # together they fill each other's gaps into a solid line. Along the floor the orange must break.
    hidden = cl.hand_filter("vertical edges")
    epochs, rng = 960, np.random.default_rng(0)
    t = np.arange(epochs)
    runs, control = [], []
    for _ in range(10):
        rate = rng.uniform(0.7, 1.3)
        runs.append(cl.LearnedKernel(hidden, hidden, hidden, list(np.exp(-t / 90 * rate) * 0.1 + 1e-5),
                                     epochs, 0.1))
        control.append(cl.LearnedKernel(hidden, hidden, hidden, list(np.maximum(
            np.exp(-t / 8.5 * rate), 1e-13 * rng.uniform(0.5, 2.0, epochs))), epochs, 0.1))
    fig = dcl.learned_kernels(runs, control=control)
    ax = fig.axes[-1]
    low, high = (np.log10(v) for v in ax.get_ylim())
    floor = (np.log10(1e-13) - low) / (high - low)  # where the control runs lie flat, as a fraction of the axes
    (runs_along_floor,) = _orange_runs(fig, ax, [floor])
    assert runs_along_floor >= 3, "the control's line is not dashed"


# --------------------------------------------------------------------------- borders, strides, gradients, stacks


def test_border_report_sides_peak_and_ring_counts():
    # A ramp rising to the right under zero padding: the vertical-edge kernel sees 0.8 inside
    # (see test_multiply_add_vertical_edge_on_ramp), and a false edge on the left and right columns.
    ramp = (torch.arange(10, dtype=torch.float64) / 10).expand(10, 10)
    edges = F.conv2d(ramp[None, None], cl.hand_filter("vertical edges").double()[None, None], padding=1)[0, 0]
    report = cl.border_report(edges, top=(4, 100))
    assert report.ratio == pytest.approx(cl.border_ratio(edges))
    # Top and bottom rows lose one kernel row of three weights: 0.6 of the interior's 0.8.
    assert report.sides["top"] == pytest.approx(0.75) and report.sides["bottom"] == pytest.approx(0.75)
    # Right column: 0 (padding) - 0.8 on all three kernel rows, 4 x 0.8 = 3.2 (2.4 at the corners);
    # left column: 0.1 - 0 (padding), 0.4 (0.3 at the corners). Means over 10 rows, over 0.8.
    assert report.sides["right"] == pytest.approx((8 * 3.2 + 2 * 2.4) / 10 / 0.8)
    assert report.sides["left"] == pytest.approx((8 * 0.4 + 2 * 0.3) / 10 / 0.8)
    assert report.peak[1] == 9 and report.ring_in_top[4] == 4 and report.ring_in_top[100] == 36
    with pytest.raises(ValueError, match="^top must be"):
        cl.border_report(edges, top=(0,))


def test_zero_padding_frame_is_left_and_right_on_the_photograph():
    photo = data.photo(96)
    edges = F.conv2d(photo[None], cl.hand_filter("vertical edges")[None, None], padding=1)[0, 0]
    report = cl.border_report(edges)
    assert min(report.sides["left"], report.sides["right"]) > 3 > 1.2 > max(report.sides["top"], report.sides["bottom"])
    assert report.ring_in_top[10] <= 2 and report.peak[0] not in (0, 95) and report.peak[1] not in (0, 95)
    # Reflect padding erases the left and right columns for this left-right antisymmetric kernel.
    mirrored = F.pad(photo[None], (1, 1, 1, 1), mode="reflect")
    reflected = F.conv2d(mirrored, cl.hand_filter("vertical edges")[None, None])[0, 0]
    assert float(reflected[:, [0, -1]].abs().max()) == 0.0


@pytest.mark.parametrize("args, unread", [
    ((64, 3, 2), [63]),                 # (64 - 3) % 2 = 1 row after the last window
    ((65, 3, 2), []),
    ((16, 3, 4), [3, 7, 11, 15]),       # stride > kernel: one row between windows
    ((8, 1, 2), [1, 3, 5, 7]),
    ((224, 7, 2, 3), []),               # ResNet's first layer reads everything
    ((7, 3, 3), [6]),
    ((6, 4, 2, 1), []),                 # windows read rows -1..2, 1..4, 3..6
    ((64, 3, 2, 1), []),                # r = 63 % 2 = 1 is not more than p = 1: the padding absorbs it
    ((12, 3, 3, 1), [11]),              # r = 11 % 3 = 2 > p = 1: the last r - p = 1 row
])
def test_unread_rows(args, unread):
    size, k, s, *p = args
    p = p[0] if p else 0
    got = cl.unread_rows(size, k, s, p)
    # Independent check: which rows receive gradient from a convolution with these settings.
    x = torch.ones(1, 1, size, 1, requires_grad=True)
    F.conv2d(x, torch.ones(1, 1, k, 1), stride=(s, 1), padding=(p, 0)).sum().backward()
    assert got == [int(i) for i in torch.nonzero(x.grad[0, 0, :, 0] == 0).flatten()]
    assert got == unread


def test_unread_rows_at_the_end_are_r_minus_p():
    """The chapter's rule: with s <= k, exactly max(r - p, 0) rows go unread, r = (H + 2p - k) mod s."""
    for size in range(8, 30):
        for k in (1, 2, 3, 5, 7):
            for s in range(1, k + 1):
                for p in range(0, (k + 1) // 2 + 1):
                    r = (size + 2 * p - k) % s
                    unread = cl.unread_rows(size, k, s, p)
                    assert unread == list(range(size - max(r - p, 0), size)), (size, k, s, p)


@pytest.mark.parametrize("stride, padding", [(1, 0), (1, 2), (2, 1), (3, 0)])
def test_kernel_gradient_is_what_autograd_computes(stride, padding):
    torch.manual_seed(stride * 10 + padding)
    layer = torch.nn.Conv2d(3, 4, 3, stride=stride, padding=padding).double()
    x = torch.randn(2, 3, 11, 13, dtype=torch.float64)
    y = layer(x)
    g = torch.randn_like(y)
    y.backward(g)
    torch.testing.assert_close(cl.kernel_gradient(x, g, 3, stride, padding), layer.weight.grad, rtol=1e-10,
                               atol=1e-10)
    with pytest.raises(ValueError, match="^grad_output must have shape"):
        cl.kernel_gradient(x, g[:, :, :-1], 3, stride, padding)


@pytest.mark.parametrize("stride, padding, size", [(1, 1, 9), (2, 1, 9), (2, 0, 10), (3, 1, 11)])
def test_input_gradient_is_the_flipped_kernel_slid_over_the_spread_out_output_gradient(stride, padding, size):
    """Chapter 1: dL/dx slides the kernel, flipped, over g padded with zeros and, for s > 1, spread apart
    with s - 1 zeros between entries; rows no window reads get nothing. PyTorch calls it conv_transpose2d.
    """
    gen = torch.Generator().manual_seed(stride * 100 + padding * 10 + size)
    x = torch.randn(2, 3, size, size, dtype=torch.float64, generator=gen, requires_grad=True)
    w = torch.randn(4, 3, 3, 3, dtype=torch.float64, generator=gen)
    y = F.conv2d(x, w, stride=stride, padding=padding)
    g = torch.randn(y.shape, dtype=torch.float64, generator=gen)
    y.backward(g)
    n = y.shape[-1]
    spread = torch.zeros(2, 4, (n - 1) * stride + 1, (n - 1) * stride + 1, dtype=torch.float64)
    spread[:, :, ::stride, ::stride] = g
    edge = 3 - 1 - padding                       # zeros on each side of the spread-out gradient
    short = size - ((n - 1) * stride + 3 - 2 * padding)   # rows after the last window, read by none
    padded = F.pad(spread, (edge, edge + short, edge, edge + short))
    by_hand = F.conv2d(padded, w.flip(2, 3).transpose(0, 1))
    torch.testing.assert_close(by_hand, x.grad, rtol=1e-10, atol=1e-10)
    output_padding = (size + 2 * padding - 3) % stride
    torch.testing.assert_close(F.conv_transpose2d(g, w, stride=stride, padding=padding,
                                                  output_padding=output_padding), x.grad, rtol=1e-10, atol=1e-10)


def test_im2col_and_one_matrix_product_equal_conv2d():
    """Chapter 1: copying every patch into a column (unfold) and multiplying by the kernels is a convolution."""
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(2, 3, 10, 12, dtype=torch.float64, generator=gen)
    w = torch.randn(4, 3, 3, 3, dtype=torch.float64, generator=gen)
    by_matrix = (w.view(4, -1) @ F.unfold(x, 3)).view(2, 4, 8, 10)
    torch.testing.assert_close(by_matrix, F.conv2d(x, w), rtol=1e-12, atol=1e-12)


def test_the_colour_edge_kernel_reads_only_18_of_its_27_inputs():
    """Chapter 1: the gradient is non-zero at every input an output reads unless the weight there is zero;
    the vertical-edge kernel's middle column is zero in every channel.
    """
    x = data.photo(64, channels=3)[None]
    grad = cl.input_gradient(cl.colour_filter_conv(1), x, 0, 20, 30)
    assert int((grad != 0).sum()) == 2 * 3 * 3
    assert bool((grad[0, :, 20:23, 31] == 0).all())     # the kernel's middle column


def test_best_single_conv_error_sees_the_relu():
    torch.manual_seed(0)
    x = data.photo(24, channels=3)[None]
    a, b = torch.nn.Conv2d(3, 4, 3), torch.nn.Conv2d(4, 4, 3)
    assert cl.best_single_conv_error(torch.nn.Sequential(a, b), x, 5) < 1e-5
    assert cl.best_single_conv_error(torch.nn.Sequential(a, torch.nn.ReLU(), b), x, 5) > 0.05
    assert cl.best_single_conv_error(a, x, 3) < 1e-5
    with pytest.raises(ValueError, match="^model must map x"):
        cl.best_single_conv_error(a, x, 5)


def test_least_squares_and_gram_explain_the_leftover_error():
    target = cl.hand_filter("blur")
    inputs, outputs = cl.kernel_pairs(target, n=64)
    assert float((cl.least_squares_kernel(inputs, outputs) - target.double()).abs().max()) < 1e-6
    values, vectors = cl.patch_gram(inputs, 3)
    assert values.shape == (9,) and vectors.shape == (9, 3, 3) and bool((values[1:] >= values[:-1]).all())
    assert float(values[-1] / values[0]) > 100          # a photograph's patches: badly conditioned
    # The flattest direction alternates in sign like a checkerboard; the steepest is nearly flat (the mean).
    signs = torch.sign(vectors[0])
    assert bool((signs[:, 1:] == -signs[:, :-1]).all() and (signs[1:] == -signs[:-1]).all())
    assert bool((torch.sign(vectors[-1]) == torch.sign(vectors[-1][0, 0])).all())
    shuffled, _ = cl.kernel_pairs(target, n=64, scrambled=True)
    values_s, _ = cl.patch_gram(shuffled, 3)
    assert float(values_s[-1] / values_s[0]) < 50
    with pytest.raises(ValueError, match="^inputs must have one channel"):
        cl.patch_gram(torch.zeros(2, 3, 8, 8), 3)
    with pytest.raises(ValueError, match="^outputs must be a valid"):
        cl.least_squares_kernel(inputs, outputs[:, :, :-1])


def test_noisy_least_squares_error_lies_in_the_flat_directions():
    target = cl.hand_filter("vertical edges")
    fit = cl.noisy_least_squares(target, 0.1, range(5))
    assert len(fit.errors) == len(fit.along) == 5 and fit.chance == pytest.approx(3 / 9)
    assert min(fit.errors) > 1e-3                    # noise leaves the kernel undetermined
    assert sum(fit.along) / 5 > 0.5 > fit.chance      # and mostly along the flattest directions
    quieter = cl.noisy_least_squares(target, 0.01, range(5))
    assert max(quieter.errors) < max(fit.errors)
    for args, match in [((target, 0.0, range(2)), "^noise must be"), ((target, 0.1, []), "^seeds must be"),
                        ((target, 0.1, range(2), 10), "^flat must be")]:
        with pytest.raises(ValueError, match=match):
            cl.noisy_least_squares(*args)


def test_stacked_pair_errors_are_seeded_and_leave_the_global_generator_alone():
    x = data.photo(24, channels=3)[None]
    state = torch.get_rng_state()
    first = cl.stacked_pair_errors(x, seed=3)
    assert torch.equal(state, torch.get_rng_state())
    assert first == cl.stacked_pair_errors(x, seed=3) != cl.stacked_pair_errors(x, seed=4)
    assert first[0] < 1e-5 < 0.05 < first[1]
    with pytest.raises(ValueError, match="^seed must be"):
        cl.stacked_pair_errors(x, seed=-1)


def test_kernel_study_leftover_lies_along_the_checkerboard():
    study = cl.kernel_study(cl.hand_filter("vertical edges"), range(3))
    assert len(study.runs) == len(study.control) == 3
    assert study.spread > 1000 > 30 > study.control_spread
    assert study.lstsq_error < 1e-6
    assert study.directions.shape == (3, 3, 3) and all(a > 0.9 for a in study.along)
    # The photograph's smooth patches leave more error than the shuffled pixels, seed by seed.
    assert all(r.error > 10 * c.error for r, c in zip(study.runs, study.control))
    with pytest.raises(ValueError, match="^seeds must be"):
        cl.kernel_study(cl.hand_filter("blur"), [])


def test_kernel_study_is_plain_gradient_descent_and_follows_the_rate_law():
    """Full-batch gradient descent multiplies the error along an eigenvector of G by 1 - 2 lr λ per step."""
    target = cl.hand_filter("vertical edges")
    study = cl.kernel_study(target, [0, 1], control=False, epochs=200, lr=0.3)
    assert study.control == () and study.lr == 0.3 and study.values.shape == (9,)
    closed = (1 - 2 * 0.3 * study.values[:3]) ** 200
    torch.testing.assert_close(study.predicted, closed)
    assert study.measured.shape == (2, 3)
    torch.testing.assert_close(study.measured, closed.expand(2, 3), rtol=1e-4, atol=0)
    # One step by hand: w - lr * 2 G (w - w*), from the same random start.
    one = cl.kernel_study(target, [0], control=False, epochs=1, lr=0.3)
    crops, _ = cl.kernel_pairs(target)
    patches = F.unfold(crops.double(), 3).transpose(1, 2).reshape(-1, 9)
    gram = patches.T @ patches / len(patches)
    start = torch.randn(3, 3, generator=torch.Generator().manual_seed(0)).double().flatten()
    by_hand = start - 0.3 * 2 * gram @ (start - target.double().flatten())
    torch.testing.assert_close(one.runs[0].learned.double().flatten(), by_hand, rtol=1e-5, atol=1e-6)
    assert torch.equal(one.runs[0].initial, start.float().view(3, 3))
    # From zero the start's error is -w*: a blur, with nothing along the flat directions, is recovered.
    zero = cl.kernel_study(cl.hand_filter("blur"), [0, 5], control=False, start="zero")
    assert all(r.error < 1e-3 for r in zero.runs) and torch.equal(zero.runs[0].learned, zero.runs[1].learned)
    assert zero.runs[0].relative_error == pytest.approx(
        float((zero.runs[0].learned - zero.runs[0].target).norm() / zero.runs[0].target.norm()))
    for kwargs, match in [({"lr": 0.7}, "^lr must be a number between 0 and 1 / λ_max"), ({"lr": 0}, "^lr must be"),
                          ({"lr": "0.5"}, "^lr must be"), ({"start": "ones"}, "^start must be"),
                          ({"epochs": 0}, "^epochs must be")]:
        with pytest.raises(ValueError, match=match):
            cl.kernel_study(target, [0], control=False, **kwargs)
    with pytest.raises(ValueError, match="^seeds must be"):
        cl.kernel_study(target, [-1], control=False)


# --------------------------------------------------------------------------- the chapter's numbers


@pytest.mark.build
def test_chapter_one_numbers(executed):
    """The numbers the first chapter's prose quotes, against closed forms, and its one verdict."""
    from conftest import glued

    g = glued(executed, "book/01_conv_layer")
    assert g["x_shape"] == "(1, 3, 64, 64)" and g["gray_shape"] == "(1, 1, 64, 64)"
    assert g["loop_shape"] == "(1, 1, 62, 62)" and float(g["loop_gap"]) < 1e-5
    assert g["layer_weight_shape"] == "(100, 3, 3, 3)" and g["layer_out_shape"] == "(1, 100, 62, 62)"
    assert int(g["layer_weights"]) == 100 * 3 * 3 * 3 and int(g["layer_params"]) == 100 * 3 * 3 * 3 + 100
    assert int(g["field_inputs"]) == 3 * 3 * 3 and int(g["image_inputs"]) == 3 * 64 * 64
    assert float(g["kgrad_gap"]) < 1e-4 and float(g["tconv_gap"]) < 1e-5
    assert int(g["layer_macs"]) == 3 * 100 * 3 * 3 * 62 * 62
    assert int(g["patch_frames"]) == 8 * 8 and int(g["filters_frames"]) == 6 * 2
    # Padding and stride.
    assert g["unread_s2"] == "63"
    assert float(g["unread_1x1_share"]) == pytest.approx(0.75)
    # The frame zero padding adds: left and right, not top and bottom, and not the strongest responses.
    assert min(float(g["border_left"]), float(g["border_right"])) > 3 > 1.2 > max(
        float(g["border_top"]), float(g["border_bottom"]))
    assert float(g["border_zero"]) > 2.0 > 1.5 > float(g["border_valid"])
    assert int(g["border_top10"]) <= 2 and int(g["border_top50"]) <= 10
    assert float(g["border_32"]) < float(g["border_zero"]) < float(g["border_256"])
    assert float(g["border_zero_mean"]) < float(g["border_zero"])
    assert float(g["interior_32"]) > float(g["interior_96"]) > float(g["interior_256"])
    # The ratio grows with resolution because the interior's response falls, not the frame's.
    assert float(g["ring_spread"]) < 0.1
    rings = [float(g[f"border_{n}"]) * float(g[f"interior_{n}"]) for n in (32, 96, 256)]
    assert max(rings) / min(rings) < 1.1 < float(g["interior_32"]) / float(g["interior_256"])
    assert float(g["border_reflect"]) < 1.0 and float(g["reflect_sides_max"]) == 0.0
    # Replicate padding: no step at the border, so the ring responds about like the interior.
    assert 0.85 < float(g["border_replicate"]) < 1.05 and 0.9 < float(g["replicate_left"]) < 1.1
    assert int(g["corner_windows"]) == 4                  # with padding 1, a corner pixel is in 2 x 2 windows
    # Colour matters only to the colour-opponent kernels.
    assert float(g["brightness_gap"]) < 1e-4
    assert float(g["opponent_on_gray"]) < 1e-6 < 0.1 < float(g["opponent_on_colour"])
    assert float(g["by_flag"]) > 0
    # Without a non-linearity two convolutions are one; with a ReLU they are not.
    assert float(g["stack_linear"]) < 1e-5 < 0.05 < float(g["stack_relu_low"])
    assert float(g["stack_relu_low"]) <= float(g["stack_relu"]) <= float(g["stack_relu_high"])
    # Learning a kernel by full-batch gradient descent: every seed ends near it.
    assert int(g["learn_seeds"]) >= 10 and int(g["learn_budget"]) == 960 and int(g["learn_pairs"]) == 256
    assert float(g["learn_error_max"]) < 0.25 < 1.0 < float(g["learn_initial_min"])
    assert g["learn_error"].endswith(f"{g['learn_seeds']} seeds)") and "95 % CI" in g["learn_error"]
    # The learning rate is below 1 / λ_max, and the rate law holds on every seed.
    values = cl.patch_gram(cl.kernel_pairs(cl.hand_filter("vertical edges"))[0], 3)[0]
    assert float(g["lr_limit"]) == pytest.approx(float(1 / values[-1])) and float(g["lr_limit"]) > float(g["learn_lr"])
    lr, steps = float(g["learn_lr"]), int(g["learn_budget"])
    assert g["decay_predicted"] == ", ".join(f"{float((1 - 2 * lr * v) ** steps):.3f}" for v in values[:3])
    assert float(g["decay_gap"]) < 1e-4
    assert float(g["lstsq_error"]) < 1e-6 and float(g["shuffled_error_max"]) < 1e-6
    assert float(g["gram_spread"]) > 1000 > 30 > float(g["shuffled_spread"])
    assert float(g["error_share"]) > 0.99                # pooled over seeds
    assert g["texture_verdict"] == "ahead"      # the photograph leaves more error than its shuffled pixels
    assert g["texture_sentence"].startswith("the photograph's kernels end further off")
    # Exercises.
    assert [int(g[f"ex3_k{k}_p{p}"]) for k, p in [(4, 1), (4, 2), (5, 1), (5, 2)]] == [63, 65, 62, 64]
    assert int(g["ex4_resnet"]) == 0 and g["ex4_s4"] == "3, 7, 11, 15"
    # Exercise 3: the blur against the edge detector. The leftover along the three flattest directions is
    # f * (start - w*), f the predicted factors: a standard normal start gives a root mean square |f|, and w*
    # adds |f * (its component)|, which for the blur is nil. Recomputed here from the Gram matrix.
    assert float(g["blur_share"]) > 0.99
    vectors = cl.patch_gram(cl.kernel_pairs(cl.hand_filter("vertical edges"))[0], 3)[1][:3].flatten(1)
    shrink = (1 - 2 * lr * values[:3]) ** steps
    parts = {name: vectors @ cl.hand_filter(name).flatten().double() for name in ("vertical edges", "blur")}
    assert float(g["edge_flat_part"]) == pytest.approx(float(parts["vertical edges"].norm()), rel=1e-6)
    assert float(g["blur_flat_part"]) == pytest.approx(float(parts["blur"].norm()), abs=1e-7)
    assert float(g["blur_flat_part"]) < 1e-3 < 0.5 < float(g["edge_flat_part"])
    start, added = float(shrink.norm()), {n: float((shrink * c).norm()) for n, c in parts.items()}
    assert float(g["start_leftover"]) == pytest.approx(start, rel=1e-6)
    assert float(g["edge_added"]) == pytest.approx(added["vertical edges"], rel=1e-6)
    assert float(g["edge_leftover"]) == pytest.approx(math.hypot(start, added["vertical edges"]), rel=1e-6)
    gap = math.hypot(start, added["vertical edges"]) - math.hypot(start, added["blur"])
    assert float(g["abs_gap_predicted"]) == pytest.approx(gap, rel=1e-4)
    # "About the same absolute error": a predicted gap below the 0.01 margin, and intervals that overlap.
    assert 0 < float(g["abs_gap_predicted"]) < 0.01
    blur_abs, edge_abs = (_ci_numbers(g[k]) for k in ("blur_abs", "edge_abs"))
    assert blur_abs[1] < edge_abs[2] and edge_abs[1] < blur_abs[2]
    # The relative error, paired seed by seed: far larger for the blur (about 0.58 against 0.063).
    assert g["blur_rel_verdict"] == "ahead" and g["blur_rel_sentence"].startswith("larger by")
    blur_rel, edge_rel = (_ci_numbers(g[k]) for k in ("blur_rel", "edge_rel"))
    assert edge_rel[2] < 0.1 < 0.3 < blur_rel[1]
    # From zero only w*'s own part is left, as predicted: |w - w*| is the edge kernel's added part.
    assert float(g["zero_blur"]) < 1e-3 < 0.01 < float(g["zero_edge"])
    assert float(g["zero_edge"]) == pytest.approx(float(g["edge_added"]), rel=1e-3)
    # Exercise 4: noise, least precisely along the flat directions, as 1 / λ predicts.
    assert float(g["noisy_error_mean"]) < 0.1 * float(g["learn_error_max"])
    assert float(g["noisy_share_mean"]) > 0.5 > float(g["noisy_chance"]) == pytest.approx(1 / 3)
    inverse = 1 / values
    assert float(g["noisy_theory"]) == pytest.approx(float(inverse[:3].sum() / inverse.sum()))
    low, high = (float(v) for v in g["noisy_share"].split("CI ")[1].split(",")[0].split(" to "))
    assert low < float(g["noisy_theory"]) < high     # the interval over noise draws holds the prediction


def _ci_numbers(text):
    """(mean, low, high) of a glued "mean (95 % CI low to high, n seeds)"."""
    mean, rest = text.split(" (95 % CI ")
    low, high = rest.split(",")[0].split(" to ")
    return float(mean), float(low), float(high)


def test_draw_learned_kernels_with_direction_and_control():
    target = cl.hand_filter("vertical edges")
    study = cl.kernel_study(target, [0, 1], epochs=20)
    runs, control = study.runs, study.control[:1]
    error = runs[0].learned - runs[0].target
    fig = dcl.learned_kernels(runs, -error, control=control)     # the sign is matched to the error
    axes = fig.get_axes()
    assert len(axes) == 5 and axes[3].get_title() == "least-constrained direction"
    shown = axes[3].get_images()[0].get_array()
    assert float((np.asarray(shown) * error.numpy()).sum()) > 0
    assert [ln.get_linestyle() for ln in axes[4].lines] == ["-", "-", "--"]
    assert "inputs constrain least" in fig.alt and "control" in fig.alt
    assert axes[0].get_title() == "hidden kernel"
    with pytest.raises(ValueError, match="^direction must have"):
        dcl.learned_kernels(runs, torch.zeros(2, 2))
    with pytest.raises(ValueError, match="^control must be"):
        dcl.learned_kernels(runs, control=[None])


def test_pytorch_same_padding_of_an_even_kernel_is_one_zero_before_and_two_after():
    """Exercise 2 of chapter 1: what padding="same" does with a 4 x 4 kernel."""
    import warnings

    with warnings.catch_warnings():   # PyTorch warns that it must pad a copy of the input
        warnings.simplefilter("ignore", UserWarning)
        out = F.conv2d(torch.ones(1, 1, 8, 8), torch.ones(1, 1, 4, 4), padding="same")[0, 0]
    assert out.shape == (8, 8)
    # Top-left output sees 3 x 3 ones (one zero row and column before); bottom-right 2 x 2 (two after).
    assert out[0, 0].item() == 9 and out[-1, -1].item() == 4 and out[1, 1].item() == 16
