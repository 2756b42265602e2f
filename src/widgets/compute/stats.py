"""Comparing results over seeds: the one way the book states that A beats B.

Runs that share a seed share their data (the same training subset, the same
visiting order), so two networks are compared *in pairs*: for each seed the
difference ``a - b``, then the mean of those differences with a Student-t
confidence interval over the seeds (:func:`paired`). A chapter states a
comparison only through the :class:`Comparison`'s verdict:

- ``"ahead"``: the interval lies above zero;
- ``"behind"``: it lies below zero;
- ``"level"``: it contains zero and lies within ``±margin`` (the two are
  equal to within the margin the chapter chose);
- ``"unresolved"``: it contains zero but is wider than the margin, so the
  seeds cannot say.

Every interval spans the variation *between seeds* on one fixed test set;
:func:`sampling_error` gives the other source of error, the sampling of that
test set, for one accuracy.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from scipy import stats as _scipy_stats

from .._checks import check_choice, check_int

#: The verdicts of :func:`paired`, in the words a sentence can use.
VERDICTS = ("ahead", "behind", "level", "unresolved")


def _values(name: str, values) -> tuple[float, ...]:
    if isinstance(values, torch.Tensor):
        if values.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got shape {tuple(values.shape)}")
        values = values.tolist()
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise ValueError(f"{name} must be a sequence of numbers, one per seed, got {values!r:.80}")
    values = [v.item() if isinstance(v, torch.Tensor) and v.ndim == 0 else v for v in values]
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
            raise ValueError(f"{name} must hold finite numbers, got {v!r}")
    return tuple(float(v) for v in values)


def _fraction(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < 1:
        raise ValueError(f"{name} must be a number strictly between 0 and 1, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Interval:
    """The mean of values over seeds and its confidence interval.

    ``format(i, ".1%")`` gives ``"96.5% (95% CI 95.9% to 97.1%, 10 seeds)"``.

    Attributes
    ----------
    mean, low, high : float
        The mean and the interval's ends.
    confidence : float
        The interval's coverage, e.g. 0.95.
    values : tuple of float
        The values, one per seed.
    """

    mean: float
    low: float
    high: float
    confidence: float
    values: tuple

    @property
    def n(self) -> int:
        """How many values (seeds)."""
        return len(self.values)

    @property
    def half_width(self) -> float:
        """Half the interval's width: the ``x`` of "mean ± x"."""
        return (self.high - self.low) / 2

    def __format__(self, spec: str) -> str:
        """Mean and interval, each formatted with ``spec``, and what the interval spans."""
        return (f"{format(self.mean, spec)} ({self.confidence:.0%} CI {format(self.low, spec)} to "
                f"{format(self.high, spec)}, {self.n} seeds)")


def interval(values, confidence: float = 0.95) -> Interval:
    """Mean of ``values`` (one per seed) with a Student-t confidence interval.

    Parameters
    ----------
    values : sequence or 1-D tensor of float
        At least two finite numbers.
    confidence : float
        Coverage of the interval, strictly between 0 and 1.
    """
    values = _values("values", values)
    if len(values) < 2:
        raise ValueError(f"values must hold at least 2 numbers (one per seed) for an interval, got {len(values)}")
    confidence = _fraction("confidence", confidence)
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = float(_scipy_stats.t.ppf((1 + confidence) / 2, n - 1)) * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, confidence, values)


@dataclass(frozen=True)
class Comparison:
    """``a - b`` seed by seed, its mean with a confidence interval, and the verdict.

    ``format(c, ".1%")`` gives ``"+3.1% (95% CI +2.4% to +3.8%, 10 seeds; ahead in 10 of 10)"``.

    Attributes
    ----------
    difference : Interval
        The paired differences ``a - b`` and their interval.
    wins, losses : int
        Seeds with ``a > b`` and with ``a < b`` (ties count in neither).
    margin : float
        The half-width within which the chapter calls the two level.
    verdict : str
        One of :data:`VERDICTS` (see the module's docstring).
    """

    difference: Interval
    wins: int
    losses: int
    margin: float
    verdict: str

    @property
    def n(self) -> int:
        """Seeds compared."""
        return self.difference.n

    @property
    def mean(self) -> float:
        """Mean of the differences ``a - b``."""
        return self.difference.mean

    @property
    def low(self) -> float:
        """Lower end of the interval."""
        return self.difference.low

    @property
    def high(self) -> float:
        """Upper end of the interval."""
        return self.difference.high

    def __format__(self, spec: str) -> str:
        """The mean difference with its interval and wins, each number formatted with ``spec``."""
        signed = "+" + spec if spec and spec[0] not in "+- " else (spec or "+")
        d = self.difference
        return (f"{format(d.mean, signed)} ({d.confidence:.0%} CI {format(d.low, signed)} to "
                f"{format(d.high, signed)}, {d.n} seeds; ahead in {self.wins} of {d.n})")


