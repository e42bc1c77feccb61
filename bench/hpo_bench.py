"""Hyperparameter-search efficiency on the digits MLP task (not a test:
prints figures). The task, budget and targets are those of the shared
benchmark definition: digits split 1077/360/360, Linear(64, hidden) ->
ReLU -> Dropout -> Linear(hidden, 10), SGD momentum 0.9, an epoch the
budget unit, at most 27 epochs a trial, 1620 epochs a search; T1 = final
validation error <= 8/360, T2 <= 10/360 among trials trained to 27 epochs.

Sequential (one agent): trials train one at a time. Ours: the config's
searcher driven through `rh experiment searcher` (the same C++ searcher a
server would run); a paused trial keeps its model and optimizer in memory
and resumes without retraining (its checkpoint). Optuna: random sampling
with SuccessiveHalvingPruner(min_resource=1, reduction_factor=3), in the
same run on the same seeds.
Usage: bench/hpo.sh [BUILD_DIR]  (make bench-hpo); BENCH_SEEDS=0,1,2 picks seeds."""
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

BUILD = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "build")
RH = os.path.join(BUILD, "rh")
SEEDS = [int(s) for s in os.environ.get("BENCH_SEEDS", "0,1,2,3,4,5").split(",")]
BUDGET, MAX_EPOCHS, T1, T2 = 1620, 27, 8 / 360, 10 / 360

torch.set_num_threads(1)
X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
X_tr, X_va, y_tr, y_va = train_test_split(X_rest, y_rest, test_size=0.25, stratify=y_rest, random_state=0)
X_tr, X_va = torch.from_numpy(X_tr), torch.from_numpy(X_va)
y_tr, y_va = torch.from_numpy(y_tr).long(), torch.from_numpy(y_va).long()


class Model:
    """One trial's model, optimizer and permutation generator: its checkpoint."""

    def __init__(self, lr, hidden, wd, bs, dropout):
        torch.manual_seed(0)
        self.net = torch.nn.Sequential(torch.nn.Linear(64, hidden), torch.nn.ReLU(), torch.nn.Dropout(dropout),
                                       torch.nn.Linear(hidden, 10))
        self.opt = torch.optim.SGD(self.net.parameters(), lr=lr, momentum=0.9, weight_decay=wd)
        self.gen = torch.Generator().manual_seed(0)
        self.bs = bs
        self.epochs = 0

    def train_epoch(self):
        self.net.train()
        perm = torch.randperm(len(X_tr), generator=self.gen)
        for i in range(0, len(perm), self.bs):
            idx = perm[i:i + self.bs]
            self.opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(self.net(X_tr[idx]), y_tr[idx])
            loss.backward()
            self.opt.step()
        self.epochs += 1

    def val_error(self):
        self.net.eval()
        with torch.no_grad():
            logits = self.net(X_va)
        ok = torch.isfinite(logits).all(dim=1) & (logits.argmax(dim=1) == y_va)
        return 1.0 - ok.float().mean().item()


def hp_of(h):
    return dict(lr=h["lr"], hidden=int(round(2 ** h["log2_hidden"])), wd=h["wd"], bs=int(h["bs"]),
                dropout=h["dropout"])


CONFIG = """
entrypoint: python3 train.py
hyperparameters:
  lr: {type: log, minval: -4, maxval: 0}
  log2_hidden: {type: double, minval: 4, maxval: 9}   # hidden: integer log-uniform in [16, 512]
  wd: {type: log, minval: -6, maxval: -2}
  bs: {type: categorical, vals: [16, 32, 64, 128]}
  dropout: {type: double, minval: 0, maxval: 0.5}
searcher:
  name: %s
  metric: val_error
  mode: standard
  divisor: 3
  max_rungs: 4
  num_rungs: 4
  max_trials: %d
  max_concurrent_trials: 16
  max_length: {epochs: 27}
  stop_once: %s
  sampler: %s
"""


class Tally:
    def __init__(self):
        self.epochs, self.best, self.t1, self.t2, self.trials = 0, math.inf, None, None, 0

    def final(self, err):
        if err < self.best:
            self.best = err
            if self.t1 is None and err <= T1 + 1e-9:
                self.t1 = self.epochs
            if self.t2 is None and err <= T2 + 1e-9:
                self.t2 = self.epochs


