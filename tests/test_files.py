"""Outputs appear whole or not at all, and a published file is never replaced."""

import errno
import os
import stat

import pytest

from ledger_export.core import files
from ledger_export.core.errors import OutputError
from ledger_export.core.files import (FILE_MODE, FOLDER_MODE, output_digest, publish, remove_stale_staging,
                                 rename_noreplace, stage_file, staging_folder, write_atomic)


def test_write_atomic_replaces_whole_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "sub" / "a.toml"
    write_atomic(target, b"old")
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert os.listdir(target.parent) == ["a.toml"]


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "a.toml"
    write_atomic(target, b"old")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OutputError, match="No space left"):
        write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["a.toml"]


def test_write_atomic_can_give_a_private_mode(tmp_path):
    write_atomic(tmp_path / "tokens.json", b"{}", mode=0o600)
    assert (tmp_path / "tokens.json").stat().st_mode & 0o777 == 0o600


def _publish(root, outputs, last="manifest.json"):
    with staging_folder(root) as staging:
        return publish(root / "2025-06", outputs, staging=staging, last=last, root=root)


def _tree(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_publish_puts_every_output_in_place_files_into_a_folder_that_exists_one_by_one(tmp_path):
    (tmp_path / "2025-06" / "self-invoices").mkdir(parents=True)
    (tmp_path / "2025-06" / "self-invoices" / "a.pdf").write_bytes(b"%PDF a")
    placed = _publish(tmp_path, {"raw/a.json": b"1", "raw/b.json": b"2", "x.si": b"si", "manifest.json": b"{}",
                                 "self-invoices/b.pdf": b"%PDF b"})
    assert _tree(tmp_path) == ["2025-06/manifest.json", "2025-06/raw/a.json", "2025-06/raw/b.json",
                               "2025-06/self-invoices/a.pdf", "2025-06/self-invoices/b.pdf", "2025-06/x.si"]
    assert placed[-1] == tmp_path / "2025-06" / "manifest.json"  # the manifest vouches for the rest: last
    assert tmp_path / "2025-06" / "raw" in placed  # a new folder goes in with one rename
    assert (tmp_path / "2025-06" / "self-invoices" / "a.pdf").read_bytes() == b"%PDF a"


def test_publish_never_replaces_a_published_file_and_then_places_nothing(tmp_path):
    _publish(tmp_path, {"x.si": b"imported into Fortnox", "manifest.json": b"{1}"})
    with pytest.raises(OutputError, match="x.si exists already: ledger-export never replaces a file"):
        _publish(tmp_path, {"raw/a.json": b"2", "x.si": b"other books", "manifest-run2.json": b"{2}"},
                 last="manifest-run2.json")
    assert _tree(tmp_path) == ["2025-06/manifest.json", "2025-06/x.si"]
    assert (tmp_path / "2025-06" / "x.si").read_bytes() == b"imported into Fortnox"


@pytest.mark.parametrize("fail_at", [1, 2, 3, 4])
def test_a_rename_that_fails_puts_back_every_earlier_one(tmp_path, monkeypatch, fail_at):
    """Last month's workbook open in Excel, a folder in the way: the set is placed whole or not at all."""
    _publish(tmp_path, {"x.si": b"old", "manifest.json": b"old"})
    before = {p: p.read_bytes() for p in (tmp_path / "2025-06").rglob("*") if p.is_file()}
    real, calls = files.rename_noreplace, []

    def failing(src, dst):
        calls.append(dst)
        if len(calls) == fail_at:
            raise PermissionError(errno.EACCES, "Permission denied", str(dst))
        real(src, dst)

    monkeypatch.setattr(files, "rename_noreplace", failing)
    outputs = {"raw-run2/a.json": b"1", "x-run2.si": b"new", "x-run2.xlsx": b"new", "manifest-run2.json": b"new"}
    with pytest.raises(OutputError, match="Permission denied.*nothing of this run was put in place"):
        _publish(tmp_path, outputs, last="manifest-run2.json")
    assert len(calls) == fail_at
    assert {p: p.read_bytes() for p in (tmp_path / "2025-06").rglob("*") if p.is_file()} == before
    assert sorted(os.listdir(tmp_path / "2025-06")) == ["manifest.json", "x.si"]
    assert sorted(os.listdir(tmp_path)) == ["2025-06"]  # the staging folder went with the run


def test_publish_that_fails_while_writing_changes_nothing(tmp_path, monkeypatch):
    _publish(tmp_path, {"x.si": b"old", "manifest.json": b"old"})
    real_open, calls = open, []

    def failing_open(path, mode="r", *args, **kwargs):
        if "w" in mode and str(path).endswith(".xlsx"):
            calls.append(path)
            raise OSError(28, "No space left on device")
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", failing_open)
    with pytest.raises(OutputError, match="No space left"):
        _publish(tmp_path, {"x-run2.si": b"new", "x-run2.xlsx": b"new", "manifest-run2.json": b"new"},
                 last="manifest-run2.json")
    monkeypatch.undo()
    assert calls
    assert _tree(tmp_path) == ["2025-06/manifest.json", "2025-06/x.si"]


def test_publish_refuses_names_that_escape(tmp_path):
    with pytest.raises(OutputError, match="outside"):
        _publish(tmp_path, {"../evil": b"x"})
    assert not (tmp_path / "evil").exists()
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("link", ["2025-06", "2025-06/self-invoices"])
def test_publish_refuses_a_link_planted_inside_the_output_root(tmp_path, link):
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    elsewhere.mkdir()
    (tmp_path / link).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / link).symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(OutputError, match="is a symbolic link"):
        _publish(tmp_path, {"self-invoices/a.pdf": b"%PDF", "x.si": b"si", "manifest.json": b"{}"})
    assert list(elsewhere.iterdir()) == []


