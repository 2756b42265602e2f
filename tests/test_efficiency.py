"""Tests of the efficiency chapter's modules: widgets.compute.efficiency and widgets.draw.efficiency.

Matrices are checked against torch.nn.functional.conv2d, counts against
numbers worked out by hand in the comments, the back end against PyTorch's own
rule. No timing is asserted to be fast or slow (a busy machine would fail such
a test): of the timings, only the structure of what the timing functions
return, and that each sentence the chapter chose follows its own measured
numbers. Performance expectations belong to the benchmark (benchmarks/run.py).
"""

import ast
import math
import re
import time

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import glued
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from scipy.stats import t as stats_t
from test_controls import framed
from test_style import laid_out, texts_outside

from widgets.compute import efficiency as ef
from widgets.draw import efficiency as de

PROPERTY = settings(max_examples=40, deadline=None)

# The book's example (Goodfellow et al. 2016, fig. 9.6): 320 wide, 280 tall, kernel [-1, 1].
H, W = 280, 320
PIXELS = H * W                      # 89,600 inputs
OUT = H * (W - 1)                   # 89,320 outputs: 319 wide, 280 tall


# --------------------------------------------------------------------------- conv_matrix


@st.composite
def conv_cases(draw):
    o = draw(st.integers(1, 3))
    c = draw(st.integers(1, 3))
    kh = draw(st.integers(1, 4))
    kw = draw(st.integers(1, 4))
    stride = draw(st.integers(1, 3))
    padding = draw(st.integers(0, 2))
    h = draw(st.integers(max(1, kh - 2 * padding), 8))
    w = draw(st.integers(max(1, kw - 2 * padding), 8))
    layout = draw(st.sampled_from(ef.LAYOUTS))
    seed = draw(st.integers(0, 2**31 - 1))
    return o, c, kh, kw, stride, padding, h, w, layout, seed


@PROPERTY
@given(conv_cases())
def test_matrix_times_image_equals_conv2d(case):
    o, c, kh, kw, stride, padding, h, w, layout, seed = case
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(c, h, w, generator=gen, dtype=torch.float64)
    weight = torch.randn(o, c, kh, kw, generator=gen, dtype=torch.float64)
    want = F.conv2d(x[None], weight, stride=stride, padding=padding)
    matrix = ef.conv_matrix(weight, h, w, stride=stride, padding=padding, layout=layout)
    assert matrix.shape == (want.numel(), c * h * w)
    assert matrix.dtype == torch.float64
    got = ef.apply_matrix(matrix, x)
    torch.testing.assert_close(got, want.flatten(), rtol=1e-10, atol=1e-10)
    # The same through the (1, C, H, W) batch form and through a plain matmul.
    torch.testing.assert_close(ef.apply_matrix(matrix, x[None]), got, rtol=0, atol=0)
    torch.testing.assert_close(matrix @ x.flatten(), got, rtol=0, atol=0)


@PROPERTY
@given(conv_cases())
def test_layouts_hold_the_same_matrix_and_counts(case):
    o, c, kh, kw, stride, padding, h, w, _, seed = case
    weight = torch.randn(o, c, kh, kw, generator=torch.Generator().manual_seed(seed))
    dense = ef.conv_matrix(weight, h, w, stride=stride, padding=padding)
    coo = ef.conv_matrix(weight, h, w, stride=stride, padding=padding, layout="coo")
    csr = ef.conv_matrix(weight, h, w, stride=stride, padding=padding, layout="csr")
    assert dense.layout == torch.strided and coo.layout == torch.sparse_coo and csr.layout == torch.sparse_csr
    assert coo.is_coalesced()
    assert torch.equal(coo.to_dense(), dense)
    assert torch.equal(csr.to_dense(), dense)
    count = ef.costs(h, w, kh, kw, in_channels=c, out_channels=o, stride=stride, padding=padding)
    assert (count.rows, count.cols) == tuple(dense.shape)
    assert count.sparse.stored == csr.values().numel() == coo._nnz()
    assert count.dense.stored == dense.numel()
    # Sparse flops, counted independently row by row: 2r - 1 for a row with r > 0 entries.
    per_row = csr.crow_indices().diff()
    assert count.sparse.flops == int((2 * per_row - 1).clamp(min=0).sum())
    # Storage counts are the bytes of the tensors actually built.
    assert count.sparse.nbytes == ef.storage_bytes(csr)
    assert ef.costs(h, w, kh, kw, in_channels=c, out_channels=o, stride=stride, padding=padding,
                    sparse_layout="coo").sparse.nbytes == ef.storage_bytes(coo)
    assert count.dense.nbytes == ef.storage_bytes(dense)
    assert count.convolution.nbytes == ef.storage_bytes(weight)


def test_matrix_of_the_difference_kernel_by_hand():
    # A 2 x 3 image and [-1, 1]: outputs (0,0), (0,1), (1,0), (1,1) read input pairs
    # (0,1), (1,2), (3,4), (4,5) of the flattened image.
    want = torch.tensor([[-1.0, 1, 0, 0, 0, 0],
                         [0, -1, 1, 0, 0, 0],
                         [0, 0, 0, -1, 1, 0],
                         [0, 0, 0, 0, -1, 1]])
    kernel = ef.difference_kernel()
    assert kernel.shape == (1, 1, 1, 2) and kernel.dtype == torch.float32
    assert torch.equal(ef.conv_matrix(kernel, 2, 3), want)
    assert torch.equal(ef.conv_matrix(kernel, 2, 3, layout="csr").to_dense(), want)
    csr = ef.conv_matrix(kernel, 2, 3, layout="csr")
    assert csr.crow_indices().tolist() == [0, 2, 4, 6, 8]
    assert csr.col_indices().tolist() == [0, 1, 1, 2, 3, 4, 4, 5]


def test_matrix_is_doubly_block_toeplitz():
    # Single channel, valid: entry (r, c) depends only on the offsets between the
    # output's and the input's rows and columns.
    weight = torch.randn(1, 1, 2, 3, generator=torch.Generator().manual_seed(5))
    h, w = 5, 6
    m = ef.conv_matrix(weight, h, w)
    w_out = w - 3 + 1
    for r in range(m.shape[0]):
        i, j = divmod(r, w_out)
        for c in range(m.shape[1]):
            p, q = divmod(c, w)
            du, dv = p - i, q - j
            inside = 0 <= du < 2 and 0 <= dv < 3
            assert m[r, c] == (weight[0, 0, du, dv] if inside else 0.0)


def test_zero_weights_are_still_stored():
    # The sparsity pattern is the kernel's footprint, not its values.
    weight = torch.zeros(1, 1, 3, 3)
    csr = ef.conv_matrix(weight, 6, 7, layout="csr")
    assert csr.values().numel() == 4 * 5 * 9
    assert ef.costs(6, 7, 3, 3).sparse.stored == 4 * 5 * 9


