"""Figures for the chapter "The same prior on sequences": MNIST-1D's sequences and results, and a 1-D motif detector."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .style import PALETTE, figure, series, span_cells, styled

#: The colour of each of the chapter's models, the same in every figure.
MODEL_COLOURS = {"logistic": PALETTE["orange"], "mlp": PALETTE["vermillion"], "cnn": PALETTE["blue"]}
#: How the figures name them.
MODEL_NAMES = {"logistic": "logistic regression", "mlp": "MLP", "cnn": "CNN"}


def _array(name, value, ndim):
    try:
        out = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers, got {value!r:.80}") from None
    if out.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {out.shape}")
    return out


@styled
def examples(plain, shuffled, labels):
    """A few MNIST-1D sequences, as they are (top) and with their positions shuffled (bottom).

    Parameters
    ----------
    plain, shuffled : array-like
        (n, 40) the same n sequences, plain and shuffled, n from 1 to 8.
    labels : sequence of int
        Their digits.
    """
    plain, shuffled = _array("plain", plain, 2), _array("shuffled", shuffled, 2)
    if plain.shape != shuffled.shape or not 1 <= len(plain) <= 8 or len(labels) != len(plain):
        raise ValueError(f"plain and shuffled must be the same (n, length) with 1 <= n <= 8 and one label each, "
                         f"got {plain.shape}, {shuffled.shape} and {len(labels)} labels")
    n = len(plain)
    fig, axes = figure(n, 2, width=8.0, height=3.4, alt=(
        f"{n} MNIST-1D sequences of {plain.shape[1]} values, digits " + ", ".join(str(int(d)) for d in labels)
        + "; top, as generated; bottom, the same values with the positions put in one fixed shuffled order"))
    fig.subplots_adjust(left=0.09, right=0.99, bottom=0.12, top=0.84, wspace=0.08, hspace=0.35)
    top = float(np.abs(plain).max()) * 1.05
    t = np.arange(plain.shape[1])
    for j in range(n):
        for i, (rows, colour) in enumerate(((plain, PALETTE["blue"]), (shuffled, PALETTE["vermillion"]))):
            ax = axes[i, j]
            ax.plot(t, rows[j], color=colour, lw=1.4)
            ax.set_ylim(-top, top)
            ax.set_xticks([0, len(t) - 1])
            ax.grid(True, alpha=0.3)
            if j:
                ax.tick_params(axis="y", labelleft=False)   # the first column's labels serve the row
            if i == 0:
                ax.set_title(f"digit {int(labels[j])}")
        axes[0, j].set_xticklabels([])
    axes[0, 0].set_ylabel("as made")
    axes[1, 0].set_ylabel("shuffled")
    fig.suptitle("MNIST-1D: each digit is a sequence of 40 numbers")
    return fig


@styled
def results(ours: Mapping[str, Sequence], published: Mapping[str, Sequence], *, majority: float,
            nearest: float, seeds: int):
    """Test accuracy of each model, plain and shuffled: ours (mean and 95 % CI over seeds) beside the published.

    Parameters
    ----------
    ours : mapping
        Model name (a key of :data:`MODEL_NAMES`) to ``(plain, shuffled)``,
        each ``(mean, low, high)``.
    published : mapping
        Model name to ``(plain, shuffled)`` accuracies.
    majority, nearest : float
        The majority-class and the one-nearest-neighbour accuracies.
    seeds : int
        Seeds behind each interval.
    """
    if not isinstance(ours, Mapping) or not ours or any(m not in MODEL_NAMES for m in ours):
        raise ValueError(f"ours must map some of {list(MODEL_NAMES)} to results, got {ours!r:.80}")
    fig, axes = figure(1, width=7.6, height=3.4, alt="")
    ax = axes[0, 0]
    fig.subplots_adjust(left=0.1, right=0.98, bottom=0.1, top=0.88)
    parts = []
    for i, model in enumerate(ours):
        for j, (name, offset) in enumerate((("as made", -0.17), ("shuffled", 0.17))):
            mean, low, high = (float(v) for v in ours[model][j])
            x = i + offset
            ax.errorbar([x], [mean], yerr=[[mean - low], [high - mean]], color=MODEL_COLOURS[model],
                        marker="o" if j == 0 else "s", mfc=MODEL_COLOURS[model] if j == 0 else "white",
                        ms=7, capsize=4, ls="none")
            pub = float(published[model][j])
            ax.plot([x - 0.09, x + 0.09], [pub, pub], color="0.15", lw=2.2)
            ax.annotate(name, (x, 0.04), ha="center", fontsize=8, xycoords=("data", "axes fraction"))
            parts.append(f"{MODEL_NAMES[model]} {name}: ours {mean:.1%} (95% CI {low:.1%} to {high:.1%}), "
                         f"published {pub:.0%}")
    ax.axhline(majority, color="0.5", ls=":", lw=1.2)
    ax.text(len(ours) - 0.5, majority + 0.015, "majority class", ha="right", fontsize=8, color="0.35")
    ax.axhline(nearest, color=PALETTE["green"], ls="--", lw=1.2)
    ax.text(-0.45, nearest + 0.015, "1-nearest neighbour (either order)", ha="left", fontsize=8,
            color=PALETTE["green"])
    ax.set_xticks(range(len(ours)), [MODEL_NAMES[m] for m in ours])
    ax.set_xlim(-0.5, len(ours) - 0.5)
    ax.set_ylim(0, 1)
    ax.set_ylabel("test accuracy")
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.grid(True, axis="y", alpha=0.3)
    ax.plot([], [], color="0.15", lw=2.2, label="published")
    ax.errorbar([], [], yerr=[], color="0.4", marker="o", ls="none", capsize=4,
                label=f"ours, mean and 95% CI over {seeds} seeds")
    ax.legend(loc="upper left", fontsize=8)
    fig.alt = ("Test accuracy on MNIST-1D, as made and shuffled: " + "; ".join(parts)
               + f"; majority class {majority:.1%}; one-nearest-neighbour {nearest:.1%}")
    fig.suptitle("MNIST-1D: our runs beside the published table")
    return fig


@styled
def curves(steps, accuracy: Mapping[str, object]):
    """Test accuracy along training, mean over seeds: solid as made, dashed shuffled.

    Parameters
    ----------
    steps : sequence of int
        Where accuracy was measured.
    accuracy : mapping
        Model name to a (2, seeds, len(steps)) array (0: as made, 1: shuffled).
    """
    steps = _array("steps", steps, 1)
    fig, axes = figure(1, width=7.0, height=3.4, alt="")
    ax = axes[0, 0]
    fig.subplots_adjust(left=0.1, right=0.98, bottom=0.16, top=0.86)
    parts = []
    for model, values in accuracy.items():
        values = _array(f"accuracy[{model!r}]", values, 3)
        if values.shape[0] != 2 or values.shape[2] != len(steps):
            raise ValueError(f"accuracy[{model!r}] must be (2, seeds, {len(steps)}), got {values.shape}")
        mean = values.mean(axis=1)
        for j, (ls, name) in enumerate((("-", "as made"), ("--", "shuffled"))):
            ax.plot(steps, mean[j], ls=ls, color=MODEL_COLOURS[model], marker="o" if j == 0 else "s",
                    mfc="white" if j else MODEL_COLOURS[model], ms=4,
                    label=f"{MODEL_NAMES[model]}, {name}")
            parts.append(f"{MODEL_NAMES[model]} {name} {mean[j, 1]:.0%} after {int(steps[1])} steps, "
                         f"{mean[j, -1]:.0%} after {int(steps[-1])}")
    ax.set_xlabel("training step (batches of 100)")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.17))
    fig.set_size_inches(7.0, 3.9)
    fig.subplots_adjust(bottom=0.29)
    fig.alt = "Test accuracy along training, mean over seeds: " + "; ".join(parts)
    fig.suptitle("Test accuracy along training")
    return fig


def _half_width(values: np.ndarray) -> np.ndarray:
    """Half the width of the 95 % confidence interval of the column means (Student's t)."""
    from scipy import stats as scipy_stats

    n = values.shape[0]
    if n < 2:
        return np.zeros(values.shape[1])
    return scipy_stats.t.ppf(0.975, n - 1) * values.std(0, ddof=1) / np.sqrt(n)


@styled
def motif_check(lengths, accuracy, untrained, by_position, *, train_length: int, padded=None,
                padded_by_position=None, noisier=None, noisier_label: str = "trained, more noise"):
    """The motif detectors on new signals: accuracy by signal length, and by where the pattern starts.

    Parameters
    ----------
    lengths : sequence of int
        Signal lengths tested.
    accuracy : array-like
        (detectors, len(lengths)) test accuracy of each trained detector.
    untrained : array-like
        (detectors, len(lengths)) the same detectors before training.
    by_position : array-like
        (detectors, bins) accuracy at ``train_length`` by stretch of start positions.
    train_length : int
        The training signals' length.
    padded, padded_by_position : array-like, optional
        The same two measures for detectors whose convolution is zero-padded.
    noisier : array-like, optional
        (detectors, len(lengths)) accuracy of detectors trained and tested on
        noisier signals, labelled ``noisier_label``.

    Points are means over the detectors; error bars their 95 % confidence
    intervals (Student's t).
    """
    lengths = _array("lengths", lengths, 1)
    accuracy, untrained = _array("accuracy", accuracy, 2), _array("untrained", untrained, 2)
    by_position = _array("by_position", by_position, 2)
    if accuracy.shape[1] != len(lengths) or untrained.shape != accuracy.shape:
        raise ValueError(f"accuracy and untrained must be (detectors, {len(lengths)}), got {accuracy.shape} "
                         f"and {untrained.shape}")
    fig, axes = figure(2, width=8.0, height=3.3, alt="")
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.27, top=0.8, wspace=0.3)
    ax = axes[0, 0]
    lines = [(accuracy, "trained"), (untrained, "untrained (same seeds)")]
    if padded is not None:
        padded = _array("padded", padded, 2)
        if padded.shape != accuracy.shape:
            raise ValueError(f"padded must be {accuracy.shape} like accuracy, got {padded.shape}")
        lines.append((padded, "trained, zero-padded"))
    if noisier is not None:
        noisier = _array("noisier", noisier, 2)
        if noisier.shape[1] != len(lengths):
            raise ValueError(f"noisier must be (detectors, {len(lengths)}), got {noisier.shape}")
        lines.append((noisier, str(noisier_label)))
    for i, (values, name) in enumerate(lines):
        ax.errorbar(lengths, values.mean(0), yerr=_half_width(values), capsize=3, label=name, **series(i))
    ax.axhline(0.5, color="0.5", ls=":", lw=1)
    ax.axvline(train_length, color="0.6", lw=0.8)
    ax.set_xscale("log", base=2)
    ax.set_xticks(lengths, [str(int(v)) for v in lengths])
    ax.set_xlabel("signal length (samples)")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0.3, 1.02)
    ax.set_title(f"by length (trained on {train_length})")
    handles, names = ax.get_legend_handles_labels()
    ax.grid(True, alpha=0.3)
    ax = axes[0, 1]
    bins = by_position.shape[1]
    centres = (np.arange(bins) + 0.5) / bins
    ax.errorbar(centres, by_position.mean(0), yerr=_half_width(by_position), capsize=3, label="trained",
                **series(0))
    if padded_by_position is not None:
        padded_by_position = _array("padded_by_position", padded_by_position, 2)
        ax.errorbar(centres, padded_by_position.mean(0), yerr=_half_width(padded_by_position), capsize=3,
                    label="trained, zero-padded", **series(2))
    fig.legend(handles, names, fontsize=7.5, loc="lower center", ncol=len(names), frameon=False)
    ax.set_xlabel("where it starts (share of the possible starts)")
    ax.set_ylim(0.3, 1.02)
    ax.set_xlim(0, 1)
    ax.set_title(f"by position of the pattern ({train_length} samples)")
    ax.grid(True, alpha=0.3)
    d = len(accuracy)
    by_length = ", ".join(f"{int(n)} samples {a:.1%} (untrained {u:.1%})"
                          for n, a, u in zip(lengths, accuracy.mean(0), untrained.mean(0)))
    fig.alt = (f"Mean test accuracy of {d} motif detectors (error bars: 95% confidence interval over "
               "detectors) by signal length: " + by_length
               + f"; by where the pattern starts, in {bins} stretches: "
               + ", ".join(f"{a:.1%}" for a in by_position.mean(0))
               + ("" if padded_by_position is None else "; zero-padded: "
                  + ", ".join(f"{a:.1%}" for a in padded_by_position.mean(0)))
               + ("" if noisier is None else f"; {noisier_label} by length: "
                  + ", ".join(f"{int(n)} samples {a:.1%}" for n, a in zip(lengths, noisier.mean(0)))))
    fig.suptitle(f"{d} trained motif detectors on new signals")
    return fig


