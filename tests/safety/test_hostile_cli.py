"""Every CLI text command on hostile data planted in the REAL servers: no crash (no
traceback, an exit code of the scheme) and no raw control byte in stdout/stderr.

The corpus (hypothesis-generated, plus fixed worst cases): markup (``[/]``, ``[bold]``),
C0/C1 controls including terminal sequences (``\\x1b]0;pwned\\x07`` sets a title,
``\\x1b[2J`` clears the screen), bidi overrides (U+202E), zero-width characters, bytes
that are not UTF-8 (Redis), 10 kB strings. Planted as:

- diff ids, bank and branch names in DynamoDB items (seed 003 format) and bulk records in S3;
- Redis keys, values, hash fields and ``websocket_connections`` fields;
- PostgreSQL table and partition names, an unexpected schema object, a query text in a
  blocking chain (``metrics snapshot``), and a database name the server echoes in its
  error (``status``, ``schema check``, ``metrics snapshot``).

Pub/sub messages are shown only by the TUI's live tail (no CLI command prints them).
Kept bounded: a few hypothesis examples per command family (deadline None) plus the fixed
worst cases."""

from __future__ import annotations

import re
import threading
import traceback
import uuid
from datetime import timedelta
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from console.cli import main
from console.core.partitions import add_months, month_of

from ..integration.test_diffs_helpers import NOW, bank, branch, make_zen, update

# C0 except \n, DEL, C1, bidi, zero-width / BOM, and surrogate escapes (bytes that were not UTF-8)
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
                 "\udc80-\udcff]")
SCHEME = {0, 1, 2, 3, 4, 5, 6}

WORST = ["[/]", "[bold]x[/bold]", "[/bold]閉じ", "\x1b]0;pwned\x07title", "\x1b[2Jcleared", "a\u202eevil",
         "zero\u200bwidth\ufeff", "c1\x85\x9bend", "bell\x07del\x7f", "cr\rlf\nnul", "tab\there",
         "X" * 10_000 + "\x1b[2J"]

hostile_char = st.one_of(
    st.sampled_from(["[", "]", "/", "\x1b", "\x07", "\x7f", "\x85", "\x9b", "\u202e", "\u2066", "\u200b",
                     "\ufeff", "\r", "\t", "\n", "ﾐ", "銀"]),
    st.characters(codec="utf-8", exclude_categories=("Cs",)))
hostile_text = st.one_of(
    st.sampled_from(WORST),
    st.text(hostile_char, min_size=1, max_size=40),
    st.builds(lambda a, b: f"[{a}]{b}[/]", st.text(hostile_char, max_size=8), st.text(hostile_char, max_size=8)))


def _clean_pg(s: str) -> str:
    return s.replace("\x00", "?") or "x"


def run(capsys, *argv: str) -> tuple[int, str]:
    """One CLI command in this process: its exit code and everything it printed."""
    try:
        rc = main(list(argv))
    except SystemExit as exc:          # argparse
        rc = exc.code if isinstance(exc.code, int) else 2
    except BaseException:              # noqa: BLE001 - a crash is the finding
        pytest.fail(f"console {' '.join(argv[2:])} crashed:\n{traceback.format_exc()}")
    out = capsys.readouterr()
    text = out.out + out.err
    assert "Traceback" not in text, text[-2000:]
    assert rc in SCHEME, (argv, rc)
    m = RAW.search(text)
    assert m is None, f"console {' '.join(argv[2:3])}: raw {m.group(0)!r} at {m.start()}: " \
                      f"{text[max(0, m.start() - 80):m.start() + 40]!r}"
    return rc, text


# --------------------------------------------------------------------------- the world


