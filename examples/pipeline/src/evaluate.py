"""Scores the model on the test set: metrics.json and two plot files."""
import json
import os
import pickle

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

model = pickle.load(open("model.pkl", "rb"))
d = np.load("data/features/test.npz")
pred = model.predict(d["X"])
actual = d["y"].astype(int)
pred = pred.astype(int)
metrics = {"accuracy": round(accuracy_score(actual, pred), 4),
           "f1": {"macro": round(f1_score(actual, pred, average="macro"), 4)}}
json.dump(metrics, open("metrics.json", "w"), indent=2)
os.makedirs("eval", exist_ok=True)
with open("eval/confusion.csv", "w") as f:
    f.write("actual,predicted\n")
    f.writelines(f"{a},{p}\n" for a, p in zip(actual, pred))
with open("eval/per_class.csv", "w") as f:
    f.write("digit,f1\n")
    for digit, score in enumerate(f1_score(actual, pred, average=None)):
        f.write(f"{digit},{score:.4f}\n")
print("test", metrics)
