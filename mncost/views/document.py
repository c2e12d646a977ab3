"""A tiny document model rendered to GitHub markdown and to standalone HTML.

Reports are built once as a list of blocks, so report.md and report.html always
say the same thing.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .formats import md_table


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Table:
    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]
    align: str = ""


@dataclass(frozen=True)
class Image:
    src: str
    alt: str


@dataclass(frozen=True)
class Code:
    text: str


Block = Heading | Paragraph | Table | Image | Code


@dataclass
class Document:
    title: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> Document:
        self.blocks.extend(blocks)
        return self

    def to_markdown(self) -> str:
        out = [f"# {self.title}\n"]
        for b in self.blocks:
            if isinstance(b, Heading):
                out.append(f"{'#' * b.level} {b.text}\n")
            elif isinstance(b, Paragraph):
                out.append(b.text + "\n")
            elif isinstance(b, Table):
                out.append(md_table(b.headers, b.rows, b.align))
            elif isinstance(b, Image):
                out.append(f"![{b.alt}]({b.src})\n")
            elif isinstance(b, Code):
                out.append(f"```\n{b.text}\n```\n")
        return "\n".join(out)

    def to_html(self) -> str:
        e = html.escape
        body = [f"<h1>{e(self.title)}</h1>"]
        for b in self.blocks:
            if isinstance(b, Heading):
                level = min(max(b.level, 2), 6)
                body.append(f"<h{level}>{e(b.text)}</h{level}>")
            elif isinstance(b, Paragraph):
                body.append(f"<p>{_inline(b.text)}</p>")
            elif isinstance(b, Table):
                aligns = b.align or "l" * len(b.headers)
                style = {"l": "left", "r": "right", "c": "center"}
                head = "".join(f'<th style="text-align:{style[a]}">{e(str(h))}</th>' for h, a in zip(b.headers, aligns))
                rows = "".join(
                    "<tr>" + "".join(f'<td style="text-align:{style[a]}">{_inline(str(c))}</td>' for c, a in zip(row, aligns)) + "</tr>"
                    for row in b.rows
                )
                body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
            elif isinstance(b, Image):
                body.append(f'<figure><img src="{e(b.src)}" alt="{e(b.alt)}"><figcaption>{e(b.alt)}</figcaption></figure>')
            elif isinstance(b, Code):
                body.append(f"<pre><code>{e(b.text)}</code></pre>")
        return _PAGE.format(title=e(self.title), body="\n".join(body))


def _inline(text: str) -> str:
    """Escape, then the two markdown inlines reports use: **bold** and `code`."""
    import re

    out = html.escape(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", out)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; color: #1f2328; }}
table {{ border-collapse: collapse; margin: 0.8rem 0; font-size: 0.85rem; }}
th, td {{ border: 1px solid #d0d7de; padding: 0.25rem 0.5rem; }}
thead {{ background: #f6f8fa; }}
tbody tr:nth-child(even) {{ background: #fafbfc; }}
figure {{ margin: 1rem 0; }}
img {{ max-width: 100%; }}
figcaption {{ color: #57606a; font-size: 0.8rem; }}
code, pre {{ font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.85rem; }}
pre {{ background: #f6f8fa; padding: 0.8rem; overflow-x: auto; }}
</style>
</head>
<body>
{body}
</body>
</html>
"""


def rich_table(table: Table, title: str = "", *, no_wrap_first: bool = False) -> Any:
    """The same table for the terminal: cells are text, never markup; ``**bold**`` cells stay literal."""
    from rich.table import Table as RichTable

    from ..text import markup

    justify = {"l": "left", "r": "right", "c": "center"}
    out = RichTable(title=markup(title) if title else None, title_justify="left", header_style="bold")
    for i, (header, a) in enumerate(zip(table.headers, table.align or "l" * len(table.headers))):
        out.add_column(markup(header), justify=justify[a], no_wrap=no_wrap_first and i == 0)  # type: ignore[arg-type]
    for row in table.rows:
        out.add_row(*(markup(cell) for cell in row))
    return out
