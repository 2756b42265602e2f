"""Convolution against the same linear map written as a matrix: counts, storage and timings.

Used by the chapter "The computational efficiency of convolution". A 2-D
convolution is linear, so it has a matrix: :func:`conv_matrix` builds it
(dense for small images, sparse for large ones), :func:`costs` counts the
floating-point operations and bytes of the three ways of computing the same
map, and :func:`time_methods` measures them, knowing which of PyTorch's back
ends ran (:func:`conv_backend`). :func:`network_costs` counts parameters,
multiply-adds and activations layer by layer in a whole network (:func:`vgg16`).

Counting convention (used throughout, stated once here)
-------------------------------------------------------
A *flop* is one multiplication or one addition; a *multiply-add* is one of each.

- **Convolution.** Each output value is a dot product of the kernel with one
  window: with ``k = in_channels * kernel_height * kernel_width`` weights that
  is ``k`` multiplications and ``k - 1`` additions, ``2k - 1`` flops per output
  value. For the two-element kernel of Goodfellow et al.'s edge detector that
  is 3. Windows that overlap zero padding are counted in full, as
  :func:`torch.nn.functional.conv2d` computes them. Bias is not counted (the
  matrix represents the linear part only).
- **Dense matrix.** A (rows x cols) matrix times a vector: ``rows * cols``
  multiplications and ``rows * (cols - 1)`` additions, ``rows * (2 cols - 1)``
  flops, about twice the number of entries.
- **Sparse matrix.** Only the stored entries take part: a row with ``r``
  stored entries costs ``2r - 1`` flops (none if ``r = 0``), so the total is
  ``2 nnz - (rows with at least one entry)``; without padding every row holds
  ``k`` entries and this equals the convolution's count exactly.

Storage is counted for the *operator* (what must be kept to apply the map), not
for the input or output: the kernel's weights; every entry of the dense matrix;
the sparse matrix's values plus its integer indices (CSR: one column index per
value and ``rows + 1`` row pointers; COO: a row and a column index per value).
Values take ``value_bytes`` (4 for float32) and indices ``index_bytes`` (8:
PyTorch's sparse indices are int64).

A whole layer (:func:`network_costs`) is counted in multiply-adds, ``k`` per
output value, the convention of the literature: it counts the final addition
into an accumulator (or the bias) that the exact flop count above leaves out.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.stats import t as _t_dist

from .._checks import MAX_SIDE, check_choice, check_count, check_elements, check_int, check_side, check_tensor
from . import stats

#: The three ways of computing one convolution, in the order the chapter shows them.
METHODS = ("convolution", "sparse matrix", "dense matrix")
#: What :func:`time_methods` can time: the three methods, and ``conv2d`` with oneDNN
#: disabled (PyTorch's own unrolling and matrix product at every size).
TIMED = ("convolution", "convolution, oneDNN off", "sparse matrix", "dense matrix")
#: Matrix layouts :func:`conv_matrix` can build.
LAYOUTS = ("dense", "coo", "csr")
#: Clocks :func:`time_methods` can read: elapsed time, or processor time used by this process.
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}

__all__ = ["METHODS", "TIMED", "LAYOUTS", "CLOCKS", "BACKENDS", "VERDICTS", "VGG16", "difference_kernel",
           "conv_matrix", "apply_matrix", "storage_bytes", "MethodCost", "Costs", "costs", "onednn_enabled",
           "conv_backend", "Timing", "time_methods", "Rounds", "time_rounds", "layer_passes", "machine_memory",
           "cache_test", "TimeRatio",
           "time_ratio", "PowerLaw", "power_law_fit", "Sweep", "sweep", "LayerCost", "network_costs", "vgg16"]


def difference_kernel() -> torch.Tensor:
    """The edge detector of Goodfellow et al. (2016, fig. 9.6) as a conv2d weight.

    Returns
    -------
    torch.Tensor
        Float32, shape (1, 1, 1, 2), values ``[-1, 1]``: each output pixel is a
        pixel minus its left neighbour.
    """
    return torch.tensor([[[[-1.0, 1.0]]]])


def _axis_windows(size: int, kernel: int, stride: int, padding: int):
    """Along one axis: which (output, kernel tap) pairs land inside the input, and the output length.

    Zero padding lies outside the input, so taps that land on it are left out.
    """
    n_out = (size + 2 * padding - kernel) // stride + 1
    out = np.repeat(np.arange(n_out), kernel)
    inp = out * stride + np.tile(np.arange(kernel), n_out) - padding
    return out[(inp >= 0) & (inp < size)], n_out


def _check_geometry(height, width, kernel_height, kernel_width, stride, padding):
    height = check_side("height", height)
    width = check_side("width", width)
    stride = check_side("stride", stride)
    padding = check_side("padding", padding, low=0)
    kernel_height = check_int("kernel_height", kernel_height, low=1, high=height + 2 * padding)
    kernel_width = check_int("kernel_width", kernel_width, low=1, high=width + 2 * padding)
    return height, width, kernel_height, kernel_width, stride, padding


def conv_matrix(weight: torch.Tensor, height: int, width: int, *, stride: int = 1, padding: int = 0,
                layout: str = "dense") -> torch.Tensor:
    """The matrix of a 2-D convolution (cross-correlation, as :func:`torch.nn.functional.conv2d`).

    For an input ``x`` of shape (in_channels, height, width) and ``M =
    conv_matrix(weight, height, width)``, ``M @ x.flatten()`` equals
    ``conv2d(x[None], weight).flatten()``. Rows are output values in (channel,
    row, column) order and columns input values in the same order, so for one
    channel the matrix is doubly block Toeplitz: a band of blocks, each block
    itself a band with the kernel's rows along its diagonals.

    Built without a loop over pixels: the row, column and weight of every
    stored entry come from broadcasting the output positions against the
    kernel taps. The stored entries are exactly the (output, input) pairs the
    kernel covers, whatever their values: a zero weight is still stored, so
    the sparsity pattern depends only on the shapes.

    Parameters
    ----------
    weight : torch.Tensor
        Floating-point filters of shape (out_channels, in_channels, kH, kW).
    height, width : int
        Input size, each at least 1 and, with padding, at least the kernel.
    stride, padding : int
        As in :class:`torch.nn.Conv2d` (the same for both axes; zero padding).
    layout : {"dense", "coo", "csr"}
        A dense tensor (small images only: it has rows x cols entries), or a
        sparse COO (coalesced) or CSR tensor holding only the covered entries.

    Returns
    -------
    torch.Tensor
        Shape (out_channels * H_out * W_out, in_channels * height * width),
        the dtype of ``weight``.
    """
    check_tensor("weight", weight, ndim=4)
    out_channels, in_channels, kh, kw = weight.shape
    height, width, kh, kw, stride, padding = _check_geometry(height, width, kh, kw, stride, padding)
    check_choice("layout", layout, LAYOUTS)
    weight = weight.detach()
    h_out = (height + 2 * padding - kh) // stride + 1
    w_out = (width + 2 * padding - kw) // stride + 1
    n_rows = out_channels * h_out * w_out
    n_cols = in_channels * height * width
    shape = (out_channels, h_out, w_out, in_channels, kh, kw)
    check_elements("the matrix", (n_rows, n_cols) if layout == "dense" else shape)
    # One candidate entry per (out channel o, output row i, output col j, in channel ch,
    # kernel row u, kernel col v), broadcast in that order. Row-major order of these axes is
    # row order (o, i, j) and, inside a row, column order (ch, input row, input col), so the
    # entries come out sorted as COO and CSR want them, with no sort.
    o, i, j, ch, u, v = (torch.arange(n).view([-1 if d == a else 1 for d in range(6)])
                         for a, n in enumerate((out_channels, h_out, w_out, in_channels, kh, kw)))
    in_row = i * stride + u - padding
    in_col = j * stride + v - padding
    inside = ((in_row >= 0) & (in_row < height) & (in_col >= 0) & (in_col < width)).expand(shape)
    rows = ((o * h_out + i) * w_out + j).expand(shape)[inside]
    cols = ((ch * height + in_row) * width + in_col).expand(shape)[inside]
    vals = weight[o, ch, u, v].expand(shape)[inside]
    size = (n_rows, n_cols)
    if layout == "dense":
        dense = torch.zeros(size, dtype=weight.dtype)
        dense[rows, cols] = vals
        return dense
    if layout == "coo":
        return torch.sparse_coo_tensor(torch.stack([rows, cols]), vals, size, is_coalesced=True,
                                       check_invariants=True)
    crow = torch.zeros(n_rows + 1, dtype=torch.int64)
    crow[1:] = torch.cumsum(torch.bincount(rows, minlength=n_rows), 0)
    with warnings.catch_warnings():
        # PyTorch flags CSR as beta on first use; the chapter relies only on construction
        # and matrix-vector products, which the tests check against conv2d.
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(crow, cols, vals, size, check_invariants=True)


def apply_matrix(matrix: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Multiply a convolution matrix by a flattened image.

    Parameters
    ----------
    matrix : torch.Tensor
        From :func:`conv_matrix`, any layout.
    x : torch.Tensor
        Floating-point input of shape (C, H, W) or (1, C, H, W), with
        ``C * H * W`` equal to the matrix's number of columns.

    Returns
    -------
    torch.Tensor
        The 1-D product, ``matrix @ x.flatten()``.
    """
    if not isinstance(matrix, torch.Tensor) or matrix.ndim != 2:
        raise ValueError(f"matrix must be a 2-D torch.Tensor, got {type(matrix).__name__}"
                         f"{'' if not isinstance(matrix, torch.Tensor) else f' of shape {tuple(matrix.shape)}'}")
    check_tensor("x", x, ndim=(3, 4))
    if x.ndim == 4 and x.shape[0] != 1:
        raise ValueError(f"x must be one image, (C, H, W) or (1, C, H, W), got shape {tuple(x.shape)}")
    if x.numel() != matrix.shape[1]:
        raise ValueError(f"x must have {matrix.shape[1]} values to match the matrix's columns, "
                         f"got shape {tuple(x.shape)} ({x.numel()} values)")
    return matrix @ x.reshape(-1)


