"""One table of key meanings, the same on every screen; remappable by binding id.

How to use it
-------------
A screen never writes ``Binding(...)`` itself. It lists the meanings it has::

    BINDINGS = keymap.bindings("diffs", "refresh", "filter", "select", "pause", "tab_next",
                               "tab_prev", "page_next", "page_prev", "diffs.approve", ...)

and implements the matching actions (``action_refresh_now``, ``action_filter`` ...). A
shared meaning (:data:`SHARED`) has one id, one key and one action everywhere, so
``r`` refreshes on every screen and a user's ``[keymap] refresh = "ctrl+r"`` remaps it
everywhere at once (``App.set_keymap``). A screen may give a shared meaning its own
wording (``describe={"refresh": "Re-check"}``) but never another key or action.

The shared meanings
-------------------
``r``/``F5`` refresh · ``/`` filter the list (``Esc`` clears) · ``space`` select the row ·
``p`` pause/resume live updates · ``]``/``[`` next/previous sub-tab · ``>``/``<`` next/previous
page of a paged list · ``enter`` open · ``?`` help · ``q`` quit · ``1``-``6`` screens.
Inside every list (:class:`console.ui.widgets.lists.ListTable` / ``ListTree``):
``up/down``, ``j/k``, ``Home``/``g`` first row, ``End``/``G`` last row, ``PgUp``/``PgDn``.

Mutating actions
----------------
Every action that changes something is ``mutating=True`` and sits on a capital letter
(``A`` approve, ``R`` reject, ``X`` execute, ``F`` apply fixes, ``M`` run maintenance,
``D`` delete, ``E`` expire, ``C`` reconcile diffs or cancel a query, ``K`` terminate a session).
:func:`check` (run by tests/ui/test_keymap.py) proves that no
key of a mutating action means something harmless on another screen, and that every shared
key means the same everywhere. Mutations still ask for confirmation: the key only opens
the preview.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable, Mapping

from textual.binding import Binding, BindingType


@dataclass(frozen=True)
class Meaning:
    id: str
    key: str                    # Textual key string, comma-separated alternatives
    action: str
    description: str            # footer label
    tooltip: str                # help and palette text
    mutating: bool = False
    show: bool = True
    key_display: str | None = None

    def binding(self) -> Binding:
        return Binding(self.key, self.action, self.description, show=self.show, id=self.id,
                       tooltip=self.tooltip, key_display=self.key_display)


SHARED: dict[str, Meaning] = {m.id: m for m in (
    Meaning("refresh", "r,f5", "refresh_now", "Refresh", "Read this screen's data again now",
            key_display="r"),
    Meaning("filter", "slash", "filter", "Filter", "Filter the list (Esc clears)", key_display="/"),
    Meaning("clear_filter", "escape", "clear_filter", "Clear filter", "Clear the filter", show=False),
    Meaning("select", "space", "select", "Select", "Select / unselect the highlighted row"),
    Meaning("pause", "p", "toggle_pause", "Pause", "Pause / resume live updates (the last values stay)"),
    Meaning("tab_next", "right_square_bracket", "tab(1)", "Next tab", "Next sub-tab", key_display="]"),
    Meaning("tab_prev", "left_square_bracket", "tab(-1)", "Prev tab", "Previous sub-tab", key_display="[",
            show=False),
    Meaning("page_next", "greater_than_sign", "page(1)", "Next page", "Next page of the list",
            key_display=">"),
    Meaning("page_prev", "less_than_sign", "page(-1)", "Prev page", "Previous page of the list",
            key_display="<", show=False),
    Meaning("open", "enter", "open", "Open", "Open the highlighted row"),
    Meaning("back", "escape", "app.pop_screen", "Back", "Back to the list"),
    # inside every list (console.ui.widgets.lists)
    Meaning("list.down", "j", "cursor_down", "Down", "Next row", show=False),
    Meaning("list.up", "k", "cursor_up", "Up", "Previous row", show=False),
    Meaning("list.first", "home,g", "first", "First row", "First row", show=False),
    Meaning("list.last", "end,G", "last", "Last row", "Last row", show=False),
    Meaning("list.select", "space", "screen.select", "Select", "Select / unselect the highlighted row"),
)}

APP: dict[str, Meaning] = {m.id: m for m in (
    Meaning("help", "question_mark,f1", "help", "Help", "Every key of this screen", key_display="?"),
    Meaning("quit", "q", "quit", "Quit", "Leave the console"),
    Meaning("context", "ctrl+k", "switch_context", "Context",
            "Switch context: load the configuration again with another [contexts.<name>]", show=False),
)}

# Screen-specific meanings. Ids are "<screen>.<name>".
SCREEN: dict[str, Meaning] = {m.id: m for m in (
    # schema
    Meaning("schema.apply", "F", "apply", "Apply fixes",
            "Preview the selected fixes as DDL, confirm, run them with an audit record", mutating=True),
    # partitions
    Meaning("partitions.maintain", "M", "plan", "Maintenance",
            "Plan maintenance: preview each step's SQL and lock, confirm, run (audited)", mutating=True),
    Meaning("partitions.count", "n", "count", "Exact count",
            "Count the highlighted partition's rows exactly (scans it; asks first)"),
    # metrics
    Meaning("metrics.slower", "plus,equals_sign", "interval(1)", "Slower",
            "Lengthen the refresh interval (1, 2, 5, 10, 15, 30, 60 s)", key_display="+"),
    Meaning("metrics.faster", "minus", "interval(-1)", "Faster", "Shorten the refresh interval",
            key_display="-"),
    Meaning("metrics.range", "t", "next_range", "Range", "InfluxDB time range: 1 h, 6 h, 24 h"),
    # sessions
    Meaning("sessions.sort", "s", "sort", "Sort", "Sort sessions by the next column"),
    Meaning("sessions.order", "o", "order", "Order", "Reverse the sort order"),
    Meaning("sessions.channel", "c", "channel", "Channel", "Show one channel of the live tail (cycles)"),
    Meaning("sessions.clear", "ctrl+l", "clear_tail", "Clear tail", "Clear the live tail"),
    Meaning("sessions.expire", "E", "expire", "Expire",
            "Set a new TTL on the highlighted session (preview, confirm, audited)", mutating=True),
    Meaning("sessions.delete", "D", "delete", "Delete",
            "Delete the highlighted session (preview, typed confirmation, audited)", mutating=True),
    # activity
    Meaning("activity.sort", "s", "sort", "Sort", "Sort the sessions by the next column"),
    Meaning("activity.order", "o", "order", "Order", "Reverse the sort order"),
    Meaning("activity.idle", "i", "hide_idle", "Hide idle", "Hide / show idle sessions"),
    Meaning("activity.min", "m", "min_duration", "Min dur.",
            "Only sessions busy at least 1 s, 5 s, 30 s, 1 min, 5 min (cycles; off)"),
    Meaning("activity.cancel", "C", "cancel", "Cancel query",
            "Cancel the running query of the highlighted or selected sessions (preview, confirm, audited)",
            mutating=True),
    Meaning("activity.terminate", "K", "terminate", "Terminate",
            "Terminate the highlighted or selected sessions (preview, typed pid, audited)", mutating=True),
    # replay (console replay FILE) and recording (the live app)
    Meaning("replay.back", "comma", "replay_step(-1)", "Back", "Replay: one recorded tick back", key_display=","),
    Meaning("replay.forward", "full_stop", "replay_step(1)", "Forward", "Replay: one recorded tick forward",
            key_display="."),
    Meaning("replay.start", "left_curly_bracket", "replay_jump(0)", "Start", "Replay: jump to the first tick",
            key_display="{"),
    Meaning("replay.end", "right_curly_bracket", "replay_jump(-1)", "End", "Replay: jump to the last tick",
            key_display="}"),
    Meaning("replay.play", "semicolon", "replay_play", "Play", "Replay: play / pause at the recorded pace",
            key_display=";"),
    Meaning("record", "ctrl+s", "toggle_recording", "Record",
            "Start / stop recording every Metrics and Activity sample to a local file"),
    # diffs
    Meaning("diffs.approve", "A", "approve", "Approve",
            "Approve the highlighted or selected pending diffs (conditional write, audited)", mutating=True),
    Meaning("diffs.reject", "R", "reject", "Reject",
            "Reject the highlighted or selected pending diffs with a reason (audited)", mutating=True),
    Meaning("diffs.execute", "X", "execute", "Execute",
            "Dry-run, show the SQL and rows per table, then execute approved diffs (audited)",
            mutating=True),
    Meaning("diffs.reconcile", "C", "reconcile", "Reconcile",
            "Settle diffs left in executing from change_history: preview, confirm (audited)", mutating=True),
    Meaning("diffs.sort", "s", "sort", "Sort", "Sort the queue: newest, oldest, code, type"),
    Meaning("diffs.select_all", "a", "select_all", "Select all",
            "Select every diff shown (all that match the filter); again: select none"),
    Meaning("diffs.select_to", "v", "select_to", "Select to here",
            "Select every row from the last one selected with space to the highlighted one"),
)}

ALL: dict[str, Meaning] = {**SHARED, **APP, **SCREEN}


def bindings(*ids: str, describe: Mapping[str, str] | None = None,
             tooltip: Mapping[str, str] | None = None, hide: Iterable[str] = ()) -> list[BindingType]:
    """The Textual bindings of ``ids``, in that order (the footer's order)."""
    out: list[BindingType] = []
    hidden = set(hide)
    for i in ids:
        m = ALL[i]
        if describe and i in describe:
            m = replace(m, description=describe[i])
        if tooltip and i in tooltip:
            m = replace(m, tooltip=tooltip[i])
        if i in hidden:
            m = replace(m, show=False)
        out.append(m.binding())
    return out


def keys_of(meaning_key: str) -> set[str]:
    return {k.strip() for k in meaning_key.split(",") if k.strip()}


def user_keymap(pairs: Iterable[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    """The configured ``[keymap]`` (id -> key string) split into the known ids and the
    complaints about the rest (unknown id, or remapping a harmless meaning onto a key a
    mutating action uses)."""
    known: dict[str, str] = {}
    problems: list[str] = []
    mutating_keys = {k for m in ALL.values() if m.mutating for k in keys_of(m.key)}
    for ident, key in pairs:
        m = ALL.get(ident)
        if m is None:
            problems.append(f"[keymap] {ident}: no such key binding (see README: Keys)")
            continue
        new = keys_of(key)
        if not m.mutating and new & mutating_keys:
            problems.append(f"[keymap] {ident}: {key} is the key of a mutating action; not remapped")
            continue
        known[ident] = key
    return known, problems


def check(screens: Mapping[str, Iterable[BindingType]]) -> list[str]:
    """Problems with the bindings of ``screens`` (name -> bindings): a shared id with
    another key or action than the table, a binding without an id from the table, a key
    that mutates on one screen and is harmless on another."""
    problems: list[str] = []
    harmless: dict[str, set[str]] = {}
    mutating: dict[str, set[str]] = {}
    for name, binds in screens.items():
        for b in binds:
            if not isinstance(b, Binding):
                problems.append(f"{name}: a binding that is not a Binding: {b!r}")
                continue
            m = ALL.get(b.id or "")
            if m is None:
                problems.append(f"{name}: binding {b.key}->{b.action} has no id from keymap.py")
                continue
            if keys_of(b.key) != keys_of(m.key) or b.action != m.action:
                problems.append(f"{name}: {m.id} is {b.key}->{b.action}, the table says {m.key}->{m.action}")
            target = mutating if m.mutating else harmless
            for k in keys_of(b.key):
                target.setdefault(k, set()).add(name)
    for k in set(harmless) & set(mutating):
        problems.append(f"key {k} mutates on {sorted(mutating[k])} but is harmless on {sorted(harmless[k])}")
    return problems
