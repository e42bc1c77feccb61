"""The quickstart's logistic regression recorded with the Python SDK
(standard library only): argparse and a dict of parameters, per-epoch loss
and accuracy, a confusion-matrix table, a line plot of the decision
threshold sweep, the model file and an artifact. Run it with:

    PYTHONPATH=python python3 examples/quickstart_sdk.py --epochs 30
"""
import argparse
import json
import math
import os
import tempfile

import roundhouse
from quickstart import make_data  # the same synthetic data as the rh run example


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    task = roundhouse.init(project="demo", name="quickstart-sdk", tags=["demo", "sdk"])
    data_cfg = task.connect({"train_size": 800, "test_size": 200}, name="Data")
    log = task.get_logger()

    train = make_data(data_cfg["train_size"], args.seed)
    test = make_data(data_cfg["test_size"], args.seed + 1)
    w, b = [0.0, 0.0], 0.0

    def prob(x, y):
        return 1.0 / (1.0 + math.exp(-(w[0] * x + w[1] * y + b)))

    for epoch in range(args.epochs):
        loss = 0.0
        for (x, y), t in train:
            p = prob(x, y)
            loss -= t * math.log(p + 1e-12) + (1 - t) * math.log(1 - p + 1e-12)
            g = p - t
            w[0] -= args.lr * g * x / len(train)
            w[1] -= args.lr * g * y / len(train)
            b -= args.lr * g / len(train)
        acc = sum((prob(x, y) > 0.5) == (t > 0.5) for (x, y), t in test) / len(test)
        log.report_scalar("loss", "train", loss / len(train), epoch)
        log.report_scalar("accuracy", "test", acc, epoch)
        print(f"epoch {epoch:3d}  loss {loss / len(train):.4f}  test accuracy {acc:.3f}")

    cm = [[0, 0], [0, 0]]
    for (x, y), t in test:
        cm[int(t)][int(prob(x, y) > 0.5)] += 1
    log.report_table("confusion matrix", "test", args.epochs,
                     table_plot=[["true \\ predicted", "0", "1"], ["0"] + cm[0], ["1"] + cm[1]])
    sweep = [i / 20 for i in range(1, 20)]
    accs = [sum((prob(x, y) > th) == (t > 0.5) for (x, y), t in test) / len(test) for th in sweep]
    log.report_line_plot("threshold sweep", "test accuracy", sweep, accs, iteration=args.epochs,
                         xaxis="threshold", yaxis="accuracy")

    model_path = os.path.join(tempfile.mkdtemp(), "logreg.json")
    with open(model_path, "w") as f:
        json.dump({"w": w, "b": b}, f)
    roundhouse.OutputModel(task, framework="custom").update_weights(model_path)
    task.upload_artifact("evaluation", {"test_accuracy": acc, "confusion_matrix": cm})
    print(f"final test accuracy {acc:.3f}")


if __name__ == "__main__":
    main()
