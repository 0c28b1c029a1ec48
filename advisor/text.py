"""Control characters made visible in text that reaches a terminal: the one rule every printer shares.

``show_controls`` turns them into escapes (``\\x1b``) and changes nothing else; the CLI adds rich's markup
escaping on top (``advisor.cli.console.safe_text``), and the Python API's warnings use it alone.
``drop_escape_sequences`` takes a workload's own terminal codes (its colours) out of its output before that.
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


# A terminal's escape sequences (ECMA-48): CSI, colours, cursor moves, erasing ("\x1b[31m", "\x1b[2J"); the
# strings, a window title or a hyperlink (OSC: "\x1b]0;title\x07", "\x1b]8;;URL\x1b\\"), ended by BEL or ST; and
# the short ones, a character set (`tput sgr0` ends "\x1b(B"), the cursor saved ("\x1b7"), the screen reset ("\x1bc",
# print("\033c") to clear it). Only CSI was dropped: the rest showed as "\x1b(B", "\x1b]0;title\x07".
_ESCAPE_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]"
                              r"|\x1b[\]PX^_][^\x07\x1b\n]*(?:\x07|\x1b\\)"
                              r"|\x1b[ -/]+[0-~]"
                              r"|\x1b[0-OQ-WYZ\\`-~]")
# One cut short by the end of the text (the rest not written yet, or cut off)
_ESCAPE_SEQUENCE_START = re.compile(r"\x1b(?:\[[0-?]*[ -/]*|[\]PX^_][^\x07\x1b\n]*|[ -/]*)?\Z")
# The longest escape sequence looked for across a cut (its parameters: "\x1b[38;2;255;255;255m" is 19)
ESCAPE_SEQUENCE_CHARS = 32


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


def drop_escape_sequences(value: str, *, cut: bool = False) -> str:
    """``value`` without its terminal escape sequences (a coloured line as it reads); with ``cut`` (the text was cut
    off at its end), also without the start of one that ends there."""
    plain = _ESCAPE_SEQUENCE.sub("", value)
    return _ESCAPE_SEQUENCE_START.sub("", plain) if cut else plain