class World:
    def __init__(self, stack, fresh_db, tmp_path):
        self.stack = stack
        self.zen = make_zen(stack, fresh_db)
        self.pg = fresh_db("pipe")
        self.redis_url = stack.redis.url.rsplit("/", 1)[0] + "/12"
        self.r = redis.Redis.from_url(self.redis_url)
        self.r.flushdb()
        z = self.zen.settings.zengin
        pgt = self.pg.target
        # a database that does not exist, named with a terminal sequence: servers echo it
        u = urlsplit(pgt.dsn)
        bad_dsn = urlunsplit(u._replace(path="/" + quote("nodb\x1b]0;pwned\x07[/]\u202e")))
        extra = f'[postgres.ghost]\ndsn = "{bad_dsn}"\nsystem = "pipe"\n'
        self.cfg = tmp_path / "hostile.toml"
        self.cfg.write_text(
            "[identity]\nallow_declared = true\n"
            f'[postgres.{self.zen.pg.target.name}]\ndsn = "{self.zen.pg.target.dsn}"\nsystem = "zengin"\n'
            f'[postgres.pipe]\ndsn = "{pgt.dsn}"\nsystem = "pipe"\n' + extra
            + f'[redis]\nurl = "{self.redis_url}"\n'
            + f'[zengin]\nenv = "{z.env}"\nendpoint_url = "{z.endpoint_url}"\ntarget = "{self.zen.pg.target.name}"\n')
        self.tables: list[str] = []

    def argv(self, *args: str) -> list[str]:
        return ["--config", str(self.cfg), *args]

    # DynamoDB + S3
    def plant_diff(self, name: str, *, id_: str | None = None, bulk: bool = False):
        when = NOW + timedelta(seconds=len(self.tables) + 1)
        self.tables.append(name)
        if bulk:
            entries = [update(bank(f"{i:04d}", "銀行", "ギンコウ"), bankName=name) for i in range(1, 4)]
            entries.append(update(branch("0001", "001", name, "トウキヨウ"), branchName=name + "[/]"))
            return self.zen.put_bulk(entries, when=when)
        fields = {"id": id_} if id_ else {}
        return self.zen.put(update(bank("0009", name, "ミツイスミトモ"), bankName=name + "\x1b[2J"), when=when,
                            **fields)

    # Redis
    def plant_redis(self, raw: bytes, text: str) -> None:
        p = self.r.pipeline(transaction=False)
        p.set(b"session:" + raw, text.encode("utf-8", "surrogatepass")[:10_240], ex=600)
        p.set(b"session:" + raw + b"\xff", b"\x00\x1b[2J\xfe" + raw, ex=600)
        p.hset(b"session:h" + raw, mapping={raw or b"f": raw + b"\x1b]0;x\x07", b"current_notebook": text.encode()})
        p.hset("websocket_connections", b"ws-" + raw, raw)
        p.hset("websocket_connections", text.encode()[:200] or b"w", '{"user_id": "%s"}' % text[:50].replace('"', ""))
        p.set(b"class_summary:" + raw, b'{"k": "' + raw.replace(b'"', b"") + b'"}', ex=60)
        p.execute()

    # PostgreSQL
    def plant_tables(self, name: str) -> None:
        name = _clean_pg(name)[:40]
        cur = month_of(NOW)
        with self.pg.connection() as c:
            parent = sql.Identifier("public", name + "_p")
            c.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} (id bigint NOT NULL, created_at timestamptz NOT NULL) "
                              "PARTITION BY RANGE (created_at)").format(parent))
            m = add_months(cur, -1)
            part = sql.Identifier("public", f"{name}_y{m.year:04d}m{m.month:02d}")
            c.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} PARTITION OF {} FOR VALUES FROM ({}) TO ({})").format(
                part, parent, sql.Literal(f"{m.isoformat()} 00:00+00"),
                sql.Literal(f"{add_months(m, 1).isoformat()} 00:00+00")))
            c.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} (id int)").format(sql.Identifier("public", name)))
            c.execute(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (id)").format(
                sql.Identifier(name[:20] + "_i"), sql.Identifier("public", name)))

    def close(self) -> None:
        self.r.flushdb()
        self.r.close()


