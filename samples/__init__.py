"""The bundled sample period, installed as the data package ledger_export.samples (see pyproject.toml)."""
