"""LinePane (console/ui/widgets/linepane.py) draws what a Static draws for the same text,
and repaints only the screen lines that changed."""

from __future__ import annotations

import asyncio
import random

from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from console.ui.widgets.linepane import LinePane

WORDS = ["pid", "4120", "idle in transaction", "Lock:transactionid", "SELECT", "\u5168\u9280", "x" * 70,
         "UPDATE meta.sessions SET status = 'closed'", "", "  ", "\u2502", "\\x1b[2J"]
STYLES = ["", "bold", "dim", "red", "bold reverse", "bold red"]


def _text(rng: random.Random, lines: int) -> Text:
    t = Text()
    for i in range(lines):
        for _ in range(rng.randint(0, 6)):
            t.append(rng.choice(WORDS) + rng.choice([" ", "", "  "]), style=rng.choice(STYLES))
        if i < lines - 1 or rng.random() < 0.2:
            t.append("\n")
    return t


class Pair(App[None]):
    CSS = """
    VerticalScroll { width: 1fr; height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        with Horizontal():
            with VerticalScroll(id="a"):
                yield LinePane("", id="pane")
            with VerticalScroll(id="b"):
                yield Static("", id="static")


def _lines(widget) -> list:
    return [list(widget.render_line(y)) for y in range(widget.size.height)]


def test_a_line_pane_draws_what_a_static_draws_and_repaints_only_changed_lines():
    async def go() -> None:
        app = Pair()
        async with app.run_test(size=(120, 40)) as pilot:
            pane, static = app.query_one("#pane", LinePane), app.query_one("#static", Static)
            rng = random.Random(5)
            partial = 0
            text = _text(rng, 8)
            for step in range(120):
                if step % 3 and text.plain:
                    # one logical line changed, the others kept: the common tick of a detail pane
                    parts = text.split("\n", allow_blank=True)
                    i = rng.randrange(len(parts))
                    parts[i] = Text(parts[i].plain[:-2] + rng.choice(["1s", "2s", "9s"]), style=rng.choice(STYLES))
                    text = Text("\n").join(parts)
                else:
                    text = _text(rng, rng.randint(0, 14))
                before, shown = pane.size, _lines(pane)
                pane.set_text(text)
                top = pane.content_offset.y
                dirty = {y - top for r in pane._dirty_regions for y in range(r.y, r.y + r.height)}
                if pane.size == before and pane._dirty_regions and len(dirty) < pane.size.height:
                    partial += 1
                    # every line that now reads differently is repainted (the others may not be)
                    assert {y for y, (a, b) in enumerate(zip(shown, _lines(pane))) if a != b} <= dirty, step
                static.update(text)
                await pilot.pause()
                await pilot.pause()
                assert pane.size == static.size, step
                assert _lines(pane) == _lines(static), step
            await pilot.resize_terminal(70, 30)
            await pilot.pause()
            await pilot.pause()
            assert _lines(pane) == _lines(static)
            assert partial > 30, partial              # most one-line changes did repaint partially

    asyncio.run(go())


def test_one_changed_line_marks_only_that_line_dirty():
    async def go() -> None:
        app = Pair()
        async with app.run_test(size=(120, 40)) as pilot:
            pane = app.query_one("#pane", LinePane)
            pane.set_text(Text("pid 4120 on lambda\nxact 48s  query 12s\nquery:\nSELECT 1"))
            await pilot.pause()
            await pilot.pause()
            assert pane.size.height == 4 and not pane._dirty_regions
            pane.set_text(Text("pid 4120 on lambda\nxact 50s  query 14s\nquery:\nSELECT 1"))
            assert {(r.y - pane.content_offset.y, r.height) for r in pane._dirty_regions} == {(1, 1)}
            await pilot.pause()
            assert "xact 50s" in pane.render_line(1).text
            pane.set_text(Text("pid 4120 on lambda\nxact 50s  query 14s\nquery:\nSELECT 1"))
            assert not pane._dirty_regions                       # the same text: nothing to repaint
            pane.set_text(Text("pid 4120 on lambda\nxact 50s  query 14s\nquery:\nSELECT 1\nmore"))
            await pilot.pause()
            await pilot.pause()
            assert pane.size.height == 5 and "more" in pane.render_line(4).text   # a new line: laid out again

    asyncio.run(go())


def test_the_one_line_path_makes_what_textual_makes():
    """A line that fits takes LinePane's short path (no wrapping machinery); its strips are
    the ones Visual.to_strips gives the same line, offsets and links included."""
    from rich.style import Style
    from textual.visual import Visual, visualize

    from console.ui.widgets.linepane import _at_line

    styles = [*STYLES, "link https://example.invalid", "underline green on black", "italic #ff8800",
              Style.from_meta({"@click": "app.bell"})]      # an action link: drawn in the link style
    words = [*WORDS, "caf\u00e9", "\u5168\u9280\u30b7\u30b9\u30c6\u30e0", "x", "   "]

    async def go() -> None:
        app = Pair()
        async with app.run_test(size=(120, 40)) as pilot:
            pane = app.query_one("#pane", LinePane)
            pane.set_text(Text("x"))
            await pilot.pause()
            rng = random.Random(11)
            style = pane.visual_style
            short = 0
            for _ in range(400):
                line = Text()
                for _ in range(rng.randint(0, 7)):
                    line.append(rng.choice(words) + rng.choice([" ", "", "  "]), style=rng.choice(styles))
                width = rng.choice([line.cell_len, line.cell_len + 1, line.cell_len - 1, 20, 60])
                width = max(1, width)
                y = rng.randrange(6)
                got = pane._one_line(line, y, width, style)
                if line.cell_len <= width:
                    assert got is not None, line.plain      # every line that fits takes it
                    short += 1
                if got is not None:
                    want = _at_line(Visual.to_strips(pane, visualize(pane, line, markup=False), width, None, style), y)
                    assert got == want, (line.plain, width)
                    assert [list(s) for s in got] == [list(s) for s in want]
            assert short > 200, short

    asyncio.run(go())
