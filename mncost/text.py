"""Text from files (model, layer, stage and profile names, titles, sources) made safe for
each place it is shown. Names are data, never markup:

- :func:`plain`: control characters (ANSI escapes, C0/C1, DEL) shown as ``\\xNN`` so that
  nothing from a file can drive the terminal;
- :func:`markup`: :func:`plain`, then rich's markup characters escaped (``[bold]`` stays
  literal text);
- :func:`md`: :func:`plain` for a markdown table cell (``|`` escaped, newlines as spaces,
  ``<``, ``>`` and ``&`` as entities so that the markdown stays inert when rendered);
- HTML output escapes with :func:`html.escape` on top of :func:`plain`.
"""

from __future__ import annotations

import re

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""Control characters but newline and tab: never shown raw, refused in spec and profile text."""


def plain(text: object) -> str:
    """``text`` with every control character but newline and tab written as ``\\xNN``."""
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def markup(text: object) -> str:
    """Safe inside a rich markup string: brackets that look like tags are escaped."""
    from rich.markup import escape

    return escape(plain(text))


def md(text: object) -> str:
    """Safe inside a markdown table cell."""
    out = plain(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return out.replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def html(text: object) -> str:
    import html as _html

    return _html.escape(plain(text))
