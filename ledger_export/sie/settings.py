"""The [sie] section of the configuration file.

    [sie]
    ksumma = false   # write a #KSUMMA checksum (§10). Optional: importers must
                     # accept files without one (§10.3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SieSettings:
    ksumma: bool = False


def parse(root: Any) -> SieSettings:
    """Read [sie] from the root ``config.Table``; unknown keys are refused."""
    table = root.table("sie")
    settings = SieSettings(ksumma=table.get("ksumma", SieSettings.ksumma, bool))
    table.finish()
    return settings
