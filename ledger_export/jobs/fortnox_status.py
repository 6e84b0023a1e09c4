"""``ledger-export fortnox check`` and ``fortnox status``: Fortnox looked at, nothing written.

``check`` runs the posting's pre-flight alone (jobs/fortnox_check.py): for
the accounts the configuration can book on and the period's dates (today's
without a period). ``status`` puts what the register says a period's
Fortnox runs posted beside what Fortnox holds, and lists every difference.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ledger_export.core.period import Period
from ledger_export.jobs.config import Config
from ledger_export.jobs.fortnox_books import FortnoxBooks
from ledger_export.jobs.fortnox_check import check_books
from ledger_export.jobs.fortnox_post import reference
from ledger_export.jobs.register import Register
from ledger_export.jobs.register_fortnox import FORTNOX_PREFIX
from ledger_export.ledger.mapping import AccountMap


def configured_accounts(config: Config) -> set[int]:
    """Every account the configuration books on (a payout may use any of them)."""
    s = config.ledger
    amap = AccountMap(s)
    accounts = {s.bank_account, s.suspense_account, *s.vat_accounts.values(), *s.outlay_fee_accounts.values()}
    for code, category in s.categories.items():
        if category.account is not None:
            accounts.add(category.account)
        accounts.update(amap.rule(code, article).account for article in category.articles)
    accounts.add(s.receivable_account)
    return accounts


def fortnox_check(config: Config, books: FortnoxBooks, period: Period | None = None, *,
                  today: date | None = None) -> str:
    """Raise FortnoxNotReadyError naming every problem, or say what was checked."""
    series = config.fortnox.series_for(config.ledger.series)
    days = [period.start, period.end] if period is not None else [today or date.today()]
    accounts = configured_accounts(config)
    readiness = check_books(books, config.fortnox, orgnr=config.company.orgnr, series=series, vouchers=(),
                            documents=True, extra_accounts=accounts, days=days)
    settle = (f", mode of payment {config.fortnox.mode_of_payment} (account {readiness.clearing_account})"
              if config.fortnox.settle_invoices else "")
    return (f"Fortnox is ready: company {config.company.orgnr}, series {series}{settle}, "
            f"{len(accounts)} account(s) active, financial year(s) for {', '.join(map(str, sorted(set(days))))}, "
            f"scopes granted.")


def fortnox_status(config: Config, books: FortnoxBooks, period: Period) -> tuple[str, int]:
    """The register's Fortnox actions of ``period`` beside what Fortnox holds; (report, number of differences)."""
    root = Path(config.output.folder)
    with Register.open(root, read_only=True) as register:
        runs = [r for r in register.runs() if r.period == period.label]
        payouts = {e.payout_id: e for r in runs for e in register.payouts_of(r.id)
                   if e.file_name.startswith(FORTNOX_PREFIX) and r.status in ("exported", "pending")}
        held = register.fortnox.actions_of(payouts)
        unknown = [a for a in register.fortnox.unknown() if a.payout_id in payouts]
    series = config.fortnox.series_for(config.ledger.series)
    lines = [f"Fortnox status of {period.label} (series {series}): {len(payouts)} payout(s) in the register"]
    differences: list[str] = []
    found = {v.ref: v for v in books.vouchers_in(series, period.start, period.end)}
    ours = {v.ref for v in found.values() if v.comments.startswith(reference(""))}
    files = {f.id: f for f in books.voucher_documents()}
    links = {(c.file_id, c.voucher) for c in books.connections()}
    recorded = set()
    for pid in sorted(payouts):
        actions = held.get(pid)
        voucher = actions.voucher if actions else None
        if voucher is None or voucher.status != "confirmed" or voucher.voucher is None:
            differences.append(f"payout {pid}: the register holds no confirmed voucher "
                               f"({voucher.status if voucher else 'nothing asked for'})")
            continue
        ref = voucher.voucher
        recorded.add(ref)
        seen = found.get(ref)
        if seen is None or seen.comments.strip() != reference(pid):
            differences.append(f"payout {pid}: voucher {ref} is in the register but not in Fortnox as ours")
        line = f"  payout {pid}: voucher {ref}"
        document = actions.document if actions else None
        if document is not None and document.status == "confirmed":
            line += f", file {document.file_id}"
            # A connected file leaves the inbox (Fortnox's support article "Inbox"): connected is there.
            if (document.file_id, ref) not in links:
                where = ("it waits in Fortnox's inbox for vouchers" if document.file_id in files
                         else f"{document.file_name} is not in Fortnox's inbox for vouchers either")
                differences.append(f"payout {pid}: file {document.file_id} is not connected to voucher {ref} "
                                   f"({where})")
        for payment in actions.payments if actions else ():
            if payment.status != "confirmed" or payment.invoice is None:
                differences.append(f"payout {pid}: {payment.describe()} is {payment.status}")
                continue
            line += f", payment {payment.payment_number} on invoice {payment.invoice}"
            there = [p for p in books.payments_of(payment.invoice) if p.number == payment.payment_number]
            if not there:
                differences.append(f"payout {pid}: payment {payment.payment_number} on invoice "
                                   f"{payment.invoice} is not in Fortnox")
            elif there[0].booked != payment.bookkept or not there[0].booked:
                differences.append(f"payout {pid}: payment {payment.payment_number} is "
                                   f"{'bookkept' if there[0].booked else 'not bookkept'} in Fortnox")
        lines.append(line)
    for ref in sorted(ours - recorded):
        differences.append(f"voucher {ref} in Fortnox carries '{found[ref].comments}' but this register does "
                           f"not record it for {period.label}")
    for action in unknown:
        differences.append(f"the {action.describe()} has an unknown outcome: the next export --to fortnox "
                           f"looks it up")
    lines += [f"{len(differences)} difference(s)" + (":" if differences else ".")]
    lines += [f"  - {d}" for d in differences]
    return "\n".join(lines), len(differences)
