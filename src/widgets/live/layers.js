// The layers of the book's live figures, computed in the browser exactly as
// PyTorch computes them (float32 values; sums accumulated in float64 and
// rounded to float32 once, so results agree with PyTorch to float32 precision).
//
// A tensor is {shape, data}: shape an array of sizes without the batch axis,
// e.g. [C, H, W] for an image or [F] for a vector, data a Float32Array in
// row-major (C, H, W) order. Every function returns a new tensor and never
// changes its arguments. Plain JavaScript, no WebGL: the same input always gives
// the same output. widgets/live/platform.py exports torch modules to these layer specs,
// and tests/test_live.py checks every layer against torch.

export function tensor(shape, data) {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = data === undefined ? new Float32Array(size) : Float32Array.from(data);
  if (values.length !== size) {
    throw new Error(`tensor of shape [${shape}] needs ${size} values, got ${values.length}`);
  }
  return { shape: shape.slice(), data: values };
}

// A Float32Array read from the bytes of a widget buffer (a DataView on the
// static page, an ArrayBuffer or typed array elsewhere); always a copy.
export function floats(buffer) {
  if (buffer instanceof Float32Array) { return buffer.slice(); }
  const view = ArrayBuffer.isView(buffer) ? buffer : new DataView(buffer);
  const out = new Float32Array(view.byteLength / 4);
  const bytes = new DataView(view.buffer, view.byteOffset, view.byteLength);
  for (let i = 0; i < out.length; i++) { out[i] = bytes.getFloat32(4 * i, true); }
  return out;
}

