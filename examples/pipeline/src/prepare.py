"""Splits scikit-learn's digits into train and test CSV files."""
import os

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from params import load

p = load("prepare")
X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=float(p["test_size"]), random_state=int(p["seed"]), stratify=y)
os.makedirs("data/prepared", exist_ok=True)
for name, X_, y_ in (("train", X_train, y_train), ("test", X_test, y_test)):
    with open(f"data/prepared/{name}.csv", "w") as f:
        for row, label in zip(X_, y_):
            f.write(",".join(str(int(v)) for v in row) + f",{label}\n")
print(f"prepared {len(y_train)} train and {len(y_test)} test rows")