def test_outputs_get_ordinary_permissions_not_private_temp_ones(tmp_path):
    _publish(tmp_path, {"raw/a.json": b"1", "x.si": b"x"})
    assert (tmp_path / "2025-06" / "x.si").stat().st_mode & 0o777 == FILE_MODE
    assert (tmp_path / "2025-06" / "raw").stat().st_mode & 0o777 == FOLDER_MODE


def test_publish_moves_a_staged_file_into_place_and_the_manifest_can_vouch_for_it(tmp_path):
    with staging_folder(tmp_path / "out") as staging:
        staged = stage_file(staging / "big.json", [b"[\n", b"1\n", b"]\n"])
        assert output_digest(staged) == output_digest(b"[\n1\n]\n")
        publish(tmp_path / "out" / "2025-06", {"raw/big.json": staged, "a.si": b"sie"}, staging=staging)
        assert not staged.path.exists()  # moved, not copied
    assert (tmp_path / "out" / "2025-06" / "raw" / "big.json").read_bytes() == b"[\n1\n]\n"
    assert os.listdir(tmp_path / "out") == ["2025-06"]


def test_publish_creates_a_missing_nested_folder(tmp_path):
    with staging_folder(tmp_path) as staging:
        publish(tmp_path / "a" / "b" / "2025-06", {"x.si": b"si"}, staging=staging, root=tmp_path)
    assert (tmp_path / "a" / "b" / "2025-06" / "x.si").read_bytes() == b"si"


def test_a_failed_run_takes_its_staging_folder_with_it(tmp_path):
    with pytest.raises(RuntimeError):
        with staging_folder(tmp_path) as folder:
            stage_file(folder / "raw" / "a.json", [b"x"])
            raise RuntimeError("the run failed after staging")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_rename_noreplace_never_replaces(tmp_path, kind):
    src, dst = tmp_path / "src", tmp_path / "dst"
    if kind == "file":
        src.write_bytes(b"new")
        dst.write_bytes(b"old")
    else:
        src.mkdir()
        dst.mkdir()  # an empty folder: os.rename would silently replace it
    with pytest.raises(FileExistsError):
        rename_noreplace(src, dst)
    assert src.exists()
    if kind == "file":
        assert dst.read_bytes() == b"old"


def test_stale_staging_is_removed_and_links_are_not_followed(tmp_path):
    (tmp_path / ".staging-abc" / "raw").mkdir(parents=True)
    (tmp_path / ".staging-abc" / "raw" / "x.json").write_bytes(b"x")
    victim = tmp_path.parent / f"{tmp_path.name}-victim"
    victim.mkdir()
    (victim / "keep.txt").write_bytes(b"keep")
    (tmp_path / ".staging-link").symlink_to(victim, target_is_directory=True)
    (tmp_path / "2025-06").mkdir()
    assert sorted(remove_stale_staging(tmp_path)) == [".staging-abc", ".staging-link"]
    assert sorted(os.listdir(tmp_path)) == ["2025-06"]
    assert (victim / "keep.txt").read_bytes() == b"keep"


# -- found missing by mutation testing (tools/mutate.py) ---------------------------------------

@pytest.mark.parametrize("name, problem", [("elsewhere/x.si", "it is outside the output folder"),
                                           ("out/2025-06/../../x.si", "the name '..' is not allowed")])
def test_refuse_links_refuses_a_path_that_leaves_the_root(tmp_path, name, problem):
    with pytest.raises(OutputError, match=f"refusing to write .*: {problem}"):
        files.refuse_links(tmp_path / "out", tmp_path / name)


@pytest.fixture(params=["no renameat2", "renameat2 says ENOSYS"])
def without_renameat2(request, monkeypatch):
    """rename_noreplace as on a kernel or file system without renameat2: the hard-link way."""
    monkeypatch.setattr(files, "_RENAMEAT2", None if request.param == "no renameat2" else lambda src, dst: errno.ENOSYS)


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_without_renameat2_a_rename_still_never_replaces(tmp_path, without_renameat2, kind):
    src, dst = tmp_path / "src", tmp_path / "dst"
    if kind == "file":
        src.write_bytes(b"new")
        dst.write_bytes(b"old")
    else:
        src.mkdir()
        dst.mkdir()
    with pytest.raises(FileExistsError):
        rename_noreplace(src, dst)
    assert src.exists() and (dst.read_bytes() == b"old" if kind == "file" else list(dst.iterdir()) == [])


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_without_renameat2_a_rename_moves_and_leaves_no_second_name(tmp_path, without_renameat2, kind):
    src, dst = tmp_path / "src", tmp_path / "dst"
    if kind == "file":
        src.write_bytes(b"books")
    else:
        (src / "raw").mkdir(parents=True)
    rename_noreplace(src, dst)
    assert not os.path.lexists(src)
    assert dst.read_bytes() == b"books" if kind == "file" else (dst / "raw").is_dir()


