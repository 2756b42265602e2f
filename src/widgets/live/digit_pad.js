// Draw a digit: the reader draws on an enlarged view of the canvas the
// networks were trained on; on every stroke the trained networks (layers.js)
// classify the drawing, and one network's feature maps are redrawn. The
// drawing can be moved, by dragging in "move" mode (or with Shift held) or by
// the arrow keys, one canvas pixel at a time with zeros coming in.
//
// Strokes are painted at FINE x FINE sub-pixels per canvas pixel (a disc of
// the brush radius along each segment, ink 1 inside) and every canvas pixel is
// the mean of its sub-pixels: soft edges like the training digits'. Moving
// shifts the sub-pixels by whole canvas pixels, so the input moves exactly as
// a zero-filled shift of the tensor.
//
// What the figure computed is kept on its element as `element.live`
// ({input, outputs: {name: {logits, probabilities, top}}, features: [...],
// offset, digit}), where the book's browser tests compare it with PyTorch.
import { floats, run, tensor } from "./layers.js";
import { el } from "./dom.js";

const FINE = 8;
const MOVES = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
const DIRECTION = { "-1,0": "up", "1,0": "down", "0,-1": "left", "0,1": "right" };

function bytes(buffer) {
  const view = ArrayBuffer.isView(buffer) ? buffer : new DataView(buffer);
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
}

// The float32 values of a widget buffer, copied in one block (the networks'
// weights are ~140,000 numbers: reading them one DataView call at a time
// costs the first drawing several milliseconds); on a big-endian machine,
// layers.js's byte-order-safe floats().
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
function fastFloats(buffer) {
  if (!LITTLE) { return floats(buffer); }
  const view = ArrayBuffer.isView(buffer) ? buffer : new DataView(buffer);
  return new Float32Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
}

// layers.js's fromSpec with fastFloats: every weight and bias a tensor.
function layersOf(spec) {
  return spec.map((L) => {
    const layer = { ...L };
    for (const name of ["weight", "bias"]) {
      if (L[name] != null) { layer[name] = { shape: L[`${name}_shape`].slice(), data: fastFloats(L[name]) }; }
    }
    return layer;
  });
}

// A probability in whole percent, never rounded to a certainty it is not: a
// softmax is never exactly 1 or 0, even where floating point rounds it there.
function percent(p) {
  const r = Math.round(100 * p);
  if (r >= 100) { return "> 99 %"; }
  if (r <= 0) { return "< 1 %"; }
  return `${r} %`;
}

// The largest change between two lists of maxima, as the status line says it.
function maximaChange(before, after) {
  let most = 0;
  for (let i = 0; i < before.length; i++) { most = Math.max(most, Math.abs(after[i] - before[i])); }
  return most;
}

function plural(n, word) { return `${n} ${word}${n === 1 ? "" : "s"}`; }

