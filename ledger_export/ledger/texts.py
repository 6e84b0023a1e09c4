"""Voucher and line texts: Jinja2 templates the bookkeeper can override, in Swedish.

The defaults live in ``templates/voucher_text.j2`` and ``templates/line_text.j2``;
the configuration may replace either with a template string. A template is
compiled and trial-rendered when the configuration is read, so a typo fails
at start naming the key rather than halfway through a run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

import jinja2

from ledger_export.core.errors import ConfigError
from ledger_export.core.resources import template_text

CATEGORY_NAMES: Mapping[str, str] = {
    "capital": "kapital",
    "interest": "ränta",
    "creditor_commission": "provision",
    "creditor_outlay": "utlägg",
}

ARTICLE_NAMES: Mapping[str, str] = {
    "capital": "kapital",
    "interest": "ränta",
    "reminder": "påminnelseavgift",
    "debt_collection": "inkassoavgift",
    "invoice_fee": "fakturaavgift",
    "late_payment_fee": "förseningsersättning",
    "verdict_fee": "avgift för utslag",
    "enforcement": "verkställighetsavgift",
    "cost": "kostnad",
    "amortization_setup": "avbetalningsplan",
    "amortization_advice": "avi avbetalning",
    "amortization_reminder": "påminnelse avbetalning",
    "commission": "provision",
    "commission_intercompany": "provision koncern",
    "finance_refund": "återbetalning",
}

DEFAULT_FILES = {"voucher": "voucher_text.j2", "line": "line_text.j2"}


def category_name(code: str) -> str:
    """Swedish name of a finance category; a category Amili adds later keeps its code."""
    return CATEGORY_NAMES.get(code, code)


def article_name(code: str) -> str:
    return ARTICLE_NAMES.get(code, code)


# Trial contexts: every variable the real renderers pass, in each shape they
# take, so a template that names anything else fails at configuration time.
_VOUCHER = dict(category="provision", category_code="creditor_commission", reference="123456",
                payout_date=date(2025, 6, 13), period_start=date(2025, 6, 12), period_end=date(2025, 6, 13),
                interval="daily", document_name="self_invoice_2025_164.pdf",
                payout_id="507f1f77bcf86cd799439097", amount=Decimal("240.00"), vat_amount=Decimal("60.00"),
                total_amount=Decimal("300.00"))
_LINE = dict(kind="net", category="provision", category_code="creditor_commission", articles=["reminder"],
             article_names=["påminnelseavgift"], unmapped=["creditor_commission/reminder"],
             invoice_number="INV-2025-020", account=3921, vat_rate=0, reference="123456",
             payout_date=date(2025, 6, 13), payout_id="507f1f77bcf86cd799439097")
_TRIALS = {
    "voucher": [_VOUCHER, {**_VOUCHER, "document_name": None, "period_start": None, "period_end": None,
                           "interval": None, "reference": "", "category": "kapital", "category_code": "capital"}],
    "line": [{**_LINE, "kind": kind, "invoice_number": invoice, "vat_rate": 25 if kind == "vat" else 0}
             for kind in ("bank", "net", "vat", "suspense") for invoice in ("INV-2025-020", None)],
}
KEYS = {"voucher": "ledger.texts.voucher", "line": "ledger.texts.line"}
_FAILURES = (jinja2.TemplateError, TypeError, ValueError, ArithmeticError, AttributeError)


def default_source(name: str) -> str:
    return template_text(DEFAULT_FILES[name])


_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)


@lru_cache(maxsize=32)
def _compile(source: str) -> jinja2.Template:
    return _ENV.from_string(source)


def _render(template: jinja2.Template, context: Mapping[str, Any]) -> str:
    # One line, single spaces: SIE records may not contain line breaks, and
    # templates are easier to read spread over lines.
    return " ".join(template.render(**context).split())


def check_template(name: str, source: str, key: str, path: str | None = None) -> None:
    """Raise ConfigError naming ``key`` if ``source`` does not compile or render."""
    try:
        template = _compile(source)
        texts = [_render(template, context) for context in _TRIALS[name]]
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"is not a valid template: {exc.message} (line {exc.lineno})",
                          key=key, path=path) from None
    except _FAILURES as exc:
        raise ConfigError(f"template fails: {getattr(exc, 'message', None) or exc}", key=key, path=path) from None
    if name == "voucher" and not all(texts):
        raise ConfigError("template renders an empty voucher text", key=key, path=path)


@dataclass(frozen=True)
class Texts:
    """Renders the texts of one ledger; built from checked template sources."""

    voucher_source: str
    line_source: str

    @classmethod
    def from_sources(cls, voucher: str | None, line: str | None) -> Texts:
        return cls(voucher if voucher is not None else default_source("voucher"),
                   line if line is not None else default_source("line"))

    def _text(self, name: str, source: str, context: Mapping[str, Any], record: str) -> str:
        try:
            return _render(_compile(source), context)
        except _FAILURES as exc:
            # The trial render passed, so only a value this payout has can get here.
            raise ConfigError(f"template fails for {record}: {getattr(exc, 'message', None) or exc}",
                              key=KEYS[name]) from None

    def voucher(self, **context: Any) -> str:
        return self._text("voucher", self.voucher_source, context, f"payout {context.get('payout_id')}")

    def line(self, **context: Any) -> str:
        return self._text("line", self.line_source, context, f"a line of payout {context.get('payout_id')}")
