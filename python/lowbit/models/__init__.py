"""Real models that registry packages carry (see shared/docs/MODELS.md), and
their exports to ONNX into a cache folder outside git."""

import os
from pathlib import Path


def cache_dir() -> Path:
    """$LOWBIT_CACHE_DIR or ~/.cache/lowbit/models."""
    return Path(os.environ.get("LOWBIT_CACHE_DIR",
                               Path.home() / ".cache" / "lowbit" / "models"))
