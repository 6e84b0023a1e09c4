"""manifest.json and the configuration hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from decimal import Decimal
from types import MappingProxyType

import pytest

from ledger_export.amili.settings import AmiliSettings
from ledger_export.core.settings import Company, OutputSettings
from ledger_export.jobs.config import Config
from ledger_export.jobs.config_dump import config_hash, config_rows
from ledger_export.outputs.manifest import document_owners, render_manifest
from support.audit_pack import CREDITOR, DATA, DOCUMENTS, GENERATED, LEDGER, PAYOUTS, PDF_SHA

SIE = b"#FLAGGA 0\r\n#FORMAT PC8\r\n"
XLSX = b"PK\x03\x04 pretend workbook"


def manifest(**changes) -> bytes:
    kwargs = dict(data=DATA, ledger=LEDGER, creditor=CREDITOR, config_sha256="ee" * 32, generated=GENERATED,
                  tool_version="0.1.0", documents=DOCUMENTS,
                  outputs={"ledger-2025-06.si": SIE, "ledger-2025-06.xlsx": XLSX})
    kwargs.update(changes)
    return render_manifest(**kwargs)


def test_manifest_text(snapshot):
    assert manifest().decode("utf-8") == snapshot


def test_manifest_is_deterministic_sorted_json():
    text = manifest()
    assert text == manifest() and text.endswith(b"\n")
    doc = json.loads(text)
    assert list(doc) == sorted(doc)
    assert doc["inputs"] == {"period": {"label": "2025-06", "start": "2025-06-01", "end": "2025-06-30"},
                             "creditor": CREDITOR, "orgnr": "", "config_sha256": "ee" * 32}
    assert doc["run"] == {"id": None, "mode": None}  # what register rebuild reads back, when a run gives them


def test_manifest_lists_every_output_with_size_and_hash():
    outputs = json.loads(manifest())["outputs"]
    assert outputs == [
        {"name": "ledger-2025-06.si", "size": len(SIE), "sha256": hashlib.sha256(SIE).hexdigest()},
        {"name": "ledger-2025-06.xlsx", "size": len(XLSX), "sha256": hashlib.sha256(XLSX).hexdigest()},
        {"name": "self-invoices/self_invoice_2025_164.pdf", "size": 1234, "sha256": PDF_SHA},
    ]


def test_manifest_exported_payouts_carry_their_etag():
    payouts = json.loads(manifest())["payouts"]
    assert [(p["id"], p["etag"]) for p in payouts] == [(v.payout_id, v.payout_etag) for v in LEDGER.vouchers]
    assert payouts[4]["total_amount"] == "-500.00"


def test_manifest_totals_match_the_ledger_to_the_ore():
    doc = json.loads(manifest())
    totals = doc["totals_per_account"]
    assert {int(a): Decimal(t["net"]) for a, t in totals.items()} == LEDGER.account_totals()
    assert totals["1930"] == {"name": "Företagskonto/checkkonto/affärskonto", "debit": "15905.67",
                              "credit": "500.00", "net": "15405.67"}
    assert doc["counts"]["findings"] == {"ok": 1, "warning": 3, "error": 0}
    assert doc["reconciliation"]["status"] == "warning"


def test_document_owners_read_back_from_a_manifest():
    assert document_owners(manifest()) == {"self_invoice_2025_164.pdf": (PAYOUTS[2].id, PDF_SHA)}


@pytest.mark.parametrize("damaged", [None, b"", b"{not json", b"[]", b'{"outputs": 3}', b"\xff\xfe"])
def test_a_missing_or_damaged_manifest_gives_no_owners(damaged):
    assert document_owners(damaged) == {}


@dataclass(frozen=True)
class FakeLedgerSettings:
    bank_account: int = 1930
    vat_accounts: object = field(default_factory=lambda: MappingProxyType({25: 2611, 12: 2621}))
    objects: object = field(default_factory=lambda: MappingProxyType({3921: (("1", "100"),)}))
    voucher_text: str | None = None
    rate: Decimal = Decimal("0.25")


def config(**amili) -> Config:
    return Config(company=Company(name="Exempelbolaget AB", orgnr="556677-8899"),
                  amili=AmiliSettings(creditor=CREDITOR, **amili), ledger=FakeLedgerSettings())


def test_config_hash_ignores_connection_settings_but_not_bookkeeping():
    base = config_hash(config())
    assert len(base) == 64 and base == config_hash(config())
    assert config_hash(replace(config(base_url="http://127.0.0.1:43210"), output=OutputSettings("elsewhere"),
                               source="/tmp/x.toml")) == base
    assert config_hash(replace(config(), ledger=FakeLedgerSettings(bank_account=1940))) != base
    assert config_hash(config(media_url="{base_url}/files/{file}")) != base


def test_config_rows_flatten_the_settings_used():
    rows = dict(config_rows(config()))
    assert rows["company.orgnr"] == "556677-8899"
    assert rows["amili.creditor"] == CREDITOR
    assert rows["ledger.vat_accounts.12"] == "2621" and rows["ledger.vat_accounts.25"] == "2611"
    assert rows["ledger.objects.3921"] == '[["1", "100"]]'
    assert rows["ledger.voucher_text"] == "(none)"
    assert rows["ledger.rate"] == "0.25" and rows["sie.ksumma"] == "false"
    assert not any("api_key" in key or "timeout" in key or "base_url" == key[-8:] for key in rows)
