"""The command line only wires the library: help for everything, errors as one line."""

import argparse

import pytest

from ledger_export import cli


def _subcommands():
    parser = cli.build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {c.dest: c.help for c in action._choices_actions}
    return action.choices, helps


def test_every_command_and_option_has_help_text():
    choices, helps = _subcommands()
    assert {"demo", "fetch", "sandbox"} <= set(choices)
    for name, sub in choices.items():
        assert helps.get(name), f"command {name} has no one-line help"
        assert sub.description, f"command {name} has no description"
        for action in sub._actions:
            if action.option_strings and action.dest != "help":
                assert action.help, f"{name} {action.option_strings} has no help"


@pytest.mark.parametrize("argv", [["--help"], ["fetch", "--help"], ["demo", "--help"], ["sandbox", "--help"]])
def test_help_exits_zero(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 0
    assert "usage: ledger-export" in capsys.readouterr().out


def test_bad_usage_exits_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["fetch", "--no-such-flag"])
    assert exit_.value.code == 2


def test_expected_problem_is_one_line_and_exit_1(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = cli.main(["fetch", "--period", "2025-13"])
    err = capsys.readouterr().err
    assert code == 1
    assert err == "ledger-export: error: period '2025-13' is not a month written YYYY-MM, e.g. 2025-06\n"
