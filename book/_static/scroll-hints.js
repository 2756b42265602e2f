// A table, wide figure or code block that is wider than the column scrolls inside
// its own box; on a phone most of it is then out of sight. This says so: a line
// "Scroll sideways to see all of it" above each box that scrolls, kept up to date
// as the window changes size. It changes nothing else on the page.
(function () {
  "use strict";

  var BOXES = ".bd-article :is(.pst-scrollable-table-container, figure, " +
    ".cell_output .output.text_html, .cw-explorer .widget-html-content, div.highlight pre)";

  function hintFor(box) {
    var previous = box.previousElementSibling;
    return previous && previous.classList.contains("cw-scroll-hint") ? previous : null;
  }

  function update() {
    document.querySelectorAll(BOXES).forEach(function (box) {
      // Code blocks scroll often and by a little; only a box holding a table or a figure gets a hint.
      if (box.matches("div.highlight pre")) { return; }
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      var hint = hintFor(box);
      if (scrolls && !hint) {
        hint = document.createElement("p");
        hint.className = "cw-scroll-hint";
        hint.textContent = "Scroll sideways to see all of it \u2192";
        box.parentNode.insertBefore(hint, box);
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

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", update);
  } else {
    update();
  }
  window.addEventListener("load", update);
  window.addEventListener("resize", later);
  // An explorer's control shows another frame, which may be wider or narrower.
  ["click", "keyup", "input", "change", "pointerup"].forEach(function (type) {
    document.addEventListener(type, later, true);
  });
})();
