"""The audit pack's writers: models in, bytes out (the export job writes them atomically).

- ``workbook.render_workbook``: the Excel workbook ``ledger-<period>.xlsx``
- ``manifest.render_manifest``: ``manifest.json``; ``config_dump.config_hash`` for its inputs
- ``documents.collect_documents``: the self-invoice PDFs (the one writer that must do I/O)
"""
