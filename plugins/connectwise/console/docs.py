"""The project's guides (``docs/*.md``) rendered for the console, so DAG docs can link to them.

Links between guides (``mapping.md``, ``docs/mapping.md#section``) are rewritten to console
paths and images are served from ``docs/img``; raw HTML in the Markdown is not passed through.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

from fastapi import HTTPException, status
from fastapi.responses import FileResponse, Response
from markdown_it import MarkdownIt
from markupsafe import Markup

from connectwise.paths import docs_dir

DOCS_PATH = "/connectwise-console/docs"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")  # a guide's file stem: no dots, no slashes
_IMAGE = re.compile(r"^[a-z0-9][a-z0-9_.-]*\.(png|svg|jpg)$")
_GUIDE_LINK = re.compile(r'href="(?:\.{0,2}/)?(?:docs/)?([a-z0-9_-]+)\.md(#[^"]*)?"')
_DOC_MENTION = re.compile(r"\bdocs/([a-z0-9_-]+)\.md\b")
_IMAGE_SRC = re.compile(r'src="(?:\.{0,2}/)?(?:docs/)?img/')

_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")


def guides() -> list[tuple[str, str]]:
    """(name, title) of every guide, in file-name order."""
    return [(path.stem, _title(path)) for path in sorted(docs_dir().glob("*.md"))]


def render(name: str) -> tuple[str, str]:
    """Return (title, HTML body) of the guide ``docs/<name>.md``.

    Raises:
        HTTPException: 404 for a name that is not a guide.
    """
    path = _guide(name)
    html = _markdown.render(path.read_text(encoding="utf-8"))
    html = _GUIDE_LINK.sub(lambda found: f'href="{DOCS_PATH}/{found[1]}{found[2] or ""}"', html)
    html = _IMAGE_SRC.sub(f'src="{DOCS_PATH}/img/', html)
    return _title(path), html


def index_html() -> str:
    """List the guides, linked."""
    items = "".join(
        f'<li><a href="{DOCS_PATH}/{name}">{escape(title)}</a> <code>docs/{name}.md</code></li>'
        for name, title in guides()
    )
    return f"<ul class='guides'>{items}</ul>"


def doc_links(text: str) -> Markup:
    """Escape ``text`` and link the guides it mentions (``docs/mapping.md``) to the console."""
    escaped = str(Markup.escape(text))
    # Safe: the text is escaped first, and a guide name matches [a-z0-9_-]+ only.
    return Markup(  # noqa: S704
        _DOC_MENTION.sub(
            lambda found: f'<a href="{DOCS_PATH}/{found[1]}">docs/{found[1]}.md</a>', escaped
        )
    )


def image(name: str) -> Response:
    """Serve an image of ``docs/img``.

    Raises:
        HTTPException: 404 for a name that is not an image there.
    """
    path = docs_dir() / "img" / name
    if not _IMAGE.match(name) or not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no image {name!r} in docs/img")
    return FileResponse(path)


def _guide(name: str) -> Path:
    path = docs_dir() / f"{name}.md"
    if not _NAME.match(name) or not path.is_file():
        known = ", ".join(stem for stem, _ in guides())
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no guide {name!r}; guides: {known}")
    return path


def _title(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return path.stem
