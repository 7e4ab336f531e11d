"""A Griffe extension: rnnlab's docstrings, written in a small subset of reStructuredText,
turned into the Markdown that mkdocstrings renders.

The subset the docstrings use, and what each becomes:

- ``:class:`X```, ``:func:``, ``:meth:``, ``:attr:``, ``:data:``, ``:mod:``, ``:exc:``,
  ``:obj:``: a link to X's entry in the API reference when X is documented there; plain
  code when X exists but is private or belongs to another package; a warning (which fails
  ``mkdocs build --strict``) when X names nothing at all in rnnlab and the docstring is
  on an API page;
- ``.. math::`` blocks: display maths for KaTeX (``aligned`` when the block aligns on
  ``&``), ``:math:`x``` roles: inline maths;
- doctest blocks (``>>>`` lines and their output): fenced ``pycon`` code;
- simple tables (``=====  =====`` borders): Markdown tables;
- a list straight after a paragraph line: a blank line first, as Markdown needs;
- ``text::`` before a literal block: ``text:``.

The documented modules are given in mkdocs.yml (option ``documented``); an object is
linkable if a documented module exports it (``__all__``), or if it is a public member
of such an object.
"""

from __future__ import annotations

import logging
import re

import griffe

logger = logging.getLogger("mkdocs.plugins.rnnlab_docstrings")

ROLE = re.compile(r":(class|func|meth|attr|data|mod|exc|obj|math):`([^`]+)`")
LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+\.)\s+\S")
MATH = re.compile(r"^(\s*)\.\. math::\s*(.*)$")
TABLE_BORDER = re.compile(r"^\s*=+(\s+=+)+\s*$")
# Packages whose names docstrings mention but whose pages are elsewhere (no network at
# build time, so no inventories): shown as code.
EXTERNAL = {
    "numpy",
    "jax",
    "equinox",
    "optax",
    "matplotlib",
    "scipy",
    "torch",
    "csv",
    "tokenize",
    "keyword",
    "json",
    "pathlib",
    "music21",
    "starlette",
    "uvicorn",
}


class RstDocstrings(griffe.Extension):
    """Rewrite every docstring of the package once it is loaded."""

    def __init__(self, documented: list[str] | None = None) -> None:
        super().__init__()
        self.documented = list(documented or [])

    def on_package(self, *, pkg: griffe.Module, **kwargs) -> None:
        linkable = _linkable(pkg, self.documented)
        for obj in _walk(pkg):
            if obj.docstring is not None:
                shown = _on_a_page(obj, linkable)
                obj.docstring.value = convert(obj.docstring.value, obj, pkg, linkable, shown)


def _walk(obj):
    yield obj
    for member in obj.members.values():
        if not member.is_alias and (member.is_module or member.is_class or member.is_function):
            yield from _walk(member)
        elif not member.is_alias and member.is_attribute:
            yield member


def _canonical(obj):
    try:
        return obj.final_target.path if obj.is_alias else obj.path
    except (griffe.AliasResolutionError, griffe.CyclicAliasError):
        return None


def _on_a_page(obj, linkable):
    """Whether the API pages show ``obj``: it, or the class it belongs to, is exported."""
    while obj is not None:
        if obj.path in linkable:
            return True
        obj = obj.parent if obj.parent is not None and obj.parent.is_class else None
    return False


def _linkable(pkg, documented):
    paths = set()
    for name in documented:
        try:
            mod = pkg.modules_collection.get_member(name)
        except KeyError:
            logger.warning("rst_docstrings: documented module %s not found", name)
            continue
        paths.add(mod.path)
        exports = mod.exports
        names = (
            [str(e) for e in exports]
            if exports is not None
            else [n for n in mod.members if not n.startswith("_")]
        )
        for n in names:
            member = mod.members.get(n)
            if member is None:
                continue
            target = _canonical(member)
            if target:
                paths.add(target)
    return paths


def _lookup(path, pkg):
    try:
        return pkg.modules_collection.get_member(path)
    except (KeyError, ValueError, griffe.AliasResolutionError):
        return None


def resolve(name, owner, pkg):
    """The object ``name`` means in ``owner``'s docstring (its scopes, then absolute), or None."""
    name = name.lstrip("~").lstrip(".")
    scope = owner
    while scope is not None:  # the owner, its class, its module, its packages
        obj = _lookup(f"{scope.path}.{name}", pkg)
        if obj is not None:
            return obj
        scope = scope.parent
    return _lookup(name, pkg) or _lookup(f"{pkg.name}.{name}", pkg)


