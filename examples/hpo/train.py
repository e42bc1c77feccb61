"""One trial of the digits MLP search (../../shared/bench/hpo-task.md's task)
with Roundhouse's trial API: trains epoch by epoch to ctx.target(),
reports the validation error after each epoch, checkpoints at each target
and when asked to stop, and resumes from its checkpoint (after a pause or a
promotion to the next rung)."""
import os

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import roundhouse

torch.set_num_threads(1)
X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
X_tr, X_va, y_tr, y_va = train_test_split(X_rest, y_rest, test_size=0.25, stratify=y_rest, random_state=0)
X_tr, X_va, X_test = torch.from_numpy(X_tr), torch.from_numpy(X_va), torch.from_numpy(X_test)
y_tr, y_va, y_test = (torch.from_numpy(v).long() for v in (y_tr, y_va, y_test))

ctx = roundhouse.trial(hparams={"lr": 0.1, "log2_hidden": 7, "wd": 1e-4, "bs": 32, "dropout": 0.1}, target=27)
h = ctx.hparams
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(64, int(round(2 ** h["log2_hidden"]))), torch.nn.ReLU(),
                          torch.nn.Dropout(h["dropout"]), torch.nn.Linear(int(round(2 ** h["log2_hidden"])), 10))
opt = torch.optim.SGD(net.parameters(), lr=h["lr"], momentum=0.9, weight_decay=h["wd"])
gen = torch.Generator().manual_seed(0)
epoch = 0
path = ctx.checkpoint.restore()
if path:
    state = torch.load(os.path.join(path, "state.pt"))
    net.load_state_dict(state["net"])
    opt.load_state_dict(state["opt"])
    gen.set_state(state["gen"])
    epoch = state["epoch"]


def error(xs, ys):
    net.eval()
    with torch.no_grad():
        logits = net(xs)
    ok = torch.isfinite(logits).all(dim=1) & (logits.argmax(dim=1) == ys)
    return 1.0 - ok.float().mean().item()


while epoch < ctx.target():
    net.train()
    perm = torch.randperm(len(X_tr), generator=gen)
    for i in range(0, len(perm), int(h["bs"])):
        idx = perm[i:i + int(h["bs"])]
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(X_tr[idx]), y_tr[idx])
        loss.backward()
        opt.step()
    epoch += 1
    ctx.report(epoch, {"loss": float(loss)})
    ctx.report(epoch, {"val_error": error(X_va, y_va), "test_error": error(X_test, y_test)}, validation=True)
    if epoch == ctx.target() or ctx.should_stop():
        os.makedirs("ckpt", exist_ok=True)
        torch.save({"net": net.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(), "epoch": epoch},
                   "ckpt/state.pt")
        ctx.checkpoint.save("ckpt", {"steps_completed": epoch})
        if ctx.should_stop():
            break