def storage_bytes(operator: torch.Tensor) -> int:
    """Bytes a tensor keeps: values, plus indices for a sparse COO or CSR tensor.

    Parameters
    ----------
    operator : torch.Tensor
        A dense tensor (a kernel or a dense matrix) or a sparse COO/CSR matrix.

    Returns
    -------
    int
    """
    if not isinstance(operator, torch.Tensor):
        raise ValueError(f"operator must be a torch.Tensor, got {type(operator).__name__}")
    if operator.layout == torch.strided:
        parts = [operator]
    elif operator.layout == torch.sparse_coo:
        parts = [operator._values(), operator._indices()]
    elif operator.layout == torch.sparse_csr:
        parts = [operator.values(), operator.col_indices(), operator.crow_indices()]
    else:
        raise ValueError(f"operator must be dense, sparse COO or sparse CSR, got layout {operator.layout}")
    return int(sum(p.numel() * p.element_size() for p in parts))


@dataclass(frozen=True)
class MethodCost:
    """What one method needs for one convolution.

    Attributes
    ----------
    flops : int
        Floating-point operations (multiplications plus additions).
    stored : int
        Numbers kept to describe the map: kernel weights, matrix entries or non-zeros.
    nbytes : int
        Bytes of those numbers, plus indices for the sparse matrix.
    """

    flops: int
    stored: int
    nbytes: int


@dataclass(frozen=True)
class Costs:
    """Counts for one convolution computed three ways (see the module's counting convention).

    Attributes
    ----------
    out_height, out_width : int
        Output size.
    rows, cols : int
        Shape of the convolution's matrix: output values by input values.
    convolution, sparse, dense : MethodCost
        The three methods.
    """

    out_height: int
    out_width: int
    rows: int
    cols: int
    convolution: MethodCost
    sparse: MethodCost
    dense: MethodCost

    def method(self, name: str) -> MethodCost:
        """The cost of one of :data:`TIMED`, by name (a convolution's count is the same on every back end)."""
        check_choice("name", name, TIMED)
        return {"convolution": self.convolution, "convolution, oneDNN off": self.convolution,
                "sparse matrix": self.sparse, "dense matrix": self.dense}[name]

    def ratio(self, quantity: str, slow: str = "dense matrix", fast: str = "convolution") -> float:
        """How many times more ``quantity`` (``"flops"``, ``"stored"`` or ``"nbytes"``) ``slow`` needs than ``fast``."""
        check_choice("quantity", quantity, ("flops", "stored", "nbytes"))
        return getattr(self.method(slow), quantity) / getattr(self.method(fast), quantity)


