"""The jobs the CLI runs (export, fetch, payments, demo, init) and the register beside them.

The top layer: it puts the configuration together and wires the layers below
(amili -> ledger -> sie -> outputs); nothing below imports it.
"""
