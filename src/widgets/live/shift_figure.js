// Chapter 5's shift figure: the reader drags the image, presses the arrow keys
// or types a shift (dy, dx); the browser applies a 3 x 3 convolution (and a
// pooling) to the shifted image and to the original, shifts the second result,
// and shows both, their difference and the equivariance error, recomputed on
// every change by layers.js.
//
// The comparison is widgets.compute.equivariance.compare_shift: the output is
// shifted by the input shift divided by the total stride; when the stride does
// not divide the shift, by whichever of the nearest whole-pixel output shifts
// (floor or ceil on each axis, tried in that order) gives the smallest error.
// The error is ||f(g(x)) - g'(f(x))|| / ||f(x)|| over every value, in float64.
//
// What the figure computed is kept on its element as `element.live`, where the
// book's browser tests read it back and compare it with PyTorch.
import { avgPool2d, blurPool2d, conv2d, floats, maxPool2d, shift, tensor } from "./layers.js";
import { el, whenSettled } from "./dom.js";

const INTEGER = /^[+-]?\d+$/;
const POOLINGS = [["none", "none"], ["max", "2 × 2 max"], ["average", "2 × 2 average"],
                  ["blur", "blur [1, 2, 1]"]];

// The layer f: Conv2d(1, 1, 3, padding=1) with the given stride and padding
// mode, then the pooling (equivariance.pooling of that kind, 1 channel).
export function layer(x, kernel, { padding, stride, pooling }) {
  let y = conv2d(x, kernel, null, { stride, padding: 1, paddingMode: padding });
  if (pooling === "max") { y = maxPool2d(y, { kernelSize: 2 }); }
  else if (pooling === "average") { y = avgPool2d(y, { kernelSize: 2 }); }
  else if (pooling === "blur") { y = blurPool2d(y, { taps: 3, paddingMode: padding }); }
  else if (pooling !== "none") { throw new Error(`no pooling "${pooling}"`); }
  return y;
}

function norm(values) {
  let sum = 0;
  for (const v of values) { sum += v * v; }
  return Math.sqrt(sum);
}

// compare_shift(f, x, dy, dx, mode=padding, stride=total stride).
export function compareShift(x, kernel, { dy, dx, padding, stride, pooling }) {
  const total = stride * (pooling === "none" ? 1 : 2);
  const shifted = shift(x, dy, dx, padding);
  const response = layer(x, kernel, { padding, stride, pooling });
  const responseOfShifted = layer(shifted, kernel, { padding, stride, pooling });
  const divides = dy % total === 0 && dx % total === 0;
  const near = (d) => [...new Set([Math.floor(d / total), Math.ceil(d / total)])].sort((a, b) => a - b);
  const candidates = [];
  for (const oy of near(dy)) { for (const ox of near(dx)) { candidates.push([oy, ox]); } }
  const scale = norm(response.data);
  let best = null;
  for (const [oy, ox] of candidates) {
    const shiftedResponse = shift(response, oy, ox, padding);
    const difference = tensor(response.shape);
    for (let i = 0; i < difference.data.length; i++) {
      difference.data[i] = responseOfShifted.data[i] - shiftedResponse.data[i];
    }
    const error = scale > 0 ? norm(difference.data) / scale : NaN;
    if (best === null || error < best.error) {
      best = { shiftedResponse, difference, outputShift: [oy, ox], error };
    }
  }
  return { shifted, response, responseOfShifted, ...best, divides, totalStride: total, scale };
}

const minus = (s) => String(s).replace(/-/g, "\u2212");
const pairText = ([a, b]) => minus(`(${a}, ${b})`);

function errorText(e) {
  if (Number.isNaN(e)) { return "undefined (f(x) is zero)"; }
  if (e === 0) { return "0"; }
  return e < 1e-3 ? minus(e.toExponential(1)) : e.toFixed(3);
}

