"""Timeout drill: a small TCP proxy in front of moto that can freeze (it accepts, then
stops forwarding). `diffs approve` while frozen: the DynamoDB write times out; the console
reads the item back and reports and audits what happened — ``ok`` when the write landed
(only its answer was lost), ``failed`` when it never arrived, ``unknown`` when even the read
back cannot get through — and says what to run next. The executor's claim is drilled the
same way: a claim that landed but whose answer was lost is recognised as ours and carried
through.

Short timeouts: ``[zengin] timeout = 0.5`` (botocore: 2 attempts)."""

from __future__ import annotations

import json
import socket
import threading

import pytest

from console.cli import main

from ..integration.test_diffs_helpers import bank, make_zen, update

A, B = "approver-1", "executor-2"


class FrozenProxy:
    """127.0.0.1:<port> -> upstream. Modes, for requests whose bytes contain ``match``
    (an ``X-Amz-Target`` operation), the next ``times`` of them:

    - ``lose_answer``: the request reaches moto; its connection's answers are dropped;
    - ``lose_request``: the request is dropped, moto never sees it;
    - ``freeze_all``: nothing is forwarded any more in either direction until ``thaw()``.
    """

    def __init__(self, upstream_port: int):
        self.upstream = ("127.0.0.1", upstream_port)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.mode: str | None = None
        self.match = b""
        self.times = 0
        self.seen = 0                    # matching requests affected
        self.frozen = False
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def arm(self, mode: str, match: bytes = b"", times: int = 1) -> None:
        with self.lock:
            self.mode, self.match, self.times, self.seen = mode, match, times, 0
            self.frozen = mode == "freeze_all"

    def thaw(self) -> None:
        with self.lock:
            self.mode, self.frozen = None, False

    def close(self) -> None:
        self.closed = True
        self.sock.close()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=10)
            except OSError:
                client.close()
                continue
            state = {"deaf": False}     # this connection's answers are dropped
            threading.Thread(target=self._pump, args=(client, server, state, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, state, False), daemon=True).start()

    def _pump(self, src, dst, state, upstream: bool) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                with self.lock:
                    if self.frozen:
                        continue                                 # swallowed
                    if upstream and self.mode and self.match in data and self.seen < self.times:
                        self.seen += 1
                        if self.mode == "lose_request":
                            continue
                        state["deaf"] = True
                    if not upstream and state["deaf"]:
                        continue
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass


@pytest.fixture
def drill(stack, fresh_db, tmp_path):
    zen = make_zen(stack, fresh_db)
    proxy = FrozenProxy(int(stack.moto.url.rsplit(":", 1)[1]))
    z = zen.settings.zengin
    cfg = tmp_path / "frozen.toml"
    cfg.write_text("[identity]\nallow_declared = true\n"
                   f'[postgres.{zen.pg.target.name}]\ndsn = "{zen.pg.target.dsn}"\nsystem = "zengin"\n'
                   f'[zengin]\nenv = "{z.env}"\nendpoint_url = "{proxy.url}"\ntarget = "{zen.pg.target.name}"\n'
                   "timeout = 0.5\n")
    try:
        yield zen, proxy, str(cfg)
    finally:
        proxy.close()


UPDATE = b"DynamoDB_20120810.UpdateItem"
EVERY = 100          # every attempt botocore makes (it retries a timed-out request)


def _approve(cfg, capsys, rec) -> tuple[int, dict]:
    rc = main(["--config", cfg, "diffs", "approve", rec.id, "--as", A, "--json"])
    out = json.loads(capsys.readouterr().out)["results"][0]
    return rc, out


def _audit(zen) -> list[str]:
    """The per-diff records (the batch's own intent row, which carries no diff id, aside)."""
    return [r["outcome"] for r in zen.audit("diffs.approve") if (r["detail"] or {}).get("id")]


def test_approve_whose_answer_is_lost_is_read_back_as_ok(drill, capsys):
    zen, proxy, cfg = drill
    rec = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行"))
    proxy.arm("lose_answer", UPDATE, times=EVERY)      # every attempt lands (or conflicts), answer lost
    rc, out = _approve(cfg, capsys, rec)
    assert proxy.seen >= 1, "the drill froze nothing"
    assert zen.get(rec).status == "approved" and zen.get(rec).approvedBy == A
    assert (rc, out["outcome"]) == (0, "ok"), out["message"]
    assert "timed out" in out["message"] and "read back" in out["message"]
    assert _audit(zen) == ["ok"]


def test_approve_that_never_arrived_is_read_back_as_failed(drill, capsys):
    zen, proxy, cfg = drill
    rec = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行"))
    proxy.arm("lose_request", UPDATE, times=EVERY)
    rc, out = _approve(cfg, capsys, rec)
    assert proxy.seen >= 2, "botocore retried"
    assert zen.get(rec).status == "pending"
    assert rc == 1 and out["outcome"] == "failed" and "did not change" in out["message"], out
    assert _audit(zen) == ["failed"]
    proxy.thaw()
    rc, out = _approve(cfg, capsys, rec)                # what to run next: simply again
    assert rc == 0 and zen.get(rec).status == "approved"


def test_approve_with_the_endpoint_frozen_is_unknown_and_says_what_to_run(drill, capsys):
    zen, proxy, cfg = drill
    rec = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行"))
    # freeze as soon as the write goes out: it may or may not have landed, and nothing
    # (not even the read back) gets an answer
    proxy.arm("lose_answer", UPDATE, times=1)
    threading.Thread(target=_freeze_when_seen, args=(proxy,), daemon=True).start()
    rc, out = _approve(cfg, capsys, rec)
    assert rc == 5 and out["outcome"] == "unknown", out
    assert f"console diffs show {rec.id}" in out["message"], "it says what to run next"
    assert _audit(zen) == ["unknown"]
    proxy.thaw()
    assert main(["--config", cfg, "diffs", "show", rec.id, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == "approved", "the write had landed: the read back after the thaw shows it"


def _freeze_when_seen(proxy: FrozenProxy) -> None:
    """Freeze everything once the write has gone out (a condition, polled; not a sleep)."""
    import time
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with proxy.lock:
            if proxy.seen >= 1:
                proxy.frozen = True
                return
        time.sleep(0.005)


def test_execute_whose_claim_answer_is_lost_is_read_back(drill, capsys):
    zen, proxy, cfg = drill
    rec = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行"))
    assert main(["--config", cfg, "diffs", "approve", rec.id, "--as", A]) == 0
    capsys.readouterr()
    proxy.arm("lose_answer", UPDATE, times=EVERY)
    rc = main(["--config", cfg, "diffs", "execute", rec.id, "--as", B, "--json"])
    out = json.loads(capsys.readouterr().out)["results"][0]
    assert proxy.seen >= 1
    claimed = zen.get(rec)
    assert claimed.status in ("executing", "completed")
    # expected: the claim is read back: either carried through (completed) or reported
    # unknown with the command to run next
    assert out["outcome"] in ("ok", "unknown"), out
    if out["outcome"] == "unknown":
        assert rc == 5 and "reconcile" in out["message"]
    executes = [r["outcome"] for r in zen.audit("diffs.execute")]
    assert "failed" not in executes, executes
