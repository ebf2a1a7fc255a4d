"""Settings come from GORDON_* variables; a bad value is one line that names the variable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gordon.cli import main
from settings.environment import Settings, SettingsError, nats_servers, redact_password


def test_defaults_when_nothing_is_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({})
    assert settings == Settings(nats_url=None, database_url=None, data_dir=tmp_path / ".data")


def test_values_are_read_and_data_dir_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env(
        {
            "GORDON_NATS_URL": "nats://127.0.0.1:4333,nats://127.0.0.1:4334",
            "GORDON_DATABASE_URL": "postgresql://gordon:secret@db.local:5433/gordon",
            "GORDON_DATA_DIR": "state",
        }
    )
    assert settings.nats_url == "nats://127.0.0.1:4333,nats://127.0.0.1:4334"
    assert settings.database_url == "postgresql://gordon:secret@db.local:5433/gordon"
    assert settings.data_dir == tmp_path / "state"
    assert settings.data_dir.is_absolute()


def test_empty_values_count_as_unset() -> None:
    settings = Settings.from_env({"GORDON_NATS_URL": "", "GORDON_DATABASE_URL": "  "})
    assert settings.nats_url is None
    assert settings.database_url is None


def test_settings_are_frozen() -> None:
    settings = Settings.from_env({})
    with pytest.raises(AttributeError):
        settings.nats_url = "nats://elsewhere:4222"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("GORDON_NATS_URL", "http://127.0.0.1:4222", "nats://"),
        ("GORDON_NATS_URL", "127.0.0.1:4222", "nats://"),
        ("GORDON_NATS_URL", "nats://127.0.0.1:notaport", "Port"),
        ("GORDON_NATS_URL", "nats://ok:4222,http://bad:1", "nats://"),
        ("GORDON_DATABASE_URL", "mysql://root@127.0.0.1/db", "postgresql://"),
        ("GORDON_DATABASE_URL", "postgresql://127.0.0.1:5432/db", "no user"),
        ("GORDON_DATABASE_URL", "postgresql://u@/db", "no host"),
        ("GORDON_DATABASE_URL", "postgresql://u@h:99999999/db", "out of range"),
        ("GORDON_STREAM_REPLICAS", "0", "1..5"),
        ("GORDON_STREAM_REPLICAS", "6", "1..5"),
        ("GORDON_STREAM_REPLICAS", "-3", "1..5"),
        ("GORDON_STREAM_REPLICAS", "three", "'three'"),
        ("GORDON_STREAM_REPLICAS", "2.5", "'2.5'"),
    ],
)
def test_bad_values_fail_in_one_line_naming_the_variable(variable: str, value: str, says: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({variable: value})
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{variable}: ")
    assert says in message


def test_data_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("not a directory")
    with pytest.raises(SettingsError, match=r"^GORDON_DATA_DIR: .* is not a directory$"):
        Settings.from_env({"GORDON_DATA_DIR": str(a_file)})


def test_errors_never_show_the_database_password() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"GORDON_DATABASE_URL": "mysql://root:hunter2@127.0.0.1/db"})
    assert "hunter2" not in str(raised.value)
    assert "root:***@127.0.0.1" in str(raised.value)


def test_redact_password_leaves_urls_without_one_alone() -> None:
    assert redact_password("postgresql://u@h/db") == "postgresql://u@h/db"
    assert redact_password("postgresql://u:p@h:1/db?x=1") == "postgresql://u:***@h:1/db?x=1"


def test_cli_reports_a_bad_setting_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GORDON_NATS_URL", "http://127.0.0.1:4222")
    assert main(["up"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("gordon up: GORDON_NATS_URL: ")


def test_cli_reports_a_bad_argument_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["no-such-command"])
    assert exited.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert "no-such-command" in lines[0]


def test_a_nats_url_may_list_a_clusters_nodes() -> None:
    url = "nats://n1:4222, nats://n2:4222,nats://n3:4222"
    assert Settings.from_env({"GORDON_NATS_URL": url}).nats_url == url
    assert nats_servers(url) == ["nats://n1:4222", "nats://n2:4222", "nats://n3:4222"]
    assert nats_servers("nats://127.0.0.1:4222") == ["nats://127.0.0.1:4222"]


@pytest.mark.parametrize(("value", "count"), [("1", 1), ("3", 3), (" 5 ", 5), ("", None)])
def test_stream_replicas_is_a_count_from_1_to_5_or_unset(value: str, count: int | None) -> None:
    assert Settings.from_env({"GORDON_STREAM_REPLICAS": value}).stream_replicas == count
    assert Settings.from_env({}).stream_replicas is None


def test_cli_reports_a_bad_stream_replicas_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GORDON_STREAM_REPLICAS", "7")
    assert main(["up"]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["gordon up: GORDON_STREAM_REPLICAS: expected a replica count 1..5, got '7'"]


def test_unset_urls_come_from_a_running_gordon_up(tmp_path: Path) -> None:
    from settings import endpoints

    run = endpoints.RunEndpoints("nats://127.0.0.1:4999", "postgresql://o@127.0.0.1:5999/g", os.getpid())
    endpoints.write(tmp_path, run)
    settings = Settings.from_env({"GORDON_DATA_DIR": str(tmp_path)})
    assert (settings.nats_url, settings.database_url) == (run.nats_url, run.database_url)
    assert settings.running == run
    given = Settings.from_env({"GORDON_DATA_DIR": str(tmp_path), "GORDON_NATS_URL": "nats://10.0.0.1:1"})
    assert given.nats_url == "nats://10.0.0.1:1", "a variable that is set wins"
    assert Settings.from_env({"GORDON_DATA_DIR": str(tmp_path)}, use_running=False).nats_url is None


def test_an_endpoints_file_of_a_run_that_died_is_reported_not_used(tmp_path: Path) -> None:
    import subprocess

    from settings import endpoints

    dead = subprocess.Popen(["true"])  # a pid that no longer runs
    dead.wait()
    endpoints.write(tmp_path, endpoints.RunEndpoints("nats://127.0.0.1:1", "postgresql://o@h/g", dead.pid))
    settings = Settings.from_env({"GORDON_DATA_DIR": str(tmp_path)})
    assert settings.nats_url is None
    line = settings.not_set("GORDON_NATS_URL", "the bus", "--nats-url")
    assert line.startswith("no NATS server for the bus: GORDON_NATS_URL is not set and ")
    assert f"pid {dead.pid}) that is no longer running" in line
    assert line.endswith("(set GORDON_NATS_URL or pass --nats-url, or start `gordon up`)")
    endpoints.path(tmp_path).write_text("{not json")
    with pytest.raises(endpoints.EndpointsFileError, match="unreadable endpoints file"):
        Settings.from_env({"GORDON_DATA_DIR": str(tmp_path)})
