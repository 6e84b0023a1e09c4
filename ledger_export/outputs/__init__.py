"""The run's outputs: SIE file, workbook, manifest, voucher listing, self-invoices, raw snapshot.

Each turns the run's data into named bytes or staged files and does no network
or file I/O of its own; core.files.publish puts them in place together.
"""
