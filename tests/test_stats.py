"""The one way the book compares results over seeds (widgets.compute.stats)."""

import math

import pytest
import torch

from widgets.compute import stats


def test_interval_is_students_t_over_the_seeds():
    i = stats.interval([0.90, 0.92, 0.94])
    # mean 0.92, sd 0.02, t(0.975, 2) = 4.3027: half-width 4.3027 * 0.02 / sqrt(3)
    assert i.mean == pytest.approx(0.92)
    assert i.half_width == pytest.approx(4.302653 * 0.02 / math.sqrt(3), rel=1e-5)
    assert (i.low, i.high) == pytest.approx((0.92 - i.half_width, 0.92 + i.half_width))
    assert i.n == 3 and i.values == (0.90, 0.92, 0.94)
    assert format(i, ".1%") == "92.0% (95% CI 87.0% to 97.0%, 3 seeds)"
    # A wider coverage gives a wider interval; identical values a point.
    assert stats.interval([0.90, 0.92, 0.94], 0.99).half_width > i.half_width
    assert stats.interval(torch.tensor([2.0, 2.0])).half_width == 0.0


def test_paired_uses_the_differences_not_the_two_spreads():
    # Each seed moves both networks together; b trails a by 1 point with every seed.
    a = [0.80, 0.90, 0.85, 0.95, 0.88]
    b = [x - 0.01 for x in a]
    c = stats.paired(a, b)
    assert c.verdict == "ahead" and c.wins == 5 and c.losses == 0
    assert c.mean == pytest.approx(0.01) and c.low == pytest.approx(0.01) and c.high == pytest.approx(0.01)
    # The unpaired spreads (about 5 points) would have hidden it.
    assert stats.interval(a).half_width > 0.05
    assert stats.paired(b, a).verdict == "behind"


@pytest.mark.parametrize(("a", "b", "margin", "verdict"), [
    ([0.5, 0.6, 0.7], [0.5, 0.6, 0.7], 0.01, "level"),            # identical: a point at zero
    ([0.50, 0.51, 0.49, 0.50], [0.50, 0.50, 0.50, 0.50], 0.05, "level"),
    ([0.50, 0.51, 0.49, 0.50], [0.50, 0.50, 0.50, 0.50], 0.001, "unresolved"),
    ([0.9, 0.5], [0.5, 0.9], 0.01, "unresolved"),                 # two seeds that disagree
    ([0.6, 0.5, 0.7], [0.5, 0.6, 0.5], 0.01, "unresolved"),       # a mean above zero is not enough
    ([0.5, 0.6, 0.5], [0.6, 0.5, 0.7], 0.01, "unresolved"),       # nor one below
    ([0.9, 0.91, 0.92], [0.5, 0.5, 0.5], 0.01, "ahead"),
])
def test_verdicts(a, b, margin, verdict):
    assert stats.paired(a, b, margin=margin).verdict == verdict


def test_format_and_phrase_say_what_the_interval_spans():
    c = stats.paired([0.9, 0.91, 0.92], [0.8, 0.8, 0.8])
    assert format(c, ".1%").startswith("+11.0% (95% CI +8.5% to +13.5%, 3 seeds; ahead in 3 of 3)")
    text = stats.phrase(c, "A", "B")
    assert text == "A is ahead of B by 11.0 points (95% CI 8.5 to 13.5; ahead with 3 of 3 seeds)"
    assert stats.phrase(stats.paired([0.8] * 3, [0.9, 0.91, 0.92]), "A", "B") == (
        "A is behind B by 11.0 points (95% CI 8.5 to 13.5; behind with 3 of 3 seeds)")
    assert stats.phrase(stats.paired([0.5] * 3, [0.5] * 3), "A", "B").startswith("A and B are level, within ±1.0")
    assert stats.phrase(stats.paired([0.9, 0.5], [0.5, 0.9]), "A", "B").startswith("2 seeds do not resolve A against B")


def test_records_hold_what_a_page_glues():
    record = stats.interval_record("acc", [torch.tensor(0.9, dtype=torch.float64), 0.8, 0.85])
    assert record["acc"] == format(stats.interval([0.9, 0.8, 0.85]), ".1%")
    assert record["acc_values"] == [0.9, 0.8, 0.85] and record["acc_mean"] == pytest.approx(0.85)
    # Nested seeds: the first three of five pair with the three of the shorter list.
    a, b = [0.9, 0.92, 0.91, 0.5, 0.5], [0.8, 0.83, 0.8]
    comparison, record = stats.comparison_record("c", a, b, "A", "B", margin=0.02)
    assert comparison == stats.paired(a[:3], b, margin=0.02) and comparison.verdict == "ahead"
    assert record["c"] == stats.phrase(comparison, "A", "B") and record["c_verdict"] == "ahead"
    assert record["c_a"] == a[:3] and record["c_b"] == b


def test_sampling_error_of_one_accuracy():
    assert stats.sampling_error(0.9, 500) == pytest.approx(math.sqrt(0.09 / 500))
    assert stats.sampling_error(1.0, 10) == 0.0


@pytest.mark.parametrize(("call", "name"), [
    (lambda: stats.interval([1.0]), "values"),
    (lambda: stats.interval([1.0, float("nan")]), "values"),
    (lambda: stats.interval([1.0, 2.0], confidence=1.0), "confidence"),
    (lambda: stats.interval(torch.ones(2, 2)), "values"),
    (lambda: stats.paired([1.0, 2.0], [1.0]), "b"),
    (lambda: stats.paired([1.0, 2.0], [1.0, 2.0], margin=0), "margin"),
    (lambda: stats.paired("ab", [1.0, 2.0]), "a"),
    (lambda: stats.phrase("ahead", "A", "B"), "comparison"),
    (lambda: stats.phrase(stats.paired([1.0, 2.0], [1.0, 2.0]), "", "B"), "a"),
    (lambda: stats.phrase(stats.paired([1.0, 2.0], [1.0, 2.0]), "A", "B", digits=9), "digits"),
    (lambda: stats.sampling_error(1.5, 10), "accuracy"),
    (lambda: stats.sampling_error(0.5, 0), "n"),
    (lambda: stats.check_verdict("better"), "verdict"),
    (lambda: stats.interval_record("", [1.0, 2.0]), "key"),
    (lambda: stats.interval_record("k", [1.0, float("inf")]), "values"),
    (lambda: stats.comparison_record("k", [1.0, 2.0], "ab", "A", "B"), "b"),
    (lambda: stats.comparison_record(None, [1.0, 2.0], [1.0, 2.0], "A", "B"), "key"),
])
def test_bad_arguments_name_the_parameter(call, name):
    with pytest.raises(ValueError, match=rf"^{name} must"):
        call()
