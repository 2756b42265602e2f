"""Argument checks shared by every layer.

Each raises ``ValueError`` naming the parameter, the value it got and what is allowed.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

#: The largest image side, signal length or padding, in pixels, that any function
#: accepts: far above the book's largest image (256 pixels on a side), far below a
#: size whose tensors would not fit in memory.
MAX_SIDE = 4096
#: The largest number of examples, channels or hidden units that any function builds.
MAX_COUNT = 100_000


#: The most values one tensor that a function builds may hold (1 GiB at float32, the
#: dense-matrix budget of :func:`widgets.compute.efficiency.time_methods`).
MAX_ELEMENTS = 2**28


def check_elements(name: str, shape) -> None:
    """Raise ``ValueError`` if a tensor of ``shape`` would hold more than :data:`MAX_ELEMENTS` values."""
    n = 1
    for d in shape:
        n *= int(d)
    if n > MAX_ELEMENTS:
        raise ValueError(f"{name} would hold {n:,} values (shape {tuple(shape)}), more than {MAX_ELEMENTS:,}; "
                         "choose smaller sizes")


def check_side(name: str, value, *, low: int = 1) -> int:
    """Return ``value`` as an int in [low, :data:`MAX_SIDE`], or raise ``ValueError``."""
    return check_int(name, value, low=low, high=MAX_SIDE)


def check_count(name: str, value, *, low: int = 1) -> int:
    """Return ``value`` as an int in [low, :data:`MAX_COUNT`], or raise ``ValueError``."""
    return check_int(name, value, low=low, high=MAX_COUNT)


def check_int(name: str, value, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int, or raise ``ValueError`` if it is not an integer in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be in {_range_text(low, high)}, got {value}")
    return value


def check_choice(name: str, value, allowed: Iterable):
    """Return ``value`` if it is one of ``allowed``, else raise ``ValueError``."""
    allowed = list(allowed)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def check_tensor(name: str, value, *, ndim: int | tuple[int, ...]):
    """Raise ``ValueError`` unless ``value`` is a floating torch tensor with ``ndim`` dimensions."""
    import torch

    dims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if not isinstance(value, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if value.ndim not in dims:
        shapes = " or ".join(f"{d}-D" for d in dims)
        raise ValueError(f"{name} must be {shapes}, got shape {tuple(value.shape)}")
    if not value.is_floating_point():
        raise ValueError(f"{name} must hold floating-point values, got dtype {value.dtype}")
    return value


def _range_text(low, high) -> str:
    if low is not None and high is not None:
        return f"[{low}, {high}]"
    if low is not None:
        return f"[{low}, ∞)"
    return f"(-∞, {high}]"


def check_number(name: str, value, *, low: float | None = None, high: float | None = None) -> float:
    """Return ``value`` as a float, or raise ``ValueError`` unless it is a finite real number in [low, high].

    Numbers of any kind count (Python, numpy, a one-value tensor); strings and booleans do not.
    """
    if isinstance(value, (str, bytes, bool)):
        raise ValueError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    try:
        number = float(value)
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"{name} must be a number, got {value!r:.80} ({type(value).__name__})") from None
    if not math.isfinite(number) or (low is not None and number < low) or (high is not None and number > high):
        raise ValueError(f"{name} must be a finite number in {_range_text(low, high)}, got {value!r}")
    return number


def check_instance(name: str, value, kinds, what: str):
    """Return ``value`` if it is an instance of ``kinds``, else raise ``ValueError`` saying it must be ``what``."""
    if not isinstance(value, kinds):
        raise ValueError(f"{name} must be {what}, got {type(value).__name__}")
    return value
