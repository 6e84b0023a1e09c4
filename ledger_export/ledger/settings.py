"""The ledger's sections of the configuration file (account mapping, VAT, texts).

Placeholder until the ledger lands: it owns no sections yet, so any section
other than [company], [amili] and [output] is refused as unknown.
"""

from __future__ import annotations

from typing import Any

SECTIONS: tuple[str, ...] = ()


def parse(root: Any) -> None:
    return None
