"""The trial API: what a training script uses when it runs as one trial of
an experiment (a hyperparameter search).

    import roundhouse
    ctx = roundhouse.trial()
    model = build(**ctx.hparams)
    start = 0
    path = ctx.checkpoint.restore()          # latest of this trial (or the warm-start source)
    if path:
        start = load(model, path)
    for step in range(start + 1, ctx.target() + 1):
        loss = train_one(model)
        ctx.report(step, {"loss": loss})
        if step % 100 == 0 or step == ctx.target():
            ctx.report(step, {"val_loss": validate(model)}, validation=True)
            ctx.checkpoint.save(save(model, step), {"steps_completed": step})
        if ctx.should_stop():                # the searcher stopped it, or a pause
            break

How the trial learns what to do: the runner (`rh experiment create --local
--test` on this machine) writes RH_TRIAL_DIR/trial.json and the trial
writes its reports to RH_TRIAL_DIR/reports.jsonl, one JSON object a line;
checkpoints are folders under RH_TRIAL_DIR/checkpoints/<id>/ with
<id>.json beside them holding their metadata. A file RH_TRIAL_DIR/stop
asks the trial to checkpoint and end (should_stop() turns true).
Outside an experiment (no RH_TRIAL_DIR), trial() gives a context over
the defaults passed to it, so the script also runs on its own."""
import json
import os
import shutil
import time
import uuid

from ._http import RoundhouseError


class InvalidHP(Exception):
    """Raise it when the sampled hyperparameters cannot be trained; the
    searcher replaces the trial (random search) instead of failing it."""


class Checkpoints:
    def __init__(self, trial_ctx):
        self._t = trial_ctx

    def save(self, path, metadata=None, checkpoint_id=None):
        """Stores the folder (or file) at path as a checkpoint of this trial,
        with metadata (give "steps_completed"); returns its id."""
        src = os.fspath(path)
        if not os.path.exists(src):
            raise RoundhouseError("invalid_argument", f"checkpoint path {src}: no such file or folder")
        cid = checkpoint_id or uuid.uuid4().hex
        dest = os.path.join(self._t._checkpoints_dir(), cid)
        tmp = dest + ".partial"
        if os.path.isdir(src):
            shutil.copytree(src, tmp, symlinks=True)
        else:
            os.makedirs(tmp)
            shutil.copy2(src, os.path.join(tmp, os.path.basename(src)))
        meta = dict(metadata or {})
        with open(dest + ".json", "w") as f:
            json.dump(meta, f)
        os.replace(tmp, dest)
        self._t._latest = cid
        self._t._write({"kind": "checkpoint", "id": cid, "metadata": meta})
        return cid

    def restore(self):
        """The folder of the latest checkpoint of this trial (after a pause
        or a restart), else of the warm-start source; None when there is none."""
        cid = self._t._latest
        if not cid:
            return None
        path = self.path_of(cid)
        self._t._write({"kind": "restored", "id": cid})
        return path

    def path_of(self, cid):
        path = os.path.join(self._t._checkpoints_dir(), cid)
        if not os.path.isdir(path):
            raise RoundhouseError("not_found", f"no checkpoint {cid} in this experiment")
        return path

    def metadata(self, cid):
        with open(os.path.join(self._t._checkpoints_dir(), cid + ".json")) as f:
            return json.load(f)


class TrialContext:
    def __init__(self, spec, trial_dir):
        self._spec = spec
        self._dir = trial_dir
        self.hparams = spec.get("hparams", {})
        self.trial_id = spec.get("trial_id")
        self.experiment_id = spec.get("experiment_id")
        self.user_data = spec.get("data", {})
        self._latest = spec.get("latest_checkpoint")
        self._mtime = None
        if trial_dir is not None:
            try:
                self._mtime = os.stat(os.path.join(trial_dir, "trial.json")).st_mtime_ns
            except OSError:
                pass
        self.checkpoint = Checkpoints(self)

    def target(self):
        """How far to train now (absolute, in the searcher's unit). It may
        grow while the trial runs (a promotion): the runner rewrites
        trial.json, read again here when it changed."""
        self._reload()
        return int(self._spec.get("until", 0))

    def wait_for_target(self, beyond, timeout=None):
        """After reaching `beyond`: waits until the target grows past it (the
        new target is returned) or the trial is asked to stop, or `timeout`
        seconds (default RH_NEXT_TARGET_WAIT, 5) pass (None for both)."""
        if self._dir is None:
            return None
        if timeout is None:
            timeout = float(os.environ.get("RH_NEXT_TARGET_WAIT", "5"))
        deadline = time.time() + timeout
        while True:
            t = self.target()
            if t > beyond:
                return t
            if self.should_stop() or time.time() >= deadline:
                return None
            time.sleep(0.02)

    def _reload(self):
        if self._dir is None:
            return
        path = os.path.join(self._dir, "trial.json")
        try:
            mtime = os.stat(path).st_mtime_ns
        except OSError:
            return
        if mtime != self._mtime:
            try:
                with open(path) as f:
                    self._spec = json.load(f)
                self._mtime = mtime
            except (OSError, ValueError):
                pass  # being replaced: the next call reads it

    @property
    def unit(self):
        """What target() counts: "batches", "epochs", "records", the
        experiment's time metric, or "" (what the code counts)."""
        return self._spec.get("unit", "")

    def report(self, steps, metrics, validation=False):
        """Metrics at `steps` (training, or validation: the searcher ranks
        trials by its metric in these)."""
        clean = {str(k): _number(v) for k, v in dict(metrics).items()}
        self._write({"kind": "validation" if validation else "training", "steps": int(steps),
                     "metrics": clean})

    def report_progress(self, fraction):
        self._write({"kind": "progress", "progress": float(fraction)})

    def should_stop(self):
        """True when the trial should checkpoint and end: the searcher
        stopped it, the experiment was paused, or the run is preempted."""
        return self._dir is not None and os.path.exists(os.path.join(self._dir, "stop"))

    def report_invalid_hp(self, message=""):
        self._write({"kind": "invalid_hp", "message": str(message)})

    def _checkpoints_dir(self):
        base = self._spec.get("checkpoints_dir") or os.path.join(self._dir or os.getcwd(), "checkpoints")
        os.makedirs(base, exist_ok=True)
        return base

    def _write(self, record):
        if self._dir is None:
            return
        record["time"] = time.time()
        with open(os.path.join(self._dir, "reports.jsonl"), "a") as f:
            f.write(json.dumps(record) + "\n")


def _number(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        raise RoundhouseError("invalid_argument", f"metric value {v!r} is not a number")


def trial(hparams=None, target=None):
    """The running trial's context. Outside an experiment: one over
    `hparams` (default {}) with target() = `target` (default 1)."""
    d = os.environ.get("RH_TRIAL_DIR")
    if not d:
        return TrialContext({"hparams": dict(hparams or {}), "until": target or 1}, None)
    with open(os.path.join(d, "trial.json")) as f:
        spec = json.load(f)
    return TrialContext(spec, d)
