// Typesets the book's mathematics when the site is built (book/_ext/static_math.py),
// so a page arrives with its formulas drawn: nothing is typeset in the reader's
// browser, and no text moves when it is. MathJax 3 (pinned in package-lock.json)
// turns each formula into an SVG drawing with its MathML beside it for screen
// readers.
//
// Input on stdin: a JSON list of [tex, display] pairs. Output on stdout: a JSON
// object, {"css": the stylesheet the drawings need, "html": one string a formula}.
// A formula MathJax cannot read ends the run with its TeX and the error on stderr.
"use strict";
const path = require("path");
const fs = require("fs");

globalThis.MathJax = {
  loader: {
    paths: { mathjax: path.join(__dirname, "node_modules", "mathjax", "es5") },
    load: ["input/tex", "output/svg", "a11y/assistive-mml", "adaptors/liteDOM"],
    require,
  },
  // An unknown command is an error here, not red text on the page.
  tex: { packages: { "[-]": ["noundefined"] }, formatError: (jax, error) => { throw error; } },
  svg: { fontCache: "local" },
  startup: { typeset: false },
};
require(path.join(__dirname, "node_modules", "mathjax", "es5", "startup.js"));

MathJax.startup.promise.then(() => {
  const formulas = JSON.parse(fs.readFileSync(0, "utf8"));
  const adaptor = MathJax.startup.adaptor;
  const html = formulas.map(([tex, display]) => {
    try {
      return adaptor.outerHTML(MathJax.tex2svg(tex, { display }));
    } catch (error) {
      process.stderr.write(`cannot typeset ${JSON.stringify(tex)}: ${error.message}\n`);
      process.exit(1);
    }
  });
  const css = adaptor.textContent(MathJax.svgStylesheet());
  process.stdout.write(JSON.stringify({ css, html }));
}).catch((error) => {
  process.stderr.write(`MathJax did not start: ${error.message}\n`);
  process.exit(1);
});
