"""Proposal (monkeypatch, for the benchmark only):
records share one object per distinct amount and per distinct day.

Most lines carry VAT 0.00 and one of a few fee amounts, and every line of a payout
the same payout_date: one Decimal/date per distinct value instead of one per field.
(Reading a day is also cached: Amili repeats the same few date strings.)
"""
from functools import lru_cache
from ledger_export.amili import models, timestamps
from ledger_export import money

_parse_amount = money.parse_amount
_amounts: dict = {}


def parse_amount(value):
    amount = _parse_amount(value)
    # The sign is part of the key: -0.00 equals 0.00 but must stay what Amili sent.
    return _amounts.setdefault((amount, amount.is_signed()), amount)


@lru_cache(maxsize=4096)
def _day(text):
    return timestamps.parse(text).date()


def day(self, name, required=True):
    value = self._get(name, required)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return _day(value)
        except ValueError as exc:
            raise self.fail(name, str(exc)) from None
    moment = self.moment(name, required)  # not text: let moment() word the error
    return moment.date() if moment else None


models.parse_amount = parse_amount
models._Reader.day = day
