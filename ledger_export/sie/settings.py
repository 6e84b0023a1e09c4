"""The [sie] section of the configuration file.

Placeholder until the SIE writer lands: it owns no keys yet.
"""

from __future__ import annotations

from typing import Any


def parse(root: Any) -> None:
    return None
