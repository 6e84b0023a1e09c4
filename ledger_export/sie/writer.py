"""The ledger as a SIE 4I import file (Fortnox, Visma): bytes out, no I/O.

Layout lives in ``templates/sie4i.si.j2``; quoting, escaping,
transliteration and number formats live here, as Jinja2 filters, except
for the #TRANS rows, which are formatted here whole (see ``_rows``).

Records end in CR LF by default. §5.5 requires the LF and allows the CR
before it; Fortnox's own exports use CR LF, so Fortnox reads it, and it
shows as separate lines in any Windows editor a bookkeeper opens the file
with. ``line_ending="\\n"`` gives the bare LF form. The Jinja2 environment
writes the line ending itself (``newline_sequence``), so the file is not
copied once more to change it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Literal

import jinja2
from dateutil.relativedelta import relativedelta

from ledger_export.core.resources import TEMPLATES
from ledger_export.core.settings import Company
from ledger_export.core.errors import OutputError
from ledger_export.ledger.fiscal_years import Year, fiscal_year_of
from ledger_export.ledger.model import Ledger, Voucher
from ledger_export.core.money import ORE, format_amount
from ledger_export.sie import checksum
from ledger_export.sie.chart import CHART_TYPES, DEFAULT_CHART_TYPE
from ledger_export.sie import lexer
from ledger_export.sie import text

TEMPLATE = "sie4i.si.j2"
PROGRAM = "ledger-export"
# The record endings §5.5 allows (see above).
LineEnding = Literal["\n", "\r\n"]


class SieWriteError(OutputError):
    """The ledger holds something a SIE file cannot say (names the voucher or account)."""


@dataclass(frozen=True)
class FiscalYear:
    number: int  # 0 the year of the latest voucher, -1 the one before, ...
    start: date
    end: date


def fiscal_years(days: list[date], start_month: int, known: Sequence[Year] = ()) -> list[FiscalYear]:
    """#RAR 0 for the year of the latest voucher, then -1, -2 ... back to the earliest's.

    ``known``: the ledger's own years (the --chart file's #RAR), first to
    last; used when they hold every voucher, so a first or last fiscal year
    of other than twelve months is written as the ledger has it.
    """
    if not days:
        return []
    held = [i for day in days for i, (start, end) in enumerate(known) if start <= day <= end]
    if known and len(held) == len(days):
        return [FiscalYear(-n, *known[i]) for n, i in enumerate(range(max(held), min(held) - 1, -1))]
    first, _ = fiscal_year_of(min(days), start_month)
    start, end = fiscal_year_of(max(days), start_month)
    years = []
    number = 0
    while start >= first:
        years.append(FiscalYear(number, start, end))
        number -= 1
        end = start - timedelta(days=1)
        start = start - relativedelta(years=1)
    return years


def sie_amount(value: Decimal) -> str:
    # Refuse rather than round: a fraction of an öre here is a bug upstream (§5.9: two decimals).
    if not isinstance(value, Decimal) or not value.is_finite() or value != value.quantize(ORE):
        raise SieWriteError(f"amount {value!r} cannot be written in SIE: it needs exactly two decimals")
    return format_amount(value + 0)  # + 0 turns -0.00 into 0.00


def sie_date(value: date) -> str:
    return f"{value:%Y%m%d}"


def sie_objects(objects: tuple[tuple[str, str], ...]) -> str:
    """The object list of a #TRANS: ``{}`` or ``{1 "100"}`` (dimension, then object id)."""
    if objects == ():
        return "{}"  # almost every row: no cost centre or project, so skip building a list
    parts = []
    for dimension, object_id in objects:
        if not (str(dimension).isascii() and str(dimension).isdigit()):
            raise SieWriteError(f"object list {objects!r}: dimension {dimension!r} must be a number")
        parts.append(f"{dimension} {text.quote(str(object_id))}")
    return "{" + " ".join(parts) + "}"


@lru_cache(maxsize=2)
def _environment(line_ending: LineEnding) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        newline_sequence=line_ending,
    )
    env.filters.update(sie_quote=text.quote, sie_date=sie_date)
    return env


