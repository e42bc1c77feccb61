"""ClearML's automation names over Roundhouse experiments: change
`from clearml.automation import ...` to `from roundhouse.automation import ...`
(and `clearml.automation.optuna` / `.hpbandster` to the same modules here)."""
from .controller import PipelineController
from .optimizer import (GridSearch, HyperParameterOptimizer, OptimizerBOHB, OptimizerOptuna, RandomSearch,
                        SearchStrategy)
from .parameters import (DiscreteParameterRange, LogUniformParameterRange, Parameter, RandomSeed,
                         UniformIntegerParameterRange, UniformParameterRange)

__all__ = ["PipelineController", "HyperParameterOptimizer", "SearchStrategy", "RandomSearch", "GridSearch", "OptimizerBOHB",
           "OptimizerOptuna", "Parameter", "RandomSeed", "UniformParameterRange", "LogUniformParameterRange",
           "UniformIntegerParameterRange", "DiscreteParameterRange"]