def costs(height: int, width: int, kernel_height: int, kernel_width: int, *, in_channels: int = 1,
          out_channels: int = 1, stride: int = 1, padding: int = 0, sparse_layout: str = "csr",
          value_bytes: int = 4, index_bytes: int = 8) -> Costs:
    """Operations and storage of a convolution, its dense matrix and its sparse matrix.

    Closed forms, no tensors are built (see the module docstring for the
    counting convention). For valid padding and stride 1, with ``k = in_channels
    * kernel_height * kernel_width`` and ``n = out_channels * H_out * W_out``
    output values: convolution ``n (2k - 1)`` flops and ``out_channels * k``
    weights; dense ``rows * (2 cols - 1)`` flops and ``rows * cols`` entries;
    sparse ``n k`` non-zeros and the same flops as the convolution.

    Parameters
    ----------
    height, width : int
        Input image size, at least 1 (with padding, at least the kernel).
    kernel_height, kernel_width : int
        Kernel size.
    in_channels, out_channels : int
        Channels of the input and number of filters, at least 1.
    stride, padding : int
        As in :class:`torch.nn.Conv2d`.
    sparse_layout : {"csr", "coo"}
        Index layout counted for the sparse matrix.
    value_bytes, index_bytes : int
        Bytes per stored value (4 for float32) and per index (8 for int64).

    Returns
    -------
    Costs
    """
    height, width, kernel_height, kernel_width, stride, padding = _check_geometry(
        height, width, kernel_height, kernel_width, stride, padding)
    in_channels = check_count("in_channels", in_channels)
    out_channels = check_count("out_channels", out_channels)
    check_choice("sparse_layout", sparse_layout, ("csr", "coo"))
    value_bytes = check_int("value_bytes", value_bytes, low=1)
    index_bytes = check_int("index_bytes", index_bytes, low=1)
    ri, h_out = _axis_windows(height, kernel_height, stride, padding)
    rj, w_out = _axis_windows(width, kernel_width, stride, padding)
    rows = out_channels * h_out * w_out
    cols = in_channels * height * width
    k = in_channels * kernel_height * kernel_width
    conv = MethodCost(flops=rows * (2 * k - 1), stored=out_channels * k, nbytes=out_channels * k * value_bytes)
    dense = MethodCost(flops=rows * (2 * cols - 1), stored=rows * cols, nbytes=rows * cols * value_bytes)
    # Entries of the matrix: (row pairs) x (col pairs) per pair of channels; the axes are separable.
    nnz = out_channels * in_channels * len(ri) * len(rj)
    nonempty_rows = out_channels * len(np.unique(ri)) * len(np.unique(rj))
    index = nnz * index_bytes + (rows + 1) * index_bytes if sparse_layout == "csr" else 2 * nnz * index_bytes
    sparse = MethodCost(flops=2 * nnz - nonempty_rows, stored=nnz, nbytes=nnz * value_bytes + index)
    return Costs(h_out, w_out, rows, cols, conv, sparse, dense)


# --------------------------------------------------------------------------- which code conv2d runs


#: Names of PyTorch's CPU convolution back ends, as :func:`conv_backend` reports them.
BACKENDS = {"Mkldnn": "oneDNN", "Slow2d": "native", "SlowDilated2d": "native"}


def onednn_enabled(enabled: bool):
    """A context manager: inside it, PyTorch may hand CPU convolutions to oneDNN (``True``) or never does (``False``).

    Sets ``torch.backends.mkldnn.enabled`` and restores it afterwards (without
    the TF32 warning that ``torch.backends.mkldnn.flags`` raises on CPU-only builds).
    """
    if not isinstance(enabled, bool):
        raise ValueError(f"enabled must be True or False, got {enabled!r}")
    return _onednn(enabled)


@contextmanager
def _onednn(enabled: bool):
    before = torch._C._get_mkldnn_enabled()
    torch._C._set_mkldnn_enabled(enabled)
    try:
        yield
    finally:
        torch._C._set_mkldnn_enabled(before)


def conv_backend(input_shape, weight_shape, *, stride: int = 1, padding: int = 0, onednn: bool | None = None,
                 threads: int = 1) -> str:
    """Which back end :func:`torch.nn.functional.conv2d` uses on the CPU for these shapes.

    Asks PyTorch's own dispatcher (``torch._C._select_conv_backend``). For
    float32 on one thread, PyTorch (``use_mkldnn`` in
    ``aten/src/ATen/native/Convolution.cpp``) gives the convolution to oneDNN
    when the batch holds more than one image, or the kernel is larger than 3 in
    both directions, or the input has more than 20,480 values; otherwise
    (and always for a 1 x 1 kernel with stride 1 on one image) it runs its own
    unrolling and matrix product.

    Parameters
    ----------
    input_shape : sequence of int
        (batch, in_channels, height, width).
    weight_shape : sequence of int
        (out_channels, in_channels, kH, kW).
    stride, padding : int
        As in :class:`torch.nn.Conv2d`.
    onednn : bool, optional
        Whether oneDNN is enabled (:func:`onednn_enabled`); by default as it is now.
    threads : int
        PyTorch's intra-op threads during the choice (1 to 64).

    Returns
    -------
    str
        ``"oneDNN"`` or ``"native"`` (PyTorch's unrolling and matrix product),
        or the dispatcher's own name for any other back end.
    """
    shapes = {}
    for name, shape in (("input_shape", input_shape), ("weight_shape", weight_shape)):
        if isinstance(shape, (str, bytes)) or not hasattr(shape, "__len__") or len(shape) != 4:
            raise ValueError(f"{name} must be 4 integers, got {shape!r:.80}")
        shapes[name] = [check_count(name, s) for s in shape]
    x_shape, w_shape = shapes["input_shape"], shapes["weight_shape"]
    if x_shape[1] != w_shape[1]:
        raise ValueError(f"weight_shape must have {x_shape[1]} input channels to match input_shape, got {w_shape}")
    stride = check_side("stride", stride)
    padding = check_side("padding", padding, low=0)
    _check_geometry(x_shape[2], x_shape[3], w_shape[2], w_shape[3], stride, padding)
    check_elements("the input", x_shape)
    threads = check_int("threads", threads, low=1, high=64)
    if onednn is None:
        onednn = bool(torch._C._get_mkldnn_enabled())
    if not isinstance(onednn, bool):
        raise ValueError(f"onednn must be True, False or None, got {onednn!r}")
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(threads)
        with onednn_enabled(onednn):
            chosen = torch._C._select_conv_backend(
                torch.empty(x_shape), torch.empty(w_shape), None, [stride] * 2, [padding] * 2, [1, 1], False,
                [0, 0], 1, None)
    finally:
        torch.set_num_threads(before)
    name = str(chosen).rsplit(".", 1)[-1]
    return BACKENDS.get(name, name)


# --------------------------------------------------------------------------- timing


