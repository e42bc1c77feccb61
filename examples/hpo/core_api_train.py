"""The same trial as Determined Core API code: this is a Determined 0.37
script, changed only in its import."""
import os
import pathlib

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from roundhouse import determined as det  # was: import determined as det

torch.set_num_threads(1)
X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
X_rest, _, y_rest, _ = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
X_tr, X_va, y_tr, y_va = train_test_split(X_rest, y_rest, test_size=0.25, stratify=y_rest, random_state=0)
X_tr, X_va = torch.from_numpy(X_tr), torch.from_numpy(X_va)
y_tr, y_va = torch.from_numpy(y_tr).long(), torch.from_numpy(y_va).long()


def main(core_context, hparams, latest_checkpoint):
    hidden = int(round(2 ** hparams["log2_hidden"]))
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(64, hidden), torch.nn.ReLU(), torch.nn.Dropout(hparams["dropout"]),
                              torch.nn.Linear(hidden, 10))
    opt = torch.optim.SGD(net.parameters(), lr=hparams["lr"], momentum=0.9, weight_decay=hparams["wd"])
    gen = torch.Generator().manual_seed(0)
    epoch = 0
    if latest_checkpoint is not None:
        with core_context.checkpoint.restore_path(latest_checkpoint) as path:
            state = torch.load(pathlib.Path(path) / "state.pt")
            net.load_state_dict(state["net"])
            opt.load_state_dict(state["opt"])
            gen.set_state(state["gen"])
            epoch = state["epoch"]
    for op in core_context.searcher.operations():
        while epoch < op.length:
            net.train()
            perm = torch.randperm(len(X_tr), generator=gen)
            for i in range(0, len(perm), int(hparams["bs"])):
                idx = perm[i:i + int(hparams["bs"])]
                opt.zero_grad()
                loss = torch.nn.functional.cross_entropy(net(X_tr[idx]), y_tr[idx])
                loss.backward()
                opt.step()
            epoch += 1
            core_context.train.report_training_metrics(steps_completed=epoch, metrics={"loss": float(loss)})
            op.report_progress(epoch)
            if core_context.preempt.should_preempt():
                break
        net.eval()
        with torch.no_grad():
            err = 1.0 - (net(X_va).argmax(dim=1) == y_va).float().mean().item()
        core_context.train.report_validation_metrics(steps_completed=epoch, metrics={"val_error": err})
        with core_context.checkpoint.store_path({"steps_completed": epoch}) as (path, storage_id):
            torch.save({"net": net.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(), "epoch": epoch},
                       os.path.join(path, "state.pt"))
        if core_context.preempt.should_preempt():
            return
        op.report_completed(err)


if __name__ == "__main__":
    info = det.get_cluster_info()
    with det.core.init() as core_context:
        main(core_context, info.trial.hparams, info.latest_checkpoint)