@pytest.fixture
def world(stack, fresh_db, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")      # rich tables: wide enough that a message is not folded
    w = World(stack, fresh_db, tmp_path)
    try:
        yield w
    finally:
        w.close()


def _blocking_chain(pg, text: str):
    """A session holding a lock and one waiting behind it, the waiter's query carrying
    ``text`` in a comment: `metrics snapshot` prints blocking chains with query texts."""
    holder = psycopg.connect(pg.target.dsn, autocommit=False)
    holder.execute("CREATE TABLE IF NOT EXISTS public.lockme (id int)")
    holder.commit()
    holder.execute("LOCK TABLE public.lockme IN ACCESS EXCLUSIVE MODE")
    comment = _clean_pg(text).replace("*/", "* /")[:200]

    def wait():
        try:
            with psycopg.connect(pg.target.dsn, autocommit=True) as w:
                w.execute("SET statement_timeout = '20s'")
                w.execute(f"/* {comment} */ SELECT count(*) FROM public.lockme")
        except psycopg.Error:
            pass
    t = threading.Thread(target=wait, daemon=True)
    t.start()
    return holder, t


# --------------------------------------------------------------------------- fixed worst cases


def test_every_text_command_on_the_fixed_worst_cases(world, capsys):
    w = world
    ids = []
    for i, name in enumerate(WORST):
        ids.append(w.plant_diff(name, id_=f"diff-[/]{i}\x1b]0;pwned\x07\u202e{uuid.uuid4().hex[:6]}").id)
        w.plant_redis(name.encode("utf-8")[:300] + bytes([0xff - i, 0, 10]), name)
        if i < 8:
            w.plant_tables(name)
    ids.append(w.plant_diff("bulk\x1b[2J[/]", bulk=True).id)
    holder, waiter = _blocking_chain(w.pg, "\x1b]0;pwned\x07 [/] \u202e lock")
    try:
        _run_everything(w, capsys, ids)
    finally:
        holder.rollback()
        holder.close()
        waiter.join(30)


def _run_everything(w, capsys, ids) -> None:
    A = w.argv
    for status in ("pending", "approved"):
        run(capsys, *A("diffs", "list", "--status", status))
    run(capsys, *A("diffs", "list"))
    for i in ids[:3] + ids[-1:]:
        rc, text = run(capsys, *A("diffs", "show", i))
        assert rc == 0, text[-1000:]
    run(capsys, *A("sessions", "list"))
    run(capsys, *A("sessions", "list", "--pattern", "*"))
    run(capsys, *A("sessions", "stats"))
    rc, text = run(capsys, *A("schema", "check", "--target", "pipe"))
    assert rc in (0, 1, 3)          # clean, error, drift
    run(capsys, *A("schema", "check"))
    run(capsys, *A("metrics", "snapshot", "--target", "pipe", "--target", "ghost"))
    rc, text = run(capsys, *A("status"))
    assert rc == 1 and "pwned" in text, "the dead target's error (naming the database) is shown, made visible"
    run(capsys, *A("audit", "list", "--limit", "20"))



def test_partitions_commands_on_the_fixed_worst_cases(world, capsys):
    for name in WORST[:8]:
        world.plant_tables(name)
    run(capsys, *world.argv("partitions", "list", "--target", "pipe"))
    run(capsys, *world.argv("partitions", "ensure", "--target", "pipe", "--dry-run"))


# --------------------------------------------------------------------------- generated


FEW = settings(max_examples=3, deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                      HealthCheck.data_too_large])


@FEW
@given(name=hostile_text, id_text=hostile_text)
def test_diffs_commands_on_generated_names(world, capsys, name, id_text):
    rec = world.plant_diff(name, id_=f"diff-{id_text[:200]}-{uuid.uuid4().hex[:8]}")
    run(capsys, *world.argv("diffs", "list"))
    rc, text = run(capsys, *world.argv("diffs", "show", rec.id))
    assert rc == 0, text[-500:]


@FEW
@given(raw=st.binary(min_size=0, max_size=64), text=hostile_text)
def test_sessions_commands_on_generated_keys(world, capsys, raw, text):
    world.plant_redis(raw, text)
    run(capsys, *world.argv("sessions", "list"))
    run(capsys, *world.argv("sessions", "stats"))


@FEW
@given(name=hostile_text)
def test_schema_check_on_generated_names(world, capsys, name):
    world.plant_tables(name)
    run(capsys, *world.argv("schema", "check", "--target", "pipe"))


