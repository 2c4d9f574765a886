"""The confirmation every mutating action goes through, driven by keys as a person would:
a stray Enter never confirms; a destructive action needs its name typed."""

from __future__ import annotations

from textual.app import App

from console.ui.widgets.confirm import ConfirmModal


class Host(App):
    def __init__(self, modal: ConfirmModal):
        super().__init__()
        self.modal = modal
        self.answers: list[bool] = []

    def on_mount(self) -> None:
        self.push_screen(self.modal, self.answers.append)


async def test_enter_alone_cancels():
    app = Host(ConfirmModal("Run it?", "SELECT 1", preview_sql=True))
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
    assert app.answers == [False]


async def test_typed_name_then_enter_twice_confirms():
    app = Host(ConfirmModal("Drop?", "DROP TABLE x", type_to_confirm="public.x"))
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press(*"public.y", "enter")        # wrong name: nothing to confirm
        await pilot.pause()
        assert app.answers == [] and app.screen is app.modal
        for _ in range(len("public.y")):
            await pilot.press("backspace")
        await pilot.press(*"public.x", "enter", "enter")
        await pilot.pause()
    assert app.answers == [True]


async def test_escape_cancels_and_refused_has_no_run_button():
    app = Host(ConfirmModal("Run?", "x", refused="read-only: refused"))
    async with app.run_test() as pilot:
        await pilot.pause()
        assert not app.modal.query("#confirm")
        await pilot.press("escape")
        await pilot.pause()
    assert app.answers == [False]


async def test_names_are_shown_as_they_are_not_as_markup():
    """A Redis key such as session:[u1] must appear, and be typed, exactly as it is."""
    key = "session:[u1]"
    app = Host(ConfirmModal(f"Delete Redis session {key}?", "DEL", type_to_confirm=key))
    async with app.run_test() as pilot:
        await pilot.pause()
        title = str(app.modal.query_one("#confirm-title").render())
        labels = " ".join(str(w.render()) for w in app.modal.query("Label"))
        assert key in title and f"Type {key} to confirm" in labels
        await pilot.press(*key, "enter", "enter")
        await pilot.pause()
    assert app.answers == [True]


async def test_console_notifications_are_plain_text():
    from console.ui.app import ConsoleApp

    from .fakes import overview_services

    app = ConsoleApp(overview_services())
    async with app.run_test() as pilot:
        await pilot.pause()
        app.screen.notify("session:[u1] deleted")        # Widget.notify passes markup=True
        await pilot.pause()
        assert [n.message for n in app._notifications] == ["session:[u1] deleted"]
        assert all(not n.markup for n in app._notifications)
