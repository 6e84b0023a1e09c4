"""The bundled templates, installed as the data package ledger_export.templates (see pyproject.toml)."""
