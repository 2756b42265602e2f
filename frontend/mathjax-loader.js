// The book's mathjax_path (_config.yml): loads MathJax 3 (mathjax/es5/tex-chtml.js
// beside this file) once the page's widgets are drawn; copied to the site's
// vendor/ folder by scripts/vendor_assets.py.
//
// Loaded with the page, MathJax compiles, starts and typesets before the widget
// manager runs, and the chapters' widgets appeared 0.2-0.4 s later (measured on
// 2 cores). Loaded here, the controls come first and the mathematics is typeset
// a moment after. A page without widgets loads it at once; a page whose widgets
// never draw loads it after 3 s.
(function () {
  "use strict";
  var src = new URL("mathjax/es5/tex-chtml.js", document.currentScript.src).href;
  var VIEWS = 'script[type="application/vnd.jupyter.widget-view+json"]';
  function widgetsDrawn() {
    var views = document.querySelectorAll(VIEWS);
    for (var i = 0; i < views.length; i++) {
      if (!views[i].parentElement.querySelector(".jupyter-widgets")) { return false; }
    }
    return true;
  }
  var start = Date.now();
  (function wait() {
    if ((document.readyState !== "loading" && widgetsDrawn()) || Date.now() - start > 3000) {
      var script = document.createElement("script");
      script.src = src;
      script.async = true;
      document.head.appendChild(script);
    } else {
      setTimeout(wait, 25);
    }
  })();
})();
