"""Figures for the chapter "Putting it together": trained networks on real digits."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .._checks import check_int, check_number
from .style import PALETTE, PHOTO, figure, kind_colour, show_image, span_cells, styled

#: One colour per network, by the kind of its layers (the book's one mapping).
COLOURS = {name: kind_colour(name) for name in
           ("dense", "locally connected", "convolutional", "convolutional, flattened head")}
#: Line styles of the simple methods in :func:`sample_efficiency` (dashed, no error bars).
BASELINE_STYLES = {"1-nearest neighbour": "--x", "logistic regression": ":+"}
MARKERS = {"dense": "o", "locally connected": "s", "convolutional": "^", "convolutional, flattened head": "v"}


def _colour(name):
    return COLOURS.get(name, PALETTE["black"])


@styled
def kernels_before_after(before, gradient, after):
    """First-layer kernels before training, the loss gradient on them, and the kernels after training.

    Parameters
    ----------
    before, gradient, after : array-like
        (channels, kH, kW) each: the kernels, the gradient of the loss with
        respect to them (one batch, before any update), and the trained kernels.
    """
    rows = {"before training": np.asarray(before, dtype=float),
            "gradient of the loss": np.asarray(gradient, dtype=float),
            "after training": np.asarray(after, dtype=float)}
    n, kh, kw = rows["before training"].shape
    nonzero = int((np.abs(rows["gradient of the loss"]).reshape(n, -1).sum(axis=1) > 0).sum())
    fig, axes = figure(n, 3, width=min(1.0 * n + 1.2, 16.0), height=3.9, alt=(
        f"Three rows of the {n} first-layer {kh} by {kw} kernels of the convolutional network: before "
        f"training, the gradient of the loss with respect to them after one backward pass "
        f"(non-zero for {nonzero} of the {n} kernels, each on its own scale), and after training; red is "
        "positive, blue negative"))
    fig.subplots_adjust(left=1.15 / fig.get_figwidth(), top=1 - 0.45 / 3.9, hspace=0.35)
    for r, (label, values) in enumerate(rows.items()):
        bound = float(np.abs(values).max()) or 1.0
        for c in range(n):
            if label == "gradient of the loss":
                # Each gradient on its own scale, its size written below: some are much
                # smaller than others and would vanish on a shared scale.
                own = float(np.abs(values[c]).max())
                show_image(axes[r, c], values[c], signed=True, vmin=-(own or 1.0), vmax=own or 1.0)
                axes[r, c].set_xlabel(f"±{own:.1e}", fontsize=7, labelpad=2)
            else:
                show_image(axes[r, c], values[c], signed=True, vmin=-bound, vmax=bound,
                           title=f"channel {c}" if r == 0 else "")
        axes[r, 0].set_ylabel(label.replace(" of the ", "\nof the ").replace(" training", "\ntraining"),
                              rotation=0, ha="right", va="center", fontsize=8)
    fig.suptitle("First-layer kernels of the convolutional network")
    return fig


@styled
def placements(centred, anywhere, *, count: int = 8):
    """The same training digits centred on the canvas and placed at random.

    Parameters
    ----------
    centred, anywhere : array-like
        (N, 1, H, W) or (N, H, W) images, N at least ``count``.
    count : int
        How many to show.
    """
    centred = np.asarray(centred, dtype=float).reshape(len(centred), *np.shape(centred)[-2:])
    anywhere = np.asarray(anywhere, dtype=float).reshape(len(anywhere), *np.shape(anywhere)[-2:])
    side = centred.shape[-1]
    count = check_int("count", count, low=1, high=min(12, len(centred), len(anywhere)))
    width = min(0.9 * count + 1.2, 16.0)
    fig, axes = figure(count, 2, width=width, height=2.4, alt=(
        f"{count} handwritten digits on a {side} by {side} canvas: in the top row centred, as scikit-learn "
        "stores them; in the bottom row the same digits each moved to a random place"))
    # Each row's label to the left of its first digit (a phone's drawing repeats it on every block).
    fig.subplots_adjust(left=1.0 / width, hspace=0.1)
    for c in range(count):
        show_image(axes[0, c], centred[c], cmap=PHOTO, vmin=0, vmax=1)
        show_image(axes[1, c], anywhere[c], cmap=PHOTO, vmin=0, vmax=1)
    for ax, label in zip(axes[:, 0], ("centred", "placed\nanywhere")):
        ax.set_ylabel(label, rotation=0, ha="right", va="center")
    fig.suptitle("Training digits, centred and placed at random")
    return fig


def _over_seeds(values, rows, name):
    """``values`` as a (rows, seeds) float array, one row per point of the x axis."""
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2 or values.shape[0] != rows or values.shape[1] < 1:
        raise ValueError(f"{name} must hold {rows} rows of one value per seed, got shape {values.shape}")
    return values


def _seeds_note(n):
    return "one seed" if n == 1 else f"mean over {n} seeds, bars and bands one standard deviation"


@styled
def sample_efficiency(sizes, panels: Mapping[str, Mapping[str, object]], *, chance: float = 0.1):
    """Test error (1 - accuracy, log scale) against training-set size, one panel per kind of data.

    Parameters
    ----------
    sizes : sequence of int
        Training-set sizes (the x axis, log scale).
    panels : mapping
        Panel title to a mapping of name to accuracies, an array of shape
        (len(sizes),) or (len(sizes), seeds); a row of NaN marks a size that
        was not run, and a NaN in a row a seed not run at that size. The
        line joins the means over seeds; the error bars span the 95 %
        Student-t confidence interval of the mean (none for one seed). Names
        from :data:`BASELINE_STYLES` (simple methods) are drawn in grey,
        1-nearest neighbour dashed and logistic regression dotted, without
        bars. The y axis shows the error on a log scale, so that
        gaps of a point or two near 100 % accuracy stay visible.
    chance : float
        Accuracy of guessing; its error is drawn as a dotted line.
    """
    from scipy import stats as _st

    chance = check_number("chance", chance, low=0.0, high=1.0)
    if not isinstance(panels, Mapping):
        raise ValueError(f"panels must be a mapping of panel title to curves, got {type(panels).__name__}")
    sizes = np.asarray(sizes, dtype=float)
    fig, axes = figure(len(panels), width=4.0 * len(panels) + 0.5, height=4.1, alt="")
    fig.subplots_adjust(left=0.75 / fig.get_figwidth(), bottom=1.1 / 4.1, wspace=0.12)
    summary, seeds = [], 1
    for ax, (title, curves) in zip(axes[0], panels.items()):
        parts = []
        for name, acc in curves.items():
            acc = _over_seeds(acc, len(sizes), "panels")
            ran = ~np.isnan(acc).all(axis=1)
            x, rows = sizes[ran], [row[~np.isnan(row)] for row in acc[ran]]
            mean = np.array([row.mean() for row in rows])
            if name in BASELINE_STYLES:
                ax.plot(x, 1 - mean, BASELINE_STYLES[name], color="0.35", lw=1, markersize=4, label=name)
            else:
                seeds = max(seeds, max(len(row) for row in rows))
                half = np.array([row.std(ddof=1) * _st.t.ppf(0.975, len(row) - 1) / np.sqrt(len(row))
                                 if len(row) > 1 else 0.0 for row in rows])
                ax.errorbar(x, 1 - mean, yerr=half, marker=MARKERS.get(name, "o"), color=_colour(name),
                            label=name, capsize=3, markersize=5)
            parts.append(f"{name} {mean[0]:.0%} to {mean[-1]:.0%}")
        summary.append(f"{title}: " + ", ".join(parts))
        ax.axhline(1 - chance, color="0.5", ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(sizes, [f"{int(s):,}" for s in sizes])
        ax.minorticks_off()
        ax.set_ylim(0.005, 1)
        ticks = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1]
        ax.set_yticks(ticks, [f"{t:.1%}".replace(".0%", "%") for t in ticks])
        ax.set_xlabel("training digits")
        ax.set_title(title)
        ax.grid(True, alpha=0.3)
    axes[0, 0].set_ylabel("test error (log scale)")
    axes[0, 0].text(sizes[0], (1 - chance) * 0.8, "chance", fontsize=7, color="0.4")
    for ax in axes[0, 1:]:
        ax.tick_params(axis="y", which="both", labelleft=False)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, loc="lower center", ncol=3, frameon=False)
    fig.alt = ("Test error (1 minus accuracy, log scale) against the number of training digits, from "
               f"{int(sizes[0]):,} to {int(sizes[-1]):,} on a log scale (mean over up to {seeds} seeds, "
               "bars: 95% confidence intervals). Accuracies: " + "; ".join(summary))
    fig.suptitle("Test error as the training set grows")
    return fig


@styled
def shift_generalisation(shifts, curves: Mapping[str, object], examples, *, chance: float = 0.1):
    """Accuracy of networks trained on centred digits, tested on digits moved by each distance.

    Parameters
    ----------
    shifts : sequence of int
        Distances in pixels.
    curves : mapping
        Network name to accuracies, shape (len(shifts),) or (len(shifts),
        seeds): the line joins the means, the band spans the 95 % Student-t
        confidence interval of the mean over the seeds.
    examples : array-like
        (len(shifts), H, W): one test digit moved by each distance, shown
        above the plot.
    chance : float
        Accuracy of guessing, drawn as a dotted line.
    """
    chance = check_number("chance", chance, low=0.0, high=1.0)
    if not isinstance(curves, Mapping):
        raise ValueError(f"curves must be a mapping of network name to accuracies, got {type(curves).__name__}")
    shifts = list(shifts)
    examples = np.asarray(examples, dtype=float)
    n = len(shifts)
    curves = {name: _over_seeds(acc, n, "curves") for name, acc in curves.items()}
    seeds = min((acc.shape[1] for acc in curves.values()), default=1)
    fig, axes = figure(n, 2, width=6.5, height=5.0, alt=(
        "Above, one test digit moved right by " + ", ".join(str(s) for s in shifts) + " pixels. Below, "
        "test accuracy against the distance the test digits are moved (averaged over up, down, left and "
        f"right) for networks trained on centred digits ({_seeds_note(seeds)}): " + "; ".join(
            f"{name} {acc[0].mean():.0%} at 0 and {acc[-1].mean():.0%} at {shifts[-1]} pixels"
            for name, acc in curves.items())))
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.1, top=0.92, hspace=0.25)
    grid = axes[0, 0].get_subplotspec().get_gridspec()
    grid.set_height_ratios([1, 2.6])
    for ax, s, image in zip(axes[0], shifts, examples):
        show_image(ax, image, cmap=PHOTO, vmin=0, vmax=1, title=f"moved {s}")
    ax = span_cells(fig, axes, 1, slice(None))
    for name, acc in curves.items():
        mean = acc.mean(axis=1)
        ax.plot(shifts, mean, marker=MARKERS.get(name, "o"), color=_colour(name), label=name)
        if acc.shape[1] > 1:
            from scipy import stats as _st

            k = acc.shape[1]
            half = acc.std(axis=1, ddof=1) * _st.t.ppf(0.975, k - 1) / np.sqrt(k)
            ax.fill_between(shifts, mean - half, mean + half, color=_colour(name), alpha=0.2, lw=0)
    ax.axhline(chance, color="0.5", ls=":", lw=1)
    ax.text(shifts[0], chance + 0.02, "chance", fontsize=7, color="0.4")
    ax.set_xticks(shifts)
    ax.set_ylim(0, 1)
    ax.set_xlabel("distance the test digits are moved (pixels)")
    ax.set_ylabel("test accuracy")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="center right")
    fig.suptitle("Trained on centred digits, tested on moved digits")
    return fig


@styled
def moved_digit(image, label: int, probabilities: Mapping[str, object]):
    """One moved test digit, and what each network answers for it.

    Parameters
    ----------
    image : array-like
        (H, W) digit, drawn on the left.
    label : int
        Its true class.
    probabilities : mapping
        Network name to its class probabilities for the digit, shape (classes,).
        Each network gets a bar as long as its probability of the true class,
        labelled with the class it predicts (the most probable one).
    """
    image = np.asarray(image, dtype=float)
    if image.ndim != 2:
        raise ValueError(f"image must be a 2-D array, got shape {image.shape}")
    if not isinstance(probabilities, Mapping) or not probabilities:
        raise ValueError(f"probabilities must map at least one network name to class probabilities, "
                         f"got {probabilities!r:.80}")
    probs = {name: np.asarray(p, dtype=float) for name, p in probabilities.items()}
    classes = {p.shape for p in probs.values()}
    if len(classes) != 1 or len(next(iter(classes))) != 1 or next(iter(classes))[0] < 2:
        raise ValueError(f"probabilities must each have the same shape (classes,), got {sorted(classes)}")
    n_classes = next(iter(classes))[0]
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= label < n_classes:
        raise ValueError(f"label must be a class in [0, {n_classes - 1}], got {label!r}")
    names = list(probs)
    true = [float(probs[n][label]) for n in names]
    said = [int(np.argmax(probs[n])) for n in names]
    fig, axes = figure(2, width=6.5, height=0.45 * len(names) + 1.6, alt=(
        f"A test digit {label} and, for each network, its probability of the true class {label} and the "
        "class it predicts: " + "; ".join(f"{n} {t:.0%}, predicts {s}" for n, t, s in zip(names, true, said))))
    width, height = fig.get_figwidth(), fig.get_figheight()
    side = min(1.7, height - 0.9)
    # In inches: the digit on the left, the bars after room for the networks' names.
    axes[0, 0].set_position([0.15 / width, 0.3 / height, side / width, side / height])
    axes[0, 1].set_position([3.5 / width, 0.5 / height, 2.4 / width, (height - 1.1) / height])
    show_image(axes[0, 0], image, cmap=PHOTO, vmin=0, vmax=1, title=f"a {label}")
    ax = axes[0, 1]
    rows = np.arange(len(names))
    ax.barh(rows, true, color=[_colour(n) for n in names], height=0.6)
    for r, s in enumerate(said):
        ax.text(1.02, r, f"says {s}", va="center", fontsize=8, transform=ax.get_yaxis_transform(),
                color=PALETTE["black"] if s == label else PALETTE["vermillion"])
    # Long names on two lines, so that none reaches into the digit's panel.
    ax.set_yticks(rows, [n.replace(", ", ",\n") for n in names], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"probability of the true class, {label}")
    ax.grid(True, axis="x", alpha=0.3)
    fig.suptitle(f"Networks trained on centred digits, shown a moved {label}")
    return fig
