"""What the spec requires of each file type (§5.1, §5.12, §6): kind, mandatory, forbidden, order."""

from __future__ import annotations

from pathlib import PurePath

from ledger_export.sie.model import SieFile

KINDS = ("1", "2", "3", "4I", "4E")

# §6: records that must be there ("●" in the table). Balance records are also
# "●" for exports, but may be left out when they are zero (§5.17), so a file
# without them is not wrong.
MANDATORY: dict[str, tuple[str, ...]] = {
    "1": ("#FLAGGA", "#PROGRAM", "#FORMAT", "#GEN", "#FNAMN", "#RAR", "#KONTO", "#SRU"),
    "2": ("#FLAGGA", "#PROGRAM", "#FORMAT", "#GEN", "#SIETYP", "#FNAMN", "#RAR", "#OMFATTN",
          "#KONTO", "#SRU"),
    "3": ("#FLAGGA", "#PROGRAM", "#FORMAT", "#GEN", "#SIETYP", "#FNAMN", "#RAR", "#OMFATTN",
          "#KONTO"),
    "4I": ("#FLAGGA", "#PROGRAM", "#FORMAT", "#GEN", "#SIETYP", "#FNAMN"),
    "4E": ("#FLAGGA", "#PROGRAM", "#FORMAT", "#GEN", "#SIETYP", "#FNAMN", "#RAR", "#KONTO"),
}

_VOUCHERS = ("#VER", "#TRANS", "#RTRANS", "#BTRANS")
# §6: "-", the record may not appear in this file type.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "1": ("#OMFATTN", "#DIM", "#UNDERDIM", "#OBJEKT", "#OIB", "#OUB", "#PSALDO", "#PBUDGET") + _VOUCHERS,
    "2": ("#DIM", "#UNDERDIM", "#OBJEKT", "#OIB", "#OUB") + _VOUCHERS,
    "3": _VOUCHERS,
    "4I": ("#OMFATTN", "#IB", "#UB", "#OIB", "#OUB", "#RES", "#PSALDO", "#PBUDGET"),
    "4E": (),
}

# §5.12: flag record, identification, chart of accounts, balances and vouchers.
GROUPS: dict[str, tuple[int, str]] = {}
for _group, _name, _labels in (
    (1, "flag record", ("#FLAGGA",)),
    (2, "identification records", ("#PROGRAM", "#FORMAT", "#GEN", "#SIETYP", "#PROSA", "#FTYP", "#FNR",
                                   "#ORGNR", "#BKOD", "#ADRESS", "#FNAMN", "#RAR", "#TAXAR", "#OMFATTN",
                                   "#KPTYP", "#VALUTA")),
    (3, "chart of accounts", ("#KONTO", "#KTYP", "#ENHET", "#SRU", "#DIM", "#UNDERDIM", "#OBJEKT")),
    (4, "balances and vouchers", ("#IB", "#UB", "#OIB", "#OUB", "#RES", "#PSALDO", "#PBUDGET", "#VER",
                                  "#TRANS", "#RTRANS", "#BTRANS", "{", "}")),
):
    for _label in _labels:
        GROUPS[_label] = (_group, _name)

KNOWN = set(GROUPS) | {"#KSUMMA"}

# Fortnox refuses these values when quoted ("Fail to format date"), although §5.7 allows quotes.
NEVER_QUOTED = ("#FLAGGA", "#SIETYP", "#ORGNR", "#FORMAT")

TEXT_LIMIT = 50  # Fortnox cuts voucher and transaction texts here


# Balance records: only an export (1, 2, 3, 4E) has them; an import file (4I) may not (§6).
BALANCES = ("#IB", "#UB", "#RES", "#OIB", "#OUB", "#PSALDO", "#PBUDGET")

# §6 marks these "●" but no importer needs them: #OMFATTN only dates the balances, and
# #SRU codes serve a tax return, not the books. Missing, they are a warning.
INFORMATIVE = ("#OMFATTN", "#SRU")


def file_kind(file: SieFile) -> str:
    """1, 2, 3, 4I (import) or 4E (export), from what the file holds.

    #SIETYP 4 does not say which, and §5.1 leaves the name free (it only
    recommends .SI for imports and .SE for exports), so the content decides:
    an export carries the balances of its years (§5.16: #UB of the current
    year is always there), an import file carries vouchers only.
    """
    sie_type = file.sie_type if file.sie_type in (1, 2, 3, 4) else None
    if sie_type is None:
        # §11 #SIETYP: without it a file is type 1; but one with vouchers was meant as type 4,
        # and judging it by type 1's rules would bury the one real defect (the missing
        # #SIETYP) under every voucher record.
        sie_type = 4 if file.vouchers else 1
    if sie_type != 4:
        return str(sie_type)
    return "4E" if any(r.label in BALANCES for r in file.records) else "4I"


def extension_disagrees(kind: str, name: str) -> str | None:
    """The extension §5.1 recommends for ``kind``, when ``name`` has the other one; else None."""
    suffix = PurePath(name).suffix.lower()
    if suffix == ".si" and kind != "4I":
        return ".se"
    if suffix == ".se" and kind == "4I":
        return ".si"
    return None
