"""The voucher record itself refuses to exist unbalanced, whatever code builds it."""

from datetime import date
from decimal import Decimal

import pytest

from ledger_export.core.errors import LedgerExportError
from ledger_export.ledger.model import Line, UnbalancedVoucherError, Voucher


def test_balanced_voucher_is_accepted():
    v = Voucher(date(2025, 6, 13), "t", (Line(1930, Decimal("300.00")), Line(3921, Decimal("-240.00")),
                                         Line(2611, Decimal("-60.00"))))
    assert [line.debit for line in v.lines] == [Decimal("300.00"), 0, 0]
    assert [line.credit for line in v.lines] == [0, Decimal("240.00"), Decimal("60.00")]


@pytest.mark.parametrize("lines", [
    (Line(1930, Decimal("300.00")), Line(3921, Decimal("-299.99"))),
    (),
])
def test_unbalanced_or_empty_voucher_cannot_be_built(lines):
    with pytest.raises(UnbalancedVoucherError) as err:
        Voucher(date(2025, 6, 13), "t", lines, payout_id="p1")
    assert "p1" in str(err.value)
    # A bug, not an expected problem: it must keep its traceback in the CLI.
    assert not isinstance(err.value, LedgerExportError)
