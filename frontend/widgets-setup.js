// Loaded after require.js and before the widget manager (embed-amd.js) on every
// page with widgets; copied to the site's vendor/ folder by scripts/vendor_assets.py.
(function () {
  "use strict";
  // 1. Module paths. The widget manager locates its icon fonts next to its own
  //    AMD module; without this, RequireJS places that module beside the page and
  //    the fonts are requested from a folder that does not exist.
  var src = document.currentScript.src;
  var vendor = src.slice(0, src.lastIndexOf("/") + 1);
  window.require.config({
    paths: { "@jupyter-widgets/html-manager/dist": vendor + "html-manager" },
  });

  // 2. MathJax. The widget controls typeset their labels with the MathJax 2 call
  //    MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]); the book loads
  //    MathJax 3, which has no Hub. Offer that one call on top of MathJax 3.
  var config = (window.MathJax = window.MathJax || {});
  var startup = (config.startup = config.startup || {});
  var ready = startup.ready;
  startup.ready = function () {
    if (ready) { ready(); } else { window.MathJax.startup.defaultReady(); }
    window.MathJax.Hub = {
      Queue: function () {
        for (var i = 0; i < arguments.length; i++) {
          var job = arguments[i];
          if (Array.isArray(job) && job[0] === "Typeset" && job[2]) {
            window.MathJax.typesetPromise([job[2]]);
          }
        }
      },
    };
  };
})();