@dataclass(frozen=True)
class Timing:
    """Measured cost of one convolution computed by each method.

    Attributes
    ----------
    height, width : int
        Input size.
    clock : str
        The clock read, a key of :data:`CLOCKS`.
    seconds : dict
        Method name to the fastest time of one product over the runs, in seconds.
    runs : dict
        Method name to the per-product time of every timed run.
    nbytes : dict
        Method name to the bytes of the operator actually built (:func:`storage_bytes`).
    max_abs_diff : dict
        Matrix method name to the largest absolute difference from ``conv2d``'s output.
    backend : dict
        Convolution method name to the back end that ran it (:func:`conv_backend`).
    """

    height: int
    width: int
    clock: str = "wall"
    seconds: dict = field(default_factory=dict)
    runs: dict = field(default_factory=dict)
    nbytes: dict = field(default_factory=dict)
    max_abs_diff: dict = field(default_factory=dict)
    backend: dict = field(default_factory=dict)


def _time_call(fn, repeats: int, min_run_seconds: float, clock) -> list[float]:
    """Per-call seconds of ``repeats`` runs, each run looping ``fn`` long enough to time reliably."""
    start = clock()
    fn()  # warm-up (allocations, first-call dispatch), also a first estimate
    first = clock() - start
    number = max(1, min(10_000, math.ceil(min_run_seconds / max(first, 1e-9))))
    runs = []
    for _ in range(repeats):
        start = clock()
        for _ in range(number):
            fn()
        runs.append(max(clock() - start, 1e-12) / number)
    return runs


def _check_timing(repeats, min_run_seconds, clock):
    repeats = check_int("repeats", repeats, low=1, high=50)
    if not isinstance(min_run_seconds, (int, float)) or isinstance(min_run_seconds, bool) \
            or not 0 < min_run_seconds <= 1:
        raise ValueError(f"min_run_seconds must be a number in (0, 1], got {min_run_seconds!r}")
    check_choice("clock", clock, list(CLOCKS))
    return repeats


def _check_methods(methods):
    if isinstance(methods, str) or not methods or any(m not in TIMED for m in methods) \
            or len(set(methods)) != len(methods):
        raise ValueError(f"methods must be distinct names from {list(TIMED)}, got {methods!r}")
    return tuple(methods)


def time_methods(weight: torch.Tensor, height: int, width: int, *, methods=METHODS, repeats: int = 5,
                 min_run_seconds: float = 2e-3, max_dense_bytes: int = 2**30, seed: int = 0,
                 clock: str = "wall") -> Timing:
    """Time one convolution as ``conv2d``, as a sparse (CSR) and as a dense matrix-vector product.

    Runs on one thread (``torch.set_num_threads(1)``, restored afterwards).
    Each method is run once to warm up, then ``repeats`` times; each run
    repeats the call until it lasts at least ``min_run_seconds``. Only the
    product is timed: building the matrices is not. ``"convolution"`` is
    ``conv2d`` with the back end PyTorch chooses; ``"convolution, oneDNN off"``
    the same call with oneDNN disabled, so that PyTorch's own unrolling and
    matrix product runs at every size.

    ``clock="wall"`` reads :func:`time.perf_counter`, the elapsed time.
    ``clock="cpu"`` reads :func:`time.process_time`, the processor time this
    process used: when other programs compete for the processor only the
    elapsed time grows.

    Parameters
    ----------
    weight : torch.Tensor
        Floating-point filters of shape (out_channels, in_channels, kH, kW).
    height, width : int
        Input size.
    methods : sequence of str
        Some of :data:`TIMED`.
    repeats : int
        Timed runs per method (1 to 50); the fastest is reported: other
        programs on the machine only ever slow a run down.
    min_run_seconds : float
        Least duration of one timed run, in (0, 1].
    max_dense_bytes : int
        Refuse to build a dense matrix larger than this (default 1 GiB).
    seed : int
        Seed of the random input image.
    clock : {"wall", "cpu"}
        Which clock to read (see above).

    Returns
    -------
    Timing
    """
    check_tensor("weight", weight, ndim=4)
    methods = _check_methods(methods)
    repeats = _check_timing(repeats, min_run_seconds, clock)
    max_dense_bytes = check_int("max_dense_bytes", max_dense_bytes, low=1)
    seed = check_int("seed", seed, low=0)
    count = costs(height, width, weight.shape[2], weight.shape[3], in_channels=weight.shape[1],
                  out_channels=weight.shape[0], value_bytes=weight.element_size())
    if "dense matrix" in methods and count.dense.nbytes > max_dense_bytes:
        raise ValueError(f"max_dense_bytes is {max_dense_bytes}, but the dense matrix for a {height} x {width} "
                         f"image would need {count.dense.nbytes} bytes; leave 'dense matrix' out of methods "
                         "or allow more")
    weight = weight.detach()
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(1, weight.shape[1], height, width, generator=gen, dtype=weight.dtype)
    flat = x.reshape(-1)
    threads = torch.get_num_threads()
    result = Timing(height, width, clock)
    try:
        torch.set_num_threads(1)
        with torch.inference_mode():
            reference = torch.nn.functional.conv2d(x, weight).reshape(-1)
            for method in methods:
                onednn = method != "convolution, oneDNN off"
                if method.startswith("convolution"):
                    operator = weight
                    call = lambda: torch.nn.functional.conv2d(x, weight)  # noqa: E731
                    result.backend[method] = conv_backend(x.shape, weight.shape, onednn=onednn)
                else:
                    operator = conv_matrix(weight, height, width,
                                           layout="csr" if method == "sparse matrix" else "dense")
                    call = lambda op=operator: op @ flat  # noqa: E731
                    result.max_abs_diff[method] = float((call() - reference).abs().max())
                with onednn_enabled(onednn):
                    runs = _time_call(call, repeats, min_run_seconds, CLOCKS[clock])
                result.runs[method] = runs
                result.seconds[method] = min(runs)
                result.nbytes[method] = storage_bytes(operator)
                del operator, call
    finally:
        torch.set_num_threads(threads)
    return result


@dataclass(frozen=True)
class Rounds:
    """Times of several methods taken in interleaved rounds, for paired comparisons.

    Attributes
    ----------
    seconds : dict
        Method name to a numpy array, one time per round (the fastest of that
        round's runs).
    backend : dict
        Convolution method name to the back end that ran it.
    """

    seconds: dict
    backend: dict

    def ratio(self, slow: str, fast: str, *, margin: float = 1.1, confidence: float = 0.95) -> TimeRatio:
        """How many times as long ``slow`` took as ``fast``: :func:`time_ratio` of their rounds."""
        check_choice("slow", slow, list(self.seconds))
        check_choice("fast", fast, list(self.seconds))
        return time_ratio(self.seconds[slow], self.seconds[fast], margin=margin, confidence=confidence)


