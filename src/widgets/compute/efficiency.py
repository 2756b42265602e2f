"""Convolution against the same linear map written as a matrix: counts, storage and timings.

Used by the chapter "The computational efficiency of convolution". A 2-D
convolution is linear, so it has a matrix: :func:`conv_matrix` builds it
(dense for small images, sparse for large ones), :func:`costs` counts the
floating-point operations and bytes of the three ways of computing the same
map, and :func:`time_methods` measures them.

Counting convention (used throughout, stated once here)
-------------------------------------------------------
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
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch

from .._checks import check_choice, check_count, check_elements, check_int, check_side, check_tensor

#: The three ways of computing one convolution, in the order the chapter shows them.
METHODS = ("convolution", "sparse matrix", "dense matrix")
#: Matrix layouts :func:`conv_matrix` can build.
LAYOUTS = ("dense", "coo", "csr")
#: Clocks :func:`time_methods` can read: elapsed time, or processor time used by this process.
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}

__all__ = ["METHODS", "LAYOUTS", "CLOCKS", "difference_kernel", "conv_matrix", "apply_matrix", "storage_bytes",
           "MethodCost", "Costs", "costs", "Timing", "time_methods", "PowerLaw", "power_law_fit",
           "Sweep", "sweep", "VERDICTS", "speed_verdict"]


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
        """The cost of one of :data:`METHODS`, by name."""
        check_choice("name", name, METHODS)
        return {"convolution": self.convolution, "sparse matrix": self.sparse, "dense matrix": self.dense}[name]

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
    """

    height: int
    width: int
    clock: str = "wall"
    seconds: dict = field(default_factory=dict)
    runs: dict = field(default_factory=dict)
    nbytes: dict = field(default_factory=dict)
    max_abs_diff: dict = field(default_factory=dict)


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


def time_methods(weight: torch.Tensor, height: int, width: int, *, methods=METHODS, repeats: int = 5,
                 min_run_seconds: float = 2e-3, max_dense_bytes: int = 2**30, seed: int = 0,
                 clock: str = "wall") -> Timing:
    """Time one convolution as ``conv2d``, as a sparse (CSR) and as a dense matrix-vector product.

    Runs on one thread (``torch.set_num_threads(1)``, restored afterwards) for
    stable numbers. Each method is run once to warm up, then ``repeats`` times;
    each run repeats the call until it lasts at least ``min_run_seconds``. Only
    the product is timed: building the matrices is not.

    ``clock="wall"`` reads :func:`time.perf_counter`, the elapsed time.
    ``clock="cpu"`` reads :func:`time.process_time`, the processor time this
    process used: on one thread the two agree on an idle machine, but when
    other programs compete for the processor only the elapsed time grows, and
    it grows more for long calls than for short ones, which skews scaling
    exponents.

    Parameters
    ----------
    weight : torch.Tensor
        Floating-point filters of shape (out_channels, in_channels, kH, kW).
    height, width : int
        Input size.
    methods : sequence of str
        Some of :data:`METHODS`.
    repeats : int
        Timed runs per method (1 to 50); the fastest is reported: other
        programs on the machine only ever slow a run down, so the fastest run
        is the one they disturbed least.
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
    if isinstance(methods, str) or not methods or any(m not in METHODS for m in methods) \
            or len(set(methods)) != len(methods):
        raise ValueError(f"methods must be distinct names from {list(METHODS)}, got {methods!r}")
    repeats = check_int("repeats", repeats, low=1, high=50)
    if not isinstance(min_run_seconds, (int, float)) or isinstance(min_run_seconds, bool) \
            or not 0 < min_run_seconds <= 1:
        raise ValueError(f"min_run_seconds must be a number in (0, 1], got {min_run_seconds!r}")
    max_dense_bytes = check_int("max_dense_bytes", max_dense_bytes, low=1)
    seed = check_int("seed", seed, low=0)
    check_choice("clock", clock, list(CLOCKS))
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
                if method == "convolution":
                    operator = weight
                    call = lambda: torch.nn.functional.conv2d(x, weight)  # noqa: E731
                else:
                    operator = conv_matrix(weight, height, width,
                                           layout="csr" if method == "sparse matrix" else "dense")
                    call = lambda op=operator: op @ flat  # noqa: E731
                    result.max_abs_diff[method] = float((call() - reference).abs().max())
                runs = _time_call(call, repeats, min_run_seconds, CLOCKS[clock])
                result.runs[method] = runs
                result.seconds[method] = min(runs)
                result.nbytes[method] = storage_bytes(operator)
                del operator, call
    finally:
        torch.set_num_threads(threads)
    return result


#: The words :func:`speed_verdict` chooses from.
VERDICTS = ("slower", "about as fast", "faster")


def speed_verdict(ratio: float, tolerance: float = 0.1) -> str:
    """Name the sign of a measured time ratio, so that prose can follow the measurement.

    Parameters
    ----------
    ratio : float
        Time of one method divided by the time of another, finite and positive.
    tolerance : float
        Half-width of the band around 1 called a tie, in (0, 1).

    Returns
    -------
    str
        ``"slower"`` if ``ratio > 1 + tolerance``, ``"faster"`` if
        ``ratio < 1 - tolerance``, otherwise ``"about as fast"``: one of
        :data:`VERDICTS`.
    """
    for name, value, high in (("ratio", ratio, math.inf), ("tolerance", tolerance, 1.0)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < high:
            allowed = "a finite positive number" if high == math.inf else "a number in (0, 1)"
            raise ValueError(f"{name} must be {allowed}, got {value!r}")
    if ratio > 1 + tolerance:
        return "slower"
    if ratio < 1 - tolerance:
        return "faster"
    return "about as fast"


@dataclass(frozen=True)
class PowerLaw:
    """``y = coefficient * x ** exponent``, fitted by :func:`power_law_fit`.

    Attributes
    ----------
    exponent, coefficient : float
    exponent_se : float
        Standard error of the exponent, from the scatter of the points about
        the line (NaN for a fit through two points, which has no scatter to measure).
    """

    exponent: float
    coefficient: float
    exponent_se: float = float("nan")

    def predict(self, x):
        """The fitted value at ``x`` (a number or an array of finite numbers >= 0)."""
        values = np.asarray(x, dtype=float)
        if not (np.all(np.isfinite(values)) and np.all(values >= 0)):
            raise ValueError(f"x must hold finite numbers >= 0, got {x!r:.80}")
        return self.coefficient * values ** self.exponent


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
    se = float("nan")
    if len(x) > 2:
        residuals = log_y - (slope * log_x + intercept)
        se = float(np.sqrt(residuals @ residuals / (len(x) - 2) / np.sum((log_x - log_x.mean()) ** 2)))
    return PowerLaw(float(slope), float(np.exp(intercept)), se)


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
    """

    sides: dict
    pixels: dict
    seconds: dict
    nbytes: dict
    max_abs_diff: dict

    def fit(self, method: str, min_side: int = 1) -> PowerLaw:
        """Power law of ``method``'s time against pixels, fitted on sides of at least ``min_side``."""
        check_choice("method", method, list(self.sides))
        min_side = check_int("min_side", min_side, low=1)
        keep = np.asarray(self.sides[method]) >= min_side
        if keep.sum() < 2:
            raise ValueError(f"min_side must leave at least two sizes of {method!r} to fit, got {min_side}")
        return power_law_fit(self.pixels[method][keep], self.seconds[method][keep])


