"""Figures for the chapter "What a convolutional layer computes"."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .._checks import MAX_SIDE, check_instance, check_int
from ..compute.conv_layer import ChannelProducts, LearnedKernel, MultiplyAdd
from .style import PHOTO, figure, outline, show_image, styled, write_values


@styled
def multiply_add(image, step):
    """The input with one patch outlined, then the patch, the kernel and their products.

    Parameters
    ----------
    image : array-like
        The (H, W) input.
    step : widgets.compute.conv_layer.MultiplyAdd
        The computed multiply-add for one output position.
    """
    check_instance("step", step, MultiplyAdd, "a MultiplyAdd from widgets.compute.conv_layer.multiply_add")
    kh, kw = step.kernel.shape
    rows = f"rows {step.top}–{step.top + kh - 1}, cols {step.left}–{step.left + kw - 1}"
    height = 2.7
    fig, axes = figure(4, width=8.0, height=height, alt=(
        f"The input image with the {kh} by {kw} patch at {rows} outlined, the patch's pixel values, "
        f"the kernel's weights and their products, which sum to {step.value:+.3f}"))
    # Room above the panels for a frame title and two lines of panel title: the
    # input's rows and columns, two digits each, are wider than its panel on one line.
    fig.subplots_adjust(top=1 - 0.8 / height)
    ax_in, ax_patch, ax_kernel, ax_prod = axes[0]
    show_image(ax_in, image, cmap=PHOTO, vmin=0, vmax=1,
               title=f"input\n{rows}")
    outline(ax_in, step.top, step.left, kh, kw)
    show_image(ax_patch, step.patch, cmap=PHOTO, vmin=0, vmax=1, title="patch (pixel values)")
    write_values(ax_patch, step.patch)
    show_image(ax_kernel, step.kernel, signed=True, title="kernel (weights)")
    whole = bool((step.kernel == step.kernel.round()).all())
    write_values(ax_kernel, step.kernel, fmt="{:+.0f}" if whole else "{:+.2f}")
    show_image(ax_prod, step.products, signed=True,
               title=f"products; sum = {step.value:+.3f}")
    write_values(ax_prod, step.products)
    return fig


def _as_image(image):
    """(C, H, W) tensor or array to what imshow wants: (H, W) gray or (H, W, 3) RGB."""
    arr = np.asarray(image, dtype=float)
    if arr.ndim == 3:
        arr = arr[0] if arr.shape[0] == 1 else np.moveaxis(arr, 0, -1)
    return arr


@styled
def feature_maps(image, maps, names, *, slots: int | None = None, input_title: str | None = None,
                 bounds=None):
    """The input beside one feature map per filter, on a grid of four columns.

    Parameters
    ----------
    image : array-like
        (C, H, W) input with values in [0, 1], C = 1 or 3.
    maps : array-like
        (n_filters, H_out, W_out) feature maps.
    names : sequence of str
        One title per feature map.
    slots : int, optional
        Room for this many maps (default: as many as given), so that frames
        with different numbers of maps have the same size.
    input_title : str, optional
        Title of the input panel (default: its number of channels).
    bounds : sequence of float, optional
        One colour-scale limit per map (each map shown from -bound to +bound), so
        that frames on different inputs share one scale per filter; by default
        each map is scaled to its own largest magnitude.
    """
    maps = np.asarray(maps, dtype=float)
    if maps.ndim != 3 or isinstance(names, str) or len(names) != len(maps):
        raise ValueError(f"maps must be (n_filters, H, W) with one name each, got shape {maps.shape} "
                         f"and names {names!r:.80}")
    if bounds is not None:
        bounds = np.asarray(bounds, dtype=float)
        if bounds.shape != (len(maps),) or not np.all(np.isfinite(bounds)) or not np.all(bounds > 0):
            raise ValueError(f"bounds must be one positive finite number per map ({len(maps)}), got {bounds!r:.80}")
    arr = _as_image(image)
    slots = len(maps) if slots is None else max(check_int("slots", slots, low=0, high=63), len(maps))
    ncols = min(4, slots + 1)
    nrows = -(-(slots + 1) // ncols)
    channels = 1 if arr.ndim == 2 else 3
    fig, axes = figure(ncols, nrows, width=2.0 * ncols, height=2.1 * nrows, alt=(
        f"The {input_title or ('grayscale' if channels == 1 else 'colour') + ' input'} and {len(maps)} feature "
        f"map{'s' if len(maps) != 1 else ''}: {', '.join(names[:len(maps)])}; "
        "red is positive, blue negative"))
    # Side margins of 0.25 inch: the input's title ("grayscale input (3 channels)") is wider than its
    # panel and would reach the image's left edge. The images, as tall as their cells, keep their size.
    fig.subplots_adjust(left=0.25 / fig.get_figwidth(), right=1 - 0.25 / fig.get_figwidth())
    cells = axes.ravel()
    show_image(cells[0], arr, cmap=PHOTO, vmin=0, vmax=1,
               title=input_title or f"input, {channels} channel{'s' if channels > 1 else ''}")
    for index, (ax, fmap, name) in enumerate(zip(cells[1:], maps, names)):
        bound = None if bounds is None else float(bounds[index])
        show_image(ax, fmap, signed=True, vmin=None if bound is None else -bound, vmax=bound, title=name)
    for ax in cells[1 + len(maps):]:
        ax.set_axis_off()
    return fig


@styled
def input_dependence(image, grad, *, title: str = "inputs this output depends on"):
    """The input beside the magnitude of one output's input gradient (summed over channels).

    Parameters
    ----------
    image : array-like
        (C, H, W) input with values in [0, 1].
    grad : array-like
        (C, H, W) gradient of one output value with respect to the input.
    """
    grad = np.abs(np.asarray(grad, dtype=float)).sum(axis=0)
    rows, cols = np.nonzero(grad)
    fig, axes = figure(2, width=5.0, height=2.8, alt=(
        "The input image beside the magnitude of one output's gradient with respect to each input "
        f"pixel: non-zero only inside the outlined {rows.max() - rows.min() + 1 if rows.size else 0} by "
        f"{cols.max() - cols.min() + 1 if cols.size else 0} patch"))
    show_image(axes[0, 0], _as_image(image), cmap=PHOTO, vmin=0, vmax=1, title="input")
    show_image(axes[0, 1], grad, title=title)
    if rows.size:
        for ax in axes[0]:
            outline(ax, rows.min(), cols.min(), rows.max() - rows.min() + 1, cols.max() - cols.min() + 1)
    return fig


@styled
def channel_products(step, channel_names=("red", "green", "blue"), *, title: str = ""):
    """One output value of a multi-channel filter: each channel's patch, kernel and products.

    Parameters
    ----------
    step : widgets.compute.conv_layer.ChannelProducts
    channel_names : sequence of str
        One name per channel.
    title : str
        What the filter is, for the figure's title.
    """
    check_instance("step", step, ChannelProducts, "a ChannelProducts from widgets.compute.conv_layer.channel_products")
    n = len(step.sums)
    if len(channel_names) != n:
        raise ValueError(f"channel_names must name {n} channels, got {list(channel_names)}")
    sums = ", ".join(f"{name} {float(v):+.3f}" for name, v in zip(channel_names, step.sums))
    # Cells wide enough for products printed to three decimals at the
    # smallest text the page allows (draw.style.MIN_TEXT_PX).
    fig, axes = figure(3, n, width=8.0, height=2.3 * n + 0.5, alt=(
        f"Output ({step.row}, {step.col}) of {title or 'one filter'}: for each channel its 3 by 3 patch, "
        f"its kernel and their products; the channel sums are {sums}, and they add up to "
        f"{step.value:+.3f}"))
    fig.suptitle(f"{title + ': ' if title else ''}output ({step.row}, {step.col}) = {step.value:+.3f}")
    bound = float(np.abs(np.asarray(step.products)).max()) or 1.0
    for c, name in enumerate(channel_names):
        show_image(axes[c, 0], step.patches[c], cmap=PHOTO, vmin=0, vmax=1, title=f"{name} patch")
        write_values(axes[c, 0], step.patches[c])
        show_image(axes[c, 1], step.kernels[c], signed=True, title=f"{name} kernel")
        write_values(axes[c, 1], step.kernels[c], fmt="{:+.2f}")
        show_image(axes[c, 2], step.products[c], signed=True, vmin=-bound, vmax=bound,
                   title=f"products, sum {float(step.sums[c]):+.3f}")
        write_values(axes[c, 2], step.products[c], fmt="{:+.3f}")
    return fig


@styled
def padding_borders(image, maps, ratios):
    """The input beside feature maps computed with different treatments of the border.

    Parameters
    ----------
    image : array-like
        (H, W) input in [0, 1].
    maps : mapping
        Label (e.g. "zero padding") to an (H', W') feature map.
    ratios : mapping
        The same labels to the map's border-to-interior ratio of mean absolute response.
    """
    if not isinstance(maps, Mapping) or not isinstance(ratios, Mapping) or not maps or set(maps) != set(ratios):
        raise ValueError(f"maps and ratios must be non-empty mappings with the same labels, got {maps!r:.80} "
                         f"and {ratios!r:.80}")
    names = list(maps)
    fig, axes = figure(1 + len(names), width=2.1 * (1 + len(names)), height=2.6, alt=(
        "The photograph beside its vertical-edge map computed " + "; ".join(
            f"with {name}: the border responds {ratios[name]:.1f} times as strongly as the interior"
            for name in names)))
    show_image(axes[0, 0], image, cmap=PHOTO, vmin=0, vmax=1, title="input")
    bound = max(float(np.abs(np.asarray(maps[n])).max()) for n in names) or 1.0
    for ax, name in zip(axes[0, 1:], names):
        show_image(ax, maps[name], signed=True, vmin=-bound, vmax=bound,
                   title=f"{name}\nborder ÷ interior {ratios[name]:.1f}")
    return fig


@styled
def learned_kernels(results, direction=None, control=None):
    """Kernels recovered by gradient descent beside the kernel that made the data, and what is left over.

    Parameters
    ----------
    results : sequence of widgets.compute.conv_layer.LearnedKernel
        One per seed, all with the same target.
    direction : array-like, optional
        A (k, k) pattern to show beside the first seed's error (e.g. the
        patches' least-constrained direction), its sign matched to that error.
    control : sequence of LearnedKernel, optional
        Runs of a control experiment, whose losses are drawn dashed.
    """
    for name, runs in (("results", results), ("control", control)):
        if runs is None and name == "control":
            continue
        if isinstance(runs, (str, bytes)) or not isinstance(runs, Sequence) or not runs \
                or not all(isinstance(r, LearnedKernel) for r in runs):
            raise ValueError(f"{name} must be a non-empty sequence of LearnedKernel (one per seed), "
                             f"got {runs!r:.80}")
    first = results[0]
    error = np.asarray(first.learned - first.target, dtype=float)
    # Two decimals where they show the error; powers of ten only where it is smaller than that.
    error_fmt = "{:+.2f}" if np.abs(error).max() >= 0.01 else "{:+.0e}"
    panels = [(first.target, "hidden kernel", "{:+.2f}", 2.5),
              (first.learned, "learned (seed 0)", "{:+.2f}", 2.5), (error, "learned − hidden", error_fmt, None)]
    if direction is not None:
        direction = np.asarray(direction, dtype=float)
        if direction.shape != error.shape:
            raise ValueError(f"direction must have the kernel's shape {error.shape}, got {direction.shape}")
        sign = 1.0 if float((direction * error).sum()) >= 0 else -1.0
        panels.append((sign * direction, "least-constrained direction", "{:+.2f}", None))
    worst = max(r.error for r in results)
    width, height = 2.0 * (len(panels) + 1), 2.9
    fig, axes = figure(len(panels) + 1, width=width, height=height, alt=(
        "The kernel that made the outputs, the kernel seed 0 learned, their difference"
        + (", and the direction the inputs constrain least" if direction is not None else "")
        + f" (largest error over {len(results)} seeds {worst:.3f}), and the training error of every seed "
        "falling over the epochs on a log scale" + (", with the control's runs dashed" if control else "")))
    for ax, (kernel, name, fmt, bound) in zip(axes[0], panels):
        show_image(ax, kernel, signed=True, vmin=-bound if bound else None, vmax=bound, title=name)
        write_values(ax, kernel, fmt=fmt, fontsize=6.0 if "e" in fmt else 7.0)
    ax = axes[0, -1]
    # Room, in inches, for the tick labels and the axis label inside the figure: the y labels (10⁻¹⁵)
    # on the left, half of the last x label on the right, the x labels and "epoch" below.
    cell = ax.get_position()
    ax.set_position([cell.x0 + 0.6 / width, 0.62 / height,
                     cell.width - 0.95 / width, cell.y1 - 0.62 / height - 0.1 / height])
    for r in results:
        ax.semilogy(range(1, len(r.losses) + 1), r.losses, lw=1.0, color="#0072B2")
    if control:
        epochs = max(len(r.losses) for r in control)
        # Dashes laid along the epochs, the same for every run: matplotlib's dashes follow each line's
        # own length, so the runs' dashes fall out of step and, overlapping, fill each other's gaps.
        period = epochs * _DASH_PERIOD_IN / (ax.get_position().width * width)
        for r in control:
            x = np.arange(1, len(r.losses) + 1)
            shown = (x - 1) % period < 0.6 * period if period >= 4 else np.ones(len(x), dtype=bool)
            ax.semilogy(x, np.where(shown, np.asarray(r.losses, dtype=float), np.nan), lw=1.0,
                        ls="-" if period >= 4 else "--", color="#E69F00")
    ax.set_xlabel("epoch")
    ax.set_title("squared error")
    return fig


#: Length, in inches, of one dash and the gap after it in the control runs of :func:`learned_kernels`.
_DASH_PERIOD_IN = 0.12


@styled
def pool_routing(x, pooled, upstream, grad, kernel_size: int = 2):
    """Max pooling forward (winners outlined) and its gradient backward (the routing mask).

    Parameters
    ----------
    x : array-like
        (H, W) input.
    pooled, upstream : array-like
        The pooled output and the gradient arriving at it, (H // k, W // k).
    grad : array-like
        The gradient with respect to ``x``.
    kernel_size : int
        Side of the pooling windows.
    """
    x, grad = np.asarray(x, dtype=float), np.asarray(grad, dtype=float)
    if x.ndim != 2 or grad.shape != x.shape:
        raise ValueError(f"x and grad must be 2-D arrays of one shape, got {x.shape} and {grad.shape}")
    kernel_size = check_int("kernel_size", kernel_size, low=1, high=min(min(x.shape), MAX_SIDE))
    pooled_shape = (x.shape[0] // kernel_size, x.shape[1] // kernel_size)
    for name, value in (("pooled", pooled), ("upstream", upstream)):
        if np.shape(value) != pooled_shape:
            raise ValueError(f"{name} must have shape {pooled_shape} (x pooled by {kernel_size}), "
                             f"got {np.shape(value)}")
    winners = np.argwhere(grad != 0)
    fig, axes = figure(4, width=8.0, height=2.6, alt=(
        f"A {x.shape[0]} by {x.shape[1]} input with the largest value of each {kernel_size} by "
        f"{kernel_size} window outlined, the pooled output, the gradient arriving at it, and the "
        f"gradient with respect to the input: non-zero at the {len(winners)} winning positions only"))
    show_image(axes[0, 0], x, title="input (winners outlined)")
    write_values(axes[0, 0], x, fmt="{:.1f}")
    for i, j in winners:
        outline(axes[0, 0], i, j, 1, 1)
        outline(axes[0, 3], i, j, 1, 1)
    show_image(axes[0, 1], pooled, title="max-pooled output")
    write_values(axes[0, 1], pooled, fmt="{:.1f}")
    show_image(axes[0, 2], upstream, signed=True, title="gradient arriving")
    write_values(axes[0, 2], upstream, fmt="{:+.1f}")
    show_image(axes[0, 3], grad, signed=True, title="gradient to the input")
    write_values(axes[0, 3], grad, fmt="{:+.1f}")
    return fig
