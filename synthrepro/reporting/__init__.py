"""Layer 8 — reporting: figures, the report and results.json from recorded JSON alone, and the notebook pipeline."""
from .pipeline import publish, run, run_and_summarise

__all__ = ["publish", "run", "run_and_summarise"]
