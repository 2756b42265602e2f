// Small DOM helpers shared by every live figure's drawing module (joined
// after layers.js into each figure's module by widgets/live/platform.py's esm).

// An element with attributes ("text" sets its text) and children.
export function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") { node.textContent = v; } else { node.setAttribute(k, v); }
  }
  for (const child of children) { node.append(child); }
  return node;
}

// How long a reader's pause in typing must last before a typed value is checked.
export const PAUSE_MS = 600;

// Calls handler(field) once the reader has finished typing into ``field``: when
// they pause for PAUSE_MS, press Enter, or leave the field. Never on every
// keystroke, so a figure never takes "1" on the way to "12", and the value it
// shows and the message beside the field always speak of the same entry.
// ``window.cwPauseMs``, when set, replaces the pause (the browser tests set it,
// so that what they check does not depend on how fast the machine types).
export function whenSettled(field, handler, pause = PAUSE_MS) {
  let timer = null;
  const settle = () => {
    if (timer === null) { return; }
    clearTimeout(timer);
    timer = null;
    handler(field);
  };
  field.addEventListener("input", () => {
    if (timer !== null) { clearTimeout(timer); }
    timer = setTimeout(settle, globalThis.cwPauseMs ?? pause);
  });
  field.addEventListener("keydown", (event) => { if (event.key === "Enter") { settle(); } });
  field.addEventListener("change", settle);
  field.addEventListener("blur", settle);
}
