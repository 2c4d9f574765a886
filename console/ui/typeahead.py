"""Keys typed ahead of a focus change go where the person meant them, or nowhere.

Textual hands each key to the widget focused *when the key is read*, and that widget's
queue handles it later. A quick burst (a fast typist, a paste into tmux, an SSH session
that delivers ``/user_02`` in one packet) is read whole before ``/`` has opened the
filter, so ``user_02`` went to the list and came back up as bindings: ``s`` sorted, ``2``
switched to the Schema screen, and nothing reached the filter.

:class:`TypeAhead` (mixed into the app) notes on every key the screen and the focused
widget it was read for. A key that comes back up unhandled, when those have changed since:

* same screen, the focus now in a text box (``/`` opened a filter): the key is typed into
  the text box, in order;
* another screen that takes type-ahead (``TAKES_TYPE_AHEAD = True``: a filter prompt): the
  same once the prompt has focused its text box (held until then, in order);
* a dialog that does not (a confirmation, a preview): the key is dropped. A key typed
  before a dialog was on screen is never an answer to it — ``K`` then ``<pid> Enter
  Enter`` typed blind must not terminate anything;
* another full screen (``7`` switched to Activity, a dialog closed): the key is that
  screen's, handed to its focus (``7/idle`` filters Activity on ``idle``);
* otherwise (the focus moved to another list on the same screen) the key means what it
  means there, as before.
"""

from __future__ import annotations

from typing import Any

from textual import events
from textual.screen import ModalScreen
from textual.widgets import Input, TextArea

_TYPED_FOR = "_console_typed_for"
TEXT_BOXES = (Input, TextArea)
HOLD_REFRESHES = 5            # a prompt that has not focused its text box after this many refreshes: dropped


def typed_for(event: events.Key) -> tuple[Any, Any] | None:
    """(screen, focused widget) the key was read for, or None for a key that did not come
    from the terminal through the app (a test's post to a widget)."""
    return getattr(event, _TYPED_FOR, None)


class TypeAhead:
    screen: Any
    focused: Any

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            try:
                screen = self.screen
            except Exception:  # noqa: BLE001 - no screen yet (startup, shutdown)
                screen = None
            setattr(event, _TYPED_FOR, (screen, self.focused))
        await super().on_event(event)  # type: ignore[misc]

    async def _on_key(self, event: events.Key) -> None:
        # Textual calls every class's own _on_key along the MRO (App's runs the bindings
        # next); a key taken care of here stops there.
        if self._typed_ahead(event):
            event.prevent_default()

    def _typed_ahead(self, event: events.Key) -> bool:
        """True when ``event`` was typed ahead of a change of screen or focus, and was
        typed into the new focus, held for it, or dropped here."""
        where = typed_for(event)
        if where is None:
            return False
        screen, focused = where
        try:
            now_screen = self.screen
        except Exception:  # noqa: BLE001
            return False
        held: list[events.Key] = self.__dict__.setdefault("_typeahead_held", [])
        if held:
            held.append(event)                   # behind keys still waiting: in order
            return True
        now = self.focused
        if screen is now_screen and focused is now:
            return False                         # the usual case: nothing changed under it
        takes = getattr(now_screen, "TAKES_TYPE_AHEAD", False)
        if screen is not now_screen and isinstance(now_screen, ModalScreen) and not takes:
            return True                          # typed before this dialog was up: never its answer
        if isinstance(now, TEXT_BOXES) and now.screen is now_screen:
            _type_into(now, event)
            return True
        if screen is not now_screen and takes:   # a prompt still mounting: held until it has its box
            held.append(event)
            self._hold_typeahead(HOLD_REFRESHES)
            return True
        if screen is not now_screen:             # typed behind a switch of screens: the new screen's
            _type_into(now if now is not None else now_screen, event)
            return True
        return False

    def _hold_typeahead(self, tries: int) -> None:
        self.call_after_refresh(self._release_typeahead, tries)  # type: ignore[attr-defined]

    def _release_typeahead(self, tries: int) -> None:
        held: list[events.Key] = self.__dict__.get("_typeahead_held", [])
        now = self.focused
        if isinstance(now, TEXT_BOXES) and getattr(now.screen, "TAKES_TYPE_AHEAD", False):
            for event in held:
                _type_into(now, event)
            held.clear()
        elif tries > 1:
            self._hold_typeahead(tries - 1)
        else:
            held.clear()                         # the prompt never took the focus: dropped


class FilterInput(Input):
    """A filter's text box, the other way round: keys typed right behind the Enter (or
    Esc) that hands the focus back to the list are the list's, not more filter text
    (``/lambda`` Enter ``jj`` in one burst filters on ``lambda`` and moves the cursor
    twice). Enter reaches the screen as a message, after this box has read the keys behind
    it: those are held until the focus has moved (or, if it stays, typed here after all).
    Only filters: a dialog's text box keeps every key typed for it."""

    _held: list[events.Key] | None = None

    async def _on_key(self, event: events.Key) -> None:
        where = typed_for(event)
        mine = where is not None and where[1] is self
        if mine and self._held is not None:
            self._take(event)
            self._held.append(event)
        elif mine and self.app.focused is not self:
            self._take(event)
            self._hand_on([event])
        elif event.key in ("enter", "escape"):
            self._held = []
            self._release(HOLD_REFRESHES)
        # else Input's own _on_key runs next (Textual calls each class's along the MRO)

    @staticmethod
    def _take(event: events.Key) -> None:
        event.prevent_default()
        event.stop()

    def _release(self, tries: int) -> None:
        if self.app.focused is self and tries > 0:
            self.call_after_refresh(self._release, tries - 1)
            return
        held, self._held = self._held or [], None
        self._hand_on(held)

    def _hand_on(self, events_: list[events.Key]) -> None:
        app = self.app
        now = app.focused
        target = now if now is not None and now.screen is app.screen else None
        if target is None and self.is_attached and self.screen is app.screen:
            target = self
        if target is not None:
            for event in events_:
                _type_into(target, event)


def _type_into(widget: Any, event: events.Key) -> None:
    again = events.Key(event.key, event.character)
    setattr(again, _TYPED_FOR, (widget.screen, widget))
    widget._forward_event(again)
