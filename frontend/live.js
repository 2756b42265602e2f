// The book's live figures (src/widgets/live), bundled into the site's widget
// manager: the layer module, the DOM helpers, each figure's module and their
// stylesheet are served once for the whole site instead of inside every page.
//
// The build (book/_ext/live_figures.py) replaces each figure's module in a
// page's saved widget state by a reference, "widgets.live:" and the figure's
// name (widgets.live.platform.SITE_MODULE_PREFIX). build.mjs makes anywidget's
// loadEsm ask bundledModule first: a bundled figure is handed over without an
// import() of a blob: URL, so it draws in the same task as the page's other
// widgets instead of after every script the page still has to run.
import "../src/widgets/live/live.css";
import * as digit_pad from "../src/widgets/live/digit_pad.js";
import * as field_stack from "../src/widgets/live/field_stack.js";
import * as kernel_playground from "../src/widgets/live/kernel_playground.js";
import * as shift_figure from "../src/widgets/live/shift_figure.js";

const PREFIX = "widgets.live:";
const FIGURES = new Map(Object.entries({ digit_pad, field_stack, kernel_playground, shift_figure }));

// The bundled module a widget's _esm names, or undefined for any other _esm
// (a module given as source text or a URL, which anywidget loads itself).
export function bundledModule(esm) {
  if (typeof esm !== "string" || !esm.startsWith(PREFIX)) { return undefined; }
  const figure = FIGURES.get(esm.slice(PREFIX.length));
  if (figure === undefined) {
    throw new Error(`${esm}: no such live figure in this site's widget manager ` +
                    `(it has ${[...FIGURES.keys()].join(", ")})`);
  }
  return figure;
}
