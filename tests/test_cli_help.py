"""`gordon COMMAND --help` ends with examples to copy and the GORDON_* variables that apply; every
example is a command line the parser accepts, and every variable named is described."""

from __future__ import annotations

import shlex

import pytest

from gordon import helptext
from gordon.cli import build_parser, main
from gordon.commands import COMMANDS


def test_every_command_has_its_help_entry() -> None:
    assert set(helptext.HELP) == set(COMMANDS)
    for found in helptext.HELP.values():
        assert found.examples
        assert set(found.variables) <= set(helptext.VARIABLES)
        assert set(found.meaning) <= set(found.variables)


def argv_of(example: str) -> list[str]:
    """An example's arguments after `gordon`, without the variables set before it or a comment."""
    words = shlex.split(example, comments=True)
    while "=" in words[0]:
        words.pop(0)
    assert words[0] == "gordon", example
    return words[1:]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_example_parses(command: str) -> None:
    for example in helptext.HELP[command].examples:
        args = build_parser(command).parse_args(argv_of(example))
        assert args.command == command, example
        assert getattr(args, "handler", None) is not None, f"{example}: names no action"


def test_help_of_a_command_and_of_its_action_ends_with_examples_and_variables(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for argv in (["projections", "--help"], ["projections", "rebuild", "--help"]):
        with pytest.raises(SystemExit) as done:
            main(argv)
        assert done.value.code == 0
        text = capsys.readouterr().out
        examples = text.index("examples:\n  gordon projections status\n")
        environment = text.index("environment:\n  GORDON_NATS_URL ")
        assert examples < environment
        assert "GORDON_DATA_DIR=.data gordon projections status --format json  # from a second shell" in text
    with pytest.raises(SystemExit):
        main(["up", "--help"])
    up = capsys.readouterr().out
    assert "unset: an embedded nats-server" in up, "what a variable means for this command"
    with pytest.raises(SystemExit):
        main(["schemas", "--help"])
    assert "environment: none (it reads only the project's files)" in capsys.readouterr().out