def test_book_example_sparse_matrix_is_built():
    csr = ef.conv_matrix(ef.difference_kernel(), H, W, layout="csr")
    assert csr.shape == (OUT, PIXELS)
    assert csr.values().numel() == 2 * OUT == 178_640
    assert torch.unique(csr.values()).tolist() == [-1.0, 1.0]
    x = torch.rand(1, 1, H, W, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(ef.apply_matrix(csr, x), F.conv2d(x, ef.difference_kernel()).flatten(),
                               rtol=0, atol=0)


def test_matrix_of_a_real_layer():
    torch.manual_seed(0)
    layer = torch.nn.Conv2d(3, 4, 3, stride=2, padding=1, bias=False)
    x = torch.rand(3, 9, 10)
    m = ef.conv_matrix(layer.weight, 9, 10, stride=2, padding=1, layout="csr")
    assert not m.requires_grad
    with torch.no_grad():
        torch.testing.assert_close(ef.apply_matrix(m, x), layer(x[None]).flatten(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "weight, h, w, kwargs, name",
    [
        (torch.zeros(1, 1, 3, 3), 0, 5, {}, "height"),
        (torch.zeros(1, 1, 3, 3), 5, 0, {}, "width"),
        (torch.zeros(1, 1, 3, 3), 2, 5, {}, "kernel_height"),
        (torch.zeros(1, 1, 3, 3), 5, 2, {}, "kernel_width"),
        (torch.zeros(1, 1, 3, 3), 5, 5, {"stride": 0}, "stride"),
        (torch.zeros(1, 1, 3, 3), 5, 5, {"padding": -1}, "padding"),
        (torch.zeros(1, 1, 3, 3), 5, 5, {"layout": "bsr"}, "layout"),
        (torch.zeros(1, 1, 3, 3), 5.0, 5, {}, "height"),
        (torch.zeros(1, 3, 3), 5, 5, {}, "weight"),
        (torch.zeros(1, 1, 3, 3, dtype=torch.int64), 5, 5, {}, "weight"),
        (np.zeros((1, 1, 3, 3)), 5, 5, {}, "weight"),
    ],
)
def test_conv_matrix_rejects_bad_arguments(weight, h, w, kwargs, name):
    with pytest.raises(ValueError, match=f"^{name} must"):
        ef.conv_matrix(weight, h, w, **kwargs)


def test_conv_matrix_allows_kernel_as_large_as_padded_input():
    m = ef.conv_matrix(torch.ones(1, 1, 3, 3), 1, 1, padding=1)
    assert m.shape == (1, 1) and m.item() == 1.0  # only the centre tap lands on the pixel


@pytest.mark.parametrize(
    "x, match",
    [
        (torch.zeros(1, 4, 5), "^x must have 30 values"),
        (torch.zeros(2, 1, 5, 6), "^x must be one image"),
        (torch.zeros(30), "^x must be 3-D or 4-D"),
        (torch.zeros(1, 5, 6, dtype=torch.int32), "^x must hold floating-point"),
    ],
)
def test_apply_matrix_rejects_bad_input(x, match):
    m = ef.conv_matrix(ef.difference_kernel(), 5, 6)
    with pytest.raises(ValueError, match=match):
        ef.apply_matrix(m, x)


def test_apply_matrix_rejects_non_matrix():
    with pytest.raises(ValueError, match="^matrix must be a 2-D torch.Tensor"):
        ef.apply_matrix(torch.zeros(3), torch.zeros(1, 1, 3))
    with pytest.raises(ValueError, match="^matrix must be a 2-D torch.Tensor, got list"):
        ef.apply_matrix([[1.0]], torch.zeros(1, 1, 1))


# --------------------------------------------------------------------------- storage_bytes


def test_storage_bytes_by_hand():
    assert ef.storage_bytes(torch.zeros(10)) == 40
    assert ef.storage_bytes(torch.zeros(3, 4, dtype=torch.float64)) == 96
    m = ef.conv_matrix(ef.difference_kernel(), 2, 3, layout="csr")
    assert ef.storage_bytes(m) == 8 * 4 + 8 * 8 + 5 * 8   # values, column indices, row pointers
    m = ef.conv_matrix(ef.difference_kernel(), 2, 3, layout="coo")
    assert ef.storage_bytes(m) == 8 * 4 + 2 * 8 * 8       # values, row and column indices


def test_storage_bytes_rejects_other_things():
    with pytest.raises(ValueError, match="^operator must be a torch.Tensor"):
        ef.storage_bytes(np.zeros(3))
    with pytest.raises(ValueError, match="^operator must be dense, sparse COO or sparse CSR"):
        ef.storage_bytes(torch.eye(4).to_sparse_csc())


# --------------------------------------------------------------------------- costs


def test_costs_of_the_books_example():
    c = ef.costs(H, W, 1, 2)
    assert (c.out_width, c.out_height) == (319, 280)
    assert (c.rows, c.cols) == (OUT, PIXELS)
    # Two multiplications and one addition per output pixel.
    assert c.convolution.flops == 319 * 280 * 3 == 267_960
    assert c.convolution.stored == 2 and c.convolution.nbytes == 8
    assert c.dense.stored == 320 * 280 * 319 * 280 == 8_003_072_000
    # rows * cols multiplications + rows * (cols - 1) additions: about twice the entries.
    assert c.dense.flops == OUT * PIXELS + OUT * (PIXELS - 1) == 16_006_054_680
    assert c.dense.flops == 2 * c.dense.stored - OUT
    assert c.dense.nbytes == 4 * 8_003_072_000
    assert c.sparse.stored == 2 * OUT == 178_640
    assert c.sparse.flops == c.convolution.flops
    assert c.sparse.nbytes == 178_640 * (4 + 8) + (OUT + 1) * 8 == 2_858_248
    # The book's "four billion times" (storage) and "roughly 60,000 times" (flops).
    assert c.ratio("stored") == 8_003_072_000 / 2 == 4_001_536_000
    assert c.ratio("flops") == (2 * PIXELS - 1) / 3 == 59_733
    assert c.ratio("nbytes", "dense matrix", "sparse matrix") == pytest.approx(32_012_288_000 / 2_858_248)


def test_costs_with_a_3x3_kernel():
    c = ef.costs(H, W, 3, 3)
    n = 318 * 278
    assert (c.out_width, c.out_height) == (318, 278)
    assert c.convolution.flops == n * 17 == 1_502_868      # 9 multiplications, 8 additions
    assert c.dense.stored == n * PIXELS == 7_920_998_400
    assert c.dense.flops == n * (2 * PIXELS - 1)
    assert c.ratio("flops") == pytest.approx(179_199 / 17)  # 10,541.1...
    assert c.sparse.flops == c.convolution.flops and c.sparse.stored == 9 * n


def test_costs_with_padding_by_hand():
    # 3 x 3 image, 3 x 3 kernel, padding 1: 3 x 3 output. Along each axis the taps that land
    # inside the image are 2, 3, 2 for outputs 0, 1, 2: 7 pairs, so 7 * 7 = 49 entries.
    c = ef.costs(3, 3, 3, 3, padding=1)
    assert (c.out_height, c.out_width, c.rows, c.cols) == (3, 3, 9, 9)
    assert c.sparse.stored == 49
    assert c.sparse.flops == 2 * 49 - 9
    assert c.convolution.flops == 9 * 17   # conv2d multiplies the padded zeros too
    assert c.dense.flops == 9 * (2 * 9 - 1)


def test_costs_rows_that_read_only_padding():
    # A 1 x 1 image, 1 x 1 kernel, padding 1: 3 x 3 outputs, only the centre one reads the pixel.
    c = ef.costs(1, 1, 1, 1, padding=1)
    assert c.rows == 9 and c.sparse.stored == 1 and c.sparse.flops == 1
    assert c.convolution.flops == 9


def test_costs_multichannel_layer_by_hand():
    # Conv2d(3, 64, 3) on 224 x 224: 64 maps of 222 x 222, each value reads 27 inputs.
    c = ef.costs(224, 224, 3, 3, in_channels=3, out_channels=64)
    n = 64 * 222 * 222
    assert c.convolution.flops == n * 53
    assert c.convolution.stored == 64 * 27
    assert (c.rows, c.cols) == (n, 3 * 224 * 224)
    assert c.sparse.stored == n * 27
    assert c.dense.stored == n * 3 * 224 * 224


def test_costs_with_stride_by_hand():
    # 7 wide, kernel 3, stride 2: outputs at 0, 2, 4 -> 3 per axis.
    c = ef.costs(7, 7, 3, 3, stride=2)
    assert (c.out_height, c.out_width) == (3, 3)
    assert c.sparse.stored == 9 * 9 and c.convolution.flops == 9 * 17


def test_costs_byte_sizes_follow_arguments():
    c = ef.costs(10, 10, 3, 3, value_bytes=8, index_bytes=4)
    assert c.dense.nbytes == 64 * 100 * 8
    assert c.sparse.nbytes == 64 * 9 * (8 + 4) + 65 * 4
    assert c.convolution.nbytes == 9 * 8
    coo = ef.costs(10, 10, 3, 3, sparse_layout="coo")
    assert coo.sparse.nbytes == 64 * 9 * (4 + 16)


def test_costs_method_and_ratio():
    c = ef.costs(8, 8, 3, 3)
    assert c.method("convolution") is c.convolution
    assert c.method("sparse matrix") is c.sparse
    assert c.method("dense matrix") is c.dense
    assert c.ratio("flops", "sparse matrix", "convolution") == 1.0
    with pytest.raises(ValueError, match="^name must be one of"):
        c.method("fft")
    with pytest.raises(ValueError, match="^quantity must be one of"):
        c.ratio("seconds")


@pytest.mark.parametrize(
    "args, kwargs, name",
    [
        ((0, 5, 1, 1), {}, "height"),
        ((5, -1, 1, 1), {}, "width"),
        ((5, 5, 6, 1), {}, "kernel_height"),
        ((5, 5, 1, 0), {}, "kernel_width"),
        ((5, 5, 1, 1), {"in_channels": 0}, "in_channels"),
        ((5, 5, 1, 1), {"out_channels": 1.5}, "out_channels"),
        ((5, 5, 1, 1), {"stride": 0}, "stride"),
        ((5, 5, 1, 1), {"padding": -2}, "padding"),
        ((5, 5, 1, 1), {"sparse_layout": "csc"}, "sparse_layout"),
        ((5, 5, 1, 1), {"value_bytes": 0}, "value_bytes"),
        ((5, 5, 1, 1), {"index_bytes": True}, "index_bytes"),
    ],
)
def test_costs_rejects_bad_arguments(args, kwargs, name):
    with pytest.raises(ValueError, match=f"^{name} must"):
        ef.costs(*args, **kwargs)


def test_costs_message_says_what_is_allowed():
    with pytest.raises(ValueError, match=r"^kernel_height must be in \[1, 5\], got 6$"):
        ef.costs(5, 5, 6, 1)

# --------------------------------------------------------------------------- which code conv2d runs


def _pytorch_rule(x_shape, w_shape, stride=1):
    """PyTorch's ``use_mkldnn`` for float32 on one thread, one group, no dilation (Convolution.cpp)."""
    n = x_shape[0]
    one_by_one = w_shape[2] == 1 and w_shape[3] == 1
    if one_by_one and stride == 1 and n < 16:   # 1 x 1 kernels stay native on one thread
        return "native"
    big_kernel = w_shape[2] > 3 and w_shape[3] > 3
    return "oneDNN" if big_kernel or n > 1 or math.prod(x_shape) > 20_480 else "native"


@pytest.mark.parametrize("x_shape, w_shape, stride", [
    ((1, 1, 143, 143), (1, 1, 1, 2), 1), ((1, 1, 144, 144), (1, 1, 1, 2), 1), ((1, 1, 280, 320), (1, 1, 1, 2), 1),
    ((1, 1, 16, 16), (1, 1, 5, 5), 1), ((1, 1, 16, 16), (1, 1, 3, 5), 1), ((2, 1, 8, 8), (1, 1, 3, 3), 1),
    ((1, 3, 100, 100), (1, 3, 3, 3), 1), ((1, 1, 512, 512), (1, 1, 1, 1), 1), ((1, 1, 512, 512), (1, 1, 1, 1), 2),
    ((1, 20, 32, 32), (4, 20, 3, 3), 1), ((1, 20, 32, 32), (4, 20, 3, 3), 2)])
def test_conv_backend_follows_pytorchs_rule(x_shape, w_shape, stride):
    assert ef.conv_backend(x_shape, w_shape, stride=stride) == _pytorch_rule(x_shape, w_shape, stride)
    assert ef.conv_backend(x_shape, w_shape, stride=stride, onednn=False) == "native"


def test_conv_backend_switch_for_the_chapters_kernel():
    # The first square side whose input holds more than 20,480 values: 143^2 = 20,449, 144^2 = 20,736.
    kernel = (1, 1, 1, 2)
    sides = [s for s in range(100, 200) if ef.conv_backend((1, 1, s, s), kernel) == "oneDNN"]
    assert min(sides) == 144 and sides == list(range(144, 200))
    # A 1 x 1 kernel stays on PyTorch's own code on one thread only.
    assert ef.conv_backend((1, 1, 512, 512), (1, 1, 1, 1)) == "native"
    assert ef.conv_backend((1, 1, 512, 512), (1, 1, 1, 1), threads=2) == "oneDNN"


def test_onednn_enabled_restores_the_setting():
    assert torch.backends.mkldnn.enabled
    with ef.onednn_enabled(False):
        assert not torch.backends.mkldnn.enabled
        assert ef.conv_backend((1, 1, 300, 300), (1, 1, 3, 3)) == "native"
    assert torch.backends.mkldnn.enabled
    with pytest.raises(RuntimeError), ef.onednn_enabled(False):
        raise RuntimeError("inside")
    assert torch.backends.mkldnn.enabled


# --------------------------------------------------------------------------- timing (structure only)


def test_time_methods_structure():
    torch.set_num_threads(2)
    kernel = ef.difference_kernel()
    t = ef.time_methods(kernel, 6, 7, methods=ef.TIMED, repeats=3, min_run_seconds=1e-4)
    assert torch.get_num_threads() == 2  # restored
    assert (t.height, t.width, t.clock) == (6, 7, "wall")
    assert set(t.seconds) == set(t.runs) == set(t.nbytes) == set(ef.TIMED)
    assert all(s > 0 for s in t.seconds.values())
    assert all(len(r) == 3 and min(r) > 0 for r in t.runs.values())
    assert all(t.seconds[m] == min(r) for m, r in t.runs.items()), "the fastest run is reported"
    c = ef.costs(6, 7, 1, 2)
    assert t.nbytes == {m: c.method(m).nbytes for m in ef.TIMED}
    assert set(t.max_abs_diff) == {"sparse matrix", "dense matrix"}
    assert all(d < 1e-6 for d in t.max_abs_diff.values())
    assert t.backend == {"convolution": "native", "convolution, oneDNN off": "native"}
    big = ef.time_methods(kernel, 150, 150, methods=ef.TIMED[:2], repeats=1, min_run_seconds=1e-4)
    assert big.backend == {"convolution": "oneDNN", "convolution, oneDNN off": "native"}
    assert torch.backends.mkldnn.enabled


def test_time_methods_with_processor_time():
    t = ef.time_methods(ef.difference_kernel(), 6, 6, repeats=2, min_run_seconds=1e-4, clock="cpu")
    assert t.clock == "cpu"
    assert set(t.seconds) == set(ef.METHODS) and all(s > 0 for s in t.seconds.values())
    assert ef.CLOCKS == {"wall": time.perf_counter, "cpu": time.process_time}


def test_time_methods_subset_and_budget():
    kernel = ef.difference_kernel()
    t = ef.time_methods(kernel, 5, 5, methods=("convolution",), repeats=1, min_run_seconds=1e-4)
    assert list(t.seconds) == ["convolution"] and t.max_abs_diff == {}
    # The dense matrix of a 5 x 5 image is 20 x 25 float32 = 2,000 bytes.
    with pytest.raises(ValueError, match="^max_dense_bytes is 1999, but the dense matrix .* 2000 bytes"):
        ef.time_methods(kernel, 5, 5, max_dense_bytes=1999)
    t = ef.time_methods(kernel, 5, 5, methods=("dense matrix",), repeats=1, min_run_seconds=1e-4,
                        max_dense_bytes=2000)
    assert t.nbytes == {"dense matrix": 2000}


@pytest.mark.parametrize(
    "kwargs, name",
    [({"methods": ("fft",)}, "methods"), ({"methods": ()}, "methods"), ({"methods": "convolution"}, "methods"),
     ({"methods": ("convolution", "convolution")}, "methods"), ({"repeats": 0}, "repeats"),
     ({"min_run_seconds": 0}, "min_run_seconds"), ({"min_run_seconds": 2.0}, "min_run_seconds"),
     ({"max_dense_bytes": 0}, "max_dense_bytes"), ({"seed": -1}, "seed"), ({"clock": "gpu"}, "clock")],
)
def test_time_methods_rejects_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name} must"):
        ef.time_methods(ef.difference_kernel(), 4, 4, **kwargs)


def test_time_rounds_structure():
    r = ef.time_rounds(ef.difference_kernel(), 6, 6, methods=("convolution", "sparse matrix"), rounds=3,
                       repeats=1, min_run_seconds=1e-4)
    assert set(r.seconds) == {"convolution", "sparse matrix"}
    assert all(v.shape == (3,) and (v > 0).all() for v in r.seconds.values())
    assert r.backend == {"convolution": "native"}
    ratio = r.ratio("sparse matrix", "convolution")
    assert ratio.rounds == 3 and ratio.low <= ratio.ratio <= ratio.high
    with pytest.raises(ValueError, match="^slow must be one of"):
        r.ratio("dense matrix", "convolution")


def test_layer_passes_structure():
    torch.manual_seed(123)
    before = torch.rand(1).item()
    torch.manual_seed(123)
    p = ef.layer_passes(2, 3, 3, 8, batch=2, rounds=2, repeats=1, min_run_seconds=1e-4)
    assert torch.rand(1).item() == before, "the global random state is left alone"
    assert set(p.seconds) == {"forward", "backward"}
    assert all(v.shape == (2,) and (v > 0).all() for v in p.seconds.values())
    assert p.backend == {"forward": "oneDNN"}   # two images: oneDNN at any size
    q = ef.layer_passes(2, 3, 3, 8, rounds=2, repeats=1, min_run_seconds=1e-4, onednn=False)
    assert q.backend == {"forward": "native"} and torch.backends.mkldnn.enabled


def test_cache_test_structure():
    r = ef.cache_test(8, rounds=3, evict_bytes=2**20)
    assert set(r.seconds) == {"warm", "cold"} and r.backend == {}
    assert all(v.shape == (3,) and (v > 0).all() for v in r.seconds.values())
    for kwargs, name in (({"side": 1}, "side"), ({"side": 8, "rounds": 1}, "rounds"),
                         ({"side": 8, "evict_bytes": 10}, "evict_bytes"), ({"side": 8, "clock": "x"}, "clock")):
        with pytest.raises(ValueError, match=f"^{name} must"):
            ef.cache_test(**kwargs)


# --------------------------------------------------------------------------- time_ratio


def test_time_ratio_is_the_geometric_mean_with_a_paired_interval():
    fast = np.array([1.0, 2.0, 4.0, 1.5, 3.0])
    slow = fast * np.array([3.0, 3.3, 2.9, 3.1, 3.2])   # about 3 times, whatever each round's load
    r = ef.time_ratio(slow, fast)
    logs = np.log(slow / fast)
    assert r.ratio == pytest.approx(np.exp(logs.mean()))
    half = stats_t.ppf(0.975, 4) * logs.std(ddof=1) / np.sqrt(5)
    assert (r.low, r.high) == (pytest.approx(np.exp(logs.mean() - half)), pytest.approx(np.exp(logs.mean() + half)))
    assert r.verdict == "slower" and r.rounds == 5
    assert ef.time_ratio(fast, slow).verdict == "faster"
    assert format(r) == f"{r.ratio:.2f} (95 % CI {r.low:.2f} to {r.high:.2f} over 5 rounds)"
    assert r.interval_text == f"95 % CI {r.low:.2f} to {r.high:.2f} over 5 rounds"


def test_time_ratio_verdicts_level_and_unresolved():
    base = np.array([1.0, 1.2, 0.9, 1.1, 1.0, 1.05])
    level = ef.time_ratio(base * np.array([1.01, 0.99, 1.0, 1.02, 0.98, 1.0]), base)
    assert level.verdict == "as fast"
    noisy = ef.time_ratio(base * np.array([1.5, 0.6, 1.4, 0.7, 1.3, 0.8]), base)
    assert noisy.verdict == "unresolved"
    # A wider margin calls the same noisy rounds level.
    assert ef.time_ratio(base * np.array([1.5, 0.6, 1.4, 0.7, 1.3, 0.8]), base, margin=3.0).verdict == "as fast"
    assert set(ef.VERDICTS) == {"slower", "faster", "as fast", "unresolved"}


@pytest.mark.parametrize("args, kwargs, name", [
    (([1.0], [1.0]), {}, "slow"), (([1.0, 0.0], [1.0, 1.0]), {}, "slow"), (([1.0, 2.0], [1.0, np.nan]), {}, "fast"),
    (([1.0, 2.0], [1.0, 2.0, 3.0]), {}, "fast"), (([1.0, 2.0], [1.0, 2.0]), {"margin": 1.0}, "margin"),
    (("ab", [1.0, 2.0]), {}, "slow"), (([1.0, 2.0], [1.0, 2.0]), {"confidence": 1.5}, "confidence")])
def test_time_ratio_rejects_bad_arguments(args, kwargs, name):
    with pytest.raises(ValueError, match=f"^{name} must"):
        ef.time_ratio(*args, **kwargs)


# --------------------------------------------------------------------------- sweep and power laws


def test_sweep_structure_and_fit():
    s = ef.sweep(ef.difference_kernel(), [4, 6, 8], dense_sides=[4, 6], repeats=1, min_run_seconds=1e-4,
                 clock="cpu")
    assert s.sides["dense matrix"].tolist() == [4, 6]
    assert s.sides["convolution"].tolist() == s.sides["sparse matrix"].tolist() == [4, 6, 8]
    assert s.pixels["convolution"].tolist() == [16, 36, 64]
    for m in ef.METHODS:
        assert s.seconds[m].shape == s.nbytes[m].shape == s.sides[m].shape
        assert (s.seconds[m] > 0).all()
        assert s.nbytes[m].tolist() == [ef.costs(n, n, 1, 2).method(m).nbytes for n in s.sides[m]]
    assert all(d < 1e-6 for d in s.max_abs_diff.values())
    assert s.backend == {"convolution": ["native"] * 3}
    fit = s.fit("dense matrix")
    assert np.isfinite(fit.exponent) and fit.coefficient > 0
    assert s.fit("convolution", max_side=6).n == 2 and s.fit("convolution", min_side=6).n == 2
    per_pixel = s.per_pixel("convolution")
    assert list(per_pixel) == [4, 6, 8]
    assert per_pixel[8] == pytest.approx(s.seconds["convolution"][2] / 64 * 1e9)
    with pytest.raises(ValueError, match="^min_side must leave at least two sizes"):
        s.fit("dense matrix", min_side=6)
    with pytest.raises(ValueError, match="^method must be one of"):
        s.fit("fft")


def test_sweep_of_chosen_methods_and_back_ends():
    s = ef.sweep(ef.difference_kernel(), [8, 150], methods=("convolution", "convolution, oneDNN off"), repeats=1,
                 min_run_seconds=1e-4)
    assert list(s.sides) == ["convolution", "convolution, oneDNN off"]
    assert s.backend == {"convolution": ["native", "oneDNN"], "convolution, oneDNN off": ["native", "native"]}
    assert s.max_abs_diff == {}


def test_sweep_keeps_each_size_fastest_time_over_the_rounds(monkeypatch):
    # Scripted timings: round 1 is slow at side 6 (a burst of load), round 2 at side 4.
    script = iter([{4: 1.0, 6: 9.0}, {4: 5.0, 6: 2.0}])
    real = ef.time_methods
    calls = []

    def scripted(weight, height, width, **kwargs):
        timing = real(weight, height, width, **{**kwargs, "repeats": 1, "min_run_seconds": 1e-4})
        calls.append((height, kwargs["methods"]))
        if height == 4:
            scripted.round = next(script)
        for m in timing.seconds:
            timing.seconds[m] = scripted.round[height] * (1 + ef.METHODS.index(m))
        return timing

    monkeypatch.setattr(ef, "time_methods", scripted)
    s = ef.sweep(ef.difference_kernel(), [4, 6], dense_sides=[6], rounds=2)
    assert [side for side, _ in calls] == [4, 6, 4, 6], "every size once per round, in order"
    assert s.seconds["convolution"].tolist() == [1.0, 2.0]
    assert s.seconds["sparse matrix"].tolist() == [2.0, 4.0]
    assert s.sides["dense matrix"].tolist() == [6] and s.seconds["dense matrix"].tolist() == [6.0]
    # Each pass's times are kept too, one row per pass.
    assert s.passes["convolution"].tolist() == [[1.0, 9.0], [5.0, 2.0]]
    assert s.passes["dense matrix"].tolist() == [[27.0], [6.0]]


def test_sweep_can_shuffle_the_order_of_each_pass(monkeypatch):
    real, seen = ef.time_methods, []

    def recording(weight, height, width, **kwargs):
        seen.append(height)
        return real(weight, height, width, **{**kwargs, "repeats": 1, "min_run_seconds": 1e-4})

    monkeypatch.setattr(ef, "time_methods", recording)
    s = ef.sweep(ef.difference_kernel(), [4, 5, 6, 7, 8], methods=("convolution",), rounds=3, shuffle_seed=1)
    passes = [seen[i:i + 5] for i in (0, 5, 10)]
    assert all(sorted(p) == [4, 5, 6, 7, 8] for p in passes) and len({tuple(p) for p in passes}) > 1
    assert s.sides["convolution"].tolist() == [4, 5, 6, 7, 8] and s.passes["convolution"].shape == (3, 5)
    with pytest.raises(ValueError, match="^shuffle_seed must"):
        ef.sweep(ef.difference_kernel(), [4, 5], shuffle_seed=-1)


def test_fit_passes_fits_each_pass_alone():
    pixels = np.array([16, 36, 64, 100])
    passes = np.array([3e-9 * pixels**2.0, 2e-9 * pixels**1.8])   # two passes, two exact laws
    s = ef.Sweep({"dense matrix": np.array([4, 6, 8, 10])}, {"dense matrix": pixels},
                 {"dense matrix": passes.min(axis=0)}, {"dense matrix": pixels}, {}, passes={"dense matrix": passes})
    fits = s.fit_passes("dense matrix")
    assert [f.exponent for f in fits] == [pytest.approx(2.0), pytest.approx(1.8)]
    assert [f.coefficient for f in fits] == [pytest.approx(3e-9), pytest.approx(2e-9)]
    assert [f.n for f in s.fit_passes("dense matrix", min_side=6)] == [3, 3]
    # With the same sizes in every pass, the fit through the passes' geometric mean has the mean exponent.
    mean = ef.power_law_fit(pixels, np.exp(np.log(passes).mean(axis=0)))
    assert mean.exponent == pytest.approx(1.9)
    with pytest.raises(ValueError, match="^min_side must leave at least three sizes"):
        s.fit_passes("dense matrix", min_side=8)
    with pytest.raises(ValueError, match="^method must be one of"):
        s.fit_passes("convolution")


def test_machine_memory():
    found = ef.machine_memory()
    assert set(found) == {"L1d", "L2", "L3", "memory"}
    assert all(v is None or (isinstance(v, int) and v > 0) for v in found.values())
    if found["L2"] and found["L3"]:
        assert found["L2"] < found["L3"]


@pytest.mark.parametrize(
    "sides, kwargs, name",
    [([4, 4], {}, "sides"), ([], {}, "sides"), ([0, 4], {}, "sides"), ("48", {}, "sides"),
     ([4, 6], {"dense_sides": [8]}, "dense_sides"), ([4, 6], {"clock": "monotonic"}, "clock"),
     ([4, 6], {"rounds": 0}, "rounds"), ([4, 6], {"rounds": 21}, "rounds"), ([4, 6], {"rounds": 1.5}, "rounds"),
     ([4, 6], {"methods": ("fft",)}, "methods")],
)
def test_sweep_rejects_bad_arguments(sides, kwargs, name):
    with pytest.raises(ValueError, match=f"^{name} must"):
        ef.sweep(ef.difference_kernel(), sides, **kwargs)


def test_power_law_fit_recovers_exact_law():
    x = np.array([10.0, 100.0, 1000.0, 5000.0])
    fit = ef.power_law_fit(x, 3.0 * x**2)
    assert fit.exponent == pytest.approx(2.0, abs=1e-12)
    assert fit.coefficient == pytest.approx(3.0, rel=1e-10)
    assert fit.predict(89_600) == pytest.approx(3.0 * 89_600**2, rel=1e-9)
    flat = ef.power_law_fit([1, 2, 4], [8, 8, 8])
    assert flat.exponent == pytest.approx(0.0, abs=1e-12) and flat.coefficient == pytest.approx(8.0)
    assert fit.exponent_se == pytest.approx(0.0, abs=1e-12) and flat.exponent_se == pytest.approx(0.0, abs=1e-12)
    low, high = fit.interval(89_600)
    assert low == pytest.approx(3.0 * 89_600**2, rel=1e-6) and high == pytest.approx(low, rel=1e-6)
    two = ef.power_law_fit([1, 2], [1, 4])
    assert np.isnan(two.exponent_se) and all(np.isnan(two.exponent_interval()))


def test_power_law_exponent_error_is_the_least_squares_standard_error():
    x = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    y = x**2 * np.exp([0.1, -0.05, 0.02, 0.08, -0.1])
    fit = ef.power_law_fit(x, y)
    _, cov = np.polyfit(np.log(x), np.log(y), 1, cov=True)   # scaled by the residuals over n - 2
    assert fit.exponent_se == pytest.approx(np.sqrt(cov[0, 0]), rel=1e-9)
    assert 0.03 < fit.exponent_se < 0.05
    t = stats_t.ppf(0.975, 3)
    assert fit.exponent_interval() == pytest.approx((fit.exponent - t * fit.exponent_se,
                                                     fit.exponent + t * fit.exponent_se))


def test_power_law_interval_of_the_line_widens_away_from_the_points():
    x = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    y = x**2 * np.exp([0.1, -0.05, 0.02, 0.08, -0.1])
    fit = ef.power_law_fit(x, y)
    # The standard error of the line's mean value at log x0, from the parameters' covariance.
    design = np.vstack([np.log(x), np.ones_like(x)]).T
    cov = np.linalg.inv(design.T @ design) * fit.residual_sd**2
    for x0 in (4.0, 100.0, 89_600.0):
        v = np.array([np.log(x0), 1.0])
        se = np.sqrt(v @ cov @ v)
        t = stats_t.ppf(0.975, 3)
        low, high = fit.interval(x0)
        assert np.log(low) == pytest.approx(np.log(fit.predict(x0)) - t * se)
        assert np.log(high) == pytest.approx(np.log(fit.predict(x0)) + t * se)
    assert np.diff(np.log(fit.interval(1e5))) > np.diff(np.log(fit.interval(4.0)))


@pytest.mark.parametrize(
    "x, y, name",
    [([1.0], [1.0], "x and y"), ([1, 2], [1, 2, 3], "x and y"), ([0, 1], [1, 2], "x"),
     ([1, 2], [1, -2], "y"), ([3, 3], [1, 2], "x"), ([1, np.inf], [1, 2], "x")],
)
def test_power_law_fit_rejects_bad_data(x, y, name):
    with pytest.raises(ValueError, match=f"^{name} must"):
        ef.power_law_fit(x, y)


# --------------------------------------------------------------------------- a whole network


def test_network_costs_of_vgg16_by_hand():
    rows = ef.network_costs(ef.vgg16(), (3, 224, 224))
    names = [r.name for r in rows]
    assert names[:3] == ["conv1_1", "conv1_2", "pool1"] and names[-3:] == ["fc6", "fc7", "fc8"]
    assert [r.kind for r in rows].count("convolution") == 13 and [r.kind for r in rows].count("pooling") == 5
    # Convolutions: H' W' C_out C_in 9 multiply-adds and C_out C_in 9 + C_out parameters, closed form.
    channels, side, mads, params, values = 3, 224, 0, 0, 0
    for v in ef.VGG16:
        if v == "M":
            side //= 2
            values += channels * side * side
            continue
        mads += side * side * v * channels * 9
        params += v * channels * 9 + v
        values += v * side * side
        channels = v
    for n_in, n_out in ((25_088, 4096), (4096, 4096), (4096, 1000)):
        mads += n_in * n_out
        params += n_in * n_out + n_out
        values += n_out
    assert sum(r.parameters for r in rows) == params == 138_357_544   # the published count
    assert sum(r.multiply_adds for r in rows) == mads == 15_470_264_320
    assert sum(r.activations for r in rows) == values == 15_087_080
    fc6 = rows[names.index("fc6")]
    assert (fc6.parameters, fc6.multiply_adds, fc6.output_shape) == (25_088 * 4096 + 4096, 25_088 * 4096, (4096,))
    conv = rows[1]
    assert conv.output_shape == (64, 224, 224) and conv.multiply_adds == 224 * 224 * 64 * 64 * 9
    assert all(p.device.type == "meta" for p in ef.vgg16().parameters())


def test_network_costs_counts_groups_and_strides():
    model = torch.nn.Sequential(torch.nn.Conv2d(4, 8, 3, stride=2, padding=1, groups=2, device="meta"),
                                torch.nn.AvgPool2d(2), torch.nn.Flatten(),
                                torch.nn.Linear(8 * 4 * 4, 10, device="meta"))
    conv, pool, dense = ef.network_costs(model, (4, 16, 16))
    assert conv.output_shape == (8, 8, 8) and conv.multiply_adds == 8 * 8 * 8 * 2 * 9
    assert conv.parameters == 8 * 2 * 9 + 8
    assert (pool.kind, pool.multiply_adds, pool.activations) == ("pooling", 0, 8 * 4 * 4)
    assert (dense.multiply_adds, dense.parameters) == (128 * 10, 128 * 10 + 10)
    with pytest.raises(ValueError, match="^input_shape .* does not fit the model"):
        ef.network_costs(model, (3, 16, 16))
    with pytest.raises(ValueError, match="^model must be built on the meta device"):
        ef.network_costs(torch.nn.Conv2d(1, 1, 3), (1, 8, 8))


# --------------------------------------------------------------------------- draw


@pytest.mark.parametrize(
    "value, unit, text",
    [(32_012_288_000, "B", "32.0 GB"), (2.5e-5, "s", "25.0 µs"), (267_960, "", "267,960"),
     (8_003_072_000, "", "8.00 billion"), (16_006_054_680, "", "16.0 billion"), (8, "B", "8 B"),
     (0.0009997, "s", "1.00 ms"), (2_858_248, "B", "2.86 MB"), (1.46, "s", "1.46 s"), (0, "", "0")],
)
def test_si(value, unit, text):
    assert de.si(value, unit) == text


@pytest.mark.parametrize("value", [-1, float("nan"), "3", True])
def test_si_rejects_bad_values(value):
    with pytest.raises(ValueError, match="^value must be"):
        de.si(value)


@pytest.mark.parametrize("ratio, text", [(59_733.0, "59,733×"), (100, "100×"), (3.456, "3.5×"),
                                         (0.0237, "0.024×"), (1, "1×")])
def test_times(ratio, text):
    assert de.times(ratio) == text


@pytest.mark.parametrize("ratio", [0, -2.0, float("inf"), "5"])
def test_times_rejects_bad_ratios(ratio):
    with pytest.raises(ValueError, match="^ratio must be"):
        de.times(ratio)


def test_log_limits():
    assert de.log_limits([3.0, 250.0]) == (1.0, 10_000.0)
    assert de.log_limits({"a": 2e-6}, [0.02]) == (1e-6, 1.0)
    with pytest.raises(ValueError, match="^values must be positive"):
        de.log_limits([0.0, 1.0])
    with pytest.raises(ValueError, match="^values must be positive"):
        de.log_limits()


def test_draw_conv_matrix():
    before = plt.get_fignums()
    m = ef.conv_matrix(ef.difference_kernel(), 4, 5)
    fig = de.conv_matrix(m, (4, 5), (1, 2))
    assert isinstance(fig, Figure) and plt.get_fignums() == before
    (ax,) = fig.get_axes()
    assert ax.get_images()[0].get_array().shape == (16, 20)
    assert ax.get_title() == "16 outputs × 20 inputs, 32 of 320 entries non-zero (10%)"
    lo, hi = ax.get_images()[0].get_clim()
    assert (lo, hi) == (-1.0, 1.0)  # signed: symmetric about zero
    # Block lines: after every 5 input columns (3 lines) and every 4 output rows (3 lines).
    assert len(ax.lines) == 6
    assert "16 by 20 matrix of a 1 by 2 convolution of a 4 by 5 image: 32 of its 320" in fig.alt
    fixed = de.conv_matrix(ef.conv_matrix(torch.ones(1, 1, 3, 3), 6, 6), (6, 6), (3, 3), size=(8.0, 4.6))
    assert tuple(fixed.get_size_inches()) == (8.0, 4.6)
    fig.canvas.draw()


@pytest.mark.parametrize(
    "shape, image_shape, kernel_shape, match",
    [((16, 20), (4, 4), (1, 2), "^image_shape"), ((15, 20), (4, 5), (1, 2), "^matrix must have 16 rows"),
     ((300, 300), (15, 20), (1, 1), "^matrix must be 2-D with at most 200")],
)
def test_draw_conv_matrix_rejects_mismatch(shape, image_shape, kernel_shape, match):
    with pytest.raises(ValueError, match=match):
        de.conv_matrix(np.zeros(shape), image_shape, kernel_shape)


def test_draw_cost_bars():
    c = ef.costs(32, 32, 3, 3)
    seconds = {"convolution": 1e-5, "sparse matrix": 2e-5, "dense matrix": 1e-3}
    limits = {"flops": (1e2, 1e10), "nbytes": (1.0, 1e10), "seconds": (1e-6, 1.0)}
    before = plt.get_fignums()
    fig = de.cost_bars(c, seconds, limits=limits, label="32 × 32 image, 3 × 3 kernel")
    assert plt.get_fignums() == before
    ax_f, ax_b, ax_t = fig.get_axes()
    assert [p.get_height() for p in ax_f.patches] == [c.convolution.flops, c.sparse.flops, c.dense.flops]
    assert [p.get_height() for p in ax_b.patches] == [c.convolution.nbytes, c.sparse.nbytes, c.dense.nbytes]
    assert [p.get_height() for p in ax_t.patches] == [1e-5, 2e-5, 1e-3]
    assert all(ax.get_yscale() == "log" for ax in (ax_f, ax_b, ax_t))
    assert ax_f.get_ylim() == (1e2, 1e10)
    # 900 outputs: 900 * 17 flops against 900 * (2 * 1024 - 1).
    assert ax_f.get_title().endswith(f"= {(2 * 1024 - 1) / 17:,.0f}×")
    assert ax_t.get_title().endswith("= 100×")
    assert [t.get_text() for t in ax_t.texts] == ["10.0 µs", "20.0 µs", "1.00 ms"]
    assert fig._suptitle.get_text() == "32 × 32 image, 3 × 3 kernel"
    assert "measured time convolution 10.0 µs" in fig.alt
    fig.canvas.draw()
    # Powers of ten as plain-text tick labels, major ticks only.
    assert "10⁴" in [t.get_text() for t in ax_f.get_yticklabels()]
    assert "10⁻⁶" in [t.get_text() for t in ax_t.get_yticklabels()]
    assert ax_f.yaxis.get_minorticklocs().size == 0


@pytest.mark.parametrize("side, kernel", [(8, 2), (64, 5), (64, 2)])
def test_cost_bars_labels_stay_inside_their_panels(side, kernel):
    # The chapter's explorer, with its shared limits: the dense matrix's "29.5 million" flops (64 × 64 image,
    # 5 × 5 kernel) is wider than its bar's share of the panel and must not cross the panel's border.
    counts = {(s, k): ef.costs(s, s, k, k) for s in (8, 16, 24, 32, 48, 64) for k in (2, 3, 5)}
    limits = {"flops": de.log_limits([c.method(m).flops for c in counts.values() for m in ef.METHODS]),
              "nbytes": de.log_limits([c.method(m).nbytes for c in counts.values() for m in ef.METHODS]),
              "seconds": (1e-6, 1e-1)}
    seconds = {"convolution": 7.1e-5, "sparse matrix": 6.78e-5, "dense matrix": 2.9e-3}
    fig = framed(lambda side, kernel_size: de.cost_bars(counts[side, int(kernel_size[0])], seconds, limits=limits,
                                                        backend={"convolution": "oneDNN"}),
                 side=side, kernel_size=f"{kernel} × {kernel}")
    renderer = laid_out(fig)
    assert texts_outside(fig, renderer) == []
    for ax in fig.axes:
        box = ax.get_window_extent(renderer)
        for label in ax.texts:
            e = label.get_window_extent(renderer)
            assert box.x0 <= e.x0 and e.x1 <= box.x1 and e.y1 <= box.y1, label.get_text()


def test_draw_cost_bars_rejects_bad_input():
    c = ef.costs(8, 8, 3, 3)
    with pytest.raises(ValueError, match="^seconds must map some of"):
        de.cost_bars(c, {"fft": 1.0})
    with pytest.raises(ValueError, match="^seconds must hold positive numbers"):
        de.cost_bars(c, {"convolution": 0.0})
    with pytest.raises(ValueError, match="^costs must be a Costs"):
        de.cost_bars({"convolution": 1}, {"convolution": 1.0})


def test_draw_cost_bars_names_the_back_end():
    c = ef.costs(32, 32, 5, 5)
    fig = de.cost_bars(c, {"convolution": 1e-5, "dense matrix": 1e-3}, backend={"convolution": "oneDNN"})
    ax_t = fig.get_axes()[2]
    assert [t.get_text() for t in ax_t.get_xticklabels()] == ["convolution\n(oneDNN)", "dense\nmatrix"]
    assert "convolution ran on oneDNN" in fig.alt
    with pytest.raises(ValueError, match="^backend must map methods of seconds"):
        de.cost_bars(c, {"convolution": 1e-5}, backend={"sparse matrix": "oneDNN"})


def test_draw_scaling():
    pixels = {"convolution": np.array([16, 64, 256]), "convolution, oneDNN off": np.array([16, 64, 256]),
              "dense matrix": np.array([16, 64, 256])}
    seconds = {"convolution": np.array([1e-6, 2e-6, 4e-5]), "convolution, oneDNN off": np.array([1e-6, 2e-6, 4e-6]),
               "dense matrix": np.array([1e-6, 1.6e-5, 2.56e-4])}
    nbytes = {"convolution": np.array([8, 8, 8]), "dense matrix": np.array([480, 8064, 130_000])}
    fits = {"dense matrix": ef.power_law_fit(pixels["dense matrix"][1:], seconds["dense matrix"][1:])}
    before = plt.get_fignums()
    fig = de.scaling(pixels, seconds, nbytes, fits, fit_range=(64, 256), switch=100, target=1000,
                     target_label="target", target_seconds={"convolution": 1e-4},
                     target_range={"dense matrix": (1e-3, 4e-3)}, target_nbytes={"dense matrix": 4e6},
                     fit_notes={"dense matrix": "95 % CI 1.9 to 2.1"})
    assert plt.get_fignums() == before
    ax_t, ax_m = fig.get_axes()
    assert ax_t.get_xscale() == ax_t.get_yscale() == ax_m.get_yscale() == "log"
    assert ax_t.get_legend() is None and ax_m.get_legend() is None
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["convolution, conv2d as PyTorch runs it", "convolution, conv2d with oneDNN off",
                      "dense matrix, fit: time ∝ pixels^2.00\n(95 % CI 1.9 to 2.1)", "target"]
    assert "fitted power law for dense matrix, exponent 2.00 (95 % CI 1.9 to 2.1)" in fig.alt
    assert "vertical line at 100 pixels where PyTorch hands conv2d to oneDNN" in fig.alt
    # The predicted range is a vertical bar at the target, from low to high.
    bar = [line for line in ax_t.lines if list(line.get_xdata()) == [1000, 1000] and line.get_linewidth() == 4]
    assert len(bar) == 1 and list(bar[0].get_ydata()) == [1e-3, 4e-3]
    assert any(t.get_text() == "own code ← → oneDNN" for t in ax_t.texts)
    fig.canvas.draw()
    # The legend lies inside the figure and below both axes: it covers no data.
    box, frame = fig.legends[0].get_window_extent(), fig.bbox
    assert box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0
    assert all(box.y1 < ax.get_window_extent().y0 for ax in (ax_t, ax_m))
    # Each method keeps its kind's colour; markers and fills tell overlapping ones apart.
    styles = [de.method_style(m) for m in de.METHOD_COLOURS]
    assert [s["color"] for s in styles] == list(de.METHOD_COLOURS.values())
    assert len({(s["marker"], s["markerfacecolor"] == "white") for s in styles}) == 4
    with pytest.raises(ValueError, match="^method must be one of"):
        de.method_style("fft")


def test_draw_scaling_rejects_misaligned_data():
    with pytest.raises(ValueError, match=r"^seconds\['convolution'\] must have one value per pixel count"):
        de.scaling({"convolution": [1, 2]}, {"convolution": [1.0]}, {"convolution": [8, 8]}, {})
    with pytest.raises(ValueError, match="^pixels must map some of"):
        de.scaling({"fft": [1]}, {"fft": [1.0]}, {"fft": [1]}, {})
    with pytest.raises(ValueError, match="^fit_range must be two pixel counts"):
        de.scaling({"convolution": [1, 2]}, {"convolution": [1, 2]}, {"convolution": [8, 8]}, {}, fit_range=(4, 2))
    with pytest.raises(ValueError, match="^fit_notes must map methods of fits"):
        de.scaling({"convolution": [1, 2]}, {"convolution": [1, 2]}, {"convolution": [8, 8]}, {},
                   fit_notes={"dense matrix": "x"})
    with pytest.raises(ValueError, match=r"^target_range\['dense matrix'\] must be"):
        de.scaling({"convolution": [1, 2]}, {"convolution": [1, 2]}, {"convolution": [8, 8]}, {}, target=8,
                   target_range={"dense matrix": (2.0, 1.0)})


def test_colour_names_come_from_the_palette():
    assert {m: de.colour_name(m) for m in de.METHOD_COLOURS} == {
        "convolution": "blue", "convolution, oneDNN off": "blue", "sparse matrix": "orange",
        "dense matrix": "vermillion"}
    assert de.METHOD_COLOURS["sparse matrix"] == "#E69F00"


def test_draw_network_costs():
    rows = ef.network_costs(ef.vgg16(), (3, 224, 224))
    before = plt.get_fignums()
    fig = de.network_costs(rows, title="VGG-16")
    assert plt.get_fignums() == before
    ax_p, ax_m, ax_a = fig.get_axes()
    assert [p.get_height() for p in ax_p.patches] == [r.parameters / 1e6 for r in rows]
    assert [p.get_height() for p in ax_m.patches] == [r.multiply_adds / 1e9 for r in rows]
    assert ax_p.get_title() == "parameters: 138 million; convolutions 10.6 %, dense layers 89.4 %"
    assert ax_m.get_title() == "multiply-adds: 15.5 billion; convolutions 99.2 %, dense layers 0.8 %"
    assert "pooling 10.1 %" in ax_a.get_title()
    assert [t.get_text() for t in ax_a.get_xticklabels()] == [r.name for r in rows]
    assert "parameters: 138 million in all, convolutions 10.6 %" in fig.alt
    fig.canvas.draw()
    with pytest.raises(ValueError, match="^layers must be a non-empty sequence"):
        de.network_costs([])

# --------------------------------------------------------------------------- the chapter's numbers


def _check_ratio(g, name, margin=1.1):
    """A glued paired time ratio: its interval holds it and its verdict follows the interval."""
    ratio, low, high = (float(g[f"{name}_{p}"]) for p in ("ratio", "low", "high"))
    assert 0 < low <= ratio <= high, name
    verdict = g[f"{name}_verdict"]
    expected = ("slower" if low > 1 else "faster" if high < 1
                else "as fast" if 1 / margin <= low and high <= margin else "unresolved")
    assert verdict == expected, name
    return ratio, verdict


#: What the chapter's comparison clauses say for each verdict (the ``compare`` helper in the chapter).
CLAUSES = {"slower": "took {:.2f} times as long as", "faster": "took only {:.2f} times as long as",
           "as fast": "took about as long as ({:.2f} times)", "unresolved": "could not be told apart ({:.2f} times)"}


#: A phrase only each verdict's clause has.
MARKERS = {"slower": r"took \d", "faster": "took only", "as fast": "took about", "unresolved": "could not be told"}


def _check_clause(sentence, ratio, verdict):
    assert CLAUSES[verdict].format(ratio) in sentence
    assert [v for v, m in MARKERS.items() if re.search(m, sentence)] == [verdict], sentence
    assert "95 % CI" in sentence and "rounds" in sentence


@pytest.mark.build
def test_efficiency_chapter_numbers(executed):
    """The numbers the efficiency chapter quotes.

    Counts against closed forms worked out by hand; timings only through the
    sentences chosen from them (no timing is asserted to be fast or slow).
    """
    g = glued(executed, "book/07_efficiency")
    # The small matrix: 4 x 5 image, [-1, 1]: 4 x 4 outputs, two non-zeros each.
    assert g["tiny_shape"] == "16 × 20" and g["tiny_out"] == "4 rows and 4 columns"
    assert int(g["tiny_nonzero"]) == 32 and int(g["tiny_entries"]) == 320
    assert int(g["matrix_frames"]) == 3 * 3
    assert g["gray_matrix_shape"] == "2,256 × 2,304"     # 48 x 47 by 48 x 48
    assert g["layer_matrix_shape"] == "3,600 × 3,072"    # 4 x 30 x 30 by 3 x 32 x 32
    assert int(g["layer_out_side"]) == 30
    assert float(g["gap_gray"]) < 1e-6 and float(g["gap_colour"]) < 1e-5
    # The book's example.
    assert g["book_out"] == "319 × 280"
    assert int(g["book_conv_flops"]) == 319 * 280 * 3 == 267_960
    assert int(g["book_conv_stored"]) == 2
    assert int(g["book_dense_entries"]) == 320 * 280 * 319 * 280 == 8_003_072_000
    assert int(g["book_dense_flops"]) == 319 * 280 * (2 * 320 * 280 - 1) == 16_006_054_680
    assert float(g["book_flop_ratio"]) == 59_733          # (2 * 89,600 - 1) / 3, exactly
    assert float(g["book_storage_ratio"]) == 4_001_536_000
    assert float(g["book_dense_gb"]) == pytest.approx(32.012288)
    assert int(g["book_pixels"]) == PIXELS and int(g["book_out_pixels"]) == OUT
    assert int(g["book_flops_per_output"]) == 3 and int(g["book_3_flops_per_output"]) == 17
    assert int(g["book_dense_flops_per_output"]) == 179_199
    # The same image with a 3 x 3 kernel.
    assert g["book_3_out"] == "318 × 278"
    assert int(g["book_3_conv_flops"]) == 318 * 278 * 17 == 1_502_868
    assert int(g["book_3_dense_entries"]) == 318 * 278 * 320 * 280
    assert float(g["book_3_flop_ratio"]) == pytest.approx(179_199 / 17)
    assert float(g["book_3_storage_ratio"]) == pytest.approx(318 * 278 * 320 * 280 / 9)

    # VGG-16, counted on the meta device (totals as published: 138,357,544 parameters).
    assert int(g["vgg_params"]) == 138_357_544 and int(g["vgg_mads"]) == 15_470_264_320
    assert int(g["vgg_conv_layers"]) == 13
    assert float(g["vgg_conv_param_share"]) == pytest.approx(100 * 14_714_688 / 138_357_544)
    assert float(g["vgg_conv_mad_share"]) == pytest.approx(100 * (15_470_264_320 - 123_633_664) / 15_470_264_320)
    assert float(g["vgg_dense_param_share"]) + float(g["vgg_conv_param_share"]) == pytest.approx(100)
    assert float(g["vgg_dense_mad_share"]) + float(g["vgg_conv_mad_share"]) == pytest.approx(100)
    assert int(g["fc6_params"]) == 25_088 * 4096 + 4096 and int(g["fc6_mads"]) == 25_088 * 4096
    assert float(g["fc6_share"]) == pytest.approx(100 * 102_764_544 / 138_357_544)
    assert int(g["conv1_2_weights"]) == 64 * 64 * 9 and int(g["conv1_2_mads"]) == 224 * 224 * 64 * 64 * 9
    assert int(g["vgg_values"]) == 15_087_080
    assert float(g["vgg_values_mb"]) == pytest.approx(15_087_080 * 4 / 1e6)
    assert float(g["vgg_params_mb"]) == pytest.approx(138_357_544 * 4 / 1e6)
    assert float(g["vgg_block1_share"]) == pytest.approx(100 * 2 * 64 * 224 * 224 / 15_087_080)
    assert int(g["vgg_crossover_batch"]) == 10   # 9 images' activations are less than the weights, 10 more
    assert int(g["vgg_crossover_batch4"]) == 37  # weights, gradients and Adam's two moments: 36 < 36.7 < 37
    assert int(g["vgg_values_with_input"]) == 15_087_080 + 3 * 224 * 224 == 15_237_608
    assert 9 * 15_087_080 < 138_357_544 < 10 * 15_087_080
    # Exercise 3: fc6 as a 7 x 7 convolution over a 14 x 14 pool5 (a 448 x 448 image).
    assert int(g["fc6_as_conv_side"]) == 8 and int(g["fc6_as_conv_positions"]) == 64
    assert int(g["fc6_as_conv_mads"]) == 64 * 25_088 * 4096 and int(g["fc6_as_conv_params"]) == 102_764_544

    # Which code ran: PyTorch's dispatcher, not a timing.
    assert (int(g["switch_below"]), int(g["switch_above"])) == (143, 144)
    assert g["torch_version"] == torch.__version__
    assert int(g["switch_below_values"]) <= 20_480 < int(g["switch_above_values"])
    assert g["native_backend_everywhere"] == "True"
    assert g["book_backend"] == "oneDNN" and g["onednn_layer_backend"] == "oneDNN"
    assert [g[f"backend_{c}"] for c in "abcd"] == ["oneDNN", "oneDNN", "oneDNN", "native"]
    assert g["explorer_backends"] == "1 × 2: ['native'], 3 × 3: ['native'], 5 × 5: ['oneDNN']"

    # Timings: finite and positive, and each sentence follows its own numbers.
    for key in ("default_below_us", "default_above_us", "native_below_us", "native_above_us", "switch_jump",
                "native_ns_smallest", "native_ns_largest", "native_us_smallest", "dense_small_ns", "dense_large_ns",
                "conv_book_us", "native_book_us", "sparse_book_us", "dense_fit_low_s", "dense_fit_high_s",
                "dense_constant_low_s", "dense_constant_high_s", "bandwidth_low_gbs", "bandwidth_high_gbs"):
        assert np.isfinite(float(g[key])) and float(g[key]) > 0, key
    assert float(g["switch_jump"]) == pytest.approx(float(g["default_above_us"]) / float(g["default_below_us"]))
    assert int(g["smallest_side"]) == 16 and int(g["largest_side"]) == 512 and int(g["sweep_rounds"]) == 3
    small, large = float(g["sparse_ns_smallest"]), float(g["sparse_ns_largest"])
    assert small > 0 and large > 0
    assert ("falls likewise" if large < small else "does not fall") in g["sparse_per_pixel_sentence"]
    assert f"from {small:.1f} to {large:.2f} ns" in g["sparse_per_pixel_sentence"]
    # The small image's time against what its pixels cost at the large image's rate.
    assert float(g["native_us_smallest"]) == pytest.approx(float(g["native_ns_smallest"]) * 16 * 16 / 1e3)
    assert float(g["native_arith_smallest_us"]) == pytest.approx(float(g["native_ns_largest"]) * 16 * 16 / 1e3)
    onednn_book, verdict = _check_ratio(g, "onednn_book")
    _check_clause(g["onednn_book_sentence"], onednn_book, verdict)
    assert g["onednn_book_sentence"].startswith("PyTorch's choice, oneDNN,")
    onednn_layer, verdict = _check_ratio(g, "onednn_layer")
    _check_clause(g["onednn_layer_sentence"], onednn_layer, verdict)
    assert "over 10 rounds" in g["onednn_layer_sentence"]
    endings = {"faster": "there oneDNN pays off", "slower": "it loses even there", "as fast": "it gains nothing"}
    for v, ending in endings.items():
        assert (ending in g["onednn_layer_sentence"]) == (v == verdict)
    # With 8 kernels: the gap against one kernel's, as a ratio of the two ratios (within a quarter: the same).
    onednn_book8, verdict8 = _check_ratio(g, "onednn_book8")
    _check_clause(g["onednn_channels_sentence"].split(": ")[0], onednn_book8, verdict8)
    _, change = _check_ratio(g, "onednn_gap_change", margin=1.25)
    gap_words = {"as fast": "the same gap", "faster": "a narrower gap", "slower": "a wider gap",
                 "unresolved": "cannot tell"}
    assert gap_words[change] in g["onednn_channels_sentence"]
    assert all(w not in g["onednn_channels_sentence"] for v, w in gap_words.items() if v != change)
    assert ("not a cost of having a single kernel" in g["onednn_channels_sentence"]) == (
        change in ("as fast", "slower"))
    sentence = g["sparse_book_sentence"]
    first, second = sentence.split(", and ")
    for name, part in (("sparse_native", first), ("sparse_onednn", second)):
        _check_clause(part, *_check_ratio(g, name))
    # The backward pass against twice the forward, within a quarter: the verdict of backward / (2 forward).
    backward, _ = _check_ratio(g, "backward")
    low, high = float(g["backward_low"]) / 2, float(g["backward_high"]) / 2
    expected = ("slower" if low > 1 else "faster" if high < 1 else "as fast" if 0.8 <= low and high <= 1.25
                else "unresolved")
    assert g["backward_vs_two_verdict"] == expected
    words = {"as fast": "close to (within a quarter of) the factor of 2", "slower": "more than the factor of 2",
             "faster": "less than the factor of 2", "unresolved": "cannot tell whether"}
    assert words[expected] in g["backward_sentence"] and f"{backward:.2f} times" in g["backward_sentence"]
    assert all(w not in g["backward_sentence"] for v, w in words.items() if v != expected)
    assert "over 10 rounds" in g["backward_sentence"]
    summary = {"as fast": "about twice that backward", "slower": "and more on one layer",
               "faster": "and less on one layer", "unresolved": "not resolved against 2"}
    assert summary[expected] in g["backward_summary"] and f"{backward:.1f} times" in g["backward_summary"]
    assert all(w not in g["backward_summary"] for v, w in summary.items() if v != expected)

    # The dense fit: where it starts (chosen from the data), the exponent's interval across the passes,
    # and the sentence chosen from it.
    rates = {int(k): v for k, v in ast.literal_eval(g["dense_ns_per_flop"]).items()}
    sides = sorted(rates)
    assert sides == [16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96]
    settled = [s for s in sides if all(rates[t] >= rates[96] / 1.5 for t in sides if t >= s)]
    fit_from = min(min(settled), sides[-3])
    assert (int(g["fit_from"]), int(g["fit_to"])) == (fit_from, 96)
    assert float(g["fit_pixel_range"]) == pytest.approx(96**2 / fit_from**2)
    assert int(g["fit_sizes"]) == len([s for s in sides if s >= fit_from])
    exponents = [float(e) for e in g["dense_exponents"].split(", ")]
    assert len(exponents) == int(g["sweep_rounds"]) == 3
    exponent, low, high = (float(g[k]) for k in ("dense_exponent", "dense_exponent_low", "dense_exponent_high"))
    assert exponent == pytest.approx(np.mean(exponents), abs=0.006)   # the passes' exponents as printed
    half = stats_t.ppf(0.975, 3 - 1) * np.std(exponents, ddof=1) / np.sqrt(3)
    assert high - exponent == pytest.approx(half, abs=0.02) and exponent - low == pytest.approx(high - exponent)
    low, high = round(low, 2), round(high, 2)   # the ends as the prose prints them
    verdict = "two" if low <= 2 <= high else "below" if high < 2 else "above"
    assert g["dense_exponent_verdict"] == verdict
    assert {"two": "holds the 2", "below": "below the 2", "above": "above the 2"}[verdict] in \
        g["dense_exponent_sentence"]
    step = float(g["dense_rate_step"])
    assert step == pytest.approx(float(g["dense_large_ns"]) / float(g["dense_small_ns"]))
    if fit_from > 16:
        assert f"Below {fit_from} pixels" in g["dense_step_sentence"]
        assert float(g["dense_small_ns"]) == min(rates[s] for s in sides if s < fit_from)
        assert f"{float(g['dense_small_ns']):.3f} ns" in g["dense_step_sentence"]
    assert float(g["dense_large_ns"]) == min(rates[s] for s in sides if s >= fit_from)
    # The cache test: the small product, evicted before each run, against itself warm; the large one as control.
    cache, verdict = _check_ratio(g, "cache")
    control, control_verdict = _check_ratio(g, "cache_control")
    assert (int(g["cache_side"]), int(g["cache_control_side"])) == (32, 64)
    assert float(g["cache_matrix_mb"]) == 31 * 32 * 32 * 32 * 4 / 1e6
    assert float(g["cache_control_mb"]) == 63 * 64 * 64 * 64 * 4 / 1e6
    _check_clause(g["cache_sentence"].split("; ")[0], cache, verdict)
    cold = float(g["cache_cold_ns"])
    if verdict == "slower" and control_verdict == "as fast":
        case = "explain" if cold >= float(g["dense_large_ns"]) / 1.5 else "part"
    elif verdict == "slower":
        case = "control" if control_verdict in ("slower", "faster") else "noisy control"
    else:
        case = {"as fast": "no", "faster": "no", "unresolved": "noisy"}[verdict]
    assert g["cache_case"] == case
    endings = {"explain": "so the caches explain the step", "part": "explain part of the step",
               "control": "changed the large matrix's time too", "noisy control": "control is too noisy",
               "no": "do not explain", "noisy": "too noisy to say"}
    assert [c for c, e in endings.items() if e in g["cache_sentence"]] == [case]
    assert f"{cold:.3f} ns per flop" in g["cache_sentence"]
    control_low, control_high = float(g["cache_control_low"]), float(g["cache_control_high"])
    assert f"{control:.2f} times" in g["cache_sentence"]
    assert f"95 % CI {control_low:.2f} to {control_high:.2f} over 25 rounds" in g["cache_sentence"]
    # The prediction: a range that holds every pass's two extrapolations, rounded to two figures.
    lo, hi = float(g["dense_predicted_low_s"]), float(g["dense_predicted_high_s"])
    assert lo == min(float(g["dense_fit_low_s"]), float(g["dense_constant_low_s"]))
    assert hi == max(float(g["dense_fit_high_s"]), float(g["dense_constant_high_s"]))
    # Constant bandwidth: the book's matrix bytes over the largest matrix's bytes per second.
    largest_bytes = 96 * 95 * 96 * 96 * 4
    assert float(g["dense_constant_low_s"]) == pytest.approx(32.012288e9 / (float(g["bandwidth_high_gbs"]) * 1e9))
    assert float(g["dense_constant_high_s"]) == pytest.approx(32.012288e9 / (float(g["bandwidth_low_gbs"]) * 1e9))
    fastest = min(float(g["conv_book_us"]), float(g["native_book_us"])) * 1e-6
    assert float(g["predicted_ratio_low"]) == pytest.approx(lo / fastest)
    assert float(g["predicted_ratio_high"]) == pytest.approx(hi / fastest)

    def sig2(value):
        rounded = float(f"{value:.2g}")
        return f"{rounded:,.0f}" if rounded >= 100 else f"{rounded:g}"

    assert g["prediction_text"] == (f"{sig2(lo)} to {sig2(hi)} s, {sig2(lo / fastest)} to "
                                    f"{sig2(hi / fastest)} times")
    assert float(g["extrapolated_bytes"]) == pytest.approx(32.012288e9 / largest_bytes)
    assert int(g["dense_largest_side"]) == 96
    assert float(g["dense_largest_mb"]) == 96 * 95 * 96 * 96 * 4 / 1e6
    assert float(g["extrapolated_pixels"]) == pytest.approx(PIXELS / 96**2)
    assert float(g["dense_max_gap"]) < 1e-6 and float(g["sparse_max_gap"]) < 1e-6
    assert float(g["binder_multiple"]) == pytest.approx(32.012288 / 2) and int(g["binder_gb"]) == 2
    assert int(g["cost_frames"]) == 6 * 3
    assert int(g["explorer_largest_side"]) == 64 and int(g["explorer_smallest_side"]) == 8
    assert float(g["explorer_onednn_smallest_us"]) > 0 and float(g["explorer_dense_smallest_us"]) > 0
    assert float(g["explorer_largest_mb"]) == 64 * 64 * 63 * 64 * 4 / 1e6
    # The colours the prose names are the ones the code draws.
    assert (g["conv_colour"], g["sparse_colour"], g["dense_colour"]) == tuple(
        de.colour_name(m) for m in ("convolution", "sparse matrix", "dense matrix"))

    # Sparsity and sharing, stored without indices (a locally connected layer's weights).
    assert int(g["sparse_nnz"]) == 2 * OUT == 178_640 and int(g["sparse_distinct"]) == 2
    assert int(g["sparse_flops"]) == 267_960
    assert int(g["local_bytes"]) == 178_640 * 4 == 714_560
    assert int(g["csr_bytes"]) == 178_640 * 12 + (OUT + 1) * 8 == 2_858_248
    assert float(g["csr_overhead"]) == pytest.approx(2_858_248 / 714_560)
    assert int(g["conv_bytes"]) == 8
    assert float(g["sparsity_saving"]) == PIXELS / 2 == 44_800      # the pixels over the taps each output reads
    assert float(g["sharing_saving"]) == OUT == 89_320              # the number of positions
    assert int(g["winograd_mults"]) == 16 and int(g["direct_mults"]) == 36
    assert float(g["winograd_saving"]) == 2.25
    assert g["unrolled_shape"] == "2 × 89,320" and float(g["gap_unrolled"]) < 1e-6

    # Exercises.
    # The quoted "about 30,000": square matrix entries over the two-element kernel's flops.
    assert float(g["retold_ratio"]) == pytest.approx((320 * 280) ** 2 / 267_960)
    assert round(float(g["retold_ratio"])) == 29_960
    assert float(g["retold_entry_factor"]) == pytest.approx(0.5, abs=1e-5)
    assert float(g["retold_square_factor"]) == pytest.approx(89_600 / 89_320)
    assert float(g["retold_rebuilt"]) == pytest.approx(float(g["retold_ratio"]))
    # Arithmetic intensity of Conv2d(64, 64, 3) on 32 x 32: flops over the bytes of weights, bias, input, output.
    assert float(g["layer_intensity"]) == pytest.approx(2 * 32 * 32 * 64 * 64 * 9 / (4 * (36_864 + 64 + 131_072)))
    assert float(g["dense_gflops"]) == pytest.approx(1 / float(g["dense_large_ns"]))
    assert float(g["layer_gflops"]) > 0
    # Exercise 7: a 256-to-256 3 x 3 layer on 56 x 56, a ResNet bottleneck and a depthwise-separable layer.
    assert int(g["full_mads"]) == 56 * 56 * 256 * 256 * 9 == 1_849_688_064
    assert int(g["bottleneck_mads"]) == 56 * 56 * (256 * 64 + 64 * 64 * 9 + 64 * 256) == 218_365_952
    assert int(g["separable_mads"]) == 56 * 56 * (256 * 9 + 256 * 256) == 212_746_240
    assert float(g["separable_saving"]) == pytest.approx(1 / (1 / 256 + 1 / 9))
    assert float(g["pointwise_share"]) == pytest.approx(100 * 256 / (256 + 9))

    # Pooling as compression: multiply-adds by layer (16 channels, 3 x 3, on 64 x 64; the first reads one
    # channel), stored values and fields.
    first, full = 64 * 64 * 16 * 9, 64 * 64 * 16 * 16 * 9
    assert int(g["compress_plain_mads1"]) == int(g["compress_pooled_mads1"]) == first
    assert [int(g[f"compress_plain_mads{i}"]) for i in (2, 3, 4)] == [full] * 3
    assert [int(g[f"compress_pooled_mads{i}"]) for i in (2, 3, 4)] == [full // 4, full // 16, full // 64]
    assert int(g["compress_plain_total_mads"]) == first + 3 * full
    assert int(g["compress_pooled_total_mads"]) == first + full // 4 + full // 16 + full // 64
    assert int(g["compress_plain_values"]) == 4 * 16 * 64 * 64
    assert int(g["compress_pooled_values"]) == 16 * (64**2 + 32**2 + 16**2 + 8**2)
    assert float(g["compress_ratio"]) == pytest.approx(28_901_376 / 3_686_400)
    assert int(g["compress_plain_field"]) == 9 and int(g["compress_pooled_field"]) == 38
    # Doubling the channels at each pooling keeps VGG-16's second convolution of blocks 1 to 4 at one cost.
    assert int(g["vgg_block_mads"]) == 224 * 224 * 64 * 64 * 9 and g["vgg_blocks_equal"] == "True"
