// Bundle the site's widget manager (manager.js) with esbuild into one script.
//   node build.mjs OUTFILE
// Run by scripts/vendor_assets.py, with the Node.js that requirements.txt brings.
// Everything comes from node_modules, pinned in package-lock.json.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const outfile = process.argv[2];
if (!outfile) { console.error("usage: node build.mjs OUTFILE"); process.exit(2); }
const anywidgetVersion = JSON.parse(
  readFileSync(join(here, "node_modules", "anywidget", "package.json"), "utf8")).version;

// anywidget's npm file is an AMD module whose last line hands its factory to
// define(); the factory must receive the manager's own @jupyter-widgets/base,
// so export it instead and let manager.js call it. Its loadEsm is given the
// book's live figures (live.js) to look in first. Stop if either line changes.
const AMD_LINE = 'define(["@jupyter-widgets/base"], widget_default);';
const LOAD_ESM = "async function loadEsm(esm) {";
const anywidgetAsModule = {
  name: "anywidget-as-module",
  setup(build) {
    build.onLoad({ filter: /[\\/]anywidget[\\/]dist[\\/]index\.js$/ }, async (args) => {
      const lines = readFileSync(args.path, "utf8").trimEnd().split("\n");
      if (lines[lines.length - 1].trim() !== AMD_LINE) {
        throw new Error(`${args.path} no longer ends with ${AMD_LINE}; check frontend/build.mjs ` +
                        "against the pinned anywidget");
      }
      lines[lines.length - 1] = "export default widget_default;";
      const text = lines.join("\n");
      if (text.split(LOAD_ESM).length !== 2) {
        throw new Error(`${args.path} no longer has one ${LOAD_ESM}; check frontend/build.mjs ` +
                        "against the pinned anywidget");
      }
      const live = JSON.stringify(join(here, "live.js"));
      return {
        contents: `import { bundledModule } from ${live};\n` +
                  text.replace(LOAD_ESM, `${LOAD_ESM}\n  const bundled = bundledModule(esm);\n` +
                               "  if (bundled !== undefined) { return bundled; }"),
        loader: "js",
      };
    });
  },
};

// Widgets written for ipywidgets 7 never occur in this book (ipywidgets 8 is
// pinned); leave html-manager's copy of the version 7 controls out of the bundle.
const noIpywidgets7 = {
  name: "no-ipywidgets-7",
  setup(build) {
    build.onResolve({ filter: /^@jupyter-widgets\/(base7|controls7)(\/|$)/ }, (args) => (
      { path: args.path, namespace: "ipywidgets7" }));
    build.onLoad({ filter: /.*/, namespace: "ipywidgets7" }, (args) => ({
      contents: `throw new Error(${JSON.stringify(args.path + ": ipywidgets 7 widgets are not supported")});`,
      loader: "js",
    }));
  },
};

// The book shows no Output widget, and html-manager's support for it brings
// JupyterLab's output area and MIME renderers (about 400 KB of the bundle, and
// their start-up on every page). Leave them out: HTMLManager gets an empty
// renderer registry, and an Output widget, should a chapter ever show one,
// draws as an error widget saying why (which the browser tests catch).
const noOutputWidget = {
  name: "no-output-widget",
  setup(build) {
    build.onResolve({ filter: /^@jupyterlab\/rendermime$/ }, () => ({ path: "rendermime", namespace: "no-output" }));
    build.onResolve({ filter: /^\.\/(output|output_renderers)$/ }, (args) => (
      /[\\/]@jupyter-widgets[\\/]html-manager[\\/]/.test(args.importer)
        ? { path: args.path.slice(2), namespace: "no-output" } : undefined));
    const unsupported = "throw new Error('Output widgets are not supported on this site (see frontend/build.mjs)');";
    const stubs = {
      rendermime: "export class RenderMimeRegistry { addFactory() {} }\nexport const standardRendererFactories = [];",
      output: `export class OutputModel { constructor() { ${unsupported} } }\n` +
              `export class OutputView { constructor() { ${unsupported} } }`,
      output_renderers: "export const WIDGET_MIMETYPE = 'application/vnd.jupyter.widget-view+json';\n" +
                        `export class WidgetRenderer { constructor() { ${unsupported} } }`,
    };
    build.onLoad({ filter: /.*/, namespace: "no-output" }, (args) => ({ contents: stubs[args.path], loader: "js" }));
  },
};

// Stylesheets go into the script, which adds them to the page when it runs.
// Their fonts are inlined as data URLs in the one format every current browser
// reads (woff2); the older formats listed beside it become empty data URLs, so
// the stylesheets stay small and nothing is fetched.
const oldFonts = {
  name: "old-fonts",
  setup(build) {
    build.onResolve({ filter: /\.(eot|woff|ttf|svg)(\?.*|#.*)?$/ }, (args) => (
      { path: args.path, namespace: "old-font" }));
    build.onLoad({ filter: /.*/, namespace: "old-font" }, () => ({ contents: "", loader: "dataurl" }));
  },
};
const injectCss = {
  name: "inject-css",
  setup(build) {
    build.onLoad({ filter: /\.css$/ }, async (args) => {
      const css = await esbuild.build({
        entryPoints: [args.path], bundle: true, write: false, minify: true,
        loader: { ".woff2": "dataurl" }, plugins: [oldFonts], logLevel: "silent",
      });
      const text = css.outputFiles[0].text;
      return {
        contents: "const style = document.createElement('style');\n" +
                  `style.textContent = ${JSON.stringify(text)};\n` +
                  "document.head.appendChild(style);\n",
        loader: "js",
      };
    });
  },
};

await esbuild.build({
  entryPoints: [join(here, "manager.js")],
  outfile,
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2022"],
  // @jupyterlab/ui-components imports its icons as SVG text.
  loader: { ".svg": "text" },
  define: {
    "process.env.NODE_ENV": '"production"',
    __ANYWIDGET_VERSION__: JSON.stringify(anywidgetVersion),
  },
  plugins: [noOutputWidget, anywidgetAsModule, noIpywidgets7, injectCss],
  legalComments: "eof",
  logLevel: "warning",
});