@FEW
@given(name=hostile_text)
def test_partitions_commands_on_generated_names(world, capsys, name):
    world.plant_tables(name)
    run(capsys, *world.argv("partitions", "list", "--target", "pipe"))
    run(capsys, *world.argv("partitions", "ensure", "--target", "pipe", "--dry-run"))


# --------------------------------------------------------------------------- mutating commands


def test_mutating_commands_say_hostile_text_as_text(world, capsys):
    """The text a mutating command prints while it works (plans, per-step progress, outcomes,
    refusals, server errors) on hostile names: partitions ensure run for real, schema apply,
    sessions delete/expire by escaped key, diffs approve/reject/execute of hostile diffs,
    activity cancel of a session whose application_name is hostile."""
    from console.core.sessions import keys as skeys
    from tests.activity_helpers import Victim, active_in, wait_until

    w = world
    for name in WORST[:8]:
        w.plant_tables(name)
    run(capsys, *w.argv("partitions", "ensure", "--target", "pipe", "--yes"))
    run(capsys, *w.argv("schema", "apply", "--target", "pipe", "--dry-run", "--allow-destructive"))
    run(capsys, *w.argv("schema", "apply", "--target", "pipe", "--yes", "--allow-destructive"))

    raw = "\x1b]0;pwned\x07[/]\u202e".encode() + b"\xff\x00\n"
    w.plant_redis(raw, "[bold]x[/bold]\x1b[2J")
    key = skeys.escaped(b"session:" + raw)
    rc, text = run(capsys, *w.argv("sessions", "expire", key, "60", "--yes"))
    assert rc == 0, text[-800:]
    rc, text = run(capsys, *w.argv("sessions", "delete", key, "--yes"))
    assert rc == 0 and not w.r.exists(b"session:" + raw), text[-800:]

    hostile_id = f"diff-[/]\x1b]0;pwned\x07\u202e{uuid.uuid4().hex[:6]}"
    rec = w.plant_diff("[/bold]閉じ\x1b[2J", id_=hostile_id)
    ok_rec = w.zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行"),
                       id=f"diff-ok[/]\x1b]0;t\x07{uuid.uuid4().hex[:6]}",
                       when=NOW + timedelta(minutes=5))
    run(capsys, *w.argv("diffs", "approve", rec.id))                    # invalid name: refused, said
    run(capsys, *w.argv("--as", "approver-1", "diffs", "approve", ok_rec.id))
    run(capsys, *w.argv("--as", "approver-1", "diffs", "execute", ok_rec.id))     # four-eyes: refused, said
    run(capsys, *w.argv("diffs", "reject", rec.id, "--reason", "\x1b]52;c;ZXZpbA==\x07[b]no[/b]\u202e"))

    v = Victim(w.pg.target.dsn, app="victim\x1b]0;pwned\x07[/]\u202e").start("SELECT pg_sleep(60)")
    try:
        wait_until(lambda: active_in(w.pg, v.pid, "pg_sleep"), "the victim's pg_sleep")
        run(capsys, *w.argv("activity", "--target", "pipe"))
        rc, text = run(capsys, *w.argv("activity", "cancel", str(v.pid), "--target", "pipe", "--yes"))
        assert rc == 0, text[-800:]
    finally:
        v.close(killer=w.pg)


def test_configuration_errors_show_hostile_values_as_text(tmp_path, capsys):
    """A configuration error quotes what it read (a context name, a key): made visible."""
    cfg = tmp_path / "c.toml"
    cfg.write_text('[contexts.dev]\nenvironment = "dev"\n')
    rc, text = run(capsys, "--config", str(cfg), "--context", "\x1b]0;pwned\x07[/]\u202e", "status")
    assert rc == 1 and "␛]0;pwned␇" in text, text
    cfg.write_text('"\x1b]0;key\x07" = 1\n'.replace("\x1b", "\\u001b").replace("\x07", "\\u0007"))
    rc, text = run(capsys, "--config", str(cfg), "status")
    assert rc == 1 and "configuration error" in text, text
