"""The command line only wires the library: help for everything, errors as one line."""

import argparse

import pytest

from ledger_export import cli


def _subcommands():
    parser = cli.build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {c.dest: c.help for c in action._choices_actions}
    return action.choices, helps


def _walk(parser, path=()):
    """Every (command path, parser, one-line help) below ``parser``, nested ones included."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {c.dest: c.help for c in action._choices_actions}
            for name, sub in action.choices.items():
                yield (*path, name), sub, helps.get(name)
                yield from _walk(sub, (*path, name))


def test_every_command_and_option_has_help_text():
    commands = list(_walk(cli.build_parser()))
    names = {" ".join(path) for path, _, _ in commands}
    assert {"demo", "export", "fetch", "init", "payments", "payments register", "sandbox", "validate"} <= names
    for path, sub, one_line in commands:
        assert one_line, f"command {' '.join(path)} has no one-line help"
        assert sub.description, f"command {' '.join(path)} has no description"
        for action in sub._actions:
            if action.dest != "help" and not isinstance(action, argparse._SubParsersAction):
                assert action.help, f"{' '.join(path)} {action.option_strings or action.dest} has no help"


@pytest.mark.parametrize("argv", [["--help"], ["fetch", "--help"], ["demo", "--help"], ["sandbox", "--help"],
                                  ["export", "--help"], ["validate", "--help"], ["init", "--help"],
                                  ["payments", "register", "--help"]])
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


def test_init_writes_a_starter_that_loads_and_refuses_to_overwrite(tmp_path, capsys):
    from ledger_export.jobs import config

    target = tmp_path / "ledger-export.toml"
    assert cli.main(["init", str(target)]) == 0
    assert config.load(target).ledger.bank_account == 1930
    target.write_text("# mine\n", encoding="utf-8")
    assert cli.main(["init", str(target)]) == 1
    assert "exists already" in capsys.readouterr().err
    assert target.read_text(encoding="utf-8") == "# mine\n"
    assert cli.main(["init", str(target), "--force"]) == 0


def test_dry_run_prints_summary_and_vouchers_and_writes_nothing(sandbox, tmp_path, monkeypatch, capsys):
    from ledger_export.core.resources import SAMPLES

    monkeypatch.setenv("AMILI_API_KEY", sandbox.api_key)
    code = cli.main(["export", "--period", "2025-06", "--config", str(SAMPLES / "ledger-export.toml"),
                     "--base-url", sandbox.base_url, "--out", str(tmp_path), "--dry-run"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Per account" in out and "Vouchers (13):" in out
    assert "1930 Företagskonto" in out and "Dry run: nothing was written." in out
    assert list(tmp_path.iterdir()) == []
