"""Byte-exact Redis keys (core.sessions.keys): every byte string survives shown -> typed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.core.sessions import keys as K
from console.core.text import has_hidden, visible


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_escaped_form_is_visible_and_parses_back_to_the_same_bytes(raw):
    shown = K.escaped(raw)
    assert not has_hidden(shown), shown          # safe on a terminal as it is
    assert visible(shown) == shown
    assert K.parse(shown) == raw
    assert K.to_bytes(K.to_str(raw)) == raw       # the str the records carry is byte-exact


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_any_text_key_round_trips(text):
    raw = text.encode("utf-8", "surrogatepass") if any(0xD800 <= ord(c) <= 0xDFFF for c in text) \
        else text.encode()
    assert K.parse(K.escaped(raw)) == raw


def test_examples():
    assert K.escaped(b"session:alice") == "session:alice"
    assert K.escaped(b"session:\xff\x00") == "session:\\xff\\x00"
    assert K.escaped("session:a\nb") == "session:a\\x0ab"
    assert K.escaped("session:\u202eevil") == "session:\\xe2\\x80\\xaeevil"
    assert K.escaped("session:田中") == "session:田中"
    assert K.escaped("session:a\\b") == "session:a\\\\b"
    assert K.parse("session:\\xff\\x00") == b"session:\xff\x00"
    assert K.parse("session:a\\nb\\t\\r\\0\\\\") == b"session:a\nb\t\r\x00\\"
    # raw bytes from a command line arrive as surrogate escapes and are kept
    assert K.parse(b"session:\xfe".decode("utf-8", "surrogateescape")) == b"session:\xfe"
    assert K.from_hex("73 65:73") == b"ses"
    assert K.as_json(b"session:\xff") == {"key": "session:\\xff", "key_hex": "73657373696f6e3aff",
                                          "key_utf8": False}
    assert K.as_json("session:\x00")["key"] == "session:\x00"


@pytest.mark.parametrize("bad", ["session:\\q", "session:\\x4", "session:\\xzz", "session:\\"])
def test_bad_escapes_are_refused(bad):
    with pytest.raises(K.KeySyntaxError):
        K.parse(bad)
    with pytest.raises(K.KeySyntaxError):
        K.from_hex("abc")
