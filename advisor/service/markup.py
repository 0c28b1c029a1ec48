"""Escaping for the HTML pages and the SVG chart: every piece of user or data text goes through ``text``."""

from __future__ import annotations

import html
import re

# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional overrides and isolates: shown as
# \x1b-style escapes, as the CLI shows them, so a name cannot reorder or hide what the page shows.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def text(value: object) -> str:
    """``value`` as HTML text or attribute content: control characters made visible, then HTML-escaped."""
    return html.escape(_CONTROL.sub(_visible, str(value)), quote=True)
