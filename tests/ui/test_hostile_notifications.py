"""Hostile text in every notification, toast and dialog: Rich/Textual markup, OSC 52
(clipboard) and OSC 0 (title) sequences, a screen clear, C1 controls, bidi overrides,
zero-width characters and a 10 kB line reach the person as visible plain text, never as
markup, never as a terminal command, and never crash the app.

Every notification goes through ``ConsoleApp.notify`` (a static check below fails for code
that would post one another way); the flows that put backend data into a notification or a
dialog (a Redis key and a server error on delete / expire, a diff outcome, a signal result,
a partition run, schema fixes, a dying worker) are driven through Pilot with fakes that
return the hostile strings."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input
from textual.widgets._toast import Toast

import console
from console.backends.base import BackendError, ErrorKind
from console.core import sessions as core
from console.core.zengin.batch import BatchPlan, BatchResult, Item
from console.core.zengin.workflow import Outcome
from console.ui.app import ConsoleApp

from . import fakes, fakes_diffs, fakes_sessions
from .conftest import settled, wait_for

CORPUS = {
    "markup": "[b]x[/b] [link=https://e.x]y[/link] [/] [@click=app.quit]z[/]",
    "osc52": "\x1b]52;c;ZXZpbA==\x07",
    "osc0": "\x1b]0;pwned\x07",
    "clear": "\x1b[2J\x1b[H",
    "c1": "a\x9b31mb\x85c\x9d",
    "bidi": "abc\u202edcba\u2066",
    "zero-width": "a\u200bb\u200dc\ufeffd",
    "c0": "n\x00b\x07r\rd\x7f",
    "long": "L" * 10_000,
}

# What may never reach the terminal as a raw character.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")

# The visible form each one must show instead (a fragment short enough not to wrap).
SHOWN = {
    "markup": "[b]x[/b]",
    "osc52": "␛]52;c;",
    "osc0": "␛]0;pwned␇",
    "clear": "␛[2J",
    "c1": "\\x9b31m",
    "bidi": "<U+202E>",
    "zero-width": "<U+200B>",
    "c0": "␀",
    "long": "LLLLLLLLLL",
}


def _text(app) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def _toasts(app) -> str:
    return "\n".join(str(t.render()) for t in app.screen.query(Toast))


def _assert_safe(app, *expected: str) -> None:
    shown, toasts, svg = _text(app), _toasts(app), app.export_screenshot()
    for where, s in (("screen", shown), ("toasts", toasts), ("svg", svg)):
        bad = RAW.search(s)
        assert bad is None, f"raw {bad.group(0)!r} in the {where}: {s[max(0, bad.start() - 80):bad.end() + 40]!r}"
    for e in expected:
        assert e in toasts or e in shown, f"{e!r} not shown:\n{toasts}\n---\n" + "\n".join(ln.strip() for ln in shown.splitlines() if ln.strip())


@pytest.mark.parametrize("name", list(CORPUS))
async def test_notify_shows_hostile_text_as_text(name):
    """App.notify and a widget's notify (which Textual calls with markup=True) alike."""
    hostile = CORPUS[name]
    app = ConsoleApp(fakes.overview_services())
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await settled(pilot)
        app.notify(hostile, title=hostile, severity="error")
        app.screen.notify(f"widget: {hostile}", title=f"t {hostile}", markup=True)
        await wait_for(pilot, lambda: len(app.screen.query(Toast)) == 2, "two toasts")
        _assert_safe(app, SHOWN[name], "widget: ")
        assert app.is_running


# --------------------------------------------------------------------------- flows

HOSTILE = "".join(CORPUS[k] for k in ("markup", "osc52", "clear", "c1", "bidi", "zero-width"))
KEY = f"session:{CORPUS['osc0']}{CORPUS['markup']}"


class HostileSessions(fakes_sessions.FakeSessions):
    """One session key with a hostile name; its preview, delete and expire answer with
    hostile text (delete fails with a hostile server error)."""

    def __init__(self):
        super().__init__(records=[core.SessionRecord(KEY, 600, 10, "text", summary=HOSTILE)])

    def preview(self, key):
        return core.KeyPreview(key, True, "string", 600, 10, f"value: {HOSTILE}")

    def delete(self, key, actor):
        raise BackendError("redis", ErrorKind.ERROR, f"server says: {HOSTILE}")

    def expire(self, key, seconds, actor):
        return core.ActionResult("sessions.expire", key, True, f"TTL set: {HOSTILE}", 8)


async def _sessions_app(pilot_size=(160, 45)):
    fake = HostileSessions()
    return ConsoleApp(fakes_sessions.sessions_services(fake), initial_mode="sessions"), fake


