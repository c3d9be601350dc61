"""HTML building blocks of the report: escaped tables, inline figures, the page frame.

Everything is inline (CSS, PNG figures as data: URIs) so the single file opens from
``file://`` with no network access; there is no JavaScript at all.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from matplotlib.figure import Figure

from ..plotting._figure import png_base64

CSS = """
body{font-family:system-ui,sans-serif;margin:0;color:#222;line-height:1.45}
main{max-width:72em;margin:0 auto;padding:1em 2em 4em}
nav{background:#f6f6f6;border-bottom:1px solid #ddd;padding:.6em 2em;font-size:90%}
nav a{margin-right:1em}
h1{margin-top:.4em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.8em 0;font-size:88%;display:block;overflow-x:auto}
td,th{border:1px solid #ccc;padding:.2em .5em;vertical-align:top}
th{background:#eee;text-align:left}
code{background:#f4f4f4;padding:0 .2em}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:90%;color:#555}
.bad{color:#b00;font-weight:bold}.good{color:#070}
.finding{background:#fffbe6;border-left:4px solid #e6b800;padding:.4em .8em}
math{font-size:110%}
.gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(22em,1fr));gap:1em}
section.fn{border-top:1px dashed #ccc;margin-top:1.5em}
"""


def esc(text: object) -> str:
    return html.escape(str(text))


def table(header: Sequence[str], rows: Iterable[Sequence[object]], *, cls: str = "") -> str:
    """An HTML table; every cell is escaped (cells that are ``Raw`` are trusted HTML)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{c if isinstance(c, Raw) else esc(c)}</td>" for c in row) + "</tr>"
        for row in rows
    )
    attr = f" class='{cls}'" if cls else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class Raw(str):
    """A string of HTML built by this package (already escaped)."""


def verdict(ok: bool | None, yes: str = "yes", no: str = "NO") -> Raw:
    if ok is None:
        return Raw("<span>—</span>")
    return Raw(f"<span class='good'>{yes}</span>" if ok else f"<span class='bad'>{no}</span>")


def mathml(latex: str) -> Raw:
    """LaTeX as inline MathML (rendered by the browser itself); the source in a tooltip."""
    from latex2mathml.converter import convert

    return Raw(f"<span class='math' title='{esc(latex)}'>{convert(latex)}</span>")


def figure(fig: Figure, alt: str, caption: str = "", fig_id: str = "") -> str:
    data = png_base64(fig)
    ident = f" id='{esc(fig_id)}'" if fig_id else ""
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return f"<figure{ident}><img alt='{esc(alt)}' src='data:image/png;base64,{data}'>{cap}</figure>"


def page(title: str, nav: Sequence[tuple[str, str]], body: Sequence[str]) -> str:
    links = "".join(f"<a href='#{esc(anchor)}'>{esc(text)}</a>" for anchor, text in nav)
    return "".join(
        [
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
            "<meta name='viewport' content='width=device-width, initial-scale=1'>",
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>",
            f"<nav>{links}</nav><main>",
            *body,
            "</main></body></html>",
        ]
    )