def paired(a, b, *, margin: float = 0.01, confidence: float = 0.95) -> Comparison:
    """Compare ``a`` with ``b`` seed by seed: the mean of ``a - b``, its interval and a verdict.

    Parameters
    ----------
    a, b : sequence or 1-D tensor of float
        One value per seed, the same seeds in the same order (at least two).
    margin : float
        Half-width of the band around zero within which the two count as
        level (in the values' own units: 0.01 is one point of accuracy).
        Positive.
    confidence : float
        Coverage of the interval, strictly between 0 and 1.

    Returns
    -------
    Comparison
    """
    a, b = _values("a", a), _values("b", b)
    if len(a) != len(b):
        raise ValueError(f"b must have one value per seed of a ({len(a)}), got {len(b)}")
    if isinstance(margin, bool) or not isinstance(margin, numbers.Real) or not math.isfinite(margin) \
            or margin <= 0:
        raise ValueError(f"margin must be a positive finite number, got {margin!r}")
    diff = interval([x - y for x, y in zip(a, b)], confidence)
    if diff.low > 0:
        verdict = "ahead"
    elif diff.high < 0:
        verdict = "behind"
    elif -margin <= diff.low and diff.high <= margin:
        verdict = "level"
    else:
        verdict = "unresolved"
    wins = sum(x > y for x, y in zip(a, b))
    losses = sum(x < y for x, y in zip(a, b))
    return Comparison(diff, wins, losses, float(margin), verdict)


def phrase(comparison: Comparison, a: str, b: str, unit: str = "points", scale: float = 100.0,
           digits: int = 1) -> str:
    """The comparison as a clause a sentence can quote, chosen from its verdict.

    For example ``"the convolutional network is ahead of the dense one by 3.1
    points (95% CI 2.4 to 3.8, ahead with 10 of 10 seeds)"``.

    Parameters
    ----------
    comparison : Comparison
        From :func:`paired`.
    a, b : str
        What was compared, as the sentence names them.
    unit : str
        The unit of ``scale * difference``.
    scale : float
        Multiplies every number (100 turns accuracies into points).
    digits : int
        Decimal places, 0 to 4.
    """
    if not isinstance(comparison, Comparison):
        raise ValueError(f"comparison must be a Comparison (from paired), got {type(comparison).__name__}")
    for name, value in (("a", a), ("b", b), ("unit", unit)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be a positive finite number, got {scale!r}")
    digits = check_int("digits", digits, low=0, high=4)
    c, n = comparison, comparison.n

    def num(x):
        return f"{x * scale:.{digits}f}"

    ci = f"{c.difference.confidence:.0%} CI {num(c.low)} to {num(c.high)}"
    if c.verdict == "ahead":
        return f"{a} is ahead of {b} by {num(c.mean)} {unit} ({ci}; ahead with {c.wins} of {n} seeds)"
    if c.verdict == "behind":
        # Said the way round the sentence reads: how far b is ahead, with that interval.
        behind = f"{c.difference.confidence:.0%} CI {num(-c.high)} to {num(-c.low)}"
        return f"{a} is behind {b} by {num(-c.mean)} {unit} ({behind}; behind with {c.losses} of {n} seeds)"
    if c.verdict == "level":
        return (f"{a} and {b} are level, within ±{num(c.margin)} {unit} "
                f"(difference {num(c.mean)} {unit}, {ci})")
    return (f"{n} seeds do not resolve {a} against {b} (difference {num(c.mean)} {unit}, {ci}: "
            f"wider than ±{num(c.margin)} {unit})")


def check_verdict(verdict: str) -> str:
    """``verdict`` if it is one of :data:`VERDICTS`, else ``ValueError``."""
    return check_choice("verdict", verdict, VERDICTS)


def sampling_error(accuracy: float, n: int) -> float:
    """Standard error of one accuracy measured on ``n`` independent test examples.

    ``sqrt(p (1 - p) / n)``: how much the accuracy would move if the test set
    were drawn again, an error that an interval over seeds on one fixed test
    set does not contain.
    """
    if isinstance(accuracy, bool) or not isinstance(accuracy, numbers.Real) or not 0 <= accuracy <= 1:
        raise ValueError(f"accuracy must be a number in [0, 1], got {accuracy!r}")
    n = check_int("n", n, low=1)
    return math.sqrt(accuracy * (1 - accuracy) / n)


def interval_record(key: str, values) -> dict:
    """What a page glues for a mean over seeds, by glue name.

    ``key``: the mean with its 95 % confidence interval as text, formatted as
    a percentage (for accuracies); ``key_mean``: the mean; ``key_values``:
    the values, for the tests.
    """
    if not isinstance(key, str) or not key:
        raise ValueError(f"key must be a non-empty string, got {key!r}")
    values = [float(v) for v in _values("values", values)]
    return {key: format(interval(values), ".1%"), f"{key}_mean": sum(values) / len(values),
            f"{key}_values": values}


def comparison_record(key: str, a, b, name_a: str, name_b: str, *,
                      margin: float = 0.01) -> tuple[Comparison, dict]:
    """The paired comparison of ``a`` with ``b`` and what a page glues for it, by glue name.

    Seed lists are nested (``range(5)`` starts ``range(10)``), so when ``a``
    and ``b`` differ in length the first ``n`` values of each are paired,
    ``n`` the shorter length. Glued: ``key``, the clause from :func:`phrase`;
    ``key_verdict``; ``key_a`` and ``key_b``, the paired values.
    """
    if not isinstance(key, str) or not key:
        raise ValueError(f"key must be a non-empty string, got {key!r}")
    a, b = _values("a", a), _values("b", b)
    n = min(len(a), len(b))
    a, b = [float(v) for v in a[:n]], [float(v) for v in b[:n]]
    comparison = paired(a, b, margin=margin)
    return comparison, {key: phrase(comparison, name_a, name_b), f"{key}_verdict": comparison.verdict,
                        f"{key}_a": a, f"{key}_b": b}
