"""Train a small classifier on scikit-learn's bundled digits data and record
it with the Roundhouse SDK: parameters (argparse and a dict), per-epoch
metrics, a confusion-matrix plot, the model file and an artifact.

    PYTHONPATH=python python3 examples/sdk_digits.py --epochs 15 --alpha 0.0005
"""
import argparse
import os
import pickle
import tempfile

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import confusion_matrix, log_loss
from sklearn.model_selection import train_test_split

import roundhouse


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--alpha", type=float, default=0.0005)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    task = roundhouse.init(project="examples", name="digits-sgd", tags=["sklearn", "digits"])
    params = task.connect({"loss": "log_loss", "test_size": 0.25})
    log = task.get_logger()

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=params["test_size"], random_state=args.seed, stratify=y)
    clf = SGDClassifier(loss=params["loss"], alpha=args.alpha, random_state=args.seed)
    classes = np.unique(y)
    for epoch in range(args.epochs):
        clf.partial_fit(X_train, y_train, classes=classes)
        train_loss = log_loss(y_train, clf.predict_proba(X_train), labels=classes)
        test_acc = float((clf.predict(X_test) == y_test).mean())
        log.report_scalar("loss", "train", train_loss, epoch)
        log.report_scalar("accuracy", "test", test_acc, epoch)
        print(f"epoch {epoch:2d}  train loss {train_loss:.4f}  test accuracy {test_acc:.3f}")

    cm = confusion_matrix(y_test, clf.predict(X_test), labels=classes)
    log.report_table("confusion matrix", "test", args.epochs,
                     table_plot=[["true \\ predicted"] + [str(c) for c in classes]]
                     + [[str(c)] + row.tolist() for c, row in zip(classes, cm)])
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(5, 5))
        ax.imshow(cm, cmap="Blues")
        ax.set_title("confusion matrix")
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        fig.savefig(os.path.join(tempfile.mkdtemp(), "confusion.png"))  # captured as a debug image
    except ImportError:
        print("matplotlib is not installed: the confusion matrix is recorded as a table only")

    model_path = os.path.join(tempfile.mkdtemp(), "digits_sgd.pkl")
    with open(model_path, "wb") as f:
        pickle.dump(clf, f)
    roundhouse.OutputModel(task, framework="scikit-learn").update_weights(model_path)
    task.upload_artifact("evaluation", {"test_accuracy": test_acc, "epochs": args.epochs,
                                        "confusion_matrix": cm.tolist()})
    print(f"final test accuracy {test_acc:.3f}")


if __name__ == "__main__":
    main()
