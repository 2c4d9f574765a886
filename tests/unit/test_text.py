"""console.core.text: the one rule for untrusted text."""

from __future__ import annotations

import re

from hypothesis import example, given, strategies as st
from rich.console import Console
from rich.text import Text

from console.core import text

# Any byte sequence that could reach a terminal and act on it.
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def test_controls_become_visible():
    assert text.visible("\x1b]0;pwned\x07name") == "␛]0;pwned␇name"
    assert text.visible("a\x1b[2Jb") == "a␛[2Jb"
    assert text.visible("x\x00y\r\n") == "x␀y␍␊"
    assert text.visible("\x85") == "\\x85"
    assert text.visible("abc\u202edef") == "abc<U+202E>def"
    assert text.visible("a\u200bb\ufeff") == "a<U+200B>b<U+FEFF>"
    assert text.visible("a\x7f") == "a␡"


def test_newlines_kept_only_when_asked():
    assert text.visible("a\nb\tc", newlines=True) == "a\nb\tc"
    assert text.visible("a\nb\tc") == "a␊b␉c"


def test_bytes_and_surrogates():
    assert text.visible(b"session:\xff\xfe") == "session:\\xff\\xfe"
    assert text.visible(b"ok") == "ok"
    assert text.visible(b"\xe6\x9d\xb1") == "東"
    assert text.visible(None) == ""
    assert text.visible(42) == "42"


def test_japanese_and_kana_pass_unchanged():
    s = "東京営業部 ﾄｳｷﾖｳ （株）"
    assert text.visible(s) == s


def test_markup_is_never_parsed():
    t = text.plain("[/bold]閉じ [red]x[/red]")
    assert isinstance(t, Text)
    assert t.plain == "[/bold]閉じ [red]x[/red]"
    assert text.markup("[/]") == "\\[/]"
    assert Text.from_markup(text.markup("diff-[/]")).plain == "diff-[/]"
    # rich: a trailing backslash must not escape the markup that follows
    for v in ("[A]", "x\\[b]y", "a\\", "[b]x[/b]", "\\\\[/]"):
        assert Text.from_markup("[b]" + text.markup(v) + "[/b]").plain == v, v
    # Textual reads [A] as a tag too (rich's own escape leaves it); its backslash rules differ
    # from rich's, so Textual widgets get plain() Text, never markup() strings.
    from textual.markup import to_content
    for v in ("[A]", "[b]x[/b]", "diff-[/]"):
        assert to_content("[b]" + text.markup(v) + "[/b]").plain == v, v


def test_cut_counts_cells_and_marks_the_cut():
    assert text.cut("abcdef", 4) == "abc…"
    assert text.cut("abc", 4) == "abc"
    assert text.cut("東京都庁", 5) == "東京…"
    assert text.cut("x", 0) == ""


def test_error_text_is_one_line():
    assert text.error_text(RuntimeError("line1\nline2\x1b[2J")) == "line1 | line2␛[2J"


@given(st.one_of(st.text(), st.binary()))
@example(b"\\[")          # a backslash before a bracket that opens no tag (found by hypothesis in CI)
@example("\\[b]x\\\\[y")
def test_no_raw_control_reaches_a_terminal(value):
    out = text.visible(value)
    assert not RAW_CONTROL.search(out)
    console = Console(file=None, force_terminal=True, width=200, color_system=None, record=True)
    with console.capture() as cap:
        console.print(text.plain(value))
    assert "\x1b]" not in cap.get()
    # markup() survives a markup parser and reads back exactly, before more markup too.
    assert Text.from_markup("[b]" + text.markup(value) + "[/b]").plain == out


@given(st.text(max_size=60), st.integers(min_value=1, max_value=50))
def test_cut_never_exceeds_its_width_and_keeps_a_prefix(value, width):
    from rich.cells import cell_len
    out = text.cut(value, width)
    shown = text.visible(value)
    assert cell_len(out) <= width
    if cell_len(shown) <= width:
        assert out == shown
    else:
        assert out.endswith("…") and shown.startswith(out[:-1])
        assert cell_len(out) >= width - 2      # at most one wide character short of the width


@given(st.text(min_size=0, max_size=30), st.text(alphabet="a\u0301\u200b東\x1b", min_size=200, max_size=400),
       st.integers(min_value=1, max_value=20))
def test_cut_of_a_long_string_shows_its_start_and_says_it_was_cut(start, rest, width):
    from rich.cells import cell_len
    value = start + rest
    out = text.cut(value, width)
    assert cell_len(out) <= width
    assert out.endswith("…")                          # something was left out, and it says so
    assert text.visible(value).startswith(out[:-1])
