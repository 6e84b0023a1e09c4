"""From a fetched period to balanced vouchers and reconciliation findings."""