// Output length along one axis: floor((n + 2p - d(k - 1) - 1) / s) + 1.
export function outputSize(n, kernel, stride = 1, padding = 0, dilation = 1) {
  return Math.floor((n + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1;
}

function checkImage(x, name) {
  if (x.shape.length !== 3) { throw new Error(`${name} needs a [C, H, W] input, got [${x.shape}]`); }
}

function pair(v) { return Array.isArray(v) ? v : [v, v]; }

// Index of input row or column i (may lie in the padding) of a length-n axis:
// -1 for a zero, else the index to read; circular padding wraps around.
function source(i, n, mode) {
  if (i >= 0 && i < n) { return i; }
  if (mode === "circular") { return ((i % n) + n) % n; }
  return -1;
}

// torch.nn.Conv2d (groups = 1): cross-correlation of x [C, H, W] with weight
// [O, C, kH, kW], plus bias [O] if given. padding_mode "zeros" or "circular".
//
//   out[o, i, j] = bias[o] + sum over c, a, b of
//                  weight[o, c, a, b] * x[c, i*sh - ph + a*dh, j*sw - pw + b*dw]
//
// The loops visit one kernel tap (c, a, b) at a time and add its products to
// every output position: each output still sums its products in the order c,
// a, b, and the innermost loop is a plain run along one input row, which keeps
// a 3-channel 256 x 256 image well inside one frame.
export function conv2d(x, weight, bias = null, { stride = 1, padding = 0, dilation = 1,
                                                  paddingMode = "zeros" } = {}) {
  checkImage(x, "conv2d");
  const [C, H, W] = x.shape;
  const [O, Cw, kH, kW] = weight.shape;
  if (Cw !== C) { throw new Error(`conv2d weight has ${Cw} input channels, input has ${C}`); }
  const [sh, sw] = pair(stride), [ph, pw] = pair(padding), [dh, dw] = pair(dilation);
  if (paddingMode === "circular" && (ph > H || pw > W)) {
    throw new Error("circular padding cannot be wider than the input");
  }
  const Ho = outputSize(H, kH, sh, ph, dh), Wo = outputSize(W, kW, sw, pw, dw);
  if (Ho < 1 || Wo < 1) { throw new Error(`conv2d output would be ${Ho} x ${Wo}`); }
  const out = tensor([O, Ho, Wo]);
  const sum = new Float64Array(Ho * Wo);  // one output channel's running sums
  for (let o = 0; o < O; o++) {
    sum.fill(0);
    for (let c = 0; c < C; c++) {
      for (let a = 0; a < kH; a++) {
        for (let b = 0; b < kW; b++) {
          const w = weight.data[((o * C + c) * kH + a) * kW + b];
          const shift = b * dw - pw;            // input column of output column j: j*sw + shift
          // Output columns whose input column lies inside the image: jFirst <= j < jEnd.
          const jFirst = Math.min(Wo, Math.max(0, Math.ceil(-shift / sw)));
          const jEnd = Math.max(jFirst, Math.min(Wo, Math.ceil((W - shift) / sw)));
          for (let i = 0; i < Ho; i++) {
            const r = source(i * sh - ph + a * dh, H, paddingMode);
            if (r < 0) { continue; }
            const row = (c * H + r) * W, at = i * Wo;
            for (let j = jFirst; j < jEnd; j++) { sum[at + j] += w * x.data[row + j * sw + shift]; }
            if (paddingMode === "circular") {  // columns that wrap around
              for (let j = 0; j < jFirst; j++) { sum[at + j] += w * x.data[row + source(j * sw + shift, W, paddingMode)]; }
              for (let j = jEnd; j < Wo; j++) { sum[at + j] += w * x.data[row + source(j * sw + shift, W, paddingMode)]; }
            }
          }
        }
      }
    }
    const start = bias ? bias.data[o] : 0;
    for (let k = 0; k < Ho * Wo; k++) { out.data[o * Ho * Wo + k] = sum[k] + start; }
  }
  return out;
}

// The book's LocallyConnected2d (widgets.compute.local_connectivity): like
// conv2d with zero padding, but weight [Ho, Wo, O, C, k, k] holds a separate
// kernel for every output position, and bias [O, Ho, Wo] one value per unit.
export function locallyConnected2d(x, weight, bias = null, { stride = 1, padding = 0 } = {}) {
  checkImage(x, "locallyConnected2d");
  const [C, H, W] = x.shape;
  const [Ho, Wo, O, Cw, k] = weight.shape;
  if (Cw !== C) { throw new Error(`locallyConnected2d weight has ${Cw} input channels, input has ${C}`); }
  if (outputSize(H, k, stride, padding) !== Ho || outputSize(W, k, stride, padding) !== Wo) {
    throw new Error(`locallyConnected2d weight is for a different input size than [${x.shape}]`);
  }
  const out = tensor([O, Ho, Wo]);
  for (let i = 0; i < Ho; i++) {
    for (let j = 0; j < Wo; j++) {
      for (let o = 0; o < O; o++) {
        let sum = 0;
        const wBase = ((i * Wo + j) * O + o) * C * k * k;
        for (let c = 0; c < C; c++) {
          for (let a = 0; a < k; a++) {
            const r = i * stride - padding + a;
            if (r < 0 || r >= H) { continue; }
            for (let b = 0; b < k; b++) {
              const q = j * stride - padding + b;
              if (q < 0 || q >= W) { continue; }
              sum += x.data[(c * H + r) * W + q] * weight.data[wBase + (c * k + a) * k + b];
            }
          }
        }
        const unit = (o * Ho + i) * Wo + j;
        out.data[unit] = sum + (bias ? bias.data[unit] : 0);
      }
    }
  }
  return out;
}

export function relu(x) {
  const out = tensor(x.shape);
  for (let i = 0; i < x.data.length; i++) {
    const v = x.data[i];
    out.data[i] = v > 0 || Number.isNaN(v) ? v : 0;  // torch keeps NaN and turns -0 into 0
  }
  return out;
}

// torch.nn.MaxPool2d / AvgPool2d with ceil_mode=False. Max pooling pads with
// -infinity; average pooling pads with zeros and, as torch does by default,
// divides by the full window including the padding (countIncludePad).
function pool2d(x, kernel, stride, padding, reduce) {
  checkImage(x, "pool2d");
  const [C, H, W] = x.shape;
  const [kH, kW] = pair(kernel), [sh, sw] = pair(stride ?? kernel), [ph, pw] = pair(padding);
  const Ho = outputSize(H, kH, sh, ph), Wo = outputSize(W, kW, sw, pw);
  const out = tensor([C, Ho, Wo]);
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < Ho; i++) {
      for (let j = 0; j < Wo; j++) {
        out.data[(c * Ho + i) * Wo + j] = reduce(c, i * sh - ph, j * sw - pw, kH, kW);
      }
    }
  }
  return out;
}

