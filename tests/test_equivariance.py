"""Tests of chapters 5 and 6 (equivariance; pooling): widgets.compute.equivariance and widgets.draw.equivariance.

Shifts are checked against torch.roll and hand-written arrays, errors against
norms computed directly in the tests, the border bands against a pixel-by-pixel
difference, and pooling layers against torch.nn.functional. The last test reads
the numbers the chapter glued.
"""

import ast
import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import glued
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from test_style import laid_out, points_inside, texts_outside

from widgets.compute import conv_layer as cl
from widgets.compute import (
    data,
    stats,
    training,
)
from widgets.compute import equivariance as eq
from widgets.draw import equivariance as deq

PROPERTY = settings(max_examples=40, deadline=None)


def _randn(*shape, seed, dtype=torch.float64):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _conv(in_channels, out_channels, k, *, seed, padding_mode="zeros", stride=1, bias=True, dtype=torch.float64):
    """A Conv2d with padding k // 2 and random (seeded) weights."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        conv = torch.nn.Conv2d(in_channels, out_channels, k, padding=k // 2, padding_mode=padding_mode,
                               stride=stride, bias=bias)
        torch.nn.init.normal_(conv.weight)
        if bias:
            torch.nn.init.normal_(conv.bias)
    return conv.to(dtype)


# --------------------------------------------------------------------------- shift


@PROPERTY
@given(h=st.integers(2, 9), w=st.integers(2, 9), data_=st.data(), seed=st.integers(0, 2**31 - 1))
def test_circular_shift_is_roll_and_has_an_inverse(h, w, data_, seed):
    dy = data_.draw(st.integers(-(h - 1), h - 1))
    dx = data_.draw(st.integers(-(w - 1), w - 1))
    x = _randn(2, 3, h, w, seed=seed)
    moved = eq.shift(x, dy, dx, "circular")
    assert torch.equal(moved, torch.roll(x, (dy, dx), dims=(2, 3)))
    assert torch.equal(eq.shift(moved, -dy, -dx, "circular"), x)
    # Pixel (i, j) goes to ((i + dy) mod h, (j + dx) mod w).
    assert moved[1, 2, dy % h, dx % w] == x[1, 2, 0, 0]


def test_zero_filled_shift_hand_example():
    x = torch.arange(1.0, 10.0).view(1, 1, 3, 3)  # 1 2 3 / 4 5 6 / 7 8 9
    down_left = eq.shift(x, 1, -1, "zeros")
    assert torch.equal(down_left[0, 0], torch.tensor([[0.0, 0, 0], [2, 3, 0], [5, 6, 0]]))
    up_right = eq.shift(x, -2, 2, "zeros")
    assert torch.equal(up_right[0, 0], torch.tensor([[0.0, 0, 7], [0, 0, 0], [0, 0, 0]]))
    assert torch.equal(eq.shift(x, 0, 0, "zeros"), x)


@PROPERTY
@given(h=st.integers(2, 9), w=st.integers(2, 9), data_=st.data(), seed=st.integers(0, 2**31 - 1))
def test_zero_filled_shift_keeps_what_stays_in_the_frame(h, w, data_, seed):
    dy = data_.draw(st.integers(-(h - 1), h - 1))
    dx = data_.draw(st.integers(-(w - 1), w - 1))
    x = _randn(1, 2, h, w, seed=seed)
    moved = eq.shift(x, dy, dx, "zeros")
    for i in range(h):
        for j in range(w):
            si, sj = i - dy, j - dx
            expected = x[..., si, sj] if 0 <= si < h and 0 <= sj < w else torch.zeros(1, 2, dtype=x.dtype)
            assert torch.equal(moved[..., i, j], expected)


@pytest.mark.parametrize(
    "args, match",
    [
        ((torch.zeros(3, 4, 4), 1, 1), "^x must be 4-D"),
        ((torch.zeros(1, 1, 4, 4, dtype=torch.int64), 1, 1), "^x must hold floating-point"),
        ((torch.zeros(1, 1, 4, 4), 4, 0), r"^dy must be in \[-3, 3\], got 4"),
        ((torch.zeros(1, 1, 4, 5), 0, -5), r"^dx must be in \[-4, 4\], got -5"),
        ((torch.zeros(1, 1, 4, 4), 1.0, 0), "^dy must be an integer"),
        ((torch.zeros(1, 1, 4, 4), 1, 0, "reflect"), r"^mode must be one of \['circular', 'zeros'\], got 'reflect'"),
    ],
)
def test_shift_rejects_bad_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        eq.shift(*args)


# --------------------------------------------------------------------------- output_shift, crop_border


@pytest.mark.parametrize("args, expected", [((4, 2, 2), (2, 1)), ((-6, 3, 3), (-2, 1)), ((5, 3, 1), (5, 3)),
                                            ((0, 0, 4), (0, 0)), ((8, -4, 4), (2, -1))])
def test_output_shift_divides_by_the_stride(args, expected):
    assert eq.output_shift(*args) == expected


@pytest.mark.parametrize(
    "args, match",
    [((1, 0, 2), "^dy must be a multiple of stride=2"), ((2, 3, 2), "^dx must be a multiple of stride=2"),
     ((2, 2, 0), r"^stride must be in \[1, ∞\)"), ((2, 2, 1.5), "^stride must be an integer")],
)
def test_output_shift_rejects_fractional_output_shifts(args, match):
    with pytest.raises(ValueError, match=match):
        eq.output_shift(*args)


def test_crop_border():
    y = torch.arange(49.0).view(1, 1, 7, 7)
    assert torch.equal(eq.crop_border(y, 0), y)
    assert torch.equal(eq.crop_border(y, 2)[0, 0], y[0, 0, 2:5, 2:5])
    assert eq.crop_border(y, 3).shape == (1, 1, 1, 1)
    with pytest.raises(ValueError, match=r"^margin must be in \[0, 3\], got 4"):
        eq.crop_border(y, 4)
    with pytest.raises(ValueError, match="^y must be 4-D"):
        eq.crop_border(y[0], 1)


# --------------------------------------------------------------------------- the error measures


def test_errors_match_norms_computed_directly():
    x = _randn(1, 2, 6, 7, seed=0)
    flip = lambda t: t.flip(-1)  # noqa: E731  (not equivariant to horizontal shifts)
    want = (flip(torch.roll(x, 2, 3)) - torch.roll(flip(x), 2, 3)).norm() / flip(x).norm()
    assert eq.equivariance_error(flip, x, 0, 2) == pytest.approx(float(want), rel=1e-12)
    want_inv = (flip(torch.roll(x, (1, 2), (2, 3))) - flip(x)).norm() / flip(x).norm()
    assert eq.invariance_error(flip, x, 1, 2) == pytest.approx(float(want_inv), rel=1e-12)
    # A pointwise function commutes with every shift, of either kind.
    square = lambda t: t ** 2  # noqa: E731
    assert eq.equivariance_error(square, x, 3, -4, mode="zeros") == 0.0
    assert eq.equivariance_error(square, x, 3, -4, mode="circular") == 0.0


def test_crop_compares_only_the_interior():
    x = _randn(1, 1, 9, 9, seed=1)
    # Zero the outer ring of the output: a map that differs from equivariant only at its border.
    ring = lambda t: torch.nn.functional.pad(t[..., 1:-1, 1:-1], (1, 1, 1, 1))  # noqa: E731
    assert eq.equivariance_error(ring, x, 2, 1) > 0.1
    assert eq.equivariance_error(ring, x, 2, 1, crop=3) == 0.0
    # With crop, the norm in the denominator is the cropped f(x) too.
    inner = eq.crop_border(ring(x), 1)
    diff = eq.crop_border(ring(torch.roll(x, (2, 1), (2, 3))) - torch.roll(ring(x), (2, 1), (2, 3)), 1)
    assert eq.equivariance_error(ring, x, 2, 1, crop=1) == pytest.approx(float(diff.norm() / inner.norm()))


@PROPERTY
@given(k=st.sampled_from([1, 3, 5]), channels=st.integers(1, 3), size=st.integers(6, 12),
       shift=st.tuples(st.integers(-5, 5), st.integers(-5, 5)), bias=st.booleans(), seed=st.integers(0, 2**31 - 1))
def test_circular_convolution_is_exactly_equivariant_to_circular_shifts(k, channels, size, shift, bias, seed):
    conv = _conv(channels, 4, k, seed=seed, padding_mode="circular", bias=bias, dtype=torch.float32)
    x = _randn(2, channels, size, size + 1, seed=seed + 1, dtype=torch.float32)
    assert eq.equivariance_error(conv, x, *shift, mode="circular") < 1e-5


@PROPERTY
@given(k=st.sampled_from([1, 3, 5]), h=st.integers(6, 11), w=st.integers(6, 11), bias=st.booleans(),
       data_=st.data(), seed=st.integers(0, 2**31 - 1))
def test_zero_padding_error_is_exactly_on_the_predicted_border_bands(k, h, w, bias, data_, seed):
    dy = data_.draw(st.integers(-(h - 1), h - 1))
    dx = data_.draw(st.integers(-(w - 1), w - 1))
    conv = _conv(2, 3, k, seed=seed, bias=bias)
    x = _randn(1, 2, h, w, seed=seed + 1) + 2.0  # no zeros inside the image
    comparison = eq.compare_shift(conv, x, dy, dx, mode="zeros")
    differs = comparison.difference.abs().amax(dim=(0, 1)) > 1e-9
    mask = eq.zero_padding_discrepancy(h, w, k, dy, dx, bias=bias)
    assert torch.equal(differs, mask), (differs.int(), mask.int())
    # Cropping the margin leaves nothing; cropping one pixel fewer leaves a difference.
    margin = eq.border_margin(k, dy, dx, bias=bias)
    if 2 * margin < min(h, w):
        assert eq.equivariance_error(conv, x, dy, dx, mode="zeros", crop=margin) < 1e-12
    if 1 <= margin and 2 * (margin - 1) < min(h, w):
        assert eq.equivariance_error(conv, x, dy, dx, mode="zeros", crop=margin - 1) > 1e-3


def test_zero_padding_bands_by_hand():
    # k = 3 (reach 1), shift down by 3 on an 8 x 8 image, no bias: rows 0-2 are brought-in
    # zeros. Row 2, the one next to the content, differs (shifting first, the kernel there
    # reaches row 3 of content), and so does row 7, the last; rows 0 and 1 read only zeros.
    mask = eq.zero_padding_discrepancy(8, 8, 3, 3, 0)
    assert mask[:, 0].nonzero().flatten().tolist() == [2, 7]
    assert bool(mask[[2, 7]].all()) and int(mask.sum()) == 16
    # With a bias the brought-in rows 0 and 1 differ too (bias against zero).
    biased = eq.zero_padding_discrepancy(8, 8, 3, 3, 0, bias=True)
    assert biased[:, 0].nonzero().flatten().tolist() == [0, 1, 2, 7]
    # A shift left by 2 mirrors it: column 0 (the far edge) and column 6, the brought-in
    # zero column next to the content (columns 6 and 7 are brought in).
    left = eq.zero_padding_discrepancy(8, 8, 3, 0, -2)
    assert left[0].nonzero().flatten().tolist() == [0, 6]
    # A 1 x 1 kernel without a bias commutes exactly.
    assert not eq.zero_padding_discrepancy(8, 8, 1, 3, -2).any()


@pytest.mark.parametrize(
    "args, kwargs, expected",
    [
        ((3, 5, 3), {}, 5),      # max(|dy|, r) = max(5, 1); max(|dx|, r) = 3
        ((3, 1, 0), {}, 1),      # max(1, 1)
        ((5, 1, 0), {}, 2),      # max(1, 2): the reach, not 1 + 2
        ((5, 0, 4), {}, 4),
        ((5, 3, -7), {}, 7),
        ((7, 2, 2), {}, 3),
        ((3, 0, 0), {}, 0),      # no shift, nothing to crop
        ((1, 4, 2), {}, 0),      # a 1 x 1 kernel without bias commutes exactly
        ((1, 4, 2), {"bias": True}, 4),
        ((3, 0, 2), {"bias": True}, 2),
    ],
)
def test_border_margin_closed_form(args, kwargs, expected):
    assert eq.border_margin(*args, **kwargs) == expected


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: eq.border_margin(4, 1, 1), "^kernel_size must be odd"),
        (lambda: eq.border_margin(0, 1, 1), "^kernel_size must be in"),
        (lambda: eq.border_margin(3, 1, 1, bias=1), "^bias must be True or False"),
        (lambda: eq.zero_padding_discrepancy(8, 8, 3, 8, 0), r"^dy must be in \[-7, 7\]"),
        (lambda: eq.zero_padding_discrepancy(8, 8, 2, 1, 0), "^kernel_size must be odd"),
        (lambda: eq.zero_padding_discrepancy(0, 8, 3, 1, 0), "^height must be in"),
    ],
)
def test_border_functions_reject_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@PROPERTY
@given(k=st.sampled_from([1, 3, 5]), half=st.integers(4, 8),
       shift=st.tuples(st.integers(-3, 3), st.integers(-3, 3)), seed=st.integers(0, 2**31 - 1))
def test_stride_two_is_equivariant_to_even_shifts_with_half_the_output_shift(k, half, shift, seed):
    size = 2 * half
    conv = _conv(2, 3, k, seed=seed, padding_mode="circular", stride=2, dtype=torch.float32)
    x = _randn(1, 2, size, size, seed=seed + 1, dtype=torch.float32)
    dy, dx = 2 * shift[0], 2 * shift[1]
    comparison = eq.compare_shift(conv, x, dy, dx, mode="circular", stride=2)
    assert comparison.divides and comparison.output_shift == (shift[0], shift[1])
    assert comparison.error < 1e-5


@PROPERTY
@given(k=st.sampled_from([3, 5]), odd=st.sampled_from([(1, 0), (0, 1), (1, 1), (3, -1), (-1, 2)]),
       seed=st.integers(0, 2**31 - 1))
def test_stride_two_breaks_equivariance_for_odd_shifts(k, odd, seed):
    conv = _conv(1, 2, k, seed=seed, padding_mode="circular", stride=2)
    x = _randn(1, 1, 16, 16, seed=seed + 1)
    comparison = eq.compare_shift(conv, x, *odd, mode="circular", stride=2)
    assert not comparison.divides
    assert comparison.error > 0.1
    # Independently of which output shift compare_shift picked: no circular shift of
    # the output reproduces f(g(x)).
    y, y_shifted = conv(x).detach(), conv(torch.roll(x, odd, (2, 3))).detach()
    best = min(float((y_shifted - torch.roll(y, (a, b), (2, 3))).norm() / y.norm())
               for a in range(8) for b in range(8))
    assert best > 0.1
    with pytest.raises(ValueError, match="must be a multiple of stride=2"):
        eq.equivariance_error(conv, x, *odd, stride=2)


def test_compare_shift_picks_the_best_nearest_output_shift():
    conv = _conv(1, 1, 3, seed=3, padding_mode="circular", stride=2)
    x = _randn(1, 1, 12, 12, seed=4)
    comparison = eq.compare_shift(conv, x, 3, 2, stride=2)  # 3 / 2 = 1.5: rows 1 or 2; 2 / 2 = 1
    y, y_shifted = conv(x).detach(), conv(torch.roll(x, (3, 2), (2, 3))).detach()
    errors = {(a, 1): float((y_shifted - torch.roll(y, (a, 1), (2, 3))).norm() / y.norm()) for a in (1, 2)}
    assert comparison.output_shift in errors
    assert comparison.error == pytest.approx(min(errors.values()), rel=1e-12)
    assert comparison.shift == (3, 2) and comparison.crop == 0
    assert torch.equal(comparison.shifted_input, torch.roll(x, (3, 2), (2, 3)))
    assert torch.allclose(comparison.difference, comparison.response_of_shifted - comparison.shifted_response)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda x: eq.equivariance_error("conv", x, 1, 1), "^f must be a torch module or a callable"),
        (lambda x: eq.equivariance_error(lambda t: t.sum(), x, 1, 1), "^f must return a tensor|^f\\(x\\) must be 4-D"),
        (lambda x: eq.equivariance_error(lambda t: 0 * t, x, 1, 1), "^x must give a non-zero f\\(x\\)"),
        (lambda x: eq.equivariance_error(lambda t: t, x, 1, 1, crop=4), r"^crop must be in \[0, 3\]"),
        (lambda x: eq.equivariance_error(lambda t: t, x, 1, 1, mode="wrap"), "^mode must be one of"),
        (lambda x: eq.equivariance_error(lambda t: t[..., ::2, ::2], x, 2, 2), "^stride must be f's downsampling"),
        (lambda x: eq.invariance_error(lambda t: 0 * t, x, 1, 1), "^x must give a non-zero f\\(x\\)"),
        (lambda x: eq.invariance_error(lambda t: t, x[0], 1, 1), "^x must be 4-D"),
    ],
)
def test_error_measures_reject_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call(_randn(1, 1, 8, 8, seed=0))


@PROPERTY
@given(shift=st.tuples(st.integers(-7, 7), st.integers(-7, 7)), seed=st.integers(0, 2**31 - 1))
def test_global_average_after_circular_convolutions_is_exactly_invariant(shift, seed):
    net = torch.nn.Sequential(
        _conv(1, 4, 3, seed=seed, padding_mode="circular", dtype=torch.float32), torch.nn.ReLU(),
        _conv(4, 4, 3, seed=seed + 1, padding_mode="circular", dtype=torch.float32), torch.nn.ReLU(),
        eq.pooling("global average", 4),
    )
    x = _randn(2, 1, 8, 8, seed=seed + 2, dtype=torch.float32)
    assert eq.invariance_error(net, x, *shift) < 1e-5
    # The convolutions alone are equivariant, and not invariant.
    body = net[:4]
    assert eq.equivariance_error(body, x, *shift) < 1e-5
    if shift[0] % 8 or shift[1] % 8:
        assert eq.invariance_error(body, x, *shift) > 1e-2


# --------------------------------------------------------------------------- detector and transforms


def test_corner_image_and_detector_by_hand():
    image = eq.corner_image(32, (10, 20), arm=6)
    assert image.shape == (1, 1, 32, 32) and image.dtype == torch.float32
    assert int(image.sum()) == 6 + 6 - 1  # two strokes of 6 sharing the corner pixel
    assert image[0, 0, 10, 20:26].eq(1).all() and image[0, 0, 10:16, 20].eq(1).all()
    detector = eq.corner_detector()
    assert detector.bias is None
    assert torch.equal(detector.weight[0, 0], torch.tensor(eq.CORNER_KERNEL))
    assert float(detector.weight.sum()) == 0.0
    response = detector(image).detach()
    # At the corner all three +2 weights sit on bright pixels and every -1 on a dark one: 6.
    assert eq.peak(response) == (10, 20) and float(response.max()) == 6.0
    # Along a stroke at most 2 + 2 - 1 = 3 (centre, one neighbour on, one off); the tip of the
    # vertical stroke going down reads centre and above: 2 - 1 = 1.
    others = response.clone()
    others[0, 0, 10, 20] = -math.inf
    assert float(others.max()) == 3.0


def test_corner_detector_follows_the_shift_of_the_standard_example():
    image = eq.corner_image(32, (10, 20))
    detector = eq.corner_detector()
    shifted = eq.shift(image, 5, 3, "zeros")
    assert eq.peak(detector(shifted).detach()) == (15, 23)
    assert eq.equivariance_error(detector, image, 5, 3, mode="zeros") == 0.0


def test_peak_first_on_ties_and_bad_shapes():
    y = torch.zeros(3, 4)
    y[1, 2] = y[2, 0] = 1.0
    assert eq.peak(y) == (1, 2)
    assert eq.peak(y.view(1, 1, 3, 4)) == (1, 2)
    with pytest.raises(ValueError, match="^y must hold a single map"):
        eq.peak(torch.zeros(2, 1, 3, 4))
    with pytest.raises(ValueError, match="^y must be 2-D or 4-D"):
        eq.peak(torch.zeros(1, 3, 4))


@pytest.mark.parametrize(
    "kwargs, match",
    [({"size": 4}, "^size must be in"), ({"arm": 1}, "^arm must be in"), ({"corner": (10,)}, "^corner must be"),
     ({"corner": (27, 3)}, "^corner row must be in"), ({"corner": (3, 30), "arm": 3}, "^corner col must be in")],
)
def test_corner_image_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        eq.corner_image(**kwargs)


def test_edge_conv_is_the_chapter_one_filter():
    conv = eq.edge_conv("zeros", stride=2)
    assert torch.equal(conv.weight[0, 0], cl.hand_filter("vertical edges"))
    assert conv.padding_mode == "zeros" and conv.stride == (2, 2) and conv.bias is None
    assert eq.edge_conv().padding_mode == "circular"
    with pytest.raises(ValueError, match=r"^stride must be in \[1, 2\]"):
        eq.edge_conv(stride=3)
    with pytest.raises(ValueError, match="^padding_mode must be one of"):
        eq.edge_conv("reflect")


def test_rotate90_and_upscale_by_hand():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).view(1, 1, 2, 2)
    # A quarter turn counter-clockwise: the top row 1 2 becomes the left column 2 over 1.
    assert torch.equal(eq.rotate90(x)[0, 0], torch.tensor([[2.0, 4.0], [1.0, 3.0]]))
    assert torch.equal(eq.rotate90(x, 0), x)
    assert torch.equal(eq.rotate90(eq.rotate90(x, 3)), x)
    big = eq.upscale(x, 2)[0, 0]
    assert torch.equal(big, torch.tensor([[1.0, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]))
    with pytest.raises(ValueError, match=r"^turns must be in \[0, 3\]"):
        eq.rotate90(x, 4)
    with pytest.raises(ValueError, match=r"^factor must be in \[1, 8\]"):
        eq.upscale(x, 0)


def test_transform_error_rotation_and_scaling():
    image = eq.corner_image(32, (10, 20))
    detector = eq.corner_detector()
    # The corner detector is not symmetric under a quarter turn, so it does not commute with it.
    assert eq.transform_error(detector, image, eq.rotate90) > 0.5
    assert eq.transform_error(detector, image, eq.upscale) > 0.5
    assert float(detector(eq.rotate90(image)).max()) < 6.0
    # A kernel equal to its own rotation does commute (up to rounding).
    blur = torch.nn.Conv2d(1, 1, 3, padding=1, bias=False)
    with torch.no_grad():
        blur.weight.copy_(eq.blur_kernel().view(1, 1, 3, 3))
    assert eq.transform_error(blur, image, eq.rotate90) < 1e-6
    # ||T f(x)|| normalises: for the twice-enlarged map it is 2 ||f(x)||.
    want = (detector(eq.upscale(image)) - eq.upscale(detector(image))).norm() / eq.upscale(detector(image)).norm()
    assert eq.transform_error(detector, image, eq.upscale) == pytest.approx(float(want), rel=1e-6)
    with pytest.raises(ValueError, match="^transform must be callable"):
        eq.transform_error(detector, image, "rot90")
    with pytest.raises(ValueError, match="^f must keep the image size"):
        eq.transform_error(lambda t: t[..., 1:, :], image, eq.rotate90)


# --------------------------------------------------------------------------- pooling


def test_blur_kernel_values():
    k = eq.blur_kernel()
    assert torch.equal(k * 16, torch.tensor([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]]))
    assert float(k.sum()) == 1.0
    assert torch.equal(eq.binomial_taps(4) * 8, torch.tensor([1.0, 3, 3, 1]))
    assert torch.equal(eq.binomial_taps(1), torch.tensor([1.0]))
    for taps in range(1, 8):
        assert abs(float(eq.blur_kernel(taps).sum()) - 1.0) < 1e-6
    with pytest.raises(ValueError, match=r"^taps must be in \[1, 7\]"):
        eq.binomial_taps(8)


def test_average_pooling_is_blur_pooling_with_the_box_filter():
    x = _randn(2, 3, 10, 12, seed=5)
    for mode in ("circular", "zeros"):
        torch.testing.assert_close(eq.BlurPool(3, mode, taps=2)(x), F.avg_pool2d(x, 2), rtol=0, atol=1e-12)
    # Subsampling is blur pooling with one tap.
    torch.testing.assert_close(eq.BlurPool(3, taps=1)(x), x[..., ::2, ::2], rtol=0, atol=0)
    torch.testing.assert_close(eq.pooling("subsample", 3)(x), x[..., ::2, ::2], rtol=0, atol=0)
    assert eq.BlurPool(3, taps=4)(x).shape == (2, 3, 5, 6)


@PROPERTY
@given(h=st.integers(2, 11), w=st.integers(2, 11), mode=st.sampled_from(["circular", "zeros"]),
       seed=st.integers(0, 2**31 - 1))
def test_blur_pool_equals_blur_conv_then_subsample(h, w, mode, seed):
    x = _randn(2, 3, h, w, seed=seed)
    pad = "circular" if mode == "circular" else "constant"
    want = F.conv2d(F.pad(x, (1, 1, 1, 1), mode=pad), eq.blur_kernel().double().expand(3, 1, 3, 3),
                    stride=2, groups=3)
    got = eq.BlurPool(3, mode)(x)
    assert got.shape == want.shape
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    max_blur = eq.MaxBlurPool(3, mode)(x)
    if mode == "circular":
        pooled = F.max_pool2d(F.pad(x, (0, 1, 0, 1), mode="circular"), 2, stride=1)
    else:
        pooled = F.max_pool2d(x, 2, stride=1)
    torch.testing.assert_close(max_blur, eq.BlurPool(3, mode)(pooled), rtol=0, atol=0)


@pytest.mark.parametrize(
    "kind, shape",
    [("none", (2, 4, 16, 16)), ("max", (2, 4, 8, 8)), ("average", (2, 4, 8, 8)), ("blur", (2, 4, 8, 8)),
     ("max-blur", (2, 4, 8, 8)), ("global average", (2, 4))],
)
def test_pooling_kinds_and_shapes(kind, shape):
    x = _randn(2, 4, 16, 16, seed=0, dtype=torch.float32)
    layer = eq.pooling(kind, 4)
    assert layer(x).shape == shape
    if kind == "max":
        assert torch.equal(layer(x), F.max_pool2d(x, 2))
    if kind == "average":
        torch.testing.assert_close(layer(x), F.avg_pool2d(x, 2))
    if kind == "global average":
        torch.testing.assert_close(layer(x), x.mean(dim=(2, 3)))


@pytest.mark.parametrize("kind", ["max", "average", "blur", "max-blur"])
def test_circular_pooling_is_equivariant_to_even_shifts_only(kind):
    x = _randn(1, 3, 16, 16, seed=2)
    layer = eq.pooling(kind, 3, "circular")
    assert eq.equivariance_error(layer, x, 4, -2, stride=2) < 1e-12
    assert eq.compare_shift(layer, x, 1, 0, stride=2).error > 0.05


@pytest.mark.parametrize(
    "call, match",
    [(lambda: eq.pooling("min", 3), "^kind must be one of"), (lambda: eq.pooling("max", 0), "^channels must be in"),
     (lambda: eq.pooling("blur", 3, "reflect"), "^padding_mode must be one of"),
     (lambda: eq.BlurPool(0), "^channels must be in"), (lambda: eq.MaxBlurPool(2, "same"), "^padding_mode")],
)
def test_pooling_rejects_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_edge_features_and_tiles():
    image = data.photo(64)
    t = eq.tiles(image, 32)
    assert t.shape == (4, 1, 32, 32)
    assert torch.equal(t[1], image[:, 0:32, 32:64])  # reading order: top right is second
    assert torch.equal(t[2], image[:, 32:64, 0:32])
    assert eq.tiles(image[:, :50, :], 16).shape == (3 * 4, 1, 16, 16)  # partial tiles are dropped
    features = eq.edge_features()
    out = features(t)
    assert out.shape == (4, 4, 32, 32) and float(out.min()) >= 0.0
    assert torch.equal(features[0].weight[1, 0], cl.hand_filter("horizontal edges"))
    with pytest.raises(ValueError, match=r"^size must be in \[1, 64\]"):
        eq.tiles(image, 65)


# --------------------------------------------------------------------------- the network and its training


def test_small_cnn_shapes_and_arguments():
    model = eq.SmallCNN("max-blur", channels=(4, 6))
    assert model(torch.zeros(3, 1, 16, 16)).shape == (3, 10)
    assert isinstance(model.features[2], eq.MaxBlurPool)
    assert isinstance(eq.SmallCNN("max").features[2], torch.nn.MaxPool2d)
    # No bias in the convolutions: a blank canvas gives all-zero feature maps.
    assert all(layer.bias is None for layer in model.features if isinstance(layer, torch.nn.Conv2d))
    assert float(model.features(torch.zeros(2, 1, 36, 36)).detach().abs().max()) == 0.0
    with pytest.raises(ValueError, match=r"^downsample must be one of \['max', 'max-blur'\]"):
        eq.SmallCNN("average")
    with pytest.raises(ValueError, match=r"^channels must be a pair"):
        eq.SmallCNN("max", channels=8)
    with pytest.raises(ValueError, match=r"^channels\[1\] must be in"):
        eq.SmallCNN("max", channels=(8, 0))


@pytest.mark.parametrize("kind", ["max", "max-blur"])
def test_small_cnn_is_exactly_invariant_to_multiples_of_four_while_maps_stay_inside(kind):
    images, _ = data.digits(36)
    x = images[:40]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        model = eq.SmallCNN(kind).eval()
    inside = [(4, 0), (0, -4), (4, 4), (-4, 4), (-4, -4)]
    same, change = eq.same_prediction(model, x, inside)
    assert same == 1.0 and change < 1e-4
    # A shift of 1 is not a multiple of the stride; (8, 8) pushes the deepest map's content off.
    assert eq.same_prediction(model, x, [(0, 1)])[1] > 1e-3
    assert eq.same_prediction(model, x, [(8, 8)])[1] > 1e-3
    # On a 16 x 16 canvas even a shift by 4 changes the logits: the maps' content reaches their edges.
    small, _ = data.digits(16)
    assert eq.same_prediction(model, small[:40], [(4, 4)])[1] > 1e-3


def test_same_prediction_by_hand_and_arguments():
    x = torch.zeros(4, 1, 6, 6)
    x[:2, 0, 2:4, 2:4] = 1.0
    model = _Fixed(threshold=2.0)  # class 1 if the pixel sum exceeds 2
    assert eq.same_prediction(model, x, [(1, 1), (-2, 0)]) == (1.0, 0.0)
    # A shift by 3 pushes half of each square off the 6 x 6 canvas: sum 2, class 0.
    same, change = eq.same_prediction(model, x, [(0, 3)])
    assert same == 0.5 and change == 1.0
    with pytest.raises(ValueError, match="^shifts must be a non-empty sequence"):
        eq.same_prediction(model, x, [])
    with pytest.raises(ValueError, match="^shifts must hold"):
        eq.same_prediction(model, x, [(1, 2, 3)])


@pytest.fixture(scope="module")
def digits_split():
    return data.digit_split(canvas=16, n_train=800, seed=0)


def test_same_seed_gives_the_same_weights(digits_split):
    x, y = digits_split.train_images[:192], digits_split.train_labels[:192]
    kwargs = dict(seed=11, max_epochs=2, batch_size=64, lr=0.01)
    state = torch.random.get_rng_state()
    a, run = eq.build_and_train("max-blur", x, y, **kwargs)
    b, _ = eq.build_and_train("max-blur", x, y, **kwargs)
    c, _ = eq.build_and_train("max-blur", x, y, **{**kwargs, "seed": 12})
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(pa, pb), name
    assert any(not torch.equal(pa, pc) for pa, pc in zip(a.state_dict().values(), c.state_dict().values()))
    # The global random state is left as it was.
    assert torch.equal(torch.random.get_rng_state(), state)
    assert not a.training
    assert run.epochs == 2 and len(run.losses) == 2 and not run.converged


def test_a_trained_network_beats_chance_by_a_wide_margin(digits_split):
    s = digits_split
    model, run = eq.build_and_train("max", s.train_images, s.train_labels, seed=0, max_epochs=8,
                                    batch_size=32, lr=0.01, channels=(8, 16))
    assert training.accuracy(model, s.test_images, s.test_labels) > 0.6  # chance: 0.1
    with pytest.raises(ValueError, match="^seed must be in"):
        eq.build_and_train("max", s.train_images, s.train_labels, seed=-1)
    with pytest.raises(ValueError, match="^max_epochs must be in"):
        eq.build_and_train("max", s.train_images, s.train_labels, seed=0, max_epochs=0)


class _Fixed(torch.nn.Module):
    """Logits that make class (sum of pixels > threshold) win: a stand-in classifier."""

    def __init__(self, threshold):
        super().__init__()
        self.threshold = threshold

    def forward(self, x):
        big = (x.sum(dim=(1, 2, 3)) > self.threshold).float()
        return torch.stack([1 - big, big], dim=1)


def test_consistency_by_hand():
    x = torch.zeros(4, 1, 6, 6)
    x[:2, 0, 2:4, 2:4] = 1.0  # two images with pixel sum 4, two blank
    # Shifts by up to 2 keep the 2 x 2 square on the canvas, so the sum, and the class, never change.
    assert eq.consistency(_Fixed(threshold=2.0), x, 2, seed=0) == 1.0


def test_consistency_of_a_position_sensitive_model_is_below_one():
    x = torch.zeros(50, 1, 8, 8)
    x[:, 0, 3, 3] = 1.0

    class TopLeft(torch.nn.Module):
        def forward(self, t):  # class 1 if the pixel is in the top-left quadrant
            q = t[..., :4, :4].sum(dim=(1, 2, 3))
            return torch.stack([1 - q, q], dim=1)

    c = eq.consistency(TopLeft(), x, 2, seed=1)
    assert 0.2 < c < 0.9
    assert eq.consistency(TopLeft(), x, 2, seed=1) == c  # seeded
    assert eq.consistency(TopLeft(), x, 0, seed=1) == 1.0


def test_random_conv_is_seeded_and_leaves_the_global_generator_alone():
    state = torch.random.get_rng_state()
    a = eq.random_conv(2, 3, 5, seed=4, padding_mode="circular", bias=True)
    b = eq.random_conv(2, 3, 5, seed=4, padding_mode="circular", bias=True)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)
    assert not torch.equal(a.weight, eq.random_conv(2, 3, 5, seed=5).weight)
    assert a.padding == (2, 2) and a.padding_mode == "circular" and not a.weight.requires_grad
    assert eq.random_conv(1, 1, seed=0).bias is None
    std = float(eq.random_conv(64, 64, 3, seed=0).weight.std())
    assert abs(std - math.sqrt(2 / (64 * 9))) < 0.01
    with pytest.raises(ValueError, match="^kernel_size must be odd"):
        eq.random_conv(1, 1, 4, seed=0)
    with pytest.raises(ValueError, match="^bias must be True or False"):
        eq.random_conv(1, 1, 3, seed=0, bias=1)


# --------------------------------------------------------------------------- aliasing


def test_fractional_shift_of_whole_pixels_is_the_circular_shift():
    y = _randn(2, 3, 7, 8, seed=2)
    for dy, dx in [(0, 0), (1, 0), (-3, 2), (6, -7)]:
        torch.testing.assert_close(eq.fractional_shift(y, dy, dx), eq.shift(y, dy, dx), rtol=0, atol=1e-12)
    # Two half shifts of a smooth (band-limited) map make one whole shift.
    cols = torch.arange(16, dtype=torch.float64)
    smooth = torch.cos(2 * math.pi * 2 * cols / 16).expand(1, 1, 4, 16).clone()
    half = eq.fractional_shift(smooth, 0, 0.5)
    torch.testing.assert_close(half, torch.cos(2 * math.pi * 2 * (cols - 0.5) / 16).expand(1, 1, 4, 16))
    with pytest.raises(ValueError, match="^dx must be a finite number"):
        eq.fractional_shift(y, 0, float("nan"))


def test_aliasing_error_is_zero_for_even_shifts_and_for_smooth_maps():
    x = _randn(2, 1, 16, 16, seed=3)
    for kind in ("subsample", "max", "average", "blur", "max-blur"):
        layer = eq.pooling(kind, 1)
        assert eq.aliasing_error(layer, x, 2, -4) < 1e-12
        assert eq.aliasing_error(layer, x, 0, 1) > 1e-3
    # A map with no detail above half the Nyquist frequency survives subsampling: no aliasing.
    cols = torch.arange(16, dtype=torch.float64)
    smooth = (torch.cos(2 * math.pi * cols / 16) + torch.sin(2 * math.pi * 3 * cols / 16)).expand(1, 1, 16, 16)
    assert eq.aliasing_error(eq.pooling("subsample", 1), smooth.clone(), 1, 3) < 1e-12
    # Equal to equivariance_error when the stride divides the shift.
    layer = eq.pooling("max", 1)
    assert abs(eq.aliasing_error(layer, x, 2, 2) - eq.equivariance_error(layer, x, 2, 2, stride=2)) < 1e-6
    with pytest.raises(ValueError, match="^stride must be f's downsampling factor"):
        eq.aliasing_error(layer, x, 1, 1, stride=4)


def test_longer_binomial_filters_alias_less_on_every_tile():
    tiles = eq.tiles(data.photo(64), 32)
    errors = {}
    for taps in (1, 2, 3, 4, 5):
        f = torch.nn.Sequential(eq.edge_features(), eq.BlurPool(4, taps=taps))
        errors[taps] = [eq.aliasing_error(f, t[None], 0, 1) for t in tiles]
    for short, long in [(1, 2), (2, 3), (3, 4), (4, 5)]:
        assert all(a > b for a, b in zip(errors[short], errors[long]))


# --------------------------------------------------------------------------- draw.equivariance


def _new_figures_after(call):
    before = plt.get_fignums()
    fig = call()
    assert plt.get_fignums() == before, "drawing functions stay outside pyplot"
    assert isinstance(fig, Figure)
    fig.canvas.draw()
    return fig


def test_draw_corner_detection():
    image = eq.corner_image(32, (10, 20))
    det = eq.corner_detector()
    shifted = eq.shift(image, 5, 3, "zeros")
    fig = _new_figures_after(lambda: deq.corner_detection(image, det(image), shifted, det(shifted), shift=(5, 3)))
    axes = fig.get_axes()
    assert [ax.get_title() for ax in axes] == [
        "input", "response: peak at (10, 20)", "input shifted by (5, 3)", "response: peak at (15, 23)"]
    rects = [p for p in axes[3].patches if isinstance(p, Rectangle)]
    assert len(rects) == 1 and rects[0].get_xy() == (23 - 0.5, 15 - 0.5)
    assert "peaks at (10, 20)" in fig.alt and fig.alt.endswith("peaks at (15, 23)")
    lo, hi = axes[1].get_images()[0].get_clim()
    assert lo == -hi == -6.0


def test_draw_shift_comparison_zero_padding_with_margin():
    photo = data.photo(24)[None]
    layer = eq.edge_conv("zeros")
    comparison = eq.compare_shift(layer, photo, 2, 2, mode="zeros")
    fig = _new_figures_after(lambda: deq.shift_comparison(comparison, margin=2, inner_error=0.0))
    axes = fig.get_axes()
    assert len(axes) == 4
    assert axes[0].get_title() == "input shifted by (2, 2)"
    assert axes[3].get_title() == f"difference: error {comparison.error:.2g} (0 inside the frame)"
    (rect,) = [p for p in axes[3].patches if isinstance(p, Rectangle)]
    assert rect.get_xy() == (1.5, 1.5) and rect.get_width() == 20
    # One colour scale for both maps and the difference.
    clims = {ax.get_images()[0].get_clim() for ax in axes[1:]}
    assert len(clims) == 1
    # Images sit one pixel inside their frames.
    assert axes[3].get_xlim() == (-1.5, 24.5)
    assert "shifted by (2, 2)" in fig.alt and f"{comparison.error:.2g}" in fig.alt


def test_draw_shift_comparison_fractional_output_shift():
    photo = data.photo(24)[None]
    comparison = eq.compare_shift(eq.edge_conv("circular", 2), photo, 1, 1, stride=2)
    fig = _new_figures_after(lambda: deq.shift_comparison(comparison))
    axes = fig.get_axes()
    assert axes[2].get_title().endswith("*")
    assert "fractional" in axes[2].get_xlabel()
    assert "nearest whole-pixel shift" in fig.alt
    assert not [p for p in axes[3].patches if isinstance(p, Rectangle)]


def test_draw_shift_comparison_rejects_bad_arguments():
    photo = data.photo(24)[None]
    cropped = eq.compare_shift(eq.edge_conv(), photo, 1, 1, crop=2)
    with pytest.raises(ValueError, match="^comparison must be computed with crop=0"):
        deq.shift_comparison(cropped)
    whole = eq.compare_shift(eq.edge_conv(), photo, 1, 1)
    with pytest.raises(ValueError, match="^inner_error needs a positive margin"):
        deq.shift_comparison(whole, inner_error=0.0)


def test_draw_aliasing_bars():
    errors = {"a": [0.5, 0.7], "b": [0.2, 0.2, 0.2]}
    fig = _new_figures_after(lambda: deq.aliasing_bars(errors, shift=1))
    ax = fig.get_axes()[0]
    widths = [round(p.get_width(), 3) for p in ax.patches if isinstance(p, Rectangle)]
    assert widths == [0.6, 0.2]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    assert "a 0.60, b 0.20" in fig.alt
    with pytest.raises(ValueError, match=r"^errors\['a'\] must be a non-empty sequence"):
        deq.aliasing_bars({"a": []})
    with pytest.raises(ValueError, match="^errors must hold 1 to 8 layers"):
        deq.aliasing_bars({})


def test_consistency_bars_values_touch_no_data():
    # Like the chapter's figure: untrained networks' consistency near 1, with seeds at 1.0 and a
    # confidence interval reaching past 1. Each mean's label sits clear of its error bar and dots.
    rng = np.random.default_rng(1)
    measures = ["training accuracy", "test accuracy, centred", "test accuracy, shifted", "consistency"]
    means = {"max pooling": [0.91, 0.85, 0.48, 0.51], "max-blur pooling": [0.90, 0.84, 0.80, 0.93],
             "max pooling, untrained": [0.11, 0.11, 0.10, 0.90],
             "max-blur pooling, untrained": [0.09, 0.09, 0.09, 0.98]}
    results = {m: {k: list(np.clip(v + rng.normal(0, 0.04, 5), 0, 1)) for k, v in zip(measures, ms)}
               for m, ms in means.items()}
    results["max pooling, untrained"]["consistency"] = [0.70, 0.86, 0.97, 1.0, 1.0]
    results["max-blur pooling, untrained"]["consistency"] = [0.92, 1.0, 1.0, 1.0, 1.0]
    fig = _new_figures_after(lambda: deq.consistency_bars(results))
    ax = fig.get_axes()[0]
    renderer = laid_out(fig)
    assert texts_outside(fig, renderer) == []
    assert len(ax.texts) == 16
    frame = ax.get_window_extent(renderer)
    for label in ax.texts:
        box = label.get_window_extent(renderer)
        assert points_inside(box, ax) == [], label.get_text()
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1, label.get_text()
    assert max(ax.get_xticks()) == 1.0, "fractions: no tick past 1"


def test_draw_consistency_bars():
    results = {"max": {"accuracy": [0.9, 0.8], "consistency": [0.3, 0.3]},
               "blur": {"accuracy": [0.85, 0.85], "consistency": [0.7, 0.6]}}
    fig = _new_figures_after(lambda: deq.consistency_bars(results))
    ax = fig.get_axes()[0]
    widths = sorted(round(p.get_width(), 2) for p in ax.patches if isinstance(p, Rectangle))
    assert widths == [0.3, 0.65, 0.85, 0.85]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["accuracy", "consistency"]
    # One dot per seed.
    dots = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert sum(len(line.get_xdata()) for line in dots) == 8
    half = stats.interval([0.9, 0.8]).half_width  # 95 % CI over 2 seeds: t(0.975, 1) * 0.0707 / sqrt(2)
    assert f"max: accuracy 0.85 ± {half:.2f}, consistency 0.30 ± 0.00" in fig.alt and "over 2 seeds" in fig.alt
    assert "95% confidence interval" in fig.alt
    with pytest.raises(ValueError, match="must have the measures"):
        deq.consistency_bars({"max": {"accuracy": [0.9]}, "blur": {"consistency": [0.7]}})
    with pytest.raises(ValueError, match="^results must name at least one model"):
        deq.consistency_bars({})


def test_draw_transform_failure():
    image = eq.corner_image(32, (10, 20))
    det = eq.corner_detector()
    rows = [{"name": "rotated 90°", "input": eq.rotate90(image), "f_of_t": det(eq.rotate90(image)),
             "t_of_f": eq.rotate90(det(image)), "error": eq.transform_error(det, image, eq.rotate90)}]
    fig = _new_figures_after(lambda: deq.transform_failure(rows))
    axes = fig.get_axes()
    assert len(axes) == 4
    assert axes[1].get_title() == "response to it: peak 4"
    assert axes[2].get_title() == "response rotated 90°: peak 6"
    assert "rotated 90°" in fig.alt and "peak 4" in fig.alt
    np.testing.assert_allclose(axes[3].get_images()[0].get_array(),
                               (rows[0]["f_of_t"] - rows[0]["t_of_f"]).detach()[0, 0].numpy())
    with pytest.raises(ValueError, match="^each row must be a mapping with keys"):
        deq.transform_failure([{"name": "x"}])
    with pytest.raises(ValueError, match="^rows must hold 1 to 4 transforms"):
        deq.transform_failure([])


# --------------------------------------------------------------------------- stages, compression, border


def test_pooling_stack_is_nested_and_seeded():
    deep = eq.pooling_stack(3, seed=4)
    assert len(deep) == 2 + 3 * 3
    assert [type(m).__name__ for m in deep[:5]] == ["Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU"]
    # The same seed gives the same weights, so a shallower stack is the first stages of a deeper one.
    shallow = eq.pooling_stack(1, seed=4)
    for a, b in zip(shallow, eq.first_stages(deep, 1)):
        if isinstance(a, torch.nn.Conv2d):
            assert torch.equal(a.weight, b.weight)
    x = torch.rand(2, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    assert torch.equal(shallow(x), eq.first_stages(deep, 1)(x))
    assert eq.first_stages(deep, 3)(x).shape == (2, 16, 2, 2)
    assert not torch.equal(eq.pooling_stack(1, seed=5)[0].weight, shallow[0].weight)
    # pool="none": stride-1 convolutions with the same weights.
    plain = eq.pooling_stack(3, seed=4, pool="none")
    assert plain(x).shape == (2, 16, 16, 16)
    assert torch.equal(plain[3].weight, deep[3].weight)
    with pytest.raises(ValueError, match="^pool must be one of"):
        eq.pooling_stack(1, seed=0, pool="global average")
    with pytest.raises(ValueError, match="^stages must be"):
        eq.pooling_stack(7, seed=0)
    with pytest.raises(ValueError, match="^stages must be"):
        eq.first_stages(deep, 4)
    with pytest.raises(ValueError, match="^stack must be made by pooling_stack"):
        eq.first_stages(torch.nn.Sequential(torch.nn.ReLU()), 0)


def test_stages_lose_exact_invariance_of_the_global_average_except_on_the_stride_grid():
    x = eq.tiles(data.photo(64), 32)
    stack = eq.pooling_stack(2, seed=1)
    for n in range(3):
        averaged = torch.nn.Sequential(eq.first_stages(stack, n), eq.GlobalAveragePool())
        assert eq.invariance_error(averaged, x, 2**n, -(2**n)) < 1e-5
        if n:
            assert eq.invariance_error(averaged, x, 0, 1) > 1e-3
    assert eq.invariance_error(torch.nn.Sequential(eq.first_stages(stack, 0), eq.GlobalAveragePool()),
                               x, 0, 1) < 1e-5


def test_conv_multiply_adds_by_hand():
    x = torch.zeros(3, 2, 10, 12)
    model = torch.nn.Sequential(torch.nn.Conv2d(2, 5, 3, padding=1), torch.nn.MaxPool2d(2),
                                torch.nn.Conv2d(5, 4, (3, 1)), torch.nn.Conv2d(4, 4, 1, groups=2))
    # 10 x 12 outputs x 5 channels x (2 x 9); then 5 x 6 -> 3 x 6 outputs x 4 x (5 x 3); then 3 x 6 x 4 x 2.
    assert eq.conv_multiply_adds(model, x) == [10 * 12 * 5 * 18, 3 * 6 * 4 * 15, 3 * 6 * 4 * 2]
    # The hooks are removed afterwards.
    assert all(not m._forward_hooks for m in model.modules())
    with pytest.raises(ValueError, match="^model must contain at least one Conv2d"):
        eq.conv_multiply_adds(torch.nn.ReLU(), x)
    with pytest.raises(ValueError, match="^model must be a torch module"):
        eq.conv_multiply_adds(lambda t: t, x)


def test_border_distance_by_hand():
    assert eq.border_distance(4, 5).tolist() == [[0, 0, 0, 0, 0], [0, 1, 1, 1, 0], [0, 1, 1, 1, 0],
                                                 [0, 0, 0, 0, 0]]
    with pytest.raises(ValueError, match="^height must be"):
        eq.border_distance(0, 3)


def test_zero_padding_tells_positions_near_the_border_apart_and_circular_padding_does_not():
    blank = torch.ones(1, 1, 20, 20)
    for layers in (1, 2, 3):
        zeros = eq.pooling_stack(layers - 1, seed=3, pool="none", padding_mode="zeros")(blank)
        circular = eq.pooling_stack(layers - 1, seed=3, pool="none", padding_mode="circular")(blank)
        profile = eq.border_profile(zeros)
        assert len(profile) == 10
        # Each 3 x 3 layer reaches one pixel further from the border, and no further.
        assert min(profile[:layers]) > 0.01 and max(profile[layers:]) == 0.0
        assert eq.distinct_positions(zeros) == (2 * layers + 1) ** 2
        assert eq.distinct_positions(circular) == 1
        assert max(eq.border_profile(circular)) == 0.0


def test_border_profile_and_distinct_positions_by_hand():
    y = torch.ones(1, 2, 5, 5)
    y[0, 0, 0, :] = 3.0  # the top row differs from the centre by (2, 0): |(2, 0)| / |(1, 1)|
    profile = eq.border_profile(y)
    assert profile[0] == pytest.approx(5 / 16 * 2 / math.sqrt(2))
    assert profile[1:] == [0.0, 0.0]
    assert eq.distinct_positions(y) == 2
    with pytest.raises(ValueError, match="^y must have a non-zero feature vector"):
        eq.border_profile(torch.zeros(1, 2, 5, 5))
    with pytest.raises(ValueError, match="^y must hold one map"):
        eq.distinct_positions(torch.ones(2, 1, 3, 3))


def test_draw_invariance_by_depth_and_border_maps():
    maps = [[0.4, 0.3, 0.2], [0.2, 0.3, 0.1]]
    averaged = [[0.0, 0.01, 0.03], [0.0, 0.02, 0.05]]
    fig = _new_figures_after(lambda: deq.invariance_by_depth(maps, averaged))
    left, right = fig.get_axes()
    np.testing.assert_allclose(left.get_lines()[-1].get_ydata(), [0.3, 0.3, 0.15])
    np.testing.assert_allclose(right.get_lines()[-1].get_ydata(), [0.0, 0.015, 0.04])
    assert len(left.get_lines()) == 3  # one per network and the mean
    assert "feature maps: 0.300, 0.300, 0.150" in fig.alt and "for 2 random networks" in fig.alt
    with pytest.raises(ValueError, match="^maps and averaged must have one shape"):
        deq.invariance_by_depth(maps, averaged[:1])
    with pytest.raises(ValueError, match="^maps must hold one row"):
        deq.invariance_by_depth([0.1, 0.2], averaged)
    y = torch.arange(8.0).view(1, 2, 2, 2)
    fig = _new_figures_after(lambda: deq.border_maps({"zeros": y, "circular": torch.ones(1, 2, 2, 2)},
                                                     channel=1))
    axes = fig.get_axes()
    assert [ax.get_title() for ax in axes] == ["zeros", "circular"]
    np.testing.assert_allclose(axes[0].get_images()[0].get_array(), [[4, 5], [6, 7]])
    assert axes[1].get_images()[0].get_clim() == (1.0, 7.0)  # one colour scale
    with pytest.raises(ValueError, match="^channel must be 0 to 1"):
        deq.border_maps({"zeros": y}, channel=2)
    with pytest.raises(ValueError, match="^maps must hold 1 to 4 maps"):
        deq.border_maps({})


# --------------------------------------------------------------------------- the chapter


def test_rotated_copies_make_quarter_turns_act_on_positions_and_channels():
    conv = eq.random_conv(2, 3, 3, seed=1)
    group = eq.rotated_copies(conv)
    assert group.out_channels == 12 and group.bias is None and not group.weight.requires_grad
    for t in range(4):
        torch.testing.assert_close(group.weight[t], torch.rot90(conv.weight[0], t, dims=(1, 2)))
    x = _randn(1, 2, 12, 12, seed=2, dtype=torch.float32)
    with torch.no_grad():
        y = group(x).view(1, 3, 4, 12, 12)
        y_turned = group(eq.rotate90(x)).view(1, 3, 4, 12, 12)
    expected = torch.rot90(y, 1, dims=(3, 4)).roll(1, dims=2)
    torch.testing.assert_close(y_turned, expected, rtol=0, atol=1e-5)
    assert float((y_turned - torch.rot90(y, 1, dims=(3, 4))).abs().max()) > 0.1  # the channels do move
    # The maximum across a group's four channels commutes with the quarter turn.
    torch.testing.assert_close(y_turned.amax(2), torch.rot90(y.amax(2), 1, dims=(2, 3)), rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match="^conv must be a torch.nn.Conv2d"):
        eq.rotated_copies("conv")
    with pytest.raises(ValueError, match="^conv must have a square kernel"):
        eq.rotated_copies(torch.nn.Conv2d(1, 1, (3, 5)))


def test_full_padding_makes_the_summed_response_independent_of_position():
    side = 10
    dots = torch.eye(side * side).view(-1, 1, side, side)
    sums = {}
    for padding in (0, 1, 2):
        stack = eq.padded_stack(padding, seed=3, layers=2, channels=4)
        assert all(c.padding == (padding, padding) for c in stack if isinstance(c, torch.nn.Conv2d))
        with torch.no_grad():
            out = stack(dots)
        assert out.shape[-1] == side + 2 * 2 * (padding - 1)
        sums[padding] = out.sum(dim=(2, 3))
    centre = sums[2][(side // 2) * side + side // 2]
    torch.testing.assert_close(sums[2], centre.expand_as(sums[2]), rtol=1e-5, atol=1e-5)
    for padding in (0, 1):  # valid and same: a dot at the corner gives another sum than one in the middle
        assert float((sums[padding][0] - sums[padding][(side // 2) * side + side // 2]).abs().max()) > 1e-3
    # Same weights whatever the padding.
    assert torch.equal(eq.padded_stack(0, seed=3)[0].weight, eq.padded_stack(2, seed=3)[0].weight)
    with pytest.raises(ValueError, match="^padding must be in"):
        eq.padded_stack(3, seed=0)


@pytest.mark.build
def test_equivariance_chapter_numbers(executed):
    """The numbers chapter 5 quotes, checked against closed forms and the claims its prose makes."""
    g = glued(executed, "book/05_equivariance")
    # The standard example: a corner at (10, 20), shifted by (5, 3), is detected at (15, 23).
    assert g["corner_peak"] == "(10, 20)"
    assert g["shifted_peak"] == "(15, 23)"
    assert float(g["corner_peak_value"]) == 6.0 == float(g["shifted_peak_value"])  # 3 x (+2)
    assert float(g["corner_error"]) == 0.0
    # Circular padding, stride 1: equivariant to floating-point level.
    assert float(g["circular_error"]) < 1e-5
    # Zero padding: the border to crop is max(|d|, k // 2) = max(5, 3, 1) = 5.
    assert int(g["zero_margin"]) == 5
    assert float(g["zero_error_cropped"]) < 1e-6
    assert float(g["zero_error_short"]) > 1e-2
    assert float(g["zero_error_full"]) > float(g["zero_error_short"])
    # Stride 2: even shifts exact, odd shifts far off.
    assert float(g["subsample_gap"]) < 1e-6
    assert float(g["stride_even_error"]) < 1e-5
    assert float(g["stride_odd_error"]) > 1.0  # "larger than the feature map itself"
    assert g["stride_odd_shift"] in {"(0, 0)", "(0, 1)", "(1, 0)", "(1, 1)"}  # floor or ceil of 1 / 2
    # Rotation and scaling: not equivariant. After the quarter turn the best match is the top end
    # of the upward stroke (centre and below: 2 + 2); enlarged, the thick corner scores 3 x 2 - 1.
    assert float(g["rotation_error"]) > 0.5 and float(g["scale_error"]) > 0.5
    assert float(g["rotation_peak"]) == 4.0
    assert float(g["scale_peak"]) == 5.0
    # Group convolution: the quarter turn acts on positions and channels; pooling across channels
    # leaves only the spatial rotation.
    assert float(g["group_plain"]) > 0.5
    assert float(g["group_equi"]) < 1e-6 and float(g["group_pooled"]) < 1e-6
    # The converse: a dense random map averaged over all circular shifts commutes with them and is the
    # circular convolution with its impulse response, which is dense; as a Conv2d weight it must be flipped.
    assert float(g["dense_equi"]) < 1e-12 and float(g["converse_error"]) < 1e-12
    assert int(g["impulse_support"]) == int(g["impulse_size"]) == 225
    assert float(g["conv_flipped"]) < 1e-12 and float(g["conv_unflipped"]) > 0.1


def test_exercise_one_circular_layer_under_zero_filled_shift_needs_d_plus_r():
    """Chapter 5, exercise 1: the mismatched pair commutes after cropping d + r = 4 pixels, not 3."""
    photo = data.photo(48)[None]
    layer = eq.edge_conv("circular")
    assert eq.equivariance_error(layer, photo, 3, 3, mode="zeros", crop=4) == 0.0
    assert eq.equivariance_error(layer, photo, 3, 3, mode="zeros", crop=3) > 0.1
    rows = eq.compare_shift(layer, photo, 3, 0, mode="zeros").difference[0, 0].ne(0).any(1)
    assert rows.nonzero().flatten().tolist() == [0, 2, 3, 47]


@pytest.mark.build
def test_pooling_chapter_numbers(executed):
    """The numbers chapter 6 (pooling) quotes, and every verdict its prose states."""
    g = glued(executed, "book/06_pooling")
    # Convolutions are equivariant, not invariant; the global average is invariant.
    assert float(g["body_equi"]) < 1e-5
    assert float(g["body_inv"]) > 0.1
    assert float(g["gap_inv"]) < 1e-5
    # The backward pass: max routes each window's gradient to one winner, average spreads it.
    assert int(g["max_grad_nonzero"]) == 4 and int(g["pool_inputs"]) == 16
    assert float(g["avg_grad_value"]) == 0.25
    # Aliasing: every layer exact at even shifts; average pooling is blur pooling with [1, 1].
    assert float(g["alias_even"]) < 1e-6
    assert float(g["box_gap"]) < 1e-6
    assert int(g["n_tiles"]) == 16  # a 128-pixel photograph in 32-pixel tiles
    alias = {k: ast.literal_eval(g[f"alias_{k}_values"])
             for k in ("subsample", "max", "average", "blur3", "blur4", "blur5", "maxblur")}
    for k, values in alias.items():
        assert len(values) == 16 and abs(float(g[f"alias_{k}"]) - sum(values) / 16) < 1e-9
    # The spread here is over input tiles, not seeds, so each comparison is made tile by tile.
    for more, less in [("subsample", "max"), ("subsample", "average"), ("average", "blur3"),
                       ("blur3", "blur4"), ("blur4", "blur5"), ("max", "maxblur")]:
        assert all(a > b for a, b in zip(alias[more], alias[less])), (more, less)
    assert all(b < a / 2 for a, b in zip(alias["max"], alias["maxblur"]))
    assert min(min(v) for v in alias.values()) > 0.01  # "None of them reaches zero."
    # Stacking stages (8 nested random networks, 0 to 4 max-pool stages, a one-pixel shift).
    n_nets = int(g["n_stage_seeds"])
    cols = {k: ast.literal_eval(g[f"{k}_depth_values"]) for k in ("map", "centred", "avg", "whole")}
    assert n_nets >= 5 and all(len(c) == 5 and all(len(x) == n_nets for x in c) for c in cols.values())
    for key, columns in cols.items():
        for n, column in enumerate(columns):
            assert float(g[f"{key}_depth{n}"]) == pytest.approx(sum(column) / n_nets)
    means = {k: [sum(c) / n_nets for c in v] for k, v in cols.items()}
    # The sentence on the centred maps is chosen by whether their mean falls at every stage.
    falls = all(b < a for a, b in zip(means["centred"], means["centred"][1:]))
    assert g["centred_trend"] == ("falls at every stage" if falls else "does not fall steadily with depth")
    assert 0 < float(g["mean_share0"]) < float(g["mean_share4"]) < 1
    # The global average: exact without pooling, larger after four stages than after one for (nearly)
    # every network, on the tiles and on the whole photograph; exact again at shifts of 2^n.
    assert float(g["avg_depth0"]) < 1e-5 and float(g["whole_depth0"]) < 1e-5
    assert int(g["avg_deepest_rose"]) == sum(c4 > c1 for c1, c4 in zip(cols["avg"][1], cols["avg"][4]))
    assert int(g["whole_deepest_rose"]) == sum(c4 > c1 for c1, c4 in zip(cols["whole"][1], cols["whole"][4]))
    assert int(g["avg_deepest_rose"]) >= n_nets - 1 and int(g["whole_deepest_rose"]) >= n_nets - 1
    assert all(a < b for a, b in zip(means["avg"][1:], means["avg"][2:]))
    assert means["whole"][4] < means["avg"][4]  # "On the whole photograph the errors are smaller"
    assert float(g["stride_exact"]) < 1e-5
    # The border: three zero-padded 3 x 3 layers tell 7 x 7 classes of positions apart, every seed;
    # circular padding none; deviations only within 3 pixels of the border.
    assert ast.literal_eval(g["distinct_zeros_values"]) == [49] * int(g["n_border_seeds"])
    assert ast.literal_eval(g["distinct_circular_values"]) == [1] * int(g["n_border_seeds"])
    assert int(g["n_border_seeds"]) >= 5 and int(g["border_reach"]) == 3
    assert float(g["border_inside"]) == 0.0 and float(g["circular_profile"]) == 0.0
    profiles = ast.literal_eval(g["border_profiles"])
    assert all(min(p[:3]) > 0.05 for p in profiles)
    # Valid and same padding leak the dot's position into the summed output; full convolution does not.
    assert float(g["leak_valid"]) > 0.1 and float(g["leak_same"]) > 0.1 and float(g["leak_full_max"]) < 1e-5
    assert int(g["n_leak_seeds"]) >= 5
    assert int(g["leak_full_reach"]) == 0 and 0 < int(g["leak_same_reach"]) <= int(g["leak_valid_reach"])
    # The trained networks: 5 seeds (the page's time budget), every run stopped by the rule.
    assert int(g["n_seeds"]) >= 5
    assert int(g["n_converged"]) == int(g["n_runs"]) == 2 * int(g["n_seeds"])
    assert int(g["epochs_low"]) <= int(g["epochs_high"]) < 100
    values = {f"{k}_{m}": ast.literal_eval(g[f"{k}_{m}_values"])
              for k in ("max", "blur") for m in ("train", "acc", "acc_shifted", "consistency")}
    for key, v in values.items():
        assert len(v) == int(g["n_seeds"])
        assert g[key] == format(stats.interval(v), ".1%")
    majority = float(g["majority"])
    assert 0.1 <= majority < 0.15
    for k in ("max", "blur"):  # far above the majority class, over the seeds' interval
        assert stats.interval(values[f"{k}_acc"]).low > majority + 0.3
        # "Neither network is the best classifier of centred digits": nearest neighbour beats both.
        assert float(g["nn_acc"]) > stats.interval(values[f"{k}_acc"]).high
        # Untrained control: near chance accuracy, yet highly consistent (nearly one class for all).
        untrained = ast.literal_eval(g[f"{k}_untrained_consistency_values"])
        assert len(untrained) == int(g["n_seeds"]) and sum(untrained) / len(untrained) > 0.8
        assert g[f"{k}_untrained_consistency"].startswith(f"{sum(untrained) / len(untrained):.1%} (seeds from")
        untrained_acc = ast.literal_eval(g[f"{k}_untrained_acc_values"])
        assert g[f"{k}_untrained_acc"].startswith(f"{sum(untrained_acc) / len(untrained_acc):.1%} (seeds from")
        assert sum(untrained_acc) / len(untrained_acc) < majority + 0.05  # "chance"
        assert float(g[f"{k}_untrained_one_class"]) > 0.8  # most digits get one and the same class
    assert float(g["nn_acc_shifted"]) < 0.5  # "falls to": pixels know nothing of shifts
    # Every comparison the prose states, by its verdict (paired over seeds, 95 % CI).
    pairs = {"shift_cost": ("max_acc_shifted", "max_acc"), "acc": ("blur_acc", "max_acc"),
             "acc_shifted": ("blur_acc_shifted", "max_acc_shifted"),
             "consistency": ("blur_consistency", "max_consistency")}
    for key, (a, b) in pairs.items():
        c = stats.paired(values[a], values[b], margin=0.01)
        assert g[f"verdict_{key}"] == c.verdict, key
    # "... falls to": shifting costs the max-pooling network accuracy; max-blur is ahead on shifted
    # digits and in consistency.
    assert g["verdict_shift_cost"] == "behind"
    assert g["verdict_acc_shifted"] == "ahead"
    assert g["verdict_consistency"] == "ahead"
    # Shifts by multiples of the total stride, content inside: identical predictions, logits to rounding.
    for k in ("max", "blur"):
        assert float(g[f"{k}_same4"]) == 1.0
        assert float(g[f"{k}_change4"]) < 1e-4
        assert float(g[f"{k}_change8"]) > 1e-2  # (8, 8): content reaches the edge
    # Exercise 3: pairs of shifts in -4..4 differing by a multiple of 4 on both axes: (21 / 81)^2.
    assert abs(float(g["aligned_pairs"]) - (21 / 81) ** 2) < 1e-12


@pytest.mark.build
def test_pooling_as_compression_numbers(executed):
    """The section "Pooling as compression" of chapter 6 (efficiency): flops by layer and fields."""
    g = glued(executed, "book/07_efficiency")
    # 16 channels of 3 x 3 on 64 x 64: a multiply-add is two flops; each pooled layer a quarter of the one before.
    first, full = 2 * 64 * 64 * 16 * 9, 2 * 64 * 64 * 16 * 16 * 9
    assert int(g["compress_plain_flops1"]) == int(g["compress_pooled_flops1"]) == first
    assert [int(g[f"compress_plain_flops{i}"]) for i in (2, 3, 4)] == [full] * 3
    assert [int(g[f"compress_pooled_flops{i}"]) for i in (2, 3, 4)] == [full // 4, full // 16, full // 64]
    assert int(g["compress_plain_total"]) == first + 3 * full
    assert float(g["compress_ratio"]) == pytest.approx((first + 3 * full) / (first + full // 4 + full // 16
                                                                             + full // 64))
    # Fields: 1 + 4 x 2 = 9 without pooling; 3, 4, 8, 10, 18, 22, 38 with it.
    assert int(g["compress_plain_field"]) == 9 and int(g["compress_pooled_field"]) == 38


# --------------------------------------------------------------------------- the converse (chapter 5)


def test_shift_averaged_map_is_the_explicit_average_and_commutes_with_every_shift():
    side, n = 5, 25
    a = torch.randn(n, n, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    a4 = a.view(side, side, side, side)  # g_p^{-1} A g_p, summed over every p by hand
    want = sum(a4.roll((py, px, py, px), dims=(0, 1, 2, 3)) for py in range(side) for px in range(side)) / n
    f = eq.shift_averaged_map(side, seed=3)
    torch.testing.assert_close(f[1].weight, want.view(n, n), rtol=1e-12, atol=1e-12)
    x = _randn(2, 1, side, side, seed=1)
    for dy in range(side):
        for dx in range(side):
            assert eq.equivariance_error(f, x, dy, dx) < 1e-12
    # The matrix itself is dense, and a plain random matrix does not commute.
    assert int(f[1].weight.ne(0).sum()) == n * n
    plain = torch.nn.Sequential(torch.nn.Flatten(1), torch.nn.Linear(n, n, bias=False).double(),
                                torch.nn.Unflatten(1, (1, side, side)))
    assert eq.equivariance_error(plain, x, 1, 2) > 0.1


@pytest.mark.parametrize("n", [1, 3, 5])
def test_conv_from_impulse_response_flips_the_kernel(n):
    h = _randn(1, 1, n, n, seed=n)
    x = _randn(1, 1, n, n, seed=10 + n)
    # The circular convolution with h, written out: y[i] = sum_p x[p] h[i - p].
    want = torch.zeros_like(x)
    for py in range(n):
        for px in range(n):
            want += x[0, 0, py, px] * torch.roll(h, (py, px), dims=(2, 3))
    with torch.no_grad():
        torch.testing.assert_close(eq.conv_from_impulse_response(h)(x), want, rtol=1e-12, atol=1e-12)
        unflipped = eq.conv_from_impulse_response(h, flip=False)(x)
    if n > 1:  # a random h is not symmetric: the cross-correlation with it is another map
        assert float((unflipped - want).norm() / want.norm()) > 0.1


def test_group_filters_rotate_and_cycle():
    psi = _randn(1, 4, 3, 3, seed=0)
    w = eq.group_filters(psi)
    assert w.shape == (4, 4, 3, 3)
    for t in range(4):
        assert torch.equal(w[t], torch.rot90(psi[0], t, dims=(1, 2)).roll(t, dims=0))
        assert torch.equal(eq.group_filters(psi, cycle=False)[t], torch.rot90(psi[0], t, dims=(1, 2)))


def test_exercise_six_a_later_group_layer_must_cycle_the_orientation_channels():
    """Chapter 5, exercise 6: rotating the filters only breaks equivariance; rotating and cycling keeps it."""
    image = eq.corner_image(size=32, corner=(10, 20), arm=6)
    group_layer = eq.rotated_copies(eq.corner_detector())
    psi = torch.randn(1, 4, 3, 3, generator=torch.Generator().manual_seed(4))
    errors = {}
    for cycle in (False, True):
        w = eq.group_filters(psi, cycle=cycle)
        with torch.no_grad():
            a = F.conv2d(torch.relu(group_layer(eq.rotate90(image))), w, padding=1)
            b = eq.rotate90(F.conv2d(torch.relu(group_layer(image)), w, padding=1)).roll(1, dims=1)
        errors[cycle] = float((a - b).norm() / b.norm())
    assert errors[True] < 1e-6
    assert 0.3 < errors[False] < 0.5  # "about 0.4"