def _role(match, owner, pkg, linkable, shown):
    kind, text = match.group(1), match.group(2)
    if kind == "math":
        return f"${text}$"
    label = text.lstrip("~.")
    if text.startswith("~"):
        label = label.split(".")[-1]
    code = f"`{label}`"
    if label.split(".")[0] in EXTERNAL:
        return code
    obj = resolve(text, owner, pkg)
    if obj is None:
        if shown:  # a docstring no page shows may name what it likes
            logger.warning("%s: docstring names %r, which rnnlab does not define", owner.path, text)
        return code
    if obj.is_module and kind != "mod" and obj.name in obj.members:
        obj = obj.members[obj.name]  # rnnlab.unroll: the function, not its module
    target = _canonical(obj)
    if target is None:
        return code
    parent = target.rsplit(".", 1)[0]
    public = not target.rsplit(".", 1)[-1].startswith("_")
    if target in linkable or (public and parent in linkable and obj.parent.is_class):
        return f"[{code}][{target}]"
    return code


def _math_block(lines, i):
    """The ``.. math::`` block at line ``i``: its Markdown lines and the next index."""
    indent, first = MATH.match(lines[i]).groups()
    body = [first] if first.strip() else []
    j = i + 1
    while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) > len(indent)):
        body.append(lines[j].strip())
        j += 1
    while body and not body[-1]:
        body.pop()
    tex = "\n".join(b for b in body if b)
    if "&" in tex or "\\\\" in tex:
        tex = "\\begin{aligned}\n" + tex + "\n\\end{aligned}"
    return [indent + "$$", *[indent + t for t in tex.split("\n")], indent + "$$", ""], j


def _indent(line):
    return len(line) - len(line.lstrip())


def _doctest_block(lines, i):
    """The doctest at line ``i`` (prompts and output, up to a blank line) as a fence."""
    indent = " " * _indent(lines[i])
    j = i
    while j < len(lines) and lines[j].strip():
        j += 1
    body = [line[len(indent) :] if line.startswith(indent) else line for line in lines[i:j]]
    return [indent + "```pycon", *[indent + b for b in body], indent + "```"], j


def _simple_table(lines, i):
    """The reST simple table at line ``i`` (``====  ====`` borders) as a Markdown table
    and the next index; a row whose first column is blank continues the row above."""
    border = lines[i]
    spans = [m.span() for m in re.finditer(r"=+", border)]
    indent = " " * _indent(border)

    def cells(line):
        padded = line.ljust(spans[-1][1])
        bounds = [
            (a, spans[k + 1][0] if k + 1 < len(spans) else len(padded))
            for k, (a, _) in enumerate(spans)
        ]
        return [padded[a:b].strip() for a, b in bounds]

    rows, j, borders = [], i + 1, 1
    while j < len(lines) and borders < 3:
        if TABLE_BORDER.match(lines[j]):
            borders += 1
        elif lines[j].strip():
            row = cells(lines[j])
            if rows and not row[0] and borders == 2:
                rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], row, strict=True)]
            else:
                rows.append(row)
        j += 1
    head, body = rows[0], rows[1:]
    out = [indent + "| " + " | ".join(head) + " |", indent + "|" + " --- |" * len(head)]
    out += [indent + "| " + " | ".join(r) + " |" for r in body]
    return [*out, ""], j


def convert(text, owner, pkg, linkable, shown=True):
    """One docstring, reST subset in, Markdown out (see the module docstring)."""
    lines = text.split("\n")
    out = []
    i = 0
    in_list = False
    while i < len(lines):
        line = lines[i]
        if MATH.match(line):
            block, i = _math_block(lines, i)
            if out and out[-1].strip():
                out.append("")
            out.extend(block)
            continue
        if TABLE_BORDER.match(line):
            block, i = _simple_table(lines, i)
            if out and out[-1].strip():
                out.append("")
            out.extend(ROLE.sub(lambda m: _role(m, owner, pkg, linkable, shown), b) for b in block)
            continue
        if line.lstrip().startswith(">>>"):
            block, i = _doctest_block(lines, i)
            if out and out[-1].strip():
                out.append("")
            out.extend(block)
            continue
        if LIST_ITEM.match(line):
            if out and out[-1].strip() and not in_list:
                out.append("")
            in_list = True
        elif not line.strip():
            in_list = False
        if line.rstrip().endswith("::") and not line.strip().startswith(".."):
            line = line.rstrip()[:-1]
        out.append(ROLE.sub(lambda m: _role(m, owner, pkg, linkable, shown), line))
        i += 1
    return "\n".join(out)