function render({ model, el: root }) {
  const scenes = Object.fromEntries(Object.entries(model.get("scenes")).map(([name, s]) => [name, {
    image: tensor([1, ...s.shape], floats(s.image)), kernel: tensor([1, 1, 3, 3], floats(s.kernel)) }]));
  const lut = (() => {
    const b = model.get("colormap");
    const view = ArrayBuffer.isView(b) ? b : new DataView(b);
    return new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
  })();
  const limit = model.get("max_shift");
  const settings = { scene: model.get("scene"), dy: model.get("dy"), dx: model.get("dx"),
                     padding: model.get("padding"), stride: model.get("stride"), pooling: model.get("pooling") };
  const uid = `cw-shift-${Math.random().toString(36).slice(2, 10)}`;

  // --- controls -------------------------------------------------------------
  const figure = el("div", { class: "cw-live cw-shift-figure" });
  function select(key, label, options) {
    const node = el("select", { id: `${uid}-${key}` });
    for (const [value, text] of options) { node.append(el("option", { value: String(value), text })); }
    node.value = String(settings[key]);
    node.addEventListener("change", () => {
      settings[key] = key === "stride" ? Number(node.value) : node.value;
      model.set(key, settings[key]);
      update();
    });
    return el("span", { class: "cw-shift-control" }, [el("label", { for: node.id, text: label }), node]);
  }
  figure.append(el("div", { class: "cw-live-row" }, [
    select("scene", "Image", Object.keys(scenes).map((k) => [k, k])),
    select("padding", "Padding and shift", [["circular", "circular"], ["zeros", "zeros"]]),
    select("stride", "Stride", [[1, "1"], [2, "2"]]),
    select("pooling", "Pooling", POOLINGS),
  ]));
  const message = el("div", { class: "cw-live-message cw-shift-message", id: `${uid}-msg`, "aria-live": "polite" });
  const fields = {};
  const shiftRow = el("div", { class: "cw-live-row" });
  for (const [key, label] of [["dy", "Shift down, dy"], ["dx", "Shift right, dx"]]) {
    const field = el("input", { type: "text", inputmode: "text", autocomplete: "off", size: "4", id: `${uid}-${key}`,
                                class: "cw-live-field cw-shift-field",
                                "aria-describedby": `${uid}-range ${message.id}` });
    field.dataset.axis = key;
    fields[key] = field;
    shiftRow.append(el("span", { class: "cw-shift-control" }, [el("label", { for: field.id, text: label }), field]));
  }
  shiftRow.append(el("span", { class: "cw-shift-range", id: `${uid}-range`,
                              text: `whole pixels from ${minus(-limit)} to ${limit}` }));
  figure.append(shiftRow, message);

  // --- panels ---------------------------------------------------------------
  const panels = {};
  const grid = el("div", { class: "cw-shift-panels" });
  for (const key of ["input", "responseOfShifted", "shiftedResponse", "difference"]) {
    const canvas = el("canvas", { class: "cw-live-canvas", role: "img" });
    const caption = el("figcaption");
    panels[key] = { canvas, caption };
    grid.append(el("figure", { class: `cw-shift-panel cw-shift-${key}` }, [canvas, caption]));
  }
  const input = panels.input.canvas;
  input.classList.add("cw-shift-drag");
  input.setAttribute("tabindex", "0");
  input.setAttribute("role", "application");
  input.setAttribute("aria-roledescription", "draggable image");
  const errorLine = el("p", { class: "cw-shift-error" });
  const status = el("p", { class: "cw-live-status", "aria-live": "polite" });
  // The panels and the error line together are the figure's result (on a phone it stays in view).
  figure.append(el("div", { class: "cw-shift-result" }, [grid, errorLine]), status);
  root.append(figure);

  function draw(canvas, t, bound, gray = false) {
    const [, H, W] = t.shape;
    if (canvas.width !== W || canvas.height !== H) { canvas.width = W; canvas.height = H; }
    const img = new ImageData(W, H);
    for (let i = 0; i < H * W; i++) {
      const v = t.data[i];
      if (gray) {
        const g = Math.round(255 * Math.min(1, Math.max(0, v)));
        img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = g;
      } else {
        const k = 3 * Math.round(((Math.max(-1, Math.min(1, v / bound)) + 1) / 2) * 255);
        img.data[4 * i] = lut[k];
        img.data[4 * i + 1] = lut[k + 1];
        img.data[4 * i + 2] = lut[k + 2];
      }
      img.data[4 * i + 3] = 255;
    }
    canvas.getContext("2d").putImageData(img, 0, 0);
  }

  // --- computing and drawing --------------------------------------------------
  function update(announce = true) {
    const { image, kernel } = scenes[settings.scene];
    const result = compareShift(image, kernel, settings);
    const [, H, W] = image.shape;
    const [, Ho, Wo] = result.response.shape;
    // One symmetric colour scale for both maps and their difference, so a
    // difference at rounding level looks blank.
    let bound = 0;
    for (const t of [result.response, result.responseOfShifted]) {
      for (const v of t.data) { bound = Math.max(bound, Math.abs(v)); }
    }
    bound = bound || 1;
    draw(input, result.shifted, 1, true);
    draw(panels.responseOfShifted.canvas, result.responseOfShifted, bound);
    draw(panels.shiftedResponse.canvas, result.shiftedResponse, bound);
    draw(panels.difference.canvas, result.difference, bound);
    const g = pairText([settings.dy, settings.dx]), o = pairText(result.outputShift);
    const s = result.totalStride;
    panels.input.caption.textContent = `g(x): the image shifted by ${g}, ${H} × ${W}`;
    panels.responseOfShifted.caption.textContent = `f(g(x)), ${Ho} × ${Wo}`;
    panels.shiftedResponse.caption.textContent = `g′(f(x)): f(x) shifted by ${o}`;
    panels.difference.caption.textContent = `f(g(x)) − g′(f(x)), colours from ` +
      `${minus((-bound).toPrecision(2))} (blue) to ${bound.toPrecision(2)} (red)`;
    input.setAttribute("aria-label", `The image shifted by ${g} (rows down, columns right). ` +
      "Drag it, or use the arrow keys, to change the shift by whole pixels.");
    panels.responseOfShifted.canvas.setAttribute("aria-label", `f(g(x)): the layer's output for the shifted image, ${Ho} by ${Wo}`);
    panels.shiftedResponse.canvas.setAttribute("aria-label", `g′(f(x)): the layer's output for the original image, shifted by ${o}`);
    // e_equi is defined only when the stride divides the shift; otherwise the
    // number is the error of the best of the nearest whole-pixel comparisons.
    const what = result.divides ? "Equivariance error" : "Error of the best nearest comparison";
    panels.difference.canvas.setAttribute("aria-label",
      `The difference of the two maps; ${what.toLowerCase()} ${errorText(result.error)}`);
    const how = result.divides
      ? (s === 1 ? `the output is shifted by the same ${o}` : `total stride ${s} divides the shift: the output is shifted by ${o}`)
      : `total stride ${s} does not divide ${g}: no whole-pixel output shift corresponds, and the nearest that matches best is ${o}`;
    errorLine.textContent = `${what} ‖f(g(x)) − g′(f(x))‖ / ‖f(x)‖ = ${errorText(result.error)} (${how}).`;
    figure.live = { ...settings, ...result };
    if (announce) { announceResult(); }
    save();
  }

  // The status line is read aloud: once per change the reader finishes (a key,
  // a typed value, a control, the end of a drag), not on every pointer move.
  function announceResult() {
    const r = figure.live, g = pairText([r.dy, r.dx]);
    const divides = r.divides ? `total stride ${r.totalStride} divides it`
      : `total stride ${r.totalStride} does not divide it`;
    const what = r.divides ? "equivariance error" : "error of the best nearest comparison";
    status.textContent = `Shift ${g}: ${divides}; ${what} ${errorText(r.error)}, ` +
      `output compared at ${pairText(r.outputShift)}.`;
  }

  // With a kernel running, the reader's settings go back to Python; the static
  // page has no kernel to send them to.
  function save() {
    try { model.save_changes(); } catch (error) { /* no kernel on the static page */ }
  }

  function setShift(dy, dx, fromField = null, announce = true) {
    dy = Math.max(-limit, Math.min(limit, dy));
    dx = Math.max(-limit, Math.min(limit, dx));
    for (const [key, value] of [["dy", dy], ["dx", dx]]) {
      if (fields[key] !== fromField) { fields[key].value = String(value); }
      fields[key].removeAttribute("aria-invalid");
    }
    message.textContent = "";
    if (dy === settings.dy && dx === settings.dx && figure.live) { return; }
    settings.dy = dy;
    settings.dx = dx;
    model.set("dy", dy);
    model.set("dx", dx);
    update(announce);
  }

  // --- reader's input -------------------------------------------------------
  function typed(field) {
    // The figure prints negative numbers with a true minus (U+2212): accept it.
    const text = field.value.trim().replace(/\u2212/g, "-");
    const value = Number(text);
    if (!INTEGER.test(text) || Math.abs(value) > limit) {
      field.setAttribute("aria-invalid", "true");
      message.textContent = `“${field.value.trim()}” is not a whole number from ${minus(-limit)} to ${limit}; ` +
        "the figure shows the last valid shift.";
      return;
    }
    const other = fields[field.dataset.axis === "dy" ? "dx" : "dy"];
    const otherValue = settings[other.dataset.axis];
    const next = field.dataset.axis === "dy" ? [value, otherValue] : [otherValue, value];
    field.removeAttribute("aria-invalid");
    const otherBad = other.getAttribute("aria-invalid") === "true";
    if (otherBad) {  // keep the other field's mark and message; take this axis
      settings[field.dataset.axis] = value;
      model.set(field.dataset.axis, value);
      update();
      return;
    }
    setShift(next[0], next[1], field);
  }
  for (const field of Object.values(fields)) { whenSettled(field, typed); }

  const MOVES = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
  input.addEventListener("keydown", (event) => {
    const move = MOVES[event.key];
    if (!move) { return; }
    event.preventDefault();
    setShift(settings.dy + move[0], settings.dx + move[1]);
  });
  let drag = null;
  input.addEventListener("pointerdown", (event) => {
    drag = { id: event.pointerId, x: event.clientX, y: event.clientY, dy: settings.dy, dx: settings.dx };
    input.setPointerCapture(event.pointerId);
    input.focus();
    event.preventDefault();
  });
  input.addEventListener("pointermove", (event) => {
    if (!drag || event.pointerId !== drag.id) { return; }
    const box = input.getBoundingClientRect();
    const [, H, W] = scenes[settings.scene].image.shape;
    setShift(drag.dy + Math.round(((event.clientY - drag.y) / box.height) * H),
             drag.dx + Math.round(((event.clientX - drag.x) / box.width) * W), null, false);
  });
  const stop = (event) => {
    if (drag && event.pointerId === drag.id) {
      drag = null;
      announceResult();
    }
  };
  input.addEventListener("pointerup", stop);
  input.addEventListener("pointercancel", stop);

  for (const key of ["dy", "dx"]) { fields[key].value = String(settings[key]); }
  update(false);
  // Drawn: the class every drawn Jupyter widget carries (the page's checks wait for it).
  root.classList.add("jupyter-widgets");
}

export default { render };