async def test_session_delete_dialog_and_error_toast_are_plain():
    app, fake = await _sessions_app()
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await settled(pilot)
        screen = app.screen
        table = screen.query_one("#sessions-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == 1, "the hostile key listed")
        table.focus()
        await pilot.press("home", "D")
        await wait_for(pilot, lambda: app.screen is not screen, "the delete dialog")
        _assert_safe(app, "␛]0;pwned␇", "[b]x[/b]", "value: [b]x[/b]")
        typed = app.screen.query_one("#confirm-typed", Input)
        # The person types what the dialog shows: the key's escaped form (core.sessions.escaped),
        # never a raw escape sequence they could not type.
        shown_key = core.keys.escaped(KEY)
        assert RAW.search(shown_key) is None and shown_key in _text(app)
        typed.value = shown_key
        await wait_for(pilot, lambda: not app.screen.query_one("#confirm").disabled, "confirm enabled")
        await pilot.click("#confirm")
        await wait_for(pilot, lambda: app.screen is screen and len(screen.query(Toast)) >= 1, "the error toast")
        await wait_for(pilot, lambda: "server says" in _toasts(app), "the server error in the toast")
        _assert_safe(app, "server says: [b]x[/b]", "␛]52;c;")
        assert app.is_running


async def test_session_expire_prompt_and_result_toast_are_plain():
    app, fake = await _sessions_app()
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await settled(pilot)
        screen = app.screen
        table = screen.query_one("#sessions-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == 1, "the hostile key listed")
        table.focus()
        await pilot.press("home", "E")
        await wait_for(pilot, lambda: app.screen is not screen, "the TTL prompt")
        _assert_safe(app, "␛]0;pwned␇")
        await pilot.click("#ttl-ok")
        await wait_for(pilot, lambda: app.screen is not screen and app.screen.query("#confirm"), "the preview")
        _assert_safe(app, "␛]0;pwned␇", "value: [b]x[/b]")
        await pilot.click("#confirm")
        await wait_for(pilot, lambda: "TTL set" in _toasts(app), "the result toast")
        _assert_safe(app, "TTL set: [b]x[/b]")


class HostileDiffs(fakes_diffs.FakeDiffs):
    """Every diff id carries a title sequence and markup; the batch answers with a hostile
    server error for each diff."""

    def __init__(self, *, plan_error: bool = False):
        super().__init__()
        self.recs = {k: dataclasses.replace(r, id=f"d{CORPUS['osc0']}[b]x[/b]{r.id}") for k, r in self.recs.items()}
        self.plan_error = plan_error

    def plan(self, action, refs, actor, allow_stale=False):
        if self.plan_error:
            raise BackendError("dynamodb", ErrorKind.ERROR, f"plan: {HOSTILE}")
        recs = [r for r in self.recs.values() if any(x.id == r.id for x in refs or [])]
        return BatchPlan(action, [Item(r, (r.entry,) if r.entry else (), 0) for r in recs], [])

    def approve_many(self, refs, actor, *, allow_stale=False, progress=None):
        p = self.plan("approve", refs, actor)
        return BatchResult(p, [Outcome(i.ref, "diffs.approve", "failed", f"{i.rec.id}: server says: {HOSTILE}")
                               for i in p.items])


@pytest.mark.parametrize("plan_error", [False, True], ids=["outcome", "plan-error"])
async def test_diff_approve_dialog_and_outcome_toast_are_plain(plan_error):
    fake = HostileDiffs(plan_error=plan_error)
    app = ConsoleApp(fakes_diffs.diffs_services(fake), initial_mode="diffs")
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await settled(pilot)
        screen = app.screen
        await wait_for(pilot, lambda: screen.actor is not None, "the actor resolved")
        await pilot.press("A")
        if plan_error:
            await wait_for(pilot, lambda: "could not plan" in _toasts(app), "the plan error toast")
            _assert_safe(app, "plan: [b]x[/b]", "␛]52;c;")
            return
        await wait_for(pilot, lambda: app.screen is not screen and "Approve" in _text(app), "the approve dialog")
        _assert_safe(app, "Approve 1 diff(s)?")          # the plan's preview counts, names no id
        await pilot.press("tab", "enter")
        await wait_for(pilot, lambda: "server says" in _toasts(app), "the outcome toast")
        _assert_safe(app, "server says: [b]x[/b]")
        assert app.is_running


async def test_a_dying_worker_is_said_as_plain_text():
    """App.on_worker_state_changed: the error of a worker that died reaches a toast."""
    app = ConsoleApp(fakes.overview_services())
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await settled(pilot)

        def boom():
            raise RuntimeError(f"worker: {HOSTILE}")
        app.run_worker(boom, thread=True, exit_on_error=False)
        await wait_for(pilot, lambda: "Background task failed" in _toasts(app), "the worker error toast")
        _assert_safe(app, "worker: [b]x[/b]", "␛[2J")
        assert app.is_running


async def test_live_tail_shows_hostile_pubsub_messages_as_text():
    """A pub/sub message carrying markup and terminal sequences in the Sessions live tail."""
    from datetime import datetime, timezone

    class Tail(HostileSessions):
        def tail(self, stop, keyevents):
            yield core.TailMessage("session_events", f"tail: {HOSTILE}", datetime(2026, 11, 22, tzinfo=timezone.utc), 1)

    app = ConsoleApp(fakes_sessions.sessions_services(Tail()), initial_mode="sessions")
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await settled(pilot)
        screen = app.screen
        await pilot.press("right_square_bracket", "right_square_bracket", "right_square_bracket")
        await wait_for(pilot, lambda: any(m.data.startswith("tail:") for m in screen.tail.messages), "the message")
        await wait_for(pilot, lambda: "tail: [b]x[/b]" in _text(app), "the message shown")
        _assert_safe(app, "tail: [b]x[/b]", "␛]52;c;")


@pytest.mark.parametrize("fail", [False, True], ids=["result", "error"])
async def test_activity_signal_dialog_and_result_toast_are_plain(fail):
    """Cancel a session whose application_name and query are hostile: the dialog, and the
    result (or the server's error) in the toast, are text."""
    from console.core.activity import SignalResult

    from . import fakes_activity

    class Port(fakes_activity.FakeActivity):
        def signal(self, plan):
            if fail:
                raise BackendError("lambda", ErrorKind.ERROR, f"signal: {HOSTILE}")
            return [SignalResult(s.pid, plan.kind, True, "ok", f"cancelled: {HOSTILE}", True, 1) for s in plan.sessions]

    bad = fakes_activity.b(6666, "evil", f"app{CORPUS['osc0']}[b]x[/b]", "active", f"SELECT '{HOSTILE}'", age=10.0)
    app = ConsoleApp(fakes_activity.activity_services(Port(extra=(bad,))), initial_mode="activity")
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: "lambda:6666" in screen.visible_rows, "the hostile session listed")
        screen.query_one("#activity-table").move_cursor(row=list(screen.visible_rows).index("lambda:6666"))
        await pilot.press("C")
        await wait_for(pilot, lambda: app.screen is not screen and "pg_cancel_backend" in _text(app), "the dialog")
        _assert_safe(app, "6666")
        await pilot.click("#confirm")
        want = "signal: [b]x[/b]" if fail else "cancelled: [b]x[/b]"
        await wait_for(pilot, lambda: want in _toasts(app), "the toast")
        _assert_safe(app, want)
        assert app.is_running


async def test_partition_run_log_and_toast_are_plain():
    """Maintenance whose steps answer with hostile server messages and whose audit record
    cannot be settled (the reason hostile): the run log and the toast are text."""
    from console.core.partitions.runner import RunReport, StepResult

    from . import fakes_partitions

    class Hostile(fakes_partitions.FakePartitions):
        def run(self, plan, *, actor, progress=None):
            report = RunReport()
            for i, st in enumerate(plan.steps):
                r = StepResult(st, ok=False, message=f"step: {HOSTILE}", attempts=1)
                report.results.append(r)
                if progress:
                    progress(i, len(plan.steps), st, r)
            report.failed_groups[f"t{CORPUS['osc0']}"] = HOSTILE
            report.audit_errors[f"pg{CORPUS['osc0']}"] = f"settle: {HOSTILE}"
            return report

    services = fakes_partitions.partitions_services()
    services.sources["partitions"] = Hostile(services.settings)
    app = ConsoleApp(services, initial_mode="partitions")
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: screen.discovery.loaded, "discovery")
        await pilot.press("M")
        await wait_for(pilot, lambda: app.screen is not screen and app.screen.query("#confirm"), "the preview")
        if app.screen.query("#confirm-typed"):
            app.screen.query_one("#confirm-typed", Input).value = "drop"
        await wait_for(pilot, lambda: not app.screen.query_one("#confirm").disabled, "confirm enabled")
        await pilot.click("#confirm")
        await wait_for(pilot, lambda: "settle: [b]x[/b]" in _toasts(app), "the toast")
        from textual.widgets import RichLog
        logged = lambda: "\n".join(strip.text for strip in screen.query_one("#part-log", RichLog).lines)  # noqa: E731
        await wait_for(pilot, lambda: "[b]x[/b] [link=https://e.x]y[/link]" in logged(), "the run log")
        assert RAW.search(logged()) is None, repr(logged())
        _assert_safe(app, "pg␛]0;pwned␇")
        assert app.is_running


