"""Tests of the chapter-1 topic module: widgets.compute.conv_layer,
widgets.compute.data and widgets.draw.conv_layer.

Computations are compared with torch.nn.functional.conv2d or with numbers
worked out by hand in the comments; nothing re-implements the code under test.
"""

import matplotlib

matplotlib.use("Agg")  # headless: before pyplot is imported anywhere

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from widgets.compute import conv_layer as cl  # noqa: E402
from widgets.compute import data  # noqa: E402
from widgets.draw import conv_layer as dcl  # noqa: E402

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


@pytest.mark.parametrize("n, c", [(1, 1), (3, 3), (6, 1), (6, 4), (2, 2)])
def test_hand_filter_conv_shapes(n, c):
    conv = cl.hand_filter_conv(n, in_channels=c)
    assert isinstance(conv, torch.nn.Conv2d)
    assert conv.weight.shape == (n, c, 3, 3)
    assert torch.equal(conv.bias, torch.zeros(n))
    assert conv.padding == (1, 1) and conv.stride == (1, 1)


def test_hand_filter_conv_first_filter_weights():
    # One channel: the weights are the kernels themselves.
    conv = cl.hand_filter_conv(2)
    assert torch.equal(conv.weight[0, 0], cl.hand_filter("vertical edges"))
    assert torch.equal(conv.weight[1, 0], cl.hand_filter("horizontal edges"))


@pytest.mark.parametrize("c", [2, 3, 4])
def test_hand_filter_conv_same_output_on_replicated_gray(c):
    gray = data.photo(16, channels=1)  # (1, 16, 16)
    one = cl.hand_filter_conv(6, in_channels=1)
    many = cl.hand_filter_conv(6, in_channels=c)
    with torch.no_grad():
        want = one(gray[None])
        got = many(gray.expand(c, -1, -1)[None])
    assert got.shape == (1, 6, 16, 16)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_identity_filter_returns_image():
    torch.manual_seed(0)
    image = torch.rand(1, 9, 7)
    # Valid convolution: the interior.
    valid = F.conv2d(image[None], cl.hand_filter("identity")[None, None])[0, 0]
    torch.testing.assert_close(valid, image[0, 1:-1, 1:-1], rtol=0, atol=0)
    # The layer (padding 1): the whole image, identity is the sixth filter.
    maps = cl.hand_filter_maps(image, 6)
    torch.testing.assert_close(maps[5], image[0], rtol=0, atol=0)


def test_vertical_edges_on_constant_and_step_images():
    c = 0.7
    maps = cl.hand_filter_maps(torch.full((1, 8, 8), c), 1)[0]
    assert torch.count_nonzero(maps[1:-1, 1:-1]) == 0
    # At the borders, zero padding makes an edge: left column sees (1, 2, 1) * c
    # on its right, right column -(1, 2, 1) * c on its left.
    torch.testing.assert_close(maps[1:-1, 0], torch.full((6,), 4 * c))
    torch.testing.assert_close(maps[1:-1, -1], torch.full((6,), -4 * c))
    # A dark-to-light vertical step between columns 3 and 4 gives 4 on both sides of it.
    step = torch.zeros(1, 8, 8)
    step[:, :, 4:] = 1.0
    valid = cl.sliding_window_conv2d(step[None], cl.hand_filter("vertical edges")[None, None])[0, 0]
    expected_row = torch.tensor([0.0, 0, 4, 4, 0, 0])
    assert torch.equal(valid, expected_row.expand(6, 6))


@pytest.mark.parametrize("shape, n", [((1, 16, 20), 1), ((3, 16, 20), 4), ((4, 5, 6), 6)])
def test_hand_filter_maps_shape(shape, n):
    maps = cl.hand_filter_maps(torch.rand(shape, generator=torch.Generator().manual_seed(1)), n)
    assert maps.shape == (n, shape[1], shape[2])
    assert not maps.requires_grad


def test_hand_filter_maps_keeps_float64():
    # The layer follows the image's dtype (a float32 layer would reject a float64 input).
    image = torch.rand(1, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    maps = cl.hand_filter_maps(image, 6)
    assert maps.shape == (6, 8, 8) and maps.dtype == torch.float64
    torch.testing.assert_close(maps[5], image[0], rtol=0, atol=1e-12)  # identity filter
    sobel = F.conv2d(image[None], cl.hand_filter("vertical edges").double()[None, None], padding=1)[0, 0]
    torch.testing.assert_close(maps[0], sobel, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: cl.hand_filter_conv(0), "^n_filters"),
        (lambda: cl.hand_filter_conv(7), "^n_filters"),
        (lambda: cl.hand_filter_conv(2, in_channels=0), "^in_channels"),
        (lambda: cl.hand_filter_conv(2, in_channels=5), "^in_channels"),
        (lambda: cl.hand_filter_maps(torch.zeros(5, 8, 8), 2), "^in_channels"),
        (lambda: cl.hand_filter_maps(torch.zeros(8, 8), 2), "^image must be 3-D"),
        (lambda: cl.hand_filter_maps(torch.zeros(1, 8, 8), 7), "^n_filters"),
    ],
)
def test_hand_filter_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


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
    assert axes[0].get_title() == "input, rows 2–4, cols 3–5"
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
    maps = cl.hand_filter_maps(gray, 3)
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
    fig = dcl.feature_maps(rgb, cl.hand_filter_maps(rgb, 6), list(cl.HAND_FILTERS))
    # 1 + 6 = 7 images on a grid of four columns: 2 rows, the eighth cell blank.
    assert len(fig.get_axes()) == 8
    shown = _image_axes(fig)
    assert len(shown) == 1 + 6
    assert [ax.axison for ax in fig.get_axes()] == [True] * 7 + [False]
    assert shown[0].get_title() == "input, 3 channels"
    assert shown[0].get_images()[0].get_array().shape == (16, 16, 3)
    assert "colour input and 6 feature maps" in fig.alt


def test_draw_feature_maps_slots_keep_the_frame_size():
    gray = data.photo(16, channels=1)
    names = list(cl.HAND_FILTERS)
    full = dcl.feature_maps(gray, cl.hand_filter_maps(gray, 6), names)
    for n in (1, 2, 5):
        fig = dcl.feature_maps(gray, cl.hand_filter_maps(gray, n), names[:n], slots=6)
        assert tuple(fig.get_size_inches()) == tuple(full.get_size_inches())
        assert len(fig.get_axes()) == 8
        assert len(_image_axes(fig)) == 1 + n
        assert sum(ax.axison for ax in fig.get_axes()) == 1 + n
    one = dcl.feature_maps(gray, cl.hand_filter_maps(gray, 1), names[:1], slots=6)
    assert one.alt.startswith("The grayscale input and 1 feature map: vertical edges;")


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