def _rows(voucher: Voucher, keep: str | None, line_ending: str) -> str:
    """The voucher's #TRANS rows, each ended but the last (the template ends it).

    Formatted here rather than in the template for speed: per row the template
    made four filter calls and nine output chunks, which made the SIE file
    cost 28 times a plain dump of its lines; one f-string per row and one
    string per voucher for the template is what keeps it near the plain dump.
    Each field goes through the same function a filter would. The text is
    cleaned once, not again as ``text.quote`` would: shorten keeps it clean.
    """
    escape, as_written = text.escape, text.as_written
    return line_ending.join([
        f'#TRANS {line.account} {sie_objects(line.objects)} {sie_amount(line.amount)} "" '
        f'"{escape(as_written(line.text, keep))}"' for line in voucher.lines])


def _voucher_view(voucher: Voucher, line_ending: str) -> dict[str, object]:
    keep = text.reference_key(voucher.payout_reference)
    return {
        "series": voucher.series,
        "date": voucher.date,
        "text": text.as_written(voucher.text, keep),
        "rows": _rows(voucher, keep, line_ending),
    }


def _accounts(ledger: Ledger) -> list[dict[str, object]]:
    used = sorted({line.account for voucher in ledger.vouchers for line in voucher.lines})
    accounts = []
    for number in used:
        if not isinstance(number, int) or number < 0:
            raise SieWriteError(f"account {number!r} is not an account number")
        name = ledger.account_names.get(number)
        if not name or not text.clean_text(name):
            voucher = next(v for v in ledger.vouchers if any(line.account == number for line in v.lines))
            raise SieWriteError(f"account {number} (used by the voucher for payout {voucher.payout_id}, "
                                f"{voucher.date}) has no name in the chart of accounts")
        accounts.append({"number": number, "name": name})
    return accounts


def render_sie(ledger: Ledger, company: Company, *, generated: date, program_version: str,
               ksumma: bool = False, fiscal_year_start_month: int | None = None,
               line_ending: LineEnding = "\r\n", chart_type: str = DEFAULT_CHART_TYPE,
               known_years: Sequence[Year] = ()) -> bytes:
    """The SIE 4I file for ``ledger``, CP437 bytes.

    ``generated`` is the #GEN date; the caller fixes it for reproducible
    output. The fiscal year starts in ``fiscal_year_start_month`` (default:
    the company's), unless ``known_years`` (the ledger's own, from --chart)
    hold the vouchers. ``chart_type`` is the #KPTYP: EU-BAS 97 in structure,
    as every BAS chart since (BAS 2024/2025, the default mapping's) is.
    Vouchers keep their order and series and go without numbers, so the
    importing program numbers them.
    """
    if line_ending not in ("\n", "\r\n"):
        raise ValueError(f"line_ending must be LF or CR LF, got {line_ending!r}")
    # Exactly the form Fortnox compares (core/orgnr.py normalises the configured one to it).
    if company.orgnr and not re.fullmatch(r"[0-9]{6}-[0-9]{4}", company.orgnr):
        raise SieWriteError(f"organisation number {company.orgnr!r} must be written nnnnnn-nnnn")
    if chart_type not in CHART_TYPES:
        raise ValueError(f"chart_type must be one of {', '.join(CHART_TYPES)}, got {chart_type!r}")
    start_month = fiscal_year_start_month or company.fiscal_year_start_month
    context = {
        "ksumma": ksumma,
        "program": PROGRAM,
        "program_version": program_version,
        "generated": generated,
        "company_name": company.name,
        "orgnr": company.orgnr,
        "fiscal_years": fiscal_years([v.date for v in ledger.vouchers], start_month, known_years),
        "chart_type": chart_type,
        "accounts": _accounts(ledger),
        "vouchers": [_voucher_view(v, line_ending) for v in ledger.vouchers],
        "checksum": None,
    }
    template = _environment(line_ending).get_template(TEMPLATE)
    body = template.render(context)
    if ksumma:
        records, _ = lexer.lex(body)
        body = template.render(context, checksum=checksum.between_marks(records))
    return body.encode("cp437")
