"""Read-only only tightens (the whole matrix), identity rules, name character sets."""

from __future__ import annotations

import itertools

import pytest

from console import config as C
from console.core import identity
from console.core.zengin.records import DiffEntry
from console.core.zengin.validate import entry_problems, name_char_problems

ENV_VALUES = [None, "", "0", "no", "false", "False", "off", "1", "true", "yes", "on", "TRUE"]
TRUE = {"1", "true", "yes", "on"}


@pytest.mark.parametrize("file_ro,env,flag", list(itertools.product((None, False, True), ENV_VALUES,
                                                                     (None, False, True))))
def test_read_only_matrix(tmp_path, file_ro, env, flag):
    path = tmp_path / "c.toml"
    path.write_text("" if file_ro is None else f"read_only = {str(file_ro).lower()}\n")
    environ = {} if env is None else {"CONSOLE_READ_ONLY": env}
    s = C.load(path, env=environ, read_only=flag)
    expected = bool(file_ro) or (env is not None and env.strip().lower() in TRUE) or bool(flag)
    assert s.read_only is expected
    if file_ro or flag:
        assert s.read_only, "nothing lifts a read-only the file or the flag set"


def test_unknown_read_only_value_is_an_error(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("read_only = true\n")
    with pytest.raises(C.ConfigError, match="CONSOLE_READ_ONLY"):
        C.load(path, env={"CONSOLE_READ_ONLY": "maybe"})


def test_declared_identity_needs_allow_declared(tmp_path):
    s = C.parse_text('operator = "alice"\n')
    assert s.identity.allow_declared is False
    with pytest.raises(identity.IdentityRefused, match="allow_declared"):
        identity.for_cli(s, "postgres")
    with pytest.raises(identity.IdentityRefused):
        identity.for_cli(C.Settings(), "aws", "bob")
    ok = C.parse_text('operator = "alice"\n[identity]\nallow_declared = true\n')
    p = identity.for_cli(ok, "postgres")
    assert p == "alice" and p.declared and not p.verified
    assert identity.DECLARED_NOTE in identity.confirmation_note(p)
    assert "declared" in p.label()


def test_postgres_principal_without_a_declared_name_is_left_to_the_audit_target():
    p = identity.for_cli(C.Settings(), "postgres")
    assert p.source == identity.UNRESOLVED and not p.verified


def test_principal_keeps_provenance_and_compares_by_name():
    a = identity.Principal("arn:aws:iam::123456789012:user/alice", identity.AWS)
    b = identity.Principal("arn:aws:iam::123456789012:user/alice", identity.AWS)
    c = identity.Principal("arn:aws:iam::123456789012:user/bob", identity.AWS)
    assert a.verified and identity.same_principal(a, b) and not identity.same_principal(a, c)
    assert identity.Principal("x", identity.DECLARED, True).verified is False, "declared is never verified"
    assert not identity.same_principal("", "")


def test_ssh_origin():
    assert identity.ssh_origin({"SSH_CONNECTION": "10.0.0.5 52311 10.0.0.1 22"}) == "10.0.0.5 52311"
    assert identity.ssh_origin({"SSH_CLIENT": "10.0.0.6 4000 22"}) == "10.0.0.6 4000"
    assert identity.ssh_origin({}) is None


HOSTILE = {"ESC": "\x1b]0;pwned\x07", "BEL": "\x07", "CR": "a\rb", "NUL": "a\x00b", "C1": "a\x85b",
           "RLO": "abc\u202eevil", "ZWSP": "a\u200bb", "ZWJ": "a\u200db", "BOM": "\ufeffa", "LRI": "\u2066x"}


@pytest.mark.parametrize("label", sorted(HOSTILE))
def test_names_with_hidden_characters_are_invalid(label):
    bad = HOSTILE[label]
    old = {"bankCode": "0009", "bankName": "三井住友", "bankKana": "ミツイスミトモ"}
    e = DiffEntry("update", {**old, "bankName": bad}, old, {"bankName": {"old": "三井住友", "new": bad}})
    problems = entry_problems(e)
    assert any("bankName" in p and "U+" in p for p in problems), problems
    # each offending character is listed
    n_bad = sum(1 for ch in bad if name_char_problems("x", ch))
    assert len(name_char_problems("x", bad)) == n_bad >= 1


def test_plain_names_stay_valid_and_current_data_may_hold_anything():
    old = {"bankCode": "0009", "bankName": "三井住友\x1b", "bankKana": "ミツイスミトモ"}
    new = {**old, "bankName": "三井住友銀行 (Sumitomo) ・ー"}
    e = DiffEntry("update", new, old, {"bankName": {"old": old["bankName"], "new": new["bankName"]}})
    assert not [p for p in entry_problems(e) if "U+" in p]
