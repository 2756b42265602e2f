// Loaded before the widget manager (widget-manager/manager.js) on every page with
// widgets, and before the theme's deferred scripts run; copied to the site's
// vendor/ folder by scripts/vendor_assets.py.
(function () {
  "use strict";
  // Icons. The theme's Font Awesome script swaps every <i class="fa ..."> for an
  //    <svg>; the Play widget later looks up the <i> inside its button to switch
  //    play/pause and throws when it is gone, which also stops the links that
  //    tie the controls to the frames. "nest" keeps the <i> and draws inside it.
  window.FontAwesomeConfig = Object.assign(window.FontAwesomeConfig || {}, { autoReplaceSvg: "nest" });

  // No MathJax on the site (the build typesets the mathematics), so the controls,
  // which typeset their labels only when window.MathJax exists, never try to.
})();
