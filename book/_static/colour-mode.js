// The colour-mode button switches between light and dark in one click.
// The theme's own button cycles light -> auto -> dark, and "auto" looks the same
// as the mode the reader came from, so reaching dark took two clicks. This
// handles the click first (capture phase) and sets the other mode directly, in
// the theme's own way: the data-mode and data-theme attributes on <html>, kept
// in localStorage for the next page, and the dark style of dropdown menus.
(function () {
  "use strict";

  function setMode(mode) {
    var root = document.documentElement;
    root.dataset.mode = mode;
    root.dataset.theme = mode;
    try {
      localStorage.setItem("mode", mode);
      localStorage.setItem("theme", mode);
    } catch (e) { /* storage may be disabled; the page still switches */ }
    document.querySelectorAll(".dropdown-menu").forEach(function (menu) {
      menu.classList.toggle("dropdown-menu-dark", mode === "dark");
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".theme-switch-button");
    if (!button) { return; }
    event.stopPropagation();
    event.preventDefault();
    setMode(document.documentElement.dataset.theme === "dark" ? "light" : "dark");
  }, true);
})();