@pytest.mark.parametrize("fail", [False, True], ids=["step-failed", "error"])
async def test_schema_fix_result_toast_is_plain(fail):
    """Schema fixes whose statement fails with a hostile server message (or whose apply
    raises one): the toast is text."""
    from console.core.plan import StepResult as SchemaStep

    from . import fakes_schema

    class Hostile(fakes_schema.FakeSchemaSource):
        def apply(self, name, plan, progress):
            if fail:
                raise BackendError(name, ErrorKind.ERROR, f"apply: {HOSTILE}")
            return [SchemaStep(st, ok=False, message=f"stmt: {HOSTILE}", elapsed_ms=1.0) for st in plan.steps]

    services = fakes_schema.schema_services()
    services.sources["schema"] = Hostile(services.sources["schema"].reports)
    app = ConsoleApp(services, initial_mode="schema")
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: "lambda" in screen.reports, "the first check")
        await pilot.press("F")
        await wait_for(pilot, lambda: app.screen is not screen and app.screen.query("#confirm"), "the preview")
        if app.screen.query("#confirm-typed"):
            typed = app.screen.type_to_confirm
            app.screen.query_one("#confirm-typed", Input).value = typed
        await wait_for(pilot, lambda: not app.screen.query_one("#confirm").disabled, "confirm enabled")
        await pilot.click("#confirm")
        want = "apply: [b]x[/b]" if fail else "stmt: [b]x[/b]"
        await wait_for(pilot, lambda: want in _toasts(app), "the toast")
        _assert_safe(app, want)
        assert app.is_running


