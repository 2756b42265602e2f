"""widgets.compute.sequences and widgets.draw.sequences, and the chapter's numbers.

MNIST-1D is checked against the authors' generator and permutation, the three
networks against the authors' parameter counts, the grouped training against
the same networks trained one at a time, the MLP's indifference to the
shuffle against its exact form (a relabelled first layer), and the motif
detector on signals whose answer is known.
"""

import json
import os
import random

import numpy as np
import pytest
import torch
from conftest import drawn_without_leak
from test_style import laid_out, points_inside, texts_outside
from torch import nn

from widgets.compute import sequences as sq
from widgets.compute import training
from widgets.draw import sequences as dsq


@pytest.fixture(scope="module")
def plain():
    return sq.mnist1d()


@pytest.fixture(scope="module")
def shuffled():
    return sq.mnist1d(shuffle=True)


# --------------------------------------------------------------------------- MNIST-1D


def test_mnist1d_is_the_authors_data_and_leaves_global_generators_alone(plain, shuffled):
    from mnist1d.data import get_dataset_args

    state, py_state = np.random.get_state(), random.getstate()
    sq._generated.cache_clear()
    again = sq.mnist1d()
    assert np.array_equal(np.random.get_state()[1], state[1]) and random.getstate() == py_state
    assert torch.equal(again.train_x, plain.train_x)
    args = get_dataset_args()
    assert plain.train_x.shape == (4000, args.final_seq_length) and plain.test_x.shape == (1000, 40)
    assert plain.train_x.dtype == torch.float32 and plain.train_y.dtype == torch.int64
    assert sorted(plain.train_y.unique().tolist()) == list(range(10))
    assert plain.permutation is None
    # The authors' benchmark notebook: np.random.seed(42); np.random.permutation(40).
    np.random.seed(42)
    expected = np.random.permutation(40)
    np.random.set_state(state)
    assert shuffled.permutation == tuple(expected.tolist())
    assert torch.equal(shuffled.train_x, plain.train_x[:, list(expected)])
    assert torch.equal(shuffled.test_x, plain.test_x[:, list(expected)])
    assert torch.equal(shuffled.train_y, plain.train_y)


def test_baselines(plain, shuffled):
    counts = torch.bincount(plain.train_y)
    assert sq.majority_accuracy(plain) == pytest.approx(
        float((plain.test_y == counts.argmax()).double().mean()))
    assert 0.05 < sq.majority_accuracy(plain) < 0.15
    # Nearest-neighbour is blind to the order of positions.
    assert sq.nearest_neighbour_accuracy(plain) == sq.nearest_neighbour_accuracy(shuffled)


def test_the_authors_networks_have_their_parameter_counts():
    # The authors' notebook prints 410, 15,210 and 5,210 parameters.
    assert [sq.parameter_count(sq.BUILDERS[n](0)) for n in sq.ARCHITECTURES] == [410, 15210, 5210]
    assert sq.cnn(0)(torch.zeros(3, 40)).shape == (3, 10)
    assert torch.equal(sq.cnn(3).conv1.weight, sq.cnn(3).conv1.weight)
    assert not torch.equal(sq.cnn(3).conv1.weight, sq.cnn(4).conv1.weight)


@pytest.mark.parametrize("name", sq.ARCHITECTURES)
def test_grouped_network_is_its_members_side_by_side(plain, name):
    members = [sq.BUILDERS[name](s) for s in (0, 1, 2)]
    grouped = sq.Grouped(members)
    x = torch.stack([plain.train_x[:20], plain.train_x[20:40], plain.train_x[40:60]])
    with torch.no_grad():
        together = grouped(x)
        alone = torch.stack([m(xi) for m, xi in zip(members, x)])
    torch.testing.assert_close(together, alone, rtol=1e-5, atol=1e-5)
    for g, m in enumerate(members):
        for (n1, p1), (n2, p2) in zip(grouped.member(g).named_parameters(), m.named_parameters()):
            assert n1 == n2 and torch.equal(p1, p2)


