"""Figures for the chapter "Parameter sharing"."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from .._checks import MAX_COUNT, MAX_SIDE, check_instance, check_int, check_number
from ..compute.parameter_sharing import PriorStudy
from .style import PALETTE, PHOTO, figure, fit_top, kind_colour, outline, room_for_labels, show_image, styled

#: The three layers, in the order the bars show them.
LAYERS = ("dense", "locally connected", "convolution")


@styled
def parameter_bars(counts, *, image_size, in_channels, out_channels, kernel_size):
    """Log-scale bars of the parameters of a dense, a locally connected and a convolutional layer.

    Parameters
    ----------
    counts : mapping
        Layer name to its number of parameters.
    image_size, in_channels, out_channels, kernel_size : int
        The configuration, for the titles.
    """
    if not isinstance(counts, Mapping) or set(counts) < set(LAYERS):
        raise ValueError(f"counts must map each of {list(LAYERS)} to its number of parameters, got {counts!r:.80}")
    image_size = check_int("image_size", image_size, low=1, high=MAX_SIDE)
    in_channels = check_int("in_channels", in_channels, low=1, high=MAX_COUNT)
    out_channels = check_int("out_channels", out_channels, low=1, high=MAX_COUNT)
    kernel_size = check_int("kernel_size", kernel_size, low=1, high=image_size)
    names = list(LAYERS)
    values = [counts[n] for n in names]
    conv = counts["convolution"]
    fig, axes = figure(1, width=7.5, height=2.9, alt=(
        f"Parameters for a {image_size} by {image_size} image with {in_channels} channel(s), "
        f"{out_channels} output channels and a {kernel_size} by {kernel_size} kernel: dense "
        f"{counts['dense']:,}, locally connected {counts['locally connected']:,}, convolution {conv:,}"))
    fig.subplots_adjust(left=0.2, right=0.97, bottom=0.2)
    ax = axes[0, 0]
    ax.barh(names, values, color=[kind_colour(n) for n in names])
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set_xlabel("parameters (log scale)")
    labels = []
    for i, v in enumerate(values):
        ratio = "" if names[i] == "convolution" else f"\n({v / conv:,.0f}× the convolution)"
        labels.append(ax.text(v * 1.3, i, f"{v:,}{ratio}", va="center", fontsize=8))
    # A decade past the largest bar, then as much more as the labels need, at the size the page shows them.
    ax.set_xlim(1, 10 ** (math.log10(max(values)) + 1))
    room_for_labels(ax, labels)
    side = image_size - kernel_size + 1
    ax.set_title(f"{in_channels} × {image_size} × {image_size} in, {out_channels} × "
                 f"{side} × {side} out, {kernel_size}×{kernel_size} kernels")
    return fig


@styled
def detector_everywhere(canvas, responses, *, learned: int, top: int, left: int, patch: int):
    """A patch placed on a canvas, and where a shared and an unshared detector respond to it.

    Parameters
    ----------
    canvas : array-like
        (H, W) input.
    responses : mapping
        ``{"convolution": (H', W'), "locally connected": (H', W')}`` responses.
    learned : int
        Side of the top-left block of positions where the unshared layer holds the detector.
    top, left, patch : int
        Where the patch sits and its side, to outline it.
    """
    canvas = np.asarray(canvas, dtype=float)
    if canvas.ndim != 2:
        raise ValueError(f"canvas must be a 2-D array, got shape {canvas.shape}")
    if not isinstance(responses, Mapping) or {"convolution", "locally connected"} - set(responses):
        raise ValueError(f"responses must map 'convolution' and 'locally connected' to maps, got {responses!r:.80}")
    conv = np.asarray(responses["convolution"], dtype=float)
    local = np.asarray(responses["locally connected"], dtype=float)
    learned = check_int("learned", learned, low=0, high=max(local.shape))
    patch = check_int("patch", patch, low=1, high=min(canvas.shape))
    top = check_int("top", top, low=0, high=canvas.shape[0] - patch)
    left = check_int("left", left, low=0, high=canvas.shape[1] - patch)
    bound = max(np.abs(conv).max(), np.abs(local).max(), 1e-9)
    fig, axes = figure(3, width=7.5, height=2.9, alt=(
        f"A photograph patch placed at row {top}, column {left} of a blank canvas; the shared edge "
        "detector responds to its edges wherever it is placed; the unshared layer responds with the "
        f"same edges only inside the top-left {learned} by {learned} block where it holds the detector"))
    show_image(axes[0, 0], canvas, cmap=PHOTO, vmin=0, vmax=1, title="input")
    outline(axes[0, 0], top, left, patch, patch)
    show_image(axes[0, 1], conv, signed=True, vmin=-bound, vmax=bound, title="shared kernel (convolution)")
    show_image(axes[0, 2], local, signed=True, vmin=-bound, vmax=bound, title="unshared (locally connected)")
    outline(axes[0, 2], 0, 0, learned, learned, color=PALETTE["green"])
    return fig


@styled
def scrambled(image, shuffled, before: float, after: float):
    """An image beside the same pixels in shuffled positions, with neighbour correlations."""
    before = check_number("before", before, low=-1.0, high=1.0)
    after = check_number("after", after, low=-1.0, high=1.0)
    fig, axes = figure(2, width=5.0, height=2.9, alt=(
        f"A photograph, whose horizontally adjacent pixels correlate at {before:.2f}, beside the same "
        f"pixels in shuffled positions, where the correlation drops to {after:.2f}"))
    show_image(axes[0, 0], image, cmap=PHOTO, vmin=0, vmax=1, title=f"neighbours correlate: {before:.2f}")
    show_image(axes[0, 1], shuffled, cmap=PHOTO, vmin=0, vmax=1, title=f"positions shuffled: {after:.2f}")
    return fig


@styled
def prior_study(study, examples):
    """Example images of the two stroke tasks, and test accuracy of both layers on each, over seeds.

    Bars: mean test accuracy of the convolution and the locally connected
    layer, with the 95 % confidence interval of the mean over seeds and each
    seed as a dot. Lines across each task: the majority-class rule (dashed)
    and, when the study has them, the hand-made detectors (dotted) and
    logistic regression (dash-dotted).

    Parameters
    ----------
    study : widgets.compute.parameter_sharing.PriorStudy
        Accuracies per (task, kind), as spreads over seeds (at least two).
    examples : mapping
        Task name to ``(images, labels)``: (n, 1, H, W) images (four are drawn) and their labels.
    """
    from ..compute import stats
    from ..compute.parameter_sharing import HAND_MADE, LOGISTIC, SLOTS

    check_instance("study", study, PriorStudy, "a PriorStudy from widgets.compute.parameter_sharing.prior_study")
    if not isinstance(examples, Mapping):
        raise ValueError(f"examples must be a mapping of task name to (images, labels), got {examples!r:.80}")
    tasks = list(examples)
    kinds = ("convolution", "locally connected")
    ci = {key: stats.interval(spread.values) for key, spread in study.accuracy.items()}
    summary = "; ".join(f"{task}: " + ", ".join(
        f"{kind} {ci[task, kind].mean:.1%} (95% CI {ci[task, kind].low:.1%} to {ci[task, kind].high:.1%})"
        for kind in kinds)
        + "".join(f", {name} {study.accuracy[task, name].mean:.1%}" for name in (HAND_MADE, LOGISTIC)
                  if (task, name) in study.accuracy)
        + (f", always the common label {study.majority[task]:.1%}" if task in study.majority else "")
        for task in tasks)
    fig, axes = figure(5, len(tasks), width=8.0, height=2.0 * len(tasks) + 0.6, alt=(
        f"Four example images of each stroke task with their labels, and the test accuracy of a "
        f"convolution and a locally connected layer over {len(study.seeds)} seeds (mean, 95% confidence "
        f"interval and each seed), beside the majority-class rule and, where trained, hand-made detectors "
        f"and logistic regression: "
        f"{summary}"))
    grid = axes[0, 0].get_gridspec()
    grid.set_width_ratios([1, 1, 1, 1, 1.9])
    fig.subplots_adjust(wspace=0.25, bottom=0.1, right=0.99, left=0.04)
    for row, task in enumerate(tasks):
        images, labels = examples[task]
        for j in range(4):
            show_image(axes[row, j], np.asarray(images[j, 0], dtype=float), cmap=PHOTO,
                       title=f"{task}: label {int(labels[j])}" if j == 0 else f"label {int(labels[j])}")
        if task == "aligned":
            for top, left in SLOTS:
                outline(axes[row, 0], top, left, 3, 3, color=PALETTE["green"], lw=1.0)
    for ax in axes[:, 4]:
        ax.remove()
    ax = fig.add_subplot(grid[:, 4])
    ax.set_position(ax.get_position().translated(0.05, 0.0).shrunk(0.8, 1.0))
    width = 0.38
    for i, kind in enumerate(kinds):
        xs = np.arange(len(tasks)) + (i - 0.5) * width
        means = [ci[task, kind].mean for task in tasks]
        errors = [[ci[task, kind].mean - ci[task, kind].low for task in tasks],
                  [ci[task, kind].high - ci[task, kind].mean for task in tasks]]
        ax.bar(xs, means, width, yerr=errors, capsize=3, color=kind_colour(kind), label=kind)
        for x, task in zip(xs, tasks):
            values = study.accuracy[task, kind].values
            ax.plot([x] * len(values), values, "k.", markersize=3)
    for j, task in enumerate(tasks):
        span = [j - width - 0.05, j + width + 0.05]
        if task in study.majority:
            ax.plot(span, [study.majority[task]] * 2, "--", color=PALETTE["black"], lw=1.2,
                    label="always the common label" if j == 0 else None)
        if (task, HAND_MADE) in study.accuracy:
            ax.plot(span, [study.accuracy[task, HAND_MADE].mean] * 2, ":", color=PALETTE["green"], lw=1.6,
                    label="hand-made detectors" if j == 0 else None)
        if (task, LOGISTIC) in study.accuracy:
            ax.plot(span, [study.accuracy[task, LOGISTIC].mean] * 2, "-.", color=PALETTE["purple"], lw=1.4,
                    label="logistic regression" if j == 0 else None)
    ax.set_xticks(np.arange(len(tasks)), tasks)
    ax.set_ylim(0.5, 1.0)
    ax.set_ylabel(f"test accuracy, {len(study.seeds)} seeds")
    # Above the axes, where it covers no bar; the figure grows at the top to hold it at the size the page shows it.
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False, ncols=2, fontsize=8,
              columnspacing=0.8, handlelength=1.6)
    fit_top(fig)
    return fig
