"""Control characters made visible in text that reaches a terminal: the one rule every printer shares.

``show_controls`` turns them into escapes (``\\x1b``) and changes nothing else; the CLI adds rich's markup
escaping on top (``advisor.cli.console.safe_text``), and the Python API's warnings use it alone.
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls, the Unicode bidirectional overrides, isolates and marks (which reorder what
# the terminal shows: "Trojan Source"; the marks U+200E, U+200F and U+061C too), and the line and paragraph
# separators U+2028 and U+2029 (a new line in some terminals and markdown viewers); and lone surrogates
# (U+D800-U+DFFF, from a JSON escape), which no UTF-8 stream can write: shown, not a UnicodeEncodeError.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")
_CONTROL_BUT_NEWLINE = re.compile(
    r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def has_controls(value: str) -> bool:
    """Whether ``value`` holds a character ``show_controls`` makes visible: a control, a bidirectional override
    or mark, a line or paragraph separator, a lone surrogate. Other Unicode is text (a zero-width non-joiner in a
    Persian word, a no-break space, an emoji's joiner)."""
    return _CONTROL.search(value) is not None


def show_controls(value: object, *, multiline: bool = False) -> str:
    """``value`` as text with its control characters made visible (``\\x1b``), nothing else changed."""
    pattern = _CONTROL_BUT_NEWLINE if multiline else _CONTROL
    return pattern.sub(_visible, str(value))
