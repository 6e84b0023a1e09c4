"""Where the bundled templates and samples live (beside the package in the checkout)."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = PROJECT_ROOT / "templates"
SAMPLES = PROJECT_ROOT / "samples"
