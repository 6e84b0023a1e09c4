"""The commented starter configuration `ledger-export init` writes."""

from __future__ import annotations

from ledger_export.core.resources import template_text

STARTER_FILE = "ledger-export.toml"


def starter_config() -> str:
    """The starter file's text: every key at its default, with a comment on what it means."""
    return template_text(STARTER_FILE)
