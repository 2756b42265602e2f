// The field stack: the reader designs a stack of up to six convolution and max
// pooling layers on a square input; every map is drawn as a grid, and clicking
// a unit of any map (or moving to it with the arrow keys) highlights its field
// on the input and on every map in between, with its size, jump, start and
// centre. The fields come from layers.js's closed form, which follows
// widgets.compute.receptive_fields exactly (start unclipped, centre at
// start + (size - 1) / 2).
//
// What the figure computed is kept on its element as `element.live`
// ({inputSize, layers, sides, selected, fields, problem}), where the book's
// browser tests read it back and compare it with the Python calculator and
// with gradients measured in PyTorch.
import { fieldSpan, stackSizes, unitFields } from "./layers.js";
import { el, whenSettled } from "./dom.js";

const WHOLE = /^\d+$/;
const KIND_NAMES = { conv: "convolution", maxpool: "max pooling" };
const SETTINGS = [  // [key in a layer, the limits' name, label]
  ["kernelSize", "kernel_size", "Kernel"],
  ["stride", "stride", "Stride"],
  ["dilation", "dilation", "Dilation"],
  ["padding", "padding", "Padding"],
];
const MAX_CELL = 12;    // CSS pixels per unit of a large map, at most
const MIN_CELL = 3;
const MIN_GRID = 96;    // a small map's grid is drawn at least this wide (CSS pixels) ...
const SMALL_CELL = 32;  // ... with units up to this large
// The grids are sized for a column this wide (the book's at a 1280-pixel window),
// whatever the window: so the figure opens the same size at every width, and the
// copy of it in the page's HTML (book/_ext/live_first_frames.py), taken in one
// window, is the size the drawn figure takes in any other. Where the column is
// narrower the stylesheet scales a grid down, the copy's image as the canvas.
const COLUMN = 684;
const POOL_DEFAULTS = { kernelSize: "2", stride: "2", padding: "0", dilation: "1" };

// Numbers as the book prints them: a true minus sign, halves as .5.
function num(v) { return String(v).replace("-", "\u2212"); }

function describe(L) {
  let text = `${KIND_NAMES[L.kind]} ${L.kernelSize} × ${L.kernelSize}`;
  if (L.stride !== 1) { text += `, stride ${L.stride}`; }
  if (L.dilation !== 1) { text += `, dilation ${L.dilation}`; }
  if (L.padding !== 0) { text += `, padding ${L.padding}`; }
  return text;
}

function mapName(m) { return m === 0 ? "input" : `layer ${m}`; }

