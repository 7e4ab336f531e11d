// Loaded where a notebook page would load MathJax from a CDN (mkdocs-jupyter's
// custom_mathjax_url): nothing to do here, math.js renders the notebooks' maths.
