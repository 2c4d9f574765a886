"""Drivers of ``activity.cancel`` and ``activity.terminate`` for tests/safety/test_actions.py:
a real session runs ``pg_sleep`` on a fresh database; the action cancels its query (the
session stays) or terminates the session. The audit rows land in that database."""

from __future__ import annotations

from console.config import Settings

from tests.activity_helpers import Victim, active_in, exists, wait_until

ACTOR = "safety-actor"


def _case(stack, fresh_db, kind: str):
    from console.core.activity import ActivitySource, plan_signal, run_signal
    from tests.safety.test_actions import Case

    pg = fresh_db("pipe")
    victim = Victim(pg.target.dsn).start("SELECT pg_sleep(600)")
    wait_until(lambda: active_in(pg, victim.pid, "pg_sleep"), "the victim's pg_sleep to run")
    sample = ActivitySource({pg.name: pg}).sample(pg.name)
    plan = plan_signal(sample, victim.pid, kind)
    assert plan.sessions, plan.text()
    settings = Settings(postgres=(pg.target,))
    if kind == "cancel":
        changed = lambda: not active_in(pg, victim.pid, "pg_sleep") and exists(pg, victim.pid)  # noqa: E731
    else:
        changed = lambda: not exists(pg, victim.pid)  # noqa: E731
    return Case(pg, lambda s: run_signal(s, pg, plan, actor=ACTOR), lambda: plan, changed, settings,
                lambda: victim.close(killer=pg))


def drive_cancel(stack, fresh_db):
    return _case(stack, fresh_db, "cancel")


def drive_terminate(stack, fresh_db):
    return _case(stack, fresh_db, "terminate")
