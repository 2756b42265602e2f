"""Translation equivariance, and the invariance that pooling adds, measured.

Used by the chapters "Translation equivariance" and "Pooling and invariance". A layer ``f`` is
*equivariant* to a shift ``g`` when ``f(g(x)) = g'(f(x))``, with ``g'`` the same
shift expressed in output pixels, and *invariant* when ``f(g(x)) = f(x)``. This
module shifts image batches, measures how far a module is from either
property, builds the detectors, pooling layers and small networks the chapter
measures, and trains them with explicit seeds.

All images are batches of shape (N, C, H, W); shifts are ``(dy, dx)`` in
pixels, positive down and to the right.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import MAX_COUNT, MAX_SIDE, check_choice, check_int, check_tensor
from . import _shifts, data, training
from .conv_layer import hand_filter

SHIFT_MODES = _shifts.SHIFT_MODES
#: The downsampling layers :func:`pooling` builds.
POOLINGS = ("none", "subsample", "max", "average", "blur", "max-blur", "global average")


# --------------------------------------------------------------------------- shifts


def shift(x: torch.Tensor, dy: int, dx: int, mode: str = "circular") -> torch.Tensor:
    """Translate a batch of images by ``dy`` rows and ``dx`` columns (``mode`` "circular" or "zeros").

    The book's one shift, :func:`widgets.compute._shifts.shift`, offered here
    beside the measures that use it; see there for the parameters.
    """
    return _shifts.shift(x, dy, dx, mode)


def output_shift(dy: int, dx: int, stride: int = 1) -> tuple[int, int]:
    """The shift of a layer's output that corresponds to shifting its input by (dy, dx).

    A layer with stride ``s`` keeps one output pixel per ``s`` input pixels, so
    an input shift of ``dy`` rows is an output shift of ``dy / s`` rows, which
    is a whole number of pixels only when ``s`` divides ``dy``.

    Parameters
    ----------
    dy, dx : int
        Input shift in pixels.
    stride : int
        The layer's total stride (downsampling factor), at least 1.

    Returns
    -------
    tuple of int
        ``(dy // stride, dx // stride)``.

    Raises
    ------
    ValueError
        If ``stride`` does not divide ``dy`` or ``dx``: no output shift
        corresponds, and equivariance is not defined (use :func:`compare_shift`
        to compare with the nearest output shifts instead).
    """
    dy = check_int("dy", dy)
    dx = check_int("dx", dx)
    stride = check_int("stride", stride, low=1)
    for name, value in (("dy", dy), ("dx", dx)):
        if value % stride:
            raise ValueError(f"{name} must be a multiple of stride={stride} for the output shift "
                             f"{name} / stride to be a whole number of pixels, got {value}")
    return dy // stride, dx // stride


def crop_border(y: torch.Tensor, margin: int) -> torch.Tensor:
    """Drop ``margin`` pixels from every side of a batch of maps.

    Parameters
    ----------
    y : torch.Tensor
        (N, C, H, W) batch.
    margin : int
        Pixels to drop on each side, 0 to ``(min(H, W) - 1) // 2`` (something must remain).
    """
    check_tensor("y", y, ndim=4)
    margin = check_int("margin", margin, low=0, high=(min(y.shape[-2:]) - 1) // 2)
    h, w = y.shape[-2:]
    return y[..., margin:h - margin, margin:w - margin]


def _norm(y: torch.Tensor, what: str = "f(x)") -> float:
    """The L2 norm of every value of ``y``, in float64; refuses zero (a relative error needs a scale)."""
    norm = float(torch.linalg.vector_norm(y.detach().double()))
    if norm == 0.0:
        raise ValueError(f"x must give a non-zero {what} to measure a relative error against, got all zeros")
    return norm


def _relative(a: torch.Tensor, b: torch.Tensor, what: str) -> float:
    """||a - b|| / ||b|| in float64."""
    return float(torch.linalg.vector_norm(a.detach().double() - b.detach().double())) / _norm(b, what)


def _apply(f, x, name: str = "f"):
    """``f(x)`` without gradients; a module that cannot take ``x`` is a bad argument (ValueError), not a crash."""
    if not callable(f):
        raise ValueError(f"{name} must be a torch module or a callable, got {type(f).__name__}")
    try:
        with torch.no_grad():
            y = f(x)
    except RuntimeError as err:  # e.g. a Conv2d given the wrong number of channels
        raise ValueError(f"{name} must accept inputs of shape {tuple(x.shape)}, got {name} raising: {err}") from err
    if not isinstance(y, torch.Tensor):
        raise ValueError(f"{name} must return a tensor, got {type(y).__name__}")
    return y


def _check_maps(x, channels: int, min_side: int) -> None:
    """Raise ``ValueError`` unless ``x`` is a floating (N, channels, H, W) batch with H and W at least ``min_side``."""
    check_tensor("x", x, ndim=4)
    if x.shape[1] != channels or min(x.shape[-2:]) < min_side:
        raise ValueError(f"x must have shape (N, {channels}, H, W) with H and W at least {min_side}, "
                         f"got {tuple(x.shape)}")


@dataclass(frozen=True)
class ShiftComparison:
    """``f(g(x))`` beside ``g'(f(x))``: what equivariance says should be equal.

    Attributes
    ----------
    shifted_input : torch.Tensor
        ``g(x)``, the input shifted by ``shift``.
    response_of_shifted : torch.Tensor
        ``f(g(x))``.
    shifted_response : torch.Tensor
        ``g'(f(x))``: the output of the unshifted input, shifted by ``output_shift``.
    difference : torch.Tensor
        ``f(g(x)) - g'(f(x))`` (after cropping ``crop`` output pixels on every side).
    shift, output_shift : tuple of int
        The input shift and the output shift compared with it.
    divides : bool
        True if the stride divides both components of ``shift`` and
        ``output_shift`` is ``shift / stride``; False if it does not and
        ``output_shift`` is the best of the nearest whole-pixel output shifts.
        (Whether the layer commutes with the shift is ``error == 0``.)
    error : float
        ``||difference|| / ||f(x)||`` over the compared (cropped) region.
    crop : int
        Output pixels dropped on every side before comparing.
    """

    shifted_input: torch.Tensor
    response_of_shifted: torch.Tensor
    shifted_response: torch.Tensor
    difference: torch.Tensor
    shift: tuple[int, int]
    output_shift: tuple[int, int]
    divides: bool
    error: float
    crop: int


def compare_shift(f: Callable, x: torch.Tensor, dy: int, dx: int, *, mode: str = "circular",
                  stride: int = 1, crop: int = 0) -> ShiftComparison:
    """Compare ``f(g(x))`` with ``g'(f(x))`` for a shift ``g`` by (dy, dx).

    Parameters
    ----------
    f : torch.nn.Module or callable
        Maps an (N, C, H, W) batch to an (N, C', H / stride, W / stride) batch.
    x : torch.Tensor
        (N, C, H, W) input batch.
    dy, dx : int
        Input shift in pixels.
    mode : {"circular", "zeros"}
        How both shifts treat the border (see :func:`shift`).
    stride : int
        Total stride of ``f``. The output is shifted by ``(dy / stride, dx / stride)``.
        When the stride does not divide the shift there is no such output
        shift; the comparison then uses whichever of the nearest output shifts
        (``floor`` or ``ceil`` of ``d / stride`` on each axis) gives the
        smallest error, and ``divides`` is False.
    crop : int
        Output pixels to drop on every side of both maps before comparing (0
        compares everything).

    Returns
    -------
    ShiftComparison
    """
    check_tensor("x", x, ndim=4)
    stride = check_int("stride", stride, low=1)
    g_x = shift(x, dy, dx, mode)
    y, y_shifted = _apply(f, x), _apply(f, g_x)
    check_tensor("f(x)", y, ndim=4)
    if y.shape != y_shifted.shape:
        raise ValueError(f"f must give outputs of one shape, got {tuple(y.shape)} and {tuple(y_shifted.shape)}")
    for axis, n_in, n_out in (("height", x.shape[2], y.shape[2]), ("width", x.shape[3], y.shape[3])):
        if not 0 <= n_out * stride - n_in < stride:
            raise ValueError(f"stride must be f's downsampling factor, got stride={stride} but f maps "
                             f"{axis} {n_in} to {n_out}")
    crop = check_int("crop", crop, low=0, high=(min(y.shape[-2:]) - 1) // 2)
    divides = dy % stride == 0 and dx % stride == 0
    if divides:
        candidates = [output_shift(dy, dx, stride)]
    else:
        candidates = [(oy, ox) for oy in sorted({math.floor(dy / stride), math.ceil(dy / stride)})
                      for ox in sorted({math.floor(dx / stride), math.ceil(dx / stride)})]
    scale = _norm(crop_border(y, crop))
    best = None
    for oy, ox in candidates:
        g_y = shift(y, oy, ox, mode)
        diff = crop_border(y_shifted, crop) - crop_border(g_y, crop)
        err = float(torch.linalg.vector_norm(diff.double())) / scale
        if best is None or err < best[0]:
            best = (err, (oy, ox), g_y, diff)
    err, out_shift, g_y, diff = best
    return ShiftComparison(g_x, y_shifted, g_y, diff, (dy, dx), out_shift, divides, err, crop)


def equivariance_error(f: Callable, x: torch.Tensor, dy: int, dx: int, *, mode: str = "circular",
                       stride: int = 1, crop: int = 0) -> float:
    """Relative equivariance error ``||f(g(x)) - g'(f(x))|| / ||f(x)||``.

    ``g`` shifts the input by (dy, dx); ``g'`` shifts the output by
    ``(dy / stride, dx / stride)``, the same displacement in output pixels.
    Zero means ``f`` commutes with the shift.

    Parameters
    ----------
    f : torch.nn.Module or callable
        Maps an (N, C, H, W) batch to an (N, C', H', W') batch.
    x : torch.Tensor
        (N, C, H, W) input batch.
    dy, dx : int
        Input shift; both must be multiples of ``stride`` (otherwise no output
        shift corresponds and ``ValueError`` is raised: see :func:`compare_shift`).
    mode : {"circular", "zeros"}
        How both shifts treat the border (see :func:`shift`).
    stride : int
        Total stride (downsampling factor) of ``f``.
    crop : int
        Output pixels to drop on every side of both maps before comparing; the
        norms are taken over what remains.

    Returns
    -------
    float
    """
    output_shift(dy, dx, stride)  # validates divisibility first, with a clear message
    return compare_shift(f, x, dy, dx, mode=mode, stride=stride, crop=crop).error


def invariance_error(f: Callable, x: torch.Tensor, dy: int, dx: int, *, mode: str = "circular") -> float:
    """Relative invariance error ``||f(g(x)) - f(x)|| / ||f(x)||``.

    Zero means shifting the input by (dy, dx) leaves ``f``'s output unchanged.

    Parameters
    ----------
    f : torch.nn.Module or callable
        Maps an (N, C, H, W) batch to a tensor of any shape.
    x : torch.Tensor
        (N, C, H, W) input batch.
    dy, dx : int
        Input shift in pixels.
    mode : {"circular", "zeros"}
        How the shift treats the border (see :func:`shift`).

    Returns
    -------
    float
    """
    check_tensor("x", x, ndim=4)
    g_x = shift(x, dy, dx, mode)
    return _relative(_apply(f, g_x), _apply(f, x), "f(x)")


# --------------------------------------------------------------------------- aliasing


def fractional_shift(y: torch.Tensor, dy: float, dx: float) -> torch.Tensor:
    """Shift maps by a possibly fractional number of pixels, circularly, by band-limited interpolation.

    Each map is treated as the samples of the smoothest periodic signal
    through them (its discrete Fourier series); the result samples that
    signal ``(dy, dx)`` pixels further on. For whole shifts this is exactly
    :func:`shift` with ``mode="circular"``. The Nyquist frequency, whose
    phase a half-pixel shift leaves undetermined, is treated as a cosine.

    Parameters
    ----------
    y : torch.Tensor
        (N, C, H, W) batch of maps.
    dy, dx : float
        Rows down and columns right, finite.

    Returns
    -------
    torch.Tensor
        Same shape as ``y``, float64.
    """
    check_tensor("y", y, ndim=4)
    for name, value in (("dy", dy), ("dx", dx)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number of pixels, got {value!r}")
    h, w = y.shape[-2:]
    ky = torch.fft.fftfreq(h, dtype=torch.float64).view(h, 1)
    kx = torch.fft.rfftfreq(w, dtype=torch.float64).view(1, -1)
    phase = torch.exp(-2j * math.pi * (ky * dy + kx * dx))
    return torch.fft.irfft2(torch.fft.rfft2(y.detach().double()) * phase, s=(h, w)).real


def aliasing_error(f: Callable, x: torch.Tensor, dy: int, dx: int, *, stride: int = 2) -> float:
    """Equivariance error of a strided layer against the shift its output should follow, fractional or not.

    ``||f(g(x)) - g'(f(x))|| / ||f(x)||`` with circular shifts, where ``g``
    shifts the input by (dy, dx) and ``g'`` shifts the output by
    ``(dy / stride, dx / stride)`` with :func:`fractional_shift`. When the
    stride divides the shift this is :func:`equivariance_error`. When it
    does not, a layer whose output were the samples of a smooth
    (band-limited) map would still give zero; what remains is the detail the
    subsampling folded onto coarser patterns: *aliasing*.

    Parameters
    ----------
    f : torch.nn.Module or callable
        Maps (N, C, H, W) to (N, C', H / stride, W / stride).
    x : torch.Tensor
        (N, C, H, W) input batch.
    dy, dx : int
        Input shift in pixels.
    stride : int
        Total stride of ``f``, at least 1.

    Returns
    -------
    float
    """
    check_tensor("x", x, ndim=4)
    stride = check_int("stride", stride, low=1)
    y, y_shifted = _apply(f, x), _apply(f, shift(x, dy, dx, "circular"))
    check_tensor("f(x)", y, ndim=4)
    for axis, n_in, n_out in (("height", x.shape[2], y.shape[2]), ("width", x.shape[3], y.shape[3])):
        if n_out * stride != n_in:
            raise ValueError(f"stride must be f's downsampling factor, got stride={stride} but f maps "
                             f"{axis} {n_in} to {n_out}")
    return _relative(y_shifted, fractional_shift(y, dy / stride, dx / stride), "f(x)")


# --------------------------------------------------------------------------- zero padding at the border


def _axis_band(size: int, d: int, reach: int, bias: bool) -> torch.Tensor:
    """For one axis: the rows where a zero-padded conv and a zero-filled shift by d may fail to commute."""
    idx = torch.arange(size)
    if d == 0:
        return torch.zeros(size, dtype=torch.bool)
    if d < 0:  # the mirror image of a positive shift
        return _axis_band(size, -d, reach, bias).flip(0)
    # Leading edge: rows d - reach .. d - 1 read zeros the shift brought in next to
    # content; before them, both orders give f(0), which is 0 only without a bias.
    leading = (idx < d) & ((idx >= d - reach) | bias)
    # Trailing edge: the last reach rows read, in f-then-g, content the shift pushed out.
    trailing = idx >= size - reach
    return leading | trailing


def _silent(size: int, d: int, reach: int) -> torch.Tensor:
    """Rows (for one axis) where, without a bias, both orders read only zeros."""
    if d < 0:
        return _silent(size, -d, reach).flip(0)
    return torch.arange(size) < d - reach


def zero_padding_discrepancy(height: int, width: int, kernel_size: int, dy: int, dx: int, *,
                             bias: bool = False) -> torch.Tensor:
    """Where a stride-1, zero-padded convolution may fail to commute with a zero-filled shift.

    For a ``kernel_size`` k (odd) with padding ``r = k // 2`` (its reach) and a
    shift by ``d > 0`` along an axis, the two orders can differ only in the
    rows ``d - r`` to ``d - 1`` (the brought-in zero rows within the kernel's
    reach of the content) and the last ``r`` rows (which, in ``f`` then ``g``,
    saw content the shift pushed out); a negative shift mirrors this. A pixel can differ only if its row or
    its column is affected. Farther inside the brought-in zeros both orders
    give the layer's output for a blank input: zero without a bias, so those
    pixels agree; the bias itself where ``f`` runs second and zero where the
    shift does, so with a bias every brought-in row and column differs.

    Parameters
    ----------
    height, width : int
        Image size, 1 to :data:`widgets._checks.MAX_SIDE`.
    kernel_size : int
        Odd kernel size, 1 to ``2 * min(height, width) - 1``.
    dy, dx : int
        Shift, ``|dy| < height``, ``|dx| < width``.
    bias : bool
        Whether the convolution adds a (non-zero) bias.

    Returns
    -------
    torch.Tensor
        Boolean (height, width): True where ``f(g(x))`` and ``g(f(x))`` can
        differ; for generic images and weights they differ at every True pixel.
    """
    height = check_int("height", height, low=1, high=MAX_SIDE)
    width = check_int("width", width, low=1, high=MAX_SIDE)
    kernel_size = check_int("kernel_size", kernel_size, low=1, high=2 * min(height, width) - 1)
    if kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd (padding kernel_size // 2 keeps the size), got {kernel_size}")
    dy = check_int("dy", dy, low=-(height - 1), high=height - 1)
    dx = check_int("dx", dx, low=-(width - 1), high=width - 1)
    if not isinstance(bias, bool):
        raise ValueError(f"bias must be True or False, got {bias!r}")
    reach = kernel_size // 2
    band = _axis_band(height, dy, reach, bias)[:, None] | _axis_band(width, dx, reach, bias)[None, :]
    if bias:
        return band
    silent = _silent(height, dy, reach)[:, None] | _silent(width, dx, reach)[None, :]
    return band & ~silent


def border_margin(kernel_size: int, dy: int, dx: int, *, bias: bool = False) -> int:
    """The narrowest border to crop so that a zero-padded convolution commutes with a zero-filled shift.

    For a stride-1 convolution with an odd ``kernel_size`` k and padding
    ``r = k // 2``, the two orders differ only within ``max(|d|, r)`` pixels
    of the border along each axis with a non-zero shift ``d``
    (:func:`zero_padding_discrepancy`), and generically right up to that
    width. Without a bias a 1 x 1 kernel (``r = 0``) commutes exactly; with
    one, the ``|d|`` brought-in rows differ.

    Parameters
    ----------
    kernel_size : int
        Odd kernel size, 1 to :data:`widgets._checks.MAX_SIDE`.
    dy, dx : int
        Shift in pixels, at most :data:`widgets._checks.MAX_SIDE` either way.
    bias : bool
        Whether the convolution adds a (non-zero) bias.

    Returns
    -------
    int
        ``max(max(|dy|, r) if dy else 0, max(|dx|, r) if dx else 0)``, except
        0 for ``r = 0`` without a bias and ``max(|dy|, |dx|)`` for ``r = 0`` with one.
    """
    kernel_size = check_int("kernel_size", kernel_size, low=1, high=MAX_SIDE)
    if kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd (padding kernel_size // 2 keeps the size), got {kernel_size}")
    dy = check_int("dy", dy, low=-MAX_SIDE, high=MAX_SIDE)
    dx = check_int("dx", dx, low=-MAX_SIDE, high=MAX_SIDE)
    if not isinstance(bias, bool):
        raise ValueError(f"bias must be True or False, got {bias!r}")
    reach = kernel_size // 2
    if reach == 0 and not bias:
        return 0
    return max(max(abs(d), reach) if d else 0 for d in (dy, dx))


# --------------------------------------------------------------------------- detectors and transforms


#: A detector of the corner where a stroke going right meets one going down: +2 on
#: the pattern (centre, right, below), -1 elsewhere, so it sums to zero.
CORNER_KERNEL = [[-1.0, -1.0, -1.0],
                 [-1.0, 2.0, 2.0],
                 [-1.0, 2.0, -1.0]]


def corner_image(size: int = 32, corner: tuple[int, int] = (10, 20), arm: int = 6) -> torch.Tensor:
    """A blank image with one corner: a stroke going right and one going down from ``corner``.

    Parameters
    ----------
    size : int
        Height and width, 8 to 256.
    corner : tuple of int
        (row, col) where the strokes meet; both arms must fit in the image.
    arm : int
        Length of each stroke in pixels, corner included, 2 to ``size``.

    Returns
    -------
    torch.Tensor
        (1, 1, size, size) float32: ones on the strokes, zeros elsewhere.
    """
    size = check_int("size", size, low=8, high=256)
    arm = check_int("arm", arm, low=2, high=size)
    if not (isinstance(corner, Sequence) and len(corner) == 2):
        raise ValueError(f"corner must be a (row, col) pair, got {corner!r}")
    row = check_int("corner row", corner[0], low=0, high=size - arm)
    col = check_int("corner col", corner[1], low=0, high=size - arm)
    x = torch.zeros(1, 1, size, size)
    x[0, 0, row, col:col + arm] = 1.0
    x[0, 0, row:row + arm, col] = 1.0
    return x


def corner_detector() -> nn.Conv2d:
    """A ``Conv2d(1, 1, 3, padding=1)`` whose kernel is :data:`CORNER_KERNEL` (no bias, not trainable).

    On :func:`corner_image` its response peaks, at 6, exactly on the corner
    pixel; along the strokes it is at most 3.
    """
    conv = nn.Conv2d(1, 1, kernel_size=3, padding=1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor(CORNER_KERNEL).view(1, 1, 3, 3))
    return conv.requires_grad_(False)


def peak(y: torch.Tensor) -> tuple[int, int]:
    """(row, col) of the largest value of a single map (the first one, in reading order, on ties).

    Parameters
    ----------
    y : torch.Tensor
        (1, 1, H, W) or (H, W) map.
    """
    check_tensor("y", y, ndim=(2, 4))
    if y.ndim == 4 and y.shape[:2] != (1, 1):
        raise ValueError(f"y must hold a single map, got shape {tuple(y.shape)}")
    y = y.reshape(y.shape[-2:])
    index = int(torch.argmax(y))
    return divmod(index, y.shape[1])


def random_conv(in_channels: int, out_channels: int, kernel_size: int = 3, *, seed: int,
                padding_mode: str = "zeros", bias: bool = False) -> nn.Conv2d:
    """A stride-1 ``Conv2d`` with padding ``kernel_size // 2`` and random weights drawn from ``seed``.

    The weights are normal with variance ``2 / fan_in`` (He et al.'s
    initialisation); a bias, if any, is normal with standard deviation 0.1.
    PyTorch's global random generator is neither used nor changed. The layer
    is not trainable.

    Parameters
    ----------
    in_channels, out_channels : int
        1 to 256.
    kernel_size : int
        Odd, 1 to 15.
    seed : int
        Seed of the weights.
    padding_mode : {"circular", "zeros"}
        How the layer pads the border.
    bias : bool
        Whether the layer adds a bias.
    """
    in_channels = check_int("in_channels", in_channels, low=1, high=256)
    out_channels = check_int("out_channels", out_channels, low=1, high=256)
    kernel_size = check_int("kernel_size", kernel_size, low=1, high=15)
    if kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd (padding kernel_size // 2 keeps the size), got {kernel_size}")
    seed = check_int("seed", seed, low=0, high=2**63 - 1)
    check_choice("padding_mode", padding_mode, SHIFT_MODES)
    if not isinstance(bias, bool):
        raise ValueError(f"bias must be True or False, got {bias!r}")
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2,
                         padding_mode=padding_mode, bias=bias)
    fan_in = in_channels * kernel_size * kernel_size
    with torch.no_grad():
        conv.weight.copy_(torch.randn(conv.weight.shape, generator=generator) * math.sqrt(2.0 / fan_in))
        if bias:
            conv.bias.copy_(0.1 * torch.randn(out_channels, generator=generator))
    return conv.requires_grad_(False)


def edge_conv(padding_mode: str = "circular", stride: int = 1) -> nn.Conv2d:
    """The vertical-edge filter of chapter 1 as a ``Conv2d(1, 1, 3, padding=1)`` (no bias, not trainable).

    Parameters
    ----------
    padding_mode : {"circular", "zeros"}
        How the layer pads the border.
    stride : int
        1 or 2.
    """
    check_choice("padding_mode", padding_mode, SHIFT_MODES)
    stride = check_int("stride", stride, low=1, high=2)
    conv = nn.Conv2d(1, 1, kernel_size=3, padding=1, padding_mode=padding_mode, stride=stride, bias=False)
    with torch.no_grad():
        conv.weight.copy_(hand_filter("vertical edges").view(1, 1, 3, 3))
    return conv.requires_grad_(False)


def rotate90(x: torch.Tensor, turns: int = 1) -> torch.Tensor:
    """Rotate a batch of images by ``turns`` quarter turns counter-clockwise.

    Parameters
    ----------
    x : torch.Tensor
        (N, C, H, W) batch.
    turns : int
        0 to 3.
    """
    check_tensor("x", x, ndim=4)
    turns = check_int("turns", turns, low=0, high=3)
    return torch.rot90(x, k=turns, dims=(2, 3))


def upscale(x: torch.Tensor, factor: int = 2) -> torch.Tensor:
    """Enlarge a batch of images by repeating each pixel ``factor`` times along both axes.

    Parameters
    ----------
    x : torch.Tensor
        (N, C, H, W) batch.
    factor : int
        1 to 8.
    """
    check_tensor("x", x, ndim=4)
    factor = check_int("factor", factor, low=1, high=8)
    return x.repeat_interleave(factor, dim=2).repeat_interleave(factor, dim=3)


def transform_error(f: Callable, x: torch.Tensor, transform: Callable) -> float:
    """Relative error ``||f(T(x)) - T(f(x))|| / ||T(f(x))||`` for a transform ``T`` of images.

    Zero means ``f`` commutes with ``T`` (is equivariant to it). The norm of
    ``T(f(x))`` rather than of ``f(x)`` keeps the measure independent of how
    ``T`` changes the image size; for a shift or a rotation the two norms agree.

    Parameters
    ----------
    f : torch.nn.Module or callable
        Maps an (N, C, H, W) batch to a batch of the same height and width.
    x : torch.Tensor
        (N, C, H, W) input batch.
    transform : callable
        Maps an image batch to an image batch (e.g. :func:`rotate90`, :func:`upscale`).

    Returns
    -------
    float
    """
    check_tensor("x", x, ndim=4)
    if not callable(transform):
        raise ValueError(f"transform must be callable, got {type(transform).__name__}")
    a = _apply(f, transform(x))
    b = transform(_apply(f, x))
    if a.shape != b.shape:
        raise ValueError(f"f must keep the image size so both orders have one shape, got "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    return _relative(a, b, "T(f(x))")


def rotated_copies(conv: nn.Conv2d) -> nn.Conv2d:
    """A group convolution's first layer: each kernel of ``conv`` in its four quarter turns.

    Output channel ``4 * i + t`` holds kernel ``i`` rotated by ``t`` quarter
    turns counter-clockwise (:func:`rotate90`). Rotating the input by a
    quarter turn then rotates every output map *and* moves each channel
    ``4 * i + t`` to ``4 * i + t + 1`` (mod 4 within its group): the rotation
    acts on the positions and on the channels (Cohen and Welling, 2016). The
    copy has ``conv``'s padding, padding mode and stride, no bias, and is not
    trainable.

    Parameters
    ----------
    conv : torch.nn.Conv2d
        A layer with a square kernel and ``groups=1``.
    """
    if not isinstance(conv, nn.Conv2d):
        raise ValueError(f"conv must be a torch.nn.Conv2d, got {type(conv).__name__}")
    if conv.kernel_size[0] != conv.kernel_size[1] or conv.groups != 1:
        raise ValueError(f"conv must have a square kernel and groups=1, got kernel_size={conv.kernel_size} "
                         f"and groups={conv.groups}")
    w = conv.weight.detach()
    turned = torch.stack([torch.rot90(w, t, dims=(2, 3)) for t in range(4)], dim=1)  # (out, 4, in, k, k)
    with torch.random.fork_rng(devices=[]):
        copy = nn.Conv2d(conv.in_channels, 4 * conv.out_channels, conv.kernel_size, stride=conv.stride,
                         padding=conv.padding, padding_mode=conv.padding_mode, bias=False)
    with torch.no_grad():
        copy.weight.copy_(turned.reshape(copy.weight.shape))
    return copy.requires_grad_(False)


def padded_stack(padding: int, *, seed: int, layers: int = 3, channels: int = 8) -> nn.Sequential:
    """``layers`` random 3 x 3 convolution-ReLUs with zero padding ``padding``, no bias, stride 1.

    ``padding=0`` is *valid* convolution (each layer loses two pixels per
    axis), 1 is *same* (the size is kept) and 2 is *full* (every kernel
    position that overlaps the input at all is computed; each layer grows
    the map by two pixels). The weights are those of :func:`random_conv`
    with seeds ``seed * 100 + i``, whatever the padding.

    Parameters
    ----------
    padding : int
        0, 1 or 2.
    seed : int
        Seed of the weights.
    layers : int
        1 to 8.
    channels : int
        Output channels of every layer, 1 to 64; the first reads one channel.
    """
    padding = check_int("padding", padding, low=0, high=2)
    seed = check_int("seed", seed, low=0, high=2**56)
    layers = check_int("layers", layers, low=1, high=8)
    channels = check_int("channels", channels, low=1, high=64)
    modules = []
    for i in range(layers):
        conv = random_conv(1 if i == 0 else channels, channels, seed=seed * 100 + i)
        conv.padding = (padding, padding)
        modules += [conv, nn.ReLU()]
    return nn.Sequential(*modules)


# --------------------------------------------------------------------------- pooling


def binomial_taps(taps: int = 3) -> torch.Tensor:
    """The 1-D binomial filter with ``taps`` entries, summing to 1: ``[1, 1] / 2``, ``[1, 2, 1] / 4``, ...

    Zhang (2019) compared blur filters of 2 to 7 taps; 2 taps is the box
    filter of average pooling.

    Parameters
    ----------
    taps : int
        Length, 1 to 7.
    """
    taps = check_int("taps", taps, low=1, high=7)
    row = torch.tensor([float(math.comb(taps - 1, i)) for i in range(taps)])
    return row / row.sum()


def blur_kernel(taps: int = 3) -> torch.Tensor:
    """The (taps, taps) binomial blur, the outer product of :func:`binomial_taps` with itself.

    ``blur_kernel()`` is ``[1, 2, 1]^T [1, 2, 1] / 16``; ``blur_kernel(2)`` is
    the 2 x 2 box of average pooling. Every such kernel sums to 1.
    """
    row = binomial_taps(taps)
    return torch.outer(row, row)


class BlurPool(nn.Module):
    """Blur each channel with :func:`blur_kernel`, then keep every second pixel.

    The anti-aliased downsampling of Zhang (2019): low-pass filtering before
    subsampling, so that what a stride discards is mostly high frequencies.
    With ``taps=2`` (the box filter [1, 1]) it is exactly 2 x 2 average
    pooling on maps of even size.

    Parameters
    ----------
    channels : int
        Number of channels (each is blurred separately), 1 to :data:`widgets._checks.MAX_COUNT`.
    padding_mode : {"circular", "zeros"}
        How the blur pads the border: ``(taps - 1) // 2`` pixels before and
        ``taps // 2`` after, along each axis.
    taps : int
        Length of the binomial filter, 1 to 7 (3 gives ``[1, 2, 1] / 4``).
    """

    def __init__(self, channels: int, padding_mode: str = "circular", taps: int = 3):
        super().__init__()
        self.channels = check_int("channels", channels, low=1, high=MAX_COUNT)
        self.padding_mode = check_choice("padding_mode", padding_mode, SHIFT_MODES)
        self.taps = check_int("taps", taps, low=1, high=7)
        self.register_buffer("kernel", blur_kernel(self.taps).expand(self.channels, 1, taps, taps).clone())

    def forward(self, x):
        """Apply the module to a batch of shape (N, channels, H, W) (circular padding: H, W >= taps // 2)."""
        before, after = (self.taps - 1) // 2, self.taps // 2
        _check_maps(x, self.channels, max(1, after) if self.padding_mode == "circular" else 1)
        pad = "circular" if self.padding_mode == "circular" else "constant"
        x = F.pad(x, (before, after, before, after), mode=pad)
        return F.conv2d(x, self.kernel.to(x.dtype), stride=2, groups=self.channels)


class MaxBlurPool(nn.Module):
    """Zhang's (2019) "max-blur-pool": a 2 x 2 max with stride 1, then :class:`BlurPool`.

    The max keeps max pooling's choice of the strongest response; the
    subsampling is moved after a blur.

    Parameters
    ----------
    channels : int
        Number of channels.
    padding_mode : {"circular", "zeros"}
        ``"circular"`` wraps the max's window around the border so the size is
        kept before the blur; ``"zeros"`` takes the max over the windows that fit
        (one pixel fewer) and blurs with zero padding.
    taps : int
        Length of the binomial blur, as for :class:`BlurPool`.
    """

    def __init__(self, channels: int, padding_mode: str = "circular", taps: int = 3):
        super().__init__()
        self.padding_mode = check_choice("padding_mode", padding_mode, SHIFT_MODES)
        self.blur = BlurPool(channels, padding_mode, taps)

    def forward(self, x):
        """Apply the module to a batch of shape (N, channels, H, W) (zero padding: H, W >= 2)."""
        _check_maps(x, self.blur.channels, max(1, self.blur.taps // 2) if self.padding_mode == "circular" else 2)
        if self.padding_mode == "circular":
            x = F.pad(x, (0, 1, 0, 1), mode="circular")
        return self.blur(F.max_pool2d(x, kernel_size=2, stride=1))


class GlobalAveragePool(nn.Module):
    """The mean of each channel over all positions: (N, C, H, W) to (N, C)."""

    def forward(self, x):
        """Apply the module to a batch of shape (N, C, H, W)."""
        check_tensor("x", x, ndim=4)
        return x.mean(dim=(2, 3))


def pooling(kind: str, channels: int, padding_mode: str = "circular", taps: int = 3) -> nn.Module:
    """A downsampling layer by name.

    Parameters
    ----------
    kind : str
        One of :data:`POOLINGS`: ``"none"`` (identity), ``"subsample"``
        (keep every second row and column, with no filtering), ``"max"`` and
        ``"average"`` (2 x 2 windows, stride 2), ``"blur"`` (:class:`BlurPool`),
        ``"max-blur"`` (:class:`MaxBlurPool`), ``"global average"``
        (:class:`GlobalAveragePool`).
    channels : int
        Number of channels, 1 to :data:`widgets._checks.MAX_COUNT` (used by the blurring kinds).
    padding_mode : {"circular", "zeros"}
        Border handling of the blurring kinds.
    taps : int
        Length of the binomial blur of the blurring kinds (:class:`BlurPool`).
    """
    check_choice("kind", kind, POOLINGS)
    taps = check_int("taps", taps, low=1, high=7)
    channels = check_int("channels", channels, low=1, high=MAX_COUNT)
    check_choice("padding_mode", padding_mode, SHIFT_MODES)
    return {
        "none": lambda: nn.Identity(),
        "subsample": lambda: nn.MaxPool2d(kernel_size=1, stride=2),
        "max": lambda: nn.MaxPool2d(2),
        "average": lambda: nn.AvgPool2d(2),
        "blur": lambda: BlurPool(channels, padding_mode, taps),
        "max-blur": lambda: MaxBlurPool(channels, padding_mode, taps),
        "global average": lambda: GlobalAveragePool(),
    }[kind]()


def edge_features(padding_mode: str = "circular") -> nn.Sequential:
    """Four hand-set edge detectors (chapter 1's ``HAND_FILTERS``) followed by a ReLU (not trainable).

    ``Conv2d(1, 4, 3, padding=1)`` with the vertical, horizontal and two
    diagonal edge kernels, no bias; stride 1, so it is equivariant to
    circular shifts when ``padding_mode`` is ``"circular"``.
    """
    check_choice("padding_mode", padding_mode, SHIFT_MODES)
    names = ["vertical edges", "horizontal edges", "diagonal edges ↘", "diagonal edges ↗"]
    conv = nn.Conv2d(1, 4, kernel_size=3, padding=1, padding_mode=padding_mode, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.stack([hand_filter(n) for n in names]).unsqueeze(1))
    return nn.Sequential(conv, nn.ReLU()).requires_grad_(False)


def tiles(image: torch.Tensor, size: int) -> torch.Tensor:
    """Cut a (C, H, W) image into non-overlapping ``size`` x ``size`` tiles, in reading order.

    Returns
    -------
    torch.Tensor
        (n_tiles, C, size, size).
    """
    check_tensor("image", image, ndim=3)
    size = check_int("size", size, low=1, high=min(image.shape[1:]))
    c, h, w = image.shape
    t = image[:, :h - h % size, :w - w % size].unfold(1, size, size).unfold(2, size, size)
    return t.permute(1, 2, 0, 3, 4).reshape(-1, c, size, size).contiguous()


# --------------------------------------------------------------------------- stages, depth and the border


def pooling_stack(stages: int, *, seed: int, channels: int = 16, pool: str = "max",
                  padding_mode: str = "circular") -> nn.Sequential:
    """A convolution-ReLU, then ``stages`` times (downsample, convolution-ReLU), with random weights.

    Every convolution is a 3 x 3 :func:`random_conv` with ``channels``
    outputs and no bias; the first reads one channel. The stack is *nested*:
    :func:`first_stages` cuts it after any number of stages, so the shallower
    networks are the first layers of the deeper one, with the same weights.

    Parameters
    ----------
    stages : int
        Number of downsampling stages, 0 to 6.
    seed : int
        Seed of the weights (convolution ``i`` uses ``seed * 100 + i``).
    channels : int
        Channels of every convolution, 1 to 64.
    pool : str
        A kind of :func:`pooling`: a stride-2 one (``"max"``,
        ``"average"``, ``"subsample"``, ``"blur"``, ``"max-blur"``), or
        ``"none"`` for a stack of stride-1 convolutions with the same weights.
    padding_mode : {"circular", "zeros"}
        Border handling of the convolutions and the blurring pools.
    """
    stages = check_int("stages", stages, low=0, high=6)
    seed = check_int("seed", seed, low=0, high=2**56)
    channels = check_int("channels", channels, low=1, high=64)
    check_choice("pool", pool, ("none", "max", "average", "subsample", "blur", "max-blur"))
    check_choice("padding_mode", padding_mode, SHIFT_MODES)
    layers = [random_conv(1, channels, seed=seed * 100, padding_mode=padding_mode), nn.ReLU()]
    for i in range(1, stages + 1):
        layers += [pooling(pool, channels, padding_mode),
                   random_conv(channels, channels, seed=seed * 100 + i, padding_mode=padding_mode),
                   nn.ReLU()]
    return nn.Sequential(*layers)


def first_stages(stack: nn.Sequential, stages: int) -> nn.Sequential:
    """The first ``stages`` stages of a :func:`pooling_stack` (its first convolution-ReLU included).

    Parameters
    ----------
    stack : torch.nn.Sequential
        Made by :func:`pooling_stack`.
    stages : int
        0 to the number of stages the stack has.
    """
    if not isinstance(stack, nn.Sequential) or len(stack) % 3 != 2:
        raise ValueError(f"stack must be made by pooling_stack, got {type(stack).__name__} "
                         f"of {len(stack) if isinstance(stack, nn.Sequential) else '?'} modules")
    stages = check_int("stages", stages, low=0, high=(len(stack) - 2) // 3)
    return stack[:2 + 3 * stages]


def conv_multiply_adds(model: nn.Module, x: torch.Tensor) -> list[int]:
    """Multiply-adds of each ``Conv2d`` of ``model`` for one image of ``x``'s size, in the order they run.

    Each output value of a convolution costs one multiply-add per weight it
    reads: ``in_channels / groups * kernel_height * kernel_width``. The
    sizes are those of an actual forward pass of ``x[:1]``.

    Parameters
    ----------
    model : torch.nn.Module
        Containing at least one ``Conv2d``.
    x : torch.Tensor
        (N, C, H, W) input; only its first image is used.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch module, got {type(model).__name__}")
    check_tensor("x", x, ndim=4)
    counts, hooks = [], []

    def count(conv, _inputs, output):
        per_output = conv.in_channels // conv.groups * conv.kernel_size[0] * conv.kernel_size[1]
        counts.append(int(output[0].numel()) * per_output)

    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            hooks.append(module.register_forward_hook(count))
    if not hooks:
        raise ValueError("model must contain at least one Conv2d, got none")
    try:
        _apply(model, x[:1])
    finally:
        for hook in hooks:
            hook.remove()
    return counts


def border_distance(height: int, width: int) -> torch.Tensor:
    """(height, width) int64 map: each pixel's distance, in pixels, to the nearest border row or column.

    The pixels of the outer rim are at distance 0. Both sides are 1 to :data:`widgets._checks.MAX_SIDE`.
    """
    height = check_int("height", height, low=1, high=MAX_SIDE)
    width = check_int("width", width, low=1, high=MAX_SIDE)
    rows = torch.arange(height)
    cols = torch.arange(width)
    dr = torch.minimum(rows, height - 1 - rows)[:, None]
    dc = torch.minimum(cols, width - 1 - cols)[None, :]
    return torch.minimum(dr, dc)


def border_profile(y: torch.Tensor) -> list[float]:
    """How far each position's feature vector is from the centre's, by distance to the border.

    For a map computed from a constant image, every position would carry
    the same vector if the layers could not tell where they are. Entry ``d``
    is the mean, over the positions at distance ``d`` from the border
    (:func:`border_distance`), of ``||y[:, p] - y[:, c]|| / ||y[:, c]||``,
    with ``c`` the centre position ``(H // 2, W // 2)``.

    Parameters
    ----------
    y : torch.Tensor
        (1, C, H, W) single map, with a non-zero vector at the centre.

    Returns
    -------
    list of float
        One value per distance, 0 to ``(min(H, W) - 1) // 2``.
    """
    check_tensor("y", y, ndim=4)
    if y.shape[0] != 1:
        raise ValueError(f"y must hold one map, got a batch of {y.shape[0]}")
    y = y[0].detach().double()
    h, w = y.shape[-2:]
    centre = y[:, h // 2, w // 2]
    scale = float(torch.linalg.vector_norm(centre))
    if scale == 0.0:
        raise ValueError("y must have a non-zero feature vector at its centre, got all zeros")
    deviation = torch.linalg.vector_norm(y - centre[:, None, None], dim=0) / scale
    distance = border_distance(h, w)
    return [float(deviation[distance == d].mean()) for d in range((min(h, w) - 1) // 2 + 1)]


def distinct_positions(y: torch.Tensor) -> int:
    """The number of different feature vectors in a single map: how many positions the map can tell apart.

    Vectors count as equal only when every value is bit for bit equal.

    Parameters
    ----------
    y : torch.Tensor
        (1, C, H, W) single map.
    """
    check_tensor("y", y, ndim=4)
    if y.shape[0] != 1:
        raise ValueError(f"y must hold one map, got a batch of {y.shape[0]}")
    vectors = y[0].detach().flatten(1).T
    return int(torch.unique(vectors, dim=0).shape[0])


# --------------------------------------------------------------------------- a small network, trained


class SmallCNN(nn.Module):
    """Two convolution-ReLU-downsample stages, a global average and a linear classifier.

    ``Conv2d(1, c1, 3, padding=1)``, ReLU, downsample, ``Conv2d(c1, c2, 3,
    padding=1)``, ReLU, downsample, ``Conv2d(c2, c2, 3, padding=1)``, ReLU,
    mean over positions, ``Linear(c2, n_classes)``. Zero padding throughout,
    and the convolutions have no bias: a blank region of the input then gives
    exactly zero in every feature map, the same value as the padding, so the
    canvas border affects the output only where a map's content reaches it.
    The total stride is 4.

    Parameters
    ----------
    downsample : {"max", "max-blur"}
        2 x 2 max pooling with stride 2, or its anti-aliased version
        (:class:`MaxBlurPool`).
    channels : tuple of int
        (c1, c2), each 1 to 64.
    n_classes : int
        Outputs of the classifier, 2 to 100.
    """

    def __init__(self, downsample: str = "max", channels: tuple[int, int] = (8, 16), n_classes: int = 10):
        super().__init__()
        self.downsample = check_choice("downsample", downsample, ("max", "max-blur"))
        if not (isinstance(channels, Sequence) and len(channels) == 2):
            raise ValueError(f"channels must be a pair (c1, c2), got {channels!r}")
        c1 = check_int("channels[0]", channels[0], low=1, high=64)
        c2 = check_int("channels[1]", channels[1], low=1, high=64)
        n_classes = check_int("n_classes", n_classes, low=2, high=100)
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1, bias=False), nn.ReLU(), pooling(downsample, c1, "zeros"),
            nn.Conv2d(c1, c2, 3, padding=1, bias=False), nn.ReLU(), pooling(downsample, c2, "zeros"),
            nn.Conv2d(c2, c2, 3, padding=1, bias=False), nn.ReLU(),
            GlobalAveragePool(),
        )
        self.classifier = nn.Linear(c2, n_classes)
        for layer in self.features:
            if isinstance(layer, nn.Conv2d):
                nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")

    def forward(self, x):
        """Apply the module to a batch of shape (N, 1, H, W), H and W at least 4 (two stages of stride 2)."""
        _check_maps(x, 1, 4)
        return self.classifier(self.features(x))


def build_and_train(downsample: str, images: torch.Tensor, labels: torch.Tensor, *, seed: int,
                    channels: tuple[int, int] = (8, 16), **train_options) -> tuple[SmallCNN, training.Run]:
    """A :class:`SmallCNN` initialised from ``seed`` and trained by :func:`widgets.compute.training.train`.

    The initial weights are drawn inside :func:`torch.random.fork_rng`, so the
    global random state is left as it was.

    Parameters
    ----------
    downsample : {"max", "max-blur"}
        The network's downsampling layers.
    images, labels : torch.Tensor
        Training data: (N, 1, H, W) images and (N,) int64 classes.
    seed : int
        Seed of the initial weights and of the training.
    channels : tuple of int
        The network's channels, as for :class:`SmallCNN`.
    **train_options
        Passed to :func:`widgets.compute.training.train` (``max_epochs``,
        ``batch_size``, ``lr``, ``tol``, ``patience``, ``max_shift``).

    Returns
    -------
    (SmallCNN, Run)
        The trained network and what its training did.
    """
    seed = check_int("seed", seed, low=0, high=2**63 - 1)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = SmallCNN(downsample, channels)
    run = training.train(model, images, labels, seed=seed, **train_options)
    return model, run


def consistency(model: nn.Module, images: torch.Tensor, max_shift: int, *, seed: int) -> float:
    """Zhang's (2019) consistency: how often two random shifts of an image get the same class.

    Each image is shifted twice, independently, by (dy, dx) drawn uniformly
    from ``-max_shift .. max_shift`` (zero-filled,
    :func:`widgets.compute.data.random_shifts`); the
    result is the fraction of images whose two versions are given the same
    class. The true label plays no part.

    Parameters
    ----------
    model : torch.nn.Module
        A classifier.
    images : torch.Tensor
        (N, C, H, W) test images.
    max_shift : int
        Largest shift on each axis.
    seed : int
        Seed of the shifts.
    """
    check_tensor("images", images, ndim=4)
    seed = check_int("seed", seed, low=0, high=2**63 - 1)
    generator = torch.Generator().manual_seed(seed)
    first = data.random_shifts(images, max_shift, generator)
    second = data.random_shifts(images, max_shift, generator)
    try:
        a, b = training.predict(model, first), training.predict(model, second)
    except RuntimeError as err:  # e.g. images with more channels than the model reads
        raise ValueError(f"model must accept images of shape {tuple(images.shape)}, got model raising: {err}") \
            from err
    return float((a == b).double().mean())


def same_prediction(model: nn.Module, images: torch.Tensor, shifts: Sequence[tuple[int, int]]) -> tuple[float, float]:
    """How often every shift in ``shifts`` leaves a classifier's answer unchanged, and its largest logit change.

    Parameters
    ----------
    model : torch.nn.Module
        A classifier of (N, C, H, W) images.
    images : torch.Tensor
        (N, C, H, W) images; each is compared with its zero-filled shifts.
    shifts : sequence of (int, int)
        The (dy, dx) shifts to try, at least one.

    Returns
    -------
    (float, float)
        The fraction of images whose predicted class is the same for every
        shift as for the image itself, and the largest absolute change of any
        logit over all images and shifts.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    check_tensor("images", images, ndim=4)
    if isinstance(shifts, (str, bytes)) or not isinstance(shifts, Sequence) or not shifts:
        raise ValueError(f"shifts must be a non-empty sequence of (dy, dx) pairs, got {shifts!r}")
    for pair in shifts:
        if not (isinstance(pair, Sequence) and len(pair) == 2):
            raise ValueError(f"shifts must hold (dy, dx) pairs, got {pair!r}")
    with training.one_thread(), torch.no_grad():
        was_training = model.training
        model.eval()
        try:
            base = _apply(model, images, "model")
            same = torch.ones(len(images), dtype=torch.bool)
            change = 0.0
            for dy, dx in shifts:
                logits = _apply(model, shift(images, dy, dx, "zeros"), "model")
                same &= logits.argmax(dim=1) == base.argmax(dim=1)
                change = max(change, float((logits - base).abs().max()))
        finally:
            model.train(was_training)
    return float(same.double().mean()), change


# --------------------------------------------------------------------------- the converse (chapter 5)


def shift_averaged_map(side: int, *, seed: int) -> nn.Module:
    """A dense random linear map on ``side`` x ``side`` images, averaged over every circular shift.

    A random matrix ``A`` (``side**2`` x ``side**2``, float64, seeded) becomes
    ``f(x) = mean_p g_p^{-1}(A g_p(x))`` over all ``side**2`` circular shifts
    ``g_p``: linear, and it commutes with every circular shift, but it is
    written as one dense matrix, not as a convolution.

    Parameters
    ----------
    side : int
        Image side, in [1, 32].
    seed : int
        Seed of the random matrix, >= 0.

    Returns
    -------
    torch.nn.Module
        Maps (N, 1, side, side) float64 images to (N, 1, side, side).
    """
    side = check_int("side", side, low=1, high=32)
    seed = check_int("seed", seed, low=0)
    n = side * side
    a = torch.randn(n, n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    # Averaging g_p^{-1} A g_p over all p moves output and input indices together, so entry (i, j)
    # of the average is the mean of A over every pair with the same circular offset i - j.
    rows, cols = torch.arange(n) // side, torch.arange(n) % side
    offset = ((rows[:, None] - rows[None, :]) % side) * side + (cols[:, None] - cols[None, :]) % side
    means = torch.zeros(n, dtype=torch.float64).scatter_add_(0, offset.flatten(), a.flatten()) / n
    linear = nn.Linear(n, n, bias=False).to(torch.float64)
    with torch.no_grad():
        linear.weight.copy_(means[offset])
    return nn.Sequential(nn.Flatten(1), linear, nn.Unflatten(1, (1, side, side)))


def conv_from_impulse_response(h: torch.Tensor, *, flip: bool = True) -> nn.Conv2d:
    """The circular ``Conv2d`` whose output is the circular convolution with ``h``.

    ``Conv2d`` computes a cross-correlation, so its weight is ``h`` centred and
    flipped, ``w[u] = h[-u]``; ``flip=False`` uses ``h`` unflipped instead
    (the wrong kernel, for comparison).

    Parameters
    ----------
    h : torch.Tensor
        An impulse response, (1, 1, n, n) with n odd (its entry (0, 0) is the
        response at the impulse's position).
    flip : bool
        Whether to flip the kernel (True gives the convolution with ``h``).

    Returns
    -------
    torch.nn.Conv2d
        One channel in and out, n x n kernel, circular padding n // 2, no bias.
    """
    check_tensor("h", h, ndim=4)
    n = h.shape[-1]
    if h.shape[:2] != (1, 1) or h.shape[-2] != n or n % 2 == 0:
        raise ValueError(f"h must have shape (1, 1, n, n) with n odd, got {tuple(h.shape)}")
    if not isinstance(flip, bool):
        raise ValueError(f"flip must be a bool, got {flip!r}")
    c = n // 2
    weight = h.detach().roll((c, c), dims=(2, 3))  # entry (0, 0) to the centre
    if flip:
        weight = weight.flip(-2, -1)
    conv = nn.Conv2d(1, 1, n, padding=c, padding_mode="circular", bias=False).to(h.dtype)
    with torch.no_grad():
        conv.weight.copy_(weight)
    return conv


def group_filters(psi: torch.Tensor, *, cycle: bool = True) -> torch.Tensor:
    """The weight of a later group-convolution layer: one filter on four orientation channels, in four turns.

    Output channel ``t`` holds ``psi`` rotated by ``t`` quarter turns
    (:func:`rotate90`) and, with ``cycle=True``, its input channels moved
    ``t`` places on, cyclically: the quarter turn of the input acts on the
    positions and on the orientation channels (:func:`rotated_copies`), and
    the filter has to follow both. ``cycle=False`` rotates the filter only.

    Parameters
    ----------
    psi : torch.Tensor
        One filter, (1, 4, k, k), on the four orientation channels.
    cycle : bool
        Whether to move the input channels with each quarter turn.

    Returns
    -------
    torch.Tensor
        A ``conv2d`` weight, (4, 4, k, k).
    """
    check_tensor("psi", psi, ndim=4)
    if psi.shape[:2] != (1, 4) or psi.shape[-1] != psi.shape[-2]:
        raise ValueError(f"psi must have shape (1, 4, k, k), got {tuple(psi.shape)}")
    if not isinstance(cycle, bool):
        raise ValueError(f"cycle must be a bool, got {cycle!r}")
    turns = [torch.rot90(psi, t, dims=(2, 3)) for t in range(4)]
    if cycle:
        turns = [w.roll(t, dims=1) for t, w in enumerate(turns)]
    return torch.cat(turns, dim=0)
