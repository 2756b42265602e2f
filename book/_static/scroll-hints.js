// A table, wide figure or code block that is wider than the column scrolls inside
// its own box; on a phone most of it is then out of sight. This says so: a line
// "Scroll sideways to see all of it" above each box that scrolls, kept up to date
// as the window changes size. It changes nothing else on the page.
(function () {
  "use strict";

  var BOXES = ".bd-article :is(.pst-scrollable-table-container, div.math, figure > .output, " +
    ".cell_output .output.text_html, .cw-explorer .widget-html, .cw-ff-frame, div.highlight pre)";
  var VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]';

  // Where a box's hint goes: before the box; for an explorer's frame, before the whole
  // explorer, outside the widget's own elements. An explorer's first frame
  // (book/_ext/first_frames.py) follows its view script and the drawn explorer comes
  // just before that script (frontend/manager.js): the hint goes before the script, so
  // the drawn explorer finds it in the same place.
  function anchorOf(box) {
    var area = box.closest(".widget-subarea");
    if (area) { return area; }
    var first = box.closest(".cw-first-frame");
    if (first) {
      var script = first.previousElementSibling;
      return script && script.matches(VIEW) ? script : first;
    }
    return box;
  }

  function hintFor(anchor) {
    var previous = anchor.previousElementSibling;
    return previous && previous.classList.contains("cw-scroll-hint") ? previous : null;
  }

  function update() {
    document.querySelectorAll(BOXES).forEach(function (box) {
      // Code blocks scroll often and by a little; only a box holding a table or a figure gets a hint.
      if (box.matches("div.highlight pre")) { return; }
      // A box out of sight (a stack's other frames, an explorer still being drawn) says nothing.
      if (box.offsetParent === null || box.closest(".cw-drawing")) { return; }
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      var anchor = anchorOf(box);
      var hint = hintFor(anchor);
      // A static figure or an explorer's frame brings its own hint, which book.css shows when it scrolls.
      // So does a table or display formula (book/_ext/box_hints.py); a browser that cannot tell
      // from the stylesheet alone that it scrolls learns it from the class set below.
      var own = box.querySelector(":scope > .cw-fit-hint, :scope > .widget-html-content > .cw-fit-hint, " +
        ":scope > .cw-box-hint");
      if (scrolls && !hint && !own) {
        hint = document.createElement("p");
        hint.className = "cw-scroll-hint";
        hint.textContent = "Scroll sideways to see all of it \u2192";
        anchor.parentNode.insertBefore(hint, anchor);
      }
      if (hint) { hint.hidden = !scrolls; }
      box.classList.toggle("cw-scrolls", scrolls);
      if (scrolls && !box.hasAttribute("tabindex")) {
        // A box that scrolls can be scrolled with the keyboard once it has the focus.
        box.setAttribute("tabindex", "0");
      }
    });
  }

  var pending = null;
  function later() {
    if (pending) { cancelAnimationFrame(pending); }
    pending = requestAnimationFrame(function () { pending = null; update(); });
  }

  // Widgets are drawn once the page is parsed, and an explorer takes its first frame's
  // place: from then on, look again whenever elements come or go. (Not before: while
  // the page is parsed every new element would make the page lay itself out again.)
  function start() {
    update();
    new MutationObserver(later).observe(document.body, { childList: true, subtree: true });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
  window.addEventListener("load", update);
  window.addEventListener("resize", later);
  // An explorer's control shows another frame, which may be wider or narrower.
  ["click", "keyup", "input", "change", "pointerup"].forEach(function (type) {
    document.addEventListener(type, later, true);
  });
})();
