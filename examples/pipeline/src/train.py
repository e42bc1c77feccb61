"""Fits a logistic regression on the features."""
import pickle

import numpy as np
from sklearn.linear_model import LogisticRegression

from params import load

p = load("train")
d = np.load("data/features/train.npz")
model = LogisticRegression(C=float(p["C"]), max_iter=int(p["max_iter"])).fit(d["X"], d["y"])
pickle.dump(model, open("model.pkl", "wb"))
print(f"train accuracy {model.score(d['X'], d['y']):.4f}")
