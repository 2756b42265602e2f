// The site's widget manager: @jupyter-widgets/html-manager's HTMLManager, with
// anywidget's front end and the book's live figures (live.js), bundled by
// build.mjs (esbuild) into one script that scripts/vendor_assets.py puts in the
// site's vendor/ folder.
//
// It draws every widget on the page as soon as the HTML has been parsed (the
// widget state precedes this deferred script), not at the window's load event.
// Unlike html-manager's own renderWidgets, it does not validate the saved state
// against the JSON schemas at start-up: the state was written by the build a
// moment ago, and compiling the schemas costs a tenth of a second on every page.

import "@fortawesome/fontawesome-free/css/all.min.css";
import "@fortawesome/fontawesome-free/css/v4-shims.min.css";
import "@lumino/widgets/style/index.css";
import * as base from "@jupyter-widgets/base";
import { HTMLManager } from "@jupyter-widgets/html-manager/lib/htmlmanager";
import createAnywidget from "anywidget";

// anywidget's classes, made with the very @jupyter-widgets/base the manager uses
// (a second copy would make its models fail the manager's instanceof checks).
const anywidget = createAnywidget(base);
// The installed anywidget version (package.json), filled in by build.mjs.
const ANYWIDGET_VERSION = __ANYWIDGET_VERSION__;

function loader(moduleName, moduleVersion) {
  if (moduleName === "anywidget") {
    const [major, minor] = ANYWIDGET_VERSION.split(".");
    const wanted = String(moduleVersion).replace(/^[~^]/, "").split(".");
    if (wanted[0] === major && wanted[1] === minor) { return Promise.resolve(anywidget); }
    return Promise.reject(new Error(
      `anywidget ${moduleVersion} asked for; this page's manager has ${ANYWIDGET_VERSION}`));
  }
  return Promise.reject(new Error(`no widget module ${moduleName}@${moduleVersion} on this site`));
}

const STATE = 'script[type="application/vnd.jupyter.widget-state+json"]';
const VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]';

// On a phone an explorer shows its frames' phone drawings, files that the browser
// fetches as each frame is shown (book/_ext/phone_drawings.py), so a new frame stayed
// blank for a moment. The first time the reader reaches for an explorer's controls,
// its frames' drawings are fetched, so that the next one is there when asked for.
const PHONE = "(max-width: 540px)";
const SRCSET = /srcset="([^"]+)"/g;

function drawingsUnder(model, found = new Set(), seen = new Set()) {
  if (model === null || typeof model !== "object" || seen.has(model)) { return found; }
  seen.add(model);
  const value = model.get("value");
  if (model.get("_model_name") === "HTMLModel" && typeof value === "string") {
    for (const match of value.matchAll(SRCSET)) {
      if (!match[1].startsWith("data:")) { found.add(match[1]); }
    }
  }
  for (const child of model.get("children") || []) { drawingsUnder(child, found, seen); }
  return found;
}

function fetchDrawingsWhenUsed(model, area) {
  const start = () => {
    ["pointerdown", "focusin", "keydown"].forEach((type) => area.removeEventListener(type, start, true));
    if (!window.matchMedia(PHONE).matches) { return; }
    drawingsUnder(model).forEach((url) => { new Image().src = url; });
  };
  ["pointerdown", "focusin", "keydown"].forEach((type) => area.addEventListener(type, start, true));
}

async function renderState(stateTag) {
  const manager = new HTMLManager({ loader });
  const models = await manager.set_state(JSON.parse(stateTag.textContent));
  const byId = new Map(models.map((m) => [m.model_id, m]));
  await Promise.all(Array.from(document.querySelectorAll(VIEW)).map(async (viewTag) => {
    const model = byId.get(JSON.parse(viewTag.textContent).model_id);
    if (model === undefined || viewTag.parentElement === null) { return; }
    const area = document.createElement("div");
    area.className = "widget-subarea";
    // An explorer's first frame is already in the page (book/_ext/first_frames.py):
    // the widget is drawn out of sight and takes the copy's place once its frame is
    // decoded, in one change of the page, so nothing moves and nothing blinks.
    const first = viewTag.nextElementSibling;
    const still = first !== null && first.classList.contains("cw-first-frame") ? first : null;
    if (still !== null) { area.classList.add("cw-drawing"); }
    viewTag.parentElement.insertBefore(area, viewTag);
    await manager.display_view(manager.create_view(model), area);
    if (still !== null) {
      fetchDrawingsWhenUsed(model, area);
      await Promise.all(Array.from(area.querySelectorAll("img"))
        .filter((img) => img.offsetParent !== null)
        .map((img) => img.decode().catch(() => undefined)));
      area.classList.remove("cw-drawing");
      still.remove();
    }
  }));
}

function renderAll() {
  return Promise.all(Array.from(document.querySelectorAll(STATE)).map(renderState))
    .catch((error) => console.error("widgets could not be drawn:", error));
}

if (!window._jupyter_widget_embedder) {
  window._jupyter_widget_embedder = true;
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", renderAll, { once: true });
  } else {
    renderAll();
  }
}
