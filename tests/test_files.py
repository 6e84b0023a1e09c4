import os

import pytest

from ledger_export.errors import OutputError
from ledger_export.files import write_atomic, write_folder_atomic


def test_write_atomic_replaces_whole_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "sub" / "a.si"
    write_atomic(target, b"old")
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert os.listdir(target.parent) == ["a.si"]


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "a.si"
    write_atomic(target, b"old")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OutputError, match="No space left"):
        write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["a.si"]


def test_write_folder_atomic_swaps_the_whole_folder(tmp_path):
    folder = tmp_path / "raw"
    write_folder_atomic(folder, {"a.json": b"1", "b.json": b"2"})
    write_folder_atomic(folder, {"a.json": b"3"})
    assert sorted(os.listdir(folder)) == ["a.json"]
    assert (folder / "a.json").read_bytes() == b"3"
    assert sorted(os.listdir(tmp_path)) == ["raw"]


def test_write_folder_atomic_refuses_names_that_escape(tmp_path):
    with pytest.raises(OutputError, match="outside"):
        write_folder_atomic(tmp_path / "raw", {"../evil": b"x"})
    assert not (tmp_path / "evil").exists()
    assert os.listdir(tmp_path) == []


def test_outputs_get_ordinary_permissions_not_private_temp_ones(tmp_path):
    from ledger_export.files import FILE_MODE, FOLDER_MODE

    write_atomic(tmp_path / "a.si", b"x")
    write_folder_atomic(tmp_path / "raw", {"a.json": b"1"})
    assert (tmp_path / "a.si").stat().st_mode & 0o777 == FILE_MODE
    assert (tmp_path / "raw").stat().st_mode & 0o777 == FOLDER_MODE


def test_publish_puts_every_output_in_place_and_replaces_folders_whole(tmp_path):
    from ledger_export.files import publish

    (tmp_path / "self-invoices").mkdir()
    (tmp_path / "self-invoices" / "a.pdf").write_bytes(b"%PDF")
    publish(tmp_path, {"raw/a.json": b"1", "raw/b.json": b"2", "x.si": b"si", "manifest.json": b"{}"},
            last="manifest.json")
    publish(tmp_path, {"raw/a.json": b"3", "x.si": b"si2", "manifest.json": b"{2}"}, last="manifest.json")
    assert sorted(os.listdir(tmp_path)) == ["manifest.json", "raw", "self-invoices", "x.si"]
    assert sorted(os.listdir(tmp_path / "raw")) == ["a.json"]
    assert (tmp_path / "x.si").read_bytes() == b"si2"
    assert (tmp_path / "self-invoices" / "a.pdf").read_bytes() == b"%PDF"


def test_publish_that_fails_midway_changes_nothing(tmp_path, monkeypatch):
    from ledger_export import files

    files.publish(tmp_path, {"x.si": b"old", "manifest.json": b"old"})
    real_open = open
    calls = []

    def failing_open(path, mode="r", *args, **kwargs):
        if "w" in mode and str(path).endswith(".xlsx"):
            calls.append(path)
            raise OSError(28, "No space left on device")
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", failing_open)
    with pytest.raises(OutputError, match="No space left"):
        files.publish(tmp_path, {"x.si": b"new", "x.xlsx": b"new", "manifest.json": b"new"})
    monkeypatch.undo()
    assert calls
    assert sorted(os.listdir(tmp_path)) == ["manifest.json", "x.si"]
    assert (tmp_path / "x.si").read_bytes() == b"old"


def test_publish_moves_a_staged_file_into_place_and_the_manifest_can_vouch_for_it(tmp_path):
    from ledger_export.files import output_digest, publish, stage_file, staging_folder

    with staging_folder(tmp_path / "out") as folder:
        staged = stage_file(folder / "big.json", [b"[\n", b"1\n", b"]\n"])
        assert output_digest(staged) == output_digest(b"[\n1\n]\n")
        publish(tmp_path / "out" / "2025-06", {"raw/big.json": staged, "a.si": b"sie"})
        assert not staged.path.exists()  # moved, not copied
    assert (tmp_path / "out" / "2025-06" / "raw" / "big.json").read_bytes() == b"[\n1\n]\n"
    assert os.listdir(tmp_path / "out") == ["2025-06"]


def test_a_failed_run_takes_its_staging_folder_with_it(tmp_path):
    from ledger_export.files import stage_file, staging_folder

    with pytest.raises(RuntimeError):
        with staging_folder(tmp_path) as folder:
            stage_file(folder / "raw" / "a.json", [b"x"])
            raise RuntimeError("the run failed after staging")
    assert os.listdir(tmp_path) == []