@styled
def motif_detection(signal, responses, kernels, pattern, *, motif_at: Sequence[int], decoy_at: Sequence[int]):
    """A 1-D convolution finding a motif wherever it occurs in a signal.

    Parameters
    ----------
    signal : array-like
        (L,) the test signal.
    responses : array-like
        (2, L - k + 1) the two kernels' responses along it (0: decoy, 1: motif).
    kernels : array-like
        (2, k) the trained kernels.
    pattern : array-like
        (k,) the motif.
    motif_at, decoy_at : sequence of int
        Where the motif and the decoy start in ``signal``.
    """
    signal = np.asarray(signal, dtype=float)
    responses = np.asarray(responses, dtype=float)
    kernels = np.asarray(kernels, dtype=float)
    pattern = np.asarray(pattern, dtype=float)
    k = len(pattern)
    if responses.shape != (2, len(signal) - k + 1) or kernels.shape != (2, k):
        raise ValueError(f"responses must be (2, {len(signal) - k + 1}) and kernels (2, {k}), got "
                         f"{responses.shape} and {kernels.shape}")
    motif_colour, decoy_colour = PALETTE["green"], PALETTE["orange"]
    peaks = [int(np.argmax(r)) for r in responses]
    fig, axes = figure(3, 3, width=8.0, height=5.4, alt=(
        f"A noisy signal of {len(signal)} samples with the motif starting at "
        + ", ".join(str(p) for p in motif_at) + " and its time-reversed decoy at "
        + ", ".join(str(p) for p in decoy_at) + f"; below, the responses of the two trained {k}-tap "
        f"kernels along it (the motif kernel peaks at {peaks[1]}, the decoy kernel at {peaks[0]}); "
        "right, the motif, the decoy and the two kernels"))
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.09, top=0.9, wspace=0.35, hspace=0.55)
    ax_signal = span_cells(fig, axes, 0, slice(0, 2))
    ax_motif = span_cells(fig, axes, 1, slice(0, 2))
    ax_decoy = span_cells(fig, axes, 2, slice(0, 2))
    # The kernels over the top two rows; their legend in the cell below, where it covers no data.
    ax_kern = span_cells(fig, axes, slice(0, 2), 2)
    key_cell = axes[2, 2].get_position()
    axes[2, 2].remove()
    t = np.arange(len(signal))
    ax_signal.plot(t, signal, color="0.3", lw=1)
    marks = ((motif_at, motif_colour, "motif"), (decoy_at, decoy_colour, "decoy"))
    for starts, colour, label in marks:
        for i, s in enumerate(starts):
            ax_signal.axvspan(s - 0.5, s + k - 0.5, color=colour, alpha=0.25, label=label if i == 0 else None)
    # The title on the left and the key on the right above the signal, which fills its axes.
    ax_signal.set_title("signal: motif and decoy shaded", loc="left")
    ax_signal.legend(fontsize=7, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, frameon=False,
                     borderaxespad=0.0, borderpad=0.2)
    positions = np.arange(responses.shape[1])
    for ax, r, colour, title in ((ax_motif, responses[1], motif_colour, "motif kernel"),
                                 (ax_decoy, responses[0], decoy_colour, "decoy kernel")):
        for starts, shade, _ in marks:
            for s in starts:
                ax.axvspan(s - 0.5, s + 0.5, color=shade, alpha=0.35)
        ax.plot(positions, r, color=colour)
        ax.set_title(f"response of the {title} (feature map)")
        ax.grid(True, alpha=0.3)
    for ax in (ax_signal, ax_motif, ax_decoy):
        ax.set_xlim(-0.5, len(signal) - 0.5)
    ax_decoy.set_xlabel("position (first sample of the window)")
    taps = np.arange(k)
    scale = float(np.abs(kernels).max()) / (float(np.abs(pattern).max()) or 1.0)
    ax_kern.plot(taps, pattern * scale, color=motif_colour, lw=6, alpha=0.3, label="motif (scaled)")
    ax_kern.plot(taps, pattern[::-1] * scale, color=decoy_colour, lw=6, alpha=0.3, label="decoy (scaled)")
    ax_kern.plot(taps, kernels[1], color=motif_colour, marker="o", label="motif kernel")
    ax_kern.plot(taps, kernels[0], color=decoy_colour, marker="s", ls="--", label="decoy kernel")
    ax_kern.set_xlabel("tap")
    ax_kern.set_title("kernels after training")
    fig.legend(*ax_kern.get_legend_handles_labels(), loc="center", bbox_to_anchor=key_cell.bounds, fontsize=8)
    ax_kern.grid(True, alpha=0.3)
    fig.suptitle("A 1-D convolution sliding along a signal")
    return fig
