"""The run's outputs: SIE file, workbook, manifest, voucher listing, self-invoices, raw snapshot.

Each is one small class in its own module (sie_file, workbook_file,
manifest_file, voucher_listing, self_invoices, raw_snapshot) with the one
shape of base.RunOutput: it turns the run's data (base.RunData) into named
bytes or staged files and does no network or file I/O of its own.
registry.py finds them by name (``export --outputs``), plugins included,
and renders them in order; core.files.publish puts them in place together.
"""
