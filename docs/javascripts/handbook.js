// MathJax 3, served from this site (see the hooks in snippets/dlhandbook/site/hooks.py) and
// loaded only when a page has math: pages without any never download it.
//
// arithmatex wraps page math in .arithmatex; notebook Markdown cells keep $...$ delimiters.
// Every element with a class is ignored unless it is one of the process classes; elements
// without a class inherit from their parent, so text inside a notebook cell is typeset while
// a "$" anywhere else on the site is left alone.
const MATHJAX_SRC = new URL("../assets/mathjax/startup.js", document.currentScript.src).href;
const MATH = ".arithmatex, .jp-RenderedMarkdown";

window.MathJax = {
  loader: { load: ["input/tex", "output/chtml"] },
  tex: {
    inlineMath: [["\\(", "\\)"], ["$", "$"]],
    displayMath: [["\\[", "\\]"], ["$$", "$$"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".+",
    processHtmlClass: "arithmatex|jp-RenderedMarkdown|jp-MarkdownOutput",
  },
};

function hasMath() {
  return [...document.querySelectorAll(MATH)].some((el) => /\\\(|\\\[|\$/.test(el.textContent));
}

// The first page with math loads MathJax, which typesets it by itself. Instant navigation swaps
// the page body without reloading scripts, so each later page is typeset again, queued after
// any typesetting still in flight (clearing MathJax's caches mid-typeset leaves glyphs without
// their CSS).
document$.subscribe(() => {
  if (!hasMath()) return;
  // A flag, not a look-up of the script element: instant navigation swaps the head.
  if (!window.__dlMathJaxRequested) {
    window.__dlMathJaxRequested = true;
    const script = document.createElement("script");
    script.src = MATHJAX_SRC;
    script.async = true;
    document.head.appendChild(script);
    return;
  }
  if (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) return; // still loading
  MathJax.startup.promise = MathJax.startup.promise.then(() => {
    MathJax.startup.output.clearCache();
    MathJax.typesetClear();
    MathJax.texReset();
    return MathJax.typesetPromise();
  });
});

// Printing (or saving as PDF) shows the follow-up answers: open every collapsed block for the
// print and close again those that were closed.
let closedForPrint = [];
window.addEventListener("beforeprint", () => {
  closedForPrint = [...document.querySelectorAll("details:not([open])")];
  closedForPrint.forEach((d) => d.setAttribute("open", ""));
});
window.addEventListener("afterprint", () => {
  closedForPrint.forEach((d) => d.removeAttribute("open"));
  closedForPrint = [];
});
