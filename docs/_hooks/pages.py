"""MkDocs hooks for rnnlab's site.

1. README sections on pages. A line ``<!-- readme: Section title -->`` in a page is
   replaced by that ``## Section title`` of README.md (up to the next ``## ``), its
   headings one level down and its ``docs/`` links made relative to the page. The
   Home page takes "Set-up" and "Ten lines" this way; the README's long sections have
   moved to the Guide's pages (docs/about.md lists where). A marker naming a section the
   README no longer has fails the strict build.
2. ``<!-- changelog -->`` is replaced by CHANGELOG.md (its first heading dropped).
   ``<!-- api: the rest of rnnlab -->`` becomes an entry for every name of
   ``rnnlab.__all__`` that the page does not already document, under "More": a name
   added to the package gets its entry without an edit here.
3. Links inside the tutorials: MkDocs does not check the HTML that the notebooks
   become, so after the build every relative link of a tutorial page must reach a built
   page, and its ``#anchor`` an ``id`` on that page. Every ``<img>`` of every page must
   reach a file of the site (MkDocs checks only Markdown's images).
4. Every public name is documented: after the build, each name in the ``__all__`` of the
   modules listed in ``API_MODULES`` must have an entry (an ``id`` anchor) in the API
   pages; a missing one is a warning, which fails ``mkdocs build --strict``.
5. ``RNNLAB_DOCS_EXECUTE=0`` builds without executing the tutorials (a quick strict check
   of the pages, links and API; the tutorials then show their code without outputs).
   Unset or ``1``: they are executed, as ``mkdocs.yml`` says.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import logging
import os
import pathlib
import posixpath
import re

from mkdocs.exceptions import PluginError

logger = logging.getLogger("mkdocs.plugins.rnnlab_pages")
ROOT = pathlib.Path(__file__).resolve().parents[2]
MARKER = re.compile(r"^<!-- readme: (.+?) -->$", re.MULTILINE)

# module -> the page that documents it (every name of its __all__ must be there)
API_MODULES = {
    "rnnlab": "api/rnnlab.md",
    "rnnlab.neuron": "api/neuron.md",
    "rnnlab.spikes": "api/spikes.md",
    "rnnlab.models": "api/models.md",
    "rnnlab.data": "api/data.md",
    "rnnlab.engine": "api/engine.md",
    "rnnlab.tasks": "api/tasks.md",
    "rnnlab.inspect": "api/inspect.md",
}
# modules that land later get their page as soon as they import
OPTIONAL_API_MODULES = {"rnnlab.learn": "api/learn.md", "rnnlab.reservoir": "api/reservoir.md"}


def readme_section(title: str) -> str | None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(rf"^## {re.escape(title)}\n", text, re.MULTILINE)
    if m is None:
        return None
    end = text.find("\n## ", m.end())
    return text[m.end() : len(text) if end < 0 else end + 1]


def _demote(md: str) -> str:
    """``### x`` -> ``## x`` (the page's own title is its ``# ``), outside code fences."""
    out, fence = [], False
    for line in md.split("\n"):
        if line.startswith("```"):
            fence = not fence
        if not fence and line.startswith("###"):
            line = line[1:]
        out.append(line)
    return "\n".join(out)


def _relink(md: str, page_path: str, page_url: str) -> str:
    """README links ``](docs/x)`` and raw HTML ``src="docs/x"`` are relative to the
    repository; make them the page's (Markdown links: to its file, which MkDocs then
    rewrites; raw HTML: to its final URL, which MkDocs leaves alone)."""
    here = posixpath.dirname(page_path)

    def fix(m):
        return "](" + posixpath.relpath(m.group(1), here or ".") + ")"

    def fix_html(m):
        return f'{m.group(1)}="' + posixpath.relpath(m.group(2), page_url or ".") + '"'

    md = re.sub(r"\]\(docs/([^)\s]+)\)", fix, md)
    return re.sub(r'\b(src|href)="docs/([^"]+)"', fix_html, md)


def on_config(config):
    value = os.environ.get("RNNLAB_DOCS_EXECUTE", "1").strip().lower()
    if value not in ("0", "1", "false", "true", "no", "yes"):
        raise PluginError(f"RNNLAB_DOCS_EXECUTE={value!r}: give 1 (execute) or 0 (do not)")
    if value in ("0", "false", "no"):
        config.plugins["mkdocs-jupyter"].config["execute"] = False
        logger.info("RNNLAB_DOCS_EXECUTE=0: the tutorials are not executed")
    return config


