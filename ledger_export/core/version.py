"""The installed version, for #PROGRAM, the workbook and the manifest."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ledger-export")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
