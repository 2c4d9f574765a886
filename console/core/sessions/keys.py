"""Byte-exact Redis keys.

A Redis key is bytes. The console carries it as a ``str`` decoded with
``surrogateescape`` (every byte string maps to exactly one such ``str`` and back, so a key
that is not UTF-8, or holds NUL or a newline, survives the trip from SCAN to DEL), and
turns it back into bytes (:func:`to_bytes`) for every Redis command. redis-py's own
encoder is strict and would fail on such a ``str``: never hand it one.

Three forms reach a person:

- shown: :func:`escaped` — printable text kept, a backslash doubled, every other byte
  (controls, bidi and zero-width characters, bytes that are not UTF-8) as ``\\xNN``. It is
  safe on a terminal and it is what ``sessions delete/expire KEY`` accepts back;
- typed: :func:`parse` — the escaped form (``\\xNN``, ``\\\\``, ``\\n``, ``\\r``, ``\\t``,
  ``\\0``; any other backslash is a usage error) or raw bytes from the command line;
- hex: :func:`from_hex` / ``key.hex()`` for ``--hex`` and ``--json``.
"""

from __future__ import annotations

from typing import Any

from ..text import visible


class KeySyntaxError(ValueError):
    """A typed key that is not a valid escaped form."""


def to_bytes(key: bytes | bytearray | memoryview | str) -> bytes:
    """The key's exact bytes (a ``str`` is encoded with ``surrogateescape``)."""
    if isinstance(key, (bytes, bytearray, memoryview)):
        return bytes(key)
    return str(key).encode("utf-8", "surrogateescape")


def to_str(key: bytes | bytearray | memoryview | str) -> str:
    """The byte-exact ``str`` form (``surrogateescape``) the records carry."""
    if isinstance(key, str):
        return key
    return bytes(key).decode("utf-8", "surrogateescape")


def is_utf8(key: bytes | str) -> bool:
    try:
        to_bytes(key).decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _plain_char(ch: str) -> bool:
    """A character that shows as itself: printable and not an invisible or reordering one
    (what core.text.visible leaves alone)."""
    if ch == "\\":
        return False
    return ch.isprintable() and (ch.isascii() or visible(ch) == ch)


def escaped(key: bytes | str) -> str:
    """Printable characters kept, ``\\`` doubled, every other byte ``\\xNN``: safe to print,
    and :func:`parse` gives the same bytes back."""
    s = to_str(key)
    if s.isascii() and s.isprintable() and "\\" not in s:
        return s
    out: list[str] = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif 0xDC80 <= ord(ch) <= 0xDCFF or not _plain_char(ch):
            out.append("".join(f"\\x{b:02x}" for b in ch.encode("utf-8", "surrogateescape")))
        else:
            out.append(ch)
    return "".join(out)


_SIMPLE = {"\\": b"\\", "n": b"\n", "r": b"\r", "t": b"\t", "0": b"\x00"}


def parse(typed: str) -> bytes:
    """The bytes of a typed key: backslash escapes (``\\xNN``, ``\\\\``, ``\\n``, ``\\r``,
    ``\\t``, ``\\0``) are decoded, anything else is taken as is (raw bytes from the
    command line arrive as surrogate escapes and are kept exactly). Raises
    KeySyntaxError for any other backslash sequence (write ``\\\\`` for a backslash)."""
    out = bytearray()
    i, n = 0, len(typed)
    while i < n:
        ch = typed[i]
        if ch != "\\":
            j = typed.find("\\", i)
            j = n if j < 0 else j
            out += typed[i:j].encode("utf-8", "surrogateescape")
            i = j
            continue
        nxt = typed[i + 1] if i + 1 < n else ""
        if nxt in _SIMPLE and nxt:
            out += _SIMPLE[nxt]
            i += 2
        elif nxt == "x":
            hx = typed[i + 2:i + 4]
            if len(hx) != 2 or any(c not in "0123456789abcdefABCDEF" for c in hx):
                raise KeySyntaxError(f"bad escape at position {i}: \\x needs two hex digits")
            out.append(int(hx, 16))
            i += 4
        else:
            raise KeySyntaxError(f"bad escape at position {i}: use \\\\ for a backslash, \\xNN for a byte")
    return bytes(out)


def from_hex(text: str) -> bytes:
    """``--hex 73657373696f6e3a…`` (spaces and colons allowed between bytes)."""
    cleaned = "".join(c for c in text if c not in " :")
    try:
        return bytes.fromhex(cleaned)
    except ValueError:
        raise KeySyntaxError("--hex needs an even number of hex digits") from None


def as_json(key: bytes | str) -> dict[str, Any]:
    """What ``--json`` says about a key: ``key`` exact when it is UTF-8 (JSON escapes any
    control character), else its escaped form; ``key_hex`` always; ``key_utf8``."""
    b = to_bytes(key)
    utf8 = is_utf8(b)
    return {"key": b.decode("utf-8") if utf8 else escaped(b), "key_hex": b.hex(), "key_utf8": utf8}


def json_safe(text: str | None) -> str | None:
    """``text`` unchanged when it is valid UTF-8 (JSON escapes the rest), else its escaped
    form: a surrogate escape would make the JSON unwritable."""
    if text is None or is_utf8(text):
        return text
    return escaped(text)