def ours(seed, stop_once, searcher="adaptive_asha", max_trials=300, promoted_first=False, sampler="random"):
    """promoted_first: a promoted trial goes before the waiting new ones
    (as the server queues a resumed trial ahead of fresh ones)."""
    cfg = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    cfg.write(CONFIG % (searcher, max_trials, "true" if stop_once else "false", sampler))
    cfg.close()
    p = subprocess.Popen([RH, "experiment", "searcher", cfg.name, "--seed", str(seed + 1)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True, bufsize=1)

    def send(event):
        p.stdin.write(json.dumps(event) + "\n")
        p.stdin.flush()
        return json.loads(p.stdout.readline())

    tally, models, until, queue, done = Tally(), {}, {}, [], set()

    def apply(actions):
        for a in actions:
            t = a["trial"]
            if a["action"] == "create":
                models[t] = Model(**hp_of(a["hparams"]))
                until[t] = a["until"]
                tally.trials += 1
                queue.append(t)
                apply(send({"event": "created", "trial": t}))
            elif a["action"] == "train":
                until[t] = a["until"]
                if t not in queue:
                    if promoted_first:
                        queue.insert(1 if queue else 0, t)
                    else:
                        queue.append(t)
            elif a["action"] == "pause":
                if t in queue:
                    queue.remove(t)
            elif a["action"] == "stop" and t not in done:
                done.add(t)
                if t in queue:
                    queue.remove(t)
                apply(send({"event": "exited", "trial": t}))

    apply(json.loads(p.stdout.readline()))
    while queue and tally.epochs < BUDGET:
        t = queue[0]
        m = models[t]
        while m.epochs < until[t] and tally.epochs < BUDGET:
            m.train_epoch()
            tally.epochs += 1
            err = m.val_error()
            if m.epochs == MAX_EPOCHS:
                tally.final(err)
            apply(send({"event": "validation", "trial": t, "units": m.epochs, "metric": err}))
            if t not in queue or queue[0] != t:
                break  # stopped or paused by that validation
        if queue and queue[0] == t and m.epochs >= until[t] and t not in done:
            # At its length with nothing more asked of it: it ends.
            queue.pop(0)
            done.add(t)
            apply(send({"event": "exited", "trial": t}))
    p.stdin.close()
    p.wait()
    os.unlink(cfg.name)
    return tally


def optuna_sha(seed):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    tally = Tally()

    def objective(trial):
        h = dict(lr=trial.suggest_float("lr", 1e-4, 1, log=True), hidden=trial.suggest_int("hidden", 16, 512, log=True),
                 wd=trial.suggest_float("wd", 1e-6, 1e-2, log=True), bs=trial.suggest_categorical("bs", [16, 32, 64, 128]),
                 dropout=trial.suggest_float("dropout", 0, 0.5))
        m = Model(**h)
        err = 1.0
        for epoch in range(1, MAX_EPOCHS + 1):
            if tally.epochs >= BUDGET:
                raise optuna.TrialPruned()
            m.train_epoch()
            tally.epochs += 1
            err = m.val_error()
            trial.report(err, epoch)
            if epoch < MAX_EPOCHS and trial.should_prune():
                raise optuna.TrialPruned()
        tally.final(err)
        return err

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed),
                                pruner=optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3))
    while tally.epochs < BUDGET:
        study.optimize(objective, n_trials=1)
        tally.trials += 1
    return tally


def median(xs):
    xs = [x for x in xs]
    return statistics.median([x if x is not None else math.inf for x in xs])


def main():
    rows = {}
    for seed in SEEDS:
        # Promoted trials go first, as the server queues them (experiment/driver.h).
        variants = [("rh adaptive_asha standard, 300 trials (promotions)", lambda s: ours(s, False, promoted_first=True)),
                    ("rh adaptive_asha standard, 300 trials (stop_once)", lambda s: ours(s, True)),
                    ("rh async_halving 4 rungs, 600 trials (promotions)",
                     lambda s: ours(s, False, "async_halving", 600, True)),
                    ("rh async_halving 4 rungs, 600 trials, sampler local (promotions)",
                     lambda s: ours(s, False, "async_halving", 600, True, "local")),
                    ("rh adaptive_asha standard, 300 trials, sampler local (promotions)",
                     lambda s: ours(s, False, promoted_first=True, sampler="local")),
                    ("rh async_halving 4 rungs, 600 trials, sampler tpe (promotions)",
                     lambda s: ours(s, False, "async_halving", 600, True, "tpe")),
                    ("rh adaptive_asha standard, 300 trials, sampler tpe (promotions)",
                     lambda s: ours(s, False, promoted_first=True, sampler="tpe")),
                    ("Optuna random + SuccessiveHalvingPruner", optuna_sha)]
        only = os.environ.get("BENCH_ONLY")
        for name, run in [v for v in variants if not only or only in v[0]]:
            t = run(seed)
            rows.setdefault(name, []).append(t)
            print(f"seed {seed} {name}: {t.trials} trials, {t.epochs} epochs, best {t.best * 360:.0f}/360, "
                  f"T1 at {t.t1}, T2 at {t.t2}", flush=True)
    print(f"\nmedian over seeds {SEEDS} (budget {BUDGET} epochs; never reached counts as infinite):")
    print("| searcher | trials | epochs to T1 | epochs to T2 | best (wrong of 360) |")
    print("|---|---|---|---|---|")
    for name, ts in rows.items():
        print(f"| {name} | {statistics.median(t.trials for t in ts):.0f} | {median(t.t1 for t in ts)} | "
              f"{median(t.t2 for t in ts)} | {statistics.median(t.best * 360 for t in ts):.0f} |")


if __name__ == "__main__":
    main()
