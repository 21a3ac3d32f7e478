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

// Instant navigation swaps the page body without reloading scripts: typeset again.
document$.subscribe(() => {
  if (window.MathJax && MathJax.startup && MathJax.startup.output) {
    MathJax.startup.output.clearCache();
    MathJax.typesetClear();
    MathJax.texReset();
    MathJax.typesetPromise();
  }
});
