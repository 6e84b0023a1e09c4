import pytest

from ledger_export.jobs import config
from ledger_export.core.errors import ConfigError

GOOD = """
[company]
name = "Exempelbolaget AB"
orgnr = "556677-8899"
[amili]
base_url = "http://127.0.0.1:8765"
creditor = "686e6ed854377058c2dd10bd"
"""


def test_the_documented_keys_load(tmp_path):
    path = tmp_path / "ledger-export.toml"
    path.write_text(GOOD, encoding="utf-8")
    c = config.load(path)
    assert c.company.name == "Exempelbolaget AB"
    assert c.company.orgnr == "556677-8899"
    assert c.amili.base_url == "http://127.0.0.1:8765"
    assert c.amili.creditor == "686e6ed854377058c2dd10bd"
    assert c.amili.page_size == 100 and c.amili.concurrency == 4


def test_command_line_flags_override_the_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(GOOD, encoding="utf-8")
    c = config.load(path, overrides={"amili.base_url": "http://127.0.0.1:9999/", "output.folder": "x",
                                     "amili.creditor": None})
    assert c.amili.base_url == "http://127.0.0.1:9999"
    assert c.output.folder == "x"
    assert c.amili.creditor == "686e6ed854377058c2dd10bd"  # None means "flag not given"


def test_default_file_in_working_folder_is_used(tmp_path, monkeypatch):
    (tmp_path / "ledger-export.toml").write_text(GOOD, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert config.load().company.orgnr == "556677-8899"


def test_no_file_gives_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert config.load().amili.base_url == "https://api-sandbox.amili.se"


@pytest.mark.parametrize("doc, key", [
    ({"company": {"orgnr": "556677-8898"}}, "company.orgnr"),
    ({"company": {"nmae": "typo"}}, "company.nmae"),
    ({"amili": {"creditor": "abc"}}, "amili.creditor"),
    ({"amili": {"base_url": "ftp://x"}}, "amili.base_url"),
    ({"amili": {"page_size": 500}}, "amili.page_size"),
    ({"amili": {"concurrency": 0}}, "amili.concurrency"),
    ({"amili": {"read_timeout": "slow"}}, "amili.read_timeout"),
    ({"amili": {"max_retries": True}}, "amili.max_retries"),
    ({"amili": {"jwt_algorithm": "HS256"}}, "amili.jwt_algorithm"),
    ({"amili": {"media_url": "http://x/media"}}, "amili.media_url"),
    ({"unknown_section": {}}, "unknown_section"),
    ({"company": "not a table"}, "company"),
])
def test_bad_configuration_names_the_key(doc, key):
    with pytest.raises(ConfigError) as err:
        config.from_dict(doc, source="x.toml")
    assert f"[{key}]" in str(err.value)
    assert str(err.value).startswith("x.toml:")


def test_missing_file_and_bad_toml_are_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        config.load(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[company\nname=", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.load(bad)


def test_private_key_path_is_relative_to_the_config_file(tmp_path, monkeypatch):
    folder = tmp_path / "conf"
    folder.mkdir()
    (folder / "c.toml").write_text('[amili]\nprivate_key_file = "keys/amili.pem"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert config.load(folder / "c.toml").amili.private_key_file == str(folder / "keys" / "amili.pem")


def test_starter_file_loads_and_names_every_setting(tmp_path):
    import dataclasses

    from ledger_export.jobs.starter import starter_config

    path = tmp_path / "ledger-export.toml"
    path.write_text(starter_config(), encoding="utf-8")
    loaded = config.load(path)
    assert loaded.company == config.Company(orgnr="") and loaded.amili == config.AmiliSettings()
    text = starter_config()
    for section in (config.Company, config.AmiliSettings, config.OutputSettings):
        for f in dataclasses.fields(section):
            assert f"{f.name} =" in text, f"starter file does not mention {f.name}"
