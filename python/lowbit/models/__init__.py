"""Real models that registry packages carry (see shared/docs/MODELS.md)."""