def time_rounds(weight: torch.Tensor, height: int, width: int, *, methods=("convolution", "sparse matrix"),
                rounds: int = 7, repeats: int = 3, min_run_seconds: float = 2e-3, clock: str = "cpu") -> Rounds:
    """Time ``methods`` on one image in ``rounds`` rounds, every method once per round.

    A burst of other programs' load slows whichever method is running; taking
    the methods in turn within each round and comparing them round by round
    (:func:`time_ratio`) keeps such bursts out of the comparison as far as
    possible. Arguments as in :func:`time_methods`; ``rounds`` is 2 to 50.
    """
    rounds = check_int("rounds", rounds, low=2, high=50)
    methods = _check_methods(methods)
    seconds = {m: [] for m in methods}
    backend = {}
    for _ in range(rounds):
        timing = time_methods(weight, height, width, methods=methods, repeats=repeats,
                              min_run_seconds=min_run_seconds, clock=clock)
        for m in methods:
            seconds[m].append(timing.seconds[m])
        backend.update(timing.backend)
    return Rounds({m: np.asarray(v) for m, v in seconds.items()}, backend)


def layer_passes(in_channels: int, out_channels: int, kernel_size: int, side: int, *, batch: int = 1,
                 rounds: int = 7, repeats: int = 3, min_run_seconds: float = 2e-3, onednn: bool = True,
                 seed: int = 0, clock: str = "cpu") -> Rounds:
    """Time the forward and the backward pass of one ``Conv2d`` layer (padding ``kernel_size // 2``), in rounds.

    The forward pass runs with gradients recorded, as in training. The
    backward pass computes the gradients of the input, the weights and the
    bias from a fixed output gradient, over a graph kept from one forward pass,
    so that it is timed alone. On one thread.

    Parameters
    ----------
    in_channels, out_channels, kernel_size, side, batch : int
        The layer and its input, ``batch`` images of ``side`` x ``side``.
    rounds, repeats, min_run_seconds, clock
        As in :func:`time_rounds`.
    onednn : bool
        Whether PyTorch may use oneDNN (:func:`onednn_enabled`).
    seed : int
        Seed of the layer's weights and the input.

    Returns
    -------
    Rounds
        Methods ``"forward"`` and ``"backward"``; ``backend["forward"]`` is
        the back end of the forward convolution.
    """
    in_channels = check_count("in_channels", in_channels)
    out_channels = check_count("out_channels", out_channels)
    kernel_size = check_int("kernel_size", kernel_size, low=1, high=15)
    side = check_side("side", side, low=kernel_size)
    batch = check_count("batch", batch)
    check_elements("the input", (batch, max(in_channels, out_channels), side, side))
    rounds = check_int("rounds", rounds, low=2, high=50)
    repeats = _check_timing(repeats, min_run_seconds, clock)
    seed = check_int("seed", seed, low=0)
    if not isinstance(onednn, bool):
        raise ValueError(f"onednn must be True or False, got {onednn!r}")
    threads = torch.get_num_threads()
    seconds = {"forward": [], "backward": []}
    try:
        torch.set_num_threads(1)
        with torch.random.fork_rng(devices=[]), onednn_enabled(onednn):
            torch.manual_seed(seed)
            layer = torch.nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
            x = torch.rand(batch, in_channels, side, side, requires_grad=True)
            y = layer(x)
            grad = torch.ones_like(y)
            inputs = (x, layer.weight, layer.bias)
            forward = lambda: layer(x)  # noqa: E731
            backward = lambda: torch.autograd.grad(y, inputs, grad, retain_graph=True)  # noqa: E731
            for _ in range(rounds):
                for name, call in (("forward", forward), ("backward", backward)):
                    seconds[name].append(min(_time_call(call, repeats, min_run_seconds, CLOCKS[clock])))
    finally:
        torch.set_num_threads(threads)
    backend = conv_backend((batch, in_channels, side, side), (out_channels, in_channels, kernel_size, kernel_size),
                           padding=kernel_size // 2, onednn=onednn)
    return Rounds({m: np.asarray(v) for m, v in seconds.items()}, {"forward": backend})


def machine_memory() -> dict:
    """The processor's cache sizes and the machine's memory, in bytes, where Linux reports them.

    Returns
    -------
    dict
        ``"L1d"``, ``"L2"``, ``"L3"`` (the first processor's data and unified
        caches, from ``/sys/devices/system/cpu/cpu0/cache``) and ``"memory"``
        (physical memory); a size that cannot be read is ``None``.
    """
    found = {"L1d": None, "L2": None, "L3": None, "memory": None}
    base = "/sys/devices/system/cpu/cpu0/cache"
    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    try:
        entries = sorted(os.listdir(base))
    except OSError:
        entries = []
    for entry in entries:
        if not entry.startswith("index"):
            continue
        try:
            parts = {}
            for key in ("level", "type", "size"):
                with open(os.path.join(base, entry, key)) as handle:
                    parts[key] = handle.read().strip()
            size = parts["size"]
            value = int(size[:-1]) * units[size[-1]] if size[-1] in units else int(size)
        except (OSError, ValueError, KeyError, IndexError):
            continue
        name = "L1d" if parts["level"] == "1" and parts["type"] == "Data" else f"L{parts['level']}"
        if name in found and parts["type"] != "Instruction":
            found[name] = value
    try:
        found["memory"] = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (OSError, ValueError, AttributeError):
        pass
    return found


def cache_test(side: int, *, rounds: int = 15, evict_bytes: int = 2**27, seed: int = 0,
               clock: str = "cpu") -> Rounds:
    """Time one dense product with its matrix in the processor's caches, and after evicting it.

    In each round the dense matrix of the difference kernel on a ``side`` x
    ``side`` image is multiplied twice: once right after a product with the
    same matrix (``"warm"``: whatever fits of it is still cached), and once
    after writing ``evict_bytes`` of other memory, which pushes it out of
    every cache (``"cold"``). Each product is timed alone, on one thread.

    Parameters
    ----------
    side : int
        Image side (2 to 128): the matrix has ``side * (side - 1) * side**2`` entries.
    rounds : int
        Rounds (2 to 50).
    evict_bytes : int
        Bytes written between products to evict the matrix (1 MiB to 1 GiB);
        choose several times the largest cache.
    seed : int
        Seed of the input image.
    clock : {"wall", "cpu"}
        As in :func:`time_methods`.

    Returns
    -------
    Rounds
        Methods ``"warm"`` and ``"cold"``: seconds of one product in each round.
    """
    side = check_int("side", side, low=2, high=128)
    rounds = check_int("rounds", rounds, low=2, high=50)
    evict_bytes = check_int("evict_bytes", evict_bytes, low=2**20, high=2**30)
    seed = check_int("seed", seed, low=0)
    check_choice("clock", clock, list(CLOCKS))
    read = CLOCKS[clock]
    matrix = conv_matrix(difference_kernel(), side, side)
    x = torch.rand(side * side, generator=torch.Generator().manual_seed(seed))
    other = torch.zeros(evict_bytes // 4)
    seconds = {"warm": [], "cold": []}
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        with torch.inference_mode():
            matrix @ x
            for _ in range(rounds):
                start = read()
                matrix @ x
                seconds["warm"].append(max(read() - start, 1e-12))
                other.add_(1.0)
                start = read()
                matrix @ x
                seconds["cold"].append(max(read() - start, 1e-12))
    finally:
        torch.set_num_threads(threads)
    return Rounds({m: np.asarray(v) for m, v in seconds.items()}, {})


#: The words :func:`time_ratio` chooses from.
VERDICTS = ("slower", "faster", "as fast", "unresolved")


@dataclass(frozen=True)
class TimeRatio:
    """One method's time as a multiple of another's, from paired rounds.

    Attributes
    ----------
    ratio, low, high : float
        Geometric mean of the per-round ratios and its confidence interval.
    confidence : float
        The interval's coverage.
    rounds : int
        Rounds compared.
    margin : float
        Ratios within ``[1 / margin, margin]`` count as "as fast".
    verdict : str
        One of :data:`VERDICTS`: ``"slower"`` if the interval lies above 1,
        ``"faster"`` if below, ``"as fast"`` if it lies within the margin,
        ``"unresolved"`` otherwise.
    """

    ratio: float
    low: float
    high: float
    confidence: float
    rounds: int
    margin: float
    verdict: str

    @property
    def interval_text(self) -> str:
        """What the interval is and spans: ``"95 % CI 2.20 to 2.43 over 7 rounds"``."""
        return f"{100 * self.confidence:.0f} % CI {self.low:.2f} to {self.high:.2f} over {self.rounds} rounds"

    def __format__(self, spec: str) -> str:
        """``"2.31 (95 % CI 2.20 to 2.43 over 7 rounds)"``; ``spec`` formats the ratio (default ``.2f``)."""
        return f"{format(self.ratio, spec or '.2f')} ({self.interval_text})"


def time_ratio(slow, fast, *, margin: float = 1.1, confidence: float = 0.95) -> TimeRatio:
    """Compare two methods' times round by round (paired, on a log scale).

    Uses :func:`widgets.compute.stats.paired` on the logarithms of the times:
    the mean log ratio with a Student-t interval over the rounds.

    Parameters
    ----------
    slow, fast : sequence of float
        Positive times, one per round, the same rounds in the same order (at least 2).
    margin : float
        Greater than 1: ratios within ``[1 / margin, margin]`` count as equal.
    confidence : float
        Coverage of the interval, strictly between 0 and 1.
    """
    values = {}
    for name, v in (("slow", slow), ("fast", fast)):
        v = np.asarray(v, dtype=float) if not isinstance(v, (str, bytes)) else np.array([np.nan])
        if v.ndim != 1 or len(v) < 2 or not np.all(np.isfinite(v)) or not np.all(v > 0):
            raise ValueError(f"{name} must hold at least 2 positive finite times, one per round, got {v!r:.80}")
        values[name] = v
    if len(values["slow"]) != len(values["fast"]):
        raise ValueError(f"fast must have one time per round of slow ({len(values['slow'])}), "
                         f"got {len(values['fast'])}")
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 1 < margin < math.inf:
        raise ValueError(f"margin must be a finite number greater than 1, got {margin!r}")
    comparison = stats.paired(np.log(values["slow"]).tolist(), np.log(values["fast"]).tolist(),
                              margin=math.log(margin), confidence=confidence)
    verdict = {"ahead": "slower", "behind": "faster", "level": "as fast", "unresolved": "unresolved"}[
        comparison.verdict]
    return TimeRatio(math.exp(comparison.mean), math.exp(comparison.low), math.exp(comparison.high),
                     confidence, comparison.n, float(margin), verdict)


# --------------------------------------------------------------------------- scaling fits


@dataclass(frozen=True)
class PowerLaw:
    """``y = coefficient * x ** exponent``, fitted by :func:`power_law_fit`.

    Attributes
    ----------
    exponent, coefficient : float
    exponent_se : float
        Standard error of the exponent, from the scatter of the points about
        the line (NaN for a fit through two points, which has no scatter to measure).
    n : int
        Points fitted.
    log_x_mean, log_x_spread, residual_sd : float
        Mean of ``log x``, sum of squared deviations of ``log x`` from it, and
        the standard deviation of the residuals in ``log y``: what
        :meth:`interval` needs.
    """

    exponent: float
    coefficient: float
    exponent_se: float = float("nan")
    n: int = 2
    log_x_mean: float = 0.0
    log_x_spread: float = 1.0
    residual_sd: float = float("nan")

    def predict(self, x):
        """The fitted value at ``x`` (a number or an array of finite numbers >= 0)."""
        values = np.asarray(x, dtype=float)
        if not (np.all(np.isfinite(values)) and np.all(values >= 0)):
            raise ValueError(f"x must hold finite numbers >= 0, got {x!r:.80}")
        return self.coefficient * values ** self.exponent

    def exponent_interval(self, confidence: float = 0.95) -> tuple[float, float]:
        """Student-t confidence interval of the exponent (NaN ends for a fit through two points)."""
        t = self._t(confidence)
        return self.exponent - t * self.exponent_se, self.exponent + t * self.exponent_se

    def interval(self, x, confidence: float = 0.95) -> tuple[float, float]:
        """Confidence interval of the fitted line's value at ``x`` > 0.

        It covers only the scatter of the fitted points: beyond them it says
        nothing about a change of regime the points did not show.
        """
        if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)) \
                or not np.isfinite(x) or x <= 0:
            raise ValueError(f"x must be a finite number > 0, got {x!r}")
        t = self._t(confidence)
        lx = math.log(x)
        se = self.residual_sd * math.sqrt(1 / self.n + (lx - self.log_x_mean) ** 2 / self.log_x_spread)
        centre = float(self.predict(x))
        return centre * math.exp(-t * se), centre * math.exp(t * se)

    def _t(self, confidence):
        if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 < confidence < 1:
            raise ValueError(f"confidence must be a number strictly between 0 and 1, got {confidence!r}")
        return float(_t_dist.ppf((1 + confidence) / 2, self.n - 2)) if self.n > 2 else float("nan")


