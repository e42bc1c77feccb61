"""As clearml.automation.optuna: OptimizerOptuna (run as stop-based adaptive ASHA)."""
from .optimizer import OptimizerOptuna

__all__ = ["OptimizerOptuna"]