@pytest.mark.parametrize("name", sq.ARCHITECTURES)
def test_grouped_training_follows_each_member_trained_alone(plain, shuffled, name):
    """Adam is elementwise and each member's loss reads only its weights: together = one at a time."""
    seeds = (0, 1, 2)
    inputs = torch.stack([plain.train_x, shuffled.train_x, plain.train_x])
    orders = torch.stack([sq.visiting_order(4000, s) for s in seeds])
    grouped = sq.Grouped([sq.BUILDERS[name](s) for s in seeds])
    sq.train_members(grouped, inputs, plain.train_y, orders, steps=40)
    for g, s in enumerate(seeds):
        alone = sq.train_one(sq.BUILDERS[name](s), inputs[g], plain.train_y, orders[g], steps=40)
        for (_, a), (_, b) in zip(grouped.member(g).named_parameters(), alone.named_parameters()):
            # Rounding differs (sums in another order) and Adam divides by small second moments,
            # so allow 1e-4: a hundredth of one Adam step at lr 0.01.
            torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-4)
    # and it did train: the members moved away from their initial weights
    assert not torch.equal(grouped.member(0).state_dict()[next(iter(alone.state_dict()))],
                           sq.BUILDERS[name](0).state_dict()[next(iter(alone.state_dict()))])


def test_the_authors_batches_are_read_in_one_cyclic_order():
    orders = torch.stack([torch.arange(10), torch.arange(10).flip(0)])
    assert sq._batches(orders, 0, 4).tolist() == [[0, 1, 2, 3], [9, 8, 7, 6]]
    assert sq._batches(orders, 2, 4).tolist() == [[8, 9, 0, 1], [1, 0, 9, 8]]


def test_benchmark_records_curves_and_pairs_plain_with_shuffled():
    b = sq.benchmark("logistic", [0, 1], steps=60, eval_every=30)
    assert b.steps == [0, 30, 60] and b.curves.shape == (2, 2, 3) and b.parameters == 410
    assert torch.equal(b.plain, b.curves[0, :, -1]) and torch.equal(b.shuffled, b.curves[1, :, -1])
    assert float(b.curves[:, :, 0].max()) < 0.2 < float(b.plain.min())  # training did something (chance: 10 %)
    assert b.seconds > 0


@pytest.mark.skipif(not os.environ.get("CW_SLOW"), reason="set CW_SLOW=1: minutes of CPU (13 for the CNN)")
@pytest.mark.parametrize("name", sorted(sq.LONG_RUN))
def test_the_full_length_runs_the_chapter_quotes(name):
    """The chapter quotes 6,000-step runs it cannot afford to run: this re-runs them."""
    b = sq.benchmark(name, range(3), steps=sq.LONG_RUN_STEPS, eval_every=sq.LONG_RUN_STEPS)
    plain, shuffled = sq.LONG_RUN[name]
    # Rounding in a grouped run differs from machine to machine; allow a point per run.
    np.testing.assert_allclose(b.plain.numpy(), plain, atol=0.01)
    np.testing.assert_allclose(b.shuffled.numpy(), shuffled, atol=0.01)


def test_receptive_field_of_the_cnn():
    """Exercise 2: each of the 5 final positions sees a window of 17 samples (fewer at the padded ends)."""
    net = sq.cnn(0)
    torch.manual_seed(0)
    h = torch.randn(1, 40)
    seen = []
    for position in range(5):
        x = h.clone().requires_grad_(True)
        out = net.conv3(net.conv2(net.conv1(x.view(1, 1, 40)).relu()).relu())
        out[0, :, position].sum().backward()
        nonzero = (x.grad[0] != 0).nonzero().flatten()
        seen.append((int(nonzero.min()), int(nonzero.max())))
    assert seen == [(0, 9), (1, 17), (9, 25), (17, 33), (25, 39)]


def test_an_mlp_on_shuffled_sequences_is_an_mlp_on_plain_ones_relabelled(plain, shuffled):
    order = sq.visiting_order(4000, 0)
    a = sq.mlp(0)
    b = sq.reading_in_order(a, shuffled.permutation)
    with torch.no_grad():
        torch.testing.assert_close(a(plain.test_x), b(shuffled.test_x))
    sq.train_one(a, plain.train_x, plain.train_y, order, steps=50)
    sq.train_one(b, shuffled.train_x, plain.train_y, order, steps=50)
    with torch.no_grad():
        torch.testing.assert_close(a(plain.test_x), b(shuffled.test_x), rtol=1e-4, atol=1e-4)
    lin = sq.logistic(0)
    with torch.no_grad():
        torch.testing.assert_close(lin(plain.test_x), sq.reading_in_order(lin, shuffled.permutation)(shuffled.test_x))