function render({ model, el: root }) {
  const limits = model.get("limits");
  const maxLayers = model.get("max_layers");
  const MAX_MARGIN = model.get("max_margin") || 8;   // padding cells drawn around a map, at most
  const uid = `cw-field-${Math.random().toString(36).slice(2, 10)}`;
  // The controls' text, as typed; `shown` is the last valid stack, the one drawn.
  let draft = {
    inputSize: String(model.get("input_size")),
    layers: model.get("layers").map((L) => ({
      kind: L.kind, kernelSize: String(L.kernelSize), stride: String(L.stride),
      dilation: String(L.dilation), padding: String(L.padding) })),
  };
  // The chapter's stack, as the figure first showed it: what "Reset" brings back.
  const initial = { inputSize: draft.inputSize, layers: draft.layers.map((L) => ({ ...L })),
                    selected: model.get("selected").slice() };
  let shown = null;
  let [depth, row, col] = model.get("selected");
  let fields = null;

  // --- controls -----------------------------------------------------------
  const figure = el("div", { class: "cw-live cw-field-stack" });
  const [inLow, inHigh] = limits.input_size;
  const inputField = el("input", {
    type: "text", inputmode: "numeric", size: "3", class: "cw-live-field cw-field-number",
    id: `${uid}-input`, "aria-describedby": `${uid}-input-msg`,
  });
  inputField.dataset.key = "inputSize";
  const inputMessage = el("span", { class: "cw-live-message", id: `${uid}-input-msg`, "aria-live": "polite" });
  figure.append(el("div", { class: "cw-live-row" }, [
    el("label", { for: inputField.id, text: `Input side (${inLow} to ${inHigh})` }), inputField, inputMessage]));
  const layerBox = el("div", { class: "cw-field-layers" });
  const addButton = el("button", { type: "button", class: "cw-field-button", text: "Add layer" });
  const resetButton = el("button", { type: "button", class: "cw-field-button cw-field-reset",
                                     text: "Reset to the chapter's stack" });
  figure.append(layerBox, el("div", { class: "cw-live-row" }, [addButton, resetButton]));
  const problem = el("p", { class: "cw-field-problem", "aria-live": "polite", id: `${uid}-problem` });
  const grids = el("div", { class: "cw-field-grids" });
  // On a phone the maps form one row that scrolls sideways, kept on screen above the layers'
  // controls (live.css); this line says so whenever the row is wider than the screen, and keeps
  // its place there when it does not.
  const swipe = el("p", { class: "cw-scroll-hint cw-field-swipe",
                          text: "Swipe the maps sideways to see every layer \u2192" });
  swipe.hidden = true;
  const result = el("div", { class: "cw-field-result" }, [swipe, grids]);
  // The status line is always current; screen readers hear it through a
  // separate live region, at once after a click or key, and once the reader
  // pauses after typing (not at every keystroke).
  const status = el("p", { class: "cw-live-status" });
  const announcer = el("p", { class: "cw-field-announce", role: "status", "aria-live": "polite" });
  const table = el("table", { class: "cw-live-table cw-field-table" });
  figure.append(problem, result, status, announcer, table);
  root.append(figure);

  let edited = null;   // the control the reader changed last (marked if it makes the stack invalid)

  function buildLayerControls() {
    layerBox.replaceChildren();
    draft.layers.forEach((L, i) => {
      const n = i + 1;
      const box = el("fieldset", { class: "cw-live-kernel cw-field-layer" });
      box.dataset.layer = String(i);
      const message = el("div", { class: "cw-live-message cw-field-layer-msg", id: `${uid}-msg-${i}`,
                                  "aria-live": "polite" });
      const kind = el("select", { id: `${uid}-kind-${i}`, "aria-describedby": message.id,
                                  "aria-label": `Layer ${n} kind` });
      for (const [value, text] of Object.entries(KIND_NAMES)) { kind.append(el("option", { value, text })); }
      kind.value = L.kind;
      kind.dataset.key = "kind";
      const row = el("div", { class: "cw-live-row" }, [
        el("span", { class: "cw-field-pair" }, [el("label", { for: kind.id, text: "Kind", "aria-hidden": "true" }), kind])]);
      for (const [key, name, label] of SETTINGS) {
        const [lo, hi] = limits[name];
        const input = el("input", {
          type: "text", inputmode: "numeric", size: "2", class: "cw-live-field cw-field-number",
          id: `${uid}-${key}-${i}`, "aria-describedby": message.id,
          "aria-label": `Layer ${n} ${label.toLowerCase()} (${lo} to ${hi})`,
        });
        input.dataset.key = key;
        input.value = L[key];
        if (key === "dilation" && L.kind !== "conv") {
          input.disabled = true;
          input.title = "Max pooling is not dilated here: the book's calculator takes dilation for convolutions only";
        }
        row.append(el("span", { class: "cw-field-pair" }, [
          el("label", { for: input.id, text: label, "aria-hidden": "true" }), input]));
      }
      const remove = el("button", { type: "button", class: "cw-field-button", text: "Remove",
                                    "aria-label": `Remove layer ${n}` });
      remove.disabled = draft.layers.length <= 1;
      row.append(remove);
      box.append(el("legend", { text: `Layer ${n}` }), row, message);
      layerBox.append(box);
      for (const control of box.querySelectorAll("select, input")) {
        const changed = () => {
          L[control.dataset.key] = control.value;
          if (control.dataset.key === "kind") {
            // A new pooling layer starts as the usual 2 x 2 window, stride 2, no padding.
            if (control.value !== "conv") { Object.assign(L, POOL_DEFAULTS); }
            const focusKind = document.activeElement === control;
            edited = { layer: i, key: "kind" };
            buildLayerControls();
            if (focusKind) { layerBox.querySelector(`#${uid}-kind-${i}`).focus(); }
          } else {
            edited = { layer: i, key: control.dataset.key };
          }
          update();
        };
        // A menu changes at once; a typed number is checked once the reader has finished typing it.
        if (control.tagName === "SELECT") { control.addEventListener("change", changed); } else {
          whenSettled(control, changed);
        }
      }
      remove.addEventListener("click", () => {
        draft.layers.splice(i, 1);
        edited = null;
        buildLayerControls();
        const next = layerBox.querySelectorAll("button")[Math.min(i, draft.layers.length - 1)];
        (next && !next.disabled ? next : addButton).focus();
        update();
      });
    });
    addButton.disabled = draft.layers.length >= maxLayers;
    addButton.setAttribute("aria-label", draft.layers.length >= maxLayers
      ? `Add layer (at most ${maxLayers} layers)` : "Add layer");
  }

  addButton.addEventListener("click", () => {
    if (draft.layers.length >= maxLayers) { return; }
    draft.layers.push({ kind: "conv", kernelSize: "3", stride: "1", dilation: "1", padding: "1" });
    edited = { layer: draft.layers.length - 1, key: "kind" };
    buildLayerControls();
    layerBox.querySelector(`#${uid}-kind-${draft.layers.length - 1}`).focus();
    update();
  });
  resetButton.addEventListener("click", () => {
    draft = { inputSize: initial.inputSize, layers: initial.layers.map((L) => ({ ...L })) };
    inputField.value = draft.inputSize;
    [depth, row, col] = initial.selected;
    edited = null;
    buildLayerControls();
    update(true);
  });
  inputField.value = draft.inputSize;
  whenSettled(inputField, () => {
    draft.inputSize = inputField.value;
    edited = { layer: -1, key: "inputSize" };
    update();
  });

  function control(layer, key) {
    return layer < 0 ? inputField : layerBox.querySelector(`#${uid}-${key === "kind" ? "kind" : key}-${layer}`);
  }

  // --- reading the controls ------------------------------------------------
  // Every typed setting is checked where it was typed; a stack whose settings
  // are all numbers in range is then checked as a whole.
  function parse() {
    const bad = [];   // [layer (-1 for the input side), key, message]
    const whole = (text, lo, hi) => {
      const t = text.trim();
      return WHOLE.test(t) && Number(t) >= lo && Number(t) <= hi ? Number(t) : null;
    };
    const inputSize = whole(draft.inputSize, inLow, inHigh);
    if (inputSize === null) {
      bad.push([-1, "inputSize", `“${draft.inputSize}” is not a whole number from ${inLow} to ${inHigh}`]);
    }
    const layers = draft.layers.map((D, i) => {
      const L = { kind: D.kind };
      for (const [key, name, label] of SETTINGS) {
        const [lo, hi] = limits[name];
        L[key] = whole(D[key], lo, hi);
        if (L[key] === null) {
          bad.push([i, key, `${label}: “${D[key]}” is not a whole number from ${lo} to ${hi}`]);
        }
      }
      if (L.kind !== "conv" && L.padding !== null && L.kernelSize !== null &&
          L.padding > Math.floor(L.kernelSize / 2)) {
        bad.push([i, "padding", `Padding ${L.padding} is too wide: max pooling pads at most half its ` +
          `kernel, ${Math.floor(L.kernelSize / 2)} for a ${L.kernelSize} × ${L.kernelSize} window ` +
          "(PyTorch's rule)"]);
      }
      return L;
    });
    if (bad.length) { return { bad }; }
    const sides = stackSizes(layers, inputSize);
    const empty = sides.findIndex((s) => s < 1);
    if (empty > 0) {
      const L = layers[empty - 1], below = sides[empty - 1];
      const span = fieldSpan(L), padded = below + 2 * L.padding;
      const taps = L.dilation === 1 ? "" : ` (${L.kernelSize} taps, dilation ${L.dilation})`;
      const what = empty === 1 ? `the ${below} × ${below} input` : `the ${below} × ${below} map of layer ${empty - 1}`;
      const pad = L.padding ? ` (${padded} × ${padded} with padding ${L.padding})` : "";
      return { bad: [], inputSize, layers, sides, problem: { layer: empty - 1, text:
        `Layer ${empty} cannot be computed: its window spans ${span} × ${span} units${taps}, more than ` +
        `${what}${pad}; its output would have no unit. The grids show the last valid stack.` } };
    }
    return { bad: [], inputSize, layers, sides, problem: null };
  }

  // announce: as select's (the figure's first drawing says nothing).
  function update(announce = "later") {
    const result = parse();
    // Marks: clear all, then mark what is wrong where it was typed.
    for (const f of figure.querySelectorAll("[aria-invalid]")) { f.removeAttribute("aria-invalid"); }
    for (const f of figure.querySelectorAll(".cw-field-bad")) { f.classList.remove("cw-field-bad"); }
    const messages = new Map();
    for (const [layer, key, text] of result.bad) {
      control(layer, key)?.setAttribute("aria-invalid", "true");
      messages.set(layer, [...(messages.get(layer) || []), text]);
    }
    inputMessage.textContent = messages.has(-1)
      ? `${messages.get(-1).join("; ")}; the figure shows the last valid stack.` : "";
    draft.layers.forEach((_, i) => {
      const box = layerBox.querySelector(`#${uid}-msg-${i}`);
      box.textContent = messages.has(i) ? `${messages.get(i).join("; ")}; the figure shows the last valid stack.` : "";
    });
    if (result.bad.length) {
      problem.textContent = "";
      return false;
    }
    if (result.problem) {
      layerBox.querySelectorAll("fieldset")[result.problem.layer].classList.add("cw-field-bad");
      const mark = edited ? control(edited.layer, edited.key) : null;
      (mark || control(result.problem.layer, "kernelSize")).setAttribute("aria-invalid", "true");
      problem.textContent = result.problem.text;
      figure.live = { ...(figure.live || {}), problem: result.problem.text };
      return false;
    }
    problem.textContent = "";
    shown = { inputSize: result.inputSize, layers: result.layers, sides: result.sides };
    model.set("input_size", shown.inputSize);
    model.set("layers", shown.layers.map((L) => ({ ...L })));
    select(depth, row, col, announce);
    return true;
  }

  // --- drawing ---------------------------------------------------------------
  // Each map m is drawn with a grey border of padding cells, as far as the
  // fields of any deeper unit reach past it but at most MAX_MARGIN (its
  // `reach`), and one blank cell beyond, so an outline on the border is drawn
  // whole (its `pad`, the cells drawn on each side of the map).
  function margins() {
    const { layers, sides } = shown;
    return sides.map((side, m) => {
      let reach = 0;
      for (let d = m + 1; d < sides.length; d++) {
        const f = unitFields(layers.slice(m, d), side, d - m, 0, 0)[0];
        const last = (sides[d] - 1) * f.jump + f.top + f.size - 1;
        reach = Math.max(reach, -f.top, last - (side - 1));
      }
      return Math.min(MAX_MARGIN, Math.max(0, reach));
    });
  }

  // Where the field's square on map m is cut by the edge of the grey border:
  // {top, bottom, left, right} true on the sides that reach further.
  function cutSides(f, side, reach) {
    return { top: f.top < -reach, left: f.left < -reach,
             bottom: f.top + f.size > side + reach, right: f.left + f.size > side + reach };
  }

  let canvases = [];
  let layout = null;

  function draw() {
    const { layers, sides } = shown;
    const reach = margins();
    const pads = reach.map((r) => r + 1);
    const cells = sides.map((s, m) => s + 2 * pads[m]);
    const width = COLUMN;
    // As large as fits, but small enough for the two largest grids to sit side
    // by side when that keeps a unit at least 8 pixels wide.
    const [first, second = 0] = cells.slice().sort((a, b) => b - a);
    const alone = Math.floor((width - 4) / first), paired = Math.floor((width - 24) / (first + second));
    const cell = Math.max(MIN_CELL, Math.min(MAX_CELL, paired >= 8 ? paired : alone));
    // A small map gets larger units: its grid at least MIN_GRID wide, so each
    // unit stays a target a finger can hit.
    const sizes = cells.map((n) => Math.max(cell, Math.min(SMALL_CELL, Math.ceil(MIN_GRID / n),
                                                           Math.floor((width - 4) / n))));
    layout = { pads, reach, cells, cell, sizes, width };
    if (canvases.length !== sides.length) {
      grids.replaceChildren();
      canvases = sides.map((_, m) => {
        const canvas = el("canvas", { class: "cw-field-grid", tabindex: "0", role: "application",
                                      "aria-roledescription": "grid of units" });
        canvas.dataset.map = String(m);
        canvas.addEventListener("click", (event) => click(m, event));
        canvas.addEventListener("keydown", (event) => key(m, event));
        grids.append(el("figure", { class: "cw-field-map" }, [canvas, el("figcaption")]));
        return canvas;
      });
    }
    const dpr = window.devicePixelRatio || 1;
    sides.forEach((side, m) => {
      const canvas = canvases[m];
      const px = cells[m] * sizes[m];
      if (canvas.width !== Math.round(px * dpr)) {
        canvas.width = Math.round(px * dpr);
        canvas.height = Math.round(px * dpr);
      }
      canvas.style.width = `${px}px`;
      const caption = m === 0 ? `Input, ${side} × ${side}` :
        `Layer ${m}, ${describe(layers[m - 1])}: ${side} × ${side}`;
      const figcaption = canvas.parentElement.querySelector("figcaption");
      figcaption.textContent = caption;
      // The caption wraps to its grid's width, so small grids can sit side by side.
      figcaption.style.maxWidth = `${Math.max(px, MIN_GRID + 16)}px`;
      const chosen = m === depth ? ` Selected: unit (${row}, ${col}).` : "";
      canvas.setAttribute("aria-label", `${caption}.${chosen} Click a unit, or use the arrow keys, to show ` +
        "its field on the maps below it.");
      drawMap(canvas, m, side, pads[m], reach[m], sizes[m] * dpr);
    });
    showSwipe();
  }

  // On a phone the line keeps its place while hidden (live.css), so showing it moves nothing.
  function showSwipe() { swipe.hidden = !(grids.scrollWidth > grids.clientWidth + 1); }

  function drawMap(canvas, m, side, pad, reach, c) {
    const ctx = canvas.getContext("2d");
    const n = side + 2 * pad;
    const edge = pad - reach;    // the blank ring outside the grey border
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = "#e4e4e4";   // padding
    ctx.fillRect(edge * c, edge * c, (n - 2 * edge) * c, (n - 2 * edge) * c);
    ctx.fillStyle = "#ffffff";   // real units
    ctx.fillRect(pad * c, pad * c, side * c, side * c);
    const f = fields && m <= depth ? fields[m] : null;
    if (f) {
      ctx.fillStyle = m === depth ? "#d55e00" : "rgba(230, 159, 0, 0.7)";
      for (const r of f.rows) {
        for (const q of f.cols) { ctx.fillRect((q + pad) * c, (r + pad) * c, c, c); }
      }
    }
    // Grid lines between units (left out when the cells are too small to separate).
    if (c >= 5) {
      ctx.strokeStyle = "rgba(0, 0, 0, 0.22)";
      ctx.lineWidth = 1;
      ctx.beginPath();
      const lo = edge * c, hi = (n - edge) * c;
      for (let k = edge; k <= n - edge; k++) {
        const at = Math.round(k * c) + 0.5;
        ctx.moveTo(at, lo); ctx.lineTo(at, hi);
        ctx.moveTo(lo, at); ctx.lineTo(hi, at);
      }
      ctx.stroke();
    }
    ctx.strokeStyle = "#333";    // the map's edge
    ctx.lineWidth = Math.max(1, c / 8);
    ctx.strokeRect(pad * c, pad * c, side * c, side * c);
    if (f) {  // the field's square (dashed where the grey border cuts it), and its centre
      const cut = cutSides(f, side, reach);
      const x0 = (Math.max(f.left, -reach) + pad) * c, y0 = (Math.max(f.top, -reach) + pad) * c;
      const x1 = (Math.min(f.left + f.size, side + reach) + pad) * c;
      const y1 = (Math.min(f.top + f.size, side + reach) + pad) * c;
      ctx.strokeStyle = "#0072b2";
      ctx.lineWidth = Math.max(2, c / 4);
      ctx.lineCap = "square";
      for (const [isCut, ax, ay, bx, by] of [[cut.top, x0, y0, x1, y0], [cut.bottom, x0, y1, x1, y1],
        [cut.left, x0, y0, x0, y1], [cut.right, x1, y0, x1, y1]]) {
        ctx.setLineDash(isCut ? [Math.max(3, c / 2), Math.max(3, c / 2)] : []);
        ctx.beginPath(); ctx.moveTo(ax, ay); ctx.lineTo(bx, by); ctx.stroke();
      }
      ctx.setLineDash([]);
      ctx.fillStyle = "#0072b2";
      ctx.beginPath();
      ctx.arc((f.centreCol + pad + 0.5) * c, (f.centreRow + pad + 0.5) * c, Math.max(2, c / 4), 0, 2 * Math.PI);
      ctx.fill();
    }
  }

  // --- selecting a unit --------------------------------------------------------
  // announce: true (say it now), "later" (after the reader stops typing).
  let pending = null;
  function select(m, r, q, announce = true) {
    const { layers, sides, inputSize } = shown;
    depth = Math.max(0, Math.min(sides.length - 1, m));
    row = Math.max(0, Math.min(sides[depth] - 1, r));
    col = Math.max(0, Math.min(sides[depth] - 1, q));
    fields = unitFields(layers, inputSize, depth, row, col);
    draw();
    const input = fields[0];
    let text;
    if (depth === 0) {
      text = `Input pixel at row ${row}, column ${col}: its field is the pixel itself.`;
    } else {
      text = `Layer ${depth} unit at row ${row}, column ${col}: on the input its field is ` +
        `${input.size} × ${input.size} pixels with jump ${input.jump}, starts at row ${num(input.top)}, ` +
        `column ${num(input.left)} and is centred at (${num(input.centreRow)}, ${num(input.centreCol)}).`;
    }
    if (input.size > inputSize) { text += ` It is larger than the ${inputSize} × ${inputSize} input.`; }
    const outside = Math.max(-input.top, -input.left, input.top + input.size - inputSize,
                             input.left + input.size - inputSize);
    if (outside > 0) {
      const used = input.rows.length * input.cols.length === 0 ? "no real pixel, only padding"
        : `${input.rows.length} × ${input.cols.length} real pixels`;
      text += ` It reaches up to ${outside} pixel${outside === 1 ? "" : "s"} past the image, into padding; ` +
        `it depends on ${used}.`;
    }
    const cut = fields.map((f, k) => (Object.values(cutSides(f, sides[k], layout.reach[k])).some(Boolean) ? k : -1))
      .filter((k) => k >= 0);
    if (cut.length) {
      const names = cut.map((k) => (k === 0 ? "the input" : `layer ${k}'s map`));
      const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
      text += ` The grey border shows at most ${MAX_MARGIN} cells of padding, so the outline is cut ` +
        `(dashed) on ${list}.`;
    }
    status.textContent = text;
    clearTimeout(pending);
    if (announce === "later") {
      pending = setTimeout(() => { announcer.textContent = text; }, 700);
    } else if (announce) {
      announcer.textContent = text;
    }
    table.replaceChildren(el("caption", { text: `The field of ${mapName(depth)} unit (${row}, ${col}) on every map ` +
      "below it (start and centre as row, column; negative: in the padding)" }));
    const head = el("tr");
    for (const h of ["map", "size", "jump", "start", "centre", "units it depends on"]) {
      head.append(el("th", { scope: "col", text: h }));
    }
    table.append(head);
    fields.forEach((f, k) => {
      const tr = el("tr");
      tr.append(el("th", { scope: "row", text: mapName(k) }));
      for (const v of [`${f.size} × ${f.size}`, f.jump, `${num(f.top)}, ${num(f.left)}`,
        `${num(f.centreRow)}, ${num(f.centreCol)}`, `${f.rows.length} × ${f.cols.length}`]) {
        tr.append(el("td", { text: String(v) }));
      }
      table.append(tr);
    });
    figure.live = { inputSize, layers: layers.map((L) => ({ ...L })), sides: sides.slice(),
                    margins: layout.pads.slice(), reach: layout.reach.slice(), cut,
                    cells: layout.sizes.slice(), selected: { depth, row, col }, fields,
                    problem: problem.textContent || null };  // a unit clicked while the typed stack is impossible
    model.set("selected", [depth, row, col]);
    save();
  }

  // With a kernel running, the reader's stack goes back to Python; the static
  // page has no kernel to send it to.
  function save() {
    try { model.save_changes(); } catch (error) { /* no kernel on the static page */ }
  }

  function click(m, event) {
    const box = event.currentTarget.getBoundingClientRect();
    const n = layout.cells[m], pad = layout.pads[m];
    const r = Math.floor(((event.clientY - box.top) / box.height) * n) - pad;
    const q = Math.floor(((event.clientX - box.left) / box.width) * n) - pad;
    const side = shown.sides[m];
    event.currentTarget.focus();
    if (r < 0 || q < 0 || r >= side || q >= side) { return; }   // a padding cell: not a unit
    select(m, r, q);
  }

  const MOVES = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
  function key(m, event) {
    const move = MOVES[event.key];
    if (!move && event.key !== "Enter" && event.key !== " ") { return; }
    event.preventDefault();
    if (m !== depth) {
      // First key on another map: its unit at the same relative place.
      const scale = shown.sides[m] / shown.sides[depth];
      select(m, Math.floor((row + 0.5) * scale), Math.floor((col + 0.5) * scale));
      return;
    }
    if (move) { select(m, row + move[0], col + move[1]); }
  }

  buildLayerControls();
  update(false);
  if (!shown) { throw new Error("field stack: the initial stack is invalid"); }
  if (typeof ResizeObserver !== "undefined") {
    new ResizeObserver(showSwipe).observe(grids);
  }
  // Drawn: the class every drawn Jupyter widget carries (the page's checks wait for it).
  root.classList.add("jupyter-widgets");
}

export default { render };