export function maxPool2d(x, { kernelSize, stride = null, padding = 0 } = {}) {
  const [, H, W] = x.shape;
  return pool2d(x, kernelSize, stride, padding, (c, top, left, kH, kW) => {
    let best = -Infinity;
    for (let a = 0; a < kH; a++) {
      const r = top + a;
      if (r < 0 || r >= H) { continue; }
      for (let b = 0; b < kW; b++) {
        const q = left + b;
        if (q < 0 || q >= W) { continue; }
        const v = x.data[(c * H + r) * W + q];
        if (v > best || Number.isNaN(v)) { best = v; }
        if (Number.isNaN(best)) { return NaN; }
      }
    }
    return best;
  });
}

export function avgPool2d(x, { kernelSize, stride = null, padding = 0, countIncludePad = true } = {}) {
  const [, H, W] = x.shape;
  return pool2d(x, kernelSize, stride, padding, (c, top, left, kH, kW) => {
    let sum = 0, n = 0;
    for (let a = 0; a < kH; a++) {
      const r = top + a;
      for (let b = 0; b < kW; b++) {
        const q = left + b;
        // Without ceil_mode a window never reaches past the padding.
        if (r >= 0 && r < H && q >= 0 && q < W) { sum += x.data[(c * H + r) * W + q]; n++; }
        else if (countIncludePad) { n++; }
      }
    }
    return sum / n;
  });
}

// torch.nn.Flatten(): [C, H, W] (or any shape) to [C·H·W], the order unchanged.
export function flatten(x) {
  return tensor([x.data.length], x.data);
}

// torch.nn.Linear: weight [out, in], bias [out].
export function linear(x, weight, bias = null) {
  const [O, I] = weight.shape;
  if (x.shape.length !== 1 || x.shape[0] !== I) {
    throw new Error(`linear needs a vector of ${I} values, got shape [${x.shape}]`);
  }
  const out = tensor([O]);
  for (let o = 0; o < O; o++) {
    let sum = 0;
    for (let i = 0; i < I; i++) { sum += x.data[i] * weight.data[o * I + i]; }
    out.data[o] = sum + (bias ? bias.data[o] : 0);
  }
  return out;
}

// The layer types a network spec may name (widgets/live/platform.py exports the same list).
export const LAYERS = {
  conv2d: (x, L) => conv2d(x, L.weight, L.bias, L),
  locally_connected2d: (x, L) => locallyConnected2d(x, L.weight, L.bias, L),
  relu: (x) => relu(x),
  max_pool2d: (x, L) => maxPool2d(x, L),
  avg_pool2d: (x, L) => avgPool2d(x, L),
  flatten: (x) => flatten(x),
  linear: (x, L) => linear(x, L.weight, L.bias),
};

// A network spec as widgets/live/platform.py exports it (weights as buffers beside
// their shapes, e.g. {type: "linear", weight, weight_shape: [10, 64], ...}),
// with every weight and bias turned into a tensor.
export function fromSpec(layers) {
  return layers.map((L) => {
    const layer = { ...L };
    for (const name of ["weight", "bias"]) {
      if (L[name] != null) { layer[name] = tensor(L[`${name}_shape`], floats(L[name])); }
    }
    return layer;
  });
}

// Run a network (a list of layers, each {type, ...options, weight, bias} with
// tensors, see fromSpec) on x; returns every layer's output, the network's last.
export function run(layers, x) {
  const outputs = [];
  for (const L of layers) {
    const f = LAYERS[L.type];
    if (f === undefined) { throw new Error(`no layer "${L.type}" in layers.js`); }
    x = f(x, L);
    outputs.push(x);
  }
  return outputs;
}

