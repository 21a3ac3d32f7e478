// MathJax 3, served from this site (see the hooks in snippets/dlhandbook/site/hooks.py) and
// loaded only when a page has math: pages without any never download it.
//
// arithmatex wraps page math in .arithmatex; notebook Markdown cells keep $...$ delimiters.
// Every element with a class is ignored unless it is one of the process classes; elements
// without a class inherit from their parent, so text inside a notebook cell is typeset while
// a "$" anywhere else on the site is left alone.
const MATHJAX_SRC = new URL("../generated/mathjax/startup.js", document.currentScript.src).href;
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

// The whole handbook on one page (print_page/, marked data-dl-print by
// snippets/dlhandbook/site/print_view.py) is a book to print: always in the light scheme, whatever
// the reader chose for the site (its figures are the light variants only, and Material sets the
// scheme again when its palette starts, so hold it there). The toggle is hidden in extra.css.
if (document.body.hasAttribute("data-dl-print")) {
  const light = () => {
    if (document.body.getAttribute("data-md-color-scheme") !== "default") {
      document.body.setAttribute("data-md-color-scheme", "default");
    }
  };
  light();
  new MutationObserver(light).observe(document.body, { attributes: true, attributeFilter: ["data-md-color-scheme"] });
}

// ---------------------------------------------------------------- revision tools
// Review marks live in localStorage through Material's __md_get/__md_set, which prefix the key
// with this site's path (__md_scope), so two handbooks on one host keep separate marks. A page is
// known by its URL from the site's root (the home index's rows carry it as data-dl-page, see
// snippets/dlhandbook/site/revision.py). Everything is set up again after each instant navigation.
const REVIEWED = "dl.reviewed";

function pageKey(url) {
  const root = (window.__md_scope || new URL(".", location)).pathname;
  const path = new URL(url, location).pathname.replace(/index\.html$/, "");
  return path.startsWith(root) ? path.slice(root.length) : path;
}

function reviewedPages() {
  let value = null;
  try {
    value = window.__md_get ? __md_get(REVIEWED) : JSON.parse(localStorage.getItem(REVIEWED));
  } catch (e) {
    value = null;
  }
  return new Set(Array.isArray(value) ? value : []);
}

function markReviewed(key, on) {
  const pages = reviewedPages();
  if (on) pages.add(key);
  else pages.delete(key);
  const value = [...pages].sort();
  if (window.__md_set) __md_set(REVIEWED, value);
  else localStorage.setItem(REVIEWED, JSON.stringify(value));
}

function element(tag, attrs = {}, text = "") {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
  if (text) el.textContent = text;
  return el;
}

// The home index: filter by difficulty and part, a review box on every row, a progress count.
// The difficulty filter of the home index and the cheat sheet: one pressed button at a time;
// the pressed one's data-level ("" for all) is the choice, and onChange runs after each press.
function difficultyButtons(onChange) {
  const levels = element("div", { class: "dl-filters__levels", role: "group", "aria-label": "Difficulty" });
  levels.append(element("span", { class: "dl-filters__label", "aria-hidden": "true" }, "Difficulty"));
  for (const [value, label] of [["", "All"], ["easy", "Easy"], ["medium", "Medium"], ["hard", "Hard"]]) {
    const button = element("button", { type: "button", class: "dl-button", "data-level": value,
                                        "aria-pressed": String(value === "") }, label);
    button.addEventListener("click", () => {
      levels.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
      onChange();
    });
    levels.append(button);
  }
  return levels;
}

function setUpIndex() {
  const index = document.querySelector(".dl-index");
  if (!index || index.dataset.dlReady) return;
  index.dataset.dlReady = "true";
  const rows = [...index.querySelectorAll("tr[data-dl-page]")];
  if (!rows.length) return;
  const bar = element("div", { class: "dl-filters", role: "search", "aria-label": "Filter the questions" });
  const levels = difficultyButtons(() => update());
  const partLabel = element("label", { class: "dl-filters__part" }, "Part ");
  const part = element("select", { class: "dl-filters__select" });
  part.append(element("option", { value: "" }, "All parts"));
  for (const name of new Set(rows.map((r) => r.dataset.part))) part.append(element("option", { value: name }, name));
  part.addEventListener("change", update);
  partLabel.append(part);
  const todoLabel = element("label", { class: "dl-filters__todo" });
  const todo = element("input", { type: "checkbox", class: "dl-filters__unreviewed" });
  todo.addEventListener("change", update);
  todoLabel.append(todo, " Not reviewed only");
  const progress = element("p", { class: "dl-review-progress", "aria-live": "polite" });
  bar.append(levels, partLabel, todoLabel, progress);
  index.before(bar);

  const marks = reviewedPages();
  for (const row of rows) {
    const key = row.dataset.dlPage;
    const link = row.cells[1] && row.cells[1].querySelector("a");
    const box = element("input", { type: "checkbox", class: "dl-review-box",
                                   "aria-label": `Reviewed: ${row.cells[0].textContent.trim()} ${link ? link.textContent : key}` });
    box.checked = marks.has(key);
    box.addEventListener("change", () => {
      markReviewed(key, box.checked);
      update();
    });
    row.cells[0].prepend(box, " ");
  }

  function update() {
    const level = levels.querySelector("[aria-pressed='true']").dataset.level;
    const done = reviewedPages();
    let shown = 0;
    for (const row of rows) {
      const show = (!level || row.dataset.difficulty === level) && (!part.value || row.dataset.part === part.value)
        && !(todo.checked && done.has(row.dataset.dlPage));
      row.hidden = !show;
      shown += show;
    }
    const headings = [...index.querySelectorAll("h2")];
    index.querySelectorAll("table").forEach((table, i) => {
      const empty = ![...table.querySelectorAll("tr[data-dl-page]")].some((r) => !r.hidden);
      (table.closest(".md-typeset__scrollwrap") || table).hidden = empty;
      if (headings[i]) headings[i].hidden = empty;
    });
    const count = rows.filter((r) => done.has(r.dataset.dlPage)).length;
    progress.textContent = `${count} of ${rows.length} reviewed` + (shown < rows.length ? ` \u00b7 ${shown} shown` : "");
  }
  update();
}

