"""Cells shared by the Sessions tabs (pure functions, no widgets)."""

from __future__ import annotations

from rich.text import Text

from ....core import format as fmt
from ....core import sessions as core
from ....core import text

KIND_STYLE = {"json": "green", "hash": "cyan", "text": "yellow", "binary": "magenta", "gone": "dim"}


def ttl_cell(ttl: int | None) -> Text:
    if ttl is None:
        return Text("none", style="yellow")
    if ttl < 0:
        return Text("gone", style="dim")
    style = "red" if ttl < 60 else ("yellow" if ttl < 300 else "")
    return Text(fmt.ttl(ttl), style=style, justify="right")


def size_cell(n: int | None) -> Text:
    return Text(fmt.size(n), justify="right")


def kind_cell(kind: str) -> Text:
    return Text(kind, style=KIND_STYLE.get(kind, "red"))


def short_notebook(path: str | None) -> str:
    return (path or "").rsplit("/", 1)[-1]


def session_cells(r: core.SessionRecord) -> list[object]:
    return [text.plain(r.key), ttl_cell(r.ttl_s), size_cell(r.size_bytes), kind_cell(r.kind),
            text.plain(short_notebook(r.notebook)), text.plain(fmt.short_timestamp(r.last_activity)),
            text.plain(r.summary, "dim" if r.kind == "json" else KIND_STYLE.get(r.kind, ""))]
