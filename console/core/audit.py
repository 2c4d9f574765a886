"""The console's own audit trail (``console.audit_log``, created by ``sql/common``) and the
one registry of mutating actions.

Every action that changes anything is declared here with :func:`action` and performed
through :func:`guard`, which refuses it in read-only mode at the core, not only in the UI.
A test walks ``ACTIONS`` so that a new action cannot skip the guard or the audit record.
"""

from __future__ import annotations

import getpass
import json
from dataclasses import dataclass
from typing import Any

from ..backends.base import ReadOnlyError
from ..config import Settings

OUTCOMES = ("ok", "failed", "refused")


@dataclass(frozen=True)
class Action:
    name: str
    description: str


ACTIONS: dict[str, Action] = {}


def action(name: str, description: str) -> Action:
    a = Action(name, description)
    ACTIONS[name] = a
    return a


def guard(settings: Settings, act: Action) -> None:
    if settings.read_only:
        raise ReadOnlyError(act.name)


def actor_name(settings: Settings, explicit: str | None = None) -> str:
    """Who is acting: an explicit ``--as``, the configured operator, else the OS user.
    (The zengin workflow may resolve the AWS caller identity instead; see core.zengin.)"""
    if explicit:
        return explicit
    if settings.operator:
        return settings.operator
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry in some containers
        return "unknown"


INSERT = ("INSERT INTO console.audit_log (actor, action, target, detail, outcome, read_only) "
          "VALUES (%s, %s, %s, %s::jsonb, %s, %s) RETURNING id")


def record(conn, *, actor: str, act: Action, target: str, outcome: str,
           detail: dict[str, Any] | None = None, read_only: bool = False) -> int:
    """Write one audit row on ``conn`` (inside the caller's transaction when it has one,
    so the record commits or rolls back with the change it describes)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}")
    row = conn.execute(INSERT, (actor, act.name, target, json.dumps(detail or {}, default=str, ensure_ascii=False),
                                outcome, read_only)).fetchone()
    return int(row[0])