// --- Added for the draw-a-digit figure (digit_pad.js) -----------------------
// torch.nn.AdaptiveMaxPool2d: output cell (i, j) of an [Ho, Wo] map is the
// largest value over input rows floor(i*H/Ho) to ceil((i+1)*H/Ho) - 1 and the
// columns likewise; outputSize [1, 1] is the global max pooling of chapter 7's
// networks. NaN wins, as in torch.
export function adaptiveMaxPool2d(x, { outputSize = [1, 1] } = {}) {
  checkImage(x, "adaptiveMaxPool2d");
  const [C, H, W] = x.shape;
  const [Ho, Wo] = pair(outputSize);
  const out = tensor([C, Ho, Wo]);
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < Ho; i++) {
      const r0 = Math.floor((i * H) / Ho), r1 = Math.ceil(((i + 1) * H) / Ho);
      for (let j = 0; j < Wo; j++) {
        const q0 = Math.floor((j * W) / Wo), q1 = Math.ceil(((j + 1) * W) / Wo);
        let best = -Infinity;
        for (let r = r0; r < r1; r++) {
          for (let q = q0; q < q1; q++) {
            const v = x.data[(c * H + r) * W + q];
            if (v > best || Number.isNaN(v)) { best = v; }
          }
        }
        out.data[(c * Ho + i) * Wo + j] = best;
      }
    }
  }
  return out;
}
LAYERS.adaptive_max_pool2d = (x, L) => adaptiveMaxPool2d(x, L);

// --- Images (every figure) -------------------------------------------------

// An image's values from a widget buffer in the encoding widgets/live/platform.py's
// image_buffer chose: "uint8" holds k for each value k / 255 (divided here in
// float64 and rounded to float32 once, which is the float32 quotient torch
// computes), "float32" the values themselves.
export function pixels(buffer, encoding) {
  if (encoding === "float32") { return floats(buffer); }
  if (encoding !== "uint8") { throw new Error(`image encoding must be "uint8" or "float32", got ${encoding}`); }
  const view = ArrayBuffer.isView(buffer) ? buffer : new DataView(buffer);
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) { out[i] = bytes[i] / 255; }
  return out;
}

// --- Shifts and blur pooling (chapter 5's shift figure, shift_figure.js) ---
// The definitions of widgets.compute.equivariance: shift() and BlurPool.

// torch.roll(x, shifts=(dy, dx), dims=(-2, -1)) of a [C, H, W] tensor: pixels
// leaving one side come back on the other.
export function roll(x, dy, dx) {
  checkImage(x, "roll");
  const [C, H, W] = x.shape;
  const out = tensor(x.shape);
  const oy = ((dy % H) + H) % H, ox = ((dx % W) + W) % W;
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < H; i++) {
      const to = (c * H + (i + oy) % H) * W, from = (c * H + i) * W;
      for (let j = 0; j < W; j++) { out.data[to + (j + ox) % W] = x.data[from + j]; }
    }
  }
  return out;
}

// A zero-filled shift by dy rows down and dx columns right (|dy| < H, |dx| < W):
// pixels leaving the frame are lost, the uncovered ones are zero.
export function shiftZeros(x, dy, dx) {
  checkImage(x, "shiftZeros");
  const [C, H, W] = x.shape;
  if (Math.abs(dy) >= H || Math.abs(dx) >= W) {
    throw new Error(`shiftZeros needs |dy| < ${H} and |dx| < ${W}, got (${dy}, ${dx})`);
  }
  const out = tensor(x.shape);
  for (let c = 0; c < C; c++) {
    for (let i = Math.max(dy, 0); i < H + Math.min(dy, 0); i++) {
      const to = (c * H + i) * W, from = (c * H + i - dy) * W - dx;
      for (let j = Math.max(dx, 0); j < W + Math.min(dx, 0); j++) { out.data[to + j] = x.data[from + j]; }
    }
  }
  return out;
}

// widgets.compute.equivariance.shift: mode "circular" (roll) or "zeros" (shiftZeros).
export function shift(x, dy, dx, mode = "circular") {
  if (mode === "circular") { return roll(x, dy, dx); }
  if (mode === "zeros") { return shiftZeros(x, dy, dx); }
  throw new Error(`shift mode must be "circular" or "zeros", got "${mode}"`);
}

// The binomial filter of `taps` entries summing to 1 (equivariance.binomial_taps),
// rounded to float32 as torch computes it.
export function binomialTaps(taps = 3) {
  const row = [1];
  for (let n = 1; n < taps; n++) { row.push(row[n - 1] * (taps - n) / n); }
  const total = row.reduce((a, b) => a + b, 0);
  return Float32Array.from(row, (v) => Math.fround(Math.fround(v) / Math.fround(total)));
}

