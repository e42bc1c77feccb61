"""Roundhouse SDK: record a training run with two lines.

    import roundhouse
    task = roundhouse.init(project="vision", name="resnet")

Standard library only. See the project's README for what is recorded."""
from ._http import RoundhouseError
from .dataset import Dataset
from .logger import Logger
from .artifact import Artifact
from .model import OutputModel
from .task import Task
from .trial import trial

__version__ = "0.1.0"


def init(project=None, name=None, tags=None, task_type="training", **kwargs):
    return Task.init(project=project, name=name, tags=tags, task_type=task_type, **kwargs)


__all__ = ["init", "trial", "Task", "Dataset", "Logger", "Artifact", "OutputModel", "RoundhouseError"]
