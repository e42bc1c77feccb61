"""A small training run with no dependencies, recorded by `rh run`.

Fits a logistic regression by gradient descent on a synthetic two-class
problem and reports loss and accuracy per epoch as JSON lines on the
metrics stream that `rh run` opens (RH_METRICS_FILE). Run it with:

    rh run --project demo --name quickstart -- python3 examples/quickstart.py --epochs 30
"""
import argparse
import json
import math
import os
import random
import time


def make_data(n, seed):
    rng = random.Random(seed)
    data = []
    for _ in range(n):
        label = rng.random() < 0.5
        cx, cy = (1.5, 1.0) if label else (-1.0, -1.5)
        data.append(((rng.gauss(cx, 1.2), rng.gauss(cy, 1.2)), 1.0 if label else 0.0))
    return data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    metrics_path = os.environ.get("RH_METRICS_FILE")
    metrics = open(metrics_path, "a") if metrics_path else None

    def report(title, series, iteration, value):
        if metrics:
            metrics.write(json.dumps({"title": title, "series": series,
                                      "iteration": iteration, "value": value}) + "\n")
            metrics.flush()

    train, test = make_data(800, args.seed), make_data(200, args.seed + 1)
    w = [0.0, 0.0]
    b = 0.0
    for epoch in range(args.epochs):
        loss = 0.0
        for (x, y), t in train:
            z = w[0] * x + w[1] * y + b
            p = 1.0 / (1.0 + math.exp(-z))
            loss -= t * math.log(p + 1e-12) + (1 - t) * math.log(1 - p + 1e-12)
            g = p - t
            w[0] -= args.lr * g * x / len(train)
            w[1] -= args.lr * g * y / len(train)
            b -= args.lr * g / len(train)
        correct = sum(((w[0] * x + w[1] * y + b) > 0) == (t > 0.5) for (x, y), t in test)
        acc = correct / len(test)
        report("loss", "train", epoch, loss / len(train))
        report("accuracy", "test", epoch, acc)
        print(f"epoch {epoch:3d}  loss {loss / len(train):.4f}  test accuracy {acc:.3f}")
        time.sleep(0.01)
    print(f"weights {w[0]:.3f} {w[1]:.3f} bias {b:.3f}")


if __name__ == "__main__":
    main()
