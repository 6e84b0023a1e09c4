"""A token that cannot travel in a header is refused at the start, in one line that shows none of it.

requests refuses a header value with a line break by quoting the value (the
token) in its exception, and http.client fails on a non-Latin-1 character
with a traceback; both used to reach the terminal as tracebacks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from ledger_export.amili.auth import StaticToken, token_provider
from ledger_export.amili.settings import AmiliSettings
from ledger_export.core.errors import ConfigError
from ledger_export.core.resources import SAMPLES

# Two halves, so the test can tell that neither part of the token is shown.
HALVES = ("Zq9xK7eyJhbGci", "Wm3pR8vTOiJFUzUxMiJ9")
BROKEN = {
    "line break": "\n",
    "carriage return": "\r\n",
    "space": " ",
    "tab": "\t",
    "control character": "\x1b",
    "non-Latin-1 character": "€",
    "Latin-1 letter": "ö",
}


def token_with(separator: str) -> str:
    return separator.join(HALVES)


def shows_none_of_it(text: str) -> bool:
    return not any(half in text for half in HALVES) and "Zq9xK7" not in text


def fetch(base_url: str, tmp_path, env: dict, config=SAMPLES / "ledger-export.toml") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ledger_export", "fetch", "--period", "2025-06", "--config", str(config),
         "--base-url", base_url, "--out", str(tmp_path / "out"), "--verbose"],
        env={**{k: v for k, v in os.environ.items() if not k.startswith("AMILI_")}, **env},
        capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("separator", BROKEN.values(), ids=BROKEN.keys())
def test_a_malformed_token_from_the_environment_is_one_line_naming_the_variable(sandbox, tmp_path, separator):
    done = fetch(sandbox.base_url, tmp_path, {"AMILI_API_KEY": token_with(separator)})
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("ledger-export: error: "), done.stderr
    assert "AMILI_API_KEY" in done.stderr and "Traceback" not in done.stderr
    assert shows_none_of_it(done.stdout + done.stderr)
    # Refused before anything was asked of Amili.
    assert sandbox.requests == []
    assert not (tmp_path / "out" / "2025-06").exists()


def test_a_malformed_token_in_amilis_api_code_answer_is_one_line_without_it(sandbox, tmp_path):
    sandbox.tokens.issue = lambda: (token_with("\n"), time.time() + 3600)
    config = tmp_path / "ledger-export.toml"
    config.write_text(f'[amili]\nbase_url = "{sandbox.base_url}"\ncreditor = "686e6ed854377058c2dd10bd"\n'
                      f'private_key_file = "{SAMPLES / "keys" / "sandbox-creditor-es512.pem"}"\n', encoding="utf-8")
    done = fetch(sandbox.base_url, tmp_path, {"AMILI_API_CODE": sandbox.api_code}, config=config)
    assert done.returncode == 1, done.stderr
    # --verbose logs the requests first; the error is the one line after them.
    error = done.stderr.splitlines()[-1]
    assert error.startswith("ledger-export: error: ") and done.stderr.count("ledger-export:") == 1, done.stderr
    assert "/authenticates/api-code" in error and "line break" in error
    assert "Traceback" not in done.stderr and shows_none_of_it(done.stdout + done.stderr)
    # The token was never sent on: no resource was asked for with it.
    assert [r.path for r in sandbox.requests] == ["/authenticates/api-code"]


@pytest.mark.parametrize("separator", BROKEN.values(), ids=BROKEN.keys())
def test_the_shape_check_names_the_kind_of_character_only(separator):
    settings = AmiliSettings(api_key_env="MY_AMILI_TOKEN")
    with pytest.raises(ConfigError) as refused:
        token_provider(settings, environ={"MY_AMILI_TOKEN": token_with(separator)})
    message = str(refused.value)
    assert "MY_AMILI_TOKEN" in message and message.splitlines() == [message] and shows_none_of_it(message)


def test_surrounding_white_space_is_not_part_of_the_token_and_a_good_token_passes():
    provider = token_provider(AmiliSettings(), environ={"AMILI_API_KEY": f"  {HALVES[0]}.{HALVES[1]}-_~+/=\n"})
    assert provider.token() == f"{HALVES[0]}.{HALVES[1]}-_~+/="
    assert StaticToken("sandbox-key").token() == "sandbox-key"
