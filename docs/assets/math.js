// Maths on every page with the vendored KaTeX (assets/katex, no CDN: the site works
// offline). Markdown pages and docstrings: arithmatex wraps \( \) and \[ \] in
// .arithmatex elements. Notebooks: their Markdown cells keep Jupyter's $ and $$.
const DELIMITERS = [
  { left: "$$", right: "$$", display: true },
  { left: "\\[", right: "\\]", display: true },
  { left: "\\(", right: "\\)", display: false },
];
const NOTEBOOK = [...DELIMITERS, { left: "$", right: "$", display: false }];

function renderMath(root) {
  for (const el of root.querySelectorAll(".arithmatex")) {
    renderMathInElement(el, { delimiters: DELIMITERS, throwOnError: false });
  }
  for (const el of root.querySelectorAll(".jupyter-wrapper .jp-MarkdownOutput")) {
    renderMathInElement(el, { delimiters: NOTEBOOK, throwOnError: false });
  }
}

document$.subscribe(({ body }) => renderMath(body));