def on_page_markdown(markdown, page, config, files):
    def include(m):
        section = readme_section(m.group(1))
        if section is None:
            logger.warning("%s: README.md has no section %r", page.file.src_uri, m.group(1))
            return ""
        return _relink(_demote(section), page.file.src_uri, page.url)

    markdown = MARKER.sub(include, markdown)
    markdown = _shadowed_entries(markdown, page.file.src_uri)
    if "<!-- api: the rest of rnnlab -->" in markdown:
        markdown = markdown.replace("<!-- api: the rest of rnnlab -->", _rest_of_rnnlab(markdown))
    if "<!-- changelog -->" in markdown:
        log = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8").split("\n", 1)[1]
        markdown = markdown.replace("<!-- changelog -->", log)
    return markdown


def _shadowed_entries(markdown: str, page: str) -> str:
    """Entries for a module's exported functions named like one of its submodules
    (``rnnlab.learn.rtrl``): the static reader sees the submodule, not the function."""
    names = [m for m, p in _modules().items() if p == page and m != "rnnlab"]
    if not names:
        return markdown
    module = importlib.import_module(names[0])
    extra = []
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.ismodule(obj) or importlib.util.find_spec(f"{names[0]}.{name}") is None:
            continue
        extra.append(f"::: {obj.__module__}.{name}")
    if not extra:
        return markdown
    return markdown + "\n\n## Functions named like their module\n\n" + "\n\n".join(extra) + "\n"


def _rest_of_rnnlab(markdown: str) -> str:
    import rnnlab

    shown = set(re.findall(r"^::: rnnlab(?:\.[\w.]+)?\.(\w+)$", markdown, re.MULTILINE))
    rest = [name for name in rnnlab.__all__ if name not in shown]
    if not rest:
        return ""
    entries = []
    for name in rest:
        obj = getattr(rnnlab, name)
        # a function named like its module (rnnlab.unroll): the static reader sees the module
        shadowed = importlib.util.find_spec(f"rnnlab.{name}") is not None
        where = getattr(obj, "__module__", "rnnlab") if shadowed else "rnnlab"
        entries.append(f"::: {where}.{name}")
    return "## More\n\n" + "\n\n".join(entries) + "\n"


def _modules():
    mods = dict(API_MODULES)
    for name, page in OPTIONAL_API_MODULES.items():
        if importlib.util.find_spec(name) is None:
            continue
        mods[name] = page
    return mods


def _check_tutorial_links(site: pathlib.Path):
    for page in sorted(site.glob("tutorials/*/index.html")):
        html = page.read_text(encoding="utf-8")
        for href in sorted(set(re.findall(r'<a[^>]+href="([^"]+)"', html))):
            if re.match(r"^[a-z]+:|^#|^/", href):
                continue
            path, _, anchor = href.partition("#")
            target = (page.parent / path).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                logger.warning("%s: link %s reaches no page", page.relative_to(site), href)
            elif anchor and f'id="{anchor}"' not in target.read_text(encoding="utf-8"):
                logger.warning("%s: link %s: no #%s there", page.relative_to(site), href, anchor)


def _check_images(site: pathlib.Path):
    """Every page's images, raw HTML ones included (MkDocs checks only Markdown's)."""
    for page in sorted(site.rglob("*.html")):
        html = page.read_text(encoding="utf-8")
        for src in sorted(set(re.findall(r'<img[^>]+src="([^"]+)"', html))):
            if re.match(r"^[a-z]+:", src):
                continue
            if not (page.parent / src.split("#")[0]).resolve().is_file():
                logger.warning("%s: image %s is not in the site", page.relative_to(site), src)


def on_post_build(config):
    site = pathlib.Path(config["site_dir"])
    _check_tutorial_links(site)
    _check_images(site)
    for name, page in _modules().items():
        html_file = site / page.replace(".md", "") / "index.html"
        if not html_file.exists():
            logger.warning("API page %s for %s was not built", page, name)
            continue
        html = html_file.read_text(encoding="utf-8")
        anchors = set(re.findall(r'id="([^"]+)"', html))
        try:
            module = importlib.import_module(name)
        except Exception as e:  # noqa: BLE001 (the build reports it and fails)
            logger.warning("%s does not import: %s: %s", name, type(e).__name__, e)
            continue
        for public in module.__all__:
            if not any(a.split(".")[-1] == public and a.startswith("rnnlab") for a in anchors):
                logger.warning("%s.%s is not documented on %s", name, public, page)
