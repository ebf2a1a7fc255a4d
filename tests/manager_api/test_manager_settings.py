"""The manager API's settings: GORDON_MANAGER_TOKEN, GORDON_MANAGER_HOST and GORDON_MANAGER_PORT."""

from __future__ import annotations

import pytest

from settings.environment import Settings, SettingsError


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert (settings.manager_token, settings.manager_host, settings.manager_port) == (None, "127.0.0.1", 8083)
    assert settings.service_ports == {
        "data": 8081,
        "risk": 8082,
        "manager": 8083,
        "bot": 8084,
        "executor": 8085,
    }
    assert settings.workers_port == 8086


def test_each_service_port_is_settable_and_checked() -> None:
    settings = Settings.from_env({"GORDON_RISK_PORT": "9182", "GORDON_HTTP_HOST": "0.0.0.0"})
    assert (settings.http_port("risk"), settings.http_address("risk")) == (9182, "0.0.0.0")
    assert settings.http_address("manager") == "127.0.0.1"
    with pytest.raises(SettingsError, match=r"GORDON_BOT_PORT: expected a port 0\.\.65535, got 'x'"):
        Settings.from_env({"GORDON_BOT_PORT": "x"})


def test_values_are_read() -> None:
    env = {"GORDON_MANAGER_TOKEN": "t" * 16, "GORDON_MANAGER_HOST": "0.0.0.0", "GORDON_MANAGER_PORT": "0"}
    settings = Settings.from_env(env)
    assert (settings.manager_token, settings.manager_host, settings.manager_port) == ("t" * 16, "0.0.0.0", 0)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"GORDON_MANAGER_TOKEN": "short"},
            "GORDON_MANAGER_TOKEN: expected at least 16 characters and no spaces (got 5 characters)",
        ),
        (
            {"GORDON_MANAGER_TOKEN": "sixteen chars ok"},
            "GORDON_MANAGER_TOKEN: expected at least 16 characters and no spaces (got 16 characters)",
        ),
        ({"GORDON_MANAGER_PORT": "65536"}, "GORDON_MANAGER_PORT: expected a port 0..65535, got '65536'"),
        ({"GORDON_MANAGER_PORT": "eighty"}, "GORDON_MANAGER_PORT: expected a port 0..65535, got 'eighty'"),
    ],
)
def test_bad_values_are_one_line_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as bad:
        Settings.from_env(env)
    assert str(bad.value) == message
