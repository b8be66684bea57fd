"""The one sanitiser for untrusted text (anything from upstream or a file), applied at display time.

Storage keeps text exactly as it came; every widget shows it through `clean` (or `one_line` for
list cells) and renders the result without markup (Text/Content, markup=False). Control
characters would otherwise reach the terminal whatever the widget does (docs/architecture.md §8): ESC starts
CSI/OSC sequences (screen clears, title changes, OSC 52 clipboard writes), C1 controls do the same
on some terminals, and bidi overrides make text read differently from what it is.
"""

from __future__ import annotations

import re

__all__ = ["REPLACEMENT", "clean", "one_line"]

REPLACEMENT = "\N{REPLACEMENT CHARACTER}"

# C0 controls except \t and \n, DEL, C1 controls, and every Unicode Bidi_Control character
# (ALM U+061C, LRM/RLM U+200E/F, embeddings/overrides U+202A-E, isolates U+2066-9).
# \r is dropped from \r\n pairs first (Windows line ends are not hostile), and elsewhere replaced;
# the Unicode line and paragraph separators (U+2028/9) become newlines, as str.splitlines sees them.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CRLF = re.compile("\r\n|[\u2028\u2029]")
# A "zalgo" flood of combining marks stacks over the rows above and below on most terminals:
# runs longer than any script needs are cut (storage keeps them).
MAX_COMBINING = 8
_COMBINING = "\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u0610-\u061a\u064b-\u065f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_COMBINING_FLOOD = re.compile(f"([{_COMBINING}]{{{MAX_COMBINING}}})[{_COMBINING}]+")
_WHITESPACE_RUN = re.compile(r"[\n\t]+")


def clean(s: str | None) -> str:
    """`s` with every control character except newline and tab, and every bidi control,
    replaced by U+FFFD, and floods of combining marks cut to MAX_COMBINING. None becomes ''."""
    if not s:
        return ""
    if not isinstance(s, str):
        s = str(s)
    if s.isascii() and s.isprintable():  # most text: nothing below can match (~4× faster)
        return s
    s = _UNSAFE.sub(REPLACEMENT, _CRLF.sub("\n", s))
    return _COMBINING_FLOOD.sub(r"\1", s)


def one_line(s: str | None, width: int | None = None) -> str:
    """`clean(s)` folded onto one line (newlines and tabs become a space) and cut to `width`
    cells with an ellipsis."""
    text = clean(s)
    if not (text.isascii() and text.isprintable()):  # else no newline or tab to fold
        text = _WHITESPACE_RUN.sub(" ", text)
    text = text.strip()
    if width is not None and width > 0 and len(text) > width:
        text = text[: max(width - 1, 0)].rstrip() + "…"
    return text
