"""As clearml.automation.hpbandster: OptimizerBOHB (run as stop-based adaptive ASHA)."""
from .optimizer import OptimizerBOHB

__all__ = ["OptimizerBOHB"]