def test_without_hard_links_a_file_is_renamed_after_the_check(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "_RENAMEAT2", None)

    def no_links(src, dst, **kwargs):
        raise PermissionError(errno.EPERM, "Operation not permitted")  # FAT, some network shares

    monkeypatch.setattr(os, "link", no_links)
    (tmp_path / "src").write_bytes(b"books")
    rename_noreplace(tmp_path / "src", tmp_path / "dst")
    assert (tmp_path / "dst").read_bytes() == b"books" and not (tmp_path / "src").exists()
    (tmp_path / "again").write_bytes(b"other")
    with pytest.raises(FileExistsError):
        rename_noreplace(tmp_path / "again", tmp_path / "dst")
    assert (tmp_path / "dst").read_bytes() == b"books"


def test_a_renameat2_failure_other_than_unsupported_is_the_error(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "_RENAMEAT2", lambda src, dst: errno.EACCES)
    (tmp_path / "src").write_bytes(b"books")
    with pytest.raises(PermissionError) as err:
        rename_noreplace(tmp_path / "src", tmp_path / "dst")
    assert err.value.errno == errno.EACCES and err.value.filename == str(tmp_path / "dst")
    assert not (tmp_path / "dst").exists() and (tmp_path / "src").exists()


def _failing_folder_fsync(monkeypatch, code):
    """os.fsync failing with ``code`` on folders (files flush as usual)."""
    real = os.fsync

    def fsync(fd):
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(code, os.strerror(code))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


def test_a_folder_that_cannot_be_flushed_fails_the_publish_and_puts_everything_back(tmp_path, monkeypatch):
    _publish(tmp_path, {"x.si": b"old", "manifest.json": b"old"})
    _failing_folder_fsync(monkeypatch, errno.EIO)  # the renames might not survive a power cut
    with pytest.raises(OutputError, match=r"cannot publish into .*2025-06: Input/output error; nothing of this run "
                                          r"was put in place$"):  # no file name to give: none is made up
        _publish(tmp_path, {"x-run2.si": b"new", "raw-run2/a.json": b"1", "manifest-run2.json": b"new"},
                 last="manifest-run2.json")
    assert _tree(tmp_path) == ["2025-06/manifest.json", "2025-06/x.si"]


def test_a_file_system_that_cannot_flush_folders_at_all_still_publishes(tmp_path, monkeypatch):
    _failing_folder_fsync(monkeypatch, errno.EINVAL)
    _publish(tmp_path, {"x.si": b"si", "manifest.json": b"{}"})
    assert _tree(tmp_path) == ["2025-06/manifest.json", "2025-06/x.si"]


def test_an_output_two_folders_deep_is_published(tmp_path):
    _publish(tmp_path, {"raw/2025/06.json": b"[]", "manifest.json": b"{}"})
    assert _tree(tmp_path) == ["2025-06/manifest.json", "2025-06/raw/2025/06.json"]


def test_a_first_publish_that_fails_leaves_not_even_its_folder(tmp_path, monkeypatch):
    real, calls = files.rename_noreplace, []

    def failing(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise PermissionError(errno.EACCES, "Permission denied", str(dst))
        real(src, dst)

    monkeypatch.setattr(files, "rename_noreplace", failing)
    with pytest.raises(OutputError, match=r"cannot publish into .*2025-06: Permission denied \(.*manifest.json\); "
                                          r"nothing of this run was put in place"):
        _publish(tmp_path, {"x.si": b"si", "manifest.json": b"{}"})
    assert os.listdir(tmp_path) == []


def test_publish_checks_for_links_from_the_root_it_is_given(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "books").mkdir()
    (tmp_path / "books" / "acme").symlink_to(elsewhere, target_is_directory=True)
    with staging_folder(tmp_path / "books") as staging:
        with pytest.raises(OutputError, match="acme is a symbolic link"):
            publish(tmp_path / "books" / "acme" / "2025-06", {"x.si": b"si"}, staging=staging, root=tmp_path / "books")
    assert list(elsewhere.iterdir()) == []


def test_a_publish_interrupted_by_ctrl_c_puts_back_what_it_had_placed(tmp_path, monkeypatch):
    _publish(tmp_path, {"x.si": b"old", "manifest.json": b"old"})
    real, calls = files.rename_noreplace, []

    def interrupted(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real(src, dst)

    monkeypatch.setattr(files, "rename_noreplace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _publish(tmp_path, {"x-run2.si": b"new", "x-run2.xlsx": b"new", "manifest-run2.json": b"new"},
                 last="manifest-run2.json")
    assert _tree(tmp_path) == ["2025-06/manifest.json", "2025-06/x.si"]