@pytest.mark.parametrize("call, match", [
    (lambda: sq.mnist1d(shuffle=1), "^shuffle must be True or False"),
    (lambda: sq.shuffle_order(0), "^length must be in"),
    (lambda: sq.majority_accuracy("x"), "^sequences must be"),
    (lambda: sq.nearest_neighbour_accuracy(None), "^sequences must be"),
    (lambda: sq.logistic(-1), "^seed must be in"),
    (lambda: sq.parameter_count("x"), "^model must be"),
    (lambda: sq.Grouped([]), "^members must be a non-empty"),
    (lambda: sq.Grouped([sq.mlp(0), sq.cnn(0)]), "^members must all be"),
    (lambda: sq.Grouped([sq.mlp(0)])(torch.zeros(2, 3, 40)), "^x must be"),
    (lambda: sq.Grouped([sq.mlp(0)]).member(1), "^g must be in"),
    (lambda: sq.train_members(sq.mlp(0), torch.zeros(1, 4, 40), torch.zeros(4, dtype=torch.int64),
                              torch.zeros(1, 4, dtype=torch.int64)), "^model must be a Grouped"),
    (lambda: sq.train_members(sq.Grouped([sq.mlp(0)]), torch.zeros(1, 4, 40), torch.zeros(4),
                              torch.zeros(1, 4, dtype=torch.int64)), "^labels must be"),
    (lambda: sq.train_members(sq.Grouped([sq.mlp(0)]), torch.zeros(1, 4, 40), torch.zeros(4, dtype=torch.int64),
                              torch.full((1, 4), 9)), "^orders must be"),
    (lambda: sq.train_members(sq.Grouped([sq.mlp(0)]), torch.zeros(1, 4, 40), torch.zeros(4, dtype=torch.int64),
                              torch.zeros(1, 4, dtype=torch.int64), steps=0), "^steps must be in"),
    (lambda: sq.train_members(sq.Grouped([sq.mlp(0)]), torch.zeros(1, 4, 40), torch.zeros(4, dtype=torch.int64),
                              torch.zeros(1, 4, dtype=torch.int64), lr=2), "^lr must be"),
    (lambda: sq.benchmark("gru", [0]), "^architecture must be one of"),
    (lambda: sq.benchmark("mlp", [0, 0]), "^seeds must be distinct"),
    (lambda: sq.reading_in_order(sq.cnn(0), range(40)), "^model must be nn.Linear or ResidualMLP"),
    (lambda: sq.reading_in_order(sq.mlp(0), [0, 0]), "^order must be a permutation"),
    (lambda: sq.visiting_order(0, 0), "^n must be in"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --------------------------------------------------------------------------- the motif detector


def test_motif_is_a_slow_rise_then_a_sharp_fall():
    m = sq.motif(7)
    assert m.shape == (7,) and abs(float(m.sum())) < 1e-6
    peak, trough = int(m.argmax()), int(m.argmin())
    assert peak < trough and trough - peak <= 2
    assert bool((m[1:peak + 1] > m[:peak]).all())
    assert not torch.equal(m, m.flip(0))


def test_motif_signals_without_noise_hold_the_pattern():
    x, y, pos = sq.motif_signals(40, length=30, noise=0.0, seed=3)
    assert x.shape == (40, 1, 30) and int(y.sum()) == 20
    m = sq.motif()
    for signal, label, p in zip(x[:, 0], y, pos):
        expected = torch.zeros(30)
        expected[p:p + 7] = m if label else m.flip(0)
        assert torch.equal(signal, expected)
    signal = sq.motif_example(length=40, motif_at=(0, 20), decoy_at=(10,), noise=0.0)
    assert torch.equal(signal[0:7], m) and torch.equal(signal[20:27], m) and torch.equal(signal[10:17], m.flip(0))


def _matched_detector():
    """A detector whose kernels are the decoy and the motif themselves (a matched filter)."""
    detector = sq.motif_detector(7, seed=0)
    with torch.no_grad():
        detector[0].weight.copy_(torch.stack([sq.motif().flip(0), sq.motif()])[:, None])
        detector[0].bias.zero_()
    return detector


def test_motif_check_on_a_matched_filter():
    x, y, pos = sq.motif_signals(400, length=64, noise=0.0, seed=5)
    check = sq.motif_check(_matched_detector(), x, y, pos, bins=4)
    assert check.accuracy == 1.0 and check.motif_on_motif == 1.0 and check.decoy_on_decoy == 1.0
    assert check.by_position.shape == (4,) and bool((check.by_position == 1).all())
    # A detector that always answers "motif" is right on half, and its decoy kernel never fires on the decoy.
    always = _matched_detector()
    with torch.no_grad():
        always[0].weight.zero_()
        always[0].bias.copy_(torch.tensor([0.0, 1.0]))
    check = sq.motif_check(always, x, y, pos)
    assert check.accuracy == pytest.approx(0.5)
    # With padding, peaks are still reported in the signal's own positions.
    padded = sq.motif_detector(7, seed=0, padding=6)
    padded.load_state_dict(_matched_detector().state_dict())
    check = sq.motif_check(padded, x, y, pos)
    assert check.accuracy == 1.0 and check.motif_on_motif == 1.0 and check.decoy_on_decoy == 1.0


def test_motif_detectors_trained_together_are_trained_alone():
    x, y, _ = sq.motif_signals(128, length=32, seed=0)
    together = sq.train_motif_detectors([0, 1, 2], x, y, epochs=3)
    for i, seed in enumerate((0, 1, 2)):
        alone = sq.train_motif_detectors([seed], x, y, epochs=3)[0]
        torch.testing.assert_close(together[i][0].weight, alone[0].weight, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(together[i][0].bias, alone[0].bias, rtol=1e-5, atol=1e-6)
    assert not torch.equal(together[0][0].weight, sq.motif_detector(7, 0)[0].weight)


def test_motif_detector_learns_and_runs_on_any_length():
    x, y, _ = sq.motif_signals(512, seed=0)
    detector = sq.train_motif_detectors([0], x, y)[0]
    for length in (16, 256):
        test = sq.motif_signals(400, length=length, seed=1)
        assert sq.motif_check(detector, *test).accuracy > 0.75
    assert training.accuracy(detector, *sq.motif_signals(400, seed=1)[:2]) > 0.9
    signal = sq.motif_example(length=96, motif_at=(12, 64), decoy_at=(38,), seed=2)
    responses = sq.motif_responses(detector, signal)
    assert responses.shape == (2, 90)
    torch.testing.assert_close(responses, nn.functional.conv1d(signal.view(1, 1, -1), detector[0].weight,
                                                              detector[0].bias)[0])


@pytest.mark.parametrize("call, match", [
    (lambda: sq.motif_example(length=40, motif_at=(35,)), "^motif_at must be in"),
    (lambda: sq.motif_example(length=96, decoy_at=5), "^decoy_at must be a sequence"),
    (lambda: sq.motif_signals(4, noise=-1.0), "^noise must be"),
    (lambda: sq.motif_signals(4, length=10), "^length must be in"),
    (lambda: sq.motif_signals(1), "^n must be in"),
    (lambda: sq.motif(2), "^length must be in"),
    (lambda: sq.motif_detector(0), "^kernel_size must be in"),
    (lambda: sq.motif_detector(7, padding=7), "^padding must be in"),
    (lambda: sq.motif_responses(nn.Sequential(nn.Linear(2, 2)), torch.zeros(10)), "^detector must be"),
    (lambda: sq.motif_check(sq.motif_detector(), torch.zeros(3, 1, 20), torch.zeros(2, dtype=torch.int64),
                            torch.zeros(3, dtype=torch.int64)), "^labels must be"),
    (lambda: sq.motif_check(sq.motif_detector(), *sq.motif_signals(4), bins=0), "^bins must be in"),
    (lambda: sq.train_motif_detectors([], *sq.motif_signals(4)[:2]), "^seeds must be"),
    (lambda: sq.train_motif_detectors([0], *sq.motif_signals(4)[:2], lr=0), "^lr must be"),
])
def test_motif_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --------------------------------------------------------------------------- drawings


def test_draw_examples_and_results(plain, shuffled):
    fig = drawn_without_leak(dsq.examples, plain.train_x[:3], shuffled.train_x[:3], plain.train_y[:3])
    assert len(fig.get_axes()) == 6 and "3 MNIST-1D sequences" in fig.alt
    ours = {"mlp": [(0.6, 0.58, 0.62), (0.61, 0.6, 0.62)], "cnn": [(0.9, 0.89, 0.91), (0.55, 0.54, 0.56)]}
    fig = drawn_without_leak(dsq.results, ours, sq.PUBLISHED, majority=0.1, nearest=0.57, seeds=10)
    assert "CNN shuffled: ours 55.0% (95% CI 54.0% to 56.0%), published 56%" in fig.alt
    with pytest.raises(ValueError, match="^plain and shuffled must be"):
        dsq.examples(plain.train_x[:3], shuffled.train_x[:2], [0, 1, 2])
    with pytest.raises(ValueError, match="^ours must map"):
        dsq.results({"gru": []}, sq.PUBLISHED, majority=0.1, nearest=0.5, seeds=2)


def test_draw_curves_and_motif_check():
    fig = drawn_without_leak(dsq.curves, [0, 10, 20], {"cnn": np.full((2, 3, 3), 0.5)})
    assert "CNN shuffled 50% after 10 steps, 50% after 20" in fig.alt
    with pytest.raises(ValueError, match="must be \\(2, seeds, 3\\)"):
        dsq.curves([0, 10, 20], {"cnn": np.zeros((3, 3, 3))})
    acc = np.full((3, 2), 0.9)
    fig = drawn_without_leak(dsq.motif_check, [16, 64], acc, acc - 0.4, np.full((3, 4), 0.95), train_length=64)
    assert "16 samples 90.0% (untrained 50.0%)" in fig.alt
    with pytest.raises(ValueError, match="^accuracy and untrained must be"):
        dsq.motif_check([16, 64, 128], acc, acc, acc, train_length=64)


def test_draw_motif_detection():
    signal = sq.motif_example(length=60, motif_at=(5,), decoy_at=(30,), noise=0.0)
    kernels = torch.stack([sq.motif().flip(0), sq.motif()])
    responses = nn.functional.conv1d(signal.view(1, 1, -1), kernels[:, None])[0]
    fig = drawn_without_leak(dsq.motif_detection, signal, responses, kernels, sq.motif(), motif_at=(5,),
                             decoy_at=(30,))
    assert len(fig.get_axes()) == 4
    assert "the motif kernel peaks at 5, the decoy kernel at 30" in fig.alt  # a matched filter peaks on its pattern
    with pytest.raises(ValueError, match="^responses must be"):
        dsq.motif_detection(signal, responses[:, :10], kernels, sq.motif(), motif_at=(5,), decoy_at=(30,))


def test_motif_detection_legends_cover_no_data():
    # The chapter's figure: a 96-sample signal, and kernels like the first detector's, whose decoy kernel
    # dips to -4.4 at tap 2, low in the kernel panel where a legend inside it would cover it.
    motif_at, decoy_at = (12, 64), (38,)
    signal = sq.motif_example(length=96, motif_at=motif_at, decoy_at=decoy_at, seed=2)
    kernels = torch.tensor([[-1.6, 0.28, -4.4, -2.0, 3.75, 2.1, 0.28], [1.13, 0.62, 2.2, 4.47, 0.1, -4.07, -1.0]])
    responses = nn.functional.conv1d(signal.view(1, 1, -1), kernels[:, None])[0]
    fig = drawn_without_leak(dsq.motif_detection, signal, responses, kernels, sq.motif(), motif_at=motif_at,
                             decoy_at=decoy_at)
    renderer = laid_out(fig)
    assert texts_outside(fig, renderer) == []
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None] + fig.legends
    labels = {t.get_text() for legend in legends for t in legend.get_texts()}
    assert {"motif", "decoy", "motif (scaled)", "decoy (scaled)", "motif kernel", "decoy kernel"} <= labels
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            assert points_inside(box, ax) == [], [t.get_text() for t in legend.get_texts()]


# --------------------------------------------------------------------------- the chapter


def _glued(executed, doc):
    """The chapter's glued values as text, whether written by a build or by scripts/run_chapter.py."""
    outputs = json.loads((executed / f"{doc}.glue.json").read_text())
    out = {}
    for name, value in outputs.items():
        data = value["data"]
        text = data.get("text/plain", data.get("application/papermill.record/text/plain"))
        if text is not None:
            out[name] = text.strip("'\"")
    return out


def chapter_claims(g: dict) -> None:
    """Every verdict the chapter states, and the direction of every sentence built on its numbers."""
    f = {}
    for key, value in g.items():
        try:
            f[key] = float(value)
        except ValueError:
            pass
    n = int(g["n_seeds"])
    assert n >= 10 and int(g["steps"]) >= 1000
    # The verdicts the prose quotes.
    assert g["verdict_cnn_mlp"] == "ahead"
    assert g["verdict_cnn_shuffle"] == "ahead"
    assert g["verdict_mlp_shuffle"] == "level"
    assert g["verdict_logistic_shuffle"] == "level"
    assert g["verdict_cnn_mlp_shuffled"] == "behind"
    # "Every network is far above the majority class"; logistic < 1-NN < MLP; the CNN far above;
    # "shuffled, the CNN falls to about the level of that order-blind method".
    assert f["majority"] < 0.15 and f["nearest"] == f["nearest_shuffled"]
    assert f["majority"] + 0.15 < f["logistic_plain"] < f["nearest"] - 0.1
    assert f["nearest"] < f["mlp_plain"] < f["nearest"] + 0.1 and f["nearest"] < f["mlp_shuffled"]
    assert f["cnn_plain"] > f["nearest"] + 0.2 and abs(f["cnn_shuffled"] - f["nearest"]) < 0.03
    # "our CNN and MLP land below the published ..., by more than the spread of our seeds";
    # "Logistic regression matches the table".
    assert "CNN as made" in g["above_cells"] and "MLP as made" in g["above_cells"]
    assert "logistic regression as made" in g["inside_cells"]
    assert "logistic regression shuffled" in g["inside_cells"]
    assert g["below_cells"] == "no cell"
    assert f["published_cnn"] == 0.94 and f["published_mlp"] == 0.68
    # The 6,000-step runs: "reaches the published CNN value within the spread of its seeds";
    # the shortfalls shrink.
    assert "CNN as made" in g["long_inside"] and "MLP as made" in g["long_inside"]
    assert int(g["long_seeds"]) == 3
    assert f["gap_cnn_long"] < f["gap_cnn_short"] and f["gap_mlp_long"] < f["gap_mlp_short"]
    assert abs(f["gap_cnn_long"]) < 1.0
    # Exercise 5: "the extra steps buy nothing measurable" for the shuffled CNN.
    assert f["long_cnn_s"] < f["cnn_shuffled"] + 0.02
    assert f["long_cnn_low"] <= f["long_cnn_plain"] <= f["long_cnn_high"]
    # "less than the spread between our seeds": rounding drift up to about 2 points.
    assert f["cnn_plain_range"] > 2 and f["mlp_plain_range"] > 2
    # "the two networks have not finished, and logistic regression has".
    assert f["cnn_late_gain"] > 1 and f["mlp_late_gain"] > 1 and abs(f["logistic_late_gain"]) < 0.5
    # "the differences that carry the argument are several times larger than these gaps".
    assert 0.2 < f["cnn_plain"] - f["mlp_plain"] and 0.2 < f["cnn_plain"] - f["cnn_shuffled"]
    assert 0.94 - f["cnn_plain"] < 0.06 and 0.68 - f["mlp_plain"] < 0.08
    assert f["untrained_best"] < 0.15  # "untrained, ... at chance"
    # The twin MLPs: the same class everywhere, scores equal to rounding.
    assert f["twin_agree"] == 1.0 and f["twin_gap"] < 1e-3
    # The motif detectors, against their untrained selves and a guess.
    assert f["motif_acc_64"] > 0.9 and f["motif_untrained_64"] < 0.75
    assert f["motif_acc_16"] > 0.7 and f["motif_worst_1024"] > 0.9
    assert g["verdict_edge"] == "behind" and f["motif_ends"] < f["motif_middle"]
    # "With padding the weakness is gone"; "short signals ... gain most".
    assert g["verdict_padded_edge"] in ("ahead", "level") and f["padded_ends"] > f["motif_ends"]
    assert g["verdict_padded_short"] == "ahead" and f["padded_acc_16"] > f["motif_acc_16"]
    assert f["padded_acc_16"] > f["padded_acc_1024"] - 0.01  # "no harder than 1,024-sample ones"
    # "At this noise, accuracy does not fall as the signals grow"; at twice the noise it does.
    assert g["verdict_longer"] in ("ahead", "level")
    assert f["noise_high"] == pytest.approx(2 * f["noise"])
    assert g["verdict_noisy_longer"] == "behind" and f["noisy_acc_1024"] < f["noisy_acc_64"]
    assert f["noisy_acc_64"] > 0.75  # the noisier detectors still work on their training length
    assert int(g["both_find"]) + int(g["one_finds"]) + int(g["none_find"]) == n


@pytest.mark.build
def test_sequences_chapter_numbers(executed):
    """The numbers the chapter's prose quotes, and the direction of each of its claims."""
    chapter_claims(_glued(executed, "book/12_sequences"))
