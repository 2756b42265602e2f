// The kernel playground: an image, one editable 3 x 3 kernel per channel, and
// the feature map they give, computed in the browser by layers.js and redrawn on
// every edit. Clicking an output pixel, or moving to it with the arrow keys,
// shows the patch, the products and their sum.
//
// What the figure computed is kept on its element as `element.live`
// ({input, weight, padding, stride, output, selected}), where the book's
// browser tests read it back and compare it with PyTorch.
import { conv2d, floats, pixels, tensor } from "./layers.js";
import { el, whenSettled } from "./dom.js";

const SIZE = 3;  // kernel side
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function format(v) {
  const s = Math.abs(v) < 5e-4 ? "0" : v.toFixed(3).replace(/\.?0+$/, "");
  return s.replace("-", "\u2212");
}

function render({ model, el: root }) {
  const [C, H, W] = model.get("image_shape");
  const names = model.get("channel_names");
  const limit = model.get("limit");
  const input = tensor([C, H, W], pixels(model.get("image"), model.get("image_encoding")));
  const lut = (() => {
    const b = model.get("colormap");
    const view = ArrayBuffer.isView(b) ? b : new DataView(b);
    return new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
  })();
  const presets = Object.fromEntries(
    Object.entries(model.get("presets")).map(([k, v]) => [k, floats(v)]));
  let weight = floats(model.get("kernel"));
  let padding = model.get("padding");
  let stride = model.get("stride");
  let [row, col] = model.get("selected");
  let output = null;
  const uid = `cw-live-${Math.random().toString(36).slice(2, 10)}`;

  // --- controls -----------------------------------------------------------
  const figure = el("div", { class: "cw-live cw-kernel-playground" });
  const presetSelect = el("select", { id: `${uid}-preset` });
  for (const name of Object.keys(presets)) { presetSelect.append(el("option", { value: name, text: name })); }
  presetSelect.append(el("option", { value: "", text: "your own" }));
  presetSelect.value = model.get("preset");
  const paddingSelect = el("select", { id: `${uid}-padding` });
  for (const [value, text] of [["none", "none"], ["zeros", "zeros (1 pixel)"], ["circular", "circular (1 pixel)"]]) {
    paddingSelect.append(el("option", { value, text }));
  }
  paddingSelect.value = padding;
  const strideSelect = el("select", { id: `${uid}-stride` });
  for (const s of [1, 2, 3]) { strideSelect.append(el("option", { value: String(s), text: String(s) })); }
  strideSelect.value = String(stride);
  // Each label stays beside its menu when the row wraps.
  figure.append(el("div", { class: "cw-live-row" }, [
    el("span", { class: "cw-live-pair" }, [el("label", { for: `${uid}-preset`, text: "Kernel" }), presetSelect]),
    el("span", { class: "cw-live-pair" }, [el("label", { for: `${uid}-padding`, text: "Padding" }), paddingSelect]),
    el("span", { class: "cw-live-pair" }, [el("label", { for: `${uid}-stride`, text: "Stride" }), strideSelect]),
  ]));

  // One 3 x 3 grid of number fields per channel, each with its message beside it.
  const fields = [];
  const kernels = el("div", { class: "cw-live-row cw-live-kernels" });
  for (let c = 0; c < C; c++) {
    const grid = el("div", { class: "cw-live-grid" });
    const message = el("div", { class: "cw-live-message", id: `${uid}-msg-${c}`, "aria-live": "polite" });
    for (let a = 0; a < SIZE; a++) {
      for (let b = 0; b < SIZE; b++) {
        const field = el("input", {
          type: "text", inputmode: "decimal", size: "5", class: "cw-live-field",
          "aria-label": `${names[c]} kernel, row ${a + 1}, column ${b + 1}`,
          "aria-describedby": message.id,
        });
        field.dataset.index = String((c * SIZE + a) * SIZE + b);
        fields.push(field);
        grid.append(field);
      }
    }
    kernels.append(el("fieldset", { class: `cw-live-kernel cw-live-${names[c]}` },
                      [el("legend", { text: `${names[c]} kernel` }), grid, message]));
  }
  figure.append(kernels);

  // --- images -------------------------------------------------------------
  const inputCanvas = el("canvas", {
    width: String(W), height: String(H), role: "img", class: "cw-live-canvas",
    "aria-label": `Input: ${model.get("description")}, ${C} × ${H} × ${W}`,
  });
  const outputCanvas = el("canvas", {
    class: "cw-live-canvas cw-live-output", tabindex: "0", role: "application",
    "aria-roledescription": "feature map",
  });
  const patchBox = el("div", { class: "cw-live-box", "aria-hidden": "true" });
  const pixelBox = el("div", { class: "cw-live-box", "aria-hidden": "true" });
  const outputCaption = el("figcaption");
  figure.append(el("div", { class: "cw-live-row cw-live-images" }, [
    el("figure", {}, [el("div", { class: "cw-live-stack" }, [inputCanvas, patchBox]),
                      el("figcaption", { text: `Input, ${C} × ${H} × ${W}` })]),
    el("figure", {}, [el("div", { class: "cw-live-stack" }, [outputCanvas, pixelBox]), outputCaption]),
  ]));
  const detail = el("div", { class: "cw-live-detail" });
  const status = el("p", { class: "cw-live-status", "aria-live": "polite" });
  figure.append(detail, status);
  root.append(figure);

  const rgb = new ImageData(W, H);
  for (let i = 0; i < H * W; i++) {
    for (let k = 0; k < 3; k++) {
      const v = input.data[(C === 3 ? k : 0) * H * W + i];
      rgb.data[4 * i + k] = Math.round(255 * Math.min(1, Math.max(0, v)));
    }
    rgb.data[4 * i + 3] = 255;
  }
  inputCanvas.getContext("2d").putImageData(rgb, 0, 0);

  // --- computing and drawing ----------------------------------------------
  function showFields() {
    for (const f of fields) {
      f.value = format(weight[Number(f.dataset.index)]).replace("\u2212", "-");
      f.removeAttribute("aria-invalid");
    }
    for (let c = 0; c < C; c++) { root.querySelector(`#${uid}-msg-${c}`).textContent = ""; }
  }

  function place(box, top, left, h, w, rows, cols) {
    box.style.top = `${(100 * top) / rows}%`;
    box.style.left = `${(100 * left) / cols}%`;
    box.style.height = `${(100 * h) / rows}%`;
    box.style.width = `${(100 * w) / cols}%`;
  }

  function compute() {
    const pad = padding === "none" ? 0 : 1;
    const kernel = tensor([1, C, SIZE, SIZE], weight);
    output = conv2d(input, kernel, null, {
      stride, padding: pad, paddingMode: padding === "circular" ? "circular" : "zeros" });
    const [, Ho, Wo] = output.shape;
    row = Math.min(row, Ho - 1);
    col = Math.min(col, Wo - 1);
    // Diverging colours, symmetric about zero: zero is the neutral middle.
    let bound = 0;
    for (const v of output.data) { bound = Math.max(bound, Math.abs(v)); }
    bound = bound || 1;
    if (outputCanvas.width !== Wo || outputCanvas.height !== Ho) {
      outputCanvas.width = Wo;
      outputCanvas.height = Ho;
    }
    const img = new ImageData(Wo, Ho);
    for (let i = 0; i < Ho * Wo; i++) {
      const k = 3 * Math.round(((output.data[i] / bound + 1) / 2) * 255);
      img.data[4 * i] = lut[k];
      img.data[4 * i + 1] = lut[k + 1];
      img.data[4 * i + 2] = lut[k + 2];
      img.data[4 * i + 3] = 255;
    }
    outputCanvas.getContext("2d").putImageData(img, 0, 0);
    outputCanvas.style.width = `${(100 * Wo) / W}%`;
    outputCaption.textContent = `Feature map, ${Ho} × ${Wo}, colours from −${format(bound).replace("\u2212", "")} ` +
      `(blue) through 0 (grey) to +${format(bound)} (red)`;
    outputCanvas.setAttribute("aria-label",
      `Feature map, ${Ho} by ${Wo}. Arrow keys or a click choose the output pixel whose multiply-add is shown.`);
    select(row, col, false);
  }

  function select(r, c, announce = true) {
    const [, Ho, Wo] = output.shape;
    row = Math.max(0, Math.min(Ho - 1, r));
    col = Math.max(0, Math.min(Wo - 1, c));
    const pad = padding === "none" ? 0 : 1;
    const top = row * stride - pad, left = col * stride - pad;
    place(pixelBox, row, col, 1, 1, Ho, Wo);
    place(patchBox, top, left, SIZE, SIZE, H, W);
    // The patch as the convolution saw it (padding included), the products, the sums.
    const patch = new Float32Array(C * SIZE * SIZE);
    const products = new Float32Array(C * SIZE * SIZE);
    const sums = [];
    detail.replaceChildren();
    for (let c = 0; c < C; c++) {
      let sum = 0;
      const tables = ["patch", "kernel", "products"].map((title) => (
        el("table", { class: "cw-live-table" }, [el("caption", { text: `${names[c]} ${title}` })])));
      for (let a = 0; a < SIZE; a++) {
        const rows = tables.map(() => el("tr"));
        for (let b = 0; b < SIZE; b++) {
          let y = top + a, x = left + b, v = 0;
          if (padding === "circular") { y = (y + H) % H; x = (x + W) % W; }
          if (y >= 0 && y < H && x >= 0 && x < W) { v = input.data[(c * H + y) * W + x]; }
          const k = (c * SIZE + a) * SIZE + b;
          patch[k] = v;
          products[k] = v * weight[k];
          sum += v * weight[k];
          [patch[k], weight[k], products[k]].forEach((value, t) => rows[t].append(el("td", { text: format(value) })));
        }
        rows.forEach((tr, t) => tables[t].append(tr));
      }
      sums.push(sum);
      detail.append(el("div", { class: "cw-live-channel" }, [
        ...tables, el("p", { text: `${names[c]} sum ${format(sum)}` })]));
    }
    const value = output.data[row * Wo + col];
    detail.append(el("p", { class: "cw-live-sum", text:
      `Output (${row}, ${col}) = ${sums.map(format).join(" + ")} = ${format(value)}: ` +
      `the sum of all ${C * SIZE * SIZE} products` }));
    figure.live = { input, weight: weight.slice(), padding, stride, output,
                  selected: { row, col, patch, products, value } };
    if (announce) {
      status.textContent = `Output row ${row}, column ${col}: ${format(value)}`;
    }
    model.set("selected", [row, col]);
    save();
  }

  // With a kernel running, the reader's settings go back to Python; the static
  // page has no kernel to send them to, so there is nothing to save there.
  function save() {
    try { model.save_changes(); } catch (error) { /* no kernel on the static page */ }
  }

  // --- reader's input -------------------------------------------------------
  function edit(field) {
    const text = field.value.trim();
    const value = Number(text);
    const c = Math.floor(Number(field.dataset.index) / (SIZE * SIZE));
    const message = root.querySelector(`#${uid}-msg-${c}`);
    if (!NUMBER.test(text) || !Number.isFinite(value) || Math.abs(value) > limit) {
      field.setAttribute("aria-invalid", "true");
      message.textContent = `“${text}” is not a number from −${limit} to ${limit}; ` +
        "the feature map shows the last valid kernel.";
      return;
    }
    field.removeAttribute("aria-invalid");
    const stillInvalid = fields.some((f) => f !== field && f.getAttribute("aria-invalid") === "true" &&
      Math.floor(Number(f.dataset.index) / (SIZE * SIZE)) === c);
    if (!stillInvalid) { message.textContent = ""; }
    weight[Number(field.dataset.index)] = value;
    presetSelect.value = "";
    model.set("preset", "");
    model.set("kernel", new DataView(weight.slice().buffer));
    compute();
    status.textContent = `Output row ${row}, column ${col}: ${format(output.data[row * output.shape[2] + col])}`;
  }
  for (const f of fields) { whenSettled(f, edit); }
  presetSelect.addEventListener("change", () => {
    if (!presetSelect.value) { return; }
    weight = presets[presetSelect.value].slice();
    model.set("preset", presetSelect.value);
    model.set("kernel", new DataView(weight.slice().buffer));
    showFields();
    compute();
    select(row, col);
  });
  paddingSelect.addEventListener("change", () => {
    padding = paddingSelect.value;
    model.set("padding", padding);
    compute();
    select(row, col);
  });
  strideSelect.addEventListener("change", () => {
    stride = Number(strideSelect.value);
    model.set("stride", stride);
    compute();
    select(row, col);
  });
  outputCanvas.addEventListener("click", (event) => {
    const box = outputCanvas.getBoundingClientRect();
    const [, Ho, Wo] = output.shape;
    select(Math.floor(((event.clientY - box.top) / box.height) * Ho),
           Math.floor(((event.clientX - box.left) / box.width) * Wo));
    outputCanvas.focus();
  });
  const MOVES = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
  outputCanvas.addEventListener("keydown", (event) => {
    const move = MOVES[event.key];
    if (!move) { return; }
    event.preventDefault();
    select(row + move[0], col + move[1]);
  });

  showFields();
  compute();
  // Drawn: the class every drawn Jupyter widget carries (the page's checks wait for it).
  root.classList.add("jupyter-widgets");
}

export default { render };
