"""`gordon nats-auth` and `gordon outbox-policies`: write, check, and name a stale file in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from gordon import nats_auth
from gordon.cli import main
from migrations import outbox_policies
from schemas import REGISTRY


def test_nats_auth_writes_checks_and_names_a_stale_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "auth.conf"
    assert main(["nats-auth", "--output", str(path)]) == 0
    assert path.read_text() == nats_auth.render(REGISTRY)
    assert main(["nats-auth", "--check", "--output", str(path)]) == 0
    path.write_text(path.read_text().replace('"intents.executor"', '"trading.>"', 1))
    capsys.readouterr()
    assert main(["nats-auth", "--check", "--output", str(path)]) == 1
    out, err = capsys.readouterr()
    assert err.strip() == f"gordon nats-auth: {path} is stale; run `gordon nats-auth`"
    assert '-            "trading.>"' in out
    assert '+            "intents.executor"' in out


def test_nats_auth_prints_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nats-auth", "--output", "-"]) == 0
    assert capsys.readouterr().out == nats_auth.render(REGISTRY)


def test_outbox_policies_stale_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "migrations").mkdir()
    assert outbox_policies.write(REGISTRY, tmp_path) is True
    assert outbox_policies.write(REGISTRY, tmp_path) is False
    assert outbox_policies.stale(REGISTRY, tmp_path) == ""
    sql = tmp_path / outbox_policies.SQL_PATH
    sql.write_text(sql.read_text().replace("producer = 'bot'", "producer = 'executor'"))
    assert "+    WITH CHECK (producer = 'bot'" in outbox_policies.stale(REGISTRY, tmp_path)
