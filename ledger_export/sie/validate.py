"""``ledger-export validate``: every defect of a SIE file, with its line.

Errors are what makes an import fail or book something wrong; warnings are
what a bookkeeper should look at (a text Fortnox will cut, an undeclared
account in an import file). The exit status counts errors only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from ledger_export.core.errors import printable
from ledger_export.sie import check_file
from ledger_export.sie import check_vouchers
from ledger_export.sie import rules
from ledger_export.sie.model import ERROR, WARNING, SieError, SieFinding
from ledger_export.sie.reader import file_bytes, read_sie


def validate(data: bytes, name: str = "<bytes>") -> list[SieFinding]:
    """All findings for ``data``, ordered by line (whole-file findings first).

    Import files (type 4I) and exports (4E) have different rules; the content
    tells which (rules.file_kind), and ``name`` only adds a warning when its
    extension says the other.
    """
    try:
        file = read_sie(data, name)
    except SieError as exc:
        return [SieFinding(ERROR, None, "unreadable", str(exc))]
    kind = rules.file_kind(file)
    findings = [
        *file.findings,
        *check_file.check_kind(file, kind, name),
        *check_file.check_encoding(data, file),
        *check_file.check_records(file, kind),
        *check_file.check_order(file),
        *check_file.check_header(file, kind),
        *check_file.check_ksumma(file),
        *check_vouchers.check_balance(file),
        *check_vouchers.check_numbering(file),
        *check_vouchers.check_dates(file),
        *check_vouchers.check_accounts(file, kind),
        *check_vouchers.check_texts(file),
    ]
    return sorted(findings, key=lambda f: -1 if f.line is None else f.line)


def validate_file(path: str | Path) -> list[SieFinding]:
    """Findings for the file at ``path``; raises SieError when it cannot be read from disk."""
    return validate(file_bytes(path), str(path))


def has_errors(findings: list[SieFinding]) -> bool:
    return any(f.severity == ERROR for f in findings)


def findings_to_json(name: str, findings: list[SieFinding]) -> dict[str, Any]:
    return {
        "file": name,
        "ok": not has_errors(findings),
        "errors": sum(f.severity == ERROR for f in findings),
        "warnings": sum(f.severity == WARNING for f in findings),
        "findings": [{"severity": f.severity, "line": f.line, "code": f.code, "message": f.message}
                     for f in findings],
    }


def format_finding(name: str, finding: SieFinding) -> str:
    """One line: a file name or a text quoted from the file cannot break it or reach the terminal raw."""
    where = f"{name}:{finding.line}" if finding.line is not None else name
    return printable(f"{where}: {finding.severity}: {finding.message}")


def run_validate(paths: list[str], *, as_json: bool, out: TextIO) -> int:
    """Validate each file and print the findings; 0 when no file has an error, else 1.

    A file that cannot be read (missing, a folder, a FIFO, a device, larger
    than reader.SIZE_LIMIT) is reported as an error of that file, without
    waiting on it, and the others are still checked.
    """
    reports = []
    for path in paths:
        try:
            findings = validate_file(path)
        except SieError as exc:
            findings = [SieFinding(ERROR, None, "unreadable", str(exc))]
        reports.append((path, findings))
    if as_json:
        files = [findings_to_json(path, findings) for path, findings in reports]
        json.dump({"ok": all(f["ok"] for f in files), "files": files}, out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        for path, findings in reports:
            for finding in findings:
                out.write(format_finding(path, finding) + "\n")
            errors = sum(f.severity == ERROR for f in findings)
            warnings = len(findings) - errors
            summary = "ok" if not findings else f"{errors} error(s), {warnings} warning(s)"
            out.write(printable(f"{path}: {summary}") + "\n")
    return 1 if any(has_errors(findings) for _, findings in reports) else 0