def power_law_fit(x, y) -> PowerLaw:
    """Least-squares straight line through ``(log x, log y)``: the scaling exponent and prefactor.

    Parameters
    ----------
    x, y : array-like
        At least two positive numbers each, same length, not all ``x`` equal.

    Returns
    -------
    PowerLaw
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim != 1 or x.shape != y.shape or len(x) < 2:
        raise ValueError(f"x and y must be 1-D of the same length, at least 2, got shapes {x.shape} and {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(x > 0)):
        raise ValueError(f"x must be finite and positive, got {x.tolist()}")
    if not (np.all(np.isfinite(y)) and np.all(y > 0)):
        raise ValueError(f"y must be finite and positive, got {y.tolist()}")
    if np.ptp(x) == 0:
        raise ValueError(f"x must hold at least two different values, got {x.tolist()}")
    log_x, log_y = np.log(x), np.log(y)
    slope, intercept = np.polyfit(log_x, log_y, 1)
    spread = float(np.sum((log_x - log_x.mean()) ** 2))
    se = sd = float("nan")
    if len(x) > 2:
        residuals = log_y - (slope * log_x + intercept)
        sd = float(np.sqrt(residuals @ residuals / (len(x) - 2)))
        se = sd / math.sqrt(spread)
    return PowerLaw(float(slope), float(np.exp(intercept)), se, len(x), float(log_x.mean()), spread, sd)


@dataclass(frozen=True)
class Sweep:
    """Timings of one kernel over a range of square image sizes (built by :func:`sweep`).

    Attributes
    ----------
    sides : dict
        Method name to the image sides (pixels per side) it was timed at.
    pixels, seconds, nbytes : dict
        Method name to numpy arrays aligned with ``sides``: pixel counts,
        fastest seconds of one product and bytes of the operator built.
    max_abs_diff : dict
        Matrix method name to its largest difference from ``conv2d`` over all sizes.
    backend : dict
        Convolution method name to a list, aligned with ``sides``, of the back end that ran.
    passes : dict
        Method name to an array of shape (rounds, sides): each pass's fastest
        time at each side, so that the spread *between* passes can be measured
        (:meth:`fit_passes`).
    """

    sides: dict
    pixels: dict
    seconds: dict
    nbytes: dict
    max_abs_diff: dict
    backend: dict = field(default_factory=dict)
    passes: dict = field(default_factory=dict)

    def fit(self, method: str, min_side: int = 1, max_side: int = MAX_SIDE) -> PowerLaw:
        """Power law of ``method``'s time against pixels, fitted on sides from ``min_side`` to ``max_side``."""
        check_choice("method", method, list(self.sides))
        min_side = check_int("min_side", min_side, low=1)
        max_side = check_int("max_side", max_side, low=min_side)
        sides = np.asarray(self.sides[method])
        keep = (sides >= min_side) & (sides <= max_side)
        if keep.sum() < 2:
            raise ValueError(f"min_side must leave at least two sizes of {method!r} to fit, got {min_side} "
                             f"(max_side {max_side})")
        return power_law_fit(np.asarray(self.pixels[method])[keep], np.asarray(self.seconds[method])[keep])

    def fit_passes(self, method: str, min_side: int = 1, max_side: int = MAX_SIDE) -> list[PowerLaw]:
        """One power law per pass of the sweep, each fitted like :meth:`fit` to that pass's times alone.

        The exponents' spread from pass to pass is the run-to-run variation that
        one fit's standard error (the scatter within one pass) does not see.
        """
        check_choice("method", method, list(self.passes))
        min_side = check_int("min_side", min_side, low=1)
        max_side = check_int("max_side", max_side, low=min_side)
        sides = np.asarray(self.sides[method])
        keep = (sides >= min_side) & (sides <= max_side)
        if keep.sum() < 3:
            raise ValueError(f"min_side must leave at least three sizes of {method!r} to fit each pass, got "
                             f"{min_side} (max_side {max_side})")
        pixels = np.asarray(self.pixels[method])[keep]
        return [power_law_fit(pixels, times[keep]) for times in np.asarray(self.passes[method])]

    def per_pixel(self, method: str) -> dict:
        """Image side to ``method``'s fastest time divided by the image's (input) pixels, in nanoseconds."""
        check_choice("method", method, list(self.sides))
        return {int(s): float(t / p * 1e9) for s, t, p in
                zip(self.sides[method], self.seconds[method], self.pixels[method])}


