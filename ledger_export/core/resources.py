"""The bundled templates and sample period, found through the import system.

In the checkout they are the folders ``templates/`` and ``samples/`` at the top
of the repo; pyproject.toml maps them into the wheel as the data packages
``ledger_export.templates`` and ``ledger_export.samples``. Reading them with
importlib.resources finds them the same way in an editable install, a wheel
installed by pip or pipx, and any folder the tool is run from.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _folder(package: str) -> Path:
    found = files(package)
    # pip and pipx unpack the wheel, so this is a folder on disk; the sandbox
    # stats and lists it and Jinja2 loads templates by file name from it.
    if not isinstance(found, Path):
        raise ImportError(f"ledger-export must be installed unpacked (pip or pipx): {package} is at {found}")
    return found


TEMPLATES = _folder("ledger_export.templates")
SAMPLES = _folder("ledger_export.samples")


def template_text(name: str) -> str:
    """The text of a bundled template (``sie4i.si.j2``, ``ledger-export.toml``, ...)."""
    return (TEMPLATES / name).read_text(encoding="utf-8")
