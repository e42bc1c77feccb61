"""det.core: the Core API's contexts (train, checkpoint, preempt, searcher,
distributed) over roundhouse.trial(). Signatures follow Determined 0.37
and 0.38; distributed training is one process (rank 0 of 1)."""
import contextlib
import enum
import pathlib
import shutil
import sys
import tempfile
import uuid

from ..trial import InvalidHP, trial as _trial


class Unit(enum.Enum):
    EPOCHS = "EPOCHS"
    RECORDS = "RECORDS"
    BATCHES = "BATCHES"


class SearcherMode(enum.Enum):
    WorkersAskChief = "WORKERS_ASK_CHIEF"
    ChiefOnly = "CHEIF_ONLY"


class DownloadMode(enum.Enum):
    LocalWorkersShareDownload = "LOCAL_WORKERS_SHARE_DOWNLOAD"
    NoSharedDownload = "NO_SHARED_DOWNLOAD"


class EarlyExitReason(enum.Enum):
    INVALID_HP = "EXITED_REASON_INVALID_HP"


class DistributedContext:
    rank = 0
    size = 1
    local_rank = 0
    local_size = 1
    cross_rank = 0
    cross_size = 1

    def broadcast(self, obj):
        return obj

    def allgather(self, obj):
        return [obj]

    def gather(self, obj):
        return [obj]


class TrainContext:
    def __init__(self, t):
        self._t = t

    def report_training_metrics(self, steps_completed, metrics, batch_metrics=None):
        self._t.report(steps_completed, metrics)

    def report_validation_metrics(self, steps_completed, metrics):
        self._t.report(steps_completed, metrics, validation=True)

    def report_metrics(self, group, steps_completed, metrics):
        self._t.report(steps_completed, metrics, validation=(group == "validation"))

    def report_progress(self, progress):
        self._t.report_progress(progress)

    def report_early_exit(self, reason):
        if reason == EarlyExitReason.INVALID_HP:
            self._t.report_invalid_hp()

    def set_status(self, status):
        pass


class CheckpointContext:
    def __init__(self, t):
        self._t = t

    def upload(self, ckpt_dir, metadata=None, *, shard=False, selector=None):
        return self._t.checkpoint.save(ckpt_dir, metadata)

    def download(self, storage_id, ckpt_dir, download_mode=DownloadMode.LocalWorkersShareDownload, *,
                 selector=None):
        src = self._t.checkpoint.path_of(storage_id)
        shutil.copytree(src, ckpt_dir, symlinks=True, dirs_exist_ok=True)

    def get_metadata(self, storage_id):
        return self._t.checkpoint.metadata(storage_id)

    @contextlib.contextmanager
    def store_path(self, metadata=None, *, shard=False):
        if metadata is not None and "steps_completed" not in metadata:
            raise ValueError("metadata must include a 'steps_completed' key")
        tmp = tempfile.mkdtemp(prefix="rh-ckpt-")
        storage_id = uuid.uuid4().hex
        try:
            yield pathlib.Path(tmp), storage_id
            self._t.checkpoint.save(tmp, metadata, checkpoint_id=storage_id)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    @contextlib.contextmanager
    def restore_path(self, storage_id, download_mode=DownloadMode.LocalWorkersShareDownload, *,
                     selector=None):
        path = self._t.checkpoint.path_of(str(storage_id))
        self._t._write({"kind": "restored", "id": str(storage_id)})
        yield pathlib.Path(path)


class PreemptContext:
    def __init__(self, t):
        self._t = t

    def should_preempt(self, auto_ack=True):
        return self._t.should_stop()

    def acknowledge_preemption_signal(self):
        self._t._write({"kind": "preempt_ack"})


class SearcherOperation:
    def __init__(self, t, length):
        self._t = t
        self._length = length
        self._completed = False

    @property
    def length(self):
        return self._length

    def report_progress(self, length):
        target = self._length or 1
        self._t.report_progress(min(1.0, float(length) / target))

    def report_completed(self, searcher_metric):
        self._completed = True
        self._t._write({"kind": "completed", "length": self._length, "metric": float(searcher_metric)})


class SearcherContext:
    def __init__(self, t):
        self._t = t

    def operations(self, searcher_mode=SearcherMode.WorkersAskChief, auto_ack=True):
        # The length to reach now. After each completed one, as Determined's
        # chief asks its master, wait a little for the searcher's answer: a
        # longer target (a promotion: the next op, same process) or a stop.
        length = self._t.target()
        while True:
            op = SearcherOperation(self._t, length)
            yield op
            if not op._completed:
                if not self._t.should_stop():
                    raise RuntimeError("a searcher operation ended without report_completed()")
                return
            nxt = self._t.wait_for_target(length)
            if nxt is None:
                return
            length = nxt

    def acknowledge_out_of_ops(self):
        pass

    def get_configured_units(self):
        return {"batches": Unit.BATCHES, "epochs": Unit.EPOCHS, "records": Unit.RECORDS}.get(self._t.unit)


class Context:
    def __init__(self, t):
        self._t = t
        self.train = TrainContext(t)
        self.checkpoint = CheckpointContext(t)
        self.preempt = PreemptContext(t)
        self.searcher = SearcherContext(t)
        self.distributed = DistributedContext()

    def __enter__(self):
        return self

    def __exit__(self, etype, value, tb):
        if etype is not None and issubclass(etype, InvalidHP):
            self.train.report_early_exit(EarlyExitReason.INVALID_HP)
            sys.stderr.write("roundhouse: InvalidHP raised: this trial's hyperparameters are invalid\n")
            sys.exit(0)
        return False

    def close(self):
        pass


def init(*, distributed=None, checkpoint_storage=None, preempt_mode=None, tensorboard_mode=None,
         async_checkpointing=False):
    """The Core API context of the running trial (use it as a context manager)."""
    return Context(_trial())


__all__ = ["init", "Context", "TrainContext", "CheckpointContext", "PreemptContext", "SearcherContext",
           "SearcherOperation", "DistributedContext", "Unit", "SearcherMode", "DownloadMode",
           "EarlyExitReason"]