def sweep(weight: torch.Tensor, sides, *, methods=METHODS, dense_sides=None, repeats: int = 5, rounds: int = 1,
          min_run_seconds: float = 2e-3, max_dense_bytes: int = 2**30, clock: str = "wall",
          shuffle_seed: int | None = None) -> Sweep:
    """Time a kernel on square images of several sides with :func:`time_methods`.

    The whole sweep, every side in turn, is run ``rounds`` times, and each
    side keeps its fastest time over the rounds. Other programs' load comes and
    goes: within one round it can slow a stretch of neighbouring sides and so
    bend the fitted scaling; spread over rounds, each side gets its chances at
    a quiet moment.

    Parameters
    ----------
    weight : torch.Tensor
        Floating-point filters of shape (out_channels, in_channels, kH, kW).
    sides : sequence of int
        Image sides at which the methods are timed.
    methods : sequence of str
        Some of :data:`TIMED`.
    dense_sides : sequence of int, optional
        The sides (a subset of ``sides``) at which the dense matrix is timed,
        if it is among ``methods``; default all of them. Each dense matrix must
        fit ``max_dense_bytes``.
    repeats, min_run_seconds, max_dense_bytes, clock
        As in :func:`time_methods` (``repeats`` runs per side in each round).
    rounds : int
        Passes over all the sides (1 to 20).
    shuffle_seed : int, optional
        If given, each pass visits the sides in a random order drawn from this
        seed (a different order each pass), so that load which drifts during a
        pass does not tilt the times against the image size; by default in
        the order given.

    Returns
    -------
    Sweep
    """
    check_tensor("weight", weight, ndim=4)
    if isinstance(sides, (str, bytes)) or not hasattr(sides, "__iter__"):
        raise ValueError(f"sides must be a sequence of image sides, got {sides!r}")
    sides = [check_int("sides", s, low=max(weight.shape[2], weight.shape[3]), high=MAX_SIDE) for s in sides]
    if len(sides) < 1 or len(set(sides)) != len(sides):
        raise ValueError(f"sides must be distinct and at least one, got {sides}")
    methods = _check_methods(methods)
    check_choice("clock", clock, list(CLOCKS))
    rounds = check_int("rounds", rounds, low=1, high=20)
    dense_sides = list(sides) if dense_sides is None else list(dense_sides)
    if any(s not in sides for s in dense_sides):
        raise ValueError(f"dense_sides must be a subset of sides {sides}, got {dense_sides}")
    if shuffle_seed is not None:
        shuffle_seed = check_int("shuffle_seed", shuffle_seed, low=0)
    orders = [list(sides) if shuffle_seed is None else
              [sides[i] for i in np.random.default_rng([shuffle_seed, r]).permutation(len(sides))]
              for r in range(rounds)]
    fastest, nbytes, backend = {}, {}, {}
    diffs, each = {}, {}
    for order_of_pass in orders:
        for side in order_of_pass:
            here = tuple(m for m in methods if m != "dense matrix" or side in dense_sides)
            timing = time_methods(weight, side, side, methods=here, repeats=repeats,
                                  min_run_seconds=min_run_seconds, max_dense_bytes=max_dense_bytes, clock=clock)
            for m in here:
                fastest[side, m] = min(fastest.get((side, m), math.inf), timing.seconds[m])
                each.setdefault((side, m), []).append(timing.seconds[m])
                nbytes[side, m] = timing.nbytes[m]
                if m in timing.backend:
                    backend[side, m] = timing.backend[m]
            for m, d in timing.max_abs_diff.items():
                diffs[m] = max(diffs.get(m, 0.0), d)
    keep = [m for m in TIMED if any(key[1] == m for key in fastest)]
    order = {m: [s for s in sides if (s, m) in fastest] for m in keep}
    return Sweep({m: np.asarray(order[m]) for m in keep},
                 {m: np.asarray([s * s for s in order[m]]) for m in keep},
                 {m: np.asarray([fastest[s, m] for s in order[m]]) for m in keep},
                 {m: np.asarray([nbytes[s, m] for s in order[m]]) for m in keep},
                 diffs, {m: [backend[s, m] for s in order[m]] for m in keep if (order[m][0], m) in backend},
                 {m: np.asarray([each[s, m] for s in order[m]]).T for m in keep})