function render({ model, el: root }) {
  const S = model.get("side");
  const N = S * FINE;
  const names = model.get("network_names");
  const colours = model.get("colours");
  const specs = model.get("networks");
  const networks = Object.fromEntries(names.map((n) => [n, layersOf(specs[n])]));
  const featureName = model.get("features");
  const featureLayers = model.get("feature_layers");
  const labels = model.get("digit_labels");
  const digits = floats(model.get("digits"));
  const guide = model.get("guide");
  const brush = model.get("brush");
  const lut = bytes(model.get("colormap"));
  const uid = `cw-pad-${Math.random().toString(36).slice(2, 10)}`;

  let fine = new Float32Array(N * N);   // the drawing, FINE x FINE sub-pixels per pixel
  let input = tensor([1, S, S]);
  let digit = model.get("digit");
  let offset = [0, 0];                  // pixels moved since the last stroke or pick
  let reference = null;                 // the global maxima before the move (at offset [0, 0])
  let change = null;                    // their largest change since, or null when not moved
  let mode = "draw";

  // --- layout ---------------------------------------------------------------
  const figure = el("div", { class: "cw-live cw-digit-pad" });
  const drawButton = el("button", { type: "button", class: "cw-pad-mode", "aria-pressed": "true", text: "Draw" });
  const moveButton = el("button", { type: "button", class: "cw-pad-mode", "aria-pressed": "false", text: "Move" });
  const clearButton = el("button", { type: "button", class: "cw-pad-clear", text: "Clear" });
  const picker = el("select", { id: `${uid}-digit`, class: "cw-pad-digit" });
  picker.append(el("option", { value: "", text: "none (your drawing)" }));
  // "a 3", or "a 3, example 2" when the menu holds more than one 3.
  const pickNames = labels.map((label, i) => {
    const same = labels.filter((l) => l === label).length;
    const k = labels.slice(0, i + 1).filter((l) => l === label).length;
    return same > 1 ? `a ${label}, example ${k}` : `a ${label}`;
  });
  pickNames.forEach((text, i) => picker.append(el("option", { value: String(i), text })));
  picker.value = digit >= 0 ? String(digit) : "";
  figure.append(el("div", { class: "cw-live-row cw-pad-controls" }, [
    el("div", { role: "group", "aria-label": "What dragging on the canvas does", class: "cw-pad-modes" },
       [drawButton, moveButton]),
    clearButton,
    el("span", { class: "cw-live-pair" }, [el("label", { for: `${uid}-digit`, text: "Test digit" }), picker]),
  ]));

  const canvas = el("canvas", {
    width: String(S), height: String(S), tabindex: "0", role: "application",
    "aria-roledescription": "drawing canvas", class: "cw-live-canvas cw-pad-canvas",
    "aria-describedby": `${uid}-help`,
  });
  const guideBox = el("div", { class: "cw-pad-guide", "aria-hidden": "true" });
  if (guide) {
    const at = (100 * Math.floor((S - guide) / 2)) / S;
    Object.assign(guideBox.style, { top: `${at}%`, left: `${at}%`, width: `${(100 * guide) / S}%`,
                                    height: `${(100 * guide) / S}%` });
  } else { guideBox.hidden = true; }
  const help = el("p", { id: `${uid}-help`, class: "cw-pad-help", text:
    `Draw with the mouse, a pen or a finger. Drag in Move mode, or with Shift held, to move the drawing; ` +
    `the arrow keys move it by one pixel.${guide ? " The dashed square is where the training digits sat." : ""}` });
  const message = el("p", { class: "cw-live-message cw-pad-message" });
  const padFigure = el("figure", { class: "cw-pad-input" }, [
    el("div", { class: "cw-live-stack" }, [canvas, guideBox]),
    el("figcaption", { text: `The ${S} × ${S} input the networks read` }), help, message]);

  // One card per network: its answer, and its ten probabilities as bars.
  const cards = names.map((name, k) => {
    const answer = el("p", { class: "cw-pad-answer" });
    const bars = el("div", { class: "cw-pad-bars", "aria-hidden": "true" });
    const fills = [];
    for (let c = 0; c < 10; c++) {
      const fill = el("span", { class: "cw-pad-fill" });
      fill.style.background = colours[k];
      fills.push(fill);
      bars.append(el("span", { class: "cw-pad-bar" }, [fill, el("span", { class: "cw-pad-class", text: String(c) })]));
    }
    const card = el("div", { class: "cw-pad-card" }, [el("p", { class: "cw-pad-name", text: name }), answer, bars]);
    card.style.borderTopColor = colours[k];
    return { name, answer, fills, card };
  });
  const predictions = el("div", { class: "cw-pad-predictions" }, cards.map((c) => c.card));

  // The feature maps of one network, one canvas per shown layer, maps tiled.
  const maps = featureLayers.map((L, k) => {
    const [C, H, W] = L.shape;
    // Maps tiled 4 or 8 to a row; a global max's single values 16 to a row, so that
    // each is a cell a reader can see on a phone (one row of 32 was 5 pixels high).
    const cols = H === 1 && W === 1 ? Math.min(C, 16) : Math.min(C, C > 8 ? 8 : 4);
    const rows = Math.ceil(C / cols);
    const c = el("canvas", { width: String(cols * (W + 1) - 1), height: String(rows * (H + 1) - 1),
                             role: "img", class: "cw-live-canvas cw-pad-map" });
    const title = L.kind === "ReLU" ? `Layer ${k + 1}: ${C} maps, ${H} × ${W}`
      : `Global max: the largest value of each of the ${C} maps`;
    const caption = el("figcaption");
    return { ...L, C, H, W, cols, rows, canvas: c, title, caption,
             node: el("figure", { class: `cw-pad-layer${H === 1 ? " cw-pad-max" : ""}` }, [c, caption]) };
  });
  // The last layer shown is a global max pooling: its maxima are what the classifier reads.
  const globalMax = maps.length > 0 && maps[maps.length - 1].kind === "AdaptiveMaxPool2d";
  const featureBlock = el("div", { class: "cw-pad-features" }, [
    el("p", { class: "cw-pad-name", text: `What the ${featureName} network's layers compute (after ReLU)` }),
    el("div", { class: "cw-pad-maps" }, maps.map((m) => m.node))]);
  const status = el("p", { class: "cw-live-status cw-pad-status", "aria-live": "polite" });
  figure.append(el("div", { class: "cw-pad-main" }, [padFigure, el("div", { class: "cw-pad-side" }, [predictions, featureBlock])]),
                status);
  root.append(figure);
  figure.networks = networks;   // the layers as the browser runs them (the tests read the weights back)

  // --- the drawing ----------------------------------------------------------
  function pool() {
    const out = tensor([1, S, S]);
    for (let i = 0; i < S; i++) {
      for (let j = 0; j < S; j++) {
        let sum = 0;
        for (let a = 0; a < FINE; a++) {
          const row = (i * FINE + a) * N + j * FINE;
          for (let b = 0; b < FINE; b++) { sum += fine[row + b]; }
        }
        out.data[i * S + j] = sum / (FINE * FINE);
      }
    }
    return out;
  }

  // A disc of the brush radius swept from p to q (canvas pixel coordinates).
  function paint(p, q) {
    const r = brush * FINE, ax = p[0] * FINE, ay = p[1] * FINE, bx = q[0] * FINE, by = q[1] * FINE;
    const dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
    const x0 = Math.max(0, Math.floor(Math.min(ax, bx) - r)), x1 = Math.min(N - 1, Math.ceil(Math.max(ax, bx) + r));
    const y0 = Math.max(0, Math.floor(Math.min(ay, by) - r)), y1 = Math.min(N - 1, Math.ceil(Math.max(ay, by) + r));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const cx = x + 0.5, cy = y + 0.5;
        const t = len2 ? Math.max(0, Math.min(1, ((cx - ax) * dx + (cy - ay) * dy) / len2)) : 0;
        const ex = cx - ax - t * dx, ey = cy - ay - t * dy;
        if (ex * ex + ey * ey <= r * r) { fine[y * N + x] = 1; }
      }
    }
  }

  function loadDigit(index) {
    fine = new Float32Array(N * N);
    if (index >= 0) {
      for (let y = 0; y < N; y++) {
        for (let x = 0; x < N; x++) { fine[y * N + x] = digits[index * S * S + Math.floor(y / FINE) * S + Math.floor(x / FINE)]; }
      }
    }
    digit = index;
    offset = [0, 0];
  }

  // Rows and columns of the canvas that hold ink: [top, bottom, left, right], or null.
  function inkBounds(x) {
    let top = S, bottom = -1, left = S, right = -1;
    for (let i = 0; i < S; i++) {
      for (let j = 0; j < S; j++) {
        if (x.data[i * S + j] !== 0) {
          top = Math.min(top, i); bottom = Math.max(bottom, i);
          left = Math.min(left, j); right = Math.max(right, j);
        }
      }
    }
    return bottom < 0 ? null : [top, bottom, left, right];
  }

  // The shift of (dy, dx) pixels that keeps all ink on the canvas, nearest the one asked for.
  function allowed(dy, dx, bounds) {
    if (!bounds) { return [0, 0]; }
    const [top, bottom, left, right] = bounds;
    return [Math.max(-top, Math.min(S - 1 - bottom, dy)), Math.max(-left, Math.min(S - 1 - right, dx))];
  }

  function shifted(source, dy, dx) {
    const out = new Float32Array(N * N), fy = dy * FINE, fx = dx * FINE;
    for (let y = Math.max(0, fy); y < Math.min(N, N + fy); y++) {
      out.set(source.subarray((y - fy) * N + Math.max(0, -fx), (y - fy) * N + Math.min(N, N - fx)),
              y * N + Math.max(0, fx));
    }
    return out;
  }

  // --- computing and drawing ------------------------------------------------
  function softmax(logits) {
    let top = -Infinity;
    for (const v of logits) { top = Math.max(top, v); }
    let sum = 0;
    const e = Array.from(logits, (v) => { const x = Math.exp(v - top); sum += x; return x; });
    return Float64Array.from(e, (x) => x / sum);
  }

  function paintMap(c, t, cols, bound) {
    const [C, H, W] = t.shape;
    const img = new ImageData(c.width, c.height);
    // The gaps between the maps stay transparent: the page's own background.
    for (let m = 0; m < C; m++) {
      const top = Math.floor(m / cols) * (H + 1), left = (m % cols) * (W + 1);
      for (let i = 0; i < H; i++) {
        for (let j = 0; j < W; j++) {
          const v = t.data[(m * H + i) * W + j];
          const k = 3 * Math.max(0, Math.min(255, Math.round((255 * v) / bound)));
          const at = 4 * ((top + i) * c.width + left + j);
          img.data[at] = lut[k]; img.data[at + 1] = lut[k + 1]; img.data[at + 2] = lut[k + 2]; img.data[at + 3] = 255;
        }
      }
    }
    c.getContext("2d").putImageData(img, 0, 0);
  }

  function update() {
    input = pool();
    const img = new ImageData(S, S);
    for (let i = 0; i < S * S; i++) {
      const g = Math.round(255 * (1 - input.data[i]));   // ink dark on white
      img.data[4 * i] = g; img.data[4 * i + 1] = g; img.data[4 * i + 2] = g; img.data[4 * i + 3] = 255;
    }
    canvas.getContext("2d").putImageData(img, 0, 0);
    const outputs = {};
    let featureOutputs = null;
    for (const card of cards) {
      const layerOutputs = run(networks[card.name], input);
      const logits = layerOutputs[layerOutputs.length - 1].data;
      const probabilities = softmax(logits);
      let top = 0;
      for (let c = 1; c < 10; c++) { if (logits[c] > logits[top]) { top = c; } }
      outputs[card.name] = { logits, probabilities, top };
      card.answer.textContent = `${top}: ${percent(probabilities[top])}`;
      card.fills.forEach((fill, c) => { fill.style.height = `${(100 * probabilities[c]).toFixed(1)}%`; });
      if (card.name === featureName) { featureOutputs = layerOutputs; }
    }
    const features = maps.map((m) => {
      const t = featureOutputs[m.index];
      let bound = 0, at = 0;
      t.data.forEach((v, i) => { if (v > bound) { bound = v; at = i; } });
      paintMap(m.canvas, t, m.cols, bound || 1);
      const ch = Math.floor(at / (m.H * m.W)), i = Math.floor((at % (m.H * m.W)) / m.W), j = at % m.W;
      const strongest = bound ? (m.H === 1 ? `strongest in map ${ch + 1}`
        : `strongest in map ${ch + 1} at row ${i + 1}, column ${j + 1}`) : "no response";
      m.caption.textContent = `${m.title}; colour from 0 (dark) to ${bound.toFixed(2)} (yellow)`;
      m.canvas.setAttribute("aria-label", `${m.title}: ${strongest}, value ${bound.toFixed(2)}.`);
      return { index: m.index, kind: m.kind, output: t };
    });
    if (globalMax) {
      const maxima = Array.from(features[features.length - 1].output.data);
      if (!offset[0] && !offset[1]) { reference = maxima; }
      change = offset[0] || offset[1] ? maximaChange(reference, maxima) : null;
    }
    const bounds = inkBounds(input);
    canvas.setAttribute("aria-label", `Drawing canvas for ${model.get("description")}, ${S} by ${S} pixels, ` + (bounds
      ? `ink in rows ${bounds[0] + 1} to ${bounds[1] + 1} and columns ${bounds[2] + 1} to ${bounds[3] + 1}` : "blank") +
      (digit >= 0 ? `; test digit: ${pickNames[digit]}` : "") + `. ${describeOffset()}`);
    figure.live = { input, outputs, features, offset: offset.slice(), digit: digit >= 0 ? digit : null,
                    reference: reference && reference.slice(), change };
  }

  function describeOffset() {
    const [dy, dx] = offset;
    if (!dy && !dx) { return "Not moved."; }
    const parts = [];
    if (dy) { parts.push(`${plural(Math.abs(dy), "pixel")} ${dy > 0 ? "down" : "up"}`); }
    if (dx) { parts.push(`${plural(Math.abs(dx), "pixel")} ${dx > 0 ? "right" : "left"}`); }
    return `Moved ${parts.join(" and ")}.`;
  }

  // What the move did to the maxima the convolutional classifier reads.
  function describeMaxima() {
    if (!globalMax) { return ""; }
    const what = `The ${reference.length} maxima`;
    if (change === 0) { return `${what}: identical to before the move.`; }
    return `${what}: changed by up to ${change < 0.01 ? "less than 0.01" : change.toFixed(2)}.`;
  }

  function announce() {
    const answers = cards.map((c) => {
      const o = figure.live.outputs[c.name];
      return `${c.name}: ${o.top} (${percent(o.probabilities[o.top])})`;
    });
    const moved = offset[0] || offset[1] ? `${describeOffset()} ${describeMaxima()}`.trim() + " " : "";
    status.textContent = `${inkBounds(input) ? "" : "Blank canvas. "}${moved}Answers: ${answers.join("; ")}.`;
  }

  // With a kernel running, the drawing goes back to Python (the static page has none).
  function save() {
    try {
      model.set("image", new DataView(input.data.slice().buffer));
      model.set("digit", digit);
      model.save_changes();
    } catch (error) { /* no kernel on the static page */ }
  }

  function moveBy(dy, dx, from = fine) {
    const bounds = inkBounds(input);
    const [ay, ax] = allowed(dy, dx, bounds);
    fine = shifted(from, ay, ax);
    return [ay, ax, bounds];
  }

  function refusal(dy, dx, ay, ax, bounds) {
    if (!bounds) { return "Nothing to move: the canvas is blank."; }
    const edges = [];
    if (ay !== dy) { edges.push(dy < 0 ? "top" : "bottom"); }
    if (ax !== dx) { edges.push(dx < 0 ? "left" : "right"); }
    return edges.length ? `The drawing touches the ${edges.join(" and ")} edge; moving further would push ink off ` +
      "the canvas, so it stops there." : "";
  }

  // --- the reader's input ---------------------------------------------------
  function point(event) {
    const box = canvas.getBoundingClientRect();
    return [((event.clientX - box.left) / box.width) * S, ((event.clientY - box.top) / box.height) * S];
  }

  let stroke = null;   // {kind: "draw", last} or {kind: "move", start, from, base, bounds}
  canvas.addEventListener("pointerdown", (event) => {
    if (event.button !== 0 && event.pointerType === "mouse") { return; }
    event.preventDefault();
    canvas.focus();
    canvas.setPointerCapture(event.pointerId);
    const p = point(event);
    if (mode === "move" || event.shiftKey) {
      stroke = { kind: "move", start: p, from: fine, base: offset.slice(), bounds: inkBounds(input), shift: [0, 0] };
      return;
    }
    if (offset[0] || offset[1] || digit >= 0) { offset = [0, 0]; }
    if (digit >= 0) { digit = -1; picker.value = ""; }
    stroke = { kind: "draw", last: p };
    paint(p, p);
    message.textContent = "";
    update();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!stroke) { return; }
    const p = point(event);
    if (stroke.kind === "draw") {
      paint(stroke.last, p);
      stroke.last = p;
      update();
      return;
    }
    const want = [Math.round(p[1] - stroke.start[1]), Math.round(p[0] - stroke.start[0])];
    const got = allowed(want[0], want[1], stroke.bounds);
    message.textContent = refusal(want[0], want[1], got[0], got[1], stroke.bounds);
    if (got[0] === stroke.shift[0] && got[1] === stroke.shift[1]) { return; }
    stroke.shift = got;
    fine = shifted(stroke.from, got[0], got[1]);
    offset = [stroke.base[0] + got[0], stroke.base[1] + got[1]];
    update();
  });
  const end = () => {
    if (!stroke) { return; }
    stroke = null;
    announce();
    save();
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  canvas.addEventListener("keydown", (event) => {
    const move = MOVES[event.key];
    if (!move) { return; }
    event.preventDefault();
    const [ay, ax, bounds] = moveBy(move[0], move[1]);
    offset = [offset[0] + ay, offset[1] + ax];
    message.textContent = refusal(move[0], move[1], ay, ax, bounds);
    update();
    announce();
    if (message.textContent) { status.textContent = `${message.textContent} ${status.textContent}`; }
    save();
  });
  function setMode(next) {
    mode = next;
    drawButton.setAttribute("aria-pressed", String(next === "draw"));
    moveButton.setAttribute("aria-pressed", String(next === "move"));
    canvas.classList.toggle("cw-pad-moving", next === "move");
  }
  drawButton.addEventListener("click", () => setMode("draw"));
  moveButton.addEventListener("click", () => setMode("move"));
  clearButton.addEventListener("click", () => {
    loadDigit(-1);
    picker.value = "";
    message.textContent = "";
    update();
    announce();
    save();
  });
  picker.addEventListener("change", () => {
    loadDigit(picker.value === "" ? -1 : Number(picker.value));
    message.textContent = "";
    update();
    announce();
    save();
  });

  // The first drawing: the image the widget was made with (a test digit or a blank canvas).
  const start = floats(model.get("image"));
  for (let y = 0; y < N; y++) {
    for (let x = 0; x < N; x++) { fine[y * N + x] = start[Math.floor(y / FINE) * S + Math.floor(x / FINE)]; }
  }
  update();
  root.classList.add("jupyter-widgets");
}

export default { render };