// equivariance.BlurPool: each channel padded by (taps - 1) // 2 pixels before
// and taps // 2 after (circularly or with zeros), filtered with the outer
// product of binomialTaps(taps) with itself, and kept at every `stride`-th pixel.
export function blurPool2d(x, { taps = 3, paddingMode = "circular", stride = 2 } = {}) {
  checkImage(x, "blurPool2d");
  const [C, H, W] = x.shape;
  const row = binomialTaps(taps);
  const before = Math.floor((taps - 1) / 2), after = Math.floor(taps / 2);
  const Ho = outputSize(H + before + after, taps, stride), Wo = outputSize(W + before + after, taps, stride);
  const out = tensor([C, Ho, Wo]);
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < Ho; i++) {
      for (let j = 0; j < Wo; j++) {
        let sum = 0;
        for (let a = 0; a < taps; a++) {
          const r = source(i * stride - before + a, H, paddingMode);
          if (r < 0) { continue; }
          for (let b = 0; b < taps; b++) {
            const q = source(j * stride - before + b, W, paddingMode);
            if (q < 0) { continue; }
            sum += Math.fround(row[a] * row[b]) * x.data[(c * H + r) * W + q];
          }
        }
        out.data[(c * Ho + i) * Wo + j] = sum;
      }
    }
  }
  return out;
}

// --- Receptive fields: chapter 4's field stack (field_stack.js) -------------
// The closed form of widgets.compute.receptive_fields, one axis at a time, with
// its conventions: a layer is {kind, kernelSize, stride, padding, dilation};
// its window spans dilation * (kernelSize - 1) + 1 positions of the layer below.
// Working forwards from one position (size 1, jump 1, offset 0):
//   size_l = size_{l-1} + (span - 1) * jump_{l-1},  jump_l = jump_{l-1} * stride,
//   offset_l = offset_{l-1} - padding * jump_{l-1}.
// Unit i's field starts at i * jump + offset, unclipped (negative where it
// reaches into padding), and is centred at start + (size - 1) / 2.
export function fieldSpan(L) { return L.dilation * (L.kernelSize - 1) + 1; }

export function receptiveField(layers) {
  const sizes = [1], jumps = [1], offsets = [0];
  for (const L of layers) {
    const j = jumps[jumps.length - 1];
    offsets.push(offsets[offsets.length - 1] - L.padding * j);
    sizes.push(sizes[sizes.length - 1] + (fieldSpan(L) - 1) * j);
    jumps.push(j * L.stride);
  }
  const last = sizes.length - 1;
  return { size: sizes[last], jump: jumps[last], offset: offsets[last], sizes, jumps, offsets };
}

// Side of every map of the stack on an n x n input, n first (as PyTorch computes
// them, so an entry below 1 means that layer has no output).
export function stackSizes(layers, n) {
  const sides = [n];
  for (const L of layers) { sides.push(outputSize(sides[sides.length - 1], L.kernelSize, L.stride, L.padding, L.dilation)); }
  return sides;
}

// The positions (one axis) of an n-long input that output position `index`
// of the stack depends on: the windows followed back, taps in padding dropped.
export function fieldSupport(layers, n, index) {
  const sides = stackSizes(layers, n);
  let units = new Set([index]);
  for (let l = layers.length - 1; l >= 0; l--) {
    const L = layers[l], next = new Set();
    for (const u of units) {
      for (let t = 0; t < L.kernelSize; t++) {
        const v = u * L.stride - L.padding + t * L.dilation;
        if (v >= 0 && v < sides[l]) { next.add(v); }
      }
    }
    units = next;
  }
  return [...units].sort((a, b) => a - b);
}

// The field of unit (row, col) of map `depth` (0 is the input) on every map
// m = 0 .. depth below it: that of the layers m + 1 .. depth, in map m's
// coordinates (widgets.compute.receptive_fields.unit_fields).
export function unitFields(layers, n, depth, row, col) {
  const sides = stackSizes(layers, n);
  const maps = [];
  for (let m = 0; m <= depth; m++) {
    const between = layers.slice(m, depth);
    const f = receptiveField(between);
    const top = row * f.jump + f.offset, left = col * f.jump + f.offset;
    maps.push({ size: f.size, jump: f.jump, top, left,
                centreRow: top + (f.size - 1) / 2, centreCol: left + (f.size - 1) / 2,
                rows: fieldSupport(between, sides[m], row), cols: fieldSupport(between, sides[m], col) });
  }
  return maps;
}