// An answer page: the same review mark, next to the difficulty tag under the title.
function setUpReviewToggle() {
  const tag = document.querySelector(".md-content article > h1 + p > .dl-difficulty");
  if (!tag || tag.parentElement.querySelector(".dl-review-toggle")) return;
  const key = pageKey(location.href);
  const button = element("button", { type: "button", class: "dl-button dl-review-toggle" });
  const show = (on) => {
    button.setAttribute("aria-pressed", String(on));
    button.textContent = on ? "\u2713 Reviewed" : "Mark as reviewed";
  };
  show(reviewedPages().has(key));
  button.addEventListener("click", () => {
    const on = button.getAttribute("aria-pressed") !== "true";
    markReviewed(key, on);
    show(on);
  });
  tag.after(" ", button);
}

// Self-test: collapse every follow-up answer, then reveal them one by one (buttons, keyboard).
function setUpSelfTest() {
  const heading = document.getElementById("follow-up-questions");
  if (!heading || heading.dataset.dlReady) return;
  const blocks = [];
  for (let el = heading.nextElementSibling; el && el.tagName !== "H2"; el = el.nextElementSibling) {
    if (el.tagName === "DETAILS") blocks.push(el);
  }
  if (!blocks.length) return;
  heading.dataset.dlReady = "true";
  const bar = element("div", { class: "dl-self-test" });
  const toggle = element("button", { type: "button", class: "dl-button dl-self-test__toggle", "aria-pressed": "false" },
                         "Self-test");
  const next = element("button", { type: "button", class: "dl-button dl-self-test__next", hidden: "" },
                       "Reveal the next answer");
  const status = element("span", { class: "dl-self-test__status", "aria-live": "polite" });
  bar.append(toggle, " ", next, " ", status);
  heading.after(bar);
  const update = () => {
    if (toggle.getAttribute("aria-pressed") !== "true") {
      status.textContent = "";
      return;
    }
    const open = blocks.filter((b) => b.open).length;
    status.textContent = `${open} of ${blocks.length} answers revealed`;
    next.disabled = open === blocks.length;
  };
  toggle.addEventListener("click", () => {
    const on = toggle.getAttribute("aria-pressed") !== "true";
    toggle.setAttribute("aria-pressed", String(on));
    toggle.textContent = on ? "End self-test" : "Self-test";
    bar.classList.toggle("dl-self-test--on", on);
    next.hidden = !on;
    blocks.forEach((b) => (b.open = false));
    update();
  });
  next.addEventListener("click", () => {
    const block = blocks.find((b) => !b.open);
    if (!block) return;
    block.open = true;
    update();
    if (next.disabled) block.querySelector("summary").focus();
  });
  blocks.forEach((b) => b.addEventListener("toggle", update));
}

// The cheat sheet: the same difficulty filter, and "not reviewed only" (a card is known by its
// link to the full answer).
function setUpCheatSheet() {
  const sheet = document.querySelector(".dl-cheat");
  if (!sheet || sheet.dataset.dlReady) return;
  sheet.dataset.dlReady = "true";
  const items = [...sheet.querySelectorAll(".dl-cheat__item")];
  const keyOf = (item) => pageKey(item.querySelector(".dl-cheat__meta a").href);
  const bar = element("div", { class: "dl-filters", role: "search", "aria-label": "Filter the answers" });
  const levels = difficultyButtons(() => update());
  const todoLabel = element("label", { class: "dl-filters__todo" });
  const todo = element("input", { type: "checkbox", class: "dl-filters__unreviewed" });
  todo.addEventListener("change", update);
  todoLabel.append(todo, " Not reviewed only");
  const progress = element("p", { class: "dl-review-progress", "aria-live": "polite" });
  bar.append(levels, todoLabel, progress);
  sheet.before(bar);

  function update() {
    const level = levels.querySelector("[aria-pressed='true']").dataset.level;
    const done = reviewedPages();
    let shown = 0;
    for (const item of items) {
      item.hidden = !((!level || item.dataset.difficulty === level) && !(todo.checked && done.has(keyOf(item))));
      shown += !item.hidden;
    }
    for (const heading of sheet.querySelectorAll("h2")) {
      let any = false;
      for (let e = heading.nextElementSibling; e && e.tagName !== "H2"; e = e.nextElementSibling) {
        any = any || (e.classList.contains("dl-cheat__item") && !e.hidden);
      }
      heading.hidden = !any;
    }
    progress.textContent = `${shown} of ${items.length} answers shown`;
  }
  update();
}

document$.subscribe(() => {
  setUpIndex();
  setUpReviewToggle();
  setUpSelfTest();
  setUpCheatSheet();
});
