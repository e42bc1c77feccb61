"""Determined's Core API on Roundhouse: a Core API script runs after
changing only its import,

    from roundhouse import determined as det      # was: import determined as det

    info = det.get_cluster_info()                  # trial.hparams, trial.trial_id, latest_checkpoint
    with det.core.init() as core_context:
        for op in core_context.searcher.operations():
            ...train to op.length, report_training_metrics / report_validation_metrics...
            with core_context.checkpoint.store_path({"steps_completed": n}) as (path, storage_id):
                save(path)
            if core_context.preempt.should_preempt():
                return                             # paused or stopped: not a failure
            op.report_completed(val_loss)

Underneath it is roundhouse.trial() (see roundhouse/trial.py for the
protocol). A searcher stop or a pause reaches the code as
should_preempt() == True. Raising det.InvalidHP inside core.init() ends
the trial as invalid (the searcher replaces it), with exit status 0, as
Determined does. Off an experiment, get_cluster_info() is None and the
context reports nowhere."""
from ..trial import InvalidHP
from . import core


class TrialInfo:
    def __init__(self, ctx):
        self.hparams = ctx.hparams
        self.trial_id = ctx.trial_id
        self.experiment_id = ctx.experiment_id
        self._ctx = ctx


class ClusterInfo:
    def __init__(self, ctx):
        self.trial = TrialInfo(ctx)
        self.latest_checkpoint = ctx._latest
        self.user_data = ctx.user_data


def get_cluster_info():
    from ..trial import trial
    import os
    if not os.environ.get("RH_TRIAL_DIR"):
        return None
    return ClusterInfo(trial())


__all__ = ["core", "get_cluster_info", "InvalidHP", "ClusterInfo", "TrialInfo"]
