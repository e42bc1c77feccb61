"""OutputModel: a model file a task produced, stored as a blob and listed
on the task (torch.save files are registered this way automatically)."""
import os

from ._blobs import upload_file
from ._http import RoundhouseError


class OutputModel:
    """A model file a task produced: stored as a blob and listed on the task."""

    def __init__(self, task=None, name=None, framework=""):
        if task is None:
            from . import task as task_module  # task imports this module
            task = task_module._current
        self._task = task
        if self._task is None:
            raise RoundhouseError("invalid_argument", "OutputModel needs a task (call roundhouse.init first)")
        self.name = name
        self.framework = framework
        self.id = None

    def update_weights(self, weights_filename):
        client = self._task._client
        digest, _ = upload_file(client, weights_filename)
        rec = client.request("POST", self._task._path("/models"),
                             {"name": self.name or os.path.basename(weights_filename), "direction": "output",
                              "digest": digest, "framework": self.framework,
                              "metadata": {"file": os.path.basename(weights_filename)}})
        self.id = rec["id"]
        return rec
