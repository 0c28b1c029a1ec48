"""The HTML pages' frame and escaping: every piece of user or data text on a page or in the SVG chart goes
through ``text``; every page (the web pages, and an error answered to a browser) is ``page``."""

from __future__ import annotations

import html
import re

from fastapi.responses import HTMLResponse

# C0 controls but tab and newline, DEL, C1 controls, the bidirectional overrides, isolates and marks, and the
# Unicode line separators: shown as \x1b-style escapes, as the CLI shows them, so a name cannot reorder or hide
# what the page shows.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def text(value: object) -> str:
    """``value`` as HTML text or attribute content: control characters made visible, then HTML-escaped."""
    return html.escape(_CONTROL.sub(_visible, str(value)), quote=True)


SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
}
_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d232a;background:#fff}
h1{font-size:20px;margin:0 0 12px}h2{font-size:16px;margin:20px 0 8px}a{color:#0b5cad}
table{border-collapse:collapse;margin:8px 0}th,td{padding:4px 10px;border-bottom:1px solid #dde3ea;text-align:left}
th{background:#f1f4f8}td.num{text-align:right;font-variant-numeric:tabular-nums}.note{color:#5b6673}
nav{margin-bottom:16px}nav a{margin-right:14px}.err{color:#a11}ul.warn li{color:#a11}li{white-space:pre-line}
svg .plot{fill:#fbfcfe;stroke:#c9d2dc}svg .grid{stroke:#e6ebf1}svg .tick{font-size:11px;fill:#5b6673}
svg .axis{font-size:12px;fill:#1d232a}svg .front{fill:none;stroke:#d9480f;stroke-width:2}
svg .point.other{fill:#8da4bf}svg .point.pareto{fill:#d9480f}
svg .point.chosen{fill:#2b8a3e;stroke:#123;stroke-width:2}svg .label{font-size:11px;fill:#1d232a}
"""


def page(title: str, body: str, status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    """A whole page: ``title`` (escaped here) and ``body`` (HTML whose data text went through ``text``), with the
    security headers (no script may run) and any ``headers`` of the answer's own (``Retry-After``)."""
    html_text = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{text(title)} - advisor'
                 f'</title><meta name="viewport" content="width=device-width"><style>{_STYLE}</style></head><body>'
                 f'<nav><a href="/">Recent recommendations</a><a href="/api">API</a>'
                 f'<a href="/logout">Log out</a></nav>{body}</body></html>')
    return HTMLResponse(html_text, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})
