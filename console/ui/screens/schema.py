"""Schema status: per PostgreSQL target, the live catalog against what ``sql/`` defines.

A tab per target; findings grouped by status in a tree (space selects a fix, destructive
ones are never selected by default); the highlighted finding's difference and fix DDL in
the detail pane; ``/`` filters; ``a`` previews the plan of the selected fixes, asks, and
runs it in a worker with per-statement progress and results (one audit record, written by
the core). Checks run in a thread worker; a failed re-check keeps the last report, dimmed,
with the error. Re-checks are one-shot timers, stopped while the screen is hidden."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Input, ProgressBar, Static, Tab, Tabs, Tree

from ...core.plan import Hazard, StepResult
from ...core.schema import fixes
from ...core.schema.check import TargetReport
from ...core.schema.compare import STATUSES, Finding

RECHECK_S = 120.0
STATUS_STYLE = {"missing": "bold red", "drifted": "bold yellow", "unexpected": "bold magenta"}


class RealSchemaSource:
    """Checks and applies through the real backends (core.schema)."""

    def __init__(self, services) -> None:
        self.services = services
        self.settings = services.settings

    def targets(self) -> list[tuple[str, str]]:
        return [(t.name, t.system) for t in self.settings.postgres]

    def check(self, name: str) -> TargetReport:
        from ...core.schema import check_target
        target = self.settings.target(name)
        return check_target(self.services.backends.pg(name), target.system)

    def apply(self, name: str, plan, progress) -> list[StepResult]:
        from ...core import audit
        from ...core.schema import run_plan
        return run_plan(self.settings, self.services.backends.pg(name), plan,
                        actor=audit.actor_name(self.settings), progress=progress)


def _source_factory(services):
    return RealSchemaSource(services)


class SchemaScreen(Screen):
    DEFAULT_CSS = """
    #schema-body { padding: 0 1; }
    #schema-targets { height: 2; }
    #schema-summary { height: auto; margin: 1 0 0 0; }
    #schema-filter { margin-top: 1; }
    #schema-main { height: 1fr; margin-top: 1; }
    #schema-tree { width: 58; border: round $primary-darken-2; }
    #schema-detail-box { width: 1fr; border: round $primary-darken-2; padding: 0 1; }
    #schema-main.stale { opacity: 60%; }
    #schema-progress { height: 1; }
    SchemaScreen .hidden { display: none; }
    """

    BINDINGS = [
        Binding("r", "recheck", "Re-check", id="schema.refresh", tooltip="Compare this target with sql/ again now"),
        Binding("slash", "filter", "Filter", id="schema.filter", tooltip="Show only findings whose name or kind matches"),
        Binding("space", "toggle", "Select fix", id="schema.toggle",
                tooltip="Include or exclude the highlighted finding's fix (destructive ones start excluded)"),
        Binding("a", "apply", "Apply fixes", id="schema.apply",
                tooltip="Preview the selected fixes as DDL, confirm, run them with an audit record"),
        Binding("escape", "clear_filter", "Clear filter", id="schema.clear_filter", show=False,
                tooltip="Clear the filter"),
    ]

    class Checked(Message):
        def __init__(self, target: str, report: TargetReport) -> None:
            self.target = target
            self.report = report
            super().__init__()

    class Progress(Message):
        def __init__(self, target: str, i: int, n: int, result: StepResult | None, title: str) -> None:
            self.target, self.i, self.n, self.result, self.title = target, i, n, result, title
            super().__init__()

    class Applied(Message):
        def __init__(self, target: str, results: list[StepResult] | None, error: str | None) -> None:
            self.target, self.results, self.error = target, results, error
            super().__init__()

    def __init__(self) -> None:
        super().__init__(id="schema")
        self.reports: dict[str, TargetReport] = {}
        self.stale: dict[str, str] = {}         # target -> error of the last failed re-check
        self.running: set[str] = set()
        self.dirty: set[str] = set()
        self.selected: dict[str, set[str]] = {}
        self.filter_text = ""
        self.current: str | None = None
        self.applying: str | None = None
        self.apply_log: list[StepResult] = []
        self._timer: Timer | None = None

    @property
    def source(self) -> Any:
        return self.app.services.source("schema", _source_factory)

    @property
    def read_only(self) -> bool:
        return self.app.services.settings.read_only

    def compose(self) -> ComposeResult:
        yield Header()
        targets = self.source.targets()
        with Vertical(id="schema-body"):
            yield Tabs(*[Tab(f"{n} ({s})", id=f"t-{n}") for n, s in targets], id="schema-targets")
            yield Static("", id="schema-summary")
            yield Input(placeholder="filter: name or kind (Esc clears)", id="schema-filter", classes="hidden")
            with Horizontal(id="schema-main"):
                yield Tree("findings", id="schema-tree")
                with VerticalScroll(id="schema-detail-box"):
                    yield Static("", id="schema-detail")
            yield ProgressBar(id="schema-progress", show_eta=False, classes="hidden")
        yield Footer()

    def on_mount(self) -> None:
        tree = self.query_one("#schema-tree", Tree)
        tree.show_root = False
        tree.guide_depth = 2
        targets = self.source.targets()
        if not targets:
            self.query_one("#schema-summary", Static).update(
                "No PostgreSQL target is configured (see README: Configuration).")
            return
        self.current = targets[0][0]
        tree.focus()
        for name, _ in targets:
            self._check(name)

    # ----------------------------------------------------------------- checking

    def _check(self, name: str) -> None:
        if name in self.running:
            self.dirty.add(name)    # asked again while running (e.g. after an apply): run once more
            return
        self.running.add(name)
        self._render_summary()
        self._run_check(name)

    @work(thread=True, exit_on_error=False, group="schema-check")
    def _run_check(self, name: str) -> None:
        try:
            report = self.source.check(name)
        except Exception as exc:  # noqa: BLE001 - shown, never a traceback
            report = TargetReport(name, "?", error=f"{type(exc).__name__}: {exc}", error_kind="error")
        self.post_message(self.Checked(name, report))

    @on(Checked)
    def _on_checked(self, m: Checked) -> None:
        self.running.discard(m.target)
        r = m.report
        if r.error and m.target in self.reports and self.reports[m.target].error is None:
            self.stale[m.target] = f"{r.error_kind}: {r.error}"     # keep the last good report
        else:
            self.stale.pop(m.target, None)
            self.reports[m.target] = r
            sel = self.selected.setdefault(m.target, set())
            ids = {f.id for f in r.findings}
            sel.intersection_update(ids)
            sel.update(fixes.default_selection(r.findings) - self.selected.get(f"_seen:{m.target}", set()))
            self.selected[f"_seen:{m.target}"] = ids
        if m.target == self.current:
            self._render_all()
        else:
            self._render_summary()
        if m.target in self.dirty:
            self.dirty.discard(m.target)
            self._check(m.target)
            return
        self._schedule()

    def _schedule(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.is_current and self.current and not self.running:
            self._timer = self.set_timer(RECHECK_S, self.action_recheck)

    def on_screen_suspend(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def on_screen_resume(self) -> None:
        if self.current and self._timer is None and not self.running and not self.applying:
            self._check(self.current)

    def action_recheck(self) -> None:
        if self.current and not self.applying:
            self._check(self.current)

    # ----------------------------------------------------------------- navigation

    @on(Tabs.TabActivated, "#schema-targets")
    def _on_tab(self, event: Tabs.TabActivated) -> None:
        if event.tab is None or event.tab.id is None:
            return
        self.current = event.tab.id.removeprefix("t-")
        self._render_all()

    def action_filter(self) -> None:
        box = self.query_one("#schema-filter", Input)
        box.remove_class("hidden")
        box.focus()

    @on(Input.Changed, "#schema-filter")
    def _on_filter(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip().lower()
        self._render_tree()

    @on(Input.Submitted, "#schema-filter")
    def _on_filter_done(self) -> None:
        self.query_one("#schema-tree", Tree).focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#schema-filter", Input)
        box.value = ""
        box.add_class("hidden")
        self.filter_text = ""
        self._render_tree()
        self.query_one("#schema-tree", Tree).focus()

    def action_toggle(self) -> None:
        f = self._highlighted()
        if f is None or not f.steps or self.current is None:
            return
        sel = self.selected.setdefault(self.current, set())
        sel.symmetric_difference_update({f.id})
        self._render_tree(keep=f.id)
        self._render_summary()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "apply":
            if self.read_only or self.applying:
                return None     # shown disabled; the summary says why
        return True

    # ----------------------------------------------------------------- apply

    def _plan(self):
        r = self.reports.get(self.current or "")
        if r is None:
            return None, []
        sel = self.selected.get(r.target, set())
        chosen = [f for f in r.findings if f.id in sel and f.steps]
        return fixes.build_plan(r.target, chosen, selected=sel, allow_destructive=True), chosen

    def action_apply(self) -> None:
        from ..widgets.confirm import ConfirmModal
        if self.read_only:
            self.notify("read-only mode: schema fixes are disabled", severity="warning")
            return
        plan, chosen = self._plan()
        if not plan:
            self.notify("no fix selected (space selects the highlighted finding's fix)", severity="warning")
            return
        destructive = [f for f in chosen if f.destructive]
        typed = None
        if destructive:
            typed = destructive[0].object if len(destructive) == 1 else self.current
        target = self.current

        def done(ok: bool | None) -> None:
            if ok and target:
                self._start_apply(target, plan)

        title = f"Apply {len(chosen)} fix{'es' if len(chosen) != 1 else ''} to {target}"
        if destructive:
            title += f" — {len(destructive)} destructive"
        self.app.push_screen(ConfirmModal(title, plan.text(), confirm_label="Apply", preview_sql=True,
                                          type_to_confirm=typed), done)

    def _start_apply(self, target: str, plan) -> None:
        self.applying = target
        self.apply_log = []
        bar = self.query_one("#schema-progress", ProgressBar)
        bar.remove_class("hidden")
        bar.update(total=len(plan.steps), progress=0)
        self.refresh_bindings()
        self._render_summary()
        self._run_apply(target, plan)

    @work(thread=True, exit_on_error=False, group="schema-apply")
    def _run_apply(self, target: str, plan) -> None:
        def progress(i, n, step, result):
            self.post_message(self.Progress(target, i, n, result, step.title))
        try:
            results = self.source.apply(target, plan, progress)
        except Exception as exc:  # noqa: BLE001
            self.post_message(self.Applied(target, None, getattr(exc, "message", None) or str(exc)))
            return
        self.post_message(self.Applied(target, results, None))

    @on(Progress)
    def _on_progress(self, m: Progress) -> None:
        if m.result is not None:
            self.apply_log.append(m.result)
            self.query_one("#schema-progress", ProgressBar).update(progress=m.i + 1)
        self._render_detail()

    @on(Applied)
    def _on_applied(self, m: Applied) -> None:
        self.applying = None
        self.query_one("#schema-progress", ProgressBar).add_class("hidden")
        self.refresh_bindings()
        if m.error:
            self.notify(m.error, title="Schema fixes not applied", severity="error", timeout=10)
        else:
            ok = sum(1 for r in m.results if r.ok)
            failed = [r for r in m.results if not r.ok and not r.skipped]
            self.notify(f"{ok}/{len(m.results)} statements ok" + (f"; failed: {failed[0].message}" if failed else ""),
                        title=f"Schema fixes on {m.target}", severity="error" if failed else "information",
                        timeout=10)
            self.apply_log = list(m.results)
        self._check(m.target)

    # ----------------------------------------------------------------- rendering

    def _visible(self, r: TargetReport) -> list[Finding]:
        q = self.filter_text
        if not q:
            return r.findings
        return [f for f in r.findings if q in f.object.lower() or q in f.kind or q in f.status]

    def _render_all(self) -> None:
        self._render_summary()
        self._render_tree()

    def _render_summary(self) -> None:
        t = Text()
        name = self.current
        r = self.reports.get(name or "")
        if name is None:
            return
        if r is None:
            t.append(f"{name}: checking against sql/…", style="dim")
        elif r.error:
            t.append(f"{name}: check failed — {r.error_kind}: {r.error}", style="bold red")
        else:
            c = r.counts
            if r.clean:
                t.append(" clean ", style="bold black on green")
                t.append("  every object sql/ defines is present and matches")
            else:
                for s in STATUSES:
                    t.append(f" {c[s]} {s} ", style=f"{STATUS_STYLE[s]} reverse" if c[s] else "dim")
                    t.append(" ")
                sel = self.selected.get(name, set())
                t.append(f"  {len(sel)} fix{'es' if len(sel) != 1 else ''} selected", style="bold")
            m = r.migrations
            if m is not None:
                t.append(f"\nmigrations: {len(m.applied)} applied")
                if m.applied:
                    last = m.applied[-1]
                    t.append(f" (last {last.version})", style="dim")
                t.append(f", {len(m.pending)} pending", style="yellow" if m.pending else "")
                t.append(f", {len(m.changed)} changed since applied", style="red" if m.changed else "")
            t.append("\n")
            if r.schema_version:
                v = r.schema_version[0]
                t.append(f"meta.schema_version {v['version']} ({v['description']}, {len(r.schema_version)} rows)  ·  ")
            t.append(f"checked {r.checked_at:%Y-%m-%d %H:%M:%S} UTC", style="dim")
        if name in self.stale:
            t.append(f"\nstale: last re-check failed — {self.stale[name]}", style="bold red")
        if name in self.running and r is not None:
            t.append("  ·  re-checking…", style="dim")
        if self.read_only:
            t.append("\nread-only mode: applying fixes is disabled", style="yellow")
        elif self.applying:
            t.append(f"\napplying fixes to {self.applying}…", style="bold yellow")
        self.query_one("#schema-summary", Static).update(t)
        self.query_one("#schema-main").set_class(name in self.stale, "stale")

    def _render_tree(self, keep: str | None = None) -> None:
        tree = self.query_one("#schema-tree", Tree)
        r = self.reports.get(self.current or "")
        if keep is None:
            f = self._highlighted()
            keep = f.id if f else None
        tree.clear()
        if r is None or r.error:
            self._render_detail()
            return
        sel = self.selected.get(r.target, set())
        visible = self._visible(r)
        target_line = None
        for s in STATUSES:
            group = [f for f in visible if f.status == s]
            if not group:
                continue
            node = tree.root.add(Text.assemble((s, STATUS_STYLE[s]), f" ({len(group)})"), expand=True)
            for f in group:
                mark = "[x]" if f.id in sel else ("[-]" if not f.steps else "[ ]")
                label = Text.assemble((mark + " ", "bold" if f.id in sel else "dim"), (f.kind + " ", "dim"),
                                      f.object)
                if f.destructive:
                    label.append(" (destructive)", style="red")
                leaf = node.add_leaf(label, data=f)
                if f.id == keep:
                    target_line = leaf
        if not visible:
            tree.root.add_leaf(Text("no findings" if not r.findings else "nothing matches the filter", style="dim"))
        if target_line is not None:
            self.call_after_refresh(lambda: tree.move_cursor(target_line))
        self._render_detail()

    def _highlighted(self) -> Finding | None:
        tree = self.query_one("#schema-tree", Tree)
        node = tree.cursor_node
        return node.data if node is not None and isinstance(node.data, Finding) else None

    @on(Tree.NodeHighlighted, "#schema-tree")
    def _on_highlight(self) -> None:
        self._render_detail()

    def _render_detail(self) -> None:
        box = self.query_one("#schema-detail", Static)
        parts: list[Any] = []
        if self.apply_log:
            t = Text("last apply\n", style="bold")
            for res in self.apply_log:
                mark, style = (("✔", "green") if res.ok else ("–", "dim") if res.skipped else ("✖", "red"))
                t.append(f"{mark} {res.step.title}", style=style)
                t.append(f"  {res.elapsed_ms:.0f} ms\n" if not res.skipped else "\n", style="dim")
                if not res.ok and not res.skipped:
                    t.append(f"  {res.message}\n", style="red")
            parts.append(t)
        f = self._highlighted()
        r = self.reports.get(self.current or "")
        if f is None:
            if r is not None and r.clean:
                parts.append(Text(f"{r.target}: no difference between the live catalog and sql/ "
                                  f"({len(r.expected.tables) if r.expected else 0} tables, "
                                  f"{len(r.expected.indexes) if r.expected else 0} indexes, "
                                  f"{len(r.expected.functions) if r.expected else 0} functions compared; "
                                  f"{len(r.live.partitions) if r.live else 0} partitions checked against their parents).",
                                  style="green"))
            elif r is not None and r.error:
                parts.append(Text(f"{r.error_kind}: {r.error}", style="red"))
            else:
                parts.append(Text("Highlight a finding to see the difference and its fix.", style="dim"))
            box.update(Group(*parts))
            return
        head = Text()
        head.append(f"{f.object}\n", style="bold")
        head.append(f"{f.kind} · ", style="dim")
        head.append(f.status, style=STATUS_STYLE[f.status])
        head.append(f" · {f.detail}\n", style="")
        head.append(f"defined in {f.source}\n" if f.source else "not defined in sql/\n" if f.status == "unexpected"
                    else "definition not found in sql/ by name\n", style="dim")
        parts.append(head)
        if f.expected:
            parts.append(Text("expected", style="bold green"))
            parts.append(_diff_text(f.expected, f.actual, "green"))
        if f.actual:
            parts.append(Text("actual", style="bold red"))
            parts.append(_diff_text(f.actual, f.expected, "red"))
        if f.steps:
            parts.append(Text("\nfix", style="bold"))
            for s in f.steps:
                notes = [n for n in (s.hazard is not Hazard.NONE and s.hazard.value, s.lock and f"lock: {s.lock}",
                                     not s.transactional and "outside a transaction") if n]
                parts.append(Text(f"-- {s.title}" + (f"  ({'; '.join(notes)})" if notes else ""),
                                  style="red" if s.destructive else "yellow" if s.hazard is not Hazard.NONE else "dim"))
                parts.append(Text(s.sql.rstrip(";") + ";", style="cyan"))
        else:
            parts.append(Text("\nno automatic fix: " + f.detail, style="yellow"))
        box.update(Group(*parts))


def _diff_text(text: str, other: str, style: str) -> Text:
    """``text`` with the lines that differ from ``other`` highlighted."""
    others = {ln.strip() for ln in other.splitlines()}
    out = Text()
    for ln in text.splitlines() or [""]:
        changed = ln.strip() not in others
        out.append(ln + "\n", style=f"bold {style}" if changed else "dim")
    return out


SCREEN = SchemaScreen