# --------------------------------------------------------------------------- a whole network


@dataclass(frozen=True)
class LayerCost:
    """What one layer of a network costs for one image (built by :func:`network_costs`).

    Attributes
    ----------
    name : str
        The module's name in the network.
    kind : str
        ``"convolution"``, ``"dense"`` or ``"pooling"``.
    output_shape : tuple of int
        The layer's output for one image (channels, height, width) or (features,).
    parameters : int
        Weights and biases.
    multiply_adds : int
        Multiply-adds of the forward pass for one image: ``H' W' C_out (C_in / groups) kH kW``
        for a convolution, ``in_features * out_features`` for a dense layer, none for pooling.
    activations : int
        Values of the layer's output for one image.
    """

    name: str
    kind: str
    output_shape: tuple
    parameters: int
    multiply_adds: int
    activations: int


def network_costs(model: torch.nn.Module, input_shape) -> list[LayerCost]:
    """Parameters, multiply-adds and output values of every convolution, dense and pooling layer of ``model``.

    Runs ``model`` once on a tensor on PyTorch's ``meta`` device (shapes only,
    no arithmetic and no memory), so even a large network costs nothing to
    count; the model must be on the meta device too (:func:`vgg16` builds one).
    Activation functions, flattening and dropout are not listed: they have no
    parameters and do no multiply-adds (a ReLU computed in place keeps no
    output of its own).

    Parameters
    ----------
    model : torch.nn.Module
        Built on the meta device.
    input_shape : sequence of int
        One image, (channels, height, width).

    Returns
    -------
    list of LayerCost
        In the order the layers run.
    """
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(input_shape, (str, bytes)) or not hasattr(input_shape, "__len__") or len(input_shape) != 3:
        raise ValueError(f"input_shape must be (channels, height, width), got {input_shape!r:.80}")
    shape = [check_side("input_shape", s) for s in input_shape]
    if any(p.device.type != "meta" for p in model.parameters()):
        raise ValueError("model must be built on the meta device (device='meta'), got parameters elsewhere")
    kinds = {torch.nn.Conv2d: "convolution", torch.nn.Linear: "dense", torch.nn.MaxPool2d: "pooling",
             torch.nn.AvgPool2d: "pooling", torch.nn.AdaptiveAvgPool2d: "pooling"}
    rows = []

    def record(name, module, output):
        kind = kinds[type(module)]
        out = tuple(output.shape[1:])
        if kind == "convolution":
            kh, kw = module.kernel_size
            mads = output[0].numel() * (module.in_channels // module.groups) * kh * kw
        elif kind == "dense":
            mads = module.in_features * module.out_features
        else:
            mads = 0
        params = sum(p.numel() for p in module.parameters(recurse=False))
        rows.append(LayerCost(name, kind, out, int(params), int(mads), int(output[0].numel())))

    handles = [module.register_forward_hook(lambda m, i, o, n=name: record(n, m, o))
               for name, module in model.named_modules() if type(module) in kinds]
    try:
        with torch.no_grad():
            model(torch.empty(1, *shape, device="meta"))
    except RuntimeError as err:
        raise ValueError(f"input_shape {tuple(shape)} does not fit the model: {err}") from None
    finally:
        for h in handles:
            h.remove()
    return rows


#: VGG-16's convolutional layers (Simonyan and Zisserman 2015, configuration D): output
#: channels of each 3 x 3 convolution, "M" for a 2 x 2 max pooling.
VGG16 = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")


def vgg16(classes: int = 1000) -> torch.nn.Sequential:
    """VGG-16's architecture on the meta device: shapes and parameter counts, no weights.

    Thirteen 3 x 3 convolutions (padding 1) with ReLUs and five 2 x 2 max
    poolings (:data:`VGG16`), then three dense layers (25,088 to 4,096 to 4,096
    to ``classes``) for a 3 x 224 x 224 image. Layers are named as in the paper's
    usual numbering: ``conv1_1`` ... ``conv5_3``, ``pool1`` ... ``pool5``, ``fc6``,
    ``fc7``, ``fc8``. Dropout is left out (it has no parameters).
    """
    classes = check_count("classes", classes)
    layers, channels, block, index = [], 3, 1, 1
    for v in VGG16:
        if v == "M":
            layers.append((f"pool{block}", torch.nn.MaxPool2d(2)))
            block, index = block + 1, 1
            continue
        layers.append((f"conv{block}_{index}", torch.nn.Conv2d(channels, v, 3, padding=1, device="meta")))
        layers.append((f"relu{block}_{index}", torch.nn.ReLU(inplace=True)))
        channels, index = v, index + 1
    layers.append(("flatten", torch.nn.Flatten()))
    for name, n_in, n_out in (("fc6", 512 * 7 * 7, 4096), ("fc7", 4096, 4096), ("fc8", 4096, classes)):
        layers.append((name, torch.nn.Linear(n_in, n_out, device="meta")))
        if name != "fc8":
            layers.append((f"relu{name[2:]}", torch.nn.ReLU(inplace=True)))
    return torch.nn.Sequential(OrderedDict(layers))
