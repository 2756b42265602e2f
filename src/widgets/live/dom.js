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
