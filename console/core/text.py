"""Untrusted text -> safe plain text. The one place that decides how data reaches a terminal.

Everything that comes from a backend (keys, values, names, ids, identifiers, server error
messages, pub/sub payloads) is data, never markup and never a terminal command:

- :func:`visible` makes every character that could steer or hide itself visible: C0 controls
  as control pictures (ESC -> ``␛``, BEL -> ``␇``, NUL -> ``␀``, newline -> ``␊`` unless
  ``newlines=True``), DEL as ``␡``, C1 controls as ``\\x85``, bidi controls, zero-width and
  other invisible format characters as ``<U+202E>``, bytes that are not UTF-8 (surrogate
  escapes) as ``\\xff``;
- :func:`plain` wraps that in a ``rich.text.Text`` (never parsed as markup) for widgets;
- :func:`markup` escapes it for the few APIs that insist on a markup string;
- :func:`cut` shortens to a number of terminal cells with an ellipsis.

``--json`` output does not go through here: JSON escapes are already exact and safe.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from rich.cells import cell_len
from rich.markup import RE_TAGS
from rich.text import Text

ELLIPSIS = "…"

# Characters that reorder or hide text without being "controls" by category alone.
_BIDI = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}
_INVISIBLE = {0x00AD, 0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, *range(0x200B, 0x200E),
              0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0x3164, 0xFEFF, 0xFFA0,
              *range(0xFFF9, 0xFFFC), *range(0xFE00, 0xFE10)}


@lru_cache(maxsize=4096)
def _char(ch: str, newlines: bool) -> str:
    o = ord(ch)
    if o < 0x20:
        if newlines and ch in "\n\t":
            return ch
        return chr(0x2400 + o)            # control pictures: ␀ … ␟
    if o == 0x7F:
        return "\u2421"                   # ␡
    if 0x80 <= o <= 0x9F:
        return f"\\x{o:02x}"
    if 0xDC80 <= o <= 0xDCFF:             # surrogateescape of a non-UTF-8 byte
        return f"\\x{o - 0xDC00:02x}"
    if o in _BIDI or o in _INVISIBLE:
        return f"<U+{o:04X}>"
    cat = unicodedata.category(ch)
    if cat in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
        return f"<U+{o:04X}>"
    return ch


def _is_plain_ascii(s: str) -> bool:
    return s.isascii() and s.isprintable()


def visible(value: object, *, newlines: bool = False) -> str:
    """``value`` as a string with every control, bidi, zero-width and undecodable character
    made visible. ``bytes`` are decoded as UTF-8, undecodable bytes shown as ``\\xNN``.
    ``None`` is the empty string. With ``newlines=True`` newline and tab are kept (for
    multi-line panes); otherwise they are shown as ``␊`` and ``␉``."""
    if value is None:
        return ""
    if isinstance(value, (bytes, bytearray, memoryview)):
        s = bytes(value).decode("utf-8", "surrogateescape")
    else:
        s = value if isinstance(value, str) else str(value)
    if _is_plain_ascii(s):
        return s
    return "".join(_char(ch, newlines) for ch in s)


def cut(value: object, width: int, *, newlines: bool = False) -> str:
    """:func:`visible`, shortened to at most ``width`` terminal cells, ending in ``…`` when cut.
    A long string is made visible only as far as it can be shown (a 100 kB query in a
    40-cell column costs what its first cells cost)."""
    if width <= 0:
        return ""
    limit = 4 * width + 64
    if isinstance(value, str) and len(value) > limit:
        head = cut(value[:limit], width, newlines=newlines)
        if head.endswith(ELLIPSIS):
            return head
        return cut(head, width - 1, newlines=newlines) + ELLIPSIS if cell_len(head) >= width else head + ELLIPSIS
    s = visible(value, newlines=newlines)
    if s.isascii() and not newlines:      # visible ASCII: one cell a character
        return s if len(s) <= width else s[:width - 1] + ELLIPSIS
    if cell_len(s) <= width:
        return s
    out: list[str] = []
    used = 0
    for ch in s:
        w = cell_len(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + ELLIPSIS


def plain(value: object, style: str = "", *, newlines: bool = False, width: int | None = None) -> Text:
    """A ``rich.text.Text`` of :func:`visible` (or :func:`cut` when ``width`` is given):
    plain text, never parsed as markup, safe in any widget, table cell or dialog."""
    s = cut(value, width, newlines=newlines) if width is not None else visible(value, newlines=newlines)
    return Text(s, style=style, no_wrap=not newlines)


_BRACKET = re.compile(r"(\\*)\[")
_TRAILING = re.compile(r"(\\+)$")


def markup(value: object, *, newlines: bool = False) -> str:
    """:func:`visible`, escaped for rich's markup (``rich.print``, ``Text.from_markup``): no
    ``[`` can open a tag — every one, not only the tag-like ones
    rich's own ``escape`` handles (Textual reads ``[A]`` as a tag too) — and backslashes before
    a ``[`` or at the end are doubled, so the fragment is safe to put before more markup
    (``f"[b]{markup(x)}[/b]"``). Textual's markup treats backslashes differently: in Textual
    widgets use :func:`plain` (a ``Text``), or ``markup=False``, never a markup string."""
    s = visible(value, newlines=newlines)
    return _TRAILING.sub(lambda m: m.group(1) * 2, _BRACKET.sub(lambda m: _escaped(m, s), s))


def _escaped(m: re.Match[str], s: str) -> str:
    """``k`` backslashes and a ``[`` of the value, as rich's markup reads them back.

    Rich reads a ``[`` that opens something tag-like (``[b]``, ``[/x]``, ``[@click=…]``) with
    the backslashes before it in pairs (each pair one literal backslash, an odd one escapes
    the tag), but in any other place it only turns each ``\\[`` into ``[`` and keeps other
    backslashes as they are. So the first needs ``2k + 1`` backslashes, the second ``k + 1``.
    Which one it is is asked of rich's own tag pattern, on the text after the bracket (a
    bracket at the very end is followed by more markup, which starts with ``[``: not a tag)."""
    k = len(m.group(1))
    if RE_TAGS.match(s, m.end() - 1):
        return "\\" * (2 * k + 1) + "["
    return "\\" * (k + 1) + "["


def has_hidden(value: object) -> bool:
    """True when :func:`visible` would change ``value`` (controls, bidi, zero-width...)."""
    if value is None:
        return False
    s = value if isinstance(value, str) else str(value)
    return visible(s, newlines=False) != s


def error_text(exc: BaseException) -> str:
    """One line for an error from a backend: its type and message, made visible (server
    messages carry data: names, keys, values)."""
    msg = str(exc) or type(exc).__name__
    return visible(msg.strip().replace("\r\n", "\n").replace("\n", " | "))
