"""Scales the pixels and reduces them with PCA (fitted on train only)."""
import os

import numpy as np
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

from params import load

p = load("featurize")
train = np.loadtxt("data/prepared/train.csv", delimiter=",")
test = np.loadtxt("data/prepared/test.csv", delimiter=",")
X_train, y_train, X_test, y_test = train[:, :-1], train[:, -1], test[:, :-1], test[:, -1]
if p["scale"]:
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
pca = PCA(n_components=int(p["pca_components"]), random_state=0).fit(X_train)
os.makedirs("data/features", exist_ok=True)
np.savez("data/features/train.npz", X=pca.transform(X_train), y=y_train)
np.savez("data/features/test.npz", X=pca.transform(X_test), y=y_test)
print(f"{pca.n_components_} components explain {pca.explained_variance_ratio_.sum():.3f} of the variance")
