"""The foundation: errors, money, periods, reading the configuration, files written safely, the lock.

Nothing here imports any other part of ledger_export.
"""