# --------------------------------------------------------------------------- static


UI = Path(console.__file__).parent / "ui"


def test_every_notification_goes_through_console_app_notify():
    """ConsoleApp.notify makes message and title visible and turns markup off: nothing in
    console/ui may post a notification another way, and every App is a ConsoleApp."""
    offenders = []
    for path in UI.rglob("*.py"):
        src = path.read_text(encoding="utf-8")
        for pat in (r"\bNotification\(", r"\b_notify\(", r"\bNotify\(", r"super\(\)\.notify\("):
            for m in re.finditer(pat, src):
                if path.name == "app.py" and pat == r"super\(\)\.notify\(":
                    continue            # ConsoleApp.notify itself
                offenders.append(f"{path.relative_to(UI)}: {m.group(0)}")
        for m in re.finditer(r"class (\w+)\(([^)]*)\bApp\b[^)]*\):", src):
            if m.group(1) != "ConsoleApp":
                offenders.append(f"{path.relative_to(UI)}: App subclass {m.group(1)} outside ConsoleApp")
    assert not offenders, offenders


async def test_replay_header_shows_a_hostile_file_name_as_text(tmp_path):
    """The replay header names the recording file: a file name is data too."""
    from console.config import Settings
    from console.core.recording import Recorder
    from console.ui.recorder import replay_app

    from .fakes_activity import FakeActivity

    out = tmp_path / f"rec{CORPUS['osc0']}[b]x\u202e.sqlite"      # no "/" in a file name
    port = FakeActivity()
    target = port.targets[0]
    with Recorder(out) as rec:
        with rec.tick() as t:
            t.add("activity", target, port.sample(target))
    app = replay_app(Settings(), out)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await wait_for(pilot, lambda: "REPLAY" in app.sub_title, "the replay header")
        assert RAW.search(app.sub_title) is None, repr(app.sub_title)
        await wait_for(pilot, lambda: "REPLAY rec␛]0;pwned␇[b]x<U+202E>.sqlite" in _text(app), "the file name shown")
        _assert_safe(app)


async def test_a_hostile_name_is_confirmed_by_typing_what_the_dialog_shows():
    """A destructive fix on a table whose name holds an escape sequence and a bidi control:
    the dialog shows it with keyboard characters only, and typing that confirms."""
    from textual.app import App

    from console.ui.widgets.confirm import ConfirmModal

    name = "public.t\x1b[2Jx\u202ey"
    shown = "public.t\\x1b[2Jx<U+202E>y"
    answers: list[bool] = []

    class Host(App):
        def on_mount(self) -> None:
            self.push_screen(ConfirmModal(f"Drop {name}?", f"DROP TABLE {name}", type_to_confirm=name),
                             answers.append)

    app = Host()
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        assert RAW.search(_text(app)) is None and shown in _text(app)
        typed = app.screen.query_one("#confirm-typed", Input)
        typed.focus()
        await pilot.press(*shown)
        assert typed.value == shown
        await wait_for(pilot, lambda: not app.screen.query_one("#confirm").disabled, "confirm enabled")
        await pilot.press("enter", "enter")
        await wait_for(pilot, lambda: answers == [True], "confirmed")