def sweep(weight: torch.Tensor, sides, *, dense_sides=None, repeats: int = 5, rounds: int = 1,
          min_run_seconds: float = 2e-3, max_dense_bytes: int = 2**30, clock: str = "wall") -> Sweep:
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
        Image sides at which the convolution and the sparse matrix are timed.
    dense_sides : sequence of int, optional
        The sides (a subset of ``sides``) at which the dense matrix is timed
        too; default all of them. Each dense matrix must fit ``max_dense_bytes``.
    repeats, min_run_seconds, max_dense_bytes, clock
        As in :func:`time_methods` (``repeats`` runs per side in each round).
    rounds : int
        Passes over all the sides (1 to 20).

    Returns
    -------
    Sweep
    """
    check_tensor("weight", weight, ndim=4)
    if isinstance(sides, (str, bytes)) or not hasattr(sides, "__iter__"):
        raise ValueError(f"sides must be a sequence of image sides, got {sides!r}")
    sides = [check_int("sides", s, low=max(weight.shape[2], weight.shape[3])) for s in sides]
    if len(sides) < 1 or len(set(sides)) != len(sides):
        raise ValueError(f"sides must be distinct and at least one, got {sides}")
    check_choice("clock", clock, list(CLOCKS))
    rounds = check_int("rounds", rounds, low=1, high=20)
    dense_sides = list(sides) if dense_sides is None else list(dense_sides)
    if any(s not in sides for s in dense_sides):
        raise ValueError(f"dense_sides must be a subset of sides {sides}, got {dense_sides}")
    out = {k: {m: [] for m in METHODS} for k in ("sides", "pixels", "seconds", "nbytes")}
    diffs = {"sparse matrix": 0.0, "dense matrix": 0.0}
    fastest, nbytes = {}, {}
    for _ in range(rounds):
        for side in sides:
            methods = METHODS if side in dense_sides else METHODS[:2]
            timing = time_methods(weight, side, side, methods=methods, repeats=repeats,
                                  min_run_seconds=min_run_seconds, max_dense_bytes=max_dense_bytes, clock=clock)
            for m in methods:
                fastest[side, m] = min(fastest.get((side, m), math.inf), timing.seconds[m])
                nbytes[side, m] = timing.nbytes[m]
            for m, d in timing.max_abs_diff.items():
                diffs[m] = max(diffs[m], d)
    for side, m in fastest:   # in the order of sides, as first timed
        out["sides"][m].append(side)
        out["pixels"][m].append(side * side)
        out["seconds"][m].append(fastest[side, m])
        out["nbytes"][m].append(nbytes[side, m])
    keep = [m for m in METHODS if out["sides"][m]]
    arrays = {k: {m: np.asarray(out[k][m]) for m in keep} for k in out}
    return Sweep(arrays["sides"], arrays["pixels"], arrays["seconds"], arrays["nbytes"],
                 {m: d for m, d in diffs.items() if m in keep})
