"""Schema status: per PostgreSQL target, the live catalog against what ``sql/`` defines.

A sub-tab per target (``]``/``[`` switch, no need to focus the tab bar); findings grouped
by status in a tree (``space`` selects a fix, destructive ones are never selected by
default); the highlighted finding's difference and fix DDL in the detail pane; ``/``
filters; ``F`` previews the plan of the selected fixes, asks, and runs it in a worker with
per-statement progress and results (one audit record, written by the core).

Each target's check is a live source (console.ui.live): re-checked every RECHECK_S while
shown, and at once when the screen is shown with a result older than that. A failed
re-check keeps the last report, dimmed, and the indicator says how old it is.

Narrow terminals: the tree and the detail pane share the width 2:3 (the tree at most 58
columns), so the fix DDL keeps most of the room."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Header, Input, ProgressBar, Static, Tab, Tabs, Tree

from ...core import format as fmt
from ...core import text
from ...core.plan import Hazard, StepResult
from ...core.ports import SchemaSource
from ...core.schema import fixes
from ...core.schema.check import TargetReport
from ...core.schema.compare import STATUSES, Finding
from .. import keymap
from ..live import LiveIndicator, LiveScreen, Source, State
from ..widgets.footer import ConsoleFooter
from ..widgets.progress import QuietProgressBar
from ..widgets.lists import ListTree
from ..typeahead import FilterInput

RECHECK_S = 120.0
STATUS_STYLE = {"missing": "bold red", "drifted": "bold yellow", "unexpected": "bold magenta"}


class CheckFailed(Exception):
    """A check that came back with an error report: the live layer keeps the last good one."""


def _check(source: SchemaSource, name: str) -> TargetReport:
    r = source.check(name)
    if r.error:
        raise CheckFailed(f"{r.error_kind or 'error'}: {r.error}")
    return r


class SchemaScreen(LiveScreen):
    LIST_ID = "schema-tree"
    DEFAULT_CSS = """
    #schema-body { padding: 0 1; }
    #schema-targets { height: 2; }
    #schema-age { height: 1; }
    #schema-summary { height: auto; max-height: 4; }
    #schema-filter { height: 3; }
    #schema-main { height: 1fr; }
    #schema-tree { width: 2fr; max-width: 58; border: round $primary-darken-2; }
    #schema-detail-box { width: 3fr; border: round $primary-darken-2; padding: 0 1; }
    #schema-progress { height: 1; }
    SchemaScreen .hidden { display: none; }
    """

    BINDINGS = keymap.bindings("refresh", "filter", "clear_filter", "select", "tab_next", "tab_prev", "pause",
                               "schema.apply", describe={"refresh": "Re-check", "select": "Select fix"},
                               tooltip={"refresh": "Compare this target with sql/ again now",
                                        "select": "Include or exclude the highlighted finding's fix "
                                                  "(destructive ones start excluded)",
                                        "tab_next": "Next PostgreSQL target", "tab_prev": "Previous target"})

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
        self.selected: dict[str, set[str]] = {}
        self.seen: dict[str, set[str]] = {}
        self.filter_text = ""
        self.current: str | None = None
        self.applying: str | None = None
        self.apply_log: list[StepResult] = []
        self.target_names: list[str] = []

    @property
    def source(self) -> SchemaSource:
        return self.services.source("schema")

    @property
    def read_only(self) -> bool:
        return bool(self.services.settings.read_only)

    @property
    def reports(self) -> dict[str, TargetReport]:
        """The last good report of every target checked so far."""
        out: dict[str, TargetReport] = {}
        for n in self.target_names:
            st = self.states.get(f"check:{n}")
            if st is not None and st.value is not None:
                out[n] = st.value
        return out

    def compose(self) -> ComposeResult:
        yield Header()
        targets = self.source.targets() if self.source is not None else []
        with Vertical(id="schema-body"):
            yield Tabs(*[Tab(text.markup(f"{n} ({s})"), id=f"t-{n}") for n, s in targets], id="schema-targets")
            yield LiveIndicator(id="schema-age")
            yield Static("", id="schema-summary")
            yield FilterInput(placeholder="filter: name or kind (Esc clears)", id="schema-filter", classes="hidden")
            with Horizontal(id="schema-main"):
                yield ListTree("findings", id="schema-tree")
                with VerticalScroll(id="schema-detail-box"):
                    yield Static("", id="schema-detail")
            yield QuietProgressBar(id="schema-progress", classes="hidden")
        yield ConsoleFooter()

    def on_mount(self) -> None:
        tree = self.query_one("#schema-tree", ListTree)
        tree.show_root = False
        tree.guide_depth = 2
        self.query_one("#schema-targets", Tabs).can_focus = False
        targets = self.source.targets() if self.source is not None else []
        if not targets:
            self.query_one("#schema-summary", Static).update(
                "No PostgreSQL target is configured (see README: Configuration).")
            return
        self.target_names = [n for n, _ in targets]
        self.current = self.target_names[0]
        self._point_indicator()
        tree.focus()
        for name in self.target_names:
            self.add_source(Source(f"check:{name}", fetch=_check, params=(self.source, name), every=RECHECK_S,
                                   render=self._on_checked))

    # ----------------------------------------------------------------- checking

    def _on_checked(self, st: State[TargetReport]) -> None:
        name = st.name.removeprefix("check:")
        r = st.value
        if r is not None and st.error is None:
            sel = self.selected.setdefault(name, set())
            ids = {f.id for f in r.findings}
            sel.intersection_update(ids)
            sel.update(fixes.default_selection(r.findings) - self.seen.get(name, set()))
            self.seen[name] = ids
        if name == self.current:
            self._render_all()

    def _point_indicator(self) -> None:
        ind = self.query_one("#schema-age", LiveIndicator)
        ind.source_names = [f"check:{self.current}"] if self.current else []
        ind.label = self.current or ""
        ind.refresh_text()

    def action_refresh_now(self) -> None:
        if self.current and not self.applying:
            self.run_source(f"check:{self.current}")

    # ----------------------------------------------------------------- navigation

    @on(Tabs.TabActivated, "#schema-targets")
    def _on_tab(self, event: Tabs.TabActivated) -> None:
        if event.tab is None or event.tab.id is None:
            return
        self.current = event.tab.id.removeprefix("t-")
        self._point_indicator()
        self._render_all()

    def action_tab(self, step: int) -> None:
        if not self.target_names or self.current is None:
            return
        i = (self.target_names.index(self.current) + step) % len(self.target_names)
        self.query_one("#schema-targets", Tabs).active = f"t-{self.target_names[i]}"

    def action_filter(self) -> None:
        box = self.query_one("#schema-filter", Input)
        box.remove_class("hidden")
        self.set_focus(box)         # now: keys typed right behind `/` go into the filter (ui.typeahead)

    @on(Input.Changed, "#schema-filter")
    def _on_filter(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip().lower()
        self._render_tree()

    @on(Input.Submitted, "#schema-filter")
    def _on_filter_done(self) -> None:
        self.query_one("#schema-tree", ListTree).focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#schema-filter", Input)
        box.value = ""
        box.add_class("hidden")
        self.filter_text = ""
        self._render_tree()
        self.query_one("#schema-tree", ListTree).focus()

    def action_select(self) -> None:
        f = self._highlighted()
        if f is None or not f.steps or self.current is None:
            return
        sel = self.selected.setdefault(self.current, set())
        sel.symmetric_difference_update({f.id})
        self._render_tree(keep=f.id)
        self._render_summary()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "apply" and (self.read_only or self.applying):
            return None     # shown disabled; the summary says why
        return True

    # ----------------------------------------------------------------- apply

    def _plan(self) -> tuple[Any, list[Finding]]:
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

    def _start_apply(self, target: str, plan: Any) -> None:
        self.applying = target
        self.apply_log = []
        bar = self.query_one("#schema-progress", ProgressBar)
        bar.remove_class("hidden")
        bar.update(total=len(plan.steps), progress=0)
        self.refresh_bindings()
        self._render_summary()
        self._run_apply(target, plan)

    @work(thread=True, exit_on_error=False, group="schema-apply")
    def _run_apply(self, target: str, plan: Any) -> None:
        def progress(i: int, n: int, step: Any, result: StepResult | None) -> None:
            self.post_message(self.Progress(target, i, n, result, step.title))
        try:
            results = self.source.apply(target, plan, progress)
        except Exception as exc:  # shown, never a traceback
            self.post_message(self.Applied(target, None, text.error_text(exc)))
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
        if m.error or m.results is None:
            self.notify(m.error or "no result", title="Schema fixes not applied", severity="error", timeout=10)
        else:
            ok = sum(1 for r in m.results if r.ok)
            failed = [r for r in m.results if not r.ok and not r.skipped]
            self.notify(f"{ok}/{len(m.results)} statements ok" + (f"; failed: {failed[0].message}" if failed else ""),
                        title=f"Schema fixes on {m.target}", severity="error" if failed else "information",
                        timeout=10)
            self.apply_log = list(m.results)
        self.run_source(f"check:{m.target}")

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
        name = self.current
        if name is None:
            return
        st = self.states.get(f"check:{name}")
        r = st.value if st is not None else None
        t = Text()
        if r is None:
            if st is not None and st.error:
                t.append("check failed", style="bold red")
            else:
                t.append("checking against sql/…", style="dim")
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
                t.append(f" {len(sel)} fix{'es' if len(sel) != 1 else ''} selected", style="bold")
            m = r.migrations
            if m is not None:
                t.append(f"\nmigrations {len(m.applied)} applied")
                t.append(f" · {len(m.pending)} pending", style="yellow" if m.pending else "")
                t.append(f" · {len(m.changed)} changed", style="red" if m.changed else "")
            if r.schema_version:
                v = r.schema_version[0]
                t.append(" · schema_version ")
                t.append_text(text.plain(v["version"]))
            t.append(f" · checked {fmt.clock(r.checked_at)} UTC", style="dim")
        if self.read_only:
            t.append("\nread-only mode: applying fixes is disabled", style="yellow")
        elif self.applying:
            t.append(f"\napplying fixes to {self.applying}…", style="bold yellow")
        self.query_one("#schema-summary", Static).update(t)
        self.query_one("#schema-main").set_class(bool(st and st.stale), "stale")

    def _render_tree(self, keep: str | None = None) -> None:
        tree = self.query_one("#schema-tree", ListTree)
        r = self.reports.get(self.current or "")
        if keep is None:
            f = self._highlighted()
            keep = f.id if f else None
        tree.clear()
        if r is None:
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
                                      text.plain(f.object))
                if f.destructive:
                    label.append(" (destructive)", style="red")
                leaf = node.add_leaf(label, data=f)
                if f.id == keep:
                    target_line = leaf
        excluded = getattr(r, "excluded", None) or []
        if excluded:       # [schema] exclude: listed, never counted as drift, nothing to select
            node = tree.root.add(Text.assemble(("excluded", "dim bold"), f" ({len(excluded)})"), expand=False)
            for f in excluded:
                node.add_leaf(Text.assemble((f"{f.status} ", "dim"), (f.kind + " ", "dim"), text.plain(f.object, "dim")))
        if not visible:
            tree.root.add_leaf(Text("no findings" if not r.findings else "nothing matches the filter", style="dim"))
        if target_line is not None:
            line = target_line
            self.call_after_refresh(lambda: tree.move_cursor(line))
        self._render_detail()

    def _highlighted(self) -> Finding | None:
        node = self.query_one("#schema-tree", ListTree).cursor_node
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
                t.append(f"{mark} ", style=style)
                t.append_text(text.plain(res.step.title, style))
                t.append(f"  {res.elapsed_ms:.0f} ms\n" if not res.skipped else "\n", style="dim")
                if not res.ok and not res.skipped:
                    t.append_text(text.plain(f"  {res.message}", "red"))
                    t.append("\n")
            parts.append(t)
        f = self._highlighted()
        st = self.states.get(f"check:{self.current}")
        r = st.value if st is not None else None
        if f is None:
            if st is not None and st.error and r is None:
                parts.append(text.plain(st.error, "red", newlines=True))
            elif r is not None and r.clean:
                e, live = r.expected, r.live
                parts.append(Text(f"{r.target}: no difference between the live catalog and sql/ "
                                  f"({len(e.tables) if e else 0} tables, {len(e.indexes) if e else 0} indexes, "
                                  f"{len(e.functions) if e else 0} functions compared; "
                                  f"{len(live.partitions) if live else 0} partitions checked against their "
                                  f"parents).", style="green"))
            else:
                parts.append(Text("Highlight a finding to see the difference and its fix.", style="dim"))
            box.update(Group(*parts))
            return
        head = Text()
        head.append_text(text.plain(f.object, "bold"))
        head.append(f"\n{f.kind} · ", style="dim")
        head.append(f.status, style=STATUS_STYLE[f.status])
        head.append(" · ")
        head.append_text(text.plain(f.detail, newlines=True))
        head.append("\n")
        where = (f"defined in {f.source}" if f.source else "not defined in sql/" if f.status == "unexpected"
                 else "definition not found in sql/ by name")
        head.append_text(text.plain(where, "dim"))
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
                style = "red" if s.destructive else "yellow" if s.hazard is not Hazard.NONE else "dim"
                parts.append(text.plain(f"-- {s.title}" + (f"  ({'; '.join(notes)})" if notes else ""), style,
                                        newlines=True))
                parts.append(text.plain(s.sql.rstrip(";") + ";", "cyan", newlines=True))
        else:
            parts.append(text.plain("\nno automatic fix: " + f.detail, "yellow", newlines=True))
        box.update(Group(*parts))


def _diff_text(body: str, other: str, style: str) -> Text:
    """``body`` with the lines that differ from ``other`` highlighted."""
    others = {ln.strip() for ln in other.splitlines()}
    out = Text()
    for ln in body.splitlines() or [""]:
        changed = ln.strip() not in others
        out.append(text.visible(ln) + "\n", style=f"bold {style}" if changed else "dim")
    return out


SCREEN = SchemaScreen
