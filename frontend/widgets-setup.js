// Loaded before the widget manager (widget-manager/manager.js) on every page with
// widgets, and before the theme's deferred scripts run; copied to the site's
// vendor/ folder by scripts/vendor_assets.py.
(function () {
  "use strict";
  // 1. Icons. The theme's Font Awesome script swaps every <i class="fa ..."> for an
  //    <svg>; the Play widget later looks up the <i> inside its button to switch
  //    play/pause and throws when it is gone, which also stops the links that
  //    tie the controls to the frames. "nest" keeps the <i> and draws inside it.
  window.FontAwesomeConfig = Object.assign(window.FontAwesomeConfig || {}, { autoReplaceSvg: "nest" });

  // 2. MathJax. The widget controls typeset their labels with the MathJax 2 call
  //    MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]) whenever window.MathJax
  //    exists; the book loads MathJax 3 (on pages with mathematics), which has no
  //    Hub. Offer that one call: until MathJax 3 is ready (or on pages without it)
  //    the elements wait in a list, then MathJax 3 typesets them.
  var config = (window.MathJax = window.MathJax || {});
  var pending = [];
  function queue() {
    for (var i = 0; i < arguments.length; i++) {
      var job = arguments[i];
      if (Array.isArray(job) && job[0] === "Typeset" && job[2]) {
        if (window.MathJax.typesetPromise) { window.MathJax.typesetPromise([job[2]]); }
        else { pending.push(job[2]); }
      }
    }
  }
  config.Hub = { Queue: queue };
  // MathJax itself is loaded once the widgets are drawn (mathjax-loader.js).
  var startup = (config.startup = config.startup || {});
  var ready = startup.ready;
  startup.ready = function () {
    if (ready) { ready(); } else { window.MathJax.startup.defaultReady(); }
    window.MathJax.Hub = { Queue: queue };
    if (pending.length) { window.MathJax.typesetPromise(pending.splice(0)); }
  };
})();
