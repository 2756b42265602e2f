// Accessibility fixes for every page, for readers who use screen readers or keyboards.
// The widget controls and the theme leave a few controls without a usable name;
// this names them from what is on screen. It changes no behaviour.
(function () {
  "use strict";

  function setAttr(el, name, value) {
    if (value && el.getAttribute(name) !== value) { el.setAttribute(name, value); }
  }

  function text(el) { return el ? el.textContent.replace(/\s+/g, " ").trim() : ""; }

  function fixTheme() {
    // A hidden code cell's toggle says "Show code cell source" but is named "Toggle
    // hidden content": its visible words name it instead.
    document.querySelectorAll("details.hide > summary[aria-label]").forEach(function (s) {
      s.removeAttribute("aria-label");
    });
    // The search button shows "Search Ctrl+K" but is named only "Search".
    document.querySelectorAll(".search-button__button").forEach(function (b) {
      if (b.querySelector(".search-button__default-text")) { setAttr(b, "aria-label", text(b)); }
    });
    // The colour-mode button's icons carry titles that compete with its name, both
    // before and after Font Awesome swaps them for <svg> elements with a <title>.
    document.querySelectorAll(".theme-switch-button .theme-switch").forEach(function (icon) {
      icon.removeAttribute("title");
      icon.removeAttribute("aria-labelledby");
      icon.removeAttribute("role");
      setAttr(icon, "aria-hidden", "true");
    });
    document.querySelectorAll(".theme-switch-button svg title").forEach(function (title) { title.remove(); });
    // The book's title in the sidebar, a link home, sits outside every landmark.
    document.querySelectorAll(".sidebar-primary-item > .navbar-brand").forEach(function (brand) {
      setAttr(brand.parentElement, "role", "navigation");
      setAttr(brand.parentElement, "aria-label", "Book home");
    });
  }

  function fixWidgets(root) {
    // Slider handles: named after the slider's label, valued by its readout.
    root.querySelectorAll(".widget-slider").forEach(function (slider) {
      var handle = slider.querySelector(".noUi-handle");
      if (!handle) { return; }
      setAttr(handle, "aria-label", text(slider.querySelector(".widget-label")));
      setAttr(handle, "aria-valuetext", text(slider.querySelector(".widget-readout")));
    });
    // Play buttons hold only icons: name them by what they do.
    root.querySelectorAll(".widget-play").forEach(function (play) {
      var names = ["Play or pause", "Stop", "Repeat"];
      play.querySelectorAll("button").forEach(function (b, i) { setAttr(b, "aria-label", names[i]); });
    });
    // Toggle buttons: the group is named after its label.
    root.querySelectorAll(".widget-toggle-buttons").forEach(function (group) {
      var label = text(group.querySelector(".widget-label"));
      var buttons = group.querySelector("button") && group.querySelector("button").parentElement;
      if (buttons && label) {
        setAttr(buttons, "role", "group");
        setAttr(buttons, "aria-label", label);
      }
    });
  }

  function fixReferences() {
    // The bibliography is a role="list" whose entries lack role="listitem".
    document.querySelectorAll('.citation-list[role="list"] > *').forEach(function (entry) {
      setAttr(entry, "role", "listitem");
    });
  }

  function fixAll() { fixTheme(); fixReferences(); fixWidgets(document); }

  document.addEventListener("DOMContentLoaded", function () {
    fixAll();
    // Widgets render after the page loads and change as readers use them.
    new MutationObserver(fixAll).observe(document.body, {
      subtree: true, childList: true, characterData: true,
      attributes: true, attributeFilter: ["aria-valuenow"],
    });
  });
})();
