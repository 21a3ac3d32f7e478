// MathJax 3, served from this site (see the hooks in snippets/dlhandbook/site/hooks.py).
// arithmatex wraps page math in .arithmatex; notebook Markdown cells keep $...$ delimiters.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"], ["$", "$"]],
    displayMath: [["\\[", "\\]"], ["$$", "$$"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex|jp-RenderedMarkdown|jp-MarkdownOutput",
    menuOptions: { settings: { assistiveMml: false } },
  },
};

// MathJax typesets the first page by itself. Instant navigation then swaps the page body
// without reloading scripts, so each later page is typeset again, queued after any typesetting
// still in flight (clearing MathJax's caches mid-typeset leaves glyphs without their CSS).
let firstPage = true;
document$.subscribe(() => {
  if (firstPage) {
    firstPage = false;
    return;
  }
  MathJax.startup.promise = MathJax.startup.promise.then(() => {
    MathJax.startup.output.clearCache();
    MathJax.typesetClear();
    MathJax.texReset();
    return MathJax.typesetPromise();
  });
});
