"""Every output by name: the built-in ones, and those other packages add through an entry point.

A package adds an output by declaring, in its pyproject.toml,

    [project.entry-points."ledger_export.outputs"]
    csv = "my_package.csv_output:CsvOutput"

where ``CsvOutput()`` (a class called without arguments, or an object
already made) has ``name = "csv"`` and ``render(run: RunData)`` returning
its files (outputs/base.py). ``export --outputs`` chooses among them by
name; the raw snapshot and the manifest are always written, and the
manifest is rendered last, so it lists every other file. Plugins are loaded
only when chosen (all are, by default), so a broken one fails only the runs
that ask for it, with a one-line error naming it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from importlib.metadata import EntryPoint, entry_points
from pathlib import PurePosixPath
from types import MappingProxyType

from ledger_export.core.errors import LedgerExportError, OutputError, printable
from ledger_export.core.files import Output, StagedFile
from ledger_export.outputs.base import RunData, RunOutput
from ledger_export.outputs.invoice_payments_csv import InvoicePaymentsCsv
from ledger_export.outputs.manifest_file import ManifestFile
from ledger_export.outputs.raw_snapshot import RawSnapshot
from ledger_export.outputs.self_invoices import SelfInvoices
from ledger_export.outputs.sie_file import SieFile
from ledger_export.outputs.voucher_listing import VoucherListing
from ledger_export.outputs.workbook_file import WorkbookFile

GROUP = "ledger_export.outputs"
# In the order they are rendered: the workbook shows the SIE file's checksum; plugins come before the manifest.
BUILT_IN: tuple[RunOutput, ...] = (RawSnapshot(), SelfInvoices(), SieFile(), WorkbookFile(), VoucherListing(),
                                   InvoicePaymentsCsv())
LAST: RunOutput = ManifestFile()
ALWAYS = (RawSnapshot.name, ManifestFile.name)


class UnknownOutputError(OutputError):
    """``--outputs`` named an output there is none of: a usage error."""

    exit_code = 2


def _plugins() -> dict[str, EntryPoint]:
    """The installed plugins by name, not yet loaded."""
    found: dict[str, EntryPoint] = {}
    taken = {o.name for o in (*BUILT_IN, LAST)}
    for ep in entry_points(group=GROUP):
        if ep.name in taken:
            raise OutputError(f"output plugin {ep.name!r} ({ep.value}) uses the name of a built-in output")
        if ep.name in found and found[ep.name].value != ep.value:
            raise OutputError(f"two output plugins are called {ep.name!r} ({found[ep.name].value}, {ep.value})")
        found[ep.name] = ep
    return found


def output_names() -> tuple[str, ...]:
    """Every name ``--outputs`` accepts, in the order the outputs are rendered."""
    return (*(o.name for o in BUILT_IN), *sorted(_plugins()), LAST.name)


def _load(ep: EntryPoint) -> RunOutput:
    try:
        found = ep.load()
        output = found() if isinstance(found, type) else found
    except Exception as exc:  # whatever a third party's import does, it is one line naming the plugin
        raise OutputError(f"output plugin {ep.name!r} ({ep.value}) could not be loaded: "
                          f"{type(exc).__name__}: {printable(str(exc))}") from exc
    if getattr(output, "name", None) != ep.name or not callable(getattr(output, "render", None)):
        raise OutputError(f"output plugin {ep.name!r} ({ep.value}) is not an output: it needs "
                          f"name = {ep.name!r} and a render(run) method")
    return output  # type: ignore[no-any-return]  # checked above as far as Python can


def choose(wanted: Iterable[str] | None = None) -> tuple[RunOutput, ...]:
    """The outputs named (None: every one), plus those always written, in the order they are rendered."""
    plugins = _plugins()
    if wanted is None:
        chosen = {*(o.name for o in BUILT_IN), *plugins, *ALWAYS}
    else:
        named = {name.strip() for name in wanted if name.strip()}
        valid = output_names()
        unknown = sorted(named - set(valid))
        if unknown or not named:
            what = f"unknown output {', '.join(map(repr, unknown))}" if unknown else "no output named"
            raise UnknownOutputError(f"{what}: the outputs are {', '.join(valid)}")
        chosen = named | set(ALWAYS)
    return (*(o for o in BUILT_IN if o.name in chosen),
            *(_load(plugins[name]) for name in sorted(plugins) if name in chosen),
            LAST)


def _checked(output: RunOutput, files: Mapping[str, Output], produced: Mapping[str, Output]) -> Mapping[str, Output]:
    for name, content in files.items():
        path = PurePosixPath(name)
        if not name or path.is_absolute() or ".." in path.parts or "\\" in name or str(path) != name:
            raise OutputError(f"output {output.name!r} names a file {name!r} outside the period folder")
        if name in produced:
            raise OutputError(f"output {output.name!r} names a file {name!r} another output made")
        if not isinstance(content, (bytes, StagedFile)):
            raise OutputError(f"output {output.name!r} gives {type(content).__name__} for {name!r}, "
                              f"not bytes or a staged file")
    return files


def render_outputs(run: RunData, outputs: Sequence[RunOutput]) -> dict[str, Output]:
    """Every file the run publishes, keyed by name in the period folder, from ``outputs`` in order."""
    produced: dict[str, Output] = {}
    for output in outputs:
        produced.update(_checked(output, _render(output, replace(run, produced=MappingProxyType(dict(produced)))),
                                 produced))
    return produced


def _render(output: RunOutput, run: RunData) -> Mapping[str, Output]:
    if any(output is ours for ours in (*BUILT_IN, LAST)):
        return output.render(run)  # a failure of ours is a bug: it keeps its traceback
    try:
        return output.render(run)
    except LedgerExportError:
        raise
    except Exception as exc:  # a plugin's bug is one line naming the plugin, and nothing is written
        raise OutputError(f"output plugin {output.name!r} failed: {type(exc).__name__}: "
                          f"{printable(str(exc))}") from exc
